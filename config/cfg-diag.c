/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-diag: the list of problems found in a config, and the helper every loader stage uses
 * to add one as "FILE:LINE: section.key: message".
 *
 * Owns the message strings in a struct cfg_diag (freed by cfg_diag_free) and, while a load
 * runs, the loader's message list. Never prints anything except through cfg_diag_print.
 */
#include "cfg-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_diag_init(struct cfg_diag *d)
{
	if (!d)
		return;
	d->msgs = NULL;
	d->n = 0;
}

void cfg_diag_free(struct cfg_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = 0;
}

void cfg_diag_print(const struct cfg_diag *d, FILE *out)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->msgs[i]);
}

void cfg_err(struct cfg_ld *ld, unsigned line, const char *where, const char *fmt, ...)
{
	char body[1024], *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (line && where)
		n = asprintf(&text, "%s:%u: %s: %s", ld->file, line, where, body);
	else if (line)
		n = asprintf(&text, "%s:%u: %s", ld->file, line, body);
	else if (where)
		n = asprintf(&text, "%s: %s: %s", ld->file, where, body);
	else
		n = asprintf(&text, "%s: %s", ld->file, body);
	if (n < 0) {
		ld->oom = true;
		return;
	}
	if (ld->n_msgs == ld->cap_msgs) {
		size_t cap = ld->cap_msgs ? ld->cap_msgs * 2 : 16;
		struct cfg_msg *m = realloc(ld->msgs, cap * sizeof(*m));
		if (!m) {
			free(text);
			ld->oom = true;
			return;
		}
		ld->msgs = m;
		ld->cap_msgs = cap;
	}
	ld->msgs[ld->n_msgs] = (struct cfg_msg){.line = line, .seq = ld->n_msgs, .text = text};
	ld->n_msgs++;
}

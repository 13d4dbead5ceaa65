/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: Prometheus text format 0.0.4 writer.
 *
 * Owns the text it builds (an open_memstream buffer). Label values are escaped as the
 * format requires (backslash, double quote, newline); numbers use the shortest exact form.
 */
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics_writer {
	FILE *f;
	char *buf;
	size_t len;
	char family[128];
};

struct metrics_writer *metrics_writer_new(void)
{
	struct metrics_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->f = open_memstream(&w->buf, &w->len);
	if (!w->f) {
		free(w);
		return NULL;
	}
	return w;
}

void metrics_writer_free(struct metrics_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	free(w->buf);
	free(w);
}

const char *metrics_writer_text(struct metrics_writer *w, size_t *len)
{
	fflush(w->f);
	if (len)
		*len = w->len;
	return w->buf ? w->buf : "";
}

static void put_escaped(FILE *f, const char *s, bool help)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '"':
			fputs(help ? "\"" : "\\\"", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

void metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type,
		    const char *help)
{
	snprintf(w->family, sizeof(w->family), "%s", name);
	fprintf(w->f, "# HELP %s ", name);
	put_escaped(w->f, help ? help : "", true);
	fprintf(w->f, "\n# TYPE %s %s\n", name,
		type == METRICS_COUNTER ? "counter" : type == METRICS_GAUGE ? "gauge" : "untyped");
}

static void put_value(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (v == (double)(long long)v && fabs(v) < 1e15)
		fprintf(f, "%lld", (long long)v);
	else
		fprintf(f, "%.17g", v);
}

void metrics_sample(struct metrics_writer *w, double value, ...)
{
	va_list ap;
	const char *k;
	bool first = true;

	fputs(w->family, w->f);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		fputs(first ? "{" : ",", w->f);
		first = false;
		fprintf(w->f, "%s=\"", k);
		put_escaped(w->f, v ? v : "", false);
		fputc('"', w->f);
	}
	va_end(ap);
	if (!first)
		fputc('}', w->f);
	fputc(' ', w->f);
	put_value(w->f, value);
	fputc('\n', w->f);
}

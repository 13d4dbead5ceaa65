/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-scan: a first pass over the file that finds the line of every [section] and key,
 * which iniparser does not report, and every line iniparser would reject.
 *
 * It follows iniparser 4.1's reading rules exactly (blanks stripped, '#' and ';' comment
 * lines, "\" continuation lines, lower-cased section and key names, a key being everything
 * before the first '=', 1022 characters per logical line, text after ']' refused) so that
 * its names match the dictionary iniparser builds. Values are left to iniparser.
 *
 * Owns the struct cfg_scan it fills (free with cfg_scan_free). Reads the file; writes
 * nothing.
 */
#include "cfg-int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INI_LINE_MAX 1022 /* iniparser 4.1: 1024-byte buffer incl. newline and NUL */

static char *xstrndup_lc(const char *s, size_t n, bool lower)
{
	char *r = malloc(n + 1);

	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++)
		r[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
	r[n] = '\0';
	return r;
}

static void strip(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static int add_bad(struct cfg_scan *sc, unsigned first, unsigned last)
{
	sc->sanitize = true;
	for (unsigned l = first; l <= last; l++) {
		unsigned *b = realloc(sc->bad_lines, (sc->n_bad + 1) * sizeof(*b));
		if (!b)
			return -ENOMEM;
		sc->bad_lines = b;
		sc->bad_lines[sc->n_bad++] = l;
	}
	return 0;
}

static struct cfg_scan_sec *add_sec(struct cfg_scan *sc, const char *b, size_t n, unsigned line)
{
	struct cfg_scan_sec *s = realloc(sc->secs, (sc->n_secs + 1) * sizeof(*s));

	if (!s)
		return NULL;
	sc->secs = s;
	s = &sc->secs[sc->n_secs];
	memset(s, 0, sizeof(*s));
	s->raw = xstrndup_lc(b, n, false);
	s->name = xstrndup_lc(b, n, true);
	s->line = line;
	if (!s->raw || !s->name) {
		free(s->raw);
		free(s->name);
		return NULL;
	}
	sc->n_secs++;
	return s;
}

static int add_key(struct cfg_scan_sec *s, const char *b, size_t n, unsigned line)
{
	struct cfg_scan_key *k = realloc(s->keys, (s->n_keys + 1) * sizeof(*k));

	if (!k)
		return -ENOMEM;
	s->keys = k;
	k = &s->keys[s->n_keys];
	k->name = xstrndup_lc(b, n, true);
	k->line = line;
	if (!k->name)
		return -ENOMEM;
	s->n_keys++;
	return 0;
}

/* One logical line (continuations joined), first physical line number `first`. */
static int scan_logical(struct cfg_ld *ld, struct cfg_scan *sc, const char *text,
			unsigned first, unsigned last)
{
	const char *b = text, *e = text + strlen(text);
	struct cfg_scan_sec *cur = sc->n_secs ? &sc->secs[sc->n_secs - 1] : NULL;
	const char *where = cur && cur->name[0] ? cur->name : NULL;

	strip(&b, &e);
	if (b == e || *b == '#' || *b == ';')
		return 0;
	if (*b == '[') {
		const char *close = memchr(b, ']', (size_t)(e - b));
		if (e[-1] != ']') {
			cfg_err(ld, first, NULL,
				close ? "text after ']' is not allowed: put a comment on its own line"
				      : "section header is missing its closing ']'");
			return add_bad(sc, first, last);
		}
		const char *nb = b + 1, *ne = close;
		strip(&nb, &ne);
		if (nb == ne) {
			cfg_err(ld, first, NULL, "empty section name '[]'");
			/* iniparser would keep filing keys under the previous section: give them
			 * a section of their own that no schema entry matches */
			if (add_bad(sc, first, last) < 0)
				return -ENOMEM;
			return add_sec(sc, "[]", 2, first) ? 0 : -ENOMEM;
		}
		return add_sec(sc, nb, (size_t)(ne - nb), first) ? 0 : -ENOMEM;
	}
	const char *eq = memchr(b, '=', (size_t)(e - b));
	if (!eq || eq == b) {
		const char *sp = b;
		while (sp < e && !isspace((unsigned char)*sp))
			sp++;
		if (eq == b)
			cfg_err(ld, first, where, "missing key name before '='");
		else if (sp < e)
			cfg_err(ld, first, where, "missing '=' between key and value");
		else
			cfg_err(ld, first, where,
				"expected 'key = value', '[section]' or a comment, found '%.*s'",
				(int)(e - b > 40 ? 40 : e - b), b);
		return add_bad(sc, first, last);
	}
	const char *kb = b, *ke = eq;
	strip(&kb, &ke);
	if (!cur) {
		/* iniparser files these under the empty section name */
		if (!add_sec(sc, "", 0, first))
			return -ENOMEM;
		cur = &sc->secs[sc->n_secs - 1];
	}
	return add_key(cur, kb, (size_t)(ke - kb), first);
}

int cfg_scan_file(struct cfg_ld *ld, const char *path, struct cfg_scan *sc)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *joined = NULL;
	size_t cap = 0, jlen = 0, jcap = 0;
	unsigned lineno = 0, first = 0;
	bool cont = false;
	ssize_t n;
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
			cfg_err(ld, 1, NULL, "the file starts with a byte order mark: save it as "
					     "UTF-8 without BOM");
			sc->bom = true;
			sc->sanitize = true;
			memmove(line, line + 3, (size_t)n - 2);
			n -= 3;
		}
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (!cont)
			first = lineno;
		if (jlen + (size_t)n + 1 > jcap) {
			size_t nc = (jlen + (size_t)n + 1) * 2;
			char *j = realloc(joined, nc);
			if (!j) {
				rc = -ENOMEM;
				break;
			}
			joined = j;
			jcap = nc;
		}
		memcpy(joined + jlen, line, (size_t)n + 1);
		jlen += (size_t)n;
		if (jlen > INI_LINE_MAX) {
			cfg_err(ld, first, NULL, "line is longer than %d characters (the INI "
						 "reader's limit)",
				INI_LINE_MAX);
			if ((rc = add_bad(sc, first, lineno)) < 0)
				break;
			/* skip the rest of a continued line too */
			jlen = 0;
			cont = false;
			while (n > 0 && line[n - 1] == '\\') {
				if ((n = getline(&line, &cap, f)) < 0)
					break;
				lineno++;
				if ((rc = add_bad(sc, lineno, lineno)) < 0)
					break;
				while (n > 0 && isspace((unsigned char)line[n - 1]))
					line[--n] = '\0';
			}
			if (rc < 0 || n < 0)
				break;
			continue;
		}
		if (jlen > 0 && joined[jlen - 1] == '\\') {
			joined[--jlen] = '\0'; /* continued on the next line */
			cont = true;
			continue;
		}
		rc = scan_logical(ld, sc, joined, first, lineno);
		jlen = 0;
		cont = false;
		if (rc < 0)
			break;
	}
	if (rc == 0 && cont)
		rc = scan_logical(ld, sc, joined, first, lineno);
	if (rc == 0 && ferror(f))
		rc = -EIO;
	sc->n_lines = lineno;
	free(line);
	free(joined);
	fclose(f);
	return rc;
}

void cfg_scan_free(struct cfg_scan *sc)
{
	for (size_t i = 0; i < sc->n_secs; i++) {
		for (size_t k = 0; k < sc->secs[i].n_keys; k++)
			free(sc->secs[i].keys[k].name);
		free(sc->secs[i].keys);
		free(sc->secs[i].raw);
		free(sc->secs[i].name);
	}
	free(sc->secs);
	free(sc->bad_lines);
	memset(sc, 0, sizeof(*sc));
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-scan: a first pass over the file that finds the line of every [section] and key,
 * which iniparser does not report, and every line iniparser would refuse.
 *
 * It follows iniparser 4.1's reading rules (blanks stripped, '#' and ';' comment lines,
 * "\" continuation lines, lower-cased section and key names, a key being everything before
 * the first '=', at most 1022 characters per logical line, no text after a section's
 * ']') so that its names match the dictionary iniparser builds. Values are left to
 * iniparser. A refused line is reported once and recorded with the text iniparser should
 * read instead (a repaired section header, or a comment), so that one bad line neither
 * stops the load nor causes follow-on errors.
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
#include <sys/stat.h>

#define INI_BUF 1023 /* iniparser 4.1 reads a logical line into 1024 bytes incl. NUL */

static char *dup_n(const char *s, size_t n, bool lower)
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

/* Lines first..last are to be read as `text` (first line) and comments (the others). */
static int add_fix(struct cfg_scan *sc, unsigned first, unsigned last, const char *text)
{
	sc->sanitize = true;
	for (unsigned l = first; l <= last; l++) {
		struct cfg_scan_fix *f = realloc(sc->fixes, (sc->n_fixes + 1) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		sc->fixes = f;
		f = &sc->fixes[sc->n_fixes];
		f->line = l;
		f->text = NULL;
		if (l == first && text && !(f->text = strdup(text)))
			return -ENOMEM;
		sc->n_fixes++;
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
	s->raw = dup_n(b, n, false);
	s->name = dup_n(b, n, true);
	s->line = line;
	if (!s->raw || !s->name) {
		free(s->raw);
		free(s->name);
		return NULL;
	}
	sc->n_secs++;
	return s;
}

static int add_key(struct cfg_scan *sc, const char *b, size_t n, unsigned line, bool unreadable)
{
	struct cfg_scan_sec *s;
	struct cfg_scan_key *k;

	if (sc->n_secs == 0 && !add_sec(sc, "", 0, line))
		return -ENOMEM; /* iniparser files these under the empty section name */
	s = &sc->secs[sc->n_secs - 1];
	k = realloc(s->keys, (s->n_keys + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	s->keys = k;
	k = &s->keys[s->n_keys];
	k->name = dup_n(b, n, true);
	k->line = line;
	k->unreadable = unreadable;
	if (!k->name)
		return -ENOMEM;
	s->n_keys++;
	return 0;
}

/* "FILE:LINE: section.key: " context for a message about a line of the current section. */
static void where_of(const struct cfg_scan *sc, const char *kb, size_t kn, char *buf, size_t len)
{
	const char *sec = sc->n_secs ? sc->secs[sc->n_secs - 1].name : "";

	if (kn && sec[0] && sec[0] != '[')
		snprintf(buf, len, "%s.%.*s", sec, (int)kn, kb);
	else if (kn)
		snprintf(buf, len, "%.*s", (int)kn, kb);
	else
		snprintf(buf, len, "%s", sec[0] == '[' ? "" : sec);
	for (char *c = buf; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

static int scan_section(struct cfg_ld *ld, struct cfg_scan *sc, const char *b, const char *e,
			unsigned first, unsigned last, bool too_long)
{
	const char *close = memchr(b, ']', (size_t)(e - b));
	const char *nb = b + 1, *ne = close ? close : e;
	char fix[INI_BUF + 3];
	int rc = 0;

	if (!close) {
		/* "[link.fra-ams" or "[link.fra-ams ; comment": take the name up to a comment */
		for (const char *c = nb; c < ne; c++)
			if (*c == ';' || *c == '#')
				ne = c;
	}
	strip(&nb, &ne);
	if (nb == ne) {
		cfg_err(ld, first, NULL, "empty section name '[]'");
		/* give the keys that follow a section no schema entry matches ("[" to
		 * iniparser), rather than iniparser's previous one */
		if (add_fix(sc, first, last, "[[]]") < 0 || !add_sec(sc, "[]", 2, first))
			return -ENOMEM;
		return 0;
	}
	char where[INI_BUF + 1];
	snprintf(where, sizeof(where), "%.*s", (int)(ne - nb), nb);
	for (char *c = where; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (too_long) {
		cfg_err(ld, first, where, "line is longer than %d characters (the INI reader's "
					 "limit)",
			INI_BUF - 1);
		rc = 1;
	} else if (!close) {
		cfg_err(ld, first, where, "section header is missing its closing ']'");
		rc = 1;
	} else if (e[-1] != ']') {
		cfg_err(ld, first, where, "text after ']' is not allowed: put a comment on its "
					  "own line");
		rc = 1;
	}
	if (rc) {
		snprintf(fix, sizeof(fix), "[%.*s]", (int)(ne - nb), nb);
		if (add_fix(sc, first, last, fix) < 0)
			return -ENOMEM;
	}
	return add_sec(sc, nb, (size_t)(ne - nb), first) ? 0 : -ENOMEM;
}

/* One logical line (continuations joined) from physical lines first..last. */
static int scan_logical(struct cfg_ld *ld, struct cfg_scan *sc, const char *text,
			unsigned first, unsigned last, bool too_long)
{
	const char *b = text, *e = text + strlen(text);
	char where[200];

	strip(&b, &e);
	if (b == e || *b == '#' || *b == ';')
		return too_long ? add_fix(sc, first, last, NULL) : 0;
	if (*b == '[')
		return scan_section(ld, sc, b, e, first, last, too_long);

	const char *eq = memchr(b, '=', (size_t)(e - b));
	const char *kb = b, *ke = eq ? eq : e;
	strip(&kb, &ke);
	if (eq && eq != b && !too_long)
		return add_key(sc, kb, (size_t)(ke - kb), first, false);

	/* iniparser refuses the line (and with it the whole file): say why, keep going */
	if (!eq) {
		/* "asn 65001": the first word is probably the key */
		ke = kb;
		while (ke < e && !isspace((unsigned char)*ke))
			ke++;
	}
	where_of(sc, kb, (size_t)(ke - kb), where, sizeof(where));
	if (too_long)
		cfg_err(ld, first, where[0] ? where : NULL,
			"line is longer than %d characters (the INI reader's limit)", INI_BUF - 1);
	else if (eq == b)
		cfg_err(ld, first, where[0] ? where : NULL, "missing key name before '='");
	else if (ke < e)
		cfg_err(ld, first, where, "missing '=' between key and value");
	else
		cfg_err(ld, first, where, "missing '= value'");
	if (add_fix(sc, first, last, NULL) < 0)
		return -ENOMEM;
	if (ke > kb) /* known by name: no "missing key" on top of this message */
		return add_key(sc, kb, (size_t)(ke - kb), first, true);
	return 0;
}

int cfg_scan_file(struct cfg_ld *ld, const char *path, struct cfg_scan *sc)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *joined = NULL;
	size_t cap = 0, jlen = 0, jcap = 0;
	unsigned lineno = 0, first = 0;
	bool cont = false, too_long = false;
	ssize_t n;
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	if (!f)
		return -errno;
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return -EISDIR;
	}
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
		if (!cont) {
			first = lineno;
			jlen = 0;
			too_long = false;
		}
		/* iniparser reads this line into what is left of its buffer, newline included */
		if (jlen + (size_t)n + (n > 0 && line[n - 1] == '\n' ? 0 : 1) > INI_BUF)
			too_long = true;
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
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
		if (jlen > 0 && joined[jlen - 1] == '\\') {
			joined[--jlen] = '\0'; /* continued on the next line */
			cont = true;
			continue;
		}
		cont = false;
		if ((rc = scan_logical(ld, sc, joined, first, lineno, too_long)) < 0)
			break;
	}
	if (rc == 0 && cont)
		rc = scan_logical(ld, sc, joined, first, lineno, too_long);
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
	for (size_t i = 0; i < sc->n_fixes; i++)
		free(sc->fixes[i].text);
	free(sc->secs);
	free(sc->fixes);
	memset(sc, 0, sizeof(*sc));
}

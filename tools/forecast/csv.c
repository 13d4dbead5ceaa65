/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csv: reads tidal-forecast's wide and long CSV inputs (see csv.h). Quoted fields may hold
 * commas and doubled quotes; lines end in LF or CRLF.
 */
#include "csv.h"
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS_ERR 256

/* Split line in place into fields; returns the count (fields[] grows as needed), or
 * (size_t)-1 when out of memory. */
static size_t split(char *line, char ***fields, size_t *cap)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		if (n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			char **nf = realloc(*fields, nc * sizeof(char *));
			if (!nf)
				return (size_t)-1;
			*fields = nf;
			*cap = nc;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		char *start = p, *end;
		if (*p == '"') {
			char *w = start = ++p;
			while (*p) {
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			end = w;
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				p++;
			end = p;
			while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
		}
		bool comma = *p == ',';
		*end = '\0';
		(*fields)[n++] = start;
		if (!comma)
			return n;
		p++;
	}
}

static bool missing_token(const char *s)
{
	return !*s || strcasecmp(s, "NA") == 0 || strcasecmp(s, "NaN") == 0 ||
	       strcasecmp(s, "null") == 0;
}

/* A number, or NaN for a missing token. */
static int parse_value(const char *s, double *out)
{
	char *end;

	if (missing_token(s)) {
		*out = NAN;
		return 0;
	}
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

int fcsv_parse_time(const char *s, int64_t *out)
{
	char buf[64];
	char *end;

	if (!*s)
		return -EINVAL;
	errno = 0;
	long long e = strtoll(s, &end, 10);
	if (!*end && errno == 0 && end != s) {
		*out = e;
		return 0;
	}
	if (cfg_parse_time(s, out, NULL) == 0)
		return 0;
	/* data files often leave the zone out ("2005-06-07 07:00:00"), or give a date only:
	 * such times are UTC */
	size_t len = strlen(s);
	if (len + 10 >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len + 1);
	if (len == 10)
		memcpy(buf + len, "T00:00:00Z", 11);
	else
		memcpy(buf + len, "Z", 2);
	return cfg_parse_time(buf, out, NULL) == 0 ? 0 : -EINVAL;
}

static struct fcsv_series *add_series(struct fcsv_set *set, const char *id, size_t line)
{
	if (set->n == set->cap) {
		size_t nc = set->cap ? set->cap * 2 : 64;
		struct fcsv_series *ns = realloc(set->s, nc * sizeof(*ns));
		if (!ns)
			return NULL;
		set->s = ns;
		set->cap = nc;
	}
	struct fcsv_series *s = &set->s[set->n];
	memset(s, 0, sizeof(*s));
	s->id = strdup(id);
	if (!s->id)
		return NULL;
	s->line = line;
	set->n++;
	return s;
}

static int push(struct fcsv_series *s, double v, int64_t t, bool with_t)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		double *nv = realloc(s->v, nc * sizeof(double));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		if (with_t) {
			int64_t *nt = realloc(s->t, nc * sizeof(int64_t));
			if (!nt)
				return -ENOMEM;
			s->t = nt;
		}
		s->cap = nc;
	}
	s->v[s->n] = v;
	if (with_t)
		s->t[s->n] = t;
	s->n++;
	return 0;
}

static void set_error(struct fcsv_series *s, const char *path, size_t line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void set_error(struct fcsv_series *s, const char *path, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s->error)
		return; /* the first problem is the one to fix */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t len = strlen(path) + strlen(msg) + 32;
	s->error = malloc(len);
	if (s->error)
		snprintf(s->error, len, "%s:%zu: %s", path, line, msg);
}

long fcsv_find(const struct fcsv_set *set, const char *id)
{
	for (size_t i = set->n; i-- > 0;)
		if (strcmp(set->s[i].id, id) == 0)
			return (long)i;
	return -1;
}

static bool looks_like_time(const char *s)
{
	int64_t t;

	return strchr(s, '-') && fcsv_parse_time(s, &t) == 0;
}

static int wide_row(struct fcsv_set *set, const char *path, size_t line, char **f, size_t nf)
{
	struct fcsv_series *s = add_series(set, f[0], line);

	if (!s)
		return -ENOMEM;
	while (nf > 1 && !*f[nf - 1]) /* ragged rows: trailing empty fields are not values */
		nf--;
	for (size_t i = 1; i < nf; i++) {
		double v;
		if (parse_value(f[i], &v) < 0) {
			set_error(s, path, line, "series %s, field %zu: \"%.40s\" is not a number",
			          f[0], i + 1, f[i]);
			continue;
		}
		if (push(s, v, 0, false) < 0)
			return -ENOMEM;
	}
	if (nf < 2)
		set_error(s, path, line, "series %s has no values", f[0]);
	return 0;
}

static int long_row(struct fcsv_set *set, const char *path, size_t line, char **f, size_t nf,
                    long *last)
{
	long idx =
	        (*last >= 0 && strcmp(set->s[*last].id, f[0]) == 0) ? *last : fcsv_find(set, f[0]);
	struct fcsv_series *s;

	if (idx < 0) {
		s = add_series(set, f[0], line);
		if (!s)
			return -ENOMEM;
		idx = (long)set->n - 1;
	}
	s = &set->s[idx];
	*last = idx;
	if (nf != 3) {
		set_error(s, path, line, "series %s: %zu fields, expected id,timestamp,value", f[0],
		          nf);
		return 0;
	}
	int64_t t;
	double v;
	if (fcsv_parse_time(f[1], &t) < 0) {
		set_error(s, path, line,
		          "series %s: \"%.40s\" is not a UTC ISO 8601 time or epoch seconds", f[0],
		          f[1]);
		return 0;
	}
	if (parse_value(f[2], &v) < 0) {
		set_error(s, path, line, "series %s: value \"%.40s\" is not a number", f[0], f[2]);
		return 0;
	}
	if (s->n && t < s->t[s->n - 1]) {
		set_error(s, path, line,
		          "series %s: time %s goes back in time (rows of a series "
		          "must be in time order)",
		          f[0], f[1]);
		return 0;
	}
	return push(s, v, t, true);
}

int fcsv_read(const char *path, enum fcsv_format fmt, struct fcsv_set *out)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL, **f = NULL;
	size_t lcap = 0, fcap = 0, lineno = 0;
	long last = -1;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!fp) {
		rc = -errno;
		fprintf(stderr, "tidal-forecast: cannot open %s: %s\n", path, strerror(errno));
		return rc;
	}
	for (;;) {
		ssize_t len = getline(&line, &lcap, fp);
		if (len < 0)
			break;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		size_t nf = split(line, &f, &fcap);
		if (nf == (size_t)-1) {
			rc = -ENOMEM;
			break;
		}
		bool first = out->n == 0 && last < 0;
		if (first && fmt == FCSV_AUTO)
			fmt = (nf == 3 &&
			       (looks_like_time(f[1]) || (strcasecmp(f[1], "timestamp") == 0 ||
			                                  strcasecmp(f[1], "time") == 0)))
			              ? FCSV_LONG
			              : FCSV_WIDE;
		if (first) {
			/* a header: its value field(s) are not numbers */
			double v;
			int64_t t;
			bool header = fmt == FCSV_WIDE ? (nf > 1 && parse_value(f[1], &v) < 0)
			                               : (nf == 3 && parse_value(f[2], &v) < 0 &&
			                                  fcsv_parse_time(f[1], &t) < 0);
			if (header) {
				last = -2; /* header seen: later lines are data */
				continue;
			}
		}
		if (!*f[0]) {
			fprintf(stderr,
			        "tidal-forecast: %s:%zu: row without a series id, skipped\n", path,
			        lineno);
			continue;
		}
		rc = fmt == FCSV_WIDE ? wide_row(out, path, lineno, f, nf)
		                      : long_row(out, path, lineno, f, nf, &last);
		if (rc < 0)
			break;
	}
	if (ferror(fp) && rc == 0) {
		rc = -EIO;
		fprintf(stderr, "tidal-forecast: error reading %s\n", path);
	}
	if (rc == -ENOMEM)
		fprintf(stderr, "tidal-forecast: out of memory reading %s\n", path);
	out->format = fmt == FCSV_AUTO ? FCSV_WIDE : fmt;
	free(line);
	free(f);
	if (fp != stdin)
		fclose(fp);
	if (rc < 0)
		fcsv_free(out);
	return rc;
}

void fcsv_free(struct fcsv_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->s[i].id);
		free(set->s[i].v);
		free(set->s[i].t);
		free(set->s[i].error);
	}
	free(set->s);
	memset(set, 0, sizeof(*set));
}

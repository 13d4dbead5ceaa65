/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace: demand traces of a tidal-sim scenario: [class.*] (one CSV column each, optionally
 * indexed by an id column whose gaps repeat the last value) and [od] (an origin-destination
 * matrix, one class per SRC_DST column). Values are rates per simulation step after `scale`.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_int.h"

/* ---- CSV ----------------------------------------------------------------------------- */

/* Split a CSV line in place (commas; double quotes around a field are removed). */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		while (*p == ' ')
			p++;
		if (*p == '"') {
			f[n++] = ++p;
			while (*p && *p != '"')
				p++;
			if (*p)
				*p++ = '\0';
			while (*p && *p != ',')
				p++;
		} else {
			f[n++] = p;
			while (*p && *p != ',')
				p++;
		}
		if (*p != ',')
			break;
		*p++ = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(f[i]);
		while (len &&
		       (f[i][len - 1] == '\n' || f[i][len - 1] == '\r' || f[i][len - 1] == ' '))
			f[i][--len] = '\0';
	}
	return n;
}

static bool number(const char *s, double *v)
{
	char *end;
	if (!*s)
		return false;
	*v = strtod(s, &end);
	return end != s && !*end && isfinite(*v);
}

static FILE *open_trace(struct ld *l, const char *file, char *path, size_t len)
{
	if (file[0] == '/' || !l->o->traces_dir)
		snprintf(path, len, "%s", file);
	else
		snprintf(path, len, "%s/%s", l->o->traces_dir, file);
	return fopen(path, "r");
}

#define MAX_FIELDS 1024

/* One column of a CSV file into c->demand[0 .. n_steps) from sample `offset`. */
static int read_column(struct ld *l, const char *sec, struct sim_class *c, const char *file,
                       const char *col, const char *index_col, double scale, uint64_t offset)
{
	char path[1024];
	FILE *f = open_trace(l, file, path, sizeof(path));
	if (!f)
		return ld_fail(l, "[%s] trace %s: %s", sec, path, strerror(errno));
	char *line = NULL, **fld = malloc(MAX_FIELDS * sizeof(char *));
	size_t cap = 0, lineno = 0, have = 0;
	long ci = -1, ii = -1, last_idx = -1;
	bool header_seen = false;
	double prev = 0;
	int rc = 0;
	char *endp;
	long num = strtol(col, &endp, 10);
	if (!*endp && num >= 1)
		ci = num - 1;
	if (index_col && *index_col) {
		num = strtol(index_col, &endp, 10);
		if (!*endp && num >= 1)
			ii = num - 1;
	}
	uint64_t sample = 0;
	while (rc == 0 && fld && getline(&line, &cap, f) > 0 && have < l->s->n_steps) {
		lineno++;
		size_t n = split(line, fld, MAX_FIELDS);
		if (!header_seen && (ci < 0 || (index_col && ii < 0))) {
			/* The first line names the columns. */
			header_seen = true;
			for (size_t i = 0; i < n; i++) {
				if (ci < 0 && !strcmp(fld[i], col))
					ci = (long)i;
				if (index_col && ii < 0 && !strcmp(fld[i], index_col))
					ii = (long)i;
			}
			if (ci < 0)
				rc = ld_fail(l, "[%s] trace %s: no column '%s' in its first line",
				             sec, path, col);
			else if (index_col && ii < 0)
				rc = ld_fail(l, "[%s] trace %s: no column '%s' in its first line",
				             sec, path, index_col);
			continue;
		}
		double v, idx;
		if ((size_t)ci >= n || !number(fld[ci], &v)) {
			if (sample == 0 && have == 0)
				continue; /* a header or description line */
			v = prev;         /* a hole inside the data: keep the last value */
		}
		if (v < 0)
			v = 0;
		long reps = 1;
		if (ii >= 0 && (size_t)ii < n && number(fld[ii], &idx)) {
			/* Indexed rows: a missing index repeats the previous value. */
			if (last_idx >= 0 && (long)idx > last_idx + 1)
				reps = (long)idx - last_idx;
			last_idx = (long)idx;
		}
		for (long r = 0; r < reps && have < l->s->n_steps; r++) {
			double val = r + 1 < reps ? prev : v;
			if (sample++ >= offset)
				c->demand[have++] = (float)(val * scale);
		}
		prev = v;
	}
	free(line);
	free(fld);
	fclose(f);
	if (rc)
		return rc;
	if (have < l->s->n_steps)
		return ld_fail(l,
		               "[%s] trace %s has %zu samples from offset %llu, the scenario needs "
		               "%zu (history + days): shorten days or history",
		               sec, path, have, (unsigned long long)offset, l->s->n_steps);
	return 0;
}

static int class_policy(struct ld *l, const char *sec, struct sim_class *c)
{
	uint64_t p = c->priority;
	int rc;
	if ((rc = ld_get_uint(l, sec, "priority", 0, 7, &p)) ||
	    (rc = ld_get_double(l, sec, "slo_quantile", 1e-6, 1 - 1e-6, &c->slo_quantile)) ||
	    (rc = ld_get_pct(l, sec, "headroom", &c->headroom)) ||
	    (rc = ld_get_double(l, sec, "weight", 0, 1e6, &c->weight)) ||
	    (rc = ld_get_qty(l, sec, "min_rate", c->kind, &c->min_rate)) ||
	    (rc = ld_get_qty(l, sec, "max_rate", c->kind, &c->max_rate)))
		return rc;
	c->priority = (unsigned)p;
	return 0;
}

int ld_load_class(struct ld *l, const char *sec)
{
	static const char *const keys[] = {"src",      "dst",          "kind",     "trace",
	                                   "column",   "index_column", "scale",    "offset",
	                                   "priority", "slo_quantile", "headroom", "weight",
	                                   "min_rate", "max_rate",     NULL};
	int rc = ld_check_keys(l, sec, keys);
	if (rc)
		return rc;
	struct sim_class *c = ld_new_class(l, sec + strlen("class."));
	if (!c)
		return -ENOMEM;
	const char *k = ld_get(l, sec, "kind");
	if (k && ld_parse_kind(k, &c->kind))
		return ld_fail(l, "[%s] kind = %s: bandwidth, vcpu, memory or storage", sec, k);
	const char *src = ld_get(l, sec, "src"), *dst = ld_get(l, sec, "dst");
	if (!src || (c->kind == ALLOC_BANDWIDTH && !dst))
		return ld_fail(l, "[%s] needs src (and dst for bandwidth)", sec);
	if ((c->src = ld_region(l, src)) < 0)
		return -ENOMEM;
	if (c->kind == ALLOC_BANDWIDTH) {
		if ((c->dst = ld_region(l, dst)) < 0)
			return -ENOMEM;
		if (c->dst == c->src)
			return ld_fail(l, "[%s] src and dst are the same region", sec);
	}
	if ((rc = class_policy(l, sec, c)))
		return rc;
	const char *trace = ld_get(l, sec, "trace");
	if (!trace)
		return ld_fail(l, "[%s] needs a trace", sec);
	double scale = 1;
	uint64_t offset = 0;
	if ((rc = ld_get_double(l, sec, "scale", 0, 1e18, &scale)) ||
	    (rc = ld_get_uint(l, sec, "offset", 0, UINT32_MAX, &offset)))
		return rc;
	const char *col = ld_get(l, sec, "column") ? ld_get(l, sec, "column") : "2";
	return read_column(l, sec, c, trace, col, ld_get(l, sec, "index_column"), scale, offset);
}

/* [od]: an origin-destination matrix, first column the time, then SRC_DST columns. */
int ld_load_od(struct ld *l)
{
	static const char *const keys[] = {"file", "scale", "priorities", "offset", NULL};
	int rc = ld_check_keys(l, "od", keys);
	if (rc)
		return rc;
	const char *file = ld_get(l, "od", "file");
	if (!file)
		return ld_fail(l, "[od] needs file");
	double scale = 1, shares[SIM_MAX_QUANTILES] = {0};
	size_t nsh = 0;
	uint64_t offset = 0;
	if ((rc = ld_get_double(l, "od", "scale", 0, 1e18, &scale)) ||
	    (rc = ld_get_uint(l, "od", "offset", 0, UINT32_MAX, &offset)) ||
	    (rc = ld_parse_list(l, "od", "priorities", shares, 8, &nsh, false)))
		return rc;
	char path[1024];
	FILE *f = open_trace(l, file, path, sizeof(path));
	if (!f)
		return ld_fail(l, "[od] %s: %s", path, strerror(errno));
	char *line = NULL, **fld = malloc(MAX_FIELDS * sizeof(char *));
	size_t cap = 0;
	if (!fld || getline(&line, &cap, f) <= 0) {
		fclose(f);
		free(line), free(fld);
		return ld_fail(l, "[od] %s: empty", path);
	}
	size_t ncol = split(line, fld, MAX_FIELDS);
	size_t first = l->s->n_cls;
	for (size_t i = 1; i < ncol && rc == 0; i++) {
		char *us = strrchr(fld[i], '_');
		if (!us) {
			rc = ld_fail(l, "[od] %s: column '%s' is not SRC_DST", path, fld[i]);
			break;
		}
		*us = '\0';
		int s = ld_region(l, fld[i]), d = ld_region(l, us + 1);
		*us = '_';
		struct sim_class *c = ld_new_class(l, fld[i]);
		if (s < 0 || d < 0 || !c) {
			rc = -ENOMEM;
			break;
		}
		c->src = s;
		c->dst = d;
		if (nsh) {
			/* Deterministic priority from the name: shares of levels 0, 1, ... */
			uint64_t h = 1469598103934665603ULL;
			for (const char *p = c->name; *p; p++)
				h = (h ^ (uint8_t)*p) * 1099511628211ULL;
			double u = (double)(h % 10000) / 10000.0, acc = 0;
			c->priority = (unsigned)nsh - 1;
			for (size_t k = 0; k < nsh; k++) {
				acc += shares[k];
				if (u < acc) {
					c->priority = (unsigned)k;
					break;
				}
			}
		}
	}
	size_t have = 0;
	uint64_t sample = 0;
	size_t lineno = 1;
	while (rc == 0 && have < l->s->n_steps && getline(&line, &cap, f) > 0) {
		lineno++;
		size_t n = split(line, fld, MAX_FIELDS);
		if (n != ncol) {
			rc = ld_fail(l, "[od] %s:%zu: %zu fields, the header has %zu", path, lineno,
			             n, ncol);
			break;
		}
		if (sample++ < offset)
			continue;
		for (size_t i = 1; i < ncol; i++) {
			double v;
			if (!number(fld[i], &v) || v < 0)
				v = 0;
			l->s->cls[first + i - 1].demand[have] = (float)(v * scale);
		}
		have++;
	}
	free(line), free(fld);
	fclose(f);
	if (!rc && have < l->s->n_steps)
		rc = ld_fail(l, "[od] %s: %zu rows from offset %llu, the scenario needs %zu", path,
		             have, (unsigned long long)offset, l->s->n_steps);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo: a tidal-sim scenario from its INI (docs/sim.md): [sim], [forecast], [defaults],
 * [link.*], [links] (a generated mesh), [pool.*], [class.*] (one trace column each), [od]
 * (an origin-destination matrix: one class per SRC_DST column) and [synthetic] (a generated
 * topology and demand for scale). Traces are CSV files read once; values are rates per
 * simulation step after `scale`.
 *
 * Owns the scenario it returns. Errors name the file, the section and key, or the trace
 * file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iniparser.h>

#include "sim.h"
#include "units.h"

struct ld {
	const char *ini;
	dictionary *d;
	struct sim_scenario *s;
	const struct sim_load_opts *o;
	char *err;
	size_t errlen;
	double days;
	size_t cap_regions, cap_links, cap_pools, cap_cls;
	/* class defaults */
	unsigned def_prio;
	double def_slo, def_head, def_weight;
};

__attribute__((format(printf, 2, 3))) static int fail(struct ld *l, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(l->err, l->errlen, "%s: ", l->ini);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < l->errlen)
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
	*arr = p;
	*cap = n;
	return 0;
}

static const char *get(struct ld *l, const char *sec, const char *key)
{
	char k[256];
	snprintf(k, sizeof(k), "%s:%s", sec, key);
	return iniparser_getstring(l->d, k, NULL);
}

/* Every key of the section must be one of `allowed` (NULL-terminated). */
static int check_keys(struct ld *l, const char *sec, const char *const *allowed)
{
	int n = iniparser_getsecnkeys(l->d, sec);
	if (n <= 0)
		return 0;
	const char **keys = calloc((size_t)n, sizeof(char *));
	if (!keys)
		return -ENOMEM;
	iniparser_getseckeys(l->d, sec, keys);
	int rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		const char *k = strchr(keys[i], ':') ? strchr(keys[i], ':') + 1 : keys[i];
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, k);
		if (!ok)
			rc = fail(l, "[%s] unknown key '%s'", sec, k);
	}
	free(keys);
	return rc;
}

static int get_dur(struct ld *l, const char *sec, const char *key, uint32_t *out)
{
	const char *v = get(l, sec, key), *why;
	uint64_t ms;
	if (!v)
		return 0;
	if (cfg_parse_duration(v, &ms, &why) || ms % 1000 || ms / 1000 > UINT32_MAX)
		return fail(l, "[%s] %s = %s: a duration in whole seconds, e.g. 5m or 1h", sec, key,
		            v);
	*out = (uint32_t)(ms / 1000);
	return 0;
}

static int get_pct(struct ld *l, const char *sec, const char *key, double *out)
{
	const char *v = get(l, sec, key), *why;
	if (!v)
		return 0;
	if (cfg_parse_percent(v, out, &why) && cfg_parse_double(v, 0, 1e6, out, &why))
		return fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

static int get_double(struct ld *l, const char *sec, const char *key, double lo, double hi,
                      double *out)
{
	const char *v = get(l, sec, key), *why;
	if (!v)
		return 0;
	if (cfg_parse_double(v, lo, hi, out, &why))
		return fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

static int get_uint(struct ld *l, const char *sec, const char *key, uint64_t lo, uint64_t hi,
                    uint64_t *out)
{
	const char *v = get(l, sec, key), *why;
	if (!v)
		return 0;
	if (cfg_parse_uint(v, lo, hi, out, &why))
		return fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

/* A quantity of a kind: bits/s (10G), a count (256) or bytes (1TiB). */
static int get_qty(struct ld *l, const char *sec, const char *key, enum alloc_kind k, uint64_t *out)
{
	const char *v = get(l, sec, key), *why;
	if (!v)
		return 0;
	int rc = k == ALLOC_BANDWIDTH ? cfg_parse_bps(v, out, &why)
	         : k == ALLOC_VCPU    ? cfg_parse_uint(v, 0, UINT32_MAX, out, &why)
	                              : cfg_parse_bytes(v, out, &why);
	if (rc)
		return fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

static int parse_kind(const char *v, enum alloc_kind *k)
{
	for (int i = 0; i < ALLOC_N_KINDS; i++)
		if (!strcmp(v, alloc_kind_name((enum alloc_kind)i))) {
			*k = (enum alloc_kind)i;
			return 0;
		}
	return -EINVAL;
}

static int region(struct ld *l, const char *name)
{
	struct sim_scenario *s = l->s;
	for (size_t i = 0; i < s->n_regions; i++)
		if (!strcmp(s->regions[i], name))
			return (int)i;
	if (grow((void **)&s->regions, &l->cap_regions, s->n_regions + 1, SIM_NAME_MAX))
		return -ENOMEM;
	snprintf(s->regions[s->n_regions], SIM_NAME_MAX, "%s", name);
	return (int)s->n_regions++;
}

static struct sim_class *new_class(struct ld *l, const char *name)
{
	struct sim_scenario *s = l->s;
	if (grow((void **)&s->cls, &l->cap_cls, s->n_cls + 1, sizeof(*s->cls)))
		return NULL;
	struct sim_class *c = &s->cls[s->n_cls++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->priority = l->def_prio;
	c->slo_quantile = l->def_slo;
	c->headroom = l->def_head;
	c->weight = l->def_weight;
	c->dst = -1;
	c->demand = calloc(s->n_steps ? s->n_steps : 1, sizeof(float));
	return c->demand ? c : NULL;
}

static struct sim_link *new_link(struct ld *l, int from, int to)
{
	struct sim_scenario *s = l->s;
	for (size_t i = 0; i < s->n_links; i++)
		if (s->links[i].from == from && s->links[i].to == to)
			return &s->links[i];
	if (grow((void **)&s->links, &l->cap_links, s->n_links + 1, sizeof(*s->links)))
		return NULL;
	struct sim_link *k = &s->links[s->n_links++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "link.%s-%s", s->regions[from], s->regions[to]);
	k->from = from;
	k->to = to;
	k->lead_s = s->lead_s;
	return k;
}

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
		return fail(l, "[%s] trace %s: %s", sec, path, strerror(errno));
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
				rc = fail(l, "[%s] trace %s: no column '%s' in its first line", sec,
				          path, col);
			else if (index_col && ii < 0)
				rc = fail(l, "[%s] trace %s: no column '%s' in its first line", sec,
				          path, index_col);
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
		return fail(l,
		            "[%s] trace %s has %zu samples from offset %llu, the scenario needs "
		            "%zu (history + days): shorten days or history",
		            sec, path, have, (unsigned long long)offset, l->s->n_steps);
	return 0;
}

/* ---- sections ------------------------------------------------------------------------ */

static int load_sim(struct ld *l)
{
	static const char *const keys[] = {"step",
	                                   "history",
	                                   "days",
	                                   "block",
	                                   "period",
	                                   "forecast_every",
	                                   "lead",
	                                   "lease_lead",
	                                   "release_above",
	                                   "max_hops",
	                                   "reactive_period",
	                                   "reactive_up",
	                                   "reactive_down",
	                                   "warmup",
	                                   "start",
	                                   NULL};
	struct sim_scenario *s = l->s;
	int rc = check_keys(l, "sim", keys);
	uint32_t history = 7 * 86400;
	s->step_s = 3600;
	s->block_s = 3600;
	s->lead_s = 300;
	s->lease_lead_s = 900;
	s->release_above = 0.25;
	s->reactive_up = 0.8;
	s->reactive_down = 0.4;
	s->max_hops = 2;
	s->t0 = 1767571200; /* 2026-01-05T00:00:00Z, a Monday */
	l->days = 7;
	uint64_t mh = 2;
	if (rc || (rc = get_dur(l, "sim", "step", &s->step_s)) ||
	    (rc = get_dur(l, "sim", "history", &history)) ||
	    (rc = get_double(l, "sim", "days", 0.01, 3660, &l->days)) ||
	    (rc = get_dur(l, "sim", "block", &s->block_s)) ||
	    (rc = get_dur(l, "sim", "period", &s->period_s)) ||
	    (rc = get_dur(l, "sim", "forecast_every", &s->forecast_every_s)) ||
	    (rc = get_dur(l, "sim", "lead", &s->lead_s)) ||
	    (rc = get_dur(l, "sim", "lease_lead", &s->lease_lead_s)) ||
	    (rc = get_pct(l, "sim", "release_above", &s->release_above)) ||
	    (rc = get_uint(l, "sim", "max_hops", 1, ALLOC_MAX_HOPS, &mh)) ||
	    (rc = get_dur(l, "sim", "reactive_period", &s->reactive_period_s)) ||
	    (rc = get_pct(l, "sim", "reactive_up", &s->reactive_up)) ||
	    (rc = get_pct(l, "sim", "reactive_down", &s->reactive_down)) ||
	    (rc = get_dur(l, "sim", "warmup", &s->warmup_s)))
		return rc;
	s->max_hops = (unsigned)mh;
	const char *st = get(l, "sim", "start"), *why;
	if (st && cfg_parse_time(st, &s->t0, &why))
		return fail(l, "[sim] start = %s: %s", st, why);
	if (l->o->days > 0)
		l->days = l->o->days;
	if (!s->step_s || !s->block_s || s->block_s % s->step_s)
		return fail(l, "[sim] block must be a multiple of step");
	if (!s->period_s)
		s->period_s = s->block_s;
	if (!s->forecast_every_s)
		s->forecast_every_s = s->period_s;
	if (!s->reactive_period_s)
		s->reactive_period_s = s->step_s;
	if (s->period_s % s->step_s || s->forecast_every_s % s->period_s ||
	    s->reactive_period_s % s->step_s)
		return fail(l, "[sim] period and reactive_period must be multiples of step, "
		               "forecast_every a multiple of period");
	if (history % s->block_s || s->t0 % s->block_s)
		return fail(l, "[sim] history and start must be whole blocks");
	if (!(s->reactive_down > 0 && s->reactive_down < s->reactive_up && s->reactive_up <= 1))
		return fail(l, "[sim] need 0 < reactive_down < reactive_up <= 100%%");
	s->hist_steps = history / s->step_s;
	double sim_steps = ceil(l->days * 86400.0 / s->step_s);
	s->n_steps = s->hist_steps + (size_t)sim_steps;
	if (s->n_steps > 50000000 / 1)
		return fail(l, "[sim] %zu steps: too many", s->n_steps);
	if (!s->warmup_s) {
		uint32_t w = s->block_s + s->period_s + s->lead_s + s->lease_lead_s;
		s->warmup_s = (w + s->block_s - 1) / s->block_s * s->block_s;
	}
	return 0;
}

static int parse_list(struct ld *l, const char *sec, const char *key, double *out, size_t max,
                      size_t *n, bool dur)
{
	const char *v = get(l, sec, key);
	if (!v)
		return 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", v);
	*n = 0;
	for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		const char *why;
		if (*n == max)
			return fail(l, "[%s] %s: at most %zu values", sec, key, max);
		if (dur) {
			uint64_t ms;
			if (cfg_parse_duration(t, &ms, &why))
				return fail(l, "[%s] %s: '%s': %s", sec, key, t, why);
			out[(*n)++] = (double)ms / 1000;
		} else if (cfg_parse_double(t, 1e-6, 1 - 1e-6, &out[*n], &why)) {
			return fail(l, "[%s] %s: '%s': %s", sec, key, t, why);
		} else {
			(*n)++;
		}
	}
	return 0;
}

static int load_forecast(struct ld *l)
{
	static const char *const keys[] = {"models", "quantiles", "seasons",
	                                   "window", "origins",   NULL};
	struct sim_scenario *s = l->s;
	int rc = check_keys(l, "forecast", keys);
	if (rc)
		return rc;
	snprintf(s->models, sizeof(s->models), "%s",
	         l->o->models
	                 ? l->o->models
	                 : (get(l, "forecast", "models") ? get(l, "forecast", "models") : "auto"));
	static const double dq[] = {0.5, 0.8, 0.9, 0.95, 0.99};
	memcpy(s->quantiles, dq, sizeof(dq));
	s->n_quantiles = 5;
	if ((rc = parse_list(l, "forecast", "quantiles", s->quantiles, SIM_MAX_QUANTILES,
	                     &s->n_quantiles, false)))
		return rc;
	double seasons[SIM_MAX_SEASONS] = {86400, 604800};
	size_t ns = 2;
	if ((rc = parse_list(l, "forecast", "seasons", seasons, SIM_MAX_SEASONS, &ns, true)))
		return rc;
	s->n_seasons = ns;
	for (size_t i = 0; i < ns; i++)
		s->seasons_s[i] = (uint32_t)seasons[i];
	uint64_t origins = 0;
	if ((rc = get_dur(l, "forecast", "window", &s->fc_window_s)) ||
	    (rc = get_uint(l, "forecast", "origins", 1, 64, &origins)))
		return rc;
	s->fc_origins = (unsigned)origins;
	return 0;
}

static int load_defaults(struct ld *l)
{
	static const char *const keys[] = {"priority", "slo_quantile", "headroom", "weight", NULL};
	uint64_t p = 2;
	l->def_slo = 0.95;
	l->def_head = 0;
	l->def_weight = 1;
	int rc = check_keys(l, "defaults", keys);
	if (rc || (rc = get_uint(l, "defaults", "priority", 0, 7, &p)) ||
	    (rc = get_double(l, "defaults", "slo_quantile", 1e-6, 1 - 1e-6, &l->def_slo)) ||
	    (rc = get_pct(l, "defaults", "headroom", &l->def_head)) ||
	    (rc = get_double(l, "defaults", "weight", 0, 1e6, &l->def_weight)))
		return rc;
	l->def_prio = (unsigned)p;
	return 0;
}

static int class_policy(struct ld *l, const char *sec, struct sim_class *c)
{
	uint64_t p = c->priority;
	int rc;
	if ((rc = get_uint(l, sec, "priority", 0, 7, &p)) ||
	    (rc = get_double(l, sec, "slo_quantile", 1e-6, 1 - 1e-6, &c->slo_quantile)) ||
	    (rc = get_pct(l, sec, "headroom", &c->headroom)) ||
	    (rc = get_double(l, sec, "weight", 0, 1e6, &c->weight)) ||
	    (rc = get_qty(l, sec, "min_rate", c->kind, &c->min_rate)) ||
	    (rc = get_qty(l, sec, "max_rate", c->kind, &c->max_rate)))
		return rc;
	c->priority = (unsigned)p;
	return 0;
}

static int load_class(struct ld *l, const char *sec)
{
	static const char *const keys[] = {"src",      "dst",          "kind",     "trace",
	                                   "column",   "index_column", "scale",    "offset",
	                                   "priority", "slo_quantile", "headroom", "weight",
	                                   "min_rate", "max_rate",     NULL};
	int rc = check_keys(l, sec, keys);
	if (rc)
		return rc;
	struct sim_class *c = new_class(l, sec + strlen("class."));
	if (!c)
		return -ENOMEM;
	const char *k = get(l, sec, "kind");
	if (k && parse_kind(k, &c->kind))
		return fail(l, "[%s] kind = %s: bandwidth, vcpu, memory or storage", sec, k);
	const char *src = get(l, sec, "src"), *dst = get(l, sec, "dst");
	if (!src || (c->kind == ALLOC_BANDWIDTH && !dst))
		return fail(l, "[%s] needs src (and dst for bandwidth)", sec);
	if ((c->src = region(l, src)) < 0)
		return -ENOMEM;
	if (c->kind == ALLOC_BANDWIDTH) {
		if ((c->dst = region(l, dst)) < 0)
			return -ENOMEM;
		if (c->dst == c->src)
			return fail(l, "[%s] src and dst are the same region", sec);
	}
	if ((rc = class_policy(l, sec, c)))
		return rc;
	const char *trace = get(l, sec, "trace");
	if (!trace)
		return fail(l, "[%s] needs a trace", sec);
	double scale = 1;
	uint64_t offset = 0;
	if ((rc = get_double(l, sec, "scale", 0, 1e18, &scale)) ||
	    (rc = get_uint(l, sec, "offset", 0, UINT32_MAX, &offset)))
		return rc;
	const char *col = get(l, sec, "column") ? get(l, sec, "column") : "2";
	return read_column(l, sec, c, trace, col, get(l, sec, "index_column"), scale, offset);
}

/* [od]: an origin-destination matrix, first column the time, then SRC_DST columns. */
static int load_od(struct ld *l)
{
	static const char *const keys[] = {"file", "scale", "priorities", "offset", NULL};
	int rc = check_keys(l, "od", keys);
	if (rc)
		return rc;
	const char *file = get(l, "od", "file");
	if (!file)
		return fail(l, "[od] needs file");
	double scale = 1, shares[SIM_MAX_QUANTILES] = {0};
	size_t nsh = 0;
	uint64_t offset = 0;
	if ((rc = get_double(l, "od", "scale", 0, 1e18, &scale)) ||
	    (rc = get_uint(l, "od", "offset", 0, UINT32_MAX, &offset)) ||
	    (rc = parse_list(l, "od", "priorities", shares, 8, &nsh, false)))
		return rc;
	char path[1024];
	FILE *f = open_trace(l, file, path, sizeof(path));
	if (!f)
		return fail(l, "[od] %s: %s", path, strerror(errno));
	char *line = NULL, **fld = malloc(MAX_FIELDS * sizeof(char *));
	size_t cap = 0;
	if (!fld || getline(&line, &cap, f) <= 0) {
		fclose(f);
		free(line), free(fld);
		return fail(l, "[od] %s: empty", path);
	}
	size_t ncol = split(line, fld, MAX_FIELDS);
	size_t first = l->s->n_cls;
	for (size_t i = 1; i < ncol && rc == 0; i++) {
		char *us = strrchr(fld[i], '_');
		if (!us) {
			rc = fail(l, "[od] %s: column '%s' is not SRC_DST", path, fld[i]);
			break;
		}
		*us = '\0';
		int s = region(l, fld[i]), d = region(l, us + 1);
		*us = '_';
		struct sim_class *c = new_class(l, fld[i]);
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
			rc = fail(l, "[od] %s:%zu: %zu fields, the header has %zu", path, lineno, n,
			          ncol);
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
		rc = fail(l, "[od] %s: %zu rows from offset %llu, the scenario needs %zu", path,
		          have, (unsigned long long)offset, l->s->n_steps);
	return rc;
}

static int load_link(struct ld *l, const char *sec)
{
	static const char *const keys[] = {"from", "to", "capacity", "capacity_factor",
	                                   "lead", NULL};
	int rc = check_keys(l, sec, keys);
	if (rc)
		return rc;
	const char *from = get(l, sec, "from"), *to = get(l, sec, "to");
	if (!from || !to || !strcmp(from, to))
		return fail(l, "[%s] needs from and to (two regions)", sec);
	int a = region(l, from), b = region(l, to);
	struct sim_link *k = a >= 0 && b >= 0 ? new_link(l, a, b) : NULL;
	if (!k)
		return -ENOMEM;
	snprintf(k->name, sizeof(k->name), "%s", sec);
	if ((rc = get_qty(l, sec, "capacity", ALLOC_BANDWIDTH, &k->capacity)) ||
	    (rc = get_double(l, sec, "capacity_factor", 0, 1e6, &k->capacity_factor)) ||
	    (rc = get_dur(l, sec, "lead", &k->lead_s)))
		return rc;
	if (!k->capacity && k->capacity_factor <= 0)
		return fail(l, "[%s] needs capacity or capacity_factor", sec);
	return 0;
}

static int load_mesh(struct ld *l)
{
	static const char *const keys[] = {"mesh", "capacity", "capacity_factor", "lead", NULL};
	int rc = check_keys(l, "links", keys);
	if (rc)
		return rc;
	const char *m = get(l, "links", "mesh"), *why;
	bool mesh = false;
	if (m && cfg_parse_bool(m, &mesh, &why))
		return fail(l, "[links] mesh = %s: %s", m, why);
	if (!mesh)
		return 0;
	uint64_t cap = 0;
	double factor = 0;
	uint32_t lead = l->s->lead_s;
	if ((rc = get_qty(l, "links", "capacity", ALLOC_BANDWIDTH, &cap)) ||
	    (rc = get_double(l, "links", "capacity_factor", 0, 1e6, &factor)) ||
	    (rc = get_dur(l, "links", "lead", &lead)))
		return rc;
	if (!cap && factor <= 0)
		return fail(l, "[links] needs capacity or capacity_factor");
	size_t nr = l->s->n_regions;
	for (size_t a = 0; a < nr; a++)
		for (size_t b = 0; b < nr; b++) {
			if (a == b)
				continue;
			size_t before = l->s->n_links;
			struct sim_link *k = new_link(l, (int)a, (int)b);
			if (!k)
				return -ENOMEM;
			if (l->s->n_links > before) { /* not declared by a [link.*] */
				k->capacity = cap;
				k->capacity_factor = factor;
				k->lead_s = lead;
			}
		}
	return 0;
}

static int load_pool(struct ld *l, const char *sec)
{
	static const char *const keys[] = {"region", "kind", "capacity", "lead", NULL};
	int rc = check_keys(l, sec, keys);
	if (rc)
		return rc;
	struct sim_scenario *s = l->s;
	if (grow((void **)&s->pools, &l->cap_pools, s->n_pools + 1, sizeof(*s->pools)))
		return -ENOMEM;
	struct sim_pool *p = &s->pools[s->n_pools++];
	const char *r = get(l, sec, "region"), *k = get(l, sec, "kind");
	if (!r || !k || parse_kind(k, &p->kind) || p->kind == ALLOC_BANDWIDTH)
		return fail(l, "[%s] needs region and kind (vcpu, memory or storage)", sec);
	if ((p->region = region(l, r)) < 0)
		return -ENOMEM;
	snprintf(p->name, sizeof(p->name), "%s.%s", sec, k);
	p->lead_s = s->lead_s;
	if ((rc = get_qty(l, sec, "capacity", p->kind, &p->capacity)) ||
	    (rc = get_dur(l, sec, "lead", &p->lead_s)))
		return rc;
	if (!p->capacity)
		return fail(l, "[%s] needs a capacity", sec);
	return 0;
}

/* ---- synthetic ----------------------------------------------------------------------- */

static uint64_t xs(uint64_t *st)
{
	uint64_t x = *st;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 2685821657736338717ULL;
}

static double unif(uint64_t *st)
{
	return (double)(xs(st) >> 11) / 9007199254740992.0;
}

static double gauss(uint64_t *st)
{
	double u = unif(st), v = unif(st);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Regions on a ring with random chords up to `degree` links each (both directions), and
 * `classes` classes spread over the directed links, each with a daily and weekly cycle whose
 * phase follows its source region's "time zone", a log-normal size, AR(1) noise and rare
 * bursts. Shapes are those of backbone traffic (CESNET, Cortez); sizes are arbitrary. */
static int load_synthetic(struct ld *l)
{
	static const char *const keys[] = {"regions", "degree",     "classes",
	                                   "seed",    "mean_rate",  "capacity_factor",
	                                   "noise",   "priorities", NULL};
	int rc = check_keys(l, "synthetic", keys);
	if (rc)
		return rc;
	uint64_t nr = 10, degree = 4, ncls = 100, seed = 1, mean = 100000000;
	double factor = 1.3, noise = 0.08, shares[8] = {0.1, 0.3, 0.6};
	size_t nsh = 3;
	if ((rc = get_uint(l, "synthetic", "regions", 3, 4096, &nr)) ||
	    (rc = get_uint(l, "synthetic", "degree", 2, 64, &degree)) ||
	    (rc = get_uint(l, "synthetic", "classes", 1, 10000000, &ncls)) ||
	    (rc = get_uint(l, "synthetic", "seed", 0, UINT64_MAX, &seed)) ||
	    (rc = get_qty(l, "synthetic", "mean_rate", ALLOC_BANDWIDTH, &mean)) ||
	    (rc = get_double(l, "synthetic", "capacity_factor", 0.01, 1e6, &factor)) ||
	    (rc = get_double(l, "synthetic", "noise", 0, 2, &noise)) ||
	    (rc = parse_list(l, "synthetic", "priorities", shares, 8, &nsh, false)))
		return rc;
	if (degree >= nr)
		degree = nr - 1;
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	char name[SIM_NAME_MAX];
	for (uint64_t i = 0; i < nr; i++) {
		snprintf(name, sizeof(name), "r%03llu", (unsigned long long)i);
		if (region(l, name) < 0)
			return -ENOMEM;
	}
	size_t base = l->s->n_regions - nr;
	unsigned *deg = calloc(nr, sizeof(unsigned));
	if (!deg)
		return -ENOMEM;
	for (uint64_t i = 0; i < nr; i++) {
		int a = (int)(base + i), b = (int)(base + (i + 1) % nr);
		if (!new_link(l, a, b) || !new_link(l, b, a)) {
			free(deg);
			return -ENOMEM;
		}
		deg[i]++, deg[(i + 1) % nr]++;
	}
	for (uint64_t tries = 0; tries < nr * degree * 20; tries++) {
		uint64_t i = xs(&st) % nr, j = xs(&st) % nr;
		if (i == j || deg[i] >= degree || deg[j] >= degree)
			continue;
		size_t before = l->s->n_links;
		if (!new_link(l, (int)(base + i), (int)(base + j)) ||
		    !new_link(l, (int)(base + j), (int)(base + i))) {
			free(deg);
			return -ENOMEM;
		}
		if (l->s->n_links > before)
			deg[i]++, deg[j]++;
	}
	free(deg);
	size_t first_link = 0, nl = l->s->n_links;
	for (size_t k = first_link; k < nl; k++)
		l->s->links[k].capacity_factor = factor;
	double steps_per_h = 3600.0 / l->s->step_s;
	for (uint64_t k = 0; k < ncls; k++) {
		/* Spread classes over links with a random permutation-ish stride. */
		const struct sim_link *lk = &l->s->links[(k * 7919) % nl];
		snprintf(name, sizeof(name), "c%05llu", (unsigned long long)k);
		struct sim_class *c = new_class(l, name);
		if (!c)
			return -ENOMEM;
		c->src = lk->from;
		c->dst = lk->to;
		double u = unif(&st), acc = 0;
		c->priority = (unsigned)nsh - 1;
		for (size_t q = 0; q < nsh; q++) {
			acc += shares[q];
			if (u < acc) {
				c->priority = (unsigned)q;
				break;
			}
		}
		double size = (double)mean * exp(gauss(&st) * 0.8 - 0.32);
		double tz = 24.0 * (double)(c->src - (int)base) / (double)nr;
		double amp = 0.35 + 0.25 * unif(&st), amp2 = 0.1 * unif(&st);
		double phase2 = 24 * unif(&st), wkend = 0.65 + 0.3 * unif(&st);
		double trend = (unif(&st) - 0.5) * 0.004; /* per day */
		double ar = 0;
		int burst = 0;
		for (size_t t = 0; t < l->s->n_steps; t++) {
			double h = (double)t / steps_per_h;
			double hod = fmod(h + tz, 24.0);
			int dow = (int)fmod(floor((h + tz) / 24.0), 7.0);
			double daily = 1 + amp * sin(2 * M_PI * (hod - 9) / 24) +
			               amp2 * sin(4 * M_PI * (hod - phase2) / 24);
			double week = dow >= 5 ? wkend : 1.0;
			ar = 0.7 * ar + noise * gauss(&st);
			if (burst > 0)
				burst--;
			else if (unif(&st) < 0.002 / steps_per_h)
				burst = (int)((1 + xs(&st) % 3) * steps_per_h);
			double v = size * daily * week * exp(ar) * (1 + trend * h / 24) *
			           (burst ? 1.5 : 1.0);
			c->demand[t] = (float)(v > 0 ? v : 0);
		}
	}
	return 0;
}

/* ---- resolve ------------------------------------------------------------------------- */

/* Links sized by capacity_factor get factor x the peak of the summed demand of the classes
 * whose direct link they are (sized on the whole trace: a scenario knob, not a forecast). */
static int resolve(struct ld *l)
{
	struct sim_scenario *s = l->s;
	if (!s->n_cls)
		return fail(l, "no classes: add [class.*], [od] or [synthetic]");
	size_t nr = s->n_regions;
	int *map = malloc(nr * nr * sizeof(int));
	double *sum = calloc(s->n_links, sizeof(double)),
	       *peak = calloc(s->n_links, sizeof(double));
	if (!map || !sum || !peak) {
		free(map), free(sum), free(peak);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nr * nr; i++)
		map[i] = -1;
	for (size_t k = 0; k < s->n_links; k++)
		map[(size_t)s->links[k].from * nr + (size_t)s->links[k].to] = (int)k;
	for (size_t t = 0; t < s->n_steps; t++) {
		memset(sum, 0, s->n_links * sizeof(double));
		for (size_t c = 0; c < s->n_cls; c++) {
			const struct sim_class *x = &s->cls[c];
			if (x->kind != ALLOC_BANDWIDTH)
				continue;
			int k = map[(size_t)x->src * nr + (size_t)x->dst];
			if (k >= 0)
				sum[k] += x->demand[t];
		}
		for (size_t k = 0; k < s->n_links; k++)
			if (sum[k] > peak[k])
				peak[k] = sum[k];
	}
	for (size_t k = 0; k < s->n_links; k++) {
		struct sim_link *lk = &s->links[k];
		if (lk->capacity_factor <= 0)
			continue;
		double cap = ceil(peak[k] * lk->capacity_factor / 1e6) * 1e6;
		lk->capacity = cap < 1e6 ? 1000000 : (uint64_t)cap;
	}
	free(map), free(sum), free(peak);
	return 0;
}

int sim_scenario_load(const char *ini, const struct sim_load_opts *o, struct sim_scenario **out,
                      char *err, size_t errlen)
{
	struct ld l = {.ini = ini, .o = o, .err = err, .errlen = errlen};
	err[0] = '\0';
	*out = NULL;
	FILE *probe = fopen(ini, "r");
	if (!probe) {
		snprintf(err, errlen, "%s: %s", ini, strerror(errno));
		return -errno;
	}
	fclose(probe);
	l.d = iniparser_load(ini);
	if (!l.d) {
		snprintf(err, errlen, "%s: not a readable INI file", ini);
		return -EINVAL;
	}
	l.s = calloc(1, sizeof(*l.s));
	if (!l.s) {
		iniparser_freedict(l.d);
		return -ENOMEM;
	}
	int rc = load_sim(&l);
	if (!rc)
		rc = load_forecast(&l);
	if (!rc)
		rc = load_defaults(&l);
	/* Sections in a fixed order: classes (and the regions they name) first. */
	int nsec = iniparser_getnsec(l.d);
	for (int pass = 0; pass < 3 && !rc; pass++)
		for (int i = 0; i < nsec && !rc; i++) {
			const char *sec = iniparser_getsecname(l.d, i);
			if (pass == 0 && !strncmp(sec, "class.", 6))
				rc = load_class(&l, sec);
			else if (pass == 0 && !strcmp(sec, "od"))
				rc = load_od(&l);
			else if (pass == 0 && !strcmp(sec, "synthetic"))
				rc = load_synthetic(&l);
			else if (pass == 1 && !strncmp(sec, "link.", 5))
				rc = load_link(&l, sec);
			else if (pass == 1 && !strncmp(sec, "pool.", 5))
				rc = load_pool(&l, sec);
			else if (pass == 2 && !strcmp(sec, "links"))
				rc = load_mesh(&l);
			else if (pass == 0 && strcmp(sec, "sim") && strcmp(sec, "forecast") &&
			         strcmp(sec, "defaults") && strcmp(sec, "links") &&
			         strncmp(sec, "link.", 5) && strncmp(sec, "pool.", 5))
				rc = fail(&l, "unknown section [%s]", sec);
		}
	if (!rc)
		rc = resolve(&l);
	iniparser_freedict(l.d);
	if (rc) {
		if (rc == -ENOMEM && !err[0])
			snprintf(err, errlen, "%s: out of memory", ini);
		sim_scenario_free(l.s);
		return rc;
	}
	*out = l.s;
	return 0;
}

void sim_scenario_free(struct sim_scenario *s)
{
	if (!s)
		return;
	for (size_t c = 0; c < s->n_cls; c++)
		free(s->cls[c].demand);
	free(s->cls), free(s->links), free(s->pools), free(s->regions);
	free(s);
}

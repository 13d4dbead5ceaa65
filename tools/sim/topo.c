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

#include "topo_int.h"

int ld_fail(struct ld *l, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(l->err, l->errlen, "%s: ", l->ini);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < l->errlen)
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int ld_grow(void **arr, size_t *cap, size_t need, size_t elem)
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

const char *ld_get(struct ld *l, const char *sec, const char *key)
{
	char k[256];
	snprintf(k, sizeof(k), "%s:%s", sec, key);
	return iniparser_getstring(l->d, k, NULL);
}

/* Every key of the section must be one of `allowed` (NULL-terminated). */
int ld_check_keys(struct ld *l, const char *sec, const char *const *allowed)
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
			rc = ld_fail(l, "[%s] unknown key '%s'", sec, k);
	}
	free(keys);
	return rc;
}

int ld_get_dur(struct ld *l, const char *sec, const char *key, uint32_t *out)
{
	const char *v = ld_get(l, sec, key), *why;
	uint64_t ms;
	if (!v)
		return 0;
	if (cfg_parse_duration(v, &ms, &why) || ms % 1000 || ms / 1000 > UINT32_MAX)
		return ld_fail(l, "[%s] %s = %s: a duration in whole seconds, e.g. 5m or 1h", sec,
		               key, v);
	*out = (uint32_t)(ms / 1000);
	return 0;
}

int ld_get_pct(struct ld *l, const char *sec, const char *key, double *out)
{
	const char *v = ld_get(l, sec, key), *why;
	if (!v)
		return 0;
	if (cfg_parse_percent(v, out, &why) && cfg_parse_double(v, 0, 1e6, out, &why))
		return ld_fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

int ld_get_double(struct ld *l, const char *sec, const char *key, double lo, double hi, double *out)
{
	const char *v = ld_get(l, sec, key), *why;
	if (!v)
		return 0;
	if (cfg_parse_double(v, lo, hi, out, &why))
		return ld_fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

int ld_get_uint(struct ld *l, const char *sec, const char *key, uint64_t lo, uint64_t hi,
                uint64_t *out)
{
	const char *v = ld_get(l, sec, key), *why;
	if (!v)
		return 0;
	if (cfg_parse_uint(v, lo, hi, out, &why))
		return ld_fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

/* A quantity of a kind: bits/s (10G), a count (256) or bytes (1TiB). */
int ld_get_qty(struct ld *l, const char *sec, const char *key, enum alloc_kind k, uint64_t *out)
{
	const char *v = ld_get(l, sec, key), *why;
	if (!v)
		return 0;
	int rc = k == ALLOC_BANDWIDTH ? cfg_parse_bps(v, out, &why)
	         : k == ALLOC_VCPU    ? cfg_parse_uint(v, 0, UINT32_MAX, out, &why)
	                              : cfg_parse_bytes(v, out, &why);
	if (rc)
		return ld_fail(l, "[%s] %s = %s: %s", sec, key, v, why);
	return 0;
}

int ld_parse_kind(const char *v, enum alloc_kind *k)
{
	for (int i = 0; i < ALLOC_N_KINDS; i++)
		if (!strcmp(v, alloc_kind_name((enum alloc_kind)i))) {
			*k = (enum alloc_kind)i;
			return 0;
		}
	return -EINVAL;
}

int ld_region(struct ld *l, const char *name)
{
	struct sim_scenario *s = l->s;
	for (size_t i = 0; i < s->n_regions; i++)
		if (!strcmp(s->regions[i], name))
			return (int)i;
	if (ld_grow((void **)&s->regions, &l->cap_regions, s->n_regions + 1, SIM_NAME_MAX))
		return -ENOMEM;
	snprintf(s->regions[s->n_regions], SIM_NAME_MAX, "%s", name);
	return (int)s->n_regions++;
}

struct sim_class *ld_new_class(struct ld *l, const char *name)
{
	struct sim_scenario *s = l->s;
	if (ld_grow((void **)&s->cls, &l->cap_cls, s->n_cls + 1, sizeof(*s->cls)))
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

struct sim_link *ld_new_link(struct ld *l, int from, int to)
{
	struct sim_scenario *s = l->s;
	for (size_t i = 0; i < s->n_links; i++)
		if (s->links[i].from == from && s->links[i].to == to)
			return &s->links[i];
	if (ld_grow((void **)&s->links, &l->cap_links, s->n_links + 1, sizeof(*s->links)))
		return NULL;
	struct sim_link *k = &s->links[s->n_links++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "link.%s-%s", s->regions[from], s->regions[to]);
	k->from = from;
	k->to = to;
	k->lead_s = s->lead_s;
	return k;
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
	int rc = ld_check_keys(l, "sim", keys);
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
	if (rc || (rc = ld_get_dur(l, "sim", "step", &s->step_s)) ||
	    (rc = ld_get_dur(l, "sim", "history", &history)) ||
	    (rc = ld_get_double(l, "sim", "days", 0.01, 3660, &l->days)) ||
	    (rc = ld_get_dur(l, "sim", "block", &s->block_s)) ||
	    (rc = ld_get_dur(l, "sim", "period", &s->period_s)) ||
	    (rc = ld_get_dur(l, "sim", "forecast_every", &s->forecast_every_s)) ||
	    (rc = ld_get_dur(l, "sim", "lead", &s->lead_s)) ||
	    (rc = ld_get_dur(l, "sim", "lease_lead", &s->lease_lead_s)) ||
	    (rc = ld_get_pct(l, "sim", "release_above", &s->release_above)) ||
	    (rc = ld_get_uint(l, "sim", "max_hops", 1, ALLOC_MAX_HOPS, &mh)) ||
	    (rc = ld_get_dur(l, "sim", "reactive_period", &s->reactive_period_s)) ||
	    (rc = ld_get_pct(l, "sim", "reactive_up", &s->reactive_up)) ||
	    (rc = ld_get_pct(l, "sim", "reactive_down", &s->reactive_down)) ||
	    (rc = ld_get_dur(l, "sim", "warmup", &s->warmup_s)))
		return rc;
	s->max_hops = (unsigned)mh;
	const char *st = ld_get(l, "sim", "start"), *why;
	if (st && cfg_parse_time(st, &s->t0, &why))
		return ld_fail(l, "[sim] start = %s: %s", st, why);
	if (l->o->days > 0)
		l->days = l->o->days;
	if (!s->step_s || !s->block_s || s->block_s % s->step_s)
		return ld_fail(l, "[sim] block must be a multiple of step");
	if (!s->period_s)
		s->period_s = s->block_s;
	if (!s->forecast_every_s)
		s->forecast_every_s = s->period_s;
	if (!s->reactive_period_s)
		s->reactive_period_s = s->step_s;
	if (s->period_s % s->step_s || s->forecast_every_s % s->period_s ||
	    s->reactive_period_s % s->step_s)
		return ld_fail(l, "[sim] period and reactive_period must be multiples of step, "
		                  "forecast_every a multiple of period");
	if (history % s->block_s || s->t0 % s->block_s)
		return ld_fail(l, "[sim] history and start must be whole blocks");
	if (!(s->reactive_down > 0 && s->reactive_down < s->reactive_up && s->reactive_up <= 1))
		return ld_fail(l, "[sim] need 0 < reactive_down < reactive_up <= 100%%");
	s->hist_steps = history / s->step_s;
	double sim_steps = ceil(l->days * 86400.0 / s->step_s);
	s->n_steps = s->hist_steps + (size_t)sim_steps;
	if (s->n_steps > 50000000 / 1)
		return ld_fail(l, "[sim] %zu steps: too many", s->n_steps);
	if (!s->warmup_s) {
		uint32_t w = s->block_s + s->period_s + s->lead_s + s->lease_lead_s;
		s->warmup_s = (w + s->block_s - 1) / s->block_s * s->block_s;
	}
	return 0;
}

int ld_parse_list(struct ld *l, const char *sec, const char *key, double *out, size_t max,
                  size_t *n, bool dur)
{
	const char *v = ld_get(l, sec, key);
	if (!v)
		return 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", v);
	*n = 0;
	for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		const char *why;
		if (*n == max)
			return ld_fail(l, "[%s] %s: at most %zu values", sec, key, max);
		if (dur) {
			uint64_t ms;
			if (cfg_parse_duration(t, &ms, &why))
				return ld_fail(l, "[%s] %s: '%s': %s", sec, key, t, why);
			out[(*n)++] = (double)ms / 1000;
		} else if (cfg_parse_percent(t, &out[*n], &why) &&
		           cfg_parse_double(t, 1e-6, 1 - 1e-6, &out[*n], &why)) {
			return ld_fail(l, "[%s] %s: '%s': %s", sec, key, t, why);
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
	int rc = ld_check_keys(l, "forecast", keys);
	if (rc)
		return rc;
	snprintf(s->models, sizeof(s->models), "%s",
	         l->o->models ? l->o->models
	                      : (ld_get(l, "forecast", "models") ? ld_get(l, "forecast", "models")
	                                                         : "auto"));
	static const double dq[] = {0.5, 0.8, 0.9, 0.95, 0.99};
	memcpy(s->quantiles, dq, sizeof(dq));
	s->n_quantiles = 5;
	if ((rc = ld_parse_list(l, "forecast", "quantiles", s->quantiles, SIM_MAX_QUANTILES,
	                        &s->n_quantiles, false)))
		return rc;
	double seasons[SIM_MAX_SEASONS] = {86400, 604800};
	size_t ns = 2;
	if ((rc = ld_parse_list(l, "forecast", "seasons", seasons, SIM_MAX_SEASONS, &ns, true)))
		return rc;
	s->n_seasons = ns;
	for (size_t i = 0; i < ns; i++)
		s->seasons_s[i] = (uint32_t)seasons[i];
	uint64_t origins = 0;
	if ((rc = ld_get_dur(l, "forecast", "window", &s->fc_window_s)) ||
	    (rc = ld_get_uint(l, "forecast", "origins", 1, 64, &origins)))
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
	int rc = ld_check_keys(l, "defaults", keys);
	if (rc || (rc = ld_get_uint(l, "defaults", "priority", 0, 7, &p)) ||
	    (rc = ld_get_double(l, "defaults", "slo_quantile", 1e-6, 1 - 1e-6, &l->def_slo)) ||
	    (rc = ld_get_pct(l, "defaults", "headroom", &l->def_head)) ||
	    (rc = ld_get_double(l, "defaults", "weight", 0, 1e6, &l->def_weight)))
		return rc;
	l->def_prio = (unsigned)p;
	return 0;
}

static int load_link(struct ld *l, const char *sec)
{
	static const char *const keys[] = {"from", "to", "capacity", "capacity_factor",
	                                   "lead", NULL};
	int rc = ld_check_keys(l, sec, keys);
	if (rc)
		return rc;
	const char *from = ld_get(l, sec, "from"), *to = ld_get(l, sec, "to");
	if (!from || !to || !strcmp(from, to))
		return ld_fail(l, "[%s] needs from and to (two regions)", sec);
	int a = ld_region(l, from), b = ld_region(l, to);
	struct sim_link *k = a >= 0 && b >= 0 ? ld_new_link(l, a, b) : NULL;
	if (!k)
		return -ENOMEM;
	snprintf(k->name, sizeof(k->name), "%s", sec);
	if ((rc = ld_get_qty(l, sec, "capacity", ALLOC_BANDWIDTH, &k->capacity)) ||
	    (rc = ld_get_double(l, sec, "capacity_factor", 0, 1e6, &k->capacity_factor)) ||
	    (rc = ld_get_dur(l, sec, "lead", &k->lead_s)))
		return rc;
	if (!k->capacity && k->capacity_factor <= 0)
		return ld_fail(l, "[%s] needs capacity or capacity_factor", sec);
	return 0;
}

static int load_mesh(struct ld *l)
{
	static const char *const keys[] = {"mesh", "capacity", "capacity_factor", "lead", NULL};
	int rc = ld_check_keys(l, "links", keys);
	if (rc)
		return rc;
	const char *m = ld_get(l, "links", "mesh"), *why;
	bool mesh = false;
	if (m && cfg_parse_bool(m, &mesh, &why))
		return ld_fail(l, "[links] mesh = %s: %s", m, why);
	if (!mesh)
		return 0;
	uint64_t cap = 0;
	double factor = 0;
	uint32_t lead = l->s->lead_s;
	if ((rc = ld_get_qty(l, "links", "capacity", ALLOC_BANDWIDTH, &cap)) ||
	    (rc = ld_get_double(l, "links", "capacity_factor", 0, 1e6, &factor)) ||
	    (rc = ld_get_dur(l, "links", "lead", &lead)))
		return rc;
	if (!cap && factor <= 0)
		return ld_fail(l, "[links] needs capacity or capacity_factor");
	size_t nr = l->s->n_regions;
	for (size_t a = 0; a < nr; a++)
		for (size_t b = 0; b < nr; b++) {
			if (a == b)
				continue;
			size_t before = l->s->n_links;
			struct sim_link *k = ld_new_link(l, (int)a, (int)b);
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
	int rc = ld_check_keys(l, sec, keys);
	if (rc)
		return rc;
	struct sim_scenario *s = l->s;
	if (ld_grow((void **)&s->pools, &l->cap_pools, s->n_pools + 1, sizeof(*s->pools)))
		return -ENOMEM;
	struct sim_pool *p = &s->pools[s->n_pools++];
	const char *r = ld_get(l, sec, "region"), *k = ld_get(l, sec, "kind");
	if (!r || !k || ld_parse_kind(k, &p->kind) || p->kind == ALLOC_BANDWIDTH)
		return ld_fail(l, "[%s] needs region and kind (vcpu, memory or storage)", sec);
	if ((p->region = ld_region(l, r)) < 0)
		return -ENOMEM;
	snprintf(p->name, sizeof(p->name), "%s.%s", sec, k);
	p->lead_s = s->lead_s;
	if ((rc = ld_get_qty(l, sec, "capacity", p->kind, &p->capacity)) ||
	    (rc = ld_get_dur(l, sec, "lead", &p->lead_s)))
		return rc;
	if (!p->capacity)
		return ld_fail(l, "[%s] needs a capacity", sec);
	return 0;
}

/* ---- resolve ------------------------------------------------------------------------- */

/* Links sized by capacity_factor get factor x the peak of the summed demand of the classes
 * whose direct link they are (sized on the whole trace: a scenario knob, not a forecast). */
static int resolve(struct ld *l)
{
	struct sim_scenario *s = l->s;
	if (!s->n_cls)
		return ld_fail(l, "no classes: add [class.*], [od] or [synthetic]");
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
				rc = ld_load_class(&l, sec);
			else if (pass == 0 && !strcmp(sec, "od"))
				rc = ld_load_od(&l);
			else if (pass == 0 && !strcmp(sec, "synthetic"))
				rc = ld_load_synthetic(&l);
			else if (pass == 1 && !strncmp(sec, "link.", 5))
				rc = load_link(&l, sec);
			else if (pass == 1 && !strncmp(sec, "pool.", 5))
				rc = load_pool(&l, sec);
			else if (pass == 2 && !strcmp(sec, "links"))
				rc = load_mesh(&l);
			else if (pass == 0 && strcmp(sec, "sim") && strcmp(sec, "forecast") &&
			         strcmp(sec, "defaults") && strcmp(sec, "links") &&
			         strncmp(sec, "link.", 5) && strncmp(sec, "pool.", 5))
				rc = ld_fail(&l, "unknown section [%s]", sec);
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

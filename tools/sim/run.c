/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run: one policy over one scenario, step by step (docs/sim.md).
 *
 * At every controller period (reactive: every reactive period) the policy's view of demand
 * goes into the real controller (alloc_run); its releases and requests are applied to one
 * capacity calendar per link and pool (ledger_cal_*: a request that does not fit is
 * refused, so nothing is ever booked beyond capacity). At every step, leases that ended are
 * unbooked, and each class's demand is compared with what its leases reserve over the step:
 * the metrics of sim.h. Proactive forecasts come from the forecast library, fitted on the
 * per-block peaks of each class's history, in worker threads.
 *
 * Owns everything it allocates for the run; frees it before returning.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "forecast.h"
#include "log.h"
#include "sim.h"

static const char *const policy_names[SIM_N_POLICIES] = {"static", "reactive", "proactive",
                                                         "oracle"};

const char *sim_policy_name(enum sim_policy p)
{
	return (unsigned)p < SIM_N_POLICIES ? policy_names[p] : "?";
}

int sim_policy_parse(const char *s, enum sim_policy *p)
{
	for (int i = 0; i < SIM_N_POLICIES; i++)
		if (!strcmp(s, policy_names[i])) {
			*p = (enum sim_policy)i;
			return 0;
		}
	return -EINVAL;
}

struct lease {
	int cls;
	int hops[ALLOC_MAX_HOPS];
	unsigned n;
	uint64_t q;
	int64_t start, end;
	bool booked;
};

struct run {
	const struct sim_scenario *s;
	enum sim_policy pol;
	const struct sim_run_opts *o;
	struct sim_metrics *m;

	size_t nres;
	struct alloc_resource *res;
	struct ledger_cal **cal;
	const char **regions;
	struct alloc_class *cls;
	struct alloc_params params;
	struct alloc *a;

	/* forecasts handed to the controller */
	struct demand_forecast *fc;
	double *fc_q; /* [n_cls * hmax] flat and oracle forecasts */
	size_t hmax;
	double *slo;             /* [n_cls] the single level of flat and oracle forecasts */
	struct fc_result **fres; /* proactive */
	float *bpeak;            /* [n_cls * n_buckets] per-block peak of each class's demand */
	size_t n_buckets, steps_per_bucket;
	size_t fc_h;       /* proactive horizon in buckets */
	double *hist_peak; /* static */

	struct lease *leases;
	size_t n_leases, cap_leases;
	size_t *free_slots; /* leases no longer booked, reused after the cycle */
	size_t n_free, cap_free;
	size_t *live;
	size_t n_live, cap_live;
	struct alloc_resv *resv;
	size_t cap_resv;

	double *level, *prev_level; /* [n_cls] reserved over the step */
	bool have_prev;
	int *direct_link; /* [n_cls] the class's direct link or -1 */
	double ctl_ms_sum;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 1024;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* ---- setup --------------------------------------------------------------------------- */

static uint32_t max_lead(const struct sim_scenario *s)
{
	uint32_t l = 0;
	for (size_t k = 0; k < s->n_links; k++)
		if (s->links[k].lead_s > l)
			l = s->links[k].lead_s;
	for (size_t p = 0; p < s->n_pools; p++)
		if (s->pools[p].lead_s > l)
			l = s->pools[p].lead_s;
	return l + s->lease_lead_s;
}

static int setup(struct run *r)
{
	const struct sim_scenario *s = r->s;
	size_t nc = s->n_cls;
	r->nres = s->n_links + s->n_pools;
	r->res = calloc(r->nres + 1, sizeof(*r->res));
	r->cal = calloc(r->nres + 1, sizeof(*r->cal));
	r->regions = calloc(s->n_regions + 1, sizeof(char *));
	r->cls = calloc(nc + 1, sizeof(*r->cls));
	r->fc = calloc(nc + 1, sizeof(*r->fc));
	r->slo = calloc(nc + 1, sizeof(double));
	r->level = calloc(nc + 1, sizeof(double));
	r->prev_level = calloc(nc + 1, sizeof(double));
	r->direct_link = calloc(nc + 1, sizeof(int));
	r->a = alloc_new();
	if (!r->res || !r->cal || !r->regions || !r->cls || !r->fc || !r->slo || !r->level ||
	    !r->prev_level || !r->direct_link || !r->a)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_regions; i++)
		r->regions[i] = s->regions[i];
	for (size_t k = 0; k < s->n_links; k++) {
		const struct sim_link *l = &s->links[k];
		r->res[k] = (struct alloc_resource){.name = l->name,
		                                    .kind = ALLOC_BANDWIDTH,
		                                    .owner = l->from,
		                                    .to = l->to,
		                                    .capacity = l->capacity,
		                                    .lead_s = l->lead_s};
	}
	for (size_t p = 0; p < s->n_pools; p++) {
		const struct sim_pool *x = &s->pools[p];
		r->res[s->n_links + p] = (struct alloc_resource){.name = x->name,
		                                                 .kind = x->kind,
		                                                 .owner = x->region,
		                                                 .to = -1,
		                                                 .capacity = x->capacity,
		                                                 .lead_s = x->lead_s};
	}
	for (size_t i = 0; i < r->nres; i++)
		if (!(r->cal[i] = ledger_cal_new(r->res[i].capacity)))
			return -ENOMEM;
	for (size_t c = 0; c < nc; c++) {
		const struct sim_class *x = &s->cls[c];
		r->cls[c] = (struct alloc_class){.name = x->name,
		                                 .kind = x->kind,
		                                 .src = x->src,
		                                 .dst = x->dst,
		                                 .priority = x->priority,
		                                 .weight = x->weight,
		                                 .slo_quantile = x->slo_quantile,
		                                 .headroom = x->headroom,
		                                 .min_rate = x->min_rate,
		                                 .max_rate = x->max_rate,
		                                 .measured = -1};
		r->slo[c] = x->slo_quantile;
		r->direct_link[c] = -1;
		for (size_t k = 0; k < s->n_links && x->kind == ALLOC_BANDWIDTH; k++)
			if (s->links[k].from == x->src && s->links[k].to == x->dst) {
				r->direct_link[c] = (int)k;
				break;
			}
	}
	alloc_params_init(&r->params);
	r->params.block_s = s->block_s;
	r->params.period_s = r->pol == SIM_REACTIVE ? s->reactive_period_s : s->period_s;
	r->params.lease_lead_s = s->lease_lead_s;
	r->params.release_above =
	        r->pol == SIM_REACTIVE ? s->reactive_up / s->reactive_down - 1 : s->release_above;
	r->params.max_hops = s->max_hops;
	/* Static keeps its peak; the oracle knows the future already. */
	r->params.no_measured_floor = r->pol == SIM_STATIC || r->pol == SIM_ORACLE;
	r->params.no_reasons = !r->o->verbose;

	/* Per-block peaks of every class (the series proactive forecasts, static's peak). */
	r->steps_per_bucket = s->block_s / s->step_s;
	r->n_buckets = (s->n_steps + r->steps_per_bucket - 1) / r->steps_per_bucket;
	r->bpeak = malloc((nc * r->n_buckets + 1) * sizeof(float));
	r->hist_peak = calloc(nc + 1, sizeof(double));
	if (!r->bpeak || !r->hist_peak)
		return -ENOMEM;
	for (size_t c = 0; c < nc; c++) {
		const float *d = s->cls[c].demand;
		for (size_t b = 0; b < r->n_buckets; b++) {
			float pk = 0;
			for (size_t i = b * r->steps_per_bucket;
			     i < (b + 1) * r->steps_per_bucket && i < s->n_steps; i++)
				if (d[i] > pk)
					pk = d[i];
			r->bpeak[c * r->n_buckets + b] = pk;
			if ((b + 1) * r->steps_per_bucket <= s->hist_steps && pk > r->hist_peak[c])
				r->hist_peak[c] = pk;
		}
	}
	/* Flat and oracle forecasts: per-step values from now over what any block needs. */
	uint32_t span = max_lead(s) + r->params.period_s + 2 * s->block_s;
	r->hmax = span / s->step_s + 2;
	r->fc_q = calloc(nc * r->hmax + 1, sizeof(double));
	r->fres = calloc(nc + 1, sizeof(*r->fres));
	if (!r->fc_q || !r->fres)
		return -ENOMEM;
	uint32_t fspan = s->forecast_every_s + max_lead(s) + s->period_s + 2 * s->block_s;
	r->fc_h = (fspan + s->block_s - 1) / s->block_s + 1;
	return 0;
}

static void teardown(struct run *r)
{
	if (r->cal)
		for (size_t i = 0; i < r->nres; i++)
			ledger_cal_free(r->cal[i]);
	if (r->fres)
		for (size_t c = 0; c < r->s->n_cls; c++)
			fc_result_free(r->fres[c]);
	free(r->res), free(r->cal), free(r->regions), free(r->cls), free(r->fc), free(r->slo);
	free(r->level), free(r->prev_level), free(r->direct_link), free(r->fc_q), free(r->fres);
	free(r->bpeak), free(r->hist_peak), free(r->leases), free(r->live), free(r->resv);
	free(r->free_slots);
	alloc_free(r->a);
}

/* ---- forecasts per policy ------------------------------------------------------------ */

/* A forecast at the simulation step: values v(k) for steps from now. */
static void step_forecast(struct run *r, size_t c, int64_t now, size_t h)
{
	struct demand_forecast *f = &r->fc[c];
	memset(f, 0, sizeof(*f));
	f->origin_s = now;
	f->step_s = r->s->step_s;
	f->h = h;
	f->n_levels = 1;
	f->levels = &r->slo[c];
	f->q = r->fc_q + c * r->hmax;
	f->point = f->q;
	f->event_factor_max = 1;
	r->cls[c].fc = h ? f : NULL;
}

struct fc_job {
	struct run *r;
	int64_t origin;
	size_t first_bucket, last_bucket; /* history buckets [first, last) */
	atomic_size_t next;
	atomic_size_t failed;
};

static void forecast_one(struct fc_job *j, size_t c)
{
	struct run *r = j->r;
	const struct sim_scenario *s = r->s;
	fc_result_free(r->fres[c]);
	r->fres[c] = NULL;
	size_t n = j->last_bucket - j->first_bucket;
	double *v = malloc((n ? n : 1) * sizeof(double));
	if (!v) {
		atomic_fetch_add(&j->failed, 1);
		return;
	}
	const float *bp = r->bpeak + c * r->n_buckets + j->first_bucket;
	for (size_t i = 0; i < n; i++)
		v[i] = bp[i];
	struct fc_series_opts so;
	fc_series_opts_init(&so);
	so.name = s->cls[c].name;
	so.start = s->t0 + (int64_t)(j->first_bucket * s->block_s);
	so.step = s->block_s;
	size_t np = 0;
	for (size_t i = 0; i < s->n_seasons && np < FC_MAX_PERIODS; i++) {
		unsigned per = s->seasons_s[i] / s->block_s;
		if (per >= 2 && n >= 2 * (size_t)per)
			so.periods[np++] = per;
	}
	struct fc_series *fs = NULL;
	struct fc_params p;
	fc_params_init(&p);
	p.horizon = r->fc_h;
	p.quantiles = s->quantiles;
	p.n_quantiles = s->n_quantiles;
	p.models = s->models;
	if (s->fc_origins)
		p.cv_origins = s->fc_origins;
	p.allow_long_horizon = true;
	p.seed = c + 1;
	int rc = fc_series_new(v, n, &so, &fs);
	if (!rc)
		rc = fc_forecast(fs, &p, &r->fres[c]);
	if (rc)
		atomic_fetch_add(&j->failed, 1);
	fc_series_free(fs);
	free(v);
}

static void *fc_worker(void *arg)
{
	struct fc_job *j = arg;
	size_t c;
	while ((c = atomic_fetch_add(&j->next, 1)) < j->r->s->n_cls)
		forecast_one(j, c);
	return NULL;
}

static int forecast_round(struct run *r, int64_t now)
{
	const struct sim_scenario *s = r->s;
	double t0 = mono_s();
	struct fc_job j = {.r = r};
	j.last_bucket = (size_t)((now - s->t0) / s->block_s); /* complete buckets only */
	j.first_bucket = 0;
	if (s->fc_window_s && j.last_bucket > s->fc_window_s / s->block_s)
		j.first_bucket = j.last_bucket - s->fc_window_s / s->block_s;
	j.origin = s->t0 + (int64_t)(j.last_bucket * s->block_s);
	atomic_init(&j.next, 0);
	atomic_init(&j.failed, 0);
	unsigned nt = r->o->threads ? r->o->threads : 1;
	pthread_t th[64];
	if (nt > 64)
		nt = 64;
	unsigned started = 0;
	for (unsigned i = 1; i < nt; i++)
		if (pthread_create(&th[started], NULL, fc_worker, &j) == 0)
			started++;
	fc_worker(&j);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (size_t c = 0; c < s->n_cls; c++) {
		const struct fc_result *x = r->fres[c];
		struct demand_forecast *f = &r->fc[c];
		if (!x) {
			r->cls[c].fc = NULL;
			continue;
		}
		memset(f, 0, sizeof(*f));
		snprintf(f->model, sizeof(f->model), "%.95s", x->model);
		f->origin_s = j.origin;
		f->step_s = s->block_s;
		f->h = x->horizon;
		f->n_levels = x->n_quantiles;
		f->levels = x->levels;
		f->point = x->point;
		f->q = x->q;
		f->event_factor_max = 1;
		r->cls[c].fc = f;
	}
	/* Calibration as the controller sees it: the blocks this round's forecasts will be used
	 * for, against their actual peaks. */
	size_t use = s->forecast_every_s / s->block_s;
	for (size_t c = 0; c < s->n_cls; c++) {
		const struct demand_forecast *f = r->cls[c].fc;
		if (!f)
			continue;
		for (size_t k = 0; k < use && k < f->h && j.last_bucket + k < r->n_buckets; k++) {
			double q = demand_quantile(f, k, s->cls[c].slo_quantile);
			r->m->fc_checked++;
			r->m->fc_covered += r->bpeak[c * r->n_buckets + j.last_bucket + k] <= q;
		}
	}
	double dt = mono_s() - t0;
	r->m->fc_rounds++;
	r->m->fc_s_total += dt;
	r->m->fc_failed += atomic_load(&j.failed);
	if (r->o->verbose)
		log_info("%s: forecast round at +%llds: %zu series in %.2f s, %zu failed",
		         sim_policy_name(r->pol), (long long)(now - s->t0), s->n_cls, dt,
		         (size_t)atomic_load(&j.failed));
	return 0;
}

static int prepare_classes(struct run *r, size_t si, int64_t now)
{
	const struct sim_scenario *s = r->s;
	for (size_t c = 0; c < s->n_cls; c++) {
		const struct sim_class *x = &s->cls[c];
		double measured = si ? x->demand[si - 1] : x->demand[0];
		r->cls[c].measured = measured;
		double *q = r->fc_q + c * r->hmax;
		switch (r->pol) {
		case SIM_STATIC:
			for (size_t k = 0; k < r->hmax; k++)
				q[k] = r->hist_peak[c];
			step_forecast(r, c, now, r->hmax);
			break;
		case SIM_REACTIVE:
			for (size_t k = 0; k < r->hmax; k++)
				q[k] = measured;
			step_forecast(r, c, now, r->hmax);
			r->cls[c].headroom = 1.0 / s->reactive_up - 1.0;
			break;
		case SIM_ORACLE: {
			size_t h = r->hmax;
			if (si + h > s->n_steps)
				h = s->n_steps - si;
			for (size_t k = 0; k < h; k++)
				q[k] = x->demand[si + k];
			step_forecast(r, c, now, h);
			r->cls[c].headroom = 0;
			break;
		}
		case SIM_PROACTIVE:
		default:
			break;
		}
	}
	if (r->pol == SIM_PROACTIVE && (now % s->forecast_every_s == 0 || !r->m->fc_rounds))
		return forecast_round(r, now);
	return 0;
}

/* ---- leases -------------------------------------------------------------------------- */

static void unbook(struct run *r, struct lease *l, int64_t from, int64_t to)
{
	if (from >= to)
		return;
	for (unsigned h = 0; h < l->n; h++)
		if (ledger_cal_unbook(r->cal[l->hops[h]], from, to, l->q))
			log_err("sim: calendar of %s lost a booking (internal error)",
			        r->res[l->hops[h]].name);
}

static void expire(struct run *r, int64_t now)
{
	size_t w = 0;
	for (size_t i = 0; i < r->n_live; i++) {
		struct lease *l = &r->leases[r->live[i]];
		if (l->booked && l->end <= now) {
			unbook(r, l, l->start, l->end);
			l->booked = false;
		}
		if (l->booked)
			r->live[w++] = r->live[i];
		else if (r->n_free < r->cap_free)
			r->free_slots[r->n_free++] = r->live[i];
	}
	r->n_live = w;
}

static int apply(struct run *r, const struct alloc_plan *p, int64_t now)
{
	for (size_t i = 0; i < p->n_rel; i++) {
		struct lease *l = &r->leases[p->rel[i].user];
		if (!l->booked || l->end <= now)
			continue;
		int64_t from = l->start > now ? l->start : now;
		unbook(r, l, from, l->end);
		if (l->start < now)
			l->end = now; /* the past stays booked until it expires */
		else
			l->booked = false;
		r->m->releases++;
		if (p->rel[i].why == ALLOC_PREEMPTED)
			r->m->preemptions++;
		if (r->o->verbose)
			log_info("%s: release %s", sim_policy_name(r->pol), p->rel[i].reason);
	}
	for (size_t i = 0; i < p->n_req; i++) {
		const struct alloc_request *q = &p->req[i];
		unsigned h = 0;
		for (; h < q->n_hops; h++)
			if (ledger_cal_book(r->cal[q->hops[h]], q->start, q->end, q->quantity))
				break;
		if (h < q->n_hops) {
			for (unsigned k = 0; k < h; k++)
				ledger_cal_unbook(r->cal[q->hops[k]], q->start, q->end,
				                  q->quantity);
			r->m->refused++;
			continue;
		}
		if (grow((void **)&r->leases, &r->cap_leases, r->n_leases + 1,
		         sizeof(*r->leases)) ||
		    grow((void **)&r->live, &r->cap_live, r->n_live + 1, sizeof(*r->live)) ||
		    grow((void **)&r->free_slots, &r->cap_free, r->cap_leases, sizeof(size_t)))
			return -ENOMEM;
		/* A slot no longer booked (and no longer in `live`) is reused. */
		size_t slot = r->n_free ? r->free_slots[--r->n_free] : r->n_leases++;
		struct lease *l = &r->leases[slot];
		l->cls = (int)q->cls;
		memcpy(l->hops, q->hops, sizeof(l->hops));
		l->n = q->n_hops;
		l->q = q->quantity;
		l->start = q->start;
		l->end = q->end;
		l->booked = true;
		r->live[r->n_live++] = slot;
		r->m->requests++;
		if (r->o->verbose)
			log_info("%s: request %s", sim_policy_name(r->pol), q->reason);
	}
	return 0;
}

static int cycle(struct run *r, size_t si, int64_t now)
{
	int rc = prepare_classes(r, si, now);
	if (rc)
		return rc;
	expire(r, now);
	if (grow((void **)&r->resv, &r->cap_resv, r->n_live + 1, sizeof(*r->resv)))
		return -ENOMEM;
	size_t nv = 0;
	for (size_t i = 0; i < r->n_live; i++) {
		const struct lease *l = &r->leases[r->live[i]];
		struct alloc_resv *v = &r->resv[nv++];
		memset(v, 0, sizeof(*v));
		v->cls = l->cls;
		memcpy(v->hops, l->hops, sizeof(v->hops));
		v->n_hops = l->n;
		v->quantity = l->q;
		v->start = l->start;
		v->end = l->end;
		v->hold_prio = (uint8_t)r->cls[l->cls].priority;
		v->user = r->live[i];
	}
	struct alloc_input in = {.params = r->params,
	                         .regions = r->regions,
	                         .n_regions = r->s->n_regions,
	                         .res = r->res,
	                         .n_res = r->nres,
	                         .cls = r->cls,
	                         .n_cls = r->s->n_cls,
	                         .resv = r->resv,
	                         .n_resv = nv};
	in.params.now = now;
	const struct alloc_plan *plan;
	double t0 = mono_s();
	rc = alloc_run(r->a, &in, &plan);
	double ms = (mono_s() - t0) * 1e3;
	if (rc) {
		log_err("sim: %s: controller failed: %s", sim_policy_name(r->pol),
		        alloc_error(r->a));
		return rc;
	}
	r->m->cycles++;
	r->ctl_ms_sum += ms;
	if (ms > r->m->ctl_ms_max)
		r->m->ctl_ms_max = ms;
	return apply(r, plan, now);
}

/* ---- metrics ------------------------------------------------------------------------- */

static void measure(struct run *r, size_t si, int64_t now, struct sim_series *ser)
{
	const struct sim_scenario *s = r->s;
	int64_t end = now + s->step_s;
	memset(r->level, 0, s->n_cls * sizeof(double));
	for (size_t i = 0; i < r->n_live; i++) {
		const struct lease *l = &r->leases[r->live[i]];
		int64_t a = l->start > now ? l->start : now, b = l->end < end ? l->end : end;
		if (b > a)
			r->level[l->cls] += (double)l->q * (double)(b - a) / s->step_s;
	}
	for (size_t k = 0; k < r->nres; k++) {
		uint64_t pk = ledger_cal_peak(r->cal[k], now, end);
		double u = r->res[k].capacity ? (double)pk / (double)r->res[k].capacity : 0;
		if (u > r->m->max_link_util)
			r->m->max_link_util = u;
	}
	if (now < r->m->eval_start)
		return;
	struct sim_metrics *m = r->m;
	double dt = s->step_s;
	for (size_t c = 0; c < s->n_cls; c++) {
		const struct sim_class *x = &s->cls[c];
		double d = x->demand[si], res = r->level[c];
		double served = d < res ? d : res;
		bool viol = d > res * (1 + 1e-9) + 1e-6;
		if (r->have_prev && fabs(res - r->prev_level[c]) > 0.5)
			m->level_changes++;
		r->prev_level[c] = res;
		if (x->kind != ALLOC_BANDWIDTH) {
			m->pool_unit_h_reserved += res * dt / 3600;
			m->pool_unit_h_unused += (res - served) * dt / 3600;
			if (viol)
				m->pool_violation_min += dt / 60;
			continue;
		}
		m->demand_bits += d * dt;
		m->served_bits += served * dt;
		m->unserved_bits += (d - served) * dt;
		m->reserved_bith += res * dt / 3600;
		m->used_bith += served * dt / 3600;
		m->unused_bith += (res - served) * dt / 3600;
		if (viol && getenv("SIM_DEBUG"))
			fprintf(stderr, "viol %s %s t=+%lld d=%.0f r=%.0f\n",
			        sim_policy_name(r->pol), x->name, (long long)(now - s->t0), d, res);
		if (viol) {
			m->violation_min[x->priority] += dt / 60;
			m->violation_min_total += dt / 60;
		}
	}
	r->have_prev = true;
	if (ser && ser->link >= 0 && ser->n < (size_t)((m->eval_end - m->eval_start) / s->step_s)) {
		double dem = 0;
		for (size_t c = 0; c < s->n_cls; c++)
			if (r->direct_link[c] == ser->link)
				dem += s->cls[c].demand[si];
		ser->demand[ser->n] = dem;
		ser->booked[ser->n] = (double)ledger_cal_peak(r->cal[ser->link], now, end);
		ser->n++;
	}
}

void sim_series_free(struct sim_series *x)
{
	if (!x)
		return;
	free(x->demand);
	free(x->booked);
	x->demand = x->booked = NULL;
	x->n = 0;
}

int sim_run(const struct sim_scenario *s, enum sim_policy pol, const struct sim_run_opts *o,
            struct sim_metrics *m, struct sim_series *ser)
{
	struct run r = {.s = s, .pol = pol, .o = o, .m = m};
	memset(m, 0, sizeof(*m));
	double wall0 = mono_s();
	int64_t sim_start = s->t0 + (int64_t)(s->hist_steps * s->step_s);
	m->eval_start = sim_start + s->warmup_s;
	m->eval_end = s->t0 + (int64_t)(s->n_steps * s->step_s);
	if (m->eval_start >= m->eval_end) {
		log_err("sim: the warm-up (%u s) covers the whole simulated window", s->warmup_s);
		return -EINVAL;
	}
	if (ser) {
		ser->n = 0;
		size_t n = (size_t)((m->eval_end - m->eval_start) / s->step_s) + 1;
		ser->demand = calloc(n, sizeof(double));
		ser->booked = calloc(n, sizeof(double));
		if (!ser->demand || !ser->booked) {
			sim_series_free(ser);
			return -ENOMEM;
		}
	}
	int rc = setup(&r);
	uint32_t every = pol == SIM_REACTIVE ? s->reactive_period_s : s->period_s;
	for (size_t si = s->hist_steps; si < s->n_steps && !rc; si++) {
		int64_t now = s->t0 + (int64_t)(si * s->step_s);
		if (now % every == 0 || si == s->hist_steps)
			rc = cycle(&r, si, now);
		if (rc)
			break;
		expire(&r, now);
		measure(&r, si, now, ser);
	}
	if (rc == -ENOMEM)
		log_err("sim: out of memory");
	m->ctl_ms_mean = m->cycles ? r.ctl_ms_sum / (double)m->cycles : 0;
	m->fc_s_mean = m->fc_rounds ? m->fc_s_total / (double)m->fc_rounds : 0;
	teardown(&r);
	m->wall_s = mono_s() - wall0;
	return rc;
}

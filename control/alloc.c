/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc: one controller cycle (alloc.h, docs/alloc.md): the planning blocks, needs from
 * forecasts, what held leases keep, preemption of floors by higher levels, surplus with
 * hysteresis, resizes, the plan. Input checks and indexes are in alloc_check.c, the filling
 * of deficits (water-filling, transit paths) in alloc_fill.c, the reasons' words in
 * alloc_text.c.
 *
 * Owns the struct alloc and everything it points to. Pure: no I/O, no clock, no logging.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc_int.h"
#include "units.h"

void alloc_params_init(struct alloc_params *p)
{
	memset(p, 0, sizeof(*p));
	p->block_s = 3600;
	p->period_s = 3600;
	p->lease_lead_s = 300;
	p->release_above = 0.25;
	p->quantum[ALLOC_BANDWIDTH] = 1000000;
	p->quantum[ALLOC_VCPU] = 1;
	p->quantum[ALLOC_MEMORY] = UINT64_C(1) << 20;
	p->quantum[ALLOC_STORAGE] = UINT64_C(1) << 30;
	p->max_hops = 2;
}

struct alloc *alloc_new(void)
{
	return calloc(1, sizeof(struct alloc));
}

void alloc_free_scratch(struct alloc *a)
{
	free(a->direct), free(a->lead), free(a->pairmap), free(a->adj_start), free(a->adj);
	free(a->order), free(a->rorder), free(a->cres_start), free(a->cres), free(a->gone);
	free(a->viewed), free(a->free), free(a->taker), free(a->taker_lvl), free(a->cs);
	free(a->rf), free(a->rmark), free(a->dp_pred), free(a->dp_best);
	a->direct = NULL, a->lead = NULL, a->pairmap = NULL, a->adj_start = NULL, a->adj = NULL;
	a->order = NULL, a->rorder = NULL, a->cres_start = NULL, a->cres = NULL, a->gone = NULL;
	a->viewed = NULL, a->free = NULL, a->taker = NULL, a->taker_lvl = NULL, a->cs = NULL;
	a->rf = NULL, a->rmark = NULL, a->dp_pred = NULL, a->dp_best = NULL;
}

void alloc_free(struct alloc *a)
{
	if (!a)
		return;
	alloc_free_scratch(a);
	free(a->plan.req), free(a->plan.rel), free(a->plan.view), free(a->plan.planned_use);
	free(a->grp), free(a->x), free(a->w), free(a->d), free(a->rcap), free(a->rw),
	        free(a->rlocal);
	free(a->tpath), free(a->tn);
	free(a);
}

const char *alloc_error(const struct alloc *a)
{
	return a ? a->err : "no controller";
}

int alloc_fail(struct alloc *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- helpers shared with alloc_fill.c ------------------------------------------------ */

uint64_t alloc_quantum(const struct alloc *a, int res)
{
	uint64_t q = a->p.quantum[a->in->res[res].kind];
	return q ? q : 1;
}

uint32_t alloc_path_lead(const struct alloc *a, size_t c, const int *hops, unsigned n)
{
	uint32_t lead = 0;
	int src = a->in->cls[c].src;
	for (unsigned h = 0; h < n; h++) {
		const struct alloc_resource *r = &a->in->res[hops[h]];
		uint32_t l = r->lead_s + (r->owner != src ? a->p.lease_lead_s : 0);
		if (l > lead)
			lead = l;
	}
	return lead;
}

/* ---- actions ------------------------------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static struct alloc_request *new_request(struct alloc *a)
{
	if (grow((void **)&a->plan.req, &a->cap_req, a->plan.n_req + 1, sizeof(*a->plan.req)))
		return NULL;
	struct alloc_request *r = &a->plan.req[a->plan.n_req++];
	memset(r, 0, offsetof(struct alloc_request, reason) + 1);
	return r;
}

static struct alloc_release *new_release(struct alloc *a, size_t j, enum alloc_release_why why,
                                         int by)
{
	if (grow((void **)&a->plan.rel, &a->cap_rel, a->plan.n_rel + 1, sizeof(*a->plan.rel)))
		return NULL;
	struct alloc_release *r = &a->plan.rel[a->plan.n_rel++];
	r->resv = j;
	r->cls = a->in->resv[j].cls;
	r->user = a->in->resv[j].user;
	r->why = why;
	r->by_cls = by;
	r->reason[0] = '\0';
	a->gone[j] = true;
	return r;
}

int alloc_grant(struct alloc *a, size_t c, const int *hops, unsigned n, uint64_t q, uint64_t wanted,
                bool transit, const char *why)
{
	const struct alloc_class *k = &a->in->cls[c];
	uint32_t lead = alloc_path_lead(a, c, hops, n);
	int64_t start = a->p.now + lead > a->bstart ? a->p.now + lead : a->bstart;
	if (q == 0 || start >= a->bend)
		return 0;
	struct alloc_request *r = new_request(a);
	if (!r)
		return -ENOMEM;
	r->cls = c;
	memcpy(r->hops, hops, n * sizeof(int));
	r->n_hops = n;
	r->quantity = q;
	r->start = start;
	r->end = a->bend;
	r->prio = (uint8_t)k->priority;
	r->transit = transit;
	for (unsigned h = 0; h < n; h++) {
		a->free[hops[h]] -= (int64_t)q;
		a->taker[hops[h]] = (int)c;
		a->taker_lvl[hops[h]] = (uint8_t)k->priority;
	}
	a->cs[c].cover += (int64_t)q;
	a->cs[c].granted += (int64_t)q;
	if (a->p.no_reasons)
		return 0;
	struct alloc_sb b;
	alloc_sb_init(&b, r->reason, sizeof(r->reason));
	alloc_sb_s(&b, alloc_need_text(a, c));
	alloc_sb_s(&b, ", held ");
	alloc_sb_qty(&b, k->kind, (double)a->cs[c].cover - (double)q);
	alloc_sb_s(&b, ": +");
	alloc_sb_qty(&b, k->kind, (double)q);
	if (q < wanted) {
		alloc_sb_s(&b, " of ");
		alloc_sb_qty(&b, k->kind, (double)wanted);
	}
	alloc_sb_s(&b, " on ");
	alloc_sb_path(&b, a, hops, n);
	alloc_sb_s(&b, " from ");
	alloc_sb_hm(&b, start);
	alloc_sb_s(&b, " (lead ");
	alloc_sb_dur(&b, lead);
	if (start > a->bstart && a->p.now > a->bstart - (int64_t)lead) {
		alloc_sb_s(&b, ", late: block starts ");
		alloc_sb_hm(&b, a->bstart);
	}
	alloc_sb_s(&b, ")");
	if (why && why[0]) {
		alloc_sb_s(&b, "; ");
		alloc_sb_s(&b, why);
	}
	return 0;
}

/* ---- needs --------------------------------------------------------------------------- */

double alloc_step_need(const struct alloc_class *c, size_t s)
{
	if (!c->fc || s >= c->fc->h)
		return 0.0;
	double q = demand_quantile(c->fc, s, c->slo_quantile);
	if (!isfinite(q) || q < 0)
		q = 0;
	return q * (1.0 + c->headroom);
}

/* Highest quantile of class c over the forecast steps overlapping [ws, we), or -1. */
static double peak_quantile(const struct alloc_class *k, int64_t ws, int64_t we)
{
	const struct demand_forecast *f = k->fc;
	double best = -1;
	if (!f || !f->h || !f->step_s || we <= f->origin_s || ws >= we)
		return -1;
	int64_t st = (int64_t)f->step_s;
	int64_t s0 = ws <= f->origin_s ? 0 : (ws - f->origin_s) / st;
	int64_t s1 = (we - f->origin_s + st - 1) / st - 1;
	if (s1 >= (int64_t)f->h)
		s1 = (int64_t)f->h - 1;
	for (int64_t i = s0; i <= s1; i++) {
		double q = demand_quantile(f, (size_t)i, k->slo_quantile);
		if (isfinite(q) && q > best)
			best = q;
	}
	return best;
}

/* SLO quantile over median of the forecast step holding t (1 when unknown), at most 10. */
static double nowcast_spread(const struct alloc_class *k, int64_t t)
{
	const struct demand_forecast *f = k->fc;
	if (!f || !f->h || !f->step_s || t < f->origin_s)
		return 1.0;
	size_t i = (size_t)((t - f->origin_s) / (int64_t)f->step_s);
	if (i >= f->h)
		return 1.0;
	double hi = demand_quantile(f, i, k->slo_quantile), mid = demand_quantile(f, i, 0.5);
	if (!(mid > 0) || !(hi > mid) || !isfinite(hi))
		return 1.0;
	return hi / mid < 10 ? hi / mid : 10;
}

static double clip(const struct alloc_class *k, double v)
{
	if (k->max_rate && v > (double)k->max_rate)
		v = (double)k->max_rate;
	return v < (double)k->min_rate ? (double)k->min_rate : v;
}

/* Need of class c over [ws, we) (what new leases starting at ws must cover), and over
 * [now, we) (what leases held now must keep covering: a release takes effect at once). */
static void class_need(struct alloc *a, size_t c, int64_t ws, int64_t we)
{
	const struct alloc_class *k = &a->in->cls[c];
	struct alloc_cs *s = &a->cs[c];
	int64_t from = a->p.now > a->bstart ? a->p.now : a->bstart;
	double best = peak_quantile(k, ws, we);
	double keep = from < ws ? peak_quantile(k, from, we) : best;
	s->clipped_min = s->clipped_max = false;
	if (best >= 0) {
		s->src = NEED_FORECAST;
		s->basis = best;
		s->quantile = best;
		s->need = best * (1.0 + k->headroom);
		s->need_keep = (keep > best ? keep : best) * (1.0 + k->headroom);
	} else if (k->measured >= 0 && isfinite(k->measured)) {
		s->src = NEED_MEASURED;
		s->basis = k->measured;
		s->quantile = -1;
		s->need = s->need_keep = k->measured * (1.0 + k->headroom);
	} else {
		s->src = NEED_MINRATE;
		s->basis = -1;
		s->quantile = -1;
		s->need = s->need_keep = 0;
	}
	/* The block in progress: demand measured above the forecast's SLO quantile says the
	 * forecast is wrong for the next minutes too. The need is then the measured rate with
	 * the forecast's own spread on top (SLO quantile / median of the step now), plus
	 * headroom: the forecast re-centred on what is seen. */
	if (s->src == NEED_FORECAST && !a->p.no_measured_floor && a->bstart <= a->p.now &&
	    k->measured >= 0 && isfinite(k->measured) && k->measured > s->quantile) {
		double spread = nowcast_spread(k, a->p.now);
		double nc = k->measured * spread * (1.0 + k->headroom);
		if (nc > s->need) {
			s->src = NEED_NOWCAST;
			s->basis = k->measured;
			s->spread = spread;
			s->need = nc;
			if (s->need_keep < s->need)
				s->need_keep = s->need;
		}
	}
	s->clipped_max = k->max_rate && s->need > (double)k->max_rate;
	s->clipped_min = s->src != NEED_MINRATE && s->need < (double)k->min_rate;
	s->need = clip(k, s->need);
	s->need_keep = clip(k, s->need_keep);
}

/* ---- one block ----------------------------------------------------------------------- */

static bool hops_fit(const struct alloc *a, const struct alloc_resv *v)
{
	for (unsigned h = 0; h < v->n_hops; h++)
		if (a->free[v->hops[h]] < (int64_t)v->quantity)
			return false;
	return true;
}

static void take(struct alloc *a, const struct alloc_resv *v, int64_t sign)
{
	for (unsigned h = 0; h < v->n_hops; h++)
		a->free[v->hops[h]] -= sign * (int64_t)v->quantity;
}

static void block_prepare(struct alloc *a)
{
	const struct alloc_input *in = a->in;
	int64_t horizon = (int64_t)a->p.period_s + (int64_t)a->p.lookahead_s;
	for (size_t c = 0; c < in->n_cls; c++) {
		struct alloc_cs *s = &a->cs[c];
		memset(s, 0, sizeof(*s));
		s->last_kept = -1;
		int64_t ready = a->p.now + (int64_t)a->lead[c];
		s->eff = ready > a->bstart ? ready : a->bstart;
		s->decide = a->bstart < ready + horizon && s->eff < a->bend;
		if (s->decide)
			class_need(a, c, s->eff, a->bend);
	}
	for (size_t r = 0; r < in->n_res; r++) {
		a->free[r] = (int64_t)in->res[r].capacity;
		a->taker[r] = -1;
		a->taker_lvl[r] = ALLOC_PRIO_LEVELS;
	}
	for (size_t j = 0; j < in->n_resv; j++) {
		const struct alloc_resv *v = &in->resv[j];
		uint8_t f = 0;
		if (!a->gone[j] && v->start < a->bend && v->end > a->bstart) {
			f |= RF_OVERLAP;
			/* It covers from the earliest a new lease could: on its own path, that
			 * is now + the path's lead (a transit lease booked late in the block in
			 * progress starts after a direct one could). */
			if (v->cls >= 0 && a->cs[v->cls].decide && v->end >= a->bend &&
			    (v->start <= a->cs[v->cls].eff ||
			     v->start <= a->p.now + (int64_t)alloc_path_lead(
			                                          a, (size_t)v->cls, v->hops, v->n_hops)))
				f |= RF_COVER;
			if (!v->fixed && v->cls >= 0 && v->start >= a->bstart && v->end <= a->bend)
				f |= RF_RELEASABLE;
		}
		a->rf[j] = f;
	}
	/* What each class keeps: fixed holdings, then its leases (direct first, oldest
	 * first) until the need is covered; the rest is surplus, decided at the end. */
	for (size_t c = 0; c < in->n_cls; c++) {
		struct alloc_cs *s = &a->cs[c];
		if (!s->decide)
			continue;
		for (size_t i = a->cres_start[c]; i < a->cres_start[c + 1]; i++) {
			size_t j = a->cres[i];
			if ((a->rf[j] & (RF_COVER | RF_RELEASABLE)) == RF_COVER)
				s->cover += (int64_t)in->resv[j].quantity;
		}
		s->held = s->cover;
		for (size_t i = a->cres_start[c]; i < a->cres_start[c + 1]; i++) {
			size_t j = a->cres[i];
			if ((a->rf[j] & (RF_COVER | RF_RELEASABLE)) != (RF_COVER | RF_RELEASABLE))
				continue;
			s->held += (int64_t)in->resv[j].quantity;
			if ((double)s->cover < s->need_keep) {
				s->cover += (int64_t)in->resv[j].quantity;
				s->last_kept = (int)j;
			} else {
				a->rf[j] |= RF_SURPLUS;
			}
		}
	}
}

static int preempt(struct alloc *a, size_t j, unsigned level)
{
	const struct alloc_resv *v = &a->in->resv[j];
	int by = -1, res = v->hops[0];
	for (unsigned h = 0; h < v->n_hops; h++)
		if (a->free[v->hops[h]] < (int64_t)v->quantity &&
		    a->taker_lvl[v->hops[h]] < level) {
			by = a->taker[v->hops[h]];
			res = v->hops[h];
			break;
		}
	struct alloc_release *r = new_release(a, j, ALLOC_PREEMPTED, by);
	if (!r)
		return -ENOMEM;
	if ((a->rf[j] & RF_COVER) && v->cls >= 0)
		a->cs[v->cls].cover -= (int64_t)v->quantity;
	if (a->p.no_reasons)
		return 0;
	char t0[16], t1[16], q[32];
	const struct alloc_class *b = by >= 0 ? &a->in->cls[by] : NULL;
	enum alloc_kind kind = a->in->res[res].kind;
	alloc_text(
	        r->reason, sizeof(r->reason),
	        "preempted in %s-%s: %s on %s needed by priority %u (%s), above hold priority %u",
	        alloc_fmt_hm(a->bstart, t0, sizeof(t0)), alloc_fmt_hm(a->bend, t1, sizeof(t1)),
	        alloc_fmt_qty(kind, (double)v->quantity, q, sizeof(q)),
	        a->in->res[res].name ? a->in->res[res].name : "?", b ? b->priority : 0,
	        b && b->name ? b->name : "?", v->hold_prio);
	return 0;
}

/* Floors of a level: reservations held at this hold priority keep their capacity unless a
 * higher level took it (then they are preempted). Overbooking that no higher level caused
 * (capacity lowered by a reload) is left alone. */
static int floors(struct alloc *a, unsigned level)
{
	for (size_t i = a->rlvl_start[level]; i < a->rlvl_start[level + 1]; i++) {
		size_t j = a->rorder[i];
		const struct alloc_resv *v = &a->in->resv[j];
		if (!(a->rf[j] & RF_OVERLAP) || (a->rf[j] & RF_SURPLUS) || a->gone[j])
			continue;
		if (!hops_fit(a, v)) {
			bool higher = false;
			for (unsigned h = 0; h < v->n_hops; h++)
				if (a->free[v->hops[h]] < (int64_t)v->quantity &&
				    a->taker_lvl[v->hops[h]] < level)
					higher = true;
			if (higher) {
				int rc = preempt(a, j, level);
				if (rc)
					return rc;
				continue;
			}
		}
		take(a, v, 1);
	}
	return 0;
}

/* Surplus: kept inside the hysteresis band when the capacity is free, released otherwise. */
static int surplus(struct alloc *a)
{
	const struct alloc_input *in = a->in;
	for (size_t i = 0; i < in->n_cls; i++) {
		size_t c = a->order[i];
		struct alloc_cs *s = &a->cs[c];
		if (!s->decide)
			continue;
		bool band = (double)s->held <= s->need_keep * (1.0 + a->p.release_above);
		for (size_t k = a->cres_start[c]; k < a->cres_start[c + 1]; k++) {
			size_t j = a->cres[k];
			if (!(a->rf[j] & RF_SURPLUS) || a->gone[j])
				continue;
			const struct alloc_resv *v = &in->resv[j];
			if (band && hops_fit(a, v)) {
				take(a, v, 1);
				s->cover += (int64_t)v->quantity;
				continue;
			}
			struct alloc_release *r =
			        new_release(a, j, band ? ALLOC_RECLAIM : ALLOC_SURPLUS, -1);
			if (!r)
				return -ENOMEM;
			if (in->params.no_reasons)
				continue;
			char t0[16], t1[16], h[32], n[32], q[32];
			const struct alloc_class *k2 = &in->cls[c];
			alloc_fmt_hm(a->bstart, t0, sizeof(t0));
			alloc_fmt_hm(a->bend, t1, sizeof(t1));
			alloc_fmt_qty(k2->kind, (double)s->held, h, sizeof(h));
			alloc_fmt_qty(k2->kind, s->need, n, sizeof(n));
			alloc_fmt_qty(k2->kind, (double)v->quantity, q, sizeof(q));
			if (band)
				alloc_text(r->reason, sizeof(r->reason),
				           "surplus in %s-%s: held %s, need %s; release %s: others "
				           "need "
				           "the capacity",
				           t0, t1, h, n, q);
			else
				alloc_text(r->reason, sizeof(r->reason),
				           "surplus in %s-%s: held %s > need %s x %g (p%g%s); "
				           "release %s",
				           t0, t1, h, n, 1.0 + a->p.release_above,
				           k2->slo_quantile * 100,
				           s->src == NEED_FORECAST ? " of the forecast" : "", q);
		}
	}
	return 0;
}

/* A kept lease that straddles the need and leaves the holding above the band is resized
 * (released, and requested again smaller) when the replacement can start at the same time. */
static int resize(struct alloc *a)
{
	const struct alloc_input *in = a->in;
	for (size_t c = 0; c < in->n_cls; c++) {
		struct alloc_cs *s = &a->cs[c];
		if (!s->decide || s->last_kept < 0 || a->gone[s->last_kept])
			continue;
		if ((double)s->cover <= s->need_keep * (1.0 + a->p.release_above))
			continue;
		size_t j = (size_t)s->last_kept;
		const struct alloc_resv *v = &in->resv[j];
		uint64_t qn = alloc_quantum(a, v->hops[0]);
		double rest = (double)s->cover - (double)v->quantity; /* without this lease */
		double want = s->need_keep - rest;
		uint64_t nq = want <= 0 ? 0 : (uint64_t)ceil(want / (double)qn) * qn;
		if (nq >= v->quantity)
			continue;
		uint32_t lead = alloc_path_lead(a, c, v->hops, v->n_hops);
		if (a->p.now + (int64_t)lead > v->start)
			continue; /* the replacement would start later: keep it */
		struct alloc_release *r = new_release(a, j, ALLOC_RESIZE, -1);
		if (!r)
			return -ENOMEM;
		take(a, v, -1);
		s->cover -= (int64_t)v->quantity;
		if (!in->params.no_reasons) {
			char t0[16], t1[16], o[32], n[32], nd[32];
			const struct alloc_class *k = &in->cls[c];
			alloc_text(r->reason, sizeof(r->reason),
			           "resize in %s-%s: %s -> %s, need %s x %g",
			           alloc_fmt_hm(a->bstart, t0, sizeof(t0)),
			           alloc_fmt_hm(a->bend, t1, sizeof(t1)),
			           alloc_fmt_qty(k->kind, (double)v->quantity, o, sizeof(o)),
			           alloc_fmt_qty(k->kind, (double)nq, n, sizeof(n)),
			           alloc_fmt_qty(k->kind, s->need, nd, sizeof(nd)),
			           1.0 + a->p.release_above);
		}
		if (nq) {
			int64_t saved_bstart = a->bstart;
			a->bstart = v->start; /* the replacement keeps the original start */
			size_t before = a->plan.n_req;
			int rc = alloc_grant(a, c, v->hops, v->n_hops, nq, nq,
			                     !(v->n_hops == 1 && v->hops[0] == a->direct[c]),
			                     "replaces a larger lease");
			a->bstart = saved_bstart;
			if (rc)
				return rc;
			if (a->plan.n_req > before)
				a->plan.req[before].replaces = true;
			s->granted -= (int64_t)nq; /* not new capacity for the view */
		}
	}
	return 0;
}

static void record_view(struct alloc *a)
{
	const struct alloc_input *in = a->in;
	for (size_t c = 0; c < in->n_cls; c++) {
		struct alloc_cs *s = &a->cs[c];
		struct alloc_class_view *w = &a->plan.view[c];
		if (!s->decide)
			continue;
		double short_by = s->need - (double)s->cover;
		if (short_by > w->short_by)
			w->short_by = short_by;
		if (a->viewed[c])
			continue;
		a->viewed[c] = true;
		w->need = s->need;
		w->quantile = s->quantile;
		w->need_start = a->bstart;
		w->planned = (double)s->cover;
		w->from_forecast = s->src == NEED_FORECAST || s->src == NEED_NOWCAST;
	}
	uint64_t *use = a->plan.planned_use + a->block * in->n_res;
	for (size_t r = 0; r < in->n_res; r++) {
		int64_t u = (int64_t)in->res[r].capacity - a->free[r];
		use[r] = u > 0 ? (uint64_t)u : 0;
	}
}

static int plan_block(struct alloc *a)
{
	int rc;
	block_prepare(a);
	for (unsigned level = 0; level < ALLOC_PRIO_LEVELS; level++) {
		if ((rc = floors(a, level)) || (rc = alloc_fill_level(a, level)))
			return rc;
	}
	if ((rc = surplus(a)) || (rc = resize(a)))
		return rc;
	record_view(a);
	return 0;
}

/* ---- the cycle ----------------------------------------------------------------------- */

int alloc_run(struct alloc *a, const struct alloc_input *in, const struct alloc_plan **out)
{
	int rc;
	if (!a || !in || !out)
		return -EINVAL;
	a->err[0] = '\0';
	*out = NULL;
	if ((rc = alloc_check_input(a, in)))
		return rc;
	a->in = in;
	a->p = in->params;
	if (!a->p.period_s)
		a->p.period_s = a->p.block_s;
	for (int k = 0; k < ALLOC_N_KINDS; k++)
		if (!a->p.quantum[k])
			a->p.quantum[k] = 1;
	if ((rc = alloc_setup(a, in))) {
		snprintf(a->err, sizeof(a->err), "out of memory");
		return rc;
	}
	/* Blocks: from the one holding now to the last any class must decide. */
	int64_t B = a->p.block_s;
	int64_t first = a->p.now >= 0 ? a->p.now / B * B : -((-a->p.now + B - 1) / B) * B;
	uint32_t maxlead = 0;
	for (size_t c = 0; c < in->n_cls; c++)
		if (a->lead[c] > maxlead)
			maxlead = a->lead[c];
	int64_t until = a->p.now + (int64_t)maxlead + a->p.period_s + a->p.lookahead_s;
	size_t nb = (size_t)((until - first + B - 1) / B);
	if (nb == 0)
		nb = 1;
	if (nb > ALLOC_MAX_BLOCKS) {
		alloc_fail(a, "%zu blocks of %" PRIu32 " s to plan: at most %d (raise block_s)", nb,
		           a->p.block_s, ALLOC_MAX_BLOCKS);
		return -E2BIG;
	}
	struct alloc_plan *pl = &a->plan;
	pl->n_req = pl->n_rel = 0;
	pl->n_cls = in->n_cls;
	pl->first_block = first;
	pl->n_blocks = nb;
	pl->last_block_end = first + (int64_t)nb * B;
	void *v = realloc(pl->view, (in->n_cls ? in->n_cls : 1) * sizeof(*pl->view));
	size_t nu = nb * in->n_res;
	void *u = realloc(pl->planned_use, (nu ? nu : 1) * sizeof(uint64_t));
	if (v)
		pl->view = v;
	if (u)
		pl->planned_use = u;
	if (!v || !u) {
		snprintf(a->err, sizeof(a->err), "out of memory");
		return -ENOMEM;
	}
	for (size_t c = 0; c < in->n_cls; c++) {
		struct alloc_class_view *w = &pl->view[c];
		memset(w, 0, sizeof(*w));
		w->need = w->quantile = -1;
		for (size_t i = a->cres_start[c]; i < a->cres_start[c + 1]; i++) {
			const struct alloc_resv *x = &in->resv[a->cres[i]];
			if (x->start <= a->p.now && x->end > a->p.now)
				w->held_now += (double)x->quantity;
		}
	}
	for (size_t b = 0; b < nb; b++) {
		a->block = b;
		a->bstart = first + (int64_t)b * B;
		a->bend = a->bstart + B;
		if ((rc = plan_block(a))) {
			snprintf(a->err, sizeof(a->err), "out of memory");
			return rc;
		}
	}
	*out = pl;
	return 0;
}

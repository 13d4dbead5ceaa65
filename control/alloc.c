/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc: one controller cycle (alloc.h, docs/alloc.md): input checks, the planning blocks,
 * needs from forecasts, what held leases keep, preemption of floors by higher levels,
 * surplus with hysteresis, resizes, the plan and the reasons. The filling of deficits
 * (water-filling, transit paths) is in alloc_fill.c.
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

#define MAX_REGIONS 4096

static const char *const kind_names[ALLOC_N_KINDS] = {"bandwidth", "vcpu", "memory", "storage"};

const char *alloc_kind_name(enum alloc_kind k)
{
	return (unsigned)k < ALLOC_N_KINDS ? kind_names[k] : "?";
}

const char *alloc_release_why_name(enum alloc_release_why w)
{
	switch (w) {
	case ALLOC_SURPLUS:
		return "surplus";
	case ALLOC_RESIZE:
		return "resize";
	case ALLOC_RECLAIM:
		return "reclaim";
	case ALLOC_PREEMPTED:
		return "preempted";
	}
	return "?";
}

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

static void free_scratch(struct alloc *a)
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
	free_scratch(a);
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

__attribute__((format(printf, 2, 3))) static int fail(struct alloc *a, const char *fmt, ...)
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

/* ---- formatting (reasons) ------------------------------------------------------------ */

/* snprintf that may truncate (reasons are for people; a cut one is still useful). */
__attribute__((format(printf, 3, 4))) static int text(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

/* Reasons are built for every action of every cycle (tens of thousands at scale), so the
 * pieces below avoid printf: a bounded string builder and integer formatting. */
struct sb {
	char *p;
	size_t len, cap;
};

static void sb_init(struct sb *b, char *buf, size_t cap)
{
	b->p = buf;
	b->len = 0;
	b->cap = cap;
	buf[0] = '\0';
}

static void sb_mem(struct sb *b, const char *s, size_t n)
{
	if (b->len + 1 >= b->cap)
		return;
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_s(struct sb *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static void sb_u(struct sb *b, uint64_t v)
{
	char t[24];
	size_t i = sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_mem(b, t + i, sizeof(t) - i);
}

/* Three significant digits, trailing zeros dropped: 2.31, 10.5, 123, 0.05. */
static void sb_num3(struct sb *b, double v)
{
	if (!(v >= 0) || !isfinite(v))
		v = 0;
	int dec = v >= 100 ? 0 : v >= 10 ? 1 : 2;
	uint64_t scale = dec == 0 ? 1 : dec == 1 ? 10 : 100;
	uint64_t x = (uint64_t)llround(v * (double)scale);
	sb_u(b, x / scale);
	uint64_t frac = x % scale;
	if (frac) {
		char t[4];
		int n = 0;
		if (dec == 2) {
			t[n++] = (char)('0' + frac / 10);
			if (frac % 10)
				t[n++] = (char)('0' + frac % 10);
		} else {
			t[n++] = (char)('0' + frac);
		}
		sb_mem(b, ".", 1);
		sb_mem(b, t, (size_t)n);
	}
}

static void sb_qty(struct sb *b, enum alloc_kind k, double v)
{
	static const char *const si[] = {"", "k", "M", "G", "T", "P"};
	static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	unsigned i = 0;
	if (v < 0 || !isfinite(v))
		v = 0;
	switch (k) {
	case ALLOC_BANDWIDTH:
		while (v >= 999.5 && i < 5)
			v /= 1000, i++;
		sb_num3(b, v);
		sb_s(b, si[i]);
		sb_s(b, "bit/s");
		break;
	case ALLOC_VCPU:
		sb_u(b, (uint64_t)ceil(v));
		sb_s(b, " vCPU");
		break;
	default:
		while (v >= 1023.5 && i < 5)
			v /= 1024, i++;
		sb_num3(b, v);
		sb_s(b, bin[i]);
		break;
	}
}

static void sb_hm(struct sb *b, int64_t t)
{
	int64_t d = t % 86400;
	if (d < 0)
		d += 86400;
	char x[6] = {(char)('0' + d / 36000),      (char)('0' + d / 3600 % 10),      ':',
	             (char)('0' + d % 3600 / 600), (char)('0' + d % 3600 / 60 % 10), 'Z'};
	sb_mem(b, x, sizeof(x));
}

/* "1h30m", "15m", "0s", "2d" */
static void sb_dur(struct sb *b, uint32_t s)
{
	static const struct {
		uint32_t n;
		char u;
	} parts[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	if (!s) {
		sb_s(b, "0s");
		return;
	}
	for (size_t i = 0; i < 4; i++)
		if (s >= parts[i].n) {
			sb_u(b, s / parts[i].n);
			sb_mem(b, &parts[i].u, 1);
			s %= parts[i].n;
		}
}

char *alloc_fmt_qty(enum alloc_kind k, double v, char *buf, size_t len)
{
	struct sb b;
	sb_init(&b, buf, len);
	sb_qty(&b, k, v);
	return buf;
}

static char *fmt_hm(int64_t t, char *buf, size_t len)
{
	struct sb b;
	sb_init(&b, buf, len);
	sb_hm(&b, t);
	return buf;
}

/* "need 2.31Gbit/s in 11:00Z-12:00Z (p95 2.1Gbit/s +10% headroom)", built once per class
 * and block. */
static const char *need_text(struct alloc *a, size_t c)
{
	const struct alloc_class *k = &a->in->cls[c];
	struct alloc_cs *s = &a->cs[c];
	if (s->need_txt[0])
		return s->need_txt;
	struct sb b;
	sb_init(&b, s->need_txt, sizeof(s->need_txt));
	sb_s(&b, "need ");
	sb_qty(&b, k->kind, s->need);
	sb_s(&b, " in ");
	sb_hm(&b, a->bstart);
	sb_s(&b, "-");
	sb_hm(&b, a->bend);
	switch (s->src) {
	case NEED_FORECAST:
		sb_s(&b, " (p");
		sb_num3(&b, k->slo_quantile * 100);
		sb_s(&b, " ");
		sb_qty(&b, k->kind, s->basis);
		break;
	case NEED_MEASURED:
		sb_s(&b, " (no forecast: measured ");
		sb_qty(&b, k->kind, s->basis);
		break;
	case NEED_NOWCAST:
		sb_s(&b, " (measured ");
		sb_qty(&b, k->kind, s->basis);
		sb_s(&b, " now x ");
		sb_num3(&b, s->spread);
		sb_s(&b, " spread of the forecast, above its p");
		sb_num3(&b, k->slo_quantile * 100);
		sb_s(&b, " ");
		sb_qty(&b, k->kind, s->quantile);
		break;
	default:
		sb_s(&b, " (no forecast or measurement: min_rate");
		break;
	}
	if (k->headroom > 0 && s->src != NEED_MINRATE) {
		sb_s(&b, " +");
		sb_num3(&b, k->headroom * 100);
		sb_s(&b, "% headroom");
	}
	if (s->clipped_max)
		sb_s(&b, ", clipped to max_rate");
	else if (s->clipped_min)
		sb_s(&b, ", raised to min_rate");
	sb_s(&b, ")");
	return s->need_txt;
}

static void sb_path(struct sb *b, const struct alloc *a, const int *hops, unsigned n)
{
	for (unsigned h = 0; h < n; h++) {
		if (h)
			sb_s(b, ", ");
		sb_s(b, a->in->res[hops[h]].name ? a->in->res[hops[h]].name : "?");
	}
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
	struct sb b;
	sb_init(&b, r->reason, sizeof(r->reason));
	sb_s(&b, need_text(a, c));
	sb_s(&b, ", held ");
	sb_qty(&b, k->kind, (double)a->cs[c].cover - (double)q);
	sb_s(&b, ": +");
	sb_qty(&b, k->kind, (double)q);
	if (q < wanted) {
		sb_s(&b, " of ");
		sb_qty(&b, k->kind, (double)wanted);
	}
	sb_s(&b, " on ");
	sb_path(&b, a, hops, n);
	sb_s(&b, " from ");
	sb_hm(&b, start);
	sb_s(&b, " (lead ");
	sb_dur(&b, lead);
	if (start > a->bstart && a->p.now > a->bstart - (int64_t)lead) {
		sb_s(&b, ", late: block starts ");
		sb_hm(&b, a->bstart);
	}
	sb_s(&b, ")");
	if (why && why[0]) {
		sb_s(&b, "; ");
		sb_s(&b, why);
	}
	return 0;
}

/* ---- input checks -------------------------------------------------------------------- */

static int check_input(struct alloc *a, const struct alloc_input *in)
{
	const struct alloc_params *p = &in->params;
	if (!p->block_s)
		return fail(a, "params.block_s must be at least 1 s");
	if (!(p->release_above >= 0) || !isfinite(p->release_above))
		return fail(a, "params.release_above must be a fraction >= 0");
	if (p->max_hops < 1 || p->max_hops > ALLOC_MAX_HOPS)
		return fail(a, "params.max_hops must be 1..%d", ALLOC_MAX_HOPS);
	if (in->n_regions > MAX_REGIONS)
		return fail(a, "%zu regions: at most %d", in->n_regions, MAX_REGIONS);
	if ((in->n_res && !in->res) || (in->n_cls && !in->cls) || (in->n_resv && !in->resv))
		return fail(a, "input array missing");
	for (size_t r = 0; r < in->n_res; r++) {
		const struct alloc_resource *x = &in->res[r];
		const char *nm = x->name ? x->name : "?";
		if ((unsigned)x->kind >= ALLOC_N_KINDS)
			return fail(a, "resource %zu (%s): unknown kind", r, nm);
		if (x->owner < 0 || (size_t)x->owner >= in->n_regions)
			return fail(a, "resource %zu (%s): owner region %d out of range", r, nm,
			            x->owner);
		if (x->kind == ALLOC_BANDWIDTH &&
		    (x->to < 0 || (size_t)x->to >= in->n_regions || x->to == x->owner))
			return fail(a,
			            "resource %zu (%s): a link needs a far-end region other than "
			            "its owner",
			            r, nm);
		if (x->capacity > INT64_MAX / 2)
			return fail(a, "resource %zu (%s): capacity too large", r, nm);
	}
	for (size_t c = 0; c < in->n_cls; c++) {
		const struct alloc_class *k = &in->cls[c];
		const char *nm = k->name ? k->name : "?";
		if ((unsigned)k->kind >= ALLOC_N_KINDS)
			return fail(a, "class %zu (%s): unknown kind", c, nm);
		if (k->src < 0 || (size_t)k->src >= in->n_regions)
			return fail(a, "class %zu (%s): source region out of range", c, nm);
		if (k->kind == ALLOC_BANDWIDTH &&
		    (k->dst < 0 || (size_t)k->dst >= in->n_regions || k->dst == k->src))
			return fail(a,
			            "class %zu (%s): destination region missing or equal to the "
			            "source",
			            c, nm);
		if (k->priority >= ALLOC_PRIO_LEVELS)
			return fail(a, "class %zu (%s): priority %u, must be 0..7", c, nm,
			            k->priority);
		if (!(k->slo_quantile > 0 && k->slo_quantile < 1))
			return fail(a, "class %zu (%s): slo_quantile must be in (0, 1)", c, nm);
		if (!(k->headroom >= 0) || !isfinite(k->headroom))
			return fail(a, "class %zu (%s): headroom must be >= 0", c, nm);
		if (!(k->weight >= 0) || !isfinite(k->weight))
			return fail(a, "class %zu (%s): weight must be >= 0", c, nm);
		if (k->max_rate && k->max_rate < k->min_rate)
			return fail(a, "class %zu (%s): max_rate below min_rate", c, nm);
		if (k->fc && k->fc->h &&
		    (!k->fc->step_s || !k->fc->n_levels || !k->fc->q || !k->fc->levels))
			return fail(a, "class %zu (%s): forecast without steps or levels", c, nm);
	}
	for (size_t j = 0; j < in->n_resv; j++) {
		const struct alloc_resv *v = &in->resv[j];
		if (v->cls < -1 || (v->cls >= 0 && (size_t)v->cls >= in->n_cls))
			return fail(a, "reservation %zu: class %d out of range", j, v->cls);
		if (v->n_hops < 1 || v->n_hops > ALLOC_MAX_HOPS)
			return fail(a, "reservation %zu: %u hops, must be 1..%d", j, v->n_hops,
			            ALLOC_MAX_HOPS);
		for (unsigned h = 0; h < v->n_hops; h++)
			if (v->hops[h] < 0 || (size_t)v->hops[h] >= in->n_res)
				return fail(a, "reservation %zu: hop %u names no resource", j, h);
		if (!v->quantity || v->start >= v->end)
			return fail(a, "reservation %zu: empty (quantity 0 or start >= end)", j);
		if (v->hold_prio >= ALLOC_PRIO_LEVELS)
			return fail(a, "reservation %zu: hold priority %u, must be 0..7", j,
			            v->hold_prio);
	}
	return 0;
}

/* ---- per run setup ------------------------------------------------------------------- */

static void *zalloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}
#define ALLOCN(ptr, n) ((ptr) = zalloc((n), sizeof(*(ptr))))

static int setup(struct alloc *a, const struct alloc_input *in)
{
	size_t nr = in->n_regions, nres = in->n_res, nc = in->n_cls, nv = in->n_resv;
	free_scratch(a);
	if (!ALLOCN(a->direct, nc) || !ALLOCN(a->lead, nc) || !ALLOCN(a->pairmap, nr * nr) ||
	    !ALLOCN(a->adj_start, nr + 1) || !ALLOCN(a->adj, nres) || !ALLOCN(a->order, nc) ||
	    !ALLOCN(a->rorder, nv) || !ALLOCN(a->cres_start, nc + 1) || !ALLOCN(a->cres, nv) ||
	    !ALLOCN(a->gone, nv) || !ALLOCN(a->viewed, nc) || !ALLOCN(a->free, nres) ||
	    !ALLOCN(a->taker, nres) || !ALLOCN(a->taker_lvl, nres) || !ALLOCN(a->cs, nc) ||
	    !ALLOCN(a->rf, nv) || !ALLOCN(a->rmark, nres) ||
	    !ALLOCN(a->dp_pred, (size_t)(ALLOC_MAX_HOPS + 1) * nr) ||
	    !ALLOCN(a->dp_best, (size_t)(ALLOC_MAX_HOPS + 1) * nr))
		return -ENOMEM;
	for (size_t i = 0; i < nr * nr; i++)
		a->pairmap[i] = -1;
	for (size_t r = 0; r < nres; r++) {
		const struct alloc_resource *x = &in->res[r];
		a->rmark[r] = -1;
		if (x->kind != ALLOC_BANDWIDTH)
			continue;
		size_t key = (size_t)x->owner * nr + (size_t)x->to;
		if (a->pairmap[key] < 0)
			a->pairmap[key] = (int)r;
		a->adj_start[x->owner + 1]++;
	}
	for (size_t i = 0; i < nr; i++)
		a->adj_start[i + 1] += a->adj_start[i];
	{
		size_t *fill = calloc(nr ? nr : 1, sizeof(size_t));
		if (!fill)
			return -ENOMEM;
		for (size_t r = 0; r < nres; r++) {
			const struct alloc_resource *x = &in->res[r];
			if (x->kind == ALLOC_BANDWIDTH)
				a->adj[a->adj_start[x->owner] + fill[x->owner]++] = (int)r;
		}
		free(fill);
	}
	/* Direct resource and its lead per class. */
	for (size_t c = 0; c < nc; c++) {
		const struct alloc_class *k = &in->cls[c];
		int d = -1;
		if (k->kind == ALLOC_BANDWIDTH) {
			d = a->pairmap[(size_t)k->src * nr + (size_t)k->dst];
		} else {
			for (size_t r = 0; r < nres && d < 0; r++)
				if (in->res[r].kind == k->kind && in->res[r].owner == k->src)
					d = (int)r;
		}
		a->direct[c] = d;
		a->lead[c] = d >= 0 ? alloc_path_lead(a, c, &d, 1) : 0;
		if (d < 0) {
			/* No direct resource: the class can only use paths through others. */
			uint32_t l = 0;
			for (size_t r = 0; r < nres; r++)
				if (in->res[r].kind == k->kind && in->res[r].lead_s > l)
					l = in->res[r].lead_s;
			a->lead[c] = l + a->p.lease_lead_s;
		}
	}
	/* Classes by (priority, direct resource): two stable counting sorts. */
	{
		size_t *tmp = malloc((nc ? nc : 1) * sizeof(size_t));
		size_t *cnt = calloc(nres + 2, sizeof(size_t));
		if (!tmp || !cnt) {
			free(tmp), free(cnt);
			return -ENOMEM;
		}
		for (size_t c = 0; c < nc; c++)
			cnt[a->direct[c] + 2]++;
		for (size_t i = 1; i < nres + 2; i++)
			cnt[i] += cnt[i - 1];
		for (size_t c = 0; c < nc; c++)
			tmp[cnt[a->direct[c] + 1]++] = c;
		size_t lc[ALLOC_PRIO_LEVELS + 1] = {0};
		for (size_t c = 0; c < nc; c++)
			lc[in->cls[c].priority + 1]++;
		for (int i = 1; i <= ALLOC_PRIO_LEVELS; i++)
			lc[i] += lc[i - 1];
		memcpy(a->lvl_start, lc, sizeof(lc));
		for (size_t i = 0; i < nc; i++)
			a->order[lc[in->cls[tmp[i]].priority]++] = tmp[i];
		free(tmp), free(cnt);
	}
	/* Reservations by hold priority, and per class (direct ones first). */
	{
		size_t lc[ALLOC_PRIO_LEVELS + 1] = {0};
		for (size_t j = 0; j < nv; j++)
			lc[in->resv[j].hold_prio + 1]++;
		for (int i = 1; i <= ALLOC_PRIO_LEVELS; i++)
			lc[i] += lc[i - 1];
		memcpy(a->rlvl_start, lc, sizeof(lc));
		for (size_t j = 0; j < nv; j++)
			a->rorder[lc[in->resv[j].hold_prio]++] = j;
		for (size_t j = 0; j < nv; j++)
			if (in->resv[j].cls >= 0)
				a->cres_start[in->resv[j].cls + 1]++;
		for (size_t c = 0; c < nc; c++)
			a->cres_start[c + 1] += a->cres_start[c];
		size_t *fill = calloc(nc ? nc : 1, sizeof(size_t));
		if (!fill)
			return -ENOMEM;
		for (int pass = 0; pass < 2; pass++)
			for (size_t j = 0; j < nv; j++) {
				const struct alloc_resv *v = &in->resv[j];
				if (v->cls < 0)
					continue;
				bool dir = v->n_hops == 1 && v->hops[0] == a->direct[v->cls];
				if (dir != (pass == 0))
					continue;
				a->cres[a->cres_start[v->cls] + fill[v->cls]++] = j;
			}
		free(fill);
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
			if (v->cls >= 0 && a->cs[v->cls].decide && v->start <= a->cs[v->cls].eff &&
			    v->end >= a->bend)
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
	text(r->reason, sizeof(r->reason),
	     "preempted in %s-%s: %s on %s needed by priority %u (%s), above hold priority %u",
	     fmt_hm(a->bstart, t0, sizeof(t0)), fmt_hm(a->bend, t1, sizeof(t1)),
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
			fmt_hm(a->bstart, t0, sizeof(t0));
			fmt_hm(a->bend, t1, sizeof(t1));
			alloc_fmt_qty(k2->kind, (double)s->held, h, sizeof(h));
			alloc_fmt_qty(k2->kind, s->need, n, sizeof(n));
			alloc_fmt_qty(k2->kind, (double)v->quantity, q, sizeof(q));
			if (band)
				text(r->reason, sizeof(r->reason),
				     "surplus in %s-%s: held %s, need %s; release %s: others need "
				     "the capacity",
				     t0, t1, h, n, q);
			else
				text(r->reason, sizeof(r->reason),
				     "surplus in %s-%s: held %s > need %s x %g (p%g%s); release %s",
				     t0, t1, h, n, 1.0 + a->p.release_above, k2->slo_quantile * 100,
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
			text(r->reason, sizeof(r->reason),
			     "resize in %s-%s: %s -> %s, need %s x %g",
			     fmt_hm(a->bstart, t0, sizeof(t0)), fmt_hm(a->bend, t1, sizeof(t1)),
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
	if ((rc = check_input(a, in)))
		return rc;
	a->in = in;
	a->p = in->params;
	if (!a->p.period_s)
		a->p.period_s = a->p.block_s;
	for (int k = 0; k < ALLOC_N_KINDS; k++)
		if (!a->p.quantum[k])
			a->p.quantum[k] = 1;
	if ((rc = setup(a, in))) {
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
		fail(a, "%zu blocks of %" PRIu32 " s to plan: at most %d (raise block_s)", nb,
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

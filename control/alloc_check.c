/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_check: what a cycle does before planning: the input's checks (each refusal names
 * the field) and the per-run indexes (direct resources and leads, links by region pair,
 * classes by priority and direct resource, reservations by hold priority and by class).
 *
 * Pure; the indexes belong to struct alloc.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_int.h"

#define MAX_REGIONS 4096 /* the region-pair index is MAX_REGIONS^2 ints at most */

/* ---- input checks -------------------------------------------------------------------- */

int alloc_check_input(struct alloc *a, const struct alloc_input *in)
{
	const struct alloc_params *p = &in->params;
	if (!p->block_s)
		return alloc_fail(a, "params.block_s must be at least 1 s");
	if (!(p->release_above >= 0) || !isfinite(p->release_above))
		return alloc_fail(a, "params.release_above must be a fraction >= 0");
	if (p->max_hops < 1 || p->max_hops > ALLOC_MAX_HOPS)
		return alloc_fail(a, "params.max_hops must be 1..%d", ALLOC_MAX_HOPS);
	if (in->n_regions > MAX_REGIONS)
		return alloc_fail(a, "%zu regions: at most %d", in->n_regions, MAX_REGIONS);
	if ((in->n_res && !in->res) || (in->n_cls && !in->cls) || (in->n_resv && !in->resv))
		return alloc_fail(a, "input array missing");
	for (size_t r = 0; r < in->n_res; r++) {
		const struct alloc_resource *x = &in->res[r];
		const char *nm = x->name ? x->name : "?";
		if ((unsigned)x->kind >= ALLOC_N_KINDS)
			return alloc_fail(a, "resource %zu (%s): unknown kind", r, nm);
		if (x->owner < 0 || (size_t)x->owner >= in->n_regions)
			return alloc_fail(a, "resource %zu (%s): owner region %d out of range", r,
			                  nm, x->owner);
		if (x->kind == ALLOC_BANDWIDTH &&
		    (x->to < 0 || (size_t)x->to >= in->n_regions || x->to == x->owner))
			return alloc_fail(
			        a,
			        "resource %zu (%s): a link needs a far-end region other than "
			        "its owner",
			        r, nm);
		if (x->capacity > INT64_MAX / 2)
			return alloc_fail(a, "resource %zu (%s): capacity too large", r, nm);
	}
	for (size_t c = 0; c < in->n_cls; c++) {
		const struct alloc_class *k = &in->cls[c];
		const char *nm = k->name ? k->name : "?";
		if ((unsigned)k->kind >= ALLOC_N_KINDS)
			return alloc_fail(a, "class %zu (%s): unknown kind", c, nm);
		if (k->src < 0 || (size_t)k->src >= in->n_regions)
			return alloc_fail(a, "class %zu (%s): source region out of range", c, nm);
		if (k->kind == ALLOC_BANDWIDTH &&
		    (k->dst < 0 || (size_t)k->dst >= in->n_regions || k->dst == k->src))
			return alloc_fail(
			        a,
			        "class %zu (%s): destination region missing or equal to the "
			        "source",
			        c, nm);
		if (k->priority >= ALLOC_PRIO_LEVELS)
			return alloc_fail(a, "class %zu (%s): priority %u, must be 0..7", c, nm,
			                  k->priority);
		if (!(k->slo_quantile > 0 && k->slo_quantile < 1))
			return alloc_fail(a, "class %zu (%s): slo_quantile must be in (0, 1)", c,
			                  nm);
		if (!(k->headroom >= 0) || !isfinite(k->headroom))
			return alloc_fail(a, "class %zu (%s): headroom must be >= 0", c, nm);
		if (!(k->weight >= 0) || !isfinite(k->weight))
			return alloc_fail(a, "class %zu (%s): weight must be >= 0", c, nm);
		if (k->max_rate && k->max_rate < k->min_rate)
			return alloc_fail(a, "class %zu (%s): max_rate below min_rate", c, nm);
		if (k->fc && k->fc->h &&
		    (!k->fc->step_s || !k->fc->n_levels || !k->fc->q || !k->fc->levels))
			return alloc_fail(a, "class %zu (%s): forecast without steps or levels", c,
			                  nm);
	}
	for (size_t j = 0; j < in->n_resv; j++) {
		const struct alloc_resv *v = &in->resv[j];
		if (v->cls < -1 || (v->cls >= 0 && (size_t)v->cls >= in->n_cls))
			return alloc_fail(a, "reservation %zu: class %d out of range", j, v->cls);
		if (v->n_hops < 1 || v->n_hops > ALLOC_MAX_HOPS)
			return alloc_fail(a, "reservation %zu: %u hops, must be 1..%d", j,
			                  v->n_hops, ALLOC_MAX_HOPS);
		for (unsigned h = 0; h < v->n_hops; h++)
			if (v->hops[h] < 0 || (size_t)v->hops[h] >= in->n_res)
				return alloc_fail(a, "reservation %zu: hop %u names no resource", j,
				                  h);
		if (!v->quantity || v->start >= v->end)
			return alloc_fail(a, "reservation %zu: empty (quantity 0 or start >= end)",
			                  j);
		if (v->hold_prio >= ALLOC_PRIO_LEVELS)
			return alloc_fail(a, "reservation %zu: hold priority %u, must be 0..7", j,
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

int alloc_setup(struct alloc *a, const struct alloc_input *in)
{
	size_t nr = in->n_regions, nres = in->n_res, nc = in->n_cls, nv = in->n_resv;
	alloc_free_scratch(a);
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

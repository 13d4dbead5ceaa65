/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_fill: how the controller covers the deficits of one priority level in one block.
 *
 * Direct first: the classes sharing a direct resource get its free capacity by weighted
 * max-min fairness (water-filling: every class gets min(deficit, weight x lambda), lambda
 * raised until the capacity is used up), in whole quanta. Then transit: each class still
 * short gets the path with the fewest hops whose every hop has unreserved capacity (widest
 * of those; a path that covers the whole deficit preferred), and the classes on transit
 * paths share by progressive filling (max-min over several resources, as in BwE/SWAN).
 * Pools use other regions' pools of the same kind as their "transit".
 *
 * Pure; the scratch arrays belong to struct alloc.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_int.h"

static int scratch(struct alloc *a)
{
	size_t n = a->in->n_cls ? a->in->n_cls : 1;
	size_t nr = a->in->n_res ? a->in->n_res : 1;
	if (a->cap_grp < n) {
		free(a->grp), free(a->x), free(a->w), free(a->d), free(a->tpath), free(a->tn);
		a->grp = malloc(n * sizeof(*a->grp));
		a->x = malloc(n * sizeof(double));
		a->w = malloc(n * sizeof(double));
		a->d = malloc(n * sizeof(double));
		a->tpath = malloc(n * ALLOC_MAX_HOPS * sizeof(int));
		a->tn = malloc(n * sizeof(unsigned));
		a->cap_grp = n;
		if (!a->grp || !a->x || !a->w || !a->d || !a->tpath || !a->tn) {
			a->cap_grp = 0;
			return -ENOMEM;
		}
	}
	if (a->cap_rres < nr) {
		free(a->rcap), free(a->rw), free(a->rlocal);
		a->rcap = malloc(nr * sizeof(double));
		a->rw = malloc(nr * sizeof(double));
		a->rlocal = malloc(nr * sizeof(int));
		a->cap_rres = nr;
		if (!a->rcap || !a->rw || !a->rlocal) {
			a->cap_rres = 0;
			return -ENOMEM;
		}
	}
	return 0;
}

static double weight_of(const struct alloc_class *k)
{
	return k->weight > 0 ? k->weight : 1.0;
}

/* Deficit of class c in quanta of qn (0 when covered). */
static double deficit_q(const struct alloc *a, size_t c, uint64_t qn)
{
	const struct alloc_cs *s = &a->cs[c];
	double d = s->need - (double)s->cover;
	if (d <= 0)
		return 0;
	return ceil(d / (double)qn - 1e-9);
}

struct ratio {
	double r;
	size_t i;
};

static int cmp_ratio(const void *x, const void *y)
{
	const struct ratio *p = x, *q = y;
	return p->r < q->r ? -1 : p->r > q->r ? 1 : (p->i < q->i ? -1 : p->i > q->i);
}

/* Weighted max-min of avail quanta over n demands d[] with weights w[]: writes x[]. */
static int waterfill(const double *d, const double *w, size_t n, double avail, double *x)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += d[i];
	if (sum <= avail) {
		memcpy(x, d, n * sizeof(double));
		return 0;
	}
	struct ratio *o = malloc(n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	double W = 0;
	for (size_t i = 0; i < n; i++) {
		o[i].r = d[i] / w[i];
		o[i].i = i;
		W += w[i];
	}
	qsort(o, n, sizeof(*o), cmp_ratio);
	double rem = avail;
	size_t k = 0;
	for (; k < n; k++) {
		size_t i = o[k].i;
		if (W <= 0 || d[i] > w[i] * rem / W)
			break;
		x[i] = d[i];
		rem -= d[i];
		W -= w[i];
	}
	double lambda = W > 0 ? rem / W : 0;
	for (; k < n; k++)
		x[o[k].i] = w[o[k].i] * lambda;
	/* Whole quanta: round down, then hand out what is left one quantum at a time to the
	 * classes furthest below their share. */
	double used = 0;
	for (size_t i = 0; i < n; i++) {
		double f = floor(x[i] + 1e-9);
		o[i].r = -(x[i] - f); /* largest remainder first */
		o[i].i = i;
		x[i] = f;
		used += f;
	}
	qsort(o, n, sizeof(*o), cmp_ratio);
	double left = floor(avail - used + 1e-9);
	for (size_t k2 = 0; k2 < n && left >= 1; k2++) {
		size_t i = o[k2].i;
		if (x[i] + 1 <= d[i]) {
			x[i] += 1;
			left -= 1;
		}
	}
	free(o);
	return 0;
}

static int fill_direct(struct alloc *a, int r, size_t i0, size_t i1, unsigned level)
{
	uint64_t qn = alloc_quantum(a, r);
	size_t n = 0;
	double total = 0;
	for (size_t i = i0; i < i1; i++) {
		size_t c = a->order[i];
		if (!a->cs[c].decide)
			continue;
		double d = deficit_q(a, c, qn);
		if (d <= 0)
			continue;
		a->grp[n] = c;
		a->d[n] = d;
		a->w[n] = weight_of(&a->in->cls[c]);
		total += d;
		n++;
	}
	if (!n)
		return 0;
	double avail = a->free[r] > 0 ? floor((double)a->free[r] / (double)qn) : 0;
	int rc = waterfill(a->d, a->w, n, avail, a->x);
	if (rc)
		return rc;
	char why[192] = "";
	const char *name = a->in->res[r].name ? a->in->res[r].name : "?";
	enum alloc_kind kind = a->in->res[r].kind;
	if (total > avail && !a->p.no_reasons) {
		char w[32], f[32];
		alloc_text(
		        why, sizeof(why),
		        "%s full: weighted fair share among %zu classes of priority %u (they want "
		        "%s more, %s free)",
		        name, n, level, alloc_fmt_qty(kind, total * (double)qn, w, sizeof(w)),
		        alloc_fmt_qty(kind, avail * (double)qn, f, sizeof(f)));
	}
	for (size_t k = 0; k < n; k++) {
		size_t c = a->grp[k];
		if (a->x[k] < a->d[k])
			a->cs[c].short_direct = true;
		uint64_t q = (uint64_t)a->x[k] * qn;
		if (q && (rc = alloc_grant(a, c, &r, 1, q, (uint64_t)a->d[k] * qn, false,
		                           a->x[k] < a->d[k] ? why : NULL)))
			return rc;
	}
	return 0;
}

/* ---- transit ------------------------------------------------------------------------- */

static int64_t avail_of(const struct alloc *a, int r)
{
	return a->free[r] > 0 ? a->free[r] : 0;
}

/* Is path p better than the best so far? Covering the deficit beats not covering it; then
 * fewer hops; then a wider bottleneck. */
static bool better(int64_t bw, unsigned hops, int64_t best_bw, unsigned best_hops, int64_t need)
{
	if (best_hops == 0)
		return true;
	bool cov = bw >= need, bcov = best_bw >= need;
	if (cov != bcov)
		return cov;
	if (cov && hops != best_hops)
		return hops < best_hops;
	if (bw != best_bw)
		return bw > best_bw;
	return hops < best_hops;
}

/* Widest paths of 3..max_hops hops by dynamic programming over hop counts. */
static void dp_paths(struct alloc *a, size_t c, int64_t need, int64_t qn, int *best,
                     unsigned *best_n, int64_t *best_bw)
{
	const struct alloc_input *in = a->in;
	size_t nr = in->n_regions;
	int src = in->cls[c].src, dst = in->cls[c].dst;
	unsigned H = a->p.max_hops;
	for (size_t i = 0; i < (size_t)(H + 1) * nr; i++) {
		a->dp_best[i] = -1;
		a->dp_pred[i] = -1;
	}
	a->dp_best[src] = INT64_MAX;
	for (unsigned h = 1; h <= H; h++) {
		int64_t *prev = a->dp_best + (size_t)(h - 1) * nr,
		        *cur = a->dp_best + (size_t)h * nr;
		int *pred = a->dp_pred + (size_t)h * nr;
		for (size_t u = 0; u < nr; u++) {
			if (prev[u] <= 0 || ((int)u == dst && h > 1))
				continue;
			for (size_t e = a->adj_start[u]; e < a->adj_start[u + 1]; e++) {
				int r = a->adj[e];
				int v = in->res[r].to;
				int64_t f = avail_of(a, r);
				if (v == src || f < qn)
					continue;
				int64_t b = f < prev[u] ? f : prev[u];
				if (b > cur[v]) {
					cur[v] = b;
					pred[v] = r;
				}
			}
		}
		if (h < 3 || cur[dst] <= 0)
			continue;
		/* Walk back; refuse walks that visit a region twice. */
		int hops[ALLOC_MAX_HOPS];
		int v = dst;
		bool ok = true;
		for (unsigned k = h; k >= 1; k--) {
			int r = a->dp_pred[(size_t)k * nr + (size_t)v];
			if (r < 0) {
				ok = false;
				break;
			}
			hops[k - 1] = r;
			v = in->res[r].owner;
		}
		if (!ok || v != src)
			continue;
		for (unsigned x = 0; x < h && ok; x++)
			for (unsigned y = x + 1; y < h; y++)
				if (in->res[hops[x]].owner == in->res[hops[y]].owner)
					ok = false;
		if (ok && better(cur[dst], h, *best_bw, *best_n, need)) {
			memcpy(best, hops, h * sizeof(int));
			*best_n = h;
			*best_bw = cur[dst];
		}
	}
}

/* The path for class c's deficit (in base units), other than its direct resource. */
static unsigned find_path(struct alloc *a, size_t c, int64_t need, int *hops)
{
	const struct alloc_input *in = a->in;
	const struct alloc_class *k = &in->cls[c];
	unsigned best_n = 0;
	int64_t best_bw = 0;
	if (k->kind != ALLOC_BANDWIDTH) {
		for (size_t r = 0; r < in->n_res; r++) {
			const struct alloc_resource *x = &in->res[r];
			if (x->kind != k->kind || (int)r == a->direct[c] ||
			    avail_of(a, (int)r) < (int64_t)alloc_quantum(a, (int)r))
				continue;
			if (better(avail_of(a, (int)r), 1, best_bw, best_n, need)) {
				hops[0] = (int)r;
				best_n = 1;
				best_bw = avail_of(a, (int)r);
			}
		}
		return best_n;
	}
	size_t nr = in->n_regions;
	int src = k->src, dst = k->dst;
	for (size_t e = a->adj_start[src]; e < a->adj_start[src + 1]; e++) {
		int r1 = a->adj[e];
		int m = in->res[r1].to;
		int64_t qn = (int64_t)alloc_quantum(a, r1);
		int64_t f1 = avail_of(a, r1);
		if (r1 == a->direct[c] || f1 < qn)
			continue;
		if (m == dst) { /* a parallel link */
			if (better(f1, 1, best_bw, best_n, need)) {
				hops[0] = r1;
				best_n = 1;
				best_bw = f1;
			}
			continue;
		}
		if (a->p.max_hops < 2)
			continue;
		int r2 = a->pairmap[(size_t)m * nr + (size_t)dst];
		if (r2 < 0 || avail_of(a, r2) < qn)
			continue;
		int64_t b = f1 < avail_of(a, r2) ? f1 : avail_of(a, r2);
		if (better(b, 2, best_bw, best_n, need)) {
			hops[0] = r1;
			hops[1] = r2;
			best_n = 2;
			best_bw = b;
		}
	}
	if (a->p.max_hops >= 3 && (best_n == 0 || best_bw < need) &&
	    a->adj_start[src] < a->adj_start[src + 1])
		dp_paths(a, c, need, (int64_t)alloc_quantum(a, a->adj[a->adj_start[src]]), hops,
		         &best_n, &best_bw);
	return best_n;
}

static void transit_why(const struct alloc *a, size_t c, const int *hops, unsigned n, char *buf,
                        size_t len)
{
	const struct alloc_input *in = a->in;
	const struct alloc_class *k = &in->cls[c];
	int d = a->direct[c];
	char dir[96];
	if (d < 0)
		alloc_text(dir, sizeof(dir), "no direct %s",
		           k->kind == ALLOC_BANDWIDTH ? "link" : "pool");
	else
		alloc_text(dir, sizeof(dir), "direct %s full",
		           in->res[d].name ? in->res[d].name : "?");
	if (k->kind != ALLOC_BANDWIDTH) {
		alloc_text(buf, len, "%s: leased from %s", dir,
		           in->regions ? in->regions[in->res[hops[0]].owner] : "a peer");
		return;
	}
	size_t off = (size_t)alloc_text(buf, len, "%s: transit via", dir);
	for (unsigned h = 1; h < n && off < len; h++)
		off += (size_t)alloc_text(buf + off, len - off, " %s",
		                          in->regions ? in->regions[in->res[hops[h]].owner] : "?");
	if (n == 1 && off < len)
		alloc_text(buf + off, len - off, " a parallel link");
}

/* One round of transit for the level's classes still short. Returns how many got some. */
static int transit_round(struct alloc *a, unsigned level, size_t *granted)
{
	const struct alloc_input *in = a->in;
	size_t n = 0, nl = 0;
	int *locals = NULL;
	*granted = 0;
	for (size_t i = a->lvl_start[level]; i < a->lvl_start[level + 1]; i++) {
		size_t c = a->order[i];
		const struct alloc_cs *s = &a->cs[c];
		if (!s->decide || s->need - (double)s->cover <= 0)
			continue;
		int *hops = a->tpath + n * ALLOC_MAX_HOPS;
		int64_t need = (int64_t)ceil(s->need - (double)s->cover);
		unsigned h = find_path(a, c, need, hops);
		if (!h)
			continue;
		uint32_t lead = alloc_path_lead(a, c, hops, h);
		if (a->p.now + (int64_t)lead >= a->bend)
			continue; /* too late for this block over that path */
		uint64_t qn = alloc_quantum(a, hops[0]);
		a->grp[n] = c;
		a->tn[n] = h;
		a->d[n] = deficit_q(a, c, qn);
		a->w[n] = weight_of(&in->cls[c]);
		a->x[n] = 0;
		n++;
	}
	if (!n)
		return 0;
	locals = a->rlocal;
	/* Local resource table. */
	for (size_t t = 0; t < n; t++)
		for (unsigned h = 0; h < a->tn[t]; h++) {
			int r = a->tpath[t * ALLOC_MAX_HOPS + h];
			if (a->rmark[r] < 0) {
				a->rmark[r] = (int)nl;
				locals[nl] = r;
				a->rcap[nl] =
				        floor((double)avail_of(a, r) / (double)alloc_quantum(a, r));
				nl++;
			}
		}
	/* Progressive filling. */
	bool *active = calloc(n, sizeof(bool));
	if (!active)
		return -ENOMEM;
	size_t n_active = n;
	for (size_t t = 0; t < n; t++)
		active[t] = true;
	while (n_active) {
		for (size_t l = 0; l < nl; l++)
			a->rw[l] = 0;
		double delta = INFINITY;
		for (size_t t = 0; t < n; t++) {
			if (!active[t])
				continue;
			double dd = (a->d[t] - a->x[t]) / a->w[t];
			if (dd < delta)
				delta = dd;
			for (unsigned h = 0; h < a->tn[t]; h++)
				a->rw[a->rmark[a->tpath[t * ALLOC_MAX_HOPS + h]]] += a->w[t];
		}
		for (size_t l = 0; l < nl; l++)
			if (a->rw[l] > 0 && a->rcap[l] / a->rw[l] < delta)
				delta = a->rcap[l] / a->rw[l];
		if (delta < 0)
			delta = 0;
		for (size_t t = 0; t < n; t++) {
			if (!active[t])
				continue;
			a->x[t] += a->w[t] * delta;
			for (unsigned h = 0; h < a->tn[t]; h++)
				a->rcap[a->rmark[a->tpath[t * ALLOC_MAX_HOPS + h]]] -=
				        a->w[t] * delta;
		}
		for (size_t t = 0; t < n; t++) {
			if (!active[t])
				continue;
			bool stop = a->d[t] - a->x[t] <= 1e-9;
			for (unsigned h = 0; h < a->tn[t] && !stop; h++)
				if (a->rcap[a->rmark[a->tpath[t * ALLOC_MAX_HOPS + h]]] <= 1e-9)
					stop = true;
			if (stop) {
				active[t] = false;
				n_active--;
			}
		}
	}
	free(active);
	for (size_t l = 0; l < nl; l++)
		a->rmark[locals[l]] = -1;
	/* Grant whole quanta that still fit every hop. */
	char why[160] = "";
	for (size_t t = 0; t < n; t++) {
		int *hops = a->tpath + t * ALLOC_MAX_HOPS;
		uint64_t qn = alloc_quantum(a, hops[0]);
		double xq = floor(a->x[t] + 1e-9);
		for (unsigned h = 0; h < a->tn[t]; h++) {
			double f = floor((double)avail_of(a, hops[h]) / (double)qn);
			if (f < xq)
				xq = f;
		}
		if (xq < 1)
			continue;
		size_t c = a->grp[t];
		if (!a->p.no_reasons)
			transit_why(a, c, hops, a->tn[t], why, sizeof(why));
		int rc = alloc_grant(a, c, hops, a->tn[t], (uint64_t)xq * qn,
		                     (uint64_t)a->d[t] * qn, true, why);
		if (rc)
			return rc;
		(*granted)++;
	}
	return 0;
}

int alloc_fill_level(struct alloc *a, unsigned level)
{
	int rc = scratch(a);
	if (rc)
		return rc;
	size_t i = a->lvl_start[level], end = a->lvl_start[level + 1];
	if (i == end)
		return 0;
	while (i < end) {
		int r = a->direct[a->order[i]];
		size_t j = i;
		while (j < end && a->direct[a->order[j]] == r)
			j++;
		if (r >= 0 && (rc = fill_direct(a, r, i, j, level)))
			return rc;
		i = j;
	}
	if (a->p.no_transit)
		return 0;
	for (int round = 0; round < 2; round++) {
		size_t granted;
		if ((rc = transit_round(a, level, &granted)))
			return rc;
		if (!granted)
			break;
	}
	return 0;
}

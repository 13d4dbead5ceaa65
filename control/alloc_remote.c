/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_remote: the resources other regions lease to this one, for the controller's input
 * (docs/alloc.md "In tidald"): transit hops and remote pools, sized from the capacity
 * adverts the peering module keeps (lease_svc_adverts, docs/protocol.md §9).
 *
 *   - "P:bandwidth>R": a lease from peer P carried on to region R (path [R]). It books P's
 *     link towards this region and R's link towards P, so its capacity is the lesser of P's
 *     own advert ("") and the transit advert R that P passes on. The controller sees it as
 *     the hop P -> R of a path whose first hop is this region's link to P.
 *   - "P:pool.NAME.KIND" (or "P:KIND" for P's default pool): a lease of P's pool.
 *
 * An advert is unreserved capacity over time, after every booking the peer knew of when it
 * sent it, ours included; the controller wants capacity with the reservations it lists
 * counted as held, so the leases this region holds on a resource are added back where the
 * advert already reflects them (the provider held them before the advert arrived). The
 * capacity is the least of that sum over [now, win_end), the blocks a cycle can decide:
 * never more than the peer said is free. A peer without adverts (session down, or none
 * sent yet) gives nothing; a resource it holds leases on is still listed, with capacity 0,
 * so that those leases count as held.
 *
 * Owns nothing beyond the call. Reads the ledger and the lease service; books nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_mod_int.h"
#include "log.h"
#include "peering_mod.h"
#include "tidald.h"

struct adv {
	char res_name[LEDGER_RES_MAX]; /* the model resource it sizes */
	int owner, to;
	enum alloc_kind kind;
	bool first_hop; /* bandwidth: P's own link ("" advert), shared by every P:bandwidth>R */
	char peer[LEDGER_NAME_MAX];
	char name[LEDGER_NAME_MAX]; /* transit: R */
	int64_t received;
	size_t n;
	struct peer_cap_step steps[PEER_CAP_STEPS_MAX];
};

struct held {
	int res; /* index into the gather's names */
	uint64_t quantity;
	int64_t start, end, created;
	bool offered; /* the provider holds it (held .. active) */
};

struct gather {
	struct cycle *c;
	struct adv *adv;
	size_t n_adv, cap_adv;
	char (*names)[LEDGER_RES_MAX];
	int *owner, *to;
	enum alloc_kind *kind;
	size_t n_names, cap_names;
	struct held *held;
	size_t n_held, cap_held;
	int err;
};

static enum alloc_kind kind_of(enum lease_resource r)
{
	switch (r) {
	case LEASE_RES_VCPU:
		return ALLOC_VCPU;
	case LEASE_RES_MEMORY:
		return ALLOC_MEMORY;
	case LEASE_RES_STORAGE:
		return ALLOC_STORAGE;
	default:
		return ALLOC_BANDWIDTH;
	}
}

static bool id_zero(const uint8_t id[LEDGER_ID_LEN])
{
	static const uint8_t zero[LEDGER_ID_LEN];
	return !memcmp(id, zero, LEDGER_ID_LEN);
}

bool amod_remote_name(const struct cycle *c, const struct ledger_lease *x, char *buf, size_t len)
{
	int p = amod_region_index(c, x->provider);
	if (p < 1 || strcmp(x->requester, c->cfg->region.name) || !id_zero(x->parent))
		return false; /* not a lease this region asked for itself */
	size_t pl = strlen(x->provider);
	if (strncmp(x->resource, x->provider, pl) || x->resource[pl] != ':')
		return false;
	if (x->kind != LEDGER_KIND_BANDWIDTH) {
		snprintf(buf, len, "%s", x->resource);
		return true;
	}
	int r = x->path[0] && !strchr(x->path, ',') ? amod_region_index(c, x->path) : -1;
	if (r < 1 || r == p)
		return false; /* direct, or a path longer than one transit region */
	snprintf(buf, len, "%s:bandwidth>%s", x->provider, x->path);
	return true;
}

static int name_index(struct gather *g, const char *name, int owner, int to, enum alloc_kind k)
{
	for (size_t i = 0; i < g->n_names; i++)
		if (!strcmp(g->names[i], name))
			return (int)i;
	size_t cap = g->cap_names;
	if (amod_grow((void **)&g->names, &g->cap_names, g->n_names + 1, sizeof(*g->names)))
		return -ENOMEM;
	if (cap != g->cap_names) {
		int *o = realloc(g->owner, g->cap_names * sizeof(int));
		if (o)
			g->owner = o;
		int *t = realloc(g->to, g->cap_names * sizeof(int));
		if (t)
			g->to = t;
		enum alloc_kind *kk = realloc(g->kind, g->cap_names * sizeof(*kk));
		if (kk)
			g->kind = kk;
		if (!o || !t || !kk)
			return -ENOMEM;
	}
	snprintf(g->names[g->n_names], LEDGER_RES_MAX, "%s", name);
	g->owner[g->n_names] = owner;
	g->to[g->n_names] = to;
	g->kind[g->n_names] = k;
	return (int)g->n_names++;
}

static int one_advert(const struct peering_advert *a, void *arg)
{
	struct gather *g = arg;
	const struct cycle *c = g->c;
	int p = amod_region_index(c, a->peer);
	if (p < 1 || !a->n_steps || a->n_steps > PEER_CAP_STEPS_MAX)
		return 0;
	if (amod_grow((void **)&g->adv, &g->cap_adv, g->n_adv + 1, sizeof(*g->adv)))
		return g->err = -ENOMEM;
	struct adv *v = &g->adv[g->n_adv];
	memset(v, 0, sizeof(*v));
	v->owner = p;
	v->to = -1;
	v->kind = kind_of(a->resource);
	snprintf(v->peer, sizeof(v->peer), "%s", a->peer);
	snprintf(v->name, sizeof(v->name), "%s", a->name ? a->name : "");
	if (v->kind == ALLOC_BANDWIDTH) {
		if (!a->transit && !v->name[0]) {
			v->first_hop = true;
		} else {
			int r = a->transit ? amod_region_index(c, v->name) : -1;
			if (r < 1 || r == p)
				return 0; /* a region apps cannot go to: nothing to plan */
			v->to = r;
			snprintf(v->res_name, sizeof(v->res_name), "%s:bandwidth>%s", a->peer,
			         v->name);
		}
	} else if (v->name[0]) {
		snprintf(v->res_name, sizeof(v->res_name), "%s:pool.%s.%s", a->peer, v->name,
		         alloc_kind_name(v->kind));
	} else {
		snprintf(v->res_name, sizeof(v->res_name), "%s:%s", a->peer,
		         alloc_kind_name(v->kind));
	}
	v->received = a->received_s;
	v->n = a->n_steps;
	memcpy(v->steps, a->steps, a->n_steps * sizeof(*a->steps));
	g->n_adv++;
	return 0;
}

static int one_lease(const struct ledger_lease *x, void *arg)
{
	struct gather *g = arg;
	char name[LEDGER_RES_MAX];
	if (x->end <= g->c->now || x->state >= LEDGER_RELEASED ||
	    !amod_remote_name(g->c, x, name, sizeof(name)))
		return 0;
	enum alloc_kind k = (enum alloc_kind)x->kind;
	int owner = amod_region_index(g->c, x->provider);
	int to = k == ALLOC_BANDWIDTH ? amod_region_index(g->c, x->path) : -1;
	int r = name_index(g, name, owner, to, k);
	if (r < 0)
		return g->err = r;
	if (amod_grow((void **)&g->held, &g->cap_held, g->n_held + 1, sizeof(*g->held)))
		return g->err = -ENOMEM;
	g->held[g->n_held++] = (struct held){.res = r,
	                                     .quantity = x->quantity,
	                                     .start = x->start,
	                                     .end = x->end,
	                                     .created = x->created,
	                                     .offered = x->state >= LEDGER_HELD};
	return 0;
}

/* An advert's amount at t (the first step stands for "from now on"). */
static uint64_t adv_at(const struct adv *a, int64_t t)
{
	size_t i = 0;
	while (i + 1 < a->n && a->steps[i + 1].time_s <= t)
		i++;
	return a->steps[i].amount;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The least over [from, to) of min(a(t), b(t)) + the leases of resource r that both adverts
 * already reflect; a and b may be NULL (no advert: nothing free). */
static uint64_t least(const struct gather *g, int r, const struct adv *a, const struct adv *b,
                      int64_t from, int64_t to)
{
	int64_t received = INT64_MAX;
	if (!a)
		return 0;
	received = a->received;
	if (b && b->received < received)
		received = b->received;
	size_t max = 1 + a->n + (b ? b->n : 0) + 2 * g->n_held, n = 0;
	int64_t *ts = malloc(max * sizeof(*ts));
	if (!ts)
		return 0; /* out of memory: nothing known is the safe answer */
	ts[n++] = from;
	for (size_t i = 0; i < a->n; i++)
		if (a->steps[i].time_s > from && a->steps[i].time_s < to)
			ts[n++] = a->steps[i].time_s;
	for (size_t i = 0; b && i < b->n; i++)
		if (b->steps[i].time_s > from && b->steps[i].time_s < to)
			ts[n++] = b->steps[i].time_s;
	for (size_t i = 0; i < g->n_held; i++) {
		const struct held *h = &g->held[i];
		if (h->res != r)
			continue;
		if (h->start > from && h->start < to)
			ts[n++] = h->start;
		if (h->end > from && h->end < to)
			ts[n++] = h->end;
	}
	qsort(ts, n, sizeof(*ts), cmp_i64);
	uint64_t best = UINT64_MAX;
	for (size_t k = 0; k < n; k++) {
		uint64_t v = adv_at(a, ts[k]);
		if (b) {
			uint64_t w = adv_at(b, ts[k]);
			v = w < v ? w : v;
		}
		for (size_t i = 0; i < g->n_held; i++) {
			const struct held *h = &g->held[i];
			/* Held by the provider before the advert left (the advert has whole
			 * seconds, so the same second does not count). */
			if (h->res == r && h->offered && h->created < received &&
			    h->start <= ts[k] && h->end > ts[k])
				v += h->quantity;
		}
		if (v < best)
			best = v;
	}
	free(ts);
	return best == UINT64_MAX ? 0 : best;
}

static const struct adv *find_adv(const struct gather *g, const char *res_name)
{
	for (size_t i = 0; i < g->n_adv; i++)
		if (!g->adv[i].first_hop && !strcmp(g->adv[i].res_name, res_name))
			return &g->adv[i];
	return NULL;
}

static const struct adv *first_hop_of(const struct gather *g, int owner)
{
	for (size_t i = 0; i < g->n_adv; i++)
		if (g->adv[i].first_hop && g->adv[i].owner == owner)
			return &g->adv[i];
	return NULL;
}

int amod_remote_resources(struct cycle *c, struct ledger *lg)
{
	struct lease_svc *svc = peering_mod_get(c->m->d);
	struct gather g = {.c = c};
	int rc = 0;
	if (svc)
		lease_svc_adverts(svc, NULL, one_advert, &g);
	if (!g.err)
		ledger_foreach(lg, false, one_lease, &g);
	for (size_t i = 0; !g.err && i < g.n_adv; i++) {
		const struct adv *a = &g.adv[i];
		/* A transit hop needs the first hop's advert too. */
		if (!a->first_hop && (a->kind != ALLOC_BANDWIDTH || first_hop_of(&g, a->owner))) {
			int r = name_index(&g, a->res_name, a->owner, a->to, a->kind);
			if (r < 0)
				g.err = r;
		}
	}
	if (g.err) {
		rc = g.err;
		goto out;
	}
	for (size_t i = 0; i < g.n_names && c->n_res < c->max_res; i++) {
		if (amod_res_index(c, g.names[i]) >= 0)
			continue;
		const struct adv *a = find_adv(&g, g.names[i]), *b = NULL;
		if (a && g.kind[i] == ALLOC_BANDWIDTH) {
			b = first_hop_of(&g, g.owner[i]);
			if (!b)
				a = NULL;
		}
		uint64_t cap = least(&g, (int)i, a, b, c->now, c->win_end);
		snprintf(c->res_names[c->n_res], LEDGER_RES_MAX, "%s", g.names[i]);
		c->res[c->n_res] = (struct alloc_resource){.name = c->res_names[c->n_res],
		                                           .kind = g.kind[i],
		                                           .owner = g.owner[i],
		                                           .to = g.to[i],
		                                           .capacity = cap,
		                                           .lead_s = 0};
		c->n_res++;
	}
out:
	free(g.adv), free(g.names), free(g.owner), free(g.to), free(g.kind), free(g.held);
	return rc;
}

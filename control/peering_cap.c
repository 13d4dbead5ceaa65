/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_cap: capacity adverts (docs/protocol.md §9): what this region offers each peer,
 * sent after resynchronisation and when it changes, and what peers advertise, kept per peer
 * and read by the allocation controller (lease_svc_adverts, lease_svc_advert_min) and by
 * `tidalctl show capacity`.
 *
 * Each advert is a step function of unreserved capacity from now to the planning horizon,
 * read from the ledger's calendar: reservable minus booked at every instant. To a peer P this
 * region advertises its link towards P (name ""), its pools (by pool name), and, for transit,
 * what every other peer Q advertised to it about Q's link towards this region (name = Q):
 * the second hop of a path P -> here -> Q.
 *
 * Owns the adverts received and the list of transit adverts sent (in each peer's context).
 * Adverts are hints: nothing here books, and nothing is advertised above what is free.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "peering_int.h"

/* ---- sending --------------------------------------------------------------------------- */

/* Free capacity of a ledger resource over [now, now + horizon) as at most
 * PEER_CAP_STEPS_MAX steps. More breakpoints than that are merged in runs, each run keeping
 * its lowest amount: an advert may understate what is free, never overstate it. */
static bool resource_series(struct lease_svc *s, const char *res, int64_t now, struct cap_adv *a)
{
	int i = ledger_resource_find(s->p.ledger, res);
	const struct ledger_cal *cal = i < 0 ? NULL : ledger_resource_cal(s->p.ledger, (size_t)i);
	if (!cal)
		return false;
	uint64_t cap = ledger_cal_capacity(cal);
	int64_t end = now + s->horizon_s;
	struct ledger_cal_step small[PEER_CAP_STEPS_MAX], *st = small;
	size_t n = ledger_cal_steps(cal, now, end, small, PEER_CAP_STEPS_MAX);
	if (n > PEER_CAP_STEPS_MAX) {
		st = malloc(n * sizeof(*st));
		if (!st)
			return false;
		n = ledger_cal_steps(cal, now, end, st, n);
	}
	size_t per = (n + PEER_CAP_STEPS_MAX - 1) / PEER_CAP_STEPS_MAX;
	a->n_steps = 0;
	for (size_t k = 0; k < n; k += per) {
		uint64_t lo = UINT64_MAX;
		for (size_t j = k; j < n && j < k + per; j++) {
			uint64_t f = st[j].booked >= cap ? 0 : cap - st[j].booked;
			if (f < lo)
				lo = f;
		}
		int64_t t = st[k].start < now ? now : st[k].start;
		if (a->n_steps && a->steps[a->n_steps - 1].amount == lo)
			continue; /* same amount: the previous step goes on */
		a->steps[a->n_steps].time_s = t;
		a->steps[a->n_steps].amount = lo;
		a->n_steps++;
	}
	if (!a->n_steps) { /* nothing booked in the window */
		a->steps[0].time_s = now;
		a->steps[0].amount = cap;
		a->n_steps = 1;
	}
	if (st != small)
		free(st);
	return true;
}

static void put_entry(struct peer_msg *m, const struct cap_adv *a)
{
	struct peer_cap_entry *e = &m->cap.e[m->cap.n++];
	e->resource = a->resource;
	e->unit = (uint8_t)lease_resource_unit(a->resource);
	snprintf(e->name, sizeof(e->name), "%s", a->name);
	e->n_steps = a->n_steps;
	memcpy(e->steps, a->steps, a->n_steps * sizeof(e->steps[0]));
	m->present |= PEER_F_CAPACITY_ENTRY;
}

/* Add one entry, sending the message first when it is full. */
static void add_entry(struct lease_svc *s, struct peer *p, const struct cap_adv *a)
{
	struct peer_msg *m = &s->msg;
	if (m->cap.n == PEER_CAP_ENTRIES_MAX) {
		peer_send(p, m);
		peer_msg_init(m, PEER_MSG_CAPACITY);
	}
	put_entry(m, a);
}

static const struct cap_adv *find_adv(const struct peer_ctx *ctx, unsigned res, const char *name)
{
	for (size_t i = 0; ctx && i < ctx->n_adv; i++)
		if (ctx->adv[i].resource == res && !strcmp(ctx->adv[i].name, name))
			return &ctx->adv[i];
	return NULL;
}

void svc_send_capacity(struct lease_svc *s, struct peer *p)
{
	struct peer_ctx *ctx = peer_get_user(p);
	int64_t now = svc_now_s();
	struct cap_adv a;
	peer_msg_init(&s->msg, PEER_MSG_CAPACITY);
	/* This region's own resources. */
	for (unsigned res = 1; res <= LEASE_RES_MAX; res++) {
		for (size_t k = 0; k < (res == LEASE_RES_BANDWIDTH ? 1 : s->n_pools); k++) {
			char name[LEDGER_RES_MAX];
			const char *pool = res == LEASE_RES_BANDWIDTH ? "" : s->pools[k].name;
			if (!svc_local_resource(s, peer_name(p), res, pool, name, sizeof(name)))
				continue;
			memset(&a, 0, sizeof(a));
			a.resource = (uint8_t)res;
			snprintf(a.name, sizeof(a.name), "%s", pool);
			if (resource_series(s, name, now, &a))
				add_entry(s, p, &a);
		}
	}
	/* Transit: each other peer's advert of its link towards this region. */
	char(*sent)[PEER_REGION_MAX] = calloc(peer_mgr_count(s->mgr) + 1, PEER_REGION_MAX);
	size_t n_sent = 0;
	for (size_t i = 0; sent && i < peer_mgr_count(s->mgr); i++) {
		struct peer *q = peer_mgr_at(s->mgr, i);
		const struct cap_adv *qa =
		        q == p || peer_get_state(q) != PEER_ESTABLISHED
		                ? NULL
		                : find_adv(peer_get_user(q), LEASE_RES_BANDWIDTH, "");
		if (!qa)
			continue;
		a = *qa;
		snprintf(a.name, sizeof(a.name), "%s", peer_name(q));
		add_entry(s, p, &a);
		snprintf(sent[n_sent++], PEER_REGION_MAX, "%s", peer_name(q));
	}
	/* Withdraw transit adverts sent before that are gone (the session to that region
	 * dropped): nothing free any more. */
	for (size_t i = 0; ctx && i < ctx->n_relayed; i++) {
		bool still = false;
		for (size_t k = 0; k < n_sent && !still; k++)
			still = !strcmp(sent[k], ctx->relayed[i]);
		if (still)
			continue;
		memset(&a, 0, sizeof(a));
		a.resource = LEASE_RES_BANDWIDTH;
		snprintf(a.name, sizeof(a.name), "%s", ctx->relayed[i]);
		a.steps[0].time_s = now;
		a.n_steps = 1;
		add_entry(s, p, &a);
	}
	if (ctx && sent) {
		free(ctx->relayed);
		ctx->relayed = sent;
		ctx->n_relayed = n_sent;
		sent = NULL;
	}
	free(sent);
	peer_send(p, &s->msg); /* also when empty: "nothing to lease" is an advert too */
}

void svc_cap_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct lease_svc *s = arg;
	if (!s->cap_dirty)
		return;
	s->cap_dirty = false;
	for (size_t i = 0; i < peer_mgr_count(s->mgr); i++) {
		struct peer *p = peer_mgr_at(s->mgr, i);
		struct peer_ctx *ctx = peer_get_user(p);
		if (peer_get_state(p) == PEER_ESTABLISHED && ctx && ctx->end_sent)
			svc_send_capacity(s, p);
	}
}

/* ---- receiving ------------------------------------------------------------------------- */

/* Equal but for the first step's time (a sender starts its series at its "now"). */
static bool same_series(const struct cap_adv *a, const struct peer_cap_entry *e)
{
	if (a->n_steps != e->n_steps)
		return false;
	for (unsigned i = 0; i < e->n_steps; i++)
		if (a->steps[i].amount != e->steps[i].amount ||
		    (i && a->steps[i].time_s != e->steps[i].time_s))
			return false;
	return true;
}

void svc_on_capacity(struct lease_svc *s, struct peer *p, const struct peer_msg *m)
{
	struct peer_ctx *ctx = peer_get_user(p);
	if (!ctx)
		return;
	int64_t now = svc_now_s();
	for (unsigned i = 0; i < m->cap.n; i++) {
		const struct peer_cap_entry *e = &m->cap.e[i];
		struct cap_adv *a = (struct cap_adv *)find_adv(ctx, e->resource, e->name);
		if (!a) {
			if (ctx->n_adv == ctx->cap_adv) {
				size_t nc = ctx->cap_adv ? ctx->cap_adv * 2 : 8;
				struct cap_adv *na = realloc(ctx->adv, nc * sizeof(*na));
				if (!na) {
					log_err("peering: %s: out of memory keeping its capacity "
					        "adverts",
					        peer_name(p));
					return;
				}
				ctx->adv = na;
				ctx->cap_adv = nc;
			}
			a = &ctx->adv[ctx->n_adv++];
			memset(a, 0, sizeof(*a));
			a->resource = e->resource;
			snprintf(a->name, sizeof(a->name), "%s", e->name);
		} else if (same_series(a, e)) {
			a->received_s = now;
			a->steps[0].time_s = e->steps[0].time_s;
			continue;
		}
		/* The link from this peer towards us changed: re-advertise it, as transit, to
		 * the other peers (within the second the timer allows). */
		if (e->resource == LEASE_RES_BANDWIDTH && !e->name[0])
			s->cap_dirty = true;
		a->received_s = now;
		a->n_steps = e->n_steps;
		memcpy(a->steps, e->steps, e->n_steps * sizeof(e->steps[0]));
	}
}

void svc_cap_peer_down(struct lease_svc *s, struct peer *p)
{
	struct peer_ctx *ctx = peer_get_user(p);
	if (!ctx)
		return;
	if (find_adv(ctx, LEASE_RES_BANDWIDTH, ""))
		s->cap_dirty = true; /* withdraw its transit adverts from the other peers */
	ctx->n_adv = 0;
	ctx->n_relayed = 0;
}

void svc_peer_ctx_free(struct peer_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->adv);
	free(ctx->relayed);
	free(ctx);
}

/* ---- for the allocation controller and tidalctl ------------------------------------------ */

int lease_svc_adverts(struct lease_svc *s, const char *peer,
                      int (*fn)(const struct peering_advert *a, void *arg), void *arg)
{
	for (size_t i = 0; i < peer_mgr_count(s->mgr); i++) {
		struct peer *p = peer_mgr_at(s->mgr, i);
		struct peer_ctx *ctx = peer_get_user(p);
		if ((peer && strcmp(peer, peer_name(p))) || !ctx ||
		    peer_get_state(p) != PEER_ESTABLISHED)
			continue;
		for (size_t k = 0; k < ctx->n_adv; k++) {
			const struct cap_adv *c = &ctx->adv[k];
			struct peering_advert a = {
			        .peer = peer_name(p),
			        .resource = (enum lease_resource)c->resource,
			        .name = c->name,
			        .transit = c->resource == LEASE_RES_BANDWIDTH && c->name[0],
			        .received_s = c->received_s,
			        .n_steps = c->n_steps,
			        .steps = c->steps,
			};
			int rc = fn(&a, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int lease_svc_advert_min(struct lease_svc *s, const char *peer, enum lease_resource res,
                         const char *name, int64_t start, int64_t end, uint64_t *amount)
{
	struct peer *p = peer_mgr_find(s->mgr, peer);
	struct peer_ctx *ctx = p ? peer_get_user(p) : NULL;
	const struct cap_adv *a = ctx && peer_get_state(p) == PEER_ESTABLISHED
	                                  ? find_adv(ctx, res, name ? name : "")
	                                  : NULL;
	if (!a || start >= end)
		return -ENOENT;
	uint64_t lo = UINT64_MAX;
	for (unsigned i = 0; i < a->n_steps; i++) {
		int64_t from = a->steps[i].time_s;
		int64_t until = i + 1 < a->n_steps ? a->steps[i + 1].time_s : INT64_MAX;
		if (i == 0)
			from = INT64_MIN; /* the first step stands for "from now" */
		if (until <= start || from >= end)
			continue;
		if (a->steps[i].amount < lo)
			lo = a->steps[i].amount;
	}
	*amount = lo == UINT64_MAX ? 0 : lo;
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_cap: capacity adverts (docs/protocol.md §9): what this region offers each peer,
 * sent after resynchronisation and when it changes, and what peers advertise, kept per peer.
 *
 * Owns the adverts received (in each peer's context). Adverts are hints: nothing here books.
 */
#include <stdio.h>
#include <string.h>

#include "peering_int.h"

void svc_send_capacity(struct lease_svc *s, struct peer *p)
{
	struct peer_msg *m = &s->msg;
	peer_msg_init(m, PEER_MSG_CAPACITY);
	int64_t now = svc_now_s();
	for (unsigned res = 1; res <= LEASE_RES_MAX && m->cap.n < PEER_CAP_ENTRIES_MAX; res++) {
		for (size_t k = 0; k < (res == LEASE_RES_BANDWIDTH ? 1 : s->n_pools); k++) {
			char name[LEDGER_RES_MAX];
			const char *pool = res == LEASE_RES_BANDWIDTH ? "" : s->pools[k].name;
			if (!svc_local_resource(s, peer_name(p), res, pool, name, sizeof(name)))
				continue;
			int i = ledger_resource_find(s->p.ledger, name);
			struct ledger_resource_info info;
			if (i < 0 || ledger_resource_info(s->p.ledger, (size_t)i, now, &info))
				continue;
			struct peer_cap_entry *e = &m->cap.e[m->cap.n++];
			e->resource = (uint8_t)res;
			e->unit = (uint8_t)lease_resource_unit(res);
			snprintf(e->name, sizeof(e->name), "%s", pool);
			e->n_steps = 1;
			e->steps[0].time_s = now;
			e->steps[0].amount =
			        info.capacity > info.peak ? info.capacity - info.peak : 0;
			if (m->cap.n == PEER_CAP_ENTRIES_MAX)
				break;
		}
	}
	if (m->cap.n)
		m->present = PEER_F_CAPACITY_ENTRY;
	peer_send(p, m);
}

void svc_on_capacity(struct lease_svc *s, struct peer *p, const struct peer_msg *m)
{
	(void)s;
	struct peer_ctx *ctx = peer_get_user(p);
	if (!ctx)
		return;
	for (unsigned i = 0; i < m->cap.n; i++) {
		const struct peer_cap_entry *e = &m->cap.e[i];
		ctx->adv[e->resource] = e->steps[0].amount;
		ctx->adv_known[e->resource] = true;
	}
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
		if (peer_get_state(p) == PEER_ESTABLISHED)
			svc_send_capacity(s, p);
	}
}

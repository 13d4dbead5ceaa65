/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_proto: both roles of the lease protocol over the ledger (docs/protocol.md §7-§8).
 * As provider it admits LEASE_REQUEST (hold), commits on LEASE_COMMIT, releases; as
 * requester it commits every offer at once, confirms on LEASE_ACK and adopts what the
 * provider reports; for both it applies LEASE_STATUS and resynchronises after every
 * reconnection. Answers go through the queue of peering_lease.c (they leave after the loop
 * iteration's group commit); LEASE_COMMIT leaves at once.
 *
 * Owns nothing: the leases are the ledger's, the queue is the service's. Never books except
 * through ledger.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "peering_int.h"

/* ---- provider role ------------------------------------------------------------------- */

const struct peer_cfg *svc_peer_cfg(const struct lease_svc *s, const char *name)
{
	for (size_t i = 0; i < s->n_peers; i++)
		if (!strcmp(s->peers[i].name, name))
			return &s->peers[i];
	return NULL;
}

/* The local resource a peer's request books, or false. */
bool svc_local_resource(const struct lease_svc *s, const char *peer, unsigned res, const char *pool,
                        char *out, size_t len)
{
	if (res == LEASE_RES_BANDWIDTH) {
		const struct peer_cfg *pc = svc_peer_cfg(s, peer);
		if (!pc || !pc->link[0] || pool[0])
			return false;
		snprintf(out, len, "link.%s", pc->link);
		return true;
	}
	for (size_t i = 0; i < s->n_pools; i++) {
		const struct pool_cfg *pc = &s->pools[i];
		if ((pool[0] && strcmp(pc->name, pool)) || !pc->amount[res])
			continue;
		snprintf(out, len, "pool.%s.%s", pc->name, ledger_kind_name(svc_res_to_kind(res)));
		return true;
	}
	return false;
}

void svc_reply_status(struct lease_svc *s, const char *peer, const uint8_t *id, unsigned state,
                      unsigned error)
{
	svc_queue(s, peer, PEER_MSG_LEASE_STATUS, id, (uint8_t)state, (uint16_t)error);
}

/* Answer for a lease as the provider's record stands. */
void svc_answer_record(struct lease_svc *s, const char *peer, const struct ledger_lease *x)
{
	if (x->state == LEDGER_HELD) {
		/* A transit lease is offered once its next hop is held too. */
		if (!svc_is_transit(s, x) || svc_transit_ready(s, x))
			svc_queue(s, peer, PEER_MSG_LEASE_OFFER, x->id, 0, 0);
	} else if (x->state == LEDGER_RESERVED || x->state == LEDGER_ACTIVE)
		svc_queue(s, peer, PEER_MSG_LEASE_ACK, x->id, 0, 0);
	else if (!ledger_state_live(x->state))
		svc_reply_status(s, peer, x->id, svc_state_to_wire(x->state),
		                 svc_err_to_wire(x->reason));
}

void svc_on_request(struct lease_svc *s, const char *peer, const struct peer_msg *m)
{
	const struct lease_msg *l = &m->lease;
	const uint8_t *id = l->id.b;
	if (strcmp(l->provider, s->region) || strcmp(l->requester, peer)) {
		svc_reply_status(s, peer, id, LEASE_FAILED, LEASE_ERR_NOT_PERMITTED);
		return;
	}
	/* PATH [provider] alone is a direct lease (as tidald 0.1 sent it). */
	bool transit = (m->present & PEER_F_PATH) && l->n_path &&
	               (l->n_path > 1 || strcmp(l->path[0], s->region));
	struct ledger_req q;
	memset(&q, 0, sizeof(q));
	memcpy(q.id, id, LEDGER_ID_LEN);
	snprintf(q.requester, sizeof(q.requester), "%s", l->requester);
	snprintf(q.provider, sizeof(q.provider), "%s", l->provider);
	if (!svc_local_resource(s, peer, l->resource, l->resource_name, q.resource,
	                        sizeof(q.resource))) {
		svc_reply_status(s, peer, id, LEASE_FAILED, LEASE_ERR_UNKNOWN_RESOURCE);
		return;
	}
	q.kind = svc_res_to_kind(l->resource);
	q.quantity = l->quantity;
	q.start = l->start_s;
	q.end = l->start_s + (int64_t)l->duration_s;
	q.setup_prio = m->present & PEER_F_PRIORITY ? l->setup_prio : LEASE_PRIORITY_DEFAULT;
	q.hold_prio = m->present & PEER_F_PRIORITY ? l->hold_prio : LEASE_PRIORITY_DEFAULT;
	svc_match_from_msg(m, q.match, sizeof(q.match));
	if (m->present & PEER_F_APP)
		snprintf(q.app, sizeof(q.app), "%s", l->app);
	q.hold_s = OFFER_HOLD_S;
	if ((m->present & PEER_F_HOLD_TIME) && l->hold_ms / 1000 < q.hold_s)
		q.hold_s = l->hold_ms / 1000 ? l->hold_ms / 1000 : 1;

	struct ledger_lease x;
	if (ledger_get(s->p.ledger, q.id, &x) != 0 && q.start < svc_now_s() - PAST_START_SLACK_S) {
		svc_reply_status(s, peer, id, LEASE_FAILED, LEASE_ERR_BAD_PARAMETERS);
		return;
	}
	if (transit) {
		svc_transit_request(s, peer, m, &q);
		return;
	}
	enum ledger_err why = LEDGER_OK;
	int rc = ledger_request(s->p.ledger, &q, svc_now_s(), &x, &why);
	if (rc == 0)
		svc_answer_record(s, peer, &x);
	else
		svc_reply_status(s, peer, id, LEASE_FAILED,
		                 svc_err_to_wire(why != LEDGER_OK ? why : LEDGER_E_STORAGE));
}

bool svc_get_role(struct lease_svc *s, const char *peer, const uint8_t *id, bool provider,
                  struct ledger_lease *x)
{
	if (ledger_get(s->p.ledger, id, x) != 0) {
		svc_reply_status(s, peer, id, LEASE_FAILED, LEASE_ERR_UNKNOWN_LEASE);
		return false;
	}
	const char *me = provider ? x->provider : x->requester;
	const char *them = provider ? x->requester : x->provider;
	if (strcmp(me, s->region) || strcmp(them, peer)) {
		svc_reply_status(s, peer, id, svc_state_to_wire(x->state), LEASE_ERR_NOT_PERMITTED);
		return false;
	}
	return true;
}

void svc_on_commit(struct lease_svc *s, const char *peer, const uint8_t *id)
{
	struct ledger_lease x;
	if (!svc_get_role(s, peer, id, true, &x))
		return;
	if (svc_is_transit(s, &x) && x.state == LEDGER_HELD) {
		svc_transit_commit(s, peer, &x);
		return;
	}
	if (svc_is_transit(s, &x) && x.state == LEDGER_COMMITTING)
		return; /* waiting for the next hop: the ACK follows */
	if (x.state == LEDGER_HELD) {
		enum ledger_err why = LEDGER_OK;
		int rc = ledger_commit(s->p.ledger, id, svc_now_s(), &x, &why);
		if (rc == -ETIMEDOUT || why == LEDGER_E_HOLD_TIMEOUT) {
			svc_reply_status(s, peer, id, LEASE_EXPIRED, LEASE_ERR_HOLD_TIMEOUT);
			return;
		}
		if (rc) {
			svc_reply_status(s, peer, id, LEASE_FAILED, svc_err_to_wire(why));
			return;
		}
	}
	if (x.state == LEDGER_CHECKING || x.state == LEDGER_COMMITTING)
		svc_reply_status(s, peer, id, svc_state_to_wire(x.state), LEASE_ERR_WRONG_STATE);
	else
		svc_answer_record(s, peer, &x);
}

void svc_on_release(struct lease_svc *s, const char *peer, const uint8_t *id)
{
	struct ledger_lease x;
	if (!svc_get_role(s, peer, id, true, &x))
		return;
	if (ledger_state_live(x.state)) {
		enum ledger_err why = LEDGER_OK;
		if (ledger_release(s->p.ledger, id, svc_now_s(), &x, &why) != 0) {
			svc_reply_status(s, peer, id, svc_state_to_wire(x.state),
			                 svc_err_to_wire(why));
			return;
		}
	}
	svc_reply_status(s, peer, id, svc_state_to_wire(x.state), svc_err_to_wire(x.reason));
}

/* ---- requester role ------------------------------------------------------------------ */

/* LEASE_COMMIT leaves at once: the requester's own record of it (committing) is
 * bookkeeping that trails in the loop iteration's group commit. If this process dies before
 * that commit, it restarts with the lease checking or held, and resynchronisation adopts
 * what the provider decided (protocol.md §8); the provider's record is the one that counts. */
void svc_send_commit(struct lease_svc *s, const char *peer, const uint8_t *id)
{
	struct out o;
	memset(&o, 0, sizeof(o));
	snprintf(o.peer, sizeof(o.peer), "%s", peer);
	o.type = PEER_MSG_LEASE_COMMIT;
	memcpy(o.id, id, LEDGER_ID_LEN);
	svc_send_out(s, &o, false);
	if (s->crash_after_commit) {
		/* Fault injection (tests only): die between the COMMIT on the wire and the
		 * bookkeeping commit, as a crash at the worst moment would. */
		struct peer *p = peer_mgr_find(s->mgr, peer);
		if (p)
			peer_flush(p);
		log_warn("peering: TIDAL_PEERING_FAULT=crash-after-commit: killing this process "
		         "before its bookkeeping commit");
		usleep(300000); /* let the kernel deliver the COMMIT */
		raise(SIGKILL);
	}
}

/* Move a requester-side lease forward to `target` (held, committing or reserved) with the
 * ledger's events, sending COMMIT when it passes committing. */
void svc_advance(struct lease_svc *s, const char *peer, struct ledger_lease *x,
                 enum ledger_state target)
{
	int64_t now = svc_now_s();
	enum ledger_state was = x->state;
	while (ledger_state_live(x->state) && x->state < target) {
		enum ledger_event ev = x->state == LEDGER_CHECKING ? LEDGER_EV_ADMIT
		                       : x->state == LEDGER_HELD   ? LEDGER_EV_COMMIT
		                                                   : LEDGER_EV_CONFIRM;
		if (x->state >= LEDGER_RESERVED)
			break;
		enum ledger_err why;
		if (ledger_event(s->p.ledger, x->id, ev, now, LEDGER_OK, x, &why) != 0) {
			char ids[LEDGER_ID_STR];
			log_warn("peering: lease %s: %s refused by the ledger (%s)",
			         ledger_id_fmt(x->id, ids), ledger_event_name(ev),
			         ledger_err_name(why));
			return;
		}
		if (ev == LEDGER_EV_COMMIT && target == LEDGER_COMMITTING)
			svc_send_commit(s, peer, x->id);
	}
	if (s->p.on_lease && x->state != was)
		s->p.on_lease(s->p.arg, x);
}

/* Adopt a terminal state the peer reported. */
static void adopt_terminal_do(struct lease_svc *s, struct ledger_lease *x, unsigned state,
                              unsigned error);

void svc_adopt_terminal(struct lease_svc *s, struct ledger_lease *x, unsigned state, unsigned error)
{
	adopt_terminal_do(s, x, state, error);
	if (s->p.on_lease && !strcmp(x->requester, s->region))
		s->p.on_lease(s->p.arg, x);
}

static void adopt_terminal_do(struct lease_svc *s, struct ledger_lease *x, unsigned state,
                              unsigned error)
{
	int64_t now = svc_now_s();
	enum ledger_err reason = svc_err_from_wire((uint16_t)error), why;
	const uint8_t *id = x->id;
	struct ledger *l = s->p.ledger;
	switch (state) {
	case LEASE_RELEASED:
		ledger_release(l, id, now, x, &why);
		return;
	case LEASE_REVOKED:
		ledger_revoke(l, id, now, reason == LEDGER_E_PREEMPTED ? reason : LEDGER_E_PEER, x,
		              &why);
		return;
	case LEASE_EXPIRED:
		if (ledger_event(l, id, LEDGER_EV_HOLD_TIMEOUT, now, LEDGER_E_HOLD_TIMEOUT, x,
		                 &why) == 0 ||
		    ledger_event(l, id, LEDGER_EV_END, now, LEDGER_E_ENDED, x, &why) == 0)
			return;
		ledger_event(l, id, LEDGER_EV_FAIL, now, reason, x, &why);
		return;
	default:
		ledger_event(l, id, x->state == LEDGER_CHECKING ? LEDGER_EV_REJECT : LEDGER_EV_FAIL,
		             now, reason, x, &why);
		return;
	}
}

void svc_on_offer(struct lease_svc *s, const char *peer, const uint8_t *id)
{
	struct ledger_lease x;
	if (!svc_get_role(s, peer, id, false, &x))
		return;
	if (!ledger_state_live(x.state)) {
		svc_reply_status(s, peer, id, svc_state_to_wire(x.state),
		                 svc_err_to_wire(x.reason));
		return;
	}
	if (x.state != LEDGER_CHECKING && x.state != LEDGER_HELD)
		return;
	if (svc_is_onward(s, &x)) {
		/* The next hop of a transit lease: commit when the requester commits. */
		svc_advance(s, peer, &x, LEDGER_HELD);
		svc_transit_onward_moved(s, &x);
		return;
	}
	svc_advance(s, peer, &x, LEDGER_COMMITTING); /* tidald commits every offer at once */
}

void svc_on_ack(struct lease_svc *s, const char *peer, const struct peer_msg *m)
{
	struct ledger_lease x;
	if (!svc_get_role(s, peer, m->lease.id.b, false, &x))
		return;
	if (!ledger_state_live(x.state)) {
		svc_reply_status(s, peer, x.id, svc_state_to_wire(x.state),
		                 svc_err_to_wire(x.reason));
		return;
	}
	if (x.state < LEDGER_RESERVED)
		svc_advance(s, peer, &x, LEDGER_RESERVED);
	if (svc_is_onward(s, &x))
		svc_transit_onward_moved(s, &x);
}

void svc_on_revoke(struct lease_svc *s, const char *peer, const struct peer_msg *m)
{
	struct ledger_lease x;
	if (!svc_get_role(s, peer, m->lease.id.b, false, &x))
		return;
	if (ledger_state_live(x.state))
		svc_adopt_terminal(s, &x, LEASE_REVOKED, m->lease.error);
}

/* ---- LEASE_STATUS and resynchronisation ---------------------------------------------- */

void svc_on_status(struct lease_svc *s, const char *peer, const struct peer_msg *m)
{
	const struct lease_msg *l = &m->lease;
	struct ledger_lease x;
	memset(&x, 0, sizeof(x));
	bool known = ledger_get(s->p.ledger, l->id.b, &x) == 0;
	if (known) {
		bool mine = (!strcmp(x.provider, s->region) && !strcmp(x.requester, peer)) ||
		            (!strcmp(x.requester, s->region) && !strcmp(x.provider, peer));
		if (!mine)
			return; /* not a lease between us and this peer: ignore */
	}
	bool provider;
	if (known)
		provider = !strcmp(x.provider, s->region);
	else
		provider = (m->present & PEER_F_PROVIDER) && !strcmp(l->provider, s->region);
	unsigned my_state = known ? svc_state_to_wire(x.state) : LEASE_NONE;
	switch (lease_status_action(provider, my_state, l->state)) {
	case LEASE_ACT_ADOPT:
		if (lease_state_terminal(l->state)) {
			svc_adopt_terminal(s, &x, l->state, l->error);
		} else if (svc_is_onward(s, &x)) {
			svc_advance(s, peer, &x,
			            l->state == LEASE_HELD ? LEDGER_HELD : LEDGER_RESERVED);
			svc_transit_onward_moved(s, &x);
		} else {
			svc_advance(s, peer, &x,
			            l->state == LEASE_HELD ? LEDGER_COMMITTING : LEDGER_RESERVED);
		}
		break;
	case LEASE_ACT_REPLY_OWN:
		svc_reply_status(s, peer, l->id.b, my_state, svc_err_to_wire(x.reason));
		break;
	case LEASE_ACT_REPLY_UNKNOWN:
		svc_reply_status(s, peer, l->id.b, LEASE_FAILED, LEASE_ERR_UNKNOWN_LEASE);
		break;
	default:
		break;
	}
}

struct sync_ctx {
	struct lease_svc *s;
	const char *peer;
	bool after_peer_sync; /* repeat REQUEST/COMMIT (step 3) instead of sending status */
	int64_t now;
};

static int svc_sync_one(const struct ledger_lease *x, void *arg)
{
	struct sync_ctx *c = arg;
	struct lease_svc *s = c->s;
	bool req = !strcmp(x->requester, s->region) && !strcmp(x->provider, c->peer);
	bool prov = !strcmp(x->provider, s->region) && !strcmp(x->requester, c->peer);
	if (!req && !prov)
		return 0;
	if (c->after_peer_sync) {
		if (!req)
			return 0;
		if (x->state == LEDGER_CHECKING) {
			svc_queue(s, c->peer, PEER_MSG_LEASE_REQUEST, x->id, 0, 0);
		} else if (x->state == LEDGER_HELD) {
			struct ledger_lease y = *x;
			if (svc_is_onward(s, &y))
				svc_transit_onward_moved(s, &y);
			else
				svc_advance(s, c->peer, &y, LEDGER_COMMITTING);
		} else if (x->state == LEDGER_COMMITTING) {
			svc_queue(s, c->peer, PEER_MSG_LEASE_COMMIT, x->id, 0, 0);
		}
		return 0;
	}
	if (!ledger_state_live(x->state) && x->updated < c->now - RETAIN_SYNC_S)
		return 0;
	struct out *o = svc_queue(s, c->peer, PEER_MSG_LEASE_STATUS, x->id, 0, 0);
	if (o)
		o->resync = true;
	return 0;
}

/* The statuses, then END_OF_SYNC and CAPACITY: all wait, in order, until what they state
 * is durable. */
void svc_resync(struct lease_svc *s, struct peer *p)
{
	struct sync_ctx c = {.s = s, .peer = peer_name(p), .now = svc_now_s()};
	svc_op_begin(s);
	ledger_foreach(s->p.ledger, true, svc_sync_one, &c);
	struct out *o = svc_queue(s, peer_name(p), PEER_MSG_LEASE_STATUS, NULL, 0, 0);
	if (o)
		o->end_sync = true;
	svc_op_end(s);
}

/* The peer's END_OF_SYNC arrived: repeat what is pending as requester (§8 step 3). */
void svc_after_peer_sync(struct lease_svc *s, const char *peer)
{
	struct sync_ctx c = {.s = s, .peer = peer, .after_peer_sync = true, .now = svc_now_s()};
	ledger_foreach(s->p.ledger, false, svc_sync_one, &c);
}

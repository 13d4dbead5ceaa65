/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_transit: leases carried on over a PATH (docs/protocol.md §7.6).
 *
 * When region B receives LEASE_REQUEST(requester A, provider B, PATH [C, ...]), B books its
 * own hop (its link towards A) as for a direct lease, and asks C for the next hop with a
 * lease of its own: requester B, provider C, PATH [...] (the rest), the same quantity,
 * interval, priorities and match, and an id derived from the first one (svc_onward_id, so
 * that a repeated request finds it again). The two leases then move together:
 *
 *   A's lease at B (transit)        B's lease at C (onward)
 *   held (not offered yet)          checking: REQUEST sent to C
 *   held: OFFER to A                held: C offered
 *   committing (A committed)        committing: COMMIT sent to C
 *   reserved: ACK to A              reserved: C acknowledged (durable at C)
 *
 * B's ACK therefore promises both hops: C's commit is durable at C, B's at B. Whatever
 * ends one lease ends the other: A's release, B's hold running out or a revocation at B
 * release the onward lease (LEASE_RELEASE to C); C's refusal, revocation or expiry fail or
 * revoke A's lease at B with error no-path and a REASON naming the hop.
 *
 * Owns the queue of leases whose partner must follow a terminal state. Never books except
 * through ledger.h; the leases are the ledger's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "log.h"
#include "peering_int.h"

static bool id_zero(const uint8_t id[LEDGER_ID_LEN])
{
	static const uint8_t zero[LEDGER_ID_LEN];
	return memcmp(id, zero, LEDGER_ID_LEN) == 0;
}

void svc_onward_id(const uint8_t up[LEDGER_ID_LEN], const char *region, uint8_t out[LEDGER_ID_LEN])
{
	static const char tag[] = "tidal transit onward";
	uint8_t buf[sizeof(tag) + LEDGER_ID_LEN + PEER_REGION_MAX];
	size_t n = 0, rl = strlen(region);
	memcpy(buf, tag, sizeof(tag));
	n += sizeof(tag);
	memcpy(buf + n, up, LEDGER_ID_LEN);
	n += LEDGER_ID_LEN;
	if (rl > PEER_REGION_MAX)
		rl = PEER_REGION_MAX;
	memcpy(buf + n, region, rl);
	n += rl;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL) || mdlen < LEDGER_ID_LEN) {
		/* Cannot happen with a working libcrypto; stay deterministic anyway. */
		memcpy(md, up, LEDGER_ID_LEN);
		md[0] ^= 0x5a;
	}
	memcpy(out, md, LEDGER_ID_LEN);
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40); /* the RFC 4122 v4 layout of random ids */
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

bool svc_is_transit(const struct lease_svc *s, const struct ledger_lease *x)
{
	return x->path[0] && !strcmp(x->provider, s->region) && strcmp(x->requester, s->region);
}

bool svc_is_onward(const struct lease_svc *s, const struct ledger_lease *x)
{
	return !id_zero(x->parent) && !strcmp(x->requester, s->region);
}

void svc_path_to_msg(const char *path, struct peer_msg *m)
{
	struct lease_msg *l = &m->lease;
	l->n_path = 0;
	for (const char *p = path; *p && l->n_path < LEASE_PATH_MAX;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n && n < PEER_REGION_MAX) {
			memcpy(l->path[l->n_path], p, n);
			l->path[l->n_path][n] = '\0';
			l->n_path++;
		}
		p += n + (comma != NULL);
	}
	if (l->n_path)
		m->present |= PEER_F_PATH;
}

int svc_path_from_msg(const struct lease_msg *l, unsigned first, char *out, size_t len)
{
	size_t k = 0;
	out[0] = '\0';
	for (unsigned i = first; i < l->n_path; i++) {
		int n = snprintf(out + k, len - k, "%s%s", k ? "," : "", l->path[i]);
		if (n < 0 || (size_t)n >= len - k)
			return -ENAMETOOLONG;
		k += (size_t)n;
	}
	return 0;
}

/* Fail (held) or revoke (committed) the transit lease x with no-path, naming why. */
static void fail_transit(struct lease_svc *s, struct ledger_lease *x, const char *why)
{
	struct ledger *l = s->p.ledger;
	enum ledger_err e;
	int64_t now = svc_now_s();
	char ids[LEDGER_ID_STR];
	log_info("peering: transit lease %s from %s: %s", ledger_id_fmt(x->id, ids), x->requester,
	         why);
	if (x->state == LEDGER_CHECKING || x->state == LEDGER_HELD) {
		if (ledger_event(l, x->id, LEDGER_EV_FAIL, now, LEDGER_E_NO_PATH, x, &e) == 0) {
			struct out *o = svc_queue(s, x->requester, PEER_MSG_LEASE_STATUS, x->id,
			                          LEASE_FAILED, LEASE_ERR_NO_PATH);
			if (o)
				snprintf(o->reason, sizeof(o->reason), "%s", why);
		}
	} else if (ledger_state_live(x->state)) {
		/* lease_svc_on_change sends LEASE_REVOKE(no-path) once it is durable. */
		ledger_revoke(l, x->id, now, LEDGER_E_NO_PATH, x, &e);
	}
}

static void refuse(struct lease_svc *s, const char *peer, const uint8_t *id, const char *why)
{
	char ids[LEDGER_ID_STR];
	log_info("peering: %s: transit lease %s refused: %s", peer, ledger_id_fmt(id, ids), why);
	struct out *o =
	        svc_queue(s, peer, PEER_MSG_LEASE_STATUS, id, LEASE_FAILED, LEASE_ERR_NO_PATH);
	if (o)
		snprintf(o->reason, sizeof(o->reason), "%s", why);
}

/* Ask the next hop for the onward lease of the held transit lease x. */
static int request_onward(struct lease_svc *s, const struct ledger_lease *x, const char *next,
                          const char *rest)
{
	struct ledger_req q;
	memset(&q, 0, sizeof(q));
	svc_onward_id(x->id, s->region, q.id);
	snprintf(q.requester, sizeof(q.requester), "%s", s->region);
	snprintf(q.provider, sizeof(q.provider), "%s", next);
	snprintf(q.resource, sizeof(q.resource), "%s:%s", next, ledger_kind_name(x->kind));
	q.kind = x->kind;
	q.quantity = x->quantity;
	q.start = x->start;
	q.end = x->end;
	q.setup_prio = x->setup_prio;
	q.hold_prio = x->hold_prio;
	memcpy(q.match, x->match, sizeof(q.match));
	memcpy(q.app, x->app, sizeof(q.app));
	snprintf(q.path, sizeof(q.path), "%s", rest);
	memcpy(q.parent, x->id, LEDGER_ID_LEN);
	q.checking = true;
	/* Waiting longer than the transit lease is held would be pointless. */
	int64_t left = x->hold_until - svc_now_s();
	q.hold_s = left > 0 ? (uint32_t)left : 1;
	struct ledger_lease y;
	enum ledger_err why = LEDGER_OK;
	int rc = ledger_request(s->p.ledger, &q, svc_now_s(), &y, &why);
	if (rc == 0 && y.state == LEDGER_CHECKING)
		svc_queue(s, next, PEER_MSG_LEASE_REQUEST, q.id, 0, 0);
	return rc;
}

void svc_transit_request(struct lease_svc *s, const char *peer, const struct peer_msg *m,
                         struct ledger_req *q)
{
	const struct lease_msg *l = &m->lease;
	const uint8_t *id = l->id.b;
	const char *next = l->path[0];
	char why[256];
	struct ledger_lease x;
	bool known = ledger_get(s->p.ledger, id, &x) == 0;
	if (!known) {
		/* Checks for a new transit lease; a repeat is answered from its record. */
		const char *bad = NULL;
		if (l->resource != LEASE_RES_BANDWIDTH)
			bad = "transit carries bandwidth only";
		for (unsigned i = 0; !bad && i < l->n_path; i++) {
			if (!strcmp(l->path[i], s->region) || !strcmp(l->path[i], l->requester))
				bad = "the path loops";
			for (unsigned j = 0; !bad && j < i; j++)
				if (!strcmp(l->path[i], l->path[j]))
					bad = "the path names a region twice";
		}
		if (bad) {
			snprintf(why, sizeof(why), "%s", bad);
			refuse(s, peer, id, why);
			return;
		}
		struct peer *np = peer_mgr_find(s->mgr, next);
		if (!svc_peer_cfg(s, next) || !np) {
			snprintf(why, sizeof(why), "%s does not peer with %s", s->region, next);
			refuse(s, peer, id, why);
			return;
		}
		if (peer_get_state(np) != PEER_ESTABLISHED) {
			snprintf(why, sizeof(why), "no session from %s to %s (%s)", s->region, next,
			         peer_state_name(peer_get_state(np)));
			refuse(s, peer, id, why);
			return;
		}
	}
	if (svc_path_from_msg(l, 0, q->path, sizeof(q->path)) < 0) {
		refuse(s, peer, id, "the path is too long");
		return;
	}
	enum ledger_err e = LEDGER_OK;
	int rc = ledger_request(s->p.ledger, q, svc_now_s(), &x, &e);
	if (rc) {
		svc_reply_status(s, peer, id, LEASE_FAILED,
		                 svc_err_to_wire(e != LEDGER_OK ? e : LEDGER_E_STORAGE));
		return;
	}
	if (x.state == LEDGER_HELD) {
		uint8_t oid[LEDGER_ID_LEN];
		svc_onward_id(x.id, s->region, oid);
		struct ledger_lease y;
		if (ledger_get(s->p.ledger, oid, &y) != 0) {
			char rest[LEDGER_PATH_MAX];
			svc_path_from_msg(l, 1, rest, sizeof(rest));
			if (request_onward(s, &x, next, rest) != 0) {
				snprintf(why, sizeof(why), "%s could not record the lease to %s",
				         s->region, next);
				fail_transit(s, &x, why);
				return;
			}
		} else if (y.state == LEDGER_CHECKING) {
			svc_queue(s, next, PEER_MSG_LEASE_REQUEST, oid, 0, 0); /* a repeat */
		}
	}
	svc_answer_record(s, peer, &x); /* OFFER only once the next hop is held */
}

bool svc_transit_ready(struct lease_svc *s, const struct ledger_lease *x)
{
	uint8_t oid[LEDGER_ID_LEN];
	struct ledger_lease y;
	svc_onward_id(x->id, s->region, oid);
	return ledger_get(s->p.ledger, oid, &y) == 0 && ledger_state_live(y.state) &&
	       y.state != LEDGER_CHECKING;
}

/* The transit lease x is committing and its onward lease reserved or active: commit x. */
static void confirm_transit(struct lease_svc *s, struct ledger_lease *x)
{
	enum ledger_err e;
	int64_t now = svc_now_s();
	if (ledger_event(s->p.ledger, x->id, LEDGER_EV_CONFIRM, now, LEDGER_OK, x, &e) != 0)
		return;
	if (x->start <= now)
		ledger_event(s->p.ledger, x->id, LEDGER_EV_START, now, LEDGER_OK, x, &e);
	svc_answer_record(s, x->requester, x); /* ACK, once durable */
}

void svc_transit_commit(struct lease_svc *s, const char *peer, struct ledger_lease *x)
{
	struct ledger *l = s->p.ledger;
	int64_t now = svc_now_s();
	enum ledger_err e;
	if (x->hold_until <= now) {
		svc_reply_status(s, peer, x->id, LEASE_EXPIRED, LEASE_ERR_HOLD_TIMEOUT);
		return; /* the next tick expires it, and the onward lease with it */
	}
	uint8_t oid[LEDGER_ID_LEN];
	struct ledger_lease y;
	svc_onward_id(x->id, s->region, oid);
	if (ledger_get(l, oid, &y) != 0 || !ledger_state_live(y.state)) {
		char why[256];
		snprintf(why, sizeof(why), "the next hop's lease is %s",
		         ledger_get(l, oid, &y) == 0 ? ledger_state_name(y.state) : "missing");
		fail_transit(s, x, why);
		return;
	}
	if (y.state == LEDGER_CHECKING) {
		svc_reply_status(s, peer, x->id, LEASE_HELD, LEASE_ERR_WRONG_STATE);
		return;
	}
	if (ledger_event(l, x->id, LEDGER_EV_COMMIT, now, LEDGER_OK, x, &e) != 0) {
		svc_reply_status(s, peer, x->id, LEASE_FAILED, svc_err_to_wire(e));
		return;
	}
	if (y.state == LEDGER_HELD)
		svc_advance(s, y.provider, &y, LEDGER_COMMITTING); /* COMMIT to the next hop */
	else if (y.state == LEDGER_RESERVED || y.state == LEDGER_ACTIVE)
		confirm_transit(s, x);
}

void svc_transit_onward_moved(struct lease_svc *s, const struct ledger_lease *onward)
{
	struct ledger_lease y = *onward, x;
	if (ledger_get(s->p.ledger, y.parent, &x) != 0 || !ledger_state_live(x.state))
		return; /* the lease it carried is gone: svc_transit_cascade_cb releases y */
	switch (y.state) {
	case LEDGER_HELD:
		if (x.state == LEDGER_HELD)
			svc_answer_record(s, x.requester, &x); /* both hops held: OFFER */
		else if (x.state == LEDGER_COMMITTING)
			svc_advance(s, y.provider, &y, LEDGER_COMMITTING);
		break;
	case LEDGER_RESERVED:
	case LEDGER_ACTIVE:
		if (x.state == LEDGER_COMMITTING)
			confirm_transit(s, &x);
		break;
	default:
		break;
	}
}

void svc_transit_note_end(struct lease_svc *s, const struct ledger_change *c)
{
	const struct ledger_lease *x = &c->lease;
	if (x->reason == LEDGER_E_ENDED)
		return; /* both hops end at the same instant by themselves */
	if (!svc_is_transit(s, x) && !svc_is_onward(s, x))
		return;
	if (s->n_cascade == s->cap_cascade) {
		size_t nc = s->cap_cascade ? s->cap_cascade * 2 : 16;
		uint8_t(*n)[LEDGER_ID_LEN] = realloc(s->cascade, nc * LEDGER_ID_LEN);
		if (!n) {
			log_err("peering: out of memory: the partner of a transit lease is not "
			        "released");
			return;
		}
		s->cascade = n;
		s->cap_cascade = nc;
	}
	memcpy(s->cascade[s->n_cascade++], x->id, LEDGER_ID_LEN);
	if (s->cascade_ev)
		event_active(s->cascade_ev, EV_TIMEOUT, 0);
}

static void cascade_one(struct lease_svc *s, const uint8_t id[LEDGER_ID_LEN])
{
	struct ledger *l = s->p.ledger;
	struct ledger_lease x, y;
	enum ledger_err e;
	if (ledger_get(l, id, &x) != 0)
		return;
	if (svc_is_transit(s, &x)) {
		/* The lease we carried ended: give the next hop back. */
		uint8_t oid[LEDGER_ID_LEN];
		svc_onward_id(x.id, s->region, oid);
		if (ledger_get(l, oid, &y) == 0 && ledger_state_live(y.state) &&
		    ledger_release(l, oid, svc_now_s(), &y, &e) == 0) {
			struct out *o = svc_queue(s, y.provider, PEER_MSG_LEASE_RELEASE, oid, 0, 0);
			if (o)
				snprintf(o->reason, sizeof(o->reason), "the lease it carried is %s",
				         ledger_state_name(x.state));
		}
	}
	if (svc_is_onward(s, &x) && ledger_get(l, x.parent, &y) == 0 &&
	    ledger_state_live(y.state)) {
		char why[256];
		snprintf(why, sizeof(why), "next hop %s: %s (%s)", x.provider,
		         ledger_state_name(x.state), ledger_err_name(x.reason));
		fail_transit(s, &y, why);
	}
}

void svc_transit_cascade_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct lease_svc *s = arg;
	svc_op_begin(s);
	while (s->n_cascade) {
		uint8_t id[LEDGER_ID_LEN];
		memcpy(id, s->cascade[--s->n_cascade], LEDGER_ID_LEN);
		cascade_one(s, id);
	}
	svc_op_end(s);
}

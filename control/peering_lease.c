/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_lease: the lease service (docs/protocol.md §7-§9 over the ledger): the answer
 * queue and group commit, the session callbacks, the service's life cycle and the local
 * operations (lease_svc_request, lease_svc_release). The protocol's two roles are in
 * peering_proto.c, transit in peering_transit.c, capacity adverts in peering_cap.c.
 *
 * Owns the session manager (peering/), the queue of answers waiting for a group commit and
 * the list of answers waiting for the ledger's sync.
 * The ledger owns the leases: every state change goes through ledger.h. Each loop
 * iteration's changes are one group commit; LEASE_ACK, LEASE_STATUS and LEASE_REVOKE leave
 * only once that commit is durable, LEASE_OFFER, LEASE_REQUEST and LEASE_RELEASE once it is
 * written, LEASE_COMMIT at once (the requester's record of it is bookkeeping that trails:
 * docs/protocol.md §7.5). Must never send for a lease what the ledger has not accepted, nor
 * book anything the ledger did not admit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "log.h"
#include "peering_int.h"

int64_t svc_now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- names and conversions ----------------------------------------------------------- */

unsigned svc_kind_to_res(enum ledger_kind k)
{
	return (unsigned)k + 1; /* LEDGER_KIND_BANDWIDTH = 0 .. LEASE_RES_BANDWIDTH = 1 .. */
}

enum ledger_kind svc_res_to_kind(unsigned r)
{
	return (enum ledger_kind)(r - 1);
}

unsigned svc_state_to_wire(enum ledger_state st)
{
	return (unsigned)st + 1;
}

uint16_t svc_err_to_wire(enum ledger_err e)
{
	switch (e) {
	case LEDGER_E_NO_CAPACITY:
		return LEASE_ERR_INSUFFICIENT_CAPACITY;
	case LEDGER_E_CONFLICT:
		return LEASE_ERR_ID_CONFLICT;
	case LEDGER_E_UNKNOWN_RESOURCE:
		return LEASE_ERR_UNKNOWN_RESOURCE;
	case LEDGER_E_INVALID:
		return LEASE_ERR_BAD_PARAMETERS;
	case LEDGER_E_NOT_FOUND:
		return LEASE_ERR_UNKNOWN_LEASE;
	case LEDGER_E_HOLD_TIMEOUT:
		return LEASE_ERR_HOLD_TIMEOUT;
	case LEDGER_E_PREEMPTED:
		return LEASE_ERR_PREEMPTED;
	case LEDGER_E_ENDED:
		return LEASE_ERR_END_REACHED;
	case LEDGER_E_ILLEGAL:
	case LEDGER_E_TERMINAL:
		return LEASE_ERR_WRONG_STATE;
	case LEDGER_E_PROVISION:
	case LEDGER_E_STORAGE:
		return LEASE_ERR_INTERNAL;
	case LEDGER_E_NO_PATH:
		return LEASE_ERR_NO_PATH;
	default:
		return LEASE_ERR_NONE;
	}
}

enum ledger_err svc_err_from_wire(uint16_t e)
{
	switch (e) {
	case LEASE_ERR_INSUFFICIENT_CAPACITY:
		return LEDGER_E_NO_CAPACITY;
	case LEASE_ERR_UNKNOWN_RESOURCE:
		return LEDGER_E_UNKNOWN_RESOURCE;
	case LEASE_ERR_BAD_PARAMETERS:
		return LEDGER_E_INVALID;
	case LEASE_ERR_ID_CONFLICT:
		return LEDGER_E_CONFLICT;
	case LEASE_ERR_UNKNOWN_LEASE:
		return LEDGER_E_NOT_FOUND;
	case LEASE_ERR_HOLD_TIMEOUT:
		return LEDGER_E_HOLD_TIMEOUT;
	case LEASE_ERR_PREEMPTED:
		return LEDGER_E_PREEMPTED;
	case LEASE_ERR_END_REACHED:
		return LEDGER_E_ENDED;
	case LEASE_ERR_NO_PATH:
		return LEDGER_E_NO_PATH;
	default:
		return LEDGER_E_PEER;
	}
}

/* Pool name inside a ledger resource name ("pool.NAME.kind", "PEER:pool.NAME.kind"). */
void svc_pool_of(const char *res, char *out, size_t len)
{
	out[0] = '\0';
	const char *p = strstr(res, "pool.");
	if (!p)
		return;
	p += 5;
	const char *dot = strrchr(p, '.');
	size_t n = dot ? (size_t)(dot - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* "dst 198.51.100.0/24, dscp af41" -> MATCH TLVs. Items it cannot read are skipped (the
 * ledger holds what this code wrote, so that does not happen). */
void svc_match_to_msg(const char *match, struct peer_msg *m)
{
	struct lease_msg *l = &m->lease;
	char buf[LEDGER_MATCH_MAX];
	snprintf(buf, sizeof(buf), "%s", match);
	char *save = NULL;
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char kw[8], val[128];
		if (sscanf(item, " %7s %127s", kw, val) != 2)
			continue;
		if (!strcmp(kw, "dscp") && l->n_dscp < LEASE_MATCH_MAX) {
			uint8_t d;
			if (cfg_parse_dscp(val, &d, NULL) == 0)
				l->dscp[l->n_dscp++] = d;
		} else if ((!strcmp(kw, "dst") || !strcmp(kw, "src")) &&
		           l->n_prefix < LEASE_MATCH_MAX) {
			struct cfg_prefix cp;
			if (cfg_parse_prefix(val, &cp, NULL) == 0) {
				struct lease_prefix *px = &l->prefix[l->n_prefix++];
				memset(px, 0, sizeof(*px));
				px->dir = kw[0] == 's';
				px->family = cp.family == AF_INET6 ? 6 : 4;
				px->len = cp.len;
				memcpy(px->addr, cp.addr, cp.family == AF_INET6 ? 16 : 4);
			}
		}
	}
	if (l->n_prefix)
		m->present |= PEER_F_MATCH_PREFIX;
	if (l->n_dscp)
		m->present |= PEER_F_MATCH_DSCP;
}

void svc_match_from_msg(const struct peer_msg *m, char *out, size_t len)
{
	const struct lease_msg *l = &m->lease;
	size_t k = 0;
	out[0] = '\0';
	for (unsigned i = 0; (m->present & PEER_F_MATCH_PREFIX) && i < l->n_prefix; i++) {
		struct cfg_prefix cp = {.family = l->prefix[i].family == 6 ? AF_INET6 : AF_INET,
		                        .len = l->prefix[i].len};
		memcpy(cp.addr, l->prefix[i].addr, 16);
		char p[64];
		k += (size_t)snprintf(out + k, k < len ? len - k : 0, "%s%s %s", k ? ", " : "",
		                      l->prefix[i].dir ? "src" : "dst",
		                      cfg_fmt_prefix(&cp, p, sizeof(p)));
	}
	for (unsigned i = 0; (m->present & PEER_F_MATCH_DSCP) && i < l->n_dscp; i++) {
		char d[16];
		k += (size_t)snprintf(out + k, k < len ? len - k : 0, "%sdscp %s", k ? ", " : "",
		                      cfg_fmt_dscp(l->dscp[i], d, sizeof(d)));
	}
	if (k >= len)
		out[len - 1] = '\0';
}

/* Fill the parameter TLVs of a lease message from a ledger record. */
void svc_params_from_lease(struct peer_msg *m, const struct ledger_lease *x)
{
	struct lease_msg *l = &m->lease;
	snprintf(l->requester, sizeof(l->requester), "%s", x->requester);
	snprintf(l->provider, sizeof(l->provider), "%s", x->provider);
	l->resource = (uint8_t)svc_kind_to_res(x->kind);
	svc_pool_of(x->resource, l->resource_name, sizeof(l->resource_name));
	l->unit = (uint8_t)lease_resource_unit(l->resource);
	l->quantity = x->quantity;
	l->start_s = x->start;
	int64_t d = x->end - x->start;
	l->duration_s = d > 0 && d <= UINT32_MAX ? (uint32_t)d : UINT32_MAX;
	l->setup_prio = x->setup_prio;
	l->hold_prio = x->hold_prio;
	m->present |= PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE | PEER_F_QUANTITY |
	              PEER_F_START | PEER_F_DURATION | PEER_F_PRIORITY;
	svc_match_to_msg(x->match, m);
	svc_path_to_msg(x->path, m);
	if (x->app[0]) {
		snprintf(l->app, sizeof(l->app), "%s", x->app);
		m->present |= PEER_F_APP;
	}
}

/* ---- the answer queue and group commit ---------------------------------------------- */

static struct out *out_push(struct out **v, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct out *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	return &(*v)[(*n)++];
}

/* Queue an answer; it leaves after the operation's (or loop iteration's) group commit.
 * When it leaves (docs/protocol.md §7.5 "Durability"): LEASE_ACK, LEASE_STATUS and
 * LEASE_REVOKE state what the ledger committed, so they wait until the commit is durable;
 * LEASE_OFFER, LEASE_REQUEST and LEASE_RELEASE leave once it is written (a crash of this
 * process keeps it; a power loss before the sync is repaired by resynchronisation). */
struct out *svc_queue(struct lease_svc *s, const char *peer, uint8_t type, const uint8_t *id,
                      uint8_t state, uint16_t error)
{
	struct out *o = out_push(&s->q, &s->nq, &s->capq);
	if (!o) {
		log_err("peering: out of memory queueing a %s", peer_msg_type_name(type));
		return NULL;
	}
	memset(o, 0, sizeof(*o));
	snprintf(o->peer, sizeof(o->peer), "%s", peer);
	o->type = type;
	if (id)
		memcpy(o->id, id, LEDGER_ID_LEN);
	o->state = state;
	o->error = error;
	o->promise = type == PEER_MSG_LEASE_OFFER || type == PEER_MSG_LEASE_ACK ||
	             type == PEER_MSG_LEASE_COMMIT || type == PEER_MSG_LEASE_REQUEST;
	o->durable = type == PEER_MSG_LEASE_ACK || type == PEER_MSG_LEASE_STATUS ||
	             type == PEER_MSG_LEASE_REVOKE;
	return o;
}

void svc_send_out(struct lease_svc *s, const struct out *o, bool failed)
{
	struct peer *p = peer_mgr_find(s->mgr, o->peer);
	if (!p || peer_get_state(p) != PEER_ESTABLISHED)
		return; /* resynchronisation will tell */
	struct peer_msg *m = &s->msg;
	uint8_t type = o->type;
	if (o->end_sync) {
		struct peer_ctx *ctx = peer_get_user(p);
		if (ctx)
			ctx->end_sent = true;
		peer_msg_init(m, PEER_MSG_LEASE_STATUS);
		m->lease.sync = LEASE_SYNC_END;
		m->present = PEER_F_SYNC;
		peer_send(p, m);
		svc_send_capacity(s, p);
		return;
	}
	if (failed && o->promise) {
		if (type == PEER_MSG_LEASE_COMMIT || type == PEER_MSG_LEASE_REQUEST)
			return; /* our own record did not change: nothing was promised */
		type = PEER_MSG_LEASE_STATUS;
	}
	peer_msg_init(m, type);
	memcpy(m->lease.id.b, o->id, LEDGER_ID_LEN);
	m->present = PEER_F_LEASE_ID;
	struct ledger_lease x;
	bool have = ledger_get(s->p.ledger, o->id, &x) == 0;
	switch (type) {
	case PEER_MSG_LEASE_REQUEST:
		if (!have)
			return;
		svc_params_from_lease(m, &x);
		if (x.hold_until > svc_now_s()) {
			m->lease.hold_ms = OFFER_HOLD_S * 1000;
			m->present |= PEER_F_HOLD_TIME;
		}
		break;
	case PEER_MSG_LEASE_OFFER: {
		if (!have || x.state != LEDGER_HELD)
			return;
		int64_t left = x.hold_until - svc_now_s();
		uint64_t ms = left > 0 ? (uint64_t)left * 1000 : LEASE_HOLD_MS_MIN;
		m->lease.hold_ms = (uint32_t)(ms < LEASE_HOLD_MS_MIN   ? LEASE_HOLD_MS_MIN
		                              : ms > LEASE_HOLD_MS_MAX ? LEASE_HOLD_MS_MAX
		                                                       : ms);
		m->lease.unit = (uint8_t)lease_resource_unit(svc_kind_to_res(x.kind));
		m->lease.quantity = x.quantity;
		m->present |= PEER_F_QUANTITY | PEER_F_HOLD_TIME;
		break;
	}
	case PEER_MSG_LEASE_ACK:
		if (!have || (x.state != LEDGER_RESERVED && x.state != LEDGER_ACTIVE))
			return;
		m->lease.state = (uint8_t)svc_state_to_wire(x.state);
		m->present |= PEER_F_STATE;
		break;
	case PEER_MSG_LEASE_REVOKE:
		m->lease.error = o->error;
		m->present |= PEER_F_ERROR;
		break;
	case PEER_MSG_LEASE_STATUS:
		if (failed && o->promise) {
			m->lease.state = LEASE_FAILED;
			m->lease.error = LEASE_ERR_INTERNAL;
		} else if (o->state) {
			m->lease.state = o->state;
			m->lease.error = o->error;
		} else if (have) {
			m->lease.state = (uint8_t)svc_state_to_wire(x.state);
			m->lease.error = svc_err_to_wire(x.reason);
		} else {
			m->lease.state = LEASE_FAILED;
			m->lease.error = LEASE_ERR_UNKNOWN_LEASE;
		}
		m->present |= PEER_F_STATE;
		if (m->lease.error)
			m->present |= PEER_F_ERROR;
		if (o->resync) {
			m->lease.sync = LEASE_SYNC_RESYNC;
			m->present |= PEER_F_SYNC;
			if (have)
				svc_params_from_lease(m, &x);
			if (have && x.state == LEDGER_HELD && x.hold_until > svc_now_s()) {
				int64_t left = x.hold_until - svc_now_s();
				m->lease.hold_ms = (uint32_t)(left > 3600 ? 3600000 : left * 1000);
				m->present |= PEER_F_HOLD_TIME;
			}
		}
		break;
	default:
		break;
	}
	if (o->reason[0] && (type == PEER_MSG_LEASE_STATUS || type == PEER_MSG_LEASE_REVOKE ||
	                     type == PEER_MSG_LEASE_RELEASE)) {
		snprintf(m->lease.reason, sizeof(m->lease.reason), "%s", o->reason);
		m->present |= PEER_F_REASON;
	}
	if (peer_send(p, m) == -EINVAL) {
		char ids[LEDGER_ID_STR];
		log_err("peering: %s: could not encode %s for lease %s", o->peer,
		        peer_msg_type_name(type), ledger_id_fmt(o->id, ids));
	}
}

void svc_op_begin(struct lease_svc *s)
{
	if (s->depth++ == 0 && !s->p.no_group_commit && !s->in_batch) {
		if (ledger_batch_begin(s->p.ledger) == 0)
			s->in_batch = true;
	}
}

/* Send the waiting answers whose commit is durable now, oldest first. They are taken off
 * the list before sending: a send may close a session, which may queue more. */
static void drain(struct lease_svc *s)
{
	uint64_t durable = ledger_durable(s->p.ledger);
	size_t k = 0;
	while (k < s->nw && s->w[k].tag <= durable)
		k++;
	if (!k)
		return;
	struct out *ready = malloc(k * sizeof(*ready));
	if (!ready) {
		log_err("peering: out of memory sending %zu answers", k);
		return;
	}
	memcpy(ready, s->w, k * sizeof(*ready));
	memmove(s->w, s->w + k, (s->nw - k) * sizeof(*s->w));
	s->nw -= k;
	for (size_t i = 0; i < k; i++)
		svc_send_out(s, &ready[i], false);
	free(ready);
}

static void on_durable(void *arg)
{
	drain(arg);
}

/* Write the batch (one commit for everything this operation or loop iteration changed),
 * then send what waited for it: at once what needs the commit written, after the ledger's
 * next sync what needs it durable. */
void svc_flush(struct lease_svc *s)
{
	bool failed = false;
	if (s->in_batch) {
		s->in_batch = false;
		s->depth++; /* changes reported by the commit queue more answers */
		if (ledger_batch_commit(s->p.ledger) != 0) {
			failed = true;
			log_err("peering: ledger commit failed: answering 'internal' to this "
			        "batch");
		}
		s->depth--;
	}
	uint64_t tag = ledger_written(s->p.ledger);
	bool durable = ledger_durable(s->p.ledger) >= tag;
	while (s->nq) {
		/* Take the queue: sending may queue more (a session that closes and
		 * resynchronises), which the next turn of this loop sends. */
		struct out *q = s->q;
		size_t n = s->nq;
		s->q = NULL;
		s->nq = s->capq = 0;
		for (size_t i = 0; i < n; i++) {
			struct out *o = &q[i];
			if (failed || !o->durable || (durable && !s->nw)) {
				svc_send_out(s, o, failed);
				continue;
			}
			struct out *wo = out_push(&s->w, &s->nw, &s->capw);
			if (!wo) {
				log_err("peering: out of memory: %s for a lease sent before "
				        "the ledger's sync",
				        peer_msg_type_name(o->type));
				svc_send_out(s, o, false);
				continue;
			}
			*wo = *o;
			wo->tag = tag;
		}
		free(q);
	}
	if (s->nw)
		ledger_sync_start(s->p.ledger); /* answers wait: no delay */
	drain(s);
}

/* End of an operation started by a local caller: durable before we return to it. */
void svc_op_end(struct lease_svc *s)
{
	if (--s->depth == 0)
		svc_flush(s);
}

/* End of handling one received message: the answers wait for the group commit, which
 * runs once every session that had something to read in this loop iteration was read
 * (libevent runs an event activated now after the reads already pending). */
void svc_op_end_deferred(struct lease_svc *s)
{
	if (--s->depth > 0)
		return;
	if (!s->in_batch || s->p.no_group_commit || !s->flush_ev)
		svc_flush(s);
	else
		event_active(s->flush_ev, EV_TIMEOUT, 0);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct lease_svc *s = arg;
	if (s->depth == 0)
		svc_flush(s);
}

void lease_svc_begin(struct lease_svc *s)
{
	svc_op_begin(s);
}

void lease_svc_end(struct lease_svc *s)
{
	svc_op_end(s);
}

/* ---- ledger changes we did not cause ------------------------------------------------- */

void lease_svc_on_change(struct lease_svc *s, const struct ledger_change *c)
{
	const struct ledger_lease *x = &c->lease;
	bool provider = strcmp(x->provider, s->region) == 0;
	bool requester = strcmp(x->requester, s->region) == 0;
	if (provider && !requester && c->from != x->state) {
		if (x->state == LEDGER_REVOKED && x->reason != LEDGER_E_PEER)
			svc_queue(s, x->requester, PEER_MSG_LEASE_REVOKE, x->id, 0,
			          x->reason == LEDGER_OK ? LEASE_ERR_ADMINISTRATIVE
			                                 : svc_err_to_wire(x->reason));
		else if (x->state == LEDGER_EXPIRED && c->from == LEDGER_HELD)
			svc_queue(s, x->requester, PEER_MSG_LEASE_STATUS, x->id, LEASE_EXPIRED,
			          LEASE_ERR_HOLD_TIMEOUT);
	}
	/* Bookings on this region's own links and pools (a peer's, or the allocation
	 * controller's) change what it can advertise. */
	if ((c->created || ledger_state_live(x->state) != ledger_state_live(c->from)) &&
	    ledger_resource_find(s->p.ledger, x->resource) >= 0)
		s->cap_dirty = true;
	if (!ledger_state_live(x->state) && ledger_state_live(c->from))
		svc_transit_note_end(s, c);
	if (s->depth == 0)
		svc_flush(s); /* from the ledger's own timer */
}

/* ---- session callbacks --------------------------------------------------------------- */

static void on_msg(void *arg, struct peer *p, const struct peer_msg *m)
{
	struct lease_svc *s = arg;
	const char *peer = peer_name(p);
	svc_op_begin(s);
	switch (m->type) {
	case PEER_MSG_CAPACITY:
		svc_on_capacity(s, p, m);
		break;
	case PEER_MSG_LEASE_REQUEST:
		svc_on_request(s, peer, m);
		break;
	case PEER_MSG_LEASE_OFFER:
		svc_on_offer(s, peer, m->lease.id.b);
		break;
	case PEER_MSG_LEASE_COMMIT:
		svc_on_commit(s, peer, m->lease.id.b);
		break;
	case PEER_MSG_LEASE_ACK:
		svc_on_ack(s, peer, m);
		break;
	case PEER_MSG_LEASE_RELEASE:
		svc_on_release(s, peer, m->lease.id.b);
		break;
	case PEER_MSG_LEASE_REVOKE:
		svc_on_revoke(s, peer, m);
		break;
	case PEER_MSG_LEASE_STATUS:
		if ((m->present & PEER_F_SYNC) && (m->lease.sync & LEASE_SYNC_END)) {
			struct peer_ctx *ctx = peer_get_user(p);
			if (ctx)
				ctx->synced = true;
			svc_after_peer_sync(s, peer);
		} else {
			svc_on_status(s, peer, m);
		}
		break;
	default:
		break;
	}
	svc_op_end_deferred(s);
}

static void on_burst_end(void *arg, struct peer *p)
{
	(void)p, (void)arg; /* the flush event, armed by op_end_deferred, commits */
}

static void on_state(void *arg, struct peer *p, enum peer_state old, enum peer_state now)
{
	struct lease_svc *s = arg;
	struct peer_ctx *ctx = peer_get_user(p);
	if (ctx && now != PEER_ESTABLISHED)
		ctx->synced = ctx->end_sent = false;
	if (old == PEER_ESTABLISHED && now != PEER_ESTABLISHED)
		svc_cap_peer_down(s, p);
	if (now == PEER_ESTABLISHED)
		svc_resync(s, p);
	if (s->p.on_peer) {
		struct peering_peer_change c = {.peer = peer_name(p), .from = old, .to = now};
		s->p.on_peer(s->p.arg, &c);
	}
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static void copy_cfg(struct lease_svc *s, const struct tidal_cfg *cfg)
{
	snprintf(s->region, sizeof(s->region), "%s", cfg->region.name);
	s->asn = cfg->region.asn;
	s->horizon_s =
	        cfg->forecast.horizon_ms ? (int64_t)(cfg->forecast.horizon_ms / 1000) : 72 * 3600;
	s->peering = cfg->peering;
	free(s->peers);
	free(s->pools);
	s->peers = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*s->peers));
	s->pools = calloc(cfg->n_pools ? cfg->n_pools : 1, sizeof(*s->pools));
	s->n_peers = s->peers ? cfg->n_peers : 0;
	s->n_pools = s->pools ? cfg->n_pools : 0;
	for (size_t i = 0; i < s->n_peers; i++) {
		struct peer_cfg *pc = &s->peers[i];
		snprintf(pc->name, sizeof(pc->name), "%s", cfg->peers[i].name);
		snprintf(pc->link, sizeof(pc->link), "%s", cfg->peers[i].link);
		snprintf(pc->host, sizeof(pc->host), "%s", cfg->peers[i].address.host);
		pc->port = cfg->peers[i].address.port;
	}
	for (size_t i = 0; i < s->n_pools; i++) {
		struct pool_cfg *pc = &s->pools[i];
		snprintf(pc->name, sizeof(pc->name), "%s", cfg->pools[i].name);
		pc->amount[LEASE_RES_VCPU] = cfg->pools[i].vcpu;
		pc->amount[LEASE_RES_MEMORY] = cfg->pools[i].memory_bytes;
		pc->amount[LEASE_RES_STORAGE] = cfg->pools[i].storage_bytes;
	}
}

static void add_peer(struct lease_svc *s, const struct peer_cfg *pc)
{
	struct peer *p = peer_mgr_add(s->mgr, pc->name, pc->host[0] ? pc->host : NULL, pc->port);
	if (p)
		peer_set_user(p, calloc(1, sizeof(struct peer_ctx)));
}

static void drop_peer(struct lease_svc *s, struct peer *p)
{
	svc_peer_ctx_free(peer_get_user(p));
	peer_set_user(p, NULL);
	peer_mgr_remove(s->mgr, p);
}

static int start_sessions(struct lease_svc *s)
{
	const struct cfg_peering *pg = &s->peering;
	uint32_t resources = 0;
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i].link[0])
			resources |= 1u << LEASE_RES_BANDWIDTH;
	for (size_t i = 0; i < s->n_pools; i++)
		for (unsigned r = LEASE_RES_VCPU; r <= LEASE_RES_MAX; r++)
			if (s->pools[i].amount[r])
				resources |= 1u << r;
	struct peer_mgr_params mp = {
	        .base = s->p.base,
	        .region = s->region,
	        .asn = s->asn,
	        .listen_host = pg->listen.host,
	        .listen_port = pg->listen.port,
	        .certificate = pg->certificate,
	        .private_key = pg->private_key,
	        .ca = pg->ca,
	        .hold_time_s = (uint16_t)(pg->hold_time_ms / 1000),
	        .resources = resources,
	        .on_state = on_state,
	        .on_msg = on_msg,
	        .on_burst_end = on_burst_end,
	        .cb_arg = s,
	};
	s->mgr = peer_mgr_new(&mp);
	if (!s->mgr)
		return -EINVAL;
	for (size_t i = 0; i < s->n_peers; i++)
		add_peer(s, &s->peers[i]);
	return 0;
}

static void stop_sessions(struct lease_svc *s)
{
	if (!s->mgr)
		return;
	for (size_t i = 0; i < peer_mgr_count(s->mgr); i++) {
		struct peer *p = peer_mgr_at(s->mgr, i);
		svc_peer_ctx_free(peer_get_user(p));
		peer_set_user(p, NULL);
	}
	peer_mgr_free(s->mgr);
	s->mgr = NULL;
}

struct lease_svc *lease_svc_new(const struct lease_svc_params *p)
{
	if (!p->base || !p->ledger || !p->cfg || !p->cfg->peering.enabled) {
		log_err("peering: needs an event base, the ledger and a [peering] section");
		return NULL;
	}
	struct lease_svc *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->p = *p;
	s->p.cfg = NULL;
	copy_cfg(s, p->cfg);
	const char *fault = getenv("TIDAL_PEERING_FAULT");
	if (fault && !strcmp(fault, "crash-after-commit")) {
		s->crash_after_commit = true;
		log_warn("peering: fault injection armed: the first LEASE_COMMIT kills tidald");
	}
	if (ledger_watch_durable(p->ledger, on_durable, s) < 0) {
		free(s);
		return NULL;
	}
	s->cap_timer = event_new(p->base, -1, EV_PERSIST, svc_cap_timer_cb, s);
	s->flush_ev = event_new(p->base, -1, 0, flush_cb, s);
	s->cascade_ev = event_new(p->base, -1, 0, svc_transit_cascade_cb, s);
	struct timeval one = {1, 0};
	if (!s->cap_timer || !s->flush_ev || !s->cascade_ev || event_add(s->cap_timer, &one) ||
	    start_sessions(s)) {
		lease_svc_free(s);
		return NULL;
	}
	return s;
}

void lease_svc_free(struct lease_svc *s)
{
	if (!s)
		return;
	if (s->in_batch)
		svc_flush(s);
	ledger_unwatch_durable(s->p.ledger, on_durable, s);
	stop_sessions(s);
	if (s->cap_timer)
		event_free(s->cap_timer);
	if (s->flush_ev)
		event_free(s->flush_ev);
	if (s->cascade_ev)
		event_free(s->cascade_ev);
	free(s->cascade);
	free(s->q);
	free(s->w);
	free(s->peers);
	free(s->pools);
	free(s);
}

int lease_svc_reload(struct lease_svc *s, const struct tidal_cfg *cfg)
{
	struct cfg_peering old = s->peering;
	copy_cfg(s, cfg);
	const struct cfg_peering *n = &s->peering;
	if (memcmp(&old.listen, &n->listen, sizeof(old.listen)) ||
	    strcmp(old.certificate, n->certificate) || strcmp(old.private_key, n->private_key) ||
	    strcmp(old.ca, n->ca) || old.hold_time_ms != n->hold_time_ms) {
		log_info("peering: [peering] changed: restarting the sessions");
		stop_sessions(s);
		return start_sessions(s);
	}
	/* Peers gone or moved are removed; new or moved ones added. */
	for (size_t i = 0; i < peer_mgr_count(s->mgr);) {
		struct peer *p = peer_mgr_at(s->mgr, i);
		if (!svc_peer_cfg(s, peer_name(p)))
			drop_peer(s, p);
		else
			i++;
	}
	for (size_t i = 0; i < s->n_peers; i++)
		if (!peer_mgr_find(s->mgr, s->peers[i].name))
			add_peer(s, &s->peers[i]);
	return 0;
}

struct peer_mgr *lease_svc_sessions(struct lease_svc *s)
{
	return s->mgr;
}

/* ---- local operations ---------------------------------------------------------------- */

/* A transit path: region names after the peer, none twice, neither this region nor the
 * peer, at most LEASE_PATH_MAX; bandwidth only. Copied to out with ',' between names. */
static int check_path(const struct lease_svc *s, const struct lease_svc_request *r, char *out,
                      size_t len, char *why, size_t why_len)
{
	if (r->resource != LEASE_RES_BANDWIDTH) {
		snprintf(why, why_len, "a path (transit) carries bandwidth only");
		return -EINVAL;
	}
	char names[LEASE_PATH_MAX][PEER_REGION_MAX];
	unsigned n = 0;
	size_t k = 0;
	out[0] = '\0';
	for (const char *p = r->path; *p;) {
		const char *comma = strchr(p, ',');
		size_t m = comma ? (size_t)(comma - p) : strlen(p);
		char name[PEER_REGION_MAX] = "";
		if (m < sizeof(name)) {
			memcpy(name, p, m);
			name[m] = '\0';
		}
		if (!peer_region_valid(name)) {
			snprintf(why, why_len, "path: '%.*s' is not a region id",
			         (int)(m < 64 ? m : 64), p);
			return -EINVAL;
		}
		if (n == LEASE_PATH_MAX) {
			snprintf(why, why_len, "path: at most %d regions after the peer",
			         LEASE_PATH_MAX);
			return -EINVAL;
		}
		if (!strcmp(name, s->region) || !strcmp(name, r->peer)) {
			snprintf(why, why_len, "path: %s would loop back", name);
			return -EINVAL;
		}
		for (unsigned i = 0; i < n; i++)
			if (!strcmp(names[i], name)) {
				snprintf(why, why_len, "path: %s appears twice", name);
				return -EINVAL;
			}
		snprintf(names[n++], PEER_REGION_MAX, "%s", name);
		k += (size_t)snprintf(out + k, len - k, "%s%s", k ? "," : "", name);
		p += m + (comma != NULL);
	}
	return 0;
}

int lease_svc_request(struct lease_svc *s, const struct lease_svc_request *r,
                      struct ledger_lease *out, char *why, size_t why_len)
{
	const struct peer_cfg *pc = r->peer ? svc_peer_cfg(s, r->peer) : NULL;
	if (!pc) {
		snprintf(why, why_len, "no [peer.%s] in the config", r->peer ? r->peer : "");
		return -ENOENT;
	}
	if (r->resource < LEASE_RES_BANDWIDTH || r->resource > LEASE_RES_MAX) {
		snprintf(why, why_len, "resource must be bandwidth, vcpu, memory or storage");
		return -EINVAL;
	}
	struct ledger_req q;
	memset(&q, 0, sizeof(q));
	if (r->path && r->path[0]) {
		int rc = check_path(s, r, q.path, sizeof(q.path), why, why_len);
		if (rc)
			return rc;
	}
	ledger_id_new(q.id);
	snprintf(q.requester, sizeof(q.requester), "%s", s->region);
	snprintf(q.provider, sizeof(q.provider), "%s", pc->name);
	if (r->resource == LEASE_RES_BANDWIDTH || !r->pool || !r->pool[0])
		snprintf(q.resource, sizeof(q.resource), "%s:%s", pc->name,
		         ledger_kind_name(svc_res_to_kind(r->resource)));
	else
		snprintf(q.resource, sizeof(q.resource), "%s:pool.%s.%s", pc->name, r->pool,
		         ledger_kind_name(svc_res_to_kind(r->resource)));
	q.kind = svc_res_to_kind(r->resource);
	q.quantity = r->quantity;
	q.start = r->start_s;
	q.end = r->start_s + (int64_t)r->duration_s;
	q.setup_prio = r->setup_prio;
	q.hold_prio = r->hold_prio;
	if (r->match)
		snprintf(q.match, sizeof(q.match), "%s", r->match);
	if (r->app)
		snprintf(q.app, sizeof(q.app), "%s", r->app);
	q.checking = true;
	/* The wait for an offer lasts the peer's restart time (protocol.md §8 step 4). */
	q.hold_s = 120;
	struct peer *p = peer_mgr_find(s->mgr, pc->name);
	if (p && peer_get_state(p) == PEER_ESTABLISHED) {
		struct peer_stats st;
		peer_get_stats(p, &st);
		if (st.peer_restart_time_s)
			q.hold_s = st.peer_restart_time_s;
	}
	svc_op_begin(s);
	enum ledger_err e = LEDGER_OK;
	int rc = ledger_request(s->p.ledger, &q, svc_now_s(), out, &e);
	if (rc == 0)
		svc_queue(s, pc->name, PEER_MSG_LEASE_REQUEST, q.id, 0, 0);
	else
		snprintf(why, why_len, "refused by the ledger: %s", ledger_err_name(e));
	svc_op_end(s);
	if (rc == 0)
		ledger_get(s->p.ledger, q.id, out);
	return rc;
}

int lease_svc_release(struct lease_svc *s, const uint8_t id[LEDGER_ID_LEN],
                      struct ledger_lease *out, char *why, size_t why_len)
{
	struct ledger_lease x;
	if (ledger_get(s->p.ledger, id, &x) != 0) {
		snprintf(why, why_len, "no such lease");
		return -ENOENT;
	}
	bool requester = !strcmp(x.requester, s->region);
	bool provider = !strcmp(x.provider, s->region);
	enum ledger_err e = LEDGER_OK;
	int rc;
	svc_op_begin(s);
	if (provider && !requester) {
		/* No reason recorded = an operator's decision; lease_svc_on_change sends
		 * LEASE_REVOKE(administrative) once it is durable. */
		rc = ledger_revoke(s->p.ledger, id, svc_now_s(), LEDGER_OK, out, &e);
	} else {
		rc = ledger_release(s->p.ledger, id, svc_now_s(), out, &e);
		if (rc == 0 && requester && !provider)
			svc_queue(s, x.provider, PEER_MSG_LEASE_RELEASE, id, 0, 0);
	}
	if (rc)
		snprintf(why, why_len, "refused by the ledger: %s", ledger_err_name(e));
	svc_op_end(s);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_int: what the lease service's files share (control/peering_lease.c: queue, group
 * commit, sessions, lifecycle, local operations; peering_proto.c: both roles of the lease
 * protocol and resynchronisation; peering_transit.c: leases carried on over a PATH;
 * peering_cap.c: capacity adverts). Nothing outside these files includes it.
 */
#ifndef TIDAL_CONTROL_PEERING_INT_H
#define TIDAL_CONTROL_PEERING_INT_H

#include <event2/util.h>

#include "cfg.h"
#include "peering_mod.h"

#define RETAIN_SYNC_S      86400 /* terminal leases resynchronised (protocol.md §8) */
#define OFFER_HOLD_S       30
#define PAST_START_SLACK_S 60

struct out {
	char peer[PEER_REGION_MAX];
	uint8_t type;
	uint8_t id[LEDGER_ID_LEN];
	uint8_t state;
	uint16_t error;
	uint32_t hold_ms;
	bool lease_params; /* REQUEST/resync STATUS: parameters from the ledger record */
	bool resync;
	bool end_sync;    /* the END_OF_SYNC after a resynchronisation's statuses */
	bool promise;     /* OFFER/ACK: if the batch fails, say internal instead */
	bool durable;     /* leaves only once the ledger's commit is durable, not just written */
	uint64_t tag;     /* durable: the ledger commit it waits for */
	char reason[256]; /* REASON TLV (STATUS, REVOKE, RELEASE), for people; may be empty */
};

/* One capacity advert (a CAPACITY_ENTRY) received from a peer or sent to it. */
struct cap_adv {
	uint8_t resource;         /* enum lease_resource */
	char name[PEER_NAME_MAX]; /* "", a pool, or (transit, bandwidth) a region id */
	int64_t received_s;       /* when it arrived (received adverts) */
	uint16_t n_steps;
	struct peer_cap_step steps[PEER_CAP_STEPS_MAX];
};

struct peer_ctx {
	bool synced;   /* END_OF_SYNC received this session */
	bool end_sent; /* our END_OF_SYNC sent this session: CAPACITY may follow */
	/* Adverts received this session, replaced by (resource, name) as they arrive. */
	struct cap_adv *adv;
	size_t n_adv, cap_adv;
	/* Transit adverts sent to this peer (region names), to withdraw those that go. */
	char (*relayed)[PEER_REGION_MAX];
	size_t n_relayed;
};

struct lease_svc {
	struct lease_svc_params p;
	struct tidal_cfg *cfg; /* our copy: a tidal_cfg is deep; we keep only what we need */
	char region[PEER_REGION_MAX];
	struct peer_mgr *mgr;
	struct out *q; /* answers of the operation or loop iteration in progress */
	size_t nq, capq;
	struct out *w; /* answers written, waiting for the ledger to make them durable */
	size_t nw, capw;
	bool crash_after_commit; /* fault injection for tests (TIDAL_PEERING_FAULT) */
	int depth;               /* >0 while one of our operations runs */
	bool in_batch;
	bool cap_dirty;
	struct event *cap_timer;
	struct event *flush_ev; /* group commit: flush after this loop iteration's reads */
	/* Transit: leases whose partner (the lease it carries on, or carries it) must follow
	 * a terminal state; handled from the loop, since ledger callbacks may not change it. */
	uint8_t (*cascade)[LEDGER_ID_LEN];
	size_t n_cascade, cap_cascade;
	struct event *cascade_ev;
	struct peer_msg msg; /* scratch for building messages */
	/* Copies of what the config said, to rebuild sessions on reload. */
	struct cfg_peering peering;
	struct peer_cfg {
		char name[PEER_REGION_MAX];
		char link[CFG_NAME_MAX];
		char host[CFG_HOST_MAX];
		uint16_t port;
	} * peers;
	size_t n_peers;
	struct pool_cfg {
		char name[CFG_NAME_MAX];
		uint64_t amount[LEASE_RES_MAX + 1];
	} * pools;
	size_t n_pools;
	uint32_t asn;
	int64_t horizon_s; /* capacity adverts cover [now, now + horizon_s) */
};

/* peering_lease.c: conversions, the answer queue and group commit. */
int64_t svc_now_s(void);
unsigned svc_kind_to_res(enum ledger_kind k);
enum ledger_kind svc_res_to_kind(unsigned r);
unsigned svc_state_to_wire(enum ledger_state st);
uint16_t svc_err_to_wire(enum ledger_err e);
enum ledger_err svc_err_from_wire(uint16_t e);
void svc_pool_of(const char *res, char *out, size_t len);
void svc_match_to_msg(const char *match, struct peer_msg *m);
void svc_match_from_msg(const struct peer_msg *m, char *out, size_t len);
void svc_params_from_lease(struct peer_msg *m, const struct ledger_lease *x);
struct out *svc_queue(struct lease_svc *s, const char *peer, uint8_t type, const uint8_t *id,
                      uint8_t state, uint16_t error);
void svc_send_out(struct lease_svc *s, const struct out *o, bool failed);
void svc_op_begin(struct lease_svc *s);
void svc_flush(struct lease_svc *s);
void svc_op_end(struct lease_svc *s);
void svc_op_end_deferred(struct lease_svc *s);

/* peering_proto.c: the two roles and resynchronisation. */
const struct peer_cfg *svc_peer_cfg(const struct lease_svc *s, const char *name);
bool svc_local_resource(const struct lease_svc *s, const char *peer, unsigned res, const char *pool,
                        char *out, size_t len);
void svc_reply_status(struct lease_svc *s, const char *peer, const uint8_t *id, unsigned state,
                      unsigned error);
void svc_answer_record(struct lease_svc *s, const char *peer, const struct ledger_lease *x);
void svc_on_request(struct lease_svc *s, const char *peer, const struct peer_msg *m);
bool svc_get_role(struct lease_svc *s, const char *peer, const uint8_t *id, bool provider,
                  struct ledger_lease *x);
void svc_on_commit(struct lease_svc *s, const char *peer, const uint8_t *id);
void svc_on_release(struct lease_svc *s, const char *peer, const uint8_t *id);
void svc_send_commit(struct lease_svc *s, const char *peer, const uint8_t *id);
void svc_advance(struct lease_svc *s, const char *peer, struct ledger_lease *x,
                 enum ledger_state target);
void svc_adopt_terminal(struct lease_svc *s, struct ledger_lease *x, unsigned state,
                        unsigned error);
void svc_on_offer(struct lease_svc *s, const char *peer, const uint8_t *id);
void svc_on_ack(struct lease_svc *s, const char *peer, const struct peer_msg *m);
void svc_on_revoke(struct lease_svc *s, const char *peer, const struct peer_msg *m);
void svc_on_status(struct lease_svc *s, const char *peer, const struct peer_msg *m);
void svc_resync(struct lease_svc *s, struct peer *p);
void svc_after_peer_sync(struct lease_svc *s, const char *peer);

/* peering_transit.c: leases with a PATH (docs/protocol.md §7.6). */
/* The id of the lease `region` asks of the next hop to carry lease `up` onward. */
void svc_onward_id(const uint8_t up[LEDGER_ID_LEN], const char *region, uint8_t out[LEDGER_ID_LEN]);
/* x is a lease this region provides and carries on (transit), or asks of the next hop to
 * carry another lease onward (onward). */
bool svc_is_transit(const struct lease_svc *s, const struct ledger_lease *x);
bool svc_is_onward(const struct lease_svc *s, const struct ledger_lease *x);
/* LEASE_REQUEST whose PATH names other regions; q is the request for this region's own hop
 * (the link towards the requester). Answers (or waits for the next hop) itself. */
void svc_transit_request(struct lease_svc *s, const char *peer, const struct peer_msg *m,
                         struct ledger_req *q);
/* LEASE_COMMIT for a transit lease this region holds. */
void svc_transit_commit(struct lease_svc *s, const char *peer, struct ledger_lease *x);
/* Can a held transit lease be offered (its next hop is held or further)? */
bool svc_transit_ready(struct lease_svc *s, const struct ledger_lease *x);
/* The next hop's answer moved an onward lease: bring the lease it carries along. */
void svc_transit_onward_moved(struct lease_svc *s, const struct ledger_lease *onward);
/* A transit or onward lease became terminal (from lease_svc_on_change). */
void svc_transit_note_end(struct lease_svc *s, const struct ledger_change *c);
void svc_transit_cascade_cb(evutil_socket_t fd, short what, void *arg);
/* "lon,par" <-> PATH TLV. */
void svc_path_to_msg(const char *path, struct peer_msg *m);
int svc_path_from_msg(const struct lease_msg *l, unsigned first, char *out, size_t len);

/* peering_cap.c: capacity adverts. */
void svc_send_capacity(struct lease_svc *s, struct peer *p);
void svc_on_capacity(struct lease_svc *s, struct peer *p, const struct peer_msg *m);
void svc_cap_timer_cb(evutil_socket_t fd, short what, void *arg);
/* A peer's session left Established: forget what it advertised. */
void svc_cap_peer_down(struct lease_svc *s, struct peer *p);
void svc_peer_ctx_free(struct peer_ctx *ctx);

#endif

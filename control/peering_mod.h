/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_mod: leases with peer regions, inside tidald (docs/protocol.md, docs/peering.md).
 *
 * Two layers:
 *   - the lease service (lease_svc_*): runs the peering sessions of every [peer.*] and plays
 *     both roles of the lease protocol against the region's ledger: as provider it answers
 *     LEASE_REQUEST from the ledger (offer = hold), commits durably before LEASE_ACK, expires
 *     and revokes; as requester it records, requests, commits on offer and releases; after
 *     every reconnection it resynchronises (protocol.md §8). It needs an event base, a ledger
 *     and a config, not tidald, so benchmarks and tests can run it alone.
 *   - the tidald module `peering` (tidald_peering_module): starts the service from the config,
 *     feeds it the ledger's changes, and serves `show peers`, `lease request`, `lease
 *     release`, `show leases` and the metrics tidal_peer_up, tidal_peer_messages_total.
 *
 * Owns the sessions and the per-peer protocol state; the leases themselves belong to the
 * ledger. Never books capacity except through ledger.h.
 */
#ifndef TIDAL_CONTROL_PEERING_MOD_H
#define TIDAL_CONTROL_PEERING_MOD_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "peering.h"

struct event_base;
struct tidal_cfg;
struct tidald;
struct lease_svc;

/* What TIDALD_EV_PEER_CHANGED carries (valid during the call only). */
struct peering_peer_change {
	const char *peer;
	enum peer_state from, to;
};

struct lease_svc_params {
	struct event_base *base;
	struct ledger *ledger;
	const struct tidal_cfg *cfg; /* region, [peering], [peer.*], links, pools; copied */
	/* Group commit: ledger writes made while reading one burst of messages from a session
	 * share one transaction, and the answers go out after it is durable. Default on. */
	bool no_group_commit;
	/* Peer session state changes (optional). */
	void (*on_peer)(void *arg, const struct peering_peer_change *c);
	/* A lease this region asked of a peer moved because of the peer's message (held on
	 * LEASE_OFFER, committing, reserved/active on LEASE_ACK, or a terminal state), called
	 * at once (optional). For reserved/active the provider's commit is durable; this
	 * region's own record of it is written with the loop iteration's group commit and
	 * reported through the ledger (on_change) once durable. */
	void (*on_lease)(void *arg, const struct ledger_lease *x);
	void *arg;
};

struct lease_svc *lease_svc_new(const struct lease_svc_params *p);
void lease_svc_free(struct lease_svc *s);
/* New config: peers added/removed; a changed [peering] section restarts the sessions. */
int lease_svc_reload(struct lease_svc *s, const struct tidal_cfg *cfg);
/* Feed every durable ledger change here (the tidald module does so from
 * TIDALD_EV_LEASE_CHANGED; standalone users from the ledger's on_change). */
void lease_svc_on_change(struct lease_svc *s, const struct ledger_change *c);
struct peer_mgr *lease_svc_sessions(struct lease_svc *s);

/* A lease asked of a peer. */
struct lease_svc_request {
	const char *peer;
	enum lease_resource resource;
	const char *pool;  /* vcpu/memory/storage: the provider's pool; NULL = its default */
	uint64_t quantity; /* bits/s, vCPUs or bytes */
	int64_t start_s;
	uint32_t duration_s;
	uint8_t setup_prio, hold_prio; /* 0..7, setup >= hold */
	const char *app;               /* may be NULL */
	const char *match; /* config syntax ("dst 198.51.100.0/24, dscp af41"); may be NULL */
	/* Transit (bandwidth only): the regions the traffic is carried on to after the peer,
	 * comma-separated, the last one the destination ("lon", "lon,par"). The peer books
	 * its hop and leases the next one itself (docs/protocol.md §7.6); one lease id covers
	 * the whole path, and releasing it frees every hop. NULL or "" = a direct lease. */
	const char *path;
};
/* Record the lease (checking, durable) and send LEASE_REQUEST when the session is up (or
 * after the next resynchronisation). 0 with *out filled, or a negative errno with why
 * (a message for people) set. */
int lease_svc_request(struct lease_svc *s, const struct lease_svc_request *r,
                      struct ledger_lease *out, char *why, size_t why_len);
/* Group several lease_svc_request/release calls into one durable commit (nestable); their
 * messages leave at the outermost lease_svc_end. */
void lease_svc_begin(struct lease_svc *s);
void lease_svc_end(struct lease_svc *s);
/* Give a lease back: as requester, release it (and tell the provider); as provider, revoke
 * it (administrative); a local booking is released. */
int lease_svc_release(struct lease_svc *s, const uint8_t id[LEDGER_ID_LEN],
                      struct ledger_lease *out, char *why, size_t why_len);

/* Capacity that peers advertise (docs/protocol.md §9), for choosing providers and transit
 * paths. Each advert is a step function of unreserved capacity over the peer's planning
 * window (tidald: the forecast horizon, 72 h by default), at most 64 steps, in base units
 * (bits/s, vCPUs, bytes). Only peers with an Established session count; adverts are hints
 * (only a lease books) and may understate, never overstate, what is free. */
struct peering_advert {
	const char *peer; /* the region that advertised it */
	enum lease_resource resource;
	/* bandwidth: "" = the peer's own link towards this region (the hop a lease from the
	 * peer books); a region id R (transit is true) = the link from R towards the peer, as
	 * R advertised it to the peer: the second hop of a lease from the peer with PATH [R].
	 * vcpu/memory/storage: the peer's pool. */
	const char *name;
	bool transit;
	int64_t received_s; /* when it arrived (UTC seconds) */
	size_t n_steps;     /* 1..64 */
	/* steps[i].amount is free from steps[i].time_s until steps[i + 1].time_s; the first
	 * step stands for "from now on", the last holds to the end of the window. */
	const struct peer_cap_step *steps;
};
/* Call fn for every advert of `peer` (NULL: of every peer); stops at fn's first non-zero
 * return and returns it. The advert is valid during the call only. */
int lease_svc_adverts(struct lease_svc *s, const char *peer,
                      int (*fn)(const struct peering_advert *a, void *arg), void *arg);
/* The least free capacity `peer` advertised for (resource, name) over [start, end) into
 * *amount; -ENOENT when it advertised none (or its session is down). */
int lease_svc_advert_min(struct lease_svc *s, const char *peer, enum lease_resource res,
                         const char *name, int64_t start, int64_t end, uint64_t *amount);

extern const struct tidald_module_ops tidald_peering_module;
struct lease_svc *peering_mod_get(struct tidald *d);

#endif

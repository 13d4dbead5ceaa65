/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger: the region's resource ledger (docs/ledger.md).
 *
 * Resources come from the config: every [link.NAME] is a bandwidth resource "link.NAME"
 * with its reservable capacity (bits/s); every [pool.NAME] gives "pool.NAME.vcpu",
 * "pool.NAME.memory" and "pool.NAME.storage" (vcpu, bytes, bytes) when non-zero. Each has a
 * capacity calendar (calendar.h). Leases book a quantity of one resource over [start, end)
 * and move through the states below; admission, holds, preemption by priority (RSVP-TE
 * setup/hold), idempotency by lease id and the transitions are decided here, and every
 * change is written to SQLite (WAL) before the call that made it returns: synced to disk
 * too (synchronous=FULL), or, with deferred_sync, synced by a background thread shortly
 * after (group commit that does not stall the caller; changes are reported once durable).
 *
 * Owns: the open database, the in-memory leases and calendars. Never touches the network,
 * never arms timers: the caller passes the wall clock in and drives expiry with ledger_tick
 * (the tidald module does so from a libevent timer). Not thread-safe: one caller at a time.
 *
 * Errors: functions return 0 or a negative errno and, when `why` is not NULL, the precise
 * ledger error code (enum ledger_err), which the peering layer maps onto its wire codes:
 *   -EINVAL invalid, -ENOENT not found / unknown resource, -EEXIST id conflict,
 *   -ENOSPC no capacity, -EPERM illegal transition or terminal lease, -ETIMEDOUT the hold
 *   expired, -EIO storage failure (nothing changed: memory is reloaded from the database).
 */
#ifndef TIDAL_CONTROL_LEDGER_H
#define TIDAL_CONTROL_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"

struct tidal_cfg;
struct ledger;

#define LEDGER_ID_LEN 16
#define LEDGER_ID_STR 33 /* 32 hex digits and NUL */
#define LEDGER_NAME_MAX 64 /* region and app names (= CFG_NAME_MAX) */
#define LEDGER_RES_MAX 96  /* "pool.NAME.storage" with NAME up to 63 characters */
#define LEDGER_MATCH_MAX 256
#define LEDGER_PATH_MAX 520 /* up to 8 region names, comma-separated */
#define LEDGER_PRIO_LOWEST 7 /* priorities 0 (highest) .. 7 (lowest) */

enum ledger_kind {
	LEDGER_KIND_BANDWIDTH = 0, /* bits per second */
	LEDGER_KIND_VCPU,          /* virtual CPUs */
	LEDGER_KIND_MEMORY,        /* bytes */
	LEDGER_KIND_STORAGE,       /* bytes */
	LEDGER_N_KINDS,
};

/* Lease states (NSI-style). Non-terminal states (checking .. active) book capacity when the
 * lease's resource is local; terminal ones (released .. revoked) never do. */
enum ledger_state {
	LEDGER_CHECKING = 0, /* asked a peer, waiting for its offer (hold_until bounds the wait) */
	LEDGER_HELD,         /* capacity held until hold_until, waiting for a commit */
	LEDGER_COMMITTING,   /* commit sent to the provider, waiting for its ack */
	LEDGER_RESERVED,     /* committed, before start */
	LEDGER_ACTIVE,       /* committed, start <= now < end */
	LEDGER_RELEASED,     /* released by either side */
	LEDGER_EXPIRED,      /* end reached, or the hold ran out */
	LEDGER_FAILED,       /* refused or failed (reason says why) */
	LEDGER_REVOKED,      /* revoked by the provider or preempted */
	LEDGER_N_STATES,
};

enum ledger_event {
	LEDGER_EV_ADMIT = 0,     /* checking -> held: the provider offered */
	LEDGER_EV_REJECT,        /* checking -> failed: the provider refused */
	LEDGER_EV_COMMIT,        /* held -> committing */
	LEDGER_EV_CONFIRM,       /* committing -> reserved: durable at the provider */
	LEDGER_EV_HOLD_TIMEOUT,  /* checking -> failed, held -> expired */
	LEDGER_EV_START,         /* reserved -> active */
	LEDGER_EV_END,           /* any live state -> expired */
	LEDGER_EV_RELEASE,       /* any live state -> released */
	LEDGER_EV_REVOKE,        /* any live state -> revoked */
	LEDGER_EV_FAIL,          /* any live state -> failed */
	LEDGER_N_EVENTS,
};

/* Why a call was refused, or why a lease reached a terminal state (lease.reason). */
enum ledger_err {
	LEDGER_OK = 0,
	LEDGER_E_ILLEGAL,          /* the event is not allowed in the lease's state */
	LEDGER_E_TERMINAL,         /* the lease is already released/expired/failed/revoked */
	LEDGER_E_NO_CAPACITY,      /* peak booking + quantity would exceed reservable capacity */
	LEDGER_E_CONFLICT,         /* lease id known with different fields */
	LEDGER_E_UNKNOWN_RESOURCE, /* no such local resource */
	LEDGER_E_INVALID,          /* a field is out of range (see the log message) */
	LEDGER_E_NOT_FOUND,        /* no lease with that id */
	LEDGER_E_HOLD_TIMEOUT,     /* the hold (or the wait for an offer) ran out */
	LEDGER_E_PREEMPTED,        /* revoked to make room for a higher-priority lease */
	LEDGER_E_ENDED,            /* reached its end */
	LEDGER_E_PEER,             /* the other side refused, revoked or failed it */
	LEDGER_E_PROVISION,        /* provisioning failed */
	LEDGER_E_STORAGE,          /* the database failed; nothing changed */
	LEDGER_E_NO_PATH,          /* transit: the next hop refused, failed or dropped it */
	LEDGER_N_ERRS,
};

/* A lease request. Zero-initialise, then fill. */
struct ledger_req {
	uint8_t id[LEDGER_ID_LEN];         /* chosen by the requester; not all zero */
	char requester[LEDGER_NAME_MAX];   /* region names; one of them is the local region */
	char provider[LEDGER_NAME_MAX];
	char resource[LEDGER_RES_MAX];     /* local resource name, or the provider's */
	enum ledger_kind kind;
	uint64_t quantity;                 /* base units of kind, 1 .. LEDGER_CAL_QMAX */
	int64_t start, end;                /* [start, end), UTC seconds, end > now */
	uint8_t setup_prio, hold_prio;     /* 0..7, hold_prio <= setup_prio (RSVP-TE) */
	char match[LEDGER_MATCH_MAX];      /* traffic match, config syntax; may be empty */
	char app[LEDGER_NAME_MAX];         /* may be empty */
	uint32_t hold_s;                   /* hold time; 0 = the ledger's default */
	bool checking;                     /* record as checking (we asked a peer) not held */
	/* Transit (docs/protocol.md §7.6): the regions the traffic crosses after the
	 * provider, comma-separated ("lon" or "lon,par"); empty for a direct lease. Part of
	 * the lease's identity, as PATH is on the wire. */
	char path[LEDGER_PATH_MAX];
	/* A lease this region asks of the next hop to carry another lease onward: the id of
	 * that other lease (which this region provides); all zero otherwise. */
	uint8_t parent[LEDGER_ID_LEN];
};

struct ledger_lease {
	uint8_t id[LEDGER_ID_LEN];
	char requester[LEDGER_NAME_MAX];
	char provider[LEDGER_NAME_MAX];
	char resource[LEDGER_RES_MAX];
	enum ledger_kind kind;
	uint64_t quantity;
	int64_t start, end;
	uint8_t setup_prio, hold_prio;
	char match[LEDGER_MATCH_MAX];
	char app[LEDGER_NAME_MAX];
	enum ledger_state state;
	enum ledger_err reason;  /* for terminal states: why; LEDGER_OK otherwise */
	bool booked;             /* occupies a local calendar right now */
	int64_t hold_until;      /* checking/held: when the hold runs out; 0 otherwise */
	int64_t created, updated; /* ledger clock, UTC seconds */
	uint64_t seq;            /* creation order, unique, increasing */
	uint8_t preempted_by[LEDGER_ID_LEN]; /* revoked by preemption: the lease that won */
	char path[LEDGER_PATH_MAX];          /* transit: regions after the provider, or "" */
	uint8_t parent[LEDGER_ID_LEN];       /* onward hop of this lease (see ledger_req) */
};

/* What TIDALD_EV_LEASE_CHANGED carries (valid during the call only). */
struct ledger_change {
	struct ledger_lease lease; /* after the change */
	enum ledger_state from;    /* state before (== lease.state when created) */
	bool created;              /* a new lease */
	bool reprovision;          /* an active lease reported again after a restart */
};

/* Called after a change is durable (after the batch's commit inside a batch). The callback
 * may read the ledger but must not change it. */
typedef void (*ledger_change_fn)(const struct ledger_change *c, void *arg);

struct ledger_params {
	const char *path;         /* SQLite file (created if missing); ":memory:" for tests */
	const char *region;       /* the local region's name */
	const struct tidal_cfg *cfg; /* resources; may be NULL (add with ledger_resource_set) */
	int64_t now;              /* wall clock, UTC seconds */
	uint32_t hold_s;          /* default hold time; 0 = 30 s */
	uint32_t retain_s;        /* keep terminal leases this long; 0 = 7 days */
	ledger_change_fn on_change;
	void *arg;
	/* Deferred sync: a commit returns once written to the WAL (it survives a crash of the
	 * process); a syncer thread makes it durable (fdatasync) at once when asked
	 * (ledger_sync_start), else within sync_delay_ms, and on_change hears it only then.
	 * The owner polls ledger_sync_fd() from its event loop and calls ledger_sync_poll().
	 * Ignored for ":memory:". Default off: durable on return. */
	bool deferred_sync;
	uint32_t sync_delay_ms; /* 0 = 10 ms */
};

struct ledger_open_report {
	size_t loaded;         /* leases read from the database */
	size_t active;         /* active after the restart tick: re-provision these */
	size_t holds_expired;  /* checking/held leases whose hold ran out while down */
	size_t ended;          /* leases whose end passed while down */
	size_t started;        /* reserved leases whose start passed while down */
	size_t overbooked;     /* resources booked above their (new) capacity */
	size_t orphaned;       /* resources in the database but no longer in the config */
};

/* Open (or create) the ledger, rebuild the calendars from the database and run one
 * ledger_tick(now). NULL (after logging why and what to do) on failure. */
struct ledger *ledger_open(const struct ledger_params *p, struct ledger_open_report *rep);
void ledger_close(struct ledger *l); /* NULL is a no-op */

/* Apply a new config: resources added, capacities changed; removed resources keep their
 * bookings as "not configured" (capacity 0) until their leases end. Bookings above a lowered
 * capacity stay (logged); nothing is revoked. Returns the number of overbooked resources. */
int ledger_reload(struct ledger *l, const struct tidal_cfg *cfg);
/* Add or change one resource (tests, tidal-sim). */
int ledger_resource_set(struct ledger *l, const char *name, enum ledger_kind kind,
			uint64_t capacity);

struct ledger_resource_info {
	char name[LEDGER_RES_MAX];
	enum ledger_kind kind;
	uint64_t capacity;   /* reservable */
	bool configured;     /* false: kept only for leases booked before a reload removed it */
	uint64_t booked_now; /* level at now */
	uint64_t peak;       /* highest level from now on */
	size_t n_leases;     /* live leases booked on it */
};
size_t ledger_resource_count(const struct ledger *l);
/* Info of resource i (0 .. count-1) at instant now. -ENOENT past the end. */
int ledger_resource_info(const struct ledger *l, size_t i, int64_t now,
			 struct ledger_resource_info *out);
/* Resource by name ("link.fra-ams"; a bare link name "fra-ams" also works): its index, or
 * -ENOENT. */
int ledger_resource_find(const struct ledger *l, const char *name);
/* Read-only calendar of resource i (NULL past the end). */
const struct ledger_cal *ledger_resource_cal(const struct ledger *l, size_t i);

/* New lease: admitted if the peak booking over [start, end) plus quantity fits, possibly by
 * preempting leases with hold_prio > setup_prio (lowest priority, then newest, first; only
 * when that makes room; they become revoked with reason preempted). The lease is held until
 * now + hold_s (or checking, when req->checking). A refused request is recorded as failed
 * (reason no_capacity) and returns -ENOSPC. Repeating a request with the same id and fields
 * returns the existing lease whatever its state (0); different fields: -EEXIST. */
int ledger_request(struct ledger *l, const struct ledger_req *req, int64_t now,
		   struct ledger_lease *out, enum ledger_err *why);
/* Request and commit at once (local bookings by the allocation controller): reserved, or
 * active when start <= now. */
int ledger_book(struct ledger *l, const struct ledger_req *req, int64_t now,
		struct ledger_lease *out, enum ledger_err *why);
/* The provider's commit: held -> reserved (or active), durable on return (the caller then
 * sends LEASE_ACK). Committing an already reserved/active lease returns it (idempotent);
 * after the hold ran out: -ETIMEDOUT and the lease expires. */
int ledger_commit(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], int64_t now,
		  struct ledger_lease *out, enum ledger_err *why);
/* Release: any live state -> released. Releasing a terminal lease changes nothing and
 * returns 0 with the lease as it is. */
int ledger_release(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], int64_t now,
		   struct ledger_lease *out, enum ledger_err *why);
/* Revoke with a reason (LEDGER_E_PEER, LEDGER_E_PROVISION ...). Terminal: as release. */
int ledger_revoke(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], int64_t now,
		  enum ledger_err reason, struct ledger_lease *out, enum ledger_err *why);
/* Any event, strictly through ledger_transition (the peering layer drives the requester's
 * side with ADMIT, REJECT, COMMIT, CONFIRM, FAIL). reason is recorded for terminal states. */
int ledger_event(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], enum ledger_event ev,
		 int64_t now, enum ledger_err reason, struct ledger_lease *out,
		 enum ledger_err *why);

/* Expire holds, start and end leases, purge old terminal leases. Returns the number of
 * leases that changed (each also reported to on_change) or a negative errno; *next (when
 * not NULL) is the next instant something is due (INT64_MAX when nothing is). */
int ledger_tick(struct ledger *l, int64_t now, int64_t *next);

/* Group commit: the calls between begin and commit share one transaction, and their
 * changes are reported (and durable) only when ledger_batch_commit returns 0. On -EIO the
 * whole batch is undone and memory reloaded from the database. Batches do not nest. */
int ledger_batch_begin(struct ledger *l);
int ledger_batch_commit(struct ledger *l);

/* Durability (docs/ledger.md, "Persistence"). Every commit (a call outside a batch, or a
 * batch) has a number: ledger_written() is the last one written, ledger_durable() the last
 * one known to be on disk. They are equal unless deferred_sync is on. */
uint64_t ledger_written(const struct ledger *l);
uint64_t ledger_durable(const struct ledger *l);
/* Deferred sync: an eventfd that becomes readable when a sync finished (-1 without
 * deferred sync). Its owner then calls ledger_sync_poll, which reports the changes that
 * became durable (on_change) and calls the durable watchers. Returns how many changes it
 * reported, or -EIO when a sync failed (the ledger then refuses every change). */
int ledger_sync_fd(const struct ledger *l);
int ledger_sync_poll(struct ledger *l);
/* Make everything written durable now (fdatasync on the caller's thread), then report as
 * ledger_sync_poll does. 0 (or the number reported) or -EIO. */
int ledger_sync(struct ledger *l);
/* Ask the syncer to sync what is written now instead of within sync_delay_ms (someone
 * waits for it, e.g. a LEASE_ACK); returns at once. */
void ledger_sync_start(struct ledger *l);
/* Syncs done so far (= commits without deferred sync). */
uint64_t ledger_syncs(const struct ledger *l);
/* Called (from ledger_sync_poll / ledger_sync) each time ledger_durable() advances. A
 * watcher may call the ledger. */
int ledger_watch_durable(struct ledger *l, void (*fn)(void *arg), void *arg);
void ledger_unwatch_durable(struct ledger *l, void (*fn)(void *arg), void *arg);

/* Lookup and listing. */
int ledger_get(const struct ledger *l, const uint8_t id[LEDGER_ID_LEN], struct ledger_lease *out);
/* Call fn for every lease in creation order (live ones only unless all); stops early and
 * returns fn's value when it is non-zero. */
int ledger_foreach(const struct ledger *l, bool all,
		   int (*fn)(const struct ledger_lease *lease, void *arg), void *arg);
size_t ledger_count(const struct ledger *l, enum ledger_state st);
/* The ledger's clock: the highest wall-clock time it has seen (it never goes back). */
int64_t ledger_clock(const struct ledger *l);

/* Check the invariants (each calendar equals the sum of its booked leases, booked iff live
 * with a local resource, hold deadlines set). 0, or -EBADMSG with msg filled. */
int ledger_verify(const struct ledger *l, char *msg, size_t len);

/* The tidald module (control/ledger_mod.c): the running ledger of a daemon, for other
 * modules (allocation controller, peering), or NULL when the module is not started. Call
 * from the event loop only. */
struct tidald;
struct tidald_module_ops;
extern const struct tidald_module_ops tidald_ledger_module;
struct ledger *ledger_mod_get(struct tidald *d);

/* Pure helpers. */
enum ledger_err ledger_transition(enum ledger_state from, enum ledger_event ev,
				  enum ledger_state *to);
bool ledger_state_live(enum ledger_state st);
const char *ledger_state_name(enum ledger_state st);
int ledger_state_parse(const char *s, enum ledger_state *st);
const char *ledger_event_name(enum ledger_event ev);
const char *ledger_err_name(enum ledger_err e);
/* The negative errno that goes with a ledger error. */
int ledger_err_errno(enum ledger_err e);
const char *ledger_kind_name(enum ledger_kind k);
int ledger_kind_parse(const char *s, enum ledger_kind *k);
/* Unit of a kind's quantities: "bps" or "vcpu" or "bytes". */
const char *ledger_kind_unit(enum ledger_kind k);
/* Lease ids as 32 lowercase hex digits. */
char *ledger_id_fmt(const uint8_t id[LEDGER_ID_LEN], char buf[LEDGER_ID_STR]);
int ledger_id_parse(const char *s, uint8_t id[LEDGER_ID_LEN]);
/* A random id (getrandom). 0 or a negative errno. */
int ledger_id_new(uint8_t id[LEDGER_ID_LEN]);

#endif

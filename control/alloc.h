/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc: the allocation controller (docs/alloc.md). Decides, from demand forecasts, what to
 * reserve: which leases to request (quantity, path, [start, end)) and which to release.
 *
 * One run ("cycle") looks at the planning blocks ahead: time is cut into aligned blocks of
 * block_s seconds (one lease per class, path and block), and a class decides every block
 * that starts before now + its lead time + the controller period (+ lookahead): the blocks a
 * later cycle could no longer reach in time. For each such block:
 *
 *   need   = max over the block's forecast steps of (SLO quantile x (1 + headroom)),
 *            clipped to [min_rate, max_rate]; the measured rate stands in where no
 *            forecast covers the block; in the block in progress, a measured rate above
 *            the SLO quantile re-centres the forecast (need = measured x the forecast's
 *            quantile/median spread x (1 + headroom)).
 *   levels = priorities 0 (highest) .. 7, strictly in order. At each level, reservations
 *            already held at that level keep their capacity first (oldest first; only
 *            higher levels, served before, can have taken it: preemption only by higher
 *            priority, RSVP-TE setup/hold), then the remaining need of the level's classes
 *            is water-filled by weight (weighted max-min) over their direct resource, then
 *            what is still missing over transit paths: the fewest hops, each with
 *            unreserved capacity, widest first (constrained shortest path).
 *   size   = a request is the need minus what the class already holds (never threshold
 *            minus utilisation), clipped to policy and rounded up to the kind's quantum.
 *   start  = max(block start, now + lead of the path): a path's lead is its resources'
 *            lead_s plus lease_lead_s for every hop another region provides.
 *   release= held leases beyond the need are kept while the holding stays within
 *            need x (1 + release_above) and the capacity is not wanted by anyone
 *            (hysteresis: no flapping); beyond that band they are released, the lease
 *            that straddles the need resized (release + smaller request) when it has not
 *            started yet. Reservations preempted by a higher level are released with the
 *            preempting class named.
 *
 * Every action carries a reason in words (quantile, headroom, lead time, the constraint).
 *
 * Owns: its scratch memory and the plan it returns (valid until the next run or free).
 * Pure: no I/O, no clock, no logging, no global state; errors are returned (negative errno)
 * with a message readable through alloc_error(). The input is never modified. Used by the
 * tidald module `alloc` (control/alloc_mod.c) and by tools/tidal-sim; there is no second
 * implementation.
 *
 * Units: times are UTC seconds; quantities are base units of the kind (bits/s, vCPUs,
 * bytes), as in the ledger.
 */
#ifndef TIDAL_CONTROL_ALLOC_H
#define TIDAL_CONTROL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "demand.h"

#define ALLOC_PRIO_LEVELS 8    /* priorities 0 (highest) .. 7 (lowest), as in the ledger */
#define ALLOC_MAX_HOPS    4    /* resources on one path */
#define ALLOC_REASON_MAX  256  /* bytes of one action's reason, NUL included */
#define ALLOC_MAX_BLOCKS  4096 /* blocks one cycle may plan */

/* Same order and values as enum ledger_kind. */
enum alloc_kind {
	ALLOC_BANDWIDTH = 0, /* bits per second */
	ALLOC_VCPU,          /* virtual CPUs */
	ALLOC_MEMORY,        /* bytes */
	ALLOC_STORAGE,       /* bytes */
	ALLOC_N_KINDS,
};

/* Something that can be booked: a link's capacity in one direction, or a pool. */
struct alloc_resource {
	const char *name; /* for reasons: "link.fra-ams", "pool.compute.vcpu" */
	enum alloc_kind kind;
	int owner;         /* region that books it (and leases it to others) */
	int to;            /* bandwidth: region at the far end (traffic goes owner -> to);
	                      -1 for pools */
	uint64_t capacity; /* reservable, base units. For a resource known only from its
	                      owner's adverts: the advertised free capacity plus what the
	                      reservations listed in the input hold on it */
	uint32_t lead_s;   /* from the decision to the capacity being enforced, when the
	                      owner books it for itself (dataplane, provisioning hook) */
};

/* A demand to serve: an app's traffic towards a region, or a pool series. */
struct alloc_class {
	const char *name; /* "video", "pool.compute.vcpu" */
	enum alloc_kind kind;
	int src;             /* region where the demand is (that books or leases for it) */
	int dst;             /* bandwidth: destination region; pools: -1 */
	unsigned priority;   /* 0 (highest) .. 7; also the leases' setup and hold priority */
	double weight;       /* share inside its priority level; 0 = 1 */
	double slo_quantile; /* forecast quantile to reserve for, in (0, 1) */
	double headroom;     /* fraction added to the quantile, >= 0 */
	uint64_t min_rate;   /* never plan less (base units) */
	uint64_t max_rate;   /* never plan more; 0 = no limit */
	const struct demand_forecast *fc; /* latest forecast, or NULL */
	double measured;                  /* demand now (base units), < 0 when unknown */
};

/* A booking that exists: one of the controller's own leases, an operator's, or another
 * region's lease on a resource of the input. */
struct alloc_resv {
	int cls;                  /* class it serves, or -1 (not ours: only preemptible) */
	int hops[ALLOC_MAX_HOPS]; /* resources it books, in path order */
	unsigned n_hops;          /* 1 .. ALLOC_MAX_HOPS */
	uint64_t quantity;
	int64_t start, end; /* [start, end) */
	uint8_t hold_prio;  /* 0..7: higher levels (smaller numbers) may preempt it */
	bool fixed;         /* never released or resized for surplus (operator's lease,
	                       spans several blocks); only preemption takes it */
	uint64_t user;      /* the caller's handle, echoed in releases */
};

struct alloc_params {
	int64_t now;           /* UTC seconds */
	uint32_t block_s;      /* lease granularity, aligned to multiples (default 3600) */
	uint32_t period_s;     /* time between two cycles (default block_s) */
	uint32_t lease_lead_s; /* added to a hop's lead when another region provides it
	                          (peer lease: request, offer, commit, provisioning); default 300 */
	uint32_t lookahead_s;  /* decide this much further ahead than needed (default 0) */
	double release_above;  /* release when held > need x (1 + this); default 0.25 */
	uint64_t quantum[ALLOC_N_KINDS]; /* requests are multiples of this (defaults: 1 Mbit/s,
	                                   1 vCPU, 1 MiB, 1 GiB) */
	unsigned max_hops;               /* longest transit path (default 2: one transit region) */
	bool no_transit;                 /* direct resources only */
	bool no_measured_floor; /* never re-centre the block in progress on the measured rate */
	bool no_reasons;        /* skip formatting reasons (bulk simulation) */
};

/* Defaults as documented above; now = 0. */
void alloc_params_init(struct alloc_params *p);

struct alloc_input {
	struct alloc_params params;
	const char *const *regions; /* names, for reasons */
	size_t n_regions;
	const struct alloc_resource *res;
	size_t n_res;
	const struct alloc_class *cls;
	size_t n_cls;
	const struct alloc_resv *resv; /* oldest first (creation order) */
	size_t n_resv;
};

/* A lease to request. Setup and hold priority are the class's priority. */
struct alloc_request {
	size_t cls;
	int hops[ALLOC_MAX_HOPS];
	unsigned n_hops;
	uint64_t quantity;
	int64_t start, end;
	uint8_t prio;
	bool transit;  /* not the direct resource */
	bool replaces; /* the smaller half of a resize (a release comes with it) */
	char reason[ALLOC_REASON_MAX];
};

enum alloc_release_why {
	ALLOC_SURPLUS = 0, /* held beyond need x (1 + release_above) */
	ALLOC_RESIZE,      /* replaced by a smaller request for the same block */
	ALLOC_RECLAIM,     /* surplus inside the band, but others need the capacity */
	ALLOC_PREEMPTED,   /* a higher priority level needs the capacity */
};

struct alloc_release {
	size_t resv;   /* index into alloc_input.resv */
	int cls;       /* its class or -1 */
	uint64_t user; /* alloc_resv.user */
	enum alloc_release_why why;
	int by_cls; /* preempted: the class that needed the capacity, or -1 */
	char reason[ALLOC_REASON_MAX];
};

/* What a class looks like after a cycle (tidalctl show apps, the decision log). */
struct alloc_class_view {
	double need;        /* the first block this class decided (clipped), or -1 */
	double quantile;    /* that block's raw SLO quantile (before headroom), or -1 */
	int64_t need_start; /* start of that block */
	double held_now;    /* booked for the class at now, before this cycle */
	double planned;     /* held for that block after this cycle's actions */
	double short_by;    /* need that no capacity could cover (largest over blocks) */
	bool from_forecast; /* need came from the forecast (else measured/min rate) */
};

struct alloc_plan {
	struct alloc_request *req;
	size_t n_req;
	struct alloc_release *rel; /* releases come first when applying */
	size_t n_rel;
	struct alloc_class_view *view; /* [n_cls] */
	size_t n_cls;
	int64_t first_block, last_block_end; /* blocks looked at: [first, end) */
	size_t n_blocks;
	uint64_t *planned_use; /* [n_blocks * n_res]: booked per block and resource after
	                          the plan (what the peak would be) */
};

struct alloc;

struct alloc *alloc_new(void);
void alloc_free(struct alloc *a); /* NULL is a no-op */

/* One cycle. 0 and *plan (owned by a, valid until the next run), -EINVAL (bad input:
 * alloc_error says which field), -ENOMEM, -E2BIG (more than ALLOC_MAX_BLOCKS blocks). */
int alloc_run(struct alloc *a, const struct alloc_input *in, const struct alloc_plan **plan);
/* Message of the last failed run ("" after a success). */
const char *alloc_error(const struct alloc *a);

/* The need of a class at forecast step s: quantile(slo) x (1 + headroom), unclipped. Also
 * what the controller uses; exposed for views and tests. */
double alloc_step_need(const struct alloc_class *c, size_t s);

const char *alloc_kind_name(enum alloc_kind k);
const char *alloc_release_why_name(enum alloc_release_why w);

/* ---- the tidald module `alloc` (control/alloc_mod.c) ---------------------------------- */

struct tidald;
struct tidald_module_ops;
extern const struct tidald_module_ops tidald_alloc_module;

/* An app's line in `tidalctl show apps`. Rates in bits/s; -1 when unknown. */
struct alloc_app_view {
	double demand;      /* measured now, else the forecast's point for now */
	double need;        /* forecast need of the next block the controller decided */
	double quantile;    /* its SLO quantile before headroom */
	int64_t need_start; /* that block's start */
	double reserved;    /* booked for the app now (ledger, active and reserved) */
	double planned;     /* what the last cycle left booked for that block */
	double short_by;    /* need no capacity could cover in the last cycle */
	int64_t decided_at; /* last cycle, 0 = none yet */
};
/* 0 and *out, or -ENOENT when the module is not running. Event loop thread only. */
int alloc_app_view(struct tidald *d, const char *app, struct alloc_app_view *out);

#endif

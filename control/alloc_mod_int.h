/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_mod_int: what the tidald module `alloc` shares between its files: alloc_mod.c (the
 * module, the decision log, tidalctl, metrics), alloc_cycle.c (one cycle against the
 * config and the ledger) and alloc_pool.c (pool provisioning hooks). Private to the module.
 */
#ifndef TIDAL_CONTROL_ALLOC_MOD_INT_H
#define TIDAL_CONTROL_ALLOC_MOD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "alloc.h"
#include "alloc_hook.h"
#include "demand.h"
#include "ledger.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LOG_SIZE      1024 /* decisions kept for `show decisions` */
#define MIN_BLOCK_S   3600 /* leases cover whole hours (or whole forecast buckets) */
#define HOOK_ATTEMPTS 3    /* tries of a hook that asks to be retried */
#define HOOK_RETRY_S  30

struct decision {
	uint64_t seq;
	int64_t at;
	char action[16];
	char app[LEDGER_NAME_MAX];
	char resource[160];
	enum alloc_kind kind;
	uint64_t quantity;
	int64_t start, end;
	char result[64];
	char reason[ALLOC_REASON_MAX];
};

struct app_state {
	char name[LEDGER_RES_MAX];
	double need, quantile, planned, short_by;
	int64_t need_start;
	bool valid;
};

struct hook_lease {
	uint8_t id[LEDGER_ID_LEN];
	bool provisioned, running, running_release, releasing;
	unsigned attempts;
	int64_t retry_at;
	struct alloc_mod *m;
};

struct alloc_mod {
	struct tidald *d;
	struct alloc *a;
	struct alloc_hook *hooks;
	struct event *retry;
	struct event *sweep; /* one-shot: release orphaned transit halves (amod_sweep) */
	struct decision *log;
	size_t log_head, log_n;
	uint64_t seq;
	struct app_state *apps;
	size_t n_apps;
	uint8_t (*managed)[LEDGER_ID_LEN];
	size_t n_managed, cap_managed;
	struct hook_lease **hl;
	size_t n_hl, cap_hl;
	uint64_t cycles, failed_cycles, requests, releases, refused, skipped;
	uint64_t hook_runs[3];
	double last_cycle_s;
	int64_t last_cycle_at;
	bool warned_no_ledger;
};

struct alloc_mod *amod_get(struct tidald *d);
int amod_grow(void **arr, size_t *cap, size_t need, size_t elem);
double amod_mono(void);
bool amod_is_managed(const struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN]);
void amod_forget_managed(struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN]);
/* Release now the controller's transit halves whose other half ended (no planning). */
int amod_sweep(struct alloc_mod *m);
const char *amod_unit_name(enum alloc_kind k);
char *amod_fmt_qty(enum alloc_kind k, uint64_t q, char *buf, size_t len);
/* Record an action in the decision log (and a log line). */
struct decision *amod_decide(struct alloc_mod *m, const char *action, const char *app,
                             const char *resource, enum alloc_kind kind, uint64_t q, int64_t start,
                             int64_t end, const char *result, const char *reason);

/* What a reservation of the input is made of: one lease, or for a transit path the local
 * booking of the first hop and the one lease from the next region that carries it on. */
struct resv_meta {
	uint8_t id[LEDGER_ID_LEN];   /* the local booking, or the lease from a peer */
	uint8_t id2[LEDGER_ID_LEN];  /* transit pair: the lease from the peer */
	bool pair;                   /* id2 is set */
	bool remote;                 /* id is a lease from a peer (lease_svc_release) */
	int via, dst;                /* transit: the regions after this one (-1 = none) */
	bool dropped;                /* merged into another reservation, or released */
};

/* One cycle's input as built from the config, the peers' adverts and the ledger. */
struct cycle {
	struct alloc_mod *m;
	const struct tidal_cfg *cfg;
	const struct demand_update *up;
	int64_t now;
	int64_t win_end; /* capacity of remote resources: the least over [now, win_end) */
	const char **regions;
	size_t n_regions;
	struct alloc_resource *res;
	char (*res_names)[LEDGER_RES_MAX];
	size_t n_res, max_res, n_local_res;
	struct alloc_class *cls;
	char (*cls_names)[LEDGER_RES_MAX];
	const char **cls_match; /* apps: match text; pools: NULL */
	int *cls_pool;          /* pools: index in cfg->pools, else -1 */
	size_t n_cls;
	struct alloc_resv *resv;
	struct resv_meta *meta; /* [n_resv] */
	size_t n_resv, cap_resv, cap_meta;
	/* Transit bookings whose other half is gone: released before the plan. */
	uint8_t (*orphans)[LEDGER_ID_LEN];
	bool *orphan_remote;
	size_t n_orphans, cap_orphans;
};

int amod_region_index(const struct cycle *c, const char *name);
int amod_res_index(const struct cycle *c, const char *name);

/* alloc_remote.c: the links and pools other regions lease to this one, from their capacity
 * adverts (lease_svc_adverts) and the leases held on them; appended to c->res. A peer
 * without adverts adds nothing (a resource it holds leases on gets what they hold). */
int amod_remote_resources(struct cycle *c, struct ledger *lg);
/* The model resource a lease from a peer books ("ams:bandwidth>lon", "ams:pool.gpu.vcpu"),
 * written to buf; false when it has none (a direct bandwidth lease, a longer path). */
bool amod_remote_name(const struct cycle *c, const struct ledger_lease *x, char *buf,
                      size_t len);

/* alloc_cycle.c: run one cycle now; `up` may be NULL (forecasts from demand_forecast_get).
 * 0, or a negative errno with msg saying why. */
int amod_cycle(struct alloc_mod *m, const struct demand_update *up, char *msg, size_t len);

/* Write every class's reserved rate now into the history as "<class>.reserved" (drawn by
 * `tidalctl graph`); after every cycle and every rate sample. */
void amod_record_reserved(struct alloc_mod *m, int64_t at);

/* alloc_pool.c */
void amod_pool_changed(struct alloc_mod *m, const struct ledger_change *ch);
void amod_pool_retry(evutil_socket_t fd, short what, void *arg); /* timer, arg = module */
void amod_pool_free(struct alloc_mod *m);

#endif

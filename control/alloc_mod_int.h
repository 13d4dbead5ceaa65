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
const char *amod_unit_name(enum alloc_kind k);
char *amod_fmt_qty(enum alloc_kind k, uint64_t q, char *buf, size_t len);
/* Record an action in the decision log (and a log line). */
struct decision *amod_decide(struct alloc_mod *m, const char *action, const char *app,
                             const char *resource, enum alloc_kind kind, uint64_t q, int64_t start,
                             int64_t end, const char *result, const char *reason);

/* alloc_cycle.c: run one cycle now; `up` may be NULL (forecasts from demand_forecast_get).
 * 0, or a negative errno with msg saying why. */
int amod_cycle(struct alloc_mod *m, const struct demand_update *up, char *msg, size_t len);

/* alloc_pool.c */
void amod_pool_changed(struct alloc_mod *m, const struct ledger_change *ch);
void amod_pool_retry(evutil_socket_t fd, short what, void *arg); /* timer, arg = module */
void amod_pool_free(struct alloc_mod *m);

#endif

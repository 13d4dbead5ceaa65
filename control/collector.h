/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: per-class counters from a dataplane backend, turned into rates.
 *
 * One collector, two backends behind the ops table below: "bpf" (tc/XDP programs and
 * per-CPU maps, bpf/) and "dpdk" (tidal-dp over its control socket, dataplane/). The
 * collector module (control/collector.c) picks the backend named by [dataplane] backend,
 * samples it every [forecast] sample_interval, turns counter deltas into rates (handling
 * wrap and backend restarts), serves `show counters` and the tidal_class_* metrics, and
 * passes enforcement rates down (collector_set_rate).
 *
 * Classes: class id N (1-based) is the N-th [app.*] section of the running config; class
 * 0 is traffic no app matched. Direction 0 is ingress/rx, 1 egress/tx.
 */
#ifndef TIDAL_CONTROL_COLLECTOR_H
#define TIDAL_CONTROL_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

struct tidald;
struct metrics_writer;

enum coll_dir { COLL_DIR_IN = 0, COLL_DIR_OUT = 1 };

struct coll_counter {
	char ifname[CFG_IFNAME_MAX]; /* interface (bpf) or port name (dpdk) */
	uint32_t class_id;
	enum coll_dir dir;
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops; /* dropped by tidal (pacing horizon, meter, scheduler) */
};

struct coll_backend_ops {
	const char *name;
	/* Attach to the dataplane and install the classes of cfg's apps. */
	int (*open)(const struct tidal_cfg *cfg, void **be);
	/* Reinstall classes and interfaces after a config reload. */
	int (*apply_config)(void *be, const struct tidal_cfg *cfg);
	/* Snapshot every counter; *out is malloc'd by the backend, freed by the caller. */
	int (*read)(void *be, struct coll_counter **out, size_t *n);
	/* Enforce `bps` for class_id leaving ifname (NULL: every interface); 0 = unlimited. */
	int (*set_rate)(void *be, const char *ifname, uint32_t class_id, uint64_t bps);
	/* Detach; keep_enforcing leaves rate enforcement in place (pinned pacing). */
	void (*close)(void *be, bool keep_enforcing);
	/* Optional (may be NULL): append backend-specific families to /metrics (e.g. the
	 * BPF programs' parse and drop-reason counters). */
	void (*metrics)(void *be, struct metrics_writer *w);
};

/* After every sample the collector emits TIDALD_EV_RATES_SAMPLED with a struct
 * coll_sample: one entry per class (class 0 = unmatched, app NULL), rates summed over
 * interfaces, per direction. The history module records these as the demand series. */
struct coll_rate {
	uint32_t class_id;
	const char *app;   /* [app.*] name, NULL for class 0 */
	double bps[2];     /* bits per second, [COLL_DIR_IN], [COLL_DIR_OUT] */
	double pps[2];     /* packets per second */
	double drop_pps[2];
};

struct coll_sample {
	int64_t at_s;      /* wall clock, UTC seconds, end of the interval */
	double interval_s; /* length of the interval, measured on the monotonic clock */
	size_t n;
	const struct coll_rate *rates;
};

extern const struct coll_backend_ops coll_backend_bpf;
extern const struct coll_backend_ops coll_backend_dpdk;

/* For other modules (allocation, leases): set the enforced rate of an app's class. */
int collector_set_rate(struct tidald *d, const char *app, uint64_t bps);
/* Latest measured rate of an app in bits/s (both directions summed per dir), or -1. */
double collector_rate_bps(struct tidald *d, const char *app, enum coll_dir dir);

#endif

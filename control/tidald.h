/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidald: the daemon core every subsystem of a region plugs into.
 *
 * The core owns the libevent base, the running config, the control socket, the metrics
 * endpoint, signals (SIGHUP reload, SIGTERM/SIGINT stop) and the pid file. Everything
 * else (collector, ledger, peering, allocation, provisioners) is a module: an ops table
 * with a lifecycle in the BIRD style (start -> running -> stop), optional hooks for
 * reload, metrics and `show status`, and a subscription to daemon-wide events. Modules
 * never call each other's private functions: they look each other up by name
 * (tidald_module_state) through the module's own public header, or talk by events.
 *
 * A module is added by writing control/<name>.c with a `const struct tidald_module_ops`
 * and one line in control/modules.c.
 */
#ifndef TIDAL_CONTROL_TIDALD_H
#define TIDAL_CONTROL_TIDALD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cfg.h"

struct event_base;
struct tidald;
struct metrics_writer;

/* Daemon-wide events. `data` points at a struct documented with each type and is only
 * valid during the call. */
enum tidald_event {
	TIDALD_EV_CONFIG_RELOADED = 1, /* data: const struct tidal_cfg *old (the new is current) */
	TIDALD_EV_LEASE_CHANGED,       /* data: owned by the ledger module's header */
	TIDALD_EV_PEER_CHANGED,        /* data: owned by the peering module's header */
	TIDALD_EV_RATES_SAMPLED,       /* data: owned by the collector module's header */
	TIDALD_EV_FORECAST_UPDATED,    /* data: owned by the forecast module's header */
};

struct tidald_module_ops {
	const char *name;
	/* Called once the config is loaded and the event base exists, in the order of
	 * control/modules.c. Return 0, or a negative errno after logging what failed and
	 * what to do: tidald then stops the modules already started and exits 1. */
	int (*start)(struct tidald *d, void **state);
	/* The config changed (tidald_cfg() is the new one). Return 0, or a negative errno
	 * to report that this module could not apply it (the rest is applied anyway and the
	 * failure is logged and returned to `tidalctl reload`). */
	int (*reload)(struct tidald *d, void *state, const struct tidal_cfg *old_cfg);
	/* Release everything; called in reverse start order. */
	void (*stop)(struct tidald *d, void *state);
	/* Append samples to /metrics. */
	void (*metrics)(struct tidald *d, void *state, struct metrics_writer *w);
	/* Add this module's fields to the `show status` object. */
	void (*status)(struct tidald *d, void *state, json_t *status);
	/* Daemon-wide event (see enum tidald_event). */
	void (*event)(struct tidald *d, void *state, enum tidald_event ev, const void *data);
};

struct event_base *tidald_base(struct tidald *d);
const struct tidal_cfg *tidald_cfg(struct tidald *d);
/* State pointer of a started module by name, or NULL. */
void *tidald_module_state(struct tidald *d, const char *name);
/* Deliver an event to every started module (synchronously, in start order). */
void tidald_emit(struct tidald *d, enum tidald_event ev, const void *data);
/* Seconds since the epoch, wall clock; and a monotonic clock in nanoseconds. */
int64_t tidald_now(void);
uint64_t tidald_mono_ns(void);
/* Daemon start time (wall clock, seconds). */
int64_t tidald_started_at(struct tidald *d);
/* Ask the loop to stop (as SIGTERM does). */
void tidald_request_stop(struct tidald *d);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector_int: what collector.c (lifecycle, sampling) and collector_ctl.c (commands,
 * metrics) share. Not a public header: other modules use collector.h.
 */
#ifndef TIDAL_CONTROL_COLLECTOR_INT_H
#define TIDAL_CONTROL_COLLECTOR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "coll_state.h"
#include "collector.h"
#include "tidald.h"

struct event;

struct collector {
	struct tidald *d;
	const struct coll_backend_ops *ops; /* NULL: backend none */
	void *be;
	struct event *timer;
	uint64_t interval_ms;
	struct coll_state st;

	/* Class identity: app name per class id (index 0 unused), copied from the config
	 * the classes were installed from. */
	char (*names)[CFG_NAME_MAX];
	size_t n_apps;
	/* Rate enforced through collector_set_rate, per class id; 0 with has_rate set means
	 * "explicitly unlimited". */
	uint64_t *rate;
	bool *has_rate;

	/* Last sample, per class (0 .. n_apps), summed over interfaces. */
	struct coll_rate *rates;
	bool sampled;
	uint64_t last_mono_ns;
	int64_t last_at_s;
	uint64_t samples, read_errors;
};

/* Read the backend into the state (totals advance). 0 or -errno (logged, counted). */
int collector_read(struct collector *c);
/* "unmatched" for class 0, the app name, or NULL beyond the installed apps. */
const char *collector_class_name(const struct collector *c, uint32_t class_id);
/* Class id of an app name (or "unmatched"), or -1. */
long collector_class_of(const struct collector *c, const char *name);

extern const struct tidald_module_ops tidald_collector_module;

/* collector_ctl.c */
void collector_register_commands(struct collector *c);
void collector_metrics(struct tidald *d, void *state, struct metrics_writer *w);

#endif

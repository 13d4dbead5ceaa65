/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_state: the collector's bookkeeping of raw backend counters (private to the
 * collector module; pure, no I/O).
 *
 * For every (interface, class, direction) the backend reports, it keeps the last raw
 * values, monotone totals and the rates over the last sample interval. Raw counters may
 * restart (maps recreated, tidal-dp restarted) or wrap; totals never go back:
 *   - a key seen for the first time adopts the raw values as its totals (pinned BPF
 *     counters survive a tidald restart, so totals continue where they were);
 *   - a raw value below the previous one is a wrap when the previous value was within
 *     COLL_WRAP_WINDOW of 2^64, otherwise a restart of the counter from zero; either way
 *     the totals grow by what was counted since.
 */
#ifndef TIDAL_CONTROL_COLL_STATE_H
#define TIDAL_CONTROL_COLL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector.h"

#define COLL_WRAP_WINDOW (1ULL << 40)

enum { COLL_PKT = 0, COLL_BYTES = 1, COLL_DROPS = 2, COLL_NF = 3 };

struct coll_entry {
	char ifname[CFG_IFNAME_MAX];
	uint32_t class_id;
	enum coll_dir dir;
	uint64_t raw[COLL_NF];
	uint64_t total[COLL_NF];
	uint64_t total_at_sample[COLL_NF];
	double rate[COLL_NF]; /* per second: packets, bytes, drops */
	bool have_rate;
};

struct coll_state {
	struct coll_entry *e; /* sorted by (ifname, class_id, dir) */
	size_t n;
	uint64_t resets; /* raw counter restarts seen */
	uint64_t wraps;
};

/* Increase of a counter from old to new (see the top of this file); *kind is set to 0
 * (normal), 1 (wrap) or 2 (restart). */
uint64_t coll_delta(uint64_t old, uint64_t new_, int *kind);

/* Merge one backend read (any order) into the state: totals advance, keys missing from
 * the read are dropped. Returns 0 or -ENOMEM (the state is then unchanged). */
int coll_state_update(struct coll_state *s, const struct coll_counter *c, size_t n);
/* Close a sample interval of interval_s seconds: rates = total growth / interval. */
void coll_state_sample(struct coll_state *s, double interval_s);
/* Forget every key of class_id (its app changed): the next read adopts it afresh. */
void coll_state_forget_class(struct coll_state *s, uint32_t class_id);
void coll_state_free(struct coll_state *s);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * calendar: the capacity calendar of one resource (docs/ledger.md).
 *
 * Booked quantity as a step function of time. Times are int64 seconds UTC, intervals are
 * half-open [start, end), quantities are uint64 in the resource's base unit (bits/s, vcpu,
 * bytes). The function is stored as a treap of breakpoints keyed by time, each carrying the
 * change of the booked level at that instant, with subtree aggregates (sum, max prefix,
 * min prefix) so that every operation below is O(log n) in the number of breakpoints: book,
 * unbook, level at t, peak/minimum over a window, free capacity over a window, the earliest
 * start where a booking fits, and the step containing t (iteration).
 *
 * Owns: its nodes. Pure: no I/O, no clock, no logging; the only failure besides bad
 * arguments is -ENOMEM. Used by the ledger (control/ledger.c), the allocation controller
 * and tidal-sim; there is no second implementation.
 *
 * The level is 0 before the first breakpoint and after the last one. Levels never exceed
 * LEDGER_CAL_QMAX (2^61, 2.3e18), which keeps every partial sum inside int64.
 */
#ifndef TIDAL_CONTROL_CALENDAR_H
#define TIDAL_CONTROL_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEDGER_CAL_QMAX (UINT64_C(1) << 61)
#define LEDGER_CAL_T_MIN INT64_MIN
#define LEDGER_CAL_T_MAX INT64_MAX

struct ledger_cal;

/* One constant piece of the step function: booked over [start, end). start is
 * LEDGER_CAL_T_MIN before the first breakpoint, end LEDGER_CAL_T_MAX after the last. */
struct ledger_cal_step {
	int64_t start;
	int64_t end;
	uint64_t booked;
};

/* A calendar with the given capacity (the limit ledger_cal_book admits against). NULL on
 * allocation failure. */
struct ledger_cal *ledger_cal_new(uint64_t capacity);
void ledger_cal_free(struct ledger_cal *c);
/* Drop every booking (capacity stays). */
void ledger_cal_clear(struct ledger_cal *c);
/* Deep copy, or NULL on allocation failure. */
struct ledger_cal *ledger_cal_dup(const struct ledger_cal *c);

uint64_t ledger_cal_capacity(const struct ledger_cal *c);
/* Change the capacity. Existing bookings stay, even above the new capacity (check with
 * ledger_cal_peak). */
void ledger_cal_set_capacity(struct ledger_cal *c, uint64_t capacity);

/* Book q over [start, end) if the peak over that window plus q stays within the capacity.
 * 0, -EINVAL (start >= end or q == 0), -ENOSPC (does not fit; nothing changed), -ENOMEM. */
int ledger_cal_book(struct ledger_cal *c, int64_t start, int64_t end, uint64_t q);
/* Book without the capacity check (rebuilding from a database after the capacity shrank).
 * -EOVERFLOW when the level would pass LEDGER_CAL_QMAX; otherwise as ledger_cal_book. */
int ledger_cal_add(struct ledger_cal *c, int64_t start, int64_t end, uint64_t q);
/* Remove q over [start, end). -ENOENT (nothing changed) when the level drops below q
 * anywhere in the window, i.e. the booking was never there. */
int ledger_cal_unbook(struct ledger_cal *c, int64_t start, int64_t end, uint64_t q);

/* Booked level at instant t. */
uint64_t ledger_cal_booked_at(const struct ledger_cal *c, int64_t t);
/* Highest and lowest booked level over [a, b) (0 when a >= b). */
uint64_t ledger_cal_peak(const struct ledger_cal *c, int64_t a, int64_t b);
uint64_t ledger_cal_trough(const struct ledger_cal *c, int64_t a, int64_t b);
/* Free capacity over [a, b): capacity minus the peak, 0 when overbooked. */
uint64_t ledger_cal_avail(const struct ledger_cal *c, int64_t a, int64_t b);
/* Would q fit over [start, end)? */
bool ledger_cal_fits(const struct ledger_cal *c, int64_t start, int64_t end, uint64_t q);

/* Earliest start s with t <= s <= latest such that q fits over [s, s + d). 0 and *start_out,
 * -EINVAL (d <= 0, q == 0, latest < t), -ENOSPC (no such s: q above capacity, or every
 * candidate is blocked up to latest). Candidates are t and the instants where the level
 * drops, so the answer is exact. */
int ledger_cal_earliest(const struct ledger_cal *c, int64_t t, int64_t d, uint64_t q,
			int64_t latest, int64_t *start_out);

/* The step containing t. Iterate a window [a, b) with
 *     for (int64_t t = a; t < b; t = s.end) { ledger_cal_step_at(c, t, &s); ... }
 * (s.end is LEDGER_CAL_T_MAX on the last step, which ends the loop). */
void ledger_cal_step_at(const struct ledger_cal *c, int64_t t, struct ledger_cal_step *s);
/* The steps over [a, b), clipped to the window, written to out (at most max). Returns how
 * many there are (may exceed max: call again with a bigger array). */
size_t ledger_cal_steps(const struct ledger_cal *c, int64_t a, int64_t b,
			struct ledger_cal_step *out, size_t max);
/* Number of breakpoints (instants where the level changes). */
size_t ledger_cal_nbreaks(const struct ledger_cal *c);
/* Does a equal b as a step function (capacity ignored)? */
bool ledger_cal_equal(const struct ledger_cal *a, const struct ledger_cal *b);

#endif

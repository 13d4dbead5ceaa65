/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of the capacity calendar (control/calendar.c) against a naive calendar: a
 * sorted array of breakpoints scanned linearly, with memmove on insert. Both run the same
 * workload in the same process, so the printed ratio cancels machine noise.
 *
 * Workload (per size N and load): N random bookings of a 30-day calendar (any second, durations
 * 5 min .. 72 h), then OPS operations in a steady state, each: an admission check on a
 * random window, a booking when it fits (otherwise an earliest-start search), a peak query,
 * and the release of a random live booking. "ample" capacity (4x the peak) admits every
 * request, so it times book/peak/unbook; "tight" (peak + 2 %) refuses about half, which adds
 * an earliest-start search to those.
 *
 *   build/tests/bench/ledger/bench_ledger_calendar [OPS]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"

#define DAYS 30
#define GRID 300

struct naive {
	int64_t *t;     /* breakpoint instants, ascending */
	uint64_t *lv;   /* level from t[i] until t[i+1] */
	size_t n, cap;
	uint64_t capacity;
};

static size_t naive_pos(struct naive *c, int64_t t) /* first index with c->t[i] >= t */
{
	size_t i = 0;
	while (i < c->n && c->t[i] < t)
		i++;
	return i;
}

static uint64_t naive_level_before(const struct naive *c, size_t i)
{
	return i == 0 ? 0 : c->lv[i - 1];
}

static size_t naive_split(struct naive *c, int64_t t)
{
	size_t i = naive_pos(c, t);
	if (i < c->n && c->t[i] == t)
		return i;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->t = realloc(c->t, c->cap * sizeof(*c->t));
		c->lv = realloc(c->lv, c->cap * sizeof(*c->lv));
		if (!c->t || !c->lv)
			abort();
	}
	memmove(c->t + i + 1, c->t + i, (c->n - i) * sizeof(*c->t));
	memmove(c->lv + i + 1, c->lv + i, (c->n - i) * sizeof(*c->lv));
	c->t[i] = t;
	c->lv[i] = naive_level_before(c, i);
	c->n++;
	return i;
}

static uint64_t naive_peak(struct naive *c, int64_t a, int64_t b)
{
	size_t i = naive_pos(c, a);
	uint64_t m = (i < c->n && c->t[i] == a) ? c->lv[i] : naive_level_before(c, i);
	for (; i < c->n && c->t[i] < b; i++)
		if (c->lv[i] > m)
			m = c->lv[i];
	return m;
}

/* Drop breakpoint i when the level does not change there. */
static void naive_prune(struct naive *c, size_t i)
{
	if (i >= c->n || c->lv[i] != naive_level_before(c, i))
		return;
	memmove(c->t + i, c->t + i + 1, (c->n - i - 1) * sizeof(*c->t));
	memmove(c->lv + i, c->lv + i + 1, (c->n - i - 1) * sizeof(*c->lv));
	c->n--;
}

static void naive_apply(struct naive *c, int64_t a, int64_t b, uint64_t q, int sign)
{
	size_t i = naive_split(c, a);
	size_t j = naive_split(c, b);
	for (size_t k = i; k < j; k++)
		c->lv[k] = sign > 0 ? c->lv[k] + q : c->lv[k] - q;
	naive_prune(c, j);
	naive_prune(c, i);
}

/* Candidates are t and every breakpoint after it (where the level may drop). */
static int naive_earliest(struct naive *c, int64_t t, int64_t d, uint64_t q, int64_t latest,
			  int64_t *out)
{
	size_t i = naive_pos(c, t);
	for (int64_t s = t; s <= latest;) {
		if (naive_peak(c, s, s + d) + q <= c->capacity) {
			*out = s;
			return 0;
		}
		while (i < c->n && c->t[i] <= s)
			i++;
		if (i == c->n)
			break;
		s = c->t[i];
	}
	return -ENOSPC;
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct bk {
	int64_t s, e;
	uint64_t q;
};

static void random_booking(struct bk *b)
{
	b->s = (int64_t)(rnd() % (DAYS * 86400));
	b->e = b->s + GRID + (int64_t)(rnd() % (72 * 3600 - GRID));
	b->q = 1000000 * (1 + rnd() % 100); /* 1..100 Mbit/s */
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Returns seconds per operation; *check accumulates results so both variants must agree. */
static double run(int naive, int tight, size_t nbook, size_t ops, uint64_t seed, uint64_t *check)
{
	uint64_t capacity = UINT64_C(1) << 50;
	struct ledger_cal *c = naive ? NULL : ledger_cal_new(capacity);
	struct naive nv = {.capacity = capacity};
	struct bk *live = malloc((nbook + 1) * sizeof(*live));
	if (!live)
		abort();
	rng = seed;
	for (size_t i = 0; i < nbook; i++) {
		random_booking(&live[i]);
		if (naive)
			naive_apply(&nv, live[i].s, live[i].e, live[i].q, 1);
		else if (ledger_cal_add(c, live[i].s, live[i].e, live[i].q) < 0)
			abort();
	}
	/* Capacity so that about half of new requests fit somewhere busy. */
	uint64_t peak = naive ? naive_peak(&nv, INT64_MIN, INT64_MAX)
			      : ledger_cal_peak(c, INT64_MIN, INT64_MAX);
	capacity = tight ? peak + peak / 50 : peak * 4;
	if (naive)
		nv.capacity = capacity;
	else
		ledger_cal_set_capacity(c, capacity);

	size_t n = nbook;
	uint64_t sum = 0;
	double t0 = now_s();
	for (size_t k = 0; k < ops; k++) {
		struct bk b;
		random_booking(&b);
		int64_t d = b.e - b.s, s = 0;
		int fits = naive ? naive_peak(&nv, b.s, b.e) + b.q <= capacity
				 : ledger_cal_fits(c, b.s, b.e, b.q);
		if (!fits) {
			int rc = naive ? naive_earliest(&nv, b.s, d, b.q, b.s + 86400, &s)
				       : ledger_cal_earliest(c, b.s, d, b.q, b.s + 86400, &s);
			if (rc == 0) {
				/* Both answer exactly, so they agree. */
				b.s = s;
				b.e = s + d;
				fits = 1;
			}
		}
		if (fits) {
			if (naive)
				naive_apply(&nv, b.s, b.e, b.q, 1);
			else if (ledger_cal_book(c, b.s, b.e, b.q) < 0)
				abort();
			live[n++] = b;
			sum += (uint64_t)b.s;
		}
		int64_t qa = b.s - 3600, qb = b.s + 7200;
		sum += naive ? naive_peak(&nv, qa, qb) : ledger_cal_peak(c, qa, qb);
		size_t i = rnd() % n;
		if (naive)
			naive_apply(&nv, live[i].s, live[i].e, live[i].q, -1);
		else if (ledger_cal_unbook(c, live[i].s, live[i].e, live[i].q) < 0)
			abort();
		live[i] = live[--n];
	}
	double dt = now_s() - t0;
	*check = sum;
	ledger_cal_free(c);
	free(nv.t);
	free(nv.lv);
	free(live);
	return dt / (double)ops;
}

int main(int argc, char **argv)
{
	size_t ops = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 20000;
	const size_t sizes[] = {1000, 10000, 100000};
	printf("%-6s %-9s %-11s %14s %14s %9s\n", "load", "bookings", "breakpoints",
	       "naive ns/op", "calendar ns/op", "speedup");
	for (size_t k = 0; k < 2 * sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t i = k % 3;
		int tight = k >= 3;
		uint64_t ck_naive, ck_tree;
		size_t nops = sizes[i] >= 100000 ? ops / 10 : ops;
		double tn = run(1, tight, sizes[i], nops, 42 + i, &ck_naive);
		double tt = run(0, tight, sizes[i], nops, 42 + i, &ck_tree);
		if (ck_naive != ck_tree) {
			fprintf(stderr, "bench: naive and calendar disagree (%" PRIu64 " vs %" PRIu64
					")\n", ck_naive, ck_tree);
			return 1;
		}
		struct ledger_cal *c = ledger_cal_new(UINT64_MAX);
		rng = 42 + i;
		for (size_t m = 0; m < sizes[i]; m++) {
			struct bk b;
			random_booking(&b);
			ledger_cal_add(c, b.s, b.e, b.q);
		}
		printf("%-6s %-9zu %-11zu %14.0f %14.0f %8.1fx\n", tight ? "tight" : "ample",
		       sizes[i], ledger_cal_nbreaks(c),
		       tn * 1e9, tt * 1e9, tn / tt);
		ledger_cal_free(c);
	}
	return 0;
}

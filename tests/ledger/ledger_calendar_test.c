/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the capacity calendar (control/calendar.c): hand-checked step functions,
 * edge cases (adjacent bookings, extreme instants, overflow guard, capacity edges), the
 * earliest-fit search, and a randomized comparison against a dense per-second model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>

#include <cmocka.h>

#include "calendar.h"

struct want_step {
	int64_t start, end;
	uint64_t booked;
};

static void check_steps(const struct ledger_cal *c, const struct want_step *w, size_t n)
{
	struct ledger_cal_step s;
	int64_t t = LEDGER_CAL_T_MIN;
	for (size_t i = 0; i < n; i++) {
		ledger_cal_step_at(c, t, &s);
		assert_int_equal(s.start, w[i].start);
		assert_int_equal(s.end, w[i].end);
		assert_int_equal(s.booked, w[i].booked);
		t = s.end;
	}
	assert_int_equal(s.end, LEDGER_CAL_T_MAX);
}

static void test_empty(void **st)
{
	(void)st;
	struct ledger_cal *c = ledger_cal_new(100);
	assert_non_null(c);
	assert_int_equal(ledger_cal_booked_at(c, 0), 0);
	assert_int_equal(ledger_cal_peak(c, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX), 0);
	assert_int_equal(ledger_cal_avail(c, 0, 10), 100);
	assert_int_equal(ledger_cal_nbreaks(c), 0);
	struct want_step w[] = {{LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX, 0}};
	check_steps(c, w, 1);
	int64_t s = -1;
	assert_int_equal(ledger_cal_earliest(c, 5, 10, 100, 5, &s), 0);
	assert_int_equal(s, 5);
	ledger_cal_free(c);
	ledger_cal_free(NULL);
}

static void test_hand_checked(void **st)
{
	(void)st;
	struct ledger_cal *c = ledger_cal_new(10);
	assert_int_equal(ledger_cal_book(c, 10, 20, 3), 0);
	assert_int_equal(ledger_cal_book(c, 15, 30, 4), 0);
	assert_int_equal(ledger_cal_book(c, 20, 25, 2), 0);
	struct want_step w[] = {
		{LEDGER_CAL_T_MIN, 10, 0}, {10, 15, 3}, {15, 20, 7}, {20, 25, 6},
		{25, 30, 4}, {30, LEDGER_CAL_T_MAX, 0},
	};
	check_steps(c, w, 6);
	assert_int_equal(ledger_cal_nbreaks(c), 5);
	assert_int_equal(ledger_cal_peak(c, 10, 30), 7);
	assert_int_equal(ledger_cal_peak(c, 20, 30), 6);
	assert_int_equal(ledger_cal_peak(c, 0, 10), 0);
	assert_int_equal(ledger_cal_peak(c, 14, 15), 3);
	assert_int_equal(ledger_cal_peak(c, 19, 21), 7);
	assert_int_equal(ledger_cal_peak(c, 29, 100), 4);
	assert_int_equal(ledger_cal_peak(c, 30, 100), 0);
	assert_int_equal(ledger_cal_peak(c, 20, 20), 0);
	assert_int_equal(ledger_cal_trough(c, 10, 30), 3);
	assert_int_equal(ledger_cal_trough(c, 5, 30), 0);
	assert_int_equal(ledger_cal_trough(c, 16, 24), 6);
	assert_int_equal(ledger_cal_booked_at(c, 24), 6);
	assert_int_equal(ledger_cal_booked_at(c, 25), 4);
	assert_int_equal(ledger_cal_avail(c, 15, 20), 3);
	assert_true(ledger_cal_fits(c, 15, 20, 3));
	assert_false(ledger_cal_fits(c, 15, 20, 4));
	/* Refused booking leaves the function untouched. */
	assert_int_equal(ledger_cal_book(c, 18, 22, 4), -ENOSPC);
	check_steps(c, w, 6);
	/* A booking that fits exactly to capacity, then nothing more. */
	assert_int_equal(ledger_cal_book(c, 15, 20, 3), 0);
	assert_int_equal(ledger_cal_peak(c, 0, 100), 10);
	assert_int_equal(ledger_cal_avail(c, 0, 100), 0);
	assert_int_equal(ledger_cal_book(c, 19, 20, 1), -ENOSPC);
	assert_int_equal(ledger_cal_book(c, 20, 21, 4), 0);
	assert_int_equal(ledger_cal_book(c, 0, 1, 11), -ENOSPC);

	struct ledger_cal_step out[3];
	size_t n = ledger_cal_steps(c, 12, 40, out, 3);
	assert_int_equal(n, 5); /* [12,15) [15,21) [21,25) [25,30) [30,40): equal levels merge */
	assert_int_equal(out[0].start, 12);
	assert_int_equal(out[0].end, 15);
	assert_int_equal(out[0].booked, 3);
	assert_int_equal(out[1].booked, 10);
	assert_int_equal(out[1].end, 21);
	assert_int_equal(out[2].start, 21);
	assert_int_equal(out[2].end, 25);
	assert_int_equal(out[2].booked, 6);
	assert_int_equal(ledger_cal_steps(c, 5, 5, out, 3), 0);
	ledger_cal_free(c);
}

static void test_adjacent_and_unbook(void **st)
{
	(void)st;
	struct ledger_cal *c = ledger_cal_new(10);
	assert_int_equal(ledger_cal_book(c, 0, 10, 5), 0);
	assert_int_equal(ledger_cal_book(c, 10, 20, 5), 0);
	/* The +5/-5 at 10 cancel: one step [0,20). */
	assert_int_equal(ledger_cal_nbreaks(c), 2);
	struct want_step w[] = {{LEDGER_CAL_T_MIN, 0, 0}, {0, 20, 5}, {20, LEDGER_CAL_T_MAX, 0}};
	check_steps(c, w, 3);
	/* Unbooking something never booked is refused and changes nothing. */
	assert_int_equal(ledger_cal_unbook(c, 5, 25, 1), -ENOENT);
	assert_int_equal(ledger_cal_unbook(c, 0, 20, 6), -ENOENT);
	check_steps(c, w, 3);
	assert_int_equal(ledger_cal_unbook(c, 0, 10, 5), 0);
	assert_int_equal(ledger_cal_booked_at(c, 5), 0);
	assert_int_equal(ledger_cal_booked_at(c, 10), 5);
	assert_int_equal(ledger_cal_unbook(c, 10, 20, 5), 0);
	assert_int_equal(ledger_cal_nbreaks(c), 0);
	assert_int_equal(ledger_cal_unbook(c, 10, 20, 5), -ENOENT);
	/* Bad arguments. */
	assert_int_equal(ledger_cal_book(c, 5, 5, 1), -EINVAL);
	assert_int_equal(ledger_cal_book(c, 6, 5, 1), -EINVAL);
	assert_int_equal(ledger_cal_book(c, 0, 5, 0), -EINVAL);
	assert_int_equal(ledger_cal_unbook(c, 0, 5, 0), -EINVAL);
	assert_int_equal(ledger_cal_add(c, 5, 1, 1), -EINVAL);
	ledger_cal_free(c);
}

static void test_extremes(void **st)
{
	(void)st;
	struct ledger_cal *c = ledger_cal_new(UINT64_MAX);
	assert_int_equal(ledger_cal_book(c, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX, 7), 0);
	assert_int_equal(ledger_cal_booked_at(c, LEDGER_CAL_T_MIN), 7);
	assert_int_equal(ledger_cal_booked_at(c, 0), 7);
	assert_int_equal(ledger_cal_booked_at(c, LEDGER_CAL_T_MAX), 0);
	assert_int_equal(ledger_cal_peak(c, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX), 7);
	assert_int_equal(ledger_cal_peak(c, LEDGER_CAL_T_MAX - 1, LEDGER_CAL_T_MAX), 7);
	/* The level is bounded by QMAX whatever the capacity. */
	assert_int_equal(ledger_cal_book(c, 0, 10, LEDGER_CAL_QMAX - 7), 0);
	assert_int_equal(ledger_cal_peak(c, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX), LEDGER_CAL_QMAX);
	assert_int_equal(ledger_cal_book(c, 5, 6, 1), -EOVERFLOW);
	assert_int_equal(ledger_cal_add(c, 5, 6, 1), -EOVERFLOW);
	assert_int_equal(ledger_cal_add(c, 20, 30, LEDGER_CAL_QMAX + 1), -EOVERFLOW);
	assert_int_equal(ledger_cal_book(c, 10, 20, LEDGER_CAL_QMAX - 7), 0);
	assert_int_equal(ledger_cal_unbook(c, 0, 20, LEDGER_CAL_QMAX - 7), 0);
	assert_int_equal(ledger_cal_unbook(c, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX, 7), 0);
	assert_int_equal(ledger_cal_nbreaks(c), 0);
	int64_t s;
	assert_int_equal(ledger_cal_earliest(c, LEDGER_CAL_T_MAX - 5, 5, 1, LEDGER_CAL_T_MAX, &s),
			 0);
	assert_int_equal(s, LEDGER_CAL_T_MAX - 5);
	assert_int_equal(ledger_cal_earliest(c, LEDGER_CAL_T_MAX - 4, 5, 1, LEDGER_CAL_T_MAX, &s),
			 -ENOSPC);
	ledger_cal_free(c);
}

static void test_add_over_capacity(void **st)
{
	(void)st;
	struct ledger_cal *c = ledger_cal_new(10);
	assert_int_equal(ledger_cal_add(c, 0, 10, 8), 0);
	assert_int_equal(ledger_cal_add(c, 5, 15, 8), 0); /* restore path: no capacity check */
	assert_int_equal(ledger_cal_peak(c, 0, 20), 16);
	assert_int_equal(ledger_cal_avail(c, 0, 20), 0);
	assert_int_equal(ledger_cal_avail(c, 10, 20), 2);
	ledger_cal_set_capacity(c, 20);
	assert_int_equal(ledger_cal_capacity(c), 20);
	assert_int_equal(ledger_cal_avail(c, 0, 20), 4);
	ledger_cal_free(c);
}

static void test_earliest(void **st)
{
	(void)st;
	struct ledger_cal *c = ledger_cal_new(10);
	assert_int_equal(ledger_cal_book(c, 10, 20, 8), 0);
	assert_int_equal(ledger_cal_book(c, 25, 40, 6), 0);
	assert_int_equal(ledger_cal_book(c, 40, 50, 9), 0);
	int64_t s = -1;
	assert_int_equal(ledger_cal_earliest(c, 0, 5, 3, 1000, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(ledger_cal_earliest(c, 0, 11, 3, 1000, &s), 0);
	assert_int_equal(s, 20);
	assert_int_equal(ledger_cal_earliest(c, 8, 5, 3, 1000, &s), 0);
	assert_int_equal(s, 20);
	assert_int_equal(ledger_cal_earliest(c, 8, 6, 3, 1000, &s), 0);
	assert_int_equal(s, 20); /* [20,26) meets level 6 <= 7 */
	assert_int_equal(ledger_cal_earliest(c, 8, 6, 5, 1000, &s), 0);
	assert_int_equal(s, 50); /* 6 > 5 from 25, 9 until 50 */
	assert_int_equal(ledger_cal_earliest(c, 8, 5, 5, 1000, &s), 0);
	assert_int_equal(s, 20); /* [20,25) exactly */
	assert_int_equal(ledger_cal_earliest(c, 8, 6, 5, 49, &s), -ENOSPC);
	assert_int_equal(ledger_cal_earliest(c, 8, 6, 5, 50, &s), 0);
	assert_int_equal(ledger_cal_earliest(c, 12, 1, 3, 1000, &s), 0);
	assert_int_equal(s, 20);
	assert_int_equal(ledger_cal_earliest(c, 12, 1, 2, 1000, &s), 0);
	assert_int_equal(s, 12);
	assert_int_equal(ledger_cal_earliest(c, 0, 5, 11, 1000, &s), -ENOSPC);
	assert_int_equal(ledger_cal_earliest(c, 0, 0, 1, 1000, &s), -EINVAL);
	assert_int_equal(ledger_cal_earliest(c, 0, 5, 0, 1000, &s), -EINVAL);
	assert_int_equal(ledger_cal_earliest(c, 10, 5, 1, 9, &s), -EINVAL);
	ledger_cal_free(c);
}

static void test_dup_equal_clear(void **st)
{
	(void)st;
	struct ledger_cal *a = ledger_cal_new(10);
	assert_int_equal(ledger_cal_book(a, 1, 5, 2), 0);
	assert_int_equal(ledger_cal_book(a, 3, 9, 4), 0);
	struct ledger_cal *b = ledger_cal_dup(a);
	assert_non_null(b);
	assert_true(ledger_cal_equal(a, b));
	assert_int_equal(ledger_cal_book(b, 2, 3, 1), 0);
	assert_false(ledger_cal_equal(a, b));
	assert_int_equal(ledger_cal_unbook(b, 2, 3, 1), 0);
	assert_true(ledger_cal_equal(a, b));
	/* Same function built in another order is equal. */
	struct ledger_cal *c = ledger_cal_new(99);
	assert_int_equal(ledger_cal_book(c, 3, 9, 4), 0);
	assert_int_equal(ledger_cal_book(c, 1, 5, 2), 0);
	assert_true(ledger_cal_equal(a, c));
	ledger_cal_clear(a);
	assert_int_equal(ledger_cal_nbreaks(a), 0);
	assert_int_equal(ledger_cal_peak(a, 0, 10), 0);
	assert_int_equal(ledger_cal_capacity(a), 10);
	ledger_cal_free(a);
	ledger_cal_free(b);
	ledger_cal_free(c);
}

/* ---- randomized comparison against a dense model ---------------------------------- */

#define DOM 320 /* bookings live in [0, DOM); queries reach 2*DOM */

struct booking {
	int64_t s, e;
	uint64_t q;
};

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static uint64_t model_peak(const uint64_t *lv, int64_t a, int64_t b)
{
	uint64_t m = 0;
	for (int64_t t = a; t < b; t++)
		if (lv[t] > m)
			m = lv[t];
	return m;
}

static uint64_t model_trough(const uint64_t *lv, int64_t a, int64_t b)
{
	uint64_t m = UINT64_MAX;
	for (int64_t t = a; t < b; t++)
		if (lv[t] < m)
			m = lv[t];
	return a < b ? m : 0;
}

static void test_random_vs_model(void **st)
{
	(void)st;
	for (int round = 0; round < 8; round++) {
		uint64_t cap = 1 + rnd() % 50;
		struct ledger_cal *c = ledger_cal_new(cap);
		static uint64_t lv[2 * DOM + 1];
		struct booking bk[400];
		size_t nb = 0;
		for (size_t i = 0; i < 2 * DOM + 1; i++)
			lv[i] = 0;
		for (int op = 0; op < 4000; op++) {
			int kind = (int)(rnd() % 10);
			int64_t a = (int64_t)(rnd() % DOM), b = a + 1 + (int64_t)(rnd() % 60);
			if (b > DOM)
				b = DOM;
			if (kind < 4 && nb < 400) {
				uint64_t q = 1 + rnd() % (cap + 2);
				bool fits = model_peak(lv, a, b) + q <= cap;
				int rc = ledger_cal_book(c, a, b, q);
				assert_int_equal(rc, fits ? 0 : -ENOSPC);
				if (fits) {
					for (int64_t t = a; t < b; t++)
						lv[t] += q;
					bk[nb++] = (struct booking){a, b, q};
				}
			} else if (kind < 6 && nb > 0) {
				size_t i = rnd() % nb;
				assert_int_equal(ledger_cal_unbook(c, bk[i].s, bk[i].e, bk[i].q), 0);
				for (int64_t t = bk[i].s; t < bk[i].e; t++)
					lv[t] -= bk[i].q;
				bk[i] = bk[--nb];
			} else if (kind == 6) {
				uint64_t q = 1 + rnd() % 5;
				int rc = ledger_cal_unbook(c, a, b, q);
				assert_int_equal(rc, model_trough(lv, a, b) >= q ? 0 : -ENOENT);
				if (rc == 0) /* put it back: the model has no booking record */
					assert_int_equal(ledger_cal_add(c, a, b, q), 0);
			} else if (kind == 7) {
				int64_t d = 1 + (int64_t)(rnd() % 40);
				uint64_t q = 1 + rnd() % (cap + 1);
				int64_t latest = a + (int64_t)(rnd() % DOM);
				int64_t want = -1, got = -1;
				for (int64_t s = a; s <= latest && want < 0; s++)
					if (q <= cap && model_peak(lv, s, s + d) + q <= cap)
						want = s;
				int rc = ledger_cal_earliest(c, a, d, q, latest, &got);
				if (want < 0) {
					assert_int_equal(rc, -ENOSPC);
				} else {
					assert_int_equal(rc, 0);
					assert_int_equal(got, want);
				}
			} else {
				int64_t qa = (int64_t)(rnd() % (2 * DOM)), qb = qa + (int64_t)(rnd() % 80);
				if (qb > 2 * DOM)
					qb = 2 * DOM;
				assert_int_equal(ledger_cal_peak(c, qa, qb), model_peak(lv, qa, qb));
				assert_int_equal(ledger_cal_trough(c, qa, qb), model_trough(lv, qa, qb));
				assert_int_equal(ledger_cal_booked_at(c, qa), lv[qa]);
				uint64_t pk = model_peak(lv, qa, qb);
				assert_int_equal(ledger_cal_avail(c, qa, qb), pk >= cap ? 0 : cap - pk);
				struct ledger_cal_step s;
				ledger_cal_step_at(c, qa, &s);
				assert_true(s.start <= qa && qa < s.end);
				assert_int_equal(s.booked, lv[qa]);
				if (s.end < 2 * DOM) /* the step really ends there, and not earlier */
					assert_int_not_equal(lv[s.end], lv[qa]);
				for (int64_t t = qa; t < s.end && t < 2 * DOM; t++)
					assert_int_equal(lv[t], lv[qa]);
			}
		}
		/* Breakpoints are exactly the instants where the model level changes. */
		size_t changes = lv[0] != 0;
		for (int64_t t = 1; t < 2 * DOM; t++)
			changes += lv[t] != lv[t - 1];
		assert_int_equal(ledger_cal_nbreaks(c), changes);
		while (nb > 0) {
			nb--;
			assert_int_equal(ledger_cal_unbook(c, bk[nb].s, bk[nb].e, bk[nb].q), 0);
		}
		assert_int_equal(ledger_cal_nbreaks(c), 0);
		ledger_cal_free(c);
	}
}

/* Many bookings (forces node array growth and a deep tree), removed in another order. */
static void test_large(void **st)
{
	(void)st;
	enum { NB = 20000 };
	struct booking *bk = malloc(NB * sizeof(*bk));
	assert_non_null(bk);
	struct ledger_cal *c = ledger_cal_new(UINT64_MAX);
	uint64_t total = 0;
	for (int i = 0; i < NB; i++) {
		bk[i].s = (int64_t)(rnd() % 2592000);
		bk[i].e = bk[i].s + 300 + (int64_t)(rnd() % 259200);
		bk[i].q = 1 + rnd() % 1000000;
		total += bk[i].q;
		assert_int_equal(ledger_cal_book(c, bk[i].s, bk[i].e, bk[i].q), 0);
	}
	assert_true(ledger_cal_peak(c, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX) <= total);
	assert_true(ledger_cal_nbreaks(c) > NB);
	for (int i = NB - 1; i >= 0; i -= 2)
		assert_int_equal(ledger_cal_unbook(c, bk[i].s, bk[i].e, bk[i].q), 0);
	for (int i = 0; i < NB; i += 2)
		assert_int_equal(ledger_cal_unbook(c, bk[i].s, bk[i].e, bk[i].q), 0);
	assert_int_equal(ledger_cal_nbreaks(c), 0);
	assert_int_equal(ledger_cal_peak(c, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX), 0);
	ledger_cal_free(c);
	free(bk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_hand_checked),
		cmocka_unit_test(test_adjacent_and_unbook),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_add_over_capacity),
		cmocka_unit_test(test_earliest),
		cmocka_unit_test(test_dup_equal_clear),
		cmocka_unit_test(test_random_vs_model),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

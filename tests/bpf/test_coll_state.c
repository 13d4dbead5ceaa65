/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the collector's counter state (control/coll_state.c): adoption of raw
 * counters, monotone totals across wraps and restarts, rates over an interval, keys that
 * come and go, and classes forgotten when their app changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "coll_state.h"

static struct coll_counter ctr(const char *ifname, uint32_t cls, enum coll_dir dir,
			       uint64_t pk, uint64_t by, uint64_t dr)
{
	struct coll_counter c = {.class_id = cls, .dir = dir, .packets = pk, .bytes = by,
				 .drops = dr};

	snprintf(c.ifname, sizeof(c.ifname), "%s", ifname);
	return c;
}

static const struct coll_entry *find(const struct coll_state *s, const char *ifname,
				     uint32_t cls, enum coll_dir dir)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].ifname, ifname) && s->e[i].class_id == cls &&
		    s->e[i].dir == dir)
			return &s->e[i];
	return NULL;
}

static void test_delta(void **state)
{
	int kind;

	(void)state;
	assert_int_equal(coll_delta(10, 15, &kind), 5);
	assert_int_equal(kind, 0);
	assert_int_equal(coll_delta(7, 7, &kind), 0);
	assert_int_equal(coll_delta(UINT64_MAX - 4, 5, &kind), 10);
	assert_int_equal(kind, 1);
	assert_int_equal(coll_delta(1000000, 30, &kind), 30);
	assert_int_equal(kind, 2);
}

static void test_adopt_and_advance(void **state)
{
	struct coll_state s = {0};
	struct coll_counter c[3];
	const struct coll_entry *e;

	(void)state;
	/* Counters that survived a restart are adopted as totals. */
	c[0] = ctr("eth1", 1, COLL_DIR_OUT, 100, 10000, 1);
	c[1] = ctr("eth0", 1, COLL_DIR_OUT, 50, 5000, 0);
	c[2] = ctr("eth0", 0, COLL_DIR_IN, 7, 700, 0);
	assert_int_equal(coll_state_update(&s, c, 3), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.e[0].ifname, "eth0"); /* sorted */
	assert_int_equal(s.e[0].class_id, 0);
	e = find(&s, "eth1", 1, COLL_DIR_OUT);
	assert_int_equal(e->total[COLL_PKT], 100);
	assert_int_equal(e->total[COLL_DROPS], 1);
	coll_state_sample(&s, 2.0);

	c[0] = ctr("eth1", 1, COLL_DIR_OUT, 300, 30000, 3);
	c[1] = ctr("eth0", 1, COLL_DIR_OUT, 50, 5000, 0);
	c[2] = ctr("eth0", 0, COLL_DIR_IN, 7, 700, 0);
	assert_int_equal(coll_state_update(&s, c, 3), 0);
	coll_state_sample(&s, 2.0);
	e = find(&s, "eth1", 1, COLL_DIR_OUT);
	assert_int_equal(e->total[COLL_PKT], 300);
	assert_true(e->have_rate);
	assert_true(e->rate[COLL_PKT] == 100.0);
	assert_true(e->rate[COLL_BYTES] == 10000.0);
	assert_true(e->rate[COLL_DROPS] == 1.0);
	assert_true(find(&s, "eth0", 1, COLL_DIR_OUT)->rate[COLL_PKT] == 0.0);
	coll_state_free(&s);
}

static void test_restart_and_wrap(void **state)
{
	struct coll_state s = {0};
	struct coll_counter c;
	const struct coll_entry *e;

	(void)state;
	c = ctr("eth0", 2, COLL_DIR_OUT, 1000, 100000, 0);
	assert_int_equal(coll_state_update(&s, &c, 1), 0);
	/* The backend restarted: packets went back; bytes happen to be higher but the key
	 * restarted as a whole, so both count from zero. */
	c = ctr("eth0", 2, COLL_DIR_OUT, 10, 200000, 0);
	assert_int_equal(coll_state_update(&s, &c, 1), 0);
	e = find(&s, "eth0", 2, COLL_DIR_OUT);
	assert_int_equal(e->total[COLL_PKT], 1010);
	assert_int_equal(e->total[COLL_BYTES], 300000);
	assert_int_equal(s.resets, 1);
	/* A wrap of a counter near 2^64 is not a restart. */
	c = ctr("eth1", 0, COLL_DIR_IN, UINT64_MAX - 9, 5, 0);
	assert_int_equal(coll_state_update(&s, &c, 1), 0);
	assert_null(find(&s, "eth0", 2, COLL_DIR_OUT)); /* gone from the read: dropped */
	c = ctr("eth1", 0, COLL_DIR_IN, 20, 6, 0);
	assert_int_equal(coll_state_update(&s, &c, 1), 0);
	e = find(&s, "eth1", 0, COLL_DIR_IN);
	assert_int_equal(e->total[COLL_PKT], UINT64_MAX - 9 + 30); /* wraps as totals do */
	assert_int_equal(e->total[COLL_BYTES], 6);
	assert_int_equal(s.wraps, 1);
	assert_int_equal(s.resets, 1);
	coll_state_free(&s);
}

static void test_forget_class(void **state)
{
	struct coll_state s = {0};
	struct coll_counter c[2] = {ctr("eth0", 3, COLL_DIR_IN, 5, 50, 0),
				    ctr("eth0", 3, COLL_DIR_OUT, 9, 90, 0)};

	(void)state;
	assert_int_equal(coll_state_update(&s, c, 2), 0);
	coll_state_forget_class(&s, 3);
	assert_int_equal(s.n, 0);
	/* The class now belongs to another app whose counters the backend zeroed. */
	c[0] = ctr("eth0", 3, COLL_DIR_IN, 0, 0, 0);
	c[1] = ctr("eth0", 3, COLL_DIR_OUT, 2, 20, 0);
	assert_int_equal(coll_state_update(&s, c, 2), 0);
	assert_int_equal(find(&s, "eth0", 3, COLL_DIR_OUT)->total[COLL_PKT], 2);
	assert_int_equal(s.resets, 0);
	coll_state_free(&s);
}

static void test_duplicates_and_empty(void **state)
{
	struct coll_state s = {0};
	struct coll_counter c[2] = {ctr("eth0", 1, COLL_DIR_IN, 5, 50, 0),
				    ctr("eth0", 1, COLL_DIR_IN, 6, 60, 0)};

	(void)state;
	assert_int_equal(coll_state_update(&s, c, 2), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(coll_state_update(&s, NULL, 0), 0);
	assert_int_equal(s.n, 0);
	coll_state_sample(&s, 0);
	coll_state_free(&s);
	coll_state_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_adopt_and_advance),
		cmocka_unit_test(test_restart_and_wrap),
		cmocka_unit_test(test_forget_class),
		cmocka_unit_test(test_duplicates_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

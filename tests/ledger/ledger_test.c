/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the resource ledger (control/ledger*.c) on real SQLite files in a fresh
 * temporary folder per test: the transition table, admission and overbooking, holds that
 * expire, preemption by priority, idempotency, the requester-side flow, group commit,
 * restart rebuild, config reload, clock jumps and purging.
 * Crash safety (SIGKILL in the middle of bookings) is in ledger_crash_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "ledger.h"
#include "ledger_test_util.h"

/* ---- fixtures ------------------------------------------------------------------------- */

struct fx {
	struct lt_dir dir;
	struct tidal_cfg cfg;
	struct cfg_link links[2];
	struct cfg_pool pools[1];
	struct ledger *l;
	struct lt_log log;
};

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(lt_dir_make(&f->dir), 0);
	snprintf(f->links[0].name, sizeof(f->links[0].name), "fra-ams");
	f->links[0].capacity_bps = 10;
	f->links[0].reservable_bps = 10;
	snprintf(f->links[1].name, sizeof(f->links[1].name), "fra-par");
	f->links[1].capacity_bps = 100;
	f->links[1].reservable_bps = 80;
	snprintf(f->pools[0].name, sizeof(f->pools[0].name), "compute");
	f->pools[0].vcpu = 64;
	f->pools[0].memory_bytes = 1 << 30;
	f->cfg.links = f->links;
	f->cfg.n_links = 2;
	f->cfg.pools = f->pools;
	f->cfg.n_pools = 1;
	snprintf(f->cfg.region.name, sizeof(f->cfg.region.name), "fra");
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	ledger_close(f->l);
	lt_log_free(&f->log);
	lt_dir_remove(&f->dir);
	free(f);
	return 0;
}

static struct ledger *fx_open(struct fx *f, int64_t now, struct ledger_open_report *rep)
{
	ledger_close(f->l);
	struct ledger_params p = {
		.path = f->dir.db,
		.region = "fra",
		.cfg = &f->cfg,
		.now = now,
		.hold_s = 30,
		.on_change = lt_log_change,
		.arg = &f->log,
	};
	f->l = ledger_open(&p, rep);
	assert_non_null(f->l);
	return f->l;
}

static void check(struct ledger *l)
{
	char msg[256] = "";
	int rc = ledger_verify(l, msg, sizeof(msg));
	if (rc)
		fail_msg("ledger_verify: %s", msg);
}

/* ---- the transition table --------------------------------------------------------------- */

static void test_transition_table(void **st)
{
	(void)st;
	/* Written out independently of the implementation's table. */
	static const struct {
		enum ledger_state from;
		enum ledger_event ev;
		enum ledger_state to;
	} legal[] = {
		{LEDGER_CHECKING, LEDGER_EV_ADMIT, LEDGER_HELD},
		{LEDGER_CHECKING, LEDGER_EV_REJECT, LEDGER_FAILED},
		{LEDGER_CHECKING, LEDGER_EV_HOLD_TIMEOUT, LEDGER_FAILED},
		{LEDGER_CHECKING, LEDGER_EV_END, LEDGER_EXPIRED},
		{LEDGER_CHECKING, LEDGER_EV_RELEASE, LEDGER_RELEASED},
		{LEDGER_CHECKING, LEDGER_EV_REVOKE, LEDGER_REVOKED},
		{LEDGER_CHECKING, LEDGER_EV_FAIL, LEDGER_FAILED},
		{LEDGER_HELD, LEDGER_EV_COMMIT, LEDGER_COMMITTING},
		{LEDGER_HELD, LEDGER_EV_HOLD_TIMEOUT, LEDGER_EXPIRED},
		{LEDGER_HELD, LEDGER_EV_END, LEDGER_EXPIRED},
		{LEDGER_HELD, LEDGER_EV_RELEASE, LEDGER_RELEASED},
		{LEDGER_HELD, LEDGER_EV_REVOKE, LEDGER_REVOKED},
		{LEDGER_HELD, LEDGER_EV_FAIL, LEDGER_FAILED},
		{LEDGER_COMMITTING, LEDGER_EV_CONFIRM, LEDGER_RESERVED},
		{LEDGER_COMMITTING, LEDGER_EV_END, LEDGER_EXPIRED},
		{LEDGER_COMMITTING, LEDGER_EV_RELEASE, LEDGER_RELEASED},
		{LEDGER_COMMITTING, LEDGER_EV_REVOKE, LEDGER_REVOKED},
		{LEDGER_COMMITTING, LEDGER_EV_FAIL, LEDGER_FAILED},
		{LEDGER_RESERVED, LEDGER_EV_START, LEDGER_ACTIVE},
		{LEDGER_RESERVED, LEDGER_EV_END, LEDGER_EXPIRED},
		{LEDGER_RESERVED, LEDGER_EV_RELEASE, LEDGER_RELEASED},
		{LEDGER_RESERVED, LEDGER_EV_REVOKE, LEDGER_REVOKED},
		{LEDGER_RESERVED, LEDGER_EV_FAIL, LEDGER_FAILED},
		{LEDGER_ACTIVE, LEDGER_EV_END, LEDGER_EXPIRED},
		{LEDGER_ACTIVE, LEDGER_EV_RELEASE, LEDGER_RELEASED},
		{LEDGER_ACTIVE, LEDGER_EV_REVOKE, LEDGER_REVOKED},
		{LEDGER_ACTIVE, LEDGER_EV_FAIL, LEDGER_FAILED},
	};
	size_t n_legal = 0;
	for (int s = 0; s < LEDGER_N_STATES; s++) {
		for (int e = 0; e < LEDGER_N_EVENTS; e++) {
			enum ledger_state to = LEDGER_N_STATES;
			enum ledger_err err = ledger_transition(s, e, &to);
			bool want = false;
			for (size_t k = 0; k < sizeof(legal) / sizeof(legal[0]); k++) {
				if (legal[k].from == (enum ledger_state)s &&
				    legal[k].ev == (enum ledger_event)e) {
					want = true;
					assert_int_equal(err, LEDGER_OK);
					assert_int_equal(to, legal[k].to);
					n_legal++;
				}
			}
			if (!want) {
				assert_int_equal(err, ledger_state_live(s) ? LEDGER_E_ILLEGAL
									   : LEDGER_E_TERMINAL);
				assert_int_equal(to, LEDGER_N_STATES); /* untouched */
				assert_int_equal(ledger_err_errno(err), -EPERM);
			}
		}
	}
	assert_int_equal(n_legal, sizeof(legal) / sizeof(legal[0]));
	enum ledger_state to;
	assert_int_equal(ledger_transition(LEDGER_N_STATES, LEDGER_EV_ADMIT, &to),
			 LEDGER_E_INVALID);
	assert_int_equal(ledger_transition(LEDGER_HELD, LEDGER_N_EVENTS, &to), LEDGER_E_INVALID);
}

static void test_names_and_ids(void **st)
{
	(void)st;
	for (int s = 0; s < LEDGER_N_STATES; s++) {
		enum ledger_state back;
		assert_int_equal(ledger_state_parse(ledger_state_name(s), &back), 0);
		assert_int_equal(back, s);
	}
	enum ledger_state bs;
	assert_int_equal(ledger_state_parse("bogus", &bs), -EINVAL);
	enum ledger_kind k;
	assert_int_equal(ledger_kind_parse("memory", &k), 0);
	assert_int_equal(k, LEDGER_KIND_MEMORY);
	assert_string_equal(ledger_kind_unit(LEDGER_KIND_BANDWIDTH), "bps");
	assert_string_equal(ledger_err_name(LEDGER_E_PREEMPTED), "preempted");
	uint8_t id[LEDGER_ID_LEN], back[LEDGER_ID_LEN];
	char buf[LEDGER_ID_STR];
	assert_int_equal(ledger_id_new(id), 0);
	assert_int_equal(ledger_id_parse(ledger_id_fmt(id, buf), back), 0);
	assert_memory_equal(id, back, LEDGER_ID_LEN);
	assert_int_equal(ledger_id_parse("00112233445566778899aabbccddeeff", back), 0);
	assert_int_equal(back[15], 0xff);
	assert_string_equal(ledger_id_fmt(back, buf), "00112233445566778899aabbccddeeff");
	assert_int_equal(ledger_id_parse("00112233445566778899aabbccddeef", back), -EINVAL);
	assert_int_equal(ledger_id_parse("00112233445566778899aabbccddeefg", back), -EINVAL);
}

/* ---- admission ------------------------------------------------------------------------- */

static void test_admission(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	assert_int_equal(ledger_resource_count(l), 4); /* 2 links, vcpu, memory (no storage) */
	assert_int_equal(ledger_resource_find(l, "fra-ams"), ledger_resource_find(l, "link.fra-ams"));
	assert_true(ledger_resource_find(l, "pool.compute.vcpu") >= 0);
	assert_int_equal(ledger_resource_find(l, "pool.compute.storage"), -ENOENT);

	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req a = lt_req(1, "link.fra-ams", 6, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &a, 1000, &x, &why), 0);
	assert_int_equal(why, LEDGER_OK);
	assert_int_equal(x.state, LEDGER_HELD);
	assert_true(x.booked);
	assert_int_equal(x.hold_until, 1030);
	assert_string_equal(x.resource, "link.fra-ams");
	/* 6 + 5 > 10: refused, recorded as failed, nothing booked. */
	struct ledger_req b = lt_req(2, "fra-ams", 5, 1150, 1250, 4, 4);
	assert_int_equal(ledger_request(l, &b, 1000, &x, &why), -ENOSPC);
	assert_int_equal(why, LEDGER_E_NO_CAPACITY);
	assert_int_equal(ledger_get(l, b.id, &x), 0);
	assert_int_equal(x.state, LEDGER_FAILED);
	assert_int_equal(x.reason, LEDGER_E_NO_CAPACITY);
	assert_false(x.booked);
	/* 6 + 4 = 10 fits exactly; outside the overlap anything up to 10 fits. */
	struct ledger_req c = lt_req(3, "fra-ams", 4, 1150, 1250, 4, 4);
	assert_int_equal(ledger_request(l, &c, 1000, &x, &why), 0);
	struct ledger_req d = lt_req(4, "fra-ams", 6, 1250, 1300, 4, 4);
	assert_int_equal(ledger_request(l, &d, 1000, &x, &why), 0);
	struct ledger_req e = lt_req(5, "fra-ams", 1, 1000, 1300, 4, 4);
	assert_int_equal(ledger_request(l, &e, 1000, &x, &why), -ENOSPC);
	const struct ledger_cal *cal = ledger_resource_cal(l, ledger_resource_find(l, "fra-ams"));
	assert_int_equal(ledger_cal_peak(cal, 0, 2000), 10);
	assert_int_equal(ledger_cal_booked_at(cal, 1260), 6);
	assert_int_equal(ledger_cal_booked_at(cal, 1120), 6);
	struct ledger_resource_info ri;
	assert_int_equal(ledger_resource_info(l, ledger_resource_find(l, "fra-ams"), 1160, &ri), 0);
	assert_int_equal(ri.capacity, 10);
	assert_int_equal(ri.booked_now, 10);
	assert_int_equal(ri.n_leases, 3);
	assert_true(ri.configured);
	/* Compute pools are resources too. */
	struct ledger_req v = lt_req(6, "pool.compute.vcpu", 64, 1000, 2000, 4, 4);
	v.kind = LEDGER_KIND_VCPU;
	assert_int_equal(ledger_request(l, &v, 1000, &x, &why), 0);
	v.id[0] = 7;
	assert_int_equal(ledger_request(l, &v, 1000, &x, &why), -ENOSPC);
	assert_int_equal(ledger_count(l, LEDGER_HELD), 4);
	assert_int_equal(ledger_count(l, LEDGER_FAILED), 3);
	assert_int_equal(f->log.n, 7); /* every request reported, refused ones too */
	assert_true(f->log.v[0].created);
	check(l);
}

static void test_invalid_requests(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req ok = lt_req(1, "fra-ams", 1, 1100, 1200, 4, 4), r;
	struct {
		void (*mut)(struct ledger_req *q);
		enum ledger_err want;
	} cases[] = {
		{lt_mut_zero_id, LEDGER_E_INVALID},
		{lt_mut_no_quantity, LEDGER_E_INVALID},
		{lt_mut_huge_quantity, LEDGER_E_INVALID},
		{lt_mut_empty_interval, LEDGER_E_INVALID},
		{lt_mut_in_the_past, LEDGER_E_INVALID},
		{lt_mut_bad_prio, LEDGER_E_INVALID},
		{lt_mut_hold_weaker_than_setup, LEDGER_E_INVALID},
		{lt_mut_foreign_regions, LEDGER_E_INVALID},
		{lt_mut_bad_region_name, LEDGER_E_INVALID},
		{lt_mut_kind_mismatch, LEDGER_E_INVALID},
		{lt_mut_unknown_resource, LEDGER_E_UNKNOWN_RESOURCE},
		{lt_mut_unterminated_match, LEDGER_E_INVALID},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = ok;
		cases[i].mut(&r);
		why = LEDGER_OK;
		assert_int_equal(ledger_request(l, &r, 1000, &x, &why),
				 ledger_err_errno(cases[i].want));
		assert_int_equal(why, cases[i].want);
	}
	/* Nothing was recorded or reported. */
	assert_int_equal(ledger_count(l, LEDGER_FAILED), 0);
	assert_int_equal(f->log.n, 0);
	assert_int_equal(ledger_request(l, &ok, 1000, &x, &why), 0);
	/* A lease the provider (another region) books: not booked here. */
	struct ledger_req rem = lt_req(9, "link.ams-fra", 5, 1100, 1200, 4, 4);
	snprintf(rem.provider, sizeof(rem.provider), "ams");
	rem.checking = true;
	assert_int_equal(ledger_request(l, &rem, 1000, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_CHECKING);
	assert_false(x.booked);
	check(l);
}

/* ---- holds and the life of a lease ------------------------------------------------------- */

static void test_hold_expiry(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req a = lt_req(1, "fra-ams", 8, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &a, 1000, &x, &why), 0);
	int64_t next = 0;
	assert_int_equal(ledger_tick(l, 1029, &next), 0);
	assert_int_equal(next, 1030);
	struct ledger_req b = lt_req(2, "fra-ams", 8, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &b, 1029, &x, &why), -ENOSPC);
	f->log.n = 0;
	assert_int_equal(ledger_tick(l, 1030, &next), 1);
	assert_int_equal(f->log.n, 1);
	assert_int_equal(f->log.v[0].from, LEDGER_HELD);
	assert_int_equal(f->log.v[0].lease.state, LEDGER_EXPIRED);
	assert_int_equal(f->log.v[0].lease.reason, LEDGER_E_HOLD_TIMEOUT);
	assert_int_equal(ledger_cal_peak(ledger_resource_cal(l, 0), 0, 5000), 0);
	/* The capacity is free again; committing the expired hold is refused. */
	struct ledger_req c = lt_req(3, "fra-ams", 8, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &c, 1031, &x, &why), 0);
	assert_int_equal(ledger_commit(l, a.id, 1031, &x, &why), -EPERM);
	assert_int_equal(why, LEDGER_E_TERMINAL);
	/* A commit that arrives after the hold but before the tick is refused too. */
	assert_int_equal(ledger_commit(l, c.id, 1061, &x, &why), -ETIMEDOUT);
	assert_int_equal(why, LEDGER_E_HOLD_TIMEOUT);
	assert_int_equal(x.state, LEDGER_EXPIRED);
	assert_int_equal(ledger_cal_peak(ledger_resource_cal(l, 0), 0, 5000), 0);
	uint8_t nope[LEDGER_ID_LEN] = {42};
	assert_int_equal(ledger_commit(l, nope, 1061, &x, &why), -ENOENT);
	assert_int_equal(why, LEDGER_E_NOT_FOUND);
	check(l);
}

static void test_lifecycle(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req a = lt_req(1, "fra-ams", 5, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &a, 1000, &x, &why), 0);
	assert_int_equal(ledger_commit(l, a.id, 1010, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_RESERVED);
	assert_int_equal(x.hold_until, 0);
	/* Commit is idempotent. */
	assert_int_equal(ledger_commit(l, a.id, 1011, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_RESERVED);
	int64_t next;
	assert_int_equal(ledger_tick(l, 1099, &next), 0);
	assert_int_equal(next, 1100);
	assert_int_equal(ledger_tick(l, 1100, &next), 1);
	assert_int_equal(next, 1200);
	assert_int_equal(ledger_get(l, a.id, &x), 0);
	assert_int_equal(x.state, LEDGER_ACTIVE);
	assert_int_equal(ledger_tick(l, 1200, &next), 1);
	assert_int_equal(ledger_get(l, a.id, &x), 0);
	assert_int_equal(x.state, LEDGER_EXPIRED);
	assert_int_equal(x.reason, LEDGER_E_ENDED);
	assert_false(x.booked);
	/* request, commit, start, end: four reports, in order. */
	assert_int_equal(f->log.n, 4);
	assert_int_equal(f->log.v[1].from, LEDGER_HELD);
	assert_int_equal(f->log.v[1].lease.state, LEDGER_RESERVED);
	assert_int_equal(f->log.v[2].lease.state, LEDGER_ACTIVE);
	assert_int_equal(f->log.v[3].lease.state, LEDGER_EXPIRED);

	/* Local booking in one call, starting now: active at once; then released. */
	struct ledger_req b = lt_req(2, "fra-ams", 10, 1200, 1300, 4, 4);
	assert_int_equal(ledger_book(l, &b, 1200, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_ACTIVE);
	assert_int_equal(ledger_release(l, b.id, 1250, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_RELEASED);
	assert_int_equal(ledger_cal_booked_at(ledger_resource_cal(l, 0), 1260), 0);
	/* Releasing again changes nothing; strict events on a terminal lease are refused. */
	size_t n = f->log.n;
	assert_int_equal(ledger_release(l, b.id, 1251, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_RELEASED);
	assert_int_equal(f->log.n, n);
	assert_int_equal(ledger_event(l, b.id, LEDGER_EV_REVOKE, 1251, LEDGER_E_PEER, &x, &why),
			 -EPERM);
	assert_int_equal(why, LEDGER_E_TERMINAL);
	/* Revoke with a reason. */
	struct ledger_req c = lt_req(3, "fra-ams", 3, 1300, 1400, 4, 4);
	assert_int_equal(ledger_book(l, &c, 1260, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_RESERVED);
	assert_int_equal(ledger_revoke(l, c.id, 1270, LEDGER_E_PROVISION, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_REVOKED);
	assert_int_equal(x.reason, LEDGER_E_PROVISION);
	check(l);
}

/* The requester's side: checking until the provider offers, then commit and ack. */
static void test_requester_flow(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req a = lt_req(1, "fra-ams", 4, 1050, 1200, 4, 4);
	snprintf(a.provider, sizeof(a.provider), "ams");
	a.checking = true;
	a.hold_s = 10;
	assert_int_equal(ledger_request(l, &a, 1000, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_CHECKING);
	assert_true(x.booked); /* our end of the link is held while we ask */
	assert_int_equal(x.hold_until, 1010);
	assert_int_equal(ledger_event(l, a.id, LEDGER_EV_CONFIRM, 1001, 0, &x, &why), -EPERM);
	assert_int_equal(why, LEDGER_E_ILLEGAL);
	assert_int_equal(ledger_event(l, a.id, LEDGER_EV_START, 1001, 0, &x, &why), -EPERM);
	assert_int_equal(ledger_event(l, a.id, LEDGER_EV_ADMIT, 1002, 0, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_HELD);
	assert_int_equal(x.hold_until, 1032);
	assert_int_equal(ledger_event(l, a.id, LEDGER_EV_COMMIT, 1003, 0, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_COMMITTING);
	assert_int_equal(ledger_commit(l, a.id, 1003, &x, &why), -EPERM);
	/* A clock-bound event before its time is refused. */
	assert_int_equal(ledger_event(l, a.id, LEDGER_EV_END, 1004, 0, &x, &why), -EPERM);
	assert_int_equal(ledger_event(l, a.id, LEDGER_EV_CONFIRM, 1060, 0, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_ACTIVE); /* start already passed */
	/* A second ask that the peer rejects. */
	struct ledger_req b = lt_req(2, "fra-ams", 4, 1100, 1200, 4, 4);
	snprintf(b.provider, sizeof(b.provider), "ams");
	b.checking = true;
	assert_int_equal(ledger_request(l, &b, 1060, &x, &why), 0);
	assert_int_equal(ledger_event(l, b.id, LEDGER_EV_REJECT, 1061, LEDGER_E_PEER, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_FAILED);
	assert_int_equal(x.reason, LEDGER_E_PEER);
	assert_false(x.booked);
	/* A third the peer never answers: the wait runs out. */
	struct ledger_req c = lt_req(3, "fra-ams", 4, 1100, 1200, 4, 4);
	snprintf(c.provider, sizeof(c.provider), "ams");
	c.checking = true;
	assert_int_equal(ledger_request(l, &c, 1070, &x, &why), 0);
	assert_int_equal(ledger_tick(l, 1100, NULL), 1);
	assert_int_equal(ledger_get(l, c.id, &x), 0);
	assert_int_equal(x.state, LEDGER_FAILED);
	assert_int_equal(x.reason, LEDGER_E_HOLD_TIMEOUT);
	check(l);
}

/* ---- preemption ------------------------------------------------------------------------- */

static void book(struct ledger *l, int id, uint64_t q, int64_t s, int64_t e, int setup, int hold)
{
	struct ledger_req r = lt_req(id, "fra-ams", q, s, e, setup, hold);
	struct ledger_lease x;
	enum ledger_err why;
	assert_int_equal(ledger_book(l, &r, ledger_clock(l), &x, &why), 0);
}

static enum ledger_state state_of(struct ledger *l, int id)
{
	struct ledger_lease x;
	uint8_t key[LEDGER_ID_LEN] = {(uint8_t)id, 0xee};
	assert_int_equal(ledger_get(l, key, &x), 0);
	return x.state;
}

static void test_preemption_lowest_first(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	book(l, 1, 6, 1100, 1200, 5, 5); /* low priority */
	book(l, 2, 4, 1100, 1200, 3, 3);
	struct ledger_lease x;
	enum ledger_err why;
	f->log.n = 0;
	struct ledger_req c = lt_req(3, "fra-ams", 6, 1100, 1200, 2, 2);
	assert_int_equal(ledger_request(l, &c, 1000, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_HELD);
	assert_int_equal(state_of(l, 1), LEDGER_REVOKED);
	assert_int_equal(state_of(l, 2), LEDGER_RESERVED);
	uint8_t id1[LEDGER_ID_LEN] = {1, 0xee};
	assert_int_equal(ledger_get(l, id1, &x), 0);
	assert_int_equal(x.reason, LEDGER_E_PREEMPTED);
	assert_memory_equal(x.preempted_by, c.id, LEDGER_ID_LEN);
	assert_false(x.booked);
	/* Reported: the victim, then the new lease. */
	assert_int_equal(f->log.n, 2);
	assert_int_equal(f->log.v[0].lease.state, LEDGER_REVOKED);
	assert_int_equal(f->log.v[0].from, LEDGER_RESERVED);
	assert_true(f->log.v[1].created);
	check(l);
}

static void test_preemption_newest_first(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	book(l, 1, 5, 1100, 1200, 6, 6); /* older */
	book(l, 2, 5, 1100, 1200, 6, 6); /* newer */
	struct ledger_req c = lt_req(3, "fra-ams", 5, 1100, 1200, 0, 0);
	struct ledger_lease x;
	enum ledger_err why;
	assert_int_equal(ledger_book(l, &c, 1000, &x, &why), 0);
	assert_int_equal(state_of(l, 1), LEDGER_RESERVED);
	assert_int_equal(state_of(l, 2), LEDGER_REVOKED);
	check(l);
}

static void test_preemption_only_if_room(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	book(l, 1, 4, 1100, 1200, 5, 5);
	book(l, 2, 6, 1100, 1200, 3, 3); /* hold 3: not preemptable by setup 3 */
	struct ledger_lease x;
	enum ledger_err why;
	/* Setup 3 may only preempt hold > 3: lease 1 frees 4, not the 7 needed. */
	struct ledger_req c = lt_req(3, "fra-ams", 7, 1100, 1200, 3, 3);
	f->log.n = 0;
	assert_int_equal(ledger_request(l, &c, 1000, &x, &why), -ENOSPC);
	assert_int_equal(why, LEDGER_E_NO_CAPACITY);
	assert_int_equal(state_of(l, 1), LEDGER_RESERVED);
	assert_int_equal(state_of(l, 2), LEDGER_RESERVED);
	assert_int_equal(f->log.n, 1); /* only the refused request */
	/* Equal priority never preempts (strictly greater hold value only). */
	struct ledger_req d = lt_req(4, "fra-ams", 1, 1100, 1200, 5, 5);
	assert_int_equal(ledger_request(l, &d, 1000, &x, &why), -ENOSPC);
	assert_int_equal(state_of(l, 1), LEDGER_RESERVED);
	check(l);
}

static void test_preemption_minimal(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	/* A lease outside the blocked instants is never taken, even if it comes first. */
	book(l, 1, 5, 1000, 1100, 7, 7); /* older, overlaps the blocked part */
	book(l, 2, 5, 1000, 1100, 1, 1); /* high priority */
	book(l, 3, 5, 1200, 1300, 7, 7); /* newer, same priority, where there is room */
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req c = lt_req(4, "fra-ams", 5, 1000, 1300, 2, 2);
	assert_int_equal(ledger_book(l, &c, 1000, &x, &why), 0);
	assert_int_equal(state_of(l, 1), LEDGER_REVOKED);
	assert_int_equal(state_of(l, 2), LEDGER_ACTIVE);
	assert_int_equal(state_of(l, 3), LEDGER_RESERVED);
	/* A lease taken first that turns out unneeded is spared. */
	book(l, 5, 2, 1400, 1500, 7, 7); /* lowest priority: taken first */
	book(l, 6, 8, 1400, 1500, 6, 6);
	struct ledger_req d = lt_req(7, "fra-ams", 8, 1400, 1500, 0, 0);
	assert_int_equal(ledger_book(l, &d, 1000, &x, &why), 0);
	assert_int_equal(state_of(l, 5), LEDGER_RESERVED); /* 8 + 2 fit beside the new one */
	assert_int_equal(state_of(l, 6), LEDGER_REVOKED);
	assert_int_equal(ledger_cal_peak(ledger_resource_cal(l, 0), 1400, 1500), 10);
	check(l);
}

/* ---- idempotency -------------------------------------------------------------------------- */

static void test_idempotency(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	struct ledger_lease x, y;
	enum ledger_err why;
	struct ledger_req a = lt_req(1, "fra-ams", 5, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &a, 1000, &x, &why), 0);
	size_t n = f->log.n;
	assert_int_equal(ledger_request(l, &a, 1005, &y, &why), 0);
	assert_int_equal(y.seq, x.seq);
	assert_int_equal(y.hold_until, x.hold_until);
	assert_int_equal(f->log.n, n); /* nothing changed, nothing reported */
	assert_int_equal(ledger_cal_peak(ledger_resource_cal(l, 0), 0, 5000), 5);
	/* The bare link name is the same resource. */
	struct ledger_req a2 = a;
	snprintf(a2.resource, sizeof(a2.resource), "link.fra-ams");
	assert_int_equal(ledger_request(l, &a2, 1005, &y, &why), 0);
	/* Same id, other fields. */
	struct ledger_req b = a;
	b.quantity = 6;
	assert_int_equal(ledger_request(l, &b, 1005, &y, &why), -EEXIST);
	assert_int_equal(why, LEDGER_E_CONFLICT);
	b = a;
	b.end = 1201;
	assert_int_equal(ledger_request(l, &b, 1005, &y, &why), -EEXIST);
	b = a;
	snprintf(b.app, sizeof(b.app), "video");
	assert_int_equal(ledger_request(l, &b, 1005, &y, &why), -EEXIST);
	/* After commit the same request returns the reserved lease. */
	assert_int_equal(ledger_commit(l, a.id, 1006, &x, &why), 0);
	assert_int_equal(ledger_request(l, &a, 1007, &y, &why), 0);
	assert_int_equal(y.state, LEDGER_RESERVED);
	assert_int_equal(ledger_book(l, &a, 1007, &y, &why), 0);
	assert_int_equal(y.state, LEDGER_RESERVED);
	/* A request refused for capacity is refused again when repeated. */
	struct ledger_req c = lt_req(2, "fra-ams", 6, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &c, 1008, &y, &why), -ENOSPC);
	assert_int_equal(ledger_release(l, a.id, 1009, &y, &why), 0);
	assert_int_equal(ledger_request(l, &c, 1010, &y, &why), -ENOSPC);
	assert_int_equal(y.state, LEDGER_FAILED);
	check(l);
}

/* ---- persistence ----------------------------------------------------------------------------- */

static void test_restart_rebuild(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req held = lt_req(1, "fra-ams", 2, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &held, 1000, &x, &why), 0);
	book(l, 2, 3, 1050, 1500, 4, 4);  /* reserved; starts while down */
	book(l, 3, 1, 1010, 1020, 4, 4);  /* ends while down */
	book(l, 4, 4, 1300, 1400, 4, 4);  /* still reserved after restart */
	struct ledger_req rel = lt_req(5, "fra-ams", 1, 1100, 1200, 4, 4);
	assert_int_equal(ledger_book(l, &rel, 1000, &x, &why), 0);
	assert_int_equal(ledger_release(l, rel.id, 1001, &x, &why), 0);
	assert_int_equal(ledger_tick(l, 1005, NULL), 0);
	assert_int_equal(ledger_tick(l, 1015, NULL), 1); /* 3 starts */
	struct ledger_cal *before = ledger_cal_dup(ledger_resource_cal(l, 0));
	ledger_close(f->l);
	f->l = NULL;

	/* Same instant: identical calendars and leases. */
	struct ledger_open_report rep;
	l = fx_open(f, 1015, &rep);
	assert_int_equal(rep.loaded, 5);
	assert_int_equal(rep.active, 1);
	assert_true(ledger_cal_equal(before, ledger_resource_cal(l, 0)));
	ledger_cal_free(before);
	assert_int_equal(ledger_get(l, held.id, &x), 0);
	assert_int_equal(x.state, LEDGER_HELD);
	assert_int_equal(x.hold_until, 1030);
	check(l);

	/* Much later: the hold expired, 3 ended, 2 started; 4 untouched. */
	f->log.n = 0;
	l = fx_open(f, 1100, &rep);
	assert_int_equal(rep.loaded, 5);
	assert_int_equal(rep.holds_expired, 1);
	assert_int_equal(rep.ended, 1);
	assert_int_equal(rep.started, 1);
	assert_int_equal(rep.active, 1);
	assert_int_equal(f->log.n, 3);
	assert_int_equal(state_of(l, 2), LEDGER_ACTIVE);
	assert_int_equal(state_of(l, 3), LEDGER_EXPIRED);
	assert_int_equal(state_of(l, 4), LEDGER_RESERVED);
	assert_int_equal(state_of(l, 5), LEDGER_RELEASED);
	const struct ledger_cal *cal = ledger_resource_cal(l, 0);
	assert_int_equal(ledger_cal_booked_at(cal, 1150), 3);
	assert_int_equal(ledger_cal_booked_at(cal, 1350), 7);
	check(l);
	/* Sequence numbers continue after the restart. */
	struct ledger_req n = lt_req(6, "fra-ams", 1, 1600, 1700, 4, 4);
	assert_int_equal(ledger_request(l, &n, 1100, &x, &why), 0);
	assert_int_equal(x.seq, 6);
}

static void test_group_commit(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	struct ledger_lease x;
	enum ledger_err why;
	assert_int_equal(ledger_batch_begin(l), 0);
	assert_int_equal(ledger_batch_begin(l), -EBUSY);
	for (int i = 1; i <= 5; i++) {
		struct ledger_req r = lt_req(i, "fra-ams", 2, 1100, 1200, 4, 4);
		assert_int_equal(ledger_request(l, &r, 1000, &x, &why), 0);
		assert_int_equal(ledger_commit(l, r.id, 1000, &x, &why), 0);
	}
	struct ledger_req r = lt_req(6, "fra-ams", 2, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &r, 1000, &x, &why), -ENOSPC);
	assert_int_equal(f->log.n, 0); /* nothing reported before the commit */
	assert_int_equal(ledger_batch_commit(l), 0);
	assert_int_equal(f->log.n, 6);
	assert_int_equal(f->log.v[0].lease.state, LEDGER_RESERVED);
	assert_int_equal(f->log.v[0].from, LEDGER_HELD);
	assert_true(f->log.v[0].created);
	assert_int_equal(ledger_batch_commit(l), -EINVAL);
	/* An empty batch is fine. */
	assert_int_equal(ledger_batch_begin(l), 0);
	assert_int_equal(ledger_batch_commit(l), 0);
	struct ledger_open_report rep;
	l = fx_open(f, 1000, &rep);
	assert_int_equal(rep.loaded, 6);
	assert_int_equal(ledger_count(l, LEDGER_RESERVED), 5);
	check(l);
}

static int watched;
static void count_watch(void *arg)
{
	(void)arg;
	watched++;
}

/* Wait (with a deadline) until the syncer's eventfd says a sync finished, then poll. */
static int wait_synced(struct ledger *l)
{
	struct pollfd pfd = {.fd = ledger_sync_fd(l), .events = POLLIN};
	assert_true(pfd.fd >= 0);
	for (int i = 0; i < 100 && ledger_durable(l) < ledger_written(l); i++) {
		if (poll(&pfd, 1, 100) > 0)
			assert_true(ledger_sync_poll(l) >= 0);
	}
	return ledger_durable(l) == ledger_written(l) ? 0 : -1;
}

static void test_deferred_sync(void **st)
{
	struct fx *f = *st;
	struct ledger_params p = {
		.path = f->dir.db,
		.region = "fra",
		.cfg = &f->cfg,
		.now = 1000,
		.on_change = lt_log_change,
		.arg = &f->log,
		.deferred_sync = true,
	};
	f->l = ledger_open(&p, NULL);
	assert_non_null(f->l);
	struct ledger *l = f->l;
	assert_true(ledger_sync_fd(l) >= 0);
	assert_int_equal(ledger_durable(l), ledger_written(l));
	watched = 0;
	assert_int_equal(ledger_watch_durable(l, count_watch, NULL), 0);

	/* Written at once, reported only once the syncer made it durable. */
	struct ledger_lease x;
	enum ledger_err why;
	uint64_t w0 = ledger_written(l);
	struct ledger_req r = lt_req(1, "fra-ams", 2, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &r, 1000, &x, &why), 0);
	assert_int_equal(x.state, LEDGER_HELD);
	assert_int_equal(ledger_written(l), w0 + 1);
	assert_int_equal(f->log.n, 0);
	assert_int_equal(wait_synced(l), 0);
	assert_int_equal(f->log.n, 1);
	assert_int_equal(f->log.v[0].lease.state, LEDGER_HELD);
	assert_true(watched >= 1);
	assert_true(ledger_syncs(l) >= 1);

	/* A batch is one commit; ledger_sync makes it durable on the caller's thread. */
	assert_int_equal(ledger_batch_begin(l), 0);
	assert_int_equal(ledger_commit(l, r.id, 1001, &x, &why), 0);
	struct ledger_req r2 = lt_req(2, "fra-ams", 3, 1100, 1200, 4, 4);
	assert_int_equal(ledger_book(l, &r2, 1001, &x, &why), 0);
	assert_int_equal(ledger_batch_commit(l), 0);
	assert_int_equal(ledger_written(l), w0 + 2);
	assert_true(ledger_sync(l) >= 0);
	assert_int_equal(ledger_durable(l), ledger_written(l));
	assert_int_equal(f->log.n, 3);
	assert_int_equal(f->log.v[1].lease.state, LEDGER_RESERVED);

	/* Many commits in a row: every change reported once, in order. */
	for (int i = 3; i < 40; i++) {
		struct ledger_req q = lt_req(i, "fra-par", 1, 1100, 1200, 4, 4);
		assert_int_equal(ledger_book(l, &q, 1002, &x, &why), 0);
	}
	assert_int_equal(wait_synced(l), 0);
	assert_int_equal(f->log.n, 40);
	for (size_t i = 3; i < f->log.n; i++)
		assert_int_equal(f->log.v[i].lease.id[0], i);
	ledger_unwatch_durable(l, count_watch, NULL);
	check(l);

	/* What was written is there after a reopen (the final checkpoint syncs the rest). */
	struct ledger_req q = lt_req(50, "fra-par", 1, 1100, 1200, 4, 4);
	assert_int_equal(ledger_book(l, &q, 1003, &x, &why), 0);
	ledger_close(f->l);
	f->l = NULL;
	struct ledger_open_report rep;
	l = fx_open(f, 1003, &rep);
	assert_int_equal(rep.loaded, 40);
	assert_int_equal(state_of(l, 50), LEDGER_RESERVED);
	assert_int_equal(ledger_sync_fd(l), -1); /* fx_open: synchronous */
	check(l);
}

/* A file written by the first tidald (schema version 1, no transit columns) is upgraded in
 * place and its leases read back. */
static void test_schema_upgrade(void **st)
{
	struct fx *f = *st;
	assert_int_equal(
		lt_sql(f->dir.db,
		       "CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
		       "CREATE TABLE leases (id BLOB PRIMARY KEY CHECK (length(id) = 16),"
		       "  seq INTEGER NOT NULL UNIQUE, requester TEXT NOT NULL,"
		       "  provider TEXT NOT NULL, resource TEXT NOT NULL, kind TEXT NOT NULL,"
		       "  quantity INTEGER NOT NULL, start_s INTEGER NOT NULL,"
		       "  end_s INTEGER NOT NULL, setup_prio INTEGER NOT NULL,"
		       "  hold_prio INTEGER NOT NULL, match TEXT NOT NULL, app TEXT NOT NULL,"
		       "  state TEXT NOT NULL, reason TEXT NOT NULL, booked INTEGER NOT NULL,"
		       "  hold_until INTEGER NOT NULL, created INTEGER NOT NULL,"
		       "  updated INTEGER NOT NULL, preempted_by BLOB);"
		       "INSERT INTO ledger_meta VALUES ('schema_version', 1), ('clock', 1000),"
		       "  ('next_seq', 2);"
		       "INSERT INTO leases VALUES (X'07ee0000000000000000000000000000', 1, 'fra',"
		       "  'fra', 'link.fra-ams', 'bandwidth', 4, 1100, 1200, 4, 4, '', '',"
		       "  'reserved', 'ok', 1, 0, 1000, 1000, NULL);"),
		0);
	struct ledger_open_report rep;
	struct ledger *l = fx_open(f, 1000, &rep);
	assert_int_equal(rep.loaded, 1);
	struct ledger_lease x;
	struct ledger_req r = lt_req(7, "fra-ams", 4, 1100, 1200, 4, 4);
	assert_int_equal(ledger_get(l, r.id, &x), 0);
	assert_int_equal(x.state, LEDGER_RESERVED);
	assert_string_equal(x.path, "");
	check(l);
	/* A transit lease is stored with its path and read back. */
	enum ledger_err why;
	struct ledger_req t = lt_req(8, "fra-ams", 1, 1100, 1200, 4, 4);
	snprintf(t.requester, sizeof(t.requester), "ams");
	snprintf(t.path, sizeof(t.path), "lon,par");
	t.parent[0] = 0x42;
	assert_int_equal(ledger_request(l, &t, 1000, &x, &why), 0);
	/* The path is part of the lease's identity. */
	struct ledger_req t2 = t;
	snprintf(t2.path, sizeof(t2.path), "lon");
	assert_int_equal(ledger_request(l, &t2, 1000, &x, &why), -EEXIST);
	struct ledger_req bad = lt_req(9, "fra-ams", 1, 1100, 1200, 4, 4);
	snprintf(bad.path, sizeof(bad.path), "lon,,par");
	assert_int_equal(ledger_request(l, &bad, 1000, &x, &why), -EINVAL);
	l = fx_open(f, 1000, &rep);
	assert_int_equal(rep.loaded, 2);
	assert_int_equal(ledger_get(l, t.id, &x), 0);
	assert_string_equal(x.path, "lon,par");
	assert_int_equal(x.parent[0], 0x42);
	assert_int_equal(x.state, LEDGER_HELD);
}

static void test_reload(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	book(l, 1, 8, 1100, 1200, 4, 4);
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req p = lt_req(2, "fra-par", 50, 1100, 1200, 4, 4);
	assert_int_equal(ledger_book(l, &p, 1000, &x, &why), 0);
	/* fra-ams shrinks below its bookings; fra-par leaves the config. */
	f->links[0].reservable_bps = 5;
	f->cfg.n_links = 1;
	assert_int_equal(ledger_reload(l, &f->cfg), 2);
	assert_int_equal(state_of(l, 1), LEDGER_RESERVED); /* nothing revoked */
	int ip = ledger_resource_find(l, "fra-par");
	assert_true(ip >= 0);
	struct ledger_resource_info ri;
	assert_int_equal(ledger_resource_info(l, (size_t)ip, 1000, &ri), 0);
	assert_false(ri.configured);
	assert_int_equal(ri.capacity, 0);
	assert_int_equal(ri.peak, 50);
	struct ledger_req q = lt_req(3, "fra-par", 1, 1300, 1400, 4, 4);
	assert_int_equal(ledger_request(l, &q, 1000, &x, &why), -ENOENT);
	assert_int_equal(why, LEDGER_E_UNKNOWN_RESOURCE);
	q = lt_req(3, "fra-ams", 1, 1100, 1200, 4, 4);
	assert_int_equal(ledger_request(l, &q, 1000, &x, &why), -ENOSPC);
	check(l);
	/* Restart with the new config: the removed link is kept while it has leases. */
	struct ledger_open_report rep;
	l = fx_open(f, 1000, &rep);
	assert_int_equal(rep.orphaned, 1);
	assert_int_equal(rep.overbooked, 2);
	check(l);
	/* Once its lease has ended a reload forgets it. */
	assert_int_equal(ledger_tick(l, 1200, NULL), 2);
	assert_int_equal(ledger_reload(l, &f->cfg), 0);
	assert_int_equal(ledger_resource_find(l, "fra-par"), -ENOENT);
	check(l);
}

static void test_clock_jump(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 10000, NULL);
	book(l, 1, 5, 10100, 10200, 4, 4);
	assert_int_equal(ledger_tick(l, 10150, NULL), 1);
	assert_int_equal(state_of(l, 1), LEDGER_ACTIVE);
	/* The wall clock goes back an hour: nothing goes back with it. */
	int64_t next;
	assert_int_equal(ledger_tick(l, 6550, &next), 0);
	assert_int_equal(state_of(l, 1), LEDGER_ACTIVE);
	assert_int_equal(ledger_clock(l), 10150);
	assert_int_equal(next, 10200);
	/* Requests are judged on the ledger clock: this one already ended. */
	struct ledger_lease x;
	enum ledger_err why;
	struct ledger_req r = lt_req(2, "fra-ams", 1, 6600, 6700, 4, 4);
	assert_int_equal(ledger_request(l, &r, 6560, &x, &why), -EINVAL);
	/* A hold taken during the jump lasts hold_s of ledger time. */
	r = lt_req(3, "fra-ams", 1, 10300, 10400, 4, 4);
	assert_int_equal(ledger_request(l, &r, 6560, &x, &why), 0);
	assert_int_equal(x.hold_until, 10180);
	assert_int_equal(x.created, 10150);
	/* A restart while the clock is still behind keeps the ledger clock. */
	l = fx_open(f, 6600, NULL);
	assert_int_equal(ledger_clock(l), 10150);
	assert_int_equal(state_of(l, 1), LEDGER_ACTIVE);
	assert_int_equal(state_of(l, 3), LEDGER_HELD);
	/* Time catches up and passes: things happen once. */
	assert_int_equal(ledger_tick(l, 10200, NULL), 2);
	assert_int_equal(state_of(l, 1), LEDGER_EXPIRED);
	assert_int_equal(state_of(l, 3), LEDGER_EXPIRED);
	check(l);
}

static void test_purge_and_listing(void **st)
{
	struct fx *f = *st;
	ledger_close(f->l);
	struct ledger_params p = {.path = f->dir.db, .region = "fra", .cfg = &f->cfg, .now = 1000,
				  .retain_s = 100};
	struct ledger *l = ledger_open(&p, NULL);
	assert_non_null(l);
	f->l = l;
	struct ledger_lease x;
	enum ledger_err why;
	for (int i = 1; i <= 4; i++) {
		struct ledger_req r = lt_req(i, "fra-ams", 1, 1000 + 10 * i, 1100, 4, 4);
		assert_int_equal(ledger_book(l, &r, 1000, &x, &why), 0);
	}
	uint8_t id2[LEDGER_ID_LEN] = {2, 0xee};
	assert_int_equal(ledger_release(l, id2, 1001, &x, &why), 0);
	struct lt_list ls = {0};
	assert_int_equal(ledger_foreach(l, false, lt_list_add, &ls), 0);
	assert_int_equal(ls.n, 3);
	assert_int_equal(ls.first_byte[0], 1);
	assert_int_equal(ls.first_byte[1], 3);
	assert_int_equal(ls.first_byte[2], 4);
	ls.n = 0;
	assert_int_equal(ledger_foreach(l, true, lt_list_add, &ls), 0);
	assert_int_equal(ls.n, 4);
	/* Released at 1001, kept until 1101. */
	assert_int_equal(ledger_tick(l, 1100, NULL), 3);
	assert_int_equal(ledger_get(l, id2, &x), 0);
	int64_t next;
	assert_int_equal(ledger_tick(l, 1101, &next), 0);
	assert_int_equal(ledger_get(l, id2, &x), -ENOENT);
	assert_int_equal(next, 1200);
	assert_int_equal(ledger_tick(l, 1200, &next), 0);
	assert_int_equal(next, INT64_MAX);
	ls.n = 0;
	assert_int_equal(ledger_foreach(l, true, lt_list_add, &ls), 0);
	assert_int_equal(ls.n, 0);
	check(l);
	l = fx_open(f, 1300, NULL);
	assert_int_equal(ledger_count(l, LEDGER_EXPIRED), 0);
}

/* A database the ledger cannot read is refused, and left as it was. */
static void test_bad_database(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	book(l, 1, 1, 1100, 1200, 4, 4);
	ledger_close(l);
	f->l = NULL;
	assert_int_equal(lt_sql(f->dir.db, "UPDATE leases SET state = 'bogus'"), 0);
	struct ledger_params p = {.path = f->dir.db, .region = "fra", .cfg = &f->cfg, .now = 1000};
	assert_null(ledger_open(&p, NULL));
	assert_int_equal(lt_sql(f->dir.db, "UPDATE leases SET state = 'reserved', "
					   "quantity = -5"), 0);
	assert_null(ledger_open(&p, NULL));
	assert_int_equal(lt_sql(f->dir.db, "UPDATE leases SET quantity = 1; "
					   "UPDATE ledger_meta SET value = 99 "
					   "WHERE key = 'schema_version'"), 0);
	assert_null(ledger_open(&p, NULL));
	assert_int_equal(lt_sql(f->dir.db, "UPDATE ledger_meta SET value = 2 "
					   "WHERE key = 'schema_version'"), 0);
	l = fx_open(f, 1000, NULL);
	assert_int_equal(state_of(l, 1), LEDGER_RESERVED);
	p.path = "/nonexistent-folder/ledger.sqlite";
	assert_null(ledger_open(&p, NULL));
}

/* Random requests, commits, releases, events and ticks (with random priorities, so
 * preemption happens) inside one batch, the invariants checked after every call, then the
 * batch committed and the database reopened: same calendars. */
static void test_random_ops(void **st)
{
	struct fx *f = *st;
	struct ledger *l = fx_open(f, 1000, NULL);
	uint64_t rs = 12345;
	int64_t now = 1000;
	int next_id = 1;
	struct ledger_lease x;
	enum ledger_err why;
	assert_int_equal(ledger_batch_begin(l), 0);
	for (int op = 0; op < 3000; op++) {
		rs = rs * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t r = (uint32_t)(rs >> 33);
		int kind = (int)(r % 8);
		int id = next_id > 1 ? 1 + (int)((r >> 8) % (uint32_t)(next_id - 1)) : 1;
		uint8_t key[LEDGER_ID_LEN] = {(uint8_t)id, 0xee, (uint8_t)(id >> 8)};
		if (kind <= 2) {
			int64_t s0 = now + (int64_t)((r >> 4) % 200);
			int setup = (int)((r >> 12) % 8), hold = setup - (int)((r >> 16) % (setup + 1));
			struct ledger_req q = lt_req(next_id++, (r >> 20) & 1 ? "fra-ams" : "fra-par",
						     1 + (r >> 21) % 9, s0, s0 + 1 + (r >> 24) % 150,
						     setup, hold);
			int rc = kind == 0 ? ledger_book(l, &q, now, &x, &why)
					   : ledger_request(l, &q, now, &x, &why);
			assert_true(rc == 0 || rc == -ENOSPC);
		} else if (kind == 3) {
			int rc = ledger_commit(l, key, now, &x, &why);
			assert_true(rc == 0 || rc == -EPERM || rc == -ETIMEDOUT || rc == -ENOENT);
		} else if (kind == 4) {
			int rc = ledger_release(l, key, now, &x, &why);
			assert_true(rc == 0 || rc == -ENOENT);
		} else if (kind == 5) {
			int rc = ledger_event(l, key, (enum ledger_event)((r >> 9) % LEDGER_N_EVENTS),
					      now, LEDGER_E_PEER, &x, &why);
			assert_true(rc == 0 || rc == -EPERM || rc == -ENOENT);
		} else {
			now += (int64_t)(r % 7);
			assert_true(ledger_tick(l, now, NULL) >= 0);
		}
		check(l);
		for (size_t ri = 0; ri < 2; ri++) /* nothing booked above capacity */
			assert_true(ledger_cal_peak(ledger_resource_cal(l, ri), now, LEDGER_CAL_T_MAX) <=
				    ledger_cal_capacity(ledger_resource_cal(l, ri)));
	}
	assert_int_equal(ledger_batch_commit(l), 0);
	struct ledger_cal *a = ledger_cal_dup(ledger_resource_cal(l, 0));
	struct ledger_cal *b = ledger_cal_dup(ledger_resource_cal(l, 1));
	size_t revoked = ledger_count(l, LEDGER_REVOKED);
	l = fx_open(f, now, NULL);
	assert_true(ledger_cal_equal(a, ledger_resource_cal(l, 0)));
	assert_true(ledger_cal_equal(b, ledger_resource_cal(l, 1)));
	assert_int_equal(ledger_count(l, LEDGER_REVOKED), revoked);
	assert_true(revoked > 0); /* preemption was exercised */
	check(l);
	ledger_cal_free(a);
	ledger_cal_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_names_and_ids),
		cmocka_unit_test_setup_teardown(test_admission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requester_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preemption_lowest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preemption_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preemption_only_if_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preemption_minimal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_and_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_ops, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the allocation controller (control/alloc.c): hand-checked cases for scarcity
 * with three priorities, weighted fairness inside a level, preemption (and its absence
 * inside a level), transit selection, hysteresis and resizes, lead times, request sizing
 * and clipping, pools leased from a peer, bad input; and a randomized check that a plan
 * never books a resource beyond its capacity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"

#define G  1000000000ULL
#define M  1000000ULL
#define H  3600
#define T0 (INT64_C(1796119200)) /* 2026-12-01T10:00:00Z, a block boundary */

static const char *const regions[] = {"a", "b", "c", "d"};
enum { A, B, C, D };

/* A forecast with levels 0.5 and 0.95; q95[s] per step, q50 = 80 % of it. */
struct fc {
	struct demand_forecast f;
	double levels[2];
	double point[16];
	double q[32];
};

static void fc_set(struct fc *x, int64_t origin, size_t h, const double *q95)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->f.series, sizeof(x->f.series), "test");
	x->levels[0] = 0.5;
	x->levels[1] = 0.95;
	for (size_t s = 0; s < h; s++) {
		x->q[2 * s] = 0.8 * q95[s];
		x->q[2 * s + 1] = q95[s];
		x->point[s] = 0.8 * q95[s];
	}
	x->f.origin_s = origin;
	x->f.step_s = H;
	x->f.h = h;
	x->f.n_levels = 2;
	x->f.levels = x->levels;
	x->f.point = x->point;
	x->f.q = x->q;
	x->f.event_factor_max = 1;
}

static void fc_flat(struct fc *x, int64_t origin, double v)
{
	double q[8];
	for (int i = 0; i < 8; i++)
		q[i] = v;
	fc_set(x, origin, 8, q);
}

static struct alloc_resource link_(const char *name, int from, int to, uint64_t cap)
{
	struct alloc_resource r = {
	        .name = name, .kind = ALLOC_BANDWIDTH, .owner = from, .to = to, .capacity = cap};
	return r;
}

static struct alloc_class app(const char *name, int src, int dst, unsigned prio, const struct fc *f)
{
	struct alloc_class c = {.name = name,
	                        .kind = ALLOC_BANDWIDTH,
	                        .src = src,
	                        .dst = dst,
	                        .priority = prio,
	                        .slo_quantile = 0.95,
	                        .fc = &f->f,
	                        .measured = -1};
	return c;
}

static void input(struct alloc_input *in, int64_t now, struct alloc_resource *res, size_t nres,
                  struct alloc_class *cls, size_t ncls, struct alloc_resv *resv, size_t nresv)
{
	memset(in, 0, sizeof(*in));
	alloc_params_init(&in->params);
	in->params.now = now;
	in->params.lease_lead_s = 300;
	in->regions = regions;
	in->n_regions = 4;
	in->res = res;
	in->n_res = nres;
	in->cls = cls;
	in->n_cls = ncls;
	in->resv = resv;
	in->n_resv = nresv;
}

/* Sum of requested quantity for class c starting in block [bs, bs + H). */
static uint64_t req_sum(const struct alloc_plan *p, size_t c, int64_t bs)
{
	uint64_t s = 0;
	for (size_t i = 0; i < p->n_req; i++)
		if (p->req[i].cls == c && p->req[i].end == bs + H)
			s += p->req[i].quantity;
	return s;
}

static const struct alloc_plan *run(struct alloc *a, const struct alloc_input *in)
{
	const struct alloc_plan *p = NULL;
	int rc = alloc_run(a, in, &p);
	if (rc)
		fprintf(stderr, "alloc_run: %s\n", alloc_error(a));
	assert_int_equal(rc, 0);
	assert_non_null(p);
	return p;
}

static void print_plan(const struct alloc_plan *p)
{
	for (size_t i = 0; i < p->n_rel; i++)
		fprintf(stderr, "  release resv %zu (%s): %s\n", p->rel[i].resv,
		        alloc_release_why_name(p->rel[i].why), p->rel[i].reason);
	for (size_t i = 0; i < p->n_req; i++)
		fprintf(stderr, "  request cls %zu %llu [%lld,%lld) hops %u: %s\n", p->req[i].cls,
		        (unsigned long long)p->req[i].quantity, (long long)(p->req[i].start - T0),
		        (long long)(p->req[i].end - T0), p->req[i].n_hops, p->req[i].reason);
}

/* Scarcity: 10G, three priorities each needing 4G: 4G, 4G, 2G. */
static void test_scarcity_three_priorities(void **st)
{
	(void)st;
	struct fc f;
	fc_flat(&f, T0, 4.0 * G);
	struct alloc_resource res[] = {link_("link.a-b", A, B, 10 * G)};
	struct alloc_class cls[] = {app("gold", A, B, 0, &f), app("silver", A, B, 1, &f),
	                            app("bronze", A, B, 2, &f)};
	struct alloc_input in;
	input(&in, T0, res, 1, cls, 3, NULL, 0);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_blocks, 1);
	assert_int_equal(p->n_rel, 0);
	assert_int_equal(req_sum(p, 0, T0), 4 * G);
	assert_int_equal(req_sum(p, 1, T0), 4 * G);
	assert_int_equal(req_sum(p, 2, T0), 2 * G);
	for (size_t i = 0; i < p->n_req; i++) {
		assert_int_equal(p->req[i].start, T0);
		assert_int_equal(p->req[i].prio, cls[p->req[i].cls].priority);
		assert_false(p->req[i].transit);
	}
	assert_true(fabs(p->view[2].short_by - 2.0 * G) < 1);
	assert_true(p->view[0].short_by <= 0);
	assert_int_equal(p->planned_use[0], 10 * G);
	/* The short class's reason names the constraint. */
	for (size_t i = 0; i < p->n_req; i++)
		if (p->req[i].cls == 2)
			assert_non_null(strstr(p->req[i].reason, "link.a-b full"));
	alloc_free(a);
	alloc_free(NULL);
}

/* Weighted max-min inside a level: 6G left for needs 1G, 5G, 5G with weights 1, 1, 2. */
static void test_fairness_inside_level(void **st)
{
	(void)st;
	struct fc f4, f1, f5;
	fc_flat(&f4, T0, 4.0 * G);
	fc_flat(&f1, T0, 1.0 * G);
	fc_flat(&f5, T0, 5.0 * G);
	struct alloc_resource res[] = {link_("link.a-b", A, B, 10 * G)};
	struct alloc_class cls[] = {app("top", A, B, 0, &f4), app("small", A, B, 1, &f1),
	                            app("w1", A, B, 1, &f5), app("w2", A, B, 1, &f5)};
	cls[3].weight = 2;
	struct alloc_input in;
	input(&in, T0, res, 1, cls, 4, NULL, 0);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(req_sum(p, 0, T0), 4 * G);
	assert_int_equal(req_sum(p, 1, T0), 1 * G);
	/* lambda = 5000/3 quanta: 1666.67 and 3333.33; the spare quantum goes to the larger
	 * remainder. */
	assert_int_equal(req_sum(p, 2, T0), 1667 * M);
	assert_int_equal(req_sum(p, 3, T0), 3333 * M);
	/* Equal weights, equal needs: equal shares. */
	cls[3].weight = 0;
	p = run(a, &in);
	assert_int_equal(req_sum(p, 2, T0), 2500 * M);
	assert_int_equal(req_sum(p, 3, T0), 2500 * M);
	alloc_free(a);
}

/* Preemption by a higher priority; none inside a level. */
static void test_preemption(void **st)
{
	(void)st;
	struct fc f8, f6;
	fc_flat(&f8, T0, 8.0 * G);
	fc_flat(&f6, T0, 6.0 * G);
	struct alloc_resource res[] = {link_("link.a-b", A, B, 10 * G)};
	struct alloc_class cls[] = {app("urgent", A, B, 0, &f8), app("bulk", A, B, 2, &f6)};
	struct alloc_resv resv[] = {{.cls = 1,
	                             .hops = {0},
	                             .n_hops = 1,
	                             .quantity = 6 * G,
	                             .start = T0,
	                             .end = T0 + H,
	                             .hold_prio = 2,
	                             .user = 77}};
	struct alloc_input in;
	input(&in, T0, res, 1, cls, 2, resv, 1);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_rel, 1);
	assert_int_equal(p->rel[0].resv, 0);
	assert_int_equal(p->rel[0].user, 77);
	assert_int_equal(p->rel[0].why, ALLOC_PREEMPTED);
	assert_int_equal(p->rel[0].by_cls, 0);
	assert_non_null(strstr(p->rel[0].reason, "priority 0 (urgent)"));
	assert_int_equal(req_sum(p, 0, T0), 8 * G);
	assert_int_equal(req_sum(p, 1, T0), 2 * G); /* what is left, asked again */

	/* Same level: the holder keeps its 6G, the newcomer gets the 4G that are free. */
	cls[0].priority = 2;
	p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_rel, 0);
	assert_int_equal(req_sum(p, 0, T0), 4 * G);
	assert_int_equal(req_sum(p, 1, T0), 0);

	/* A lower priority newcomer never preempts. */
	cls[0].priority = 5;
	p = run(a, &in);
	assert_int_equal(p->n_rel, 0);
	assert_int_equal(req_sum(p, 0, T0), 4 * G);

	/* Another region's lease (class -1) at hold priority 3 yields to priority 0. */
	in.n_cls = 1;
	cls[0].priority = 0;
	resv[0].cls = -1;
	resv[0].hold_prio = 3;
	p = run(a, &in);
	assert_int_equal(p->n_rel, 1);
	assert_int_equal(p->rel[0].cls, -1);
	assert_int_equal(p->rel[0].why, ALLOC_PREEMPTED);
	/* ... but not to priority 3. */
	cls[0].priority = 3;
	p = run(a, &in);
	assert_int_equal(p->n_rel, 0);
	assert_int_equal(req_sum(p, 0, T0), 4 * G);
	alloc_free(a);
}

/* Transit: the direct link is short, the widest two-hop path takes the rest, each hop
 * leased; the path's lead is the peer lease lead. */
static void test_transit(void **st)
{
	(void)st;
	struct fc f;
	fc_flat(&f, T0, 3.0 * G);
	struct alloc_resource res[] = {
	        link_("link.a-b", A, B, 1 * G),   link_("link.a-c", A, C, 10 * G),
	        link_("link.c-b", C, B, 10 * G),  link_("link.a-d", A, D, 10 * G),
	        link_("link.d-b", D, B, 500 * M),
	};
	struct alloc_class cls[] = {app("video", A, B, 1, &f)};
	struct alloc_input in;
	input(&in, T0, res, 5, cls, 1, NULL, 0);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_req, 2);
	const struct alloc_request *d = &p->req[0], *t = &p->req[1];
	assert_false(d->transit);
	assert_int_equal(d->n_hops, 1);
	assert_int_equal(d->hops[0], 0);
	assert_int_equal(d->quantity, 1 * G);
	assert_int_equal(d->start, T0);
	assert_true(t->transit);
	assert_int_equal(t->n_hops, 2);
	assert_int_equal(t->hops[0], 1);
	assert_int_equal(t->hops[1], 2);
	assert_int_equal(t->quantity, 2 * G);
	assert_int_equal(t->start, T0 + 300); /* c provides the second hop: lease lead */
	assert_non_null(strstr(t->reason, "transit via c"));
	assert_non_null(strstr(t->reason, "direct link.a-b full"));

	/* Ten seconds later, with both leases held: the transit one starts at T0 + 300 (its
	 * path's lead), later than a direct lease could, yet it covers the block in progress
	 * from there; nothing is asked again. */
	struct alloc_resv held[] = {
	        {.cls = 0, .hops = {0}, .n_hops = 1, .quantity = 1 * G, .start = T0,
	         .end = T0 + 3600, .hold_prio = 1},
	        {.cls = 0, .hops = {1, 2}, .n_hops = 2, .quantity = 2 * G, .start = T0 + 300,
	         .end = T0 + 3600, .hold_prio = 1},
	};
	struct alloc_input later;
	input(&later, T0 + 10, res, 5, cls, 1, held, 2);
	p = run(a, &later);
	print_plan(p);
	for (size_t i = 0; i < p->n_req; i++)
		assert_true(p->req[i].start >= T0 + 3600); /* only the next block, if any */
	assert_int_equal(p->n_rel, 0);

	/* c-b nearly full: the path through d is not wide enough for all, but it is the one
	 * left; c's remainder is used first (wider). */
	res[2].capacity = 1500 * M;
	p = run(a, &in);
	print_plan(p);
	assert_int_equal(req_sum(p, 0, T0), 3 * G);
	bool via_c = false, via_d = false;
	for (size_t i = 0; i < p->n_req; i++) {
		if (p->req[i].n_hops == 2 && p->req[i].hops[1] == 2) {
			via_c = true;
			assert_int_equal(p->req[i].quantity, 1500 * M);
		}
		if (p->req[i].n_hops == 2 && p->req[i].hops[1] == 4) {
			via_d = true;
			assert_int_equal(p->req[i].quantity, 500 * M);
		}
	}
	assert_true(via_c && via_d);

	/* No transit allowed: only the direct 1G. */
	in.params.no_transit = true;
	p = run(a, &in);
	assert_int_equal(p->n_req, 1);
	assert_int_equal(req_sum(p, 0, T0), 1 * G);

	/* No direct link at all, three hops needed (a-c, c-d, d-b) with max_hops 3. */
	in.params.no_transit = false;
	in.params.max_hops = 3;
	struct alloc_resource res2[] = {link_("link.a-c", A, C, 10 * G),
	                                link_("link.c-d", C, D, 10 * G),
	                                link_("link.d-b", D, B, 10 * G)};
	in.res = res2;
	in.n_res = 3;
	p = run(a, &in);
	print_plan(p);
	/* Without a direct link the class's lead is a peer lease's: two blocks planned. */
	assert_int_equal(p->n_blocks, 2);
	assert_int_equal(p->n_req, 2);
	assert_int_equal(p->req[0].n_hops, 3);
	assert_int_equal(p->req[0].quantity, 3 * G);
	assert_int_equal(p->req[0].start, T0 + 300);
	in.params.max_hops = 2;
	p = run(a, &in);
	assert_int_equal(p->n_req, 0);
	assert_true(p->view[0].short_by > 2.9 * G);
	alloc_free(a);
}

/* Hysteresis: inside the band nothing moves; past it the surplus goes; a straddling lease
 * that has not started is resized; no flapping when the need wobbles. */
static void test_hysteresis(void **st)
{
	(void)st;
	int64_t now = T0 - 1800; /* 09:30: blocks 09:00 (current) and 10:00 */
	struct fc f;
	struct alloc_resource res[] = {link_("link.a-b", A, B, 10 * G)};
	struct alloc_class cls[] = {app("web", A, B, 1, &f)};
	struct alloc_resv resv[] = {{.cls = 0,
	                             .hops = {0},
	                             .n_hops = 1,
	                             .quantity = 2 * G,
	                             .start = T0,
	                             .end = T0 + H,
	                             .hold_prio = 1,
	                             .user = 1}};
	struct alloc_input in;
	input(&in, now, res, 1, cls, 1, resv, 1);
	struct alloc *a = alloc_new();
	/* Need wobbles 1.8G, 2.0G, 1.7G: held 2G stays, nothing requested or released. */
	double needs[] = {1.8, 2.0, 1.7};
	for (int i = 0; i < 3; i++) {
		fc_flat(&f, now, needs[i] * G);
		const struct alloc_plan *p = run(a, &in);
		print_plan(p);
		assert_int_equal(p->n_rel, 0);
		assert_int_equal(req_sum(p, 0, T0), 0);
	}
	/* 1.5G: 2G > 1.875G: resize to 1.5G (release + replacement with the same start). */
	fc_flat(&f, now, 1.5 * G);
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_rel, 1);
	assert_int_equal(p->rel[0].why, ALLOC_RESIZE);
	assert_int_equal(req_sum(p, 0, T0), 1500 * M);
	assert_true(p->req[p->n_req - 1].replaces);
	assert_int_equal(p->req[p->n_req - 1].start, T0);

	/* Two leases 1.5G + 0.5G, need 1.4G: the newer one is surplus (2G > 1.75G) and goes;
	 * 1.5G stays (inside the band, no resize). */
	struct alloc_resv two[] = {resv[0], resv[0]};
	two[0].quantity = 1500 * M;
	two[1].quantity = 500 * M;
	two[1].user = 2;
	in.resv = two;
	in.n_resv = 2;
	fc_flat(&f, now, 1.4 * G);
	p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_rel, 1);
	assert_int_equal(p->rel[0].user, 2);
	assert_int_equal(p->rel[0].why, ALLOC_SURPLUS);
	assert_int_equal(req_sum(p, 0, T0), 0);

	/* Need 1.7G: both leases are needed (1.5G < 1.7G), nothing moves. */
	fc_flat(&f, now, 1.7 * G);
	p = run(a, &in);
	assert_int_equal(p->n_rel, 0);
	assert_int_equal(req_sum(p, 0, T0), 0);
	/* 1.5G + 0.3G for a need of 1.5G: 0.3G is surplus inside the band (1.8G <= 1.875G) and
	 * stays while the capacity is free ... */
	two[1].quantity = 300 * M;
	fc_flat(&f, now, 1.5 * G);
	p = run(a, &in);
	assert_int_equal(p->n_rel, 0);
	/* ... and is reclaimed when another class of the same level needs the link. */
	struct fc g;
	fc_flat(&g, now, 8.4 * G);
	struct alloc_class both[] = {cls[0], app("other", A, B, 1, &g)};
	in.cls = both;
	in.n_cls = 2;
	p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_rel, 1);
	assert_int_equal(p->rel[0].user, 2);
	assert_int_equal(p->rel[0].why, ALLOC_RECLAIM);
	assert_non_null(strstr(p->rel[0].reason, "others need the capacity"));
	assert_int_equal(req_sum(p, 1, T0), 8400 * M);

	/* A held lease of the current block keeps covering what comes before now + lead: a
	 * spike in the next minutes keeps it (a release would act at once, a top-up not). */
	struct alloc_resource slow[] = {link_("link.a-b", A, B, 10 * G)};
	slow[0].lead_s = 900;
	struct alloc_resv cur[] = {resv[0]};
	cur[0].start = T0 - H;
	cur[0].end = T0;
	double spike[8] = {0};
	struct fc f5;
	fc_set(&f5, now, 8, spike);
	f5.q[1] = 2.0 * G; /* step 0 = [09:30, 10:30): the spike; nothing after */
	f5.f.step_s = 600;
	struct alloc_class one[] = {app("web", A, B, 1, &f5)};
	in.cls = one;
	in.n_cls = 1;
	in.res = slow;
	in.resv = cur;
	in.n_resv = 1;
	p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_rel, 0);
	assert_int_equal(p->n_req, 0);
	alloc_free(a);
}

/* Lead time: a 2h provisioning lead books the block two hours ahead, from that block's
 * forecast step; a late top-up starts after the lead. */
static void test_lead_time(void **st)
{
	(void)st;
	struct fc f;
	double q[] = {1.0 * G, 2.0 * G, 3.0 * G, 4.0 * G, 4.0 * G, 4.0 * G};
	fc_set(&f, T0, 6, q);
	struct alloc_resource res[] = {link_("link.a-b", A, B, 10 * G)};
	res[0].lead_s = 2 * H;
	struct alloc_class cls[] = {app("db", A, B, 1, &f)};
	struct alloc_input in;
	input(&in, T0, res, 1, cls, 1, NULL, 0);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_blocks, 3);
	assert_int_equal(p->n_req, 1);
	assert_int_equal(p->req[0].start, T0 + 2 * H);
	assert_int_equal(p->req[0].end, T0 + 3 * H);
	assert_int_equal(p->req[0].quantity, 3 * G);
	assert_non_null(strstr(p->req[0].reason, "lead 2h"));
	assert_non_null(strstr(p->req[0].reason, "p95 3Gbit/s"));
	assert_int_equal(p->view[0].need_start, T0 + 2 * H);

	/* Lead 15m at 10:10: the current block can still be topped up from 10:25, and the
	 * next block (11:00) is booked now since the next cycle (11:10) would be late. */
	res[0].lead_s = 900;
	in.params.now = T0 + 600;
	p = run(a, &in);
	print_plan(p);
	assert_int_equal(p->n_req, 2);
	assert_int_equal(p->req[0].start, T0 + 1500);
	assert_int_equal(p->req[0].quantity, 1 * G);
	assert_non_null(strstr(p->req[0].reason, "late"));
	assert_int_equal(p->req[1].start, T0 + H);
	assert_int_equal(p->req[1].quantity, 2 * G);
	alloc_free(a);
}

/* Request size = need - held, clipped to policy; never threshold minus utilisation. */
static void test_request_sizing(void **st)
{
	(void)st;
	struct fc f;
	fc_flat(&f, T0, 2.0 * G);
	struct alloc_resource res[] = {link_("link.a-b", A, B, 10 * G)};
	struct alloc_class cls[] = {app("video", A, B, 1, &f)};
	cls[0].headroom = 0.10;
	cls[0].measured = 1.9 * G; /* the current rate plays no part when forecast */
	struct alloc_resv resv[] = {{.cls = 0,
	                             .hops = {0},
	                             .n_hops = 1,
	                             .quantity = 1500 * M,
	                             .start = T0,
	                             .end = T0 + H,
	                             .hold_prio = 1}};
	struct alloc_input in;
	input(&in, T0, res, 1, cls, 1, resv, 1);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(req_sum(p, 0, T0), 700 * M); /* 2G x 1.1 - 1.5G */
	assert_non_null(strstr(p->req[0].reason, "+10% headroom"));
	assert_true(fabs(p->view[0].need - 2.2 * G) < 1);
	assert_true(fabs(p->view[0].quantile - 2.0 * G) < 1);
	assert_true(fabs(p->view[0].held_now - 1.5 * G) < 1);
	assert_true(fabs(p->view[0].planned - 2.2 * G) < 1);
	/* Demand now above the forecast: the block in progress needs the measured rate. */
	cls[0].measured = 2.5 * G;
	p = run(a, &in);
	print_plan(p);
	/* 2.5G x (p95 2G / median 1.6G) x 1.1 - 1.5G = 1937.5M, rounded up */
	assert_int_equal(req_sum(p, 0, T0), 1938 * M);
	assert_non_null(strstr(p->req[0].reason, "measured 2.5Gbit/s now x 1.25 spread of the "
	                                         "forecast, above its p95 2Gbit/s"));
	in.params.no_measured_floor = true;
	p = run(a, &in);
	assert_int_equal(req_sum(p, 0, T0), 700 * M);
	in.params.no_measured_floor = false;
	cls[0].measured = 1.9 * G;
	/* max_rate 2G: 500M. */
	cls[0].max_rate = 2 * G;
	p = run(a, &in);
	assert_int_equal(req_sum(p, 0, T0), 500 * M);
	assert_non_null(strstr(p->req[0].reason, "clipped to max_rate"));
	/* min_rate 3G above the forecast: raised. */
	cls[0].max_rate = 0;
	cls[0].min_rate = 3 * G;
	p = run(a, &in);
	assert_int_equal(req_sum(p, 0, T0), 1500 * M);
	/* No forecast: the measured rate plus headroom. */
	cls[0].min_rate = 0;
	cls[0].fc = NULL;
	p = run(a, &in);
	assert_int_equal(req_sum(p, 0, T0), 590 * M); /* 1.9G x 1.1 - 1.5G = 590M */
	assert_non_null(strstr(p->req[0].reason, "no forecast"));
	/* Rounding up to the quantum: need 1.5G + 1 bit/s asks for one more Mbit/s. */
	cls[0].measured = 1500 * M + 1;
	cls[0].headroom = 0;
	p = run(a, &in);
	assert_int_equal(req_sum(p, 0, T0), 1 * M);
	alloc_free(a);
}

/* A vCPU pool sized from its series: local pool first, the rest from a peer's pool. */
static void test_pool(void **st)
{
	(void)st;
	struct fc f;
	fc_flat(&f, T0, 100);
	struct alloc_resource res[] = {
	        {.name = "pool.compute.vcpu",
	         .kind = ALLOC_VCPU,
	         .owner = A,
	         .to = -1,
	         .capacity = 64,
	         .lead_s = 600},
	        {.name = "pool.b.vcpu",
	         .kind = ALLOC_VCPU,
	         .owner = B,
	         .to = -1,
	         .capacity = 200,
	         .lead_s = 600},
	};
	struct alloc_class cls[] = {{.name = "pool.compute.vcpu",
	                             .kind = ALLOC_VCPU,
	                             .src = A,
	                             .dst = -1,
	                             .priority = 3,
	                             .slo_quantile = 0.95,
	                             .fc = &f.f,
	                             .measured = -1}};
	struct alloc_input in;
	input(&in, T0 - H, res, 2, cls, 1, NULL, 0);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = run(a, &in);
	print_plan(p);
	assert_int_equal(req_sum(p, 0, T0), 100);
	bool local = false, peer = false;
	for (size_t i = 0; i < p->n_req; i++) {
		if (p->req[i].end != T0 + H)
			continue;
		if (p->req[i].hops[0] == 0) {
			local = true;
			assert_int_equal(p->req[i].quantity, 64);
		} else {
			peer = true;
			assert_int_equal(p->req[i].quantity, 36);
			assert_non_null(strstr(p->req[i].reason, "leased from b"));
		}
	}
	assert_true(local && peer);
	alloc_free(a);
}

static void test_bad_input(void **st)
{
	(void)st;
	struct fc f;
	fc_flat(&f, T0, 1.0 * G);
	struct alloc_resource res[] = {link_("link.a-b", A, B, 10 * G)};
	struct alloc_class cls[] = {app("x", A, B, 1, &f)};
	struct alloc_resv resv[] = {
	        {.cls = 0, .hops = {3}, .n_hops = 1, .quantity = 1, .start = T0, .end = T0 + H}};
	struct alloc_input in;
	input(&in, T0, res, 1, cls, 1, resv, 1);
	struct alloc *a = alloc_new();
	const struct alloc_plan *p = (void *)1;
	assert_int_equal(alloc_run(a, &in, &p), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(alloc_error(a), "reservation 0"));
	in.n_resv = 0;
	cls[0].slo_quantile = 1.5;
	assert_int_equal(alloc_run(a, &in, &p), -EINVAL);
	assert_non_null(strstr(alloc_error(a), "slo_quantile"));
	cls[0].slo_quantile = 0.95;
	cls[0].dst = A;
	assert_int_equal(alloc_run(a, &in, &p), -EINVAL);
	cls[0].dst = B;
	cls[0].priority = 8;
	assert_int_equal(alloc_run(a, &in, &p), -EINVAL);
	cls[0].priority = 1;
	res[0].to = A;
	assert_int_equal(alloc_run(a, &in, &p), -EINVAL);
	res[0].to = B;
	in.params.block_s = 1;
	in.params.lookahead_s = 72 * H;
	assert_int_equal(alloc_run(a, &in, &p), -E2BIG);
	in.params.block_s = H;
	assert_int_equal(alloc_run(a, &in, &p), 0);
	assert_string_equal(alloc_error(a), "");
	alloc_free(a);
}

/* Random inputs: applying the plan never books any resource above its capacity in any
 * block, unless it already was; every request is inside a planned block and after now. */
static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_random_capacity(void **st)
{
	(void)st;
	enum { NR = 4, NC = 24, NV = 40 };
	struct alloc *a = alloc_new();
	for (int round = 0; round < 200; round++) {
		struct alloc_resource res[NR * NR];
		size_t nres = 0;
		for (int i = 0; i < NR; i++)
			for (int j = 0; j < NR; j++)
				if (i != j && rnd() % 4)
					res[nres++] = link_("l", i, j, (rnd() % 20 + 1) * G);
		struct fc f[NC];
		struct alloc_class cls[NC];
		for (int c = 0; c < NC; c++) {
			double q[8];
			for (int s = 0; s < 8; s++)
				q[s] = (double)(rnd() % 8000) * M;
			fc_set(&f[c], T0, 8, q);
			int s = (int)(rnd() % NR), d = (int)((s + 1 + rnd() % (NR - 1)) % NR);
			cls[c] = app("c", s, d, (unsigned)(rnd() % 3), &f[c]);
			cls[c].weight = (double)(rnd() % 3);
		}
		/* Existing leases booked within capacity, at each block. */
		int64_t now = T0 + (int64_t)(rnd() % H);
		struct alloc_resv resv[NV];
		size_t nv = 0;
		uint64_t used[3][NR * NR] = {{0}};
		for (int k = 0; k < NV && nres; k++) {
			size_t r = rnd() % nres;
			int b = (int)(rnd() % 3);
			uint64_t q = (rnd() % 3000 + 1) * M;
			if (used[b][r] + q > res[r].capacity)
				continue;
			used[b][r] += q;
			int c = (int)(rnd() % NC);
			resv[nv++] = (struct alloc_resv){.cls = rnd() % 5 ? c : -1,
			                                 .hops = {(int)r},
			                                 .n_hops = 1,
			                                 .quantity = q,
			                                 .start = T0 + b * H,
			                                 .end = T0 + (b + 1) * H,
			                                 .hold_prio = (uint8_t)(rnd() % 4)};
		}
		struct alloc_input in;
		input(&in, now, res, nres, cls, NC, resv, nv);
		in.regions = regions;
		in.params.lease_lead_s = (uint32_t)(rnd() % 1800);
		in.params.max_hops = 1 + (unsigned)(rnd() % 3);
		const struct alloc_plan *p = run(a, &in);
		for (size_t b = 0; b < p->n_blocks; b++) {
			int64_t bs = p->first_block + (int64_t)b * H;
			uint64_t load[NR * NR] = {0};
			bool released[NV] = {false};
			for (size_t i = 0; i < p->n_rel; i++)
				released[p->rel[i].resv] = true;
			for (size_t j = 0; j < nv; j++)
				if (!released[j] && resv[j].start < bs + H && resv[j].end > bs)
					load[resv[j].hops[0]] += resv[j].quantity;
			for (size_t i = 0; i < p->n_req; i++) {
				const struct alloc_request *q = &p->req[i];
				assert_true(q->start >= now);
				assert_true(q->start < q->end);
				if (q->start < bs + H && q->end > bs)
					for (unsigned h = 0; h < q->n_hops; h++)
						load[q->hops[h]] += q->quantity;
			}
			for (size_t r = 0; r < nres; r++) {
				uint64_t before = 0;
				for (size_t j = 0; j < nv; j++)
					if (resv[j].start < bs + H && resv[j].end > bs &&
					    resv[j].hops[0] == (int)r)
						before += resv[j].quantity;
				if (load[r] > res[r].capacity) {
					fprintf(stderr, "round %d block %zu res %zu: %llu > %llu\n",
					        round, b, r, (unsigned long long)load[r],
					        (unsigned long long)res[r].capacity);
					print_plan(p);
				}
				assert_true(load[r] <= res[r].capacity || load[r] <= before);
				assert_true(p->planned_use[b * nres + r] >= load[r]);
			}
		}
	}
	alloc_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scarcity_three_priorities),
	        cmocka_unit_test(test_fairness_inside_level),
	        cmocka_unit_test(test_preemption),
	        cmocka_unit_test(test_transit),
	        cmocka_unit_test(test_hysteresis),
	        cmocka_unit_test(test_lead_time),
	        cmocka_unit_test(test_request_sizing),
	        cmocka_unit_test(test_pool),
	        cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_random_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of one allocation-controller cycle (control/alloc.c) at tidal-sim's scale:
 * R regions on a ring with random chords (degree D), C classes spread over the directed
 * links with priorities 0..2, forecasts of 8 hourly steps, links sized at 1.1x the summed
 * need so that about a third of them are short and transit is planned, and one lease per
 * class already held for the next block (sized 0.7..1.3x the need: top-ups, releases and
 * resizes all happen). now = 10 minutes before a block, leads 5 min (links) and 15 min
 * (peer leases): two blocks per cycle.
 *
 * Anchor, in the same process on the same input: a greedy first-fit pass (classes in
 * priority order, each takes min(need, free) of its direct link; no fairness, transit,
 * hysteresis or reasons), i.e. the least work any allocator over this input must do.
 *
 *   build/tests/bench/sim/bench_alloc_cycle [REGIONS=100] [CLASSES=10000] [RUNS=20]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"

#define H   3600
#define NOW (INT64_C(1796119200) - 600)

static uint64_t st = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
	st ^= st << 13;
	st ^= st >> 7;
	st ^= st << 17;
	return st;
}
static double unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t R = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	size_t C = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
	int runs = argc > 3 ? atoi(argv[3]) : 20;
	size_t D = 10;
	if (R < 3 || C < 1 || runs < 1) {
		fprintf(stderr, "usage: %s [REGIONS>=3] [CLASSES>=1] [RUNS>=1]\n", argv[0]);
		return 2;
	}
	char(*names)[24] = calloc(R, 24);
	const char **regions = calloc(R, sizeof(char *));
	struct alloc_resource *res = calloc(R * D * 2 + 2 * R, sizeof(*res));
	size_t nres = 0;
	int *deg = calloc(R, sizeof(int));
	char *adj = calloc(R * R, 1);
	for (size_t i = 0; i < R; i++) {
		snprintf(names[i], 24, "r%03zu", i);
		regions[i] = names[i];
	}
#define LINK(a, b)                                                                                 \
	do {                                                                                       \
		if (!adj[(a)*R + (b)]) {                                                           \
			adj[(a)*R + (b)] = adj[(b)*R + (a)] = 1;                                   \
			res[nres++] = (struct alloc_resource){                                     \
			        .name = "link", .owner = (int)(a), .to = (int)(b), .lead_s = 300}; \
			res[nres++] = (struct alloc_resource){                                     \
			        .name = "link", .owner = (int)(b), .to = (int)(a), .lead_s = 300}; \
			deg[a]++, deg[b]++;                                                        \
		}                                                                                  \
	} while (0)
	for (size_t i = 0; i < R; i++)
		LINK(i, (i + 1) % R);
	for (size_t t = 0; t < R * D * 20; t++) {
		size_t i = rnd() % R, j = rnd() % R;
		if (i != j && (size_t)deg[i] < D && (size_t)deg[j] < D)
			LINK(i, j);
	}
	/* Classes, their forecasts and held leases. */
	struct alloc_class *cls = calloc(C, sizeof(*cls));
	struct demand_forecast *fc = calloc(C, sizeof(*fc));
	double *q = calloc(C * 16, sizeof(double)), levels[2] = {0.5, 0.95};
	double *need_sum = calloc(nres, sizeof(double));
	struct alloc_resv *resv = calloc(C, sizeof(*resv));
	for (size_t c = 0; c < C; c++) {
		size_t r = (c * 7919) % nres;
		double base = 1e8 * exp(unif() * 2 - 1);
		for (int s = 0; s < 8; s++) {
			double v = base * (1 + 0.3 * sin((double)s + (double)c));
			q[c * 16 + 2 * s] = 0.8 * v;
			q[c * 16 + 2 * s + 1] = v;
		}
		fc[c] = (struct demand_forecast){.origin_s = NOW - 600,
		                                 .step_s = H,
		                                 .h = 8,
		                                 .n_levels = 2,
		                                 .levels = levels,
		                                 .q = q + c * 16,
		                                 .point = q + c * 16};
		cls[c] = (struct alloc_class){.name = "c",
		                              .src = res[r].owner,
		                              .dst = res[r].to,
		                              .priority = (unsigned)(rnd() % 3),
		                              .weight = 1,
		                              .slo_quantile = 0.95,
		                              .headroom = 0.1,
		                              .fc = &fc[c],
		                              .measured = -1};
		need_sum[r] += base * 1.3 * 1.1;
		resv[c] = (struct alloc_resv){.cls = (int)c,
		                              .hops = {(int)r},
		                              .n_hops = 1,
		                              .quantity = (uint64_t)(base * (0.7 + 0.6 * unif())),
		                              .start = NOW + 600,
		                              .end = NOW + 600 + H,
		                              .hold_prio = (uint8_t)cls[c].priority,
		                              .user = c};
	}
	size_t short_links = 0;
	for (size_t r = 0; r < nres; r++) {
		double f = unif() < 0.33 ? 0.8 : 1.5;
		short_links += f < 1;
		res[r].capacity = (uint64_t)(need_sum[r] * f) + 1000000ULL;
	}
	/* Held leases must fit: drop those that do not. */
	uint64_t *used = calloc(nres, sizeof(uint64_t));
	size_t nv = 0;
	for (size_t c = 0; c < C; c++)
		if (used[resv[c].hops[0]] + resv[c].quantity <= res[resv[c].hops[0]].capacity) {
			used[resv[c].hops[0]] += resv[c].quantity;
			resv[nv++] = resv[c];
		}

	struct alloc_input in = {.regions = regions,
	                         .n_regions = R,
	                         .res = res,
	                         .n_res = nres,
	                         .cls = cls,
	                         .n_cls = C,
	                         .resv = resv,
	                         .n_resv = nv};
	alloc_params_init(&in.params);
	in.params.now = NOW;
	in.params.lease_lead_s = 900;
	in.params.no_reasons = getenv("NO_REASONS") != NULL;
	struct alloc *a = alloc_new();
	double *t_alloc = calloc((size_t)runs, sizeof(double));
	double *t_anchor = calloc((size_t)runs, sizeof(double));
	const struct alloc_plan *p = NULL;
	size_t transit = 0;
	volatile double sink = 0;
	double *free_ = calloc(nres, sizeof(double));
	for (int k = 0; k < runs; k++) {
		double t0 = now_s();
		if (alloc_run(a, &in, &p)) {
			fprintf(stderr, "alloc_run: %s\n", alloc_error(a));
			return 1;
		}
		t_alloc[k] = now_s() - t0;
		/* Anchor: greedy first fit by priority on the direct link, same need rule. */
		t0 = now_s();
		for (size_t r = 0; r < nres; r++)
			free_[r] = (double)res[r].capacity;
		for (unsigned prio = 0; prio < 3; prio++)
			for (size_t c = 0; c < C; c++) {
				if (cls[c].priority != prio)
					continue;
				size_t r = (c * 7919) % nres;
				double need = 0;
				for (int s = 1; s < 3; s++)
					need = fmax(need, alloc_step_need(&cls[c], (size_t)s));
				double g = fmin(need, free_[r]);
				free_[r] -= g;
				sink += g;
			}
		t_anchor[k] = now_s() - t0;
	}
	for (size_t i = 0; i < p->n_req; i++)
		transit += p->req[i].transit;
	qsort(t_alloc, (size_t)runs, sizeof(double), cmp_d);
	qsort(t_anchor, (size_t)runs, sizeof(double), cmp_d);
	double ma = t_alloc[runs / 2], mn = t_anchor[runs / 2];
	printf("regions %zu, links %zu (%zu short), classes %zu, leases held %zu, blocks %zu\n", R,
	       nres, short_links, C, nv, p->n_blocks);
	printf("plan: %zu requests (%zu transit), %zu releases\n", p->n_req, transit, p->n_rel);
	printf("%-28s %10s %10s\n", "", "median ms", "max ms");
	printf("%-28s %10.2f %10.2f\n", "controller cycle (alloc_run)", ma * 1e3,
	       t_alloc[runs - 1] * 1e3);
	printf("%-28s %10.2f %10.2f\n", "anchor (greedy first fit)", mn * 1e3,
	       t_anchor[runs - 1] * 1e3);
	printf("ratio controller/anchor: %.1fx; target: one cycle < 100 ms -> %s\n", ma / mn,
	       ma < 0.1 ? "met" : "NOT met");
	alloc_free(a);
	free(names), free(regions), free(res), free(deg), free(adj), free(cls), free(fc), free(q);
	free(need_sum), free(resv), free(used), free(t_alloc), free(t_anchor), free(free_);
	return sink < 0;
}

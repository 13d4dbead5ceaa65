/* SPDX-License-Identifier: Apache-2.0 */
/*
 * synth: [synthetic] scenarios for scale: a ring of regions with random chords and classes
 * with daily and weekly cycles, log-normal sizes, AR(1) noise and rare bursts, all from one
 * seed (the same seed gives the same scenario).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_int.h"

/* ---- synthetic ----------------------------------------------------------------------- */

static uint64_t xs(uint64_t *st)
{
	uint64_t x = *st;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 2685821657736338717ULL;
}

static double unif(uint64_t *st)
{
	return (double)(xs(st) >> 11) / 9007199254740992.0;
}

static double gauss(uint64_t *st)
{
	double u = unif(st), v = unif(st);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Regions on a ring with random chords up to `degree` links each (both directions), and
 * `classes` classes spread over the directed links, each with a daily and weekly cycle whose
 * phase follows its source region's "time zone", a log-normal size, AR(1) noise and rare
 * bursts. Shapes are those of backbone traffic (CESNET, Cortez); sizes are arbitrary. */
int ld_load_synthetic(struct ld *l)
{
	static const char *const keys[] = {
	        "regions",         "degree", "classes",    "seed",       "mean_rate",
	        "capacity_factor", "noise",  "noise_corr", "priorities", NULL};
	int rc = ld_check_keys(l, "synthetic", keys);
	if (rc)
		return rc;
	uint64_t nr = 10, degree = 4, ncls = 100, seed = 1, mean = 100000000;
	double factor = 1.3, noise = 0.08, rho = 0.7, shares[8] = {0.1, 0.3, 0.6};
	size_t nsh = 3;
	if ((rc = ld_get_uint(l, "synthetic", "regions", 3, 4096, &nr)) ||
	    (rc = ld_get_uint(l, "synthetic", "degree", 2, 64, &degree)) ||
	    (rc = ld_get_uint(l, "synthetic", "classes", 1, 10000000, &ncls)) ||
	    (rc = ld_get_uint(l, "synthetic", "seed", 0, UINT64_MAX, &seed)) ||
	    (rc = ld_get_qty(l, "synthetic", "mean_rate", ALLOC_BANDWIDTH, &mean)) ||
	    (rc = ld_get_double(l, "synthetic", "capacity_factor", 0.01, 1e6, &factor)) ||
	    (rc = ld_get_double(l, "synthetic", "noise", 0, 2, &noise)) ||
	    (rc = ld_get_double(l, "synthetic", "noise_corr", 0, 0.999, &rho)) ||
	    (rc = ld_parse_list(l, "synthetic", "priorities", shares, 8, &nsh, false)))
		return rc;
	if (degree >= nr)
		degree = nr - 1;
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	char name[SIM_NAME_MAX];
	for (uint64_t i = 0; i < nr; i++) {
		snprintf(name, sizeof(name), "r%03llu", (unsigned long long)i);
		if (ld_region(l, name) < 0)
			return -ENOMEM;
	}
	size_t base = l->s->n_regions - nr;
	unsigned *deg = calloc(nr, sizeof(unsigned));
	if (!deg)
		return -ENOMEM;
	for (uint64_t i = 0; i < nr; i++) {
		int a = (int)(base + i), b = (int)(base + (i + 1) % nr);
		if (!ld_new_link(l, a, b) || !ld_new_link(l, b, a)) {
			free(deg);
			return -ENOMEM;
		}
		deg[i]++, deg[(i + 1) % nr]++;
	}
	for (uint64_t tries = 0; tries < nr * degree * 20; tries++) {
		uint64_t i = xs(&st) % nr, j = xs(&st) % nr;
		if (i == j || deg[i] >= degree || deg[j] >= degree)
			continue;
		size_t before = l->s->n_links;
		if (!ld_new_link(l, (int)(base + i), (int)(base + j)) ||
		    !ld_new_link(l, (int)(base + j), (int)(base + i))) {
			free(deg);
			return -ENOMEM;
		}
		if (l->s->n_links > before)
			deg[i]++, deg[j]++;
	}
	free(deg);
	size_t first_link = 0, nl = l->s->n_links;
	for (size_t k = first_link; k < nl; k++)
		l->s->links[k].capacity_factor = factor;
	double steps_per_h = 3600.0 / l->s->step_s;
	for (uint64_t k = 0; k < ncls; k++) {
		/* Spread classes over links with a random permutation-ish stride. */
		const struct sim_link *lk = &l->s->links[(k * 7919) % nl];
		snprintf(name, sizeof(name), "c%05llu", (unsigned long long)k);
		struct sim_class *c = ld_new_class(l, name);
		if (!c)
			return -ENOMEM;
		c->src = lk->from;
		c->dst = lk->to;
		double u = unif(&st), acc = 0;
		c->priority = (unsigned)nsh - 1;
		for (size_t q = 0; q < nsh; q++) {
			acc += shares[q];
			if (u < acc) {
				c->priority = (unsigned)q;
				break;
			}
		}
		double size = (double)mean * exp(gauss(&st) * 0.8 - 0.32);
		double tz = 24.0 * (double)(c->src - (int)base) / (double)nr;
		double amp = 0.35 + 0.25 * unif(&st), amp2 = 0.1 * unif(&st);
		double phase2 = 24 * unif(&st), wkend = 0.65 + 0.3 * unif(&st);
		double trend = (unif(&st) - 0.5) * 0.004; /* per day */
		double ar = 0;
		int burst = 0;
		for (size_t t = 0; t < l->s->n_steps; t++) {
			double h = (double)t / steps_per_h;
			double hod = fmod(h + tz, 24.0);
			int dow = (int)fmod(floor((h + tz) / 24.0), 7.0);
			double daily = 1 + amp * sin(2 * M_PI * (hod - 9) / 24) +
			               amp2 * sin(4 * M_PI * (hod - phase2) / 24);
			double week = dow >= 5 ? wkend : 1.0;
			ar = rho * ar + noise * gauss(&st);
			if (burst > 0)
				burst--;
			else if (unif(&st) < 0.002 / steps_per_h)
				burst = (int)((1 + xs(&st) % 3) * steps_per_h);
			double v = size * daily * week * exp(ar) * (1 + trend * h / 24) *
			           (burst ? 1.5 : 1.0);
			c->demand[t] = (float)(v > 0 ? v : 0);
		}
	}
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * calib: prediction intervals calibrated on out-of-sample errors (conformal-style, per
 * horizon step), and quantiles that never cross.
 *
 * Each cross-validation forecast error is expressed in units of the model's own predictive
 * spread at that step (z = (y - mean) / sd, sd read off the model's 95 % interval). The
 * calibrated quantile at level tau for step s is mean + sd * Q_tau, with Q_tau the empirical
 * quantile of the z of all origins at the steps around s, reflected about their median
 * (symmetric tails, twice the evidence for each): the model supplies the shape over the
 * horizon, the data the width and the bias. Levels beyond the sample are extrapolated
 * with a Gaussian tail of the sample's own spread. Finally every step's quantiles are
 * rearranged into ascending order (sorting is the monotone rearrangement, which never makes
 * a quantile forecast worse under the pinball loss).
 *
 * Pure math on the engine's arrays; owns only temporary buffers.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#define Z95         3.919927969080108 /* 2 * Phi^-1(0.975) */
#define MAX_ANCHORS 48
#define POOL_TARGET 512

void eng_sort_quantiles(double *q, size_t h, size_t nl)
{
	for (size_t s = 0; s < h; s++) {
		double *r = q + s * nl;
		for (size_t a = 1; a < nl; a++)
			for (size_t b = a; b > 0 && r[b - 1] > r[b]; b--) {
				double t = r[b];
				r[b] = r[b - 1];
				r[b - 1] = t;
			}
	}
}

/* Empirical quantile of sorted z[0..n) at level tau (plotting position tau (n + 1)), with
 * Gaussian extrapolation beyond the extreme order statistics. */
static double emp_quantile(const double *z, size_t n, double tau)
{
	double pos = tau * (double)(n + 1); /* 1-based */

	if (n == 1)
		return z[0];
	if (pos >= 1 && pos <= (double)n) {
		size_t lo = (size_t)floor(pos);
		double f = pos - (double)lo;
		if (lo >= n)
			return z[n - 1];
		return z[lo - 1] + f * (z[lo] - z[lo - 1]);
	}
	/* the sample's spread from its central 68 % (robust to a few outliers) */
	size_t i16 = (size_t)(0.16 * (double)(n - 1)), i84 = (size_t)(0.84 * (double)(n - 1));
	double spread = 0.5 * (z[i84] - z[i16]);
	if (!(spread > 0))
		spread = 0.5 * (z[n - 1] - z[0]);
	double edge = 1.0 / (double)(n + 1);
	if (pos < 1)
		return z[0] - spread * (gsl_cdf_ugaussian_Pinv(edge) - gsl_cdf_ugaussian_Pinv(tau));
	return z[n - 1] + spread * (gsl_cdf_ugaussian_Pinv(tau) - gsl_cdf_ugaussian_Pinv(1 - edge));
}

static double spread_at(const struct engine *e, const double *q, size_t s, double sd_floor)
{
	double sd = (q[s * e->nl + e->hi95] - q[s * e->nl + e->lo95]) / Z95;

	return sd > sd_floor ? sd : sd_floor;
}

/* Sorted pool[0..n) merged with its reflection about the median into out[0..2n). */
static void reflect(const double *pool, size_t n, double *out)
{
	double med = n % 2 ? pool[n / 2] : 0.5 * (pool[n / 2 - 1] + pool[n / 2]);
	size_t i = 0, j = n, k = 0; /* reflected values ascending: 2 med - pool[j - 1] */

	while (i < n || j > 0) {
		double r = j > 0 ? 2 * med - pool[j - 1] : INFINITY;
		if (i < n && pool[i] <= r)
			out[k++] = pool[i++];
		else {
			out[k++] = r;
			j--;
		}
	}
}

/* The sorted, origin-tagged pools of one candidate's normalised CV errors at every anchor
 * step, built once: each calibration (the final one and one per left-out origin) then
 * only filters and reads them. */
struct zpair {
	double z;
	unsigned origin;
};

struct eng_calib_cache {
	size_t n_anch;
	size_t *at;  /* anchor steps */
	size_t *off; /* pool of anchor i: pairs[off[i] .. off[i + 1]) */
	struct zpair *pairs;
};

static int cmp_zpair(const void *a, const void *b)
{
	double x = ((const struct zpair *)a)->z, y = ((const struct zpair *)b)->z;

	return (x > y) - (x < y);
}

void eng_calib_cache_free(struct eng_calib_cache *cc)
{
	if (!cc)
		return;
	free(cc->at);
	free(cc->off);
	free(cc->pairs);
	free(cc);
}

static struct eng_calib_cache *build_cache(const struct engine *e, const struct eng_cand *c)
{
	size_t h = e->h, k = e->k, nl = e->nl;
	size_t w = h / 16 ? h / 16 : 1;
	if (k * (2 * w + 1) < 20) /* few origins: pool wider */
		w = (20 / k) / 2 + 1;
	/* Long horizons: the error distribution changes slowly with the step, so it is
	 * estimated at up to MAX_ANCHORS steps from pools of about POOL_TARGET errors, and
	 * interpolated in between. */
	size_t n_anch = h < MAX_ANCHORS ? h : MAX_ANCHORS;
	size_t per = k * (2 * w + 1);
	size_t tstride = per > POOL_TARGET ? (per + POOL_TARGET - 1) / POOL_TARGET : 1;
	size_t cap = n_anch * (per / tstride + k + 1);
	struct eng_calib_cache *cc = calloc(1, sizeof(*cc));
	double *z = malloc(k * h * sizeof(double));

	if (!cc || !z)
		goto fail;
	cc->n_anch = n_anch;
	cc->at = malloc(n_anch * sizeof(size_t));
	cc->off = malloc((n_anch + 1) * sizeof(size_t));
	cc->pairs = malloc(cap * sizeof(struct zpair));
	if (!cc->at || !cc->off || !cc->pairs)
		goto fail;
	for (size_t i = 0; i < k; i++) {
		const double *m = c->cv_mean + i * h;
		const double *q = c->cv_q + i * h * nl;
		const double *y = e->y + e->origin[i];
		for (size_t s = 0; s < h; s++)
			z[i * h + s] = (y[s] - m[s]) / spread_at(e, q, s, e->sd_floor);
	}
	size_t np = 0;
	for (size_t ai = 0; ai < n_anch; ai++) {
		size_t s = n_anch > 1 ? (ai * (h - 1) + (n_anch - 1) / 2) / (n_anch - 1) : 0;
		size_t a = s > w ? s - w : 0, b = s + w + 1 < h ? s + w + 1 : h;
		cc->at[ai] = s;
		cc->off[ai] = np;
		for (size_t i = 0; i < k; i++)
			for (size_t t = a + (i % tstride); t < b && np < cap; t += tstride)
				cc->pairs[np++] = (struct zpair){z[i * h + t], (unsigned)i};
		qsort(cc->pairs + cc->off[ai], np - cc->off[ai], sizeof(struct zpair), cmp_zpair);
	}
	cc->off[n_anch] = np;
	free(z);
	return cc;
fail:
	free(z);
	eng_calib_cache_free(cc);
	return NULL;
}

int eng_calibrate(const struct engine *e, struct eng_cand *c, const double *mean,
                  const double *q_model, int loo, const double *levels, size_t n_levels,
                  double *out)
{
	size_t h = e->h, k = e->k;
	size_t used = k - (loo >= 0 && (size_t)loo < k);

	if (used < 2 || !c->cv_mean)
		return -EDOM;
	if (!c->calib && !(c->calib = build_cache(e, c)))
		return -ENOMEM;
	const struct eng_calib_cache *cc = c->calib;
	size_t n_anch = cc->n_anch, maxp = 0;
	for (size_t ai = 0; ai < n_anch; ai++)
		if (cc->off[ai + 1] - cc->off[ai] > maxp)
			maxp = cc->off[ai + 1] - cc->off[ai];
	double *pool = malloc(3 * (maxp + 1) * sizeof(double));
	double *qa = malloc(n_anch * n_levels * sizeof(double));
	if (!pool || !qa) {
		free(pool);
		free(qa);
		return -ENOMEM;
	}
	double *both = pool + maxp + 1;
	/* The errors of one origin move together over neighbouring steps, so the pools hold
	 * about as many independent draws as there are origins. A quantile estimated from
	 * that few draws is too narrow for a new one: widen each level as a prediction
	 * interval from `used` draws would be widened (Student t with used - 1 degrees of
	 * freedom over the normal, times sqrt(1 + 1 / used)). */
	double widen[FC_MAX_QUANTILES + 2];
	for (size_t j = 0; j < n_levels && j < FC_MAX_QUANTILES + 2; j++) {
		double zq = gsl_cdf_ugaussian_Pinv(levels[j]);
		widen[j] = fabs(zq) < 1e-6 ? 1.0
		                           : gsl_cdf_tdist_Pinv(levels[j], (double)(used - 1)) /
		                                     zq * sqrt(1.0 + 1.0 / (double)used);
	}
	for (size_t ai = 0; ai < n_anch; ai++) {
		size_t np = 0;
		for (size_t x = cc->off[ai]; x < cc->off[ai + 1]; x++)
			if ((int)cc->pairs[x].origin != loo)
				pool[np++] = cc->pairs[x].z;
		/* Reflect the sample about its median: the bias stays, the two tails pool their
		 * evidence (twice the data for each extreme quantile). */
		reflect(pool, np, both);
		double med = emp_quantile(both, 2 * np, 0.5);
		for (size_t j = 0; j < n_levels; j++)
			qa[ai * n_levels + j] =
			        med + widen[j] * (emp_quantile(both, 2 * np, levels[j]) - med);
	}
	size_t ai = 0;
	for (size_t s = 0; s < h; s++) {
		while (ai + 1 < n_anch && cc->at[ai + 1] <= s)
			ai++;
		double f = 0;
		size_t bi = ai;
		if (ai + 1 < n_anch && cc->at[ai + 1] > cc->at[ai]) {
			bi = ai + 1;
			f = (double)(s - cc->at[ai]) / (double)(cc->at[bi] - cc->at[ai]);
		}
		double sd = spread_at(e, q_model, s, e->sd_floor);
		for (size_t j = 0; j < n_levels; j++) {
			double qz = (1 - f) * qa[ai * n_levels + j] + f * qa[bi * n_levels + j];
			out[s * n_levels + j] = mean[s] + sd * qz;
		}
	}
	eng_sort_quantiles(out, h, n_levels);
	free(pool);
	free(qa);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modelutil: small numerical helpers shared by the models (Gaussian quantiles, residual
 * spread, classical seasonal indices, the seasonality test of the M4 benchmarks).
 *
 * Owns nothing beyond its stack; pure functions of their arguments.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

void fc_model_gauss_quantiles(const double *mean, const double *sd, size_t h, const double *levels,
                              size_t n_levels, double *out)
{
	double z[FC_MAX_QUANTILES];

	for (size_t j = 0; j < n_levels && j < FC_MAX_QUANTILES; j++)
		z[j] = gsl_cdf_ugaussian_Pinv(levels[j]);
	for (size_t s = 0; s < h; s++)
		for (size_t j = 0; j < n_levels && j < FC_MAX_QUANTILES; j++)
			out[s * n_levels + j] = mean[s] + sd[s] * z[j];
}

double fc_model_resid_sd(const double *r, size_t n, size_t dof)
{
	double ss = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isfinite(r[i]))
			continue;
		ss += r[i] * r[i];
		k++;
	}
	if (k == 0)
		return 0;
	size_t d = k > dof ? k - dof : 1;
	return sqrt(ss / (double)d);
}

/* Centred moving average of order m (2 x m when m is even) at t, valid for
 * m/2 <= t < n - m/2. */
static double cma(const double *y, size_t t, unsigned m)
{
	size_t half = m / 2;
	double s = 0;

	if (m % 2) {
		for (size_t i = t - half; i <= t + half; i++)
			s += y[i];
		return s / m;
	}
	for (size_t i = t - half + 1; i < t + half; i++)
		s += y[i];
	s += 0.5 * (y[t - half] + y[t + half]);
	return s / m;
}

int fc_model_seasonal_indices(const double *y, size_t n, unsigned m, bool mult, double *idx)
{
	if (m < 2 || n < 2 * (size_t)m)
		return -EDOM;
	double *sum = calloc(m, sizeof(*sum));
	size_t *cnt = calloc(m, sizeof(*cnt));
	if (!sum || !cnt) {
		free(sum);
		free(cnt);
		return -ENOMEM;
	}
	size_t half = m / 2;
	for (size_t t = half; t + half < n; t++) {
		double c = cma(y, t, m);
		double v;
		if (mult) {
			if (!(c > 0))
				continue;
			v = y[t] / c;
		} else {
			v = y[t] - c;
		}
		sum[t % m] += v;
		cnt[t % m]++;
	}
	double tot = 0;
	for (unsigned p = 0; p < m; p++) {
		idx[p] = cnt[p] ? sum[p] / cnt[p] : (mult ? 1 : 0);
		tot += idx[p];
	}
	double avg = tot / m;
	for (unsigned p = 0; p < m; p++) {
		if (mult)
			idx[p] = avg > 0 ? idx[p] / avg : 1;
		else
			idx[p] -= avg;
	}
	free(sum);
	free(cnt);
	return 0;
}

bool fc_model_seasonality_test(const double *y, size_t n, unsigned m)
{
	/* As in the M4 benchmarks: |acf(m)| > 1.645 * sqrt((1 + 2 sum_{k<m} acf(k)^2) / n). */
	if (m < 2 || n <= 2 * (size_t)m)
		return false;
	double mu = 0;
	for (size_t i = 0; i < n; i++)
		mu += y[i];
	mu /= (double)n;
	double den = 0;
	for (size_t i = 0; i < n; i++)
		den += (y[i] - mu) * (y[i] - mu);
	if (!(den > 0))
		return false;
	double s2 = 0, acf = 0;
	for (unsigned k = 1; k <= m; k++) {
		double num = 0;
		for (size_t i = k; i < n; i++)
			num += (y[i] - mu) * (y[i - k] - mu);
		acf = num / den;
		if (k < m)
			s2 += acf * acf;
	}
	double limit = 1.645 * sqrt((1 + 2 * s2) / (double)n);
	return fabs(acf) > limit;
}

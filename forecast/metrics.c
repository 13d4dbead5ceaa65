/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: the accuracy measures of the M4 competition (sMAPE, MASE, MSIS, coverage), used
 * by cross-validation to pick models and by tidal-forecast --backtest to report.
 *
 * Pure functions; NAN when undefined (no steps, zero scale).
 */
#include "forecast.h"

#include <math.h>

double fc_smape(const double *y, const double *f, size_t h)
{
	double s = 0;

	if (h == 0)
		return NAN;
	for (size_t i = 0; i < h; i++) {
		double d = fabs(y[i]) + fabs(f[i]);
		if (d > 0)
			s += 200.0 * fabs(y[i] - f[i]) / d;
	}
	return s / (double)h;
}

double fc_mase_scale(const double *x, size_t n, unsigned m)
{
	double s = 0;

	if (m == 0)
		m = 1;
	if (n <= m)
		return NAN;
	for (size_t t = m; t < n; t++)
		s += fabs(x[t] - x[t - m]);
	return s / (double)(n - m);
}

double fc_mase(const double *y, const double *f, size_t h, double scale)
{
	double s = 0;

	if (h == 0 || !(scale > 0))
		return NAN;
	for (size_t i = 0; i < h; i++)
		s += fabs(y[i] - f[i]);
	return s / (double)h / scale;
}

double fc_msis(const double *y, const double *lo, const double *hi, size_t h, double alpha,
               double scale)
{
	double s = 0;

	if (h == 0 || !(scale > 0) || !(alpha > 0))
		return NAN;
	for (size_t i = 0; i < h; i++) {
		s += hi[i] - lo[i];
		if (y[i] < lo[i])
			s += 2.0 / alpha * (lo[i] - y[i]);
		if (y[i] > hi[i])
			s += 2.0 / alpha * (y[i] - hi[i]);
	}
	return s / (double)h / scale;
}

double fc_coverage(const double *y, const double *lo, const double *hi, size_t h)
{
	size_t in = 0;

	if (h == 0)
		return NAN;
	for (size_t i = 0; i < h; i++)
		in += y[i] >= lo[i] && y[i] <= hi[i];
	return (double)in / (double)h;
}

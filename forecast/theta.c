/* SPDX-License-Identifier: Apache-2.0 */
/*
 * theta: the Theta method (Assimakopoulos & Nikolopoulos 2000) in the form of Hyndman &
 * Billah (2003) that R's forecast::thetaf implements: simple exponential smoothing plus a
 * drift of half the slope of the linear trend, on data seasonally adjusted by a classical
 * multiplicative decomposition when the 90 % autocorrelation test finds the season.
 *
 * SES is fitted by least squares: for a given alpha the best initial level has a closed
 * form, and alpha comes from GSL's Brent minimiser. Intervals are those of SES
 * (sigma^2 (1 + (h - 1) alpha^2)) around the reseasonalised mean, as thetaf gives.
 *
 * Owns its fitted model struct. Pure math; reentrant.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>

struct theta {
	unsigned m;  /* 0 when not seasonal */
	double *idx; /* m multiplicative seasonal indices, by phase */
	double alpha;
	double l0;    /* initial level */
	double level; /* level after the data */
	double drift; /* half the slope of the linear trend of the adjusted data */
	double sigma2;
	size_t n;
};

/* SES over x[0..n) from level l0: returns the SSE, final level in *last. */
static double ses(const double *x, size_t n, double alpha, double l0, double *last)
{
	double l = l0, sse = 0;

	for (size_t t = 0; t < n; t++) {
		double e = x[t] - l;
		sse += e * e;
		l += alpha * e;
	}
	if (last)
		*last = l;
	return sse;
}

/* SSE as a function of alpha with the best initial level: the errors are affine in l0,
 * e_t = e0_t - (1 - alpha)^t l0, so l0 = sum e0_t d_t / sum d_t^2. */
struct ses_args {
	const double *x;
	size_t n;
	double l0;
};

static double ses_best_l0(const double *x, size_t n, double alpha)
{
	double l = 0, d = 1, num = 0, den = 0;

	for (size_t t = 0; t < n; t++) {
		double e0 = x[t] - l;
		num += e0 * d;
		den += d * d;
		l += alpha * e0;
		d *= 1 - alpha;
	}
	return den > 0 ? num / den : x[0];
}

static double ses_obj(double alpha, void *arg)
{
	struct ses_args *a = arg;

	a->l0 = ses_best_l0(a->x, a->n, alpha);
	return ses(a->x, a->n, alpha, a->l0, NULL);
}

static int fit_alpha(const double *x, size_t n, double *alpha, double *l0)
{
	struct ses_args a = {.x = x, .n = n};
	gsl_function fn = {.function = ses_obj, .params = &a};
	const double lo = 1e-4, hi = 0.9999;
	/* Brent needs a bracket: scan a coarse grid for the best interior point. */
	double best = INFINITY, ba = 0.5;
	for (int i = 1; i < 20; i++) {
		double al = lo + (hi - lo) * i / 20.0;
		double v = ses_obj(al, &a);
		if (v < best) {
			best = v;
			ba = al;
		}
	}
	double flo = ses_obj(lo, &a), fhi = ses_obj(hi, &a);
	if (flo <= best || fhi <= best) {
		*alpha = flo <= fhi ? lo : hi;
		*l0 = ses_best_l0(x, n, *alpha);
		return 0;
	}
	gsl_min_fminimizer *s = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
	if (!s)
		return -ENOMEM;
	if (gsl_min_fminimizer_set(s, &fn, ba, lo, hi) == 0) {
		for (int it = 0; it < 100; it++) {
			if (gsl_min_fminimizer_iterate(s) != 0)
				break;
			double a_ = gsl_min_fminimizer_x_lower(s),
			       b_ = gsl_min_fminimizer_x_upper(s);
			if (gsl_min_test_interval(a_, b_, 1e-6, 0) == GSL_SUCCESS)
				break;
		}
		ba = gsl_min_fminimizer_x_minimum(s);
	}
	gsl_min_fminimizer_free(s);
	*alpha = ba;
	*l0 = ses_best_l0(x, n, ba);
	return 0;
}

static void theta_free(void *model)
{
	struct theta *t = model;

	if (!t)
		return;
	free(t->idx);
	free(t);
}

static int theta_fit(const struct fc_fit_in *in, void **model)
{
	const struct theta *like = in->like;
	size_t n = in->n;
	struct theta *t = calloc(1, sizeof(*t));
	double *x = malloc(n * sizeof(double));
	int rc = 0;

	if (!t || !x) {
		rc = -ENOMEM;
		goto fail;
	}
	if (n < 4) {
		rc = -EDOM;
		goto fail;
	}
	bool positive = true;
	for (size_t i = 0; i < n; i++)
		positive = positive && in->y[i] > 0;
	if (like) {
		t->m = like->m;
		if (t->m) {
			t->idx = malloc(t->m * sizeof(double));
			if (!t->idx) {
				rc = -ENOMEM;
				goto fail;
			}
			memcpy(t->idx, like->idx, t->m * sizeof(double));
		}
	} else if (in->n_periods && positive &&
	           fc_model_seasonality_test(in->y, n, in->periods[0])) {
		t->m = in->periods[0];
		t->idx = malloc(t->m * sizeof(double));
		if (!t->idx) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = fc_model_seasonal_indices(in->y, n, t->m, true, t->idx);
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; i < n; i++)
		x[i] = t->m ? in->y[i] / t->idx[i % t->m] : in->y[i];
	if (like) {
		t->alpha = like->alpha;
		t->l0 = like->l0;
		t->drift = like->drift;
		t->sigma2 = like->sigma2;
	} else {
		rc = fit_alpha(x, n, &t->alpha, &t->l0);
		if (rc < 0)
			goto fail;
		/* half the least-squares slope of x on 0..n-1 */
		double mt = (double)(n - 1) / 2.0, mx = 0, sxy = 0, sxx = 0;
		for (size_t i = 0; i < n; i++)
			mx += x[i];
		mx /= (double)n;
		for (size_t i = 0; i < n; i++) {
			sxy += ((double)i - mt) * (x[i] - mx);
			sxx += ((double)i - mt) * ((double)i - mt);
		}
		t->drift = sxx > 0 ? 0.5 * sxy / sxx : 0;
	}
	double sse = ses(x, n, t->alpha, t->l0, &t->level);
	if (!like)
		t->sigma2 = sse / (double)(n > 2 ? n - 2 : 1);
	t->n = n;
	if (!isfinite(t->level)) {
		rc = -ERANGE;
		goto fail;
	}
	free(x);
	*model = t;
	return 0;
fail:
	free(x);
	theta_free(t);
	return rc;
}

static int theta_mean(const void *model, size_t h, double *out)
{
	const struct theta *t = model;
	double a = t->alpha;
	double tail = (1 - pow(1 - a, (double)t->n)) / a;

	for (size_t s = 0; s < h; s++) {
		double v = t->level + t->drift * ((double)s + tail);
		out[s] = t->m ? v * t->idx[(t->n + s) % t->m] : v;
	}
	return 0;
}

static int theta_quantiles(const void *model, size_t h, const double *levels, size_t nl,
                           double *out)
{
	const struct theta *t = model;
	double *mean = malloc(2 * h * sizeof(double));

	if (!mean)
		return -ENOMEM;
	double *sd = mean + h;
	theta_mean(model, h, mean);
	for (size_t s = 0; s < h; s++) {
		/* on the adjusted scale, around the reseasonalised mean, as thetaf does */
		sd[s] = sqrt(t->sigma2 * (1 + (double)s * t->alpha * t->alpha));
	}
	fc_model_gauss_quantiles(mean, sd, h, levels, nl, out);
	free(mean);
	return 0;
}

static void theta_describe(const void *model, char *buf, size_t len)
{
	const struct theta *t = model;

	if (t->m)
		snprintf(buf, len, "theta[%u]", t->m);
	else
		snprintf(buf, len, "theta");
}

static double theta_complexity(const void *model)
{
	const struct theta *t = model;

	return 3 + (t->m ? t->m - 1 : 0);
}

const struct fc_model_ops fc_theta_ops = {
        .name = "theta",
        .summary = "Theta method (SES with drift) on seasonally adjusted data",
        .cost = 5,
        .flags = 0,
        .fit = theta_fit,
        .mean = theta_mean,
        .quantiles = theta_quantiles,
        .describe = theta_describe,
        .complexity = theta_complexity,
        .free = theta_free,
};

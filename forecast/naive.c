/* SPDX-License-Identifier: Apache-2.0 */
/*
 * naive: the random walk ("naive": the last value) and the seasonal random walk ("snaive":
 * the value one season earlier; "snaive_long": the same with the longest period, e.g. a week
 * of hourly data), with the intervals of R's forecast::naive/snaive (lag walk, residual
 * variance growing with the number of seasons ahead).
 *
 * These are the anchors every other candidate must beat, and the models that stay exact on
 * strictly periodic data. Owns its small model struct; pure math.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lagwalk {
	unsigned lag;
	double sigma;   /* sqrt(mean squared one-lag residual) */
	double *future; /* last lag values */
};

static int lagwalk_fit(const struct fc_fit_in *in, unsigned lag, void **model)
{
	/* one value is enough for the random walk (with no spread to go by) */
	if (lag == 0 || in->n < lag || (in->n == lag && lag > 1))
		return -EDOM;
	struct lagwalk *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->future = malloc(lag * sizeof(double));
	if (!m->future) {
		free(m);
		return -ENOMEM;
	}
	m->lag = lag;
	memcpy(m->future, in->y + in->n - lag, lag * sizeof(double));
	double ss = 0;
	for (size_t t = lag; t < in->n; t++) {
		double r = in->y[t] - in->y[t - lag];
		ss += r * r;
	}
	m->sigma = in->n > lag ? sqrt(ss / (double)(in->n - lag)) : 0;
	*model = m;
	return 0;
}

static int lagwalk_mean(const void *model, size_t h, double *out)
{
	const struct lagwalk *m = model;

	for (size_t s = 0; s < h; s++)
		out[s] = m->future[s % m->lag];
	return 0;
}

static int lagwalk_quantiles(const void *model, size_t h, const double *levels, size_t nl,
                             double *out)
{
	const struct lagwalk *m = model;
	double *mean = malloc(2 * h * sizeof(double));

	if (!mean)
		return -ENOMEM;
	double *sd = mean + h;
	lagwalk_mean(model, h, mean);
	for (size_t s = 0; s < h; s++)
		sd[s] = m->sigma * sqrt((double)(s / m->lag + 1));
	fc_model_gauss_quantiles(mean, sd, h, levels, nl, out);
	free(mean);
	return 0;
}

static double lagwalk_complexity(const void *model)
{
	(void)model;
	return 0;
}

static void lagwalk_free(void *model)
{
	struct lagwalk *m = model;

	if (!m)
		return;
	free(m->future);
	free(m);
}

static int naive_fit(const struct fc_fit_in *in, void **model)
{
	return lagwalk_fit(in, 1, model);
}

static void naive_describe(const void *model, char *buf, size_t len)
{
	(void)model;
	snprintf(buf, len, "naive");
}

static int snaive_fit(const struct fc_fit_in *in, void **model)
{
	if (in->n_periods == 0)
		return -EDOM;
	return lagwalk_fit(in, in->periods[0], model);
}

static int snaive_long_fit(const struct fc_fit_in *in, void **model)
{
	if (in->n_periods < 2)
		return -EDOM;
	return lagwalk_fit(in, in->periods[in->n_periods - 1], model);
}

static void snaive_describe(const void *model, char *buf, size_t len)
{
	const struct lagwalk *m = model;

	snprintf(buf, len, "snaive[%u]", m->lag);
}

const struct fc_model_ops fc_naive_ops = {
        .name = "naive",
        .summary = "random walk: every step repeats the last value",
        .cost = 1,
        .flags = 0,
        .fit = naive_fit,
        .mean = lagwalk_mean,
        .quantiles = lagwalk_quantiles,
        .describe = naive_describe,
        .complexity = lagwalk_complexity,
        .free = lagwalk_free,
};

const struct fc_model_ops fc_snaive_ops = {
        .name = "snaive",
        .summary = "seasonal naive: the value one (shortest) season earlier",
        .cost = 1,
        .flags = FC_MODEL_SEASONAL,
        .fit = snaive_fit,
        .mean = lagwalk_mean,
        .quantiles = lagwalk_quantiles,
        .describe = snaive_describe,
        .complexity = lagwalk_complexity,
        .free = lagwalk_free,
};

const struct fc_model_ops fc_snaive_long_ops = {
        .name = "snaive_long",
        .summary = "seasonal naive over the longest period (e.g. a week of hourly data)",
        .cost = 1,
        .flags = FC_MODEL_SEASONAL | FC_MODEL_MULTI,
        .fit = snaive_long_fit,
        .mean = lagwalk_mean,
        .quantiles = lagwalk_quantiles,
        .describe = snaive_describe,
        .complexity = lagwalk_complexity,
        .free = lagwalk_free,
};

/* Naive2 (the M4 benchmark): the naive forecast of the seasonally adjusted series
 * (classical multiplicative decomposition, when the 90 % autocorrelation test finds the
 * shortest season), reseasonalised. */
struct naive2 {
	unsigned m;   /* 0: not seasonal */
	double last;  /* last seasonally adjusted value */
	double sigma; /* sd of one-step changes of the adjusted series */
	size_t phase; /* phase of the first forecast step */
	double *idx;  /* m seasonal indices */
};

static int naive2_fit(const struct fc_fit_in *in, void **model)
{
	struct naive2 *m = calloc(1, sizeof(*m));
	double *adj = malloc(in->n * sizeof(double));
	int rc = 0;

	if (!m || !adj) {
		rc = -ENOMEM;
		goto fail;
	}
	if (in->n < 2) {
		rc = -EDOM;
		goto fail;
	}
	bool positive = true;
	for (size_t t = 0; t < in->n; t++)
		positive = positive && in->y[t] > 0;
	if (in->n_periods && positive && fc_model_seasonality_test(in->y, in->n, in->periods[0])) {
		m->m = in->periods[0];
		m->idx = malloc(m->m * sizeof(double));
		if (!m->idx) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = fc_model_seasonal_indices(in->y, in->n, m->m, true, m->idx);
		if (rc < 0)
			goto fail;
	}
	for (size_t t = 0; t < in->n; t++)
		adj[t] = m->m ? in->y[t] / m->idx[t % m->m] : in->y[t];
	double ss = 0;
	for (size_t t = 1; t < in->n; t++)
		ss += (adj[t] - adj[t - 1]) * (adj[t] - adj[t - 1]);
	m->sigma = sqrt(ss / (double)(in->n - 1));
	m->last = adj[in->n - 1];
	m->phase = in->n;
	free(adj);
	*model = m;
	return 0;
fail:
	free(adj);
	if (m)
		free(m->idx);
	free(m);
	return rc;
}

static int naive2_mean(const void *model, size_t h, double *out)
{
	const struct naive2 *m = model;

	for (size_t s = 0; s < h; s++)
		out[s] = m->m ? m->last * m->idx[(m->phase + s) % m->m] : m->last;
	return 0;
}

static int naive2_quantiles(const void *model, size_t h, const double *levels, size_t nl,
                            double *out)
{
	const struct naive2 *m = model;
	double *mean = malloc(2 * h * sizeof(double));

	if (!mean)
		return -ENOMEM;
	double *sd = mean + h;
	naive2_mean(model, h, mean);
	for (size_t s = 0; s < h; s++)
		sd[s] = m->sigma * sqrt((double)(s + 1)) *
		        (m->m ? m->idx[(m->phase + s) % m->m] : 1);
	fc_model_gauss_quantiles(mean, sd, h, levels, nl, out);
	free(mean);
	return 0;
}

static void naive2_describe(const void *model, char *buf, size_t len)
{
	const struct naive2 *m = model;

	if (m->m)
		snprintf(buf, len, "naive2[%u]", m->m);
	else
		snprintf(buf, len, "naive2");
}

static void naive2_free(void *model)
{
	struct naive2 *m = model;

	if (!m)
		return;
	free(m->idx);
	free(m);
}

const struct fc_model_ops fc_naive2_ops = {
        .name = "naive2",
        .summary = "M4 benchmark: naive on the seasonally adjusted series, reseasonalised",
        .cost = 1,
        .flags = 0,
        .fit = naive2_fit,
        .mean = naive2_mean,
        .quantiles = naive2_quantiles,
        .describe = naive2_describe,
        .complexity = lagwalk_complexity,
        .free = naive2_free,
};

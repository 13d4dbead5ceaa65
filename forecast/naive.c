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
	double sigma;    /* sqrt(mean squared one-lag residual) */
	double *future;  /* last lag values */
};

static int lagwalk_fit(const struct fc_fit_in *in, unsigned lag, void **model)
{
	if (lag == 0 || in->n <= lag)
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
	m->sigma = sqrt(ss / (double)(in->n - lag));
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_prophet: the Prophet-style model against R's prophet 1.0 on a daily series with a
 * weekly cycle and a slope change (numbers printed by tests/forecast/fixtures/models.R),
 * and its properties: sparse changepoints, seasonal cycles recovered, calendar events
 * learned or applied, huge scales handled.
 */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "fc_test.h"
#include "forecast.h"
#include "log.h"
#include "model.h"

extern const struct fc_model_ops fc_prophet_ops;

static double noise(size_t t)
{
	return (double)((t * 7919) % 101) / 50.0 - 1;
}

/* prophet(df, weekly.seasonality = TRUE, daily/yearly off), 14 days ahead: yhat and the
 * 80 % interval. Prophet's MAP is Stan's L-BFGS, its interval a Monte Carlo quantile of
 * 1000 simulated trends; the point forecast agrees to ~1e-4 here, the interval loosely. */
static void matches_r(void **state)
{
	(void)state;
	static const double yhat[14] = {
	        101.3873358719, 94.0206214684,  97.6674836145,  106.5922529896, 108.0981073630,
	        107.7175657459, 109.5271953565, 104.8982639035, 97.5315495000,  101.1784116460,
	        110.1031810211, 111.6090353946, 111.2284937774, 113.0381233881,
	};
	static const double lo[14] = {
	        100.5728867244, 93.2278294744,  96.9863214669,  105.8865689791, 107.3674650029,
	        106.9696447478, 108.7564837057, 104.2328513580, 96.7815447637,  100.4571086344,
	        109.3501973715, 110.7844977117, 110.5037098728, 112.1982700642,
	};
	static const double hi[14] = {
	        102.1200104837, 94.6933763175,  98.4355588440,  107.3708618964, 108.8230170937,
	        108.4475860039, 110.2670645164, 105.6284682135, 98.3365808968,  101.9461395776,
	        110.9043852237, 112.4342162092, 112.0211441964, 113.7825145393,
	};
	double y[200], mean[14], q[28], lv[2] = {0.1, 0.9};
	unsigned per = 7;
	for (size_t t = 0; t < 200; t++)
		y[t] = 50 + 0.1 * (double)t + (t > 120 ? 0.4 * (double)(t - 120) : 0) +
		       6 * sin(2 * M_PI * (double)t / 7) + 3 * cos(4 * M_PI * (double)t / 7) +
		       noise(t);
	struct fc_fit_in in = {
	        .y = y, .n = 200, .periods = &per, .n_periods = 1, .horizon = 14, .step = 86400};
	void *m = NULL;
	char name[64];

	assert_int_equal(fc_prophet_ops.fit(&in, &m), 0);
	assert_int_equal(fc_prophet_ops.mean(m, 14, mean), 0);
	assert_int_equal(fc_prophet_ops.quantiles(m, 14, lv, 2, q), 0);
	for (size_t s = 0; s < 14; s++) {
		assert_near(mean[s], yhat[s], 0.01);
		assert_near(q[2 * s], lo[s], 0.15);
		assert_near(q[2 * s + 1], hi[s], 0.15);
	}
	/* the L1 prior keeps only a few of the 25 changepoints (R: 3 above 1e-3) */
	fc_prophet_ops.describe(m, name, sizeof(name));
	unsigned active = 0, total = 0;
	assert_int_equal(sscanf(name, "prophet(cp=%u/%u", &active, &total), 2);
	assert_int_equal(total, 25);
	assert_true(active >= 1 && active <= 8);
	fc_prophet_ops.free(m);
}

/* Two weeks of hourly data with daily and weekly cycles (plus a trend): the next two
 * days are forecast within the noise; the engine's cross-validation runs on it. */
static void cycles_recovered(void **state)
{
	(void)state;
	size_t n = 3 * 168, h = 48;
	double *v = malloc(n * sizeof(double));
	static const double lv[] = {0.025, 0.5, 0.975};
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	struct fc_params p;
	struct fc_result *r = NULL;

	assert_non_null(v);
	for (size_t t = 0; t < n; t++)
		v[t] = 500 + 0.2 * (double)t + 40 * sin(2 * M_PI * (double)t / 24) +
		       15 * cos(2 * M_PI * (double)t / 168) + noise(t);
	fc_series_opts_init(&o);
	o.periods[0] = 24;
	o.periods[1] = 168;
	assert_int_equal(fc_series_new(v, n, &o, &s), 0);
	fc_params_init(&p);
	p.horizon = h;
	p.models = "prophet";
	p.quantiles = lv;
	p.n_quantiles = 3;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_true(strncmp(r->model, "prophet(", 8) == 0);
	for (size_t st = 0; st < h; st++) {
		double t = (double)(n + st);
		double truth =
		        500 + 0.2 * t + 40 * sin(2 * M_PI * t / 24) + 15 * cos(2 * M_PI * t / 168);
		assert_near(r->point[st], truth, 2);
		assert_true(r->q[st * 3] <= r->q[st * 3 + 1] &&
		            r->q[st * 3 + 1] <= r->q[st * 3 + 2]);
	}
	assert_int_equal(r->cand[0].status, 0);
	fc_result_free(r);
	fc_series_free(s);
	free(v);
}

/* A named event with three past occurrences adding 50 for 6 hours is learned and applied to
 * its future occurrence; a window with a given multiplier scales the forecast. */
static void events(void **state)
{
	(void)state;
	size_t n = 24 * 14, h = 48;
	double *v = malloc(n * sizeof(double)), mean[48], base[48];
	unsigned per = 24;
	struct fc_window w[5] = {
	        {.start = 24 * 3 + 10, .end = 24 * 3 + 16, .id = 0},
	        {.start = 24 * 7 + 10, .end = 24 * 7 + 16, .id = 0},
	        {.start = 24 * 11 + 10, .end = 24 * 11 + 16, .id = 0},
	        {.start = n + 10, .end = n + 16, .id = 0},                  /* future, learned */
	        {.start = n + 30, .end = n + 34, .id = 1, .multiplier = 2}, /* future, given */
	};
	assert_non_null(v);
	for (size_t t = 0; t < n; t++) {
		v[t] = 100 + 20 * sin(2 * M_PI * (double)t / 24) + 0.5 * noise(t);
		for (size_t i = 0; i < 3; i++)
			if (t >= w[i].start && t < w[i].end)
				v[t] += 50;
	}
	struct fc_fit_in in = {.y = v,
	                       .n = n,
	                       .periods = &per,
	                       .n_periods = 1,
	                       .horizon = h,
	                       .events = w,
	                       .n_events = 5};
	void *m = NULL, *m0 = NULL;
	assert_int_equal(fc_prophet_ops.fit(&in, &m), 0);
	in.n_events = 0;
	for (size_t t = 0; t < n; t++)
		for (size_t i = 0; i < 3; i++)
			if (t >= w[i].start && t < w[i].end)
				v[t] -= 50;
	assert_int_equal(fc_prophet_ops.fit(&in, &m0), 0);
	assert_int_equal(fc_prophet_ops.mean(m, h, mean), 0);
	assert_int_equal(fc_prophet_ops.mean(m0, h, base), 0);
	for (size_t s = 0; s < h; s++) {
		size_t t = n + s;
		double want = base[s];
		if (t >= w[3].start && t < w[3].end)
			want += 50;
		if (t >= w[4].start && t < w[4].end)
			want *= 2;
		assert_near(mean[s], want, 2);
	}
	fc_prophet_ops.free(m);
	fc_prophet_ops.free(m0);
	free(v);
}

/* Traffic counters reach 1e11: the same shape at that scale gives the same forecast
 * scaled; a constant series gives itself. */
static void scale_and_constant(void **state)
{
	(void)state;
	size_t n = 24 * 10;
	double v[240], big[240], a[24], b[24], q[48], lv[2] = {0.05, 0.95};
	unsigned per = 24;
	for (size_t t = 0; t < n; t++) {
		v[t] = 3 + sin(2 * M_PI * (double)t / 24) + 0.1 * noise(t);
		big[t] = 1e11 * v[t];
	}
	struct fc_fit_in in = {.y = v, .n = n, .periods = &per, .n_periods = 1, .horizon = 24};
	void *m = NULL, *mb = NULL;
	assert_int_equal(fc_prophet_ops.fit(&in, &m), 0);
	in.y = big;
	assert_int_equal(fc_prophet_ops.fit(&in, &mb), 0);
	fc_prophet_ops.mean(m, 24, a);
	fc_prophet_ops.mean(mb, 24, b);
	for (size_t s = 0; s < 24; s++)
		assert_rel(b[s], 1e11 * a[s], 1e-6);
	fc_prophet_ops.free(m);
	fc_prophet_ops.free(mb);
	for (size_t t = 0; t < n; t++)
		v[t] = 42;
	in.y = v;
	assert_int_equal(fc_prophet_ops.fit(&in, &m), 0);
	fc_prophet_ops.mean(m, 24, a);
	assert_int_equal(fc_prophet_ops.quantiles(m, 24, lv, 2, q), 0);
	for (size_t s = 0; s < 24; s++) {
		assert_near(a[s], 42, 1e-6);
		assert_true(isfinite(q[2 * s]) && isfinite(q[2 * s + 1]));
		assert_near(q[2 * s], 42, 1e-3);
	}
	fc_prophet_ops.free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(matches_r),
	        cmocka_unit_test(cycles_recovered),
	        cmocka_unit_test(events),
	        cmocka_unit_test(scale_and_constant),
	};
	tlog_set_level(TLOG_ERROR);
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

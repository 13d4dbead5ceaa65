/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_naive: the anchor models (naive, seasonal naive) against R's forecast 8.20 on small
 * inputs, and the properties every forecast must have (exact on periodic data, constant
 * series, non-finite input rejected, quantiles non-decreasing).
 */
#include <stdlib.h>
#include <string.h>

#include "fc_test.h"
#include "forecast.h"
#include "log.h"

static struct fc_series *mk(const double *v, size_t n, unsigned period)
{
	struct fc_series_opts o;
	struct fc_series *s = NULL;

	fc_series_opts_init(&o);
	o.name = "test";
	o.periods[0] = period;
	assert_int_equal(fc_series_new(v, n, &o, &s), 0);
	return s;
}

static struct fc_result *run(const struct fc_series *s, const char *models, size_t h,
                             const double *lv, size_t nl)
{
	struct fc_params p;
	struct fc_result *r = NULL;

	fc_params_init(&p);
	p.horizon = h;
	p.models = models;
	p.quantiles = lv;
	p.n_quantiles = nl;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_non_null(r);
	return r;
}

/* snaive is exact on a strictly periodic series, and its intervals collapse. */
static void snaive_exact_on_periodic(void **state)
{
	(void)state;
	double v[24 * 10];
	for (size_t i = 0; i < 240; i++)
		v[i] = 50 + 20 * sin(2 * M_PI * (double)(i % 24) / 24.0) + (i % 24 == 5 ? 30 : 0);
	struct fc_series *s = mk(v, 240, 24);
	double lv[] = {0.1, 0.5, 0.9};
	struct fc_result *r = run(s, "snaive", 48, lv, 3);
	for (size_t st = 0; st < 48; st++) {
		assert_near(r->point[st], v[(240 + st) % 24], 1e-12);
		for (size_t j = 0; j < 3; j++)
			assert_near(r->q[st * 3 + j], v[(240 + st) % 24], 1e-6);
	}
	assert_string_equal(r->model, "snaive[24]");
	fc_result_free(r);
	fc_series_free(s);
}

/* Model-based intervals (no calibration) equal R's, printed by
 *   Rscript -e 'library(forecast); x <- ts(c(5,7,3,9, 6,8,2,10, 7,9,4,11), frequency = 4);
 *     f <- snaive(x, h = 6, level = 95); print(cbind(f$mean, f$lower, f$upper), digits = 12)'
 * (R 4.2.2, forecast 8.20, Debian 12). */
static void snaive_matches_r(void **state)
{
	(void)state;
	double v[] = {5, 7, 3, 9, 6, 8, 2, 10, 7, 9, 4, 11};
	static const double r_out[6][3] = {
	        {7, 4.70173850956, 9.29826149044},  {9, 6.70173850956, 11.29826149044},
	        {4, 1.70173850956, 6.29826149044},  {11, 8.70173850956, 13.29826149044},
	        {7, 3.74976743034, 10.25023256966}, {9, 5.74976743034, 12.25023256966},
	};
	struct fc_series *s = mk(v, 12, 4);
	struct fc_params p;
	struct fc_result *r = NULL;
	double lv[] = {0.025, 0.975};
	fc_params_init(&p);
	p.horizon = 6;
	p.models = "snaive";
	p.model_intervals = true;
	p.quantiles = lv;
	p.n_quantiles = 2;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	for (size_t st = 0; st < 6; st++) {
		assert_near(r->point[st], r_out[st][0], 1e-12);
		assert_near(r->q[st * 2], r_out[st][1], 1e-9);
		assert_near(r->q[st * 2 + 1], r_out[st][2], 1e-9);
	}
	fc_result_free(r);
	fc_series_free(s);
}

static void constant_series(void **state)
{
	(void)state;
	double v[200];
	for (size_t i = 0; i < 200; i++)
		v[i] = 42;
	struct fc_series *s = mk(v, 200, 24);
	double lv[] = {0.05, 0.5, 0.95};
	struct fc_result *r = run(s, NULL, 24, lv, 3);
	for (size_t st = 0; st < 24; st++) {
		assert_near(r->point[st], 42, 1e-6);
		for (size_t j = 0; j < 3; j++)
			assert_near(r->q[st * 3 + j], 42, 1e-3);
	}
	fc_result_free(r);
	fc_series_free(s);
}

static void rejects_non_finite(void **state)
{
	(void)state;
	double v[50];
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	for (size_t i = 0; i < 50; i++)
		v[i] = (double)i;
	fc_series_opts_init(&o);
	v[10] = NAN;
	assert_int_equal(fc_series_new(v, 50, &o, &s), -EINVAL);
	assert_null(s);
	v[10] = INFINITY;
	o.nan_is_gap = true;
	assert_int_equal(fc_series_new(v, 50, &o, &s), -EINVAL);
	v[10] = -INFINITY;
	assert_int_equal(fc_series_new(v, 50, &o, &s), -EINVAL);
	v[10] = NAN; /* a gap now */
	assert_int_equal(fc_series_new(v, 50, &o, &s), 0);
	assert_int_equal(fc_series_gaps(s), 1);
	assert_near(fc_series_values(s)[10], 10, 1e-12);
	fc_series_free(s);
	fc_series_free(NULL);
	fc_result_free(NULL);
}

static void quantiles_monotone(void **state)
{
	(void)state;
	double v[24 * 20];
	unsigned seed = 7;
	for (size_t i = 0; i < 480; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = 100 + 30 * sin(2 * M_PI * (double)i / 24) + (double)(seed >> 16 & 1023) / 20;
	}
	struct fc_series *s = mk(v, 480, 24);
	double lv[] = {0.99, 0.01, 0.5, 0.25, 0.75, 0.9, 0.1};
	struct fc_result *r = run(s, NULL, 48, lv, 7);
	assert_int_equal(r->n_quantiles, 7);
	for (size_t j = 1; j < 7; j++)
		assert_true(r->levels[j] > r->levels[j - 1]);
	for (size_t st = 0; st < 48; st++)
		for (size_t j = 1; j < 7; j++)
			assert_true(r->q[st * 7 + j] >= r->q[st * 7 + j - 1]);
	fc_result_free(r);
	fc_series_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(snaive_exact_on_periodic), cmocka_unit_test(snaive_matches_r),
	        cmocka_unit_test(constant_series),          cmocka_unit_test(rejects_non_finite),
	        cmocka_unit_test(quantiles_monotone),
	};
	tlog_set_level(TLOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

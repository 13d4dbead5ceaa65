/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_series: building series (gaps filled and counted, timestamped samples bucketed,
 * bad input refused with -EINVAL) and detecting seasonal periods.
 */
#include <stdlib.h>
#include <string.h>

#include "fc_test.h"
#include "forecast.h"
#include "log.h"

/* hourly: daily cycle, plus a weekend dip when weekly is set */
static double traffic(size_t t, bool weekly)
{
	double day = 100 + 40 * sin(2 * M_PI * (double)(t % 24) / 24.0);
	size_t dow = (t / 24) % 7;
	return day * (weekly && dow >= 5 ? 0.6 : 1.0);
}

static void short_gap_linear(void **state)
{
	(void)state;
	double v[100];
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	for (size_t i = 0; i < 100; i++)
		v[i] = 2.0 * (double)i;
	v[40] = v[41] = v[42] = NAN;
	fc_series_opts_init(&o);
	o.nan_is_gap = true;
	o.periods[0] = 24;
	assert_int_equal(fc_series_new(v, 100, &o, &s), 0);
	assert_int_equal(fc_series_gaps(s), 3);
	for (size_t i = 40; i <= 42; i++)
		assert_near(fc_series_values(s)[i], 2.0 * (double)i, 1e-9);
	fc_series_free(s);
}

static void long_gap_seasonal(void **state)
{
	(void)state;
	double v[24 * 14];
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	for (size_t i = 0; i < 24 * 14; i++)
		v[i] = traffic(i, false);
	/* half a day missing on day 5: filled from the day before, not a straight line */
	for (size_t i = 24 * 5 + 3; i < 24 * 5 + 15; i++)
		v[i] = NAN;
	fc_series_opts_init(&o);
	o.nan_is_gap = true;
	o.periods[0] = 24;
	assert_int_equal(fc_series_new(v, 24 * 14, &o, &s), 0);
	assert_int_equal(fc_series_gaps(s), 12);
	for (size_t i = 24 * 5 + 3; i < 24 * 5 + 15; i++)
		assert_near(fc_series_values(s)[i], traffic(i, false), 1e-9);
	fc_series_free(s);
}

static void leading_and_trailing_gaps(void **state)
{
	(void)state;
	double v[24 * 6];
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	for (size_t i = 0; i < 24 * 6; i++)
		v[i] = traffic(i, false);
	for (size_t i = 0; i < 5; i++)
		v[i] = NAN;
	for (size_t i = 24 * 6 - 7; i < 24 * 6; i++)
		v[i] = NAN;
	fc_series_opts_init(&o);
	o.nan_is_gap = true;
	o.periods[0] = 24;
	assert_int_equal(fc_series_new(v, 24 * 6, &o, &s), 0);
	assert_int_equal(fc_series_gaps(s), 12);
	for (size_t i = 0; i < 24 * 6; i++) {
		assert_true(isfinite(fc_series_values(s)[i]));
		assert_near(fc_series_values(s)[i], traffic(i, false), 1e-6);
	}
	fc_series_free(s);
}

static void all_missing_rejected(void **state)
{
	(void)state;
	double v[10];
	struct fc_series_opts o;
	struct fc_series *s = (void *)1;
	for (size_t i = 0; i < 10; i++)
		v[i] = NAN;
	fc_series_opts_init(&o);
	o.nan_is_gap = true;
	assert_int_equal(fc_series_new(v, 10, &o, &s), -EINVAL);
	assert_null(s);
	assert_int_equal(fc_series_new(v, 0, &o, &s), -EINVAL);
	o.periods[0] = 1; /* not a period */
	v[0] = 1;
	assert_int_equal(fc_series_new(v, 10, &o, &s), -EINVAL);
}

static void points_bucketed(void **state)
{
	(void)state;
	/* 5-minute step; samples every 100 s (up to three per bucket, averaged), one bucket with no
	 * sample (a gap), starting mid-bucket */
	int64_t t[64];
	double v[64];
	size_t n = 0;
	int64_t t0 = 1699999800 + 130; /* 1699999800 is a multiple of 300 s */
	for (size_t i = 0; i < 45; i++) {
		int64_t ti = t0 + (int64_t)i * 100;
		if (ti >= 1699999800 + 6 * 300 && ti < 1699999800 + 7 * 300)
			continue; /* bucket 6 missing */
		t[n] = ti;
		v[n] = (double)(ti - 1699999800) / 300.0;
		n++;
	}
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	fc_series_opts_init(&o);
	o.step = 300;
	assert_int_equal(fc_series_from_points(t, v, n, &o, &s), 0);
	assert_int_equal(fc_series_start(s), 1699999800);
	assert_int_equal(fc_series_step(s), 300);
	assert_int_equal(fc_series_gaps(s), 1);
	const double *x = fc_series_values(s);
	/* bucket k holds the mean of (t - t_start) / 300 over its samples */
	assert_near(x[1], (330.0 + 430.0 + 530.0) / 3 / 300.0, 1e-9);
	assert_near(x[6], (x[5] + x[7]) / 2, 1e-9);
	fc_series_free(s);

	/* time going backwards and non-finite samples are refused */
	int64_t tb[3] = {100, 200, 150};
	double vb[3] = {1, 2, 3};
	assert_int_equal(fc_series_from_points(tb, vb, 3, &o, &s), -EINVAL);
	tb[2] = 300;
	vb[1] = INFINITY;
	assert_int_equal(fc_series_from_points(tb, vb, 3, &o, &s), -EINVAL);
	vb[1] = NAN;
	assert_int_equal(fc_series_from_points(tb, vb, 3, &o, &s), -EINVAL);
	o.nan_is_gap = true;
	assert_int_equal(fc_series_from_points(tb, vb, 3, &o, &s), 0);
	fc_series_free(s);
}

static void detects_daily_and_weekly(void **state)
{
	(void)state;
	size_t n = 24 * 7 * 5;
	double *v = malloc(n * sizeof(double));
	unsigned p[FC_MAX_PERIODS];
	unsigned seed = 11;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = traffic(i, true) + (double)(seed >> 16 & 255) / 64.0;
	}
	assert_int_equal(fc_detect_periods(v, n, 3600, p), 2);
	assert_int_equal(p[0], 24);
	assert_int_equal(p[1], 168);
	/* a daily cycle only */
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = traffic(i, false) + (double)(seed >> 16 & 255) / 64.0;
	}
	assert_int_equal(fc_detect_periods(v, n, 3600, p), 1);
	assert_int_equal(p[0], 24);
	/* unknown step: the autocorrelation peak */
	for (size_t i = 0; i < n; i++)
		v[i] = 10 + 3 * sin(2 * M_PI * (double)i / 12.0);
	assert_int_equal(fc_detect_periods(v, n, 7, p), 1);
	assert_int_equal(p[0], 12);
	/* white noise: nothing */
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (double)(seed >> 16 & 1023);
	}
	assert_int_equal(fc_detect_periods(v, n, 3600, p), 0);
	/* fc_series_new detects them when none are given */
	for (size_t i = 0; i < n; i++)
		v[i] = traffic(i, true);
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	fc_series_opts_init(&o);
	assert_int_equal(fc_series_new(v, n, &o, &s), 0);
	assert_int_equal(fc_series_periods(s, p), 2);
	assert_int_equal(p[1], 168);
	fc_series_free(s);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(short_gap_linear),
	        cmocka_unit_test(long_gap_seasonal),
	        cmocka_unit_test(leading_and_trailing_gaps),
	        cmocka_unit_test(all_missing_rejected),
	        cmocka_unit_test(points_bucketed),
	        cmocka_unit_test(detects_daily_and_weekly),
	};
	tlog_set_level(TLOG_ERROR + (getenv("FC_TEST_VERBOSE") ? 3 : 0));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

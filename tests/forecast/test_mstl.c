/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mstl: STL (plain and robust) and MSTL against R's stats::stl and forecast::mstl
 * (numbers printed by tests/forecast/fixtures/models.R), and the mstl model's properties:
 * two seasonal cycles recovered, finite monotone quantiles, one period is not enough.
 */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "fc_test.h"
#include "forecast.h"
#include "log.h"
#include "mstl.h"

#define N 504

static double noise(size_t t)
{
	return (double)((t * 7919) % 101) / 50.0 - 1;
}

/* Three weeks of hourly data with a trend, a daily and a weekly cycle, and a weekend step. */
static void series(double *x)
{
	for (size_t t = 0; t < N; t++)
		x[t] = 100 + 0.05 * (double)t + 10 * sin(2 * M_PI * (double)t / 24) +
		       5 * cos(2 * M_PI * (double)t / 168) + 3 * ((t % 168) > 120) + noise(t);
}

static const size_t idx[8] = {0, 1, 12, 99, 249, 399, 502, 503};

/* stl(ts(x, frequency = 24), s.window = 11): seasonal and trend at idx. */
static void stl_matches_r(void **state)
{
	(void)state;
	static const double r[8][2] = {
	        {-0.2753666667740, 105.182315752}, {2.6096044885135, 105.155459543},
	        {0.0895222933209, 104.822698133},  {7.2670080446044, 100.890432392},
	        {7.0523049322172, 107.710436189},  {-6.9801560335680, 116.575060263},
	        {-5.2762512188151, 133.595330010}, {-2.6925331114682, 133.754743627},
	};
	double x[N], s[N], tr[N];
	struct fc_stl_params p;

	series(x);
	fc_stl_params_init(&p, 24, 11, false);
	assert_int_equal(p.t_window, 43);
	assert_int_equal(p.l_window, 25);
	assert_int_equal(p.t_jump, 5);
	assert_int_equal(fc_stl(x, N, &p, s, tr), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_near(s[idx[i]], r[i][0], 1e-9);
		assert_near(tr[idx[i]], r[i][1], 1e-9);
	}
	assert_int_equal(fc_stl(x, 48, &p, s, tr), -EDOM);
}

/* The same with two outliers (+40 at t = 49 and 299) and robust = TRUE. */
static void robust_stl_matches_r(void **state)
{
	(void)state;
	static const double r[8][2] = {
	        {-0.234195415908, 105.182557797}, {2.496599022061, 105.154901529},
	        {0.142022808934, 104.813822884},  {7.165932064805, 100.921823643},
	        {7.110933575949, 107.743102152},  {-7.005088405160, 116.587584897},
	        {-5.307640133556, 133.642667859}, {-2.868403099998, 133.805859378},
	};
	double x[N], s[N], tr[N];
	struct fc_stl_params p;

	series(x);
	x[49] += 40;
	x[299] += 40;
	fc_stl_params_init(&p, 24, 11, true);
	assert_int_equal(p.outer, 15);
	assert_int_equal(fc_stl(x, N, &p, s, tr), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_near(s[idx[i]], r[i][0], 1e-8);
		assert_near(tr[idx[i]], r[i][1], 1e-8);
	}
}

/* mstl(msts(x, seasonal.periods = c(24, 168))): trend, daily and weekly components. */
static void mstl_matches_r(void **state)
{
	(void)state;
	static const double r[8][3] = {
	        {101.360069634, -0.2958721226488, 2.92438440805},
	        {101.405021384, 2.6018470211110, 3.52214945574},
	        {101.899490628, 0.0642729992084, 2.85145075983},
	        {105.898206025, 7.3327778840932, -5.26216485682},
	        {113.289272664, 7.0756546560360, -5.98071079546},
	        {120.696442725, -7.0129767868015, -3.93237286395},
	        {125.418702892, -5.1893819080390, 8.30938387196},
	        {125.463369170, -2.5438604026061, 8.36486167049},
	};
	double x[N], seas[2 * N], tr[N];
	unsigned per[2] = {24, 168};

	series(x);
	assert_int_equal(fc_mstl(x, N, per, 2, 2, false, seas, tr), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_near(tr[idx[i]], r[i][0], 1e-8);
		assert_near(seas[idx[i]], r[i][1], 1e-8);
		assert_near(seas[N + idx[i]], r[i][2], 1e-8);
	}
}

static struct fc_series *mk(const double *v, size_t n, unsigned p1, unsigned p2)
{
	struct fc_series_opts o;
	struct fc_series *s = NULL;

	fc_series_opts_init(&o);
	o.name = "mstl-test";
	o.periods[0] = p1;
	o.periods[1] = p2;
	assert_int_equal(fc_series_new(v, n, &o, &s), 0);
	return s;
}

/* Four weeks with daily and weekly cycles: the forecast of the next two days follows both
 * cycles; the model intervals are finite, ordered and widen with the horizon. */
static void two_cycles_recovered(void **state)
{
	(void)state;
	size_t n = 4 * 168, h = 48;
	double *v = malloc(n * sizeof(double));
	static const double lv[] = {0.025, 0.5, 0.975};
	assert_non_null(v);
	for (size_t t = 0; t < n; t++)
		v[t] = 200 + 30 * sin(2 * M_PI * (double)t / 24) +
		       20 * ((t % 168) >= 120 ? -1 : 0.4) + 0.5 * noise(t);
	struct fc_series *s = mk(v, n, 24, 168);
	struct fc_params p;
	struct fc_result *r = NULL;
	fc_params_init(&p);
	p.horizon = h;
	p.models = "mstl";
	p.quantiles = lv;
	p.n_quantiles = 3;
	p.model_intervals = true;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_true(strncmp(r->model, "mstl[24,168]+arima", 18) == 0);
	double err = 0;
	for (size_t st = 0; st < h; st++) {
		size_t t = n + st;
		double truth = 200 + 30 * sin(2 * M_PI * (double)t / 24) +
		               20 * ((t % 168) >= 120 ? -1 : 0.4);
		err = fmax(err, fabs(r->point[st] - truth));
		assert_true(isfinite(r->q[st * 3]) && isfinite(r->q[st * 3 + 2]));
		assert_true(r->q[st * 3] <= r->q[st * 3 + 1] &&
		            r->q[st * 3 + 1] <= r->q[st * 3 + 2]);
	}
	assert_true(err < 3);
	assert_true(r->q[(h - 1) * 3 + 2] - r->q[(h - 1) * 3] >= r->q[2] - r->q[0]);
	fc_result_free(r);
	/* cross-validated and calibrated as a candidate of its own */
	p.model_intervals = false;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_int_equal(r->cand[0].status, 0);
	assert_true(r->cand[0].cv_mase < 1);
	fc_result_free(r);
	fc_series_free(s);
	free(v);
}

/* mstl needs two seasonal periods that fit the data. */
static void needs_two_periods(void **state)
{
	(void)state;
	double v[300];
	for (size_t t = 0; t < 300; t++)
		v[t] = 10 + sin((double)t);
	struct fc_series *s = mk(v, 300, 24, 0);
	struct fc_params p;
	struct fc_result *r = NULL;
	fc_params_init(&p);
	p.models = "mstl";
	assert_int_equal(fc_forecast(s, &p, &r), -EDOM);
	assert_null(r);
	fc_series_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(stl_matches_r),     cmocka_unit_test(robust_stl_matches_r),
	        cmocka_unit_test(mstl_matches_r),    cmocka_unit_test(two_cycles_recovered),
	        cmocka_unit_test(needs_two_periods),
	};
	tlog_set_level(TLOG_ERROR);
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

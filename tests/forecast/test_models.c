/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_models: ETS and Theta against R's forecast package on the same small inputs
 * (fixtures/r_reference.h, produced by fixtures/make_fixtures.R), and the accuracy
 * measures against the M4 definitions computed in R.
 */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "fc_test.h"
#include "fixtures/r_reference.h"
#include "forecast.h"
#include "log.h"
#include "model.h"

#define H    8
#define N(a) (sizeof(a) / sizeof((a)[0]))

extern const struct fc_model_ops fc_ets_ops;
extern const struct fc_model_ops fc_theta_ops;

/* Mean and 95 % interval of model m against R's for H steps (intervals for the first
 * pi_steps only). */
static void check(const char *what, const struct fc_model_ops *ops, const void *m,
                  const double *mean, const double *lo, const double *hi, double tol_mean,
                  double tol_pi, size_t pi_steps)
{
	double f[H], q[2 * H], lv[2] = {0.025, 0.975};

	assert_int_equal(ops->mean(m, H, f), 0);
	assert_int_equal(ops->quantiles(m, H, lv, 2, q), 0);
	for (size_t s = 0; s < H; s++) {
		if (getenv("FC_TEST_VERBOSE"))
			printf("%s step %zu: mean %.6f (R %.6f)  lo %.6f (R %.6f)  hi %.6f (R "
			       "%.6f)\n",
			       what, s + 1, f[s], mean[s], q[2 * s], lo[s], q[2 * s + 1], hi[s]);
		assert_near(f[s], mean[s], tol_mean);
		if (s >= pi_steps)
			continue;
		assert_near(q[2 * s], lo[s], tol_pi);
		assert_near(q[2 * s + 1], hi[s], tol_pi);
	}
}

/* One ETS form against R:
 *  - the recursions: run with R's smoothing parameters and initial states, the sum of
 *    squared errors, the forecasts and the intervals are R's (to rounding);
 *  - the estimation: the fit is at least as likely as R's (R's Nelder-Mead over parameters
 *    and initial states sometimes stops early; ours searches the parameters and solves the
 *    initial states exactly), and its forecasts are within tol of R's. */
static void ets_form(const char *form, const double *y, size_t n, unsigned period, double r_sse,
                     const double *par, const double *x0, const double *mean, const double *lo,
                     const double *hi, double tol, size_t pi_steps)
{
	struct fc_fit_in in = {.y = y,
	                       .n = n,
	                       .periods = &period,
	                       .n_periods = period > 1,
	                       .horizon = H,
	                       .step = 3600};
	void *m = NULL;

	assert_int_equal(fc_ets_from(form, period, par, x0, y, n, &m), 0);
	assert_rel(fc_ets_sse(m), r_sse, 1e-8);
	check(form, &fc_ets_ops, m, mean, lo, hi, 1e-7 * fabs(mean[0]), 1e-7 * fabs(mean[0]),
	      pi_steps);
	fc_ets_ops.free(m);

	assert_int_equal(fc_ets_fit_form(&in, form, &m), 0);
	if (getenv("FC_TEST_VERBOSE"))
		printf("%s: sse %.6f (R %.6f)\n", form, fc_ets_sse(m), r_sse);
	assert_true(fc_ets_sse(m) <= r_sse * (1 + 1e-4));
	double f[H];
	assert_int_equal(fc_ets_ops.mean(m, H, f), 0);
	for (size_t s = 0; s < H; s++)
		assert_near(f[s], mean[s], tol * fabs(mean[s]));
	fc_ets_ops.free(m);
}

static void ets_ann(void **state)
{
	(void)state;
	ets_form("ANN", r_y1, N(r_y1), 1, r_ets_ann_sse, r_ets_ann_par, r_ets_ann_x0,
	         r_ets_ann_mean, r_ets_ann_lo95, r_ets_ann_hi95, 1e-4, H);
}

static void ets_aan(void **state)
{
	(void)state;
	ets_form("AAN", r_y1, N(r_y1), 1, r_ets_aan_sse, r_ets_aan_par, r_ets_aan_x0,
	         r_ets_aan_mean, r_ets_aan_lo95, r_ets_aan_hi95, 1e-3, H);
}

static void ets_adn(void **state)
{
	(void)state;
	ets_form("ADN", r_y1, N(r_y1), 1, r_ets_adn_sse, r_ets_adn_par, r_ets_adn_x0,
	         r_ets_adn_mean, r_ets_adn_lo95, r_ets_adn_hi95, 1e-3, H);
}

/* R's forecast 8.20 puts gamma into the second seasonal state of its variance recursion
 * when there is no trend (class1: G[3, 1] <- gamma whatever the trend), so its intervals
 * differ from step m on; the first m - 1 agree. */
static void ets_ana(void **state)
{
	(void)state;
	ets_form("ANA", r_y2, N(r_y2), 4, r_ets_ana_sse, r_ets_ana_par, r_ets_ana_x0,
	         r_ets_ana_mean, r_ets_ana_lo95, r_ets_ana_hi95, 0.02, 3);
}

static void ets_aaa(void **state)
{
	(void)state;
	ets_form("AAA", r_y2, N(r_y2), 4, r_ets_aaa_sse, r_ets_aaa_par, r_ets_aaa_x0,
	         r_ets_aaa_mean, r_ets_aaa_lo95, r_ets_aaa_hi95, 0.005, H);
}

static void theta(const char *what, const double *y, size_t n, unsigned period, const double *mean,
                  const double *lo, const double *hi)
{
	struct fc_fit_in in = {.y = y,
	                       .n = n,
	                       .periods = &period,
	                       .n_periods = period > 1,
	                       .horizon = H,
	                       .step = 3600};
	void *m = NULL;

	assert_int_equal(fc_theta_ops.fit(&in, &m), 0);
	check(what, &fc_theta_ops, m, mean, lo, hi, 1e-5 * fabs(mean[0]), 1e-4 * fabs(mean[0]), H);
	fc_theta_ops.free(m);
}

static void theta_plain(void **state)
{
	(void)state;
	theta("theta y1", r_y1, N(r_y1), 1, r_theta_y1_mean, r_theta_y1_lo95, r_theta_y1_hi95);
}

static void theta_seasonal(void **state)
{
	(void)state;
	theta("theta y3", r_y3, N(r_y3), 12, r_theta_y3_mean, r_theta_y3_lo95, r_theta_y3_hi95);
}

static void accuracy(void **state)
{
	(void)state;
	double f[8], lo[8], hi[8];
	for (size_t i = 0; i < 8; i++) {
		f[i] = r_y1[71];
		lo[i] = f[i] - 2;
		hi[i] = f[i] + 2;
	}
	double scale = fc_mase_scale(r_y1, 72, 1);
	assert_near(fc_smape(r_y1 + 72, f, 8), r_acc_smape, 1e-9);
	assert_near(fc_mase(r_y1 + 72, f, 8, scale), r_acc_mase, 1e-9);
	assert_near(fc_msis(r_y1 + 72, lo, hi, 8, 0.05, scale), r_acc_msis, 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(ets_ann),        cmocka_unit_test(ets_aan),
	        cmocka_unit_test(ets_adn),        cmocka_unit_test(ets_ana),
	        cmocka_unit_test(ets_aaa),        cmocka_unit_test(theta_plain),
	        cmocka_unit_test(theta_seasonal), cmocka_unit_test(accuracy),
	};
	tlog_set_level(TLOG_ERROR);
	gsl_set_error_handler_off(); /* as fc_forecast() does before any model runs */
	return cmocka_run_group_tests(tests, NULL, NULL);
}

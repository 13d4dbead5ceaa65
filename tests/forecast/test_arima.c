/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_arima: the ARIMA model against R (stats::arima, forecast::auto.arima 8.20, urca's
 * KPSS; numbers printed by tests/forecast/fixtures/models.R), the fast Kalman recursions
 * against a plain Riccati filter, and the properties the engine relies on (finite output,
 * spread growing with the horizon, seasonal series recovered, scale of 1e11 handled).
 */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "arima.h"
#include "fc_test.h"
#include "forecast.h"
#include "log.h"
#include "model.h"

extern const struct fc_model_ops fc_arima_ops;

static const double air_passengers[144] = {
        112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149,
        170, 170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
        171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243,
        264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
        242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374,
        413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
        340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472,
        548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
};

static const double www_usage[100] = {
        88,  84,  85,  85,  84,  85,  83,  85,  88,  89,  91,  99,  104, 112, 126, 138, 146,
        151, 150, 148, 147, 149, 143, 132, 131, 139, 147, 150, 148, 145, 140, 134, 131, 131,
        129, 126, 126, 132, 137, 140, 142, 150, 159, 167, 170, 171, 172, 172, 174, 175, 172,
        172, 174, 174, 169, 165, 156, 142, 131, 121, 112, 104, 102, 99,  99,  95,  88,  84,
        84,  87,  89,  88,  85,  86,  89,  91,  91,  94,  101, 110, 121, 135, 145, 149, 156,
        165, 171, 175, 177, 182, 193, 204, 208, 210, 215, 222, 228, 226, 222, 220,
};

static const double lh[48] = {
        2.4, 2.4, 2.4, 2.2, 2.1, 1.5, 2.3, 2.3, 2.5, 2.0, 1.9, 1.7, 2.2, 1.8, 3.2, 3.2,
        2.7, 2.2, 2.2, 1.9, 1.9, 1.8, 2.7, 3.0, 2.3, 2.0, 2.0, 2.9, 2.9, 2.7, 2.7, 2.3,
        2.6, 2.4, 1.8, 1.7, 1.5, 1.4, 2.1, 3.3, 3.5, 3.5, 3.1, 2.6, 2.1, 3.4, 3.0, 2.9,
};

static const double us_acc_deaths[72] = {
        9007, 8106, 8928, 9137, 10017, 10826, 11317, 10744, 9713, 9938, 9161, 8927,
        7750, 6981, 8038, 8422, 8714,  9512,  10120, 9823,  8743, 9129, 8710, 8680,
        8162, 7306, 8124, 7870, 9387,  9556,  10093, 9620,  8285, 8466, 8160, 8034,
        7717, 7461, 7767, 7925, 8623,  8945,  10078, 9179,  8037, 8488, 7874, 8647,
        7792, 6957, 7726, 8106, 8890,  9299,  10625, 9302,  8314, 8850, 8265, 8796,
        7836, 6892, 7791, 8192, 9115,  9434,  10484, 9827,  9110, 9070, 8633, 9240,
};

/* The deterministic "noise" of fixtures/models.R. */
static double noise(size_t t)
{
	return (double)((t * 7919) % 101) / 50.0 - 1;
}

static void arma_series(double *y, size_t n)
{
	y[0] = 10 + noise(0);
	for (size_t t = 1; t < n; t++)
		y[t] = 10 + 0.6 * (y[t - 1] - 10) + noise(t) - 0.3 * noise(t - 1);
}

/* arima(y, order = c(1, 0, 1)) and the same with method = "CSS". The likelihood is flat
 * along a ridge here (the maximum found lies 7e-6 above R's, 1e-3 away in ar1), so the
 * coefficients are compared to 2e-3 and the log-likelihood to 1e-5. */
static void arma11_matches_r(void **state)
{
	(void)state;
	double y[200], c[8];
	struct arima_fit f;
	struct arima_order o = {.p = 1, .q = 1, .constant = true};

	arma_series(y, 200);
	assert_int_equal(arima_fit_order(y, 200, &o, false, &f), 0);
	assert_int_equal(arima_coef_data_scale(&f, c), 3);
	assert_near(c[0], -0.3068974962903, 2e-3);
	assert_near(c[1], 0.0652390744869, 2e-3);
	assert_near(c[2], 10.0010493505272, 1e-5);
	assert_near(f.loglik, -150.631450561, 1e-5);
	assert_rel(f.sigma2 * f.wsd * f.wsd, 0.263981502343, 1e-4);
	assert_int_equal(arima_fit_order(y, 200, &o, true, &f), 0);
	arima_coef_data_scale(&f, c);
	assert_near(c[0], -0.1454132543731, 2e-3);
	assert_near(c[1], -0.0998503885922, 2e-3);
	assert_near(c[2], 10.0046730311275, 1e-4);
	assert_rel(f.sigma2 * f.wsd * f.wsd, 0.260472024807, 1e-4);
}

/* The airline model on log(AirPassengers). R's likelihood uses a large diffuse prior for
 * the differencing states; the exact likelihood of the differences differs by ~3e-3. */
static void airline_matches_r(void **state)
{
	(void)state;
	double y[144], c[8];
	struct arima_fit f;
	struct arima_order o = {.d = 1, .q = 1, .D = 1, .Q = 1, .m = 12};

	for (size_t t = 0; t < 144; t++)
		y[t] = log(air_passengers[t]);
	assert_int_equal(arima_fit_order(y, 144, &o, false, &f), 0);
	assert_int_equal(arima_coef_data_scale(&f, c), 2);
	assert_near(c[0], -0.401828016756, 2e-4);
	assert_near(c[1], -0.556944838448, 2e-4);
	assert_near(f.loglik, 244.699530597, 0.01);
}

/* The Kalman filter of arima_kf.c (rank-one covariance recursions started from the
 * stationary covariance built from autocovariances) against the textbook Riccati filter
 * started from P0 = T P0 T' + R R' solved by iteration. */
static void fast_filter_equals_riccati(void **state)
{
	(void)state;
	struct arima_order o = {.p = 1, .q = 1, .P = 1, .Q = 1, .m = 4};
	double coef[4] = {0.5, -0.3, 0.4, 0.6};
	double ar[16], ma[16], x[300];
	size_t np, nq;

	arima_expand(&o, coef, ar, &np, ma, &nq);
	assert_int_equal(np, 5);
	assert_int_equal(nq, 5);
	assert_near(ar[4], -0.2, 1e-15); /* -phi Phi at lag 5 */
	assert_near(ma[4], -0.18, 1e-15);
	for (size_t t = 0; t < 300; t++)
		x[t] = noise(t) + 0.5 * sin((double)t);
	double ssq, sumlog;
	assert_int_equal(arima_kalman(ar, np, ma, nq, x, 300, &ssq, &sumlog, NULL), 0);

	size_t r = 6;
	double T[36] = {0}, R[6], P[36] = {0}, P2[36], a[6] = {0}, tmp[36];
	for (size_t i = 0; i < r; i++) {
		T[i * r] = i < np ? ar[i] : 0;
		if (i + 1 < r)
			T[i * r + i + 1] = 1;
		R[i] = i == 0 ? 1 : (i <= nq ? ma[i - 1] : 0);
	}
	for (int it = 0; it < 3000; it++) { /* P <- T P T' + R R' */
		for (size_t i = 0; i < r; i++)
			for (size_t j = 0; j < r; j++) {
				double s = 0;
				for (size_t k = 0; k < r; k++)
					s += T[i * r + k] * P[k * r + j];
				tmp[i * r + j] = s;
			}
		for (size_t i = 0; i < r; i++)
			for (size_t j = 0; j < r; j++) {
				double s = R[i] * R[j];
				for (size_t k = 0; k < r; k++)
					s += tmp[i * r + k] * T[j * r + k];
				P2[i * r + j] = s;
			}
		memcpy(P, P2, sizeof(P));
	}
	double s2 = 0, sl2 = 0;
	for (size_t t = 0; t < 300; t++) {
		double F = P[0], v = x[t] - a[0];
		s2 += v * v / F;
		sl2 += log(F);
		double au[6], Pu[36];
		for (size_t i = 0; i < r; i++)
			au[i] = a[i] + P[i * r] * v / F;
		for (size_t i = 0; i < r; i++)
			for (size_t j = 0; j < r; j++)
				Pu[i * r + j] = P[i * r + j] - P[i * r] * P[j * r] / F;
		for (size_t i = 0; i < r; i++) {
			double s = 0;
			for (size_t k = 0; k < r; k++)
				s += T[i * r + k] * au[k];
			a[i] = s;
		}
		for (size_t i = 0; i < r; i++)
			for (size_t j = 0; j < r; j++) {
				double s = 0;
				for (size_t k = 0; k < r; k++)
					s += T[i * r + k] * Pu[k * r + j];
				tmp[i * r + j] = s;
			}
		for (size_t i = 0; i < r; i++)
			for (size_t j = 0; j < r; j++) {
				double s = R[i] * R[j];
				for (size_t k = 0; k < r; k++)
					s += tmp[i * r + k] * T[j * r + k];
				P[i * r + j] = s;
			}
	}
	assert_rel(ssq, s2, 1e-9);
	assert_near(sumlog, sl2, 1e-8);
}

static void order_is(const struct arima_fit *f, unsigned p, unsigned d, unsigned q, unsigned P,
                     unsigned D, unsigned Q, bool c)
{
	if (f->o.p != p || f->o.d != d || f->o.q != q || f->o.P != P || f->o.D != D ||
	    f->o.Q != Q || f->o.constant != c)
		fail_msg("got (%u,%u,%u)(%u,%u,%u) constant %d, expected (%u,%u,%u)(%u,%u,%u) %d",
		         f->o.p, f->o.d, f->o.q, f->o.P, f->o.D, f->o.Q, f->o.constant, p, d, q, P,
		         D, Q, c);
}

/* auto.arima's choices: WWWusage ARIMA(1,1,1), lh ARIMA(1,0,0) with mean, USAccDeaths
 * ARIMA(0,1,1)(0,1,1)[12]. */
static void auto_orders_match_r(void **state)
{
	(void)state;
	struct arima_fit f;

	assert_int_equal(arima_auto(www_usage, 100, 1, NULL, &f), 0);
	order_is(&f, 1, 1, 1, 0, 0, 0, false);
	assert_int_equal(arima_auto(lh, 48, 1, NULL, &f), 0);
	order_is(&f, 1, 0, 0, 0, 0, 0, true);
	assert_int_equal(arima_auto(us_acc_deaths, 72, 12, NULL, &f), 0);
	order_is(&f, 0, 1, 1, 0, 1, 1, false);
}

/* forecast(auto.arima(USAccDeaths), h = 6, level = 95) through the plugin. */
static void forecast_matches_r(void **state)
{
	(void)state;
	static const double r[6][3] = {
	        {8336.06126630, 7706.95692023, 8965.16561237},
	        {7531.82914119, 6807.87992088, 8255.77836149},
	        {8314.64376019, 7506.91071724, 9122.37680313},
	        {8616.86875619, 7733.26088869, 9500.47662369},
	        {9488.91252224, 8535.44880607, 10442.37623840},
	        {9859.75735985, 8841.21759516, 10878.29712454},
	};
	unsigned per = 12;
	struct fc_fit_in in = {
	        .y = us_acc_deaths, .n = 72, .periods = &per, .n_periods = 1, .horizon = 6};
	void *m = NULL;
	double mean[6], q[12], lv[2] = {0.025, 0.975};
	char name[64];

	assert_int_equal(fc_arima_ops.fit(&in, &m), 0);
	fc_arima_ops.describe(m, name, sizeof(name));
	assert_string_equal(name, "arima(0,1,1)(0,1,1)[12]");
	assert_int_equal(fc_arima_ops.mean(m, 6, mean), 0);
	assert_int_equal(fc_arima_ops.quantiles(m, 6, lv, 2, q), 0);
	for (size_t s = 0; s < 6; s++) {
		assert_rel(mean[s], r[s][0], 2e-5);
		assert_rel(q[2 * s], r[s][1], 3e-4);
		assert_rel(q[2 * s + 1], r[s][2], 3e-4);
	}
	fc_arima_ops.free(m);
}

/* urca::ur.kpss(x, type = "mu", use.lag = trunc(3 sqrt(n) / 13)) and forecast's
 * ndiffs / nsdiffs. */
static void unit_root_tests_match_r(void **state)
{
	(void)state;
	double w[120];

	assert_near(arima_kpss(www_usage, 100), 0.721974318082, 1e-10);
	assert_near(arima_kpss(lh, 48), 0.367889110815, 1e-10);
	assert_int_equal(arima_ndiffs(www_usage, 100, 2), 1);
	assert_int_equal(arima_ndiffs(lh, 48, 2), 0);
	assert_int_equal(arima_nsdiffs(us_acc_deaths, 72, 12), 1);
	for (size_t t = 0; t < 120; t++)
		w[t] = noise(t);
	assert_int_equal(arima_nsdiffs(w, 120, 12), 0);
}

static double reparam_roundtrip(const double *c, size_t p)
{
	double raw[ARIMA_MAX_PQ], back[ARIMA_MAX_PQ], err = 0;

	if (arima_invpartrans(c, p, raw) < 0)
		return INFINITY;
	arima_partrans(raw, p, back);
	for (size_t i = 0; i < p; i++)
		err = fmax(err, fabs(back[i] - c[i]));
	return err;
}

static void reparameterisation(void **state)
{
	(void)state;
	double c[3] = {1.2, -0.5, 0.1}, raw[3];

	assert_true(arima_min_root(c, 3) > 1);
	assert_true(reparam_roundtrip(c, 3) < 1e-12);
	double bad[1] = {1.2};
	assert_int_equal(arima_invpartrans(bad, 1, raw), -EDOM);
	assert_true(arima_min_root(bad, 1) < 1);
	/* any raw vector maps into the stationary region */
	double r2[3] = {5, -7, 3}, c2[3];
	arima_partrans(r2, 3, c2);
	assert_true(arima_min_root(c2, 3) > 1);
}

static struct fc_series *mk(const double *v, size_t n, unsigned period)
{
	struct fc_series_opts o;
	struct fc_series *s = NULL;

	fc_series_opts_init(&o);
	o.name = "arima-test";
	o.periods[0] = period;
	assert_int_equal(fc_series_new(v, n, &o, &s), 0);
	return s;
}

static struct fc_result *run(const struct fc_series *s, size_t h, bool model_intervals)
{
	struct fc_params p;
	struct fc_result *r = NULL;
	static const double lv[] = {0.025, 0.5, 0.975};

	fc_params_init(&p);
	p.horizon = h;
	p.models = "arima";
	p.quantiles = lv;
	p.n_quantiles = 3;
	p.model_intervals = model_intervals;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_non_null(r);
	return r;
}

/* A daily cycle with noise: the forecast follows the cycle, the intervals are finite and
 * widen with the horizon, and the same series scaled to 1e11 gives the same forecast
 * scaled (the optimisers work on normalised data). */
static void seasonal_recovered_and_scale_free(void **state)
{
	(void)state;
	size_t n = 24 * 20, h = 48;
	double *v = malloc(n * sizeof(double)), *big = malloc(n * sizeof(double));
	assert_non_null(v);
	assert_non_null(big);
	for (size_t t = 0; t < n; t++) {
		v[t] = 100 + 20 * sin(2 * M_PI * (double)t / 24) + 2 * noise(t);
		big[t] = v[t] * 1e9;
	}
	struct fc_series *s = mk(v, n, 24), *sb = mk(big, n, 24);
	struct fc_result *r = run(s, h, true), *rb = run(sb, h, true);
	assert_memory_equal(r->model, rb->model, 16);
	for (size_t st = 0; st < h; st++) {
		double truth = 100 + 20 * sin(2 * M_PI * (double)(n + st) / 24);
		assert_near(r->point[st], truth, 4);
		assert_rel(rb->point[st], 1e9 * r->point[st], 1e-6);
		for (size_t j = 0; j < 3; j++)
			assert_true(isfinite(r->q[st * 3 + j]));
		assert_true(r->q[st * 3] <= r->point[st] && r->point[st] <= r->q[st * 3 + 2]);
	}
	assert_true(r->q[(h - 1) * 3 + 2] - r->q[(h - 1) * 3] >= r->q[2] - r->q[0]);
	fc_result_free(r);
	fc_result_free(rb);
	fc_series_free(s);
	fc_series_free(sb);
	free(v);
	free(big);
}

/* A random walk: differenced once, its interval widens like sqrt(h). Also runs the
 * engine's cross-validation (reruns of the fitted model at earlier origins). */
static void random_walk_spread_grows(void **state)
{
	(void)state;
	size_t n = 400, h = 24;
	double v[400], acc = 50;
	for (size_t t = 0; t < n; t++) {
		acc += noise(t * 3 + 1);
		v[t] = acc;
	}
	struct fc_series *s = mk(v, n, 0);
	struct fc_result *r = run(s, h, true);
	double w1 = r->q[2] - r->q[0], w24 = r->q[(h - 1) * 3 + 2] - r->q[(h - 1) * 3];
	assert_true(w24 > 3 * w1);
	fc_result_free(r);
	r = run(s, h, false); /* calibrated on the cross-validation errors */
	assert_true(r->calibrated);
	for (size_t st = 0; st < h; st++)
		assert_true(isfinite(r->point[st]) && r->q[st * 3] <= r->q[st * 3 + 2]);
	assert_string_equal(r->cand[0].family, "arima");
	assert_int_equal(r->cand[0].status, 0);
	fc_result_free(r);
	fc_series_free(s);
}

/* Constant and linear series: the differences are constant, the forecast exact. */
static void deterministic_series(void **state)
{
	(void)state;
	double c[100], l[100];
	for (size_t t = 0; t < 100; t++) {
		c[t] = 7.5;
		l[t] = 3 + 0.5 * (double)t;
	}
	struct fc_series *sc = mk(c, 100, 0), *sl = mk(l, 100, 0);
	struct fc_result *rc = run(sc, 10, true), *rl = run(sl, 10, true);
	for (size_t st = 0; st < 10; st++) {
		assert_near(rc->point[st], 7.5, 1e-9);
		assert_near(rl->point[st], 3 + 0.5 * (double)(100 + st), 1e-9);
		assert_near(rl->q[st * 3 + 2], rl->q[st * 3], 1e-6);
	}
	fc_result_free(rc);
	fc_result_free(rl);
	fc_series_free(sc);
	fc_series_free(sl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(arma11_matches_r),
	        cmocka_unit_test(airline_matches_r),
	        cmocka_unit_test(fast_filter_equals_riccati),
	        cmocka_unit_test(auto_orders_match_r),
	        cmocka_unit_test(forecast_matches_r),
	        cmocka_unit_test(unit_root_tests_match_r),
	        cmocka_unit_test(reparameterisation),
	        cmocka_unit_test(seasonal_recovered_and_scale_free),
	        cmocka_unit_test(random_walk_spread_grows),
	        cmocka_unit_test(deterministic_series),
	};
	tlog_set_level(TLOG_ERROR);
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

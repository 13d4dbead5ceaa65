/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_engine: fc_forecast as the daemon uses it: parameter checks, the report of the
 * choice (scores of every candidate), calibrated interval width, the 72 h limit, short
 * series, calendar events (given and learned multipliers), determinism.
 */
#include <stdlib.h>
#include <string.h>

#include "fc_test.h"
#include "forecast.h"
#include "log.h"

#define T0 1704067200 /* 2024-01-01T00:00:00Z, a Monday */

static unsigned rng = 12345;

static double gauss(void)
{
	double u1, u2;

	rng = rng * 1103515245u + 12345u;
	u1 = ((rng >> 8) + 1.0) / 16777217.0;
	rng = rng * 1103515245u + 12345u;
	u2 = ((rng >> 8) + 1.0) / 16777217.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double pattern(size_t t)
{
	return 200 + 50 * sin(2 * M_PI * (double)(t % 24) / 24.0);
}

static struct fc_series *noisy(size_t n, double sd, unsigned period)
{
	double *v = malloc(n * sizeof(double));
	struct fc_series_opts o;
	struct fc_series *s = NULL;

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = pattern(i) + sd * gauss();
	fc_series_opts_init(&o);
	o.name = "noisy";
	o.start = T0;
	o.step = 3600;
	o.periods[0] = period;
	assert_int_equal(fc_series_new(v, n, &o, &s), 0);
	free(v);
	return s;
}

static void bad_params(void **state)
{
	(void)state;
	struct fc_series *s = noisy(24 * 10, 1, 24);
	struct fc_params p;
	struct fc_result *r = (void *)1;
	double bad_q[] = {0.5, 1.0};

	fc_params_init(&p);
	p.models = "snaive,nosuchmodel";
	assert_int_equal(fc_forecast(s, &p, &r), -EINVAL);
	assert_null(r);
	fc_params_init(&p);
	p.quantiles = bad_q;
	p.n_quantiles = 2;
	assert_int_equal(fc_forecast(s, &p, &r), -EINVAL);
	fc_params_init(&p);
	p.horizon = 0;
	assert_int_equal(fc_forecast(s, &p, &r), -EINVAL);
	/* 73 hourly steps reach beyond 72 h: refused unless allowed */
	fc_params_init(&p);
	p.horizon = 73;
	p.models = "snaive";
	assert_int_equal(fc_forecast(s, &p, &r), -EINVAL);
	p.allow_long_horizon = true;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_int_equal(r->horizon, 73);
	fc_result_free(r);
	fc_series_free(s);
}

static void reports_choice(void **state)
{
	(void)state;
	struct fc_series *s = noisy(24 * 30, 5, 24);
	struct fc_params p;
	struct fc_result *r = NULL;

	fc_params_init(&p);
	p.horizon = 48;
	p.keep_candidates = true;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_true(r->n_candidates >= 3);
	assert_true(r->calibrated);
	size_t selected = 0, scored = 0;
	double best = INFINITY;
	for (size_t i = 0; i < r->n_candidates; i++) {
		const struct fc_candidate *c = &r->cand[i];
		assert_true(c->family[0] && c->name[0]);
		selected += c->selected;
		if (c->status == 0 && isfinite(c->score)) {
			scored++;
			assert_true(c->cv_mase > 0 && c->cv_msis > 0);
			assert_true(c->cv_coverage >= 0 && c->cv_coverage <= 1);
			assert_non_null(c->point);
			if (c->score < best)
				best = c->score;
		}
	}
	assert_true(scored >= 3);
	assert_true(selected >= 1);
	/* the model reported is the best-scoring candidate */
	bool found = false;
	for (size_t i = 0; i < r->n_candidates; i++)
		if (strcmp(r->cand[i].name, r->model) == 0) {
			found = true;
			assert_true(r->cand[i].selected);
			assert_near(r->cand[i].score, best, 1e-12);
		}
	assert_true(found);
	/* the default levels, with the first step one step after the data */
	assert_int_equal(r->n_quantiles, 4);
	assert_int_equal(fc_result_level(r, 0.95), 2);
	assert_int_equal(r->time[0], T0 + 24 * 30 * 3600);
	fc_result_free(r);
	fc_series_free(s);
}

/* Noise sd 4 around a fixed daily pattern: the calibrated central 95 % interval should be
 * about 2 * 1.96 * 4 wide, and a fresh sample of the future should fall inside ~95 %. */
static void calibrated_width(void **state)
{
	(void)state;
	const double sd = 4;
	struct fc_series *s = noisy(24 * 40, sd, 24);
	struct fc_params p;
	struct fc_result *r = NULL;
	double lv[] = {0.025, 0.5, 0.975};

	fc_params_init(&p);
	p.horizon = 24;
	p.quantiles = lv;
	p.n_quantiles = 3;
	p.models = "snaive,ets";
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_true(r->calibrated);
	double width = 0;
	size_t inside = 0, total = 0;
	for (size_t st = 0; st < 24; st++) {
		width += r->q[st * 3 + 2] - r->q[st * 3];
		for (int rep = 0; rep < 100; rep++) {
			double y = pattern(24 * 40 + st) + sd * gauss();
			inside += y >= r->q[st * 3] && y <= r->q[st * 3 + 2];
			total++;
		}
	}
	width /= 24;
	assert_true(width > 0.7 * 2 * 1.96 * sd && width < 1.6 * 2 * 1.96 * sd);
	double cov = (double)inside / (double)total;
	assert_true(cov > 0.88 && cov < 0.995);
	fc_result_free(r);
	fc_series_free(s);
}

static void short_series(void **state)
{
	(void)state;
	double v[] = {5, 6, 7, 6, 5};
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	struct fc_params p;
	struct fc_result *r = NULL;

	fc_series_opts_init(&o);
	o.periods[0] = 24; /* far longer than the data: ignored */
	assert_int_equal(fc_series_new(v, 5, &o, &s), 0);
	fc_params_init(&p);
	p.horizon = 3;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_false(r->calibrated);
	assert_true(r->model[0] != '\0');
	for (size_t st = 0; st < 3; st++)
		assert_true(isfinite(r->point[st]));
	fc_result_free(r);
	fc_series_free(s);
	/* a single value: the default set still forecasts it (the last value); a list
	 * without a model that can is refused */
	assert_int_equal(fc_series_new(v, 1, &o, &s), 0);
	p.models = NULL;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_string_equal(r->model, "naive");
	for (size_t st = 0; st < 3; st++) {
		assert_near(r->point[st], 5, 1e-12);
		assert_near(r->q[st * r->n_quantiles], 5, 1e-12);
	}
	fc_result_free(r);
	p.models = "snaive,ets";
	assert_int_equal(fc_forecast(s, &p, &r), -EDOM);
	assert_null(r);
	fc_series_free(s);
}

static void given_multiplier(void **state)
{
	(void)state;
	struct fc_series *s = noisy(24 * 20, 1, 24);
	struct fc_params p;
	struct fc_result *a = NULL, *b = NULL;
	int64_t end = T0 + 24 * 20 * 3600;
	struct fc_event ev = {
	        .name = "sale", .start = end + 5 * 3600, .end = end + 9 * 3600, .multiplier = 1.8};

	fc_params_init(&p);
	p.horizon = 24;
	p.models = "snaive";
	assert_int_equal(fc_forecast(s, &p, &a), 0);
	p.events = &ev;
	p.n_events = 1;
	assert_int_equal(fc_forecast(s, &p, &b), 0);
	for (size_t st = 0; st < 24; st++) {
		double f = st >= 5 && st < 9 ? 1.8 : 1.0;
		assert_near(b->point[st], f * a->point[st], 1e-9 * a->point[st]);
		assert_near(b->q[st * 4 + 3], f * a->q[st * 4 + 3], 1e-6 * a->q[st * 4 + 3]);
	}
	assert_int_equal(b->n_adjustments, 1);
	assert_string_equal(b->adj[0].event, "sale");
	assert_int_equal(b->adj[0].first_step, 5);
	assert_int_equal(b->adj[0].n_steps, 4);
	assert_near(b->adj[0].multiplier, 1.8, 1e-12);
	assert_false(b->adj[0].learned);
	fc_result_free(a);
	fc_result_free(b);
	fc_series_free(s);
}

/* A "match" doubles traffic 18:00-22:00 on three past days; the next one is learned. */
static void learned_multiplier(void **state)
{
	(void)state;
	size_t n = 24 * 28;
	double *v = malloc(n * sizeof(double));
	struct fc_event ev[4];
	size_t days[3] = {8, 15, 22};

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = pattern(i) * (1 + 0.01 * gauss());
	for (size_t k = 0; k < 3; k++) {
		for (size_t h = 18; h < 22; h++)
			v[days[k] * 24 + h] *= 2;
		ev[k] = (struct fc_event){.name = "match",
		                          .start = T0 + (int64_t)(days[k] * 24 + 18) * 3600,
		                          .end = T0 + (int64_t)(days[k] * 24 + 22) * 3600};
	}
	ev[3] = (struct fc_event){.name = "match",
	                          .start = T0 + (int64_t)(n + 18) * 3600,
	                          .end = T0 + (int64_t)(n + 22) * 3600};
	struct fc_series_opts o;
	struct fc_series *s = NULL;
	fc_series_opts_init(&o);
	o.start = T0;
	o.periods[0] = 24;
	o.periods[1] = 168;
	assert_int_equal(fc_series_new(v, n, &o, &s), 0);
	struct fc_params p;
	struct fc_result *r = NULL;
	fc_params_init(&p);
	p.horizon = 24;
	p.events = ev;
	p.n_events = 4;
	assert_int_equal(fc_forecast(s, &p, &r), 0);
	assert_int_equal(r->n_adjustments, 1);
	assert_true(r->adj[0].learned);
	assert_int_equal(r->adj[0].occurrences, 3);
	assert_int_equal(r->adj[0].first_step, 18);
	assert_near(r->adj[0].multiplier, 2.0, 0.1);
	/* the evening of the event is forecast about twice the usual evening */
	for (size_t st = 18; st < 22; st++)
		assert_near(r->point[st] / pattern(n + st), 2.0, 0.2);
	/* and the past events did not leak into the ordinary evenings */
	for (size_t st = 12; st < 18; st++)
		assert_near(r->point[st] / pattern(n + st), 1.0, 0.1);
	fc_result_free(r);
	fc_series_free(s);
	free(v);
}

static void deterministic(void **state)
{
	(void)state;
	struct fc_series *s = noisy(24 * 21, 3, 24);
	struct fc_params p;
	struct fc_result *a = NULL, *b = NULL;

	fc_params_init(&p);
	p.horizon = 36;
	assert_int_equal(fc_forecast(s, &p, &a), 0);
	assert_int_equal(fc_forecast(s, &p, &b), 0);
	assert_string_equal(a->model, b->model);
	assert_memory_equal(a->point, b->point, 36 * sizeof(double));
	assert_memory_equal(a->q, b->q, 36 * a->n_quantiles * sizeof(double));
	fc_result_free(a);
	fc_result_free(b);
	fc_series_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(bad_params),       cmocka_unit_test(reports_choice),
	        cmocka_unit_test(calibrated_width), cmocka_unit_test(short_series),
	        cmocka_unit_test(given_multiplier), cmocka_unit_test(learned_multiplier),
	        cmocka_unit_test(deterministic),
	};
	tlog_set_level(getenv("FC_TEST_VERBOSE") ? TLOG_DEBUG : TLOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

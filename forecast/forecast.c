/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast: fc_forecast(), the one entry point of the engine. Checks the parameters, lays
 * out the rolling origins, runs events -> candidates -> cross-validation -> scores ->
 * combinations -> choice -> final fit -> calibration, and copies the outcome into a plain
 * fc_result.
 *
 * Owns the engine state of one call (freed before returning) and the fc_result it hands
 * out (freed by fc_result_free).
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "log.h"

#define DEFAULT_ORIGINS 32
#define DEFAULT_COMBINE 3
#define MAX_HORIZON     1000000u

static const double default_levels[] = {0.5, 0.8, 0.95, 0.99};

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
	/* GSL's default handler aborts the process; the models check return codes. */
	gsl_set_error_handler_off();
}

void fc_params_init(struct fc_params *p)
{
	memset(p, 0, sizeof(*p));
	p->horizon = 24;
	p->cv_origins = DEFAULT_ORIGINS;
	p->combine = DEFAULT_COMBINE;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int check_models(const char *sname, const char *models)
{
	if (!models || !*models || strcmp(models, "auto") == 0)
		return 0;
	for (const char *p = models; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		const char *q = p;
		while (*q && *q != ',' && *q != ' ')
			q++;
		if (q > p) {
			char name[FC_NAME_MAX];
			snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
			if (strcmp(name, "auto") != 0 && fc_model_find(name) < 0) {
				char known[512];
				size_t off = 0;
				for (size_t i = 0; i < fc_n_models && off < sizeof(known); i++)
					off += (size_t)snprintf(known + off, sizeof(known) - off,
					                        "%s%s", i ? ", " : "",
					                        fc_models[i].name);
				log_err("%s: unknown model \"%s\" (known: auto, %s)", sname, name,
				        known);
				return -EINVAL;
			}
		}
		p = q;
	}
	return 0;
}

/* Sorted, de-duplicated levels plus 0.025 / 0.975 for the interval scores. */
static int setup_levels(struct engine *e)
{
	const double *lv = e->p->quantiles ? e->p->quantiles : default_levels;
	size_t n = e->p->quantiles ? e->p->n_quantiles
	                           : sizeof(default_levels) / sizeof(default_levels[0]);
	double req[FC_MAX_QUANTILES];
	size_t nr = 0;

	if (n == 0 || n > FC_MAX_QUANTILES) {
		log_err("%s: %zu quantile levels asked for (give 1 to %d)", e->sname, n,
		        FC_MAX_QUANTILES);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(lv[i] > 0 && lv[i] < 1)) {
			log_err("%s: quantile level %g is outside (0, 1)", e->sname, lv[i]);
			return -EINVAL;
		}
		req[nr++] = lv[i];
	}
	for (size_t a = 1; a < nr; a++)
		for (size_t b = a; b > 0 && req[b - 1] > req[b]; b--) {
			double t = req[b];
			req[b] = req[b - 1];
			req[b - 1] = t;
		}
	e->n_req = 0;
	e->nl = 0;
	double all[FC_MAX_QUANTILES + 2];
	size_t na = 0;
	for (size_t i = 0; i < nr; i++)
		all[na++] = req[i];
	all[na++] = 0.025;
	all[na++] = 0.975;
	for (size_t a = 1; a < na; a++)
		for (size_t b = a; b > 0 && all[b - 1] > all[b]; b--) {
			double t = all[b];
			all[b] = all[b - 1];
			all[b - 1] = t;
		}
	for (size_t i = 0; i < na; i++)
		if (e->nl == 0 || fabs(all[i] - e->lv[e->nl - 1]) > 1e-12)
			e->lv[e->nl++] = all[i];
	for (size_t j = 0; j < e->nl; j++) {
		if (fabs(e->lv[j] - 0.025) <= 1e-12)
			e->lo95 = j;
		if (fabs(e->lv[j] - 0.975) <= 1e-12)
			e->hi95 = j;
	}
	for (size_t i = 0; i < nr; i++) {
		if (i > 0 && fabs(req[i] - req[i - 1]) <= 1e-12)
			continue;
		for (size_t j = 0; j < e->nl; j++)
			if (fabs(e->lv[j] - req[i]) <= 1e-12)
				e->req[e->n_req++] = j;
	}
	return 0;
}

/* Rolling origins: the last holds out the final horizon; they are stride steps apart, by
 * default a whole number of the shortest season (about a quarter of the horizon), so every
 * origin starts at the same phase as the real forecast and calibration per step sees the
 * same times of day. The first origin keeps two cycles of the longest season when that
 * leaves at least MIN_ORIGINS origins, else two of the shortest. */
#define MIN_ORIGINS 4

static size_t fit_origins(const struct engine *e, size_t k, size_t stride, size_t min_train)
{
	while (k > 0 &&
	       (e->n < e->h + (k - 1) * stride || e->n - e->h - (k - 1) * stride < min_train))
		k--;
	return k;
}

static void setup_origins(struct engine *e)
{
	size_t k = e->p->cv_origins ? e->p->cv_origins : DEFAULT_ORIGINS;
	size_t stride = e->p->cv_stride;

	if (!stride) {
		stride = e->h / 4 ? e->h / 4 : 1;
		if (e->n_periods) {
			size_t m = e->periods[0];
			size_t mult = (stride + m / 2) / m;
			stride = (mult ? mult : 1) * m;
		}
	}
	if (k > sizeof(e->origin) / sizeof(e->origin[0]))
		k = sizeof(e->origin) / sizeof(e->origin[0]);
	size_t lo = 16, hi = 16;
	if (e->n_periods) {
		lo = 2 * (size_t)e->periods[0] > lo ? 2 * (size_t)e->periods[0] : lo;
		hi = 2 * (size_t)e->periods[e->n_periods - 1] > lo
		             ? 2 * (size_t)e->periods[e->n_periods - 1]
		             : lo;
	}
	size_t kk = fit_origins(e, k, stride, hi);
	if (kk < MIN_ORIGINS && kk < k)
		kk = fit_origins(e, k, stride, lo);
	e->k = kk;
	for (size_t i = 0; i < kk; i++)
		e->origin[i] = e->n - e->h - (kk - 1 - i) * stride;
}

void eng_free(struct engine *e)
{
	for (size_t i = 0; i < e->n_cand; i++) {
		struct eng_cand *c = &e->cand[i];
		eng_calib_cache_free(c->calib);
		free(c->cv_mean);
		free(c->cv_q);
		free(c->mean);
		free(c->q);
	}
	free(e->y_clean);
	free(e->win);
	free(e->adj);
	free(e->ev_factor);
}

void fc_result_free(struct fc_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_candidates; i++) {
		free(r->cand[i].point);
		free(r->cand[i].q);
	}
	free(r->cand);
	free(r->adj);
	free(r->levels);
	free(r->time);
	free(r->point);
	free(r->q);
	free(r);
}

int fc_result_level(const struct fc_result *r, double level)
{
	for (size_t j = 0; j < r->n_quantiles; j++)
		if (fabs(r->levels[j] - level) <= 1e-9)
			return (int)j;
	return -1;
}

/* Requested-level quantiles of candidate c: calibrated from its cross-validation errors
 * when there are enough origins, else the model's own. */
static int final_quantiles(struct engine *e, struct eng_cand *c, double *out, bool *calibrated)
{
	double lv[FC_MAX_QUANTILES];

	for (size_t j = 0; j < e->n_req; j++)
		lv[j] = e->lv[e->req[j]];
	*calibrated = false;
	if (!e->p->model_intervals && e->k >= 3 && c->cv_mean) {
		int rc = eng_calibrate(e, c, c->mean, c->q, -1, lv, e->n_req, out);
		if (rc == 0) {
			*calibrated = true;
			return 0;
		}
		if (rc != -EDOM)
			return rc;
	}
	for (size_t s = 0; s < e->h; s++)
		for (size_t j = 0; j < e->n_req; j++)
			out[s * e->n_req + j] = c->q[s * e->nl + e->req[j]];
	eng_sort_quantiles(out, e->h, e->n_req);
	return 0;
}

static int build_result(struct engine *e, struct fc_result **out)
{
	struct eng_cand *ch = &e->cand[e->chosen];
	size_t h = e->h, nq = e->n_req;
	struct fc_result *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->horizon = h;
	r->n_quantiles = nq;
	r->levels = malloc(nq * sizeof(double));
	r->time = calloc(h, sizeof(int64_t));
	r->point = malloc(h * sizeof(double));
	r->q = malloc(h * nq * sizeof(double));
	r->cand = calloc(e->n_cand, sizeof(*r->cand));
	r->adj = calloc(e->n_adj ? e->n_adj : 1, sizeof(*r->adj));
	if (!r->levels || !r->time || !r->point || !r->q || !r->cand || !r->adj)
		goto nomem;
	for (size_t j = 0; j < nq; j++)
		r->levels[j] = e->lv[e->req[j]];
	for (size_t s = 0; s < h; s++)
		r->time[s] = e->start ? e->start + (int64_t)(e->n + s) * e->step : 0;
	memcpy(r->point, ch->mean, h * sizeof(double));
	int rc = final_quantiles(e, ch, r->q, &r->calibrated);
	if (rc < 0) {
		fc_result_free(r);
		return rc;
	}
	snprintf(r->model, sizeof(r->model), "%s", ch->name);
	r->combined = ch->e == NULL;
	for (size_t i = 0; i < e->n_cand; i++) {
		struct eng_cand *c = &e->cand[i];
		if (c->status == -ENOSYS)
			continue; /* registered but not implemented */
		struct fc_candidate *rc_ = &r->cand[r->n_candidates++];
		snprintf(rc_->family, sizeof(rc_->family), "%s", c->e ? c->e->name : "combination");
		snprintf(rc_->name, sizeof(rc_->name), "%s", c->name);
		rc_->status = c->status;
		rc_->cv_mase = c->cv_mean ? c->mase : NAN;
		rc_->cv_smape = c->cv_mean ? c->smape : NAN;
		rc_->cv_msis = c->cv_mean ? c->msis : NAN;
		rc_->cv_coverage = c->cv_mean ? c->coverage : NAN;
		rc_->score = c->score;
		rc_->complexity = c->complexity;
		rc_->seconds = c->seconds;
		rc_->selected = (int)i == e->chosen;
		if (!ch->e)
			for (size_t m = 0; m < ch->n_members; m++)
				rc_->selected |= ch->members[m] == (int)i;
		if (e->p->keep_candidates && c->status == 0 && c->mean) {
			rc_->point = malloc(h * sizeof(double));
			rc_->q = malloc(h * nq * sizeof(double));
			if (!rc_->point || !rc_->q)
				goto nomem;
			memcpy(rc_->point, c->mean, h * sizeof(double));
			bool cal;
			if (final_quantiles(e, c, rc_->q, &cal) < 0)
				goto nomem;
		}
	}
	r->n_adjustments = e->n_adj;
	if (e->n_adj)
		memcpy(r->adj, e->adj, e->n_adj * sizeof(*r->adj));
	r->gaps_filled = fc_series_gaps(e->s);
	*out = r;
	return 0;
nomem:
	fc_result_free(r);
	return -ENOMEM;
}

int fc_forecast(const struct fc_series *s, const struct fc_params *p, struct fc_result **out)
{
	struct engine *e;
	double t0 = cpu_now();
	int rc;

	*out = NULL;
	if (!s || !p)
		return -EINVAL;
	pthread_once(&gsl_once, gsl_quiet);
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->s = s;
	e->p = p;
	e->sname = fc_series_name(s);
	e->h = p->horizon;
	e->step = fc_series_step(s);
	if (e->h == 0 || e->h > MAX_HORIZON) {
		log_err("%s: horizon %zu steps is out of range (1 .. %u)", e->sname, e->h,
		        MAX_HORIZON);
		rc = -EINVAL;
		goto out;
	}
	if (!p->allow_long_horizon && (double)e->h * (double)e->step > FC_MAX_HORIZON_S) {
		log_err("%s: horizon %zu steps of %lld s reaches %.1f h ahead, beyond the 72 h "
		        "limit (shorten it or allow long horizons explicitly)",
		        e->sname, e->h, (long long)e->step,
		        (double)e->h * (double)e->step / 3600.0);
		rc = -EINVAL;
		goto out;
	}
	rc = check_models(e->sname, p->models);
	if (rc < 0)
		goto out;
	rc = setup_levels(e);
	if (rc < 0)
		goto out;

	size_t len = fc_series_len(s);
	size_t off = p->cv_window && p->cv_window < len ? len - p->cv_window : 0;
	e->y = fc_series_values(s) + off;
	e->n = len - off;
	e->start = fc_series_start(s) ? fc_series_start(s) + (int64_t)off * e->step : 0;
	unsigned per[FC_MAX_PERIODS];
	size_t np = fc_series_periods(s, per);
	for (size_t i = 0; i < np; i++)
		if (e->n >= 2 * (size_t)per[i])
			e->periods[e->n_periods++] = per[i];
	e->mase_m = e->n_periods ? e->periods[0] : 1;
	double mag = 0;
	for (size_t t = 0; t < e->n; t++)
		mag += fabs(e->y[t]);
	e->sd_floor = 1e-9 * (mag / (double)e->n) + 1e-300;
	setup_origins(e);

	rc = eng_events(e);
	if (rc < 0)
		goto out;
	rc = eng_candidates(e);
	if (rc < 0)
		goto out;
	size_t n_single = e->n_cand;
	for (unsigned cost = 0; cost <= 1; cost++) /* cheap models first */
		for (size_t i = 0; i < n_single; i++)
			if ((e->cand[i].e->ops->cost > 10) == cost)
				eng_cross_validate(e, &e->cand[i]);
	eng_score(e);
	if (p->combine >= 2)
		eng_combine(e);
	for (;;) {
		rc = eng_choose(e);
		if (rc < 0)
			goto out;
		if (eng_fit_final(e, &e->cand[e->chosen]) == 0)
			break;
		e->cand[e->chosen].status =
		        e->cand[e->chosen].status < 0 ? e->cand[e->chosen].status : -ERANGE;
		e->cand[e->chosen].score = INFINITY;
	}
	struct eng_cand *ch = &e->cand[e->chosen];
	ch->selected = true;
	if (p->keep_candidates)
		for (size_t i = 0; i < e->n_cand; i++)
			if (e->cand[i].status == 0)
				eng_fit_final(e, &e->cand[i]);
	rc = build_result(e, out);
	if (rc == 0)
		(*out)->seconds = cpu_now() - t0;
out:
	eng_free(e);
	free(e);
	if (rc == -ENOMEM)
		log_err("%s: out of memory while forecasting", fc_series_name(s));
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast_run: one series' forecast, in the forecast module's worker thread.
 *
 * Reads the series' history at bucket resolution over the last 35 days (demand_history,
 * safe from this thread), trims the unknown buckets at both ends, checks there is enough
 * of it for the configured seasons, and runs the engine with the round's quantiles,
 * models and calendar events. The outcome, good or not, goes into a new fc_entry that the
 * loop installs when the round ends.
 *
 * Owns nothing beyond the entry it makes (handed over through job->out). Never touches
 * the loop's state: everything it needs was copied into the round and the job.
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_int.h"
#include "log.h"

const char *fce_state_name(enum fce_state s)
{
	static const char *const names[FCE_N_STATES] = {"ok", "no_history", "too_short", "stale",
	                                                "failed"};
	return (unsigned)s < FCE_N_STATES ? names[s] : "?";
}

void fc_entry_free(struct fc_entry *e)
{
	if (!e)
		return;
	free(e->levels);
	free(e->point);
	free(e->q);
	fc_result_free(e->res);
	free(e);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void fmt_dur(int64_t s, char *buf, size_t len)
{
	cfg_fmt_duration((uint64_t)(s > 0 ? s : 0) * 1000, buf, len);
}

/* Average rows of resolution `from` into buckets of `to` seconds (a multiple of it), ending
 * at multiples of `to`. A bucket is known when at least half of its rows are. */
static int resample(double **v, size_t *n, int64_t *first, int64_t from, int64_t to)
{
	int64_t k = to / from;
	int64_t t0 = *first, t_end = *first + (int64_t)(*n - 1) * from;
	int64_t b0 = (t0 + to - 1) / to * to, b1 = (t_end + to - 1) / to * to;
	size_t m = (size_t)((b1 - b0) / to + 1);
	double *out = malloc(m * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t j = 0; j < m; j++) {
		int64_t end = b0 + (int64_t)j * to;
		double sum = 0;
		int64_t known = 0;
		for (int64_t i = 0; i < k; i++) {
			int64_t t = end - i * from;
			if (t < t0 || t > t_end)
				continue;
			double x = (*v)[(t - t0) / from];
			if (!isnan(x)) {
				sum += x;
				known++;
			}
		}
		out[j] = 2 * known >= k ? sum / (double)known : NAN;
	}
	free(*v);
	*v = out;
	*n = m;
	*first = b0;
	return 0;
}

static void set_state(struct fc_entry *e, enum fce_state st, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void set_state(struct fc_entry *e, enum fce_state st, const char *fmt, ...)
{
	va_list ap;
	e->state = st;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
}

/* Copy the engine's result into the entry's demand_forecast view. */
static int fill_forecast(struct fc_entry *e, struct fc_result *res, int64_t origin, int64_t step)
{
	size_t h = res->horizon, nl = res->n_quantiles;
	e->levels = malloc(nl * sizeof(double));
	e->point = malloc(h * sizeof(double));
	e->q = malloc(h * nl * sizeof(double));
	if (!e->levels || !e->point || !e->q)
		return -ENOMEM;
	memcpy(e->levels, res->levels, nl * sizeof(double));
	memcpy(e->q, res->q, h * nl * sizeof(double));
	/* Rates and pool use are never negative: the lower quantiles of a wide interval may be
	 * (the engine knows no units), so they are cut at 0, which keeps them monotone. */
	if (e->is_app || strncmp(e->series, "pool.", 5) == 0)
		for (size_t i = 0; i < h * nl; i++)
			if (e->q[i] < 0)
				e->q[i] = 0;
	/* demand.h: the point forecast is the median when 0.5 is a level */
	int med = fc_result_level(res, 0.5);
	for (size_t s = 0; s < h; s++)
		e->point[s] = med >= 0 ? e->q[s * nl + (size_t)med] : res->point[s];
	double fmax = res->n_adjustments ? 0 : 1;
	for (size_t i = 0; i < res->n_adjustments; i++)
		if (res->adj[i].multiplier > fmax)
			fmax = res->adj[i].multiplier;

	struct demand_forecast *df = &e->df;
	snprintf(df->series, sizeof(df->series), "%s", e->series);
	snprintf(df->model, sizeof(df->model), "%.*s", (int)sizeof(df->model) - 1, res->model);
	df->origin_s = origin;
	df->step_s = (uint64_t)step;
	df->h = h;
	df->n_levels = nl;
	df->levels = e->levels;
	df->point = e->point;
	df->q = e->q;
	df->event_factor_max = fmax;
	e->res = res;
	e->has = true;
	return 0;
}

void fcm_run_job(const struct fc_round *r, struct fc_job *job)
{
	struct fc_entry *e = calloc(1, sizeof(*e));
	job->out = e;
	if (!e)
		return;
	snprintf(e->series, sizeof(e->series), "%s", job->series);
	e->is_app = job->is_app;
	e->attempt_round = r->id;
	e->round = r->id;
	e->computed_s = r->now_s;

	const int64_t step = r->step_s;
	char a[32], b[32], c[32];
	if (job->last_s <= 0) {
		set_state(e, FCE_NO_HISTORY,
		          "it has no history (the collector records apps as "
		          "traffic flows; other series come from tidalctl ingest)");
		return;
	}
	int64_t last = job->last_s < r->now_s ? job->last_s : r->now_s;
	int64_t to = last / step * step;
	if (r->now_s - to > (int64_t)r->horizon * step) {
		cfg_fmt_time(job->last_s, a, sizeof(a));
		fmt_dur((int64_t)r->horizon * step, b, sizeof(b));
		set_state(e, FCE_STALE,
		          "its last value is from %s, more than the horizon (%s) ago; forecasts "
		          "resume when values arrive",
		          a, b);
		return;
	}

	double *v = NULL;
	size_t n = 0;
	int64_t first = 0, got_step = 0;
	int rc = demand_history(r->d, job->series, to - FCM_WINDOW_S, to, step, &v, &n, &first,
	                        &got_step);
	if (rc == -ENOENT) {
		set_state(e, FCE_NO_HISTORY, "it has no history archive");
		return;
	}
	if (rc < 0) {
		set_state(e, FCE_FAILED, "cannot read its history (%s); see the log",
		          strerror(-rc));
		return;
	}
	if (got_step != step && n) {
		if (got_step < step && step % got_step == 0) {
			rc = resample(&v, &n, &first, got_step, step);
		} else {
			fmt_dur(got_step, a, sizeof(a));
			fmt_dur(step, b, sizeof(b));
			set_state(e, FCE_FAILED,
			          "its archive holds %s values, coarser than the %s bucket "
			          "(the bucket changed after the archive was made?)",
			          a, b);
			rc = -EINVAL;
		}
		if (rc < 0) {
			free(v);
			if (rc == -ENOMEM)
				set_state(e, FCE_FAILED, "out of memory");
			return;
		}
	}
	size_t lo = 0, hi = n;
	while (lo < hi && isnan(v[lo]))
		lo++;
	while (hi > lo && isnan(v[hi - 1]))
		hi--;
	size_t len = hi - lo;
	size_t need = r->n_seasons ? 2 * (size_t)r->seasons[0] : 48;
	if (len < need) {
		fmt_dur((int64_t)len * step, a, sizeof(a));
		fmt_dur((int64_t)need * step, b, sizeof(b));
		fmt_dur(r->n_seasons ? (int64_t)r->seasons[0] * step : 24 * step, c, sizeof(c));
		set_state(e, FCE_TOO_SHORT,
		          "too little history: %s of the %s needed (two cycles of the shortest "
		          "season, %s)",
		          a, b, c);
		free(v);
		return;
	}
	/* v[i] is the average over (first + (i-1) step, first + i step] */
	int64_t start = first + ((int64_t)lo - 1) * step;
	int64_t origin = start + (int64_t)len * step;

	struct fc_series_opts o;
	fc_series_opts_init(&o);
	o.name = job->series;
	o.start = start;
	o.step = step;
	o.nan_is_gap = true;
	for (size_t i = 0; i < r->n_seasons; i++)
		if (2 * (size_t)r->seasons[i] <= len)
			o.periods[e->n_periods++] = r->seasons[i];
	memcpy(e->periods, o.periods, sizeof(e->periods));
	e->hist_n = len;
	e->hist_first_s = start;

	struct fc_series *s = NULL;
	rc = fc_series_new(v + lo, len, &o, &s);
	free(v);
	if (rc < 0) {
		set_state(e, FCE_FAILED, "its history was refused by the engine (%s); see the log",
		          strerror(-rc));
		return;
	}
	struct fc_params p;
	fc_params_init(&p);
	p.horizon = r->horizon;
	p.quantiles = r->levels;
	p.n_quantiles = r->n_levels;
	p.models = r->models;
	p.allow_long_horizon = r->allow_long;
	p.events = job->events;
	p.n_events = job->n_events;
	p.seed = fnv1a(job->series);
	struct fc_result *res = NULL;
	rc = fc_forecast(s, &p, &res);
	fc_series_free(s);
	if (rc == -EDOM) {
		fmt_dur((int64_t)len * step, a, sizeof(a));
		set_state(e, FCE_TOO_SHORT,
		          "too little history for every model asked for (%s, models %s)", a,
		          r->models);
		return;
	}
	if (rc < 0) {
		set_state(e, FCE_FAILED, "the forecast failed (%s); see the log", strerror(-rc));
		return;
	}
	if (fill_forecast(e, res, origin, step) < 0) {
		fc_result_free(res);
		e->res = NULL;
		e->has = false;
		set_state(e, FCE_FAILED, "out of memory");
		return;
	}
	e->state = FCE_OK;
	e->why[0] = '\0';
}

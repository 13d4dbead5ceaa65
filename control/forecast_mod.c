/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast_mod: the tidald module "forecast" (docs/forecasting.md).
 *
 * Every [forecast] period (aligned to the wall clock, just after a bucket fills) and on
 * `tidalctl forecast run`, a round forecasts every series: each app, each pool's vcpu,
 * memory and storage series, and every other series with a history. The loop only takes a
 * snapshot of what a round needs (series, their last value, quantiles, models, seasons,
 * calendar events from the config and from `tidalctl event add`); one worker thread reads
 * the histories and runs the engine, then wakes the loop through a pipe. The loop installs
 * the results, emits TIDALD_EV_FORECAST_UPDATED and serves them (demand_forecast_get,
 * `show forecast`, `graph`, metrics). One round at a time: a round due while another runs
 * is skipped and counted; `forecast run` during a round queues one more.
 *
 * Owns the worker thread, the timer, the pipe, the latest forecast of every series and the
 * runtime events (<state_dir>/events.json). Never blocks the loop on a forecast; never
 * writes history.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "forecast_int.h"
#include "history_int.h"
#include "log.h"
#include "metrics.h"

struct fc_mod {
	struct tidald *d;
	struct event *timer, *done_ev;
	int pipe_rd, pipe_wr;
	pthread_t th;
	bool running, pending;
	atomic_bool cancel;
	struct fc_round *cur;
	unsigned last_id; /* id of the latest round started */
	unsigned done;    /* rounds finished */
	struct fc_entry **ent;
	size_t n_ent;
	unsigned long rounds[3]; /* ok, skipped, failed */
	double last_wall_s, last_cpu_s;
	int64_t last_round_s;
	uint64_t period_ms;
	struct rt_events events;
};

enum { RND_OK, RND_SKIPPED, RND_FAILED };

struct fc_mod *fcm_get(struct tidald *d)
{
	return tidald_module_state(d, "forecast");
}

struct rt_events *fcm_events(struct fc_mod *m)
{
	return &m->events;
}

unsigned fcm_rounds_done(struct fc_mod *m)
{
	return m->done;
}

const struct fc_entry *fcm_entry(struct fc_mod *m, const char *series)
{
	for (size_t i = 0; m && i < m->n_ent; i++)
		if (m->ent[i] && strcmp(m->ent[i]->series, series) == 0)
			return m->ent[i];
	return NULL;
}

const struct demand_forecast *demand_forecast_get(struct tidald *d, const char *series)
{
	const struct fc_entry *e = fcm_entry(fcm_get(d), series);
	return e && e->has ? &e->df : NULL;
}

size_t fcm_levels(const struct tidal_cfg *cfg, double out[FC_MAX_QUANTILES])
{
	static const double extra[] = {0.05, 0.5, 0.95};
	size_t n = 0;
	for (size_t i = 0; i < cfg->forecast.n_quantiles && n < FC_MAX_QUANTILES - 3; i++)
		out[n++] = cfg->forecast.quantiles[i];
	for (size_t k = 0; k < 3; k++) {
		bool have = false;
		for (size_t i = 0; i < n; i++)
			have |= fabs(out[i] - extra[k]) < 1e-9;
		if (!have)
			out[n++] = extra[k];
	}
	for (size_t i = 1; i < n; i++) /* insertion sort: a handful of levels */
		for (size_t j = i; j > 0 && out[j] < out[j - 1]; j--) {
			double t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* ---- which series ------------------------------------------------------------------------ */

static const char *const pool_res[] = {"vcpu", "memory", "storage"};

bool fcm_series_known(struct tidald *d, const char *name, bool *is_app)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	*is_app = cfg_find_app(cfg, name) != NULL;
	if (*is_app)
		return true;
	for (size_t i = 0; i < cfg->n_pools; i++)
		for (size_t k = 0; k < 3; k++) {
			char buf[FCM_NAME_MAX];
			snprintf(buf, sizeof(buf), "pool.%s.%s", cfg->pools[i].name, pool_res[k]);
			if (strcmp(buf, name) == 0)
				return true;
		}
	return hist_last(d, name) >= 0;
}

/* Every series a round forecasts, apps first; *n_apps of them are apps. */
static char **series_names(struct tidald *d, size_t *n_out, size_t *n_apps)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	char **hist = demand_series_list(d);
	size_t cap = cfg->n_apps + 3 * cfg->n_pools + 1;
	for (size_t i = 0; hist && hist[i]; i++)
		cap++;
	char **out = calloc(cap, sizeof(*out));
	size_t n = 0;
	if (!out) {
		free(hist);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_apps; i++)
		out[n++] = strdup(cfg->apps[i].name);
	*n_apps = n;
	for (size_t i = 0; i < cfg->n_pools; i++)
		for (size_t k = 0; k < 3; k++) {
			char buf[FCM_NAME_MAX];
			snprintf(buf, sizeof(buf), "pool.%s.%s", cfg->pools[i].name, pool_res[k]);
			out[n++] = strdup(buf);
		}
	for (size_t i = 0; hist && hist[i]; i++) {
		size_t l = strlen(hist[i]);
		/* reservations recorded beside an app's demand are graphed, not forecast */
		if (l > 9 && strcmp(hist[i] + l - 9, ".reserved") == 0)
			continue;
		bool dup = false;
		for (size_t j = 0; j < n && !dup; j++)
			dup = out[j] && strcmp(out[j], hist[i]) == 0;
		if (!dup)
			out[n++] = strdup(hist[i]);
	}
	free(hist);
	for (size_t i = 0; i < n; i++)
		if (!out[i]) {
			for (size_t j = 0; j < n; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	*n_out = n;
	return out;
}

char *fcm_known_list(struct tidald *d)
{
	size_t n = 0, n_apps = 0;
	char **names = series_names(d, &n, &n_apps);
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len);
	if (!f) {
		for (size_t i = 0; names && i < n; i++)
			free(names[i]);
		free(names);
		return NULL;
	}
	for (size_t i = 0; names && i < n; i++) {
		fprintf(f, "%s%s", i ? ", " : "", names[i]);
		free(names[i]);
	}
	if (!n)
		fprintf(f, "none");
	free(names);
	fclose(f);
	return msg;
}

/* ---- rounds ------------------------------------------------------------------------------ */

static void round_free(struct fc_round *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_jobs; i++) {
		free(r->jobs[i].events);
		free(r->jobs[i].ev_names);
		fc_entry_free(r->jobs[i].out);
	}
	free(r->jobs);
	free(r);
}

static void add_event(struct fc_job *j, const char *name, int64_t start, int64_t end, double mult)
{
	size_t k = j->n_events++;
	snprintf(j->ev_names[k], CFG_NAME_MAX, "%s", name);
	j->events[k] = (struct fc_event){
	        .name = j->ev_names[k], .start = start, .end = end, .multiplier = mult};
}

static int job_events(struct fc_mod *m, const struct tidal_cfg *cfg, struct fc_job *j)
{
	size_t cap = cfg->n_events + m->events.n;
	if (!cap)
		return 0;
	j->events = calloc(cap, sizeof(*j->events));
	j->ev_names = calloc(cap, sizeof(*j->ev_names));
	if (!j->events || !j->ev_names)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_events; i++) {
		const struct cfg_event *ev = &cfg->events[i];
		if (fcm_cfg_event_applies(ev, j->series, j->is_app))
			add_event(j, ev->name, ev->start_s, ev->end_s, ev->multiplier);
	}
	for (size_t i = 0; i < m->events.n; i++) {
		const struct rt_event *ev = &m->events.v[i];
		if (fcm_event_applies(ev->apps, ev->n_apps, j->series, j->is_app))
			add_event(j, ev->name, ev->start_s, ev->end_s, ev->multiplier);
	}
	return 0;
}

/* Everything a round needs, copied on the loop so that a reload cannot pull it away. */
static struct fc_round *round_build(struct fc_mod *m)
{
	const struct tidal_cfg *cfg = tidald_cfg(m->d);
	const struct cfg_forecast *fc = &cfg->forecast;
	struct fc_round *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->d = m->d;
	r->now_s = tidald_now();
	r->step_s = (int64_t)(fc->bucket_ms / 1000);
	if (r->step_s < 1)
		r->step_s = 1;
	r->horizon = (size_t)(fc->horizon_ms / (fc->bucket_ms ? fc->bucket_ms : 1));
	if (r->horizon < 1)
		r->horizon = 1;
	r->allow_long = fc->allow_long_horizon;
	r->n_levels = fcm_levels(cfg, r->levels);
	snprintf(r->models, sizeof(r->models), "%s", fc->models[0] ? fc->models : "auto");
	for (size_t i = 0; i < fc->n_seasons && r->n_seasons < FC_MAX_PERIODS; i++) {
		unsigned p = (unsigned)(fc->seasons_ms[i] / (fc->bucket_ms ? fc->bucket_ms : 1));
		if (p >= 2)
			r->seasons[r->n_seasons++] = p;
	}
	for (size_t i = 1; i < r->n_seasons; i++)
		for (size_t j = i; j > 0 && r->seasons[j] < r->seasons[j - 1]; j--) {
			unsigned t = r->seasons[j];
			r->seasons[j] = r->seasons[j - 1];
			r->seasons[j - 1] = t;
		}
	r->cancel = &m->cancel;

	size_t n = 0, n_apps = 0;
	char **names = series_names(m->d, &n, &n_apps);
	if (!names) {
		free(r);
		return NULL;
	}
	r->jobs = calloc(n ? n : 1, sizeof(*r->jobs));
	bool oom = !r->jobs;
	for (size_t i = 0; i < n; i++) {
		if (!oom) {
			struct fc_job *j = &r->jobs[r->n_jobs++];
			snprintf(j->series, sizeof(j->series), "%s", names[i]);
			j->is_app = i < n_apps;
			j->last_s = hist_last(m->d, names[i]);
			oom = job_events(m, cfg, j) < 0;
		}
		free(names[i]);
	}
	free(names);
	if (oom) {
		round_free(r);
		return NULL;
	}
	return r;
}

static void *worker(void *arg)
{
	struct fc_mod *m = arg;
	struct fc_round *r = m->cur;
	struct timespec w0, w1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (size_t i = 0; i < r->n_jobs && !atomic_load(r->cancel); i++)
		fcm_run_job(r, &r->jobs[i]);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	r->wall_s = (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec);
	r->cpu_s = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
	char x = 1;
	while (write(m->pipe_wr, &x, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static int round_start(struct fc_mod *m)
{
	struct fc_round *r = round_build(m);
	if (!r) {
		m->rounds[RND_FAILED]++;
		log_err("forecast: out of memory preparing a round; the previous forecasts stay");
		return -ENOMEM;
	}
	r->id = ++m->last_id;
	m->cur = r;
	atomic_store(&m->cancel, false);
	/* The worker takes no signals: the loop's handlers stay the only ones that run. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&m->th, NULL, worker, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		m->cur = NULL;
		round_free(r);
		m->rounds[RND_FAILED]++;
		log_err("forecast: cannot start the worker thread: %s; the previous forecasts stay",
		        strerror(rc));
		return -rc;
	}
	m->running = true;
	log_debug("forecast: round %u started with %zu series", r->id, r->n_jobs);
	return 0;
}

/* Move the forecast of src (an older entry of the same series) into dst. */
static void take_forecast(struct fc_entry *dst, struct fc_entry *src)
{
	dst->has = true;
	dst->round = src->round;
	dst->computed_s = src->computed_s;
	dst->df = src->df;
	dst->levels = src->levels;
	dst->point = src->point;
	dst->q = src->q;
	dst->res = src->res;
	dst->hist_n = src->hist_n;
	dst->hist_first_s = src->hist_first_s;
	memcpy(dst->periods, src->periods, sizeof(dst->periods));
	dst->n_periods = src->n_periods;
	src->has = false;
	src->levels = src->point = src->q = NULL;
	src->res = NULL;
}

static void round_install(struct fc_mod *m, struct fc_round *r)
{
	struct fc_entry **ent = calloc(r->n_jobs ? r->n_jobs : 1, sizeof(*ent));
	const struct demand_forecast **upd = calloc(r->n_jobs ? r->n_jobs : 1, sizeof(*upd));
	size_t n = 0, n_upd = 0, count[FCE_N_STATES] = {0};
	if (!ent || !upd) {
		free(ent);
		free(upd);
		m->rounds[RND_FAILED]++;
		log_err("forecast: out of memory installing round %u; the previous forecasts stay",
		        r->id);
		return;
	}
	for (size_t i = 0; i < r->n_jobs; i++) {
		struct fc_job *j = &r->jobs[i];
		struct fc_entry *e = j->out, *old = NULL;
		size_t oi = 0;
		for (; oi < m->n_ent && !old; oi++)
			if (m->ent[oi] && strcmp(m->ent[oi]->series, j->series) == 0)
				old = m->ent[oi];
		if (!e) { /* no memory for its entry: keep what it had */
			if (old) {
				ent[n++] = old;
				m->ent[oi - 1] = NULL;
			}
			continue;
		}
		j->out = NULL;
		if (e->state != FCE_OK && old && old->has)
			take_forecast(e, old);
		if (e->state != FCE_OK && (!old || old->state != e->state))
			log_info("forecast: %s: %s", e->series, e->why);
		else if (e->state == FCE_OK && old && old->state != FCE_OK)
			log_info("forecast: %s: %s (model %s)", e->series,
			         old->has ? "forecast again" : "first forecast", e->df.model);
		count[e->state]++;
		if (e->state == FCE_OK)
			upd[n_upd++] = &e->df;
		ent[n++] = e;
	}
	for (size_t i = 0; i < m->n_ent; i++)
		fc_entry_free(m->ent[i]);
	free(m->ent);
	m->ent = ent;
	m->n_ent = n;
	m->done++;
	m->rounds[RND_OK]++;
	m->last_wall_s = r->wall_s;
	m->last_cpu_s = r->cpu_s;
	m->last_round_s = r->now_s;
	log_info("forecast: round %u: %zu series forecast, %zu too short, %zu without history, "
	         "%zu stale, %zu failed in %.2f s (%.2f s CPU)",
	         r->id, count[FCE_OK], count[FCE_TOO_SHORT], count[FCE_NO_HISTORY],
	         count[FCE_STALE], count[FCE_FAILED], r->wall_s, r->cpu_s);
	struct demand_update u = {.at_s = r->now_s, .n = n_upd, .forecasts = upd};
	tidald_emit(m->d, TIDALD_EV_FORECAST_UPDATED, &u);
	free(upd);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct fc_mod *m = arg;
	char buf[16];
	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (!m->running)
		return;
	pthread_join(m->th, NULL);
	m->running = false;
	struct fc_round *r = m->cur;
	m->cur = NULL;
	round_install(m, r);
	round_free(r);
	if (m->pending) {
		m->pending = false;
		round_start(m);
	}
}

int fcm_trigger(struct fc_mod *m, unsigned *round_id, bool *queued)
{
	if (m->running) {
		m->pending = true;
		*round_id = m->last_id + 1;
		*queued = true;
		return 0;
	}
	*queued = false;
	int rc = round_start(m);
	*round_id = m->last_id;
	return rc;
}

/* Next round just after the next multiple of the period on the wall clock, once the
 * bucket that ends there has been filled by the next sample. */
static void schedule(struct fc_mod *m, bool now)
{
	const struct tidal_cfg *cfg = tidald_cfg(m->d);
	int64_t period = (int64_t)(m->period_ms / 1000);
	if (period < 1)
		period = 1;
	int64_t margin = (int64_t)(cfg->forecast.sample_interval_ms / 1000) + 1;
	if (margin > period / 2)
		margin = period / 2;
	int64_t t = tidald_now();
	int64_t delay = now ? 0 : period - t % period + margin;
	struct timeval tv = {.tv_sec = (time_t)delay, .tv_usec = 0};
	evtimer_add(m->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fc_mod *m = arg;
	(void)fd, (void)what;
	if (m->running) {
		m->rounds[RND_SKIPPED]++;
		log_warn("forecast: round %u is still running when the next is due; skipping "
		         "this one (a longer [forecast] period or fewer series would help)",
		         m->last_id);
	} else {
		round_start(m);
	}
	schedule(m, false);
}

/* ---- module ------------------------------------------------------------------------------ */

static void fc_stop(struct tidald *d, void *state)
{
	struct fc_mod *m = state;
	(void)d;
	if (!m)
		return;
	if (m->running) {
		atomic_store(&m->cancel, true);
		pthread_join(m->th, NULL);
		m->running = false;
	}
	round_free(m->cur);
	if (m->timer)
		event_free(m->timer);
	if (m->done_ev)
		event_free(m->done_ev);
	if (m->pipe_rd >= 0)
		close(m->pipe_rd);
	if (m->pipe_wr >= 0)
		close(m->pipe_wr);
	for (size_t i = 0; i < m->n_ent; i++)
		fc_entry_free(m->ent[i]);
	free(m->ent);
	rtev_free(&m->events);
	free(m);
}

static int fc_start(struct tidald *d, void **state)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct fc_mod *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->pipe_rd = m->pipe_wr = -1;
	atomic_init(&m->cancel, false);
	m->period_ms = cfg->forecast.period_ms;
	char path[CFG_PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/events.json", cfg->region.state_dir);
	int rc = rtev_load(&m->events, path);
	if (rc < 0) {
		fc_stop(d, m);
		return rc;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		log_err("forecast: cannot create a pipe: %s", strerror(-rc));
		fc_stop(d, m);
		return rc;
	}
	m->pipe_rd = p[0];
	m->pipe_wr = p[1];
	m->done_ev = event_new(tidald_base(d), m->pipe_rd, EV_READ | EV_PERSIST, on_done, m);
	m->timer = evtimer_new(tidald_base(d), on_timer, m);
	if (!m->done_ev || !m->timer || event_add(m->done_ev, NULL) < 0) {
		log_err("forecast: cannot create its events");
		fc_stop(d, m);
		return -ENOMEM;
	}
	*state = m;
	fcm_ctl_register(d, m);
	fcm_graph_register(d, m);
	schedule(m, true); /* a first round as soon as the loop runs */
	char per[32];
	cfg_fmt_duration(m->period_ms, per, sizeof(per));
	log_info("forecast: every %s; %zu runtime events from %s", per, m->events.n,
	         m->events.path);
	return 0;
}

static int fc_reload(struct tidald *d, void *state, const struct tidal_cfg *old)
{
	struct fc_mod *m = state;
	(void)old;
	uint64_t p = tidald_cfg(d)->forecast.period_ms;
	if (p != m->period_ms) {
		m->period_ms = p;
		evtimer_del(m->timer);
		schedule(m, false);
	}
	return 0;
}

static void metric_horizons(struct metrics_writer *w, const char *family_label,
                            const struct fc_entry *e, const struct tidal_cfg *cfg)
{
	const struct demand_forecast *f = &e->df;
	int64_t full = (int64_t)f->h * (int64_t)f->step_s;
	const int64_t hs[3] = {3600, 86400, full};
	for (size_t k = 0; k < 3; k++) {
		int64_t H = hs[k];
		if (H < (int64_t)f->step_s || H > full || H % (int64_t)f->step_s ||
		    (k == 2 && (H == hs[0] || H == hs[1])))
			continue;
		size_t s = (size_t)(H / (int64_t)f->step_s) - 1;
		char hl[32];
		cfg_fmt_duration((uint64_t)H * 1000, hl, sizeof(hl));
		for (size_t j = 0; j < cfg->forecast.n_quantiles; j++) {
			char ql[32];
			double lv = cfg->forecast.quantiles[j];
			snprintf(ql, sizeof(ql), "%g", lv);
			metrics_sample(w, demand_quantile(f, s, lv), family_label, e->series,
			               "quantile", ql, "horizon", hl, NULL);
		}
	}
}

static void fc_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	struct fc_mod *m = state;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	/* untyped: promtool reserves the quantile label for summaries (metrics.h) */
	metrics_family(w, "tidal_forecast_demand_bps", METRICS_UNTYPED,
	               "forecast demand of an app's class in bits per second (a gauge), by "
	               "quantile and time ahead of the forecast's origin");
	for (size_t i = 0; i < m->n_ent; i++)
		if (m->ent[i]->has && m->ent[i]->is_app)
			metric_horizons(w, "class", m->ent[i], cfg);
	metrics_family(w, "tidal_forecast_demand", METRICS_UNTYPED,
	               "forecast of a pool or external series in its own unit (vcpu, bytes, "
	               "...; a gauge), by quantile and time ahead of the forecast's origin");
	for (size_t i = 0; i < m->n_ent; i++)
		if (m->ent[i]->has && !m->ent[i]->is_app)
			metric_horizons(w, "series", m->ent[i], cfg);
	metrics_family(w, "tidal_forecast_rounds_total", METRICS_COUNTER,
	               "forecast rounds by result (skipped: due while the previous one ran)");
	metrics_sample(w, (double)m->rounds[RND_OK], "result", "ok", NULL);
	metrics_sample(w, (double)m->rounds[RND_SKIPPED], "result", "skipped", NULL);
	metrics_sample(w, (double)m->rounds[RND_FAILED], "result", "failed", NULL);
	metrics_family(w, "tidal_forecast_seconds", METRICS_GAUGE,
	               "wall-clock seconds the last forecast round took");
	metrics_sample(w, m->last_wall_s, NULL);
	metrics_family(w, "tidal_forecast_cpu_seconds", METRICS_GAUGE,
	               "CPU seconds the last forecast round used");
	metrics_sample(w, m->last_cpu_s, NULL);
	metrics_family(w, "tidal_forecast_last_round_timestamp_seconds", METRICS_GAUGE,
	               "when the last forecast round started, seconds since the epoch (0: none)");
	metrics_sample(w, (double)m->last_round_s, NULL);
	size_t count[FCE_N_STATES] = {0};
	for (size_t i = 0; i < m->n_ent; i++)
		count[m->ent[i]->state]++;
	metrics_family(w, "tidal_forecast_series", METRICS_GAUGE,
	               "series by the outcome of their last forecast attempt");
	for (int s = 0; s < FCE_N_STATES; s++)
		metrics_sample(w, (double)count[s], "state", fce_state_name((enum fce_state)s),
		               NULL);
}

static void fc_status(struct tidald *d, void *state, json_t *status)
{
	struct fc_mod *m = state;
	(void)d;
	size_t has = 0;
	for (size_t i = 0; i < m->n_ent; i++)
		has += m->ent[i]->has;
	char last[32] = "";
	if (m->last_round_s)
		cfg_fmt_time(m->last_round_s, last, sizeof(last));
	json_object_set_new(status, "forecast",
	                    json_pack("{s:I,s:b,s:s?,s:I,s:I}", "rounds", (json_int_t)m->done,
	                              "running", m->running, "last_round",
	                              m->last_round_s ? last : NULL, "series_forecast",
	                              (json_int_t)has, "runtime_events", (json_int_t)m->events.n));
}

const struct tidald_module_ops tidald_forecast_module = {
        .name = "forecast",
        .start = fc_start,
        .reload = fc_reload,
        .stop = fc_stop,
        .metrics = fc_metrics,
        .status = fc_status,
};

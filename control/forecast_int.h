/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast_int: what the forecast module's files share (forecast_mod.c: rounds, worker
 * thread, results, metrics; forecast_run.c: one series in the worker; forecast_events.c:
 * runtime events and events.json; forecast_ctl.c: show forecast, events, forecast run;
 * forecast_graph.c: graph). Private to those files; other modules use demand.h.
 */
#ifndef TIDAL_CONTROL_FORECAST_INT_H
#define TIDAL_CONTROL_FORECAST_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "demand.h"
#include "forecast.h"
#include "tidald.h"

#define FCM_NAME_MAX      80           /* series names (as the history module's) */
#define FCM_WINDOW_S      (35 * 86400) /* history read for each forecast */
#define FCM_MAX_RT_EVENTS 1000
#define FCM_MAX_EVENT_S   (366 * 86400)

extern const struct tidald_module_ops tidald_forecast_module;

/* ---- runtime events (forecast_events.c) ------------------------------------------------ */

struct rt_event {
	char name[CFG_NAME_MAX];
	int64_t start_s, end_s;
	double multiplier;          /* > 0, or 0 = learn from past occurrences */
	char (*apps)[FCM_NAME_MAX]; /* series it applies to; none = every app */
	size_t n_apps;
	int64_t added_s;
};

struct rt_events {
	char path[CFG_PATH_MAX + 16]; /* <state_dir>/events.json */
	struct rt_event *v;
	size_t n;
};

/* Read path (a missing file is an empty list). -EINVAL after logging FILE:LINE:COL and what
 * to do when the file is not what events_save writes. */
int rtev_load(struct rt_events *e, const char *path);
/* Write every event to e->path atomically (temporary file, fsync, rename, fsync folder). */
int rtev_save(const struct rt_events *e);
void rtev_free(struct rt_events *e);
void rtev_clear(struct rt_event *ev);
/* Does an event with these apps apply to the series? (no apps: every configured app) */
bool fcm_event_applies(char (*apps)[FCM_NAME_MAX], size_t n_apps, const char *series, bool is_app);
bool fcm_cfg_event_applies(const struct cfg_event *ev, const char *series, bool is_app);

/* ---- results ------------------------------------------------------------------------- */

enum fce_state {
	FCE_OK = 0,
	FCE_NO_HISTORY, /* no archive yet */
	FCE_TOO_SHORT,  /* too little history for the seasons (not an error) */
	FCE_STALE,      /* the last value is older than the horizon */
	FCE_FAILED,     /* the engine or the archive failed; why says how */
	FCE_N_STATES
};

const char *fce_state_name(enum fce_state s);

/* The forecast of one series. The demand_forecast view points into the arrays here. */
struct fc_entry {
	char series[FCM_NAME_MAX];
	bool is_app;
	enum fce_state state; /* outcome of the latest attempt */
	char why[320];        /* what the latest attempt said when not FCE_OK */
	unsigned attempt_round;
	/* the forecast (when has): from the latest round that produced one */
	bool has;
	unsigned round;
	int64_t computed_s;
	struct demand_forecast df;
	double *levels, *point, *q;
	struct fc_result *res; /* model, candidates, adjustments */
	size_t hist_n;         /* buckets of history used */
	int64_t hist_first_s;  /* start of the first of them */
	unsigned periods[FC_MAX_PERIODS];
	size_t n_periods;
};

void fc_entry_free(struct fc_entry *e);

/* ---- one round's work (built on the loop, run by the worker) ---------------------------- */

struct fc_job {
	char series[FCM_NAME_MAX];
	bool is_app;
	int64_t last_s;          /* time of the series' last value, -1 = none */
	struct fc_event *events; /* names point into ev_names */
	char (*ev_names)[CFG_NAME_MAX];
	size_t n_events;
	struct fc_entry *out; /* made by the worker */
};

struct fc_round {
	struct tidald *d;
	unsigned id;
	int64_t now_s;
	int64_t step_s; /* [forecast] bucket */
	size_t horizon; /* steps */
	bool allow_long;
	double levels[FC_MAX_QUANTILES];
	size_t n_levels;
	char models[256];
	unsigned seasons[FC_MAX_PERIODS]; /* in steps, ascending */
	size_t n_seasons;
	struct fc_job *jobs;
	size_t n_jobs;
	atomic_bool *cancel;
	double wall_s, cpu_s; /* measured by the worker */
};

/* forecast_run.c: make job->out from the history (runs in the worker thread). */
void fcm_run_job(const struct fc_round *r, struct fc_job *job);

/* ---- module state (forecast_mod.c) ----------------------------------------------------- */

struct fc_mod;

struct fc_mod *fcm_get(struct tidald *d);
/* The entry of a series (with or without a forecast), or NULL. */
const struct fc_entry *fcm_entry(struct fc_mod *m, const char *series);
struct rt_events *fcm_events(struct fc_mod *m);
/* Start a round now, or queue one after the running one. *round_id: the round that will
 * carry the request; *queued: it waits for the running round. 0 or a negative errno. */
int fcm_trigger(struct fc_mod *m, unsigned *round_id, bool *queued);
unsigned fcm_rounds_done(struct fc_mod *m);
/* Quantile levels the config asks for plus 0.05, 0.5 and 0.95 (the graph's band and median),
 * ascending; returns how many. */
size_t fcm_levels(const struct tidal_cfg *cfg, double out[FC_MAX_QUANTILES]);

/* Is name a series tidald knows: an app, a pool series or one with a history? */
bool fcm_series_known(struct tidald *d, const char *name, bool *is_app);
/* "a, b, c" of the known series for messages (malloc'd). */
char *fcm_known_list(struct tidald *d);

/* ---- ctl (forecast_ctl.c, forecast_graph.c) ---------------------------------------------- */

void fcm_ctl_register(struct tidald *d, struct fc_mod *m);
void fcm_graph_register(struct tidald *d, struct fc_mod *m);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast: probabilistic demand forecasts up to 72 h ahead (library libtidal-forecast).
 *
 * A series (regular samples, gaps filled and counted, one or more seasonal periods) goes in;
 * quantiles per horizon step come out, from the model that scored best in rolling-origin
 * cross-validation (or a combination of the best few), with intervals calibrated on the
 * out-of-sample errors of that cross-validation and adjusted for calendar events. The result
 * says which model was chosen and how every candidate scored, so the choice can be shown.
 *
 * Owns: the fc_series and fc_result objects it returns (free them with fc_series_free and
 * fc_result_free; both accept NULL). Pure computation: never reads or writes files, sockets
 * or clocks other than CPU time for the per-candidate seconds; never exits. Errors are
 * returned as negative errno values with a log message (common/log.h) naming the series and
 * what to change. Every function is reentrant: separate series may be forecast from
 * separate threads at the same time.
 *
 * Units: timestamps are UTC seconds since the epoch, steps are seconds, horizons and
 * periods are counted in samples ("steps") of the series.
 */
#ifndef TIDAL_FORECAST_H
#define TIDAL_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_NAME_MAX      64          /* model and event names, incl. NUL */
#define FC_MAX_PERIODS   4           /* seasonal periods per series */
#define FC_MAX_QUANTILES 64          /* quantile levels per request */
#define FC_MAX_HORIZON_S (72 * 3600) /* default limit of a forecast's reach in wall time */

/* ---- series ------------------------------------------------------------------------- */

struct fc_series;

struct fc_series_opts {
	const char *name; /* for messages (e.g. the CSV id or class); NULL = "series" */
	int64_t start;    /* UTC seconds of the first value; 0 = unknown */
	int64_t step;     /* seconds between values; 0 = 3600 */
	/* seasonal periods in steps, unused entries 0; all 0 = detect (fc_detect_periods) */
	unsigned periods[FC_MAX_PERIODS];
	bool nan_is_gap; /* NaN values are missing samples to fill (else -EINVAL) */
};

/* Zero-initialise opts: name NULL, unknown start, hourly step, detected periods. */
void fc_series_opts_init(struct fc_series_opts *o);

/* A series from n regularly spaced values (n >= 1). Infinite values are rejected, NaN too
 * unless o->nan_is_gap. Gaps are filled (short ones by linear interpolation, those longer
 * than a few steps from the same phase of the previous season, level-adjusted) and
 * counted. Returns 0 and *out, or -EINVAL (bad value or option, logged with its index),
 * -ENOMEM. */
int fc_series_new(const double *v, size_t n, const struct fc_series_opts *o,
                  struct fc_series **out);

/* A series from timestamped samples (a rate history), t[] non-decreasing UTC seconds.
 * Samples are averaged into buckets of o->step seconds aligned to multiples of the step;
 * buckets without samples are gaps (filled as above, counted). o->start is ignored.
 * Returns 0, -EINVAL (non-finite value, time going backwards, more than 10^7 buckets),
 * -ENOMEM. */
int fc_series_from_points(const int64_t *t, const double *v, size_t n,
                          const struct fc_series_opts *o, struct fc_series **out);

void fc_series_free(struct fc_series *s);

size_t fc_series_len(const struct fc_series *s);
const double *fc_series_values(const struct fc_series *s); /* gap-filled, finite */
int64_t fc_series_start(const struct fc_series *s);        /* 0 when unknown */
int64_t fc_series_step(const struct fc_series *s);
const char *fc_series_name(const struct fc_series *s);
size_t fc_series_gaps(const struct fc_series *s); /* values filled in */
/* Seasonal periods (given or detected), ascending; returns how many (<= FC_MAX_PERIODS). */
size_t fc_series_periods(const struct fc_series *s, unsigned out[FC_MAX_PERIODS]);

/* Which seasonal periods v[] shows: candidates come from the sampling step (a day and a
 * week of steps when step is known, e.g. 24 and 168 for hourly, 288 and 2016 for 5-minute
 * data) and from autocorrelation peaks; a period is kept when the series holds at least two
 * full cycles and the autocorrelation at that lag is significant. Returns the number
 * written to out[] (ascending). */
size_t fc_detect_periods(const double *v, size_t n, int64_t step, unsigned out[FC_MAX_PERIODS]);

/* ---- calendar events ---------------------------------------------------------------- */

/* A window [start, end) in UTC seconds. Past occurrences (inside the history) of an event
 * with the same name teach its effect; future ones adjust the forecast for the steps they
 * cover: by multiplier when > 0, else by the effect learned from past occurrences (no
 * adjustment when there are none). */
struct fc_event {
	const char *name;
	int64_t start;
	int64_t end;
	double multiplier; /* > 0 given; 0 = learn from past occurrences */
};

/* ---- forecasting -------------------------------------------------------------------- */

struct fc_params {
	size_t horizon;          /* steps ahead, >= 1 */
	const double *quantiles; /* levels in (0, 1), any order; NULL = 0.5, 0.8, 0.95,
	                            0.99 */
	size_t n_quantiles;
	const char *models;      /* "auto" or NULL (the default set), or a comma list of
	                            names from fc_model_name() */
	unsigned cv_origins;     /* rolling forecast origins scored (default 32, at
	                            most 64; fewer when the series is short) */
	unsigned cv_stride;      /* steps between origins (default: about a quarter of
	                            the horizon, rounded to whole shortest seasons) */
	size_t cv_window;        /* fit on at most this many recent values (0 = all) */
	unsigned combine;        /* combine up to this many best candidates when that
	                            scores better (default 3; 1 = never combine) */
	bool model_intervals;    /* use the models' own intervals, skip calibration */
	bool allow_long_horizon; /* permit horizon * step beyond FC_MAX_HORIZON_S */
	bool keep_candidates;    /* fill fc_candidate.point/q for every candidate */
	const struct fc_event *events;
	size_t n_events;
	uint64_t seed; /* for models with random initialisation */
};

/* Defaults for everything; horizon 24. */
void fc_params_init(struct fc_params *p);

/* How one candidate did in cross-validation. Scores are means over the origins; MASE and
 * MSIS are scaled by the in-sample seasonal naive error of each origin's training data,
 * MSIS and coverage use the candidate's own (uncalibrated) 95 % interval. */
struct fc_candidate {
	char family[FC_NAME_MAX]; /* registry name, e.g. "ets"; "combination" for a combo */
	char name[FC_NAME_MAX];   /* the fitted model, e.g. "ets(A,Ad,A)" */
	int status;               /* 0, or negative errno: not fitted / not usable */
	double cv_mase;
	double cv_smape;
	double cv_msis;
	double cv_coverage; /* share of CV values inside the 95 % interval */
	double score;       /* selection score, lower is better */
	double complexity;  /* effective number of parameters */
	double seconds;     /* CPU seconds to fit and cross-validate */
	bool selected;      /* the forecast uses this candidate */
	double *point;      /* keep_candidates only: [horizon] */
	double *q;          /* keep_candidates only: [horizon * n_quantiles] */
};

/* An event adjustment applied to the forecast. */
struct fc_adjustment {
	char event[FC_NAME_MAX];
	size_t first_step; /* 0-based step of the forecast */
	size_t n_steps;
	double multiplier;
	bool learned;         /* from past occurrences (else given) */
	unsigned occurrences; /* past occurrences it was learned from */
};

struct fc_result {
	size_t horizon;
	size_t n_quantiles;
	double *levels;              /* ascending quantile levels */
	int64_t *time;               /* UTC seconds of each step (0s when start unknown) */
	double *point;               /* point forecast per step */
	double *q;                   /* q[step * n_quantiles + j], non-decreasing in j */
	char model[2 * FC_NAME_MAX]; /* what was chosen, e.g. "ets(A,Ad,A)" or
	                                "median(ets,theta,snaive)" */
	bool combined;
	bool calibrated; /* intervals from cross-validation errors */
	size_t n_candidates;
	struct fc_candidate *cand; /* every candidate tried, in registry order, then any
	                              combination */
	size_t n_adjustments;
	struct fc_adjustment *adj;
	size_t gaps_filled; /* copied from the series */
	double seconds;     /* CPU seconds of the whole call */
};

/* Forecast s over p->horizon steps. Returns 0 and *out (free with fc_result_free), or
 * -EINVAL (bad params: unknown model name, quantile outside (0,1), horizon 0 or beyond the
 * 72 h limit), -EDOM (series too short for every requested model), -ENOMEM. Messages
 * name the series. */
int fc_forecast(const struct fc_series *s, const struct fc_params *p, struct fc_result **out);

void fc_result_free(struct fc_result *r);

/* Index of level in r->levels (within 1e-9), or -1. */
int fc_result_level(const struct fc_result *r, double level);

/* ---- model registry ----------------------------------------------------------------- */

size_t fc_model_count(void);
const char *fc_model_name(size_t i);    /* registry name, e.g. "snaive" */
const char *fc_model_summary(size_t i); /* one line for help texts */
bool fc_model_in_auto(size_t i);        /* part of the "auto" set */
/* Index of name, or -1. */
int fc_model_find(const char *name);

/* ---- accuracy measures (M4 definitions) ---------------------------------------------- */

/* Mean of 200 |y - f| / (|y| + |f|) over h steps (terms with y = f = 0 count 0). */
double fc_smape(const double *y, const double *f, size_t h);
/* Mean |x_t - x_{t-m}| over the training data: the MASE and MSIS scale (NAN if n <= m). */
double fc_mase_scale(const double *x, size_t n, unsigned m);
/* Mean |y - f| / scale. */
double fc_mase(const double *y, const double *f, size_t h, double scale);
/* Mean interval score of [lo, hi] at level 1 - alpha, divided by scale. */
double fc_msis(const double *y, const double *lo, const double *hi, size_t h, double alpha,
               double scale);
/* Share of y inside [lo, hi]. */
double fc_coverage(const double *y, const double *lo, const double *hi, size_t h);

#endif

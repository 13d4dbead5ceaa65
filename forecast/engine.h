/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: the state of one fc_forecast() call shared by its parts (internal to forecast/):
 * forecast.c (parameters, result), select.c (fitting, cross-validation, scores,
 * combinations), calib.c (conformal intervals, non-crossing quantiles), events.c
 * (calendar windows, learned effects).
 *
 * Everything here lives for one call and is freed by engine_free(); nothing is shared
 * between calls or threads.
 */
#ifndef TIDAL_FORECAST_ENGINE_H
#define TIDAL_FORECAST_ENGINE_H

#include "forecast.h"
#include "model.h"

#define ENG_MAX_LEVELS (FC_MAX_QUANTILES + 2)
#define ENG_MAX_CANDS  32

struct eng_calib_cache;

/* One candidate: a registry entry, or a combination of the best few. */
struct eng_cand {
	const struct fc_model_entry *e; /* NULL for a combination */
	char name[FC_NAME_MAX];
	int status;                 /* 0 ok; negative errno */
	int members[ENG_MAX_CANDS]; /* combinations: indices of the members */
	size_t n_members;
	bool median;     /* combination by median (else mean) */
	double *cv_mean; /* [k * h] forecasts from every origin */
	double *cv_q;    /* [k * h * nl] quantiles at every internal level */
	double *mean;    /* [h] final forecast, NULL until fitted */
	double *q;       /* [h * nl] */
	double complexity;
	double seconds;
	struct eng_calib_cache *calib; /* sorted CV error pools (calib.c), built on first use */
	double mase, smape, msis, coverage, score;
	bool scored;
	bool selected;
};

struct engine {
	const struct fc_series *s;
	const struct fc_params *p;
	const char *sname;
	const double *y; /* the training values (tail of the series) */
	double *y_clean; /* y with past event effects removed, or NULL */
	size_t n;
	size_t h;
	int64_t start; /* UTC seconds of y[0] (0 when unknown) */
	int64_t step;
	unsigned periods[FC_MAX_PERIODS];
	size_t n_periods;
	unsigned mase_m; /* the MASE lag: the shortest period, or 1 */
	double sd_floor; /* smallest predictive spread (keeps z finite) */

	/* internal levels: requested ∪ {0.025, 0.975}, ascending */
	double lv[ENG_MAX_LEVELS];
	size_t nl;
	size_t lo95, hi95;            /* indices of 0.025 / 0.975 in lv */
	size_t req[FC_MAX_QUANTILES]; /* lv index of each requested level (ascending) */
	size_t n_req;

	/* rolling origins: training lengths origin[0] < ... < origin[k-1] = n - h */
	size_t origin[64];
	size_t k;

	struct fc_window *win; /* event windows relative to y[0] */
	size_t n_win;
	struct fc_adjustment *adj; /* adjustments of the final forecast */
	size_t n_adj;
	double *ev_factor; /* [n + h] multiplier per step (1 outside events) */

	struct eng_cand cand[ENG_MAX_CANDS];
	size_t n_cand;
	int chosen; /* index into cand[] */
	bool calibrated;
};

/* select.c */
int eng_candidates(struct engine *e);
int eng_cross_validate(struct engine *e, struct eng_cand *c);
void eng_score(struct engine *e);
int eng_combine(struct engine *e);
int eng_choose(struct engine *e);
int eng_fit_final(struct engine *e, struct eng_cand *c);

/* calib.c: writes the final quantiles of the chosen candidate, calibrated from its CV
 * errors when possible, into q[h * n_req] (non-decreasing per step). loo >= 0 leaves origin
 * loo out and calibrates that origin's own forecast instead (for honest CV scoring). */
int eng_calibrate(const struct engine *e, struct eng_cand *c, const double *mean,
                  const double *q_model, int loo, const double *levels, size_t n_levels,
                  double *out);
void eng_sort_quantiles(double *q, size_t h, size_t nl);
void eng_calib_cache_free(struct eng_calib_cache *cc);

/* events.c */
int eng_events(struct engine *e);
void eng_event_apply(const struct engine *e, size_t from, size_t h, double *mean, double *q,
                     size_t nl);

void eng_free(struct engine *e);

#endif

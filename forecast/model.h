/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model: the plugin interface every forecasting model implements (internal to forecast/).
 *
 * A model is a const struct fc_model_ops in its own file plus one line in the registry
 * (models.c). The engine (forecast.c, select.c) fits each candidate on the training data,
 * cross-validates it over rolling origins, asks for its mean and quantiles, and never looks
 * inside its state. Models are pure math: no I/O, no globals that change, no exit(); every
 * call may run concurrently with other calls on other series.
 *
 * What a model may rely on (the engine guarantees it):
 *  - y[] is finite, n >= 1; periods[] are ascending, each >= 2 and n >= 2 * period (periods
 *    that do not fit the data are removed before the call; there may be none);
 *  - mean() and quantiles() are asked for h <= in->horizon steps;
 *  - quantile levels are ascending, in (0, 1);
 *  - the series may be on a transformed scale (log) chosen by the registry entry: the model
 *    does not need to know.
 * What the engine relies on:
 *  - fit() returns 0 and a model, or a negative errno and no model: -EDOM when the series is
 *    too short or unsuitable for this model (quietly skipped), -ENOMEM, -ERANGE when the
 *    estimation diverged (skipped with a debug message). fit() never keeps pointers into
 *    *in after it returns (copy what is needed).
 *  - mean() and quantiles() return finite values or a negative errno (the candidate is then
 *    dropped). Every model provides quantiles(), Gaussian ones from its residual spread at
 *    least (fc_model_gauss_quantiles); they need not be sorted: the engine rearranges
 *    them. The engine recalibrates them from cross-validation errors, so what matters most
 *    is their shape over the horizon (how the spread grows with the step).
 */
#ifndef TIDAL_FORECAST_MODEL_H
#define TIDAL_FORECAST_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forecast.h"

/* A calendar event window over the data, in steps relative to y[0]: [start, end) may lie
 * in the past (a past occurrence) or reach past n (a future one). Events with the same
 * name share the same id. */
struct fc_window {
	size_t start;
	size_t end;
	unsigned id;
	double multiplier; /* > 0 given by the user, 0 = to be learned */
};

struct fc_fit_in {
	const double *y; /* training data, finite */
	size_t n;
	const unsigned *periods; /* usable seasonal periods, ascending (may be none) */
	size_t n_periods;
	size_t horizon; /* the longest forecast that will be asked for */
	/* Calendar event windows, only for models with FC_MODEL_EVENTS (others see none: the
	 * engine removes the effect of past occurrences from y[] and adjusts their forecast
	 * afterwards). */
	const struct fc_window *events;
	size_t n_events;
	/* A model fitted by the same ops on the whole series, of which y[0..n) is a prefix (a
	 * rolling-origin rerun during cross-validation), or NULL. When set, keep its
	 * structure (orders, components, changepoints) and its parameters, and only run the
	 * filter / state update over y[0..n): cross-validation then costs about one pass per
	 * origin, and the intervals are calibrated on the very model that forecasts. A model
	 * that cannot do that may ignore it and fit afresh (costing a fit per origin). */
	const void *like;
	uint64_t seed; /* for random initialisation (same seed, same result) */
	int64_t step;  /* seconds per sample (3600 when unknown) */
};

enum fc_model_flags {
	FC_MODEL_AUTO = 1u << 0,     /* in the default ("auto") candidate set */
	FC_MODEL_SEASONAL = 1u << 1, /* needs at least one seasonal period (skipped without) */
	FC_MODEL_MULTI = 1u << 2,    /* uses several seasonal periods at once */
	FC_MODEL_EVENTS = 1u << 3,   /* models calendar events itself (gets fc_fit_in.events) */
	FC_MODEL_POSITIVE = 1u << 4, /* needs y > 0 (skipped otherwise) */
};

struct fc_model_ops {
	const char *name;    /* registry name: lower case, [a-z0-9_], e.g. "ets" */
	const char *summary; /* one line for help texts */
	/* Rough relative CPU cost of one fit on 1000 values: 1 (a pass over the data) .. 1000
	 * (an iterative search over many structures). The engine fits cheap models first. */
	unsigned cost;
	unsigned flags; /* enum fc_model_flags */

	int (*fit)(const struct fc_fit_in *in, void **model);
	/* Point forecast (the mean of the predictive distribution) for steps 1..h. */
	int (*mean)(const void *model, size_t h, double *out);
	/* out[s * n_levels + j]: quantile levels[j] at step s + 1, s < h. */
	int (*quantiles)(const void *model, size_t h, const double *levels, size_t n_levels,
	                 double *out);
	/* The fitted model, e.g. "ets(A,Ad,N)", "arima(2,0,1)(0,1,1)[24]". */
	void (*describe)(const void *model, char *buf, size_t len);
	/* Effective number of estimated parameters (ties in selection go to the simpler). */
	double (*complexity)(const void *model);
	void (*free)(void *model);
};

/* ---- registry (models.c) ------------------------------------------------------------ */

enum fc_transform {
	FC_TF_NONE = 0,
	FC_TF_LOG, /* fit on log(y) (positive series only), quantiles mapped back by exp */
};

struct fc_model_entry {
	const char *name; /* candidate name for --models, e.g. "ets", "ets_log" */
	const struct fc_model_ops *ops;
	enum fc_transform transform;
	bool in_auto; /* part of "auto" */
};

extern const struct fc_model_entry fc_models[];
extern const size_t fc_n_models;

/* The ops registered under name (ignoring transforms), for models built from others
 * (e.g. a decomposition that forecasts its remainder with ETS). NULL when unknown. */
const struct fc_model_ops *fc_model_ops_find(const char *name);

/* ---- helpers shared by models (modelutil.c) ----------------------------------------- */

/* out[s * n_levels + j] = mean[s] + sd[s] * Phi^-1(levels[j]). */
void fc_model_gauss_quantiles(const double *mean, const double *sd, size_t h, const double *levels,
                              size_t n_levels, double *out);

/* Standard deviation of the residuals r[0..n) around zero, with dof degrees of freedom
 * used by the fit (at least 1 remains). */
double fc_model_resid_sd(const double *r, size_t n, size_t dof);

/* Classical multiplicative (mult = true) or additive decomposition with period m: writes
 * the m seasonal indices (normalised to mean 1, resp. 0) for phases 0..m-1 of y[0..n),
 * i.e. phase(t) = t % m. Returns 0, or -EDOM when n < 2 m. */
int fc_model_seasonal_indices(const double *y, size_t n, unsigned m, bool mult, double *idx);

/* True when the autocorrelation at lag m is significant at 90 % (the test the M4 benchmarks
 * use before seasonal adjustment). */
bool fc_model_seasonality_test(const double *y, size_t n, unsigned m);

/* ---- entry points of particular models (for models built on others, and tests) ---- */

/* Fit one ETS form, e.g. "ANN", "AAN", "ADN" (damped), "ANA", "AAM" (error always A), on
 * in (the season is in->periods[0]); the model works with the "ets" ops. Returns 0, or
 * -EINVAL (unknown form), -EDOM (too little data for it), -ERANGE, -ENOMEM. */
int fc_ets_fit_form(const struct fc_fit_in *in, const char *form, void **model);
/* An ETS model of the given form with given smoothing parameters par = {alpha, beta,
 * gamma, phi} and initial states x0 = level, [trend,] [seasonal states by phase: x0[k] is
 * the one y[0] uses first, ...], run over y[0..n) (no estimation). For tests against other
 * implementations' recursions. */
int fc_ets_from(const char *form, unsigned m, const double par[4], const double *x0,
                const double *y, size_t n, void **model);
/* Sum of squared one-step errors of a fitted ETS model. */
double fc_ets_sse(const void *model);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demand: the history and forecast of every demand series of a region, as the rest of
 * tidald sees them (modules `history` and `forecast`).
 *
 * Series. Each [app.*] is a series named after the app: its egress rate in bits/s summed
 * over the dataplane's interfaces, sampled by the collector every sample_interval and
 * averaged into buckets of [forecast] bucket. Pools are series named "pool.NAME.vcpu",
 * "pool.NAME.memory", "pool.NAME.storage" (units vcpu, bytes, bytes) fed by `tidalctl
 * ingest`; any other ingested name is an external series (used as a regressor or just
 * graphed). History lives in round-robin archives (librrd) under <state_dir>/rrd/.
 *
 * Forecasts. Every [forecast] period (default hourly, at least the bucket) each series with
 * enough history is forecast over [forecast] horizon at the configured quantiles (plus 5 %,
 * 50 % and 95 %), with the calendar events of the config and of `tidalctl event add`
 * applied (docs/forecasting.md). The latest forecast of each series stays available until
 * the next one replaces it.
 */
#ifndef TIDAL_CONTROL_DEMAND_H
#define TIDAL_CONTROL_DEMAND_H

#include <stddef.h>
#include <stdint.h>

struct tidald;

struct demand_forecast {
	char series[80];   /* "video", "pool.compute.vcpu" */
	char model[96];    /* the chosen model, e.g. "ets(A,Ad,A)" or "median(ets,theta)" */
	int64_t origin_s;  /* UTC seconds: start of the first forecast step */
	uint64_t step_s;   /* seconds per step (the bucket) */
	size_t h;          /* number of steps */
	size_t n_levels;   /* quantile levels, ascending */
	const double *levels;
	const double *point;    /* [h] point forecast (the median when 0.5 is a level) */
	const double *q;        /* [h * n_levels]: q[s * n_levels + j] for step s, level j */
	double event_factor_max; /* largest calendar-event multiplier applied (1 = none) */
};

/* ---- history (module "history") ------------------------------------------------------ */

/* Append one value of a series at at_s (creating its archive on first use). Values older
 * than the series' last one are refused with -ERANGE (a clock that stepped back): the
 * archive keeps what it has. */
int demand_record(struct tidald *d, const char *series, int64_t at_s, double value);
/* The history of a series at step_s resolution (the archive's closest), covering
 * [from_s, to_s): *v is malloc'd (the caller frees it), NaN where unknown; *first_s is the
 * time of v[0] (the end of the interval it averages) and *step_out the resolution
 * returned. -ENOENT for an unknown series. Safe to call from any thread. */
int demand_history(struct tidald *d, const char *series, int64_t from_s, int64_t to_s,
		   int64_t step_s, double **v, size_t *n, int64_t *first_s, int64_t *step_out);
/* Names of the series with a history (JSON-free: a NULL-terminated array the caller frees
 * with free(), strings included in the same block). */
char **demand_series_list(struct tidald *d);

/* ---- forecasts (module "forecast") ------------------------------------------------------ */

/* The latest forecast of a series, or NULL when none has been made yet. Valid until the
 * next TIDALD_EV_FORECAST_UPDATED. */
const struct demand_forecast *demand_forecast_get(struct tidald *d, const char *series);

/* Data of TIDALD_EV_FORECAST_UPDATED: every series forecast in this round. */
struct demand_update {
	int64_t at_s;
	size_t n;
	const struct demand_forecast *const *forecasts;
};

/* Quantile `level` of a forecast at step s, interpolated between the computed levels (and
 * clamped to the outermost ones). */
double demand_quantile(const struct demand_forecast *f, size_t s, double level);

#endif

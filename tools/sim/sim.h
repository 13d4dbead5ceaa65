/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim: tidal-sim, the discrete-time simulator of many regions (docs/sim.md).
 *
 * A scenario (topology INI + traces) gives regions, directed links, pools and demand
 * classes with a demand rate per simulation step. Each policy is simulated on the same
 * scenario, from the same start, with the real code: forecasts from the forecast library
 * (forecast/forecast.h), decisions from the allocation controller (control/alloc.h),
 * bookings in capacity calendars (control/calendar.h). Policies differ only in what the
 * controller is told the demand will be:
 *   static     the peak of the history, every period
 *   reactive   the rate measured now, every reactive period, sized to a utilisation
 *              threshold (scale up above reactive_up, down below reactive_down)
 *   proactive  tidal: forecast quantiles refreshed every forecast_every
 *   oracle     the actual future (perfect foresight, no headroom): the lower bound
 *
 * Files: topo.c (INI, traces, OD matrices, synthetic scenarios), run.c (the simulation
 * loop, forecasts, metrics), report.c (table, JSON, PNG plot with librrd), main.c (CLI).
 */
#ifndef TIDAL_SIM_H
#define TIDAL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc.h"

#define SIM_NAME_MAX      96
#define SIM_MAX_QUANTILES 16
#define SIM_MAX_SEASONS   4

enum sim_policy {
	SIM_STATIC = 0,
	SIM_REACTIVE,
	SIM_PROACTIVE,
	SIM_ORACLE,
	SIM_N_POLICIES,
};

struct sim_link {
	char name[SIM_NAME_MAX]; /* "link.a-b" */
	int from, to;
	uint64_t capacity;      /* bits/s */
	double capacity_factor; /* > 0: capacity = factor x peak direct demand (resolved at load) */
	uint32_t lead_s;
};

struct sim_pool {
	char name[SIM_NAME_MAX]; /* "pool.NAME.vcpu" */
	int region;
	enum alloc_kind kind;
	uint64_t capacity;
	uint32_t lead_s;
};

struct sim_class {
	char name[SIM_NAME_MAX];
	enum alloc_kind kind;
	int src, dst;
	unsigned priority;
	double weight, slo_quantile, headroom;
	uint64_t min_rate, max_rate;
	float *demand; /* [n_steps] rate per step (bits/s, vCPUs, bytes) */
};

struct sim_scenario {
	char (*regions)[SIM_NAME_MAX];
	size_t n_regions;
	struct sim_link *links;
	size_t n_links;
	struct sim_pool *pools;
	size_t n_pools;
	struct sim_class *cls;
	size_t n_cls;

	int64_t t0;        /* UTC time of step 0 */
	uint32_t step_s;   /* simulation step = trace resolution */
	size_t n_steps;    /* history + simulated */
	size_t hist_steps; /* steps before the simulated window */

	uint32_t block_s, period_s, forecast_every_s, reactive_period_s;
	uint32_t lead_s, lease_lead_s, warmup_s;
	double release_above, reactive_up, reactive_down;
	unsigned max_hops;

	/* forecasting (proactive) */
	char models[256];
	double quantiles[SIM_MAX_QUANTILES];
	size_t n_quantiles;
	uint32_t seasons_s[SIM_MAX_SEASONS];
	size_t n_seasons;
	uint32_t fc_window_s; /* fit on at most this much history (0 = all) */
	unsigned fc_origins;  /* cross-validation origins (0 = library default) */
};

/* Options from the command line that shape the scenario. */
struct sim_load_opts {
	const char *traces_dir; /* trace paths in the INI are relative to it */
	double days;            /* simulated days; 0 = the INI's */
	const char *models;     /* NULL = the INI's */
};

/* Load a scenario. 0, or -errno with err (FILE:section.key: message) filled. */
int sim_scenario_load(const char *ini, const struct sim_load_opts *o, struct sim_scenario **out,
                      char *err, size_t errlen);
void sim_scenario_free(struct sim_scenario *s);

/* Metrics of one policy over the evaluation window (after warm-up). Bandwidth classes;
 * pool classes are summed separately (units of their kind). */
struct sim_metrics {
	double demand_bits, served_bits, unserved_bits; /* bits (rate x time) */
	double reserved_bith, unused_bith, used_bith;   /* bit-hours (bits/s x hours) */
	double violation_min[ALLOC_PRIO_LEVELS];        /* class-minutes with demand > reserved */
	double violation_min_total;
	double pool_unit_h_reserved, pool_unit_h_unused, pool_violation_min;
	uint64_t level_changes; /* times a class's reserved level changed */
	uint64_t requests, releases, preemptions, refused;
	double max_link_util; /* highest booked/capacity seen on any link at any step */
	size_t cycles;
	double ctl_ms_mean, ctl_ms_max; /* controller (alloc_run and its input) per cycle */
	size_t fc_rounds;
	double fc_s_mean, fc_s_total;  /* forecasting per round (proactive) */
	size_t fc_failed;              /* forecasts that failed (class fell back to measured) */
	size_t fc_checked, fc_covered; /* block peaks (within forecast_every) at or below the
	                                  class's SLO quantile of the forecast made for them */
	double wall_s;
	int64_t eval_start, eval_end;
};

/* A link's demand and reservation per step, for the plot. */
struct sim_series {
	int link;       /* link index, or -1 for none */
	size_t n;       /* steps in the evaluation window */
	double *demand; /* demand of the classes whose direct link it is */
	double *booked; /* calendar level of the link (everything booked on it) */
};

struct sim_run_opts {
	unsigned threads; /* forecasting threads (0 = 1) */
	bool verbose;
	int plot_link; /* link to record, or -1 */
};

/* Simulate one policy. 0 or -errno (message logged). */
int sim_run(const struct sim_scenario *s, enum sim_policy pol, const struct sim_run_opts *o,
            struct sim_metrics *m, struct sim_series *series);
void sim_series_free(struct sim_series *x);

const char *sim_policy_name(enum sim_policy p);
int sim_policy_parse(const char *s, enum sim_policy *p);

/* report.c */
struct sim_report {
	const struct sim_scenario *s;
	bool ran[SIM_N_POLICIES];
	struct sim_metrics m[SIM_N_POLICIES];
	struct sim_series series[SIM_N_POLICIES];
	int plot_link;
	double plot_days; /* plot only the first days of the evaluation window (0 = all) */
};
void sim_report_table(const struct sim_report *r, FILE *out);
int sim_report_json(const struct sim_report *r, FILE *out);
/* PNG of demand vs reservation on the plot link for every policy run (librrd). */
int sim_report_plot(const struct sim_report *r, const char *png, char *err, size_t errlen);

#endif

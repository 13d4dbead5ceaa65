/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backtest: accuracy bookkeeping of tidal-forecast --backtest: per method (every candidate
 * model, each kind of combination, the selected forecast, and the Naive2 benchmark), the
 * M4 measures of each series, summed and printed as a table (or JSON).
 *
 * Owns the bt_table rows. Not thread-safe: the caller adds series one at a time.
 */
#ifndef TIDAL_TOOLS_FORECAST_BACKTEST_H
#define TIDAL_TOOLS_FORECAST_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define BT_NAME_MAX 64

struct bt_score {
	double smape, mase, msis, coverage, seconds;
};

struct bt_row {
	char name[BT_NAME_MAX];
	size_t n;      /* series scored */
	size_t chosen; /* series where it was (part of) the selected forecast */
	double smape, mase, msis, coverage, seconds; /* sums */
};

struct bt_table {
	struct bt_row *rows;
	size_t n;
	size_t series; /* series scored */
	size_t failed; /* series not forecast */
};

/* Scores of one forecast against the held-out values y[0..h); train[0..n) gives the MASE
 * scale at lag m; lo/hi the 95 % interval (may be NULL: no interval scores). */
struct bt_score bt_measure(const double *train, size_t n, unsigned m, const double *y, size_t h,
                           const double *f, const double *lo, const double *hi, double seconds);

void bt_add(struct bt_table *t, const char *name, const struct bt_score *s, bool chosen);
void bt_print(const struct bt_table *t, FILE *out, double wall_seconds, unsigned threads);
/* One JSON document (jansson) on out. */
int bt_print_json(const struct bt_table *t, FILE *out, double wall_seconds, unsigned threads);
void bt_free(struct bt_table *t);

#endif

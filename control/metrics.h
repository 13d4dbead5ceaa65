/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: Prometheus text exposition (format 0.0.4) for GET /metrics.
 *
 * A writer collects families; each module announces a family once (name, type, help)
 * and then adds samples with label pairs. Label values are escaped here; names are the
 * caller's (constants in code). Output passes `promtool check metrics`.
 */
#ifndef TIDAL_CONTROL_METRICS_H
#define TIDAL_CONTROL_METRICS_H

#include <stddef.h>

struct metrics_writer;

/* UNTYPED is for gauges that carry a "quantile" label outside a summary (forecast
 * quantiles): promtool's lint reserves that label for summaries, except on untyped
 * families. */
enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_UNTYPED };

/* Start a family. Counters' names end in _total, by convention and promtool's check. */
void metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type,
		    const char *help);
/* One sample of the current family: label name/value pairs ending with NULL, e.g.
 * metrics_sample(w, 1e10, "link", "fra-ams", NULL). */
void metrics_sample(struct metrics_writer *w, double value, ...) __attribute__((sentinel));

/* Used by the core and by tests. */
struct metrics_writer *metrics_writer_new(void);
void metrics_writer_free(struct metrics_writer *w);
const char *metrics_writer_text(struct metrics_writer *w, size_t *len);

#endif

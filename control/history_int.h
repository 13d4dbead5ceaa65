/* SPDX-License-Identifier: Apache-2.0 */
/*
 * history_int: what the history module's files share (history.c, history_ctl.c).
 */
#ifndef TIDAL_CONTROL_HISTORY_INT_H
#define TIDAL_CONTROL_HISTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidald.h"

#define HIST_NAME_MAX 80

extern const struct tidald_module_ops tidald_history_module;

/* Series names: letters, digits, '.', '-', '_' (not leading '.'), shorter than 80. */
bool hist_name_ok(const char *name);
/* Read one archive (see demand_history). */
int hist_fetch(const char *path, const char *cf, int64_t from_s, int64_t to_s, int64_t step_s,
	       double **v, size_t *n, int64_t *first_s, int64_t *step_out);
/* Add n values (t strictly ascending) to a series: after its last value, or entirely
 * before its first. On failure err says why and the archive is unchanged. */
int hist_ingest(struct tidald *d, const char *name, const int64_t *t, const double *v,
		size_t n, char *err, size_t errlen);
/* Time of the last value of a series, or -1 when it has none. */
int64_t hist_last(struct tidald *d, const char *name);
/* Path of a series' archive (whether or not it exists). */
void hist_path(struct tidald *d, const char *name, char *buf, size_t len);
/* Register `ingest` and `show series`. */
void hist_ctl_register(struct tidald *d);

#endif

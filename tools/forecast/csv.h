/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csv: the input files of tidal-forecast. Wide (one series per row: id, then values; the M4
 * layout, quoted or not, ragged rows, optional header) and long (id,timestamp,value rows,
 * timestamps in UTC ISO 8601 or epoch seconds, series in any order).
 *
 * Owns the fcsv_set it fills (fcsv_free). A malformed row spoils only its own series: that
 * series carries a "FILE:LINE: message" error and the others load normally.
 */
#ifndef TIDAL_TOOLS_FORECAST_CSV_H
#define TIDAL_TOOLS_FORECAST_CSV_H

#include <stddef.h>
#include <stdint.h>

enum fcsv_format {
	FCSV_AUTO = 0,
	FCSV_WIDE,
	FCSV_LONG,
};

struct fcsv_series {
	char *id;
	double *v;  /* values; NaN = missing */
	int64_t *t; /* long format: UTC seconds of each value (else NULL) */
	size_t n;
	size_t cap;
	size_t line; /* first line of the series */
	char *error; /* "FILE:LINE: message" when malformed, else NULL */
};

struct fcsv_set {
	struct fcsv_series *s;
	size_t n;
	size_t cap;
	enum fcsv_format format; /* the format read */
};

/* Read path ("-" = stdin). Returns 0, or -errno when the file cannot be read at all (with a
 * message on stderr). */
int fcsv_read(const char *path, enum fcsv_format fmt, struct fcsv_set *out);
void fcsv_free(struct fcsv_set *set);

/* Index of the series with this id, or -1. */
long fcsv_find(const struct fcsv_set *set, const char *id);

/* A timestamp of a data row: integer epoch seconds, or ISO 8601 as cfg_parse_time reads
 * it ("2024-03-01T12:00:00Z", "+01:00" offsets, a space for the T), where a missing zone
 * means UTC and a date alone its midnight UTC. Returns 0 or -EINVAL. */
int fcsv_parse_time(const char *s, int64_t *out);

#endif

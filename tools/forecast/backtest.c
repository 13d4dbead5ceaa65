/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backtest: sums of the M4 measures per method and the --backtest table (see backtest.h).
 * OWA is relative to the Naive2 row (the M4 definition) when that row is present.
 */
#include "backtest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "forecast.h"

struct bt_score bt_measure(const double *train, size_t n, unsigned m, const double *y, size_t h,
                           const double *f, const double *lo, const double *hi, double seconds)
{
	struct bt_score s;
	double scale = fc_mase_scale(train, n, m);

	if (!(scale > 0))
		scale = fc_mase_scale(train, n, 1);
	s.smape = fc_smape(y, f, h);
	s.mase = fc_mase(y, f, h, scale);
	s.msis = lo && hi ? fc_msis(y, lo, hi, h, 0.05, scale) : NAN;
	s.coverage = lo && hi ? fc_coverage(y, lo, hi, h) : NAN;
	s.seconds = seconds;
	return s;
}

static struct bt_row *row(struct bt_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	struct bt_row *nr = realloc(t->rows, (t->n + 1) * sizeof(*nr));
	if (!nr)
		return NULL;
	t->rows = nr;
	struct bt_row *r = &t->rows[t->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

void bt_add(struct bt_table *t, const char *name, const struct bt_score *s, bool chosen)
{
	struct bt_row *r = row(t, name);

	if (!r)
		return;
	r->n++;
	r->chosen += chosen;
	r->smape += s->smape;
	r->mase += s->mase;
	r->msis += isfinite(s->msis) ? s->msis : 0;
	r->coverage += isfinite(s->coverage) ? s->coverage : 0;
	r->seconds += s->seconds;
}

static const struct bt_row *find(const struct bt_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	return NULL;
}

static double owa(const struct bt_table *t, const struct bt_row *r)
{
	const struct bt_row *ref = find(t, "naive2");

	if (!ref || !ref->n || !r->n || ref->smape <= 0 || ref->mase <= 0)
		return NAN;
	return 0.5 * ((r->smape / r->n) / (ref->smape / ref->n) +
	              (r->mase / r->n) / (ref->mase / ref->n));
}

void bt_print(const struct bt_table *t, FILE *out, double wall_seconds, unsigned threads)
{
	fprintf(out, "%-22s %5s %6s %8s %8s %7s %8s %8s %10s\n", "method", "n", "chosen", "sMAPE",
	        "MASE", "OWA", "MSIS", "cov95", "s/series");
	for (size_t i = 0; i < t->n; i++) {
		const struct bt_row *r = &t->rows[i];
		double n = r->n ? (double)r->n : NAN;
		bool intervals = strcmp(r->name, "naive2") != 0;
		fprintf(out, "%-22s %5zu %6zu %8.3f %8.3f %7.3f ", r->name, r->n, r->chosen,
		        r->smape / n, r->mase / n, owa(t, r));
		if (intervals)
			fprintf(out, "%8.3f %7.1f%% ", r->msis / n, 100 * r->coverage / n);
		else
			fprintf(out, "%8s %8s ", "-", "-");
		fprintf(out, "%10.4f\n", r->seconds / n);
	}
	fprintf(out, "%zu series scored, %zu failed; %.1f s wall time on %u threads\n", t->series,
	        t->failed, wall_seconds, threads);
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int bt_print_json(const struct bt_table *t, FILE *out, double wall_seconds, unsigned threads)
{
	json_t *root = json_object(), *rows = json_array();

	if (!root || !rows)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct bt_row *r = &t->rows[i];
		double n = r->n ? (double)r->n : NAN;
		bool intervals = strcmp(r->name, "naive2") != 0;
		json_t *o = json_object();
		json_object_set_new(o, "method", json_string(r->name));
		json_object_set_new(o, "series", json_integer((json_int_t)r->n));
		json_object_set_new(o, "chosen", json_integer((json_int_t)r->chosen));
		json_object_set_new(o, "smape", num(r->smape / n));
		json_object_set_new(o, "mase", num(r->mase / n));
		json_object_set_new(o, "owa", num(owa(t, r)));
		json_object_set_new(o, "msis", intervals ? num(r->msis / n) : json_null());
		json_object_set_new(o, "coverage95",
		                    intervals ? num(r->coverage / n) : json_null());
		json_object_set_new(o, "seconds_per_series", num(r->seconds / n));
		json_array_append_new(rows, o);
	}
	json_object_set_new(root, "methods", rows);
	json_object_set_new(root, "series", json_integer((json_int_t)t->series));
	json_object_set_new(root, "failed", json_integer((json_int_t)t->failed));
	json_object_set_new(root, "wall_seconds", json_real(wall_seconds));
	json_object_set_new(root, "threads", json_integer(threads));
	int rc = json_dumpf(root, out, JSON_INDENT(2)) == 0 ? 0 : -EIO;
	fputc('\n', out);
	json_decref(root);
	return rc;
}

void bt_free(struct bt_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

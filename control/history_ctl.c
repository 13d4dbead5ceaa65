/* SPDX-License-Identifier: Apache-2.0 */
/*
 * history_ctl: `tidalctl ingest SERIES FILE.csv` and `tidalctl show series`.
 *
 * Ingest reads the whole file and checks every line before anything is written: a file
 * with any bad line is refused with each problem as FILE:LINE, and the archive stays as
 * it was. Lines are "timestamp,value": the time in ISO 8601 UTC or seconds since the
 * epoch, strictly increasing, after 1970 and not ahead of the daemon's clock (a future
 * value would block the collector's samples until then); a header line (the first line
 * that is not blank or a comment), blank lines and '#' comments are skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "demand.h"
#include "history_int.h"
#include "log.h"
#include "units.h"

#define MAX_POINTS 20000000
#define MAX_REPORTED 10
#define FUTURE_SLACK_S 60 /* clocks of the file's source and of tidald may differ a little */

struct points {
	int64_t *t;
	double *v;
	size_t n, cap;
};

static int points_add(struct points *p, int64_t t, double v)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4096;
		int64_t *nt = realloc(p->t, cap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		p->t = nt;
		double *nv = realloc(p->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = cap;
	}
	p->t[p->n] = t;
	p->v[p->n++] = v;
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '"')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n' ||
			 e[-1] == '"'))
		*--e = '\0';
	return s;
}

static int parse_time_field(const char *s, int64_t *t)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s && *end == '\0' && errno == 0) {
		*t = v;
		return 0;
	}
	return cfg_parse_time(s, t, NULL);
}

/* Parse the file into p; report problems into f (a memstream) and count them. */
static size_t parse_csv(const char *path, int64_t now, struct points *p, FILE *f)
{
	FILE *in = fopen(path, "r");
	if (!in) {
		fprintf(f, "\n%s: cannot open: %s", path, strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t cap = 0, errors = 0;
	unsigned long lineno = 0;
	ssize_t len;
	bool first = true;
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		char *l = trim(line);
		if (!*l || *l == '#')
			continue;
		bool header_ok = first;
		first = false;
		char *comma = strchr(l, ',');
		const char *why = NULL;
		int64_t t = 0;
		double v = 0;
		if (!comma) {
			why = "expected timestamp,value";
		} else {
			*comma = '\0';
			char *ts = trim(l), *vs = trim(comma + 1), *end;
			if (strchr(vs, ','))
				why = "expected two fields, timestamp,value";
			else if (parse_time_field(ts, &t) < 0) {
				if (header_ok)
					continue; /* a header line */
				why = "timestamp is neither ISO 8601 UTC nor seconds since the "
				      "epoch";
			} else if (t <= 0) {
				why = "timestamp is not after 1970-01-01T00:00:00Z";
			} else if (t > now + FUTURE_SLACK_S) {
				why = "timestamp is in the future (ahead of the daemon's clock)";
			} else {
				errno = 0;
				v = strtod(vs, &end);
				if (end == vs || *end || errno == ERANGE || !isfinite(v))
					why = "value is not a finite number";
				else if (p->n && t <= p->t[p->n - 1])
					why = "timestamp is not after the previous line's";
			}
		}
		if (why) {
			if (errors++ < MAX_REPORTED)
				fprintf(f, "\n%s:%lu: %s", path, lineno, why);
			continue;
		}
		if (p->n >= MAX_POINTS) {
			fprintf(f, "\n%s:%lu: more than %d values; split the file", path, lineno,
				MAX_POINTS);
			errors++;
			break;
		}
		if (points_add(p, t, v) < 0) {
			fprintf(f, "\n%s: out of memory", path);
			errors++;
			break;
		}
	}
	if (ferror(in)) {
		fprintf(f, "\n%s: read error", path);
		errors++;
	}
	free(line);
	fclose(in);
	if (errors > MAX_REPORTED)
		fprintf(f, "\n... and %zu more", errors - MAX_REPORTED);
	if (!errors && p->n == 0) {
		fprintf(f, "\n%s: no values", path);
		errors++;
	}
	return errors;
}

static enum ctl_status cmd_ingest(struct tidald *d, void *arg, const struct ctl_request *req,
				  struct ctl_reply *rep)
{
	const char *name = ctl_arg(req, 0), *path = ctl_arg(req, 1);
	(void)arg;
	if (!name || !path)
		return ctl_fail(rep, CTL_USAGE, "ingest needs SERIES FILE.csv");
	if (!hist_name_ok(name))
		return ctl_fail(rep, CTL_USAGE,
				"series name '%s': use letters, digits, '.', '-', '_' (at most %d)",
				name, HIST_NAME_MAX - 1);

	struct points p = {0};
	char *msg = NULL;
	size_t mlen = 0;
	FILE *f = open_memstream(&msg, &mlen);
	size_t errors = parse_csv(path, tidald_now(), &p, f);
	fclose(f);
	enum ctl_status st = CTL_OK;
	if (errors) {
		ctl_fail(rep, CTL_REFUSED, "ingest of %s refused, nothing written:%s", name, msg);
		st = CTL_REFUSED;
	} else {
		char err[512] = "";
		int rc = hist_ingest(d, name, p.t, p.v, p.n, err, sizeof(err));
		if (rc < 0) {
			st = rc == -ERANGE ? CTL_REFUSED : CTL_INTERNAL;
			ctl_fail(rep, st, "ingest of %s refused: %s", name, err);
		} else {
			char a[32], b[32];
			cfg_fmt_time(p.t[0], a, sizeof(a));
			cfg_fmt_time(p.t[p.n - 1], b, sizeof(b));
			rep->data = json_pack("{s:s,s:I,s:s,s:s}", "series", name, "values",
					      (json_int_t)p.n, "first", a, "last", b);
			if (asprintf(&rep->text, "%s: %zu values from %s to %s", name, p.n, a, b) <
			    0)
				rep->text = NULL;
			log_info("ingested %zu values into %s from %s", p.n, name, path);
		}
	}
	free(msg);
	free(p.t);
	free(p.v);
	return st;
}

static enum ctl_status cmd_series(struct tidald *d, void *arg, const struct ctl_request *req,
				  struct ctl_reply *rep)
{
	(void)arg, (void)req;
	char **names = demand_series_list(d);
	static const char *const cols[] = {"series", "last value at"};
	rep->table = ctl_table_new(cols, 2);
	rep->data = json_array();
	for (size_t i = 0; names && names[i]; i++) {
		char ts[32] = "-";
		int64_t last = hist_last(d, names[i]);
		if (last > 0)
			cfg_fmt_time(last, ts, sizeof(ts));
		const char *row[] = {names[i], ts};
		ctl_table_add(rep->table, row, 2);
		json_array_append_new(rep->data,
				      json_pack("{s:s,s:s?}", "series", names[i], "last",
						last > 0 ? ts : NULL));
	}
	free(names);
	return CTL_OK;
}

void hist_ctl_register(struct tidald *d)
{
	ctl_register(d, "ingest", cmd_ingest, NULL,
		     "add values to a series from a CSV file (timestamp,value)");
	ctl_register(d, "show series", cmd_series, NULL, "series with a history");
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidal-forecast: offline forecasting with the forecast library. CSV in (wide or long),
 * quantile forecasts out (id,step,point,q<level>...), or with --backtest the accuracy of
 * every candidate model and of the selected forecast on held-out data.
 *
 * Owns the input set, the per-series results and the worker threads. Series are independent:
 * a malformed row or a failing series is reported (FILE:LINE or the series id) and the
 * others go on; the exit status is then 1.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backtest.h"
#include "csv.h"
#include "forecast.h"
#include "log.h"
#include "units.h"

struct opts {
	const char *input, *output, *test, *events_path;
	enum fcsv_format format;
	size_t horizon;
	unsigned periods[FC_MAX_PERIODS];
	double quantiles[FC_MAX_QUANTILES];
	size_t n_quantiles;
	const char *models;
	unsigned threads;
	bool json, backtest, progress;
	int64_t step, start;
	struct fc_params base;
	struct fc_event *events;
	size_t n_events;
};

struct job {
	struct fcsv_series *in;
	const double *actual; /* backtest: held-out values */
	struct fc_result *res;
	struct fc_result *ref; /* backtest: the Naive2 benchmark */
	const double *train;   /* the values the forecast was made from */
	size_t n_train;
	unsigned mase_m;
	double *filled; /* gap-filled training values (owned) */
	int rc;
	char err[256];
};

struct run {
	struct opts *o;
	struct job *jobs;
	size_t n;
	atomic_size_t next, done;
	pthread_mutex_t lock;
	double t0, last_draw;
	bool draw;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tidal-forecast -i FILE [--format wide|long] --horizon N [--period P[,P2]]\n"
	        "         [--quantiles L,...] [--models auto|NAME,...] [-o FILE] [--threads N] "
	        "[-j]\n"
	        "       tidal-forecast --backtest -i FILE [--test FILE] --horizon N ...\n"
	        "\n"
	        "  -i, --input FILE        CSV: wide (id,v1,v2,... per row) or long "
	        "(id,timestamp,value)\n"
	        "      --format F          wide | long (default: detected from the first row)\n"
	        "  -H, --horizon N         steps to forecast (default 24)\n"
	        "  -p, --period LIST       seasonal periods in steps, e.g. 24,168 (default: "
	        "detect)\n"
	        "  -q, --quantiles LIST    levels in (0,1) (default 0.025,0.1,0.5,0.9,0.975)\n"
	        "  -m, --models LIST       auto (default) or names from --list-models\n"
	        "  -o, --output FILE       forecasts CSV id,step,point,q<level>... (default "
	        "stdout;\n"
	        "                          with --backtest only when given)\n"
	        "  -t, --threads N         worker threads (default: all cores)\n"
	        "  -j, --json              JSON on stdout instead of CSV / the table\n"
	        "      --backtest          hold out the last N values of each series (or use "
	        "--test)\n"
	        "                          and print sMAPE, MASE, OWA, MSIS, 95%% coverage, "
	        "seconds\n"
	        "      --test FILE         held-out values (wide, same ids), e.g. M4 "
	        "Hourly-test.csv\n"
	        "      --step DURATION     sampling step, e.g. 3600, 5m, 1h (default 1h; long "
	        "input:\n"
	        "                          detected)\n"
	        "      --start TIME        UTC time of the first value of wide rows (for "
	        "--events)\n"
	        "      --events FILE       CSV name,start,end[,multiplier] (UTC ISO 8601)\n"
	        "      --origins K         rolling origins for cross-validation (default 32)\n"
	        "      --stride S          steps between origins (default about horizon/4,\n"
	        "                          rounded to whole seasons)\n"
	        "      --window W          fit on at most the last W values (default all)\n"
	        "      --combine N         combine up to N best models (default 3, 1 = never)\n"
	        "      --model-intervals   the models' own intervals, no calibration\n"
	        "      --allow-long-horizon  permit forecasts beyond 72 h of wall time\n"
	        "      --no-progress       no progress bar\n"
	        "      --list-models       print the models and exit\n"
	        "  -v, --verbose           debug messages\n");
}

static int parse_list_d(const char *s, double *out, size_t max, size_t *n)
{
	char *end;

	*n = 0;
	while (*s) {
		if (*n == max)
			return -E2BIG;
		errno = 0;
		out[*n] = strtod(s, &end);
		if (end == s || errno)
			return -EINVAL;
		(*n)++;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || *end || errno || v > max || *s == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static int load_events(struct opts *o)
{
	FILE *f = fopen(o->events_path, "r");
	char line[1024];
	size_t lineno = 0;

	if (!f) {
		fprintf(stderr, "tidal-forecast: cannot open %s: %s\n", o->events_path,
		        strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line || *line == '#' || strncmp(line, "name,", 5) == 0)
			continue;
		char *name = strtok(line, ","), *a = strtok(NULL, ","), *b = strtok(NULL, ",");
		char *m = strtok(NULL, ",");
		struct fc_event ev = {0};
		if (!name || !a || !b || cfg_parse_time(a, &ev.start, NULL) < 0 ||
		    cfg_parse_time(b, &ev.end, NULL) < 0 || ev.end <= ev.start ||
		    (m && (parse_list_d(m, &ev.multiplier, 1, &(size_t){0}) < 0 ||
		           !(ev.multiplier >= 0)))) {
			fprintf(stderr,
			        "tidal-forecast: %s:%zu: expected name,start,end[,multiplier] "
			        "with UTC ISO 8601 times, start < end, multiplier >= 0\n",
			        o->events_path, lineno);
			fclose(f);
			return -EINVAL;
		}
		ev.name = strdup(name);
		struct fc_event *ne = realloc(o->events, (o->n_events + 1) * sizeof(*ne));
		if (!ev.name || !ne) {
			free((char *)ev.name);
			fclose(f);
			return -ENOMEM;
		}
		o->events = ne;
		o->events[o->n_events++] = ev;
	}
	fclose(f);
	return 0;
}

/* The median positive spacing of the timestamps (the sampling step of long input). */
static int64_t infer_step(const int64_t *t, size_t n)
{
	int64_t *d = malloc((n ? n : 1) * sizeof(int64_t));
	size_t k = 0;

	if (!d)
		return 3600;
	for (size_t i = 1; i < n; i++)
		if (t[i] > t[i - 1])
			d[k++] = t[i] - t[i - 1];
	int64_t step = 3600;
	if (k) {
		for (size_t a = 1; a < k; a++) /* insertion sort; usually already uniform */
			for (size_t b = a; b > 0 && d[b - 1] > d[b]; b--) {
				int64_t x = d[b];
				d[b] = d[b - 1];
				d[b - 1] = x;
			}
		step = d[k / 2];
	}
	free(d);
	return step;
}

static void progress(struct run *r, bool final)
{
	size_t done = atomic_load(&r->done);
	double now = wall_now();

	if (!r->draw)
		return;
	pthread_mutex_lock(&r->lock);
	if (final || now - r->last_draw >= 0.1) {
		r->last_draw = now;
		const int width = 40;
		int fill = r->n ? (int)(width * done / r->n) : width;
		fprintf(stderr, "\r[%.*s%*s] %zu/%zu series  %.1f s", fill,
		        "########################################", width - fill, "", done, r->n,
		        now - r->t0);
		if (final)
			fputc('\n', stderr);
		fflush(stderr);
	}
	pthread_mutex_unlock(&r->lock);
}

static void run_one(struct run *r, struct job *j)
{
	struct opts *o = r->o;
	struct fcsv_series *in = j->in;
	struct fc_series_opts so;
	struct fc_series *s = NULL;
	size_t n = in->n;

	if (in->error) {
		snprintf(j->err, sizeof(j->err), "%s", in->error);
		j->rc = -EINVAL;
		return;
	}
	fc_series_opts_init(&so);
	so.name = in->id;
	so.nan_is_gap = true;
	memcpy(so.periods, o->periods, sizeof(so.periods));
	if (o->backtest && !o->test) {
		if (n <= o->horizon) {
			snprintf(j->err, sizeof(j->err),
			         "series %s: %zu values, need more than the "
			         "horizon %zu to hold out",
			         in->id, n, o->horizon);
			j->rc = -EDOM;
			return;
		}
		n -= o->horizon;
		j->actual = in->v + n;
		for (size_t i = 0; i < o->horizon; i++)
			if (isnan(j->actual[i])) {
				snprintf(j->err, sizeof(j->err),
				         "series %s: held-out value %zu is "
				         "missing",
				         in->id, i + 1);
				j->rc = -EINVAL;
				return;
			}
	}
	if (in->t) {
		so.step = o->step ? o->step : infer_step(in->t, n);
		j->rc = fc_series_from_points(in->t, in->v, n, &so, &s);
	} else {
		so.step = o->step ? o->step : 3600;
		so.start = o->start;
		j->rc = fc_series_new(in->v, n, &so, &s);
	}
	if (j->rc < 0) {
		snprintf(j->err, sizeof(j->err), "series %s (line %zu): not usable: %s", in->id,
		         in->line, strerror(-j->rc));
		return;
	}
	struct fc_params p = o->base;
	p.quantiles = o->quantiles;
	p.n_quantiles = o->n_quantiles;
	p.events = o->events;
	p.n_events = o->n_events;
	p.keep_candidates = o->backtest;
	j->rc = fc_forecast(s, &p, &j->res);
	if (j->rc == 0 && o->backtest) {
		struct fc_params rp = p;
		rp.models = "naive2";
		rp.keep_candidates = false;
		rp.combine = 1;
		rp.model_intervals = true;
		rp.cv_origins = 1;
		if (fc_forecast(s, &rp, &j->ref) < 0)
			j->ref = NULL;
		unsigned per[FC_MAX_PERIODS];
		size_t np = fc_series_periods(s, per);
		j->mase_m = np ? per[0] : 1;
		j->n_train = fc_series_len(s);
		j->filled = malloc(j->n_train * sizeof(double));
		if (j->filled)
			memcpy(j->filled, fc_series_values(s), j->n_train * sizeof(double));
		j->train = j->filled;
	}
	if (j->rc < 0)
		snprintf(j->err, sizeof(j->err), "series %s (line %zu): forecast failed: %s",
		         in->id, in->line, strerror(-j->rc));
	fc_series_free(s);
}

static void *worker(void *arg)
{
	struct run *r = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&r->next, 1);
		if (i >= r->n)
			break;
		run_one(r, &r->jobs[i]);
		atomic_fetch_add(&r->done, 1);
		progress(r, false);
	}
	return NULL;
}

static void write_csv(const struct opts *o, struct job *jobs, size_t n, FILE *out)
{
	(void)o;
	bool header = false;

	for (size_t i = 0; i < n; i++) {
		const struct fc_result *r = jobs[i].res;
		if (!r)
			continue;
		if (!header) {
			fprintf(out, "id,step,point");
			for (size_t k = 0; k < r->n_quantiles; k++)
				fprintf(out, ",q%g", r->levels[k]);
			fputc('\n', out);
			header = true;
		}
		for (size_t s = 0; s < r->horizon; s++) {
			fprintf(out, "%s,%zu,%.10g", jobs[i].in->id, s + 1, r->point[s]);
			for (size_t k = 0; k < r->n_quantiles; k++)
				fprintf(out, ",%.10g", r->q[s * r->n_quantiles + k]);
			fputc('\n', out);
		}
	}
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static int write_json(struct job *jobs, size_t n, FILE *out)
{
	json_t *root = json_object(), *arr = json_array(), *errs = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct fc_result *r = jobs[i].res;
		if (!r) {
			json_array_append_new(errs, json_string(jobs[i].err));
			continue;
		}
		json_t *o = json_object(), *cands = json_array(), *steps = json_array();
		json_t *adj = json_array();
		json_object_set_new(o, "id", json_string(jobs[i].in->id));
		json_object_set_new(o, "model", json_string(r->model));
		json_object_set_new(o, "combined", json_boolean(r->combined));
		json_object_set_new(o, "calibrated", json_boolean(r->calibrated));
		json_object_set_new(o, "gaps_filled", json_integer((json_int_t)r->gaps_filled));
		json_object_set_new(o, "seconds", jnum(r->seconds));
		for (size_t c = 0; c < r->n_candidates; c++) {
			const struct fc_candidate *fc = &r->cand[c];
			json_t *x = json_object();
			json_object_set_new(x, "family", json_string(fc->family));
			json_object_set_new(x, "model", json_string(fc->name));
			json_object_set_new(x, "status",
			                    json_string(fc->status ? strerror(-fc->status) : "ok"));
			json_object_set_new(x, "cv_mase", jnum(fc->cv_mase));
			json_object_set_new(x, "cv_smape", jnum(fc->cv_smape));
			json_object_set_new(x, "cv_msis", jnum(fc->cv_msis));
			json_object_set_new(x, "cv_coverage95", jnum(fc->cv_coverage));
			json_object_set_new(x, "score", jnum(fc->score));
			json_object_set_new(x, "seconds", jnum(fc->seconds));
			json_object_set_new(x, "selected", json_boolean(fc->selected));
			json_array_append_new(cands, x);
		}
		for (size_t a = 0; a < r->n_adjustments; a++) {
			json_t *x = json_object();
			json_object_set_new(x, "event", json_string(r->adj[a].event));
			json_object_set_new(x, "first_step",
			                    json_integer((json_int_t)r->adj[a].first_step + 1));
			json_object_set_new(x, "steps",
			                    json_integer((json_int_t)r->adj[a].n_steps));
			json_object_set_new(x, "multiplier", jnum(r->adj[a].multiplier));
			json_object_set_new(x, "learned", json_boolean(r->adj[a].learned));
			json_object_set_new(x, "occurrences",
			                    json_integer((json_int_t)r->adj[a].occurrences));
			json_array_append_new(adj, x);
		}
		for (size_t s = 0; s < r->horizon; s++) {
			json_t *x = json_object(), *q = json_object();
			json_object_set_new(x, "step", json_integer((json_int_t)s + 1));
			if (r->time[s])
				json_object_set_new(x, "time",
				                    json_integer((json_int_t)r->time[s]));
			json_object_set_new(x, "point", jnum(r->point[s]));
			for (size_t k = 0; k < r->n_quantiles; k++) {
				char key[32];
				snprintf(key, sizeof(key), "%g", r->levels[k]);
				json_object_set_new(q, key, jnum(r->q[s * r->n_quantiles + k]));
			}
			json_object_set_new(x, "quantiles", q);
			json_array_append_new(steps, x);
		}
		json_object_set_new(o, "candidates", cands);
		json_object_set_new(o, "adjustments", adj);
		json_object_set_new(o, "forecast", steps);
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "series", arr);
	json_object_set_new(root, "errors", errs);
	int rc = json_dumpf(root, out, JSON_COMPACT) == 0 ? 0 : -EIO;
	fputc('\n', out);
	json_decref(root);
	return rc;
}

/* Label of a candidate in the table: the registry name, or the kind of combination. */
static void cand_label(const struct fc_candidate *c, char *buf, size_t len)
{
	if (strcmp(c->family, "combination") == 0) {
		size_t members = 1;
		for (const char *p = c->name; *p; p++)
			members += *p == ',';
		snprintf(buf, len, "%.*s%zu", (int)strcspn(c->name, "("), c->name, members);
	} else {
		snprintf(buf, len, "%s", c->family);
	}
}

static void score_all(struct opts *o, struct job *jobs, size_t n, struct bt_table *t)
{
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		const struct fc_result *r = j->res;
		if (!r || !j->actual || !j->train) {
			t->failed++;
			continue;
		}
		int lo = fc_result_level(r, 0.025), hi = fc_result_level(r, 0.975);
		size_t h = r->horizon, nq = r->n_quantiles;
		double *lb = malloc(2 * h * sizeof(double));
		if (!lb || lo < 0 || hi < 0) {
			free(lb);
			t->failed++;
			continue;
		}
		double *ub = lb + h;
		t->series++;
		for (size_t c = 0; c < r->n_candidates; c++) {
			const struct fc_candidate *fc = &r->cand[c];
			if (fc->status || !fc->point)
				continue;
			for (size_t s = 0; s < h; s++) {
				lb[s] = fc->q[s * nq + (size_t)lo];
				ub[s] = fc->q[s * nq + (size_t)hi];
			}
			struct bt_score sc = bt_measure(j->train, j->n_train, j->mase_m, j->actual,
			                                h, fc->point, lb, ub, fc->seconds);
			char label[BT_NAME_MAX];
			cand_label(fc, label, sizeof(label));
			bool comb = strcmp(fc->family, "combination") == 0;
			bt_add(t, label, &sc, fc->selected && comb == r->combined);
		}
		for (size_t s = 0; s < h; s++) {
			lb[s] = r->q[s * nq + (size_t)lo];
			ub[s] = r->q[s * nq + (size_t)hi];
		}
		struct bt_score sc = bt_measure(j->train, j->n_train, j->mase_m, j->actual, h,
		                                r->point, lb, ub, r->seconds);
		bt_add(t, "selected", &sc, true);
		if (j->ref) {
			sc = bt_measure(j->train, j->n_train, j->mase_m, j->actual, h,
			                j->ref->point, NULL, NULL, j->ref->seconds);
			bt_add(t, "naive2", &sc, false);
		}
		free(lb);
	}
	(void)o;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	enum {
		O_FORMAT = 256,
		O_BACKTEST,
		O_TEST,
		O_STEP,
		O_START,
		O_EVENTS,
		O_ORIGINS,
		O_STRIDE,
		O_WINDOW,
		O_COMBINE,
		O_MODEL_INTERVALS,
		O_LONG,
		O_NO_PROGRESS,
		O_LIST,
	};
	static const struct option lo[] = {
	        {"input", required_argument, NULL, 'i'},
	        {"output", required_argument, NULL, 'o'},
	        {"format", required_argument, NULL, O_FORMAT},
	        {"horizon", required_argument, NULL, 'H'},
	        {"period", required_argument, NULL, 'p'},
	        {"quantiles", required_argument, NULL, 'q'},
	        {"models", required_argument, NULL, 'm'},
	        {"threads", required_argument, NULL, 't'},
	        {"json", no_argument, NULL, 'j'},
	        {"backtest", no_argument, NULL, O_BACKTEST},
	        {"test", required_argument, NULL, O_TEST},
	        {"step", required_argument, NULL, O_STEP},
	        {"start", required_argument, NULL, O_START},
	        {"events", required_argument, NULL, O_EVENTS},
	        {"origins", required_argument, NULL, O_ORIGINS},
	        {"stride", required_argument, NULL, O_STRIDE},
	        {"window", required_argument, NULL, O_WINDOW},
	        {"combine", required_argument, NULL, O_COMBINE},
	        {"model-intervals", no_argument, NULL, O_MODEL_INTERVALS},
	        {"allow-long-horizon", no_argument, NULL, O_LONG},
	        {"no-progress", no_argument, NULL, O_NO_PROGRESS},
	        {"list-models", no_argument, NULL, O_LIST},
	        {"verbose", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	static const double default_q[] = {0.025, 0.1, 0.5, 0.9, 0.975};
	unsigned long u;
	int c, rc;

	tlog_set_ident("tidal-forecast");
	fc_params_init(&o.base);
	o.horizon = 24;
	o.progress = true;
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	o.threads = nproc > 0 ? (unsigned)nproc : 1;
	while ((c = getopt_long(argc, argv, "i:o:H:p:q:m:t:jvh", lo, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case 'i':
			o.input = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "wide") == 0)
				o.format = FCSV_WIDE;
			else if (strcmp(optarg, "long") == 0)
				o.format = FCSV_LONG;
			else
				bad = "--format is wide or long";
			break;
		case 'H':
			if (parse_uint(optarg, 1000000, &u) < 0 || u == 0)
				bad = "--horizon needs a whole number of steps >= 1";
			o.horizon = u;
			break;
		case 'p': {
			double pv[FC_MAX_PERIODS];
			size_t np;
			if (parse_list_d(optarg, pv, FC_MAX_PERIODS, &np) < 0) {
				bad = "--period needs up to 4 whole numbers of steps, e.g. 24,168";
				break;
			}
			for (size_t i = 0; i < np; i++) {
				if (pv[i] < 2 || pv[i] != floor(pv[i]) || pv[i] > 1e6)
					bad = "--period values are whole numbers of steps >= 2";
				o.periods[i] = (unsigned)pv[i];
			}
			break;
		}
		case 'q':
			if (parse_list_d(optarg, o.quantiles, FC_MAX_QUANTILES, &o.n_quantiles) < 0)
				bad = "--quantiles needs levels in (0,1), e.g. 0.05,0.5,0.95";
			for (size_t i = 0; i < o.n_quantiles && !bad; i++)
				if (!(o.quantiles[i] > 0 && o.quantiles[i] < 1))
					bad = "--quantiles levels must lie strictly between 0 and "
					      "1";
			break;
		case 'm':
			o.models = optarg;
			break;
		case 't':
			if (parse_uint(optarg, 1024, &u) < 0 || u == 0)
				bad = "--threads needs a number from 1 to 1024";
			o.threads = (unsigned)u;
			break;
		case 'j':
			o.json = true;
			break;
		case O_BACKTEST:
			o.backtest = true;
			break;
		case O_TEST:
			o.test = optarg;
			break;
		case O_STEP: {
			uint64_t ms;
			char tmp[64];
			const char *why = NULL;
			/* a bare number is seconds */
			snprintf(tmp, sizeof(tmp), "%s%s", optarg,
			         optarg[strspn(optarg, "0123456789")] ? "" : "s");
			if (cfg_parse_duration(tmp, &ms, &why) < 0 || ms % 1000 || ms == 0) {
				fprintf(stderr, "tidal-forecast: --step \"%s\": %s\n", optarg,
				        why ? why : "a whole number of seconds, at least 1s");
				return 2;
			}
			o.step = (int64_t)(ms / 1000);
			break;
		}
		case O_START: {
			const char *why = NULL;
			if (cfg_parse_time(optarg, &o.start, &why) < 0) {
				fprintf(stderr, "tidal-forecast: --start \"%s\": %s\n", optarg,
				        why);
				return 2;
			}
			break;
		}
		case O_EVENTS:
			o.events_path = optarg;
			break;
		case O_ORIGINS:
			if (parse_uint(optarg, 64, &u) < 0)
				bad = "--origins needs a number from 0 to 64";
			o.base.cv_origins = (unsigned)u;
			break;
		case O_STRIDE:
			if (parse_uint(optarg, 1000000, &u) < 0 || u == 0)
				bad = "--stride needs a number of steps >= 1";
			o.base.cv_stride = (unsigned)u;
			break;
		case O_WINDOW:
			if (parse_uint(optarg, 100000000, &u) < 0)
				bad = "--window needs a number of values (0 = all)";
			o.base.cv_window = u;
			break;
		case O_COMBINE:
			if (parse_uint(optarg, 8, &u) < 0 || u == 0)
				bad = "--combine needs a number from 1 to 8";
			o.base.combine = (unsigned)u;
			break;
		case O_MODEL_INTERVALS:
			o.base.model_intervals = true;
			break;
		case O_LONG:
			o.base.allow_long_horizon = true;
			break;
		case O_NO_PROGRESS:
			o.progress = false;
			break;
		case O_LIST:
			for (size_t i = 0; i < fc_model_count(); i++)
				printf("%-12s %s%s\n", fc_model_name(i), fc_model_summary(i),
				       fc_model_in_auto(i) ? "" : " (only when named)");
			return 0;
		case 'v':
			tlog_set_level(TLOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "tidal-forecast: %s (got \"%s\")\n", bad, optarg);
			return 2;
		}
	}
	if (!o.input || optind < argc) {
		fprintf(stderr, "tidal-forecast: %s\n",
		        !o.input ? "-i FILE is required" : "unexpected argument");
		usage(stderr);
		return 2;
	}
	if (o.test && !o.backtest) {
		fprintf(stderr, "tidal-forecast: --test goes with --backtest\n");
		return 2;
	}
	if (o.n_quantiles == 0) {
		memcpy(o.quantiles, default_q, sizeof(default_q));
		o.n_quantiles = sizeof(default_q) / sizeof(default_q[0]);
	}
	if (o.backtest) { /* the interval scores need the 95 % interval */
		bool has_lo = false, has_hi = false;
		for (size_t i = 0; i < o.n_quantiles; i++) {
			has_lo |= fabs(o.quantiles[i] - 0.025) < 1e-12;
			has_hi |= fabs(o.quantiles[i] - 0.975) < 1e-12;
		}
		if (!has_lo && o.n_quantiles < FC_MAX_QUANTILES)
			o.quantiles[o.n_quantiles++] = 0.025;
		if (!has_hi && o.n_quantiles < FC_MAX_QUANTILES)
			o.quantiles[o.n_quantiles++] = 0.975;
	}
	o.base.horizon = o.horizon;
	o.base.models = o.models;
	if (o.events_path && (rc = load_events(&o)) < 0)
		return rc == -EINVAL ? 2 : 1;

	struct fcsv_set in, test = {0};
	if (fcsv_read(o.input, o.format, &in) < 0)
		return 1;
	if (o.test && fcsv_read(o.test, FCSV_WIDE, &test) < 0) {
		fcsv_free(&in);
		return 1;
	}
	struct run r = {.o = &o, .n = in.n};
	r.jobs = calloc(in.n ? in.n : 1, sizeof(*r.jobs));
	if (!r.jobs) {
		fprintf(stderr, "tidal-forecast: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < in.n; i++) {
		r.jobs[i].in = &in.s[i];
		if (o.test) {
			long k = fcsv_find(&test, in.s[i].id);
			if (k < 0 || test.s[k].error || test.s[k].n < o.horizon) {
				r.jobs[i].rc = -ENOENT;
				snprintf(r.jobs[i].err, sizeof(r.jobs[i].err),
				         "series %s: %s has no %zu valid test values for it",
				         in.s[i].id, o.test, o.horizon);
				r.jobs[i].in = NULL;
			} else {
				r.jobs[i].actual = test.s[k].v;
			}
		}
	}
	/* jobs whose test values are missing are left out of the queue but still reported */
	size_t w = 0;
	struct job *failed = calloc(in.n ? in.n : 1, sizeof(*failed));
	size_t n_failed = 0;
	for (size_t i = 0; i < in.n; i++) {
		if (r.jobs[i].in)
			r.jobs[w++] = r.jobs[i];
		else
			failed[n_failed++] = r.jobs[i];
	}
	r.n = w;
	pthread_mutex_init(&r.lock, NULL);
	r.t0 = wall_now();
	r.draw = o.progress && isatty(STDERR_FILENO) && r.n >= 10;
	unsigned nt = o.threads < r.n ? o.threads : (unsigned)(r.n ? r.n : 1);
	pthread_t *th = calloc(nt, sizeof(pthread_t));
	unsigned started = 0;
	for (unsigned i = 0; th && i < nt; i++)
		if (pthread_create(&th[started], NULL, worker, &r) == 0)
			started++;
	if (started == 0)
		worker(&r);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	progress(&r, true);
	double wall = wall_now() - r.t0;

	int status = 0;
	for (size_t i = 0; i < n_failed; i++) {
		fprintf(stderr, "tidal-forecast: %s\n", failed[i].err);
		status = 1;
	}
	for (size_t i = 0; i < r.n; i++)
		if (r.jobs[i].rc < 0) {
			fprintf(stderr, "tidal-forecast: %s\n", r.jobs[i].err);
			status = 1;
		}
	FILE *out = stdout;
	if (o.output && !(out = fopen(o.output, "w"))) {
		fprintf(stderr, "tidal-forecast: cannot write %s: %s\n", o.output, strerror(errno));
		status = 1;
	}
	if (o.backtest) {
		struct bt_table t = {0};
		score_all(&o, r.jobs, r.n, &t);
		t.failed += n_failed;
		if (o.output && out)
			write_csv(&o, r.jobs, r.n, out);
		if (o.json)
			bt_print_json(&t, stdout, wall, nt);
		else
			bt_print(&t, stdout, wall, nt);
		bt_free(&t);
	} else if (out) {
		if (o.json)
			write_json(r.jobs, r.n, out);
		else
			write_csv(&o, r.jobs, r.n, out);
	}
	if (out && out != stdout && fclose(out) != 0) {
		fprintf(stderr, "tidal-forecast: cannot write %s: %s\n", o.output, strerror(errno));
		status = 1;
	}
	for (size_t i = 0; i < r.n; i++) {
		fc_result_free(r.jobs[i].res);
		fc_result_free(r.jobs[i].ref);
		free(r.jobs[i].filled);
	}
	for (size_t i = 0; i < o.n_events; i++)
		free((char *)o.events[i].name);
	free(o.events);
	free(failed);
	free(r.jobs);
	pthread_mutex_destroy(&r.lock);
	fcsv_free(&in);
	fcsv_free(&test);
	return status;
}

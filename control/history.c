/* SPDX-License-Identifier: Apache-2.0 */
/*
 * history: the demand history of a region in round-robin archives (librrd).
 *
 * Owns <state_dir>/rrd/ and one archive per series (<series>.rrd): every app's egress rate
 * from the collector's samples, plus series ingested with `tidalctl ingest` (pools,
 * external metrics, or an app's past). Archives keep each sample for 2 days, bucket
 * averages and maxima for 35 days and hourly averages for 400 days. Writes go through
 * librrd only; an ingest works on a copy (or, for values older than the archive's first,
 * a rebuilt archive) renamed over the old one once librrd took every value, so a refused
 * ingest or a crash leaves either the old or the new archive, never a torn one.
 *
 * Threads: the loop writes (collector samples, ingest); demand_history may also be called
 * from the forecast module's worker thread. Every librrd call on an archive runs under one
 * process-wide lock, so a reader never sees a half-written row or a file being renamed.
 *
 * Never blocks on anything but local file I/O (and that lock, held for one librrd call at a
 * time, or one whole ingest); never deletes an archive.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "collector.h"
#include "core_priv.h"
#include "demand.h"
#include "history_int.h"
#include "log.h"
#include "metrics.h"

#define HEARTBEAT_MIN_S 7200 /* an hour between ingested points still counts as known */
#define MAX_INGEST_ERRORS 10
#define MAX_SERIES 4096

struct series {
	char name[HIST_NAME_MAX];
	int64_t last_s; /* time of the last value, 0 = unknown yet */
	unsigned long refused; /* samples refused because the clock went back */
};

struct history {
	struct tidald *d;
	char dir[CFG_PATH_MAX + 8];
	int64_t step_s;   /* sample interval */
	int64_t bucket_s; /* forecast bucket */
	struct series *series;
	size_t n_series;
	unsigned long updates, update_errors;
};

/* One tidald per process, so one lock for every archive (see the top of the file). */
static pthread_mutex_t rrd_mu = PTHREAD_MUTEX_INITIALIZER;

static struct history *hist_of(struct tidald *d)
{
	return tidald_module_state(d, "history");
}

bool hist_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= HIST_NAME_MAX || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return false;
	return true;
}

static void path_of(const struct history *h, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.rrd", h->dir, name);
}

static struct series *find_series(struct history *h, const char *name)
{
	for (size_t i = 0; i < h->n_series; i++)
		if (strcmp(h->series[i].name, name) == 0)
			return &h->series[i];
	return NULL;
}

static struct series *add_series(struct history *h, const char *name, int64_t last_s)
{
	if (h->n_series >= MAX_SERIES)
		return NULL;
	struct series *n = realloc(h->series, (h->n_series + 1) * sizeof(*n));
	if (!n)
		return NULL;
	h->series = n;
	struct series *s = &n[h->n_series++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->last_s = last_s;
	return s;
}

static const char *rrd_error_text(void)
{
	const char *e = rrd_get_error();
	return e && e[0] ? e : "unknown librrd error";
}

/* Create the archive file at path with its first value due after start_s. */
static int create_archive(const struct history *h, const char *path, int64_t start_s)
{
	char ds[64], rra_raw[64], rra_avg[64], rra_max[64], rra_hour[64];
	int64_t step = h->step_s;
	int64_t per_bucket = h->bucket_s / step > 0 ? h->bucket_s / step : 1;
	int64_t per_hour = 3600 / step > 0 ? 3600 / step : 1;
	int64_t hb = 3 * step > HEARTBEAT_MIN_S ? 3 * step : HEARTBEAT_MIN_S;

	snprintf(ds, sizeof(ds), "DS:value:GAUGE:%lld:U:U", (long long)hb);
	snprintf(rra_raw, sizeof(rra_raw), "RRA:AVERAGE:0.5:1:%lld",
		 (long long)(2 * 86400 / step + 1));
	snprintf(rra_avg, sizeof(rra_avg), "RRA:AVERAGE:0.5:%lld:%lld", (long long)per_bucket,
		 (long long)(35 * 86400 / (per_bucket * step) + 1));
	snprintf(rra_max, sizeof(rra_max), "RRA:MAX:0.5:%lld:%lld", (long long)per_bucket,
		 (long long)(35 * 86400 / (per_bucket * step) + 1));
	snprintf(rra_hour, sizeof(rra_hour), "RRA:AVERAGE:0.5:%lld:%lld", (long long)per_hour,
		 (long long)(400 * 86400 / (per_hour * step) + 1));
	const char *argv[] = {ds, rra_raw, rra_avg, rra_max, rra_hour};
	rrd_clear_error();
	if (rrd_create_r(path, (unsigned long)step, (time_t)start_s, 5, argv) != 0) {
		log_err("history: cannot create %s: %s", path, rrd_error_text());
		return -EIO;
	}
	return 0;
}

/* Write points (t ascending, all after the archive's last update) in batches. */
static int write_points(const char *path, const int64_t *t, const double *v, size_t n)
{
	enum { BATCH = 512 };
	char *bufs = malloc(BATCH * 48);
	const char *argv[BATCH];
	if (!bufs)
		return -ENOMEM;
	for (size_t off = 0; off < n; off += BATCH) {
		size_t k = n - off < BATCH ? n - off : BATCH;
		for (size_t i = 0; i < k; i++) {
			char *b = bufs + i * 48;
			if (isnan(v[off + i]))
				snprintf(b, 48, "%lld:U", (long long)t[off + i]);
			else
				snprintf(b, 48, "%lld:%.10g", (long long)t[off + i], v[off + i]);
			argv[i] = b;
		}
		rrd_clear_error();
		if (rrd_update_r(path, NULL, (int)k, argv) != 0) {
			log_err("history: update of %s failed: %s", path, rrd_error_text());
			free(bufs);
			return -EIO;
		}
	}
	free(bufs);
	return 0;
}

/* Write values after an archive's last update prev, marking gaps: before a value that
 * comes more than `nominal` seconds after the one before it, an unknown value at
 * (t - nominal), so that the value covers its own interval and the gap stays unknown
 * (librrd would give the value to the whole gap, or drop it past the heartbeat).
 * nominal 0: the smallest spacing of t (no marking for a single value). */
static int write_spaced(const char *path, int64_t prev, const int64_t *t, const double *v,
			size_t n, int64_t nominal)
{
	if (nominal <= 0)
		for (size_t i = 1; i < n; i++)
			if (nominal <= 0 || t[i] - t[i - 1] < nominal)
				nominal = t[i] - t[i - 1];
	if (nominal <= 0)
		return write_points(path, t, v, n);
	int64_t *t2 = malloc(2 * n * sizeof(*t2));
	double *v2 = malloc(2 * n * sizeof(*v2));
	size_t m = 0;
	if (!t2 || !v2) {
		free(t2);
		free(v2);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t before = i ? t[i - 1] : prev;
		if (before > 0 && t[i] - before > nominal) {
			t2[m] = t[i] - nominal;
			v2[m++] = NAN;
		}
		t2[m] = t[i];
		v2[m++] = v[i];
	}
	int rc = write_points(path, t2, v2, m);
	free(t2);
	free(v2);
	return rc;
}

static int64_t archive_last(const char *path)
{
	rrd_clear_error();
	time_t t = rrd_last_r(path);
	return t > 0 ? (int64_t)t : 0;
}

int demand_record(struct tidald *d, const char *name, int64_t at_s, double value)
{
	struct history *h = hist_of(d);
	char path[PATH_MAX];
	if (!h)
		return -ENOTCONN;
	if (!hist_name_ok(name) || !isfinite(value))
		return -EINVAL;
	path_of(h, name, path, sizeof(path));
	struct series *s = find_series(h, name);
	if (!s) {
		struct stat st;
		pthread_mutex_lock(&rrd_mu);
		int rc = 0;
		if (stat(path, &st) != 0)
			rc = create_archive(h, path, at_s - h->step_s);
		int64_t last = rc == 0 ? archive_last(path) : 0;
		pthread_mutex_unlock(&rrd_mu);
		if (rc < 0)
			return -EIO;
		s = add_series(h, name, last);
		if (!s)
			return -ENOMEM;
	}
	if (at_s <= s->last_s) {
		/* The wall clock stepped back (or two samples in one second): keep what the
		 * archive has and drop this value, saying so once per series and burst. */
		if (s->refused++ == 0)
			log_warn("history: %s: sample at %lld is not after the last one (%lld); "
				 "the clock stepped back? dropping samples until it passes",
				 name, (long long)at_s, (long long)s->last_s);
		return -ERANGE;
	}
	if (s->refused) {
		log_info("history: %s: recording again after %lu dropped samples", name,
			 s->refused);
		s->refused = 0;
	}
	pthread_mutex_lock(&rrd_mu);
	int rc = write_points(path, &at_s, &value, 1);
	pthread_mutex_unlock(&rrd_mu);
	if (rc == 0) {
		s->last_s = at_s;
		h->updates++;
	} else {
		h->update_errors++;
	}
	return rc;
}

int demand_history(struct tidald *d, const char *name, int64_t from_s, int64_t to_s,
		   int64_t step_s, double **v, size_t *n, int64_t *first_s, int64_t *step_out)
{
	struct history *h = hist_of(d);
	char path[PATH_MAX];
	if (!h)
		return -ENOTCONN;
	if (!hist_name_ok(name) || to_s <= from_s)
		return -EINVAL;
	path_of(h, name, path, sizeof(path));
	if (access(path, R_OK) != 0)
		return -ENOENT;
	return hist_fetch(path, "AVERAGE", from_s, to_s, step_s, v, n, first_s, step_out);
}

static int fetch_rows(const char *path, const char *cf, int64_t from_s, int64_t to_s,
		      int64_t step_s, double **v, size_t *n, int64_t *first_s, int64_t *step_out);

int hist_fetch(const char *path, const char *cf, int64_t from_s, int64_t to_s, int64_t step_s,
	       double **v, size_t *n, int64_t *first_s, int64_t *step_out)
{
	pthread_mutex_lock(&rrd_mu);
	int rc = fetch_rows(path, cf, from_s, to_s, step_s, v, n, first_s, step_out);
	pthread_mutex_unlock(&rrd_mu);
	return rc;
}

static int fetch_rows(const char *path, const char *cf, int64_t from_s, int64_t to_s,
		      int64_t step_s, double **v, size_t *n, int64_t *first_s, int64_t *step_out)
{
	time_t start = (time_t)from_s, end = (time_t)to_s;
	unsigned long step = (unsigned long)(step_s > 0 ? step_s : 1), ds_cnt = 0;
	char **ds_names = NULL;
	rrd_value_t *data = NULL;

	rrd_clear_error();
	if (rrd_fetch_r(path, cf, &start, &end, &step, &ds_cnt, &ds_names, &data) != 0) {
		log_err("history: cannot read %s: %s", path, rrd_error_text());
		return -EIO;
	}
	size_t rows = step ? (size_t)((end - start) / (time_t)step) : 0;
	double *out = malloc((rows ? rows : 1) * sizeof(*out));
	if (out)
		for (size_t i = 0; i < rows; i++)
			out[i] = data[i * ds_cnt];
	for (unsigned long i = 0; i < ds_cnt; i++)
		free(ds_names[i]);
	free(ds_names);
	free(data);
	if (!out)
		return -ENOMEM;
	/* rrd_fetch reports the start of the interval before the first row */
	*first_s = (int64_t)start + (int64_t)step;
	*step_out = (int64_t)step;
	*v = out;
	*n = rows;
	return 0;
}

char **demand_series_list(struct tidald *d)
{
	struct history *h = hist_of(d);
	if (!h)
		return NULL;
	size_t bytes = (h->n_series + 1) * sizeof(char *);
	for (size_t i = 0; i < h->n_series; i++)
		bytes += strlen(h->series[i].name) + 1;
	char **out = malloc(bytes);
	if (!out)
		return NULL;
	char *p = (char *)(out + h->n_series + 1);
	for (size_t i = 0; i < h->n_series; i++) {
		out[i] = p;
		p = stpcpy(p, h->series[i].name) + 1;
	}
	out[h->n_series] = NULL;
	return out;
}

/* ---- ingest ---------------------------------------------------------------------- */

/* Copy an archive byte for byte (the base of an append made aside). */
static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb");
	if (!in)
		return -errno;
	FILE *out = fopen(to, "wb");
	if (!out) {
		int e = errno;
		fclose(in);
		return -e;
	}
	char buf[65536];
	size_t k;
	int rc = 0;
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, k, out) != k) {
			rc = -EIO;
			break;
		}
	if (ferror(in))
		rc = -EIO;
	fclose(in);
	if (fclose(out) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

/* Time of the first known value of an archive (the end of its first hourly row with a
 * value; the hourly archive reaches furthest back), or `last` when it has none. */
static int first_known(const struct history *h, const char *path, int64_t last, int64_t *out,
		       int64_t *res)
{
	double *old = NULL;
	size_t n_old = 0;
	int64_t old_first = 0, old_step = 0;
	int rc = fetch_rows(path, "AVERAGE", last - 400 * 86400, last, h->step_s, &old, &n_old,
			    &old_first, &old_step);
	if (rc < 0)
		return rc;
	size_t k = 0;
	while (k < n_old && isnan(old[k]))
		k++;
	*out = k < n_old ? old_first + (int64_t)k * old_step : last;
	*res = old_step;
	free(old);
	return 0;
}

/* Into tmp (holding the new, older values up to *cursor): the old archive's values after
 * *cursor at the finest resolution each period still has: hourly beyond 35 days, buckets
 * beyond 2 days, raw samples for the last 2 days. Each period is read on its own, so
 * librrd serves it from the archive that covers it at that resolution. */
static int copy_old_values(const struct history *h, const char *path, const char *tmp,
			   int64_t last, int64_t *cursor)
{
	const int64_t want[3] = {3600, h->bucket_s, h->step_s};
	const int64_t upto[3] = {last - 35 * 86400, last - 2 * 86400, last};
	int rc = 0;
	for (size_t r = 0; rc == 0 && r < 3; r++) {
		double *pv = NULL;
		size_t pn = 0;
		int64_t pf = 0, ps = 0;
		int64_t from = r ? upto[r - 1] : *cursor;
		if (from < *cursor)
			from = *cursor;
		if (upto[r] <= from)
			continue;
		rc = fetch_rows(path, "AVERAGE", from, upto[r], want[r], &pv, &pn, &pf, &ps);
		if (rc < 0)
			break;
		int64_t *pt = malloc((pn ? pn : 1) * sizeof(*pt));
		size_t m = 0;
		for (size_t i = 0; pt && i < pn; i++) {
			int64_t ti = pf + (int64_t)i * ps;
			if (ti <= *cursor || ti > upto[r] || isnan(pv[i]))
				continue;
			pt[m] = ti;
			pv[m++] = pv[i];
		}
		if (!pt)
			rc = -ENOMEM;
		else if (m) {
			rc = write_spaced(tmp, *cursor, pt, pv, m, ps);
			*cursor = pt[m - 1];
		}
		free(pt);
		free(pv);
	}
	return rc;
}

/* Where a new archive starts: one spacing of the values before the first, so that the
 * first value covers the same length as the others (librrd gives a value to the interval
 * since the previous update). */
static int64_t first_start(const int64_t *t, size_t n)
{
	int64_t gap = n > 1 ? t[1] - t[0] : 1;
	if (gap > HEARTBEAT_MIN_S)
		gap = 1;
	return t[0] - gap;
}

static int ingest_locked(struct history *h, const char *name, const char *path,
			 const int64_t *t, const double *v, size_t n, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	struct stat st;
	bool exists = stat(path, &st) == 0;
	int64_t last = exists ? archive_last(path) : 0;
	int rc;

	/* Every change is made on a copy that is renamed over the archive only when librrd
	 * took every value: a refused ingest leaves the archive as it was (or absent). */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	if (!exists || t[0] > last) {
		/* Plain append (or a new series). */
		rc = exists ? copy_file(path, tmp) : create_archive(h, tmp, first_start(t, n));
		if (rc == 0)
			rc = write_spaced(tmp, exists ? last : 0, t, v, n, 0);
		if (rc < 0) {
			snprintf(err, errlen, "librrd refused the values of %s: %s", name,
				 rrd_error_text());
			goto fail;
		}
	} else {
		/* Older values: only before everything the archive holds, so nothing is
		 * overwritten. Rebuild into a new file, then rename it over the old. */
		int64_t known_from = 0, res = 0;
		rrd_clear_error();
		if (rrd_first_r(path, 0) <= 0 ||
		    first_known(h, path, last, &known_from, &res) < 0) {
			snprintf(err, errlen, "cannot read the archive of %s: %s", name,
				 rrd_error_text());
			return -EIO;
		}
		/* The first known hourly row covers (known_from - res, known_from]. */
		if (t[n - 1] > known_from - res) {
			char a[32], b[32], c[32];
			cfg_fmt_time(t[n - 1], a, sizeof(a));
			cfg_fmt_time(known_from - res, b, sizeof(b));
			cfg_fmt_time(last, c, sizeof(c));
			snprintf(err, errlen,
				 "the values end at %s but %s already has values from %s to %s; "
				 "ingest only values after %s, or values that all end by %s",
				 a, name, b, c, c, b);
			return -ERANGE;
		}
		int64_t cursor = t[n - 1];
		rc = create_archive(h, tmp, first_start(t, n));
		if (rc == 0)
			rc = write_spaced(tmp, 0, t, v, n, 0);
		if (rc == 0)
			rc = copy_old_values(h, path, tmp, last, &cursor);
		if (rc < 0) {
			snprintf(err, errlen, "could not rebuild the archive of %s (%s); it is "
					      "unchanged",
				 name, strerror(-rc));
			goto fail;
		}
	}
	if (rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s over %s: %s; the archive is unchanged", tmp,
			 path, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return rc;
}

int hist_ingest(struct tidald *d, const char *name, const int64_t *t, const double *v,
		size_t n, char *err, size_t errlen)
{
	struct history *h = hist_of(d);
	char path[PATH_MAX];
	if (!h)
		return -ENOTCONN;
	if (n == 0) {
		snprintf(err, errlen, "no values");
		return -EINVAL;
	}
	path_of(h, name, path, sizeof(path));
	pthread_mutex_lock(&rrd_mu);
	bool existed = access(path, F_OK) == 0;
	int rc = ingest_locked(h, name, path, t, v, n, err, errlen);
	int64_t nl = rc == 0 ? archive_last(path) : 0;
	pthread_mutex_unlock(&rrd_mu);
	if (rc < 0)
		return rc;
	if (existed && t[n - 1] < nl)
		log_info("history: %s rebuilt with %zu older values", name, n);
	struct series *s = find_series(h, name);
	if (s)
		s->last_s = nl;
	else if (!add_series(h, name, nl))
		return -ENOMEM;
	return 0;
}

/* ---- module ------------------------------------------------------------------------ */

static int history_scan(struct history *h)
{
	DIR *dir = opendir(h->dir);
	if (!dir)
		return -errno;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".rrd") != 0)
			continue;
		char name[HIST_NAME_MAX];
		if (l - 4 >= sizeof(name))
			continue;
		memcpy(name, e->d_name, l - 4);
		name[l - 4] = '\0';
		if (!hist_name_ok(name))
			continue;
		char path[PATH_MAX];
		path_of(h, name, path, sizeof(path));
		add_series(h, name, archive_last(path));
	}
	closedir(dir);
	return 0;
}

static void history_apply_cfg(struct history *h, const struct tidal_cfg *cfg)
{
	h->step_s = (int64_t)(cfg->forecast.sample_interval_ms / 1000);
	if (h->step_s < 1)
		h->step_s = 1;
	h->bucket_s = (int64_t)(cfg->forecast.bucket_ms / 1000);
	if (h->bucket_s < h->step_s)
		h->bucket_s = h->step_s;
}

static int history_start(struct tidald *d, void **state)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct history *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->d = d;
	history_apply_cfg(h, cfg);
	snprintf(h->dir, sizeof(h->dir), "%s/rrd", cfg->region.state_dir);
	if (mkdir(h->dir, 0750) < 0 && errno != EEXIST) {
		int e = errno;
		log_err("history: cannot create %s: %s", h->dir, strerror(e));
		free(h);
		return -e;
	}
	int rc = history_scan(h);
	if (rc < 0) {
		log_err("history: cannot read %s: %s", h->dir, strerror(-rc));
		free(h);
		return rc;
	}
	*state = h;
	hist_ctl_register(d);
	log_info("history: %zu series in %s", h->n_series, h->dir);
	return 0;
}

static int history_reload(struct tidald *d, void *state, const struct tidal_cfg *old)
{
	struct history *h = state;
	(void)old;
	int64_t step = h->step_s;
	history_apply_cfg(h, tidald_cfg(d));
	if (step != h->step_s)
		log_warn("history: sample_interval changed; existing archives keep their %llds "
			 "resolution, new series get %llds",
			 (long long)step, (long long)h->step_s);
	return 0;
}

static void history_stop(struct tidald *d, void *state)
{
	struct history *h = state;
	(void)d;
	if (!h)
		return;
	free(h->series);
	free(h);
}

static void history_event(struct tidald *d, void *state, enum tidald_event ev, const void *data)
{
	(void)state;
	if (ev != TIDALD_EV_RATES_SAMPLED || !data)
		return;
	const struct coll_sample *smp = data;
	for (size_t i = 0; i < smp->n; i++) {
		const struct coll_rate *r = &smp->rates[i];
		if (r->app)
			demand_record(d, r->app, smp->at_s, r->bps[COLL_DIR_OUT]);
	}
}

static void history_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	struct history *h = state;
	(void)d;
	metrics_family(w, "tidal_history_series", METRICS_GAUGE,
		       "demand series with a round-robin archive");
	metrics_sample(w, (double)h->n_series, NULL);
	metrics_family(w, "tidal_history_updates_total", METRICS_COUNTER,
		       "values written to the archives, by result");
	metrics_sample(w, (double)h->updates, "result", "ok", NULL);
	metrics_sample(w, (double)h->update_errors, "result", "error", NULL);
}

const struct tidald_module_ops tidald_history_module = {
	.name = "history",
	.start = history_start,
	.reload = history_reload,
	.stop = history_stop,
	.event = history_event,
	.metrics = history_metrics,
};

/* Exposed for the ctl file. */
int64_t hist_last(struct tidald *d, const char *name)
{
	struct history *h = hist_of(d);
	struct series *s = h ? find_series(h, name) : NULL;
	return s ? s->last_s : -1;
}

void hist_path(struct tidald *d, const char *name, char *buf, size_t len)
{
	struct history *h = hist_of(d);
	if (h)
		path_of(h, name, buf, len);
	else if (len)
		buf[0] = '\0';
}

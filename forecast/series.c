/* SPDX-License-Identifier: Apache-2.0 */
/*
 * series: a regularly sampled series ready for the models: built from values or from
 * timestamped samples (a rate history), gaps filled and counted, seasonal periods given or
 * detected.
 *
 * Owns the fc_series and its copy of the values and name. Rejects non-finite data instead
 * of passing it on: every model may assume finite input. Never does I/O.
 */
#include "forecast.h"
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_BUCKETS 10000000u /* 10^7 samples: over 19 years of 1-minute data */
#define SHORT_GAP   3         /* gaps up to this many steps are interpolated linearly */

struct fc_series {
	char name[FC_NAME_MAX];
	double *v;
	size_t n;
	int64_t start;
	int64_t step;
	size_t gaps;
	unsigned periods[FC_MAX_PERIODS];
	size_t n_periods;
};

void fc_series_opts_init(struct fc_series_opts *o)
{
	memset(o, 0, sizeof(*o));
}

static const char *nm(const struct fc_series_opts *o)
{
	return o && o->name ? o->name : "series";
}

/* Linear interpolation over [a, b) given anchors y[a-1] and y[b] (either may be missing). */
static void fill_linear(double *y, size_t n, size_t a, size_t b)
{
	bool left = a > 0, right = b < n;

	for (size_t t = a; t < b; t++) {
		if (left && right)
			y[t] = y[a - 1] +
			       (y[b] - y[a - 1]) * (double)(t - a + 1) / (double)(b - a + 1);
		else if (left)
			y[t] = y[a - 1];
		else if (right)
			y[t] = y[b];
		else
			y[t] = 0;
	}
}

/* Fill [a, b) from the same phase one season m earlier (or later when there is no earlier
 * season), shifted so the fill meets the observed values at both ends. Gaps are filled left
 * to right, so everything before a is already filled. Returns false when no whole season
 * on either side is available. */
static bool fill_seasonal(double *y, size_t n, const bool *miss, size_t a, size_t b, unsigned m)
{
	bool back = a >= m;
	bool fwd = !back && b + m <= n;

	for (size_t t = a; t < b && fwd; t++)
		fwd = !miss[t + m];
	if (!back && !fwd)
		return false;
	/* Offsets between the series and its seasonal reference at both anchors. */
	double off_l = NAN, off_r = NAN;
	if (a > 0) {
		size_t i = a - 1;
		if (back ? i >= m : i + m < n && !miss[i + m])
			off_l = y[i] - y[back ? i - m : i + m];
	}
	if (b < n) {
		if (back ? b >= m && b - m < a : b + m < n && !miss[b + m])
			off_r = y[b] - y[back ? b - m : b + m];
	}
	if (isnan(off_l))
		off_l = isnan(off_r) ? 0 : off_r;
	if (isnan(off_r))
		off_r = off_l;
	for (size_t t = a; t < b; t++) {
		double w = (double)(t - a + 1) / (double)(b - a + 1);
		double ref = back ? y[t - m] : y[t + m];
		y[t] = ref + off_l + (off_r - off_l) * w;
	}
	return true;
}

/* Fill every gap; periods (ascending) pick the seasonal reference, longest first. */
static void fill_gaps(double *y, size_t n, const bool *miss, const unsigned *periods,
                      size_t n_periods)
{
	size_t t = 0;

	while (t < n) {
		if (!miss[t]) {
			t++;
			continue;
		}
		size_t a = t;
		while (t < n && miss[t])
			t++;
		size_t b = t;
		bool done = false;
		if (b - a > SHORT_GAP) {
			for (size_t k = n_periods; k-- > 0 && !done;)
				done = fill_seasonal(y, n, miss, a, b, periods[k]);
		}
		if (!done)
			fill_linear(y, n, a, b);
	}
}

static struct fc_series *series_alloc(size_t n, const struct fc_series_opts *o)
{
	struct fc_series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->v = malloc((n ? n : 1) * sizeof(double));
	if (!s->v) {
		free(s);
		return NULL;
	}
	s->n = n;
	snprintf(s->name, sizeof(s->name), "%s", nm(o));
	s->step = o && o->step > 0 ? o->step : 3600;
	s->start = o ? o->start : 0;
	return s;
}

/* Fill gaps (values marked in miss[]), then settle the seasonal periods. */
static int series_finish(struct fc_series *s, const bool *miss, const struct fc_series_opts *o)
{
	unsigned given[FC_MAX_PERIODS];
	size_t n_given = 0;

	for (size_t i = 0; o && i < FC_MAX_PERIODS; i++) {
		if (o->periods[i] == 0)
			continue;
		if (o->periods[i] < 2) {
			log_err("%s: seasonal period %u is not a period (use 2 or more steps, or "
			        "leave periods out to detect them)",
			        s->name, o->periods[i]);
			return -EINVAL;
		}
		given[n_given++] = o->periods[i];
	}
	/* ascending, without duplicates */
	for (size_t i = 1; i < n_given; i++)
		for (size_t j = i; j > 0 && given[j - 1] > given[j]; j--) {
			unsigned x = given[j];
			given[j] = given[j - 1];
			given[j - 1] = x;
		}
	for (size_t i = 0; i < n_given; i++)
		if (s->n_periods == 0 || s->periods[s->n_periods - 1] != given[i])
			s->periods[s->n_periods++] = given[i];

	if (s->gaps)
		fill_gaps(s->v, s->n, miss, s->periods, s->n_periods);
	if (s->n_periods == 0) {
		s->n_periods = fc_detect_periods(s->v, s->n, s->step, s->periods);
		if (s->gaps && s->n_periods) {
			/* refill with the seasonal references now known */
			fill_gaps(s->v, s->n, miss, s->periods, s->n_periods);
		}
	}
	if (s->gaps)
		log_debug("%s: filled %zu missing values of %zu", s->name, s->gaps, s->n);
	return 0;
}

int fc_series_new(const double *v, size_t n, const struct fc_series_opts *o, struct fc_series **out)
{
	*out = NULL;
	if (!v || n == 0) {
		log_err("%s: no values", nm(o));
		return -EINVAL;
	}
	if (n > MAX_BUCKETS) {
		log_err("%s: %zu values is more than the %u a series may hold", nm(o), n,
		        MAX_BUCKETS);
		return -EINVAL;
	}
	if (o && o->step < 0) {
		log_err("%s: negative step %lld s", nm(o), (long long)o->step);
		return -EINVAL;
	}
	bool gaps_ok = o && o->nan_is_gap;
	size_t n_obs = 0;
	for (size_t i = 0; i < n; i++) {
		if (isinf(v[i]) || (isnan(v[i]) && !gaps_ok)) {
			log_err("%s: value %zu is %s (only finite values%s)", nm(o), i + 1,
			        isnan(v[i]) ? "NaN" : "infinite",
			        gaps_ok ? " or NaN for a gap"
			                : "; NaN marks a gap only when allowed");
			return -EINVAL;
		}
		n_obs += !isnan(v[i]);
	}
	if (n_obs == 0) {
		log_err("%s: every value is missing", nm(o));
		return -EINVAL;
	}
	struct fc_series *s = series_alloc(n, o);
	bool *miss = calloc(n, sizeof(bool));
	if (!s || !miss) {
		free(miss);
		fc_series_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		miss[i] = isnan(v[i]);
		s->v[i] = v[i];
		s->gaps += miss[i];
	}
	int rc = series_finish(s, miss, o);
	free(miss);
	if (rc < 0) {
		fc_series_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int fc_series_from_points(const int64_t *t, const double *v, size_t n,
                          const struct fc_series_opts *o, struct fc_series **out)
{
	*out = NULL;
	if (!t || !v || n == 0) {
		log_err("%s: no samples", nm(o));
		return -EINVAL;
	}
	int64_t step = o && o->step > 0 ? o->step : 3600;
	if (o && o->step < 0) {
		log_err("%s: negative step %lld s", nm(o), (long long)o->step);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]) && !(isnan(v[i]) && o && o->nan_is_gap)) {
			log_err("%s: sample %zu (t=%lld) is not a finite value", nm(o), i + 1,
			        (long long)t[i]);
			return -EINVAL;
		}
		if (i > 0 && t[i] < t[i - 1]) {
			log_err("%s: sample %zu goes back in time (t=%lld after t=%lld); sort the "
			        "samples by time",
			        nm(o), i + 1, (long long)t[i], (long long)t[i - 1]);
			return -EINVAL;
		}
	}
	int64_t b0 = floor_div(t[0], step), b1 = floor_div(t[n - 1], step);
	if (b1 - b0 + 1 > (int64_t)MAX_BUCKETS) {
		log_err("%s: samples span %lld steps of %lld s, more than %u", nm(o),
		        (long long)(b1 - b0 + 1), (long long)step, MAX_BUCKETS);
		return -EINVAL;
	}
	size_t nb = (size_t)(b1 - b0 + 1);
	struct fc_series *s = series_alloc(nb, o);
	bool *miss = malloc(nb * sizeof(bool));
	unsigned *cnt = calloc(nb, sizeof(unsigned));
	if (!s || !miss || !cnt) {
		free(miss);
		free(cnt);
		fc_series_free(s);
		return -ENOMEM;
	}
	s->start = b0 * step;
	s->step = step;
	memset(s->v, 0, nb * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		size_t k = (size_t)(floor_div(t[i], step) - b0);
		s->v[k] += v[i];
		cnt[k]++;
	}
	size_t n_obs = 0;
	for (size_t k = 0; k < nb; k++) {
		miss[k] = cnt[k] == 0;
		if (cnt[k])
			s->v[k] /= cnt[k];
		s->gaps += miss[k];
		n_obs += !miss[k];
	}
	free(cnt);
	int rc = n_obs ? series_finish(s, miss, o) : -EINVAL;
	if (!n_obs)
		log_err("%s: every sample is missing", nm(o));
	free(miss);
	if (rc < 0) {
		fc_series_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void fc_series_free(struct fc_series *s)
{
	if (!s)
		return;
	free(s->v);
	free(s);
}

size_t fc_series_len(const struct fc_series *s)
{
	return s->n;
}

const double *fc_series_values(const struct fc_series *s)
{
	return s->v;
}

int64_t fc_series_start(const struct fc_series *s)
{
	return s->start;
}

int64_t fc_series_step(const struct fc_series *s)
{
	return s->step;
}

const char *fc_series_name(const struct fc_series *s)
{
	return s->name;
}

size_t fc_series_gaps(const struct fc_series *s)
{
	return s->gaps;
}

size_t fc_series_periods(const struct fc_series *s, unsigned out[FC_MAX_PERIODS])
{
	memcpy(out, s->periods, s->n_periods * sizeof(unsigned));
	return s->n_periods;
}

/* ---- period detection ---------------------------------------------------------------- */

/* Autocorrelation of x[0..n) at lag k (x already centred), relative to den = sum x^2. */
static double acf_at(const double *x, size_t n, size_t k, double den)
{
	double num = 0;

	for (size_t i = k; i < n; i++)
		num += x[i] * x[i - k];
	return num / den;
}

/* Is lag m a significant seasonal lag of x (centred)? Bartlett bound as in the M4 test,
 * plus a floor so that tiny but "significant" correlations of long series do not count. */
static bool seasonal_lag(const double *x, size_t n, unsigned m, double den)
{
	if (n < 2 * (size_t)m || !(den > 0))
		return false;
	double s2 = 0;
	size_t kmax = m < 60 ? m : 60; /* the bound's sum, truncated for long periods */
	for (size_t k = 1; k < kmax; k++) {
		double a = acf_at(x, n, k, den);
		s2 += a * a;
	}
	double a = acf_at(x, n, m, den);
	return a > 1.645 * sqrt((1 + 2 * s2) / (double)n) && a > 0.2;
}

/* Centred copy of y, differenced at lag d first when d > 0. Returns its length. */
static size_t prep(const double *y, size_t n, size_t d, double *x, double *den)
{
	size_t k = 0;

	for (size_t i = d; i < n; i++)
		x[k++] = d ? y[i] - y[i - d] : y[i];
	double mu = 0;
	for (size_t i = 0; i < k; i++)
		mu += x[i];
	mu /= (double)(k ? k : 1);
	*den = 0;
	for (size_t i = 0; i < k; i++) {
		x[i] -= mu;
		*den += x[i] * x[i];
	}
	return k;
}

size_t fc_detect_periods(const double *v, size_t n, int64_t step, unsigned out[FC_MAX_PERIODS])
{
	size_t found = 0;
	double *x = malloc((n ? n : 1) * sizeof(double));
	double den;

	if (!x || n < 8) {
		free(x);
		return 0;
	}
	/* Differencing once removes trends that would make every lag look correlated. */
	size_t nx = prep(v, n, 1, x, &den);
	unsigned day = 0;
	if (step > 0 && step <= 43200 && 86400 % step == 0)
		day = (unsigned)(86400 / step);
	if (day >= 2 && seasonal_lag(x, nx, day, den))
		out[found++] = day;
	if (found == 0) {
		/* The strongest autocorrelation peak up to a third of the series. */
		size_t maxlag = nx / 3;
		if (maxlag > 5000)
			maxlag = 5000;
		double best = 0;
		unsigned best_lag = 0;
		double prev = acf_at(x, nx, 1, den), cur = prev;
		for (size_t k = 2; k + 1 <= maxlag && den > 0; k++) {
			cur = acf_at(x, nx, k, den);
			double next = acf_at(x, nx, k + 1, den);
			if (cur > prev && cur >= next && cur > best) {
				best = cur;
				best_lag = (unsigned)k;
			}
			prev = cur;
		}
		if (best_lag && seasonal_lag(x, nx, best_lag, den))
			out[found++] = best_lag;
	}
	/* A week on top of a day: test the weekly lag on the day-differenced series, where a
	 * pure daily cycle leaves nothing at lag 7 days. */
	if (found == 1 && out[0] == day && day && n >= 2 * 7 * (size_t)day) {
		size_t nd = prep(v, n, day, x, &den);
		if (seasonal_lag(x, nd, 7 * day, den))
			out[found++] = 7 * day;
	}
	free(x);
	return found;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * select: automated model selection. Builds the candidate list from the registry, fits each
 * candidate at the first rolling origin and refits it cheaply (same structure and
 * parameters) at the later ones, scores every origin's forecast by MASE and interval score
 * (MSIS, on intervals calibrated without that origin), tries combinations (mean or median)
 * of the best few, and picks the lowest score; ties go to the simpler model.
 *
 * Owns the candidates' fitted models and forecast arrays inside struct engine (freed by
 * eng_free). Pure computation apart from reading the thread's CPU clock for the seconds.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Is name in the comma-separated list? */
static bool in_list(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		const char *q = p;
		while (*q && *q != ',' && *q != ' ')
			q++;
		if ((size_t)(q - p) == len && strncmp(p, name, len) == 0)
			return true;
		p = q;
	}
	return false;
}

static bool auto_list(const char *models)
{
	return !models || !*models || strcmp(models, "auto") == 0;
}

int eng_candidates(struct engine *e)
{
	const char *models = e->p->models;
	bool all_auto = auto_list(models);
	bool positive = true;

	for (size_t t = 0; t < e->n; t++)
		positive = positive && e->y[t] > 0;
	for (size_t i = 0; i < fc_n_models; i++) {
		const struct fc_model_entry *me = &fc_models[i];
		if (all_auto ? !me->in_auto : !in_list(models, me->name))
			continue;
		if (e->n_cand >= ENG_MAX_CANDS - 8)
			break;
		struct eng_cand *c = &e->cand[e->n_cand++];
		memset(c, 0, sizeof(*c));
		c->e = me;
		snprintf(c->name, sizeof(c->name), "%s", me->name);
		unsigned fl = me->ops->flags;
		if ((fl & FC_MODEL_SEASONAL) && e->n_periods == 0)
			c->status = -EDOM;
		if ((fl & FC_MODEL_MULTI) && e->n_periods < 2)
			c->status = -EDOM;
		if ((me->transform == FC_TF_LOG || (fl & FC_MODEL_POSITIVE)) && !positive)
			c->status = -EDOM;
	}
	if (e->n_cand == 0) {
		log_err("%s: no model selected (models=\"%s\")", e->sname, models ? models : "");
		return -EINVAL;
	}
	return 0;
}

/* Periods usable with n training values. */
static size_t usable_periods(const struct engine *e, size_t n, unsigned *out)
{
	size_t k = 0;

	for (size_t i = 0; i < e->n_periods; i++)
		if (n >= 2 * (size_t)e->periods[i])
			out[k++] = e->periods[i];
	return k;
}

/* Fit entry me on the first n values of the training data (cleaned of event effects for
 * models that do not handle events). */
static int fit_on(const struct engine *e, const struct fc_model_entry *me, size_t n,
                  const void *like, void **model, double *tmp)
{
	unsigned per[FC_MAX_PERIODS];
	bool ev = me->ops->flags & FC_MODEL_EVENTS;
	const double *y = (!ev && e->y_clean) ? e->y_clean : e->y;
	struct fc_fit_in in = {
	        .y = y,
	        .n = n,
	        .periods = per,
	        .n_periods = usable_periods(e, n, per),
	        .horizon = e->h,
	        .events = ev ? e->win : NULL,
	        .n_events = ev ? e->n_win : 0,
	        .like = like,
	        .seed = e->p->seed,
	        .step = e->step,
	};
	if (me->transform == FC_TF_LOG) {
		for (size_t t = 0; t < n; t++)
			tmp[t] = log(y[t]);
		in.y = tmp;
	}
	*model = NULL;
	int rc = me->ops->fit(&in, model);
	if (rc < 0 && *model) {
		me->ops->free(*model);
		*model = NULL;
	}
	if (rc == 0 && !*model)
		rc = -EINVAL;
	return rc;
}

/* Mean and internal-level quantiles of a fitted model for the steps after n training
 * values, back-transformed and adjusted for events. */
static int predict(const struct engine *e, const struct fc_model_entry *me, const void *model,
                   size_t n, double *mean, double *q)
{
	const struct fc_model_ops *ops = me->ops;
	size_t h = e->h, nl = e->nl;
	int rc = ops->mean(model, h, mean);

	if (rc < 0)
		return rc;
	rc = ops->quantiles(model, h, e->lv, nl, q);
	if (rc < 0)
		return rc;
	for (size_t s = 0; s < h; s++) {
		if (!isfinite(mean[s]))
			return -ERANGE;
		for (size_t j = 0; j < nl; j++)
			if (!isfinite(q[s * nl + j]))
				return -ERANGE;
	}
	if (me->transform == FC_TF_LOG) {
		/* exp of the log-scale mean is the median: used as the point forecast */
		for (size_t s = 0; s < h; s++) {
			mean[s] = exp(mean[s]);
			for (size_t j = 0; j < nl; j++)
				q[s * nl + j] = exp(q[s * nl + j]);
		}
	}
	eng_sort_quantiles(q, h, nl);
	if (!(ops->flags & FC_MODEL_EVENTS))
		eng_event_apply(e, n, h, mean, q, nl);
	return 0;
}

/* The fitted model's description, marked when it runs on log values. */
static void describe(const struct fc_model_entry *me, const void *model, char *buf, size_t len)
{
	size_t off = 0;

	if (me->transform == FC_TF_LOG && len > 4) {
		memcpy(buf, "log ", 4);
		off = 4;
	}
	buf[off] = '\0';
	if (me->ops->describe)
		me->ops->describe(model, buf + off, len - off);
	else
		snprintf(buf + off, len - off, "%s", me->ops->name);
}

int eng_cross_validate(struct engine *e, struct eng_cand *c)
{
	const struct fc_model_entry *me = c->e;
	size_t h = e->h, nl = e->nl, k = e->k;
	double t0 = cpu_now();
	double *tmp = me->transform == FC_TF_LOG ? malloc(e->n * sizeof(double)) : NULL;
	void *model = NULL;
	int rc = 0;

	if (c->status < 0)
		return c->status;
	if (me->transform == FC_TF_LOG && !tmp)
		return c->status = -ENOMEM;
	/* The model on all the data gives the final forecast; every origin then reruns it
	 * (same structure and parameters) on the data before that origin. The parameters have
	 * seen the later data, a small optimism that buys one estimation per candidate instead
	 * of one per origin, and intervals calibrated on exactly the model that forecasts. */
	c->mean = malloc(h * sizeof(double));
	c->q = malloc(h * nl * sizeof(double));
	if (k) {
		c->cv_mean = malloc(k * h * sizeof(double));
		c->cv_q = malloc(k * h * nl * sizeof(double));
	}
	if (!c->mean || !c->q || (k && (!c->cv_mean || !c->cv_q))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = fit_on(e, me, e->n, NULL, &model, tmp);
	if (rc == 0)
		rc = predict(e, me, model, e->n, c->mean, c->q);
	if (rc < 0)
		goto out;
	c->complexity = me->ops->complexity ? me->ops->complexity(model) : 0;
	describe(me, model, c->name, sizeof(c->name));
	for (size_t i = 0; i < k && rc == 0; i++) {
		void *m = NULL;
		rc = fit_on(e, me, e->origin[i], model, &m, tmp);
		if (rc == 0)
			rc = predict(e, me, m, e->origin[i], c->cv_mean + i * h,
			             c->cv_q + i * h * nl);
		if (m)
			me->ops->free(m);
	}
out:
	if (model)
		me->ops->free(model);
	free(tmp);
	c->seconds += cpu_now() - t0;
	if (rc < 0) {
		if (rc != -ENOSYS && rc != -EDOM)
			log_debug("%s: %s left out: %s", e->sname, me->name, strerror(-rc));
		c->status = rc;
		free(c->mean);
		free(c->q);
		free(c->cv_mean);
		free(c->cv_q);
		c->mean = c->q = c->cv_mean = c->cv_q = NULL;
	}
	return rc;
}

int eng_fit_final(struct engine *e, struct eng_cand *c)
{
	size_t h = e->h, nl = e->nl;

	if (c->mean)
		return 0;
	if (!c->e) { /* combination: from the members' final forecasts */
		for (size_t i = 0; i < c->n_members; i++) {
			int rc = eng_fit_final(e, &e->cand[c->members[i]]);
			if (rc < 0)
				return rc;
		}
	}
	c->mean = malloc(h * sizeof(double));
	c->q = malloc(h * nl * sizeof(double));
	if (!c->mean || !c->q)
		return -ENOMEM;
	if (!c->e) {
		double vals[ENG_MAX_CANDS];
		for (size_t x = 0; x < h * (nl + 1); x++) {
			for (size_t i = 0; i < c->n_members; i++) {
				const struct eng_cand *m = &e->cand[c->members[i]];
				vals[i] = x < h ? m->mean[x] : m->q[x - h];
			}
			double v = 0;
			if (c->median) {
				size_t nm = c->n_members;
				for (size_t a = 1; a < nm; a++)
					for (size_t b = a; b > 0 && vals[b - 1] > vals[b]; b--) {
						double t = vals[b];
						vals[b] = vals[b - 1];
						vals[b - 1] = t;
					}
				v = nm % 2 ? vals[nm / 2] : 0.5 * (vals[nm / 2 - 1] + vals[nm / 2]);
			} else {
				for (size_t i = 0; i < c->n_members; i++)
					v += vals[i];
				v /= (double)c->n_members;
			}
			if (x < h)
				c->mean[x] = v;
			else
				c->q[x - h] = v;
		}
		eng_sort_quantiles(c->q, h, nl);
		return 0;
	}
	double t0 = cpu_now();
	double *tmp = c->e->transform == FC_TF_LOG ? malloc(e->n * sizeof(double)) : NULL;
	void *m = NULL;
	int rc = (c->e->transform == FC_TF_LOG && !tmp) ? -ENOMEM : 0;
	if (rc == 0)
		rc = fit_on(e, c->e, e->n, NULL, &m, tmp);
	if (rc == 0)
		rc = predict(e, c->e, m, e->n, c->mean, c->q);
	if (rc == 0) {
		c->complexity = c->e->ops->complexity ? c->e->ops->complexity(m) : 0;
		describe(c->e, m, c->name, sizeof(c->name));
	}
	if (m)
		c->e->ops->free(m);
	free(tmp);
	c->seconds += cpu_now() - t0;
	if (rc < 0) {
		log_debug("%s: %s failed on the full data: %s", e->sname, c->e->name,
		          strerror(-rc));
		c->status = rc;
	}
	return rc;
}

/* Score one candidate over the origins: MASE, sMAPE, and interval score / coverage of
 * the 95 % interval (calibrated leaving each origin out, unless model intervals were
 * asked for). */
static void score_cand(struct engine *e, struct eng_cand *c)
{
	size_t h = e->h, nl = e->nl, k = e->k;
	double mase = 0, smape = 0, msis = 0, cov = 0;
	double lv[2] = {0.025, 0.975};
	double *qq = malloc(h * 2 * sizeof(double));
	double *lo = malloc(h * 2 * sizeof(double));

	if (!qq || !lo) {
		c->status = -ENOMEM;
		goto out;
	}
	double *hi = lo + h;
	for (size_t i = 0; i < k; i++) {
		const double *y = e->y + e->origin[i];
		const double *m = c->cv_mean + i * h;
		const double *q = c->cv_q + i * h * nl;
		double scale = fc_mase_scale(e->y, e->origin[i], e->mase_m);
		if (!(scale > 0))
			scale = fc_mase_scale(e->y, e->origin[i], 1);
		if (!(scale > 0))
			scale = 1e-9 + 1e-9 * fabs(e->y[e->origin[i] - 1]);
		if (!e->p->model_intervals && k >= 3 &&
		    eng_calibrate(e, c, m, q, (int)i, lv, 2, qq) == 0) {
			for (size_t s = 0; s < h; s++) {
				lo[s] = qq[s * 2];
				hi[s] = qq[s * 2 + 1];
			}
		} else {
			for (size_t s = 0; s < h; s++) {
				lo[s] = q[s * nl + e->lo95];
				hi[s] = q[s * nl + e->hi95];
			}
		}
		mase += fc_mase(y, m, h, scale);
		smape += fc_smape(y, m, h);
		msis += fc_msis(y, lo, hi, h, 0.05, scale);
		cov += fc_coverage(y, lo, hi, h);
	}
	c->mase = mase / (double)k;
	c->smape = smape / (double)k;
	c->msis = msis / (double)k;
	c->coverage = cov / (double)k;
	if (!isfinite(c->mase) || !isfinite(c->msis))
		c->status = -ERANGE;
out:
	free(qq);
	free(lo);
}

void eng_score(struct engine *e)
{
	double best_mase = INFINITY, best_msis = INFINITY;

	for (size_t i = 0; i < e->n_cand; i++) {
		struct eng_cand *c = &e->cand[i];
		if (c->status < 0 || !c->cv_mean)
			continue;
		if (!c->scored)
			score_cand(e, c);
		c->scored = true;
		if (c->status < 0)
			continue;
		if (c->mase < best_mase)
			best_mase = c->mase;
		if (c->msis < best_msis)
			best_msis = c->msis;
	}
	for (size_t i = 0; i < e->n_cand; i++) {
		struct eng_cand *c = &e->cand[i];
		if (c->status < 0 || !c->cv_mean) {
			c->score = INFINITY;
			continue;
		}
		/* Relative to the best of each, as OWA relates to a benchmark: equal weight to
		 * point accuracy and interval quality. */
		double a = best_mase > 0 ? c->mase / best_mase : 1;
		double b = best_msis > 0 ? c->msis / best_msis : 1;
		c->score = 0.5 * (a + b);
	}
}

/* Candidate indices with a score, best first. */
static size_t ranked(const struct engine *e, int *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_cand; i++)
		if (e->cand[i].status == 0 && e->cand[i].e && isfinite(e->cand[i].score))
			idx[n++] = (int)i;
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0; b--) {
			const struct eng_cand *x = &e->cand[idx[b - 1]], *y = &e->cand[idx[b]];
			if (x->score < y->score ||
			    (x->score == y->score && x->complexity <= y->complexity))
				break;
			int t = idx[b];
			idx[b] = idx[b - 1];
			idx[b - 1] = t;
		}
	return n;
}

/* Combine cv forecasts of the members into c (same rule as eng_fit_final). */
static int combine_cv(struct engine *e, struct eng_cand *c)
{
	size_t h = e->h, nl = e->nl, k = e->k;
	size_t len = k * h * (nl + 1);
	double vals[ENG_MAX_CANDS];

	c->cv_mean = malloc(k * h * sizeof(double));
	c->cv_q = malloc(k * h * nl * sizeof(double));
	if (!c->cv_mean || !c->cv_q)
		return -ENOMEM;
	for (size_t x = 0; x < len; x++) {
		for (size_t i = 0; i < c->n_members; i++) {
			const struct eng_cand *m = &e->cand[c->members[i]];
			vals[i] = x < k * h ? m->cv_mean[x] : m->cv_q[x - k * h];
		}
		double v = 0;
		size_t nm = c->n_members;
		if (c->median) {
			for (size_t a = 1; a < nm; a++)
				for (size_t b = a; b > 0 && vals[b - 1] > vals[b]; b--) {
					double t = vals[b];
					vals[b] = vals[b - 1];
					vals[b - 1] = t;
				}
			v = nm % 2 ? vals[nm / 2] : 0.5 * (vals[nm / 2 - 1] + vals[nm / 2]);
		} else {
			for (size_t i = 0; i < nm; i++)
				v += vals[i];
			v /= (double)nm;
		}
		if (x < k * h)
			c->cv_mean[x] = v;
		else
			c->cv_q[x - k * h] = v;
	}
	for (size_t i = 0; i < k; i++)
		eng_sort_quantiles(c->cv_q + i * h * nl, h, nl);
	return 0;
}

int eng_combine(struct engine *e)
{
	int idx[ENG_MAX_CANDS];
	size_t n = ranked(e, idx);
	unsigned maxc = e->p->combine;

	if (maxc > 8)
		maxc = 8;
	for (unsigned kk = 2; kk <= maxc && kk <= n && e->n_cand < ENG_MAX_CANDS; kk++) {
		struct eng_cand *c = &e->cand[e->n_cand];
		memset(c, 0, sizeof(*c));
		c->median = kk >= 3;
		c->n_members = kk;
		int off = snprintf(c->name, sizeof(c->name), "%s(", c->median ? "median" : "mean");
		for (unsigned i = 0; i < kk; i++) {
			const struct eng_cand *m = &e->cand[idx[i]];
			c->members[i] = idx[i];
			c->complexity += m->complexity;
			c->seconds += 0;
			if (off >= 0 && (size_t)off < sizeof(c->name))
				off += snprintf(c->name + off, sizeof(c->name) - (size_t)off,
				                "%s%s", i ? "," : "", m->e->name);
		}
		if (off >= 0 && (size_t)off < sizeof(c->name))
			snprintf(c->name + off, sizeof(c->name) - (size_t)off, ")");
		int rc = combine_cv(e, c);
		e->n_cand++;
		if (rc < 0) {
			c->status = rc;
			return rc;
		}
	}
	eng_score(e);
	return 0;
}

/* Preference when nothing could be cross-validated (too little data): the first usable in
 * this order. */
static const char *const fallback_order[] = {"ets", "theta", "snaive", "naive"};

int eng_choose(struct engine *e)
{
	int best = -1;

	for (size_t i = 0; i < e->n_cand; i++) {
		const struct eng_cand *c = &e->cand[i];
		if (c->status < 0 || !isfinite(c->score))
			continue;
		if (best < 0 || c->score < e->cand[best].score ||
		    (c->score == e->cand[best].score && c->complexity < e->cand[best].complexity))
			best = (int)i;
	}
	if (best >= 0) {
		e->chosen = best;
		return 0;
	}
	/* No cross-validation: fit the candidates on all the data, in the fallback order,
	 * then registry order, and keep the first that fits. */
	for (size_t f = 0; f <= sizeof(fallback_order) / sizeof(fallback_order[0]); f++) {
		for (size_t i = 0; i < e->n_cand; i++) {
			struct eng_cand *c = &e->cand[i];
			if (!c->e || c->status < 0)
				continue;
			if (f < sizeof(fallback_order) / sizeof(fallback_order[0]) &&
			    strcmp(c->e->name, fallback_order[f]) != 0)
				continue;
			if (eng_fit_final(e, c) == 0) {
				e->chosen = (int)i;
				return 0;
			}
		}
	}
	/* The default set never leaves a series without a forecast: the last value. */
	int ni = fc_model_find("naive");
	if (auto_list(e->p->models) && ni >= 0 && e->n_cand < ENG_MAX_CANDS) {
		struct eng_cand *c = &e->cand[e->n_cand];
		memset(c, 0, sizeof(*c));
		c->e = &fc_models[ni];
		snprintf(c->name, sizeof(c->name), "%s", c->e->name);
		e->n_cand++;
		if (eng_cross_validate(e, c) == 0 && eng_fit_final(e, c) == 0) {
			c->score = INFINITY;
			e->chosen = (int)(e->n_cand - 1);
			return 0;
		}
	}
	log_err("%s: no candidate model could be fitted to %zu values", e->sname, e->n);
	return -EDOM;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ets: exponential smoothing state space models with additive errors (Hyndman et al. 2008):
 * trend none / additive / additive damped, season none / additive / multiplicative. Each
 * form is fitted by maximum likelihood (for additive errors: least squared one-step errors)
 * and the form with the lowest AICc is kept, as R's forecast::ets does.
 *
 * Estimation: the smoothing parameters (alpha, beta, gamma, phi, within R's "usual" bounds)
 * are searched with GSL's Nelder-Mead simplex (multimin nmsimplex2) on a logistic scale. For
 * additive seasons the one-step errors are affine in the initial states, so for given
 * smoothing parameters the best initial states come from linear least squares (GSL
 * multifit, with the seasonal states summing to zero); the two steps alternate until the
 * likelihood stops improving. Multiplicative seasons start from a classical decomposition.
 *
 * Prediction intervals: the analytic variance of the linear (class 1) models; for a
 * multiplicative season the same, scaled by the seasonal index (the engine recalibrates
 * intervals on cross-validation errors anyway).
 *
 * Owns its fitted model struct. Pure math; reentrant.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>

#define ETS_MAX_M      24  /* longer seasons (168 h, 288 x 5 min) belong to mstl/snaive */
#define ETS_MAX_ROUNDS 2   /* parameter search / initial-state refits */
#define ETS_MAX_ITER   250 /* simplex iterations per search */

enum trend { T_N = 0, T_A, T_AD };
enum season { S_N = 0, S_A, S_M };

struct form {
	enum trend trend;
	enum season season;
};

struct ets {
	struct form f;
	unsigned m; /* season length (0 when none) */
	double alpha, beta, gamma, phi;
	double *x0;   /* initial states: l, b, seas[0..m) (phase t % m) */
	double l, b;  /* states after the data */
	double *seas; /* seasonal states after the data, by phase */
	size_t n;     /* observations filtered (phase of the next step = n % m) */
	double sigma2;
	double sse;
	double aicc;
	size_t k; /* estimated parameters, for AICc and complexity */
};

static const char tchar[] = {'N', 'A', 'D'};
static const char schar[] = {'N', 'A', 'M'};

static size_t n_states(const struct form *f, unsigned m)
{
	return 1 + (f->trend != T_N) + (f->season != S_N ? m : 0);
}

/* ---- the filter ------------------------------------------------------------------- */

struct pars {
	double alpha, beta, gamma, phi;
};

/* Run the model over y[0..n) from initial states x0; returns the sum of squared one-step
 * errors (INFINITY when a multiplicative model leaves its domain). When e is not NULL, the
 * errors are written there. The final states go to m_out when not NULL. */
static double filter(const struct form *f, unsigned m, const struct pars *p, const double *x0,
                     const double *y, size_t n, double *e, struct ets *m_out, double *seas)
{
	double l = x0[0];
	double b = f->trend != T_N ? x0[1] : 0;
	size_t so = 1 + (f->trend != T_N);
	double phi = f->trend == T_AD ? p->phi : 1.0;
	double sse = 0;

	if (f->season != S_N)
		memcpy(seas, x0 + so, m * sizeof(double));
	bool trend = f->trend != T_N;
	double bphi = trend ? phi : 0;
	size_t ph = 0;
	for (size_t t = 0; t < n; t++) {
		double base = l + bphi * b;
		double s, err;
		switch (f->season) {
		case S_N:
			err = y[t] - base;
			l = base + p->alpha * err;
			b = bphi * b + p->beta * err;
			break;
		case S_A:
			s = seas[ph];
			err = y[t] - (base + s);
			l = base + p->alpha * err;
			b = bphi * b + p->beta * err;
			seas[ph] = s + p->gamma * err;
			break;
		default: /* S_M */
			s = seas[ph];
			if (!(s > 1e-8) || !(base > 1e-8 * (fabs(y[t]) + 1e-300)))
				return INFINITY;
			err = y[t] - base * s;
			l = base + p->alpha * err / s;
			b = bphi * b + p->beta * err / s;
			seas[ph] = s + p->gamma * err / base;
			break;
		}
		if (++ph == m)
			ph = 0;
		if (e)
			e[t] = err;
		sse += err * err;
	}
	if (!trend)
		b = 0;
	if (m_out) {
		m_out->l = l;
		m_out->b = b;
		m_out->n = n;
	}
	return isfinite(sse) ? sse : INFINITY;
}

/* ---- initial states ---------------------------------------------------------------- */

/* Heuristic start (as R's initstate): seasonal indices from a classical decomposition of
 * the first few seasons, level and trend from the first deseasonalised values. */
static int heuristic_x0(const struct form *f, unsigned m, const double *y, size_t n, double *x0)
{
	size_t so = 1 + (f->trend != T_N);
	double *ds = malloc(n * sizeof(double));

	if (!ds)
		return -ENOMEM;
	for (size_t t = 0; t < n; t++)
		ds[t] = y[t];
	if (f->season != S_N) {
		size_t len = 4 * (size_t)m < n ? 4 * (size_t)m : n;
		int rc = fc_model_seasonal_indices(y, len, m, f->season == S_M, x0 + so);
		if (rc < 0) {
			free(ds);
			return rc;
		}
		for (size_t t = 0; t < n; t++)
			ds[t] = f->season == S_M ? y[t] / x0[so + t % m] : y[t] - x0[so + t % m];
	}
	/* level and slope by least squares over the first (up to) 2 seasons or 10 values */
	size_t k = f->season != S_N ? 2 * (size_t)m : 10;
	if (k > n)
		k = n;
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (size_t t = 0; t < k; t++) {
		sx += (double)t;
		sy += ds[t];
		sxx += (double)t * (double)t;
		sxy += (double)t * ds[t];
	}
	double den = (double)k * sxx - sx * sx;
	double slope = den > 0 ? ((double)k * sxy - sx * sy) / den : 0;
	double icpt = (sy - slope * sx) / (double)k;
	if (f->trend != T_N) {
		x0[0] = icpt - slope; /* the level before the first value */
		x0[1] = slope;
	} else {
		x0[0] = sy / (double)k;
	}
	free(ds);
	return 0;
}

/* Least squares X c = r through the normal equations of the column-scaled X; returns 0,
 * or nonzero when they are not safely positive definite. */
static int normal_solve(const gsl_matrix *X, const gsl_vector *r, gsl_vector *c)
{
	size_t n = X->size1, p = X->size2;
	gsl_matrix *A = gsl_matrix_alloc(p, p);
	gsl_vector *b = gsl_vector_alloc(p), *sc = gsl_vector_alloc(p);
	int rc = -1;

	if (!A || !b || !sc)
		goto out;
	for (size_t j = 0; j < p; j++) {
		double ss = 0;
		for (size_t t = 0; t < n; t++)
			ss += gsl_matrix_get(X, t, j) * gsl_matrix_get(X, t, j);
		if (!(ss > 0))
			goto out;
		gsl_vector_set(sc, j, 1.0 / sqrt(ss));
	}
	/* A = S X'X S, b = S X'r */
	gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0, X, 0.0, A);
	gsl_blas_dgemv(CblasTrans, 1.0, X, r, 0.0, b);
	for (size_t i = 0; i < p; i++) {
		gsl_vector_set(b, i, gsl_vector_get(b, i) * gsl_vector_get(sc, i));
		for (size_t j = 0; j <= i; j++)
			gsl_matrix_set(A, i, j,
			               gsl_matrix_get(A, i, j) * gsl_vector_get(sc, i) *
			                       gsl_vector_get(sc, j));
	}
	/* with unit diagonal, a pivot below 1e-8 means a condition number past ~1e8 */
	if (gsl_linalg_cholesky_decomp1(A) != 0)
		goto out;
	for (size_t i = 0; i < p; i++)
		if (!(gsl_matrix_get(A, i, i) > 1e-4))
			goto out;
	if (gsl_linalg_cholesky_solve(A, b, c) != 0)
		goto out;
	for (size_t j = 0; j < p; j++)
		gsl_vector_set(c, j, gsl_vector_get(c, j) * gsl_vector_get(sc, j));
	rc = 0;
out:
	gsl_matrix_free(A);
	gsl_vector_free(b);
	gsl_vector_free(sc);
	return rc;
}

/* Best initial states for additive models given the smoothing parameters: the errors are
 * e = e(y, 0) + E x0, so x0 solves a linear least-squares problem (seasonal states
 * constrained to sum to zero). Returns 0 or a negative errno (x0 unchanged). */
static int ls_x0(const struct form *f, unsigned m, const struct pars *p, const double *y, size_t n,
                 double *x0, double *work, double *seas)
{
	size_t ns = n_states(f, m);
	size_t so = 1 + (f->trend != T_N);
	size_t nf = f->season == S_A ? ns - 1 : ns; /* free coefficients */
	double *e0 = work, *ej = work + n;
	double *unit = calloc(ns, sizeof(double));
	double *zero = calloc(n, sizeof(double));
	gsl_matrix *X = gsl_matrix_alloc(n, nf);
	gsl_vector *r = gsl_vector_alloc(n), *c = gsl_vector_alloc(nf);
	gsl_matrix *cov = gsl_matrix_alloc(nf, nf);
	gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, nf);
	int rc = 0;

	if (!unit || !zero || !X || !r || !c || !cov || !ws) {
		rc = -ENOMEM;
		goto out;
	}
	filter(f, m, p, unit, y, n, e0, NULL, seas); /* unit is all zero here: e(y, 0) */
	/* response to each initial state (with y = 0): errors are -(state's effect) */
	double *last = NULL;
	if (f->season == S_A) {
		last = malloc(n * sizeof(double));
		if (!last) {
			rc = -ENOMEM;
			goto out;
		}
		unit[ns - 1] = 1;
		filter(f, m, p, unit, zero, n, last, NULL, seas);
		unit[ns - 1] = 0;
	}
	for (size_t j = 0; j < nf; j++) {
		unit[j] = 1;
		filter(f, m, p, unit, zero, n, ej, NULL, seas);
		unit[j] = 0;
		for (size_t t = 0; t < n; t++) {
			double v = ej[t];
			if (last && j >= so)
				v -= last[t]; /* s_{m-1} = -(sum of the others) */
			gsl_matrix_set(X, t, j, -v);
		}
	}
	free(last);
	for (size_t t = 0; t < n; t++)
		gsl_vector_set(r, t, e0[t]);
	/* Normal equations on unit-norm columns, solved by Cholesky (a few times cheaper than
	 * the SVD); the SVD only when they are too ill-conditioned for that. */
	if (normal_solve(X, r, c) != 0) {
		double chisq;
		if (gsl_multifit_linear(X, r, c, cov, &chisq, ws) != 0) {
			rc = -ERANGE;
			goto out;
		}
	}
	for (size_t j = 0; j < nf; j++)
		if (!isfinite(gsl_vector_get(c, j))) {
			rc = -ERANGE;
			goto out;
		}
	double sum = 0;
	for (size_t j = 0; j < nf; j++) {
		x0[j] = gsl_vector_get(c, j);
		if (j >= so)
			sum += x0[j];
	}
	if (f->season == S_A)
		x0[ns - 1] = -sum;
out:
	free(unit);
	free(zero);
	gsl_matrix_free(X);
	gsl_vector_free(r);
	gsl_vector_free(c);
	gsl_matrix_free(cov);
	gsl_multifit_linear_free(ws);
	return rc;
}

/* ---- parameter search ---------------------------------------------------------------- */

#define A_LO   1e-4
#define A_HI   0.9999
#define PHI_LO 0.8
#define PHI_HI 0.98

static double logistic(double u)
{
	return 1.0 / (1.0 + exp(-u));
}

static double logit(double p)
{
	if (!(p > 1e-9))
		p = 1e-9;
	if (!(p < 1 - 1e-9))
		p = 1 - 1e-9;
	return log(p / (1.0 - p));
}

static size_t n_pars(const struct form *f)
{
	return 1 + (f->trend != T_N) + (f->season != S_N) + (f->trend == T_AD);
}

/* u (unconstrained) -> parameters within the usual region: beta < alpha, gamma < 1 - alpha. */
static void to_pars(const struct form *f, const double *u, struct pars *p)
{
	size_t i = 0;

	p->alpha = A_LO + (A_HI - A_LO) * logistic(u[i++]);
	p->beta = p->gamma = 0;
	p->phi = 1;
	if (f->trend != T_N)
		p->beta = A_LO + (p->alpha - A_LO) * logistic(u[i++]);
	if (f->season != S_N)
		p->gamma = A_LO + (1 - p->alpha - A_LO) * logistic(u[i++]);
	if (f->trend == T_AD)
		p->phi = PHI_LO + (PHI_HI - PHI_LO) * logistic(u[i++]);
}

static void from_pars(const struct form *f, const struct pars *p, double *u)
{
	size_t i = 0;

	u[i++] = logit((p->alpha - A_LO) / (A_HI - A_LO));
	if (f->trend != T_N)
		u[i++] = logit((p->beta - A_LO) / (p->alpha - A_LO));
	if (f->season != S_N)
		u[i++] = logit((p->gamma - A_LO) / (1 - p->alpha - A_LO));
	if (f->trend == T_AD)
		u[i++] = logit((p->phi - PHI_LO) / (PHI_HI - PHI_LO));
}

struct objective {
	const struct form *f;
	unsigned m;
	const double *y;
	size_t n;
	const double *x0;
	double *seas;
};

static double obj_fn(const gsl_vector *v, void *arg)
{
	const struct objective *o = arg;
	struct pars p;

	to_pars(o->f, v->data, &p);
	return filter(o->f, o->m, &p, o->x0, o->y, o->n, NULL, NULL, o->seas);
}

/* Nelder-Mead over the smoothing parameters from p (updated in place); returns the SSE. */
static double search(const struct objective *o, struct pars *p)
{
	size_t d = n_pars(o->f);
	const gsl_multimin_fminimizer_type *T = gsl_multimin_fminimizer_nmsimplex2;
	gsl_multimin_fminimizer *s = gsl_multimin_fminimizer_alloc(T, d);
	gsl_vector *x = gsl_vector_alloc(d), *step = gsl_vector_alloc(d);
	gsl_multimin_function fn = {.f = obj_fn, .n = d, .params = (void *)o};
	double best = INFINITY;

	if (!s || !x || !step)
		goto out;
	from_pars(o->f, p, x->data);
	gsl_vector_set_all(step, 1.0);
	if (gsl_multimin_fminimizer_set(s, &fn, x, step) != 0)
		goto out;
	for (int it = 0; it < ETS_MAX_ITER; it++) {
		if (gsl_multimin_fminimizer_iterate(s) != 0)
			break;
		double size = gsl_multimin_fminimizer_size(s);
		if (gsl_multimin_test_size(size, 3e-3) == GSL_SUCCESS)
			break;
	}
	best = s->fval;
	to_pars(o->f, s->x->data, p);
out:
	gsl_multimin_fminimizer_free(s);
	gsl_vector_free(x);
	gsl_vector_free(step);
	return best;
}

/* Fit one form. Returns 0 and *out, or a negative errno. */
static int fit_form(const struct form *f, unsigned m, const double *y, size_t n, struct ets **out)
{
	size_t ns = n_states(f, m);
	size_t np = n_pars(f);
	struct ets *e = calloc(1, sizeof(*e));
	double *work = malloc(2 * n * sizeof(double));
	int rc = 0;

	if (!e || !work) {
		free(work);
		free(e);
		return -ENOMEM;
	}
	e->f = *f;
	e->m = f->season != S_N ? m : 0;
	e->x0 = calloc(ns, sizeof(double));
	e->seas = calloc(m ? m : 1, sizeof(double));
	if (!e->x0 || !e->seas) {
		rc = -ENOMEM;
		goto fail;
	}
	/* k: smoothing parameters + free initial states + sigma */
	e->k = np + ns - (f->season != S_N) + 1;
	if (n <= e->k + 2) {
		rc = -EDOM;
		goto fail;
	}
	rc = heuristic_x0(f, m, y, n, e->x0);
	if (rc < 0)
		goto fail;
	struct pars p = {.alpha = 0.2, .beta = 0.02, .gamma = 0.05, .phi = 0.95};
	struct objective o = {.f = f, .m = m, .y = y, .n = n, .x0 = e->x0, .seas = e->seas};
	double sse = INFINITY;
	for (int round = 0; round < ETS_MAX_ROUNDS; round++) {
		if (f->season != S_M) {
			double *x1 = malloc(ns * sizeof(double));
			if (!x1) {
				rc = -ENOMEM;
				goto fail;
			}
			memcpy(x1, e->x0, ns * sizeof(double));
			if (ls_x0(f, m, &p, y, n, x1, work, e->seas) == 0 &&
			    filter(f, m, &p, x1, y, n, NULL, NULL, e->seas) <= sse)
				memcpy(e->x0, x1, ns * sizeof(double));
			free(x1);
		}
		struct pars q = p;
		double s2 = search(&o, &q);
		if (!(s2 < sse * (1 - 1e-7))) {
			if (s2 <= sse) {
				p = q;
				sse = s2;
			}
			break;
		}
		p = q;
		sse = s2;
		if (f->season == S_M)
			break; /* no linear step to alternate with */
	}
	sse = filter(f, m, &p, e->x0, y, n, NULL, e, e->seas);
	if (!isfinite(sse)) {
		rc = -ERANGE;
		goto fail;
	}
	e->alpha = p.alpha;
	e->beta = p.beta;
	e->gamma = p.gamma;
	e->phi = p.phi;
	e->sse = sse;
	/* as R: the variance over n minus the estimated parameters and initial states */
	e->sigma2 = sse / (double)(n - (e->k - 1));
	double k = (double)e->k, dn = (double)n;
	double ll = dn * log(sse / dn + 1e-300);
	e->aicc = ll + 2 * k + 2 * k * (k + 1) / (dn - k - 1);
	free(work);
	*out = e;
	return 0;
fail:
	free(work);
	free(e->x0);
	free(e->seas);
	free(e);
	return rc;
}

static void ets_free(void *model)
{
	struct ets *e = model;

	if (!e)
		return;
	free(e->x0);
	free(e->seas);
	free(e);
}

static int ets_fit(const struct fc_fit_in *in, void **model)
{
	const struct ets *like = in->like;
	unsigned m = in->n_periods && in->periods[0] <= ETS_MAX_M ? in->periods[0] : 0;
	bool positive = true;
	struct ets *best = NULL;
	int rc = -EDOM;

	if (in->n < 4)
		return -EDOM;
	if (like) {
		/* refit at a later origin: same form, parameters and initial states; filter */
		struct ets *e = calloc(1, sizeof(*e));
		size_t ns = n_states(&like->f, like->m);
		if (!e)
			return -ENOMEM;
		*e = *like;
		e->x0 = malloc(ns * sizeof(double));
		e->seas = calloc(like->m ? like->m : 1, sizeof(double));
		if (!e->x0 || !e->seas) {
			ets_free(e);
			return -ENOMEM;
		}
		memcpy(e->x0, like->x0, ns * sizeof(double));
		struct pars p = {like->alpha, like->beta, like->gamma, like->phi};
		if (!isfinite(filter(&e->f, e->m, &p, e->x0, in->y, in->n, NULL, e, e->seas))) {
			ets_free(e);
			return -ERANGE;
		}
		*model = e;
		return 0;
	}
	for (size_t t = 0; t < in->n; t++)
		positive = positive && in->y[t] > 0;
	for (int tr = T_N; tr <= T_AD; tr++) {
		for (int se = S_N; se <= S_M; se++) {
			struct form f = {(enum trend)tr, (enum season)se};
			struct ets *e = NULL;
			if (se != S_N && (m < 2 || in->n < 2 * (size_t)m + 2))
				continue;
			if (se == S_M && !positive)
				continue;
			int r = fit_form(&f, m, in->y, in->n, &e);
			if (r < 0) {
				if (r == -ENOMEM) {
					ets_free(best);
					return r;
				}
				continue;
			}
			if (!best || e->aicc < best->aicc) {
				ets_free(best);
				best = e;
			} else {
				ets_free(e);
			}
			rc = 0;
		}
	}
	if (!best)
		return rc;
	*model = best;
	return 0;
}

static int parse_form(const char *form, struct form *f)
{
	if (!form || strlen(form) != 3 || form[0] != 'A')
		return -EINVAL;
	switch (form[1]) {
	case 'N':
		f->trend = T_N;
		break;
	case 'A':
		f->trend = T_A;
		break;
	case 'D':
		f->trend = T_AD;
		break;
	default:
		return -EINVAL;
	}
	switch (form[2]) {
	case 'N':
		f->season = S_N;
		break;
	case 'A':
		f->season = S_A;
		break;
	case 'M':
		f->season = S_M;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

int fc_ets_fit_form(const struct fc_fit_in *in, const char *form, void **model)
{
	struct form f;
	unsigned m = in->n_periods ? in->periods[0] : 0;

	if (parse_form(form, &f) < 0)
		return -EINVAL;
	if (f.season != S_N && (m < 2 || in->n < 2 * (size_t)m + 2))
		return -EDOM;
	struct ets *e = NULL;
	int rc = fit_form(&f, m, in->y, in->n, &e);
	if (rc == 0)
		*model = e;
	return rc;
}

int fc_ets_from(const char *form, unsigned m, const double par[4], const double *x0,
                const double *y, size_t n, void **model)
{
	struct form f;

	if (parse_form(form, &f) < 0 || (f.season != S_N && m < 2) || n == 0)
		return -EINVAL;
	size_t ns = n_states(&f, m);
	struct ets *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->f = f;
	e->m = f.season != S_N ? m : 0;
	e->x0 = malloc(ns * sizeof(double));
	e->seas = calloc(m ? m : 1, sizeof(double));
	if (!e->x0 || !e->seas) {
		ets_free(e);
		return -ENOMEM;
	}
	memcpy(e->x0, x0, ns * sizeof(double));
	struct pars p = {par[0], par[1], par[2], par[3]};
	e->alpha = p.alpha;
	e->beta = p.beta;
	e->gamma = p.gamma;
	e->phi = f.trend == T_AD ? p.phi : 1;
	e->k = n_pars(&f) + ns - (f.season != S_N) + 1;
	e->sse = filter(&f, m, &p, e->x0, y, n, NULL, e, e->seas);
	e->sigma2 = n > e->k - 1 ? e->sse / (double)(n - (e->k - 1)) : e->sse;
	*model = e;
	return isfinite(e->sse) ? 0 : (ets_free(e), -ERANGE);
}

double fc_ets_sse(const void *model)
{
	return ((const struct ets *)model)->sse;
}

static double phi_sum(const struct ets *e, size_t h)
{
	if (e->f.trend == T_N)
		return 0;
	if (e->f.trend == T_A)
		return (double)h;
	double s = 0, pw = 1;
	for (size_t j = 1; j <= h; j++) {
		pw *= e->phi;
		s += pw;
	}
	return s;
}

static int ets_mean(const void *model, size_t h, double *out)
{
	const struct ets *e = model;
	double ph = 0, pw = 1;

	for (size_t s = 0; s < h; s++) {
		if (e->f.trend == T_A)
			ph = (double)(s + 1);
		else if (e->f.trend == T_AD) {
			pw *= e->phi;
			ph += pw;
		}
		double base = e->l + ph * e->b;
		double seas = e->f.season == S_N ? 0 : e->seas[(e->n + s) % e->m];
		out[s] = e->f.season == S_M ? base * seas : base + seas;
	}
	return 0;
}

static int ets_quantiles(const void *model, size_t h, const double *levels, size_t nl, double *out)
{
	const struct ets *e = model;
	double *mean = malloc(2 * h * sizeof(double));

	if (!mean)
		return -ENOMEM;
	double *sd = mean + h;
	ets_mean(model, h, mean);
	double acc = 1;
	for (size_t s = 0; s < h; s++) {
		if (s > 0) {
			/* c_j = alpha + beta * phi_j + gamma [j is a whole number of seasons] */
			size_t j = s;
			double c = e->alpha + e->beta * phi_sum(e, j);
			if (e->f.season != S_N && j % e->m == 0)
				c += e->gamma;
			acc += c * c;
		}
		double v = e->sigma2 * acc;
		sd[s] = sqrt(v > 0 ? v : 0);
		if (e->f.season == S_M)
			sd[s] *= e->seas[(e->n + s) % e->m];
	}
	fc_model_gauss_quantiles(mean, sd, h, levels, nl, out);
	free(mean);
	return 0;
}

static void ets_describe(const void *model, char *buf, size_t len)
{
	const struct ets *e = model;

	if (e->f.trend == T_AD)
		snprintf(buf, len, "ets(A,Ad,%c)", schar[e->f.season]);
	else
		snprintf(buf, len, "ets(A,%c,%c)", tchar[e->f.trend], schar[e->f.season]);
}

static double ets_complexity(const void *model)
{
	return (double)((const struct ets *)model)->k;
}

const struct fc_model_ops fc_ets_ops = {
        .name = "ets",
        .summary = "exponential smoothing (additive errors; trend N/A/Ad; season N/A/M), AICc",
        .cost = 30,
        .flags = 0,
        .fit = ets_fit,
        .mean = ets_mean,
        .quantiles = ets_quantiles,
        .describe = ets_describe,
        .complexity = ets_complexity,
        .free = ets_free,
};

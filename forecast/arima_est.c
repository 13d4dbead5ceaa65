/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arima_est: estimation of one seasonal ARIMA order (see arima.h), as R's stats::arima
 * with method "CSS-ML" does it: conditional sum of squares first (Levenberg-Marquardt,
 * GSL multifit_nlinear, from zero coefficients), then exact maximum likelihood from there
 * (GSL's BFGS on the concentrated log-likelihood, AR and MA parts kept stationary /
 * invertible by the partial-autocorrelation transform, central-difference gradients).
 *
 * Cost control: the likelihood costs O(n r) per evaluation (arima_kf.c); BFGS stops at a
 * gradient norm of 1e-5 (per observation) or after ARIMA_ML_ITER iterations, LM after
 * ARIMA_CSS_ITER. The search (arima.c) runs only the CSS step for every candidate order and
 * the ML step for the chosen one.
 *
 * Owns only temporary buffers; reentrant.
 */
#include "arima.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>

#define ARIMA_CSS_ITER 50
#define ARIMA_ML_ITER  60

size_t arima_difference(const double *y, size_t n, unsigned d, unsigned D, unsigned m, double *w)
{
	size_t len = n;

	memcpy(w, y, n * sizeof(double));
	for (unsigned k = 0; k < D; k++) {
		if (len <= m)
			return 0;
		for (size_t t = 0; t + m < len; t++)
			w[t] = w[t + m] - w[t];
		len -= m;
	}
	for (unsigned k = 0; k < d; k++) {
		if (len <= 1)
			return 0;
		for (size_t t = 0; t + 1 < len; t++)
			w[t] = w[t + 1] - w[t];
		len -= 1;
	}
	return len;
}

static size_t n_coef(const struct arima_order *o)
{
	return o->p + o->q + o->P + o->Q + (o->constant ? 1 : 0);
}

static size_t poly_room(const struct arima_order *o)
{
	return (size_t)ARIMA_MAX_PQ * ((o->m > 1 ? o->m : 1) + 1) + 1;
}

/* What the objective functions need. */
struct est {
	const struct arima_order *o;
	const double *xt; /* normalised w */
	size_t n;
	double mu_fixed; /* mean when not estimated */
	double *x;       /* xt - mu */
	double *e;       /* residuals */
	double *ar, *ma;
	size_t np, nq;
	double coef[ARIMA_MAX_COEF];
};

static void demean(struct est *s, const double *coef)
{
	double mu = s->o->constant ? coef[n_coef(s->o) - 1] : s->mu_fixed;

	for (size_t t = 0; t < s->n; t++)
		s->x[t] = s->xt[t] - mu;
}

/* ---- conditional sum of squares ------------------------------------------------------- */

static int css_f(const gsl_vector *v, void *arg, gsl_vector *f)
{
	struct est *s = arg;
	size_t k = n_coef(s->o);

	for (size_t i = 0; i < k; i++)
		s->coef[i] = gsl_vector_get(v, i);
	arima_expand(s->o, s->coef, s->ar, &s->np, s->ma, &s->nq);
	demean(s, s->coef);
	arima_css_resid(s->ar, s->np, s->ma, s->nq, s->x, s->n, s->e);
	for (size_t t = s->np; t < s->n; t++) {
		double r = s->e[t];
		gsl_vector_set(f, t - s->np, isfinite(r) && fabs(r) < 1e150 ? r : 1e150);
	}
	return GSL_SUCCESS;
}

/* Minimise the CSS from zero coefficients; writes coef and returns the sum of squares
 * (INFINITY on failure). */
static double css_fit(struct est *s, double *coef)
{
	size_t k = n_coef(s->o);
	size_t np = s->o->p + (s->o->m > 1 ? (size_t)s->o->m * s->o->P : 0);
	size_t nres = s->n - np;
	double ss = INFINITY;

	memset(coef, 0, k * sizeof(double));
	if (k == 0) {
		arima_expand(s->o, coef, s->ar, &s->np, s->ma, &s->nq);
		demean(s, coef);
		return arima_css_resid(s->ar, s->np, s->ma, s->nq, s->x, s->n, s->e);
	}
	gsl_multifit_nlinear_fdf fdf = {.f = css_f, .n = nres, .p = k, .params = s};
	gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
	gsl_multifit_nlinear_workspace *ws =
	        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, nres, k);
	gsl_vector *x0 = gsl_vector_calloc(k);
	if (!ws || !x0)
		goto out;
	if (gsl_multifit_nlinear_init(x0, &fdf, ws) != GSL_SUCCESS)
		goto out;
	int info;
	gsl_multifit_nlinear_driver(ARIMA_CSS_ITER, 1e-8, 1e-8, 1e-10, NULL, NULL, &info, ws);
	gsl_vector *xs = gsl_multifit_nlinear_position(ws);
	for (size_t i = 0; i < k; i++)
		coef[i] = gsl_vector_get(xs, i);
	arima_expand(s->o, coef, s->ar, &s->np, s->ma, &s->nq);
	demean(s, coef);
	ss = arima_css_resid(s->ar, s->np, s->ma, s->nq, s->x, s->n, s->e);
	for (size_t i = 0; i < k; i++)
		if (!isfinite(coef[i]))
			ss = INFINITY;
out:
	gsl_multifit_nlinear_free(ws);
	gsl_vector_free(x0);
	return isfinite(ss) ? ss : INFINITY;
}

/* ---- exact maximum likelihood ---------------------------------------------------------- */

/* raw (unconstrained) -> coefficients: AR and MA factors through the PACF transform (an MA
 * polynomial 1 + sum theta z^k is invertible iff 1 - sum (-theta) z^k is stationary). */
static void untransform(const struct arima_order *o, const double *raw, double *coef)
{
	size_t off = 0;
	unsigned len[4] = {o->p, o->q, o->P, o->Q};

	for (int f = 0; f < 4; f++) {
		arima_partrans(raw + off, len[f], coef + off);
		if (f % 2)
			for (unsigned i = 0; i < len[f]; i++)
				coef[off + i] = -coef[off + i];
		off += len[f];
	}
	if (o->constant)
		coef[off] = raw[off];
}

static int transform(const struct arima_order *o, const double *coef, double *raw)
{
	size_t off = 0;
	unsigned len[4] = {o->p, o->q, o->P, o->Q};
	double tmp[ARIMA_MAX_PQ];

	for (int f = 0; f < 4; f++) {
		for (unsigned i = 0; i < len[f]; i++)
			tmp[i] = f % 2 ? -coef[off + i] : coef[off + i];
		if (arima_invpartrans(tmp, len[f], raw + off) < 0)
			return -EDOM;
		off += len[f];
	}
	if (o->constant)
		raw[off] = coef[off];
	return 0;
}

/* R's objective: 0.5 log(ssq / n) + 0.5 sumlog / n (the concentrated negative
 * log-likelihood per observation, constants dropped). */
static double ml_value(struct est *s, const double *coef)
{
	double ssq, sumlog;

	arima_expand(s->o, coef, s->ar, &s->np, s->ma, &s->nq);
	demean(s, coef);
	if (arima_kalman(s->ar, s->np, s->ma, s->nq, s->x, s->n, &ssq, &sumlog, NULL) < 0 ||
	    !(ssq > 0))
		return 1e10;
	double dn = (double)s->n;
	return 0.5 * log(ssq / dn) + 0.5 * sumlog / dn;
}

static double ml_f(const gsl_vector *v, void *arg)
{
	struct est *s = arg;
	double coef[ARIMA_MAX_COEF];

	untransform(s->o, v->data, coef);
	return ml_value(s, coef);
}

static void ml_grad(const gsl_vector *v, void *arg, double f0, gsl_vector *g)
{
	size_t k = v->size;
	double x[ARIMA_MAX_COEF];
	gsl_vector_view xv = gsl_vector_view_array(x, k);

	/* forward differences: one evaluation per parameter (BFGS tolerates their error) */
	memcpy(x, v->data, k * sizeof(double));
	for (size_t i = 0; i < k; i++) {
		double h = 1e-5 * (fabs(x[i]) > 1 ? fabs(x[i]) : 1);
		double x0 = x[i];
		x[i] = x0 + h;
		double fp = ml_f(&xv.vector, arg);
		x[i] = x0;
		gsl_vector_set(g, i, (fp - f0) / h);
	}
}

static void ml_df(const gsl_vector *v, void *arg, gsl_vector *g)
{
	ml_grad(v, arg, ml_f(v, arg), g);
}

static void ml_fdf(const gsl_vector *v, void *arg, double *f, gsl_vector *g)
{
	*f = ml_f(v, arg);
	ml_grad(v, arg, *f, g);
}

/* BFGS from coef (updated in place). Returns the objective value. */
static double ml_fit(struct est *s, double *coef)
{
	size_t k = n_coef(s->o);
	double raw[ARIMA_MAX_COEF];

	if (k == 0)
		return ml_value(s, coef);
	if (transform(s->o, coef, raw) < 0) {
		memset(coef, 0, k * sizeof(double));
		if (transform(s->o, coef, raw) < 0)
			return 1e10;
	}
	double best = INFINITY;
	gsl_multimin_function_fdf fn = {.f = ml_f, .df = ml_df, .fdf = ml_fdf, .n = k, .params = s};
	gsl_multimin_fdfminimizer *m =
	        gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, k);
	gsl_vector_view x0 = gsl_vector_view_array(raw, k);
	if (!m)
		return 1e10;
	if (gsl_multimin_fdfminimizer_set(m, &fn, &x0.vector, 0.05, 0.1) == GSL_SUCCESS) {
		double prev = m->f;
		for (int it = 0; it < ARIMA_ML_ITER; it++) {
			if (gsl_multimin_fdfminimizer_iterate(m) != GSL_SUCCESS)
				break;
			if (gsl_multimin_test_gradient(m->gradient, 1e-5) == GSL_SUCCESS)
				break;
			if (fabs(prev - m->f) < 1e-8 * (fabs(m->f) + 1e-3))
				break;
			prev = m->f;
		}
		best = m->f;
		memcpy(raw, m->x->data, k * sizeof(double));
	}
	gsl_multimin_fdfminimizer_free(m);
	untransform(s->o, raw, coef);
	return isfinite(best) ? best : 1e10;
}

/* ---- one order ------------------------------------------------------------------------- */

bool arima_roots_ok(const struct arima_fit *f)
{
	const struct arima_order *o = &f->o;
	const double *phi = f->coef, *theta = phi + o->p, *sphi = theta + o->q;
	const double *stheta = sphi + o->P;
	double neg[ARIMA_MAX_PQ];

	if (arima_min_root(phi, o->p) < 1.01)
		return false;
	if (arima_min_root(sphi, o->P) < 1.01)
		return false;
	for (unsigned i = 0; i < o->q; i++)
		neg[i] = -theta[i];
	if (arima_min_root(neg, o->q) < 1.01)
		return false;
	for (unsigned i = 0; i < o->Q; i++)
		neg[i] = -stheta[i];
	if (arima_min_root(neg, o->Q) < 1.01)
		return false;
	return true;
}

int arima_fit_order(const double *y, size_t n, const struct arima_order *o, bool css_only,
                    struct arima_fit *f)
{
	size_t k = n_coef(o);
	unsigned m = o->m > 1 ? o->m : 1;
	size_t lost = o->d + (size_t)o->D * m;
	size_t room = poly_room(o);
	int rc = 0;

	if (o->p > ARIMA_MAX_PQ || o->q > ARIMA_MAX_PQ || o->P > ARIMA_MAX_PQ ||
	    o->Q > ARIMA_MAX_PQ || (o->m <= 1 && (o->P || o->Q || o->D)))
		return -EINVAL;
	if (n <= lost + k + 3)
		return -EDOM;
	double *buf = malloc((4 * n + 2 * room) * sizeof(double));
	if (!buf)
		return -ENOMEM;
	double *w = buf, *xt = w + n, *x = xt + n, *e = x + n, *ar = e + n, *ma = ar + room;
	size_t nw = arima_difference(y, n, o->d, o->D, m, w);
	size_t np = o->p + (size_t)(o->m > 1 ? o->m : 0) * o->P;
	if (nw <= np + k + 2) {
		rc = -EDOM;
		goto out;
	}
	double mean = 0, var = 0;
	for (size_t t = 0; t < nw; t++)
		mean += w[t];
	mean /= (double)nw;
	for (size_t t = 0; t < nw; t++)
		var += (w[t] - mean) * (w[t] - mean);
	var /= (double)nw;
	if (!(var > 1e-24 * (mean * mean)) || !(var > 0)) {
		rc = -EDOM; /* a constant difference: the caller handles it */
		goto out;
	}
	memset(f, 0, sizeof(*f));
	f->o = *o;
	f->ncoef = k;
	f->wbar = mean;
	f->wsd = sqrt(var);
	f->nused = nw;
	for (size_t t = 0; t < nw; t++)
		xt[t] = (w[t] - mean) / f->wsd;
	struct est s = {.o = o,
	                .xt = xt,
	                .n = nw,
	                .mu_fixed = -mean / f->wsd,
	                .x = x,
	                .e = e,
	                .ar = ar,
	                .ma = ma};
	double ss = css_fit(&s, f->coef);
	if (!isfinite(ss) || !(ss > 0)) {
		rc = -EDOM;
		goto out;
	}
	double dn = (double)nw, npar = (double)k + 1;
	if (css_only) {
		f->css = true;
		f->sigma2 = ss / (double)(nw - np);
		f->loglik = NAN;
		double aic = dn * log(f->sigma2) + 2 * npar;
		f->aicc = aic + 2 * npar * (npar + 1) / (dn - npar - 1);
		rc = 0;
		goto out;
	}
	double val = ml_fit(&s, f->coef);
	if (!(val < 1e9)) {
		rc = -EDOM;
		goto out;
	}
	double ssq, sumlog;
	arima_expand(o, f->coef, ar, &s.np, ma, &s.nq);
	demean(&s, f->coef);
	rc = arima_kalman(ar, s.np, ma, s.nq, x, nw, &ssq, &sumlog, NULL);
	if (rc < 0)
		goto out;
	f->sigma2 = ssq / dn;
	f->loglik = -0.5 * (dn * log(2 * M_PI * f->sigma2) + sumlog + dn) - dn * log(f->wsd);
	double aic = -2 * f->loglik + 2 * npar;
	f->aicc = aic + 2 * npar * (npar + 1) / (dn - npar - 1);
out:
	free(buf);
	return rc;
}

size_t arima_coef_data_scale(const struct arima_fit *f, double *out)
{
	size_t k = f->o.p + f->o.q + f->o.P + f->o.Q;

	memcpy(out, f->coef, k * sizeof(double));
	if (f->o.constant) {
		double mu = f->wbar + f->wsd * f->coef[k];
		if (f->o.D == 1 && f->o.d == 0 && f->o.m > 1)
			mu /= (double)f->o.m; /* drift per step of y */
		out[k++] = mu;
	}
	return k;
}

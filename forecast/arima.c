/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arima: seasonal ARIMA with automatic order selection, the "arima" model plugin.
 *
 * Order selection follows Hyndman & Khandakar (2008) as R's forecast::auto.arima does it:
 * D from the seasonal strength of an STL decomposition (> 0.64: one seasonal difference),
 * d from repeated KPSS tests at 5 %, then a stepwise search over (p, q, P, Q, constant)
 * from four starting models, moving to a neighbour whenever its AICc is lower. With more
 * than 150 values or a period above 12 the search compares conditional-sum-of-squares
 * fits (R's "approximation"), and only the winner is re-estimated by exact maximum
 * likelihood (arima_est.c), falling back to the next best order when the roots of an AR or
 * MA factor come within 1.01 of the unit circle (arima_roots_ok).
 *
 * Lean limits (documented in docs/forecast-models.md): p, q <= 3, P, Q <= 1, p + q + P + Q
 * <= 5, at most 40 orders estimated, at most 3 exact-likelihood refits; seasonal periods
 * above 48 steps (e.g. 5-minute data) are modelled without seasonal terms (MSTL handles
 * those). The data are normalised internally (differences divided by their spread), so
 * the scale of traffic counters (1e11) does not upset the optimisers.
 *
 * Forecasts: the Kalman filter's predicted state after the data gives the ARMA forecasts of
 * the differences, which are integrated back; the predictive variance is sigma^2 times the
 * cumulated squared psi weights of the full (differenced) model. A cross-validation rerun
 * (fc_fit_in.like) keeps the orders, coefficients and normalisation and runs only the
 * filter over the shorter series.
 *
 * Owns its model struct. Pure math; reentrant.
 */
#include "arima.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "mstl.h"

void arima_search_defaults(struct arima_search *s)
{
	s->max_p = 3;
	s->max_q = 3;
	s->max_P = 1;
	s->max_Q = 1;
	s->max_order = 5;
	s->max_models = 40;
	s->max_m = 48;
}

/* ---- unit root tests ------------------------------------------------------------------- */

static bool is_constant(const double *x, size_t n)
{
	for (size_t t = 1; t < n; t++)
		if (x[t] != x[0])
			return false;
	return true;
}

double arima_kpss(const double *x, size_t n)
{
	size_t lmax = (size_t)(3 * sqrt((double)n) / 13);
	double mean = 0, s = 0, num = 0, s2 = 0;

	if (n < 2)
		return 0;
	for (size_t t = 0; t < n; t++)
		mean += x[t];
	mean /= (double)n;
	for (size_t t = 0; t < n; t++) {
		double e = x[t] - mean;
		s += e;
		num += s * s;
		s2 += e * e;
	}
	num /= (double)n * (double)n;
	s2 /= (double)n;
	double lr = 0;
	for (size_t l = 1; l <= lmax && l < n; l++) {
		double c = 0;
		for (size_t t = l; t < n; t++)
			c += (x[t] - mean) * (x[t - l] - mean);
		lr += (1 - (double)l / (double)(lmax + 1)) * c;
	}
	double den = s2 + 2 * lr / (double)n;
	return den > 0 ? num / den : 0;
}

unsigned arima_ndiffs(const double *x, size_t n, unsigned max_d)
{
	const double crit = 0.463; /* 5 % critical value of the level KPSS test */
	double *w = malloc(n * sizeof(double));
	unsigned d = 0;

	if (!w || is_constant(x, n)) {
		free(w);
		return 0;
	}
	memcpy(w, x, n * sizeof(double));
	while (d < max_d && n > 2 && arima_kpss(w, n) > crit) {
		for (size_t t = 0; t + 1 < n; t++)
			w[t] = w[t + 1] - w[t];
		n--;
		d++;
		if (is_constant(w, n))
			break;
	}
	free(w);
	return d;
}

static double variance(const double *x, size_t n)
{
	double m = 0, v = 0;

	for (size_t t = 0; t < n; t++)
		m += x[t];
	m /= (double)n;
	for (size_t t = 0; t < n; t++)
		v += (x[t] - m) * (x[t] - m);
	return n > 1 ? v / (double)(n - 1) : 0;
}

unsigned arima_nsdiffs(const double *x, size_t n, unsigned m)
{
	if (m < 2 || n <= 2 * (size_t)m || is_constant(x, n))
		return 0;
	double *buf = malloc(3 * n * sizeof(double));
	unsigned D = 0;
	if (!buf)
		return 0;
	double *seas = buf, *trend = buf + n, *r = buf + 2 * n;
	if (fc_mstl(x, n, &m, 1, 1, false, seas, trend) == 0) {
		for (size_t t = 0; t < n; t++)
			r[t] = x[t] - seas[t] - trend[t];
		double vr = variance(r, n);
		for (size_t t = 0; t < n; t++)
			r[t] += seas[t];
		double vrs = variance(r, n);
		double strength = vrs > 0 ? 1 - vr / vrs : 0;
		D = strength > 0.64;
	}
	free(buf);
	return D;
}

/* ---- stepwise search -------------------------------------------------------------------- */

struct tried {
	unsigned p, q, P, Q;
	bool c;
	double ic;
};

struct search_state {
	const double *y;
	size_t n;
	struct arima_order base; /* d, D, m */
	bool approx;
	struct tried *res;
	size_t k, cap;
	struct arima_fit best;
	double best_ic;
	bool have_best;
};

static bool is_new(const struct search_state *s, unsigned p, unsigned q, unsigned P, unsigned Q,
                   bool c)
{
	for (size_t i = 0; i < s->k; i++)
		if (s->res[i].p == p && s->res[i].q == q && s->res[i].P == P && s->res[i].Q == Q &&
		    s->res[i].c == c)
			return false;
	return true;
}

/* Estimate one order; record it; returns its information criterion (INFINITY when it
 * failed or its roots are too close to the unit circle). -ENOMEM is passed on. */
static int try_order(struct search_state *s, unsigned p, unsigned q, unsigned P, unsigned Q, bool c,
                     double *ic)
{
	struct arima_order o = s->base;
	struct arima_fit f;

	o.p = p;
	o.q = q;
	o.P = P;
	o.Q = Q;
	o.constant = c;
	*ic = INFINITY;
	int rc = arima_fit_order(s->y, s->n, &o, s->approx, &f);
	if (rc == -ENOMEM)
		return rc;
	if (rc == 0 && arima_roots_ok(&f) && isfinite(f.aicc))
		*ic = f.aicc;
	if (s->k < s->cap)
		s->res[s->k++] = (struct tried){p, q, P, Q, c, *ic};
	if (*ic < s->best_ic) {
		s->best = f;
		s->best_ic = *ic;
		s->have_best = true;
	}
	return 0;
}

/* The neighbours in auto.arima's order: seasonal moves first, then non-seasonal. */
static const int moves[16][4] = {
        {0, 0, -1, 0},  {0, 0, 0, -1}, {0, 0, 1, 0},  {0, 0, 0, 1},  {0, 0, -1, -1}, {0, 0, -1, 1},
        {0, 0, 1, -1},  {0, 0, 1, 1},  {-1, 0, 0, 0}, {0, -1, 0, 0}, {1, 0, 0, 0},   {0, 1, 0, 0},
        {-1, -1, 0, 0}, {-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 0, 0},
};

static int cmp_tried(const void *a, const void *b)
{
	const struct tried *x = a, *y = b;

	return (x->ic > y->ic) - (x->ic < y->ic);
}

/* A model for a series whose differences are constant: w_t = mean exactly. */
static void deterministic_fit(const double *y, size_t n, const struct arima_order *base,
                              struct arima_fit *f)
{
	double *w = malloc(n * sizeof(double));
	size_t nw = 0;
	double mean = 0;

	if (w) {
		nw = arima_difference(y, n, base->d, base->D, base->m > 1 ? base->m : 1, w);
		for (size_t t = 0; t < nw; t++)
			mean += w[t];
		mean = nw ? mean / (double)nw : 0;
	}
	free(w);
	memset(f, 0, sizeof(*f));
	f->o = *base;
	f->o.p = f->o.q = f->o.P = f->o.Q = 0;
	f->o.constant = true;
	f->ncoef = 1;
	f->wbar = mean;
	f->wsd = 1;
	f->sigma2 = 0;
	f->nused = nw;
	f->loglik = NAN;
	f->aicc = NAN;
}

int arima_auto(const double *y, size_t n, unsigned m, const struct arima_search *sp,
               struct arima_fit *best)
{
	struct arima_search def;
	struct search_state s;
	int rc = 0;

	if (!sp) {
		arima_search_defaults(&def);
		sp = &def;
	}
	if (n < 4)
		return -EDOM;
	memset(&s, 0, sizeof(s));
	if (m < 2 || m > sp->max_m)
		m = 1;
	s.y = y;
	s.n = n;
	s.base.m = m;
	s.best_ic = INFINITY;
	if (is_constant(y, n)) {
		deterministic_fit(y, n, &s.base, best);
		return 0;
	}
	unsigned max_p = sp->max_p, max_q = sp->max_q, max_P = sp->max_P, max_Q = sp->max_Q;
	if (max_p > n / 3)
		max_p = (unsigned)(n / 3);
	if (max_q > n / 3)
		max_q = (unsigned)(n / 3);
	if (m > 1) {
		if (max_P > n / 3 / m)
			max_P = (unsigned)(n / 3 / m);
		if (max_Q > n / 3 / m)
			max_Q = (unsigned)(n / 3 / m);
		s.base.D = n > 2 * (size_t)m ? arima_nsdiffs(y, n, m) : 0;
		if (s.base.D == 0 && max_P == 0 && max_Q == 0)
			m = s.base.m = 1; /* too short for seasonal terms */
	} else {
		max_P = max_Q = 0;
	}
	double *dx = malloc(n * sizeof(double));
	s.cap = sp->max_models + 8;
	s.res = calloc(s.cap, sizeof(*s.res));
	if (!dx || !s.res) {
		rc = -ENOMEM;
		goto out;
	}
	size_t ndx = arima_difference(y, n, 0, s.base.D, m, dx);
	if (ndx < 4) {
		rc = -EDOM;
		goto out;
	}
	s.base.d = arima_ndiffs(dx, ndx, 2);
	size_t nw = arima_difference(y, n, s.base.d, s.base.D, m, dx);
	if (nw < 4) {
		rc = -EDOM;
		goto out;
	}
	if (is_constant(dx, nw)) {
		deterministic_fit(y, n, &s.base, best);
		goto out;
	}
	if (m > 1) {
		if (max_P > 0 && max_p > m - 1)
			max_p = m - 1;
		if (max_Q > 0 && max_q > m - 1)
			max_q = m - 1;
	}
	s.approx = n > 150 || m > 12;
	unsigned dd = s.base.d + s.base.D;
	bool allow_c = dd <= 1;
	bool c = allow_c;
	unsigned p = max_p < 2 ? max_p : 2, q = max_q < 2 ? max_q : 2;
	unsigned P = max_P < 1 ? max_P : 1, Q = max_Q < 1 ? max_Q : 1;
	double ic;

	/* the four (five) starting models */
	rc = try_order(&s, p, q, P, Q, c, &ic);
	double best_ic = ic;
	if (rc == 0)
		rc = try_order(&s, 0, 0, 0, 0, c, &ic);
	if (rc == 0 && ic < best_ic) {
		best_ic = ic;
		p = q = P = Q = 0;
	}
	if (rc == 0 && (max_p > 0 || max_P > 0)) {
		unsigned p1 = max_p > 0, P1 = m > 1 && max_P > 0;
		rc = try_order(&s, p1, 0, P1, 0, c, &ic);
		if (rc == 0 && ic < best_ic) {
			best_ic = ic;
			p = p1;
			P = P1;
			q = Q = 0;
		}
	}
	if (rc == 0 && (max_q > 0 || max_Q > 0)) {
		unsigned q1 = max_q > 0, Q1 = m > 1 && max_Q > 0;
		rc = try_order(&s, 0, q1, 0, Q1, c, &ic);
		if (rc == 0 && ic < best_ic) {
			best_ic = ic;
			p = P = 0;
			q = q1;
			Q = Q1;
		}
	}
	if (rc == 0 && c) {
		rc = try_order(&s, 0, 0, 0, 0, false, &ic);
		if (rc == 0 && ic < best_ic) {
			best_ic = ic;
			p = q = P = Q = 0;
			c = false;
		}
	}
	/* stepwise: restart the neighbour list after every improvement */
	bool improved = true;
	while (rc == 0 && improved && s.k < sp->max_models) {
		improved = false;
		for (int mv = 0; mv < 16 && !improved && s.k < sp->max_models; mv++) {
			int np_ = (int)p + moves[mv][0], nq_ = (int)q + moves[mv][1];
			int nP = (int)P + moves[mv][2], nQ = (int)Q + moves[mv][3];
			if (np_ < 0 || nq_ < 0 || nP < 0 || nQ < 0 || np_ > (int)max_p ||
			    nq_ > (int)max_q || nP > (int)max_P || nQ > (int)max_Q ||
			    np_ + nq_ + nP + nQ > (int)sp->max_order)
				continue;
			if (!is_new(&s, (unsigned)np_, (unsigned)nq_, (unsigned)nP, (unsigned)nQ,
			            c))
				continue;
			rc = try_order(&s, (unsigned)np_, (unsigned)nq_, (unsigned)nP, (unsigned)nQ,
			               c, &ic);
			if (rc == 0 && ic < best_ic) {
				best_ic = ic;
				p = (unsigned)np_;
				q = (unsigned)nq_;
				P = (unsigned)nP;
				Q = (unsigned)nQ;
				improved = true;
			}
		}
		if (rc == 0 && !improved && allow_c && s.k < sp->max_models &&
		    is_new(&s, p, q, P, Q, !c)) {
			rc = try_order(&s, p, q, P, Q, !c, &ic);
			if (rc == 0 && ic < best_ic) {
				best_ic = ic;
				c = !c;
				improved = true;
			}
		}
	}
	if (rc < 0)
		goto out;
	if (!s.have_best) {
		rc = -EDOM;
		goto out;
	}
	if (!s.approx) {
		*best = s.best;
		goto out;
	}
	/* exact likelihood for the best orders, in order of their approximate AICc */
	qsort(s.res, s.k, sizeof(*s.res), cmp_tried);
	for (size_t i = 0; i < s.k && i < 3 && isfinite(s.res[i].ic); i++) {
		struct arima_order o = s.base;
		struct arima_fit f;
		o.p = s.res[i].p;
		o.q = s.res[i].q;
		o.P = s.res[i].P;
		o.Q = s.res[i].Q;
		o.constant = s.res[i].c;
		rc = arima_fit_order(y, n, &o, false, &f);
		if (rc == -ENOMEM)
			goto out;
		if (rc == 0 && arima_roots_ok(&f) && isfinite(f.aicc)) {
			*best = f;
			goto out;
		}
	}
	/* no exact fit passed: keep the best approximate one (its roots passed) */
	*best = s.best;
	rc = 0;
out:
	free(dx);
	free(s.res);
	return rc;
}

/* ---- the model plugin -------------------------------------------------------------------- */

struct arima_model {
	struct arima_fit f;
	size_t r;      /* state dimension */
	double *state; /* predicted state after the data (normalised scale) */
	double *ytail; /* the last nd values of y, for integrating the differences */
	size_t nd;     /* d + D m */
	double sigma2; /* innovation variance on the data's scale (for intervals) */
};

static void arima_model_free(void *model)
{
	struct arima_model *a = model;

	if (!a)
		return;
	free(a->state);
	free(a->ytail);
	free(a);
}

/* Run the filter of fit f over y[0..n) and set up the forecast state. */
static int arima_setup(struct arima_model *a, const double *y, size_t n)
{
	const struct arima_fit *f = &a->f;
	unsigned m = f->o.m > 1 ? f->o.m : 1;
	size_t room = (size_t)ARIMA_MAX_PQ * (m + 1) + 1;
	double *ar = malloc(2 * room * sizeof(double)), *ma = ar ? ar + room : NULL;
	double *w = malloc(n * sizeof(double));
	size_t np, nq;
	int rc = 0;

	a->nd = f->o.d + (size_t)f->o.D * m;
	if (!ar || !w) {
		rc = -ENOMEM;
		goto out;
	}
	if (n <= a->nd) {
		rc = -EDOM;
		goto out;
	}
	arima_expand(&f->o, f->coef, ar, &np, ma, &nq);
	a->r = np > nq + 1 ? np : nq + 1;
	a->state = calloc(a->r, sizeof(double));
	a->ytail = malloc((a->nd ? a->nd : 1) * sizeof(double));
	if (!a->state || !a->ytail) {
		rc = -ENOMEM;
		goto out;
	}
	if (a->nd)
		memcpy(a->ytail, y + n - a->nd, a->nd * sizeof(double));
	size_t nw = arima_difference(y, n, f->o.d, f->o.D, m, w);
	double mu = f->o.constant ? f->coef[f->ncoef - 1] : -f->wbar / f->wsd;
	for (size_t t = 0; t < nw; t++)
		w[t] = (w[t] - f->wbar) / f->wsd - mu;
	if (f->sigma2 > 0) {
		double ssq, sumlog;
		rc = arima_kalman(ar, np, ma, nq, w, nw, &ssq, &sumlog, a->state);
	}
out:
	free(ar);
	free(w);
	return rc;
}

static int arima_fit(const struct fc_fit_in *in, void **model)
{
	const struct arima_model *like = in->like;
	struct arima_model *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	if (like) {
		a->f = like->f;
		a->sigma2 = like->sigma2;
	} else {
		struct arima_search sp;
		arima_search_defaults(&sp);
		unsigned m = in->n_periods ? in->periods[0] : 1;
		rc = arima_auto(in->y, in->n, m, &sp, &a->f);
		if (rc < 0) {
			free(a);
			return rc;
		}
		/* as forecast::auto.arima: residual variance with degrees of freedom */
		double npar = (double)a->f.ncoef + 1;
		double dn = (double)a->f.nused;
		double dof = dn - npar + 1 > 1 ? dn - npar + 1 : 1;
		a->sigma2 = a->f.sigma2 * dn / dof * a->f.wsd * a->f.wsd;
	}
	rc = arima_setup(a, in->y, in->n);
	if (rc < 0) {
		arima_model_free(a);
		return rc;
	}
	*model = a;
	return 0;
}

/* (1 - B)^d (1 - B^m)^D = 1 - sum delta_k B^k: writes delta[0..nd) (delta_k at k-1). */
static void diff_poly(const struct arima_order *o, double *delta, size_t nd)
{
	unsigned m = o->m > 1 ? o->m : 1;
	double *c = calloc(nd + 1, sizeof(double));

	if (!c)
		return;
	c[0] = 1;
	size_t deg = 0;
	for (unsigned k = 0; k < o->D; k++) {
		for (size_t i = deg + m; i >= m; i--)
			c[i] -= c[i - m];
		deg += m;
	}
	for (unsigned k = 0; k < o->d; k++) {
		for (size_t i = deg + 1; i >= 1; i--)
			c[i] -= c[i - 1];
		deg += 1;
	}
	for (size_t k = 1; k <= nd; k++)
		delta[k - 1] = -c[k];
	free(c);
}

static int arima_mean(const void *model, size_t h, double *out)
{
	const struct arima_model *a = model;
	const struct arima_fit *f = &a->f;
	unsigned m = f->o.m > 1 ? f->o.m : 1;
	size_t room = (size_t)ARIMA_MAX_PQ * (m + 1) + 1;
	double *buf = malloc((2 * room + a->r + a->nd + h + a->nd) * sizeof(double));
	size_t np, nq;

	if (!buf)
		return -ENOMEM;
	double *ar = buf, *ma = ar + room, *st = ma + room, *yy = st + a->r;
	double *delta = yy + a->nd + h;
	arima_expand(&f->o, f->coef, ar, &np, ma, &nq);
	memcpy(st, a->state, a->r * sizeof(double));
	memcpy(yy, a->ytail, a->nd * sizeof(double));
	diff_poly(&f->o, delta, a->nd);
	double mu = f->o.constant ? f->coef[f->ncoef - 1] : -f->wbar / f->wsd;
	for (size_t s = 0; s < h; s++) {
		double wv = f->wbar + f->wsd * (st[0] + mu);
		if (f->sigma2 <= 0)
			wv = f->wbar;
		/* the next predicted state: T a */
		double a0 = st[0];
		for (size_t i = 0; i + 1 < a->r; i++)
			st[i] = (i < np ? ar[i] : 0) * a0 + st[i + 1];
		st[a->r - 1] = (a->r - 1 < np ? ar[a->r - 1] : 0) * a0;
		double v = wv;
		size_t t = a->nd + s;
		for (size_t k = 1; k <= a->nd; k++)
			v += delta[k - 1] * yy[t - k];
		yy[t] = v;
		out[s] = v;
	}
	free(buf);
	return 0;
}

static int arima_quantiles(const void *model, size_t h, const double *levels, size_t nl,
                           double *out)
{
	const struct arima_model *a = model;
	const struct arima_fit *f = &a->f;
	unsigned m = f->o.m > 1 ? f->o.m : 1;
	size_t room = (size_t)ARIMA_MAX_PQ * (m + 1) + 1;
	double *buf = malloc((3 * room + 2 * (a->nd + 1) + 3 * h) * sizeof(double));
	size_t np, nq;

	if (!buf)
		return -ENOMEM;
	double *ar = buf, *ma = ar + room, *full = ma + room, *delta = full + room + a->nd + 1;
	double *psi = delta + a->nd + 1, *mean = psi + h, *sd = mean + h;
	int rc = arima_mean(model, h, mean);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	arima_expand(&f->o, f->coef, ar, &np, ma, &nq);
	diff_poly(&f->o, delta, a->nd);
	/* full AR polynomial: (1 - sum ar B^k)(1 - sum delta B^k) = 1 - sum full B^k */
	size_t nf = np + a->nd;
	for (size_t k = 0; k < nf; k++)
		full[k] = 0;
	for (size_t i = 0; i < np; i++)
		full[i] += ar[i];
	for (size_t j = 0; j < a->nd; j++) {
		full[j] += delta[j];
		for (size_t i = 0; i < np; i++)
			full[i + j + 1] -= ar[i] * delta[j];
	}
	double acc = 0;
	for (size_t s = 0; s < h; s++) {
		double v = s == 0 ? 1 : (s <= nq ? ma[s - 1] : 0);
		for (size_t i = 1; i <= nf && i <= s; i++)
			v += full[i - 1] * psi[s - i];
		psi[s] = v;
		acc += v * v;
		sd[s] = sqrt(a->sigma2 * acc);
	}
	fc_model_gauss_quantiles(mean, sd, h, levels, nl, out);
	free(buf);
	return 0;
}

static void arima_describe(const void *model, char *buf, size_t len)
{
	const struct arima_model *a = model;
	const struct arima_order *o = &a->f.o;
	const char *c = "";

	if (o->constant && o->d + o->D == 0)
		c = " mean";
	else if (o->constant && o->d + o->D == 1)
		c = " drift";
	if (o->m > 1 && (o->P || o->D || o->Q))
		snprintf(buf, len, "arima(%u,%u,%u)(%u,%u,%u)[%u]%s", o->p, o->d, o->q, o->P, o->D,
		         o->Q, o->m, c);
	else
		snprintf(buf, len, "arima(%u,%u,%u)%s", o->p, o->d, o->q, c);
}

static double arima_complexity(const void *model)
{
	const struct arima_model *a = model;

	return (double)a->f.ncoef + 1;
}

const struct fc_model_ops fc_arima_ops = {
        .name = "arima",
        .summary = "ARIMA with automatic (seasonal) order search, exact Kalman likelihood",
        .cost = 100,
        .flags = 0,
        .fit = arima_fit,
        .mean = arima_mean,
        .quantiles = arima_quantiles,
        .describe = arima_describe,
        .complexity = arima_complexity,
        .free = arima_model_free,
};

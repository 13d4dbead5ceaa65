/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prophet: a Prophet-style additive regression (Taylor & Letham 2018), the "prophet" model:
 *
 *   y(t) = g(t) + sum over periods of Fourier terms + event effects + noise
 *
 * with g a piecewise-linear trend, k t + m + sum_j delta_j (t - s_j)+, over 25 changepoints
 * s_j spread over the first 80 % of the history (fewer on short series), t scaled to [0, 1]
 * over the history and y to its largest magnitude, as Prophet does. The fit is Prophet's
 * default maximum a posteriori estimate under its default priors: k, m ~ N(0, 5),
 * delta ~ Laplace(0, 0.05) (an L1 penalty: most changepoints get exactly zero), Fourier and
 * event coefficients ~ N(0, 10), noise sd ~ half-N(0, 0.5). For a given noise level the
 * problem is a lasso / ridge regression, solved by coordinate descent on the Gram matrix
 * (warm-started from the ridge solution); the noise level then has a closed-form update;
 * the two alternate until the noise level settles.
 *
 * Fourier orders: 10 harmonics per period (capped at period / 2), skipping harmonics whose
 * frequency a shorter period already has (the 7th weekly harmonic is the daily one).
 * Prophet's defaults (4 daily, 3 weekly) are too smooth for hourly traffic: on a quarter of
 * M4 Hourly, weekly orders 3 / 6 / 10 scored OWA 0.743 / 0.731 / 0.730 (daily 10), daily
 * orders 4 / 6 / 10 scored 0.801 / 0.748 / 0.743 (weekly 3).
 *
 * Events (FC_MODEL_EVENTS): a named event to be learned gets an indicator regressor (one
 * coefficient per name, Prophet's additive holiday effect) when it has occurred in the
 * history; a window with a given multiplier divides the history it covers and multiplies
 * the forecast.
 *
 * Intervals: the noise sd plus Prophet's trend uncertainty (future changepoints at the
 * historical rate with Laplace(0, mean |delta|) slopes), whose variance after u scaled
 * time units is 2 S lambda^2 u^3 / 3 for S changepoints; Gaussian.
 *
 * Cross-validation reruns (fc_fit_in.like) refit on the shorter history with the same
 * structure: a regression's coefficients encode the whole history, so reusing them would
 * let each origin see its own future. A refit costs about a millisecond.
 *
 * Owns its model struct. Pure math; reentrant.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PR_CHANGEPOINTS 25
#define PR_CP_RANGE     0.8
#define PR_TAU          0.05 /* changepoint prior scale */
#define PR_SEAS_SD      10.0 /* seasonality and holiday prior scale */
#define PR_TREND_SD     5.0
#define PR_SIGMA_SD     0.5
#define PR_ORDER_FIRST  10
#define PR_ORDER_OTHER  10
#define PR_MAX_HARM     64
#define PR_MAX_EVENTS   16

struct pr_window {
	size_t start, end;
	unsigned id;
	double mult;
};

struct prophet {
	size_t n; /* history length; t = i / (n - 1) */
	double scale;
	size_t n_cp;
	double cp[PR_CHANGEPOINTS]; /* scaled changepoint times */
	size_t n_harm;
	double harm_freq[PR_MAX_HARM]; /* cycles per step */
	unsigned periods[FC_MAX_PERIODS];
	size_t n_periods;
	size_t n_ev; /* learned event columns */
	unsigned ev_id[PR_MAX_EVENTS];
	struct pr_window *win; /* all windows (copied) */
	size_t n_win;
	size_t p; /* columns: k, m, deltas, sin/cos pairs, events */
	double *theta;
	double sigma2; /* noise variance, scaled */
	double lambda; /* mean |delta| */
};

static void prophet_free(void *model)
{
	struct prophet *m = model;

	if (!m)
		return;
	free(m->win);
	free(m->theta);
	free(m);
}

static size_t col_delta(const struct prophet *m)
{
	(void)m;
	return 2;
}

static size_t col_harm(const struct prophet *m)
{
	return 2 + m->n_cp;
}

static size_t col_ev(const struct prophet *m)
{
	return 2 + m->n_cp + 2 * m->n_harm;
}

/* The regressors at step i (may be beyond the history). */
static void design_row(const struct prophet *m, size_t i, double *x)
{
	double t = m->n > 1 ? (double)i / (double)(m->n - 1) : 0;

	x[0] = t;
	x[1] = 1;
	for (size_t j = 0; j < m->n_cp; j++)
		x[col_delta(m) + j] = t > m->cp[j] ? t - m->cp[j] : 0;
	for (size_t h = 0; h < m->n_harm; h++) {
		double a = 2 * M_PI * m->harm_freq[h] * (double)i;
		x[col_harm(m) + 2 * h] = sin(a);
		x[col_harm(m) + 2 * h + 1] = cos(a);
	}
	for (size_t e = 0; e < m->n_ev; e++) {
		double v = 0;
		for (size_t w = 0; w < m->n_win; w++)
			if (m->win[w].mult <= 0 && m->win[w].id == m->ev_id[e] &&
			    i >= m->win[w].start && i < m->win[w].end)
				v = 1;
		x[col_ev(m) + e] = v;
	}
}

/* Product of the given multipliers of the windows covering step i. */
static double given_factor(const struct prophet *m, size_t i)
{
	double f = 1;

	for (size_t w = 0; w < m->n_win; w++)
		if (m->win[w].mult > 0 && i >= m->win[w].start && i < m->win[w].end)
			f *= m->win[w].mult;
	return f;
}

/* Lay out changepoints, harmonics and event columns for n values. */
static int structure(struct prophet *m, const struct fc_fit_in *in)
{
	size_t n = in->n;

	m->n = n;
	size_t hist = (size_t)floor((double)n * PR_CP_RANGE);
	m->n_cp = PR_CHANGEPOINTS;
	if (m->n_cp + 1 > hist)
		m->n_cp = hist > 1 ? hist - 1 : 0;
	for (size_t j = 1; j <= m->n_cp; j++) {
		/* Prophet: round(seq(1, hist, length.out = n_cp + 1))[-1], 1-based rows */
		double pos = 1 + (double)(hist - 1) * (double)j / (double)m->n_cp;
		size_t row = (size_t)rint(pos);
		m->cp[j - 1] = (double)(row - 1) / (double)(n - 1);
	}
	m->n_periods = in->n_periods > FC_MAX_PERIODS ? FC_MAX_PERIODS : in->n_periods;
	memcpy(m->periods, in->periods, m->n_periods * sizeof(unsigned));
	m->n_harm = 0;
	for (size_t k = 0; k < m->n_periods; k++) {
		unsigned per = m->periods[k];
		unsigned order = k == 0 ? PR_ORDER_FIRST : PR_ORDER_OTHER;
		if (order > per / 2)
			order = per / 2;
		for (unsigned h = 1; h <= order && m->n_harm < PR_MAX_HARM; h++) {
			bool dup = false;
			/* h / per == h2 / per2 for a harmonic of a shorter period? */
			for (size_t k2 = 0; k2 < k; k2++) {
				unsigned per2 = m->periods[k2];
				if (((unsigned long)h * per2) % per == 0)
					dup = true;
			}
			if (!dup)
				m->harm_freq[m->n_harm++] = (double)h / (double)per;
		}
	}
	/* events: a column per learned event name that occurred in the history */
	m->n_win = in->n_events;
	if (m->n_win) {
		m->win = calloc(m->n_win, sizeof(*m->win));
		if (!m->win)
			return -ENOMEM;
	}
	for (size_t w = 0; w < m->n_win; w++) {
		const struct fc_window *fw = &in->events[w];
		m->win[w] = (struct pr_window){fw->start, fw->end, fw->id, fw->multiplier};
	}
	m->n_ev = 0;
	for (size_t w = 0; w < m->n_win && m->n_ev < PR_MAX_EVENTS; w++) {
		const struct pr_window *pw = &m->win[w];
		if (pw->mult > 0 || pw->start >= n)
			continue;
		bool have = false;
		for (size_t e = 0; e < m->n_ev; e++)
			have = have || m->ev_id[e] == pw->id;
		if (!have)
			m->ev_id[m->n_ev++] = pw->id;
	}
	m->p = 2 + m->n_cp + 2 * m->n_harm + m->n_ev;
	return 0;
}

/* Solve the symmetric positive definite system A x = b in place (Cholesky). */
static int chol_solve(double *A, double *b, size_t p)
{
	for (size_t j = 0; j < p; j++) {
		double s = A[j * p + j];
		for (size_t k = 0; k < j; k++)
			s -= A[j * p + k] * A[j * p + k];
		if (!(s > 0))
			return -EDOM;
		double d = sqrt(s);
		A[j * p + j] = d;
		for (size_t i = j + 1; i < p; i++) {
			double v = A[i * p + j];
			for (size_t k = 0; k < j; k++)
				v -= A[i * p + k] * A[j * p + k];
			A[i * p + j] = v / d;
		}
	}
	for (size_t i = 0; i < p; i++) {
		double v = b[i];
		for (size_t k = 0; k < i; k++)
			v -= A[i * p + k] * b[k];
		b[i] = v / A[i * p + i];
	}
	for (size_t i = p; i-- > 0;) {
		double v = b[i];
		for (size_t k = i + 1; k < p; k++)
			v -= A[k * p + i] * b[k];
		b[i] = v / A[i * p + i];
	}
	return 0;
}

/* f(x) = 1/2 x'Gx - c'x + 1/2 sum ridge_j x_j^2 + l1 sum_{j in [d0, d1)} |x_j| */
static double objective(const double *G, const double *c, size_t p, size_t d0, size_t d1,
                        const double *ridge, double l1, const double *x)
{
	double f = 0;

	for (size_t i = 0; i < p; i++) {
		if (x[i] == 0)
			continue;
		double gx = 0;
		for (size_t j = 0; j < p; j++)
			gx += G[i * p + j] * x[j];
		f += x[i] * (0.5 * gx - c[i] + 0.5 * ridge[i] * x[i]);
		if (i >= d0 && i < d1)
			f += l1 * fabs(x[i]);
	}
	return f;
}

/* The L1/ridge-penalised least squares above, exactly, by feature-sign search (Lee,
 * Battle, Raina & Ng 2007): solve on the current active set with fixed signs, line-search
 * over the sign changes on the way, add the most violating inactive coefficient, until the
 * optimality conditions hold. Coefficients outside [d0, d1) are always active. x is the
 * warm start and the result. */
static int feature_sign(const double *G, const double *c, size_t p, size_t d0, size_t d1,
                        const double *ridge, double l1, double *x)
{
	double *A = malloc((p * p + 6 * p) * sizeof(double));
	size_t *F = malloc(p * sizeof(size_t));
	int rc = 0;

	if (!A || !F) {
		free(A);
		free(F);
		return -ENOMEM;
	}
	double *b = A + p * p, *xn = b + p, *sg = xn + p, *grad = sg + p, *tmp = grad + p;
	double *cand = tmp + p;
	double cmax = 0;
	for (size_t j = 0; j < p; j++) {
		sg[j] = (j >= d0 && j < d1) ? (x[j] > 0) - (x[j] < 0) : 0;
		if (fabs(c[j]) > cmax)
			cmax = fabs(c[j]);
	}
	double tol = 1e-9 * (cmax + l1 + 1e-300);
	bool solve = true;
	for (int it = 0; it < 4 * (int)p + 50; it++) {
		if (solve) {
			size_t nf = 0;
			for (size_t j = 0; j < p; j++)
				if (!(j >= d0 && j < d1) || sg[j] != 0)
					F[nf++] = j;
			for (size_t a = 0; a < nf; a++) {
				for (size_t e = 0; e < nf; e++)
					A[a * nf + e] = G[F[a] * p + F[e]];
				A[a * nf + a] +=
				        ridge[F[a]] + 1e-12 * (G[F[a] * p + F[a]] + 1e-300);
				b[a] = c[F[a]] - l1 * sg[F[a]];
			}
			if (chol_solve(A, b, nf) < 0) {
				rc = -ERANGE;
				break;
			}
			memset(xn, 0, p * sizeof(double));
			for (size_t a = 0; a < nf; a++)
				xn[F[a]] = b[a];
			/* discrete line search: the new point and every sign change before it */
			size_t nc = 0;
			cand[nc++] = 1;
			for (size_t j = d0; j < d1; j++)
				if (x[j] != 0 && (xn[j] > 0) != (x[j] > 0) && nc < p)
					cand[nc++] = x[j] / (x[j] - xn[j]);
			double bestf = INFINITY, bestt = 1;
			for (size_t k = 0; k < nc; k++) {
				for (size_t j = 0; j < p; j++)
					tmp[j] = x[j] + cand[k] * (xn[j] - x[j]);
				if (k > 0) /* the coefficient that reaches zero there */
					for (size_t j = d0; j < d1; j++)
						if (fabs(tmp[j]) <= 1e-12 * (fabs(x[j]) + 1e-300))
							tmp[j] = 0;
				double f = objective(G, c, p, d0, d1, ridge, l1, tmp);
				if (f < bestf) {
					bestf = f;
					bestt = cand[k];
				}
			}
			for (size_t j = 0; j < p; j++) {
				double v = x[j] + bestt * (xn[j] - x[j]);
				if (j >= d0 && j < d1 && bestt < 1 &&
				    fabs(v) <= 1e-12 * (fabs(x[j]) + 1e-300))
					v = 0;
				x[j] = v;
			}
			for (size_t j = d0; j < d1; j++)
				sg[j] = (x[j] > 0) - (x[j] < 0);
		}
		/* optimality */
		for (size_t j = 0; j < p; j++) {
			double g = -c[j] + ridge[j] * x[j];
			for (size_t l = 0; l < p; l++)
				g += G[j * p + l] * x[l];
			grad[j] = g;
		}
		bool ok = true;
		for (size_t j = 0; j < p && ok; j++) {
			bool pen = j >= d0 && j < d1;
			if (!pen || x[j] != 0)
				ok = fabs(grad[j] + (pen ? l1 * sg[j] : 0)) <=
				     tol * 100 + 1e-7 * l1;
		}
		if (!ok) {
			solve = true;
			continue;
		}
		size_t worst = p;
		double wv = l1 * (1 + 1e-9) + tol;
		for (size_t j = d0; j < d1; j++)
			if (x[j] == 0 && fabs(grad[j]) > wv) {
				wv = fabs(grad[j]);
				worst = j;
			}
		if (worst == p)
			break;
		sg[worst] = grad[worst] > 0 ? -1 : 1;
		solve = true;
	}
	free(A);
	free(F);
	return rc;
}

/* MAP estimate given the Gram matrix G = X'X, c = X'y and yy = y'y: for a noise level the
 * penalised regression (feature_sign), then the noise level's closed form, alternately. */
static int map_fit(struct prophet *m, const double *G, const double *c, double yy)
{
	size_t p = m->p, n = m->n;
	size_t d0 = col_delta(m), d1 = d0 + m->n_cp;
	double *prec = malloc(2 * p * sizeof(double));
	double *th = m->theta;
	int rc = 0;

	if (!prec)
		return -ENOMEM;
	double *ridge = prec + p;
	for (size_t j = 0; j < p; j++) {
		if (j < 2)
			prec[j] = 1 / (PR_TREND_SD * PR_TREND_SD);
		else if (j < d1)
			prec[j] = 0;
		else
			prec[j] = 1 / (PR_SEAS_SD * PR_SEAS_SD);
	}
	double sigma2 = 0.01;
	memset(th, 0, p * sizeof(double));
	for (int outer = 0; outer < 50; outer++) {
		for (size_t j = 0; j < p; j++)
			ridge[j] = sigma2 * prec[j];
		rc = feature_sign(G, c, p, d0, d1, ridge, sigma2 / PR_TAU, th);
		if (rc < 0)
			break;
		double tc = 0, tgt = 0;
		for (size_t j = 0; j < p; j++) {
			double gx = 0;
			for (size_t l = 0; l < p; l++)
				gx += G[j * p + l] * th[l];
			tc += th[j] * c[j];
			tgt += th[j] * gx;
		}
		double rss = yy - 2 * tc + tgt;
		if (rss < 0)
			rss = 0;
		/* argmin over sigma of n log sigma + rss / (2 sigma^2) + sigma^2 / (2 * 0.5^2) */
		double q = 1 / (PR_SIGMA_SD * PR_SIGMA_SD);
		double dn = (double)n;
		double s2 = (-dn + sqrt(dn * dn + 4 * q * rss)) / (2 * q);
		if (!(s2 > 1e-300))
			s2 = 1e-300;
		bool done = fabs(s2 - sigma2) <= 1e-7 * sigma2;
		sigma2 = s2;
		if (done)
			break;
	}
	m->sigma2 = sigma2;
	double lam = 0;
	for (size_t j = d0; j < d1; j++)
		lam += fabs(th[j]);
	m->lambda = m->n_cp ? lam / (double)m->n_cp : 0;
	for (size_t j = 0; j < p; j++)
		if (!isfinite(th[j]))
			rc = -ERANGE;
	free(prec);
	return rc;
}

static int prophet_fit(const struct fc_fit_in *in, void **model)
{
	size_t n = in->n;
	struct prophet *m;
	int rc;

	if (n < 4)
		return -EDOM;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	rc = structure(m, in);
	if (rc < 0)
		goto fail;
	size_t p = m->p;
	double *G = calloc(p * p + 2 * p, sizeof(double));
	m->theta = calloc(p, sizeof(double));
	double *ys = malloc(n * sizeof(double));
	if (!G || !m->theta || !ys) {
		free(G);
		free(ys);
		rc = -ENOMEM;
		goto fail;
	}
	double *c = G + p * p, *x = c + p;
	double mx = 0;
	for (size_t i = 0; i < n; i++) {
		ys[i] = in->y[i] / given_factor(m, i);
		if (fabs(ys[i]) > mx)
			mx = fabs(ys[i]);
	}
	m->scale = mx > 0 ? mx : 1;
	double yy = 0;
	for (size_t i = 0; i < n; i++) {
		double v = ys[i] / m->scale;
		design_row(m, i, x);
		for (size_t a = 0; a < p; a++) {
			if (x[a] == 0)
				continue;
			c[a] += x[a] * v;
			for (size_t b = a; b < p; b++)
				G[a * p + b] += x[a] * x[b];
		}
		yy += v * v;
	}
	for (size_t a = 0; a < p; a++)
		for (size_t b = 0; b < a; b++)
			G[a * p + b] = G[b * p + a];
	rc = map_fit(m, G, c, yy);
	free(G);
	free(ys);
	if (rc < 0)
		goto fail;
	*model = m;
	return 0;
fail:
	prophet_free(m);
	return rc;
}

static int prophet_mean(const void *model, size_t h, double *out)
{
	const struct prophet *m = model;
	double *x = malloc(m->p * sizeof(double));

	if (!x)
		return -ENOMEM;
	for (size_t s = 0; s < h; s++) {
		size_t i = m->n + s;
		design_row(m, i, x);
		double v = 0;
		for (size_t j = 0; j < m->p; j++)
			v += x[j] * m->theta[j];
		out[s] = v * m->scale * given_factor(m, i);
	}
	free(x);
	return 0;
}

static int prophet_quantiles(const void *model, size_t h, const double *levels, size_t nl,
                             double *out)
{
	const struct prophet *m = model;
	double *mean = malloc(2 * h * sizeof(double));

	if (!mean)
		return -ENOMEM;
	double *sd = mean + h;
	int rc = prophet_mean(model, h, mean);
	if (rc < 0) {
		free(mean);
		return rc;
	}
	for (size_t s = 0; s < h; s++) {
		size_t i = m->n + s;
		double u = m->n > 1 ? (double)(s + 1) / (double)(m->n - 1) : 0;
		double vt = 2 * (double)m->n_cp * m->lambda * m->lambda * u * u * u / 3;
		sd[s] = m->scale * sqrt(m->sigma2 + vt) * given_factor(m, i);
	}
	fc_model_gauss_quantiles(mean, sd, h, levels, nl, out);
	free(mean);
	return 0;
}

static void prophet_describe(const void *model, char *buf, size_t len)
{
	const struct prophet *m = model;
	size_t active = 0;

	for (size_t j = 0; j < m->n_cp; j++)
		active += m->theta[col_delta(m) + j] != 0;
	int off = snprintf(buf, len, "prophet(cp=%zu/%zu", active, m->n_cp);
	for (size_t k = 0; k < m->n_periods && off >= 0 && (size_t)off < len; k++)
		off += snprintf(buf + off, len - (size_t)off, ",%u", m->periods[k]);
	if (off >= 0 && (size_t)off < len)
		snprintf(buf + off, len - (size_t)off, "%s)", m->n_ev ? ",events" : "");
}

static double prophet_complexity(const void *model)
{
	const struct prophet *m = model;
	double k = 1;

	for (size_t j = 0; j < m->p; j++)
		k += m->theta[j] != 0;
	return k;
}

const struct fc_model_ops fc_prophet_ops = {
        .name = "prophet",
        .summary = "Prophet-style additive model: piecewise-linear trend, Fourier seasons, events",
        .cost = 30,
        .flags = FC_MODEL_EVENTS,
        .fit = prophet_fit,
        .mean = prophet_mean,
        .quantiles = prophet_quantiles,
        .describe = prophet_describe,
        .complexity = prophet_complexity,
        .free = prophet_free,
};

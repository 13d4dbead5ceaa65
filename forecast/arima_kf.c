/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arima_kf: the numerical core of the ARIMA model (see arima.h): expansion of the
 * multiplicative seasonal polynomials, the exact Gaussian likelihood of an ARMA process by
 * the Kalman filter, conditional-sum-of-squares residuals, root checks and the
 * stationarity-preserving reparameterisation.
 *
 * The likelihood uses the state-space form of Harvey (1989) (state dimension
 * r = max(p, q + 1), observation = first state) started from the stationary state
 * covariance P0, and propagates the covariance with the Chandrasekhar-type recursions of
 * Mélard (1984, AS 197): for a time-invariant model started at P0 the change P_{t+1} - P_t
 * has rank one, so each step costs O(r) instead of the O(r^2) of the Riccati update. Only
 * the first column of P0 is needed, and it follows from the autocovariances of the process
 * (a linear system of size p + 1), so no Lyapunov equation is solved. A seasonal
 * ARMA(1,1)(1,1)[24] (r = 26) over 1000 values costs about 0.1 ms per evaluation. Once the
 * gain has converged the filter stops updating it.
 *
 * Owns nothing beyond temporary buffers; pure functions of their arguments.
 */
#include "arima.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_poly.h>

void arima_expand(const struct arima_order *o, const double *coef, double *ar, size_t *np,
                  double *ma, size_t *nq)
{
	const double *phi = coef, *theta = coef + o->p, *sphi = theta + o->q;
	const double *stheta = sphi + o->P;
	unsigned m = o->m > 1 ? o->m : 0;
	size_t na = o->p + (size_t)m * (m ? o->P : 0);
	size_t nb = o->q + (size_t)m * (m ? o->Q : 0);

	/* (1 - sum phi_i B^i)(1 - sum Phi_j B^{mj}) = 1 - sum ar_k B^k */
	memset(ar, 0, na * sizeof(double));
	for (unsigned i = 1; i <= o->p; i++)
		ar[i - 1] += phi[i - 1];
	if (m)
		for (unsigned j = 1; j <= o->P; j++) {
			ar[(size_t)m * j - 1] += sphi[j - 1];
			for (unsigned i = 1; i <= o->p; i++)
				ar[(size_t)m * j + i - 1] -= phi[i - 1] * sphi[j - 1];
		}
	/* (1 + sum theta_i B^i)(1 + sum Theta_j B^{mj}) = 1 + sum ma_k B^k */
	memset(ma, 0, nb * sizeof(double));
	for (unsigned i = 1; i <= o->q; i++)
		ma[i - 1] += theta[i - 1];
	if (m)
		for (unsigned j = 1; j <= o->Q; j++) {
			ma[(size_t)m * j - 1] += stheta[j - 1];
			for (unsigned i = 1; i <= o->q; i++)
				ma[(size_t)m * j + i - 1] += theta[i - 1] * stheta[j - 1];
		}
	*np = na;
	*nq = nb;
}

/* Solve the dense k x k system A x = b in place (partial pivoting); returns -1 when
 * singular. */
static int gauss_solve(double *A, double *b, size_t k)
{
	for (size_t c = 0; c < k; c++) {
		size_t piv = c;
		for (size_t r = c + 1; r < k; r++)
			if (fabs(A[r * k + c]) > fabs(A[piv * k + c]))
				piv = r;
		if (!(fabs(A[piv * k + c]) > 1e-300))
			return -1;
		if (piv != c) {
			for (size_t j = 0; j < k; j++) {
				double t = A[c * k + j];
				A[c * k + j] = A[piv * k + j];
				A[piv * k + j] = t;
			}
			double t = b[c];
			b[c] = b[piv];
			b[piv] = t;
		}
		for (size_t r = c + 1; r < k; r++) {
			double f = A[r * k + c] / A[c * k + c];
			if (f == 0)
				continue;
			for (size_t j = c; j < k; j++)
				A[r * k + j] -= f * A[c * k + j];
			b[r] -= f * b[c];
		}
	}
	for (size_t c = k; c-- > 0;) {
		double s = b[c];
		for (size_t j = c + 1; j < k; j++)
			s -= A[c * k + j] * b[j];
		b[c] = s / A[c * k + c];
	}
	return 0;
}

/* Autocovariances gamma[0..lagmax] (unit innovation variance) and psi weights
 * psi[0..lagmax] of the ARMA process. Returns 0 or -EDOM (not stationary). */
static int acov(const double *ar, size_t np, const double *ma, size_t nq, size_t lagmax,
                double *gamma, double *psi, double *work)
{
	size_t k = np + 1;
	double *A = work, *rhs = work + k * k;

	psi[0] = 1;
	for (size_t j = 1; j <= lagmax; j++) {
		double v = j <= nq ? ma[j - 1] : 0;
		for (size_t i = 1; i <= np && i <= j; i++)
			v += ar[i - 1] * psi[j - i];
		psi[j] = v;
	}
	/* rhs_k = sum_{j=k..nq} theta_j psi_{j-k} (theta_0 = 1) */
	size_t top = lagmax > np ? lagmax : np;
	for (size_t kk = 0; kk <= top; kk++) {
		double v = 0;
		for (size_t j = kk; j <= nq; j++)
			v += (j ? ma[j - 1] : 1.0) * psi[j - kk];
		rhs[kk] = v;
	}
	memset(A, 0, k * k * sizeof(double));
	for (size_t r = 0; r < k; r++) {
		A[r * k + r] += 1;
		for (size_t i = 1; i <= np; i++) {
			size_t l = r > i ? r - i : i - r;
			A[r * k + l] -= ar[i - 1];
		}
	}
	double *g = rhs + top + 1;
	memcpy(g, rhs, k * sizeof(double));
	if (gauss_solve(A, g, k) < 0)
		return -EDOM;
	for (size_t j = 0; j <= lagmax; j++) {
		if (j < k) {
			gamma[j] = g[j];
			continue;
		}
		double v = rhs[j];
		for (size_t i = 1; i <= np; i++)
			v += ar[i - 1] * gamma[j - i];
		gamma[j] = v;
	}
	if (!(gamma[0] > 0) || !isfinite(gamma[0]))
		return -EDOM;
	return 0;
}

int arima_kalman(const double *ar, size_t np, const double *ma, size_t nq, const double *x,
                 size_t n, double *ssq, double *sumlog, double *state)
{
	size_t r = np > nq + 1 ? np : nq + 1;
	size_t kk = np + 1;
	size_t top = r > np ? r : np;
	double *buf = malloc((6 * r + 2 * (r + 1) + kk * kk + 2 * (top + 1) + kk) * sizeof(double));
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	double *phi = buf, *th = phi + r, *a = th + r, *K = a + r, *w = K + r, *c0 = w + r;
	double *gamma = c0 + r, *psi = gamma + r + 1, *work = psi + r + 1;

	/* T's first column phi_1..phi_r, R = (1, theta_1, ..., theta_{r-1}) */
	for (size_t i = 0; i < r; i++) {
		phi[i] = i < np ? ar[i] : 0;
		th[i] = i == 0 ? 1 : (i <= nq ? ma[i - 1] : 0);
	}
	rc = acov(ar, np, ma, nq, r, gamma, psi, work);
	if (rc < 0)
		goto out;
	/* first column of P0: Cov(a_t[i], y_t) */
	c0[0] = gamma[0];
	for (size_t i = 1; i < r; i++) {
		double v = 0;
		for (size_t j = 0; i + j < r; j++)
			v += phi[i + j] * gamma[1 + j] + th[i + j] * psi[j];
		c0[i] = v;
	}
	double F = gamma[0];
	for (size_t i = 0; i < r; i++) {
		K[i] = (phi[i] * c0[0] + (i + 1 < r ? c0[i + 1] : 0)) / F;
		w[i] = K[i];
		a[i] = 0;
	}
	double mu = -F;
	bool steady = false;
	double s = 0, sl = 0;
	for (size_t t = 0; t < n; t++) {
		double v = x[t] - a[0];
		s += v * v / F;
		sl += log(F);
		/* a <- T a + K v */
		double a0 = a[0];
		for (size_t i = 0; i + 1 < r; i++)
			a[i] = phi[i] * a0 + a[i + 1] + K[i] * v;
		a[r - 1] = phi[r - 1] * a0 + K[r - 1] * v;
		if (steady)
			continue;
		/* rank-one covariance change: F, K, w, mu */
		double w0 = w[0];
		double Fn = F + mu * w0 * w0;
		if (!(Fn > 0) || !isfinite(Fn)) {
			rc = -EDOM;
			goto out;
		}
		double big = 0;
		for (size_t i = 0; i < r; i++) {
			double tw = phi[i] * w0 + (i + 1 < r ? w[i + 1] : 0);
			K[i] = (K[i] * F + tw * mu * w0) / Fn;
			w[i] = tw - K[i] * w0;
			if (fabs(w[i]) > big)
				big = fabs(w[i]);
		}
		mu *= Fn / F;
		F = Fn;
		if (fabs(mu) * big * big < 1e-13 * F)
			steady = true;
	}
	if (!isfinite(s) || !isfinite(sl)) {
		rc = -EDOM;
		goto out;
	}
	*ssq = s;
	*sumlog = sl;
	if (state)
		memcpy(state, a, r * sizeof(double));
out:
	free(buf);
	return rc;
}

double arima_css_resid(const double *ar, size_t np, const double *ma, size_t nq, const double *x,
                       size_t n, double *e)
{
	size_t ia[64], ib[64], na = 0, nb = 0;
	double ca[64], cb[64];
	bool sparse = true;

	for (size_t k = 0; k < np; k++)
		if (ar[k] != 0) {
			if (na == 64) {
				sparse = false;
				break;
			}
			ia[na] = k + 1;
			ca[na++] = ar[k];
		}
	for (size_t k = 0; k < nq && sparse; k++)
		if (ma[k] != 0) {
			if (nb == 64) {
				sparse = false;
				break;
			}
			ib[nb] = k + 1;
			cb[nb++] = ma[k];
		}
	double ss = 0;
	for (size_t t = 0; t < n; t++) {
		if (t < np) {
			e[t] = 0;
			continue;
		}
		double v = x[t];
		if (sparse) {
			for (size_t j = 0; j < na; j++)
				v -= ca[j] * x[t - ia[j]];
			for (size_t j = 0; j < nb && ib[j] <= t; j++)
				v -= cb[j] * e[t - ib[j]];
		} else {
			for (size_t k = 1; k <= np; k++)
				v -= ar[k - 1] * x[t - k];
			for (size_t k = 1; k <= nq && k <= t; k++)
				v -= ma[k - 1] * e[t - k];
		}
		e[t] = v;
		ss += v * v;
	}
	return ss;
}

double arima_min_root(const double *c, size_t deg)
{
	while (deg > 0 && fabs(c[deg - 1]) <= 1e-8)
		deg--;
	if (deg == 0)
		return 2;
	if (deg == 1)
		return 1.0 / fabs(c[0]);
	double a[2 * ARIMA_MAX_PQ + 2], z[4 * ARIMA_MAX_PQ + 4];
	if (deg > 2 * ARIMA_MAX_PQ)
		return 0;
	a[0] = 1;
	for (size_t k = 1; k <= deg; k++)
		a[k] = -c[k - 1];
	gsl_poly_complex_workspace *ws = gsl_poly_complex_workspace_alloc(deg + 1);
	if (!ws)
		return 0;
	double mr = INFINITY;
	if (gsl_poly_complex_solve(a, deg + 1, ws, z) == 0) {
		for (size_t k = 0; k < deg; k++) {
			double mod = hypot(z[2 * k], z[2 * k + 1]);
			if (mod < mr)
				mr = mod;
		}
	} else {
		mr = 0;
	}
	gsl_poly_complex_workspace_free(ws);
	return mr;
}

void arima_partrans(const double *raw, size_t p, double *c)
{
	double prev[ARIMA_MAX_PQ];

	for (size_t k = 0; k < p; k++) {
		double r = tanh(raw[k]);
		memcpy(prev, c, k * sizeof(double));
		for (size_t j = 0; j < k; j++)
			c[j] = prev[j] - r * prev[k - 1 - j];
		c[k] = r;
	}
}

int arima_invpartrans(const double *c, size_t p, double *raw)
{
	double cur[ARIMA_MAX_PQ], prev[ARIMA_MAX_PQ];

	memcpy(cur, c, p * sizeof(double));
	for (size_t k = p; k-- > 0;) {
		double r = cur[k];
		if (!(fabs(r) < 1))
			return -EDOM;
		raw[k] = atanh(r);
		double den = 1 - r * r;
		for (size_t j = 0; j < k; j++)
			prev[j] = (cur[j] + r * cur[k - 1 - j]) / den;
		memcpy(cur, prev, k * sizeof(double));
	}
	return 0;
}

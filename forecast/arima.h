/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arima: seasonal ARIMA internals shared by arima.c (the model plugin and the automatic
 * order search), arima_est.c (estimation of one order: CSS, exact maximum likelihood) and
 * arima_kf.c (polynomials, exact Gaussian likelihood by a fast Kalman filter, forecasts),
 * and by the unit tests, which compare fixed-order fits with R's stats::arima.
 *
 * The model, for y differenced into w = (1 - B)^d (1 - B^m)^D y:
 *   phi(B) Phi(B^m) (w_t - mu) = theta(B) Theta(B^m) e_t,   e_t ~ N(0, sigma^2)
 * mu is estimated when `constant` is set (the mean for d + D = 0, the drift per difference
 * for d + D = 1), else it is 0. Internally w is normalised, (w - wbar) / wsd, so that the
 * optimisers see values of order one whatever the scale of the data (traffic counts reach
 * 1e11); the coefficients reported are on the scale of the data.
 *
 * Owns nothing global; every function is reentrant. Never does I/O.
 */
#ifndef TIDAL_FORECAST_ARIMA_H
#define TIDAL_FORECAST_ARIMA_H

#include <stdbool.h>
#include <stddef.h>

#define ARIMA_MAX_PQ   5 /* p, q, P, Q each at most this */
#define ARIMA_MAX_COEF (4 * ARIMA_MAX_PQ + 1)

struct arima_order {
	unsigned p, d, q;
	unsigned P, D, Q;
	unsigned m;    /* seasonal period (0 or 1: none) */
	bool constant; /* estimate mu (only meaningful when d + D <= 1) */
};

/* One fitted order. Coefficients are on the normalised scale except where noted. */
struct arima_fit {
	struct arima_order o;
	double coef[ARIMA_MAX_COEF]; /* phi[p], theta[q], Phi[P], Theta[Q], mu (normalised) */
	size_t ncoef;                /* p + q + P + Q + constant */
	double wbar, wsd;            /* normalisation of w */
	double sigma2;               /* innovation variance, normalised scale */
	double loglik;               /* exact Gaussian log-likelihood on the data's scale */
	double aicc;                 /* from loglik (or the CSS approximation, see css) */
	size_t nused;                /* length of w */
	bool css;                    /* estimated by conditional sum of squares only */
};

/* ---- arima_kf.c: polynomials, likelihood, filtering ---------------------------------- */

/* The expanded ARMA polynomials of a fit: w~_t = sum_{k=1..np} ar[k-1] w~_{t-k} + e_t +
 * sum_{k=1..nq} ma[k-1] e_{t-k}. Arrays need room for ARIMA_MAX_PQ * (m + 1) values. */
void arima_expand(const struct arima_order *o, const double *coef, double *ar, size_t *np,
                  double *ma, size_t *nq);

/* Exact Gaussian log-likelihood of the zero-mean ARMA(ar, ma) on x[0..n) with unit
 * innovation variance (Mélard's fast Chandrasekhar-type recursions for the Kalman filter,
 * started from the stationary state covariance): sets *ssq = sum v_t^2 / F_t and *sumlog =
 * sum log F_t. When state is not NULL it receives the predicted state after x (r values,
 * r = max(np, nq + 1)). Returns 0, or -EDOM when the AR part is not stationary. */
int arima_kalman(const double *ar, size_t np, const double *ma, size_t nq, const double *x,
                 size_t n, double *ssq, double *sumlog, double *state);

/* Conditional-sum-of-squares residuals: e[t] for t >= np (earlier ones are 0). Returns
 * the sum of squares. */
double arima_css_resid(const double *ar, size_t np, const double *ma, size_t nq, const double *x,
                       size_t n, double *e);

/* Smallest modulus of the roots of 1 - sum c_k z^k (k = 1..deg): > 1 means stationary
 * (or, for 1 + sum c_k z^k with c negated, invertible). 2 (or more) when deg is 0. */
double arima_min_root(const double *c, size_t deg);

/* Parameters on the whole real line <-> stationary AR coefficients (Jones 1980: tanh of
 * partial autocorrelations, then Durbin-Levinson). inv returns -EDOM when c is not
 * stationary. */
void arima_partrans(const double *raw, size_t p, double *c);
int arima_invpartrans(const double *c, size_t p, double *raw);

/* ---- arima_est.c: estimating one order ------------------------------------------------ */

/* w = (1 - B)^d (1 - B^m)^D y: writes n - d - D m values to w (n must exceed that). */
size_t arima_difference(const double *y, size_t n, unsigned d, unsigned D, unsigned m, double *w);

/* Fit order o to y[0..n). css_only: conditional sum of squares (with the AICc of R's
 * approximation: nstar log sigma2 + 2 k + small-sample term); else CSS start followed by
 * exact maximum likelihood. Returns 0, -EDOM (too short, or no stationary / invertible
 * solution), -ENOMEM. */
int arima_fit_order(const double *y, size_t n, const struct arima_order *o, bool css_only,
                    struct arima_fit *f);

/* The coefficients on the data's scale, in R's order: ar, ma, sar, sma, then intercept
 * (d + D = 0) or drift (per step of y). Returns how many. */
size_t arima_coef_data_scale(const struct arima_fit *f, double *out);

/* True when the roots of every AR and MA factor lie outside 1.01. R's auto.arima applies
 * the rule to the expanded polynomial, which for a seasonal factor in B^24 means |Theta| <
 * 0.79 and rejects most well-fitting hourly models; here each factor is checked in its own
 * lag unit (|Theta| < 0.99), which forecast M4 Hourly markedly better (OWA 0.50 against
 * 0.56 on a quarter of the series). */
bool arima_roots_ok(const struct arima_fit *f);

/* ---- arima.c: automatic order search --------------------------------------------------- */

struct arima_search {
	unsigned max_p, max_q, max_P, max_Q, max_order;
	unsigned max_models; /* models estimated in the stepwise search */
	unsigned max_m;      /* longest seasonal period modelled (longer: non-seasonal) */
};

void arima_search_defaults(struct arima_search *s);

/* KPSS level-stationarity statistic with lag trunc(3 sqrt(n) / 13) (as forecast::ndiffs). */
double arima_kpss(const double *x, size_t n);
/* Differences by repeated KPSS tests at 5 % (at most max_d). */
unsigned arima_ndiffs(const double *x, size_t n, unsigned max_d);
/* Seasonal differences (0 or 1) by the seasonal strength of an STL decomposition > 0.64
 * (forecast::nsdiffs, test "seas"). */
unsigned arima_nsdiffs(const double *x, size_t n, unsigned m);

/* Hyndman-Khandakar stepwise search on y with seasonal period m (0: none), then exact ML
 * for the best order (falling back to the next best when its roots are too close to the
 * unit circle). Returns 0 and *best, -EDOM, -ENOMEM. */
int arima_auto(const double *y, size_t n, unsigned m, const struct arima_search *s,
               struct arima_fit *best);

#endif

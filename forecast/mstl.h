/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mstl: STL and multiple-seasonal STL decompositions (internal to forecast/), implemented
 * in mstl.c and used by the mstl model and by ARIMA's seasonal-difference test.
 *
 * fc_stl follows Cleveland, Cleveland, McRae & Terpenning (1990) with the defaults of R's
 * stats::stl; fc_mstl follows Bandara, Hyndman & Bergmeir (2021) with the defaults of R's
 * forecast::mstl. Pure math; reentrant; owns only temporary buffers.
 */
#ifndef TIDAL_FORECAST_MSTL_H
#define TIDAL_FORECAST_MSTL_H

#include <stdbool.h>
#include <stddef.h>

#include "forecast.h"

struct fc_stl_params {
	unsigned period;
	unsigned s_window, t_window, l_window; /* loess spans (odd, >= 3) */
	unsigned s_degree, t_degree, l_degree; /* 0 or 1 */
	unsigned s_jump, t_jump, l_jump;       /* loess evaluated every jump points */
	unsigned inner, outer;                 /* passes; outer > 0: robustness weights */
};

/* R's stl(x, s.window = s_window, robust = robust) defaults for a period. */
void fc_stl_params_init(struct fc_stl_params *p, unsigned period, unsigned s_window, bool robust);

/* Decompose y[0..n) (n > 2 period): seasonal[] and trend[] (remainder = y - both).
 * Returns 0, -EDOM (too short), -ENOMEM. */
int fc_stl(const double *y, size_t n, const struct fc_stl_params *p, double *seasonal,
           double *trend);

/* MSTL: periods ascending (each with n >= 2 period), `iterate` passes over the periods
 * (R: 2), s.window 7 + 4 i for the i-th period (i = 1, 2, ...). Writes seasonal[k * n + t]
 * for period k and trend[t]; remainder = y - trend - sum of seasonals. */
int fc_mstl(const double *y, size_t n, const unsigned *periods, size_t n_periods, unsigned iterate,
            bool robust, double *seasonal, double *trend);

#endif

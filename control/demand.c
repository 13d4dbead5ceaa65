/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demand: pure helpers over struct demand_forecast (no I/O, no daemon state).
 */
#include "demand.h"

double demand_quantile(const struct demand_forecast *f, size_t s, double level)
{
	if (!f || !f->n_levels || s >= f->h)
		return 0.0;
	const double *row = f->q + s * f->n_levels;
	if (level <= f->levels[0])
		return row[0];
	for (size_t j = 1; j < f->n_levels; j++) {
		if (level <= f->levels[j]) {
			double w = (level - f->levels[j - 1]) / (f->levels[j] - f->levels[j - 1]);
			return row[j - 1] + w * (row[j] - row[j - 1]);
		}
	}
	return row[f->n_levels - 1];
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prophet: Prophet-style additive model: piecewise-linear trend, Fourier seasons, events.
 *
 * Placeholder registered in models.c so the registry is complete; fit() reports -ENOSYS and
 * the engine skips the candidate until the model is implemented here.
 */
#include "model.h"

#include <errno.h>

static int prophet_fit(const struct fc_fit_in *in, void **model)
{
	(void)in;
	*model = NULL;
	return -ENOSYS;
}

const struct fc_model_ops fc_prophet_ops = {
	.name = "prophet",
	.summary = "Prophet-style additive model: piecewise-linear trend, Fourier seasons, events",
	.cost = 100,
	.flags = 0,
	.fit = prophet_fit,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mstl: multi-seasonal decomposition (STL per period), remainder by ETS/ARIMA.
 *
 * Placeholder registered in models.c so the registry is complete; fit() reports -ENOSYS and
 * the engine skips the candidate until the model is implemented here.
 */
#include "model.h"

#include <errno.h>

static int mstl_fit(const struct fc_fit_in *in, void **model)
{
	(void)in;
	*model = NULL;
	return -ENOSYS;
}

const struct fc_model_ops fc_mstl_ops = {
	.name = "mstl",
	.summary = "multi-seasonal decomposition (STL per period), remainder by ETS/ARIMA",
	.cost = 100,
	.flags = 0,
	.fit = mstl_fit,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arima: ARIMA with automatic (seasonal) order search, exact Kalman likelihood.
 *
 * Placeholder registered in models.c so the registry is complete; fit() reports -ENOSYS and
 * the engine skips the candidate until the model is implemented here.
 */
#include "model.h"

#include <errno.h>

static int arima_fit(const struct fc_fit_in *in, void **model)
{
	(void)in;
	*model = NULL;
	return -ENOSYS;
}

const struct fc_model_ops fc_arima_ops = {
	.name = "arima",
	.summary = "ARIMA with automatic (seasonal) order search, exact Kalman likelihood",
	.cost = 100,
	.flags = 0,
	.fit = arima_fit,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ets: exponential smoothing state space (ETS), AICc choice of trend and season.
 *
 * Placeholder registered in models.c so the registry is complete; fit() reports -ENOSYS and
 * the engine skips the candidate until the model is implemented here.
 */
#include "model.h"

#include <errno.h>

static int ets_fit(const struct fc_fit_in *in, void **model)
{
	(void)in;
	*model = NULL;
	return -ENOSYS;
}

const struct fc_model_ops fc_ets_ops = {
	.name = "ets",
	.summary = "exponential smoothing state space (ETS), AICc choice of trend and season",
	.cost = 100,
	.flags = 0,
	.fit = ets_fit,
};

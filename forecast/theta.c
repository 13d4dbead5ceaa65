/* SPDX-License-Identifier: Apache-2.0 */
/*
 * theta: Theta method on seasonally adjusted data.
 *
 * Placeholder registered in models.c so the registry is complete; fit() reports -ENOSYS and
 * the engine skips the candidate until the model is implemented here.
 */
#include "model.h"

#include <errno.h>

static int theta_fit(const struct fc_fit_in *in, void **model)
{
	(void)in;
	*model = NULL;
	return -ENOSYS;
}

const struct fc_model_ops fc_theta_ops = {
	.name = "theta",
	.summary = "Theta method on seasonally adjusted data",
	.cost = 100,
	.flags = 0,
	.fit = theta_fit,
};

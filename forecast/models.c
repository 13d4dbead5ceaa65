/* SPDX-License-Identifier: Apache-2.0 */
/*
 * models: the registry, the one table of every forecasting model the engine can try.
 *
 * Adding a model: write forecast/<name>.c with a const struct fc_model_ops (model.h), add it
 * to forecast/meson.build, declare it below and add one entry to fc_models[]. An entry may
 * run the same ops on a transformed scale (FC_TF_LOG) under its own name. Entries marked
 * in_auto form the default candidate set; the others run only when named in --models /
 * [forecast] models. Order matters only for display (candidates are listed in this order).
 *
 * Owns only constant tables; never allocates.
 */
#include "model.h"

#include <string.h>

extern const struct fc_model_ops fc_naive_ops;
extern const struct fc_model_ops fc_naive2_ops;
extern const struct fc_model_ops fc_snaive_ops;
extern const struct fc_model_ops fc_snaive_long_ops;
extern const struct fc_model_ops fc_ets_ops;
extern const struct fc_model_ops fc_theta_ops;
extern const struct fc_model_ops fc_arima_ops;
extern const struct fc_model_ops fc_mstl_ops;
extern const struct fc_model_ops fc_prophet_ops;

const struct fc_model_entry fc_models[] = {
        {"naive", &fc_naive_ops, FC_TF_NONE, false},
        {"naive2", &fc_naive2_ops, FC_TF_NONE, false},
        {"snaive", &fc_snaive_ops, FC_TF_NONE, true},
        {"snaive_long", &fc_snaive_long_ops, FC_TF_NONE, true},
        {"ets", &fc_ets_ops, FC_TF_NONE, true},
        {"ets_log", &fc_ets_ops, FC_TF_LOG, true},
        {"theta", &fc_theta_ops, FC_TF_NONE, true},
        {"arima", &fc_arima_ops, FC_TF_NONE, true},
        {"mstl", &fc_mstl_ops, FC_TF_NONE, true},
        {"prophet", &fc_prophet_ops, FC_TF_NONE, false},
        /* Slot for the recurrent network model: {"rnn", &fc_rnn_ops, FC_TF_NONE, false}, */
};

const size_t fc_n_models = sizeof(fc_models) / sizeof(fc_models[0]);

const struct fc_model_ops *fc_model_ops_find(const char *name)
{
	for (size_t i = 0; i < fc_n_models; i++)
		if (strcmp(fc_models[i].ops->name, name) == 0)
			return fc_models[i].ops;
	return NULL;
}

size_t fc_model_count(void)
{
	return fc_n_models;
}

const char *fc_model_name(size_t i)
{
	return i < fc_n_models ? fc_models[i].name : NULL;
}

const char *fc_model_summary(size_t i)
{
	return i < fc_n_models ? fc_models[i].ops->summary : NULL;
}

bool fc_model_in_auto(size_t i)
{
	return i < fc_n_models && fc_models[i].in_auto;
}

int fc_model_find(const char *name)
{
	for (size_t i = 0; i < fc_n_models; i++)
		if (strcmp(fc_models[i].name, name) == 0)
			return (int)i;
	return -1;
}

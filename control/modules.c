/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modules: the modules tidald starts, in start order (stopped in reverse). A module
 * that needs another (by tidald_module_state) comes after it.
 */
#include "collector_int.h"
#include "core_priv.h"
#include "alloc.h"
#include "forecast_int.h"
#include "frr.h"
#include "history_int.h"
#include "ledger.h"
#include "peering_mod.h"

const struct tidald_module_ops *const tidald_modules[] = {
	&tidald_status_module,
	&tidald_ledger_module,
	&tidald_history_module,
	&tidald_forecast_module,
	&tidald_frr_module,
	&tidald_collector_module,
	&tidald_peering_module, /* needs the ledger */
	&tidald_alloc_module,
};

const size_t tidald_n_modules = sizeof(tidald_modules) / sizeof(tidald_modules[0]);

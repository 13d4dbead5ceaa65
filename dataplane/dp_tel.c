/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_tel: read-only tidal-dp state through DPDK telemetry (dpdk-telemetry.py).
 *
 *   /tidal/info                 dimensions, stages, pairs
 *   /tidal/pairs                per pair: ports, rate and totals
 *   /tidal/classes              ids of the installed classes
 *   /tidal/class,ID             one class: queue path, meter, counters per pair
 *   /tidal/pipe,PAIR,SUBPORT,PIPE   the pipe's current rate
 *   /tidal/lcores               per lcore: loops, longest pause, pauses rte_sched cannot
 *                               bridge (see dp_worker.c)
 *
 * Callbacks run on DPDK's telemetry thread; they only read (counters with relaxed loads,
 * class definitions under the ops lock) and never change anything.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "dp.h"
#include "dp_internal.h"

/* Callbacks run on DPDK's telemetry thread, which outlives tidal-dp's state: they hold
 * this lock (shared) and answer nothing once dp_tel_shutdown has run. */
static pthread_rwlock_t tel_lock = PTHREAD_RWLOCK_INITIALIZER;
static bool tel_live;

/* The callbacks below are registered through this wrapper. */
#define TEL_WRAP(name)                                                                             \
	static int name(const char *cmd, const char *params, struct rte_tel_data *d)               \
	{                                                                                          \
		int rc = -1;                                                                       \
		pthread_rwlock_rdlock(&tel_lock);                                                  \
		if (tel_live)                                                                      \
			rc = name##_locked(cmd, params, d);                                        \
		pthread_rwlock_unlock(&tel_lock);                                                  \
		return rc;                                                                         \
	}

void dp_tel_shutdown(void)
{
	pthread_rwlock_wrlock(&tel_lock);
	tel_live = false;
	pthread_rwlock_unlock(&tel_lock);
}

static int tel_info_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", TIDAL_VERSION);
	rte_tel_data_add_dict_u64(d, "pairs", dp_g->n_pairs);
	rte_tel_data_add_dict_u64(d, "stages", dp_g->opts.stages);
	rte_tel_data_add_dict_u64(d, "subports", dp_g->conf.n_subports);
	rte_tel_data_add_dict_u64(d, "pipes", dp_g->conf.n_pipes);
	rte_tel_data_add_dict_u64(d, "classes_max", dp_g->conf.max_classes);
	rte_tel_data_add_dict_u64(d, "frame_overhead", dp_g->conf.frame_overhead);
	rte_tel_data_add_dict_u64(d, "replay", dp_g->opts.replay);
	return 0;
}

static int tel_pairs_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < dp_g->n_pairs; i++) {
		struct rte_tel_data *p = rte_tel_data_alloc();
		const struct dp_pair *pr = &dp_g->pairs[i];
		uint64_t f[DPMSG_PF_COUNT];
		char key[16];
		if (!p)
			return -1;
		rte_tel_data_start_dict(p);
		rte_tel_data_add_dict_string(p, "rx_port", pr->rx_name);
		rte_tel_data_add_dict_string(p, "tx_port", pr->tx_name);
		rte_tel_data_add_dict_u64(p, "rate_bps", pr->rate_bps);
		dp_ops_pair_totals(dp_g, i, f);
		for (unsigned k = 0; k < DPMSG_PF_COUNT; k++)
			rte_tel_data_add_dict_u64(p, dp_pair_field_name(k), f[k]);
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, p, 0);
	}
	return 0;
}

static int tel_classes_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint32_t ids[RTE_TEL_MAX_ARRAY_ENTRIES];
	uint32_t n = dp_ops_active_classes(dp_g, ids, RTE_DIM(ids));

	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_U64_VAL);
	for (uint32_t i = 0; i < n; i++)
		rte_tel_data_add_array_u64(d, ids[i]);
	return 0;
}

static int parse_uints(const char *params, unsigned long *v, int n)
{
	const char *p = params;
	char *end;

	if (!p)
		return -1;
	for (int i = 0; i < n; i++) {
		v[i] = strtoul(p, &end, 10);
		if (end == p || v[i] > UINT32_MAX)
			return -1;
		if (i < n - 1) {
			if (*end != ',')
				return -1;
			p = end + 1;
		} else if (*end) {
			return -1;
		}
	}
	return 0;
}

static int tel_class_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpmsg_class c;
	unsigned long id;

	(void)cmd;
	if (parse_uints(params, &id, 1) < 0 || dp_ops_class_get(dp_g, (uint32_t)id, &c) < 0)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "id", id);
	rte_tel_data_add_dict_u64(d, "subport", c.subport);
	rte_tel_data_add_dict_u64(d, "pipe", c.pipe);
	rte_tel_data_add_dict_u64(d, "tc", c.tc);
	rte_tel_data_add_dict_u64(d, "queue", c.queue);
	rte_tel_data_add_dict_u64(d, "dst_prefixes", c.n_dst);
	rte_tel_data_add_dict_u64(d, "src_prefixes", c.n_src);
	rte_tel_data_add_dict_u64(d, "dscp_mask", c.dscp_mask);
	if (c.has_meter) {
		rte_tel_data_add_dict_u64(d, "meter_cir_bps", c.meter.cir_bps);
		rte_tel_data_add_dict_u64(d, "meter_pir_bps", c.meter.pir_bps);
	}
	for (unsigned i = 0; i < dp_g->n_pairs; i++) {
		struct rte_tel_data *p = rte_tel_data_alloc();
		uint64_t f[DPMSG_CF_COUNT];
		char key[16];
		if (!p)
			return -1;
		rte_tel_data_start_dict(p);
		dp_ops_class_fields(dp_g, i, (uint32_t)id, f);
		for (unsigned k = 0; k < DPMSG_CF_COUNT; k++)
			rte_tel_data_add_dict_u64(p, dp_class_field_name(k), f[k]);
		snprintf(key, sizeof(key), "pair%u", i);
		rte_tel_data_add_dict_container(d, key, p, 0);
	}
	return 0;
}

static int tel_pipe_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned long v[3];

	(void)cmd;
	if (parse_uints(params, v, 3) < 0 || v[0] >= dp_g->n_pairs ||
	    v[1] >= dp_g->conf.n_subports || v[2] >= dp_g->conf.n_pipes)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "pair", v[0]);
	rte_tel_data_add_dict_u64(d, "subport", v[1]);
	rte_tel_data_add_dict_u64(d, "pipe", v[2]);
	rte_tel_data_add_dict_u64(
	        d, "rate_bps",
	        dp_ops_pipe_rate_get(dp_g, (unsigned)v[0], (uint32_t)v[1], (uint32_t)v[2]));
	rte_tel_data_add_dict_u64(d, "subport_rate_bps",
	                          dp_ops_subport_rate_get(dp_g, (unsigned)v[0], (uint32_t)v[1]));
	return 0;
}

static int tel_lcores_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < dp_g->n_lcores; i++) {
		const struct dp_lcore *lc = &dp_g->lcores[i];
		struct rte_tel_data *l;
		char key[16];
		if (!lc->n_tasks)
			continue;
		l = rte_tel_data_alloc();
		if (!l)
			return -1;
		rte_tel_data_start_dict(l);
		rte_tel_data_add_dict_u64(l, "tasks", lc->n_tasks);
		rte_tel_data_add_dict_u64(l, "loops", dp_cnt_get(&lc->loops));
		rte_tel_data_add_dict_u64(l, "gap_max_us",
		                          dp_cnt_get(&lc->gap_max_tsc) * 1000000 / dp_g->tsc_hz);
		rte_tel_data_add_dict_u64(l, "clock_slips", dp_cnt_get(&lc->clock_slips));
		snprintf(key, sizeof(key), "%u", lc->lcore_id);
		rte_tel_data_add_dict_container(d, key, l, 0);
	}
	return 0;
}

TEL_WRAP(tel_info)
TEL_WRAP(tel_pairs)
TEL_WRAP(tel_classes)
TEL_WRAP(tel_class)
TEL_WRAP(tel_pipe)
TEL_WRAP(tel_lcores)

int dp_tel_register(void)
{
	int rc = 0;

	pthread_rwlock_wrlock(&tel_lock);
	tel_live = true;
	pthread_rwlock_unlock(&tel_lock);

	rc |= rte_telemetry_register_cmd("/tidal/info", tel_info, "tidal-dp dimensions. No params");
	rc |= rte_telemetry_register_cmd("/tidal/pairs", tel_pairs,
	                                 "Per port pair totals. No params");
	rc |= rte_telemetry_register_cmd("/tidal/classes", tel_classes,
	                                 "Installed class ids. No params");
	rc |= rte_telemetry_register_cmd("/tidal/class", tel_class,
	                                 "One class with counters per pair. Params: class id");
	rc |= rte_telemetry_register_cmd(
	        "/tidal/lcores", tel_lcores,
	        "Loop health per lcore (longest pause, clock slips). No params");
	rc |= rte_telemetry_register_cmd(
	        "/tidal/pipe", tel_pipe,
	        "Rate of a pipe (0: unlimited). Params: pair,subport,pipe");
	return rc ? -1 : 0;
}

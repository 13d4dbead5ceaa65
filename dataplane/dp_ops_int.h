/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_ops_int: state shared by dp_ops.c (setup, rates, stats) and dp_classes.c (classes)
 * of tidal-dp's control side. Private to those two files.
 */
#ifndef TIDAL_DATAPLANE_DP_OPS_INT_H
#define TIDAL_DATAPLANE_DP_OPS_INT_H

#include "dp_internal.h"

#define CMD_TIMEOUT_MS 2000

struct pair_mirror {
	struct rte_sched_pipe_params **pp; /* [subport][profile] */
	uint32_t *n_pp;
	uint32_t *pipe_cur; /* [subport * n_pipes + pipe] */
	uint64_t *pipe_rate;
	struct rte_sched_subport_profile_params *sp;
	uint32_t n_sp;
	uint32_t *sub_cur;
	uint64_t *sub_rate;
};

struct dp_ops {
	pthread_mutex_t lock;
	struct dp_class_rec *recs;
	struct dp_cls_builder *b;
	struct dp_cls_table *table;
	struct dp_mprof *mprofs;
	struct pair_mirror pm[DP_MAX_PAIRS];
	bool broken; /* an lcore did not acknowledge a change: refuse further changes */
};

/* Format err and return rc. */
int dp_ops_fail(char *err, size_t n, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void dp_mprof_unref(struct dp_ops *o, struct dp_mprof *mp);
void dp_rec_clear(struct dp_class_rec *r);

#endif

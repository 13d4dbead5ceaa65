/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_internal: the private structures of the tidal-dp process (never installed, never
 * included outside dataplane/dp_*.c of the daemon).
 *
 * Ownership follows the lcore that writes: the control thread builds immutable class
 * tables and meter/pipe profiles and hands them to data lcores as commands on each
 * lcore's rte_ring; a data lcore applies a command between two bursts and marks it done.
 * Counters are written by exactly one lcore each (rx, sched or tx side) and read by the
 * control and telemetry threads with relaxed atomic loads.
 */
#ifndef TIDAL_DATAPLANE_DP_INTERNAL_H
#define TIDAL_DATAPLANE_DP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_meter.h>
#include <rte_ring.h>
#include <rte_sched.h>

#include "dpmsg.h"
#include "units.h"

#define DP_MAX_PAIRS 16
#define DP_MAX_BURST 256
#ifndef DP_N_TC
#define DP_N_TC RTE_SCHED_TRAFFIC_CLASSES_PER_PIPE
#endif

/* ---- configuration (file + command line) ---------------------------------------------- */

struct dp_conf {
	char path[256];
	uint64_t rate_bps;       /* scheduler port rate; 0: the tx port's link speed */
	uint32_t frame_overhead; /* bytes per packet added for rate accounting */
	uint32_t mtu;            /* largest frame, bytes, without overhead */
	uint32_t n_subports;     /* power of two */
	uint32_t n_pipes;        /* per subport, power of two */
	uint16_t qsize[DP_N_TC]; /* packets per queue, powers of two */
	uint32_t tc_period_ms;
	uint32_t pipe_burst_ms;     /* default token bucket depth, in time at the rate */
	uint32_t max_pipe_profiles; /* per subport */
	uint32_t max_subport_profiles;
	uint32_t max_classes;
	uint32_t max_prefixes;  /* IPv4 prefixes over all classes */
	uint32_t max_prefixes6; /* IPv6 prefixes over all classes */
	uint32_t mbufs;
	uint32_t burst;     /* rx, dequeue and tx burst */
	uint32_t enq_burst; /* most packets handed to the scheduler per iteration (>= burst) */
	uint32_t ring_size;
	uint32_t idle_sleep_us; /* 0: busy poll */
	bool realtime;          /* lcores run SCHED_FIFO (priority 1) */
	bool be_ov;             /* rte_sched best-effort oversubscription control */
	uint32_t stats_fold_ms;
	uint64_t *subport_rate_bps; /* n_subports entries; 0: the port rate */
	char (*subport_name)[64];
};

struct dp_opts {
	const char *conf_path;
	const char *socket_path;
	unsigned n_pairs;
	uint16_t pair_rx[DP_MAX_PAIRS];
	uint16_t pair_tx[DP_MAX_PAIRS];
	unsigned stages; /* 1, 2 or 3 lcores per pair */
	bool tx_on_rx;   /* stages 2: rx+tx | sched instead of rx | sched+tx */
	bool replay;     /* release received packets at their capture timestamps */
	bool rx_off;     /* start with reception stopped (until RX_ENABLE) */
	const char *trace_path;
};

/* Load the config file; returns 0 or -EINVAL after printing every problem. */
int dp_conf_load(const char *path, struct dp_conf *c);
void dp_conf_free(struct dp_conf *c);

/* ---- counters --------------------------------------------------------------------------- */

/* Written by the lcore running the pair's rx stage. */
struct dp_cnt_rx {
	uint64_t rx_pkts, rx_bytes;
	uint64_t meter_drop_pkts, meter_drop_bytes;
	uint64_t green, yellow;
	uint64_t ring_drop_pkts, ring_drop_bytes;
} __rte_cache_aligned;

/* Written by the lcore running the pair's sched stage. */
struct dp_cnt_sched {
	uint64_t drop_pkts, drop_bytes; /* scheduler queue full (folded from queue stats) */
	uint64_t ring_drop_pkts, ring_drop_bytes; /* sched -> tx ring full */
	uint64_t qlen;
};

/* Written by the lcore running the pair's tx stage. */
struct dp_cnt_tx {
	uint64_t tx_pkts, tx_bytes;
	uint64_t drop_pkts, drop_bytes;
};

static inline void dp_cnt_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline uint64_t dp_cnt_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* ---- class tables (built by the control thread, read by lcores) ------------------------- */

struct dp_cand {
	uint32_t class_id;
	uint16_t n_src;
	uint32_t src_off; /* into dp_cls_table.src */
	uint64_t dscp_mask;
};

struct dp_action {
	uint32_t qindex; /* rte_sched queue id */
	uint8_t tc;
	uint8_t active;
	struct rte_meter_trtcm_profile *meter; /* NULL: no meter */
};

struct dp_cls_table {
	uint32_t n_pfx;    /* prefix ids 0 .. n_pfx-1 */
	uint32_t *pfx_off; /* candidates of prefix id i: cand[pfx_off[i] .. +pfx_n[i]) */
	uint32_t *pfx_n;
	uint32_t nodst_off, nodst_n; /* classes without a destination list */
	struct dp_cand *cand;
	struct cfg_prefix *src;
	struct dp_action *act; /* max_classes entries; act[0] is always active */
	uint32_t *active_ids;  /* active class ids, ascending (for stats folding) */
	uint32_t n_active;
};

/* One LPM change, applied by every lcore that classifies. */
struct dp_lpm_op {
	bool add;
	struct cfg_prefix pfx;
	uint32_t id;
};

/* ---- commands to data lcores ------------------------------------------------------------ */

enum dp_cmd_type {
	DP_CMD_SWAP_TABLE, /* all lcores: new class table; rx lcores also LPM ops + meters */
	DP_CMD_PIPE,       /* sched lcore of one pair */
	DP_CMD_SUBPORT,    /* sched lcore of one pair */
	DP_CMD_FOLD,       /* sched lcore: fold queue stats now */
};

struct dp_cmd {
	enum dp_cmd_type type;
	uint32_t pair;
	int result;    /* 0 or negative errno, written before done */
	uint32_t done; /* set (release) by the lcore when finished */
	union {
		struct {
			struct dp_cls_table *table;
			const struct dp_lpm_op *ops;
			uint32_t n_ops;
			const uint32_t *meter_reset; /* class ids whose meter restarts */
			uint32_t n_meter_reset;
		} swap;
		struct {
			uint32_t subport, pipe;
			int32_t profile; /* -1: add params as a new profile first */
			struct rte_sched_pipe_params params;
			uint32_t new_profile; /* out */
		} pipe;
		struct {
			uint32_t subport;
			int32_t profile;
			struct rte_sched_subport_profile_params params;
			uint32_t new_profile; /* out */
		} subport;
	} u;
};

/* ---- pairs and lcores ------------------------------------------------------------------- */

enum { DP_STAGE_RX = 1, DP_STAGE_SCHED = 2, DP_STAGE_TX = 4 };

struct dp_replay {
	struct rte_mbuf *held[DP_MAX_BURST];
	uint16_t n, pos;
	bool started;
	uint64_t t0_tsc;
	uint64_t ts0_us;
};

struct dp_pair {
	uint16_t idx;
	uint16_t rx_port, tx_port;
	char rx_name[DPMSG_NAME_MAX], tx_name[DPMSG_NAME_MAX];
	uint64_t rate_bps;
	struct rte_sched_port *sched;
	struct rte_ring *ring_rx; /* rx -> sched (stages >= 2) */
	struct rte_ring *ring_tx; /* sched -> tx (stages == 3) */
	unsigned lcore_rx, lcore_sched, lcore_tx;
	/* per class, indexed by class id */
	struct rte_meter_trtcm *meters;
	struct dp_cnt_rx *cnt_rx;
	struct dp_cnt_sched *cnt_sched;
	struct dp_cnt_tx *cnt_tx;
	/* rx side */
	uint32_t rx_on __rte_cache_aligned; /* written by the control thread */
	uint64_t non_ip;
	uint64_t rx_seq;
	struct dp_replay replay;
	/* sched side */
	uint64_t next_fold_tsc __rte_cache_aligned;
	uint32_t enq_next; /* packets to offer the scheduler in the next iteration */
	uint32_t enq_hold; /* enqueues to go without a drop before offering more */
	/* tx side: pending packets when the tx queue pushed back */
	struct rte_mbuf *tx_buf[DP_MAX_BURST] __rte_cache_aligned;
};

struct dp_lcore {
	unsigned lcore_id;
	unsigned n_tasks;
	struct {
		struct dp_pair *pair;
		unsigned stages;
	} task[DP_MAX_PAIRS * 3];
	bool classifies;
	struct rte_ring *cmd_ring;
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	struct dp_cls_table *table;
	uint64_t idle_loops;
	/* loop health, written by the lcore: the longest pause between two iterations, and
	 * how often a pause reached 2^24 TSC cycles (rte_sched's clock loses that time) */
	uint64_t gap_max_tsc;
	uint64_t clock_slips;
	uint64_t loops;
};

struct dp_ctl; /* dp_ctl.c */
struct dp_ops; /* dp_ops.c */

/* Control-side record of an installed class (owned by the control thread). */
struct dp_mprof {
	struct rte_meter_trtcm_profile prof; /* read by rx lcores through dp_action */
	struct dpmsg_meter key;
	uint32_t refs;
	struct dp_mprof *next;
};

struct dp_class_rec {
	bool active;
	struct dpmsg_class def; /* dst/src arrays owned here */
	struct dp_mprof *mprof;
};

/* Incremental builder of class tables: remembers the prefix ids of the last build so that
 * unchanged prefixes keep their LPM entries. */
struct dp_cls_builder;
struct dp_cls_builder *dp_clsb_new(uint32_t max_classes, uint32_t max_pfx4, uint32_t max_pfx6);
void dp_clsb_free(struct dp_cls_builder *b);
/* Build the table for recs[0 .. max_classes-1] and the LPM ops from the last committed
 * build. Returns 0, -ENOSPC (too many prefixes) or -ENOMEM; *why says which. */
int dp_clsb_build(struct dp_cls_builder *b, const struct dp_class_rec *recs,
                  struct dp_cls_table **table, struct dp_lpm_op **ops, uint32_t *n_ops,
                  const char **why);
/* The last build was applied by every lcore: make it the base of the next diff. */
void dp_clsb_commit(struct dp_cls_builder *b);
void dp_clsb_abort(struct dp_cls_builder *b);

struct dp_state {
	struct dp_conf conf;
	struct dp_opts opts;
	struct rte_mempool *pool;
	unsigned n_pairs;
	struct dp_pair pairs[DP_MAX_PAIRS];
	unsigned n_lcores;
	struct dp_lcore lcores[RTE_MAX_LCORE];
	int class_dynfield; /* mbuf offset of the uint32 class id */
	int ts_dynfield;    /* mbuf offset of the rx timestamp, -1 when no PMD sets one */
	uint64_t ts_dynflag;
	uint64_t tsc_hz;
	uint32_t n_pipes_log2;
	FILE *trace;
	volatile int quit;
	struct dp_ctl *ctl;
	struct dp_ops *ops;
};

extern struct dp_state *dp_g;

static inline uint32_t *dp_mbuf_class(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, dp_g->class_dynfield, uint32_t *);
}

static inline uint32_t dp_qindex(uint32_t subport, uint32_t pipe, uint32_t tc, uint32_t queue)
{
	return (subport << (dp_g->n_pipes_log2 + 4)) | (pipe << 4) |
	       (tc < RTE_SCHED_TRAFFIC_CLASS_BE ? tc : RTE_SCHED_TRAFFIC_CLASS_BE + queue);
}

/* dp_cls.c: classification (data side) and table building (control side) */
/* Classify a burst: cls[i] is the class of pkts[i] (0: no class matched, or not IP),
 * l3_len[i] its IP bytes (0 when not IP). Returns how many packets were not IP. */
unsigned dp_classify_burst(const struct dp_lcore *lc, struct rte_mbuf *const *pkts, uint16_t n,
                           uint32_t *cls, uint32_t *l3_len);
void dp_cls_table_free(struct dp_cls_table *t);

/* dp_sched.c */
int dp_sched_create(struct dp_state *s, struct dp_pair *p);
void dp_sched_fold(struct dp_state *s, struct dp_pair *p, const struct dp_cls_table *t);
int dp_sched_pipe_params(const struct dp_state *s, const struct dp_pair *p, uint64_t rate_bps,
                         uint32_t tb_bytes, const uint64_t *tc_rate_bps,
                         struct rte_sched_pipe_params *out, const char **why);
int dp_sched_subport_params(const struct dp_state *s, const struct dp_pair *p, uint64_t rate_bps,
                            struct rte_sched_subport_profile_params *out, const char **why);
int dp_sched_apply(struct dp_pair *p, struct dp_cmd *cmd);

/* dp_worker.c */
int dp_worker_main(void *arg);
/* Send cmd to lcore lc and wait until it is done (or timeout). */
int dp_cmd_run(struct dp_lcore *lc, struct dp_cmd *cmd, unsigned timeout_ms);

/* dp_ops.c, dp_classes.c: what the control socket and telemetry can do (all take the ops
 * lock) */
int dp_ops_init(struct dp_state *s);
void dp_ops_fini(struct dp_state *s);
int dp_ops_class_add(struct dp_state *s, const struct dpmsg_class *c, char *err, size_t n);
int dp_ops_class_del(struct dp_state *s, uint32_t id, char *err, size_t n);
/* CLASS_ADD / CLASS_DEL requests applied together with one table rebuild; rc[i], err[i]
 * are each request's own outcome (as if they had been applied one by one). */
void dp_ops_class_batch(struct dp_state *s, struct dpmsg *const *msgs, size_t n, int *rc,
                        char (*err)[DPMSG_TEXT_MAX]);
int dp_ops_subport_rate(struct dp_state *s, const struct dpmsg_rate *r, char *err, size_t n);
int dp_ops_pipe_rate(struct dp_state *s, const struct dpmsg_rate *r, char *err, size_t n);
/* Fold scheduler stats on every pair (so that the next read is exact). */
int dp_ops_fold(struct dp_state *s);
int dp_ops_rx_enable(struct dp_state *s, uint16_t pair, bool on, char *err, size_t n);
/* One page of stats from first_class on; out's arrays are malloc'd (dpmsg_clear). */
int dp_ops_stats_page(struct dp_state *s, const struct dpmsg_stats_req *req,
                      struct dpmsg_stats_rep *out);
int dp_ops_info(struct dp_state *s, struct dpmsg_info *out);
void dp_ops_pair_totals(struct dp_state *s, unsigned pair, uint64_t *f);
void dp_ops_class_fields(struct dp_state *s, unsigned pair, uint32_t id, uint64_t *f);
/* Copy of class id's definition without its prefix arrays; -ENOENT when not installed. */
int dp_ops_class_get(struct dp_state *s, uint32_t id, struct dpmsg_class *out);
uint32_t dp_ops_active_classes(struct dp_state *s, uint32_t *ids, uint32_t max);
/* Current rate of a pipe / subport in bits/s (0: unlimited). */
uint64_t dp_ops_pipe_rate_get(struct dp_state *s, unsigned pair, uint32_t subport, uint32_t pipe);
uint64_t dp_ops_subport_rate_get(struct dp_state *s, unsigned pair, uint32_t subport);

/* dp_ctl.c: the UNIX control socket (a control thread) */
int dp_ctl_start(struct dp_state *s);
void dp_ctl_stop(struct dp_state *s);

/* dp_tel.c */
int dp_tel_register(void);
/* Telemetry callbacks answer nothing from now on (before the state is freed). */
void dp_tel_shutdown(void);

#endif

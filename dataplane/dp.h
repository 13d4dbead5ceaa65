/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp: the client side of tidal-dp's control socket, used by tidald and tidal-dpctl.
 *
 * One struct dp_conn is one UNIX stream connection to a running tidal-dp. Calls are
 * synchronous (one request, one reply, matched by sequence number) with a per-call
 * timeout, so they suit the collector's periodic sampling and the provisioners' rate
 * changes; a call that fails on I/O closes the connection and later calls return
 * -ENOTCONN until dp_connect is called again.
 *
 * Hierarchy (docs/dataplane.md): a class is a match (destination/source prefixes, DSCP)
 * steering packets to one scheduler queue: subport (peer region), pipe (lease or app),
 * traffic class (from app priority, dp_tc_of_priority) and, for best effort, one of four
 * queues. Each class owns its queue. Class 0 takes every packet no other class matches.
 *
 * Owns: the connection and the buffers it reads into. Never blocks longer than the
 * timeout given to dp_connect per call, never exits.
 */
#ifndef TIDAL_DATAPLANE_DP_H
#define TIDAL_DATAPLANE_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpmsg.h"
#include "units.h"

struct dp_conn;

#define DP_ALL_PAIRS DPMSG_ALL_PAIRS
#define DP_N_TC      DPMSG_N_TC
#define DP_TC_BE     DPMSG_TC_BE

/* trTCM (RFC 2698) meter of a class: green up to cir, yellow up to pir, red dropped. */
struct dp_meter {
	uint64_t cir_bps;
	uint64_t pir_bps;
	uint32_t cbs_bytes;
	uint32_t pbs_bytes;
};

struct dp_class {
	uint32_t id; /* 1 .. max_classes-1; 0 sets where unmatched packets go */
	uint16_t subport;
	uint32_t pipe;
	uint8_t tc;                   /* 0..12, 12 = best effort */
	uint8_t queue;                /* best effort only: 0..3 */
	const struct dp_meter *meter; /* NULL: no meter */
	/* Match: a packet matches when every non-empty list has a member that matches it. */
	const struct cfg_prefix *dst;
	size_t n_dst;
	const struct cfg_prefix *src;
	size_t n_src;
	const uint8_t *dscp;
	size_t n_dscp;
};

struct dp_pipe_rate {
	uint16_t pair; /* DP_ALL_PAIRS for every port pair */
	uint16_t subport;
	uint32_t pipe;
	uint64_t rate_bps;           /* 0: unlimited (the subport's rate) */
	uint32_t tb_bytes;           /* token bucket, 0: tidal-dp's default */
	const uint64_t *tc_rate_bps; /* NULL, or DP_N_TC rates (0: the pipe rate) */
};

struct dp_port_info {
	uint16_t pair;
	char rx_name[DPMSG_NAME_MAX];
	char tx_name[DPMSG_NAME_MAX];
	uint64_t rate_bps;
};

struct dp_info {
	uint16_t n_subports;
	uint32_t n_pipes;
	uint32_t max_classes;
	uint8_t stages;
	uint16_t n_pairs;
	struct dp_port_info pairs[16];
};

/* Every counter of every installed class on every pair, plus pair totals. */
struct dp_stats {
	size_t n_pairs;
	struct dpmsg_pair_stats *pairs;
	size_t n_classes;
	struct dpmsg_class_stats *classes; /* sorted by class id, then pair */
};

/* Connect to the socket at path; timeout_ms bounds every later call (0: 2000 ms).
 * Returns NULL (errno set, message logged) when tidal-dp is not there. */
struct dp_conn *dp_connect(const char *path, int timeout_ms);
void dp_close(struct dp_conn *c);
bool dp_connected(const struct dp_conn *c);
/* The message of tidal-dp's last refusal (or the local error), never NULL. */
const char *dp_last_error(const struct dp_conn *c);

/* Each returns 0 or a negative errno: the server's status when it refused (text in
 * dp_last_error), -ETIMEDOUT, -EPIPE/-ECONNRESET on a lost connection, -EPROTO for a
 * reply that does not decode. */
int dp_get_info(struct dp_conn *c, struct dp_info *out);
int dp_class_add(struct dp_conn *c, const struct dp_class *cls);
/* Many classes at once, sent without waiting for each answer (tidal-dp installs them
 * with few table swaps). Returns 0, or the first refusal (text in dp_last_error);
 * rc_each (may be NULL) gets every class's own result. */
int dp_class_add_many(struct dp_conn *c, const struct dp_class *cls, size_t n, int *rc_each);
int dp_class_del(struct dp_conn *c, uint32_t id);
int dp_subport_rate(struct dp_conn *c, uint16_t pair, uint16_t subport, uint64_t rate_bps);
int dp_pipe_rate(struct dp_conn *c, const struct dp_pipe_rate *r);
/* Start (on) or stop reception on a pair (DP_ALL_PAIRS: all). tidal-dp started with
 * --rx-off receives nothing until this, so classes can be installed first. */
int dp_rx_enable(struct dp_conn *c, uint16_t pair, bool on);
/* Read every page of stats; free the result with dp_stats_free. */
int dp_stats_read(struct dp_conn *c, struct dp_stats **out);
void dp_stats_free(struct dp_stats *s);

/* App priority 0 (highest) .. 7 -> rte_sched traffic class 0..7 (strict priority);
 * anything else -> best effort (12). */
unsigned dp_tc_of_priority(unsigned priority);

/* Names of the counter fields, for tables and JSON ("rx_pkts", ...). */
const char *dp_class_field_name(unsigned f);
const char *dp_pair_field_name(unsigned f);

#endif

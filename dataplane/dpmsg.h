/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpmsg: the framed messages between tidald (dp client) and tidal-dp (control socket).
 *
 * Framing follows the peering protocol's shape: a fixed 8-byte header, then a body whose
 * layout depends on the type. All integers are big-endian and every byte is read and
 * written through common/buf.h, so a short or lying frame is an error, never an overread.
 *
 *    0        1        2                 4                                  8
 *    +--------+--------+-----------------+----------------------------------+
 *    | version|  type  | length (total)  | seq (echoed in the reply)        |
 *    +--------+--------+-----------------+----------------------------------+
 *
 * length counts the header too (8 .. 65535). Every request gets exactly one reply with
 * the same seq: RESULT (status + message), INFO, or STATS_REP. Counter blocks carry
 * their own field count so that a newer peer can append fields an older one skips.
 *
 * Owns: nothing beyond the arrays a decode allocates into a struct dpmsg (released by
 * dpmsg_clear). Pure: no I/O, no DPDK, safe to fuzz.
 */
#ifndef TIDAL_DATAPLANE_DPMSG_H
#define TIDAL_DATAPLANE_DPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "units.h"

#define DPMSG_VERSION      1
#define DPMSG_HDR_LEN      8
#define DPMSG_MAX_LEN      65535
#define DPMSG_MAX_PREFIXES 256 /* per list (dst, src) of one class */
#define DPMSG_ALL_PAIRS    0xFFFF
#define DPMSG_STATS_END    0xFFFFFFFFu
#define DPMSG_N_TC         13 /* rte_sched traffic classes: 0..11 strict priority, 12 best effort */
#define DPMSG_TC_BE        12
#define DPMSG_BE_QUEUES    4
#define DPMSG_NAME_MAX     64  /* port names (incl. NUL) */
#define DPMSG_TEXT_MAX     256 /* RESULT message (incl. NUL) */

enum dpmsg_type {
	DPMSG_HELLO = 1, /* -> INFO */
	DPMSG_INFO = 2,
	DPMSG_RESULT = 3,
	DPMSG_CLASS_ADD = 10,    /* -> RESULT; replaces a class with the same id */
	DPMSG_CLASS_DEL = 11,    /* -> RESULT */
	DPMSG_SUBPORT_RATE = 12, /* -> RESULT */
	DPMSG_PIPE_RATE = 13,    /* -> RESULT */
	DPMSG_STATS_REQ = 14,    /* -> STATS_REP */
	DPMSG_STATS_REP = 15,
	DPMSG_RX_ENABLE = 16, /* -> RESULT; start or stop reception on pairs */
};

struct dpmsg_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t length; /* whole frame, header included */
	uint32_t seq;
};

struct dpmsg_pair_info {
	uint16_t pair;
	uint16_t rx_port;
	uint16_t tx_port;
	uint64_t rate_bps; /* scheduler port rate */
	char rx_name[DPMSG_NAME_MAX];
	char tx_name[DPMSG_NAME_MAX];
};

struct dpmsg_info {
	uint16_t n_subports;
	uint32_t n_pipes;        /* per subport */
	uint32_t max_classes;    /* class ids are 0 .. max_classes-1; 0 is "unmatched" */
	uint8_t stages;          /* lcores per pair: 1, 2 or 3 */
	uint16_t frame_overhead; /* bytes added to each packet for rate accounting */
	uint16_t n_pairs;
	struct dpmsg_pair_info *pairs;
};

struct dpmsg_result {
	int32_t status; /* 0 or a negative errno */
	char text[DPMSG_TEXT_MAX];
};

struct dpmsg_meter {
	uint64_t cir_bps; /* committed rate, bits/s of IP bytes */
	uint64_t pir_bps; /* peak rate, >= cir */
	uint32_t cbs;     /* committed burst, bytes */
	uint32_t pbs;     /* peak burst, bytes */
};

struct dpmsg_class {
	uint32_t class_id;
	uint16_t subport;
	uint32_t pipe;
	uint8_t tc;    /* 0..12 */
	uint8_t queue; /* 0 unless tc is best effort: 0..3 */
	bool has_meter;
	struct dpmsg_meter meter;
	uint64_t dscp_mask; /* bit d set: DSCP d matches; all ones: any DSCP */
	uint16_t n_dst;
	uint16_t n_src;
	struct cfg_prefix *dst;
	struct cfg_prefix *src;
};

struct dpmsg_rate {
	uint16_t pair; /* DPMSG_ALL_PAIRS: every pair */
	uint16_t subport;
	uint32_t pipe;     /* PIPE_RATE only */
	uint64_t rate_bps; /* 0: unlimited (the parent's rate) */
	uint32_t tb_bytes; /* PIPE_RATE only; token bucket size, 0: the configured default */
	uint8_t n_tc;      /* PIPE_RATE only; 0 or DPMSG_N_TC */
	uint64_t tc_rate_bps[DPMSG_N_TC]; /* 0: the pipe rate */
};

struct dpmsg_rx_enable {
	uint16_t pair; /* DPMSG_ALL_PAIRS: every pair */
	bool on;
};

struct dpmsg_stats_req {
	uint32_t first_class;
	uint16_t max_entries;
};

enum dpmsg_pair_field {
	DPMSG_PF_RX_PKTS,
	DPMSG_PF_RX_BYTES,
	DPMSG_PF_TX_PKTS,
	DPMSG_PF_TX_BYTES,
	DPMSG_PF_DROP_PKTS, /* meter + scheduler + ring + tx drops */
	DPMSG_PF_QUEUED,    /* packets inside the pipeline (scheduler queues, rings) */
	DPMSG_PF_NON_IP,    /* packets that were not IPv4/IPv6 (classified as class 0) */
	DPMSG_PF_ETH_IPACKETS,
	DPMSG_PF_ETH_OPACKETS,
	DPMSG_PF_ETH_IMISSED,
	DPMSG_PF_ETH_NOMBUF,
	DPMSG_PF_ETH_OERRORS,
	DPMSG_PF_COUNT
};

enum dpmsg_class_field {
	DPMSG_CF_RX_PKTS,
	DPMSG_CF_RX_BYTES,
	DPMSG_CF_TX_PKTS,
	DPMSG_CF_TX_BYTES,
	DPMSG_CF_METER_DROP_PKTS, /* red */
	DPMSG_CF_METER_DROP_BYTES,
	DPMSG_CF_SCHED_DROP_PKTS, /* queue full */
	DPMSG_CF_SCHED_DROP_BYTES,
	DPMSG_CF_OTHER_DROP_PKTS, /* ring full between lcores, tx refused */
	DPMSG_CF_OTHER_DROP_BYTES,
	DPMSG_CF_GREEN_PKTS,
	DPMSG_CF_YELLOW_PKTS,
	DPMSG_CF_QUEUED, /* packets in the class's scheduler queue */
	DPMSG_CF_COUNT
};

struct dpmsg_pair_stats {
	uint16_t pair;
	uint64_t f[DPMSG_PF_COUNT];
};

struct dpmsg_class_stats {
	uint16_t pair;
	uint32_t class_id;
	uint64_t f[DPMSG_CF_COUNT];
};

struct dpmsg_stats_rep {
	uint32_t next_class; /* DPMSG_STATS_END when this was the last page */
	uint16_t n_pairs;
	struct dpmsg_pair_stats *pairs;
	uint16_t n_classes;
	struct dpmsg_class_stats *classes;
};

struct dpmsg {
	struct dpmsg_hdr hdr;
	union {
		struct dpmsg_info info;
		struct dpmsg_result result;
		struct dpmsg_class cls; /* CLASS_ADD */
		uint32_t class_id;      /* CLASS_DEL */
		struct dpmsg_rate rate; /* SUBPORT_RATE, PIPE_RATE */
		struct dpmsg_stats_req stats_req;
		struct dpmsg_stats_rep stats;
		struct dpmsg_rx_enable rx;
	} u;
};

/* Read and check a header from the first DPMSG_HDR_LEN bytes of buf. Returns 0, -EAGAIN
 * when fewer bytes are there, -EPROTO for a wrong version or an impossible length. */
int dpmsg_hdr_decode(const void *buf, size_t len, struct dpmsg_hdr *h);

/* Decode one whole frame (exactly hdr.length bytes). On success m owns any arrays;
 * release with dpmsg_clear. On failure returns -EBADMSG (or -ENOMEM), m holds nothing
 * and *why (when not NULL) names the field that was wrong. Unknown types: -ENOTSUP. */
int dpmsg_decode(const void *frame, size_t len, struct dpmsg *m, const char **why);

/* Append one frame for m (hdr.type and hdr.seq are used; version and length are set).
 * Returns 0, -EMSGSIZE when it would exceed DPMSG_MAX_LEN, or -EINVAL for bad fields. */
int dpmsg_encode(struct tb_writer *w, const struct dpmsg *m);

/* Release what dpmsg_decode allocated (the caller's arrays are not touched when the
 * message was built by hand; never call it on such a message). */
void dpmsg_clear(struct dpmsg *m);

/* Encoded sizes, so a server can fill a STATS_REP page without overflowing. */
size_t dpmsg_stats_rep_size(uint16_t n_pairs, uint16_t n_classes);

const char *dpmsg_type_name(uint8_t type);

#endif

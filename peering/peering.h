/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering: the tidal peering protocol (docs/protocol.md is normative).
 *
 * Three layers, one header:
 *   - the codec (peer_msg_*): messages <-> bytes on top of common/buf.h. Pure: no I/O, no
 *     allocation; malformed input is mapped to the NOTIFICATION code/subcode/data to send.
 *   - lease helpers (lease_*): ids, names of states/errors/resources, parameter equality and
 *     the resynchronisation rules of protocol.md §8 as a pure function.
 *   - sessions (peer_mgr_*, peer_*): TLS 1.3 connections with mutual authentication over
 *     libevent's bufferevent_openssl, the RFC 4271-style session state machine, hold and
 *     keepalive timers, reconnect backoff and collision resolution. Sessions deliver decoded
 *     messages to a callback; they never decide anything about leases.
 *
 * Must never: exit, block the event loop, or let a peer's bytes reach anything but the codec.
 */
#ifndef TIDAL_PEERING_PEERING_H
#define TIDAL_PEERING_PEERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- framing and limits (protocol.md §2, §10) --------------------------------------- */

#define PEER_PROTO_VERSION   1
#define PEER_HDR_LEN         4
#define PEER_MSG_MAX         65535
#define PEER_REGION_MAX      64  /* 63 bytes + NUL */
#define PEER_NAME_MAX        64  /* resource and app names, 63 bytes + NUL */
#define PEER_REASON_MAX      256 /* 255 bytes + NUL */
#define PEER_NOTIF_DATA_MAX  1024
#define LEASE_MATCH_MAX      16
#define LEASE_PATH_MAX       8
#define PEER_CAP_ENTRIES_MAX 16
#define PEER_CAP_STEPS_MAX   64
#define PEER_DEFAULT_PORT    7179

enum peer_msg_type {
	PEER_MSG_OPEN = 1,
	PEER_MSG_KEEPALIVE = 2,
	PEER_MSG_NOTIFICATION = 3,
	PEER_MSG_CAPACITY = 4,
	PEER_MSG_LEASE_REQUEST = 5,
	PEER_MSG_LEASE_OFFER = 6,
	PEER_MSG_LEASE_COMMIT = 7,
	PEER_MSG_LEASE_ACK = 8,
	PEER_MSG_LEASE_RELEASE = 9,
	PEER_MSG_LEASE_REVOKE = 10,
	PEER_MSG_LEASE_STATUS = 11,
};
#define PEER_MSG_TYPE_MAX 11

/* TLV type codes (protocol.md §3). */
enum peer_tlv {
	PEER_TLV_REGION = 0x01,
	PEER_TLV_INSTANCE = 0x02,
	PEER_TLV_RESOURCES = 0x03,
	PEER_TLV_GRACEFUL_RESTART = 0x04,
	PEER_TLV_LEASE_ID = 0x10,
	PEER_TLV_REQUESTER = 0x11,
	PEER_TLV_PROVIDER = 0x12,
	PEER_TLV_RESOURCE = 0x13,
	PEER_TLV_QUANTITY = 0x14,
	PEER_TLV_START = 0x15,
	PEER_TLV_DURATION = 0x16,
	PEER_TLV_PRIORITY = 0x17,
	PEER_TLV_MATCH_PREFIX = 0x18,
	PEER_TLV_MATCH_DSCP = 0x19,
	PEER_TLV_PATH = 0x1A,
	PEER_TLV_HOLD_TIME = 0x1B,
	PEER_TLV_STATE = 0x1C,
	PEER_TLV_ERROR = 0x1D,
	PEER_TLV_APP = 0x1E,
	PEER_TLV_REASON = 0x1F,
	PEER_TLV_SYNC = 0x20,
	PEER_TLV_CAPACITY_ENTRY = 0x30,
};
#define PEER_TLV_F_OPTIONAL 0x80

/* Presence bits of peer_msg.present, one per TLV kind. */
enum peer_field {
	PEER_F_REGION = 1u << 0,
	PEER_F_INSTANCE = 1u << 1,
	PEER_F_RESOURCES = 1u << 2,
	PEER_F_GRACEFUL_RESTART = 1u << 3,
	PEER_F_LEASE_ID = 1u << 4,
	PEER_F_REQUESTER = 1u << 5,
	PEER_F_PROVIDER = 1u << 6,
	PEER_F_RESOURCE = 1u << 7,
	PEER_F_QUANTITY = 1u << 8,
	PEER_F_START = 1u << 9,
	PEER_F_DURATION = 1u << 10,
	PEER_F_PRIORITY = 1u << 11,
	PEER_F_MATCH_PREFIX = 1u << 12,
	PEER_F_MATCH_DSCP = 1u << 13,
	PEER_F_PATH = 1u << 14,
	PEER_F_HOLD_TIME = 1u << 15,
	PEER_F_STATE = 1u << 16,
	PEER_F_ERROR = 1u << 17,
	PEER_F_APP = 1u << 18,
	PEER_F_REASON = 1u << 19,
	PEER_F_SYNC = 1u << 20,
	PEER_F_CAPACITY_ENTRY = 1u << 21,
};
/* The fields that make two requests "the same" (protocol.md §7.5 note 1). */
#define LEASE_F_PARAMS                                                                             \
	(PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE | PEER_F_QUANTITY | PEER_F_START |   \
	 PEER_F_DURATION | PEER_F_PRIORITY | PEER_F_MATCH_PREFIX | PEER_F_MATCH_DSCP |             \
	 PEER_F_PATH)

/* NOTIFICATION codes (protocol.md §5). */
enum peer_notif_code {
	PEER_ERR_HEADER = 1,
	PEER_ERR_OPEN = 2,
	PEER_ERR_MESSAGE = 3,
	PEER_ERR_HOLD_TIMER = 4,
	PEER_ERR_FSM = 5,
	PEER_ERR_CEASE = 6,
};
enum {
	PEER_SUB_HDR_VERSION = 1,
	PEER_SUB_HDR_LENGTH = 2,
	PEER_SUB_HDR_TYPE = 3,

	PEER_SUB_OPEN_REGION = 1,
	PEER_SUB_OPEN_HOLD_TIME = 2,
	PEER_SUB_OPEN_ASN = 3,

	PEER_SUB_MSG_MALFORMED_TLV = 1,
	PEER_SUB_MSG_MISSING_TLV = 2,
	PEER_SUB_MSG_UNRECOGNIZED_TLV = 3,
	PEER_SUB_MSG_DUPLICATE_TLV = 4,
	PEER_SUB_MSG_INVALID_VALUE = 5,
	PEER_SUB_MSG_TOO_MANY = 6,
	PEER_SUB_MSG_FIXED_PART = 7,

	PEER_SUB_FSM_OPENSENT = 1,
	PEER_SUB_FSM_OPENCONFIRM = 2,
	PEER_SUB_FSM_ESTABLISHED = 3,

	PEER_SUB_CEASE_SHUTDOWN = 1,
	PEER_SUB_CEASE_DECONFIGURED = 2,
	PEER_SUB_CEASE_RESET = 3,
	PEER_SUB_CEASE_COLLISION = 4,
	PEER_SUB_CEASE_RESOURCES = 5,
	PEER_SUB_CEASE_RESTARTED = 6,
};

/* ---- leases (protocol.md §7) --------------------------------------------------------- */

enum lease_resource {
	LEASE_RES_BANDWIDTH = 1,
	LEASE_RES_VCPU = 2,
	LEASE_RES_MEMORY = 3,
	LEASE_RES_STORAGE = 4,
};
#define LEASE_RES_MAX 4

enum lease_unit {
	LEASE_UNIT_BPS = 1,
	LEASE_UNIT_COUNT = 2,
	LEASE_UNIT_BYTES = 3,
};

/* The state names are shared with the ledger, tidalctl and tidal_leases{state}. */
enum lease_state {
	LEASE_NONE = 0, /* no record (used by lease_status_action) */
	LEASE_CHECKING = 1,
	LEASE_HELD = 2,
	LEASE_COMMITTING = 3,
	LEASE_RESERVED = 4,
	LEASE_ACTIVE = 5,
	LEASE_RELEASED = 6,
	LEASE_EXPIRED = 7,
	LEASE_FAILED = 8,
	LEASE_REVOKED = 9,
};
#define LEASE_STATE_MAX 9

enum lease_error {
	LEASE_ERR_NONE = 0,
	LEASE_ERR_INSUFFICIENT_CAPACITY = 1,
	LEASE_ERR_UNKNOWN_RESOURCE = 2,
	LEASE_ERR_BAD_PARAMETERS = 3,
	LEASE_ERR_ID_CONFLICT = 4,
	LEASE_ERR_UNKNOWN_LEASE = 5,
	LEASE_ERR_HOLD_TIMEOUT = 6,
	LEASE_ERR_PREEMPTED = 7,
	LEASE_ERR_ADMINISTRATIVE = 8,
	LEASE_ERR_NOT_PERMITTED = 9,
	LEASE_ERR_INTERNAL = 10,
	LEASE_ERR_WRONG_STATE = 11,
	LEASE_ERR_END_REACHED = 12,
	LEASE_ERR_NO_PATH = 13,
	LEASE_ERR_PEER_UNREACHABLE = 14,
};
#define LEASE_ERR_MAX 14

/* SYNC TLV flags. */
#define LEASE_SYNC_RESYNC 0x01
#define LEASE_SYNC_END    0x02

#define LEASE_PRIORITY_DEFAULT 4
#define LEASE_HOLD_MS_MIN      1000u
#define LEASE_HOLD_MS_MAX      3600000u

struct lease_id {
	uint8_t b[16];
};
#define LEASE_ID_STR 33 /* 32 hex digits + NUL, as the ledger and tidalctl print them */

struct lease_prefix {
	uint8_t dir;    /* 0 destination, 1 source */
	uint8_t family; /* 4 or 6 */
	uint8_t len;    /* bits */
	uint8_t addr[16];
};

/* Everything a lease message can carry. Which fields are meaningful is in peer_msg.present. */
struct lease_msg {
	struct lease_id id;
	char requester[PEER_REGION_MAX];
	char provider[PEER_REGION_MAX];
	uint8_t resource; /* enum lease_resource */
	char resource_name[PEER_NAME_MAX];
	uint8_t unit; /* enum lease_unit */
	uint64_t quantity;
	int64_t start_s;     /* UTC seconds since the epoch */
	uint32_t duration_s; /* > 0 */
	uint8_t setup_prio, hold_prio;
	struct lease_prefix prefix[LEASE_MATCH_MAX];
	uint8_t n_prefix;
	uint8_t dscp[LEASE_MATCH_MAX];
	uint8_t n_dscp;
	char path[LEASE_PATH_MAX][PEER_REGION_MAX];
	uint8_t n_path;
	uint32_t hold_ms;
	uint8_t state;  /* enum lease_state */
	uint16_t error; /* enum lease_error */
	char app[PEER_NAME_MAX];
	char reason[PEER_REASON_MAX];
	uint8_t sync; /* LEASE_SYNC_* */
};

struct peer_open {
	uint32_t asn;
	uint16_t hold_time_s;
	char region[PEER_REGION_MAX];
	uint64_t instance;
	uint32_t resources; /* bit (1 << enum lease_resource) */
	uint16_t restart_time_s;
	uint8_t gr_flags;
};

struct peer_notification {
	uint8_t code, subcode;
	uint16_t data_len;
	uint8_t data[PEER_NOTIF_DATA_MAX];
};

struct peer_cap_step {
	int64_t time_s;
	uint64_t amount;
};

struct peer_cap_entry {
	uint8_t resource, unit;
	char name[PEER_NAME_MAX];
	uint16_t n_steps;
	struct peer_cap_step steps[PEER_CAP_STEPS_MAX];
};

struct peer_capacity {
	uint8_t n;
	struct peer_cap_entry e[PEER_CAP_ENTRIES_MAX];
};

/* A decoded (or to-be-encoded) message. About 17 KiB: keep it off small stacks. */
struct peer_msg {
	uint8_t type;     /* enum peer_msg_type */
	uint32_t present; /* PEER_F_* */
	union {
		struct peer_open open;
		struct peer_notification notif;
		struct peer_capacity cap;
		struct lease_msg lease;
	};
};

/* What to send back for malformed input: a NOTIFICATION, and a message for the log. */
struct peer_err {
	uint8_t code, subcode;
	uint8_t data_len;
	uint8_t data[8];
	char msg[160];
};

/* ---- codec --------------------------------------------------------------------------- */

/* Look at the head of a byte stream. Returns 1 and sets *msg_len when a header is there
 * and valid (the body may still be incomplete: compare *msg_len with len), 0 when fewer
 * than PEER_HDR_LEN bytes are there, -EBADMSG (err filled) when the header is invalid. */
int peer_frame_check(const uint8_t *buf, size_t len, size_t *msg_len, struct peer_err *err);
/* Decode exactly one whole message of len bytes (header included). Returns 0, or -EBADMSG
 * with err saying which NOTIFICATION to send. Either way m's type, present and the union
 * member of its type (open, notif, cap or lease) are overwritten; other members are not. */
int peer_msg_decode(const uint8_t *buf, size_t len, struct peer_msg *m, struct peer_err *err);
/* Append the encoding of m to w. Returns 0, -EINVAL when m breaks a rule of the protocol
 * (missing mandatory field, out-of-range value: the receiver would refuse it), or -EMSGSIZE
 * when the writer's limit is hit. Never writes a partial message on error (w is rolled back). */
int peer_msg_encode(const struct peer_msg *m, struct tb_writer *w);

/* Convenience initialisers: zero m's header and the union member of type, set the type. */
void peer_msg_init(struct peer_msg *m, enum peer_msg_type type);
/* A NOTIFICATION message built from err (or from code/subcode with no data). */
void peer_msg_notification(struct peer_msg *m, uint8_t code, uint8_t subcode, const void *data,
                           size_t data_len);

const char *peer_msg_type_name(unsigned type);  /* "LEASE_REQUEST"; "UNKNOWN" */
const char *peer_msg_type_label(unsigned type); /* "lease_request", for metrics labels */
/* "Hold Timer Expired", "Message Error / Invalid TLV Value" ... into buf. */
const char *peer_notif_describe(uint8_t code, uint8_t subcode, char *buf, size_t len);

/* ---- lease helpers ------------------------------------------------------------------- */

const char *lease_state_name(unsigned state); /* "checking" ... "revoked"; "none" */
int lease_state_parse(const char *s);         /* state or -EINVAL */
bool lease_state_terminal(unsigned state);
bool lease_state_booked(unsigned state);       /* held, committing, reserved, active */
const char *lease_error_name(unsigned err);    /* "insufficient-capacity"; "unknown" */
const char *lease_resource_name(unsigned res); /* "bandwidth", "vcpu", "memory", "storage" */
int lease_resource_parse(const char *s);       /* resource or -EINVAL */
unsigned lease_resource_unit(unsigned res);    /* the unit a resource is counted in; 0 if bad */

void lease_id_random(struct lease_id *id); /* RFC 4122 version 4 layout */
bool lease_id_is_zero(const struct lease_id *id);
bool lease_id_equal(const struct lease_id *a, const struct lease_id *b);
char *lease_id_fmt(const struct lease_id *id, char buf[LEASE_ID_STR]); /* common/hex.h */
/* 32 hex digits, dashes ignored (the UUID form works too). Returns 0 or -EINVAL. */
int lease_id_parse(const char *s, struct lease_id *id);

/* Valid region id (1..63 of A-Z a-z 0-9 -)? */
bool peer_region_valid(const char *s);

/* Do two lease messages carry the same parameters (protocol.md §7.5 note 1)? Absent
 * PRIORITY counts as the default 4/4. */
bool lease_params_equal(const struct peer_msg *a, const struct peer_msg *b);

/* What to do with a LEASE_STATUS received (protocol.md §8, table of step 2). */
enum lease_status_action {
	LEASE_ACT_NOTHING = 0,
	LEASE_ACT_ADOPT,         /* take the received state (and error) */
	LEASE_ACT_REPLY_OWN,     /* send a STATUS with the own record's state */
	LEASE_ACT_REPLY_UNKNOWN, /* send STATUS(failed, unknown-lease) */
};
/* mine: the receiver's state (LEASE_NONE without a record); provider: the receiver is the
 * lease's provider. */
enum lease_status_action lease_status_action(bool provider, unsigned mine, unsigned theirs);

/* ---- sessions (protocol.md §1, §6) --------------------------------------------------- */

struct event_base;
struct peer_mgr;
struct peer;

enum peer_state {
	PEER_IDLE = 0,
	PEER_CONNECT,
	PEER_OPENSENT,
	PEER_OPENCONFIRM,
	PEER_ESTABLISHED,
};
const char *peer_state_name(enum peer_state s); /* "Idle" ... "Established" */

struct peer_mgr_params {
	struct event_base *base;
	const char *region; /* local region id (must equal our certificate's) */
	uint32_t asn;
	const char *listen_host; /* NULL or "": do not listen */
	uint16_t listen_port;    /* 0 with a listen_host: any free port (see peer_mgr_port) */
	const char *certificate, *private_key, *ca; /* PEM files */
	uint16_t hold_time_s;                       /* 0 or 3..65535 */
	uint32_t resources;                         /* RESOURCES bitmask advertised in OPEN */
	uint16_t restart_time_s;                    /* GRACEFUL_RESTART; 0 = default 120 s */
	uint32_t retry_initial_ms, retry_max_ms;    /* backoff; 0 = 1 s / 60 s */
	uint32_t connect_timeout_ms;                /* TCP + TLS; 0 = 10 s */
	/* Callbacks (optional), called from the event loop. A callback may call peer_send and
	 * peer_reset but must not free the manager. */
	void (*on_state)(void *arg, struct peer *p, enum peer_state old, enum peer_state now);
	void (*on_msg)(void *arg, struct peer *p, const struct peer_msg *m);
	/* After the messages of one read burst were handed to on_msg (for group commit). */
	void (*on_burst_end)(void *arg, struct peer *p);
	void *cb_arg;
};

/* Loads the certificate, key and CA (TLS 1.3 only, peer verification required) and starts
 * listening. NULL (and a log line naming the file or address) on failure. */
struct peer_mgr *peer_mgr_new(const struct peer_mgr_params *params);
/* Sends Cease/Administrative Shutdown on every open connection, then frees everything. */
void peer_mgr_free(struct peer_mgr *m);
uint16_t peer_mgr_port(const struct peer_mgr *m); /* bound listen port, 0 if none */
uint64_t peer_mgr_instance(const struct peer_mgr *m);

/* Configure a peer region; host NULL = accept its connections but never dial. Starts the
 * connect cycle at once. Returns NULL on a bad name, a duplicate or no memory. */
struct peer *peer_mgr_add(struct peer_mgr *m, const char *name, const char *host, uint16_t port);
/* Sends Cease/Peer De-configured if connected, then forgets the peer. */
void peer_mgr_remove(struct peer_mgr *m, struct peer *p);
struct peer *peer_mgr_find(struct peer_mgr *m, const char *name);
size_t peer_mgr_count(const struct peer_mgr *m);
struct peer *peer_mgr_at(struct peer_mgr *m, size_t i);

const char *peer_name(const struct peer *p);
enum peer_state peer_get_state(const struct peer *p);
void peer_set_user(struct peer *p, void *user);
void *peer_get_user(const struct peer *p);

struct peer_stats {
	uint64_t msgs_in[PEER_MSG_TYPE_MAX + 1];
	uint64_t msgs_out[PEER_MSG_TYPE_MAX + 1];
	int64_t established_at_s; /* wall clock; 0 when not Established */
	uint16_t hold_time_s;     /* negotiated */
	uint16_t peer_restart_time_s;
	uint32_t peer_resources;
	uint64_t peer_instance;
	uint32_t established_count; /* sessions that reached Established */
	char last_error[160];       /* last NOTIFICATION or failure, for show peers */
};
void peer_get_stats(const struct peer *p, struct peer_stats *s);

/* Send a message on an Established session. Returns 0, -ENOTCONN, or -EINVAL when the
 * message would not encode (a bug in the caller, logged). */
int peer_send(struct peer *p, const struct peer_msg *m);
/* Close the session with NOTIFICATION Cease/subcode; the peer reconnects after backoff. */
void peer_reset(struct peer *p, uint8_t subcode);
/* Hand what is queued for p to TLS and the kernel now (one non-blocking attempt) instead of
 * when the event loop next runs; for a process about to end on purpose (fault-injection
 * tests). 0 when nothing is left, -EAGAIN when some is, -ENOTCONN. */
int peer_flush(struct peer *p);

#endif

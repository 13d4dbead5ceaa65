/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec: peering messages <-> bytes (docs/protocol.md §2-§5, §10).
 *
 * Owns nothing but static tables. Every read goes through common/buf.h; every rule of the
 * spec that a receiver checks is checked here and mapped to the NOTIFICATION the session
 * must send. The encoder runs the decoder over what it produced, so tidal never sends a
 * message it would itself refuse. Must never do I/O, allocate, or trust a length it has
 * not checked.
 */
#include "peering.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- TLV and message tables ---------------------------------------------------------- */

struct tlv_desc {
	uint8_t type;
	uint32_t field;
	uint8_t max;   /* occurrences allowed per message */
	bool optional; /* sent with the OPTIONAL flag */
};

static const struct tlv_desc tlvs[] = {
        {PEER_TLV_REGION, PEER_F_REGION, 1, false},
        {PEER_TLV_INSTANCE, PEER_F_INSTANCE, 1, false},
        {PEER_TLV_RESOURCES, PEER_F_RESOURCES, 1, false},
        {PEER_TLV_GRACEFUL_RESTART, PEER_F_GRACEFUL_RESTART, 1, false},
        {PEER_TLV_LEASE_ID, PEER_F_LEASE_ID, 1, false},
        {PEER_TLV_REQUESTER, PEER_F_REQUESTER, 1, false},
        {PEER_TLV_PROVIDER, PEER_F_PROVIDER, 1, false},
        {PEER_TLV_RESOURCE, PEER_F_RESOURCE, 1, false},
        {PEER_TLV_QUANTITY, PEER_F_QUANTITY, 1, false},
        {PEER_TLV_START, PEER_F_START, 1, false},
        {PEER_TLV_DURATION, PEER_F_DURATION, 1, false},
        {PEER_TLV_PRIORITY, PEER_F_PRIORITY, 1, false},
        {PEER_TLV_MATCH_PREFIX, PEER_F_MATCH_PREFIX, LEASE_MATCH_MAX, false},
        {PEER_TLV_MATCH_DSCP, PEER_F_MATCH_DSCP, LEASE_MATCH_MAX, false},
        {PEER_TLV_PATH, PEER_F_PATH, 1, false},
        {PEER_TLV_HOLD_TIME, PEER_F_HOLD_TIME, 1, false},
        {PEER_TLV_STATE, PEER_F_STATE, 1, false},
        {PEER_TLV_ERROR, PEER_F_ERROR, 1, false},
        {PEER_TLV_APP, PEER_F_APP, 1, true},
        {PEER_TLV_REASON, PEER_F_REASON, 1, true},
        {PEER_TLV_SYNC, PEER_F_SYNC, 1, false},
        {PEER_TLV_CAPACITY_ENTRY, PEER_F_CAPACITY_ENTRY, PEER_CAP_ENTRIES_MAX, false},
};
#define N_TLVS (sizeof(tlvs) / sizeof(tlvs[0]))

static const struct tlv_desc *tlv_find(uint8_t type)
{
	for (size_t i = 0; i < N_TLVS; i++)
		if (tlvs[i].type == type)
			return &tlvs[i];
	return NULL;
}

static int tlv_index(uint32_t field)
{
	for (size_t i = 0; i < N_TLVS; i++)
		if (tlvs[i].field == field)
			return (int)i;
	return -1;
}

#define LEASE_ANY                                                                                  \
	(PEER_F_LEASE_ID | LEASE_F_PARAMS | PEER_F_HOLD_TIME | PEER_F_STATE | PEER_F_ERROR |       \
	 PEER_F_APP | PEER_F_REASON | PEER_F_SYNC)

struct msg_desc {
	const char *name, *label;
	uint16_t min_len, max_len; /* whole message, header included */
	uint32_t allowed, mandatory;
};

static const struct msg_desc msgs[PEER_MSG_TYPE_MAX + 1] = {
        [PEER_MSG_OPEN] = {"OPEN", "open", 12, PEER_MSG_MAX,
                           PEER_F_REGION | PEER_F_INSTANCE | PEER_F_RESOURCES |
                                   PEER_F_GRACEFUL_RESTART,
                           PEER_F_REGION | PEER_F_INSTANCE},
        [PEER_MSG_KEEPALIVE] = {"KEEPALIVE", "keepalive", 4, 4, 0, 0},
        [PEER_MSG_NOTIFICATION] = {"NOTIFICATION", "notification", 6, 6 + PEER_NOTIF_DATA_MAX, 0,
                                   0},
        [PEER_MSG_CAPACITY] = {"CAPACITY", "capacity", 4, PEER_MSG_MAX, PEER_F_CAPACITY_ENTRY, 0},
        [PEER_MSG_LEASE_REQUEST] = {"LEASE_REQUEST", "lease_request", 4, PEER_MSG_MAX,
                                    PEER_F_LEASE_ID | LEASE_F_PARAMS | PEER_F_HOLD_TIME |
                                            PEER_F_APP,
                                    PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER |
                                            PEER_F_RESOURCE | PEER_F_QUANTITY | PEER_F_START |
                                            PEER_F_DURATION},
        [PEER_MSG_LEASE_OFFER] = {"LEASE_OFFER", "lease_offer", 4, PEER_MSG_MAX,
                                  PEER_F_LEASE_ID | PEER_F_QUANTITY | PEER_F_HOLD_TIME |
                                          PEER_F_START | PEER_F_DURATION,
                                  PEER_F_LEASE_ID | PEER_F_QUANTITY | PEER_F_HOLD_TIME},
        [PEER_MSG_LEASE_COMMIT] = {"LEASE_COMMIT", "lease_commit", 4, PEER_MSG_MAX, PEER_F_LEASE_ID,
                                   PEER_F_LEASE_ID},
        [PEER_MSG_LEASE_ACK] = {"LEASE_ACK", "lease_ack", 4, PEER_MSG_MAX,
                                PEER_F_LEASE_ID | PEER_F_STATE, PEER_F_LEASE_ID | PEER_F_STATE},
        [PEER_MSG_LEASE_RELEASE] = {"LEASE_RELEASE", "lease_release", 4, PEER_MSG_MAX,
                                    PEER_F_LEASE_ID | PEER_F_REASON, PEER_F_LEASE_ID},
        [PEER_MSG_LEASE_REVOKE] = {"LEASE_REVOKE", "lease_revoke", 4, PEER_MSG_MAX,
                                   PEER_F_LEASE_ID | PEER_F_ERROR | PEER_F_REASON,
                                   PEER_F_LEASE_ID | PEER_F_ERROR},
        [PEER_MSG_LEASE_STATUS] = {"LEASE_STATUS", "lease_status", 4, PEER_MSG_MAX, LEASE_ANY,
                                   0 /* checked by hand: END_OF_SYNC carries no id */},
};

static const struct msg_desc *msg_find(unsigned type)
{
	if (type < 1 || type > PEER_MSG_TYPE_MAX)
		return NULL;
	return &msgs[type];
}

const char *peer_msg_type_name(unsigned type)
{
	const struct msg_desc *d = msg_find(type);
	return d ? d->name : "UNKNOWN";
}

const char *peer_msg_type_label(unsigned type)
{
	const struct msg_desc *d = msg_find(type);
	return d ? d->label : "unknown";
}

/* ---- errors -------------------------------------------------------------------------- */

static int fail(struct peer_err *e, uint8_t code, uint8_t sub, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(struct peer_err *e, uint8_t code, uint8_t sub, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		e->code = code;
		e->subcode = sub;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static void err_data(struct peer_err *e, const uint8_t *d, size_t n)
{
	if (!e)
		return;
	if (n > sizeof(e->data))
		n = sizeof(e->data);
	memcpy(e->data, d, n);
	e->data_len = (uint8_t)n;
}

/* Message Error data: message type, TLV type, TLV offset. */
static int tlv_fail(struct peer_err *e, uint8_t sub, uint8_t mtype, uint8_t ttype, size_t off,
                    const char *why)
{
	uint8_t d[4] = {mtype, ttype, (uint8_t)(off >> 8), (uint8_t)off};
	err_data(e, d, sizeof(d));
	char buf[64];
	return fail(e, PEER_ERR_MESSAGE, sub, "%s: TLV 0x%02x at offset %zu: %s",
	            peer_msg_type_name(mtype), ttype, off,
	            why ? why : peer_notif_describe(PEER_ERR_MESSAGE, sub, buf, sizeof(buf)));
}

const char *peer_notif_describe(uint8_t code, uint8_t subcode, char *buf, size_t len)
{
	static const char *const codes[] = {NULL,
	                                    "Message Header Error",
	                                    "OPEN Message Error",
	                                    "Message Error",
	                                    "Hold Timer Expired",
	                                    "Finite State Machine Error",
	                                    "Cease"};
	static const char *const hdr[] = {NULL, "Unsupported Version", "Bad Message Length",
	                                  "Bad Message Type"};
	static const char *const open[] = {NULL, "Bad Region Id", "Unacceptable Hold Time",
	                                   "Bad ASN"};
	static const char *const msg[] = {NULL,
	                                  "Malformed TLV",
	                                  "Missing Mandatory TLV",
	                                  "Unrecognized Mandatory TLV",
	                                  "Duplicate TLV",
	                                  "Invalid TLV Value",
	                                  "Too Many TLVs",
	                                  "Malformed Fixed Part"};
	static const char *const fsm[] = {NULL, "Unexpected message in OpenSent",
	                                  "Unexpected message in OpenConfirm",
	                                  "Unexpected message in Established"};
	static const char *const cease[] = {NULL,
	                                    "Administrative Shutdown",
	                                    "Peer De-configured",
	                                    "Administrative Reset",
	                                    "Connection Collision Resolution",
	                                    "Out of Resources",
	                                    "Peer Restarted"};
	const char *const *subs = NULL;
	size_t nsubs = 0;
	switch (code) {
	case PEER_ERR_HEADER:
		subs = hdr, nsubs = 4;
		break;
	case PEER_ERR_OPEN:
		subs = open, nsubs = 4;
		break;
	case PEER_ERR_MESSAGE:
		subs = msg, nsubs = 8;
		break;
	case PEER_ERR_FSM:
		subs = fsm, nsubs = 4;
		break;
	case PEER_ERR_CEASE:
		subs = cease, nsubs = 7;
		break;
	default:
		break;
	}
	const char *c = code >= 1 && code <= 6 ? codes[code] : NULL;
	const char *s = subcode < nsubs ? subs[subcode] : NULL;
	if (!c)
		snprintf(buf, len, "code %u subcode %u", code, subcode);
	else if (code == PEER_ERR_HOLD_TIMER && subcode == 0)
		snprintf(buf, len, "%s", c);
	else if (s)
		snprintf(buf, len, "%s / %s", c, s);
	else
		snprintf(buf, len, "%s / subcode %u", c, subcode);
	return buf;
}

/* ---- value checks shared by decoder and helpers ------------------------------------- */

static bool region_bytes_ok(const uint8_t *p, size_t n)
{
	if (n < 1 || n > PEER_REGION_MAX - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

static bool name_bytes_ok(const uint8_t *p, size_t n)
{
	if (n > PEER_NAME_MAX - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static bool text_bytes_ok(const uint8_t *p, size_t n)
{
	if (n > PEER_REASON_MAX - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

bool peer_region_valid(const char *s)
{
	return s && region_bytes_ok((const uint8_t *)s, strnlen(s, PEER_REGION_MAX));
}

unsigned lease_resource_unit(unsigned res)
{
	switch (res) {
	case LEASE_RES_BANDWIDTH:
		return LEASE_UNIT_BPS;
	case LEASE_RES_VCPU:
		return LEASE_UNIT_COUNT;
	case LEASE_RES_MEMORY:
	case LEASE_RES_STORAGE:
		return LEASE_UNIT_BYTES;
	default:
		return 0;
	}
}

static void copy_str(char *dst, const uint8_t *p, size_t n)
{
	if (n)
		memcpy(dst, p, n);
	dst[n] = '\0';
}

/* ---- framing ------------------------------------------------------------------------- */

int peer_frame_check(const uint8_t *buf, size_t len, size_t *msg_len, struct peer_err *err)
{
	if (len < PEER_HDR_LEN)
		return 0;
	struct tb_reader r;
	tb_reader_init(&r, buf, len);
	uint8_t version = tb_get_u8(&r);
	uint8_t type = tb_get_u8(&r);
	uint16_t mlen = tb_get_u16(&r);
	if (version != PEER_PROTO_VERSION) {
		uint8_t d = PEER_PROTO_VERSION;
		err_data(err, &d, 1);
		return fail(err, PEER_ERR_HEADER, PEER_SUB_HDR_VERSION,
		            "unsupported protocol version %u (this side speaks %u)", version,
		            PEER_PROTO_VERSION);
	}
	if (!msg_find(type)) {
		err_data(err, &type, 1);
		return fail(err, PEER_ERR_HEADER, PEER_SUB_HDR_TYPE, "unknown message type %u",
		            type);
	}
	const struct msg_desc *d = msg_find(type);
	if (mlen < d->min_len || mlen > d->max_len) {
		uint8_t b[2] = {(uint8_t)(mlen >> 8), (uint8_t)mlen};
		err_data(err, b, 2);
		return fail(err, PEER_ERR_HEADER, PEER_SUB_HDR_LENGTH,
		            "%s with length %u (allowed %u..%u)", d->name, mlen, d->min_len,
		            d->max_len);
	}
	*msg_len = mlen;
	return 1;
}

/* ---- TLV values ---------------------------------------------------------------------- */

/* Parse one TLV value (sub holds exactly the value). Returns NULL when fine, or a reason
 * for Invalid TLV Value. `count` is how many of this TLV were seen before. */
static const char *parse_value(struct peer_msg *m, uint8_t type, struct tb_reader *v,
                               unsigned count)
{
	struct lease_msg *l = &m->lease;
	size_t n = tb_reader_left(v);
	const uint8_t *p;

	switch (type) {
	case PEER_TLV_REGION:
		p = tb_get_ptr(v, n);
		if (!region_bytes_ok(p, n))
			return "region id must be 1..63 of A-Z a-z 0-9 -";
		copy_str(m->open.region, p, n);
		return NULL;
	case PEER_TLV_INSTANCE:
		if (n != 8)
			return "INSTANCE is 8 bytes";
		m->open.instance = tb_get_u64(v);
		return m->open.instance ? NULL : "INSTANCE must not be zero";
	case PEER_TLV_RESOURCES:
		if (n != 4)
			return "RESOURCES is 4 bytes";
		m->open.resources = tb_get_u32(v);
		return NULL;
	case PEER_TLV_GRACEFUL_RESTART:
		if (n != 3)
			return "GRACEFUL_RESTART is 3 bytes";
		m->open.restart_time_s = tb_get_u16(v);
		m->open.gr_flags = tb_get_u8(v);
		return m->open.restart_time_s <= 3600 ? NULL : "restart time above 3600 s";
	case PEER_TLV_LEASE_ID:
		if (n != 16)
			return "LEASE_ID is 16 bytes";
		tb_get_bytes(v, l->id.b, 16);
		return lease_id_is_zero(&l->id) ? "LEASE_ID must not be zero" : NULL;
	case PEER_TLV_REQUESTER:
	case PEER_TLV_PROVIDER:
		p = tb_get_ptr(v, n);
		if (!region_bytes_ok(p, n))
			return "region id must be 1..63 of A-Z a-z 0-9 -";
		copy_str(type == PEER_TLV_REQUESTER ? l->requester : l->provider, p, n);
		return NULL;
	case PEER_TLV_RESOURCE:
		if (n < 1)
			return "RESOURCE needs a type byte";
		l->resource = tb_get_u8(v);
		if (!lease_resource_unit(l->resource))
			return "resource type must be 1..4";
		p = tb_get_ptr(v, n - 1);
		if (!name_bytes_ok(p, n - 1))
			return "resource name must be 0..63 of A-Z a-z 0-9 - _ .";
		copy_str(l->resource_name, p, n - 1);
		return NULL;
	case PEER_TLV_QUANTITY:
		if (n != 9)
			return "QUANTITY is 9 bytes";
		l->unit = tb_get_u8(v);
		l->quantity = tb_get_u64(v);
		if (l->unit < LEASE_UNIT_BPS || l->unit > LEASE_UNIT_BYTES)
			return "unit must be 1..3";
		return l->quantity ? NULL : "quantity must be above zero";
	case PEER_TLV_START:
		if (n != 8)
			return "START is 8 bytes";
		l->start_s = (int64_t)tb_get_u64(v);
		return l->start_s >= 0 ? NULL : "START before 1970";
	case PEER_TLV_DURATION:
		if (n != 4)
			return "DURATION is 4 bytes";
		l->duration_s = tb_get_u32(v);
		return l->duration_s ? NULL : "DURATION must be above zero";
	case PEER_TLV_PRIORITY:
		if (n != 2)
			return "PRIORITY is 2 bytes";
		l->setup_prio = tb_get_u8(v);
		l->hold_prio = tb_get_u8(v);
		return l->setup_prio <= 7 && l->hold_prio <= 7 ? NULL : "priorities are 0..7";
	case PEER_TLV_MATCH_PREFIX: {
		struct lease_prefix *px = &l->prefix[count];
		px->dir = tb_get_u8(v);
		px->family = tb_get_u8(v);
		px->len = tb_get_u8(v);
		if (!tb_reader_ok(v))
			return "MATCH_PREFIX needs direction, family and length";
		if (px->dir > 1)
			return "direction must be 0 (destination) or 1 (source)";
		if (px->family != 4 && px->family != 6)
			return "family must be 4 or 6";
		if (px->len > (px->family == 4 ? 32 : 128))
			return "prefix length too long for the family";
		size_t nb = (px->len + 7u) / 8u;
		if (tb_reader_left(v) != nb)
			return "address length does not match the prefix length";
		tb_get_bytes(v, px->addr, nb);
		if (px->len % 8 && (px->addr[nb - 1] & (0xffu >> (px->len % 8))))
			return "host bits set in prefix";
		l->n_prefix = (uint8_t)(count + 1);
		return NULL;
	}
	case PEER_TLV_MATCH_DSCP:
		if (n != 1)
			return "MATCH_DSCP is 1 byte";
		l->dscp[count] = tb_get_u8(v);
		l->n_dscp = (uint8_t)(count + 1);
		return l->dscp[count] <= 63 ? NULL : "DSCP must be 0..63";
	case PEER_TLV_PATH: {
		uint8_t cnt = tb_get_u8(v);
		if (cnt < 1 || cnt > LEASE_PATH_MAX)
			return "PATH holds 1..8 regions";
		for (unsigned i = 0; i < cnt; i++) {
			uint8_t rn = tb_get_u8(v);
			p = tb_get_ptr(v, rn);
			if (!p || !region_bytes_ok(p, rn))
				return "bad region id in PATH";
			copy_str(l->path[i], p, rn);
		}
		l->n_path = cnt;
		return tb_reader_left(v) ? "trailing bytes in PATH" : NULL;
	}
	case PEER_TLV_HOLD_TIME:
		if (n != 4)
			return "HOLD_TIME is 4 bytes";
		l->hold_ms = tb_get_u32(v);
		return l->hold_ms >= LEASE_HOLD_MS_MIN && l->hold_ms <= LEASE_HOLD_MS_MAX
		               ? NULL
		               : "HOLD_TIME must be 1000..3600000 ms";
	case PEER_TLV_STATE:
		if (n != 1)
			return "STATE is 1 byte";
		l->state = tb_get_u8(v);
		return l->state >= 1 && l->state <= LEASE_STATE_MAX ? NULL : "STATE must be 1..9";
	case PEER_TLV_ERROR:
		if (n != 2)
			return "ERROR is 2 bytes";
		l->error = tb_get_u16(v);
		return NULL;
	case PEER_TLV_APP:
		p = tb_get_ptr(v, n);
		if (!name_bytes_ok(p, n))
			return "app name must be 0..63 of A-Z a-z 0-9 - _ .";
		copy_str(l->app, p, n);
		return NULL;
	case PEER_TLV_REASON:
		p = tb_get_ptr(v, n);
		if (!text_bytes_ok(p, n))
			return "REASON must be 0..255 bytes without control characters";
		copy_str(l->reason, p, n);
		return NULL;
	case PEER_TLV_SYNC:
		if (n != 1)
			return "SYNC is 1 byte";
		l->sync = tb_get_u8(v) & (LEASE_SYNC_RESYNC | LEASE_SYNC_END);
		return NULL;
	case PEER_TLV_CAPACITY_ENTRY: {
		struct peer_cap_entry *e = &m->cap.e[count];
		e->resource = tb_get_u8(v);
		e->unit = tb_get_u8(v);
		uint8_t nl = tb_get_u8(v);
		p = tb_get_ptr(v, nl);
		if (!p)
			return "CAPACITY_ENTRY truncated";
		if (!lease_resource_unit(e->resource))
			return "resource type must be 1..4";
		if (e->unit != lease_resource_unit(e->resource))
			return "unit does not fit the resource";
		if (!name_bytes_ok(p, nl))
			return "resource name must be 0..63 of A-Z a-z 0-9 - _ .";
		copy_str(e->name, p, nl);
		e->n_steps = tb_get_u16(v);
		if (!tb_reader_ok(v) || e->n_steps < 1 || e->n_steps > PEER_CAP_STEPS_MAX)
			return "CAPACITY_ENTRY holds 1..64 steps";
		if (tb_reader_left(v) != (size_t)e->n_steps * 16)
			return "CAPACITY_ENTRY length does not match its step count";
		for (unsigned i = 0; i < e->n_steps; i++) {
			e->steps[i].time_s = (int64_t)tb_get_u64(v);
			e->steps[i].amount = tb_get_u64(v);
			if (i && e->steps[i].time_s <= e->steps[i - 1].time_s)
				return "step times must increase strictly";
		}
		m->cap.n = (uint8_t)(count + 1);
		return NULL;
	}
	default:
		return "no such TLV";
	}
}

/* ---- decoder ------------------------------------------------------------------------- */

static int decode_tlvs(struct tb_reader *r, struct peer_msg *m, const struct msg_desc *d,
                       struct peer_err *err)
{
	uint8_t counts[N_TLVS] = {0};
	size_t qty_off = 0;

	while (tb_reader_left(r)) {
		size_t off = r->pos; /* r spans the whole message */
		uint8_t type = tb_get_u8(r);
		uint8_t flags = tb_get_u8(r);
		uint16_t vlen = tb_get_u16(r);
		if (!tb_reader_ok(r))
			return tlv_fail(err, PEER_SUB_MSG_MALFORMED_TLV, m->type, type, off,
			                "TLV header truncated");
		if (vlen > tb_reader_left(r))
			return tlv_fail(err, PEER_SUB_MSG_MALFORMED_TLV, m->type, type, off,
			                "TLV value runs past the end of the message");
		struct tb_reader v;
		tb_get_sub(r, vlen, &v);
		const struct tlv_desc *td = tlv_find(type);
		if (!td || !(d->allowed & td->field)) {
			if (flags & PEER_TLV_F_OPTIONAL)
				continue;
			return tlv_fail(err, PEER_SUB_MSG_UNRECOGNIZED_TLV, m->type, type, off,
			                NULL);
		}
		unsigned idx = (unsigned)(td - tlvs);
		if (counts[idx] >= td->max)
			return tlv_fail(err,
			                td->max == 1 ? PEER_SUB_MSG_DUPLICATE_TLV
			                             : PEER_SUB_MSG_TOO_MANY,
			                m->type, type, off, NULL);
		const char *why = parse_value(m, type, &v, counts[idx]);
		if (!why && !tb_reader_ok(&v))
			why = "value truncated";
		if (!why && tb_reader_left(&v))
			why = "trailing bytes in value";
		if (why)
			return tlv_fail(err, PEER_SUB_MSG_INVALID_VALUE, m->type, type, off, why);
		counts[idx]++;
		m->present |= td->field;
		if (type == PEER_TLV_QUANTITY)
			qty_off = off;
	}

	uint32_t mand = d->mandatory;
	if (m->type == PEER_MSG_LEASE_STATUS) {
		if ((m->present & PEER_F_SYNC) && (m->lease.sync & LEASE_SYNC_END)) {
			if (m->present != PEER_F_SYNC)
				return tlv_fail(err, PEER_SUB_MSG_INVALID_VALUE, m->type,
				                PEER_TLV_SYNC, 0,
				                "END_OF_SYNC status carries other TLVs");
		} else {
			mand = PEER_F_LEASE_ID | PEER_F_STATE;
		}
	}
	uint32_t missing = mand & ~m->present;
	if (missing) {
		int i = tlv_index(missing & -missing);
		return tlv_fail(err, PEER_SUB_MSG_MISSING_TLV, m->type, i >= 0 ? tlvs[i].type : 0,
		                0, NULL);
	}
	if ((m->present & PEER_F_QUANTITY) && (m->present & PEER_F_RESOURCE) &&
	    m->lease.unit != lease_resource_unit(m->lease.resource))
		return tlv_fail(err, PEER_SUB_MSG_INVALID_VALUE, m->type, PEER_TLV_QUANTITY,
		                qty_off, "unit does not fit the resource");
	if (m->type == PEER_MSG_LEASE_ACK && m->lease.state != LEASE_RESERVED &&
	    m->lease.state != LEASE_ACTIVE)
		return tlv_fail(err, PEER_SUB_MSG_INVALID_VALUE, m->type, PEER_TLV_STATE, 0,
		                "LEASE_ACK state must be reserved or active");
	return 0;
}

/* Zero the header fields and the union member a message of this type uses: a CAPACITY
 * member is 17 KiB, a lease member 1.5 KiB, and every message sent or received is cleared. */
static void msg_clear(struct peer_msg *m, unsigned type)
{
	size_t body;
	switch (type) {
	case PEER_MSG_OPEN:
		body = sizeof(m->open);
		break;
	case PEER_MSG_NOTIFICATION:
		body = sizeof(m->notif);
		break;
	case PEER_MSG_CAPACITY:
		body = sizeof(m->cap);
		break;
	case PEER_MSG_KEEPALIVE:
		body = 0;
		break;
	default:
		body = sizeof(m->lease);
		break;
	}
	memset(m, 0, offsetof(struct peer_msg, lease) + body);
}

int peer_msg_decode(const uint8_t *buf, size_t len, struct peer_msg *m, struct peer_err *err)
{
	msg_clear(m, len >= 2 ? buf[1] : PEER_MSG_KEEPALIVE);
	if (err)
		memset(err, 0, sizeof(*err));
	size_t mlen = 0;
	int rc = peer_frame_check(buf, len, &mlen, err);
	if (rc < 0)
		return rc;
	if (rc == 0 || mlen != len) {
		uint16_t l16 = (uint16_t)(len > 0xffff ? 0xffff : len);
		uint8_t b[2] = {(uint8_t)(l16 >> 8), (uint8_t)l16};
		err_data(err, b, 2);
		return fail(err, PEER_ERR_HEADER, PEER_SUB_HDR_LENGTH,
		            "message of %zu bytes where the header says %zu", len, mlen);
	}
	struct tb_reader r;
	tb_reader_init(&r, buf, len);
	tb_skip(&r, 1);
	m->type = tb_get_u8(&r);
	tb_skip(&r, 2);
	const struct msg_desc *d = msg_find(m->type);

	switch (m->type) {
	case PEER_MSG_OPEN: {
		m->open.asn = tb_get_u32(&r);
		m->open.hold_time_s = tb_get_u16(&r);
		tb_skip(&r, 2);
		rc = decode_tlvs(&r, m, d, err);
		if (rc)
			return rc;
		if (m->open.asn == 0) {
			uint8_t b[4] = {0};
			err_data(err, b, 4);
			return fail(err, PEER_ERR_OPEN, PEER_SUB_OPEN_ASN, "OPEN with ASN 0");
		}
		if (m->open.hold_time_s == 1 || m->open.hold_time_s == 2) {
			uint8_t b[2] = {0, (uint8_t)m->open.hold_time_s};
			err_data(err, b, 2);
			return fail(err, PEER_ERR_OPEN, PEER_SUB_OPEN_HOLD_TIME,
			            "OPEN with hold time %u s (must be 0 or at least 3 s)",
			            m->open.hold_time_s);
		}
		return 0;
	}
	case PEER_MSG_KEEPALIVE:
		return 0;
	case PEER_MSG_NOTIFICATION:
		m->notif.code = tb_get_u8(&r);
		m->notif.subcode = tb_get_u8(&r);
		m->notif.data_len = (uint16_t)tb_reader_left(&r);
		tb_get_bytes(&r, m->notif.data, m->notif.data_len);
		return 0;
	default:
		return decode_tlvs(&r, m, d, err);
	}
}

/* ---- encoder ------------------------------------------------------------------------- */

static void put_tlv_hdr(struct tb_writer *w, uint8_t type, size_t vlen)
{
	const struct tlv_desc *td = tlv_find(type);
	tb_put_u8(w, type);
	tb_put_u8(w, td && td->optional ? PEER_TLV_F_OPTIONAL : 0);
	if (vlen > 0xffff) {
		w->err = true;
		return;
	}
	tb_put_u16(w, (uint16_t)vlen);
}

static void put_str_tlv(struct tb_writer *w, uint8_t type, const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	put_tlv_hdr(w, type, n);
	tb_put_bytes(w, s, n);
}

static void encode_lease(const struct peer_msg *m, struct tb_writer *w)
{
	const struct lease_msg *l = &m->lease;
	uint32_t f = m->present;

	if (f & PEER_F_LEASE_ID) {
		put_tlv_hdr(w, PEER_TLV_LEASE_ID, 16);
		tb_put_bytes(w, l->id.b, 16);
	}
	if (f & PEER_F_REQUESTER)
		put_str_tlv(w, PEER_TLV_REQUESTER, l->requester, PEER_REGION_MAX);
	if (f & PEER_F_PROVIDER)
		put_str_tlv(w, PEER_TLV_PROVIDER, l->provider, PEER_REGION_MAX);
	if (f & PEER_F_RESOURCE) {
		size_t n = strnlen(l->resource_name, PEER_NAME_MAX);
		put_tlv_hdr(w, PEER_TLV_RESOURCE, 1 + n);
		tb_put_u8(w, l->resource);
		tb_put_bytes(w, l->resource_name, n);
	}
	if (f & PEER_F_QUANTITY) {
		put_tlv_hdr(w, PEER_TLV_QUANTITY, 9);
		tb_put_u8(w, l->unit);
		tb_put_u64(w, l->quantity);
	}
	if (f & PEER_F_START) {
		put_tlv_hdr(w, PEER_TLV_START, 8);
		tb_put_u64(w, (uint64_t)l->start_s);
	}
	if (f & PEER_F_DURATION) {
		put_tlv_hdr(w, PEER_TLV_DURATION, 4);
		tb_put_u32(w, l->duration_s);
	}
	if (f & PEER_F_PRIORITY) {
		put_tlv_hdr(w, PEER_TLV_PRIORITY, 2);
		tb_put_u8(w, l->setup_prio);
		tb_put_u8(w, l->hold_prio);
	}
	if (f & PEER_F_MATCH_PREFIX) {
		for (unsigned i = 0; i < l->n_prefix && i < LEASE_MATCH_MAX; i++) {
			const struct lease_prefix *px = &l->prefix[i];
			size_t nb = (px->len + 7u) / 8u;
			if (nb > 16)
				nb = 16;
			put_tlv_hdr(w, PEER_TLV_MATCH_PREFIX, 3 + nb);
			tb_put_u8(w, px->dir);
			tb_put_u8(w, px->family);
			tb_put_u8(w, px->len);
			tb_put_bytes(w, px->addr, nb);
		}
	}
	if (f & PEER_F_MATCH_DSCP) {
		for (unsigned i = 0; i < l->n_dscp && i < LEASE_MATCH_MAX; i++) {
			put_tlv_hdr(w, PEER_TLV_MATCH_DSCP, 1);
			tb_put_u8(w, l->dscp[i]);
		}
	}
	if (f & PEER_F_PATH) {
		size_t vlen = 1;
		unsigned n = l->n_path <= LEASE_PATH_MAX ? l->n_path : LEASE_PATH_MAX;
		for (unsigned i = 0; i < n; i++)
			vlen += 1 + strnlen(l->path[i], PEER_REGION_MAX);
		put_tlv_hdr(w, PEER_TLV_PATH, vlen);
		tb_put_u8(w, l->n_path);
		for (unsigned i = 0; i < n; i++) {
			size_t sl = strnlen(l->path[i], PEER_REGION_MAX);
			tb_put_u8(w, (uint8_t)sl);
			tb_put_bytes(w, l->path[i], sl);
		}
	}
	if (f & PEER_F_HOLD_TIME) {
		put_tlv_hdr(w, PEER_TLV_HOLD_TIME, 4);
		tb_put_u32(w, l->hold_ms);
	}
	if (f & PEER_F_STATE) {
		put_tlv_hdr(w, PEER_TLV_STATE, 1);
		tb_put_u8(w, l->state);
	}
	if (f & PEER_F_ERROR) {
		put_tlv_hdr(w, PEER_TLV_ERROR, 2);
		tb_put_u16(w, l->error);
	}
	if (f & PEER_F_APP)
		put_str_tlv(w, PEER_TLV_APP, l->app, PEER_NAME_MAX);
	if (f & PEER_F_REASON)
		put_str_tlv(w, PEER_TLV_REASON, l->reason, PEER_REASON_MAX);
	if (f & PEER_F_SYNC) {
		put_tlv_hdr(w, PEER_TLV_SYNC, 1);
		tb_put_u8(w, l->sync);
	}
}

static void encode_capacity(const struct peer_msg *m, struct tb_writer *w)
{
	if (!(m->present & PEER_F_CAPACITY_ENTRY))
		return;
	for (unsigned i = 0; i < m->cap.n; i++) {
		const struct peer_cap_entry *e = &m->cap.e[i];
		size_t nl = strnlen(e->name, PEER_NAME_MAX);
		unsigned ns = e->n_steps <= PEER_CAP_STEPS_MAX ? e->n_steps : PEER_CAP_STEPS_MAX;
		put_tlv_hdr(w, PEER_TLV_CAPACITY_ENTRY, 5 + nl + 16u * ns);
		tb_put_u8(w, e->resource);
		tb_put_u8(w, e->unit);
		tb_put_u8(w, (uint8_t)nl);
		tb_put_bytes(w, e->name, nl);
		tb_put_u16(w, e->n_steps);
		for (unsigned s = 0; s < ns; s++) {
			tb_put_u64(w, (uint64_t)e->steps[s].time_s);
			tb_put_u64(w, e->steps[s].amount);
		}
	}
}

int peer_msg_encode(const struct peer_msg *m, struct tb_writer *w)
{
	static _Thread_local struct peer_msg check;
	const struct msg_desc *d = msg_find(m->type);
	size_t start = w->len;
	if (!d || w->err)
		return -EINVAL;

	/* Counts the encoder cannot express; everything else is checked by decoding. */
	if (m->present & ~d->allowed)
		return -EINVAL;
	if (m->type == PEER_MSG_CAPACITY && (m->present & PEER_F_CAPACITY_ENTRY) &&
	    (!m->cap.n || m->cap.n > PEER_CAP_ENTRIES_MAX))
		return -EINVAL;
	if (m->type == PEER_MSG_CAPACITY)
		for (unsigned i = 0; i < m->cap.n && i < PEER_CAP_ENTRIES_MAX; i++)
			if (m->cap.e[i].n_steps > PEER_CAP_STEPS_MAX)
				return -EINVAL;
	if (m->type != PEER_MSG_CAPACITY && m->type != PEER_MSG_OPEN &&
	    m->type != PEER_MSG_NOTIFICATION && m->type != PEER_MSG_KEEPALIVE) {
		const struct lease_msg *l = &m->lease;
		if ((m->present & PEER_F_MATCH_PREFIX) &&
		    (!l->n_prefix || l->n_prefix > LEASE_MATCH_MAX))
			return -EINVAL;
		if ((m->present & PEER_F_MATCH_DSCP) && (!l->n_dscp || l->n_dscp > LEASE_MATCH_MAX))
			return -EINVAL;
		if ((m->present & PEER_F_PATH) && l->n_path > LEASE_PATH_MAX)
			return -EINVAL;
		for (unsigned i = 0; (m->present & PEER_F_MATCH_PREFIX) && i < l->n_prefix; i++) {
			const struct lease_prefix *px = &l->prefix[i];
			if (px->len > 128)
				return -EINVAL;
			/* Bytes past the prefix are not sent: refuse them rather than drop them. */
			for (unsigned b = (px->len + 7u) / 8u; b < sizeof(px->addr); b++)
				if (px->addr[b])
					return -EINVAL;
		}
	}

	tb_put_u8(w, PEER_PROTO_VERSION);
	tb_put_u8(w, m->type);
	size_t len_off = tb_reserve(w, 2);

	switch (m->type) {
	case PEER_MSG_OPEN:
		tb_put_u32(w, m->open.asn);
		tb_put_u16(w, m->open.hold_time_s);
		tb_put_u16(w, 0);
		if (m->present & PEER_F_REGION)
			put_str_tlv(w, PEER_TLV_REGION, m->open.region, PEER_REGION_MAX);
		if (m->present & PEER_F_INSTANCE) {
			put_tlv_hdr(w, PEER_TLV_INSTANCE, 8);
			tb_put_u64(w, m->open.instance);
		}
		if (m->present & PEER_F_RESOURCES) {
			put_tlv_hdr(w, PEER_TLV_RESOURCES, 4);
			tb_put_u32(w, m->open.resources);
		}
		if (m->present & PEER_F_GRACEFUL_RESTART) {
			put_tlv_hdr(w, PEER_TLV_GRACEFUL_RESTART, 3);
			tb_put_u16(w, m->open.restart_time_s);
			tb_put_u8(w, m->open.gr_flags);
		}
		break;
	case PEER_MSG_KEEPALIVE:
		break;
	case PEER_MSG_NOTIFICATION:
		if (m->notif.data_len > PEER_NOTIF_DATA_MAX)
			goto invalid;
		tb_put_u8(w, m->notif.code);
		tb_put_u8(w, m->notif.subcode);
		tb_put_bytes(w, m->notif.data, m->notif.data_len);
		break;
	case PEER_MSG_CAPACITY:
		encode_capacity(m, w);
		break;
	default:
		encode_lease(m, w);
		break;
	}
	if (!tb_writer_ok(w)) {
		/* Only size can fail here: the writer's limit, or a value past 64 KiB. */
		w->err = false;
		w->len = start;
		return -EMSGSIZE;
	}
	size_t mlen = w->len - start;
	if (mlen > PEER_MSG_MAX) {
		w->len = start;
		return -EMSGSIZE;
	}
	tb_patch_u16(w, len_off, (uint16_t)mlen);

	/* Never send what a receiver (this one included) would refuse. */
	struct peer_err err;
	if (peer_msg_decode(w->data + start, mlen, &check, &err) != 0 ||
	    check.present != m->present)
		goto invalid;
	return 0;
invalid:
	w->err = false;
	w->len = start;
	return -EINVAL;
}

void peer_msg_init(struct peer_msg *m, enum peer_msg_type type)
{
	msg_clear(m, type);
	m->type = (uint8_t)type;
}

void peer_msg_notification(struct peer_msg *m, uint8_t code, uint8_t subcode, const void *data,
                           size_t data_len)
{
	peer_msg_init(m, PEER_MSG_NOTIFICATION);
	m->notif.code = code;
	m->notif.subcode = subcode;
	if (data_len > PEER_NOTIF_DATA_MAX)
		data_len = PEER_NOTIF_DATA_MAX;
	if (data && data_len)
		memcpy(m->notif.data, data, data_len);
	m->notif.data_len = (uint16_t)data_len;
}

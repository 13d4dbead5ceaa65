/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire tests of the peering codec: tables of good and bad byte vectors (docs/protocol.md).
 *
 * Good vectors must decode, carry the fields checked below and (unless they contain skipped
 * TLVs or non-canonical flags) encode back to the same bytes. Bad vectors must be refused
 * with exactly the NOTIFICATION code/subcode the spec assigns.
 *
 * Vector notation: hex bytes separated by spaces; `LEN` is replaced by the 2-byte total
 * length; `ID` by a whole LEASE_ID TLV (id 00112233-4455-6677-8899-aabbccddeeff); `'abc`
 * by the ASCII bytes of abc.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peering.h"

static size_t parse_vec(const char *spec, uint8_t *out, size_t cap)
{
	static const uint8_t id_tlv[20] = {0x10, 0,    0,    16,   0x00, 0x11, 0x22,
	                                   0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
	                                   0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	size_t n = 0, len_at = SIZE_MAX;
	char *copy = strdup(spec), *save = NULL;
	for (char *t = strtok_r(copy, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		if (strcmp(t, "LEN") == 0) {
			len_at = n;
			n += 2;
		} else if (strcmp(t, "ID") == 0) {
			memcpy(out + n, id_tlv, sizeof(id_tlv));
			n += sizeof(id_tlv);
		} else if (t[0] == '\'') {
			size_t l = strlen(t + 1);
			memcpy(out + n, t + 1, l);
			n += l;
		} else {
			size_t l = strlen(t);
			assert_true(l % 2 == 0);
			for (size_t i = 0; i < l; i += 2) {
				unsigned v;
				assert_int_equal(sscanf(t + i, "%2x", &v), 1);
				out[n++] = (uint8_t)v;
			}
		}
		assert_true(n < cap);
	}
	free(copy);
	if (len_at != SIZE_MAX) {
		out[len_at] = (uint8_t)(n >> 8);
		out[len_at + 1] = (uint8_t)n;
	}
	return n;
}

/* ---- good vectors -------------------------------------------------------------------- */

struct good {
	const char *name;
	const char *hex;
	uint8_t type;
	uint32_t present;
	bool roundtrip;
};

#define REQ_BASE                                                                                   \
	"01 05 LEN ID 11 00 00 03 'fra 12 00 00 03 'ams 13 00 00 01 01 "                           \
	"14 00 00 09 01 0000000077359400 15 00 00 08 000000006a27b4c0 16 00 00 04 00005460 "

static const struct good goods[] = {
        {"keepalive", "01 02 00 04", PEER_MSG_KEEPALIVE, 0, true},
        {"open (protocol.md §11)",
         "01 01 00 2e 0000fde9 005a 0000 01 00 00 03 'fra 02 00 00 08 0102030405060708 "
         "03 00 00 04 00000006 04 00 00 03 0078 00",
         PEER_MSG_OPEN,
         PEER_F_REGION | PEER_F_INSTANCE | PEER_F_RESOURCES | PEER_F_GRACEFUL_RESTART, true},
        {"open minimal, hold 0",
         "01 01 LEN 00000001 0000 0000 01 00 00 01 'a 02 00 00 08 "
         "0000000000000001",
         PEER_MSG_OPEN, PEER_F_REGION | PEER_F_INSTANCE, true},
        {"notification hold timer", "01 03 00 06 04 00", PEER_MSG_NOTIFICATION, 0, true},
        {"notification cease with text", "01 03 LEN 06 01 'bye", PEER_MSG_NOTIFICATION, 0, true},
        {"commit (protocol.md §11)", "01 07 00 18 10 00 00 10 00112233445566778899aabbccddeeff",
         PEER_MSG_LEASE_COMMIT, PEER_F_LEASE_ID, true},
        {"end of sync (protocol.md §11)", "01 0b 00 09 20 00 00 01 02", PEER_MSG_LEASE_STATUS,
         PEER_F_SYNC, true},
        {"request, mandatory only", REQ_BASE, PEER_MSG_LEASE_REQUEST,
         PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE | PEER_F_QUANTITY |
                 PEER_F_START | PEER_F_DURATION,
         true},
        {"request, everything",
         REQ_BASE
         "17 00 00 02 03 03 18 00 00 06 00 04 18 c63364 18 00 00 04 01 04 08 0a "
         "19 00 00 01 22 19 00 00 01 2e 1a 00 00 09 02 03 'ams 03 'lon 1b 00 00 04 00007530 "
         "1e 80 00 05 'video",
         PEER_MSG_LEASE_REQUEST,
         PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE | PEER_F_QUANTITY |
                 PEER_F_START | PEER_F_DURATION | PEER_F_PRIORITY | PEER_F_MATCH_PREFIX |
                 PEER_F_MATCH_DSCP | PEER_F_PATH | PEER_F_HOLD_TIME | PEER_F_APP,
         true},
        {"request, ipv6 /0 and /128 prefixes",
         REQ_BASE "18 00 00 03 00 06 00 18 00 00 13 01 06 80 20010db8000000000000000000000001",
         PEER_MSG_LEASE_REQUEST,
         PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE | PEER_F_QUANTITY |
                 PEER_F_START | PEER_F_DURATION | PEER_F_MATCH_PREFIX,
         true},
        {"request for a compute pool",
         "01 05 LEN ID 11 00 00 03 'fra 12 00 00 03 'ams 13 00 00 08 02 'compute "
         "14 00 00 09 02 0000000000000010 15 00 00 08 000000006a27b4c0 16 00 00 04 00000e10",
         PEER_MSG_LEASE_REQUEST,
         PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE | PEER_F_QUANTITY |
                 PEER_F_START | PEER_F_DURATION,
         true},
        {"offer", "01 06 LEN ID 14 00 00 09 01 0000000077359400 1b 00 00 04 00007530",
         PEER_MSG_LEASE_OFFER, PEER_F_LEASE_ID | PEER_F_QUANTITY | PEER_F_HOLD_TIME, true},
        {"ack active", "01 08 LEN ID 1c 00 00 01 05", PEER_MSG_LEASE_ACK,
         PEER_F_LEASE_ID | PEER_F_STATE, true},
        {"release with reason", "01 09 LEN ID 1f 80 00 04 'done", PEER_MSG_LEASE_RELEASE,
         PEER_F_LEASE_ID | PEER_F_REASON, true},
        {"revoke preempted", "01 0a LEN ID 1d 00 00 02 0007", PEER_MSG_LEASE_REVOKE,
         PEER_F_LEASE_ID | PEER_F_ERROR, true},
        {"status failed", "01 0b LEN ID 1c 00 00 01 08 1d 00 00 02 0001", PEER_MSG_LEASE_STATUS,
         PEER_F_LEASE_ID | PEER_F_STATE | PEER_F_ERROR, true},
        {"status resync with parameters",
         "01 0b LEN ID 11 00 00 03 'fra 12 00 00 03 'ams 13 00 00 01 01 "
         "14 00 00 09 01 0000000077359400 15 00 00 08 000000006a27b4c0 16 00 00 04 00005460 "
         "1c 00 00 01 04 20 00 00 01 01",
         PEER_MSG_LEASE_STATUS,
         PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE | PEER_F_QUANTITY |
                 PEER_F_START | PEER_F_DURATION | PEER_F_STATE | PEER_F_SYNC,
         true},
        {"capacity, empty", "01 04 00 04", PEER_MSG_CAPACITY, 0, true},
        {"capacity, two entries",
         "01 04 LEN 30 00 00 25 01 01 00 0002 000000006a27b4c0 00000001dcd65000 "
         "000000006a283500 0000000000000000 "
         "30 00 00 1c 02 02 07 'compute 0001 000000006a27b4c0 0000000000000080",
         PEER_MSG_CAPACITY, PEER_F_CAPACITY_ENTRY, true},
        {"unknown optional TLV skipped", "01 07 LEN ID 7f 80 00 03 010203", PEER_MSG_LEASE_COMMIT,
         PEER_F_LEASE_ID, false},
        {"known TLV not listed for the message, optional: skipped", "01 07 LEN 1c 80 00 01 04 ID",
         PEER_MSG_LEASE_COMMIT, PEER_F_LEASE_ID, false},
        {"reserved flag bits ignored", "01 07 LEN 10 3f 00 10 00112233445566778899aabbccddeeff",
         PEER_MSG_LEASE_COMMIT, PEER_F_LEASE_ID, false},
        {"TLVs out of order", "01 08 LEN 1c 00 00 01 04 ID", PEER_MSG_LEASE_ACK,
         PEER_F_LEASE_ID | PEER_F_STATE, false},
};

static void test_good_vectors(void **state)
{
	(void)state;
	static struct peer_msg m;
	static uint8_t buf[4096];
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		size_t n = parse_vec(g->hex, buf, sizeof(buf));
		struct peer_err err;
		size_t mlen = 0;
		int rc = peer_frame_check(buf, n, &mlen, &err);
		if (rc != 1 || mlen != n)
			fail_msg("%s: frame check %d, length %zu of %zu", g->name, rc, mlen, n);
		rc = peer_msg_decode(buf, n, &m, &err);
		if (rc != 0)
			fail_msg("%s: refused: %s", g->name, err.msg);
		if (m.type != g->type || m.present != g->present)
			fail_msg("%s: type %u present 0x%x, expected %u 0x%x", g->name, m.type,
			         m.present, g->type, g->present);
		if (!g->roundtrip)
			continue;
		struct tb_writer w;
		tb_writer_init(&w, 0);
		rc = peer_msg_encode(&m, &w);
		if (rc != 0)
			fail_msg("%s: re-encode failed: %d", g->name, rc);
		if (w.len != n || memcmp(w.data, buf, n) != 0)
			fail_msg("%s: re-encoding differs (%zu vs %zu bytes)", g->name, w.len, n);
		tb_writer_free(&w);
	}
}

static void test_good_fields(void **state)
{
	(void)state;
	static struct peer_msg m;
	static uint8_t buf[4096];
	struct peer_err err;

	size_t n = parse_vec(goods[1].hex, buf, sizeof(buf));
	assert_int_equal(peer_msg_decode(buf, n, &m, &err), 0);
	assert_int_equal(m.open.asn, 65001);
	assert_int_equal(m.open.hold_time_s, 90);
	assert_string_equal(m.open.region, "fra");
	assert_true(m.open.instance == 0x0102030405060708ull);
	assert_int_equal(m.open.resources, 6);
	assert_int_equal(m.open.restart_time_s, 120);

	n = parse_vec(goods[8].hex, buf, sizeof(buf));
	assert_int_equal(peer_msg_decode(buf, n, &m, &err), 0);
	const struct lease_msg *l = &m.lease;
	char id[LEASE_ID_STR];
	assert_string_equal(lease_id_fmt(&l->id, id), "00112233445566778899aabbccddeeff");
	assert_string_equal(l->requester, "fra");
	assert_string_equal(l->provider, "ams");
	assert_int_equal(l->resource, LEASE_RES_BANDWIDTH);
	assert_string_equal(l->resource_name, "");
	assert_int_equal(l->unit, LEASE_UNIT_BPS);
	assert_true(l->quantity == 2000000000ull);
	assert_true(l->start_s == 1780987072);
	assert_int_equal(l->duration_s, 21600);
	assert_int_equal(l->setup_prio, 3);
	assert_int_equal(l->n_prefix, 2);
	assert_int_equal(l->prefix[0].family, 4);
	assert_int_equal(l->prefix[0].len, 24);
	assert_int_equal(l->prefix[0].addr[0], 198);
	assert_int_equal(l->prefix[1].dir, 1);
	assert_int_equal(l->prefix[1].len, 8);
	assert_int_equal(l->n_dscp, 2);
	assert_int_equal(l->dscp[0], 34);
	assert_int_equal(l->n_path, 2);
	assert_string_equal(l->path[1], "lon");
	assert_int_equal(l->hold_ms, 30000);
	assert_string_equal(l->app, "video");

	n = parse_vec(goods[18].hex, buf, sizeof(buf));
	assert_int_equal(peer_msg_decode(buf, n, &m, &err), 0);
	assert_int_equal(m.cap.n, 2);
	assert_int_equal(m.cap.e[0].n_steps, 2);
	assert_true(m.cap.e[0].steps[0].amount == 8000000000ull);
	assert_string_equal(m.cap.e[1].name, "compute");
	assert_true(m.cap.e[1].steps[0].amount == 128);
}

/* ---- bad vectors --------------------------------------------------------------------- */

struct bad {
	const char *name;
	const char *hex;
	uint8_t code, subcode;
	uint8_t tlv; /* for code 3: the TLV type named in the data */
};

static const struct bad bads[] = {
        {"truncated header", "01 02 00", 1, 2, 0},
        {"version 2", "02 02 00 04", 1, 1, 0},
        {"version 0", "00 02 00 04", 1, 1, 0},
        {"type 0", "01 00 00 04", 1, 3, 0},
        {"type 12", "01 0c 00 04", 1, 3, 0},
        {"type 255", "01 ff 00 04", 1, 3, 0},
        {"length below header", "01 02 00 03", 1, 2, 0},
        {"length 0", "01 07 00 00", 1, 2, 0},
        {"keepalive with body", "01 02 00 05 00", 1, 2, 0},
        {"length says more than there is", "01 07 00 30 ID", 1, 2, 0},
        {"length says less than there is", "01 02 00 04 00", 1, 2, 0},
        {"notification too short", "01 03 00 05 04", 1, 2, 0},
        {"open too short", "01 01 00 0b 0000fde9 005a 00", 1, 2, 0},
        {"open without region", "01 01 LEN 0000fde9 005a 0000 02 00 00 08 0102030405060708", 3, 2,
         0x01},
        {"open without instance", "01 01 LEN 0000fde9 005a 0000 01 00 00 03 'fra", 3, 2, 0x02},
        {"open hold time 2",
         "01 01 LEN 0000fde9 0002 0000 01 00 00 03 'fra 02 00 00 08 0102030405060708", 2, 2, 0},
        {"open ASN 0", "01 01 LEN 00000000 005a 0000 01 00 00 03 'fra 02 00 00 08 0102030405060708",
         2, 3, 0},
        {"open region with a dot",
         "01 01 LEN 0000fde9 005a 0000 01 00 00 04 'fr.a 02 00 00 08 0102030405060708", 3, 5, 0x01},
        {"open region empty",
         "01 01 LEN 0000fde9 005a 0000 01 00 00 00 02 00 00 08 0102030405060708", 3, 5, 0x01},
        {"open instance zero",
         "01 01 LEN 0000fde9 005a 0000 01 00 00 03 'fra 02 00 00 08 0000000000000000", 3, 5, 0x02},
        {"open restart time too long",
         "01 01 LEN 0000fde9 005a 0000 01 00 00 03 'fra 02 00 00 08 0102030405060708 "
         "04 00 00 03 0e11 00",
         3, 5, 0x04},
        {"TLV header truncated", "01 07 LEN ID 10 00 00", 3, 1, 0x10},
        {"TLV value past the end", "01 07 LEN 10 00 00 11 00112233445566778899aabbccddeeff", 3, 1,
         0x10},
        {"commit without lease id", "01 07 00 04", 3, 2, 0x10},
        {"commit with zero id", "01 07 LEN 10 00 00 10 00000000000000000000000000000000", 3, 5,
         0x10},
        {"commit with short id", "01 07 LEN 10 00 00 0f 00112233445566778899aabbccddee", 3, 5,
         0x10},
        {"commit with two ids", "01 07 LEN ID ID", 3, 4, 0x10},
        {"unknown mandatory TLV", "01 07 LEN ID 7f 00 00 00", 3, 3, 0x7f},
        {"known TLV not listed for the message, mandatory", "01 07 LEN ID 1c 00 00 01 04", 3, 3,
         0x1c},
        {"OPEN TLV in a lease message", "01 07 LEN ID 01 00 00 03 'fra", 3, 3, 0x01},
        {"request without start",
         "01 05 LEN ID 11 00 00 03 'fra 12 00 00 03 'ams 13 00 00 01 01 "
         "14 00 00 09 01 0000000077359400 16 00 00 04 00005460",
         3, 2, 0x15},
        {"request unit does not fit resource",
         "01 05 LEN ID 11 00 00 03 'fra 12 00 00 03 'ams 13 00 00 01 01 "
         "14 00 00 09 03 0000000077359400 15 00 00 08 000000006a27b4c0 16 00 00 04 00005460",
         3, 5, 0x14},
        {"request quantity zero",
         "01 05 LEN ID 11 00 00 03 'fra 12 00 00 03 'ams 13 00 00 01 01 "
         "14 00 00 09 01 0000000000000000 15 00 00 08 000000006a27b4c0 16 00 00 04 00005460",
         3, 5, 0x14},
        {"request with two durations", REQ_BASE "16 00 00 04 00000001", 3, 4, 0x16},
        {"request duration zero", "01 05 LEN ID 16 00 00 04 00000000", 3, 5, 0x16},
        {"request resource type 5", "01 05 LEN ID 13 00 00 01 05", 3, 5, 0x13},
        {"request resource name with a space", "01 05 LEN ID 13 00 00 03 02 61 20", 3, 5, 0x13},
        {"request start before 1970", "01 05 LEN ID 15 00 00 08 ffffffffffffffff", 3, 5, 0x15},
        {"priority 8", REQ_BASE "17 00 00 02 08 04", 3, 5, 0x17},
        {"prefix host bits set", REQ_BASE "18 00 00 06 00 04 17 c63365", 3, 5, 0x18},
        {"prefix host bits set in last partial byte", REQ_BASE "18 00 00 04 00 04 07 0b", 3, 5,
         0x18},
        {"prefix address too long", REQ_BASE "18 00 00 07 00 04 18 c6336400", 3, 5, 0x18},
        {"prefix family 5", REQ_BASE "18 00 00 03 00 05 00", 3, 5, 0x18},
        {"prefix v4 length 33", REQ_BASE "18 00 00 08 00 04 21 0000000000", 3, 5, 0x18},
        {"prefix direction 2", REQ_BASE "18 00 00 03 02 04 00", 3, 5, 0x18},
        {"prefix truncated", REQ_BASE "18 00 00 02 00 04", 3, 5, 0x18},
        {"dscp 64", REQ_BASE "19 00 00 01 40", 3, 5, 0x19},
        {"17 dscp values",
         REQ_BASE "19 00 00 01 00 19 00 00 01 01 19 00 00 01 02 19 00 00 01 03 "
                  "19 00 00 01 04 19 00 00 01 05 19 00 00 01 06 19 00 00 01 07 "
                  "19 00 00 01 08 19 00 00 01 09 19 00 00 01 0a 19 00 00 01 0b "
                  "19 00 00 01 0c 19 00 00 01 0d 19 00 00 01 0e 19 00 00 01 0f 19 00 00 01 10",
         3, 6, 0x19},
        {"path with trailing byte", REQ_BASE "1a 00 00 06 01 03 'ams 00", 3, 5, 0x1a},
        {"path count 0", REQ_BASE "1a 00 00 01 00", 3, 5, 0x1a},
        {"path region overruns", REQ_BASE "1a 00 00 04 01 05 'ab", 3, 5, 0x1a},
        {"hold time 999 ms", REQ_BASE "1b 00 00 04 000003e7", 3, 5, 0x1b},
        {"app name with a slash", REQ_BASE "1e 80 00 03 'a/b", 3, 5, 0x1e},
        {"ack with state held", "01 08 LEN ID 1c 00 00 01 02", 3, 5, 0x1c},
        {"status state 10", "01 0b LEN ID 1c 00 00 01 0a", 3, 5, 0x1c},
        {"status without state", "01 0b LEN ID", 3, 2, 0x1c},
        {"status empty", "01 0b 00 04", 3, 2, 0x10},
        {"end of sync with a lease id", "01 0b LEN ID 20 00 00 01 02", 3, 5, 0x20},
        {"reason with a newline", "01 09 LEN ID 1f 80 00 02 41 0a", 3, 5, 0x1f},
        {"revoke without error", "01 0a LEN ID", 3, 2, 0x1d},
        {"capacity steps not increasing",
         "01 04 LEN 30 00 00 25 01 01 00 0002 000000006a27b4c0 0000000000000001 "
         "000000006a27b4c0 0000000000000000",
         3, 5, 0x30},
        {"capacity unit does not fit",
         "01 04 LEN 30 00 00 15 01 03 00 0001 000000006a27b4c0 0000000000000001", 3, 5, 0x30},
        {"capacity zero steps", "01 04 LEN 30 00 00 05 01 01 00 0000", 3, 5, 0x30},
        {"capacity step count larger than value",
         "01 04 LEN 30 00 00 15 01 01 00 0002 000000006a27b4c0 0000000000000001", 3, 5, 0x30},
};

static void test_bad_vectors(void **state)
{
	(void)state;
	static struct peer_msg m;
	static uint8_t buf[4096];
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		size_t n = parse_vec(b->hex, buf, sizeof(buf));
		struct peer_err err;
		int rc = peer_msg_decode(buf, n, &m, &err);
		if (rc != -EBADMSG)
			fail_msg("%s: accepted (rc %d)", b->name, rc);
		if (err.code != b->code || err.subcode != b->subcode)
			fail_msg("%s: NOTIFICATION %u/%u (%s), expected %u/%u", b->name, err.code,
			         err.subcode, err.msg, b->code, b->subcode);
		if (b->code == PEER_ERR_MESSAGE) {
			if (err.data_len != 4 || err.data[0] != buf[1] || err.data[1] != b->tlv)
				fail_msg("%s: data names message %u TLV 0x%02x, expected 0x%02x",
				         b->name, err.data[0], err.data[1], b->tlv);
		}
		if (strlen(err.msg) == 0)
			fail_msg("%s: no log message", b->name);
		/* Every refusal must be encodable as the NOTIFICATION to send. */
		struct peer_msg *n_msg = malloc(sizeof(*n_msg));
		peer_msg_notification(n_msg, err.code, err.subcode, err.data, err.data_len);
		struct tb_writer w;
		tb_writer_init(&w, 0);
		assert_int_equal(peer_msg_encode(n_msg, &w), 0);
		tb_writer_free(&w);
		free(n_msg);
	}
}

static void test_header_data(void **state)
{
	(void)state;
	struct peer_err err;
	size_t len;
	uint8_t v2[] = {2, 2, 0, 4};
	assert_int_equal(peer_frame_check(v2, 4, &len, &err), -EBADMSG);
	assert_int_equal(err.data_len, 1);
	assert_int_equal(err.data[0], 1);
	uint8_t bl[] = {1, 2, 0, 9};
	assert_int_equal(peer_frame_check(bl, 4, &len, &err), -EBADMSG);
	assert_int_equal(err.data_len, 2);
	assert_int_equal(err.data[1], 9);
	uint8_t ok[] = {1, 7, 0, 24};
	assert_int_equal(peer_frame_check(ok, 3, &len, &err), 0);
	assert_int_equal(peer_frame_check(ok, 4, &len, &err), 1);
	assert_int_equal(len, 24);
}

/* ---- encoder ------------------------------------------------------------------------- */

static void fill_request(struct peer_msg *m)
{
	peer_msg_init(m, PEER_MSG_LEASE_REQUEST);
	struct lease_msg *l = &m->lease;
	lease_id_random(&l->id);
	strcpy(l->requester, "fra");
	strcpy(l->provider, "ams");
	l->resource = LEASE_RES_BANDWIDTH;
	l->unit = LEASE_UNIT_BPS;
	l->quantity = 2000000000;
	l->start_s = 1780987072;
	l->duration_s = 3600;
	m->present = PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE |
	             PEER_F_QUANTITY | PEER_F_START | PEER_F_DURATION;
}

static void test_encoder_refuses_invalid(void **state)
{
	(void)state;
	struct peer_msg *m = malloc(sizeof(*m));
	struct tb_writer w;
	tb_writer_init(&w, 0);

	fill_request(m);
	assert_int_equal(peer_msg_encode(m, &w), 0);
	size_t good_len = w.len;

	fill_request(m);
	m->present &= ~PEER_F_START; /* missing mandatory */
	assert_int_equal(peer_msg_encode(m, &w), -EINVAL);
	fill_request(m);
	m->lease.unit = LEASE_UNIT_BYTES; /* unit mismatch */
	assert_int_equal(peer_msg_encode(m, &w), -EINVAL);
	fill_request(m);
	strcpy(m->lease.requester, "fr a");
	assert_int_equal(peer_msg_encode(m, &w), -EINVAL);
	fill_request(m);
	m->present |= PEER_F_STATE; /* not allowed in REQUEST */
	assert_int_equal(peer_msg_encode(m, &w), -EINVAL);
	fill_request(m);
	m->present |= PEER_F_MATCH_PREFIX; /* present but empty */
	assert_int_equal(peer_msg_encode(m, &w), -EINVAL);
	fill_request(m);
	m->present |= PEER_F_MATCH_PREFIX;
	m->lease.n_prefix = 1;
	m->lease.prefix[0] = (struct lease_prefix){0, 4, 24, {10, 0, 0, 1}}; /* host bits */
	assert_int_equal(peer_msg_encode(m, &w), -EINVAL);
	/* Nothing partial was left behind. */
	assert_int_equal(w.len, good_len);

	/* A writer limit gives -EMSGSIZE and leaves the writer usable. */
	struct tb_writer small;
	uint8_t tiny[16];
	tb_writer_init_fixed(&small, tiny, sizeof(tiny));
	fill_request(m);
	assert_int_equal(peer_msg_encode(m, &small), -EMSGSIZE);
	assert_int_equal(small.len, 0);
	peer_msg_init(m, PEER_MSG_KEEPALIVE);
	assert_int_equal(peer_msg_encode(m, &small), 0);
	assert_int_equal(small.len, 4);

	/* A capacity advert too big for one message. */
	peer_msg_init(m, PEER_MSG_CAPACITY);
	m->present = PEER_F_CAPACITY_ENTRY;
	m->cap.n = PEER_CAP_ENTRIES_MAX;
	for (unsigned i = 0; i < PEER_CAP_ENTRIES_MAX; i++) {
		m->cap.e[i].resource = LEASE_RES_VCPU;
		m->cap.e[i].unit = LEASE_UNIT_COUNT;
		m->cap.e[i].n_steps = PEER_CAP_STEPS_MAX;
		for (unsigned s = 0; s < PEER_CAP_STEPS_MAX; s++)
			m->cap.e[i].steps[s] = (struct peer_cap_step){1000 + s, s};
	}
	tb_writer_reset(&w);
	assert_int_equal(peer_msg_encode(m, &w), 0); /* 16 x 1029 bytes fits */
	assert_true(w.len < PEER_MSG_MAX);

	tb_writer_free(&w);
	free(m);
}

static void test_stream_framing(void **state)
{
	(void)state;
	/* Two messages back to back, fed byte by byte as a stream reader would see them. */
	uint8_t buf[64];
	size_t n = parse_vec("01 02 00 04 01 07 00 18 10 00 00 10 "
	                     "00112233445566778899aabbccddeeff",
	                     buf, sizeof(buf));
	size_t pos = 0, got = 0;
	for (size_t avail = 0; avail <= n; avail++) {
		size_t mlen;
		struct peer_err err;
		int rc = peer_frame_check(buf + pos, avail - pos, &mlen, &err);
		assert_true(rc >= 0);
		if (rc == 1 && avail - pos >= mlen) {
			static struct peer_msg m;
			assert_int_equal(peer_msg_decode(buf + pos, mlen, &m, &err), 0);
			pos += mlen;
			got++;
		}
	}
	assert_int_equal(got, 2);
	assert_int_equal(pos, n);
}

/* ---- lease helpers ------------------------------------------------------------------- */

static void test_lease_names(void **state)
{
	(void)state;
	for (unsigned s = 1; s <= LEASE_STATE_MAX; s++)
		assert_int_equal(lease_state_parse(lease_state_name(s)), (int)s);
	assert_int_equal(lease_state_parse("bogus"), -EINVAL);
	assert_string_equal(lease_state_name(LEASE_COMMITTING), "committing");
	assert_true(lease_state_terminal(LEASE_REVOKED));
	assert_false(lease_state_terminal(LEASE_ACTIVE));
	assert_true(lease_state_booked(LEASE_HELD));
	assert_false(lease_state_booked(LEASE_CHECKING));
	assert_string_equal(lease_error_name(LEASE_ERR_HOLD_TIMEOUT), "hold-timeout");
	assert_string_equal(lease_error_name(999), "unknown");
	assert_int_equal(lease_resource_parse("Bandwidth"), LEASE_RES_BANDWIDTH);
	assert_int_equal(lease_resource_unit(LEASE_RES_STORAGE), LEASE_UNIT_BYTES);
	assert_int_equal(lease_resource_unit(9), 0);
	char buf[96];
	assert_string_equal(peer_notif_describe(3, 5, buf, sizeof(buf)),
	                    "Message Error / Invalid TLV Value");
	assert_string_equal(peer_notif_describe(4, 0, buf, sizeof(buf)), "Hold Timer Expired");
	assert_string_equal(peer_notif_describe(9, 9, buf, sizeof(buf)), "code 9 subcode 9");
	assert_true(peer_region_valid("ams-1"));
	assert_false(peer_region_valid(""));
	assert_false(peer_region_valid("a_b"));
}

static void test_lease_ids(void **state)
{
	(void)state;
	struct lease_id a, b;
	char s[LEASE_ID_STR];
	lease_id_random(&a);
	lease_id_random(&b);
	assert_false(lease_id_equal(&a, &b));
	assert_int_equal(a.b[6] >> 4, 4);
	lease_id_fmt(&a, s);
	assert_int_equal(strlen(s), 32);
	assert_int_equal(lease_id_parse(s, &b), 0);
	assert_true(lease_id_equal(&a, &b));
	assert_int_equal(lease_id_parse("00112233445566778899AABBCCDDEEFF", &b), 0);
	assert_int_equal(b.b[15], 0xff);
	assert_int_equal(lease_id_parse("00112233-4455-6677-8899-aabbccddeefg", &b), -EINVAL);
	assert_int_equal(lease_id_parse("00112233-4455-6677-8899-aabbccddeeff", &b), 0);
	assert_int_equal(b.b[0], 0x00);
	assert_int_equal(b.b[15], 0xff);
	assert_int_equal(lease_id_parse("00112233445566778899aabbccddee", &b), -EINVAL);
	assert_int_equal(lease_id_parse("", &b), -EINVAL);
}

static void test_params_equal(void **state)
{
	(void)state;
	struct peer_msg *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	fill_request(a);
	*b = *a;
	assert_true(lease_params_equal(a, b));
	b->present |= PEER_F_PRIORITY;
	b->lease.setup_prio = b->lease.hold_prio = LEASE_PRIORITY_DEFAULT;
	assert_true(lease_params_equal(a, b)); /* absent = default 4/4 */
	b->lease.setup_prio = 3;
	assert_false(lease_params_equal(a, b));
	*b = *a;
	b->present |= PEER_F_HOLD_TIME | PEER_F_APP; /* do not count */
	b->lease.hold_ms = 5000;
	assert_true(lease_params_equal(a, b));
	b->lease.quantity++;
	assert_false(lease_params_equal(a, b));
	*b = *a;
	b->present |= PEER_F_MATCH_DSCP;
	b->lease.n_dscp = 1;
	assert_false(lease_params_equal(a, b));
	free(a);
	free(b);
}

static void test_status_action(void **state)
{
	(void)state;
	/* protocol.md §8 step 2, row by row. */
	assert_int_equal(lease_status_action(true, LEASE_RESERVED, LEASE_RELEASED),
	                 LEASE_ACT_ADOPT);
	assert_int_equal(lease_status_action(false, LEASE_COMMITTING, LEASE_EXPIRED),
	                 LEASE_ACT_ADOPT);
	assert_int_equal(lease_status_action(true, LEASE_EXPIRED, LEASE_HELD), LEASE_ACT_REPLY_OWN);
	assert_int_equal(lease_status_action(false, LEASE_CHECKING, LEASE_HELD), LEASE_ACT_ADOPT);
	assert_int_equal(lease_status_action(false, LEASE_COMMITTING, LEASE_HELD),
	                 LEASE_ACT_NOTHING);
	assert_int_equal(lease_status_action(false, LEASE_COMMITTING, LEASE_RESERVED),
	                 LEASE_ACT_ADOPT);
	assert_int_equal(lease_status_action(false, LEASE_HELD, LEASE_ACTIVE), LEASE_ACT_ADOPT);
	assert_int_equal(lease_status_action(false, LEASE_RESERVED, LEASE_ACTIVE),
	                 LEASE_ACT_NOTHING);
	assert_int_equal(lease_status_action(true, LEASE_HELD, LEASE_COMMITTING),
	                 LEASE_ACT_NOTHING);
	assert_int_equal(lease_status_action(true, LEASE_NONE, LEASE_RELEASED), LEASE_ACT_NOTHING);
	assert_int_equal(lease_status_action(true, LEASE_NONE, LEASE_CHECKING), LEASE_ACT_NOTHING);
	assert_int_equal(lease_status_action(true, LEASE_NONE, LEASE_RESERVED),
	                 LEASE_ACT_REPLY_UNKNOWN);
	assert_int_equal(lease_status_action(false, LEASE_NONE, LEASE_HELD),
	                 LEASE_ACT_REPLY_UNKNOWN);
	assert_int_equal(lease_status_action(false, LEASE_RELEASED, LEASE_FAILED),
	                 LEASE_ACT_NOTHING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good_vectors),
	        cmocka_unit_test(test_good_fields),
	        cmocka_unit_test(test_bad_vectors),
	        cmocka_unit_test(test_header_data),
	        cmocka_unit_test(test_encoder_refuses_invalid),
	        cmocka_unit_test(test_stream_framing),
	        cmocka_unit_test(test_lease_names),
	        cmocka_unit_test(test_lease_ids),
	        cmocka_unit_test(test_params_equal),
	        cmocka_unit_test(test_status_action),
	};
	return cmocka_run_group_tests_name("peering codec", tests, NULL, NULL);
}

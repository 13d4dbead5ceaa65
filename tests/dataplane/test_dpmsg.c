/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the tidal-dp control message codec (dataplane/dpmsg.c): round trips of
 * every message type, and a table of malformed frames that must be refused with the field
 * named, never read past their end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dpmsg.h"

static void encode(const struct dpmsg *m, struct tb_writer *w)
{
	tb_writer_init(w, 0);
	assert_int_equal(dpmsg_encode(w, m), 0);
}

static void roundtrip(const struct dpmsg *m, struct dpmsg *out)
{
	struct tb_writer w;
	const char *why = NULL;

	encode(m, &w);
	assert_int_equal(w.data[0], DPMSG_VERSION);
	assert_int_equal(w.data[1], m->hdr.type);
	assert_int_equal((w.data[2] << 8) | w.data[3], w.len);
	assert_int_equal(dpmsg_decode(w.data, w.len, out, &why), 0);
	assert_null(why);
	assert_int_equal(out->hdr.type, m->hdr.type);
	assert_int_equal(out->hdr.seq, m->hdr.seq);
	tb_writer_free(&w);
}

static void test_class_roundtrip(void **state)
{
	struct cfg_prefix dst[2] = {
	        {.family = AF_INET, .len = 24, .addr = {198, 51, 100, 0}},
	        {.family = AF_INET6, .len = 32, .addr = {0x20, 0x01, 0x0d, 0xb8}},
	};
	struct cfg_prefix src[1] = {{.family = AF_INET, .len = 8, .addr = {10}}};
	struct dpmsg m = {.hdr = {.type = DPMSG_CLASS_ADD, .seq = 77}}, out;

	(void)state;
	m.u.cls.class_id = 5;
	m.u.cls.subport = 3;
	m.u.cls.pipe = 4095;
	m.u.cls.tc = DPMSG_TC_BE;
	m.u.cls.queue = 3;
	m.u.cls.has_meter = true;
	m.u.cls.meter = (struct dpmsg_meter){10000000, 20000000, 65536, 131072};
	m.u.cls.dscp_mask = (1ull << 46) | (1ull << 34);
	m.u.cls.n_dst = 2;
	m.u.cls.dst = dst;
	m.u.cls.n_src = 1;
	m.u.cls.src = src;
	roundtrip(&m, &out);
	assert_int_equal(out.u.cls.class_id, 5);
	assert_int_equal(out.u.cls.subport, 3);
	assert_int_equal(out.u.cls.pipe, 4095);
	assert_int_equal(out.u.cls.tc, 12);
	assert_int_equal(out.u.cls.queue, 3);
	assert_true(out.u.cls.has_meter);
	assert_memory_equal(&out.u.cls.meter, &m.u.cls.meter, sizeof(m.u.cls.meter));
	assert_true(out.u.cls.dscp_mask == m.u.cls.dscp_mask);
	assert_int_equal(out.u.cls.n_dst, 2);
	assert_memory_equal(out.u.cls.dst, dst, sizeof(dst));
	assert_int_equal(out.u.cls.n_src, 1);
	assert_memory_equal(out.u.cls.src, src, sizeof(src));
	dpmsg_clear(&out);
}

static void test_other_roundtrips(void **state)
{
	struct dpmsg m, out;
	struct dpmsg_pair_info pi[2] = {
	        {.pair = 0, .rx_port = 0, .tx_port = 1, .rate_bps = 10000000000ull},
	        {.pair = 1, .rx_port = 1, .tx_port = 0, .rate_bps = 25000000000ull},
	};
	struct dpmsg_pair_stats ps[1];
	struct dpmsg_class_stats cs[3];

	(void)state;
	/* compared with memcmp below: padding included */
	memset(ps, 0, sizeof(ps));
	memset(cs, 0, sizeof(cs));
	strcpy(pi[0].rx_name, "net_pcap0");
	strcpy(pi[0].tx_name, "net_null0");
	strcpy(pi[1].rx_name, "0000:03:00.1");
	strcpy(pi[1].tx_name, "x");

	memset(&m, 0, sizeof(m));
	m.hdr.type = DPMSG_INFO;
	m.u.info = (struct dpmsg_info){.n_subports = 8,
	                               .n_pipes = 4096,
	                               .max_classes = 4096,
	                               .stages = 2,
	                               .frame_overhead = 24,
	                               .n_pairs = 2,
	                               .pairs = pi};
	roundtrip(&m, &out);
	assert_int_equal(out.u.info.n_pipes, 4096);
	assert_int_equal(out.u.info.stages, 2);
	assert_int_equal(out.u.info.n_pairs, 2);
	assert_string_equal(out.u.info.pairs[1].rx_name, "0000:03:00.1");
	assert_true(out.u.info.pairs[1].rate_bps == 25000000000ull);
	dpmsg_clear(&out);

	memset(&m, 0, sizeof(m));
	m.hdr.type = DPMSG_RESULT;
	m.u.result.status = -EEXIST;
	strcpy(m.u.result.text, "queue taken");
	roundtrip(&m, &out);
	assert_int_equal(out.u.result.status, -EEXIST);
	assert_string_equal(out.u.result.text, "queue taken");

	memset(&m, 0, sizeof(m));
	m.hdr.type = DPMSG_PIPE_RATE;
	m.u.rate = (struct dpmsg_rate){.pair = DPMSG_ALL_PAIRS,
	                               .subport = 2,
	                               .pipe = 9,
	                               .rate_bps = 40000000,
	                               .tb_bytes = 1500,
	                               .n_tc = 13};
	for (int i = 0; i < 13; i++)
		m.u.rate.tc_rate_bps[i] = 1000000ull * (i + 1);
	roundtrip(&m, &out);
	assert_int_equal(out.u.rate.pair, DPMSG_ALL_PAIRS);
	assert_int_equal(out.u.rate.pipe, 9);
	assert_int_equal(out.u.rate.n_tc, 13);
	assert_true(out.u.rate.tc_rate_bps[12] == 13000000);

	memset(&m, 0, sizeof(m));
	m.hdr.type = DPMSG_SUBPORT_RATE;
	m.u.rate = (struct dpmsg_rate){.pair = 1, .subport = 7, .rate_bps = 5000000000ull};
	roundtrip(&m, &out);
	assert_int_equal(out.u.rate.subport, 7);
	assert_true(out.u.rate.rate_bps == 5000000000ull);

	memset(&m, 0, sizeof(m));
	m.hdr.type = DPMSG_STATS_REP;
	for (int i = 0; i < DPMSG_PF_COUNT; i++)
		ps[0].f[i] = 1000 + i;
	for (int k = 0; k < 3; k++) {
		cs[k].pair = 0;
		cs[k].class_id = (uint32_t)k * 10;
		for (int i = 0; i < DPMSG_CF_COUNT; i++)
			cs[k].f[i] = ((uint64_t)k << 40) | (uint64_t)i;
	}
	m.u.stats = (struct dpmsg_stats_rep){
	        .next_class = 31, .n_pairs = 1, .pairs = ps, .n_classes = 3, .classes = cs};
	roundtrip(&m, &out);
	assert_int_equal(out.u.stats.next_class, 31);
	assert_memory_equal(out.u.stats.pairs, ps, sizeof(ps));
	assert_memory_equal(out.u.stats.classes, cs, sizeof(cs));
	dpmsg_clear(&out);

	memset(&m, 0, sizeof(m));
	m.hdr.type = DPMSG_RX_ENABLE;
	m.u.rx.pair = 3;
	m.u.rx.on = true;
	roundtrip(&m, &out);
	assert_int_equal(out.u.rx.pair, 3);
	assert_true(out.u.rx.on);
}

/* A newer peer may append counter fields: they are skipped; missing ones read as 0. */
static void test_stats_fields_extensible(void **state)
{
	struct tb_writer w;
	struct dpmsg out;
	const char *why;

	(void)state;
	tb_writer_init(&w, 0);
	tb_put_u8(&w, DPMSG_VERSION);
	tb_put_u8(&w, DPMSG_STATS_REP);
	size_t len_off = tb_reserve(&w, 2);
	tb_put_u32(&w, 1);
	tb_put_u32(&w, DPMSG_STATS_END);
	tb_put_u16(&w, 1); /* one pair */
	tb_put_u16(&w, 0);
	tb_put_u8(&w, 2); /* with only two fields */
	tb_put_u64(&w, 5);
	tb_put_u64(&w, 6);
	tb_put_u16(&w, 1); /* one class */
	tb_put_u16(&w, 0);
	tb_put_u32(&w, 9);
	tb_put_u8(&w, DPMSG_CF_COUNT + 2); /* two fields more than known */
	for (int i = 0; i < DPMSG_CF_COUNT + 2; i++)
		tb_put_u64(&w, (uint64_t)i + 100);
	tb_patch_u16(&w, len_off, (uint16_t)w.len);
	assert_int_equal(dpmsg_decode(w.data, w.len, &out, &why), 0);
	assert_true(out.u.stats.pairs[0].f[1] == 6);
	assert_true(out.u.stats.pairs[0].f[2] == 0);
	assert_true(out.u.stats.classes[0].f[DPMSG_CF_COUNT - 1] == 100 + DPMSG_CF_COUNT - 1);
	dpmsg_clear(&out);
	tb_writer_free(&w);
}

struct bad {
	const char *name;
	uint8_t bytes[64];
	size_t len;
	int rc;
	bool keep_len; /* header cases: the length field is part of the test */
};

/* the length byte is patched to the vector's length unless keep_len */
#define HDR(type) DPMSG_VERSION, (type), 0, 0, 0, 0, 0, 1

static const struct bad bad_frames[] = {
        {"short header", {1, 3, 0}, 3, -EBADMSG, true},
        {"wrong version", {2, DPMSG_HELLO, 0, 8, 0, 0, 0, 1}, 8, -EBADMSG, true},
        {"length below header", {1, DPMSG_HELLO, 0, 4, 0, 0, 0, 1}, 8, -EBADMSG, true},
        {"length beyond frame",
         {1, DPMSG_CLASS_DEL, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1},
         12,
         -EBADMSG,
         true},
        {"unknown type", {HDR(99)}, 8, -ENOTSUP},
        {"hello with body", {HDR(DPMSG_HELLO), 0}, 9, -EBADMSG},
        {"class del truncated", {HDR(DPMSG_CLASS_DEL), 0, 0}, 10, -EBADMSG},
        /* class: id(4) subport(2) pipe(4) tc queue flags, [meter 24], dscp(8) n_dst n_src */
        {"class tc 13",
         {HDR(DPMSG_CLASS_ADD), 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 13, 0, 0},
         21,
         -EBADMSG},
        {"class queue on strict tc",
         {HDR(DPMSG_CLASS_ADD), 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 3, 1, 0},
         21,
         -EBADMSG},
        {"class unknown flag",
         {HDR(DPMSG_CLASS_ADD), 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 3, 0, 2},
         21,
         -EBADMSG},
        {"class meter pir < cir",
         {HDR(DPMSG_CLASS_ADD),
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          1,
          3,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          9,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          8,
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          1},
         45,
         -EBADMSG},
        {"class empty dscp set",
         {HDR(DPMSG_CLASS_ADD),
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          1,
          3,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0},
         33,
         -EBADMSG},
        {"class prefix count lies",
         {HDR(DPMSG_CLASS_ADD),
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          1,
          3,
          0,
          0,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0,
          200,
          0,
          0},
         33,
         -EBADMSG},
        {"class prefix host bits",
         {HDR(DPMSG_CLASS_ADD),
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          1,
          3,
          0,
          0,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0,
          1,
          0,
          0,
          4,
          8,
          10,
          0,
          0,
          1},
         39,
         -EBADMSG},
        {"class prefix family 5",
         {HDR(DPMSG_CLASS_ADD),
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          1,
          3,
          0,
          0,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0,
          1,
          0,
          0,
          5,
          8,
          10,
          0,
          0,
          0},
         39,
         -EBADMSG},
        {"class prefix /33",
         {HDR(DPMSG_CLASS_ADD),
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          1,
          3,
          0,
          0,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0xff,
          0,
          1,
          0,
          0,
          4,
          33,
          10,
          0,
          0,
          0},
         39,
         -EBADMSG},
        /* pipe rate: pair(2) subport(2) pipe(4) rate(8) tb(4) n_tc */
        {"pipe rate 5 tc rates",
         {HDR(DPMSG_PIPE_RATE), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5},
         29,
         -EBADMSG},
        {"result positive status", {HDR(DPMSG_RESULT), 0, 0, 0, 1, 0, 0}, 14, -EBADMSG},
        {"result text beyond frame", {HDR(DPMSG_RESULT), 0, 0, 0, 0, 0, 9}, 14, -EBADMSG},
        /* info: subports(2) pipes(4) classes(4) stages overhead(2) n_pairs(2) */
        {"info stages 0",
         {HDR(DPMSG_INFO), 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0},
         23,
         -EBADMSG},
        {"info pairs lie",
         {HDR(DPMSG_INFO), 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0x10, 0},
         23,
         -EBADMSG},
        {"stats classes lie",
         {HDR(DPMSG_STATS_REP), 0xff, 0xff, 0xff, 0xff, 0, 0, 0x7f, 0xff},
         16,
         -EBADMSG},
        {"rx enable flag 2", {HDR(DPMSG_RX_ENABLE), 0, 0, 2}, 11, -EBADMSG},
        {"trailing bytes", {HDR(DPMSG_CLASS_DEL), 0, 0, 0, 1, 0}, 13, -EBADMSG},
};

static void test_bad_frames(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
		const struct bad *b = &bad_frames[i];
		struct dpmsg out;
		const char *why = NULL;
		/* copy to a buffer of exactly len bytes so ASan sees any overread */
		uint8_t *buf = malloc(b->len);
		memcpy(buf, b->bytes, b->len);
		if (!b->keep_len)
			buf[3] = (uint8_t)b->len;
		int rc = dpmsg_decode(buf, b->len, &out, &why);
		if (rc != b->rc)
			fail_msg("%s: rc %d, want %d", b->name, rc, b->rc);
		if (!why)
			fail_msg("%s: no reason given", b->name);
		free(buf);
	}
}

static void test_encode_limits(void **state)
{
	static struct cfg_prefix many[DPMSG_MAX_PREFIXES + 1];
	struct dpmsg m = {.hdr = {.type = DPMSG_CLASS_ADD}};
	struct tb_writer w;

	(void)state;
	for (int i = 0; i <= DPMSG_MAX_PREFIXES; i++)
		many[i] = (struct cfg_prefix){.family = AF_INET6, .len = 128};
	m.u.cls.dscp_mask = 1;
	m.u.cls.dst = many;
	m.u.cls.n_dst = DPMSG_MAX_PREFIXES + 1;
	tb_writer_init(&w, 0);
	assert_int_equal(dpmsg_encode(&w, &m), -EINVAL);
	assert_int_equal(w.len, 0);
	/* the largest class (256 + 256 IPv6 prefixes) still fits one frame */
	m.u.cls.n_dst = DPMSG_MAX_PREFIXES;
	m.u.cls.src = many;
	m.u.cls.n_src = DPMSG_MAX_PREFIXES;
	assert_int_equal(dpmsg_encode(&w, &m), 0);
	assert_true(w.len <= DPMSG_MAX_LEN);
	tb_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_class_roundtrip),
	        cmocka_unit_test(test_other_roundtrips),
	        cmocka_unit_test(test_stats_fields_extensible),
	        cmocka_unit_test(test_bad_frames),
	        cmocka_unit_test(test_encode_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

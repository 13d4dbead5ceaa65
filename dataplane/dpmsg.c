/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpmsg: encoder and decoder of the tidald <-> tidal-dp control frames (see dpmsg.h).
 *
 * Decoding reads through one tb_reader and checks it once per structure; values are
 * range-checked as they are read so that a decoded message is always one a server may
 * act on without re-validating the wire format (semantic checks such as "this subport
 * exists" stay with the server).
 */
#include "dpmsg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define FAIL(msg)                                                                                  \
	do {                                                                                       \
		*why = (msg);                                                                      \
		goto bad;                                                                          \
	} while (0)

int dpmsg_hdr_decode(const void *buf, size_t len, struct dpmsg_hdr *h)
{
	struct tb_reader r;

	if (len < DPMSG_HDR_LEN)
		return -EAGAIN;
	tb_reader_init(&r, buf, DPMSG_HDR_LEN);
	h->version = tb_get_u8(&r);
	h->type = tb_get_u8(&r);
	h->length = tb_get_u16(&r);
	h->seq = tb_get_u32(&r);
	if (!tb_reader_ok(&r) || h->version != DPMSG_VERSION || h->length < DPMSG_HDR_LEN)
		return -EPROTO;
	return 0;
}

static bool get_name(struct tb_reader *r, char *dst, size_t cap)
{
	uint8_t n = tb_get_u8(r);
	const uint8_t *p = tb_get_ptr(r, n);

	if (!p || n >= cap || memchr(p, 0, n))
		return false;
	memcpy(dst, p, n);
	dst[n] = 0;
	return true;
}

static void put_name(struct tb_writer *w, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n >= cap || n > 255) {
		w->err = true;
		return;
	}
	tb_put_u8(w, (uint8_t)n);
	tb_put_bytes(w, s, n);
}

/* Prefixes travel as family (4 or 6), length, then 4 or 16 address bytes; host bits must
 * be zero so that every prefix has exactly one encoding. */
static bool get_prefix(struct tb_reader *r, struct cfg_prefix *p)
{
	uint8_t fam = tb_get_u8(r);
	uint8_t len = tb_get_u8(r);
	size_t alen = fam == 4 ? 4 : 16;

	if (!tb_reader_ok(r) || (fam != 4 && fam != 6) || len > alen * 8)
		return false;
	memset(p, 0, sizeof(*p));
	p->family = fam == 4 ? AF_INET : AF_INET6;
	p->len = len;
	tb_get_bytes(r, p->addr, alen);
	if (!tb_reader_ok(r))
		return false;
	for (size_t bit = len; bit < alen * 8; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static void put_prefix(struct tb_writer *w, const struct cfg_prefix *p)
{
	size_t alen = p->family == AF_INET ? 4 : 16;

	if ((p->family != AF_INET && p->family != AF_INET6) || p->len > alen * 8) {
		w->err = true;
		return;
	}
	tb_put_u8(w, p->family == AF_INET ? 4 : 6);
	tb_put_u8(w, p->len);
	tb_put_bytes(w, p->addr, alen);
}

static void get_fields(struct tb_reader *r, uint64_t *f, size_t n_known)
{
	uint8_t n = tb_get_u8(r);

	for (size_t i = 0; i < n; i++) {
		uint64_t v = tb_get_u64(r);
		if (i < n_known)
			f[i] = v;
	}
	for (size_t i = n; i < n_known; i++)
		f[i] = 0;
}

static void put_fields(struct tb_writer *w, const uint64_t *f, size_t n)
{
	tb_put_u8(w, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		tb_put_u64(w, f[i]);
}

static int decode_info(struct tb_reader *r, struct dpmsg_info *in, const char **why)
{
	in->n_subports = tb_get_u16(r);
	in->n_pipes = tb_get_u32(r);
	in->max_classes = tb_get_u32(r);
	in->stages = tb_get_u8(r);
	in->frame_overhead = tb_get_u16(r);
	in->n_pairs = tb_get_u16(r);
	if (!tb_reader_ok(r))
		FAIL("info: truncated");
	if (in->stages < 1 || in->stages > 3)
		FAIL("info: stages must be 1, 2 or 3");
	/* each pair takes at least 16 bytes: refuse counts the frame cannot hold */
	if ((size_t)in->n_pairs * 16 > tb_reader_left(r))
		FAIL("info: pair count larger than the frame");
	if (in->n_pairs) {
		in->pairs = calloc(in->n_pairs, sizeof(*in->pairs));
		if (!in->pairs)
			return -ENOMEM;
	}
	for (uint16_t i = 0; i < in->n_pairs; i++) {
		struct dpmsg_pair_info *p = &in->pairs[i];
		p->pair = tb_get_u16(r);
		p->rx_port = tb_get_u16(r);
		p->tx_port = tb_get_u16(r);
		p->rate_bps = tb_get_u64(r);
		if (!get_name(r, p->rx_name, sizeof(p->rx_name)) ||
		    !get_name(r, p->tx_name, sizeof(p->tx_name)))
			FAIL("info: bad port name");
	}
	return 0;
bad:
	return -EBADMSG;
}

static int decode_class(struct tb_reader *r, struct dpmsg_class *c, const char **why)
{
	uint8_t flags;

	c->class_id = tb_get_u32(r);
	c->subport = tb_get_u16(r);
	c->pipe = tb_get_u32(r);
	c->tc = tb_get_u8(r);
	c->queue = tb_get_u8(r);
	flags = tb_get_u8(r);
	if (!tb_reader_ok(r))
		FAIL("class: truncated");
	if (c->tc >= DPMSG_N_TC)
		FAIL("class: traffic class above 12");
	if (c->tc == DPMSG_TC_BE ? c->queue >= DPMSG_BE_QUEUES : c->queue != 0)
		FAIL("class: queue must be 0, or 0..3 for best effort");
	if (flags & ~1u)
		FAIL("class: unknown flags");
	c->has_meter = flags & 1;
	if (c->has_meter) {
		c->meter.cir_bps = tb_get_u64(r);
		c->meter.pir_bps = tb_get_u64(r);
		c->meter.cbs = tb_get_u32(r);
		c->meter.pbs = tb_get_u32(r);
		if (!tb_reader_ok(r))
			FAIL("class: truncated meter");
		if (c->meter.cir_bps == 0 || c->meter.pir_bps < c->meter.cir_bps)
			FAIL("class: meter needs 0 < cir <= pir");
		if (c->meter.cbs == 0 || c->meter.pbs == 0)
			FAIL("class: meter burst sizes must be above zero");
	}
	c->dscp_mask = tb_get_u64(r);
	c->n_dst = tb_get_u16(r);
	c->n_src = tb_get_u16(r);
	if (!tb_reader_ok(r))
		FAIL("class: truncated match");
	if (c->dscp_mask == 0)
		FAIL("class: empty DSCP set");
	if (c->n_dst > DPMSG_MAX_PREFIXES || c->n_src > DPMSG_MAX_PREFIXES)
		FAIL("class: more than 256 prefixes in one list");
	if (((size_t)c->n_dst + c->n_src) * 6 > tb_reader_left(r))
		FAIL("class: prefix count larger than the frame");
	if (c->n_dst && !(c->dst = calloc(c->n_dst, sizeof(*c->dst))))
		return -ENOMEM;
	if (c->n_src && !(c->src = calloc(c->n_src, sizeof(*c->src))))
		return -ENOMEM;
	for (uint16_t i = 0; i < c->n_dst; i++)
		if (!get_prefix(r, &c->dst[i]))
			FAIL("class: bad destination prefix");
	for (uint16_t i = 0; i < c->n_src; i++)
		if (!get_prefix(r, &c->src[i]))
			FAIL("class: bad source prefix");
	return 0;
bad:
	return -EBADMSG;
}

static int decode_rate(struct tb_reader *r, uint8_t type, struct dpmsg_rate *rt, const char **why)
{
	rt->pair = tb_get_u16(r);
	rt->subport = tb_get_u16(r);
	if (type == DPMSG_PIPE_RATE)
		rt->pipe = tb_get_u32(r);
	rt->rate_bps = tb_get_u64(r);
	if (type == DPMSG_PIPE_RATE) {
		rt->tb_bytes = tb_get_u32(r);
		rt->n_tc = tb_get_u8(r);
		if (rt->n_tc != 0 && rt->n_tc != DPMSG_N_TC)
			FAIL("pipe rate: traffic class rate count must be 0 or 13");
		for (uint8_t i = 0; i < rt->n_tc; i++)
			rt->tc_rate_bps[i] = tb_get_u64(r);
	}
	if (!tb_reader_ok(r))
		FAIL("rate: truncated");
	return 0;
bad:
	return -EBADMSG;
}

static int decode_stats(struct tb_reader *r, struct dpmsg_stats_rep *s, const char **why)
{
	s->next_class = tb_get_u32(r);
	s->n_pairs = tb_get_u16(r);
	if (!tb_reader_ok(r) || (size_t)s->n_pairs * 3 > tb_reader_left(r))
		FAIL("stats: pair count larger than the frame");
	if (s->n_pairs && !(s->pairs = calloc(s->n_pairs, sizeof(*s->pairs))))
		return -ENOMEM;
	for (uint16_t i = 0; i < s->n_pairs; i++) {
		s->pairs[i].pair = tb_get_u16(r);
		get_fields(r, s->pairs[i].f, DPMSG_PF_COUNT);
	}
	s->n_classes = tb_get_u16(r);
	if (!tb_reader_ok(r) || (size_t)s->n_classes * 7 > tb_reader_left(r))
		FAIL("stats: class count larger than the frame");
	if (s->n_classes && !(s->classes = calloc(s->n_classes, sizeof(*s->classes))))
		return -ENOMEM;
	for (uint16_t i = 0; i < s->n_classes; i++) {
		s->classes[i].pair = tb_get_u16(r);
		s->classes[i].class_id = tb_get_u32(r);
		get_fields(r, s->classes[i].f, DPMSG_CF_COUNT);
	}
	if (!tb_reader_ok(r))
		FAIL("stats: truncated");
	return 0;
bad:
	return -EBADMSG;
}

int dpmsg_decode(const void *frame, size_t len, struct dpmsg *m, const char **why)
{
	const char *dummy;
	struct tb_reader r;
	int rc;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(m, 0, sizeof(*m));
	rc = dpmsg_hdr_decode(frame, len, &m->hdr);
	if (rc < 0) {
		*why = "header: bad version or length";
		return -EBADMSG;
	}
	if (m->hdr.length != len) {
		*why = "header: length does not match the frame";
		return -EBADMSG;
	}
	tb_reader_init(&r, (const uint8_t *)frame + DPMSG_HDR_LEN, len - DPMSG_HDR_LEN);

	switch (m->hdr.type) {
	case DPMSG_HELLO:
		rc = 0;
		break;
	case DPMSG_INFO:
		rc = decode_info(&r, &m->u.info, why);
		break;
	case DPMSG_RESULT: {
		struct dpmsg_result *res = &m->u.result;
		uint16_t n;
		const uint8_t *p;
		res->status = (int32_t)tb_get_u32(&r);
		n = tb_get_u16(&r);
		p = tb_get_ptr(&r, n);
		rc = 0;
		if (!p || res->status > 0 || n >= sizeof(res->text) || memchr(p, 0, n)) {
			*why = "result: bad status or text";
			rc = -EBADMSG;
		} else {
			memcpy(res->text, p, n);
			res->text[n] = 0;
		}
		break;
	}
	case DPMSG_CLASS_ADD:
		rc = decode_class(&r, &m->u.cls, why);
		break;
	case DPMSG_CLASS_DEL:
		m->u.class_id = tb_get_u32(&r);
		rc = 0;
		break;
	case DPMSG_SUBPORT_RATE:
	case DPMSG_PIPE_RATE:
		rc = decode_rate(&r, m->hdr.type, &m->u.rate, why);
		break;
	case DPMSG_STATS_REQ:
		m->u.stats_req.first_class = tb_get_u32(&r);
		m->u.stats_req.max_entries = tb_get_u16(&r);
		rc = 0;
		break;
	case DPMSG_STATS_REP:
		rc = decode_stats(&r, &m->u.stats, why);
		break;
	case DPMSG_RX_ENABLE: {
		uint8_t on;
		m->u.rx.pair = tb_get_u16(&r);
		on = tb_get_u8(&r);
		rc = 0;
		if (tb_reader_ok(&r) && on > 1) {
			*why = "rx enable: flag must be 0 or 1";
			rc = -EBADMSG;
		}
		m->u.rx.on = on == 1;
		break;
	}
	default:
		*why = "unknown message type";
		return -ENOTSUP;
	}
	if (rc == 0 && !tb_reader_ok(&r)) {
		*why = "body truncated";
		rc = -EBADMSG;
	}
	if (rc == 0 && tb_reader_left(&r) != 0) {
		*why = "trailing bytes after the body";
		rc = -EBADMSG;
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			*why = "out of memory";
		dpmsg_clear(m);
	}
	return rc;
}

static void encode_class(struct tb_writer *w, const struct dpmsg_class *c)
{
	tb_put_u32(w, c->class_id);
	tb_put_u16(w, c->subport);
	tb_put_u32(w, c->pipe);
	tb_put_u8(w, c->tc);
	tb_put_u8(w, c->queue);
	tb_put_u8(w, c->has_meter ? 1 : 0);
	if (c->has_meter) {
		tb_put_u64(w, c->meter.cir_bps);
		tb_put_u64(w, c->meter.pir_bps);
		tb_put_u32(w, c->meter.cbs);
		tb_put_u32(w, c->meter.pbs);
	}
	tb_put_u64(w, c->dscp_mask);
	if (c->n_dst > DPMSG_MAX_PREFIXES || c->n_src > DPMSG_MAX_PREFIXES) {
		w->err = true;
		return;
	}
	tb_put_u16(w, c->n_dst);
	tb_put_u16(w, c->n_src);
	for (uint16_t i = 0; i < c->n_dst; i++)
		put_prefix(w, &c->dst[i]);
	for (uint16_t i = 0; i < c->n_src; i++)
		put_prefix(w, &c->src[i]);
}

int dpmsg_encode(struct tb_writer *w, const struct dpmsg *m)
{
	size_t start = w->len;
	size_t len_off;
	bool was_err = w->err;

	if (was_err)
		return -EINVAL;
	tb_put_u8(w, DPMSG_VERSION);
	tb_put_u8(w, m->hdr.type);
	len_off = tb_reserve(w, 2);
	tb_put_u32(w, m->hdr.seq);

	switch (m->hdr.type) {
	case DPMSG_HELLO:
		break;
	case DPMSG_INFO: {
		const struct dpmsg_info *in = &m->u.info;
		tb_put_u16(w, in->n_subports);
		tb_put_u32(w, in->n_pipes);
		tb_put_u32(w, in->max_classes);
		tb_put_u8(w, in->stages);
		tb_put_u16(w, in->frame_overhead);
		tb_put_u16(w, in->n_pairs);
		for (uint16_t i = 0; i < in->n_pairs; i++) {
			const struct dpmsg_pair_info *p = &in->pairs[i];
			tb_put_u16(w, p->pair);
			tb_put_u16(w, p->rx_port);
			tb_put_u16(w, p->tx_port);
			tb_put_u64(w, p->rate_bps);
			put_name(w, p->rx_name, sizeof(p->rx_name));
			put_name(w, p->tx_name, sizeof(p->tx_name));
		}
		break;
	}
	case DPMSG_RESULT: {
		size_t n = strnlen(m->u.result.text, sizeof(m->u.result.text));
		if (m->u.result.status > 0 || n >= sizeof(m->u.result.text))
			w->err = true;
		tb_put_u32(w, (uint32_t)m->u.result.status);
		tb_put_u16(w, (uint16_t)n);
		tb_put_bytes(w, m->u.result.text, n);
		break;
	}
	case DPMSG_CLASS_ADD:
		encode_class(w, &m->u.cls);
		break;
	case DPMSG_CLASS_DEL:
		tb_put_u32(w, m->u.class_id);
		break;
	case DPMSG_SUBPORT_RATE:
	case DPMSG_PIPE_RATE: {
		const struct dpmsg_rate *rt = &m->u.rate;
		tb_put_u16(w, rt->pair);
		tb_put_u16(w, rt->subport);
		if (m->hdr.type == DPMSG_PIPE_RATE)
			tb_put_u32(w, rt->pipe);
		tb_put_u64(w, rt->rate_bps);
		if (m->hdr.type == DPMSG_PIPE_RATE) {
			if (rt->n_tc != 0 && rt->n_tc != DPMSG_N_TC)
				w->err = true;
			tb_put_u32(w, rt->tb_bytes);
			tb_put_u8(w, rt->n_tc);
			for (uint8_t i = 0; i < rt->n_tc && i < DPMSG_N_TC; i++)
				tb_put_u64(w, rt->tc_rate_bps[i]);
		}
		break;
	}
	case DPMSG_STATS_REQ:
		tb_put_u32(w, m->u.stats_req.first_class);
		tb_put_u16(w, m->u.stats_req.max_entries);
		break;
	case DPMSG_STATS_REP: {
		const struct dpmsg_stats_rep *s = &m->u.stats;
		tb_put_u32(w, s->next_class);
		tb_put_u16(w, s->n_pairs);
		for (uint16_t i = 0; i < s->n_pairs; i++) {
			tb_put_u16(w, s->pairs[i].pair);
			put_fields(w, s->pairs[i].f, DPMSG_PF_COUNT);
		}
		tb_put_u16(w, s->n_classes);
		for (uint16_t i = 0; i < s->n_classes; i++) {
			tb_put_u16(w, s->classes[i].pair);
			tb_put_u32(w, s->classes[i].class_id);
			put_fields(w, s->classes[i].f, DPMSG_CF_COUNT);
		}
		break;
	}
	case DPMSG_RX_ENABLE:
		tb_put_u16(w, m->u.rx.pair);
		tb_put_u8(w, m->u.rx.on ? 1 : 0);
		break;
	default:
		w->err = true;
		break;
	}

	if (w->err || w->len - start > DPMSG_MAX_LEN) {
		bool too_big = !w->err;
		/* leave the writer as it was before this frame */
		w->len = start;
		w->err = false;
		return too_big ? -EMSGSIZE : -EINVAL;
	}
	tb_patch_u16(w, len_off, (uint16_t)(w->len - start));
	return 0;
}

void dpmsg_clear(struct dpmsg *m)
{
	if (!m)
		return;
	switch (m->hdr.type) {
	case DPMSG_INFO:
		free(m->u.info.pairs);
		break;
	case DPMSG_CLASS_ADD:
		free(m->u.cls.dst);
		free(m->u.cls.src);
		break;
	case DPMSG_STATS_REP:
		free(m->u.stats.pairs);
		free(m->u.stats.classes);
		break;
	default:
		break;
	}
	memset(&m->u, 0, sizeof(m->u));
}

size_t dpmsg_stats_rep_size(uint16_t n_pairs, uint16_t n_classes)
{
	return DPMSG_HDR_LEN + 4 + 2 + (size_t)n_pairs * (2 + 1 + 8 * DPMSG_PF_COUNT) + 2 +
	       (size_t)n_classes * (2 + 4 + 1 + 8 * DPMSG_CF_COUNT);
}

const char *dpmsg_type_name(uint8_t type)
{
	switch (type) {
	case DPMSG_HELLO:
		return "HELLO";
	case DPMSG_INFO:
		return "INFO";
	case DPMSG_RESULT:
		return "RESULT";
	case DPMSG_CLASS_ADD:
		return "CLASS_ADD";
	case DPMSG_CLASS_DEL:
		return "CLASS_DEL";
	case DPMSG_SUBPORT_RATE:
		return "SUBPORT_RATE";
	case DPMSG_PIPE_RATE:
		return "PIPE_RATE";
	case DPMSG_STATS_REQ:
		return "STATS_REQ";
	case DPMSG_STATS_REP:
		return "STATS_REP";
	case DPMSG_RX_ENABLE:
		return "RX_ENABLE";
	default:
		return "UNKNOWN";
	}
}

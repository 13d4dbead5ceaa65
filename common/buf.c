/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: bounds-checked big-endian reader and writer with sticky errors.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void tb_reader_init(struct tb_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = data ? len : 0;
	r->pos = 0;
	r->err = false;
}

static const uint8_t *take(struct tb_reader *r, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->data + r->pos;
	r->pos += n;
	return p;
}

uint8_t tb_get_u8(struct tb_reader *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

uint16_t tb_get_u16(struct tb_reader *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t tb_get_u32(struct tb_reader *r)
{
	const uint8_t *p = take(r, 4);
	if (!p)
		return 0;
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint64_t tb_get_u64(struct tb_reader *r)
{
	uint64_t hi = tb_get_u32(r);
	uint64_t lo = tb_get_u32(r);
	return r->err ? 0 : (hi << 32) | lo;
}

void tb_get_bytes(struct tb_reader *r, void *dst, size_t n)
{
	const uint8_t *p = take(r, n);
	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

const uint8_t *tb_get_ptr(struct tb_reader *r, size_t n)
{
	return take(r, n);
}

void tb_skip(struct tb_reader *r, size_t n)
{
	take(r, n);
}

void tb_get_sub(struct tb_reader *r, size_t n, struct tb_reader *sub)
{
	const uint8_t *p = take(r, n);
	tb_reader_init(sub, p, p ? n : 0);
	if (!p)
		sub->err = true;
}

void tb_writer_init(struct tb_writer *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max ? max : SIZE_MAX / 2;
}

void tb_writer_init_fixed(struct tb_writer *w, void *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->data = buf;
	w->cap = cap;
	w->max = cap;
	w->fixed = true;
}

void tb_writer_free(struct tb_writer *w)
{
	if (!w)
		return;
	if (!w->fixed)
		free(w->data);
	w->data = NULL;
	w->len = w->cap = 0;
}

void tb_writer_reset(struct tb_writer *w)
{
	w->len = 0;
	w->err = false;
}

static uint8_t *grow(struct tb_writer *w, size_t n)
{
	if (w->err || n > w->max - w->len) {
		w->err = true;
		return NULL;
	}
	if (w->len + n > w->cap) {
		if (w->fixed) {
			w->err = true;
			return NULL;
		}
		size_t ncap = w->cap ? w->cap : 256;
		while (ncap < w->len + n)
			ncap *= 2;
		if (ncap > w->max)
			ncap = w->max;
		uint8_t *nd = realloc(w->data, ncap);
		if (!nd) {
			w->err = true;
			return NULL;
		}
		w->data = nd;
		w->cap = ncap;
	}
	uint8_t *p = w->data + w->len;
	w->len += n;
	return p;
}

void tb_put_u8(struct tb_writer *w, uint8_t v)
{
	uint8_t *p = grow(w, 1);
	if (p)
		p[0] = v;
}

void tb_put_u16(struct tb_writer *w, uint16_t v)
{
	uint8_t *p = grow(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void tb_put_u32(struct tb_writer *w, uint32_t v)
{
	uint8_t *p = grow(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

void tb_put_u64(struct tb_writer *w, uint64_t v)
{
	tb_put_u32(w, (uint32_t)(v >> 32));
	tb_put_u32(w, (uint32_t)v);
}

void tb_put_bytes(struct tb_writer *w, const void *src, size_t n)
{
	uint8_t *p = grow(w, n);
	if (p && n)
		memcpy(p, src, n);
}

size_t tb_reserve(struct tb_writer *w, size_t n)
{
	size_t off = w->len;
	uint8_t *p = grow(w, n);
	if (p)
		memset(p, 0, n);
	return off;
}

void tb_patch_u16(struct tb_writer *w, size_t off, uint16_t v)
{
	if (w->err || off + 2 > w->len) {
		w->err = true;
		return;
	}
	w->data[off] = (uint8_t)(v >> 8);
	w->data[off + 1] = (uint8_t)v;
}

void tb_patch_u32(struct tb_writer *w, size_t off, uint32_t v)
{
	if (w->err || off + 4 > w->len) {
		w->err = true;
		return;
	}
	w->data[off] = (uint8_t)(v >> 24);
	w->data[off + 1] = (uint8_t)(v >> 16);
	w->data[off + 2] = (uint8_t)(v >> 8);
	w->data[off + 3] = (uint8_t)v;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: the one bounds-checked byte reader/writer of tidal.
 *
 * Serves the peering codec and the internal framed messages (tidal-dp <-> tidald). All
 * integers are big-endian (network order). Errors are sticky: a read past the end or a
 * write past the limit sets `err`, returns zero / does nothing, and every later call is a
 * no-op, so a decoder reads a whole structure and checks tb_reader_ok() once at the end
 * (or at each point where it must branch on a value it read).
 *
 * The reader never allocates and never writes. The writer owns its storage unless it was
 * initialised over a caller's fixed buffer.
 */
#ifndef TIDAL_COMMON_BUF_H
#define TIDAL_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tb_reader {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool err;
};

void tb_reader_init(struct tb_reader *r, const void *data, size_t len);
static inline bool tb_reader_ok(const struct tb_reader *r)
{
	return !r->err;
}
static inline size_t tb_reader_left(const struct tb_reader *r)
{
	return r->err ? 0 : r->len - r->pos;
}
uint8_t tb_get_u8(struct tb_reader *r);
uint16_t tb_get_u16(struct tb_reader *r);
uint32_t tb_get_u32(struct tb_reader *r);
uint64_t tb_get_u64(struct tb_reader *r);
/* Copy n bytes out; on error dst is zero-filled. */
void tb_get_bytes(struct tb_reader *r, void *dst, size_t n);
/* Borrow n bytes in place (NULL on error). */
const uint8_t *tb_get_ptr(struct tb_reader *r, size_t n);
void tb_skip(struct tb_reader *r, size_t n);
/* Split off the next n bytes as a sub-reader (for TLV values); the parent advances by n.
 * A failed split marks both readers in error. */
void tb_get_sub(struct tb_reader *r, size_t n, struct tb_reader *sub);
/* Mark the reader failed (a value was read but is invalid). */
static inline void tb_reader_fail(struct tb_reader *r)
{
	r->err = true;
}

struct tb_writer {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* hard limit on len */
	bool err;
	bool fixed; /* data belongs to the caller */
};

/* Growable writer limited to max bytes (0: no limit below SIZE_MAX/2). */
void tb_writer_init(struct tb_writer *w, size_t max);
/* Writer over a caller-owned buffer of cap bytes; never allocates. */
void tb_writer_init_fixed(struct tb_writer *w, void *buf, size_t cap);
void tb_writer_free(struct tb_writer *w);
static inline bool tb_writer_ok(const struct tb_writer *w)
{
	return !w->err;
}
/* Forget the contents, keep the storage. */
void tb_writer_reset(struct tb_writer *w);
void tb_put_u8(struct tb_writer *w, uint8_t v);
void tb_put_u16(struct tb_writer *w, uint16_t v);
void tb_put_u32(struct tb_writer *w, uint32_t v);
void tb_put_u64(struct tb_writer *w, uint64_t v);
void tb_put_bytes(struct tb_writer *w, const void *src, size_t n);
/* Reserve n bytes to be patched later (e.g. a length field); returns their offset. */
size_t tb_reserve(struct tb_writer *w, size_t n);
void tb_patch_u16(struct tb_writer *w, size_t off, uint16_t v);
void tb_patch_u32(struct tb_writer *w, size_t off, uint32_t v);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex: bytes as lower-case hex text and back (lease ids, keys in logs and names).
 * Pure functions: no I/O, no allocation.
 */
#ifndef TIDAL_COMMON_HEX_H
#define TIDAL_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Write 2 n hex digits and a NUL to out (2 n + 1 bytes); returns out. */
char *hex_fmt(const uint8_t *b, size_t n, char *out);
/* Exactly 2 n hex digits (either case; '-' separators as in UUIDs are ignored) into out.
 * Returns 0, or -EINVAL leaving out untouched. */
int hex_parse(const char *s, uint8_t *out, size_t n);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex: hex text of byte strings.
 */
#include "hex.h"

#include <errno.h>
#include <string.h>

char *hex_fmt(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_parse(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;
	uint8_t acc = 0;

	if (!s)
		return -EINVAL;
	/* First validate, so that out is untouched on error. */
	for (const char *p = s; *p; p++) {
		if (*p == '-')
			continue;
		if (digit(*p) < 0 || ++got > 2 * n)
			return -EINVAL;
	}
	if (got != 2 * n)
		return -EINVAL;
	got = 0;
	for (; *s; s++) {
		if (*s == '-')
			continue;
		acc = (uint8_t)(acc << 4 | digit(*s));
		if (++got % 2 == 0)
			out[got / 2 - 1] = acc;
	}
	return 0;
}

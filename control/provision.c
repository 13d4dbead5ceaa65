/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision: lease id text helpers shared by every provisioner (see provision.h).
 * Pure functions: no I/O, no allocation.
 */
#include "provision.h"

#include <errno.h>
#include <stdio.h>

char *prov_lease_id_fmt(const uint8_t id[PROV_LEASE_ID_LEN], char buf[PROV_LEASE_ID_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < PROV_LEASE_ID_LEN; i++) {
		buf[o++] = hex[id[i] >> 4];
		buf[o++] = hex[id[i] & 15];
	}
	buf[o] = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int prov_lease_id_parse(const char *s, uint8_t id[PROV_LEASE_ID_LEN])
{
	uint8_t out[PROV_LEASE_ID_LEN];
	size_t n = 0;

	if (!s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s == '-')
			continue;
		int v = hexval(*s);
		if (v < 0 || n >= 2 * PROV_LEASE_ID_LEN)
			return -EINVAL;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	if (n != 2 * PROV_LEASE_ID_LEN)
		return -EINVAL;
	for (size_t i = 0; i < PROV_LEASE_ID_LEN; i++)
		id[i] = out[i];
	return 0;
}

uint32_t prov_lease_id_low32(const uint8_t id[PROV_LEASE_ID_LEN])
{
	return (uint32_t)id[12] << 24 | (uint32_t)id[13] << 16 | (uint32_t)id[14] << 8 | id[15];
}

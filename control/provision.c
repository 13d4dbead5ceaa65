/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision: lease id text helpers shared by every provisioner (see provision.h).
 * Pure functions: no I/O, no allocation.
 */
#include "provision.h"

#include "hex.h"

#include <errno.h>
#include <stdio.h>

char *prov_lease_id_fmt(const uint8_t id[PROV_LEASE_ID_LEN], char buf[PROV_LEASE_ID_STRLEN])
{
	return hex_fmt(id, PROV_LEASE_ID_LEN, buf);
}

int prov_lease_id_parse(const char *s, uint8_t id[PROV_LEASE_ID_LEN])
{
	return hex_parse(s, id, PROV_LEASE_ID_LEN);
}

uint32_t prov_lease_id_low32(const uint8_t id[PROV_LEASE_ID_LEN])
{
	return (uint32_t)id[12] << 24 | (uint32_t)id[13] << 16 | (uint32_t)id[14] << 8 | id[15];
}

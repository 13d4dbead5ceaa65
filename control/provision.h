/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision: the contract between committed leases and the systems that enforce them.
 *
 * A provisioner turns a committed lease into configuration of one outside system (FRR for
 * routing, BPF maps or tidal-dp for rates, hook commands for compute) and takes it away
 * again. Every provisioner implements the same ops table, so tidald drives them alike:
 *
 *   apply(lease)     make the lease's configuration present. Idempotent: applying twice,
 *                    or again after a restart, converges to the same state without
 *                    duplicates. All or nothing: on failure, whatever this call changed is
 *                    undone before it returns.
 *   withdraw(lease)  remove exactly what apply wrote for this lease id, nothing else.
 *                    Idempotent: withdrawing an absent lease succeeds.
 *   resync(leases)   after a restart: make the system hold exactly these leases (withdraw
 *                    what belongs to lease ids not in the list, apply the others). Goes
 *                    through the whole list even when some leases fail.
 *   last_error()     the message of the last failure (what failed, where, what to do).
 *
 * Errors are negative errno values, also logged. Provisioners write only objects they can
 * recognise as their own (docs/frr.md for FRR) and never change the operator's config.
 *
 * This header also owns the provisioner's view of a lease (struct prov_lease): the fields
 * the ledger/peering glue fills from a committed lease and the config.
 */
#ifndef TIDAL_CONTROL_PROVISION_H
#define TIDAL_CONTROL_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "units.h"

#define PROV_LEASE_ID_LEN 16
/* 32 hex digits plus NUL, as the ledger and tidalctl print ids */
#define PROV_LEASE_ID_STRLEN 33
/* Text of an IPv4 or IPv6 address plus NUL (INET6_ADDRSTRLEN). */
#define PROV_ADDR_MAX 46

/* A committed lease as provisioners see it. Plain data; the caller owns the prefixes. */
struct prov_lease {
	uint8_t id[PROV_LEASE_ID_LEN]; /* 128-bit lease id, network byte order */
	char peer[CFG_NAME_MAX];       /* region providing the lease (where the traffic goes) */
	/* Next-hop region: the BGP neighbor the lease's traffic is steered to. The peer itself
	 * for a direct lease, the transit region for a lease through a third region. */
	char via[CFG_NAME_MAX];
	char via_address[PROV_ADDR_MAX]; /* BGP neighbor address of `via` ([peer.VIA] host) */
	uint32_t via_asn;                /* its ASN; 0 = any external ASN ("remote-as external") */
	const struct cfg_prefix *prefixes; /* destinations to steer (host bits zero) */
	size_t n_prefixes;
	uint32_t local_pref; /* BGP local-preference of the leased path; 0 = provisioner default */
	/* Regions the traffic crosses after `via` (a transit lease: 1 for fra -> ams -> lon);
	 * 0 = direct. FRR lowers the default local-preference by 10 per region (docs/frr.md). */
	unsigned extra_hops;
	uint64_t rate_bps;   /* leased bandwidth in bits per second (rate provisioners) */
};

struct prov_ops {
	const char *name;
	int (*apply)(void *prov, const struct prov_lease *lease);
	int (*withdraw)(void *prov, const struct prov_lease *lease);
	int (*resync)(void *prov, const struct prov_lease *leases, size_t n);
	const char *(*last_error)(const void *prov);
	void (*free)(void *prov);
};

/* Lease id as 32 lowercase hex digits (the ledger's form); returns buf. */
char *prov_lease_id_fmt(const uint8_t id[PROV_LEASE_ID_LEN], char buf[PROV_LEASE_ID_STRLEN]);
/* Parse 32 hex digits, any case, dashes allowed anywhere (UUID text). 0 or -EINVAL. */
int prov_lease_id_parse(const char *s, uint8_t id[PROV_LEASE_ID_LEN]);
/* Low 32 bits of the id (its last four bytes), as carried in BGP large communities. */
uint32_t prov_lease_id_low32(const uint8_t id[PROV_LEASE_ID_LEN]);

#endif

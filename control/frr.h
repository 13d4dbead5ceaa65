/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr: the FRR provisioner. Steers committed leases in BGP through FRRouting's bgpd.
 *
 * For a lease to region PEER through next-hop region VIA it makes sure bgpd has a session
 * to VIA's neighbor address (configuring one, described "tidal: region VIA", only when
 * none exists) and that it is up, then prefers VIA's routes to the lease's prefixes with an
 * inbound route-map `tidal-in-VIA` that sets local-preference and adds the large community
 * ASN:84325:<low 32 bits of the lease id>. Everything it writes is named tidal-* (docs/
 * frr.md lists it all and says how an operator recognises and removes it).
 *
 * This module is the one place that talks to FRR: it runs `vtysh [-N pathspace] -d bgpd`
 * (config sent to bgpd only) and reads bgpd's state back with `show ... json`. Every
 * operation reads the current state, computes the wanted state, and sends only the
 * difference, so re-applying after a restart converges without duplicates. A vtysh error
 * is reported with the command that failed; a failure in the middle of an operation is
 * rolled back to the state read at its start (and the rollback verified).
 *
 * Owns: the handle and its last error message. Never changes configuration it did not
 * write (operator route-maps, prefix-lists, neighbors, bindings), never creates a
 * `router bgp` instance, never kills or restarts FRR. Calls block while vtysh runs (each
 * run bounded by timeout_ms; apply also waits up to session_timeout_ms for the session).
 */
#ifndef TIDAL_CONTROL_FRR_H
#define TIDAL_CONTROL_FRR_H

#include <stddef.h>
#include <stdint.h>

#include "provision.h"

struct frr;

struct frr_params {
	/* path of vtysh ([frr] vtysh); NULL = /usr/bin/vtysh */
	const char *vtysh;
	/* FRR pathspace, vtysh -N ([frr] pathspace); NULL or "" = the default instance */
	const char *pathspace;
	/* the region's ASN ([region] asn); must equal bgpd's `router bgp`; 0 = take bgpd's */
	uint32_t asn;
	/* local-preference for leases that carry none; 0 = 200 */
	uint32_t local_pref;
	/* bound on each vtysh run, milliseconds; 0 = 10000 */
	uint32_t timeout_ms;
	/* apply waits up to this long (ms) for the neighbor to be Established and rolls back
	 * if it is not; 0 = look once and only warn when it is down. */
	uint32_t session_timeout_ms;
};

/* Checks the parameters; does not contact FRR yet. NULL (logged) on bad parameters. */
struct frr *frr_open(const struct frr_params *p);
void frr_free(struct frr *f);

/* The provisioner operations (see provision.h for their contract). 0 or a negative errno:
 * -EINVAL bad lease or FRR refuses a value, -EEXIST the neighbor carries operator policy,
 * -ENOENT no BGP instance, -EIO a vtysh command failed (rolled back), -ETIMEDOUT vtysh or
 * the BGP session did not answer in time, -ENOMEM. */
int frr_apply(struct frr *f, const struct prov_lease *lease);
int frr_withdraw(struct frr *f, const struct prov_lease *lease);
int frr_resync(struct frr *f, const struct prov_lease *leases, size_t n);
/* "" when the last operation succeeded. */
const char *frr_last_error(const struct frr *f);

extern const struct prov_ops frr_prov_ops;

/* The tidald module (control/frr_mod.c): applies this region's active bandwidth leases
 * and withdraws them when they end, resyncs at start and reload. */
struct tidald_module_ops;
extern const struct tidald_module_ops tidald_frr_module;

/* The provisioner's view of a ledger lease, with the config (next-hop region and its
 * neighbor address from [peer.*], prefixes from the lease's match or app). 1 when there
 * is something to steer (out filled, out->prefixes = pfx), 0 when not (a lease of
 * another region, not bandwidth, no dst prefix), or a negative errno with why. */
struct ledger_lease;
int frr_lease_from_ledger(const struct tidal_cfg *cfg, const struct ledger_lease *x,
                          struct prov_lease *out, struct cfg_prefix *pfx, size_t max_pfx, char *why,
                          size_t whylen);

#endif

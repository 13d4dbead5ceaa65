/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr_target: what bgpd's configuration should look like after a lease operation.
 *
 * Each function takes a copy of the current state (frr_plan.h) and changes it into the
 * wanted state; control/frr.c then diffs the two into commands. For one lease with id ID
 * steered through next-hop region VIA (neighbor address A) the wanted state holds:
 *
 *   ip[v6] prefix-list tidal-lease-<ID hex> seq 5, 10, ... permit <each lease prefix>
 *   route-map tidal-in-VIA permit S         one entry per address family of the lease:
 *     description tidal lease <ID hex> to PEER via VIA
 *     match ip[v6] address prefix-list tidal-lease-<ID hex>
 *     set large-community <ASN>:84325:<low 32 bits of ID> additive
 *     set local-preference <LP>              the configured value (200 by default),
 *                                            minus 10 per region the lease crosses after
 *                                            VIA (transit), never below 101
 *   route-map tidal-in-VIA permit 65535     description tidal: everything else unchanged
 *   neighbor A route-map tidal-in-VIA in    in each address family the lease uses
 *   neighbor A remote-as <ASN or external>  only when bgpd had no neighbor A; described
 *                                           "tidal: region VIA"
 *
 * Owns nothing beyond the state it is given. Pure: no I/O. Refuses (never overrides) an
 * inbound route-map the operator put on the neighbor, and never activates an operator's
 * neighbor in an address family.
 */
#include "frr_plan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CATCHALL_DESC "tidal: everything else unchanged"


static const char *af_ip[FRR_AF_N] = {"ip", "ipv6"};
static const char *af_name[FRR_AF_N] = {"ipv4 unicast", "ipv6 unicast"};

/* The lease prefix-list an entry matches on ("" for none), and its address family. */
static const char *entry_lease_plist(const struct frr_rmap_entry *e, enum frr_af *af)
{
	for (size_t i = 0; i < e->n_match; i++) {
		for (int a = 0; a < FRR_AF_N; a++) {
			char head[40];
			size_t hl;

			snprintf(head, sizeof(head), "%s address prefix-list ", af_ip[a]);
			hl = strlen(head);
			if (!strncmp(e->match[i], head, hl) &&
			    !strncmp(e->match[i] + hl, FRR_PLIST_PREFIX,
			             strlen(FRR_PLIST_PREFIX))) {
				if (af)
					*af = (enum frr_af)a;
				return e->match[i] + hl;
			}
		}
	}
	return "";
}

static bool valid_region(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CFG_NAME_MAX || n + strlen(FRR_RMAP_PREFIX) >= FRR_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

/* Canonical "address/len" text of a lease prefix; -EINVAL if malformed. */
static int prefix_text(const struct cfg_prefix *p, char buf[FRR_PFX_MAX], enum frr_af *af)
{
	char addr[PROV_ADDR_MAX];
	unsigned bytes, max;

	if (p->family == AF_INET) {
		*af = FRR_AF_IPV4;
		bytes = 4;
	} else if (p->family == AF_INET6) {
		*af = FRR_AF_IPV6;
		bytes = 16;
	} else {
		return -EINVAL;
	}
	max = bytes * 8;
	if (p->len > max)
		return -EINVAL;
	for (unsigned bit = p->len; bit < max; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL; /* host bits set */
	if (!inet_ntop(p->family, p->addr, addr, sizeof(addr)))
		return -EINVAL;
	snprintf(buf, FRR_PFX_MAX, "%s/%u", addr, p->len);
	return 0;
}

static int cmp_pfx(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void rmap_remove_entry(struct frr_rmap *m, size_t i)
{
	frr_rmap_entry_free(&m->v[i]);
	FRR_REMOVE(m->v, m->n, i);
}

static void state_remove_rmap(struct frr_state *st, size_t i)
{
	struct frr_rmap *m = &st->rmaps[i];

	while (m->n)
		rmap_remove_entry(m, m->n - 1);
	free(m->v);
	FRR_REMOVE(st->rmaps, st->n_rmaps, i);
}

static struct frr_rmap_entry *rmap_entry(struct frr_rmap *m, uint32_t seq)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].seq == seq)
			return &m->v[i];
	return NULL;
}

/* Insert an empty entry keeping the seq order. */
static struct frr_rmap_entry *rmap_add_entry(struct frr_rmap *m, uint32_t seq)
{
	struct frr_rmap_entry *e = FRR_PUSH(m->v, m->n);
	size_t i;

	if (!e)
		return NULL;
	for (i = m->n - 1; i > 0 && m->v[i - 1].seq > seq; i--)
		m->v[i] = m->v[i - 1];
	memset(&m->v[i], 0, sizeof(m->v[i]));
	m->v[i].seq = seq;
	return &m->v[i];
}

static int set_clauses(char (**arr)[FRR_TEXT_MAX], size_t *n, const char *const *vals, size_t k)
{
	free(*arr);
	*arr = NULL;
	*n = 0;
	for (size_t i = 0; i < k; i++) {
		char(*slot)[FRR_TEXT_MAX] = FRR_PUSH(*arr, *n);

		if (!slot)
			return -ENOMEM;
		frr_copy(*slot, FRR_TEXT_MAX, vals[i]);
	}
	return 0;
}

/* Remove the entries of lease plist `pl` from every tidal route-map except `keep`
 * (for address family `only_af`, or all when only_af < 0). */
static void remove_lease_entries(struct frr_state *st, const char *pl, const char *keep,
                                 int only_af)
{
	for (size_t i = 0; i < st->n_rmaps; i++) {
		struct frr_rmap *m = &st->rmaps[i];

		if (keep && !strcmp(m->name, keep))
			continue;
		for (size_t j = m->n; j-- > 0;) {
			enum frr_af af;

			if (!strcmp(entry_lease_plist(&m->v[j], &af), pl) &&
			    (only_af < 0 || (int)af == only_af))
				rmap_remove_entry(m, j);
		}
	}
}

static void remove_plist(struct frr_state *st, const char *name, enum frr_af af)
{
	for (size_t i = 0; i < st->n_plists; i++) {
		if (st->plists[i].af == af && !strcmp(st->plists[i].name, name)) {
			free(st->plists[i].v);
			FRR_REMOVE(st->plists, st->n_plists, i);
			return;
		}
	}
}

static uint32_t free_seq(const struct frr_rmap *m)
{
	for (uint32_t s = 10; s < FRR_CATCHALL_SEQ; s += 10) {
		bool used = false;

		for (size_t i = 0; i < m->n && !used; i++)
			used = m->v[i].seq == s;
		if (!used)
			return s;
	}
	return 0;
}

/* The prefixes of one family, canonical, sorted, without duplicates. */
static int lease_prefixes(const struct prov_lease *l, enum frr_af want, char (**out)[FRR_PFX_MAX],
                          size_t *n, char *err, size_t errlen)
{
	for (size_t i = 0; i < l->n_prefixes; i++) {
		char txt[FRR_PFX_MAX];
		enum frr_af af;
		bool dup = false;

		if (prefix_text(&l->prefixes[i], txt, &af) < 0) {
			frr_errf(err, errlen,
			     "lease prefix %zu is malformed (family, length, or host "
			     "bits set)",
			     i + 1);
			return -EINVAL;
		}
		if (af != want)
			continue;
		for (size_t j = 0; j < *n && !dup; j++)
			dup = !strcmp((*out)[j], txt);
		if (dup)
			continue;
		char(*slot)[FRR_PFX_MAX] = FRR_PUSH(*out, *n);
		if (!slot)
			return -ENOMEM;
		memcpy(*slot, txt, FRR_PFX_MAX);
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_pfx);
	return 0;
}

static int target_plist(struct frr_state *st, const char *name, enum frr_af af,
                        char (*pfx)[FRR_PFX_MAX], size_t n)
{
	struct frr_plist *p = frr_state_plist(st, name, af);

	if (!p) {
		p = FRR_PUSH(st->plists, st->n_plists);
		if (!p)
			return -ENOMEM;
		frr_copy(p->name, sizeof(p->name), name);
		p->af = af;
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct frr_plist_entry *e = FRR_PUSH(p->v, p->n);

		if (!e)
			return -ENOMEM;
		e->seq = (uint32_t)(5 * (i + 1));
		e->permit = true;
		memcpy(e->prefix, pfx[i], FRR_PFX_MAX);
	}
	return 0;
}

static int target_entry(struct frr_rmap *m, const struct prov_lease *l, const char *pl,
                        enum frr_af af, uint32_t asn, uint32_t lp, char *err, size_t errlen)
{
	struct frr_rmap_entry *e = NULL;
	char idtxt[PROV_LEASE_ID_STRLEN], match[FRR_TEXT_MAX], lc[FRR_TEXT_MAX], lps[FRR_TEXT_MAX];
	char lcv[64];
	const char *sets[2] = {lc, lps}, *matches[1] = {match};
	int rc;

	for (size_t i = 0; i < m->n && !e; i++) {
		enum frr_af eaf;

		if (!strcmp(entry_lease_plist(&m->v[i], &eaf), pl) && eaf == af)
			e = &m->v[i];
	}
	if (!e) {
		uint32_t seq = free_seq(m);

		if (!seq) {
			frr_errf(err, errlen, "route-map %s is full (no free sequence number below %u)",
			     m->name, FRR_CATCHALL_SEQ);
			return -ENOSPC;
		}
		e = rmap_add_entry(m, seq);
		if (!e)
			return -ENOMEM;
	}
	e->permit = true;
	snprintf(e->desc, sizeof(e->desc), "tidal lease %s to %s via %s",
	         prov_lease_id_fmt(l->id, idtxt), l->peer, l->via);
	snprintf(match, sizeof(match), "%s address prefix-list %s", af_ip[af], pl);
	frr_lease_community(asn, l->id, lcv, sizeof(lcv));
	snprintf(lc, sizeof(lc), "large-community %s additive", lcv);
	snprintf(lps, sizeof(lps), "local-preference %u", lp);
	rc = set_clauses(&e->match, &e->n_match, matches, 1);
	if (!rc)
		rc = set_clauses(&e->set, &e->n_set, sets, 2);
	return rc;
}

int frr_lease_check(const struct prov_lease *l, char *err, size_t errlen)
{
	char idtxt[PROV_LEASE_ID_STRLEN], addr[PROV_ADDR_MAX], txt[FRR_PFX_MAX];

	prov_lease_id_fmt(l->id, idtxt);
	if (!valid_region(l->via) || !valid_region(l->peer)) {
		frr_errf(err, errlen,
		     "lease %s: region names must be 1-%d letters, digits or '-' "
		     "(peer '%.70s', via '%.70s')",
		     idtxt, CFG_NAME_MAX - 1, l->peer, l->via);
		return -EINVAL;
	}
	if (frr_canon_addr(l->via_address, addr) < 0) {
		frr_errf(err, errlen,
		     "lease %s: neighbor address of region %s is not an IP "
		     "address: '%.60s'",
		     idtxt, l->via, l->via_address);
		return -EINVAL;
	}
	if (!l->n_prefixes || !l->prefixes) {
		frr_errf(err, errlen, "lease %s has no prefixes to steer", idtxt);
		return -EINVAL;
	}
	for (size_t i = 0; i < l->n_prefixes; i++) {
		enum frr_af af;

		if (prefix_text(&l->prefixes[i], txt, &af) < 0) {
			frr_errf(err, errlen,
			     "lease %s: prefix %zu is malformed (family, length, or "
			     "host bits set)",
			     idtxt, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

uint32_t frr_transit_local_pref(uint32_t lp, unsigned extra_hops)
{
	uint64_t pen = (uint64_t)FRR_TRANSIT_LP_STEP * extra_hops;
	if (!extra_hops || lp <= FRR_TRANSIT_LP_FLOOR)
		return lp;
	return (uint64_t)lp > FRR_TRANSIT_LP_FLOOR + pen ? lp - (uint32_t)pen
	                                                 : FRR_TRANSIT_LP_FLOOR;
}

int frr_target_apply(struct frr_state *st, const struct prov_lease *l, uint32_t local_pref,
                     char *err, size_t errlen)
{
	char pl[FRR_NAME_MAX], rm[FRR_NAME_MAX], idtxt[PROV_LEASE_ID_STRLEN];
	char addr[PROV_ADDR_MAX];
	char(*pfx[FRR_AF_N])[FRR_PFX_MAX] = {NULL, NULL};
	size_t npfx[FRR_AF_N] = {0, 0};
	uint32_t lp = l->local_pref ? l->local_pref
	              : frr_transit_local_pref(local_pref ? local_pref : FRR_DEFAULT_LOCAL_PREF,
	                                       l->extra_hops);
	struct frr_rmap *m;
	struct frr_nbr *nb;
	int rc = 0;

	prov_lease_id_fmt(l->id, idtxt);
	if (!st->asn) {
		frr_errf(err, errlen,
		     "bgpd has no `router bgp` instance: tidal adds neighbors and "
		     "policy to it but never creates it");
		return -ENOENT;
	}
	rc = frr_lease_check(l, err, errlen);
	if (rc)
		return rc;
	frr_canon_addr(l->via_address, addr);
	for (int af = 0; af < FRR_AF_N && !rc; af++)
		rc = lease_prefixes(l, (enum frr_af)af, &pfx[af], &npfx[af], err, errlen);
	if (rc)
		goto out;
	frr_plist_name(l->id, pl);
	frr_rmap_name(l->via, rm);

	/* The neighbor: an existing one must accept our route-map in each family we need. */
	nb = frr_state_nbr(st, addr);
	for (int af = 0; af < FRR_AF_N && nb; af++) {
		if (!npfx[af])
			continue;
		if (!nb->active[af] && !frr_nbr_is_tidal(nb)) {
			frr_errf(err, errlen,
			     "neighbor %s (region %s) is not activated for %s in "
			     "FRR; tidal does not change operator neighbors: activate "
			     "it, or steer lease %s another way",
			     addr, l->via, af_name[af], idtxt);
			rc = -EINVAL;
			goto out;
		}
		if (nb->rmap_in[af][0] && strcmp(nb->rmap_in[af], rm)) {
			if (frr_is_tidal_name(nb->rmap_in[af]))
				frr_errf(err, errlen,
				     "neighbor %s already carries tidal's route-map %s "
				     "for %s, not %s: two regions name one neighbor "
				     "address",
				     addr, nb->rmap_in[af], af_name[af], rm);
			else
				frr_errf(err, errlen,
				     "neighbor %s (region %s) has the operator's "
				     "inbound route-map '%s' for %s; tidal never replaces "
				     "operator policy: remove it or move it elsewhere to "
				     "let tidal steer lease %s (docs/frr.md)",
				     addr, l->via, nb->rmap_in[af], af_name[af], idtxt);
			rc = -EEXIST;
			goto out;
		}
	}
	if (!nb) {
		nb = FRR_PUSH(st->nbrs, st->n_nbrs);
		if (!nb) {
			rc = -ENOMEM;
			goto out;
		}
		frr_copy(nb->addr, sizeof(nb->addr), addr);
		nb->remote_as = l->via_asn;
		snprintf(nb->desc, sizeof(nb->desc), "%s region %s", FRR_NBR_DESC_PREFIX, l->via);
	}

	/* Prefix-lists and route-map entries of this lease, only in tidal-in-VIA. */
	remove_lease_entries(st, pl, rm, -1);
	m = frr_state_rmap(st, rm);
	if (!m) {
		m = FRR_PUSH(st->rmaps, st->n_rmaps);
		if (!m) {
			rc = -ENOMEM;
			goto out;
		}
		frr_copy(m->name, sizeof(m->name), rm);
	}
	for (int af = 0; af < FRR_AF_N && !rc; af++) {
		if (npfx[af]) {
			rc = target_plist(st, pl, (enum frr_af)af, pfx[af], npfx[af]);
			if (!rc)
				rc = target_entry(m, l, pl, (enum frr_af)af, st->asn, lp, err,
				                  errlen);
			if (!rc) {
				if (frr_nbr_is_tidal(nb))
					nb->active[af] = true;
				frr_copy(nb->rmap_in[af], FRR_NAME_MAX, rm);
			}
		} else {
			remove_lease_entries(st, pl, NULL, af);
			remove_plist(st, pl, (enum frr_af)af);
		}
	}
	if (rc)
		goto out;
	{
		struct frr_rmap_entry *c = rmap_entry(m, FRR_CATCHALL_SEQ);

		if (!c)
			c = rmap_add_entry(m, FRR_CATCHALL_SEQ);
		if (!c) {
			rc = -ENOMEM;
			goto out;
		}
		frr_rmap_entry_free(c);
		c->permit = true;
		frr_copy(c->desc, sizeof(c->desc), CATCHALL_DESC);
	}
	frr_target_gc(st);
out:
	free(pfx[0]);
	free(pfx[1]);
	return rc;
}

void frr_target_withdraw(struct frr_state *st, const uint8_t id[PROV_LEASE_ID_LEN])
{
	char pl[FRR_NAME_MAX];

	frr_plist_name(id, pl);
	remove_lease_entries(st, pl, NULL, -1);
	for (int af = 0; af < FRR_AF_N; af++)
		remove_plist(st, pl, (enum frr_af)af);
	frr_target_gc(st);
}

void frr_target_retain(struct frr_state *st, const struct prov_lease *leases, size_t n)
{
	for (size_t i = 0; i < st->n_rmaps; i++) {
		struct frr_rmap *m = &st->rmaps[i];

		for (size_t j = m->n; j-- > 0;) {
			const char *pl = entry_lease_plist(&m->v[j], NULL);
			bool keep = false;

			if (!*pl)
				continue;
			for (size_t k = 0; k < n && !keep; k++) {
				char name[FRR_NAME_MAX];

				frr_plist_name(leases[k].id, name);
				keep = !strcmp(name, pl);
			}
			if (!keep)
				rmap_remove_entry(m, j);
		}
	}
	frr_target_gc(st);
}

void frr_target_gc(struct frr_state *st)
{
	/* Route-maps: bound only in the families their lease entries use; gone without any. */
	for (size_t i = st->n_rmaps; i-- > 0;) {
		struct frr_rmap *m = &st->rmaps[i];
		bool has[FRR_AF_N] = {false, false};

		for (size_t j = 0; j < m->n; j++) {
			enum frr_af af;

			if (*entry_lease_plist(&m->v[j], &af))
				has[af] = true;
		}
		for (size_t k = 0; k < st->n_nbrs; k++)
			for (int af = 0; af < FRR_AF_N; af++)
				if (!has[af] && !strcmp(st->nbrs[k].rmap_in[af], m->name))
					st->nbrs[k].rmap_in[af][0] = '\0';
		if (!has[FRR_AF_IPV4] && !has[FRR_AF_IPV6])
			state_remove_rmap(st, i);
	}
	/* Lease prefix-lists no route-map entry refers to. */
	for (size_t i = st->n_plists; i-- > 0;) {
		struct frr_plist *p = &st->plists[i];
		bool used = false;

		if (strncmp(p->name, FRR_PLIST_PREFIX, strlen(FRR_PLIST_PREFIX)))
			continue;
		for (size_t k = 0; k < st->n_rmaps && !used; k++)
			for (size_t j = 0; j < st->rmaps[k].n && !used; j++) {
				enum frr_af af;

				used = !strcmp(entry_lease_plist(&st->rmaps[k].v[j], &af),
				               p->name) &&
				       af == p->af;
			}
		if (!used) {
			free(p->v);
			FRR_REMOVE(st->plists, st->n_plists, i);
		}
	}
	/* Neighbors tidal configured that no tidal route-map uses any more. */
	for (size_t k = st->n_nbrs; k-- > 0;) {
		struct frr_nbr *nb = &st->nbrs[k];

		if (frr_nbr_is_tidal(nb) && !nb->rmap_in[FRR_AF_IPV4][0] &&
		    !nb->rmap_in[FRR_AF_IPV6][0])
			FRR_REMOVE(st->nbrs, st->n_nbrs, k);
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr_plan: the pure half of the FRR provisioner (private to control/frr*.c and its tests).
 *
 * A model of the part of bgpd's configuration tidal cares about (struct frr_state: tidal's
 * prefix-lists and route-maps, every BGP neighbor with its inbound route-maps), parsed from
 * `show ... json`; functions that turn a copy of it into the state a lease operation wants
 * (frr_target_*); and the planner that diffs two states into vtysh config commands, plus
 * the scanner that finds the failing command in vtysh's echoed output.
 *
 * Owns: the states, plans and line lists it builds (each has a _free). Never does I/O and
 * never produces a command that changes an object it does not recognise as tidal's:
 * `tidal-` route-maps and prefix-lists, neighbors described "tidal: ...", and the inbound
 * route-map binding of a neighbor only while it is empty or a tidal- route-map.
 */
#ifndef TIDAL_CONTROL_FRR_PLAN_H
#define TIDAL_CONTROL_FRR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provision.h"

#define FRR_NAME_MAX 96   /* prefix-list, route-map and neighbor names */
#define FRR_TEXT_MAX 256  /* descriptions, clauses, commands */
#define FRR_PFX_MAX  52   /* "address/len" */
#define FRR_ERR_MAX  1024 /* error messages */

#define FRR_TIDAL_PREFIX       "tidal-"       /* every route-map and prefix-list tidal writes */
#define FRR_PLIST_PREFIX       "tidal-lease-" /* + 32 hex digits of the lease id */
#define FRR_RMAP_PREFIX        "tidal-in-"    /* + the next-hop region name */
#define FRR_NBR_DESC_PREFIX    "tidal:"       /* description of neighbors tidal configured */
#define FRR_CATCHALL_SEQ       65535          /* last entry of a tidal route-map: permit the rest */
#define FRR_LC_FUNCTION        84325          /* large community local data part 1 ("TIDAL") */
#define FRR_DEFAULT_LOCAL_PREF 200

enum frr_af { FRR_AF_IPV4 = 0, FRR_AF_IPV6 = 1, FRR_AF_N };

struct frr_plist_entry {
	uint32_t seq;
	bool permit;
	char prefix[FRR_PFX_MAX];
};

struct frr_plist {
	char name[FRR_NAME_MAX];
	enum frr_af af;
	struct frr_plist_entry *v;
	size_t n;
};

struct frr_rmap_entry {
	uint32_t seq;
	bool permit;
	char desc[FRR_TEXT_MAX];
	char (*match)[FRR_TEXT_MAX]; /* as `show route-map json` prints them, without "match " */
	size_t n_match;
	char (*set)[FRR_TEXT_MAX]; /* without "set " */
	size_t n_set;
};

struct frr_rmap {
	char name[FRR_NAME_MAX];
	struct frr_rmap_entry *v; /* sorted by seq */
	size_t n;
};

struct frr_nbr {
	char addr[FRR_NAME_MAX]; /* address (canonical text) or interface name */
	uint32_t remote_as;      /* 0: "external" (or unknown) */
	char desc[FRR_TEXT_MAX];
	char state[32]; /* bgpState: Established, Active, Idle, ... */
	bool active[FRR_AF_N];
	char rmap_in[FRR_AF_N][FRR_NAME_MAX]; /* inbound route-map per address family, or "" */
};

struct frr_state {
	uint32_t asn;             /* of `router bgp`; 0 when bgpd has no instance */
	struct frr_plist *plists; /* tidal- ones only */
	size_t n_plists;
	struct frr_rmap *rmaps; /* tidal- ones only */
	size_t n_rmaps;
	struct frr_nbr *nbrs; /* all */
	size_t n_nbrs;
};

void frr_state_free(struct frr_state *st); /* contents; st itself is the caller's */
int frr_state_copy(struct frr_state *dst, const struct frr_state *src);
void frr_rmap_entry_free(struct frr_rmap_entry *e);
int frr_rmap_entry_copy(struct frr_rmap_entry *dst, const struct frr_rmap_entry *src);

/* Growable arrays: FRR_PUSH(arr, n) appends a zeroed element and returns it, or returns
 * NULL (arr and n unchanged) when out of memory. */
void *frr_vec_push(void *base, size_t *n, size_t size, bool *ok);
void frr_vec_remove(void *base, size_t *n, size_t size, size_t i);
#define FRR_PUSH(arr, n)                                                                           \
	({                                                                                         \
		bool ok_;                                                                          \
		(arr) = frr_vec_push((arr), &(n), sizeof(*(arr)), &ok_);                           \
		ok_ ? &(arr)[(n)-1] : NULL;                                                        \
	})
#define FRR_REMOVE(arr, n, i) frr_vec_remove((arr), &(n), sizeof(*(arr)), (i))
/* Copy with truncation; false when src did not fit. */
bool frr_copy(char *dst, size_t len, const char *src);

/* Parsers of bgpd's JSON (`vtysh -d bgpd -c '...'`). Each returns 0, or -EINVAL with a
 * message in err naming what was unexpected. */
int frr_state_parse_plists(struct frr_state *st, enum frr_af af, const char *json, char *err,
                           size_t errlen); /* show ip[v6] prefix-list json */
int frr_state_parse_rmaps(struct frr_state *st, const char *json, char *err, size_t errlen);
int frr_state_parse_nbrs(struct frr_state *st, const char *json, char *err, size_t errlen);
/* The `router bgp` ASN: "as" of `show bgp ipv4|ipv6 unicast summary json`, or "localAS" of
 * `show bgp ipv4 unicast json`; st->asn stays 0 when the output has neither. */
int frr_state_parse_asn(struct frr_state *st, const char *json, const char *what, char *err,
                        size_t errlen);

struct frr_nbr *frr_state_nbr(const struct frr_state *st, const char *addr);
struct frr_rmap *frr_state_rmap(const struct frr_state *st, const char *name);
struct frr_plist *frr_state_plist(const struct frr_state *st, const char *name, enum frr_af af);

/* Names and values tidal writes. */
void frr_plist_name(const uint8_t id[PROV_LEASE_ID_LEN], char buf[FRR_NAME_MAX]);
void frr_rmap_name(const char *via, char buf[FRR_NAME_MAX]);
void frr_lease_community(uint32_t asn, const uint8_t id[PROV_LEASE_ID_LEN], char *buf,
                         size_t len); /* "65001:84325:3437096703" */
bool frr_is_tidal_name(const char *name);
/* Canonical text of an IPv4/IPv6 address (as bgpd prints it); -EINVAL if not one. */
int frr_canon_addr(const char *in, char out[PROV_ADDR_MAX]);
bool frr_nbr_is_tidal(const struct frr_nbr *n);

/* Check a lease's fields (names, address, prefixes) before anything talks to FRR.
 * 0, or -EINVAL with err saying which field is wrong. */
int frr_lease_check(const struct prov_lease *l, char *err, size_t errlen);

/* The local-preference of a lease that crosses extra_hops regions after its next hop: lp
 * minus FRR_TRANSIT_LP_STEP per region, never below FRR_TRANSIT_LP_FLOOR (above BGP's
 * default 100, so a leased path still beats an unleased one); lp itself when it is at the
 * floor already or the lease is direct. A direct lease and a transit lease for the same
 * prefixes are then ordered: the direct path carries them, the transit one takes over
 * when the direct route goes away (docs/frr.md). */
#define FRR_TRANSIT_LP_STEP  10
#define FRR_TRANSIT_LP_FLOOR 101
uint32_t frr_transit_local_pref(uint32_t lp, unsigned extra_hops);

/* Targets: change st (a copy of the current state) into what an operation wants.
 * Return 0, or a negative errno with err saying why (st is then unspecified). */
int frr_target_apply(struct frr_state *st, const struct prov_lease *l, uint32_t local_pref,
                     char *err, size_t errlen);
void frr_target_withdraw(struct frr_state *st, const uint8_t id[PROV_LEASE_ID_LEN]);
/* Keep only the leases whose ids are listed (resync's first step). */
void frr_target_retain(struct frr_state *st, const struct prov_lease *leases, size_t n);
/* Drop what no lease needs any more: unreferenced tidal-lease- prefix-lists, tidal
 * route-maps without lease entries (and their bindings), tidal neighbors left unbound. */
void frr_target_gc(struct frr_state *st);

/* Config context of a command: "" (configure terminal), "route-map N permit S",
 * "router bgp ASN", or "router bgp ASN" + "address-family ipv4 unicast". */
struct frr_ctx {
	char l1[FRR_TEXT_MAX];
	char l2[40];
};

struct frr_cmd {
	struct frr_ctx ctx;
	char text[FRR_TEXT_MAX]; /* "" = only enter the context (creates a route-map entry) */
};

struct frr_soft {
	char addr[FRR_NAME_MAX];
	enum frr_af af;
};

struct frr_plan {
	struct frr_cmd *v;
	size_t n;
	/* Established neighbors whose inbound policy changed: `clear bgp ... soft in`. */
	struct frr_soft *soft;
	size_t n_soft;
};

void frr_plan_free(struct frr_plan *p);
/* "clear bgp ipv4 unicast ADDR soft in"; returns buf. */
const char *frr_soft_command(const struct frr_soft *s, char *buf, size_t len);
/* Commands that turn cur into tgt. -EPERM (with err) if that would change something that
 * is not tidal's; -ENOMEM. An empty plan means the states agree. */
int frr_plan_diff(const struct frr_state *cur, const struct frr_state *tgt, struct frr_plan *p,
                  char *err, size_t errlen);

/* The vtysh -c lines of a plan: "configure terminal", context changes, commands, "end".
 * cmd[i] is the plan command line i belongs to. */
struct frr_lines {
	char **v;
	size_t *cmd;
	size_t n;
};
void frr_lines_free(struct frr_lines *l);
int frr_plan_render(const struct frr_plan *p, struct frr_lines *out);

/* Scan `vtysh -E` output for the first failed line: a line starting with '%' after the
 * echo of line i. Returns the index of the failing line and copies the message, or
 * returns -1 when no line failed. *n_echoed gets how many lines vtysh echoed. */
long frr_echo_scan(const struct frr_lines *l, const char *output, size_t *n_echoed, char *msg,
                   size_t msglen);

/* Format a message into err (when err and errlen are set): the error out-parameter
 * convention of the frr_* pure functions. */
void frr_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

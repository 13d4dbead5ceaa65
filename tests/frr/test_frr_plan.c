/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the FRR provisioner's pure half (control/frr_plan.h): parsing bgpd's JSON
 * (fixtures in tests/frr/data captured from the three-regions lab before and after one
 * lease), the wanted state of apply/withdraw/resync, the command plans between states,
 * their rendering into vtysh lines, and finding the failing line in vtysh's echo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frr_plan.h"

#ifndef FRR_TEST_DATA
#error "FRR_TEST_DATA must name tests/frr/data"
#endif

static const char *ID1 = "00112233-4455-6677-8899-aabbccddeeff";
static const char *ID2 = "0a0b0c0d-0000-4000-8000-000000000002";

static char *slurp(const char *name)
{
	char path[512];
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", FRR_TEST_DATA, name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* Load a fixture set ("base" or "leased") into st. */
static void load(struct frr_state *st, const char *set)
{
	static const char *parts[] = {"plist4", "plist6", "rmap", "nbrs", "summary4"};
	char err[256] = "", name[64];

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 5; i++) {
		char *json;
		int rc;

		snprintf(name, sizeof(name), "%s-%s.json", set, parts[i]);
		json = slurp(name);
		switch (i) {
		case 0:
			rc = frr_state_parse_plists(st, FRR_AF_IPV4, json, err, sizeof(err));
			break;
		case 1:
			rc = frr_state_parse_plists(st, FRR_AF_IPV6, json, err, sizeof(err));
			break;
		case 2:
			rc = frr_state_parse_rmaps(st, json, err, sizeof(err));
			break;
		case 3:
			rc = frr_state_parse_nbrs(st, json, err, sizeof(err));
			break;
		default:
			rc = frr_state_parse_asn(st, json, name, err, sizeof(err));
			break;
		}
		free(json);
		if (rc)
			fail_msg("%s: %s", name, err);
	}
}

struct lease_fixture {
	struct prov_lease l;
	struct cfg_prefix pfx[4];
};

static void prefix(struct cfg_prefix *p, const char *addr, unsigned len)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, p->addr), 1);
		p->family = AF_INET6;
	}
	p->len = (uint8_t)len;
}

/* Lease ID from a to PEER via VIA (address ADDR); prefixes "addr/len" strings. */
static void lease(struct lease_fixture *f, const char *id, const char *peer, const char *via,
                  const char *addr, uint32_t asn, uint32_t lp, const char *p1, const char *p2)
{
	const char *ps[2] = {p1, p2};

	memset(f, 0, sizeof(*f));
	assert_int_equal(prov_lease_id_parse(id, f->l.id), 0);
	snprintf(f->l.peer, sizeof(f->l.peer), "%s", peer);
	snprintf(f->l.via, sizeof(f->l.via), "%s", via);
	snprintf(f->l.via_address, sizeof(f->l.via_address), "%s", addr);
	f->l.via_asn = asn;
	f->l.local_pref = lp;
	for (int i = 0; i < 2 && ps[i]; i++) {
		char a[64];
		const char *slash = strchr(ps[i], '/');

		snprintf(a, sizeof(a), "%.*s", (int)(slash - ps[i]), ps[i]);
		prefix(&f->pfx[i], a, (unsigned)atoi(slash + 1));
		f->l.n_prefixes++;
	}
	f->l.prefixes = f->pfx;
}

/* The plan's commands as "ctx1|ctx2|text" lines joined by '\n'. */
static char *plan_text(const struct frr_plan *p)
{
	size_t cap = 64 + p->n * (3 * FRR_TEXT_MAX + 4), o = 0;
	char *s = calloc(1, cap);

	assert_non_null(s);
	for (size_t i = 0; i < p->n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s|%s|%s\n", p->v[i].ctx.l1, p->v[i].ctx.l2,
		                      p->v[i].text);
	return s;
}

static void diff(const struct frr_state *cur, const struct frr_state *tgt, struct frr_plan *p)
{
	char err[512] = "";

	if (frr_plan_diff(cur, tgt, p, err, sizeof(err)))
		fail_msg("plan: %s", err);
}

static void assert_same(const struct frr_state *a, const struct frr_state *b)
{
	struct frr_plan p;

	diff(a, b, &p);
	if (p.n) {
		char *t = plan_text(&p);

		fail_msg("states differ by:\n%s", t);
	}
	frr_plan_free(&p);
}

static void target_apply(struct frr_state *st, const struct prov_lease *l)
{
	char err[512] = "";

	if (frr_target_apply(st, l, 0, err, sizeof(err)))
		fail_msg("apply: %s", err);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_names(void **unused)
{
	uint8_t id[16];
	char buf[FRR_NAME_MAX], idtxt[PROV_LEASE_ID_STRLEN];

	(void)unused;
	assert_int_equal(prov_lease_id_parse(ID1, id), 0);
	assert_string_equal(prov_lease_id_fmt(id, idtxt), "00112233445566778899aabbccddeeff");
	assert_int_equal(prov_lease_id_parse("00112233445566778899AABBCCDDEEFF", id), 0);
	assert_string_equal(prov_lease_id_fmt(id, idtxt), "00112233445566778899aabbccddeeff");
	assert_int_equal(prov_lease_id_parse("00112233-4455", id), -EINVAL);
	assert_int_equal(prov_lease_id_parse("00112233445566778899aabbccddeeff00", id), -EINVAL);
	assert_int_equal(prov_lease_id_parse("0011223344556677889zaabbccddeeff", id), -EINVAL);
	assert_int_equal(prov_lease_id_low32(id), 0xccddeeffu);
	frr_plist_name(id, buf);
	assert_string_equal(buf, "tidal-lease-00112233445566778899aabbccddeeff");
	frr_rmap_name("ams-2", buf);
	assert_string_equal(buf, "tidal-in-ams-2");
	frr_lease_community(4200000000u, id, buf, sizeof(buf));
	assert_string_equal(buf, "4200000000:84325:3437096703");
	assert_true(frr_is_tidal_name("tidal-in-b"));
	assert_false(frr_is_tidal_name("operator-out"));
}

static void test_parse_fixtures(void **unused)
{
	struct frr_state base, leased;
	struct frr_nbr *nb;
	struct frr_rmap *m;
	struct frr_plist *pl;

	(void)unused;
	load(&base, "base");
	assert_int_equal(base.asn, 65001);
	assert_int_equal(base.n_plists, 0); /* operator-site is not tidal's */
	assert_int_equal(base.n_rmaps, 0);
	assert_int_equal(base.n_nbrs, 2);
	nb = frr_state_nbr(&base, "10.255.1.2");
	assert_non_null(nb);
	assert_string_equal(nb->desc, "region b");
	assert_string_equal(nb->state, "Established");
	assert_int_equal(nb->remote_as, 65002);
	assert_true(nb->active[FRR_AF_IPV4]);
	assert_false(nb->active[FRR_AF_IPV6]);
	assert_string_equal(nb->rmap_in[FRR_AF_IPV4], "");

	load(&leased, "leased");
	pl = frr_state_plist(&leased, "tidal-lease-00112233445566778899aabbccddeeff", FRR_AF_IPV4);
	assert_non_null(pl);
	assert_int_equal(pl->n, 1);
	assert_int_equal(pl->v[0].seq, 5);
	assert_true(pl->v[0].permit);
	assert_string_equal(pl->v[0].prefix, "10.3.0.0/24");
	m = frr_state_rmap(&leased, "tidal-in-b");
	assert_non_null(m);
	assert_int_equal(m->n, 2);
	assert_int_equal(m->v[0].seq, 10);
	assert_int_equal(m->v[1].seq, 65535);
	assert_string_equal(m->v[0].match[0],
	                    "ip address prefix-list tidal-lease-00112233445566778899aabbccddeeff");
	assert_int_equal(m->v[0].n_set, 2);
	assert_string_equal(m->v[1].desc, "tidal: everything else unchanged");
	assert_string_equal(frr_state_nbr(&leased, "10.255.1.2")->rmap_in[FRR_AF_IPV4],
	                    "tidal-in-b");
	frr_state_free(&base);
	frr_state_free(&leased);
	frr_state_free(NULL);
}

static void test_parse_errors(void **unused)
{
	struct frr_state st = {0};
	char err[256] = "";

	(void)unused;
	assert_int_equal(frr_state_parse_rmaps(&st, "% Unknown command", err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "show route-map json: not JSON"));
	assert_int_equal(frr_state_parse_nbrs(&st, "[1,2]", err, sizeof(err)), -EINVAL);
	assert_int_equal(frr_state_parse_plists(&st, FRR_AF_IPV4,
	                                        "{\"BGP\":{\"tidal-x\":{\"entries\":3}}}", err,
	                                        sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "tidal-x"));
	assert_int_equal(
	        frr_state_parse_nbrs(&st, "{\"bgpNoSuchNeighbor\":true}", err, sizeof(err)), 0);
	assert_int_equal(st.n_nbrs, 0);
	assert_int_equal(frr_state_parse_asn(&st, "{}", "summary", err, sizeof(err)), 0);
	assert_int_equal(st.asn, 0); /* no BGP instance */
	assert_int_equal(frr_state_parse_asn(&st, "{\"localAS\": 4200000001, \"routes\": {}}",
	                                     "table", err, sizeof(err)),
	                 0);
	assert_int_equal(st.asn, 4200000001u);
	frr_state_free(&st);
}

/* Applying to the lab's baseline gives exactly these commands, and the state bgpd reported
 * after they ran (the "leased" fixture) equals the target: re-applying is a no-op. */
static void test_apply_from_base(void **unused)
{
	struct frr_state base, tgt, leased;
	struct lease_fixture f;
	struct frr_plan p;
	char *t;

	(void)unused;
	load(&base, "base");
	load(&leased, "leased");
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 200, "10.3.0.0/24", NULL);
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	target_apply(&tgt, &f.l);
	diff(&base, &tgt, &p);
	t = plan_text(&p);
	assert_string_equal(
	        t, "||ip prefix-list tidal-lease-00112233445566778899aabbccddeeff seq 5 permit "
	           "10.3.0.0/24\n"
	           "route-map tidal-in-b permit 10||description tidal lease "
	           "00112233445566778899aabbccddeeff to c via b\n"
	           "route-map tidal-in-b permit 10||match ip address prefix-list "
	           "tidal-lease-00112233445566778899aabbccddeeff\n"
	           "route-map tidal-in-b permit 10||set large-community 65001:84325:3437096703 "
	           "additive\n"
	           "route-map tidal-in-b permit 10||set local-preference 200\n"
	           "route-map tidal-in-b permit 65535||description tidal: everything else "
	           "unchanged\n"
	           "router bgp 65001|address-family ipv4 unicast|neighbor 10.255.1.2 route-map "
	           "tidal-in-b in\n");
	assert_int_equal(p.n_soft, 1);
	assert_string_equal(p.soft[0].addr, "10.255.1.2");
	free(t);
	frr_plan_free(&p);
	assert_same(&leased, &tgt);

	/* apply on the leased state changes nothing */
	frr_state_free(&tgt);
	assert_int_equal(frr_state_copy(&tgt, &leased), 0);
	target_apply(&tgt, &f.l);
	assert_same(&leased, &tgt);
	frr_state_free(&tgt);
	frr_state_free(&base);
	frr_state_free(&leased);
}

static void test_withdraw_from_leased(void **unused)
{
	struct frr_state base, tgt, leased;
	struct lease_fixture f;
	struct frr_plan p;
	char *t;

	(void)unused;
	load(&base, "base");
	load(&leased, "leased");
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 200, "10.3.0.0/24", NULL);
	assert_int_equal(frr_state_copy(&tgt, &leased), 0);
	frr_target_withdraw(&tgt, f.l.id);
	diff(&leased, &tgt, &p);
	t = plan_text(&p);
	assert_string_equal(t,
	                    "router bgp 65001|address-family ipv4 unicast|no neighbor "
	                    "10.255.1.2 route-map tidal-in-b in\n"
	                    "||no route-map tidal-in-b permit 10\n"
	                    "||no route-map tidal-in-b permit 65535\n"
	                    "||no ip prefix-list tidal-lease-00112233445566778899aabbccddeeff\n");
	free(t);
	frr_plan_free(&p);
	assert_same(&base, &tgt);

	/* resync with no lease: the same; with the lease: nothing */
	frr_state_free(&tgt);
	assert_int_equal(frr_state_copy(&tgt, &leased), 0);
	frr_target_retain(&tgt, NULL, 0);
	assert_same(&base, &tgt);
	frr_state_free(&tgt);
	assert_int_equal(frr_state_copy(&tgt, &leased), 0);
	frr_target_retain(&tgt, &f.l, 1);
	assert_same(&leased, &tgt);
	frr_state_free(&tgt);
	frr_state_free(&base);
	frr_state_free(&leased);
}

static void test_update_in_place(void **unused)
{
	struct frr_state leased, tgt;
	struct lease_fixture f;
	struct frr_plan p;
	char *t;

	(void)unused;
	load(&leased, "leased");
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 300, "10.3.0.0/24", "10.3.1.0/24");
	assert_int_equal(frr_state_copy(&tgt, &leased), 0);
	target_apply(&tgt, &f.l);
	diff(&leased, &tgt, &p);
	t = plan_text(&p);
	assert_string_equal(t, "||ip prefix-list tidal-lease-00112233445566778899aabbccddeeff "
	                       "seq 10 permit 10.3.1.0/24\n"
	                       "route-map tidal-in-b permit 10||set local-preference 300\n");
	assert_int_equal(p.n_soft, 1);
	free(t);
	frr_plan_free(&p);
	frr_state_free(&tgt);
	frr_state_free(&leased);
}

/* The lease moves from transit b to direct c: bind c first, then unbind b. */
static void test_move_via(void **unused)
{
	struct frr_state leased, tgt;
	struct lease_fixture f;
	struct frr_plan p;
	char *t, *bind_c, *unbind_b;

	(void)unused;
	load(&leased, "leased");
	lease(&f, ID1, "c", "c", "10.255.3.2", 65003, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_state_copy(&tgt, &leased), 0);
	target_apply(&tgt, &f.l);
	assert_null(frr_state_rmap(&tgt, "tidal-in-b"));
	assert_non_null(frr_state_rmap(&tgt, "tidal-in-c"));
	diff(&leased, &tgt, &p);
	t = plan_text(&p);
	bind_c = strstr(t, "neighbor 10.255.3.2 route-map tidal-in-c in");
	unbind_b = strstr(t, "no neighbor 10.255.1.2 route-map tidal-in-b in");
	assert_non_null(bind_c);
	assert_non_null(unbind_b);
	assert_true(bind_c < unbind_b);
	assert_non_null(strstr(t, "set local-preference 200")); /* the default */
	assert_null(strstr(t, "||ip prefix-list"));             /* the list itself is unchanged */
	assert_null(strstr(t, "||no ip prefix-list"));
	free(t);
	frr_plan_free(&p);
	frr_state_free(&tgt);
	frr_state_free(&leased);
}

/* The set clause "local-preference N" of the entry for lease plist `pl` in route-map rm. */
static unsigned entry_lp(const struct frr_state *st, const char *rm, const char *id)
{
	const struct frr_rmap *m = frr_state_rmap(st, rm);
	uint8_t bin[16];
	char pl[FRR_NAME_MAX];

	assert_non_null(m);
	assert_int_equal(prov_lease_id_parse(id, bin), 0);
	frr_plist_name(bin, pl);
	for (size_t i = 0; i < m->n; i++) {
		bool ours = false;

		for (size_t k = 0; k < m->v[i].n_match; k++)
			ours |= strstr(m->v[i].match[k], pl) != NULL;
		for (size_t k = 0; ours && k < m->v[i].n_set; k++)
			if (!strncmp(m->v[i].set[k], "local-preference ", 17))
				return (unsigned)atoi(m->v[i].set[k] + 17);
	}
	fail_msg("no entry for %s in %s", pl, rm);
	return 0;
}

/* A direct lease (via the peer c) and a transit lease (via b, one region further) for the
 * same prefixes: the transit one gets the lower local-preference, so BGP prefers the
 * direct path and falls back to the transit one only without it. */
static void test_transit_local_pref(void **unused)
{
	struct frr_state base, tgt;
	struct lease_fixture direct, transit, far;
	char err[512] = "";

	(void)unused;
	assert_int_equal(frr_transit_local_pref(200, 0), 200);
	assert_int_equal(frr_transit_local_pref(200, 1), 190);
	assert_int_equal(frr_transit_local_pref(200, 3), 170);
	assert_int_equal(frr_transit_local_pref(200, 10), 101); /* never below 101 */
	assert_int_equal(frr_transit_local_pref(111, 1), 101);
	assert_int_equal(frr_transit_local_pref(105, 1), 101);
	assert_int_equal(frr_transit_local_pref(101, 2), 101);
	assert_int_equal(frr_transit_local_pref(100, 1), 100); /* no room below: unchanged */
	assert_int_equal(frr_transit_local_pref(UINT32_MAX, 1), UINT32_MAX - 10);

	load(&base, "base");
	lease(&direct, ID1, "c", "c", "10.255.3.2", 65003, 0, "10.3.0.0/24", NULL);
	lease(&transit, ID2, "c", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	transit.l.extra_hops = 1;
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	target_apply(&tgt, &direct.l);
	target_apply(&tgt, &transit.l);
	assert_int_equal(entry_lp(&tgt, "tidal-in-c", ID1), 200);
	assert_int_equal(entry_lp(&tgt, "tidal-in-b", ID2), 190);
	frr_state_free(&tgt);

	/* The configured value is the base; a lease's own local_pref is taken as it is. */
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	assert_int_equal(frr_target_apply(&tgt, &direct.l, 150, err, sizeof(err)), 0);
	assert_int_equal(frr_target_apply(&tgt, &transit.l, 150, err, sizeof(err)), 0);
	assert_int_equal(entry_lp(&tgt, "tidal-in-c", ID1), 150);
	assert_int_equal(entry_lp(&tgt, "tidal-in-b", ID2), 140);
	lease(&far, ID2, "c", "b", "10.255.1.2", 65002, 250, "10.3.0.0/24", NULL);
	far.l.extra_hops = 2;
	assert_int_equal(frr_target_apply(&tgt, &far.l, 150, err, sizeof(err)), 0);
	assert_int_equal(entry_lp(&tgt, "tidal-in-b", ID2), 250);
	frr_state_free(&tgt);
	frr_state_free(&base);
}

/* A new neighbor with IPv4 and IPv6 prefixes; withdraw removes the neighbor too. */
static void test_new_neighbor_dual_stack(void **unused)
{
	struct frr_state base, tgt, after;
	struct lease_fixture f;
	struct frr_plan p;
	struct frr_nbr *nb;
	char *t;

	(void)unused;
	load(&base, "base");
	lease(&f, ID2, "d", "d", "fd00:0:0::2", 0, 150, "2001:db8:3::/48", "10.4.0.0/16");
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	target_apply(&tgt, &f.l);
	diff(&base, &tgt, &p);
	t = plan_text(&p);
	assert_non_null(strstr(t,
	                       "router bgp 65001||neighbor fd00::2 remote-as external\n"
	                       "router bgp 65001||neighbor fd00::2 description tidal: region d\n"));
	assert_non_null(strstr(t, "||ipv6 prefix-list tidal-lease-0a0b0c0d000040008000000000000002 "
	                          "seq 5 permit 2001:db8:3::/48\n"));
	assert_non_null(strstr(t, "route-map tidal-in-d permit 10||match ip address prefix-list "
	                          "tidal-lease-0a0b0c0d000040008000000000000002\n"));
	assert_non_null(strstr(t, "route-map tidal-in-d permit 20||match ipv6 address "
	                          "prefix-list tidal-lease-0a0b0c0d000040008000000000000002\n"));
	assert_non_null(strstr(t, "router bgp 65001|address-family ipv6 unicast|neighbor fd00::2 "
	                          "activate\n"));
	assert_non_null(strstr(t, "router bgp 65001|address-family ipv6 unicast|neighbor fd00::2 "
	                          "route-map tidal-in-d in\n"));
	assert_int_equal(p.n_soft, 0); /* the new session is not Established yet */
	free(t);
	frr_plan_free(&p);

	/* bgpd would report the neighbor like this once configured */
	assert_int_equal(frr_state_copy(&after, &tgt), 0);
	nb = frr_state_nbr(&after, "fd00::2");
	assert_non_null(nb);
	frr_target_withdraw(&after, f.l.id);
	assert_null(frr_state_nbr(&after, "fd00::2"));
	diff(&tgt, &after, &p);
	t = plan_text(&p);
	assert_non_null(strstr(t, "router bgp 65001||no neighbor fd00::2\n"));
	free(t);
	frr_plan_free(&p);
	assert_same(&base, &after);
	frr_state_free(&after);
	frr_state_free(&tgt);
	frr_state_free(&base);
}

static void test_refusals(void **unused)
{
	struct frr_state base, tgt;
	struct lease_fixture f;
	struct frr_plan p;
	char err[FRR_ERR_MAX] = "";

	(void)unused;
	load(&base, "base");

	/* the operator's inbound route-map on the neighbor */
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	snprintf(frr_state_nbr(&tgt, "10.255.1.2")->rmap_in[FRR_AF_IPV4], FRR_NAME_MAX,
	         "operator-in");
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_target_apply(&tgt, &f.l, 0, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "operator's inbound route-map 'operator-in'"));
	frr_state_free(&tgt);

	/* IPv6 through an operator neighbor not activated for IPv6 */
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 0, "2001:db8::/32", NULL);
	assert_int_equal(frr_target_apply(&tgt, &f.l, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not activated for ipv6 unicast"));
	frr_state_free(&tgt);

	/* no BGP instance */
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	tgt.asn = 0;
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_target_apply(&tgt, &f.l, 0, err, sizeof(err)), -ENOENT);
	frr_state_free(&tgt);

	/* the planner never removes an operator neighbor nor replaces operator policy */
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	tgt.n_nbrs = 1;
	assert_int_equal(frr_plan_diff(&base, &tgt, &p, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "refusing to remove operator neighbor"));
	tgt.n_nbrs = 2;
	snprintf(tgt.nbrs[0].rmap_in[FRR_AF_IPV4], FRR_NAME_MAX, "tidal-in-x");
	snprintf(base.nbrs[0].rmap_in[FRR_AF_IPV4], FRR_NAME_MAX, "operator-in");
	assert_int_equal(frr_plan_diff(&base, &tgt, &p, err, sizeof(err)), -EPERM);
	frr_state_free(&tgt);
	frr_state_free(&base);
}

static void test_bad_leases(void **unused)
{
	struct lease_fixture f;
	char err[FRR_ERR_MAX] = "";

	(void)unused;
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_lease_check(&f.l, err, sizeof(err)), 0);
	f.pfx[0].addr[3] = 1; /* host bits */
	assert_int_equal(frr_lease_check(&f.l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "prefix 1 is malformed"));
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	f.pfx[0].len = 33;
	assert_int_equal(frr_lease_check(&f.l, err, sizeof(err)), -EINVAL);
	lease(&f, ID1, "c", "b c", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_lease_check(&f.l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "region names"));
	lease(&f, ID1, "", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_lease_check(&f.l, err, sizeof(err)), -EINVAL);
	lease(&f, ID1, "c", "b", "router-b", 65002, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_lease_check(&f.l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an IP address"));
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 0, NULL, NULL);
	assert_int_equal(frr_lease_check(&f.l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no prefixes"));
}

/* Sequence numbers: first free multiple of 10, kept across other leases' changes. */
static void test_sequence_numbers(void **unused)
{
	struct frr_state st;
	struct lease_fixture f1, f2, f3;
	struct frr_rmap *m;

	(void)unused;
	load(&st, "base");
	lease(&f1, ID1, "c", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	lease(&f2, ID2, "c", "b", "10.255.1.2", 65002, 0, "10.3.1.0/24", NULL);
	lease(&f3, "ffffffff-0000-0000-0000-000000000003", "c", "b", "10.255.1.2", 65002, 0,
	      "10.3.2.0/24", NULL);
	target_apply(&st, &f1.l);
	target_apply(&st, &f2.l);
	m = frr_state_rmap(&st, "tidal-in-b");
	assert_int_equal(m->n, 3);
	assert_int_equal(m->v[0].seq, 10);
	assert_int_equal(m->v[1].seq, 20);
	frr_target_withdraw(&st, f1.l.id);
	m = frr_state_rmap(&st, "tidal-in-b");
	assert_int_equal(m->n, 2);
	assert_int_equal(m->v[0].seq, 20);
	target_apply(&st, &f3.l);
	m = frr_state_rmap(&st, "tidal-in-b");
	assert_int_equal(m->v[0].seq, 10);
	assert_non_null(strstr(m->v[0].desc, "ffffffff000000000000000000000003"));
	assert_int_equal(m->v[2].seq, FRR_CATCHALL_SEQ);
	frr_target_retain(&st, &f2.l, 1);
	m = frr_state_rmap(&st, "tidal-in-b");
	assert_int_equal(m->n, 2);
	assert_int_equal(st.n_plists, 1);
	frr_state_free(&st);
}

static void test_render_and_echo(void **unused)
{
	struct frr_state base, tgt;
	struct lease_fixture f;
	struct frr_plan p;
	struct frr_lines l;
	char out[4096], msg[256];
	size_t o = 0, echoed = 0;
	long bad;

	(void)unused;
	load(&base, "base");
	lease(&f, ID1, "c", "b", "10.255.1.2", 65002, 0, "10.3.0.0/24", NULL);
	assert_int_equal(frr_state_copy(&tgt, &base), 0);
	target_apply(&tgt, &f.l);
	diff(&base, &tgt, &p);
	assert_int_equal(frr_plan_render(&p, &l), 0);
	assert_int_equal(l.n, 17);
	assert_string_equal(l.v[0], "configure terminal");
	assert_string_equal(l.v[2], "route-map tidal-in-b permit 10");
	assert_string_equal(l.v[7], "exit");
	assert_string_equal(l.v[8], "route-map tidal-in-b permit 65535");
	assert_string_equal(l.v[11], "router bgp 65001");
	assert_string_equal(l.v[12], "address-family ipv4 unicast");
	assert_string_equal(l.v[14], "exit-address-family");
	assert_string_equal(l.v[15], "exit");
	assert_string_equal(l.v[16], "end");
	assert_int_equal(l.cmd[13], p.n - 1);

	/* all echoed, no error */
	for (size_t i = 0; i < l.n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "vm(config)# %s\n", l.v[i]);
	assert_int_equal(frr_echo_scan(&l, out, &echoed, msg, sizeof(msg)), -1);
	assert_int_equal(echoed, l.n);

	/* an error after line 5, and vtysh went on */
	o = 0;
	for (size_t i = 0; i < l.n; i++) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "vm(config-route-map)# %s\n",
		                      l.v[i]);
		if (i == 5)
			o += (size_t)snprintf(
			        out + o, sizeof(out) - o,
			        "%% [BGP] Argument form is unsupported or malformed.\n"
			        "%% second message\n");
	}
	bad = frr_echo_scan(&l, out, &echoed, msg, sizeof(msg));
	assert_int_equal(bad, 5);
	assert_string_equal(msg, "% [BGP] Argument form is unsupported or malformed.");
	assert_int_equal(echoed, l.n);

	/* vtysh stopped after line 3 without a message */
	o = 0;
	for (size_t i = 0; i < 4; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "vm# %s\r\n", l.v[i]);
	assert_int_equal(frr_echo_scan(&l, out, &echoed, msg, sizeof(msg)), -1);
	assert_int_equal(echoed, 4);

	frr_lines_free(&l);
	frr_plan_free(&p);
	frr_state_free(&tgt);
	frr_state_free(&base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_parse_fixtures),
	        cmocka_unit_test(test_parse_errors),
	        cmocka_unit_test(test_apply_from_base),
	        cmocka_unit_test(test_withdraw_from_leased),
	        cmocka_unit_test(test_update_in_place),
	        cmocka_unit_test(test_move_via),
	        cmocka_unit_test(test_new_neighbor_dual_stack),
	        cmocka_unit_test(test_transit_local_pref),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_bad_leases),
	        cmocka_unit_test(test_sequence_numbers),
	        cmocka_unit_test(test_render_and_echo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

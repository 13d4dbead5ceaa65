/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the glue between the ledger and the FRR provisioner: which ledger leases
 * are steered, through which neighbor, towards which prefixes (frr_lease_from_ledger).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cfg.h"
#include "frr.h"
#include "ledger.h"

static struct cfg_peer peers[2];
static struct cfg_prefix app_dst[1];
static struct cfg_app apps[1];
static struct tidal_cfg cfg;

static int setup(void **unused)
{
	(void)unused;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.region.name, sizeof(cfg.region.name), "a");
	cfg.region.asn = 65001;
	snprintf(peers[0].name, sizeof(peers[0].name), "b");
	snprintf(peers[0].address.host, sizeof(peers[0].address.host), "10.255.1.2");
	snprintf(peers[0].link, sizeof(peers[0].link), "a-b");
	snprintf(peers[1].name, sizeof(peers[1].name), "c");
	snprintf(peers[1].address.host, sizeof(peers[1].address.host), "gw-c.example.net");
	snprintf(peers[1].link, sizeof(peers[1].link), "a-c");
	cfg.peers = peers;
	cfg.n_peers = 2;
	assert_int_equal(cfg_parse_prefix("10.9.0.0/16", &app_dst[0], NULL), 0);
	snprintf(apps[0].name, sizeof(apps[0].name), "video");
	apps[0].match.dst = app_dst;
	apps[0].match.n_dst = 1;
	cfg.apps = apps;
	cfg.n_apps = 1;
	return 0;
}

static void lease(struct ledger_lease *x, const char *requester, const char *provider,
                  const char *resource, const char *match)
{
	memset(x, 0, sizeof(*x));
	x->id[15] = 7;
	x->kind = LEDGER_KIND_BANDWIDTH;
	x->quantity = 2000000000;
	x->state = LEDGER_ACTIVE;
	snprintf(x->requester, sizeof(x->requester), "%s", requester);
	snprintf(x->provider, sizeof(x->provider), "%s", provider);
	snprintf(x->resource, sizeof(x->resource), "%s", resource);
	snprintf(x->match, sizeof(x->match), "%s", match);
}

static void test_transit_and_direct(void **unused)
{
	struct ledger_lease x;
	struct prov_lease pl;
	struct cfg_prefix pfx[8];
	char why[256] = "";

	(void)unused;
	/* a -> c booked on our link to b: steered via b */
	lease(&x, "a", "c", "link.a-b",
	      "dst 10.3.0.0/24, dscp af41, src 10.1.0.0/24, dst 10.4.0.0/16");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 1);
	assert_string_equal(pl.peer, "c");
	assert_string_equal(pl.via, "b");
	assert_string_equal(pl.via_address, "10.255.1.2");
	assert_int_equal(pl.n_prefixes, 2);
	assert_int_equal(pl.prefixes[0].len, 24);
	assert_int_equal(pl.prefixes[1].len, 16);
	assert_int_equal(pl.id[15], 7);
	assert_int_equal(pl.rate_bps, 2000000000);

	/* direct: the resource is the provider's, the provider a configured peer */
	lease(&x, "a", "b", "link.b-z", "dst 10.2.0.0/24");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 1);
	assert_string_equal(pl.via, "b");

	/* no dst in the match: the app's */
	lease(&x, "a", "b", "link.a-b", "");
	snprintf(x.app, sizeof(x.app), "video");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 1);
	assert_int_equal(pl.n_prefixes, 1);
	assert_int_equal(pl.prefixes[0].len, 16);
	assert_int_equal(pl.extra_hops, 0);

	/* transit as the allocation controller books it: our first hop (path "b,c") and the
	 * lease from b carried on to c (path "c"): one region after via b, both */
	lease(&x, "a", "a", "link.a-b", "dst 10.2.0.0/24");
	snprintf(x.path, sizeof(x.path), "b,c");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 1);
	assert_string_equal(pl.via, "b");
	assert_int_equal(pl.extra_hops, 1);
	lease(&x, "a", "b", "b:bandwidth", "dst 10.2.0.0/24");
	snprintf(x.path, sizeof(x.path), "c");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 1);
	assert_string_equal(pl.via, "b");
	assert_int_equal(pl.extra_hops, 1);
	snprintf(x.path, sizeof(x.path), "c,d");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 1);
	assert_int_equal(pl.extra_hops, 2);
}

static void test_not_steered(void **unused)
{
	struct ledger_lease x;
	struct prov_lease pl;
	struct cfg_prefix pfx[8];
	char why[256] = "";

	(void)unused;
	lease(&x, "b", "a", "link.a-b", "dst 10.1.0.0/24"); /* another region's lease */
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 0);
	lease(&x, "a", "b", "link.a-b", "dscp ef"); /* nothing to steer */
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 0);
	lease(&x, "a", "b", "pool.compute.vcpu", "dst 10.2.0.0/24");
	x.kind = LEDGER_KIND_VCPU;
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 8, why, sizeof(why)), 0);
}

static void test_errors(void **unused)
{
	struct ledger_lease x;
	struct prov_lease pl;
	struct cfg_prefix pfx[2];
	char why[256] = "";

	(void)unused;
	lease(&x, "a", "z", "link.z-y", "dst 10.3.0.0/24");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 2, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no BGP neighbor"));
	lease(&x, "a", "b", "link.a-b", "dst 10.3.0.1/24");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 2, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "10.3.0.1/24"));
	lease(&x, "a", "b", "link.a-b", "dst 10.3.0.0/24, dst 10.4.0.0/24, dst 10.5.0.0/24");
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 2, why, sizeof(why)), -E2BIG);
	lease(&x, "a", "c", "link.a-c", "dst 10.3.0.0/24"); /* c's address is a host name */
	assert_int_equal(frr_lease_from_ledger(&cfg, &x, &pl, pfx, 2, why, sizeof(why)), 1);
	assert_string_equal(pl.via_address, "gw-c.example.net"); /* refused by frr_apply */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_transit_and_direct, setup),
	        cmocka_unit_test_setup(test_not_steered, setup),
	        cmocka_unit_test_setup(test_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

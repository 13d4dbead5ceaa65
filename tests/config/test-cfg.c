/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-cfg: the loader's API — defaults, relative paths, INI details (comments, quotes,
 * case, continuation lines), lookups, cfg_equal noticing every kind of difference,
 * message accumulation, NULL handling, and that loading creates nothing on disk.
 *
 * Writes its config files into a private temporary folder and removes it at the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"

static char tmpdir[] = "/tmp/tidal-test-cfg-XXXXXX";

static const char *write_ini(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static struct tidal_cfg *load_ok(const char *name, const char *text)
{
	struct cfg_diag d;
	struct tidal_cfg *c;

	cfg_diag_init(&d);
	c = cfg_load(write_ini(name, text), &d);
	if (!c) {
		cfg_diag_print(&d, stderr);
		fail_msg("%s was refused", name);
	}
	assert_int_equal(d.n, 0);
	cfg_diag_free(&d);
	return c;
}

static const char minimal[] = "[region]\nname = fra\nasn = 65001\n";

static void test_defaults(void **state)
{
	struct tidal_cfg *c = load_ok("defaults.ini", "[region]\nname = fra\nasn = 65001\n"
						      "[link.l1]\ncapacity = 10G\n"
						      "[app.a]\nmatch = dscp ef\n");
	(void)state;
	assert_string_equal(c->region.state_dir, "/var/lib/tidal/fra");
	assert_string_equal(c->control.socket, "/run/tidal/fra.sock");
	assert_string_equal(c->control.metrics_listen.host, "127.0.0.1");
	assert_int_equal(c->control.metrics_listen.port, 9479);
	assert_int_equal(c->control.log_level, TLOG_INFO);
	assert_false(c->peering.enabled);
	assert_int_equal(c->peering.hold_time_ms, 90000);
	assert_int_equal(c->peering.listen.port, 7179);
	assert_int_equal(c->n_links, 1);
	assert_int_equal(c->links[0].reservable_bps, 10000000000ULL); /* = capacity */
	assert_string_equal(c->links[0].interface, "");
	assert_int_equal(c->apps[0].priority, 4);
	assert_true(c->apps[0].slo_quantile == 0.95);
	assert_true(c->apps[0].headroom == 0);
	assert_int_equal(c->apps[0].max_rate_bps, 0);
	assert_int_equal(c->apps[0].match.n_dscp, 1);
	assert_int_equal(c->apps[0].match.dscp[0], 46);
	assert_int_equal(c->forecast.sample_interval_ms, 10000);
	assert_int_equal(c->forecast.bucket_ms, 300000);
	assert_int_equal(c->forecast.horizon_ms, 72ULL * 3600000);
	assert_int_equal(c->forecast.period_ms, 3600000);
	assert_false(c->forecast.allow_long_horizon);
	assert_int_equal(c->forecast.n_seasons, 2);
	assert_int_equal(c->forecast.seasons_ms[1], 168ULL * 3600000);
	assert_int_equal(c->forecast.n_quantiles, 4);
	assert_true(c->forecast.quantiles[3] == 0.99);
	assert_string_equal(c->forecast.models, "auto");
	assert_int_equal(c->dataplane.backend, CFG_BACKEND_NONE);
	assert_true(c->dataplane.keep_pacing);
	assert_string_equal(c->dataplane.dpdk_socket, "/run/tidal/fra-dp.sock");
	assert_false(c->frr.enabled);
	assert_string_equal(c->frr.vtysh, "/usr/bin/vtysh");
	assert_string_equal(cfg_backend_name(c->dataplane.backend), "none");
	cfg_free(c);
}

/* [forecast] period defaults to 1h, raised to the bucket when the bucket is longer; an
 * explicit period shorter than the bucket is an error (bad/forecast-period.ini). */
static void test_period_default(void **state)
{
	(void)state;
	struct tidal_cfg *c = load_ok("p1.ini", "[region]\nname = fra\nasn = 65001\n"
						"[forecast]\nbucket = 2h\nhorizon = 72h\n"
						"seasons = 24h, 168h\n");
	assert_int_equal(c->forecast.period_ms, 2 * 3600000);
	cfg_free(c);
	c = load_ok("p2.ini", "[region]\nname = fra\nasn = 65001\n"
			      "[forecast]\nbucket = 5m\nperiod = 15m\n");
	assert_int_equal(c->forecast.period_ms, 15 * 60000);
	cfg_free(c);
}

static void test_relative_paths(void **state)
{
	char want[600], cwd[512];
	struct tidal_cfg *c;
	struct stat st;
	(void)state;
	c = load_ok("rel.ini", "[region]\nname = fra\nasn = 65001\nstate_dir = state/./fra/\n"
			       "[control]\nsocket = run/../run/fra.sock\n"
			       "[peering]\ncertificate = ../certs/fra.crt\nprivate_key = fra.key\n"
			       "ca = /etc/tidal//ca.crt\n");
	snprintf(want, sizeof(want), "%s/state/fra", tmpdir);
	assert_string_equal(c->region.state_dir, want);
	snprintf(want, sizeof(want), "%s/run/fra.sock", tmpdir);
	assert_string_equal(c->control.socket, want);
	snprintf(want, sizeof(want), "%s/fra.key", tmpdir);
	assert_string_equal(c->peering.private_key, want);
	assert_string_equal(c->peering.ca, "/etc/tidal/ca.crt");
	assert_true(c->peering.enabled);
	snprintf(want, sizeof(want), "%s/rel.ini", tmpdir);
	assert_string_equal(c->path, want);
	/* the parent of tmpdir: "../certs" */
	snprintf(want, sizeof(want), "%s", tmpdir);
	*strrchr(want, '/') = '\0';
	strcat(want, "/certs/fra.crt");
	assert_string_equal(c->peering.certificate, want);
	/* loading never creates anything, nor checks that files exist */
	snprintf(want, sizeof(want), "%s/state", tmpdir);
	assert_int_equal(stat(want, &st), -1);
	cfg_free(c);

	/* a config named relative to the working folder is stored absolute */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	struct cfg_diag d;
	cfg_diag_init(&d);
	c = cfg_load("rel.ini", &d);
	assert_non_null(c);
	snprintf(want, sizeof(want), "%s/rel.ini", tmpdir);
	assert_string_equal(c->path, want);
	snprintf(want, sizeof(want), "%s/fra.key", tmpdir);
	assert_string_equal(c->peering.private_key, want);
	cfg_free(c);
	assert_int_equal(chdir(cwd), 0);
}

static void test_ini_details(void **state)
{
	struct tidal_cfg *c;
	(void)state;
	c = load_ok("ini.ini", "# comment\n"
			       "; comment\n"
			       "[Region]\n"
			       "NAME = fra ; inline comment\n"
			       "Asn = 65001 # another\n"
			       "\n"
			       "[APP.video]\n"
			       "match = dst 198.51.100.0/24, \\\n"
			       "\tdst 2001:db8::/32, \\\n"
			       "        dscp af41\n"
			       "headroom = \"10%\"\n"
			       "[pool.p]\n"
			       "vcpu = 1\n"
			       "provision_hook = \"/opt/hooks/a;b #2\"\n"
			       "[event.e]\n"
			       "start = 2026-01-01T00:00:00Z\n"
			       "end = 2026-01-02T00:00:00Z\n"
			       "apps = 'video'\n");
	assert_string_equal(c->region.name, "fra");
	assert_int_equal(c->region.asn, 65001);
	assert_int_equal(c->n_apps, 1);
	assert_string_equal(c->apps[0].name, "video");
	assert_int_equal(c->apps[0].match.n_dst, 2);
	assert_int_equal(c->apps[0].match.n_dscp, 1);
	assert_true(c->apps[0].headroom == 0.1);
	assert_string_equal(c->pools[0].provision_hook, "/opt/hooks/a;b #2");
	assert_int_equal(c->events[0].n_apps, 1);
	assert_string_equal(c->events[0].apps[0], "video");
	assert_true(c->events[0].multiplier == 0);

	/* the quoted path prints quoted and reads back equal */
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_int_equal(cfg_print(c, m), 0);
	fclose(m);
	assert_non_null(strstr(text, "provision_hook = \"/opt/hooks/a;b #2\"\n"));
	struct tidal_cfg *back = load_ok("ini-printed.ini", text);
	assert_true(cfg_equal(c, back));
	free(text);
	cfg_free(back);
	cfg_free(c);
}

static void test_crlf(void **state)
{
	struct tidal_cfg *c = load_ok("crlf.ini", "[region]\r\nname = fra\r\nasn = 65001\r\n"
						  "[link.a]\r\ncapacity = 10G ; c\r\n");
	(void)state;
	assert_string_equal(c->region.name, "fra");
	assert_int_equal(c->links[0].capacity_bps, 10000000000ULL);
	cfg_free(c);
}

static void test_lookups(void **state)
{
	struct tidal_cfg *c = load_ok("look.ini",
				      "[region]\nname = fra\nasn = 65001\n"
				      "[peering]\ncertificate = a\nprivate_key = b\nca = c\n"
				      "[link.a]\ncapacity = 1G\n[link.b]\ncapacity = 2G\n"
				      "[peer.x]\naddress = 10.0.0.2:7179\nlink = b\n"
				      "[app.v]\nmatch = dscp ef\n"
				      "[pool.p]\nvcpu = 8\n");
	(void)state;
	assert_ptr_equal(cfg_find_link(c, "b"), &c->links[1]);
	assert_null(cfg_find_link(c, "c"));
	assert_null(cfg_find_link(c, NULL));
	assert_null(cfg_find_link(NULL, "a"));
	assert_ptr_equal(cfg_find_peer(c, "x"), &c->peers[0]);
	assert_null(cfg_find_peer(c, "fra"));
	assert_ptr_equal(cfg_find_app(c, "v"), &c->apps[0]);
	assert_ptr_equal(cfg_find_pool(c, "p"), &c->pools[0]);
	assert_null(cfg_find_pool(c, "q"));
	assert_int_equal(c->peers[0].link_index, 1);
	assert_string_equal(cfg_backend_name(CFG_BACKEND_BPF), "bpf");
	assert_string_equal(cfg_backend_name(CFG_BACKEND_DPDK), "dpdk");
	cfg_free(c);
}

/* cfg_equal must notice a change in any kind of field. */
static void test_equal(void **state)
{
	static const char base[] =
		"[region]\nname = fra\nasn = 65001\n"
		"[peering]\ncertificate = /a\nprivate_key = /b\nca = /c\n"
		"[link.a]\ncapacity = 1G\n"
		"[peer.x]\naddress = 10.0.0.2:7179\nlink = a\n"
		"[app.v]\nmatch = dst 10.0.0.0/8, dscp ef\n"
		"[event.e]\nstart = 2026-01-01T00:00:00Z\nend = 2026-01-02T00:00:00Z\napps = v\n";
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"asn = 65001", "asn = 65002"},
		{"ca = /c", "ca = /d"},
		{"capacity = 1G", "capacity = 2G"},
		{"10.0.0.2:7179", "10.0.0.3:7179"},
		{"10.0.0.2:7179", "10.0.0.2:7180"},
		{"dst 10.0.0.0/8", "dst 10.0.0.0/9"},
		{"dst 10.0.0.0/8", "src 10.0.0.0/8"},
		{"dscp ef", "dscp af41"},
		{"dscp ef", "dscp ef, dscp va"},
		{"end = 2026-01-02T00:00:00Z", "end = 2026-01-03T00:00:00Z"},
		{"apps = v", "multiplier = 2"},
		{"[link.a]", "[dataplane]\nkeep_pacing = no\n[link.a]"},
		{"[link.a]", "[forecast]\nquantiles = 0.5, 0.95\n[link.a]"},
		{"[link.a]", "[forecast]\nseasons = 24h\n[link.a]"},
		{"[link.a]", "[frr]\n[link.a]"},
		{"[link.a]", "[link.b]\ncapacity = 1G\n[link.a]"},
	};
	struct tidal_cfg *a = load_ok("eq-a.ini", base), *b = load_ok("eq-b.ini", base);
	(void)state;
	assert_true(cfg_equal(a, b));
	assert_true(cfg_equal(NULL, NULL));
	assert_false(cfg_equal(a, NULL));
	assert_false(cfg_equal(NULL, b));
	cfg_free(b);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char text[2048];
		const char *at = strstr(base, edits[i].from);
		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - base), base, edits[i].to,
			 at + strlen(edits[i].from));
		b = load_ok("eq-edit.ini", text);
		if (cfg_equal(a, b))
			fail_msg("cfg_equal missed: %s -> %s", edits[i].from, edits[i].to);
		cfg_free(b);
	}
	cfg_free(a);
}

static void test_diag(void **state)
{
	struct cfg_diag d;
	struct tidal_cfg *c;
	char want[600];
	(void)state;
	cfg_free(NULL);
	cfg_diag_free(NULL);
	cfg_diag_init(NULL);
	cfg_diag_print(NULL, stderr);
	assert_int_equal(cfg_print(NULL, stdout), -EINVAL);

	cfg_diag_init(&d);
	assert_null(cfg_load(NULL, &d));
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want), "%s/missing.ini", tmpdir);
	assert_null(cfg_load(want, &d));
	assert_int_equal(d.n, 2); /* messages accumulate */
	snprintf(want, sizeof(want), "%s/missing.ini: cannot read: No such file or directory",
		 tmpdir);
	assert_string_equal(d.msgs[1], want);
	cfg_diag_free(&d);
	assert_int_equal(d.n, 0);

	/* without a diag the load still fails cleanly */
	assert_null(cfg_load(write_ini("bad.ini", "[region]\nname = fra\n"), NULL));

	/* messages come in line order, each "FILE:LINE: " */
	cfg_diag_init(&d);
	c = cfg_load(write_ini("order.ini", "[region]\nname = fra\nasn = 65001\n"
					    "[link.a]\ncapacity = 1G\nreservable = 2G\n"
					    "[peer.x]\nlink = b\n"),
		     &d);
	assert_null(c);
	assert_int_equal(d.n, 4);
	for (size_t i = 0; i < d.n; i++) {
		snprintf(want, sizeof(want), "%s/order.ini:", tmpdir);
		assert_memory_equal(d.msgs[i], want, strlen(want));
	}
	assert_non_null(strstr(d.msgs[0], ":6: link.a.reservable:"));
	assert_non_null(strstr(d.msgs[1], ":7: peer.x: missing required key 'address'"));
	assert_non_null(strstr(d.msgs[2], ":7: peer.x: peers need a [peering] section"));
	assert_non_null(strstr(d.msgs[3], ":8: peer.x.link: no [link.b] section"));
	cfg_diag_free(&d);
}

static void test_minimal_roundtrip_text(void **state)
{
	struct tidal_cfg *c = load_ok("min.ini", minimal), *back;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	(void)state;
	assert_int_equal(cfg_print(c, m), 0);
	fclose(m);
	/* every section with a default is explicit; optional switch-on sections are not */
	assert_non_null(strstr(text, "\n[forecast]\n"));
	assert_non_null(strstr(text, "\nhorizon = 72h\n"));
	assert_non_null(strstr(text, "\nseasons = 24h, 168h\n"));
	assert_null(strstr(text, "[peering]"));
	assert_null(strstr(text, "[frr]"));
	back = load_ok("min-printed.ini", text);
	assert_true(cfg_equal(c, back));
	free(text);
	cfg_free(back);
	cfg_free(c);
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),      cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_period_default),
		cmocka_unit_test(test_ini_details),   cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_equal),         cmocka_unit_test(test_diag),
		cmocka_unit_test(test_minimal_roundtrip_text),
	};
	return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}

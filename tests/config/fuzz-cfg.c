/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-cfg: libFuzzer target for everything that reads text in config/: each input goes
 * through every units parser (and what parses must print back to the same value), and
 * through cfg_load as a whole file (a refusal must come with a message; a config that
 * loads must print, reload and compare equal).
 *
 * Owns two scratch files under TMPDIR (or /tmp), removed at exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "units.h"

static char path1[256], path2[272];

static void cleanup(void)
{
	if (path1[0]) {
		unlink(path1);
		unlink(path2);
	}
}

static void write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

static void units(const char *s)
{
	char buf[320];
	uint64_t u, v;
	double d, e;
	int64_t t, w;
	bool b;
	uint8_t ds, ds2;
	struct cfg_prefix p, q;
	struct cfg_hostport hp, hq;

	if (!cfg_parse_bps(s, &u, NULL) &&
	    (cfg_parse_bps(cfg_fmt_bps(u, buf, sizeof(buf)), &v, NULL) || u != v))
		abort();
	if (!cfg_parse_bytes(s, &u, NULL) &&
	    (cfg_parse_bytes(cfg_fmt_bytes(u, buf, sizeof(buf)), &v, NULL) || u != v))
		abort();
	if (!cfg_parse_duration(s, &u, NULL) &&
	    (cfg_parse_duration(cfg_fmt_duration(u, buf, sizeof(buf)), &v, NULL) || u != v))
		abort();
	if (!cfg_parse_percent(s, &d, NULL) &&
	    (cfg_parse_percent(cfg_fmt_percent(d, buf, sizeof(buf)), &e, NULL) || d != e))
		abort();
	if (!cfg_parse_time(s, &t, NULL) &&
	    (cfg_parse_time(cfg_fmt_time(t, buf, sizeof(buf)), &w, NULL) || t != w))
		abort();
	if (!cfg_parse_prefix(s, &p, NULL) &&
	    (cfg_parse_prefix(cfg_fmt_prefix(&p, buf, sizeof(buf)), &q, NULL) ||
	     memcmp(&p, &q, sizeof(p))))
		abort();
	if (!cfg_parse_dscp(s, &ds, NULL) &&
	    (cfg_parse_dscp(cfg_fmt_dscp(ds, buf, sizeof(buf)), &ds2, NULL) || ds != ds2))
		abort();
	if (!cfg_parse_hostport(s, &hp, NULL) &&
	    (cfg_parse_hostport(cfg_fmt_hostport(&hp, buf, sizeof(buf)), &hq, NULL) ||
	     strcmp(hp.host, hq.host) || hp.port != hq.port))
		abort();
	cfg_parse_time_rel(s, 1795737600, &t, NULL);
	cfg_parse_uint(s, 0, 100, &u, NULL);
	cfg_parse_double(s, 0, 1, &d, NULL);
	cfg_parse_bool(s, &b, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	struct cfg_diag dg;
	struct tidal_cfg *c;

	memcpy(s, data, n);
	s[n] = '\0';
	units(s);

	if (!path1[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path1, sizeof(path1), "%s/tidal-fuzz-cfg-%d.ini", tmp ? tmp : "/tmp",
			 (int)getpid());
		snprintf(path2, sizeof(path2), "%s.2", path1);
		atexit(cleanup);
	}
	write_file(path1, data, size);
	cfg_diag_init(&dg);
	c = cfg_load(path1, &dg);
	if (!c && dg.n == 0)
		abort(); /* refused without saying why */
	if (c) {
		char *txt = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&txt, &len);
		int rc = cfg_print(c, m);
		fclose(m);
		if (rc == 0) {
			write_file(path2, txt, strlen(txt));
			struct tidal_cfg *c2 = cfg_load(path2, &dg);
			if (!c2 || !cfg_equal(c, c2)) {
				fprintf(stderr, "round trip failed:\n%s\n", txt);
				cfg_diag_print(&dg, stderr);
				abort();
			}
			cfg_free(c2);
		}
		free(txt);
	}
	cfg_free(c);
	cfg_diag_free(&dg);
	return 0;
}

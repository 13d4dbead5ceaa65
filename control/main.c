/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidald: the control daemon of one region. Runs in the foreground and logs to stderr
 * (systemd style). `-n` checks the configuration and exits.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "core_priv.h"
#include "log.h"

#define DEFAULT_CONFIG "/etc/tidal/tidal.ini"

static void usage(FILE *f)
{
	fprintf(f, "usage: tidald [-c FILE] [-n] [-d] [-V]\n"
		   "  -c FILE   configuration (default " DEFAULT_CONFIG ")\n"
		   "  -n        check the configuration, print every error, exit 0 (valid) or 1\n"
		   "  -d        log at debug level (overrides control.log_level)\n"
		   "  -V        print the version and exit\n"
		   "Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop cleanly.\n");
}

static int check_only(const char *path)
{
	struct cfg_diag diag;
	cfg_diag_init(&diag);
	struct tidal_cfg *cfg = cfg_load(path, &diag);
	if (!cfg) {
		cfg_diag_print(&diag, stderr);
		fprintf(stderr, "%s: %zu error(s)\n", path, diag.n);
		cfg_diag_free(&diag);
		return 1;
	}
	printf("%s: configuration OK (region %s, %zu peers, %zu links, %zu apps)\n", cfg->path,
	       cfg->region.name, cfg->n_peers, cfg->n_links, cfg->n_apps);
	cfg_diag_free(&diag);
	cfg_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = DEFAULT_CONFIG;
	bool check = false, debug = false;
	int c;

	tlog_set_ident("tidald");
	while ((c = getopt(argc, argv, "c:ndVh")) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'V':
			printf("tidald %s\n", TIDAL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tidald: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check)
		return check_only(config);
	return tidald_run(config, debug);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidal-sim: simulate many regions with the real forecast, controller and calendar code
 * and compare policies (docs/sim.md).
 *
 *   tidal-sim -t topology.ini --traces DIR [--days N]
 *             [--policy static,reactive,proactive,oracle] [-j]
 *             [--plot LINK -o FILE.png [--plot-days N]] [--threads N] [--models LIST] [-v]
 *
 * Exit status: 0 success, 1 a failure (scenario, simulation, plot), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sim.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tidal-sim -t TOPOLOGY.ini [--traces DIR] [--days N]\n"
	        "                 [--policy static,reactive,proactive,oracle] [-j]\n"
	        "                 [--plot LINK -o FILE.png [--plot-days N]] [--threads N]\n"
	        "                 [--models LIST] [-v]\n"
	        "\n"
	        "  -t, --topology FILE  scenario: regions, links, pools, classes and traces (INI)\n"
	        "      --traces DIR     folder the scenario's trace paths are relative to\n"
	        "      --days N         simulated days (default: the scenario's [sim] days)\n"
	        "  -p, --policy LIST    policies to run (default: all four)\n"
	        "  -j, --json           one JSON document on stdout instead of the table\n"
	        "      --plot LINK      record LINK (e.g. link.a-b or a-b) for the plot\n"
	        "      --plot-days N    plot only the first N days of the evaluation\n"
	        "  -o, --output FILE    PNG of demand vs reservation on the plot link\n"
	        "      --threads N      forecasting threads (default: online CPUs)\n"
	        "      --models LIST    forecast models (default: the scenario's [forecast])\n"
	        "  -v, --verbose        log every decision and forecast round\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"topology", required_argument, NULL, 't'},
	        {"traces", required_argument, NULL, 'T'},
	        {"days", required_argument, NULL, 'd'},
	        {"policy", required_argument, NULL, 'p'},
	        {"json", no_argument, NULL, 'j'},
	        {"plot", required_argument, NULL, 'P'},
	        {"output", required_argument, NULL, 'o'},
	        {"threads", required_argument, NULL, 'n'},
	        {"models", required_argument, NULL, 'm'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"plot-days", required_argument, NULL, 'D'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *topo = NULL, *plot = NULL, *png = NULL, *policies = NULL;
	struct sim_load_opts lo = {.traces_dir = "."};
	struct sim_run_opts ro = {.plot_link = -1};
	bool json = false;
	double plot_days = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	ro.threads = cpus > 0 ? (unsigned)cpus : 1;
	tlog_set_ident("tidal-sim");
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "t:p:jo:vh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			topo = optarg;
			break;
		case 'T':
			lo.traces_dir = optarg;
			break;
		case 'd':
			lo.days = strtod(optarg, &end);
			if (*end || !(lo.days > 0)) {
				fprintf(stderr, "tidal-sim: --days %s: a positive number of days\n",
				        optarg);
				return 2;
			}
			break;
		case 'p':
			policies = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'P':
			plot = optarg;
			break;
		case 'D':
			plot_days = strtod(optarg, &end);
			if (*end || !(plot_days > 0)) {
				fprintf(stderr,
				        "tidal-sim: --plot-days %s: a positive number of days\n",
				        optarg);
				return 2;
			}
			break;
		case 'o':
			png = optarg;
			break;
		case 'n': {
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 64) {
				fprintf(stderr, "tidal-sim: --threads %s: 1..64\n", optarg);
				return 2;
			}
			ro.threads = (unsigned)n;
			break;
		}
		case 'm':
			lo.models = optarg;
			break;
		case 'v':
			ro.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!topo || optind < argc || (!plot != !png)) {
		if (!topo)
			fprintf(stderr, "tidal-sim: -t TOPOLOGY.ini is required\n");
		else if (optind < argc)
			fprintf(stderr, "tidal-sim: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "tidal-sim: --plot LINK and -o FILE.png go together\n");
		usage(stderr);
		return 2;
	}
	bool run[SIM_N_POLICIES] = {true, true, true, true};
	if (policies) {
		memset(run, 0, sizeof(run));
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", policies);
		for (char *save, *t = strtok_r(buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			enum sim_policy p;
			if (sim_policy_parse(t, &p)) {
				fprintf(stderr,
				        "tidal-sim: --policy: '%s' is not static, reactive, "
				        "proactive or oracle\n",
				        t);
				return 2;
			}
			run[p] = true;
		}
	}
	char err[1024];
	struct sim_scenario *s = NULL;
	if (sim_scenario_load(topo, &lo, &s, err, sizeof(err))) {
		fprintf(stderr, "tidal-sim: %s\n", err);
		return 1;
	}
	if (plot) {
		for (size_t k = 0; k < s->n_links; k++) {
			const char *nm = s->links[k].name;
			if (!strcmp(nm, plot) ||
			    (!strncmp(nm, "link.", 5) && !strcmp(nm + 5, plot)))
				ro.plot_link = (int)k;
		}
		if (ro.plot_link < 0) {
			fprintf(stderr, "tidal-sim: --plot %s: no such link in %s\n", plot, topo);
			sim_scenario_free(s);
			return 2;
		}
	}
	struct sim_report rep = {.s = s, .plot_link = ro.plot_link, .plot_days = plot_days};
	int rc = 0;
	for (int p = 0; p < SIM_N_POLICIES && !rc; p++) {
		if (!run[p])
			continue;
		rep.series[p].link = ro.plot_link;
		if (!json)
			fprintf(stderr, "tidal-sim: running %s ...\n",
			        sim_policy_name((enum sim_policy)p));
		rc = sim_run(s, (enum sim_policy)p, &ro, &rep.m[p],
		             ro.plot_link >= 0 ? &rep.series[p] : NULL);
		rep.ran[p] = rc == 0;
	}
	if (rc) {
		fprintf(stderr, "tidal-sim: simulation failed: %s\n", strerror(-rc));
	} else {
		if (json)
			rc = sim_report_json(&rep, stdout);
		else
			sim_report_table(&rep, stdout);
		if (!rc && png && sim_report_plot(&rep, png, err, sizeof(err))) {
			fprintf(stderr, "tidal-sim: plot %s: %s\n", png, err);
			rc = -EIO;
		} else if (png && !json) {
			printf("plot: %s\n", png);
		}
	}
	for (int p = 0; p < SIM_N_POLICIES; p++)
		sim_series_free(&rep.series[p]);
	sim_scenario_free(s);
	return rc ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr-ledger-tool: book and release leases in a region's ledger while its tidald is
 * stopped, through the ledger's public interface (control/ledger.h), so that the frr
 * suite can run tidald against leases before the peering protocol exists to make them.
 *
 *   frr-ledger-tool CONFIG book ID PROVIDER RESOURCE MATCH SECONDS
 *       an active bandwidth lease (1G) the config's region requested from PROVIDER on
 *       RESOURCE (e.g. link.a-b), matching MATCH ("dst 10.3.0.0/24"), ending in SECONDS
 *   frr-ledger-tool CONFIG release ID
 *
 * The ledger lives in <state_dir>/ledger.sqlite, as the ledger module has it. Exit 0 on
 * success, 1 on failure (with the reason), 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cfg.h"
#include "ledger.h"
#include "provision.h"

static int usage(void)
{
	fprintf(stderr, "usage: frr-ledger-tool CONFIG book ID PROVIDER RESOURCE MATCH SECONDS\n"
	                "       frr-ledger-tool CONFIG release ID\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct cfg_diag diag;
	struct tidal_cfg *cfg;
	struct ledger *l;
	struct ledger_lease out;
	enum ledger_err why = LEDGER_OK;
	uint8_t id[LEDGER_ID_LEN];
	char path[CFG_PATH_MAX + 32];
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (argc < 4 || prov_lease_id_parse(argv[3], id) < 0)
		return usage();
	if (!strcmp(argv[2], "book") ? argc != 8 : strcmp(argv[2], "release") || argc != 4)
		return usage();
	cfg_diag_init(&diag);
	cfg = cfg_load(argv[1], &diag);
	if (!cfg) {
		cfg_diag_print(&diag, stderr);
		cfg_diag_free(&diag);
		return 1;
	}
	cfg_diag_free(&diag);
	mkdir(cfg->region.state_dir, 0750);
	snprintf(path, sizeof(path), "%s/ledger.sqlite", cfg->region.state_dir);
	l = ledger_open(
	        &(struct ledger_params){
	                .path = path, .region = cfg->region.name, .cfg = cfg, .now = now},
	        NULL);
	if (!l) {
		cfg_free(cfg);
		return 1;
	}
	if (!strcmp(argv[2], "book")) {
		struct ledger_req req = {
		        .kind = LEDGER_KIND_BANDWIDTH,
		        .quantity = 1000000000,
		        .start = now,
		        .end = now + strtol(argv[7], NULL, 10),
		        .setup_prio = 3,
		        .hold_prio = 3,
		};

		memcpy(req.id, id, sizeof(id));
		snprintf(req.requester, sizeof(req.requester), "%s", cfg->region.name);
		snprintf(req.provider, sizeof(req.provider), "%s", argv[4]);
		snprintf(req.resource, sizeof(req.resource), "%s", argv[5]);
		snprintf(req.match, sizeof(req.match), "%s", argv[6]);
		rc = ledger_book(l, &req, now, &out, &why);
	} else {
		rc = ledger_release(l, id, now, &out, &why);
	}
	if (rc)
		fprintf(stderr, "frr-ledger-tool: %s failed: %s (%s)\n", argv[2], strerror(-rc),
		        ledger_err_name(why));
	else
		printf("%s %s\n", argv[3], ledger_state_name(out.state));
	ledger_close(l);
	cfg_free(cfg);
	return rc ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr-harness: drive the FRR provisioner through its public ops table (control/provision.h,
 * control/frr.h) from the frr suite's lab tests, standing in for tidald until the ledger
 * and peering glue call it.
 *
 *   frr-harness [-N PATHSPACE] [--vtysh PATH] [--asn N] [--local-pref N]
 *               [--session-timeout MS] [-v] apply|withdraw|resync LEASES-FILE
 *
 * LEASES-FILE has one lease per line ('#' starts a comment):
 *   ID PEER VIA VIA-ADDRESS VIA-ASN LOCAL-PREF PREFIX[,PREFIX...]
 * e.g. "00112233-4455-6677-8899-aabbccddeeff c b 10.255.1.2 65002 200 10.3.0.0/24".
 * apply and withdraw act on each lease in turn; resync passes the whole list (an empty file
 * means no active lease). Every run is a fresh provisioner instance, as after a restart.
 * Exit 0 on success; 1 with the provisioner's last error on stderr; 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frr.h"
#include "log.h"
#include "provision.h"

#define MAX_LEASES   64
#define MAX_PREFIXES 64

struct lease_buf {
	struct prov_lease l;
	struct cfg_prefix pfx[MAX_PREFIXES];
};

static int usage(void)
{
	fprintf(stderr, "usage: frr-harness [-N PATHSPACE] [--vtysh PATH] [--asn N] "
	                "[--local-pref N] [--session-timeout MS] [-v] apply|withdraw|resync "
	                "LEASES-FILE\n");
	return 2;
}

static int parse_prefix(const char *s, struct cfg_prefix *p)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	long len;
	char *end;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else
		return -EINVAL;
	len = strtol(slash + 1, &end, 10);
	if (*end || len < 0 || len > (p->family == AF_INET ? 32 : 128))
		return -EINVAL;
	p->len = (uint8_t)len;
	return 0;
}

static int parse_line(char *line, struct lease_buf *b, const char *file, int lineno)
{
	char *f[8], *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \t\r\n", &save); tok && n < 8;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		f[n++] = tok;
	if (n == 0)
		return 0;
	if (n != 7) {
		fprintf(stderr, "%s:%d: expected 7 fields, got %d\n", file, lineno, n);
		return -EINVAL;
	}
	memset(b, 0, sizeof(*b));
	if (prov_lease_id_parse(f[0], b->l.id) < 0) {
		fprintf(stderr, "%s:%d: bad lease id '%s'\n", file, lineno, f[0]);
		return -EINVAL;
	}
	snprintf(b->l.peer, sizeof(b->l.peer), "%s", f[1]);
	snprintf(b->l.via, sizeof(b->l.via), "%s", f[2]);
	snprintf(b->l.via_address, sizeof(b->l.via_address), "%s", f[3]);
	b->l.via_asn = (uint32_t)strtoul(f[4], NULL, 10);
	b->l.local_pref = (uint32_t)strtoul(f[5], NULL, 10);
	for (tok = strtok_r(f[6], ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (b->l.n_prefixes == MAX_PREFIXES ||
		    parse_prefix(tok, &b->pfx[b->l.n_prefixes]) < 0) {
			fprintf(stderr, "%s:%d: bad prefix '%s'\n", file, lineno, tok);
			return -EINVAL;
		}
		b->l.n_prefixes++;
	}
	b->l.prefixes = b->pfx;
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"pathspace", required_argument, NULL, 'N'},
	        {"vtysh", required_argument, NULL, 'V'},
	        {"asn", required_argument, NULL, 'a'},
	        {"local-pref", required_argument, NULL, 'l'},
	        {"session-timeout", required_argument, NULL, 's'},
	        {"verbose", no_argument, NULL, 'v'},
	        {NULL, 0, NULL, 0},
	};
	struct frr_params params = {0};
	const struct prov_ops *ops = &frr_prov_ops;
	static struct lease_buf leases[MAX_LEASES];
	struct prov_lease list[MAX_LEASES];
	size_t n = 0;
	char line[4096];
	int c, lineno = 0, rc = 0;
	const char *verb, *file;
	void *prov;
	FILE *in;

	tlog_set_ident("frr-harness");
	while ((c = getopt_long(argc, argv, "N:v", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			params.pathspace = optarg;
			break;
		case 'V':
			params.vtysh = optarg;
			break;
		case 'a':
			params.asn = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			params.local_pref = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			params.session_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			tlog_set_level(TLOG_DEBUG);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 2)
		return usage();
	verb = argv[optind];
	file = argv[optind + 1];
	if (strcmp(verb, "apply") && strcmp(verb, "withdraw") && strcmp(verb, "resync"))
		return usage();

	in = fopen(file, "r");
	if (!in) {
		fprintf(stderr, "frr-harness: %s: %s\n", file, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		char *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = '\0';
		if (n == MAX_LEASES) {
			fprintf(stderr, "%s:%d: more than %d leases\n", file, lineno, MAX_LEASES);
			fclose(in);
			return 2;
		}
		c = parse_line(line, &leases[n], file, lineno);
		if (c < 0) {
			fclose(in);
			return 2;
		}
		if (c > 0) {
			list[n] = leases[n].l;
			list[n].prefixes = leases[n].pfx;
			n++;
		}
	}
	fclose(in);

	prov = frr_open(&params);
	if (!prov)
		return 1;
	if (!strcmp(verb, "resync")) {
		rc = ops->resync(prov, list, n);
	} else {
		for (size_t i = 0; i < n && !rc; i++)
			rc = !strcmp(verb, "apply") ? ops->apply(prov, &list[i])
			                            : ops->withdraw(prov, &list[i]);
	}
	if (rc)
		fprintf(stderr, "frr-harness: %s failed (%s): %s\n", verb, strerror(-rc),
		        ops->last_error(prov));
	ops->free(prov);
	return rc ? 1 : 0;
}

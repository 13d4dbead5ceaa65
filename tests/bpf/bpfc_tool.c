/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc-tool: drive the bpfc library from shell scripts (the netns labs and the
 * benchmarks), without a tidald. Not installed.
 *
 *   bpfc-tool attach IFNAME [--xdp | --tc-in] [--tc-out] [--pace] [--no-pin]
 *                    [--apps 'SPEC;SPEC']       --no-pin: clsact filters, nothing pinned
 *   bpfc-tool counters IFNAME CLASS in|out      prints "PACKETS BYTES DROPS"
 *   bpfc-tool detach IFNAME
 *   bpfc-tool status IFNAME                      prints "in KIND PROG" and "out KIND PROG",
 *                                                KIND one of none, tcx, tc, xdp
 *
 * App specs as in tests/bpf/apps.h ("name: dst 10.0.0.0/8, dscp ef"). attach leaves the
 * programs attached and pinned; counters reads the pinned map directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apps.h"
#include "bpfc.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: bpfc-tool attach IFNAME [--xdp | --tc-in] [--tc-out] [--pace] [--no-pin] "
		"[--apps 'SPEC;SPEC']\n"
		"       bpfc-tool counters IFNAME CLASS in|out\n"
		"       bpfc-tool detach IFNAME\n"
		"       bpfc-tool status IFNAME\n");
	return 2;
}

static int cmd_attach(int argc, char **argv)
{
	struct bpfc_params p = {.ifname = argv[0]};
	const char *specs[256];
	struct cfg_app *apps = NULL;
	char *list = NULL, *save = NULL;
	size_t n = 0;
	struct bpfc *b;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--xdp"))
			p.hooks |= BPFC_HOOK_XDP;
		else if (!strcmp(argv[i], "--tc-in"))
			p.hooks |= BPFC_HOOK_TC_IN;
		else if (!strcmp(argv[i], "--tc-out"))
			p.hooks |= BPFC_HOOK_TC_OUT;
		else if (!strcmp(argv[i], "--pace"))
			p.pace = true;
		else if (!strcmp(argv[i], "--no-pin"))
			p.pin_root = "";
		else if (!strcmp(argv[i], "--apps") && i + 1 < argc)
			list = strdup(argv[++i]);
		else
			return usage();
	}
	for (char *t = list ? strtok_r(list, ";", &save) : NULL; t && n < 256;
	     t = strtok_r(NULL, ";", &save))
		specs[n++] = t;
	apps = apps_make(specs, n);
	p.classes = (uint32_t)n + 1;
	err = bpfc_open(&p, &b);
	if (!err) {
		err = bpfc_install_classes(b, apps, n);
		bpfc_close(b, false);
	}
	apps_free(apps, n);
	free(list);
	if (err)
		fprintf(stderr, "bpfc-tool: attach %s: %s\n", argv[0], strerror(-err));
	return err ? 1 : 0;
}

static int cmd_counters(char **argv)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	uint32_t key = (uint32_t)atoi(argv[1]) * TIDAL_DIRS + (strcmp(argv[2], "out") == 0);
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	struct tidal_ctr v, sum = {0};
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/tidal_counters", BPFC_PIN_ROOT, argv[0]);
	fd = bpf_obj_get(path);
	if (fd < 0 || ncpu <= 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "bpfc-tool: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* One slice per possible CPU (tidal_bpf.h). */
	for (int c = 0; c < ncpu; c++) {
		uint32_t k = (uint32_t)c * (info.max_entries / (uint32_t)ncpu) + key;

		if (bpf_map_lookup_elem(fd, &k, &v)) {
			fprintf(stderr, "bpfc-tool: reading %s: %s\n", path, strerror(errno));
			return 1;
		}
		sum.packets += v.packets;
		sum.bytes += v.bytes;
		sum.drops += v.drops;
	}
	printf("%llu %llu %llu\n", (unsigned long long)sum.packets,
	       (unsigned long long)sum.bytes, (unsigned long long)sum.drops);
	close(fd);
	return 0;
}

static int cmd_status(const char *ifname)
{
	static const char *const kinds[] = {"none", "tcx", "tc", "xdp"};

	for (int in = 1; in >= 0; in--) {
		char prog[16];
		enum bpfc_attach k = bpfc_attached(ifname, in, prog);

		printf("%s %s %s\n", in ? "in" : "out", kinds[k], prog[0] ? prog : "-");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "status"))
		return cmd_status(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "attach"))
		return cmd_attach(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "counters"))
		return cmd_counters(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "detach")) {
		int err = bpfc_detach(argv[2], NULL);

		if (err)
			fprintf(stderr, "bpfc-tool: detach %s: %s\n", argv[2], strerror(-err));
		return err ? 1 : 0;
	}
	return usage();
}

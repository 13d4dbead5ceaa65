/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_bpf_read: time to read the per-class counters of N classes (default 10000), the
 * collector's cost per sample and per /metrics scrape. Needs root (loads the programs;
 * no interface, no pins).
 *
 *   bench_bpf_read [CLASSES=10000] [ROUNDS=200]
 *
 * Three ways over the same map, same run: one bpf_map_lookup_elem per element (anchor),
 * bpf_map_lookup_batch in chunks of 4096 elements, and bpfc_read_counters (the counters
 * mapped into memory, summed over the per-CPU slices). Times are CPU time of this process
 * (user + system), so that other load on the machine does not count; median and p95.
 *
 * Also the programs' run time per packet with these classes installed, from
 * bpf_prog_test_run (the kernel's own timing over 1,000,000 runs of one frame): a non-IP
 * frame (parse and count only, the anchor), an IPv4 frame matching an app, and one
 * matching none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/if_ether.h>

#include "bpfc.h"
#include "../../bpf/pkt.h"

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define CHUNK 4096

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	struct bpfc_params p = {.pin_root = "", .classes = n + 1};
	int ncpu = libbpf_num_possible_cpus();
	struct cfg_prefix *pfx = calloc(n ? n : 1, sizeof(*pfx));
	struct cfg_app *apps = calloc(n ? n : 1, sizeof(*apps));
	struct bpfc_counter *out = calloc((size_t)(n + 1) * TIDAL_DIRS, sizeof(*out));
	struct tidal_ctr *vals = calloc(CHUNK, sizeof(*vals));
	uint32_t *keys = calloc(CHUNK, sizeof(*keys));
	double *t[3];
	double t0, install_ms;
	uint64_t sink = 0;
	struct bpfc *b;
	uint32_t elems;
	int fd;

	for (int i = 0; i < 3; i++)
		t[i] = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
	if (n < 1 || n > 65535 || rounds < 1 || !pfx || !apps || !out || !vals || !keys ||
	    !t[0] || !t[1] || !t[2]) {
		fprintf(stderr, "usage: bench_bpf_read [CLASSES 1..65535] [ROUNDS >= 1]\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_bpf_read: needs root to load BPF programs\n");
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		pfx[i].family = 2; /* AF_INET */
		pfx[i].len = 24;
		pfx[i].addr[0] = 10;
		pfx[i].addr[1] = (uint8_t)(i >> 8);
		pfx[i].addr[2] = (uint8_t)i;
		snprintf(apps[i].name, sizeof(apps[i].name), "app%u", i);
		apps[i].match.dst = &pfx[i];
		apps[i].match.n_dst = 1;
	}
	if (bpfc_open(&p, &b) != 0)
		return 1;
	t0 = cpu_ms();
	if (bpfc_install_classes(b, apps, n) != 0)
		return 1;
	install_ms = cpu_ms() - t0;
	fd = bpfc_map_fd(b, "tidal_counters");
	/* The elements of the used classes in every CPU slice. */
	elems = (uint32_t)bpfc_capacity(b) * TIDAL_DIRS * (uint32_t)ncpu;

	for (int r = 0; r < rounds; r++) {
		uint32_t stride = (uint32_t)bpfc_capacity(b) * TIDAL_DIRS;

		t0 = cpu_ms();
		for (int c = 0; c < ncpu; c++)
			for (uint32_t k = 0; k < (n + 1) * TIDAL_DIRS; k++) {
				uint32_t key = (uint32_t)c * stride + k;

				if (bpf_map_lookup_elem(fd, &key, vals))
					return 1;
				sink += vals[0].packets;
			}
		t[0][r] = cpu_ms() - t0;

		t0 = cpu_ms();
		for (int c = 0; c < ncpu; c++) {
			/* The batch cursor names the element before the first one wanted. */
			uint32_t in = (uint32_t)c * stride - 1, outk, left = (n + 1) * TIDAL_DIRS;
			bool first = true;

			while (left) {
				LIBBPF_OPTS(bpf_map_batch_opts, o);
				uint32_t cnt = left < CHUNK ? left : CHUNK;
				int err;

				err = bpf_map_lookup_batch(fd, first && c == 0 ? NULL : &in, &outk,
							   keys, vals, &cnt, &o);
				if (err && err != -ENOENT)
					return 1;
				for (uint32_t i = 0; i < cnt; i++)
					sink += vals[i].packets;
				left -= cnt < left ? cnt : left;
				in = outk;
				first = false;
				if (err)
					break;
			}
		}
		t[1][r] = cpu_ms() - t0;

		t0 = cpu_ms();
		if (bpfc_read_counters(b, out, n + 1) != 0)
			return 1;
		t[2][r] = cpu_ms() - t0;
		sink += out[0].packets;
	}
	for (int i = 0; i < 3; i++)
		qsort(t[i], (size_t)rounds, sizeof(double), cmp_double);
	printf("classes %u (+ unmatched), 2 directions, %d possible CPUs (map of %u elements), "
	       "%d rounds\n",
	       n, ncpu, elems, rounds);
	printf("install classes (once)              %8.2f ms CPU\n", install_ms);
	printf("%-35s %8s %8s %8s\n", "counter read, CPU time", "median", "p95", "speedup");
	printf("%-35s %8.3f %8.3f %7.1fx  (anchor)\n", "one lookup per element", t[0][rounds / 2],
	       t[0][rounds * 95 / 100], 1.0);
	printf("%-35s %8.3f %8.3f %7.1fx\n", "bpf_map_lookup_batch, 4096/call", t[1][rounds / 2],
	       t[1][rounds * 95 / 100], t[0][rounds / 2] / t[1][rounds / 2]);
	printf("%-35s %8.3f %8.3f %7.1fx\n", "bpfc_read_counters (mapped)", t[2][rounds / 2],
	       t[2][rounds * 95 / 100], t[0][rounds / 2] / t[2][rounds / 2]);
	{
		static const struct {
			const char *what, *dst;
			uint16_t proto;
		} frames[] = {
			{"ARP frame (no lookup, anchor)", NULL, ETH_P_ARP},
			{"IPv4 to 10.0.1.7 (matches an app)", "10.0.1.7", ETH_P_IP},
			{"IPv4 to 192.0.2.7 (no app)", "192.0.2.7", ETH_P_IP},
		};
		double anchor = 0;

		printf("%-35s %8s %8s\n", "tidal_cls_in per packet", "ns", "vs ARP");
		for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
			struct pkt f;
			LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1000000);

			pkt_eth(&f, 0, frames[i].proto);
			if (frames[i].dst)
				pkt_ip4(&f, "10.9.9.9", frames[i].dst, 0, 0);
			pkt_pad(&f, 64);
			o.data_in = f.b;
			o.data_size_in = (uint32_t)f.len;
			if (bpf_prog_test_run_opts(bpfc_prog_fd(b, BPFC_PROG_CLS_IN), &o))
				return 1;
			if (i == 0)
				anchor = o.duration;
			printf("%-35s %8u %7.2fx\n", frames[i].what, o.duration,
			       o.duration / (anchor ? anchor : 1));
		}
	}
	if (sink == UINT64_MAX)
		puts("");
	bpfc_close(b, false);
	free(pfx);
	free(apps);
	free(out);
	free(vals);
	free(keys);
	for (int i = 0; i < 3; i++)
		free(t[i]);
	return 0;
}

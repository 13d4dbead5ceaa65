/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives the "dpdk" collector backend (dataplane/coll_dpdk.c) against a running tidal-dp,
 * as tidald's collector module would: open with a config (classes installed, reception
 * started), read counters until every expected packet was counted, enforce a rate,
 * refuse rates for unknown classes and interfaces, reload a config with one app fewer, and
 * close keeping the enforcement. Prints what it read for test_collector.py to compare:
 *   counter IFNAME CLASS DIR PACKETS BYTES DROPS
 *
 *   test-coll-dpdk CONFIG1 CONFIG2 EXPECTED_PACKETS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static struct tidal_cfg *load(const char *path)
{
	struct cfg_diag d;
	struct tidal_cfg *cfg;

	cfg_diag_init(&d);
	cfg = cfg_load(path, &d);
	if (!cfg)
		cfg_diag_print(&d, stderr);
	cfg_diag_free(&d);
	CHECK(cfg, "cannot load %s", path);
	return cfg;
}

static uint64_t sum_in(const struct coll_counter *c, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		if (c[i].dir == COLL_DIR_IN)
			s += c[i].packets;
	return s;
}

int main(int argc, char **argv)
{
	const struct coll_backend_ops *ops = &coll_backend_dpdk;
	struct tidal_cfg *cfg1, *cfg2;
	struct coll_counter *c = NULL;
	size_t n = 0;
	void *be = NULL;
	uint64_t want;
	int rc;

	CHECK(argc == 4, "usage: test-coll-dpdk CONFIG1 CONFIG2 EXPECTED_PACKETS");
	want = strtoull(argv[3], NULL, 10);
	cfg1 = load(argv[1]);
	cfg2 = load(argv[2]);
	CHECK(strcmp(ops->name, "dpdk") == 0, "backend name %s", ops->name);

	rc = ops->open(cfg1, &be);
	CHECK(rc == 0 && be, "open: %d", rc);

	/* counters until every packet of the capture was received (10 s at most) */
	for (int i = 0; i < 200; i++) {
		free(c);
		c = NULL;
		rc = ops->read(be, &c, &n);
		CHECK(rc == 0, "read: %d", rc);
		if (sum_in(c, n) >= want)
			break;
		nanosleep(&(struct timespec){0, 50000000}, NULL);
	}
	CHECK(sum_in(c, n) == want, "received %llu of %llu packets",
	      (unsigned long long)sum_in(c, n), (unsigned long long)want);
	for (size_t i = 0; i < n; i++)
		printf("counter %s %u %s %llu %llu %llu\n", c[i].ifname, c[i].class_id,
		       c[i].dir == COLL_DIR_IN ? "in" : "out", (unsigned long long)c[i].packets,
		       (unsigned long long)c[i].bytes, (unsigned long long)c[i].drops);
	free(c);
	c = NULL;

	/* enforcement */
	CHECK(ops->set_rate(be, NULL, 1, 5000000) == 0, "set_rate app 1");
	CHECK(ops->set_rate(be, "net_pcap0", 2, 7000000) == 0, "set_rate app 2 on net_pcap0");
	CHECK(ops->set_rate(be, "veth-none", 2, 7000000) == -ENOENT, "set_rate unknown ifname");
	CHECK(ops->set_rate(be, NULL, 0, 1000000) == -ENOENT, "set_rate class 0");
	CHECK(ops->set_rate(be, NULL, 99, 1000000) == -ENOENT, "set_rate class 99");

	/* reload with one app fewer: its class goes away, the others keep their rates */
	rc = ops->apply_config(be, cfg2);
	CHECK(rc == 0, "apply_config: %d", rc);
	rc = ops->read(be, &c, &n);
	CHECK(rc == 0, "read after reload: %d", rc);
	for (size_t i = 0; i < n; i++)
		CHECK(c[i].class_id <= cfg2->n_apps, "class %u still there after reload",
		      c[i].class_id);
	printf("classes after reload: %zu counters\n", n);
	free(c);

	ops->close(be, true);
	cfg_free(cfg1);
	cfg_free(cfg2);
	printf("ok\n");
	return 0;
}

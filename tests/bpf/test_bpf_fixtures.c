/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BPF fixture tests: tidal's programs run in the kernel on crafted frames through
 * bpf_prog_test_run_opts, loaded by bpfc without an interface or pins. Each test sends
 * frames and checks the class counters, the event counters and (for the pacer) the
 * verdict and departure time the program produced. Needs root (or CAP_BPF); exits 77
 * (skip) otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include "apps.h"
#include "bpfc.h"
#include "bpfc_tables.h"
#include "pkt.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Pacing tests work in departure times far apart (10 ms and more per frame) against a 1 s
 * horizon, so that a test process that the scheduler holds back for a few milliseconds
 * between two runs sees the same outcome. */
#define HORIZON_NS 1000000000ULL

static const char *const std_specs[] = {
	"web4: dst 198.51.100.0/24",
	"voice4: dst 198.51.100.0/24, dscp 46",
	"web6: dst 2001:db8:100::/48",
	"branch: src 192.0.2.0/24",
	"paced: dst 203.0.113.0/24",
	"paced2: dst 233.252.0.0/24",
	"paced3: dst 233.252.1.0/24",
};
enum { C_WEB4 = 1, C_VOICE4, C_WEB6, C_BRANCH, C_PACED, C_PACED2, C_PACED3 };

struct fx {
	struct bpfc *b;
	struct cfg_app *apps;
	size_t n_apps;
	struct bpfc_counter before[TIDAL_CLASSES_MIN * TIDAL_DIRS];
	struct bpfc_counter after[TIDAL_CLASSES_MIN * TIDAL_DIRS];
	uint64_t ev_before[TIDAL_DIRS][TIDAL_EV_MAX];
	uint64_t ev_after[TIDAL_DIRS][TIDAL_EV_MAX];
};

static int setup(void **state)
{
	struct bpfc_params p = {.pin_root = "", .classes = 64, .horizon_ns = HORIZON_NS};
	struct fx *f = calloc(1, sizeof(*f));

	if (bpfc_open(&p, &f->b) != 0) {
		free(f);
		return -1;
	}
	f->n_apps = N_OF(std_specs);
	f->apps = apps_make(std_specs, f->n_apps);
	if (bpfc_install_classes(f->b, f->apps, f->n_apps) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bpfc_close(f->b, false);
	apps_free(f->apps, f->n_apps);
	free(f);
	return 0;
}

struct run {
	uint32_t retval;
	struct __sk_buff ctx;
};

static void run_prog(struct fx *f, enum bpfc_prog prog, const struct pkt *p,
		     const struct __sk_buff *ctx_in, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (__u32)p->len);
	struct __sk_buff in = {0};
	int err;

	memset(r, 0, sizeof(*r));
	if (prog != BPFC_PROG_CLS_XDP) {
		if (ctx_in)
			in = *ctx_in;
		o.ctx_in = &in;
		o.ctx_size_in = sizeof(in);
		o.ctx_out = &r->ctx;
		o.ctx_size_out = sizeof(r->ctx);
	}
	err = bpf_prog_test_run_opts(bpfc_prog_fd(f->b, prog), &o);
	if (err)
		fprintf(stderr, "test_run of a %zu-byte frame: %s\n", p->len, strerror(-err));
	assert_int_equal(err, 0);
	r->retval = o.retval;
}

static void snap(struct fx *f, struct bpfc_counter *c, uint64_t ev[TIDAL_DIRS][TIDAL_EV_MAX])
{
	assert_int_equal(bpfc_read_counters(f->b, c, bpfc_n_classes(f->b)), 0);
	assert_int_equal(bpfc_read_events(f->b, ev), 0);
}

/* Run one frame and return the class it was counted in (exactly one class and direction
 * must have moved, by `segs` packets and the frame's length in bytes). */
static uint32_t class_of(struct fx *f, enum bpfc_prog prog, const struct pkt *p, uint32_t segs)
{
	unsigned dir = prog == BPFC_PROG_CLS_IN || prog == BPFC_PROG_CLS_XDP ? TIDAL_DIR_IN
									    : TIDAL_DIR_OUT;
	struct __sk_buff ctx = {.gso_segs = segs};
	size_t n = bpfc_n_classes(f->b);
	uint32_t found = UINT32_MAX;
	struct run r;

	snap(f, f->before, f->ev_before);
	run_prog(f, prog, p, segs > 1 ? &ctx : NULL, &r);
	snap(f, f->after, f->ev_after);
	for (size_t c = 0; c < n; c++) {
		for (unsigned d = 0; d < TIDAL_DIRS; d++) {
			const struct bpfc_counter *a = &f->after[c * TIDAL_DIRS + d];
			const struct bpfc_counter *b = &f->before[c * TIDAL_DIRS + d];

			if (a->packets == b->packets) {
				assert_int_equal(a->bytes, b->bytes);
				continue;
			}
			assert_int_equal(found, UINT32_MAX);
			assert_int_equal(d, dir);
			assert_int_equal(a->packets - b->packets, segs ? segs : 1);
			assert_int_equal(a->bytes - b->bytes, p->len);
			found = (uint32_t)c;
		}
	}
	assert_int_not_equal(found, UINT32_MAX);
	return found;
}

static uint64_t ev_delta(struct fx *f, unsigned dir, unsigned ev)
{
	return f->ev_after[dir][ev] - f->ev_before[dir][ev];
}

static void udp4(struct pkt *p, unsigned tags, const char *src, const char *dst, uint8_t dscp,
		 uint16_t frag)
{
	pkt_eth(p, tags, ETH_P_IP);
	pkt_ip4(p, src, dst, dscp, frag);
	pkt_pad(p, p->len + 32);
}

static void test_ipv4_dst_and_dir(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 0, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB4);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), C_WEB4);
	udp4(&p, 0, "10.0.0.1", "198.51.101.7", 0, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), 0);
}

static void test_dscp(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 46, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), C_VOICE4);
	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 34, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), C_WEB4);
}

static void test_ipv6(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100:5::1", 46, 17);
	pkt_pad(&p, p.len + 16);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB6);
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:101::1", 0, 17);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_IPV6_EXT), 0);
}

static void test_src(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	udp4(&p, 0, "192.0.2.44", "10.9.9.9", 0, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_BRANCH);
	/* A more specific destination wins over the source match. */
	udp4(&p, 0, "192.0.2.44", "198.51.100.1", 0, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB4);
}

static void test_vlan(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	udp4(&p, 1, "10.0.0.1", "198.51.100.7", 0, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB4);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_VLAN), 1);
	udp4(&p, 2, "10.0.0.1", "198.51.100.7", 46, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_VOICE4);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_VLAN), 1);
	udp4(&p, 3, "10.0.0.1", "198.51.100.7", 0, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_VLAN_DEPTH), 1);
	pkt_eth(&p, 1, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 17);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), C_WEB6);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_VLAN), 1);
}

/* Cut frames. The kernel's skb test runner refuses some of them (it reads the IP header
 * of an IP ethertype itself), so those go through the XDP program, which shares the
 * parser with the tc programs. */
static void test_truncated_and_bad(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	/* IPv4 ethertype, 10 bytes of IP header. */
	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 0, 0);
	p.len = 14 + 10;
	assert_int_equal(class_of(f, BPFC_PROG_CLS_XDP, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_TRUNCATED), 1);
	/* IHL says 60 bytes of header, 40 present. */
	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 0, 0);
	p.b[14] = 0x4f;
	p.len = 14 + 40;
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_TRUNCATED), 1);
	/* A VLAN tag cut in half. */
	pkt_eth(&p, 1, ETH_P_IP);
	p.len = 16;
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_TRUNCATED), 1);
	/* IPv4 header cut behind a complete tag. */
	udp4(&p, 1, "10.0.0.1", "198.51.100.7", 0, 0);
	p.len = 18 + 19;
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_TRUNCATED), 1);
	/* IPv6 fixed header cut. */
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 17);
	p.len = 14 + 39;
	assert_int_equal(class_of(f, BPFC_PROG_CLS_XDP, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_TRUNCATED), 1);
	/* IHL below 5. */
	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 0, 0);
	p.b[14] = 0x44;
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_BAD_HEADER), 1);
	/* IPv6 header behind an IPv4 ethertype. */
	pkt_eth(&p, 0, ETH_P_IP);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 17);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_BAD_HEADER), 1);
}

static void test_non_ip(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	pkt_eth(&p, 0, ETH_P_ARP);
	pkt_pad(&p, 42);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_NON_IP), 1);
	/* Bare Ethernet header of an unknown type: shortest frame test_run accepts. */
	pkt_eth(&p, 0, 0x88b5);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), 0);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_NON_IP), 1);
}

static void test_fragments(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 0, 0x2000); /* MF, offset 0 */
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB4);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_FRAGMENT), 1);
	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 46, 185); /* last fragment, offset 1480 */
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_VOICE4);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_FRAGMENT), 1);
	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 0, 0x4000); /* DF only */
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB4);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_FRAGMENT), 0);

	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 44);
	pkt_ext(&p, 17, (uint16_t)(1232 << 3)); /* non-first fragment */
	pkt_pad(&p, p.len + 16);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), C_WEB6);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_FRAGMENT), 1);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_IPV6_EXT), 1);
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 44);
	pkt_ext(&p, 17, 0); /* atomic fragment: not a fragment */
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 1), C_WEB6);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_FRAGMENT), 0);
}

static void test_ipv6_ext_headers(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	/* hop-by-hop -> routing -> destination options -> UDP */
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 0);
	pkt_ext(&p, 43, 0);
	pkt_ext(&p, 60, 0);
	pkt_ext(&p, 17, 0);
	pkt_pad(&p, p.len + 8);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB6);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_IPV6_EXT), 1);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_IPV6_EXT_LIMIT), 0);

	/* A chain longer than the walk: still classified by the fixed header. */
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 60);
	for (int i = 0; i < TIDAL_IPV6_EXT_MAX + 1; i++)
		pkt_ext(&p, 60, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB6);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_IPV6_EXT_LIMIT), 1);

	/* An extension header cut short. */
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 0);
	pkt_ext(&p, 17, 0);
	p.len -= 3;
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB6);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_IPV6_EXT_LIMIT), 1);

	/* AH: length in 4-byte units plus 2 (24 bytes here), then UDP. */
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ip6(&p, "2001:db8:1::1", "2001:db8:100::9", 0, 51);
	pkt_u8(&p, 17);
	pkt_u8(&p, 4);
	pkt_pad(&p, p.len + 22);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_IN, &p, 1), C_WEB6);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_IPV6_EXT_LIMIT), 0);
}

static void test_gso_segments(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	udp4(&p, 0, "10.0.0.1", "198.51.100.7", 0, 0);
	pkt_pad(&p, 1400);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_OUT, &p, 10), C_WEB4);
}

static void test_xdp(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	udp4(&p, 1, "10.0.0.1", "198.51.100.7", 46, 0);
	assert_int_equal(class_of(f, BPFC_PROG_CLS_XDP, &p, 1), C_VOICE4);
	assert_int_equal(ev_delta(f, TIDAL_DIR_IN, TIDAL_EV_VLAN), 1);
}

/* The kernel programs agree with the reference classifier on random apps and frames. */
static void test_random_vs_reference(void **state)
{
	struct bpfc_params bp = {.pin_root = "", .classes = 64};
	struct fx f2 = {0};
	unsigned seed = 777;

	(void)state;
	assert_int_equal(bpfc_open(&bp, &f2.b), 0);
	for (int round = 0; round < 5; round++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % 30);
		const char *specs[30];
		char buf[30][128];

		for (size_t i = 0; i < n; i++) {
			int len = snprintf(buf[i], sizeof(buf[i]), "r%zu:", i);
			int k = rand_r(&seed) % 3;

			for (int j = 0; j < k; j++)
			{
				int plen = 16 + rand_r(&seed) % 3 * 4, b = rand_r(&seed) % 2;
				int c = plen == 16 ? 0 : rand_r(&seed) % 4 * 64; /* no host bits */

				len += snprintf(buf[i] + len, sizeof(buf[i]) - (size_t)len,
						"%s dst 10.%d.%d.0/%d", j ? "," : "", b, c, plen);
			}
			if (rand_r(&seed) % 4 == 0)
				len += snprintf(buf[i] + len, sizeof(buf[i]) - (size_t)len,
						"%s src 172.16.%d.0/24", k ? "," : "",
						rand_r(&seed) % 2);
			if (rand_r(&seed) % 3 == 0)
				snprintf(buf[i] + len, sizeof(buf[i]) - (size_t)len, "%s dscp %d",
					 strchr(buf[i], ' ') ? "," : "", rand_r(&seed) % 3);
			specs[i] = buf[i];
		}
		apps_free(f2.apps, f2.n_apps);
		f2.apps = apps_make(specs, n);
		f2.n_apps = n;
		assert_int_equal(bpfc_install_classes(f2.b, f2.apps, n), 0);
		for (int k = 0; k < 300; k++) {
			char src[32], dst[32];
			uint8_t s[4], d[4], dscp = (uint8_t)(rand_r(&seed) % 3);
			struct pkt p;

			snprintf(src, sizeof(src), "172.16.%d.%d", rand_r(&seed) % 3,
				 rand_r(&seed) % 256);
			snprintf(dst, sizeof(dst), "10.%d.%d.%d", rand_r(&seed) % 3,
				 rand_r(&seed) % 256, rand_r(&seed) % 256);
			inet_pton(AF_INET, src, s);
			inet_pton(AF_INET, dst, d);
			udp4(&p, (unsigned)(rand_r(&seed) % 3), src, dst, dscp, 0);
			assert_int_equal(class_of(&f2, BPFC_PROG_CLS_OUT, &p, 1),
					 bpfc_classify_ref(f2.apps, n, AF_INET, s, d, dscp));
		}
	}
	bpfc_close(f2.b, false);
	apps_free(f2.apps, f2.n_apps);
}

/* Reinstalling: stale prefixes leave the tries, a class whose app changed restarts its
 * counters, a class that kept its app keeps them. */
static void test_reinstall(void **state)
{
	static const char *const a[] = {"one: dst 10.1.0.0/16", "two: dst 10.2.0.0/16"};
	static const char *const b[] = {"one: dst 10.1.0.0/16", "three: dst 10.3.0.0/16"};
	struct bpfc_params bp = {.pin_root = "", .classes = 16};
	struct fx f2 = {0};
	struct tidal_lpm4_key k, next;
	struct pkt p;
	int fd, keys = 0;

	(void)state;
	assert_int_equal(bpfc_open(&bp, &f2.b), 0);
	f2.apps = apps_make(a, 2);
	f2.n_apps = 2;
	assert_int_equal(bpfc_install_classes(f2.b, f2.apps, 2), 0);
	udp4(&p, 0, "10.0.0.1", "10.1.0.1", 0, 0);
	assert_int_equal(class_of(&f2, BPFC_PROG_CLS_OUT, &p, 1), 1);
	udp4(&p, 0, "10.0.0.1", "10.2.0.1", 0, 0);
	assert_int_equal(class_of(&f2, BPFC_PROG_CLS_OUT, &p, 1), 2);
	apps_free(f2.apps, 2);
	f2.apps = apps_make(b, 2);
	assert_int_equal(bpfc_install_classes(f2.b, f2.apps, 2), 0);
	snap(&f2, f2.after, f2.ev_after);
	assert_int_equal(f2.after[1 * TIDAL_DIRS + TIDAL_DIR_OUT].packets, 1);
	assert_int_equal(f2.after[2 * TIDAL_DIRS + TIDAL_DIR_OUT].packets, 0);
	assert_int_equal(class_of(&f2, BPFC_PROG_CLS_OUT, &p, 1), 0); /* 10.2/16 is gone */
	udp4(&p, 0, "10.0.0.1", "10.3.0.1", 0, 0);
	assert_int_equal(class_of(&f2, BPFC_PROG_CLS_OUT, &p, 1), 2);
	fd = bpfc_map_fd(f2.b, "tidal_dst4");
	assert_true(fd >= 0);
	for (void *prev = NULL; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &k) {
		k = next;
		keys++;
	}
	assert_int_equal(keys, 2);
	/* More apps than the room given at open (the minimum, TIDAL_CLASSES_MIN). */
	apps_free(f2.apps, 2);
	{
		enum { N = TIDAL_CLASSES_MIN };
		static char names[N][40];
		static const char *specs[N];

		for (int i = 0; i < N; i++) {
			snprintf(names[i], sizeof(names[i]), "x%d: dst 10.%d.%d.0/24", i, i / 256,
				 i % 256);
			specs[i] = names[i];
		}
		f2.apps = apps_make(specs, N);
		f2.n_apps = N;
		assert_int_equal(bpfc_capacity(f2.b), TIDAL_CLASSES_MIN);
		assert_int_equal(bpfc_install_classes(f2.b, f2.apps, N - 1), 0);
		assert_int_equal(bpfc_install_classes(f2.b, f2.apps, N), -ENOSPC);
		assert_int_equal(bpfc_n_classes(f2.b), N);
	}
	bpfc_close(f2.b, false);
	apps_free(f2.apps, f2.n_apps);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void frame_to(struct pkt *p, const char *dst, size_t len)
{
	pkt_eth(p, 0, ETH_P_IP);
	pkt_ip4(p, "10.0.0.1", dst, 0, 0);
	pkt_pad(p, len);
}

static void test_pace_unpaced_class(void **state)
{
	struct fx *f = *state;
	struct pkt p;
	struct run r;

	frame_to(&p, "198.51.100.7", 1000);
	for (int i = 0; i < 5; i++) {
		run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r);
		assert_int_equal(r.retval, (uint32_t)TC_ACT_UNSPEC);
		assert_int_equal(r.ctx.tstamp, 0);
	}
	assert_int_equal(class_of(f, BPFC_PROG_PACE_OUT, &p, 1), C_WEB4);
}

/* 1000-byte frames at 800 kbit/s leave 10 ms apart; then at 8 Mbit/s 1 ms apart. */
static void test_pace_spacing_and_rate_change(void **state)
{
	struct fx *f = *state;
	uint64_t prev = 0, rate;
	struct pkt p;
	struct run r;

	assert_int_equal(bpfc_set_rate(f->b, C_PACED, 800000), 0);
	assert_int_equal(bpfc_get_rate(f->b, C_PACED, &rate), 0);
	assert_int_equal(rate, 800000);
	frame_to(&p, "203.0.113.9", 1000);
	snap(f, f->before, f->ev_before);
	run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r); /* first: leaves now */
	assert_int_equal(r.retval, (uint32_t)TC_ACT_UNSPEC);
	assert_int_equal(r.ctx.tstamp, 0);
	for (int i = 0; i < 5; i++) {
		run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r);
		assert_int_equal(r.retval, (uint32_t)TC_ACT_UNSPEC);
		assert_true(r.ctx.tstamp > mono_ns());
		if (prev)
			assert_int_equal(r.ctx.tstamp - prev, 10000000);
		prev = r.ctx.tstamp;
	}
	snap(f, f->after, f->ev_after);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_PACED), 5);
	assert_int_equal(f->after[C_PACED * TIDAL_DIRS + TIDAL_DIR_OUT].packets -
				 f->before[C_PACED * TIDAL_DIRS + TIDAL_DIR_OUT].packets,
			 6);

	assert_int_equal(bpfc_set_rate(f->b, C_PACED, 8000000), 0);
	run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r);
	assert_int_equal(r.ctx.tstamp - prev, 1000000);
	prev = r.ctx.tstamp;
	run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r);
	assert_int_equal(r.ctx.tstamp - prev, 1000000);
	assert_int_equal(bpfc_set_rate(f->b, C_PACED, 0), 0);
	run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r);
	assert_int_equal(r.ctx.tstamp, 0);
}

/* Beyond the horizon (1 s here) frames are dropped and counted per class and reason. */
static void test_pace_horizon_drop(void **state)
{
	struct fx *f = *state;
	int sent = 0, dropped = 0;
	struct pkt p;
	struct run r;

	assert_int_equal(bpfc_set_rate(f->b, C_PACED2, 80000), 0); /* 100 ms per frame */
	frame_to(&p, "233.252.0.1", 1000);
	snap(f, f->before, f->ev_before);
	for (int i = 0; i < 15; i++) {
		run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r);
		if (r.retval == TC_ACT_SHOT)
			dropped++;
		else
			sent++;
	}
	snap(f, f->after, f->ev_after);
	/* The first frame leaves now, nine more fit before the horizon; a run delayed by a
	 * frame time lets one more in. */
	assert_true(sent >= 10 && sent <= 11);
	assert_int_equal(sent + dropped, 15);
	assert_int_equal(f->after[C_PACED2 * TIDAL_DIRS + TIDAL_DIR_OUT].drops -
				 f->before[C_PACED2 * TIDAL_DIRS + TIDAL_DIR_OUT].drops,
			 (uint64_t)dropped);
	assert_int_equal(f->after[C_PACED2 * TIDAL_DIRS + TIDAL_DIR_OUT].packets -
				 f->before[C_PACED2 * TIDAL_DIRS + TIDAL_DIR_OUT].packets,
			 15);
	assert_int_equal(ev_delta(f, TIDAL_DIR_OUT, TIDAL_EV_DROP_HORIZON), (uint64_t)dropped);
	assert_true(bpfc_event_is_drop(TIDAL_EV_DROP_HORIZON));
	assert_string_equal(bpfc_event_name(TIDAL_EV_DROP_HORIZON), "drop_horizon");
}

/* A departure time already set by the socket (TCP's own EDT) is kept, and the class's next
 * packet is spaced from it. */
static void test_pace_respects_socket_tstamp(void **state)
{
	struct fx *f = *state;
	struct __sk_buff ctx = {0};
	uint64_t t0;
	struct pkt p;
	struct run r;

	assert_int_equal(bpfc_set_rate(f->b, C_PACED3, 1000000000), 0);
	frame_to(&p, "233.252.1.1", 1000);
	t0 = mono_ns() + 500000000; /* half a second ahead, within the horizon */
	ctx.tstamp = t0;
	run_prog(f, BPFC_PROG_PACE_OUT, &p, &ctx, &r);
	assert_int_equal(r.ctx.tstamp, t0);
	run_prog(f, BPFC_PROG_PACE_OUT, &p, NULL, &r);
	assert_int_equal(r.ctx.tstamp, t0 + 8000); /* 1000 bytes at 1 Gbit/s */
}

/* Without sch_fq the pacer steers paced classes into HTB leaves through skb->priority. */
static void test_pace_htb_steering(void **state)
{
	struct bpfc_params bp = {.pin_root = "", .classes = 16, .pace_mode = BPFC_PACE_HTB};
	static const char *const specs[] = {"slow: dst 10.1.0.0/16", "free: dst 10.2.0.0/16"};
	struct fx f2 = {0};
	struct pkt p;
	struct run r;

	(void)state;
	assert_int_equal(bpfc_open(&bp, &f2.b), 0);
	assert_int_equal(bpfc_pace_mode(f2.b), TIDAL_PACE_HTB);
	f2.apps = apps_make(specs, 2);
	f2.n_apps = 2;
	assert_int_equal(bpfc_install_classes(f2.b, f2.apps, 2), 0);
	assert_int_equal(bpfc_set_rate(f2.b, 1, 100000000), 0);
	frame_to(&p, "10.1.2.3", 1000);
	for (int i = 0; i < 3; i++) {
		run_prog(&f2, BPFC_PROG_PACE_OUT, &p, NULL, &r);
		assert_int_equal(r.retval, (uint32_t)TC_ACT_UNSPEC);
		assert_int_equal(r.ctx.priority, (TIDAL_HTB_MAJOR << 16) | 2);
		assert_int_equal(r.ctx.tstamp, 0);
	}
	frame_to(&p, "10.2.2.3", 1000);
	run_prog(&f2, BPFC_PROG_PACE_OUT, &p, NULL, &r);
	assert_int_equal(r.ctx.priority, 0);
	assert_int_equal(class_of(&f2, BPFC_PROG_PACE_OUT, &p, 1), 2);
	bpfc_close(f2.b, false);
	apps_free(f2.apps, f2.n_apps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_dst_and_dir),
		cmocka_unit_test(test_dscp),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_src),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_truncated_and_bad),
		cmocka_unit_test(test_non_ip),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_gso_segments),
		cmocka_unit_test(test_xdp),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_reinstall),
		cmocka_unit_test(test_pace_unpaced_class),
		cmocka_unit_test(test_pace_spacing_and_rate_change),
		cmocka_unit_test(test_pace_horizon_drop),
		cmocka_unit_test(test_pace_respects_socket_tstamp),
		cmocka_unit_test(test_pace_htb_steering),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "bpf-fixtures: needs root to load BPF programs; skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}

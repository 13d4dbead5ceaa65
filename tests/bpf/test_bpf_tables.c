/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of bpfc_tables: the candidate lists and source sets built from apps, their
 * limits, and agreement between (a) a lookup over the built tables done the way the BPF
 * program does it and (b) the reference classifier, on random apps and packets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps.h"
#include "bpfc_tables.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool in_prefix(const uint8_t *addr, const uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned byte = i / 8, bit = 7 - i % 8;

		if (((addr[byte] >> bit) & 1) != ((p[byte] >> bit) & 1))
			return false;
	}
	return true;
}

/* What the BPF program does, over the userspace tables. */
static uint32_t table_classify(const struct bpfc_tables *t, int family, const uint8_t *src,
			       const uint8_t *dst, uint8_t dscp)
{
	const struct tidal_cand *cand = NULL;
	const struct tidal_srcset *set = NULL;
	int best = -1, sbest = -1;

	if (family == AF_INET) {
		for (size_t i = 0; i < t->n_dst4; i++)
			if ((int)t->dst4[i].key.prefixlen > best &&
			    in_prefix(dst, t->dst4[i].key.addr, t->dst4[i].key.prefixlen)) {
				best = (int)t->dst4[i].key.prefixlen;
				cand = &t->dst4[i].cand;
			}
		for (size_t i = 0; i < t->n_src4; i++)
			if ((int)t->src4[i].key.prefixlen > sbest &&
			    in_prefix(src, t->src4[i].key.addr, t->src4[i].key.prefixlen)) {
				sbest = (int)t->src4[i].key.prefixlen;
				set = &t->src4[i].set;
			}
	} else {
		for (size_t i = 0; i < t->n_dst6; i++)
			if ((int)t->dst6[i].key.prefixlen > best &&
			    in_prefix(dst, t->dst6[i].key.addr, t->dst6[i].key.prefixlen)) {
				best = (int)t->dst6[i].key.prefixlen;
				cand = &t->dst6[i].cand;
			}
		for (size_t i = 0; i < t->n_src6; i++)
			if ((int)t->src6[i].key.prefixlen > sbest &&
			    in_prefix(src, t->src6[i].key.addr, t->src6[i].key.prefixlen)) {
				sbest = (int)t->src6[i].key.prefixlen;
				set = &t->src6[i].set;
			}
	}
	if (!cand)
		return 0;
	for (uint32_t i = 0; i < cand->n; i++) {
		const struct tidal_class *c = &t->classes[cand->class_id[i]];

		if (!(c->flags & TIDAL_CLASS_USED))
			continue;
		if ((c->flags & TIDAL_CLASS_HAS_DSCP) && !((c->dscp_mask >> dscp) & 1))
			continue;
		if ((c->flags & TIDAL_CLASS_HAS_SRC) &&
		    (!set || !((set->bits[c->src_slot / 64] >> (c->src_slot % 64)) & 1)))
			continue;
		return cand->class_id[i];
	}
	return 0;
}

static const struct tidal_cand *find4(const struct bpfc_tables *t, const char *a, unsigned len)
{
	uint8_t addr[4];

	inet_pton(AF_INET, a, addr);
	for (size_t i = 0; i < t->n_dst4; i++)
		if (t->dst4[i].key.prefixlen == len && !memcmp(t->dst4[i].key.addr, addr, 4))
			return &t->dst4[i].cand;
	return NULL;
}

static void test_empty(void **state)
{
	struct bpfc_tables *t;

	(void)state;
	assert_int_equal(bpfc_tables_build(NULL, 0, &t), 0);
	assert_int_equal(t->n_classes, 1);
	assert_int_equal(t->n_dst4 + t->n_dst6 + t->n_src4 + t->n_src6, 0);
	bpfc_tables_free(t);
	bpfc_tables_free(NULL);
}

static void test_nested_prefixes(void **state)
{
	static const char *const specs[] = {
		"bulk: dst 10.0.0.0/8",
		"video: dst 10.1.0.0/16, dscp 34",
		"voice: dst 10.1.2.0/24, dst 10.1.0.0/16, dscp 46",
	};
	struct cfg_app *apps = apps_make(specs, N_OF(specs));
	const struct tidal_cand *c;
	struct bpfc_tables *t;

	(void)state;
	assert_int_equal(bpfc_tables_build(apps, N_OF(specs), &t), 0);
	assert_int_equal(t->n_dst4, 3);
	assert_int_equal(t->n_dst6, 0);
	c = find4(t, "10.0.0.0", 8);
	assert_non_null(c);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->class_id[0], 1);
	/* At 10.1/16 video and voice both cover at /16; voice has no more constraint kinds
	 * than video, so config order decides; bulk last. */
	c = find4(t, "10.1.0.0", 16);
	assert_non_null(c);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->class_id[0], 2);
	assert_int_equal(c->class_id[1], 3);
	assert_int_equal(c->class_id[2], 1);
	c = find4(t, "10.1.2.0", 24);
	assert_non_null(c);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->class_id[0], 3);
	assert_int_equal(c->class_id[1], 2);
	assert_int_equal(c->class_id[2], 1);
	assert_int_equal(t->classes[2].flags, TIDAL_CLASS_USED | TIDAL_CLASS_HAS_DSCP);
	assert_int_equal(t->classes[2].dscp_mask, 1ULL << 34);
	assert_int_equal(t->classes[1].flags, TIDAL_CLASS_USED);
	bpfc_tables_free(t);
	apps_free(apps, N_OF(specs));
}

static void test_wildcard_and_src(void **state)
{
	static const char *const specs[] = {
		"ef: dscp 46",
		"branch: src 192.0.2.0/24, src 2001:db8:1::/48",
		"web: dst 198.51.100.0/24",
	};
	struct cfg_app *apps = apps_make(specs, N_OF(specs));
	const struct tidal_cand *c;
	struct bpfc_tables *t;
	uint8_t s[16], d[16];

	(void)state;
	assert_int_equal(bpfc_tables_build(apps, N_OF(specs), &t), 0);
	/* /0 in each family for the two apps without dst, plus web's prefix. */
	assert_int_equal(t->n_dst4, 2);
	assert_int_equal(t->n_dst6, 1);
	c = find4(t, "0.0.0.0", 0);
	assert_non_null(c);
	assert_int_equal(c->n, 2);
	c = find4(t, "198.51.100.0", 24);
	assert_non_null(c);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->class_id[0], 3);
	assert_int_equal(t->n_src4, 1);
	assert_int_equal(t->n_src6, 1);
	assert_int_equal(t->classes[2].src_slot, 0);
	assert_true(t->src4[0].set.bits[0] & 1);

	inet_pton(AF_INET, "192.0.2.7", s);
	inet_pton(AF_INET, "203.0.113.1", d);
	assert_int_equal(bpfc_classify_ref(apps, 3, AF_INET, s, d, 0), 2);
	assert_int_equal(table_classify(t, AF_INET, s, d, 0), 2);
	/* ef and branch both cover at /0; both have one constraint kind: config order. */
	assert_int_equal(bpfc_classify_ref(apps, 3, AF_INET, s, d, 46), 1);
	assert_int_equal(table_classify(t, AF_INET, s, d, 46), 1);
	inet_pton(AF_INET, "198.51.100.9", d);
	assert_int_equal(bpfc_classify_ref(apps, 3, AF_INET, s, d, 46), 3);
	inet_pton(AF_INET6, "2001:db8:1::5", s);
	inet_pton(AF_INET6, "2001:db8:2::5", d);
	assert_int_equal(bpfc_classify_ref(apps, 3, AF_INET6, s, d, 0), 2);
	assert_int_equal(table_classify(t, AF_INET6, s, d, 0), 2);
	inet_pton(AF_INET6, "2001:db8:9::5", s);
	assert_int_equal(bpfc_classify_ref(apps, 3, AF_INET6, s, d, 0), 0);
	assert_int_equal(table_classify(t, AF_INET6, s, d, 0), 0);
	bpfc_tables_free(t);
	apps_free(apps, N_OF(specs));
}

static void test_too_many_candidates(void **state)
{
	char *specs[TIDAL_MAX_CAND + 1];
	struct cfg_app *apps;
	struct bpfc_tables *t = (void *)1;

	(void)state;
	for (int i = 0; i <= TIDAL_MAX_CAND; i++) {
		specs[i] = malloc(64);
		snprintf(specs[i], 64, "a%d: dst 10.0.0.0/8, dscp %d", i, i);
	}
	apps = apps_make((const char *const *)specs, TIDAL_MAX_CAND);
	assert_int_equal(bpfc_tables_build(apps, TIDAL_MAX_CAND, &t), 0);
	bpfc_tables_free(t);
	apps_free(apps, TIDAL_MAX_CAND);
	apps = apps_make((const char *const *)specs, TIDAL_MAX_CAND + 1);
	assert_int_equal(bpfc_tables_build(apps, TIDAL_MAX_CAND + 1, &t), -E2BIG);
	assert_null(t);
	apps_free(apps, TIDAL_MAX_CAND + 1);
	for (int i = 0; i <= TIDAL_MAX_CAND; i++)
		free(specs[i]);
}

static void test_too_many_src_apps(void **state)
{
	size_t n = TIDAL_SRC_SLOTS + 1;
	char **specs = calloc(n, sizeof(*specs));
	struct cfg_app *apps;
	struct bpfc_tables *t;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		specs[i] = malloc(64);
		snprintf(specs[i], 64, "s%zu: dst 10.%zu.%zu.0/24, src 172.16.%zu.0/24", i, i / 256,
			 i % 256, i % 256);
	}
	apps = apps_make((const char *const *)specs, n);
	assert_int_equal(bpfc_tables_build(apps, n - 1, &t), 0);
	assert_int_equal(t->n_src4, 256);
	assert_int_equal(t->classes[n - 1].src_slot, n - 2);
	bpfc_tables_free(t);
	assert_int_equal(bpfc_tables_build(apps, n, &t), -ENOSPC);
	apps_free(apps, n);
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
}

/* Apps without destination prefixes can match every destination, so they count against
 * every candidate list. */
static void test_too_many_wildcards(void **state)
{
	char *specs[TIDAL_MAX_CAND + 1];
	struct cfg_app *apps;
	struct bpfc_tables *t;

	(void)state;
	for (int i = 0; i <= TIDAL_MAX_CAND; i++) {
		specs[i] = malloc(64);
		snprintf(specs[i], 64, i ? "w%d: src 172.16.%d.0/24" : "d%d: dst 10.0.0.0/8", i, i);
	}
	apps = apps_make((const char *const *)specs, TIDAL_MAX_CAND + 1);
	assert_int_equal(bpfc_tables_build(apps, TIDAL_MAX_CAND, &t), 0);
	bpfc_tables_free(t);
	assert_int_equal(bpfc_tables_build(apps, TIDAL_MAX_CAND + 1, &t), -E2BIG);
	apps_free(apps, TIDAL_MAX_CAND + 1);
	for (int i = 0; i <= TIDAL_MAX_CAND; i++)
		free(specs[i]);
}

/* Random apps over a small address space (so that prefixes nest and collide), random
 * packets: the tables must classify exactly as the reference does. */
static void test_random_agreement(void **state)
{
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 20; round++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % 30); /* <= TIDAL_MAX_CAND */
		struct cfg_app *apps = calloc(n, sizeof(*apps));
		struct bpfc_tables *t;

		for (size_t i = 0; i < n; i++) {
			struct cfg_match *m = &apps[i].match;

			snprintf(apps[i].name, sizeof(apps[i].name), "r%zu", i);
			m->dst = calloc(4, sizeof(*m->dst));
			m->src = calloc(2, sizeof(*m->src));
			m->dscp = calloc(3, 1);
			m->n_dst = (size_t)(rand_r(&seed) % 4);
			m->n_src = rand_r(&seed) % 4 == 0 ? 1 + (size_t)(rand_r(&seed) % 2) : 0;
			m->n_dscp = rand_r(&seed) % 3 == 0 ? 1 + (size_t)(rand_r(&seed) % 3) : 0;
			for (size_t j = 0; j < m->n_dst + m->n_src; j++) {
				struct cfg_prefix *p =
					j < m->n_dst ? &m->dst[j] : &m->src[j - m->n_dst];
				bool v6 = rand_r(&seed) % 3 == 0;
				unsigned bits = v6 ? 128 : 32;

				p->family = v6 ? AF_INET6 : AF_INET;
				p->len = (uint8_t)(rand_r(&seed) % 5 == 0 ? 0 : bits - rand_r(&seed) % 9);
				memset(p->addr, 0, sizeof(p->addr));
				p->addr[0] = 10;
				p->addr[bits / 8 - 1] = (uint8_t)(rand_r(&seed) % 8 * 32);
				for (unsigned b = p->len; b < bits; b++)
					p->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			}
			for (size_t j = 0; j < m->n_dscp; j++)
				m->dscp[j] = (uint8_t)(rand_r(&seed) % 4);
		}
		assert_int_equal(bpfc_tables_build(apps, n, &t), 0);
		for (int k = 0; k < 2000; k++) {
			bool v6 = rand_r(&seed) % 3 == 0;
			unsigned bits = v6 ? 128 : 32;
			uint8_t s[16] = {10}, d[16] = {10};
			uint8_t dscp = (uint8_t)(rand_r(&seed) % 4);
			int fam = v6 ? AF_INET6 : AF_INET;

			d[bits / 8 - 1] = (uint8_t)(rand_r(&seed) % 256);
			s[bits / 8 - 1] = (uint8_t)(rand_r(&seed) % 256);
			if (rand_r(&seed) % 10 == 0)
				d[0] = 11;
			assert_int_equal(table_classify(t, fam, s, d, dscp),
					 bpfc_classify_ref(apps, n, fam, s, d, dscp));
		}
		bpfc_tables_free(t);
		apps_free(apps, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_nested_prefixes),
		cmocka_unit_test(test_wildcard_and_src),
		cmocka_unit_test(test_too_many_candidates),
		cmocka_unit_test(test_too_many_src_apps),
		cmocka_unit_test(test_too_many_wildcards),
		cmocka_unit_test(test_random_agreement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

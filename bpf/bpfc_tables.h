/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_tables: the pure half of the BPF loader. Turns the config's apps into the contents
 * of the classification maps (tidal_bpf.h), and states the class model directly as a
 * reference classifier that tests hold the kernel programs to.
 *
 * The class model (docs/bpf.md): class N is the N-th app, 0 is "no app". A packet matches
 * an app when each of its non-empty lists (dst prefixes, src prefixes, DSCP values) has
 * a member that matches the packet. Of the apps that match, the most specific wins: the
 * one with the longest destination prefix containing the packet's destination (an app
 * without dst prefixes counts as /0), then the one with more kinds of constraint (src,
 * DSCP), then the one first in the config.
 *
 * No I/O, no BPF: used by bpfc.c and by unit tests. Owns the tables it returns.
 */
#ifndef TIDAL_BPF_BPFC_TABLES_H
#define TIDAL_BPF_BPFC_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "tidal_bpf.h"

struct bpfc_dst4 {
	struct tidal_lpm4_key key;
	struct tidal_cand cand;
};

struct bpfc_dst6 {
	struct tidal_lpm6_key key;
	struct tidal_cand cand;
};

struct bpfc_src4 {
	struct tidal_lpm4_key key;
	struct tidal_srcset set;
};

struct bpfc_src6 {
	struct tidal_lpm6_key key;
	struct tidal_srcset set;
};

struct bpfc_tables {
	struct bpfc_dst4 *dst4;
	size_t n_dst4;
	struct bpfc_dst6 *dst6;
	size_t n_dst6;
	struct bpfc_src4 *src4;
	size_t n_src4;
	struct bpfc_src6 *src6;
	size_t n_src6;
	struct tidal_class *classes; /* n_classes entries: class 0 then one per app */
	size_t n_classes;
};

/* Build the tables for apps[0..n) (class id = index + 1). Returns 0, or -ENOSPC (more
 * than TIDAL_CLASSES_MAX - 1 apps, more than TIDAL_SRC_SLOTS apps with src prefixes, more
 * than TIDAL_LPM_MAX prefixes), -E2BIG (more than TIDAL_MAX_CAND apps can match one
 * destination prefix), -EINVAL (a malformed prefix) or -ENOMEM, after logging which app
 * or prefix is at fault. */
int bpfc_tables_build(const struct cfg_app *apps, size_t n, struct bpfc_tables **out);
void bpfc_tables_free(struct bpfc_tables *t);

/* The class model stated directly: class of a packet (family AF_INET with 4-byte or
 * AF_INET6 with 16-byte addresses in network order, DSCP 0..63), 0 when no app matches. */
uint32_t bpfc_classify_ref(const struct cfg_app *apps, size_t n, int family,
			   const uint8_t *src, const uint8_t *dst, uint8_t dscp);

#endif

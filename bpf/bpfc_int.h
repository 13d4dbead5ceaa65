/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_int: what the files of the bpfc module share (bpfc.c: open, pins, classes,
 * counters; bpfc_hook.c: attaching to interfaces; bpfc_qdisc.c: rtnetlink qdiscs).
 * Not a public header.
 */
#ifndef TIDAL_BPF_BPFC_INT_H
#define TIDAL_BPF_BPFC_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfc.h"

#define PIN_DIR_MAX 256

struct classify_bpf;
struct pace_bpf;

struct bpfc {
	char ifname[IF_NAMESIZE];
	int ifindex; /* 0: not attached (load only) */
	char pin_root[PIN_DIR_MAX];
	char pin_dir[PIN_DIR_MAX]; /* empty: not pinned */
	struct classify_bpf *cls;
	struct pace_bpf *pace;
	int ncpus;
	enum tidal_pace_mode pace_mode;
	uint32_t release_flags; /* TIDAL_META_*_INSTALLED done by this open */
	uint32_t capacity;      /* classes, class 0 included */
	uint32_t n_classes;
	struct tidal_ctr *ctrs; /* tidal_counters, mapped: ncpus slices of `stride` */
	size_t ctrs_len;
	uint32_t stride;
};

/* Interface name for messages. */
static inline const char *bpfc_ifn(const struct bpfc *b)
{
	return b->ifname[0] ? b->ifname : "(not attached)";
}

/* --- bpfc_hook.c ----------------------------------------------------------------------- */

/* Attach the programs params ask for (and remove tidal's other hooks on the interface). */
int bpfc_hooks_attach(struct bpfc *b, const struct bpfc_params *p);
/* Remove every tidal hook from ifname (pin_dir: where its tcx links are pinned, or ""). */
int bpfc_hooks_remove(const char *ifname, int ifindex, const char *pin_dir);
/* Pick the pacing mode and make sure a qdisc releases paced packets (before load). */
int bpfc_ensure_release(struct bpfc *b, enum bpfc_pace_mode want);

/* --- bpfc_qdisc.c: rtnetlink, in the caller's network namespace; each returns 0 or
 * -errno (the kernel's: -ENOENT for an unknown qdisc kind). */

struct bpfc_qdisc_info {
	int ifindex;
	char root_kind[16]; /* "" when the dump showed no root qdisc */
	uint32_t root_handle;
	bool has_fq; /* an fq qdisc anywhere on the interface */
};

int bpfc_qdisc_info(int ifindex, struct bpfc_qdisc_info *info);
/* Make fq the root qdisc of ifindex (replacing the root there). */
int bpfc_qdisc_root_fq(int ifindex);
/* Make an HTB with handle major: the root (replacing the root there); unclassified
 * packets bypass it. */
int bpfc_qdisc_root_htb(int ifindex, uint16_t major);
/* Create or change the HTB leaf major:minor to rate = ceil = bps. */
int bpfc_qdisc_htb_class_set(int ifindex, uint16_t major, uint16_t minor, uint64_t bps);
int bpfc_qdisc_htb_class_del(int ifindex, uint16_t major, uint16_t minor);
/* Delete the root qdisc of ifindex (the kernel puts its default back). */
int bpfc_qdisc_root_delete(int ifindex);

#endif

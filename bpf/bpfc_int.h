/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_int: private helpers of the bpfc module (not a public header).
 */
#ifndef TIDAL_BPF_BPFC_INT_H
#define TIDAL_BPF_BPFC_INT_H

#include <stdbool.h>
#include <stdint.h>

/* rtnetlink qdisc helpers (bpfc_qdisc.c), in the caller's network namespace; each
 * returns 0 or -errno (the kernel's: -ENOENT for an unknown qdisc kind). */

struct bpfc_qdisc_info {
	int ifindex;
	char root_kind[16]; /* "" when the dump showed no root qdisc */
	uint32_t root_handle;
	bool has_fq;        /* an fq qdisc anywhere on the interface */
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

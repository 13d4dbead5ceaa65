/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_int: private helpers of the bpfc module (not a public header).
 */
#ifndef TIDAL_BPF_BPFC_INT_H
#define TIDAL_BPF_BPFC_INT_H

#include <stdbool.h>

/* rtnetlink qdisc helpers (bpfc_qdisc.c), in the caller's network namespace. */

/* 1 when some fq qdisc is attached anywhere on ifindex, 0 when none, or -errno. */
int bpfc_qdisc_has_fq(int ifindex);
/* Make fq the root qdisc of ifindex (replacing the root there). 0 or -errno. */
int bpfc_qdisc_root_fq(int ifindex);
/* Delete the root qdisc of ifindex (the kernel puts its default back). 0 or -errno. */
int bpfc_qdisc_root_delete(int ifindex);

#endif

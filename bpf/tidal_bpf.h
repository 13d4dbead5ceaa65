/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidal_bpf: the layout shared by the BPF programs (classify.bpf.c, pace.bpf.c) and their
 * userspace loader (bpfc.c): map keys and values, the counter and event enums, limits.
 *
 * Everything here is ABI between a running kernel program and a possibly newer tidald
 * (maps stay pinned across restarts): append to enums, never renumber; change a struct
 * only together with TIDAL_BPF_ABI, which makes the loader recreate the pinned maps.
 *
 * Only <linux/types.h> types, so that the same file compiles with clang -target bpf and
 * with the host compiler.
 */
#ifndef TIDAL_BPF_TIDAL_BPF_H
#define TIDAL_BPF_TIDAL_BPF_H

#include <linux/types.h>

/* Bumped whenever a map layout below changes. */
#define TIDAL_BPF_ABI 2

/* Class ids are 16-bit in the candidate lists: class 0 (unmatched) plus 65535 apps. */
#define TIDAL_CLASSES_MAX 65536
/* Smallest class table a loader creates (rounded up to a power of two above that). */
#define TIDAL_CLASSES_MIN 256
/* Apps that can match one destination prefix (its own and every covering one). */
#define TIDAL_MAX_CAND 32
/* Apps that may use a source-prefix match (bits of struct tidal_srcset). */
#define TIDAL_SRC_SLOTS 256
/* Distinct prefixes per LPM trie (tries allocate per entry, so this costs nothing). */
#define TIDAL_LPM_MAX 65536
/* 802.1Q / 802.1ad tags skipped in the packet data. */
#define TIDAL_VLAN_MAX 2
/* IPv6 extension headers walked before giving up (event TIDAL_EV_IPV6_EXT_LIMIT). */
#define TIDAL_IPV6_EXT_MAX 8
/* Pacing: a packet that would leave later than now + horizon is dropped. */
#define TIDAL_HORIZON_NS_DEFAULT 2000000000ULL

enum tidal_dir {
	TIDAL_DIR_IN = 0,  /* tc ingress or XDP */
	TIDAL_DIR_OUT = 1, /* tc egress */
	TIDAL_DIRS = 2,
};

/* tidal_counters is an mmap-able array with one slice per possible CPU: the element of
 * (cpu, class, dir) is cpu * stride + class * TIDAL_DIRS + dir, stride = room for classes
 * * TIDAL_DIRS. Each CPU only writes its own slice (no atomics, no shared cache lines);
 * userspace sums the slices straight from the mapping, which reads 10,000 classes in well
 * under a millisecond where one syscall per key (or per batch of keys) costs ~250 ns per
 * key. `packets` and `bytes` count what reached the hook (offered demand, GSO packets
 * counted by segments, bytes as skb->len i.e. from the Ethernet header on); `drops` counts
 * the part of it tidal dropped. */
struct tidal_ctr {
	__u64 packets;
	__u64 bytes;
	__u64 drops;
};

/* Events counted per direction in tidal_events (key: dir * TIDAL_EV_MAX + event), per CPU.
 * The "unmatched_*" events explain why a packet went to class 0 without an app lookup;
 * TIDAL_EV_DROP_* are the drop reasons. Names for people: bpfc_event_name(). */
enum tidal_event {
	TIDAL_EV_NON_IP = 0,      /* neither IPv4 nor IPv6 (ARP, LLDP ...): class 0 */
	TIDAL_EV_TRUNCATED,       /* Ethernet, VLAN or IP header cut short: class 0 */
	TIDAL_EV_BAD_HEADER,      /* IP version or IPv4 header length invalid: class 0 */
	TIDAL_EV_VLAN_DEPTH,      /* more than TIDAL_VLAN_MAX tags: class 0 */
	TIDAL_EV_VLAN,            /* carried at least one 802.1Q/802.1ad tag */
	TIDAL_EV_FRAGMENT,        /* IPv4 or IPv6 fragment (classified by its IP header) */
	TIDAL_EV_IPV6_EXT,        /* IPv6 packet with extension headers */
	TIDAL_EV_IPV6_EXT_LIMIT,  /* extension chain longer than TIDAL_IPV6_EXT_MAX or cut */
	TIDAL_EV_PACED,           /* departure time pushed into the future (HTB: steered) */
	TIDAL_EV_DROP_HORIZON,    /* drop reason: departure beyond the pacing horizon */
	TIDAL_EV_TSTAMP_ERR,      /* the kernel refused the departure time (sent unpaced) */
	TIDAL_EV_MAX,
};

/* tidal_dst4 / tidal_src4 and tidal_dst6 / tidal_src6 keys (BPF_MAP_TYPE_LPM_TRIE). */
struct tidal_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct tidal_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of a destination trie: the apps that can match a packet whose longest matching
 * destination prefix is this one, best first (longest covering prefix, then apps with
 * more constraints, then config order). The program takes the first whose DSCP and
 * source constraints hold. */
struct tidal_cand {
	__u32 n;
	__u16 class_id[TIDAL_MAX_CAND];
};

/* Value of a source trie: bit s set when the app in source slot s has a prefix covering
 * this one. */
struct tidal_srcset {
	__u64 bits[TIDAL_SRC_SLOTS / 64];
};

#define TIDAL_CLASS_USED 0x1     /* slot holds an installed app */
#define TIDAL_CLASS_HAS_DSCP 0x2 /* dscp_mask applies */
#define TIDAL_CLASS_HAS_SRC 0x4  /* src_slot applies */

/* tidal_classes value, indexed by class id. */
struct tidal_class {
	__u64 dscp_mask; /* bit d set: DSCP d matches */
	__u16 src_slot;
	__u16 flags;
	__u32 pad;
};

#define TIDAL_NAME_MAX 64

/* tidal_names value, indexed by class id: the app a class slot was installed for. Only
 * userspace reads it (to tell a restart with the same apps from a changed config). */
struct tidal_name {
	char name[TIDAL_NAME_MAX];
};

/* tidal_pace value, indexed by class id: when the class's last packet may leave. */
struct tidal_pace_state {
	__u64 t_next_ns; /* CLOCK_MONOTONIC */
};

/* How paced packets are held back: EDT (skb->tstamp, released by an fq root qdisc) or, on
 * kernels without sch_fq, steering into HTB leaf classes TIDAL_HTB_MAJOR:(class + 1)
 * through skb->priority. */
enum tidal_pace_mode {
	TIDAL_PACE_EDT = 0,
	TIDAL_PACE_HTB = 1,
};

#define TIDAL_HTB_MAJOR 0x7464

#define TIDAL_META_FQ_INSTALLED 0x1  /* the loader put the root fq qdisc there */
#define TIDAL_META_HTB_INSTALLED 0x2 /* the loader put the root HTB qdisc there */

/* tidal_meta, one entry: facts about the attachment that must survive a restart. */
struct tidal_meta {
	__u32 abi;
	__u32 flags;
	__u32 n_classes; /* classes installed, including class 0 */
	__u32 pad;
	__u64 horizon_ns;
	__u64 netns; /* inode of the network namespace of the interface */
};

#endif

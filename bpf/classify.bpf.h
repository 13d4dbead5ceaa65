/* SPDX-License-Identifier: Apache-2.0 */
/*
 * classify.bpf.h: maps, packet parser, class lookup and counting shared by the BPF
 * programs (classify.bpf.c counts, pace.bpf.c counts and paces). Kernel side only.
 *
 * Both objects declare the same maps; the loader (bpfc.c) creates them once through the
 * classify object and hands the same file descriptors to the pace object, so one set of
 * maps per interface serves every hook. The parser reads only what classification needs
 * (addresses and DSCP from the IP header) and never changes the packet.
 *
 * The class-sized maps are declared with TIDAL_CLASSES_MIN entries; the loader resizes
 * them before load.
 */
#ifndef TIDAL_BPF_CLASSIFY_BPF_H
#define TIDAL_BPF_CLASSIFY_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tidal_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TIDAL_LPM_MAX);
	__type(key, struct tidal_lpm4_key);
	__type(value, struct tidal_cand);
} tidal_dst4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TIDAL_LPM_MAX);
	__type(key, struct tidal_lpm6_key);
	__type(value, struct tidal_cand);
} tidal_dst6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TIDAL_LPM_MAX);
	__type(key, struct tidal_lpm4_key);
	__type(value, struct tidal_srcset);
} tidal_src4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TIDAL_LPM_MAX);
	__type(key, struct tidal_lpm6_key);
	__type(value, struct tidal_srcset);
} tidal_src6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIDAL_CLASSES_MIN);
	__type(key, __u32);
	__type(value, struct tidal_class);
} tidal_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIDAL_CLASSES_MIN);
	__type(key, __u32);
	__type(value, struct tidal_name);
} tidal_names SEC(".maps");

/* Per-CPU slices (tidal_bpf.h); the loader sizes it to possible CPUs * stride. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, TIDAL_CLASSES_MIN * TIDAL_DIRS);
	__type(key, __u32);
	__type(value, struct tidal_ctr);
} tidal_counters SEC(".maps");

/* Elements per CPU slice of tidal_counters; set by the loader before load. */
const volatile __u32 tidal_ctr_stride = TIDAL_CLASSES_MIN * TIDAL_DIRS;

static __always_inline struct tidal_ctr *tidal_ctr_of(__u32 cls, __u32 dir)
{
	__u32 key = bpf_get_smp_processor_id() * tidal_ctr_stride + cls * TIDAL_DIRS + dir;

	if (cls * TIDAL_DIRS + dir >= tidal_ctr_stride)
		return 0;
	return bpf_map_lookup_elem(&tidal_counters, &key);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TIDAL_EV_MAX * TIDAL_DIRS);
	__type(key, __u32);
	__type(value, __u64);
} tidal_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIDAL_CLASSES_MIN);
	__type(key, __u32);
	__type(value, __u64); /* bits per second; 0 = not paced */
} tidal_rates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TIDAL_CLASSES_MIN);
	__type(key, __u32);
	__type(value, struct tidal_pace_state);
} tidal_pace SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tidal_meta);
} tidal_meta SEC(".maps");

/* Enough linear data for Ethernet, two tags, an IPv6 header and a few extension headers;
 * tc programs pull this much when the headers are not in the linear part. */
#define TIDAL_PULL_LEN 256

struct tidal_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct tidal_pkt {
	__u32 family; /* 4 or 6 */
	__u32 dscp;
	__u8 src[16];
	__u8 dst[16];
};

enum tidal_parse_result {
	TIDAL_P_OK = 0,
	TIDAL_P_NON_IP,
	TIDAL_P_TRUNCATED,
	TIDAL_P_BAD,
	TIDAL_P_VLAN_DEPTH,
};

static __always_inline void tidal_event(__u32 dir, __u32 ev, __u64 n)
{
	__u32 key = dir * TIDAL_EV_MAX + ev;
	__u64 *v = bpf_map_lookup_elem(&tidal_events, &key);

	if (v)
		*v += n;
}

/* Walk the IPv6 extension headers after the fixed header only to learn whether the packet
 * is a fragment; classification itself needs just the fixed header. The headers are read
 * with the load_bytes helpers at a scalar offset rather than through packet pointers: the
 * verifier then sees one state per header instead of one per combination of header
 * lengths. `xdp` is a constant after inlining, so each program keeps one helper. */
static __always_inline void tidal_ipv6_ext(void *ctx, int xdp, __u32 dir, __u32 segs,
					   __u32 off, __u8 nh)
{
	__u8 h[8];
	int i;

#pragma unroll
	for (i = 0; i < TIDAL_IPV6_EXT_MAX; i++) {
		__u32 len;
		long err;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH)
			return;
		if (i == 0)
			tidal_event(dir, TIDAL_EV_IPV6_EXT, segs);
		if (xdp)
			err = bpf_xdp_load_bytes(ctx, off, h, sizeof(h));
		else
			err = bpf_skb_load_bytes(ctx, off, h, sizeof(h));
		if (err) {
			tidal_event(dir, TIDAL_EV_IPV6_EXT_LIMIT, segs);
			return;
		}
		if (nh == IPPROTO_FRAGMENT) {
			/* offset (13 bits) << 3 | 2 reserved bits | M */
			if ((((__u32)h[2] << 8) | h[3]) & 0xfff9)
				tidal_event(dir, TIDAL_EV_FRAGMENT, segs);
			len = 8;
		} else if (nh == IPPROTO_AH) {
			len = ((__u32)h[1] + 2) * 4;
		} else {
			len = ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
		off += len;
	}
	if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	    nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH)
		tidal_event(dir, TIDAL_EV_IPV6_EXT_LIMIT, segs);
}

static __always_inline int tidal_parse(void *ctx, int xdp, void *data, void *end,
				       __u32 dir, __u32 segs, struct tidal_pkt *p)
{
	void *cur = data + sizeof(struct ethhdr);
	struct ethhdr *eth = data;
	__be16 proto;
	int i;

	if (cur > end)
		return TIDAL_P_TRUNCATED;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < TIDAL_VLAN_MAX; i++) {
		struct tidal_vlan_hdr *vh = cur;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return TIDAL_P_TRUNCATED;
		if (i == 0)
			tidal_event(dir, TIDAL_EV_VLAN, segs);
		proto = vh->proto;
		cur = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return TIDAL_P_VLAN_DEPTH;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cur;

		if ((void *)(ip + 1) > end)
			return TIDAL_P_TRUNCATED;
		if (ip->version != 4 || ip->ihl < 5)
			return TIDAL_P_BAD;
		if (cur + ip->ihl * 4 > end)
			return TIDAL_P_TRUNCATED;
		p->family = 4;
		p->dscp = ip->tos >> 2;
		__builtin_memcpy(p->src, &ip->saddr, 4);
		__builtin_memcpy(p->dst, &ip->daddr, 4);
		if (ip->frag_off & bpf_htons(0x3fff)) /* MF or a non-zero offset */
			tidal_event(dir, TIDAL_EV_FRAGMENT, segs);
		return TIDAL_P_OK;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cur;

		if ((void *)(ip6 + 1) > end)
			return TIDAL_P_TRUNCATED;
		if (ip6->version != 6)
			return TIDAL_P_BAD;
		p->family = 6;
		p->dscp = (((__u32)ip6->priority << 4) | (ip6->flow_lbl[0] >> 4)) >> 2;
		__builtin_memcpy(p->src, &ip6->saddr, 16);
		__builtin_memcpy(p->dst, &ip6->daddr, 16);
		tidal_ipv6_ext(ctx, xdp, dir, segs, (__u32)((void *)(ip6 + 1) - data),
			       ip6->nexthdr);
		return TIDAL_P_OK;
	}
	return TIDAL_P_NON_IP;
}

static __always_inline struct tidal_srcset *tidal_src_lookup(const struct tidal_pkt *p)
{
	if (p->family == 4) {
		struct tidal_lpm4_key k = {.prefixlen = 32};

		__builtin_memcpy(k.addr, p->src, 4);
		return bpf_map_lookup_elem(&tidal_src4, &k);
	} else {
		struct tidal_lpm6_key k = {.prefixlen = 128};

		__builtin_memcpy(k.addr, p->src, 16);
		return bpf_map_lookup_elem(&tidal_src6, &k);
	}
}

/* The class of a parsed packet: the first candidate of its longest destination prefix
 * whose DSCP and source constraints hold; 0 when none. */
static __always_inline __u32 tidal_classify(const struct tidal_pkt *p)
{
	struct tidal_srcset *src = 0;
	struct tidal_cand *c;
	int src_done = 0;
	__u32 i, n;

	if (p->family == 4) {
		struct tidal_lpm4_key k = {.prefixlen = 32};

		__builtin_memcpy(k.addr, p->dst, 4);
		c = bpf_map_lookup_elem(&tidal_dst4, &k);
	} else {
		struct tidal_lpm6_key k = {.prefixlen = 128};

		__builtin_memcpy(k.addr, p->dst, 16);
		c = bpf_map_lookup_elem(&tidal_dst6, &k);
	}
	if (!c)
		return 0;
	n = c->n;
	for (i = 0; i < TIDAL_MAX_CAND; i++) {
		struct tidal_class *cl;
		__u32 id;

		if (i >= n)
			break;
		id = c->class_id[i];
		cl = bpf_map_lookup_elem(&tidal_classes, &id);
		if (!cl || !(cl->flags & TIDAL_CLASS_USED))
			continue;
		if ((cl->flags & TIDAL_CLASS_HAS_DSCP) && !((cl->dscp_mask >> (p->dscp & 63)) & 1))
			continue;
		if (cl->flags & TIDAL_CLASS_HAS_SRC) {
			__u32 slot = cl->src_slot & (TIDAL_SRC_SLOTS - 1);

			if (!src_done) {
				src = tidal_src_lookup(p);
				src_done = 1;
			}
			if (!src || !((src->bits[slot / 64] >> (slot % 64)) & 1))
				continue;
		}
		return id;
	}
	return 0;
}

/* Parse, classify and count one packet; returns its class. */
static __always_inline __u32 tidal_account(void *ctx, int xdp, void *data, void *end,
					   __u32 dir, __u64 bytes, __u32 segs)
{
	struct tidal_pkt p = {};
	struct tidal_ctr *ctr;
	__u32 cls = 0;
	int r;

	/* Events are counted where they are seen: carrying them out as flags would make the
	 * verifier walk the classification once per combination of flags. */
	r = tidal_parse(ctx, xdp, data, end, dir, segs, &p);
	if (r == TIDAL_P_OK) {
		cls = tidal_classify(&p);
	} else if (r == TIDAL_P_NON_IP) {
		tidal_event(dir, TIDAL_EV_NON_IP, segs);
	} else if (r == TIDAL_P_TRUNCATED) {
		tidal_event(dir, TIDAL_EV_TRUNCATED, segs);
	} else if (r == TIDAL_P_BAD) {
		tidal_event(dir, TIDAL_EV_BAD_HEADER, segs);
	} else {
		tidal_event(dir, TIDAL_EV_VLAN_DEPTH, segs);
	}
	ctr = tidal_ctr_of(cls, dir);
	if (ctr) {
		ctr->packets += segs;
		ctr->bytes += bytes;
	}
	return cls;
}

/* tc: make sure the headers are linear (GSO and some drivers leave them paged), then
 * account the packet. */
static __always_inline __u32 tidal_tc_account(struct __sk_buff *skb, __u32 dir)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 segs = skb->gso_segs;

	if (data + TIDAL_PULL_LEN > end && skb->len > (__u32)(end - data)) {
		bpf_skb_pull_data(skb, skb->len < TIDAL_PULL_LEN ? skb->len : TIDAL_PULL_LEN);
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
	}
	return tidal_account(skb, 0, data, end, dir, skb->len, segs ? segs : 1);
}

#endif

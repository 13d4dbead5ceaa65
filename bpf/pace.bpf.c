// SPDX-License-Identifier: Apache-2.0
/*
 * pace.bpf.c: tc egress earliest-departure-time pacing per tidal class.
 *
 * tidal_pace_out replaces tidal_cls_out on interfaces that enforce rates: it counts the
 * packet exactly as tidal_cls_out does, then, when the class has a rate in tidal_rates,
 * gives it a departure time (skb->tstamp, CLOCK_MONOTONIC) no earlier than the class's
 * previous packet plus this packet's serialisation time at the rate. The fq qdisc at the
 * interface root holds each packet until its time. A packet that would leave later than
 * now + horizon is dropped (and counted as a drop of its class and as
 * TIDAL_EV_DROP_HORIZON): for TCP this is the loss signal that keeps the queue short.
 * Rates change by map update; nothing is reloaded.
 *
 * Kernels without sch_fq cannot release timestamped packets; there the loader sets
 * tidal_pace_mode = TIDAL_PACE_HTB and puts an HTB at the root with one leaf class per
 * paced class: the program then only steers a paced class's packets into its leaf
 * (skb->priority = TIDAL_HTB_MAJOR:class+1), and HTB holds them to the leaf's rate.
 *
 * The per-class state is shared by all CPUs (a plain array updated without locks, as the
 * Cilium bandwidth manager does): concurrent senders of one class may both take the same
 * slot, which costs a little accuracy and never blocks.
 */
#include "classify.bpf.h"

#define NSEC_PER_SEC 1000000000ULL

/* Set by the loader before load. */
const volatile __u64 tidal_horizon_ns = TIDAL_HORIZON_NS_DEFAULT;
const volatile __u32 tidal_pace_mode = TIDAL_PACE_EDT;

static __always_inline int tidal_pace_skb(struct __sk_buff *skb, __u32 cls)
{
	struct tidal_pace_state *st;
	__u64 *rate, delay, now, ts, next;
	struct tidal_ctr *ctr;

	rate = bpf_map_lookup_elem(&tidal_rates, &cls);
	if (!rate || !*rate)
		return TC_ACT_UNSPEC;
	if (tidal_pace_mode == TIDAL_PACE_HTB) {
		if (cls < 0xffff) {
			skb->priority = ((__u32)TIDAL_HTB_MAJOR << 16) | (cls + 1);
			tidal_event(TIDAL_DIR_OUT, TIDAL_EV_PACED, 1);
		}
		return TC_ACT_UNSPEC;
	}
	st = bpf_map_lookup_elem(&tidal_pace, &cls);
	if (!st)
		return TC_ACT_UNSPEC;

	delay = (__u64)skb->len * 8 * NSEC_PER_SEC / *rate;
	now = bpf_ktime_get_ns();
	ts = skb->tstamp;
	/* A time in the past, or one from another clock, means "now". */
	if (ts < now || ts > now + tidal_horizon_ns)
		ts = now;
	next = *(volatile __u64 *)&st->t_next_ns + delay;
	if (next <= ts) {
		*(volatile __u64 *)&st->t_next_ns = ts;
		return TC_ACT_UNSPEC;
	}
	if (next - now >= tidal_horizon_ns) {
		ctr = tidal_ctr_of(cls, TIDAL_DIR_OUT);
		if (ctr)
			ctr->drops += skb->gso_segs ? skb->gso_segs : 1;
		tidal_event(TIDAL_DIR_OUT, TIDAL_EV_DROP_HORIZON, 1);
		return TC_ACT_SHOT;
	}
	*(volatile __u64 *)&st->t_next_ns = next;
	if (bpf_skb_set_tstamp(skb, next, BPF_SKB_TSTAMP_DELIVERY_MONO)) {
		tidal_event(TIDAL_DIR_OUT, TIDAL_EV_TSTAMP_ERR, 1);
		return TC_ACT_UNSPEC;
	}
	tidal_event(TIDAL_DIR_OUT, TIDAL_EV_PACED, 1);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tidal_pace_out(struct __sk_buff *skb)
{
	__u32 cls = tidal_tc_account(skb, TIDAL_DIR_OUT);

	return tidal_pace_skb(skb, cls);
}

char LICENSE[] SEC("license") = "Apache-2.0";

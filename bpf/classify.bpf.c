// SPDX-License-Identifier: Apache-2.0
/*
 * classify.bpf.c: count traffic per tidal class and direction (tc clsact and XDP).
 *
 * tidal_cls_in / tidal_cls_out attach at tc ingress / egress, tidal_cls_xdp at XDP (as an
 * alternative to tc ingress, never together with it). Each parses the packet, maps it to
 * a class (classify.bpf.h), adds it to the per-CPU counters and lets it pass: these
 * programs observe, they never drop, redirect or modify a packet (pace.bpf.c does the
 * enforcing). They return TC_ACT_UNSPEC so that other tc filters on the hook still run.
 */
#include "classify.bpf.h"

SEC("tc")
int tidal_cls_in(struct __sk_buff *skb)
{
	tidal_tc_account(skb, TIDAL_DIR_IN);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tidal_cls_out(struct __sk_buff *skb)
{
	tidal_tc_account(skb, TIDAL_DIR_OUT);
	return TC_ACT_UNSPEC;
}

SEC("xdp")
int tidal_cls_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	/* Taken before parsing, so that no packet pointer stays live through the class
	 * lookup (the verifier would tell the parser's paths apart by it). */
	__u64 bytes = (__u64)(end - data);

	asm volatile("" : "+r"(bytes)); /* keep the compiler from sinking it */
	tidal_account(ctx, 1, data, end, TIDAL_DIR_IN, bytes, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Apache-2.0";

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_worker: the lcore loops of tidal-dp.
 *
 * Each lcore runs a list of (pair, stages) tasks. With one stage per pair an lcore does
 * rx -> classify -> meter -> rte_sched enqueue -> dequeue -> tx for its pairs; with two,
 * rx+classify+meter on one lcore and sched+tx on another, joined by an rte_ring; with
 * three, tx gets its own lcore and a second ring. Between bursts every lcore applies the
 * commands queued on its own ring (class table swaps, pipe/subport profile switches,
 * stats folding), so a change never races a burst and never drops a packet.
 *
 * Counting: every packet received is counted once in rx, and ends up counted exactly once
 * as transmitted, dropped (meter red, ring full, scheduler queue full, tx refused) or
 * still queued. Never allocates, never logs in the loop.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "dp_internal.h"

#define TX_RETRIES 8
#define ENQ_HOLD   64 /* enqueues without a drop before offering enqueue_burst again */

static void apply_swap(struct dp_lcore *lc, struct dp_cmd *cmd)
{
	int rc = 0;

	/* fold the old table's queues first: a removed class's drops stay counted */
	for (unsigned i = 0; i < lc->n_tasks; i++)
		if (lc->task[i].stages & DP_STAGE_SCHED)
			dp_sched_fold(dp_g, lc->task[i].pair, lc->table);
	if (lc->classifies) {
		for (uint32_t i = 0; i < cmd->u.swap.n_ops; i++) {
			const struct dp_lpm_op *op = &cmd->u.swap.ops[i];
			int r;
			if (op->pfx.family == AF_INET) {
				uint32_t ip = ((uint32_t)op->pfx.addr[0] << 24) |
				              ((uint32_t)op->pfx.addr[1] << 16) |
				              ((uint32_t)op->pfx.addr[2] << 8) | op->pfx.addr[3];
				r = op->add ? rte_lpm_add(lc->lpm4, ip, op->pfx.len, op->id)
				            : rte_lpm_delete(lc->lpm4, ip, op->pfx.len);
			} else {
				r = op->add ? rte_lpm6_add(lc->lpm6, op->pfx.addr, op->pfx.len,
				                           op->id)
				            : rte_lpm6_delete(lc->lpm6, op->pfx.addr, op->pfx.len);
			}
			if (r < 0 && rc == 0)
				rc = r;
		}
		for (unsigned i = 0; i < lc->n_tasks; i++) {
			struct dp_pair *p = lc->task[i].pair;
			if (!(lc->task[i].stages & DP_STAGE_RX))
				continue;
			for (uint32_t k = 0; k < cmd->u.swap.n_meter_reset; k++) {
				uint32_t id = cmd->u.swap.meter_reset[k];
				struct rte_meter_trtcm_profile *mp =
				        cmd->u.swap.table->act[id].meter;
				if (mp)
					rte_meter_trtcm_config(&p->meters[id], mp);
			}
		}
	}
	lc->table = cmd->u.swap.table;
	cmd->result = rc;
}

static void run_cmds(struct dp_lcore *lc)
{
	void *objs[8];
	unsigned n;

	if (likely(rte_ring_empty(lc->cmd_ring)))
		return;
	n = rte_ring_sc_dequeue_burst(lc->cmd_ring, objs, RTE_DIM(objs), NULL);
	for (unsigned i = 0; i < n; i++) {
		struct dp_cmd *cmd = objs[i];
		struct dp_pair *p = &dp_g->pairs[cmd->pair];
		switch (cmd->type) {
		case DP_CMD_SWAP_TABLE:
			apply_swap(lc, cmd);
			break;
		case DP_CMD_PIPE:
		case DP_CMD_SUBPORT:
			cmd->result = dp_sched_apply(p, cmd);
			break;
		case DP_CMD_FOLD:
			dp_sched_fold(dp_g, p, lc->table);
			cmd->result = 0;
			break;
		default:
			cmd->result = -EINVAL;
			break;
		}
		__atomic_store_n(&cmd->done, 1, __ATOMIC_RELEASE);
	}
}

int dp_cmd_run(struct dp_lcore *lc, struct dp_cmd *cmd, unsigned timeout_ms)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * timeout_ms / 1000;

	cmd->done = 0;
	cmd->result = 0;
	if (rte_ring_mp_enqueue(lc->cmd_ring, cmd) != 0)
		return -EBUSY;
	while (!__atomic_load_n(&cmd->done, __ATOMIC_ACQUIRE)) {
		if (rte_get_timer_cycles() > deadline)
			return -ETIMEDOUT;
		usleep(20);
	}
	return cmd->result;
}

static inline void count_drop(uint64_t *pkts, uint64_t *bytes, struct rte_mbuf *m)
{
	dp_cnt_add(pkts, 1);
	dp_cnt_add(bytes, rte_pktmbuf_pkt_len(m));
	rte_pktmbuf_free(m);
}

/* ---- tx ---------------------------------------------------------------------------------- */

static void tx_send(struct dp_pair *p, struct rte_mbuf **pkts, uint16_t n)
{
	uint32_t cls[DP_MAX_BURST];
	uint32_t len[DP_MAX_BURST];
	uint16_t sent = 0;

	for (uint16_t i = 0; i < n; i++) {
		cls[i] = *dp_mbuf_class(pkts[i]);
		len[i] = rte_pktmbuf_pkt_len(pkts[i]);
	}
	for (int tries = 0; sent < n && tries < TX_RETRIES; tries++)
		sent += rte_eth_tx_burst(p->tx_port, 0, pkts + sent, (uint16_t)(n - sent));
	for (uint16_t i = 0; i < sent; i++) {
		struct dp_cnt_tx *c = &p->cnt_tx[cls[i]];
		dp_cnt_add(&c->tx_pkts, 1);
		dp_cnt_add(&c->tx_bytes, len[i]);
	}
	for (uint16_t i = sent; i < n; i++) {
		struct dp_cnt_tx *c = &p->cnt_tx[cls[i]];
		count_drop(&c->drop_pkts, &c->drop_bytes, pkts[i]);
	}
}

/* The packets this iteration sends: from the scheduler when the lcore schedules too, else
 * from the ring. Their mbufs are prefetched here (both cache lines: the class id lives in
 * the second, and the PMD frees through it) and sent after the lcore's other stage has
 * run, so that the misses on mbufs last written on another lcore overlap with that work. */
static unsigned tx_take(struct dp_pair *p, unsigned stages)
{
	struct rte_mbuf **pkts = p->tx_buf;
	unsigned n;

	if (stages & DP_STAGE_SCHED) {
		int k = rte_sched_port_dequeue(p->sched, pkts, dp_g->conf.burst);
		n = k > 0 ? (unsigned)k : 0;
	} else {
		n = rte_ring_sc_dequeue_burst(p->ring_tx, (void **)pkts, dp_g->conf.burst, NULL);
	}
	for (unsigned i = 0; i < n; i++) {
		rte_prefetch0(pkts[i]);
		rte_prefetch0(RTE_PTR_ADD(pkts[i], RTE_CACHE_LINE_SIZE));
	}
	return n;
}

/* ---- sched ------------------------------------------------------------------------------ */

/* Scheduling lcore without tx: dequeue into the tx ring. */
static unsigned sched_out(struct dp_pair *p)
{
	struct rte_mbuf *out[DP_MAX_BURST];
	unsigned want = RTE_MIN(dp_g->conf.burst, rte_ring_free_count(p->ring_tx));
	int n;

	/* Take out only what the tx ring can hold: the rest waits in its queue, where
	 * rte_sched drops by queue when it must (a full ring would drop blindly). */
	if (want == 0)
		return 0;
	n = rte_sched_port_dequeue(p->sched, out, want);
	if (n <= 0)
		return 0;
	unsigned k = rte_ring_sp_enqueue_burst(p->ring_tx, (void **)out, (unsigned)n, NULL);
	for (unsigned i = k; i < (unsigned)n; i++) {
		struct dp_cnt_sched *c = &p->cnt_sched[*dp_mbuf_class(out[i])];
		count_drop(&c->ring_drop_pkts, &c->ring_drop_bytes, out[i]);
	}
	return (unsigned)n;
}

/* How much the scheduler is offered per iteration. It sends at most `burst`; offered more,
 * its queues fill under overload, so it drops by queue (priorities kept) rather than
 * leaving the excess to a ring or the port, and each visit of a pipe sends many packets
 * (with nearly empty queues every packet costs rte_sched a whole pipe visit). Taking
 * enqueue_burst refills the queues quickly after the input paused; once rte_sched has
 * dropped (some queue is full), burst + burst/16 keeps them full while wasting little on
 * packets it will drop (each costs rte_sched an enqueue and a free), until ENQ_HOLD
 * enqueues in a row passed without a drop. */
static inline unsigned sched_offer(const struct dp_pair *p)
{
	return p->enq_next ? p->enq_next : dp_g->conf.enq_burst;
}

static inline void sched_enqueue(struct dp_pair *p, struct rte_mbuf **pkts, unsigned n)
{
	unsigned acc = (unsigned)rte_sched_port_enqueue(p->sched, pkts, n);

	if (acc < n) {
		p->enq_next = RTE_MIN(dp_g->conf.burst + RTE_MAX(dp_g->conf.burst / 16, 1u),
		                      dp_g->conf.enq_burst);
		p->enq_hold = ENQ_HOLD;
	} else if (p->enq_hold) {
		p->enq_hold--;
	} else {
		p->enq_next = dp_g->conf.enq_burst;
	}
}

static unsigned stage_sched_in(struct dp_pair *p)
{
	struct rte_mbuf *in[DP_MAX_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(p->ring_rx, (void **)in, sched_offer(p), NULL);

	if (n)
		sched_enqueue(p, in, n);
	return n;
}

static void maybe_fold(struct dp_lcore *lc, struct dp_pair *p, uint64_t now)
{
	if (unlikely(now >= p->next_fold_tsc)) {
		dp_sched_fold(dp_g, p, lc->table);
		p->next_fold_tsc = now + dp_g->tsc_hz * dp_g->conf.stats_fold_ms / 1000;
	}
}

/* ---- rx --------------------------------------------------------------------------------- */

/* Replay: hold received packets until their capture timestamp, measured from the first
 * packet, has elapsed on the TSC. Packets without a timestamp go at once. */
static uint16_t replay_take(struct dp_pair *p, struct rte_mbuf ***pkts, uint64_t now)
{
	struct dp_replay *r = &p->replay;
	uint16_t k;

	if (r->pos == r->n) {
		r->n = rte_eth_rx_burst(p->rx_port, 0, r->held, (uint16_t)dp_g->conf.burst);
		r->pos = 0;
		if (r->n == 0)
			return 0;
	}
	for (k = r->pos; k < r->n; k++) {
		struct rte_mbuf *m = r->held[k];
		uint64_t ts;
		if (dp_g->ts_dynfield < 0 || !(m->ol_flags & dp_g->ts_dynflag))
			continue;
		ts = *RTE_MBUF_DYNFIELD(m, dp_g->ts_dynfield, uint64_t *);
		if (!r->started) {
			r->started = true;
			r->t0_tsc = now;
			r->ts0_us = ts;
		}
		if (ts > r->ts0_us &&
		    r->t0_tsc + (uint64_t)((__uint128_t)(ts - r->ts0_us) * dp_g->tsc_hz / 1000000) >
		            now)
			break;
	}
	*pkts = r->held + r->pos;
	k -= r->pos;
	r->pos = (uint16_t)(r->pos + k);
	return k;
}

/* One line per packet: pair, rx sequence number, class, traffic class, meter colour. */
static void trace_burst(struct dp_pair *p, const struct dp_cls_table *t, uint64_t seq0,
                        const uint32_t *cls, const uint8_t *verdict, uint16_t n)
{
	static const char *const vname[] = {"green", "yellow", "red"};

	flockfile(dp_g->trace);
	for (uint16_t i = 0; i < n; i++)
		fprintf(dp_g->trace, "%u %llu %u %u %s\n", p->idx, (unsigned long long)(seq0 + i),
		        cls[i], t->act[cls[i]].tc, vname[verdict[i] < 3 ? verdict[i] : 2]);
	funlockfile(dp_g->trace);
}

static unsigned stage_rx(struct dp_lcore *lc, struct dp_pair *p, unsigned stages, uint64_t now)
{
	struct rte_mbuf *burst[DP_MAX_BURST], **pkts = burst;
	struct rte_mbuf *keep[DP_MAX_BURST];
	uint32_t cls[DP_MAX_BURST], l3[DP_MAX_BURST];
	uint8_t verdict[DP_MAX_BURST];
	const struct dp_cls_table *t = lc->table;
	uint16_t n, nk = 0;
	unsigned non_ip;

	if (!__atomic_load_n(&p->rx_on, __ATOMIC_ACQUIRE))
		return 0;
	if (dp_g->opts.replay) {
		n = replay_take(p, &pkts, now);
	} else {
		/* On one lcore the scheduler takes what it is offered (sched_offer). Before
		 * a ring, receive only what the ring can take: what the
		 * scheduling lcore cannot keep up with stays in the port (its imissed) instead
		 * of being classified, metered and then dropped here. */
		unsigned want = dp_g->conf.burst;
		if (stages & DP_STAGE_SCHED)
			want = sched_offer(p);
		else
			want = RTE_MIN(want, rte_ring_free_count(p->ring_rx));
		if (want == 0)
			return 0;
		n = rte_eth_rx_burst(p->rx_port, 0, burst, (uint16_t)want);
	}
	if (n == 0)
		return 0;

	non_ip = dp_classify_burst(lc, pkts, n, cls, l3);
	if (unlikely(non_ip))
		dp_cnt_add(&p->non_ip, non_ip);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t id = cls[i];
		const struct dp_action *a = &t->act[id];
		struct dp_cnt_rx *c;
		enum rte_color color = RTE_COLOR_GREEN;

		if (unlikely(!a->active)) /* a class removed between build and lookup */
			id = 0, a = &t->act[0];
		c = &p->cnt_rx[id];
		dp_cnt_add(&c->rx_pkts, 1);
		dp_cnt_add(&c->rx_bytes, rte_pktmbuf_pkt_len(m));
		if (a->meter)
			color = rte_meter_trtcm_color_blind_check(&p->meters[id], a->meter, now,
			                                          l3[i]);
		cls[i] = id;
		verdict[i] = (uint8_t)color;
		if (color == RTE_COLOR_RED) {
			count_drop(&c->meter_drop_pkts, &c->meter_drop_bytes, m);
			continue;
		}
		dp_cnt_add(color == RTE_COLOR_GREEN ? &c->green : &c->yellow, 1);
		*dp_mbuf_class(m) = id;
		rte_mbuf_sched_set(m, a->qindex, a->tc, (uint8_t)color);
		keep[nk++] = m;
	}
	if (unlikely(dp_g->trace != NULL))
		trace_burst(p, t, p->rx_seq, cls, verdict, n);
	p->rx_seq += n;

	if (nk == 0)
		return n;
	if (stages & DP_STAGE_SCHED) {
		sched_enqueue(p, keep, nk);
	} else {
		unsigned k = rte_ring_sp_enqueue_burst(p->ring_rx, (void **)keep, nk, NULL);
		for (unsigned i = k; i < nk; i++) {
			struct dp_cnt_rx *c = &p->cnt_rx[*dp_mbuf_class(keep[i])];
			count_drop(&c->ring_drop_pkts, &c->ring_drop_bytes, keep[i]);
		}
	}
	return n;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* Real-time priority for this lcore, so that other work on a shared machine does not
 * pause the scheduler (idle_sleep keeps it from monopolising its CPU). */
static void go_realtime(struct dp_lcore *lc)
{
	struct sched_param sp = {.sched_priority = 1};
	int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);

	if (rc != 0)
		fprintf(stderr,
		        "tidal-dp: lcore %u: cannot switch to SCHED_FIFO: %s (running "
		        "with normal priority)\n",
		        lc->lcore_id, strerror(rc));
}

int dp_worker_main(void *arg)
{
	struct dp_lcore *lc = arg;
	const uint32_t idle_us = dp_g->conf.idle_sleep_us;
	uint64_t prev = rte_rdtsc();

	if (!lc)
		return 0;
	if (dp_g->conf.realtime)
		go_realtime(lc);
	while (!__atomic_load_n(&dp_g->quit, __ATOMIC_RELAXED)) {
		uint64_t now = rte_rdtsc();
		unsigned work = 0;

		if (unlikely(now - prev > lc->gap_max_tsc)) {
			__atomic_store_n(&lc->gap_max_tsc, now - prev, __ATOMIC_RELAXED);
		}
		if (unlikely(now - prev >= (1ull << 24)))
			dp_cnt_add(&lc->clock_slips, 1);
		prev = now;
		dp_cnt_add(&lc->loops, 1);

		for (unsigned i = 0; i < lc->n_tasks; i++) {
			struct dp_pair *p = lc->task[i].pair;
			unsigned st = lc->task[i].stages;
			unsigned n_tx = 0;
			if (st & DP_STAGE_TX)
				n_tx = tx_take(p, st);
			if (st & DP_STAGE_RX)
				work += stage_rx(lc, p, st, now);
			else if (st & DP_STAGE_SCHED)
				work += stage_sched_in(p);
			if ((st & DP_STAGE_SCHED) && !(st & DP_STAGE_TX))
				work += sched_out(p);
			if (n_tx) {
				tx_send(p, p->tx_buf, (uint16_t)n_tx);
				work += n_tx;
			}
			if (st & DP_STAGE_SCHED)
				maybe_fold(lc, p, now);
		}
		run_cmds(lc);
		if (work) {
			lc->idle_loops = 0;
		} else if (idle_us && ++lc->idle_loops > 16) {
			struct timespec ts = {0, (long)idle_us * 1000};
			nanosleep(&ts, NULL);
		} else {
			rte_pause();
		}
	}
	return 0;
}

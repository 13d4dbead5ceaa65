/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_sched: the rte_sched hierarchy of one port pair.
 *
 *   port     = the pair's tx port, rate [dataplane] rate (or the link speed)
 *   subport  = a peer region ([subport.N] rate)
 *   pipe     = a lease or an app; profile 0 of every subport is "unlimited" (port rate)
 *   TC 0..11 = strict priority, TC 12 = best effort with 4 WRR queues
 *
 * Rates change at runtime by switching a pipe to another profile of its subport (adding
 * the profile first when it is new) and a subport to another subport profile: neither
 * rebuilds the scheduler nor touches queued packets. All rte_sched calls that change the
 * hierarchy run on the pair's sched lcore (dp_sched_apply, between bursts); parameters
 * are validated here first because rte_sched in DPDK 22.11 frees the whole port when
 * rte_sched_pipe_config or rte_sched_subport_config fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dp_internal.h"
#include "log.h"

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* tc_period long enough that one period's credits of the slowest TC carry a full frame
 * (otherwise rte_sched never sends a frame that large in that TC). */
static uint64_t tc_period_for(const struct dp_state *s, uint64_t min_rate_Bps)
{
	uint64_t frame = s->conf.mtu + s->conf.frame_overhead;
	uint64_t need_ms = (frame * 1000 + min_rate_Bps - 1) / min_rate_Bps;

	return max_u64(s->conf.tc_period_ms, need_ms);
}

int dp_sched_pipe_params(const struct dp_state *s, const struct dp_pair *p, uint64_t rate_bps,
                         uint32_t tb_bytes, const uint64_t *tc_rate_bps,
                         struct rte_sched_pipe_params *out, const char **why)
{
	uint64_t port_Bps = p->rate_bps / 8;
	uint64_t rate = rate_bps ? rate_bps / 8 : port_Bps;
	uint64_t frame = s->conf.mtu + s->conf.frame_overhead;
	uint64_t min_tc = rate;

	memset(out, 0, sizeof(*out));
	if (rate_bps && rate_bps < 8000) {
		*why = "pipe rate below 8k (1000 bytes/s)";
		return -ERANGE;
	}
	if (rate > port_Bps) {
		*why = "pipe rate above the port rate";
		return -ERANGE;
	}
	out->tb_rate = rate;
	out->tb_size =
	        tb_bytes ? tb_bytes : max_u64(rate * s->conf.pipe_burst_ms / 1000, 2 * frame);
	if (out->tb_size < frame) {
		*why = "token bucket smaller than one frame (mtu + frame_overhead)";
		return -ERANGE;
	}
	for (unsigned i = 0; i < DP_N_TC; i++) {
		uint64_t tc = tc_rate_bps && tc_rate_bps[i] ? tc_rate_bps[i] / 8 : rate;
		if (tc == 0 || tc > rate) {
			*why = "traffic class rate must be above 0 and at most the pipe rate";
			return -ERANGE;
		}
		out->tc_rate[i] = tc;
		if (tc < min_tc)
			min_tc = tc;
	}
	out->tc_period = tc_period_for(s, min_tc);
	out->tc_ov_weight = 1;
	for (unsigned i = 0; i < RTE_SCHED_BE_QUEUES_PER_PIPE; i++)
		out->wrr_weights[i] = 1;
	return 0;
}

int dp_sched_subport_params(const struct dp_state *s, const struct dp_pair *p, uint64_t rate_bps,
                            struct rte_sched_subport_profile_params *out, const char **why)
{
	uint64_t port_Bps = p->rate_bps / 8;
	uint64_t rate = rate_bps ? rate_bps / 8 : port_Bps;
	uint64_t frame = s->conf.mtu + s->conf.frame_overhead;

	memset(out, 0, sizeof(*out));
	if (rate_bps && rate_bps < 8000) {
		*why = "subport rate below 8k (1000 bytes/s)";
		return -ERANGE;
	}
	if (rate > port_Bps) {
		*why = "subport rate above the port rate";
		return -ERANGE;
	}
	out->tb_rate = rate;
	out->tb_size = max_u64(rate * s->conf.pipe_burst_ms / 1000, 2 * frame);
	for (unsigned i = 0; i < DP_N_TC; i++)
		out->tc_rate[i] = rate;
	out->tc_period = tc_period_for(s, rate);
	return 0;
}

int dp_sched_create(struct dp_state *s, struct dp_pair *p)
{
	const struct dp_conf *c = &s->conf;
	struct rte_sched_subport_profile_params *sprof = NULL;
	struct rte_sched_pipe_params pipe0;
	struct rte_sched_port_params pp;
	char name[64];
	const char *why = "?";
	int rc = -EINVAL;
	uint32_t n_sprof = 0;
	uint32_t *sprof_of = NULL;

	sprof = calloc(c->n_subports, sizeof(*sprof));
	sprof_of = calloc(c->n_subports, sizeof(*sprof_of));
	if (!sprof || !sprof_of) {
		rc = -ENOMEM;
		goto out;
	}
	/* one subport profile per distinct initial subport rate */
	for (uint32_t i = 0; i < c->n_subports; i++) {
		struct rte_sched_subport_profile_params sp;
		uint32_t k;
		if (dp_sched_subport_params(s, p, c->subport_rate_bps[i], &sp, &why) < 0) {
			log_err("%s: [subport.%u] rate: %s", c->path, i, why);
			goto out;
		}
		for (k = 0; k < n_sprof; k++)
			if (memcmp(&sprof[k], &sp, sizeof(sp)) == 0)
				break;
		if (k == n_sprof)
			sprof[n_sprof++] = sp;
		sprof_of[i] = k;
	}
	if (n_sprof > c->max_subport_profiles) {
		log_err("%s: more distinct subport rates than subport_profiles", c->path);
		goto out;
	}

	snprintf(name, sizeof(name), "tidal-sched-%u", p->idx);
	memset(&pp, 0, sizeof(pp));
	pp.name = name;
	pp.socket = (int)rte_socket_id();
	pp.rate = p->rate_bps / 8;
	pp.mtu = c->mtu;
	pp.frame_overhead = c->frame_overhead;
	pp.n_subports_per_port = c->n_subports;
	pp.subport_profiles = sprof;
	pp.n_subport_profiles = n_sprof;
	pp.n_max_subport_profiles = c->max_subport_profiles;
	pp.n_pipes_per_subport = c->n_pipes;
	p->sched = rte_sched_port_config(&pp);
	if (!p->sched) {
		log_err("pair %u: rte_sched_port_config failed (rate %llu bit/s, %u subports, %u "
		        "pipes): "
		        "check the [dataplane] dimensions and memory (-m)",
		        p->idx, (unsigned long long)p->rate_bps, c->n_subports, c->n_pipes);
		rc = -ENOMEM;
		goto out;
	}

	if (dp_sched_pipe_params(s, p, 0, 0, NULL, &pipe0, &why) < 0) {
		log_err("pair %u: default pipe profile: %s", p->idx, why);
		goto out;
	}
	for (uint32_t i = 0; i < c->n_subports; i++) {
		struct rte_sched_subport_params sub;
		memset(&sub, 0, sizeof(sub));
		sub.n_pipes_per_subport_enabled = c->n_pipes;
		memcpy(sub.qsize, c->qsize, sizeof(sub.qsize));
		sub.pipe_profiles = &pipe0;
		sub.n_pipe_profiles = 1;
		sub.n_max_pipe_profiles = c->max_pipe_profiles;
		sub.cman_params = NULL;
		rc = rte_sched_subport_config(p->sched, i, &sub, sprof_of[i]);
		if (rc != 0) {
			/* rte_sched freed the port on this failure */
			p->sched = NULL;
			log_err("pair %u: subport %u: rte_sched_subport_config failed (%d): "
			        "check queue_size and memory (-m)",
			        p->idx, i, rc);
			goto out;
		}
		/* Best-effort oversubscription caps a pipe's BE traffic below its own rate
		 * whenever the subport's BE is oversubscribed; by default pipes here get what
		 * their profile says. */
		rte_sched_subport_tc_ov_config(p->sched, i, c->be_ov);
		for (uint32_t k = 0; k < c->n_pipes; k++) {
			rc = rte_sched_pipe_config(p->sched, i, k, 0);
			if (rc != 0) {
				p->sched = NULL;
				log_err("pair %u: pipe %u.%u: rte_sched_pipe_config failed (%d)",
				        p->idx, i, k, rc);
				goto out;
			}
		}
	}
	rc = 0;
out:
	if (rc < 0 && p->sched) {
		rte_sched_port_free(p->sched);
		p->sched = NULL;
	}
	free(sprof);
	free(sprof_of);
	return rc;
}

/* Runs on the pair's sched lcore. The control thread validated subport, pipe and profile
 * ids against the configured dimensions and its own mirror of the profile tables. */
int dp_sched_apply(struct dp_pair *p, struct dp_cmd *cmd)
{
	int rc;

	if (cmd->type == DP_CMD_PIPE) {
		uint32_t prof;
		if (cmd->u.pipe.profile < 0) {
			rc = rte_sched_subport_pipe_profile_add(p->sched, cmd->u.pipe.subport,
			                                        &cmd->u.pipe.params, &prof);
			if (rc != 0)
				return rc < 0 ? rc : -EINVAL;
			cmd->u.pipe.new_profile = prof;
		} else {
			prof = (uint32_t)cmd->u.pipe.profile;
		}
		return rte_sched_pipe_config(p->sched, cmd->u.pipe.subport, cmd->u.pipe.pipe,
		                             (int32_t)prof);
	}
	if (cmd->type == DP_CMD_SUBPORT) {
		uint32_t prof;
		if (cmd->u.subport.profile < 0) {
			rc = rte_sched_port_subport_profile_add(p->sched, &cmd->u.subport.params,
			                                        &prof);
			if (rc != 0)
				return rc < 0 ? rc : -EINVAL;
			cmd->u.subport.new_profile = prof;
		} else {
			prof = (uint32_t)cmd->u.subport.profile;
		}
		return rte_sched_subport_config(p->sched, cmd->u.subport.subport, NULL, prof);
	}
	return -EINVAL;
}

/* Move the scheduler's per-queue drop counts into the per-class counters (queue stats
 * are read-and-clear, so each drop is counted once). Runs on the sched lcore. */
void dp_sched_fold(struct dp_state *s, struct dp_pair *p, const struct dp_cls_table *t)
{
	(void)s;
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n_active; i++) {
		uint32_t id = t->active_ids[i];
		struct rte_sched_queue_stats st;
		uint16_t qlen = 0;
		if (rte_sched_queue_read_stats(p->sched, t->act[id].qindex, &st, &qlen) != 0)
			continue;
		struct dp_cnt_sched *c = &p->cnt_sched[id];
		if (st.n_pkts_dropped) {
			dp_cnt_add(&c->drop_pkts, st.n_pkts_dropped);
			dp_cnt_add(&c->drop_bytes, st.n_bytes_dropped);
		}
		__atomic_store_n(&c->qlen, qlen, __ATOMIC_RELAXED);
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_ops: the operations behind tidal-dp's control socket and telemetry.
 *
 * Owns the control-side view of the dataplane: the ops state (classes are changed in
 * dp_classes.c), and a mirror of every pair's rte_sched pipe and subport profile tables
 * (rte_sched cannot list or delete profiles, so the mirror decides between reusing a
 * profile and adding one). Every change is validated here, then handed to the lcores that
 * own the affected structure as a dp_cmd and waited for; nothing the lcores read is freed
 * before every one of them has acknowledged the replacement.
 *
 * One mutex serialises the control thread and the telemetry thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "log.h"

#include "dp_ops_int.h"

int dp_ops_fail(char *err, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return rc;
}

#define fail dp_ops_fail

/* ---- setup ------------------------------------------------------------------------------- */

static int mirror_init(struct dp_state *s, struct dp_pair *p, struct pair_mirror *m)
{
	const struct dp_conf *c = &s->conf;
	struct rte_sched_pipe_params pipe0;
	const char *why;

	m->pp = calloc(c->n_subports, sizeof(*m->pp));
	m->n_pp = calloc(c->n_subports, sizeof(*m->n_pp));
	m->pipe_cur = calloc((size_t)c->n_subports * c->n_pipes, sizeof(*m->pipe_cur));
	m->pipe_rate = calloc((size_t)c->n_subports * c->n_pipes, sizeof(*m->pipe_rate));
	m->sp = calloc(c->max_subport_profiles, sizeof(*m->sp));
	m->sub_cur = calloc(c->n_subports, sizeof(*m->sub_cur));
	m->sub_rate = calloc(c->n_subports, sizeof(*m->sub_rate));
	if (!m->pp || !m->n_pp || !m->pipe_cur || !m->pipe_rate || !m->sp || !m->sub_cur ||
	    !m->sub_rate)
		return -ENOMEM;
	if (dp_sched_pipe_params(s, p, 0, 0, NULL, &pipe0, &why) < 0)
		return -EINVAL;
	for (uint32_t i = 0; i < c->n_subports; i++) {
		struct rte_sched_subport_profile_params sp;
		uint32_t k;
		m->pp[i] = calloc(c->max_pipe_profiles, sizeof(**m->pp));
		if (!m->pp[i])
			return -ENOMEM;
		m->pp[i][0] = pipe0;
		m->n_pp[i] = 1;
		/* same order and de-duplication as dp_sched_create, so the ids agree */
		if (dp_sched_subport_params(s, p, c->subport_rate_bps[i], &sp, &why) < 0)
			return -EINVAL;
		for (k = 0; k < m->n_sp; k++)
			if (memcmp(&m->sp[k], &sp, sizeof(sp)) == 0)
				break;
		if (k == m->n_sp)
			m->sp[m->n_sp++] = sp;
		m->sub_cur[i] = k;
		m->sub_rate[i] = c->subport_rate_bps[i];
	}
	return 0;
}

static void mirror_free(const struct dp_conf *c, struct pair_mirror *m)
{
	if (m->pp)
		for (uint32_t i = 0; i < c->n_subports; i++)
			free(m->pp[i]);
	free(m->pp);
	free(m->n_pp);
	free(m->pipe_cur);
	free(m->pipe_rate);
	free(m->sp);
	free(m->sub_cur);
	free(m->sub_rate);
	memset(m, 0, sizeof(*m));
}

int dp_ops_init(struct dp_state *s)
{
	struct dp_ops *o = calloc(1, sizeof(*o));
	struct dp_lpm_op *ops = NULL;
	uint32_t n_ops = 0;
	const char *why = NULL;
	int rc;

	if (!o)
		return -ENOMEM;
	s->ops = o;
	pthread_mutex_init(&o->lock, NULL);
	o->recs = calloc(s->conf.max_classes, sizeof(*o->recs));
	o->b = dp_clsb_new(s->conf.max_classes, s->conf.max_prefixes, s->conf.max_prefixes6);
	if (!o->recs || !o->b)
		return -ENOMEM;
	/* class 0: unmatched traffic, best effort queue 0 of pipe 0 of subport 0 */
	o->recs[0].active = true;
	o->recs[0].def.tc = RTE_SCHED_TRAFFIC_CLASS_BE;
	o->recs[0].def.dscp_mask = UINT64_MAX;
	for (unsigned i = 0; i < s->n_pairs; i++) {
		rc = mirror_init(s, &s->pairs[i], &o->pm[i]);
		if (rc < 0)
			return rc;
	}
	rc = dp_clsb_build(o->b, o->recs, &o->table, &ops, &n_ops, &why);
	free(ops);
	if (rc < 0) {
		log_err("initial class table: %s", why);
		return rc;
	}
	dp_clsb_commit(o->b);
	/* lcores are not running yet: hand them the table directly */
	for (unsigned i = 0; i < s->n_lcores; i++)
		s->lcores[i].table = o->table;
	return 0;
}

void dp_ops_fini(struct dp_state *s)
{
	struct dp_ops *o = s->ops;

	if (!o)
		return;
	if (o->recs)
		for (uint32_t i = 0; i < s->conf.max_classes; i++) {
			dp_mprof_unref(o, o->recs[i].mprof);
			dp_rec_clear(&o->recs[i]);
		}
	free(o->recs);
	dp_clsb_free(o->b);
	if (!o->broken)
		dp_cls_table_free(o->table);
	for (unsigned i = 0; i < DP_MAX_PAIRS; i++)
		mirror_free(&s->conf, &o->pm[i]);
	pthread_mutex_destroy(&o->lock);
	free(o);
	s->ops = NULL;
}

/* ---- rates -------------------------------------------------------------------------------- */

static int pairs_of(struct dp_state *s, uint16_t pair, unsigned *lo, unsigned *hi, char *err,
                    size_t n)
{
	if (pair == DPMSG_ALL_PAIRS) {
		*lo = 0;
		*hi = s->n_pairs;
		return 0;
	}
	if (pair >= s->n_pairs)
		return fail(err, n, -ERANGE, "pair %u does not exist (0..%u)", pair,
		            s->n_pairs - 1);
	*lo = pair;
	*hi = pair + 1u;
	return 0;
}

int dp_ops_pipe_rate(struct dp_state *s, const struct dpmsg_rate *r, char *err, size_t n)
{
	const struct dp_conf *c = &s->conf;
	struct dp_ops *o = s->ops;
	unsigned lo = 0, hi = 0;
	int rc;

	pthread_mutex_lock(&o->lock);
	rc = pairs_of(s, r->pair, &lo, &hi, err, n);
	if (rc < 0)
		goto out;
	if (o->broken) {
		rc = fail(err, n, -EIO,
		          "tidal-dp refuses changes after an lcore failure; restart it");
		goto out;
	}
	if (r->subport >= c->n_subports || r->pipe >= c->n_pipes) {
		rc = fail(err, n, -ERANGE,
		          "pipe %u.%u does not exist (subports 0..%u, pipes 0..%u)", r->subport,
		          r->pipe, c->n_subports - 1, c->n_pipes - 1);
		goto out;
	}
	for (unsigned i = lo; i < hi; i++) {
		struct dp_pair *p = &s->pairs[i];
		struct pair_mirror *m = &o->pm[i];
		struct dp_cmd cmd = {.type = DP_CMD_PIPE, .pair = i};
		const char *why = NULL;
		uint32_t k;

		rc = dp_sched_pipe_params(s, p, r->rate_bps, r->tb_bytes,
		                          r->n_tc ? r->tc_rate_bps : NULL, &cmd.u.pipe.params,
		                          &why);
		if (rc < 0) {
			rc = fail(err, n, rc, "pipe %u.%u on pair %u: %s", r->subport, r->pipe, i,
			          why);
			goto out;
		}
		for (k = 0; k < m->n_pp[r->subport]; k++)
			if (memcmp(&m->pp[r->subport][k], &cmd.u.pipe.params,
			           sizeof(cmd.u.pipe.params)) == 0)
				break;
		if (k == m->n_pp[r->subport] && k >= c->max_pipe_profiles) {
			rc = fail(err, n, -ENOSPC,
			          "subport %u on pair %u has used all %u pipe profiles "
			          "(raise [dataplane] pipe_profiles)",
			          r->subport, i, c->max_pipe_profiles);
			goto out;
		}
		cmd.u.pipe.subport = r->subport;
		cmd.u.pipe.pipe = r->pipe;
		cmd.u.pipe.profile = k < m->n_pp[r->subport] ? (int32_t)k : -1;
		rc = dp_cmd_run(&s->lcores[p->lcore_sched], &cmd, CMD_TIMEOUT_MS);
		if (rc == -ETIMEDOUT || rc == -EBUSY) {
			o->broken = true;
			rc = fail(err, n, -EIO, "sched lcore of pair %u did not respond", i);
			goto out;
		}
		if (rc < 0) {
			rc = fail(err, n, rc, "rte_sched refused pipe %u.%u on pair %u: %s",
			          r->subport, r->pipe, i, strerror(-rc));
			goto out;
		}
		if (cmd.u.pipe.profile < 0) {
			k = cmd.u.pipe.new_profile;
			if (k != m->n_pp[r->subport] || k >= c->max_pipe_profiles) {
				o->broken = true;
				rc = fail(err, n, -EIO, "pipe profile ids out of step on pair %u",
				          i);
				goto out;
			}
			m->pp[r->subport][k] = cmd.u.pipe.params;
			m->n_pp[r->subport]++;
		}
		m->pipe_cur[(size_t)r->subport * c->n_pipes + r->pipe] = k;
		m->pipe_rate[(size_t)r->subport * c->n_pipes + r->pipe] = r->rate_bps;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&o->lock);
	return rc;
}

int dp_ops_subport_rate(struct dp_state *s, const struct dpmsg_rate *r, char *err, size_t n)
{
	const struct dp_conf *c = &s->conf;
	struct dp_ops *o = s->ops;
	unsigned lo = 0, hi = 0;
	int rc;

	pthread_mutex_lock(&o->lock);
	rc = pairs_of(s, r->pair, &lo, &hi, err, n);
	if (rc < 0)
		goto out;
	if (o->broken) {
		rc = fail(err, n, -EIO,
		          "tidal-dp refuses changes after an lcore failure; restart it");
		goto out;
	}
	if (r->subport >= c->n_subports) {
		rc = fail(err, n, -ERANGE, "subport %u does not exist (0..%u)", r->subport,
		          c->n_subports - 1);
		goto out;
	}
	for (unsigned i = lo; i < hi; i++) {
		struct dp_pair *p = &s->pairs[i];
		struct pair_mirror *m = &o->pm[i];
		struct dp_cmd cmd = {.type = DP_CMD_SUBPORT, .pair = i};
		const char *why = NULL;
		uint32_t k;

		rc = dp_sched_subport_params(s, p, r->rate_bps, &cmd.u.subport.params, &why);
		if (rc < 0) {
			rc = fail(err, n, rc, "subport %u on pair %u: %s", r->subport, i, why);
			goto out;
		}
		for (k = 0; k < m->n_sp; k++)
			if (memcmp(&m->sp[k], &cmd.u.subport.params, sizeof(m->sp[k])) == 0)
				break;
		if (k == m->n_sp && k >= c->max_subport_profiles) {
			rc = fail(err, n, -ENOSPC,
			          "pair %u has used all %u subport profiles (raise [dataplane] "
			          "subport_profiles)",
			          i, c->max_subport_profiles);
			goto out;
		}
		cmd.u.subport.subport = r->subport;
		cmd.u.subport.profile = k < m->n_sp ? (int32_t)k : -1;
		rc = dp_cmd_run(&s->lcores[p->lcore_sched], &cmd, CMD_TIMEOUT_MS);
		if (rc == -ETIMEDOUT || rc == -EBUSY) {
			o->broken = true;
			rc = fail(err, n, -EIO, "sched lcore of pair %u did not respond", i);
			goto out;
		}
		if (rc < 0) {
			rc = fail(err, n, rc, "rte_sched refused subport %u on pair %u: %s",
			          r->subport, i, strerror(-rc));
			goto out;
		}
		if (cmd.u.subport.profile < 0) {
			k = cmd.u.subport.new_profile;
			if (k != m->n_sp) {
				o->broken = true;
				rc = fail(err, n, -EIO,
				          "subport profile ids out of step on pair %u", i);
				goto out;
			}
			m->sp[m->n_sp++] = cmd.u.subport.params;
		}
		m->sub_cur[r->subport] = k;
		m->sub_rate[r->subport] = r->rate_bps;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&o->lock);
	return rc;
}

int dp_ops_rx_enable(struct dp_state *s, uint16_t pair, bool on, char *err, size_t n)
{
	unsigned lo = 0, hi = 0;
	int rc = pairs_of(s, pair, &lo, &hi, err, n);

	if (rc < 0)
		return rc;
	for (unsigned i = lo; i < hi; i++)
		__atomic_store_n(&s->pairs[i].rx_on, on ? 1u : 0u, __ATOMIC_RELEASE);
	return 0;
}

/* ---- stats -------------------------------------------------------------------------------- */

int dp_ops_fold(struct dp_state *s)
{
	int rc = 0;

	for (unsigned i = 0; i < s->n_pairs; i++) {
		struct dp_cmd cmd = {.type = DP_CMD_FOLD, .pair = i};
		int r = dp_cmd_run(&s->lcores[s->pairs[i].lcore_sched], &cmd, CMD_TIMEOUT_MS);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

static void class_fields(struct dp_state *s, unsigned pair, uint32_t id, uint64_t *f)
{
	const struct dp_pair *p = &s->pairs[pair];
	const struct dp_cnt_rx *rx = &p->cnt_rx[id];
	const struct dp_cnt_sched *sc = &p->cnt_sched[id];
	const struct dp_cnt_tx *tx = &p->cnt_tx[id];

	f[DPMSG_CF_RX_PKTS] = dp_cnt_get(&rx->rx_pkts);
	f[DPMSG_CF_RX_BYTES] = dp_cnt_get(&rx->rx_bytes);
	f[DPMSG_CF_TX_PKTS] = dp_cnt_get(&tx->tx_pkts);
	f[DPMSG_CF_TX_BYTES] = dp_cnt_get(&tx->tx_bytes);
	f[DPMSG_CF_METER_DROP_PKTS] = dp_cnt_get(&rx->meter_drop_pkts);
	f[DPMSG_CF_METER_DROP_BYTES] = dp_cnt_get(&rx->meter_drop_bytes);
	f[DPMSG_CF_SCHED_DROP_PKTS] = dp_cnt_get(&sc->drop_pkts);
	f[DPMSG_CF_SCHED_DROP_BYTES] = dp_cnt_get(&sc->drop_bytes);
	f[DPMSG_CF_OTHER_DROP_PKTS] = dp_cnt_get(&rx->ring_drop_pkts) +
	                              dp_cnt_get(&sc->ring_drop_pkts) + dp_cnt_get(&tx->drop_pkts);
	f[DPMSG_CF_OTHER_DROP_BYTES] = dp_cnt_get(&rx->ring_drop_bytes) +
	                               dp_cnt_get(&sc->ring_drop_bytes) +
	                               dp_cnt_get(&tx->drop_bytes);
	f[DPMSG_CF_GREEN_PKTS] = dp_cnt_get(&rx->green);
	f[DPMSG_CF_YELLOW_PKTS] = dp_cnt_get(&rx->yellow);
	f[DPMSG_CF_QUEUED] = dp_cnt_get(&sc->qlen);
}

void dp_ops_class_fields(struct dp_state *s, unsigned pair, uint32_t id, uint64_t *f)
{
	memset(f, 0, sizeof(uint64_t) * DPMSG_CF_COUNT);
	if (pair < s->n_pairs && id < s->conf.max_classes)
		class_fields(s, pair, id, f);
}

void dp_ops_pair_totals(struct dp_state *s, unsigned pair, uint64_t *f)
{
	const struct dp_pair *p = &s->pairs[pair];
	struct rte_eth_stats es;
	uint64_t cf[DPMSG_CF_COUNT];

	memset(f, 0, sizeof(uint64_t) * DPMSG_PF_COUNT);
	if (pair >= s->n_pairs)
		return;
	for (uint32_t id = 0; id < s->conf.max_classes; id++) {
		class_fields(s, pair, id, cf);
		f[DPMSG_PF_RX_PKTS] += cf[DPMSG_CF_RX_PKTS];
		f[DPMSG_PF_RX_BYTES] += cf[DPMSG_CF_RX_BYTES];
		f[DPMSG_PF_TX_PKTS] += cf[DPMSG_CF_TX_PKTS];
		f[DPMSG_PF_TX_BYTES] += cf[DPMSG_CF_TX_BYTES];
		f[DPMSG_PF_DROP_PKTS] += cf[DPMSG_CF_METER_DROP_PKTS] +
		                         cf[DPMSG_CF_SCHED_DROP_PKTS] +
		                         cf[DPMSG_CF_OTHER_DROP_PKTS];
		f[DPMSG_PF_QUEUED] += cf[DPMSG_CF_QUEUED];
	}
	if (p->ring_rx)
		f[DPMSG_PF_QUEUED] += rte_ring_count(p->ring_rx);
	if (p->ring_tx)
		f[DPMSG_PF_QUEUED] += rte_ring_count(p->ring_tx);
	/* held by the replay stage, not yet classified: count them as queued too */
	f[DPMSG_PF_NON_IP] = dp_cnt_get(&p->non_ip);
	if (rte_eth_stats_get(p->rx_port, &es) == 0) {
		f[DPMSG_PF_ETH_IPACKETS] = es.ipackets;
		f[DPMSG_PF_ETH_IMISSED] = es.imissed;
		f[DPMSG_PF_ETH_NOMBUF] = es.rx_nombuf;
	}
	if (rte_eth_stats_get(p->tx_port, &es) == 0) {
		f[DPMSG_PF_ETH_OPACKETS] = es.opackets;
		f[DPMSG_PF_ETH_OERRORS] = es.oerrors;
	}
}

int dp_ops_stats_page(struct dp_state *s, const struct dpmsg_stats_req *req,
                      struct dpmsg_stats_rep *out)
{
	struct dp_ops *o = s->ops;
	size_t room = (DPMSG_MAX_LEN - dpmsg_stats_rep_size((uint16_t)s->n_pairs, 0)) /
	              (dpmsg_stats_rep_size(0, 1) - dpmsg_stats_rep_size(0, 0));
	uint32_t max_classes = (uint32_t)(room / (s->n_pairs ? s->n_pairs : 1));
	uint32_t id;

	memset(out, 0, sizeof(*out));
	if (req->max_entries && req->max_entries < max_classes * s->n_pairs)
		max_classes = req->max_entries / (s->n_pairs ? s->n_pairs : 1);
	if (max_classes == 0)
		max_classes = 1;
	pthread_mutex_lock(&o->lock);
	if (req->first_class == 0) {
		out->n_pairs = (uint16_t)s->n_pairs;
		out->pairs = calloc(s->n_pairs, sizeof(*out->pairs));
		if (!out->pairs)
			goto nomem;
		for (unsigned i = 0; i < s->n_pairs; i++) {
			out->pairs[i].pair = (uint16_t)i;
			dp_ops_pair_totals(s, i, out->pairs[i].f);
		}
	}
	out->classes = calloc((size_t)max_classes * s->n_pairs + 1, sizeof(*out->classes));
	if (!out->classes)
		goto nomem;
	out->next_class = DPMSG_STATS_END;
	for (id = req->first_class; id < s->conf.max_classes; id++) {
		if (!o->recs[id].active)
			continue;
		if (out->n_classes / (s->n_pairs ? s->n_pairs : 1) >= max_classes) {
			out->next_class = id;
			break;
		}
		for (unsigned i = 0; i < s->n_pairs; i++) {
			struct dpmsg_class_stats *cs = &out->classes[out->n_classes++];
			cs->pair = (uint16_t)i;
			cs->class_id = id;
			class_fields(s, i, id, cs->f);
		}
	}
	pthread_mutex_unlock(&o->lock);
	return 0;
nomem:
	pthread_mutex_unlock(&o->lock);
	free(out->pairs);
	free(out->classes);
	memset(out, 0, sizeof(*out));
	return -ENOMEM;
}

int dp_ops_info(struct dp_state *s, struct dpmsg_info *out)
{
	memset(out, 0, sizeof(*out));
	out->n_subports = (uint16_t)s->conf.n_subports;
	out->n_pipes = s->conf.n_pipes;
	out->max_classes = s->conf.max_classes;
	out->stages = (uint8_t)s->opts.stages;
	out->frame_overhead = (uint16_t)s->conf.frame_overhead;
	out->n_pairs = (uint16_t)s->n_pairs;
	out->pairs = calloc(s->n_pairs + 1, sizeof(*out->pairs));
	if (!out->pairs)
		return -ENOMEM;
	for (unsigned i = 0; i < s->n_pairs; i++) {
		const struct dp_pair *p = &s->pairs[i];
		struct dpmsg_pair_info *pi = &out->pairs[i];
		pi->pair = (uint16_t)i;
		pi->rx_port = p->rx_port;
		pi->tx_port = p->tx_port;
		pi->rate_bps = p->rate_bps;
		snprintf(pi->rx_name, sizeof(pi->rx_name), "%s", p->rx_name);
		snprintf(pi->tx_name, sizeof(pi->tx_name), "%s", p->tx_name);
	}
	return 0;
}

int dp_ops_class_get(struct dp_state *s, uint32_t id, struct dpmsg_class *out)
{
	struct dp_ops *o = s->ops;
	int rc = -ENOENT;

	pthread_mutex_lock(&o->lock);
	if (id < s->conf.max_classes && o->recs[id].active) {
		*out = o->recs[id].def;
		out->dst = NULL;
		out->src = NULL;
		rc = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

uint32_t dp_ops_active_classes(struct dp_state *s, uint32_t *ids, uint32_t max)
{
	struct dp_ops *o = s->ops;
	uint32_t n = 0;

	pthread_mutex_lock(&o->lock);
	for (uint32_t id = 0; id < s->conf.max_classes && n < max; id++)
		if (o->recs[id].active)
			ids[n++] = id;
	pthread_mutex_unlock(&o->lock);
	return n;
}

uint64_t dp_ops_pipe_rate_get(struct dp_state *s, unsigned pair, uint32_t subport, uint32_t pipe)
{
	struct dp_ops *o = s->ops;
	uint64_t r = 0;

	if (pair >= s->n_pairs || subport >= s->conf.n_subports || pipe >= s->conf.n_pipes)
		return 0;
	pthread_mutex_lock(&o->lock);
	r = o->pm[pair].pipe_rate[(size_t)subport * s->conf.n_pipes + pipe];
	pthread_mutex_unlock(&o->lock);
	return r;
}

uint64_t dp_ops_subport_rate_get(struct dp_state *s, unsigned pair, uint32_t subport)
{
	struct dp_ops *o = s->ops;
	uint64_t r = 0;

	if (pair >= s->n_pairs || subport >= s->conf.n_subports)
		return 0;
	pthread_mutex_lock(&o->lock);
	r = o->pm[pair].sub_rate[subport];
	pthread_mutex_unlock(&o->lock);
	return r;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_classes: installing and removing classes in a running tidal-dp.
 *
 * A change updates the control-side class records, builds a new class table (and the LPM
 * operations that go with it), hands it to every lcore and frees the old table once all
 * have taken the new one. Consecutive CLASS_ADD/CLASS_DEL requests that arrive together
 * are applied as one batch with a single rebuild (installing thousands of classes takes
 * as many table swaps as batches, not as classes); each request still gets its own
 * answer: requests that are wrong on their own are refused individually, and if the
 * batch as a whole cannot be built (too many prefixes), it is undone and replayed one
 * request at a time so that exactly the requests that do not fit are refused.
 *
 * Meter profiles are shared: one rte_meter_trtcm_profile per distinct cir/pir/cbs/pbs,
 * reference counted by the classes using it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_ops_int.h"
#include "log.h"

#define fail dp_ops_fail

void dp_mprof_unref(struct dp_ops *o, struct dp_mprof *mp)
{
	if (!mp || --mp->refs)
		return;
	for (struct dp_mprof **pp = &o->mprofs; *pp; pp = &(*pp)->next) {
		if (*pp == mp) {
			*pp = mp->next;
			break;
		}
	}
	free(mp);
}

void dp_rec_clear(struct dp_class_rec *r)
{
	free(r->def.dst);
	free(r->def.src);
	memset(r, 0, sizeof(*r));
}

static struct dp_mprof *mprof_get(struct dp_ops *o, const struct dpmsg_meter *m, const char **why)
{
	struct rte_meter_trtcm_params p;
	struct dp_mprof *mp;

	for (mp = o->mprofs; mp; mp = mp->next)
		if (memcmp(&mp->key, m, sizeof(*m)) == 0) {
			mp->refs++;
			return mp;
		}
	mp = calloc(1, sizeof(*mp));
	if (!mp) {
		*why = "out of memory";
		return NULL;
	}
	p.cir = m->cir_bps / 8;
	p.pir = m->pir_bps / 8;
	p.cbs = m->cbs;
	p.pbs = m->pbs;
	if (p.cir == 0 || rte_meter_trtcm_profile_config(&mp->prof, &p) != 0) {
		*why = "meter parameters refused by rte_meter (cir >= 8, pir >= cir, bursts > 0)";
		free(mp);
		return NULL;
	}
	mp->key = *m;
	mp->refs = 1;
	mp->next = o->mprofs;
	o->mprofs = mp;
	return mp;
}

/* Hand the new table to every lcore; free the old one once all have it. */
static int swap_table(struct dp_state *s, struct dp_cls_table *t, const struct dp_lpm_op *ops,
                      uint32_t n_ops, const uint32_t *reset, uint32_t n_reset, char *err, size_t n)
{
	struct dp_ops *o = s->ops;
	int rc = 0;

	for (unsigned i = 0; i < s->n_lcores; i++) {
		struct dp_cmd cmd = {.type = DP_CMD_SWAP_TABLE};
		int r;
		if (s->lcores[i].n_tasks == 0)
			continue;
		cmd.u.swap.table = t;
		cmd.u.swap.ops = ops;
		cmd.u.swap.n_ops = n_ops;
		cmd.u.swap.meter_reset = reset;
		cmd.u.swap.n_meter_reset = n_reset;
		r = dp_cmd_run(&s->lcores[i], &cmd, CMD_TIMEOUT_MS);
		if (r == -ETIMEDOUT || r == -EBUSY) {
			/* the lcore may still read cmd and both tables: leak rather than
			 * free under it, and refuse further changes */
			o->broken = true;
			log_err("lcore %u did not take the new class table (%s); tidal-dp needs a "
			        "restart",
			        s->lcores[i].lcore_id, strerror(-r));
			return fail(err, n, -EIO, "lcore %u did not respond; restart tidal-dp",
			            s->lcores[i].lcore_id);
		}
		if (r < 0 && rc == 0) {
			log_err("lcore %u: LPM update failed: %s", s->lcores[i].lcore_id,
			        strerror(-r));
			rc = fail(err, n, -EIO, "LPM update failed on lcore %u: %s",
			          s->lcores[i].lcore_id, strerror(-r));
		}
	}
	dp_cls_table_free(o->table);
	o->table = t;
	return rc;
}

/* Build and install a table for the current records. -ENOSPC/-ENOMEM: nothing changed
 * (the caller may undo its records); -EIO: installed, but an lcore reported a problem. */
static int rebuild(struct dp_state *s, const uint32_t *reset, uint32_t n_reset, char *err, size_t n)
{
	struct dp_ops *o = s->ops;
	struct dp_cls_table *t;
	struct dp_lpm_op *ops;
	uint32_t n_ops;
	const char *why;
	int rc = dp_clsb_build(o->b, o->recs, &t, &ops, &n_ops, &why);

	if (rc < 0)
		return fail(err, n, rc, "%s", why);
	rc = swap_table(s, t, ops, n_ops, reset, n_reset, err, n);
	free(ops);
	if (!o->broken)
		dp_clsb_commit(o->b);
	return rc;
}

static int check_class(struct dp_state *s, const struct dpmsg_class *c, char *err, size_t n)
{
	const struct dp_conf *cf = &s->conf;
	struct dp_ops *o = s->ops;

	if (c->class_id >= cf->max_classes)
		return fail(err, n, -ERANGE, "class %u: ids go up to %u ([dataplane] classes)",
		            c->class_id, cf->max_classes - 1);
	if (c->subport >= cf->n_subports)
		return fail(err, n, -ERANGE, "class %u: subport %u does not exist (0..%u)",
		            c->class_id, c->subport, cf->n_subports - 1);
	if (c->pipe >= cf->n_pipes)
		return fail(err, n, -ERANGE, "class %u: pipe %u does not exist (0..%u)",
		            c->class_id, c->pipe, cf->n_pipes - 1);
	if (c->class_id == 0 && (c->n_dst || c->n_src || c->dscp_mask != UINT64_MAX))
		return fail(err, n, -EINVAL,
		            "class 0 takes unmatched packets: it has no match, only a queue");
	for (uint32_t i = 0; i < cf->max_classes; i++) {
		const struct dp_class_rec *r = &o->recs[i];
		if (i == c->class_id || !r->active)
			continue;
		if (r->def.subport == c->subport && r->def.pipe == c->pipe && r->def.tc == c->tc &&
		    r->def.queue == c->queue)
			return fail(
			        err, n, -EEXIST,
			        "class %u: queue %u.%u tc %u queue %u already belongs to class %u",
			        c->class_id, c->subport, c->pipe, c->tc, c->queue, i);
	}
	return 0;
}

/* What one request replaced, to undo it or to release it once the batch is installed. */
struct undo {
	uint32_t id;
	struct dp_class_rec old;
	bool applied;
};

/* Apply one request to the records only. */
static int apply_one(struct dp_state *s, const struct dpmsg *m, struct undo *u, char *err, size_t n)
{
	struct dp_ops *o = s->ops;
	struct dp_class_rec nr = {0};
	const char *why = NULL;

	u->applied = false;
	if (m->hdr.type == DPMSG_CLASS_DEL) {
		uint32_t id = m->u.class_id;
		if (id == 0)
			return fail(err, n, -EINVAL,
			            "class 0 (unmatched traffic) cannot be removed");
		if (id >= s->conf.max_classes || !o->recs[id].active)
			return fail(err, n, -ENOENT, "class %u is not installed", id);
		u->id = id;
		u->old = o->recs[id];
		memset(&o->recs[id], 0, sizeof(o->recs[id]));
		u->applied = true;
		return 0;
	}
	const struct dpmsg_class *c = &m->u.cls;
	int rc = check_class(s, c, err, n);
	if (rc < 0)
		return rc;
	nr.active = true;
	nr.def = *c;
	nr.def.dst = NULL;
	nr.def.src = NULL;
	if ((c->n_dst && !(nr.def.dst = malloc(c->n_dst * sizeof(*c->dst)))) ||
	    (c->n_src && !(nr.def.src = malloc(c->n_src * sizeof(*c->src))))) {
		dp_rec_clear(&nr);
		return fail(err, n, -ENOMEM, "out of memory");
	}
	if (c->n_dst)
		memcpy(nr.def.dst, c->dst, c->n_dst * sizeof(*c->dst));
	if (c->n_src)
		memcpy(nr.def.src, c->src, c->n_src * sizeof(*c->src));
	if (c->has_meter && !(nr.mprof = mprof_get(o, &c->meter, &why))) {
		dp_rec_clear(&nr);
		return fail(err, n, -EINVAL, "class %u: %s", c->class_id, why);
	}
	u->id = c->class_id;
	u->old = o->recs[c->class_id];
	o->recs[c->class_id] = nr;
	u->applied = true;
	return 0;
}

static void undo_revert(struct dp_ops *o, struct undo *u)
{
	struct dp_class_rec *r = &o->recs[u->id];

	dp_mprof_unref(o, r->mprof);
	dp_rec_clear(r);
	*r = u->old;
	u->applied = false;
}

static void undo_release(struct dp_ops *o, struct undo *u)
{
	dp_mprof_unref(o, u->old.mprof);
	dp_rec_clear(&u->old);
	u->applied = false;
}

/* Apply `n_msg` class requests with as few rebuilds as possible. rc[i] and err[i] get
 * each request's outcome. */
static void run_batch(struct dp_state *s, struct dpmsg *const *msgs, size_t n_msg, int *rc,
                      char (*err)[DPMSG_TEXT_MAX])
{
	struct dp_ops *o = s->ops;
	struct undo *u = calloc(n_msg, sizeof(*u));
	uint32_t *reset = calloc(n_msg + 1, sizeof(*reset));
	uint32_t n_reset = 0;
	char berr[DPMSG_TEXT_MAX];
	int r;

	if (!u || !reset) {
		for (size_t i = 0; i < n_msg; i++)
			rc[i] = fail(err[i], DPMSG_TEXT_MAX, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_msg; i++) {
		err[i][0] = 0;
		rc[i] = o->broken ? fail(err[i], DPMSG_TEXT_MAX, -EIO,
		                         "tidal-dp refuses changes "
		                         "after an lcore failure; restart it")
		                  : apply_one(s, msgs[i], &u[i], err[i], DPMSG_TEXT_MAX);
		if (rc[i] == 0 && msgs[i]->hdr.type == DPMSG_CLASS_ADD && msgs[i]->u.cls.has_meter)
			reset[n_reset++] = msgs[i]->u.cls.class_id;
	}
	bool any = false;
	for (size_t i = 0; i < n_msg; i++)
		any |= u[i].applied;
	if (!any)
		goto out;
	r = rebuild(s, reset, n_reset, berr, sizeof(berr));
	if (r == 0 || r == -EIO || o->broken) {
		/* installed (an lcore problem is reported on every request of the batch) */
		for (size_t i = 0; i < n_msg; i++) {
			if (!u[i].applied)
				continue;
			undo_release(o, &u[i]);
			if (r < 0) {
				rc[i] = r;
				snprintf(err[i], DPMSG_TEXT_MAX, "%s", berr);
			}
		}
		goto out;
	}
	/* the batch does not fit: undo it, then find out request by request */
	for (size_t i = n_msg; i-- > 0;)
		if (u[i].applied)
			undo_revert(o, &u[i]);
	if (n_msg == 1) {
		rc[0] = r;
		snprintf(err[0], DPMSG_TEXT_MAX, "%s", berr);
		goto out;
	}
	/* in order, each request validated against the state the earlier ones left */
	for (size_t i = 0; i < n_msg; i++)
		run_batch(s, &msgs[i], 1, &rc[i], &err[i]);
out:
	free(u);
	free(reset);
}

void dp_ops_class_batch(struct dp_state *s, struct dpmsg *const *msgs, size_t n, int *rc,
                        char (*err)[DPMSG_TEXT_MAX])
{
	pthread_mutex_lock(&s->ops->lock);
	run_batch(s, msgs, n, rc, err);
	pthread_mutex_unlock(&s->ops->lock);
}

int dp_ops_class_add(struct dp_state *s, const struct dpmsg_class *c, char *err, size_t n)
{
	struct dpmsg m = {.hdr.type = DPMSG_CLASS_ADD};
	struct dpmsg *mp = &m;
	char e[1][DPMSG_TEXT_MAX];
	int rc;

	m.u.cls = *c;
	dp_ops_class_batch(s, &mp, 1, &rc, e);
	snprintf(err, n, "%s", e[0]);
	return rc;
}

int dp_ops_class_del(struct dp_state *s, uint32_t id, char *err, size_t n)
{
	struct dpmsg m = {.hdr.type = DPMSG_CLASS_DEL, .u.class_id = id};
	struct dpmsg *mp = &m;
	char e[1][DPMSG_TEXT_MAX];
	int rc;

	dp_ops_class_batch(s, &mp, 1, &rc, e);
	snprintf(err, n, "%s", e[0]);
	return rc;
}

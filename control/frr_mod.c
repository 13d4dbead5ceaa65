/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr_mod: the tidald module that steers the region's active bandwidth leases in BGP
 * through the FRR provisioner (control/frr.h, docs/frr.md).
 *
 * It listens to TIDALD_EV_LEASE_CHANGED from the ledger. A bandwidth lease this region
 * requested is applied when it becomes active (and again when the ledger re-announces it
 * after a restart: a no-op when FRR already has it), and withdrawn when it ends (released,
 * expired, revoked, failed). Once the loop runs after a start or a reload, it resyncs FRR
 * with the ledger's active leases, which also removes what belongs to leases that ended
 * while tidald was down. Work is queued and done from the event loop, never inside the
 * ledger's callback.
 *
 * The provisioner's lease comes from the ledger lease and the config: the next-hop region
 * is the peer whose [peer.*] link is the lease's resource (a transit lease books our link to
 * the transit region), else the provider when it is a configured peer; its BGP neighbor
 * address is that peer's address; the prefixes are the `dst` prefixes of the lease's match
 * (or of its app's). Leases with nothing to steer (no dst prefix, compute) are skipped.
 *
 * Owns the provisioner handle, the work queue and two timers. Without an [frr] section it
 * does nothing. Exports tidal_frr_operations_total and `show status` fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "frr.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "tidald.h"

#define FRR_MOD_MAX_PREFIXES 64

enum job { JOB_APPLY, JOB_WITHDRAW };
enum op { OP_APPLY, OP_WITHDRAW, OP_RESYNC, N_OPS };

struct frr_job {
	enum job job;
	struct ledger_lease lease;
};

struct frr_mod {
	struct tidald *d;
	struct frr *f; /* NULL without [frr] */
	struct event *work;
	struct event *resync;
	struct frr_job *q;
	size_t n_q;
	uint64_t ok[N_OPS], failed[N_OPS];
	size_t skipped;
	char last_error[1024];
};

static const char *op_name[N_OPS] = {"apply", "withdraw", "resync"};

/* ---- ledger lease -> provisioner lease ---------------------------------------------------- */

static int dst_prefixes(const char *match, struct cfg_prefix *pfx, size_t max, size_t *n, char *why,
                        size_t whylen)
{
	char buf[LEDGER_MATCH_MAX], *save = NULL, *item;

	snprintf(buf, sizeof(buf), "%s", match);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		const char *err = NULL;

		item += strspn(item, " \t");
		if (strncmp(item, "dst", 3) || (item[3] != ' ' && item[3] != '\t'))
			continue; /* src and dscp do not steer routes */
		item += 3 + strspn(item + 3, " \t");
		item[strcspn(item, " \t")] = '\0';
		if (*n == max) {
			snprintf(why, whylen, "more than %zu dst prefixes", max);
			return -E2BIG;
		}
		if (cfg_parse_prefix(item, &pfx[*n], &err) < 0) {
			snprintf(why, whylen, "bad dst prefix '%s' in match: %s", item,
			         err ? err : "malformed");
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

int frr_lease_from_ledger(const struct tidal_cfg *cfg, const struct ledger_lease *x,
                          struct prov_lease *out, struct cfg_prefix *pfx, size_t max_pfx, char *why,
                          size_t whylen)
{
	const struct cfg_peer *via = NULL;
	const char *res = x->resource;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (x->kind != LEDGER_KIND_BANDWIDTH || strcmp(x->requester, cfg->region.name))
		return 0; /* not ours to steer */
	if (!strncmp(res, "link.", 5))
		res += 5;
	for (size_t i = 0; i < cfg->n_peers && !via; i++)
		if (!strcmp(cfg->peers[i].link, res))
			via = &cfg->peers[i];
	if (!via)
		via = cfg_find_peer(cfg, x->provider);
	if (!via) {
		snprintf(why, whylen,
		         "neither the resource %s nor the provider %s is a configured "
		         "peer's link: no BGP neighbor to steer through",
		         x->resource, x->provider);
		return -ENOENT;
	}
	rc = dst_prefixes(x->match, pfx, max_pfx, &n, why, whylen);
	if (!rc && !n && x->app[0]) {
		const struct cfg_app *app = cfg_find_app(cfg, x->app);

		for (size_t i = 0; app && i < app->match.n_dst && n < max_pfx; i++)
			pfx[n++] = app->match.dst[i];
	}
	if (rc || !n)
		return rc; /* 0 and no prefixes: nothing to steer */
	if (strlen(via->address.host) >= sizeof(out->via_address)) {
		snprintf(why, whylen, "[peer.%s] address is not an IP address: BGP needs one",
		         via->name);
		return -EINVAL;
	}
	memcpy(out->id, x->id, sizeof(out->id));
	snprintf(out->peer, sizeof(out->peer), "%s", x->provider);
	snprintf(out->via, sizeof(out->via), "%s", via->name);
	memcpy(out->via_address, via->address.host, strlen(via->address.host) + 1);
	out->prefixes = pfx;
	out->n_prefixes = n;
	out->rate_bps = x->quantity;
	/* Transit: the regions after `via`. A lease from a peer lists those after it (the
	 * peer is via); the local booking of a path's first hop lists via first. */
	for (const char *p = x->path; *p; p++)
		out->extra_hops += *p == ',';
	if (x->path[0] && strcmp(x->provider, cfg->region.name))
		out->extra_hops++;
	return 1;
}

/* ---- work ------------------------------------------------------------------------------------ */

static void note(struct frr_mod *m, enum op op, int rc)
{
	if (rc) {
		m->failed[op]++;
		snprintf(m->last_error, sizeof(m->last_error), "%s", frr_last_error(m->f));
	} else {
		m->ok[op]++;
	}
}

static void run_job(struct frr_mod *m, const struct frr_job *j)
{
	struct cfg_prefix pfx[FRR_MOD_MAX_PREFIXES];
	struct prov_lease pl;
	char why[512] = "", id[LEDGER_ID_STR];
	int rc;

	rc = frr_lease_from_ledger(tidald_cfg(m->d), &j->lease, &pl, pfx, FRR_MOD_MAX_PREFIXES, why,
	                           sizeof(why));
	if (rc < 0 && j->job == JOB_APPLY) {
		log_warn("frr: lease %s not steered: %s", ledger_id_fmt(j->lease.id, id), why);
		m->skipped++;
		return;
	}
	if (j->job == JOB_WITHDRAW) {
		/* withdraw goes by id alone: whatever FRR holds for it is removed */
		if (rc <= 0)
			memcpy(pl.id, j->lease.id, sizeof(pl.id));
		note(m, OP_WITHDRAW, frr_withdraw(m->f, &pl));
		return;
	}
	if (rc == 0)
		return;
	note(m, OP_APPLY, frr_apply(m->f, &pl));
}

static void on_work(evutil_socket_t fd, short what, void *arg)
{
	struct frr_mod *m = arg;
	struct frr_job *q = m->q;
	size_t n = m->n_q;

	(void)fd, (void)what;
	m->q = NULL;
	m->n_q = 0;
	for (size_t i = 0; i < n && m->f; i++)
		run_job(m, &q[i]);
	free(q);
}

struct collect {
	const struct tidal_cfg *cfg;
	struct prov_lease *v;
	struct cfg_prefix (*pfx)[FRR_MOD_MAX_PREFIXES];
	size_t n, cap;
	int rc;
};

static int collect_one(const struct ledger_lease *x, void *arg)
{
	struct collect *c = arg;
	char why[512] = "", id[LEDGER_ID_STR];
	int rc;

	if (x->state != LEDGER_ACTIVE)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct prov_lease *v = realloc(c->v, cap * sizeof(*v));
		struct cfg_prefix(*p)[FRR_MOD_MAX_PREFIXES] = NULL;

		if (v)
			c->v = v;
		p = v ? realloc(c->pfx, cap * sizeof(*p)) : NULL;
		if (!p) {
			c->rc = -ENOMEM;
			return 1;
		}
		c->pfx = p;
		c->cap = cap;
	}
	rc = frr_lease_from_ledger(c->cfg, x, &c->v[c->n], c->pfx[c->n], FRR_MOD_MAX_PREFIXES, why,
	                           sizeof(why));
	if (rc < 0)
		log_warn("frr: lease %s not steered: %s", ledger_id_fmt(x->id, id), why);
	if (rc > 0)
		c->n++;
	return 0;
}

static void on_resync(evutil_socket_t fd, short what, void *arg)
{
	struct frr_mod *m = arg;
	struct ledger *l = ledger_mod_get(m->d);
	struct collect c = {.cfg = tidald_cfg(m->d)};

	(void)fd, (void)what;
	if (!m->f)
		return;
	if (!l) {
		log_warn("frr: no ledger module: nothing to resync");
		return;
	}
	ledger_foreach(l, false, collect_one, &c);
	if (c.rc) {
		log_err("frr: out of memory collecting active leases; resync skipped");
	} else {
		for (size_t i = 0; i < c.n; i++)
			c.v[i].prefixes = c.pfx[i];
		note(m, OP_RESYNC, frr_resync(m->f, c.v, c.n));
	}
	free(c.v);
	free(c.pfx);
}

static void queue(struct frr_mod *m, enum job job, const struct ledger_lease *x)
{
	struct frr_job *q = realloc(m->q, (m->n_q + 1) * sizeof(*q));

	if (!q) {
		log_err("frr: out of memory queueing a lease change; the next resync repairs it");
		return;
	}
	m->q = q;
	q[m->n_q].job = job;
	q[m->n_q].lease = *x;
	m->n_q++;
	event_active(m->work, EV_TIMEOUT, 0);
}

/* ---- module ops -------------------------------------------------------------------------- */

static struct frr *open_provisioner(const struct tidal_cfg *cfg)
{
	struct frr_params p = {
	        .vtysh = cfg->frr.vtysh,
	        .pathspace = cfg->frr.pathspace,
	        .asn = cfg->region.asn,
	};

	return frr_open(&p);
}

static int frr_mod_start(struct tidald *d, void **state)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct frr_mod *m = calloc(1, sizeof(*m));
	struct timeval zero = {0, 0};

	if (!m)
		return -ENOMEM;
	m->d = d;
	*state = m;
	if (!cfg->frr.enabled) {
		log_info("frr: no [frr] section: leases are not steered in BGP");
		return 0;
	}
	m->f = open_provisioner(cfg);
	m->work = event_new(tidald_base(d), -1, 0, on_work, m);
	m->resync = evtimer_new(tidald_base(d), on_resync, m);
	if (!m->f || !m->work || !m->resync || event_add(m->resync, &zero) < 0) {
		log_err("frr: cannot start the FRR provisioner (see above)");
		if (m->work)
			event_free(m->work);
		if (m->resync)
			event_free(m->resync);
		frr_free(m->f);
		free(m);
		*state = NULL;
		return -EINVAL;
	}
	log_info("frr: steering leases through FRR (pathspace %s)",
	         cfg->frr.pathspace[0] ? cfg->frr.pathspace : "default");
	return 0;
}

static int frr_mod_reload(struct tidald *d, void *state, const struct tidal_cfg *old)
{
	struct frr_mod *m = state;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct timeval zero = {0, 0};
	struct frr *f;

	(void)old;
	if (!cfg->frr.enabled) {
		if (m->f)
			log_warn("frr: [frr] removed: leases stay steered in FRR until it is back "
			         "(or remove them by hand, docs/frr.md)");
		frr_free(m->f);
		m->f = NULL;
		return 0;
	}
	f = open_provisioner(cfg);
	if (!f)
		return -EINVAL;
	frr_free(m->f);
	m->f = f;
	if (!m->work)
		m->work = event_new(tidald_base(d), -1, 0, on_work, m);
	if (!m->resync)
		m->resync = evtimer_new(tidald_base(d), on_resync, m);
	if (!m->work || !m->resync || event_add(m->resync, &zero) < 0)
		return -ENOMEM;
	return 0;
}

static void frr_mod_stop(struct tidald *d, void *state)
{
	struct frr_mod *m = state;

	(void)d;
	if (!m)
		return;
	if (m->work)
		event_free(m->work);
	if (m->resync)
		event_free(m->resync);
	frr_free(m->f);
	free(m->q);
	free(m);
}

static void frr_mod_event(struct tidald *d, void *state, enum tidald_event ev, const void *data)
{
	struct frr_mod *m = state;
	const struct ledger_change *c = data;

	(void)d;
	if (ev != TIDALD_EV_LEASE_CHANGED || !m || !m->f || !c)
		return;
	if (c->lease.kind != LEDGER_KIND_BANDWIDTH)
		return;
	if (c->lease.state == LEDGER_ACTIVE)
		queue(m, JOB_APPLY, &c->lease);
	else if (!ledger_state_live(c->lease.state) && c->from == LEDGER_ACTIVE)
		queue(m, JOB_WITHDRAW, &c->lease);
}

static void frr_mod_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	struct frr_mod *m = state;

	(void)d;
	if (!m || !m->f)
		return;
	metrics_family(w, "tidal_frr_operations_total", METRICS_COUNTER,
	               "FRR provisioner operations (apply, withdraw, resync) by result");
	for (int op = 0; op < N_OPS; op++) {
		metrics_sample(w, (double)m->ok[op], "op", op_name[op], "result", "ok", NULL);
		metrics_sample(w, (double)m->failed[op], "op", op_name[op], "result", "error",
		               NULL);
	}
}

static void frr_mod_status(struct tidald *d, void *state, json_t *status)
{
	struct frr_mod *m = state;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	json_t *o;

	if (!m)
		return;
	o = json_pack("{s:b}", "enabled", m->f != NULL);
	if (m->f) {
		uint64_t failed =
		        m->failed[OP_APPLY] + m->failed[OP_WITHDRAW] + m->failed[OP_RESYNC];

		json_object_set_new(o, "pathspace", json_string(cfg->frr.pathspace));
		json_object_set_new(o, "applied", json_integer((json_int_t)m->ok[OP_APPLY]));
		json_object_set_new(o, "withdrawn", json_integer((json_int_t)m->ok[OP_WITHDRAW]));
		json_object_set_new(
		        o, "resyncs",
		        json_integer((json_int_t)(m->ok[OP_RESYNC] + m->failed[OP_RESYNC])));
		json_object_set_new(o, "failures", json_integer((json_int_t)failed));
		json_object_set_new(o, "last_error", json_string(m->last_error));
	}
	json_object_set_new(status, "frr", o);
}

const struct tidald_module_ops tidald_frr_module = {
        .name = "frr",
        .start = frr_mod_start,
        .reload = frr_mod_reload,
        .stop = frr_mod_stop,
        .metrics = frr_mod_metrics,
        .status = frr_mod_status,
        .event = frr_mod_event,
};

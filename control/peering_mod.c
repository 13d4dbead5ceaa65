/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peering_mod: the tidald module `peering` (docs/peering.md).
 *
 * Starts the lease service (peering_lease.c) from the config once the ledger module is up,
 * forwards the ledger's changes to it, emits TIDALD_EV_PEER_CHANGED, and serves the control
 * commands `show peers`, `lease request`, `lease release`, `show leases` and the metrics
 * tidal_peer_up and tidal_peer_messages_total. Owns the service; the ledger stays the
 * ledger module's. Never blocks: every session runs on tidald's event base.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "peering_mod.h"
#include "tidald.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct peering_mod {
	struct tidald *d;
	struct lease_svc *svc; /* NULL while peering could not start (see error) */
	char error[400];
};

struct lease_svc *peering_mod_get(struct tidald *d)
{
	struct peering_mod *m = tidald_module_state(d, "peering");
	return m ? m->svc : NULL;
}

static void on_peer(void *arg, const struct peering_peer_change *c)
{
	struct peering_mod *m = arg;
	if (m->d)
		tidald_emit(m->d, TIDALD_EV_PEER_CHANGED, c);
}

/* A region keeps running (its own bookings, enforcement, metrics) when its peering cannot
 * start, e.g. a certificate is missing: the reason shows in the log, `show peers` and
 * `lease request`, and the next reload tries again. */
static int try_start(struct peering_mod *m)
{
	struct tidald *d = m->d;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct lease_svc_params p = {
	        .base = tidald_base(d),
	        .ledger = ledger_mod_get(d),
	        .cfg = cfg,
	        .on_peer = on_peer,
	        .arg = m,
	};
	m->svc = lease_svc_new(&p);
	if (m->svc) {
		m->error[0] = '\0';
		return 0;
	}
	snprintf(m->error, sizeof(m->error),
	         "peering not running: certificate, key, CA or listen address in [peering] "
	         "refused (see the log); fix %s and reload",
	         cfg->path);
	log_err("%s", m->error);
	return -EINVAL;
}

/* ---- formatting ---------------------------------------------------------------------- */

static char *fmt_qty(enum ledger_kind k, uint64_t q, char *buf, size_t len)
{
	switch (k) {
	case LEDGER_KIND_BANDWIDTH:
		return cfg_fmt_bps(q, buf, len);
	case LEDGER_KIND_MEMORY:
	case LEDGER_KIND_STORAGE:
		return cfg_fmt_bytes(q, buf, len);
	default:
		snprintf(buf, len, "%" PRIu64, q);
		return buf;
	}
}

static char *fmt_age(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	return cfg_fmt_duration((uint64_t)secs * 1000, buf, len);
}

static json_t *lease_json(const struct ledger_lease *x, const char *region)
{
	char id[LEDGER_ID_STR], q[32], st[32], en[32];
	bool req = !strcmp(x->requester, region), prov = !strcmp(x->provider, region);
	const char *role = req && prov ? "local" : req ? "requester" : "provider";
	const char *peer = req && prov ? NULL : req ? x->provider : x->requester;
	static const uint8_t zero[LEDGER_ID_LEN];
	char parent[LEDGER_ID_STR];
	bool onward = memcmp(x->parent, zero, LEDGER_ID_LEN) != 0;
	if (onward)
		ledger_id_fmt(x->parent, parent);
	json_t *j =
	        json_pack("{s:s,s:s,s:s?,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:s,s:I,s:s,s:s?,s:I,"
	                  "s:I,s:s?,s:s?}",
	                  "id", ledger_id_fmt(x->id, id), "role", role, "peer", peer, "requester",
	                  x->requester, "provider", x->provider, "resource", x->resource, "kind",
	                  ledger_kind_name(x->kind), "quantity", (json_int_t)x->quantity,
	                  "quantity_text", fmt_qty(x->kind, x->quantity, q, sizeof(q)), "start",
	                  cfg_fmt_time(x->start, st, sizeof(st)), "start_s", (json_int_t)x->start,
	                  "end", cfg_fmt_time(x->end, en, sizeof(en)), "end_s", (json_int_t)x->end,
	                  "state", ledger_state_name(x->state), "reason",
	                  x->reason ? ledger_err_name(x->reason) : NULL, "setup_priority",
	                  (json_int_t)x->setup_prio, "hold_priority", (json_int_t)x->hold_prio,
	                  "app", x->app[0] ? x->app : NULL, "match", x->match[0] ? x->match : NULL);
	/* Transit: the regions after the provider, and for a lease this region asked of the
	 * next hop, the lease it carries on. */
	json_object_set_new(j, "path", x->path[0] ? json_string(x->path) : json_null());
	json_object_set_new(j, "carries", onward ? json_string(parent) : json_null());
	return j;
}

/* ---- show peers ---------------------------------------------------------------------- */

static enum ctl_status cmd_show_peers(struct tidald *d, void *arg, const struct ctl_request *req,
                                      struct ctl_reply *rep)
{
	struct peering_mod *m = arg;
	(void)req;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct peer_mgr *mgr = m->svc ? lease_svc_sessions(m->svc) : NULL;
	static const char *const cols[] = {"peer",        "address",      "link",
	                                   "state",       "uptime",       "hold time",
	                                   "messages in", "messages out", "last error"};
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	rep->data = json_array();
	int64_t now = tidald_now();
	for (size_t i = 0; !mgr && i < cfg->n_peers; i++) {
		const struct cfg_peer *pc = &cfg->peers[i];
		char addr[CFG_HOST_MAX + 16];
		cfg_fmt_hostport(&pc->address, addr, sizeof(addr));
		const char *row[] = {pc->name, addr, pc->link[0] ? pc->link : "-",
		                     "Idle",   "-",  "-",
		                     "0",      "0",  m->error};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));
		json_array_append_new(rep->data,
		                      json_pack("{s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:s}", "peer",
		                                pc->name, "address", addr, "link", pc->link,
		                                "state", "Idle", "up", 0, "uptime_s", (json_int_t)0,
		                                "hold_time_s", (json_int_t)0, "messages_in",
		                                (json_int_t)0, "messages_out", (json_int_t)0,
		                                "last_error", m->error));
	}
	for (size_t i = 0; mgr && i < peer_mgr_count(mgr); i++) {
		struct peer *p = peer_mgr_at(mgr, i);
		struct peer_stats st;
		peer_get_stats(p, &st);
		const struct cfg_peer *pc = cfg_find_peer(cfg, peer_name(p));
		char addr[CFG_HOST_MAX + 16] = "-", up[32] = "-", hold[32] = "-", in[24], out[24];
		if (pc)
			cfg_fmt_hostport(&pc->address, addr, sizeof(addr));
		bool est = peer_get_state(p) == PEER_ESTABLISHED;
		if (est) {
			fmt_age(now - st.established_at_s, up, sizeof(up));
			cfg_fmt_duration((uint64_t)st.hold_time_s * 1000, hold, sizeof(hold));
		}
		uint64_t nin = 0, nout = 0;
		json_t *types = json_object();
		for (unsigned t = 1; t <= PEER_MSG_TYPE_MAX; t++) {
			nin += st.msgs_in[t];
			nout += st.msgs_out[t];
			json_object_set_new(types, peer_msg_type_label(t),
			                    json_pack("{s:I,s:I}", "in", (json_int_t)st.msgs_in[t],
			                              "out", (json_int_t)st.msgs_out[t]));
		}
		snprintf(in, sizeof(in), "%" PRIu64, nin);
		snprintf(out, sizeof(out), "%" PRIu64, nout);
		const char *link = pc && pc->link[0] ? pc->link : "-";
		const char *row[] = {
		        peer_name(p), addr, link, peer_state_name(peer_get_state(p)),    up,
		        hold,         in,   out,  st.last_error[0] ? st.last_error : "-"};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));
		json_array_append_new(
		        rep->data,
		        json_pack("{s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:s?,s:o}", "peer",
		                  peer_name(p), "address", addr, "link", link, "state",
		                  peer_state_name(peer_get_state(p)), "up", est, "uptime_s",
		                  (json_int_t)(est ? now - st.established_at_s : 0), "hold_time_s",
		                  (json_int_t)(est ? st.hold_time_s : 0), "messages_in",
		                  (json_int_t)nin, "messages_out", (json_int_t)nout, "sessions",
		                  (json_int_t)st.established_count, "peer_instance",
		                  (json_int_t)(st.peer_instance & INT64_MAX), "last_error",
		                  st.last_error[0] ? st.last_error : NULL, "messages", types));
	}
	return CTL_OK;
}

/* ---- show capacity --------------------------------------------------------------------- */

struct cap_ctx {
	json_t *data, *table;
	size_t n;
};

static int cap_one(const struct peering_advert *a, void *arg)
{
	struct cap_ctx *c = arg;
	enum ledger_kind k = (enum ledger_kind)(a->resource - 1);
	char hop[PEER_NAME_MAX + 16], rec[32];
	if (a->resource == LEASE_RES_BANDWIDTH)
		snprintf(hop, sizeof(hop), "%s", a->transit ? a->name : "(to us)");
	else
		snprintf(hop, sizeof(hop), "%s", a->name[0] ? a->name : "(default pool)");
	cfg_fmt_time(a->received_s, rec, sizeof(rec));
	json_t *steps = json_array();
	for (size_t i = 0; i < a->n_steps; i++) {
		bool last = i + 1 == a->n_steps;
		char from[32], until[32], fr[32];
		cfg_fmt_time(a->steps[i].time_s, from, sizeof(from));
		if (last)
			snprintf(until, sizeof(until), "-");
		else
			cfg_fmt_time(a->steps[i + 1].time_s, until, sizeof(until));
		fmt_qty(k, a->steps[i].amount, fr, sizeof(fr));
		const char *row[] = {a->peer, lease_resource_name(a->resource), hop, from, until,
		                     fr};
		ctl_table_add(c->table, row, ARRAY_SIZE(row));
		json_array_append_new(
		        steps, json_pack("{s:s,s:I,s:s?,s:o,s:I}", "start", from, "start_s",
		                         (json_int_t)a->steps[i].time_s, "end", last ? NULL : until,
		                         "end_s",
		                         last ? json_null() : json_integer(a->steps[i + 1].time_s),
		                         "free", (json_int_t)a->steps[i].amount));
	}
	json_array_append_new(
	        c->data, json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:I,s:o}", "peer", a->peer, "resource",
	                           lease_resource_name(a->resource), "name", a->name, "transit",
	                           a->transit, "unit", ledger_kind_unit(k), "received", rec,
	                           "received_s", (json_int_t)a->received_s, "steps", steps));
	c->n++;
	return 0;
}

static enum ctl_status cmd_show_capacity(struct tidald *d, void *arg, const struct ctl_request *req,
                                         struct ctl_reply *rep)
{
	struct peering_mod *m = arg;
	const char *peer = ctl_arg(req, 0);
	if (!m->svc)
		return ctl_fail(rep, CTL_REFUSED, "%s", m->error);
	if (peer && !cfg_find_peer(tidald_cfg(d), peer))
		return ctl_fail(rep, CTL_NOT_FOUND, "no [peer.%s] in %s", peer,
		                tidald_cfg(d)->path);
	static const char *const cols[] = {"peer", "resource", "hop", "from", "until", "free"};
	struct cap_ctx c = {json_array(), ctl_table_new(cols, ARRAY_SIZE(cols)), 0};
	lease_svc_adverts(m->svc, peer, cap_one, &c);
	rep->data = c.data;
	rep->table = c.table;
	if (asprintf(&rep->text,
	             "unreserved capacity advertised by %s (bandwidth hop \"(to us)\": the "
	             "peer's link to this region; a region name: transit onward to it)",
	             peer ? peer : "every peer with a session") < 0)
		rep->text = NULL;
	return CTL_OK;
}

/* ---- leases -------------------------------------------------------------------------- */

struct list_ctx {
	json_t *data, *table;
	const char *region;
};

static int list_one(const struct ledger_lease *x, void *arg)
{
	struct list_ctx *c = arg;
	json_t *j = lease_json(x, c->region);
	const char *row[] = {
	        json_string_value(json_object_get(j, "id")),
	        json_string_value(json_object_get(j, "peer")),
	        json_string_value(json_object_get(j, "role")),
	        x->resource,
	        json_string_value(json_object_get(j, "quantity_text")),
	        json_string_value(json_object_get(j, "start")),
	        json_string_value(json_object_get(j, "end")),
	        ledger_state_name(x->state),
	        x->reason ? ledger_err_name(x->reason) : NULL,
	};
	ctl_table_add(c->table, row, ARRAY_SIZE(row));
	json_array_append_new(c->data, j);
	return 0;
}

static enum ctl_status cmd_show_leases(struct tidald *d, void *arg, const struct ctl_request *req,
                                       struct ctl_reply *rep)
{
	(void)arg;
	struct ledger *l = ledger_mod_get(d);
	if (!l)
		return ctl_fail(rep, CTL_INTERNAL, "the ledger is not running");
	static const char *const cols[] = {"id",    "peer", "role",  "resource", "quantity",
	                                   "start", "end",  "state", "reason"};
	struct list_ctx c = {json_array(), ctl_table_new(cols, ARRAY_SIZE(cols)),
	                     tidald_cfg(d)->region.name};
	ledger_foreach(l, ctl_opt(req, "all") != NULL, list_one, &c);
	rep->data = c.data;
	rep->table = c.table;
	return CTL_OK;
}

/* ---- waiting for a lease (docs/control.md, "Waiting") -------------------------------- */

#define WAIT_POLL_MS 100

/* Still on its way (checking, held, committing)? */
static bool lease_pending(const struct ledger_lease *x)
{
	return x->state == LEDGER_CHECKING || x->state == LEDGER_HELD ||
	       x->state == LEDGER_COMMITTING;
}

/* Reply for a lease someone waits on: the lease, and while it is pending a poll for
 * `show lease ID --wait`; once it ended without being reserved, a refusal saying why. */
static enum ctl_status wait_reply(const struct ledger_lease *x, const char *region,
                                  struct ctl_reply *rep)
{
	char id[LEDGER_ID_STR];
	ledger_id_fmt(x->id, id);
	if (lease_pending(x)) {
		rep->poll = json_pack("{s:s,s:[s],s:{s:b},s:i}", "cmd", "show lease", "args", id,
		                      "opts", "wait", 1, "after_ms", WAIT_POLL_MS);
		return CTL_OK;
	}
	if (!ledger_state_live(x->state)) {
		json_decref(rep->data);
		rep->data = NULL;
		free(rep->text);
		rep->text = NULL;
		return ctl_fail(rep, CTL_REFUSED, "lease %s %s (%s)%s", id,
		                ledger_state_name(x->state), ledger_err_name(x->reason),
		                !strcmp(x->requester, region) ? "" : " (this region provides it)");
	}
	return CTL_OK;
}

static enum ctl_status cmd_show_lease(struct tidald *d, void *arg, const struct ctl_request *req,
                                      struct ctl_reply *rep)
{
	(void)arg;
	struct ledger *l = ledger_mod_get(d);
	const char *ids = ctl_arg(req, 0);
	uint8_t id[LEDGER_ID_LEN];
	struct lease_id lid;
	struct ledger_lease x;
	if (!l)
		return ctl_fail(rep, CTL_INTERNAL, "the ledger is not running");
	if (!ids)
		return ctl_fail(rep, CTL_USAGE, "show lease needs a LEASE_ID");
	if (ledger_id_parse(ids, id) != 0) {
		if (lease_id_parse(ids, &lid) != 0)
			return ctl_fail(rep, CTL_USAGE, "'%s' is not a lease id (32 hex digits)",
			                ids);
		memcpy(id, lid.b, LEDGER_ID_LEN);
	}
	if (ledger_get(l, id, &x) != 0)
		return ctl_fail(rep, CTL_NOT_FOUND, "no lease %s", ids);
	const char *region = tidald_cfg(d)->region.name;
	rep->data = lease_json(&x, region);
	char q[32], st[32], en[32];
	if (asprintf(&rep->text, "lease %s: %s%s%s, %s of %s %s, %s .. %s%s%s", ids,
	             ledger_state_name(x.state), x.reason ? " " : "",
	             x.reason ? ledger_err_name(x.reason) : "",
	             fmt_qty(x.kind, x.quantity, q, sizeof(q)), x.resource,
	             !strcmp(x.requester, region) ? "leased" : "provided",
	             cfg_fmt_time(x.start, st, sizeof(st)), cfg_fmt_time(x.end, en, sizeof(en)),
	             x.path[0] ? ", via " : "", x.path) < 0)
		rep->text = NULL;
	if (ctl_opt(req, "wait"))
		return wait_reply(&x, region, rep);
	return CTL_OK;
}

static enum ctl_status cmd_lease_request(struct tidald *d, void *arg, const struct ctl_request *req,
                                         struct ctl_reply *rep)
{
	struct peering_mod *m = arg;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	const char *peer = ctl_opt(req, "peer"), *res = ctl_opt(req, "resource");
	const char *qty = ctl_opt(req, "quantity"), *start = ctl_opt(req, "start");
	const char *dur = ctl_opt(req, "duration"), *prio = ctl_opt(req, "priority");
	const char *app = ctl_opt(req, "app"), *pool = ctl_opt(req, "pool");
	const char *match = ctl_opt(req, "match"), *link = ctl_opt(req, "link");
	const char *path = ctl_opt(req, "path");
	const char *why = NULL;
	if (!m->svc)
		return ctl_fail(rep, CTL_REFUSED, "%s", m->error);
	if (!peer || !qty || !dur)
		return ctl_fail(rep, CTL_USAGE,
		                "lease request needs --peer NAME --quantity Q --duration D "
		                "[--resource bandwidth|vcpu|memory|storage] [--start T] "
		                "[--priority 0..7] [--app APP] [--pool POOL] [--match M]");
	const struct cfg_peer *pc = cfg_find_peer(cfg, peer);
	if (!pc)
		return ctl_fail(rep, CTL_NOT_FOUND, "no [peer.%s] in %s", peer, cfg->path);
	if (link && strcmp(link, pc->link))
		return ctl_fail(rep, CTL_USAGE, "--link %s: leases from %s use its link %s", link,
		                peer, pc->link[0] ? pc->link : "(none configured)");
	struct lease_svc_request r = {.peer = peer, .resource = LEASE_RES_BANDWIDTH};
	if (res) {
		int k = lease_resource_parse(res);
		if (k < 0)
			return ctl_fail(rep, CTL_USAGE,
			                "--resource %s: expected bandwidth, vcpu, "
			                "memory or storage",
			                res);
		r.resource = (enum lease_resource)k;
	}
	int rc;
	switch (r.resource) {
	case LEASE_RES_BANDWIDTH:
		rc = cfg_parse_bps(qty, &r.quantity, &why);
		break;
	case LEASE_RES_VCPU:
		rc = cfg_parse_uint(qty, 1, UINT32_MAX, &r.quantity, &why);
		break;
	default:
		rc = cfg_parse_bytes(qty, &r.quantity, &why);
		break;
	}
	if (rc || !r.quantity)
		return ctl_fail(rep, CTL_USAGE, "--quantity %s: %s", qty,
		                why ? why : "must be above zero");
	int64_t now = tidald_now();
	r.start_s = now;
	if (start && cfg_parse_time_rel(start, now, &r.start_s, &why))
		return ctl_fail(rep, CTL_USAGE, "--start %s: %s", start, why);
	uint64_t ms;
	if (cfg_parse_duration(dur, &ms, &why) || ms < 1000 || ms / 1000 > UINT32_MAX)
		return ctl_fail(rep, CTL_USAGE, "--duration %s: %s", dur,
		                why ? why : "must be at least 1s");
	r.duration_s = (uint32_t)(ms / 1000);
	unsigned p = LEASE_PRIORITY_DEFAULT;
	const struct cfg_app *ap = app ? cfg_find_app(cfg, app) : NULL;
	if (app && !ap)
		return ctl_fail(rep, CTL_NOT_FOUND, "no [app.%s] in %s", app, cfg->path);
	if (ap)
		p = ap->priority;
	if (prio) {
		uint64_t v;
		if (cfg_parse_uint(prio, 0, 7, &v, &why))
			return ctl_fail(rep, CTL_USAGE, "--priority %s: %s", prio, why);
		p = (unsigned)v;
	}
	r.setup_prio = r.hold_prio = (uint8_t)p;
	r.app = app;
	r.pool = pool;
	r.path = path;
	char mbuf[LEDGER_MATCH_MAX] = "";
	if (match) {
		r.match = match;
	} else if (ap) {
		if (cfg_fmt_match(&ap->match, mbuf, sizeof(mbuf)) >= sizeof(mbuf))
			return ctl_fail(rep, CTL_USAGE, "the match of [app.%s] is too long", app);
		r.match = mbuf;
	}
	struct ledger_lease x;
	char err[200];
	rc = lease_svc_request(m->svc, &r, &x, err, sizeof(err));
	if (rc)
		return ctl_fail(rep, rc == -ENOENT ? CTL_NOT_FOUND : CTL_REFUSED, "%s", err);
	/* The lease is written; an operator is told about it once it is durable too. */
	if (ledger_sync(ledger_mod_get(d)) < 0)
		return ctl_fail(rep, CTL_INTERNAL,
		                "lease %s recorded but the ledger could not "
		                "sync it to disk (see the log)",
		                ledger_id_fmt(x.id, err));
	rep->data = lease_json(&x, cfg->region.name);
	char id[LEDGER_ID_STR];
	if (asprintf(&rep->text, "lease %s requested from %s: %s", ledger_id_fmt(x.id, id), peer,
	             ledger_state_name(x.state)) < 0)
		rep->text = NULL;
	if (ctl_opt(req, "wait"))
		return wait_reply(&x, cfg->region.name, rep);
	return CTL_OK;
}

static enum ctl_status cmd_lease_release(struct tidald *d, void *arg, const struct ctl_request *req,
                                         struct ctl_reply *rep)
{
	struct peering_mod *m = arg;
	const char *ids = ctl_arg(req, 0);
	uint8_t id[LEDGER_ID_LEN];
	struct lease_id lid;
	if (!ids)
		return ctl_fail(rep, CTL_USAGE, "lease release needs a LEASE_ID");
	if (!m->svc)
		return ctl_fail(rep, CTL_REFUSED, "%s", m->error);
	if (ledger_id_parse(ids, id) != 0) {
		if (lease_id_parse(ids, &lid) != 0)
			return ctl_fail(rep, CTL_USAGE, "'%s' is not a lease id (32 hex digits)",
			                ids);
		memcpy(id, lid.b, LEDGER_ID_LEN);
	}
	struct ledger_lease x;
	char err[200];
	int rc = lease_svc_release(m->svc, id, &x, err, sizeof(err));
	if (rc == -ENOENT)
		return ctl_fail(rep, CTL_NOT_FOUND, "no lease %s", ids);
	if (rc)
		return ctl_fail(rep, CTL_REFUSED, "%s", err);
	if (ledger_sync(ledger_mod_get(d)) < 0)
		return ctl_fail(rep, CTL_INTERNAL,
		                "release of %s recorded but the ledger could "
		                "not sync it to disk (see the log)",
		                ids);
	rep->data = lease_json(&x, tidald_cfg(d)->region.name);
	if (asprintf(&rep->text, "lease %s: %s", ids, ledger_state_name(x.state)) < 0)
		rep->text = NULL;
	return CTL_OK;
}

/* ---- module ops ---------------------------------------------------------------------- */

static int peering_start(struct tidald *d, void **state)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	if (!cfg->peering.enabled) {
		log_info("peering: no [peering] section: not peering with other regions");
		*state = NULL;
		return 0;
	}
	struct ledger *l = ledger_mod_get(d);
	if (!l) {
		log_err("peering: the ledger module is not running; it must start before peering "
		        "(control/modules.c)");
		return -ENOENT;
	}
	struct peering_mod *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->d = d;
	try_start(m);
	ctl_register(d, "show peers", cmd_show_peers, m,
	             "peer, state, uptime, hold time, messages");
	ctl_register(d, "show leases", cmd_show_leases, m,
	             "id, peer, resource, quantity, start, end, state [--all]");
	ctl_register(d, "lease request", cmd_lease_request, m,
	             "--peer P --quantity Q --duration D [--resource R] [--start T] ...");
	ctl_register(d, "lease release", cmd_lease_release, m, "LEASE_ID");
	ctl_register(d, "show lease", cmd_show_lease, m,
	             "LEASE_ID [--wait]: one lease (--wait: until reserved or ended)");
	ctl_register(d, "show capacity", cmd_show_capacity, m,
	             "[PEER]: unreserved capacity peers advertise, over time");
	*state = m;
	return 0;
}

static int peering_reload(struct tidald *d, void *state, const struct tidal_cfg *old)
{
	(void)old;
	struct peering_mod *m = state;
	if (!m)
		return 0;
	if (!m->svc)
		return try_start(m);
	return lease_svc_reload(m->svc, tidald_cfg(d));
}

static void peering_stop(struct tidald *d, void *state)
{
	(void)d;
	struct peering_mod *m = state;
	if (!m)
		return;
	lease_svc_free(m->svc);
	free(m);
}

static void peering_event(struct tidald *d, void *state, enum tidald_event ev, const void *data)
{
	(void)d;
	struct peering_mod *m = state;
	if (m && m->svc && ev == TIDALD_EV_LEASE_CHANGED && data)
		lease_svc_on_change(m->svc, data);
}

static void peering_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	struct peering_mod *m = state;
	if (!m)
		return;
	struct peer_mgr *mgr = m->svc ? lease_svc_sessions(m->svc) : NULL;
	size_t n = mgr ? peer_mgr_count(mgr) : 0;
	metrics_family(w, "tidal_peer_up", METRICS_GAUGE,
	               "1 when the peering session with the peer region is established");
	for (size_t i = 0; !mgr && i < tidald_cfg(d)->n_peers; i++)
		metrics_sample(w, 0, "peer", tidald_cfg(d)->peers[i].name, NULL);
	for (size_t i = 0; i < n; i++) {
		struct peer *p = peer_mgr_at(mgr, i);
		metrics_sample(w, peer_get_state(p) == PEER_ESTABLISHED ? 1 : 0, "peer",
		               peer_name(p), NULL);
	}
	metrics_family(w, "tidal_peer_messages_total", METRICS_COUNTER,
	               "peering messages by peer, message type and direction");
	for (size_t i = 0; i < n; i++) {
		struct peer *p = peer_mgr_at(mgr, i);
		struct peer_stats st;
		peer_get_stats(p, &st);
		for (unsigned t = 1; t <= PEER_MSG_TYPE_MAX; t++) {
			metrics_sample(w, (double)st.msgs_in[t], "peer", peer_name(p), "type",
			               peer_msg_type_label(t), "dir", "in", NULL);
			metrics_sample(w, (double)st.msgs_out[t], "peer", peer_name(p), "type",
			               peer_msg_type_label(t), "dir", "out", NULL);
		}
	}
	metrics_family(w, "tidal_peer_sessions_total", METRICS_COUNTER,
	               "peering sessions that reached Established, by peer");
	for (size_t i = 0; i < n; i++) {
		struct peer *p = peer_mgr_at(mgr, i);
		struct peer_stats st;
		peer_get_stats(p, &st);
		metrics_sample(w, (double)st.established_count, "peer", peer_name(p), NULL);
	}
}

static void peering_status(struct tidald *d, void *state, json_t *status)
{
	(void)d;
	struct peering_mod *m = state;
	if (!m)
		return;
	struct peer_mgr *mgr = m->svc ? lease_svc_sessions(m->svc) : NULL;
	size_t n = mgr ? peer_mgr_count(mgr) : 0, up = 0;
	for (size_t i = 0; i < n; i++)
		up += peer_get_state(peer_mgr_at(mgr, i)) == PEER_ESTABLISHED;
	json_object_set_new(status, "peering",
	                    json_pack("{s:b,s:I,s:I,s:I,s:s?}", "running", m->svc != NULL, "peers",
	                              (json_int_t)n, "established", (json_int_t)up, "port",
	                              (json_int_t)(mgr ? peer_mgr_port(mgr) : 0), "error",
	                              m->svc ? NULL : m->error));
}

const struct tidald_module_ops tidald_peering_module = {
        .name = "peering",
        .start = peering_start,
        .reload = peering_reload,
        .stop = peering_stop,
        .metrics = peering_metrics,
        .status = peering_status,
        .event = peering_event,
};

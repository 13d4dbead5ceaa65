/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status: the core's own module. Serves `show status`, `show links`, `show apps`,
 * `reload`, a configured-peers view for `show peers` until a peering module provides the
 * real one, and the core metrics (build info, start time, config-derived link gauges,
 * reload counters). Reads the running config only; owns nothing but its registration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "core_priv.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* An app's match for `show apps`: "any" when it matches everything. */
static char *fmt_match(const struct cfg_match *m, char *buf, size_t len)
{
	cfg_fmt_match(m, buf, len);
	if (!buf[0])
		snprintf(buf, len, "any");
	return buf;
}

static enum ctl_status cmd_status(struct tidald *d, void *arg, const struct ctl_request *req,
				  struct ctl_reply *rep)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	char started[32], up[48];
	int64_t now = tidald_now();
	int64_t uptime = now - tidald_started_at(d);
	(void)arg, (void)req;
	if (uptime < 0)
		uptime = 0; /* the wall clock stepped back since start */

	cfg_fmt_time(tidald_started_at(d), started, sizeof(started));
	cfg_fmt_duration((uint64_t)uptime * 1000, up, sizeof(up));
	const char *frr = cfg->frr.enabled ? "frr" : "off";
	json_t *backends = json_pack("{s:s,s:s,s:s}", "dataplane",
				     cfg_backend_name(cfg->dataplane.backend), "routing", frr,
				     "peering", cfg->peering.enabled ? "tls" : "off");
	json_t *o = json_pack(
		"{s:s,s:I,s:s,s:I,s:s,s:s,s:I,s:s,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "region",
		cfg->region.name, "asn", (json_int_t)cfg->region.asn, "version", TIDAL_VERSION,
		"pid", (json_int_t)getpid(), "config", cfg->path, "started_at", started,
		"uptime_s", (json_int_t)uptime, "uptime", up, "backends", backends, "modules",
		tidald_module_names(d), "configured", "peers", (json_int_t)cfg->n_peers, "links",
		(json_int_t)cfg->n_links, "apps", (json_int_t)cfg->n_apps, "pools",
		(json_int_t)cfg->n_pools, "events", (json_int_t)cfg->n_events);
	tidald_collect_status(d, o);

	static const char *const cols[] = {"field", "value"};
	rep->table = ctl_table_new(cols, 2);
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		char *s;
		if (json_is_string(v))
			s = strdup(json_string_value(v));
		else
			s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		const char *row[] = {k, s};
		ctl_table_add(rep->table, row, 2);
		free(s);
	}
	rep->data = o;
	return CTL_OK;
}

/* Bandwidth booked on a link now, from the ledger (0 when no ledger runs). */
static uint64_t link_reserved_bps(struct tidald *d, const struct cfg_link *l)
{
	struct ledger *lg = ledger_mod_get(d);
	struct ledger_resource_info info;
	if (!lg)
		return 0;
	int i = ledger_resource_find(lg, l->name);
	if (i < 0 || ledger_resource_info(lg, (size_t)i, tidald_now(), &info) < 0)
		return 0;
	return info.booked_now;
}

static enum ctl_status cmd_links(struct tidald *d, void *arg, const struct ctl_request *req,
				 struct ctl_reply *rep)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	(void)arg, (void)req;
	static const char *const cols[] = {"link",	 "interface", "capacity",
					   "reservable", "reserved",  "utilisation"};
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	rep->data = json_array();
	for (size_t i = 0; i < cfg->n_links; i++) {
		const struct cfg_link *l = &cfg->links[i];
		uint64_t reserved = link_reserved_bps(d, l);
		char cap[32], res[32], rsv[32], util[32];
		cfg_fmt_bps(l->capacity_bps, cap, sizeof(cap));
		cfg_fmt_bps(l->reservable_bps, res, sizeof(res));
		cfg_fmt_bps_human((double)reserved, rsv, sizeof(rsv));
		snprintf(util, sizeof(util), "%.1f%%",
			 l->reservable_bps ? 100.0 * (double)reserved / (double)l->reservable_bps
					   : 0.0);
		const char *row[] = {l->name, l->interface[0] ? l->interface : "-", cap, res, rsv,
				     util};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));
		json_array_append_new(
			rep->data,
			json_pack("{s:s,s:s?,s:I,s:I,s:I,s:f}", "link", l->name, "interface",
				  l->interface[0] ? l->interface : NULL, "capacity_bps",
				  (json_int_t)l->capacity_bps, "reservable_bps",
				  (json_int_t)l->reservable_bps, "reserved_bps",
				  (json_int_t)reserved, "reserved_fraction",
				  l->reservable_bps ? (double)reserved / (double)l->reservable_bps
						    : 0.0));
	}
	return CTL_OK;
}

static enum ctl_status cmd_apps(struct tidald *d, void *arg, const struct ctl_request *req,
				struct ctl_reply *rep)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	(void)arg, (void)req;
	static const char *const cols[] = {"app", "priority", "slo",   "headroom", "min", "max",
					   "match", "demand", "need", "reserved"};
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	rep->data = json_array();
	for (size_t i = 0; i < cfg->n_apps; i++) {
		const struct cfg_app *a = &cfg->apps[i];
		char prio[8], slo[16], head[16], mn[32], mx[32], match[512];
		snprintf(prio, sizeof(prio), "%u", a->priority);
		snprintf(slo, sizeof(slo), "p%g", a->slo_quantile * 100);
		snprintf(head, sizeof(head), "%g%%", a->headroom * 100);
		cfg_fmt_bps(a->min_rate_bps, mn, sizeof(mn));
		if (a->max_rate_bps)
			cfg_fmt_bps(a->max_rate_bps, mx, sizeof(mx));
		else
			snprintf(mx, sizeof(mx), "none");
		fmt_match(&a->match, match, sizeof(match));
		/* Demand, forecast need and reserved rate come from the allocation controller. */
		struct alloc_app_view v;
		bool have = alloc_app_view(d, a->name, &v) == 0;
		char dem[32] = "-", need[32] = "-", rsv[32] = "-";
		if (have && v.demand >= 0)
			cfg_fmt_bps_human(v.demand, dem, sizeof(dem));
		if (have && v.need >= 0)
			cfg_fmt_bps_human(v.need, need, sizeof(need));
		if (have)
			cfg_fmt_bps_human(v.reserved, rsv, sizeof(rsv));
		const char *row[] = {a->name, prio, slo, head, mn, mx, match, dem, need, rsv};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));
		json_t *o = json_pack("{s:s,s:i,s:f,s:f,s:I,s:I,s:s}", "app", a->name, "priority",
				      (int)a->priority, "slo_quantile", a->slo_quantile, "headroom",
				      a->headroom, "min_rate_bps", (json_int_t)a->min_rate_bps,
				      "max_rate_bps", (json_int_t)a->max_rate_bps, "match", match);
		json_object_set_new(o, "demand_bps",
				    have && v.demand >= 0 ? json_real(v.demand) : json_null());
		json_object_set_new(o, "need_bps",
				    have && v.need >= 0 ? json_real(v.need) : json_null());
		json_object_set_new(o, "reserved_bps", have ? json_real(v.reserved) : json_null());
		json_array_append_new(rep->data, o);
	}
	return CTL_OK;
}

static enum ctl_status cmd_peers_configured(struct tidald *d, void *arg,
					    const struct ctl_request *req, struct ctl_reply *rep)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	(void)arg, (void)req;
	static const char *const cols[] = {"peer", "address", "link", "state",
					   "uptime", "hold time", "messages"};
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	rep->data = json_array();
	char hold[32];
	cfg_fmt_duration(cfg->peering.hold_time_ms, hold, sizeof(hold));
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct cfg_peer *p = &cfg->peers[i];
		char addr[300];
		cfg_fmt_hostport(&p->address, addr, sizeof(addr));
		const char *row[] = {p->name, addr, p->link, "idle", "-", hold, "0"};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));
		json_array_append_new(
			rep->data, json_pack("{s:s,s:s,s:s,s:s,s:n,s:I,s:I}", "peer", p->name,
					     "address", addr, "link", p->link, "state", "idle",
					     "uptime_s", "hold_time_s",
					     (json_int_t)(cfg->peering.hold_time_ms / 1000),
					     "messages", (json_int_t)0));
	}
	return CTL_OK;
}

static enum ctl_status cmd_reload(struct tidald *d, void *arg, const struct ctl_request *req,
				  struct ctl_reply *rep)
{
	json_t *errors = NULL;
	(void)arg, (void)req;
	int rc = tidald_reload(d, &errors);
	if (rc == 0) {
		rep->data = json_pack("{s:b,s:s}", "reloaded", 1, "config", tidald_cfg(d)->path);
		if (asprintf(&rep->text, "configuration reloaded from %s", tidald_cfg(d)->path) < 0)
			rep->text = NULL;
		json_decref(errors);
		return CTL_OK;
	}
	/* Every message on its own line, as `tidald -n` prints them. */
	size_t len = 0;
	char *msg = NULL;
	FILE *f = open_memstream(&msg, &len);
	fprintf(f, "reload refused, the running configuration stays:");
	size_t i;
	json_t *e;
	json_array_foreach(errors, i, e) fprintf(f, "\n%s", json_string_value(e));
	fclose(f);
	json_decref(errors);
	ctl_fail(rep, rc == -EINVAL ? CTL_REFUSED : CTL_INTERNAL, "%s", msg);
	free(msg);
	return rc == -EINVAL ? CTL_REFUSED : CTL_INTERNAL;
}

static int status_start(struct tidald *d, void **state)
{
	*state = NULL;
	ctl_register(d, "show status", cmd_status, NULL, "region, uptime, version, backends");
	ctl_register(d, "show links", cmd_links, NULL,
		     "capacity, reservable, reserved, utilisation per link");
	ctl_register(d, "show apps", cmd_apps, NULL,
		     "priority, SLO, match, demand, forecast need and reserved rate per app");
	ctl_register(d, "reload", cmd_reload, NULL, "re-read the configuration file");
	return 0;
}

void tidald_status_register_fallbacks(struct tidald *d)
{
	/* -EEXIST when a peering module serves the real sessions: keep that one. */
	ctl_register(d, "show peers", cmd_peers_configured, NULL,
		     "peer, state, uptime, hold time, messages");
}

static void status_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	(void)state;
	metrics_family(w, "tidal_build_info", METRICS_GAUGE, "tidald build; always 1");
	metrics_sample(w, 1, "version", TIDAL_VERSION, "region", cfg->region.name, NULL);
	metrics_family(w, "process_start_time_seconds", METRICS_GAUGE,
		       "start time of the process since the epoch, in seconds");
	metrics_sample(w, (double)tidald_started_at(d), NULL);
	metrics_family(w, "tidal_config_reloads_total", METRICS_COUNTER,
		       "configuration reloads by result");
	metrics_sample(w, tidald_reload_count(d, true), "result", "ok", NULL);
	metrics_sample(w, tidald_reload_count(d, false), "result", "refused", NULL);
	metrics_family(w, "tidal_link_capacity_bps", METRICS_GAUGE,
		       "configured link capacity in bits per second");
	for (size_t i = 0; i < cfg->n_links; i++)
		metrics_sample(w, (double)cfg->links[i].capacity_bps, "link", cfg->links[i].name,
			       NULL);
	metrics_family(w, "tidal_link_reservable_bps", METRICS_GAUGE,
		       "part of the link capacity tidal may reserve, in bits per second");
	for (size_t i = 0; i < cfg->n_links; i++)
		metrics_sample(w, (double)cfg->links[i].reservable_bps, "link",
			       cfg->links[i].name, NULL);
	metrics_family(w, "tidal_link_reserved_bps", METRICS_GAUGE,
		       "capacity reserved on the link now, in bits per second");
	for (size_t i = 0; i < cfg->n_links; i++)
		metrics_sample(w, (double)link_reserved_bps(d, &cfg->links[i]), "link",
			       cfg->links[i].name, NULL);
}

const struct tidald_module_ops tidald_status_module = {
	.name = "core",
	.start = status_start,
	.metrics = status_metrics,
};

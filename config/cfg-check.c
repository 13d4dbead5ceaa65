/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-check: the checks that span keys and sections — references between sections
 * (a peer's link, an event's apps), limits that depend on other keys (reservable vs
 * capacity, bucket vs sample interval, horizon), and the mistakes an engineer makes when
 * copying sections around (two peers on one address, one interface on two links, an app
 * whose match repeats another's). Each message points at the line to change.
 *
 * Owns nothing. Runs after every key is parsed; skips keys that were already rejected so
 * that one mistake yields one message.
 */
#include "cfg-int.h"
#include "units-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HORIZON_MAX_MS (72ULL * 3600 * 1000)

/* Report at the line of elem's key (its section line when the key is not in the file). */
static void __attribute__((format(printf, 5, 6)))
err_key(struct cfg_ld *ld, const void *elem, const char *secname, const char *key,
	const char *fmt, ...)
{
	char where[CFG_NAME_MAX + 64], msg[900];
	const struct cfg_inst *in = cfg_inst_of(ld, elem);
	const struct cfg_key *k = in && key ? cfg_schema_key(in->schema, key) : NULL;
	unsigned line = cfg_key_line(ld, elem, key);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a key that is not in the file is reported on its section */
	if (key && (!k || in->key_line[k - in->schema->keys]))
		snprintf(where, sizeof(where), "%s.%s", secname, key);
	else
		snprintf(where, sizeof(where), "%s", secname);
	cfg_err(ld, line ? line : 1, where, "%s", msg);
}

static void secname(char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, "%s.%s", kind, name);
}

static const char *suggest_name(const char *word, const void *arr, size_t n, size_t stride,
				size_t name_off)
{
	const char *cands[256];
	size_t m = n < 256 ? n : 256;

	for (size_t i = 0; i < m; i++)
		cands[i] = (const char *)arr + i * stride + name_off;
	return cfg_suggest(word, cands, m);
}

static bool hosts_overlap(const char *a, const char *b)
{
	bool wa = !strcmp(a, "0.0.0.0") || !strcmp(a, "::");
	bool wb = !strcmp(b, "0.0.0.0") || !strcmp(b, "::");
	return wa || wb || !strcasecmp(a, b);
}

static bool is_wildcard(const char *h)
{
	return !strcmp(h, "0.0.0.0") || !strcmp(h, "::");
}

/* ---- region, control, peering ------------------------------------------------------- */

static void check_region(struct cfg_ld *ld)
{
	struct cfg_region *r = &ld->cfg->region;

	if (!cfg_key_ok(ld, r, "asn"))
		return;
	if (r->asn == 23456)
		err_key(ld, r, "region", "asn",
			"AS 23456 is AS_TRANS (RFC 6793), not an AS a region can use");
	else if (r->asn == 65535)
		err_key(ld, r, "region", "asn", "AS 65535 is reserved (RFC 7300)");
}

static void check_control(struct cfg_ld *ld)
{
	struct tidal_cfg *c = ld->cfg;
	struct cfg_control *ctl = &c->control;
	struct cfg_peering *p = &c->peering;

	if (c->dataplane.backend == CFG_BACKEND_DPDK &&
	    !strcmp(ctl->socket, c->dataplane.dpdk_socket))
		err_key(ld, ctl, "control", "socket",
			"the control socket and [dataplane] dpdk_socket are the same path");
	if (p->enabled && ctl->metrics_listen.port && cfg_key_ok(ld, p, "listen") &&
	    cfg_key_ok(ld, ctl, "metrics_listen") &&
	    ctl->metrics_listen.port == p->listen.port &&
	    hosts_overlap(ctl->metrics_listen.host, p->listen.host))
		err_key(ld, p, "peering", "listen",
			"port %u is also [control] metrics_listen's port; give each its own",
			p->listen.port);
}

static void check_peering(struct cfg_ld *ld)
{
	struct tidal_cfg *c = ld->cfg;
	struct cfg_peering *p = &c->peering;
	uint64_t ht = p->hold_time_ms;

	if (!p->enabled) {
		char sec[CFG_NAME_MAX + 8];
		if (c->n_peers) {
			secname(sec, sizeof(sec), "peer", c->peers[0].name);
			err_key(ld, &c->peers[0], sec, NULL,
				"peers need a [peering] section (listen, certificate, private_key, "
				"ca) to reach them");
		}
		return;
	}
	if (cfg_key_ok(ld, p, "listen") && p->listen.port == 0)
		err_key(ld, p, "peering", "listen",
			"port 0: peers need a fixed port to connect to (7179 is the usual one)");
	if (cfg_key_ok(ld, p, "hold_time")) {
		if (ht % 1000)
			err_key(ld, p, "peering", "hold_time",
				"a hold time is a whole number of seconds, as in BGP");
		else if (ht > 0 && ht < 3000)
			err_key(ld, p, "peering", "hold_time",
				"a hold time is 0 (no keepalives) or at least 3s, as in BGP "
				"(RFC 4271)");
	}
}

/* ---- links and peers ---------------------------------------------------------------- */

static void check_links(struct cfg_ld *ld)
{
	struct tidal_cfg *c = ld->cfg;
	char sec[CFG_NAME_MAX + 8], a[32], b[32];

	for (size_t i = 0; i < c->n_links; i++) {
		struct cfg_link *l = &c->links[i];
		const struct cfg_inst *in = cfg_inst_of(ld, l);
		const struct cfg_key *rk = cfg_schema_key(in->schema, "reservable");

		secname(sec, sizeof(sec), "link", l->name);
		if (!in->key_line[rk - in->schema->keys])
			l->reservable_bps = l->capacity_bps;
		else if (cfg_key_ok(ld, l, "reservable") && cfg_key_ok(ld, l, "capacity") &&
			 l->reservable_bps > l->capacity_bps)
			err_key(ld, l, sec, "reservable",
				"%s is more than the link's capacity (%s)",
				cfg_fmt_bps(l->reservable_bps, a, sizeof(a)),
				cfg_fmt_bps(l->capacity_bps, b, sizeof(b)));
		if (!l->interface[0])
			continue;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(c->links[j].interface, l->interface)) {
				err_key(ld, l, sec, "interface",
					"interface %s is already the interface of [link.%s] "
					"(line %u)",
					l->interface, c->links[j].name,
					cfg_key_line(ld, &c->links[j], "interface"));
				break;
			}
		}
		struct cfg_dataplane *dp = &c->dataplane;
		if (dp->backend == CFG_BACKEND_BPF && dp->n_interfaces) {
			size_t k;
			for (k = 0; k < dp->n_interfaces; k++)
				if (!strcmp(dp->interfaces[k], l->interface))
					break;
			if (k == dp->n_interfaces)
				err_key(ld, l, sec, "interface",
					"%s is not in [dataplane] interfaces, so the link's "
					"traffic would not be counted",
					l->interface);
		}
	}
}

static void check_peers(struct cfg_ld *ld)
{
	struct tidal_cfg *c = ld->cfg;
	char sec[CFG_NAME_MAX + 8], hp[CFG_HOST_MAX + 16];

	for (size_t i = 0; i < c->n_peers; i++) {
		struct cfg_peer *p = &c->peers[i];
		secname(sec, sizeof(sec), "peer", p->name);
		if (c->region.name[0] && !strcmp(p->name, c->region.name))
			err_key(ld, p, sec, NULL,
				"[peer.%s] names this region itself ([region] name = %s)", p->name,
				c->region.name);
		if (cfg_key_ok(ld, p, "link")) {
			const struct cfg_link *l = cfg_find_link(c, p->link);
			if (l) {
				p->link_index = (size_t)(l - c->links);
			} else {
				const char *s = suggest_name(p->link, c->links, c->n_links,
							     sizeof(*c->links),
							     offsetof(struct cfg_link, name));
				if (s)
					err_key(ld, p, sec, "link",
						"no [link.%s] section; did you mean '%s'?", p->link,
						s);
				else
					err_key(ld, p, sec, "link",
						"no [link.%s] section: add it with the link's "
						"capacity",
						p->link);
			}
		}
		if (!cfg_key_ok(ld, p, "address"))
			continue;
		cfg_fmt_hostport(&p->address, hp, sizeof(hp));
		if (p->address.port == 0)
			err_key(ld, p, sec, "address",
				"port 0: give the port the peer listens on (7179 is the usual "
				"one)");
		else if (is_wildcard(p->address.host))
			err_key(ld, p, sec, "address",
				"%s is a listening wildcard, not an address to connect to",
				p->address.host);
		else if (c->peering.enabled &&
			 !strcasecmp(p->address.host, c->peering.listen.host) &&
			 p->address.port == c->peering.listen.port)
			err_key(ld, p, sec, "address",
				"%s is this region's own [peering] listen address", hp);
		for (size_t j = 0; j < i; j++) {
			const struct cfg_peer *q = &c->peers[j];
			if (!strcasecmp(q->address.host, p->address.host) &&
			    q->address.port == p->address.port) {
				err_key(ld, p, sec, "address",
					"%s is also the address of [peer.%s] (line %u)", hp,
					q->name, cfg_key_line(ld, q, "address"));
				break;
			}
		}
	}
}

/* ---- apps, pools, events ------------------------------------------------------------ */

static bool prefixes_same(const struct cfg_prefix *a, size_t na, const struct cfg_prefix *b,
			  size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t j;
		for (j = 0; j < nb; j++)
			if (a[i].family == b[j].family && a[i].len == b[j].len &&
			    !memcmp(a[i].addr, b[j].addr, 16))
				break;
		if (j == nb)
			return false;
	}
	return true;
}

static bool match_same(const struct cfg_match *a, const struct cfg_match *b)
{
	if (!prefixes_same(a->dst, a->n_dst, b->dst, b->n_dst) ||
	    !prefixes_same(a->src, a->n_src, b->src, b->n_src) || a->n_dscp != b->n_dscp)
		return false;
	for (size_t i = 0; i < a->n_dscp; i++)
		if (!memchr(b->dscp, a->dscp[i], b->n_dscp))
			return false;
	return true;
}

static void check_apps(struct cfg_ld *ld)
{
	struct tidal_cfg *c = ld->cfg;
	struct cfg_forecast *f = &c->forecast;
	char sec[CFG_NAME_MAX + 8], a[32], b[32], list[400];
	bool q_ok = cfg_key_ok(ld, f, "quantiles");

	list[0] = '\0';
	for (size_t k = 0, off = 0; k < f->n_quantiles && off < sizeof(list); k++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", k ? ", " : "",
					units_fmt_double(f->quantiles[k], a, sizeof(a)));
	for (size_t i = 0; i < c->n_apps; i++) {
		struct cfg_app *p = &c->apps[i];
		secname(sec, sizeof(sec), "app", p->name);
		if (p->max_rate_bps && p->min_rate_bps > p->max_rate_bps &&
		    cfg_key_ok(ld, p, "min_rate") && cfg_key_ok(ld, p, "max_rate"))
			err_key(ld, p, sec, "min_rate", "min_rate %s is above max_rate %s",
				cfg_fmt_bps(p->min_rate_bps, a, sizeof(a)),
				cfg_fmt_bps(p->max_rate_bps, b, sizeof(b)));
		if (q_ok && cfg_key_ok(ld, p, "slo_quantile")) {
			size_t k;
			for (k = 0; k < f->n_quantiles; k++)
				if (f->quantiles[k] == p->slo_quantile)
					break;
			if (k == f->n_quantiles && cfg_key_line(ld, p, "slo_quantile") !=
							   cfg_key_line(ld, p, NULL))
				err_key(ld, p, sec, "slo_quantile",
					"%s is not among [forecast] quantiles (%s); add it there",
					units_fmt_double(p->slo_quantile, a, sizeof(a)), list);
			else if (k == f->n_quantiles)
				err_key(ld, p, sec, "slo_quantile",
					"the default slo_quantile %s is not among [forecast] "
					"quantiles (%s); set slo_quantile or add %s there",
					a, list, units_fmt_double(p->slo_quantile, a, sizeof(a)));
		}
		if (p->peer[0] && cfg_key_ok(ld, p, "peer") && !cfg_find_peer(c, p->peer)) {
			const char *s = suggest_name(p->peer, c->peers, c->n_peers,
						     sizeof(*c->peers), offsetof(struct cfg_peer, name));
			if (s)
				err_key(ld, p, sec, "peer", "no [peer.%s] section; did you mean '%s'?",
					p->peer, s);
			else
				err_key(ld, p, sec, "peer", "no [peer.%s] section", p->peer);
		}
		if (!cfg_key_ok(ld, p, "match"))
			continue;
		for (size_t j = 0; j < i; j++) {
			if (cfg_key_ok(ld, &c->apps[j], "match") &&
			    match_same(&c->apps[j].match, &p->match)) {
				err_key(ld, p, sec, "match",
					"same match as [app.%s] (line %u): a packet belongs to one "
					"app only",
					c->apps[j].name, cfg_key_line(ld, &c->apps[j], "match"));
				break;
			}
		}
	}
}

static void check_pools(struct cfg_ld *ld)
{
	struct tidal_cfg *c = ld->cfg;
	char sec[CFG_NAME_MAX + 8];

	for (size_t i = 0; i < c->n_pools; i++) {
		struct cfg_pool *p = &c->pools[i];
		secname(sec, sizeof(sec), "pool", p->name);
		if (!p->vcpu && !p->memory_bytes && !p->storage_bytes &&
		    cfg_key_ok(ld, p, "vcpu") && cfg_key_ok(ld, p, "memory") &&
		    cfg_key_ok(ld, p, "storage"))
			err_key(ld, p, sec, NULL,
				"the pool offers nothing: set vcpu, memory or storage");
	}
}

static void check_events(struct cfg_ld *ld)
{
	struct tidal_cfg *c = ld->cfg;
	char sec[CFG_NAME_MAX + 8], a[40], b[40];

	for (size_t i = 0; i < c->n_events; i++) {
		struct cfg_event *e = &c->events[i];
		secname(sec, sizeof(sec), "event", e->name);
		if (cfg_key_ok(ld, e, "start") && cfg_key_ok(ld, e, "end") &&
		    e->end_s <= e->start_s)
			err_key(ld, e, sec, "end", "end %s is not after start %s",
				cfg_fmt_time(e->end_s, a, sizeof(a)),
				cfg_fmt_time(e->start_s, b, sizeof(b)));
		for (size_t k = 0; k < e->n_apps; k++) {
			if (cfg_find_app(c, e->apps[k]))
				continue;
			const char *s =
				suggest_name(e->apps[k], c->apps, c->n_apps, sizeof(*c->apps),
					     offsetof(struct cfg_app, name));
			if (s)
				err_key(ld, e, sec, "apps",
					"no [app.%s] section; did you mean '%s'?", e->apps[k], s);
			else
				err_key(ld, e, sec, "apps", "no [app.%s] section", e->apps[k]);
		}
	}
}

/* ---- forecast, dataplane ------------------------------------------------------------ */

static void check_forecast(struct cfg_ld *ld)
{
	struct cfg_forecast *f = &ld->cfg->forecast;
	char a[32], b[32];
	bool si_ok = cfg_key_ok(ld, f, "sample_interval"), b_ok = cfg_key_ok(ld, f, "bucket");

	if (si_ok && b_ok && f->sample_interval_ms && f->bucket_ms % f->sample_interval_ms)
		err_key(ld, f, "forecast", "bucket",
			"bucket %s is not a whole number of sample intervals (%s)",
			cfg_fmt_duration(f->bucket_ms, a, sizeof(a)),
			cfg_fmt_duration(f->sample_interval_ms, b, sizeof(b)));
	if (!b_ok || !f->bucket_ms)
		return;
	if (cfg_key_ok(ld, f, "period") && f->period_ms < f->bucket_ms) {
		const struct cfg_inst *in = cfg_inst_of(ld, f);
		const struct cfg_key *k = in ? cfg_schema_key(in->schema, "period") : NULL;
		if (k && in->key_line[k - in->schema->keys])
			err_key(ld, f, "forecast", "period",
				"period %s is shorter than the bucket (%s): forecasts cannot "
				"change faster than their buckets fill",
				cfg_fmt_duration(f->period_ms, a, sizeof(a)),
				cfg_fmt_duration(f->bucket_ms, b, sizeof(b)));
		else
			f->period_ms = f->bucket_ms;
	}
	if (cfg_key_ok(ld, f, "horizon")) {
		if (f->horizon_ms % f->bucket_ms)
			err_key(ld, f, "forecast", "horizon",
				"horizon %s is not a whole number of buckets (%s)",
				cfg_fmt_duration(f->horizon_ms, a, sizeof(a)),
				cfg_fmt_duration(f->bucket_ms, b, sizeof(b)));
		else if (f->horizon_ms > HORIZON_MAX_MS && !f->allow_long_horizon &&
			 cfg_key_ok(ld, f, "allow_long_horizon"))
			err_key(ld, f, "forecast", "horizon",
				"horizon %s is beyond 72h; forecasts that far out are rarely "
				"useful (set allow_long_horizon = yes if you mean it)",
				cfg_fmt_duration(f->horizon_ms, a, sizeof(a)));
	}
	if (!cfg_key_ok(ld, f, "seasons"))
		return;
	for (size_t i = 0; i < f->n_seasons; i++) {
		uint64_t s = f->seasons_ms[i];
		if (s % f->bucket_ms)
			err_key(ld, f, "forecast", "seasons",
				"season %s is not a whole number of buckets (%s)",
				cfg_fmt_duration(s, a, sizeof(a)),
				cfg_fmt_duration(f->bucket_ms, b, sizeof(b)));
		else if (s < 2 * f->bucket_ms)
			err_key(ld, f, "forecast", "seasons",
				"season %s is shorter than two buckets (%s each)",
				cfg_fmt_duration(s, a, sizeof(a)),
				cfg_fmt_duration(f->bucket_ms, b, sizeof(b)));
	}
}

static void check_dataplane(struct cfg_ld *ld)
{
	struct cfg_dataplane *dp = &ld->cfg->dataplane;

	if (dp->backend == CFG_BACKEND_BPF && dp->n_interfaces == 0 &&
	    cfg_key_ok(ld, dp, "backend") && cfg_key_ok(ld, dp, "interfaces"))
		err_key(ld, dp, "dataplane", "backend",
			"backend bpf needs 'interfaces = ...' (the interfaces to count and pace "
			"on)");
}

void cfg_check(struct cfg_ld *ld)
{
	check_region(ld);
	check_peering(ld);
	check_control(ld);
	check_links(ld);
	check_peers(ld);
	check_forecast(ld);
	check_apps(ld);
	check_pools(ld);
	check_events(ld);
	check_dataplane(ld);
}

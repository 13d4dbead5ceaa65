/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-schema: the one table of every section and key of tidal.ini — type, default, range
 * and documentation. The loader, the checks, the printer, cfg_equal, cfg_free and the
 * docs/config.md generator all walk this table, so a key added here is loaded, printed,
 * compared and documented everywhere at once.
 *
 * Owns the constant table and nothing else. Never does I/O.
 */
#include "cfg-int.h"

#include <stdlib.h>
#include <string.h>

#define MS_S 1000.0
#define MS_H 3600000.0

/* A key of section struct T stored in field F. Extra designated initializers (ranges,
 * count offsets) follow as trailing arguments. */
#define KEY(T, F, NAME, TYPE, FLAGS, DEF, DOC, ...)                                          \
	{                                                                                    \
		.name = NAME, .type = TYPE, .flags = FLAGS, .def = DEF, .doc = DOC,          \
		.off = offsetof(T, F), .size = sizeof(((T *)0)->F), __VA_ARGS__              \
	}
#define LIST(T, F, N) .count_off = offsetof(T, N)

static const struct cfg_key region_keys[] = {
	KEY(struct cfg_region, name, "name", CT_NAME, CK_REQUIRED, NULL,
	    "This region's id; peers name it in their `[peer.NAME]` sections and in their "
	    "certificates. Lower-case letters, digits and `-`, at most 63 characters."),
	KEY(struct cfg_region, asn, "asn", CT_UINT, CK_REQUIRED, NULL,
	    "The region's BGP AS number, used when steering leased traffic through FRR. "
	    "0, 23456 (AS_TRANS), 65535 and 4294967295 are reserved.",
	    .min = 1, .max = 4294967294.0),
	KEY(struct cfg_region, state_dir, "state_dir", CT_PATH, 0, "/var/lib/tidal/{name}",
	    "Folder for the ledger and lease database, history archives and the pid file. "
	    "tidald creates it when it starts."),
};

static const struct cfg_key control_keys[] = {
	KEY(struct cfg_control, socket, "socket", CT_PATH, 0, "/run/tidal/{name}.sock",
	    "UNIX socket `tidalctl` talks to (created with mode 0660). At most 107 bytes, the "
	    "limit of a UNIX socket address."),
	KEY(struct cfg_control, metrics_listen, "metrics_listen", CT_HOSTPORT, 0,
	    "127.0.0.1:9479",
	    "Address and port of the Prometheus `/metrics` endpoint; port 0 turns it off."),
	KEY(struct cfg_control, log_level, "log_level", CT_LOGLEVEL, 0, "info",
	    "`error`, `warn`, `info` or `debug`."),
};

static const struct cfg_key peering_keys[] = {
	KEY(struct cfg_peering, listen, "listen", CT_HOSTPORT, 0, "0.0.0.0:7179",
	    "Address and port where peers connect (TLS 1.3)."),
	KEY(struct cfg_peering, certificate, "certificate", CT_PATH, CK_REQUIRED, NULL,
	    "This region's certificate (PEM). Its name must be this region's name: peers check "
	    "it against their `[peer.NAME]`."),
	KEY(struct cfg_peering, private_key, "private_key", CT_PATH, CK_REQUIRED, NULL,
	    "The certificate's private key (PEM)."),
	KEY(struct cfg_peering, ca, "ca", CT_PATH, CK_REQUIRED, NULL,
	    "CA certificates (PEM) that peers' certificates must chain to."),
	KEY(struct cfg_peering, hold_time_ms, "hold_time", CT_DURATION, 0, "90s",
	    "As in BGP: a session is closed when nothing arrives from the peer for this long; "
	    "keepalives go every third of it. 0 (no keepalives) or 3s..65535s in whole "
	    "seconds.",
	    .min = 0, .max = 65535 * MS_S),
	KEY(struct cfg_peering, lease_lead_time_ms, "lease_lead_time", CT_DURATION, 0, "5m",
	    "Time from deciding to lease capacity from a peer to having it in place (request, "
	    "offer, commit, the peer's provisioning); the allocation controller asks that much "
	    "earlier.",
	    .min = 0, .max = 24 * MS_H),
};

static const struct cfg_key peer_keys[] = {
	KEY(struct cfg_peer, address, "address", CT_HOSTPORT, CK_REQUIRED, NULL,
	    "Where the peer's `[peering] listen` is reachable, e.g. `10.0.1.2:7179` or "
	    "`[2001:db8::2]:7179`."),
	KEY(struct cfg_peer, link, "link", CT_NAME, CK_REQUIRED, NULL,
	    "The `[link.NAME]` that carries traffic to and from this peer."),
};

static const struct cfg_key link_keys[] = {
	KEY(struct cfg_link, interface, "interface", CT_IFNAME, CK_EMPTY_OK, NULL,
	    "Local network interface of the link, where the BPF programs count and pace "
	    "traffic. Leave out when the dataplane is DPDK or none."),
	KEY(struct cfg_link, capacity_bps, "capacity", CT_BPS, CK_REQUIRED, NULL,
	    "Capacity of the link in bits per second.", .min = 1),
	{.name = "reservable",
	 .type = CT_BPS,
	 .def_doc = "capacity",
	 .doc = "How much of the capacity tidal may book and lease; the rest stays for "
		"unreserved traffic. At most `capacity`.",
	 .off = offsetof(struct cfg_link, reservable_bps),
	 .size = sizeof(uint64_t)},
	KEY(struct cfg_link, lead_time_ms, "lead_time", CT_DURATION, 0, "1m",
	    "Time from a booking to its enforcement on this link (pacing, scheduler, BGP); the "
	    "allocation controller books that much ahead.",
	    .min = 0, .max = 24 * MS_H),
};

static const struct cfg_key app_keys[] = {
	KEY(struct cfg_app, match, "match", CT_MATCH, CK_REQUIRED, NULL,
	    "Which packets belong to the app: a comma list of `dst PREFIX`, `src PREFIX` and "
	    "`dscp CODE` terms, e.g. `dst 198.51.100.0/24, dst 2001:db8:100::/48, dscp af41`. "
	    "A packet matches when, for each kind of term listed, one of its terms matches. "
	    "Prefixes must not have host bits set."),
	KEY(struct cfg_app, priority, "priority", CT_UINT, 0, "4",
	    "0 (highest) .. 7 (lowest). Under scarcity higher priorities are served first and "
	    "may preempt leases of lower ones.",
	    .min = 0, .max = CFG_PRIORITY_LEVELS - 1),
	KEY(struct cfg_app, slo_quantile, "slo_quantile", CT_DOUBLE, CK_OPEN, "0.95",
	    "Reserve for this quantile of forecast demand, strictly between 0 and 1. It must "
	    "be one of `[forecast] quantiles`.",
	    .min = 0, .max = 1),
	KEY(struct cfg_app, headroom, "headroom", CT_PERCENT, 0, "0%",
	    "Added on top of the forecast quantile, e.g. `10%`; at most 1000%.", .min = 0,
	    .max = 10),
	KEY(struct cfg_app, min_rate_bps, "min_rate", CT_BPS, 0, "0",
	    "Never reserve less than this (bits per second)."),
	KEY(struct cfg_app, max_rate_bps, "max_rate", CT_BPS, 0, "0",
	    "Never reserve more than this (bits per second); 0 means no limit."),
	KEY(struct cfg_app, peer, "peer", CT_NAME, CK_EMPTY_OK, NULL,
	    "The `[peer.NAME]` region this app's traffic goes to: the allocation controller "
	    "reserves on that peer's link. Leave out for the first `[peer.*]`."),
};

static const struct cfg_key pool_keys[] = {
	KEY(struct cfg_pool, vcpu, "vcpu", CT_UINT, 0, "0", "Virtual CPUs the pool offers.",
	    .min = 0, .max = 1e9),
	KEY(struct cfg_pool, memory_bytes, "memory", CT_BYTES, 0, "0",
	    "Memory the pool offers, e.g. `1TiB`."),
	KEY(struct cfg_pool, storage_bytes, "storage", CT_BYTES, 0, "0",
	    "Storage the pool offers, e.g. `100TiB`."),
	KEY(struct cfg_pool, provision_hook, "provision_hook", CT_PATH, CK_EMPTY_OK, NULL,
	    "Program run to provision and release booked capacity of this pool (the lease's "
	    "fields are passed in the environment, docs/alloc.md). Leave out for bookkeeping "
	    "only."),
	KEY(struct cfg_pool, lead_time_ms, "lead_time", CT_DURATION, 0, "10m",
	    "Time the provisioning hook needs; the allocation controller books that much ahead "
	    "and a hook still running after it is stopped and run again later.",
	    .min = 1 * MS_S, .max = 7 * 24 * MS_H),
};

static const struct cfg_key forecast_keys[] = {
	KEY(struct cfg_forecast, sample_interval_ms, "sample_interval", CT_DURATION, 0, "10s",
	    "How often counters are read and turned into rates; 1s..1h.", .min = MS_S,
	    .max = MS_H),
	KEY(struct cfg_forecast, bucket_ms, "bucket", CT_DURATION, 0, "5m",
	    "Forecast step: rates are averaged over buckets of this length. A multiple of "
	    "`sample_interval`.",
	    .min = MS_S, .max = 24 * MS_H),
	KEY(struct cfg_forecast, period_ms, "period", CT_DURATION, 0, "1h",
	    "How often every series is forecast again; at least `bucket` (a shorter default "
	    "is raised to `bucket`). `tidalctl forecast run` starts a round at once.",
	    .min = MS_S, .max = 24 * MS_H),
	KEY(struct cfg_forecast, horizon_ms, "horizon", CT_DURATION, 0, "72h",
	    "How far ahead demand is forecast; a multiple of `bucket`. At most 72h unless "
	    "`allow_long_horizon = yes`.",
	    .min = MS_S, .max = 366 * 24 * MS_H),
	KEY(struct cfg_forecast, allow_long_horizon, "allow_long_horizon", CT_BOOL, 0, "no",
	    "Allow a horizon beyond 72h (intervals that far out are wide; check the "
	    "backtests first)."),
	KEY(struct cfg_forecast, seasons_ms, "seasons", CT_DURATION_LIST, 0, "24h, 168h",
	    "Seasonal periods the models look for, each a multiple of `bucket` and at least "
	    "two buckets long.",
	    LIST(struct cfg_forecast, seasons_ms, n_seasons)),
	KEY(struct cfg_forecast, quantiles, "quantiles", CT_QUANTILE_LIST, 0,
	    "0.5, 0.8, 0.95, 0.99",
	    "Quantiles forecast for every series: each strictly between 0 and 1, ascending, "
	    "no repeats.",
	    LIST(struct cfg_forecast, quantiles, n_quantiles)),
	KEY(struct cfg_forecast, models, "models", CT_MODELS, 0, "auto",
	    "`auto` (selection by rolling-origin cross-validation) or a comma list of model "
	    "names (e.g. `snaive, ets, arima`)."),
};

static const struct cfg_key event_keys[] = {
	KEY(struct cfg_event, start_s, "start", CT_TIME, CK_REQUIRED, NULL,
	    "When the event starts (ISO 8601, e.g. `2026-11-27T00:00:00Z`)."),
	KEY(struct cfg_event, end_s, "end", CT_TIME, CK_REQUIRED, NULL,
	    "When the event ends; after `start`."),
	KEY(struct cfg_event, apps, "apps", CT_NAME_LIST, CK_EMPTY_OK, NULL,
	    "Comma list of `[app.NAME]`s whose demand the event changes. Leave out for all "
	    "apps.",
	    LIST(struct cfg_event, apps, n_apps), .min = 0),
	{.name = "multiplier",
	 .type = CT_DOUBLE,
	 .flags = CK_OPEN | CK_OMIT_ZERO,
	 .def_doc = "learned",
	 .doc = "Demand multiplier during the event (above 0 and below 1000). Leave out to "
		"learn it from past occurrences.",
	 .off = offsetof(struct cfg_event, multiplier),
	 .size = sizeof(double),
	 .min = 0,
	 .max = 1000},
};

static const struct cfg_key dataplane_keys[] = {
	KEY(struct cfg_dataplane, backend, "backend", CT_BACKEND, 0, "none",
	    "`bpf` (kernel counters and tc pacing), `dpdk` (the `tidal-dp` process) or "
	    "`none` (bookkeeping only)."),
	KEY(struct cfg_dataplane, interfaces, "interfaces", CT_IFNAME_LIST, CK_EMPTY_OK, NULL,
	    "Comma list of interfaces the BPF programs attach to; required with "
	    "`backend = bpf`, and it must include every link's interface.",
	    LIST(struct cfg_dataplane, interfaces, n_interfaces)),
	KEY(struct cfg_dataplane, dpdk_socket, "dpdk_socket", CT_PATH, 0,
	    "/run/tidal/{name}-dp.sock", "UNIX socket of `tidal-dp` (backend dpdk)."),
	KEY(struct cfg_dataplane, keep_pacing, "keep_pacing", CT_BOOL, 0, "yes",
	    "Leave BPF pacing attached when tidald stops, so leased rates stay enforced "
	    "across restarts."),
};

static const struct cfg_key frr_keys[] = {
	KEY(struct cfg_frr, vtysh, "vtysh", CT_PATH, 0, "/usr/bin/vtysh",
	    "The vtysh program used to configure FRR."),
	KEY(struct cfg_frr, pathspace, "pathspace", CT_NAME, CK_EMPTY_OK, NULL,
	    "FRR instance to talk to (`vtysh -N`); leave out for the default instance."),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SINGLE(NAME, REQ, FIELD, KEYS, PRESENT, DOC)                                        \
	{                                                                                    \
		.name = NAME, .named = false, .required = REQ, .doc = DOC, .keys = KEYS,     \
		.n_keys = N(KEYS), .off = offsetof(struct tidal_cfg, FIELD),                 \
		.present_off = PRESENT                                                       \
	}
#define NAMED(NAME, T, ARR, CNT, KEYS, EX, DOC)                                             \
	{                                                                                    \
		.name = NAME, .named = true, .doc = DOC, .example = EX, .keys = KEYS,        \
		.n_keys = N(KEYS), .off = offsetof(struct tidal_cfg, ARR),                   \
		.count_off = offsetof(struct tidal_cfg, CNT), .elem_size = sizeof(T),        \
		.name_off = offsetof(T, name)                                                \
	}

const struct cfg_section cfg_schema[] = {
	SINGLE("region", true, region, region_keys, 0, "Who this daemon is. Required."),
	SINGLE("control", false, control, control_keys, 0,
	       "The control socket for `tidalctl`, the metrics endpoint and logging."),
	SINGLE("peering", false, peering, peering_keys,
	       offsetof(struct tidal_cfg, peering.enabled),
	       "The TLS peering protocol with other regions. Present when the region has "
	       "peers; the files are checked when tidald starts, not when the config is "
	       "loaded."),
	NAMED("peer", struct cfg_peer, peers, n_peers, peer_keys, "ams",
	      "A peer region, named by its region id (its `[region] name`)."),
	NAMED("link", struct cfg_link, links, n_links, link_keys, "fra-ams",
	      "A link towards one or more peers, with the capacity tidal may book on it."),
	NAMED("app", struct cfg_app, apps, n_apps, app_keys, "video",
	      "A class of traffic with its own forecast and reservation."),
	NAMED("pool", struct cfg_pool, pools, n_pools, pool_keys, "compute",
	      "Compute and storage capacity that can be booked and leased like bandwidth."),
	SINGLE("forecast", false, forecast, forecast_keys, 0,
	       "How demand is sampled and forecast."),
	NAMED("event", struct cfg_event, events, n_events, event_keys, "black-friday",
	      "A calendar event that changes demand for the hours it covers."),
	SINGLE("dataplane", false, dataplane, dataplane_keys, 0,
	       "Where traffic is counted and leases are enforced."),
	SINGLE("frr", false, frr, frr_keys, offsetof(struct tidal_cfg, frr.enabled),
	       "BGP steering of leased traffic through FRR. Present to turn it on."),
};
const size_t cfg_schema_len = N(cfg_schema);

_Static_assert(N(region_keys) <= CFG_MAX_KEYS && N(control_keys) <= CFG_MAX_KEYS &&
		       N(peering_keys) <= CFG_MAX_KEYS && N(app_keys) <= CFG_MAX_KEYS &&
		       N(forecast_keys) <= CFG_MAX_KEYS && N(dataplane_keys) <= CFG_MAX_KEYS,
	       "raise CFG_MAX_KEYS");

const struct cfg_section *cfg_schema_section(const char *kind)
{
	for (size_t i = 0; i < cfg_schema_len; i++)
		if (strcmp(cfg_schema[i].name, kind) == 0)
			return &cfg_schema[i];
	return NULL;
}

const struct cfg_key *cfg_schema_key(const struct cfg_section *s, const char *name)
{
	for (size_t i = 0; i < s->n_keys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return &s->keys[i];
	return NULL;
}

const char *cfg_type_doc(const struct cfg_key *k)
{
	switch (k->type) {
	case CT_NAME:
		return "name";
	case CT_PATH:
		return "path";
	case CT_IFNAME:
		return "interface";
	case CT_UINT:
		return "integer";
	case CT_BPS:
		return "bits/s";
	case CT_BYTES:
		return "bytes";
	case CT_DURATION:
		return "duration";
	case CT_PERCENT:
		return "percent";
	case CT_DOUBLE:
		return "number";
	case CT_BOOL:
		return "yes/no";
	case CT_HOSTPORT:
		return "host:port";
	case CT_TIME:
		return "time";
	case CT_LOGLEVEL:
		return "log level";
	case CT_BACKEND:
		return "backend";
	case CT_MATCH:
		return "match";
	case CT_DURATION_LIST:
		return "durations";
	case CT_QUANTILE_LIST:
		return "numbers";
	case CT_NAME_LIST:
		return "names";
	case CT_IFNAME_LIST:
		return "interfaces";
	case CT_MODELS:
		return "models";
	}
	return "?";
}

void cfg_section_free_fields(const struct cfg_section *s, void *elem)
{
	for (size_t i = 0; i < s->n_keys; i++) {
		const struct cfg_key *k = &s->keys[i];
		char *f = (char *)elem + k->off;
		switch (k->type) {
		case CT_MATCH: {
			struct cfg_match *m = (struct cfg_match *)f;
			free(m->dst);
			free(m->src);
			free(m->dscp);
			memset(m, 0, sizeof(*m));
			break;
		}
		case CT_DURATION_LIST:
		case CT_QUANTILE_LIST:
		case CT_NAME_LIST:
		case CT_IFNAME_LIST:
			free(*(void **)f);
			*(void **)f = NULL;
			*(size_t *)((char *)elem + k->count_off) = 0;
			break;
		default:
			break;
		}
	}
}

unsigned cfg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[33][33];

	if (la > 32 || lb > 32)
		return 100;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cfg_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned best_d = 100;
	size_t wl = strlen(word);

	for (size_t i = 0; i < n; i++) {
		unsigned dist = cfg_edit_distance(word, cands[i]);
		if (dist < best_d) {
			best_d = dist;
			best = cands[i];
		}
	}
	/* one edit for short words, two from five letters, three from nine; and never a
	 * suggestion that shares almost nothing with the word */
	unsigned limit = wl >= 9 ? 3 : wl >= 5 ? 2 : 1;
	if (!best || best_d == 0 || best_d > limit || best_d >= strlen(best))
		return NULL;
	return best;
}

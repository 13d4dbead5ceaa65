/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg: tidal.ini loaded into typed, validated structs.
 *
 * iniparser reads the file; this module maps every section and key of the schema
 * (docs/config.md) onto the structs below, applies defaults, checks values and
 * cross-references, and collects *every* problem as "FILE:LINE: section.key: message"
 * (unknown sections and keys get a "did you mean" suggestion). A config either loads
 * completely valid or not at all: callers never see a half-checked struct.
 *
 * Owns: the struct tidal_cfg tree it returns (free with cfg_free) and the messages in a
 * struct cfg_diag (free with cfg_diag_free). Never exits, never touches the network,
 * never creates files or folders (the daemon does that when it starts).
 *
 * Relative paths in the file (state_dir, socket, certificates, hooks, dpdk_socket) are
 * taken relative to the folder of the config file and stored absolute.
 */
#ifndef TIDAL_CONFIG_CFG_H
#define TIDAL_CONFIG_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "units.h"

#define CFG_NAME_MAX 64  /* region, peer, link, app, pool, event names (incl. NUL) */
#define CFG_PATH_MAX 256 /* file and socket paths (incl. NUL) */
#define CFG_IFNAME_MAX 16 /* IFNAMSIZ */
#define CFG_PRIORITY_LEVELS 8 /* priority 0 (highest) .. 7 (lowest) */

enum cfg_backend {
	CFG_BACKEND_NONE = 0,
	CFG_BACKEND_BPF,
	CFG_BACKEND_DPDK,
};

/* "dst 198.51.100.0/24, dst 2001:db8::/48, src 10.0.0.0/8, dscp af41, dscp ef".
 * A packet matches when every non-empty list has a member that matches it. */
struct cfg_match {
	struct cfg_prefix *dst;
	size_t n_dst;
	struct cfg_prefix *src;
	size_t n_src;
	uint8_t *dscp;
	size_t n_dscp;
};

struct cfg_region {
	char name[CFG_NAME_MAX]; /* letters, digits, '-' */
	uint32_t asn;
	char state_dir[CFG_PATH_MAX]; /* default /var/lib/tidal/<name> */
};

struct cfg_control {
	char socket[108];                   /* default /run/tidal/<name>.sock */
	struct cfg_hostport metrics_listen; /* default 127.0.0.1:9479; port 0 = disabled */
	enum tlog_level log_level;          /* default info */
};

struct cfg_peering {
	bool enabled; /* the [peering] section is present */
	struct cfg_hostport listen; /* default 0.0.0.0:7179 */
	char certificate[CFG_PATH_MAX];
	char private_key[CFG_PATH_MAX];
	char ca[CFG_PATH_MAX];
	uint64_t hold_time_ms; /* default 90s; 0 or 3s..65535s as in BGP */
	uint64_t lease_lead_time_ms; /* default 5m: added lead for capacity leased from a peer */
};

struct cfg_peer {
	char name[CFG_NAME_MAX]; /* the remote region id ([peer.NAME]) */
	struct cfg_hostport address;
	char link[CFG_NAME_MAX];
	size_t link_index; /* index into tidal_cfg.links, resolved by the loader */
};

struct cfg_link {
	char name[CFG_NAME_MAX];
	char interface[CFG_IFNAME_MAX]; /* may be empty */
	uint64_t capacity_bps;
	uint64_t reservable_bps; /* default = capacity; never above it */
	uint64_t lead_time_ms;   /* default 1m: booking to enforcement on this link */
};

struct cfg_app {
	char name[CFG_NAME_MAX];
	struct cfg_match match;
	unsigned priority;    /* 0 highest .. 7 lowest; default 4 */
	double slo_quantile;  /* (0,1); default 0.95 */
	double headroom;      /* fraction; "10%" -> 0.10; default 0 */
	uint64_t min_rate_bps; /* default 0 */
	uint64_t max_rate_bps; /* default 0 = no limit */
	char peer[CFG_NAME_MAX]; /* the [peer.*] its traffic goes to; empty = the first peer */
};

struct cfg_pool {
	char name[CFG_NAME_MAX];
	uint64_t vcpu;
	uint64_t memory_bytes;
	uint64_t storage_bytes;
	char provision_hook[CFG_PATH_MAX]; /* may be empty */
	uint64_t lead_time_ms; /* default 10m: provisioning time, also the hook's time limit */
};

struct cfg_forecast {
	uint64_t sample_interval_ms; /* default 10s */
	uint64_t bucket_ms;          /* default 5m */
	uint64_t period_ms;          /* default 1h (raised to bucket when shorter); >= bucket */
	uint64_t horizon_ms;         /* default 72h; at most 72h unless allow_long_horizon */
	bool allow_long_horizon;     /* default false */
	uint64_t *seasons_ms;        /* default 24h, 168h */
	size_t n_seasons;
	double *quantiles;           /* sorted ascending, each in (0,1); default 0.5,0.8,0.95,0.99 */
	size_t n_quantiles;
	char models[256];            /* "auto" or a comma list of model names */
};

struct cfg_event {
	char name[CFG_NAME_MAX];
	int64_t start_s; /* UTC seconds since the epoch; start < end */
	int64_t end_s;
	char (*apps)[CFG_NAME_MAX]; /* each names an [app.*]; empty = all apps */
	size_t n_apps;
	double multiplier; /* > 0; 0 = learn from past occurrences */
};

struct cfg_dataplane {
	enum cfg_backend backend; /* default none */
	char (*interfaces)[CFG_IFNAME_MAX];
	size_t n_interfaces;
	char dpdk_socket[108]; /* default /run/tidal/<name>-dp.sock */
	bool keep_pacing; /* default true: BPF pacing stays attached when tidald stops */
};

struct cfg_frr {
	bool enabled; /* the [frr] section is present */
	char vtysh[CFG_PATH_MAX]; /* default /usr/bin/vtysh */
	char pathspace[CFG_NAME_MAX]; /* empty: the default FRR instance */
};

struct tidal_cfg {
	char path[CFG_PATH_MAX]; /* absolute path of the file it came from */
	struct cfg_region region;
	struct cfg_control control;
	struct cfg_peering peering;
	struct cfg_peer *peers;
	size_t n_peers;
	struct cfg_link *links;
	size_t n_links;
	struct cfg_app *apps;
	size_t n_apps;
	struct cfg_pool *pools;
	size_t n_pools;
	struct cfg_forecast forecast;
	struct cfg_event *events;
	size_t n_events;
	struct cfg_dataplane dataplane;
	struct cfg_frr frr;
};

/* Every problem found, in file order, each "FILE:LINE: section.key: message". */
struct cfg_diag {
	char **msgs;
	size_t n;
};

void cfg_diag_init(struct cfg_diag *d);
void cfg_diag_free(struct cfg_diag *d);
/* Print every message, one per line. */
void cfg_diag_print(const struct cfg_diag *d, FILE *out);

/* Load and validate. Returns NULL when the file cannot be read or anything is wrong;
 * diag (may be NULL) then holds every message. */
struct tidal_cfg *cfg_load(const char *path, struct cfg_diag *diag);
void cfg_free(struct tidal_cfg *cfg);

/* Write cfg as canonical INI that cfg_load reads back to an equal struct. */
int cfg_print(const struct tidal_cfg *cfg, FILE *out);
/* Deep equality (used by the round-trip tests and by reload to skip no-op reloads). The
 * path the trees were loaded from is not compared. */
bool cfg_equal(const struct tidal_cfg *a, const struct tidal_cfg *b);

const struct cfg_link *cfg_find_link(const struct tidal_cfg *cfg, const char *name);
const struct cfg_peer *cfg_find_peer(const struct tidal_cfg *cfg, const char *name);
const struct cfg_app *cfg_find_app(const struct tidal_cfg *cfg, const char *name);
/* A traffic match as config syntax ("dst 198.51.100.0/24, dscp af41"; "" when it matches
 * everything) into buf, truncated to len. Returns the length of the whole text, as snprintf
 * does (>= len: truncated; SIZE_MAX when out of memory). */
size_t cfg_fmt_match(const struct cfg_match *m, char *buf, size_t len);
const struct cfg_pool *cfg_find_pool(const struct tidal_cfg *cfg, const char *name);

const char *cfg_backend_name(enum cfg_backend b);

#endif

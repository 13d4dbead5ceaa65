/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_dpdk: the "dpdk" collector backend of tidald (control/collector.h).
 *
 * Maps the running config onto tidal-dp (docs/dataplane.md, "tidald mapping"):
 *   app N (the N-th [app.*], 1-based)  -> class N, subport 0, pipe N,
 *                                         traffic class dp_tc_of_priority(priority)
 *   unmatched traffic                  -> class 0, pipe 0, best effort
 *   enforced rate of app N             -> rate of pipe N on the pairs sending to ifname
 * Counters: per pair and class, rx (COLL_DIR_IN, the pair's rx port) and tx
 * (COLL_DIR_OUT, the pair's tx port); every tidal drop (meter, queue, ring, tx) is
 * reported on the OUT counter, where enforcement happens.
 *
 * Owns one dp_conn, reopened (and the classes reinstalled) when tidal-dp restarts. Never
 * blocks longer than the connection timeout per request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dp.h"
#include "log.h"

#define DPDK_TIMEOUT_MS 2000

struct dpdk_be {
	char path[108];
	struct dp_conn *c;
	struct dp_info info;
	uint32_t n_apps;
	uint64_t *rates; /* enforced rate per class id (apps), re-applied on reconnect */
	const struct tidal_cfg *cfg; /* borrowed until the next apply_config */
	bool installed;
};

static int install(struct dpdk_be *b, const struct tidal_cfg *cfg)
{
	struct dp_stats *st = NULL;
	uint32_t n = (uint32_t)cfg->n_apps;
	int rc;

	if (n + 1 > b->info.max_classes || n >= b->info.n_pipes) {
		log_err("dataplane: %u apps do not fit tidal-dp (%u classes, %u pipes per "
		        "subport); "
		        "raise [dataplane] classes/pipes in tidal-dp's config",
		        n, b->info.max_classes, b->info.n_pipes);
		return -ENOSPC;
	}
	struct dp_class *cls = calloc(n + 1, sizeof(*cls));
	int *rcs = calloc(n + 1, sizeof(*rcs));
	if (!cls || !rcs) {
		free(cls);
		free(rcs);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct cfg_app *a = &cfg->apps[i];
		cls[i] = (struct dp_class){
		        .id = i + 1,
		        .subport = 0,
		        .pipe = i + 1,
		        .tc = (uint8_t)dp_tc_of_priority(a->priority),
		        .dst = a->match.dst,
		        .n_dst = a->match.n_dst,
		        .src = a->match.src,
		        .n_src = a->match.n_src,
		        .dscp = a->match.dscp,
		        .n_dscp = a->match.n_dscp,
		};
	}
	/* all apps in one go: tidal-dp swaps its class table once per group */
	rc = dp_class_add_many(b->c, cls, n, rcs);
	for (uint32_t i = 0; rc < 0 && i < n; i++)
		if (rcs[i] < 0)
			log_err("dataplane: app %s: tidal-dp refused its class (%s)",
			        cfg->apps[i].name, strerror(-rcs[i]));
	free(cls);
	free(rcs);
	if (rc < 0) {
		log_err("dataplane: installing classes: %s", dp_last_error(b->c));
		return rc;
	}
	/* remove classes of apps that are gone */
	rc = dp_stats_read(b->c, &st);
	if (rc < 0) {
		log_err("dataplane: reading tidal-dp classes: %s", dp_last_error(b->c));
		return rc;
	}
	for (size_t i = 0; i < st->n_classes; i++) {
		uint32_t id = st->classes[i].class_id;
		if (id > n && (i == 0 || st->classes[i - 1].class_id != id)) {
			rc = dp_class_del(b->c, id);
			if (rc < 0 && rc != -ENOENT)
				log_warn("dataplane: removing stale class %u: %s", id,
				         dp_last_error(b->c));
		}
	}
	dp_stats_free(st);
	/* rates: what tidald enforced before (kept across reconnects), else the app's max */
	for (uint32_t i = 0; i < n; i++) {
		struct dp_pipe_rate r = {.pair = DP_ALL_PAIRS, .subport = 0, .pipe = i + 1};
		r.rate_bps = i + 1 <= b->n_apps && b->rates[i + 1] ? b->rates[i + 1]
		                                                   : cfg->apps[i].max_rate_bps;
		/* a limit at or above the line rate is no limit */
		for (uint16_t k = 0; k < b->info.n_pairs; k++)
			if (r.rate_bps >= b->info.pairs[k].rate_bps)
				r.rate_bps = 0;
		rc = dp_pipe_rate(b->c, &r);
		if (rc < 0) {
			log_err("dataplane: app %s: rate refused: %s", cfg->apps[i].name,
			        dp_last_error(b->c));
			return rc;
		}
	}
	/* a tidal-dp started with --rx-off waits for its classes: they are there now */
	rc = dp_rx_enable(b->c, DP_ALL_PAIRS, true);
	if (rc < 0) {
		log_err("dataplane: starting reception: %s", dp_last_error(b->c));
		return rc;
	}
	b->installed = true;
	return 0;
}

static int ensure(struct dpdk_be *b)
{
	int rc;

	if (b->c && dp_connected(b->c))
		return 0;
	dp_close(b->c);
	b->installed = false;
	b->c = dp_connect(b->path, DPDK_TIMEOUT_MS);
	if (!b->c) {
		int e = errno;
		return e ? -e : -ECONNREFUSED;
	}
	rc = dp_get_info(b->c, &b->info);
	if (rc < 0) {
		log_err("dataplane: tidal-dp at %s: %s", b->path, dp_last_error(b->c));
		return rc;
	}
	rc = install(b, b->cfg);
	if (rc < 0) {
		/* try again from scratch at the next call */
		dp_close(b->c);
		b->c = NULL;
	}
	return rc;
}

/* tidal-dp may start after tidald: open succeeds without it, and every later call tries
 * to connect (and install the classes) again. */
static int be_open(const struct tidal_cfg *cfg, void **out)
{
	struct dpdk_be *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	snprintf(b->path, sizeof(b->path), "%s", cfg->dataplane.dpdk_socket);
	b->cfg = cfg;
	b->n_apps = (uint32_t)cfg->n_apps;
	b->rates = calloc(cfg->n_apps + 1, sizeof(*b->rates));
	if (!b->rates) {
		free(b);
		return -ENOMEM;
	}
	if (ensure(b) < 0)
		log_warn("dataplane: tidal-dp not reachable at %s yet; will retry every sample",
		         b->path);
	*out = b;
	return 0;
}

static int be_apply_config(void *be, const struct tidal_cfg *cfg)
{
	struct dpdk_be *b = be;
	uint64_t *nr;

	b->cfg = cfg;
	nr = calloc(cfg->n_apps + 1, sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	/* an app keeps its enforced rate only while it keeps its position */
	for (uint32_t i = 1; i <= cfg->n_apps && i <= b->n_apps; i++)
		nr[i] = b->rates[i];
	free(b->rates);
	b->rates = nr;
	b->n_apps = (uint32_t)cfg->n_apps;
	if (b->c && dp_connected(b->c))
		return install(b, cfg);
	return ensure(b) < 0 ? -ENOTCONN : 0;
}

static int be_read(void *be, struct coll_counter **out, size_t *n)
{
	struct dpdk_be *b = be;
	struct dp_stats *st = NULL;
	struct coll_counter *cs;
	int rc = ensure(b);

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	rc = dp_stats_read(b->c, &st);
	if (rc < 0) {
		log_warn("dataplane: stats from tidal-dp: %s", dp_last_error(b->c));
		return rc;
	}
	cs = calloc(st->n_classes * 2 + 1, sizeof(*cs));
	if (!cs) {
		dp_stats_free(st);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->n_classes; i++) {
		const struct dpmsg_class_stats *s = &st->classes[i];
		const struct dp_port_info *pi = NULL;
		for (uint16_t k = 0; k < b->info.n_pairs; k++)
			if (b->info.pairs[k].pair == s->pair)
				pi = &b->info.pairs[k];
		struct coll_counter *in = &cs[(*n)++], *o = &cs[(*n)++];
		snprintf(in->ifname, sizeof(in->ifname), "%.*s", CFG_IFNAME_MAX - 1,
		         pi ? pi->rx_name : "?");
		in->class_id = s->class_id;
		in->dir = COLL_DIR_IN;
		in->packets = s->f[DPMSG_CF_RX_PKTS];
		in->bytes = s->f[DPMSG_CF_RX_BYTES];
		snprintf(o->ifname, sizeof(o->ifname), "%.*s", CFG_IFNAME_MAX - 1,
		         pi ? pi->tx_name : "?");
		o->class_id = s->class_id;
		o->dir = COLL_DIR_OUT;
		o->packets = s->f[DPMSG_CF_TX_PKTS];
		o->bytes = s->f[DPMSG_CF_TX_BYTES];
		o->drops = s->f[DPMSG_CF_METER_DROP_PKTS] + s->f[DPMSG_CF_SCHED_DROP_PKTS] +
		           s->f[DPMSG_CF_OTHER_DROP_PKTS];
	}
	dp_stats_free(st);
	*out = cs;
	return 0;
}

static int be_set_rate(void *be, const char *ifname, uint32_t class_id, uint64_t bps)
{
	struct dpdk_be *b = be;
	bool any = false;
	int rc;

	if (class_id == 0 || class_id > b->n_apps)
		return -ENOENT;
	/* remembered first, so that a reconnect applies it even if tidal-dp is away now */
	if (!ifname)
		b->rates[class_id] = bps;
	rc = ensure(b);
	if (rc < 0)
		return rc;
	for (uint16_t k = 0; k < b->info.n_pairs; k++) {
		const struct dp_port_info *pi = &b->info.pairs[k];
		struct dp_pipe_rate r = {.subport = 0, .pipe = class_id, .rate_bps = bps};
		/* port names are cut to the interface name size in counters */
		if (ifname && strncmp(ifname, pi->tx_name, CFG_IFNAME_MAX - 1) != 0)
			continue;
		r.pair = pi->pair;
		any = true;
		rc = dp_pipe_rate(b->c, &r);
		if (rc < 0) {
			log_err("dataplane: rate of class %u on %s: %s", class_id, pi->tx_name,
			        dp_last_error(b->c));
			return rc;
		}
	}
	return any ? 0 : -ENOENT;
}

static void be_close(void *be, bool keep_enforcing)
{
	struct dpdk_be *b = be;

	if (!b)
		return;
	if (!keep_enforcing && b->c && dp_connected(b->c)) {
		for (uint32_t i = 1; i <= b->n_apps; i++) {
			struct dp_pipe_rate r = {.pair = DP_ALL_PAIRS, .subport = 0, .pipe = i};
			if (dp_pipe_rate(b->c, &r) < 0)
				break;
		}
	}
	dp_close(b->c);
	free(b->rates);
	free(b);
}

const struct coll_backend_ops coll_backend_dpdk = {
        .name = "dpdk",
        .open = be_open,
        .apply_config = be_apply_config,
        .read = be_read,
        .set_rate = be_set_rate,
        .close = be_close,
};

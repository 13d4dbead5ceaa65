/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_bpf: the "bpf" collector backend of tidald (control/collector.h).
 *
 * One bpfc handle per [dataplane] interfaces entry: classify at tc ingress, classify and
 * pace at tc egress, classes from the config's apps (class N = N-th app). Counters and
 * rates live in pinned maps, so a tidald restart adopts them: counting and pacing go on
 * while no tidald runs, and totals continue. Closing with keep_enforcing leaves every
 * interface attached and pinned; otherwise tidal is removed from the interfaces.
 *
 * Owns the handles. An interface that leaves the config on reload is detached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfc.h"
#include "collector.h"
#include "log.h"
#include "metrics.h"

struct bpf_be {
	struct bpfc **ifs;
	size_t n;
	struct bpfc_counter *scratch;
	size_t scratch_n;
};

static int open_if(const char *ifname, const struct tidal_cfg *cfg, struct bpfc **out)
{
	struct bpfc_params p = {
		.ifname = ifname,
		.hooks = BPFC_HOOK_TC_IN | BPFC_HOOK_TC_OUT,
		.pace = true,
		.classes = (uint32_t)cfg->n_apps + 1,
	};
	int err = bpfc_open(&p, out);

	if (err)
		return err;
	err = bpfc_install_classes(*out, cfg->apps, cfg->n_apps);
	if (err) {
		bpfc_close(*out, false);
		*out = NULL;
	}
	return err;
}

static void be_close(void *handle, bool keep_enforcing)
{
	struct bpf_be *b = handle;

	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		bpfc_close(b->ifs[i], !keep_enforcing);
	free(b->ifs);
	free(b->scratch);
	free(b);
}

static int be_open(const struct tidal_cfg *cfg, void **out)
{
	struct bpf_be *b = calloc(1, sizeof(*b));
	int err = 0;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	if (cfg->dataplane.n_interfaces == 0) {
		log_err("bpf: [dataplane] backend = bpf needs interfaces = IF[, IF...]");
		free(b);
		return -EINVAL;
	}
	b->ifs = calloc(cfg->dataplane.n_interfaces, sizeof(*b->ifs));
	if (!b->ifs) {
		free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->dataplane.n_interfaces; i++) {
		err = open_if(cfg->dataplane.interfaces[i], cfg, &b->ifs[b->n]);
		if (err) {
			log_err("bpf: %s: not attached; tidald cannot count or pace there",
				cfg->dataplane.interfaces[i]);
			/* Interfaces attached so far stay as they were before this start. */
			be_close(b, true);
			return err;
		}
		log_info("bpf: %s: counting %zu classes%s", cfg->dataplane.interfaces[i],
			 cfg->n_apps + 1, ", pacing at egress");
		b->n++;
	}
	*out = b;
	return 0;
}

static bool configured(const struct tidal_cfg *cfg, const char *ifname)
{
	for (size_t i = 0; i < cfg->dataplane.n_interfaces; i++)
		if (!strcmp(cfg->dataplane.interfaces[i], ifname))
			return true;
	return false;
}

static int be_apply_config(void *handle, const struct tidal_cfg *cfg)
{
	struct bpf_be *b = handle;
	struct bpfc **ifs = calloc(cfg->dataplane.n_interfaces ? cfg->dataplane.n_interfaces : 1,
				   sizeof(*ifs));
	size_t n = 0;
	int err = 0;

	if (!ifs)
		return -ENOMEM;
	for (size_t i = 0; i < b->n; i++) {
		if (!configured(cfg, bpfc_ifname(b->ifs[i]))) {
			log_info("bpf: %s left the configuration; detaching",
				 bpfc_ifname(b->ifs[i]));
			bpfc_close(b->ifs[i], true);
			b->ifs[i] = NULL;
		}
	}
	for (size_t i = 0; i < cfg->dataplane.n_interfaces; i++) {
		const char *ifname = cfg->dataplane.interfaces[i];
		struct bpfc *h = NULL;
		int e;

		for (size_t j = 0; j < b->n && !h; j++)
			if (b->ifs[j] && !strcmp(bpfc_ifname(b->ifs[j]), ifname)) {
				h = b->ifs[j];
				b->ifs[j] = NULL;
			}
		if (h && bpfc_capacity(h) < cfg->n_apps + 1) {
			/* The maps are too small: recreate them (their counters restart). */
			bpfc_close(h, false);
			h = NULL;
		}
		e = h ? bpfc_install_classes(h, cfg->apps, cfg->n_apps) : open_if(ifname, cfg, &h);
		if (e) {
			log_err("bpf: %s: applying the new classes failed: %s", ifname,
				strerror(-e));
			err = err ? err : e;
		}
		if (h)
			ifs[n++] = h;
	}
	for (size_t i = 0; i < b->n; i++) /* handles of duplicate names, if any */
		bpfc_close(b->ifs[i], false);
	free(b->ifs);
	b->ifs = ifs;
	b->n = n;
	return err;
}

static int be_read(void *handle, struct coll_counter **out, size_t *nout)
{
	struct bpf_be *b = handle;
	struct coll_counter *v;
	size_t total = 0, k = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < b->n; i++)
		total += bpfc_n_classes(b->ifs[i]) * TIDAL_DIRS;
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < b->n; i++) {
		size_t nc = bpfc_n_classes(b->ifs[i]);
		int err;

		if (b->scratch_n < nc * TIDAL_DIRS) {
			free(b->scratch);
			b->scratch = calloc(nc * TIDAL_DIRS, sizeof(*b->scratch));
			b->scratch_n = b->scratch ? nc * TIDAL_DIRS : 0;
			if (!b->scratch) {
				free(v);
				return -ENOMEM;
			}
		}
		err = bpfc_read_counters(b->ifs[i], b->scratch, nc);
		if (err) {
			log_err("bpf: %s: reading counters: %s", bpfc_ifname(b->ifs[i]),
				strerror(-err));
			free(v);
			return err;
		}
		for (size_t c = 0; c < nc; c++)
			for (unsigned d = 0; d < TIDAL_DIRS; d++) {
				const struct bpfc_counter *s = &b->scratch[c * TIDAL_DIRS + d];

				snprintf(v[k].ifname, sizeof(v[k].ifname), "%s",
					 bpfc_ifname(b->ifs[i]));
				v[k].class_id = (uint32_t)c;
				v[k].dir = d == TIDAL_DIR_IN ? COLL_DIR_IN : COLL_DIR_OUT;
				v[k].packets = s->packets;
				v[k].bytes = s->bytes;
				v[k].drops = s->drops;
				k++;
			}
	}
	*out = v;
	*nout = k;
	return 0;
}

static int be_set_rate(void *handle, const char *ifname, uint32_t class_id, uint64_t bps)
{
	struct bpf_be *b = handle;
	bool found = false;

	for (size_t i = 0; i < b->n; i++) {
		int err;

		if (ifname && strcmp(ifname, bpfc_ifname(b->ifs[i])))
			continue;
		found = true;
		err = bpfc_set_rate(b->ifs[i], class_id, bps);
		if (err)
			return err;
	}
	return found ? 0 : -ENOENT;
}

static void be_metrics(void *handle, struct metrics_writer *w)
{
	static const char *const dirs[] = {"in", "out"};
	struct bpf_be *b = handle;

	metrics_family(w, "tidal_bpf_events_total", METRICS_COUNTER,
		       "packets the BPF programs could not classify (non_ip, truncated, "
		       "bad_header, vlan_depth), noted (vlan, fragment, ipv6_ext, ipv6_ext_limit, "
		       "paced) or dropped (drop_horizon), per interface and direction");
	for (size_t i = 0; i < b->n; i++) {
		uint64_t ev[TIDAL_DIRS][TIDAL_EV_MAX];

		if (bpfc_read_events(b->ifs[i], ev))
			continue;
		for (unsigned d = 0; d < TIDAL_DIRS; d++)
			for (unsigned e = 0; e < TIDAL_EV_MAX; e++)
				metrics_sample(w, (double)ev[d][e], "interface",
					       bpfc_ifname(b->ifs[i]), "dir", dirs[d], "event",
					       bpfc_event_name(e), NULL);
	}
}

const struct coll_backend_ops coll_backend_bpf = {
	.name = "bpf",
	.open = be_open,
	.apply_config = be_apply_config,
	.read = be_read,
	.set_rate = be_set_rate,
	.close = be_close,
	.metrics = be_metrics,
};

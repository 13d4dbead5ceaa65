/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector_ctl: the collector's face: `show counters [CLASS]`, `rate set APP RATE` and the
 * tidal_class_* metrics (docs/control.md, docs/bpf.md).
 *
 * Counters are read from the backend when asked, so totals are current; rates are those
 * of the last completed sample interval. Reads the collector's state, owns nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector_int.h"
#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const dir_names[] = {"in", "out"};

static enum ctl_status cmd_counters(struct tidald *d, void *arg, const struct ctl_request *req,
				    struct ctl_reply *rep)
{
	static const char *const cols[] = {"class", "dir", "interface", "packets", "bytes",
					   "drops", "rate", "pps", "enforced"};
	struct collector *c = arg;
	const char *want = ctl_arg(req, 0);
	long want_id = -1;

	(void)d;
	if (want && (want_id = collector_class_of(c, want)) < 0)
		return ctl_fail(rep, CTL_NOT_FOUND,
				"no class %s: classes are the [app.*] names and \"unmatched\"",
				want);
	if (c->ops && collector_read(c))
		return ctl_fail(rep, CTL_INTERNAL, "reading the %s counters failed (see the log)",
				c->ops->name);
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	rep->data = json_array();
	if (!c->ops && asprintf(&rep->text, "no dataplane backend ([dataplane] backend = none)") < 0)
		rep->text = NULL;
	for (size_t i = 0; i < c->st.n; i++) {
		const struct coll_entry *e = &c->st.e[i];
		const char *name = collector_class_name(c, e->class_id);
		char pk[32], by[32], dr[32], rate[32], pps[32], enf[32];
		bool enforced = e->dir == COLL_DIR_OUT && e->class_id > 0 &&
				e->class_id <= c->n_apps && c->has_rate[e->class_id];
		json_t *o;

		if (!name || (want_id >= 0 && e->class_id != (uint32_t)want_id))
			continue;
		snprintf(pk, sizeof(pk), "%llu", (unsigned long long)e->total[COLL_PKT]);
		cfg_fmt_bytes(e->total[COLL_BYTES], by, sizeof(by));
		snprintf(dr, sizeof(dr), "%llu", (unsigned long long)e->total[COLL_DROPS]);
		if (e->have_rate) {
			cfg_fmt_bps_human(e->rate[COLL_BYTES] * 8, rate, sizeof(rate));
			snprintf(pps, sizeof(pps), "%.1f", e->rate[COLL_PKT]);
		} else {
			snprintf(rate, sizeof(rate), "-");
			snprintf(pps, sizeof(pps), "-");
		}
		if (enforced && c->rate[e->class_id])
			cfg_fmt_bps(c->rate[e->class_id], enf, sizeof(enf));
		else
			snprintf(enf, sizeof(enf), enforced ? "unlimited" : "-");
		const char *row[] = {name, dir_names[e->dir], e->ifname, pk, by, dr, rate, pps, enf};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));

		o = json_pack("{s:s,s:I,s:s,s:s,s:I,s:I,s:I}", "class", name, "class_id",
			      (json_int_t)e->class_id, "dir", dir_names[e->dir], "interface",
			      e->ifname, "packets", (json_int_t)e->total[COLL_PKT], "bytes",
			      (json_int_t)e->total[COLL_BYTES], "drops",
			      (json_int_t)e->total[COLL_DROPS]);
		if (e->have_rate) {
			json_object_set_new(o, "bps", json_real(e->rate[COLL_BYTES] * 8));
			json_object_set_new(o, "pps", json_real(e->rate[COLL_PKT]));
			json_object_set_new(o, "drop_pps", json_real(e->rate[COLL_DROPS]));
		} else {
			json_object_set_new(o, "bps", json_null());
			json_object_set_new(o, "pps", json_null());
			json_object_set_new(o, "drop_pps", json_null());
		}
		json_object_set_new(o, "enforced_bps",
				    enforced ? json_integer((json_int_t)c->rate[e->class_id])
					     : json_null());
		json_array_append_new(rep->data, o);
	}
	return CTL_OK;
}

static enum ctl_status cmd_rate_set(struct tidald *d, void *arg, const struct ctl_request *req,
				    struct ctl_reply *rep)
{
	struct collector *c = arg;
	const char *app = ctl_arg(req, 0), *rate = ctl_arg(req, 1), *why = NULL;
	uint64_t bps = 0;
	char buf[32];
	long id;
	int err;

	if (!app || !rate)
		return ctl_fail(rep, CTL_USAGE, "usage: rate set APP RATE (e.g. 100M, or none)");
	if (strcmp(rate, "none") && strcmp(rate, "unlimited") &&
	    cfg_parse_bps(rate, &bps, &why) < 0)
		return ctl_fail(rep, CTL_USAGE, "rate %s: %s", rate, why ? why : "invalid");
	id = collector_class_of(c, app);
	if (id <= 0)
		return ctl_fail(rep, CTL_NOT_FOUND, "no app %s in the running configuration", app);
	if (!c->ops)
		return ctl_fail(rep, CTL_REFUSED,
				"no dataplane backend enforces rates ([dataplane] backend = none)");
	err = collector_set_rate(d, app, bps);
	if (err)
		return ctl_fail(rep, CTL_INTERNAL, "enforcing the rate of %s failed: %s", app,
				strerror(-err));
	rep->data = json_pack("{s:s,s:I,s:I}", "app", app, "class_id", (json_int_t)id,
			      "rate_bps", (json_int_t)bps);
	if (asprintf(&rep->text, "%s: %s", app,
		     bps ? cfg_fmt_bps(bps, buf, sizeof(buf)) : "unlimited") < 0)
		rep->text = NULL;
	return CTL_OK;
}

void collector_register_commands(struct collector *c)
{
	ctl_register(c->d, "show counters", cmd_counters, c,
		     "packets, bytes, drops per class, direction and interface");
	ctl_register(c->d, "rate set", cmd_rate_set, c,
		     "enforce a rate (bits/s, or none) for an app's class now");
}

void collector_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	static const struct {
		const char *name, *help;
		int field;
	} fam[] = {
		{"tidal_class_packets_total", "packets counted per class, direction, interface",
		 COLL_PKT},
		{"tidal_class_bytes_total", "bytes counted per class, direction, interface",
		 COLL_BYTES},
		{"tidal_class_drops_total",
		 "packets tidal dropped (pacing horizon, meter, scheduler) per class", COLL_DROPS},
	};
	struct collector *c = state;

	(void)d;
	if (c->ops)
		collector_read(c);
	for (size_t f = 0; f < ARRAY_SIZE(fam); f++) {
		metrics_family(w, fam[f].name, METRICS_COUNTER, fam[f].help);
		for (size_t i = 0; i < c->st.n; i++) {
			const struct coll_entry *e = &c->st.e[i];
			const char *name = collector_class_name(c, e->class_id);

			if (name)
				metrics_sample(w, (double)e->total[fam[f].field], "class", name,
					       "dir", dir_names[e->dir], "interface", e->ifname,
					       NULL);
		}
	}
	metrics_family(w, "tidal_class_rate_bps", METRICS_GAUGE,
		       "measured rate per class and direction over the last sample interval, "
		       "all interfaces, in bits per second");
	for (size_t id = 0; c->sampled && c->samples && id <= c->n_apps; id++)
		for (int dir = 0; dir < 2; dir++)
			metrics_sample(w, c->rates[id].bps[dir], "class",
				       collector_class_name(c, (uint32_t)id), "dir",
				       dir_names[dir], NULL);
	metrics_family(w, "tidal_class_enforced_bps", METRICS_GAUGE,
		       "rate enforced for a class leaving the region in bits per second "
		       "(0: unlimited)");
	for (size_t id = 1; id <= c->n_apps; id++)
		if (c->has_rate[id])
			metrics_sample(w, (double)c->rate[id], "class", c->names[id], NULL);
	metrics_family(w, "tidal_collector_samples_total", METRICS_COUNTER,
		       "sample intervals completed");
	metrics_sample(w, (double)c->samples, NULL);
	metrics_family(w, "tidal_collector_read_errors_total", METRICS_COUNTER,
		       "backend reads that failed");
	metrics_sample(w, (double)c->read_errors, NULL);
	metrics_family(w, "tidal_collector_restarts_total", METRICS_COUNTER,
		       "backend counters seen restarting from zero");
	metrics_sample(w, (double)c->st.resets, NULL);
	if (c->ops && c->ops->metrics)
		c->ops->metrics(c->be, w);
}

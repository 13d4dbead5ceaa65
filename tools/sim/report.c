/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report: tidal-sim's output. The policy table for people, one JSON document for scripts
 * (-j), and a PNG of demand vs reservation on one link for every policy, drawn by rrdtool's
 * graphing (librrd) from a round-robin archive written in a temporary folder.
 *
 * Owns nothing beyond the temporary files it removes before returning.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rrd.h>

#include "sim.h"
#include "units.h"

static const char *human(double v, const char *unit, char *buf, size_t len)
{
	static const char *const pfx[] = {"", "k", "M", "G", "T", "P", "E"};
	unsigned i = 0;
	double a = fabs(v);
	while (a >= 1000 && i < 6)
		a /= 1000, v /= 1000, i++;
	snprintf(buf, len, "%.3g%s%s", v, pfx[i], unit);
	return buf;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : (a > 0 ? INFINITY : 1.0);
}

void sim_report_table(const struct sim_report *r, FILE *out)
{
	const struct sim_scenario *s = r->s;
	char b0[32], b1[32], b2[32], b3[32];
	unsigned maxp = 0;
	for (size_t c = 0; c < s->n_cls; c++)
		if (s->cls[c].priority > maxp)
			maxp = s->cls[c].priority;
	double days = 0;
	for (int p = 0; p < SIM_N_POLICIES; p++)
		if (r->ran[p]) {
			days = (double)(r->m[p].eval_end - r->m[p].eval_start) / 86400.0;
			break;
		}
	fprintf(out,
	        "scenario: %zu regions, %zu links, %zu pools, %zu classes; step %us, block %us, "
	        "period %us; %.1f days evaluated after the warm-up\n",
	        s->n_regions, s->n_links, s->n_pools, s->n_cls, s->step_s, s->block_s, s->period_s,
	        days);
	fprintf(out, "%-10s %12s %10s", "policy", "unserved", "viol.min");
	for (unsigned p = 0; p <= maxp; p++) {
		char h[16];
		snprintf(h, sizeof(h), "p%u", p);
		fprintf(out, " %8s", h);
	}
	fprintf(out, " %12s %12s %8s %8s %9s %9s %8s\n", "reserved", "unused", "changes", "preempt",
	        "ctl ms", "ctl max", "util max");
	for (int p = 0; p < SIM_N_POLICIES; p++) {
		if (!r->ran[p])
			continue;
		const struct sim_metrics *m = &r->m[p];
		fprintf(out, "%-10s %12s %10.0f", sim_policy_name((enum sim_policy)p),
		        human(m->unserved_bits / 8, "B", b0, sizeof(b0)), m->violation_min_total);
		for (unsigned q = 0; q <= maxp; q++)
			fprintf(out, " %8.0f", m->violation_min[q]);
		fprintf(out, " %12s %12s %8" PRIu64 " %8" PRIu64 " %9.2f %9.2f %7.1f%%\n",
		        human(m->reserved_bith, "bh", b1, sizeof(b1)),
		        human(m->unused_bith, "bh", b2, sizeof(b2)), m->level_changes,
		        m->preemptions, m->ctl_ms_mean, m->ctl_ms_max, 100 * m->max_link_util);
	}
	fprintf(out, "(unserved in bytes; viol.min = class-minutes with demand above the "
	             "reservation, total and per priority; reserved/unused in bit-hours; changes = "
	             "reservation level changes; ctl = controller time per cycle)\n");
	if (r->ran[SIM_PROACTIVE] && r->m[SIM_PROACTIVE].fc_rounds)
		fprintf(out,
		        "proactive forecasting: %zu rounds, %.2f s per round, %zu failed "
		        "series-forecasts; %.1f%% of block peaks at or below their SLO quantile\n",
		        r->m[SIM_PROACTIVE].fc_rounds, r->m[SIM_PROACTIVE].fc_s_mean,
		        r->m[SIM_PROACTIVE].fc_failed,
		        r->m[SIM_PROACTIVE].fc_checked
		                ? 100.0 * (double)r->m[SIM_PROACTIVE].fc_covered /
		                          (double)r->m[SIM_PROACTIVE].fc_checked
		                : 0.0);
	const struct sim_metrics *pr = &r->m[SIM_PROACTIVE], *re = &r->m[SIM_REACTIVE],
	                         * or = &r->m[SIM_ORACLE];
	if (r->ran[SIM_PROACTIVE] && r->ran[SIM_REACTIVE])
		fprintf(out,
		        "reactive/proactive violation minutes: %.2fx; proactive/reactive "
		        "reserved bit-hours: %.3fx\n",
		        ratio(re->violation_min_total, pr->violation_min_total),
		        ratio(pr->reserved_bith, re->reserved_bith));
	if (r->ran[SIM_PROACTIVE] && r->ran[SIM_ORACLE])
		fprintf(out, "proactive/oracle reserved bit-hours: %.3fx\n",
		        ratio(pr->reserved_bith, or->reserved_bith));
	for (int p = 0; p < SIM_N_POLICIES; p++)
		if (r->ran[p])
			fprintf(out, "%s: wall %.1f s, %zu cycles%s%s\n",
			        sim_policy_name((enum sim_policy)p), r->m[p].wall_s, r->m[p].cycles,
			        r->m[p].pool_unit_h_reserved > 0 ? ", pools: " : "",
			        r->m[p].pool_unit_h_reserved > 0
			                ? human(r->m[p].pool_unit_h_reserved, " unit-h reserved",
			                        b3, sizeof(b3))
			                : "");
}

static json_t *metrics_json(const struct sim_metrics *m)
{
	json_t *v = json_array();
	for (int p = 0; p < ALLOC_PRIO_LEVELS; p++)
		json_array_append_new(v, json_real(m->violation_min[p]));
	json_t *o = json_pack(
	        "{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:o,s:{s:f,s:f,s:f},s:I,s:I,s:I,s:I,s:I,s:f,"
	        "s:I,s:f,s:f,s:I,s:f,s:f,s:I,s:f}",
	        "demand_bits", m->demand_bits, "served_bits", m->served_bits, "unserved_bits",
	        m->unserved_bits, "unserved_bytes", m->unserved_bits / 8, "reserved_bit_hours",
	        m->reserved_bith, "used_bit_hours", m->used_bith, "unused_bit_hours",
	        m->unused_bith, "violation_minutes", m->violation_min_total,
	        "violation_minutes_by_priority", v, "pools", "reserved_unit_hours",
	        m->pool_unit_h_reserved, "unused_unit_hours", m->pool_unit_h_unused,
	        "violation_minutes", m->pool_violation_min, "level_changes",
	        (json_int_t)m->level_changes, "requests", (json_int_t)m->requests, "releases",
	        (json_int_t)m->releases, "preemptions", (json_int_t)m->preemptions, "refused",
	        (json_int_t)m->refused, "max_link_utilisation", m->max_link_util, "cycles",
	        (json_int_t)m->cycles, "controller_ms_mean", m->ctl_ms_mean, "controller_ms_max",
	        m->ctl_ms_max, "forecast_rounds", (json_int_t)m->fc_rounds, "forecast_s_mean",
	        m->fc_s_mean, "forecast_s_total", m->fc_s_total, "forecast_failed",
	        (json_int_t)m->fc_failed, "wall_s", m->wall_s);
	json_object_set_new(o, "forecast_coverage",
	                    m->fc_checked ? json_real((double)m->fc_covered / (double)m->fc_checked)
	                                  : json_null());
	return o;
}

int sim_report_json(const struct sim_report *r, FILE *out)
{
	const struct sim_scenario *s = r->s;
	json_t *pol = json_object();
	int64_t es = 0, ee = 0;
	for (int p = 0; p < SIM_N_POLICIES; p++)
		if (r->ran[p]) {
			json_object_set_new(pol, sim_policy_name((enum sim_policy)p),
			                    metrics_json(&r->m[p]));
			es = r->m[p].eval_start;
			ee = r->m[p].eval_end;
		}
	char t0[40], t1[40];
	json_t *doc = json_pack("{s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s},s:o}", "scenario",
	                        "regions", (json_int_t)s->n_regions, "links",
	                        (json_int_t)s->n_links, "pools", (json_int_t)s->n_pools, "classes",
	                        (json_int_t)s->n_cls, "step_s", (json_int_t)s->step_s, "block_s",
	                        (json_int_t)s->block_s, "period_s", (json_int_t)s->period_s,
	                        "steps", (json_int_t)(s->n_steps - s->hist_steps), "eval_start",
	                        cfg_fmt_time(es, t0, sizeof(t0)), "eval_end",
	                        cfg_fmt_time(ee, t1, sizeof(t1)), "policies", pol);
	json_t *ratios = json_object();
	const struct sim_metrics *pr = &r->m[SIM_PROACTIVE], *re = &r->m[SIM_REACTIVE],
	                         * or = &r->m[SIM_ORACLE];
	if (r->ran[SIM_PROACTIVE] && r->ran[SIM_REACTIVE]) {
		json_object_set_new(
		        ratios, "reactive_over_proactive_violation_minutes",
		        json_real(ratio(re->violation_min_total, pr->violation_min_total)));
		json_object_set_new(ratios, "proactive_over_reactive_reserved",
		                    json_real(ratio(pr->reserved_bith, re->reserved_bith)));
	}
	if (r->ran[SIM_PROACTIVE] && r->ran[SIM_ORACLE])
		json_object_set_new(ratios, "proactive_over_oracle_reserved",
		                    json_real(ratio(pr->reserved_bith, or->reserved_bith)));
	json_object_set_new(doc, "ratios", ratios);
	int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	fputc('\n', out);
	json_decref(doc);
	return rc ? -EIO : 0;
}

/* ---- plot ---------------------------------------------------------------------------- */

static const char *const colours[SIM_N_POLICIES] = {"#9A6324", "#E6194B", "#0060FF", "#3CB44B"};

int sim_report_plot(const struct sim_report *r, const char *png, char *err, size_t errlen)
{
	const struct sim_scenario *s = r->s;
	const struct sim_series *base = NULL;
	int64_t start = 0;
	for (int p = 0; p < SIM_N_POLICIES; p++)
		if (r->ran[p] && r->series[p].n) {
			base = &r->series[p];
			start = r->m[p].eval_start;
			break;
		}
	if (!base || r->plot_link < 0) {
		snprintf(err, errlen, "nothing to plot (no link chosen or no policy ran)");
		return -EINVAL;
	}
	/* The steps plotted: all, or the first plot_days of the window. */
	struct sim_series cut = *base;
	if (r->plot_days > 0 && r->plot_days * 86400 / s->step_s < (double)cut.n)
		cut.n = (size_t)(r->plot_days * 86400 / s->step_s);
	base = &cut;
	char dir[] = "/tmp/tidal-sim-XXXXXX", file[64], a[SIM_N_POLICIES + 2][64];
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		return -errno;
	}
	snprintf(file, sizeof(file), "%s/link.rrd", dir);
	const char *cargs[SIM_N_POLICIES + 2];
	int nc = 0;
	snprintf(a[nc], sizeof(a[nc]), "DS:demand:GAUGE:%u:0:U", 2 * s->step_s);
	cargs[nc] = a[nc], nc++;
	for (int p = 0; p < SIM_N_POLICIES; p++) {
		snprintf(a[nc], sizeof(a[nc]), "DS:%s:GAUGE:%u:0:U",
		         sim_policy_name((enum sim_policy)p), 2 * s->step_s);
		cargs[nc] = a[nc], nc++;
	}
	snprintf(a[nc], sizeof(a[nc]), "RRA:AVERAGE:0.5:1:%zu", base->n + 10);
	cargs[nc] = a[nc], nc++;
	int rc = 0;
	char **upd = NULL;
	rrd_clear_error();
	if (rrd_create_r(file, s->step_s, (time_t)(start - 1), nc, cargs)) {
		snprintf(err, errlen, "rrd create: %s", rrd_get_error());
		rc = -EIO;
		goto out;
	}
	upd = calloc(base->n, sizeof(char *));
	if (!upd) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < base->n; i++) {
		char line[512];
		size_t off = (size_t)snprintf(line, sizeof(line), "%lld:%.0f",
		                              (long long)(start + (int64_t)((i + 1) * s->step_s)),
		                              base->demand[i]);
		for (int p = 0; p < SIM_N_POLICIES; p++) {
			if (r->ran[p] && i < r->series[p].n)
				off += (size_t)snprintf(line + off, sizeof(line) - off, ":%.0f",
				                        r->series[p].booked[i]);
			else
				off += (size_t)snprintf(line + off, sizeof(line) - off, ":U");
		}
		upd[i] = strdup(line);
		if (!upd[i]) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (rrd_update_r(file, NULL, (int)base->n, (const char **)upd)) {
		snprintf(err, errlen, "rrd update: %s", rrd_get_error());
		rc = -EIO;
		goto out;
	}
	{
		const struct sim_link *lk = &s->links[r->plot_link];
		char args[40][256];
		char *argv[40];
		int n = 0;
#define ARG(...) (snprintf(args[n], sizeof(args[n]), __VA_ARGS__), argv[n] = args[n], n++)
		ARG("graph");
		ARG("%s", png);
		ARG("--start");
		ARG("%lld", (long long)start);
		ARG("--end");
		ARG("%lld", (long long)(start + (int64_t)(base->n * s->step_s)));
		ARG("--width");
		ARG("1200");
		ARG("--height");
		ARG("400");
		ARG("--imgformat");
		ARG("PNG");
		ARG("--title");
		ARG("%s: demand and reservation per policy (tidal-sim)", lk->name);
		ARG("--vertical-label");
		ARG("bit/s");
		ARG("--lower-limit");
		ARG("0");
		ARG("DEF:demand=%s:demand:AVERAGE", file);
		ARG("AREA:demand#C8C8C8:demand of the link's classes");
		for (int p = 0; p < SIM_N_POLICIES; p++) {
			if (!r->ran[p])
				continue;
			const char *nm = sim_policy_name((enum sim_policy)p);
			ARG("DEF:%s=%s:%s:AVERAGE", nm, file, nm);
			ARG("LINE1.5:%s%s:%s booked", nm, colours[p], nm);
		}
		ARG("HRULE:%" PRIu64 "#000000:capacity:dashes", lk->capacity);
#undef ARG
		optind = 0;
		opterr = 0;
		rrd_info_t *info = rrd_graph_v(n, argv);
		if (!info) {
			snprintf(err, errlen, "rrd graph: %s", rrd_get_error());
			rc = -EIO;
		} else {
			rrd_info_free(info);
		}
	}
out:
	if (upd)
		for (size_t i = 0; i < base->n; i++)
			free(upd[i]);
	free(upd);
	unlink(file);
	rmdir(dir);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast_ctl: the forecast module's control commands (docs/forecasting.md):
 *   show forecast CLASS [--horizon D]   the latest forecast, how it was chosen, per step
 *   forecast run                        start a round now (or right after the running one)
 *   show events                         calendar events of the config and of event add
 *   event add NAME --start T --end T [--multiplier X] [--apps A,B]
 *   event remove NAME [--start T]       runtime events only
 *
 * Owns nothing: reads the module's results and edits its runtime event list (saved before
 * the reply says it was done). Never runs a forecast itself.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "forecast_int.h"
#include "history_int.h"
#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void fmt_value(bool bps, double v, char *buf, size_t len)
{
	if (bps)
		cfg_fmt_bps_human(v, buf, len);
	else
		snprintf(buf, len, "%.4g", v);
}

static void fmt_level(double lv, char *buf, size_t len)
{
	snprintf(buf, len, "q%g", lv);
}

/* ---- show forecast ------------------------------------------------------------------------ */

static json_t *candidates_json(const struct fc_result *res, FILE *text)
{
	json_t *a = json_array();
	fprintf(text,
	        "\ncandidates (rolling-origin cross-validation, lower score is better; * = used):"
	        "\n  %-34s %8s %8s %8s %8s %8s %9s",
	        "model", "MASE", "sMAPE", "MSIS", "cover95", "score", "seconds");
	for (size_t i = 0; i < res->n_candidates; i++) {
		const struct fc_candidate *c = &res->cand[i];
		json_array_append_new(
		        a,
		        json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:f,s:f,s:b}", "family",
		                  c->family, "model", c->name, "status",
		                  c->status ? strerror(-c->status) : "ok", "cv_mase",
		                  isfinite(c->cv_mase) ? json_real(c->cv_mase) : json_null(),
		                  "cv_smape",
		                  isfinite(c->cv_smape) ? json_real(c->cv_smape) : json_null(),
		                  "cv_msis",
		                  isfinite(c->cv_msis) ? json_real(c->cv_msis) : json_null(),
		                  "cv_coverage95",
		                  isfinite(c->cv_coverage) ? json_real(c->cv_coverage)
		                                           : json_null(),
		                  "score", isfinite(c->score) ? json_real(c->score) : json_null(),
		                  "complexity", c->complexity, "seconds", c->seconds, "selected",
		                  c->selected));
		if (c->status) {
			fprintf(text, "\n  %-34s not usable: %s", c->name[0] ? c->name : c->family,
			        strerror(-c->status));
			continue;
		}
		fprintf(text, "\n%c %-34s %8.3f %8.2f %8.2f %7.1f%% %8.3f %9.4f",
		        c->selected ? '*' : ' ', c->name, c->cv_mase, c->cv_smape, c->cv_msis,
		        100 * c->cv_coverage, c->score, c->seconds);
	}
	return a;
}

static json_t *adjustments_json(const struct fc_entry *e, FILE *text)
{
	const struct fc_result *res = e->res;
	const struct demand_forecast *f = &e->df;
	json_t *a = json_array();
	for (size_t i = 0; i < res->n_adjustments; i++) {
		const struct fc_adjustment *x = &res->adj[i];
		char s[32], t[32];
		int64_t from = f->origin_s + (int64_t)(x->first_step * f->step_s);
		cfg_fmt_time(from, s, sizeof(s));
		cfg_fmt_time(from + (int64_t)(x->n_steps * f->step_s), t, sizeof(t));
		json_array_append_new(
		        a, json_pack("{s:s,s:I,s:I,s:s,s:s,s:f,s:b,s:I}", "event", x->event,
		                     "first_step", (json_int_t)x->first_step + 1, "steps",
		                     (json_int_t)x->n_steps, "start", s, "end", t, "multiplier",
		                     x->multiplier, "learned", x->learned, "occurrences",
		                     (json_int_t)x->occurrences));
		if (x->learned)
			fprintf(text,
			        "\nevent %s: x%.3g learned from %u past occurrence%s, steps "
			        "%zu-%zu (%s to %s)",
			        x->event, x->multiplier, x->occurrences,
			        x->occurrences == 1 ? "" : "s", x->first_step + 1,
			        x->first_step + x->n_steps, s, t);
		else
			fprintf(text, "\nevent %s: x%.3g (given), steps %zu-%zu (%s to %s)",
			        x->event, x->multiplier, x->first_step + 1,
			        x->first_step + x->n_steps, s, t);
	}
	if (!res->n_adjustments)
		fprintf(text, "\nno calendar event covers this forecast");
	return a;
}

static enum ctl_status cmd_show_forecast(struct tidald *d, void *arg, const struct ctl_request *req,
                                         struct ctl_reply *rep)
{
	struct fc_mod *m = arg;
	const char *name = ctl_arg(req, 0);
	const char *hopt = ctl_opt(req, "horizon");
	bool is_app = false;
	if (!name)
		return ctl_fail(rep, CTL_USAGE, "show forecast needs CLASS");
	if (!hist_name_ok(name) || !fcm_series_known(d, name, &is_app)) {
		char *known = fcm_known_list(d);
		ctl_fail(rep, CTL_NOT_FOUND, "unknown class '%s'; series tidald knows: %s", name,
		         known ? known : "?");
		free(known);
		return CTL_NOT_FOUND;
	}
	const struct fc_entry *e = fcm_entry(m, name);
	if (!e || !e->has) {
		const char *why = e                    ? e->why
		                  : fcm_rounds_done(m) ? "it was not part of the last round"
		                                       : "no forecast round has finished yet";
		return ctl_fail(rep, CTL_NOT_FOUND,
		                "no forecast for %s yet: %s (tidalctl forecast run starts a round)",
		                name, why);
	}
	const struct demand_forecast *f = &e->df;
	const struct fc_result *res = e->res;
	size_t h = f->h;
	char a[32], b[32], c[32];
	if (hopt) {
		uint64_t ms;
		const char *why = NULL;
		cfg_fmt_duration((uint64_t)f->h * f->step_s * 1000, a, sizeof(a));
		if (cfg_parse_duration(hopt, &ms, &why) < 0 || ms == 0)
			return ctl_fail(rep, CTL_USAGE, "--horizon '%s': %s", hopt,
			                why ? why : "a duration above 0 such as 24h");
		uint64_t steps = (ms / 1000 + f->step_s - 1) / f->step_s;
		if (steps > f->h)
			return ctl_fail(rep, CTL_USAGE, "--horizon %s is beyond the forecast's %s",
			                hopt, a);
		h = (size_t)steps;
	}

	char *text = NULL;
	size_t tlen = 0;
	FILE *t = open_memstream(&text, &tlen);
	if (!t)
		return ctl_fail(rep, CTL_INTERNAL, "out of memory");
	cfg_fmt_time(e->computed_s, a, sizeof(a));
	cfg_fmt_duration(f->step_s * 1000, b, sizeof(b));
	cfg_fmt_duration((uint64_t)e->hist_n * f->step_s * 1000, c, sizeof(c));
	fprintf(t,
	        "%s: forecast of round %u (%s) from %zu buckets of %s (%s) of history, %zu "
	        "filled in",
	        name, e->round, a, e->hist_n, b, c, res->gaps_filled);
	fprintf(t, "\nmodel: %s, intervals %s", res->model,
	        res->calibrated ? "calibrated on cross-validation errors"
	                        : "from the model (not calibrated)");
	if (e->state != FCE_OK)
		fprintf(t, "\nlatest attempt (round %u): %s", e->attempt_round, e->why);
	json_t *cand = candidates_json(res, t);
	json_t *adj = adjustments_json(e, t);
	fputc('\n', t);

	/* the table and the steps */
	size_t ncol = 3 + f->n_levels;
	const char **cols = calloc(ncol, sizeof(*cols));
	char(*names)[24] = calloc(f->n_levels, sizeof(*names));
	char(*cells)[32] = calloc(ncol, sizeof(*cells));
	const char **row = calloc(ncol, sizeof(*row));
	json_t *steps = json_array(), *levels = json_array();
	if (!cols || !names || !cells || !row) {
		fclose(t);
		free(text);
		free(cols), free(names), free(cells), free(row);
		json_decref(steps), json_decref(levels), json_decref(cand), json_decref(adj);
		return ctl_fail(rep, CTL_INTERNAL, "out of memory");
	}
	cols[0] = "step";
	cols[1] = "time";
	cols[2] = "point";
	for (size_t j = 0; j < f->n_levels; j++) {
		fmt_level(f->levels[j], names[j], sizeof(names[j]));
		cols[3 + j] = names[j];
		json_array_append_new(levels, json_real(f->levels[j]));
	}
	rep->table = ctl_table_new(cols, ncol);
	for (size_t s = 0; s < h; s++) {
		int64_t at = f->origin_s + (int64_t)(s * f->step_s);
		snprintf(cells[0], sizeof(cells[0]), "%zu", s + 1);
		cfg_fmt_time(at, cells[1], sizeof(cells[1]));
		fmt_value(is_app, f->point[s], cells[2], sizeof(cells[2]));
		json_t *o = json_pack("{s:I,s:s,s:f}", "step", (json_int_t)s + 1, "time", cells[1],
		                      "point", f->point[s]);
		for (size_t j = 0; j < f->n_levels; j++) {
			double v = f->q[s * f->n_levels + j];
			fmt_value(is_app, v, cells[3 + j], sizeof(cells[3 + j]));
			json_object_set_new(o, names[j], json_real(v));
		}
		for (size_t k = 0; k < ncol; k++)
			row[k] = cells[k];
		ctl_table_add(rep->table, row, ncol);
		json_array_append_new(steps, o);
	}
	fclose(t);
	rep->text = text;

	json_t *periods = json_array();
	for (size_t i = 0; i < e->n_periods; i++)
		json_array_append_new(periods, json_integer(e->periods[i]));
	cfg_fmt_time(f->origin_s, a, sizeof(a));
	cfg_fmt_time(e->hist_first_s, b, sizeof(b));
	cfg_fmt_time(e->computed_s, c, sizeof(c));
	rep->data = json_pack(
	        "{s:s,s:s,s:I,s:s,s:s,s:b,s:b,s:s,s:I,s:I,s:I,s:f,s:{s:I,s:s,s:I,s:o},s:o,s:o,"
	        "s:o,s:o,s:s,s:s?,s:f}",
	        "series", name, "unit", is_app ? "bps" : "series", "round", (json_int_t)e->round,
	        "computed_at", c, "model", res->model, "combined", res->combined, "calibrated",
	        res->calibrated, "origin", a, "step_s", (json_int_t)f->step_s, "horizon_steps",
	        (json_int_t)f->h, "shown_steps", (json_int_t)h, "event_factor_max",
	        f->event_factor_max, "history", "buckets", (json_int_t)e->hist_n, "first", b,
	        "gaps_filled", (json_int_t)res->gaps_filled, "periods", periods, "levels", levels,
	        "candidates", cand, "adjustments", adj, "steps", steps, "state",
	        fce_state_name(e->state), "last_error", e->state != FCE_OK ? e->why : NULL,
	        "cpu_seconds", res->seconds);
	free(cols);
	free(names);
	free(cells);
	free(row);
	return CTL_OK;
}

/* ---- forecast run ------------------------------------------------------------------------- */

static enum ctl_status cmd_run(struct tidald *d, void *arg, const struct ctl_request *req,
                               struct ctl_reply *rep)
{
	struct fc_mod *m = arg;
	unsigned id = 0;
	bool queued = false;
	(void)d, (void)req;
	int rc = fcm_trigger(m, &id, &queued);
	if (rc < 0)
		return ctl_fail(rep, CTL_INTERNAL,
		                "cannot start a forecast round (%s); see the log", strerror(-rc));
	rep->data = json_pack("{s:I,s:b}", "round", (json_int_t)id, "queued", queued);
	if (asprintf(&rep->text,
	             queued ? "a round is running; round %u starts when it ends"
	                    : "forecast round %u started; show forecast has its results when it "
	                      "ends",
	             id) < 0)
		rep->text = NULL;
	return CTL_OK;
}

/* ---- events ------------------------------------------------------------------------------- */

static void apps_text(char (*apps)[FCM_NAME_MAX], size_t n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", apps[i]);
	if (!n)
		snprintf(buf, len, "all apps");
}

static void event_row(json_t *table, json_t *data, const char *name, const char *source,
                      int64_t start, int64_t end, double mult, const char *apps_txt, json_t *apps)
{
	char s[32], e[32], mu[32];
	cfg_fmt_time(start, s, sizeof(s));
	cfg_fmt_time(end, e, sizeof(e));
	if (mult > 0)
		snprintf(mu, sizeof(mu), "%g", mult);
	else
		snprintf(mu, sizeof(mu), "learned");
	const char *row[] = {name, source, s, e, mu, apps_txt};
	ctl_table_add(table, row, ARRAY_SIZE(row));
	json_array_append_new(data,
	                      json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "name", name, "source", source,
	                                "start", s, "end", e, "multiplier",
	                                mult > 0 ? json_real(mult) : json_null(), "apps", apps));
}

static enum ctl_status cmd_show_events(struct tidald *d, void *arg, const struct ctl_request *req,
                                       struct ctl_reply *rep)
{
	struct fc_mod *m = arg;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	(void)req;
	static const char *const cols[] = {"name", "source", "start", "end", "multiplier", "apps"};
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	rep->data = json_array();
	for (size_t i = 0; i < cfg->n_events; i++) {
		const struct cfg_event *ev = &cfg->events[i];
		char txt[512] = "";
		size_t off = 0;
		json_t *apps = json_array();
		for (size_t k = 0; k < ev->n_apps && off < sizeof(txt); k++) {
			off += (size_t)snprintf(txt + off, sizeof(txt) - off, "%s%s", k ? "," : "",
			                        ev->apps[k]);
			json_array_append_new(apps, json_string(ev->apps[k]));
		}
		if (!ev->n_apps)
			snprintf(txt, sizeof(txt), "all apps");
		event_row(rep->table, rep->data, ev->name, "config", ev->start_s, ev->end_s,
		          ev->multiplier, txt, apps);
	}
	struct rt_events *rt = fcm_events(m);
	for (size_t i = 0; i < rt->n; i++) {
		const struct rt_event *ev = &rt->v[i];
		char txt[512];
		json_t *apps = json_array();
		for (size_t k = 0; k < ev->n_apps; k++)
			json_array_append_new(apps, json_string(ev->apps[k]));
		apps_text(ev->apps, ev->n_apps, txt, sizeof(txt));
		event_row(rep->table, rep->data, ev->name, "runtime", ev->start_s, ev->end_s,
		          ev->multiplier, txt, apps);
	}
	return CTL_OK;
}

static const char *event_name_problem(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CFG_NAME_MAX)
		return "an event name has 1 to 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return "event names use lower-case letters, digits and '-' (as in "
			       "[event.NAME])";
	if (s[0] == '-' || s[n - 1] == '-')
		return "an event name cannot start or end with '-'";
	return NULL;
}

/* Parse --apps into ev (each a configured app or a series tidald knows). */
static enum ctl_status parse_apps(struct tidald *d, const char *s, struct rt_event *ev,
                                  struct ctl_reply *rep)
{
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	ev->apps = calloc(cap, sizeof(*ev->apps));
	if (!ev->apps)
		return ctl_fail(rep, CTL_INTERNAL, "out of memory");
	char *copy = strdup(s);
	if (!copy)
		return ctl_fail(rep, CTL_INTERNAL, "out of memory");
	enum ctl_status st = CTL_OK;
	for (char *save, *tok = strtok_r(copy, ",", &save); tok && st == CTL_OK;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		char *end = tok + strlen(tok);
		while (end > tok && end[-1] == ' ')
			*--end = '\0';
		bool is_app;
		if (!*tok)
			continue;
		if (!hist_name_ok(tok) || !fcm_series_known(d, tok, &is_app)) {
			char *known = fcm_known_list(d);
			st = ctl_fail(rep, CTL_USAGE, "--apps: no app or series '%s' (known: %s)",
			              tok, known ? known : "?");
			free(known);
			break;
		}
		bool dup = false;
		for (size_t i = 0; i < ev->n_apps; i++)
			dup |= strcmp(ev->apps[i], tok) == 0;
		if (!dup)
			snprintf(ev->apps[ev->n_apps++], FCM_NAME_MAX, "%s", tok);
	}
	free(copy);
	if (st == CTL_OK && ev->n_apps == 0)
		st = ctl_fail(rep, CTL_USAGE,
		              "--apps is empty; leave it out for an event of every app");
	return st;
}

static enum ctl_status cmd_event_add(struct tidald *d, void *arg, const struct ctl_request *req,
                                     struct ctl_reply *rep)
{
	struct fc_mod *m = arg;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct rt_events *rt = fcm_events(m);
	const char *name = ctl_arg(req, 0), *s_start = ctl_opt(req, "start"),
	           *s_end = ctl_opt(req, "end"), *s_mult = ctl_opt(req, "multiplier"),
	           *s_apps = ctl_opt(req, "apps"), *why = NULL, *bad;
	int64_t now = tidald_now();
	struct rt_event ev = {0};
	char a[32], b[32];

	if (!name || !s_start || !s_end)
		return ctl_fail(rep, CTL_USAGE, "event add needs NAME --start T --end T");
	if ((bad = event_name_problem(name)))
		return ctl_fail(rep, CTL_USAGE, "event name '%s': %s", name, bad);
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	if (cfg_parse_time_rel(s_start, now, &ev.start_s, &why) < 0)
		return ctl_fail(rep, CTL_USAGE, "--start '%s': %s", s_start,
		                why ? why : "not a time");
	if (cfg_parse_time_rel(s_end, now, &ev.end_s, &why) < 0)
		return ctl_fail(rep, CTL_USAGE, "--end '%s': %s", s_end, why ? why : "not a time");
	cfg_fmt_time(ev.start_s, a, sizeof(a));
	cfg_fmt_time(ev.end_s, b, sizeof(b));
	if (ev.end_s <= ev.start_s)
		return ctl_fail(rep, CTL_USAGE, "--end %s is not after --start %s", b, a);
	if (ev.end_s - ev.start_s > FCM_MAX_EVENT_S)
		return ctl_fail(rep, CTL_USAGE,
		                "the event lasts more than 366 days (%s to %s); calendar events "
		                "are for days and weeks, seasons are for longer cycles",
		                a, b);
	if (s_mult) {
		if (cfg_parse_double(s_mult, 0, 1000, &ev.multiplier, &why) < 0 ||
		    !(ev.multiplier > 0) || !(ev.multiplier < 1000))
			return ctl_fail(rep, CTL_USAGE,
			                "--multiplier '%s': a factor above 0 and below 1000 such "
			                "as 1.8 (leave it out to learn the effect from past "
			                "occurrences)",
			                s_mult);
	}
	if (s_apps) {
		enum ctl_status st = parse_apps(d, s_apps, &ev, rep);
		if (st != CTL_OK) {
			rtev_clear(&ev);
			return st;
		}
	}
	/* the same name twice at overlapping times would count the event twice */
	for (size_t i = 0; i < cfg->n_events; i++) {
		const struct cfg_event *c = &cfg->events[i];
		if (strcmp(c->name, name) == 0 && c->start_s < ev.end_s && ev.start_s < c->end_s) {
			rtev_clear(&ev);
			return ctl_fail(rep, CTL_REFUSED,
			                "[event.%s] in the config already covers part of %s to %s",
			                name, a, b);
		}
	}
	for (size_t i = 0; i < rt->n; i++) {
		const struct rt_event *c = &rt->v[i];
		if (strcmp(c->name, name) == 0 && c->start_s < ev.end_s && ev.start_s < c->end_s) {
			char c1[32], c2[32];
			cfg_fmt_time(c->start_s, c1, sizeof(c1));
			cfg_fmt_time(c->end_s, c2, sizeof(c2));
			rtev_clear(&ev);
			return ctl_fail(rep, CTL_REFUSED,
			                "event %s from %s to %s overlaps it; remove that one first "
			                "(tidalctl event remove %s --start %s)",
			                name, c1, c2, name, c1);
		}
	}
	if (rt->n >= FCM_MAX_RT_EVENTS) {
		rtev_clear(&ev);
		return ctl_fail(rep, CTL_REFUSED,
		                "already %d runtime events; remove past ones first",
		                FCM_MAX_RT_EVENTS);
	}
	struct rt_event *nv = realloc(rt->v, (rt->n + 1) * sizeof(*nv));
	if (!nv) {
		rtev_clear(&ev);
		return ctl_fail(rep, CTL_INTERNAL, "out of memory");
	}
	rt->v = nv;
	ev.added_s = now;
	rt->v[rt->n++] = ev;
	int rc = rtev_save(rt);
	if (rc < 0) {
		rtev_clear(&rt->v[--rt->n]);
		return ctl_fail(rep, CTL_INTERNAL, "cannot save %s (%s); the event was not added",
		                rt->path, strerror(-rc));
	}
	char apps[512];
	apps_text(ev.apps, ev.n_apps, apps, sizeof(apps));
	json_t *japps = json_array();
	for (size_t i = 0; i < ev.n_apps; i++)
		json_array_append_new(japps, json_string(ev.apps[i]));
	rep->data =
	        json_pack("{s:s,s:s,s:s,s:o,s:o,s:s}", "name", name, "start", a, "end", b,
	                  "multiplier", ev.multiplier > 0 ? json_real(ev.multiplier) : json_null(),
	                  "apps", japps, "source", "runtime");
	char mult[48];
	if (ev.multiplier > 0)
		snprintf(mult, sizeof(mult), "x%g", ev.multiplier);
	else
		snprintf(mult, sizeof(mult), "effect learned from past occurrences");
	if (asprintf(&rep->text,
	             "event %s added: %s to %s, %s, %s%s; the next forecast round includes it "
	             "(tidalctl forecast run starts one now)",
	             name, a, b, mult, apps,
	             ev.end_s <= now ? " (in the past: it teaches the "
	                               "effect of later occurrences)"
	                             : "") < 0)
		rep->text = NULL;
	log_info("forecast: event %s added (%s to %s, %s, %s)", name, a, b, mult, apps);
	return CTL_OK;
}

static enum ctl_status cmd_event_remove(struct tidald *d, void *arg, const struct ctl_request *req,
                                        struct ctl_reply *rep)
{
	struct fc_mod *m = arg;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct rt_events *rt = fcm_events(m);
	const char *name = ctl_arg(req, 0), *s_start = ctl_opt(req, "start"), *why = NULL;
	int64_t start = 0;
	if (!name)
		return ctl_fail(rep, CTL_USAGE, "event remove needs NAME");
	if (s_start && cfg_parse_time_rel(s_start, tidald_now(), &start, &why) < 0)
		return ctl_fail(rep, CTL_USAGE, "--start '%s': %s", s_start,
		                why ? why : "not a time");
	size_t removed = 0, k = 0;
	struct rt_event *keep = calloc(rt->n ? rt->n : 1, sizeof(*keep));
	if (!keep)
		return ctl_fail(rep, CTL_INTERNAL, "out of memory");
	for (size_t i = 0; i < rt->n; i++) {
		bool match =
		        strcmp(rt->v[i].name, name) == 0 && (!s_start || rt->v[i].start_s == start);
		if (match)
			removed++;
		else
			keep[k++] = rt->v[i];
	}
	if (!removed) {
		free(keep);
		for (size_t i = 0; i < cfg->n_events; i++)
			if (strcmp(cfg->events[i].name, name) == 0)
				return ctl_fail(rep, CTL_REFUSED,
				                "event %s is in the config file (%s); remove its "
				                "[event.%s] section there and reload",
				                name, cfg->path, name);
		return ctl_fail(rep, CTL_NOT_FOUND,
		                "no runtime event %s%s%s (tidalctl show events)", name,
		                s_start ? " starting at " : "", s_start ? s_start : "");
	}
	struct rt_events next = *rt;
	next.v = keep;
	next.n = k;
	int rc = rtev_save(&next);
	if (rc < 0) {
		free(keep);
		return ctl_fail(rep, CTL_INTERNAL, "cannot save %s (%s); nothing was removed",
		                rt->path, strerror(-rc));
	}
	for (size_t i = 0; i < rt->n; i++)
		if (strcmp(rt->v[i].name, name) == 0 && (!s_start || rt->v[i].start_s == start))
			rtev_clear(&rt->v[i]);
	free(rt->v);
	rt->v = keep;
	rt->n = k;
	rep->data = json_pack("{s:s,s:I}", "name", name, "removed", (json_int_t)removed);
	if (asprintf(&rep->text, "%zu event%s %s removed", removed, removed == 1 ? "" : "s", name) <
	    0)
		rep->text = NULL;
	log_info("forecast: %zu runtime event(s) %s removed", removed, name);
	return CTL_OK;
}

void fcm_ctl_register(struct tidald *d, struct fc_mod *m)
{
	ctl_register(d, "show forecast", cmd_show_forecast, m,
	             "model chosen, candidate scores, events, quantiles per step");
	ctl_register(d, "forecast run", cmd_run, m, "start a forecast round now");
	ctl_register(d, "show events", cmd_show_events, m,
	             "calendar events of the config and of event add");
	ctl_register(d, "event add", cmd_event_add, m,
	             "add a calendar event (kept across restarts)");
	ctl_register(d, "event remove", cmd_event_remove, m,
	             "remove an event added with event add");
}

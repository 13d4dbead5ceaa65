/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_mod: the tidald module `alloc` (docs/alloc.md): the allocation controller on the
 * live forecasts.
 *
 * On every TIDALD_EV_FORECAST_UPDATED (and on `tidalctl alloc run`) it runs one cycle
 * (alloc_cycle.c: the controller of control/alloc.c on the config, the forecasts and the
 * ledger; releases first, then local bookings and leases from peers). Every action goes to
 * the decision log (a ring served by `tidalctl show decisions`, and log lines) with its
 * reason. Pool leases are provisioned by the pool's provision_hook (alloc_pool.c, run by
 * alloc_hook.c) when they are booked, and released by it when they end. This file: the
 * module, the decision log, tidalctl, the columns of `show apps` (alloc_app_view) and the
 * metrics tidal_reserved_bps{class}, tidal_alloc_*.
 *
 * Owns the controller, the decision log, the hook runner and the set of lease ids it booked
 * (only those are released or resized; other leases of an app count as held but are left
 * alone). Never books anything except through ledger.h; never blocks the loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "alloc_mod_int.h"
#include "collector.h"
#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "tidald.h"

_Static_assert((int)ALLOC_BANDWIDTH == (int)LEDGER_KIND_BANDWIDTH &&
                       (int)ALLOC_VCPU == (int)LEDGER_KIND_VCPU &&
                       (int)ALLOC_MEMORY == (int)LEDGER_KIND_MEMORY &&
                       (int)ALLOC_STORAGE == (int)LEDGER_KIND_STORAGE,
               "alloc and ledger kinds differ");

struct alloc_mod *amod_get(struct tidald *d)
{
	return tidald_module_state(d, "alloc");
}

/* ---- small helpers ------------------------------------------------------------------- */

int amod_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 32;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

double amod_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool amod_is_managed(const struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN])
{
	for (size_t i = 0; i < m->n_managed; i++)
		if (!memcmp(m->managed[i], id, LEDGER_ID_LEN))
			return true;
	return false;
}

void amod_forget_managed(struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN])
{
	for (size_t i = 0; i < m->n_managed; i++)
		if (!memcmp(m->managed[i], id, LEDGER_ID_LEN)) {
			memcpy(m->managed[i], m->managed[--m->n_managed], LEDGER_ID_LEN);
			return;
		}
}

const char *amod_unit_name(enum alloc_kind k)
{
	return ledger_kind_unit((enum ledger_kind)k);
}

char *amod_fmt_qty(enum alloc_kind k, uint64_t q, char *buf, size_t len)
{
	if (k == ALLOC_BANDWIDTH)
		cfg_fmt_bps(q, buf, len);
	else if (k == ALLOC_VCPU)
		snprintf(buf, len, "%" PRIu64 " vcpu", q);
	else
		cfg_fmt_bytes(q, buf, len);
	return buf;
}

/* ---- decision log -------------------------------------------------------------------- */

struct decision *amod_decide(struct alloc_mod *m, const char *action, const char *app,
                             const char *resource, enum alloc_kind kind, uint64_t q, int64_t start,
                             int64_t end, const char *result, const char *reason)
{
	struct decision *x = &m->log[m->log_head];
	m->log_head = (m->log_head + 1) % LOG_SIZE;
	if (m->log_n < LOG_SIZE)
		m->log_n++;
	memset(x, 0, sizeof(*x));
	x->seq = ++m->seq;
	x->at = tidald_now();
	snprintf(x->action, sizeof(x->action), "%s", action);
	snprintf(x->app, sizeof(x->app), "%s", app ? app : "");
	snprintf(x->resource, sizeof(x->resource), "%s", resource ? resource : "");
	x->kind = kind;
	x->quantity = q;
	x->start = start;
	x->end = end;
	snprintf(x->result, sizeof(x->result), "%s", result ? result : "");
	snprintf(x->reason, sizeof(x->reason), "%s", reason ? reason : "");
	char qs[32], t0[32];
	log_info("alloc: %s %s %s %s from %s: %s (%s)", action, x->app, x->resource,
	         q ? amod_fmt_qty(kind, q, qs, sizeof(qs)) : "-",
	         start ? cfg_fmt_time(start, t0, sizeof(t0)) : "-", x->result, x->reason);
	return x;
}

/* ---- tidalctl ------------------------------------------------------------------------ */

static enum ctl_status cmd_decisions(struct tidald *d, void *arg, const struct ctl_request *req,
                                     struct ctl_reply *rep)
{
	struct alloc_mod *m = arg;
	(void)d;
	const char *app = ctl_opt(req, "app"), *last = ctl_opt(req, "last");
	long want = 50;
	if (last) {
		char *end;
		want = strtol(last, &end, 10);
		if (*end || want < 1 || want > LOG_SIZE)
			return ctl_fail(rep, CTL_USAGE, "--last %s: a number of decisions, 1..%d",
			                last, LOG_SIZE);
	}
	static const char *const cols[] = {"time",  "action", "app",    "resource", "quantity",
	                                   "start", "end",    "result", "reason"};
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	rep->data = json_array();
	/* Newest last; walk back to find where to start. */
	size_t shown = 0, idx[LOG_SIZE];
	for (size_t k = 0; k < m->log_n && shown < (size_t)want; k++) {
		size_t i = (m->log_head + LOG_SIZE - 1 - k) % LOG_SIZE;
		if (app && strcmp(m->log[i].app, app))
			continue;
		idx[shown++] = i;
	}
	for (size_t k = shown; k-- > 0;) {
		const struct decision *x = &m->log[idx[k]];
		char at[32], t0[32], t1[32], q[32];
		cfg_fmt_time(x->at, at, sizeof(at));
		const char *row[] = {at,
		                     x->action,
		                     x->app[0] ? x->app : "-",
		                     x->resource[0] ? x->resource : "-",
		                     x->quantity ? amod_fmt_qty(x->kind, x->quantity, q, sizeof(q))
		                                 : "-",
		                     x->start ? cfg_fmt_time(x->start, t0, sizeof(t0)) : "-",
		                     x->end ? cfg_fmt_time(x->end, t1, sizeof(t1)) : "-",
		                     x->result,
		                     x->reason};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));
		json_array_append_new(rep->data,
		                      json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:s,s:s}",
		                                "seq", (json_int_t)x->seq, "time", at, "action",
		                                x->action, "app", x->app, "resource", x->resource,
		                                "quantity", (json_int_t)x->quantity, "unit",
		                                amod_unit_name(x->kind), "start_s",
		                                (json_int_t)x->start, "end_s", (json_int_t)x->end,
		                                "result", x->result, "reason", x->reason));
	}
	return CTL_OK;
}

static enum ctl_status cmd_run(struct tidald *d, void *arg, const struct ctl_request *req,
                               struct ctl_reply *rep)
{
	struct alloc_mod *m = arg;
	char msg[256];
	(void)d, (void)req;
	int rc = amod_cycle(m, NULL, msg, sizeof(msg));
	if (rc)
		return ctl_fail(rep, rc == -ENOENT ? CTL_REFUSED : CTL_INTERNAL, "%s", msg);
	rep->data = json_pack("{s:s,s:f}", "result", msg, "seconds", m->last_cycle_s);
	if (asprintf(&rep->text, "controller cycle: %s", msg) < 0)
		rep->text = NULL;
	return CTL_OK;
}

/* ---- what others see ------------------------------------------------------------------- */

struct sum_ctx {
	const char *app, *region;
	int64_t now;
	double sum;
};

/* Does lease x reserve capacity for one of this region's apps now? A transit path counts
 * once: by the lease from the next region (reserved once every hop is), not by the local
 * booking of its first hop (path set, provided here); a lease carried on for another
 * region (parent set) is not ours. */
static bool counts_now(const struct ledger_lease *x, const char *region, int64_t now)
{
	static const uint8_t zero[LEDGER_ID_LEN];
	return x->app[0] && !strcmp(x->requester, region) && x->start <= now && x->end > now &&
	       (x->state == LEDGER_ACTIVE || x->state == LEDGER_RESERVED) &&
	       !(x->path[0] && !strcmp(x->provider, region)) &&
	       !memcmp(x->parent, zero, LEDGER_ID_LEN);
}

static int sum_one(const struct ledger_lease *x, void *arg)
{
	struct sum_ctx *s = arg;
	if (!strcmp(x->app, s->app) && counts_now(x, s->region, s->now))
		s->sum += (double)x->quantity;
	return 0;
}

struct rec_ctx {
	struct alloc_mod *m;
	const char *region;
	int64_t now;
	double *sum;
};

static int rec_one(const struct ledger_lease *x, void *arg)
{
	struct rec_ctx *r = arg;
	if (!counts_now(x, r->region, r->now))
		return 0;
	for (size_t i = 0; i < r->m->n_apps; i++)
		if (!strcmp(r->m->apps[i].name, x->app)) {
			r->sum[i] += (double)x->quantity;
			break;
		}
	return 0;
}

void amod_record_reserved(struct alloc_mod *m, int64_t at)
{
	struct ledger *lg = ledger_mod_get(m->d);
	if (!lg || !m->n_apps)
		return;
	double *sum = calloc(m->n_apps, sizeof(*sum));
	if (!sum)
		return;
	struct rec_ctx r = {.m = m, .region = tidald_cfg(m->d)->region.name, .now = at, .sum = sum};
	ledger_foreach(lg, false, rec_one, &r);
	char **have = NULL;
	for (size_t i = 0; i < m->n_apps; i++) {
		char name[LEDGER_RES_MAX + 16];
		snprintf(name, sizeof(name), "%s.reserved", m->apps[i].name);
		/* An app that never had anything reserved gets no series: its zeros would say
		 * nothing, and the series stays free for an operator's `tidalctl ingest` of
		 * reservations made before tidal. Once the series exists, zeros go in too. */
		if (sum[i] <= 0) {
			if (!have && !(have = demand_series_list(m->d)))
				continue;
			bool exists = false;
			for (char **p = have; *p && !exists; p++)
				exists = !strcmp(*p, name);
			if (!exists)
				continue;
		}
		/* -ERANGE (a second value in the same second) and a missing history module
		 * are fine: the series is a picture, not a record. */
		demand_record(m->d, name, at, sum[i]);
	}
	free(have);
	free(sum);
}

static double reserved_now(struct tidald *d, const char *app)
{
	struct ledger *lg = ledger_mod_get(d);
	struct sum_ctx s = {.app = app, .region = tidald_cfg(d)->region.name, .now = tidald_now()};
	if (lg)
		ledger_foreach(lg, false, sum_one, &s);
	return s.sum;
}

int alloc_app_view(struct tidald *d, const char *app, struct alloc_app_view *out)
{
	struct alloc_mod *m = amod_get(d);
	if (!m || !app || !out)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->demand = out->need = out->quantile = -1;
	out->reserved = reserved_now(d, app);
	out->demand = collector_rate_bps(d, app, COLL_DIR_OUT);
	if (out->demand < 0) {
		const struct demand_forecast *f = demand_forecast_get(d, app);
		if (f && f->h)
			out->demand = f->point[0];
	}
	for (size_t i = 0; i < m->n_apps; i++)
		if (!strcmp(m->apps[i].name, app) && m->apps[i].valid) {
			out->need = m->apps[i].need;
			out->quantile = m->apps[i].quantile;
			out->need_start = m->apps[i].need_start;
			out->planned = m->apps[i].planned;
			out->short_by = m->apps[i].short_by;
			out->decided_at = m->last_cycle_at;
		}
	return 0;
}

/* ---- module ---------------------------------------------------------------------------- */

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	amod_sweep(arg);
}

/* A transit half the controller made ended before its time (the peer refused, revoked or
 * failed it, or an operator released it): its other half carries nothing now. The ledger
 * must not be changed from its change callback, so the release runs from the loop, once for
 * all the changes of one batch. */
static void maybe_sweep(struct alloc_mod *m, const struct ledger_change *ch)
{
	const struct ledger_lease *x = &ch->lease;
	if (!x->path[0] || ledger_state_live(x->state) || !ledger_state_live(ch->from) ||
	    x->end <= tidald_now() || !amod_is_managed(m, x->id) ||
	    evtimer_pending(m->sweep, NULL))
		return;
	struct timeval now = {0, 0};
	evtimer_add(m->sweep, &now);
}

static int alloc_mod_start(struct tidald *d, void **state)
{
	struct alloc_mod *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->a = alloc_new();
	m->hooks = alloc_hook_new(tidald_base(d));
	m->log = calloc(LOG_SIZE, sizeof(*m->log));
	m->retry = event_new(tidald_base(d), -1, EV_PERSIST, amod_pool_retry, m);
	m->sweep = evtimer_new(tidald_base(d), sweep_cb, m);
	struct timeval tick = {5, 0};
	if (!m->a || !m->hooks || !m->log || !m->retry || !m->sweep || event_add(m->retry, &tick)) {
		log_err("alloc: out of memory while starting");
		if (m->retry)
			event_free(m->retry);
		if (m->sweep)
			event_free(m->sweep);
		alloc_free(m->a);
		alloc_hook_free(m->hooks);
		free(m->log);
		free(m);
		return -ENOMEM;
	}
	ctl_register(d, "show decisions", cmd_decisions, m,
	             "the allocation controller's recent decisions and why");
	ctl_register(d, "alloc run", cmd_run, m, "run one allocation cycle now");
	*state = m;
	return 0;
}

static void alloc_mod_stop(struct tidald *d, void *state)
{
	struct alloc_mod *m = state;
	(void)d;
	if (!m)
		return;
	event_free(m->retry);
	event_free(m->sweep);
	alloc_hook_free(m->hooks);
	amod_pool_free(m);
	alloc_free(m->a);
	free(m->log), free(m->apps), free(m->managed);
	free(m);
}

static void alloc_mod_event(struct tidald *d, void *state, enum tidald_event ev, const void *data)
{
	struct alloc_mod *m = state;
	(void)d;
	char msg[256];
	if (ev == TIDALD_EV_FORECAST_UPDATED)
		amod_cycle(m, data, msg, sizeof(msg));
	else if (ev == TIDALD_EV_RATES_SAMPLED && data)
		amod_record_reserved(m, ((const struct coll_sample *)data)->at_s);
	else if (ev == TIDALD_EV_LEASE_CHANGED && data) {
		maybe_sweep(m, data);
		amod_pool_changed(m, data);
	}
}

static void alloc_mod_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	struct alloc_mod *m = state;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	metrics_family(w, "tidal_reserved_bps", METRICS_GAUGE,
	               "bandwidth reserved now for the class, in bits per second");
	/* Apps with something reserved or needed (an app with neither has no series). */
	for (size_t i = 0; i < cfg->n_apps; i++) {
		struct alloc_app_view v;
		if (alloc_app_view(d, cfg->apps[i].name, &v) == 0 && (v.reserved > 0 || v.need > 0))
			metrics_sample(w, v.reserved, "class", cfg->apps[i].name, NULL);
	}
	metrics_family(w, "tidal_alloc_cycles_total", METRICS_COUNTER,
	               "allocation controller cycles, by result");
	metrics_sample(w, (double)m->cycles, "result", "ok", NULL);
	metrics_sample(w, (double)m->failed_cycles, "result", "failed", NULL);
	metrics_family(w, "tidal_alloc_cycle_seconds", METRICS_GAUGE,
	               "duration of the last controller cycle, in seconds");
	metrics_sample(w, m->last_cycle_s, NULL);
	metrics_family(w, "tidal_alloc_actions_total", METRICS_COUNTER,
	               "controller actions applied, by kind");
	metrics_sample(w, (double)m->requests, "action", "request", NULL);
	metrics_sample(w, (double)m->releases, "action", "release", NULL);
	metrics_sample(w, (double)m->refused, "action", "refused", NULL);
	metrics_sample(w, (double)m->skipped, "action", "skipped", NULL);
	metrics_family(w, "tidal_alloc_hook_runs_total", METRICS_COUNTER,
	               "provisioning hook runs, by outcome");
	for (int o = 0; o < 3; o++)
		metrics_sample(w, (double)m->hook_runs[o], "outcome",
		               alloc_hook_outcome_name((enum alloc_hook_outcome)o), NULL);
}

static void alloc_mod_status(struct tidald *d, void *state, json_t *status)
{
	struct alloc_mod *m = state;
	char at[32];
	(void)d;
	json_object_set_new(
	        status, "alloc",
	        json_pack("{s:I,s:s?,s:f,s:I,s:I}", "cycles", (json_int_t)m->cycles, "last_cycle",
	                  m->last_cycle_at ? cfg_fmt_time(m->last_cycle_at, at, sizeof(at)) : NULL,
	                  "last_cycle_s", m->last_cycle_s, "managed_leases",
	                  (json_int_t)m->n_managed, "hooks_running",
	                  (json_int_t)alloc_hook_running(m->hooks)));
}

const struct tidald_module_ops tidald_alloc_module = {
        .name = "alloc",
        .start = alloc_mod_start,
        .stop = alloc_mod_stop,
        .metrics = alloc_mod_metrics,
        .status = alloc_mod_status,
        .event = alloc_mod_event,
};

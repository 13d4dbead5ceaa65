/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger_mod: the tidald module that runs the region's resource ledger (docs/ledger.md).
 *
 * Opens <state_dir>/ledger.sqlite with the config's links and pools (deferred sync: the
 * WAL is synced by the ledger's syncer thread, whose eventfd this module watches), drives
 * ledger_tick from a one-second libevent timer, turns every durable change into
 * TIDALD_EV_LEASE_CHANGED
 * (data: struct ledger_change), re-announces active leases once the loop runs after a
 * restart (reprovision = true), serves `show ledger RESOURCE`, and exports tidal_leases
 * and tidal_ledger_booked. Other modules reach the ledger through ledger_mod_get().
 *
 * Owns the ledger handle and the timer. Never books anything by itself: bookings come from
 * the allocation controller and the peering module through ledger.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ctl.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "tidald.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS 10000 /* rows of `show ledger` */

struct ledger_mod {
	struct tidald *d;
	struct ledger *l;
	struct event *timer;
	struct event *announce;
	struct event *synced; /* the syncer finished a sync: report what became durable */
	char path[CFG_PATH_MAX + 32];
};

static void on_change(const struct ledger_change *c, void *arg)
{
	struct ledger_mod *m = arg;
	if (m->d)
		tidald_emit(m->d, TIDALD_EV_LEASE_CHANGED, c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ledger_mod *m = arg;
	(void)fd, (void)what;
	int rc = ledger_tick(m->l, tidald_now(), NULL);
	if (rc < 0)
		log_err("ledger: tick failed (%s)", strerror(-rc));
}

static void on_synced(evutil_socket_t fd, short what, void *arg)
{
	struct ledger_mod *m = arg;
	(void)fd, (void)what;
	ledger_sync_poll(m->l); /* a failed sync is logged by the ledger */
}

static int announce_one(const struct ledger_lease *x, void *arg)
{
	struct ledger_mod *m = arg;
	if (x->state != LEDGER_ACTIVE)
		return 0;
	struct ledger_change c = {.lease = *x, .from = x->state, .reprovision = true};
	tidald_emit(m->d, TIDALD_EV_LEASE_CHANGED, &c);
	return 0;
}

/* Runs once the loop is up, so that modules started after this one hear it too. */
static void on_announce(evutil_socket_t fd, short what, void *arg)
{
	struct ledger_mod *m = arg;
	(void)fd, (void)what;
	ledger_foreach(m->l, false, announce_one, m);
}

struct ledger *ledger_mod_get(struct tidald *d)
{
	struct ledger_mod *m = tidald_module_state(d, "ledger");
	return m ? m->l : NULL;
}

/* ---- show ledger ----------------------------------------------------------------------- */

static char *fmt_qty(enum ledger_kind k, uint64_t q, char *buf, size_t len)
{
	switch (k) {
	case LEDGER_KIND_BANDWIDTH:
		return cfg_fmt_bps_human((double)q, buf, len);
	case LEDGER_KIND_MEMORY:
	case LEDGER_KIND_STORAGE:
		return cfg_fmt_bytes(q, buf, len);
	default:
		snprintf(buf, len, "%" PRIu64, q);
		return buf;
	}
}

static enum ctl_status cmd_show_ledger(struct tidald *d, void *arg, const struct ctl_request *req,
				       struct ctl_reply *rep)
{
	struct ledger_mod *m = arg;
	(void)d;
	const char *name = ctl_arg(req, 0);
	if (!name)
		return ctl_fail(rep, CTL_USAGE, "show ledger needs a RESOURCE (e.g. link.fra-ams)");
	int ri = ledger_resource_find(m->l, name);
	if (ri < 0) {
		size_t n = ledger_resource_count(m->l);
		char list[512] = "";
		size_t off = 0;
		for (size_t i = 0; i < n && off < sizeof(list); i++) {
			struct ledger_resource_info inf;
			ledger_resource_info(m->l, i, 0, &inf);
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						i ? ", " : "", inf.name);
		}
		return ctl_fail(rep, CTL_NOT_FOUND, "no resource '%s'; known: %s", name,
				n ? list : "none (no [link.*] or [pool.*] in the config)");
	}
	int64_t now = ledger_clock(m->l);
	int64_t wall = tidald_now();
	if (wall > now)
		now = wall;
	struct ledger_resource_info inf;
	ledger_resource_info(m->l, (size_t)ri, now, &inf);
	const struct ledger_cal *cal = ledger_resource_cal(m->l, (size_t)ri);

	static const char *const cols[] = {"start", "end", "booked", "free", "utilisation"};
	rep->table = ctl_table_new(cols, ARRAY_SIZE(cols));
	json_t *steps = json_array();
	struct ledger_cal_step s;
	size_t n = 0;
	for (int64_t t = now; n < MAX_STEPS; t = s.end, n++) {
		ledger_cal_step_at(cal, t, &s);
		bool last = s.end == LEDGER_CAL_T_MAX;
		uint64_t free_q = s.booked >= inf.capacity ? 0 : inf.capacity - s.booked;
		char a[32], b[32], bk[32], fr[32], ut[16];
		cfg_fmt_time(t, a, sizeof(a));
		if (last)
			snprintf(b, sizeof(b), "-");
		else
			cfg_fmt_time(s.end, b, sizeof(b));
		fmt_qty(inf.kind, s.booked, bk, sizeof(bk));
		fmt_qty(inf.kind, free_q, fr, sizeof(fr));
		snprintf(ut, sizeof(ut), "%.1f%%",
			 inf.capacity ? 100.0 * (double)s.booked / (double)inf.capacity : 0.0);
		const char *row[] = {a, b, bk, fr, ut};
		ctl_table_add(rep->table, row, ARRAY_SIZE(row));
		json_array_append_new(
			steps, json_pack("{s:s,s:I,s:s?,s:o?,s:I,s:I}", "start", a, "start_s",
					 (json_int_t)t, "end", last ? NULL : b, "end_s",
					 last ? NULL : json_integer(s.end), "booked",
					 (json_int_t)s.booked, "free", (json_int_t)free_q));
		if (last)
			break;
	}
	char cap[32], pk[32];
	rep->data = json_pack("{s:s,s:s,s:s,s:I,s:b,s:I,s:I,s:I,s:o}", "resource", inf.name,
			      "kind", ledger_kind_name(inf.kind), "unit",
			      ledger_kind_unit(inf.kind), "capacity", (json_int_t)inf.capacity,
			      "configured", inf.configured, "booked_now",
			      (json_int_t)inf.booked_now, "peak", (json_int_t)inf.peak, "leases",
			      (json_int_t)inf.n_leases, "steps", steps);
	if (asprintf(&rep->text, "%s (%s): reservable %s, peak from now %s, %zu live lease%s%s",
		     inf.name, ledger_kind_name(inf.kind), fmt_qty(inf.kind, inf.capacity, cap, 32),
		     fmt_qty(inf.kind, inf.peak, pk, 32), inf.n_leases,
		     inf.n_leases == 1 ? "" : "s",
		     inf.configured ? "" : "; removed from the config") < 0)
		rep->text = NULL;
	return CTL_OK;
}

/* ---- module ops ------------------------------------------------------------------------ */

static int ledger_mod_start(struct tidald *d, void **state)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct ledger_mod *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->path, sizeof(m->path), "%s/ledger.sqlite", cfg->region.state_dir);
	struct ledger_params p = {
		.path = m->path,
		.region = cfg->region.name,
		.cfg = cfg,
		.now = tidald_now(),
		.on_change = on_change,
		.arg = m,
		.deferred_sync = true,
	};
	struct ledger_open_report rep;
	/* Changes found while opening (holds that ran out, leases that ended) are reported
	 * before the module is registered; nobody can act on them yet, they are logged. */
	m->l = ledger_open(&p, &rep);
	if (!m->l) {
		log_err("ledger: cannot open %s (see above); tidald cannot run without its "
			"ledger", m->path);
		free(m);
		return -EIO;
	}
	m->d = d;
	log_info("ledger: %s: %zu leases loaded, %zu active (re-provisioned), %zu holds "
		 "expired, %zu ended and %zu started while down", m->path, rep.loaded, rep.active,
		 rep.holds_expired, rep.ended, rep.started);
	struct timeval one = {1, 0}, zero = {0, 0};
	m->timer = event_new(tidald_base(d), -1, EV_PERSIST, on_timer, m);
	m->announce = evtimer_new(tidald_base(d), on_announce, m);
	int sfd = ledger_sync_fd(m->l);
	if (sfd >= 0)
		m->synced = event_new(tidald_base(d), sfd, EV_READ | EV_PERSIST, on_synced, m);
	if (!m->timer || !m->announce || event_add(m->timer, &one) < 0 ||
	    event_add(m->announce, &zero) < 0 ||
	    (sfd >= 0 && (!m->synced || event_add(m->synced, NULL) < 0))) {
		log_err("ledger: cannot arm its timers");
		if (m->timer)
			event_free(m->timer);
		if (m->announce)
			event_free(m->announce);
		if (m->synced)
			event_free(m->synced);
		ledger_close(m->l);
		free(m);
		return -ENOMEM;
	}
	ctl_register(d, "show ledger", cmd_show_ledger, m, "booked capacity over time");
	*state = m;
	return 0;
}

static int ledger_mod_reload(struct tidald *d, void *state, const struct tidal_cfg *old_cfg)
{
	struct ledger_mod *m = state;
	(void)old_cfg;
	int rc = ledger_reload(m->l, tidald_cfg(d));
	return rc < 0 ? rc : 0; /* overbooked resources are logged, not an error */
}

static void ledger_mod_stop(struct tidald *d, void *state)
{
	struct ledger_mod *m = state;
	(void)d;
	if (!m)
		return;
	event_free(m->timer);
	event_free(m->announce);
	if (m->synced)
		event_free(m->synced);
	ledger_close(m->l);
	free(m);
}

static void ledger_mod_metrics(struct tidald *d, void *state, struct metrics_writer *w)
{
	struct ledger_mod *m = state;
	int64_t now = tidald_now();
	(void)d;
	metrics_family(w, "tidal_leases", METRICS_GAUGE, "leases in the ledger, by state");
	for (int s = 0; s < LEDGER_N_STATES; s++)
		metrics_sample(w, (double)ledger_count(m->l, s), "state", ledger_state_name(s),
			       NULL);
	size_t n = ledger_resource_count(m->l);
	struct ledger_resource_info inf;
	metrics_family(w, "tidal_ledger_booked", METRICS_GAUGE,
		       "quantity booked now per resource, in its base unit (bits/s, vcpu, bytes)");
	for (size_t i = 0; i < n; i++)
		if (ledger_resource_info(m->l, i, now, &inf) == 0)
			metrics_sample(w, (double)inf.booked_now, "resource", inf.name, NULL);
	metrics_family(w, "tidal_ledger_capacity", METRICS_GAUGE,
		       "reservable capacity per resource, in its base unit");
	for (size_t i = 0; i < n; i++)
		if (ledger_resource_info(m->l, i, now, &inf) == 0)
			metrics_sample(w, (double)inf.capacity, "resource", inf.name, NULL);
	metrics_family(w, "tidal_ledger_commits_total", METRICS_COUNTER,
		       "ledger transactions written (a group commit counts once)");
	metrics_sample(w, (double)ledger_written(m->l), NULL);
	metrics_family(w, "tidal_ledger_syncs_total", METRICS_COUNTER,
		       "syncs of the ledger's write-ahead log to disk");
	metrics_sample(w, (double)ledger_syncs(m->l), NULL);
}

static void ledger_mod_status(struct tidald *d, void *state, json_t *status)
{
	struct ledger_mod *m = state;
	(void)d;
	size_t live = 0;
	for (int s = 0; s < LEDGER_N_STATES; s++)
		if (ledger_state_live(s))
			live += ledger_count(m->l, s);
	json_object_set_new(status, "ledger",
			    json_pack("{s:s,s:I,s:I}", "database", m->path, "live_leases",
				      (json_int_t)live, "resources",
				      (json_int_t)ledger_resource_count(m->l)));
}

const struct tidald_module_ops tidald_ledger_module = {
	.name = "ledger",
	.start = ledger_mod_start,
	.reload = ledger_mod_reload,
	.stop = ledger_mod_stop,
	.metrics = ledger_mod_metrics,
	.status = ledger_mod_status,
};

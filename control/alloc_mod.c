/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_mod: the tidald module `alloc` (docs/alloc.md): the allocation controller on the
 * live forecasts.
 *
 * On every TIDALD_EV_FORECAST_UPDATED (and on `tidalctl alloc run`) it builds the
 * controller's input from the running config (the region and its peers, links with their
 * reservable capacity and lead time, pools), the forecasts of every app and pool series,
 * and the live leases in the ledger; runs one cycle (control/alloc.c); and applies the plan:
 * releases first, then local bookings (ledger_book) in one ledger batch, and leases from
 * peers through the peering module. Every action goes to the decision log (a ring served
 * by `tidalctl show decisions`, and log lines) with its reason. Pool leases are provisioned
 * by the pool's provision_hook (control/alloc_hook.c) when they are booked, and released by
 * it when they end. Serves the columns of `show apps` (alloc_app_view) and the metrics
 * tidal_reserved_bps{class}, tidal_alloc_*.
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

#include "alloc.h"
#include "alloc_hook.h"
#include "collector.h"
#include "ctl.h"
#include "demand.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "tidald.h"

/* Provided by the history/forecast and collector modules. Until a tidald links them, the
 * controller works from the forecasts an update carries, and without measured rates. */
#pragma weak demand_forecast_get
#pragma weak collector_rate_bps

_Static_assert((int)ALLOC_BANDWIDTH == (int)LEDGER_KIND_BANDWIDTH &&
                       (int)ALLOC_VCPU == (int)LEDGER_KIND_VCPU &&
                       (int)ALLOC_MEMORY == (int)LEDGER_KIND_MEMORY &&
                       (int)ALLOC_STORAGE == (int)LEDGER_KIND_STORAGE,
               "alloc and ledger kinds differ");

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LOG_SIZE      1024 /* decisions kept for `show decisions` */
#define MIN_BLOCK_S   3600 /* leases cover whole hours (or whole forecast buckets) */
#define HOOK_ATTEMPTS 3    /* tries of a hook that asks to be retried */
#define HOOK_RETRY_S  30

struct decision {
	uint64_t seq;
	int64_t at;
	char action[16];
	char app[LEDGER_NAME_MAX];
	char resource[160];
	enum alloc_kind kind;
	uint64_t quantity;
	int64_t start, end;
	char result[64];
	char reason[ALLOC_REASON_MAX];
};

struct app_state {
	char name[LEDGER_RES_MAX];
	double need, quantile, planned, short_by;
	int64_t need_start;
	bool valid;
};

struct hook_lease {
	uint8_t id[LEDGER_ID_LEN];
	bool provisioned, running, running_release, releasing;
	unsigned attempts;
	int64_t retry_at;
	struct alloc_mod *m;
};

struct alloc_mod {
	struct tidald *d;
	struct alloc *a;
	struct alloc_hook *hooks;
	struct event *retry;
	struct decision *log;
	size_t log_head, log_n;
	uint64_t seq;
	struct app_state *apps;
	size_t n_apps;
	uint8_t (*managed)[LEDGER_ID_LEN];
	size_t n_managed, cap_managed;
	struct hook_lease **hl;
	size_t n_hl, cap_hl;
	uint64_t cycles, failed_cycles, requests, releases, refused, skipped;
	uint64_t hook_runs[3];
	double last_cycle_s;
	int64_t last_cycle_at;
	bool warned_no_ledger;
};

static struct alloc_mod *mod(struct tidald *d)
{
	return tidald_module_state(d, "alloc");
}

/* ---- small helpers ------------------------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
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

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool is_managed(const struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN])
{
	for (size_t i = 0; i < m->n_managed; i++)
		if (!memcmp(m->managed[i], id, LEDGER_ID_LEN))
			return true;
	return false;
}

static void forget_managed(struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN])
{
	for (size_t i = 0; i < m->n_managed; i++)
		if (!memcmp(m->managed[i], id, LEDGER_ID_LEN)) {
			memcpy(m->managed[i], m->managed[--m->n_managed], LEDGER_ID_LEN);
			return;
		}
}

static const char *unit_name(enum alloc_kind k)
{
	return ledger_kind_unit((enum ledger_kind)k);
}

static char *fmt_qty(enum alloc_kind k, uint64_t q, char *buf, size_t len)
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

static struct decision *decide(struct alloc_mod *m, const char *action, const char *app,
                               const char *resource, enum alloc_kind kind, uint64_t q,
                               int64_t start, int64_t end, const char *result, const char *reason)
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
	         q ? fmt_qty(kind, q, qs, sizeof(qs)) : "-",
	         start ? cfg_fmt_time(start, t0, sizeof(t0)) : "-", x->result, x->reason);
	return x;
}

/* ---- peers ----------------------------------------------------------------------------- */

/* Leasing from a peer goes through the peering module's lease service. This tidald is built
 * without it: the decision is logged and nothing is booked. */
static int lease_from_peer(struct alloc_mod *m, const char *peer, const char *app, const char *what,
                           char *result, size_t len)
{
	(void)m, (void)app, (void)what;
	snprintf(result, len, "skipped: no peering module to lease from %s", peer);
	return -ENOTSUP;
}

/* Capacity that peers advertise on their links (transit). Adverts reach tidald through the
 * peering module; without it no remote link is known and transit is not planned. */
static size_t remote_resources(struct alloc_mod *m, struct alloc_resource *out, size_t max)
{
	(void)m, (void)out, (void)max;
	return 0;
}

/* ---- one cycle ----------------------------------------------------------------------- */

struct cycle {
	struct alloc_mod *m;
	const struct tidal_cfg *cfg;
	const struct demand_update *up;
	int64_t now;
	const char **regions;
	size_t n_regions;
	struct alloc_resource *res;
	char (*res_names)[LEDGER_RES_MAX];
	size_t n_res;
	struct alloc_class *cls;
	char (*cls_names)[LEDGER_RES_MAX];
	const char **cls_match; /* apps: match text; pools: NULL */
	int *cls_pool;          /* pools: index in cfg->pools, else -1 */
	size_t n_cls;
	struct alloc_resv *resv;
	uint8_t (*resv_id)[LEDGER_ID_LEN];
	size_t n_resv, cap_resv;
};

static const struct demand_forecast *find_forecast(struct cycle *c, const char *series)
{
	if (c->up)
		for (size_t i = 0; i < c->up->n; i++)
			if (c->up->forecasts[i] && !strcmp(c->up->forecasts[i]->series, series))
				return c->up->forecasts[i];
	if (demand_forecast_get)
		return demand_forecast_get(c->m->d, series);
	return NULL;
}

static int region_index(const struct cycle *c, const char *name)
{
	for (size_t i = 0; i < c->n_regions; i++)
		if (!strcmp(c->regions[i], name))
			return (int)i;
	return -1;
}

static int res_index(const struct cycle *c, const char *name)
{
	for (size_t i = 0; i < c->n_res; i++)
		if (!strcmp(c->res_names[i], name))
			return (int)i;
	return -1;
}

static void match_text(const struct cfg_match *mt, char *buf, size_t len)
{
	size_t off = 0;
	char tmp[64];
	buf[0] = '\0';
	for (size_t i = 0; i < mt->n_dst && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%sdst %s", off ? ", " : "",
		                        cfg_fmt_prefix(&mt->dst[i], tmp, sizeof(tmp)));
	for (size_t i = 0; i < mt->n_src && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%ssrc %s", off ? ", " : "",
		                        cfg_fmt_prefix(&mt->src[i], tmp, sizeof(tmp)));
	for (size_t i = 0; i < mt->n_dscp && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%sdscp %s", off ? ", " : "",
		                        cfg_fmt_dscp(mt->dscp[i], tmp, sizeof(tmp)));
}

static int build_topology(struct cycle *c)
{
	const struct tidal_cfg *cfg = c->cfg;
	c->n_regions = 1 + cfg->n_peers;
	c->regions = calloc(c->n_regions, sizeof(char *));
	size_t max_res = cfg->n_links + 3 * cfg->n_pools + 64;
	c->res = calloc(max_res, sizeof(*c->res));
	c->res_names = calloc(max_res, sizeof(*c->res_names));
	if (!c->regions || !c->res || !c->res_names)
		return -ENOMEM;
	c->regions[0] = cfg->region.name;
	for (size_t i = 0; i < cfg->n_peers; i++)
		c->regions[i + 1] = cfg->peers[i].name;
	for (size_t i = 0; i < cfg->n_links; i++) {
		const struct cfg_link *l = &cfg->links[i];
		int to = -1;
		for (size_t p = 0; p < cfg->n_peers && to < 0; p++)
			if (!strcmp(cfg->peers[p].link, l->name))
				to = (int)p + 1;
		if (to < 0)
			continue; /* no peer on it: nothing to route there */
		snprintf(c->res_names[c->n_res], LEDGER_RES_MAX, "link.%s", l->name);
		c->res[c->n_res] =
		        (struct alloc_resource){.name = c->res_names[c->n_res],
		                                .kind = ALLOC_BANDWIDTH,
		                                .owner = 0,
		                                .to = to,
		                                .capacity = l->reservable_bps,
		                                .lead_s = (uint32_t)(l->lead_time_ms / 1000)};
		c->n_res++;
	}
	static const enum alloc_kind kinds[] = {ALLOC_VCPU, ALLOC_MEMORY, ALLOC_STORAGE};
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct cfg_pool *p = &cfg->pools[i];
		const uint64_t amount[] = {p->vcpu, p->memory_bytes, p->storage_bytes};
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
			if (!amount[k])
				continue;
			snprintf(c->res_names[c->n_res], LEDGER_RES_MAX, "pool.%s.%s", p->name,
			         ledger_kind_name((enum ledger_kind)kinds[k]));
			c->res[c->n_res] = (struct alloc_resource){
			        .name = c->res_names[c->n_res],
			        .kind = kinds[k],
			        .owner = 0,
			        .to = -1,
			        .capacity = amount[k],
			        .lead_s = (uint32_t)(p->lead_time_ms / 1000)};
			c->n_res++;
		}
	}
	c->n_res += remote_resources(c->m, c->res + c->n_res, max_res - c->n_res);
	return 0;
}

static int build_classes(struct cycle *c)
{
	const struct tidal_cfg *cfg = c->cfg;
	size_t max = cfg->n_apps + 3 * cfg->n_pools;
	c->cls = calloc(max + 1, sizeof(*c->cls));
	c->cls_names = calloc(max + 1, sizeof(*c->cls_names));
	c->cls_match = calloc(max + 1, sizeof(char *));
	c->cls_pool = calloc(max + 1, sizeof(int));
	if (!c->cls || !c->cls_names || !c->cls_match || !c->cls_pool)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_apps; i++) {
		const struct cfg_app *a = &cfg->apps[i];
		int dst = a->peer[0] ? region_index(c, a->peer) : (c->n_regions > 1 ? 1 : -1);
		if (dst < 1)
			continue; /* no peer to send it to: nothing to reserve */
		struct alloc_class *k = &c->cls[c->n_cls];
		snprintf(c->cls_names[c->n_cls], LEDGER_RES_MAX, "%s", a->name);
		double measured = -1;
		if (collector_rate_bps)
			measured = collector_rate_bps(c->m->d, a->name, COLL_DIR_OUT);
		*k = (struct alloc_class){.name = c->cls_names[c->n_cls],
		                          .kind = ALLOC_BANDWIDTH,
		                          .src = 0,
		                          .dst = dst,
		                          .priority = a->priority,
		                          .slo_quantile = a->slo_quantile,
		                          .headroom = a->headroom,
		                          .min_rate = a->min_rate_bps,
		                          .max_rate = a->max_rate_bps,
		                          .fc = find_forecast(c, a->name),
		                          .measured = measured};
		c->cls_pool[c->n_cls] = -1;
		c->n_cls++;
	}
	for (size_t r = 0; r < c->n_res; r++) {
		if (c->res[r].kind == ALLOC_BANDWIDTH || c->res[r].owner != 0)
			continue;
		/* A pool series "pool.NAME.KIND" sized like an app, at the default priority. */
		const struct demand_forecast *f = find_forecast(c, c->res_names[r]);
		if (!f)
			continue;
		struct alloc_class *k = &c->cls[c->n_cls];
		snprintf(c->cls_names[c->n_cls], LEDGER_RES_MAX, "%s", c->res_names[r]);
		*k = (struct alloc_class){.name = c->cls_names[c->n_cls],
		                          .kind = c->res[r].kind,
		                          .src = 0,
		                          .dst = -1,
		                          .priority = 4,
		                          .slo_quantile = 0.95,
		                          .fc = f,
		                          .measured = -1};
		c->cls_pool[c->n_cls] = -1;
		for (size_t p = 0; p < cfg->n_pools; p++) {
			size_t len = strlen(cfg->pools[p].name);
			if (!strncmp(c->res_names[r] + 5, cfg->pools[p].name, len) &&
			    c->res_names[r][5 + len] == '.')
				c->cls_pool[c->n_cls] = (int)p;
		}
		c->n_cls++;
	}
	return 0;
}

static int class_of(const struct cycle *c, const char *app)
{
	for (size_t i = 0; i < c->n_cls; i++)
		if (!strcmp(c->cls_names[i], app))
			return (int)i;
	return -1;
}

static int collect_one(const struct ledger_lease *x, void *arg)
{
	struct cycle *c = arg;
	int r = res_index(c, x->resource);
	if (r < 0 || x->end <= c->now)
		return 0; /* not one of our resources (a lease we asked of a peer), or over */
	size_t cap = c->cap_resv;
	if (grow((void **)&c->resv, &c->cap_resv, c->n_resv + 1, sizeof(*c->resv)))
		return -ENOMEM;
	if (c->cap_resv != cap || !c->resv_id) {
		uint8_t(*ids)[LEDGER_ID_LEN] = realloc(c->resv_id, c->cap_resv * LEDGER_ID_LEN);
		if (!ids)
			return -ENOMEM;
		c->resv_id = ids;
	}
	bool ours = !strcmp(x->requester, c->cfg->region.name);
	int cls = ours && x->app[0] ? class_of(c, x->app) : -1;
	struct alloc_resv *v = &c->resv[c->n_resv];
	memset(v, 0, sizeof(*v));
	v->cls = cls;
	v->hops[0] = r;
	v->n_hops = 1;
	v->quantity = x->quantity;
	v->start = x->start;
	v->end = x->end;
	v->hold_prio = x->hold_prio;
	v->fixed = cls < 0 || !is_managed(c->m, x->id);
	v->user = c->n_resv;
	memcpy(c->resv_id[c->n_resv], x->id, LEDGER_ID_LEN);
	c->n_resv++;
	return 0;
}

static void cycle_free(struct cycle *c)
{
	free(c->regions), free(c->res), free(c->res_names), free(c->cls), free(c->cls_names);
	for (size_t i = 0; i < c->n_cls; i++)
		free((void *)c->cls_match[i]);
	free(c->cls_match), free(c->cls_pool), free(c->resv), free(c->resv_id);
}

static void apply_release(struct cycle *c, struct ledger *lg, const struct alloc_release *x)
{
	struct alloc_mod *m = c->m;
	const struct alloc_resv *v = &c->resv[x->resv];
	const char *app = x->cls >= 0 ? c->cls_names[x->cls] : "";
	const char *what = x->why == ALLOC_PREEMPTED ? "preempt"
	                   : x->why == ALLOC_RESIZE  ? "resize"
	                                             : "release";
	char result[64], id[LEDGER_ID_STR];
	ledger_id_fmt(c->resv_id[x->resv], id);
	if (x->cls < 0) {
		/* Another region's lease: the ledger preempts it when our booking needs the room.
		 */
		decide(m, what, app, c->res_names[v->hops[0]], c->res[v->hops[0]].kind, v->quantity,
		       v->start, v->end, "left to the ledger's preemption", x->reason);
		return;
	}
	struct ledger_lease out;
	enum ledger_err why = LEDGER_OK;
	int rc = ledger_release(lg, c->resv_id[x->resv], c->now, &out, &why);
	if (rc == 0) {
		snprintf(result, sizeof(result), "released %.8s", id);
		m->releases++;
	} else {
		snprintf(result, sizeof(result), "failed: %s", ledger_err_name(why));
	}
	decide(m, what, app, c->res_names[v->hops[0]], c->res[v->hops[0]].kind, v->quantity,
	       v->start, v->end, result, x->reason);
}

static void apply_request(struct cycle *c, struct ledger *lg, const struct alloc_request *q)
{
	struct alloc_mod *m = c->m;
	const char *app = c->cls_names[q->cls];
	char path[160] = "", result[64];
	size_t off = 0;
	bool remote = false;
	for (unsigned h = 0; h < q->n_hops && off < sizeof(path); h++) {
		off += (size_t)snprintf(path + off, sizeof(path) - off, "%s%s", h ? "+" : "",
		                        c->res_names[q->hops[h]]);
		remote |= c->res[q->hops[h]].owner != 0;
	}
	enum alloc_kind kind = c->res[q->hops[0]].kind;
	if (remote) {
		/* Every hop or none: a local hop alone would carry nothing. */
		int peer = c->res[q->hops[q->n_hops - 1]].owner;
		lease_from_peer(m, c->regions[peer], app, path, result, sizeof(result));
		m->skipped++;
		decide(m, "lease", app, path, kind, q->quantity, q->start, q->end, result,
		       q->reason);
		return;
	}
	struct ledger_req r;
	memset(&r, 0, sizeof(r));
	ledger_id_new(r.id);
	snprintf(r.requester, sizeof(r.requester), "%s", c->cfg->region.name);
	snprintf(r.provider, sizeof(r.provider), "%s", c->cfg->region.name);
	snprintf(r.resource, sizeof(r.resource), "%s", c->res_names[q->hops[0]]);
	r.kind = (enum ledger_kind)kind;
	r.quantity = q->quantity;
	r.start = q->start;
	r.end = q->end;
	r.setup_prio = r.hold_prio = q->prio;
	if (c->cls_match[q->cls])
		snprintf(r.match, sizeof(r.match), "%s", c->cls_match[q->cls]);
	snprintf(r.app, sizeof(r.app), "%s", app);
	struct ledger_lease out;
	enum ledger_err why = LEDGER_OK;
	int rc = ledger_book(lg, &r, c->now, &out, &why);
	char id[LEDGER_ID_STR];
	if (rc == 0) {
		if (!grow((void **)&m->managed, &m->cap_managed, m->n_managed + 1, LEDGER_ID_LEN))
			memcpy(m->managed[m->n_managed++], r.id, LEDGER_ID_LEN);
		snprintf(result, sizeof(result), "booked %.8s", ledger_id_fmt(r.id, id));
		m->requests++;
	} else {
		snprintf(result, sizeof(result), "refused: %s", ledger_err_name(why));
		m->refused++;
	}
	decide(m, q->replaces ? "resize" : "request", app, path, kind, q->quantity, q->start,
	       q->end, result, q->reason);
}

static void keep_views(struct alloc_mod *m, const struct cycle *c, const struct alloc_plan *p)
{
	free(m->apps);
	m->apps = calloc(c->n_cls + 1, sizeof(*m->apps));
	m->n_apps = m->apps ? c->n_cls : 0;
	for (size_t i = 0; i < m->n_apps; i++) {
		struct app_state *a = &m->apps[i];
		const struct alloc_class_view *w = &p->view[i];
		snprintf(a->name, sizeof(a->name), "%s", c->cls_names[i]);
		a->valid = w->need >= 0;
		a->need = w->need;
		a->quantile = w->quantile;
		a->planned = w->planned;
		a->short_by = w->short_by;
		a->need_start = w->need_start;
		if (w->short_by > 0.5) {
			char n[32], s[32], reason[ALLOC_REASON_MAX];
			snprintf(reason, sizeof(reason),
			         "need %s from %s cannot be covered: no capacity left at priority "
			         "%u on its resources",
			         fmt_qty(c->cls[i].kind, (uint64_t)w->need, n, sizeof(n)),
			         cfg_fmt_time(w->need_start, s, sizeof(s)), c->cls[i].priority);
			decide(m, "short", a->name, "", c->cls[i].kind, (uint64_t)w->short_by,
			       w->need_start, 0, "short", reason);
		}
	}
}

/* Run one cycle now. `up` may be NULL (forecasts then come from demand_forecast_get). */
static int run_cycle(struct alloc_mod *m, const struct demand_update *up, char *msg, size_t len)
{
	struct ledger *lg = ledger_mod_get(m->d);
	if (!lg) {
		snprintf(msg, len, "no ledger module: nothing can be booked");
		if (!m->warned_no_ledger)
			log_warn("alloc: %s", msg);
		m->warned_no_ledger = true;
		return -ENOENT;
	}
	double t0 = mono();
	struct cycle c = {.m = m, .cfg = tidald_cfg(m->d), .up = up, .now = tidald_now()};
	int rc = build_topology(&c);
	if (!rc)
		rc = build_classes(&c);
	for (size_t i = 0; !rc && i < c.n_cls; i++) {
		const struct cfg_app *a = cfg_find_app(c.cfg, c.cls_names[i]);
		if (!a)
			continue;
		char *t = malloc(LEDGER_MATCH_MAX);
		if (!t) {
			rc = -ENOMEM;
			break;
		}
		match_text(&a->match, t, LEDGER_MATCH_MAX);
		c.cls_match[i] = t;
	}
	if (!rc)
		rc = ledger_foreach(lg, false, collect_one, &c);
	const struct alloc_plan *plan = NULL;
	if (!rc) {
		struct alloc_input in = {.regions = c.regions,
		                         .n_regions = c.n_regions,
		                         .res = c.res,
		                         .n_res = c.n_res,
		                         .cls = c.cls,
		                         .n_cls = c.n_cls,
		                         .resv = c.resv,
		                         .n_resv = c.n_resv};
		alloc_params_init(&in.params);
		uint64_t bucket = c.cfg->forecast.bucket_ms / 1000;
		uint64_t period = c.cfg->forecast.period_ms / 1000;
		in.params.now = c.now;
		in.params.block_s = bucket > MIN_BLOCK_S ? (uint32_t)bucket : MIN_BLOCK_S;
		in.params.period_s = period ? (uint32_t)period : MIN_BLOCK_S;
		in.params.lease_lead_s = (uint32_t)(c.cfg->peering.lease_lead_time_ms / 1000);
		rc = alloc_run(m->a, &in, &plan);
		if (rc)
			snprintf(msg, len, "controller refused its input: %s", alloc_error(m->a));
	} else if (rc == -ENOMEM) {
		snprintf(msg, len, "out of memory");
	}
	if (!rc) {
		/* Releases first (they make room), then bookings, in one durable batch. */
		bool batch = ledger_batch_begin(lg) == 0;
		for (size_t i = 0; i < plan->n_rel; i++)
			apply_release(&c, lg, &plan->rel[i]);
		for (size_t i = 0; i < plan->n_req; i++)
			apply_request(&c, lg, &plan->req[i]);
		if (batch && ledger_batch_commit(lg) != 0) {
			snprintf(msg, len, "the ledger could not store the cycle's bookings");
			rc = -EIO;
		}
		keep_views(m, &c, plan);
	}
	m->last_cycle_s = mono() - t0;
	m->last_cycle_at = c.now;
	if (rc) {
		m->failed_cycles++;
		log_err("alloc: cycle failed: %s", msg);
	} else {
		m->cycles++;
		snprintf(msg, len,
		         "%zu classes, %zu resources, %zu leases held: %zu requests, "
		         "%zu releases in %.1f ms",
		         c.n_cls, c.n_res, c.n_resv, plan->n_req, plan->n_rel,
		         m->last_cycle_s * 1e3);
		log_info("alloc: cycle: %s", msg);
	}
	cycle_free(&c);
	return rc;
}

/* ---- pool provisioning hooks --------------------------------------------------------- */

static const struct cfg_pool *pool_of(const struct tidal_cfg *cfg, const char *resource)
{
	for (size_t p = 0; p < cfg->n_pools; p++) {
		size_t len = strlen(cfg->pools[p].name);
		if (!strncmp(resource, "pool.", 5) &&
		    !strncmp(resource + 5, cfg->pools[p].name, len) && resource[5 + len] == '.')
			return &cfg->pools[p];
	}
	return NULL;
}

static struct hook_lease *hook_lease(struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN],
                                     bool create)
{
	for (size_t i = 0; i < m->n_hl; i++)
		if (!memcmp(m->hl[i]->id, id, LEDGER_ID_LEN))
			return m->hl[i];
	if (!create || grow((void **)&m->hl, &m->cap_hl, m->n_hl + 1, sizeof(*m->hl)))
		return NULL;
	struct hook_lease *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	memcpy(h->id, id, LEDGER_ID_LEN);
	h->m = m;
	m->hl[m->n_hl++] = h;
	return h;
}

static void drop_hook_lease(struct alloc_mod *m, struct hook_lease *h)
{
	for (size_t i = 0; i < m->n_hl; i++)
		if (m->hl[i] == h) {
			m->hl[i] = m->hl[--m->n_hl];
			free(h);
			return;
		}
}

static void start_hook(struct alloc_mod *m, struct hook_lease *h, const struct ledger_lease *x);

static void hook_done(void *arg, const struct alloc_hook_result *r)
{
	struct hook_lease *h = arg;
	struct alloc_mod *m = h->m;
	h->running = false;
	m->hook_runs[r->outcome]++;
	struct ledger *lg = ledger_mod_get(m->d);
	struct ledger_lease x;
	bool known = lg && ledger_get(lg, h->id, &x) == 0;
	char result[64], reason[ALLOC_REASON_MAX], id[LEDGER_ID_STR];
	bool was_release = h->running_release;
	const char *action = was_release ? "release" : "provision";
	if (r->timed_out)
		snprintf(result, sizeof(result), "%s: time limit", action);
	else if (r->signal)
		snprintf(result, sizeof(result), "%s: signal %d", action, r->signal);
	else
		snprintf(result, sizeof(result), "%s: exit %d (%s)", action, r->exit_code,
		         alloc_hook_outcome_name(r->outcome));
	snprintf(reason, sizeof(reason), "hook ran %.1f s; output: %.180s", r->seconds,
	         r->output[0] ? r->output : "(none)");
	decide(m, "hook", known ? x.app : "", known ? x.resource : ledger_id_fmt(h->id, id),
	       known ? (enum alloc_kind)x.kind : ALLOC_VCPU, known ? x.quantity : 0,
	       known ? x.start : 0, known ? x.end : 0, result, reason);
	if (r->outcome == ALLOC_HOOK_OK) {
		if (was_release) {
			drop_hook_lease(m, h);
			return;
		}
		h->provisioned = true;
		if (h->releasing) { /* the lease ended while it was being provisioned */
			h->attempts = 0;
			h->retry_at = tidald_now();
		}
		return;
	}
	if (r->outcome == ALLOC_HOOK_RETRY && h->attempts < HOOK_ATTEMPTS) {
		h->retry_at = tidald_now() + HOOK_RETRY_S;
		return;
	}
	if (!was_release && h->releasing) {
		drop_hook_lease(m, h); /* never provisioned, already over */
		return;
	}
	if (!was_release && known && ledger_state_live(x.state)) {
		/* The capacity cannot be provided: give the booking back. */
		enum ledger_err why;
		ledger_revoke(lg, h->id, tidald_now(), LEDGER_E_PROVISION, NULL, &why);
	}
	drop_hook_lease(m, h);
}

static void start_hook(struct alloc_mod *m, struct hook_lease *h, const struct ledger_lease *x)
{
	const struct tidal_cfg *cfg = tidald_cfg(m->d);
	const struct cfg_pool *p = pool_of(cfg, x->resource);
	if (!p || !p->provision_hook[0]) {
		if (h->releasing)
			drop_hook_lease(m, h);
		else
			h->provisioned = true; /* bookkeeping only */
		return;
	}
	char env[16][320], t0[32], t1[32], id[LEDGER_ID_STR];
	const char *envp[17];
	size_t n = 0;
#define ENV(...) (snprintf(env[n], sizeof(env[n]), __VA_ARGS__), envp[n] = env[n], n++)
	ENV("TIDAL_ACTION=%s", h->releasing ? "release" : "provision");
	ENV("TIDAL_LEASE_ID=%s", ledger_id_fmt(x->id, id));
	ENV("TIDAL_REGION=%s", cfg->region.name);
	ENV("TIDAL_POOL=%s", p->name);
	ENV("TIDAL_RESOURCE=%s", x->resource);
	ENV("TIDAL_KIND=%s", ledger_kind_name(x->kind));
	ENV("TIDAL_QUANTITY=%" PRIu64, x->quantity);
	ENV("TIDAL_UNIT=%s", ledger_kind_unit(x->kind));
	ENV("TIDAL_START=%s", cfg_fmt_time(x->start, t0, sizeof(t0)));
	ENV("TIDAL_END=%s", cfg_fmt_time(x->end, t1, sizeof(t1)));
	ENV("TIDAL_START_S=%lld", (long long)x->start);
	ENV("TIDAL_END_S=%lld", (long long)x->end);
	ENV("TIDAL_REQUESTER=%s", x->requester);
	ENV("TIDAL_PROVIDER=%s", x->provider);
	ENV("TIDAL_APP=%s", x->app);
	ENV("TIDAL_PRIORITY=%u", x->hold_prio);
#undef ENV
	envp[n] = NULL;
	struct alloc_hook_job j = {.program = p->provision_hook,
	                           .action = h->releasing ? "release" : "provision",
	                           .env = envp,
	                           .timeout_s = (uint32_t)(p->lead_time_ms / 1000),
	                           .done = hook_done,
	                           .arg = h};
	if (!j.timeout_s)
		j.timeout_s = 1;
	h->attempts++;
	int rc = alloc_hook_run(m->hooks, &j);
	if (rc) {
		struct alloc_hook_result r = {.outcome = ALLOC_HOOK_FAILED, .exit_code = -1};
		snprintf(r.output, sizeof(r.output), "cannot start %s: %s", p->provision_hook,
		         strerror(-rc));
		hook_done(h, &r);
		return;
	}
	h->running = true;
	h->running_release = h->releasing;
}

static void on_lease_changed(struct alloc_mod *m, const struct ledger_change *ch)
{
	const struct ledger_lease *x = &ch->lease;
	if (!ledger_state_live(x->state))
		forget_managed(m, x->id);
	if (!pool_of(tidald_cfg(m->d), x->resource) ||
	    strcmp(x->provider, tidald_cfg(m->d)->region.name))
		return;
	struct hook_lease *h = hook_lease(m, x->id, ledger_state_live(x->state));
	if (!h)
		return;
	bool committed = x->state == LEDGER_RESERVED || x->state == LEDGER_ACTIVE;
	if (committed && (!h->provisioned || ch->reprovision) && !h->running && !h->releasing) {
		h->attempts = 0;
		start_hook(m, h, x);
	} else if (!ledger_state_live(x->state) && !h->releasing) {
		if (!h->provisioned && !h->running) {
			drop_hook_lease(m, h);
			return;
		}
		h->releasing = true;
		h->attempts = 0;
		h->retry_at = 0;
		if (!h->running)
			start_hook(m, h, x); /* else when the provision run ends (hook_done) */
	}
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct alloc_mod *m = arg;
	(void)fd, (void)what;
	int64_t now = tidald_now();
	struct ledger *lg = ledger_mod_get(m->d);
	for (size_t i = 0; i < m->n_hl; i++) {
		struct hook_lease *h = m->hl[i];
		if (h->running || !h->retry_at || h->retry_at > now)
			continue;
		struct ledger_lease x;
		if (!lg || ledger_get(lg, h->id, &x) != 0)
			continue;
		h->retry_at = 0;
		start_hook(m, h, &x);
		break; /* the array may have changed */
	}
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
		                     x->quantity ? fmt_qty(x->kind, x->quantity, q, sizeof(q))
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
		                                unit_name(x->kind), "start_s", (json_int_t)x->start,
		                                "end_s", (json_int_t)x->end, "result", x->result,
		                                "reason", x->reason));
	}
	return CTL_OK;
}

static enum ctl_status cmd_run(struct tidald *d, void *arg, const struct ctl_request *req,
                               struct ctl_reply *rep)
{
	struct alloc_mod *m = arg;
	char msg[256];
	(void)d, (void)req;
	int rc = run_cycle(m, NULL, msg, sizeof(msg));
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

static int sum_one(const struct ledger_lease *x, void *arg)
{
	struct sum_ctx *s = arg;
	if (!strcmp(x->app, s->app) && !strcmp(x->requester, s->region) && x->start <= s->now &&
	    x->end > s->now && (x->state == LEDGER_ACTIVE || x->state == LEDGER_RESERVED))
		s->sum += (double)x->quantity;
	return 0;
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
	struct alloc_mod *m = mod(d);
	if (!m || !app || !out)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->demand = out->need = out->quantile = -1;
	out->reserved = reserved_now(d, app);
	if (collector_rate_bps)
		out->demand = collector_rate_bps(d, app, COLL_DIR_OUT);
	if (out->demand < 0 && demand_forecast_get) {
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

static int alloc_mod_start(struct tidald *d, void **state)
{
	struct alloc_mod *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->a = alloc_new();
	m->hooks = alloc_hook_new(tidald_base(d));
	m->log = calloc(LOG_SIZE, sizeof(*m->log));
	m->retry = event_new(tidald_base(d), -1, EV_PERSIST, on_retry, m);
	struct timeval tick = {5, 0};
	if (!m->a || !m->hooks || !m->log || !m->retry || event_add(m->retry, &tick)) {
		log_err("alloc: out of memory while starting");
		if (m->retry)
			event_free(m->retry);
		alloc_free(m->a);
		alloc_hook_free(m->hooks);
		free(m->log);
		free(m);
		return -ENOMEM;
	}
	ctl_register(d, "show decisions", cmd_decisions, m,
	             "the allocation controller's recent decisions and why");
	ctl_register(d, "alloc run", cmd_run, m, "run one allocation cycle now");
	if (!demand_forecast_get)
		log_info("alloc: no forecast module in this tidald: cycles run on "
		         "forecast updates and `tidalctl alloc run`, from measured rates and "
		         "min_rate");
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
	alloc_hook_free(m->hooks);
	for (size_t i = 0; i < m->n_hl; i++)
		free(m->hl[i]);
	free(m->hl);
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
		run_cycle(m, data, msg, sizeof(msg));
	else if (ev == TIDALD_EV_LEASE_CHANGED && data)
		on_lease_changed(m, data);
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

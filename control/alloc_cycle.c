/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_cycle: one controller cycle of the tidald module `alloc` (docs/alloc.md): the input
 * from the running config (regions, links, pools), the forecasts (from the update, else
 * demand_forecast_get) and the ledger's live leases; the plan applied in one ledger batch,
 * releases first; every action into the decision log.
 *
 * Owns nothing beyond one cycle's arrays. Books only through ledger.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_mod_int.h"
#include "collector.h"
#include "log.h"
#include "peering_mod.h"
#include "tidald.h"

/* ---- one cycle ----------------------------------------------------------------------- */

static const struct demand_forecast *find_forecast(struct cycle *c, const char *series)
{
	if (c->up)
		for (size_t i = 0; i < c->up->n; i++)
			if (c->up->forecasts[i] && !strcmp(c->up->forecasts[i]->series, series))
				return c->up->forecasts[i];
	return demand_forecast_get(c->m->d, series);
}

int amod_region_index(const struct cycle *c, const char *name)
{
	for (size_t i = 0; i < c->n_regions; i++)
		if (!strcmp(c->regions[i], name))
			return (int)i;
	return -1;
}

int amod_res_index(const struct cycle *c, const char *name)
{
	for (size_t i = 0; i < c->n_res; i++)
		if (!strcmp(c->res_names[i], name))
			return (int)i;
	return -1;
}

static int build_topology(struct cycle *c, struct ledger *lg)
{
	const struct tidal_cfg *cfg = c->cfg;
	c->n_regions = 1 + cfg->n_peers;
	c->regions = calloc(c->n_regions, sizeof(char *));
	size_t max_res = cfg->n_links + 3 * cfg->n_pools + 4 * (cfg->n_peers + 1) * cfg->n_peers + 64;
	c->max_res = max_res;
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
	c->n_local_res = c->n_res;
	return amod_remote_resources(c, lg);
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
		int dst = a->peer[0] ? amod_region_index(c, a->peer) : (c->n_regions > 1 ? 1 : -1);
		if (dst < 1)
			continue; /* no peer to send it to: nothing to reserve */
		struct alloc_class *k = &c->cls[c->n_cls];
		snprintf(c->cls_names[c->n_cls], LEDGER_RES_MAX, "%s", a->name);
		double measured = collector_rate_bps(c->m->d, a->name, COLL_DIR_OUT);
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

/* "P,R" on a local booking of our link to P: the first hop of a transit path to R. */
static void local_transit(const struct cycle *c, int r, const char *path, int *via, int *dst)
{
	const char *comma = strchr(path, ',');
	*via = *dst = -1;
	if (!comma || strchr(comma + 1, ','))
		return;
	const char *p = c->regions[c->res[r].to];
	if ((size_t)(comma - path) != strlen(p) || strncmp(path, p, strlen(p)))
		return;
	int d = amod_region_index(c, comma + 1);
	if (d >= 1 && d != c->res[r].to) {
		*via = c->res[r].to;
		*dst = d;
	}
}

static int collect_one(const struct ledger_lease *x, void *arg)
{
	struct cycle *c = arg;
	if (x->end <= c->now || x->state >= LEDGER_RELEASED)
		return 0;
	bool ours = !strcmp(x->requester, c->cfg->region.name);
	bool remote = strcmp(x->provider, c->cfg->region.name) != 0;
	int r = -1, via = -1, dst = -1;
	if (!remote) {
		r = amod_res_index(c, x->resource);
		if (r < 0 || (size_t)r >= c->n_local_res)
			return 0;
		if (ours && x->path[0] && c->res[r].kind == ALLOC_BANDWIDTH)
			local_transit(c, r, x->path, &via, &dst);
	} else {
		char name[LEDGER_RES_MAX];
		if (!amod_remote_name(c, x, name, sizeof(name)))
			return 0; /* a lease the controller has no resource for */
		r = amod_res_index(c, name);
		if (r < 0)
			return 0;
		if (c->res[r].kind == ALLOC_BANDWIDTH) {
			via = c->res[r].owner;
			dst = c->res[r].to;
		}
	}
	if (amod_grow((void **)&c->resv, &c->cap_resv, c->n_resv + 1, sizeof(*c->resv)) ||
	    amod_grow((void **)&c->meta, &c->cap_meta, c->n_resv + 1, sizeof(*c->meta)))
		return -ENOMEM;
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
	v->fixed = cls < 0 || !amod_is_managed(c->m, x->id);
	struct resv_meta *mt = &c->meta[c->n_resv];
	memset(mt, 0, sizeof(*mt));
	memcpy(mt->id, x->id, LEDGER_ID_LEN);
	mt->remote = remote;
	mt->via = via;
	mt->dst = dst;
	c->n_resv++;
	return 0;
}

static int add_orphan(struct cycle *c, size_t i)
{
	size_t cap = c->cap_orphans;
	if (amod_grow((void **)&c->orphans, &c->cap_orphans, c->n_orphans + 1, LEDGER_ID_LEN))
		return -ENOMEM;
	if (cap != c->cap_orphans) {
		bool *o = realloc(c->orphan_remote, c->cap_orphans * sizeof(bool));
		if (!o)
			return -ENOMEM;
		c->orphan_remote = o;
	}
	memcpy(c->orphans[c->n_orphans], c->meta[i].id, LEDGER_ID_LEN);
	c->orphan_remote[c->n_orphans++] = c->meta[i].remote;
	c->meta[i].dropped = true;
	return 0;
}

/* A transit path is two ledger entries: the local booking of the first hop (path "P,R")
 * and the lease from P carried on to R (path "R"). Make them one reservation of two hops;
 * the controller's halves whose other half is gone are released (they carry nothing). */
static int pair_transit(struct cycle *c)
{
	int rc = 0;
	for (size_t i = 0; i < c->n_resv && !rc; i++) {
		struct resv_meta *a = &c->meta[i];
		struct alloc_resv *v = &c->resv[i];
		if (a->remote || a->via < 0 || a->dropped)
			continue;
		size_t j = 0;
		for (; j < c->n_resv; j++) {
			const struct resv_meta *b = &c->meta[j];
			const struct alloc_resv *w = &c->resv[j];
			if (b->remote && !b->dropped && b->via == a->via && b->dst == a->dst &&
			    w->cls == v->cls && w->quantity == v->quantity && w->start == v->start &&
			    w->end == v->end)
				break;
		}
		if (j < c->n_resv) {
			v->hops[v->n_hops++] = c->resv[j].hops[0];
			v->fixed |= c->resv[j].fixed;
			memcpy(a->id2, c->meta[j].id, LEDGER_ID_LEN);
			a->pair = true;
			c->meta[j].dropped = true;
		} else if (amod_is_managed(c->m, a->id)) {
			rc = add_orphan(c, i);
		} else {
			v->cls = -1; /* serves nothing; its capacity stays booked */
			v->fixed = true;
		}
	}
	for (size_t j = 0; j < c->n_resv && !rc; j++)
		if (c->meta[j].remote && c->meta[j].via >= 0 && !c->meta[j].dropped &&
		    amod_is_managed(c->m, c->meta[j].id))
			rc = add_orphan(c, j);
	size_t n = 0;
	for (size_t i = 0; i < c->n_resv; i++) {
		if (c->meta[i].dropped)
			continue;
		c->resv[n] = c->resv[i];
		c->meta[n] = c->meta[i];
		c->resv[n].user = n;
		n++;
	}
	c->n_resv = n;
	return rc;
}

static void cycle_free(struct cycle *c)
{
	free(c->regions), free(c->res), free(c->res_names), free(c->cls), free(c->cls_names);
	for (size_t i = 0; i < c->n_cls; i++)
		free((void *)c->cls_match[i]);
	free(c->cls_match), free(c->cls_pool), free(c->resv), free(c->meta);
	free(c->orphans), free(c->orphan_remote);
}

/* Give one lease back: a lease from a peer through the lease service, a booking here
 * through the ledger. 0 or a negative errno with why. */
static int give_back(struct cycle *c, struct ledger *lg, const uint8_t id[LEDGER_ID_LEN],
                     bool remote, char *why, size_t len)
{
	struct ledger_lease out;
	if (remote) {
		struct lease_svc *svc = peering_mod_get(c->m->d);
		if (!svc) {
			snprintf(why, len, "no peering module");
			return -ENOTSUP;
		}
		return lease_svc_release(svc, id, &out, why, len);
	}
	enum ledger_err e = LEDGER_OK;
	int rc = ledger_release(lg, id, c->now, &out, &e);
	if (rc)
		snprintf(why, len, "%s", ledger_err_name(e));
	return rc;
}

static void path_text(const struct cycle *c, const int *hops, unsigned n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned h = 0; h < n && off < len; h++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", h ? "+" : "",
		                        c->res_names[hops[h]]);
}

static void release_orphans(struct cycle *c, struct ledger *lg)
{
	for (size_t i = 0; i < c->n_orphans; i++) {
		char why[128] = "", id[LEDGER_ID_STR], result[64];
		struct ledger_lease x;
		if (ledger_get(lg, c->orphans[i], &x))
			continue;
		int rc = give_back(c, lg, c->orphans[i], c->orphan_remote[i], why, sizeof(why));
		if (rc == 0)
			c->m->releases++;
		snprintf(result, sizeof(result), rc ? "failed: %.50s" : "released %.8s",
		         rc ? why : ledger_id_fmt(c->orphans[i], id));
		amod_decide(c->m, "release", x.app, x.resource, (enum alloc_kind)x.kind, x.quantity,
		            x.start, x.end, result,
		            c->orphan_remote[i]
		                    ? "transit: the booking of the first hop is gone"
		                    : "transit: the lease that carried it on is gone");
	}
}

static void apply_release(struct cycle *c, struct ledger *lg, const struct alloc_release *x)
{
	struct alloc_mod *m = c->m;
	const struct alloc_resv *v = &c->resv[x->resv];
	const struct resv_meta *mt = &c->meta[x->resv];
	const char *app = x->cls >= 0 ? c->cls_names[x->cls] : "";
	const char *what = x->why == ALLOC_PREEMPTED ? "preempt"
	                   : x->why == ALLOC_RESIZE  ? "resize"
	                                             : "release";
	char result[64], id[LEDGER_ID_STR], path[160], why[128] = "";
	path_text(c, v->hops, v->n_hops, path, sizeof(path));
	if (x->cls < 0) {
		/* Another region's lease: the ledger preempts it when our booking needs the room.
		 */
		amod_decide(m, what, app, path, c->res[v->hops[0]].kind, v->quantity, v->start,
		            v->end, "left to the ledger's preemption", x->reason);
		return;
	}
	ledger_id_fmt(mt->id, id);
	int rc = give_back(c, lg, mt->id, mt->remote, why, sizeof(why));
	if (mt->pair) {
		char why2[128] = "";
		int rc2 = give_back(c, lg, mt->id2, true, why2, sizeof(why2));
		if (rc2 && !rc) {
			rc = rc2;
			snprintf(why, sizeof(why), "%s", why2);
		}
	}
	if (rc == 0) {
		snprintf(result, sizeof(result), "released %.8s", id);
		m->releases++;
	} else {
		snprintf(result, sizeof(result), "failed: %.50s", why);
	}
	amod_decide(m, what, app, path, c->res[v->hops[0]].kind, v->quantity, v->start, v->end,
	            result, x->reason);
}

static enum lease_resource lease_res(enum alloc_kind k)
{
	switch (k) {
	case ALLOC_VCPU:
		return LEASE_RES_VCPU;
	case ALLOC_MEMORY:
		return LEASE_RES_MEMORY;
	case ALLOC_STORAGE:
		return LEASE_RES_STORAGE;
	default:
		return LEASE_RES_BANDWIDTH;
	}
}

/* The regions a request's traffic crosses after hop `from`'s owner: "ams,lon". */
static void regions_after(const struct cycle *c, const struct alloc_request *q, unsigned from,
                          char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned h = from; h < q->n_hops && off < len; h++) {
		int to = c->res[q->hops[h]].to;
		if (to >= 0)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			                        c->regions[to]);
	}
}

/* A local hop: booked in our ledger. A transit path's first hop records the regions after
 * it ("ams,lon") so that the lease from the next region pairs with it and FRR knows it is
 * not the direct path. */
static int book_local(struct cycle *c, struct ledger *lg, const struct alloc_request *q,
                      unsigned h, uint8_t id[LEDGER_ID_LEN], char *why, size_t len)
{
	const struct alloc_resource *r = &c->res[q->hops[h]];
	struct ledger_req r2;
	struct ledger_lease out;
	memset(&r2, 0, sizeof(r2));
	ledger_id_new(r2.id);
	snprintf(r2.requester, sizeof(r2.requester), "%s", c->cfg->region.name);
	snprintf(r2.provider, sizeof(r2.provider), "%s", c->cfg->region.name);
	snprintf(r2.resource, sizeof(r2.resource), "%s", c->res_names[q->hops[h]]);
	r2.kind = (enum ledger_kind)r->kind;
	r2.quantity = q->quantity;
	r2.start = q->start;
	r2.end = q->end;
	r2.setup_prio = r2.hold_prio = q->prio;
	if (c->cls_match[q->cls])
		snprintf(r2.match, sizeof(r2.match), "%s", c->cls_match[q->cls]);
	snprintf(r2.app, sizeof(r2.app), "%s", c->cls_names[q->cls]);
	if (q->n_hops > 1 && r->kind == ALLOC_BANDWIDTH)
		regions_after(c, q, h, r2.path, sizeof(r2.path));
	enum ledger_err e = LEDGER_OK;
	int rc = ledger_book(lg, &r2, c->now, &out, &e);
	if (rc == 0)
		memcpy(id, r2.id, LEDGER_ID_LEN);
	else
		snprintf(why, len, "%s", ledger_err_name(e));
	return rc;
}

/* The hops from h on, provided by another region: one lease from that region, which books
 * its hop and leases the next ones itself (path = the regions after it). */
static int lease_remote(struct cycle *c, const struct alloc_request *q, unsigned h,
                        uint8_t id[LEDGER_ID_LEN], char *why, size_t len)
{
	const struct alloc_resource *r = &c->res[q->hops[h]];
	struct lease_svc *svc = peering_mod_get(c->m->d);
	if (!svc) {
		snprintf(why, len, "no peering module to lease from %s", c->regions[r->owner]);
		return -ENOTSUP;
	}
	char path[LEDGER_PATH_MAX] = "", pool[LEDGER_RES_MAX] = "";
	if (r->kind == ALLOC_BANDWIDTH) {
		regions_after(c, q, h, path, sizeof(path));
	} else {
		/* "P:pool.NAME.KIND" names P's pool NAME; "P:KIND" its default pool. */
		const char *n = strchr(c->res_names[q->hops[h]], ':');
		if (n && !strncmp(n + 1, "pool.", 5)) {
			snprintf(pool, sizeof(pool), "%s", n + 6);
			char *dot = strrchr(pool, '.');
			if (dot)
				*dot = '\0';
		}
	}
	struct lease_svc_request lr = {.peer = c->regions[r->owner],
	                               .resource = lease_res(r->kind),
	                               .pool = pool[0] ? pool : NULL,
	                               .quantity = q->quantity,
	                               .start_s = q->start,
	                               .duration_s = (uint32_t)(q->end - q->start),
	                               .setup_prio = q->prio,
	                               .hold_prio = q->prio,
	                               .app = c->cls_names[q->cls],
	                               .match = c->cls_match[q->cls],
	                               .path = path};
	struct ledger_lease out;
	int rc = lease_svc_request(svc, &lr, &out, why, len);
	if (rc == 0)
		memcpy(id, out.id, LEDGER_ID_LEN);
	return rc;
}

static void manage(struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN])
{
	if (!amod_grow((void **)&m->managed, &m->cap_managed, m->n_managed + 1, LEDGER_ID_LEN))
		memcpy(m->managed[m->n_managed++], id, LEDGER_ID_LEN);
}

static void apply_request(struct cycle *c, struct ledger *lg, const struct alloc_request *q)
{
	struct alloc_mod *m = c->m;
	const char *app = c->cls_names[q->cls];
	char path[160], result[64], why[128] = "";
	path_text(c, q->hops, q->n_hops, path, sizeof(path));
	enum alloc_kind kind = c->res[q->hops[0]].kind;
	/* Every hop or none: local hops booked here, then the rest as one lease from the
	 * region that provides the first remote hop. */
	uint8_t ids[ALLOC_MAX_HOPS][LEDGER_ID_LEN] = {{0}};
	uint8_t rid[LEDGER_ID_LEN] = {0};
	unsigned done = 0;
	bool remote = false;
	int rc = 0;
	for (; done < q->n_hops && !rc; done++) {
		if (c->res[q->hops[done]].owner != 0) {
			remote = true;
			rc = lease_remote(c, q, done, rid, why, sizeof(why));
			break;
		}
		if ((rc = book_local(c, lg, q, done, ids[done], why, sizeof(why))))
			break;
	}
	if (rc) {
		for (unsigned h = 0; h < done; h++) {
			char w[64];
			give_back(c, lg, ids[h], false, w, sizeof(w));
		}
		snprintf(result, sizeof(result), "%s: %.50s",
		         rc == -ENOTSUP ? "skipped" : "refused", why);
		if (rc == -ENOTSUP)
			m->skipped++;
		else
			m->refused++;
	} else {
		char id[LEDGER_ID_STR], id2[LEDGER_ID_STR];
		for (unsigned h = 0; h < done; h++)
			manage(m, ids[h]);
		if (remote)
			manage(m, rid);
		if (remote && done)
			snprintf(result, sizeof(result), "booked %.8s, requested %.8s",
			         ledger_id_fmt(ids[0], id), ledger_id_fmt(rid, id2));
		else
			snprintf(result, sizeof(result), "%s %.8s", remote ? "requested" : "booked",
			         ledger_id_fmt(remote ? rid : ids[0], id));
		m->requests++;
	}
	amod_decide(m,
	            q->replaces ? "resize"
	            : remote    ? "lease"
	                        : "request",
	            app, path, kind, q->quantity, q->start, q->end, result, q->reason);
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
			         amod_fmt_qty(c->cls[i].kind, (uint64_t)w->need, n, sizeof(n)),
			         cfg_fmt_time(w->need_start, s, sizeof(s)), c->cls[i].priority);
			amod_decide(m, "short", a->name, "", c->cls[i].kind, (uint64_t)w->short_by,
			            w->need_start, 0, "short", reason);
		}
	}
}

/* The end of the last block a cycle can decide: capacities of remote resources are the
 * least their adverts promise up to there. */
static int64_t window_end(const struct cycle *c, uint32_t block_s, uint32_t period_s,
                          uint32_t lease_lead_s)
{
	uint64_t lead = 0;
	for (size_t i = 0; i < c->cfg->n_links; i++)
		if (c->cfg->links[i].lead_time_ms / 1000 > lead)
			lead = c->cfg->links[i].lead_time_ms / 1000;
	for (size_t i = 0; i < c->cfg->n_pools; i++)
		if (c->cfg->pools[i].lead_time_ms / 1000 > lead)
			lead = c->cfg->pools[i].lead_time_ms / 1000;
	int64_t t = c->now + (int64_t)lead + lease_lead_s + period_s;
	int64_t b = (int64_t)block_s;
	return (t / b + 1) * b;
}

/* Only pair the transit halves and release the controller's halves whose other half is
 * gone: no planning, no requests (what is missing waits for the next cycle). */
static int sweep_orphans(struct cycle *c, struct ledger *lg)
{
	if (!c->n_orphans)
		return 0;
	struct lease_svc *svc = peering_mod_get(c->m->d);
	bool batch = false;
	if (svc)
		lease_svc_begin(svc);
	else
		batch = ledger_batch_begin(lg) == 0;
	size_t before = c->m->releases;
	release_orphans(c, lg);
	if (svc)
		lease_svc_end(svc);
	else if (batch && ledger_batch_commit(lg) != 0)
		return -EIO;
	log_info("alloc: released %zu transit half(s) whose other half ended",
	         (size_t)(c->m->releases - before));
	amod_record_reserved(c->m, c->now);
	return 0;
}

static int cycle_run(struct alloc_mod *m, const struct demand_update *up, bool orphans_only,
                     char *msg, size_t len);

/* Run one cycle now. `up` may be NULL (forecasts then come from demand_forecast_get). */
int amod_cycle(struct alloc_mod *m, const struct demand_update *up, char *msg, size_t len)
{
	return cycle_run(m, up, false, msg, len);
}

/* Release at once the transit halves a peer's refusal, revocation or failure left alone. */
int amod_sweep(struct alloc_mod *m)
{
	char msg[160];
	return cycle_run(m, NULL, true, msg, sizeof(msg));
}

static int cycle_run(struct alloc_mod *m, const struct demand_update *up, bool orphans_only,
                     char *msg, size_t len)
{
	struct ledger *lg = ledger_mod_get(m->d);
	if (!lg) {
		snprintf(msg, len, "no ledger module: nothing can be booked");
		if (!m->warned_no_ledger)
			log_warn("alloc: %s", msg);
		m->warned_no_ledger = true;
		return -ENOENT;
	}
	double t0 = amod_mono();
	struct cycle c = {.m = m, .cfg = tidald_cfg(m->d), .up = up, .now = tidald_now()};
	uint64_t bucket = c.cfg->forecast.bucket_ms / 1000;
	uint64_t period = c.cfg->forecast.period_ms / 1000;
	uint32_t block_s = bucket > MIN_BLOCK_S ? (uint32_t)bucket : MIN_BLOCK_S;
	uint32_t period_s = period ? (uint32_t)period : MIN_BLOCK_S;
	uint32_t lease_lead_s = (uint32_t)(c.cfg->peering.lease_lead_time_ms / 1000);
	c.win_end = window_end(&c, block_s, period_s, lease_lead_s);
	int rc = build_topology(&c, lg);
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
		cfg_fmt_match(&a->match, t, LEDGER_MATCH_MAX);
		c.cls_match[i] = t;
	}
	if (!rc)
		rc = ledger_foreach(lg, false, collect_one, &c);
	if (!rc)
		rc = pair_transit(&c);
	if (orphans_only) {
		if (!rc)
			rc = sweep_orphans(&c, lg);
		if (rc)
			log_err("alloc: releasing transit halves failed: %s", strerror(-rc));
		cycle_free(&c);
		return rc;
	}
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
		in.params.now = c.now;
		in.params.block_s = block_s;
		in.params.period_s = period_s;
		in.params.lease_lead_s = lease_lead_s;
		rc = alloc_run(m->a, &in, &plan);
		if (rc)
			snprintf(msg, len, "controller refused its input: %s", alloc_error(m->a));
	} else if (rc == -ENOMEM) {
		snprintf(msg, len, "out of memory");
	}
	if (!rc) {
		/* Releases first (they make room), then bookings, in one durable batch: the
		 * peering module's when it runs (requests to peers leave once it is durable). */
		struct lease_svc *svc = peering_mod_get(m->d);
		bool batch = false;
		if (svc)
			lease_svc_begin(svc);
		else
			batch = ledger_batch_begin(lg) == 0;
		release_orphans(&c, lg);
		for (size_t i = 0; i < plan->n_rel; i++)
			apply_release(&c, lg, &plan->rel[i]);
		for (size_t i = 0; i < plan->n_req; i++)
			apply_request(&c, lg, &plan->req[i]);
		if (svc) {
			lease_svc_end(svc);
		} else if (batch && ledger_batch_commit(lg) != 0) {
			snprintf(msg, len, "the ledger could not store the cycle's bookings");
			rc = -EIO;
		}
		keep_views(m, &c, plan);
		amod_record_reserved(m, c.now);
	}
	m->last_cycle_s = amod_mono() - t0;
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

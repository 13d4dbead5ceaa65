/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger: open/close, resources, the in-memory lease store, transactions, ledger_tick, and
 * the read side (get, foreach, count, verify). Requests, commits and events are in
 * ledger_ops.c, SQLite in ledger_db.c, the state table in ledger_fsm.c (docs/ledger.md).
 *
 * Memory mirrors the database: every change is made in memory, written in the same
 * SQLite transaction, and reported only after COMMIT. If anything fails half-way (a write,
 * an allocation), the transaction is rolled back and memory is reloaded from the database,
 * so the two never disagree.
 *
 * Owns the database handle, the lease array and its id index, the resources' calendars and
 * the queue of changes waiting to be reported. Never arms timers or reads the clock (the
 * caller passes `now`), never touches the network.
 */
#include "ledger_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"

#define DEFAULT_HOLD_S 30
#define DEFAULT_RETAIN_S (7 * 86400)
#define DEFAULT_SYNC_DELAY_MS 10

/* ---- id index ------------------------------------------------------------------------ */

static uint64_t id_hash(const uint8_t id[LEDGER_ID_LEN])
{
	uint64_t a, b;
	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	uint64_t h = a ^ (b * 0x9e3779b97f4a7c15ull);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return h;
}

static int slots_rebuild(struct ledger *l, size_t want)
{
	size_t ns = 64;
	while (ns < 2 * want)
		ns *= 2;
	uint32_t *s = calloc(ns, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		size_t h = id_hash(l->v[i].id) & (ns - 1);
		while (s[h])
			h = (h + 1) & (ns - 1);
		s[h] = (uint32_t)(i + 1);
	}
	free(l->slots);
	l->slots = s;
	l->n_slots = ns;
	return 0;
}

long ledger_find(const struct ledger *l, const uint8_t id[LEDGER_ID_LEN])
{
	if (!l->n_slots)
		return -1;
	size_t h = id_hash(id) & (l->n_slots - 1);
	while (l->slots[h]) {
		long i = (long)l->slots[h] - 1;
		if (memcmp(l->v[i].id, id, LEDGER_ID_LEN) == 0)
			return i;
		h = (h + 1) & (l->n_slots - 1);
	}
	return -1;
}

long ledger_append(struct ledger *l, const struct ledger_lease *lease)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct ledger_lease *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	if (2 * (l->n + 1) > l->n_slots && slots_rebuild(l, l->n + 1) < 0)
		return -ENOMEM;
	l->v[l->n] = *lease;
	size_t h = id_hash(lease->id) & (l->n_slots - 1);
	while (l->slots[h])
		h = (h + 1) & (l->n_slots - 1);
	l->slots[h] = (uint32_t)(l->n + 1);
	return (long)l->n++;
}

/* ---- resources ----------------------------------------------------------------------- */

struct ledger_res *ledger_res_get(struct ledger *l, const char *name)
{
	int i = ledger_resource_find(l, name);
	return i < 0 ? NULL : &l->res[i];
}

int ledger_resource_find(const struct ledger *l, const char *name)
{
	for (size_t i = 0; i < l->n_res; i++)
		if (strcmp(l->res[i].name, name) == 0)
			return (int)i;
	if (strchr(name, '.') == NULL) {
		char full[LEDGER_RES_MAX];
		if ((size_t)snprintf(full, sizeof(full), "link.%s", name) < sizeof(full))
			return ledger_resource_find(l, full);
	}
	return -ENOENT;
}

static struct ledger_res *res_add(struct ledger *l, const char *name, enum ledger_kind kind,
				  uint64_t capacity, bool configured)
{
	if (strlen(name) >= LEDGER_RES_MAX)
		return NULL;
	struct ledger_res *nr = realloc(l->res, (l->n_res + 1) * sizeof(*nr));
	if (!nr)
		return NULL;
	l->res = nr;
	struct ledger_res *r = &l->res[l->n_res];
	memset(r, 0, sizeof(*r));
	r->cal = ledger_cal_new(capacity);
	if (!r->cal)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->kind = kind;
	r->configured = configured;
	l->n_res++;
	return r;
}

int ledger_resource_set(struct ledger *l, const char *name, enum ledger_kind kind,
			uint64_t capacity)
{
	if ((unsigned)kind >= LEDGER_N_KINDS || !name[0] || strlen(name) >= LEDGER_RES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < l->n_res; i++) {
		struct ledger_res *r = &l->res[i];
		if (strcmp(r->name, name) != 0)
			continue;
		if (r->kind != kind) {
			log_err("ledger: resource %s is %s in the database but %s in the config",
				name, ledger_kind_name(r->kind), ledger_kind_name(kind));
			return -EINVAL;
		}
		ledger_cal_set_capacity(r->cal, capacity);
		r->configured = true;
		return 0;
	}
	return res_add(l, name, kind, capacity, true) ? 0 : -ENOMEM;
}

static int res_from_cfg(struct ledger *l, const struct tidal_cfg *cfg)
{
	char name[LEDGER_RES_MAX];
	int rc = 0;
	for (size_t i = 0; cfg && i < cfg->n_links && rc == 0; i++) {
		snprintf(name, sizeof(name), "link.%s", cfg->links[i].name);
		rc = ledger_resource_set(l, name, LEDGER_KIND_BANDWIDTH,
					 cfg->links[i].reservable_bps);
	}
	for (size_t i = 0; cfg && i < cfg->n_pools && rc == 0; i++) {
		const struct cfg_pool *p = &cfg->pools[i];
		const struct {
			const char *suffix;
			enum ledger_kind kind;
			uint64_t cap;
		} parts[] = {{"vcpu", LEDGER_KIND_VCPU, p->vcpu},
			     {"memory", LEDGER_KIND_MEMORY, p->memory_bytes},
			     {"storage", LEDGER_KIND_STORAGE, p->storage_bytes}};
		for (size_t k = 0; k < 3 && rc == 0; k++) {
			if (!parts[k].cap)
				continue;
			snprintf(name, sizeof(name), "pool.%s.%s", p->name, parts[k].suffix);
			rc = ledger_resource_set(l, name, parts[k].kind, parts[k].cap);
		}
	}
	return rc;
}

/* Resources booked above capacity from the ledger clock on (logged). */
static size_t count_overbooked(struct ledger *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n_res; i++) {
		struct ledger_res *r = &l->res[i];
		uint64_t peak = ledger_cal_peak(r->cal, l->clock, LEDGER_CAL_T_MAX);
		uint64_t cap = ledger_cal_capacity(r->cal);
		if (peak <= cap)
			continue;
		n++;
		log_warn("ledger: %s is booked above its %s capacity (peak %" PRIu64 " > %" PRIu64
			 " %s): nothing is revoked; release leases or raise the capacity",
			 r->name, r->configured ? "reservable" : "(removed from the config)", peak,
			 cap, ledger_kind_unit(r->kind));
	}
	return n;
}

int ledger_reload(struct ledger *l, const struct tidal_cfg *cfg)
{
	for (size_t i = 0; i < l->n_res; i++)
		l->res[i].configured = false;
	int rc = res_from_cfg(l, cfg);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < l->n_res;) {
		struct ledger_res *r = &l->res[i];
		if (r->configured) {
			i++;
			continue;
		}
		if (ledger_cal_nbreaks(r->cal) == 0) { /* nothing booked: forget it */
			ledger_cal_free(r->cal);
			memmove(r, r + 1, (l->n_res - i - 1) * sizeof(*r));
			l->n_res--;
			continue;
		}
		ledger_cal_set_capacity(r->cal, 0);
		log_warn("ledger: %s left the config but has live leases; it refuses new "
			 "bookings and is forgotten once they end", r->name);
		i++;
	}
	return (int)count_overbooked(l);
}

size_t ledger_resource_count(const struct ledger *l)
{
	return l->n_res;
}

const struct ledger_cal *ledger_resource_cal(const struct ledger *l, size_t i)
{
	return i < l->n_res ? l->res[i].cal : NULL;
}

int ledger_resource_info(const struct ledger *l, size_t i, int64_t now,
			 struct ledger_resource_info *out)
{
	if (i >= l->n_res)
		return -ENOENT;
	const struct ledger_res *r = &l->res[i];
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", r->name);
	out->kind = r->kind;
	out->capacity = ledger_cal_capacity(r->cal);
	out->configured = r->configured;
	out->booked_now = ledger_cal_booked_at(r->cal, now);
	out->peak = ledger_cal_peak(r->cal, now, LEDGER_CAL_T_MAX);
	for (size_t k = 0; k < l->n; k++)
		if (l->v[k].booked && strcmp(l->v[k].resource, r->name) == 0)
			out->n_leases++;
	return 0;
}

/* ---- clock and deadlines --------------------------------------------------------------- */

int64_t ledger_eff_now(struct ledger *l, int64_t now)
{
	if (now >= l->clock) {
		if (l->clock_warned)
			log_info("ledger: wall clock caught up with the ledger clock");
		l->clock_warned = false;
		l->clock = now;
		return now;
	}
	if (!l->clock_warned && l->clock - now > 1) {
		char a[32], b[32];
		log_warn("ledger: the wall clock went back %" PRId64 " s (%s, ledger clock %s): "
			 "the ledger keeps its own clock until the wall clock catches up; nothing "
			 "is started, ended or expired early", l->clock - now,
			 cfg_fmt_time(now, a, sizeof(a)), cfg_fmt_time(l->clock, b, sizeof(b)));
		l->clock_warned = true;
	}
	return l->clock;
}

int64_t ledger_clock(const struct ledger *l)
{
	return l->clock;
}

static int64_t lease_due(const struct ledger *l, const struct ledger_lease *x, int64_t now)
{
	if (!ledger_state_live(x->state))
		return x->updated > INT64_MAX - l->retain_s ? INT64_MAX : x->updated + l->retain_s;
	int64_t due = x->end;
	if ((x->state == LEDGER_CHECKING || x->state == LEDGER_HELD) && x->hold_until < due)
		due = x->hold_until;
	if (x->state == LEDGER_RESERVED && x->start < due)
		due = x->start > now ? x->start : now;
	return due;
}

/* ---- transactions ---------------------------------------------------------------------- */

static int load_one(const struct ledger_lease *x, void *arg);

/* Clear memory and read everything back from the database. */
static int rebuild(struct ledger *l)
{
	l->n = 0;
	for (size_t i = 0; i < l->n_res;) {
		if (!l->res[i].configured) {
			ledger_cal_free(l->res[i].cal);
			memmove(&l->res[i], &l->res[i + 1], (l->n_res - i - 1) * sizeof(l->res[0]));
			l->n_res--;
			continue;
		}
		ledger_cal_clear(l->res[i].cal);
		i++;
	}
	int rc = slots_rebuild(l, 0);
	if (rc == 0)
		rc = ledger_db_load(l->db, load_one, l);
	int64_t v;
	if (rc == 0 && ledger_db_meta_get(l->db, "clock", &v) == 0 && v > l->clock)
		l->clock = v;
	if (rc == 0 && ledger_db_meta_get(l->db, "next_seq", &v) == 0 && (uint64_t)v > l->next_seq)
		l->next_seq = (uint64_t)v;
	l->next_due = INT64_MIN; /* recomputed by the next tick */
	if (rc < 0) {
		l->broken = true;
		log_err("ledger: cannot reload the ledger from its database (%s): every booking is "
			"refused until tidald is restarted", strerror(-rc));
	}
	return rc;
}

/* Write the leases the transaction changed, each once, as they are now. */
static void write_dirty(struct ledger *l)
{
	for (size_t k = 0; k < l->n_dirty && !l->op_failed; k++) {
		const struct ledger_lease *x = &l->v[l->dirty[k].i];
		int rc = l->dirty[k].insert ? ledger_db_put(l->db, x) : ledger_db_update(l->db, x);
		if (rc < 0)
			l->op_failed = true;
	}
	l->n_dirty = 0;
}

static void fail_and_reload(struct ledger *l)
{
	ledger_db_rollback(l->db);
	l->in_txn = false;
	l->op_failed = false;
	l->n_pending = 0;
	l->n_dirty = 0;
	if (l->in_batch)
		l->batch_failed = true;
	rebuild(l);
}

int ledger_txn_begin(struct ledger *l)
{
	if (l->broken || (l->in_batch && l->batch_failed))
		return -EIO;
	if (l->in_txn)
		return 0;
	if (ledger_db_begin(l->db) < 0)
		return -EIO;
	l->in_txn = true;
	l->op_failed = false;
	return 0;
}

void ledger_persist(struct ledger *l, long i, bool created)
{
	struct ledger_dirty *last = l->n_dirty ? &l->dirty[l->n_dirty - 1] : NULL;
	if (last && last->i == i) {
		last->insert |= created;
	} else {
		if (l->n_dirty == l->cap_dirty) {
			size_t nc = l->cap_dirty ? l->cap_dirty * 2 : 64;
			struct ledger_dirty *nd = realloc(l->dirty, nc * sizeof(*nd));
			if (!nd) {
				l->op_failed = true;
				return;
			}
			l->dirty = nd;
			l->cap_dirty = nc;
		}
		l->dirty[l->n_dirty++] = (struct ledger_dirty){.i = i, .insert = created};
	}
	int64_t due = lease_due(l, &l->v[i], l->clock);
	if (due < l->next_due)
		l->next_due = due;
}

void ledger_note(struct ledger *l, long i, enum ledger_state from, bool created)
{
	const struct ledger_lease *x = &l->v[i];
	if (l->n_pending) {
		struct ledger_change *last = &l->pending[l->n_pending - 1];
		if (memcmp(last->lease.id, x->id, LEDGER_ID_LEN) == 0) {
			last->lease = *x; /* one report per lease and operation */
			return;
		}
	}
	if (l->n_pending == l->cap_pending) {
		size_t nc = l->cap_pending ? l->cap_pending * 2 : 16;
		struct ledger_change *np = realloc(l->pending, nc * sizeof(*np));
		if (!np) {
			l->op_failed = true;
			return;
		}
		l->pending = np;
		l->cap_pending = nc;
	}
	struct ledger_change *c = &l->pending[l->n_pending++];
	memset(c, 0, sizeof(*c));
	c->lease = *x;
	c->from = from;
	c->created = created;
}

/* Report queued changes. The queue is taken first, so callbacks may call the ledger. */
static void deliver(struct ledger *l)
{
	struct ledger_change *p = l->pending;
	size_t n = l->n_pending;
	if (!n)
		return;
	l->pending = NULL;
	l->n_pending = l->cap_pending = 0;
	for (size_t i = 0; i < n && l->on_change; i++)
		l->on_change(&p[i], l->arg);
	if (!l->pending) {
		l->pending = p;
		l->cap_pending = n > 16 ? n : 16;
		if (l->cap_pending > n) {
			struct ledger_change *np = realloc(p, l->cap_pending * sizeof(*np));
			if (np)
				l->pending = np;
			else
				l->cap_pending = n;
		}
	} else {
		free(p);
	}
}

static int commit_now(struct ledger *l)
{
	write_dirty(l);
	if (l->op_failed || ledger_db_meta_set(l->db, "clock", l->clock) < 0 ||
	    ledger_db_meta_set(l->db, "next_seq", (int64_t)l->next_seq) < 0 ||
	    ledger_db_commit(l->db) < 0) {
		fail_and_reload(l);
		return -EIO;
	}
	l->in_txn = false;
	l->written++;
	if (!l->syncer) {
		l->durable = l->written; /* synchronous=FULL: durable on COMMIT */
		deliver(l);
		return 0;
	}
	/* Written: reported once the syncer made it durable (ledger_sync.c). */
	if (ledger_defer(l, l->pending, l->n_pending, l->written) < 0) {
		log_err("ledger: out of memory keeping %zu changes until they are durable: "
			"syncing now", l->n_pending);
		int rc = ledger_sync(l);
		deliver(l);
		return rc < 0 ? rc : 0;
	}
	l->n_pending = 0;
	return 0;
}

int ledger_txn_finish(struct ledger *l)
{
	if (!l->in_txn)
		return l->broken ? -EIO : 0;
	if (l->op_failed) {
		fail_and_reload(l);
		return -EIO;
	}
	if (l->in_batch)
		return 0;
	return commit_now(l);
}

int ledger_batch_begin(struct ledger *l)
{
	if (l->in_batch)
		return -EBUSY;
	if (l->broken)
		return -EIO;
	int rc = ledger_txn_begin(l);
	if (rc < 0)
		return rc;
	l->in_batch = true;
	l->batch_failed = false;
	return 0;
}

int ledger_batch_commit(struct ledger *l)
{
	if (!l->in_batch)
		return -EINVAL;
	l->in_batch = false;
	if (l->batch_failed) {
		l->batch_failed = false;
		return -EIO;
	}
	if (!l->in_txn)
		return 0;
	return commit_now(l);
}

/* ---- open, load, close ------------------------------------------------------------------ */

static int load_one(const struct ledger_lease *x, void *arg)
{
	struct ledger *l = arg;
	char idb[LEDGER_ID_STR];
	if (ledger_find(l, x->id) >= 0 || (l->n && x->seq <= l->v[l->n - 1].seq)) {
		log_err("ledger: lease %s appears twice in the database", ledger_id_fmt(x->id, idb));
		return -EBADMSG;
	}
	if (x->booked) {
		if (!ledger_state_live(x->state)) {
			log_err("ledger: lease %s is %s but marked booked in the database",
				ledger_id_fmt(x->id, idb), ledger_state_name(x->state));
			return -EBADMSG;
		}
		struct ledger_res *r = ledger_res_get(l, x->resource);
		if (!r) {
			r = res_add(l, x->resource, x->kind, 0, false);
			if (!r)
				return -ENOMEM;
			log_warn("ledger: %s is booked by live leases but not in the config: kept "
				 "with capacity 0 until they end", x->resource);
		}
		int rc = ledger_cal_add(r->cal, x->start, x->end, x->quantity);
		if (rc < 0) {
			log_err("ledger: lease %s cannot be booked on %s: %s",
				ledger_id_fmt(x->id, idb), x->resource, strerror(-rc));
			return rc;
		}
	}
	if (ledger_append(l, x) < 0)
		return -ENOMEM;
	if (x->seq >= l->next_seq)
		l->next_seq = x->seq + 1;
	return 0;
}

static int tick(struct ledger *l, int64_t now, int64_t *next, struct ledger_open_report *rep);

struct ledger *ledger_open(const struct ledger_params *p, struct ledger_open_report *rep)
{
	struct ledger_open_report dummy;
	if (!rep)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	if (!p->path || !p->region || !p->region[0] || strlen(p->region) >= LEDGER_NAME_MAX) {
		log_err("ledger: a database path and the region name are needed");
		return NULL;
	}
	struct ledger *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	snprintf(l->region, sizeof(l->region), "%s", p->region);
	l->hold_s = p->hold_s ? p->hold_s : DEFAULT_HOLD_S;
	l->retain_s = p->retain_s ? p->retain_s : DEFAULT_RETAIN_S;
	l->on_change = p->on_change;
	l->arg = p->arg;
	l->clock = INT64_MIN;
	l->next_seq = 1;
	if (ledger_db_open(p->path, p->deferred_sync, &l->db) < 0 || res_from_cfg(l, p->cfg) < 0 ||
	    slots_rebuild(l, 0) < 0)
		goto fail;
	size_t configured = l->n_res;
	if (ledger_db_load(l->db, load_one, l) < 0) {
		log_err("ledger: %s could not be loaded; tidald keeps the file untouched", p->path);
		goto fail;
	}
	rep->loaded = l->n;
	rep->orphaned = l->n_res - configured;
	int64_t v;
	if (ledger_db_meta_get(l->db, "clock", &v) == 0)
		l->clock = v;
	if (ledger_db_meta_get(l->db, "next_seq", &v) == 0 && (uint64_t)v > l->next_seq)
		l->next_seq = (uint64_t)v;
	ledger_eff_now(l, p->now);
	rep->overbooked = count_overbooked(l);
	l->next_due = INT64_MIN;
	if (tick(l, p->now, NULL, rep) < 0)
		goto fail;
	rep->active = ledger_count(l, LEDGER_ACTIVE);
	if (p->deferred_sync) {
		/* What the open changed was written under synchronous=NORMAL: the syncer's
		 * first sync covers it; ledger_sync makes sure before anyone relies on it. */
		char wal[4200];
		ledger_db_wal_path(l->db, wal, sizeof(wal));
		uint32_t delay = p->sync_delay_ms ? p->sync_delay_ms : DEFAULT_SYNC_DELAY_MS;
		if (wal[0] && (ledger_syncer_start(l, wal, delay) < 0 || ledger_syncer_flush(l) < 0))
			goto fail;
	}
	return l;
fail:
	ledger_close(l);
	return NULL;
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	if (l->in_txn)
		ledger_db_rollback(l->db);
	ledger_syncer_stop(l); /* SQLite's final checkpoint at close syncs what is left */
	ledger_db_close(l->db);
	for (size_t i = 0; i < l->n_res; i++)
		ledger_cal_free(l->res[i].cal);
	free(l->res);
	free(l->v);
	free(l->slots);
	free(l->pending);
	free(l->dirty);
	free(l->await);
	free(l->watch);
	free(l);
}

/* ---- tick ---------------------------------------------------------------------------- */

static int purge(struct ledger *l, int64_t now)
{
	write_dirty(l); /* the indexes it holds change below */
	if (l->op_failed)
		return -EIO;
	size_t w = 0, removed = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct ledger_lease *x = &l->v[i];
		if (!ledger_state_live(x->state) && lease_due(l, x, now) <= now) {
			if (ledger_db_delete(l->db, x->id) < 0) {
				l->op_failed = true;
				return -EIO;
			}
			removed++;
			continue;
		}
		if (w != i)
			l->v[w] = *x;
		w++;
	}
	l->n = w;
	if (removed && slots_rebuild(l, l->n) < 0) {
		l->op_failed = true;
		return -ENOMEM;
	}
	return (int)removed;
}

static int tick(struct ledger *l, int64_t now, int64_t *next, struct ledger_open_report *rep)
{
	if (l->broken)
		return -EIO;
	now = ledger_eff_now(l, now);
	int changed = 0;
	if (now >= l->next_due) {
		int rc = ledger_txn_begin(l);
		if (rc < 0)
			return rc;
		bool purge_due = false;
		for (size_t i = 0; i < l->n && !l->op_failed; i++) {
			struct ledger_lease *x = &l->v[i];
			enum ledger_err e = LEDGER_E_ILLEGAL;
			if (!ledger_state_live(x->state)) {
				purge_due |= lease_due(l, x, now) <= now;
				continue;
			}
			if (x->end <= now) {
				e = ledger_apply(l, (long)i, LEDGER_EV_END, now, LEDGER_E_ENDED);
				if (rep && e == LEDGER_OK)
					rep->ended++;
			} else if ((x->state == LEDGER_CHECKING || x->state == LEDGER_HELD) &&
				   x->hold_until <= now) {
				e = ledger_apply(l, (long)i, LEDGER_EV_HOLD_TIMEOUT, now,
						 LEDGER_E_HOLD_TIMEOUT);
				if (rep && e == LEDGER_OK)
					rep->holds_expired++;
			} else if (x->state == LEDGER_RESERVED && x->start <= now) {
				e = ledger_apply(l, (long)i, LEDGER_EV_START, now, LEDGER_OK);
				if (rep && e == LEDGER_OK)
					rep->started++;
			}
			changed += e == LEDGER_OK;
		}
		if (purge_due && !l->op_failed)
			purge(l, now);
		l->next_due = INT64_MAX;
		for (size_t i = 0; i < l->n; i++) {
			int64_t due = lease_due(l, &l->v[i], now);
			if (due < l->next_due)
				l->next_due = due;
		}
		rc = ledger_txn_finish(l);
		if (rc < 0)
			return rc;
	}
	if (next)
		*next = l->next_due;
	return changed;
}

int ledger_tick(struct ledger *l, int64_t now, int64_t *next)
{
	return tick(l, now, next, NULL);
}

/* ---- read side ------------------------------------------------------------------------- */

int ledger_get(const struct ledger *l, const uint8_t id[LEDGER_ID_LEN], struct ledger_lease *out)
{
	long i = ledger_find(l, id);
	if (i < 0)
		return -ENOENT;
	if (out)
		*out = l->v[i];
	return 0;
}

int ledger_foreach(const struct ledger *l, bool all,
		   int (*fn)(const struct ledger_lease *lease, void *arg), void *arg)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!all && !ledger_state_live(l->v[i].state))
			continue;
		int rc = fn(&l->v[i], arg);
		if (rc)
			return rc;
	}
	return 0;
}

size_t ledger_count(const struct ledger *l, enum ledger_state st)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].state == st;
	return n;
}

int ledger_verify(const struct ledger *l, char *msg, size_t len)
{
	char idb[LEDGER_ID_STR];
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_lease *x = &l->v[i];
		int r = ledger_resource_find(l, x->resource);
		ledger_id_fmt(x->id, idb);
		if (ledger_find(l, x->id) != (long)i) {
			snprintf(msg, len, "lease %s: id index broken", idb);
			return -EBADMSG;
		}
		if (i && x->seq <= l->v[i - 1].seq) {
			snprintf(msg, len, "lease %s: sequence not increasing", idb);
			return -EBADMSG;
		}
		if (x->booked && (!ledger_state_live(x->state) || r < 0)) {
			snprintf(msg, len, "lease %s: booked while %s on %s", idb,
				 ledger_state_name(x->state), x->resource);
			return -EBADMSG;
		}
		if (!x->booked && ledger_state_live(x->state) && r >= 0 &&
		    strcmp(l->res[r].name, x->resource) == 0) {
			snprintf(msg, len, "lease %s: %s on local %s but not booked", idb,
				 ledger_state_name(x->state), x->resource);
			return -EBADMSG;
		}
		if ((x->state == LEDGER_CHECKING || x->state == LEDGER_HELD) && !x->hold_until) {
			snprintf(msg, len, "lease %s: %s without a hold deadline", idb,
				 ledger_state_name(x->state));
			return -EBADMSG;
		}
	}
	for (size_t r = 0; r < l->n_res; r++) {
		struct ledger_cal *c = ledger_cal_new(UINT64_MAX);
		if (!c)
			return -ENOMEM;
		for (size_t i = 0; i < l->n; i++) {
			const struct ledger_lease *x = &l->v[i];
			if (x->booked && strcmp(x->resource, l->res[r].name) == 0)
				ledger_cal_add(c, x->start, x->end, x->quantity);
		}
		bool eq = ledger_cal_equal(c, l->res[r].cal);
		ledger_cal_free(c);
		if (!eq) {
			snprintf(msg, len, "%s: calendar differs from the sum of its leases",
				 l->res[r].name);
			return -EBADMSG;
		}
	}
	return 0;
}

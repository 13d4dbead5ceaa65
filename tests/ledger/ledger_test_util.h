/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the ledger tests: a temporary folder for the database, request
 * builders, a change log fed by on_change, and raw SQL on the file.
 */
#ifndef TIDAL_TESTS_LEDGER_TEST_UTIL_H
#define TIDAL_TESTS_LEDGER_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ledger.h"

struct lt_dir {
	char path[128];
	char db[192];
};

static inline int lt_dir_make(struct lt_dir *d)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(d->path, sizeof(d->path), "%s/tidal-ledger-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(d->path))
		return -1;
	snprintf(d->db, sizeof(d->db), "%s/ledger.sqlite", d->path);
	return 0;
}

static inline void lt_dir_remove(struct lt_dir *d)
{
	char p[256];
	const char *suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", d->db, suffix[i]);
		unlink(p);
	}
	rmdir(d->path);
}

/* Lease id {id, 0xee, 0...}, requester = provider = "fra", bandwidth. */
static inline struct ledger_req lt_req(int id, const char *res, uint64_t q, int64_t start,
				       int64_t end, int setup, int hold)
{
	struct ledger_req r;
	memset(&r, 0, sizeof(r));
	r.id[0] = (uint8_t)id;
	r.id[1] = 0xee;
	r.id[2] = (uint8_t)(id >> 8);
	r.id[3] = (uint8_t)(id >> 16);
	snprintf(r.requester, sizeof(r.requester), "fra");
	snprintf(r.provider, sizeof(r.provider), "fra");
	snprintf(r.resource, sizeof(r.resource), "%s", res);
	r.kind = LEDGER_KIND_BANDWIDTH;
	r.quantity = q;
	r.start = start;
	r.end = end;
	r.setup_prio = (uint8_t)setup;
	r.hold_prio = (uint8_t)hold;
	return r;
}

static inline void lt_mut_zero_id(struct ledger_req *q)
{
	memset(q->id, 0, sizeof(q->id));
}
static inline void lt_mut_no_quantity(struct ledger_req *q)
{
	q->quantity = 0;
}
static inline void lt_mut_huge_quantity(struct ledger_req *q)
{
	q->quantity = LEDGER_CAL_QMAX + 1;
}
static inline void lt_mut_empty_interval(struct ledger_req *q)
{
	q->end = q->start;
}
static inline void lt_mut_in_the_past(struct ledger_req *q)
{
	q->start = 10;
	q->end = 20;
}
static inline void lt_mut_bad_prio(struct ledger_req *q)
{
	q->setup_prio = 8;
	q->hold_prio = 8;
}
static inline void lt_mut_hold_weaker_than_setup(struct ledger_req *q)
{
	q->setup_prio = 2;
	q->hold_prio = 3;
}
static inline void lt_mut_foreign_regions(struct ledger_req *q)
{
	snprintf(q->requester, sizeof(q->requester), "ams");
	snprintf(q->provider, sizeof(q->provider), "par");
}
static inline void lt_mut_bad_region_name(struct ledger_req *q)
{
	snprintf(q->requester, sizeof(q->requester), "am s");
}
static inline void lt_mut_kind_mismatch(struct ledger_req *q)
{
	q->kind = LEDGER_KIND_VCPU;
}
static inline void lt_mut_unknown_resource(struct ledger_req *q)
{
	snprintf(q->resource, sizeof(q->resource), "link.nowhere");
}
static inline void lt_mut_unterminated_match(struct ledger_req *q)
{
	memset(q->match, 'x', sizeof(q->match));
}

struct lt_log {
	struct ledger_change *v;
	size_t n, cap;
};

static inline void lt_log_change(const struct ledger_change *c, void *arg)
{
	struct lt_log *lg = arg;
	if (lg->n == lg->cap) {
		lg->cap = lg->cap ? 2 * lg->cap : 16;
		lg->v = realloc(lg->v, lg->cap * sizeof(*lg->v));
		if (!lg->v)
			abort();
	}
	lg->v[lg->n++] = *c;
}

static inline void lt_log_free(struct lt_log *lg)
{
	free(lg->v);
	lg->v = NULL;
	lg->n = lg->cap = 0;
}

struct lt_list {
	uint8_t first_byte[64];
	size_t n;
};

static inline int lt_list_add(const struct ledger_lease *x, void *arg)
{
	struct lt_list *ls = arg;
	if (ls->n < sizeof(ls->first_byte))
		ls->first_byte[ls->n] = x->id[0];
	ls->n++;
	return 0;
}

static inline int lt_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "lt_sql: %s: %s\n", sql, err ? err : "?");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger_db: the ledger's SQLite file (docs/ledger.md, "Persistence").
 *
 * One table of leases (one row per lease, written whole when created, its changing columns
 * updated on every change) and a small
 * key/value table (schema version, the ledger clock, the next sequence number). The file is
 * in WAL mode with synchronous=FULL: COMMIT returns only after the WAL is on stable storage,
 * so a change the ledger reported survives a crash or power loss. With deferred sync it is
 * synchronous=NORMAL and ledger_sync.c syncs the WAL after COMMIT, off the caller's thread.
 * Checkpoints are SQLite's automatic ones (WAL past 1000 pages) and the final one at close;
 * they never affect durability, only the WAL's size.
 *
 * Owns the connection and its prepared statements. Only ledger*.c call it.
 */
#include "ledger_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"

#define SCHEMA_VERSION 2 /* 2: path and parent (transit); 1 is upgraded in place */

struct ledger_db {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *rollback, *put, *upd, *del, *meta_get, *meta_set, *load;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS ledger_meta ("
	"  key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS leases ("
	"  id BLOB PRIMARY KEY CHECK (length(id) = 16),"
	"  seq INTEGER NOT NULL UNIQUE,"
	"  requester TEXT NOT NULL, provider TEXT NOT NULL, resource TEXT NOT NULL,"
	"  kind TEXT NOT NULL, quantity INTEGER NOT NULL,"
	"  start_s INTEGER NOT NULL, end_s INTEGER NOT NULL,"
	"  setup_prio INTEGER NOT NULL, hold_prio INTEGER NOT NULL,"
	"  match TEXT NOT NULL, app TEXT NOT NULL,"
	"  state TEXT NOT NULL, reason TEXT NOT NULL, booked INTEGER NOT NULL,"
	"  hold_until INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  preempted_by BLOB, path TEXT NOT NULL DEFAULT '', parent BLOB);";


static int fail(struct ledger_db *d, const char *what)
{
	log_err("ledger: database: %s: %s", what, sqlite3_errmsg(d->db));
	return -EIO;
}

/* Version 1 -> 2: the transit columns, empty for every lease that exists. */
static const char upgrade_1_2[] =
	"BEGIN IMMEDIATE;"
	"ALTER TABLE leases ADD COLUMN path TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE leases ADD COLUMN parent BLOB;"
	"UPDATE ledger_meta SET value = 2 WHERE key = 'schema_version';"
	"COMMIT;";

/* The schema version stored in the file: 0 for a new file, or a negative errno. */
static int64_t stored_version(struct ledger_db *d)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(d->db, "SELECT value FROM ledger_meta WHERE key = 'schema_version'",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(d, "read the schema version");
	int rc = sqlite3_step(st);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(d, "read the schema version");
	return v;
}

static int step_done(struct ledger_db *d, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(d, what);
	return 0;
}

static int prepare(struct ledger_db *d, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return fail(d, sql);
	return 0;
}

void ledger_db_close(struct ledger_db *d)
{
	if (!d)
		return;
	sqlite3_stmt *all[] = {d->begin, d->commit, d->rollback, d->put, d->upd, d->del,
			       d->meta_get, d->meta_set, d->load};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(d->db);
	free(d);
}

static int pragma(struct ledger_db *d, const char *sql, const char *want)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(d, sql);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return fail(d, sql);
	}
	if (want && rc == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(st, 0);
		if (!got || (strcmp(got, want) != 0 && strcmp(got, "memory") != 0)) {
			log_err("ledger: database: %s gave '%s', expected '%s'", sql,
				got ? got : "", want);
			sqlite3_finalize(st);
			return -EIO;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

int ledger_db_open(const char *path, bool deferred, struct ledger_db **out)
{
	struct ledger_db *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	int rc = sqlite3_open_v2(path, &d->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		log_err("ledger: cannot open %s: %s (check that its folder exists and is "
			"writable)", path, d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
		ledger_db_close(d);
		return -EIO;
	}
	sqlite3_busy_timeout(d->db, 5000);
	char *err = NULL;
	if ((rc = pragma(d, "PRAGMA journal_mode=WAL", "wal")) < 0 ||
	    (rc = pragma(d, deferred ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL",
			 NULL)) < 0)
		goto out;
	if (sqlite3_exec(d->db, schema, NULL, NULL, &err) != SQLITE_OK) {
		log_err("ledger: %s: cannot create the schema: %s", path, err ? err : "?");
		sqlite3_free(err);
		rc = -EIO;
		goto out;
	}
	int64_t ver = stored_version(d);
	if (ver < 0) {
		rc = (int)ver;
		goto out;
	}
	if (ver == 1) {
		if (sqlite3_exec(d->db, upgrade_1_2, NULL, NULL, &err) != SQLITE_OK) {
			log_err("ledger: %s: cannot upgrade the schema from version 1: %s", path,
				err ? err : "?");
			sqlite3_free(err);
			sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
			rc = -EIO;
			goto out;
		}
		log_info("ledger: %s upgraded from schema version 1 to 2 (transit paths)", path);
		ver = 2;
	} else if (ver != 0 && ver != SCHEMA_VERSION) {
		log_err("ledger: %s has schema version %lld, this tidald reads version %d: use the "
			"tidald that wrote it, or move the file away to start an empty ledger",
			path, (long long)ver, SCHEMA_VERSION);
		rc = -EPROTO;
		goto out;
	}
	if ((rc = prepare(d, "BEGIN IMMEDIATE", &d->begin)) < 0 ||
	    (rc = prepare(d, "COMMIT", &d->commit)) < 0 ||
	    (rc = prepare(d, "ROLLBACK", &d->rollback)) < 0 ||
	    (rc = prepare(d, "INSERT OR REPLACE INTO leases VALUES "
			     "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &d->put)) < 0 ||
	    (rc = prepare(d, "UPDATE leases SET state = ?, reason = ?, booked = ?, "
			     "hold_until = ?, updated = ?, preempted_by = ? WHERE id = ?",
			  &d->upd)) < 0 ||
	    (rc = prepare(d, "DELETE FROM leases WHERE id = ?", &d->del)) < 0 ||
	    (rc = prepare(d, "SELECT value FROM ledger_meta WHERE key = ?", &d->meta_get)) < 0 ||
	    (rc = prepare(d, "INSERT OR REPLACE INTO ledger_meta VALUES (?, ?)", &d->meta_set)) <
		    0 ||
	    (rc = prepare(d, "SELECT * FROM leases ORDER BY seq", &d->load)) < 0)
		goto out;
	if (ver == 0)
		rc = ledger_db_meta_set(d, "schema_version", SCHEMA_VERSION);
out:
	if (rc < 0) {
		ledger_db_close(d);
		return rc;
	}
	*out = d;
	return 0;
}

const char *ledger_db_wal_path(struct ledger_db *d, char *buf, size_t len)
{
	const char *f = sqlite3_db_filename(d->db, "main");
	if (!f || !f[0] || (size_t)snprintf(buf, len, "%s-wal", f) >= len)
		buf[0] = '\0';
	return buf;
}

int ledger_db_begin(struct ledger_db *d)
{
	return step_done(d, d->begin, "BEGIN");
}

int ledger_db_commit(struct ledger_db *d)
{
	return step_done(d, d->commit, "COMMIT");
}

void ledger_db_rollback(struct ledger_db *d)
{
	if (sqlite3_get_autocommit(d->db))
		return; /* SQLite already rolled back (e.g. after an I/O error) */
	step_done(d, d->rollback, "ROLLBACK");
}

int ledger_db_put(struct ledger_db *d, const struct ledger_lease *x)
{
	sqlite3_stmt *st = d->put;
	int i = 1;
	sqlite3_bind_blob(st, i++, x->id, LEDGER_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)x->seq);
	sqlite3_bind_text(st, i++, x->requester, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, x->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, x->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, ledger_kind_name(x->kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)x->quantity);
	sqlite3_bind_int64(st, i++, x->start);
	sqlite3_bind_int64(st, i++, x->end);
	sqlite3_bind_int(st, i++, x->setup_prio);
	sqlite3_bind_int(st, i++, x->hold_prio);
	sqlite3_bind_text(st, i++, x->match, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, x->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, ledger_state_name(x->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, ledger_err_name(x->reason), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, x->booked);
	sqlite3_bind_int64(st, i++, x->hold_until);
	sqlite3_bind_int64(st, i++, x->created);
	sqlite3_bind_int64(st, i++, x->updated);
	static const uint8_t zero[LEDGER_ID_LEN];
	if (memcmp(x->preempted_by, zero, LEDGER_ID_LEN) != 0)
		sqlite3_bind_blob(st, i++, x->preempted_by, LEDGER_ID_LEN, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_text(st, i++, x->path, -1, SQLITE_STATIC);
	if (memcmp(x->parent, zero, LEDGER_ID_LEN) != 0)
		sqlite3_bind_blob(st, i++, x->parent, LEDGER_ID_LEN, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i++);
	return step_done(d, st, "write lease");
}

int ledger_db_update(struct ledger_db *d, const struct ledger_lease *x)
{
	sqlite3_stmt *st = d->upd;
	int i = 1;
	sqlite3_bind_text(st, i++, ledger_state_name(x->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, ledger_err_name(x->reason), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, x->booked);
	sqlite3_bind_int64(st, i++, x->hold_until);
	sqlite3_bind_int64(st, i++, x->updated);
	static const uint8_t zero[LEDGER_ID_LEN];
	if (memcmp(x->preempted_by, zero, LEDGER_ID_LEN) != 0)
		sqlite3_bind_blob(st, i++, x->preempted_by, LEDGER_ID_LEN, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_blob(st, i++, x->id, LEDGER_ID_LEN, SQLITE_STATIC);
	int rc = step_done(d, st, "update lease");
	if (rc == 0 && sqlite3_changes(d->db) != 1) {
		log_err("ledger: database: lease row to update is missing");
		return -EIO;
	}
	return rc;
}

int ledger_db_delete(struct ledger_db *d, const uint8_t id[LEDGER_ID_LEN])
{
	sqlite3_bind_blob(d->del, 1, id, LEDGER_ID_LEN, SQLITE_STATIC);
	return step_done(d, d->del, "delete lease");
}

int ledger_db_meta_get(struct ledger_db *d, const char *key, int64_t *value)
{
	sqlite3_bind_text(d->meta_get, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(d->meta_get);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(d->meta_get, 0);
	sqlite3_reset(d->meta_get);
	sqlite3_clear_bindings(d->meta_get);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return fail(d, "read ledger_meta");
}

int ledger_db_meta_set(struct ledger_db *d, const char *key, int64_t value)
{
	sqlite3_bind_text(d->meta_set, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(d->meta_set, 2, value);
	return step_done(d, d->meta_set, "write ledger_meta");
}

static int col_text(sqlite3_stmt *st, int col, char *dst, size_t len)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	if (!s || strlen(s) >= len)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int parse_reason(const char *s, enum ledger_err *e)
{
	for (int i = 0; i < LEDGER_N_ERRS; i++) {
		if (strcmp(s, ledger_err_name((enum ledger_err)i)) == 0) {
			*e = (enum ledger_err)i;
			return 0;
		}
	}
	return -1;
}

/* One row to a lease; -1 names nothing, the caller reports the row. */
static int row_to_lease(sqlite3_stmt *st, struct ledger_lease *x, const char **bad)
{
	memset(x, 0, sizeof(*x));
	char buf[32];
	*bad = "id";
	if (sqlite3_column_bytes(st, 0) != LEDGER_ID_LEN)
		return -1;
	memcpy(x->id, sqlite3_column_blob(st, 0), LEDGER_ID_LEN);
	x->seq = (uint64_t)sqlite3_column_int64(st, 1);
	*bad = "requester/provider/resource";
	if (col_text(st, 2, x->requester, sizeof(x->requester)) ||
	    col_text(st, 3, x->provider, sizeof(x->provider)) ||
	    col_text(st, 4, x->resource, sizeof(x->resource)))
		return -1;
	*bad = "kind";
	if (col_text(st, 5, buf, sizeof(buf)) || ledger_kind_parse(buf, &x->kind))
		return -1;
	*bad = "quantity";
	sqlite3_int64 q = sqlite3_column_int64(st, 6);
	if (q <= 0 || (uint64_t)q > LEDGER_CAL_QMAX)
		return -1;
	x->quantity = (uint64_t)q;
	x->start = sqlite3_column_int64(st, 7);
	x->end = sqlite3_column_int64(st, 8);
	*bad = "start/end";
	if (x->start >= x->end)
		return -1;
	int sp = sqlite3_column_int(st, 9), hp = sqlite3_column_int(st, 10);
	*bad = "priorities";
	if (sp < 0 || sp > LEDGER_PRIO_LOWEST || hp < 0 || hp > sp)
		return -1;
	x->setup_prio = (uint8_t)sp;
	x->hold_prio = (uint8_t)hp;
	*bad = "match/app";
	if (col_text(st, 11, x->match, sizeof(x->match)) || col_text(st, 12, x->app, sizeof(x->app)))
		return -1;
	*bad = "state";
	if (col_text(st, 13, buf, sizeof(buf)) || ledger_state_parse(buf, &x->state))
		return -1;
	*bad = "reason";
	if (col_text(st, 14, buf, sizeof(buf)) || parse_reason(buf, &x->reason))
		return -1;
	x->booked = sqlite3_column_int(st, 15) != 0;
	x->hold_until = sqlite3_column_int64(st, 16);
	x->created = sqlite3_column_int64(st, 17);
	x->updated = sqlite3_column_int64(st, 18);
	if (sqlite3_column_type(st, 19) == SQLITE_BLOB) {
		*bad = "preempted_by";
		if (sqlite3_column_bytes(st, 19) != LEDGER_ID_LEN)
			return -1;
		memcpy(x->preempted_by, sqlite3_column_blob(st, 19), LEDGER_ID_LEN);
	}
	*bad = "path";
	if (col_text(st, 20, x->path, sizeof(x->path)))
		return -1;
	if (sqlite3_column_type(st, 21) == SQLITE_BLOB) {
		*bad = "parent";
		if (sqlite3_column_bytes(st, 21) != LEDGER_ID_LEN)
			return -1;
		memcpy(x->parent, sqlite3_column_blob(st, 21), LEDGER_ID_LEN);
	}
	return 0;
}

int ledger_db_load(struct ledger_db *d, int (*fn)(const struct ledger_lease *lease, void *arg),
		   void *arg)
{
	sqlite3_stmt *st = d->load;
	int rc, ret = 0;
	struct ledger_lease x;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *bad;
		if (row_to_lease(st, &x, &bad) < 0) {
			log_err("ledger: database row seq %lld has an invalid %s: the file was "
				"changed outside tidald; fix or delete that row",
				(long long)sqlite3_column_int64(st, 1), bad);
			ret = -EBADMSG;
			break;
		}
		if ((ret = fn(&x, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(d, "read leases");
	sqlite3_reset(st);
	return ret;
}

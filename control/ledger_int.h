/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger_int: private structures shared by ledger.c (store, open, tick, transactions),
 * ledger_ops.c (requests, commits, events, preemption) and ledger_db.c (SQLite). Nothing
 * outside these files includes it.
 */
#ifndef TIDAL_CONTROL_LEDGER_INT_H
#define TIDAL_CONTROL_LEDGER_INT_H

#include "ledger.h"

struct ledger_db;
struct ledger_syncer;

/* A change reported once commit `commit` is durable (deferred sync). */
struct ledger_await {
	struct ledger_change c;
	uint64_t commit;
};

/* A lease changed in the current transaction: written once, just before COMMIT. */
struct ledger_dirty {
	long i;
	bool insert; /* created in this transaction: INSERT, else UPDATE */
};

struct ledger_watch {
	void (*fn)(void *arg);
	void *arg;
};

struct ledger_res {
	char name[LEDGER_RES_MAX];
	enum ledger_kind kind;
	bool configured;
	struct ledger_cal *cal;
};

struct ledger {
	struct ledger_db *db;
	char region[LEDGER_NAME_MAX];
	uint32_t hold_s, retain_s;
	ledger_change_fn on_change;
	void *arg;

	int64_t clock;     /* highest wall clock seen; persisted */
	bool clock_warned; /* a backwards jump was logged and not yet caught up */
	uint64_t next_seq; /* persisted */
	int64_t next_due;  /* earliest deadline of any lease (INT64_MAX: none) */

	struct ledger_res *res;
	size_t n_res;

	struct ledger_lease *v; /* every lease, in seq order */
	size_t n, cap;
	uint32_t *slots; /* open addressing by id: index into v plus 1, 0 = empty */
	size_t n_slots;

	/* The current operation or batch. */
	bool in_txn, in_batch, batch_failed, op_failed, broken;
	struct ledger_change *pending; /* reported once durable */
	size_t n_pending, cap_pending;
	struct ledger_dirty *dirty; /* leases changed in memory, written at commit */
	size_t n_dirty, cap_dirty;

	/* Commits written and known durable (equal unless deferred_sync). */
	uint64_t written, durable;
	struct ledger_syncer *syncer; /* deferred_sync: the thread that syncs the WAL */
	struct ledger_await *await;   /* written, reported once durable */
	size_t n_await, cap_await;
	struct ledger_watch *watch;
	size_t n_watch;
};

/* Store (ledger.c). Indexes stay valid until a purge. */
long ledger_find(const struct ledger *l, const uint8_t id[LEDGER_ID_LEN]);
long ledger_append(struct ledger *l, const struct ledger_lease *lease);
struct ledger_res *ledger_res_get(struct ledger *l, const char *name);
int64_t ledger_eff_now(struct ledger *l, int64_t now);

/* Transactions (ledger.c): begin before the first change of an operation; every changed
 * lease is marked with ledger_persist (written once per transaction, just before COMMIT:
 * a lease that moves through several states in one batch costs one row write) and queued
 * for on_change with ledger_note; finish commits (outside a batch) or, after a failure,
 * rolls back and reloads memory. */
int ledger_txn_begin(struct ledger *l);
void ledger_persist(struct ledger *l, long i, bool created);
void ledger_note(struct ledger *l, long i, enum ledger_state from, bool created);
int ledger_txn_finish(struct ledger *l);

/* Apply a transition to lease i (ledger_ops.c): books or unbooks its calendar, stamps
 * updated/reason/hold_until, persists and notes it. LEDGER_OK or why it was refused. */
enum ledger_err ledger_apply(struct ledger *l, long i, enum ledger_event ev, int64_t now,
			     enum ledger_err reason);

/* Deferred sync (ledger_sync.c). */
int ledger_syncer_start(struct ledger *l, const char *wal_path, uint32_t delay_ms);
void ledger_syncer_stop(struct ledger *l);
int ledger_syncer_flush(struct ledger *l); /* fdatasync now, on the caller's thread */
int ledger_defer(struct ledger *l, struct ledger_change *p, size_t n, uint64_t commit);

/* SQLite (ledger_db.c). deferred: synchronous=NORMAL (the WAL is synced by the syncer)
 * instead of FULL. */
int ledger_db_open(const char *path, bool deferred, struct ledger_db **out);
/* The WAL's path ("" for an in-memory database). */
const char *ledger_db_wal_path(struct ledger_db *db, char *buf, size_t len);
void ledger_db_close(struct ledger_db *db);
int ledger_db_begin(struct ledger_db *db);
int ledger_db_commit(struct ledger_db *db);
void ledger_db_rollback(struct ledger_db *db);
int ledger_db_put(struct ledger_db *db, const struct ledger_lease *lease);
/* Rewrite what changes after creation (state, reason, booked, hold_until, updated,
 * preempted_by) of a lease already in the table; -EIO also when it is not there. */
int ledger_db_update(struct ledger_db *db, const struct ledger_lease *lease);
int ledger_db_delete(struct ledger_db *db, const uint8_t id[LEDGER_ID_LEN]);
int ledger_db_meta_get(struct ledger_db *db, const char *key, int64_t *value);
int ledger_db_meta_set(struct ledger_db *db, const char *key, int64_t value);
int ledger_db_load(struct ledger_db *db, int (*fn)(const struct ledger_lease *lease, void *arg),
		   void *arg);

#endif

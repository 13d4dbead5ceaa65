/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of the ledger's durable write path (control/ledger*.c) on a real SQLite file.
 * Anchor, measured in the same run on the same folder: one raw SQLite transaction (a
 * 20-column row written with INSERT OR REPLACE, COMMIT) with the ledger's pragmas (WAL,
 * synchronous=FULL), i.e. the cost of one durable commit. Each ledger variant prints leases
 * per second and its ratio to the anchor's commits per second:
 *   request+commit   the provider's two calls (LEASE_REQUEST, LEASE_COMMIT): 2 commits
 *   book             a local booking in one call: 1 commit
 *   batch N          request+commit of N leases inside ledger_batch_begin/commit: 1 commit
 *
 *   build/tests/bench/ledger/bench_ledger_commit [LEASES] [FOLDER]
 * FOLDER defaults to $TMPDIR or /tmp; use the state_dir's filesystem for real figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ledger.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void rm_db(const char *path)
{
	char p[512];
	const char *sfx[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

static double anchor(const char *path, int n)
{
	sqlite3 *db;
	rm_db(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return 0;
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE t (id BLOB PRIMARY KEY, a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s)",
			 NULL, NULL, NULL);
	sqlite3_stmt *ins;
	sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO t VALUES "
			       "(?,1,'fra','ams','link.fra-ams','bandwidth',2000000000,1,2,3,3,'',"
			       "'video','reserved','ok',1,0,5,6,NULL)", -1, &ins, NULL);
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		uint8_t id[16] = {0};
		memcpy(id, &i, sizeof(i));
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_blob(ins, 1, id, 16, SQLITE_TRANSIENT);
		sqlite3_step(ins);
		sqlite3_reset(ins);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	double dt = now_s() - t0;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return n / dt;
}

static struct ledger *open_fresh(const char *path)
{
	rm_db(path);
	static struct ledger_params p;
	p.path = path;
	p.region = "fra";
	p.now = 1000;
	p.hold_s = 3600;
	struct ledger *l = ledger_open(&p, NULL);
	if (l && ledger_resource_set(l, "link.fra-ams", LEDGER_KIND_BANDWIDTH, UINT64_MAX >> 4) < 0) {
		ledger_close(l);
		return NULL;
	}
	return l;
}

static struct ledger_req req(int i)
{
	struct ledger_req r;
	memset(&r, 0, sizeof(r));
	memcpy(r.id, &i, sizeof(i));
	r.id[15] = 1;
	strcpy(r.requester, "ams");
	strcpy(r.provider, "fra");
	strcpy(r.resource, "link.fra-ams");
	r.kind = LEDGER_KIND_BANDWIDTH;
	r.quantity = 1000000 + (uint64_t)(i % 1000);
	r.start = 2000 + i % 3600;
	r.end = r.start + 3600;
	r.setup_prio = r.hold_prio = 4;
	return r;
}

/* mode 0: request+commit, 1: book, N > 1: batches of N request+commit */
static double run(const char *path, int n, int mode)
{
	struct ledger *l = open_fresh(path);
	if (!l)
		return 0;
	struct ledger_lease x;
	enum ledger_err why;
	double t0 = now_s();
	for (int i = 0; i < n;) {
		if (mode > 1 && ledger_batch_begin(l) < 0)
			return 0;
		int k = mode > 1 ? mode : 1;
		for (int j = 0; j < k && i < n; j++, i++) {
			struct ledger_req r = req(i);
			if (mode == 1) {
				if (ledger_book(l, &r, 1000, &x, &why) < 0)
					return 0;
			} else if (ledger_request(l, &r, 1000, &x, &why) < 0 ||
				   ledger_commit(l, r.id, 1000, &x, &why) < 0) {
				return 0;
			}
		}
		if (mode > 1 && ledger_batch_commit(l) < 0)
			return 0;
	}
	double dt = now_s() - t0;
	ledger_close(l);
	return n / dt;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/tidal-bench-ledger-%d.sqlite", dir && *dir ? dir : "/tmp",
		 (int)getpid());
	double a = anchor(path, n);
	printf("anchor: raw SQLite durable commits/s: %.0f\n", a);
	printf("%-16s %12s %10s\n", "variant", "leases/s", "vs anchor");
	const struct {
		const char *name;
		int mode;
	} v[] = {{"request+commit", 0}, {"book", 1}, {"batch 16", 16}, {"batch 64", 64}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		double r = run(path, n, v[i].mode);
		if (r == 0) {
			fprintf(stderr, "bench: %s failed\n", v[i].name);
			rm_db(path);
			return 1;
		}
		printf("%-16s %12.0f %9.2fx\n", v[i].name, r, r / a);
	}
	rm_db(path);
	return 0;
}

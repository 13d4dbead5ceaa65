/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger_sync: deferred durability for the ledger (docs/ledger.md, "Persistence").
 *
 * With ledger_params.deferred_sync, SQLite runs in WAL mode with synchronous=NORMAL: a
 * COMMIT writes the transaction to the WAL (it survives a crash of the process) without
 * waiting for the disk. A syncer thread then calls fdatasync on the WAL file, as SQLite's
 * synchronous=FULL would, but off the caller's thread: while one sync runs, the caller goes
 * on and its next transactions are covered by the next sync (group commit without stalling
 * the event loop). Every commit gets a number; a sync that started after commit n was
 * written makes commits 1..n durable. Changes are reported (on_change) only once durable,
 * and watchers hear each advance, so that answers which promise durability (LEASE_ACK)
 * wait for it.
 *
 * SQLite itself still syncs the WAL before each checkpoint and the database after it, so the
 * WAL frames it overwrites after a checkpoint are already in the database file.
 *
 * Owns the syncer thread, its eventfd, the WAL's file descriptor, the changes waiting for
 * durability and the watcher list. The thread touches nothing but the WAL's descriptor, the
 * eventfd and the fields under its mutex; SQLite and the ledger stay on the caller's thread.
 */
#include "ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct ledger_syncer {
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int wal_fd;
	int efd;
	uint64_t want;       /* highest commit number written */
	uint64_t done;       /* highest commit number made durable by a finished sync */
	bool urgent;         /* someone waits: sync what is written now, not after the delay */
	struct timespec due; /* the oldest unsynced write plus the delay */
	long delay_ns;
	uint64_t syncs;
	int err; /* errno of a failed fdatasync; the thread stops */
	bool stop;
};

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Sync when someone waits for it (ledger_sync_start), or once the oldest unsynced write is
 * delay old: writes nobody waits for (a hold, the requester's bookkeeping) are then synced
 * together, and an urgent sync does not queue behind one that was not. */
static void *syncer_run(void *arg)
{
	struct ledger_syncer *y = arg;
	pthread_mutex_lock(&y->mu);
	for (;;) {
		while (!y->stop) {
			if (y->want > y->done) {
				if (y->urgent)
					break;
				struct timespec now;
				clock_gettime(CLOCK_MONOTONIC, &now);
				if (!ts_before(&now, &y->due))
					break;
				pthread_cond_timedwait(&y->cv, &y->mu, &y->due);
			} else {
				pthread_cond_wait(&y->cv, &y->mu);
			}
		}
		if (y->stop)
			break;
		uint64_t target = y->want;
		y->urgent = false;
		pthread_mutex_unlock(&y->mu);
		int rc = fdatasync(y->wal_fd);
		int e = rc < 0 ? errno : 0;
		pthread_mutex_lock(&y->mu);
		if (e) {
			y->err = e;
		} else {
			if (target > y->done)
				y->done = target;
			y->syncs++;
		}
		uint64_t one = 1;
		ssize_t n = write(y->efd, &one, sizeof(one)); /* wakes the owner's loop */
		(void)n;
		if (e)
			break;
	}
	pthread_mutex_unlock(&y->mu);
	return NULL;
}

int ledger_syncer_start(struct ledger *l, const char *wal_path, uint32_t delay_ms)
{
	struct ledger_syncer *y = calloc(1, sizeof(*y));
	if (!y)
		return -ENOMEM;
	y->wal_fd = y->efd = -1;
	y->delay_ns = (long)delay_ms * 1000000L;
	pthread_mutex_init(&y->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&y->cv, &ca);
	pthread_condattr_destroy(&ca);
	l->syncer = y;
	y->wal_fd = open(wal_path, O_RDWR | O_CLOEXEC);
	if (y->wal_fd < 0) {
		log_err("ledger: cannot open %s for syncing: %s", wal_path, strerror(errno));
		return -EIO;
	}
	/* The WAL may have been created just now: make its directory entry durable once
	 * (SQLite would do so at its first sync, which synchronous=NORMAL defers). */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", wal_path);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
	else
		snprintf(dir, sizeof(dir), ".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	y->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (y->efd < 0) {
		log_err("ledger: eventfd: %s", strerror(errno));
		return -EIO;
	}
	/* The thread takes no signals: tidald's loop handles them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&y->th, NULL, syncer_run, y);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		log_err("ledger: cannot start the syncer thread: %s", strerror(rc));
		return -rc;
	}
	y->started = true;
	return 0;
}

void ledger_syncer_stop(struct ledger *l)
{
	struct ledger_syncer *y = l->syncer;
	if (!y)
		return;
	if (y->started) {
		pthread_mutex_lock(&y->mu);
		y->stop = true;
		pthread_cond_signal(&y->cv);
		pthread_mutex_unlock(&y->mu);
		pthread_join(y->th, NULL);
	}
	if (y->wal_fd >= 0)
		close(y->wal_fd);
	if (y->efd >= 0)
		close(y->efd);
	pthread_mutex_destroy(&y->mu);
	pthread_cond_destroy(&y->cv);
	free(y);
	l->syncer = NULL;
}

/* Keep the changes of commit `commit` until it is durable, and ask for a sync. */
int ledger_defer(struct ledger *l, struct ledger_change *p, size_t n, uint64_t commit)
{
	if (l->n_await + n > l->cap_await) {
		size_t nc = l->cap_await ? l->cap_await : 64;
		while (nc < l->n_await + n)
			nc *= 2;
		struct ledger_await *na = realloc(l->await, nc * sizeof(*na));
		if (!na)
			return -ENOMEM;
		l->await = na;
		l->cap_await = nc;
	}
	for (size_t i = 0; i < n; i++) {
		l->await[l->n_await].c = p[i];
		l->await[l->n_await].commit = commit;
		l->n_await++;
	}
	struct ledger_syncer *y = l->syncer;
	pthread_mutex_lock(&y->mu);
	if (y->want <= y->done) { /* the first write since the last sync */
		clock_gettime(CLOCK_MONOTONIC, &y->due);
		y->due.tv_nsec += y->delay_ns;
		y->due.tv_sec += y->due.tv_nsec / 1000000000L;
		y->due.tv_nsec %= 1000000000L;
		pthread_cond_signal(&y->cv);
	}
	if (commit > y->want)
		y->want = commit;
	pthread_mutex_unlock(&y->mu);
	return 0;
}

void ledger_sync_start(struct ledger *l)
{
	struct ledger_syncer *y = l->syncer;
	if (!y || l->durable >= l->written)
		return;
	pthread_mutex_lock(&y->mu);
	if (!y->urgent && y->want > y->done) {
		y->urgent = true;
		pthread_cond_signal(&y->cv);
	}
	pthread_mutex_unlock(&y->mu);
}

/* Report what became durable, then tell the watchers. The reported prefix is taken off the
 * queue first, so that callbacks may make new changes. */
static int advance(struct ledger *l, uint64_t durable)
{
	if (durable <= l->durable)
		return 0;
	l->durable = durable;
	size_t k = 0;
	while (k < l->n_await && l->await[k].commit <= durable)
		k++;
	int delivered = (int)k;
	if (k) {
		struct ledger_change *ready = malloc(k * sizeof(*ready));
		if (!ready) {
			log_err("ledger: out of memory reporting %zu durable changes", k);
			return -ENOMEM;
		}
		for (size_t i = 0; i < k; i++)
			ready[i] = l->await[i].c;
		memmove(l->await, l->await + k, (l->n_await - k) * sizeof(*l->await));
		l->n_await -= k;
		for (size_t i = 0; i < k && l->on_change; i++)
			l->on_change(&ready[i], l->arg);
		free(ready);
	}
	for (size_t i = 0; i < l->n_watch; i++)
		if (l->watch[i].fn)
			l->watch[i].fn(l->watch[i].arg);
	return delivered;
}

static int sync_failed(struct ledger *l, int e)
{
	if (!l->broken)
		log_err("ledger: fdatasync of the WAL failed (%s): changes since the last sync may "
		        "not be on disk; every booking is refused until tidald is restarted "
		        "(check the disk)",
		        strerror(e));
	l->broken = true;
	return -EIO;
}

int ledger_sync_fd(const struct ledger *l)
{
	return l->syncer ? l->syncer->efd : -1;
}

int ledger_sync_poll(struct ledger *l)
{
	struct ledger_syncer *y = l->syncer;
	if (!y)
		return 0;
	uint64_t v;
	while (read(y->efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	pthread_mutex_lock(&y->mu);
	uint64_t done = y->done;
	int err = y->err;
	pthread_mutex_unlock(&y->mu);
	if (err)
		return sync_failed(l, err);
	return advance(l, done);
}

int ledger_syncer_flush(struct ledger *l)
{
	struct ledger_syncer *y = l->syncer;
	uint64_t target = l->written;
	if (fdatasync(y->wal_fd) < 0)
		return sync_failed(l, errno);
	pthread_mutex_lock(&y->mu);
	if (target > y->done)
		y->done = target;
	y->syncs++;
	pthread_mutex_unlock(&y->mu);
	return advance(l, target);
}

int ledger_sync(struct ledger *l)
{
	if (!l->syncer || l->durable >= l->written)
		return ledger_sync_poll(l);
	return ledger_syncer_flush(l);
}

uint64_t ledger_written(const struct ledger *l)
{
	return l->written;
}

uint64_t ledger_durable(const struct ledger *l)
{
	return l->durable;
}

uint64_t ledger_syncs(const struct ledger *l)
{
	struct ledger_syncer *y = l->syncer;
	if (!y)
		return l->written;
	pthread_mutex_lock(&y->mu);
	uint64_t n = y->syncs;
	pthread_mutex_unlock(&y->mu);
	return n;
}

int ledger_watch_durable(struct ledger *l, void (*fn)(void *arg), void *arg)
{
	for (size_t i = 0; i < l->n_watch; i++)
		if (!l->watch[i].fn) {
			l->watch[i].fn = fn;
			l->watch[i].arg = arg;
			return 0;
		}
	struct ledger_watch *nw = realloc(l->watch, (l->n_watch + 1) * sizeof(*nw));
	if (!nw)
		return -ENOMEM;
	l->watch = nw;
	l->watch[l->n_watch].fn = fn;
	l->watch[l->n_watch].arg = arg;
	l->n_watch++;
	return 0;
}

void ledger_unwatch_durable(struct ledger *l, void (*fn)(void *arg), void *arg)
{
	for (size_t i = 0; i < l->n_watch; i++)
		if (l->watch[i].fn == fn && l->watch[i].arg == arg)
			l->watch[i].fn = NULL; /* the slot is reused; callers may be iterating */
}

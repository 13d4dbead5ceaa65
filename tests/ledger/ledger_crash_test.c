/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash safety of the ledger: a child process books, commits (singly and in group-commit
 * batches) and releases leases in a loop, reporting each call that returned success through
 * a pipe (that is the acknowledgement the peering layer would send), and is SIGKILLed at a
 * random point. The parent reopens the database and checks that every acknowledged booking
 * and release is there, that nothing is booked twice, and that the calendars equal the sum
 * of their leases. Several rounds run on the same file, each killed at another point.
 * Every other round uses deferred sync (the syncer thread syncs the WAL after COMMIT): the
 * child then acknowledges a call only once ledger_durable() covers its commit, as the
 * peering layer does before LEASE_ACK.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "ledger.h"
#include "ledger_test_util.h"

#define CHECK(cond, ...)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
			fprintf(stderr, __VA_ARGS__);                                         \
			fputc('\n', stderr);                                                  \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

#define CAPACITY 400 /* about 300 live leases of 1..3 bps: some requests are refused */
#define MAX_IDS 200000

struct ack {
	char type; /* 'B' booked, 'F' refused for capacity, 'R' released */
	int id;
};

static struct tidal_cfg cfg;
static struct cfg_link link_cfg;

/* Acknowledgements waiting for their commit to be durable (deferred sync). */
static struct {
	struct ack a;
	uint64_t commit;
} held[64];
static size_t n_held;
static struct ledger *child_ledger;

static void write_ack(int fd, struct ack a)
{
	if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
		_exit(3);
}

static void release_acks(int fd)
{
	if (ledger_sync_poll(child_ledger) < 0)
		_exit(8);
	uint64_t durable = ledger_durable(child_ledger);
	size_t k = 0;
	while (k < n_held && held[k].commit <= durable)
		write_ack(fd, held[k++].a);
	memmove(held, held + k, (n_held - k) * sizeof(held[0]));
	n_held -= k;
}

static void send_ack(int fd, char type, int id)
{
	struct ack a = {type, id};
	if (ledger_durable(child_ledger) >= ledger_written(child_ledger) && !n_held) {
		write_ack(fd, a);
		return;
	}
	if (n_held == sizeof(held) / sizeof(held[0]))
		if (ledger_sync(child_ledger) < 0)
			_exit(8);
	release_acks(fd);
	held[n_held].a = a;
	held[n_held].commit = ledger_written(child_ledger);
	n_held++;
}

static struct ledger *open_ledger(const char *path, int64_t now, bool deferred)
{
	struct ledger_params p = {
		.path = path, .region = "fra", .cfg = &cfg, .now = now, .deferred_sync = deferred};
	return ledger_open(&p, NULL);
}

/* Each round runs on its own stretch of the clock (a child does at most 50,000 steps of
 * 1 s), so no round sees time go back. */
static int64_t round_clock(int round)
{
	return 100000 + (int64_t)round * 1000000;
}

static void child(const char *path, int fd, int first_id, int64_t start, bool deferred)
{
	struct ledger *l = open_ledger(path, start, deferred);
	if (!l)
		_exit(2);
	child_ledger = l;
	if (deferred != (ledger_sync_fd(l) >= 0))
		_exit(9);
	struct ledger_lease x;
	enum ledger_err why;
	int64_t now = ledger_clock(l);
	for (int k = first_id; k < first_id + MAX_IDS / 4; k++) {
		now++;
		if (k % 10 == 5 && ledger_tick(l, now, NULL) < 0)
			_exit(7);
		if (k % 10 == 0) { /* a batch of three */
			int ids[3], rcs[3];
			if (ledger_batch_begin(l) < 0)
				_exit(4);
			for (int j = 0; j < 3; j++) {
				ids[j] = k + j;
				struct ledger_req r = lt_req(ids[j], "fra-ams", 1 + ids[j] % 3, now + 10,
							     now + 300, 4, 4);
				rcs[j] = ledger_book(l, &r, now, &x, &why);
			}
			if (ledger_batch_commit(l) < 0)
				_exit(5);
			for (int j = 0; j < 3; j++)
				send_ack(fd, rcs[j] == 0 ? 'B' : 'F', ids[j]);
			k += 2;
			continue;
		}
		struct ledger_req r = lt_req(k, "fra-ams", 1 + k % 3, now + 10, now + 300, 4, 4);
		int rc = ledger_book(l, &r, now, &x, &why);
		if (rc == 0)
			send_ack(fd, 'B', k);
		else if (rc == -ENOSPC)
			send_ack(fd, 'F', k);
		else
			_exit(6);
		if (k % 4 == 3) {
			struct ledger_req old = lt_req(k - 2, "fra-ams", 1, 0, 1, 4, 4);
			if (ledger_release(l, old.id, now, &x, &why) == 0 && x.state == LEDGER_RELEASED)
				send_ack(fd, 'R', k - 2);
		}
		release_acks(fd);
	}
	_exit(0);
}

static char state_of[MAX_IDS]; /* what the acks say: 0, 'B', 'F', 'R' */

static int read_acks(int fd, int want, int timeout_ms)
{
	int got = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if ((want && got >= want) || el >= timeout_ms)
			return got;
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, (int)(timeout_ms - el)) <= 0)
			continue;
		struct ack a;
		ssize_t n = read(fd, &a, sizeof(a));
		if (n == 0)
			return got; /* writer gone, pipe drained */
		CHECK(n == (ssize_t)sizeof(a), "short ack read %zd", n);
		CHECK(a.id >= 0 && a.id < MAX_IDS, "bad id %d", a.id);
		if (a.type == 'R')
			CHECK(state_of[a.id] == 'B', "release of %d not booked", a.id);
		state_of[a.id] = a.type;
		got++;
	}
}

static void check_round(struct ledger *l, int round, int got, int pass)
{
	char msg[256];
	CHECK(ledger_verify(l, msg, sizeof(msg)) == 0, "%s", msg);
	int booked = 0, released = 0, refused = 0;
	for (int id = 1; id < MAX_IDS; id++) {
		if (!state_of[id])
			continue;
		struct ledger_req r = lt_req(id, "fra-ams", 1, 0, 1, 4, 4);
		struct ledger_lease x;
		CHECK(ledger_get(l, r.id, &x) == 0, "acknowledged lease %d lost", id);
		switch (state_of[id]) {
		case 'B':
			CHECK(x.state == LEDGER_RESERVED || x.state == LEDGER_ACTIVE ||
				      x.state == LEDGER_EXPIRED || x.state == LEDGER_RELEASED,
			      "lease %d is %s", id, ledger_state_name(x.state));
			CHECK(!pass || x.state == LEDGER_EXPIRED || x.state == LEDGER_RELEASED,
			      "lease %d is still %s after its end", id, ledger_state_name(x.state));
			booked++;
			break;
		case 'R':
			CHECK(x.state == LEDGER_RELEASED, "released lease %d is %s", id,
			      ledger_state_name(x.state));
			released++;
			break;
		case 'F':
			CHECK(x.state == LEDGER_FAILED, "refused lease %d is %s", id,
			      ledger_state_name(x.state));
			refused++;
			break;
		}
	}
	const struct ledger_cal *cal = ledger_resource_cal(l, 0);
	CHECK(ledger_cal_peak(cal, LEDGER_CAL_T_MIN, LEDGER_CAL_T_MAX) <= CAPACITY,
	      "overbooked after restart");
	CHECK(!pass || ledger_cal_nbreaks(cal) == 0, "bookings left after every lease ended");
	printf("round %d (%s sync) %s: %d acks (booked %d, released %d, refused %d), %zu live leases, "
	       "%zu breakpoints\n", round, round % 2 ? "deferred" : "FULL",
	       pass ? "after end" : "at crash", got, booked, released,
	       refused, ledger_count(l, LEDGER_RESERVED) + ledger_count(l, LEDGER_ACTIVE),
	       ledger_cal_nbreaks(cal));
}

int main(void)
{
	struct lt_dir dir;
	CHECK(lt_dir_make(&dir) == 0, "mkdtemp");
	snprintf(link_cfg.name, sizeof(link_cfg.name), "fra-ams");
	link_cfg.capacity_bps = link_cfg.reservable_bps = CAPACITY;
	cfg.links = &link_cfg;
	cfg.n_links = 1;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	int total_acks = 0;
	for (int round = 0; round < 6; round++) {
		int p[2];
		CHECK(pipe(p) == 0, "pipe");
		int first_id = round * (MAX_IDS / 6) + 1;
		pid_t pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0) {
			close(p[0]);
			child(dir.db, p[1], first_id, round_clock(round), round % 2 == 1);
		}
		close(p[1]);
		memset(state_of, 0, sizeof(state_of));
		int want = 20 + rand() % 400;
		int got = read_acks(p[0], want, 60000);
		CHECK(got >= want, "round %d: only %d of %d acks in 60 s", round, got, want);
		/* Let it run into the middle of something, then kill it. */
		usleep((useconds_t)(rand() % 3000));
		kill(pid, SIGKILL);
		int status;
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "child ended by itself (status %d)", status);
		got += read_acks(p[0], 0, 1000); /* acks already in the pipe */
		close(p[0]);
		total_acks += got;

		/* Reopen twice: at the child's clock (leases live) and after every lease of the
		 * round ended, well within the 7-day retention (earlier rounds' leases are purged
		 * by then: only this round is checked). */
		for (int pass = 0; pass < 2; pass++) {
			int64_t at = round_clock(round) + (pass ? 100000 : 0);
			struct ledger *l = open_ledger(dir.db, at, false);
			CHECK(l != NULL, "reopen after SIGKILL in round %d", round);
			check_round(l, round, got, pass);
			ledger_close(l);
		}
	}
	CHECK(total_acks > 0, "no acks at all");
	lt_dir_remove(&dir);
	printf("ok: %d acknowledged operations survived 6 SIGKILLs\n", total_acks);
	return 0;
}

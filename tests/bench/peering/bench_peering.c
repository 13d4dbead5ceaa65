/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark: committed leases per second through the real lease service (control/
 * peering_lease.c) over real TLS 1.3 sessions on loopback, each region with its own ledger.
 *
 * One provider region (in a child process) and S requester regions (in this process, one
 * event loop) each have their own ledger and TLS identity. Each
 * requester keeps W leases in flight: lease_svc_request (recorded durably, LEASE_REQUEST),
 * provider holds durably and offers, requester commits, provider commits durably and acks,
 * requester confirms. A lease counts as done when the requester's ledger reports it
 * reserved; its latency runs from lease_svc_request to that report.
 *
 * Anchor, in the same run: the same exchanges with every ledger in memory (":memory:"), so
 * the ratio is what durability (SQLite WAL, synchronous=FULL, group commit per read burst)
 * costs on this disk against the protocol and TLS alone.
 *
 *   build/tests/bench/peering/bench_peering [LEASES=2000] [FOLDER=$TMPDIR or /tmp]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "log.h"
#include "peering_mod.h"

#define MAX_REQ 16

struct region {
	struct bench *b;
	char name[16];
	struct tidal_cfg cfg;
	struct cfg_peer peers[MAX_REQ];
	struct cfg_link links[MAX_REQ];
	struct ledger *ledger;
	struct lease_svc *svc;
	struct event *kick; /* the ledger's callback may not change it: send from the loop */
	long sent, done, target, window;
	struct {
		uint8_t id[LEDGER_ID_LEN];
		double t;
	} *inflight;
};

struct bench {
	struct event_base *base;
	struct region prov, req[MAX_REQ];
	int n_req;
	double *lat;
	long n_lat, total;
	double t0, t1;
	bool stop;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void send_more(struct region *r)
{
	lease_svc_begin(r->svc); /* one durable commit for every request sent now */
	while (r->sent < r->target && r->sent - r->done < r->window) {
		struct lease_svc_request q = {
			.peer = "prov",
			.resource = LEASE_RES_BANDWIDTH,
			.quantity = 1000000,
			.start_s = time(NULL) + 3600,
			.duration_s = 3600,
			.setup_prio = 4,
			.hold_prio = 4,
		};
		struct ledger_lease x;
		char why[200];
		double t = mono();
		if (lease_svc_request(r->svc, &q, &x, why, sizeof(why)) != 0) {
			fprintf(stderr, "request refused: %s\n", why);
			r->b->stop = true;
			event_base_loopbreak(r->b->base);
			break;
		}
		long slot = r->sent % r->window;
		memcpy(r->inflight[slot].id, x.id, LEDGER_ID_LEN);
		r->inflight[slot].t = t;
		r->sent++;
	}
	lease_svc_end(r->svc);
}

static void on_change(const struct ledger_change *c, void *arg)
{
	struct region *r = arg;
	if (r->svc)
		lease_svc_on_change(r->svc, c);
	if (r == &r->b->prov || c->lease.state != LEDGER_RESERVED || c->from == LEDGER_RESERVED)
		return;
	struct bench *b = r->b;
	for (long k = 0; k < r->window; k++)
		if (!memcmp(r->inflight[k].id, c->lease.id, LEDGER_ID_LEN)) {
			if (b->n_lat < b->total)
				b->lat[b->n_lat++] = mono() - r->inflight[k].t;
			memset(r->inflight[k].id, 0, LEDGER_ID_LEN);
			break;
		}
	r->done++;
	if (b->n_lat == b->total) {
		b->t1 = mono();
		event_base_loopbreak(b->base);
		return;
	}
	event_active(r->kick, EV_TIMEOUT, 0);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	send_more(arg);
}

static void on_peer(void *arg, const struct peering_peer_change *c)
{
	struct region *r = arg;
	if (c->to == PEER_ESTABLISHED && r != &r->b->prov && r->sent == 0) {
		if (r->b->t0 == 0)
			r->b->t0 = mono();
		send_more(r);
	}
}

static int setup_region(struct bench *b, struct region *r, const char *name, const char *pki,
			const char *dir, bool durable, uint16_t prov_port)
{
	r->b = b;
	snprintf(r->name, sizeof(r->name), "%s", name);
	struct tidal_cfg *c = &r->cfg;
	snprintf(c->region.name, sizeof(c->region.name), "%s", name);
	c->region.asn = 65000;
	c->peering.enabled = true;
	snprintf(c->peering.listen.host, sizeof(c->peering.listen.host), "127.0.0.1");
	snprintf(c->peering.certificate, sizeof(c->peering.certificate), "%s/%s.crt", pki, name);
	snprintf(c->peering.private_key, sizeof(c->peering.private_key), "%s/%s.key", pki, name);
	snprintf(c->peering.ca, sizeof(c->peering.ca), "%s/ca.crt", pki);
	c->peering.hold_time_ms = 90000;
	c->peers = r->peers;
	c->links = r->links;
	if (r == &b->prov) {
		for (int i = 0; i < b->n_req; i++) {
			snprintf(r->peers[i].name, CFG_NAME_MAX, "r%d", i);
			snprintf(r->peers[i].link, CFG_NAME_MAX, "prov-r%d", i);
			snprintf(r->links[i].name, CFG_NAME_MAX, "prov-r%d", i);
			r->links[i].capacity_bps = r->links[i].reservable_bps = 1000000000000000ull;
		}
		c->n_peers = c->n_links = (size_t)b->n_req;
	} else {
		c->peering.listen.host[0] = '\0';
		snprintf(r->peers[0].name, CFG_NAME_MAX, "prov");
		snprintf(r->peers[0].address.host, CFG_HOST_MAX, "127.0.0.1");
		r->peers[0].address.port = prov_port;
		snprintf(r->peers[0].link, CFG_NAME_MAX, "%s-prov", name);
		c->n_peers = 1;
	}
	char path[512];
	if (durable) {
		snprintf(path, sizeof(path), "%s/%s.sqlite", dir, name);
		const char *sfx[] = {"", "-wal", "-shm"};
		for (int k = 0; k < 3; k++) {
			char p[540];
			snprintf(p, sizeof(p), "%s%s", path, sfx[k]);
			unlink(p);
		}
	} else {
		snprintf(path, sizeof(path), ":memory:");
	}
	struct ledger_params lp = {
		.path = path, .region = name, .cfg = c, .now = time(NULL),
		.on_change = on_change, .arg = r,
	};
	r->kick = event_new(b->base, -1, 0, kick_cb, r);
	r->ledger = ledger_open(&lp, NULL);
	if (!r->ledger)
		return -1;
	struct lease_svc_params sp = {
		.base = b->base, .ledger = r->ledger, .cfg = c, .on_peer = on_peer, .arg = r,
		.no_group_commit = getenv("NO_GROUP") != NULL,
	};
	r->svc = lease_svc_new(&sp);
	return r->svc ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void parent_gone(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	event_base_loopbreak(arg);
}

/* The provider region in a child process (as on a real, separate gateway: its disk syncs
 * overlap the requesters'), until the parent closes the pipe. */
static pid_t start_provider(const char *pki, const char *dir, int sessions, bool durable,
			    uint16_t *port, int *ctl_fd)
{
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(up[1]);
		close(down[0]);
		*ctl_fd = down[1];
		if (pid < 0 || read(up[0], port, sizeof(*port)) != (ssize_t)sizeof(*port))
			pid = -1;
		close(up[0]);
		return pid;
	}
	close(up[0]);
	close(down[1]);
	struct bench *b = calloc(1, sizeof(*b));
	b->base = event_base_new();
	b->n_req = sessions;
	uint16_t p = 0;
	if (setup_region(b, &b->prov, "prov", pki, dir, durable, 0) == 0)
		p = peer_mgr_port(lease_svc_sessions(b->prov.svc));
	if (write(up[1], &p, sizeof(p)) != (ssize_t)sizeof(p) || !p)
		_exit(1);
	struct event *gone = event_new(b->base, down[0], EV_READ, parent_gone, b->base);
	event_add(gone, NULL);
	event_base_dispatch(b->base);
	event_free(gone);
	lease_svc_free(b->prov.svc);
	ledger_close(b->prov.ledger);
	_exit(0);
}

/* One run: S sessions, W in flight per session, N leases in all. Returns leases/s. */
static double run(const char *pki, const char *dir, int sessions, long window, long total,
		  bool durable, double *p50, double *p99)
{
	uint16_t port = 0;
	int ctl_fd = -1;
	pid_t child = start_provider(pki, dir, sessions, durable, &port, &ctl_fd);
	if (child < 0) {
		fprintf(stderr, "provider did not start\n");
		return 0;
	}
	struct bench *b = calloc(1, sizeof(*b));
	b->base = event_base_new();
	b->n_req = sessions;
	b->total = total;
	b->lat = calloc((size_t)total, sizeof(double));
	double rate = 0;
	for (int i = 0; i < sessions; i++) {
		char name[16];
		snprintf(name, sizeof(name), "r%d", i);
		struct region *r = &b->req[i];
		r->target = total / sessions + (i < total % sessions);
		r->window = window;
		r->inflight = calloc((size_t)window, sizeof(*r->inflight));
		if (setup_region(b, r, name, pki, dir, durable, port))
			goto out;
	}
	event_base_dispatch(b->base);
	if (!b->stop && b->n_lat == total) {
		rate = (double)total / (b->t1 - b->t0);
		qsort(b->lat, (size_t)total, sizeof(double), cmp);
		*p50 = b->lat[total / 2] * 1e3;
		*p99 = b->lat[(long)((double)total * 0.99)] * 1e3;
	}
out:
	for (int i = 0; i < sessions; i++) {
		lease_svc_free(b->req[i].svc);
		ledger_close(b->req[i].ledger);
		if (b->req[i].kick)
			event_free(b->req[i].kick);
		free(b->req[i].inflight);
	}
	event_base_free(b->base);
	free(b->lat);
	free(b);
	close(ctl_fd);
	waitpid(child, NULL, 0);
	return rate;
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 2000;
	const char *tmp = getenv("TMPDIR");
	const char *folder = argc > 2 ? argv[2] : tmp ? tmp : "/tmp";
	char dir[512], pki[600], cmd[2048];
	snprintf(dir, sizeof(dir), "%s/tidal-bench-peering-%d", folder, (int)getpid());
	snprintf(pki, sizeof(pki), "%s/pki", dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && '%s' '%s' prov r0 r1 r2 r3 r4 r5 r6 r7 r8 r9 >/dev/null 2>&1", dir,
		 MKCERTS, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make certificates with %s\n", MKCERTS);
		return 1;
	}
	tlog_set_level(TLOG_ERROR);
	struct {
		const char *name;
		int sessions;
		long window, leases;
	} variants[] = {
		{"1 session, 1 in flight", 1, 1, total / 10 > 50 ? total / 10 : 50},
		{"1 session, 64 in flight", 1, 64, total},
		{"10 sessions, 16 in flight each", 10, 16, total},
		{"10 sessions, 64 in flight each", 10, 64, total},
	};
	printf("%-34s %9s %12s %9s %9s %12s %9s %9s %7s\n", "variant", "leases", "memory/s",
	       "p50 ms", "p99 ms", "durable/s", "p50 ms", "p99 ms", "ratio");
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		double m50 = 0, m99 = 0, d50 = 0, d99 = 0;
		long n = variants[v].leases;
		double mem = run(pki, dir, variants[v].sessions, variants[v].window, n, false, &m50,
				 &m99);
		double dur = run(pki, dir, variants[v].sessions, variants[v].window, n, true, &d50,
				 &d99);
		printf("%-34s %9ld %12.0f %9.2f %9.2f %12.0f %9.2f %9.2f %6.2fx\n",
		       variants[v].name, n, mem, m50, m99, dur, d50, d99, mem > 0 ? dur / mem : 0);
		fflush(stdout);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return 0;
}

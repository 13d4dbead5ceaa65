/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark: committed leases per second through the real lease service (control/
 * peering_lease.c) over real TLS 1.3 sessions on loopback, each region with its own ledger.
 *
 * One requester region (this process) leases from S provider regions (one child process
 * each, as separate gateways would be), each region with its own ledger and TLS identity:
 * S sessions. The requester keeps W leases in flight per session. Each lease:
 * lease_svc_request (recorded, LEASE_REQUEST), provider holds (written) and offers,
 * requester commits at once, provider commits durably and acks, requester confirms.
 *
 * Two latencies: to LEASE_ACK applied at the requester (the lease is committed: durable at
 * the provider), and to the requester's own record of it durable ("own", bookkeeping that
 * trails). Throughput counts committed leases.
 *
 * Anchor, in the same run: the same exchanges with every ledger in memory (":memory:"), so
 * the ratio is what durability (SQLite WAL, group commit per loop iteration, the ledger's
 * syncer thread) costs on this disk against the protocol and TLS alone; "sync ms" is the
 * disk's median fdatasync measured just before the durable run, "syncs" the requester's
 * WAL syncs per lease. NO_DEFER=1 syncs in the loop (synchronous=FULL), NO_GROUP=1 turns
 * group commit off.
 *
 *   build/tests/bench/peering/bench_peering [LEASES=2000] [FOLDER=$TMPDIR or /tmp]
 */
#include <errno.h>
#include <fcntl.h>
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

#define MAX_PEERS 16

struct flow {
	char peer[16];
	long sent, done, target;
	struct {
		uint8_t id[LEDGER_ID_LEN];
		double t;
	} * inflight; /* window slots */
};

struct region {
	struct bench *b;
	char name[16];
	struct tidal_cfg cfg;
	struct cfg_peer peers[MAX_PEERS];
	struct cfg_link links[MAX_PEERS];
	struct ledger *ledger;
	struct lease_svc *svc;
	struct event *synced; /* the ledger's syncer finished a sync */
};

/* Request time of every lease by id, to time its durable report at the requester. */
struct slot {
	uint8_t id[LEDGER_ID_LEN];
	double t;
	bool used;
};

struct bench {
	struct event_base *base;
	struct region req;
	struct flow flows[MAX_PEERS];
	int n_flows, n_up;
	long window;
	struct event *kick; /* the ledger's callback may not change it: send from the loop */
	double *lat;        /* request -> LEASE_ACK applied (the provider's commit durable) */
	double *lat_own;    /* request -> the requester's own record of it durable */
	long n_lat, n_own, total;
	struct slot *slots;
	size_t n_slots;
	double t0, t1;
	bool stop;
};

static struct slot *slot_find(struct bench *b, const uint8_t *id, bool insert)
{
	uint64_t h;
	memcpy(&h, id, sizeof(h));
	for (size_t i = h & (b->n_slots - 1);; i = (i + 1) & (b->n_slots - 1)) {
		struct slot *sl = &b->slots[i];
		if (!sl->used) {
			if (!insert)
				return NULL;
			sl->used = true;
			memcpy(sl->id, id, LEDGER_ID_LEN);
			return sl;
		}
		if (!memcmp(sl->id, id, LEDGER_ID_LEN))
			return sl;
	}
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void send_more(struct bench *b)
{
	lease_svc_begin(b->req.svc); /* one durable commit for every request sent now */
	for (int f = 0; f < b->n_flows && !b->stop; f++) {
		struct flow *fl = &b->flows[f];
		while (fl->sent < fl->target && fl->sent - fl->done < b->window) {
			struct lease_svc_request q = {
			        .peer = fl->peer,
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
			if (lease_svc_request(b->req.svc, &q, &x, why, sizeof(why)) != 0) {
				fprintf(stderr, "request refused: %s\n", why);
				b->stop = true;
				event_base_loopbreak(b->base);
				break;
			}
			for (long k = 0; k < b->window; k++)
				if (fl->inflight[k].t == 0) {
					memcpy(fl->inflight[k].id, x.id, LEDGER_ID_LEN);
					fl->inflight[k].t = t;
					break;
				}
			slot_find(b, x.id, true)->t = t;
			fl->sent++;
		}
	}
	lease_svc_end(b->req.svc);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	send_more(arg);
}

static void check_end(struct bench *b)
{
	if (b->n_lat == b->total && b->n_own == b->total)
		event_base_loopbreak(b->base);
}

/* The requester's ledger reports a change once it is durable there. */
static void on_change(const struct ledger_change *c, void *arg)
{
	struct region *r = arg;
	struct bench *b = r->b;
	if (r->svc)
		lease_svc_on_change(r->svc, c);
	if (!b || c->lease.state != LEDGER_RESERVED || c->from == LEDGER_RESERVED)
		return;
	struct slot *sl = slot_find(b, c->lease.id, false);
	if (sl && sl->t > 0 && b->n_own < b->total) {
		b->lat_own[b->n_own++] = mono() - sl->t;
		sl->t = -1;
	}
	check_end(b);
}

/* LEASE_ACK applied at the requester: the lease is committed (durable at the provider). */
static void on_lease(void *arg, const struct ledger_lease *x)
{
	struct region *r = arg;
	struct bench *b = r->b;
	if (!b || x->state != LEDGER_RESERVED)
		return;
	for (int f = 0; f < b->n_flows; f++) {
		struct flow *fl = &b->flows[f];
		if (strcmp(fl->peer, x->provider))
			continue;
		for (long k = 0; k < b->window; k++)
			if (fl->inflight[k].t != 0 &&
			    !memcmp(fl->inflight[k].id, x->id, LEDGER_ID_LEN)) {
				if (b->n_lat < b->total)
					b->lat[b->n_lat++] = mono() - fl->inflight[k].t;
				fl->inflight[k].t = 0;
				fl->done++;
				break;
			}
	}
	if (b->n_lat == b->total) {
		b->t1 = mono();
		check_end(b);
		return;
	}
	event_active(b->kick, EV_TIMEOUT, 0);
}

static void synced_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct region *r = arg;
	ledger_sync_poll(r->ledger);
}

static void on_peer(void *arg, const struct peering_peer_change *c)
{
	struct region *r = arg;
	struct bench *b = r->b;
	if (!b || c->to != PEER_ESTABLISHED)
		return;
	if (++b->n_up == b->n_flows) { /* measure with every session up */
		b->t0 = mono();
		event_active(b->kick, EV_TIMEOUT, 0);
	}
}

static int setup_region(struct region *r, const char *name, const char *pki, const char *dir,
                        bool durable, int n_peers, const uint16_t *ports)
{
	snprintf(r->name, sizeof(r->name), "%s", name);
	struct tidal_cfg *c = &r->cfg;
	snprintf(c->region.name, sizeof(c->region.name), "%s", name);
	c->region.asn = 65000;
	c->peering.enabled = true;
	snprintf(c->peering.certificate, sizeof(c->peering.certificate), "%s/%s.crt", pki, name);
	snprintf(c->peering.private_key, sizeof(c->peering.private_key), "%s/%s.key", pki, name);
	snprintf(c->peering.ca, sizeof(c->peering.ca), "%s/ca.crt", pki);
	c->peering.hold_time_ms = 90000;
	c->peers = r->peers;
	c->links = r->links;
	if (!ports) { /* a provider: listens, its one peer is the requester */
		snprintf(c->peering.listen.host, sizeof(c->peering.listen.host), "127.0.0.1");
		snprintf(r->peers[0].name, CFG_NAME_MAX, "req");
		snprintf(r->peers[0].link, CFG_NAME_MAX, "%s-req", name);
		snprintf(r->links[0].name, CFG_NAME_MAX, "%s-req", name);
		r->links[0].capacity_bps = r->links[0].reservable_bps = 1000000000000000ull;
		c->n_peers = c->n_links = 1;
	} else {
		for (int i = 0; i < n_peers; i++) {
			snprintf(r->peers[i].name, CFG_NAME_MAX, "p%d", i);
			snprintf(r->peers[i].address.host, CFG_HOST_MAX, "127.0.0.1");
			r->peers[i].address.port = ports[i];
		}
		c->n_peers = (size_t)n_peers;
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
	        .path = path,
	        .region = name,
	        .cfg = c,
	        .now = time(NULL),
	        .on_change = on_change,
	        .arg = r,
	        .deferred_sync = getenv("NO_DEFER") == NULL,
	};
	r->ledger = ledger_open(&lp, NULL);
	if (!r->ledger)
		return -1;
	struct event_base *base = r->b ? r->b->base : NULL;
	int sfd = ledger_sync_fd(r->ledger);
	if (sfd >= 0) {
		r->synced = event_new(base, sfd, EV_READ | EV_PERSIST, synced_cb, r);
		if (!r->synced || event_add(r->synced, NULL))
			return -1;
	}
	struct lease_svc_params sp = {
	        .base = base,
	        .ledger = r->ledger,
	        .cfg = c,
	        .on_peer = on_peer,
	        .on_lease = on_lease,
	        .arg = r,
	        .no_group_commit = getenv("NO_GROUP") != NULL,
	};
	return (r->svc = lease_svc_new(&sp)) ? 0 : -1;
}

static void close_region(struct region *r)
{
	lease_svc_free(r->svc);
	if (r->synced)
		event_free(r->synced);
	ledger_close(r->ledger);
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

/* Provider region i in a child process (a separate gateway: its disk syncs overlap the
 * requester's), until the parent closes the pipe. The child closes the pipes of the
 * providers started before it, or they would never see their end. */
static pid_t start_provider(int i, const char *pki, const char *dir, bool durable, uint16_t *port,
                            int *ctl_fd, const int *earlier)
{
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(up[1]);
		close(down[0]);
		*ctl_fd = down[1];
		if (pid < 0 || read(up[0], port, sizeof(*port)) != (ssize_t)sizeof(*port) || !*port)
			pid = -1;
		close(up[0]);
		return pid;
	}
	close(up[0]);
	close(down[1]);
	for (int k = 0; k < i; k++)
		close(earlier[k]);
	struct event_base *base = event_base_new();
	struct bench pb = {.base = base};
	struct region *r = calloc(1, sizeof(*r));
	r->b = &pb;
	char name[16];
	snprintf(name, sizeof(name), "p%d", i);
	uint16_t p = 0;
	if (setup_region(r, name, pki, dir, durable, 0, NULL) == 0)
		p = peer_mgr_port(lease_svc_sessions(r->svc));
	r->b = NULL; /* the provider measures nothing */
	if (write(up[1], &p, sizeof(p)) != (ssize_t)sizeof(p) || !p)
		_exit(1);
	struct event *gone = event_new(base, down[0], EV_READ, parent_gone, base);
	event_add(gone, NULL);
	event_base_dispatch(base);
	event_free(gone);
	close_region(r);
	_exit(0);
}

/* One run: one requester region leasing from S provider regions (S sessions), W leases in
 * flight per session, N leases in all. Returns leases/s. */
struct result {
	double rate, p50, p99, own50, own99, syncs_per_lease;
};

static double pct(double *v, long n, double q)
{
	long i = (long)((double)n * q);
	return v[i < n ? i : n - 1] * 1e3;
}

static void run(const char *pki, const char *dir, int sessions, long window, long total,
                bool durable, struct result *res)
{
	uint16_t ports[MAX_PEERS];
	int ctl_fd[MAX_PEERS];
	pid_t child[MAX_PEERS];
	int started = 0;
	double rate = 0;
	struct bench *b = calloc(1, sizeof(*b));
	for (; started < sessions; started++) {
		child[started] = start_provider(started, pki, dir, durable, &ports[started],
		                                &ctl_fd[started], ctl_fd);
		if (child[started] < 0) {
			fprintf(stderr, "provider %d did not start\n", started);
			goto out;
		}
	}
	b->base = event_base_new();
	b->kick = event_new(b->base, -1, 0, kick_cb, b);
	b->n_flows = sessions;
	b->window = window;
	b->total = total;
	b->lat = calloc((size_t)total, sizeof(double));
	b->lat_own = calloc((size_t)total, sizeof(double));
	for (b->n_slots = 64; b->n_slots < 2 * (size_t)total;)
		b->n_slots *= 2;
	b->slots = calloc(b->n_slots, sizeof(*b->slots));
	for (int f = 0; f < sessions; f++) {
		snprintf(b->flows[f].peer, sizeof(b->flows[f].peer), "p%d", f);
		b->flows[f].target = total / sessions + (f < total % sessions);
		b->flows[f].inflight = calloc((size_t)window, sizeof(*b->flows[f].inflight));
	}
	b->req.b = b;
	if (setup_region(&b->req, "req", pki, dir, durable, sessions, ports))
		goto out;
	event_base_dispatch(b->base);
	if (!b->stop && b->n_lat == total) {
		rate = (double)total / (b->t1 - b->t0);
		qsort(b->lat, (size_t)total, sizeof(double), cmp);
		qsort(b->lat_own, (size_t)b->n_own, sizeof(double), cmp);
		res->rate = rate;
		res->p50 = pct(b->lat, total, 0.5);
		res->p99 = pct(b->lat, total, 0.99);
		res->own50 = b->n_own ? pct(b->lat_own, b->n_own, 0.5) : 0;
		res->own99 = b->n_own ? pct(b->lat_own, b->n_own, 0.99) : 0;
		res->syncs_per_lease = (double)ledger_syncs(b->req.ledger) / (double)total;
	}
out:
	close_region(&b->req);
	for (int f = 0; f < sessions; f++)
		free(b->flows[f].inflight);
	if (b->kick)
		event_free(b->kick);
	if (b->base)
		event_base_free(b->base);
	free(b->lat);
	free(b->lat_own);
	free(b->slots);
	free(b);
	for (int i = 0; i < started; i++) {
		close(ctl_fd[i]);
		waitpid(child[i], NULL, 0);
	}
}

/* The disk's own cost, measured in the same run: median fdatasync of a 4 KiB append in the
 * folder the ledgers use (what one SQLite WAL sync costs here). */
static double sync_ms(const char *dir)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/sync-probe", dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	double v[41];
	char block[4096];
	memset(block, 0x5a, sizeof(block));
	for (int i = 0; i < 41; i++) {
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			break;
		double t = mono();
		(void)fdatasync(fd);
		v[i] = mono() - t;
	}
	close(fd);
	unlink(path);
	qsort(v, 41, sizeof(double), cmp);
	return v[20] * 1e3;
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
	         "mkdir -p '%s' && '%s' '%s' req p0 p1 p2 p3 p4 p5 p6 p7 p8 p9 >/dev/null 2>&1",
	         dir, MKCERTS, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make certificates with %s\n", MKCERTS);
		return 1;
	}
	tlog_set_level(getenv("BENCH_DEBUG") ? TLOG_INFO : TLOG_ERROR);
	struct {
		const char *name;
		int sessions;
		long window, leases;
	} variants[] = {
	        {"1 session, 1 in flight", 1, 1, total / 10 > 50 ? total / 10 : 50},
	        {"1 session, 64 in flight", 1, 64, total},
	        {"1 session, 256 in flight", 1, 256, total * 2},
	        {"10 sessions, 16 in flight each", 10, 16, total},
	        {"10 sessions, 64 in flight each", 10, 64, total * 2},
	};
	printf("%-32s %7s | %9s %7s %7s | %7s %9s %7s %7s %8s %6s | %6s\n", "variant", "leases",
	       "memory/s", "p50 ms", "p99 ms", "sync ms", "durable/s", "p50 ms", "p99 ms",
	       "own p99", "syncs", "ratio");
	const char *only = getenv("BENCH_ONLY");
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		if (only && atoi(only) != (int)v)
			continue;
		struct result m = {0}, d = {0};
		long n = variants[v].leases;
		run(pki, dir, variants[v].sessions, variants[v].window, n, false, &m);
		double sms = sync_ms(dir);
		run(pki, dir, variants[v].sessions, variants[v].window, n, true, &d);
		printf("%-32s %7ld | %9.0f %7.2f %7.2f | %7.2f %9.0f %7.2f %7.2f %8.2f %6.3f | "
		       "%5.2fx\n",
		       variants[v].name, n, m.rate, m.p50, m.p99, sms, d.rate, d.p50, d.p99,
		       d.own99, d.syncs_per_lease, m.rate > 0 ? d.rate / m.rate : 0);
		fflush(stdout);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return 0;
}

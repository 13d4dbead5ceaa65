/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peer_probe: a minimal region speaking the peering protocol, for session tests and the
 * session-level benchmark. Runs the real session layer (TLS, FSM, timers) with a trivial
 * lease responder in place of the ledger: every LEASE_REQUEST is offered, every COMMIT is
 * acknowledged. Prints one line per event on stdout for test scripts to poll:
 *
 *   STATE <peer> <old> <new>      session state changes
 *   MSG <peer> <TYPE>             lease/capacity messages received (with --verbose)
 *   DONE <n> <seconds> <p50_us> <p99_us>   after --requests N leases were acknowledged
 *
 * Usage: peer_probe --region R --cert F --key F --ca F [--listen HOST:PORT] [--hold S]
 *                   [--peer NAME=HOST:PORT]... [--passive NAME]... [--retry-ms MS]
 *                   [--requests N --to PEER [--window W]] [--verbose]
 *                   [--quantity BPS] [--hold-ms MS] [--no-commit]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "peering.h"

struct probe {
	struct event_base *base;
	struct peer_mgr *mgr;
	bool verbose, no_commit;
	uint64_t quantity;
	uint32_t hold_ms;
	long requests, window, sent, acked;
	const char *to, *region;
	struct peer_msg msg;
	double t0;
	double *sent_at; /* per request index */
	double *lat;
	long n_lat;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void id_for(struct lease_id *id, long i)
{
	memset(id, 0, sizeof(*id));
	id->b[0] = 0x7d;
	for (int k = 0; k < 8; k++)
		id->b[15 - k] = (uint8_t)((uint64_t)i >> (8 * k));
}

static long index_of(const struct lease_id *id)
{
	long i = 0;
	for (int k = 0; k < 8; k++)
		i |= (long)id->b[15 - k] << (8 * k);
	return i;
}

static void send_request(struct probe *pr, struct peer *p)
{
	struct peer_msg *m = &pr->msg;
	peer_msg_init(m, PEER_MSG_LEASE_REQUEST);
	struct lease_msg *l = &m->lease;
	id_for(&l->id, pr->sent);
	snprintf(l->requester, sizeof(l->requester), "%s", pr->region);
	snprintf(l->provider, sizeof(l->provider), "%s", peer_name(p));
	l->resource = LEASE_RES_BANDWIDTH;
	l->unit = LEASE_UNIT_BPS;
	l->quantity = pr->quantity ? pr->quantity : 1000000;
	l->start_s = (int64_t)time(NULL) + 3600;
	l->duration_s = 3600;
	m->present = PEER_F_LEASE_ID | PEER_F_REQUESTER | PEER_F_PROVIDER | PEER_F_RESOURCE |
	             PEER_F_QUANTITY | PEER_F_START | PEER_F_DURATION;
	if (pr->hold_ms) {
		l->hold_ms = pr->hold_ms;
		m->present |= PEER_F_HOLD_TIME;
	}
	pr->sent_at[pr->sent] = now_s();
	if (peer_send(p, m) == 0)
		pr->sent++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void on_state(void *arg, struct peer *p, enum peer_state old, enum peer_state now)
{
	struct probe *pr = arg;
	printf("STATE %s %s %s\n", peer_name(p), peer_state_name(old), peer_state_name(now));
	fflush(stdout);
	if (now == PEER_ESTABLISHED && pr->requests && pr->to && !strcmp(pr->to, peer_name(p))) {
		pr->t0 = now_s();
		while (pr->sent < pr->requests && pr->sent - pr->acked < pr->window)
			send_request(pr, p);
	}
}

static void on_msg(void *arg, struct peer *p, const struct peer_msg *in)
{
	struct probe *pr = arg;
	struct peer_msg *m = &pr->msg;
	if (pr->verbose) {
		if (in->type >= PEER_MSG_LEASE_REQUEST && (in->present & PEER_F_LEASE_ID))
			printf("MSG %s %s %ld %s %s\n", peer_name(p), peer_msg_type_name(in->type),
			       index_of(&in->lease.id),
			       in->present & PEER_F_STATE ? lease_state_name(in->lease.state) : "-",
			       in->present & PEER_F_ERROR ? lease_error_name(in->lease.error)
			                                  : "-");
		else
			printf("MSG %s %s\n", peer_name(p), peer_msg_type_name(in->type));
		fflush(stdout);
	}
	switch (in->type) {
	case PEER_MSG_LEASE_REQUEST:
		peer_msg_init(m, PEER_MSG_LEASE_OFFER);
		m->lease.id = in->lease.id;
		m->lease.unit = in->lease.unit;
		m->lease.quantity = in->lease.quantity;
		m->lease.hold_ms = 30000;
		m->present = PEER_F_LEASE_ID | PEER_F_QUANTITY | PEER_F_HOLD_TIME;
		peer_send(p, m);
		break;
	case PEER_MSG_LEASE_OFFER:
		if (pr->no_commit)
			break;
		peer_msg_init(m, PEER_MSG_LEASE_COMMIT);
		m->lease.id = in->lease.id;
		m->present = PEER_F_LEASE_ID;
		peer_send(p, m);
		break;
	case PEER_MSG_LEASE_COMMIT:
		peer_msg_init(m, PEER_MSG_LEASE_ACK);
		m->lease.id = in->lease.id;
		m->lease.state = LEASE_RESERVED;
		m->present = PEER_F_LEASE_ID | PEER_F_STATE;
		peer_send(p, m);
		break;
	case PEER_MSG_LEASE_ACK: {
		long i = index_of(&in->lease.id);
		if (i >= 0 && i < pr->sent && pr->n_lat < pr->requests)
			pr->lat[pr->n_lat++] = now_s() - pr->sent_at[i];
		pr->acked++;
		while (pr->sent < pr->requests && pr->sent - pr->acked < pr->window)
			send_request(pr, p);
		if (pr->acked == pr->requests) {
			double secs = now_s() - pr->t0;
			qsort(pr->lat, (size_t)pr->n_lat, sizeof(double), cmp_double);
			double p50 = pr->n_lat ? pr->lat[pr->n_lat / 2] : 0;
			double p99 = pr->n_lat ? pr->lat[(long)((double)pr->n_lat * 0.99)] : 0;
			printf("DONE %ld %.6f %.1f %.1f\n", pr->acked, secs, p50 * 1e6, p99 * 1e6);
			fflush(stdout);
		}
		break;
	}
	default:
		break;
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what;
	event_base_loopbreak(arg);
}

static int split_hostport(const char *s, char *host, size_t hlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= hlen)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (uint16_t)atoi(colon + 1);
	return 0;
}

int main(int argc, char **argv)
{
	static struct probe pr;
	struct peer_mgr_params p = {0};
	char listen_host[256] = "";
	const char *peers[16], *passive[16];
	int n_peers = 0, n_passive = 0;
	pr.window = 1;
	p.hold_time_s = 90;
	p.asn = 65000;
	p.resources = 1u << LEASE_RES_BANDWIDTH;

	static const struct option opts[] = {
	        {"region", 1, 0, 'r'},
	        {"cert", 1, 0, 'c'},
	        {"key", 1, 0, 'k'},
	        {"ca", 1, 0, 'a'},
	        {"listen", 1, 0, 'l'},
	        {"hold", 1, 0, 'H'},
	        {"peer", 1, 0, 'p'},
	        {"passive", 1, 0, 'P'},
	        {"retry-ms", 1, 0, 'R'},
	        {"requests", 1, 0, 'n'},
	        {"to", 1, 0, 't'},
	        {"window", 1, 0, 'w'},
	        {"verbose", 0, 0, 'v'},
	        {"no-commit", 0, 0, 'C'},
	        {"quantity", 1, 0, 'q'},
	        {"hold-ms", 1, 0, 'h'},
	        {0, 0, 0, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			p.region = optarg;
			break;
		case 'c':
			p.certificate = optarg;
			break;
		case 'k':
			p.private_key = optarg;
			break;
		case 'a':
			p.ca = optarg;
			break;
		case 'l':
			if (split_hostport(optarg, listen_host, sizeof(listen_host),
			                   &p.listen_port))
				return 2;
			p.listen_host = listen_host;
			break;
		case 'H':
			p.hold_time_s = (uint16_t)atoi(optarg);
			break;
		case 'p':
			if (n_peers < 16)
				peers[n_peers++] = optarg;
			break;
		case 'P':
			if (n_passive < 16)
				passive[n_passive++] = optarg;
			break;
		case 'R':
			p.retry_initial_ms = (uint32_t)atoi(optarg);
			break;
		case 'n':
			pr.requests = atol(optarg);
			break;
		case 't':
			pr.to = optarg;
			break;
		case 'w':
			pr.window = atol(optarg);
			break;
		case 'v':
			pr.verbose = true;
			break;
		case 'C':
			pr.no_commit = true;
			break;
		case 'q':
			pr.quantity = strtoull(optarg, NULL, 10);
			break;
		case 'h':
			pr.hold_ms = (uint32_t)atol(optarg);
			break;
		default:
			return 2;
		}
	}
	tlog_set_ident("peer_probe");
	if (getenv("PROBE_DEBUG"))
		tlog_set_level(TLOG_DEBUG);
	signal(SIGPIPE, SIG_IGN);
	pr.region = p.region;
	pr.sent_at = calloc((size_t)pr.requests + 1, sizeof(double));
	pr.lat = calloc((size_t)pr.requests + 1, sizeof(double));
	pr.base = event_base_new();
	p.base = pr.base;
	p.on_state = on_state;
	p.on_msg = on_msg;
	p.cb_arg = &pr;
	if (p.retry_initial_ms)
		p.retry_max_ms = p.retry_initial_ms * 4;
	pr.mgr = peer_mgr_new(&p);
	if (!pr.mgr)
		return 1;
	printf("LISTEN %u\n", peer_mgr_port(pr.mgr));
	fflush(stdout);
	for (int i = 0; i < n_peers; i++) {
		char name[64], host[256];
		uint16_t port;
		const char *eq = strchr(peers[i], '=');
		if (!eq || (size_t)(eq - peers[i]) >= sizeof(name) ||
		    split_hostport(eq + 1, host, sizeof(host), &port))
			return 2;
		memcpy(name, peers[i], (size_t)(eq - peers[i]));
		name[eq - peers[i]] = '\0';
		if (!peer_mgr_add(pr.mgr, name, host, port))
			return 1;
	}
	for (int i = 0; i < n_passive; i++)
		if (!peer_mgr_add(pr.mgr, passive[i], NULL, 0))
			return 1;
	struct event *sigterm = evsignal_new(pr.base, SIGTERM, on_signal, pr.base);
	struct event *sigint = evsignal_new(pr.base, SIGINT, on_signal, pr.base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_base_dispatch(pr.base);
	peer_mgr_free(pr.mgr);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(pr.base);
	free(pr.sent_at);
	free(pr.lat);
	printf("EXIT\n");
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session: peering sessions over TLS 1.3 (docs/protocol.md §1, §6).
 *
 * Owns the listener, every connection (bufferevent_openssl over a TCP socket), the timers
 * (connect, hold, keepalive, reconnect) and the per-peer counters. Implements the session
 * state machine with connection collision resolution and hands every message received in
 * Established to the on_msg callback. Must never interpret leases, block the loop, or
 * send anything but encoded messages; every close of a live session sends a NOTIFICATION
 * first (except when the transport itself failed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "peering.h"
#include "tls.h"

#define OPENSENT_HOLD_S  240
#define CLOSE_LINGER_MS  2000
#define MAX_UNIDENTIFIED 64

struct conn {
	struct peer_mgr *mgr;
	struct peer *peer; /* NULL until the identity is known (incoming) */
	struct bufferevent *bev;
	enum peer_state state;
	bool outgoing;
	bool closing; /* a NOTIFICATION is being flushed; nothing more is read or sent */
	char remote[300];
	struct event *timer;    /* connect timeout, then hold timer */
	struct event *ka_timer; /* keepalive */
	struct event *linger;   /* frees the connection once the NOTIFICATION is out */
	uint16_t hold_s;        /* negotiated */
	uint64_t peer_instance;
	struct conn *next;
};

struct peer {
	struct peer_mgr *mgr;
	char name[PEER_REGION_MAX];
	char host[256];
	uint16_t port;
	struct event *retry;
	unsigned backoff_n;
	enum peer_state reported;
	struct conn *established;
	struct peer_stats stats;
	void *user;
};

struct peer_mgr {
	struct peer_mgr_params p;
	char region[PEER_REGION_MAX];
	SSL_CTX *ctx;
	struct evconnlistener *listener;
	struct evdns_base *dns;
	uint16_t port;
	uint64_t instance;
	uint64_t rng;
	struct peer **peers;
	size_t n_peers;
	struct conn *conns;
	struct tb_writer out; /* encoding scratch */
	struct peer_msg rx;   /* decoding scratch */
};

static void conn_close(struct conn *c, const struct peer_msg *notif, const char *why);
static void peer_update_state(struct peer *p);
static void peer_schedule_retry(struct peer *p);

/* ---- small helpers ------------------------------------------------------------------- */

static uint64_t rng_next(struct peer_mgr *m)
{
	uint64_t x = m->rng; /* xorshift64*: jitter only, not security */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [lo, hi] (fractions). */
static double rng_uniform(struct peer_mgr *m, double lo, double hi)
{
	return lo + (hi - lo) * (double)(rng_next(m) >> 11) / (double)(1ull << 53);
}

static struct timeval tv_ms(uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

const char *peer_state_name(enum peer_state s)
{
	static const char *const names[] = {"Idle", "Connect", "OpenSent", "OpenConfirm",
	                                    "Established"};
	return (unsigned)s < 5 ? names[s] : "Unknown";
}

static const char *conn_label(const struct conn *c)
{
	return c->peer ? c->peer->name : c->remote;
}

static void set_error(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct peer *p, const char *fmt, ...)
{
	if (!p)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->stats.last_error, sizeof(p->stats.last_error), fmt, ap);
	va_end(ap);
}

/* ---- sending ------------------------------------------------------------------------- */

static int conn_send(struct conn *c, const struct peer_msg *msg)
{
	struct peer_mgr *m = c->mgr;
	if (c->closing || !c->bev)
		return -ENOTCONN;
	tb_writer_reset(&m->out);
	int rc = peer_msg_encode(msg, &m->out);
	if (rc) {
		log_err("peering: %s: cannot encode %s (%s): not sent", conn_label(c),
		        peer_msg_type_name(msg->type), rc == -EMSGSIZE ? "too big" : "invalid");
		return rc;
	}
	if (bufferevent_write(c->bev, m->out.data, m->out.len) != 0)
		return -ENOMEM;
	if (c->peer && msg->type <= PEER_MSG_TYPE_MAX)
		c->peer->stats.msgs_out[msg->type]++;
	return 0;
}

static void send_simple(struct conn *c, enum peer_msg_type type)
{
	struct peer_msg msg;
	peer_msg_init(&msg, type);
	conn_send(c, &msg);
}

static void send_open(struct conn *c)
{
	struct peer_mgr *m = c->mgr;
	struct peer_msg msg;
	peer_msg_init(&msg, PEER_MSG_OPEN);
	msg.open.asn = m->p.asn ? m->p.asn : 1;
	msg.open.hold_time_s = m->p.hold_time_s;
	snprintf(msg.open.region, sizeof(msg.open.region), "%s", m->region);
	msg.open.instance = m->instance;
	msg.open.resources = m->p.resources;
	msg.open.restart_time_s = m->p.restart_time_s ? m->p.restart_time_s : 120;
	msg.present = PEER_F_REGION | PEER_F_INSTANCE | PEER_F_RESOURCES | PEER_F_GRACEFUL_RESTART;
	conn_send(c, &msg);
}

/* ---- timers -------------------------------------------------------------------------- */

static void arm_hold(struct conn *c, unsigned secs)
{
	if (!secs) {
		evtimer_del(c->timer);
		return;
	}
	struct timeval tv = tv_ms((uint64_t)secs * 1000);
	evtimer_add(c->timer, &tv);
}

static void arm_keepalive(struct conn *c)
{
	if (!c->hold_s)
		return;
	double ms = (double)c->hold_s * 1000.0 / 3.0 * rng_uniform(c->mgr, 0.75, 1.0);
	struct timeval tv = tv_ms((uint64_t)ms);
	evtimer_add(c->ka_timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct conn *c = arg;
	if (c->state == PEER_CONNECT) {
		set_error(c->peer, "connection to %s timed out", c->remote);
		log_warn("peering: %s: connection (TCP + TLS) to %s timed out", conn_label(c),
		         c->remote);
		conn_close(c, NULL, NULL);
		return;
	}
	struct peer_msg n;
	peer_msg_notification(&n, PEER_ERR_HOLD_TIMER, 0, NULL, 0);
	conn_close(c, &n, "hold timer expired");
}

static void ka_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct conn *c = arg;
	if (c->closing)
		return;
	send_simple(c, PEER_MSG_KEEPALIVE);
	arm_keepalive(c);
}

/* ---- connection teardown ------------------------------------------------------------- */

static void conn_unlink(struct conn *c)
{
	for (struct conn **pp = &c->mgr->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	conn_unlink(c);
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl && c->state != PEER_CONNECT)
			SSL_shutdown(ssl); /* close_notify, best effort on a non-blocking socket */
		bufferevent_free(c->bev);
	}
	if (c->timer)
		event_free(c->timer);
	if (c->ka_timer)
		event_free(c->ka_timer);
	if (c->linger)
		event_free(c->linger);
	free(c);
}

static void linger_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	conn_free(arg);
}

static void drained_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		struct timeval now = {0, 0};
		event_add(c->linger, &now);
	}
}

static void closing_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev, (void)what;
	struct conn *c = arg;
	struct timeval now = {0, 0};
	event_add(c->linger, &now);
}

/* Close c: send notif first when given, then free once flushed (or after a linger time).
 * Never frees c synchronously, so callers up the stack may still look at it. */
static void conn_close(struct conn *c, const struct peer_msg *notif, const char *why)
{
	if (c->closing)
		return;
	struct peer *p = c->peer;
	enum peer_state was = c->state;
	if (notif) {
		char desc[96];
		peer_notif_describe(notif->notif.code, notif->notif.subcode, desc, sizeof(desc));
		if (c->state >= PEER_OPENSENT)
			conn_send(c, notif);
		set_error(p, "sent NOTIFICATION %s%s%s", desc, why ? ": " : "", why ? why : "");
		log_info("peering: %s: sent NOTIFICATION %u/%u %s%s%s, closing", conn_label(c),
		         notif->notif.code, notif->notif.subcode, desc, why ? ": " : "",
		         why ? why : "");
	}
	c->closing = true;
	c->state = PEER_IDLE;
	evtimer_del(c->timer);
	evtimer_del(c->ka_timer);
	if (p && p->established == c) {
		p->established = NULL;
		p->stats.established_at_s = 0;
	}
	if (c->bev && notif && was >= PEER_OPENSENT) {
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_setcb(c->bev, NULL, drained_cb, closing_event_cb, c);
		struct timeval tv = tv_ms(CLOSE_LINGER_MS);
		event_add(c->linger, &tv);
		drained_cb(c->bev, c);
	} else {
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		struct timeval now = {0, 0};
		event_add(c->linger, &now);
	}
	if (p) {
		peer_update_state(p);
		peer_schedule_retry(p);
	}
}

/* ---- peer state ---------------------------------------------------------------------- */

static void peer_update_state(struct peer *p)
{
	enum peer_state best = PEER_IDLE;
	for (struct conn *c = p->mgr->conns; c; c = c->next)
		if (c->peer == p && !c->closing && c->state > best)
			best = c->state;
	if (best == p->reported)
		return;
	enum peer_state old = p->reported;
	p->reported = best;
	log_info("peering: %s: %s -> %s", p->name, peer_state_name(old), peer_state_name(best));
	if (p->mgr->p.on_state)
		p->mgr->p.on_state(p->mgr->p.cb_arg, p, old, best);
}

static bool peer_busy(struct peer *p)
{
	for (struct conn *c = p->mgr->conns; c; c = c->next)
		if (c->peer == p && !c->closing && (c->outgoing || c->state >= PEER_OPENSENT))
			return true;
	return false;
}

static void peer_schedule_retry(struct peer *p)
{
	struct peer_mgr *m = p->mgr;
	if (!p->host[0] || evtimer_pending(p->retry, NULL) || peer_busy(p))
		return;
	uint64_t init = m->p.retry_initial_ms ? m->p.retry_initial_ms : 1000;
	uint64_t max = m->p.retry_max_ms ? m->p.retry_max_ms : 60000;
	uint64_t d = init;
	for (unsigned i = 0; i < p->backoff_n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	d = (uint64_t)((double)d * rng_uniform(m, 0.5, 1.0));
	if (p->backoff_n < 32)
		p->backoff_n++;
	struct timeval tv = tv_ms(d);
	evtimer_add(p->retry, &tv);
	log_debug("peering: %s: next connection attempt in %llu ms", p->name,
	          (unsigned long long)d);
}

/* ---- receiving ----------------------------------------------------------------------- */

static int region_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int r = memcmp(a, b, la < lb ? la : lb);
	if (r)
		return r;
	return la < lb ? -1 : la > lb;
}

/* protocol.md §6.5. Returns false when c itself was closed. */
static bool resolve_collision(struct conn *c, const struct peer_open *o)
{
	struct peer_mgr *m = c->mgr;
	struct peer_msg n;
	for (struct conn *d = m->conns; d; d = d->next) {
		if (d == c || d->peer != c->peer || d->closing)
			continue;
		if (d->state == PEER_CONNECT) {
			conn_close(d, NULL, NULL);
		} else if (d->state == PEER_ESTABLISHED) {
			if (o->instance != d->peer_instance) {
				peer_msg_notification(&n, PEER_ERR_CEASE, PEER_SUB_CEASE_RESTARTED,
				                      NULL, 0);
				conn_close(d, &n, "the peer restarted (new instance)");
			} else {
				peer_msg_notification(&n, PEER_ERR_CEASE, PEER_SUB_CEASE_COLLISION,
				                      NULL, 0);
				conn_close(c, &n, "a session is already established");
				return false;
			}
		} else {
			/* Keep the connection initiated by the larger region id. */
			bool we_larger = region_cmp(m->region, c->peer->name) > 0;
			struct conn *loser = (c->outgoing == we_larger) ? d : c;
			peer_msg_notification(&n, PEER_ERR_CEASE, PEER_SUB_CEASE_COLLISION, NULL,
			                      0);
			conn_close(loser, &n, "connection collision");
			if (loser == c)
				return false;
		}
	}
	return true;
}

static void handle_open(struct conn *c, const struct peer_msg *msg)
{
	struct peer_mgr *m = c->mgr;
	struct peer *p = c->peer;
	struct peer_msg n;
	const struct peer_open *o = &msg->open;
	if (strcmp(o->region, p->name) != 0) {
		peer_msg_notification(&n, PEER_ERR_OPEN, PEER_SUB_OPEN_REGION, o->region,
		                      strlen(o->region));
		conn_close(c, &n, "OPEN region differs from the certificate");
		return;
	}
	if (!resolve_collision(c, o))
		return;
	c->peer_instance = o->instance;
	uint16_t mine = m->p.hold_time_s;
	c->hold_s = (mine && o->hold_time_s) ? (mine < o->hold_time_s ? mine : o->hold_time_s) : 0;
	p->stats.hold_time_s = c->hold_s;
	p->stats.peer_instance = o->instance;
	p->stats.peer_resources = (msg->present & PEER_F_RESOURCES) ? o->resources : 0;
	p->stats.peer_restart_time_s =
	        (msg->present & PEER_F_GRACEFUL_RESTART) ? o->restart_time_s : 120;
	send_simple(c, PEER_MSG_KEEPALIVE);
	c->state = PEER_OPENCONFIRM;
	arm_hold(c, c->hold_s);
	arm_keepalive(c);
	peer_update_state(p);
}

static void handle_msg(struct conn *c, const struct peer_msg *msg)
{
	struct peer *p = c->peer;
	struct peer_msg n;
	uint8_t t = msg->type;

	if (t == PEER_MSG_NOTIFICATION) {
		char desc[96];
		peer_notif_describe(msg->notif.code, msg->notif.subcode, desc, sizeof(desc));
		char text[128] = "";
		if (msg->notif.code == PEER_ERR_CEASE && msg->notif.data_len) {
			size_t k = 0;
			for (size_t i = 0; i < msg->notif.data_len && k < sizeof(text) - 1; i++) {
				uint8_t ch = msg->notif.data[i];
				text[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
			}
			text[k] = '\0';
		}
		set_error(p, "received NOTIFICATION %s%s%s", desc, text[0] ? ": " : "", text);
		log_warn("peering: %s: received NOTIFICATION %u/%u %s%s%s", p->name,
		         msg->notif.code, msg->notif.subcode, desc, text[0] ? ": " : "", text);
		conn_close(c, NULL, NULL);
		return;
	}
	switch (c->state) {
	case PEER_OPENSENT:
		if (t != PEER_MSG_OPEN) {
			peer_msg_notification(&n, PEER_ERR_FSM, PEER_SUB_FSM_OPENSENT, &t, 1);
			conn_close(c, &n, peer_msg_type_name(t));
			return;
		}
		handle_open(c, msg);
		return;
	case PEER_OPENCONFIRM:
		if (t != PEER_MSG_KEEPALIVE) {
			peer_msg_notification(&n, PEER_ERR_FSM, PEER_SUB_FSM_OPENCONFIRM, &t, 1);
			conn_close(c, &n, peer_msg_type_name(t));
			return;
		}
		arm_hold(c, c->hold_s);
		c->state = PEER_ESTABLISHED;
		p->established = c;
		p->backoff_n = 0;
		p->stats.established_at_s = (int64_t)time(NULL);
		p->stats.established_count++;
		p->stats.last_error[0] = '\0';
		evtimer_del(p->retry);
		peer_update_state(p);
		return;
	case PEER_ESTABLISHED:
		arm_hold(c, c->hold_s);
		if (t == PEER_MSG_OPEN) {
			peer_msg_notification(&n, PEER_ERR_FSM, PEER_SUB_FSM_ESTABLISHED, &t, 1);
			conn_close(c, &n, "OPEN on an established session");
			return;
		}
		if (t == PEER_MSG_KEEPALIVE)
			return;
		if (c->mgr->p.on_msg)
			c->mgr->p.on_msg(c->mgr->p.cb_arg, p, msg);
		return;
	default:
		return;
	}
}

/* Handle every whole message buffered on c; returns how many reached on_msg. */
static unsigned read_burst(struct conn *c, struct evbuffer *in)
{
	struct peer_mgr *m = c->mgr;
	unsigned delivered = 0;
	while (!c->closing && c->state >= PEER_OPENSENT) {
		size_t have = evbuffer_get_length(in);
		if (have < PEER_HDR_LEN)
			break;
		const uint8_t *head = evbuffer_pullup(in, PEER_HDR_LEN);
		size_t mlen = 0;
		struct peer_err err;
		int rc = peer_frame_check(head, PEER_HDR_LEN, &mlen, &err);
		if (rc == 1 && have < mlen)
			break;
		if (rc == 1) {
			const uint8_t *buf = evbuffer_pullup(in, (ev_ssize_t)mlen);
			rc = peer_msg_decode(buf, mlen, &m->rx, &err) == 0 ? 1 : -1;
			evbuffer_drain(in, mlen);
		}
		if (rc < 0) {
			struct peer_msg n;
			peer_msg_notification(&n, err.code, err.subcode, err.data, err.data_len);
			log_warn("peering: %s: malformed message: %s", conn_label(c), err.msg);
			conn_close(c, &n, err.msg);
			break;
		}
		if (c->peer && m->rx.type <= PEER_MSG_TYPE_MAX)
			c->peer->stats.msgs_in[m->rx.type]++;
		if (c->state == PEER_ESTABLISHED && m->rx.type > PEER_MSG_NOTIFICATION)
			delivered++;
		handle_msg(c, &m->rx);
	}
	return delivered;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct peer *p = c->peer;
	unsigned n = read_burst(c, bufferevent_get_input(bev));
	if (n && p && c->peer == p && c->mgr->p.on_burst_end)
		c->mgr->p.on_burst_end(c->mgr->p.cb_arg, p);
}

/* ---- connection setup ---------------------------------------------------------------- */

static void handshake_done(struct conn *c)
{
	struct peer_mgr *m = c->mgr;
	char region[PEER_REGION_MAX], why[512];
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct peer_msg n;
	if (peer_tls_peer_region(ssl, region, sizeof(region), why, sizeof(why)) != 0) {
		log_warn("peering: %s: refused: %s", conn_label(c), why);
		set_error(c->peer, "%s", why);
		c->state = PEER_OPENSENT; /* TLS is up: the NOTIFICATION can be sent */
		peer_msg_notification(&n, PEER_ERR_OPEN, PEER_SUB_OPEN_REGION, NULL, 0);
		conn_close(c, &n, why);
		return;
	}
	if (c->outgoing) {
		if (strcmp(region, c->peer->name) != 0) {
			snprintf(why, sizeof(why),
			         "certificate of %s names region '%s', expected '%s'", c->remote,
			         region, c->peer->name);
			log_warn("peering: %s: refused: %s", c->peer->name, why);
			set_error(c->peer, "%s", why);
			c->state = PEER_OPENSENT;
			peer_msg_notification(&n, PEER_ERR_OPEN, PEER_SUB_OPEN_REGION, region,
			                      strlen(region));
			conn_close(c, &n, why);
			return;
		}
	} else {
		struct peer *p = peer_mgr_find(m, region);
		if (!p) {
			log_warn("peering: %s: refused: region '%s' is not a configured [peer.%s]",
			         c->remote, region, region);
			c->state = PEER_OPENSENT;
			peer_msg_notification(&n, PEER_ERR_OPEN, PEER_SUB_OPEN_REGION, region,
			                      strlen(region));
			conn_close(c, &n, "unknown region");
			return;
		}
		c->peer = p;
	}
	log_debug("peering: %s: TLS 1.3 up with %s (%s)", c->peer->name, c->remote,
	          c->outgoing ? "outgoing" : "incoming");
	c->state = PEER_OPENSENT;
	send_open(c);
	arm_hold(c, OPENSENT_HOLD_S);
	peer_update_state(c->peer);
	read_cb(c->bev, c); /* the peer's OPEN may already be buffered */
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		handshake_done(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		char why[256];
		unsigned long e = bufferevent_get_openssl_error(bev);
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		if (what & BEV_EVENT_EOF)
			snprintf(why, sizeof(why), "connection closed by the peer");
		else if (e || (ssl && SSL_get_verify_result(ssl) != X509_V_OK))
			peer_tls_errors(ssl, e, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s",
			         evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		while (bufferevent_get_openssl_error(bev))
			;
		ERR_clear_error();
		if (c->state == PEER_CONNECT)
			log_warn("peering: %s: %s to %s failed: %s", conn_label(c),
			         c->outgoing ? "connection" : "TLS handshake", c->remote, why);
		else
			log_warn("peering: %s: session lost in %s: %s", conn_label(c),
			         peer_state_name(c->state), why);
		set_error(c->peer, "%s", why);
		conn_close(c, NULL, NULL);
	}
}

/* Peering messages are small and answered one by one: no Nagle delay. */
static void set_nodelay(evutil_socket_t fd)
{
	int one = 1;
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static struct conn *conn_new(struct peer_mgr *m, struct peer *p, evutil_socket_t fd, bool outgoing)
{
	set_nodelay(fd);
	struct conn *c = calloc(1, sizeof(*c));
	SSL *ssl = c ? SSL_new(m->ctx) : NULL;
	if (!ssl) {
		free(c);
		if (fd >= 0)
			evutil_closesocket(fd);
		log_err("peering: out of memory for a connection");
		return NULL;
	}
	c->mgr = m;
	c->peer = p;
	c->outgoing = outgoing;
	c->state = PEER_CONNECT;
	c->bev = bufferevent_openssl_socket_new(m->p.base, fd, ssl,
	                                        outgoing ? BUFFEREVENT_SSL_CONNECTING
	                                                 : BUFFEREVENT_SSL_ACCEPTING,
	                                        BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(m->p.base, timer_cb, c);
	c->ka_timer = evtimer_new(m->p.base, ka_cb, c);
	c->linger = evtimer_new(m->p.base, linger_cb, c);
	if (!c->bev || !c->timer || !c->ka_timer || !c->linger) {
		if (!c->bev)
			SSL_free(ssl);
		conn_free(c);
		log_err("peering: out of memory for a connection");
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = m->conns;
	m->conns = c;
	uint32_t to = m->p.connect_timeout_ms ? m->p.connect_timeout_ms : 10000;
	struct timeval tv = tv_ms(to);
	evtimer_add(c->timer, &tv);
	return c;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct peer *p = arg;
	struct peer_mgr *m = p->mgr;
	if (peer_busy(p))
		return;
	struct conn *c = conn_new(m, p, -1, true);
	if (!c) {
		peer_schedule_retry(p);
		return;
	}
	snprintf(c->remote, sizeof(c->remote), "%s:%u", p->host, p->port);
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	int rc;
	if (evutil_parse_sockaddr_port(c->remote, (struct sockaddr *)&ss, &sslen) == 0) {
		rc = bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, sslen);
	} else {
		if (!m->dns)
			m->dns = evdns_base_new(m->p.base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		rc = m->dns ? bufferevent_socket_connect_hostname(c->bev, m->dns, AF_UNSPEC,
		                                                  p->host, p->port)
		            : -1;
	}
	set_nodelay(bufferevent_getfd(c->bev));
	log_debug("peering: %s: connecting to %s", p->name, c->remote);
	peer_update_state(p);
	if (rc != 0) {
		set_error(p, "cannot connect to %s", c->remote);
		log_warn("peering: %s: cannot connect to %s", p->name, c->remote);
		conn_close(c, NULL, NULL);
	}
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
	(void)l, (void)salen;
	struct peer_mgr *m = arg;
	size_t unidentified = 0;
	for (struct conn *c = m->conns; c; c = c->next)
		if (!c->peer)
			unidentified++;
	char addr[64] = "?";
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		char ip[INET_ADDRSTRLEN];
		evutil_inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(addr, sizeof(addr), "%s:%u", ip, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		char ip[INET6_ADDRSTRLEN];
		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(addr, sizeof(addr), "[%s]:%u", ip, ntohs(s6->sin6_port));
	}
	if (unidentified >= MAX_UNIDENTIFIED) {
		log_warn("peering: refusing connection from %s: %zu handshakes already pending",
		         addr, unidentified);
		evutil_closesocket(fd);
		return;
	}
	struct conn *c = conn_new(m, NULL, fd, false);
	if (c)
		snprintf(c->remote, sizeof(c->remote), "%s", addr);
}

/* ---- public API ---------------------------------------------------------------------- */

struct peer_mgr *peer_mgr_new(const struct peer_mgr_params *params)
{
	if (!params->base || !peer_region_valid(params->region)) {
		log_err("peering: a valid local region id is required");
		return NULL;
	}
	if (params->hold_time_s == 1 || params->hold_time_s == 2) {
		log_err("peering: hold time must be 0 or at least 3 s");
		return NULL;
	}
	struct peer_mgr *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->p = *params;
	snprintf(m->region, sizeof(m->region), "%s", params->region);
	m->p.region = m->region;
	m->p.certificate = m->p.private_key = m->p.ca = m->p.listen_host = NULL;
	tb_writer_init(&m->out, PEER_MSG_MAX);
	while (!m->instance)
		if (getrandom(&m->instance, sizeof(m->instance), 0) != sizeof(m->instance))
			m->instance = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)m;
	m->rng = m->instance | 1;

	m->ctx = peer_tls_ctx_new(params->certificate, params->private_key, params->ca,
	                          params->region);
	if (!m->ctx)
		goto fail;
	if (params->listen_host && params->listen_host[0]) {
		char hp[300];
		struct sockaddr_storage ss;
		int sslen = sizeof(ss);
		bool v6 = strchr(params->listen_host, ':') != NULL;
		/* libevent's parser refuses port 0 ("any free port"): parse with 1, then set. */
		snprintf(hp, sizeof(hp), v6 ? "[%s]:%u" : "%s:%u", params->listen_host,
		         params->listen_port ? params->listen_port : 1);
		if (evutil_parse_sockaddr_port(hp, (struct sockaddr *)&ss, &sslen) != 0) {
			log_err("peering: listen address %s is not a numeric address", hp);
			goto fail;
		}
		if (!params->listen_port) {
			if (ss.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&ss)->sin6_port = 0;
			else
				((struct sockaddr_in *)&ss)->sin_port = 0;
		}
		m->listener = evconnlistener_new_bind(params->base, accept_cb, m,
		                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
		                                              LEV_OPT_CLOSE_ON_EXEC,
		                                      64, (struct sockaddr *)&ss, sslen);
		if (!m->listener) {
			log_err("peering: cannot listen on %s: %s", hp,
			        evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			goto fail;
		}
		struct sockaddr_storage bound;
		socklen_t bl = sizeof(bound);
		if (getsockname(evconnlistener_get_fd(m->listener), (struct sockaddr *)&bound,
		                &bl) == 0)
			m->port = ntohs(bound.ss_family == AF_INET6
			                        ? ((struct sockaddr_in6 *)&bound)->sin6_port
			                        : ((struct sockaddr_in *)&bound)->sin_port);
		log_info("peering: region %s listening on %s (TLS 1.3, port %u)", m->region, hp,
		         m->port);
	}
	return m;
fail:
	peer_mgr_free(m);
	return NULL;
}

uint16_t peer_mgr_port(const struct peer_mgr *m)
{
	return m->port;
}

uint64_t peer_mgr_instance(const struct peer_mgr *m)
{
	return m->instance;
}

static void peer_free(struct peer *p)
{
	struct peer_mgr *m = p->mgr;
	struct peer_msg n;
	peer_msg_notification(&n, PEER_ERR_CEASE, PEER_SUB_CEASE_DECONFIGURED, NULL, 0);
	for (struct conn *c = m->conns; c; c = c->next) {
		if (c->peer != p)
			continue;
		if (!c->closing)
			conn_close(c, c->state >= PEER_OPENSENT ? &n : NULL, "peer removed");
		c->peer = NULL;
	}
	event_free(p->retry);
	free(p);
}

void peer_mgr_free(struct peer_mgr *m)
{
	if (!m)
		return;
	struct peer_msg n;
	peer_msg_notification(&n, PEER_ERR_CEASE, PEER_SUB_CEASE_SHUTDOWN, NULL, 0);
	m->p.on_state = NULL; /* the owner is going away */
	m->p.on_msg = NULL;
	for (struct conn *c = m->conns; c; c = c->next) {
		if (c->closing || c->state < PEER_OPENSENT || !c->bev)
			continue;
		/* The loop will not run again: write the Cease straight through TLS (one
		 * non-blocking attempt; the socket buffer takes a few bytes). */
		if (conn_send(c, &n) == 0) {
			struct evbuffer *out = bufferevent_get_output(c->bev);
			size_t len = evbuffer_get_length(out);
			SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
			if (ssl && len && len < 1u << 20)
				(void)SSL_write(ssl, evbuffer_pullup(out, (ev_ssize_t)len),
				                (int)len);
		}
	}
	while (m->conns)
		conn_free(m->conns);
	for (size_t i = 0; i < m->n_peers; i++) {
		event_free(m->peers[i]->retry);
		free(m->peers[i]);
	}
	free(m->peers);
	if (m->listener)
		evconnlistener_free(m->listener);
	if (m->dns)
		evdns_base_free(m->dns, 0);
	if (m->ctx)
		SSL_CTX_free(m->ctx);
	tb_writer_free(&m->out);
	free(m);
}

struct peer *peer_mgr_add(struct peer_mgr *m, const char *name, const char *host, uint16_t port)
{
	if (!peer_region_valid(name) || peer_mgr_find(m, name) || strcmp(name, m->region) == 0) {
		log_err("peering: cannot add peer '%s': bad, duplicate or own region id",
		        name ? name : "");
		return NULL;
	}
	struct peer **np = realloc(m->peers, (m->n_peers + 1) * sizeof(*np));
	struct peer *p = calloc(1, sizeof(*p));
	if (np)
		m->peers = np;
	if (!np || !p) {
		free(p);
		return NULL;
	}
	p->mgr = m;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (host)
		snprintf(p->host, sizeof(p->host), "%s", host);
	p->port = port ? port : PEER_DEFAULT_PORT;
	p->retry = evtimer_new(m->p.base, retry_cb, p);
	if (!p->retry) {
		free(p);
		return NULL;
	}
	m->peers[m->n_peers++] = p;
	if (p->host[0]) {
		struct timeval now = {0, 0};
		evtimer_add(p->retry, &now);
	}
	return p;
}

void peer_mgr_remove(struct peer_mgr *m, struct peer *p)
{
	for (size_t i = 0; i < m->n_peers; i++)
		if (m->peers[i] == p) {
			memmove(&m->peers[i], &m->peers[i + 1],
			        (m->n_peers - i - 1) * sizeof(m->peers[0]));
			m->n_peers--;
			peer_free(p);
			return;
		}
}

struct peer *peer_mgr_find(struct peer_mgr *m, const char *name)
{
	for (size_t i = 0; i < m->n_peers; i++)
		if (strcmp(m->peers[i]->name, name) == 0)
			return m->peers[i];
	return NULL;
}

size_t peer_mgr_count(const struct peer_mgr *m)
{
	return m->n_peers;
}

struct peer *peer_mgr_at(struct peer_mgr *m, size_t i)
{
	return i < m->n_peers ? m->peers[i] : NULL;
}

const char *peer_name(const struct peer *p)
{
	return p->name;
}

enum peer_state peer_get_state(const struct peer *p)
{
	return p->reported;
}

void peer_set_user(struct peer *p, void *user)
{
	p->user = user;
}

void *peer_get_user(const struct peer *p)
{
	return p->user;
}

void peer_get_stats(const struct peer *p, struct peer_stats *s)
{
	*s = p->stats;
}

int peer_send(struct peer *p, const struct peer_msg *msg)
{
	if (!p->established || p->established->closing)
		return -ENOTCONN;
	if (msg->type == PEER_MSG_OPEN || msg->type == PEER_MSG_NOTIFICATION)
		return -EINVAL;
	return conn_send(p->established, msg);
}

void peer_reset(struct peer *p, uint8_t subcode)
{
	struct peer_msg n;
	peer_msg_notification(&n, PEER_ERR_CEASE, subcode, NULL, 0);
	for (struct conn *c = p->mgr->conns; c; c = c->next)
		if (c->peer == p && !c->closing)
			conn_close(c, c->state >= PEER_OPENSENT ? &n : NULL, "reset");
}

int peer_flush(struct peer *p)
{
	struct conn *c = p->established;
	if (!c || !c->bev || c->closing)
		return -ENOTCONN;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	size_t len = evbuffer_get_length(out);
	while (ssl && len) {
		int chunk = len > (1u << 20) ? 1 << 20 : (int)len;
		int n = SSL_write(ssl, evbuffer_pullup(out, chunk), chunk);
		if (n <= 0)
			return -EAGAIN;
		evbuffer_drain(out, (size_t)n);
		len = evbuffer_get_length(out);
	}
	return len ? -EAGAIN : 0;
}

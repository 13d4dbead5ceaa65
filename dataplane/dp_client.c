/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_client: synchronous request/reply over tidal-dp's control socket (see dp.h).
 *
 * Owns the socket and one frame buffer per connection. Every wait is bounded by the
 * connection's timeout through poll(); a lost or confused connection is closed at once so
 * that no later reply can be mistaken for the answer to another request.
 */
#include "dp.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct dp_conn {
	int fd;
	int timeout_ms;
	uint32_t seq;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char err[DPMSG_TEXT_MAX + 64];
	uint8_t rbuf[DPMSG_MAX_LEN];
};

static void set_err(struct dp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct dp_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct dp_conn *dp_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct dp_conn *c;
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		log_err("dp: control socket path too long or empty");
		errno = EINVAL;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_err("dp: socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		log_err("dp: cannot connect to tidal-dp at %s: %s (is tidal-dp running with -s "
		        "%s?)",
		        path, strerror(e), path);
		close(fd);
		errno = e;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	snprintf(c->path, sizeof(c->path), "%s", path);
	return c;
}

void dp_close(struct dp_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

bool dp_connected(const struct dp_conn *c)
{
	return c && c->fd >= 0;
}

const char *dp_last_error(const struct dp_conn *c)
{
	return c ? c->err : "no connection";
}

static void drop_conn(struct dp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int wait_fd(struct dp_conn *c, short ev, int64_t deadline)
{
	struct pollfd p = {.fd = c->fd, .events = ev};
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return 0;
}

static int write_all(struct dp_conn *c, const uint8_t *buf, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		int rc = wait_fd(c, POLLOUT, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_all(struct dp_conn *c, uint8_t *buf, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = recv(c->fd, buf, len, 0);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		int rc = wait_fd(c, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Read one reply frame, which must carry seq, into *rep (decoded; caller clears it). */
static int recv_reply(struct dp_conn *c, uint32_t seq, struct dpmsg *rep, int64_t deadline,
                      const char **why)
{
	struct dpmsg_hdr h;
	int rc = read_all(c, c->rbuf, DPMSG_HDR_LEN, deadline);

	if (rc == 0 && dpmsg_hdr_decode(c->rbuf, DPMSG_HDR_LEN, &h) < 0)
		rc = -EPROTO;
	if (rc == 0)
		rc = read_all(c, c->rbuf + DPMSG_HDR_LEN, h.length - DPMSG_HDR_LEN, deadline);
	if (rc == 0 && h.seq != seq)
		rc = -EPROTO;
	if (rc == 0 && dpmsg_decode(c->rbuf, h.length, rep, why) < 0)
		rc = -EPROTO;
	return rc;
}

static int io_failed(struct dp_conn *c, uint8_t type, int rc, const char *why)
{
	set_err(c, "%s to tidal-dp at %s failed: %s%s%s", dpmsg_type_name(type), c->path,
	        rc == -EPROTO ? "reply does not decode" : strerror(-rc), why ? ": " : "",
	        why ? why : "");
	drop_conn(c);
	return rc;
}

/* Send req, read the reply into *rep (decoded; caller clears it). */
static int transact(struct dp_conn *c, struct dpmsg *req, struct dpmsg *rep)
{
	struct tb_writer w;
	const char *why = NULL;
	int64_t deadline;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (c->fd < 0) {
		set_err(c, "not connected to tidal-dp at %s", c->path);
		return -ENOTCONN;
	}
	req->hdr.seq = ++c->seq;
	tb_writer_init(&w, DPMSG_MAX_LEN);
	rc = dpmsg_encode(&w, req);
	if (rc < 0) {
		tb_writer_free(&w);
		set_err(c, "cannot encode %s: %s", dpmsg_type_name(req->hdr.type),
		        rc == -EMSGSIZE ? "message too large" : "invalid field");
		return rc;
	}
	deadline = now_ms() + c->timeout_ms;
	rc = write_all(c, w.data, w.len, deadline);
	tb_writer_free(&w);
	if (rc == 0)
		rc = recv_reply(c, req->hdr.seq, rep, deadline, &why);
	if (rc < 0)
		return io_failed(c, req->hdr.type, rc, why);
	return 0;
}

/* For requests answered by RESULT. */
static int simple(struct dp_conn *c, struct dpmsg *req)
{
	struct dpmsg rep;
	int rc = transact(c, req, &rep);

	if (rc < 0)
		return rc;
	if (rep.hdr.type != DPMSG_RESULT) {
		dpmsg_clear(&rep);
		set_err(c, "unexpected %s reply", dpmsg_type_name(rep.hdr.type));
		drop_conn(c);
		return -EPROTO;
	}
	rc = rep.u.result.status;
	if (rc < 0)
		set_err(c, "%s", rep.u.result.text[0] ? rep.u.result.text : strerror(-rc));
	else
		c->err[0] = 0;
	return rc;
}

int dp_get_info(struct dp_conn *c, struct dp_info *out)
{
	struct dpmsg req = {.hdr.type = DPMSG_HELLO}, rep;
	int rc = transact(c, &req, &rep);

	if (rc < 0)
		return rc;
	if (rep.hdr.type != DPMSG_INFO) {
		rc = rep.hdr.type == DPMSG_RESULT ? rep.u.result.status : -EPROTO;
		dpmsg_clear(&rep);
		set_err(c, "HELLO not answered with INFO");
		return rc < 0 ? rc : -EPROTO;
	}
	memset(out, 0, sizeof(*out));
	out->n_subports = rep.u.info.n_subports;
	out->n_pipes = rep.u.info.n_pipes;
	out->max_classes = rep.u.info.max_classes;
	out->stages = rep.u.info.stages;
	for (uint16_t i = 0; i < rep.u.info.n_pairs && i < 16; i++) {
		struct dp_port_info *p = &out->pairs[i];
		p->pair = rep.u.info.pairs[i].pair;
		p->rate_bps = rep.u.info.pairs[i].rate_bps;
		memcpy(p->rx_name, rep.u.info.pairs[i].rx_name, sizeof(p->rx_name));
		memcpy(p->tx_name, rep.u.info.pairs[i].tx_name, sizeof(p->tx_name));
		out->n_pairs++;
	}
	dpmsg_clear(&rep);
	return 0;
}

/* The wire form of cls; it borrows the caller's prefix arrays. */
static int class_msg(struct dp_conn *c, const struct dp_class *cls, struct dpmsg *req)
{
	struct dpmsg_class *m = &req->u.cls;

	memset(req, 0, sizeof(*req));
	req->hdr.type = DPMSG_CLASS_ADD;
	if (cls->n_dst > DPMSG_MAX_PREFIXES || cls->n_src > DPMSG_MAX_PREFIXES) {
		set_err(c, "class %u: more than %d prefixes in one list", cls->id,
		        DPMSG_MAX_PREFIXES);
		return -E2BIG;
	}
	m->class_id = cls->id;
	m->subport = cls->subport;
	m->pipe = cls->pipe;
	m->tc = cls->tc;
	m->queue = cls->queue;
	if (cls->meter) {
		m->has_meter = true;
		m->meter.cir_bps = cls->meter->cir_bps;
		m->meter.pir_bps = cls->meter->pir_bps;
		m->meter.cbs = cls->meter->cbs_bytes;
		m->meter.pbs = cls->meter->pbs_bytes;
	}
	if (cls->n_dscp == 0) {
		m->dscp_mask = UINT64_MAX;
	} else {
		for (size_t i = 0; i < cls->n_dscp; i++) {
			if (cls->dscp[i] > 63) {
				set_err(c, "class %u: DSCP %u above 63", cls->id, cls->dscp[i]);
				return -EINVAL;
			}
			m->dscp_mask |= 1ull << cls->dscp[i];
		}
	}
	m->n_dst = (uint16_t)cls->n_dst;
	m->dst = (struct cfg_prefix *)cls->dst;
	m->n_src = (uint16_t)cls->n_src;
	m->src = (struct cfg_prefix *)cls->src;
	return 0;
}

int dp_class_add(struct dp_conn *c, const struct dp_class *cls)
{
	struct dpmsg req;
	int rc = class_msg(c, cls, &req);

	return rc < 0 ? rc : simple(c, &req);
}

/* Requests go out in groups without waiting for each answer; tidal-dp applies a group
 * with one table swap. Groups are small enough that neither side's socket buffer fills
 * while the other is not reading. */
#define DP_PIPELINE 64

int dp_class_add_many(struct dp_conn *c, const struct dp_class *cls, size_t n, int *rc_each)
{
	int first = 0;

	for (size_t off = 0; off < n; off += DP_PIPELINE) {
		size_t k = n - off < DP_PIPELINE ? n - off : DP_PIPELINE;
		uint32_t seq0 = c->seq + 1;
		struct tb_writer w;
		int64_t deadline;
		int rc = 0;

		if (c->fd < 0) {
			set_err(c, "not connected to tidal-dp at %s", c->path);
			return -ENOTCONN;
		}
		tb_writer_init(&w, 0);
		for (size_t i = 0; i < k && rc == 0; i++) {
			struct dpmsg req;
			rc = class_msg(c, &cls[off + i], &req);
			if (rc == 0) {
				req.hdr.seq = ++c->seq;
				rc = dpmsg_encode(&w, &req);
			}
		}
		if (rc < 0) {
			/* nothing of this group was sent: the sequence numbers are unused */
			c->seq = seq0 - 1;
			tb_writer_free(&w);
			if (!c->err[0])
				set_err(c, "cannot encode a class (%s)", strerror(-rc));
			return rc;
		}
		deadline = now_ms() + c->timeout_ms * (int64_t)(1 + k / 16);
		rc = write_all(c, w.data, w.len, deadline);
		tb_writer_free(&w);
		if (rc < 0)
			return io_failed(c, DPMSG_CLASS_ADD, rc, NULL);
		for (size_t i = 0; i < k; i++) {
			struct dpmsg rep;
			const char *why = NULL;
			memset(&rep, 0, sizeof(rep));
			rc = recv_reply(c, seq0 + (uint32_t)i, &rep, deadline, &why);
			if (rc < 0)
				return io_failed(c, DPMSG_CLASS_ADD, rc, why);
			if (rep.hdr.type != DPMSG_RESULT) {
				dpmsg_clear(&rep);
				set_err(c, "unexpected %s reply", dpmsg_type_name(rep.hdr.type));
				drop_conn(c);
				return -EPROTO;
			}
			if (rc_each)
				rc_each[off + i] = rep.u.result.status;
			if (rep.u.result.status < 0 && first == 0) {
				first = rep.u.result.status;
				set_err(c, "%s",
				        rep.u.result.text[0] ? rep.u.result.text
				                             : strerror(-first));
			}
		}
	}
	if (first == 0)
		c->err[0] = 0;
	return first;
}

int dp_class_del(struct dp_conn *c, uint32_t id)
{
	struct dpmsg req = {.hdr.type = DPMSG_CLASS_DEL, .u.class_id = id};

	return simple(c, &req);
}

int dp_subport_rate(struct dp_conn *c, uint16_t pair, uint16_t subport, uint64_t rate_bps)
{
	struct dpmsg req = {.hdr.type = DPMSG_SUBPORT_RATE};

	req.u.rate.pair = pair;
	req.u.rate.subport = subport;
	req.u.rate.rate_bps = rate_bps;
	return simple(c, &req);
}

int dp_pipe_rate(struct dp_conn *c, const struct dp_pipe_rate *r)
{
	struct dpmsg req = {.hdr.type = DPMSG_PIPE_RATE};

	req.u.rate.pair = r->pair;
	req.u.rate.subport = r->subport;
	req.u.rate.pipe = r->pipe;
	req.u.rate.rate_bps = r->rate_bps;
	req.u.rate.tb_bytes = r->tb_bytes;
	if (r->tc_rate_bps) {
		req.u.rate.n_tc = DP_N_TC;
		memcpy(req.u.rate.tc_rate_bps, r->tc_rate_bps, sizeof(req.u.rate.tc_rate_bps));
	}
	return simple(c, &req);
}

int dp_rx_enable(struct dp_conn *c, uint16_t pair, bool on)
{
	struct dpmsg req = {.hdr.type = DPMSG_RX_ENABLE};

	req.u.rx.pair = pair;
	req.u.rx.on = on;
	return simple(c, &req);
}

void dp_stats_free(struct dp_stats *s)
{
	if (!s)
		return;
	free(s->pairs);
	free(s->classes);
	free(s);
}

int dp_stats_read(struct dp_conn *c, struct dp_stats **out)
{
	struct dp_stats *s = calloc(1, sizeof(*s));
	uint32_t next = 0;
	int rc = 0;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	/* Pages are cut by class id; the pair totals come with the first page. */
	for (unsigned page = 0; next != DPMSG_STATS_END; page++) {
		struct dpmsg req = {.hdr.type = DPMSG_STATS_REQ}, rep;
		req.u.stats_req.first_class = next;
		req.u.stats_req.max_entries = 0; /* as many as fit */
		rc = transact(c, &req, &rep);
		if (rc < 0)
			break;
		if (rep.hdr.type != DPMSG_STATS_REP) {
			rc = rep.hdr.type == DPMSG_RESULT ? rep.u.result.status : -EPROTO;
			if (rep.hdr.type == DPMSG_RESULT)
				set_err(c, "%s", rep.u.result.text);
			dpmsg_clear(&rep);
			rc = rc < 0 ? rc : -EPROTO;
			break;
		}
		struct dpmsg_stats_rep *p = &rep.u.stats;
		if (page == 0 && p->n_pairs) {
			s->pairs = p->pairs;
			s->n_pairs = p->n_pairs;
			p->pairs = NULL;
		}
		if (p->n_classes) {
			struct dpmsg_class_stats *nc =
			        realloc(s->classes, (s->n_classes + p->n_classes) * sizeof(*nc));
			if (!nc) {
				dpmsg_clear(&rep);
				rc = -ENOMEM;
				break;
			}
			memcpy(nc + s->n_classes, p->classes, p->n_classes * sizeof(*nc));
			s->classes = nc;
			s->n_classes += p->n_classes;
		}
		/* a server that does not advance would loop forever */
		if (p->next_class != DPMSG_STATS_END && p->next_class <= next) {
			dpmsg_clear(&rep);
			set_err(c, "stats paging does not advance");
			drop_conn(c);
			rc = -EPROTO;
			break;
		}
		next = p->next_class;
		dpmsg_clear(&rep);
	}
	if (rc < 0) {
		dp_stats_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

unsigned dp_tc_of_priority(unsigned priority)
{
	return priority <= 7 ? priority : DP_TC_BE;
}

static const char *const class_fields[DPMSG_CF_COUNT] = {
        "rx_pkts",         "rx_bytes",         "tx_pkts",         "tx_bytes",
        "meter_drop_pkts", "meter_drop_bytes", "sched_drop_pkts", "sched_drop_bytes",
        "other_drop_pkts", "other_drop_bytes", "green_pkts",      "yellow_pkts",
        "queued",
};

static const char *const pair_fields[DPMSG_PF_COUNT] = {
        "rx_pkts",      "rx_bytes",    "tx_pkts",       "tx_bytes",
        "drop_pkts",    "queued",      "non_ip_pkts",   "eth_ipackets",
        "eth_opackets", "eth_imissed", "eth_rx_nombuf", "eth_oerrors",
};

const char *dp_class_field_name(unsigned f)
{
	return f < DPMSG_CF_COUNT ? class_fields[f] : "?";
}

const char *dp_pair_field_name(unsigned f)
{
	return f < DPMSG_PF_COUNT ? pair_fields[f] : "?";
}

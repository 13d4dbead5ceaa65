/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_ctl: tidal-dp's UNIX control socket.
 *
 * A control thread (rte_ctrl_thread_create, so it never runs on a data lcore) accepts a
 * few clients and reads dpmsg frames from each; every complete frame is decoded, carried
 * out through dp_ops and answered with one frame carrying the same seq. Class changes
 * that arrive back to back (a client may send many before reading the answers) are
 * applied as one batch with one class table swap, and still answered one by one. A frame whose
 * header is broken ends that connection (the stream can no longer be framed); a body
 * that does not decode is answered with RESULT -EBADMSG and the connection stays.
 *
 * Owns the listening socket (removed again at stop), the client sockets and their buffers.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "dp_internal.h"
#include "log.h"

#define MAX_CLIENTS 8
#define MAX_GROUP   256

struct client {
	int fd;
	size_t have;
	uint8_t buf[DPMSG_MAX_LEN];
	/* class requests received together, applied as one batch */
	size_t n_grp;
	struct dpmsg grp[MAX_GROUP];
	int grp_rc[MAX_GROUP];
	char grp_err[MAX_GROUP][DPMSG_TEXT_MAX];
};

struct dp_ctl {
	int lfd;
	char path[108];
	pthread_t thread;
	bool running;
	volatile int stop;
	struct client *cl[MAX_CLIENTS];
};

static int send_frame(int fd, const struct dpmsg *m)
{
	struct tb_writer w;
	size_t off = 0;
	int rc;

	tb_writer_init(&w, DPMSG_MAX_LEN);
	rc = dpmsg_encode(&w, m);
	if (rc < 0) {
		tb_writer_free(&w);
		return rc;
	}
	while (off < w.len) {
		ssize_t n = send(fd, w.data + off, w.len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, 1000) <= 0) {
				rc = -ETIMEDOUT;
				break;
			}
			continue;
		}
		rc = -errno;
		break;
	}
	tb_writer_free(&w);
	return rc;
}

static int reply_result(int fd, uint32_t seq, int status, const char *text)
{
	struct dpmsg r = {.hdr.type = DPMSG_RESULT, .hdr.seq = seq};

	r.u.result.status = status;
	snprintf(r.u.result.text, sizeof(r.u.result.text), "%s", text ? text : "");
	return send_frame(fd, &r);
}

static int handle(struct dp_state *s, int fd, const uint8_t *frame, size_t len)
{
	struct dpmsg m, rep;
	const char *why = NULL;
	char err[DPMSG_TEXT_MAX] = "";
	int rc = dpmsg_decode(frame, len, &m, &why);
	uint32_t seq = m.hdr.seq;

	if (rc < 0) {
		log_warn("control: %s frame refused: %s", dpmsg_type_name(m.hdr.type), why);
		snprintf(err, sizeof(err), "%s", why ? why : "malformed");
		return reply_result(fd, seq, rc == -ENOTSUP ? -ENOTSUP : -EBADMSG, err);
	}
	switch (m.hdr.type) {
	case DPMSG_HELLO:
		memset(&rep, 0, sizeof(rep));
		rep.hdr.type = DPMSG_INFO;
		rep.hdr.seq = seq;
		rc = dp_ops_info(s, &rep.u.info);
		if (rc == 0)
			rc = send_frame(fd, &rep);
		else
			rc = reply_result(fd, seq, rc, "out of memory");
		dpmsg_clear(&rep);
		break;
	case DPMSG_CLASS_ADD:
		rc = dp_ops_class_add(s, &m.u.cls, err, sizeof(err));
		if (rc < 0)
			log_warn("control: class %u refused: %s", m.u.cls.class_id, err);
		else
			log_debug("control: class %u installed", m.u.cls.class_id);
		rc = reply_result(fd, seq, rc, err);
		break;
	case DPMSG_CLASS_DEL:
		rc = dp_ops_class_del(s, m.u.class_id, err, sizeof(err));
		rc = reply_result(fd, seq, rc, err);
		break;
	case DPMSG_SUBPORT_RATE:
		rc = dp_ops_subport_rate(s, &m.u.rate, err, sizeof(err));
		if (rc < 0)
			log_warn("control: subport rate refused: %s", err);
		rc = reply_result(fd, seq, rc, err);
		break;
	case DPMSG_PIPE_RATE:
		rc = dp_ops_pipe_rate(s, &m.u.rate, err, sizeof(err));
		if (rc < 0)
			log_warn("control: pipe rate refused: %s", err);
		rc = reply_result(fd, seq, rc, err);
		break;
	case DPMSG_RX_ENABLE:
		rc = dp_ops_rx_enable(s, m.u.rx.pair, m.u.rx.on, err, sizeof(err));
		if (rc == 0)
			log_info("control: reception %s on %s", m.u.rx.on ? "started" : "stopped",
			         m.u.rx.pair == DPMSG_ALL_PAIRS ? "every pair" : "one pair");
		rc = reply_result(fd, seq, rc, err);
		break;
	case DPMSG_STATS_REQ:
		if (m.u.stats_req.first_class == 0)
			dp_ops_fold(s);
		memset(&rep, 0, sizeof(rep));
		rep.hdr.type = DPMSG_STATS_REP;
		rep.hdr.seq = seq;
		rc = dp_ops_stats_page(s, &m.u.stats_req, &rep.u.stats);
		if (rc == 0)
			rc = send_frame(fd, &rep);
		else
			rc = reply_result(fd, seq, rc, "out of memory");
		dpmsg_clear(&rep);
		break;
	default:
		rc = reply_result(fd, seq, -ENOTSUP, "not a request tidal-dp serves");
		break;
	}
	dpmsg_clear(&m);
	return rc;
}

static void drop_client(struct dp_ctl *c, int i)
{
	for (size_t k = 0; k < c->cl[i]->n_grp; k++)
		dpmsg_clear(&c->cl[i]->grp[k]);
	close(c->cl[i]->fd);
	free(c->cl[i]);
	c->cl[i] = NULL;
}

/* Apply the pending class requests together and answer each, in order. */
static int flush_group(struct dp_state *s, struct client *cl)
{
	struct dpmsg *ptrs[MAX_GROUP];
	int rc = 0;

	if (!cl->n_grp)
		return 0;
	for (size_t i = 0; i < cl->n_grp; i++)
		ptrs[i] = &cl->grp[i];
	dp_ops_class_batch(s, ptrs, cl->n_grp, cl->grp_rc, cl->grp_err);
	for (size_t i = 0; i < cl->n_grp; i++) {
		struct dpmsg *m = &cl->grp[i];
		uint32_t id = m->hdr.type == DPMSG_CLASS_ADD ? m->u.cls.class_id : m->u.class_id;
		if (cl->grp_rc[i] < 0)
			log_warn("control: %s of class %u refused: %s",
			         m->hdr.type == DPMSG_CLASS_ADD ? "install" : "removal", id,
			         cl->grp_err[i]);
		if (rc == 0)
			rc = reply_result(cl->fd, m->hdr.seq, cl->grp_rc[i], cl->grp_err[i]);
		dpmsg_clear(m);
	}
	if (cl->n_grp > 1)
		log_debug("control: %zu class changes applied as one batch", cl->n_grp);
	cl->n_grp = 0;
	return rc;
}

/* Handle every complete frame in the buffer; class requests are collected. */
static int process_buffer(struct dp_state *s, struct client *cl)
{
	size_t off = 0;
	int rc = 0;

	while (rc == 0 && cl->have - off >= DPMSG_HDR_LEN) {
		const uint8_t *f = cl->buf + off;
		struct dpmsg_hdr h;
		if (dpmsg_hdr_decode(f, DPMSG_HDR_LEN, &h) < 0) {
			log_warn("control: client sent a broken frame header; closing it");
			return -EPROTO;
		}
		if (cl->have - off < h.length)
			break;
		if (h.type == DPMSG_CLASS_ADD || h.type == DPMSG_CLASS_DEL) {
			const char *why = NULL;
			if (dpmsg_decode(f, h.length, &cl->grp[cl->n_grp], &why) == 0) {
				if (++cl->n_grp == MAX_GROUP)
					rc = flush_group(s, cl);
			} else {
				rc = flush_group(s, cl);
				if (rc == 0)
					rc = handle(s, cl->fd, f, h.length); /* answers the error */
			}
		} else {
			rc = flush_group(s, cl);
			if (rc == 0)
				rc = handle(s, cl->fd, f, h.length);
		}
		off += h.length;
	}
	memmove(cl->buf, cl->buf + off, cl->have - off);
	cl->have -= off;
	return rc;
}

/* Read what is there and handle it. Returns <0 to drop the client. */
static int client_read(struct dp_state *s, struct client *cl)
{
	for (;;) {
		ssize_t n =
		        recv(cl->fd, cl->buf + cl->have, sizeof(cl->buf) - cl->have, MSG_DONTWAIT);
		int rc;
		if (n > 0) {
			cl->have += (size_t)n;
			rc = process_buffer(s, cl);
			if (rc < 0)
				return rc;
			continue;
		}
		/* nothing more for now (or the end): answer what was collected */
		rc = flush_group(s, cl);
		if (n == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		return rc;
	}
}

static void *ctl_main(void *arg)
{
	struct dp_state *s = arg;
	struct dp_ctl *c = s->ctl;

	while (!c->stop && !__atomic_load_n(&s->quit, __ATOMIC_RELAXED)) {
		struct pollfd pf[MAX_CLIENTS + 1];
		int map[MAX_CLIENTS + 1];
		int n = 0;

		pf[n].fd = c->lfd;
		pf[n].events = POLLIN;
		map[n++] = -1;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (!c->cl[i])
				continue;
			pf[n].fd = c->cl[i]->fd;
			pf[n].events = POLLIN;
			map[n++] = i;
		}
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			int slot = -1;
			for (int i = 0; i < MAX_CLIENTS && fd >= 0; i++)
				if (!c->cl[i]) {
					slot = i;
					break;
				}
			if (fd >= 0 && slot < 0) {
				log_warn("control: more than %d clients; refusing one",
				         MAX_CLIENTS);
				close(fd);
			} else if (fd >= 0) {
				c->cl[slot] = calloc(1, sizeof(struct client));
				if (!c->cl[slot])
					close(fd);
				else
					c->cl[slot]->fd = fd;
			}
		}
		for (int k = 1; k < n; k++) {
			int i = map[k];
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)) || !c->cl[i])
				continue;
			if (client_read(s, c->cl[i]) < 0)
				drop_client(c, i);
		}
	}
	return NULL;
}

int dp_ctl_start(struct dp_state *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct dp_ctl *c;
	int rc;

	if (strlen(s->opts.socket_path) >= sizeof(sa.sun_path)) {
		log_err("control socket path %s is longer than %zu bytes", s->opts.socket_path,
		        sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->path, sizeof(c->path), "%s", s->opts.socket_path);
	strcpy(sa.sun_path, c->path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0) {
		rc = -errno;
		free(c);
		return rc;
	}
	/* a stale socket of an earlier run would make bind fail; a live one means another
	 * tidal-dp owns the path */
	if (connect(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_err("control socket %s is in use by another process", c->path);
		close(c->lfd);
		free(c);
		return -EADDRINUSE;
	}
	close(c->lfd);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlink(c->path);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(c->path, 0660) < 0 || listen(c->lfd, 8) < 0) {
		rc = -errno;
		log_err("control socket %s: %s", c->path, strerror(-rc));
		if (c->lfd >= 0)
			close(c->lfd);
		free(c);
		return rc;
	}
	s->ctl = c;
	rc = rte_ctrl_thread_create(&c->thread, "tidal-dp-ctl", NULL, ctl_main, s);
	if (rc != 0) {
		log_err("cannot start the control thread: %s", strerror(rc > 0 ? rc : -rc));
		close(c->lfd);
		unlink(c->path);
		free(c);
		s->ctl = NULL;
		return -EAGAIN;
	}
	c->running = true;
	return 0;
}

void dp_ctl_stop(struct dp_state *s)
{
	struct dp_ctl *c = s->ctl;

	if (!c)
		return;
	c->stop = 1;
	if (c->running)
		pthread_join(c->thread, NULL);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (c->cl[i])
			drop_client(c, i);
	close(c->lfd);
	unlink(c->path);
	free(c);
	s->ctl = NULL;
}

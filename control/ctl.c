/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl: the control socket server (protocol in docs/control.md).
 *
 * Owns the listening UNIX socket (created mode 0660, removed on shutdown), the
 * connections and the table of registered commands. Reads newline-delimited JSON
 * requests and answers each with one JSON line. A line longer than CTL_MAX_LINE is
 * refused and the connection closed; a malformed request gets a "usage" error and the
 * connection stays usable. Never blocks: handlers run on the event loop and must be quick.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core_priv.h"
#include "log.h"

#define CTL_MAX_LINE (1u << 20)

struct ctl_cmd {
	char *name;
	char *help;
	ctl_handler_fn fn;
	void *arg;
};

struct ctl_conn {
	struct ctl_server *s;
	struct bufferevent *bev;
	struct ctl_conn *prev, *next;
};

struct ctl_server {
	struct tidald *d;
	struct ctl_conn *conns; /* open connections, freed with the server */
	struct evconnlistener *lis;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_cmd *cmds;
	size_t n_cmds;
};

/* ---- helpers for handlers ------------------------------------------------------------ */

enum ctl_status ctl_fail(struct ctl_reply *rep, enum ctl_status st, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(rep->error);
	rep->error = msg;
	return st;
}

json_t *ctl_table_new(const char *const *columns, size_t n)
{
	json_t *cols = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cols, json_string(columns[i]));
	return json_pack("{s:o,s:[]}", "columns", cols, "rows");
}

void ctl_table_add(json_t *table, const char *const *cells, size_t n)
{
	json_t *row = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(row, json_string(cells[i] ? cells[i] : "-"));
	json_array_append_new(json_object_get(table, "rows"), row);
}

const char *ctl_opt(const struct ctl_request *req, const char *name)
{
	json_t *v = json_object_get(req->opts, name);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "";
	return NULL;
}

const char *ctl_arg(const struct ctl_request *req, size_t i)
{
	return json_string_value(json_array_get(req->args, i));
}

/* ---- registry ---------------------------------------------------------------------- */

int ctl_server_register(struct ctl_server *s, const char *cmd, ctl_handler_fn fn, void *arg,
			const char *help)
{
	for (size_t i = 0; i < s->n_cmds; i++)
		if (strcmp(s->cmds[i].name, cmd) == 0)
			return -EEXIST;
	struct ctl_cmd *n = realloc(s->cmds, (s->n_cmds + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->cmds = n;
	n[s->n_cmds] = (struct ctl_cmd){strdup(cmd), strdup(help ? help : ""), fn, arg};
	s->n_cmds++;
	return 0;
}

static int cmd_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctl_cmd *)a)->name, ((const struct ctl_cmd *)b)->name);
}

static enum ctl_status cmd_help(struct tidald *d, void *arg, const struct ctl_request *req,
				struct ctl_reply *rep)
{
	struct ctl_server *s = arg;
	(void)d, (void)req;
	qsort(s->cmds, s->n_cmds, sizeof(*s->cmds), cmd_cmp);
	static const char *const cols[] = {"command", "description"};
	rep->table = ctl_table_new(cols, 2);
	rep->data = json_array();
	for (size_t i = 0; i < s->n_cmds; i++) {
		const char *row[] = {s->cmds[i].name, s->cmds[i].help};
		ctl_table_add(rep->table, row, 2);
		json_array_append_new(rep->data, json_pack("{s:s,s:s}", "command", s->cmds[i].name,
							   "description", s->cmds[i].help));
	}
	return CTL_OK;
}

static const char *status_code(enum ctl_status st)
{
	switch (st) {
	case CTL_OK:
		return "ok";
	case CTL_REFUSED:
		return "refused";
	case CTL_USAGE:
		return "usage";
	case CTL_NOT_FOUND:
		return "not_found";
	default:
		return "internal";
	}
}

static char *error_line(enum ctl_status st, const char *msg)
{
	json_t *o = json_pack("{s:b,s:s,s:s}", "ok", 0, "code", status_code(st), "error", msg);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *ctl_server_handle_line(struct ctl_server *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr);
	if (!req || !json_is_object(req)) {
		char msg[300];
		snprintf(msg, sizeof(msg), "request is not a JSON object: %s",
			 req ? "wrong type" : jerr.text);
		json_decref(req);
		return error_line(CTL_USAGE, msg);
	}
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *args = json_object_get(req, "args");
	json_t *opts = json_object_get(req, "opts");
	if (!cmd || (args && !json_is_array(args)) || (opts && !json_is_object(opts))) {
		json_decref(req);
		return error_line(CTL_USAGE, "request needs \"cmd\" (string), optional \"args\" "
					     "(array) and \"opts\" (object)");
	}
	struct ctl_cmd *c = NULL;
	for (size_t i = 0; i < s->n_cmds; i++)
		if (strcmp(s->cmds[i].name, cmd) == 0)
			c = &s->cmds[i];
	if (!c) {
		char msg[300];
		snprintf(msg, sizeof(msg), "unknown command '%s'; 'tidalctl help' lists them", cmd);
		json_decref(req);
		return error_line(CTL_USAGE, msg);
	}

	json_t *own_args = args ? json_incref(args) : json_array();
	json_t *own_opts = opts ? json_incref(opts) : json_object();
	struct ctl_request r = {cmd, own_args, own_opts};
	struct ctl_reply rep = {0};
	enum ctl_status st = c->fn(s->d, c->arg, &r, &rep);

	char *out;
	if (st == CTL_OK) {
		json_t *o = json_pack("{s:b}", "ok", 1);
		json_object_set_new(o, "data", rep.data ? rep.data : json_null());
		if (rep.table)
			json_object_set_new(o, "table", rep.table);
		if (rep.text)
			json_object_set_new(o, "text", json_string(rep.text));
		if (rep.poll)
			json_object_set_new(o, "poll", rep.poll);
		out = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	} else {
		out = error_line(st, rep.error ? rep.error : "request failed");
		json_decref(rep.data);
		json_decref(rep.table);
		json_decref(rep.poll);
	}
	free(rep.text);
	free(rep.error);
	json_decref(own_args);
	json_decref(own_opts);
	json_decref(req);
	return out;
}

/* ---- connections --------------------------------------------------------------------- */

static void conn_free(struct ctl_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
}

static void conn_close_when_flushed(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(arg);
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		char *resp = ctl_server_handle_line(c->s, line, n);
		free(line);
		if (resp) {
			evbuffer_add(out, resp, strlen(resp));
			free(resp);
		}
		evbuffer_add(out, "\n", 1);
	}
	if (evbuffer_get_length(in) > CTL_MAX_LINE) {
		log_warn("control socket: request longer than %u bytes; closing the connection",
			 CTL_MAX_LINE);
		char *resp = error_line(CTL_USAGE, "request line too long");
		evbuffer_add(out, resp, strlen(resp));
		evbuffer_add(out, "\n", 1);
		free(resp);
		bufferevent_disable(bev, EV_READ);
		bufferevent_setcb(bev, NULL, conn_close_when_flushed, NULL, c);
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_server *s = arg;
	(void)sa, (void)salen;
	struct ctl_conn *c = calloc(1, sizeof(*c));
	struct bufferevent *bev =
		bufferevent_socket_new(evconnlistener_get_base(lis), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev || !c) {
		free(c);
		if (bev)
			bufferevent_free(bev);
		else
			evutil_closesocket(fd);
		return;
	}
	c->s = s;
	c->bev = bev;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	bufferevent_setcb(bev, conn_read, NULL, conn_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_accept_error(struct evconnlistener *lis, void *arg)
{
	(void)lis, (void)arg;
	log_warn("control socket: accept failed: %s", strerror(errno));
}

/* A socket file left by a daemon that died is removed; one that answers belongs to a
 * running daemon and is left alone. */
static int claim_path(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	int e = errno;
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	if (e == ECONNREFUSED)
		unlink(path);
	return 0;
}

struct ctl_server *ctl_server_new(struct tidald *d, struct event_base *base, const char *path)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->d = d;
	if (strlen(path) >= sizeof(s->path)) {
		log_err("control.socket %s is longer than %zu bytes", path, sizeof(s->path) - 1);
		free(s);
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (claim_path(path) == -EADDRINUSE) {
		log_err("control socket %s is in use by another process; is another tidald "
			"running with this config?",
			path);
		free(s);
		return NULL;
	}

	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	mode_t old = umask(0117); /* socket file mode 0660 */
	s->lis = evconnlistener_new_bind(base, on_accept, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
					 (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (!s->lis) {
		log_err("cannot listen on control socket %s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	chmod(path, 0660);
	evconnlistener_set_error_cb(s->lis, on_accept_error);
	ctl_server_register(s, "help", cmd_help, s, "list the commands this tidald serves");
	return s;
}

void ctl_server_free(struct ctl_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	if (s->lis) {
		evconnlistener_free(s->lis);
		unlink(s->path);
	}
	for (size_t i = 0; i < s->n_cmds; i++) {
		free(s->cmds[i].name);
		free(s->cmds[i].help);
	}
	free(s->cmds);
	free(s);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: the metrics endpoint, GET /metrics in Prometheus text format, served by evhttp.
 *
 * Owns the evhttp server. Every scrape builds the text afresh from the core and the
 * modules; nothing is cached, so a scrape always sees the current state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core_priv.h"
#include "log.h"
#include "metrics.h"

struct metrics_http {
	struct tidald *d;
	struct evhttp *http;
};

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "only GET /metrics");
		return;
	}
	struct metrics_writer *w = metrics_writer_new();
	if (!w) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	tidald_collect_metrics(h->d, w);
	size_t len;
	const char *text = metrics_writer_text(w, &len);
	struct evbuffer *body = evbuffer_new();
	evbuffer_add(body, text, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
	metrics_writer_free(w);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *uri = evhttp_request_get_uri(req);
	if (uri && strcmp(uri, "/") == 0) {
		struct evbuffer *body = evbuffer_new();
		evbuffer_add_printf(body, "tidald %s: metrics at /metrics\n", TIDAL_VERSION);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "text/plain; charset=utf-8");
		evhttp_send_reply(req, 200, "OK", body);
		evbuffer_free(body);
		return;
	}
	evhttp_send_error(req, 404, "not found; metrics are at /metrics");
}

struct metrics_http *metrics_http_new(struct tidald *d, struct event_base *base,
				      const struct cfg_hostport *listen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->d = d;
	h->http = evhttp_new(base);
	if (!h->http) {
		free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_cb(h->http, "/metrics", on_metrics, h);
	evhttp_set_gencb(h->http, on_other, h);
	evhttp_set_timeout(h->http, 10);
	if (!evhttp_bind_socket_with_handle(h->http, listen->host, listen->port)) {
		log_err("cannot listen for metrics on %s:%u: %s; change control.metrics_listen",
			listen->host, listen->port, strerror(errno));
		evhttp_free(h->http);
		free(h);
		return NULL;
	}
	log_info("metrics at http://%s%s%s:%u/metrics", strchr(listen->host, ':') ? "[" : "",
		 listen->host, strchr(listen->host, ':') ? "]" : "", listen->port);
	return h;
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	evhttp_free(h->http);
	free(h);
}

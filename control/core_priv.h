/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_priv: what the daemon core's own files (core.c, ctl.c, http.c, status.c, main.c)
 * share. Modules use tidald.h, ctl.h and metrics.h only.
 */
#ifndef TIDAL_CONTROL_CORE_PRIV_H
#define TIDAL_CONTROL_CORE_PRIV_H

#include <stdbool.h>

#include "cfg.h"
#include "ctl.h"
#include "tidald.h"

struct ctl_server;
struct metrics_http;

/* --- modules.c -------------------------------------------------------------------- */
extern const struct tidald_module_ops *const tidald_modules[];
extern const size_t tidald_n_modules;

/* --- core.c ----------------------------------------------------------------------- */
/* Run a daemon until SIGTERM/SIGINT. Returns the process exit status. `debug` pins the log
 * level at debug whatever control.log_level says. */
int tidald_run(const char *config_path, bool debug);
struct ctl_server *tidald_ctl(struct tidald *d);
/* Re-read the config file. On failure fills *errors (a JSON array of strings, owned by
 * the caller) and returns a negative errno; the running config stays. */
int tidald_reload(struct tidald *d, json_t **errors);
/* Metrics of every started module plus the core's own, in one writer. */
void tidald_collect_metrics(struct tidald *d, struct metrics_writer *w);
/* `show status` fields of every module. */
void tidald_collect_status(struct tidald *d, json_t *status);
/* Names of started modules (JSON array, new reference). */
json_t *tidald_module_names(struct tidald *d);
unsigned tidald_reload_count(struct tidald *d, bool ok);

/* --- ctl.c ------------------------------------------------------------------------ */
struct ctl_server *ctl_server_new(struct tidald *d, struct event_base *base, const char *path);
void ctl_server_free(struct ctl_server *s);
int ctl_server_register(struct ctl_server *s, const char *cmd, ctl_handler_fn fn, void *arg,
			const char *help);
/* Handle one request line; returns the response (malloc'd JSON text without newline). */
char *ctl_server_handle_line(struct ctl_server *s, const char *line, size_t len);

/* --- http.c ----------------------------------------------------------------------- */
struct metrics_http *metrics_http_new(struct tidald *d, struct event_base *base,
				      const struct cfg_hostport *listen);
void metrics_http_free(struct metrics_http *h);

/* --- status.c: the core's own module (status, links, apps, reload, help) ------------ */
extern const struct tidald_module_ops tidald_status_module;
/* Register placeholders for commands no module provided (called after all starts). */
void tidald_status_register_fallbacks(struct tidald *d);

#endif

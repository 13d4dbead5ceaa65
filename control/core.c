/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core: the life of one tidald process.
 *
 * Owns the event base, the running config, the pid file (locked for the daemon's life so a
 * second tidald on the same state_dir is refused), the signal events, the control socket
 * server, the metrics HTTP server and the list of started modules. Reload swaps the config
 * only when the new file is entirely valid. Must never exit() from inside the loop: stop
 * requests end event_base_dispatch and the caller unwinds in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core_priv.h"
#include "log.h"
#include "metrics.h"

struct module_slot {
	const struct tidald_module_ops *ops;
	void *state;
	bool started;
};

struct tidald {
	struct event_base *base;
	struct tidal_cfg *cfg;
	char config_path[PATH_MAX];
	struct module_slot *mods;
	size_t n_mods;
	struct event *ev_hup, *ev_term, *ev_int, *ev_pipe;
	struct ctl_server *ctl;
	struct metrics_http *http;
	int64_t started_at;
	char pidfile[PATH_MAX];
	int pid_fd;
	unsigned reloads_ok, reloads_refused;
	bool debug;
};

/* ---- small accessors ---------------------------------------------------------------- */

struct event_base *tidald_base(struct tidald *d)
{
	return d->base;
}

const struct tidal_cfg *tidald_cfg(struct tidald *d)
{
	return d->cfg;
}

int64_t tidald_started_at(struct tidald *d)
{
	return d->started_at;
}

struct ctl_server *tidald_ctl(struct tidald *d)
{
	return d->ctl;
}

unsigned tidald_reload_count(struct tidald *d, bool ok)
{
	return ok ? d->reloads_ok : d->reloads_refused;
}

int64_t tidald_now(void)
{
	return (int64_t)time(NULL);
}

uint64_t tidald_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void *tidald_module_state(struct tidald *d, const char *name)
{
	for (size_t i = 0; i < d->n_mods; i++)
		if (d->mods[i].started && strcmp(d->mods[i].ops->name, name) == 0)
			return d->mods[i].state;
	return NULL;
}

void tidald_emit(struct tidald *d, enum tidald_event ev, const void *data)
{
	for (size_t i = 0; i < d->n_mods; i++)
		if (d->mods[i].started && d->mods[i].ops->event)
			d->mods[i].ops->event(d, d->mods[i].state, ev, data);
}

void tidald_request_stop(struct tidald *d)
{
	event_base_loopexit(d->base, NULL);
}

int ctl_register(struct tidald *d, const char *cmd, ctl_handler_fn fn, void *arg,
		 const char *help)
{
	return ctl_server_register(d->ctl, cmd, fn, arg, help);
}

json_t *tidald_module_names(struct tidald *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->n_mods; i++)
		if (d->mods[i].started)
			json_array_append_new(a, json_string(d->mods[i].ops->name));
	return a;
}

void tidald_collect_status(struct tidald *d, json_t *status)
{
	for (size_t i = 0; i < d->n_mods; i++)
		if (d->mods[i].started && d->mods[i].ops->status)
			d->mods[i].ops->status(d, d->mods[i].state, status);
}

void tidald_collect_metrics(struct tidald *d, struct metrics_writer *w)
{
	for (size_t i = 0; i < d->n_mods; i++)
		if (d->mods[i].started && d->mods[i].ops->metrics)
			d->mods[i].ops->metrics(d, d->mods[i].state, w);
}

/* ---- files and folders -------------------------------------------------------------- */

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_p(dir, 0755);
}

/* The pid file stays locked (flock) while the daemon runs: a second tidald for the same
 * state_dir finds the lock taken and refuses to start, naming the running pid. */
static int pidfile_open(struct tidald *d)
{
	const struct tidal_cfg *cfg = d->cfg;
	snprintf(d->pidfile, sizeof(d->pidfile), "%s/tidald.pid", cfg->region.state_dir);
	int fd = open(d->pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		log_err("cannot open pid file %s: %s; check that state_dir is writable",
			d->pidfile, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char buf[32] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_err("another tidald (pid %s) already runs with state_dir %s; stop it first",
			buf[0] ? buf : "?", cfg->region.state_dir);
		close(fd);
		d->pidfile[0] = '\0';
		return -EBUSY;
	}
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		int e = errno;
		log_err("cannot write pid file %s: %s", d->pidfile, strerror(e));
		close(fd);
		unlink(d->pidfile);
		d->pidfile[0] = '\0';
		return -e;
	}
	d->pid_fd = fd;
	return 0;
}

static void pidfile_close(struct tidald *d)
{
	if (d->pid_fd >= 0) {
		if (d->pidfile[0])
			unlink(d->pidfile);
		close(d->pid_fd);
		d->pid_fd = -1;
	}
}

/* ---- reload ------------------------------------------------------------------------- */

/* Keys the running daemon cannot take over without a restart. */
static const char *restart_only_change(const struct tidal_cfg *a, const struct tidal_cfg *b)
{
	if (strcmp(a->region.name, b->region.name) != 0)
		return "region.name";
	if (strcmp(a->region.state_dir, b->region.state_dir) != 0)
		return "region.state_dir";
	if (strcmp(a->control.socket, b->control.socket) != 0)
		return "control.socket";
	if (strcmp(a->control.metrics_listen.host, b->control.metrics_listen.host) != 0 ||
	    a->control.metrics_listen.port != b->control.metrics_listen.port)
		return "control.metrics_listen";
	if (a->dataplane.backend != b->dataplane.backend)
		return "dataplane.backend";
	return NULL;
}

int tidald_reload(struct tidald *d, json_t **errors)
{
	struct cfg_diag diag;
	cfg_diag_init(&diag);
	*errors = NULL;

	log_info("reloading configuration from %s", d->config_path);
	struct tidal_cfg *ncfg = cfg_load(d->config_path, &diag);
	if (!ncfg) {
		json_t *errs = json_array();
		for (size_t i = 0; i < diag.n; i++) {
			log_err("%s", diag.msgs[i]);
			json_array_append_new(errs, json_string(diag.msgs[i]));
		}
		log_err("reload refused: %zu error(s) in %s; the running configuration stays",
			diag.n, d->config_path);
		cfg_diag_free(&diag);
		d->reloads_refused++;
		*errors = errs;
		return -EINVAL;
	}
	cfg_diag_free(&diag);

	const char *key = restart_only_change(d->cfg, ncfg);
	if (key) {
		char msg[CFG_PATH_MAX + 128];
		snprintf(msg, sizeof(msg),
			 "%s: %s changed; this key takes effect only when tidald restarts", ncfg->path,
			 key);
		log_err("reload refused: %s; the running configuration stays", msg);
		*errors = json_pack("[s]", msg);
		cfg_free(ncfg);
		d->reloads_refused++;
		return -EINVAL;
	}

	struct tidal_cfg *old = d->cfg;
	d->cfg = ncfg;
	tlog_set_level(d->debug ? TLOG_DEBUG : ncfg->control.log_level);
	int rc = 0;
	json_t *errs = json_array();
	for (size_t i = 0; i < d->n_mods; i++) {
		struct module_slot *m = &d->mods[i];
		if (!m->started || !m->ops->reload)
			continue;
		int r = m->ops->reload(d, m->state, old);
		if (r < 0) {
			char msg[CFG_PATH_MAX + 128];
			snprintf(msg, sizeof(msg), "module %s could not apply the new configuration: %s",
				 m->ops->name, strerror(-r));
			log_err("%s", msg);
			json_array_append_new(errs, json_string(msg));
			rc = r;
		}
	}
	tidald_emit(d, TIDALD_EV_CONFIG_RELOADED, old);
	cfg_free(old);
	d->reloads_ok++;
	log_info("configuration reloaded from %s", d->config_path);
	if (json_array_size(errs))
		*errors = errs;
	else
		json_decref(errs);
	return rc;
}

/* ---- signals ------------------------------------------------------------------------ */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct tidald *d = arg;
	(void)what;
	if (sig == SIGHUP) {
		json_t *errs = NULL;
		tidald_reload(d, &errs);
		json_decref(errs);
		return;
	}
	log_info("received %s; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	tidald_request_stop(d);
}

/* ---- life ------------------------------------------------------------------------- */

static void stop_modules(struct tidald *d)
{
	for (size_t i = d->n_mods; i-- > 0;) {
		struct module_slot *m = &d->mods[i];
		if (m->started && m->ops->stop)
			m->ops->stop(d, m->state);
		m->started = false;
	}
}

static void tidald_free(struct tidald *d)
{
	if (!d)
		return;
	stop_modules(d);
	metrics_http_free(d->http);
	ctl_server_free(d->ctl);
	struct event *evs[] = {d->ev_hup, d->ev_term, d->ev_int, d->ev_pipe};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	pidfile_close(d);
	if (d->base)
		event_base_free(d->base);
	cfg_free(d->cfg);
	free(d->mods);
	free(d);
}

static void ignore_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what, (void)arg;
}

static int tidald_start(struct tidald *d)
{
	const struct tidal_cfg *cfg = d->cfg;
	int rc;

	rc = mkdir_p(cfg->region.state_dir, 0750);
	if (rc < 0) {
		log_err("cannot create state_dir %s: %s", cfg->region.state_dir, strerror(-rc));
		return rc;
	}
	if ((rc = pidfile_open(d)) < 0)
		return rc;
	rc = mkdir_parent(cfg->control.socket);
	if (rc < 0) {
		log_err("cannot create the folder of control.socket %s: %s", cfg->control.socket,
			strerror(-rc));
		return rc;
	}

	d->base = event_base_new();
	if (!d->base) {
		log_err("cannot create the event loop");
		return -ENOMEM;
	}
	d->ev_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->ev_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->ev_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->ev_pipe = evsignal_new(d->base, SIGPIPE, ignore_signal, d);
	if (!d->ev_hup || !d->ev_term || !d->ev_int || !d->ev_pipe ||
	    evsignal_add(d->ev_hup, NULL) || evsignal_add(d->ev_term, NULL) ||
	    evsignal_add(d->ev_int, NULL) || evsignal_add(d->ev_pipe, NULL)) {
		log_err("cannot install signal handlers");
		return -ENOMEM;
	}

	d->ctl = ctl_server_new(d, d->base, cfg->control.socket);
	if (!d->ctl)
		return -EADDRINUSE;
	if (cfg->control.metrics_listen.port) {
		d->http = metrics_http_new(d, d->base, &cfg->control.metrics_listen);
		if (!d->http)
			return -EADDRINUSE;
	}

	d->mods = calloc(tidald_n_modules, sizeof(*d->mods));
	if (!d->mods)
		return -ENOMEM;
	d->n_mods = tidald_n_modules;
	for (size_t i = 0; i < d->n_mods; i++) {
		struct module_slot *m = &d->mods[i];
		m->ops = tidald_modules[i];
		if (!m->ops->start) {
			m->started = true;
			continue;
		}
		rc = m->ops->start(d, &m->state);
		if (rc < 0) {
			log_err("module %s failed to start (%s); stopping", m->ops->name,
				strerror(-rc));
			return rc;
		}
		m->started = true;
		log_debug("module %s started", m->ops->name);
	}
	tidald_status_register_fallbacks(d);
	return 0;
}

int tidald_run(const char *config_path, bool debug)
{
	struct cfg_diag diag;
	cfg_diag_init(&diag);
	struct tidal_cfg *cfg = cfg_load(config_path, &diag);
	if (!cfg) {
		cfg_diag_print(&diag, stderr);
		log_err("%zu error(s) in %s; tidald not started", diag.n, config_path);
		cfg_diag_free(&diag);
		return 1;
	}
	cfg_diag_free(&diag);
	tlog_set_level(debug ? TLOG_DEBUG : cfg->control.log_level);

	struct tidald *d = calloc(1, sizeof(*d));
	if (!d) {
		cfg_free(cfg);
		return 1;
	}
	d->cfg = cfg;
	d->pid_fd = -1;
	d->debug = debug;
	d->started_at = tidald_now();
	snprintf(d->config_path, sizeof(d->config_path), "%s", cfg->path);

	int rc = tidald_start(d);
	if (rc == 0) {
		log_info("tidald %s for region %s (AS%u) running; control socket %s", TIDAL_VERSION,
			 cfg->region.name, cfg->region.asn, cfg->control.socket);
		event_base_dispatch(d->base);
		log_info("stopping");
	}
	tidald_free(d);
	if (rc == 0)
		log_info("stopped cleanly");
	return rc == 0 ? 0 : 1;
}

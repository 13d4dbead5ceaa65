/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: the tidald module that reads per-class counters from the dataplane backend
 * ([dataplane] backend: bpf or dpdk), turns them into rates every [forecast]
 * sample_interval, announces each sample (TIDALD_EV_RATES_SAMPLED, which the history
 * module records as demand) and passes enforced rates down (collector_set_rate,
 * `tidalctl rate set`). Commands and metrics are in collector_ctl.c.
 *
 * Owns the backend handle and the counter state. On stop the backend is closed keeping
 * enforcement when [dataplane] keep_pacing is on (the default): leased rates stay
 * enforced while tidald restarts, and the next tidald adopts counters and rates. Never
 * blocks the event loop beyond one backend read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "collector_int.h"
#include "log.h"

#if defined(TIDAL_HAVE_COLL_BPF)
#define BACKEND_BPF (&coll_backend_bpf)
#else
#define BACKEND_BPF NULL
#endif
#if defined(TIDAL_HAVE_COLL_DPDK)
#define BACKEND_DPDK (&coll_backend_dpdk)
#else
#define BACKEND_DPDK NULL
#endif

const char *collector_class_name(const struct collector *c, uint32_t class_id)
{
	if (class_id == 0)
		return "unmatched";
	if (class_id <= c->n_apps)
		return c->names[class_id];
	return NULL;
}

long collector_class_of(const struct collector *c, const char *name)
{
	if (!strcmp(name, "unmatched"))
		return 0;
	for (size_t i = 1; i <= c->n_apps; i++)
		if (!strcmp(c->names[i], name))
			return (long)i;
	return -1;
}

int collector_read(struct collector *c)
{
	struct coll_counter *cnt = NULL;
	size_t n = 0;
	int err;

	if (!c->ops)
		return 0;
	err = c->ops->read(c->be, &cnt, &n);
	if (!err)
		err = coll_state_update(&c->st, cnt, n);
	free(cnt);
	if (err) {
		c->read_errors++;
		log_err("collector: reading the %s counters failed: %s", c->ops->name,
			strerror(-err));
	}
	return err;
}

/* Class identity and enforced rates for the apps of cfg; rates carry over by app name. */
static int set_apps(struct collector *c, const struct tidal_cfg *cfg)
{
	size_t n = cfg->n_apps;
	char(*names)[CFG_NAME_MAX] = calloc(n + 1, sizeof(*names));
	uint64_t *rate = calloc(n + 1, sizeof(*rate));
	bool *has = calloc(n + 1, sizeof(*has));
	struct coll_rate *rates = calloc(n + 1, sizeof(*rates));

	if (!names || !rate || !has || !rates) {
		free(names);
		free(rate);
		free(has);
		free(rates);
		return -ENOMEM;
	}
	for (size_t i = 1; i <= n; i++) {
		long old;

		snprintf(names[i], CFG_NAME_MAX, "%s", cfg->apps[i - 1].name);
		old = c->names ? collector_class_of(c, names[i]) : -1;
		if (old > 0 && c->has_rate[old]) {
			has[i] = true;
			rate[i] = c->rate[old];
		}
	}
	for (size_t i = 0; i <= n; i++) {
		rates[i].class_id = (uint32_t)i;
		rates[i].app = i ? names[i] : NULL;
	}
	free(c->names);
	free(c->rate);
	free(c->has_rate);
	free(c->rates);
	c->names = names;
	c->rate = rate;
	c->has_rate = has;
	c->rates = rates;
	c->n_apps = n;
	return 0;
}

static void sample(struct collector *c)
{
	uint64_t now = tidald_mono_ns();
	double dt = c->sampled ? (double)(now - c->last_mono_ns) / 1e9 : 0;
	struct coll_sample smp;

	if (collector_read(c))
		return;
	coll_state_sample(&c->st, dt);
	c->last_mono_ns = now;
	c->last_at_s = tidald_now();
	if (!c->sampled) { /* the first read only sets the baseline */
		c->sampled = true;
		return;
	}
	c->samples++;
	for (size_t i = 0; i <= c->n_apps; i++) {
		memset(c->rates[i].bps, 0, sizeof(c->rates[i].bps));
		memset(c->rates[i].pps, 0, sizeof(c->rates[i].pps));
		memset(c->rates[i].drop_pps, 0, sizeof(c->rates[i].drop_pps));
	}
	for (size_t i = 0; i < c->st.n; i++) {
		const struct coll_entry *e = &c->st.e[i];

		if (e->class_id > c->n_apps || !e->have_rate)
			continue;
		c->rates[e->class_id].bps[e->dir] += e->rate[COLL_BYTES] * 8;
		c->rates[e->class_id].pps[e->dir] += e->rate[COLL_PKT];
		c->rates[e->class_id].drop_pps[e->dir] += e->rate[COLL_DROPS];
	}
	smp.at_s = c->last_at_s;
	smp.interval_s = dt;
	smp.n = c->n_apps + 1;
	smp.rates = c->rates;
	tidald_emit(c->d, TIDALD_EV_RATES_SAMPLED, &smp);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	sample(arg);
}

static int arm_timer(struct collector *c, uint64_t interval_ms)
{
	struct timeval tv = {.tv_sec = (time_t)(interval_ms / 1000),
			     .tv_usec = (suseconds_t)(interval_ms % 1000) * 1000};

	if (!c->timer) {
		c->timer = event_new(tidald_base(c->d), -1, EV_PERSIST, on_timer, c);
		if (!c->timer)
			return -ENOMEM;
	}
	c->interval_ms = interval_ms;
	return event_add(c->timer, &tv) ? -EIO : 0;
}

static void collector_stop(struct tidald *d, void *state)
{
	struct collector *c = state;

	if (!c)
		return;
	if (c->timer)
		event_free(c->timer);
	if (c->ops) {
		bool keep = tidald_cfg(d)->dataplane.keep_pacing;

		c->ops->close(c->be, keep);
		log_info("collector: %s backend closed%s", c->ops->name,
			 keep ? ", rate enforcement left in place (dataplane.keep_pacing)" : "");
	}
	coll_state_free(&c->st);
	free(c->names);
	free(c->rate);
	free(c->has_rate);
	free(c->rates);
	free(c);
}

static int collector_start(struct tidald *d, void **state)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct collector *c = calloc(1, sizeof(*c));
	int err = 0;

	*state = NULL;
	if (!c)
		return -ENOMEM;
	c->d = d;
	switch (cfg->dataplane.backend) {
	case CFG_BACKEND_BPF:
		c->ops = BACKEND_BPF;
		break;
	case CFG_BACKEND_DPDK:
		c->ops = BACKEND_DPDK;
		break;
	default:
		break;
	}
	if (cfg->dataplane.backend != CFG_BACKEND_NONE && !c->ops) {
		log_err("collector: dataplane.backend = %s, but this tidald was built without "
			"it (rebuild with its dependencies, or set backend = none)",
			cfg_backend_name(cfg->dataplane.backend));
		err = -ENOTSUP;
		goto fail;
	}
	if ((err = set_apps(c, cfg)))
		goto fail;
	if (c->ops) {
		err = c->ops->open(cfg, &c->be);
		if (err) {
			log_err("collector: starting the %s backend failed: %s", c->ops->name,
				strerror(-err));
			c->ops = NULL; /* nothing to close */
			goto fail;
		}
		sample(c); /* baseline */
		if ((err = arm_timer(c, cfg->forecast.sample_interval_ms)))
			goto fail;
	}
	collector_register_commands(c);
	*state = c;
	return 0;
fail:
	/* The core does not stop a module whose start failed. */
	collector_stop(d, c);
	return err;
}

static int collector_reload(struct tidald *d, void *state, const struct tidal_cfg *old)
{
	const struct tidal_cfg *cfg = tidald_cfg(d);
	struct collector *c = state;
	size_t max_id;
	int err = 0;

	(void)old;
	if (!c->ops)
		return set_apps(c, cfg);
	/* Count what arrived so far under the classes as they were. */
	collector_read(c);
	err = c->ops->apply_config(c->be, cfg);
	if (err)
		log_err("collector: applying the new config to the %s backend: %s", c->ops->name,
			strerror(-err));
	/* A class id that now belongs to another app starts its totals afresh. */
	max_id = c->n_apps > cfg->n_apps ? c->n_apps : cfg->n_apps;
	for (size_t id = 1; id <= max_id; id++)
		if (id > c->n_apps || id > cfg->n_apps ||
		    strcmp(c->names[id], cfg->apps[id - 1].name) != 0)
			coll_state_forget_class(&c->st, (uint32_t)id);
	if (set_apps(c, cfg))
		return -ENOMEM;
	for (size_t id = 1; id <= c->n_apps; id++) {
		int e;

		if (c->has_rate[id] && (e = c->ops->set_rate(c->be, NULL, (uint32_t)id, c->rate[id])))
			err = err ? err : e;
	}
	if (cfg->forecast.sample_interval_ms != c->interval_ms) {
		int e = arm_timer(c, cfg->forecast.sample_interval_ms);

		err = err ? err : e;
	}
	return err;
}

static void collector_status(struct tidald *d, void *state, json_t *status)
{
	struct collector *c = state;
	char at[32];

	(void)d;
	if (c->sampled)
		cfg_fmt_time(c->last_at_s, at, sizeof(at));
	json_object_set_new(
		status, "collector",
		json_pack("{s:s,s:I,s:I,s:I,s:I,s:s?}", "backend",
			  c->ops ? c->ops->name : "none", "classes", (json_int_t)c->n_apps + 1,
			  "samples", (json_int_t)c->samples, "read_errors",
			  (json_int_t)c->read_errors, "counter_restarts", (json_int_t)c->st.resets,
			  "last_sample", c->sampled ? at : NULL));
}

int collector_set_rate(struct tidald *d, const char *app, uint64_t bps)
{
	struct collector *c = tidald_module_state(d, "collector");
	long id;
	int err;

	if (!c || !c->ops)
		return -ENOTSUP;
	id = collector_class_of(c, app);
	if (id <= 0)
		return -ENOENT;
	err = c->ops->set_rate(c->be, NULL, (uint32_t)id, bps);
	if (err) {
		log_err("collector: enforcing %llu bit/s for %s: %s", (unsigned long long)bps, app,
			strerror(-err));
		return err;
	}
	c->rate[id] = bps;
	c->has_rate[id] = true;
	log_info("collector: %s now enforced at %llu bit/s%s", app, (unsigned long long)bps,
		 bps ? "" : " (unlimited)");
	return 0;
}

double collector_rate_bps(struct tidald *d, const char *app, enum coll_dir dir)
{
	struct collector *c = tidald_module_state(d, "collector");
	long id;

	if (!c || !c->sampled || c->samples == 0 || (dir != COLL_DIR_IN && dir != COLL_DIR_OUT))
		return -1;
	id = collector_class_of(c, app);
	if (id < 0)
		return -1;
	return c->rates[id].bps[dir];
}

const struct tidald_module_ops tidald_collector_module = {
	.name = "collector",
	.start = collector_start,
	.reload = collector_reload,
	.stop = collector_stop,
	.metrics = collector_metrics,
	.status = collector_status,
};

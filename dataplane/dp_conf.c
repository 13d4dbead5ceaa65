/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_conf: tidal-dp's own config file (docs/dataplane.md, "Configuration").
 *
 *   [dataplane]      scheduler dimensions, queue sizes, default bursts, pool sizes
 *   [subport.N]      name and initial rate of subport N (a peer region)
 *
 * Values use the units of config/units.h (10G, 10ms, ...). Every problem is printed as
 * FILE:LINE: section.key: message and the whole file is rejected; nothing is half-loaded.
 * Classes and lease rates are not here: tidald installs them over the control socket.
 */
#include <ctype.h>
#include <errno.h>
#include <iniparser.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dp_internal.h"
#include "log.h"

struct loader {
	const char *path;
	dictionary *d;
	int errors;
};

/* Line of "key" inside "[section]" (or of the section header when key is NULL), 0 when
 * not found. iniparser keeps no line numbers, so the file is scanned again. */
static int find_line(const char *path, const char *section, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0, found = 0;
	bool in = false;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		n++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '[') {
			char *e = strchr(p, ']');
			in = e && (size_t)(e - p - 1) == strlen(section) &&
			     strncasecmp(p + 1, section, strlen(section)) == 0;
			if (in && !key) {
				found = n;
				break;
			}
			continue;
		}
		if (in && key && strncasecmp(p, key, strlen(key)) == 0) {
			char *q = p + strlen(key);
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=' || *q == ':') {
				found = n;
				break;
			}
		}
	}
	fclose(f);
	return found;
}

static void conf_err(struct loader *l, const char *section, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void conf_err(struct loader *l, const char *section, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s:%d: %s%s%s: %s", l->path, find_line(l->path, section, key), section,
	        key ? "." : "", key ? key : "", msg);
	l->errors++;
}

static const char *get(struct loader *l, const char *section, const char *key)
{
	char full[256];

	snprintf(full, sizeof(full), "%s:%s", section, key);
	return iniparser_getstring(l->d, full, NULL);
}

static void get_bps(struct loader *l, const char *sec, const char *key, uint64_t *out)
{
	const char *v = get(l, sec, key), *why = NULL;

	if (v && cfg_parse_bps(v, out, &why) < 0)
		conf_err(l, sec, key, "'%s': %s", v, why ? why : "not a bit rate");
}

static void get_ms(struct loader *l, const char *sec, const char *key, uint32_t *out,
                   uint32_t min_ms, uint32_t max_ms)
{
	const char *v = get(l, sec, key), *why = NULL;
	uint64_t ms;

	if (!v)
		return;
	if (cfg_parse_duration(v, &ms, &why) < 0) {
		conf_err(l, sec, key, "'%s': %s", v, why ? why : "not a duration");
		return;
	}
	if (ms < min_ms || ms > max_ms) {
		conf_err(l, sec, key, "'%s' outside %ums..%ums", v, min_ms, max_ms);
		return;
	}
	*out = (uint32_t)ms;
}

static void get_uint(struct loader *l, const char *sec, const char *key, uint32_t *out,
                     uint64_t min, uint64_t max, bool pow2)
{
	const char *v = get(l, sec, key), *why = NULL;
	uint64_t x;

	if (!v)
		return;
	if (cfg_parse_uint(v, min, max, &x, &why) < 0) {
		conf_err(l, sec, key, "'%s': %s", v, why ? why : "not a number in range");
		return;
	}
	if (pow2 && (x & (x - 1))) {
		conf_err(l, sec, key, "'%s' must be a power of two", v);
		return;
	}
	*out = (uint32_t)x;
}

static void get_bytes(struct loader *l, const char *sec, const char *key, uint32_t *out,
                      uint64_t min, uint64_t max)
{
	const char *v = get(l, sec, key), *why = NULL;
	uint64_t x;

	if (!v)
		return;
	if (cfg_parse_bytes(v, &x, &why) < 0) {
		conf_err(l, sec, key, "'%s': %s", v, why ? why : "not a byte count");
		return;
	}
	if (x < min || x > max) {
		conf_err(l, sec, key, "'%s' outside %llu..%llu bytes", v, (unsigned long long)min,
		         (unsigned long long)max);
		return;
	}
	*out = (uint32_t)x;
}

/* "64" or 13 values "64 64 ... 64" (one per traffic class) */
static void get_qsizes(struct loader *l, uint16_t *qsize)
{
	const char *v = get(l, "dataplane", "queue_size");
	char buf[256], *save = NULL, *tok;
	uint32_t vals[DP_N_TC];
	unsigned n = 0;

	if (!v)
		return;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		uint64_t x;
		const char *why = NULL;
		if (n == DP_N_TC) {
			n++;
			break;
		}
		if (cfg_parse_uint(tok, 2, 4096, &x, &why) < 0 || (x & (x - 1))) {
			conf_err(l, "dataplane", "queue_size",
			         "'%s': each size must be a power of two in 2..4096", tok);
			return;
		}
		vals[n++] = (uint32_t)x;
	}
	if (n != 1 && n != DP_N_TC) {
		conf_err(l, "dataplane", "queue_size",
		         "give one size or 13 (one per traffic class)");
		return;
	}
	for (unsigned i = 0; i < DP_N_TC; i++)
		qsize[i] = (uint16_t)(n == 1 ? vals[0] : vals[i]);
}

static const char *const dataplane_keys[] = {
        "rate",
        "frame_overhead",
        "mtu",
        "subports",
        "pipes",
        "queue_size",
        "tc_period",
        "pipe_burst",
        "pipe_profiles",
        "subport_profiles",
        "classes",
        "prefixes",
        "prefixes6",
        "mbufs",
        "burst",
        "enqueue_burst",
        "ring_size",
        "idle_sleep",
        "stats_interval",
        "realtime",
        "be_oversubscription",
        NULL,
};
static const char *const subport_keys[] = {"name", "rate", NULL};

static void check_keys(struct loader *l, const char *sec, const char *const *known)
{
	int n = iniparser_getsecnkeys(l->d, sec);
	const char **keys;

	if (n <= 0)
		return;
	keys = calloc((size_t)n, sizeof(*keys));
	if (!keys || !iniparser_getseckeys(l->d, sec, keys)) {
		free(keys);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *k = strchr(keys[i], ':');
		bool ok = false;
		k = k ? k + 1 : keys[i];
		for (const char *const *q = known; *q; q++)
			ok |= strcmp(*q, k) == 0;
		if (!ok)
			conf_err(l, sec, k, "unknown key");
	}
	free(keys);
}

static void defaults(struct dp_conf *c)
{
	c->rate_bps = 0;
	c->frame_overhead = RTE_SCHED_FRAME_OVERHEAD_DEFAULT;
	c->mtu = 1514;
	c->n_subports = 1;
	c->n_pipes = 4096;
	for (unsigned i = 0; i < DP_N_TC; i++)
		c->qsize[i] = 64;
	c->tc_period_ms = 10;
	c->pipe_burst_ms = 10;
	c->max_pipe_profiles = 1024;
	c->max_subport_profiles = 64;
	c->max_classes = 4096;
	c->max_prefixes = 4096;
	c->max_prefixes6 = 1024;
	c->mbufs = 65535;
	c->burst = 32;
	c->ring_size = 4096;
	c->idle_sleep_us = 0;
	c->stats_fold_ms = 100;
}

int dp_conf_load(const char *path, struct dp_conf *c)
{
	struct loader l = {.path = path};
	int nsec;

	memset(c, 0, sizeof(*c));
	defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", path ? path : "");
	if (path) {
		FILE *f = fopen(path, "r");
		if (!f) {
			log_err("%s: cannot read the config file: %s", path, strerror(errno));
			return -errno;
		}
		fclose(f);
		l.d = iniparser_load(path);
		if (!l.d) {
			log_err("%s: not a valid INI file", path);
			return -EINVAL;
		}
	}

	if (l.d) {
		const char *s = "dataplane";
		const char *v;
		check_keys(&l, s, dataplane_keys);
		get_bps(&l, s, "rate", &c->rate_bps);
		get_bytes(&l, s, "frame_overhead", &c->frame_overhead, 0, 64);
		get_bytes(&l, s, "mtu", &c->mtu, 64, 9216);
		get_uint(&l, s, "subports", &c->n_subports, 1, 256, true);
		get_uint(&l, s, "pipes", &c->n_pipes, 1, 65536, true);
		get_qsizes(&l, c->qsize);
		get_ms(&l, s, "tc_period", &c->tc_period_ms, 1, 1000);
		get_ms(&l, s, "pipe_burst", &c->pipe_burst_ms, 1, 1000);
		get_uint(&l, s, "pipe_profiles", &c->max_pipe_profiles, 2, 65536, false);
		get_uint(&l, s, "subport_profiles", &c->max_subport_profiles, 2, 4096, false);
		get_uint(&l, s, "classes", &c->max_classes, 2, 1u << 20, false);
		get_uint(&l, s, "prefixes", &c->max_prefixes, 16, 1u << 20, false);
		get_uint(&l, s, "prefixes6", &c->max_prefixes6, 16, 1u << 16, false);
		get_uint(&l, s, "mbufs", &c->mbufs, 1024, 1u << 24, false);
		get_uint(&l, s, "burst", &c->burst, 1, DP_MAX_BURST, false);
		get_uint(&l, s, "enqueue_burst", &c->enq_burst, 1, DP_MAX_BURST, false);
		get_uint(&l, s, "ring_size", &c->ring_size, 64, 1u << 20, true);
		v = get(&l, s, "idle_sleep");
		if (v) {
			const char *why = NULL;
			uint64_t ms;
			/* microseconds are allowed here: "100us" */
			size_t n = strlen(v);
			if (n > 2 && strcmp(v + n - 2, "us") == 0) {
				uint64_t us;
				char num[32];
				snprintf(num, sizeof(num), "%.*s", (int)(n - 2), v);
				if (cfg_parse_uint(num, 0, 5000, &us, &why) < 0)
					conf_err(&l, s, "idle_sleep", "'%s': 0us..5000us", v);
				else
					c->idle_sleep_us = (uint32_t)us;
			} else if (cfg_parse_duration(v, &ms, &why) < 0 || ms > 5) {
				/* rte_sched (DPDK 22.11) loses scheduler time when it is not run
				 * for 2^24 TSC cycles (about 6 ms at 2.6 GHz) */
				conf_err(&l, s, "idle_sleep",
				         "'%s': a duration up to 5ms (or NNus)", v);
			} else {
				c->idle_sleep_us = (uint32_t)ms * 1000;
			}
		}
		get_ms(&l, s, "stats_interval", &c->stats_fold_ms, 1, 10000);
		v = get(&l, s, "be_oversubscription");
		if (v) {
			const char *why = NULL;
			if (cfg_parse_bool(v, &c->be_ov, &why) < 0)
				conf_err(&l, s, "be_oversubscription", "'%s': yes or no", v);
		}
		v = get(&l, s, "realtime");
		if (v) {
			const char *why = NULL;
			if (cfg_parse_bool(v, &c->realtime, &why) < 0)
				conf_err(&l, s, "realtime", "'%s': yes or no", v);
			else if (c->realtime && c->idle_sleep_us == 0)
				conf_err(&l, s, "realtime",
				         "needs idle_sleep > 0: a real-time lcore that never "
				         "sleeps is "
				         "throttled by the kernel for 50 ms every second");
		}
	}

	c->subport_rate_bps = calloc(c->n_subports, sizeof(*c->subport_rate_bps));
	c->subport_name = calloc(c->n_subports, sizeof(*c->subport_name));
	if (!c->subport_rate_bps || !c->subport_name) {
		if (l.d)
			iniparser_freedict(l.d);
		dp_conf_free(c);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < c->n_subports; i++)
		snprintf(c->subport_name[i], sizeof(c->subport_name[i]), "subport%u", i);

	nsec = l.d ? iniparser_getnsec(l.d) : 0;
	for (int i = 0; i < nsec; i++) {
		const char *sec = iniparser_getsecname(l.d, i);
		if (strcmp(sec, "dataplane") == 0)
			continue;
		if (strncmp(sec, "subport.", 8) == 0) {
			uint64_t id;
			const char *why = NULL, *name;
			if (cfg_parse_uint(sec + 8, 0, c->n_subports - 1, &id, &why) < 0) {
				conf_err(&l, sec, NULL,
				         "subport number must be 0..%u ([dataplane] subports = %u)",
				         c->n_subports - 1, c->n_subports);
				continue;
			}
			check_keys(&l, sec, subport_keys);
			get_bps(&l, sec, "rate", &c->subport_rate_bps[id]);
			name = get(&l, sec, "name");
			if (name) {
				if (strlen(name) >= sizeof(c->subport_name[0]) || !*name)
					conf_err(&l, sec, "name", "1..63 characters");
				else
					snprintf(c->subport_name[id], sizeof(c->subport_name[id]),
					         "%s", name);
			}
			continue;
		}
		conf_err(&l, sec, NULL, "unknown section (expected [dataplane] or [subport.N])");
	}

	if (c->burst > c->ring_size / 2)
		conf_err(&l, "dataplane", "burst", "must be at most half of ring_size (%u)",
		         c->ring_size);
	/* enqueue_burst (docs/dataplane.md): the scheduler is offered more than it sends, so
	 * that under overload its queues fill; by default twice the burst */
	if (!c->enq_burst) {
		c->enq_burst = RTE_MIN(2 * c->burst, (uint32_t)DP_MAX_BURST);
		c->enq_burst = RTE_MAX(RTE_MIN(c->enq_burst, c->ring_size / 2), c->burst);
	} else if (c->enq_burst < c->burst) {
		conf_err(&l, "dataplane", "enqueue_burst", "must be at least burst (%u)", c->burst);
	} else if (c->enq_burst > c->ring_size / 2) {
		conf_err(&l, "dataplane", "enqueue_burst", "must be at most half of ring_size (%u)",
		         c->ring_size);
	}
	if (l.d)
		iniparser_freedict(l.d);
	if (l.errors) {
		dp_conf_free(c);
		return -EINVAL;
	}
	return 0;
}

void dp_conf_free(struct dp_conf *c)
{
	if (!c)
		return;
	free(c->subport_rate_bps);
	free(c->subport_name);
	c->subport_rate_bps = NULL;
	c->subport_name = NULL;
}

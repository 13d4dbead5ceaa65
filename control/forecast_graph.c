/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast_graph: `tidalctl graph CLASS -o FILE.png [--since 7d]`, drawn by librrd.
 *
 * One PNG: the series' demand history over the last `since` (its archive), the latest
 * forecast from its origin to the horizon as a band between the 5 % and 95 % quantiles
 * with the median as a line (from a temporary archive made from the forecast, since
 * rrd_graph draws archives), the reserved rate when a series "<CLASS>.reserved" has a
 * history, and a rule at the current time.
 *
 * The daemon writes the file (tidalctl sends an absolute path): into a temporary file
 * beside it, renamed over the target at the end, and it never replaces a file that is not
 * a PNG, so a mistyped -o cannot clobber anything else. Owns the temporary folder
 * <state_dir>/graph.XXXXXX while it draws. Runs on the loop (tens of milliseconds).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "ctl.h"
#include "forecast_int.h"
#include "history_int.h"
#include "log.h"

#define MAX_ARGS    48
#define SINCE_MAX_S (400 * 86400)

struct args {
	char *v[MAX_ARGS];
	int n;
	bool oom;
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	if (a->n >= MAX_ARGS) {
		a->oom = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		a->oom = true;
	else
		a->v[a->n++] = s;
}

static void args_free(struct args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
}

/* rrdtool's argument syntax separates fields with ':'; escape them in paths and text. */
static char *esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; *s && o + 2 < len; s++) {
		if (*s == ':' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static const char *rrd_err(void)
{
	const char *e = rrd_get_error();
	return e && *e ? e : "unknown librrd error";
}

/* The forecast as an archive: rows at step ends, data sources lo, mid, hi. */
static int forecast_archive(const struct demand_forecast *f, const char *path)
{
	char ds[3][64], rra[64];
	const char *argv[4];
	unsigned long step = (unsigned long)f->step_s;
	for (int i = 0; i < 3; i++) {
		static const char *const nm[] = {"lo", "mid", "hi"};
		snprintf(ds[i], sizeof(ds[i]), "DS:%s:GAUGE:%lu:U:U", nm[i], 2 * step);
		argv[i] = ds[i];
	}
	snprintf(rra, sizeof(rra), "RRA:AVERAGE:0.5:1:%zu", f->h + 2);
	argv[3] = rra;
	rrd_clear_error();
	if (rrd_create_r(path, step, (time_t)(f->origin_s - (int64_t)step), 4, argv) != 0)
		return -EIO;
	for (size_t s = 0; s < f->h; s++) {
		char upd[160];
		const char *u[1] = {upd};
		snprintf(upd, sizeof(upd), "%lld:%.10g:%.10g:%.10g",
		         (long long)(f->origin_s + (int64_t)((s + 1) * f->step_s)),
		         demand_quantile(f, s, 0.05), demand_quantile(f, s, 0.5),
		         demand_quantile(f, s, 0.95));
		rrd_clear_error();
		if (rrd_update_r(path, NULL, 1, u) != 0)
			return -EIO;
	}
	return 0;
}

/* Refuse targets that are not a new file or an earlier PNG. */
static const char *target_problem(const char *out)
{
	struct stat st;
	if (out[0] != '/')
		return "the file name must be absolute (tidalctl makes it so)";
	if (lstat(out, &st) != 0)
		return errno == ENOENT ? NULL : "cannot check the file";
	if (!S_ISREG(st.st_mode))
		return "it exists and is not a regular file";
	unsigned char sig[8] = {0};
	int fd = open(out, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd >= 0 ? read(fd, sig, sizeof(sig)) : -1;
	if (fd >= 0)
		close(fd);
	if (st.st_size > 0 && (k != 8 || memcmp(sig, "\x89PNG\r\n\x1a\n", 8) != 0))
		return "it exists and is not a PNG; choose another name";
	return NULL;
}

static enum ctl_status cmd_graph(struct tidald *d, void *arg, const struct ctl_request *req,
                                 struct ctl_reply *rep)
{
	struct fc_mod *m = arg;
	const struct tidal_cfg *cfg = tidald_cfg(d);
	const char *name = ctl_arg(req, 0), *out = ctl_opt(req, "output"),
	           *s_since = ctl_opt(req, "since"), *why = NULL;
	bool is_app = false;
	if (!name || !out)
		return ctl_fail(rep, CTL_USAGE, "graph needs CLASS -o FILE.png");
	uint64_t since_ms = 7ull * 86400 * 1000;
	if (s_since && (cfg_parse_duration(s_since, &since_ms, &why) < 0 ||
	                since_ms < 3600 * 1000 || since_ms > (uint64_t)SINCE_MAX_S * 1000))
		return ctl_fail(rep, CTL_USAGE, "--since '%s': %s", s_since,
		                why ? why : "a duration from 1h to 400d");
	if (!hist_name_ok(name) || !fcm_series_known(d, name, &is_app)) {
		char *known = fcm_known_list(d);
		ctl_fail(rep, CTL_NOT_FOUND, "unknown class '%s'; series tidald knows: %s", name,
		         known ? known : "?");
		free(known);
		return CTL_NOT_FOUND;
	}
	const char *bad = target_problem(out);
	if (bad)
		return ctl_fail(rep, CTL_REFUSED, "cannot write %s: %s", out, bad);

	char hist[PATH_MAX], rsv_name[FCM_NAME_MAX + 16], rsv[PATH_MAX];
	hist_path(d, name, hist, sizeof(hist));
	snprintf(rsv_name, sizeof(rsv_name), "%s.reserved", name);
	hist_path(d, rsv_name, rsv, sizeof(rsv));
	bool have_hist = access(hist, R_OK) == 0;
	bool have_rsv = hist_name_ok(rsv_name) && access(rsv, R_OK) == 0;
	const struct fc_entry *e = fcm_entry(m, name);
	const struct demand_forecast *f = e && e->has ? &e->df : NULL;
	if (!have_hist && !f)
		return ctl_fail(rep, CTL_NOT_FOUND, "%s has no history and no forecast to draw yet",
		                name);

	int64_t now = tidald_now();
	int64_t start = now - (int64_t)(since_ms / 1000);
	int64_t end = now;
	if (f && f->origin_s + (int64_t)(f->h * f->step_s) > end)
		end = f->origin_s + (int64_t)(f->h * f->step_s);

	char tmpdir[CFG_PATH_MAX + 32], fcpath[CFG_PATH_MAX + 48], tmppng[PATH_MAX + 8];
	snprintf(tmpdir, sizeof(tmpdir), "%s/graph.XXXXXX", cfg->region.state_dir);
	if (!mkdtemp(tmpdir))
		return ctl_fail(rep, CTL_INTERNAL, "cannot create a temporary folder in %s: %s",
		                cfg->region.state_dir, strerror(errno));
	snprintf(fcpath, sizeof(fcpath), "%s/forecast.rrd", tmpdir);
	snprintf(tmppng, sizeof(tmppng), "%s.tmp", out);
	enum ctl_status st = CTL_OK;
	if (f && forecast_archive(f, fcpath) < 0) {
		st = ctl_fail(rep, CTL_INTERNAL, "cannot build the forecast archive: %s",
		              rrd_err());
		goto done;
	}

	const char *unit = is_app ? "bits per second" : "value";
	bool bytes = false;
	if (strncmp(name, "pool.", 5) == 0) {
		const char *r = strrchr(name, '.');
		unit = strcmp(r, ".vcpu") == 0 ? "vCPU" : "bytes";
		bytes = strcmp(r, ".vcpu") != 0;
	}
	char e1[PATH_MAX * 2], e2[256];
	struct args a = {0};
	add(&a, "graph");
	add(&a, "%s", tmppng);
	add(&a, "--imgformat=PNG");
	add(&a, "--start=%lld", (long long)start);
	add(&a, "--end=%lld", (long long)end);
	add(&a, "--width=900");
	add(&a, "--height=300");
	add(&a, "--title=%s %s: demand and forecast", cfg->region.name, name);
	add(&a, "--vertical-label=%s", unit);
	add(&a, "--base=%d", bytes ? 1024 : 1000);
	add(&a, "--lower-limit=0");
	if (f) {
		add(&a, "DEF:lo=%s:lo:AVERAGE", esc(fcpath, e1, sizeof(e1)));
		add(&a, "DEF:mid=%s:mid:AVERAGE", esc(fcpath, e1, sizeof(e1)));
		add(&a, "DEF:hi=%s:hi:AVERAGE", esc(fcpath, e1, sizeof(e1)));
		add(&a, "CDEF:band=hi,lo,-");
		add(&a, "AREA:lo");
		add(&a, "AREA:band#f7a35c88:forecast 5-95 %%:STACK");
		add(&a, "LINE2:mid#d9480f:forecast median");
	}
	if (have_hist) {
		add(&a, "DEF:demand=%s:value:AVERAGE", esc(hist, e1, sizeof(e1)));
		add(&a, "LINE1.5:demand#1f5fbf:demand");
	}
	if (have_rsv) {
		add(&a, "DEF:rsv=%s:value:AVERAGE", esc(rsv, e1, sizeof(e1)));
		add(&a, "LINE2:rsv#2b8a3e:reserved");
	}
	add(&a, "VRULE:%lld#555555:now", (long long)now);
	if (f)
		add(&a, "COMMENT:\\n");
	if (f) {
		char txt[200];
		snprintf(txt, sizeof(txt), "model %s, round %u", f->model, e->round);
		add(&a, "COMMENT:%s\\l", esc(txt, e2, sizeof(e2)));
	}
	if (a.oom) {
		args_free(&a);
		st = ctl_fail(rep, CTL_INTERNAL, "out of memory");
		goto done;
	}
	rrd_clear_error();
	rrd_info_t *info = rrd_graph_v(a.n, a.v);
	args_free(&a);
	if (!info) {
		unlink(tmppng);
		st = ctl_fail(rep, CTL_INTERNAL, "librrd could not draw the graph: %s", rrd_err());
		goto done;
	}
	json_int_t w = 0, h = 0;
	for (rrd_info_t *i = info; i; i = i->next) {
		if (i->type == RD_I_CNT && strcmp(i->key, "image_width") == 0)
			w = (json_int_t)i->value.u_cnt;
		if (i->type == RD_I_CNT && strcmp(i->key, "image_height") == 0)
			h = (json_int_t)i->value.u_cnt;
	}
	rrd_info_free(info);
	struct stat sb;
	if (rename(tmppng, out) != 0 || stat(out, &sb) != 0) {
		int err = errno;
		unlink(tmppng);
		st = ctl_fail(rep, CTL_INTERNAL, "cannot write %s: %s", out, strerror(err));
		goto done;
	}
	char ts[32], te[32];
	cfg_fmt_time(start, ts, sizeof(ts));
	cfg_fmt_time(end, te, sizeof(te));
	rep->data = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:b,s:b,s:b}", "file", out, "series",
	                      name, "bytes", (json_int_t)sb.st_size, "width", w, "height", h,
	                      "start", ts, "end", te, "history", have_hist, "forecast", f != NULL,
	                      "reserved", have_rsv);
	if (asprintf(&rep->text, "%s: %s to %s (%lldx%lld, %lld bytes)%s%s", out, ts, te,
	             (long long)w, (long long)h, (long long)sb.st_size,
	             f ? "" : "; no forecast yet", have_rsv ? "" : "; no reservation recorded") < 0)
		rep->text = NULL;
done:
	unlink(fcpath);
	rmdir(tmpdir);
	return st;
}

void fcm_graph_register(struct tidald *d, struct fc_mod *m)
{
	ctl_register(d, "graph", cmd_graph, m,
	             "demand history, forecast band and reservation as a PNG");
}

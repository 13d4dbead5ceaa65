/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr: the FRR provisioner and the one file of tidal that talks to FRR (see frr.h).
 *
 * Every operation is a small transaction over bgpd's configuration:
 *   1. read the state: `show ip prefix-list json`, `show ipv6 prefix-list json`,
 *      `show route-map json`, `show bgp neighbors json` (frr_state.c parses them);
 *   2. compute the wanted state from a copy (frr_target.c);
 *   3. diff the two into config commands (frr_plan.c) and send them in one
 *      `vtysh -d bgpd -E -c ...` run; vtysh echoes each command, so the first "% ..."
 *      line names the command that failed (vtysh does not stop at every error);
 *   4. on failure, read the state again, diff it back to the state of step 1, send that,
 *      and check that nothing differs any more.
 * Config goes to bgpd alone (-d bgpd): it is the only daemon that uses these objects, and
 * the state read back from it is then exactly what was applied.
 *
 * Owns: the child vtysh processes it starts (waited for; killed by pid on timeout) and the
 * last error text. Never runs a shell, never touches non-tidal configuration.
 */
#include "frr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frr_plan.h"
#include "log.h"

extern char **environ;

#define FRR_DEFAULT_VTYSH      "/usr/bin/vtysh"
#define FRR_DEFAULT_TIMEOUT_MS 10000
#define FRR_OUTPUT_MAX         (64u << 20) /* bytes kept of one vtysh stream */
#define FRR_POLL_MS            200         /* session state polling interval */

struct frr {
	char vtysh[CFG_PATH_MAX];
	char pathspace[CFG_NAME_MAX];
	uint32_t asn;
	uint32_t local_pref;
	uint32_t timeout_ms;
	uint32_t session_timeout_ms;
	char err[FRR_ERR_MAX];
};

static void set_err(struct frr *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct frr *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

static void append_err(struct frr *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append_err(struct frr *f, const char *fmt, ...)
{
	size_t n = strlen(f->err);
	va_list ap;

	if (n + 1 >= sizeof(f->err))
		return;
	va_start(ap, fmt);
	vsnprintf(f->err + n, sizeof(f->err) - n, fmt, ap);
	va_end(ap);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *instance(const struct frr *f)
{
	return f->pathspace[0] ? f->pathspace : "default";
}

/* ---- running vtysh ------------------------------------------------------------------- */

struct outbuf {
	char *p;
	size_t n, cap;
};

static int outbuf_add(struct outbuf *b, const char *data, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (b->n + n <= FRR_OUTPUT_MAX) {
		memcpy(b->p + b->n, data, n);
		b->n += n;
	}
	b->p[b->n] = '\0';
	return 0;
}

struct vtysh_result {
	struct outbuf out, err;
	int status; /* exit status, or -1 when killed by a signal */
};

static void vtysh_result_free(struct vtysh_result *r)
{
	free(r->out.p);
	free(r->err.p);
	memset(r, 0, sizeof(*r));
}

/* The command line as a person would type it, for error messages. */
static void describe(const struct frr *f, const char *const *cmds, size_t n, bool echo, char *buf,
                     size_t len)
{
	size_t o;

	o = (size_t)snprintf(buf, len, "%s%s%s -d bgpd%s", f->vtysh, f->pathspace[0] ? " -N " : "",
	                     f->pathspace, echo ? " -E" : "");
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, " -c '%s'", cmds[i]);
}

/* Run vtysh with `-c` per command; stdout and stderr collected separately. 0 when vtysh
 * ran to the end (whatever its exit status), or a negative errno with f->err set. */
static int vtysh_run(struct frr *f, const char *const *cmds, size_t n, bool echo,
                     struct vtysh_result *r)
{
	size_t argc = 0, max = 6 + 2 * n;
	const char **argv = calloc(max + 1, sizeof(*argv));
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, rc = 0, ws;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_init = false, attr_init = false;
	sigset_t none, dfl;
	uint64_t deadline = mono_ms() + f->timeout_ms;
	pid_t pid = -1;
	char what[512];

	memset(r, 0, sizeof(*r));
	describe(f, cmds, n > 3 ? 3 : n, echo, what, sizeof(what));
	if (!argv)
		return -ENOMEM;
	argv[argc++] = f->vtysh;
	if (f->pathspace[0]) {
		argv[argc++] = "-N";
		argv[argc++] = f->pathspace;
	}
	argv[argc++] = "-d";
	argv[argc++] = "bgpd";
	if (echo)
		argv[argc++] = "-E";
	for (size_t i = 0; i < n; i++) {
		argv[argc++] = "-c";
		argv[argc++] = cmds[i];
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		rc = -errno;
		set_err(f, "cannot create pipes for vtysh: %s", strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	fa_init = true;
	if (posix_spawnattr_init(&attr) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	attr_init = true;
	/* vtysh starts with default signal handling whatever the daemon set up for itself */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	rc = posix_spawn(&pid, f->vtysh, &fa, &attr, (char *const *)argv, environ);
	if (rc != 0) {
		set_err(f, "cannot run %s: %s (check [frr] vtysh and that FRR is installed)",
		        f->vtysh, strerror(rc));
		rc = -rc;
		pid = -1;
		goto out;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;

	for (;;) {
		struct pollfd pfd[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		uint64_t now = mono_ms();
		char buf[8192];
		int k;

		if (po[0] < 0 && pe[0] < 0)
			break;
		if (now >= deadline) {
			set_err(f, "%s: no answer within %u ms (is FRR of pathspace %s running?)",
			        what, f->timeout_ms, instance(f));
			rc = -ETIMEDOUT;
			goto out;
		}
		k = poll(pfd, 2, (int)(deadline - now));
		if (k < 0 && errno != EINTR) {
			rc = -errno;
			set_err(f, "poll on vtysh output: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < 2 && k > 0; i++) {
			int *fd = i ? &pe[0] : &po[0];
			ssize_t got;

			if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(*fd, buf, sizeof(buf));
			if (got > 0) {
				if (outbuf_add(i ? &r->err : &r->out, buf, (size_t)got) < 0) {
					rc = -ENOMEM;
					goto out;
				}
			} else if (got == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			rc = -errno;
			set_err(f, "waitpid(vtysh): %s", strerror(errno));
			goto out;
		}
	}
	pid = -1;
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	if (outbuf_add(&r->out, "", 0) < 0 || outbuf_add(&r->err, "", 0) < 0)
		rc = -ENOMEM;
out:
	if (pid > 0) { /* our own child, stopped by its pid */
		kill(pid, SIGKILL);
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	free(argv);
	if (rc)
		vtysh_result_free(r);
	return rc;
}

/* The non-empty lines of s joined with " | ", for one-line messages. */
static void join_lines(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	while (*s && o + 1 < len) {
		size_t n = strcspn(s, "\r\n");

		if (n) {
			int w = snprintf(buf + o, len - o, "%s%.*s", o ? " | " : "", (int)n, s);

			if (w < 0)
				break;
			o += (size_t)w;
		}
		s += n;
		s += strspn(s, "\r\n");
	}
	if (o >= len)
		buf[len - 1] = '\0';
}

/* One `show ... json` command; on success *json is the caller's (free()). */
static int vtysh_show(struct frr *f, const char *cmd, char **json)
{
	struct vtysh_result r;
	char what[512], line[400];
	int rc = vtysh_run(f, &cmd, 1, false, &r);

	if (rc)
		return rc;
	if (r.status != 0 || !r.out.n || r.out.p[strspn(r.out.p, " \r\n")] == '%') {
		describe(f, &cmd, 1, false, what, sizeof(what));
		if (r.out.n && r.out.p[strspn(r.out.p, " \r\n")] == '%')
			join_lines(r.out.p, line, sizeof(line)); /* bgpd's own error */
		else
			join_lines(r.err.n   ? r.err.p
			           : r.out.n ? r.out.p
			                     : "no output",
			           line, sizeof(line));
		set_err(f, "%s failed (exit %d): %s", what, r.status, line);
		vtysh_result_free(&r);
		return -EIO;
	}
	*json = r.out.p;
	free(r.err.p);
	return 0;
}

static int read_state(struct frr *f, struct frr_state *st)
{
	static const char *const cmds[] = {"show ip prefix-list json", "show ipv6 prefix-list json",
	                                   "show route-map json", "show bgp neighbors json"};
	char perr[512];
	int rc = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < 4 && !rc; i++) {
		char *json = NULL;

		rc = vtysh_show(f, cmds[i], &json);
		if (rc)
			break;
		perr[0] = '\0';
		switch (i) {
		case 0:
			rc = frr_state_parse_plists(st, FRR_AF_IPV4, json, perr, sizeof(perr));
			break;
		case 1:
			rc = frr_state_parse_plists(st, FRR_AF_IPV6, json, perr, sizeof(perr));
			break;
		case 2:
			rc = frr_state_parse_rmaps(st, json, perr, sizeof(perr));
			break;
		default:
			rc = frr_state_parse_nbrs(st, json, perr, sizeof(perr));
			break;
		}
		free(json);
		if (rc)
			set_err(f, "reading bgpd state (pathspace %s): %s", instance(f),
			        perr[0] ? perr : strerror(-rc));
	}
	/* The instance's ASN (not a neighbor's localAs, which `local-as` may override): from
	 * the summaries, else the table, which is small when no session is configured. */
	for (size_t i = 0; i < 3 && !rc && !st->asn; i++) {
		static const char *const asn_cmds[] = {"show bgp ipv4 unicast summary json",
		                                       "show bgp ipv6 unicast summary json",
		                                       "show bgp ipv4 unicast json"};
		char *json = NULL;

		rc = vtysh_show(f, asn_cmds[i], &json);
		if (!rc) {
			rc = frr_state_parse_asn(st, json, asn_cmds[i], perr, sizeof(perr));
			if (rc)
				set_err(f, "reading bgpd state: %s", perr);
		}
		free(json);
	}
	if (!rc && f->asn && st->asn && st->asn != f->asn) {
		set_err(f,
		        "bgpd (pathspace %s) runs `router bgp %u` but the region's ASN is %u: "
		        "fix [region] asn or FRR's config",
		        instance(f), st->asn, f->asn);
		rc = -EINVAL;
	}
	if (rc)
		frr_state_free(st);
	return rc;
}

/* Send a plan. 0, or -EIO with f->err naming the failing command and FRR's message. */
static int run_plan(struct frr *f, const struct frr_plan *p)
{
	struct frr_lines lines;
	struct vtysh_result r;
	size_t echoed = 0;
	char msg[512] = "";
	long bad;
	int rc;

	if (!p->n)
		return 0;
	rc = frr_plan_render(p, &lines);
	if (rc) {
		set_err(f, "out of memory rendering FRR commands");
		return rc;
	}
	for (size_t i = 0; i < lines.n; i++)
		log_debug("frr: vtysh -N %s: %s", instance(f), lines.v[i]);
	rc = vtysh_run(f, (const char *const *)lines.v, lines.n, true, &r);
	if (rc) {
		frr_lines_free(&lines);
		return rc;
	}
	bad = frr_echo_scan(&lines, r.out.p, &echoed, msg, sizeof(msg));
	if (bad < 0 && (r.status != 0 || echoed < lines.n)) {
		/* vtysh stopped without a "%" line: blame the last command it echoed */
		bad = echoed ? (long)echoed - 1 : 0;
		join_lines(r.err.n ? r.err.p : "vtysh stopped early", msg, sizeof(msg));
	}
	if (bad >= 0) {
		const struct frr_cmd *c = &p->v[lines.cmd[bad]];

		set_err(f, "vtysh (pathspace %s) rejected `%s`%s%s%s%s%s: %s (exit %d)",
		        instance(f), lines.v[bad], c->ctx.l1[0] ? " in `" : "", c->ctx.l1,
		        c->ctx.l2[0] ? "` / `" : "", c->ctx.l2, c->ctx.l1[0] ? "`" : "", msg,
		        r.status);
		rc = -EIO;
	}
	vtysh_result_free(&r);
	frr_lines_free(&lines);
	return rc;
}

/* Ask bgpd to re-run inbound policy now instead of after its route-map timer. */
static void soft_in(struct frr *f, const struct frr_plan *p)
{
	for (size_t i = 0; i < p->n_soft; i++) {
		char cmd[FRR_TEXT_MAX];
		const char *c = frr_soft_command(&p->soft[i], cmd, sizeof(cmd));
		struct vtysh_result r;
		char saved[FRR_ERR_MAX];

		memcpy(saved, f->err, sizeof(saved));
		if (vtysh_run(f, &c, 1, false, &r) == 0) {
			if (r.status != 0 || (r.out.n && r.out.p[0] == '%'))
				log_warn("frr: `%s` failed (bgpd applies the policy after its "
				         "route-map timer): %.200s",
				         c,
				         r.out.n   ? r.out.p
				         : r.err.p ? r.err.p
				                   : "");
			vtysh_result_free(&r);
		} else {
			log_warn("frr: %s", f->err);
		}
		memcpy(f->err, saved, sizeof(saved));
	}
}

/* Bring bgpd back to `snap` after a failure; appends the outcome to f->err. */
static void rollback(struct frr *f, const struct frr_state *snap)
{
	char first[FRR_ERR_MAX], perr[512] = "";
	struct frr_state now;
	struct frr_plan plan;
	int rc;

	memcpy(first, f->err, sizeof(first));
	rc = read_state(f, &now);
	if (rc) {
		snprintf(perr, sizeof(perr), "%.500s", f->err);
		memcpy(f->err, first, sizeof(first));
		append_err(f, "; ROLLBACK IMPOSSIBLE, bgpd state unreadable: %s", perr);
		return;
	}
	rc = frr_plan_diff(&now, snap, &plan, perr, sizeof(perr));
	frr_state_free(&now);
	if (!rc) {
		rc = run_plan(f, &plan);
		if (!rc)
			soft_in(f, &plan);
		else
			snprintf(perr, sizeof(perr), "%.500s", f->err);
		frr_plan_free(&plan);
	}
	if (!rc) {
		rc = read_state(f, &now);
		if (!rc) {
			rc = frr_plan_diff(&now, snap, &plan, perr, sizeof(perr));
			if (!rc && plan.n) {
				snprintf(perr, sizeof(perr),
				         "%zu commands still differ, first `%s`", plan.n,
				         plan.v[0].text);
				rc = -EIO;
			}
			frr_plan_free(&plan);
			frr_state_free(&now);
		} else {
			snprintf(perr, sizeof(perr), "%.500s", f->err);
		}
	}
	memcpy(f->err, first, sizeof(first));
	if (rc)
		append_err(f, "; ROLLBACK INCOMPLETE: %s (inspect tidal-* objects, docs/frr.md)",
		           perr);
	else
		append_err(f, "; rolled back, bgpd is as before");
}

static int session_check(struct frr *f, const char *addr, const char *via)
{
	uint64_t deadline = mono_ms() + f->session_timeout_ms;
	char cmd[FRR_TEXT_MAX], state[32] = "unknown";

	snprintf(cmd, sizeof(cmd), "show bgp neighbors %s json", addr);
	for (;;) {
		struct frr_state st = {0};
		char *json = NULL, perr[256];
		int rc = vtysh_show(f, cmd, &json);
		struct frr_nbr *nb;

		if (rc)
			return rc;
		rc = frr_state_parse_nbrs(&st, json, perr, sizeof(perr));
		free(json);
		nb = rc ? NULL : frr_state_nbr(&st, addr);
		if (nb)
			snprintf(state, sizeof(state), "%s", nb->state);
		frr_state_free(&st);
		if (rc) {
			set_err(f, "reading BGP session state: %s", perr);
			return rc;
		}
		if (!strcmp(state, "Established"))
			return 0;
		if (!f->session_timeout_ms) {
			log_warn("frr: BGP session to region %s (%s) is %s; the lease takes effect "
			         "once it is Established",
			         via, addr, state);
			return 0;
		}
		if (mono_ms() >= deadline)
			break;
		nanosleep(&(struct timespec){0, FRR_POLL_MS * 1000000L}, NULL);
	}
	set_err(f,
	        "BGP session to region %s (%s, pathspace %s) is %s, not Established, after "
	        "%u ms",
	        via, addr, instance(f), state, f->session_timeout_ms);
	return -ETIMEDOUT;
}

/* ---- transactions ---------------------------------------------------------------------- */

enum txn_kind { TXN_APPLY, TXN_WITHDRAW, TXN_RETAIN };

static int txn(struct frr *f, enum txn_kind kind, const struct prov_lease *l,
               const struct prov_lease *keep, size_t n_keep, size_t *n_cmds)
{
	struct frr_state cur, tgt;
	struct frr_plan plan = {0};
	char perr[FRR_ERR_MAX] = "";
	int rc;

	*n_cmds = 0;
	if (kind == TXN_APPLY) {
		rc = frr_lease_check(l, perr, sizeof(perr));
		if (rc) {
			set_err(f, "%s", perr);
			return rc;
		}
	}
	rc = read_state(f, &cur);
	if (rc)
		return rc;
	rc = frr_state_copy(&tgt, &cur);
	if (rc) {
		set_err(f, "out of memory copying bgpd state");
		frr_state_free(&cur);
		return rc;
	}
	switch (kind) {
	case TXN_APPLY:
		rc = frr_target_apply(&tgt, l, f->local_pref, perr, sizeof(perr));
		break;
	case TXN_WITHDRAW:
		frr_target_withdraw(&tgt, l->id);
		break;
	case TXN_RETAIN:
		frr_target_retain(&tgt, keep, n_keep);
		break;
	}
	if (!rc)
		rc = frr_plan_diff(&cur, &tgt, &plan, perr, sizeof(perr));
	if (rc) {
		set_err(f, "%s", perr[0] ? perr : strerror(-rc));
		goto out;
	}
	*n_cmds = plan.n;
	rc = run_plan(f, &plan);
	if (rc) {
		rollback(f, &cur);
		goto out;
	}
	soft_in(f, &plan);
	if (kind == TXN_APPLY) {
		char addr[PROV_ADDR_MAX];

		rc = frr_canon_addr(l->via_address, addr);
		if (!rc)
			rc = session_check(f, addr, l->via);
		if (rc)
			rollback(f, &cur);
	}
out:
	frr_plan_free(&plan);
	frr_state_free(&tgt);
	frr_state_free(&cur);
	return rc;
}

int frr_apply(struct frr *f, const struct prov_lease *l)
{
	char idtxt[PROV_LEASE_ID_STRLEN];
	size_t n = 0;
	int rc;

	f->err[0] = '\0';
	prov_lease_id_fmt(l->id, idtxt);
	rc = txn(f, TXN_APPLY, l, NULL, 0, &n);
	if (rc) {
		char first[FRR_ERR_MAX];

		memcpy(first, f->err, sizeof(first));
		set_err(f, "apply lease %s: %s", idtxt, first);
		log_err("frr: %s", f->err);
		return rc;
	}
	if (n)
		log_info("frr: lease %s: prefixes to %s steered via %s (%s), %zu commands", idtxt,
		         l->peer, l->via, l->via_address, n);
	else
		log_debug("frr: lease %s: already in place", idtxt);
	return 0;
}

int frr_withdraw(struct frr *f, const struct prov_lease *l)
{
	char idtxt[PROV_LEASE_ID_STRLEN];
	size_t n = 0;
	int rc;

	f->err[0] = '\0';
	prov_lease_id_fmt(l->id, idtxt);
	rc = txn(f, TXN_WITHDRAW, l, NULL, 0, &n);
	if (rc) {
		char first[FRR_ERR_MAX];

		memcpy(first, f->err, sizeof(first));
		set_err(f, "withdraw lease %s: %s", idtxt, first);
		log_err("frr: %s", f->err);
		return rc;
	}
	if (n)
		log_info("frr: lease %s: steering withdrawn, %zu commands", idtxt, n);
	return 0;
}

int frr_resync(struct frr *f, const struct prov_lease *leases, size_t n)
{
	char first[FRR_ERR_MAX] = "";
	size_t failed = 0, cmds = 0, total = 0;
	int rc, ret;

	f->err[0] = '\0';
	ret = txn(f, TXN_RETAIN, NULL, leases, n, &cmds);
	total += cmds;
	if (ret) {
		snprintf(first, sizeof(first), "removing leases no longer active: %.900s", f->err);
		failed++;
	}
	for (size_t i = 0; i < n; i++) {
		rc = frr_apply(f, &leases[i]);
		if (rc) {
			if (!ret) {
				ret = rc;
				memcpy(first, f->err, sizeof(first));
			}
			failed++;
		}
	}
	if (ret) {
		set_err(f, "resync: %zu of %zu steps failed; first: %s", failed, n + 1, first);
		log_err("frr: %s", f->err);
		return ret;
	}
	f->err[0] = '\0';
	log_info("frr: resync of %zu leases done (%zu commands removing stale ones)", n, total);
	return 0;
}

const char *frr_last_error(const struct frr *f)
{
	return f->err;
}

/* ---- handle ------------------------------------------------------------------------------ */

struct frr *frr_open(const struct frr_params *p)
{
	const char *vtysh = p->vtysh && p->vtysh[0] ? p->vtysh : FRR_DEFAULT_VTYSH;
	const char *ps = p->pathspace ? p->pathspace : "";
	struct frr *f;

	if (strlen(vtysh) >= CFG_PATH_MAX || vtysh[0] != '/') {
		log_err("frr: vtysh must be an absolute path shorter than %d bytes: '%.80s'",
		        CFG_PATH_MAX, vtysh);
		return NULL;
	}
	if (strlen(ps) >= CFG_NAME_MAX ||
	    strspn(ps, "abcdefghijklmnopqrstuvwxyz"
	               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(ps)) {
		log_err("frr: pathspace must be letters, digits, '_' or '-', shorter than %d "
		        "bytes: '%.80s'",
		        CFG_NAME_MAX, ps);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		log_err("frr: out of memory");
		return NULL;
	}
	frr_copy(f->vtysh, sizeof(f->vtysh), vtysh);
	frr_copy(f->pathspace, sizeof(f->pathspace), ps);
	f->asn = p->asn;
	f->local_pref = p->local_pref ? p->local_pref : FRR_DEFAULT_LOCAL_PREF;
	f->timeout_ms = p->timeout_ms ? p->timeout_ms : FRR_DEFAULT_TIMEOUT_MS;
	f->session_timeout_ms = p->session_timeout_ms;
	return f;
}

void frr_free(struct frr *f)
{
	free(f);
}

static int ops_apply(void *p, const struct prov_lease *l)
{
	return frr_apply(p, l);
}

static int ops_withdraw(void *p, const struct prov_lease *l)
{
	return frr_withdraw(p, l);
}

static int ops_resync(void *p, const struct prov_lease *l, size_t n)
{
	return frr_resync(p, l, n);
}

static const char *ops_last_error(const void *p)
{
	return frr_last_error(p);
}

static void ops_free(void *p)
{
	frr_free(p);
}

const struct prov_ops frr_prov_ops = {
        .name = "frr",
        .apply = ops_apply,
        .withdraw = ops_withdraw,
        .resync = ops_resync,
        .last_error = ops_last_error,
        .free = ops_free,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Provisioning hooks (control/alloc_hook.c) with real processes on a real event loop: the
 * sample hook tools/hooks/pool-log gets the lease in its environment and exits 0; exit 75
 * means retry and other codes failure; a hook past its time limit is killed (its whole
 * process group) while the loop keeps running; a program that cannot start fails cleanly;
 * freeing the runner kills what still runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "alloc_hook.h"

static char dir[] = "/tmp/tdlhook-XXXXXX";

struct got {
	int calls;
	struct alloc_hook_result r;
	struct event_base *base;
};

static void done(void *arg, const struct alloc_hook_result *r)
{
	struct got *g = arg;
	g->calls++;
	g->r = *r;
	event_base_loopbreak(g->base);
}

static void script(const char *name, const char *body)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Run one hook to completion (the loop stops in done), with a safety deadline. */
static void run(const char *program, const char *const *env, uint32_t timeout_s, struct got *g)
{
	struct event_base *base = event_base_new();
	assert_non_null(base);
	struct alloc_hook *h = alloc_hook_new(base);
	memset(g, 0, sizeof(*g));
	g->base = base;
	struct alloc_hook_job j = {.program = program, .action = "provision", .env = env,
				   .timeout_s = timeout_s, .done = done, .arg = g};
	assert_int_equal(alloc_hook_run(h, &j), 0);
	assert_int_equal(alloc_hook_running(h), 1);
	struct timeval deadline = {30, 0};
	event_base_loopexit(base, &deadline);
	event_base_dispatch(base);
	assert_int_equal(g->calls, 1);
	assert_int_equal(alloc_hook_running(h), 0);
	alloc_hook_free(h);
	event_base_free(base);
}

static void test_sample_hook(void **st)
{
	(void)st;
	char logf[256], env_log[300], prog[512];
	snprintf(logf, sizeof(logf), "%s/pool.log", dir);
	snprintf(env_log, sizeof(env_log), "TIDAL_HOOK_LOG=%s", logf);
	setenv("TIDAL_HOOK_LOG", logf, 1); /* passed through from tidald's environment */
	snprintf(prog, sizeof(prog), "%s/tools/hooks/pool-log", getenv("TIDAL_SRC"));
	const char *env[] = {"TIDAL_LEASE_ID=0123456789abcdef0123456789abcdef",
			     "TIDAL_RESOURCE=pool.compute.vcpu", "TIDAL_QUANTITY=12",
			     "TIDAL_UNIT=vcpu", "TIDAL_START=2026-12-01T10:00:00Z",
			     "TIDAL_END=2026-12-01T11:00:00Z", "TIDAL_APP=pool.compute.vcpu", NULL};
	struct got g;
	run(prog, env, 10, &g);
	assert_int_equal(g.r.outcome, ALLOC_HOOK_OK);
	assert_int_equal(g.r.exit_code, 0);
	assert_false(g.r.timed_out);
	assert_non_null(strstr(g.r.output, "provision of 12 vcpu recorded"));
	FILE *f = fopen(logf, "r");
	assert_non_null(f);
	char line[512] = "";
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(strstr(line, " provision lease=0123456789abcdef0123456789abcdef "
				     "resource=pool.compute.vcpu quantity=12 vcpu "
				     "start=2026-12-01T10:00:00Z end=2026-12-01T11:00:00Z"));
	unsetenv("TIDAL_HOOK_LOG");
	/* Missing lease fields: the sample refuses (a permanent failure). */
	run(prog, NULL, 10, &g);
	assert_int_equal(g.r.outcome, ALLOC_HOOK_FAILED);
	assert_true(g.r.exit_code != 0 && g.r.exit_code != ALLOC_HOOK_TEMPFAIL);
}

static void test_exit_codes(void **st)
{
	(void)st;
	char p[256];
	struct got g;
	script("tempfail", "echo busy >&2; exit 75");
	snprintf(p, sizeof(p), "%s/tempfail", dir);
	run(p, NULL, 10, &g);
	assert_int_equal(g.r.outcome, ALLOC_HOOK_RETRY);
	assert_int_equal(g.r.exit_code, 75);
	assert_string_equal(g.r.output, "busy\n");
	script("broken", "exit 3");
	snprintf(p, sizeof(p), "%s/broken", dir);
	run(p, NULL, 10, &g);
	assert_int_equal(g.r.outcome, ALLOC_HOOK_FAILED);
	assert_int_equal(g.r.exit_code, 3);
	/* Only PATH, the job's variables and TIDAL_HOOK_* reach the hook. */
	setenv("TIDAL_SECRET_NOT_FOR_HOOKS", "x", 1);
	script("env", "env | sort | grep -v '^PWD=\\|^SHLVL=\\|^_=' ; test \"$1\" = provision");
	snprintf(p, sizeof(p), "%s/env", dir);
	const char *env[] = {"TIDAL_ACTION=provision", NULL};
	run(p, env, 10, &g);
	assert_int_equal(g.r.outcome, ALLOC_HOOK_OK);
	assert_null(strstr(g.r.output, "TIDAL_SECRET"));
	assert_non_null(strstr(g.r.output, "TIDAL_ACTION=provision\n"));
	assert_non_null(strstr(g.r.output, "PATH="));
	/* A program that cannot be run. */
	run("/nonexistent/hook", NULL, 10, &g);
	assert_int_equal(g.r.outcome, ALLOC_HOOK_FAILED);
	assert_int_equal(g.r.exit_code, 127);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	(*(int *)arg)++;
}

/* A hook past its time limit: killed with its children, reported as retry; the loop ran
 * timers meanwhile. */
static void test_timeout(void **st)
{
	(void)st;
	char p[256], pidfile[256], body[512];
	snprintf(pidfile, sizeof(pidfile), "%s/child.pid", dir);
	snprintf(body, sizeof(body), "sleep 60 & echo $! > %s; wait", pidfile);
	script("slow", body);
	snprintf(p, sizeof(p), "%s/slow", dir);
	struct event_base *base = event_base_new();
	struct alloc_hook *h = alloc_hook_new(base);
	struct got g = {.base = base};
	int ticks = 0;
	struct event *t = event_new(base, -1, EV_PERSIST, tick, &ticks);
	struct timeval every = {0, 100000};
	event_add(t, &every);
	struct alloc_hook_job j = {.program = p, .action = "provision", .timeout_s = 1,
				   .done = done, .arg = &g};
	assert_int_equal(alloc_hook_run(h, &j), 0);
	struct timeval deadline = {20, 0};
	event_base_loopexit(base, &deadline);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_true(g.r.timed_out);
	assert_int_equal(g.r.outcome, ALLOC_HOOK_RETRY);
	assert_int_equal(g.r.signal, SIGKILL);
	assert_true(g.r.seconds >= 0.9 && g.r.seconds < 10);
	assert_true(ticks >= 5); /* the loop was not blocked */
	FILE *f = fopen(pidfile, "r");
	assert_non_null(f);
	int child = 0;
	assert_int_equal(fscanf(f, "%d", &child), 1);
	fclose(f);
	/* The hook's own child went with it (poll: the kernel reaps it shortly). */
	struct timespec ms = {0, 10000000};
	for (int i = 0; i < 500 && kill(child, 0) == 0; i++)
		nanosleep(&ms, NULL);
	assert_int_equal(kill(child, 0), -1);

	/* Freeing the runner kills a hook still running, without calling done. */
	g.calls = 0;
	j.timeout_s = 60;
	assert_int_equal(alloc_hook_run(h, &j), 0);
	alloc_hook_free(h);
	assert_int_equal(g.calls, 0);
	event_free(t);
	event_base_free(base);
}

static void test_bad_job(void **st)
{
	(void)st;
	struct event_base *base = event_base_new();
	struct alloc_hook *h = alloc_hook_new(base);
	struct alloc_hook_job j = {.program = "", .action = "provision", .timeout_s = 1};
	assert_int_equal(alloc_hook_run(h, &j), -EINVAL);
	j.program = "/bin/true";
	j.timeout_s = 0;
	assert_int_equal(alloc_hook_run(h, &j), -EINVAL);
	alloc_hook_free(h);
	alloc_hook_free(NULL);
	event_base_free(base);
}

static int setup(void **st)
{
	(void)st;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_hook),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_bad_job),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

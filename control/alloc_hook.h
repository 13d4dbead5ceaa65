/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_hook: runs pool provisioning hooks ([pool.*] provision_hook) without blocking the
 * event loop (docs/alloc.md, "Provisioning hooks").
 *
 * A hook is a program started as `HOOK ACTION` (ACTION is provision or release) with the
 * lease's fields in its environment (TIDAL_*, plus any TIDAL_HOOK_* variables of tidald's own
 * environment, for the operator's settings), stdin from /dev/null and stdout/stderr
 * captured. The runner forks and execs it in its own process group, watches it with a
 * pidfd on the event base, and kills the group when it outlives its time limit. The exit
 * code is the contract:
 *
 *   0        done: the capacity is provisioned (or released)
 *   75       temporary failure (EX_TEMPFAIL): try again later
 *   other    permanent failure: the lease cannot be provisioned
 *   (killed) ran past its time limit: a temporary failure
 *
 * Owns the child processes it started and their watchers; alloc_hook_free kills the ones
 * still running. Never waits for a child on the event loop thread.
 */
#ifndef TIDAL_CONTROL_ALLOC_HOOK_H
#define TIDAL_CONTROL_ALLOC_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct alloc_hook;

#define ALLOC_HOOK_TEMPFAIL   75
#define ALLOC_HOOK_OUTPUT_MAX 1024 /* captured bytes of stdout and stderr */

enum alloc_hook_outcome {
	ALLOC_HOOK_OK = 0, /* exit 0 */
	ALLOC_HOOK_RETRY,  /* exit 75 or time limit: try again */
	ALLOC_HOOK_FAILED, /* any other exit, a signal, or the program could not start */
};

struct alloc_hook_result {
	enum alloc_hook_outcome outcome;
	int exit_code; /* 0..255, or -1 when killed or not started */
	int signal;    /* the signal that ended it, or 0 */
	bool timed_out;
	double seconds;                     /* wall time it ran */
	char output[ALLOC_HOOK_OUTPUT_MAX]; /* stdout and stderr, cut to fit */
};

typedef void (*alloc_hook_done_fn)(void *arg, const struct alloc_hook_result *r);

struct alloc_hook_job {
	const char *program;     /* absolute path */
	const char *action;      /* argv[1] */
	const char *const *env;  /* "NAME=value" strings, NULL-terminated; added to a clean
	                            environment holding only PATH */
	uint32_t timeout_s;      /* time limit, >= 1 */
	alloc_hook_done_fn done; /* called once, from the event loop */
	void *arg;
};

struct alloc_hook *alloc_hook_new(struct event_base *base);
/* Kill running hooks (their done callbacks are not called) and free. NULL is a no-op. */
void alloc_hook_free(struct alloc_hook *h);

/* Start a hook. 0 (done will be called), or a negative errno (done will not be called). */
int alloc_hook_run(struct alloc_hook *h, const struct alloc_hook_job *j);
/* Hooks running now. */
size_t alloc_hook_running(const struct alloc_hook *h);

const char *alloc_hook_outcome_name(enum alloc_hook_outcome o);

#endif

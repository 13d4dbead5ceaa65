/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_hook: fork/exec of provisioning hooks watched from the event loop (alloc_hook.h).
 *
 * Each running hook has a pidfd (readable when the child exits), a pipe for its output
 * (read as it comes, so a chatty hook never blocks on a full pipe) and a timer for its time
 * limit. The child is reaped with waitid(P_PIDFD) only once the pidfd says it has exited,
 * so the loop never blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include <event2/event.h>

#include "alloc_hook.h"
#include "log.h"

struct child {
	struct alloc_hook *h;
	struct child *next;
	pid_t pid;
	int pidfd, out;
	struct event *ev_exit, *ev_out, *ev_timer;
	bool timed_out;
	struct timespec started;
	size_t out_len;
	char output[ALLOC_HOOK_OUTPUT_MAX];
	alloc_hook_done_fn done;
	void *arg;
	char program[256];
};

struct alloc_hook {
	struct event_base *base;
	struct child *children;
	size_t running;
};

const char *alloc_hook_outcome_name(enum alloc_hook_outcome o)
{
	switch (o) {
	case ALLOC_HOOK_OK:
		return "ok";
	case ALLOC_HOOK_RETRY:
		return "retry";
	case ALLOC_HOOK_FAILED:
		return "failed";
	}
	return "?";
}

struct alloc_hook *alloc_hook_new(struct event_base *base)
{
	struct alloc_hook *h = calloc(1, sizeof(*h));
	if (h)
		h->base = base;
	return h;
}

static void child_free(struct child *c)
{
	if (c->ev_exit)
		event_free(c->ev_exit);
	if (c->ev_out)
		event_free(c->ev_out);
	if (c->ev_timer)
		event_free(c->ev_timer);
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->out >= 0)
		close(c->out);
	free(c);
}

static void unlink_child(struct child *c)
{
	struct child **pp = &c->h->children;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	c->h->running--;
}

void alloc_hook_free(struct alloc_hook *h)
{
	if (!h)
		return;
	while (h->children) {
		struct child *c = h->children;
		h->children = c->next;
		kill(-c->pid, SIGKILL);
		siginfo_t si;
		waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED);
		log_warn("provisioning hook %s (pid %d) killed: tidald is stopping", c->program,
		         (int)c->pid);
		child_free(c);
	}
	free(h);
}

size_t alloc_hook_running(const struct alloc_hook *h)
{
	return h ? h->running : 0;
}

static void drain(struct child *c)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(c->out, buf, sizeof(buf));
		if (n <= 0)
			return;
		size_t room = sizeof(c->output) - 1 - c->out_len;
		size_t k = (size_t)n < room ? (size_t)n : room;
		memcpy(c->output + c->out_len, buf, k);
		c->out_len += k;
		c->output[c->out_len] = '\0';
	}
}

static void on_out(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	drain(arg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	(void)fd, (void)what;
	c->timed_out = true;
	/* The whole group: a shell hook's own children go too. */
	kill(-c->pid, SIGKILL);
}

static void on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	(void)fd, (void)what;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return; /* not yet (spurious wake-up) */
	drain(c);
	struct alloc_hook_result r;
	memset(&r, 0, sizeof(r));
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	r.seconds = (double)(now.tv_sec - c->started.tv_sec) +
	            (double)(now.tv_nsec - c->started.tv_nsec) * 1e-9;
	r.timed_out = c->timed_out;
	r.exit_code = -1;
	if (si.si_code == CLD_EXITED)
		r.exit_code = si.si_status;
	else
		r.signal = si.si_status;
	if (c->timed_out)
		r.outcome = ALLOC_HOOK_RETRY;
	else if (r.exit_code == 0)
		r.outcome = ALLOC_HOOK_OK;
	else if (r.exit_code == ALLOC_HOOK_TEMPFAIL)
		r.outcome = ALLOC_HOOK_RETRY;
	else
		r.outcome = ALLOC_HOOK_FAILED;
	memcpy(r.output, c->output, c->out_len + 1);
	unlink_child(c);
	alloc_hook_done_fn done = c->done;
	void *darg = c->arg;
	child_free(c);
	if (done)
		done(darg, &r);
}

int alloc_hook_run(struct alloc_hook *h, const struct alloc_hook_job *j)
{
	if (!h || !j || !j->program || !j->program[0] || !j->action || !j->timeout_s)
		return -EINVAL;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	struct child *c = calloc(1, sizeof(*c));
	if (!c) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -ENOMEM;
	}
	c->h = h;
	c->pidfd = -1;
	c->out = pipefd[0];
	c->done = j->done;
	c->arg = j->arg;
	snprintf(c->program, sizeof(c->program), "%s", j->program);
	/* Everything the child needs is built before fork: after it, only async-signal-safe
	 * calls. */
	size_t ne = 0, np = 0;
	while (j->env && j->env[ne])
		ne++;
	for (char **e = environ; e && *e; e++)
		np += !strncmp(*e, "TIDAL_HOOK_", 11);
	const char **envp = calloc(ne + np + 2, sizeof(char *));
	if (!envp) {
		close(pipefd[1]);
		child_free(c);
		return -ENOMEM;
	}
	envp[0] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; i < ne; i++)
		envp[i + 1] = j->env[i];
	for (char **e = environ; e && *e; e++) /* the operator's settings for hooks */
		if (!strncmp(*e, "TIDAL_HOOK_", 11))
			envp[++ne] = *e;
	char *argv[] = {c->program, (char *)j->action, NULL};
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		free(envp);
		close(pipefd[1]);
		child_free(c);
		return -e;
	}
	if (pid == 0) {
		setpgid(0, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execve(argv[0], argv, (char *const *)envp);
		static const char msg[] = "cannot execute the hook\n";
		if (write(2, msg, sizeof(msg) - 1) < 0) {
			/* nothing more to say */
		}
		_exit(127);
	}
	free(envp);
	close(pipefd[1]);
	setpgid(pid, pid); /* also from the parent: no race with an early timeout kill */
	c->pid = pid;
	c->pidfd = pidfd_open(pid, 0);
	if (c->pidfd < 0) {
		int e = errno;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		child_free(c);
		return -e;
	}
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	c->ev_exit = event_new(h->base, c->pidfd, EV_READ | EV_PERSIST, on_exit_ev, c);
	c->ev_out = event_new(h->base, c->out, EV_READ | EV_PERSIST, on_out, c);
	c->ev_timer = evtimer_new(h->base, on_timeout, c);
	struct timeval tv = {.tv_sec = (time_t)j->timeout_s};
	if (!c->ev_exit || !c->ev_out || !c->ev_timer || event_add(c->ev_exit, NULL) ||
	    event_add(c->ev_out, NULL) || evtimer_add(c->ev_timer, &tv)) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		child_free(c);
		return -ENOMEM;
	}
	c->next = h->children;
	h->children = c;
	h->running++;
	return 0;
}

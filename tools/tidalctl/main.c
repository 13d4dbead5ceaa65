/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidalctl: the engineer's CLI. Checks the command line against the command table, sends
 * one JSON request over tidald's control socket, and prints the reply: an aligned table
 * for people, or with -j the reply's data as one JSON document for scripts.
 *
 * Exit status: 0 success, 1 refused request, 2 usage error, 3 daemon unreachable.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cfg.h"
#include "commands.h"

enum { EXIT_OKAY = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

#define DEFAULT_SOCKET "/run/tidal/tidal.sock"
#define MAX_REPLY (64u << 20)

static bool json_out;

static void usage(FILE *f)
{
	fprintf(f, "usage: tidalctl [-s SOCKET | -c CONFIG] [-j] [-t SECONDS] COMMAND ...\n"
		   "  -s SOCKET   tidald control socket (default: $TIDAL_SOCKET, the only\n"
		   "              /run/tidal/*.sock, or " DEFAULT_SOCKET ")\n"
		   "  -c CONFIG   take the socket from this tidal.ini\n"
		   "  -j          print the reply as JSON\n"
		   "  -t SECONDS  reply timeout, and the longest --wait (default 30)\n"
		   "commands:\n");
	for (size_t i = 0; i < tidalctl_n_commands; i++) {
		const struct ctl_cmd_spec *c = &tidalctl_commands[i];
		fprintf(f, "  %-15s %-40s %s\n", c->words, c->synopsis, c->help);
	}
}

static int fail_usage(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "tidalctl: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n(tidalctl -h lists commands and options)\n");
	if (json_out) {
		char msg[512];
		snprintf(msg, sizeof(msg), fmt, a, b);
		json_t *o = json_pack("{s:s,s:s}", "code", "usage", "error", msg);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	return EXIT_USAGE;
}

/* Find the longest command whose words start argv. */
static const struct ctl_cmd_spec *match_command(int argc, char **argv, int *used)
{
	const struct ctl_cmd_spec *best = NULL;
	int best_n = 0;
	for (size_t i = 0; i < tidalctl_n_commands; i++) {
		const struct ctl_cmd_spec *c = &tidalctl_commands[i];
		char words[64];
		snprintf(words, sizeof(words), "%s", c->words);
		int n = 0;
		bool ok = true;
		for (char *save, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (n >= argc || strcmp(argv[n], w) != 0) {
				ok = false;
				break;
			}
			n++;
		}
		if (ok && n > best_n) {
			best = c;
			best_n = n;
		}
	}
	*used = best_n;
	return best;
}

static const struct ctl_opt_spec *find_opt(const struct ctl_cmd_spec *c, const char *name,
					   char short_name)
{
	for (int i = 0; i < CTL_MAX_OPTS && c->opts[i].name; i++) {
		if (short_name ? c->opts[i].short_name == short_name
			       : strcmp(c->opts[i].name, name) == 0)
			return &c->opts[i];
	}
	return NULL;
}

static char *absolute_path(const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return strdup(p);
	char *out = NULL;
	if (asprintf(&out, "%s/%s", cwd, p) < 0)
		return NULL;
	return out;
}

static json_t *path_value(const char *v)
{
	char *abs = absolute_path(v);
	json_t *j = json_string(abs ? abs : v);
	free(abs);
	return j;
}

/* Build {"cmd", "args", "opts"} from the words after the command. */
static int build_request(const struct ctl_cmd_spec *c, int argc, char **argv, json_t **out)
{
	json_t *args = json_array(), *opts = json_object();
	json_t *req = json_pack("{s:s,s:o,s:o}", "cmd", c->words, "args", args, "opts", opts);
	int rc = EXIT_OKAY;

	for (int i = 0; i < argc && rc == EXIT_OKAY; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9')) {
			const struct ctl_opt_spec *o;
			char name[64];
			const char *val = NULL;
			if (a[1] == '-') {
				snprintf(name, sizeof(name), "%s", a + 2);
				char *eq = strchr(name, '=');
				if (eq) {
					*eq = '\0';
					val = a + 2 + (eq - name) + 1;
				}
				o = find_opt(c, name, 0);
			} else {
				snprintf(name, sizeof(name), "%s", a + 1);
				o = a[2] == '\0' ? find_opt(c, NULL, a[1]) : NULL;
			}
			if (!o) {
				rc = fail_usage("'%s' does not take option %s", c->words, a);
				break;
			}
			if (o->takes_value && !val) {
				if (i + 1 >= argc) {
					rc = fail_usage("option %s of '%s' needs a value", a, c->words);
					break;
				}
				val = argv[++i];
			} else if (!o->takes_value && val) {
				rc = fail_usage("option --%s of '%s' takes no value", o->name, c->words);
				break;
			}
			if (json_object_get(opts, o->name)) {
				rc = fail_usage("option --%s given twice to '%s'", o->name, c->words);
				break;
			}
			json_object_set_new(opts, o->name,
					    !o->takes_value ? json_true()
					    : o->is_path    ? path_value(val)
							    : json_string(val));
			continue;
		}
		if (json_array_size(args) >= c->max_args) {
			rc = fail_usage("unexpected argument '%s' to '%s'", a, c->words);
			break;
		}
		json_array_append_new(args, (int)json_array_size(args) == c->path_arg
						    ? path_value(a)
						    : json_string(a));
	}
	if (rc == EXIT_OKAY && json_array_size(args) < c->min_args)
		rc = fail_usage("'%s' needs %s", c->words, c->synopsis);
	for (int i = 0; rc == EXIT_OKAY && i < CTL_MAX_OPTS && c->opts[i].name; i++)
		if (c->opts[i].required && !json_object_get(opts, c->opts[i].name))
			rc = fail_usage("'%s' needs --%s", c->words, c->opts[i].name);
	if (rc != EXIT_OKAY) {
		json_decref(req);
		return rc;
	}
	*out = req;
	return EXIT_OKAY;
}

/* ---- socket ------------------------------------------------------------------------- */

static char *default_socket(void)
{
	const char *env = getenv("TIDAL_SOCKET");
	if (env && env[0])
		return strdup(env);
	glob_t g;
	char *found = NULL;
	size_t n = 0;
	if (glob("/run/tidal/*.sock", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			size_t l = strlen(g.gl_pathv[i]);
			if (l > 8 && strcmp(g.gl_pathv[i] + l - 8, "-dp.sock") == 0)
				continue; /* tidal-dp's socket, not a tidald */
			n++;
			free(found);
			found = strdup(g.gl_pathv[i]);
		}
		globfree(&g);
	}
	if (n == 1)
		return found;
	free(found);
	return strdup(DEFAULT_SOCKET);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int unreachable(const char *path, const char *why)
{
	fprintf(stderr, "tidalctl: cannot reach tidald at %s: %s\n", path, why);
	fprintf(stderr, "tidalctl: is tidald running? (-s SOCKET or -c CONFIG selects another)\n");
	if (json_out) {
		json_t *o = json_pack("{s:s,s:s,s:s}", "code", "unreachable", "socket", path,
				      "error", why);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	return EXIT_UNREACHABLE;
}

/* Send one request line and read one reply line. */
static int exchange(const char *path, const char *req, int timeout_s, char **reply)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path))
		return unreachable(path, "socket path too long");
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return unreachable(path, strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		return unreachable(path, strerror(e));
	}
	size_t len = strlen(req);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;
			close(fd);
			return unreachable(path, strerror(e));
		}
		off += (size_t)n;
	}

	size_t cap = 65536, got = 0;
	char *buf = malloc(cap);
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	while (buf) {
		char *nl = got ? memchr(buf, '\n', got) : NULL;
		if (nl) {
			*nl = '\0';
			close(fd);
			*reply = buf;
			return EXIT_OKAY;
		}
		int64_t left = deadline - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			free(buf);
			close(fd);
			return unreachable(path, pr == 0 ? "no reply before the timeout" : "poll failed");
		}
		if (got == cap) {
			if (cap >= MAX_REPLY) {
				free(buf);
				close(fd);
				return unreachable(path, "reply too large");
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + got, cap - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			close(fd);
			return unreachable(path, n == 0 ? "connection closed before a reply"
							: strerror(errno));
		}
		got += (size_t)n;
	}
	free(buf);
	close(fd);
	return unreachable(path, "out of memory");
}

/* ---- output -------------------------------------------------------------------------- */

static bool looks_numeric(const char *s)
{
	if (!*s)
		return false;
	char *end;
	strtod(s, &end);
	if (end == s)
		return false;
	/* a number with a unit suffix: 10G, 95%, 30s, 1.5k */
	return *end == '\0' || (strchr("%kMGTPsmhd", *end) && strlen(end) <= 3);
}

static void print_table(json_t *table)
{
	json_t *cols = json_object_get(table, "columns");
	json_t *rows = json_object_get(table, "rows");
	size_t nc = json_array_size(cols);
	if (!nc)
		return;
	size_t *w = calloc(nc, sizeof(*w));
	bool *num = calloc(nc, sizeof(*num));
	if (!w || !num) {
		free(w);
		free(num);
		return;
	}
	for (size_t c = 0; c < nc; c++) {
		w[c] = strlen(json_string_value(json_array_get(cols, c)));
		num[c] = json_array_size(rows) > 0;
	}
	size_t r;
	json_t *row;
	json_array_foreach(rows, r, row)
	{
		for (size_t c = 0; c < nc; c++) {
			const char *s = json_string_value(json_array_get(row, c));
			s = s ? s : "-";
			if (strlen(s) > w[c])
				w[c] = strlen(s);
			if (strcmp(s, "-") != 0 && !looks_numeric(s))
				num[c] = false;
		}
	}
	for (size_t c = 0; c < nc; c++) {
		char head[128];
		snprintf(head, sizeof(head), "%s", json_string_value(json_array_get(cols, c)));
		for (char *p = head; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		printf(num[c] ? "%*s" : "%-*s", (int)w[c], head);
		printf(c + 1 < nc ? "  " : "\n");
	}
	json_array_foreach(rows, r, row)
	{
		for (size_t c = 0; c < nc; c++) {
			const char *s = json_string_value(json_array_get(row, c));
			s = s ? s : "-";
			if (c + 1 == nc && !num[c])
				printf("%s\n", s);
			else
				printf(num[c] ? "%*s%s" : "%-*s%s", (int)w[c], s,
				       c + 1 < nc ? "  " : "\n");
		}
	}
	if (json_array_size(rows) == 0)
		printf("(none)\n");
	free(w);
	free(num);
}

static int print_reply(const char *line)
{
	json_error_t err;
	json_t *rep = json_loads(line, 0, &err);
	if (!json_is_object(rep)) {
		fprintf(stderr, "tidalctl: tidald sent a reply that is not JSON: %s\n", err.text);
		json_decref(rep);
		return EXIT_REFUSED;
	}
	int rc = EXIT_OKAY;
	if (!json_is_true(json_object_get(rep, "ok"))) {
		const char *code = json_string_value(json_object_get(rep, "code"));
		const char *msg = json_string_value(json_object_get(rep, "error"));
		fprintf(stderr, "tidalctl: %s\n", msg ? msg : "request failed");
		if (json_out) {
			json_t *o = json_pack("{s:s,s:s}", "code", code ? code : "internal", "error",
					      msg ? msg : "request failed");
			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(o);
		}
		rc = code && strcmp(code, "usage") == 0 ? EXIT_USAGE : EXIT_REFUSED;
	} else if (json_out) {
		json_t *data = json_object_get(rep, "data");
		json_dumpf(data ? data : json_null(), stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
		putchar('\n');
	} else {
		const char *text = json_string_value(json_object_get(rep, "text"));
		json_t *table = json_object_get(rep, "table");
		if (text)
			printf("%s\n", text);
		if (table)
			print_table(table);
		else if (!text) {
			json_dumpf(json_object_get(rep, "data"), stdout,
				   JSON_INDENT(2) | JSON_ENCODE_ANY);
			putchar('\n');
		}
	}
	json_decref(rep);
	return rc;
}

/* A reply that says "not done yet" carries a poll: the request to send next, after_ms later
 * (docs/control.md, "Waiting"). Returns that request line (after sleeping), or NULL when the
 * reply is final, or when the -t deadline would pass: then the last reply is printed and
 * *rc says the wait was given up. */
static char *next_poll(const char *reply, int64_t deadline, int *rc, int timeout_s)
{
	json_t *rep = json_loads(reply, 0, NULL);
	json_t *poll = json_is_true(json_object_get(rep, "ok")) ? json_object_get(rep, "poll")
	                                                         : NULL;
	const char *cmd = json_string_value(json_object_get(poll, "cmd"));
	if (!json_is_object(poll) || !cmd) {
		json_decref(rep);
		return NULL;
	}
	json_int_t after = json_integer_value(json_object_get(poll, "after_ms"));
	after = after < 10 ? 10 : after > 5000 ? 5000 : after;
	if (now_ms() + after > deadline) {
		print_reply(reply);
		const char *text = json_string_value(json_object_get(rep, "text"));
		fprintf(stderr, "tidalctl: gave up waiting after %d s (-t SECONDS waits longer)%s%s\n",
		        timeout_s, text ? ": " : "", text ? text : "");
		*rc = EXIT_REFUSED;
		json_decref(rep);
		return NULL;
	}
	json_t *args = json_object_get(poll, "args"), *opts = json_object_get(poll, "opts");
	args = json_is_array(args) ? json_incref(args) : json_array();
	opts = json_is_object(opts) ? json_incref(opts) : json_object();
	json_t *req = json_pack("{s:s,s:o,s:o}", "cmd", cmd, "args", args, "opts", opts);
	char *line = req ? json_dumps(req, JSON_COMPACT) : NULL, *full = NULL;
	json_decref(req);
	json_decref(rep);
	if (!line || asprintf(&full, "%s\n", line) < 0)
		full = NULL;
	free(line);
	if (!full)
		return NULL;
	struct timespec ts = {.tv_sec = after / 1000, .tv_nsec = (long)(after % 1000) * 1000000};
	nanosleep(&ts, NULL);
	return full;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL;
	int timeout_s = 30;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			json_out = true;
		} else if ((strcmp(a, "-s") == 0 || strcmp(a, "-c") == 0 || strcmp(a, "-t") == 0) &&
			   i + 1 < argc) {
			if (a[1] == 's')
				sock = argv[++i];
			else if (a[1] == 'c')
				config = argv[++i];
			else {
				char *end;
				long t = strtol(argv[++i], &end, 10);
				if (*end || t <= 0 || t > 3600)
					return fail_usage("-t needs seconds between 1 and 3600, not '%s'%s",
							  argv[i], "");
				timeout_s = (int)t;
			}
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return EXIT_OKAY;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("tidalctl %s\n", TIDAL_VERSION);
			return EXIT_OKAY;
		} else {
			return fail_usage("unknown option '%s'%s", a, "");
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	int used;
	const struct ctl_cmd_spec *c = match_command(argc - i, argv + i, &used);
	if (!c)
		return fail_usage("unknown command '%s'%s", argv[i], "");
	json_t *req;
	int rc = build_request(c, argc - i - used, argv + i + used, &req);
	if (rc != EXIT_OKAY)
		return rc;

	char *path = NULL;
	if (sock) {
		path = strdup(sock);
	} else if (config) {
		struct cfg_diag diag;
		cfg_diag_init(&diag);
		struct tidal_cfg *cfg = cfg_load(config, &diag);
		if (!cfg) {
			cfg_diag_print(&diag, stderr);
			cfg_diag_free(&diag);
			json_decref(req);
			return fail_usage("cannot take the socket from %s%s", config,
					  ": it has errors");
		}
		path = strdup(cfg->control.socket);
		cfg_free(cfg);
		cfg_diag_free(&diag);
	} else {
		path = default_socket();
	}

	char *line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *full = NULL;
	if (!line || asprintf(&full, "%s\n", line) < 0)
		full = NULL;
	free(line);
	char *reply = NULL;
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	rc = full ? exchange(path, full, timeout_s, &reply) : EXIT_UNREACHABLE;
	free(full);
	while (rc == EXIT_OKAY) {
		char *next = next_poll(reply, deadline, &rc, timeout_s);
		if (!next)
			break;
		free(reply);
		reply = NULL;
		rc = exchange(path, next, timeout_s, &reply);
		free(next);
	}
	if (rc == EXIT_OKAY)
		rc = print_reply(reply);
	free(reply);
	free(path);
	return rc;
}

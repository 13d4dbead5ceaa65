/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: one line per message, "TIME IDENT[PID] LEVEL: message", UTC ISO 8601 timestamps.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum tlog_level cur_level = TLOG_INFO;
static const char *cur_ident = "tidal";
static tlog_sink_fn cur_sink;
static void *cur_sink_arg;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void tlog_set_ident(const char *ident)
{
	cur_ident = ident ? ident : "tidal";
}

void tlog_set_level(enum tlog_level level)
{
	cur_level = level;
}

enum tlog_level tlog_get_level(void)
{
	return cur_level;
}

const char *tlog_level_name(enum tlog_level level)
{
	if ((unsigned)level > TLOG_DEBUG)
		return "?";
	return level_names[level];
}

int tlog_parse_level(const char *s, enum tlog_level *out)
{
	if (!s)
		return -EINVAL;
	for (unsigned i = 0; i <= TLOG_DEBUG; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum tlog_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = TLOG_WARN;
		return 0;
	}
	return -EINVAL;
}

void tlog_set_sink(tlog_sink_fn fn, void *arg)
{
	cur_sink = fn;
	cur_sink_arg = arg;
}

void tlogv(enum tlog_level level, const char *fmt, va_list ap)
{
	char msg[2048];

	if (level > cur_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cur_sink) {
		cur_sink(level, msg, cur_sink_arg);
		return;
	}

	struct timeval tv;
	struct tm tm;
	char ts[32];
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s\n", ts, (long)(tv.tv_usec / 1000), cur_ident,
		(long)getpid(), tlog_level_name(level), msg);
}

void tlog(enum tlog_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tlogv(level, fmt, ap);
	va_end(ap);
}

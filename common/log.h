/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: levelled logging to stderr for every tidal binary and library.
 *
 * Owns only the process-wide level and an optional sink (tests capture messages through
 * it). Never exits, never allocates on the logging path beyond a stack buffer.
 */
#ifndef TIDAL_COMMON_LOG_H
#define TIDAL_COMMON_LOG_H

#include <stdarg.h>

enum tlog_level {
	TLOG_ERROR = 0,
	TLOG_WARN = 1,
	TLOG_INFO = 2,
	TLOG_DEBUG = 3,
};

typedef void (*tlog_sink_fn)(enum tlog_level level, const char *msg, void *arg);

/* Name printed before every line, e.g. "tidald" (not copied: pass a string literal). */
void tlog_set_ident(const char *ident);
void tlog_set_level(enum tlog_level level);
enum tlog_level tlog_get_level(void);
/* Parse "error", "warn"/"warning", "info", "debug". Returns 0 or -EINVAL. */
int tlog_parse_level(const char *s, enum tlog_level *out);
const char *tlog_level_name(enum tlog_level level);
/* Replace the stderr writer (NULL restores it). */
void tlog_set_sink(tlog_sink_fn fn, void *arg);

void tlog(enum tlog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tlogv(enum tlog_level level, const char *fmt, va_list ap);

#define log_err(...)   tlog(TLOG_ERROR, __VA_ARGS__)
#define log_warn(...)  tlog(TLOG_WARN, __VA_ARGS__)
#define log_info(...)  tlog(TLOG_INFO, __VA_ARGS__)
#define log_debug(...) tlog(TLOG_DEBUG, __VA_ARGS__)

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * units: parsers and formatters for the values people type into tidal.ini and tidalctl.
 *
 *   bandwidth  bits per second, SI suffixes k M G T (x1000):  "10G", "500M", "1.5G", "64000"
 *   bytes      binary suffixes KiB MiB GiB TiB PiB (x1024):   "1TiB", "512MiB", "4096"
 *   durations  ms s m h d, may be combined:                     "30s", "72h", "1h30m", "250ms"
 *   percent    "10%" (fraction 0.10); values above 100% are allowed where a caller allows
 *   times      ISO 8601 UTC: "2026-11-27T00:00:00Z" (also "+00:00", fractional seconds
 *              dropped); relative "+1h" / "now" where a caller passes the current time
 *   prefixes   "198.51.100.0/24", "2001:db8::/32", bare address = host route
 *   DSCP       names be/default, cs0..cs7, af11..af43, ef, va, le, or a number 0..63
 *   host:port  "127.0.0.1:9479", "[::1]:7179", "gw1.example.net:7179"
 *
 * Pure functions: no I/O, no allocation. Each parser returns 0, or -EINVAL/-ERANGE and
 * points *why (when not NULL) at a static message that says what was expected.
 */
#ifndef TIDAL_CONFIG_UNITS_H
#define TIDAL_CONFIG_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_HOST_MAX 256

struct cfg_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;    /* prefix length in bits */
	uint8_t addr[16]; /* network order; host bits are zero */
};

struct cfg_hostport {
	char host[CFG_HOST_MAX]; /* without brackets for IPv6 literals */
	uint16_t port;
};

int cfg_parse_bps(const char *s, uint64_t *bps, const char **why);
int cfg_parse_bytes(const char *s, uint64_t *bytes, const char **why);
int cfg_parse_duration(const char *s, uint64_t *ms, const char **why);
int cfg_parse_percent(const char *s, double *fraction, const char **why);
/* Absolute ISO 8601 UTC time to seconds since the epoch. */
int cfg_parse_time(const char *s, int64_t *unix_s, const char **why);
/* Like cfg_parse_time, and also "now" and "+DURATION" relative to now_s. */
int cfg_parse_time_rel(const char *s, int64_t now_s, int64_t *unix_s, const char **why);
/* Rejects host bits set ("10.0.0.1/8") so that a typo does not silently widen a match. */
int cfg_parse_prefix(const char *s, struct cfg_prefix *p, const char **why);
int cfg_parse_dscp(const char *s, uint8_t *dscp, const char **why);
int cfg_parse_hostport(const char *s, struct cfg_hostport *hp, const char **why);
/* Unsigned integer in [min, max], decimal only. */
int cfg_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char **why);
/* Decimal number in [min, max]. */
int cfg_parse_double(const char *s, double min, double max, double *out, const char **why);
int cfg_parse_bool(const char *s, bool *out, const char **why);

/* Formatters write a short exact form that the parser reads back to the same value
 * (e.g. 10000000000 -> "10G", 1500000 -> "1500k"; durations in the shortest single unit
 * or combined from hours down: 90s, 72h, 168h, 2h30m); they return buf. */
char *cfg_fmt_bps(uint64_t bps, char *buf, size_t len);
char *cfg_fmt_bytes(uint64_t bytes, char *buf, size_t len);
char *cfg_fmt_duration(uint64_t ms, char *buf, size_t len);
char *cfg_fmt_percent(double fraction, char *buf, size_t len); /* 0.1 -> "10%" */
char *cfg_fmt_time(int64_t unix_s, char *buf, size_t len); /* "2026-11-27T00:00:00Z" */
char *cfg_fmt_prefix(const struct cfg_prefix *p, char *buf, size_t len);
char *cfg_fmt_dscp(uint8_t dscp, char *buf, size_t len); /* name when one exists */
char *cfg_fmt_hostport(const struct cfg_hostport *hp, char *buf, size_t len);
/* Human rate with a decimal point for tables: 1234567 -> "1.23M". Not for round trips. */
char *cfg_fmt_bps_human(double bps, char *buf, size_t len);

/* Does address addr (family, 4 or 16 bytes) fall inside p? */
bool cfg_prefix_contains(const struct cfg_prefix *p, int family, const uint8_t *addr);

#endif

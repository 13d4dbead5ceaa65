/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-units: every units parser with good, bad and edge inputs (empty, blanks, zero,
 * negative, overflow, wrong units), and every formatter read back by its parser.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "units.h"

/* A small deterministic generator for round-trip sweeps. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- bits per second ---------------------------------------------------------------- */

static void bps_ok(const char *s, uint64_t want)
{
	uint64_t v = 12345;
	const char *why = NULL;
	int rc = cfg_parse_bps(s, &v, &why);
	if (rc != 0)
		fail_msg("cfg_parse_bps(\"%s\") = %d (%s)", s, rc, why ? why : "");
	assert_int_equal(v, want);
}

static void bps_bad(const char *s, int err)
{
	uint64_t v = 777;
	const char *why = NULL;
	int rc = cfg_parse_bps(s, &v, &why);
	if (rc != err)
		fail_msg("cfg_parse_bps(\"%s\") = %d, want %d", s, rc, err);
	assert_non_null(why);
	assert_int_equal(v, 777); /* untouched on error */
	assert_int_equal(cfg_parse_bps(s, &v, NULL), err); /* why may be NULL */
}

static void test_bps_parse(void **state)
{
	(void)state;
	bps_ok("0", 0);
	bps_ok("64000", 64000);
	bps_ok("10G", 10000000000ULL);
	bps_ok("500M", 500000000ULL);
	bps_ok("1.5G", 1500000000ULL);
	bps_ok("1k", 1000);
	bps_ok("1K", 1000);
	bps_ok("2T", 2000000000000ULL);
	bps_ok(" 10G ", 10000000000ULL);
	bps_ok("10 G", 10000000000ULL);
	bps_ok("\t100M", 100000000ULL);
	bps_ok("0.001k", 1);
	bps_ok("1.000000G", 1000000000ULL);
	bps_ok("0001G", 1000000000ULL);
	bps_ok("18446744073709551615", UINT64_MAX);
	bps_ok("18446744T", 18446744000000000000ULL);
	bps_ok("0G", 0);

	bps_bad("", -EINVAL);
	bps_bad("   ", -EINVAL);
	bps_bad("-1G", -EINVAL);
	bps_bad("10Gb", -EINVAL);
	bps_bad("10Gbps", -EINVAL);
	bps_bad("10Gbit/s", -EINVAL);
	bps_bad("10GB", -EINVAL);
	bps_bad("10Gi", -EINVAL);
	bps_bad("10m", -EINVAL);
	bps_bad("10g", -EINVAL);
	bps_bad("100bps", -EINVAL);
	bps_bad("1.5", -EINVAL);
	bps_bad("1.0001k", -EINVAL);
	bps_bad("18446744073709551616", -ERANGE);
	bps_bad("18446745T", -ERANGE);
	bps_bad("99999999999999999999999999999T", -ERANGE);
	bps_bad("1e9", -EINVAL);
	bps_bad(".5G", -EINVAL);
	bps_bad("1.G", -EINVAL);
	bps_bad("G", -EINVAL);
	bps_bad("0x10", -EINVAL);
	bps_bad("1,000", -EINVAL);
	bps_bad("+5", -EINVAL);
	bps_bad("10 G b", -EINVAL);
}

static void test_bps_messages(void **state)
{
	const char *why;
	uint64_t v;
	(void)state;
	assert_int_equal(cfg_parse_bps("10GB", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "bytes"));
	assert_int_equal(cfg_parse_bps("10Gbps", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "not 10Gbps"));
	assert_int_equal(cfg_parse_bps("500m", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "milli"));
	assert_int_equal(cfg_parse_bps("80%", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "percentage"));
	assert_int_equal(cfg_parse_bps("-5M", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "negative"));
}

static void test_bps_format(void **state)
{
	char buf[32];
	(void)state;
	assert_string_equal(cfg_fmt_bps(0, buf, sizeof(buf)), "0");
	assert_string_equal(cfg_fmt_bps(1, buf, sizeof(buf)), "1");
	assert_string_equal(cfg_fmt_bps(999, buf, sizeof(buf)), "999");
	assert_string_equal(cfg_fmt_bps(1000, buf, sizeof(buf)), "1k");
	assert_string_equal(cfg_fmt_bps(1500000, buf, sizeof(buf)), "1500k");
	assert_string_equal(cfg_fmt_bps(10000000000ULL, buf, sizeof(buf)), "10G");
	assert_string_equal(cfg_fmt_bps(1000000000000ULL, buf, sizeof(buf)), "1T");
	assert_string_equal(cfg_fmt_bps(UINT64_MAX, buf, sizeof(buf)), "18446744073709551615");
	for (int i = 0; i < 2000; i++) {
		uint64_t v = rnd(), back;
		if (i % 3 == 0)
			v %= 100000;
		if (i % 3 == 1)
			v = (v % 1000000) * 1000000;
		cfg_fmt_bps(v, buf, sizeof(buf));
		assert_int_equal(cfg_parse_bps(buf, &back, NULL), 0);
		assert_int_equal(back, v);
	}
}

static void test_bps_human(void **state)
{
	char buf[32];
	(void)state;
	assert_string_equal(cfg_fmt_bps_human(1234567, buf, sizeof(buf)), "1.23M");
	assert_string_equal(cfg_fmt_bps_human(0, buf, sizeof(buf)), "0");
	assert_string_equal(cfg_fmt_bps_human(999, buf, sizeof(buf)), "999");
	assert_string_equal(cfg_fmt_bps_human(1000, buf, sizeof(buf)), "1.00k");
	assert_string_equal(cfg_fmt_bps_human(12345678, buf, sizeof(buf)), "12.3M");
	assert_string_equal(cfg_fmt_bps_human(123456789, buf, sizeof(buf)), "123M");
	assert_string_equal(cfg_fmt_bps_human(999999, buf, sizeof(buf)), "1.00M");
	assert_string_equal(cfg_fmt_bps_human(10e9, buf, sizeof(buf)), "10.0G");
	assert_string_equal(cfg_fmt_bps_human(-2e6, buf, sizeof(buf)), "-2.00M");
	assert_string_equal(cfg_fmt_bps_human(NAN, buf, sizeof(buf)), "-");
}

/* ---- bytes -------------------------------------------------------------------------- */

static void bytes_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	const char *why = NULL;
	if (cfg_parse_bytes(s, &v, &why) != 0)
		fail_msg("cfg_parse_bytes(\"%s\"): %s", s, why ? why : "");
	assert_int_equal(v, want);
}

static void bytes_bad(const char *s, int err)
{
	uint64_t v = 5;
	const char *why = NULL;
	int rc = cfg_parse_bytes(s, &v, &why);
	if (rc != err)
		fail_msg("cfg_parse_bytes(\"%s\") = %d, want %d", s, rc, err);
	assert_non_null(why);
	assert_int_equal(v, 5);
}

static void test_bytes(void **state)
{
	char buf[32];
	const char *why;
	uint64_t v;
	(void)state;
	bytes_ok("0", 0);
	bytes_ok("4096", 4096);
	bytes_ok("4096B", 4096);
	bytes_ok("1KiB", 1024);
	bytes_ok("512MiB", 512ULL << 20);
	bytes_ok("1 GiB", 1ULL << 30);
	bytes_ok("1TiB", 1ULL << 40);
	bytes_ok("2PiB", 2ULL << 50);
	bytes_ok("1.5GiB", 3ULL << 29);
	bytes_ok("16383PiB", 16383ULL << 50);

	bytes_bad("", -EINVAL);
	bytes_bad("1GB", -EINVAL);
	bytes_bad("1G", -EINVAL);
	bytes_bad("1Gb", -EINVAL);
	bytes_bad("1gib", -EINVAL);
	bytes_bad("1EiB", -EINVAL);
	bytes_bad("0.1KiB", -EINVAL);
	bytes_bad("-1KiB", -EINVAL);
	bytes_bad("16384PiB", -ERANGE);
	bytes_bad("1e3", -EINVAL);

	assert_int_equal(cfg_parse_bytes("1TB", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "TiB"));
	assert_int_equal(cfg_parse_bytes("64G", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "GiB"));

	assert_string_equal(cfg_fmt_bytes(0, buf, sizeof(buf)), "0");
	assert_string_equal(cfg_fmt_bytes(1024, buf, sizeof(buf)), "1KiB");
	assert_string_equal(cfg_fmt_bytes(1536, buf, sizeof(buf)), "1536");
	assert_string_equal(cfg_fmt_bytes(1ULL << 30, buf, sizeof(buf)), "1GiB");
	assert_string_equal(cfg_fmt_bytes(3ULL << 50, buf, sizeof(buf)), "3PiB");
	assert_string_equal(cfg_fmt_bytes(3ULL << 29, buf, sizeof(buf)), "1536MiB");
	for (int i = 0; i < 2000; i++) {
		uint64_t x = rnd(), back;
		if (i % 2)
			x = (x % 100000) << (10 * (1 + i % 5));
		cfg_fmt_bytes(x, buf, sizeof(buf));
		assert_int_equal(cfg_parse_bytes(buf, &back, NULL), 0);
		assert_int_equal(back, x);
	}
}

/* ---- durations ---------------------------------------------------------------------- */

static void dur_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	const char *why = NULL;
	if (cfg_parse_duration(s, &v, &why) != 0)
		fail_msg("cfg_parse_duration(\"%s\"): %s", s, why ? why : "");
	assert_int_equal(v, want);
}

static void dur_bad(const char *s, int err)
{
	uint64_t v = 9;
	const char *why = NULL;
	int rc = cfg_parse_duration(s, &v, &why);
	if (rc != err)
		fail_msg("cfg_parse_duration(\"%s\") = %d, want %d", s, rc, err);
	assert_non_null(why);
	assert_int_equal(v, 9);
}

static void test_duration(void **state)
{
	char buf[48];
	const char *why;
	uint64_t v;
	(void)state;
	dur_ok("30s", 30000);
	dur_ok("72h", 72ULL * 3600000);
	dur_ok("1h30m", 5400000);
	dur_ok("1h 30m", 5400000);
	dur_ok("250ms", 250);
	dur_ok("1d", 86400000);
	dur_ok("2d12h", 216000000);
	dur_ok("1m30s500ms", 90500);
	dur_ok("1.5h", 5400000);
	dur_ok("0.5s", 500);
	dur_ok("0", 0);
	dur_ok("0s", 0);
	dur_ok(" 5m ", 300000);

	dur_bad("", -EINVAL);
	dur_bad("30", -EINVAL);
	dur_bad("1.5", -EINVAL);
	dur_bad("-1s", -EINVAL);
	dur_bad("30m1h", -EINVAL);
	dur_bad("1h1h", -EINVAL);
	dur_bad("5M", -EINVAL);
	dur_bad("1w", -EINVAL);
	dur_bad("1min", -EINVAL);
	dur_bad("0.5ms", -EINVAL);
	dur_bad("s", -EINVAL);
	dur_bad("1hh", -EINVAL);
	dur_bad("1h30", -EINVAL);
	dur_bad("213503982335d", -ERANGE);

	assert_int_equal(cfg_parse_duration("30", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "unit"));
	assert_int_equal(cfg_parse_duration("5M", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "minutes"));

	assert_string_equal(cfg_fmt_duration(0, buf, sizeof(buf)), "0s");
	assert_string_equal(cfg_fmt_duration(250, buf, sizeof(buf)), "250ms");
	assert_string_equal(cfg_fmt_duration(1500, buf, sizeof(buf)), "1500ms");
	assert_string_equal(cfg_fmt_duration(30000, buf, sizeof(buf)), "30s");
	assert_string_equal(cfg_fmt_duration(90000, buf, sizeof(buf)), "90s");
	assert_string_equal(cfg_fmt_duration(5400000, buf, sizeof(buf)), "90m");
	assert_string_equal(cfg_fmt_duration(86400000, buf, sizeof(buf)), "24h");
	assert_string_equal(cfg_fmt_duration(72ULL * 3600000, buf, sizeof(buf)), "72h");
	assert_string_equal(cfg_fmt_duration(168ULL * 3600000, buf, sizeof(buf)), "168h");
	assert_string_equal(cfg_fmt_duration(365ULL * 86400000, buf, sizeof(buf)), "365d");
	assert_string_equal(cfg_fmt_duration(9000000, buf, sizeof(buf)), "2h30m");
	assert_string_equal(cfg_fmt_duration(131400000, buf, sizeof(buf)), "36h30m");
	assert_string_equal(cfg_fmt_duration(36ULL * 3600000, buf, sizeof(buf)), "36h");
	assert_string_equal(cfg_fmt_duration(93784005, buf, sizeof(buf)), "93784005ms");
	assert_string_equal(cfg_fmt_duration(86401000, buf, sizeof(buf)), "24h1s");
	for (int i = 0; i < 2000; i++) {
		uint64_t x = rnd(), back;
		if (i % 2)
			x %= 1000ULL * 86400000;
		cfg_fmt_duration(x, buf, sizeof(buf));
		assert_int_equal(cfg_parse_duration(buf, &back, NULL), 0);
		assert_int_equal(back, x);
	}
}

/* ---- percent, integers, decimals, booleans ------------------------------------------- */

static void test_percent(void **state)
{
	char buf[48], in[48];
	double f = -1;
	const char *why;
	(void)state;
	assert_int_equal(cfg_parse_percent("10%", &f, NULL), 0);
	assert_true(f == 0.1);
	assert_int_equal(cfg_parse_percent("0%", &f, NULL), 0);
	assert_true(f == 0);
	assert_int_equal(cfg_parse_percent("2.5%", &f, NULL), 0);
	assert_true(f == 0.025);
	assert_int_equal(cfg_parse_percent("150%", &f, NULL), 0);
	assert_true(f == 1.5);
	assert_int_equal(cfg_parse_percent(" 10 % ", &f, NULL), 0);
	assert_true(f == 0.1);

	assert_int_equal(cfg_parse_percent("10", &f, &why), -EINVAL);
	assert_non_null(strstr(why, "%"));
	assert_int_equal(cfg_parse_percent("0.1", &f, &why), -EINVAL);
	assert_int_equal(cfg_parse_percent("-5%", &f, &why), -EINVAL);
	assert_int_equal(cfg_parse_percent("%", &f, &why), -EINVAL);
	assert_int_equal(cfg_parse_percent("", &f, &why), -EINVAL);
	assert_int_equal(cfg_parse_percent("abc%", &f, &why), -EINVAL);
	assert_int_equal(cfg_parse_percent("inf%", &f, &why), -EINVAL);

	assert_string_equal(cfg_fmt_percent(0.1, buf, sizeof(buf)), "10%");
	assert_string_equal(cfg_fmt_percent(0.025, buf, sizeof(buf)), "2.5%");
	assert_string_equal(cfg_fmt_percent(0, buf, sizeof(buf)), "0%");
	assert_string_equal(cfg_fmt_percent(1.5, buf, sizeof(buf)), "150%");
	/* every percentage typed with up to three decimals prints back to the same value */
	for (int i = 0; i < 3000; i++) {
		double a, b;
		snprintf(in, sizeof(in), "%d.%03d%%", (int)(rnd() % 1000), (int)(rnd() % 1000));
		assert_int_equal(cfg_parse_percent(in, &a, NULL), 0);
		cfg_fmt_percent(a, buf, sizeof(buf));
		assert_int_equal(cfg_parse_percent(buf, &b, NULL), 0);
		if (a != b)
			fail_msg("%s -> %s does not round trip", in, buf);
	}
}

static void test_uint_double_bool(void **state)
{
	uint64_t u = 0;
	double d = 0;
	bool b = false;
	const char *why;
	(void)state;
	assert_int_equal(cfg_parse_uint("0", 0, 10, &u, NULL), 0);
	assert_int_equal(u, 0);
	assert_int_equal(cfg_parse_uint(" 7 ", 0, 7, &u, NULL), 0);
	assert_int_equal(u, 7);
	assert_int_equal(cfg_parse_uint("4294967294", 1, 4294967294ULL, &u, NULL), 0);
	assert_int_equal(cfg_parse_uint("4294967295", 1, 4294967294ULL, &u, &why), -ERANGE);
	assert_int_equal(cfg_parse_uint("0", 1, 5, &u, &why), -ERANGE);
	assert_int_equal(cfg_parse_uint("18446744073709551615", 0, UINT64_MAX, &u, NULL), 0);
	assert_int_equal(u, UINT64_MAX);
	assert_int_equal(cfg_parse_uint("18446744073709551616", 0, UINT64_MAX, &u, &why),
			 -ERANGE);
	assert_int_equal(cfg_parse_uint("-1", 0, 10, &u, &why), -EINVAL);
	assert_int_equal(cfg_parse_uint("1.5", 0, 10, &u, &why), -EINVAL);
	assert_int_equal(cfg_parse_uint("", 0, 10, &u, &why), -EINVAL);
	assert_int_equal(cfg_parse_uint("0x10", 0, 100, &u, &why), -EINVAL);
	assert_int_equal(cfg_parse_uint("+3", 0, 100, &u, &why), -EINVAL);

	assert_int_equal(cfg_parse_double("0.95", 0, 1, &d, NULL), 0);
	assert_true(d == 0.95);
	assert_int_equal(cfg_parse_double("1e-3", 0, 1, &d, NULL), 0);
	assert_true(d == 0.001);
	assert_int_equal(cfg_parse_double("-0.5", -1, 1, &d, NULL), 0);
	assert_true(d == -0.5);
	assert_int_equal(cfg_parse_double("1.5", 0, 1, &d, &why), -ERANGE);
	assert_int_equal(cfg_parse_double("abc", 0, 1, &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_double("inf", 0, INFINITY, &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_double("nan", 0, 1, &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_double("0x1p3", 0, 100, &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_double("1e999", 0, INFINITY, &d, &why), -ERANGE);
	assert_int_equal(cfg_parse_double("", 0, 1, &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_double("5.", 0, 10, &d, &why), -EINVAL);

	assert_int_equal(cfg_parse_bool("yes", &b, NULL), 0);
	assert_true(b);
	assert_int_equal(cfg_parse_bool("No", &b, NULL), 0);
	assert_false(b);
	assert_int_equal(cfg_parse_bool("TRUE", &b, NULL), 0);
	assert_true(b);
	assert_int_equal(cfg_parse_bool("off", &b, NULL), 0);
	assert_false(b);
	assert_int_equal(cfg_parse_bool("1", &b, NULL), 0);
	assert_true(b);
	assert_int_equal(cfg_parse_bool(" 0 ", &b, NULL), 0);
	assert_false(b);
	assert_int_equal(cfg_parse_bool("maybe", &b, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(cfg_parse_bool("", &b, &why), -EINVAL);
}

/* ---- times -------------------------------------------------------------------------- */

static void time_ok(const char *s, int64_t want)
{
	int64_t t = -1;
	const char *why = NULL;
	if (cfg_parse_time(s, &t, &why) != 0)
		fail_msg("cfg_parse_time(\"%s\"): %s", s, why ? why : "");
	assert_int_equal(t, want);
}

static void time_bad(const char *s, int err)
{
	int64_t t = 3;
	const char *why = NULL;
	int rc = cfg_parse_time(s, &t, &why);
	if (rc != err)
		fail_msg("cfg_parse_time(\"%s\") = %d, want %d", s, rc, err);
	assert_non_null(why);
	assert_int_equal(t, 3);
}

static void test_time(void **state)
{
	char buf[40];
	int64_t t;
	const char *why;
	(void)state;
	time_ok("1970-01-01T00:00:00Z", 0);
	time_ok("2026-11-27T00:00:00Z", 1795737600);
	time_ok("2026-11-27T00:00:00+00:00", 1795737600);
	time_ok("2026-11-27T01:00:00+01:00", 1795737600);
	time_ok("2026-11-27T00:00:00-05:30", 1795757400);
	time_ok("2026-11-26T18:30:00-0530", 1795737600);
	time_ok("2026-11-27T00:00:00.999Z", 1795737600);
	time_ok("2026-11-27 00:00:00Z", 1795737600);
	time_ok("2026-11-27t00:00:00z", 1795737600);
	time_ok("2026-11-27T00:00Z", 1795737600);
	time_ok("2024-02-29T12:00:00Z", 1709208000);
	time_ok("2000-02-29T00:00:00Z", 951782400);
	time_ok("9999-12-31T23:59:59Z", 253402300799LL);

	time_bad("", -EINVAL);
	time_bad("2026-11-27", -EINVAL);
	time_bad("2026-11-27T00:00:00", -EINVAL);
	time_bad("2025-02-29T00:00:00Z", -EINVAL);
	time_bad("2100-02-29T00:00:00Z", -EINVAL);
	time_bad("2026-13-01T00:00:00Z", -EINVAL);
	time_bad("2026-00-10T00:00:00Z", -EINVAL);
	time_bad("2026-04-31T00:00:00Z", -EINVAL);
	time_bad("2026-11-27T24:00:00Z", -EINVAL);
	time_bad("2026-11-27T00:60:00Z", -EINVAL);
	time_bad("2026-11-27T00:00:60Z", -EINVAL);
	time_bad("2026-11-27T00:00:00ZZ", -EINVAL);
	time_bad("26-11-27T00:00:00Z", -EINVAL);
	time_bad("2026/11/27T00:00:00Z", -EINVAL);
	time_bad("2026-11-27T00:00:00+25:00", -EINVAL);
	time_bad("1969-12-31T23:59:59Z", -ERANGE);
	time_bad("1970-01-01T00:30:00+01:00", -ERANGE);
	time_bad("2026-11-27T00:00:00.Z", -EINVAL);

	assert_int_equal(cfg_parse_time("2026-11-27T00:00:00", &t, &why), -EINVAL);
	assert_non_null(strstr(why, "Z"));

	assert_string_equal(cfg_fmt_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
	assert_string_equal(cfg_fmt_time(1795737600, buf, sizeof(buf)), "2026-11-27T00:00:00Z");
	for (int i = 0; i < 3000; i++) {
		int64_t x = (int64_t)(rnd() % 253402300800ULL), back;
		cfg_fmt_time(x, buf, sizeof(buf));
		assert_int_equal(cfg_parse_time(buf, &back, NULL), 0);
		assert_int_equal(back, x);
	}
}

static void test_time_rel(void **state)
{
	int64_t t;
	const char *why;
	const int64_t now = 1795737600;
	(void)state;
	assert_int_equal(cfg_parse_time_rel("now", now, &t, NULL), 0);
	assert_int_equal(t, now);
	assert_int_equal(cfg_parse_time_rel("+1h", now, &t, NULL), 0);
	assert_int_equal(t, now + 3600);
	assert_int_equal(cfg_parse_time_rel("-30m", now, &t, NULL), 0);
	assert_int_equal(t, now - 1800);
	assert_int_equal(cfg_parse_time_rel(" +1d12h ", now, &t, NULL), 0);
	assert_int_equal(t, now + 129600);
	assert_int_equal(cfg_parse_time_rel("2026-11-28T00:00:00Z", now, &t, NULL), 0);
	assert_int_equal(t, now + 86400);
	assert_int_equal(cfg_parse_time_rel("+1500ms", now, &t, &why), -EINVAL);
	assert_int_equal(cfg_parse_time_rel("+", now, &t, &why), -EINVAL);
	assert_int_equal(cfg_parse_time_rel("+1", now, &t, &why), -EINVAL);
	assert_int_equal(cfg_parse_time_rel("tomorrow", now, &t, &why), -EINVAL);
	assert_int_equal(cfg_parse_time_rel("", now, &t, &why), -EINVAL);
	assert_int_equal(cfg_parse_time_rel("12", now, &t, &why), -EINVAL);
	assert_non_null(strstr(why, "now"));
}

/* ---- prefixes ----------------------------------------------------------------------- */

static void prefix_roundtrip(const char *in, const char *want_text)
{
	struct cfg_prefix p, q;
	char buf[64];
	const char *why = NULL;
	if (cfg_parse_prefix(in, &p, &why) != 0)
		fail_msg("cfg_parse_prefix(\"%s\"): %s", in, why ? why : "");
	assert_string_equal(cfg_fmt_prefix(&p, buf, sizeof(buf)), want_text);
	assert_int_equal(cfg_parse_prefix(buf, &q, NULL), 0);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void prefix_bad(const char *in)
{
	struct cfg_prefix p;
	const char *why = NULL;
	if (cfg_parse_prefix(in, &p, &why) != -EINVAL)
		fail_msg("cfg_parse_prefix(\"%s\") accepted", in);
	assert_non_null(why);
}

static void test_prefix(void **state)
{
	struct cfg_prefix p;
	const char *why;
	(void)state;
	prefix_roundtrip("198.51.100.0/24", "198.51.100.0/24");
	prefix_roundtrip("2001:db8::/32", "2001:db8::/32");
	prefix_roundtrip("2001:DB8:0:0::/48", "2001:db8::/48");
	prefix_roundtrip("10.0.0.1", "10.0.0.1/32");
	prefix_roundtrip("::1", "::1/128");
	prefix_roundtrip("0.0.0.0/0", "0.0.0.0/0");
	prefix_roundtrip("::/0", "::/0");
	prefix_roundtrip(" 10.0.0.0/8 ", "10.0.0.0/8");
	prefix_roundtrip("10.128.0.0/9", "10.128.0.0/9");

	assert_int_equal(cfg_parse_prefix("10.0.0.0/8", &p, NULL), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 8);
	assert_int_equal(p.addr[0], 10);

	prefix_bad("10.0.0.1/8");
	prefix_bad("2001:db8::1/32");
	prefix_bad("10.0.0.0/33");
	prefix_bad("2001:db8::/129");
	prefix_bad("10.0.0.0/");
	prefix_bad("10.0.0/8");
	prefix_bad("300.1.1.1/32");
	prefix_bad("fe80::1%eth0/64");
	prefix_bad("10.0.0.0/8x");
	prefix_bad("10.0.0.0/-8");
	prefix_bad("abc");
	prefix_bad("");
	prefix_bad("010.0.0.0/8");
	prefix_bad("10.0.0.0 /8");

	assert_int_equal(cfg_parse_prefix("10.1.2.3/16", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "host bits"));
}

static void test_prefix_contains(void **state)
{
	struct cfg_prefix p;
	uint8_t a4[4] = {10, 1, 2, 3}, b4[4] = {11, 0, 0, 0};
	uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x80}, b6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x7f};
	(void)state;
	assert_int_equal(cfg_parse_prefix("10.0.0.0/8", &p, NULL), 0);
	assert_true(cfg_prefix_contains(&p, AF_INET, a4));
	assert_false(cfg_prefix_contains(&p, AF_INET, b4));
	assert_false(cfg_prefix_contains(&p, AF_INET6, a6));
	assert_int_equal(cfg_parse_prefix("0.0.0.0/0", &p, NULL), 0);
	assert_true(cfg_prefix_contains(&p, AF_INET, b4));
	assert_int_equal(cfg_parse_prefix("10.1.2.3", &p, NULL), 0);
	assert_true(cfg_prefix_contains(&p, AF_INET, a4));
	a4[3] = 4;
	assert_false(cfg_prefix_contains(&p, AF_INET, a4));
	/* a boundary inside a byte: /33 splits 0x80 from 0x7f */
	assert_int_equal(cfg_parse_prefix("2001:db8:8000::/33", &p, NULL), 0);
	assert_true(cfg_prefix_contains(&p, AF_INET6, a6));
	assert_false(cfg_prefix_contains(&p, AF_INET6, b6));
	assert_false(cfg_prefix_contains(NULL, AF_INET6, b6));
}

/* ---- DSCP --------------------------------------------------------------------------- */

static void dscp_is(const char *s, unsigned want)
{
	uint8_t d = 99;
	const char *why = NULL;
	if (cfg_parse_dscp(s, &d, &why) != 0)
		fail_msg("cfg_parse_dscp(\"%s\"): %s", s, why ? why : "");
	assert_int_equal(d, want);
}

static void test_dscp(void **state)
{
	char buf[16];
	uint8_t d;
	const char *why;
	(void)state;
	dscp_is("ef", 46);
	dscp_is("EF", 46);
	dscp_is("af41", 34);
	dscp_is("af11", 10);
	dscp_is("af43", 38);
	dscp_is("cs0", 0);
	dscp_is("cs7", 56);
	dscp_is("be", 0);
	dscp_is("default", 0);
	dscp_is("le", 1);
	dscp_is("va", 44);
	dscp_is("0", 0);
	dscp_is("63", 63);
	dscp_is(" cs1 ", 8);

	assert_int_equal(cfg_parse_dscp("64", &d, &why), -ERANGE);
	assert_non_null(strstr(why, "0..63"));
	assert_int_equal(cfg_parse_dscp("184", &d, &why), -ERANGE);
	assert_int_equal(cfg_parse_dscp("af44", &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_dscp("af51", &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_dscp("cs8", &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_dscp("xx", &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_dscp("", &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_dscp("-1", &d, &why), -EINVAL);
	assert_int_equal(cfg_parse_dscp("0x2e", &d, &why), -EINVAL);

	assert_string_equal(cfg_fmt_dscp(46, buf, sizeof(buf)), "ef");
	assert_string_equal(cfg_fmt_dscp(34, buf, sizeof(buf)), "af41");
	assert_string_equal(cfg_fmt_dscp(0, buf, sizeof(buf)), "be");
	assert_string_equal(cfg_fmt_dscp(48, buf, sizeof(buf)), "cs6");
	assert_string_equal(cfg_fmt_dscp(3, buf, sizeof(buf)), "3");
	for (unsigned v = 0; v < 64; v++) {
		cfg_fmt_dscp((uint8_t)v, buf, sizeof(buf));
		assert_int_equal(cfg_parse_dscp(buf, &d, NULL), 0);
		assert_int_equal(d, v);
	}
}

/* ---- host:port ---------------------------------------------------------------------- */

static void hp_ok(const char *s, const char *host, unsigned port, const char *text)
{
	struct cfg_hostport hp, back;
	char buf[CFG_HOST_MAX + 16];
	const char *why = NULL;
	if (cfg_parse_hostport(s, &hp, &why) != 0)
		fail_msg("cfg_parse_hostport(\"%s\"): %s", s, why ? why : "");
	assert_string_equal(hp.host, host);
	assert_int_equal(hp.port, port);
	assert_string_equal(cfg_fmt_hostport(&hp, buf, sizeof(buf)), text);
	assert_int_equal(cfg_parse_hostport(buf, &back, NULL), 0);
	assert_string_equal(back.host, hp.host);
	assert_int_equal(back.port, hp.port);
}

static void hp_bad(const char *s, int err)
{
	struct cfg_hostport hp;
	const char *why = NULL;
	int rc = cfg_parse_hostport(s, &hp, &why);
	if (rc != err)
		fail_msg("cfg_parse_hostport(\"%s\") = %d, want %d", s, rc, err);
	assert_non_null(why);
}

static void test_hostport(void **state)
{
	struct cfg_hostport hp;
	const char *why;
	(void)state;
	hp_ok("127.0.0.1:9479", "127.0.0.1", 9479, "127.0.0.1:9479");
	hp_ok("[::1]:7179", "::1", 7179, "[::1]:7179");
	hp_ok("[2001:DB8:0::1]:80", "2001:db8::1", 80, "[2001:db8::1]:80");
	hp_ok("gw1.example.net:7179", "gw1.example.net", 7179, "gw1.example.net:7179");
	hp_ok("GW1.Example.NET:7179", "gw1.example.net", 7179, "gw1.example.net:7179");
	hp_ok("0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0:0");
	hp_ok("[::]:7179", "::", 7179, "[::]:7179");
	hp_ok("localhost:65535", "localhost", 65535, "localhost:65535");
	hp_ok(" 10.0.1.2:7179 ", "10.0.1.2", 7179, "10.0.1.2:7179");

	hp_bad("", -EINVAL);
	hp_bad("127.0.0.1", -EINVAL);
	hp_bad("::1:7179", -EINVAL);
	hp_bad("[::1]", -EINVAL);
	hp_bad("[::1]7179", -EINVAL);
	hp_bad("[::1:7179", -EINVAL);
	hp_bad(":7179", -EINVAL);
	hp_bad("host:", -EINVAL);
	hp_bad("host:65536", -ERANGE);
	hp_bad("host:abc", -EINVAL);
	hp_bad("host:-1", -EINVAL);
	hp_bad("10.0.0.256:80", -EINVAL);
	hp_bad("[10.0.0.1]:80", -EINVAL);
	hp_bad("-bad-.example:80", -EINVAL);
	hp_bad("a_b:80", -EINVAL);
	hp_bad("a..b:80", -EINVAL);

	assert_int_equal(cfg_parse_hostport("2001:db8::1:7179", &hp, &why), -EINVAL);
	assert_non_null(strstr(why, "brackets"));
	assert_int_equal(cfg_parse_hostport("10.0.0.1", &hp, &why), -EINVAL);
	assert_non_null(strstr(why, ":PORT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bps_parse),   cmocka_unit_test(test_bps_messages),
		cmocka_unit_test(test_bps_format),  cmocka_unit_test(test_bps_human),
		cmocka_unit_test(test_bytes),       cmocka_unit_test(test_duration),
		cmocka_unit_test(test_percent),     cmocka_unit_test(test_uint_double_bool),
		cmocka_unit_test(test_time),        cmocka_unit_test(test_time_rel),
		cmocka_unit_test(test_prefix),      cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_dscp),        cmocka_unit_test(test_hostport),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}

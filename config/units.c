/* SPDX-License-Identifier: Apache-2.0 */
/*
 * units: numbers with units (bits per second, bytes, durations, percentages) and plain
 * integers, decimals and booleans, parsed exactly and formatted so that they read back to
 * the same value.
 *
 * Decimal fractions ("1.5G", "0.5h") are scaled in 128-bit integer arithmetic, never
 * through a double, so a value is accepted only when it comes to a whole number of the
 * base unit. Owns nothing; never allocates, never does I/O. Messages returned through
 * *why are static and say what was expected.
 */
#include "units.h"
#include "units-int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef unsigned __int128 u128;

#define MAX_DIGITS 22 /* significant digits kept; 10^22 * 2^50 still fits 128 bits */

static int fail(const char **why, const char *msg, int err)
{
	if (why)
		*why = msg;
	return err;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

void units_trim(const char *s, const char **start, size_t *len)
{
	const char *b = s, *e = s + strlen(s);

	while (b < e && is_blank(*b))
		b++;
	while (e > b && is_blank(e[-1]))
		e--;
	*start = b;
	*len = (size_t)(e - b);
}

/* A decimal number "123", "1.5", "0.25": mant = all digits as one integer, value =
 * mant / 10^frac. */
struct num {
	u128 mant;
	unsigned frac;
	bool too_long;
};

/* Scan [p, end) for digits with an optional fraction. Returns the first byte after the
 * number, or NULL when p does not start with a digit or the point has no digit after it. */
static const char *scan_num(const char *p, const char *end, struct num *n)
{
	unsigned sig = 0;
	const char *q;

	n->mant = 0;
	n->frac = 0;
	n->too_long = false;
	if (p >= end || !is_digit(*p))
		return NULL;
	for (; p < end && is_digit(*p); p++) {
		if (n->mant == 0 && *p == '0')
			continue;
		if (++sig > MAX_DIGITS) {
			n->too_long = true;
			continue;
		}
		n->mant = n->mant * 10 + (unsigned)(*p - '0');
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !is_digit(*p))
			return NULL;
		/* trailing zeros of the fraction do not count */
		for (q = p; q < end && is_digit(*q); q++)
			;
		const char *last = q;
		while (last > p && last[-1] == '0')
			last--;
		for (; p < last; p++) {
			if (n->mant != 0 || *p != '0')
				sig++;
			if (sig > MAX_DIGITS) {
				n->too_long = true;
				continue;
			}
			n->mant = n->mant * 10 + (unsigned)(*p - '0');
			n->frac++;
		}
		p = q;
	}
	return p;
}

static u128 pow10_u128(unsigned e)
{
	u128 r = 1;

	while (e--)
		r *= 10;
	return r;
}

/* value = n * mult exactly, as a uint64. -EINVAL when not whole, -ERANGE on overflow. */
static int num_scale(const struct num *n, uint64_t mult, uint64_t *out)
{
	if (n->too_long)
		return -ERANGE;
	u128 v = n->mant * mult;
	u128 d = pow10_u128(n->frac);

	if (v % d)
		return -EINVAL;
	v /= d;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static bool unit_is(const char *u, size_t ulen, const char *name)
{
	return strlen(name) == ulen && memcmp(u, name, ulen) == 0;
}

static bool unit_has(const char *u, size_t ulen, char c)
{
	return memchr(u, c, ulen) != NULL;
}

/* ---- bits per second ---------------------------------------------------------------- */

static const char *bps_unit_why(const char *u, size_t ulen)
{
	if (u[0] == '%')
		return "a percentage is not a bandwidth: write bits per second, e.g. 8G";
	if (unit_has(u, ulen, 'B'))
		return "'B' means bytes; bandwidth is bits per second with k, M, G or T, "
		       "e.g. 10G";
	if (ulen >= 2 && u[1] == 'i')
		return "binary prefixes (Ki, Mi, Gi) are for bytes; bandwidth uses SI k, M, G, T";
	if (ulen > 1 && (unit_has(u, ulen, 'b') || unit_has(u, ulen, '/')))
		return "bandwidth is always bits per second: write only the prefix, "
		       "e.g. 10G (not 10Gbps)";
	if (u[0] == 'b')
		return "bandwidth is always bits per second: write a plain number or use "
		       "k, M, G or T, e.g. 10G";
	if (u[0] == 'm')
		return "'m' would be milli: megabits per second are 'M', e.g. 500M";
	if (u[0] == 'g' || u[0] == 't')
		return "unit prefixes are case-sensitive: use k, M, G or T, e.g. 10G";
	return "expected a number with an optional k, M, G or T (bits per second), e.g. 10G";
}

int cfg_parse_bps(const char *s, uint64_t *bps, const char **why)
{
	const char *p, *end, *u;
	size_t len;
	struct num n;
	uint64_t mult;
	int rc;

	units_trim(s, &p, &len);
	end = p + len;
	if (len == 0)
		return fail(why, "empty: expected bits per second such as 10G, 500M or 64000",
			    -EINVAL);
	if (*p == '-')
		return fail(why, "a bandwidth cannot be negative", -EINVAL);
	u = scan_num(p, end, &n);
	if (!u)
		return fail(why, "expected a number with an optional k, M, G or T "
				 "(bits per second), e.g. 10G",
			    -EINVAL);
	while (u < end && is_blank(*u))
		u++;
	size_t ulen = (size_t)(end - u);
	if (ulen == 0)
		mult = 1;
	else if (unit_is(u, ulen, "k") || unit_is(u, ulen, "K"))
		mult = 1000ULL;
	else if (unit_is(u, ulen, "M"))
		mult = 1000000ULL;
	else if (unit_is(u, ulen, "G"))
		mult = 1000000000ULL;
	else if (unit_is(u, ulen, "T"))
		mult = 1000000000000ULL;
	else
		return fail(why, bps_unit_why(u, ulen), -EINVAL);
	rc = num_scale(&n, mult, bps);
	if (rc == -EINVAL)
		return fail(why, "not a whole number of bits per second", rc);
	if (rc == -ERANGE)
		return fail(why, "too large for a bandwidth (at most about 18446744T)", rc);
	return 0;
}

char *cfg_fmt_bps(uint64_t bps, char *buf, size_t len)
{
	static const struct {
		uint64_t mult;
		const char *sfx;
	} u[] = {{1000000000000ULL, "T"}, {1000000000ULL, "G"}, {1000000ULL, "M"},
		 {1000ULL, "k"}};

	for (size_t i = 0; bps && i < sizeof(u) / sizeof(u[0]); i++) {
		if (bps % u[i].mult == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", bps / u[i].mult, u[i].sfx);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64, bps);
	return buf;
}

char *cfg_fmt_bps_human(double bps, char *buf, size_t len)
{
	static const char *const sfx[] = {"", "k", "M", "G", "T", "P", "E"};
	const char *sign = "";
	unsigned i = 0;

	if (isnan(bps)) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (bps < 0) {
		sign = "-";
		bps = -bps;
	}
	while (bps >= 999.5 && i + 1 < sizeof(sfx) / sizeof(sfx[0])) {
		bps /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%s%.0f", sign, bps);
	else if (bps >= 99.95)
		snprintf(buf, len, "%s%.0f%s", sign, bps, sfx[i]);
	else if (bps >= 9.995)
		snprintf(buf, len, "%s%.1f%s", sign, bps, sfx[i]);
	else
		snprintf(buf, len, "%s%.2f%s", sign, bps, sfx[i]);
	return buf;
}

/* ---- bytes -------------------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned shift;
} byte_units[] = {{"PiB", 50}, {"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}};

static const char *bytes_unit_why(const char *u, size_t ulen)
{
	if (ulen == 2 && u[1] == 'B' && strchr("kKMGTP", u[0]))
		return "use binary units for bytes: KiB, MiB, GiB, TiB, PiB (1 GiB = 1024^3 "
		       "bytes), not kB, MB, GB";
	if (unit_has(u, ulen, 'b'))
		return "'b' means bits; bytes use KiB, MiB, GiB, TiB or PiB, e.g. 512MiB";
	if (ulen <= 2 && strchr("kKMGTP", u[0]))
		return "bytes need a binary unit: KiB, MiB, GiB, TiB or PiB, e.g. 64GiB";
	for (size_t i = 0; i < sizeof(byte_units) / sizeof(byte_units[0]); i++)
		if (ulen == 3 && strncasecmp(u, byte_units[i].name, 3) == 0)
			return "units are case-sensitive: KiB, MiB, GiB, TiB, PiB";
	return "expected a number of bytes with an optional KiB, MiB, GiB, TiB or PiB, "
	       "e.g. 1TiB";
}

int cfg_parse_bytes(const char *s, uint64_t *bytes, const char **why)
{
	const char *p, *end, *u;
	size_t len, ulen;
	struct num n;
	uint64_t mult = 0;
	int rc;

	units_trim(s, &p, &len);
	end = p + len;
	if (len == 0)
		return fail(why, "empty: expected bytes such as 64GiB, 512MiB or 4096", -EINVAL);
	if (*p == '-')
		return fail(why, "a size cannot be negative", -EINVAL);
	u = scan_num(p, end, &n);
	if (!u)
		return fail(why, "expected a number of bytes with an optional KiB, MiB, GiB, "
				 "TiB or PiB, e.g. 1TiB",
			    -EINVAL);
	while (u < end && is_blank(*u))
		u++;
	ulen = (size_t)(end - u);
	if (ulen == 0 || unit_is(u, ulen, "B"))
		mult = 1;
	for (size_t i = 0; !mult && i < sizeof(byte_units) / sizeof(byte_units[0]); i++)
		if (unit_is(u, ulen, byte_units[i].name))
			mult = 1ULL << byte_units[i].shift;
	if (!mult)
		return fail(why, bytes_unit_why(u, ulen), -EINVAL);
	rc = num_scale(&n, mult, bytes);
	if (rc == -EINVAL)
		return fail(why, "not a whole number of bytes", rc);
	if (rc == -ERANGE)
		return fail(why, "too large (at most 16383PiB)", rc);
	return 0;
}

char *cfg_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	for (size_t i = 0; bytes && i < sizeof(byte_units) / sizeof(byte_units[0]); i++) {
		uint64_t m = 1ULL << byte_units[i].shift;
		if (bytes % m == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", bytes / m, byte_units[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64, bytes);
	return buf;
}

/* ---- durations ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint64_t ms;
} dur_units[] = {{"d", 86400000ULL}, {"h", 3600000ULL}, {"m", 60000ULL}, {"s", 1000ULL},
		 {"ms", 1ULL}};
#define N_DUR_UNITS (sizeof(dur_units) / sizeof(dur_units[0]))

int cfg_parse_duration(const char *s, uint64_t *ms, const char **why)
{
	const char *p, *end;
	size_t len;
	u128 total = 0;
	size_t next_unit = 0; /* components go from larger to smaller units */
	bool any = false;

	units_trim(s, &p, &len);
	end = p + len;
	if (len == 0)
		return fail(why, "empty: expected a duration such as 30s, 5m, 72h or 1h30m",
			    -EINVAL);
	if (*p == '-')
		return fail(why, "a duration cannot be negative", -EINVAL);
	while (p < end) {
		struct num n;
		const char *u = scan_num(p, end, &n), *ue;
		size_t i;
		uint64_t v;
		int rc;

		if (!u)
			return fail(why, "expected a duration such as 30s, 5m, 72h or 1h30m",
				    -EINVAL);
		while (u < end && is_blank(*u))
			u++;
		for (ue = u; ue < end && ((*ue >= 'a' && *ue <= 'z') || (*ue >= 'A' && *ue <= 'Z'));
		     ue++)
			;
		if (ue == u) {
			if (!any && ue == end && n.mant == 0)
				break; /* a bare "0" */
			return fail(why, "a duration needs a unit: ms, s, m, h or d (e.g. 30s)",
				    -EINVAL);
		}
		for (i = 0; i < N_DUR_UNITS; i++)
			if (unit_is(u, (size_t)(ue - u), dur_units[i].name))
				break;
		if (i == N_DUR_UNITS) {
			if (ue - u == 1 && *u == 'M')
				return fail(why, "'M' is not a duration unit: minutes are 'm', "
						 "e.g. 5m",
					    -EINVAL);
			return fail(why, "unknown duration unit: use ms, s, m, h or d "
					 "(e.g. 90s, 1h30m)",
				    -EINVAL);
		}
		if (i < next_unit)
			return fail(why, "write each unit once, largest first (e.g. 1h30m, "
					 "not 30m1h)",
				    -EINVAL);
		next_unit = i + 1;
		rc = num_scale(&n, dur_units[i].ms, &v);
		if (rc == -EINVAL)
			return fail(why, "not a whole number of milliseconds", rc);
		if (rc == -ERANGE)
			return fail(why, "too long a duration", rc);
		total += v;
		if (total > UINT64_MAX)
			return fail(why, "too long a duration", -ERANGE);
		any = true;
		p = ue;
		while (p < end && is_blank(*p))
			p++;
	}
	*ms = (uint64_t)total;
	return 0;
}

char *cfg_fmt_duration(uint64_t ms, char *buf, size_t len)
{
	char dec[64] = "", best[64] = "", cand[64];
	size_t off = 0;
	uint64_t rest = ms;
	bool has_ms = false;
	unsigned parts = 0;

	if (ms == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	/* hours and smaller, largest first: "36h30m" (days only as a single unit below, so
	 * horizons and seasons read as people write them: 72h, 168h) */
	for (size_t i = 1; i < N_DUR_UNITS && rest; i++) {
		if (rest >= dur_units[i].ms) {
			off += (size_t)snprintf(dec + off, sizeof(dec) - off, "%" PRIu64 "%s",
						rest / dur_units[i].ms, dur_units[i].name);
			rest %= dur_units[i].ms;
			has_ms = dur_units[i].ms == 1;
			parts++;
		}
	}
	/* the shortest single unit: "90s" rather than "1m30s"; days from 1000h on ("365d") */
	for (size_t i = ms >= 1000 * dur_units[1].ms ? 0 : 1; i < N_DUR_UNITS; i++) {
		if (ms % dur_units[i].ms)
			continue;
		snprintf(cand, sizeof(cand), "%" PRIu64 "%s", ms / dur_units[i].ms,
			 dur_units[i].name);
		if (!best[0] || strlen(cand) < strlen(best))
			memcpy(best, cand, sizeof(best));
	}
	/* the combined form when it is about as short ("2h30m" over "150m") */
	if (strlen(dec) < strlen(best) ||
	    (parts > 1 && !has_ms && strlen(dec) <= strlen(best) + 1))
		snprintf(buf, len, "%s", dec);
	else
		snprintf(buf, len, "%s", best);
	return buf;
}

/* ---- percent, plain numbers, booleans ------------------------------------------------ */

/* Digits with an optional fraction and exponent, nothing else (no hex, inf, nan). */
static bool is_decimal(const char *p, const char *end, bool allow_sign)
{
	if (allow_sign && p < end && (*p == '-' || *p == '+'))
		p++;
	if (p >= end || !is_digit(*p))
		return false;
	while (p < end && is_digit(*p))
		p++;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !is_digit(*p))
			return false;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '-' || *p == '+'))
			p++;
		if (p >= end || !is_digit(*p))
			return false;
		while (p < end && is_digit(*p))
			p++;
	}
	return p == end;
}

static double strtod_n(const char *p, size_t n)
{
	char tmp[128];

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return strtod(tmp, NULL);
}

int cfg_parse_percent(const char *s, double *fraction, const char **why)
{
	const char *p, *end;
	size_t len;

	units_trim(s, &p, &len);
	end = p + len;
	if (len == 0)
		return fail(why, "empty: expected a percentage such as 10%", -EINVAL);
	if (*p == '-')
		return fail(why, "a percentage cannot be negative", -EINVAL);
	if (end[-1] != '%')
		return fail(why, "expected a percentage with '%', e.g. 10% (not 0.1 or 10)",
			    -EINVAL);
	end--;
	while (end > p && is_blank(end[-1]))
		end--;
	if (!is_decimal(p, end, false) || len > 64)
		return fail(why, "expected a percentage such as 10% or 2.5%", -EINVAL);
	double v = strtod_n(p, (size_t)(end - p));
	if (!isfinite(v))
		return fail(why, "percentage out of range", -ERANGE);
	*fraction = v / 100.0;
	return 0;
}

char *units_fmt_double(double v, char *buf, size_t len)
{
	char tmp[64];

	for (int prec = 0; prec <= 20; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*f", prec, v);
		if (strtod(tmp, NULL) == v) {
			snprintf(buf, len, "%s", tmp);
			return buf;
		}
	}
	snprintf(buf, len, "%.17g", v);
	return buf;
}

char *cfg_fmt_percent(double fraction, char *buf, size_t len)
{
	char tmp[64];
	double cand[5];

	/* The parser divides by 100: find the shortest text whose value divided by 100 is
	 * fraction again, trying the neighbours of fraction*100 when rounding moved it. */
	cand[0] = fraction * 100.0;
	cand[1] = nextafter(cand[0], INFINITY);
	cand[2] = nextafter(cand[0], -INFINITY);
	cand[3] = nextafter(cand[1], INFINITY);
	cand[4] = nextafter(cand[2], -INFINITY);
	for (int prec = 0; prec <= 20; prec++) {
		for (size_t k = 0; k < sizeof(cand) / sizeof(cand[0]); k++) {
			snprintf(tmp, sizeof(tmp), "%.*f", prec, cand[k]);
			if (strtod(tmp, NULL) / 100.0 == fraction) {
				snprintf(buf, len, "%s%%", tmp);
				return buf;
			}
		}
	}
	snprintf(buf, len, "%.17g%%", cand[0]);
	return buf;
}

int cfg_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char **why)
{
	const char *p, *end;
	size_t len;
	u128 v = 0;

	units_trim(s, &p, &len);
	end = p + len;
	if (len == 0)
		return fail(why, "empty: expected a whole number", -EINVAL);
	if (*p == '-')
		return fail(why, "cannot be negative", -EINVAL);
	for (const char *q = p; q < end; q++) {
		if (!is_digit(*q))
			return fail(why, "expected a whole decimal number", -EINVAL);
		v = v * 10 + (unsigned)(*q - '0');
		if (v > UINT64_MAX)
			return fail(why, "out of range", -ERANGE);
	}
	if (v < min || v > max)
		return fail(why, "out of range", -ERANGE);
	*out = (uint64_t)v;
	return 0;
}

int cfg_parse_double(const char *s, double min, double max, double *out, const char **why)
{
	const char *p;
	size_t len;
	double v;

	units_trim(s, &p, &len);
	if (len == 0)
		return fail(why, "empty: expected a number", -EINVAL);
	if (len > 64 || !is_decimal(p, p + len, true))
		return fail(why, "expected a decimal number such as 0.95", -EINVAL);
	v = strtod_n(p, len);
	if (!isfinite(v) || v < min || v > max)
		return fail(why, "out of range", -ERANGE);
	*out = v;
	return 0;
}

int cfg_parse_bool(const char *s, bool *out, const char **why)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	const char *p;
	size_t len;

	units_trim(s, &p, &len);
	for (size_t i = 0; i < 4; i++) {
		if (strlen(yes[i]) == len && strncasecmp(p, yes[i], len) == 0) {
			*out = true;
			return 0;
		}
		if (strlen(no[i]) == len && strncasecmp(p, no[i], len) == 0) {
			*out = false;
			return 0;
		}
	}
	return fail(why, "expected yes or no (also true/false, on/off, 1/0)", -EINVAL);
}

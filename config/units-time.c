/* SPDX-License-Identifier: Apache-2.0 */
/*
 * units-time: ISO 8601 times with an explicit zone, converted to UTC seconds since the
 * epoch, and the relative forms "now", "+1h", "-30m" that tidalctl accepts.
 *
 * The calendar arithmetic is done here (proleptic Gregorian, no time zone database, no
 * locale), so results never depend on the machine's TZ. Owns nothing; never allocates.
 */
#include "units.h"
#include "units-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TIME_EXAMPLE "e.g. 2026-11-27T00:00:00Z"

static int fail(const char **why, const char *msg, int err)
{
	if (why)
		*why = msg;
	return err;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Read exactly n digits. */
static bool digits(const char **p, const char *end, unsigned n, unsigned *out)
{
	unsigned v = 0;

	if (end - *p < (long)n)
		return false;
	for (unsigned i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

int cfg_parse_time(const char *s, int64_t *unix_s, const char **why)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p, *end;
	size_t len;
	unsigned y, mo, d, h, mi, sec = 0, oh = 0, om = 0;
	int sign = 0;

	units_trim(s, &p, &len);
	end = p + len;
	if (len == 0)
		return fail(why, "empty: expected a UTC time, " TIME_EXAMPLE, -EINVAL);
	if (!digits(&p, end, 4, &y) || p >= end || *p++ != '-' || !digits(&p, end, 2, &mo) ||
	    p >= end || *p++ != '-' || !digits(&p, end, 2, &d))
		return fail(why, "expected an ISO 8601 time YYYY-MM-DDTHH:MM:SSZ, " TIME_EXAMPLE,
			    -EINVAL);
	if (p == end)
		return fail(why, "a date alone is not a time: add THH:MM:SSZ, " TIME_EXAMPLE,
			    -EINVAL);
	if (*p != 'T' && *p != 't' && *p != ' ')
		return fail(why, "expected 'T' between date and time, " TIME_EXAMPLE, -EINVAL);
	p++;
	if (!digits(&p, end, 2, &h) || p >= end || *p++ != ':' || !digits(&p, end, 2, &mi))
		return fail(why, "expected the time of day as HH:MM:SS, " TIME_EXAMPLE, -EINVAL);
	if (p < end && *p == ':') {
		p++;
		if (!digits(&p, end, 2, &sec))
			return fail(why, "expected seconds as two digits, " TIME_EXAMPLE,
				    -EINVAL);
		if (p < end && (*p == '.' || *p == ',')) {
			p++;
			if (p >= end || *p < '0' || *p > '9')
				return fail(why, "expected digits after the decimal point",
					    -EINVAL);
			while (p < end && *p >= '0' && *p <= '9')
				p++; /* fractions of a second are dropped */
		}
	}
	if (p == end)
		return fail(why, "a time needs its zone: add 'Z' for UTC, " TIME_EXAMPLE,
			    -EINVAL);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, end, 2, &oh))
			return fail(why, "expected a zone offset as +HH:MM or 'Z'", -EINVAL);
		if (p < end && *p == ':')
			p++;
		if (p < end && !digits(&p, end, 2, &om))
			return fail(why, "expected a zone offset as +HH:MM or 'Z'", -EINVAL);
		if (oh > 23 || om > 59)
			return fail(why, "zone offset out of range", -EINVAL);
	} else {
		return fail(why, "unexpected text after the time: expected 'Z' or +HH:MM",
			    -EINVAL);
	}
	if (p != end)
		return fail(why, "unexpected text after the time zone", -EINVAL);
	if (y < 1970)
		return fail(why, "times before 1970 are not supported", -ERANGE);
	if (mo < 1 || mo > 12)
		return fail(why, "the month is 01..12", -EINVAL);
	if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return fail(why, "no such day in that month", -EINVAL);
	if (h > 23)
		return fail(why, "the hour is 00..23", -EINVAL);
	if (mi > 59)
		return fail(why, "the minute is 00..59", -EINVAL);
	if (sec > 59)
		return fail(why, "the second is 00..59 (leap seconds are not supported)",
			    -EINVAL);
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	if (t < 0)
		return fail(why, "times before 1970 are not supported", -ERANGE);
	*unix_s = t;
	return 0;
}

int cfg_parse_time_rel(const char *s, int64_t now_s, int64_t *unix_s, const char **why)
{
	const char *p;
	size_t len;
	uint64_t ms;
	int rc;

	units_trim(s, &p, &len);
	if (len == 3 && strncmp(p, "now", 3) == 0) {
		*unix_s = now_s;
		return 0;
	}
	if (len > 0 && (*p == '+' || *p == '-')) {
		char tmp[64];
		if (len >= sizeof(tmp))
			return fail(why, "relative time too long", -EINVAL);
		memcpy(tmp, p + 1, len - 1);
		tmp[len - 1] = '\0';
		rc = cfg_parse_duration(tmp, &ms, why);
		if (rc)
			return rc;
		if (ms % 1000)
			return fail(why, "relative times are whole seconds", -EINVAL);
		if (ms / 1000 > (uint64_t)INT64_MAX / 2 || now_s > INT64_MAX / 2 ||
		    now_s < -(INT64_MAX / 2))
			return fail(why, "relative time out of range", -ERANGE);
		*unix_s = *p == '+' ? now_s + (int64_t)(ms / 1000) : now_s - (int64_t)(ms / 1000);
		return 0;
	}
	rc = cfg_parse_time(s, unix_s, why);
	if (rc == -EINVAL && why && len > 0 && p[0] >= '0' && p[0] <= '9' &&
	    !memchr(p, '-', len))
		*why = "expected a UTC time (" TIME_EXAMPLE "), 'now' or '+DURATION' (e.g. +1h)";
	return rc;
}

char *cfg_fmt_time(int64_t unix_s, char *buf, size_t len)
{
	int64_t days = unix_s / 86400, rem = unix_s % 86400, y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
		 (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
	return buf;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * units-net: IP prefixes, DSCP code points and host:port endpoints.
 *
 * Addresses are read with inet_pton (no name resolution, no I/O) and written back in their
 * canonical text form, so equal endpoints compare equal. Owns nothing; never allocates.
 */
#include "units.h"
#include "units-int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int fail(const char **why, const char *msg, int err)
{
	if (why)
		*why = msg;
	return err;
}

/* ---- prefixes ----------------------------------------------------------------------- */

static void mask_host_bits(struct cfg_prefix *p, bool *had_host_bits)
{
	unsigned bytes = p->family == AF_INET ? 4 : 16;

	*had_host_bits = false;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = p->len >= (i + 1) * 8 ? 8 : (p->len > i * 8 ? p->len - i * 8 : 0);
		uint8_t mask = keep ? (uint8_t)(0xff << (8 - keep)) : 0;
		if (p->addr[i] & ~mask)
			*had_host_bits = true;
		p->addr[i] &= mask;
	}
}

int units_parse_prefix(const char *s, struct cfg_prefix *p, bool allow_host_bits,
		       const char **why)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *b, *slash;
	size_t len;
	unsigned maxlen, plen;
	bool host_bits;

	units_trim(s, &b, &len);
	if (len == 0)
		return fail(why, "empty: expected a prefix such as 198.51.100.0/24 or "
				 "2001:db8::/32",
			    -EINVAL);
	if (len >= sizeof(tmp))
		return fail(why, "not an IPv4 or IPv6 prefix", -EINVAL);
	memcpy(tmp, b, len);
	tmp[len] = '\0';
	memset(p, 0, sizeof(*p));
	slash = strchr(tmp, '/');
	if (slash)
		tmp[slash - tmp] = '\0';
	if (strchr(tmp, '%'))
		return fail(why, "zone identifiers (%eth0) do not belong in a prefix", -EINVAL);
	if (strchr(tmp, ':')) {
		p->family = AF_INET6;
		maxlen = 128;
		if (inet_pton(AF_INET6, tmp, p->addr) != 1)
			return fail(why, "not an IPv6 address", -EINVAL);
	} else {
		p->family = AF_INET;
		maxlen = 32;
		if (inet_pton(AF_INET, tmp, p->addr) != 1)
			return fail(why, "not an IPv4 address (dotted quad, e.g. 198.51.100.0/24)",
				    -EINVAL);
	}
	plen = maxlen;
	if (slash) {
		const char *q = slash + 1;
		if (!*q)
			return fail(why, "missing prefix length after '/'", -EINVAL);
		plen = 0;
		for (; *q; q++) {
			if (!isdigit((unsigned char)*q))
				return fail(why, "the prefix length must be a number", -EINVAL);
			plen = plen * 10 + (unsigned)(*q - '0');
			if (plen > maxlen)
				break;
		}
		if (plen > maxlen)
			return fail(why, p->family == AF_INET
						 ? "an IPv4 prefix length is 0..32"
						 : "an IPv6 prefix length is 0..128",
				    -EINVAL);
	}
	p->len = (uint8_t)plen;
	mask_host_bits(p, &host_bits);
	if (host_bits && !allow_host_bits)
		return fail(why, "host bits are set: the address must be the first of its prefix",
			    -EINVAL);
	return 0;
}

int cfg_parse_prefix(const char *s, struct cfg_prefix *p, const char **why)
{
	return units_parse_prefix(s, p, false, why);
}

char *cfg_fmt_prefix(const struct cfg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

bool cfg_prefix_contains(const struct cfg_prefix *p, int family, const uint8_t *addr)
{
	unsigned full, rem;

	if (!p || !addr || p->family != family)
		return false;
	full = p->len / 8;
	rem = p->len % 8;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((p->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

/* ---- DSCP --------------------------------------------------------------------------- */

const char *const units_dscp_names[] = {
	"be",   "default", "le",   "cs0",  "cs1",  "cs2",  "cs3",  "cs4",  "cs5",
	"cs6",  "cs7",     "af11", "af12", "af13", "af21", "af22", "af23", "af31",
	"af32", "af33",    "af41", "af42", "af43", "ef",   "va",   NULL};

static int dscp_by_name(const char *n, size_t len)
{
	char lc[8];

	if (len == 0 || len >= sizeof(lc))
		return -1;
	for (size_t i = 0; i < len; i++)
		lc[i] = (char)tolower((unsigned char)n[i]);
	lc[len] = '\0';
	if (!strcmp(lc, "be") || !strcmp(lc, "default"))
		return 0;
	if (!strcmp(lc, "le"))
		return 1; /* RFC 8622 lower effort */
	if (!strcmp(lc, "ef"))
		return 46;
	if (!strcmp(lc, "va"))
		return 44; /* RFC 5865 voice admit */
	if (len == 3 && lc[0] == 'c' && lc[1] == 's' && lc[2] >= '0' && lc[2] <= '7')
		return (lc[2] - '0') * 8;
	if (len == 4 && lc[0] == 'a' && lc[1] == 'f' && lc[2] >= '1' && lc[2] <= '4' &&
	    lc[3] >= '1' && lc[3] <= '3')
		return (lc[2] - '0') * 8 + (lc[3] - '0') * 2;
	return -1;
}

int cfg_parse_dscp(const char *s, uint8_t *dscp, const char **why)
{
	const char *b;
	size_t len;
	int v;

	units_trim(s, &b, &len);
	if (len == 0)
		return fail(why, "empty: expected a DSCP name (ef, af41, cs6, be, ...) or 0..63",
			    -EINVAL);
	if (isdigit((unsigned char)b[0])) {
		v = 0;
		for (size_t i = 0; i < len; i++) {
			if (!isdigit((unsigned char)b[i]))
				return fail(why, "expected a DSCP name or a decimal number 0..63",
					    -EINVAL);
			v = v * 10 + (b[i] - '0');
			if (v > 63)
				return fail(why, "a DSCP value is 0..63 (6 bits, not the 8-bit "
						 "TOS byte)",
					    -ERANGE);
		}
		*dscp = (uint8_t)v;
		return 0;
	}
	v = dscp_by_name(b, len);
	if (v < 0)
		return fail(why, "unknown DSCP name: use be, le, cs0..cs7, af11..af43, ef, va "
				 "or a number 0..63",
			    -EINVAL);
	*dscp = (uint8_t)v;
	return 0;
}

char *cfg_fmt_dscp(uint8_t dscp, char *buf, size_t len)
{
	unsigned x = dscp / 8, y = (dscp % 8) / 2;

	if (dscp == 0)
		snprintf(buf, len, "be");
	else if (dscp == 1)
		snprintf(buf, len, "le");
	else if (dscp == 46)
		snprintf(buf, len, "ef");
	else if (dscp == 44)
		snprintf(buf, len, "va");
	else if (dscp % 8 == 0 && dscp < 64)
		snprintf(buf, len, "cs%u", x);
	else if (dscp % 2 == 0 && x >= 1 && x <= 4 && y >= 1 && y <= 3)
		snprintf(buf, len, "af%u%u", x, y);
	else
		snprintf(buf, len, "%u", dscp);
	return buf;
}

/* ---- host:port ---------------------------------------------------------------------- */

static bool valid_hostname(const char *h)
{
	size_t total = strlen(h), label = 0;

	if (total == 0 || total > 253)
		return false;
	for (const char *c = h;; c++) {
		if (*c == '.' || *c == '\0') {
			if (label == 0 || c[-1] == '-')
				return false;
			if (*c == '\0')
				return true;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*c) && *c != '-')
			return false;
		if (label == 0 && *c == '-')
			return false;
		if (++label > 63)
			return false;
	}
}

static bool all_digits_and_dots(const char *h)
{
	for (; *h; h++)
		if (!isdigit((unsigned char)*h) && *h != '.')
			return false;
	return true;
}

int cfg_parse_hostport(const char *s, struct cfg_hostport *hp, const char **why)
{
	char host[CFG_HOST_MAX];
	const char *b, *end, *colon, *portstr;
	size_t len, hlen;
	unsigned long port = 0;

	units_trim(s, &b, &len);
	end = b + len;
	if (len == 0)
		return fail(why, "empty: expected HOST:PORT such as 127.0.0.1:9479 or [::1]:7179",
			    -EINVAL);
	if (*b == '[') {
		const char *close = memchr(b, ']', len);
		if (!close)
			return fail(why, "missing ']' after the IPv6 address", -EINVAL);
		hlen = (size_t)(close - b - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return fail(why, "expected an IPv6 address inside [ ]", -EINVAL);
		memcpy(host, b + 1, hlen);
		host[hlen] = '\0';
		if (close + 1 >= end || close[1] != ':')
			return fail(why, "missing ':PORT' after ']', e.g. [::1]:7179", -EINVAL);
		portstr = close + 2;
		uint8_t a6[16];
		if (inet_pton(AF_INET6, host, a6) != 1)
			return fail(why, "not an IPv6 address inside [ ]", -EINVAL);
		inet_ntop(AF_INET6, a6, host, sizeof(host));
	} else {
		colon = memchr(b, ':', len);
		if (!colon)
			return fail(why, "missing ':PORT', e.g. 127.0.0.1:9479", -EINVAL);
		if (memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return fail(why, "put IPv6 addresses in brackets, e.g. [2001:db8::1]:7179",
				    -EINVAL);
		hlen = (size_t)(colon - b);
		if (hlen == 0)
			return fail(why, "missing host before ':PORT' (0.0.0.0 or [::] listen on "
					 "every address)",
				    -EINVAL);
		if (hlen >= sizeof(host))
			return fail(why, "host name too long", -EINVAL);
		memcpy(host, b, hlen);
		host[hlen] = '\0';
		portstr = colon + 1;
		if (all_digits_and_dots(host)) {
			uint8_t a4[4];
			if (inet_pton(AF_INET, host, a4) != 1)
				return fail(why, "not a valid IPv4 address", -EINVAL);
			inet_ntop(AF_INET, a4, host, sizeof(host));
		} else {
			if (!valid_hostname(host))
				return fail(why, "not a valid host name or address", -EINVAL);
			for (char *c = host; *c; c++)
				*c = (char)tolower((unsigned char)*c);
		}
	}
	if (portstr >= end)
		return fail(why, "missing port number after ':'", -EINVAL);
	for (const char *q = portstr; q < end; q++) {
		if (!isdigit((unsigned char)*q))
			return fail(why, "the port must be a number 0..65535", -EINVAL);
		port = port * 10 + (unsigned long)(*q - '0');
		if (port > 65535)
			return fail(why, "the port must be a number 0..65535", -ERANGE);
	}
	memset(hp, 0, sizeof(*hp));
	memcpy(hp->host, host, strlen(host) + 1);
	hp->port = (uint16_t)port;
	return 0;
}

char *cfg_fmt_hostport(const struct cfg_hostport *hp, char *buf, size_t len)
{
	if (strchr(hp->host, ':'))
		snprintf(buf, len, "[%s]:%u", hp->host, hp->port);
	else
		snprintf(buf, len, "%s:%u", hp->host, hp->port);
	return buf;
}

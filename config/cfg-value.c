/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-value: turns the text of one key into its typed field, by the key's schema type,
 * and reports what is wrong with it (every bad term of a list, not only the first).
 *
 * Owns the lists it allocates until they are stored in the field (the section's struct
 * then owns them; cfg_section_free_fields frees them). Never does I/O.
 */
#include "cfg-int.h"
#include "units-int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers ------------------------------------------------------------------ */

/* NULL when s is a valid object name, else what is wrong (in buf). */
static const char *name_problem(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	bool upper = false;

	if (n == 0)
		return "empty name";
	if (n >= CFG_NAME_MAX) {
		snprintf(buf, len, "'%s' is longer than %d characters", s, CFG_NAME_MAX - 1);
		return buf;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isupper(c)) {
			upper = true;
			continue;
		}
		if (!(islower(c) || isdigit(c) || c == '-')) {
			if (c >= 0x20 && c < 0x7f)
				snprintf(buf, len,
					 "'%s': names use lower-case letters, digits and '-' "
					 "(not '%c')",
					 s, c);
			else
				snprintf(buf, len,
					 "'%s': names use lower-case letters, digits and '-'", s);
			return buf;
		}
	}
	if (s[0] == '-' || s[n - 1] == '-') {
		snprintf(buf, len, "'%s': a name cannot start or end with '-'", s);
		return buf;
	}
	if (upper) {
		char lc[CFG_NAME_MAX];
		for (size_t i = 0; i <= n; i++)
			lc[i] = (char)tolower((unsigned char)s[i]);
		snprintf(buf, len, "'%s': names are lower case (write '%s')", s, lc);
		return buf;
	}
	return NULL;
}

const char *cfg_name_problem(const char *s, char *buf, size_t len)
{
	return name_problem(s, buf, len);
}

static const char *ifname_problem(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "empty interface name";
	if (n >= CFG_IFNAME_MAX)
		return "an interface name has at most 15 characters";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "not an interface name";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':' || c == ',')
			return "an interface name has no blanks, '/', ':' or ','";
	}
	return NULL;
}

/* Lexically clean an absolute path: no "//", "." or ".." components, no trailing '/'. */
void cfg_clean_path(char *p)
{
	char *out = p, *in = p;
	size_t root = 1;

	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		char *end = strchr(in, '/');
		size_t n = end ? (size_t)(end - in) : strlen(in);
		if (n == 1 && in[0] == '.') {
			/* nothing */
		} else if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p + root - 1 && out[-1] != '/')
				out--;
			if (out > p + root)
				out--;
			if (out < p + root)
				out = p + root - 1;
		} else {
			if (out == p || out[-1] != '/')
				*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in += n;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

/* A comma-separated list: calls fn for each trimmed item; reports empty items. */
struct list_ctx {
	struct cfg_ld *ld;
	unsigned line;
	const char *where;
};

static int for_each_item(struct list_ctx *c, const char *val,
			 void (*fn)(struct list_ctx *c, const char *item, void *arg), void *arg)
{
	const char *p = val;
	char item[1024];
	int n = 0;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *b;
		size_t blen;
		char tmp[1024];

		if (len >= sizeof(tmp))
			len = sizeof(tmp) - 1;
		memcpy(tmp, p, len);
		tmp[len] = '\0';
		units_trim(tmp, &b, &blen);
		memcpy(item, b, blen);
		item[blen] = '\0';
		if (blen == 0) {
			if (comma || n > 0)
				cfg_err(c->ld, c->line, c->where,
					"empty item in the list (two commas in a row, or a comma "
					"at an end)");
		} else {
			fn(c, item, arg);
		}
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return n;
}

static void *grow(struct cfg_ld *ld, void *arr, size_t n, size_t elem)
{
	void *r = realloc(arr, (n + 1) * elem);

	if (!r)
		ld->oom = true;
	return r;
}

/* ---- match -------------------------------------------------------------------------- */

static bool prefix_eq(const struct cfg_prefix *a, const struct cfg_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

static void match_term(struct list_ctx *c, const char *item, void *arg)
{
	static const char *const kw[] = {"dst", "src", "dscp"};
	struct cfg_match *m = arg;
	char word[64], fmt[64];
	const char *rest = item, *why;
	size_t wl = 0;

	while (*rest && !isspace((unsigned char)*rest) && wl + 1 < sizeof(word))
		word[wl++] = (char)tolower((unsigned char)*rest++);
	word[wl] = '\0';
	while (*rest && isspace((unsigned char)*rest))
		rest++;

	int kind = -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(word, kw[i]))
			kind = i;
	if (kind < 0) {
		struct cfg_prefix p;
		const char *hint = NULL;
		if (units_parse_prefix(word, &p, true, NULL) == 0)
			cfg_err(c->ld, c->line, c->where,
				"'%s': say 'dst %s' or 'src %s' (which side of the packet)", item,
				item, item);
		else if (!strcmp(word, "destination") || !strcmp(word, "dest") ||
			 !strcmp(word, "to") || !strcmp(word, "dst-prefix"))
			hint = "dst";
		else if (!strcmp(word, "source") || !strcmp(word, "from") ||
			 !strcmp(word, "src-prefix"))
			hint = "src";
		else if (!strcmp(word, "tos") || !strcmp(word, "dsfield"))
			hint = "dscp";
		else
			hint = cfg_suggest(word, kw, 3);
		if (hint)
			cfg_err(c->ld, c->line, c->where,
				"unknown match term '%s'; did you mean '%s'?", word, hint);
		else if (units_parse_prefix(word, &p, true, NULL) != 0)
			cfg_err(c->ld, c->line, c->where,
				"unknown match term '%s': terms are 'dst PREFIX', 'src PREFIX' "
				"and 'dscp CODE'",
				word);
		return;
	}
	if (!*rest) {
		cfg_err(c->ld, c->line, c->where, "'%s' needs a value, e.g. '%s'", word,
			kind == 2 ? "dscp af41" : kind == 0 ? "dst 198.51.100.0/24"
							    : "src 10.0.0.0/8");
		return;
	}
	if (kind == 2) {
		uint8_t d;
		if (cfg_parse_dscp(rest, &d, &why) != 0) {
			char lc[16];
			size_t n = strlen(rest);
			const char *s = NULL;
			if (n < sizeof(lc)) {
				for (size_t i = 0; i <= n; i++)
					lc[i] = (char)tolower((unsigned char)rest[i]);
				size_t nn = 0;
				while (units_dscp_names[nn])
					nn++;
				s = cfg_suggest(lc, units_dscp_names, nn);
			}
			if (s)
				cfg_err(c->ld, c->line, c->where,
					"'dscp %s': unknown DSCP name; did you mean '%s'?", rest,
					s);
			else
				cfg_err(c->ld, c->line, c->where, "'dscp %s': %s", rest, why);
			return;
		}
		for (size_t i = 0; i < m->n_dscp; i++) {
			if (m->dscp[i] == d) {
				cfg_err(c->ld, c->line, c->where, "'dscp %s' is listed twice",
					rest);
				return;
			}
		}
		uint8_t *nd = grow(c->ld, m->dscp, m->n_dscp, sizeof(*nd));
		if (!nd)
			return;
		m->dscp = nd;
		m->dscp[m->n_dscp++] = d;
		return;
	}
	struct cfg_prefix p;
	if (cfg_parse_prefix(rest, &p, &why) != 0) {
		struct cfg_prefix q;
		if (units_parse_prefix(rest, &q, true, NULL) == 0)
			cfg_err(c->ld, c->line, c->where,
				"'%s %s': host bits are set; did you mean %s?", word, rest,
				cfg_fmt_prefix(&q, fmt, sizeof(fmt)));
		else
			cfg_err(c->ld, c->line, c->where, "'%s %s': %s", word, rest, why);
		return;
	}
	struct cfg_prefix **arr = kind == 0 ? &m->dst : &m->src;
	size_t *n = kind == 0 ? &m->n_dst : &m->n_src;
	for (size_t i = 0; i < *n; i++) {
		if (prefix_eq(&(*arr)[i], &p)) {
			cfg_err(c->ld, c->line, c->where, "'%s %s' is listed twice", word, rest);
			return;
		}
	}
	struct cfg_prefix *np = grow(c->ld, *arr, *n, sizeof(*np));
	if (!np)
		return;
	*arr = np;
	(*arr)[(*n)++] = p;
}

/* ---- lists -------------------------------------------------------------------------- */

struct list_out {
	void **arr;
	size_t *n;
	size_t elem;
	bool bad; /* some item was rejected */
};

static void duration_item(struct list_ctx *c, const char *item, void *arg)
{
	struct list_out *o = arg;
	uint64_t ms, *arr;
	const char *why;

	if (cfg_parse_duration(item, &ms, &why) != 0) {
		cfg_err(c->ld, c->line, c->where, "'%s': %s", item, why);
		o->bad = true;
		return;
	}
	arr = *o->arr;
	for (size_t i = 0; i < *o->n; i++) {
		if (arr[i] == ms) {
			cfg_err(c->ld, c->line, c->where, "'%s' is listed twice", item);
			o->bad = true;
			return;
		}
	}
	arr = grow(c->ld, arr, *o->n, sizeof(*arr));
	if (!arr)
		return;
	arr[(*o->n)++] = ms;
	*o->arr = arr;
}

static void quantile_item(struct list_ctx *c, const char *item, void *arg)
{
	struct list_out *o = arg;
	double q, *arr;
	const char *why;

	if (cfg_parse_double(item, -INFINITY, INFINITY, &q, &why) != 0) {
		cfg_err(c->ld, c->line, c->where, "'%s': %s", item, why);
		o->bad = true;
		return;
	}
	if (q > 1 && q < 100) {
		cfg_err(c->ld, c->line, c->where,
			"'%s': a quantile is strictly between 0 and 1 (%s%% is %g)", item, item,
			q / 100);
		o->bad = true;
		return;
	}
	if (!(q > 0 && q < 1)) {
		cfg_err(c->ld, c->line, c->where,
			"'%s': a quantile is strictly between 0 and 1 (e.g. 0.95)", item);
		o->bad = true;
		return;
	}
	arr = *o->arr;
	for (size_t i = 0; i < *o->n; i++) {
		if (arr[i] == q) {
			cfg_err(c->ld, c->line, c->where, "'%s' is listed twice", item);
			o->bad = true;
			return;
		}
	}
	arr = grow(c->ld, arr, *o->n, sizeof(*arr));
	if (!arr)
		return;
	arr[(*o->n)++] = q;
	*o->arr = arr;
}

static void name_item(struct list_ctx *c, const char *item, void *arg)
{
	struct list_out *o = arg;
	char buf[160];
	const char *prob = o->elem == CFG_NAME_MAX ? name_problem(item, buf, sizeof(buf))
						   : ifname_problem(item);
	char *arr;

	if (prob) {
		if (o->elem == CFG_NAME_MAX)
			cfg_err(c->ld, c->line, c->where, "%s", prob);
		else
			cfg_err(c->ld, c->line, c->where, "'%s': %s", item, prob);
		o->bad = true;
		return;
	}
	arr = *o->arr;
	for (size_t i = 0; i < *o->n; i++) {
		if (!strcmp(arr + i * o->elem, item)) {
			cfg_err(c->ld, c->line, c->where, "'%s' is listed twice", item);
			o->bad = true;
			return;
		}
	}
	arr = grow(c->ld, arr, *o->n, o->elem);
	if (!arr)
		return;
	memset(arr + *o->n * o->elem, 0, o->elem);
	memcpy(arr + *o->n * o->elem, item, strlen(item) + 1);
	(*o->n)++;
	*o->arr = arr;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void check_ascending(struct list_ctx *c, const double *q, size_t n)
{
	char sorted[512], num[40];
	double *tmp;
	size_t off = 0;

	for (size_t i = 1; i < n; i++) {
		if (q[i] <= q[i - 1])
			goto unsorted;
	}
	return;
unsorted:
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp) {
		c->ld->oom = true;
		return;
	}
	memcpy(tmp, q, n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	sorted[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(sorted); i++)
		off += (size_t)snprintf(sorted + off, sizeof(sorted) - off, "%s%s", i ? ", " : "",
					units_fmt_double(tmp[i], num, sizeof(num)));
	free(tmp);
	cfg_err(c->ld, c->line, c->where, "quantiles must be in ascending order: write %s",
		sorted);
}

/* ---- models ------------------------------------------------------------------------- */

struct models_out {
	char *buf;
	size_t size;
	bool bad;
	bool any_auto;
	size_t n;
};

static void model_item(struct list_ctx *c, const char *item, void *arg)
{
	struct models_out *o = arg;
	size_t len = strlen(item), cur = strlen(o->buf);

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)item[i];
		if (!(islower(ch) || isdigit(ch) || ch == '-' || ch == '_')) {
			cfg_err(c->ld, c->line, c->where,
				"'%s': a model name uses lower-case letters, digits, '-' and '_'",
				item);
			o->bad = true;
			return;
		}
	}
	if (!strcmp(item, "auto"))
		o->any_auto = true;
	/* duplicates: compare against the names stored so far */
	for (const char *p = o->buf; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == len && !memcmp(p, item, n)) {
			cfg_err(c->ld, c->line, c->where, "model '%s' is listed twice", item);
			o->bad = true;
			return;
		}
		p += n + (comma ? 1 : 0);
	}
	if (cur + len + 2 > o->size) {
		cfg_err(c->ld, c->line, c->where, "the model list is longer than %zu characters",
			o->size - 1);
		o->bad = true;
		return;
	}
	snprintf(o->buf + cur, o->size - cur, "%s%s", cur ? "," : "", item);
	o->n++;
}

/* ---- one value ---------------------------------------------------------------------- */

static void range_err(struct cfg_ld *ld, unsigned line, const char *where, const char *val,
		      const char *unit_min, const char *unit_max)
{
	cfg_err(ld, line, where, "'%s' is out of range: %s..%s", val, unit_min, unit_max);
}

void cfg_parse_value(struct cfg_ld *ld, const struct cfg_key *k, void *elem, const char *val,
		     unsigned line, const char *where)
{
	char *f = (char *)elem + k->off;
	char buf[CFG_PATH_MAX + 64], a[48], b[48];
	const char *why = NULL, *prob;
	struct list_ctx lc = {ld, line, where};

	if (val[0] == '\0' && !(k->flags & CK_EMPTY_OK)) {
		cfg_err(ld, line, where, "empty value");
		return;
	}
	switch (k->type) {
	case CT_NAME:
		if (!val[0])
			break;
		prob = name_problem(val, buf, sizeof(buf));
		if (prob)
			cfg_err(ld, line, where, "%s", prob);
		else
			memcpy(f, val, strlen(val) + 1);
		break;
	case CT_IFNAME:
		if (!val[0])
			break;
		prob = ifname_problem(val);
		if (prob)
			cfg_err(ld, line, where, "'%s': %s", val, prob);
		else
			memcpy(f, val, strlen(val) + 1);
		break;
	case CT_PATH: {
		char full[2 * CFG_PATH_MAX + 2];
		if (!val[0])
			break;
		if (val[0] == '~') {
			cfg_err(ld, line, where,
				"'%s': '~' is not expanded; write the path out in full", val);
			break;
		}
		size_t dl = val[0] == '/' ? 0 : strlen(ld->dir) + 1, vl = strlen(val);
		full[0] = '\0';
		if (dl + vl < sizeof(full)) {
			if (dl) {
				memcpy(full, ld->dir, dl - 1);
				full[dl - 1] = '/';
			}
			memcpy(full + dl, val, vl + 1);
			cfg_clean_path(full);
		}
		size_t flen = dl + vl < sizeof(full) ? strlen(full) : dl + vl;
		if (flen >= k->size) {
			if (k->size < CFG_PATH_MAX)
				cfg_err(ld, line, where,
					"'%s': a UNIX socket path has at most %zu bytes (this one "
					"has %zu as an absolute path)",
					val, k->size - 1, flen);
			else
				cfg_err(ld, line, where,
					"'%s': a path has at most %zu bytes (as an absolute path)",
					val, k->size - 1);
			break;
		}
		memcpy(f, full, strlen(full) + 1);
		break;
	}
	case CT_UINT: {
		uint64_t v;
		int rc = cfg_parse_uint(val, (uint64_t)k->min, (uint64_t)k->max, &v, &why);
		if (rc == -ERANGE) {
			snprintf(a, sizeof(a), "%.0f", k->min);
			snprintf(b, sizeof(b), "%.0f", k->max);
			range_err(ld, line, where, val, a, b);
		} else if (rc) {
			unsigned hi, lo;
			char tail;
			if (!strcmp(k->name, "asn") &&
			    sscanf(val, "%5u.%5u%c", &hi, &lo, &tail) == 2 && hi < 65536 &&
			    lo < 65536)
				cfg_err(ld, line, where, "'%s': write AS numbers as plain integers "
							 "(asdot %s is %u)",
					val, val, hi * 65536 + lo);
			else
				cfg_err(ld, line, where, "'%s': %s", val, why);
		} else if (k->size == sizeof(uint64_t)) {
			*(uint64_t *)f = v;
		} else {
			*(uint32_t *)f = (uint32_t)v;
		}
		break;
	}
	case CT_BPS:
	case CT_BYTES:
	case CT_DURATION: {
		uint64_t v;
		int rc = k->type == CT_BPS     ? cfg_parse_bps(val, &v, &why)
			 : k->type == CT_BYTES ? cfg_parse_bytes(val, &v, &why)
					       : cfg_parse_duration(val, &v, &why);
		if (rc) {
			cfg_err(ld, line, where, "'%s': %s", val, why);
			break;
		}
		if (k->max > 0 && ((double)v < k->min || (double)v > k->max)) {
			if (k->type == CT_DURATION)
				range_err(ld, line, where, val,
					  cfg_fmt_duration((uint64_t)k->min, a, sizeof(a)),
					  cfg_fmt_duration((uint64_t)k->max, b, sizeof(b)));
			else
				range_err(ld, line, where, val,
					  cfg_fmt_bps((uint64_t)k->min, a, sizeof(a)),
					  cfg_fmt_bps((uint64_t)k->max, b, sizeof(b)));
			break;
		}
		if (k->max == 0 && (double)v < k->min) {
			cfg_err(ld, line, where, "'%s': must be more than 0", val);
			break;
		}
		*(uint64_t *)f = v;
		break;
	}
	case CT_PERCENT: {
		double v;
		if (cfg_parse_percent(val, &v, &why) != 0) {
			cfg_err(ld, line, where, "'%s': %s", val, why);
			break;
		}
		if (v < k->min || v > k->max) {
			range_err(ld, line, where, val, cfg_fmt_percent(k->min, a, sizeof(a)),
				  cfg_fmt_percent(k->max, b, sizeof(b)));
			break;
		}
		*(double *)f = v;
		break;
	}
	case CT_DOUBLE: {
		double v;
		if (cfg_parse_double(val, -INFINITY, INFINITY, &v, &why) != 0) {
			cfg_err(ld, line, where, "'%s': %s", val, why);
			break;
		}
		if (v == 0 && (k->flags & CK_OMIT_ZERO)) {
			cfg_err(ld, line, where, "'%s': leave %s out to learn it from past data",
				val, k->name);
			break;
		}
		bool open = k->flags & CK_OPEN;
		if (open ? !(v > k->min && v < k->max) : !(v >= k->min && v <= k->max)) {
			cfg_err(ld, line, where, "'%s' is out of range: %s %s and %s %s", val,
				open ? "above" : "from", units_fmt_double(k->min, a, sizeof(a)),
				open ? "below" : "up to", units_fmt_double(k->max, b, sizeof(b)));
			break;
		}
		*(double *)f = v;
		break;
	}
	case CT_BOOL:
		if (cfg_parse_bool(val, (bool *)f, &why) != 0)
			cfg_err(ld, line, where, "'%s': %s", val, why);
		break;
	case CT_HOSTPORT:
		if (cfg_parse_hostport(val, (struct cfg_hostport *)f, &why) != 0)
			cfg_err(ld, line, where, "'%s': %s", val, why);
		break;
	case CT_TIME:
		if (cfg_parse_time(val, (int64_t *)f, &why) != 0)
			cfg_err(ld, line, where, "'%s': %s", val, why);
		break;
	case CT_LOGLEVEL:
		if (tlog_parse_level(val, (enum tlog_level *)f) != 0)
			cfg_err(ld, line, where, "'%s': expected error, warn, info or debug", val);
		break;
	case CT_BACKEND: {
		static const char *const names[] = {"none", "bpf", "dpdk"};
		size_t i;
		for (i = 0; i < 3; i++)
			if (!strcasecmp(val, names[i]))
				break;
		if (i < 3) {
			*(enum cfg_backend *)f = (enum cfg_backend)i;
			break;
		}
		const char *s = cfg_suggest(val, names, 3);
		if (!strcasecmp(val, "ebpf") || !strcasecmp(val, "xdp") || !strcasecmp(val, "tc"))
			s = "bpf";
		if (s)
			cfg_err(ld, line, where, "unknown backend '%s'; did you mean '%s'?", val,
				s);
		else
			cfg_err(ld, line, where, "unknown backend '%s': expected bpf, dpdk or none",
				val);
		break;
	}
	case CT_MATCH: {
		struct cfg_match *m = (struct cfg_match *)f;
		for_each_item(&lc, val, match_term, m);
		break;
	}
	case CT_DURATION_LIST:
	case CT_QUANTILE_LIST:
	case CT_NAME_LIST:
	case CT_IFNAME_LIST: {
		void **arr = (void **)f;
		size_t *n = (size_t *)((char *)elem + k->count_off);
		struct list_out o = {.arr = arr, .n = n};
		free(*arr);
		*arr = NULL;
		*n = 0;
		if (!val[0])
			break;
		if (k->type == CT_DURATION_LIST) {
			for_each_item(&lc, val, duration_item, &o);
		} else if (k->type == CT_QUANTILE_LIST) {
			for_each_item(&lc, val, quantile_item, &o);
			if (!o.bad)
				check_ascending(&lc, *(double **)arr, *n);
		} else {
			o.elem = k->type == CT_NAME_LIST ? CFG_NAME_MAX : CFG_IFNAME_MAX;
			for_each_item(&lc, val, name_item, &o);
		}
		break;
	}
	case CT_MODELS: {
		struct models_out o = {.buf = f, .size = k->size};
		f[0] = '\0';
		for_each_item(&lc, val, model_item, &o);
		if (!o.bad && o.any_auto && o.n > 1)
			cfg_err(ld, line, where, "'auto' chooses among all models: list either "
						 "'auto' or model names, not both");
		break;
	}
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-print: what can be done with a loaded tree — print it as canonical INI (every key
 * explicit, values in the formatters' exact forms, so cfg_load reads it back equal),
 * compare two trees, look sections up by name, and free it. All of it walks the schema,
 * so no field can be forgotten by one of them.
 *
 * Owns nothing beyond the tree cfg_free releases. Writes only to the FILE it is given.
 */
#include "cfg-int.h"
#include "units-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INI_LINE_MAX 1022

/* ---- values as text ----------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *t)
{
	size_t n = strlen(t);

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, t, n + 1);
	b->len += n;
}

static void sb_sep(struct sbuf *b, size_t i)
{
	if (i)
		sb_add(b, ", ");
}

/* A match in config syntax: "dst 198.51.100.0/24, src ..., dscp af41" ("" when empty). */
static void sb_match(struct sbuf *b, const struct cfg_match *m)
{
	char t[64];
	size_t i = 0;
	for (size_t j = 0; j < m->n_dst; j++, i++) {
		sb_sep(b, i);
		sb_add(b, "dst ");
		sb_add(b, cfg_fmt_prefix(&m->dst[j], t, sizeof(t)));
	}
	for (size_t j = 0; j < m->n_src; j++, i++) {
		sb_sep(b, i);
		sb_add(b, "src ");
		sb_add(b, cfg_fmt_prefix(&m->src[j], t, sizeof(t)));
	}
	for (size_t j = 0; j < m->n_dscp; j++, i++) {
		sb_sep(b, i);
		sb_add(b, "dscp ");
		sb_add(b, cfg_fmt_dscp(m->dscp[j], t, sizeof(t)));
	}
}

size_t cfg_fmt_match(const struct cfg_match *m, char *buf, size_t len)
{
	struct sbuf b = {0};
	sb_match(&b, m);
	size_t n = b.oom ? SIZE_MAX : b.len;
	if (len)
		snprintf(buf, len, "%s", b.s && !b.oom ? b.s : "");
	free(b.s);
	return n;
}

/* The value of key k in elem as text; false when the key is left out (not set). */
static bool value_text(const struct cfg_key *k, const void *elem, struct sbuf *b)
{
	const char *f = (const char *)elem + k->off;
	char t[CFG_HOST_MAX + 64];

	switch (k->type) {
	case CT_NAME:
	case CT_PATH:
	case CT_IFNAME:
	case CT_MODELS:
		if (!f[0] && (k->flags & CK_EMPTY_OK))
			return false;
		sb_add(b, f);
		break;
	case CT_UINT:
		snprintf(t, sizeof(t), "%" PRIu64,
			 k->size == sizeof(uint64_t) ? *(const uint64_t *)f
						     : (uint64_t) * (const uint32_t *)f);
		sb_add(b, t);
		break;
	case CT_BPS:
		sb_add(b, cfg_fmt_bps(*(const uint64_t *)f, t, sizeof(t)));
		break;
	case CT_BYTES:
		sb_add(b, cfg_fmt_bytes(*(const uint64_t *)f, t, sizeof(t)));
		break;
	case CT_DURATION:
		sb_add(b, cfg_fmt_duration(*(const uint64_t *)f, t, sizeof(t)));
		break;
	case CT_PERCENT:
		sb_add(b, cfg_fmt_percent(*(const double *)f, t, sizeof(t)));
		break;
	case CT_DOUBLE:
		if ((k->flags & CK_OMIT_ZERO) && *(const double *)f == 0)
			return false;
		sb_add(b, units_fmt_double(*(const double *)f, t, sizeof(t)));
		break;
	case CT_BOOL:
		sb_add(b, *(const bool *)f ? "yes" : "no");
		break;
	case CT_HOSTPORT:
		sb_add(b, cfg_fmt_hostport((const struct cfg_hostport *)f, t, sizeof(t)));
		break;
	case CT_TIME:
		sb_add(b, cfg_fmt_time(*(const int64_t *)f, t, sizeof(t)));
		break;
	case CT_LOGLEVEL:
		sb_add(b, tlog_level_name(*(const enum tlog_level *)f));
		break;
	case CT_BACKEND:
		sb_add(b, cfg_backend_name(*(const enum cfg_backend *)f));
		break;
	case CT_MATCH:
		sb_match(b, (const struct cfg_match *)f);
		break;
	case CT_DURATION_LIST:
	case CT_QUANTILE_LIST:
	case CT_NAME_LIST:
	case CT_IFNAME_LIST: {
		size_t n = *(const size_t *)((const char *)elem + k->count_off);
		const void *arr = *(void *const *)f;
		if (n == 0 && (k->flags & CK_EMPTY_OK))
			return false;
		for (size_t i = 0; i < n; i++) {
			sb_sep(b, i);
			if (k->type == CT_DURATION_LIST)
				sb_add(b, cfg_fmt_duration(((const uint64_t *)arr)[i], t,
							   sizeof(t)));
			else if (k->type == CT_QUANTILE_LIST)
				sb_add(b, units_fmt_double(((const double *)arr)[i], t, sizeof(t)));
			else if (k->type == CT_NAME_LIST)
				sb_add(b, ((const char(*)[CFG_NAME_MAX])arr)[i]);
			else
				sb_add(b, ((const char(*)[CFG_IFNAME_MAX])arr)[i]);
		}
		break;
	}
	}
	return true;
}

/* ---- printing ----------------------------------------------------------------------- */

static int print_key(FILE *out, const struct cfg_key *k, const void *elem)
{
	struct sbuf b = {0};
	const char *q = "";
	int rc = 0;

	sb_add(&b, "");
	if (!value_text(k, elem, &b) || b.oom) {
		rc = b.oom ? -ENOMEM : 0;
		goto out;
	}
	/* iniparser cuts unquoted values at ';' or '#', strips blanks and joins lines ending
	 * in '\': quote such values (it has no escapes, so a value cannot hold both kinds) */
	if (strpbrk(b.s, ";#") || (b.len && (b.s[0] == ' ' || b.s[b.len - 1] == ' ' ||
					     b.s[b.len - 1] == '\\' || b.s[0] == '"' ||
					     b.s[0] == '\''))) {
		if (!strchr(b.s, '"'))
			q = "\"";
		else if (!strchr(b.s, '\''))
			q = "'";
		else {
			rc = -EINVAL;
			goto out;
		}
	}
	if (strlen(k->name) + 3 + b.len + 2 * strlen(q) > INI_LINE_MAX) {
		rc = -EOVERFLOW;
		goto out;
	}
	if (fprintf(out, "%s = %s%s%s\n", k->name, q, b.s, q) < 0)
		rc = -EIO;
out:
	free(b.s);
	return rc;
}

static int print_section(FILE *out, const struct cfg_section *s, const char *name,
			 const void *elem)
{
	int rc;

	if (name)
		fprintf(out, "\n[%s.%s]\n", s->name, name);
	else
		fprintf(out, "\n[%s]\n", s->name);
	for (size_t k = 0; k < s->n_keys; k++)
		if ((rc = print_key(out, &s->keys[k], elem)) < 0)
			return rc;
	return 0;
}

int cfg_print(const struct tidal_cfg *cfg, FILE *out)
{
	int rc;

	if (!cfg || !out)
		return -EINVAL;
	fprintf(out, "; tidal configuration of region %s (canonical form)\n", cfg->region.name);
	for (size_t j = 0; j < cfg_schema_len; j++) {
		const struct cfg_section *s = &cfg_schema[j];
		if (!s->named) {
			if (s->present_off && !*(const bool *)((const char *)cfg + s->present_off))
				continue;
			rc = print_section(out, s, NULL, (const char *)cfg + s->off);
			if (rc < 0)
				return rc;
			continue;
		}
		const char *arr = *(char *const *)((const char *)cfg + s->off);
		size_t n = *(const size_t *)((const char *)cfg + s->count_off);
		for (size_t i = 0; i < n; i++) {
			const char *e = arr + i * s->elem_size;
			rc = print_section(out, s, e + s->name_off, e);
			if (rc < 0)
				return rc;
		}
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- equality ----------------------------------------------------------------------- */

static bool key_equal(const struct cfg_key *k, const void *ea, const void *eb)
{
	const char *a = (const char *)ea + k->off, *b = (const char *)eb + k->off;

	switch (k->type) {
	case CT_NAME:
	case CT_PATH:
	case CT_IFNAME:
	case CT_MODELS:
		return strcmp(a, b) == 0;
	case CT_UINT:
		return k->size == sizeof(uint64_t) ? *(const uint64_t *)a == *(const uint64_t *)b
						   : *(const uint32_t *)a == *(const uint32_t *)b;
	case CT_BPS:
	case CT_BYTES:
	case CT_DURATION:
		return *(const uint64_t *)a == *(const uint64_t *)b;
	case CT_PERCENT:
	case CT_DOUBLE:
		return *(const double *)a == *(const double *)b;
	case CT_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case CT_HOSTPORT: {
		const struct cfg_hostport *x = (const void *)a, *y = (const void *)b;
		return x->port == y->port && strcmp(x->host, y->host) == 0;
	}
	case CT_TIME:
		return *(const int64_t *)a == *(const int64_t *)b;
	case CT_LOGLEVEL:
		return *(const enum tlog_level *)a == *(const enum tlog_level *)b;
	case CT_BACKEND:
		return *(const enum cfg_backend *)a == *(const enum cfg_backend *)b;
	case CT_MATCH: {
		const struct cfg_match *x = (const void *)a, *y = (const void *)b;
		return x->n_dst == y->n_dst && x->n_src == y->n_src && x->n_dscp == y->n_dscp &&
		       (!x->n_dst || !memcmp(x->dst, y->dst, x->n_dst * sizeof(*x->dst))) &&
		       (!x->n_src || !memcmp(x->src, y->src, x->n_src * sizeof(*x->src))) &&
		       (!x->n_dscp || !memcmp(x->dscp, y->dscp, x->n_dscp));
	}
	case CT_DURATION_LIST:
	case CT_QUANTILE_LIST:
	case CT_NAME_LIST:
	case CT_IFNAME_LIST: {
		size_t na = *(const size_t *)((const char *)ea + k->count_off);
		size_t nb = *(const size_t *)((const char *)eb + k->count_off);
		const void *xa = *(void *const *)a, *xb = *(void *const *)b;
		if (na != nb)
			return false;
		if (k->type == CT_QUANTILE_LIST) {
			for (size_t i = 0; i < na; i++)
				if (((const double *)xa)[i] != ((const double *)xb)[i])
					return false;
			return true;
		}
		size_t el = k->type == CT_DURATION_LIST ? sizeof(uint64_t)
			    : k->type == CT_NAME_LIST   ? CFG_NAME_MAX
							: CFG_IFNAME_MAX;
		if (k->type == CT_DURATION_LIST)
			return !na || !memcmp(xa, xb, na * el);
		for (size_t i = 0; i < na; i++)
			if (strcmp((const char *)xa + i * el, (const char *)xb + i * el))
				return false;
		return true;
	}
	}
	return false;
}

static bool section_equal(const struct cfg_section *s, const void *a, const void *b)
{
	for (size_t k = 0; k < s->n_keys; k++)
		if (!key_equal(&s->keys[k], a, b))
			return false;
	return true;
}

/* Equal content; the path the trees were loaded from is not compared. */
bool cfg_equal(const struct tidal_cfg *a, const struct tidal_cfg *b)
{
	if (!a || !b)
		return a == b;
	if (a->peering.enabled != b->peering.enabled || a->frr.enabled != b->frr.enabled)
		return false;
	for (size_t j = 0; j < cfg_schema_len; j++) {
		const struct cfg_section *s = &cfg_schema[j];
		if (!s->named) {
			if (!section_equal(s, (const char *)a + s->off, (const char *)b + s->off))
				return false;
			continue;
		}
		size_t na = *(const size_t *)((const char *)a + s->count_off);
		size_t nb = *(const size_t *)((const char *)b + s->count_off);
		const char *xa = *(char *const *)((const char *)a + s->off);
		const char *xb = *(char *const *)((const char *)b + s->off);
		if (na != nb)
			return false;
		for (size_t i = 0; i < na; i++) {
			const char *ea = xa + i * s->elem_size, *eb = xb + i * s->elem_size;
			if (strcmp(ea + s->name_off, eb + s->name_off) || !section_equal(s, ea, eb))
				return false;
		}
	}
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i].link_index != b->peers[i].link_index)
			return false;
	return true;
}

/* ---- lookups and freeing ------------------------------------------------------------ */

#define FIND(ARR, N)                                                                         \
	do {                                                                                 \
		if (!cfg || !name)                                                           \
			return NULL;                                                         \
		for (size_t i = 0; i < cfg->N; i++)                                          \
			if (!strcmp(cfg->ARR[i].name, name))                                 \
				return &cfg->ARR[i];                                         \
		return NULL;                                                                 \
	} while (0)

const struct cfg_link *cfg_find_link(const struct tidal_cfg *cfg, const char *name)
{
	FIND(links, n_links);
}

const struct cfg_peer *cfg_find_peer(const struct tidal_cfg *cfg, const char *name)
{
	FIND(peers, n_peers);
}

const struct cfg_app *cfg_find_app(const struct tidal_cfg *cfg, const char *name)
{
	FIND(apps, n_apps);
}

const struct cfg_pool *cfg_find_pool(const struct tidal_cfg *cfg, const char *name)
{
	FIND(pools, n_pools);
}

const char *cfg_backend_name(enum cfg_backend b)
{
	switch (b) {
	case CFG_BACKEND_NONE:
		return "none";
	case CFG_BACKEND_BPF:
		return "bpf";
	case CFG_BACKEND_DPDK:
		return "dpdk";
	}
	return "?";
}

void cfg_free(struct tidal_cfg *cfg)
{
	if (!cfg)
		return;
	for (size_t j = 0; j < cfg_schema_len; j++) {
		const struct cfg_section *s = &cfg_schema[j];
		if (!s->named) {
			cfg_section_free_fields(s, (char *)cfg + s->off);
			continue;
		}
		char *arr = *(char **)((char *)cfg + s->off);
		size_t n = *(size_t *)((char *)cfg + s->count_off);
		for (size_t i = 0; i < n; i++)
			cfg_section_free_fields(s, arr + i * s->elem_size);
		free(arr);
	}
	free(cfg);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr_state: the model of bgpd's configuration that the FRR provisioner plans against
 * (see frr_plan.h): memory management, lookups, tidal's names, and the parsers of bgpd's
 * `show ... json` output (jansson).
 *
 * Owns: every array hanging off a struct frr_state. Never does I/O: the JSON text comes
 * from control/frr.c, the one file that talks to FRR.
 */
#include "frr_plan.h"
#include "hex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void *frr_vec_push(void *base, size_t *n, size_t size, bool *ok)
{
	void *nb = realloc(base, (*n + 1) * size);

	if (!nb) {
		*ok = false;
		return base;
	}
	memset((char *)nb + *n * size, 0, size);
	(*n)++;
	*ok = true;
	return nb;
}

void frr_vec_remove(void *base, size_t *n, size_t size, size_t i)
{
	char *b = base;

	memmove(b + i * size, b + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

void frr_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* strlcpy semantics; false when src did not fit. */
bool frr_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len) {
		memcpy(dst, src, len - 1);
		dst[len - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

int frr_canon_addr(const char *in, char out[PROV_ADDR_MAX])
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, in, bin) == 1)
		return inet_ntop(AF_INET, bin, out, PROV_ADDR_MAX) ? 0 : -EINVAL;
	if (inet_pton(AF_INET6, in, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, PROV_ADDR_MAX) ? 0 : -EINVAL;
	return -EINVAL;
}

/* ---- memory ------------------------------------------------------------------------ */

void frr_rmap_entry_free(struct frr_rmap_entry *e)
{
	free(e->match);
	free(e->set);
	e->match = NULL;
	e->set = NULL;
	e->n_match = e->n_set = 0;
}

static void rmap_free(struct frr_rmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		frr_rmap_entry_free(&m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

void frr_state_free(struct frr_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_plists; i++)
		free(st->plists[i].v);
	free(st->plists);
	for (size_t i = 0; i < st->n_rmaps; i++)
		rmap_free(&st->rmaps[i]);
	free(st->rmaps);
	free(st->nbrs);
	memset(st, 0, sizeof(*st));
}

static void *dup_array(const void *src, size_t n, size_t size, bool *ok)
{
	void *d;

	if (!n)
		return NULL;
	d = malloc(n * size);
	if (!d) {
		*ok = false;
		return NULL;
	}
	memcpy(d, src, n * size);
	return d;
}

int frr_rmap_entry_copy(struct frr_rmap_entry *dst, const struct frr_rmap_entry *src)
{
	bool ok = true;

	*dst = *src;
	dst->match = dup_array(src->match, src->n_match, sizeof(*src->match), &ok);
	dst->set = dup_array(src->set, src->n_set, sizeof(*src->set), &ok);
	if (!ok) {
		frr_rmap_entry_free(dst);
		return -ENOMEM;
	}
	return 0;
}

int frr_state_copy(struct frr_state *dst, const struct frr_state *src)
{
	bool ok = true;

	memset(dst, 0, sizeof(*dst));
	dst->asn = src->asn;
	dst->nbrs = dup_array(src->nbrs, src->n_nbrs, sizeof(*src->nbrs), &ok);
	dst->n_nbrs = ok ? src->n_nbrs : 0;
	if (src->n_plists) {
		dst->plists = calloc(src->n_plists, sizeof(*dst->plists));
		ok = ok && dst->plists;
		for (size_t i = 0; ok && i < src->n_plists; i++) {
			dst->plists[i] = src->plists[i];
			dst->plists[i].v = dup_array(src->plists[i].v, src->plists[i].n,
			                             sizeof(*src->plists[i].v), &ok);
			if (!ok)
				dst->plists[i].n = 0;
			dst->n_plists = i + 1;
		}
	}
	if (ok && src->n_rmaps) {
		dst->rmaps = calloc(src->n_rmaps, sizeof(*dst->rmaps));
		ok = dst->rmaps != NULL;
		for (size_t i = 0; ok && i < src->n_rmaps; i++) {
			const struct frr_rmap *s = &src->rmaps[i];
			struct frr_rmap *d = &dst->rmaps[i];

			dst->n_rmaps = i + 1;
			memcpy(d->name, s->name, sizeof(d->name));
			if (!s->n)
				continue;
			d->v = calloc(s->n, sizeof(*d->v));
			if (!d->v) {
				ok = false;
				break;
			}
			for (size_t j = 0; j < s->n; j++) {
				if (frr_rmap_entry_copy(&d->v[j], &s->v[j]) < 0) {
					ok = false;
					break;
				}
				d->n = j + 1;
			}
		}
	}
	if (!ok) {
		frr_state_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* ---- lookups and names ------------------------------------------------------------- */

struct frr_nbr *frr_state_nbr(const struct frr_state *st, const char *addr)
{
	for (size_t i = 0; i < st->n_nbrs; i++)
		if (!strcmp(st->nbrs[i].addr, addr))
			return &st->nbrs[i];
	return NULL;
}

struct frr_rmap *frr_state_rmap(const struct frr_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_rmaps; i++)
		if (!strcmp(st->rmaps[i].name, name))
			return &st->rmaps[i];
	return NULL;
}

struct frr_plist *frr_state_plist(const struct frr_state *st, const char *name, enum frr_af af)
{
	for (size_t i = 0; i < st->n_plists; i++)
		if (st->plists[i].af == af && !strcmp(st->plists[i].name, name))
			return &st->plists[i];
	return NULL;
}

void frr_plist_name(const uint8_t id[PROV_LEASE_ID_LEN], char buf[FRR_NAME_MAX])
{
	size_t o = strlen(FRR_PLIST_PREFIX);

	memcpy(buf, FRR_PLIST_PREFIX, o);
	hex_fmt(id, PROV_LEASE_ID_LEN, buf + o);
}

void frr_rmap_name(const char *via, char buf[FRR_NAME_MAX])
{
	snprintf(buf, FRR_NAME_MAX, "%s%s", FRR_RMAP_PREFIX, via);
}

void frr_lease_community(uint32_t asn, const uint8_t id[PROV_LEASE_ID_LEN], char *buf, size_t len)
{
	snprintf(buf, len, "%u:%u:%u", asn, (unsigned)FRR_LC_FUNCTION, prov_lease_id_low32(id));
}

bool frr_is_tidal_name(const char *name)
{
	return !strncmp(name, FRR_TIDAL_PREFIX, strlen(FRR_TIDAL_PREFIX));
}

bool frr_nbr_is_tidal(const struct frr_nbr *n)
{
	return !strncmp(n->desc, FRR_NBR_DESC_PREFIX, strlen(FRR_NBR_DESC_PREFIX));
}

/* ---- JSON parsers ------------------------------------------------------------------ */

static json_t *load(const char *json, const char *what, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loads(json, 0, &je);

	if (!root) {
		frr_errf(err, errlen, "%s: not JSON (line %d: %s): %.120s", what, je.line, je.text,
		     json);
		return NULL;
	}
	if (!json_is_object(root)) {
		frr_errf(err, errlen, "%s: expected a JSON object", what);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Per-daemon output is wrapped in {"BGP": {...}} by some commands. */
static json_t *unwrap(json_t *root)
{
	json_t *b = json_object_get(root, "BGP");

	return json_is_object(b) ? b : root;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int frr_state_parse_plists(struct frr_state *st, enum frr_af af, const char *json, char *err,
                           size_t errlen)
{
	const char *what =
	        af == FRR_AF_IPV4 ? "show ip prefix-list json" : "show ipv6 prefix-list json";
	json_t *root = load(json, what, err, errlen), *lists, *pl;
	const char *name;
	int rc = 0;

	if (!root)
		return -EINVAL;
	lists = unwrap(root);
	json_object_foreach(lists, name, pl)
	{
		json_t *entries = json_object_get(pl, "entries"), *e;
		struct frr_plist *p;
		size_t i;

		if (!frr_is_tidal_name(name))
			continue;
		if (strlen(name) >= FRR_NAME_MAX || !json_is_array(entries)) {
			frr_errf(err, errlen, "%s: prefix-list %.80s: unexpected form", what, name);
			rc = -EINVAL;
			break;
		}
		p = frr_state_plist(st, name, af);
		if (!p) {
			p = FRR_PUSH(st->plists, st->n_plists);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			frr_copy(p->name, sizeof(p->name), name);
			p->af = af;
		}
		json_array_foreach(entries, i, e)
		{
			struct frr_plist_entry *pe = FRR_PUSH(p->v, p->n);
			json_int_t seq = json_integer_value(json_object_get(e, "sequenceNumber"));

			if (!pe) {
				rc = -ENOMEM;
				break;
			}
			pe->seq = (uint32_t)seq;
			pe->permit = !strcmp(jstr(e, "type"), "permit");
			frr_copy(pe->prefix, sizeof(pe->prefix), jstr(e, "prefix"));
		}
		if (rc)
			break;
	}
	json_decref(root);
	return rc;
}

static int clauses(json_t *arr, char (**out)[FRR_TEXT_MAX], size_t *n)
{
	json_t *c;
	size_t i;

	json_array_foreach(arr, i, c)
	{
		const char *s = json_string_value(c);
		char(*slot)[FRR_TEXT_MAX];

		if (!s)
			continue;
		slot = FRR_PUSH(*out, *n);
		if (!slot)
			return -ENOMEM;
		frr_copy(*slot, FRR_TEXT_MAX, s);
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct frr_rmap_entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int frr_state_parse_rmaps(struct frr_state *st, const char *json, char *err, size_t errlen)
{
	json_t *root = load(json, "show route-map json", err, errlen), *maps, *m;
	const char *name;
	int rc = 0;

	if (!root)
		return -EINVAL;
	maps = unwrap(root);
	json_object_foreach(maps, name, m)
	{
		json_t *rules = json_object_get(m, "rules"), *r;
		struct frr_rmap *rm;
		size_t i;

		if (!frr_is_tidal_name(name))
			continue;
		if (strlen(name) >= FRR_NAME_MAX || !json_is_array(rules)) {
			frr_errf(err, errlen, "show route-map json: route-map %.80s: unexpected form",
			     name);
			rc = -EINVAL;
			break;
		}
		/* bgpd keeps a route-map whose last entry was deleted, without rules, until
		 * its update timer runs: that is an absent route-map. */
		if (!json_array_size(rules))
			continue;
		rm = FRR_PUSH(st->rmaps, st->n_rmaps);
		if (!rm) {
			rc = -ENOMEM;
			break;
		}
		frr_copy(rm->name, sizeof(rm->name), name);
		json_array_foreach(rules, i, r)
		{
			struct frr_rmap_entry *e = FRR_PUSH(rm->v, rm->n);

			if (!e) {
				rc = -ENOMEM;
				break;
			}
			e->seq = (uint32_t)json_integer_value(json_object_get(r, "sequenceNumber"));
			e->permit = strcmp(jstr(r, "type"), "deny") != 0;
			frr_copy(e->desc, sizeof(e->desc), jstr(r, "description"));
			rc = clauses(json_object_get(r, "matchClauses"), &e->match, &e->n_match);
			if (!rc)
				rc = clauses(json_object_get(r, "setClauses"), &e->set, &e->n_set);
			if (rc)
				break;
		}
		if (rc)
			break;
		if (rm->n > 1)
			qsort(rm->v, rm->n, sizeof(*rm->v), cmp_entry);
	}
	json_decref(root);
	return rc;
}

static const char *af_key[FRR_AF_N] = {"ipv4Unicast", "ipv6Unicast"};

int frr_state_parse_nbrs(struct frr_state *st, const char *json, char *err, size_t errlen)
{
	json_t *root = load(json, "show bgp neighbors json", err, errlen), *n;
	const char *addr;
	int rc = 0;

	if (!root)
		return -EINVAL;
	json_object_foreach(root, addr, n)
	{
		json_t *afi = json_object_get(n, "addressFamilyInfo");
		struct frr_nbr *nb;

		if (!json_is_object(n))
			continue; /* e.g. "bgpNoSuchNeighbor": true */
		if (strlen(addr) >= FRR_NAME_MAX) {
			frr_errf(err, errlen, "show bgp neighbors json: neighbor name too long: %.80s",
			     addr);
			rc = -EINVAL;
			break;
		}
		nb = FRR_PUSH(st->nbrs, st->n_nbrs);
		if (!nb) {
			rc = -ENOMEM;
			break;
		}
		frr_copy(nb->addr, sizeof(nb->addr), addr);
		nb->remote_as = (uint32_t)json_integer_value(json_object_get(n, "remoteAs"));
		frr_copy(nb->desc, sizeof(nb->desc), jstr(n, "nbrDesc"));
		frr_copy(nb->state, sizeof(nb->state), jstr(n, "bgpState"));
		for (int af = 0; af < FRR_AF_N; af++) {
			json_t *a = json_object_get(afi, af_key[af]);

			nb->active[af] = json_is_object(a);
			if (nb->active[af])
				frr_copy(nb->rmap_in[af], FRR_NAME_MAX,
				         jstr(a, "routeMapForIncomingAdvertisements"));
		}
	}
	json_decref(root);
	return rc;
}

int frr_state_parse_asn(struct frr_state *st, const char *json, const char *what, char *err,
                        size_t errlen)
{
	json_t *root = load(json, what, err, errlen);
	json_int_t asn;

	if (!root)
		return -EINVAL;
	asn = json_integer_value(json_object_get(root, "as"));
	if (asn <= 0)
		asn = json_integer_value(json_object_get(root, "localAS"));
	if (asn > 0 && asn <= UINT32_MAX)
		st->asn = (uint32_t)asn;
	json_decref(root);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_tables: config apps -> contents of the classification maps, and the reference
 * classifier (see bpfc_tables.h for the class model).
 *
 * Destination tries: every distinct destination prefix P of a family gets an entry whose
 * candidate list holds each app with a prefix covering P (an LPM lookup lands on the
 * longest P containing the address, and the apps whose prefixes contain the address are
 * exactly those covering P). Ancestors are found by masking P to each shorter length and
 * looking the result up in the sorted prefix list, so building is O(P * bits * log P).
 * Source tries work the same way with a bit set of source slots as the value.
 *
 * Pure: no I/O besides log messages, every allocation freed on every path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpfc_tables.h"
#include "log.h"

struct pfx_app {
	uint8_t len;
	uint8_t addr[16];
	uint32_t app; /* index into apps */
};

struct cand {
	uint32_t app;
	uint8_t cover; /* length of the app's longest prefix covering the entry */
	uint8_t ncons; /* kinds of constraint besides dst */
};

static size_t addr_bytes(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void mask_addr(uint8_t *out, const uint8_t *in, unsigned len, size_t nbytes)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bits = len >= (i + 1) * 8 ? 8 : (len > i * 8 ? len - i * 8 : 0);

		out[i] = bits ? in[i] & (uint8_t)(0xff << (8 - bits)) : 0;
	}
}

static const char *fmt_pfx(int family, uint8_t len, const uint8_t *addr, char *buf,
			   size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, size, "%s/%u", a, len);
	return buf;
}

static int pfx_cmp(const void *a, const void *b)
{
	const struct pfx_app *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return x->app < y->app ? -1 : x->app > y->app;
}

static int pfx_key_cmp(const void *key, const void *elem)
{
	const struct pfx_app *x = key, *y = elem;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->cover != y->cover)
		return x->cover > y->cover ? -1 : 1;
	if (x->ncons != y->ncons)
		return x->ncons > y->ncons ? -1 : 1;
	return x->app < y->app ? -1 : x->app > y->app;
}

static uint8_t app_ncons(const struct cfg_app *a)
{
	return (uint8_t)((a->match.n_src > 0) + (a->match.n_dscp > 0));
}

/* Sorted (prefix, app) pairs of one family; unique prefixes are runs of equal prefixes.
 * `src` selects the src lists instead of the dst lists; wildcard_zero adds a /0 pair for
 * apps whose list is empty (destinations only). */
static int collect(const struct cfg_app *apps, size_t n, int family, bool src,
		   struct pfx_app **out, size_t *nout)
{
	size_t cap = 0, cnt = 0;
	struct pfx_app *v = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct cfg_prefix *p = src ? apps[i].match.src : apps[i].match.dst;
		size_t np = src ? apps[i].match.n_src : apps[i].match.n_dst;
		struct cfg_prefix wild = {.family = (uint8_t)family, .len = 0};

		if (np == 0 && !src) {
			p = &wild;
			np = 1;
		}
		for (size_t j = 0; j < np; j++) {
			if (p[j].family != family)
				continue;
			if (p[j].len > addr_bytes(family) * 8) {
				log_err("bpf: app %s: prefix length %u is too long for its family",
					apps[i].name, p[j].len);
				free(v);
				return -EINVAL;
			}
			if (cnt == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct pfx_app *nv = realloc(v, nc * sizeof(*v));

				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
				cap = nc;
			}
			v[cnt].len = p[j].len;
			memset(v[cnt].addr, 0, 16);
			/* Host bits are zero by cfg's contract; mask anyway so that a stray bit
			 * cannot create two keys for one prefix. */
			mask_addr(v[cnt].addr, p[j].addr, p[j].len, addr_bytes(family));
			v[cnt].app = (uint32_t)i;
			cnt++;
		}
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), pfx_cmp);
	*out = v;
	*nout = cnt;
	return 0;
}

/* First index of the run equal to key (len, addr), or -1. */
static long find_run(const struct pfx_app *v, size_t n, const struct pfx_app *key)
{
	const struct pfx_app *hit = bsearch(key, v, n, sizeof(*v), pfx_key_cmp);

	if (!hit)
		return -1;
	while (hit > v && pfx_key_cmp(key, hit - 1) == 0)
		hit--;
	return hit - v;
}

/* Candidate list of prefix v[u] into c (at most TIDAL_MAX_CAND + 1 entries are kept, so
 * that an overflow can be reported). Returns the count. */
static size_t candidates(const struct cfg_app *apps, const struct pfx_app *v, size_t nv,
			 size_t u, size_t nbytes, struct cand *c)
{
	size_t nc = 0;
	struct pfx_app key;

	for (int l = v[u].len; l >= 0; l--) {
		long r;

		key.len = (uint8_t)l;
		memset(key.addr, 0, 16);
		mask_addr(key.addr, v[u].addr, (unsigned)l, nbytes);
		r = find_run(v, nv, &key);
		if (r < 0)
			continue;
		for (size_t k = (size_t)r; k < nv && pfx_key_cmp(&key, &v[k]) == 0; k++) {
			bool seen = false;

			for (size_t m = 0; m < nc; m++)
				seen = seen || c[m].app == v[k].app;
			if (seen || nc > TIDAL_MAX_CAND)
				continue;
			c[nc].app = v[k].app;
			c[nc].cover = (uint8_t)l;
			c[nc].ncons = app_ncons(&apps[v[k].app]);
			nc++;
		}
	}
	qsort(c, nc, sizeof(*c), cand_cmp);
	return nc;
}

static int build_dst(const struct cfg_app *apps, size_t n, int family, struct bpfc_tables *t)
{
	size_t nv, nu = 0, nbytes = addr_bytes(family);
	struct pfx_app *v;
	void *entries;
	int err;

	err = collect(apps, n, family, false, &v, &nv);
	if (err)
		return err;
	for (size_t i = 0; i < nv; i++)
		nu += i == 0 || pfx_key_cmp(&v[i], &v[i - 1]) != 0;
	if (nu > TIDAL_LPM_MAX) {
		log_err("bpf: %zu distinct IPv%d destination prefixes, at most %d fit",
			nu, family == AF_INET ? 4 : 6, TIDAL_LPM_MAX);
		free(v);
		return -ENOSPC;
	}
	entries = calloc(nu ? nu : 1, family == AF_INET ? sizeof(struct bpfc_dst4)
							: sizeof(struct bpfc_dst6));
	if (!entries) {
		free(v);
		return -ENOMEM;
	}
	nu = 0;
	for (size_t i = 0; i < nv; i++) {
		struct cand c[TIDAL_MAX_CAND + 1];
		struct tidal_cand *tc;
		size_t nc;

		if (i > 0 && pfx_key_cmp(&v[i], &v[i - 1]) == 0)
			continue;
		nc = candidates(apps, v, nv, i, nbytes, c);
		if (nc > TIDAL_MAX_CAND) {
			char b[64];

			log_err("bpf: more than %d apps can match destination %s (e.g. %s, %s): "
				"make their matches more specific",
				TIDAL_MAX_CAND, fmt_pfx(family, v[i].len, v[i].addr, b, sizeof(b)),
				apps[c[0].app].name, apps[c[1].app].name);
			free(v);
			free(entries);
			return -E2BIG;
		}
		if (family == AF_INET) {
			struct bpfc_dst4 *e = (struct bpfc_dst4 *)entries + nu;

			e->key.prefixlen = v[i].len;
			memcpy(e->key.addr, v[i].addr, 4);
			tc = &e->cand;
		} else {
			struct bpfc_dst6 *e = (struct bpfc_dst6 *)entries + nu;

			e->key.prefixlen = v[i].len;
			memcpy(e->key.addr, v[i].addr, 16);
			tc = &e->cand;
		}
		tc->n = (uint32_t)nc;
		for (size_t k = 0; k < nc; k++)
			tc->class_id[k] = (uint16_t)(c[k].app + 1);
		nu++;
	}
	free(v);
	if (family == AF_INET) {
		t->dst4 = entries;
		t->n_dst4 = nu;
	} else {
		t->dst6 = entries;
		t->n_dst6 = nu;
	}
	return 0;
}

static int build_src(const struct cfg_app *apps, size_t n, int family, const uint32_t *slot,
		     struct bpfc_tables *t)
{
	size_t nv, nu = 0, nbytes = addr_bytes(family);
	struct pfx_app *v;
	void *entries;
	int err;

	err = collect(apps, n, family, true, &v, &nv);
	if (err)
		return err;
	for (size_t i = 0; i < nv; i++)
		nu += i == 0 || pfx_key_cmp(&v[i], &v[i - 1]) != 0;
	if (nu > TIDAL_LPM_MAX) {
		log_err("bpf: %zu distinct IPv%d source prefixes, at most %d fit", nu,
			family == AF_INET ? 4 : 6, TIDAL_LPM_MAX);
		free(v);
		return -ENOSPC;
	}
	entries = calloc(nu ? nu : 1, family == AF_INET ? sizeof(struct bpfc_src4)
							: sizeof(struct bpfc_src6));
	if (!entries) {
		free(v);
		return -ENOMEM;
	}
	nu = 0;
	for (size_t i = 0; i < nv; i++) {
		struct tidal_srcset *set;
		struct pfx_app key;

		if (i > 0 && pfx_key_cmp(&v[i], &v[i - 1]) == 0)
			continue;
		if (family == AF_INET) {
			struct bpfc_src4 *e = (struct bpfc_src4 *)entries + nu;

			e->key.prefixlen = v[i].len;
			memcpy(e->key.addr, v[i].addr, 4);
			set = &e->set;
		} else {
			struct bpfc_src6 *e = (struct bpfc_src6 *)entries + nu;

			e->key.prefixlen = v[i].len;
			memcpy(e->key.addr, v[i].addr, 16);
			set = &e->set;
		}
		for (int l = v[i].len; l >= 0; l--) {
			long r;

			key.len = (uint8_t)l;
			memset(key.addr, 0, 16);
			mask_addr(key.addr, v[i].addr, (unsigned)l, nbytes);
			r = find_run(v, nv, &key);
			for (size_t k = r < 0 ? nv : (size_t)r;
			     k < nv && pfx_key_cmp(&key, &v[k]) == 0; k++) {
				uint32_t s = slot[v[k].app];

				set->bits[s / 64] |= 1ULL << (s % 64);
			}
		}
		nu++;
	}
	free(v);
	if (family == AF_INET) {
		t->src4 = entries;
		t->n_src4 = nu;
	} else {
		t->src6 = entries;
		t->n_src6 = nu;
	}
	return 0;
}

int bpfc_tables_build(const struct cfg_app *apps, size_t n, struct bpfc_tables **out)
{
	struct bpfc_tables *t;
	uint32_t *slot = NULL;
	uint32_t nslots = 0;
	int err = -ENOMEM;

	*out = NULL;
	if (n > TIDAL_CLASSES_MAX - 1) {
		log_err("bpf: %zu apps configured, at most %d can be classified", n,
			TIDAL_CLASSES_MAX - 1);
		return -ENOSPC;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n_classes = n + 1;
	t->classes = calloc(n + 1, sizeof(*t->classes));
	slot = calloc(n ? n : 1, sizeof(*slot));
	if (!t->classes || !slot)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct tidal_class *c = &t->classes[i + 1];
		const struct cfg_match *m = &apps[i].match;

		c->flags = TIDAL_CLASS_USED;
		if (m->n_dscp) {
			c->flags |= TIDAL_CLASS_HAS_DSCP;
			for (size_t j = 0; j < m->n_dscp; j++)
				c->dscp_mask |= 1ULL << (m->dscp[j] & 63);
		}
		if (m->n_src) {
			if (nslots == TIDAL_SRC_SLOTS) {
				log_err("bpf: app %s: at most %d apps may match on src prefixes",
					apps[i].name, TIDAL_SRC_SLOTS);
				err = -ENOSPC;
				goto fail;
			}
			c->flags |= TIDAL_CLASS_HAS_SRC;
			c->src_slot = (uint16_t)nslots;
			slot[i] = nslots++;
		}
	}
	if ((err = build_dst(apps, n, AF_INET, t)) || (err = build_dst(apps, n, AF_INET6, t)) ||
	    (err = build_src(apps, n, AF_INET, slot, t)) ||
	    (err = build_src(apps, n, AF_INET6, slot, t)))
		goto fail;
	free(slot);
	*out = t;
	return 0;
fail:
	free(slot);
	bpfc_tables_free(t);
	return err;
}

void bpfc_tables_free(struct bpfc_tables *t)
{
	if (!t)
		return;
	free(t->dst4);
	free(t->dst6);
	free(t->src4);
	free(t->src6);
	free(t->classes);
	free(t);
}

/* Length of the longest prefix in p[0..n) of this family containing addr, or -1. */
static int longest_cover(const struct cfg_prefix *p, size_t n, int family, const uint8_t *addr)
{
	int best = -1;

	for (size_t i = 0; i < n; i++)
		if (p[i].family == family && cfg_prefix_contains(&p[i], family, addr) &&
		    p[i].len > best)
			best = p[i].len;
	return best;
}

uint32_t bpfc_classify_ref(const struct cfg_app *apps, size_t n, int family,
			   const uint8_t *src, const uint8_t *dst, uint8_t dscp)
{
	uint32_t best = 0;
	struct cand bc = {0};

	for (size_t i = 0; i < n; i++) {
		const struct cfg_match *m = &apps[i].match;
		struct cand c = {.app = (uint32_t)i, .ncons = app_ncons(&apps[i])};
		int cover = 0;
		bool ok = true;

		if (m->n_dst) {
			cover = longest_cover(m->dst, m->n_dst, family, dst);
			ok = cover >= 0;
		}
		if (ok && m->n_src)
			ok = longest_cover(m->src, m->n_src, family, src) >= 0;
		if (ok && m->n_dscp) {
			ok = false;
			for (size_t j = 0; j < m->n_dscp; j++)
				ok = ok || m->dscp[j] == dscp;
		}
		if (!ok)
			continue;
		c.cover = (uint8_t)cover;
		if (!best || cand_cmp(&c, &bc) < 0) {
			bc = c;
			best = (uint32_t)i + 1;
		}
	}
	return best;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_cls: packet classification in tidal-dp.
 *
 * Data side (dp_classify_burst): parse Ethernet (up to two VLAN tags) and IPv4/IPv6, look the
 * destination up in the lcore's rte_lpm/rte_lpm6, then walk that prefix's candidate list
 * checking DSCP and source prefixes; the first match wins, no match is class 0.
 *
 * Control side (dp_clsb_*): build an immutable struct dp_cls_table from the installed
 * classes plus the LPM add/delete operations that bring every lcore's LPM from the last
 * build to this one. A candidate list holds, for one destination prefix, every class whose
 * destination list contains that prefix or a shorter one covering it (most specific
 * first, then by class id), followed by the classes without a destination list. So LPM's
 * longest match never hides a less specific class whose DSCP/source would have matched.
 *
 * Never allocates or locks on the data side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "dp_internal.h"

/* ---- data side ------------------------------------------------------------------------- */

static inline bool pfx_match(const struct cfg_prefix *p, int fam, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->family != fam)
		return false;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00 >> rest);
		if ((p->addr[full] ^ addr[full]) & mask)
			return false;
	}
	return true;
}

static inline uint32_t pick(const struct dp_cls_table *t, uint32_t off, uint32_t n, unsigned dscp,
                            int fam, const uint8_t *src)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct dp_cand *c = &t->cand[off + i];
		if (!((c->dscp_mask >> dscp) & 1))
			continue;
		if (c->n_src) {
			bool ok = false;
			for (uint16_t k = 0; k < c->n_src && !ok; k++)
				ok = pfx_match(&t->src[c->src_off + k], fam, src);
			if (!ok)
				continue;
		}
		return c->class_id;
	}
	return 0;
}

/* How many packets ahead the header of a packet is prefetched (net_pcap has copied it into
 * the mbuf, a NIC has written it by DMA and it is not in any cache yet). */
#define PREFETCH_AHEAD 4

unsigned dp_classify_burst(const struct dp_lcore *lc, struct rte_mbuf *const *pkts, uint16_t n,
                           uint32_t *cls, uint32_t *l3_len)
{
	const struct dp_cls_table *t = lc->table;
	uint32_t ip4[DP_MAX_BURST], hop4[DP_MAX_BURST];
	uint16_t at4[DP_MAX_BURST];
	const struct rte_ipv4_hdr *hdr4[DP_MAX_BURST];
	unsigned n4 = 0, non_ip = 0;

	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	/* parse every packet; IPv4 destinations are looked up together below */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m);
		uint32_t off = sizeof(struct rte_ether_hdr);
		uint16_t et;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		cls[i] = 0;
		l3_len[i] = 0;
		if (unlikely(len < off))
			goto not_ip;
		et = (uint16_t)((p[12] << 8) | p[13]);
		for (int tags = 0;
		     tags < 2 && (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ); tags++) {
			if (unlikely(len < off + 4))
				goto not_ip;
			et = (uint16_t)((p[off + 2] << 8) | p[off + 3]);
			off += 4;
		}
		if (likely(et == RTE_ETHER_TYPE_IPV4)) {
			const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + off);
			if (unlikely(len < off + sizeof(*ip) || (ip->version_ihl >> 4) != 4))
				goto not_ip;
			l3_len[i] = rte_pktmbuf_pkt_len(m) - off;
			hdr4[n4] = ip;
			ip4[n4] = rte_be_to_cpu_32(ip->dst_addr);
			at4[n4++] = i;
			continue;
		}
		if (et == RTE_ETHER_TYPE_IPV6) {
			const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(p + off);
			uint32_t nh;
			unsigned dscp;
			if (unlikely(len < off + sizeof(*ip) ||
			             (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6))
				goto not_ip;
			l3_len[i] = rte_pktmbuf_pkt_len(m) - off;
			dscp = (rte_be_to_cpu_32(ip->vtc_flow) >> 22) & 0x3f;
			if (rte_lpm6_lookup(lc->lpm6, ip->dst_addr, &nh) == 0 && nh < t->n_pfx)
				cls[i] = pick(t, t->pfx_off[nh], t->pfx_n[nh], dscp, AF_INET6,
				              ip->src_addr);
			else
				cls[i] = pick(t, t->nodst_off, t->nodst_n, dscp, AF_INET6,
				              ip->src_addr);
			continue;
		}
	not_ip:
		non_ip++;
	}
	if (n4 == 0)
		return non_ip;
	rte_lpm_lookup_bulk(lc->lpm4, ip4, hop4, n4);
	for (unsigned k = 0; k < n4; k++) {
		const struct rte_ipv4_hdr *ip = hdr4[k];
		unsigned dscp = ip->type_of_service >> 2;
		uint32_t nh = hop4[k] & 0x00FFFFFF, off, cnt;
		const struct dp_cand *c;
		if ((hop4[k] & RTE_LPM_LOOKUP_SUCCESS) && nh < t->n_pfx) {
			off = t->pfx_off[nh];
			cnt = t->pfx_n[nh];
		} else {
			off = t->nodst_off;
			cnt = t->nodst_n;
		}
		/* the usual case: the most specific class matches whatever the DSCP and source */
		c = &t->cand[off];
		if (likely(cnt && c->n_src == 0 && ((c->dscp_mask >> dscp) & 1)))
			cls[at4[k]] = c->class_id;
		else
			cls[at4[k]] =
			        pick(t, off, cnt, dscp, AF_INET, (const uint8_t *)&ip->src_addr);
	}
	return non_ip;
}

void dp_cls_table_free(struct dp_cls_table *t)
{
	if (!t)
		return;
	free(t->pfx_off);
	free(t->pfx_n);
	free(t->cand);
	free(t->src);
	free(t->act);
	free(t->active_ids);
	free(t);
}

/* ---- control side: a small open-addressing set of prefixes ---------------------------- */

struct pfx_entry {
	struct cfg_prefix p;
	uint32_t id;
	uint32_t *classes; /* class ids having p in their dst list, ascending */
	uint32_t n_classes, cap;
	bool used;
};

struct pfx_set {
	struct pfx_entry *e;
	uint32_t cap; /* power of two */
	uint32_t n;
};

static uint32_t pfx_hash(const struct cfg_prefix *p)
{
	uint32_t h = 2166136261u ^ p->family ^ ((uint32_t)p->len << 8);
	size_t alen = p->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < alen; i++)
		h = (h ^ p->addr[i]) * 16777619u;
	return h;
}

static bool pfx_eq(const struct cfg_prefix *a, const struct cfg_prefix *b)
{
	return a->family == b->family && a->len == b->len && memcmp(a->addr, b->addr, 16) == 0;
}

static int set_init(struct pfx_set *s, uint32_t n_hint)
{
	s->cap = 16;
	while (s->cap < n_hint * 2)
		s->cap *= 2;
	s->n = 0;
	s->e = calloc(s->cap, sizeof(*s->e));
	return s->e ? 0 : -ENOMEM;
}

static void set_free(struct pfx_set *s)
{
	if (!s->e)
		return;
	for (uint32_t i = 0; i < s->cap; i++)
		free(s->e[i].classes);
	free(s->e);
	s->e = NULL;
}

static struct pfx_entry *set_find(const struct pfx_set *s, const struct cfg_prefix *p)
{
	for (uint32_t i = pfx_hash(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->e[i].used)
			return NULL;
		if (pfx_eq(&s->e[i].p, p))
			return &s->e[i];
	}
}

/* Insert (the set was sized for every insert up front, so it never fills). */
static struct pfx_entry *set_add(struct pfx_set *s, const struct cfg_prefix *p)
{
	uint32_t i = pfx_hash(p) & (s->cap - 1);

	for (; s->e[i].used; i = (i + 1) & (s->cap - 1))
		if (pfx_eq(&s->e[i].p, p))
			return &s->e[i];
	s->e[i].used = true;
	s->e[i].p = *p;
	s->e[i].id = UINT32_MAX;
	s->n++;
	return &s->e[i];
}

static int entry_add_class(struct pfx_entry *e, uint32_t cls)
{
	if (e->n_classes && e->classes[e->n_classes - 1] == cls)
		return 0;
	if (e->n_classes == e->cap) {
		uint32_t ncap = e->cap ? e->cap * 2 : 4;
		uint32_t *nc = realloc(e->classes, ncap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		e->classes = nc;
		e->cap = ncap;
	}
	e->classes[e->n_classes++] = cls;
	return 0;
}

static void mask_prefix(const struct cfg_prefix *in, unsigned len, struct cfg_prefix *out)
{
	*out = *in;
	out->len = (uint8_t)len;
	for (unsigned bit = len; bit < 128; bit++)
		out->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
}

/* ---- control side: the builder ---------------------------------------------------------- */

struct dp_cls_builder {
	uint32_t max_classes, max4, max6;
	/* committed: prefixes installed in every lcore's LPM, with their ids */
	struct cfg_prefix *base;
	uint32_t *base_id;
	uint32_t n_base;
	/* pending build (between build and commit/abort) */
	struct cfg_prefix *next;
	uint32_t *next_id;
	uint32_t n_next;
	uint32_t *stamp; /* per class id, for de-duplicating candidates */
	uint32_t stamp_gen;
};

struct dp_cls_builder *dp_clsb_new(uint32_t max_classes, uint32_t max_pfx4, uint32_t max_pfx6)
{
	struct dp_cls_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->max_classes = max_classes;
	b->max4 = max_pfx4;
	b->max6 = max_pfx6;
	b->stamp = calloc(max_classes, sizeof(*b->stamp));
	if (!b->stamp) {
		free(b);
		return NULL;
	}
	return b;
}

void dp_clsb_free(struct dp_cls_builder *b)
{
	if (!b)
		return;
	free(b->base);
	free(b->base_id);
	free(b->next);
	free(b->next_id);
	free(b->stamp);
	free(b);
}

void dp_clsb_commit(struct dp_cls_builder *b)
{
	free(b->base);
	free(b->base_id);
	b->base = b->next;
	b->base_id = b->next_id;
	b->n_base = b->n_next;
	b->next = NULL;
	b->next_id = NULL;
	b->n_next = 0;
}

void dp_clsb_abort(struct dp_cls_builder *b)
{
	free(b->next);
	free(b->next_id);
	b->next = NULL;
	b->next_id = NULL;
	b->n_next = 0;
}

static int append_cand(struct dp_cls_table *t, uint32_t *n_cand, uint32_t cap,
                       const struct dp_class_rec *r, uint32_t *src_used)
{
	struct dp_cand *c;

	if (*n_cand >= cap)
		return -ENOSPC;
	c = &t->cand[(*n_cand)++];
	c->class_id = r->def.class_id;
	c->dscp_mask = r->def.dscp_mask;
	c->n_src = r->def.n_src;
	c->src_off = src_used[r->def.class_id];
	return 0;
}

int dp_clsb_build(struct dp_cls_builder *b, const struct dp_class_rec *recs,
                  struct dp_cls_table **table, struct dp_lpm_op **ops_out, uint32_t *n_ops,
                  const char **why)
{
	struct pfx_set set = {0};
	struct dp_cls_table *t = NULL;
	struct dp_lpm_op *ops = NULL;
	uint32_t *src_off = NULL, *nodst = NULL;
	bool lens[2][129] = {{0}};
	uint32_t n_dst_total = 0, n_src_total = 0, n_nodst = 0, n4 = 0, n6 = 0;
	uint32_t n_ids = b->max4 + b->max6, n_cand = 0, cand_cap, nops = 0;
	uint8_t *id_used = NULL;
	int rc = -ENOMEM;

	*table = NULL;
	*ops_out = NULL;
	*n_ops = 0;
	*why = "out of memory";
	dp_clsb_abort(b);

	/* class 0 is where a packet goes when no candidate matched: never a candidate */
	for (uint32_t id = 1; id < b->max_classes; id++) {
		if (!recs[id].active)
			continue;
		n_dst_total += recs[id].def.n_dst;
		n_src_total += recs[id].def.n_src;
		if (recs[id].def.n_dst == 0)
			n_nodst++;
	}
	if (set_init(&set, n_dst_total + 5) < 0)
		goto out;
	src_off = calloc(b->max_classes, sizeof(*src_off));
	nodst = calloc(n_nodst + 1, sizeof(*nodst));
	t = calloc(1, sizeof(*t));
	if (!src_off || !nodst || !t)
		goto out;
	t->n_pfx = n_ids;
	t->pfx_off = calloc(n_ids, sizeof(*t->pfx_off));
	t->pfx_n = calloc(n_ids, sizeof(*t->pfx_n));
	t->src = calloc(n_src_total + 1, sizeof(*t->src));
	t->act = calloc(b->max_classes, sizeof(*t->act));
	t->active_ids = calloc(b->max_classes, sizeof(*t->active_ids));
	if (!t->pfx_off || !t->pfx_n || !t->src || !t->act || !t->active_ids)
		goto out;

	/* distinct destination prefixes, each with the classes naming it */
	n_nodst = 0;
	n_src_total = 0;
	for (uint32_t id = 1; id < b->max_classes; id++) {
		const struct dp_class_rec *r = &recs[id];
		if (!r->active)
			continue;
		for (uint16_t k = 0; k < r->def.n_dst; k++) {
			struct pfx_entry *e = set_add(&set, &r->def.dst[k]);
			if (entry_add_class(e, id) < 0)
				goto out;
			lens[r->def.dst[k].family == AF_INET ? 0 : 1][r->def.dst[k].len] = true;
		}
		if (r->def.n_dst == 0)
			nodst[n_nodst++] = id;
		src_off[id] = n_src_total;
		memcpy(t->src + n_src_total, r->def.src, r->def.n_src * sizeof(*t->src));
		n_src_total += r->def.n_src;
	}
	/* LPM has no /0: a default route is installed as its two /1 halves, whose
	 * candidate lists then include the /0's classes like any shorter prefix's */
	for (unsigned fam = 0; fam < 2; fam++) {
		struct cfg_prefix half = {.family = fam ? AF_INET6 : AF_INET, .len = 1};
		if (!lens[fam][0])
			continue;
		set_add(&set, &half);
		half.addr[0] = 0x80;
		set_add(&set, &half);
		lens[fam][1] = true;
	}
	for (uint32_t i = 0; i < set.cap; i++) {
		if (!set.e[i].used)
			continue;
		if (set.e[i].p.family == AF_INET)
			n4++;
		else
			n6++;
	}
	if (n4 > b->max4 || n6 > b->max6) {
		*why = n4 > b->max4 ? "too many IPv4 prefixes (raise [dataplane] prefixes)"
		                    : "too many IPv6 prefixes (raise [dataplane] prefixes6)";
		rc = -ENOSPC;
		goto out;
	}

	/* ids: kept prefixes keep theirs, new ones take free ids of their family's range */
	id_used = calloc(n_ids, 1);
	b->next = calloc(set.n + 1, sizeof(*b->next));
	b->next_id = calloc(set.n + 1, sizeof(*b->next_id));
	ops = calloc(set.n + b->n_base + 1, sizeof(*ops));
	if (!id_used || !b->next || !b->next_id || !ops)
		goto out;
	for (uint32_t i = 0; i < b->n_base; i++) {
		struct pfx_entry *n = set_find(&set, &b->base[i]);
		if (n) {
			n->id = b->base_id[i];
			id_used[n->id] = 1;
		} else {
			ops[nops].add = false;
			ops[nops].pfx = b->base[i];
			ops[nops].id = b->base_id[i];
			nops++;
		}
	}
	{
		uint32_t next4 = 0, next6 = b->max4;
		for (uint32_t i = 0; i < set.cap; i++) {
			struct pfx_entry *e = &set.e[i];
			if (!e->used)
				continue;
			if (e->id == UINT32_MAX) {
				uint32_t *nx = e->p.family == AF_INET ? &next4 : &next6;
				while (id_used[*nx])
					(*nx)++;
				e->id = (*nx)++;
				id_used[e->id] = 1;
				if (e->p.len == 0)
					continue; /* carried by the /1 halves; never in an LPM */
				ops[nops].add = true;
				ops[nops].pfx = e->p;
				ops[nops].id = e->id;
				nops++;
			}
			b->next[b->n_next] = e->p;
			b->next_id[b->n_next] = e->id;
			b->n_next++;
		}
	}

	/* candidate lists */
	cand_cap = n_nodst;
	for (uint32_t i = 0; i < set.cap; i++) {
		if (!set.e[i].used)
			continue;
		unsigned fam = set.e[i].p.family == AF_INET ? 0 : 1;
		for (int l = set.e[i].p.len; l >= 0; l--) {
			struct cfg_prefix q;
			struct pfx_entry *a;
			if (!lens[fam][l])
				continue;
			mask_prefix(&set.e[i].p, (unsigned)l, &q);
			a = set_find(&set, &q);
			if (a)
				cand_cap += a->n_classes;
		}
		cand_cap += n_nodst;
	}
	t->cand = calloc(cand_cap + 1, sizeof(*t->cand));
	if (!t->cand)
		goto out;
	for (uint32_t i = 0; i < set.cap; i++) {
		struct pfx_entry *e = &set.e[i];
		unsigned fam;
		if (!e->used)
			continue;
		fam = e->p.family == AF_INET ? 0 : 1;
		if (++b->stamp_gen == 0) {
			memset(b->stamp, 0, b->max_classes * sizeof(*b->stamp));
			b->stamp_gen = 1;
		}
		t->pfx_off[e->id] = n_cand;
		for (int l = e->p.len; l >= 0; l--) {
			struct cfg_prefix q;
			struct pfx_entry *a;
			if (!lens[fam][l])
				continue;
			mask_prefix(&e->p, (unsigned)l, &q);
			a = set_find(&set, &q);
			for (uint32_t k = 0; a && k < a->n_classes; k++) {
				uint32_t cls = a->classes[k];
				if (b->stamp[cls] == b->stamp_gen)
					continue;
				b->stamp[cls] = b->stamp_gen;
				if (append_cand(t, &n_cand, cand_cap, &recs[cls], src_off) < 0)
					goto out;
			}
		}
		for (uint32_t k = 0; k < n_nodst; k++)
			if (append_cand(t, &n_cand, cand_cap, &recs[nodst[k]], src_off) < 0)
				goto out;
		t->pfx_n[e->id] = n_cand - t->pfx_off[e->id];
	}
	t->nodst_off = n_cand;
	for (uint32_t k = 0; k < n_nodst; k++)
		if (append_cand(t, &n_cand, cand_cap, &recs[nodst[k]], src_off) < 0)
			goto out;
	t->nodst_n = n_nodst;

	/* actions */
	for (uint32_t id = 0; id < b->max_classes; id++) {
		const struct dp_class_rec *r = &recs[id];
		struct dp_action *a = &t->act[id];
		if (!r->active && id != 0)
			continue;
		if (r->active) {
			a->qindex = dp_qindex(r->def.subport, r->def.pipe, r->def.tc, r->def.queue);
			a->tc = r->def.tc;
			a->meter = r->mprof ? &r->mprof->prof : NULL;
		} else {
			a->qindex = dp_qindex(0, 0, RTE_SCHED_TRAFFIC_CLASS_BE, 0);
			a->tc = RTE_SCHED_TRAFFIC_CLASS_BE;
		}
		a->active = 1;
		t->active_ids[t->n_active++] = id;
	}

	*table = t;
	*ops_out = ops;
	*n_ops = nops;
	*why = NULL;
	t = NULL;
	ops = NULL;
	rc = 0;
out:
	if (rc < 0)
		dp_clsb_abort(b);
	set_free(&set);
	free(src_off);
	free(nodst);
	free(id_used);
	free(ops);
	dp_cls_table_free(t);
	return rc;
}

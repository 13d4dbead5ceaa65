/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_state: raw counters -> monotone totals and rates (see coll_state.h).
 *
 * A read is sorted and merged with the sorted state in one pass, so a sample of tens of
 * thousands of keys costs O(n log n). Pure: no I/O, no clock; the caller passes the
 * interval it measured.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coll_state.h"

uint64_t coll_delta(uint64_t old, uint64_t new_, int *kind)
{
	*kind = 0;
	if (new_ >= old)
		return new_ - old;
	if (old > UINT64_MAX - COLL_WRAP_WINDOW && new_ < COLL_WRAP_WINDOW) {
		*kind = 1;
		return (UINT64_MAX - old) + new_ + 1;
	}
	*kind = 2;
	return new_;
}

static int key_cmp(const char *ifa, uint32_t ca, unsigned da, const char *ifb, uint32_t cb,
		   unsigned db)
{
	int c = strncmp(ifa, ifb, CFG_IFNAME_MAX);

	if (c)
		return c;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	return da < db ? -1 : da > db;
}

static int counter_cmp(const void *a, const void *b)
{
	const struct coll_counter *x = a, *y = b;

	return key_cmp(x->ifname, x->class_id, x->dir, y->ifname, y->class_id, y->dir);
}

static void adopt(struct coll_entry *e, const struct coll_counter *c)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->ifname, c->ifname, sizeof(e->ifname));
	e->ifname[CFG_IFNAME_MAX - 1] = '\0';
	e->class_id = c->class_id;
	e->dir = c->dir;
	e->raw[COLL_PKT] = e->total[COLL_PKT] = e->total_at_sample[COLL_PKT] = c->packets;
	e->raw[COLL_BYTES] = e->total[COLL_BYTES] = e->total_at_sample[COLL_BYTES] = c->bytes;
	e->raw[COLL_DROPS] = e->total[COLL_DROPS] = e->total_at_sample[COLL_DROPS] = c->drops;
}

static void advance(struct coll_state *s, struct coll_entry *e, const struct coll_counter *c)
{
	const uint64_t now[COLL_NF] = {c->packets, c->bytes, c->drops};
	bool restart = false, wrap = false;
	int kind;

	/* A restart of any field is a restart of the key: its fields count from zero
	 * together. */
	for (int f = 0; f < COLL_NF; f++) {
		coll_delta(e->raw[f], now[f], &kind);
		restart = restart || kind == 2;
		wrap = wrap || kind == 1;
	}
	for (int f = 0; f < COLL_NF; f++) {
		e->total[f] += restart ? now[f] : coll_delta(e->raw[f], now[f], &kind);
		e->raw[f] = now[f];
	}
	s->resets += restart;
	s->wraps += wrap && !restart;
}

int coll_state_update(struct coll_state *s, const struct coll_counter *c, size_t n)
{
	struct coll_counter *sorted = NULL;
	struct coll_entry *ne;
	size_t i = 0, j = 0, k = 0;

	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, c, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), counter_cmp);
	}
	ne = calloc(n ? n : 1, sizeof(*ne));
	if (!ne) {
		free(sorted);
		return -ENOMEM;
	}
	while (j < n) {
		int cmp = i < s->n ? key_cmp(s->e[i].ifname, s->e[i].class_id, s->e[i].dir,
					     sorted[j].ifname, sorted[j].class_id, sorted[j].dir)
				   : 1;

		if (cmp < 0) { /* gone from the backend */
			i++;
			continue;
		}
		if (k > 0 && key_cmp(ne[k - 1].ifname, ne[k - 1].class_id, ne[k - 1].dir,
				     sorted[j].ifname, sorted[j].class_id, sorted[j].dir) == 0) {
			j++; /* a duplicate key in one read: keep the first */
			continue;
		}
		if (cmp == 0) {
			ne[k] = s->e[i++];
			advance(s, &ne[k], &sorted[j]);
		} else {
			adopt(&ne[k], &sorted[j]);
		}
		k++;
		j++;
	}
	free(sorted);
	free(s->e);
	s->e = ne;
	s->n = k;
	return 0;
}

void coll_state_sample(struct coll_state *s, double interval_s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct coll_entry *e = &s->e[i];

		for (int f = 0; f < COLL_NF; f++) {
			if (interval_s > 0)
				e->rate[f] = (double)(e->total[f] - e->total_at_sample[f]) /
					     interval_s;
			e->total_at_sample[f] = e->total[f];
		}
		e->have_rate = interval_s > 0;
	}
}

void coll_state_forget_class(struct coll_state *s, uint32_t class_id)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].class_id != class_id)
			s->e[k++] = s->e[i];
	s->n = k;
}

void coll_state_free(struct coll_state *s)
{
	free(s->e);
	s->e = NULL;
	s->n = 0;
}

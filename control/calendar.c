/* SPDX-License-Identifier: Apache-2.0 */
/*
 * calendar: a resource's booked quantity as a step function over time (see calendar.h).
 *
 * Representation: a treap (binary search tree by time, heap by a random priority) of
 * breakpoints. A node holds the change of the level at its instant ("delta"); the level at
 * t is the sum of the deltas at instants <= t. Each node also keeps aggregates of its
 * subtree in key order: the sum of deltas, the maximum and minimum of the running sums
 * (prefix sums, relative to the level just before the subtree) and the smallest and largest
 * key. With those, a window maximum is a walk down two paths, and "the first instant after
 * lo where the level passes x" is one descent that skips whole subtrees whose prefix range
 * cannot cross x. Nodes live in one array addressed by 32-bit index (0 is the empty tree),
 * so a calendar is a couple of allocations and copies with memcpy.
 *
 * Owns its node array. Never does I/O and never logs: the ledger, the allocation
 * controller and tidal-sim call it in their inner loops.
 */
#include "calendar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct node {
	int64_t key;
	int64_t delta;
	int64_t sum;    /* of deltas in the subtree */
	int64_t maxpre; /* max over the subtree's non-empty key-order prefixes of their sum */
	int64_t minpre;
	int64_t kmin;
	int64_t kmax;
	uint32_t l, r;
	uint32_t prio;
};

struct ledger_cal {
	uint64_t capacity;
	struct node *n; /* n[0] is the empty tree and is never read for data */
	uint32_t alloc; /* slots in n */
	uint32_t used;  /* slots handed out at least once (n[0] included) */
	uint32_t free_head; /* released slots, chained through .l */
	uint32_t root;
	uint32_t count;
	uint32_t rng;
};

/* Aggregate of a key range (for window queries). */
struct agg {
	bool any;
	int64_t sum, maxpre, minpre;
};

#define N(c, i) ((c)->n[(i)])

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static uint32_t rng_next(struct ledger_cal *c)
{
	uint32_t x = c->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->rng = x;
	return x;
}

static void pull(struct ledger_cal *c, uint32_t t)
{
	struct node *x = &N(c, t);
	int64_t s = 0, mx = INT64_MIN, mn = INT64_MAX;
	x->kmin = x->key;
	x->kmax = x->key;
	if (x->l) {
		const struct node *l = &N(c, x->l);
		s = l->sum;
		mx = l->maxpre;
		mn = l->minpre;
		x->kmin = l->kmin;
	}
	s += x->delta;
	mx = max64(mx, s);
	mn = min64(mn, s);
	if (x->r) {
		const struct node *r = &N(c, x->r);
		mx = max64(mx, s + r->maxpre);
		mn = min64(mn, s + r->minpre);
		s += r->sum;
		x->kmax = r->kmax;
	}
	x->sum = s;
	x->maxpre = mx;
	x->minpre = mn;
}

/* Make room for k more nodes so that the recursive updates never reallocate. */
static int reserve(struct ledger_cal *c, uint32_t k)
{
	uint32_t avail = c->alloc - c->used, f = c->free_head;
	while (f && avail < k) {
		avail++;
		f = N(c, f).l;
	}
	if (avail >= k)
		return 0;
	if (c->alloc > UINT32_MAX / 2)
		return -ENOMEM;
	uint32_t na = c->alloc * 2;
	struct node *nn = realloc(c->n, (size_t)na * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	c->n = nn;
	c->alloc = na;
	return 0;
}

static uint32_t node_new(struct ledger_cal *c, int64_t key, int64_t delta)
{
	uint32_t t;
	if (c->free_head) {
		t = c->free_head;
		c->free_head = N(c, t).l;
	} else {
		t = c->used++;
	}
	struct node *x = &N(c, t);
	memset(x, 0, sizeof(*x));
	x->key = key;
	x->delta = delta;
	x->prio = rng_next(c);
	pull(c, t);
	c->count++;
	return t;
}

static void node_release(struct ledger_cal *c, uint32_t t)
{
	N(c, t).l = c->free_head;
	c->free_head = t;
	c->count--;
}

static uint32_t merge(struct ledger_cal *c, uint32_t a, uint32_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (N(c, a).prio > N(c, b).prio) {
		N(c, a).r = merge(c, N(c, a).r, b);
		pull(c, a);
		return a;
	}
	N(c, b).l = merge(c, a, N(c, b).l);
	pull(c, b);
	return b;
}

static uint32_t rot_right(struct ledger_cal *c, uint32_t t)
{
	uint32_t x = N(c, t).l;
	N(c, t).l = N(c, x).r;
	N(c, x).r = t;
	pull(c, t);
	pull(c, x);
	return x;
}

static uint32_t rot_left(struct ledger_cal *c, uint32_t t)
{
	uint32_t x = N(c, t).r;
	N(c, t).r = N(c, x).l;
	N(c, x).l = t;
	pull(c, t);
	pull(c, x);
	return x;
}

/* Add delta at key; a breakpoint whose delta reaches 0 is removed. Needs one free slot. */
static uint32_t insert(struct ledger_cal *c, uint32_t t, int64_t key, int64_t delta)
{
	if (!t)
		return node_new(c, key, delta);
	if (key == N(c, t).key) {
		N(c, t).delta += delta;
		if (N(c, t).delta == 0) {
			uint32_t u = merge(c, N(c, t).l, N(c, t).r);
			node_release(c, t);
			return u;
		}
		pull(c, t);
		return t;
	}
	if (key < N(c, t).key) {
		uint32_t l = insert(c, N(c, t).l, key, delta);
		N(c, t).l = l;
		if (l && N(c, l).prio > N(c, t).prio)
			return rot_right(c, t);
	} else {
		uint32_t r = insert(c, N(c, t).r, key, delta);
		N(c, t).r = r;
		if (r && N(c, r).prio > N(c, t).prio)
			return rot_left(c, t);
	}
	pull(c, t);
	return t;
}

/* Sum of the deltas at instants <= t: the level at t. */
static int64_t prefix(const struct ledger_cal *c, int64_t t)
{
	int64_t s = 0;
	uint32_t x = c->root;
	while (x) {
		const struct node *p = &N(c, x);
		if (p->key <= t) {
			if (p->l)
				s += N(c, p->l).sum;
			s += p->delta;
			x = p->r;
		} else {
			x = p->l;
		}
	}
	return s;
}

static struct agg agg_cat(struct agg a, struct agg b)
{
	if (!a.any)
		return b;
	if (!b.any)
		return a;
	struct agg r = {
		.any = true,
		.sum = a.sum + b.sum,
		.maxpre = max64(a.maxpre, a.sum + b.maxpre),
		.minpre = min64(a.minpre, a.sum + b.minpre),
	};
	return r;
}

/* Aggregate of the breakpoints with lo <= key <= hi. */
static struct agg agg_range(const struct ledger_cal *c, uint32_t t, int64_t lo, int64_t hi)
{
	struct agg none = {0};
	if (!t)
		return none;
	const struct node *p = &N(c, t);
	if (p->kmax < lo || p->kmin > hi)
		return none;
	if (lo <= p->kmin && p->kmax <= hi) {
		struct agg all = {true, p->sum, p->maxpre, p->minpre};
		return all;
	}
	if (p->key < lo)
		return agg_range(c, p->r, lo, hi);
	if (p->key > hi)
		return agg_range(c, p->l, lo, hi);
	struct agg self = {true, p->delta, p->delta, p->delta};
	return agg_cat(agg_cat(agg_range(c, p->l, lo, hi), self), agg_range(c, p->r, lo, hi));
}

enum pred { PRED_ABOVE, PRED_AT_MOST };

static bool pred_holds(enum pred pr, int64_t level, int64_t lim)
{
	return pr == PRED_ABOVE ? level > lim : level <= lim;
}

/* Could some prefix of subtree t, starting from level acc, satisfy the predicate? */
static bool pred_possible(const struct ledger_cal *c, uint32_t t, enum pred pr, int64_t acc,
			  int64_t lim)
{
	const struct node *p = &N(c, t);
	return pr == PRED_ABOVE ? acc + p->maxpre > lim : acc + p->minpre <= lim;
}

/* First breakpoint with key >= lo whose level satisfies the predicate. *acc enters as the
 * level before the subtree's part of the window and leaves updated when nothing matched. */
static bool find_first(const struct ledger_cal *c, uint32_t t, int64_t lo, enum pred pr,
		       int64_t lim, int64_t *acc, int64_t *key)
{
	if (!t)
		return false;
	const struct node *p = &N(c, t);
	if (p->kmax < lo)
		return false;
	if (p->kmin >= lo) {
		if (!pred_possible(c, t, pr, *acc, lim)) {
			*acc += p->sum;
			return false;
		}
	} else if (p->key < lo) {
		return find_first(c, p->r, lo, pr, lim, acc, key);
	}
	if (find_first(c, p->l, lo, pr, lim, acc, key))
		return true;
	*acc += p->delta;
	if (pred_holds(pr, *acc, lim)) {
		*key = p->key;
		return true;
	}
	return find_first(c, p->r, lo, pr, lim, acc, key);
}

static bool first_key(const struct ledger_cal *c, int64_t lo, enum pred pr, int64_t lim,
		      int64_t *key)
{
	int64_t acc = lo == INT64_MIN ? 0 : prefix(c, lo - 1);
	return find_first(c, c->root, lo, pr, lim, &acc, key);
}

struct ledger_cal *ledger_cal_new(uint64_t capacity)
{
	struct ledger_cal *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->alloc = 64;
	c->n = calloc(c->alloc, sizeof(*c->n));
	if (!c->n) {
		free(c);
		return NULL;
	}
	c->capacity = capacity;
	c->used = 1;
	c->rng = 0x9e3779b9u;
	return c;
}

void ledger_cal_free(struct ledger_cal *c)
{
	if (!c)
		return;
	free(c->n);
	free(c);
}

void ledger_cal_clear(struct ledger_cal *c)
{
	c->root = 0;
	c->used = 1;
	c->free_head = 0;
	c->count = 0;
}

struct ledger_cal *ledger_cal_dup(const struct ledger_cal *c)
{
	struct ledger_cal *d = malloc(sizeof(*d));
	if (!d)
		return NULL;
	*d = *c;
	d->n = malloc((size_t)c->alloc * sizeof(*d->n));
	if (!d->n) {
		free(d);
		return NULL;
	}
	memcpy(d->n, c->n, (size_t)c->used * sizeof(*d->n));
	return d;
}

uint64_t ledger_cal_capacity(const struct ledger_cal *c)
{
	return c->capacity;
}

void ledger_cal_set_capacity(struct ledger_cal *c, uint64_t capacity)
{
	c->capacity = capacity;
}

static int apply(struct ledger_cal *c, int64_t start, int64_t end, int64_t q)
{
	int rc = reserve(c, 2);
	if (rc < 0)
		return rc;
	/* The negative change goes in first, so that the transient level stays within
	 * [-QMAX, QMAX] and every partial sum within int64. */
	if (q > 0) {
		c->root = insert(c, c->root, end, -q);
		c->root = insert(c, c->root, start, q);
	} else {
		c->root = insert(c, c->root, start, q);
		c->root = insert(c, c->root, end, -q);
	}
	return 0;
}

int ledger_cal_add(struct ledger_cal *c, int64_t start, int64_t end, uint64_t q)
{
	if (start >= end || q == 0)
		return -EINVAL;
	if (q > LEDGER_CAL_QMAX || ledger_cal_peak(c, start, end) > LEDGER_CAL_QMAX - q)
		return -EOVERFLOW;
	return apply(c, start, end, (int64_t)q);
}

int ledger_cal_book(struct ledger_cal *c, int64_t start, int64_t end, uint64_t q)
{
	if (start >= end || q == 0)
		return -EINVAL;
	if (!ledger_cal_fits(c, start, end, q))
		return -ENOSPC;
	return ledger_cal_add(c, start, end, q);
}

int ledger_cal_unbook(struct ledger_cal *c, int64_t start, int64_t end, uint64_t q)
{
	if (start >= end || q == 0)
		return -EINVAL;
	if (q > LEDGER_CAL_QMAX || ledger_cal_trough(c, start, end) < q)
		return -ENOENT;
	return apply(c, start, end, -(int64_t)q);
}

uint64_t ledger_cal_booked_at(const struct ledger_cal *c, int64_t t)
{
	return (uint64_t)prefix(c, t);
}

/* Level at a and aggregate of the breakpoints strictly inside (a, b). */
static void window(const struct ledger_cal *c, int64_t a, int64_t b, int64_t *base,
		   struct agg *in)
{
	*base = prefix(c, a);
	in->any = false;
	if (a < INT64_MAX && a + 1 <= b - 1)
		*in = agg_range(c, c->root, a + 1, b - 1);
}

uint64_t ledger_cal_peak(const struct ledger_cal *c, int64_t a, int64_t b)
{
	if (a >= b)
		return 0;
	int64_t base;
	struct agg in;
	window(c, a, b, &base, &in);
	return (uint64_t)(in.any ? max64(base, base + in.maxpre) : base);
}

uint64_t ledger_cal_trough(const struct ledger_cal *c, int64_t a, int64_t b)
{
	if (a >= b)
		return 0;
	int64_t base;
	struct agg in;
	window(c, a, b, &base, &in);
	return (uint64_t)(in.any ? min64(base, base + in.minpre) : base);
}

uint64_t ledger_cal_avail(const struct ledger_cal *c, int64_t a, int64_t b)
{
	uint64_t peak = ledger_cal_peak(c, a, b);
	return peak >= c->capacity ? 0 : c->capacity - peak;
}

bool ledger_cal_fits(const struct ledger_cal *c, int64_t start, int64_t end, uint64_t q)
{
	if (q > c->capacity)
		return false;
	return ledger_cal_peak(c, start, end) <= c->capacity - q;
}

int ledger_cal_earliest(const struct ledger_cal *c, int64_t t, int64_t d, uint64_t q,
			int64_t latest, int64_t *start_out)
{
	if (d <= 0 || q == 0 || latest < t)
		return -EINVAL;
	if (q > c->capacity)
		return -ENOSPC;
	uint64_t room = c->capacity - q;
	int64_t lim = room > LEDGER_CAL_QMAX ? (int64_t)LEDGER_CAL_QMAX : (int64_t)room;
	int64_t s = t, k;
	for (;;) {
		if (s > latest || s > INT64_MAX - d)
			return -ENOSPC;
		if (prefix(c, s) > lim) {
			/* Blocked at s: the next candidate is where the level drops to lim. */
			if (!first_key(c, s + 1, PRED_AT_MOST, lim, &k))
				return -ENOSPC;
			s = k;
			continue;
		}
		if (!first_key(c, s + 1, PRED_ABOVE, lim, &k) || k >= s + d) {
			*start_out = s;
			return 0;
		}
		if (k == INT64_MAX || !first_key(c, k + 1, PRED_AT_MOST, lim, &s))
			return -ENOSPC;
	}
}

void ledger_cal_step_at(const struct ledger_cal *c, int64_t t, struct ledger_cal_step *s)
{
	int64_t lo = LEDGER_CAL_T_MIN, hi = LEDGER_CAL_T_MAX, sum = 0;
	uint32_t x = c->root;
	while (x) {
		const struct node *p = &N(c, x);
		if (p->key <= t) {
			lo = p->key;
			if (p->l)
				sum += N(c, p->l).sum;
			sum += p->delta;
			x = p->r;
		} else {
			hi = p->key;
			x = p->l;
		}
	}
	s->start = lo;
	s->end = hi;
	s->booked = (uint64_t)sum;
}

size_t ledger_cal_steps(const struct ledger_cal *c, int64_t a, int64_t b,
			struct ledger_cal_step *out, size_t max)
{
	size_t n = 0;
	struct ledger_cal_step s;
	for (int64_t t = a; t < b; t = s.end) {
		ledger_cal_step_at(c, t, &s);
		if (n < max) {
			out[n].start = t;
			out[n].end = s.end < b ? s.end : b;
			out[n].booked = s.booked;
		}
		n++;
	}
	return n;
}

size_t ledger_cal_nbreaks(const struct ledger_cal *c)
{
	return c->count;
}

bool ledger_cal_equal(const struct ledger_cal *a, const struct ledger_cal *b)
{
	if (a->count != b->count)
		return false;
	struct ledger_cal_step sa, sb;
	int64_t t = LEDGER_CAL_T_MIN;
	for (;;) {
		ledger_cal_step_at(a, t, &sa);
		ledger_cal_step_at(b, t, &sb);
		if (sa.end != sb.end || sa.booked != sb.booked)
			return false;
		if (sa.end == LEDGER_CAL_T_MAX)
			return true;
		t = sa.end;
	}
}

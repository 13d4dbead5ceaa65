/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger_ops: what changes leases: requests with admission and preemption, commits,
 * releases, revocations and peer-driven events (docs/ledger.md).
 *
 * Every public call here validates first (nothing changes on a refusal, except that a
 * request refused for capacity is recorded as a failed lease so that its id answers the
 * same way when repeated), then opens the transaction, changes memory through ledger_apply,
 * and finishes the transaction, which makes the change durable and reports it.
 *
 * Owns nothing; state lives in struct ledger (ledger_int.h). Never does I/O itself.
 */
#include "ledger_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int refuse(enum ledger_err e, enum ledger_err *why)
{
	if (why)
		*why = e;
	return ledger_err_errno(e);
}

static bool str_ok(const char *s, size_t size, bool may_be_empty)
{
	const char *end = memchr(s, '\0', size);
	return end && (may_be_empty || end != s);
}

static bool region_name_ok(const char *s)
{
	if (!str_ok(s, LEDGER_NAME_MAX, false))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* "lon" or "lon,par": region names separated by commas, or empty. */
static bool path_ok(const char *s)
{
	if (!str_ok(s, LEDGER_PATH_MAX, true))
		return false;
	bool need_name = *s != '\0';
	for (; *s; s++) {
		if (*s == ',') {
			if (need_name)
				return false;
			need_name = true;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || *s == '-') {
			need_name = false;
		} else {
			return false;
		}
	}
	return !need_name;
}

/* Check a request; *res is its local resource or NULL for a lease booked elsewhere. */
static enum ledger_err validate(struct ledger *l, const struct ledger_req *q, int64_t now,
				struct ledger_res **res)
{
	static const uint8_t zero[LEDGER_ID_LEN];
	const char *what = NULL;
	*res = NULL;
	if (memcmp(q->id, zero, LEDGER_ID_LEN) == 0)
		what = "the lease id is all zero";
	else if (!region_name_ok(q->requester) || !region_name_ok(q->provider))
		what = "requester and provider must be region names (letters, digits, '-')";
	else if (strcmp(q->requester, l->region) != 0 && strcmp(q->provider, l->region) != 0)
		what = "neither the requester nor the provider is this region";
	else if ((unsigned)q->kind >= LEDGER_N_KINDS)
		what = "unknown resource kind";
	else if (q->quantity == 0 || q->quantity > LEDGER_CAL_QMAX)
		what = "quantity must be between 1 and 2^61";
	else if (q->start >= q->end)
		what = "start must be before end";
	else if (q->end <= now)
		what = "the lease ends in the past";
	else if (q->setup_prio > LEDGER_PRIO_LOWEST || q->hold_prio > q->setup_prio)
		what = "priorities must be 0..7 with hold priority <= setup priority";
	else if (!str_ok(q->resource, LEDGER_RES_MAX, false))
		what = "the resource name is empty or too long";
	else if (!str_ok(q->match, LEDGER_MATCH_MAX, true) || !str_ok(q->app, LEDGER_NAME_MAX, true))
		what = "match or app is too long";
	else if (!path_ok(q->path))
		what = "the path must be region names separated by commas";
	if (what) {
		log_info("ledger: request refused: %s", what);
		return LEDGER_E_INVALID;
	}
	struct ledger_res *r = ledger_res_get(l, q->resource);
	if (r && r->kind != q->kind) {
		log_info("ledger: request refused: %s is %s, not %s", r->name,
			 ledger_kind_name(r->kind), ledger_kind_name(q->kind));
		return LEDGER_E_INVALID;
	}
	if ((r && !r->configured) || (!r && strcmp(q->provider, l->region) == 0)) {
		log_info("ledger: request refused: no resource %s in this region", q->resource);
		return LEDGER_E_UNKNOWN_RESOURCE;
	}
	*res = r;
	return LEDGER_OK;
}

static bool same_fields(const struct ledger_lease *x, const struct ledger_req *q,
			const struct ledger_res *r)
{
	const char *res = r ? r->name : q->resource;
	return strcmp(x->requester, q->requester) == 0 && strcmp(x->provider, q->provider) == 0 &&
	       strcmp(x->resource, res) == 0 && x->kind == q->kind &&
	       x->quantity == q->quantity && x->start == q->start && x->end == q->end &&
	       x->setup_prio == q->setup_prio && x->hold_prio == q->hold_prio &&
	       strcmp(x->match, q->match) == 0 && strcmp(x->app, q->app) == 0 &&
	       strcmp(x->path, q->path) == 0;
}

/* ---- transitions ------------------------------------------------------------------------ */

enum ledger_err ledger_apply(struct ledger *l, long i, enum ledger_event ev, int64_t now,
			     enum ledger_err reason)
{
	struct ledger_lease *x = &l->v[i];
	enum ledger_state from = x->state, to;
	enum ledger_err e = ledger_transition(from, ev, &to);
	if (e != LEDGER_OK)
		return e;
	x->state = to;
	x->updated = now;
	if (!ledger_state_live(to)) {
		if (x->booked) {
			struct ledger_res *r = ledger_res_get(l, x->resource);
			if (!r || ledger_cal_unbook(r->cal, x->start, x->end, x->quantity) < 0) {
				l->op_failed = true; /* memory is inconsistent: reload */
				return LEDGER_E_STORAGE;
			}
			x->booked = false;
		}
		x->reason = reason;
		x->hold_until = 0;
	} else if (to == LEDGER_HELD) {
		x->hold_until = now + l->hold_s;
	} else if (to != LEDGER_CHECKING) {
		x->hold_until = 0;
	}
	ledger_persist(l, i, false);
	ledger_note(l, i, from, false);
	return LEDGER_OK;
}

/* ---- preemption ------------------------------------------------------------------------- */

struct cand {
	long i;
	uint8_t hold_prio;
	uint64_t seq;
	bool spared;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->hold_prio != y->hold_prio)
		return x->hold_prio > y->hold_prio ? -1 : 1; /* lowest priority first */
	return x->seq > y->seq ? -1 : x->seq < y->seq; /* then newest first */
}

/* Find leases to preempt so that n fits on r. Returns how many (in *out, malloc'd, the
 * first ones the victims), 0 when preemption cannot make room, or -ENOMEM.
 *
 * Candidates are live leases on r overlapping [start, end) with hold_prio > setup_prio,
 * taken lowest priority and newest first, skipping any that does not cover an instant where
 * the request is still blocked. Once the request fits, taken leases that fit again beside
 * it (highest priority first) are spared. Works on a copy of the calendar. */
static int preempt_plan(struct ledger *l, struct ledger_res *r, const struct ledger_lease *n,
			struct cand **out)
{
	size_t nc = 0;
	struct cand *c = NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_lease *x = &l->v[i];
		if (!x->booked || x->hold_prio <= n->setup_prio || x->end <= n->start ||
		    x->start >= n->end || strcmp(x->resource, r->name) != 0)
			continue;
		struct cand *nv = realloc(c, (nc + 1) * sizeof(*c));
		if (!nv) {
			free(c);
			return -ENOMEM;
		}
		c = nv;
		c[nc++] = (struct cand){(long)i, x->hold_prio, x->seq, false};
	}
	if (!nc)
		return 0;
	qsort(c, nc, sizeof(*c), cand_cmp);
	struct ledger_cal *cal = ledger_cal_dup(r->cal);
	if (!cal) {
		free(c);
		return -ENOMEM;
	}
	uint64_t cap = ledger_cal_capacity(cal);
	size_t taken = 0;
	for (size_t k = 0; k < nc && !ledger_cal_fits(cal, n->start, n->end, n->quantity); k++) {
		const struct ledger_lease *x = &l->v[c[k].i];
		int64_t a = x->start > n->start ? x->start : n->start;
		int64_t b = x->end < n->end ? x->end : n->end;
		if (n->quantity <= cap && ledger_cal_peak(cal, a, b) <= cap - n->quantity)
			continue; /* removing it frees nothing the request still needs */
		ledger_cal_unbook(cal, x->start, x->end, x->quantity);
		struct cand t = c[k];
		memmove(&c[taken + 1], &c[taken], (k - taken) * sizeof(*c));
		c[taken++] = t;
	}
	int ret = 0;
	if (ledger_cal_book(cal, n->start, n->end, n->quantity) == 0) {
		for (size_t k = taken; k-- > 0;) {
			const struct ledger_lease *x = &l->v[c[k].i];
			c[k].spared = ledger_cal_book(cal, x->start, x->end, x->quantity) == 0;
		}
		size_t w = 0;
		for (size_t k = 0; k < taken; k++)
			if (!c[k].spared)
				c[w++] = c[k];
		ret = (int)w;
	}
	ledger_cal_free(cal);
	if (ret > 0)
		*out = c;
	else
		free(c);
	return ret;
}

/* ---- requests ------------------------------------------------------------------------- */

static int do_request(struct ledger *l, const struct ledger_req *q, int64_t now, long *idx,
		      enum ledger_err *why)
{
	struct ledger_res *r;
	enum ledger_err e;
	long i = ledger_find(l, q->id);
	if (i >= 0) {
		r = ledger_res_get(l, q->resource);
		if (!same_fields(&l->v[i], q, r)) {
			char idb[LEDGER_ID_STR];
			log_info("ledger: request %s refused: the id is taken by a lease with other "
				 "fields", ledger_id_fmt(q->id, idb));
			return refuse(LEDGER_E_CONFLICT, why);
		}
		*idx = i;
		/* A request refused for capacity is refused again, the same way. */
		if (l->v[i].state == LEDGER_FAILED && l->v[i].reason == LEDGER_E_NO_CAPACITY)
			return refuse(LEDGER_E_NO_CAPACITY, why);
		return 0;
	}
	if ((e = validate(l, q, now, &r)) != LEDGER_OK)
		return refuse(e, why);
	int rc = ledger_txn_begin(l);
	if (rc < 0)
		return refuse(LEDGER_E_STORAGE, why);

	struct ledger_lease x;
	memset(&x, 0, sizeof(x));
	memcpy(x.id, q->id, LEDGER_ID_LEN);
	memcpy(x.requester, q->requester, sizeof(x.requester));
	memcpy(x.provider, q->provider, sizeof(x.provider));
	snprintf(x.resource, sizeof(x.resource), "%s", r ? r->name : q->resource);
	x.kind = q->kind;
	x.quantity = q->quantity;
	x.start = q->start;
	x.end = q->end;
	x.setup_prio = q->setup_prio;
	x.hold_prio = q->hold_prio;
	memcpy(x.match, q->match, sizeof(x.match));
	memcpy(x.app, q->app, sizeof(x.app));
	memcpy(x.path, q->path, sizeof(x.path));
	memcpy(x.parent, q->parent, sizeof(x.parent));
	x.state = q->checking ? LEDGER_CHECKING : LEDGER_HELD;
	x.hold_until = now + (q->hold_s ? q->hold_s : l->hold_s);
	x.created = x.updated = now;
	x.seq = l->next_seq++;

	struct cand *victims = NULL;
	int nv = 0;
	e = LEDGER_OK;
	if (r && !ledger_cal_fits(r->cal, x.start, x.end, x.quantity)) {
		nv = preempt_plan(l, r, &x, &victims);
		if (nv < 0) {
			l->op_failed = true;
		} else if (nv == 0) {
			e = LEDGER_E_NO_CAPACITY;
			x.state = LEDGER_FAILED;
			x.reason = LEDGER_E_NO_CAPACITY;
			x.hold_until = 0;
		}
	}
	/* Victims go first, so that the new booking finds its room. */
	for (int k = 0; k < nv && !l->op_failed; k++) {
		memcpy(l->v[victims[k].i].preempted_by, x.id, LEDGER_ID_LEN);
		ledger_apply(l, victims[k].i, LEDGER_EV_REVOKE, now, LEDGER_E_PREEMPTED);
	}
	free(victims);
	if (r && e == LEDGER_OK && !l->op_failed) {
		if (ledger_cal_book(r->cal, x.start, x.end, x.quantity) == 0)
			x.booked = true;
		else
			l->op_failed = true;
	}
	if (!l->op_failed) {
		i = ledger_append(l, &x);
		if (i < 0) {
			l->op_failed = true;
		} else {
			ledger_persist(l, i, true);
			ledger_note(l, i, x.state, true);
			*idx = i;
		}
	}
	if (nv > 0 && !l->op_failed) {
		char a[LEDGER_ID_STR];
		log_info("ledger: lease %s (setup priority %u) preempted %d lease(s) on %s",
			 ledger_id_fmt(x.id, a), x.setup_prio, nv, x.resource);
	}
	if (l->op_failed)
		return refuse(LEDGER_E_STORAGE, why);
	return e == LEDGER_OK ? 0 : refuse(e, why);
}

/* End the operation: commit (or, after a failure, roll back and reload) and copy out. */
static int finish(struct ledger *l, int rc, long i, struct ledger_lease *out, enum ledger_err *why)
{
	if (ledger_txn_finish(l) < 0)
		return refuse(LEDGER_E_STORAGE, why);
	if (i >= 0 && out)
		*out = l->v[i];
	if (rc == 0 && why)
		*why = LEDGER_OK;
	return rc;
}

int ledger_request(struct ledger *l, const struct ledger_req *req, int64_t now,
		   struct ledger_lease *out, enum ledger_err *why)
{
	if (l->broken)
		return refuse(LEDGER_E_STORAGE, why);
	now = ledger_eff_now(l, now);
	long i = -1;
	int rc = do_request(l, req, now, &i, why);
	return finish(l, rc, i, out, why);
}

static int do_commit(struct ledger *l, long i, int64_t now, enum ledger_err *why)
{
	struct ledger_lease *x = &l->v[i];
	switch (x->state) {
	case LEDGER_RESERVED:
	case LEDGER_ACTIVE:
		return 0;
	case LEDGER_HELD:
		break;
	default:
		return refuse(ledger_state_live(x->state) ? LEDGER_E_ILLEGAL : LEDGER_E_TERMINAL,
			      why);
	}
	if (ledger_txn_begin(l) < 0)
		return refuse(LEDGER_E_STORAGE, why);
	if (x->end <= now) {
		ledger_apply(l, i, LEDGER_EV_END, now, LEDGER_E_ENDED);
		return refuse(LEDGER_E_ENDED, why);
	}
	if (x->hold_until <= now) {
		ledger_apply(l, i, LEDGER_EV_HOLD_TIMEOUT, now, LEDGER_E_HOLD_TIMEOUT);
		return refuse(LEDGER_E_HOLD_TIMEOUT, why);
	}
	ledger_apply(l, i, LEDGER_EV_COMMIT, now, LEDGER_OK);
	ledger_apply(l, i, LEDGER_EV_CONFIRM, now, LEDGER_OK);
	if (l->v[i].start <= now)
		ledger_apply(l, i, LEDGER_EV_START, now, LEDGER_OK);
	return l->op_failed ? refuse(LEDGER_E_STORAGE, why) : 0;
}

int ledger_book(struct ledger *l, const struct ledger_req *req, int64_t now,
		struct ledger_lease *out, enum ledger_err *why)
{
	if (l->broken)
		return refuse(LEDGER_E_STORAGE, why);
	now = ledger_eff_now(l, now);
	long i = -1;
	int rc = do_request(l, req, now, &i, why);
	if (rc == 0)
		rc = do_commit(l, i, now, why);
	return finish(l, rc, i, out, why);
}

int ledger_commit(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], int64_t now,
		  struct ledger_lease *out, enum ledger_err *why)
{
	if (l->broken)
		return refuse(LEDGER_E_STORAGE, why);
	now = ledger_eff_now(l, now);
	long i = ledger_find(l, id);
	if (i < 0)
		return refuse(LEDGER_E_NOT_FOUND, why);
	int rc = do_commit(l, i, now, why);
	return finish(l, rc, i, out, why);
}

/* Release and revoke: lenient on terminal leases (the other side may repeat itself). */
static int end_lease(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], enum ledger_event ev,
		     int64_t now, enum ledger_err reason, struct ledger_lease *out,
		     enum ledger_err *why)
{
	if (l->broken)
		return refuse(LEDGER_E_STORAGE, why);
	now = ledger_eff_now(l, now);
	long i = ledger_find(l, id);
	if (i < 0)
		return refuse(LEDGER_E_NOT_FOUND, why);
	if (ledger_state_live(l->v[i].state)) {
		if (ledger_txn_begin(l) < 0)
			return refuse(LEDGER_E_STORAGE, why);
		ledger_apply(l, i, ev, now, reason);
	}
	return finish(l, 0, i, out, why);
}

int ledger_release(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], int64_t now,
		   struct ledger_lease *out, enum ledger_err *why)
{
	return end_lease(l, id, LEDGER_EV_RELEASE, now, LEDGER_OK, out, why);
}

int ledger_revoke(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], int64_t now,
		  enum ledger_err reason, struct ledger_lease *out, enum ledger_err *why)
{
	return end_lease(l, id, LEDGER_EV_REVOKE, now, reason, out, why);
}

int ledger_event(struct ledger *l, const uint8_t id[LEDGER_ID_LEN], enum ledger_event ev,
		 int64_t now, enum ledger_err reason, struct ledger_lease *out,
		 enum ledger_err *why)
{
	if (l->broken)
		return refuse(LEDGER_E_STORAGE, why);
	now = ledger_eff_now(l, now);
	long i = ledger_find(l, id);
	if (i < 0)
		return refuse(LEDGER_E_NOT_FOUND, why);
	struct ledger_lease *x = &l->v[i];
	enum ledger_state to;
	enum ledger_err e = ledger_transition(x->state, ev, &to);
	if (e != LEDGER_OK)
		return refuse(e, why);
	/* Events tied to the clock only when their time has come. */
	if ((ev == LEDGER_EV_START && x->start > now) || (ev == LEDGER_EV_END && x->end > now) ||
	    (ev == LEDGER_EV_HOLD_TIMEOUT && x->hold_until > now))
		return refuse(LEDGER_E_ILLEGAL, why);
	if (ledger_txn_begin(l) < 0)
		return refuse(LEDGER_E_STORAGE, why);
	if (ev == LEDGER_EV_START || ev == LEDGER_EV_END)
		reason = ev == LEDGER_EV_END ? LEDGER_E_ENDED : LEDGER_OK;
	ledger_apply(l, i, ev, now, ledger_state_live(to) ? LEDGER_OK : reason);
	if (to == LEDGER_RESERVED && l->v[i].start <= now && l->v[i].end > now)
		ledger_apply(l, i, LEDGER_EV_START, now, LEDGER_OK);
	return finish(l, 0, i, out, why);
}

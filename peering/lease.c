/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lease: names, ids and the pure rules of the lease protocol (docs/protocol.md §7, §8).
 *
 * Owns nothing. The ledger stores leases and the peering module drives them; this file only
 * answers questions both need to agree on: what a state is called, whether two requests are
 * the same, and what to do with a LEASE_STATUS. Must never do I/O beyond reading random
 * bytes for new ids.
 */
#include "peering.h"

#include "hex.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static const char *const state_names[LEASE_STATE_MAX + 1] = {
        "none",   "checking", "held",    "committing", "reserved",
        "active", "released", "expired", "failed",     "revoked",
};

const char *lease_state_name(unsigned state)
{
	return state <= LEASE_STATE_MAX ? state_names[state] : "unknown";
}

int lease_state_parse(const char *s)
{
	for (unsigned i = 1; i <= LEASE_STATE_MAX; i++)
		if (s && strcmp(s, state_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

bool lease_state_terminal(unsigned state)
{
	return state >= LEASE_RELEASED && state <= LEASE_REVOKED;
}

bool lease_state_booked(unsigned state)
{
	return state >= LEASE_HELD && state <= LEASE_ACTIVE;
}

const char *lease_error_name(unsigned err)
{
	static const char *const names[LEASE_ERR_MAX + 1] = {
	        "none",
	        "insufficient-capacity",
	        "unknown-resource",
	        "bad-parameters",
	        "id-conflict",
	        "unknown-lease",
	        "hold-timeout",
	        "preempted",
	        "administrative",
	        "not-permitted",
	        "internal",
	        "wrong-state",
	        "end-reached",
	        "no-path",
	        "peer-unreachable",
	};
	return err <= LEASE_ERR_MAX ? names[err] : "unknown";
}

static const char *const res_names[LEASE_RES_MAX + 1] = {
        NULL, "bandwidth", "vcpu", "memory", "storage",
};

const char *lease_resource_name(unsigned res)
{
	return res >= 1 && res <= LEASE_RES_MAX ? res_names[res] : "unknown";
}

int lease_resource_parse(const char *s)
{
	for (unsigned i = 1; i <= LEASE_RES_MAX; i++)
		if (s && strcasecmp(s, res_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void lease_id_random(struct lease_id *id)
{
	size_t got = 0;
	while (got < sizeof(id->b)) {
		ssize_t n = getrandom(id->b + got, sizeof(id->b) - got, 0);
		if (n <= 0)
			continue; /* EINTR; getrandom does not fail otherwise once seeded */
		got += (size_t)n;
	}
	id->b[6] = (uint8_t)((id->b[6] & 0x0f) | 0x40);
	id->b[8] = (uint8_t)((id->b[8] & 0x3f) | 0x80);
}

bool lease_id_is_zero(const struct lease_id *id)
{
	for (size_t i = 0; i < sizeof(id->b); i++)
		if (id->b[i])
			return false;
	return true;
}

bool lease_id_equal(const struct lease_id *a, const struct lease_id *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

char *lease_id_fmt(const struct lease_id *id, char buf[LEASE_ID_STR])
{
	return hex_fmt(id->b, sizeof(id->b), buf);
}

int lease_id_parse(const char *s, struct lease_id *id)
{
	return s ? hex_parse(s, id->b, sizeof(id->b)) : -EINVAL;
}

bool lease_params_equal(const struct peer_msg *a, const struct peer_msg *b)
{
	const struct lease_msg *x = &a->lease, *y = &b->lease;
	uint32_t pa = a->present & LEASE_F_PARAMS & ~PEER_F_PRIORITY;
	uint32_t pb = b->present & LEASE_F_PARAMS & ~PEER_F_PRIORITY;
	if (pa != pb)
		return false;
	if (strcmp(x->requester, y->requester) || strcmp(x->provider, y->provider))
		return false;
	if (x->resource != y->resource || strcmp(x->resource_name, y->resource_name))
		return false;
	if (x->unit != y->unit || x->quantity != y->quantity)
		return false;
	if (x->start_s != y->start_s || x->duration_s != y->duration_s)
		return false;
	unsigned xs = a->present & PEER_F_PRIORITY ? x->setup_prio : LEASE_PRIORITY_DEFAULT;
	unsigned xh = a->present & PEER_F_PRIORITY ? x->hold_prio : LEASE_PRIORITY_DEFAULT;
	unsigned ys = b->present & PEER_F_PRIORITY ? y->setup_prio : LEASE_PRIORITY_DEFAULT;
	unsigned yh = b->present & PEER_F_PRIORITY ? y->hold_prio : LEASE_PRIORITY_DEFAULT;
	if (xs != ys || xh != yh)
		return false;
	if ((pa & PEER_F_MATCH_PREFIX) && x->n_prefix != y->n_prefix)
		return false;
	for (unsigned i = 0; (pa & PEER_F_MATCH_PREFIX) && i < x->n_prefix; i++) {
		const struct lease_prefix *p = &x->prefix[i], *q = &y->prefix[i];
		size_t nb = (p->len + 7u) / 8u;
		if (p->dir != q->dir || p->family != q->family || p->len != q->len ||
		    memcmp(p->addr, q->addr, nb > 16 ? 16 : nb))
			return false;
	}
	if ((pa & PEER_F_MATCH_DSCP) &&
	    (x->n_dscp != y->n_dscp || memcmp(x->dscp, y->dscp, x->n_dscp)))
		return false;
	if ((pa & PEER_F_PATH) && x->n_path != y->n_path)
		return false;
	for (unsigned i = 0; (pa & PEER_F_PATH) && i < x->n_path; i++)
		if (strcmp(x->path[i], y->path[i]))
			return false;
	return true;
}

enum lease_status_action lease_status_action(bool provider, unsigned mine, unsigned theirs)
{
	bool mine_term = lease_state_terminal(mine);
	bool their_term = lease_state_terminal(theirs);

	if (mine == LEASE_NONE) {
		if (their_term)
			return LEASE_ACT_NOTHING;
		if (provider && theirs == LEASE_CHECKING)
			return LEASE_ACT_NOTHING; /* the repeated REQUEST follows */
		return LEASE_ACT_REPLY_UNKNOWN;
	}
	if (mine_term)
		return their_term ? LEASE_ACT_NOTHING : LEASE_ACT_REPLY_OWN;
	if (their_term)
		return LEASE_ACT_ADOPT;
	if (provider)
		return LEASE_ACT_NOTHING;
	/* Requester, both non-terminal: the provider's record tells how far it got. */
	switch (theirs) {
	case LEASE_HELD:
		return mine == LEASE_CHECKING ? LEASE_ACT_ADOPT : LEASE_ACT_NOTHING;
	case LEASE_RESERVED:
	case LEASE_ACTIVE:
		return mine == LEASE_CHECKING || mine == LEASE_HELD || mine == LEASE_COMMITTING
		               ? LEASE_ACT_ADOPT
		               : LEASE_ACT_NOTHING;
	default:
		return LEASE_ACT_NOTHING;
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger_fsm: the lease state machine and the ledger's names (pure; see ledger.h).
 *
 * The transition table is the single place that says which event moves a lease from which
 * state to which; every other part of the ledger goes through ledger_transition. Owns no
 * memory and does no I/O except ledger_id_new, which reads the kernel's random source.
 */
#include "ledger.h"
#include "hex.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define X (-1) /* illegal */

static const signed char table[LEDGER_N_STATES][LEDGER_N_EVENTS] = {
	/*               ADMIT         REJECT         COMMIT             CONFIRM
	 *               HOLD_TIMEOUT  START          END                RELEASE
	 *               REVOKE        FAIL */
	[LEDGER_CHECKING] = {LEDGER_HELD, LEDGER_FAILED, X, X,
			     LEDGER_FAILED, X, LEDGER_EXPIRED, LEDGER_RELEASED,
			     LEDGER_REVOKED, LEDGER_FAILED},
	[LEDGER_HELD] = {X, X, LEDGER_COMMITTING, X,
			 LEDGER_EXPIRED, X, LEDGER_EXPIRED, LEDGER_RELEASED,
			 LEDGER_REVOKED, LEDGER_FAILED},
	[LEDGER_COMMITTING] = {X, X, X, LEDGER_RESERVED,
			       X, X, LEDGER_EXPIRED, LEDGER_RELEASED,
			       LEDGER_REVOKED, LEDGER_FAILED},
	[LEDGER_RESERVED] = {X, X, X, X,
			     X, LEDGER_ACTIVE, LEDGER_EXPIRED, LEDGER_RELEASED,
			     LEDGER_REVOKED, LEDGER_FAILED},
	[LEDGER_ACTIVE] = {X, X, X, X,
			   X, X, LEDGER_EXPIRED, LEDGER_RELEASED,
			   LEDGER_REVOKED, LEDGER_FAILED},
	[LEDGER_RELEASED] = {X, X, X, X, X, X, X, X, X, X},
	[LEDGER_EXPIRED] = {X, X, X, X, X, X, X, X, X, X},
	[LEDGER_FAILED] = {X, X, X, X, X, X, X, X, X, X},
	[LEDGER_REVOKED] = {X, X, X, X, X, X, X, X, X, X},
};

bool ledger_state_live(enum ledger_state st)
{
	return (unsigned)st <= LEDGER_ACTIVE;
}

enum ledger_err ledger_transition(enum ledger_state from, enum ledger_event ev,
				  enum ledger_state *to)
{
	if ((unsigned)from >= LEDGER_N_STATES || (unsigned)ev >= LEDGER_N_EVENTS)
		return LEDGER_E_INVALID;
	if (!ledger_state_live(from))
		return LEDGER_E_TERMINAL;
	if (table[from][ev] == X)
		return LEDGER_E_ILLEGAL;
	*to = (enum ledger_state)table[from][ev];
	return LEDGER_OK;
}

static const char *const state_names[LEDGER_N_STATES] = {
	"checking", "held", "committing", "reserved", "active",
	"released", "expired", "failed", "revoked",
};

static const char *const event_names[LEDGER_N_EVENTS] = {
	"admit", "reject", "commit", "confirm", "hold_timeout",
	"start", "end", "release", "revoke", "fail",
};

static const char *const err_names[LEDGER_N_ERRS] = {
	"ok", "illegal_transition", "terminal", "no_capacity", "id_conflict",
	"unknown_resource", "invalid", "not_found", "hold_timeout", "preempted",
	"ended", "peer", "provision", "storage", "no_path",
};

static const char *const kind_names[LEDGER_N_KINDS] = {"bandwidth", "vcpu", "memory", "storage"};
static const char *const kind_units[LEDGER_N_KINDS] = {"bps", "vcpu", "bytes", "bytes"};

const char *ledger_state_name(enum ledger_state st)
{
	return (unsigned)st < LEDGER_N_STATES ? state_names[st] : "?";
}

int ledger_state_parse(const char *s, enum ledger_state *st)
{
	for (int i = 0; i < LEDGER_N_STATES; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*st = (enum ledger_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *ledger_event_name(enum ledger_event ev)
{
	return (unsigned)ev < LEDGER_N_EVENTS ? event_names[ev] : "?";
}

const char *ledger_err_name(enum ledger_err e)
{
	return (unsigned)e < LEDGER_N_ERRS ? err_names[e] : "?";
}

int ledger_err_errno(enum ledger_err e)
{
	switch (e) {
	case LEDGER_OK:
		return 0;
	case LEDGER_E_ILLEGAL:
	case LEDGER_E_TERMINAL:
		return -EPERM;
	case LEDGER_E_NO_CAPACITY:
	case LEDGER_E_PREEMPTED:
		return -ENOSPC;
	case LEDGER_E_CONFLICT:
		return -EEXIST;
	case LEDGER_E_UNKNOWN_RESOURCE:
	case LEDGER_E_NOT_FOUND:
		return -ENOENT;
	case LEDGER_E_HOLD_TIMEOUT:
		return -ETIMEDOUT;
	case LEDGER_E_STORAGE:
		return -EIO;
	default:
		return -EINVAL;
	}
}

const char *ledger_kind_name(enum ledger_kind k)
{
	return (unsigned)k < LEDGER_N_KINDS ? kind_names[k] : "?";
}

const char *ledger_kind_unit(enum ledger_kind k)
{
	return (unsigned)k < LEDGER_N_KINDS ? kind_units[k] : "?";
}

int ledger_kind_parse(const char *s, enum ledger_kind *k)
{
	for (int i = 0; i < LEDGER_N_KINDS; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum ledger_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

char *ledger_id_fmt(const uint8_t id[LEDGER_ID_LEN], char buf[LEDGER_ID_STR])
{
	return hex_fmt(id, LEDGER_ID_LEN, buf);
}

int ledger_id_parse(const char *s, uint8_t id[LEDGER_ID_LEN])
{
	return hex_parse(s, id, LEDGER_ID_LEN);
}

int ledger_id_new(uint8_t id[LEDGER_ID_LEN])
{
	ssize_t n = getrandom(id, LEDGER_ID_LEN, 0);
	if (n < 0)
		return -errno;
	if (n != LEDGER_ID_LEN)
		return -EIO;
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_pool: pool provisioning of the tidald module `alloc` (docs/alloc.md, "Provisioning
 * hooks"): a pool lease committed in the ledger runs the pool's provision_hook with
 * `provision`, its end runs it with `release`; retries of "try again" (exit 75 or time
 * limit), revocation of a lease that cannot be provisioned, re-provisioning after a restart.
 *
 * Owns the per-lease hook state; the processes belong to the hook runner (alloc_hook.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_mod_int.h"
#include "log.h"
#include "tidald.h"

/* ---- pool provisioning hooks --------------------------------------------------------- */

static const struct cfg_pool *pool_of(const struct tidal_cfg *cfg, const char *resource)
{
	for (size_t p = 0; p < cfg->n_pools; p++) {
		size_t len = strlen(cfg->pools[p].name);
		if (!strncmp(resource, "pool.", 5) &&
		    !strncmp(resource + 5, cfg->pools[p].name, len) && resource[5 + len] == '.')
			return &cfg->pools[p];
	}
	return NULL;
}

static struct hook_lease *hook_lease(struct alloc_mod *m, const uint8_t id[LEDGER_ID_LEN],
                                     bool create)
{
	for (size_t i = 0; i < m->n_hl; i++)
		if (!memcmp(m->hl[i]->id, id, LEDGER_ID_LEN))
			return m->hl[i];
	if (!create || amod_grow((void **)&m->hl, &m->cap_hl, m->n_hl + 1, sizeof(*m->hl)))
		return NULL;
	struct hook_lease *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	memcpy(h->id, id, LEDGER_ID_LEN);
	h->m = m;
	m->hl[m->n_hl++] = h;
	return h;
}

static void drop_hook_lease(struct alloc_mod *m, struct hook_lease *h)
{
	for (size_t i = 0; i < m->n_hl; i++)
		if (m->hl[i] == h) {
			m->hl[i] = m->hl[--m->n_hl];
			free(h);
			return;
		}
}

static void start_hook(struct alloc_mod *m, struct hook_lease *h, const struct ledger_lease *x);

static void hook_done(void *arg, const struct alloc_hook_result *r)
{
	struct hook_lease *h = arg;
	struct alloc_mod *m = h->m;
	h->running = false;
	m->hook_runs[r->outcome]++;
	struct ledger *lg = ledger_mod_get(m->d);
	struct ledger_lease x;
	bool known = lg && ledger_get(lg, h->id, &x) == 0;
	char result[64], reason[ALLOC_REASON_MAX], id[LEDGER_ID_STR];
	bool was_release = h->running_release;
	const char *action = was_release ? "release" : "provision";
	if (r->timed_out)
		snprintf(result, sizeof(result), "%s: time limit", action);
	else if (r->signal)
		snprintf(result, sizeof(result), "%s: signal %d", action, r->signal);
	else
		snprintf(result, sizeof(result), "%s: exit %d (%s)", action, r->exit_code,
		         alloc_hook_outcome_name(r->outcome));
	snprintf(reason, sizeof(reason), "hook ran %.1f s; output: %.180s", r->seconds,
	         r->output[0] ? r->output : "(none)");
	amod_decide(m, "hook", known ? x.app : "", known ? x.resource : ledger_id_fmt(h->id, id),
	            known ? (enum alloc_kind)x.kind : ALLOC_VCPU, known ? x.quantity : 0,
	            known ? x.start : 0, known ? x.end : 0, result, reason);
	if (r->outcome == ALLOC_HOOK_OK) {
		if (was_release) {
			drop_hook_lease(m, h);
			return;
		}
		h->provisioned = true;
		if (h->releasing) { /* the lease ended while it was being provisioned */
			h->attempts = 0;
			h->retry_at = tidald_now();
		}
		return;
	}
	if (r->outcome == ALLOC_HOOK_RETRY && h->attempts < HOOK_ATTEMPTS) {
		h->retry_at = tidald_now() + HOOK_RETRY_S;
		return;
	}
	if (!was_release && h->releasing) {
		drop_hook_lease(m, h); /* never provisioned, already over */
		return;
	}
	if (!was_release && known && ledger_state_live(x.state)) {
		/* The capacity cannot be provided: give the booking back. */
		enum ledger_err why;
		ledger_revoke(lg, h->id, tidald_now(), LEDGER_E_PROVISION, NULL, &why);
	}
	drop_hook_lease(m, h);
}

static void start_hook(struct alloc_mod *m, struct hook_lease *h, const struct ledger_lease *x)
{
	const struct tidal_cfg *cfg = tidald_cfg(m->d);
	const struct cfg_pool *p = pool_of(cfg, x->resource);
	if (!p || !p->provision_hook[0]) {
		if (h->releasing)
			drop_hook_lease(m, h);
		else
			h->provisioned = true; /* bookkeeping only */
		return;
	}
	char env[16][320], t0[32], t1[32], id[LEDGER_ID_STR];
	const char *envp[17];
	size_t n = 0;
#define ENV(...) (snprintf(env[n], sizeof(env[n]), __VA_ARGS__), envp[n] = env[n], n++)
	ENV("TIDAL_ACTION=%s", h->releasing ? "release" : "provision");
	ENV("TIDAL_LEASE_ID=%s", ledger_id_fmt(x->id, id));
	ENV("TIDAL_REGION=%s", cfg->region.name);
	ENV("TIDAL_POOL=%s", p->name);
	ENV("TIDAL_RESOURCE=%s", x->resource);
	ENV("TIDAL_KIND=%s", ledger_kind_name(x->kind));
	ENV("TIDAL_QUANTITY=%" PRIu64, x->quantity);
	ENV("TIDAL_UNIT=%s", ledger_kind_unit(x->kind));
	ENV("TIDAL_START=%s", cfg_fmt_time(x->start, t0, sizeof(t0)));
	ENV("TIDAL_END=%s", cfg_fmt_time(x->end, t1, sizeof(t1)));
	ENV("TIDAL_START_S=%lld", (long long)x->start);
	ENV("TIDAL_END_S=%lld", (long long)x->end);
	ENV("TIDAL_REQUESTER=%s", x->requester);
	ENV("TIDAL_PROVIDER=%s", x->provider);
	ENV("TIDAL_APP=%s", x->app);
	ENV("TIDAL_PRIORITY=%u", x->hold_prio);
#undef ENV
	envp[n] = NULL;
	struct alloc_hook_job j = {.program = p->provision_hook,
	                           .action = h->releasing ? "release" : "provision",
	                           .env = envp,
	                           .timeout_s = (uint32_t)(p->lead_time_ms / 1000),
	                           .done = hook_done,
	                           .arg = h};
	if (!j.timeout_s)
		j.timeout_s = 1;
	h->attempts++;
	int rc = alloc_hook_run(m->hooks, &j);
	if (rc) {
		struct alloc_hook_result r = {.outcome = ALLOC_HOOK_FAILED, .exit_code = -1};
		snprintf(r.output, sizeof(r.output), "cannot start %s: %s", p->provision_hook,
		         strerror(-rc));
		hook_done(h, &r);
		return;
	}
	h->running = true;
	h->running_release = h->releasing;
}

void amod_pool_changed(struct alloc_mod *m, const struct ledger_change *ch)
{
	const struct ledger_lease *x = &ch->lease;
	if (!ledger_state_live(x->state))
		amod_forget_managed(m, x->id);
	if (!pool_of(tidald_cfg(m->d), x->resource) ||
	    strcmp(x->provider, tidald_cfg(m->d)->region.name))
		return;
	struct hook_lease *h = hook_lease(m, x->id, ledger_state_live(x->state));
	if (!h)
		return;
	bool committed = x->state == LEDGER_RESERVED || x->state == LEDGER_ACTIVE;
	if (committed && (!h->provisioned || ch->reprovision) && !h->running && !h->releasing) {
		h->attempts = 0;
		start_hook(m, h, x);
	} else if (!ledger_state_live(x->state) && !h->releasing) {
		if (!h->provisioned && !h->running) {
			drop_hook_lease(m, h);
			return;
		}
		h->releasing = true;
		h->attempts = 0;
		h->retry_at = 0;
		if (!h->running)
			start_hook(m, h, x); /* else when the provision run ends (hook_done) */
	}
}

void amod_pool_retry(evutil_socket_t fd, short what, void *arg)
{
	struct alloc_mod *m = arg;
	(void)fd, (void)what;
	int64_t now = tidald_now();
	struct ledger *lg = ledger_mod_get(m->d);
	for (size_t i = 0; i < m->n_hl; i++) {
		struct hook_lease *h = m->hl[i];
		if (h->running || !h->retry_at || h->retry_at > now)
			continue;
		struct ledger_lease x;
		if (!lg || ledger_get(lg, h->id, &x) != 0)
			continue;
		h->retry_at = 0;
		start_hook(m, h, &x);
		break; /* the array may have changed */
	}
}

void amod_pool_free(struct alloc_mod *m)
{
	for (size_t i = 0; i < m->n_hl; i++)
		free(m->hl[i]);
	free(m->hl);
	m->hl = NULL;
	m->n_hl = m->cap_hl = 0;
}

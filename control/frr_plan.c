/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frr_plan: diff two models of bgpd's configuration into vtysh commands, render them as
 * `vtysh -c` lines with their config contexts, and find the failing line in vtysh's
 * echoed output (see frr_plan.h).
 *
 * The order of a plan keeps every intermediate state safe for traffic: prefix-lists
 * first, then new neighbors, route-map entries (a new route-map gets its final "permit
 * everything else" entry before any neighbor uses it), bindings; removals in reverse
 * (unbind before deleting entries, entries before prefix-lists, neighbors last).
 *
 * Pure: no I/O. Refuses (-EPERM) to emit a command for anything that is not tidal's.
 */
#include "frr_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *af_ip[FRR_AF_N] = {"ip", "ipv6"};
static const char *af_mode[FRR_AF_N] = {"address-family ipv4 unicast",
                                        "address-family ipv6 unicast"};
static const char *af_clear[FRR_AF_N] = {"ipv4 unicast", "ipv6 unicast"};


void frr_plan_free(struct frr_plan *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->soft);
	memset(p, 0, sizeof(*p));
}

void frr_lines_free(struct frr_lines *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->cmd);
	memset(l, 0, sizeof(*l));
}

/* ---- building a plan ----------------------------------------------------------------- */

struct planner {
	struct frr_plan *p;
	const struct frr_state *cur, *tgt;
	char *err;
	size_t errlen;
	int rc;
	/* route-maps and prefix-lists touched by the plan (for soft reconfiguration) */
	char (*touched)[FRR_NAME_MAX];
	size_t n_touched;
};

static void touch(struct planner *pl, const char *name)
{
	for (size_t i = 0; i < pl->n_touched; i++)
		if (!strcmp(pl->touched[i], name))
			return;
	char(*slot)[FRR_NAME_MAX] = FRR_PUSH(pl->touched, pl->n_touched);
	if (!slot) {
		pl->rc = -ENOMEM;
		return;
	}
	frr_copy(*slot, FRR_NAME_MAX, name);
}

static bool touched(const struct planner *pl, const char *name)
{
	for (size_t i = 0; i < pl->n_touched; i++)
		if (!strcmp(pl->touched[i], name))
			return true;
	return false;
}

static void emit(struct planner *pl, const char *l1, const char *l2, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void emit(struct planner *pl, const char *l1, const char *l2, const char *fmt, ...)
{
	struct frr_cmd *c;
	va_list ap;
	int n;

	if (pl->rc)
		return;
	c = FRR_PUSH(pl->p->v, pl->p->n);
	if (!c) {
		pl->rc = -ENOMEM;
		return;
	}
	frr_copy(c->ctx.l1, sizeof(c->ctx.l1), l1);
	frr_copy(c->ctx.l2, sizeof(c->ctx.l2), l2);
	va_start(ap, fmt);
	n = vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(c->text)) {
		frr_errf(pl->err, pl->errlen, "command too long for vtysh: %.80s...", c->text);
		pl->rc = -E2BIG;
	}
}

static void refuse(struct planner *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct planner *pl, const char *fmt, ...)
{
	va_list ap;

	if (pl->rc)
		return;
	va_start(ap, fmt);
	if (pl->err && pl->errlen)
		vsnprintf(pl->err, pl->errlen, fmt, ap);
	va_end(ap);
	pl->rc = -EPERM;
}

static void ctx_rmap(char *buf, size_t len, const char *name, const struct frr_rmap_entry *e)
{
	snprintf(buf, len, "route-map %s %s %u", name, e->permit ? "permit" : "deny", e->seq);
}

static void ctx_bgp(char *buf, size_t len, uint32_t asn)
{
	snprintf(buf, len, "router bgp %u", asn);
}

/* The part of a clause that identifies what it sets or matches: a new clause with the same
 * key replaces the old one in FRR, so only clauses whose key disappears are removed. */
static void clause_key(bool is_set, const char *c, char *key, size_t len)
{
	const char *end;

	if (is_set) {
		end = strchr(c, ' ');
		if (end && (!strncmp(c, "ip ", 3) || !strncmp(c, "ipv6 ", 5)))
			end = strchr(end + 1, ' ');
	} else {
		end = strrchr(c, ' ');
	}
	if (!end)
		end = c + strlen(c);
	snprintf(key, len, "%.*s", (int)(end - c), c);
}

static bool has_clause(char (*v)[FRR_TEXT_MAX], size_t n, const char *c)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], c))
			return true;
	return false;
}

static bool has_key(bool is_set, char (*v)[FRR_TEXT_MAX], size_t n, const char *key)
{
	char k[FRR_TEXT_MAX];

	for (size_t i = 0; i < n; i++) {
		clause_key(is_set, v[i], k, sizeof(k));
		if (!strcmp(k, key))
			return true;
	}
	return false;
}

static void diff_clauses(struct planner *pl, const char *ctx, bool is_set,
                         char (*cur)[FRR_TEXT_MAX], size_t ncur, char (*tgt)[FRR_TEXT_MAX],
                         size_t ntgt)
{
	const char *verb = is_set ? "set" : "match";
	char key[FRR_TEXT_MAX];

	for (size_t i = 0; i < ntgt; i++)
		if (!has_clause(cur, ncur, tgt[i]))
			emit(pl, ctx, "", "%s %s", verb, tgt[i]);
	for (size_t i = 0; i < ncur; i++) {
		clause_key(is_set, cur[i], key, sizeof(key));
		if (!has_key(is_set, tgt, ntgt, key))
			emit(pl, ctx, "", "no %s %s", verb, cur[i]);
	}
}

static const struct frr_rmap_entry *find_entry(const struct frr_rmap *m, uint32_t seq)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->v[i].seq == seq)
			return &m->v[i];
	return NULL;
}

static void plan_plists_add(struct planner *pl)
{
	for (size_t i = 0; i < pl->tgt->n_plists; i++) {
		const struct frr_plist *t = &pl->tgt->plists[i];
		const struct frr_plist *c = frr_state_plist(pl->cur, t->name, t->af);

		if (!frr_is_tidal_name(t->name)) {
			refuse(pl, "refusing to write prefix-list %s: not tidal's", t->name);
			return;
		}
		for (size_t j = 0; j < t->n; j++) {
			const struct frr_plist_entry *e = &t->v[j];
			bool same = false;

			for (size_t k = 0; c && k < c->n && !same; k++)
				same = c->v[k].seq == e->seq && c->v[k].permit == e->permit &&
				       !strcmp(c->v[k].prefix, e->prefix);
			if (same)
				continue;
			emit(pl, "", "", "%s prefix-list %s seq %u %s %s", af_ip[t->af], t->name,
			     e->seq, e->permit ? "permit" : "deny", e->prefix);
			touch(pl, t->name);
		}
	}
}

static void plan_plists_remove(struct planner *pl)
{
	for (size_t i = 0; i < pl->cur->n_plists; i++) {
		const struct frr_plist *c = &pl->cur->plists[i];
		const struct frr_plist *t = frr_state_plist(pl->tgt, c->name, c->af);

		if (!t) {
			emit(pl, "", "", "no %s prefix-list %s", af_ip[c->af], c->name);
			touch(pl, c->name);
			continue;
		}
		for (size_t j = 0; j < c->n; j++) {
			bool kept = false;

			for (size_t k = 0; k < t->n && !kept; k++)
				kept = t->v[k].seq == c->v[j].seq;
			if (kept)
				continue;
			emit(pl, "", "", "no %s prefix-list %s seq %u %s %s", af_ip[c->af], c->name,
			     c->v[j].seq, c->v[j].permit ? "permit" : "deny", c->v[j].prefix);
			touch(pl, c->name);
		}
	}
}

static void plan_rmaps_add(struct planner *pl)
{
	char ctx[FRR_TEXT_MAX];

	for (size_t i = 0; i < pl->tgt->n_rmaps; i++) {
		const struct frr_rmap *t = &pl->tgt->rmaps[i];
		const struct frr_rmap *c = frr_state_rmap(pl->cur, t->name);

		if (!frr_is_tidal_name(t->name)) {
			refuse(pl, "refusing to write route-map %s: not tidal's", t->name);
			return;
		}
		for (size_t j = 0; j < t->n; j++) {
			const struct frr_rmap_entry *te = &t->v[j];
			const struct frr_rmap_entry *ce = find_entry(c, te->seq);
			size_t before = pl->p->n;

			if (ce && ce->permit != te->permit) {
				emit(pl, "", "", "no route-map %s %s %u", t->name,
				     ce->permit ? "permit" : "deny", ce->seq);
				ce = NULL;
			}
			ctx_rmap(ctx, sizeof(ctx), t->name, te);
			if (!ce) {
				if (te->desc[0])
					emit(pl, ctx, "", "description %s", te->desc);
				diff_clauses(pl, ctx, false, NULL, 0, te->match, te->n_match);
				diff_clauses(pl, ctx, true, NULL, 0, te->set, te->n_set);
				if (pl->p->n == before)
					emit(pl, ctx, "", "%s", ""); /* entering creates it */
			} else {
				if (strcmp(ce->desc, te->desc)) {
					if (te->desc[0])
						emit(pl, ctx, "", "description %s", te->desc);
					else
						emit(pl, ctx, "", "no description");
				}
				diff_clauses(pl, ctx, false, ce->match, ce->n_match, te->match,
				             te->n_match);
				diff_clauses(pl, ctx, true, ce->set, ce->n_set, te->set, te->n_set);
			}
			if (pl->p->n != before)
				touch(pl, t->name);
		}
	}
}

static void plan_rmaps_remove(struct planner *pl)
{
	for (size_t i = 0; i < pl->cur->n_rmaps; i++) {
		const struct frr_rmap *c = &pl->cur->rmaps[i];
		const struct frr_rmap *t = frr_state_rmap(pl->tgt, c->name);

		if (!frr_is_tidal_name(c->name)) {
			refuse(pl, "refusing to remove route-map %s: not tidal's", c->name);
			return;
		}
		for (size_t j = 0; j < c->n; j++) {
			if (find_entry(t, c->v[j].seq))
				continue;
			emit(pl, "", "", "no route-map %s %s %u", c->name,
			     c->v[j].permit ? "permit" : "deny", c->v[j].seq);
			touch(pl, c->name);
		}
	}
}

static void plan_nbrs_add(struct planner *pl)
{
	char bgp[64];

	ctx_bgp(bgp, sizeof(bgp), pl->tgt->asn);
	for (size_t i = 0; i < pl->tgt->n_nbrs; i++) {
		const struct frr_nbr *t = &pl->tgt->nbrs[i];

		if (frr_state_nbr(pl->cur, t->addr))
			continue;
		if (!frr_nbr_is_tidal(t)) {
			refuse(pl, "refusing to configure neighbor %s without a tidal description",
			       t->addr);
			return;
		}
		if (t->remote_as)
			emit(pl, bgp, "", "neighbor %s remote-as %u", t->addr, t->remote_as);
		else
			emit(pl, bgp, "", "neighbor %s remote-as external", t->addr);
		emit(pl, bgp, "", "neighbor %s description %s", t->addr, t->desc);
	}
}

static void plan_bindings(struct planner *pl)
{
	char bgp[64];

	ctx_bgp(bgp, sizeof(bgp), pl->tgt->asn);
	for (size_t i = 0; i < pl->tgt->n_nbrs; i++) {
		const struct frr_nbr *t = &pl->tgt->nbrs[i];
		const struct frr_nbr *c = frr_state_nbr(pl->cur, t->addr);

		for (int af = 0; af < FRR_AF_N; af++) {
			const char *cur_rm = c ? c->rmap_in[af] : "";

			if (t->active[af] && !(c && c->active[af])) {
				if (c && !frr_nbr_is_tidal(c)) {
					refuse(pl, "refusing to activate operator neighbor %s",
					       t->addr);
					return;
				}
				emit(pl, bgp, af_mode[af], "neighbor %s activate", t->addr);
			}
			if (!t->rmap_in[af][0] || !strcmp(t->rmap_in[af], cur_rm))
				continue;
			if ((cur_rm[0] && !frr_is_tidal_name(cur_rm)) ||
			    !frr_is_tidal_name(t->rmap_in[af])) {
				refuse(pl,
				       "refusing to replace inbound route-map '%s' of neighbor "
				       "%s: not tidal's",
				       cur_rm, t->addr);
				return;
			}
			emit(pl, bgp, af_mode[af], "neighbor %s route-map %s in", t->addr,
			     t->rmap_in[af]);
		}
	}
}

static void plan_unbind(struct planner *pl)
{
	char bgp[64];

	ctx_bgp(bgp, sizeof(bgp), pl->cur->asn);
	for (size_t i = 0; i < pl->cur->n_nbrs; i++) {
		const struct frr_nbr *c = &pl->cur->nbrs[i];
		const struct frr_nbr *t = frr_state_nbr(pl->tgt, c->addr);

		for (int af = 0; af < FRR_AF_N; af++) {
			if (!c->rmap_in[af][0] || (t && t->rmap_in[af][0]))
				continue;
			if (!frr_is_tidal_name(c->rmap_in[af])) {
				if (t)
					refuse(pl,
					       "refusing to remove the operator's inbound "
					       "route-map '%s' of neighbor %s",
					       c->rmap_in[af], c->addr);
				continue; /* an operator neighbor that goes away is refused below */
			}
			emit(pl, bgp, af_mode[af], "no neighbor %s route-map %s in", c->addr,
			     c->rmap_in[af]);
		}
	}
}

static void plan_nbrs_remove(struct planner *pl)
{
	char bgp[64];

	ctx_bgp(bgp, sizeof(bgp), pl->cur->asn);
	for (size_t i = 0; i < pl->cur->n_nbrs; i++) {
		const struct frr_nbr *c = &pl->cur->nbrs[i];

		if (frr_state_nbr(pl->tgt, c->addr))
			continue;
		if (!frr_nbr_is_tidal(c)) {
			refuse(pl, "refusing to remove operator neighbor %s", c->addr);
			return;
		}
		emit(pl, bgp, "", "no neighbor %s", c->addr);
	}
}

/* A route-map is affected when it was edited or refers to an edited prefix-list. */
static bool rmap_affected(const struct planner *pl, const char *name)
{
	const struct frr_state *sts[2] = {pl->cur, pl->tgt};

	if (!name[0])
		return false;
	if (touched(pl, name))
		return true;
	for (int s = 0; s < 2; s++) {
		const struct frr_rmap *m = frr_state_rmap(sts[s], name);

		for (size_t j = 0; m && j < m->n; j++)
			for (size_t k = 0; k < m->v[j].n_match; k++) {
				const char *pfx = strstr(m->v[j].match[k], "prefix-list ");

				if (pfx && touched(pl, pfx + strlen("prefix-list ")))
					return true;
			}
	}
	return false;
}

static void plan_soft(struct planner *pl)
{
	for (size_t i = 0; i < pl->cur->n_nbrs && !pl->rc; i++) {
		const struct frr_nbr *c = &pl->cur->nbrs[i];
		const struct frr_nbr *t = frr_state_nbr(pl->tgt, c->addr);

		if (!t || strcmp(c->state, "Established"))
			continue;
		for (int af = 0; af < FRR_AF_N; af++) {
			struct frr_soft *s;

			if (!c->active[af])
				continue;
			if (!strcmp(c->rmap_in[af], t->rmap_in[af]) &&
			    !rmap_affected(pl, t->rmap_in[af]))
				continue;
			s = FRR_PUSH(pl->p->soft, pl->p->n_soft);
			if (!s) {
				pl->rc = -ENOMEM;
				return;
			}
			frr_copy(s->addr, sizeof(s->addr), c->addr);
			s->af = (enum frr_af)af;
		}
	}
}

int frr_plan_diff(const struct frr_state *cur, const struct frr_state *tgt, struct frr_plan *p,
                  char *err, size_t errlen)
{
	struct planner pl = {.p = p, .cur = cur, .tgt = tgt, .err = err, .errlen = errlen};

	memset(p, 0, sizeof(*p));
	plan_plists_add(&pl);
	plan_nbrs_add(&pl);
	plan_rmaps_add(&pl);
	plan_bindings(&pl);
	plan_unbind(&pl);
	plan_rmaps_remove(&pl);
	plan_plists_remove(&pl);
	plan_nbrs_remove(&pl);
	if (!pl.rc && p->n)
		plan_soft(&pl);
	free(pl.touched);
	if (pl.rc) {
		if (pl.rc == -ENOMEM)
			frr_errf(err, errlen, "out of memory while planning FRR commands");
		frr_plan_free(p);
	}
	return pl.rc;
}

/* ---- rendering ----------------------------------------------------------------------- */

static int add_line(struct frr_lines *l, const char *text, size_t cmd)
{
	char **v;
	size_t *c;

	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	c = realloc(l->cmd, (l->n + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	l->cmd = c;
	l->v[l->n] = strdup(text);
	if (!l->v[l->n])
		return -ENOMEM;
	l->cmd[l->n++] = cmd;
	return 0;
}

int frr_plan_render(const struct frr_plan *p, struct frr_lines *out)
{
	struct frr_ctx cur = {"", ""};
	size_t last = p->n ? p->n - 1 : 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = add_line(out, "configure terminal", 0);
	for (size_t i = 0; i < p->n && !rc; i++) {
		const struct frr_ctx *want = &p->v[i].ctx;

		if (cur.l2[0] && (strcmp(cur.l1, want->l1) || strcmp(cur.l2, want->l2))) {
			rc = rc ? rc : add_line(out, "exit-address-family", i);
			cur.l2[0] = '\0';
		}
		if (cur.l1[0] && strcmp(cur.l1, want->l1)) {
			rc = rc ? rc : add_line(out, "exit", i);
			cur.l1[0] = '\0';
		}
		if (want->l1[0] && !cur.l1[0]) {
			rc = rc ? rc : add_line(out, want->l1, i);
			frr_copy(cur.l1, sizeof(cur.l1), want->l1);
		}
		if (want->l2[0] && !cur.l2[0]) {
			rc = rc ? rc : add_line(out, want->l2, i);
			frr_copy(cur.l2, sizeof(cur.l2), want->l2);
		}
		if (p->v[i].text[0])
			rc = rc ? rc : add_line(out, p->v[i].text, i);
	}
	if (!rc && cur.l2[0])
		rc = add_line(out, "exit-address-family", last);
	if (!rc && cur.l1[0])
		rc = add_line(out, "exit", last);
	if (!rc)
		rc = add_line(out, "end", last);
	if (rc)
		frr_lines_free(out);
	return rc;
}

const char *frr_soft_command(const struct frr_soft *s, char *buf, size_t len)
{
	snprintf(buf, len, "clear bgp %s %s soft in", af_clear[s->af], s->addr);
	return buf;
}

/* ---- vtysh -E output ----------------------------------------------------------------- */

/* Is `line` vtysh's echo of `cmd`: a prompt ending in "# " followed by the command? */
static bool is_echo(const char *line, size_t len, const char *cmd)
{
	size_t cl = strlen(cmd);

	return len >= cl + 2 && !memcmp(line + len - cl, cmd, cl) && line[len - cl - 1] == ' ' &&
	       line[len - cl - 2] == '#';
}

long frr_echo_scan(const struct frr_lines *l, const char *output, size_t *n_echoed, char *msg,
                   size_t msglen)
{
	const char *s = output;
	size_t next = 0;
	long bad = -1;

	while (*s) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s);

		if (len && s[len - 1] == '\r')
			len--;
		if (next < l->n && is_echo(s, len, l->v[next])) {
			next++;
		} else if (len && s[0] == '%' && bad < 0) {
			bad = next ? (long)next - 1 : 0;
			if (msg && msglen)
				snprintf(msg, msglen, "%.*s", (int)len, s);
		}
		if (!eol)
			break;
		s = eol + 1;
	}
	if (n_echoed)
		*n_echoed = next;
	return bad;
}

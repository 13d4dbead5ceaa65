/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-load: cfg_load — scan the file for lines, let iniparser read the values, match
 * every [section] and key against the schema, parse values, apply defaults, run the
 * cross-checks, and hand back either a complete valid tree or every problem found.
 *
 * Owns the loader state for the duration of one cfg_load. Reads the config file (twice
 * when iniparser needs a cleaned copy, which goes to an anonymous memfd, never to disk).
 * Never checks whether the files the config names exist: tidald does that when it starts.
 */
#include "cfg-int.h"

#include <errno.h>
#include <iniparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int ini_silent(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

/* iniparser only reads named files: give it a copy of the file in an anonymous memfd with
 * the lines it would refuse repaired or commented out, so that one syntax error does not
 * hide every other problem. */
static dictionary *ini_load_clean(const char *path, const struct cfg_scan *sc)
{
	FILE *in = fopen(path, "r"), *out = NULL;
	dictionary *d = NULL;
	char *line = NULL, fdpath[64];
	size_t cap = 0, fix = 0;
	unsigned lineno = 0;
	ssize_t n;
	int fd;

	if (!in)
		return NULL;
	fd = memfd_create("tidal-cfg", MFD_CLOEXEC);
	if (fd < 0)
		goto out;
	out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		goto out;
	}
	while ((n = getline(&line, &cap, in)) >= 0) {
		lineno++;
		while (fix < sc->n_fixes && sc->fixes[fix].line < lineno)
			fix++;
		if (fix < sc->n_fixes && sc->fixes[fix].line == lineno)
			fprintf(out, "%s\n", sc->fixes[fix].text ? sc->fixes[fix].text : ";");
		else if (lineno == 1 && sc->bom && n >= 3)
			fputs(line + 3, out);
		else
			fputs(line, out);
	}
	if (fflush(out) == 0) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fileno(out));
		d = iniparser_load(fdpath);
	}
out:
	if (out)
		fclose(out);
	free(line);
	fclose(in);
	return d;
}

static dictionary *ini_load(const char *path, const struct cfg_scan *sc)
{
	dictionary *d;

	iniparser_set_error_callback(ini_silent);
	d = sc->sanitize ? ini_load_clean(path, sc) : iniparser_load(path);
	iniparser_set_error_callback(NULL);
	return d;
}

/* ---- sections ----------------------------------------------------------------------- */

static const char *section_list(void)
{
	return "region, control, peering, peer.NAME, link.NAME, app.NAME, pool.NAME, forecast, "
	       "event.NAME, dataplane, frr";
}

static void classify(struct cfg_ld *ld, struct cfg_inst *in, size_t idx)
{
	struct cfg_scan_sec *sec = in->sec;
	const char *dot = strchr(sec->name, '.');
	char kind[64], buf[200];
	const char *obj = dot ? dot + 1 : NULL;
	size_t kl = dot ? (size_t)(dot - sec->name) : strlen(sec->name);
	const struct cfg_section *s;

	if (sec->raw[0] == '[')
		return; /* "[]": reported by the scan */
	if (sec->name[0] == '\0') {
		for (size_t i = 0; i < sec->n_keys; i++) {
			const char *home = NULL;
			if (sec->keys[i].unreadable)
				continue;
			for (size_t j = 0; j < cfg_schema_len && !home; j++)
				if (cfg_schema_key(&cfg_schema[j], sec->keys[i].name))
					home = cfg_schema[j].name;
			if (home)
				cfg_err(ld, sec->keys[i].line, sec->keys[i].name,
					"key outside any section; it belongs under [%s%s]", home,
					cfg_schema_section(home)->named ? ".NAME" : "");
			else
				cfg_err(ld, sec->keys[i].line, sec->keys[i].name,
					"key outside any section");
		}
		return;
	}
	if (kl >= sizeof(kind))
		kl = sizeof(kind) - 1;
	memcpy(kind, sec->name, kl);
	kind[kl] = '\0';
	s = cfg_schema_section(kind);
	if (!s) {
		const char *names[32];
		size_t n = 0;
		for (size_t j = 0; j < cfg_schema_len; j++)
			names[n++] = cfg_schema[j].name;
		const char *sug = cfg_suggest(kind, names, n);
		if (sug)
			cfg_err(ld, sec->line, sec->raw,
				"unknown section [%s]; did you mean [%s%s%s]?", sec->raw, sug,
				obj ? "." : "", obj ? obj : "");
		else
			cfg_err(ld, sec->line, sec->raw, "unknown section [%s] (sections: %s)",
				sec->raw, section_list());
		return;
	}
	if (s->named && (!obj || !*obj)) {
		cfg_err(ld, sec->line, sec->raw, "[%s] needs a name: [%s.NAME], e.g. [%s.%s]",
			sec->raw, s->name, s->name, s->example);
		return;
	}
	if (!s->named && obj) {
		cfg_err(ld, sec->line, sec->raw, "[%s] takes no name: write [%s]", sec->raw,
			s->name);
		return;
	}
	if (s->named) {
		/* check the name as written: iniparser lower-cases it, references do not */
		const char *raw_obj = sec->raw + (obj - sec->name);
		const char *prob = cfg_name_problem(raw_obj, buf, sizeof(buf));
		if (prob) {
			cfg_err(ld, sec->line, sec->name, "%s", prob);
			if (cfg_name_problem(obj, buf, sizeof(buf)))
				return; /* not even its lower-case form is usable */
		}
	}
	for (size_t j = 0; j < idx; j++) {
		if (ld->inst[j].schema == s && !strcmp(ld->inst[j].sec->name, sec->name)) {
			cfg_err(ld, sec->line, sec->name,
				"duplicate section (first at line %u); merge the two",
				ld->inst[j].sec->line);
			return;
		}
	}
	in->schema = s;
}

static int place_instances(struct cfg_ld *ld)
{
	struct tidal_cfg *cfg = ld->cfg;

	for (size_t j = 0; j < cfg_schema_len; j++) {
		const struct cfg_section *s = &cfg_schema[j];
		size_t n = 0, k = 0;
		char *arr;

		if (!s->named)
			continue;
		for (size_t i = 0; i < ld->n_inst; i++)
			n += ld->inst[i].schema == s;
		if (!n)
			continue;
		arr = calloc(n, s->elem_size);
		if (!arr)
			return -ENOMEM;
		*(void **)((char *)cfg + s->off) = arr;
		*(size_t *)((char *)cfg + s->count_off) = n;
		for (size_t i = 0; i < ld->n_inst; i++) {
			struct cfg_inst *in = &ld->inst[i];
			if (in->schema != s)
				continue;
			in->elem = arr + k++ * s->elem_size;
			const char *obj = strchr(in->sec->name, '.') + 1;
			memcpy((char *)in->elem + s->name_off, obj, strlen(obj) + 1);
		}
	}
	for (size_t i = 0; i < ld->n_inst; i++) {
		struct cfg_inst *in = &ld->inst[i];
		if (in->schema && !in->schema->named)
			in->elem = (char *)cfg + in->schema->off;
	}
	return 0;
}

/* ---- keys --------------------------------------------------------------------------- */

static void unknown_key(struct cfg_ld *ld, const struct cfg_section *s, const char *secname,
			const struct cfg_scan_key *sk, const char *where)
{
	const char *names[CFG_MAX_KEYS], *sug, *home = NULL;
	char list[400];
	size_t off = 0;

	for (size_t i = 0; i < s->n_keys; i++)
		names[i] = s->keys[i].name;
	if (s->named && !strcmp(sk->name, "name")) {
		cfg_err(ld, sk->line, where, "the name comes from the section header: [%s.NAME]",
			s->name);
		return;
	}
	sug = cfg_suggest(sk->name, names, s->n_keys);
	if (sug) {
		cfg_err(ld, sk->line, where, "unknown key; did you mean '%s'?", sug);
		return;
	}
	for (size_t j = 0; j < cfg_schema_len && !home; j++)
		if (&cfg_schema[j] != s && cfg_schema_key(&cfg_schema[j], sk->name))
			home = cfg_schema[j].name;
	if (home) {
		cfg_err(ld, sk->line, where, "'%s' belongs in [%s%s], not in [%s]", sk->name,
			home, cfg_schema_section(home)->named ? ".NAME" : "", secname);
		return;
	}
	list[0] = '\0';
	for (size_t i = 0; i < s->n_keys && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
					s->keys[i].name);
	cfg_err(ld, sk->line, where, "unknown key (keys of [%s%s]: %s)", s->name,
		s->named ? ".NAME" : "", list);
}

static void apply_default(struct cfg_ld *ld, const struct cfg_section *s,
			  const struct cfg_key *k, void *elem)
{
	char val[CFG_PATH_MAX + CFG_NAME_MAX], where[160];
	const char *sub = strstr(k->def, "{name}");

	if (sub)
		snprintf(val, sizeof(val), "%.*s%s%s", (int)(sub - k->def), k->def,
			 ld->cfg->region.name, sub + 6);
	else
		snprintf(val, sizeof(val), "%s", k->def);
	snprintf(where, sizeof(where), "%s.%s (default)", s->name, k->name);
	cfg_parse_value(ld, k, elem, val, 0, where);
}

static void load_inst(struct cfg_ld *ld, dictionary *d, struct cfg_inst *in)
{
	const struct cfg_section *s = in->schema;
	struct cfg_scan_sec *sec = in->sec;
	char where[CFG_NAME_MAX + 160], dkey[CFG_NAME_MAX + 160];

	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct cfg_scan_key *sk = &sec->keys[i];
		const struct cfg_key *k = cfg_schema_key(s, sk->name);

		snprintf(where, sizeof(where), "%s.%s", sec->name, sk->name);
		if (sk->unreadable) {
			if (k) { /* reported by the scan; no "missing key" on top */
				in->key_line[k - s->keys] = sk->line;
				in->key_bad[k - s->keys] = true;
			}
			continue;
		}
		if (!k) {
			unknown_key(ld, s, sec->name, sk, where);
			continue;
		}
		size_t idx = (size_t)(k - s->keys);
		if (in->key_line[idx])
			cfg_err(ld, sk->line, where,
				"duplicate key (already set at line %u); keep one",
				in->key_line[idx]);
		in->key_line[idx] = sk->line;
	}
	for (size_t idx = 0; idx < s->n_keys; idx++) {
		const struct cfg_key *k = &s->keys[idx];

		snprintf(where, sizeof(where), "%s.%s", sec->name, k->name);
		if (in->key_bad[idx]) {
			continue;
		} else if (in->key_line[idx]) {
			snprintf(dkey, sizeof(dkey), "%s:%s", sec->name, k->name);
			const char *val = iniparser_getstring(d, dkey, NULL);
			size_t before = ld->n_msgs;
			if (!val)
				cfg_err(ld, in->key_line[idx], where,
					"the INI reader lost this value (a ':' in the section "
					"name?)");
			else
				cfg_parse_value(ld, k, in->elem, val, in->key_line[idx], where);
			in->key_bad[idx] = ld->n_msgs != before;
		} else if (k->flags & CK_REQUIRED) {
			cfg_err(ld, sec->line, sec->name, "missing required key '%s'", k->name);
			in->key_bad[idx] = true;
		} else if (k->def) {
			apply_default(ld, s, k, in->elem);
		}
	}
	if (s->present_off)
		*(bool *)((char *)ld->cfg + s->present_off) = true;
}

static void load_missing_singletons(struct cfg_ld *ld)
{
	for (size_t j = 0; j < cfg_schema_len; j++) {
		const struct cfg_section *s = &cfg_schema[j];
		bool found = false;

		if (s->named)
			continue;
		for (size_t i = 0; i < ld->n_inst && !found; i++)
			found = ld->inst[i].schema == s;
		if (found)
			continue;
		if (s->required) {
			cfg_err(ld, 1, s->name, "missing required section [%s]", s->name);
			continue;
		}
		for (size_t k = 0; k < s->n_keys; k++)
			if (s->keys[k].def)
				apply_default(ld, s, &s->keys[k], (char *)ld->cfg + s->off);
	}
}

/* ---- the load ----------------------------------------------------------------------- */

static int cmp_msg(const void *a, const void *b)
{
	const struct cfg_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void hand_over(struct cfg_ld *ld, struct cfg_diag *diag)
{
	if (ld->n_msgs)
		qsort(ld->msgs, ld->n_msgs, sizeof(*ld->msgs), cmp_msg);
	if (diag && ld->n_msgs) {
		char **m = realloc(diag->msgs, (diag->n + ld->n_msgs) * sizeof(*m));
		if (m) {
			diag->msgs = m;
			for (size_t i = 0; i < ld->n_msgs; i++) {
				m[diag->n++] = ld->msgs[i].text;
				ld->msgs[i].text = NULL;
			}
		}
	}
	for (size_t i = 0; i < ld->n_msgs; i++)
		free(ld->msgs[i].text);
	free(ld->msgs);
	ld->msgs = NULL;
}

static int set_paths(struct cfg_ld *ld, const char *path)
{
	char full[2 * CFG_PATH_MAX + 2], cwd[CFG_PATH_MAX];

	if (path[0] == '/') {
		snprintf(full, sizeof(full), "%s", path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		snprintf(full, sizeof(full), "%s/%s", cwd, path);
	}
	cfg_clean_path(full);
	if (strlen(full) >= CFG_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(ld->cfg->path, full, strlen(full) + 1);
	char *slash = strrchr(full, '/');
	if (slash == full)
		slash[1] = '\0';
	else
		*slash = '\0';
	memcpy(ld->dir, full, strlen(full) + 1);
	return 0;
}

struct tidal_cfg *cfg_load(const char *path, struct cfg_diag *diag)
{
	struct cfg_ld ld = {.file = path ? path : "(null)"};
	struct cfg_scan sc = {0};
	dictionary *d = NULL;
	int rc;

	ld.cfg = calloc(1, sizeof(*ld.cfg));
	if (!ld.cfg || !path) {
		cfg_err(&ld, 0, NULL, !path ? "no config file given" : "out of memory");
		goto done;
	}
	rc = set_paths(&ld, path);
	if (rc < 0) {
		cfg_err(&ld, 0, NULL, "cannot make the path absolute: %s", strerror(-rc));
		goto done;
	}
	rc = cfg_scan_file(&ld, path, &sc);
	if (rc < 0) {
		cfg_err(&ld, 0, NULL, "cannot read: %s", strerror(-rc));
		goto done;
	}
	d = ini_load(path, &sc);
	if (!d) {
		if (ld.n_msgs == 0)
			cfg_err(&ld, 0, NULL, "the INI reader could not parse the file");
		goto done;
	}
	ld.n_inst = sc.n_secs;
	ld.inst = calloc(sc.n_secs ? sc.n_secs : 1, sizeof(*ld.inst));
	if (!ld.inst) {
		ld.oom = true;
		goto done;
	}
	for (size_t i = 0; i < sc.n_secs; i++) {
		ld.inst[i].sec = &sc.secs[i];
		classify(&ld, &ld.inst[i], i);
	}
	if (place_instances(&ld) < 0) {
		ld.oom = true;
		goto done;
	}
	/* [region] first: other defaults are derived from its name */
	for (size_t i = 0; i < ld.n_inst; i++)
		if (ld.inst[i].schema && !strcmp(ld.inst[i].schema->name, "region"))
			load_inst(&ld, d, &ld.inst[i]);
	for (size_t i = 0; i < ld.n_inst; i++)
		if (ld.inst[i].schema && strcmp(ld.inst[i].schema->name, "region"))
			load_inst(&ld, d, &ld.inst[i]);
	load_missing_singletons(&ld);
	if (!ld.oom)
		cfg_check(&ld);
done:
	if (ld.oom)
		cfg_err(&ld, 0, NULL, "out of memory while loading");
	if (d)
		iniparser_freedict(d);
	bool bad = ld.n_msgs > 0 || ld.oom;
	hand_over(&ld, diag);
	free(ld.inst);
	cfg_scan_free(&sc);
	if (bad) {
		cfg_free(ld.cfg);
		return NULL;
	}
	return ld.cfg;
}

const struct cfg_inst *cfg_inst_of(const struct cfg_ld *ld, const void *elem)
{
	for (size_t i = 0; i < ld->n_inst; i++)
		if (ld->inst[i].schema && ld->inst[i].elem == elem)
			return &ld->inst[i];
	return NULL;
}

unsigned cfg_key_line(const struct cfg_ld *ld, const void *elem, const char *key)
{
	const struct cfg_inst *in = cfg_inst_of(ld, elem);

	if (!in)
		return 0;
	if (key) {
		const struct cfg_key *k = cfg_schema_key(in->schema, key);
		if (k && in->key_line[k - in->schema->keys])
			return in->key_line[k - in->schema->keys];
	}
	return in->sec->line;
}

bool cfg_key_ok(const struct cfg_ld *ld, const void *elem, const char *key)
{
	const struct cfg_inst *in = cfg_inst_of(ld, elem);
	const struct cfg_key *k;

	if (!in)
		return true;
	k = cfg_schema_key(in->schema, key);
	return !k || !in->key_bad[k - in->schema->keys];
}

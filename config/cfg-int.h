/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-int: the schema that drives loading, checking, printing, comparing, freeing and
 * documenting tidal.ini, and the loader's private state. Private to config/ (and to the
 * docs generator, which prints the same table).
 *
 * Owns nothing at file scope; the schema table is constant. Never included from outside
 * config/.
 */
#ifndef TIDAL_CONFIG_CFG_INT_H
#define TIDAL_CONFIG_CFG_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

enum cfg_type {
	CT_NAME,          /* char[CFG_NAME_MAX]: lower-case letters, digits, '-' */
	CT_PATH,          /* char[size]: file or socket path, stored absolute */
	CT_IFNAME,        /* char[CFG_IFNAME_MAX]: a network interface name */
	CT_UINT,          /* uint32_t, unsigned or uint64_t (by size) in [min, max] */
	CT_BPS,           /* uint64_t bits per second */
	CT_BYTES,         /* uint64_t bytes */
	CT_DURATION,      /* uint64_t milliseconds */
	CT_PERCENT,       /* double fraction */
	CT_DOUBLE,        /* double in [min, max] (or (min, max) with CK_OPEN) */
	CT_BOOL,          /* bool */
	CT_HOSTPORT,      /* struct cfg_hostport */
	CT_TIME,          /* int64_t UTC seconds */
	CT_LOGLEVEL,      /* enum tlog_level */
	CT_BACKEND,       /* enum cfg_backend */
	CT_MATCH,         /* struct cfg_match */
	CT_DURATION_LIST, /* uint64_t *, size_t count */
	CT_QUANTILE_LIST, /* double *, size_t count: each in (0,1), ascending */
	CT_NAME_LIST,     /* char (*)[CFG_NAME_MAX], size_t count */
	CT_IFNAME_LIST,   /* char (*)[CFG_IFNAME_MAX], size_t count */
	CT_MODELS,        /* char[size]: "auto" or a comma list of model names */
};

enum cfg_key_flags {
	CK_REQUIRED = 1u << 0,  /* no default: the key must be given */
	CK_EMPTY_OK = 1u << 1,  /* an empty value is allowed (and printing skips it) */
	CK_OPEN = 1u << 2,      /* CT_DOUBLE: min and max themselves are excluded */
	CK_OMIT_ZERO = 1u << 3, /* zero means "not set": printing skips it */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned flags;
	const char *def;     /* default as the text a user would write; "{name}" = region name */
	const char *def_doc; /* what docs/config.md shows when def is NULL (e.g. "capacity") */
	const char *doc;
	size_t off;       /* field offset in the section's struct */
	size_t size;      /* field size */
	size_t count_off; /* lists: offset of the size_t count */
	double min, max;  /* CT_UINT, CT_DOUBLE, CT_DURATION (ms), CT_PERCENT (fraction) */
};

struct cfg_section {
	const char *name; /* "region", or the kind of a named section: "peer" for [peer.NAME] */
	bool named;
	bool required;
	const char *doc;
	const char *example; /* named sections: an example name for the docs */
	const struct cfg_key *keys;
	size_t n_keys;
	size_t off;         /* singleton: struct offset in tidal_cfg; named: array pointer */
	size_t count_off;   /* named: size_t count in tidal_cfg */
	size_t elem_size;   /* named: element size */
	size_t name_off;    /* named: char name[CFG_NAME_MAX] in the element */
	size_t present_off; /* singleton with an "enabled" flag set when present, else 0 */
};

extern const struct cfg_section cfg_schema[];
extern const size_t cfg_schema_len;

const struct cfg_section *cfg_schema_section(const char *kind);
const struct cfg_key *cfg_schema_key(const struct cfg_section *s, const char *name);
/* Short description of a type for the docs ("bandwidth", "duration", ...). */
const char *cfg_type_doc(const struct cfg_key *k);

/* Free the lists inside one section struct (not the struct). */
void cfg_section_free_fields(const struct cfg_section *s, void *elem);

/* Edit distance with transpositions (optimal string alignment), capped at 100. */
unsigned cfg_edit_distance(const char *a, const char *b);
/* The candidate closest to word when it is close enough to be a likely typo, else NULL. */
const char *cfg_suggest(const char *word, const char *const *cands, size_t n);

/* ---- file scan: where each section and key is, what iniparser will make of it ---------- */

struct cfg_scan_key {
	char *name; /* lower-cased, as iniparser stores it */
	unsigned line;
	bool unreadable; /* on a line iniparser refuses (reported already): no value */
};

struct cfg_scan_sec {
	char *raw;  /* as written between the brackets, blanks stripped */
	char *name; /* lower-cased, as iniparser stores it; "" for keys before any section */
	unsigned line;
	struct cfg_scan_key *keys;
	size_t n_keys;
};

/* A line iniparser would refuse, and what it is given to read instead. */
struct cfg_scan_fix {
	unsigned line;
	char *text; /* NULL: the line becomes a comment */
};

struct cfg_scan {
	struct cfg_scan_sec *secs;
	size_t n_secs;
	struct cfg_scan_fix *fixes; /* ascending by line */
	size_t n_fixes;
	bool bom;      /* the file starts with a UTF-8 byte order mark (reported already) */
	bool sanitize; /* iniparser needs a copy without the bad lines and the BOM */
	unsigned n_lines;
};

/* ---- loader state ------------------------------------------------------------------- */

struct cfg_msg {
	unsigned line;
	size_t seq;
	char *text;
};

struct cfg_ld {
	const char *file; /* as the caller named it: messages use this */
	char dir[CFG_PATH_MAX]; /* absolute folder of the file */
	struct cfg_msg *msgs;
	size_t n_msgs, cap_msgs;
	bool oom;
	struct tidal_cfg *cfg;
	/* for each scanned section: its schema and struct, and the line of each key */
	struct cfg_inst *inst;
	size_t n_inst;
};

#define CFG_MAX_KEYS 16

struct cfg_inst {
	const struct cfg_section *schema; /* NULL: unknown or rejected section */
	struct cfg_scan_sec *sec;
	void *elem;
	unsigned key_line[CFG_MAX_KEYS]; /* 0: key not given */
	bool key_bad[CFG_MAX_KEYS];      /* missing or rejected: the checks skip it */
};

int cfg_scan_file(struct cfg_ld *ld, const char *path, struct cfg_scan *scan);
void cfg_scan_free(struct cfg_scan *scan);

/* A message "FILE:LINE: where: text" (no LINE when line is 0, no where when NULL). */
void cfg_err(struct cfg_ld *ld, unsigned line, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parse one value into its field; reports problems itself. where = "section.key". */
void cfg_parse_value(struct cfg_ld *ld, const struct cfg_key *k, void *elem, const char *val,
		     unsigned line, const char *where);

/* Lexically clean an absolute path in place: no "//", "." or "..", no trailing '/'. */
void cfg_clean_path(char *p);

/* NULL when s is a valid object name, else a message (written to buf) saying why not. */
const char *cfg_name_problem(const char *s, char *buf, size_t len);

/* Cross-reference and consistency checks over the whole loaded tree. */
void cfg_check(struct cfg_ld *ld);

/* The instance of a named section element / of a singleton, for line lookups. */
const struct cfg_inst *cfg_inst_of(const struct cfg_ld *ld, const void *elem);
unsigned cfg_key_line(const struct cfg_ld *ld, const void *elem, const char *key);
/* False when the key was missing or rejected (so checks on it would only add noise). */
bool cfg_key_ok(const struct cfg_ld *ld, const void *elem, const char *key);

#endif

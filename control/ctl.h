/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl: the control socket of tidald (docs/control.md).
 *
 * A UNIX stream socket (mode 0660) carrying newline-delimited JSON. A request is
 *     {"cmd": "show links", "args": ["pos1", ...], "opts": {"horizon": "24h", ...}}
 * and every request gets exactly one response line:
 *     {"ok": true, "data": <command specific>, "table": {"columns": [...], "rows": [[...]]},
 *      "text": "optional free text shown before the table"}
 *     {"ok": false, "code": "refused"|"usage"|"not_found"|"internal", "error": "message"}
 * `data` is what `tidalctl -j` prints; `table`/`text` is what people read. Handlers build
 * both, so tidalctl renders every command the same way and needs no per-command code.
 *
 * Modules register their commands at start (and never need to unregister: the server
 * lives as long as the daemon).
 */
#ifndef TIDAL_CONTROL_CTL_H
#define TIDAL_CONTROL_CTL_H

#include <jansson.h>

struct tidald;

/* Result codes of a handler, mapped onto the wire "code" and tidalctl's exit status. */
enum ctl_status {
	CTL_OK = 0,
	CTL_REFUSED,   /* a valid request the daemon declined (tidalctl exit 1) */
	CTL_USAGE,     /* bad arguments (tidalctl exit 2) */
	CTL_NOT_FOUND, /* unknown class, lease, peer ... (tidalctl exit 1) */
	CTL_INTERNAL,  /* something broke inside the daemon (tidalctl exit 1) */
};

struct ctl_request {
	const char *cmd;   /* e.g. "show links" */
	json_t *args;      /* array of strings, never NULL */
	json_t *opts;      /* object of option name -> string (or true for flags), never NULL */
};

struct ctl_reply {
	json_t *data;  /* set by the handler (owned reference), or NULL */
	json_t *table; /* from ctl_table_new(), or NULL */
	char *text;    /* malloc'd, or NULL */
	char *error;   /* malloc'd message when the status is not CTL_OK */
	/* Not done yet (owned reference, or NULL): {"cmd", "args", "opts", "after_ms"}, the
	 * request a waiting client sends next, after_ms later, until a reply has no poll
	 * (docs/control.md, "Waiting"). */
	json_t *poll;
};

typedef enum ctl_status (*ctl_handler_fn)(struct tidald *d, void *arg,
					  const struct ctl_request *req, struct ctl_reply *rep);

/* Register `cmd` (e.g. "show counters"). Returns 0 or -EEXIST. */
int ctl_register(struct tidald *d, const char *cmd, ctl_handler_fn fn, void *arg,
		 const char *help);

/* Helpers for handlers. */
enum ctl_status ctl_fail(struct ctl_reply *rep, enum ctl_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_t *ctl_table_new(const char *const *columns, size_t n);
/* Append a row of n strings (NULL becomes "-"). */
void ctl_table_add(json_t *table, const char *const *cells, size_t n);
/* Option value as a string, or NULL when absent. */
const char *ctl_opt(const struct ctl_request *req, const char *name);
/* Positional argument i, or NULL. */
const char *ctl_arg(const struct ctl_request *req, size_t i);

#endif

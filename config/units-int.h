/* SPDX-License-Identifier: Apache-2.0 */
/*
 * units-int: helpers shared by the units parsers and the config loader, private to config/.
 *
 * Owns nothing. Never included from outside config/ (the public surface is units.h).
 */
#ifndef TIDAL_CONFIG_UNITS_INT_H
#define TIDAL_CONFIG_UNITS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "units.h"

/* Like cfg_parse_prefix; with allow_host_bits the host bits are cleared instead of being an
 * error, so that the loader can suggest the prefix that was probably meant. */
int units_parse_prefix(const char *s, struct cfg_prefix *p, bool allow_host_bits,
		       const char **why);

/* The DSCP names cfg_parse_dscp knows (for "did you mean" suggestions); NULL-terminated. */
extern const char *const units_dscp_names[];

/* Skip leading and trailing blanks (space, tab): *start and *len describe what is left. */
void units_trim(const char *s, const char **start, size_t *len);

/* Shortest decimal text ("%.Nf" or "%.17g") that strtod reads back to exactly v. */
char *units_fmt_double(double v, char *buf, size_t len);

#endif

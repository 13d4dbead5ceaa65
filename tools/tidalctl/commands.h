/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands: what tidalctl knows about each command, to check a command line before it is
 * sent (usage errors exit 2 without needing the daemon) and to print usage.
 */
#ifndef TIDAL_TOOLS_TIDALCTL_COMMANDS_H
#define TIDAL_TOOLS_TIDALCTL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_MAX_OPTS 12

struct ctl_opt_spec {
	const char *name;   /* long name, without dashes */
	char short_name;    /* e.g. 'o' for -o, or 0 */
	bool takes_value;
	bool required;
	bool is_path;       /* made absolute before sending: the daemon has another cwd */
};

struct ctl_cmd_spec {
	const char *words;      /* "show counters" */
	unsigned min_args;
	unsigned max_args;
	int path_arg;           /* index of a positional argument that is a file, or -1 */
	const char *synopsis;   /* arguments and options, for usage */
	const char *help;
	struct ctl_opt_spec opts[CTL_MAX_OPTS];
};

extern const struct ctl_cmd_spec tidalctl_commands[];
extern const size_t tidalctl_n_commands;

#endif

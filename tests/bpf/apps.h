/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apps: build struct cfg_app arrays for the BPF tests from short match specs, e.g.
 *     "video: dst 198.51.100.0/24, dst 2001:db8::/48, src 10.0.0.0/8, dscp af41"
 * with the config's own parsers (config/units.h). The config loader is tested elsewhere; these tests need apps as the
 * loader hands them over, built without a config file. apps_free() releases the lot.
 */
#ifndef TIDAL_TESTS_BPF_APPS_H
#define TIDAL_TESTS_BPF_APPS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

static inline void apps_free(struct cfg_app *apps, size_t n)
{
	if (!apps)
		return;
	for (size_t i = 0; i < n; i++) {
		free(apps[i].match.dst);
		free(apps[i].match.src);
		free(apps[i].match.dscp);
	}
	free(apps);
}

/* Parse specs[0..n); exits the test program on a malformed spec (a bug in the test). */
static inline struct cfg_app *apps_make(const char *const *specs, size_t n)
{
	struct cfg_app *apps = calloc(n ? n : 1, sizeof(*apps));

	for (size_t i = 0; i < n; i++) {
		struct cfg_app *a = &apps[i];
		const char *colon = strchr(specs[i], ':');
		char *rest, *tok, *save = NULL;

		if (!colon || (size_t)(colon - specs[i]) >= sizeof(a->name)) {
			fprintf(stderr, "bad app spec %s\n", specs[i]);
			exit(2);
		}
		memcpy(a->name, specs[i], (size_t)(colon - specs[i]));
		a->match.dst = calloc(64, sizeof(struct cfg_prefix));
		a->match.src = calloc(64, sizeof(struct cfg_prefix));
		a->match.dscp = calloc(64, 1);
		rest = strdup(colon + 1);
		for (tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char kind[8], val[64];

			if (sscanf(tok, " %7s %63s", kind, val) != 2)
				continue;
			if (!strcmp(kind, "dst") && a->match.n_dst < 64 &&
			    cfg_parse_prefix(val, &a->match.dst[a->match.n_dst], NULL) == 0)
				a->match.n_dst++;
			else if (!strcmp(kind, "src") && a->match.n_src < 64 &&
				 cfg_parse_prefix(val, &a->match.src[a->match.n_src], NULL) == 0)
				a->match.n_src++;
			else if (!strcmp(kind, "dscp") && a->match.n_dscp < 64 &&
				 cfg_parse_dscp(val, &a->match.dscp[a->match.n_dscp], NULL) == 0)
				a->match.n_dscp++;
			else {
				fprintf(stderr, "bad match %s in %s\n", tok, specs[i]);
				exit(2);
			}
		}
		free(rest);
	}
	return apps;
}

#endif

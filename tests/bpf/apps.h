/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apps: build struct cfg_app arrays for the BPF tests from short match specs, e.g.
 *     "video: dst 198.51.100.0/24, dst 2001:db8::/48, src 10.0.0.0/8, dscp 34"
 * (DSCP as numbers). The config loader is tested elsewhere; these tests need apps as the
 * loader hands them over, built without a config file. apps_free() releases the lot.
 */
#ifndef TIDAL_TESTS_BPF_APPS_H
#define TIDAL_TESTS_BPF_APPS_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

static inline int apps_prefix(const char *s, struct cfg_prefix *p)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = 0;
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, a, p->addr) == 1) {
		p->family = AF_INET;
		p->len = slash ? (uint8_t)atoi(slash + 1) : 32;
	} else if (inet_pton(AF_INET6, a, p->addr) == 1) {
		p->family = AF_INET6;
		p->len = slash ? (uint8_t)atoi(slash + 1) : 128;
	} else {
		return -1;
	}
	return 0;
}

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
			    apps_prefix(val, &a->match.dst[a->match.n_dst]) == 0)
				a->match.n_dst++;
			else if (!strcmp(kind, "src") && a->match.n_src < 64 &&
				 apps_prefix(val, &a->match.src[a->match.n_src]) == 0)
				a->match.n_src++;
			else if (!strcmp(kind, "dscp") && a->match.n_dscp < 64)
				a->match.dscp[a->match.n_dscp++] = (uint8_t)atoi(val);
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo_int: what the scenario loader's files share (topo.c: INI sections and resolution;
 * trace.c: CSV traces and OD matrices; synth.c: synthetic scenarios). Private to tidal-sim.
 */
#ifndef TIDAL_SIM_TOPO_INT_H
#define TIDAL_SIM_TOPO_INT_H

#include <iniparser.h>

#include "sim.h"
#include "units.h"

struct ld {
	const char *ini;
	dictionary *d;
	struct sim_scenario *s;
	const struct sim_load_opts *o;
	char *err;
	size_t errlen;
	double days;
	size_t cap_regions, cap_links, cap_pools, cap_cls;
	/* class defaults */
	unsigned def_prio;
	double def_slo, def_head, def_weight;
};

/* Error "INI: message", returns -EINVAL. */
int ld_fail(struct ld *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ld_grow(void **arr, size_t *cap, size_t need, size_t elem);
const char *ld_get(struct ld *l, const char *sec, const char *key);
/* Every key of the section is one of allowed (NULL-terminated), else an error. */
int ld_check_keys(struct ld *l, const char *sec, const char *const *allowed);
/* Optional typed keys: absent leaves *out alone; a bad value is an error. */
int ld_get_dur(struct ld *l, const char *sec, const char *key, uint32_t *out);
int ld_get_pct(struct ld *l, const char *sec, const char *key, double *out);
int ld_get_double(struct ld *l, const char *sec, const char *key, double lo, double hi,
                  double *out);
int ld_get_uint(struct ld *l, const char *sec, const char *key, uint64_t lo, uint64_t hi,
                uint64_t *out);
int ld_get_qty(struct ld *l, const char *sec, const char *key, enum alloc_kind k, uint64_t *out);
int ld_parse_list(struct ld *l, const char *sec, const char *key, double *out, size_t max,
                  size_t *n, bool dur);
int ld_parse_kind(const char *v, enum alloc_kind *k);
/* Region index by name (added when new), or -ENOMEM. */
int ld_region(struct ld *l, const char *name);
/* A class with the [defaults] policy and a zeroed demand array, or NULL. */
struct sim_class *ld_new_class(struct ld *l, const char *name);
/* The link from -> to (added when new), or NULL. */
struct sim_link *ld_new_link(struct ld *l, int from, int to);

int ld_load_class(struct ld *l, const char *sec);
int ld_load_od(struct ld *l);
int ld_load_synthetic(struct ld *l);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_int: what alloc.c (cycle, blocks, actions, reasons) and alloc_fill.c (water-filling,
 * transit paths) share. Private to the controller.
 */
#ifndef TIDAL_CONTROL_ALLOC_INT_H
#define TIDAL_CONTROL_ALLOC_INT_H

#include "alloc.h"

/* Per class, for the block being planned. Quantities in base units. */
struct alloc_cs {
	double need;      /* clipped need over [eff, bend): what new leases must cover */
	double need_keep; /* over [max(now, bstart), bend): what held leases still cover */
	double quantile;  /* raw quantile (before headroom), -1 when not from a forecast */
	double basis;     /* what the need came from: quantile or measured rate */
	double spread;    /* nowcast: the forecast's SLO quantile / median applied to it */
	int64_t eff;      /* earliest instant a new direct lease can start */
	int64_t cover;    /* held and kept (not surplus, not preempted) + granted this cycle */
	int64_t held;     /* everything held before this cycle (kept + surplus candidates) */
	int64_t granted;  /* requested this cycle */
	int last_kept;    /* releasable lease that straddles the need, or -1 */
	bool decide;      /* the class plans this block */
	uint8_t src;      /* NEED_* */
	bool clipped_min, clipped_max;
	bool short_direct;  /* the direct resource could not cover the deficit */
	char need_txt[144]; /* the need in words, built on first use in the block */
};

enum {
	NEED_FORECAST = 0, /* the SLO quantile of the forecast */
	NEED_NOWCAST,      /* the block in progress: the measured rate, above the forecast */
	NEED_MEASURED,     /* no forecast covers the block: the measured rate */
	NEED_MINRATE,      /* nothing known: min_rate */
};

/* Flags per reservation and block. */
enum {
	RF_OVERLAP = 1,    /* uses capacity in the block */
	RF_COVER = 2,      /* covers its class's decided window */
	RF_RELEASABLE = 4, /* one of the controller's leases, inside the block */
	RF_SURPLUS = 8,    /* beyond the need: decided at the end */
};

struct alloc {
	char err[256];
	struct alloc_plan plan;
	const struct alloc_input *in;
	struct alloc_params p;

	/* actions */
	size_t cap_req, cap_rel;

	/* per run */
	int *direct;       /* [n_cls] direct resource or -1 */
	uint32_t *lead;    /* [n_cls] lead of the direct path (or of the class's region) */
	int *pairmap;      /* [n_regions^2] bandwidth resource owner -> to, or -1 */
	size_t *adj_start; /* [n_regions + 1] CSR of outgoing bandwidth resources */
	int *adj;
	size_t *order; /* classes by (priority, direct resource) */
	size_t lvl_start[ALLOC_PRIO_LEVELS + 1];
	size_t *rorder; /* reservations by hold priority, input order inside */
	size_t rlvl_start[ALLOC_PRIO_LEVELS + 1];
	size_t *cres_start; /* [n_cls + 1] CSR of each class's reservations (direct first) */
	size_t *cres;
	bool *gone;   /* [n_resv] released or preempted earlier in this cycle */
	bool *viewed; /* [n_cls] view filled */

	/* per block */
	int64_t bstart, bend;
	size_t block;
	int64_t *free;       /* [n_res] capacity minus what is planned, may be < 0 */
	int *taker;          /* [n_res] last class granted capacity, or -1 */
	uint8_t *taker_lvl;  /* [n_res] its level (ALLOC_PRIO_LEVELS = none) */
	struct alloc_cs *cs; /* [n_cls] */
	uint8_t *rf;         /* [n_resv] RF_* */

	/* fill scratch */
	size_t *grp; /* class indices */
	double *x, *w, *d;
	size_t cap_grp;
	int *rmark;        /* [n_res] local index in a transit round, or -1 */
	double *rcap, *rw; /* per local resource */
	int *rlocal;       /* local index -> resource */
	size_t cap_rres;
	int *tpath; /* [cap_grp * ALLOC_MAX_HOPS] */
	unsigned *tn;
	int *dp_pred; /* widest-path DP: [(max_hops + 1) * n_regions] predecessor res */
	int64_t *dp_best;
};

/* A bounded string builder (alloc_text.c). */
struct alloc_sb {
	char *p;
	size_t len, cap;
};

void alloc_sb_init(struct alloc_sb *b, char *buf, size_t cap);
void alloc_sb_mem(struct alloc_sb *b, const char *s, size_t n);
void alloc_sb_s(struct alloc_sb *b, const char *s);
void alloc_sb_u(struct alloc_sb *b, uint64_t v);
void alloc_sb_num3(struct alloc_sb *b, double v);                   /* three significant digits */
void alloc_sb_qty(struct alloc_sb *b, enum alloc_kind k, double v); /* "2.31Gbit/s" */
void alloc_sb_hm(struct alloc_sb *b, int64_t t);                    /* "11:00Z" */
void alloc_sb_dur(struct alloc_sb *b, uint32_t s);                  /* "1h30m" */
void alloc_sb_path(struct alloc_sb *b, const struct alloc *a, const int *hops, unsigned n);
int alloc_text(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
char *alloc_fmt_hm(int64_t t, char *buf, size_t len);
/* "need 2.31Gbit/s in 11:00Z-12:00Z (p95 2.1Gbit/s +10% headroom)", once per class and block */
const char *alloc_need_text(struct alloc *a, size_t c);

/* alloc_check.c */
int alloc_check_input(struct alloc *a, const struct alloc_input *in);
int alloc_setup(struct alloc *a, const struct alloc_input *in);

/* alloc.c */
int alloc_fail(struct alloc *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void alloc_free_scratch(struct alloc *a);
/* "2.31Gbit/s", "12 vCPU", "1.5GiB" */
char *alloc_fmt_qty(enum alloc_kind k, double v, char *buf, size_t len);
uint64_t alloc_quantum(const struct alloc *a, int res);
/* Lead of a path for class c: the largest hop lead, plus lease_lead_s for hops that another
 * region provides. */
uint32_t alloc_path_lead(const struct alloc *a, size_t c, const int *hops, unsigned n);
/* Record a granted request (rounded quantity q > 0) and take it from every hop. */
int alloc_grant(struct alloc *a, size_t c, const int *hops, unsigned n, uint64_t q, uint64_t wanted,
                bool transit, const char *why);

/* alloc_fill.c: the level's deficits, direct resources then transit. */
int alloc_fill_level(struct alloc *a, unsigned level);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc: load, attach and drive tidal's BPF programs on one interface (docs/bpf.md).
 *
 * A handle stands for one interface: the classify programs at tc ingress (or XDP) and tc
 * egress, or the pacing program at tc egress (then with an fq root qdisc), and one set of
 * maps pinned under PIN_ROOT/<ifname>/ so that counters and rates outlive the process.
 * Pins are per interface name on the whole host (bpffs is not per network namespace):
 * daemons in several namespaces must use distinct interface names; pins left by a
 * namespace that no longer exists are recreated.
 * Opening is idempotent: pinned maps are adopted (counters continue), freshly loaded
 * programs replace tidal's previous filters atomically (no gap in counting or pacing),
 * hooks not asked for are removed. Closing leaves everything attached and pinned unless
 * asked to detach.
 *
 * Owns its libbpf objects and file descriptors; never touches tc filters, XDP programs or
 * qdiscs that are not tidal's (an fq already on the interface is used as it is). Not
 * thread-safe: one handle, one thread.
 */
#ifndef TIDAL_BPF_BPFC_H
#define TIDAL_BPF_BPFC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "tidal_bpf.h"

#define BPFC_PIN_ROOT "/sys/fs/bpf/tidal"

/* tc filter identity: tidal's filters sit at this priority and handle on both hooks. */
#define BPFC_TC_PRIORITY 1
#define BPFC_TC_HANDLE 0x7464

enum bpfc_hook {
	BPFC_HOOK_TC_IN = 1 << 0,  /* tc clsact ingress: count (dir in) */
	BPFC_HOOK_TC_OUT = 1 << 1, /* tc clsact egress: count (dir out), pace if params.pace */
	BPFC_HOOK_XDP = 1 << 2,    /* XDP: count (dir in), instead of BPFC_HOOK_TC_IN */
};

enum bpfc_xdp_mode {
	BPFC_XDP_AUTO = 0, /* native when the driver supports it, else generic */
	BPFC_XDP_GENERIC,
	BPFC_XDP_NATIVE,
};

enum bpfc_pace_mode {
	BPFC_PACE_AUTO = 0, /* EDT with fq; HTB classes when the kernel has no sch_fq */
	BPFC_PACE_EDT,
	BPFC_PACE_HTB,
};

enum bpfc_prog {
	BPFC_PROG_CLS_IN = 0,
	BPFC_PROG_CLS_OUT,
	BPFC_PROG_CLS_XDP,
	BPFC_PROG_PACE_OUT,
	BPFC_PROG_MAX,
};

struct bpfc_params {
	/* Interface to attach to; NULL loads the programs without attaching (tests). */
	const char *ifname;
	/* Pin folder root: NULL means BPFC_PIN_ROOT, "" means do not pin. */
	const char *pin_root;
	unsigned hooks; /* enum bpfc_hook bits; tidal's other hooks on ifname are removed */
	bool pace;      /* egress runs the pacer (and an fq or HTB root qdisc is ensured) */
	enum bpfc_pace_mode pace_mode;
	enum bpfc_xdp_mode xdp_mode;
	/* Classes to make room for, class 0 included (0: TIDAL_CLASSES_MIN). Pinned maps
	 * that are too small are recreated, which restarts their counters. */
	uint32_t classes;
	uint64_t horizon_ns; /* pacing horizon; 0: TIDAL_HORIZON_NS_DEFAULT */
};

enum bpfc_attach {
	BPFC_ATTACH_NONE = 0,
	BPFC_ATTACH_TCX, /* a tcx link (kernels with tcx) */
	BPFC_ATTACH_TC,  /* a cls_bpf filter on clsact */
	BPFC_ATTACH_XDP,
};

struct bpfc_counter {
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops;
};

struct bpfc;

/* Load (or adopt) and attach. Returns 0 and *out, or a negative errno after logging what
 * failed and what to do (-ENODEV no such interface, -EPERM not root / no CAP_BPF,
 * -ENOTSUP bpffs not mounted, -EBUSY another XDP program is attached). */
int bpfc_open(const struct bpfc_params *p, struct bpfc **out);
/* detach: remove tidal's filters and XDP program, the fq qdisc it added, and the pins.
 * Otherwise everything stays attached and pinned for the next bpfc_open. NULL is a no-op. */
void bpfc_close(struct bpfc *b, bool detach);
/* Remove tidal from ifname without a handle (cleanup, `tidald` shutdown in another
 * process): filters, XDP program, fq added by tidal, pins. Returns 0 or a negative errno;
 * a missing interface or missing pins are not errors. */
int bpfc_detach(const char *ifname, const char *pin_root);

/* How tidal is attached to ifname's ingress or egress now, and which program
 * (prog: at least 16 bytes, "" when none). */
enum bpfc_attach bpfc_attached(const char *ifname, bool ingress, char *prog);

/* Install apps[0..n) as classes 1..n (class model: bpfc_tables.h, docs/bpf.md). A class
 * whose app name changed since the last install (or the last tidald) has its counters,
 * rate and pacing state reset. -ENOSPC when n + 1 exceeds the room given at open. */
int bpfc_install_classes(struct bpfc *b, const struct cfg_app *apps, size_t n);
/* Classes installed, class 0 included (1 before any install). */
size_t bpfc_n_classes(const struct bpfc *b);
/* Room for classes (class 0 included). */
size_t bpfc_capacity(const struct bpfc *b);

/* Read the counters of classes [0, n) summed over all possible CPUs, out[c * TIDAL_DIRS +
 * dir]; n is at most bpfc_capacity(). No syscall: the counters are mapped into memory. */
int bpfc_read_counters(struct bpfc *b, struct bpfc_counter *out, size_t n);
/* Events (enum tidal_event) per direction, summed over CPUs. */
int bpfc_read_events(struct bpfc *b, uint64_t out[TIDAL_DIRS][TIDAL_EV_MAX]);
/* "truncated", "drop_horizon", ... or NULL. */
const char *bpfc_event_name(unsigned ev);
/* Is this event a drop reason? */
bool bpfc_event_is_drop(unsigned ev);

/* Pace class_id leaving this interface at bps bits per second (0: unpaced). Takes effect
 * with the next packet. -ENOENT for a class beyond bpfc_capacity(). */
int bpfc_set_rate(struct bpfc *b, uint32_t class_id, uint64_t bps);
int bpfc_get_rate(struct bpfc *b, uint32_t class_id, uint64_t *bps);

const char *bpfc_ifname(const struct bpfc *b);
/* TIDAL_PACE_EDT or TIDAL_PACE_HTB: how this handle's pacer holds packets back. */
enum tidal_pace_mode bpfc_pace_mode(const struct bpfc *b);
/* Program fd for bpf_prog_test_run_opts (tests, benchmarks), or -1. */
int bpfc_prog_fd(const struct bpfc *b, enum bpfc_prog which);
/* Map fd by map name ("tidal_counters", ...), or -1. */
int bpfc_map_fd(const struct bpfc *b, const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc: loader and driver of tidal's BPF programs on one interface (see bpfc.h).
 *
 * Load order: the classify object creates (or adopts from the pins) every map; the pace
 * object reuses the classify object's map fds, so both programs count into the same
 * counters. Programs are always loaded fresh and swapped in with BPF_TC_F_REPLACE at
 * tidal's own tc priority/handle: a restart or upgrade never leaves a hook empty.
 *
 * Owns: the two skeletons, a scratch buffer for batched counter reads. Never exits; every
 * failure is logged with the interface and what to do, and returned as -errno.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <dirent.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/magic.h>

#include "bpfc.h"
#include "bpfc_int.h"
#include "bpfc_tables.h"
#include "log.h"

#include "classify.skel.h"
#include "pace.skel.h"

static const char *const event_names[TIDAL_EV_MAX] = {
	[TIDAL_EV_NON_IP] = "non_ip",
	[TIDAL_EV_TRUNCATED] = "truncated",
	[TIDAL_EV_BAD_HEADER] = "bad_header",
	[TIDAL_EV_VLAN_DEPTH] = "vlan_depth",
	[TIDAL_EV_VLAN] = "vlan",
	[TIDAL_EV_FRAGMENT] = "fragment",
	[TIDAL_EV_IPV6_EXT] = "ipv6_ext",
	[TIDAL_EV_IPV6_EXT_LIMIT] = "ipv6_ext_limit",
	[TIDAL_EV_PACED] = "paced",
	[TIDAL_EV_DROP_HORIZON] = "drop_horizon",
	[TIDAL_EV_TSTAMP_ERR] = "tstamp_error",
};

const char *bpfc_event_name(unsigned ev)
{
	return ev < TIDAL_EV_MAX ? event_names[ev] : NULL;
}

bool bpfc_event_is_drop(unsigned ev)
{
	return ev == TIDAL_EV_DROP_HORIZON;
}

/* The maps every object shares, in the order they are pinned. */
static const char *const map_names[] = {
	"tidal_dst4",     "tidal_dst6",   "tidal_src4",  "tidal_src6",
	"tidal_classes",  "tidal_names",  "tidal_counters", "tidal_events",
	"tidal_rates",    "tidal_pace",   "tidal_meta",
};
#define N_MAPS (sizeof(map_names) / sizeof(map_names[0]))

static const char *const prog_pin_names[BPFC_PROG_MAX] = {
	[BPFC_PROG_CLS_IN] = "prog_cls_in",
	[BPFC_PROG_CLS_OUT] = "prog_cls_out",
	[BPFC_PROG_CLS_XDP] = "prog_cls_xdp",
	[BPFC_PROG_PACE_OUT] = "prog_pace_out",
};

static struct bpf_program *prog_of(const struct bpfc *b, enum bpfc_prog which)
{
	switch (which) {
	case BPFC_PROG_CLS_IN:
		return b->cls->progs.tidal_cls_in;
	case BPFC_PROG_CLS_OUT:
		return b->cls->progs.tidal_cls_out;
	case BPFC_PROG_CLS_XDP:
		return b->cls->progs.tidal_cls_xdp;
	case BPFC_PROG_PACE_OUT:
		return b->pace->progs.tidal_pace_out;
	default:
		return NULL;
	}
}

int bpfc_prog_fd(const struct bpfc *b, enum bpfc_prog which)
{
	struct bpf_program *p = b ? prog_of(b, which) : NULL;

	return p ? bpf_program__fd(p) : -1;
}

int bpfc_map_fd(const struct bpfc *b, const char *name)
{
	struct bpf_map *m = b ? bpf_object__find_map_by_name(b->cls->obj, name) : NULL;

	return m ? bpf_map__fd(m) : -1;
}

const char *bpfc_ifname(const struct bpfc *b)
{
	return b->ifname;
}

enum tidal_pace_mode bpfc_pace_mode(const struct bpfc *b)
{
	return b->pace_mode;
}

size_t bpfc_n_classes(const struct bpfc *b)
{
	return b->n_classes;
}

size_t bpfc_capacity(const struct bpfc *b)
{
	return b->capacity;
}

static uint32_t round_classes(uint32_t n)
{
	uint32_t c = TIDAL_CLASSES_MIN;

	while (c < n && c < TIDAL_CLASSES_MAX)
		c <<= 1;
	return c;
}

/* ---- pins ----------------------------------------------------------------------------- */

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int check_bpffs(const char *root)
{
	char dir[PATH_MAX];
	struct statfs st;
	char *slash;

	/* The root folder may not exist yet: check the closest existing ancestor. */
	snprintf(dir, sizeof(dir), "%s", root);
	while (statfs(dir, &st) < 0) {
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return -ENOENT;
		*slash = 0;
	}
	if (st.f_type != BPF_FS_MAGIC) {
		log_err("bpf: %s is not on a BPF filesystem: mount it with "
			"`mount -t bpf bpf /sys/fs/bpf` (and run tidald where that mount is "
			"visible: `ip netns exec` hides it, use `nsenter --net=...`)",
			dir);
		return -ENOTSUP;
	}
	return 0;
}

/* Inode of this process's network namespace (0 if unknown): recorded with the pins, so
 * that pins left by a namespace that was deleted and made again (same interface name) are
 * not mistaken for this one's. */
static uint64_t netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Remove every pin in dir and the folder itself; missing pins are fine. */
static void unpin_all(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Decide whether the pins in dir can be adopted with at least `want` classes: returns
 * the capacity to use (>= want). Incompatible or too small pins are removed (their
 * counters restart), with a warning saying so. */
static uint32_t adopt_capacity(const char *dir, const char *ifname, uint32_t want, int ncpus)
{
	char path[PATH_MAX];
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info), key = 0;
	struct tidal_meta meta = {0};
	int fd, mfd;

	snprintf(path, sizeof(path), "%s/tidal_counters", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return want; /* nothing pinned yet */
	snprintf(path, sizeof(path), "%s/tidal_meta", dir);
	mfd = bpf_obj_get(path);
	if (mfd >= 0) {
		if (bpf_map_lookup_elem(mfd, &key, &meta) < 0)
			meta.abi = 0;
		close(mfd);
	}
	if (meta.abi == TIDAL_BPF_ABI && meta.netns && netns_ino() && meta.netns != netns_ino()) {
		log_warn("bpf: %s: pins in %s belong to an interface of this name in another "
			 "network namespace; recreating them (counters restart at zero)",
			 ifname, dir);
		close(fd);
		unpin_all(dir);
		return want;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || meta.abi != TIDAL_BPF_ABI ||
	    info.value_size != sizeof(struct tidal_ctr)) {
		log_warn("bpf: %s: pinned maps in %s are from another tidal version; "
			 "recreating them (counters restart at zero)",
			 ifname, dir);
		close(fd);
		unpin_all(dir);
		return want;
	}
	close(fd);
	if (info.max_entries / TIDAL_DIRS / (uint32_t)ncpus < want) {
		log_warn("bpf: %s: pinned maps hold %u classes, %u needed; recreating them "
			 "(counters restart at zero)",
			 ifname, info.max_entries / TIDAL_DIRS / (uint32_t)ncpus, want);
		unpin_all(dir);
		return want;
	}
	return info.max_entries / TIDAL_DIRS / (uint32_t)ncpus;
}

static int meta_get(int fd, struct tidal_meta *m)
{
	uint32_t key = 0;

	return bpf_map_lookup_elem(fd, &key, m) < 0 ? -errno : 0;
}

static int meta_put(int fd, const struct tidal_meta *m)
{
	uint32_t key = 0;

	return bpf_map_update_elem(fd, &key, m, BPF_ANY) < 0 ? -errno : 0;
}

static int pin_progs(struct bpfc *b)
{
	char path[PATH_MAX];

	for (int i = 0; i < BPFC_PROG_MAX; i++) {
		int err;

		snprintf(path, sizeof(path), "%s/%s", b->pin_dir, prog_pin_names[i]);
		unlink(path);
		err = bpf_program__pin(prog_of(b, (enum bpfc_prog)i), path);
		if (err) {
			log_err("bpf: %s: pinning %s: %s", b->ifname, path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* ---- open / close --------------------------------------------------------------------- */

/* report: log a failure (the first attempt over existing pins stays quiet, since bpfc_open
 * retries it with fresh maps). */
static int load(struct bpfc *b, const struct bpfc_params *p, bool report)
{
	uint64_t horizon = p->horizon_ns ? p->horizon_ns : TIDAL_HORIZON_NS_DEFAULT;
	struct bpf_map *m;
	char path[PATH_MAX];
	int err;

	b->cls = classify_bpf__open();
	b->pace = pace_bpf__open();
	if (!b->cls || !b->pace) {
		err = -errno;
		log_err("bpf: opening the embedded BPF objects: %s", strerror(-err));
		return err ? err : -ENOMEM;
	}
	bpf_map__set_max_entries(b->cls->maps.tidal_classes, b->capacity);
	bpf_map__set_max_entries(b->cls->maps.tidal_names, b->capacity);
	b->stride = b->capacity * TIDAL_DIRS;
	bpf_map__set_max_entries(b->cls->maps.tidal_counters, b->stride * (uint32_t)b->ncpus);
	b->cls->rodata->tidal_ctr_stride = b->stride;
	b->pace->rodata->tidal_ctr_stride = b->stride;
	bpf_map__set_max_entries(b->cls->maps.tidal_rates, b->capacity);
	bpf_map__set_max_entries(b->cls->maps.tidal_pace, b->capacity);
	if (b->pin_dir[0]) {
		for (size_t i = 0; i < N_MAPS; i++) {
			m = bpf_object__find_map_by_name(b->cls->obj, map_names[i]);
			snprintf(path, sizeof(path), "%s/%s", b->pin_dir, map_names[i]);
			if (!m || bpf_map__set_pin_path(m, path))
				return -EINVAL;
		}
	}
	err = classify_bpf__load(b->cls);
	if (err && !report)
		return err;
	if (err) {
		log_err("bpf: loading the classify program: %s%s", strerror(-err),
			err == -EPERM ? " (needs root or CAP_BPF+CAP_NET_ADMIN)" : "");
		return err;
	}
	/* The pacer uses the classify object's maps. */
	bpf_object__for_each_map(m, b->pace->obj)
	{
		struct bpf_map *cm;

		if (bpf_map__is_internal(m))
			continue;
		cm = bpf_object__find_map_by_name(b->cls->obj, bpf_map__name(m));
		if (!cm)
			return -EINVAL;
		bpf_map__set_max_entries(m, bpf_map__max_entries(cm));
		err = bpf_map__reuse_fd(m, bpf_map__fd(cm));
		if (err)
			return err;
	}
	b->pace->rodata->tidal_horizon_ns = horizon;
	b->pace->rodata->tidal_pace_mode = b->pace_mode;
	err = pace_bpf__load(b->pace);
	if (err) {
		log_err("bpf: loading the pacing program: %s", strerror(-err));
		return err;
	}
	b->ctrs_len = (size_t)b->stride * (size_t)b->ncpus * sizeof(struct tidal_ctr);
	b->ctrs = mmap(NULL, b->ctrs_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(b->cls->maps.tidal_counters), 0);
	if (b->ctrs == MAP_FAILED) {
		err = -errno;
		b->ctrs = NULL;
		log_err("bpf: mapping the counters: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* libbpf's messages go to tidal's log: warnings at debug level, since libbpf reports
 * as warnings what bpfc handles (an existing clsact qdisc, for one). */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	if (level == LIBBPF_DEBUG || tlog_get_level() < TLOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	log_debug("libbpf: %s", buf);
	return 0;
}

int bpfc_open(const struct bpfc_params *p, struct bpfc **out)
{
	const char *root = p->pin_root ? p->pin_root : BPFC_PIN_ROOT;
	struct tidal_meta meta = {0};
	struct bpfc *b;
	int err, mfd;

	*out = NULL;
	libbpf_set_print(libbpf_log); /* idempotent */
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0) {
		log_err("bpf: cannot count the possible CPUs: %s", strerror(-b->ncpus));
		err = b->ncpus ? b->ncpus : -EINVAL;
		free(b);
		return err;
	}
	b->capacity = round_classes(p->classes ? p->classes : TIDAL_CLASSES_MIN);
	if (p->ifname) {
		if (strlen(p->ifname) >= IF_NAMESIZE) {
			log_err("bpf: interface name %s is too long", p->ifname);
			free(b);
			return -EINVAL;
		}
		snprintf(b->ifname, sizeof(b->ifname), "%s", p->ifname);
		b->ifindex = (int)if_nametoindex(p->ifname);
		if (!b->ifindex) {
			log_err("bpf: interface %s does not exist in this network namespace",
				p->ifname);
			free(b);
			return -ENODEV;
		}
	}
	if (root[0] && p->ifname) {
		if ((err = check_bpffs(root)))
			goto fail;
		snprintf(b->pin_root, sizeof(b->pin_root), "%s", root);
		if (snprintf(b->pin_dir, sizeof(b->pin_dir), "%s/%s", root, b->ifname) >=
		    (int)sizeof(b->pin_dir)) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		if ((err = mkdir_p(b->pin_dir))) {
			log_err("bpf: creating %s: %s", b->pin_dir, strerror(-err));
			goto fail;
		}
		b->capacity = adopt_capacity(b->pin_dir, b->ifname, b->capacity, b->ncpus);
		mkdir_p(b->pin_dir); /* adopt_capacity may have removed it */
	}
	b->pace_mode = p->pace_mode == BPFC_PACE_HTB ? TIDAL_PACE_HTB : TIDAL_PACE_EDT;
	if (b->ifindex && p->pace && (p->hooks & BPFC_HOOK_TC_OUT) &&
	    (err = bpfc_ensure_release(b, p->pace_mode)))
		goto fail;
	err = load(b, p, !b->pin_dir[0]);
	if (err && err != -EINVAL && b->pin_dir[0])
		log_err("bpf: %s: loading the programs: %s%s", b->ifname, strerror(-err),
			err == -EPERM ? " (needs root or CAP_BPF+CAP_NET_ADMIN)" : "");
	if (err == -EINVAL && b->pin_dir[0]) {
		/* Pins that libbpf refused to reuse (a map of another shape): start afresh. */
		log_warn("bpf: %s: the maps pinned in %s do not fit these programs; recreating "
			 "them (counters restart at zero)",
			 b->ifname, b->pin_dir);
		if (b->ctrs)
			munmap(b->ctrs, b->ctrs_len);
		b->ctrs = NULL;
		pace_bpf__destroy(b->pace);
		classify_bpf__destroy(b->cls);
		b->pace = NULL;
		b->cls = NULL;
		unpin_all(b->pin_dir);
		if ((err = mkdir_p(b->pin_dir)) == 0)
			err = load(b, p, true);
	}
	if (err)
		goto fail;

	mfd = bpf_map__fd(b->cls->maps.tidal_meta);
	if ((err = meta_get(mfd, &meta)))
		goto fail;
	if (meta.abi != TIDAL_BPF_ABI) {
		meta.abi = TIDAL_BPF_ABI;
		meta.n_classes = 1;
	}
	meta.horizon_ns = p->horizon_ns ? p->horizon_ns : TIDAL_HORIZON_NS_DEFAULT;
	meta.flags |= b->release_flags;
	if (b->ifindex)
		meta.netns = netns_ino();
	if ((err = meta_put(mfd, &meta)))
		goto fail;
	b->n_classes = meta.n_classes ? meta.n_classes : 1;
	if (b->n_classes > b->capacity)
		b->n_classes = b->capacity;

	if (b->ifindex && (err = bpfc_hooks_attach(b, p)))
		goto fail;
	if (b->pin_dir[0] && (err = pin_progs(b)))
		goto fail;
	*out = b;
	return 0;
fail:
	if (b->release_flags) /* a root qdisc this failed open installed */
		bpfc_qdisc_root_delete(b->ifindex);
	bpfc_close(b, false);
	return err;
}

static void destroy(struct bpfc *b)
{
	if (b->ctrs)
		munmap(b->ctrs, b->ctrs_len);
	pace_bpf__destroy(b->pace);
	classify_bpf__destroy(b->cls);
	free(b);
}

void bpfc_close(struct bpfc *b, bool detach)
{
	if (!b)
		return;
	if (detach && b->ifindex)
		bpfc_detach(b->ifname, b->pin_dir[0] ? b->pin_root : "");
	destroy(b);
}

int bpfc_detach(const char *ifname, const char *pin_root)
{
	const char *root = pin_root ? pin_root : BPFC_PIN_ROOT;
	char dir[PIN_DIR_MAX], path[PATH_MAX];
	struct tidal_meta meta = {0};
	int err = 0, e, fd, ifindex;

	libbpf_set_print(libbpf_log);
	if (snprintf(dir, sizeof(dir), "%s/%s", root, ifname) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (root[0]) {
		snprintf(path, sizeof(path), "%s/tidal_meta", dir);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			meta_get(fd, &meta);
			close(fd);
		}
	}
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex) {
		err = bpfc_hooks_remove(ifname, ifindex, root[0] ? dir : "");
		if ((meta.flags & (TIDAL_META_FQ_INSTALLED | TIDAL_META_HTB_INSTALLED)) &&
		    (e = bpfc_qdisc_root_delete(ifindex)) && e != -ENOENT && e != -EINVAL)
			log_warn("bpf: %s: removing the root qdisc tidal installed: %s", ifname,
				 strerror(-e));
	}
	if (root[0])
		unpin_all(dir);
	return err;
}

/* ---- classes -------------------------------------------------------------------------- */

/* Forget what a class slot counted and enforced (it now belongs to another app). */
static int reset_class(struct bpfc *b, uint32_t id)
{
	struct tidal_pace_state ps = {0};
	int err = 0;

	for (int c = 0; c < b->ncpus; c++)
		memset(&b->ctrs[(size_t)c * b->stride + id * TIDAL_DIRS], 0,
		       TIDAL_DIRS * sizeof(struct tidal_ctr));
	err = bpfc_set_rate(b, id, 0);
	if (!err &&
	    bpf_map_update_elem(bpf_map__fd(b->cls->maps.tidal_pace), &id, &ps, BPF_ANY) < 0)
		err = -errno;
	return err;
}

static int cmp_lpm4(const void *a, const void *b)
{
	const struct tidal_lpm4_key *x = a, *y = b;

	if (x->prefixlen != y->prefixlen)
		return x->prefixlen < y->prefixlen ? -1 : 1;
	return memcmp(x->addr, y->addr, 4);
}

static int cmp_lpm6(const void *a, const void *b)
{
	const struct tidal_lpm6_key *x = a, *y = b;

	if (x->prefixlen != y->prefixlen)
		return x->prefixlen < y->prefixlen ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

/* Write n entries (key at offset 0 of each stride-sized element, value at voff) into a
 * trie, then delete the keys the trie holds that are not among them. The entries are
 * sorted by key (bpfc_tables builds them so). */
static int sync_trie(int fd, const void *entries, size_t n, size_t stride, size_t ksize,
		     size_t voff, int (*cmp)(const void *, const void *))
{
	unsigned char key[sizeof(struct tidal_lpm6_key)], next[sizeof(struct tidal_lpm6_key)];
	void *stale = NULL;
	size_t nstale = 0, cap = 0;
	int err = 0;
	void *prev = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *e = (const char *)entries + i * stride;

		if (bpf_map_update_elem(fd, e, e + voff, BPF_ANY) < 0)
			return -errno;
	}
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		bool found = false;
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = cmp(next, (const char *)entries + mid * stride);

			if (c == 0) {
				found = true;
				break;
			}
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (!found) {
			if (nstale == cap) {
				size_t nc = cap ? cap * 2 : 64;
				void *ns = realloc(stale, nc * ksize);

				if (!ns) {
					free(stale);
					return -ENOMEM;
				}
				stale = ns;
				cap = nc;
			}
			memcpy((char *)stale + nstale * ksize, next, ksize);
			nstale++;
		}
		memcpy(key, next, ksize);
		prev = key;
	}
	for (size_t i = 0; i < nstale; i++)
		if (bpf_map_delete_elem(fd, (char *)stale + i * ksize) < 0 && errno != ENOENT)
			err = -errno;
	free(stale);
	return err;
}

int bpfc_install_classes(struct bpfc *b, const struct cfg_app *apps, size_t n)
{
	int cfd = bpf_map__fd(b->cls->maps.tidal_classes);
	int nfd = bpf_map__fd(b->cls->maps.tidal_names);
	int mfd = bpf_map__fd(b->cls->maps.tidal_meta);
	struct bpfc_tables *t;
	struct tidal_meta meta;
	uint32_t old_n = b->n_classes;
	int err;

	if (n + 1 > b->capacity) {
		log_err("bpf: %s: %zu apps do not fit the %u classes the maps were created with",
			bpfc_ifn(b), n, b->capacity - 1);
		return -ENOSPC;
	}
	err = bpfc_tables_build(apps, n, &t);
	if (err)
		return err;
	for (uint32_t id = 0; id < b->capacity && (id <= n || id < old_n); id++) {
		struct tidal_name cur = {{0}}, want = {{0}};
		struct tidal_class cl = {0};

		if (id >= 1 && id <= n)
			snprintf(want.name, sizeof(want.name), "%s", apps[id - 1].name);
		if (bpf_map_lookup_elem(nfd, &id, &cur) < 0) {
			err = -errno;
			goto out;
		}
		if (strncmp(cur.name, want.name, sizeof(cur.name)) != 0) {
			if ((err = reset_class(b, id)))
				goto out;
			if (bpf_map_update_elem(nfd, &id, &want, BPF_ANY) < 0) {
				err = -errno;
				goto out;
			}
		}
		if (id < t->n_classes)
			cl = t->classes[id];
		if (bpf_map_update_elem(cfd, &id, &cl, BPF_ANY) < 0) {
			err = -errno;
			goto out;
		}
	}
	if ((err = sync_trie(bpf_map__fd(b->cls->maps.tidal_dst4), t->dst4, t->n_dst4,
			     sizeof(*t->dst4), sizeof(struct tidal_lpm4_key),
			     offsetof(struct bpfc_dst4, cand), cmp_lpm4)) ||
	    (err = sync_trie(bpf_map__fd(b->cls->maps.tidal_dst6), t->dst6, t->n_dst6,
			     sizeof(*t->dst6), sizeof(struct tidal_lpm6_key),
			     offsetof(struct bpfc_dst6, cand), cmp_lpm6)) ||
	    (err = sync_trie(bpf_map__fd(b->cls->maps.tidal_src4), t->src4, t->n_src4,
			     sizeof(*t->src4), sizeof(struct tidal_lpm4_key),
			     offsetof(struct bpfc_src4, set), cmp_lpm4)) ||
	    (err = sync_trie(bpf_map__fd(b->cls->maps.tidal_src6), t->src6, t->n_src6,
			     sizeof(*t->src6), sizeof(struct tidal_lpm6_key),
			     offsetof(struct bpfc_src6, set), cmp_lpm6)))
		goto out;
	if ((err = meta_get(mfd, &meta)))
		goto out;
	meta.n_classes = (uint32_t)n + 1;
	if ((err = meta_put(mfd, &meta)))
		goto out;
	b->n_classes = (uint32_t)n + 1;
out:
	if (err)
		log_err("bpf: %s: installing %zu classes: %s", bpfc_ifn(b), n, strerror(-err));
	bpfc_tables_free(t);
	return err;
}

/* ---- counters and rates --------------------------------------------------------------- */

int bpfc_read_counters(struct bpfc *b, struct bpfc_counter *out, size_t n)
{
	size_t nkeys = n * TIDAL_DIRS;

	if (n > b->capacity)
		return -EINVAL;
	memset(out, 0, nkeys * sizeof(*out));
	for (int c = 0; c < b->ncpus; c++) {
		const volatile struct tidal_ctr *slice = &b->ctrs[(size_t)c * b->stride];

		for (size_t k = 0; k < nkeys; k++) {
			out[k].packets += slice[k].packets;
			out[k].bytes += slice[k].bytes;
			out[k].drops += slice[k].drops;
		}
	}
	return 0;
}

int bpfc_read_events(struct bpfc *b, uint64_t out[TIDAL_DIRS][TIDAL_EV_MAX])
{
	int fd = bpf_map__fd(b->cls->maps.tidal_events);
	uint64_t *v = calloc((size_t)b->ncpus, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < TIDAL_DIRS * TIDAL_EV_MAX; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(fd, &k, v) < 0) {
			int err = -errno;

			free(v);
			return err;
		}
		for (int c = 0; c < b->ncpus; c++)
			sum += v[c];
		out[k / TIDAL_EV_MAX][k % TIDAL_EV_MAX] = sum;
	}
	free(v);
	return 0;
}

static int rate_map_put(struct bpfc *b, uint32_t class_id, uint64_t bps)
{
	if (bpf_map_update_elem(bpf_map__fd(b->cls->maps.tidal_rates), &class_id, &bps,
				BPF_ANY) < 0)
		return -errno;
	return 0;
}

int bpfc_set_rate(struct bpfc *b, uint32_t class_id, uint64_t bps)
{
	bool htb = b->pace_mode == TIDAL_PACE_HTB && b->ifindex;
	int err;

	if (class_id >= b->capacity || (htb && class_id >= 0xffff))
		return -ENOENT;
	/* HTB: the leaf exists before the program steers into it, and the program stops
	 * steering before the leaf goes. */
	if (htb && bps)
		err = bpfc_qdisc_htb_class_set(b->ifindex, TIDAL_HTB_MAJOR,
					       (uint16_t)(class_id + 1), bps);
	else
		err = 0;
	if (!err)
		err = rate_map_put(b, class_id, bps);
	if (!err && htb && !bps) {
		err = bpfc_qdisc_htb_class_del(b->ifindex, TIDAL_HTB_MAJOR,
					       (uint16_t)(class_id + 1));
		if (err == -ENOENT)
			err = 0;
	}
	if (err)
		log_err("bpf: %s: setting the rate of class %u: %s", bpfc_ifn(b), class_id,
			strerror(-err));
	return err;
}

int bpfc_get_rate(struct bpfc *b, uint32_t class_id, uint64_t *bps)
{
	if (class_id >= b->capacity)
		return -ENOENT;
	if (bpf_map_lookup_elem(bpf_map__fd(b->cls->maps.tidal_rates), &class_id, bps) < 0)
		return -errno;
	return 0;
}

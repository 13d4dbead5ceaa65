/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_hook: attaching tidal's programs to an interface and taking them off again.
 *
 * tc hooks are tcx links (kernel 6.6 and later), pinned beside the maps so that they
 * outlive tidald and are swapped to new programs with bpf_link_update; kernels without tcx
 * (Debian 12's 6.1) get a cls_bpf filter at clsact priority 1, handle 0x7464, replaced in
 * place. tcx runs the program without the tc classifier chain, and its links are
 * ordinary BPF objects to pin, inspect and release. XDP attaches without a link, and only
 * where no foreign XDP program is. This file also picks how paced packets are held back
 * (fq for EDT, or HTB).
 *
 * Never touches a hook, filter or qdisc that is not tidal's, except the root qdisc that
 * pacing needs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include "bpfc_int.h"
#include "log.h"

/* Attach types of tcx (enum bpf_attach_type of kernel 6.6+; Debian 12's uapi headers
 * predate them). */
#define TCX_INGRESS 46
#define TCX_EGRESS 47

static const char *const link_pin[2] = {"link_out", "link_in"};

static int tcx_link_create(int ifindex, int prog_fd, bool ingress)
{
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)prog_fd;
	a.link_create.target_ifindex = (__u32)ifindex;
	a.link_create.attach_type = ingress ? TCX_INGRESS : TCX_EGRESS;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : (int)fd;
}

/* Point tidal's pinned tcx link of one direction at prog_fd, creating and pinning it when
 * there is none (or only a dead one, from an interface since deleted). -EOPNOTSUPP when
 * the kernel has no tcx. */
static int tcx_set(struct bpfc *b, bool ingress, int prog_fd)
{
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", b->pin_dir, link_pin[ingress]);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_update(fd, prog_fd, NULL);
		close(fd);
		if (!err)
			return 0;
		unlink(path);
	}
	fd = tcx_link_create(b->ifindex, prog_fd, ingress);
	if (fd < 0)
		return fd == -EINVAL ? -EOPNOTSUPP : fd;
	err = bpf_obj_pin(fd, path);
	close(fd); /* the pin holds the link */
	if (err)
		log_err("bpf: %s: pinning the tcx link %s: %s", b->ifname, path, strerror(-err));
	return err;
}

/* Detach and unpin tidal's tcx link of one direction, if any. */
static int tcx_remove(const char *ifname, const char *pin_dir, bool ingress)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (!pin_dir[0])
		return 0;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, link_pin[ingress]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	err = bpf_link_detach(fd);
	close(fd);
	unlink(path);
	if (err && err != -ENOLINK && err != -EINVAL) {
		log_err("bpf: %s: detaching the tcx link %s: %s", ifname, path, strerror(-err));
		return err;
	}
	return 0;
}

/* tidal's cls_bpf filter at clsact ingress or egress: set it to prog_fd, or remove it (-1). */
static int clsact_set(const char *ifname, int ifindex, enum bpf_tc_attach_point where,
		      int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BPFC_TC_HANDLE, .priority = BPFC_TC_PRIORITY);
	const char *name = where == BPF_TC_INGRESS ? "ingress" : "egress";
	int err;

	if (prog_fd < 0) {
		err = bpf_tc_detach(&hook, &opts);
		if (err && err != -ENOENT && err != -EINVAL) {
			log_err("bpf: %s: removing tidal's tc %s filter: %s", ifname, name,
				strerror(-err));
			return err;
		}
		return 0;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		log_err("bpf: %s: creating the clsact qdisc: %s", ifname, strerror(-err));
		return err;
	}
	opts.prog_fd = prog_fd;
	opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		log_err("bpf: %s: attaching at tc %s: %s", ifname, name, strerror(-err));
		return err;
	}
	return 0;
}

/* Id and attach flags of the XDP program on ifindex if it is tidal's; 0 if none; -EBUSY if
 * someone else's. */
static int xdp_ours(int ifindex, const char *ifname, __u32 *flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	int fd, err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err == -EINVAL || err == -EOPNOTSUPP ? 0 : err;
	if (q.attach_mode == XDP_ATTACHED_NONE || q.attach_mode == XDP_ATTACHED_MULTI) {
		if (q.attach_mode == XDP_ATTACHED_MULTI)
			log_err("bpf: %s: several XDP programs are attached; tidal will not "
				"touch them",
				ifname);
		return q.attach_mode == XDP_ATTACHED_NONE ? 0 : -EBUSY;
	}
	*flags = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
		 : q.attach_mode == XDP_ATTACHED_HW ? XDP_FLAGS_HW_MODE
						    : XDP_FLAGS_DRV_MODE;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return err;
	if (strcmp(info.name, "tidal_cls_xdp") != 0) {
		log_err("bpf: %s: XDP program %s (id %u) is attached and is not tidal's; detach "
			"it or count at tc ingress instead",
			ifname, info.name, q.prog_id);
		return -EBUSY;
	}
	return (int)q.prog_id;
}

static int xdp_hook(struct bpfc *b, int prog_fd, enum bpfc_xdp_mode mode)
{
	__u32 flags = 0, want;
	int ours, err;

	ours = xdp_ours(b->ifindex, b->ifname, &flags);
	if (ours < 0)
		return ours;
	want = mode == BPFC_XDP_GENERIC ? XDP_FLAGS_SKB_MODE
	       : mode == BPFC_XDP_NATIVE ? XDP_FLAGS_DRV_MODE
					 : 0;
	if (ours > 0 && (prog_fd < 0 || (want && want != flags))) {
		err = bpf_xdp_detach(b->ifindex, flags, NULL);
		if (err) {
			log_err("bpf: %s: removing tidal's XDP program: %s", b->ifname,
				strerror(-err));
			return err;
		}
		ours = 0;
	}
	if (prog_fd < 0)
		return 0;
	err = bpf_xdp_attach(b->ifindex, prog_fd, ours > 0 ? flags : want, NULL);
	if (err && !want && ours == 0) /* no native support: fall back to generic */
		err = bpf_xdp_attach(b->ifindex, prog_fd, XDP_FLAGS_SKB_MODE, NULL);
	if (err)
		log_err("bpf: %s: attaching XDP: %s", b->ifname, strerror(-err));
	return err;
}

/* Make sure something releases paced packets, and pick the pacing mode: an fq qdisc
 * anywhere on the interface (or a root fq tidal installs) means EDT; a kernel without
 * sch_fq gets tidal's HTB root. Runs before the programs are loaded (the mode is part of
 * the pacer's read-only data). */
int bpfc_ensure_release(struct bpfc *b, enum bpfc_pace_mode want)
{
	struct bpfc_qdisc_info q;
	int err;

	err = bpfc_qdisc_info(b->ifindex, &q);
	if (err) {
		log_err("bpf: %s: listing qdiscs: %s", b->ifname, strerror(-err));
		return err;
	}
	if (want != BPFC_PACE_HTB && q.has_fq) {
		b->pace_mode = TIDAL_PACE_EDT;
		return 0;
	}
	if (want != BPFC_PACE_EDT && !strcmp(q.root_kind, "htb") &&
	    q.root_handle == (uint32_t)TIDAL_HTB_MAJOR << 16) {
		b->pace_mode = TIDAL_PACE_HTB; /* ours, from a previous start */
		return 0;
	}
	if (want != BPFC_PACE_HTB) {
		err = bpfc_qdisc_root_fq(b->ifindex);
		if (!err) {
			b->pace_mode = TIDAL_PACE_EDT;
			b->release_flags |= TIDAL_META_FQ_INSTALLED;
			log_info("bpf: %s: fq root qdisc installed for pacing", b->ifname);
			return 0;
		}
		if (err != -ENOENT || want == BPFC_PACE_EDT) {
			log_err("bpf: %s: installing the fq root qdisc pacing needs: %s%s",
				b->ifname, strerror(-err),
				err == -ENOENT ? " (this kernel has no sch_fq)" : "");
			return err;
		}
		log_warn("bpf: %s: this kernel has no sch_fq; pacing with HTB leaf classes "
			 "instead (docs/bpf.md)",
			 b->ifname);
	}
	b->pace_mode = TIDAL_PACE_HTB;
	err = bpfc_qdisc_root_htb(b->ifindex, TIDAL_HTB_MAJOR);
	if (err) {
		log_err("bpf: %s: installing the HTB root qdisc for pacing: %s", b->ifname,
			strerror(-err));
		return err;
	}
	b->release_flags |= TIDAL_META_HTB_INSTALLED;
	log_info("bpf: %s: HTB root qdisc %x: installed for pacing", b->ifname,
		 TIDAL_HTB_MAJOR);
	return 0;
}


/* One tc direction: tcx where the kernel has it and the link can be pinned (an unpinned
 * link would go with this process), clsact otherwise. prog_fd -1 removes tidal there. */
static int tc_dir(struct bpfc *b, bool ingress, int prog_fd)
{
	enum bpf_tc_attach_point where = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	int err;

	if (prog_fd < 0) {
		int e = tcx_remove(b->ifname, b->pin_dir, ingress);

		err = clsact_set(b->ifname, b->ifindex, where, -1);
		return err ? err : e;
	}
	if (b->pin_dir[0]) {
		err = tcx_set(b, ingress, prog_fd);
		if (!err) /* a filter left by an older attach would count twice */
			return clsact_set(b->ifname, b->ifindex, where, -1);
		if (err != -EOPNOTSUPP)
			return err;
	}
	return clsact_set(b->ifname, b->ifindex, where, prog_fd);
}

int bpfc_hooks_attach(struct bpfc *b, const struct bpfc_params *p)
{
	int in = -1, out = -1, xdp = -1, err;

	if (p->hooks & BPFC_HOOK_TC_IN)
		in = bpfc_prog_fd(b, BPFC_PROG_CLS_IN);
	if (p->hooks & BPFC_HOOK_TC_OUT)
		out = bpfc_prog_fd(b, p->pace ? BPFC_PROG_PACE_OUT : BPFC_PROG_CLS_OUT);
	if (p->hooks & BPFC_HOOK_XDP)
		xdp = bpfc_prog_fd(b, BPFC_PROG_CLS_XDP);
	if ((p->hooks & BPFC_HOOK_TC_IN) && (p->hooks & BPFC_HOOK_XDP)) {
		log_err("bpf: %s: count ingress at tc or at XDP, not both", b->ifname);
		return -EINVAL;
	}
	/* New hooks first, then removal of the ones no longer wanted: an XDP <-> tc ingress
	 * switch double counts for an instant instead of missing packets. */
	if (xdp >= 0 && (err = xdp_hook(b, xdp, p->xdp_mode)))
		return err;
	if ((err = tc_dir(b, false, out)) || (err = tc_dir(b, true, in)))
		return err;
	return xdp < 0 ? xdp_hook(b, -1, p->xdp_mode) : 0;
}

int bpfc_hooks_remove(const char *ifname, int ifindex, const char *pin_dir)
{
	struct bpfc tmp = {.ifindex = ifindex};
	__u32 flags = 0;
	int err = 0, e;

	snprintf(tmp.ifname, sizeof(tmp.ifname), "%s", ifname);
	snprintf(tmp.pin_dir, sizeof(tmp.pin_dir), "%s", pin_dir);
	if ((e = tc_dir(&tmp, true, -1)))
		err = e;
	if ((e = tc_dir(&tmp, false, -1)))
		err = e;
	e = xdp_ours(ifindex, ifname, &flags);
	if (e > 0 && (e = bpf_xdp_detach(ifindex, flags, NULL)))
		err = e;
	return err;
}

static enum bpfc_attach prog_name_of(__u32 id, char name[16])
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return BPFC_ATTACH_NONE;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		snprintf(name, 16, "%s", info.name);
	close(fd);
	return strncmp(name, "tidal_", 6) == 0 ? BPFC_ATTACH_TC : BPFC_ATTACH_NONE;
}

enum bpfc_attach bpfc_attached(const char *ifname, bool ingress, char *prog)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BPFC_TC_HANDLE, .priority = BPFC_TC_PRIORITY);
	__u32 ids[16], cnt = 16, flags = 0;
	int ifindex = (int)if_nametoindex(ifname);

	prog[0] = '\0';
	if (!ifindex)
		return BPFC_ATTACH_NONE;
	if (bpf_prog_query(ifindex, (enum bpf_attach_type)(ingress ? TCX_INGRESS : TCX_EGRESS), 0,
			   &flags, ids, &cnt) == 0)
		for (__u32 i = 0; i < cnt; i++)
			if (prog_name_of(ids[i], prog) != BPFC_ATTACH_NONE)
				return BPFC_ATTACH_TCX;
	hook.ifindex = ifindex;
	if (bpf_tc_query(&hook, &opts) == 0 &&
	    prog_name_of(opts.prog_id, prog) != BPFC_ATTACH_NONE)
		return BPFC_ATTACH_TC;
	if (ingress && xdp_ours(ifindex, ifname, &flags) > 0) {
		snprintf(prog, 16, "tidal_cls_xdp");
		return BPFC_ATTACH_XDP;
	}
	prog[0] = '\0';
	return BPFC_ATTACH_NONE;
}

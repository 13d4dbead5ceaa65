/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_qdisc: the few rtnetlink qdisc requests pacing needs: what is at the root, put fq
 * (or, where the kernel has no sch_fq, HTB) there, set or remove an HTB leaf class, remove
 * the root qdisc tidal put there.
 *
 * EDT pacing only delays packets if a qdisc honours skb->tstamp; fq does. Kernels built
 * without sch_fq get an HTB root instead, with one leaf class per paced tidal class that
 * the pacing program steers packets into (bpfc.c). Owns one NETLINK_ROUTE socket per
 * call, closed before returning. Never touches a qdisc other than the interface's root,
 * and only when asked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "bpfc_int.h"

#define NL_BUF 32768

struct qdisc_req {
	struct nlmsghdr nh;
	struct tcmsg tc;
	char attrs[256];
};

static int nl_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The request buffers are sized for the largest message built here (an HTB class). */
static struct rtattr *add_attr(struct nlmsghdr *nh, unsigned short type, const void *d,
			       size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), d, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void add_attr_str(struct nlmsghdr *nh, unsigned short type, const char *s)
{
	add_attr(nh, type, s, strlen(s) + 1);
}

static void nest_end(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)nh + nh->nlmsg_len - (char *)nest);
}

/* Send one request and read replies until the ack (or the end of a dump). on_msg sees
 * each RTM_NEWQDISC of a dump. */
static int nl_talk(struct nlmsghdr *req, int (*on_msg)(struct nlmsghdr *, void *), void *arg)
{
	int fd = nl_open(), err = 0;
	char *buf;

	if (fd < 0)
		return fd;
	buf = malloc(NL_BUF);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	req->nlmsg_seq = 1;
	if (send(fd, req, req->nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, NL_BUF, 0);
		struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				goto out;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					err = -EPROTO;
				else
					err = e->error; /* 0 is the ack */
				goto out;
			}
			if (on_msg && (err = on_msg(nh, arg)) != 0)
				goto out;
		}
	}
out:
	free(buf);
	close(fd);
	return err;
}

static int on_qdisc(struct nlmsghdr *nh, void *arg)
{
	struct bpfc_qdisc_info *info = arg;
	struct tcmsg *tc = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*tc));
	struct rtattr *rta;
	char kind[16] = "";

	if (nh->nlmsg_type != RTM_NEWQDISC || len < 0 || tc->tcm_ifindex != info->ifindex)
		return 0;
	for (rta = (struct rtattr *)((char *)tc + NLMSG_ALIGN(sizeof(*tc))); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == TCA_KIND && RTA_PAYLOAD(rta) > 0)
			snprintf(kind, sizeof(kind), "%.*s", (int)RTA_PAYLOAD(rta),
				 (const char *)RTA_DATA(rta));
	}
	if (!strcmp(kind, "fq"))
		info->has_fq = true;
	if (tc->tcm_parent == TC_H_ROOT) {
		snprintf(info->root_kind, sizeof(info->root_kind), "%s", kind);
		info->root_handle = tc->tcm_handle;
	}
	return 0;
}

int bpfc_qdisc_info(int ifindex, struct bpfc_qdisc_info *info)
{
	struct qdisc_req req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_GETQDISC,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.tc = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex},
	};

	memset(info, 0, sizeof(*info));
	info->ifindex = ifindex;
	return nl_talk(&req.nh, on_qdisc, info);
}

int bpfc_qdisc_root_fq(int ifindex)
{
	struct qdisc_req req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_NEWQDISC,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE},
		.tc = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = TC_H_ROOT},
	};

	add_attr_str(&req.nh, TCA_KIND, "fq");
	return nl_talk(&req.nh, NULL, NULL);
}

int bpfc_qdisc_root_delete(int ifindex)
{
	struct qdisc_req req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_DELQDISC,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
		.tc = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = TC_H_ROOT},
	};

	return nl_talk(&req.nh, NULL, NULL);
}

int bpfc_qdisc_root_htb(int ifindex, uint16_t major)
{
	struct qdisc_req req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_NEWQDISC,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE},
		.tc = {.tcm_family = AF_UNSPEC,
		       .tcm_ifindex = ifindex,
		       .tcm_parent = TC_H_ROOT,
		       .tcm_handle = TC_H_MAKE((uint32_t)major << 16, 0)},
	};
	/* defcls 0: packets the program does not steer bypass the shaping. */
	struct tc_htb_glob glob = {.version = 3, .rate2quantum = 10, .defcls = 0};
	struct rtattr *opts;

	add_attr_str(&req.nh, TCA_KIND, "htb");
	opts = add_attr(&req.nh, TCA_OPTIONS, NULL, 0);
	add_attr(&req.nh, TCA_HTB_INIT, &glob, sizeof(glob));
	nest_end(&req.nh, opts);
	return nl_talk(&req.nh, NULL, NULL);
}

int bpfc_qdisc_htb_class_set(int ifindex, uint16_t major, uint16_t minor, uint64_t bps)
{
	struct qdisc_req req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_NEWTCLASS,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE},
		.tc = {.tcm_family = AF_UNSPEC,
		       .tcm_ifindex = ifindex,
		       .tcm_parent = TC_H_MAKE((uint32_t)major << 16, 0),
		       .tcm_handle = TC_H_MAKE((uint32_t)major << 16, minor)},
	};
	uint64_t bytes_ps = bps / 8 ? bps / 8 : 1;
	/* Burst: 10 ms at the rate, at least two 64 KiB GSO packets. */
	uint64_t burst = bytes_ps / 100 > 131072 ? bytes_ps / 100 : 131072;
	uint64_t burst_ns = burst * 1000000000ULL / bytes_ps;
	uint32_t ticks = burst_ns >> 6 > UINT32_MAX ? UINT32_MAX : (uint32_t)(burst_ns >> 6);
	uint64_t quantum = bytes_ps / 10;
	struct tc_htb_opt opt = {
		.rate = {.linklayer = TC_LINKLAYER_ETHERNET,
			 .rate = bytes_ps >= UINT32_MAX ? UINT32_MAX : (uint32_t)bytes_ps},
		.buffer = ticks,
		.cbuffer = ticks,
		.quantum = (uint32_t)(quantum < 1514 ? 1514 : quantum > 200000 ? 200000 : quantum),
	};
	struct rtattr *opts;

	opt.ceil = opt.rate;
	add_attr_str(&req.nh, TCA_KIND, "htb");
	opts = add_attr(&req.nh, TCA_OPTIONS, NULL, 0);
	add_attr(&req.nh, TCA_HTB_PARMS, &opt, sizeof(opt));
	if (bytes_ps >= UINT32_MAX) {
		add_attr(&req.nh, TCA_HTB_RATE64, &bytes_ps, sizeof(bytes_ps));
		add_attr(&req.nh, TCA_HTB_CEIL64, &bytes_ps, sizeof(bytes_ps));
	}
	nest_end(&req.nh, opts);
	return nl_talk(&req.nh, NULL, NULL);
}

int bpfc_qdisc_htb_class_del(int ifindex, uint16_t major, uint16_t minor)
{
	struct qdisc_req req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_DELTCLASS,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
		.tc = {.tcm_family = AF_UNSPEC,
		       .tcm_ifindex = ifindex,
		       .tcm_parent = TC_H_MAKE((uint32_t)major << 16, 0),
		       .tcm_handle = TC_H_MAKE((uint32_t)major << 16, minor)},
	};

	return nl_talk(&req.nh, NULL, NULL);
}

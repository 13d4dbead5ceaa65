/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfc_qdisc: the few rtnetlink qdisc requests pacing needs (is there an fq? put fq at
 * the root; remove the root qdisc tidal put there).
 *
 * EDT pacing only delays packets if a qdisc honours skb->tstamp; fq does. Owns one
 * NETLINK_ROUTE socket per call, closed before returning. Never touches a qdisc other
 * than the interface's root, and only when asked.
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
#include "log.h"

#define NL_BUF 32768

struct qdisc_req {
	struct nlmsghdr nh;
	struct tcmsg tc;
	char attrs[64];
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

static void add_attr_str(struct nlmsghdr *nh, unsigned short type, const char *s)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	size_t len = strlen(s) + 1;

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), s, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
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

struct has_fq {
	int ifindex;
	bool found;
};

static int on_qdisc(struct nlmsghdr *nh, void *arg)
{
	struct has_fq *h = arg;
	struct tcmsg *tc = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*tc));
	struct rtattr *rta;

	if (nh->nlmsg_type != RTM_NEWQDISC || len < 0 || tc->tcm_ifindex != h->ifindex)
		return 0;
	for (rta = (struct rtattr *)((char *)tc + NLMSG_ALIGN(sizeof(*tc))); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == TCA_KIND && RTA_PAYLOAD(rta) >= 3 &&
		    strncmp(RTA_DATA(rta), "fq", RTA_PAYLOAD(rta)) == 0)
			h->found = true;
	}
	return 0;
}

int bpfc_qdisc_has_fq(int ifindex)
{
	struct qdisc_req req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_GETQDISC,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.tc = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex},
	};
	struct has_fq h = {.ifindex = ifindex};
	int err = nl_talk(&req.nh, on_qdisc, &h);

	return err < 0 ? err : h.found;
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

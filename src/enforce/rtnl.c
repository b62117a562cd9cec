/* rtnl.c: the addresses of this host's devices, over rtnetlink; see
 * rtnl.h.  A dump (RTM_GETADDR) answers "what now"; a socket in the
 * address and link groups hears every change after. */
#include "enforce/rtnl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"

#define RTNL_BUF	32768

static int
open_socket(unsigned groups, int flags)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags,
	    NETLINK_ROUTE);

	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static u128
addr_of(int family, const void *data)
{
	const unsigned char *p = data;
	u128 a = 0;
	int i;

	if (family == AF_INET)
		return V4_BASE | ((u128)p[0] << 24 | (u128)p[1] << 16 |
		    (u128)p[2] << 8 | p[3]);
	for (i = 0; i < 16; i++)
		a = a << 8 | p[i];
	return a;
}

/* One RTM_NEWADDR of the dump into h; 0, or -1 when memory ran out. */
static int
take_addr(struct host_addrs *h, const struct nlmsghdr *nh)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const struct rtattr *rta = IFA_RTA(ifa);
	int len = (int)IFA_PAYLOAD(nh);
	const void *local = NULL, *address = NULL;
	unsigned flags = ifa->ifa_flags;
	char dev[IF_NAMESIZE];
	struct bound_addr *ba;

	if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    ifa->ifa_scope >= RT_SCOPE_LINK)
		return 0;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS)
			address = RTA_DATA(rta);
		else if (rta->rta_type == IFA_FLAGS &&
		    RTA_PAYLOAD(rta) >= sizeof(unsigned))
			memcpy(&flags, RTA_DATA(rta), sizeof(flags));
	/* Point to point: IFA_LOCAL is ours, IFA_ADDRESS the peer's. */
	if (local == NULL)
		local = address;
	if (local == NULL || (flags & IFA_F_DADFAILED) ||
	    if_indextoname(ifa->ifa_index, dev) == NULL)
		return 0;
	if (h->b.n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct bound_addr *v = realloc(h->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	ba = &h->v[h->b.n];
	memset(ba, 0, sizeof(*ba));
	if ((ba->name = strdup(dev)) == NULL)
		return -1;
	ba->lit.family = ifa->ifa_family == AF_INET ? FAM_V4 : FAM_V6;
	ba->lit.kind = LIT_PREFIX;
	ba->lit.lo = ba->lit.hi = addr_of(ifa->ifa_family, local);
	ba->lit.plen = ifa->ifa_prefixlen;
	h->b.n++;
	h->b.v = h->v;
	return 0;
}

int
rtnl_addrs(struct host_addrs *h, struct strbuf *err)
{
	struct {
		struct nlmsghdr		nh;
		struct ifaddrmsg	ifa;
	} req;
	static unsigned seq;
	char *buf;
	int fd, done = 0;

	memset(h, 0, sizeof(*h));
	if ((fd = open_socket(0, 0)) == -1) {
		strbuf_printf(err, "rtnetlink: %s", strerror(errno));
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_GETADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++seq;
	req.ifa.ifa_family = AF_UNSPEC;
	if ((buf = malloc(RTNL_BUF)) == NULL ||
	    send(fd, &req, req.nh.nlmsg_len, 0) == -1)
		goto fail;
	while (!done) {
		ssize_t n = recv(fd, buf, RTNL_BUF, 0);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
		size_t left;

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		for (left = (size_t)n; NLMSG_OK(nh, left);
		    nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != req.nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				errno = -e->error;
				goto fail;
			}
			if (nh->nlmsg_type == RTM_NEWADDR &&
			    take_addr(h, nh) == -1) {
				errno = ENOMEM;
				goto fail;
			}
		}
	}
	free(buf);
	close(fd);
	return 0;
fail:
	strbuf_printf(err, "rtnetlink: reading addresses: %s",
	    strerror(errno));
	free(buf);
	close(fd);
	rtnl_addrs_free(h);
	return -1;
}

void
rtnl_addrs_free(struct host_addrs *h)
{
	size_t i;

	for (i = 0; i < h->b.n; i++)
		free((char *)h->v[i].name);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
rtnl_addrs_format(const struct host_addrs *h, struct strbuf *b)
{
	char **lines = calloc(h->b.n + 1, sizeof(*lines));
	char buf[2 * ADDR_STRLEN + 8];
	size_t i;

	if (lines == NULL) {
		b->failed = true;
		return;
	}
	for (i = 0; i < h->b.n; i++) {
		addr_lit_format(&h->v[i].lit, buf, sizeof(buf));
		if ((lines[i] = malloc(IF_NAMESIZE + sizeof(buf) + 2)) == NULL)
			b->failed = true;
		else
			snprintf(lines[i], IF_NAMESIZE + sizeof(buf) + 2,
			    "%s %s", h->v[i].name, buf);
	}
	for (i = 0; i < h->b.n; i++)
		if (lines[i] == NULL)
			goto out;
	qsort(lines, h->b.n, sizeof(*lines), line_cmp);
	for (i = 0; i < h->b.n; i++)
		strbuf_printf(b, "%s\n", lines[i]);
out:
	for (i = 0; i < h->b.n; i++)
		free(lines[i]);
	free(lines);
}

int
rtnl_watch(void)
{
	return open_socket(RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
	    RTMGRP_IPV6_IFADDR, SOCK_NONBLOCK);
}

int
rtnl_drain(int fd)
{
	char buf[8192];
	int changed = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
		size_t left;

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return changed;
		if (n == -1 && errno == ENOBUFS) {
			changed = 1;	/* lost some: read everything again */
			continue;
		}
		if (n <= 0)
			return -1;
		for (left = (size_t)n; NLMSG_OK(nh, left);
		    nh = NLMSG_NEXT(nh, left))
			if (nh->nlmsg_type == RTM_NEWADDR ||
			    nh->nlmsg_type == RTM_DELADDR ||
			    nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_DELLINK)
				changed = 1;
	}
}

/* rtnl.c: the addresses of this host's devices, over rtnetlink; see
 * rtnl.h.  A dump (RTM_GETADDR) answers "what now"; a socket in the
 * address and link groups hears every change after. */
#include "enforce/rtnl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/*
 * Routes and rules.  Each request is one message with NLM_F_ACK, and its
 * answer is read with a deadline: moatd's loop never waits on the kernel
 * without one.
 */
#define RTNL_DEADLINE_MS	2000

struct rtmsgbuf {
	union {
		struct nlmsghdr	nh;
		char		buf[4096];
	} u;
	bool		 full;
};

static struct rtattr *
put_attr(struct rtmsgbuf *m, unsigned short type, const void *data,
    size_t len)
{
	struct nlmsghdr *nh = &m->u.nh;
	size_t at = NLMSG_ALIGN(nh->nlmsg_len);
	struct rtattr *rta;

	if (at + RTA_SPACE(len) > sizeof(m->u.buf)) {
		m->full = true;
		return NULL;
	}
	rta = (struct rtattr *)(m->u.buf + at);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = (unsigned)(at + RTA_SPACE(len));
	return rta;
}

static void
put_u32(struct rtmsgbuf *m, unsigned short type, uint32_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

/* addr in the kernel's bytes: 4 for IPv4, 16 for IPv6; its length. */
static size_t
addr_bytes(enum addr_family fam, u128 a, unsigned char out[16])
{
	size_t n = fam == FAM_V4 ? 4 : 16, i;

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)(a >> (8 * (n - 1 - i)));
	return n;
}

/* Send m and read its answers until the ack (or, for a dump, DONE),
 * handing each other message to fn; errors the caller allows (ok_errno,
 * 0: none) count as success.  0, or -1 with errno. */
static int
transact(int fd, struct rtmsgbuf *m, int ok_errno,
    int (*fn)(const struct nlmsghdr *, void *), void *arg)
{
	static unsigned seq;
	long long end;
	char buf[RTNL_BUF];
	struct timespec ts;

	if (m->full) {
		errno = EMSGSIZE;
		return -1;
	}
	m->u.nh.nlmsg_seq = ++seq;
	if (send(fd, m->u.buf, m->u.nh.nlmsg_len, 0) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + RTNL_DEADLINE_MS;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
		struct sockaddr_nl from;
		socklen_t sl;
		long long now;
		ssize_t n;
		size_t left;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
		if (now >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((r = poll(&pfd, 1, (int)(end - now))) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		sl = sizeof(from);
		if ((n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &sl)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (from.nl_pid != 0)	/* not the kernel: not an answer */
			continue;
		for (left = (size_t)n; NLMSG_OK(nh, left);
		    nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != m->u.nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (e->error == 0 || -e->error == ok_errno)
					return 0;
				errno = -e->error;
				return -1;
			}
			if (fn != NULL && fn(nh, arg) == -1)
				return -1;
		}
	}
}

static void
route_head(struct rtmsgbuf *m, int type, int flags, enum addr_family fam,
    unsigned table)
{
	struct rtmsg *rt;

	memset(m, 0, sizeof(*m));
	m->u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(*rt));
	m->u.nh.nlmsg_type = (unsigned short)type;
	m->u.nh.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK |
	    flags);
	rt = NLMSG_DATA(&m->u.nh);
	rt->rtm_family = fam == FAM_V4 ? AF_INET : AF_INET6;
	rt->rtm_table = RT_TABLE_UNSPEC;
	rt->rtm_protocol = RTNL_MOAT_PROTO;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	put_u32(m, RTA_TABLE, table);
}

int
rtnl_default_route(enum addr_family fam, unsigned table,
    const struct rtnl_hop *hops, size_t n, struct strbuf *err)
{
	struct rtmsgbuf *m;
	unsigned char a[16];
	size_t len, i;
	int fd, rc = -1;

	if ((m = malloc(sizeof(*m))) == NULL ||
	    (fd = open_socket(0, 0)) == -1) {
		strbuf_printf(err, "rtnetlink: %s", strerror(errno));
		free(m);
		return -1;
	}
	if (n == 0) {
		/* Every default route of the table, until none is left. */
		for (i = 0; i < 64; i++) {
			route_head(m, RTM_DELROUTE, 0, fam, table);
			if (transact(fd, m, 0, NULL, NULL) == -1)
				break;
		}
		if (errno == ESRCH || errno == ENOENT)
			rc = 0;
		else
			strbuf_printf(err, "rtnetlink: removing the default "
			    "route of table %u: %s", table, strerror(errno));
		goto out;
	}
	route_head(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, fam, table);
	if (n == 1) {
		len = addr_bytes(fam, hops[0].via, a);
		put_attr(m, RTA_GATEWAY, a, len);
		put_u32(m, RTA_OIF, (uint32_t)hops[0].ifindex);
	} else {
		struct rtattr *mp = put_attr(m, RTA_MULTIPATH, NULL, 0);

		for (i = 0; mp != NULL && i < n; i++) {
			size_t at = NLMSG_ALIGN(m->u.nh.nlmsg_len);
			struct rtnexthop *nh;

			len = addr_bytes(fam, hops[i].via, a);
			if (at + RTNH_SPACE(RTA_SPACE(len)) >
			    sizeof(m->u.buf)) {
				m->full = true;
				break;
			}
			nh = (struct rtnexthop *)(m->u.buf + at);
			memset(nh, 0, sizeof(*nh));
			nh->rtnh_ifindex = hops[i].ifindex;
			m->u.nh.nlmsg_len = (unsigned)(at + sizeof(*nh));
			put_attr(m, RTA_GATEWAY, a, len);
			nh->rtnh_len = (unsigned short)(m->u.nh.nlmsg_len - at);
		}
		if (mp != NULL)
			mp->rta_len = (unsigned short)(m->u.nh.nlmsg_len -
			    (size_t)((char *)mp - m->u.buf));
	}
	if (transact(fd, m, 0, NULL, NULL) == -1)
		strbuf_printf(err, "rtnetlink: the default route of table "
		    "%u: %s", table, strerror(errno));
	else
		rc = 0;
out:
	close(fd);
	free(m);
	return rc;
}

static void
rule_head(struct rtmsgbuf *m, int type, int flags, enum addr_family fam,
    const struct rtnl_rule *r)
{
	struct fib_rule_hdr *fr;

	memset(m, 0, sizeof(*m));
	m->u.nh.nlmsg_len = NLMSG_LENGTH(sizeof(*fr));
	m->u.nh.nlmsg_type = (unsigned short)type;
	m->u.nh.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK |
	    flags);
	fr = NLMSG_DATA(&m->u.nh);
	fr->family = fam == FAM_V4 ? AF_INET : AF_INET6;
	fr->action = FR_ACT_TO_TBL;
	fr->table = RT_TABLE_UNSPEC;
	if (r == NULL)
		return;
	put_attr(m, FRA_PROTOCOL, &(uint8_t){ RTNL_MOAT_PROTO }, 1);
	put_u32(m, FRA_PRIORITY, r->prio);
	put_u32(m, FRA_TABLE, r->table);
	if (r->mask != 0) {
		put_u32(m, FRA_FWMARK, r->mark);
		put_u32(m, FRA_FWMASK, r->mask);
	}
	if (r->suppress >= 0)
		put_u32(m, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress);
}

struct rule_dump {
	struct rtnl_rule	 v[256];
	size_t			 n;
	unsigned		 lo, hi;
};

static int
take_rule(const struct nlmsghdr *nh, void *arg)
{
	struct rule_dump *d = arg;
	const struct fib_rule_hdr *fr = NLMSG_DATA(nh);
	const struct rtattr *rta = (const struct rtattr *)((const char *)fr +
	    NLMSG_ALIGN(sizeof(*fr)));
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*fr)));
	struct rtnl_rule r = { .table = fr->table, .suppress = -1 };
	bool ours = false;
	uint32_t v;

	if (nh->nlmsg_type != RTM_NEWRULE)
		return 0;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == FRA_PROTOCOL && RTA_PAYLOAD(rta) >= 1)
			ours = *(const uint8_t *)RTA_DATA(rta) ==
			    RTNL_MOAT_PROTO;
		if (RTA_PAYLOAD(rta) < sizeof(v))
			continue;
		memcpy(&v, RTA_DATA(rta), sizeof(v));
		switch (rta->rta_type) {
		case FRA_PRIORITY:
			r.prio = v;
			break;
		case FRA_TABLE:
			r.table = v;
			break;
		case FRA_FWMARK:
			r.mark = v;
			break;
		case FRA_FWMASK:
			r.mask = v;
			break;
		case FRA_SUPPRESS_PREFIXLEN:
			r.suppress = (int)v;
			break;
		}
	}
	if (r.mark != 0 && r.mask == 0)
		r.mask = 0xffffffffu;
	/* Only moat's own (its protocol), of the action it uses: a rule the
	 * admin put at these priorities is never taken for one, nor removed. */
	if (!ours || fr->action != FR_ACT_TO_TBL || r.prio < d->lo ||
	    r.prio > d->hi || d->n == sizeof(d->v) / sizeof(d->v[0]))
		return 0;
	d->v[d->n++] = r;
	return 0;
}

static bool
rule_eq(const struct rtnl_rule *a, const struct rtnl_rule *b)
{
	return a->prio == b->prio && a->table == b->table &&
	    a->mask == b->mask && (a->mask == 0 || a->mark == b->mark) &&
	    a->suppress == b->suppress;
}

int
rtnl_rules_set(enum addr_family fam, unsigned lo, unsigned hi,
    const struct rtnl_rule *v, size_t n, struct strbuf *err)
{
	struct rule_dump *d;
	struct rtmsgbuf *m;
	size_t i, j;
	int fd, rc = -1;

	d = calloc(1, sizeof(*d));
	m = malloc(sizeof(*m));
	if (d == NULL || m == NULL || (fd = open_socket(0, 0)) == -1) {
		strbuf_printf(err, "rtnetlink: %s", strerror(errno));
		free(d);
		free(m);
		return -1;
	}
	d->lo = lo;
	d->hi = hi;
	rule_head(m, RTM_GETRULE, NLM_F_DUMP, fam, NULL);
	m->u.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (transact(fd, m, 0, take_rule, d) == -1) {
		strbuf_printf(err, "rtnetlink: reading the ip rules: %s",
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < d->n; i++) {
		for (j = 0; j < n && !rule_eq(&d->v[i], &v[j]); j++)
			;
		if (j < n)
			continue;
		rule_head(m, RTM_DELRULE, 0, fam, &d->v[i]);
		if (transact(fd, m, ENOENT, NULL, NULL) == -1) {
			strbuf_printf(err, "rtnetlink: removing the rule at "
			    "%u: %s", d->v[i].prio, strerror(errno));
			goto out;
		}
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < d->n && !rule_eq(&d->v[i], &v[j]); i++)
			;
		if (i < d->n)
			continue;
		rule_head(m, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, fam,
		    &v[j]);
		if (transact(fd, m, EEXIST, NULL, NULL) == -1) {
			strbuf_printf(err, "rtnetlink: adding the rule at %u: "
			    "%s", v[j].prio, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	close(fd);
	free(m);
	free(d);
	return rc;
}

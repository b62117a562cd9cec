/* nfset.c: set elements over nf_tables' netlink; see nfset.h. */
#include "enforce/nfset.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "enforce/nfnl.h"
#include "enforce/nftc.h"

/* A message's elements stay under the 64 KB a netlink attribute can
 * hold, as libnftnl's do. */
#define NEST_MAX	60000
#define ROOM		512	/* the largest element or head, and more */
#define NFSET_FAMILY	1	/* NFPROTO_INET: table inet moat */

struct nfset {
	char		*buf;
	size_t		 len, cap;
	size_t		 nmsg;
	uint32_t	 seq0;
	/* the message being filled: -1 none */
	long		 msg, nest;	/* offsets of its head, its nest */
	bool		 add;
	char		 set[64];
};

struct nfset *
nfset_new(void)
{
	struct nfset *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->msg = b->nest = -1;
	b->seq0 = (uint32_t)time(NULL) << 8;
	return b;
}

void
nfset_free(struct nfset *b)
{
	if (b == NULL)
		return;
	free(b->buf);
	free(b);
}

void
nfset_reset(struct nfset *b)
{
	b->len = 0;
	b->nmsg = 0;
	b->msg = b->nest = -1;
}

size_t
nfset_pending(const struct nfset *b)
{
	return b->nmsg;
}

static int
room(struct nfset *b)
{
	char *n;
	size_t cap;

	if (b->cap - b->len >= ROOM)
		return 0;
	cap = b->cap == 0 ? 1u << 16 : b->cap * 2;
	if ((n = realloc(b->buf, cap)) == NULL)
		return -1;
	memset(n + b->cap, 0, cap - b->cap);
	b->buf = n;
	b->cap = cap;
	return 0;
}

static struct nlmsghdr *
at(struct nfset *b, long off)
{
	return (struct nlmsghdr *)(b->buf + off);
}

/* Close the message being filled. */
static void
close_msg(struct nfset *b)
{
	struct nlmsghdr *nlh;

	if (b->msg == -1)
		return;
	nlh = at(b, b->msg);
	if (b->nest != -1)
		mnl_attr_nest_end(nlh, (struct nlattr *)(b->buf + b->nest));
	b->len = (size_t)b->msg + nlh->nlmsg_len;
	b->msg = b->nest = -1;
}

/* A new message of type NEWSETELEM or DELSETELEM for set name, with the
 * batch's begin before the first. */
static int
open_msg(struct nfset *b, int type, const char *name, bool elements)
{
	struct nlmsghdr *nlh;

	close_msg(b);
	if (room(b) == -1)
		return -1;
	if (b->len == 0) {
		nlh = nfnl_request(b->buf, 0, NFNL_MSG_BATCH_BEGIN, 0,
		    AF_UNSPEC, NFNL_SUBSYS_NFTABLES, b->seq0);
		b->len = nlh->nlmsg_len;
	}
	b->msg = (long)b->len;
	nlh = nfnl_request(b->buf + b->len, NFNL_SUBSYS_NFTABLES, (uint8_t)type,
	    (uint16_t)(NLM_F_ACK | (type == NFT_MSG_NEWSETELEM ?
	    NLM_F_CREATE : 0)), NFSET_FAMILY, 0, b->seq0 + 1 +
	    (uint32_t)b->nmsg);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFTC_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	b->nest = elements ? (long)((char *)mnl_attr_nest_start(nlh,
	    NFTA_SET_ELEM_LIST_ELEMENTS) - b->buf) : -1;
	b->len = (size_t)b->msg + nlh->nlmsg_len;
	b->nmsg++;
	b->add = type == NFT_MSG_NEWSETELEM;
	snprintf(b->set, sizeof(b->set), "%s", name);
	return 0;
}

int
nfset_flush(struct nfset *b, const char *name)
{
	if (open_msg(b, NFT_MSG_DELSETELEM, name, false) == -1)
		return -1;
	close_msg(b);
	return 0;
}

/* One element: key k (len bytes, network order), an interval's end or
 * start. */
static int
put_elem(struct nfset *b, bool add, const char *name, const void *k,
    size_t len, bool end)
{
	struct nlmsghdr *nlh;
	struct nlattr *e, *key;

	if (b->msg == -1 || b->add != add || strcmp(b->set, name) != 0 ||
	    (b->nest != -1 && b->len - (size_t)b->nest > NEST_MAX)) {
		if (open_msg(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
		    name, true) == -1)
			return -1;
	}
	if (room(b) == -1)
		return -1;
	nlh = at(b, b->msg);
	e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, k);
	mnl_attr_nest_end(nlh, key);
	if (end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
		    htonl(NFT_SET_ELEM_INTERVAL_END));
	mnl_attr_nest_end(nlh, e);
	b->len = (size_t)b->msg + nlh->nlmsg_len;
	return 0;
}

/* The key of address a of family f in network order: 4 or 16 bytes. */
static size_t
key_of(u128 a, enum addr_family f, unsigned char *k)
{
	size_t n = f == FAM_V4 ? 4 : 16, i;

	for (i = 0; i < n; i++)
		k[n - 1 - i] = (unsigned char)(a >> (8 * i));
	return n;
}

int
nfset_interval(struct nfset *b, bool add, const char *name,
    enum addr_family f, u128 lo, u128 hi)
{
	unsigned char k[16];
	u128 last = f == FAM_V4 ? V4_LAST : U128_MAX;
	size_t n;

	n = key_of(lo, f, k);
	if (put_elem(b, add, name, k, n, false) == -1)
		return -1;
	/* An interval up to the last address has no end element. */
	if (hi == last)
		return 0;
	n = key_of(hi + 1, f, k);
	return put_elem(b, add, name, k, n, true);
}

/* The kernel's answers: an ack (error 0) or an error for each message
 * that asked; -1 with err at the first error. */
static int
answers(struct mnl_socket *nl, struct nfset *b, int timeout_ms,
    struct strbuf *err)
{
	static char rbuf[1 << 16];
	long long deadline = clock_ms() + timeout_ms;
	size_t got = 0;
	int failed = 0;

	while (got < b->nmsg) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl),
		    .events = POLLIN };
		long long left = deadline - clock_ms();
		const struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			if (!failed)
				strbuf_printf(err, "the kernel did not answer "
				    "within %d ms (%zu of %zu messages)",
				    timeout_ms, got, b->nmsg);
			return -1;
		}
		if ((n = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf))) <= 0) {
			strbuf_printf(err, "netlink: %s", strerror(errno));
			return -1;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh,
		    len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			got++;
			if (e->error != 0 && !failed) {
				strbuf_printf(err, "the kernel refused set %s's "
				    "elements: %s", b->set, strerror(-e->error));
				failed = 1;
			}
		}
		/* After an error the whole batch is undone: no need to
		 * hear the rest. */
		if (failed)
			return -1;
	}
	return 0;
}

/* One line "add|delete element inet moat NAME { E, E }" queued: 0; 1 when
 * it is not one (or an element is not an address); -1 out of memory. */
static int
script_line(struct nfset *b, const char *line, size_t len)
{
	static const char add[] = "add element inet " NFTC_TABLE " ";
	static const char del[] = "delete element inet " NFTC_TABLE " ";
	char name[64], text[ADDR_STRLEN * 2 + 8], err[128], hint[64];
	const char *p, *end = line + len, *e;
	struct addr_lit lit;
	bool adding;
	size_t n;

	if (len > sizeof(add) - 1 && strncmp(line, add, sizeof(add) - 1) == 0)
		p = line + sizeof(add) - 1, adding = true;
	else if (len > sizeof(del) - 1 &&
	    strncmp(line, del, sizeof(del) - 1) == 0)
		p = line + sizeof(del) - 1, adding = false;
	else
		return 1;
	n = strcspn(p, " \n");
	if (n == 0 || n >= sizeof(name) || p + n + 3 >= end - 2 ||
	    strncmp(p + n, " { ", 3) != 0 || end - line < 2 ||
	    strncmp(end - 2, " }", 2) != 0)
		return 1;
	memcpy(name, p, n);
	name[n] = '\0';
	for (p += n + 3; p < end - 2; p = e + 2) {
		if ((e = memchr(p, ',', (size_t)(end - 2 - p))) == NULL)
			e = end - 2;
		n = (size_t)(e - p);
		if (n == 0 || n >= sizeof(text))
			return 1;
		memcpy(text, p, n);
		text[n] = '\0';
		if (strpbrk(text, " \"") != NULL ||	/* " : " data, a comment */
		    addr_parse_lit(text, false, &lit, err, sizeof(err), hint,
		    sizeof(hint)) == -1)
			return 1;
		if (nfset_interval(b, adding, name, lit.family, lit.lo,
		    lit.hi) == -1)
			return -1;
		if (e == end - 2)
			break;
	}
	return 0;
}

int
nfset_script(struct nfset *b, const char *s)
{
	const char *line, *nl;
	int r;

	nfset_reset(b);
	for (line = s; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		if (nl > line && (r = script_line(b, line,
		    (size_t)(nl - line))) != 0) {
			nfset_reset(b);
			return r;
		}
		if (*nl == '\0')
			break;
	}
	return 0;
}

int
nfset_commit(struct nfset *b, int timeout_ms, struct strbuf *err)
{
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	int rc = -1, size;

	if (b->nmsg == 0)
		return 0;
	close_msg(b);
	if (room(b) == -1) {
		strbuf_puts(err, "out of memory");
		goto out;
	}
	nlh = nfnl_request(b->buf + b->len, 0, NFNL_MSG_BATCH_END, 0,
	    AF_UNSPEC, NFNL_SUBSYS_NFTABLES, b->seq0 + 1 + (uint32_t)b->nmsg);
	b->len += nlh->nlmsg_len;
	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		strbuf_printf(err, "netlink: %s", strerror(errno));
		goto out;
	}
	/* The whole batch in one send, and room for every answer. */
	size = b->len + (1 << 16) > (1u << 30) ? 1 << 30 :
	    (int)(b->len + (1 << 16));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size));
	/* An answer costs a socket buffer of its own (a kilobyte or two of
	 * the receive buffer, however small), and an error does not echo
	 * the request. */
	size = (int)(b->nmsg * 4096 + (1 << 20));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size));
	size = 1;
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &size,
	    sizeof(size));
	if (mnl_socket_sendto(nl, b->buf, b->len) < 0) {
		strbuf_printf(err, "netlink: sending %zu bytes: %s", b->len,
		    strerror(errno));
		goto out;
	}
	rc = answers(nl, b, timeout_ms, err);
out:
	if (nl != NULL)
		mnl_socket_close(nl);
	nfset_reset(b);
	b->seq0 += 1u << 20;
	return rc;
}

/* nfset.c: set elements over nf_tables' netlink; see nfset.h. */
#include "enforce/nfset.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "base/bigmem.h"
#include "base/clock.h"
#include "enforce/nfnl.h"
#include "enforce/nfrule.h"
#include "enforce/nftc.h"

/* A message's elements stay under the 64 KB a netlink attribute can
 * hold, as libnftnl's do. */
#define NEST_MAX	60000
#define ROOM		1024	/* the largest element or head, and more: a
				   map element with a 255-byte chain and a
				   127-byte comment is about 450 */
#define MSG_ROOM	(NFRULE_MSG_MAX + 512)	/* a message of nfset_open */
#define NFSET_FAMILY	1	/* NFPROTO_INET: table inet moat */

struct nfset {
	char		*buf;
	size_t		 len, cap;
	size_t		 nmsg;
	uint32_t	 seq0;
	/* the message being filled: -1 none */
	long		 msg, nest;	/* offsets of its head, its nest */
	bool		 add;
	char		 set[256];
	uint32_t	 genid;		/* taken only at this generation */
	bool		 genid_set;
	long		 last;		/* the last message's offset */
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

void
nfset_genid(struct nfset *b, uint32_t gen)
{
	b->genid = gen;
	b->genid_set = true;
}

size_t
nfset_pending(const struct nfset *b)
{
	return b->nmsg;
}

/* The buffer grown to cap bytes (more than it has). */
static int
grow_to(struct nfset *b, size_t cap)
{
	char *n;

	/* (all of the old buffer: past len it is zero, the padding) */
	if ((n = big_grow(b->buf, b->cap, cap)) == NULL)
		return -1;
	memset(n + b->cap, 0, cap - b->cap);
	b->buf = n;
	b->cap = cap;
	return 0;
}

static int
room(struct nfset *b, size_t need)
{
	size_t cap;

	if (b->cap - b->len >= need)
		return 0;
	cap = b->cap == 0 ? 1u << 16 : b->cap * 2;
	while (cap - b->len < need)
		cap *= 2;
	return grow_to(b, cap);
}

int
nfset_reserve(struct nfset *b, size_t size)
{
	if (size > SIZE_MAX - 0xffff)
		return -1;
	size = (size + 0xffff) & ~(size_t)0xffff;
	return size <= b->cap ? 0 : grow_to(b, size);
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

/* A new message of type with flags and room for need bytes, with the
 * batch's begin before the first.  NULL when memory ran out. */
static struct nlmsghdr *
begin_msg(struct nfset *b, int type, uint16_t flags, size_t need)
{
	struct nlmsghdr *nlh;

	close_msg(b);
	if (room(b, need) == -1)
		return NULL;
	if (b->len == 0) {
		nlh = nfnl_request(b->buf, 0, NFNL_MSG_BATCH_BEGIN, 0,
		    AF_UNSPEC, NFNL_SUBSYS_NFTABLES, b->seq0);
		if (b->genid_set)
			mnl_attr_put_u32(nlh, NFNL_BATCH_GENID,
			    htonl(b->genid));
		b->len = nlh->nlmsg_len;
	}
	b->msg = b->last = (long)b->len;
	/* Only the last message asks for an ack (nfset_commit): the kernel
	 * answers an error whether asked or not, and an ack costs it a
	 * socket buffer, a second of a whole table's 150,000 messages. */
	nlh = nfnl_request(b->buf + b->len, NFNL_SUBSYS_NFTABLES, (uint8_t)type,
	    flags, NFSET_FAMILY, 0, b->seq0 + 1 + (uint32_t)b->nmsg);
	b->nmsg++;
	return nlh;
}

/* A new message of type NEWSETELEM or DELSETELEM for set name. */
static int
open_msg(struct nfset *b, int type, const char *name, bool elements)
{
	struct nlmsghdr *nlh;

	if ((nlh = begin_msg(b, type, type == NFT_MSG_NEWSETELEM ?
	    NLM_F_CREATE : 0, ROOM)) == NULL)
		return -1;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFTC_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	b->nest = elements ? (long)((char *)mnl_attr_nest_start(nlh,
	    NFTA_SET_ELEM_LIST_ELEMENTS) - b->buf) : -1;
	b->len = (size_t)b->msg + nlh->nlmsg_len;
	b->add = type == NFT_MSG_NEWSETELEM;
	snprintf(b->set, sizeof(b->set), "%s", name);
	return 0;
}

struct nlmsghdr *
nfset_open(struct nfset *b, int type, uint16_t flags)
{
	struct nlmsghdr *nlh = begin_msg(b, type, flags, MSG_ROOM);

	if (nlh != NULL)
		b->set[0] = '\0';	/* elements start a message of their own */
	return nlh;
}

void
nfset_close(struct nfset *b)
{
	close_msg(b);
}

const void *
nfset_bytes(struct nfset *b, size_t *len)
{
	close_msg(b);
	*len = b->len;
	return b->buf;
}

int
nfset_flush(struct nfset *b, const char *name)
{
	if (open_msg(b, NFT_MSG_DELSETELEM, name, false) == -1)
		return -1;
	close_msg(b);
	return 0;
}

/* An element's verdict (d: a map's), and its user data as libnftables
 * writes it (libnftnl's TLVs): its comment (NFTNL_UDATA_SET_ELEM_COMMENT,
 * 0: the string with its NUL), and for an interval without an end
 * element (up to the family's last address) the flag that says so
 * (NFTNL_UDATA_SET_ELEM_FLAGS, 1: NFTNL_SET_ELEM_F_INTERVAL_OPEN, a
 * 32-bit number in the host's order). */
static void
put_data(struct nlmsghdr *nlh, const struct nfset_data *d, bool open)
{
	unsigned char ud[2 + sizeof(d->comment) + 2 + 4];
	uint32_t f = 1;
	size_t n = 0, c;

	if (d != NULL) {
		struct nlattr *data, *v;

		data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE,
		    htonl((uint32_t)d->code));
		if (d->chain[0] != '\0')
			mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, d->chain);
		mnl_attr_nest_end(nlh, v);
		mnl_attr_nest_end(nlh, data);
		if ((c = strnlen(d->comment, sizeof(d->comment) - 1)) > 0) {
			ud[n++] = 0;
			ud[n++] = (unsigned char)(c + 1);
			memcpy(ud + n, d->comment, c);
			n += c;
			ud[n++] = '\0';
		}
	}
	if (open) {
		ud[n++] = 1;
		ud[n++] = sizeof(f);
		memcpy(ud + n, &f, sizeof(f));
		n += sizeof(f);
	}
	if (n > 0)
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, n, ud);
}

/* One element: key k (len bytes, network order), an interval's end or
 * start, with data d (a map's verdict, a comment) or none. */
static int
put_elem(struct nfset *b, bool add, const char *name, const void *k,
    size_t len, bool end, bool open, const struct nfset_data *d)
{
	struct nlmsghdr *nlh;
	struct nlattr *e, *key;

	if (b->msg == -1 || b->add != add || strcmp(b->set, name) != 0 ||
	    (b->nest != -1 && b->len - (size_t)b->nest > NEST_MAX)) {
		if (open_msg(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
		    name, true) == -1)
			return -1;
	}
	if (room(b, ROOM) == -1)
		return -1;
	nlh = at(b, b->msg);
	e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, k);
	mnl_attr_nest_end(nlh, key);
	if (end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
		    htonl(NFT_SET_ELEM_INTERVAL_END));
	if (add && !end)
		put_data(nlh, d, open);
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
	if (put_elem(b, add, name, k, n, false, hi == last, NULL) == -1)
		return -1;
	/* An interval up to the last address has no end element. */
	if (hi == last)
		return 0;
	n = key_of(hi + 1, f, k);
	return put_elem(b, add, name, k, n, true, false, NULL);
}

int
nfset_raw(struct nfset *b, bool add, const char *name, const void *k,
    size_t len, bool end, bool open, const struct nfset_data *d)
{
	if (len > 16)
		return -1;
	return put_elem(b, add, name, k, len, end, open, d);
}

/* What the message of sequence number seq is about, for the kernel's word
 * on it ("a rule of chain zone_LAN", "set LAN_v4's elements"), read from
 * the message itself in the batch. */
static void
describe(const struct nfset *b, uint32_t seq, char *out, size_t size)
{
	static const struct {
		uint8_t		 type;
		uint16_t	 name;	/* the attribute that names it */
		const char	*fmt;
	} what[] = {
		{ NFT_MSG_NEWTABLE, 0, "the table" },
		{ NFT_MSG_DELTABLE, 0, "the table" },
		{ NFT_MSG_NEWCHAIN, NFTA_CHAIN_NAME, "chain %s" },
		{ NFT_MSG_DELCHAIN, NFTA_CHAIN_NAME, "chain %s" },
		{ NFT_MSG_NEWRULE, NFTA_RULE_CHAIN, "a rule of chain %s" },
		{ NFT_MSG_DELRULE, NFTA_RULE_CHAIN, "a rule of chain %s" },
		{ NFT_MSG_NEWSET, NFTA_SET_NAME, "set %s" },
		{ NFT_MSG_DELSET, NFTA_SET_NAME, "set %s" },
		{ NFT_MSG_NEWSETELEM, NFTA_SET_ELEM_LIST_SET,
		  "set %s's elements" },
		{ NFT_MSG_DELSETELEM, NFTA_SET_ELEM_LIST_SET,
		  "set %s's elements" },
		{ NFT_MSG_NEWOBJ, NFTA_OBJ_NAME, "counter %s" },
		{ NFT_MSG_DELOBJ, NFTA_OBJ_NAME, "counter %s" },
	};
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
	int left = (int)b->len;
	const struct nlattr *a;
	const char *name = "?";
	size_t i;

	snprintf(out, size, "the batch");
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_seq == seq)
			break;
	if (!mnl_nlmsg_ok(nlh, left) || seq == b->seq0)
		return;
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++)
		if (what[i].type == (nlh->nlmsg_type & 0xff))
			break;
	if (i == sizeof(what) / sizeof(what[0]))
		return;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == what[i].name &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
	if (strncmp(name, "__", 2) == 0)
		name = "(anonymous)";	/* "__set%d": the kernel's number */
	snprintf(out, size, what[i].fmt, name);
}

/* The kernel's answers: an ack (error 0) or an error for each message
 * that asked; -1 with err at the first error. */
static int
answers(struct mnl_socket *nl, struct nfset *b, int timeout_ms,
    struct strbuf *err)
{
	static char rbuf[1 << 16];
	long long deadline = clock_ms() + timeout_ms;
	bool last = false;
	int failed = 0;

	while (!last) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl),
		    .events = POLLIN };
		long long left = deadline - clock_ms();
		const struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			if (!failed)
				strbuf_printf(err, "the kernel did not answer "
				    "within %d ms (%zu messages)", timeout_ms,
				    b->nmsg);
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
			if (e->msg.nlmsg_seq == b->seq0 + (uint32_t)b->nmsg)
				last = true;
			if (e->error != 0 && !failed) {
				char what[160];

				describe(b, e->msg.nlmsg_seq, what,
				    sizeof(what));
				strbuf_printf(err, "the kernel refused %s: %s",
				    what, strerror(-e->error));
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

int
nfset_commit(struct nfset *b, int timeout_ms, struct strbuf *err)
{
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	int rc = -1, size;

	if (b->nmsg == 0)
		return 0;
	close_msg(b);
	at(b, b->last)->nlmsg_flags |= NLM_F_ACK;
	if (room(b, ROOM) == -1) {
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
	 * the request: room for an error of every message. */
	size = b->nmsg > ((1u << 30) - (1u << 20)) / 4096 ? 1 << 30 :
	    (int)(b->nmsg * 4096 + (1 << 20));
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

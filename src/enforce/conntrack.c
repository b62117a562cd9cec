/* conntrack.c: the connection tracking table; see conntrack.h.  The only
 * file that includes <libnetfilter_conntrack/libnetfilter_conntrack.h>. */
#include "enforce/conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

struct listing {
	struct ct_flow	*v;
	size_t		 n, cap;
	bool		 full;
};

static u128
v6_value(const uint8_t *b)
{
	u128 a = 0;
	int i;

	for (i = 0; i < 16; i++)
		a = a << 8 | b[i];
	return a;
}

static void
v6_bytes(u128 a, uint8_t *b)
{
	int i;

	for (i = 15; i >= 0; i--, a >>= 8)
		b[i] = (uint8_t)a;
}

static bool
has_ports(int proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	    proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE ||
	    proto == IPPROTO_DCCP;
}

static int
collect(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *arg)
{
	struct listing *l = arg;
	struct ct_flow *f;

	(void)type;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ct_flow *v;

		if (cap > CONNTRACK_MAX || (v = realloc(l->v, cap *
		    sizeof(*v))) == NULL) {
			l->full = true;
			return NFCT_CB_STOP;
		}
		l->v = v;
		l->cap = cap;
	}
	f = &l->v[l->n];
	memset(f, 0, sizeof(*f));
	f->family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	f->proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	if (f->family == AF_INET) {
		f->src = V4_BASE | ntohl(nfct_get_attr_u32(ct,
		    ATTR_ORIG_IPV4_SRC));
		f->dst = V4_BASE | ntohl(nfct_get_attr_u32(ct,
		    ATTR_ORIG_IPV4_DST));
	} else if (f->family == AF_INET6) {
		f->src = v6_value(nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC));
		f->dst = v6_value(nfct_get_attr(ct, ATTR_ORIG_IPV6_DST));
	} else
		return NFCT_CB_CONTINUE;
	if (has_ports(f->proto)) {
		f->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
		f->dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	} else if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) {
		f->icmp_type = nfct_get_attr_u8(ct, ATTR_ICMP_TYPE);
		f->icmp_code = nfct_get_attr_u8(ct, ATTR_ICMP_CODE);
		f->icmp_id = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
	}
	if (nfct_attr_is_set(ct, ATTR_ZONE) > 0)
		f->zone = nfct_get_attr_u16(ct, ATTR_ZONE);
	f->mark = nfct_get_attr_u32(ct, ATTR_MARK);
	l->n++;
	return NFCT_CB_CONTINUE;
}

#define CT_LIST_S	5

int
conntrack_each_marked(uint32_t value, uint32_t mask,
    int (*fn)(const struct ct_flow *, void *), void *arg, struct strbuf *err)
{
	struct nfct_filter_dump_mark m = { value & mask, mask };
	struct nfct_filter_dump *fd = NULL;
	struct nfct_handle *h;
	struct listing l = { NULL, 0, 0, false };
	size_t i, n = 0;
	int rc = -1;

	if ((h = nfct_open(CONNTRACK, 0)) == NULL) {
		strbuf_printf(err, "conntrack: %s", strerror(errno));
		return -1;
	}
	/* The listing's parts come within CT_LIST_S each, or it fails. */
	(void)setsockopt(nfct_fd(h), SOL_SOCKET, SO_RCVTIMEO,
	    &(struct timeval){ CT_LIST_S, 0 }, sizeof(struct timeval));
	if ((fd = nfct_filter_dump_create()) == NULL) {
		strbuf_puts(err, "conntrack: out of memory");
		goto out;
	}
	nfct_filter_dump_set_attr(fd, NFCT_FILTER_DUMP_MARK, &m);
	nfct_callback_register(h, NFCT_T_ALL, collect, &l);
	if (nfct_query(h, NFCT_Q_DUMP_FILTER, fd) == -1 && !l.full) {
		strbuf_printf(err, "conntrack: listing: %s", strerror(errno));
		goto out;
	}
	/* The kernel filters by mark; looked at again, in case an old one
	 * does not. */
	for (i = 0; i < l.n; i++) {
		if ((l.v[i].mark & mask) != (value & mask))
			continue;
		n++;
		if (fn(&l.v[i], arg) == -1)
			break;
	}
	rc = (int)n;
out:
	if (fd != NULL)
		nfct_filter_dump_destroy(fd);
	nfct_close(h);
	free(l.v);
	return rc;
}

/* A conntrack object naming f's original tuple, or NULL. */
static struct nf_conntrack *
tuple_of(const struct ct_flow *f)
{
	struct nf_conntrack *ct = nfct_new();
	uint8_t b[16];

	if (ct == NULL)
		return NULL;
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, (uint8_t)f->family);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, (uint8_t)f->proto);
	if (f->family == AF_INET) {
		nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, htonl((uint32_t)f->src));
		nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, htonl((uint32_t)f->dst));
	} else {
		v6_bytes(f->src, b);
		nfct_set_attr(ct, ATTR_ORIG_IPV6_SRC, b);
		v6_bytes(f->dst, b);
		nfct_set_attr(ct, ATTR_ORIG_IPV6_DST, b);
	}
	if (has_ports(f->proto)) {
		nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(f->sport));
		nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(f->dport));
	} else if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) {
		nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, f->icmp_type);
		nfct_set_attr_u8(ct, ATTR_ICMP_CODE, f->icmp_code);
		nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(f->icmp_id));
	}
	if (f->zone != 0)
		nfct_set_attr_u16(ct, ATTR_ZONE, f->zone);
	return ct;
}

/* One handle for every removal and re-marking (a failover removes
 * thousands: a socket each was most of its time), its answers waited for
 * at most CT_ANSWER_S: the root parent's loop never waits without end. */
#define CT_ANSWER_S	1

static struct nfct_handle *qh;

static struct nfct_handle *
query_handle(void)
{
	struct timeval tv = { CT_ANSWER_S, 0 };

	if (qh != NULL)
		return qh;
	if ((qh = nfct_open(CONNTRACK, 0)) == NULL)
		return NULL;
	(void)setsockopt(nfct_fd(qh), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
	return qh;
}

static int
query(const struct ct_flow *f, enum nf_conntrack_query q, uint32_t mark,
    const char *what, struct strbuf *err)
{
	struct nfct_handle *h;
	struct nf_conntrack *ct;
	int rc = -1;

	if ((h = query_handle()) == NULL) {
		strbuf_printf(err, "conntrack: %s", strerror(errno));
		return -1;
	}
	if ((ct = tuple_of(f)) == NULL)
		strbuf_puts(err, "conntrack: out of memory");
	else {
		if (q == NFCT_Q_UPDATE)
			nfct_set_attr_u32(ct, ATTR_MARK, mark);
		if (nfct_query(h, q, ct) == 0)
			rc = 0;
		else if (errno == ENOENT)
			rc = 1;
		else {
			strbuf_printf(err, "conntrack: %s: %s", what,
			    strerror(errno));
			/* A timed-out answer may come late: a new socket
			 * for the next one. */
			nfct_close(qh);
			qh = NULL;
		}
		nfct_destroy(ct);
	}
	return rc;
}

int
conntrack_delete(const struct ct_flow *f, struct strbuf *err)
{
	return query(f, NFCT_Q_DESTROY, 0, "removing a connection", err);
}

int
conntrack_set_mark(const struct ct_flow *f, uint32_t value, uint32_t mask,
    struct strbuf *err)
{
	return query(f, NFCT_Q_UPDATE, (f->mark & ~mask) | (value & mask),
	    "marking a connection", err);
}

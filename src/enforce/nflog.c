/* nflog.c: NFLOG over libmnl; see nflog.h.  The socket binds the group
 * (NFULNL_CFG_CMD_BIND), asks for the packet's first bytes, sequence
 * numbers (so that what the kernel lost is counted, not guessed) and a
 * short flush time; a large receive buffer takes bursts. */
#include "enforce/nflog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "enforce/nfnl.h"

#define NFLOG_BUF	(256 * 1024)	/* one read: a kernel batch */
#define NFLOG_RCVBUF	(8 * 1024 * 1024)

struct nflog {
	struct mnl_socket	*nl;
	unsigned		 portid;
	uint16_t		 group;
	bool			 seq_known;
	uint32_t		 next_seq;
	char			*buf;
};

static struct nlmsghdr *
config_msg(char *buf, uint16_t group, uint8_t family, unsigned seq)
{
	/* zeroed: libmnl leaves an attribute's padding as it finds it */
	memset(buf, 0, 256);
	return nfnl_request(buf, NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG, NLM_F_ACK,
	    family, group, seq);
}

/* Send a config message and wait for its acknowledgement. */
static int
talk(struct nflog *n, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t got;
	int rc;

	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		if ((got = mnl_socket_recvfrom(n->nl, buf, sizeof(buf))) < 0)
			return -1;
		rc = mnl_cb_run(buf, (size_t)got, nlh->nlmsg_seq, n->portid,
		    NULL, NULL);
	} while (rc > 0);
	return rc < 0 ? -1 : 0;
}

struct nflog *
nflog_open(uint16_t group, unsigned copy, struct strbuf *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nflog *n = calloc(1, sizeof(*n));
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(copy),
	    .copy_mode = NFULNL_COPY_PACKET };
	struct nlmsghdr *nlh;
	int size = NFLOG_RCVBUF;
	unsigned seq = (unsigned)time(NULL);
	const char *what = "socket";

	if (n == NULL || (n->buf = malloc(NFLOG_BUF)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	n->group = group;
	if ((n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	n->portid = mnl_socket_get_portid(n->nl);
	/* Past the default limit if we may (root), else what we get. */
	if (setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &size, sizeof(size)) == -1)
		setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUF,
		    &size, sizeof(size));
	what = "binding the group";
	nlh = config_msg(buf, group, AF_UNSPEC, ++seq);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (talk(n, nlh) == -1)
		goto fail;
	what = "configuring the group";
	nlh = config_msg(buf, group, AF_UNSPEC, ++seq);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(10));	/* 0.1 s */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(64));
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(128 * 1024));
	if (talk(n, nlh) == -1)
		goto fail;
	return n;
fail:
	strbuf_printf(err, "NFLOG group %u: %s: %s%s", (unsigned)group, what,
	    strerror(errno), errno == EBUSY ? " (another program listens "
	    "to it: ulogd, or another moatd)" : "");
	nflog_close(n);
	return NULL;
}

void
nflog_close(struct nflog *n)
{
	if (n == NULL)
		return;
	if (n->nl != NULL)
		mnl_socket_close(n->nl);
	free(n->buf);
	free(n);
}

int
nflog_fd(const struct nflog *n)
{
	return mnl_socket_get_fd(n->nl);
}

struct attrs {
	const struct nlattr	*tb[NFULA_MAX + 1];
	const char		*end;	/* of the message, as it says */
	bool			 bad;
};

static int
attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	int type = mnl_attr_get_type(attr);

	/* libmnl bounds attributes by the message's aligned length: one
	 * that says it is shorter than that must still hold them. */
	if ((const char *)attr + attr->nla_len > a->end) {
		a->bad = true;
		return MNL_CB_ERROR;
	}
	if (mnl_attr_type_valid(attr, NFULA_MAX) < 0)
		return MNL_CB_OK;	/* newer than us: skipped */
	switch (type) {
	case NFULA_IFINDEX_INDEV:
	case NFULA_IFINDEX_OUTDEV:
	case NFULA_SEQ:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			a->bad = true;
		break;
	case NFULA_PREFIX:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			a->bad = true;
		break;
	}
	a->tb[type] = attr;
	return MNL_CB_OK;
}

int
nflog_parse(const void *msg, size_t len, struct nflog_pkt *pkt)
{
	const struct nlmsghdr *nlh = msg;
	const struct nfgenmsg *nfg;
	struct attrs a;

	memset(pkt, 0, sizeof(*pkt));
	memset(&a, 0, sizeof(a));
	/* (mnl_nlmsg_ok takes the length as an int: 2^31 passed; and libmnl
	 * walks the attributes to the message's aligned end) */
	if (len < sizeof(*nlh) || len > INT_MAX || nlh->nlmsg_len > len ||
	    MNL_ALIGN(nlh->nlmsg_len) > len || !mnl_nlmsg_ok(nlh, (int)len) ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		return -1;
	nfg = mnl_nlmsg_get_payload(nlh);
	a.end = (const char *)msg + nlh->nlmsg_len;
	if (mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, &a) != MNL_CB_OK ||
	    a.bad)
		return -1;
	pkt->family = nfg->nfgen_family;
	if (a.tb[NFULA_PREFIX] != NULL)
		pkt->prefix = mnl_attr_get_str(a.tb[NFULA_PREFIX]);
	if (a.tb[NFULA_IFINDEX_INDEV] != NULL)
		pkt->indev = ntohl(mnl_attr_get_u32(a.tb[NFULA_IFINDEX_INDEV]));
	if (a.tb[NFULA_IFINDEX_OUTDEV] != NULL)
		pkt->outdev = ntohl(mnl_attr_get_u32(
		    a.tb[NFULA_IFINDEX_OUTDEV]));
	if (a.tb[NFULA_SEQ] != NULL) {
		pkt->has_seq = true;
		pkt->seq = ntohl(mnl_attr_get_u32(a.tb[NFULA_SEQ]));
	}
	if (a.tb[NFULA_PAYLOAD] != NULL) {
		pkt->payload = mnl_attr_get_payload(a.tb[NFULA_PAYLOAD]);
		pkt->plen = mnl_attr_get_payload_len(a.tb[NFULA_PAYLOAD]);
	}
	return 0;
}

int
nflog_read(struct nflog *n, void (*fn)(void *arg, const struct nflog_pkt *pkt),
    void *arg, uint64_t *lost)
{
	const struct nlmsghdr *nlh;
	struct nflog_pkt pkt;
	ssize_t got;
	int len, count = 0;

	got = recv(mnl_socket_get_fd(n->nl), n->buf, NFLOG_BUF, MSG_DONTWAIT);
	if (got < 0)
		return -1;	/* ENOBUFS: the next sequence number says
				   how many were lost */
	len = (int)got;
	for (nlh = (const struct nlmsghdr *)n->buf; mnl_nlmsg_ok(nlh, len);
	    nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nflog_parse(nlh, nlh->nlmsg_len, &pkt) == -1)
			continue;
		if (pkt.has_seq) {
			uint32_t gap = pkt.seq - n->next_seq;

			if (n->seq_known && gap != 0 && gap < (1u << 30))
				*lost += gap;
			n->seq_known = true;
			n->next_seq = pkt.seq + 1;
		}
		fn(arg, &pkt);
		count++;
	}
	return count;
}

/* nftrace.c: trace events over libmnl; see nftrace.h. */
#include "enforce/nftrace.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TRACE_BUF	(64 * 1024)

struct nftrace {
	struct mnl_socket	*nl;
	char			*buf;
};

struct nftrace *
nftrace_open(struct strbuf *err)
{
	struct nftrace *t = calloc(1, sizeof(*t));
	int group = NFNLGRP_NFTRACE, size = 4 << 20;

	if (t == NULL || (t->buf = malloc(TRACE_BUF)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if ((t->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL || mnl_socket_bind(t->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(t->nl, NETLINK_ADD_MEMBERSHIP, &group,
	    sizeof(group)) < 0)
		goto fail;
	setsockopt(mnl_socket_get_fd(t->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size));
	return t;
fail:
	strbuf_printf(err, "trace events: %s", strerror(errno));
	nftrace_close(t);
	return NULL;
}

void
nftrace_close(struct nftrace *t)
{
	if (t == NULL)
		return;
	if (t->nl != NULL)
		mnl_socket_close(t->nl);
	free(t->buf);
	free(t);
}

int
nftrace_fd(const struct nftrace *t)
{
	return mnl_socket_get_fd(t->nl);
}

struct attrs {
	const struct nlattr	*tb[NFTA_TRACE_MAX + 1];
	const char		*end;
	bool			 bad;
};

static int
attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	int type = mnl_attr_get_type(attr);

	if ((const char *)attr + attr->nla_len > a->end) {
		a->bad = true;
		return MNL_CB_ERROR;
	}
	if (mnl_attr_type_valid(attr, NFTA_TRACE_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case NFTA_TRACE_TABLE:
	case NFTA_TRACE_CHAIN:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			a->bad = true;
		break;
	case NFTA_TRACE_ID:
	case NFTA_TRACE_TYPE:
	case NFTA_TRACE_IIF:
	case NFTA_TRACE_OIF:
	case NFTA_TRACE_NFPROTO:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			a->bad = true;
		break;
	case NFTA_TRACE_RULE_HANDLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			a->bad = true;
		break;
	case NFTA_TRACE_VERDICT:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			a->bad = true;
		break;
	}
	a->tb[type] = attr;
	return MNL_CB_OK;
}

static int
verdict_cb(const struct nlattr *attr, void *data)
{
	struct nftrace_ev *ev = data;

	switch (mnl_attr_get_type(attr)) {
	case NFTA_VERDICT_CODE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			ev->verdict = (int)ntohl(mnl_attr_get_u32(attr));
			ev->has_verdict = true;
		}
		break;
	case NFTA_VERDICT_CHAIN:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(ev->target, sizeof(ev->target), "%s",
			    mnl_attr_get_str(attr));
		break;
	}
	return MNL_CB_OK;
}

static uint32_t
u32_of(const struct nlattr *a)
{
	return a != NULL ? ntohl(mnl_attr_get_u32(a)) : 0;
}

int
nftrace_parse(const void *msg, size_t len, struct nftrace_ev *ev)
{
	const struct nlmsghdr *nlh = msg;
	struct attrs a;

	memset(ev, 0, sizeof(*ev));
	memset(&a, 0, sizeof(a));
	if (len < sizeof(*nlh) || !mnl_nlmsg_ok(nlh, (int)len) ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return -1;
	a.end = (const char *)msg + nlh->nlmsg_len;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, &a) !=
	    MNL_CB_OK || a.bad || a.tb[NFTA_TRACE_ID] == NULL)
		return -1;
	ev->id = u32_of(a.tb[NFTA_TRACE_ID]);
	ev->family = ((const struct nfgenmsg *)mnl_nlmsg_get_payload(
	    nlh))->nfgen_family;
	if (a.tb[NFTA_TRACE_TABLE] != NULL)
		snprintf(ev->table, sizeof(ev->table), "%s",
		    mnl_attr_get_str(a.tb[NFTA_TRACE_TABLE]));
	if (a.tb[NFTA_TRACE_CHAIN] != NULL)
		snprintf(ev->chain, sizeof(ev->chain), "%s",
		    mnl_attr_get_str(a.tb[NFTA_TRACE_CHAIN]));
	if (a.tb[NFTA_TRACE_RULE_HANDLE] != NULL)
		ev->handle = be64toh(mnl_attr_get_u64(
		    a.tb[NFTA_TRACE_RULE_HANDLE]));
	switch (u32_of(a.tb[NFTA_TRACE_TYPE])) {
	case NFT_TRACETYPE_POLICY: ev->type = NFTRACE_POLICY; break;
	case NFT_TRACETYPE_RETURN: ev->type = NFTRACE_RETURN; break;
	case NFT_TRACETYPE_RULE: ev->type = NFTRACE_RULE; break;
	default: ev->type = NFTRACE_OTHER; break;
	}
	if (a.tb[NFTA_TRACE_VERDICT] != NULL)
		mnl_attr_parse_nested(a.tb[NFTA_TRACE_VERDICT], verdict_cb, ev);
	if (a.tb[NFTA_TRACE_POLICY] != NULL && !ev->has_verdict &&
	    mnl_attr_validate(a.tb[NFTA_TRACE_POLICY], MNL_TYPE_U32) == 0) {
		ev->verdict = (int)u32_of(a.tb[NFTA_TRACE_POLICY]);
		ev->has_verdict = true;
	}
	ev->iif = u32_of(a.tb[NFTA_TRACE_IIF]);
	ev->oif = u32_of(a.tb[NFTA_TRACE_OIF]);
	ev->nfproto = (int)u32_of(a.tb[NFTA_TRACE_NFPROTO]);
	if (a.tb[NFTA_TRACE_NETWORK_HEADER] != NULL) {
		ev->nh = mnl_attr_get_payload(a.tb[NFTA_TRACE_NETWORK_HEADER]);
		ev->nhlen = mnl_attr_get_payload_len(
		    a.tb[NFTA_TRACE_NETWORK_HEADER]);
	}
	if (a.tb[NFTA_TRACE_TRANSPORT_HEADER] != NULL) {
		ev->th = mnl_attr_get_payload(a.tb[NFTA_TRACE_TRANSPORT_HEADER]);
		ev->thlen = mnl_attr_get_payload_len(
		    a.tb[NFTA_TRACE_TRANSPORT_HEADER]);
	}
	return 0;
}

int
nftrace_read(struct nftrace *t, void (*fn)(void *arg,
    const struct nftrace_ev *ev), void *arg)
{
	const struct nlmsghdr *nlh;
	struct nftrace_ev ev;
	ssize_t got;
	int len, n = 0;

	got = recv(mnl_socket_get_fd(t->nl), t->buf, TRACE_BUF, MSG_DONTWAIT);
	if (got < 0)
		return -1;
	len = (int)got;
	for (nlh = (const struct nlmsghdr *)t->buf; mnl_nlmsg_ok(nlh, len);
	    nlh = mnl_nlmsg_next(nlh, &len))
		if (nftrace_parse(nlh, nlh->nlmsg_len, &ev) == 0) {
			fn(arg, &ev);
			n++;
		}
	return n;
}

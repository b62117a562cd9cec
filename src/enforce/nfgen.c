/* nfgen.c: NFT_MSG_GETGEN over libmnl; see nfgen.h. */
#include "enforce/nfgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "enforce/nfnl.h"

struct gen_answer {
	uint32_t	gen;
	int		found;
};

static int
gen_attr(const struct nlattr *a, void *data)
{
	struct gen_answer *g = data;

	if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
		g->gen = ntohl(mnl_attr_get_u32(a));
		g->found = 1;
	}
	return MNL_CB_OK;
}

static int
gen_msg(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, data);
}

int
nfgen_read(uint32_t *gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct gen_answer g = { 0, 0 };
	unsigned seq = (unsigned)time(NULL), portid;
	ssize_t n;
	int rc = -1, saved;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	/* zeroed: libmnl leaves an attribute's padding as it finds it */
	memset(buf, 0, 256);
	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETGEN, NLM_F_ACK,
	    AF_UNSPEC, 0, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, gen_msg, &g);

		if (r == MNL_CB_ERROR)
			goto out;
		if (r == MNL_CB_STOP)
			break;
	}
	if (g.found) {
		*gen = g.gen;
		rc = 0;
	} else
		errno = ENOENT;
out:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return rc;
}

/* GETTABLE's answer: an error message (ENOENT: none), or the table with
 * its flags. */
struct table_answer {
	int		found;
	uint32_t	flags;
};

static int
table_attr(const struct nlattr *a, void *data)
{
	struct table_answer *t = data;

	if (mnl_attr_get_type(a) == NFTA_TABLE_FLAGS &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		t->flags = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static int
table_msg(const struct nlmsghdr *nlh, void *data)
{
	struct table_answer *t = data;

	t->found = 1;
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), table_attr, data);
}

/* GETCHAIN's answer: the chain, or an error message (ENOENT: none). */
static int
chain_msg(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	*(int *)data = 1;
	return MNL_CB_OK;
}

/* Ask the kernel for one object of table inet table: the table itself
 * (GETTABLE), or its chain of that name (GETCHAIN); its answer through
 * cb, which sets *found.  1 (found), 0 (ENOENT), or -1 (errno). */
static int
ask_one(int type, const char *table, const char *chain, mnl_cb_t cb,
    void *data, const int *found)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL), portid;
	ssize_t n;
	int rc = -1, saved;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	memset(buf, 0, 256);	/* the padding, as above */
	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, (uint16_t)type,
	    NLM_F_ACK, 1 /* NFPROTO_INET */, 0, seq);
	if (chain == NULL)
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
	else {
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		int r;

		if ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			goto out;	/* not known: not "none" */
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r == MNL_CB_ERROR) {
			if (errno == ENOENT)
				rc = 0;
			goto out;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	rc = *found;
out:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return rc;
}

int
nfgen_chain_exists(const char *table, const char *chain)
{
	int found = 0;

	return ask_one(NFT_MSG_GETCHAIN, table, chain, chain_msg, &found,
	    &found);
}

int
nfgen_table_flags(const char *name, uint32_t *flags)
{
	struct table_answer t = { 0, 0 };
	int rc = ask_one(NFT_MSG_GETTABLE, name, NULL, table_msg, &t,
	    &t.found);

	if (rc == 1)
		*flags = t.flags;
	return rc;
}

int
nfgen_table_exists(const char *name)
{
	uint32_t flags;

	return nfgen_table_flags(name, &flags);
}

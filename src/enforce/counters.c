/* counters.c: see counters.h.  The counters are dumped over netlink
 * (libmnl): NFT_MSG_GETOBJ for the counter objects of table inet moat,
 * one NFT_MSG_NEWOBJ answer each.  A libnftables JSON listing did the
 * same in 20 ms for a 1,000-rule policy; this takes about one, and the
 * console's dashboard asks every few seconds. */
#include "enforce/counters.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "enforce/nfnl.h"

struct acc {
	struct counter	*v;
	size_t		 n, cap;
	bool		 bad;		/* a malformed answer */
	bool		 full;		/* out of memory */
};

static int
obj_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFTA_OBJ_MAX) < 0)
		return MNL_CB_OK;	/* newer than us: ignored */
	switch (type) {
	case NFTA_OBJ_TABLE:
	case NFTA_OBJ_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case NFTA_OBJ_TYPE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case NFTA_OBJ_DATA:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = a;
	return MNL_CB_OK;
}

static int
counter_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFTA_COUNTER_MAX) < 0)
		return MNL_CB_OK;
	if ((type == NFTA_COUNTER_BYTES || type == NFTA_COUNTER_PACKETS) &&
	    mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

/* One NFT_MSG_NEWOBJ: 1 and k filled when it is a counter of our table,
 * 0 when it is something else, -1 when it is malformed. */
static int
parse_obj(const struct nlmsghdr *nlh, struct counter *k)
{
	const struct nlattr *tb[NFTA_OBJ_MAX + 1] = { NULL };
	const struct nlattr *cb[NFTA_COUNTER_MAX + 1] = { NULL };
	const struct nfgenmsg *nfg;
	const char *name;

	/* The kernel's messages are whole and aligned; libmnl reads up to
	 * the alignment, so a length that is not is not trusted. */
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)) ||
	    nlh->nlmsg_len % MNL_ALIGNTO != 0)
		return -1;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*nfg), obj_attr, tb) < 0)
		return -1;
	/* Every object the kernel sends has its table, name and type. */
	if (tb[NFTA_OBJ_TABLE] == NULL || tb[NFTA_OBJ_NAME] == NULL ||
	    tb[NFTA_OBJ_TYPE] == NULL)
		return -1;
	if (nfg->nfgen_family != NFPROTO_INET ||
	    strcmp(mnl_attr_get_str(tb[NFTA_OBJ_TABLE]), NFTC_TABLE) != 0 ||
	    ntohl(mnl_attr_get_u32(tb[NFTA_OBJ_TYPE])) != NFT_OBJECT_COUNTER)
		return 0;
	if (tb[NFTA_OBJ_DATA] == NULL ||
	    mnl_attr_parse_nested(tb[NFTA_OBJ_DATA], counter_attr, cb) < 0 ||
	    cb[NFTA_COUNTER_BYTES] == NULL || cb[NFTA_COUNTER_PACKETS] == NULL)
		return -1;
	name = mnl_attr_get_str(tb[NFTA_OBJ_NAME]);
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->what = nftc_counter_meaning(name, &k->number, &k->rule_id);
	k->packets = be64toh(mnl_attr_get_u64(cb[NFTA_COUNTER_PACKETS]));
	k->bytes = be64toh(mnl_attr_get_u64(cb[NFTA_COUNTER_BYTES]));
	return 1;
}

static int
on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct acc *a = data;
	struct counter k;
	int r;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ))
		return MNL_CB_OK;
	if ((r = parse_obj(nlh, &k)) == -1) {
		a->bad = true;
		return MNL_CB_ERROR;
	}
	if (r == 0)
		return MNL_CB_OK;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct counter *nv = realloc(a->v, cap * sizeof(*nv));

		if (nv == NULL) {
			a->full = true;
			return MNL_CB_ERROR;
		}
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = k;
	return MNL_CB_OK;
}

static int
finish(struct acc *a, int rc, struct counter **v, size_t *n,
    struct strbuf *err, const char *why)
{
	if (rc == -1) {
		strbuf_printf(err, "the kernel's counters: %s", a->full ?
		    "out of memory" : a->bad ? "a malformed answer" : why);
		free(a->v);
		*v = NULL;
		*n = 0;
		return -1;
	}
	*v = a->v;
	*n = a->n;
	return 0;
}

int
counters_parse(const void *buf, size_t len, struct counter **v, size_t *n,
    struct strbuf *err)
{
	struct acc a = { NULL, 0, 0, false, false };
	int r = mnl_cb_run(buf, len, 0, 0, on_msg, &a);

	return finish(&a, r == MNL_CB_ERROR || a.bad ? -1 : 0, v, n, err,
	    r == MNL_CB_ERROR ? strerror(errno) : "");
}

int
counters_read(struct counter **v, size_t *n, struct strbuf *err)
{
	char buf[32768];	/* a dump's batch of answers */
	struct acc a = { NULL, 0, 0, false, false };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL), portid;
	int rc = -1, r = MNL_CB_OK;
	ssize_t got;

	*v = NULL;
	*n = 0;
	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return finish(&a, -1, v, n, err, strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETOBJ, NLM_F_DUMP,
	    NFPROTO_INET, 0, seq);
	/* The kernel filters the dump: our table, counters only. */
	mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, NFTC_TABLE);
	mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((got = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)got, seq, portid, on_msg, &a);
		if (r <= MNL_CB_STOP)
			break;
	}
	if (got >= 0 && r == MNL_CB_STOP)
		rc = 0;
	else if (r == MNL_CB_ERROR && errno == ENOENT) {
		rc = 0;		/* no table: no counters */
		errno = 0;
	}
out:
	{
		int saved = errno;

		mnl_socket_close(nl);
		errno = saved;
	}
	return finish(&a, rc, v, n, err, strerror(errno));
}

void
counters_number(struct counter *v, size_t n, const struct policy *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].what == NFTC_COUNTS_RULE && v[i].rule_id != 0)
			v[i].number = nftc_rule_number(p, v[i].rule_id, 0);
}

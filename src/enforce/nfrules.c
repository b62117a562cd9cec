/* nfrules.c: a chain's rule handles over nf_tables' netlink; see
 * nfrules.h. */
#include "enforce/nfrules.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "enforce/nfnl.h"

#define NFRULES_FAMILY	1	/* NFPROTO_INET */

struct handles {
	const char	*table, *chain;
	uint64_t	*v;
	size_t		 n, cap;
	int		 failed;
};

static int
on_rule(const struct nlmsghdr *nlh, void *data)
{
	struct handles *h = data;
	const struct nlattr *a;
	const char *table = NULL, *chain = NULL;
	uint64_t handle = 0;
	int have = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_RULE_TABLE:
			table = mnl_attr_get_str(a);
			break;
		case NFTA_RULE_CHAIN:
			chain = mnl_attr_get_str(a);
			break;
		case NFTA_RULE_HANDLE:
			if (mnl_attr_get_payload_len(a) == sizeof(uint64_t)) {
				handle = be64toh(mnl_attr_get_u64(a));
				have = 1;
			}
			break;
		}
	}
	if (!have || table == NULL || chain == NULL ||
	    strcmp(table, h->table) != 0 || strcmp(chain, h->chain) != 0)
		return MNL_CB_OK;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		uint64_t *v = realloc(h->v, cap * sizeof(*v));

		if (v == NULL) {
			h->failed = 1;
			return MNL_CB_ERROR;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = handle;
	return MNL_CB_OK;
}

int
nfrules_handles(const char *table, const char *chain, uint64_t **v,
    size_t *n, struct strbuf *err)
{
	static char buf[1 << 16];
	struct handles h = { table, chain, NULL, 0, 0, 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int rc;

	*v = NULL;
	*n = 0;
	if ((nl = nfnl_open()) == NULL) {
		strbuf_printf(err, "netlink: %s", strerror(errno));
		return -1;
	}
	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETRULE,
	    NLM_F_DUMP | NLM_F_ACK, NFRULES_FAMILY, 0, (unsigned)time(NULL));
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	/* (a dump a transaction cut: the caller reads the table again) */
	if ((rc = nfnl_dump(nl, buf, sizeof(buf), nlh, on_rule, &h,
	    clock_ms() + NFNL_ANSWER_S * 1000)) == NFNL_DUMP_CUT) {
		errno = EINTR;
		rc = -1;
	}
	if (rc == -1) {
		strbuf_printf(err, "chain %s: %s", chain, h.failed ?
		    "out of memory" : strerror(errno));
		free(h.v);
	} else {
		*v = h.v;
		*n = h.n;
	}
	mnl_socket_close(nl);
	return rc;
}

/* nfnl.h: the head of a request to the kernel's netfilter netlink
 * (nfnetlink: nf_tables, NFLOG), as nflog.c, nfgen.c and counters.c send
 * them, and a dump read to its end within a deadline (nfnl.c: foreign.c,
 * nfrules.c). */
#ifndef MOAT_NFNL_H
#define MOAT_NFNL_H

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Each answer of the kernel is waited for at most this long: a reader of
 * a table never hangs the root process. */
#define NFNL_ANSWER_S	5

/* A bound nfnetlink socket whose reads time out after NFNL_ANSWER_S, or
 * NULL with errno. */
static inline struct mnl_socket *
nfnl_open(void)
{
	struct timeval tv = { NFNL_ANSWER_S, 0 };
	struct mnl_socket *nl;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* Put a request's headers at buf: message msg of subsystem subsys, with
 * flags (NLM_F_REQUEST added), for family, res_id (host order), seq.
 * Attributes go after it with mnl_attr_put*. */
static inline struct nlmsghdr *
nfnl_request(char *buf, uint8_t subsys, uint8_t msg, uint16_t flags,
    uint8_t family, uint16_t res_id, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (uint16_t)((subsys << 8) | msg);
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

/* A dump cut by a change of the ruleset (NLM_F_DUMP_INTR): read it
 * again, on a fresh socket (the cut dump's rest may wait on this one). */
#define NFNL_DUMP_CUT	(-2)

/* Send the request at nlh on nl and run cb(msg, data) on each message of
 * its dump, read into buf (len bytes), every read waiting at most until
 * deadline (clock_ms): 0; NFNL_DUMP_CUT; or -1 with errno (ETIMEDOUT once
 * the deadline has passed, EIO when the kernel closed). */
int	nfnl_dump(struct mnl_socket *nl, char *buf, size_t len,
	    struct nlmsghdr *nlh, mnl_cb_t cb, void *data, long long deadline);

#endif

/* nftrace.h: the one door to nf_tables' trace events (NFT_MSG_TRACE,
 * netlink group NFNLGRP_NFTRACE, over libmnl): what a packet marked with
 * nftrace met, rule by rule, for `moat trace`. */
#ifndef MOAT_NFTRACE_H
#define MOAT_NFTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

enum nftrace_type {
	NFTRACE_OTHER = 0,
	NFTRACE_POLICY,		/* a base chain's policy decided */
	NFTRACE_RETURN,		/* the end of a chain: back to its caller */
	NFTRACE_RULE,		/* a rule matched, with its verdict */
};

/* One event; the pointers point into the buffer it was read into. */
struct nftrace_ev {
	uint32_t		 id;		/* the same for one packet */
	int			 family;	/* the table's: NFPROTO_INET... */
	char			 table[256], chain[256];	/* the kernel's
							   longest names */
	uint64_t		 handle;	/* the rule's, 0 without one */
	enum nftrace_type	 type;
	int			 verdict;	/* NF_ACCEPT, NF_DROP, NFT_JUMP... */
	bool			 has_verdict;
	char			 target[64];	/* jump or goto: the chain */
	uint32_t		 iif, oif;
	int			 nfproto;	/* NFPROTO_IPV4, _IPV6, ... */
	const uint8_t		*nh, *th;	/* network, transport headers */
	size_t			 nhlen, thlen;
};

struct nftrace;

/* Listen to trace events in this network namespace: NULL with err. */
struct nftrace	*nftrace_open(struct strbuf *err);
void		 nftrace_close(struct nftrace *t);
int		 nftrace_fd(const struct nftrace *t);
/* Read what is waiting and call fn for each event; the count, or -1 with
 * errno (EAGAIN: nothing waiting). */
int		 nftrace_read(struct nftrace *t,
		    void (*fn)(void *arg, const struct nftrace_ev *ev),
		    void *arg);
/* Parse one netlink message: 0, or -1 when it is not a trace event. */
int		 nftrace_parse(const void *msg, size_t len,
		    struct nftrace_ev *ev);

#endif

/* rtnl.h: the one door to the kernel's rtnetlink: the addresses this
 * host's devices have now, and word when they change (for interfaces that
 * say address dynamic); and the default routes of moat's own tables and
 * the ip rules that lead to them (gateways: doc/design/gateways.md). */
#ifndef MOAT_RTNL_H
#define MOAT_RTNL_H

#include "base/strbuf.h"
#include "policy/policy.h"

/* Every address of every device, as a binding (names are devices). */
struct host_addrs {
	struct binding		 b;
	struct bound_addr	*v;
	size_t			 cap;
};

/*
 * Read the addresses the devices of this network namespace have now,
 * those a dynamic interface stands for: host and link scope left out
 * (loopback, fe80::/10), and those that failed duplicate detection.  For
 * a point-to-point link the local address, with its prefix.  0, or -1
 * with the reason in err.
 */
int	 rtnl_addrs(struct host_addrs *h, struct strbuf *err);
void	 rtnl_addrs_free(struct host_addrs *h);
/* The addresses as text, one "DEVICE ADDR/PREFIX" a line, sorted: equal
 * texts, equal bindings. */
void	 rtnl_addrs_format(const struct host_addrs *h, struct strbuf *b);

/* A socket that hears of address and link changes (non-blocking), or -1
 * with errno. */
int	 rtnl_watch(void);
/* Read what the socket has: 1 when an address or a link changed (or
 * messages were lost: read the addresses again), 0 when nothing did, -1
 * on an error (errno). */
int	 rtnl_drain(int fd);

/* The routing protocol moat's routes and rules carry (`ip rule` says
 * "proto 109"): what tells them from the admin's. */
#define RTNL_MOAT_PROTO	109

/* A next hop: a gateway's address (addr.h's form) on a device. */
struct rtnl_hop {
	int		 ifindex;
	u128		 via;
};

/*
 * Make route table `table` of family fam hold exactly this default route:
 * through the one hop, through several sharing it (multipath, equal
 * weights), or none (n == 0: the table's default route removed, so the
 * lookup goes on to the next rule).  One message, so the kernel replaces
 * the route at once.  0, or -1 with err.
 */
int	 rtnl_default_route(enum addr_family fam, unsigned table,
	    const struct rtnl_hop *hops, size_t n, struct strbuf *err);

/* One ip rule: at prio, packets whose mark & mask == mark (mask 0: all
 * packets) look up table; suppress >= 0: a route of that prefix length or
 * shorter found there is ignored (`suppress_prefixlength`). */
struct rtnl_rule {
	unsigned	 prio;
	unsigned	 mark, mask;
	unsigned	 table;
	int		 suppress;
};

/*
 * Make moat's rules (protocol RTNL_MOAT_PROTO) of family fam whose
 * priority is in [lo, hi] exactly v[0..n): those already there are kept,
 * the others removed, the missing added.  Rules at other priorities, and
 * rules that are not moat's, are never touched.  0, or -1 with err.
 */
int	 rtnl_rules_set(enum addr_family fam, unsigned lo, unsigned hi,
	    const struct rtnl_rule *v, size_t n, struct strbuf *err);

#endif

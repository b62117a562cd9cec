/* rtnl.h: the one door to the kernel's rtnetlink: the addresses this
 * host's devices have now, and word when they change (for interfaces that
 * say address dynamic). */
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

#endif

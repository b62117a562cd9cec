/* route.h: the policy route TPROXY needs, set up with ip(8) (the only
 * file that runs it), and socket addresses for interface addresses. */
#ifndef MOAT_ROUTE_H
#define MOAT_ROUTE_H

#include <sys/socket.h>

#include "base/strbuf.h"
#include "policy/policy.h"

/* Packets marked mark are delivered locally: `ip rule fwmark mark lookup
 * table priority ROUTE_TPROXY_PRIO` (before the gateways' rules, which
 * would send them on: GW_RULE_PRIO) and `ip route local default dev lo table table`, IPv4 and IPv6;
 * nothing is added twice. */
#define ROUTE_TPROXY_PRIO	"10000"
int	 route_tproxy(unsigned mark, unsigned table, struct strbuf *err);
/* An interface address as a socket address with this port. */
void	 route_sockaddr(const struct if_addr *a, unsigned port,
	    struct sockaddr_storage *ss, socklen_t *len);

#endif

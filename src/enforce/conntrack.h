/* conntrack.h: the kernel's connection tracking table, over netlink
 * (libnetfilter_conntrack): the connections that carry a mark, found,
 * re-marked and removed.  Schedules remove what a closed window's rule
 * admitted (doc/design/schedules.md); a dead gateway link, what went
 * through it. */
#ifndef MOAT_CONNTRACK_H
#define MOAT_CONNTRACK_H

#include <stdint.h>

#include "base/addr.h"
#include "base/strbuf.h"

/* One connection, as its original direction (the first packet) saw it. */
struct ct_flow {
	int		 family;	/* AF_INET or AF_INET6 */
	int		 proto;		/* IP protocol number */
	u128		 src, dst;	/* addr.h's form: IPv4 in ::ffff:0:0/96 */
	uint16_t	 sport, dport;	/* tcp, udp, sctp, udplite, dccp */
	uint8_t		 icmp_type, icmp_code;	/* icmp, icmpv6 */
	uint16_t	 icmp_id;
	uint16_t	 zone;		/* conntrack zone */
	uint32_t	 mark;		/* ct mark, whole */
	char		 iif[16];	/* the input device, when known ("":
					   conntrack does not keep it) */
};

#define CONNTRACK_MAX	65536	/* connections one listing returns */

/* Call fn for every connection whose mark & mask == value & mask, both
 * families, at most CONNTRACK_MAX (the listing is read whole first, so
 * fn may call conntrack_delete).  fn returns 0, or -1 to stop.  The number
 * listed, or -1 with err filled. */
int	 conntrack_each_marked(uint32_t value, uint32_t mask,
	    int (*fn)(const struct ct_flow *, void *), void *arg,
	    struct strbuf *err);
/* Remove connection f from the table: its packets meet the rules again
 * as new ones.  0; 1 when it was gone already; -1 with err filled. */
int	 conntrack_delete(const struct ct_flow *f, struct strbuf *err);
/* Set the bits mask of f's mark to value's (the rest kept as f->mark
 * has them).  0; 1 when it was gone; -1 with err filled. */
int	 conntrack_set_mark(const struct ct_flow *f, uint32_t value,
	    uint32_t mask, struct strbuf *err);

#endif

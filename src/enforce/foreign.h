/* foreign.h: the base chains of tables other than moat's, read over
 * nf_tables' netlink: what else the kernel runs where moat filters
 * (Docker's, libvirt's, an admin's own tables).  moat never changes them,
 * but a packet meets them too: what one of them drops, moat's accept does
 * not let through, and a nat chain rewrites what moat's rules then see.
 * `moat status` lists them and `moat trace` tells their drops
 * (doc/design/other-tables.md). */
#ifndef MOAT_FOREIGN_H
#define MOAT_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* nf_tables' longest name, with its NUL (NFT_NAME_MAXLEN) */
#define FOREIGN_NAME	256

struct foreign_chain {
	int		 family;	/* NFPROTO_IPV4, _IPV6, _INET, _NETDEV,
					   _BRIDGE */
	char		 table[FOREIGN_NAME];	/* foreign_printable */
	char		 chain[FOREIGN_NAME];
	char		 type[16];	/* filter, nat, route */
	int		 hook;		/* NF_INET_* (netdev: NF_NETDEV_*) */
	int32_t		 priority;
	int		 policy;	/* NF_ACCEPT, NF_DROP; -1: none said */
	char		 device[FOREIGN_NAME];	/* netdev: its first, else "" */
	size_t		 nrules;
};

/* Base chains read at most: more are counted, not read. */
#define FOREIGN_MAX	256

/* The base chains of every table but inet moat that runs (not dormant),
 * of the families that see routed packets or their frames (ip, ip6,
 * inet, netdev, bridge), ordered by family, hook and priority, into a
 * malloc'd *v of *n (at most FOREIGN_MAX; *more the others): 0, or -1
 * with err.  A reading the ruleset's change cut is read again; the whole
 * takes at most a few seconds, whatever the kernel holds. */
int		 foreign_read(struct foreign_chain **v, size_t *n,
		    size_t *more, struct strbuf *err);
/* s into buf (of len bytes) with every byte that is not printable ASCII,
 * a space or ':' as '?': a name is any bytes the kernel took, and it
 * goes to a terminal, JSON and the console, inside a line whose words a
 * name must not fake. */
void		 foreign_printable(char *buf, size_t len, const char *s);
/* Whether (family, table) is moat's own: table inet moat. */
bool		 foreign_is_moat(int family, const char *table);
/* "ip", "ip6", "inet", "netdev", "bridge", "arp", or "family N" */
const char	*foreign_family(int family, char *buf, size_t len);
/* "prerouting", "input", "forward", "output", "postrouting", "ingress",
 * "egress" */
const char	*foreign_hook(const struct foreign_chain *c);
/* "drop", "accept", or NULL when the kernel said none */
const char	*foreign_policy(const struct foreign_chain *c);
/* What c can do to moat's verdicts, in a few words ("" when nothing:
 * an empty chain that accepts). */
const char	*foreign_effect(const struct foreign_chain *c);
/* After an apply: a line "moat: note: ..." into b for each other table's
 * chain that can change what moat decides (at most a few, then how many
 * more), or one saying they could not be read.  The lines' count. */
size_t		 foreign_notes(struct strbuf *b);
/* Whether c runs before a prerouting chain of priority priority in
 * table inet moat: an ingress (netdev's, inet's), a bridge's prerouting
 * or input (a frame for the gateway goes up to IP after them), or a
 * prerouting of ip, ip6 or inet at that priority or lower. */
bool		 foreign_before_prerouting(const struct foreign_chain *c,
		    int32_t priority);
/* foreign_notes' lines of the chains that can change a verdict and come
 * before a prerouting chain of priority priority (moat trace's mark):
 * "moat: note: another table acts before it and may have dropped them:
 * ...".  Their count; 0 when there are none. */
size_t		 foreign_notes_before(struct strbuf *b, int32_t priority);
/* One line of c: "ip filter FORWARD: filter at forward, priority 0,
 * policy drop, 3 rules: ..." (no newline). */
void		 foreign_line(const struct foreign_chain *c, struct strbuf *b);

#endif

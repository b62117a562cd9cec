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
	int		 family;	/* NFPROTO_IPV4, _IPV6, _INET, _NETDEV */
	char		 table[FOREIGN_NAME];	/* printable: other bytes '?' */
	char		 chain[FOREIGN_NAME];
	char		 type[16];	/* filter, nat, route */
	int		 hook;		/* NF_INET_* (netdev: NF_NETDEV_*) */
	int32_t		 priority;
	int		 policy;	/* NF_ACCEPT, NF_DROP; -1: none said */
	char		 device[FOREIGN_NAME];	/* netdev: its first, else "" */
	size_t		 nrules;
};

/* The base chains of every table but inet moat, of the families that see
 * routed packets (ip, ip6, inet, netdev), ordered by family, hook and
 * priority, into a malloc'd *v of *n: 0, or -1 with err. */
int		 foreign_read(struct foreign_chain **v, size_t *n,
		    struct strbuf *err);
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
/* Whether c can drop what moat accepts: a filter chain (or a netdev
 * one) whose policy drops or that has rules. */
bool		 foreign_can_drop(const struct foreign_chain *c);
/* After an apply: a line "moat: note: ..." into b for each other table's
 * chain that can drop what moat accepts (at most a few, then how many
 * more); nothing when the kernel cannot be read.  The lines' count. */
size_t		 foreign_notes(struct strbuf *b);
/* One line of c: "ip filter FORWARD: filter at forward, priority 0,
 * policy drop, 3 rules: ..." (no newline). */
void		 foreign_line(const struct foreign_chain *c, struct strbuf *b);

#endif

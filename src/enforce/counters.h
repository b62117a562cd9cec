/* counters.h: the per-rule counters of table inet moat, as the kernel
 * has them now, in moat's terms (which rule, forward or default each
 * counts).
 *
 * A rule has no counter object of its own: each kernel rule compiled from
 * it counts in its own counter and says whose it is in its comment "rule
 * ID", and so does each element of a dispatch map that decides it (the
 * map counts per element).  A rule's counter is the sum of those.  The
 * few others (anti-lockout, defaults, forwards, NAT) are named objects.
 * (100,000 counter objects cost a dump that grows with the square of
 * their number, and libnftables dumps them all before any change.) */
#ifndef MOAT_COUNTERS_H
#define MOAT_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "enforce/nftc.h"

struct counter {
	char			 name[64];	/* its name in the table */
	enum nftc_counted	 what;
	int			 number;	/* the rule, forward, nat source
						   rule or one-to-one line, or
						   0 */
	uint64_t		 id;		/* its id, from the name
						   (rule_ID, forward_ID, …:
						   its number is 0 until
						   counters_number), else 0 */
	uint64_t		 packets, bytes;
};

/* The counters of table inet moat in the kernel, in the table's order:
 * *v (malloc'd, the caller frees) of *n (none without the table).  0, or
 * -1 with the reason in err. */
int	 counters_read(struct counter **v, size_t *n, struct strbuf *err);
/* The counters of table inet moat in a buffer of netlink messages (what
 * the kernel answers counters_read's dumps with: objects, rules, sets,
 * set elements), a rule's added up; other tables' and other messages are
 * left out, a malformed one is an error.  0, or -1 with the reason in
 * err. */
int	 counters_parse(const void *buf, size_t len, struct counter **v,
	    size_t *n, struct strbuf *err);
/* Give each counter named by an entry's id (rule_ID, forward_ID,
 * forward_ID_accept, nat_source_ID, one_to_one_ID) the number that entry
 * has in p, the config in force (0 when p is NULL or has no such entry: a
 * kernel that holds another config's ruleset).  The old forms (rule_N,
 * forward_N, …) say their number themselves. */
void	 counters_number(struct counter *v, size_t n, const struct policy *p);
/* v in order: the counters that are not an entry's (anti-lockout,
 * defaults, undeclared) as the kernel has them, then the forwards', the
 * nat source rules', the one-to-one lines' and the rules', each kind by
 * number (counters_number; those without one last). */
void	 counters_sort(struct counter *v, size_t n);
/* Keep the max counters of v[0..*n) with the most packets (of equals,
 * the earlier), in their order; all when max is 0 or *n at most max. */
void	 counters_busiest(struct counter *v, size_t *n, size_t max);

#endif

/* counters.h: the per-rule counters of table inet moat, as the kernel
 * has them now, in moat's terms (which rule, forward or default each
 * counts). */
#ifndef MOAT_COUNTERS_H
#define MOAT_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "enforce/nftc.h"

struct counter {
	char			 name[64];	/* its name in the table */
	enum nftc_counted	 what;
	int			 number;	/* the rule or forward, or 0 */
	uint64_t		 packets, bytes;
};

/* The counters of table inet moat in the kernel, in the table's order:
 * *v (malloc'd, the caller frees) of *n.  0, or -1 with the reason in err
 * (with no table, the kernel's "No such file or directory"). */
int	 counters_read(struct counter **v, size_t *n, struct strbuf *err);
/* The counters of table inet moat in a libnftables JSON listing (what
 * counters_read asks the kernel for).  0, or -1 with the reason in err. */
int	 counters_parse(const char *json, struct counter **v, size_t *n,
	    struct strbuf *err);

#endif

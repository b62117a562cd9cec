/* nfrules.h: the handles of a chain's rules, read over nf_tables' netlink
 * (libmnl), one chain at a time: what an incremental apply deletes by
 * (nftdiff.h).  libnftables would list the whole table's rules first. */
#ifndef MOAT_NFRULES_H
#define MOAT_NFRULES_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* The handles of the rules of chain of table inet table, in the chain's
 * order, into a malloc'd *v of *n: 0, or -1 with err. */
int	 nfrules_handles(const char *table, const char *chain, uint64_t **v,
	    size_t *n, struct strbuf *err);

#endif

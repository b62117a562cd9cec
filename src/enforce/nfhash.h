/* nfhash.h: a hash of what table inet NAME holds, read over nf_tables'
 * netlink (libmnl): its chains, rules, sets with the elements of those
 * moat does not change at run time, and (the first kind) the names of its
 * objects.
 *
 * What drift detection compares (apply_drift): a listing through
 * libnftables reads every element of every set, and the kernel dumps an
 * interval set in time that grows with the square of its size (minutes
 * for a million-entry blocklist), so the table is read here piece by
 * piece, leaving out what moat changes by itself:
 *   - the elements of sets whose comment starts with NFTC_FOLLOWS (the
 *     dynamic addresses, the feed objects);
 *   - counter values, in rules and in named counters;
 *   - the chains of moat trace (trace_*) and their rules.
 */
#ifndef MOAT_NFHASH_H
#define MOAT_NFHASH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"

/* The hash of table inet name into *h: 0; 1 when there is no such table;
 * -1 with err (the kernel could not be asked, or the table kept changing
 * while it was read).  objects: with the names of the table's objects
 * (the first kind of hash, "nfhash1"); without them ("nfhash2"), the
 * rules still name every counter they count in, and the kernel dumps
 * 100,000 counters in time that grows with the square of their number. */
int	 nfhash_table(const char *name, bool objects, uint64_t *h,
	    struct strbuf *err);

#endif

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
 *     dynamic addresses, hashed apart by nfhash_dynamic; the feed
 *     objects);
 *   - counter values, in rules and in named counters;
 *   - the chains of moat trace (trace_*) and their rules.
 */
#ifndef MOAT_NFHASH_H
#define MOAT_NFHASH_H

#include <stdbool.h>
#include <stddef.h>
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
/*
 * The fourth kind ("nfhash4"): the same reading, but each chain's message,
 * each chain's rules, each set's message and each set's elements hashed
 * apart and the hashes added up (modulo 2^64), an anonymous set (a rule's
 * own: { 22, 80 }, a vmap) with its chain, after the chain's rules, so that
 * the hash of a table a transaction changed in a few chains and sets is
 * the old one, less their parts before, plus their parts after
 * (nfhash_parts): an incremental apply reads only what it changed
 * (doc/design/incremental.md).  0, 1 or -1 as nfhash_table; *gen (when
 * not NULL) the generation it was read at.
 */
int	 nfhash_sum(const char *name, uint64_t *h, uint32_t *gen,
	    struct strbuf *err);
/* The third kind ("nfhash3", recorded before 2026-12-07): the sum without
 * the anonymous sets, for the records of that kind (0, 1 or -1). */
int	 nfhash_sum3(const char *name, uint64_t *h, struct strbuf *err);
/* The sum of the parts of the chains and sets named that table name holds
 * (none for those it does not), at one generation (*gen), and when each
 * is not NULL each part's own (each[0..nchains-1] the chains', then the
 * sets'; 0 for one not there): 0, or -1 with err. */
int	 nfhash_parts(const char *name, char *const *chains, size_t nchains,
	    char *const *sets, size_t nsets, uint64_t *each, uint64_t *h,
	    uint32_t *gen, struct strbuf *err);
/*
 * The sets that follow the devices' addresses (comment
 * NFTC_DYNAMIC_COMMENT: moat fills them, and nfhash_sum leaves their
 * elements out), each set's name and elements hashed apart and added up:
 * what moat wrote last is recorded (apply.c, STATE/dynamic) and compared,
 * so that an address added by hand is drift too.  0, 1 (no such table)
 * or -1 as nfhash_table; *h is 0 and *nsets 0 for a table without such
 * sets (nsets may be NULL).
 */
int	 nfhash_dynamic(const char *name, uint64_t *h, uint32_t *gen,
	    size_t *nsets, struct strbuf *err);

#endif

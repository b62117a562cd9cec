/* nftdiff.h: the difference of two compiled rulesets, as an nft script
 * (doc/design/incremental.md).
 *
 * It reads the compiler's text, not its internals: one `table inet moat {
 * ... }` block of counters, sets, maps and chains, each rule one line of
 * its chain.  Units are keyed by kind and name; a set's or map's elements
 * are compared as a set of strings, a chain's rules as a sequence of
 * lines (Myers' diff).  The script it writes brings the table that holds
 * the old ruleset to exactly the new one, in one transaction:
 *   1. new counters, sets (with their elements) and chains;
 *   2. elements gone from a set or map deleted (dynamic sets flushed);
 *   3. per chain, the rules gone deleted by handle, the new ones added;
 *   4. elements added;
 *   5. chains, sets and counters gone deleted.
 * A rule is only ever added at a chain's end: libnftables reads every rule
 * of the table before it adds one at a position or replaces one (seconds
 * at 100,000 rules), so a chain whose new rules do not all come after its
 * kept ones has its rules from the first new one on deleted and added
 * again (for the compiler's short chains: a few lines).
 */
#ifndef MOAT_NFTDIFF_H
#define MOAT_NFTDIFF_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

struct nftdiff_stats {
	size_t	 rules;			/* rule lines of the new ruleset */
	size_t	 elems;			/* elements of its sets and maps */
	size_t	 rules_added, rules_deleted;
	size_t	 elems_added, elems_deleted;
	size_t	 chains_changed;	/* chains whose rules changed */
	size_t	 chains_added, chains_deleted;
	size_t	 sets_added, sets_deleted;	/* sets and maps */
	size_t	 counters_added, counters_deleted;
};

/* The kernel's handles of chain's rules, in the chain's order, into a
 * malloc'd *v of *n: 0, or -1 (why says). */
typedef int (*nftdiff_handles)(void *arg, const char *chain, uint64_t **v,
    size_t *n, struct strbuf *why);

/*
 * The script from ruleset old (in force; handles tells its rules'
 * handles) to ruleset new, both as nftc_compile writes them, into out;
 * parts (when not NULL) gets a line per chain ("c NAME") and set or map
 * ("s NAME") the script changes, adds or deletes (nfhash_parts).
 * 0: out holds it (nothing at all when the two are the same), st what it
 * does; 1: no difference can be written, or it would change more than
 * max_pct percent of the new ruleset's rules and elements: why says why
 * (a whole apply is then the way); -1: memory ran out.
 */
int	 nftdiff(const char *old, size_t olen, const char *new, size_t nlen,
	    unsigned max_pct, nftdiff_handles handles, void *arg,
	    struct strbuf *out, struct strbuf *parts,
	    struct nftdiff_stats *st, struct strbuf *why);

#endif

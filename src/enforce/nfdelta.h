/* nfdelta.h: moat's compiled text (a whole ruleset, nftc.h's, or an
 * incremental apply's difference, nftdiff.h's script) as one nf_tables
 * batch of moat's own (nfset.h), without libnftables.
 *
 * libnftables reads the table into its cache before it changes it: every
 * chain, set and object for a rule, and in 1.0.6 every element of every
 * interval set for an element; at 100,000 rules about a second, whatever
 * the difference's size.  And for a whole ruleset its parser and
 * evaluation cost about a third of the load.  moat knows what it wrote,
 * so it can name the kernel's objects itself.  Read here: the table
 * created and deleted; chains declared, with their hook, type, priority
 * and policy for base chains, their rules sent after every chain, set and
 * map of the block (a rule jumps to a chain declared after it); sets,
 * maps and counters declared, with their elements; rules added (nfrule.h,
 * with the base chains' anonymous sets) and deleted by handle; address
 * elements of sets and of verdict maps added and deleted; chains flushed
 * and deleted; sets, maps and counters deleted.  Anything else (a set
 * with timeouts, a rule outside nfrule.h's vocabulary) and all of it goes
 * to libnftables.
 */
#ifndef MOAT_NFDELTA_H
#define MOAT_NFDELTA_H

#include <stdbool.h>

#include "enforce/nfset.h"

/* Queue the lines of script s into batch b (emptied first): 0; 1, with
 * nothing queued, when s holds a line this cannot send (libnftables must
 * run it); -1 when memory ran out.  old and new are the whole rulesets
 * the difference goes between (NUL-terminated, as s): a set's or map's
 * elements are named from the whole of it, since the kernel's elements
 * of an interval depend on its neighbours; without them (NULL), a line
 * of elements cannot be sent.  *elements_only (when not NULL) is
 * set when s held no rule, chain or map line: only address elements.
 * On 1, *refused (when not NULL) points at the first line it could not
 * send (in s, up to its newline). */
int	 nfdelta_script(struct nfset *b, const char *s, const char *old,
	    const char *new, bool *elements_only, const char **refused);

#endif

/* seqalign.h: two sequences of keys aligned with the fewest insertions and
 * deletions (the longest common subsequence), for sequences that differ in
 * a few places: a policy and its edit. */
#ifndef MOAT_SEQALIGN_H
#define MOAT_SEQALIGN_H

#include <stddef.h>
#include <stdint.h>

#define SEQ_NONE	((size_t)-1)	/* not in the other sequence */

/*
 * Align a (na keys) with b (nb): a2b[i] is the position in b of the key
 * kept from a[i], or SEQ_NONE when a[i] was deleted; b2a the other way
 * (SEQ_NONE: inserted).  Kept pairs have equal keys and keep their order.
 * Myers' greedy algorithm after the common head and tail: time
 * O((na + nb) d), memory O(d^2), for d insertions and deletions.  Returns
 * d, or -1 when more than max_d are needed or memory runs out (a2b and
 * b2a then say nothing).
 */
long	 seq_align(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	    size_t max_d, size_t *a2b, size_t *b2a);

#endif

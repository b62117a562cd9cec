/* iset.h: sets of unsigned 128-bit numbers as sorted disjoint intervals.
 *
 * Every dimension moat reasons about is one of these: addresses (IPv4 lives
 * in the IPv4-mapped block ::ffff:0:0/96 of the IPv6 space, so one set holds
 * both families) and services (protocol << 16 | port).  Sets are immutable
 * values; operations build new ones in an arena.
 */
#ifndef MOAT_ISET_H
#define MOAT_ISET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"

typedef unsigned __int128 u128;

#define U128_MAX	(~(u128)0)

struct ival {
	u128	lo, hi;		/* inclusive */
};

/* Invariant: v sorted, disjoint and not adjacent (v[i].hi + 1 < v[i+1].lo). */
struct iset {
	size_t		 n;
	struct ival	*v;
};

/* A set built from n intervals in any order, overlapping or not. */
struct iset	iset_from(struct arena *a, const struct ival *v, size_t n);
/* iset_from, with a's allocation failure caught here (for a caller that
 * holds memory of its own to free): 0, or -1 with *out untouched. */
int		iset_from_caught(struct arena *a, const struct ival *v, size_t n,
		    struct iset *out);
/* The set of the n intervals at v (each lo <= hi), made in place: v
 * sorted and merged unless it is already (a million intervals read from a
 * file or a pipe need no second copy).  v must outlive the set. */
struct iset	iset_adopt(struct ival *v, size_t n);
/* The set [lo, hi]. */
struct iset	iset_range(struct arena *a, u128 lo, u128 hi);
/* x ∪ y */
struct iset	iset_union(struct arena *a, struct iset x, struct iset y);
/* x ∩ y */
struct iset	iset_inter(struct arena *a, struct iset x, struct iset y);
/* x \ y */
struct iset	iset_diff(struct arena *a, struct iset x, struct iset y);
/* [lo, hi] \ x */
struct iset	iset_complement(struct arena *a, struct iset x, u128 lo, u128 hi);
/* p ∈ x, by binary search. */
bool		iset_contains(struct iset x, u128 p);
/* x = ∅ */
bool		iset_empty(struct iset x);
/* x ∩ y ≠ ∅ */
bool		iset_overlaps(struct iset x, struct iset y);
/* x ⊆ y */
bool		iset_subset(struct iset x, struct iset y);
/* x = y */
bool		iset_equal(struct iset x, struct iset y);

#endif

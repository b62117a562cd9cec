/* classify.h: which rule decides a packet, fast: decision trees over
 * boxes (a table of equal slices at the root, then HyperSplit's binary
 * cuts), first match by priority in the leaves.
 *
 * A rule is one or more boxes, one interval per dimension; the classifier
 * returns the lowest priority number among the boxes that contain the
 * packet, exactly what a linear first-match scan returns.
 */
#ifndef MOAT_CLASSIFY_H
#define MOAT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "base/iset.h"

#define CLS_DIMS	5

struct cls_box {
	u128	lo[CLS_DIMS], hi[CLS_DIMS];
	int	prio;		/* lower wins: the rule's position */
};

struct classifier;

/* Build from n boxes (copied).  NULL when memory runs out. */
struct classifier *cls_build(const struct cls_box *boxes, size_t n);
/* cls_build, taking boxes (malloc'd or big_alloc'd, freed by the
 * classifier or here when memory runs out) instead of a copy: their
 * priorities are rewritten. */
struct classifier *cls_build_take(struct cls_box *boxes, size_t n);
/* The priority of the first box containing point p, or -1. */
int	 cls_lookup(const struct classifier *c, const u128 *p);
/* cls_lookup() of the n points at p (CLS_DIMS values each) into out[0..n),
 * faster: the walks of the points go side by side. */
void	 cls_lookup_many(const struct classifier *c, const u128 *p, size_t n,
	    int *out);
/* Free it. */
void	 cls_free(struct classifier *c);
/* Bytes it holds; nodes and leaves. */
size_t	 cls_memory(const struct classifier *c);
/* What a classifier is made of, for tests and benchmarks. */
struct cls_stats {
	int	trees;
	int	compact;	/* trees in the compact form */
	int	compact16;	/* of those, with a 16-bit root table */
	int	compact32;	/* of those, with a 32-bit one */
	int	narrow;		/* trees in the 32-bit form */
	int	wide;		/* trees in the 128-bit form */
	size_t	nodes, leafboxes, slices, intervals, tails;
};
void	 cls_stats(const struct classifier *c, struct cls_stats *st);
/* The same answer by a linear scan, for tests and benchmarks. */
int	 cls_linear(const struct cls_box *boxes, size_t n, const u128 *p);

#endif

/* classify.c: a HyperSplit-style decision tree; see classify.h.
 *
 * Each inner node cuts one dimension at one value; boxes that straddle the
 * cut go to both sides.  The cut is chosen among the ends of the boxes at
 * the node: in every dimension the median end, and the dimension whose cut
 * leaves the fewest boxes on the larger side wins.  A node of at most
 * LEAF_MAX boxes, or one no cut improves, is a leaf: its boxes sorted by
 * priority, scanned in order, first hit wins.  Boxes that a higher-priority
 * box of the leaf covers entirely inside the leaf's region are dropped.
 * A tree whose boxes fit 32 bits starts with a table instead of the top
 * levels (choose_slices): one dimension cut in equal slices, a subtree per
 * run of slices, found with one shift and one load.
 */
#include "analyze/classify.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"

#define LEAF_MAX	8
#define DEPTH_MAX	48

struct node {
	int32_t		 dim;		/* -1: leaf */
	uint32_t	 count;		/* leaf: boxes */
	u128		 cut;		/* inner: p[dim] <= cut goes left */
	uint32_t	 left, right;	/* inner: node indices */
	uint32_t	 first;		/* leaf: index into leafbox */
};

/* The same tree in 32 bits, when every box and cut fits (IPv4 sets such
 * as ClassBench): eight bytes a node, the two children of a node side by
 * side (so the walk picks one with arithmetic, not a branch), nodes laid
 * out breadth first (the top levels share cache lines).  kid holds the
 * dimension in its top bits (NARROW_LEAF for a leaf) and the index of the
 * left child, or of the leaf's first box; a leaf's cut is its box count. */
#define NARROW_SHIFT	28
#define NARROW_INDEX	((1u << NARROW_SHIFT) - 1)
#define NARROW_LEAF	7u

struct nnode {
	uint32_t	 cut;
	uint32_t	 kid;
};

/* A leaf's box as a start and a width per dimension: q is inside when
 * q - lo <= width, one unsigned comparison.  With SSE2 the four address
 * and port dimensions are compared at once: SSE2 compares signed, so the
 * widths are kept with their top bit flipped and q - lo is flipped too. */
#if defined(__SSE2__) && !defined(CLS_SCALAR)
#include <emmintrin.h>
#define FLIP	0x80000000u
#else
#define FLIP	0u
#endif

struct nbox {
	uint32_t	lo[4], width[4];	/* width ^ FLIP */
	uint32_t	plo, pwidth;		/* the fifth dimension */
	uint32_t	prio, pad;
};

/*
 * The compact form, when every box fits 32 bits and the classifier's
 * distinct intervals and priorities are few enough (COMPACT_IDS): a leaf's
 * box is eight bytes, the indices of its source interval, destination
 * interval and tail (the other three dimensions together) in tables the
 * trees share, and its rank (the priority's place among the classifier's
 * priorities) with a bit marking a leaf's last box.  Boxes are copied
 * into leaves; intervals are stored once (ClassBench's 10K sets have
 * 1,300-6,600 distinct addresses and 150-250 tails for 9,000-10,000
 * boxes).  The root table's entry names a leaf's first box directly when
 * its subtree is one leaf (most are, in fw1), or an empty one.
 */
#define COMPACT_IDS	0xffffu		/* intervals of a table, at most */
#define CRANK		0x7fffu
#define CLAST		0x8000u		/* rank: the leaf's last box */
#define CEMPTY		NARROW_INDEX	/* a leaf's first box: none */

struct cbox {
	uint16_t	src, dst, tail, rank;
};

struct civ {
	uint32_t	lo, width;
};

/* The tail as an nbox's four lanes (width ^ FLIP), lane 0 holding any
 * value (q[1]'s, in the one SSE2 comparison), lanes 1-3 dimensions 2-4. */
struct ctail {
	uint32_t	lo[4], width[4];
};

/* The tables: sorted by (lo, width), so a box's interval is found by
 * binary search when the trees are laid out. */
struct cdict {
	struct civ	*src, *dst;
	struct ctail	*tail;
	size_t		 nsrc, ndst, ntail;
};

struct tree {
	struct cbox	*cb;		/* compact form, or NULL */
	size_t		 ncb;
	const struct cdict *dict;	/* compact: the classifier's */
	uint16_t	*slice16;	/* compact: the root table in 16 bits */
	struct nnode	*nn;		/* narrow or compact form, or NULL */
	struct nbox	*nb;		/* narrow: boxes in leaf order */
	struct node	*nodes;
	size_t		 nnodes, capnodes;
	uint32_t	*leafbox;	/* box indices, by leaf */
	size_t		 nleaf, capleaf;
	/* The classifier's boxes (its store: the tree's are those gid
	 * names, nboxes of them), read while it is built, and by lookups
	 * while it is wide.  Node and leaf indices are the store's. */
	const struct cls_box *boxes;
	const uint32_t	*gid;
	size_t		 nboxes;
	int		 failed;
	bool		 toobig;	/* failed: passed leaflimit */
	size_t		 leaflimit;	/* leaves' boxes in all, at most
					   (0: no limit) */
	size_t		 leafmax;	/* boxes a leaf may hold */
	int		 minprio;	/* best priority of its boxes */
	/* The root: a table of subtrees, one per run of slices of dimension
	 * sdim (slice = (q - sbase) >> sshift), or NULL for one tree. */
	uint32_t	*slice;		/* narrow index of the slice's root */
	uint32_t	 sdim, sshift, sbase, nslice;
};

/*
 * The classifier: one tree per group of boxes that are wide in the same
 * dimensions (EffiCuts' separation).  A wide box straddles most cuts; in
 * a tree of its own it is not copied into every leaf of narrow ones.
 * (The boxes wide in the destination alone share the tree of those of
 * the same source width when they stay few in its leaves:
 * cls_build_take.)
 * Lookups ask the trees in order of their best priority and stop when no
 * tree left can beat the answer.
 */
#define GROUPS_MAX	(1 << CLS_DIMS)

struct classifier {
	struct tree	*trees[GROUPS_MAX];
	int		 ntrees;
	struct cls_box	*store;		/* the boxes, while a wide tree
					   reads them; else NULL */
	size_t		 nstore;
	struct cdict	 dict;		/* compact trees' tables */
	int		*prio;		/* rank -> priority, or NULL: the same */
	size_t		 nrank;
};

static int
push_node(struct tree *c)
{
	if (c->nnodes == c->capnodes) {
		size_t cap = c->capnodes ? c->capnodes * 2 : 64;
		struct node *n = realloc(c->nodes, cap * sizeof(*n));

		if (n == NULL) {
			c->failed = 1;
			return -1;
		}
		c->nodes = n;
		c->capnodes = cap;
	}
	memset(&c->nodes[c->nnodes], 0, sizeof(c->nodes[0]));
	return (int)c->nnodes++;
}

static int
prio_cmp(const void *pa, const void *pb, void *arg)
{
	const struct cls_box *b = arg;
	uint32_t x = *(const uint32_t *)pa, y = *(const uint32_t *)pb;

	return b[x].prio < b[y].prio ? -1 : b[x].prio > b[y].prio;
}

/* The k-th smallest of a[0..n) (Hoare's selection, median-of-three
 * pivots), reordering a: linear on average where a sort is n log n, and
 * the build asks it five times at every node. */
static u128
select_nth(u128 *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, want = (ptrdiff_t)k;

	while (lo < hi) {
		ptrdiff_t i = lo, j = hi, mid = lo + (hi - lo) / 2;
		u128 x = a[lo], y = a[mid], z = a[hi], pivot, t;

		pivot = x < y ? (y < z ? y : x < z ? z : x) :
		    (x < z ? x : y < z ? z : y);
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		if (want <= j)
			hi = j;
		else if (want >= i)
			lo = i;
		else
			break;		/* between j and i: equal to the pivot */
	}
	return a[want];
}

/* Box b covers box a within region [rlo, rhi]. */
static int
covers_in(const struct cls_box *b, const struct cls_box *a, const u128 *rlo,
    const u128 *rhi)
{
	int d;

	for (d = 0; d < CLS_DIMS; d++) {
		u128 lo = a->lo[d] > rlo[d] ? a->lo[d] : rlo[d];
		u128 hi = a->hi[d] < rhi[d] ? a->hi[d] : rhi[d];

		if (b->lo[d] > lo || b->hi[d] < hi)
			return 0;
	}
	return 1;
}

/* Box b holds the whole region [rlo, rhi]. */
static int
covers_region(const struct cls_box *b, const u128 *rlo, const u128 *rhi)
{
	int d;

	for (d = 0; d < CLS_DIMS; d++)
		if (b->lo[d] > rlo[d] || b->hi[d] < rhi[d])
			return 0;
	return 1;
}

static int build(struct tree *c, uint32_t *ids, size_t n, u128 *rlo,
    u128 *rhi, int depth);

static int
make_leaf(struct tree *c, int at, uint32_t *ids, size_t n,
    const u128 *rlo, const u128 *rhi)
{
	size_t i, j, kept = 0;

	qsort_r(ids, n, sizeof(*ids), prio_cmp, (void *)c->boxes);
	for (i = 0; i < n; i++) {
		int shadowed = 0;

		for (j = 0; j < kept && !shadowed; j++)
			shadowed = covers_in(&c->boxes[ids[j]],
			    &c->boxes[ids[i]], rlo, rhi);
		if (!shadowed)
			ids[kept++] = ids[i];
		if (kept > 0 && covers_region(&c->boxes[ids[kept - 1]], rlo,
		    rhi))
			break;	/* the region is all decided */
	}
	if (c->leaflimit != 0 && c->nleaf + kept > c->leaflimit) {
		c->toobig = true;
		c->failed = 1;
		return -1;
	}
	if (c->nleaf + kept > c->capleaf) {
		size_t cap = (c->capleaf ? c->capleaf * 2 : 256) + kept;
		uint32_t *l = realloc(c->leafbox, cap * sizeof(*l));

		if (l == NULL) {
			c->failed = 1;
			return -1;
		}
		c->leafbox = l;
		c->capleaf = cap;
	}
	memcpy(c->leafbox + c->nleaf, ids, kept * sizeof(*ids));
	c->nodes[at].dim = -1;
	c->nodes[at].first = (uint32_t)c->nleaf;
	c->nodes[at].count = (uint32_t)kept;
	c->nleaf += kept;
	return at;
}

static int
build(struct tree *c, uint32_t *ids, size_t n, u128 *rlo, u128 *rhi,
    int depth)
{
	int at = push_node(c), d, best_d = -1;
	size_t best_big = n, i, nl, nr;
	u128 best_cut = 0, *ends;
	uint32_t *left, *right;

	if (at == -1 || c->failed)	/* (a tree too big stops at once) */
		return -1;
	if (n <= c->leafmax || depth >= DEPTH_MAX)
		return make_leaf(c, at, ids, n, rlo, rhi);
	if ((ends = malloc(2 * n * sizeof(*ends))) == NULL) {
		c->failed = 1;
		return -1;
	}
	for (d = 0; d < CLS_DIMS; d++) {
		size_t m = 0;
		u128 cut;

		for (i = 0; i < n; i++) {
			const struct cls_box *b = &c->boxes[ids[i]];

			if (b->lo[d] > rlo[d])
				ends[m++] = b->lo[d] - 1;
			if (b->hi[d] < rhi[d])
				ends[m++] = b->hi[d];
		}
		if (m == 0)
			continue;
		cut = select_nth(ends, m, m / 2);
		for (i = 0, nl = nr = 0; i < n; i++) {
			const struct cls_box *b = &c->boxes[ids[i]];

			nl += b->lo[d] <= cut;
			nr += b->hi[d] > cut;
		}
		if ((nl > nr ? nl : nr) < best_big) {
			best_big = nl > nr ? nl : nr;
			best_d = d;
			best_cut = cut;
		}
	}
	free(ends);
	if (best_d == -1)
		return make_leaf(c, at, ids, n, rlo, rhi);
	left = malloc(n * sizeof(*left));
	right = malloc(n * sizeof(*right));
	if (left == NULL || right == NULL) {
		free(left);
		free(right);
		c->failed = 1;
		return -1;
	}
	for (i = 0, nl = nr = 0; i < n; i++) {
		const struct cls_box *b = &c->boxes[ids[i]];

		if (b->lo[best_d] <= best_cut)
			left[nl++] = ids[i];
		if (b->hi[best_d] > best_cut)
			right[nr++] = ids[i];
	}
	{
		u128 keep_hi = rhi[best_d], keep_lo = rlo[best_d];
		int l, r;

		rhi[best_d] = best_cut;
		l = build(c, left, nl, rlo, rhi, depth + 1);
		rhi[best_d] = keep_hi;
		rlo[best_d] = best_cut + 1;
		r = build(c, right, nr, rlo, rhi, depth + 1);
		rlo[best_d] = keep_lo;
		free(left);
		free(right);
		if (l == -1 || r == -1)
			return -1;
		c->nodes[at].dim = best_d;
		c->nodes[at].cut = best_cut;
		c->nodes[at].left = (uint32_t)l;
		c->nodes[at].right = (uint32_t)r;
	}
	return at;
}

static void
tree_free(struct tree *c)
{
	if (c == NULL)
		return;
	free(c->nn);
	free(c->nb);
	free(c->cb);
	free(c->slice16);
	free(c->slice);
	free(c->nodes);
	free(c->leafbox);
	free(c);
}

/* Every box fits 32 bits: the tree can take the narrow form. */
static int
fits32(const struct cls_box *b, const uint32_t *ids, size_t n)
{
	size_t i;
	int d;

	for (i = 0; i < n; i++)
		for (d = 0; d < CLS_DIMS; d++)
			if (b[ids != NULL ? ids[i] : i].hi[d] > 0xffffffffu)
				return 0;
	return 1;
}

/* Switch to the 32-bit form (the caller knows every box fits: fits32);
 * leaves get their own copies of their boxes, in order, so a leaf scan
 * reads one run.  Cuts are box ends (lo - 1 or hi), so they fit when the
 * boxes do.  roots: the wide nodes that start the subtrees (the root
 * table's runs, or node 0), rewritten to where they land. */
static void
narrow(struct tree *c, uint32_t *roots, size_t nroots)
{
	struct nnode *nn;
	struct nbox *nb;
	uint32_t *from;		/* narrow index -> wide node */
	size_t i, k, r, next = 0;
	int d;

	if (c->nnodes >= NARROW_INDEX || c->nleaf >= NARROW_INDEX)
		return;
	nn = big_alloc((c->nnodes + 1) * sizeof(*nn));
	nb = big_alloc((c->nleaf + 1) * sizeof(*nb));
	from = malloc((c->nnodes + 1) * sizeof(*from));
	if (nn == NULL || nb == NULL || from == NULL) {	/* stay wide */
		free(nn);
		free(nb);
		free(from);
		return;
	}
	/* One subtree after the other, each breadth first: a walk stays in
	 * its subtree's few cache lines. */
	for (r = 0, i = 0; r < nroots; r++) {
		from[next] = roots[r];
		roots[r] = (uint32_t)next++;	/* now: where it lands */
		for (; i < next; i++) {	/* from[] is the queue */
			const struct node *w = &c->nodes[from[i]];

			if (w->dim < 0) {
				nn[i].cut = w->count;
				nn[i].kid = NARROW_LEAF << NARROW_SHIFT |
				    w->first;
				continue;
			}
			nn[i].cut = (uint32_t)w->cut;
			nn[i].kid = (uint32_t)w->dim << NARROW_SHIFT |
			    (uint32_t)next;
			from[next++] = w->left;
			from[next++] = w->right;
		}
	}
	for (k = 0; c->slice != NULL && k < c->nslice; k++)
		c->slice[k] = roots[c->slice[k]];
	for (k = 0; k < c->nleaf; k++) {
		const struct cls_box *b = &c->boxes[c->leafbox[k]];

		for (d = 0; d < 4; d++) {
			nb[k].lo[d] = (uint32_t)b->lo[d];
			nb[k].width[d] = (uint32_t)(b->hi[d] - b->lo[d]) ^ FLIP;
		}
		nb[k].plo = (uint32_t)b->lo[4];
		nb[k].pwidth = (uint32_t)(b->hi[4] - b->lo[4]);
		nb[k].prio = (uint32_t)b->prio;
		nb[k].pad = 0;
	}
	free(from);
	free(c->nodes);
	free(c->leafbox);
	c->nodes = NULL;
	c->leafbox = NULL;
	c->boxes = NULL;
	c->nboxes = 0;
	c->nn = nn;
	c->nb = nb;
}

/* The index of [lo, lo + width] in table v of n (sorted by lo, width);
 * the caller knows it is there. */
static uint16_t
civ_find(const struct civ *v, size_t n, uint32_t lo, uint32_t width)
{
	size_t a = 0, b = n;

	while (a + 1 < b) {
		size_t m = (a + b) / 2;

		if (v[m].lo < lo || (v[m].lo == lo && v[m].width <= width))
			a = m;
		else
			b = m;
	}
	return (uint16_t)a;
}

static int
tail_cmp(const struct ctail *x, const struct ctail *y)
{
	int d;

	for (d = 1; d < 4; d++) {
		if (x->lo[d] != y->lo[d])
			return x->lo[d] < y->lo[d] ? -1 : 1;
		if (x->width[d] != y->width[d])
			return x->width[d] < y->width[d] ? -1 : 1;
	}
	return 0;
}

static void
tail_of(const struct cls_box *b, struct ctail *t)
{
	int d;

	t->lo[0] = 0;
	t->width[0] = UINT32_MAX ^ FLIP;
	for (d = 1; d < 4; d++) {
		t->lo[d] = (uint32_t)b->lo[d + 1];
		t->width[d] = (uint32_t)(b->hi[d + 1] - b->lo[d + 1]) ^ FLIP;
	}
}

static uint16_t
tail_find(const struct ctail *v, size_t n, const struct ctail *t)
{
	size_t a = 0, b = n;

	while (a + 1 < b) {
		size_t m = (a + b) / 2;

		if (tail_cmp(&v[m], t) <= 0)
			a = m;
		else
			b = m;
	}
	return (uint16_t)a;
}

/* Wide leaf w's boxes as compact boxes at c->cb + c->ncb: the index of
 * the first, or CEMPTY for an empty leaf. */
static uint32_t
compact_leaf(struct tree *c, const struct node *w)
{
	const struct cdict *k = c->dict;
	uint32_t first = (uint32_t)c->ncb, i;

	if (w->count == 0)
		return CEMPTY;
	for (i = 0; i < w->count; i++) {
		const struct cls_box *b = &c->boxes[c->leafbox[w->first + i]];
		struct cbox *x = &c->cb[c->ncb++];
		struct ctail t;

		x->src = civ_find(k->src, k->nsrc, (uint32_t)b->lo[0],
		    (uint32_t)(b->hi[0] - b->lo[0]));
		x->dst = civ_find(k->dst, k->ndst, (uint32_t)b->lo[1],
		    (uint32_t)(b->hi[1] - b->lo[1]));
		tail_of(b, &t);
		x->tail = tail_find(k->tail, k->ntail, &t);
		x->rank = (uint16_t)((uint32_t)b->prio | (i + 1 == w->count ?
		    CLAST : 0));
	}
	return first;
}

/* Switch to the compact form (the caller knows it fits: cls_build's
 * tables hold every box's intervals, ranks below CRANK).  Like narrow(),
 * with leaves as runs of compact boxes; a root that is a leaf gets no
 * node: its table entry names the leaf.  -1 when memory runs out. */
static int
compact(struct tree *c, const uint32_t *roots, size_t nroots)
{
	uint32_t *from, *entry, top = 0;
	size_t i, k, r, next = 0;

	c->nn = big_alloc((c->nnodes + 1) * sizeof(*c->nn));
	c->cb = big_alloc((c->nleaf + 1) * sizeof(*c->cb));
	from = malloc((c->nnodes + 1) * sizeof(*from));
	entry = malloc((nroots + 1) * sizeof(*entry));
	if (c->nn == NULL || c->cb == NULL || from == NULL || entry == NULL) {
		free(from);
		free(entry);
		return -1;
	}
	c->ncb = 0;
	for (r = 0, i = 0; r < nroots; r++) {
		const struct node *w = &c->nodes[roots[r]];

		if (c->slice != NULL && w->dim < 0) {
			entry[r] = compact_leaf(c, w);
			entry[r] = entry[r] == CEMPTY ? UINT32_MAX : entry[r] |
			    0x80000000u;
			continue;
		}
		entry[r] = (uint32_t)next;
		from[next++] = roots[r];
		for (; i < next; i++) {
			w = &c->nodes[from[i]];
			if (w->dim < 0) {
				c->nn[i].cut = 0;
				c->nn[i].kid = NARROW_LEAF << NARROW_SHIFT |
				    compact_leaf(c, w);
				continue;
			}
			c->nn[i].cut = (uint32_t)w->cut;
			c->nn[i].kid = (uint32_t)w->dim << NARROW_SHIFT |
			    (uint32_t)next;
			from[next++] = w->left;
			from[next++] = w->right;
		}
	}
	c->nnodes = next;
	free(from);
	/* The root table in 16 bits when every entry fits. */
	for (r = 0; r < nroots; r++)
		if (entry[r] != UINT32_MAX && (entry[r] & 0x7fffffffu) > top)
			top = entry[r] & 0x7fffffffu;
	if (c->slice != NULL && top < 0x7fff &&
	    (c->slice16 = big_alloc(c->nslice * sizeof(*c->slice16))) != NULL) {
		for (k = 0; k < c->nslice; k++) {
			uint32_t e = entry[c->slice[k]];

			c->slice16[k] = e == UINT32_MAX ? 0xffff :
			    (uint16_t)((e & 0x7fffu) | (e >> 31 << 15));
		}
		free(c->slice);
		c->slice = NULL;
	} else
		for (k = 0; c->slice != NULL && k < c->nslice; k++)
			c->slice[k] = entry[c->slice[k]];
	free(entry);
	free(c->nodes);
	free(c->leafbox);
	c->nodes = NULL;
	c->leafbox = NULL;
	c->boxes = NULL;
	c->nboxes = 0;
	return 0;
}

/* The slice value v falls in. */
static uint32_t
slice_of(const struct tree *c, u128 v)
{
	return (uint32_t)((v - c->sbase) >> c->sshift);
}

/*
 * A table at the root replaces the top levels of the walk by one indexed
 * load: the range of one dimension in 2^k equal slices, a subtree per
 * slice.  Chosen where boxes are narrow enough that few straddle slices
 * (a box is copied into every slice it meets: at most twice as many
 * copies as boxes) and the slices split them best (least sum of squared
 * counts: the boxes a point meets on average), if that beats two binary
 * levels (a quarter of n squared).
 */
#define SLICE_MAX(n)	((n) < 64 ? 64 : (n) * 2)

static int
choose_slices(struct tree *c)
{
	size_t n = c->nboxes, best_cost = (size_t)-1, i, limit = SLICE_MAX(n);
	int32_t *cnt = NULL;	/* +1 where a box starts, -1 after it ends */
	uint32_t *ends = NULL, *end;	/* (lo, hi) of each box, by dimension */
	int d, shift, found = 0;

	if (n <= LEAF_MAX * 4)
		return 0;
	/* The boxes' ends are read once (a box is 176 bytes, three lines)
	 * into eight bytes a box and dimension, which the tries of up to 32
	 * slice widths then read: most of the build's reads were those
	 * tries' (over a box's lines at 100,000 rules). */
	if ((cnt = malloc((limit + 2) * sizeof(*cnt))) == NULL ||
	    (ends = malloc(2 * CLS_DIMS * n * sizeof(*ends))) == NULL) {
		free(cnt);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct cls_box *b = &c->boxes[c->gid[i]];

		for (d = 0; d < CLS_DIMS; d++) {
			ends[2 * (d * n + i)] = (uint32_t)b->lo[d];
			ends[2 * (d * n + i) + 1] = (uint32_t)b->hi[d];
		}
	}
	for (d = 0; d < CLS_DIMS; d++) {
		uint32_t lo = UINT32_MAX, hi = 0;

		end = ends + 2 * d * n;
		for (i = 0; i < n; i++) {
			if (end[2 * i] < lo)
				lo = end[2 * i];
			if (end[2 * i + 1] > hi)
				hi = end[2 * i + 1];
		}
		for (shift = 31; shift >= 0; shift--) {
			size_t ns = ((hi - lo) >> shift) + 1, rep = 0, cost = 0;
			int64_t run = 0;

			if (ns > limit)
				break;
			if (ns < 2)
				continue;
			memset(cnt, 0, (ns + 1) * sizeof(*cnt));
			for (i = 0; i < n; i++) {
				uint32_t a = (end[2 * i] - lo) >> shift,
				    b = (end[2 * i + 1] - lo) >> shift;

				rep += b - a + 1;
				cnt[a]++;
				cnt[b + 1]--;
			}
			if (rep > n + n)
				break;	/* finer only copies more */
			for (i = 0; i < ns; i++) {
				run += cnt[i];
				cost += (size_t)run * run;
			}
			if (cost < best_cost) {
				best_cost = cost;
				c->sdim = (uint32_t)d;
				c->sshift = (uint32_t)shift;
				c->sbase = lo;
				c->nslice = (uint32_t)ns;
				found = 1;
			}
		}
	}
	free(cnt);
	free(ends);
	/* worth it only when it splits the boxes well */
	return found && best_cost < (size_t)n * n / 4;
}

/* Build one subtree per run of slices that hold the same boxes; the
 * runs' roots (wide node indices; *nroots of them), or NULL. */
static uint32_t *
build_sliced(struct tree *c, u128 *rlo, u128 *rhi, size_t *nroots)
{
	size_t n = c->nboxes, i, s, total = 0, nruns = 0;
	uint32_t *start, *list, *fill, *roots;
	uint32_t d = c->sdim;
	int rc = 0;

	start = calloc(c->nslice + 2, sizeof(*start));
	c->slice = big_alloc(c->nslice * sizeof(*c->slice));
	roots = malloc(c->nslice * sizeof(*roots));
	if (start == NULL || c->slice == NULL || roots == NULL) {
		free(start);
		free(roots);
		return NULL;
	}
	for (i = 0; i < n; i++)
		for (s = slice_of(c, c->boxes[c->gid[i]].lo[d]);
		    s <= slice_of(c, c->boxes[c->gid[i]].hi[d]); s++) {
			start[s + 1]++;
			total++;
		}
	for (s = 0; s < c->nslice; s++)
		start[s + 1] += start[s];
	list = malloc((total + 1) * sizeof(*list));
	fill = malloc((c->nslice + 1) * sizeof(*fill));
	if (list == NULL || fill == NULL) {
		free(start);
		free(list);
		free(fill);
		free(roots);
		return NULL;
	}
	memcpy(fill, start, c->nslice * sizeof(*fill));
	for (i = 0; i < n; i++)
		for (s = slice_of(c, c->boxes[c->gid[i]].lo[d]);
		    s <= slice_of(c, c->boxes[c->gid[i]].hi[d]); s++)
			list[fill[s]++] = c->gid[i];
	for (s = 0; s < c->nslice && rc != -1; ) {
		size_t e = s + 1, len = start[s + 1] - start[s];
		uint64_t top;

		while (e < c->nslice && start[e + 1] - start[e] == len &&
		    memcmp(list + start[e], list + start[s], len *
		    sizeof(*list)) == 0)
			e++;
		rlo[d] = c->sbase + ((u128)s << c->sshift);
		top = (uint64_t)c->sbase + ((uint64_t)e << c->sshift) - 1;
		rhi[d] = top > 0xffffffffu ? 0xffffffffu : top;
		rc = build(c, list + start[s], len, rlo, rhi, 0);
		roots[nruns] = (uint32_t)rc;
		for (; s < e; s++)
			c->slice[s] = (uint32_t)nruns;
		nruns++;
	}
	*nroots = nruns;
	rlo[d] = 0;
	rhi[d] = U128_MAX;
	free(start);
	free(list);
	free(fill);
	if (rc == -1) {
		free(roots);
		return NULL;
	}
	return roots;
}

/* A tree of the n boxes of store that gid names (store and gid outlive
 * the build; a tree that stays wide reads store's boxes until it is
 * freed).  NULL when memory runs out, or (*toobig set) when its leaves
 * would hold more than leaflimit boxes (0: no limit). */
static struct tree *
tree_build(const struct cls_box *store, const uint32_t *gid, size_t n,
    const struct cdict *dict, size_t leaflimit, bool *toobig)
{
	struct tree *c = calloc(1, sizeof(*c));
	u128 rlo[CLS_DIMS], rhi[CLS_DIMS];
	uint32_t *ids, root = 0, *roots = &root;	/* unsliced: node 0 */
	size_t i, nroots = 1;
	int d, fits = fits32(store, gid, n);

	*toobig = false;
	if (c == NULL)
		return NULL;
	c->leafmax = LEAF_MAX;
	c->leaflimit = leaflimit;
	c->boxes = store;
	c->gid = gid;
	c->nboxes = n;
	ids = malloc((n + 1) * sizeof(*ids));
	if (ids == NULL) {
		tree_free(c);
		return NULL;
	}
	c->minprio = n > 0 ? store[gid[0]].prio : 0;
	for (i = 0; i < n; i++) {
		ids[i] = gid[i];
		if (store[gid[i]].prio < c->minprio)
			c->minprio = store[gid[i]].prio;
	}
	for (d = 0; d < CLS_DIMS; d++) {
		rlo[d] = 0;
		rhi[d] = U128_MAX;
	}
	if (fits && choose_slices(c)) {
		if ((roots = build_sliced(c, rlo, rhi, &nroots)) == NULL ||
		    c->failed) {
			*toobig = c->toobig;
			free(roots);
			free(ids);
			tree_free(c);
			return NULL;
		}
	} else if (build(c, ids, n, rlo, rhi, 0) == -1 || c->failed) {
		*toobig = c->toobig;
		free(ids);
		tree_free(c);
		return NULL;
	}
	free(ids);
	if (fits && dict != NULL && c->nnodes < NARROW_INDEX &&
	    c->nleaf < NARROW_INDEX) {
		c->dict = dict;
		if (compact(c, roots, nroots) == -1) {
			if (roots != &root)
				free(roots);
			tree_free(c);
			return NULL;
		}
	} else if (fits)
		narrow(c, roots, nroots);
	if (roots != &root)
		free(roots);
	c->gid = NULL;
	if ((c->slice != NULL || c->slice16 != NULL) && c->nn == NULL) {
		/* could not narrow */
		tree_free(c);
		return NULL;
	}
	return c;
}

/* A box is wide in a dimension when it spans at least a sixteenth of that
 * dimension's span over all boxes: bit d of its mask. */
#define DST_WIDE	(1 << 1)	/* wide in the destination address */

static int
wide_mask(const struct cls_box *b, const u128 *span)
{
	int d, m = 0;

	/* The addresses decide: wide ports or protocols replicate little. */
	for (d = 0; d < 2; d++)
		if (b->hi[d] - b->lo[d] >= span[d] / 16)
			m |= 1 << d;
	return m;
}

static int
tree_order(const void *pa, const void *pb)
{
	const struct tree *a = *(struct tree *const *)pa;
	const struct tree *b = *(struct tree *const *)pb;

	return a->minprio < b->minprio ? -1 : a->minprio > b->minprio;
}

static int
int_cmp(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;

	return a < b ? -1 : a > b;
}

static int
civ_cmp(const void *pa, const void *pb)
{
	const struct civ *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->width < b->width ? -1 : a->width > b->width;
}

static int
tail_qcmp(const void *pa, const void *pb)
{
	return tail_cmp(pa, pb);
}

/* Sort v of *n elements of size sz and drop repeats. */
static void
uniq(void *v, size_t *n, size_t sz, int (*cmp)(const void *, const void *))
{
	char *a = v;
	size_t i, k = 0;

	qsort(v, *n, sz, cmp);
	for (i = 0; i < *n; i++)
		if (k == 0 || cmp(a + (k - 1) * sz, a + i * sz) != 0)
			memmove(a + k++ * sz, a + i * sz, sz);
	*n = k;
}

/* The ranks of the boxes' priorities, dense from 0 (trees compare ranks;
 * the compact form keeps them in 15 bits): the sorted priorities, each
 * once, in c->prio unless ranks and priorities are the same, their number
 * in c->nrank; the rank of priority x is rank_of(c, ranks, x).  NULL when
 * memory runs out. */
static int *
rank_boxes(struct classifier *c, const struct cls_box *b, size_t n)
{
	int *p = malloc((n + 1) * sizeof(*p));
	size_t i, k = n;

	if (p == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		p[i] = b[i].prio;
	uniq(p, &k, sizeof(*p), int_cmp);
	c->nrank = k;
	for (i = 0; i < k && p[i] == (int)i; i++)
		;
	if (i < k)
		c->prio = p;
	return p;
}

static int
rank_of(const struct classifier *c, const int *ranks, int prio)
{
	size_t a = 0, z = c->nrank;

	if (c->prio == NULL)
		return prio;
	while (a + 1 < z) {
		size_t m = (a + z) / 2;

		if (ranks[m] <= prio)
			a = m;
		else
			z = m;
	}
	return (int)a;
}

/* The tables of the compact form, when every box fits 32 bits and each
 * table and the ranks fit its indices; else none (c->dict.src NULL). */
static int
make_dict(struct classifier *c, const struct cls_box *b, size_t n)
{
	struct cdict *k = &c->dict;
	size_t i;
	void *x;

	if (c->nrank >= CRANK || n == 0 || !fits32(b, NULL, n))
		return 0;
	k->src = malloc(n * sizeof(*k->src));
	k->dst = malloc(n * sizeof(*k->dst));
	k->tail = malloc(n * sizeof(*k->tail));
	if (k->src == NULL || k->dst == NULL || k->tail == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		k->src[i].lo = (uint32_t)b[i].lo[0];
		k->src[i].width = (uint32_t)(b[i].hi[0] - b[i].lo[0]);
		k->dst[i].lo = (uint32_t)b[i].lo[1];
		k->dst[i].width = (uint32_t)(b[i].hi[1] - b[i].lo[1]);
		tail_of(&b[i], &k->tail[i]);
	}
	k->nsrc = k->ndst = k->ntail = n;
	uniq(k->src, &k->nsrc, sizeof(*k->src), civ_cmp);
	uniq(k->dst, &k->ndst, sizeof(*k->dst), civ_cmp);
	uniq(k->tail, &k->ntail, sizeof(*k->tail), tail_qcmp);
	if (k->nsrc > COMPACT_IDS || k->ndst > COMPACT_IDS ||
	    k->ntail > COMPACT_IDS) {
		free(k->src);
		free(k->dst);
		free(k->tail);
		memset(k, 0, sizeof(*k));
		return 0;
	}
	/* keep only what is used (a failed shrink keeps it all) */
	if ((x = realloc(k->src, k->nsrc * sizeof(*k->src))) != NULL)
		k->src = x;
	if ((x = realloc(k->dst, k->ndst * sizeof(*k->dst))) != NULL)
		k->dst = x;
	if ((x = realloc(k->tail, k->ntail * sizeof(*k->tail))) != NULL)
		k->tail = x;
	return 0;
}

/* Add the tree of the n boxes gid names to c (limit: tree_build's
 * leaflimit); 0, 1 when it was too big (nothing added), -1 when memory
 * ran out. */
static int
add_tree(struct classifier *c, const uint32_t *gid, size_t n, size_t limit)
{
	bool toobig;

	if (n == 0)
		return 0;
	c->trees[c->ntrees] = tree_build(c->store, gid, n, c->dict.src !=
	    NULL ? &c->dict : NULL, limit, &toobig);
	if (c->trees[c->ntrees] == NULL)
		return toobig ? 1 : -1;
	c->ntrees++;
	return 0;
}

/*
 * The boxes stay where they are, in the one array the classifier takes
 * (its store): each group is a list of their indices, and its tree reads
 * them there.  At 100,000 rules the boxes are tens of megabytes, and
 * copying them into each group's own array took as much fresh memory
 * again, which costs more here than the build's work (memory.md).  Each
 * box's priority becomes its rank in place.
 *
 * The boxes wide in the destination alone (a rule to ANY) go first in
 * one tree with those of the same source width: when the tree cuts them
 * by source, which a firewall's rules mostly allow, they are copied into
 * few leaves, and a lookup walks one tree where it walked two.  When
 * they would fill its leaves past twice their number (ClassBench's sets:
 * 24 to 31 times), that tree is given up and the two groups get a tree
 * each, as EffiCuts separates them.
 */
struct classifier *
cls_build_take(struct cls_box *given, size_t n)
{
	struct classifier *c = calloc(1, sizeof(*c));
	u128 lo[CLS_DIMS], hi[CLS_DIMS], span[CLS_DIMS];
	size_t count[GROUPS_MAX] = { 0 }, at[GROUPS_MAX], i, m;
	uint32_t *gid = NULL, *both = NULL;
	uint8_t *mask = NULL;
	int g, d, *ranks, wide = 0, rc;

	if (c == NULL) {
		free(given);
		return NULL;
	}
	c->store = given;
	c->nstore = n;
	if ((ranks = rank_boxes(c, given, n)) == NULL ||
	    make_dict(c, given, n) == -1)
		goto fail;
	for (d = 0; d < CLS_DIMS; d++) {
		lo[d] = U128_MAX;
		hi[d] = 0;
	}
	for (i = 0; i < n; i++)
		for (d = 0; d < CLS_DIMS; d++) {
			if (given[i].lo[d] < lo[d])
				lo[d] = given[i].lo[d];
			if (given[i].hi[d] > hi[d])
				hi[d] = given[i].hi[d];
		}
	for (d = 0; d < CLS_DIMS; d++)
		span[d] = n > 0 ? hi[d] - lo[d] : 0;
	if ((mask = malloc(n + 1)) == NULL ||
	    (gid = malloc((n + 1) * sizeof(*gid))) == NULL ||
	    (both = malloc((n + 1) * sizeof(*both))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		mask[i] = (uint8_t)wide_mask(&given[i], span);
		count[mask[i]]++;
		given[i].prio = rank_of(c, ranks, given[i].prio);
	}
	for (g = 0, i = 0; g < GROUPS_MAX; g++) {
		at[g] = i;
		i += count[g];
	}
	for (i = 0; i < n; i++)
		gid[at[mask[i]]++] = (uint32_t)i;
	for (g = 0; g < GROUPS_MAX; g++)
		at[g] -= count[g];	/* (back to each group's start) */
	for (g = 0; g < GROUPS_MAX; g++) {
		if ((g & DST_WIDE) != 0)
			continue;	/* (built with g without it) */
		rc = 1;
		if (count[g] > 0 && count[g | DST_WIDE] > 0) {
			for (i = 0, m = 0; i < n; i++)
				if ((mask[i] & ~DST_WIDE) == g)
					both[m++] = (uint32_t)i;
			rc = add_tree(c, both, m, 2 * m);
		}
		if (rc == 1)	/* none tried, or too big: one each */
			rc = add_tree(c, gid + at[g], count[g], 0) == -1 ||
			    add_tree(c, gid + at[g | DST_WIDE],
			    count[g | DST_WIDE], 0) == -1 ? -1 : 0;
		if (rc == -1)
			goto fail;
	}
	for (g = 0; g < c->ntrees; g++)
		wide |= c->trees[g]->boxes != NULL;
	free(mask);
	free(gid);
	free(both);
	if (ranks != c->prio)
		free(ranks);
	if (!wide) {		/* every tree has its own copies */
		free(c->store);
		c->store = NULL;
		c->nstore = 0;
	}
	qsort(c->trees, (size_t)c->ntrees, sizeof(c->trees[0]), tree_order);
	return c;
fail:
	free(mask);
	free(gid);
	free(both);
	if (ranks != NULL && ranks != c->prio)
		free(ranks);
	cls_free(c);
	return NULL;
}

struct classifier *
cls_build(const struct cls_box *boxes, size_t n)
{
	struct cls_box *copy = big_alloc((n + 1) * sizeof(*copy));

	if (copy == NULL)
		return NULL;
	memcpy(copy, boxes, n * sizeof(*copy));
	return cls_build_take(copy, n);
}

static int
inside(const struct cls_box *b, const u128 *p)
{
	int d;

	for (d = 0; d < CLS_DIMS; d++)
		if (p[d] < b->lo[d] || p[d] > b->hi[d])
			return 0;
	return 1;
}

/* The best priority in this tree below best (unsigned: -1 is the top), or
 * best itself. */
static int
nbox_holds(const struct nbox *b, const uint32_t *q)
{
#if defined(__SSE2__) && !defined(CLS_SCALAR)
	__m128i d = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)q),
	    _mm_load_si128((const __m128i *)b->lo));
	__m128i out = _mm_cmpgt_epi32(_mm_xor_si128(d,
	    _mm_set1_epi32((int)FLIP)), _mm_load_si128((const __m128i *)
	    b->width));

	return _mm_movemask_epi8(out) == 0 && q[4] - b->plo <= b->pwidth;
#else
	return (q[0] - b->lo[0] <= b->width[0]) &
	    (q[1] - b->lo[1] <= b->width[1]) &
	    (q[2] - b->lo[2] <= b->width[2]) &
	    (q[3] - b->lo[3] <= b->width[3]) &
	    (q[4] - b->plo <= b->pwidth);
#endif
}

/* The slice of the root table that q falls in, in *at; false when q is
 * outside every box of the tree. */
static bool
slice_at(const struct tree *c, const uint32_t *q, uint64_t *at)
{
	*at = ((uint64_t)q[c->sdim] - c->sbase) >> c->sshift;
	return *at < c->nslice;
}

/* A walk's first node: the root, or the subtree of q's slice (its index
 * in *node).  False when q is outside every box of the tree. */
static bool
narrow_start(const struct tree *c, const uint32_t *q, uint32_t *node)
{
	uint64_t at;

	if (c->slice == NULL) {
		*node = 0;
		return true;
	}
	if (!slice_at(c, q, &at))
		return false;
	*node = c->slice[at];
	return true;
}

/* The best priority among the boxes of leaf nd that hold q, below best. */
static uint32_t
narrow_leaf(const struct tree *c, struct nnode nd, const uint32_t *q,
    uint32_t best)
{
	const struct nbox *b = &c->nb[nd.kid & NARROW_INDEX], *end;

	for (end = b + nd.cut; b < end && b->prio < best; b++)
		if (nbox_holds(b, q))
			return b->prio;
	return best;
}

static uint32_t
narrow_lookup(const struct tree *c, const uint32_t *q, uint32_t best)
{
	struct nnode nd;
	uint32_t dim, node;

	if (!narrow_start(c, q, &node))
		return best;
	nd = c->nn[node];
	while ((dim = nd.kid >> NARROW_SHIFT) != NARROW_LEAF)
		nd = c->nn[(nd.kid & NARROW_INDEX) + (q[dim] > nd.cut)];
	return narrow_leaf(c, nd, q, best);
}

/* Does compact box b hold q?  The tail first: its table is small (a few
 * hundred entries, in L1), one SSE2 comparison, and it rejects most boxes
 * of a leaf before the source and destination tables are read. */
static int
cbox_holds(const struct cdict *k, const struct cbox *b, const uint32_t *q)
{
	const struct ctail *t = &k->tail[b->tail];
	const struct civ *s, *d;
#if defined(__SSE2__) && !defined(CLS_SCALAR)
	__m128i x = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(q + 1)),
	    _mm_loadu_si128((const __m128i *)t->lo));

	if (_mm_movemask_epi8(_mm_cmpgt_epi32(_mm_xor_si128(x,
	    _mm_set1_epi32((int)FLIP)), _mm_loadu_si128((const __m128i *)
	    t->width))) != 0)
		return 0;
#else
	if (((q[2] - t->lo[1] > t->width[1]) |
	    (q[3] - t->lo[2] > t->width[2]) |
	    (q[4] - t->lo[3] > t->width[3])) != 0)
		return 0;
#endif
	s = &k->src[b->src];
	d = &k->dst[b->dst];
	return (q[0] - s->lo <= s->width) & (q[1] - d->lo <= d->width);
}

/* Where a compact walk starts: WALK_NODE with the index of its first
 * node in *node, WALK_LEAF when the root table names q's leaf (its first
 * box in *at), or WALK_DONE when q is outside every box of the tree. */
enum walk { WALK_DONE = 0, WALK_NODE, WALK_LEAF };

static enum walk
compact_start(const struct tree *c, const uint32_t *q, uint32_t *node,
    uint32_t *at)
{
	uint64_t s;
	uint32_t e;

	if (c->slice16 == NULL && c->slice == NULL) {
		*node = 0;
		return WALK_NODE;
	}
	if (!slice_at(c, q, &s))
		return WALK_DONE;
	if (c->slice16 != NULL) {
		e = c->slice16[s];
		if (e == 0xffff)
			return WALK_DONE;
		if (e & 0x8000) {
			*at = e & 0x7fff;
			return WALK_LEAF;
		}
	} else {
		e = c->slice[s];
		if (e == UINT32_MAX)
			return WALK_DONE;
		if (e & 0x80000000u) {
			*at = e & 0x7fffffffu;
			return WALK_LEAF;
		}
	}
	*node = e;
	return WALK_NODE;
}

/* The best rank among the boxes of the leaf whose first box is at (or
 * CEMPTY) that hold q, below best. */
static uint32_t
compact_scan(const struct tree *c, uint32_t at, const uint32_t *q,
    uint32_t best)
{
	const struct cbox *b;

	if (at == CEMPTY)
		return best;
	for (b = &c->cb[at];; b++) {
		uint32_t r = b->rank & CRANK;

		if (r >= best)
			break;
		if (cbox_holds(c->dict, b, q))
			return r;
		if (b->rank & CLAST)
			break;
	}
	return best;
}

static uint32_t
compact_lookup(const struct tree *c, const uint32_t *q, uint32_t best)
{
	struct nnode nd;
	uint32_t dim, node, at = CEMPTY;

	switch (compact_start(c, q, &node, &at)) {
	case WALK_DONE:
		return best;
	case WALK_NODE:
		nd = c->nn[node];
		while ((dim = nd.kid >> NARROW_SHIFT) != NARROW_LEAF)
			nd = c->nn[(nd.kid & NARROW_INDEX) + (q[dim] > nd.cut)];
		at = nd.kid & NARROW_INDEX;
		break;
	case WALK_LEAF:
		break;
	}
	return compact_scan(c, at, q, best);
}

static int
wide_lookup(const struct tree *c, const u128 *p)
{
	const struct node *nd = &c->nodes[0];
	uint32_t i;

	while (nd->dim >= 0)
		nd = &c->nodes[p[nd->dim] <= nd->cut ? nd->left : nd->right];
	for (i = 0; i < nd->count; i++) {
		const struct cls_box *b = &c->boxes[c->leafbox[nd->first + i]];

		if (inside(b, p))
			return b->prio;
	}
	return -1;
}

/* Point p in 32 bits into q; false when a dimension does not fit (then it
 * is above every box of a narrow or compact tree). */
static bool
point32(const u128 *p, uint32_t *q)
{
	int d, fits = 1;

	for (d = 0; d < CLS_DIMS; d++) {
		fits &= p[d] <= 0xffffffffu;
		q[d] = (uint32_t)p[d];
	}
	return fits;
}

/* The answer from the best rank (UINT32_MAX: none). */
static int
answer(const struct classifier *c, uint32_t best)
{
	if (best == UINT32_MAX)
		return -1;
	return c->prio != NULL ? c->prio[best] : (int)best;
}

int
cls_lookup(const struct classifier *c, const u128 *p)
{
	uint32_t best = UINT32_MAX, q[CLS_DIMS];
	int t;
	bool fits = point32(p, q);

	for (t = 0; t < c->ntrees; t++) {
		const struct tree *x = c->trees[t];

		if ((uint32_t)x->minprio >= best)
			break;		/* no tree left can win */
		if (x->cb != NULL) {
			if (fits)	/* else above every box of the tree */
				best = compact_lookup(x, q, best);
		} else if (x->nn != NULL) {
			if (fits)
				best = narrow_lookup(x, q, best);
		} else {
			int got = wide_lookup(x, p);

			if (got != -1 && (uint32_t)got < best)
				best = (uint32_t)got;
		}
	}
	return answer(c, best);
}

/*
 * Many lookups at once.  One walk down a tree is a chain of reads, each
 * waiting for the one before, and with a tree of megabytes most of them
 * miss the cache.  Walked side by side, one level at a time for every
 * point of the batch, the reads of different points are independent and
 * the processor overlaps them.  Each point asks the same trees in the
 * same order as cls_lookup, and with the same best so far, so the
 * answers are the same.  A replay's batch (64 flows) is walked at once:
 * 32 at a time left the second half's first reads waiting for the first
 * half's last (100K rules, one thread, medians of 15: 518 against 553 ms).
 */
#define MANY	64
_Static_assert(MANY <= 256, "many_walk keeps a point's index in a byte");

struct many {
	size_t		 n;
	uint32_t	 q[MANY][CLS_DIMS];
	bool		 fits[MANY];
	uint32_t	 best[MANY];
	uint32_t	 node[MANY];	/* walking: the node it is at */
	uint32_t	 at[MANY];	/* at a leaf: its first box */
	uint8_t		 walk[MANY];	/* enum walk */
};

/* Prefetch the first box of the leaf of point i (a narrow one may
 * straddle two lines, and its priority is at its end). */
static void
prefetch_leaf(const struct tree *x, const struct many *m, size_t i)
{
	if (x->cb != NULL) {
		if (m->at[i] != CEMPTY)
			__builtin_prefetch(&x->cb[m->at[i]]);
	} else {
		__builtin_prefetch(&x->nb[m->at[i]]);
		__builtin_prefetch(&x->nb[m->at[i]].prio);
	}
}

/* Walk every WALK_NODE point of m one level a pass down to its leaf, its
 * first box into at.  A pass reads the nodes the pass before prefetched:
 * a prefetch does not hold up the instructions after it, a read that
 * misses does.  A pass goes over the points still walking only, with no
 * branch on where each one is (a point reaches its leaf at a depth of
 * its own, and that branch mispredicted about once a point and tree):
 * its next node or its leaf's first box is chosen and prefetched alike
 * (100K rules, one thread, medians of 15: 576 against 626 ms). */
static void
many_walk(const struct tree *x, struct many *m)
{
	uint8_t act[MANY];	/* the points still walking */
	size_t i, j, n = 0, left;

	for (i = 0; i < m->n; i++) {
		act[n] = (uint8_t)i;
		n += m->walk[i] == WALK_NODE;
	}
	for (; n > 0; n = left) {
		for (left = 0, j = 0; j < n; j++) {
			size_t k = act[j];
			struct nnode nd = x->nn[m->node[k]];
			uint32_t dim = nd.kid >> NARROW_SHIFT,
			    at = nd.kid & NARROW_INDEX;
			bool leaf = dim == NARROW_LEAF;
			uint32_t next = at + (m->q[k][leaf ? 0 : dim] > nd.cut);
			const void *pf;

			m->node[k] = leaf ? m->node[k] : next;
			m->at[k] = at;
			m->walk[k] = leaf ? WALK_LEAF : WALK_NODE;
			if (!leaf)
				pf = &x->nn[next];
			else if (x->cb != NULL)
				pf = at != CEMPTY ? (const void *)&x->cb[at] :
				    (const void *)x->cb;
			else
				pf = &x->nb[at].prio;
			__builtin_prefetch(pf);
			__builtin_prefetch(leaf && x->cb == NULL ? &x->nb[at] :
			    pf);
			act[left] = (uint8_t)k;
			left += !leaf;
		}
	}
}

/* One narrow or compact tree for the points of m that it may improve. */
static void
many_tree(const struct tree *x, struct many *m)
{
	uint64_t s;
	size_t i;

	for (i = 0; i < m->n; i++) {
		m->walk[i] = WALK_DONE;
		if (!m->fits[i] || (uint32_t)x->minprio >= m->best[i])
			continue;
		m->walk[i] = WALK_NODE;
		if (x->slice16 != NULL && slice_at(x, m->q[i], &s))
			__builtin_prefetch(&x->slice16[s]);
		else if (x->slice != NULL && slice_at(x, m->q[i], &s))
			__builtin_prefetch(&x->slice[s]);
	}
	for (i = 0; i < m->n; i++) {
		if (m->walk[i] == WALK_DONE)
			continue;
		if (x->cb != NULL)
			m->walk[i] = (uint8_t)compact_start(x, m->q[i],
			    &m->node[i], &m->at[i]);
		else if (!narrow_start(x, m->q[i], &m->node[i]))
			m->walk[i] = WALK_DONE;
		if (m->walk[i] == WALK_NODE)
			__builtin_prefetch(&x->nn[m->node[i]]);
		else if (m->walk[i] == WALK_LEAF)
			prefetch_leaf(x, m, i);
	}
	many_walk(x, m);
	for (i = 0; i < m->n; i++) {
		if (m->walk[i] != WALK_LEAF)
			continue;
		if (x->cb != NULL)
			m->best[i] = compact_scan(x, m->at[i], m->q[i],
			    m->best[i]);
		else
			m->best[i] = narrow_leaf(x, x->nn[m->node[i]], m->q[i],
			    m->best[i]);
	}
}

void
cls_lookup_many(const struct classifier *c, const u128 *p, size_t n,
    int *out)
{
	struct many m;
	size_t at, i;
	int t, got;

	for (at = 0; at < n; at += m.n) {
		m.n = n - at < MANY ? n - at : MANY;
		for (i = 0; i < m.n; i++) {
			m.fits[i] = point32(p + (at + i) * CLS_DIMS, m.q[i]);
			m.best[i] = UINT32_MAX;
		}
		for (t = 0; t < c->ntrees; t++) {
			const struct tree *x = c->trees[t];

			if (x->nn != NULL) {
				many_tree(x, &m);
				continue;
			}
			for (i = 0; i < m.n; i++) {
				if ((uint32_t)x->minprio >= m.best[i])
					continue;
				got = wide_lookup(x, p + (at + i) * CLS_DIMS);
				if (got != -1 && (uint32_t)got < m.best[i])
					m.best[i] = (uint32_t)got;
			}
		}
		for (i = 0; i < m.n; i++)
			out[at + i] = answer(c, m.best[i]);
	}
}

int
cls_linear(const struct cls_box *boxes, size_t n, const u128 *p)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if ((best == -1 || boxes[i].prio < best) && inside(&boxes[i], p))
			best = boxes[i].prio;
	return best;
}

size_t
cls_memory(const struct classifier *c)
{
	size_t m = sizeof(*c) + c->dict.nsrc * sizeof(struct civ) +
	    c->dict.ndst * sizeof(struct civ) + c->dict.ntail *
	    sizeof(struct ctail) + (c->prio != NULL ? c->nrank * sizeof(int) :
	    0);
	int t;

	for (t = 0; t < c->ntrees; t++) {
		const struct tree *x = c->trees[t];

		m += sizeof(*x);
		if (x->cb != NULL)
			m += x->nnodes * sizeof(struct nnode) + x->ncb *
			    sizeof(struct cbox) + (x->slice16 != NULL ?
			    x->nslice * sizeof(uint16_t) : x->slice != NULL ?
			    x->nslice * sizeof(uint32_t) : 0);
		else if (x->nn != NULL)
			m += x->nnodes * sizeof(struct nnode) + x->nleaf *
			    sizeof(struct nbox) + (x->slice != NULL ?
			    x->nslice * sizeof(uint32_t) : 0);
		else
			m += x->nnodes * sizeof(struct node) + x->nleaf *
			    sizeof(uint32_t);
	}
	return m + c->nstore * sizeof(struct cls_box);
}

void
cls_stats(const struct classifier *c, struct cls_stats *st)
{
	int t;

	memset(st, 0, sizeof(*st));
	st->trees = c->ntrees;
	st->intervals = c->dict.nsrc + c->dict.ndst;
	st->tails = c->dict.ntail;
	for (t = 0; t < c->ntrees; t++) {
		const struct tree *x = c->trees[t];

		st->nodes += x->nnodes;
		st->slices += x->slice != NULL || x->slice16 != NULL ?
		    x->nslice : 0;
		if (x->cb != NULL) {
			st->compact++;
			st->compact16 += x->slice16 != NULL;
			st->compact32 += x->slice != NULL;
			st->leafboxes += x->ncb;
		} else if (x->nn != NULL) {
			st->narrow++;
			st->leafboxes += x->nleaf;
		} else {
			st->wide++;
			st->leafboxes += x->nleaf;
		}
	}
}

void
cls_free(struct classifier *c)
{
	int t;

	if (c == NULL)
		return;
	for (t = 0; t < c->ntrees; t++)
		tree_free(c->trees[t]);
	free(c->dict.src);
	free(c->dict.dst);
	free(c->dict.tail);
	free(c->prio);
	free(c->store);
	free(c);
}

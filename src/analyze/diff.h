/* diff.h: the flows two policies decide differently, exactly, as a short
 * list of regions (doc/design/diff.md). */
#ifndef MOAT_DIFF_H
#define MOAT_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "analyze/eval.h"

/* The dimensions of a region; the interface is fixed per region. */
enum diff_dim {
	DD_SRC = 0,
	DD_DST,
	DD_TIME,	/* minute of the week */
	DD_SVC,		/* proto << 16 | port (flow_service_key) */
	DD_NDIMS,
};

/*
 * Every flow of a region arrives on one interface (of each policy: the
 * same name), has addresses of one family and is decided alike by each
 * side: the same verdict, rule and translation.  An IPv6 region's address
 * ranges skip the IPv4 block (::ffff:0:0/96): [0, U128_MAX] is any IPv6
 * address.  The service range holds only keys that flows have (see
 * diff_key_valid).
 */
struct diff_region {
	const struct iface	*ifa, *ifb;	/* of a, of b */
	enum addr_family	 fam;
	u128			 lo[DD_NDIMS], hi[DD_NDIMS];
	struct flow		 ex_a, ex_b;	/* one flow of it, as a and b
						   see it (their iface) */
	struct verdict		 va, vb;	/* its verdicts */
};

struct policy_diff {
	size_t			 n, cap;
	struct diff_region	*v;
	/* Interfaces of one side only: every flow on them changes (the
	 * other side has no such zone); named, not cut into regions. */
	size_t			 nonly_a, nonly_b;
	const struct iface	**only_a, **only_b;
	bool			 complete;	/* false: stopped at the cap */
	bool			 out_of_time;	/* stopped at the deadline */
	bool			 timed;		/* a side has schedules: regions
						   carry a time range */
	size_t			 nleaves;	/* cells decided (a figure) */
	bool			 narrowed;	/* the cells were only the
						   suspects' (what changed:
						   rules, NAT, forwards, and
						   the flows no rule holds when
						   a default changed), not the
						   whole flow space */
};

/* The flows whose verdict or translation policy a and policy b (both
 * valid) decide differently: 0, or -1 when memory runs out.  At most
 * max_cells cells are decided (then d->complete is false). */
int	 policy_diff(const struct policy *a, const struct policy *b,
	    size_t max_cells, struct policy_diff *d);
/* The same, stopped (d->complete false, d->out_of_time true) once ms
 * milliseconds have passed: an apply's or the console's summary has a
 * deadline.  ms 0: none. */
int	 policy_diff_until(const struct policy *a, const struct policy *b,
	    size_t max_cells, long long ms, struct policy_diff *d);
/* policy_diff with the plain walk (diff_side's list_all): the same
 * cells, cuts and regions, only slower; tests compare the two. */
int	 policy_diff_plain(const struct policy *a, const struct policy *b,
	    size_t max_cells, struct policy_diff *d);
void	 policy_diff_free(struct policy_diff *d);
/* True when a flow can have service key k (a port only for protocols with
 * ports, a type up to 255 for ICMP, 0 else). */
bool	 diff_key_valid(u128 k);
/* True when verdicts va (of a) and vb (of b) of one flow differ in what
 * the flow meets: the action, or, accepted by both, its translation. */
bool	 diff_verdicts_differ(const struct verdict *va,
	    const struct verdict *vb);

/*
 * One policy's walk over a cell, for another comparison than the diff's
 * (the import's proof, src/import/proof.c): the steps eval.c takes, each
 * test asked whether it holds for all of the cell, none of it, or part of
 * it (doc/design/diff.md).
 */
enum { DIFF_OUT = 0, DIFF_IN, DIFF_CUT };

/* A box of the flow space of one interface and family. */
struct diff_cell {
	u128	lo[DD_NDIMS], hi[DD_NDIMS];
};

/* A cut: the cell becomes [lo, at - 1] and [at, hi] in dimension dim. */
struct diff_cut {
	int	dim;
	u128	at;
};

/*
 * The rules a cell may meet: list[0..n) (checked against an ancestor),
 * then all[from..nall) (not yet looked at), and nin rules found to hold
 * all of an ancestor, so all of the cell (counted, not listed: each would
 * be tested again in every cell below, and at 100,000 rules thousands of
 * them are): the first of them is in_first, those found at this cell
 * are in[0..nin_here), the others up's.  A view, when not NULL, says
 * which of list's entries may meet the cell (view[0..nview): their
 * indices), a tail which of all[from..nall) (tail[0..ntail): positions
 * in all); the others are outside it (untranslated: in source, service
 * or time, or in destination when nothing translates it).  The root's:
 * all zero.
 */
struct diff_cands {
	const size_t		*list;
	size_t			 n;
	size_t			 from;
	size_t			 nin;
	size_t			 in_first;	/* when nin > 0 */
	const size_t		*in;
	size_t			 nin_here;
	const struct diff_cands	*up;
	const size_t		*view, *tail;
	size_t			 nview, ntail;
};

struct diff_side {
	const struct policy	*p;
	const struct iface	*ifc;
	size_t			*all;	/* enabled rules of ifc, in order
					   (diff_iface_rules) */
	size_t			 nall;
	bool			 action_only;	/* cut only where the action
						   may change, not the
						   translation */
	bool			 list_all;	/* the rules that hold a cell
						   listed and tested again
						   below it (nin stays 0):
						   the plain walk, for tests */
};

/* Side s's steps over cell c (addresses of family fam): DIFF_IN when its
 * decision cannot change inside c (*first: the rule that decides, or
 * NULL), DIFF_CUT with *cut where it may.  k is the cell's candidate
 * rules; *next gets its parts' (free it with diff_cands_done; it points
 * at k, which must outlive it).  *failed is set to -1 when memory runs
 * out. */
int	 diff_side_walk(const struct diff_side *s, enum addr_family fam,
	    const struct diff_cell *c, const struct diff_cands *k,
	    struct diff_cands *next, struct diff_cut *cut,
	    const struct rule **first, int *failed);
void	 diff_cands_done(const struct diff_cands *parent, struct diff_cands *k);
/* The enabled rules of ifc in p, in order (malloc'd; NULL when memory
 * runs out). */
size_t	*diff_iface_rules(const struct policy *p, const struct iface *ifc,
	    size_t *n);
/* Whether [lo, hi] lies in s (DIFF_IN), outside it (DIFF_OUT), or across
 * an edge (DIFF_CUT, the edge in *at: a cut inside [lo, hi]). */
int	 diff_set_test(struct iset s, u128 lo, u128 hi, u128 *at);
#define DIFF_EDGES	4	/* diff_set_edges' most */
/* The edges of s inside [lo, hi] (where it starts or stops, each a cut
 * inside it), at most DIFF_EDGES, shifted back by k, into e: how many. */
size_t	 diff_set_edges(struct iset s, u128 lo, u128 hi, u128 k, u128 *e);
/* The k-th smallest of e[0..n) (k < n; e is reordered): the median
 * edge a cell is cut at, in linear time. */
u128	 diff_select(u128 *e, size_t n, size_t k);
/* The first key of [lo, hi] a flow can have (diff_key_valid), or false. */
bool	 diff_first_key(u128 lo, u128 hi, u128 *k);

#endif

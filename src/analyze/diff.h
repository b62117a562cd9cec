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
void	 policy_diff_free(struct policy_diff *d);
/* True when a flow can have service key k (a port only for protocols with
 * ports, a type up to 255 for ICMP, 0 else). */
bool	 diff_key_valid(u128 k);
/* True when verdicts va (of a) and vb (of b) of one flow differ in what
 * the flow meets: the action, or, accepted by both, its translation. */
bool	 diff_verdicts_differ(const struct verdict *va,
	    const struct verdict *vb);

#endif

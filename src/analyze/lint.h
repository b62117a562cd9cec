/* lint.h: what `moat check` says beyond errors. */
#ifndef MOAT_LINT_H
#define MOAT_LINT_H

#include "policy/policy.h"

struct lint_stats {
	size_t	rules;		/* enabled rules looked at */
	size_t	shadowed;	/* rules that can never match */
	size_t	candidates;	/* earlier rules compared in depth */
	size_t	too_complex;	/* rules whose coverage was not decided */
};

/* Add warnings and notes about valid policy p to p->diags: rules that can
 * never match (with the rules that cover them), rules the anti-lockout rule
 * overrides in part, settings that contradict each other.  Returns 0, or -1
 * when memory runs out. */
int	 lint_policy(struct policy *p, struct lint_stats *st);

#endif

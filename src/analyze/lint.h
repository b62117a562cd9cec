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
/* lint_policy with the interfaces checked in one thread (threads 1) or
 * two (2; lint_policy takes two from 4096 rules): the same findings in
 * the same order. */
int	 lint_policy_threads(struct policy *p, struct lint_stats *st,
	    int threads);

#endif

/* lint.h: what `moat check` says beyond errors. */
#ifndef MOAT_LINT_H
#define MOAT_LINT_H

#include "base/strbuf.h"
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

/*
 * What lint found of each rule that can never match (or was not
 * decided), kept as bytes (a memo) for the next lint of an edit of the
 * same policy: a rule whose earlier overlapping rules are the same rules
 * in the same order, with the same anti-lockout rule, is found the same
 * (doc/design/lint.md, "Reuse"), so its finding is taken from the memo,
 * and only the rules an edit can change are checked again.
 */
struct lint_memo {
	const char		*tag;	/* the program's version: a memo
					   of another is not read */
	const struct policy	*old;	/* the policy in is of, or NULL */
	const char		*in;	/* its memo, or NULL */
	size_t			 inlen;
	struct strbuf		*out;	/* p's memo, when not NULL */
	size_t			 reused;	/* rules found from in */
	size_t			 checked;	/* rules checked */
	long long		 deadline;	/* ms (clock_ms), 0: none:
						   past it the rules left are
						   not checked (a note says
						   so) and no memo is made */
	bool			 late;		/* the deadline passed */
};

/* lint_policy, with m (NULL: none; a memo that does not fit is not
 * read): the same findings in the same order. */
int	 lint_policy_memo(struct policy *p, struct lint_stats *st,
	    struct lint_memo *m);

#endif

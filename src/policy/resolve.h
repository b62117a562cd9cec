/* resolve.h: names bound, sets computed, the whole file checked (the
 * second step of policy_parse, load.c). */
#ifndef MOAT_RESOLVE_H
#define MOAT_RESOLVE_H

#include "policy/policy.h"

/* Bind every name of p, compute its address and service sets and record
 * what is wrong in p->diags; adds the anti-lockout rule.  Memory comes
 * from p's arena (its out-of-memory handler must be set). */
void	 resolve_policy(struct policy *p);

#endif

/* json.h: the policy and verdicts as JSON, in the seed's vocabulary
 * (action, interface, source {match: include|exclude, …}, services). */
#ifndef MOAT_JSON_H
#define MOAT_JSON_H

#include "analyze/eval.h"
#include "base/strbuf.h"
#include "policy/policy.h"

/* A JSON string literal, escaped. */
void	 json_put_string(struct strbuf *b, const char *s);
/* The whole policy as one JSON object. */
void	 json_policy(const struct policy *p, struct strbuf *b);
/* The same with only count rules from the one at index from (0: rule 1)
 * in its "rules" (none past the last). */
void	 json_policy_rules(const struct policy *p, size_t from, size_t count,
	    struct strbuf *b);
/* The verdict of `moat test --json`: verdict, rule, line, reason, … */
void	 json_verdict(const struct policy *p, const struct flow *f,
	    const struct verdict *v, struct strbuf *b);

#endif

/* naive.h: a second evaluator, written from the language's definition on
 * the parsed statements, sharing none of eval.c's sets or lookups. */
#ifndef MOAT_TEST_NAIVE_H
#define MOAT_TEST_NAIVE_H

#include "analyze/eval.h"

/* Decide f under p; fills action, by, rule number (0 when none). */
void	 naive_eval(const struct policy *p, const struct flow *f,
	    enum action *action, enum decided_by *by, int *rule);

#endif

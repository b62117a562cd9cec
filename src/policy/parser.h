/* parser.h: config text into a struct policy, names left unbound (the
 * first step of policy_parse, load.c). */
#ifndef MOAT_PARSER_H
#define MOAT_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

/* Parse len bytes of text from file into p, adding what it defines and
 * recording errors in p->diags.  builtin: the built-in services, which
 * the user's file may not redefine.  Memory comes from p's arena (its
 * out-of-memory handler must be set).  Returns 0. */
int	 parser_run(struct policy *p, const char *file, const char *text,
	    size_t len, bool builtin);

#endif

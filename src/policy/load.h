/* load.h: reading a policy from text or a file: the front door of the
 * policy subsystem, above the parser and the resolver. */
#ifndef MOAT_LOAD_H
#define MOAT_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

/* The largest config file moat reads. */
#define POLICY_FILE_MAX	(64u << 20)

/* Parse config text.  Returns NULL only when memory runs out; otherwise a
 * policy whose diags say whether it is valid (nerrors == 0). */
struct policy	*policy_parse(const char *file, const char *text, size_t len);
/* policy_parse with the addresses of the interfaces that say address
 * dynamic (NULL: none; XIP and XNET of those are then empty). */
struct policy	*policy_parse_bound(const char *file, const char *text,
		    size_t len, const struct binding *b);
/* policy_parse_bound of text the policy takes (malloc'd, a NUL at
 * text[len]), freed with it, or at once when NULL is returned: the
 * config's bytes kept without a copy (4.5 MB at 100,000 rules). */
struct policy	*policy_parse_taking(const char *file, char *text,
		    size_t len, const struct binding *b);
/* Read and parse a file ("-" is standard input).  NULL when it cannot be
 * read, with the reason in err. */
struct policy	*policy_load(const char *path, char *err, size_t errlen);
/* policy_load for a config to enforce: also NULL, with the reason, when
 * the file is writable by group or others, or (when we are root) owned
 * by anyone but root.  Standard input is taken as it is. */
struct policy	*policy_load_trusted(const char *path, char *err,
		    size_t errlen);

/* policy_load or (trusted) policy_load_trusted, with a binding. */
struct policy	*policy_load_bound(const char *path, bool trusted,
		    const struct binding *b, char *err, size_t errlen);

#endif

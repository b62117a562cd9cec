/* audit.h: the console's audit log (state/audit.log): who changed what,
 * when, a line each, as moatd's parent knows who asked. */
#ifndef MOAT_AUDIT_H
#define MOAT_AUDIT_H

#include <jansson.h>

#define AUDIT_MAX	(1 << 20)	/* bytes of audit.log before it turns */

/* Append "TIME USER WHAT DETAIL" (user "-" when it is not a user's name;
 * detail "-" when NULL; neither may hold a space). */
void	 audit_write(const char *state, const char *user, const char *what,
	    const char *detail);
/* The log (since it last turned) as a JSON array of {time, user, what, detail} (new reference;
 * empty when there is none). */
json_t	*audit_json(const char *state);

#endif

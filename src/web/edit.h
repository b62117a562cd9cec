/* edit.h: the console's editor: one change to the config's text, asked in
 * JSON (a rule, an object, a service, an interface, a NAT, a port forward,
 * the antivirus settings), made in the console process.  The result is a
 * whole new text, which moatd's parent then checks as it checks any
 * config (control.h "save"): nothing here is trusted by root. */
#ifndef MOAT_EDIT_H
#define MOAT_EDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/strbuf.h"

struct edit_result {
	int	 status;	/* 200, or the HTTP status of the refusal */
	char	 msg[300];	/* why not */
	bool	 comments_dropped;	/* the text was printed anew */
};

/* True when op is one of the editor's changes. */
bool	 edit_known(const char *op);
/*
 * Make the change op with the request's fields (n, to, position, name,
 * rule, members, entries, device, ...) to text (len bytes, the file
 * name for positions): the new text into out and status 200, or a 400
 * (fields not ones the language could hold), 404 (no such thing) or 422
 * (the config does not parse: mend it as text first) with a message.
 */
void	 edit_apply(const char *op, json_t *req, const char *file,
	    const char *text, size_t len, struct strbuf *out,
	    struct edit_result *r);

#endif

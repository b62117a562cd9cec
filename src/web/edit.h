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

#define EDIT_SPANS_MAX	80	/* name, url, refresh, max, 64 hosts... */

/* Where a field of the request was written on the changed line. */
struct edit_span {
	unsigned	 lo, hi;	/* columns (bytes, from 1), inclusive */
	const char	*field;		/* "name", "members", "hosts", "url",
					   "refresh", "max", "countries" */
	int		 index;		/* in a list field, or -1 */
};

struct edit_result {
	int	 status;	/* 200, or the HTTP status of the refusal */
	char	 msg[300];	/* why not */
	const char *field;	/* the request's field refused (400), or NULL */
	bool	 comments_dropped;	/* the text was printed anew */
	unsigned line;		/* the line written (an object's), or 0 */
	struct edit_span spans[EDIT_SPANS_MAX];
	size_t	 nspans;
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

/*
 * The findings of the parent about the text made by r (a JSON array of
 * {line, column, ...}): each one on the line r wrote, at a column one of
 * its fields was written at, gains "field" (and "index" in a list), so
 * that a page shows it at its field.
 */
void	 edit_mark_fields(const struct edit_result *r, json_t *diagnostics);

#endif

/* urllist.h: the text of a url object's list (what https_get or a file://
 * read brought) as a set of addresses.  All or nothing: a list with one
 * line that is not an address, a network or a range is refused whole, so
 * an error page or a captive portal's HTML never replaces a blocklist.
 */
#ifndef MOAT_URLLIST_H
#define MOAT_URLLIST_H

#include <stddef.h>

#include "base/arena.h"
#include "base/iset.h"

#define URLLIST_MAX_DEFAULT	1000000	/* entries, when the object says none */

/* The list in text (len bytes, no NUL needed): one entry a line, an
 * address, ADDR/LEN (host bits masked) or ADDR-ADDR, IPv4 or IPv6; '#' and
 * ';' start a comment; blank lines, blanks around an entry and CRLF are
 * fine.  0 with the set in *out (built in a, whose allocation failures jump
 * to a's arena_catch) and the number of entries in *entries; -1 with err
 * ("line N: why", or "more than MAX entries") and *out empty. */
int	 urllist_parse(const char *text, size_t len, size_t max,
	    struct arena *a, struct iset *out, size_t *entries, char *err,
	    size_t errlen);

#endif

/* urllist.c: a url object's list as a set (urllist.h).
 *
 * Lists in the wild: one address or network a line (Spamhaus DROP, the
 * FireHOL and emerging-threats sets, a team's own file), networks often
 * written with host bits set, comments after '#' or ';'.  A million lines
 * must parse in well under a second, so the intervals are gathered as they
 * come and sorted and merged once, at the end (iset_from), never unioned
 * line by line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "feeds/urllist.h"

#define ENTRY_MAX	100	/* the longest entry we read (a v6 range is 80) */
#define QUOTE_MAX	40	/* of a bad line, quoted in the error */

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Only these make an address literal; anything else is not one, said
 * without handing inet_pton a page of HTML. */
static bool
lit_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == '.' || c == ':' || c == '/' ||
	    c == '-';
}

/* "line N: 'QUOTE' is not ..." with the line's start, printable. */
static void
not_entry(char *err, size_t errlen, size_t line, const char *s, size_t n)
{
	char q[QUOTE_MAX + 4];
	size_t i, k = 0;

	for (i = 0; i < n && k < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		q[k++] = c < 0x20 || c >= 0x7f || c == '\'' ? '?' : (char)c;
	}
	if (i < n) {
		memcpy(q + k, "...", 3);
		k += 3;
	}
	q[k] = '\0';
	snprintf(err, errlen, "line %zu: '%s' is not an address, network or "
	    "range", line, q);
}

int
urllist_parse(const char *text, size_t len, size_t max, struct arena *a,
    struct iset *out, size_t *entries, char *err, size_t errlen)
{
	struct ival *v = NULL, *nv;
	size_t n = 0, cap = 0, off = 0, line = 0, count = 0;
	int rc = -1;

	out->n = 0;
	out->v = NULL;
	*entries = 0;
	while (off < len) {
		const char *l = text + off, *nl;
		size_t ln, i, k;
		char buf[ENTRY_MAX + 1], why[200];
		struct addr_lit lit;
		struct ival iv[2];

		line++;
		nl = memchr(l, '\n', len - off);
		ln = nl != NULL ? (size_t)(nl - l) : len - off;
		off += ln + (nl != NULL);
		for (i = 0; i < ln && l[i] != '#' && l[i] != ';'; i++)
			;
		ln = i;
		while (ln > 0 && is_blank((unsigned char)l[ln - 1]))
			ln--;
		while (ln > 0 && is_blank((unsigned char)*l)) {
			l++;
			ln--;
		}
		if (ln == 0)
			continue;
		for (i = 0; i < ln && lit_char((unsigned char)l[i]); i++)
			;
		if (i < ln || ln > ENTRY_MAX) {
			not_entry(err, errlen, line, l, ln);
			goto done;
		}
		memcpy(buf, l, ln);
		buf[ln] = '\0';
		if (addr_parse_lit(buf, true, &lit, why, sizeof(why), NULL, 0)
		    == -1) {
			snprintf(err, errlen, "line %zu: %s", line, why);
			goto done;
		}
		/* host bits set: the network (true above keeps the host) */
		if (lit.kind == LIT_PREFIX)
			addr_network(lit.lo, lit.family, lit.plen, &lit.lo,
			    &lit.hi);
		if (++count > max) {
			snprintf(err, errlen, "more than %zu entries", max);
			goto done;
		}
		k = addr_span(lit.lo, lit.hi, lit.family, iv);
		if (n + k > cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto done;
			}
			v = nv;
		}
		for (i = 0; i < k; i++)
			v[n++] = iv[i];
	}
	if (iset_from_caught(a, v, n, out) == -1) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	*entries = count;
	rc = 0;
done:
	free(v);
	return rc;
}

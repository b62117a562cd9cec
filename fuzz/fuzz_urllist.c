/* fuzz_urllist.c: libFuzzer target for a url object's list
 * (feeds/urllist.h), the text a feed's server (or whoever stands in its
 * place) sends.  Input: a byte that picks the entry cap (0: the default),
 * then the list.  Invariants: refused, nothing comes out and the error
 * says a line or the cap, and a line named is refused alone too; taken, no
 * more entries than the cap, a set that keeps iset's invariant, and the
 * same set as the lines parsed one by one and unioned.
 * Built with clang -fsanitize=fuzzer by scripts/fuzz.sh urllist; replay.c
 * runs the corpus in the test suite. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/urllist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Line by line, each alone, unioned; the line numbered bad (0: none) must
 * be refused alone. */
static void
by_line(struct arena *a, const char *t, size_t len, size_t bad, struct iset *u)
{
	size_t off = 0, line = 0, n;
	char err[200];

	u->n = 0;
	u->v = NULL;
	while (off < len) {
		const char *nl = memchr(t + off, '\n', len - off);
		size_t ln = nl != NULL ? (size_t)(nl - (t + off)) : len - off;
		struct iset s;
		int r;

		line++;
		r = urllist_parse(t + off, ln, URLLIST_MAX_DEFAULT, a, &s, &n,
		    err, sizeof(err));
		if (line == bad) {
			if (r != -1 || strncmp(err, "line 1: ", 8) != 0)
				abort();
			return;
		}
		if (r == -1 || n > 1)
			abort();
		*u = iset_union(a, *u, s);
		off += ln + (nl != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	const char *t = (const char *)data + 1;
	struct iset s, u;
	size_t max, n, i;
	char err[200];
	int r;

	if (size < 1)
		return 0;
	max = data[0] == 0 ? URLLIST_MAX_DEFAULT : data[0];
	arena_init(&a);
	r = urllist_parse(t, size - 1, max, &a, &s, &n,
	    err, sizeof(err));
	if (r == -1) {
		if (s.n != 0 || n != 0)
			abort();
		if (strncmp(err, "line ", 5) == 0)
			by_line(&a, t, size - 1, strtoul(err + 5, NULL, 10), &u);
		else if (strncmp(err, "more than ", 10) != 0)
			abort();
	} else {
		if (n > max || (n == 0 && s.n != 0))
			abort();
		for (i = 0; i < s.n; i++) {
			struct ival v = s.v[i];

			if (v.lo > v.hi || (i > 0 && (s.v[i - 1].hi == U128_MAX ||
			    s.v[i - 1].hi + 1 >= v.lo)))
				abort();
		}
		by_line(&a, t, size - 1, 0, &u);
		if (!iset_equal(s, u))
			abort();
	}
	arena_free(&a);
	return 0;
}

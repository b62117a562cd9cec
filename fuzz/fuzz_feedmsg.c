/* fuzz_feedmsg.c: libFuzzer target for the root parent's check of what
 * the feed process reports (feeds/feedmsg.h): the input is the frame as
 * the parent reads it, from a process that may be anyone's by now.  The
 * config in force has three feed objects (a url, an fqdn of two names, a
 * country) at generation 7; the seeds in fuzz/corpus-feedmsg are reports
 * for them.  Invariants: refused, a reason and a printable name; ignored,
 * only for another generation; taken, an object of the table, fields in
 * their ranges, a printable error, a set that keeps iset's invariant with
 * no more elements per family than the report carried, and that set
 * written again by the child's encoder is taken again, the same.
 * Built with clang -fsanitize=fuzzer by scripts/fuzz.sh feedmsg; replay.c
 * runs the corpus in the test suite. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feedmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GEN	7

static const struct feed_expect objs[] = {
	{ "drop", 0x1111, 102, 1, 0 },	/* url, max 100 */
	{ "cdn", 0x2222, 2 * 256, 2, 2 * 256 },	/* fqdn, two names */
	{ "eu", 0x3333, 4000, 3, 0 },	/* country, a smaller limit */
};
#define NOBJ	(sizeof(objs) / sizeof(objs[0]))

static void
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			abort();
	if (i == n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_report r, again;
	struct arena a;
	struct feedmsg m, m2;
	char name[FEEDMSG_NAME], why[128], *buf, *enc;
	size_t i, len;
	int rc;

	/* a copy of its own size, so that ASan sees any read past it */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	arena_init(&a);
	rc = feedmsg_check(buf, size, GEN, objs, NOBJ, &a, &m, name, why,
	    sizeof(why));
	if (rc == -1) {
		if (why[0] == '\0')
			abort();
		printable(name, sizeof(name));
		goto out;
	}
	memcpy(&r, buf, sizeof(r));	/* rc 0 or 1: a whole head */
	if (rc == 0) {
		if (r.gen == GEN)
			abort();
		goto out;
	}
	if (rc != 1 || r.gen != GEN || m.obj >= NOBJ ||
	    strcmp(r.name, objs[m.obj].name) != 0 ||
	    r.key != objs[m.obj].key || m.failing > objs[m.obj].names ||
	    m.next < 0 || m.next > FEEDMSG_TIME_MAX ||
	    m.entries > INT64_MAX)
		abort();
	printable(m.error, sizeof(m.error));
	if (!m.ok) {
		if (m.s.n != 0 || r.n4 != 0 || r.n6 != 0)
			abort();
		goto out;
	}
	if (m.n4 > r.n4 || m.n6 > r.n6)
		abort();
	for (i = 0; i < m.s.n; i++) {
		struct ival v = m.s.v[i];

		if (v.lo > v.hi || (i > 0 && (m.s.v[i - 1].hi == U128_MAX ||
		    m.s.v[i - 1].hi + 1 >= v.lo)))
			abort();
	}
	/* The child's encoder, on what was taken: taken again, the same. */
	again = r;
	if ((enc = feedmsg_encode(&again, m.s, &len)) == NULL)
		goto out;
	if (!again.ok || again.n4 != m.n4 || again.n6 != m.n6 ||
	    feedmsg_check(enc, len, GEN, objs, NOBJ, &a, &m2, name, why,
	    sizeof(why)) != 1 || m2.obj != m.obj || !iset_equal(m2.s, m.s) ||
	    m2.n4 != m.n4 || m2.n6 != m.n6)
		abort();
	free(enc);
out:
	arena_free(&a);
	free(buf);
	return 0;
}

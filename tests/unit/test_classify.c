/* test_classify.c: the classifier returns the linear first-match answer,
 * on random boxes and on the ClassBench sets and traces (when
 * MOAT_CLASSBENCH names their directory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/classify.h"
#include "classbench.h"
#include "gen.h"

/* A point inside a random box (half the time) or anywhere in [0, max]. */
static void
random_point(struct rng *r, const struct cls_box *b, size_t n, u128 max,
    u128 *p)
{
	const struct cls_box *in = rng_below(r, 2) ? &b[rng_below(r, n)] : NULL;
	int d;

	for (d = 0; d < CLS_DIMS; d++) {
		u128 lo = in ? in->lo[d] : 0, hi = in ? in->hi[d] : max;
		u128 w = hi - lo;

		p[d] = w == U128_MAX ? (u128)rng_next(r) : lo + (u128)rng_next(r)
		    % (w + 1);
	}
}

static void
check_all(const struct cls_box *b, size_t n, const u128 *pts, size_t npts,
    const char *what)
{
	struct classifier *c = cls_build(b, n);
	size_t i, hits = 0;
	int *many = malloc((npts + 1) * sizeof(*many));
	int *odd = malloc((npts + 1) * sizeof(*odd));
	size_t k;

	assert_non_null(c);
	assert_non_null(many);
	assert_non_null(odd);
	/* The walks side by side: all at once (in the classifier's own
	 * batches), and in batches of 1 to 45 points. */
	cls_lookup_many(c, pts, npts, many);
	for (i = 0; i < npts; i += k) {
		k = npts - i < i % 45 + 1 ? npts - i : i % 45 + 1;
		cls_lookup_many(c, pts + i * CLS_DIMS, k, odd + i);
	}
	for (i = 0; i < npts; i++) {
		int want = cls_linear(b, n, pts + i * CLS_DIMS);
		int got = cls_lookup(c, pts + i * CLS_DIMS);

		if (want != got)
			fail_msg("%s: packet %zu: linear %d, classifier %d", what,
			    i, want, got);
		if (want != many[i] || want != odd[i])
			fail_msg("%s: packet %zu: linear %d, batches %d and %d",
			    what, i, want, many[i], odd[i]);
		hits += want >= 0;
	}
	free(many);
	free(odd);
	printf("%s: %zu rules, %zu packets (%zu matched a rule), classifier "
	    "= linear on all, %zu bytes\n", what, n, npts, hits,
	    cls_memory(c));
	assert_true(hits > 0);
	cls_free(c);
}

/* The classifier of b's n boxes, described in st. */
static void
stats_of(const struct cls_box *b, size_t n, struct cls_stats *st)
{
	struct classifier *c = cls_build(b, n);

	assert_non_null(c);
	cls_stats(c, st);
	cls_free(c);
}

/* check_all on 5,000 points of random_point(max), a third of them with a
 * 128-bit source or destination when wide; b is freed. */
static void
check_random(struct rng *r, struct cls_box *b, size_t n, u128 max,
    bool wide, const char *what)
{
	size_t i, npts = 5000;
	u128 *pts = calloc(npts * CLS_DIMS, sizeof(*pts));

	assert_non_null(pts);
	for (i = 0; i < npts; i++) {
		random_point(r, b, n, max, pts + i * CLS_DIMS);
		if (wide && rng_below(r, 3) == 0)
			pts[i * CLS_DIMS + rng_below(r, 2)] =
			    (u128)rng_next(r) << 64 | rng_next(r);
	}
	check_all(b, n, pts, npts, what);
	free(b);
	free(pts);
}

static void
test_random_boxes(void **state)
{
	struct rng r = { 11 };
	int round;

	(void)state;
	for (round = 0; round < 20; round++) {
		size_t n = 1 + rng_below(&r, 400), i, npts = 5000;
		struct cls_box *b = calloc(n, sizeof(*b));
		u128 *pts = calloc(npts * CLS_DIMS, sizeof(*pts));
		int d;

		assert_true(b != NULL && pts != NULL);
		for (i = 0; i < n; i++) {
			for (d = 0; d < CLS_DIMS; d++) {
				u128 lo = rng_below(&r, 64), hi = lo +
				    rng_below(&r, 64 - (unsigned)lo);

				if (rng_below(&r, 5) == 0)
					lo = 0, hi = 63;
				b[i].lo[d] = lo;
				b[i].hi[d] = hi;
			}
			b[i].prio = (int)rng_below(&r, 1000);
		}
		for (i = 0; i < npts; i++)
			random_point(&r, b, n, 63, pts + i * CLS_DIMS);
		check_all(b, n, pts, npts, "random boxes");
		free(b);
		free(pts);
	}
}

/* Boxes of 128 bits (IPv6's addresses) beside boxes of 32: a group whose
 * boxes pass 32 bits keeps a wide tree, which reads the classifier's
 * boxes at every lookup, while a group that fits takes the 32-bit or
 * compact form; both kinds in one classifier, each answering as the
 * linear scan does. */
static void
test_wide_boxes(void **state)
{
	struct rng r = { 31 };
	int round;

	(void)state;
	for (round = 0; round < 10; round++) {
		size_t n = 50 + rng_below(&r, 300), i;
		struct cls_box *b = calloc(n, sizeof(*b));
		struct cls_stats st;
		int d;

		assert_non_null(b);
		for (i = 0; i < n; i++) {
			for (d = 0; d < CLS_DIMS; d++) {
				u128 lo = rng_below(&r, 4096), hi = lo +
				    rng_below(&r, 64);

				b[i].lo[d] = lo;
				b[i].hi[d] = hi;
			}
			if (i % 3 == 0) {	/* wide in the address, past 2^64 */
				b[i].lo[0] = (u128)rng_below(&r, 16) << 96;
				b[i].hi[0] = b[i].lo[0] + ((u128)1 << 124);
			}
			if (i % 3 == 0 && i % 7 == 0) {	/* and to ANY */
				b[i].lo[1] = 0;
				b[i].hi[1] = U128_MAX;
			} else if (i % 3 != 0 && i % 5 == 1) {	/* to ANY4 */
				b[i].lo[1] = 0;
				b[i].hi[1] = 0xffffffffu;
			}
			b[i].prio = (int)rng_below(&r, 1000);
		}
		stats_of(b, n, &st);
		assert_true(st.wide > 0);
		assert_true(st.wide < st.trees);
		check_random(&r, b, n, 4095 + 64, true,
		    "wide and narrow boxes");
	}
}

/* The boxes wide in the destination only (rules to ANY) share a tree
 * with the narrow ones when it stays small, and get one of their own
 * when it would not: rules of single sources, half of them to ANY, make
 * one tree; narrow destinations from sources a 32nd of the range wide
 * (narrow still, but each straddling many cuts of the sources), beside
 * single sources to ANY, make two. */
static void
test_grouping(void **state)
{
	struct rng r = { 47 };
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		size_t n = 2000, i;
		struct cls_box *b = calloc(n, sizeof(*b));
		struct cls_stats st;
		int d;

		assert_non_null(b);
		for (i = 0; i < n; i++) {
			for (d = 2; d < CLS_DIMS; d++)
				b[i].hi[d] = 3;
			b[i].lo[0] = rng_below(&r, 1u << 30) * 4;
			b[i].hi[0] = b[i].lo[0];
			b[i].lo[1] = rng_below(&r, 1u << 30) * 4;
			b[i].hi[1] = b[i].lo[1];
			if (i % 2 == 0) {		/* to ANY */
				b[i].lo[1] = 0;
				b[i].hi[1] = 0xffffffffu;
			} else if (k == 1) {	/* from a 32nd of all */
				b[i].lo[0] &= 0xf8000000u;
				b[i].hi[0] = b[i].lo[0] + 0x07ffffffu;
			}
			b[i].prio = (int)i;
		}
		b[0].lo[0] = b[0].hi[0] = 0;	/* the sources' span: all */
		b[1].lo[0] = b[1].hi[0] = 0xffffffffu;
		stats_of(b, n, &st);
		printf("grouping: %s: %d trees, %zu leaf boxes for %zu boxes\n",
		    k == 0 ? "single sources" : "wide sources", st.trees,
		    st.leafboxes, n);
		assert_int_equal(st.trees, k == 0 ? 1 : 2);
		check_random(&r, b, n, 0xffffffffu, false, "grouping");
	}
}

/* Boxes narrow in one dimension, starting well above 0, one of them at
 * its very top: the root table's slices start at the lowest box and the
 * last one is cut short at 2^32 - 1; points below the first slice, inside
 * and at the top must all get the linear answer. */
static void
test_table_edges(void **state)
{
	struct rng r = { 23 };
	int round;

	(void)state;
	for (round = 0; round < 10; round++) {
		size_t n = 100 + rng_below(&r, 400), i, npts = 20000;
		struct cls_box *b = calloc(n, sizeof(*b));
		u128 *pts = calloc(npts * CLS_DIMS, sizeof(*pts));
		int d, sd = (int)rng_below(&r, CLS_DIMS);

		assert_true(b != NULL && pts != NULL);
		for (i = 0; i < n; i++) {
			for (d = 0; d < CLS_DIMS; d++) {
				u128 lo = rng_below(&r, 16), w = rng_below(&r, 16);

				if (d == sd) {	/* narrow, from 100,000 on */
					lo = 100000 + rng_below(&r,
					    0xfff00000u);
					w = rng_below(&r, 1u << (round + 12));
				}
				b[i].lo[d] = lo;
				b[i].hi[d] = lo + w;
			}
			b[i].prio = (int)i;
		}
		b[n - 1].lo[sd] = 0xffffff00u;	/* the last slice, clipped */
		b[n - 1].hi[sd] = 0xffffffffu;
		for (i = 0; i < npts; i++) {
			random_point(&r, b, n, 31, pts + i * CLS_DIMS);
			switch (rng_below(&r, 4)) {
			case 0:
				pts[i * CLS_DIMS + sd] = rng_below(&r, 100000);
				break;
			case 1:
				pts[i * CLS_DIMS + sd] = 100000 + rng_below(&r,
				    0xffff0000u);
				break;
			case 2:
				pts[i * CLS_DIMS + sd] = 0xffffffffu -
				    rng_below(&r, 512);
				break;
			}
		}
		check_all(b, n, pts, npts, "table edges");
		free(b);
		free(pts);
	}
}

/* n random boxes of 32-bit addresses (narrow: a /23 to a /32, or any
 * address now and then when wide) and small other dimensions. */
static struct cls_box *
random32(struct rng *r, size_t n, int spread, int ties, int wide)
{
	struct cls_box *b = calloc(n + 1, sizeof(*b));
	size_t i;
	int d;

	assert_non_null(b);
	for (i = 0; i < n; i++) {
		for (d = 0; d < CLS_DIMS; d++) {
			u128 lo, w;

			if (d < 2) {
				lo = (u128)(uint32_t)rng_next(r);
				w = wide && rng_below(r, 6) == 0 ? 0xffffffffu :
				    ((u128)1 << rng_below(r, 9)) - 1;
				lo &= ~w;
			} else {
				lo = rng_below(r, 1000);
				w = rng_below(r, 3) == 0 ? 0 : rng_below(r, 3000);
			}
			b[i].lo[d] = lo;
			b[i].hi[d] = lo + w;
		}
		/* spread: gaps between priorities; ties: several boxes of
		 * one rule */
		b[i].prio = (int)(ties ? i / 3 : i) * spread - 5;
	}
	return b;
}

/* Each of the classifier's forms against the linear scan: the compact
 * form (16-bit intervals and ranks, a 16- or a 32-bit root table), with
 * priorities that are not 0, 1, 2, … (sparse, negative, shared by several
 * boxes); and the 32-bit form it falls back to when the ranks pass 15
 * bits. */
static void
test_forms(void **state)
{
	static const struct {
		size_t	n;
		int	spread, ties, wide;
		int	want;	/* 0 compact, 1 compact with a 32-bit table,
				   2 32-bit form */
	} cases[] = {
		{ 3000, 1, 0, 1, 0 },
		{ 3000, 7, 1, 1, 0 },
		{ 60000, 1, 1, 0, 1 },	/* 20,000 ranks, 60,000 leaf boxes */
		{ 40000, 2, 0, 0, 2 },
	};
	struct rng r = { 41 };
	size_t k, i, npts = 4000;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct cls_box *b = random32(&r, cases[k].n, cases[k].spread,
		    cases[k].ties, cases[k].wide);
		u128 *pts = calloc(npts * CLS_DIMS, sizeof(*pts));
		struct classifier *c = cls_build(b, cases[k].n);
		struct cls_stats st;

		assert_true(pts != NULL && c != NULL);
		cls_stats(c, &st);
		printf("forms: %zu boxes: %d trees, %d compact (%d with a "
		    "16-bit table, %d with a 32-bit one), %d 32-bit, %zu leaf "
		    "boxes, %zu intervals\n", cases[k].n, st.trees, st.compact,
		    st.compact16, st.compact32, st.narrow,
		    st.leafboxes, st.intervals);
		switch (cases[k].want) {
		case 0:
			assert_int_equal(st.compact, st.trees);
			break;
		case 1:
			assert_int_equal(st.compact, st.trees);
			assert_true(st.compact32 > 0);
			break;
		default:
			assert_int_equal(st.compact, 0);
			assert_int_equal(st.narrow, st.trees);
			break;
		}
		for (i = 0; i < npts; i++)
			random_point(&r, b, cases[k].n, rng_below(&r, 2) ?
			    0xffffffffu : 3999, pts + i * CLS_DIMS);
		cls_free(c);
		check_all(b, cases[k].n, pts, npts, "forms");
		free(b);
		free(pts);
	}
}

static void
test_classbench(void **state)
{
	static const char *const sets[] = { "acl1_1k", "fw1_1k", "ipc1_1k" };
	const char *dir = getenv("MOAT_CLASSBENCH");
	char path[4096], err[256];
	size_t s;

	(void)state;
	if (dir == NULL) {
		puts("MOAT_CLASSBENCH unset: ClassBench sets skipped");
		skip();
	}
	for (s = 0; s < 3; s++) {
		struct rng r = { 5 + s };
		struct cls_box *b;
		u128 *trace, *pts;
		size_t n, nt, i, extra = 20000;

		snprintf(path, sizeof(path), "%s/%s", dir, sets[s]);
		b = classbench_rules(path, &n, err, sizeof(err));
		if (b == NULL)
			fail_msg("%s", err);
		snprintf(path, sizeof(path), "%s/%s_trace", dir, sets[s]);
		trace = classbench_trace(path, &nt, err, sizeof(err));
		if (trace == NULL)
			fail_msg("%s", err);
		pts = malloc((nt + extra) * CLS_DIMS * sizeof(*pts));
		assert_non_null(pts);
		memcpy(pts, trace, nt * CLS_DIMS * sizeof(*pts));
		for (i = nt; i < nt + extra; i++)
			random_point(&r, b, n, 0xffffffffu, pts + i * CLS_DIMS);
		check_all(b, n, pts, nt + extra, sets[s]);
		free(b);
		free(trace);
		free(pts);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_boxes),
		cmocka_unit_test(test_table_edges),
		cmocka_unit_test(test_wide_boxes),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_classbench),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_seqalign.c: seq_align keeps the longest common subsequence, in
 * order, of equal keys, and refuses past its limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/seqalign.h"

static uint64_t rs = 88172645463325252ull;

static uint64_t
rnd(uint64_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs % n;
}

/* The length of the longest common subsequence, by the table. */
static size_t
lcs(const uint64_t *a, size_t n, const uint64_t *b, size_t m)
{
	size_t *t = calloc((n + 1) * (m + 1), sizeof(*t)), i, j, r;

	assert_non_null(t);
	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++)
			t[i * (m + 1) + j] = a[i - 1] == b[j - 1] ?
			    t[(i - 1) * (m + 1) + j - 1] + 1 :
			    t[(i - 1) * (m + 1) + j] > t[i * (m + 1) + j - 1] ?
			    t[(i - 1) * (m + 1) + j] : t[i * (m + 1) + j - 1];
	r = t[n * (m + 1) + m];
	free(t);
	return r;
}

/* The alignment is one: the maps agree, kept keys are equal and in
 * order; it keeps as many as the table says. */
static void
check(const uint64_t *a, size_t n, const uint64_t *b, size_t m)
{
	size_t *a2b = malloc((n + 1) * sizeof(*a2b));
	size_t *b2a = malloc((m + 1) * sizeof(*b2a));
	size_t i, kept = 0, last = 0;
	bool any = false;
	long d;

	assert_non_null(a2b);
	assert_non_null(b2a);
	d = seq_align(a, n, b, m, n + m, a2b, b2a);
	assert_true(d >= 0);
	for (i = 0; i < n; i++) {
		if (a2b[i] == SEQ_NONE)
			continue;
		assert_true(a2b[i] < m);
		assert_int_equal(b2a[a2b[i]], i);
		assert_true(a[i] == b[a2b[i]]);
		assert_true(!any || a2b[i] > last);
		last = a2b[i];
		any = true;
		kept++;
	}
	for (i = 0; i < m; i++)
		if (b2a[i] != SEQ_NONE)
			assert_int_equal(a2b[b2a[i]], i);
	assert_int_equal(kept, lcs(a, n, b, m));
	assert_int_equal((size_t)d, n + m - 2 * kept);
	free(a2b);
	free(b2a);
}

static void
test_random(void **state)
{
	uint64_t a[60], b[60];
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		size_t n = rnd(40), m, i, alpha = 1 + rnd(round % 3 == 0 ? 3 : 50);

		for (i = 0; i < n; i++)
			a[i] = rnd(alpha);
		if (round % 2 == 0) {
			/* b: a few edits of a (a policy's) */
			size_t e = rnd(4);

			memcpy(b, a, n * sizeof(*a));
			m = n;
			while (e-- > 0) {
				size_t at = m > 0 ? rnd(m + 1) : 0;

				if (rnd(2) == 0 && m > 0 && at < m) {
					memmove(b + at, b + at + 1,
					    (m - at - 1) * sizeof(*b));
					m--;
				} else if (m < 59) {
					memmove(b + at + 1, b + at,
					    (m - at) * sizeof(*b));
					b[at] = rnd(alpha + 2);
					m++;
				}
			}
		} else {
			m = rnd(40);
			for (i = 0; i < m; i++)
				b[i] = rnd(alpha);
		}
		check(a, n, b, m);
	}
}

/* A rule moved far in 100,000: two edits, found in linear time; past
 * max_d, -1. */
static void
test_large(void **state)
{
	size_t n = 100000, i, *a2b = malloc(n * sizeof(size_t)),
	    *b2a = malloc(n * sizeof(size_t));
	uint64_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));

	(void)state;
	for (i = 0; i < n; i++)
		a[i] = i * 2654435761u;
	memcpy(b, a, n * sizeof(*a));
	memmove(b + 20001, b + 20000, 30000 * sizeof(*b));
	b[20000] = a[50000];	/* 50,000 moved up to 20,000 */
	assert_int_equal(seq_align(a, n, b, n, 64, a2b, b2a), 2);
	assert_int_equal(a2b[50000], SEQ_NONE);
	assert_int_equal(b2a[20000], SEQ_NONE);
	assert_int_equal(a2b[20000], 20001);
	assert_int_equal(a2b[99999], 99999);
	for (i = 0; i < n; i++)
		b[i] = a[i] + (i % 1000 == 7);	/* 100 changed */
	assert_int_equal(seq_align(a, n, b, n, 64, a2b, b2a), -1);
	assert_int_equal(seq_align(a, n, b, n, 200, a2b, b2a), 200);
	free(a);
	free(b);
	free(a2b);
	free(b2a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_histdelta.c: enforce/histdelta.h, an old config of the history
 * kept as its difference from the next one's: every pair of texts gives
 * back the old text (edits at the start, the middle, the end, none, all;
 * either text empty), and a file that is not one, or does not fit its
 * base, or does not give the text its hash names, is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "enforce/histdelta.h"

/* old from next through a file of the difference; the file's length. */
static size_t
round_trip(const char *old, const char *next)
{
	struct strbuf f;
	struct histdelta h;
	size_t len, flen;
	char *back;

	strbuf_init(&f, 0);
	histdelta_make(old, strlen(old), next, strlen(next), 7, &f);
	assert_false(strbuf_failed(&f));
	assert_int_equal(histdelta_parse(strbuf_str(&f), f.len, &h), 0);
	assert_int_equal(h.base, 7);
	back = histdelta_build(&h, next, strlen(next), &len);
	assert_non_null(back);
	assert_int_equal(len, strlen(old));
	assert_memory_equal(back, old, len);
	assert_int_equal(back[len], '\0');
	free(back);
	flen = f.len;
	strbuf_free(&f);
	return flen;
}

static void
pairs_give_back_the_old(void **state)
{
	static const char *const texts[] = {
		"", "a", "b", "ab", "aa", "aaa", "abc", "abd", "xbc",
		"interface LAN device eth1\naccept on LAN from 10.0.0.1\n",
		"interface LAN device eth1\naccept on LAN from 10.0.0.2\n",
		"interface LAN device eth1\naccept on LAN from 10.0.0.1\n"
		"deny on LAN\n",
		"interface WAN device eth0\naccept on LAN from 10.0.0.1\n",
	};
	size_t i, j, n = sizeof(texts) / sizeof(texts[0]);

	(void)state;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			round_trip(texts[i], texts[j]);
}

/* A one-line edit of a long text keeps little. */
static void
an_edit_keeps_little(void **state)
{
	char *a = malloc(200001), *b;
	size_t i;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < 200000; i++)
		a[i] = (char)('a' + i % 23);
	a[200000] = '\0';
	b = strdup(a);
	assert_non_null(b);
	b[100000] = '#';
	assert_true(round_trip(a, b) < 100);
	free(a);
	free(b);
}

static void
bad_files_are_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"moat-history-delta 2 7 1 1 1 0000000000000000\nx",
		"moat-history-delta 1 7 1 1 1 0000000000000000",
		"moat-history-delta 1 7 1 1 2 0000000000000000\nx",
		"moat-history-delta 1 7 1 1 0 0000000000000000\nx",
		"moat-history-delta 1 7 1 1 1 000000000000000\nx",
		"moat-history-delta 1 7 1 1 1 000000000000000g\nx",
		"moat-history-delta 1 7 1 1 1 00000000000000000\nx",
		"moat-history-delta 1 x 1 1 1 0000000000000000\nx",
		"moat-history-delta 1 4294967296 1 1 1 0000000000000000\nx",
		"moat-history-delta 1 7 99999999999999999999 1 1 "
		    "0000000000000000\nx",
		"moat-history-delta 1 7  1 1 1 0000000000000000\nx",
		"moat-history-delta 1 -7 1 1 1 0000000000000000\nx",
	};
	struct histdelta h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(histdelta_parse(bad[i], strlen(bad[i]), &h),
		    -1);
}

/* Sizes past the base, or a text whose hash is not the file's. */
static void
misfits_are_refused(void **state)
{
	struct strbuf f;
	struct histdelta h;
	size_t len;
	char *file;

	(void)state;
	strbuf_init(&f, 0);
	histdelta_make("abcXdef", 7, "abcYdef", 7, 3, &f);
	file = strdup(strbuf_str(&f));
	assert_non_null(file);
	assert_int_equal(histdelta_parse(file, f.len, &h), 0);
	assert_int_equal(h.prefix, 3);
	assert_int_equal(h.suffix, 3);
	assert_int_equal(h.middle, 1);
	/* a base too short for the prefix and suffix */
	errno = 0;
	assert_null(histdelta_build(&h, "abcde", 5, &len));
	assert_int_equal(errno, EINVAL);
	/* another base of the right size: the hash says no */
	errno = 0;
	assert_null(histdelta_build(&h, "abcYdeg", 7, &len));
	assert_int_equal(errno, EINVAL);
	/* the middle changed in the file */
	file[f.len - 1] = 'Z';
	assert_int_equal(histdelta_parse(file, f.len, &h), 0);
	errno = 0;
	assert_null(histdelta_build(&h, "abcYdef", 7, &len));
	assert_int_equal(errno, EINVAL);
	free(file);
	strbuf_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pairs_give_back_the_old),
		cmocka_unit_test(an_edit_keeps_little),
		cmocka_unit_test(bad_files_are_refused),
		cmocka_unit_test(misfits_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_msgbuf.c: a message held in memory, then in an unnamed file; the
 * bytes read back are the bytes added, across the boundary, in any
 * slicing; and reset forgets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/msgbuf.h"

static void
fill(char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)(seed >> 16);
	}
}

static void
check_back(struct msgbuf *m, const char *want, size_t n, size_t step)
{
	char *got = malloc(n + 1);
	size_t off = 0;

	assert_non_null(got);
	while (off < n) {
		ssize_t r = msgbuf_read(m, off, got + off, step);

		assert_true(r > 0);
		off += (size_t)r;
	}
	assert_int_equal(msgbuf_read(m, n, got, 1), 0);
	assert_memory_equal(got, want, n);
	free(got);
}

static void
test_memory_then_file(void **state)
{
	struct msgbuf m;
	size_t n = 300000, off = 0, pieces = 0;
	char *data = malloc(n);

	(void)state;
	assert_non_null(data);
	fill(data, n, 7);
	msgbuf_init(&m, 64 * 1024, "/tmp", NULL);
	while (off < n) {
		size_t take = 1 + (off * 7919 + pieces) % 5000;

		if (take > n - off)
			take = n - off;
		assert_int_equal(msgbuf_add(&m, data + off, take), 0);
		off += take;
		pieces++;
		if (off < 64 * 1024)
			assert_int_equal(m.fd, -1);	/* still in memory */
	}
	assert_true(m.fd != -1);			/* spilled */
	assert_int_equal(m.total, n);
	check_back(&m, data, n, 1);
	check_back(&m, data, n, 4093);
	check_back(&m, data, n, n);
	msgbuf_reset(&m);
	assert_int_equal(m.total, 0);
	assert_int_equal(m.fd, -1);
	assert_int_equal(msgbuf_add(&m, "abc", 3), 0);
	check_back(&m, "abc", 3, 2);
	msgbuf_free(&m);
	free(data);
}

static void
test_no_such_dir(void **state)
{
	struct msgbuf m;
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	msgbuf_init(&m, 10, "/nonexistent/moat", NULL);
	/* Holding fails cleanly (the proxy answers 451), nothing crashes. */
	assert_int_equal(msgbuf_add(&m, big, sizeof(big)), -1);
	msgbuf_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_then_file),
		cmocka_unit_test(test_no_such_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_apart.c: work in a child (base/apart.h): its answer and status come
 * back, a child past its deadline is stopped and said late, and a plain
 * failure is never taken for lateness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/apart.h"
#include "base/clock.h"

static int
says_ok(void *arg, struct strbuf *out)
{
	(void)arg;
	strbuf_puts(out, "loaded");
	return 0;
}

static int
refuses(void *arg, struct strbuf *out)
{
	(void)arg;
	strbuf_puts(out, "refused");
	return -1;
}

static int
hangs(void *arg, struct strbuf *out)
{
	(void)arg;
	(void)out;
	for (;;)
		pause();
	return 0;
}

static void
test_answers(void **state)
{
	struct strbuf out;

	(void)state;
	strbuf_init(&out, 0);
	assert_int_equal(apart_run(says_ok, NULL, &out, 1024, 60000), 0);
	assert_string_equal(strbuf_str(&out), "loaded");
	strbuf_reset(&out);
	/* errno left from earlier says nothing about this child */
	errno = ETIMEDOUT;
	assert_int_equal(apart_run(refuses, NULL, &out, 1024, 60000), -1);
	assert_string_equal(strbuf_str(&out), "refused");
	strbuf_reset(&out);
	assert_int_equal(apart_run(refuses, NULL, &out, 1024, 0), -1);
	strbuf_free(&out);
}

static void
count(void *arg)
{
	(*(int *)arg)++;
}

/* The caller's own work runs once beside the child, and again once when
 * no child is made (here, the work first). */
static void
test_meanwhile(void **state)
{
	struct strbuf out;
	int n = 0;

	(void)state;
	strbuf_init(&out, 0);
	assert_int_equal(apart_run_with(says_ok, NULL, &out, 1024, 60000,
	    count, &n), 0);
	assert_string_equal(strbuf_str(&out), "loaded");
	assert_int_equal(n, 1);
	strbuf_reset(&out);
	assert_int_equal(apart_run_with(refuses, NULL, &out, 1024, 0,
	    count, &n), -1);
	assert_int_equal(n, 2);
	strbuf_free(&out);
}

static void
test_late(void **state)
{
	struct strbuf out;
	long long t0 = clock_ms();

	(void)state;
	strbuf_init(&out, 0);
	assert_int_equal(apart_run(hangs, NULL, &out, 1024, 300),
	    APART_LATE);
	assert_true(clock_ms() - t0 >= 300 && clock_ms() - t0 < 10000);
	strbuf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_meanwhile),
		cmocka_unit_test(test_late),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

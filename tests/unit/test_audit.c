/* test_audit.c: the audit log (observe/audit.h): a detail is one word of
 * printable bytes, whatever it was given, so that no caller's text makes
 * a line or a field of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "observe/audit.h"
#include "scratch.h"

static char top[64];		/* the scratch directory, one for all */

/* A directory of its own under top for one test, in dir. */
static void
sub(const char *name, char *dir, size_t len)
{
	snprintf(dir, len, "%s/%s", top, name);
	assert_int_equal(mkdir(dir, 0700), 0);
}

static int
setup(void **state)
{
	(void)state;
	scratch_make("audit", top, sizeof(top));
	return 0;
}

static void
test_detail_one_word(void **state)
{
	char dir[128];
	json_t *a;

	(void)state;
	sub("words", dir, sizeof(dir));
	audit_write(dir, "admin", "login",
	    "10.0.0.1\n1700000000 root apply confirm=0");
	audit_write(dir, "admin", "apply", "confirm=30");
	audit_write(dir, "admin", "rollback", "");
	a = audit_json(dir);
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    0), "detail")), "10.0.0.1?1700000000?root?apply?confirm=0");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    1), "user")), "admin");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    1), "detail")), "confirm=30");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    2), "detail")), "-");
	json_decref(a);
}

/* The log turns at AUDIT_MAX: what is read stays bounded. */
static void
test_turns(void **state)
{
	char dir[128], path[160];
	struct stat st;
	json_t *a;
	size_t i;

	(void)state;
	sub("turns", dir, sizeof(dir));
	for (i = 0; i < AUDIT_MAX / 20 + 10; i++)
		audit_write(dir, "admin", "login", "192.168.50.10");
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < AUDIT_MAX);
	snprintf(path, sizeof(path), "%s/audit.log.1", dir);
	assert_int_equal(stat(path, &st), 0);
	a = audit_json(dir);
	assert_true(json_array_size(a) > 0 &&
	    json_array_size(a) < AUDIT_MAX / 20);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detail_one_word),
		cmocka_unit_test(test_turns),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

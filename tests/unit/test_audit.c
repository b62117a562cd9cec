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

#include "observe/audit.h"
#include "scratch.h"

static void
test_detail_one_word(void **state)
{
	char dir[64];
	json_t *a;

	(void)state;
	scratch_make("audit", dir, sizeof(dir));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detail_one_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_counters.c: moat status reads the kernel's counters from
 * libnftables' JSON listing: each counter with its meaning (rule,
 * anti-lockout, default, forward) and figures; other tables' counters
 * left out; a broken listing is an error, not a guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enforce/counters.h"

/* As nft -j list counters prints it (nft 1.0.6), plus another table's. */
static const char listing[] =
"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", "
"\"json_schema_version\": 1}}, "
"{\"counter\": {\"family\": \"inet\", \"name\": \"anti_lockout\", "
"\"table\": \"moat\", \"handle\": 5, \"packets\": 3, \"bytes\": 180}}, "
"{\"counter\": {\"family\": \"inet\", \"name\": \"rule_12\", "
"\"table\": \"moat\", \"handle\": 6, \"packets\": 4294967296, "
"\"bytes\": 9007199254740993}}, "
"{\"counter\": {\"family\": \"ip\", \"name\": \"rule_1\", "
"\"table\": \"other\", \"handle\": 2, \"packets\": 1, \"bytes\": 1}}, "
"{\"counter\": {\"family\": \"inet\", \"name\": \"default_WAN\", "
"\"table\": \"moat\", \"handle\": 8, \"packets\": 0, \"bytes\": 0}}, "
"{\"counter\": {\"family\": \"inet\", \"name\": \"forward_2_accept\", "
"\"table\": \"moat\", \"handle\": 9, \"packets\": 7, \"bytes\": 70}}, "
"{\"counter\": {\"family\": \"inet\", \"name\": \"forward_2\", "
"\"table\": \"moat\", \"handle\": 10, \"packets\": 8, \"bytes\": 80}}, "
"{\"counter\": {\"family\": \"inet\", \"name\": \"rule_x\", "
"\"table\": \"moat\", \"handle\": 11, \"packets\": 0, \"bytes\": 0}}]}";

static void
test_listing(void **state)
{
	struct counter *v;
	struct strbuf err;
	size_t n;

	(void)state;
	strbuf_init(&err, 0);
	assert_int_equal(counters_parse(listing, &v, &n, &err), 0);
	assert_int_equal(n, 6);
	assert_string_equal(v[0].name, "anti_lockout");
	assert_int_equal(v[0].what, NFTC_COUNTS_ANTI_LOCKOUT);
	assert_int_equal(v[0].packets, 3);
	assert_int_equal(v[0].bytes, 180);
	assert_int_equal(v[1].what, NFTC_COUNTS_RULE);
	assert_int_equal(v[1].number, 12);
	assert_true(v[1].packets == 4294967296ull);
	assert_true(v[1].bytes == 9007199254740993ull);
	assert_int_equal(v[2].what, NFTC_COUNTS_DEFAULT);
	assert_int_equal(v[3].what, NFTC_COUNTS_FORWARD_ACCEPT);
	assert_int_equal(v[3].number, 2);
	assert_int_equal(v[4].what, NFTC_COUNTS_FORWARD);
	assert_int_equal(v[4].number, 2);
	assert_int_equal(v[5].what, NFTC_COUNTS_OTHER);
	assert_int_equal(v[5].number, 0);
	free(v);
	strbuf_free(&err);
}

static void
test_broken(void **state)
{
	static const char *const bad[] = {
		"",
		"{\"nftables\": [",
		"{\"counters\": []}",
		"{\"nftables\": [{\"counter\": {\"family\": \"inet\", "
		    "\"table\": \"moat\", \"name\": \"rule_1\"}}]}",
		"{\"nftables\": [{\"counter\": {\"family\": \"inet\", "
		    "\"table\": \"moat\", \"name\": \"rule_1\", \"packets\": -1, "
		    "\"bytes\": 0}}]}",
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct counter *v = (struct counter *)1;
		struct strbuf err;

		strbuf_init(&err, 0);
		assert_int_equal(counters_parse(bad[i], &v, &n, &err), -1);
		assert_null(v);
		assert_int_equal(n, 0);
		assert_true(err.len > 0);
		strbuf_free(&err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

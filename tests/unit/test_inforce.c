/* test_inforce.c: moatd follows the entry in force (daemon/inforce.h)
 * even when it differs from what it serves only in the HA secret, which
 * a config's hash leaves out (apply_hash): a `moat apply` that rotated a
 * leaked secret must reach the HA node (a review, 2026-12-07). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/inforce.h"
#include "enforce/apply.h"
#include "scratch.h"

#define CONF(secret) \
	"interface LAN device eth1 address 192.168.50.2/24\n" \
	"interface SYNC device eth2 address 10.99.0.1/24\n" \
	"ha {\n    peer 10.99.0.2\n    sync-interface SYNC\n" \
	"    vip LAN 192.168.50.1/24\n    secret \"" secret "\"\n}\n"

static char dir[64];

/* Entry seq of text, appended to the history. */
static void
entry(unsigned seq, const char *text)
{
	char file[200];
	FILE *fp;

	snprintf(file, sizeof(file), "%s/history/%u.conf", dir, seq);
	assert_non_null(fp = fopen(file, "w"));
	fputs(text, fp);
	fclose(fp);
	snprintf(file, sizeof(file), "%s/history.log", dir);
	assert_non_null(fp = fopen(file, "a"));
	fprintf(fp, "%u %u %016llx apply %u /etc/moat/moat.conf\n", seq,
	    1700000000u + seq, (unsigned long long)apply_hash(text,
	    strlen(text)), seq - 1);
	fclose(fp);
}

static void
test_secret_only(void **state)
{
	const char *a = CONF("secret-one-1"), *b = CONF("secret-two-2");
	char hist[100];
	struct policy *p;

	(void)state;
	assert_true(apply_hash(a, strlen(a)) == apply_hash(b, strlen(b)));
	scratch_make("inforce", dir, sizeof(dir));
	snprintf(hist, sizeof(hist), "%s/history", dir);
	assert_int_equal(mkdir(hist, 0700), 0);
	entry(1, a);
	inforce_served(a, strlen(a));
	assert_null(inforce_follow(dir));	/* what it serves */
	entry(2, b);
	sleep(1);				/* (it looks once a second) */
	usleep(100000);
	assert_non_null(p = inforce_follow(dir));
	assert_string_equal(p->ha.secret, "secret-two-2");
	policy_free(p);
	scratch_remove();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

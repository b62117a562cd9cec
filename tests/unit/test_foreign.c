/* test_foreign.c: the other tables' chains as moat tells them
 * (enforce/foreign.h): names the kernel took with any bytes made
 * printable, never able to fake the words of a status line; the effect
 * said of each kind of chain. */
#include <linux/netfilter.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "enforce/foreign.h"

static void
test_printable(void **state)
{
	char buf[FOREIGN_NAME], in[FOREIGN_NAME + 8];
	size_t i;

	(void)state;
	foreign_printable(buf, sizeof(buf), "DOCKER-USER");
	assert_string_equal(buf, "DOCKER-USER");
	/* a terminal's escapes, markup, a line's own words */
	foreign_printable(buf, sizeof(buf), "\x1b]0;pwn\x07\xff\xfe<b>\"x: "
	    "empty, no effect");
	assert_string_equal(buf, "?]0;pwn???" "<b>\"x??" "empty,?no?effect");
	/* every byte: only printable ones but space and ':' stay */
	for (i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	foreign_printable(buf, sizeof(buf), in);
	assert_int_equal(strlen(buf), 255);
	for (i = 0; i < 255; i++) {
		unsigned char c = (unsigned char)(i + 1);

		if (c > 0x20 && c <= 0x7e && c != ':')
			assert_int_equal(buf[i], (char)c);
		else
			assert_int_equal(buf[i], '?');
	}
	/* cut to the room given, always ended */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	foreign_printable(buf, 8, in);
	assert_string_equal(buf, "aaaaaaa");
}

static struct foreign_chain
chain(int family, const char *type, int hook, int policy, size_t rules)
{
	struct foreign_chain c;

	memset(&c, 0, sizeof(c));
	c.family = family;
	snprintf(c.table, sizeof(c.table), "filter");
	snprintf(c.chain, sizeof(c.chain), "FORWARD");
	snprintf(c.type, sizeof(c.type), "%s", type);
	c.hook = hook;
	c.policy = policy;
	c.nrules = rules;
	return c;
}

static void
test_effects(void **state)
{
	struct foreign_chain c;
	struct strbuf b;

	(void)state;
	c = chain(NFPROTO_IPV4, "filter", NF_INET_FORWARD, NF_ACCEPT, 0);
	assert_string_equal(foreign_effect(&c), "");
	c = chain(NFPROTO_IPV4, "filter", NF_INET_FORWARD, NF_DROP, 3);
	strbuf_init(&b, 0);
	foreign_line(&c, &b);
	assert_string_equal(strbuf_str(&b), "ip filter FORWARD: filter at "
	    "forward, priority 0, policy drop, 3 rules: drops what its rules "
	    "do not accept: what moat accepts must pass it too");
	strbuf_free(&b);
	c = chain(NFPROTO_INET, "filter", NF_INET_LOCAL_IN, NF_ACCEPT, 1);
	assert_string_equal(foreign_effect(&c), "its rules may drop or "
	    "reject what moat accepts");
	/* a nat chain's rules may drop too */
	c = chain(NFPROTO_IPV4, "nat", NF_INET_PRE_ROUTING, NF_ACCEPT, 1);
	assert_non_null(strstr(foreign_effect(&c), "destinations"));
	assert_non_null(strstr(foreign_effect(&c), "or drop"));
	c = chain(NFPROTO_IPV4, "nat", NF_INET_POST_ROUTING, NF_ACCEPT, 1);
	assert_non_null(strstr(foreign_effect(&c), "sources"));
	c = chain(NFPROTO_IPV4, "nat", NF_INET_LOCAL_OUT, NF_ACCEPT, 1);
	assert_non_null(strstr(foreign_effect(&c), "destinations"));
	c = chain(NFPROTO_IPV4, "route", NF_INET_LOCAL_OUT, NF_ACCEPT, 2);
	assert_non_null(strstr(foreign_effect(&c), "reroute"));
	/* netdev: ingress first, egress last */
	c = chain(NFPROTO_NETDEV, "filter", 0, NF_DROP, 0);
	snprintf(c.device, sizeof(c.device), "eth1");
	assert_non_null(strstr(foreign_effect(&c), "before anything else"));
	strbuf_init(&b, 0);
	foreign_line(&c, &b);
	assert_non_null(strstr(strbuf_str(&b), "at ingress of eth1,"));
	strbuf_free(&b);
	c = chain(NFPROTO_NETDEV, "filter", 1, NF_ACCEPT, 2);
	assert_non_null(strstr(foreign_effect(&c), "after everything else"));
	c = chain(NFPROTO_BRIDGE, "filter", NF_INET_LOCAL_IN, NF_ACCEPT, 1);
	assert_non_null(strstr(foreign_effect(&c), "bridge"));
	/* a policy the kernel did not say is not printed */
	c = chain(NFPROTO_IPV4, "nat", NF_INET_PRE_ROUTING, -1, 0);
	strbuf_init(&b, 0);
	foreign_line(&c, &b);
	assert_null(strstr(strbuf_str(&b), "policy"));
	assert_non_null(strstr(strbuf_str(&b), "0 rules: empty, no effect"));
	strbuf_free(&b);
}

/* Which chains come before moat trace's mark (prerouting, -350). */
static void
test_before(void **state)
{
	struct foreign_chain c;

	(void)state;
	c = chain(NFPROTO_NETDEV, "filter", 0, NF_ACCEPT, 1);
	assert_true(foreign_before_prerouting(&c, -350));
	c = chain(NFPROTO_NETDEV, "filter", 1, NF_ACCEPT, 1);
	assert_false(foreign_before_prerouting(&c, -350));	/* egress */
	c = chain(NFPROTO_INET, "filter", NF_INET_INGRESS, NF_ACCEPT, 1);
	c.priority = 100;
	assert_true(foreign_before_prerouting(&c, -350));
	c = chain(NFPROTO_IPV4, "filter", NF_INET_PRE_ROUTING, NF_ACCEPT, 1);
	c.priority = -400;
	assert_true(foreign_before_prerouting(&c, -350));
	c.priority = -350;		/* registered before the mark's */
	assert_true(foreign_before_prerouting(&c, -350));
	c.priority = -349;
	assert_false(foreign_before_prerouting(&c, -350));
	c = chain(NFPROTO_IPV6, "nat", NF_INET_PRE_ROUTING, NF_ACCEPT, 1);
	c.priority = -100;
	assert_false(foreign_before_prerouting(&c, -350));
	c = chain(NFPROTO_INET, "filter", NF_INET_FORWARD, NF_DROP, 0);
	c.priority = -1000;
	assert_false(foreign_before_prerouting(&c, -350));
	c = chain(NFPROTO_BRIDGE, "filter", NF_INET_PRE_ROUTING, NF_DROP, 0);
	assert_true(foreign_before_prerouting(&c, -350));
	c = chain(NFPROTO_BRIDGE, "filter", NF_INET_LOCAL_IN, NF_ACCEPT, 2);
	assert_true(foreign_before_prerouting(&c, -350));
	c = chain(NFPROTO_BRIDGE, "filter", NF_INET_FORWARD, NF_DROP, 0);
	assert_false(foreign_before_prerouting(&c, -350));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_effects),
		cmocka_unit_test(test_before),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

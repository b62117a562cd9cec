/* test_counters.c: moat status reads the kernel's counters from the
 * netlink answers to a dump of table inet moat's counter objects: each
 * counter with its meaning (rule, anti-lockout, default, forward) and
 * figures; other tables' objects and other kinds of object left out; a
 * malformed answer (cut short, an attribute of the wrong size, the figures
 * missing) is an error, not a guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cmocka.h>

#include "enforce/counters.h"

#define BUF	16384

/* How a message is spoilt. */
enum spoil { WHOLE = 0, NO_PACKETS, SHORT_BYTES, NAME_NOT_NUL };

/* One NFT_MSG_NEWOBJ as the kernel sends it, appended at *off. */
static void
put_obj(char *buf, size_t *off, int family, const char *table,
    const char *name, uint32_t type, uint64_t packets, uint64_t bytes,
    enum spoil how)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct nfgenmsg *nfg;
	struct nlattr *nest;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, table);
	if (how == NAME_NOT_NUL)
		mnl_attr_put(nlh, NFTA_OBJ_NAME, strlen(name), name);
	else
		mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(type));
	nest = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
	if (how == SHORT_BYTES)
		mnl_attr_put_u32(nlh, NFTA_COUNTER_BYTES, 1);
	else
		mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(bytes));
	if (how != NO_PACKETS)
		mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(packets));
	mnl_attr_nest_end(nlh, nest);
	*off += nlh->nlmsg_len;
}

static void
put_done(char *buf, size_t *off)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	*off += nlh->nlmsg_len;
}

static void
test_dump(void **state)
{
	static char buf[BUF];
	struct counter *v;
	struct strbuf err;
	size_t n, off = 0;

	(void)state;
	put_obj(buf, &off, NFPROTO_INET, "moat", "anti_lockout",
	    NFT_OBJECT_COUNTER, 3, 180, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "rule_12",
	    NFT_OBJECT_COUNTER, 4294967296ull, 9007199254740993ull, WHOLE);
	put_obj(buf, &off, NFPROTO_IPV4, "moat", "rule_1", NFT_OBJECT_COUNTER,
	    1, 1, WHOLE);		/* another family's table */
	put_obj(buf, &off, NFPROTO_INET, "other", "rule_2",
	    NFT_OBJECT_COUNTER, 1, 1, WHOLE);	/* another table */
	put_obj(buf, &off, NFPROTO_INET, "moat", "a_quota", NFT_OBJECT_QUOTA,
	    1, 1, WHOLE);		/* another kind of object */
	put_obj(buf, &off, NFPROTO_INET, "moat", "default_WAN",
	    NFT_OBJECT_COUNTER, 0, 0, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "forward_2_accept",
	    NFT_OBJECT_COUNTER, 7, 70, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "forward_2",
	    NFT_OBJECT_COUNTER, 8, 80, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "rule_x",
	    NFT_OBJECT_COUNTER, 0, 0, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "nat_source_3",
	    NFT_OBJECT_COUNTER, 1, 60, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "one_to_one_1",
	    NFT_OBJECT_COUNTER, 2, 120, WHOLE);
	put_done(buf, &off);
	strbuf_init(&err, 0);
	assert_int_equal(counters_parse(buf, off, &v, &n, &err), 0);
	assert_int_equal(n, 8);
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
	assert_int_equal(v[6].what, NFTC_COUNTS_NAT_SOURCE);
	assert_int_equal(v[6].number, 3);
	assert_int_equal(v[7].what, NFTC_COUNTS_ONE_TO_ONE);
	assert_int_equal(v[7].number, 1);
	free(v);
	strbuf_free(&err);
}

static void
expect_error(const char *buf, size_t len)
{
	struct counter *v = (struct counter *)1;
	struct strbuf err;
	size_t n = 99;

	strbuf_init(&err, 0);
	assert_int_equal(counters_parse(buf, len, &v, &n, &err), -1);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_true(err.len > 0);
	strbuf_free(&err);
}

static void
test_broken(void **state)
{
	static char buf[BUF];
	static const enum spoil spoils[] = { NO_PACKETS, SHORT_BYTES,
	    NAME_NOT_NUL };
	size_t off, i, whole;

	(void)state;
	for (i = 0; i < sizeof(spoils) / sizeof(spoils[0]); i++) {
		off = 0;
		put_obj(buf, &off, NFPROTO_INET, "moat", "rule_1",
		    NFT_OBJECT_COUNTER, 1, 1, WHOLE);
		put_obj(buf, &off, NFPROTO_INET, "moat", "rule_2",
		    NFT_OBJECT_COUNTER, 1, 1, spoils[i]);
		put_done(buf, &off);
		expect_error(buf, off);
	}
	/* A message whose attributes claim more than it holds: every cut
	 * of one whole message's length field. */
	off = 0;
	put_obj(buf, &off, NFPROTO_INET, "moat", "rule_1",
	    NFT_OBJECT_COUNTER, 1, 1, WHOLE);
	whole = off;
	for (i = sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg);
	    i < whole; i++) {
		struct counter *v;
		struct strbuf err;
		size_t n;
		int rc;

		((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)i;
		strbuf_init(&err, 0);
		/* Cut inside the attributes: an error, or (cut between two
		 * whole attributes) a counter without its figures: an error
		 * too.  Never a read past i. */
		rc = counters_parse(buf, i, &v, &n, &err);
		if (rc != -1)
			fprintf(stderr, "cut at %zu of %zu: %d counters\n", i,
			    whole, (int)n);
		assert_int_equal(rc, -1);
		strbuf_free(&err);
	}
	/* An error answer from the kernel. */
	{
		struct nlmsghdr *nlh;
		struct nlmsgerr *e;

		off = 0;
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = NLMSG_ERROR;
		e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
		e->error = -EPERM;
		off = nlh->nlmsg_len;
		expect_error(buf, off);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

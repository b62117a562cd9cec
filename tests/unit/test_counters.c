/* test_counters.c: moat status reads the kernel's counters from the
 * netlink answers to a dump of table inet moat's counter objects: each
 * counter with its meaning (rule, anti-lockout, default, forward) and
 * figures; other tables' objects and other kinds of object left out; a
 * malformed answer (cut short, an attribute of the wrong size, the figures
 * missing) is an error, not a guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "observe/metrics.h"
#include "observe/status.h"
#include "policy/load.h"

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

/* A counter expression (NAME "counter", DATA) nested in nlh as type. */
static void
put_counter_expr(struct nlmsghdr *nlh, int type, uint64_t packets,
    uint64_t bytes, enum spoil how)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, type), *d;

	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "counter");
	d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(bytes));
	if (how != NO_PACKETS)
		mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(packets));
	mnl_attr_nest_end(nlh, d);
	mnl_attr_nest_end(nlh, e);
}

/* libnftnl's user data: a comment TLV (type 0, length, NUL-ended text). */
static void
put_comment(struct nlmsghdr *nlh, int type, const char *comment)
{
	unsigned char u[256];
	size_t len = strlen(comment) + 1;

	u[0] = 0;
	u[1] = (unsigned char)len;
	memcpy(u + 2, comment, len);
	mnl_attr_put(nlh, type, len + 2, u);
}

static struct nlmsghdr *
put_msg(char *buf, size_t *off, int msg, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	return nlh;
}

/* One NFT_MSG_NEWRULE: a match, then a counter (unless counted is false),
 * a comment (unless NULL). */
static void
put_rule(char *buf, size_t *off, const char *table, const char *comment,
    bool counted, uint64_t packets, uint64_t bytes, enum spoil how)
{
	struct nlmsghdr *nlh = put_msg(buf, off, NFT_MSG_NEWRULE,
	    NFPROTO_INET);
	struct nlattr *list, *e;

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "zone_LAN");
	list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "meta");
	mnl_attr_nest_end(nlh, e);
	if (counted)
		put_counter_expr(nlh, NFTA_LIST_ELEM, packets, bytes, how);
	mnl_attr_nest_end(nlh, list);
	if (comment != NULL)
		put_comment(nlh, NFTA_RULE_USERDATA, comment);
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

/* A rule's counter is the sum of its kernel rules' counters (their
 * comment "rule ID") and of the counters of the dispatch map's elements
 * that decide it (the same comment), at the first of them; a counter
 * object a ruleset compiled before named rule_ID adds in too. */
static void
test_rules_and_elements(void **state)
{
	static char buf[BUF];
	const char *a = "rule 00000000000000aa", *b = "rule 00000000000000bb";
	struct nlmsghdr *nlh;
	struct nlattr *list, *e;
	struct counter *v;
	struct strbuf err;
	size_t n, off = 0;

	(void)state;
	put_obj(buf, &off, NFPROTO_INET, "moat", "default_LAN",
	    NFT_OBJECT_COUNTER, 1, 10, WHOLE);
	put_rule(buf, &off, "moat", a, true, 2, 20, WHOLE);
	put_rule(buf, &off, "moat", b, true, 3, 30, WHOLE);
	put_rule(buf, &off, "moat", a, true, 5, 50, WHOLE);
	put_rule(buf, &off, "moat", a, false, 0, 0, WHOLE);  /* a jump */
	put_rule(buf, &off, "moat", NULL, true, 100, 100, WHOLE);
	put_rule(buf, &off, "moat", "rule 00000000000000aa: gateway", true,
	    100, 100, WHOLE);	/* not the comment's form */
	put_rule(buf, &off, "moat", "dispatch by source", true, 100, 100,
	    WHOLE);
	put_rule(buf, &off, "other", b, true, 100, 100, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "rule_00000000000000bb",
	    NFT_OBJECT_COUNTER, 7, 70, WHOLE);
	/* a set that counts per element, then its elements */
	nlh = put_msg(buf, &off, NFT_MSG_NEWSET, NFPROTO_INET);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, "moat");
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, "zone_WAN_v4");
	put_counter_expr(nlh, NFTA_SET_EXPR, 0, 0, WHOLE);
	off += nlh->nlmsg_len;
	nlh = put_msg(buf, &off, NFT_MSG_NEWSETELEM, NFPROTO_INET);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "moat");
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "zone_WAN_v4");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);	/* one expression */
	put_comment(nlh, NFTA_SET_ELEM_USERDATA, b);
	put_counter_expr(nlh, NFTA_SET_ELEM_EXPR, 11, 110, WHOLE);
	mnl_attr_nest_end(nlh, e);
	e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);	/* a list of them */
	put_comment(nlh, NFTA_SET_ELEM_USERDATA, "rule 00000000000000cc");
	{
		struct nlattr *l = mnl_attr_nest_start(nlh,
		    NFTA_SET_ELEM_EXPRESSIONS);

		put_counter_expr(nlh, NFTA_LIST_ELEM, 13, 130, WHOLE);
		mnl_attr_nest_end(nlh, l);
	}
	mnl_attr_nest_end(nlh, e);
	e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);	/* a jump's */
	put_counter_expr(nlh, NFTA_SET_ELEM_EXPR, 100, 100, WHOLE);
	mnl_attr_nest_end(nlh, e);
	e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);	/* an interval's end */
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
	    htonl(NFT_SET_ELEM_INTERVAL_END));
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, list);
	off += nlh->nlmsg_len;
	put_done(buf, &off);

	strbuf_init(&err, 0);
	assert_int_equal(counters_parse(buf, off, &v, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].name, "default_LAN");
	assert_string_equal(v[1].name, "rule_00000000000000aa");
	assert_int_equal(v[1].what, NFTC_COUNTS_RULE);
	assert_true(v[1].id == 0xaa && v[1].packets == 7 &&
	    v[1].bytes == 70);
	assert_string_equal(v[2].name, "rule_00000000000000bb");
	assert_true(v[2].id == 0xbb && v[2].packets == 3 + 7 + 11 &&
	    v[2].bytes == 30 + 70 + 110);
	assert_string_equal(v[3].name, "rule_00000000000000cc");
	assert_true(v[3].packets == 13 && v[3].bytes == 130);
	/* moat status lists them by number, those without one last */
	v[1].number = 2;
	v[3].number = 1;
	counters_sort(v, n);
	assert_string_equal(v[0].name, "default_LAN");
	assert_string_equal(v[1].name, "rule_00000000000000cc");
	assert_string_equal(v[2].name, "rule_00000000000000aa");
	assert_string_equal(v[3].name, "rule_00000000000000bb");
	free(v);

	/* a rule's counter without its packets is an error, not a guess */
	off = 0;
	put_rule(buf, &off, "moat", a, true, 2, 20, NO_PACKETS);
	put_done(buf, &off);
	assert_int_equal(counters_parse(buf, off, &v, &n, &err), -1);
	assert_null(v);
	/* user data cut short (a length past its end) is no comment */
	off = 0;
	nlh = put_msg(buf, &off, NFT_MSG_NEWRULE, NFPROTO_INET);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "moat");
	list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	put_counter_expr(nlh, NFTA_LIST_ELEM, 1, 1, WHOLE);
	mnl_attr_nest_end(nlh, list);
	{
		unsigned char u[24] = { 0, 200 };

		memcpy(u + 2, "rule 00000000000000aa", 22);
		mnl_attr_put(nlh, NFTA_RULE_USERDATA, sizeof(u), u);
	}
	off += nlh->nlmsg_len;
	put_done(buf, &off);
	assert_int_equal(counters_parse(buf, off, &v, &n, &err), 0);
	assert_int_equal(n, 0);
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


/* A rule's counter is named by its id (rule_ID, 16 hex digits), read back
 * to the number the config in force gives the rule; the old form rule_N
 * says its number itself. */
static void
test_rule_names(void **state)
{
	static const char conf[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "accept on LAN from 192.168.1.10 to ANY service SMTP\n"
	    "deny on LAN from ANY to ANY service SMTP\n";
	static const char moved[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "deny on WAN from ANY to ANY service SSH\n"
	    "deny on LAN from ANY to ANY service SMTP\n"
	    "accept on LAN from 192.168.1.10 to ANY service SMTP\n";
	struct policy *p = policy_parse("t.conf", conf, sizeof(conf) - 1);
	struct policy *q = policy_parse("u.conf", moved, sizeof(moved) - 1);
	struct counter v[5];
	struct gw_status st;
	struct metrics_input in;
	struct strbuf b;
	char name[64];
	const char *text;
	uint64_t id;
	int n;
	json_t *j, *c;

	(void)state;
	assert_true(p != NULL && policy_valid(p));
	assert_true(q != NULL && policy_valid(q));
	/* the compiled ruleset names the rules by id only */
	strbuf_init(&b, 0);
	assert_int_equal(nftc_compile(p, &b), 0);
	/* and has no counter object per rule: each counts in its own */
	assert_null(strstr(strbuf_str(&b), "counter rule_"));
	assert_null(strstr(strbuf_str(&b), "counter name \"rule_"));
	snprintf(name, sizeof(name), "counter drop comment \"rule %016llx\"",
	    (unsigned long long)p->rules[1]->id);
	assert_non_null(strstr(strbuf_str(&b), name));
	assert_null(strstr(strbuf_str(&b), "rule_1"));
	assert_null(strstr(strbuf_str(&b), "\"rule 2\""));
	strbuf_free(&b);

	/* the forms read back */
	snprintf(name, sizeof(name), "rule_%016llx",
	    (unsigned long long)p->rules[1]->id);
	assert_int_equal(nftc_counter_meaning(name, &n, &id),
	    NFTC_COUNTS_RULE);
	assert_true(n == 0 && id == p->rules[1]->id);
	assert_int_equal(nftc_counter_meaning("rule_12", &n, &id),
	    NFTC_COUNTS_RULE);
	assert_true(n == 12 && id == 0);
	/* sixteen digits are an id, whatever they look like */
	assert_int_equal(nftc_counter_meaning("rule_0000000000000012", &n,
	    &id), NFTC_COUNTS_RULE);
	assert_true(n == 0 && id == 0x12);
	assert_int_equal(nftc_counter_meaning("rule_0", &n, &id),
	    NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("rule_0123456789abcde", &n,
	    &id), NFTC_COUNTS_OTHER);	/* 15 digits, not a number */
	assert_int_equal(nftc_counter_meaning("rule_0123456789abcdef0", &n,
	    &id), NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("rule_0123456789ABCDEF", &n,
	    &id), NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("rule_0123456789abcdef_src", &n,
	    &id), NFTC_COUNTS_OTHER);
	assert_true(n == 0 && id == 0);
	assert_int_equal(nftc_counter_meaning("rule_12x", &n, &id),
	    NFTC_COUNTS_OTHER);

	/* numbered through the config in force: p, then q (moved) */
	memset(v, 0, sizeof(v));
	snprintf(v[0].name, sizeof(v[0].name), "rule_%016llx",
	    (unsigned long long)p->rules[0]->id);
	snprintf(v[1].name, sizeof(v[1].name), "rule_%016llx",
	    (unsigned long long)p->rules[1]->id);
	snprintf(v[2].name, sizeof(v[2].name), "rule_%016llx",
	    (unsigned long long)(p->rules[1]->id ^ 1));	/* in neither */
	snprintf(v[3].name, sizeof(v[3].name), "rule_2");
	snprintf(v[4].name, sizeof(v[4].name), "default_LAN");
	for (n = 0; n < 5; n++) {
		int k;

		v[n].what = nftc_counter_meaning(v[n].name, &k, &v[n].id);
		v[n].number = k;
		v[n].packets = (uint64_t)n + 10;
		v[n].bytes = 100 * ((uint64_t)n + 10);
	}
	counters_number(v, 5, p);
	assert_true(v[0].number == 1 && v[1].number == 2 && v[2].number == 0 &&
	    v[3].number == 2 && v[4].number == 0);
	counters_number(v, 5, q);
	assert_true(v[0].number == 3 && v[1].number == 2 && v[2].number == 0 &&
	    v[3].number == 2);
	counters_number(v, 5, NULL);
	assert_true(v[0].number == 0 && v[3].number == 2);
	counters_number(v, 5, p);

	/* moat status: told by number, with the rule; JSON with both */
	memset(&st, 0, sizeof(st));
	st.p = p;
	st.have_ctr = true;
	st.ctr = v;
	st.nctr = 5;
	strbuf_init(&b, 0);
	status_text(&st, &b);
	assert_non_null(strstr(strbuf_str(&b), "\nrule 1                       10"
	    "           1000  accept on LAN from 192.168.1.10 to ANY service "
	    "SMTP\n"));
	assert_non_null(strstr(strbuf_str(&b), "\nrule 2                       11"
	    "           1100  deny on LAN"));
	assert_non_null(strstr(strbuf_str(&b), v[2].name));
	strbuf_free(&b);
	j = status_json(&st);
	c = json_array_get(json_object_get(j, "counters"), 1);
	assert_string_equal(json_string_value(json_object_get(c, "name")),
	    v[1].name);
	assert_int_equal(json_integer_value(json_object_get(c, "rule")), 2);
	assert_string_equal(json_string_value(json_object_get(c, "rule_id")),
	    v[1].name + 5);
	c = json_array_get(json_object_get(j, "counters"), 2);
	assert_true(json_is_null(json_object_get(c, "rule")));
	c = json_array_get(json_object_get(j, "counters"), 3);
	assert_int_equal(json_integer_value(json_object_get(c, "rule")), 2);
	assert_true(json_is_null(json_object_get(c, "rule_id")));
	c = json_array_get(json_object_get(j, "counters"), 4);
	assert_null(json_object_get(c, "rule"));
	json_decref(j);

	/* metrics: the rule's number and line, and its id */
	memset(&in, 0, sizeof(in));
	in.p = q;
	in.ctr = v;
	in.nctr = 5;
	strbuf_init(&b, 0);
	metrics_write(&in, &b);
	text = strbuf_str(&b);
	snprintf(name, sizeof(name), "id=\"%016llx\"} 10\n",
	    (unsigned long long)p->rules[0]->id);
	assert_non_null(strstr(text, "moat_rule_packets_total{rule=\"3\","
	    "line=\"5\",action=\"accept\",interface=\"LAN\","));
	assert_non_null(strstr(text, name));
	assert_non_null(strstr(text, "moat_rule_bytes_total{rule=\"2\","
	    "line=\"4\",action=\"deny\""));
	snprintf(name, sizeof(name), "moat_rule_packets_total{rule=\"\","
	    "id=\"%016llx\"} 12\n", (unsigned long long)(p->rules[1]->id ^ 1));
	assert_non_null(strstr(text, name));
	assert_non_null(strstr(text, "moat_rule_packets_total{rule=\"2\","
	    "line=\"4\",action=\"deny\",interface=\"LAN\"} 13\n"));
	strbuf_free(&b);
	policy_free(p);
	policy_free(q);
}

/* A port forward's, nat source rule's and one-to-one line's counters are
 * named by its id (forward_ID, forward_ID_accept, nat_source_ID,
 * one_to_one_ID), read back from a dump, numbered through the config in
 * force, and told by that number (status, JSON, metrics, a comment); the
 * old names (forward_N, …) a kernel loaded before the ids holds are still
 * read. */
static void
test_entry_names(void **state)
{
	static const char head[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "nat masquerade on WAN\n";
	static const char tail[] =
	    "forward on WAN service SMTP to 192.168.1.10\n"
	    "nat source on WAN from 192.168.1.25 translate 203.0.113.25\n"
	    "nat one-to-one on WAN 203.0.113.10 to 192.168.1.10\n";
	static const char above[] =
	    "forward on WAN service SSH to 192.168.1.22\n"
	    "nat source on WAN from 192.168.1.26 translate 203.0.113.26\n"
	    "nat one-to-one on WAN 203.0.113.11 to 192.168.1.11\n";
	static char buf[BUF];
	char conf[1024], moved[1024], name[96], fid[NFTC_ID_LEN + 1];
	struct policy *p, *q;
	struct counter *v;
	struct gw_status st;
	struct metrics_input in;
	struct strbuf b, err;
	const char *text;
	uint64_t id, fw, ns, oo;
	size_t n, off = 0, k;
	int num;
	json_t *j, *c;

	(void)state;
	snprintf(conf, sizeof(conf), "%s%s", head, tail);
	snprintf(moved, sizeof(moved), "%s%s%s", head, above, tail);
	p = policy_parse("t.conf", conf, strlen(conf));
	q = policy_parse("u.conf", moved, strlen(moved));
	assert_true(p != NULL && policy_valid(p));
	assert_true(q != NULL && policy_valid(q));
	fw = p->forwards[0]->id;
	ns = p->nat_rules[0]->id;
	oo = p->nat_ones[0]->id;
	assert_true(q->forwards[1]->id == fw && q->nat_rules[1]->id == ns &&
	    q->nat_ones[1]->id == oo);

	/* the compiled ruleset names them by id only */
	strbuf_init(&b, 0);
	assert_int_equal(nftc_compile(p, &b), 0);
	text = strbuf_str(&b);
	snprintf(name, sizeof(name), "counter forward_%016llx_accept {",
	    (unsigned long long)fw);
	assert_non_null(strstr(text, name));
	snprintf(name, sizeof(name), "comment \"forward %016llx, reflection\"",
	    (unsigned long long)fw);
	assert_non_null(strstr(text, name));
	snprintf(name, sizeof(name), "counter name \"nat_source_%016llx\" snat",
	    (unsigned long long)ns);
	assert_non_null(strstr(text, name));
	snprintf(name, sizeof(name), "comment \"one-to-one %016llx\"",
	    (unsigned long long)oo);
	assert_non_null(strstr(text, name));
	assert_null(strstr(text, "forward_1"));
	assert_null(strstr(text, "\"forward 1"));
	assert_null(strstr(text, "nat_source_1"));
	assert_null(strstr(text, "\"nat source 1"));
	assert_null(strstr(text, "one_to_one_1"));
	assert_null(strstr(text, "\"one-to-one 1"));
	strbuf_free(&b);

	/* the names read back, new and old */
	snprintf(name, sizeof(name), "forward_%016llx", (unsigned long long)fw);
	assert_int_equal(nftc_counter_meaning(name, &num, &id),
	    NFTC_COUNTS_FORWARD);
	assert_true(num == 0 && id == fw);
	snprintf(name, sizeof(name), "forward_%016llx_accept",
	    (unsigned long long)fw);
	assert_int_equal(nftc_counter_meaning(name, &num, &id),
	    NFTC_COUNTS_FORWARD_ACCEPT);
	assert_true(num == 0 && id == fw);
	snprintf(name, sizeof(name), "nat_source_%016llx",
	    (unsigned long long)ns);
	assert_int_equal(nftc_counter_meaning(name, &num, &id),
	    NFTC_COUNTS_NAT_SOURCE);
	assert_true(num == 0 && id == ns);
	snprintf(name, sizeof(name), "one_to_one_%016llx",
	    (unsigned long long)oo);
	assert_int_equal(nftc_counter_meaning(name, &num, &id),
	    NFTC_COUNTS_ONE_TO_ONE);
	assert_true(num == 0 && id == oo);
	assert_int_equal(nftc_counter_meaning("forward_3", &num, &id),
	    NFTC_COUNTS_FORWARD);
	assert_true(num == 3 && id == 0);
	assert_int_equal(nftc_counter_meaning("forward_3_accept", &num, &id),
	    NFTC_COUNTS_FORWARD_ACCEPT);
	assert_true(num == 3 && id == 0);
	assert_int_equal(nftc_counter_meaning("nat_source_2", &num, &id),
	    NFTC_COUNTS_NAT_SOURCE);
	assert_true(num == 2 && id == 0);
	assert_int_equal(nftc_counter_meaning("one_to_one_4", &num, &id),
	    NFTC_COUNTS_ONE_TO_ONE);
	assert_true(num == 4 && id == 0);
	/* neither an id nor a number, or something after it */
	assert_int_equal(nftc_counter_meaning("forward_0", &num, &id),
	    NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("forward_0123456789abcde", &num,
	    &id), NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("forward_0123456789abcdef_x",
	    &num, &id), NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("forward_0123456789ABCDEF",
	    &num, &id), NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("nat_source_2_src_v4", &num,
	    &id), NFTC_COUNTS_OTHER);
	assert_int_equal(nftc_counter_meaning("one_to_one_", &num, &id),
	    NFTC_COUNTS_OTHER);
	assert_true(num == 0 && id == 0);

	/* a dump of both forms: the kernel's order in, moat's order out */
	snprintf(name, sizeof(name), "one_to_one_%016llx",
	    (unsigned long long)oo);
	put_obj(buf, &off, NFPROTO_INET, "moat", name, NFT_OBJECT_COUNTER, 5,
	    50, WHOLE);
	snprintf(name, sizeof(name), "forward_%016llx_accept",
	    (unsigned long long)fw);
	put_obj(buf, &off, NFPROTO_INET, "moat", name, NFT_OBJECT_COUNTER, 7,
	    70, WHOLE);
	snprintf(name, sizeof(name), "nat_source_%016llx",
	    (unsigned long long)ns);
	put_obj(buf, &off, NFPROTO_INET, "moat", name, NFT_OBJECT_COUNTER, 3,
	    30, WHOLE);
	snprintf(name, sizeof(name), "forward_%016llx", (unsigned long long)fw);
	put_obj(buf, &off, NFPROTO_INET, "moat", name, NFT_OBJECT_COUNTER, 8,
	    80, WHOLE);
	snprintf(name, sizeof(name), "forward_%016llx",
	    (unsigned long long)(fw ^ 1));	/* in no config */
	put_obj(buf, &off, NFPROTO_INET, "moat", name, NFT_OBJECT_COUNTER, 9,
	    90, WHOLE);
	put_obj(buf, &off, NFPROTO_INET, "moat", "forward_2_accept",
	    NFT_OBJECT_COUNTER, 1, 10, WHOLE);	/* an older moat's */
	put_obj(buf, &off, NFPROTO_INET, "moat", "default_WAN",
	    NFT_OBJECT_COUNTER, 2, 20, WHOLE);
	put_done(buf, &off);
	strbuf_init(&err, 0);
	assert_int_equal(counters_parse(buf, off, &v, &n, &err), 0);
	strbuf_free(&err);
	assert_int_equal(n, 7);
	assert_true(v[0].what == NFTC_COUNTS_ONE_TO_ONE && v[0].id == oo &&
	    v[0].number == 0);
	assert_true(v[5].what == NFTC_COUNTS_FORWARD_ACCEPT && v[5].id == 0 &&
	    v[5].number == 2);

	/* numbered through the config in force: p, then q (moved down) */
	counters_number(v, n, p);
	assert_true(v[0].number == 1 && v[1].number == 1 && v[2].number == 1 &&
	    v[3].number == 1 && v[4].number == 0 && v[5].number == 2 &&
	    v[6].number == 0);
	counters_number(v, n, NULL);
	assert_true(v[0].number == 0 && v[1].number == 0 && v[5].number == 2);
	counters_number(v, n, q);
	assert_true(v[0].number == 2 && v[1].number == 2 && v[2].number == 2 &&
	    v[3].number == 2 && v[4].number == 0 && v[5].number == 2);
	/* moat's order: the others as they came, then the forwards (the
	 * old form's first at a number, a translation before its accept,
	 * those q lacks last), nat source
	 * rules, one-to-one lines */
	counters_sort(v, n);
	assert_string_equal(v[0].name, "default_WAN");
	assert_true(v[1].what == NFTC_COUNTS_FORWARD_ACCEPT && v[1].id == 0);
	assert_true(v[2].what == NFTC_COUNTS_FORWARD && v[2].id == fw);
	assert_true(v[3].what == NFTC_COUNTS_FORWARD_ACCEPT && v[3].id == fw);
	assert_true(v[4].what == NFTC_COUNTS_FORWARD && v[4].id == (fw ^ 1));
	assert_true(v[5].what == NFTC_COUNTS_NAT_SOURCE);
	assert_true(v[6].what == NFTC_COUNTS_ONE_TO_ONE);

	/* moat status: told by number, with the entry's line */
	memset(&st, 0, sizeof(st));
	st.p = q;
	st.have_ctr = true;
	st.ctr = v;
	st.nctr = n;
	strbuf_init(&b, 0);
	status_text(&st, &b);
	text = strbuf_str(&b);
	assert_non_null(strstr(text, "\nforward 2                     8"
	    "             80  forward on WAN service SMTP to 192.168.1.10\n"));
	assert_non_null(strstr(text, "\nforward 2 accept              7"
	    "             70  forward on WAN service SMTP to 192.168.1.10\n"));
	assert_non_null(strstr(text, "\nforward 2 accept              1"
	    "             10  forward on WAN service SMTP to 192.168.1.10\n"));
	assert_non_null(strstr(text, "\nnat source 2                  3"
	    "             30  nat source on WAN from 192.168.1.25 translate "
	    "203.0.113.25\n"));
	assert_non_null(strstr(text, "\none-to-one 2                  5"
	    "             50  nat one-to-one on WAN 203.0.113.10 to "
	    "192.168.1.10\n"));
	assert_non_null(strstr(text, v[4].name));	/* in no config */
	strbuf_free(&b);
	j = status_json(&st);
	for (k = 0; k < n; k++) {
		static const char *const key[] = { NULL, "forward", "forward",
		    "forward", "forward", "nat_source", "one_to_one" };
		char idkey[32];

		c = json_array_get(json_object_get(j, "counters"), k);
		assert_string_equal(json_string_value(json_object_get(c,
		    "name")), v[k].name);
		if (key[k] == NULL) {
			assert_null(json_object_get(c, "forward"));
			continue;
		}
		snprintf(idkey, sizeof(idkey), "%s_id", key[k]);
		snprintf(fid, sizeof(fid), "%016llx",
		    (unsigned long long)v[k].id);
		if (v[k].number > 0)
			assert_int_equal(json_integer_value(json_object_get(c,
			    key[k])), v[k].number);
		else
			assert_true(json_is_null(json_object_get(c, key[k])));
		if (v[k].id != 0)
			assert_string_equal(json_string_value(
			    json_object_get(c, idkey)), fid);
		else
			assert_true(json_is_null(json_object_get(c, idkey)));
	}
	json_decref(j);

	/* metrics: the number in the config in force, and the id */
	memset(&in, 0, sizeof(in));
	in.p = q;
	in.ctr = v;
	in.nctr = n;
	strbuf_init(&b, 0);
	metrics_write(&in, &b);
	text = strbuf_str(&b);
	snprintf(name, sizeof(name), "moat_forward_packets_total{forward=\"2\","
	    "id=\"%016llx\"} 7\n", (unsigned long long)fw);
	assert_non_null(strstr(text, name));
	assert_non_null(strstr(text, "moat_forward_packets_total{forward=\"2\"}"
	    " 1\n"));
	snprintf(name, sizeof(name), "moat_nat_source_bytes_total{rule=\"2\","
	    "id=\"%016llx\"} 30\n", (unsigned long long)ns);
	assert_non_null(strstr(text, name));
	snprintf(name, sizeof(name), "moat_one_to_one_packets_total{mapping="
	    "\"2\",id=\"%016llx\"} 5\n", (unsigned long long)oo);
	assert_non_null(strstr(text, name));
	strbuf_free(&b);
	in.p = p;	/* numbers are the config's, not the counters' */
	strbuf_init(&b, 0);
	metrics_write(&in, &b);
	snprintf(name, sizeof(name), "moat_nat_source_packets_total{rule=\"1\","
	    "id=\"%016llx\"} 3\n", (unsigned long long)ns);
	assert_non_null(strstr(strbuf_str(&b), name));
	strbuf_free(&b);

	/* a comment in moat's words */
	strbuf_init(&b, 0);
	snprintf(name, sizeof(name), "forward %016llx, reflection",
	    (unsigned long long)fw);
	assert_int_equal(nftc_comment_words(q, name, &b), NFTC_COUNTS_FORWARD);
	assert_string_equal(strbuf_str(&b), "forward 2, reflection");
	strbuf_reset(&b);
	snprintf(name, sizeof(name), "scan incoming SMTP (forward %016llx)",
	    (unsigned long long)fw);
	nftc_comment_words(p, name, &b);
	assert_string_equal(strbuf_str(&b), "scan incoming SMTP (forward 1)");
	strbuf_reset(&b);
	snprintf(name, sizeof(name), "one-to-one %016llx",
	    (unsigned long long)oo);
	nftc_comment_words(NULL, name, &b);	/* no config: the id */
	assert_string_equal(strbuf_str(&b), name);
	strbuf_reset(&b);
	assert_int_equal(nftc_comment_words(q, "nat source 7", &b),
	    NFTC_COUNTS_NAT_SOURCE);	/* the old form says its number */
	assert_string_equal(strbuf_str(&b), "nat source 7");
	strbuf_reset(&b);
	assert_int_equal(nftc_comment_words(q, "nat on WAN", &b),
	    NFTC_COUNTS_OTHER);
	assert_string_equal(strbuf_str(&b), "nat on WAN");
	strbuf_free(&b);
	free(v);
	policy_free(p);
	policy_free(q);
}

/* counters_busiest: the most packets, the earlier of equals, the order
 * kept; nothing left out for 0 or a max of all. */
static void
test_busiest(void **state)
{
	static const uint64_t packets[] = { 5, 9, 1, 9, 7, 9, 0 };
	static const struct { size_t max; const char *kept; } cases[] = {
		{ 1, "b" }, { 2, "bd" }, { 3, "bdf" }, { 4, "bdef" },
		{ 5, "abdef" }, { 6, "abcdef" }, { 7, "abcdefg" },
		{ 0, "abcdefg" }, { 100, "abcdefg" },
	};
	struct counter v[7];
	char got[8];
	size_t c, i, n;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		memset(v, 0, sizeof(v));
		for (i = 0; i < 7; i++) {
			v[i].name[0] = (char)('a' + i);
			v[i].packets = packets[i];
		}
		n = 7;
		counters_busiest(v, &n, cases[c].max);
		for (i = 0; i < n; i++)
			got[i] = v[i].name[0];
		got[n] = '\0';
		assert_string_equal(got, cases[c].kept);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_busiest),
		cmocka_unit_test(test_rule_names),
		cmocka_unit_test(test_entry_names),
		cmocka_unit_test(test_rules_and_elements),
		cmocka_unit_test(test_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

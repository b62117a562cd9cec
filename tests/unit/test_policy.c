/* test_policy.c: unit tests of parsing, evaluation and robustness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyze/eval.h"
#include "base/hash.h"
#include "analyze/lint.h"
#include "enforce/nftc.h"
#include "output/printer.h"
#include "policy/load.h"
#include "policy/policy.h"
#include "policy/schedule.h"
#include "gen.h"

static const char seed_a[] =
	"interface LAN device eth1 address 192.168.1.1/24\n"
	"interface WAN device eth0 address 203.0.113.2/24\n"
	"accept on LAN from 192.168.1.10/255.255.255.255 to ANY service SMTP\n"
	"deny   on LAN from ANY to ANY service SMTP\n";

static const char seed_b[] =
	"interface LAN device eth1 address 192.168.1.1/24\n"
	"interface WAN device eth0 address 203.0.113.2/24\n"
	"deny on LAN from ANY to !LANIP service SMTP\n";

static struct policy *
parse(const char *text)
{
	struct policy *p = policy_parse("t.conf", text, strlen(text));

	assert_non_null(p);
	return p;
}

static struct policy *
parse_ok(const char *text)
{
	struct policy *p = parse(text);

	if (!policy_valid(p))
		diags_print(&p->diags, stderr);
	assert_true(policy_valid(p));
	return p;
}

/* Decide a flow given as text; returns the rule number, 0 for none. */
static int
decide(const struct policy *p, const char *in, const char *src,
    const char *dst, int proto, unsigned port, enum action *act)
{
	struct flow f = { policy_iface(p, in), 0, 0, proto, port, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[100];

	assert_non_null(f.iface);
	assert_int_equal(addr_parse(src, &f.src, &fam, err, sizeof(err)), 0);
	assert_int_equal(addr_parse(dst, &f.dst, &fam, err, sizeof(err)), 0);
	policy_eval(p, &f, &v);
	*act = v.action;
	return v.by == BY_RULE ? v.rule->number : 0;
}

static void
test_seed_a(void **state)
{
	struct policy *p = parse_ok(seed_a);
	enum action a;

	(void)state;
	assert_int_equal(decide(p, "LAN", "192.168.1.10", "8.8.8.8", 6, 25,
	    &a), 1);
	assert_int_equal(a, ACT_ACCEPT);
	assert_int_equal(decide(p, "LAN", "192.168.1.50", "8.8.8.8", 6, 25,
	    &a), 2);
	assert_int_equal(a, ACT_DENY);
	assert_int_equal(decide(p, "LAN", "192.168.1.50", "8.8.8.8", 6, 443,
	    &a), 0);
	assert_int_equal(a, ACT_ACCEPT);	/* the LAN default */
	assert_int_equal(decide(p, "WAN", "8.8.8.8", "192.168.1.10", 6, 25,
	    &a), 0);
	assert_int_equal(a, ACT_DENY);		/* every other default */
	policy_free(p);
}

static void
test_seed_b(void **state)
{
	struct policy *p = parse_ok(seed_b);
	enum action a;

	(void)state;
	assert_int_equal(decide(p, "LAN", "192.168.1.50", "192.168.1.1", 6, 25,
	    &a), 0);
	assert_int_equal(a, ACT_ACCEPT);
	assert_int_equal(decide(p, "LAN", "192.168.1.50", "8.8.8.8", 6, 25,
	    &a), 1);
	assert_int_equal(a, ACT_DENY);
	/* !LANIP holds every IPv6 address too. */
	assert_int_equal(decide(p, "LAN", "2001:db8::5", "2001:db8::25", 6, 25,
	    &a), 1);
	policy_free(p);
}

static const char dynamic_office[] =
	"interface LAN device eth1 address 192.168.1.1/24\n"
	"interface WAN device ppp0 address dynamic\n"
	"object MAIL 192.168.1.10\n"
	"forward on WAN service SMTP to MAIL\n"
	"accept on WAN from ANY to WANIP service SSH\n"
	"deny on WAN from ANY to !WANIP service HTTP\n"
	"accept on WAN from WANNET to { WANIP, 10.0.0.1 } service PING\n";

static struct policy *
parse_bound(const char *text, const char *name, const char *addr)
{
	struct bound_addr ba = { name, { 0 } };
	struct binding b = { .n = 1, .v = &ba };
	char err[100], hint[100];
	struct policy *p;

	assert_int_equal(addr_parse_lit(addr, true, &ba.lit, err, sizeof(err),
	    hint, sizeof(hint)), 0);
	p = policy_parse_bound("t.conf", text, strlen(text), &b);
	assert_non_null(p);
	assert_true(policy_valid(p));
	return p;
}

/* The compiled table without its set elements: the structure, which must
 * not depend on what the dynamic addresses are. */
static char *
structure(const struct policy *p)
{
	struct strbuf b, out;
	const char *line;

	strbuf_init(&b, 0);
	strbuf_init(&out, 0);
	assert_int_equal(nftc_compile(p, &b), 0);
	for (line = strbuf_str(&b); *line != '\0'; ) {
		size_t n = strcspn(line, "\n");

		if (strstr(line, "elements = ") == NULL ||
		    (size_t)(strstr(line, "elements = ") - line) > n)
			strbuf_add(&out, line, n + 1);
		line += n + (line[n] != '\0');
	}
	strbuf_free(&b);
	return out.s;
}

static void
test_dynamic(void **state)
{
	struct policy *none = parse_ok(dynamic_office);
	struct policy *a = parse_bound(dynamic_office, "ppp0",
	    "203.0.113.5/24");
	struct policy *b = parse_bound(dynamic_office, "WAN",
	    "198.51.100.9/28");
	struct strbuf dyn;
	char *sa, *sb, *sn, side[160];
	enum action act;

	(void)state;
	/* Unbound: WANIP is empty, the forward and the SSH rule take
	 * nothing; rule 2 (!WANIP) takes everything. */
	assert_true(none->ifaces[1]->dynamic);
	assert_int_equal(none->ifaces[1]->nbound, 0);
	assert_int_equal(decide(none, "WAN", "8.8.8.8", "203.0.113.5", 6, 22,
	    &act), 0);
	assert_int_equal(decide(none, "WAN", "8.8.8.8", "203.0.113.5", 6, 80,
	    &act), 2);
	/* Bound by device: the rules follow the address. */
	assert_int_equal(a->ifaces[1]->nbound, 1);
	assert_int_equal(decide(a, "WAN", "8.8.8.8", "203.0.113.5", 6, 22,
	    &act), 1);
	assert_int_equal(act, ACT_ACCEPT);
	assert_int_equal(decide(a, "WAN", "8.8.8.8", "203.0.113.5", 6, 80,
	    &act), 0);
	assert_int_equal(decide(a, "WAN", "203.0.113.77", "10.0.0.1", 1, 8,
	    &act), 3);
	assert_int_equal(decide(a, "WAN", "8.8.8.8", "10.0.0.1", 1, 8,
	    &act), 0);
	/* Bound by interface name, another address: the old one is no
	 * longer the gateway's. */
	assert_int_equal(decide(b, "WAN", "8.8.8.8", "203.0.113.5", 6, 22,
	    &act), 0);
	assert_int_equal(decide(b, "WAN", "8.8.8.8", "198.51.100.9", 6, 22,
	    &act), 1);
	assert_true(policy_rule_dynamic(a->rules[0]));
	assert_true(policy_rule_uses(a->rules[2], a->ifaces[1]));
	assert_false(policy_rule_uses(a->rules[2], a->ifaces[0]));
	/* One ruleset structure whatever the addresses: a change is a
	 * refill of sets, never a reload of rules. */
	sa = structure(a);
	sb = structure(b);
	sn = structure(none);
	assert_string_equal(sa, sb);
	assert_string_equal(sa, sn);
	/* a forward's counter is named by the forward's id */
	snprintf(side, sizeof(side), "iifname \"ppp0\" ip daddr @WANIP_v4 tcp "
	    "dport 25 counter name \"forward_%016llx\" dnat ip to "
	    "192.168.1.10", (unsigned long long)a->forwards[0]->id);
	assert_non_null(strstr(sa, side));
	assert_non_null(strstr(sa, "ip daddr != @WANIP_v4 tcp dport 80"));
	assert_non_null(strstr(sa, "ip6 daddr @WANIP_v6 tcp dport 22"));
	free(sa);
	free(sb);
	free(sn);
	strbuf_init(&dyn, 0);
	assert_int_equal(nftc_compile_dynamic(a, &dyn), 0);
	assert_non_null(strstr(strbuf_str(&dyn), "flush set inet moat "
	    "WANIP_v4\nadd element inet moat WANIP_v4 { 203.0.113.5 }\n"));
	assert_non_null(strstr(strbuf_str(&dyn), "add element inet moat "
	    "WANNET_v4 { 203.0.113.0/24 }\n"));
	/* a rule's side is named by the rule's id */
	snprintf(side, sizeof(side), "add element inet moat rule_%016llx_"
	    "dst_v4 { 10.0.0.1, 203.0.113.5 }\n",
	    (unsigned long long)a->rules[2]->id);
	assert_non_null(strstr(strbuf_str(&dyn), side));
	/* Nothing of IPv6: emptied, nothing added. */
	assert_non_null(strstr(strbuf_str(&dyn), "flush set inet moat "
	    "WANIP_v6\nflush"));
	strbuf_free(&dyn);
	policy_free(none);
	none = parse_ok(seed_a);	/* no dynamic interface: no refill */
	strbuf_init(&dyn, 0);
	assert_int_equal(nftc_compile_dynamic(none, &dyn), 0);
	assert_int_equal(dyn.len, 0);
	strbuf_free(&dyn);
	policy_free(none);
	policy_free(a);
	policy_free(b);
}

static void
test_seed_lint(void **state)
{
	static const char swapped[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "deny   on LAN from ANY to ANY service SMTP\n"
	    "accept on LAN from 192.168.1.10/255.255.255.255 to ANY service "
	    "SMTP\n";
	struct policy *p = parse_ok(swapped);
	struct lint_stats st;

	(void)state;
	assert_int_equal(lint_policy(p, &st), 0);
	assert_int_equal(st.shadowed, 1);
	assert_true(p->rules[1]->dead);
	assert_false(p->rules[0]->dead);
	assert_int_equal(p->diags.nwarnings, 1);
	assert_non_null(strstr(p->diags.v[0].msg, "rule 2 can never match: "
	    "rule 1"));
	assert_int_equal(p->diags.v[0].loc.line, 3);
	policy_free(p);

	p = parse_ok(seed_a);
	assert_int_equal(lint_policy(p, &st), 0);
	assert_int_equal(st.shadowed, 0);
	assert_int_equal(p->diags.nwarnings, 0);
	policy_free(p);
}

static void
test_lint_union_cover(void **state)
{
	/* No single earlier rule covers rule 3; the two together do. */
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "deny on LAN from 10.0.0.0-10.0.0.127 service { SMTP, HTTP }\n"
	    "deny on LAN from 10.0.0.128/25 service SMTP\n"
	    "accept on LAN from 10.0.0.0/24 service SMTP\n"
	    "accept on LAN from 10.0.0.0/24 service HTTP\n");

	(void)state;
	assert_int_equal(lint_policy(p, NULL), 0);
	assert_true(p->rules[2]->dead);
	assert_false(p->rules[3]->dead);	/* 10.0.0.128/25 HTTP is left */
	policy_free(p);
}

/* Has p a warning at line whose message holds text? */
static bool
warned(const struct policy *p, int line, const char *text)
{
	size_t i;

	for (i = 0; i < p->diags.n; i++)
		if (p->diags.v[i].loc.line == line &&
		    strstr(p->diags.v[i].msg, text) != NULL)
			return true;
	return false;
}

/* Broad rules at the end of a list (each overlaps most rules of its
 * interface): live by the volume bound over all earlier rules, or dead
 * with each family's part covered by one rule, found without listing
 * the candidates; the messages as the full search gives them. */
/* Lint with the interfaces checked in two threads says what it says in
 * one, in the same order: generated policies of several interfaces, with
 * warnings and notes on each. */
static void
test_lint_threads(void **state)
{
	struct rng rng = { .s = 27 };
	struct strbuf text;
	size_t i, k, nwarn = 0, nnote = 0;
	int round;

	(void)state;
	strbuf_init(&text, 0);
	for (round = 0; round < 12; round++) {
		struct gen_opts o = { .mode = round % 2 ? GEN_DENSE : GEN_OFFICE,
		    .nrules = round % 2 ? 10 + 3 * round : 300 + 200 * round,
		    .nobjects = round % 2 ? 5 : 30, .nservices = 5,
		    .schedules = round % 4 == 1 };
		struct policy *p[2] = { NULL, NULL };
		struct lint_stats st[2];

		/* (a generated rule whose sides share no family is an
		 * error: such a policy is drawn again) */
		do {
			policy_free(p[0]);
			strbuf_reset(&text);
			gen_policy(&rng, &o, &text);
			p[0] = policy_parse("gen.conf", text.s, text.len);
			assert_non_null(p[0]);
		} while (!policy_valid(p[0]));
		p[1] = policy_parse("gen.conf", text.s, text.len);
		assert_true(policy_valid(p[1]));
		for (k = 0; k < 2; k++)
			assert_int_equal(lint_policy_threads(p[k], &st[k],
			    (int)k + 1), 0);
		assert_true(p[0]->niface >= 2);
		assert_int_equal(p[0]->diags.n, p[1]->diags.n);
		assert_int_equal(p[0]->diags.nwarnings, p[1]->diags.nwarnings);
		for (i = 0; i < p[0]->diags.n; i++) {
			const struct diag *a = &p[0]->diags.v[i];
			const struct diag *b = &p[1]->diags.v[i];

			assert_int_equal(a->severity, b->severity);
			assert_int_equal(a->loc.line, b->loc.line);
			assert_int_equal(a->loc.col, b->loc.col);
			assert_int_equal(a->seq, b->seq);
			assert_string_equal(a->msg, b->msg);
			nwarn += a->severity == DIAG_WARNING;
			nnote += a->severity == DIAG_NOTE;
		}
		assert_int_equal(st[0].rules, st[1].rules);
		assert_int_equal(st[0].shadowed, st[1].shadowed);
		assert_int_equal(st[0].candidates, st[1].candidates);
		assert_int_equal(st[0].too_complex, st[1].too_complex);
		for (i = 0; i < p[0]->nrule; i++)
			assert_true(p[0]->rules[i]->dead ==
			    p[1]->rules[i]->dead);
		policy_free(p[0]);
		policy_free(p[1]);
	}
	/* (a test that can fail: findings of both kinds were compared) */
	assert_true(nwarn > 100 && nnote > 0);
	strbuf_free(&text);
}

static void
test_lint_broad(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24 "
	    "address 2001:db8:1::1/64\n"
	    "interface WAN device eth0 address 203.0.113.2/24 "
	    "address 2001:db8:ff::2/64\n"
	    "deny on WAN from 198.51.100.1\n"
	    "deny on WAN from 198.51.100.2\n"
	    "deny on WAN from 198.51.100.3\n"
	    "deny on WAN from 198.51.100.4\n"
	    "deny on WAN from 198.51.100.5\n"
	    "deny on WAN from 198.51.100.6\n"
	    "deny on WAN from 198.51.100.7\n"
	    "deny on WAN from 2001:db8:66::8\n"
	    "deny on WAN service HTTP\n"
	    "accept on WAN from 2000::/3 to 2000::/3 service SMTP\n"
	    "deny on WAN from 0.0.0.0/0 to 0.0.0.0/0\n"
	    "accept on WAN from ::/0 to ::/0\n"
	    "reject on WAN service SMTP\n"
	    "reject on WAN from 0.0.0.0/1 to ANY service DNS\n"
	    "reject on WAN from 128.0.0.0/1 to ANY service DNS\n"
	    "deny on WAN service DNS\n");
	struct lint_stats st;

	(void)state;
	assert_int_equal(lint_policy(p, &st), 0);
	assert_false(p->rules[8]->dead);	/* the bound: live */
	assert_false(p->rules[9]->dead);
	assert_int_equal(st.shadowed, 4);
	/* IPv4 by rule 11, IPv6 by rule 12: in that order */
	assert_true(warned(p, 15, "rule 13 can never match: rules 11 and 12 "
	    "decide all of its traffic first, with another verdict; to make "
	    "it count, move it above rule 11"));
	assert_true(warned(p, 16, "rule 14 can never match: rule 11 decides "
	    "all of its traffic first"));
	assert_true(warned(p, 17, "rule 15 can never match: rule 11 decides "
	    "all of its traffic first"));
	/* the first that covers each part, not rules 14 and 15 together;
	 * rule 12 is the first with another verdict */
	assert_true(warned(p, 18, "rule 16 can never match: rules 11 and 12 "
	    "decide all of its traffic first, with another verdict; to make "
	    "it count, move it above rule 12"));
	policy_free(p);

	/* The IPv6 part's rule first in the file, first in the message. */
	p = parse_ok("interface WAN device eth0 address 203.0.113.2/24 "
	    "address 2001:db8:ff::2/64\n"
	    "deny on WAN from 198.51.100.1\n"
	    "deny on WAN from 198.51.100.2\n"
	    "deny on WAN from 198.51.100.3\n"
	    "deny on WAN from 198.51.100.4\n"
	    "accept on WAN from ::/0 to ::/0\n"
	    "reject on WAN from 0.0.0.0/0 to 0.0.0.0/0\n"
	    "reject on WAN service SMTP\n");
	assert_int_equal(lint_policy(p, NULL), 0);
	assert_true(warned(p, 8, "rule 7 can never match: rules 5 and 6 "
	    "decide all of its traffic first, with another verdict; to make "
	    "it count, move it above rule 5"));
	policy_free(p);
}

static void
test_forward_and_defaults(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "interface DMZ device eth2 address 10.1.1.1/24 default accept\n"
	    "object MAIL 192.168.1.10\n"
	    "deny on WAN from 198.51.100.66 to MAIL\n"
	    "forward on WAN service SMTP to MAIL\n");
	enum action a;

	(void)state;
	assert_int_equal(decide(p, "WAN", "8.8.8.8", "203.0.113.2", 6, 25, &a),
	    0);
	assert_int_equal(a, ACT_ACCEPT);	/* the forward's accept */
	assert_int_equal(decide(p, "WAN", "198.51.100.66", "203.0.113.2", 6, 25,
	    &a), 1);				/* rules see the new address */
	assert_int_equal(a, ACT_DENY);
	assert_int_equal(decide(p, "WAN", "8.8.8.8", "203.0.113.2", 6, 26, &a),
	    0);
	assert_int_equal(a, ACT_DENY);
	assert_int_equal(decide(p, "DMZ", "10.1.1.5", "8.8.8.8", 17, 53, &a),
	    0);
	assert_int_equal(a, ACT_ACCEPT);	/* default accept */
	policy_free(p);
}

/* Reflection: an internal host opening the WAN address reaches the
 * forward's host, from the gateway's address on the host's network; the
 * rules of the host's own interface judge it; off, or from the WAN's
 * side, it is not reflected. */
static void
test_forward_reflection(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24 "
	    "address 2001:db8:1::1/64\n"
	    "interface DMZ device eth2 address 10.1.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24 "
	    "address 2001:db8:ff::2/64\n"
	    "object WEB { 10.1.1.80, 2001:db8:1::80 }\n"
	    "deny on LAN from 192.168.1.66 to WEB\n"
	    "forward on WAN service HTTPS to WEB\n"
	    "forward on WAN service SSH to 192.168.1.22 reflection off\n");
	struct flow f = { policy_iface(p, "LAN"), 0, 0, 6, 443, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[100], a[ADDR_STRLEN];

	(void)state;
	assert_int_equal(addr_parse("192.168.1.9", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("203.0.113.2", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_ACCEPT);
	assert_int_equal(v.by, BY_FORWARD);
	assert_true(v.reflected);
	assert_true(v.has_src);
	addr_format(v.dst, a, sizeof(a));
	assert_string_equal(a, "10.1.1.80");
	addr_format(v.src, a, sizeof(a));
	assert_string_equal(a, "10.1.1.1");	/* the DMZ side, not LAN's */
	assert_int_equal(addr_parse("2001:db8:1::9", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("2001:db8:ff::2", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_true(v.reflected);
	addr_format(v.src, a, sizeof(a));
	assert_string_equal(a, "2001:db8:1::1");
	/* the LAN's rule sees the host as the destination */
	assert_int_equal(decide(p, "LAN", "192.168.1.66", "203.0.113.2", 6,
	    443, &v.action), 1);
	assert_int_equal(v.action, ACT_DENY);
	/* reflection off: the connection is the gateway's own (no SSH rule,
	 * the LAN default accepts it, not reflected) */
	assert_int_equal(addr_parse("192.168.1.9", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("203.0.113.2", &f.dst, &fam, err,
	    sizeof(err)), 0);
	f.dport = 22;
	policy_eval(p, &f, &v);
	assert_false(v.reflected);
	assert_null(v.forward);
	assert_true(v.to_gateway);
	/* from the WAN: the forward itself, not reflected */
	f.iface = policy_iface(p, "WAN");
	f.dport = 443;
	assert_int_equal(addr_parse("198.51.100.7", &f.src, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_non_null(v.forward);
	assert_false(v.reflected);
	policy_free(p);
}

/* Outbound NAT rules: first match on the out interface (the one whose
 * network holds the destination, else the nat's), before masquerade. */
static void
test_nat_source(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface DMZ device eth2 address 10.1.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "nat source on WAN from 192.168.1.0/24 to 10.20.0.0/16 "
	    "translate none\n"
	    "nat source on WAN from 192.168.1.25 service SMTP "
	    "translate 203.0.113.25\n"
	    "nat source on WAN from LANNET translate masquerade\n"
	    "nat masquerade on WAN\n");
	struct flow f = { policy_iface(p, "LAN"), 0, 0, 6, 25, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[100], a[ADDR_STRLEN];
	u128 ts, td;
	bool has_ts;

	(void)state;
	assert_int_equal(addr_parse("192.168.1.25", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("8.8.8.8", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_ptr_equal(v.out, policy_iface(p, "WAN"));
	assert_int_equal(v.snat, SNAT_RULE);
	assert_int_equal(v.nat_rule->number, 2);
	addr_format(v.src, a, sizeof(a));
	assert_string_equal(a, "203.0.113.25");
	assert_true(policy_translated(p, &f, &v, &ts, &has_ts, &td));
	assert_true(has_ts);
	assert_int_equal(ts, v.src);
	assert_int_equal(td, f.dst);
	f.dport = 80;				/* not SMTP: rule 3 */
	policy_eval(p, &f, &v);
	assert_int_equal(v.nat_rule->number, 3);
	assert_int_equal(addr_parse("10.20.3.4", &f.dst, &fam, err,
	    sizeof(err)), 0);			/* the exception, first */
	policy_eval(p, &f, &v);
	assert_int_equal(v.nat_rule->number, 1);
	assert_non_null(snat_text(p, &v, err, sizeof(err)));
	assert_non_null(strstr(err, "with its own source"));
	assert_true(policy_translated(p, &f, &v, &ts, &has_ts, &td));
	assert_true(has_ts && ts == f.src && td == f.dst);
	f.iface = policy_iface(p, "DMZ");	/* no rule: the masquerade */
	assert_int_equal(addr_parse("10.1.1.5", &f.src, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_DENY);	/* DMZ's default */
	assert_null(v.out);
	assert_false(policy_translated(p, &f, &v, &ts, &has_ts, &td));
	assert_int_equal(addr_parse("192.168.1.7", &f.dst, &fam, err,
	    sizeof(err)), 0);
	f.iface = policy_iface(p, "LAN");
	f.src = f.dst;
	assert_int_equal(addr_parse("10.1.1.5", &f.dst, &fam, err,
	    sizeof(err)), 0);			/* LAN to DMZ: no nat */
	policy_eval(p, &f, &v);
	assert_ptr_equal(v.out, policy_iface(p, "DMZ"));
	assert_int_equal(v.snat, SNAT_NONE);
	assert_null(snat_text(p, &v, err, sizeof(err)));
	policy_free(p);
	p = parse_ok("interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface DMZ device eth2 address 10.1.1.1/24 default accept\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "nat masquerade on WAN\n");
	f.iface = policy_iface(p, "DMZ");
	assert_int_equal(addr_parse("10.1.1.5", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("8.8.8.8", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.snat, SNAT_MASQUERADE);
	/* the masquerade's source: the WAN's address */
	assert_true(policy_translated(p, &f, &v, &ts, &has_ts, &td));
	assert_true(has_ts);
	addr_format(ts, a, sizeof(a));
	assert_string_equal(a, "203.0.113.2");
	assert_int_equal(td, f.dst);
	policy_free(p);
}

/* 1:1: inbound to the public block reaches the inside host of the same
 * offset, judged by the WAN's rules on the inside address; outbound, the
 * inside host leaves from its public address, ahead of the masquerade. */
static void
test_nat_one(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "nat one-to-one on WAN 198.51.100.8/29 to 192.168.1.16/29\n"
	    "accept on WAN from ANY to 192.168.1.19 service HTTP\n"
	    "nat masquerade on WAN\n");
	struct flow f = { policy_iface(p, "WAN"), 0, 0, 6, 80, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[100], a[ADDR_STRLEN];
	u128 ts, td;
	bool has_ts;

	(void)state;
	assert_int_equal(addr_parse("8.8.8.8", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("198.51.100.11", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_ACCEPT);
	assert_int_equal(v.by, BY_RULE);
	assert_non_null(v.one);
	addr_format(v.dst, a, sizeof(a));
	assert_string_equal(a, "192.168.1.19");
	/* the world's source kept, the inside destination */
	assert_true(policy_translated(p, &f, &v, &ts, &has_ts, &td));
	assert_true(has_ts && ts == f.src && td == v.dst);
	assert_int_equal(addr_parse("198.51.100.12", &f.dst, &fam, err,
	    sizeof(err)), 0);			/* .20: no rule, default */
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_DENY);
	f.iface = policy_iface(p, "LAN");
	assert_int_equal(addr_parse("192.168.1.22", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("8.8.8.8", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.snat, SNAT_ONE);
	addr_format(v.src, a, sizeof(a));
	assert_string_equal(a, "198.51.100.14");
	assert_true(policy_translated(p, &f, &v, &ts, &has_ts, &td));
	assert_true(has_ts && ts == v.src && td == f.dst);
	assert_int_equal(addr_parse("192.168.1.50", &f.src, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.snat, SNAT_MASQUERADE);
	policy_free(p);
}

/* 1:1 reflection (on by default): a LAN host that opens the public
 * address reaches the inside host, judged by the LAN's rules on the inside
 * address, its source rewritten to the gateway's address towards it; off,
 * the public address is not rewritten for internal hosts. */
static void
test_nat_one_reflection(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24 "
	    "address 2001:db8:1::1/64\n"
	    "interface DMZ device eth2 address 10.1.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "nat one-to-one on WAN 198.51.100.10 to 10.1.1.10\n"
	    "nat one-to-one on WAN 198.51.100.11 to 10.1.1.11 reflection off\n"
	    "nat one-to-one on WAN 2001:db8:99::10 to 2001:db8:1::10\n"
	    "deny on LAN to 10.1.1.10 service SSH\n"
	    "nat masquerade on WAN\n");
	struct flow f = { policy_iface(p, "LAN"), 0, 0, 6, 80, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[100], a[ADDR_STRLEN];
	const char *text;
	u128 ts, td;
	bool has_ts;
	struct strbuf b;

	(void)state;
	assert_true(p->nat_ones[0]->reflection);
	assert_false(p->nat_ones[1]->reflection);
	assert_int_equal(addr_parse("192.168.1.9", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("198.51.100.10", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_ACCEPT);	/* the LAN's default */
	assert_int_equal(v.by, BY_DEFAULT);
	assert_non_null(v.one);
	assert_true(v.reflected);
	assert_true(v.has_src);
	addr_format(v.dst, a, sizeof(a));
	assert_string_equal(a, "10.1.1.10");
	addr_format(v.src, a, sizeof(a));
	assert_string_equal(a, "10.1.1.1");	/* the DMZ side */
	assert_true(policy_translated(p, &f, &v, &ts, &has_ts, &td));
	assert_true(has_ts && ts == v.src && td == v.dst);
	strbuf_init(&b, 0);
	printer_verdict(p, &f, &v, &b);
	text = strbuf_str(&b);
	assert_non_null(strstr(text, "after one-to-one 1 to 10.1.1.10, "
	    "reflected: the source becomes 10.1.1.1"));
	strbuf_free(&b);
	f.dport = 22;				/* the LAN's rule: inside */
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_DENY);
	assert_int_equal(v.by, BY_RULE);
	f.dport = 80;
	assert_int_equal(addr_parse("198.51.100.11", &f.dst, &fam, err,
	    sizeof(err)), 0);			/* reflection off */
	policy_eval(p, &f, &v);
	assert_null(v.one);
	assert_false(v.reflected);
	assert_int_equal(v.dst, f.dst);
	assert_int_equal(addr_parse("2001:db8:1::9", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("2001:db8:99::10", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_true(v.reflected);
	addr_format(v.src, a, sizeof(a));
	assert_string_equal(a, "2001:db8:1::1");
	/* from the WAN: the 1:1 itself, not reflected */
	f.iface = policy_iface(p, "WAN");
	policy_eval(p, &f, &v);
	assert_non_null(v.one);
	assert_false(v.reflected);
	policy_free(p);
	p = parse("interface WAN device eth0 address 203.0.113.2/24\n"
	    "nat one-to-one on WAN 198.51.100.10 to 10.1.1.10 reflection "
	    "maybe\n");
	assert_false(policy_valid(p));
	policy_free(p);
}

static void
test_anti_lockout(void **state)
{
	static const char text[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "deny on LAN\n";
	struct policy *p = parse_ok(text);
	enum action a;
	char *off;

	(void)state;
	assert_int_equal(decide(p, "LAN", "192.168.1.9", "192.168.1.1", 6, 22,
	    &a), 0);
	assert_int_equal(a, ACT_ACCEPT);
	assert_int_equal(decide(p, "LAN", "192.168.1.9", "192.168.1.1", 6, 23,
	    &a), 1);
	assert_int_equal(a, ACT_DENY);
	policy_free(p);
	assert_int_equal(asprintf(&off, "%santi-lockout off\n", text) > 0, 1);
	p = parse_ok(off);
	assert_int_equal(decide(p, "LAN", "192.168.1.9", "192.168.1.1", 6, 22,
	    &a), 1);
	assert_int_equal(a, ACT_DENY);
	policy_free(p);
	free(off);
}

static void
test_firewall_off(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "firewall off\n"
	    "deny on LAN\n");
	enum action a;

	(void)state;
	assert_int_equal(decide(p, "LAN", "192.168.1.9", "8.8.8.8", 6, 25, &a),
	    0);
	assert_int_equal(a, ACT_ACCEPT);
	policy_free(p);
}

/* With the firewall off, the forwards and 1:1 lines are still compiled
 * (prerouting's DNAT): moat test said the connection went to the gateway
 * itself, unscanned, and a 1:1's left masqueraded (a review). */
static void
test_firewall_off_nat(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "firewall off\n"
	    "nat masquerade on WAN\n"
	    "forward on WAN service SMTP to 192.168.1.10\n"
	    "nat one-to-one on WAN 203.0.113.50 to 192.168.1.20\n"
	    "antivirus {\n"
	    "    engine clamd /run/clamav/clamd.ctl\n"
	    "    smtp-other-scanning on\n"
	    "}\n");
	struct flow f = { policy_iface(p, "WAN"), 0, 0, 6, 25, 0 };
	struct verdict v;
	struct strbuf b;
	enum addr_family fam;
	u128 inside;
	char err[100];

	(void)state;
	assert_int_equal(addr_parse("198.51.100.5", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("203.0.113.2", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_ACCEPT);
	assert_int_equal(v.by, BY_FIREWALL_OFF);
	assert_non_null(v.forward);
	assert_false(v.to_gateway);
	assert_int_equal(addr_parse("192.168.1.10", &inside, &fam, err,
	    sizeof(err)), 0);
	assert_true(v.dst == inside);
	assert_int_equal(policy_smtp_scan(p, &f, &v), SMTP_INTERCEPT_IN);
	strbuf_init(&b, 0);
	printer_verdict(p, &f, &v, &b);
	assert_non_null(strstr(strbuf_str(&b), "after forward 1 to "
	    "192.168.1.10"));
	strbuf_free(&b);

	/* the 1:1: to the host inside, not out through WAN */
	f.dport = 80;
	assert_int_equal(addr_parse("203.0.113.50", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.by, BY_FIREWALL_OFF);
	assert_non_null(v.one);
	assert_int_equal(addr_parse("192.168.1.20", &inside, &fam, err,
	    sizeof(err)), 0);
	assert_true(v.dst == inside);
	assert_true(v.out == policy_iface(p, "LAN"));
	assert_int_equal(v.snat, SNAT_NONE);
	policy_free(p);
}

/* What the kernel decides before the rules, said beside moat test's
 * verdict (a review, 2026-12-07): an ICMP reply or error never reaches
 * the rules as a connection of its own; the input chain accepts
 * neighbour discovery and loopback first; an echo request is the rules'.
 * moat check warns of a rule whose ICMP types never decide. */
static void
test_before_rules(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface V6 device eth2 address 2001:db8:1::1/64\n"
	    "interface LO device lo address 127.0.0.1/8\n"
	    "service ERRS icmp echo-reply,destination-unreachable\n"
	    "service ND icmpv6 nd-neighbor-solicit\n"
	    "accept on LAN from ANY to ANY service ERRS\n"
	    "deny on V6 from ANY to ANY service ND\n"
	    "accept on LAN from ANY to ANY service PING\n");
	struct flow f = { policy_iface(p, "LAN"), 0, 0, 1, 0, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[100];
	const char *why;
	size_t i, warned = 0;

	(void)state;
	assert_int_equal(addr_parse("192.168.1.9", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("8.8.8.8", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);			/* echo-reply (0) */
	assert_int_equal(v.by, BY_RULE);	/* the rules' verdict, still */
	assert_non_null(why = policy_before_rules(p, &f, &v));
	assert_non_null(strstr(why, "invalid"));
	f.dport = 3;				/* destination-unreachable */
	policy_eval(p, &f, &v);
	assert_non_null(why = policy_before_rules(p, &f, &v));
	assert_non_null(strstr(why, "related"));
	f.dport = 8;				/* echo-request: the rules */
	policy_eval(p, &f, &v);
	assert_null(policy_before_rules(p, &f, &v));
	f.proto = 6;
	f.dport = 80;
	policy_eval(p, &f, &v);
	assert_null(policy_before_rules(p, &f, &v));
	/* neighbour discovery to the gateway */
	f.iface = policy_iface(p, "V6");
	f.proto = 58;
	f.dport = 135;
	assert_int_equal(addr_parse("2001:db8:1::5", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("2001:db8:1::1", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_DENY);
	assert_non_null(why = policy_before_rules(p, &f, &v));
	assert_non_null(strstr(why, "neighbour discovery"));
	/* loopback */
	f.iface = policy_iface(p, "LO");
	f.proto = 6;
	f.dport = 80;
	assert_int_equal(addr_parse("127.0.0.1", &f.src, &fam, err,
	    sizeof(err)), 0);
	f.dst = f.src;
	policy_eval(p, &f, &v);
	assert_non_null(why = policy_before_rules(p, &f, &v));
	assert_non_null(strstr(why, "loopback"));
	/* the lint */
	assert_int_equal(lint_policy(p, NULL), 0);
	for (i = 0; i < p->diags.n; i++)
		if (strstr(p->diags.v[i].msg, "rule 1 never decides") != NULL)
			warned++;
	assert_int_equal(warned, 1);
	policy_free(p);
}

/* The DHCP client's replies that the input chain of an interface whose
 * address is dynamic accepts before its rules (nftc.c's compile_dispatch:
 * udp sport 67 dport 68, and DHCPv6 from fe80::/10 sport 547 dport 546),
 * broadcast too; not on a static interface, nor another port. */
static void
test_before_rules_dhcp(void **state)
{
	struct policy *p = parse_ok(
	    "interface WAN device eth0 address dynamic\n"
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "service BOOTPC udp 68\n"
	    "service DHCP6C udp 546\n"
	    "deny on WAN from ANY to ANY service BOOTPC\n"
	    "deny on WAN from ANY to ANY service DHCP6C\n"
	    "deny on LAN from ANY to ANY service BOOTPC\n");
	struct flow f = { policy_iface(p, "WAN"), 0, 0, 17, 68, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[100];
	const char *why;

	(void)state;
	assert_int_equal(addr_parse("203.0.113.1", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("255.255.255.255", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_DENY);	/* the rules' verdict */
	assert_non_null(why = policy_before_rules(p, &f, &v));
	assert_non_null(strstr(why, "from port 67: a DHCP reply"));
	f.dport = 67;				/* another port */
	policy_eval(p, &f, &v);
	assert_null(policy_before_rules(p, &f, &v));
	f.iface = policy_iface(p, "LAN");	/* a static interface */
	f.dport = 68;
	policy_eval(p, &f, &v);
	assert_null(policy_before_rules(p, &f, &v));
	f.iface = policy_iface(p, "WAN");	/* DHCPv6, from link-local */
	f.dport = 546;
	assert_int_equal(addr_parse("fe80::1", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("2001:db8::5", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_DENY);
	assert_non_null(why = policy_before_rules(p, &f, &v));
	assert_non_null(strstr(why, "from port 547: a DHCPv6 reply"));
	assert_int_equal(addr_parse("2001:db8::1", &f.src, &fam, err,
	    sizeof(err)), 0);			/* not link-local */
	policy_eval(p, &f, &v);
	assert_null(policy_before_rules(p, &f, &v));
	policy_free(p);
}

/* An HA secret under HA_SECRET_MIN characters is warned of (its HMACs
 * can be had by whoever the console names as the peer); "shared secret"
 * is not. */
static void
test_ha_secret_short(void **state)
{
	static const char *const secrets[] = { "tenchars10", "shared secret" };
	struct policy *p;
	size_t i, k, warned;
	char text[512];

	(void)state;
	for (k = 0; k < 2; k++) {
		snprintf(text, sizeof(text),
		    "interface LAN device eth1 address 192.168.1.1/24\n"
		    "interface SYNC device eth2 address 10.99.0.1/24\n"
		    "ha {\n  peer 10.99.0.2\n  sync-interface SYNC\n"
		    "  vip LAN 192.168.1.254/24\n  priority 100\n"
		    "  secret \"%s\"\n}\n", secrets[k]);
		p = parse_ok(text);
		assert_int_equal(lint_policy(p, NULL), 0);
		for (i = 0, warned = 0; i < p->diags.n; i++)
			warned += strstr(p->diags.v[i].msg, "is short") != NULL;
		assert_int_equal(warned, k == 0 ? 1 : 0);
		policy_free(p);
	}
}

/* Errors stop at the cap, and every one has a position. */
static void
test_many_errors(void **state)
{
	struct strbuf b;
	struct policy *p;
	size_t i;

	(void)state;
	strbuf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		strbuf_puts(&b, "bogus line\n");
	p = parse(strbuf_str(&b));
	assert_int_equal(p->diags.nerrors, 20);
	for (i = 0; i < p->diags.n; i++)
		assert_true(p->diags.v[i].loc.line > 0);
	policy_free(p);
	strbuf_free(&b);
}

/* Malformed input of any kind: an error, never a crash or a hang. */
static void
test_hostile_input(void **state)
{
	struct rng r = { 42 };
	struct policy *p;
	char *big;
	size_t i, n = 1 << 20;
	struct strbuf b;

	(void)state;
	big = malloc(n + 1);
	assert_non_null(big);
	for (i = 0; i < n; i++)		/* binary junk */
		big[i] = (char)rng_next(&r);
	p = parse(big);
	assert_false(policy_valid(p));
	policy_free(p);
	p = policy_parse("t.conf", big, n);	/* with NULs, by length */
	assert_non_null(p);
	assert_false(policy_valid(p));
	policy_free(p);
	memset(big, 'a', n);			/* a 1 MB word */
	big[n] = '\0';
	p = parse(big);
	assert_false(policy_valid(p));
	assert_non_null(strstr(p->diags.v[0].msg, "longer than 255"));
	policy_free(p);
	for (i = 0; i < n; i++)			/* a 1 MB line of tokens */
		big[i] = i % 2 ? ' ' : '{';
	p = parse(big);
	assert_false(policy_valid(p));
	policy_free(p);
	memset(big, '"', n);			/* 1 MB of quotes */
	p = parse(big);
	assert_false(policy_valid(p));
	policy_free(p);
	free(big);

	/* Deep nesting through objects is capped, not recursed without end. */
	strbuf_init(&b, 0);
	strbuf_puts(&b, "object O0 10.0.0.1\n");
	for (i = 1; i < 5000; i++)
		strbuf_printf(&b, "object O%zu { O%zu }\n", i, i - 1);
	p = parse(strbuf_str(&b));
	assert_false(policy_valid(p));
	assert_non_null(strstr(p->diags.v[0].msg, "deep; the limit is 32"));
	policy_free(p);
	strbuf_reset(&b);	/* the same, defined in the other order */
	for (i = 4999; i > 0; i--)
		strbuf_printf(&b, "object O%zu { O%zu }\n", i, i - 1);
	strbuf_puts(&b, "object O0 10.0.0.1\n");
	p = parse(strbuf_str(&b));
	assert_false(policy_valid(p));
	assert_non_null(strstr(p->diags.v[0].msg, "deep"));
	policy_free(p);
	strbuf_reset(&b);
	for (i = 0; i < 100000; i++)
		strbuf_puts(&b, "object X { ");
	p = parse(strbuf_str(&b));
	assert_false(policy_valid(p));
	policy_free(p);
	strbuf_free(&b);
}

static void
test_nearest_name(void **state)
{
	static const char *const names[] = { "MAILSERVER", "WEBSERVER", "LAN" };

	(void)state;
	assert_string_equal(nearest_name("MAILSEVER", names, 3), "MAILSERVER");
	assert_string_equal(nearest_name("mailserver", names, 3), "MAILSERVER");
	assert_string_equal(nearest_name("LNA", names, 3), "LAN");
	assert_null(nearest_name("PRINTERS", names, 3));
}

static void
test_addr_literals(void **state)
{
	struct addr_lit l;
	char err[160], hint[100], out[100];

	(void)state;
	assert_int_equal(addr_parse_lit("192.168.1.10/255.255.255.255", false,
	    &l, err, sizeof(err), hint, sizeof(hint)), 0);
	assert_int_equal(l.kind, LIT_HOST);
	addr_lit_format(&l, out, sizeof(out));
	assert_string_equal(out, "192.168.1.10");
	assert_int_equal(addr_parse_lit("10.0.0.0/255.255.0.0", false, &l, err,
	    sizeof(err), hint, sizeof(hint)), 0);
	addr_lit_format(&l, out, sizeof(out));
	assert_string_equal(out, "10.0.0.0/16");
	assert_int_equal(addr_parse_lit("0.0.0.0/0.0.0.0", false, &l, err,
	    sizeof(err), hint, sizeof(hint)), 0);
	assert_int_equal(l.plen, 0);
	assert_int_equal(addr_parse_lit("10.1.2.3/8", false, &l, err,
	    sizeof(err), hint, sizeof(hint)), -1);
	assert_string_equal(hint, "10.0.0.0/8");
	assert_int_equal(addr_parse_lit("2001:DB8::/32", false, &l, err,
	    sizeof(err), hint, sizeof(hint)), 0);
	addr_lit_format(&l, out, sizeof(out));
	assert_string_equal(out, "2001:db8::/32");
	assert_int_equal(addr_parse_lit("::/0", false, &l, err, sizeof(err),
	    hint, sizeof(hint)), 0);
	assert_true(l.lo == 0 && l.hi == U128_MAX);
	assert_int_equal(addr_parse_lit("10.0.0.1/255.255.0.255", false, &l,
	    err, sizeof(err), hint, sizeof(hint)), -1);
	assert_non_null(strstr(err, "not contiguous"));
}

/* Interval sets against a bit array over a small universe. */
static void
test_iset_ops(void **state)
{
	struct rng r = { 7 };
	struct arena a;
	int round, i;

	(void)state;
	arena_init(&a);
	for (round = 0; round < 2000; round++) {
		bool x[64], y[64];
		struct ival vx[8], vy[8];
		struct iset sx, sy, u, in, d, c;
		int nx = (int)rng_below(&r, 6), ny = (int)rng_below(&r, 6);

		memset(x, 0, sizeof(x));
		memset(y, 0, sizeof(y));
		for (i = 0; i < nx; i++) {
			unsigned lo = (unsigned)rng_below(&r, 64);
			unsigned hi = lo + (unsigned)rng_below(&r, 64 - lo);

			vx[i].lo = lo;
			vx[i].hi = hi;
			for (; lo <= hi; lo++)
				x[lo] = true;
		}
		for (i = 0; i < ny; i++) {
			unsigned lo = (unsigned)rng_below(&r, 64);
			unsigned hi = lo + (unsigned)rng_below(&r, 64 - lo);

			vy[i].lo = lo;
			vy[i].hi = hi;
			for (; lo <= hi; lo++)
				y[lo] = true;
		}
		sx = iset_from(&a, vx, (size_t)nx);
		sy = iset_from(&a, vy, (size_t)ny);
		u = iset_union(&a, sx, sy);
		in = iset_inter(&a, sx, sy);
		d = iset_diff(&a, sx, sy);
		c = iset_complement(&a, sx, 0, 63);
		for (i = 0; i < 64; i++) {
			assert_int_equal(iset_contains(sx, (u128)i), x[i]);
			assert_int_equal(iset_contains(u, (u128)i), x[i] || y[i]);
			assert_int_equal(iset_contains(in, (u128)i), x[i] && y[i]);
			assert_int_equal(iset_contains(d, (u128)i), x[i] && !y[i]);
			assert_int_equal(iset_contains(c, (u128)i), !x[i]);
		}
		assert_int_equal(iset_overlaps(sx, sy), !iset_empty(in));
		assert_int_equal(iset_subset(sx, sy), iset_empty(d));
		assert_true(iset_equal(iset_union(&a, in, d), sx));
	}
	/* The ends of the space. */
	{
		struct iset all = iset_range(&a, 0, U128_MAX);
		struct iset none = iset_complement(&a, all, 0, U128_MAX);

		assert_true(iset_empty(none));
		assert_true(iset_equal(iset_complement(&a, none, 0, U128_MAX),
		    all));
		assert_true(iset_contains(all, U128_MAX));
	}
	arena_free(&a);
}

/* What the console may not change: each setting that names a file, a
 * user or a secret of a privileged process, named when it differs; the
 * rest (a rule, the session timeout) changes freely. */
/* A config to enforce that others can read while it holds the HA secret:
 * a warning (moatd logs it, moat apply says it), not with 0600, and none
 * for a config without the secret. */
static void
test_secret_readable(void **state)
{
	static const char with[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface SYNC device eth2 address 10.99.0.1/24\n"
	    "ha {\n    peer 10.99.0.2\n    sync-interface SYNC\n"
	    "    vip LAN 192.168.1.254/24\n    secret \"secret-one\"\n}\n";
	char path[] = "/tmp/moat-secret-XXXXXX", err[256];
	struct policy *p;
	size_t i, warned;
	int fd, round;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, with, sizeof(with) - 1),
	    (ssize_t)sizeof(with) - 1);
	close(fd);
	for (round = 0; round < 3; round++) {
		assert_int_equal(chmod(path, round == 0 ? 0644 : round == 1 ?
		    0640 : 0600), 0);
		assert_non_null(p = policy_load_trusted(path, err,
		    sizeof(err)));
		assert_true(policy_valid(p));
		for (i = warned = 0; i < p->diags.n; i++)
			if (p->diags.v[i].severity == DIAG_WARNING &&
			    strstr(p->diags.v[i].msg, "chmod go-r") != NULL)
				warned++;
		assert_int_equal(warned, round < 2 ? 1 : 0);
		policy_free(p);
	}
	/* the same mode, no secret: nothing to say */
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	assert_int_equal(write(fd, with, 50), 50);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_non_null(p = policy_load_trusted(path, err, sizeof(err)));
	for (i = 0; i < p->diags.n; i++)
		assert_int_not_equal(p->diags.v[i].severity, DIAG_WARNING);
	policy_free(p);
	unlink(path);
}

static void
test_privileged_change(void **state)
{
	static const char base[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface SYNC device eth2 address 10.99.0.1/24\n"
	    "console {\n    users /etc/moat/users\n    session-timeout 5m\n}\n"
	    "ha {\n    peer 10.99.0.2\n    sync-interface SYNC\n"
	    "    vip LAN 192.168.1.254/24\n    secret \"secret-one\"\n}\n";
	static const struct {
		const char	*add, *from, *to, *what;
	} cases[] = {
		{ "logging {\n    metrics-file /run/moat/other.prom\n}\n", NULL, NULL,
		    "logging { metrics-file }" },
		{ "logging {\n    directory /var/lib/moat/x\n}\n", NULL, NULL,
		    "logging { directory }" },
		{ NULL, "session-timeout 5m", "user nobody", "console { user }" },
		{ NULL, "session-timeout 5m", "certificate /etc/moat/c.pem",
		    "console { certificate }" },
		{ NULL, "session-timeout 5m", "key /etc/moat/c.key",
		    "console { key }" },
		{ NULL, "users /etc/moat/users", "users /etc/moat/users2",
		    "console { users }" },
		{ NULL, "secret \"secret-one\"", "secret \"secret-two\"", "ha { secret }" },
		{ NULL, "session-timeout 5m", "session-timeout 6m", NULL },
		/* Read by moatd-feeds (moat-feeds, no privilege), never by
		 * root: the console may change them (doc/design/console.md). */
		{ "geoip-database /var/lib/GeoIP/GeoLite2-Country.mmdb\n"
		    "object HOME country DE\n", NULL, NULL, NULL },
		{ "dns-min-ttl 10s\ndns-max-ttl 2h\n", NULL, NULL, NULL },
		{ "object DROP url file:///var/lib/moat/drop.txt\n", NULL,
		    NULL, NULL },
		{ "deny on LAN from ANY to ANY service SMTP\n", NULL, NULL, NULL },
	};
	struct policy *was = parse_ok(base), *now;
	char text[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *what;

		if (cases[i].add != NULL)
			snprintf(text, sizeof(text), "%s%s", base, cases[i].add);
		else {
			const char *at = strstr(base, cases[i].from);

			assert_non_null(at);
			snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - base),
			    base, cases[i].to, at + strlen(cases[i].from));
		}
		now = parse_ok(text);
		what = policy_privileged_change(was, now);
		if (cases[i].what == NULL)
			assert_null(what);
		else {
			assert_non_null(what);
			assert_string_equal(what, cases[i].what);
		}
		policy_free(now);
	}
	assert_null(policy_privileged_change(was, was));
	policy_free(was);
	/* A secret with a backslash, printed canonical (the console's
	 * editor, moat show) and read back: the same secret. */
	{
		struct strbuf b;
		const char *at = strstr(base, "secret-one");

		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - base), base,
		    "back\\\\slash", at + strlen("secret-one"));
		was = parse_ok(text);
		assert_string_equal(was->ha.secret, "back\\slash");
		strbuf_init(&b, 0);
		printer_policy(was, &b);
		now = parse_ok(strbuf_str(&b));
		assert_string_equal(now->ha.secret, "back\\slash");
		strbuf_free(&b);
		policy_free(now);
		policy_free(was);
	}
}

#define WM(day, h, m)	((unsigned)((day) * SCHED_DAY + (h) * 60 + (m)))

/* Windows: a day's, one past midnight (it belongs to the day it starts
 * on, Saturday night into Sunday across the week's end), 24:00. */
static void
test_schedule_windows(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "schedule office mon-fri 08:00-18:00\n"
	    "schedule night fri,sat 22:00-06:00\n"
	    "schedule late sun 20:00-24:00\n"
	    "accept on LAN service SSH schedule office\n"
	    "deny on LAN service HTTP schedule night\n"
	    "accept on LAN service HTTPS schedule late\n");
	const struct rule *office = p->rules[0], *night = p->rules[1];
	const struct rule *late = p->rules[2];

	(void)state;
	assert_true(policy_rule_open(office, WM(1, 8, 0)));
	assert_true(policy_rule_open(office, WM(5, 17, 59)));
	assert_false(policy_rule_open(office, WM(5, 18, 0)));
	assert_false(policy_rule_open(office, WM(1, 7, 59)));
	assert_false(policy_rule_open(office, WM(6, 12, 0)));
	assert_true(policy_rule_open(night, WM(5, 22, 0)));
	assert_true(policy_rule_open(night, WM(6, 5, 59)));	/* Fri's */
	assert_false(policy_rule_open(night, WM(6, 6, 0)));
	assert_true(policy_rule_open(night, WM(0, 5, 59)));	/* Sat's */
	assert_false(policy_rule_open(night, WM(0, 22, 0)));
	assert_false(policy_rule_open(night, WM(5, 5, 0)));	/* Thu none */
	assert_true(policy_rule_open(late, WM(0, 23, 59)));
	assert_false(policy_rule_open(late, WM(1, 0, 0)));
	/* Marks for the scheduled accepts only, in order. */
	assert_int_equal(office->sched_mark, 1);
	assert_int_equal(night->sched_mark, 0);
	assert_int_equal(late->sched_mark, 2);
	policy_free(p);
}

static bool
has_piece(const struct sched_piece *v, size_t n, unsigned days, unsigned lo,
    unsigned hi)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].days == days && v[i].lo == lo && v[i].hi == hi)
			return true;
	return false;
}

/* The kernel's frames: hours in UTC, days in UTC shifted by sys_tz. */
static void
test_schedule_kernel(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "schedule s mon 00:30-01:30\n"
	    "schedule w mon-fri 08:00-18:00\n"
	    "accept on LAN schedule s\naccept on LAN schedule w\n");
	struct sched_frame paris = { 60, 0 }, paris_rtc = { 60, -60 };
	struct sched_frame utc = { 0, 0 };
	struct sched_piece *v;
	struct arena a;
	size_t n;

	(void)state;
	arena_init(&a);
	/* Local 00:30-01:30 Monday at UTC+1: Sunday 23:30 to Monday 00:30
	 * UTC, cut at UTC's midnight. */
	n = schedule_kernel_pieces(&a, p->scheds[0], &paris, &v);
	assert_int_equal(n, 2);
	assert_true(has_piece(v, n, 1u << 0, 84600, 86399));
	assert_true(has_piece(v, n, 1u << 1, 0, 1799));
	/* sys_tz one hour east: the kernel's day is Monday for both. */
	n = schedule_kernel_pieces(&a, p->scheds[0], &paris_rtc, &v);
	assert_int_equal(n, 2);
	assert_true(has_piece(v, n, 1u << 1, 84600, 86399));
	assert_true(has_piece(v, n, 1u << 1, 0, 1799));
	/* Office hours: one condition over five days. */
	n = schedule_kernel_pieces(&a, p->scheds[1], &paris, &v);
	assert_int_equal(n, 1);
	assert_true(has_piece(v, n, 0x3e, 7 * 3600, 17 * 3600 - 1));
	n = schedule_kernel_pieces(&a, p->scheds[1], &utc, &v);
	assert_true(n == 1 && has_piece(v, n, 0x3e, 8 * 3600, 18 * 3600 - 1));
	arena_free(&a);
	policy_free(p);
}

/* Lint: a scheduled rule never shadows what follows it; it is shadowed
 * by an earlier unscheduled rule, or one whose windows hold its own. */
static void
test_schedule_lint(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "schedule night daily 22:00-06:00\n"
	    "schedule late daily 23:00-01:00\n"
	    "schedule day daily 09:00-17:00\n"
	    "schedule unused daily 09:00-10:00\n"
	    "deny on LAN service HTTP schedule night\n"
	    "deny on LAN service HTTP schedule late\n"
	    "deny on LAN service HTTP schedule day\n"
	    "deny on LAN service HTTP\n"
	    "accept on LAN service HTTP schedule day\n");
	size_t i;
	bool unused = false;

	(void)state;
	assert_int_equal(lint_policy(p, NULL), 0);
	assert_false(p->rules[0]->dead);
	assert_true(p->rules[1]->dead);		/* night holds late */
	assert_false(p->rules[2]->dead);
	assert_false(p->rules[3]->dead);	/* not by 1-3 */
	assert_true(p->rules[4]->dead);		/* by rule 4 */
	for (i = 0; i < p->diags.n; i++)
		unused |= strstr(p->diags.v[i].msg, "schedule unused is not "
		    "used") != NULL;
	assert_true(unused);
	policy_free(p);
}

static void
test_schedule_errors(void **state)
{
	static const char *const bad[] = {
		"schedule s mon 08:00-08:00\n",	/* empty */
		"schedule s mon 24:00-08:00\n",	/* 24:00 only ends */
		"schedule s mon 08:00-24:01\n",
		"schedule s fre 08:00-09:00\n",
		"schedule s mon 0800-0900\n",
		"schedule s mon\n",
		"schedule s\n",
		"schedule s mon 08:00-09:00\nschedule s tue 08:00-09:00\n",
		"accept on LAN schedule nosuch\n",
	};
	char text[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy *p;

		snprintf(text, sizeof(text), "interface LAN device eth1\n%s",
		    bad[i]);
		p = parse(text);
		if (policy_valid(p))
			fail_msg("valid: %s", bad[i]);
		policy_free(p);
	}
}

/* Gateways: the helpers moatd's runtime calls (policy.h), the default in
 * force per family, choice indices, the option's family, and the limits. */
static void
test_gateways(void **state)
{
	struct policy *p = parse_ok(
	    "interface LAN device eth1 address 192.168.1.1/24 "
	    "address 2001:db8:1::1/64\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "interface LTE device wwan0 address dynamic\n"
	    "gateway a on WAN via 203.0.113.1\n"
	    "gateway b on LTE via 10.0.0.1 monitor 1.1.1.1 loss 5% "
	    "latency 250ms\n"
	    "gateway c on LTE via fe80::1\n"
	    "gateway-group g a b tier 2\n"
	    "accept on LAN from 192.168.1.7 gateway b\n"
	    "accept on LAN service HTTPS gateway g\n"
	    "accept on LAN gateway c disabled\n");
	const struct gw_ref *d;
	struct flow f = { policy_iface(p, "LAN"), 0, 0, 6, 443, 0 };
	struct verdict v;
	enum addr_family fam;
	char err[200];
	int i;

	(void)state;
	assert_int_equal(p->ngateway, 3);
	assert_ptr_equal(policy_gateway_at(p, 2), policy_gateway(p, "b"));
	assert_null(policy_gateway_at(p, 4));
	assert_null(policy_gateway(p, "g"));
	assert_int_equal(policy_gateway(p, "b")->loss, 5);
	assert_int_equal(policy_gateway(p, "b")->latency, 250);
	assert_int_equal(policy_gateway(p, "a")->loss, GW_LOSS_DEFAULT);
	assert_int_equal(policy_gateway(p, "a")->latency, GW_LATENCY_DEFAULT);
	assert_true(policy_gateway(p, "a")->monitor.lo ==
	    policy_gateway(p, "a")->via.lo);
	/* IPv4: the only group, implied; IPv6: none (c is no group). */
	d = policy_default_gw(p, FAM_V4);
	assert_non_null(d);
	assert_true(d->implied);
	assert_ptr_equal(d->group, policy_gwgroup(p, "g"));
	assert_int_equal(policy_gw_choice(d), GW_MAX + 1);
	assert_null(policy_default_gw(p, FAM_V6));
	assert_int_equal(policy_gw_choice(&p->rules[0]->gw), 2);
	assert_ptr_equal(policy_gw_choice_ref(p, 2), &p->rules[0]->gw);
	assert_ptr_equal(policy_gw_choice_ref(p, GW_MAX + 1),
	    &p->rules[1]->gw);
	assert_null(policy_gw_choice_ref(p, 3));	/* disabled */
	assert_int_equal(policy_gw_family(&p->rules[1]->gw), FAM_V4);
	assert_true(policy_rule_gw_applies(p->rules[1], FAM_V4));
	assert_false(policy_rule_gw_applies(p->rules[1], FAM_V6));
	assert_int_equal(GW_MARK_CHOICE(GW_MAX + 1) & ~GW_MARK_MASK, 0);
	assert_int_equal(GW_MARK_CHOICE(GW_MAX + GW_GROUP_MAX) >> 16, 254);
	/* moat test: the group's option sends HTTPS out of its tier 1. */
	assert_int_equal(addr_parse("192.168.1.20", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("8.8.8.8", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_ptr_equal(v.gw, &p->rules[1]->gw);
	assert_ptr_equal(v.out, policy_iface(p, "WAN"));
	assert_non_null(gw_text(&v, err, sizeof(err)));
	assert_non_null(strstr(err, "gateway-group g"));
	/* ... but not to a network of the gateway's own link. */
	assert_int_equal(addr_parse("203.0.113.9", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_null(v.gw);
	/* IPv6: the option is IPv4's only. */
	assert_int_equal(addr_parse("2001:db8:1::5", &f.src, &fam, err,
	    sizeof(err)), 0);
	assert_int_equal(addr_parse("2001:db8:99::1", &f.dst, &fam, err,
	    sizeof(err)), 0);
	policy_eval(p, &f, &v);
	assert_int_equal(v.action, ACT_ACCEPT);
	assert_null(v.gw);
	policy_free(p);

	/* Written defaults go to their families' places, in either order. */
	p = parse_ok("interface WAN device eth0 address 203.0.113.2/24 "
	    "address 2001:db8:2::2/64\n"
	    "gateway a on WAN via 203.0.113.1\n"
	    "gateway a6 on WAN via 2001:db8:2::1\n"
	    "gateway-group g a\ngateway-group h a\n"
	    "default-gateway a6 h\n");
	assert_ptr_equal(policy_default_gw(p, FAM_V4)->group,
	    policy_gwgroup(p, "h"));
	assert_false(policy_default_gw(p, FAM_V4)->implied);
	assert_ptr_equal(policy_default_gw(p, FAM_V6)->gw,
	    policy_gateway(p, "a6"));
	policy_free(p);

	/* GW_MAX gateways, and not one more. */
	{
		struct strbuf b;

		strbuf_init(&b, 0);
		strbuf_puts(&b, "interface WAN device eth0 address "
		    "10.0.0.1/16\n");
		for (i = 0; i < GW_MAX; i++)
			strbuf_printf(&b, "gateway g%d on WAN via 10.0.1.%d\n",
			    i, i + 1);
		p = parse(strbuf_str(&b));
		assert_true(policy_valid(p));
		policy_free(p);
		strbuf_puts(&b, "gateway over on WAN via 10.0.2.1\n");
		p = parse(strbuf_str(&b));
		assert_false(policy_valid(p));
		policy_free(p);
		strbuf_free(&b);
	}
}

/* Rule ids: the FNV-1a of the line moat show prints, comment left out;
 * two rules with one line get two ids, the first the one it has alone;
 * a rule's id and log prefix survive rules added, removed or moved around
 * it, and every logging rule's prefix is the same in both rulesets. */

/* A rule inserted at the top renumbers the others but changes none of
 * their lines in the compiled ruleset: every name a rule's kernel form
 * carries is its id (an incremental apply diffs these lines). */
static void
test_insert_keeps_lines(void **state)
{
	const char *head = "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address dynamic\n"
	    "logging {\n  rate 5\n}\n";
	const char *rules =
	    "accept on LAN from 192.168.1.10 to ANY service SMTP log\n"
	    "deny on LAN from ANY to { WANIP, 10.0.0.1 } service SMTP\n"
	    "reject on WAN from 198.51.100.0/24 to ANY log\n"
	    "accept on LAN from ANY to ANY service HTTPS\n";
	char *a = NULL, *b = NULL, *line, *save = NULL;
	struct policy *pa, *pb;
	struct strbuf ca, cb;
	int lines = 0;

	(void)state;
	assert_true(asprintf(&a, "%s%s", head, rules) > 0);
	assert_true(asprintf(&b, "%sdeny on LAN from 192.168.1.66 to ANY "
	    "log\n%s", head, rules) > 0);
	pa = parse_ok(a);
	pb = parse_ok(b);
	assert_true(pb->rules[1]->id == pa->rules[0]->id &&
	    pb->rules[1]->number == 2);
	strbuf_init(&ca, 0);
	strbuf_init(&cb, 0);
	assert_int_equal(nftc_compile(pa, &ca), 0);
	assert_int_equal(nftc_compile(pb, &cb), 0);
	/* every line of a rule (its comment, log chain, counter, side's
	 * set) is in the ruleset with the rule inserted, as it was */
	for (line = strtok_r(ca.s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "rule") == NULL && strstr(line, "log_") ==
		    NULL)
			continue;
		lines++;
		if (strstr(strbuf_str(&cb), line) == NULL)
			fail_msg("line lost by an insertion: %s", line);
	}
	assert_true(lines >= 12);
	strbuf_free(&ca);
	strbuf_free(&cb);
	policy_free(pa);
	policy_free(pb);
	free(a);
	free(b);
}

static void
test_rule_ids(void **state)
{
	const char *a = "interface LAN device eth1 address 192.168.1.1/24\n"
	    "object MAIL 192.168.1.10\n"
	    "deny on LAN from ANY to ANY service SMTP log\n"
	    "accept on LAN from MAIL to ANY service SMTP log comment \"x\"\n"
	    "deny on LAN from ANY to ANY service SMTP log\n";
	const char *b = "interface LAN device eth1 address 192.168.1.1/24\n"
	    "object MAIL 192.168.1.11\n"
	    "accept on LAN from MAIL to ANY service SMTP log comment \"y\"\n"
	    "reject on LAN from ANY to ANY service HTTP log\n"
	    "deny on LAN from ANY to ANY service SMTP log\n";
	struct policy *pa, *pb;
	struct strbuf line, na, nb;
	char prefix[64];
	size_t i;

	(void)state;
	pa = policy_parse("a.conf", a, strlen(a));
	pb = policy_parse("b.conf", b, strlen(b));
	assert_true(policy_valid(pa) && policy_valid(pb));
	strbuf_init(&line, 0);
	printer_rule(pa->rules[0], &line, false);
	assert_string_equal(strbuf_str(&line),
	    "deny on LAN from ANY to ANY service SMTP log");
	assert_true(pa->rules[0]->id == fnv1a(line.s, line.len));
	assert_true(pa->rules[0]->id == policy_rule_id(pa->rules[0]));
	assert_true(pa->rules[2]->id == fnv1a_add(pa->rules[0]->id, "+", 1));
	/* The first of the twins in b is a's first, moved down. */
	assert_true(pb->rules[2]->id == pa->rules[0]->id);
	/* An object's contents and the comment are no part of the id. */
	assert_true(pb->rules[0]->id == pa->rules[1]->id);
	for (i = 0; i < pa->nrule; i++)
		assert_true(policy_rule_by_id(pa, pa->rules[i]->id) ==
		    pa->rules[i]);
	assert_null(policy_rule_by_id(pa, pb->rules[1]->id));
	strbuf_init(&na, 0);
	strbuf_init(&nb, 0);
	assert_int_equal(nftc_compile(pa, &na), 0);
	assert_int_equal(nftc_compile(pb, &nb), 0);
	for (i = 0; i < 2; i++) {
		snprintf(prefix, sizeof(prefix), "prefix \"moat i%016llx %s\"",
		    (unsigned long long)pa->rules[i]->id, i == 0 ? "deny" :
		    "accept");
		assert_non_null(strstr(strbuf_str(&na), prefix));
		assert_non_null(strstr(strbuf_str(&nb), prefix));
	}
	strbuf_free(&line);
	strbuf_free(&na);
	strbuf_free(&nb);
	policy_free(pa);
	policy_free(pb);
}

/* A port forward's, nat source rule's and one-to-one line's id, as a
 * rule's: the FNV-1a of its canonical line, twins told apart in file
 * order, each kind in an index of its own; an entry put above another
 * changes neither the other's id nor a line of its kernel form. */
static void
test_entry_ids(void **state)
{
	const char *head =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 203.0.113.2/24\n"
	    "nat masquerade on WAN\n";
	const char *a_tail =
	    "object MAIL 192.168.1.10\n"
	    "forward on WAN service SMTP to MAIL\n"
	    "forward on WAN service HTTP to 192.168.1.20 reflection off\n"
	    "nat source on WAN from 192.168.1.25 translate 203.0.113.25\n"
	    "nat source on WAN from LANNET to ANY translate masquerade\n"
	    "nat source on WAN from 192.168.1.25 translate 203.0.113.25\n"
	    "nat one-to-one on WAN 203.0.113.10 to 192.168.1.10\n";
	const char *b_tail =
	    "object MAIL 192.168.1.10\n"
	    "forward on WAN service SSH to 192.168.1.22\n"
	    "forward on WAN service SMTP to MAIL\n"
	    "forward on WAN service HTTP to 192.168.1.20 reflection off\n"
	    "nat source on WAN from 192.168.1.26 translate 203.0.113.26\n"
	    "nat source on WAN from 192.168.1.25 translate 203.0.113.25\n"
	    "nat source on WAN from LANNET to ANY translate masquerade\n"
	    "nat source on WAN from 192.168.1.25 translate 203.0.113.25\n"
	    "nat one-to-one on WAN 203.0.113.11 to 192.168.1.11\n"
	    "nat one-to-one on WAN 203.0.113.10 to 192.168.1.10\n";
	struct policy *pa, *pb;
	struct strbuf line, ca, cb;
	char *a, *b, *l, *save = NULL;
	size_t i, lines = 0;

	(void)state;
	assert_true(asprintf(&a, "%s%s", head, a_tail) > 0);
	assert_true(asprintf(&b, "%s%s", head, b_tail) > 0);
	pa = parse_ok(a);
	pb = parse_ok(b);
	strbuf_init(&line, 0);
	printer_forward(pa->forwards[0], &line);
	assert_string_equal(strbuf_str(&line),
	    "forward on WAN service SMTP to MAIL");
	assert_true(pa->forwards[0]->id == fnv1a(line.s, line.len));
	assert_true(pa->forwards[0]->id == policy_forward_id(pa->forwards[0]));
	strbuf_free(&line);
	strbuf_init(&line, 0);
	policy_nat_one_line(pa->nat_ones[0], &line);
	assert_string_equal(strbuf_str(&line),
	    "nat one-to-one on WAN 203.0.113.10 to 192.168.1.10");
	assert_true(pa->nat_ones[0]->id == fnv1a(line.s, line.len));
	strbuf_free(&line);
	assert_true(pa->nat_rules[0]->id ==
	    policy_nat_rule_id(pa->nat_rules[0]));
	/* twins: the second takes the first's id hashed again */
	assert_true(pa->nat_rules[2]->id ==
	    fnv1a_add(pa->nat_rules[0]->id, "+", 1));
	/* moved down by an entry put above: the same ids */
	for (i = 0; i < pa->nforward; i++)
		assert_true(pb->forwards[i + 1]->id == pa->forwards[i]->id);
	for (i = 0; i < pa->nnat_rule; i++)
		assert_true(pb->nat_rules[i + 1]->id == pa->nat_rules[i]->id);
	assert_true(pb->nat_ones[1]->id == pa->nat_ones[0]->id);
	/* each kind by its own index */
	for (i = 0; i < pb->nforward; i++)
		assert_true(policy_forward_by_id(pb, pb->forwards[i]->id) ==
		    pb->forwards[i]);
	for (i = 0; i < pb->nnat_rule; i++)
		assert_true(policy_nat_rule_by_id(pb, pb->nat_rules[i]->id) ==
		    pb->nat_rules[i]);
	assert_true(policy_nat_one_by_id(pb, pb->nat_ones[0]->id) ==
	    pb->nat_ones[0]);
	assert_null(policy_forward_by_id(pa, pb->forwards[0]->id));
	assert_null(policy_nat_rule_by_id(pb, pb->forwards[0]->id));
	assert_null(policy_nat_one_by_id(pb, pb->nat_rules[0]->id));
	assert_null(policy_forward_by_id(pb, pb->nat_ones[0]->id));
	assert_int_equal(policy_id_find(&pb->forward_ids, pa->forwards[1]->id),
	    2);
	/* the kernel names them by id: the lines of a's forwards, nat
	 * source rules and 1:1 are in b's ruleset as they were */
	strbuf_init(&ca, 0);
	strbuf_init(&cb, 0);
	assert_int_equal(nftc_compile(pa, &ca), 0);
	assert_int_equal(nftc_compile(pb, &cb), 0);
	for (l = strtok_r(ca.s, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		if (strstr(l, "forward") == NULL && strstr(l, "nat") == NULL &&
		    strstr(l, "one") == NULL)
			continue;
		if (strstr(l, "compiled by moat") != NULL ||
		    strstr(l, "chain ") != NULL)
			continue;
		lines++;
		if (strstr(strbuf_str(&cb), l) == NULL)
			fail_msg("line lost by an insertion: %s", l);
	}
	assert_true(lines >= 15);
	assert_null(strstr(strbuf_str(&cb), "forward_1"));
	assert_null(strstr(strbuf_str(&cb), "\"forward 1"));
	assert_null(strstr(strbuf_str(&cb), "nat_source_1"));
	assert_null(strstr(strbuf_str(&cb), "one_to_one_1"));
	strbuf_free(&ca);
	strbuf_free(&cb);
	policy_free(pa);
	policy_free(pb);
	free(a);
	free(b);
}

/* The ids of many twins are those of the plain walk: each rule takes its
 * line's hash, or the first of its rehashes that no earlier rule took. */
static void
test_rule_ids_twins(void **state)
{
	static const char *const lines[] = {
	    "deny on LAN from ANY to ANY service SMTP",
	    "accept on LAN from 10.0.0.1 to ANY",
	    "reject on LAN from ANY to 10.0.0.2 service HTTP log",
	    "deny on LAN from { 10.0.0.3, 10.0.0.4 } to ANY",
	    "accept on LAN from ANY to ANY service SSH",
	};
	struct strbuf text, line;
	uint64_t *ids;
	struct policy *p;
	unsigned seed = 7;
	size_t i, j, n = 300;

	(void)state;
	strbuf_init(&text, 0);
	strbuf_puts(&text, "interface LAN device eth1 address 10.0.0.9/8\n");
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		strbuf_printf(&text, "%s\n", lines[(seed >> 16) % 5]);
	}
	p = policy_parse("twins.conf", text.s, text.len);
	assert_true(policy_valid(p) && p->nrule == n);
	ids = calloc(n, sizeof(*ids));
	assert_non_null(ids);
	strbuf_init(&line, 0);
	for (i = 0; i < n; i++) {
		strbuf_reset(&line);
		printer_rule(p->rules[i], &line, false);
		ids[i] = fnv1a(line.s, line.len);
		for (j = 0; j < i; j++)
			if (ids[j] == ids[i]) {
				ids[i] = fnv1a_add(ids[i], "+", 1);
				j = (size_t)-1;
			}
		assert_true(p->rules[i]->id == ids[i]);
		assert_true(policy_rule_by_id(p, ids[i]) == p->rules[i]);
	}
	free(ids);
	strbuf_free(&line);
	strbuf_free(&text);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_a),
		cmocka_unit_test(test_seed_b),
		cmocka_unit_test(test_seed_lint),
		cmocka_unit_test(test_lint_union_cover),
		cmocka_unit_test(test_lint_broad),
		cmocka_unit_test(test_lint_threads),
		cmocka_unit_test(test_forward_and_defaults),
		cmocka_unit_test(test_forward_reflection),
		cmocka_unit_test(test_nat_source),
		cmocka_unit_test(test_nat_one),
		cmocka_unit_test(test_nat_one_reflection),
		cmocka_unit_test(test_anti_lockout),
		cmocka_unit_test(test_firewall_off),
		cmocka_unit_test(test_firewall_off_nat),
		cmocka_unit_test(test_before_rules),
		cmocka_unit_test(test_before_rules_dhcp),
		cmocka_unit_test(test_ha_secret_short),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_dynamic),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_nearest_name),
		cmocka_unit_test(test_addr_literals),
		cmocka_unit_test(test_iset_ops),
		cmocka_unit_test(test_rule_ids),
		cmocka_unit_test(test_entry_ids),
		cmocka_unit_test(test_rule_ids_twins),
		cmocka_unit_test(test_insert_keeps_lines),
		cmocka_unit_test(test_privileged_change),
		cmocka_unit_test(test_secret_readable),
		cmocka_unit_test(test_schedule_windows),
		cmocka_unit_test(test_schedule_kernel),
		cmocka_unit_test(test_schedule_lint),
		cmocka_unit_test(test_schedule_errors),
		cmocka_unit_test(test_gateways),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

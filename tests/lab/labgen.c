/* labgen.c: random policies for the lab and flows with the counter that
 * moat's evaluator says must count them, for the differential test.
 *
 * Usage: labgen SEED NFLOWS DIR   writes DIR/policy.conf, DIR/flows.txt
 * and DIR/rules.txt (a line per rule: NUMBER COUNTER); labgen SEED NFLOWS
 * DIR flows: the flows and rules of the DIR/policy.conf that is there.
 * A flow line: SIDE SRC DST PROTO PORT COUNTER VERDICT, where SIDE is the
 * namespace that sends it (lan or wan), PROTO tcp, udp, icmp or icmpv6,
 * and COUNTER the named counter of table inet moat that decides it (a
 * rule's is named by the rule's id: rule_ID).
 * The policies aim at the corners where a compiler differs from the model:
 * IPv4 and IPv6 mixed, excludes of one-family sets, ranges, lists, nested
 * objects, multi-protocol services, disabled rules, defaults, forwards,
 * networks at the families' edges (::/0, ::/1, 0.0.0.0/0) and rules whose
 * sides are of different families (they never match).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/eval.h"
#include "policy/load.h"
#include "gen.h"

static const char *const lan4[] = { "192.168.50.10", "192.168.50.11",
    "192.168.50.12", "192.168.50.13" };
static const char *const lan6[] = { "2001:db8:50::10", "2001:db8:50::11",
    "2001:db8:50::12", "2001:db8:50::13" };
static const char *const wan4[] = { "198.51.100.25", "198.51.100.26",
    "198.51.100.27", "198.51.100.28" };
static const char *const wan6[] = { "2001:db8:51::25", "2001:db8:51::26",
    "2001:db8:51::27", "2001:db8:51::28" };

/* The public sides of the 1:1 lines (routed to the gateway by wan). */
static const char *const pub4[] = { "203.0.113.10", "203.0.113.11",
    "203.0.113.12", "203.0.113.13" };
static const char *const pub6[] = { "2001:db8:99::10", "2001:db8:99::11",
    "2001:db8:99::12", "2001:db8:99::13" };

static bool
chance(struct rng *r, int pct)
{
	return (int)rng_below(r, 100) < pct;
}

static const char *
pick(struct rng *r, const char *const *v, size_t n)
{
	return v[rng_below(r, n)];
}

/* An address element of family 4 or 6 (0: either). */
static void
elem(struct rng *r, int fam, int nobj, struct strbuf *b)
{
	static const char *const builtins[] = { "ANY", "LANIP", "LANNET",
	    "WANIP", "WANNET" };
	/* Networks at the edges of the families: an IPv6 one must never
	 * take IPv4 traffic, nor an IPv4 one IPv6 traffic. */
	static const char *const edge4[] = { "0.0.0.0/0", "0.0.0.0/1",
	    "128.0.0.0/1" };
	static const char *const edge6[] = { "::/0", "::/1", "8000::/1",
	    "::/64" };
	int k = (int)rng_below(r, 12);

	if (fam == 0)
		fam = chance(r, 60) ? 4 : 6;
	if (chance(r, 8)) {
		strbuf_puts(b, fam == 4 ? pick(r, edge4, 3) : pick(r, edge6, 4));
		return;
	}
	if (k < 2 && nobj > 0) {
		strbuf_printf(b, "O%d", (int)rng_below(r, (uint64_t)nobj));
		return;
	}
	if (k < 4) {
		strbuf_puts(b, pick(r, builtins, 5));
		return;
	}
	switch (k) {
	case 4:
		strbuf_puts(b, fam == 4 ? "192.168.50.8/30" : "2001:db8:50::8/126");
		break;
	case 5:
		strbuf_puts(b, fam == 4 ? "198.51.100.24/30" :
		    "2001:db8:51::24/126");
		break;
	case 6:
		strbuf_puts(b, fam == 4 ? "192.168.50.11-192.168.50.12" :
		    "2001:db8:50::11-2001:db8:50::12");
		break;
	case 7:
		strbuf_puts(b, fam == 4 ? "198.51.100.26-198.51.100.28" :
		    "2001:db8:51::25-2001:db8:51::26");
		break;
	case 8:
	case 9:
		strbuf_puts(b, fam == 4 ? pick(r, lan4, 4) : pick(r, lan6, 4));
		break;
	default:
		strbuf_puts(b, fam == 4 ? pick(r, wan4, 4) : pick(r, wan6, 4));
		break;
	}
}

static void
expr(struct rng *r, int fam, int nobj, bool bang, struct strbuf *b)
{
	int i, n;

	if (bang && chance(r, 20))
		strbuf_putc(b, '!');
	if (!chance(r, 25)) {
		elem(r, fam, nobj, b);
		return;
	}
	n = 2 + (int)rng_below(r, 2);
	strbuf_puts(b, "{ ");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_puts(b, ", ");
		elem(r, fam, nobj, b);
	}
	strbuf_puts(b, " }");
}

/* The NAT lines: 1:1 (a host or a network of each family), outbound
 * rules on either side (translate an address, masquerade or none), the
 * masquerade. */
static void
nat(struct rng *r, struct strbuf *b, int nobj)
{
	static const char *const ones4[][2] = {
	    { "203.0.113.10", "192.168.50.10" },
	    { "203.0.113.13", "192.168.50.13" },
	    { "203.0.113.8/30", "192.168.50.8/30" },
	    { "203.0.113.11-203.0.113.12", "192.168.50.11-192.168.50.12" } };
	static const char *const ones6[][2] = {
	    { "2001:db8:99::10", "2001:db8:50::10" },
	    { "2001:db8:99::13", "2001:db8:50::13" },
	    { "2001:db8:99::8/126", "2001:db8:50::8/126" } };
	static const char *const to_wan[] = { "198.51.100.9",
	    "2001:db8:51::9", "{ 198.51.100.9, 2001:db8:51::9 }",
	    "masquerade", "none" };
	static const char *const to_lan[] = { "192.168.50.5",
	    "2001:db8:50::5", "{ 192.168.50.5, 2001:db8:50::5 }",
	    "masquerade", "none" };
	static const char *const svcs[] = { "HTTP", "SSH", "DNS", "PING",
	    "S0", "S1", "S2" };
	int i, n;

	if (chance(r, 35))
		strbuf_printf(b, "nat one-to-one on WAN %s to %s%s\n",
		    ones4[rng_below(r, 4)][0], ones4[rng_below(r, 4)][1],
		    chance(r, 25) ? " reflection off" : "");
	if (chance(r, 25)) {
		i = (int)rng_below(r, 3);
		strbuf_printf(b, "nat one-to-one on WAN %s to %s%s\n",
		    ones6[i][0], ones6[i][1], chance(r, 25) ?
		    " reflection off" : "");
	}
	n = chance(r, 50) ? (int)rng_below(r, 4) : 0;
	for (i = 0; i < n; i++) {
		/* Mostly the outbound side; now and then the inbound one,
		 * whose translated sources a LAN host sees. */
		bool wan = chance(r, 80);
		int fam = chance(r, 50) ? 0 : chance(r, 50) ? 4 : 6;

		strbuf_printf(b, "nat source on %s from ", wan ? "WAN" : "LAN");
		expr(r, fam, nobj, true, b);
		if (chance(r, 40)) {
			strbuf_puts(b, " to ");
			expr(r, fam, nobj, true, b);
		}
		if (chance(r, 30))
			strbuf_printf(b, " service %s", pick(r, svcs, 7));
		strbuf_printf(b, " translate %s\n", wan ?
		    pick(r, to_wan, 5) : pick(r, to_lan, 5));
	}
	if (chance(r, 50))
		strbuf_puts(b, "nat masquerade on WAN\n");
	if (chance(r, 8))
		strbuf_puts(b, "nat masquerade on LAN\n");
}

static void
policy(struct rng *r, struct strbuf *b, bool large, bool logged)
{
	static const char *const actions[] = { "accept", "deny", "reject" };
	static const char *const svcs[] = { "SMTP", "HTTP", "SSH", "DNS",
	    "PING", "NTP", "S0", "S1", "S2" };
	static const char *const defs[] = { "", " default accept",
	    " default deny", " default reject" };
	int i, nobj = (int)rng_below(r, 5), nrules = 3 + (int)rng_below(r, 10);
	/* The lab's LAN device (scripts/lab.sh), perhaps a VLAN-style name. */
	const char *landev = getenv("MOAT_LAB_LANDEV") != NULL ?
	    getenv("MOAT_LAB_LANDEV") : "gwl0";

	/* Large policies make the compiler dispatch zones by source.  Half
	 * of them end their zones with rules from ANY source, as an office's
	 * "deny from everyone else" does: a zone's chain then jumps to them
	 * once, after the maps (nftc.c, zone_plan's tail).  So that flows
	 * reach them, such a policy names the last host of each side and
	 * family in no rule of its own (its source finds no map element and
	 * goes on to the zone's end) and blocklists only single hosts (a
	 * source range, an object or ANY "to ANY" in the middle would decide
	 * every list before the end). */
	bool tails = false;

	if (large) {
		nrules = 40 + (int)rng_below(r, 40);
		tails = chance(r, 50);
	}

	strbuf_printf(b, "interface LAN device %s address 192.168.50.1/24 "
	    "address 2001:db8:50::1/64%s%s\n", landev, defs[rng_below(r, 4)],
	    logged ? " log-default on" : "");
	strbuf_printf(b, "interface WAN device gww0 address 198.51.100.1/24 "
	    "address 2001:db8:51::1/64%s%s\n", defs[rng_below(r, 4)],
	    logged ? " log-default on" : "");
	if (logged)
		strbuf_puts(b, "logging {\n    rate 0\n}\n");
	if (chance(r, 30))
		strbuf_puts(b, "anti-lockout off\n");
	for (i = 0; i < nobj; i++) {
		strbuf_printf(b, "object O%d ", i);
		expr(r, 0, i, false, b);
		strbuf_putc(b, '\n');
	}
	strbuf_puts(b, "service S0 tcp 22,25 udp 53\n"
	    "service S1 tcp 80-443 icmp echo-request\n"
	    "service S2 icmpv6 echo-request udp 123 tcp 8000-8080\n");
	for (i = 0; i < nrules; i++) {
		int fam = chance(r, 50) ? 0 : chance(r, 50) ? 4 : 6;

		bool lan = chance(r, 60);
		const char *host = NULL;

		strbuf_printf(b, "%s on %s from ", actions[rng_below(r, 3)],
		    lan ? "LAN" : "WAN");
		if (large && chance(r, 85)) {
			/* per-host rules, as large policies are made of */
			bool v4 = fam == 4 || (fam == 0 && chance(r, 60));

			fam = v4 ? 4 : 6;
			size_t hosts = tails ? 3 : 4;

			host = lan ? (v4 ? pick(r, lan4, hosts) :
			    pick(r, lan6, hosts)) : (v4 ? pick(r, wan4, hosts) :
			    pick(r, wan6, hosts));
			strbuf_puts(b, host);
		} else
			expr(r, fam, nobj, true, b);
		strbuf_puts(b, " to ");
		if (large && chance(r, 15) && (!tails || host != NULL)) {
			/* a blocklist entry: the dispatch map decides its
			 * host by itself (nftc.c, class_direct) */
			strbuf_puts(b, "ANY");
			if (logged)
				strbuf_puts(b, " log");
			strbuf_putc(b, '\n');
			continue;
		}
		expr(r, fam, nobj, true, b);
		if (!chance(r, 20)) {
			if (chance(r, 20))
				strbuf_printf(b, " service { %s, %s }",
				    pick(r, svcs, 9), pick(r, svcs, 9));
			else
				strbuf_printf(b, " service %s", pick(r, svcs, 9));
		}
		if (logged)
			strbuf_puts(b, " log");
		if (chance(r, 10))
			strbuf_puts(b, " disabled");
		strbuf_putc(b, '\n');
	}
	/* The zones' last rules from ANY source (above): some to one
	 * family's addresses only, some deciding everything, some logging,
	 * some disabled. */
	for (i = 0; tails && i < 2; i++) {
		const char *zone = i == 0 ? "LAN" : "WAN";
		int k, n = 1 + (int)rng_below(r, 3);

		for (k = 0; k < n; k++) {
			int fam = chance(r, 40) ? 0 : chance(r, 50) ? 4 : 6;

			strbuf_printf(b, "%s on %s from ANY to ",
			    actions[rng_below(r, 3)], zone);
			if (k == n - 1 && chance(r, 50))
				strbuf_puts(b, "ANY");
			else {
				expr(r, fam, nobj, true, b);
				if (chance(r, 60))
					strbuf_printf(b, " service %s",
					    pick(r, svcs, 9));
			}
			if (logged)
				strbuf_puts(b, " log");
			if (chance(r, 10))
				strbuf_puts(b, " disabled");
			strbuf_putc(b, '\n');
		}
	}
	nat(r, b, nobj);
	if (chance(r, 50))
		strbuf_printf(b, "forward on WAN service %s to { %s, %s }\n",
		    chance(r, 50) ? "SMTP" : "{ HTTP, SSH }", pick(r, lan4, 4),
		    pick(r, lan6, 4));
}

static u128
parse_or_die(const char *s)
{
	enum addr_family fam;
	char err[100];
	u128 a;

	if (addr_parse(s, &a, &fam, err, sizeof(err)) == -1)
		abort();
	return a;
}

static void write_flow(const struct policy *p, FILE *out, bool from_lan,
    const char *src, const char *dst, const char *proto, unsigned port);

/* A flow inside a random rule, so that rules are exercised, not only
 * defaults; false when none of the lab's addresses fits the rule. */
static bool
aim(struct rng *r, const struct policy *p, FILE *out)
{
	static const char *const gws[] = { "192.168.50.1", "2001:db8:50::1",
	    "198.51.100.1", "2001:db8:51::1" };
	static const struct { const char *name; int proto; unsigned port; }
	    svc[] = { { "tcp", 6, 22 }, { "tcp", 6, 25 }, { "tcp", 6, 80 },
	    { "tcp", 6, 443 }, { "tcp", 6, 8000 }, { "udp", 17, 53 },
	    { "udp", 17, 123 }, { "icmp", 1, 8 }, { "icmpv6", 58, 128 } };
	const struct rule *ru = p->rules[rng_below(r, p->nrule)];
	bool from_lan = strcmp(ru->ifname, "LAN") == 0;
	const char *srcs[4], *dsts[12];
	size_t ns = 0, nd = 0, i, try;

	for (try = 0; try < 20; try++) {
		bool v4 = chance(r, 50);
		const char *const *mine = from_lan ? (v4 ? lan4 : lan6) :
		    (v4 ? wan4 : wan6);
		const char *const *theirs = from_lan ? (v4 ? wan4 : wan6) :
		    (v4 ? lan4 : lan6);

		ns = nd = 0;
		for (i = 0; i < 4; i++) {
			if (iset_contains(ru->src.set, parse_or_die(mine[i])))
				srcs[ns++] = mine[i];
			if (iset_contains(ru->dst.set, parse_or_die(theirs[i])))
				dsts[nd++] = theirs[i];
			if ((strchr(gws[i], ':') == NULL) == v4 &&
			    iset_contains(ru->dst.set, parse_or_die(gws[i])))
				dsts[nd++] = gws[i];
		}
		if (ns == 0 || nd == 0)
			continue;
		for (i = 0; i < 10; i++) {
			size_t k = rng_below(r, 9);
			u128 key = (u128)svc[k].proto << 16 | svc[k].port;

			if ((svc[k].proto == 1 && !v4) ||
			    (svc[k].proto == 58 && v4) ||
			    !iset_contains(ru->svc.set, key))
				continue;
			write_flow(p, out, from_lan, srcs[rng_below(r, ns)],
			    dsts[rng_below(r, nd)], svc[k].name, svc[k].port);
			return true;
		}
	}
	return false;
}

/* One of the public addresses that p's 1:1 lines map for connections
 * arriving on ifc (its own or one it reflects), of family v4 or 6, or
 * NULL: the others have no route in gw. */
static const char *
public(struct rng *r, const struct policy *p, const struct iface *ifc,
    bool v4)
{
	const char *const *pub = v4 ? pub4 : pub6;
	const char *mapped[4];
	size_t i, j, n = 0;

	for (i = 0; i < 4; i++) {
		u128 a = parse_or_die(pub[i]);

		for (j = 0; j < p->nnat_one; j++)
			if ((p->nat_ones[j]->iface == ifc ||
			    policy_one_reflects(p, p->nat_ones[j], ifc)) &&
			    a >= p->nat_ones[j]->pub_lo &&
			    a - p->nat_ones[j]->pub_lo < p->nat_ones[j]->size) {
				mapped[n++] = pub[i];
				break;
			}
	}
	return n > 0 ? mapped[rng_below(r, n)] : NULL;
}

static void
flow(struct rng *r, const struct policy *p, FILE *out)
{
	static const unsigned tcp_ports[] = { 22, 25, 80, 443, 8080, 3389 };
	static const unsigned udp_ports[] = { 53, 123, 5000 };
	bool from_lan = chance(r, 60), v4 = chance(r, 55);
	const char *src, *dst, *proto;
	unsigned port = 0;
	int k = (int)rng_below(r, 10);

	if (p->nrule > 0 && chance(r, 70) && aim(r, p, out))
		return;
	src = from_lan ? (v4 ? pick(r, lan4, 4) : pick(r, lan6, 4)) :
	    (v4 ? pick(r, wan4, 4) : pick(r, wan6, 4));
	if (k < 2)		/* to the gateway's address on this side */
		dst = from_lan ? (v4 ? "192.168.50.1" : "2001:db8:50::1") :
		    (v4 ? "198.51.100.1" : "2001:db8:51::1");
	else if (k < 3)		/* to its address on the other side */
		dst = from_lan ? (v4 ? "198.51.100.1" : "2001:db8:51::1") :
		    (v4 ? "192.168.50.1" : "2001:db8:50::1");
	else if (k < 6 && (dst = public(r, p, policy_iface(p, from_lan ?
	    "LAN" : "WAN"), v4)) != NULL)
		;		/* to a 1:1 line's public address */
	else
		dst = from_lan ? (v4 ? pick(r, wan4, 4) : pick(r, wan6, 4)) :
		    (v4 ? pick(r, lan4, 4) : pick(r, lan6, 4));
	k = (int)rng_below(r, 10);
	if (k < 6) {
		proto = "tcp";
		port = tcp_ports[rng_below(r, 6)];
	} else if (k < 8) {
		proto = "udp";
		port = udp_ports[rng_below(r, 3)];
	} else {
		proto = v4 ? "icmp" : "icmpv6";
		port = v4 ? 8 : 128;
	}
	write_flow(p, out, from_lan, src, dst, proto, port);
}

/* One flow line, with the counter moat's evaluator says decides it. */
static void
write_flow(const struct policy *p, FILE *out, bool from_lan, const char *src,
    const char *dst, const char *proto, unsigned port)
{
	struct flow f = { 0 };
	struct verdict v;
	char counter[64];

	f.proto = strcmp(proto, "tcp") == 0 ? 6 : strcmp(proto, "udp") == 0 ?
	    17 : strcmp(proto, "icmp") == 0 ? 1 : 58;
	f.dport = port;
	f.iface = policy_iface(p, from_lan ? "LAN" : "WAN");
	f.src = parse_or_die(src);
	f.dst = parse_or_die(dst);
	policy_eval(p, &f, &v);
	switch (v.by) {
	case BY_RULE:
		snprintf(counter, sizeof(counter), "rule_%016llx",
		    (unsigned long long)v.rule->id);
		break;
	case BY_ANTILOCKOUT:
		snprintf(counter, sizeof(counter), "anti_lockout");
		break;
	case BY_FORWARD:
		snprintf(counter, sizeof(counter), "forward_%016llx_accept",
		    (unsigned long long)v.forward->id);
		break;
	default:
		snprintf(counter, sizeof(counter), "default_%s",
		    f.iface->name);
		break;
	}
	fprintf(out, "%s %s %s %s %u %s %s\n", from_lan ? "lan" : "wan", src,
	    dst, proto, port, counter, action_name(v.action));
}

int
main(int argc, char **argv)
{
	struct rng r;
	struct strbuf b;
	struct policy *p;
	char file[4096], err[256];
	FILE *fp;
	int i, n;
	bool keep;

	/* labgen SEED NFLOWS DIR [log | flows]: log: every rule and default
	 * logs; flows: DIR/policy.conf is there (a policy edited after
	 * labgen wrote it): only its flows and rules are written */
	if (argc != 4 && (argc != 5 || (strcmp(argv[4], "log") != 0 &&
	    strcmp(argv[4], "flows") != 0)))
		return 2;
	keep = argc == 5 && strcmp(argv[4], "flows") == 0;
	r.s = strtoull(argv[1], NULL, 10) * 7919 + 1;
	n = atoi(argv[2]);
	strbuf_init(&b, 0);
	snprintf(file, sizeof(file), "%s/policy.conf", argv[3]);
	if (keep) {
		if ((p = policy_load(file, err, sizeof(err))) == NULL ||
		    !policy_valid(p)) {
			fprintf(stderr, "labgen: %s: %s\n", file, p == NULL ?
			    err : "not a valid policy");
			return 1;
		}
	} else {
		do {	/* some draws are invalid (families): draw again */
			strbuf_reset(&b);
			policy(&r, &b, strtoul(argv[1], NULL, 10) % 3 == 2,
			    argc == 5);
			p = policy_parse("policy.conf", strbuf_str(&b), b.len);
			if (p != NULL && !policy_valid(p)) {
				policy_free(p);
				p = NULL;
			}
		} while (p == NULL);
		if ((fp = fopen(file, "w")) == NULL)
			return 1;
		fputs(strbuf_str(&b), fp);
		fclose(fp);
	}
	snprintf(file, sizeof(file), "%s/flows.txt", argv[3]);
	if ((fp = fopen(file, "w")) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		flow(&r, p, fp);
	fclose(fp);
	snprintf(file, sizeof(file), "%s/rules.txt", argv[3]);
	if ((fp = fopen(file, "w")) == NULL)
		return 1;
	for (i = 0; (size_t)i < p->nrule; i++)
		fprintf(fp, "%d rule_%016llx\n", p->rules[i]->number,
		    (unsigned long long)p->rules[i]->id);
	fclose(fp);
	policy_free(p);
	strbuf_free(&b);
	return 0;
}

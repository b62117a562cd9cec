/* importgen.c: random pfSense config.xml files and iptables-save files of
 * the lab's shape, and random flows, for the lab's import differential
 * (tests/lab/import-differential.py); and the source's verdict of each
 * flow, by the evaluator the equivalence report uses (src/import/proof.c's
 * pf, iptables.c's chain traversal), through the test seam proof_probe.
 *
 * Usage:
 *   importgen gen pfsense|iptables SEED NFLOWS DIR
 *	writes DIR/source.xml or DIR/source.rules, and DIR/flows.txt: one
 *	flow a line, SIDE SRC DST PROTO PORT (SIDE: lan or wan, the
 *	namespace that sends it; PROTO tcp, udp, icmp or icmpv6)
 *   importgen explain pfsense|iptables SOURCE FLOWS CONF
 *	imports SOURCE again (the library moat import is built from), checks
 *	that the text is CONF byte for byte (what moat import wrote), and
 *	prints for each flow of FLOWS: IFACE SOURCE-VERDICT MOAT-VERDICT
 *	WHERE, the verdicts pass, block or reject (moat's as the report
 *	parsed the text), "- -" when the report does not compare the
 *	interface; WHERE is the source's deciding rule, policy or default.
 *	iptables' devices are given the lab's addresses, not stand-ins.
 *	The equivalence report, so made, is written on standard error.
 *
 * The configs aim at what an import must keep: aliases (nested, port
 * aliases), quick and non-quick floating rules, inverted sides, pass,
 * block and reject, both families, port forwards (with and without a
 * filter rule), a 1:1; iptables: user chains, jumps and gotos, RETURN,
 * multiport, iprange, the chains' policies, DNAT, masquerade.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/file.h"
#include "gen.h"
#include "import/import.h"
#include "import/proof.h"

static const char *const lan4[] = { "192.168.50.10", "192.168.50.11",
    "192.168.50.12", "192.168.50.13" };
static const char *const lan6[] = { "2001:db8:50::10", "2001:db8:50::11",
    "2001:db8:50::12", "2001:db8:50::13" };
static const char *const wan4[] = { "198.51.100.25", "198.51.100.26",
    "198.51.100.27", "198.51.100.28" };
static const char *const wan6[] = { "2001:db8:51::25", "2001:db8:51::26",
    "2001:db8:51::27", "2001:db8:51::28" };
static const unsigned ports[] = { 22, 25, 53, 80, 443, 8080, 3389, 5000 };

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

static unsigned
port(struct rng *r)
{
	return ports[rng_below(r, sizeof(ports) / sizeof(ports[0]))];
}

/* --- pfSense ---------------------------------------------------------- */

/* An address of one side of a rule, of family 4 or 6. */
static void
pf_addr(struct rng *r, int fam, int nalias, struct strbuf *b)
{
	int k = (int)rng_below(r, 10);

	if (k < 2 && nalias > 0 && fam == 4) {
		strbuf_printf(b, "<address>H%d</address>",
		    (int)rng_below(r, (uint64_t)nalias));
		return;
	}
	switch (k) {
	case 0:
	case 1:
	case 2:
		strbuf_printf(b, "<network>%s</network>", chance(r, 50) ?
		    (chance(r, 50) ? "lan" : "wan") : (chance(r, 50) ?
		    "lanip" : "wanip"));
		break;
	case 3:
		strbuf_printf(b, "<address>%s</address>", fam == 4 ?
		    "192.168.50.8/30" : "2001:db8:50::8/126");
		break;
	case 4:
		strbuf_printf(b, "<address>%s</address>", fam == 4 ?
		    "198.51.100.24/30" : "2001:db8:51::24/126");
		break;
	case 5:
	case 6:
		strbuf_printf(b, "<address>%s</address>", fam == 4 ?
		    pick(r, lan4, 4) : pick(r, lan6, 4));
		break;
	default:
		strbuf_printf(b, "<address>%s</address>", fam == 4 ?
		    pick(r, wan4, 4) : pick(r, wan6, 4));
		break;
	}
}

static void
pf_side(struct rng *r, const char *tag, int fam, int nalias, bool ports_ok,
    struct strbuf *b)
{
	strbuf_printf(b, "<%s>", tag);
	if (chance(r, 35))
		strbuf_puts(b, "<any/>");
	else {
		if (chance(r, 20))
			strbuf_puts(b, "<not/>");
		pf_addr(r, fam, nalias, b);
	}
	if (ports_ok && strcmp(tag, "destination") == 0 && chance(r, 75)) {
		int k = (int)rng_below(r, 4);

		if (k == 0)
			strbuf_puts(b, "<port>WEB</port>");
		else if (k == 1) {
			unsigned lo = port(r);

			strbuf_printf(b, "<port>%u:%u</port>", lo, lo + 30);
		} else
			strbuf_printf(b, "<port>%u</port>", port(r));
	}
	strbuf_printf(b, "</%s>", tag);
}

static void
pf_rule(struct rng *r, int nalias, bool floating, struct strbuf *b)
{
	static const char *const types[] = { "pass", "block", "reject" };
	static const char *const protos[] = { "tcp", "udp", "tcp/udp",
	    "icmp" };
	int fam = chance(r, 65) ? 4 : 6;
	const char *proto = chance(r, 25) ? NULL : pick(r, protos, 4);
	bool lan = chance(r, 60);

	strbuf_printf(b, "\t\t<rule><type>%s</type>", pick(r, types, 3));
	if (floating) {
		strbuf_printf(b, "<interface>%s</interface><floating>yes"
		    "</floating>%s<direction>in</direction>", chance(r, 30) ?
		    "lan,wan" : lan ? "lan" : "wan", chance(r, 50) ?
		    "<quick>yes</quick>" : "");
	} else
		strbuf_printf(b, "<interface>%s</interface>", lan ? "lan" :
		    "wan");
	strbuf_printf(b, "<ipprotocol>%s</ipprotocol>", fam == 4 ? "inet" :
	    "inet6");
	if (proto != NULL) {
		strbuf_printf(b, "<protocol>%s</protocol>", proto);
		if (strcmp(proto, "icmp") == 0)
			strbuf_printf(b, "<icmptype>%s</icmptype>", fam == 4 ?
			    "echoreq" : "echoreq");
	}
	pf_side(r, "source", fam, nalias, false, b);
	pf_side(r, "destination", fam, nalias, proto != NULL &&
	    strcmp(proto, "icmp") != 0, b);
	if (chance(r, 8))
		strbuf_puts(b, "<disabled/>");
	strbuf_puts(b, "<descr>random</descr></rule>\n");
}

/* Returns whether it wrote a 1:1 (of 203.0.113.13). */
static bool
gen_pfsense(struct rng *r, struct strbuf *b)
{
	bool one;
	int nalias = (int)rng_below(r, 3), nfloat = (int)rng_below(r, 4);
	int nrule = 3 + (int)rng_below(r, 12), nfwd = (int)rng_below(r, 3);
	int i;

	strbuf_puts(b, "<?xml version=\"1.0\"?>\n<pfsense>\n"
	    "\t<interfaces>\n"
	    "\t\t<wan><enable/><if>gww0</if><ipaddr>198.51.100.1</ipaddr>"
	    "<subnet>24</subnet><ipaddrv6>2001:db8:51::1</ipaddrv6>"
	    "<subnetv6>64</subnetv6></wan>\n"
	    "\t\t<lan><enable/><if>gwl0</if><ipaddr>192.168.50.1</ipaddr>"
	    "<subnet>24</subnet><ipaddrv6>2001:db8:50::1</ipaddrv6>"
	    "<subnetv6>64</subnetv6></lan>\n\t</interfaces>\n");
	if (chance(r, 20))
		strbuf_puts(b, "\t<system><webgui><noantilockout/></webgui>"
		    "</system>\n");
	strbuf_puts(b, "\t<aliases>\n\t\t<alias><name>WEB</name><type>port"
	    "</type><address>80 443 8080:8090</address></alias>\n");
	for (i = 0; i < nalias; i++) {
		strbuf_printf(b, "\t\t<alias><name>H%d</name><type>%s</type>"
		    "<address>%s %s", i, chance(r, 50) ? "host" : "network",
		    pick(r, lan4, 4), pick(r, wan4, 4));
		if (i > 0 && chance(r, 50))	/* nested */
			strbuf_printf(b, " H%d", (int)rng_below(r,
			    (uint64_t)i));
		strbuf_puts(b, "</address></alias>\n");
	}
	strbuf_puts(b, "\t</aliases>\n\t<filter>\n");
	for (i = 0; i < nfloat; i++)
		pf_rule(r, nalias, true, b);
	for (i = 0; i < nrule; i++)
		pf_rule(r, nalias, false, b);
	/* the port forwards' filter rules (most have one) */
	for (i = 0; i < nfwd; i++)
		if (!chance(r, 15))
			strbuf_printf(b, "\t\t<rule><type>pass</type><interface>"
			    "wan</interface><ipprotocol>inet</ipprotocol>"
			    "<protocol>tcp</protocol><source><any/></source>"
			    "<destination><address>%s</address><port>%u</port>"
			    "</destination><associated-rule-id>nat_%d"
			    "</associated-rule-id></rule>\n", lan4[i % 4],
			    ports[(i + 2) % 8], i);
	strbuf_puts(b, "\t</filter>\n\t<nat>\n\t\t<outbound><mode>automatic"
	    "</mode></outbound>\n");
	for (i = 0; i < nfwd; i++)
		strbuf_printf(b, "\t\t<rule><interface>wan</interface><protocol>"
		    "tcp</protocol><source><any/></source><destination>"
		    "<network>wanip</network><port>%u</port></destination>"
		    "<target>%s</target><local-port>%u</local-port>"
		    "<associated-rule-id>nat_%d</associated-rule-id></rule>\n",
		    ports[(i + 2) % 8], lan4[i % 4], ports[(i + 2) % 8], i);
	/* a 1:1 (the lab's upstream routes 203.0.113.0/24 to the gateway) */
	if ((one = chance(r, 40)))
		strbuf_printf(b, "\t\t<onetoone><interface>wan</interface>"
		    "<external>203.0.113.1%d</external><source><address>%s"
		    "</address></source><destination><any/></destination>"
		    "</onetoone>\n", 3, lan4[3]);
	strbuf_puts(b, "\t</nat>\n</pfsense>\n");
	return one;
}

/* --- iptables --------------------------------------------------------- */

/* in_user: a user chain's rule; fwd: FORWARD's (INPUT has no -o) */
static void
ipt_match(struct rng *r, bool in_user, bool fwd, struct strbuf *b)
{
	static const char *const srcs[] = { "192.168.50.0/24",
	    "192.168.50.8/30", "198.51.100.24/30", "192.168.50.10/32",
	    "198.51.100.26/32" };
	int k;

	if (!in_user && chance(r, 40))
		strbuf_printf(b, " %s-i %s", chance(r, 15) ? "! " : "",
		    chance(r, 50) ? "gwl0" : "gww0");
	if (fwd && chance(r, 15))
		strbuf_printf(b, " -o %s", chance(r, 50) ? "gwl0" : "gww0");
	k = (int)rng_below(r, 10);
	if (k < 3)
		strbuf_printf(b, " %s-s %s", chance(r, 20) ? "! " : "",
		    pick(r, srcs, 5));
	else if (k < 4)
		strbuf_printf(b, " -m iprange %s--src-range %s-%s",
		    chance(r, 20) ? "! " : "", lan4[0], lan4[2]);
	k = (int)rng_below(r, 10);
	if (k < 3 && !fwd && !in_user)	/* INPUT: the gateway's own */
		strbuf_printf(b, " -d %s/32", chance(r, 50) ? "192.168.50.1" :
		    "198.51.100.1");
	else if (k < 3)
		strbuf_printf(b, " %s-d %s", chance(r, 20) ? "! " : "",
		    pick(r, srcs, 5));
	else if (k < 4 && (fwd || in_user))
		strbuf_printf(b, " -m iprange --dst-range %s-%s", wan4[1],
		    wan4[3]);
	else if (k < 5 && !fwd)	/* FORWARD never sees them */
		strbuf_puts(b, " -m addrtype --dst-type LOCAL");
	k = (int)rng_below(r, 10);
	if (k < 3)
		strbuf_printf(b, " -p tcp -m tcp --dport %u", port(r));
	else if (k < 5)
		strbuf_printf(b, " -p %s -m multiport --dports %u,%u:%u",
		    chance(r, 60) ? "tcp" : "udp", port(r), ports[3], ports[4]);
	else if (k < 6)
		strbuf_printf(b, " -p udp -m udp --dport %u", port(r));
	else if (k < 7)
		strbuf_puts(b, " -p icmp -m icmp --icmp-type 8");
	else if (k < 8)
		strbuf_puts(b, " -p tcp");
}

static const char *
verdict(struct rng *r)
{
	int k = (int)rng_below(r, 10);

	return k < 5 ? "ACCEPT" : k < 8 ? "DROP" :
	    "REJECT --reject-with icmp-port-unreachable";
}

static void
gen_iptables(struct rng *r, struct strbuf *b)
{
	int nuser = (int)rng_below(r, 3), i, j, n, nfwd = (int)rng_below(r, 3);
	bool masq = chance(r, 70);

	strbuf_puts(b, "# lab import differential\n*filter\n");
	strbuf_printf(b, ":INPUT %s [0:0]\n:FORWARD %s [0:0]\n"
	    ":OUTPUT ACCEPT [0:0]\n", chance(r, 60) ? "DROP" : "ACCEPT",
	    chance(r, 60) ? "DROP" : "ACCEPT");
	for (i = 0; i < nuser; i++)
		strbuf_printf(b, ":U%d - [0:0]\n", i);
	/* both devices are named in every file: the import makes an
	 * interface of each device named */
	strbuf_puts(b, "-A INPUT -i lo -j ACCEPT\n"
	    "-A INPUT -i gwl0 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	    "-A INPUT -i gww0 -p icmp -m icmp --icmp-type 8 -j ACCEPT\n"
	    "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	    "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
	if (nfwd > 0 && chance(r, 30))
		strbuf_puts(b, "-A FORWARD -m conntrack --ctstate DNAT -j "
		    "ACCEPT\n");
	/* most forwards have their FORWARD rule, as on a real gateway */
	for (i = 0; i < nfwd; i++)
		if (chance(r, 80))
			strbuf_printf(b, "-A FORWARD -i gww0 -d %s/32 -p tcp -m "
			    "tcp --dport %u -j ACCEPT\n", lan4[i % 4], ports[(i + 2) % 8]);
	for (j = 0; j < 2; j++) {
		n = 2 + (int)rng_below(r, 6);
		for (i = 0; i < n; i++) {
			strbuf_printf(b, "-A %s", j == 0 ? "INPUT" : "FORWARD");
			/* a jump matches only what its chain's rules do not
			 * (the import cannot intersect two matches of a kind) */
			if (nuser > 0 && chance(r, 25))
				strbuf_printf(b, "%s%s -%c U%d\n", chance(r, 50) ?
				    (chance(r, 50) ? " -i gwl0" : " -i gww0") : "",
				    chance(r, 30) ? " -m conntrack --ctstate NEW" :
				    "", chance(r, 30) ? 'g' : 'j',
				    (int)rng_below(r, (uint64_t)nuser));
			else {
				ipt_match(r, false, j == 1, b);
				strbuf_printf(b, " -j %s\n", verdict(r));
			}
		}
	}
	for (i = 0; i < nuser; i++) {
		n = 1 + (int)rng_below(r, 4);
		for (j = 0; j < n; j++) {
			strbuf_printf(b, "-A U%d", i);
			ipt_match(r, true, false, b);
			if (i + 1 < nuser && chance(r, 20))
				strbuf_printf(b, " -j U%d\n", i + 1);
			else if (j + 1 == n && chance(r, 30))
				strbuf_puts(b, " -j RETURN\n");
			else
				strbuf_printf(b, " -j %s\n", verdict(r));
		}
	}
	strbuf_puts(b, "COMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n"
	    ":INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	    ":POSTROUTING ACCEPT [0:0]\n");
	/* mostly to the gateway's own addresses (moat's forwards are) */
	for (i = 0; i < nfwd; i++)
		strbuf_printf(b, "-A PREROUTING -i gww0%s -p tcp -m tcp --dport "
		    "%u -j DNAT --to-destination %s:%u\n", chance(r, 75) ?
		    " -m addrtype --dst-type LOCAL" : "", ports[(i + 2) % 8], lan4[i % 4],
		    ports[(i + 2) % 8]);
	if (masq)
		strbuf_puts(b, "-A POSTROUTING -o gww0 -j MASQUERADE\n");
	strbuf_puts(b, "COMMIT\n");
}

/* --- flows ------------------------------------------------------------ */

static void
gen_flows(struct rng *r, bool v4_only, bool one, int n, FILE *out)
{
	int i;

	for (i = 0; i < n; i++) {
		bool lan = chance(r, 55), v4 = v4_only || chance(r, 65);
		int k = (int)rng_below(r, 10);
		const char *src, *dst, *proto;
		unsigned p;

		src = lan ? (v4 ? pick(r, lan4, 4) : pick(r, lan6, 4)) :
		    (v4 ? pick(r, wan4, 4) : pick(r, wan6, 4));
		if (k < 2)	/* the gateway's address on this side */
			dst = lan ? (v4 ? "192.168.50.1" : "2001:db8:50::1") :
			    (v4 ? "198.51.100.1" : "2001:db8:51::1");
		else if (k < 3)	/* on the other side */
			dst = lan ? (v4 ? "198.51.100.1" : "2001:db8:51::1") :
			    (v4 ? "192.168.50.1" : "2001:db8:50::1");
		else if (k < 4 && one && !lan && v4)	/* a 1:1's address */
			dst = "203.0.113.13";
		else
			dst = lan ? (v4 ? pick(r, wan4, 4) : pick(r, wan6, 4)) :
			    (v4 ? pick(r, lan4, 4) : pick(r, lan6, 4));
		k = (int)rng_below(r, 10);
		if (k < 6) {
			proto = "tcp";
			p = chance(r, 10) ? 8085 : port(r);
		} else if (k < 8) {
			proto = "udp";
			p = port(r);
		} else {
			proto = v4 ? "icmp" : "icmpv6";
			p = v4 ? 8 : 128;
		}
		fprintf(out, "%s %s %s %s %u\n", lan ? "lan" : "wan", src, dst,
		    proto, p);
	}
}

static int
gen(const char *kind, const char *seed, const char *nflows, const char *dir)
{
	bool ipt = strcmp(kind, "iptables") == 0, one = false;
	struct rng r;
	struct strbuf b;
	char file[4096];
	FILE *fp;

	r.s = strtoull(seed, NULL, 10) * 7919 + (ipt ? 17 : 3);
	strbuf_init(&b, 0);
	if (ipt)
		gen_iptables(&r, &b);
	else
		one = gen_pfsense(&r, &b);
	snprintf(file, sizeof(file), "%s/source.%s", dir, ipt ? "rules" :
	    "xml");
	if ((fp = fopen(file, "w")) == NULL)
		return 1;
	fputs(strbuf_str(&b), fp);
	fclose(fp);
	snprintf(file, sizeof(file), "%s/flows.txt", dir);
	if ((fp = fopen(file, "w")) == NULL)
		return 1;
	gen_flows(&r, ipt, one, atoi(nflows), fp);
	fclose(fp);
	strbuf_free(&b);
	return 0;
}

/* --- the source's verdicts -------------------------------------------- */

static u128
parse_or_die(const char *s)
{
	enum addr_family fam;
	char err[100];
	u128 a;

	if (addr_parse(s, &a, &fam, err, sizeof(err)) == -1) {
		fprintf(stderr, "importgen: %s: %s\n", s, err);
		exit(2);
	}
	return a;
}

static int
explain(const char *kind, const char *source, const char *flows,
    const char *conf)
{
	static const char *const sname[] = { "pass", "block", "reject" };
	static const char *const mname[] = { "pass", "block", "reject" };
	const char *const dev[] = { "gww0", "gwl0" };
	const int plen[] = { 24, 24 };
	u128 at[2];
	bool ipt = strcmp(kind, "iptables") == 0;
	struct proof_probe pp;
	struct proof_flow *fl = NULL;
	size_t n = 0, cap = 0, i, len, clen;
	struct strbuf out, notes, report;
	char line[512], side[8], src[64], dst[64], proto[16], err[300];
	char *buf, *cbuf;
	unsigned port;
	FILE *fp;
	int rc;

	if ((fp = fopen(flows, "r")) == NULL)
		return 2;
	while (fgets(line, sizeof(line), fp) != NULL) {
		int pn;

		if (sscanf(line, "%7s %63s %63s %15s %u", side, src, dst, proto,
		    &port) != 5)
			return 2;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			fl = realloc(fl, cap * sizeof(*fl));
			if (fl == NULL)
				return 2;
		}
		memset(&fl[n], 0, sizeof(fl[n]));
		fl[n].iface = ipt ? (strcmp(side, "lan") == 0 ? "gwl0" :
		    "gww0") : (strcmp(side, "lan") == 0 ? "LAN" : "WAN");
		fl[n].src = parse_or_die(src);
		fl[n].dst = parse_or_die(dst);
		pn = strcmp(proto, "tcp") == 0 ? 6 : strcmp(proto, "udp") == 0 ?
		    17 : strcmp(proto, "icmp") == 0 ? 1 : 58;
		fl[n].key = (u128)pn << 16 | port;
		n++;
	}
	fclose(fp);
	at[0] = parse_or_die("198.51.100.1");
	at[1] = parse_or_die("192.168.50.1");
	memset(&pp, 0, sizeof(pp));
	pp.dev = dev;
	pp.dev_at = at;
	pp.dev_plen = plen;
	pp.ndev = 2;
	pp.flows = fl;
	pp.nflow = n;
	proof_probe = &pp;
	if ((buf = file_read(source, 32 << 20, &len)) == NULL ||
	    (cbuf = file_read(conf, 32 << 20, &clen)) == NULL) {
		perror("importgen");
		return 2;
	}
	strbuf_init(&out, 0);
	strbuf_init(&notes, 0);
	strbuf_init(&report, 0);
	rc = ipt ? import_iptables(source, buf, len, &out, &notes, &report,
	    err, sizeof(err)) : import_xml(IMPORT_PFSENSE, source, buf, len,
	    &out, &notes, &report, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "importgen: %s: %s\n", source, err);
		return 2;
	}
	if (out.len != clen || memcmp(out.s, cbuf, clen) != 0) {
		fprintf(stderr, "importgen: the library's import of %s is not "
		    "%s\n", source, conf);
		return 2;
	}
	fputs(strbuf_str(&report), stderr);
	for (i = 0; i < n; i++) {
		if (!fl[i].compared)
			printf("%s - - not compared\n", fl[i].iface);
		else
			printf("%s %s %s %s\n", fl[i].iface, sname[fl[i].sa],
			    mname[fl[i].ma], fl[i].where);
	}
	free(buf);
	free(cbuf);
	free(fl);
	strbuf_free(&out);
	strbuf_free(&notes);
	strbuf_free(&report);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 6 && strcmp(argv[1], "explain") == 0)
		return explain(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: importgen gen pfsense|iptables SEED NFLOWS DIR\n"
	    "       importgen explain pfsense|iptables SOURCE FLOWS CONF\n");
	return 2;
}

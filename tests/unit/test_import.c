/* test_import.c: the import's door to XML (import/xml.h): its limits at
 * their edges (depth, elements, text, size), what it refuses (a document
 * type, an entity), what it keeps (text trimmed, CDATA, the paths of
 * siblings); and the equivalence report (import/proof.h): on a source
 * that differs from its moat.conf in one known place, on a generated
 * config.xml of 1,000 rules whose moat.conf loses or changes one rule
 * (tests/pfgen.c), and on random small rule sets whose moat.conf is
 * edited at random, against a brute-force comparison at every boundary
 * point, so that the report can fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/diff.h"
#include "analyze/eval.h"
#include "base/addr.h"
#include "base/strbuf.h"
#include "gen.h"
#include "import/import.h"
#include "import/xml.h"
#include "pfgen.h"
#include "policy/load.h"

/* A document of depth levels, nested <a>. */
static char *
nested(unsigned depth)
{
	struct strbuf b;
	unsigned i;
	char *r;

	strbuf_init(&b, 0);
	for (i = 0; i < depth; i++)
		strbuf_puts(&b, "<a>");
	for (i = 0; i < depth; i++)
		strbuf_puts(&b, "</a>");
	r = strdup(strbuf_str(&b));
	strbuf_free(&b);
	return r;
}

static void
depth_edge(void **state)
{
	struct arena a;
	char err[200], *doc;

	(void)state;
	arena_init(&a);
	doc = nested(XML_MAX_DEPTH);
	assert_non_null(xml_parse(&a, doc, strlen(doc), err, sizeof(err)));
	free(doc);
	doc = nested(XML_MAX_DEPTH + 1);
	assert_null(xml_parse(&a, doc, strlen(doc), err, sizeof(err)));
	assert_non_null(strstr(err, "nested too deep"));
	free(doc);
	arena_free(&a);
}

static void
elements_edge(void **state)
{
	struct arena a;
	struct strbuf b;
	char err[200];
	size_t i;

	(void)state;
	arena_init(&a);
	strbuf_init(&b, 0);
	strbuf_puts(&b, "<r>");
	for (i = 1; i < XML_MAX_ELEMENTS; i++)
		strbuf_puts(&b, "<x/>");
	strbuf_puts(&b, "</r>");
	assert_false(strbuf_failed(&b));
	assert_non_null(xml_parse(&a, b.s, b.len, err, sizeof(err)));
	arena_free(&a);
	arena_init(&a);
	b.len -= 4;
	strbuf_puts(&b, "<x/></r>");
	assert_null(xml_parse(&a, b.s, b.len, err, sizeof(err)));
	assert_non_null(strstr(err, "too many elements"));
	strbuf_free(&b);
	arena_free(&a);
}

static void
text_and_size(void **state)
{
	struct arena a;
	struct strbuf b;
	char err[200], *big;
	size_t i;

	(void)state;
	arena_init(&a);
	strbuf_init(&b, 0);
	strbuf_puts(&b, "<r>");
	for (i = 0; i <= XML_MAX_TEXT; i++)
		strbuf_putc(&b, 'x');
	strbuf_puts(&b, "</r>");
	assert_null(xml_parse(&a, b.s, b.len, err, sizeof(err)));
	assert_non_null(strstr(err, "too long"));
	strbuf_free(&b);
	big = calloc(1, (size_t)XML_MAX_SIZE + 1);
	assert_non_null(big);
	assert_null(xml_parse(&a, big, (size_t)XML_MAX_SIZE + 1, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "larger than"));
	free(big);
	arena_free(&a);
}

static void
refused(void **state)
{
	static const char *const docs[] = {
		"<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>",
		"<!DOCTYPE r SYSTEM \"http://192.0.2.1/x.dtd\"><r/>",
		"<r>&undefined;</r>",
		"<r><a></r>",
		"",
		"<r/><s/>",
	};
	struct arena a;
	char err[200];
	size_t i;

	(void)state;
	arena_init(&a);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		err[0] = '\0';
		assert_null(xml_parse(&a, docs[i], strlen(docs[i]), err,
		    sizeof(err)));
		/* LINE:COLUMN: why */
		assert_true(err[0] >= '1' && err[0] <= '9');
		assert_non_null(strchr(err, ':'));
	}
	arena_free(&a);
}

static void
tree_and_paths(void **state)
{
	static const char doc[] =
	    "<?xml version=\"1.0\"?>\n<pfsense>\n<filter>\n"
	    "<rule a=\"1\"><descr>  <![CDATA[one & \"two\"]]>  </descr></rule>\n"
	    "<separator/>\n<rule><descr>x &amp; y</descr></rule>\n"
	    "</filter>\n<system/></pfsense>\n";
	struct arena a;
	struct xml_node *root, *f, *r1, *r2;
	char err[200];

	(void)state;
	arena_init(&a);
	root = xml_parse(&a, doc, strlen(doc), err, sizeof(err));
	assert_non_null(root);
	assert_string_equal(root->name, "pfsense");
	f = xml_child(root, "filter");
	assert_non_null(f);
	r1 = xml_child(f, "rule");
	assert_non_null(r1);
	assert_string_equal(xml_text(r1, "descr"), "one & \"two\"");
	r2 = xml_child(f, "separator")->next;
	assert_string_equal(r2->name, "rule");
	assert_string_equal(xml_text(r2, "descr"), "x & y");
	assert_int_equal(r1->line, 4);
	assert_string_equal(xml_path(&a, r1), "/pfsense/filter/rule[1]");
	assert_string_equal(xml_path(&a, r2), "/pfsense/filter/rule[2]");
	assert_string_equal(xml_path(&a, xml_child(r2, "descr")),
	    "/pfsense/filter/rule[2]/descr");
	assert_string_equal(xml_path(&a, f), "/pfsense/filter");
	assert_null(xml_text(root, "nothing"));
	assert_string_equal(xml_text(root, "system"), "");
	arena_free(&a);
}

/* A box whose import loses one thing, a port forward that changes the
 * port: the report must say WAN differs on exactly tcp 2222 to the
 * WAN's address, and that LAN is equivalent. */
static void
report_differs(void **state)
{
	static const char doc[] =
	    "<pfsense><interfaces>"
	    "<wan><enable/><if>em0</if><ipaddr>203.0.113.2</ipaddr>"
	    "<subnet>24</subnet></wan>"
	    "<lan><enable/><if>em1</if><ipaddr>10.0.0.1</ipaddr>"
	    "<subnet>24</subnet></lan></interfaces>"
	    "<filter><rule><type>pass</type><interface>lan</interface>"
	    "<source><network>lan</network></source><destination><any/>"
	    "</destination></rule>"
	    "<rule><type>block</type><interface>lan</interface>"
	    "<protocol>tcp</protocol><source><any/></source>"
	    "<destination><any/><port>25</port></destination></rule>"
	    "</filter><nat><rule><interface>wan</interface>"
	    "<protocol>tcp</protocol><source><any/></source>"
	    "<destination><network>wanip</network><port>2222</port>"
	    "</destination><target>10.0.0.5</target>"
	    "<local-port>22</local-port>"
	    "<associated-rule-id>pass</associated-rule-id></rule></nat>"
	    "</pfsense>";
	struct strbuf out, notes, report;
	char err[300];
	const char *r;
	int n;

	(void)state;
	strbuf_init(&out, 0);
	strbuf_init(&notes, 0);
	strbuf_init(&report, 0);
	n = import_xml(IMPORT_PFSENSE, "t.xml", doc, strlen(doc), &out, &notes,
	    &report, err, sizeof(err));
	assert_true(n >= 1);
	r = strbuf_str(&report);
	assert_non_null(strstr(r, "LAN: equivalent"));
	assert_non_null(strstr(r, "WAN: differs:\n    from 0.0.0.0-"
	    "255.255.255.255 to 203.0.113.2, tcp 2222: the source pass "
	    "(rdr pass, /pfsense/nat/rule)"));
	/* the only region that differs */
	assert_null(strstr(strstr(r, "tcp 2222") + 1, "    from"));
	strbuf_free(&out);
	strbuf_free(&notes);
	strbuf_free(&report);
}

/* iptables: a chain jumped to from FORWARD whose rule the import keeps:
 * equivalent on both interfaces. */
static void
report_iptables_equivalent(void **state)
{
	static const char doc[] =
	    "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n"
	    ":OUTPUT ACCEPT [0:0]\n:LANOUT - [0:0]\n"
	    "-A INPUT -i lan0 -p tcp --dport 22 -j ACCEPT\n"
	    "-A FORWARD -i lan0 -j LANOUT\n"
	    "-A LANOUT -p tcp --dport 25 -j REJECT\n"
	    "-A LANOUT -s 10.0.0.0/24 -j ACCEPT\n"
	    "COMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n"
	    "-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n";
	struct strbuf out, notes, report;
	char err[300];
	const char *r;

	(void)state;
	strbuf_init(&out, 0);
	strbuf_init(&notes, 0);
	strbuf_init(&report, 0);
	assert_true(import_iptables("t.rules", doc, strlen(doc), &out, &notes,
	    &report, err, sizeof(err)) >= 0);
	r = strbuf_str(&report);
	assert_non_null(strstr(r, "lan0: equivalent"));
	assert_non_null(strstr(r, "wan0: equivalent"));
	strbuf_free(&out);
	strbuf_free(&notes);
	strbuf_free(&report);
}


/* ---- a large generated config: one rule lost or changed ------------- */

/* A quick floating rule first in the file, on LAN only: nothing comes
 * before it in pf's order but the anti-lockout rule, which it does not
 * overlap, so every flow it matches is decided by it. */
static const char marker[] =
    "\t\t<rule>\n\t\t\t<type>pass</type>\n\t\t\t<interface>lan</interface>\n"
    "\t\t\t<floating>yes</floating>\n\t\t\t<quick>yes</quick>\n"
    "\t\t\t<direction>in</direction>\n"
    "\t\t\t<ipprotocol>inet</ipprotocol>\n\t\t\t<protocol>tcp</protocol>\n"
    "\t\t\t<source><any/></source>\n\t\t\t<destination><address>"
    "192.0.2.77</address><port>4242</port></destination>\n"
    "\t\t\t<descr>the marker</descr>\n\t\t</rule>\n";

/* conf with the line holding what (a comment) deleted (verb NULL), or
 * its first word (the action) made verb; the rule's number and line in
 * *number and *line. */
static char *
edit_line(const char *conf, const char *what, const char *verb, int *number,
    int *line)
{
	const char *at = strstr(conf, what), *bol, *eol, *p;
	size_t len = strlen(conf);
	char *out;
	int n = 0;

	assert_non_null(at);
	for (bol = at; bol > conf && bol[-1] != '\n'; bol--)
		;
	eol = strchr(at, '\n');
	assert_non_null(eol);
	*line = 1;
	for (p = conf; p < bol; p++)
		*line += *p == '\n';
	/* moat numbers the rules in file order */
	for (p = conf; p <= bol; p = strchr(p, '\n') + 1) {
		if (strncmp(p, "accept ", 7) == 0 || strncmp(p, "deny ", 5) ==
		    0 || strncmp(p, "reject ", 7) == 0)
			n++;
		if (strchr(p, '\n') == NULL)
			break;
	}
	*number = n;
	out = malloc(len + (verb != NULL ? strlen(verb) : 0) + 2);
	assert_non_null(out);
	memcpy(out, conf, (size_t)(bol - conf));
	out[bol - conf] = '\0';
	if (verb != NULL) {
		strcat(out, verb);
		strcat(out, strchr(bol, ' '));
	} else
		strcat(out, eol + 1);
	return out;
}

/* The report of xml against out, its import, with the marker's line
 * edited (edit_line), in report. */
static const char *
edited_report(const struct strbuf *xml, const struct strbuf *out,
    const char *verb, int *number, int *line, struct strbuf *report)
{
	char err[300], *conf = edit_line(strbuf_str(out), "comment \"the "
	    "marker\"", verb, number, line);

	strbuf_reset(report);
	assert_true(import_xml_against(IMPORT_PFSENSE, "g.xml",
	    strbuf_str(xml), xml->len, conf, strlen(conf), report, err,
	    sizeof(err)) >= 0);
	free(conf);
	return strbuf_str(report);
}

static void
report_large_changed(void **state)
{
	struct arena a;
	struct pfgen g;
	struct strbuf xml, out, notes, report;
	char err[300], want[400];
	const char *r, *at, *p;
	int number, line, k;
	size_t i;

	(void)state;
	arena_init(&a);
	pfgen_make(&g, &a, 1000, 1, 0);
	strbuf_init(&xml, 0);
	at = strstr(strbuf_str(&g.xml), "\t<filter>\n");
	assert_non_null(at);
	strbuf_printf(&xml, "%.*s\t<filter>\n%s%s", (int)(at -
	    strbuf_str(&g.xml)), strbuf_str(&g.xml), marker, at + 10);
	strbuf_init(&out, 0);
	strbuf_init(&notes, 0);
	strbuf_init(&report, 0);
	assert_true(import_xml(IMPORT_PFSENSE, "g.xml", strbuf_str(&xml),
	    xml.len, &out, &notes, &report, err, sizeof(err)) >= 0);
	/* as imported: every interface compared, and equivalent */
	r = strbuf_str(&report);
	for (i = 0; i < g.niface; i++) {
		snprintf(want, sizeof(want), "  %s: equivalent (", g.name[i]);
		assert_non_null(strstr(r, want));
	}
	/* the marker's accept made a deny: that one box, and only it */
	r = edited_report(&xml, &out, "deny", &number, &line, &report);
	snprintf(want, sizeof(want), "  LAN: differs:\n    from 0.0.0.0-"
	    "255.255.255.255 to 192.0.2.77, tcp 4242: the source pass "
	    "(/pfsense/filter/rule[1]), moat deny (rule %d, line %d)\n",
	    number, line);
	if (strstr(r, want) == NULL)
		fprintf(stderr, "want:\n%sgot:\n%s", want, r);
	assert_non_null(strstr(r, want));
	assert_null(strstr(strstr(r, "tcp 4242") + 1, "    from"));
	for (i = 0; i < g.niface; i++) {
		snprintf(want, sizeof(want), "  %s: equivalent (", g.name[i]);
		assert_true((strstr(r, want) == NULL) == (i == 1));
	}
	/* the marker lost: what it passed falls to the rules below, which
	 * decide it otherwise in places: every region says so */
	r = edited_report(&xml, &out, NULL, &number, &line, &report);
	assert_non_null(at = strstr(r, "  LAN: differs:\n"));
	for (k = 0, p = strstr(at, "    from "); p != NULL && strncmp(p,
	    "    from ", 9) == 0; p = strchr(p, '\n') + 1, k++) {
		const char *x = strstr(p, " to 192.0.2.77, tcp 4242: the "
		    "source pass (/pfsense/filter/rule[1]), moat ");

		assert_true(x != NULL && x < strchr(p, '\n'));
	}
	assert_true(k >= 1);
	strbuf_free(&xml);
	strbuf_free(&out);
	strbuf_free(&notes);
	strbuf_free(&report);
	pfgen_free(&g);
	arena_free(&a);
}

/* ---- random small rule sets against brute force ------------------- */

struct points {
	u128	*v;
	size_t	 n, cap;
};

static void
point(struct points *p, u128 x)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		assert_non_null(p->v);
	}
	p->v[p->n++] = x;
}

static void
points_of(struct points *p, struct iset s)
{
	size_t i;

	for (i = 0; i < s.n; i++) {
		point(p, s.v[i].lo);
		if (s.v[i].hi != U128_MAX)
			point(p, s.v[i].hi + 1);
	}
}

static int
cmp_u128(const void *x, const void *y)
{
	u128 a = *(const u128 *)x, b = *(const u128 *)y;

	return a < b ? -1 : a > b;
}

static void
points_done(struct points *p)
{
	size_t i, k = 0;

	qsort(p->v, p->n, sizeof(*p->v), cmp_u128);
	for (i = 0; i < p->n; i++)
		if (k == 0 || p->v[k - 1] != p->v[i])
			p->v[k++] = p->v[i];
	p->n = k;
}

/* pf's verdict as the generator meant the rules (pfgen.h), by this
 * test's own reading: on WAN the first port forward that matches (rdr
 * pass passes; else the rules see its target and port); the anti-lockout
 * rule, the floating rules, then the interface's; the last that matches
 * unless a quick one did; block by default. */
static enum pfgen_action
pf_decide(const struct pfgen *g, size_t k, u128 src, u128 dst, u128 key)
{
	enum pfgen_action last = PFGEN_BLOCK;
	int pass;
	size_t i;

	for (i = 0; k == 0 && i < g->nrdr; i++) {
		const struct pfgen_rdr *r = &g->rdrs[i];

		if (src < V4_BASE || src > V4_LAST || dst != g->ip[0] ||
		    key != ((u128)6 << 16 | r->port))
			continue;
		if (r->nordr)
			break;
		if (r->pass)
			return PFGEN_PASS;
		dst = r->target;
		key = (u128)6 << 16 | (unsigned)((int)r->port + r->shift);
		break;
	}

	if (k == 1 && g->antilockout && dst == g->ip[1] && (key ==
	    ((u128)6 << 16 | 22) || key == ((u128)6 << 16 | 80) ||
	    key == ((u128)6 << 16 | 443)))
		return PFGEN_PASS;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < g->n; i++) {
			const struct pfgen_rule *r = &g->rules[i];

			if (r->disabled || r->floating != (pass == 0) ||
			    !(r->ifs & 1u << k) ||
			    !iset_contains(r->src, src) ||
			    !iset_contains(r->dst, dst) ||
			    (!r->any_svc && !iset_contains(r->svc, key)))
				continue;
			if (r->quick)
				return r->action;
			last = r->action;
		}
	return last;
}

/* Each rule line of conf, as a list of line starts. */
static size_t
rule_lines(const char *conf, const char **v, size_t max)
{
	const char *p;
	size_t n = 0;

	for (p = conf; p != NULL && *p != '\0' && n < max; p = strchr(p,
	    '\n') != NULL ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, "accept ", 7) == 0 || strncmp(p, "deny ", 5) ==
		    0 || strncmp(p, "reject ", 7) == 0)
			v[n++] = p;
	return n;
}

/* conf edited at random: a rule's action changed, the rule deleted, or
 * moved below the next one. */
static char *
mutate(struct rng *rg, const char *conf)
{
	static const char *const acts[] = { "accept ", "deny ", "reject " };
	const char *v[512], *bol, *eol, *eol2;
	size_t n = rule_lines(conf, v, 512), len = strlen(conf);
	char *out = malloc(len + 16);
	unsigned what = (unsigned)rng_below(rg, 3);

	assert_non_null(out);
	if (n == 0) {
		strcpy(out, conf);
		return out;
	}
	bol = v[rng_below(rg, n)];
	eol = strchr(bol, '\n') + 1;
	memcpy(out, conf, (size_t)(bol - conf));
	out[bol - conf] = '\0';
	if (what == 0) {
		const char *sp = strchr(bol, ' ');
		size_t a = (size_t)rng_below(rg, 3);

		if (strncmp(bol, acts[a], (size_t)(sp - bol + 1)) == 0)
			a = (a + 1) % 3;
		strcat(out, acts[a]);
		strncat(out, sp + 1, (size_t)(eol - sp - 1));
		strcat(out, eol);
	} else if (what == 1 || (eol2 = strchr(eol, '\n')) == NULL) {
		strcat(out, eol);
	} else {
		strncat(out, eol, (size_t)(eol2 + 1 - eol));
		strncat(out, bol, (size_t)(eol - bol));
		strcat(out, eol2 + 1);
	}
	return out;
}

/* Whether moat's p and pf (g) decide alike every flow on interface k
 * (moat's ifc) whose addresses are points of ps and service a point of
 * pk (or the first key a flow can have after it). */
static bool
brute_agree(const struct pfgen *g, size_t k, const struct policy *p,
    const struct iface *ifc, const struct points *ps,
    const struct points *pk)
{
	static const enum action want[] = { ACT_ACCEPT, ACT_DENY, ACT_REJECT };
	size_t s, d, q;

	for (s = 0; s < ps->n; s++)
		for (d = 0; d < ps->n; d++) {
			bool v4 = ps->v[s] >= V4_BASE && ps->v[s] <= V4_LAST;

			if (v4 != (ps->v[d] >= V4_BASE && ps->v[d] <= V4_LAST))
				continue;
			for (q = 0; q < pk->n; q++) {
				struct flow f;
				struct verdict v;
				u128 key, end = q + 1 < pk->n ? pk->v[q + 1] -
				    1 : ((u128)256 << 16) - 1;

				if (!diff_first_key(pk->v[q], end, &key))
					continue;
				memset(&f, 0, sizeof(f));
				f.iface = ifc;
				f.src = ps->v[s];
				f.dst = ps->v[d];
				f.proto = (int)(key >> 16);
				f.dport = (unsigned)(key & 0xffff);
				policy_eval(p, &f, &v);
				if (v.action != want[pf_decide(g, k, f.src,
				    f.dst, key)])
					return false;
			}
		}
	return true;
}

static void
report_property(void **state)
{
	struct rng rg = { 28 };
	unsigned seed, ndiff = 0, neq = 0;

	(void)state;
	for (seed = 1; seed <= 250; seed++) {
		struct arena a;
		struct pfgen g;
		struct strbuf out, notes, report;
		struct points ps = { 0 }, pk = { 0 };
		struct policy *p;
		char err[300], *conf;
		size_t i, k, q;

		arena_init(&a);
		pfgen_make(&g, &a, 1 + (unsigned)rng_below(&rg, 8), seed,
		    PFGEN_SMALL | PFGEN_FORWARDS);
		strbuf_init(&out, 0);
		strbuf_init(&notes, 0);
		strbuf_init(&report, 0);
		assert_true(import_xml(IMPORT_PFSENSE, "p.xml",
		    strbuf_str(&g.xml), g.xml.len, &out, &notes, NULL, err,
		    sizeof(err)) >= 0);
		conf = rng_below(&rg, 3) == 0 ? strdup(strbuf_str(&out)) :
		    mutate(&rg, strbuf_str(&out));
		assert_true(import_xml_against(IMPORT_PFSENSE, "p.xml",
		    strbuf_str(&g.xml), g.xml.len, conf, strlen(conf), &report,
		    err, sizeof(err)) >= 0);
		p = policy_parse("moat.conf", conf, strlen(conf));
		assert_non_null(p);
		assert_int_equal(p->diags.nerrors, 0);
		/* the boundary points: every set's edges, on both sides */
		point(&ps, 0);
		point(&ps, V4_BASE);
		point(&ps, V4_LAST + 1);
		for (i = 0; i < g.n; i++) {
			points_of(&ps, g.rules[i].src);
			points_of(&ps, g.rules[i].dst);
			points_of(&pk, g.rules[i].svc);
		}
		for (i = 0; i < g.niface; i++) {
			point(&ps, g.ip[i]);
			point(&ps, g.ip[i] + 1);
			point(&ps, g.ip[i] & ~(u128)255);
			point(&ps, (g.ip[i] | 255) + 1);
		}
		for (i = 0; i < p->nrule; i++) {
			points_of(&ps, p->rules[i]->src.set);
			points_of(&ps, p->rules[i]->dst.set);
			points_of(&pk, p->rules[i]->svc.set);
		}
		if (p->lockout_rule != NULL)
			points_of(&pk, p->lockout_rule->svc.set);
		for (i = 0; i < p->nforward; i++)
			points_of(&pk, p->forwards[i]->svc.set);
		for (i = 0; i < g.nrdr; i++) {
			u128 key = (u128)6 << 16 | g.rdrs[i].port;
			size_t j, e, n = pk.n;

			point(&ps, g.rdrs[i].target);
			point(&ps, g.rdrs[i].target + 1);
			point(&pk, key);
			point(&pk, key + 1);
			/* the rules' edges, seen through the port change */
			for (j = 0; j < n; j++)
				for (e = 0; e < 1; e++)
					point(&pk, pk.v[j] - (u128)(__int128)
					    g.rdrs[i].shift);
		}
		for (q = 0; q <= 256; q++)
			point(&pk, (u128)q << 16);
		points_done(&ps);
		points_done(&pk);
		for (k = 0; k < g.niface; k++) {
			const struct iface *ifc = policy_iface(p, g.name[k]);
			char line[100];
			bool agree, said;

			assert_non_null(ifc);
			agree = brute_agree(&g, k, p, ifc, &ps, &pk);
			snprintf(line, sizeof(line), "  %s: equivalent (",
			    g.name[k]);
			said = strstr(strbuf_str(&report), line) != NULL;
			if (said != agree)
				fprintf(stderr, "seed %u, %s: the report says "
				    "%s, brute force %s\n%s\n%s\n%s", seed,
				    g.name[k], said ? "equivalent" : "not",
				    agree ? "agrees" : "does not",
				    strbuf_str(&g.xml), conf,
				    strbuf_str(&report));
			assert_true(said == agree);
			if (!said) {
				snprintf(line, sizeof(line), "  %s: differs:\n",
				    g.name[k]);
				assert_non_null(strstr(strbuf_str(&report),
				    line));
			}
			ndiff += !agree;
			neq += agree;
		}
		policy_free(p);
		free(ps.v);
		free(pk.v);
		free(conf);
		strbuf_free(&out);
		strbuf_free(&notes);
		strbuf_free(&report);
		pfgen_free(&g);
		arena_free(&a);
	}
	/* both answers were asked for */
	assert_true(ndiff >= 40 && neq >= 40);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(depth_edge),
		cmocka_unit_test(elements_edge),
		cmocka_unit_test(text_and_size),
		cmocka_unit_test(refused),
		cmocka_unit_test(tree_and_paths),
		cmocka_unit_test(report_differs),
		cmocka_unit_test(report_iptables_equivalent),
		cmocka_unit_test(report_large_changed),
		cmocka_unit_test(report_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

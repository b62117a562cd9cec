/* test_import.c: the import's door to XML (import/xml.h): its limits at
 * their edges (depth, elements, text, size), what it refuses (a document
 * type, an entity), what it keeps (text trimmed, CDATA, the paths of
 * siblings); and the equivalence report (import/proof.h) on a source
 * that differs from its moat.conf in one known place, so that the report
 * can fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/strbuf.h"
#include "import/import.h"
#include "import/xml.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

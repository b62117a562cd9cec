/* test_flowfmt.c: the replay's reader (flow lines, conntrack -L lines)
 * and `moat test --batch` against a reference that reads, decides and
 * prints one line at a time. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/eval.h"
#include "analyze/flowfmt.h"
#include "cli/batchcmd.h"
#include "output/printer.h"
#include "policy/load.h"
#include "gen.h"

static const char seed[] =
	"interface LAN device eth1 address 192.168.1.1/24 "
	"address 2001:db8:1::1/64\n"
	"interface WAN device eth0 address 203.0.113.2/24\n"
	"accept on LAN from 192.168.1.10/32 to ANY service SMTP\n"
	"deny   on LAN from ANY to ANY service SMTP\n";

static struct policy *
parse_ok(const char *text)
{
	struct policy *p = policy_parse("t.conf", text, strlen(text));

	assert_non_null(p);
	assert_true(policy_valid(p));
	return p;
}

/* A line and what flow_parse_line makes of it: 1 with the flow's
 * protocol, port and addresses, 0, or -1 with the start of its error. */
struct pcase {
	const char	*line;
	int		 want;
	int		 proto;
	unsigned	 dport;
	const char	*src, *dst;
	const char	*err;
};

static const struct pcase cases[] = {
	/* conntrack -L, -o extended, ICMP's type, IPv6 */
	{ "tcp      6 431999 ESTABLISHED src=192.168.1.50 dst=198.51.100.25 "
	  "sport=40000 dport=25 src=198.51.100.25 dst=192.168.1.50 "
	  "sport=25 dport=40000 [ASSURED] mark=0 use=1", 1, 6, 25,
	  "192.168.1.50", "198.51.100.25", NULL },
	{ "ipv4     2 udp      17 29 src=192.168.1.10 dst=9.9.9.9 sport=5353 "
	  "dport=53 [UNREPLIED] src=9.9.9.9 dst=192.168.1.10 sport=53 "
	  "dport=5353", 1, 17, 53, "192.168.1.10", "9.9.9.9", NULL },
	{ "icmp     1 29 src=1.1.1.1 dst=2.2.2.2 type=8 code=0 id=1 "
	  "src=2.2.2.2 dst=1.1.1.1 type=0 code=0 id=1", 1, 1, 8, "1.1.1.1",
	  "2.2.2.2", NULL },
	{ "ipv6     10 tcp      6 10 src=2001:db8:1::5 dst=2001:db8::2 sport=1 "
	  "dport=443", 1, 6, 443, "2001:db8:1::5", "2001:db8::2", NULL },
	{ "ipv6     10 icmpv6   58 29 src=2001:db8:1::5 dst=2001:db8::2 "
	  "type=128 code=0 id=5", 1, 58, 128, "2001:db8:1::5", "2001:db8::2",
	  NULL },
	{ "\ttcp\t6 1 src=192.168.1.10\tdst=8.8.8.8  dport=25   ", 1, 6, 25,
	  "192.168.1.10", "8.8.8.8", NULL },
	/* the protocol: "unknown N", and the first word that names one */
	{ "unknown  47 599 src=1.1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1", 1,
	  47, 0, "1.1.1.1", "2.2.2.2", NULL },
	{ "unknown 300 tcp 6 src=1.1.1.1 dst=2.2.2.2 dport=25", 1, 6, 25,
	  "1.1.1.1", "2.2.2.2", NULL },
	{ "dst=2.2.2.2 src=1.1.1.1 dport=25 tcp", 1, 6, 25, "1.1.1.1",
	  "2.2.2.2", NULL },
	{ "srcx=1.1.1.1 src=1.1.1.2 dst=2.2.2.2 tcp dport=25", 1, 6, 25,
	  "1.1.1.2", "2.2.2.2", NULL },
	{ "tcp dport=25 dport=26 src=1.1.1.1 dst=2.2.2.2", 1, 6, 25,
	  "1.1.1.1", "2.2.2.2", NULL },
	{ "udp 17 type=3 src=1.1.1.1 dst=2.2.2.2", 1, 17, 0, "1.1.1.1",
	  "2.2.2.2", NULL },
	{ "icmp 1 dport=80 type=3 src=1.1.1.1 dst=2.2.2.2", 1, 1, 3,
	  "1.1.1.1", "2.2.2.2", NULL },
	{ "src=1.1.1.1 dst=2.2.2.2 unknown", -1, 0, 0, NULL, NULL,
	  "no protocol" },
	{ "src=1.1.1.1 dst=2.2.2.2 unknown # 47", -1, 0, 0, NULL, NULL,
	  "no protocol" },
	{ "unknown x47 src=1.1.1.1 dst=2.2.2.2", -1, 0, 0, NULL, NULL,
	  "no protocol" },
	{ "TCP 6 src=1.1.1.1 dst=2.2.2.2 dport=25", -1, 0, 0, NULL, NULL,
	  "no protocol" },
	/* cut short, fields too long, bad addresses */
	{ "tcp      6 431999 ESTABLISHED src=192.168.1.50", -1, 0, 0, NULL,
	  NULL, "no src= or dst=" },
	{ "tcp 6 1 SYN_SENT src=1.1.1.1 dst=2.2.2.2 sport=1 dport=", -1, 0, 0,
	  NULL, NULL, "bad port '' (0-65535)" },
	{ "tcp 6 1 SYN_SENT src=1.1.1.1 dst=2.2.2.2 sport=1 dport=65536", -1,
	  0, 0, NULL, NULL, "bad port '65536' (0-65535)" },
	{ "tcp 6 1 src=1.1.1.1 dst=2.2.2.2 dport=99999999999999999999999", -1,
	  0, 0, NULL, NULL, "bad port '99999999999999999999999'" },
	{ "tcp 6 1 SYN_SENT src=1.1.1.256 dst=2.2.2.2 dport=25", -1, 0, 0,
	  NULL, NULL, "'1.1.1.256' is not an IPv4 address" },
	{ "tcp 6 1 SYN_SENT src=1.1.1 dst=2.2.2.2 dport=25", -1, 0, 0, NULL,
	  NULL, "'1.1.1' is not an IPv4 address" },
	{ "tcp 6 1 SYN_SENT src=01.1.1.1 dst=2.2.2.2 dport=25", -1, 0, 0,
	  NULL, NULL, "'01.1.1.1' is not an IPv4 address" },
	{ "tcp 6 1 src= dst=2.2.2.2 dport=25", -1, 0, 0, NULL, NULL,
	  "'' is not an IPv4 address" },
	{ "tcp 6 1 src=::ffff:1.2.3.4 dst=2.2.2.2 dport=25", -1, 0, 0, NULL,
	  NULL, "'::ffff:1.2.3.4' is an IPv4-mapped address" },
	{ "tcp 6 1 SYN_SENT src=1.1.1.1 dst=2001:db8::2 dport=25", -1, 0, 0,
	  NULL, NULL, "source and destination are of two families" },
	/* an ICMP type is a byte: 255 is one, 256 is refused, as a port of
	 * 65,536 is (not taken modulo) */
	{ "icmp 1 29 src=1.1.1.1 dst=2.2.2.2 type=255 code=0 id=1", 1, 1, 255,
	  "1.1.1.1", "2.2.2.2", NULL },
	{ "icmp 1 29 src=1.1.1.1 dst=2.2.2.2 type=256 code=0 id=1", -1, 0, 0,
	  NULL, NULL, "bad type '256' (0-255)" },
	{ "ipv6 10 icmpv6 58 29 src=2001:db8:1::5 dst=2001:db8::2 type=300 "
	  "code=0 id=5", -1, 0, 0, NULL, NULL, "bad type '300' (0-255)" },
	{ "icmp 1 29 src=1.1.1.1 dst=2.2.2.2 type=8x", -1, 0, 0, NULL, NULL,
	  "bad type '8x' (0-255)" },
	/* a line ends at '#' */
	{ "tcp 6 1 SYN_SENT src=1.1.1.1 #dst=2.2.2.2 dport=25", -1, 0, 0, NULL,
	  NULL, "no src= or dst=" },
	{ "   # comment src=1.1.1.1", 0, 0, 0, NULL, NULL, NULL },
	/* the other form */
	{ "LAN 192.168.1.10 8.8.8.8 tcp 25", 1, 6, 25, "192.168.1.10",
	  "8.8.8.8", NULL },
	{ "LAN 192.168.1.10 8.8.8.8 tcp", -1, 0, 0, NULL, NULL,
	  "tcp needs a port" },
	{ "DMZ 192.168.1.10 8.8.8.8 tcp 25", -1, 0, 0, NULL, NULL,
	  "unknown interface 'DMZ'" },
	{ "", 0, 0, 0, NULL, NULL, NULL },
};

static u128
addr(const char *s)
{
	enum addr_family fam;
	char err[200];
	u128 a;

	assert_int_equal(addr_parse(s, &a, &fam, err, sizeof(err)), 0);
	return a;
}

/* One case: what flow_parse_line says of it. */
static void
check_case(const struct policy *p, const struct pcase *c)
{
	struct flow f;
	char err[256] = "";
	int got = flow_parse_line(p, c->line, policy_iface(p, "LAN"), &f, err,
	    sizeof(err));

	if (got != c->want)
		fail_msg("'%.60s': %d (%s), not %d", c->line, got, err,
		    c->want);
	if (got == -1 && strncmp(err, c->err, strlen(c->err)) != 0)
		fail_msg("'%.60s': '%s', not '%s'", c->line, err, c->err);
	if (got == 1 && (f.proto != c->proto || f.dport != c->dport ||
	    f.src != addr(c->src) || f.dst != addr(c->dst) ||
	    f.iface != policy_iface(p, "LAN")))
		fail_msg("'%.60s': protocol %d port %u, not %d %u (or the "
		    "addresses differ)", c->line, f.proto, f.dport, c->proto,
		    c->dport);
}

static void
test_lines(void **state)
{
	struct policy *p = parse_ok(seed);
	struct flow f;
	char err[256], *line;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(p, &cases[i]);

	/* Without --in a conntrack line has no interface. */
	assert_int_equal(flow_parse_line(p, cases[0].line, NULL, &f, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "give --in IF"));

	/* A line ends at 64 words: src=, dst= and dport= as the 62nd to
	 * 64th are read, one word later they are not. */
	line = calloc(1, 4097);
	assert_non_null(line);
	strcpy(line, "tcp");
	for (i = 0; i < 60; i++)
		strcat(line, " w");
	strcat(line, " src=1.1.1.1 dst=2.2.2.2 dport=25");
	assert_int_equal(flow_parse_line(p, line, policy_iface(p, "LAN"), &f,
	    err, sizeof(err)), 1);
	assert_int_equal(f.dport, 25);
	memmove(line + 5, line + 3, strlen(line + 3) + 1);
	memcpy(line + 3, " w", 2);
	assert_int_equal(flow_parse_line(p, line, policy_iface(p, "LAN"), &f,
	    err, sizeof(err)), 1);
	assert_int_equal(f.dport, 0);
	memmove(line + 5, line + 3, strlen(line + 3) + 1);
	memcpy(line + 3, " w", 2);
	assert_int_equal(flow_parse_line(p, line, policy_iface(p, "LAN"), &f,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "no src= or dst=");

	/* A word of 4,000 bytes is read (and refused as an address); a
	 * line of 4,096 is refused whole. */
	memset(line, 0, 4097);
	strcpy(line, "tcp 6 src=");
	memset(line + strlen(line), '1', 4000);
	strcat(line, " dst=2.2.2.2");
	assert_int_equal(flow_parse_line(p, line, policy_iface(p, "LAN"), &f,
	    err, sizeof(err)), -1);
	assert_true(strncmp(err, "'1111", 5) == 0);
	memset(line, 'x', 4096);
	memcpy(line, "src=", 4);
	line[4096] = '\0';
	assert_int_equal(flow_parse_line(p, line, policy_iface(p, "LAN"), &f,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "line longer than 4095 bytes");
	free(line);
	policy_free(p);
}

/* What flow_parse_line_len says of line (its own exact buffer, so that
 * a read past its NUL is caught by the sanitizer), as text. */
static void
parse_as_text(const struct policy *p, const char *line, size_t len,
    char *out, size_t outlen)
{
	char *buf = malloc(len + 1), err[256] = "", a[ADDR_STRLEN],
	    b[ADDR_STRLEN];
	struct flow f;
	int got;

	assert_non_null(buf);
	memcpy(buf, line, len);
	buf[len] = '\0';
	got = flow_parse_line_len(p, buf, len, policy_iface(p, "LAN"), &f,
	    err, sizeof(err));
	addr_format(f.src, a, sizeof(a));
	addr_format(f.dst, b, sizeof(b));
	if (got == 1)
		snprintf(out, outlen, "1 %d %u %s %s", f.proto, f.dport, a, b);
	else
		snprintf(out, outlen, "%d %s", got, got == -1 ? err : "");
	free(buf);
}

/*
 * The reader finds a line's words 64 bytes at a time: every case read
 * the same with its words moved across those blocks' edges (1 to 130
 * bytes of every kind of space before it, and spaces between its words
 * doubled), with a byte below 0x21 that is no space inside a word, and
 * ending at the very end of its buffer.
 */
static void
test_blocks(void **state)
{
	static const char spaces[] = " \t\v\f\r";
	struct policy *p = parse_ok(seed);
	char want[512], got[512], *t;
	size_t i, k, j, n;

	(void)state;
	t = malloc(8192);
	assert_non_null(t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *line = cases[i].line;

		parse_as_text(p, line, strlen(line), want, sizeof(want));
		for (k = 1; k <= 130; k++) {
			for (j = 0; j < k; j++)
				t[j] = spaces[j % 5];
			strcpy(t + k, line);
			parse_as_text(p, t, strlen(t), got, sizeof(got));
			if (strcmp(got, want) != 0)
				fail_msg("'%.60s' after %zu spaces: '%s', not "
				    "'%s'", line, k, got, want);
			/* each space doubled, by a tab */
			for (n = k, j = 0; line[j] != '\0'; j++) {
				t[n++] = line[j];
				if (line[j] == ' ')
					t[n++] = '\t';
			}
			t[n] = '\0';
			parse_as_text(p, t, n, got, sizeof(got));
			if (strcmp(got, want) != 0)
				fail_msg("'%.60s' spaced, after %zu: '%s', not "
				    "'%s'", line, k, got, want);
		}
	}
	/* A control byte is part of its word, at any place in a block. */
	for (k = 0; k <= 70; k++) {
		memset(t, ' ', k);
		snprintf(t + k, 8192 - k, "tcp 6 ESTAB\001LISHED src=1.1.1.1 "
		    "dst=2.2.2.2 sport=\0331 dport=25");
		parse_as_text(p, t, strlen(t), got, sizeof(got));
		assert_string_equal(got, "1 6 25 1.1.1.1 2.2.2.2");
		snprintf(t + k, 8192 - k, "tcp 6 src=1.1.1.1\001 dst=2.2.2.2 "
		    "dport=25");
		parse_as_text(p, t, strlen(t), got, sizeof(got));
		assert_string_equal(got, "-1 '1.1.1.1\001' is not an IPv4 "
		    "address");
	}
	/* A line cut by a NUL ends there, though its bound says more. */
	strcpy(t, "tcp 6 src=1.1.1.1 dst=2.2.2.2 dport=25");
	memcpy(t + strlen(t) + 1, " dport=26 src=9.9.9.9", 22);
	{
		char *b = malloc(61), err[256];
		struct flow f;

		assert_non_null(b);
		memcpy(b, t, 60);
		b[60] = '\0';
		assert_int_equal(flow_parse_line_len(p, b, 60,
		    policy_iface(p, "LAN"), &f, err, sizeof(err)), 1);
		assert_int_equal(f.dport, 25);
		free(b);
	}
	free(t);
	policy_free(p);
}

/*
 * A conntrack line's addresses, read by the replay's own IPv4 reader and
 * by addr_parse where that reader declines: whatever the word, the line
 * says what addr_parse says of it.  Random words of digits and dots (and
 * now and then another byte) of 1 to 18 bytes, most of them near an
 * address (numbers of one to four digits, leading zeros, over 255, dots
 * doubled or missing), as src= in the middle of a line and as the last
 * word, ending at the very end of its buffer.
 */
static void
test_v4_words(void **state)
{
	static const char other[] = "x:-/ \001";
	struct policy *p = parse_ok(seed);
	char word[32], line[128], want[512], got[512], err[256], a[ADDR_STRLEN];
	enum addr_family fam;
	struct rng r = { 7 };
	u128 v;
	int i, k, n;

	(void)state;
	for (i = 0; i < 200000; i++) {
		n = 0;
		if (i % 3 != 0) {
			/* near an address: four numbers */
			for (k = 0; k < 4 + (int)((unsigned)rng_below(&r, 1u << 16) % 7 == 0);
			    k++) {
				unsigned x = (unsigned)rng_below(&r, 1u << 16) % 1100;

				if (k > 0 && (unsigned)rng_below(&r, 1u << 16) % 23 != 0)
					word[n++] = '.';
				if ((unsigned)rng_below(&r, 1u << 16) % 17 == 0)
					word[n++] = '0';
				n += snprintf(word + n, sizeof(word) - (size_t)n,
				    "%u", x % ((unsigned)rng_below(&r, 1u << 16) % 2 ? 256 : 1100));
				if (n > 18)
					break;
			}
			if (n > 18)
				n = 18;
		} else {
			int len = 1 + (int)((unsigned)rng_below(&r, 1u << 16) % 18);

			for (k = 0; k < len; k++)
				word[n++] = (unsigned)rng_below(&r, 1u << 16) % 4 == 0 ? '.' :
				    (char)('0' + (unsigned)rng_below(&r, 1u << 16) % 10);
		}
		if ((unsigned)rng_below(&r, 1u << 16) % 29 == 0)
			word[(unsigned)rng_below(&r, 1u << 16) % (unsigned)n] =
			    other[(unsigned)rng_below(&r, 1u << 16) % (sizeof(other) - 1)];
		word[n] = '\0';
		if (strchr(word, ' ') != NULL)
			continue;	/* two words: another line */
		if (addr_parse(word, &v, &fam, err, sizeof(err)) == -1)
			snprintf(want, sizeof(want), "-1 %s", err);
		else if (fam != FAM_V4)
			snprintf(want, sizeof(want), "-1 source and destination "
			    "are of two families");
		else {
			addr_format(v, a, sizeof(a));
			snprintf(want, sizeof(want), "1 6 25 %s 2.2.2.2", a);
		}
		n = snprintf(line, sizeof(line), "tcp 6 src=%s dst=2.2.2.2 "
		    "sport=1 dport=25", word);
		parse_as_text(p, line, (size_t)n, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("src=%s: '%s', not '%s'", word, got, want);
		n = snprintf(line, sizeof(line), "tcp 6 dst=2.2.2.2 dport=25 "
		    "src=%s", word);
		parse_as_text(p, line, (size_t)n, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("src=%s last: '%s', not '%s'", word, got,
			    want);
	}
	policy_free(p);
}

/* Flow f as a line of one of the two forms (a conntrack line when ct),
 * into b. */
static void
flow_line(const struct flow *f, bool ct, struct strbuf *b)
{
	const struct proto_info *pi = builtin_proto_by_number(f->proto);
	char s[ADDR_STRLEN], d[ADDR_STRLEN];

	addr_format(f->src, s, sizeof(s));
	addr_format(f->dst, d, sizeof(d));
	if (!ct) {
		strbuf_printf(b, "%s %s %s %d", f->iface->name, s, d, f->proto);
		if (pi != NULL && pi->kind != PK_NONE)
			strbuf_printf(b, " %u", f->dport);
		strbuf_putc(b, '\n');
		return;
	}
	if (pi == NULL)
		strbuf_printf(b, "unknown  %d 599 ", f->proto);
	else
		strbuf_printf(b, "%-8s %d 431999 ESTABLISHED ", pi->name,
		    f->proto);
	strbuf_printf(b, "src=%s dst=%s ", s, d);
	if (pi != NULL && pi->kind == PK_PORTS)
		strbuf_printf(b, "sport=40000 dport=%u ", f->dport);
	else if (pi != NULL && pi->kind == PK_TYPES)
		strbuf_printf(b, "type=%u code=0 id=7 ", f->dport);
	strbuf_printf(b, "src=%s dst=%s [ASSURED] mark=0 use=1\n", d, s);
}

/* What the replay of text says, read, decided and printed one line at a
 * time: the answer's form of batchcmd.h, printer_verdict's text.  The
 * flows decided and the lines refused in *nflows, *nbad. */
static void
reference(const struct policy *p, const struct iface *in, char *text,
    struct strbuf *b, size_t *nflows, size_t *nbad)
{
	char *line, *next, err[256];
	size_t lineno = 0;

	for (line = text; *line != '\0'; line = next) {
		struct flow f;
		struct verdict v;
		char a[ADDR_STRLEN];
		int r;

		next = strchr(line, '\n');
		next = next != NULL ? (*next = '\0', next + 1) :
		    line + strlen(line);
		lineno++;
		if ((r = flow_parse_line(p, line, in, &f, err,
		    sizeof(err))) == 0)
			continue;
		if (r == -1) {
			strbuf_printf(b, "error: line %zu: %s\n", lineno, err);
			(*nbad)++;
			continue;
		}
		(*nflows)++;
		f.week_min = 0;
		policy_eval(p, &f, &v);
		addr_format(f.src, a, sizeof(a));
		strbuf_printf(b, "%s %s -> ", f.iface->name, a);
		addr_format(f.dst, a, sizeof(a));
		strbuf_printf(b, "%s ", a);
		printer_flow_service(&f, b);
		strbuf_puts(b, ": ");
		printer_verdict(p, &f, &v, b);
		strbuf_putc(b, '\n');
	}
}

/* batch_replay of text, with the index or without, by threads threads
 * reading blocks of block bytes (0, 0: the defaults). */
static void
replay(const struct policy *p, const struct policy_index *idx,
    const struct iface *in, const char *text, size_t len, unsigned threads,
    size_t block, char **out, size_t *outlen, size_t *nflows, size_t *nbad)
{
	struct batch_opts o = { "flows", in, false, 0, threads, block };
	FILE *fp = fmemopen((void *)(uintptr_t)text, len, "r");
	FILE *w = open_memstream(out, outlen);

	assert_non_null(fp);
	assert_non_null(w);
	assert_int_equal(batch_replay(p, idx, &o, fp, w, nflows, nbad), 0);
	fclose(fp);
	fclose(w);
}

/*
 * Random office policies with forwards, 1:1s and masquerades' answers
 * aside; thousands of flows of both forms with blank, comment, bad and
 * CRLF lines among them, many batches' worth: the replay, with the index
 * and without, by one thread and by several, in one chunk and in a
 * hundred (blocks of 2 KB: the least there is; 3 threads on this
 * machine's 2 cores finish chunks out of order), prints what the
 * reference does, byte for byte.
 */
static void
test_replay(void **state)
{
	static const struct {
		bool		 index;
		unsigned	 threads;
		size_t		 block;
	} how[] = {
		{ true, 1, 0 }, { true, 1, 2048 }, { true, 3, 2048 },
		{ true, 2, 5000 }, { true, 0, 0 }, { false, 1, 0 },
		{ false, 2, 2048 },
	};
	struct rng r = { 27 };
	struct strbuf text, in, want;
	int round, rounds = 0;

	(void)state;
	strbuf_init(&text, 0);
	strbuf_init(&in, 0);
	strbuf_init(&want, 0);
	for (round = 0; round < 6; round++) {
		struct gen_opts o = { round % 2 ? GEN_OFFICE : GEN_DENSE,
		    round % 2 ? 2000 : 40, 20, 8, false, round == 2, round == 4 };
		struct policy *p;
		struct policy_index *idx;
		char *out, *ref;
		size_t outlen, nflows, nbad, i, k, lines = 3000, flows = 0;
		size_t bad = 0;
		size_t reading = 0;

		strbuf_reset(&text);
		gen_policy(&r, &o, &text);
		p = policy_parse("gen.conf", strbuf_str(&text), text.len);
		assert_non_null(p);
		if (!policy_valid(p)) {
			policy_free(p);
			continue;
		}
		idx = policy_index(p, 1u << 20);
		assert_non_null(idx);
		strbuf_reset(&in);
		for (i = 0; i < lines; i++) {
			struct flow f;

			switch (rng_below(&r, 40)) {
			case 0:
				strbuf_puts(&in, "\n");
				continue;
			case 1:
				strbuf_puts(&in, "  # a comment src=1.1.1.1\n");
				continue;
			case 2:
				strbuf_puts(&in, "tcp 6 1 src=1.1.1.300 "
				    "dst=2.2.2.2 dport=25\n");
				reading++;
				continue;
			case 3:
				strbuf_puts(&in, "NOSUCH 1.1.1.1 2.2.2.2 tcp "
				    "25\r\n");
				reading++;
				continue;
			}
			gen_flow(&r, p, &f);
			flow_line(&f, i % 3 != 0, &in);
		}
		/* the last line without its newline */
		in.len--;
		strbuf_reset(&want);
		ref = strdup(strbuf_str(&in));
		assert_non_null(ref);
		/* the reader drops a CR before the newline */
		for (i = 0; ref[i] != '\0'; i++)
			if (ref[i] == '\r')
				ref[i] = ' ';
		reference(p, p->ifaces[0], ref, &want, &flows, &bad);
		assert_true(bad >= reading && flows > lines / 2);
		free(ref);

		for (k = 0; k < sizeof(how) / sizeof(how[0]); k++) {
			replay(p, how[k].index ? idx : NULL, p->ifaces[0],
			    strbuf_str(&in), in.len, how[k].threads,
			    how[k].block, &out, &outlen, &nflows, &nbad);
			if (outlen != want.len || memcmp(out,
			    strbuf_str(&want), outlen) != 0)
				fail_msg("round %d: the replay %s the index, "
				    "%u threads, blocks of %zu differs from "
				    "the reference", round, how[k].index ?
				    "with" : "without", how[k].threads,
				    how[k].block);
			assert_int_equal(nflows, flows);
			assert_int_equal(nbad, bad);
			free(out);
		}
		policy_index_free(idx);
		policy_free(p);
		rounds++;
	}
	printf("replay: %d policies, 3,000 lines each, the same answers as "
	    "the reference with the index and without\n", rounds);
	assert_true(rounds >= 4);
	strbuf_free(&text);
	strbuf_free(&in);
	strbuf_free(&want);
}

/* A stream that takes limit bytes, then fails every write (a full
 * disk). */
struct failing {
	size_t	 left;
};

static ssize_t
failing_write(void *cookie, const char *buf, size_t n)
{
	struct failing *fl = cookie;

	(void)buf;
	if (n > fl->left) {
		/* (0: glibc's fwrite then says it wrote nothing; after -1
		 * it says it wrote everything and only sets the error) */
		fl->left = 0;
		errno = ENOSPC;
		return 0;
	}
	fl->left -= n;
	return (ssize_t)n;
}

/*
 * A write that fails stops the replay, which says so, while the workers
 * still answer the chunks they took: with the verdicts' texts shared,
 * those read texts the other workers printed, which must not be freed
 * before every worker has stopped (AddressSanitizer sees such a read;
 * freeing each worker's texts as it was joined was caught in 4 of 5
 * runs of 20 failed replays; this makes 60).
 */
static void
test_write_fails(void **state)
{
	struct gen_opts o = { GEN_OFFICE, 2000, 20, 8, false, false, false };
	struct rng r = { 31 };
	struct strbuf text, in;
	struct policy *p;
	struct policy_index *idx;
	size_t i, nflows, nbad;
	int run;

	(void)state;
	strbuf_init(&text, 0);
	strbuf_init(&in, 0);
	gen_policy(&r, &o, &text);
	p = parse_ok(strbuf_str(&text));
	idx = policy_index(p, 1u << 20);
	assert_non_null(idx);
	for (i = 0; i < 20000; i++) {
		struct flow f;

		gen_flow(&r, p, &f);
		flow_line(&f, true, &in);
	}
	for (run = 0; run < 60; run++) {
		struct batch_opts bo = { "flows", p->ifaces[0], false, 0, 3,
		    2048 };
		struct failing fl = { 100 + 2000 * (size_t)run };
		cookie_io_functions_t io = { NULL, failing_write, NULL, NULL };
		FILE *fp = fmemopen((void *)(uintptr_t)strbuf_str(&in), in.len,
		    "r");
		FILE *w = fopencookie(&fl, "w", io);

		assert_non_null(fp);
		assert_non_null(w);
		setvbuf(w, NULL, _IONBF, 0);
		assert_int_equal(batch_replay(p, idx, &bo, fp, w, &nflows,
		    &nbad), -1);
		fclose(fp);
		fclose(w);
	}
	policy_index_free(idx);
	policy_free(p);
	strbuf_free(&text);
	strbuf_free(&in);
}

/* The replay's IPv4 addresses (addr_format_len's table of octets)
 * against inet_ntop: every octet in every place, and random ones. */
static void
test_format(void **state)
{
	struct rng r = { 5 };
	char got[ADDR_STRLEN], want[INET_ADDRSTRLEN];
	struct in_addr in;
	uint32_t v;
	size_t n;
	int i, at;

	(void)state;
	for (i = 0; i < 256 * 4 + 100000; i++) {
		at = i / 256;
		v = at < 4 ? (uint32_t)(i % 256) << (8 * at) |
		    (at % 2 ? 0x0a000001u : 0) : (uint32_t)rng_next(&r);
		memset(got, 'x', sizeof(got));
		n = addr_format_len(V4_BASE | v, got, sizeof(got));
		in.s_addr = htonl(v);
		assert_non_null(inet_ntop(AF_INET, &in, want, sizeof(want)));
		assert_string_equal(got, want);
		assert_int_equal(n, strlen(want));
	}
	n = addr_format_len(V4_BASE - 1, got, sizeof(got));
	assert_string_equal(got, "::fffe:ffff:ffff");
	assert_int_equal(n, strlen(got));
}

/* IPv6 text is inet_ntop's: runs of zero groups of every length at
 * every place (the longest, the first of equal ones, none of one group),
 * groups of one to four digits, the IPv4 forms of ::a.b.c.d and
 * ::ffff:a.b.c.d's neighbours, and random addresses. */
static void
test_format6(void **state)
{
	static const unsigned kinds[] = { 0, 0, 0, 1, 0xf, 0xab, 0xfff,
	    0xffff, 0x1000, 0x20 };
	struct rng r = { 7 };
	char got[ADDR_STRLEN], want[INET6_ADDRSTRLEN];
	unsigned char b[16];
	u128 a;
	size_t n;
	int i, k;

	(void)state;
	for (i = 0; i < 400000; i++) {
		a = 0;
		for (k = 0; k < 8; k++) {
			uint32_t x = (uint32_t)rng_next(&r);
			unsigned w = i % 4 == 3 ? x & 0xffff :
			    kinds[x % (sizeof(kinds) / sizeof(kinds[0]))];

			a = a << 16 | w;
		}
		if (i < 256 * 256)	/* every pattern of zero groups */
			for (k = 0; k < 8; k++)
				if (i & (1 << k))
					a &= ~((u128)0xffff << (16 * k));
		if (addr_family_of(a) == FAM_V4)
			continue;
		for (k = 15; k >= 0; k--)
			b[k] = (unsigned char)(a >> (8 * (15 - k)));
		memset(got, 'x', sizeof(got));
		n = addr_format_len(a, got, sizeof(got));
		assert_non_null(inet_ntop(AF_INET6, b, want, sizeof(want)));
		if (strcmp(got, want) != 0)
			fail_msg("'%s', not inet_ntop's '%s'", got, want);
		assert_int_equal(n, strlen(want));
	}
	for (i = 0; i < 3; i++) {
		static const char *const fixed[] = { "::1.2.3.4",
		    "::fffe:102:304", "::1:ffff:102:304" };

		assert_int_equal(inet_pton(AF_INET6, fixed[i], b), 1);
		for (a = 0, k = 0; k < 16; k++)
			a = a << 8 | b[k];
		addr_format_len(a, got, sizeof(got));
		assert_string_equal(got, fixed[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format6),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_v4_words),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_write_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

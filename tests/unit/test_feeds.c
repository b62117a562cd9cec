/* test_feeds.c: the dynamic objects' building blocks (src/feeds): a url
 * object's list (urllist), an fqdn object's bookkeeping driven through its
 * seams (fqdn_answer, fqdn_fail) and once through the resolver of /etc/hosts,
 * and a country object's networks from MMDB files the test writes itself
 * (tests/data/mkmmdb.pl, path in MOAT_MKMMDB). */
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

#include "base/addr.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/iset.h"
#include "feeds/fqdn.h"
#include "feeds/geoip.h"
#include "feeds/urllist.h"
#include "net/dns.h"

/* The set of the literals in s, separated by spaces. */
static struct iset
set_of(struct arena *a, const char *s)
{
	struct iset out = { 0, NULL };
	char buf[2048], *tok, *save = NULL, err[200];

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		struct addr_lit lit;

		if (addr_parse_lit(tok, false, &lit, err, sizeof(err), NULL, 0)
		    == -1)
			fail_msg("%s: %s", tok, err);
		out = iset_union(a, out, addr_lit_set(a, &lit));
	}
	return out;
}

static void
print_set(struct iset s)
{
	size_t i;
	char lo[ADDR_STRLEN], hi[ADDR_STRLEN];

	for (i = 0; i < s.n; i++) {
		addr_format(s.v[i].lo, lo, sizeof(lo));
		addr_format(s.v[i].hi, hi, sizeof(hi));
		fprintf(stderr, "  %s-%s\n", lo, hi);
	}
}

static void
want_set(struct arena *a, struct iset got, const char *want)
{
	if (!iset_equal(got, set_of(a, want))) {
		fprintf(stderr, "got:\n");
		print_set(got);
		fail_msg("not %s", want);
	}
}

/* ---- urllist ---- */

static void
test_urllist_good(void **state)
{
	struct arena a;
	struct iset s;
	size_t n;
	char err[200];
	static const char list[] =
	    "; Spamhaus DROP List 2026/12/04\n"
	    "1.2.3.4\n"
	    "10.0.0.0/8 ; SBL123\n"
	    "# a comment\n"
	    "\n"
	    "   \t\n"
	    "  192.168.1.7/24  \r\n"		/* host bits, blanks, CRLF */
	    "2001:db8::/32\t# v6\n"
	    "10.1.1.1-10.1.1.5\n"		/* inside 10/8 */
	    "172.16.0.1-172.16.0.9\r\n"
	    "2001:db9::1-2001:db9::ff\n"
	    "198.51.100.0/255.255.255.0\n"
	    "203.0.113.9";			/* no newline at the end */

	(void)state;
	arena_init(&a);
	assert_int_equal(urllist_parse(list, sizeof(list) - 1, 100, &a, &s, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 9);
	want_set(&a, s, "1.2.3.4 10.0.0.0/8 192.168.1.0/24 2001:db8::/32 "
	    "172.16.0.1-172.16.0.9 2001:db9::1-2001:db9::ff "
	    "198.51.100.0/24 203.0.113.9");
	/* exactly max entries is fine */
	assert_int_equal(urllist_parse(list, sizeof(list) - 1, 9, &a, &s, &n,
	    err, sizeof(err)), 0);
	/* nothing but comments: an empty set */
	assert_int_equal(urllist_parse("# none\n\n", 8, 10, &a, &s, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_true(iset_empty(s));
	assert_int_equal(urllist_parse("", 0, 10, &a, &s, &n, err,
	    sizeof(err)), 0);
	/* ::/0 is every IPv6 address, not IPv4 too (addr.h) */
	assert_int_equal(urllist_parse("::/0\n", 5, 10, &a, &s, &n, err,
	    sizeof(err)), 0);
	assert_false(iset_contains(s, V4_BASE | 0x01020304));
	assert_true(iset_contains(s, 1));
	arena_free(&a);
}

static void
test_urllist_bad(void **state)
{
	struct arena a;
	struct iset s;
	size_t n;
	char err[200];

	(void)state;
	arena_init(&a);
#define BAD(text, max, w) do {						\
	err[0] = '\0';							\
	n = 99;								\
	assert_int_equal(urllist_parse(text, strlen(text), max, &a, &s,	\
	    &n, err, sizeof(err)), -1);					\
	assert_int_equal(s.n, 0);					\
	assert_int_equal(n, 0);						\
	if (strstr(err, w) == NULL)					\
		fail_msg("%s: got '%s'", text, err);			\
} while (0)
	/* a captive portal's page */
	BAD("1.2.3.4\n5.6.7.8\n<!DOCTYPE html>\n<html><body>Log in</body>\n",
	    100, "line 3: '<!DOCTYPE html>' is not an address");
	BAD("1.2.3.4 5.6.7.8\n", 100, "line 1: '1.2.3.4 5.6.7.8' is not");
	BAD("1.2.3.4\r\n\r\n1.2.3.256\r\n", 100, "line 3: '1.2.3.256'");
	BAD("1.2.3.0/33\n", 100, "line 1: ");
	BAD("::ffff:1.2.3.4\n", 100, "line 1: '::ffff:1.2.3.4' is an "
	    "IPv4-mapped address");
	BAD("::ffff:0:0/96\n", 100, "IPv4-mapped");
	BAD("1.2.3.9-1.2.3.1\n", 100, "line 1: reversed range");
	BAD("1.2.3.4-2001:db8::1\n", 100, "mixes IPv4 and IPv6");
	BAD("x\x01\xff\n", 100, "line 1: 'x?" "?' is not");
	BAD("1.2.3.4\n1.2.3.5\n1.2.3.6\n", 2, "more than 2 entries");
	BAD("1.1.1.1\n"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    100, "line 2: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not");
#undef BAD
	arena_free(&a);
}

/* A million lines, as a big list (FireHOL level 3 has some 20,000; the
 * default cap is a million): the time printed, not asserted. */
static void
test_urllist_speed(void **state)
{
	struct arena a;
	struct iset s;
	size_t n, i, len = 0, cap = 40 * 1000000;
	char *text, err[200];
	long long t0, t1;

	(void)state;
	assert_non_null(text = malloc(cap));
	for (i = 0; i < 1000000; i++) {
		uint32_t x = (uint32_t)(i * 2654435761u);

		if (i % 10 == 0)
			len += (size_t)snprintf(text + len, cap - len,
			    "2001:db8:%x::/48 ; v6\n", (unsigned)(i & 0xffff));
		else
			len += (size_t)snprintf(text + len, cap - len,
			    "%u.%u.%u.%u/%u\n", x >> 24, (x >> 16) & 255,
			    (x >> 8) & 255, x & 255, 20 + (unsigned)(i % 13));
	}
	arena_init(&a);
	t0 = clock_ms();
	assert_int_equal(urllist_parse(text, len, URLLIST_MAX_DEFAULT, &a, &s,
	    &n, err, sizeof(err)), 0);
	t1 = clock_ms();
	assert_int_equal(n, 1000000);
	fprintf(stderr, "urllist: 1,000,000 lines (%zu bytes) in %lld ms, "
	    "%zu intervals\n", len, t1 - t0, s.n);
	assert_int_equal(urllist_parse(text, len, URLLIST_MAX_DEFAULT - 1, &a,
	    &s, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 999999 entries");
	arena_free(&a);
	free(text);
}

/* ---- fqdn ---- */

#define V4(a, b, c, d)	(V4_BASE | (u128)((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d)))

static void
test_fqdn_bookkeeping(void **state)
{
	const char *names[] = { "www.Example.NET.", "api.example.net" };
	u128 first[] = { V4(192, 0, 2, 1), V4(192, 0, 2, 2) };
	u128 second[] = { V4(192, 0, 2, 2), V4(192, 0, 2, 3) };
	u128 other[] = { (u128)0x20010db8 << 96 | 1 };
	struct fqdn *f;
	struct arena a;
	char err[200];
	long long t = 1000000;

	(void)state;
	arena_init(&a);
	assert_non_null(f = fqdn_new(names, 2, err, sizeof(err)));
	assert_int_equal(fqdn_count(f), 2);
	assert_string_equal(fqdn_name(f, 0), "www.example.net");
	assert_int_equal(fqdn_due(f), 0);		/* never asked: now */
	assert_true(iset_empty(fqdn_contents(f, &a, t)));
	assert_null(fqdn_error(f, 0));
	assert_int_equal(fqdn_failing(f), 0);

	/* a TTL of 300 within [60, 3600] */
	fqdn_answer(f, 0, t, first, 2, 300, 60, 3600);
	fqdn_answer(f, 1, t, other, 1, 7200, 60, 3600);	/* clamped down */
	want_set(&a, fqdn_contents(f, &a, t), "192.0.2.1 192.0.2.2 "
	    "2001:db8::1");
	assert_int_equal(fqdn_due(f), t + 300000);

	/* 192.0.2.1 leaves the answer: one TTL more (its 300 s), though the
	 * new TTL (5, clamped up to 60) is shorter */
	t += 300000;
	fqdn_answer(f, 0, t, second, 2, 5, 60, 3600);
	want_set(&a, fqdn_contents(f, &a, t), "192.0.2.1 192.0.2.2 192.0.2.3 "
	    "2001:db8::1");
	assert_int_equal(fqdn_due(f), t + 60000);	/* the refresh first */
	/* the next answer is the same: 192.0.2.1's grace is not extended */
	fqdn_answer(f, 0, t + 60000, second, 2, 60, 60, 3600);
	assert_int_equal(fqdn_due(f), t + 120000);
	fqdn_answer(f, 0, t + 120000, second, 2, 3600, 60, 3600);
	assert_int_equal(fqdn_due(f), t + 300000);	/* the grace's end */
	want_set(&a, fqdn_contents(f, &a, t + 299999), "192.0.2.1 192.0.2.2 "
	    "192.0.2.3 2001:db8::1");
	want_set(&a, fqdn_contents(f, &a, t + 300000), "192.0.2.2 192.0.2.3 "
	    "2001:db8::1");

	/* a failure keeps the last good addresses, tells why, and asks again
	 * after min_ttl */
	t += 400000;
	fqdn_fail(f, 0, t, "www.example.net A: SERVFAIL", 60);
	assert_string_equal(fqdn_error(f, 0), "www.example.net A: SERVFAIL");
	assert_null(fqdn_error(f, 1));
	assert_int_equal(fqdn_failing(f), 1);
	want_set(&a, fqdn_contents(f, &a, t), "192.0.2.2 192.0.2.3 "
	    "2001:db8::1");
	assert_int_equal(fqdn_due(f), t + 60000);
	/* long after the TTL, still there: only an answer replaces them */
	want_set(&a, fqdn_contents(f, &a, t + 86400000), "192.0.2.2 192.0.2.3 "
	    "2001:db8::1");
	/* an answer with no address is a failure too */
	fqdn_answer(f, 0, t + 60000, NULL, 0, 300, 60, 3600);
	assert_string_equal(fqdn_error(f, 0), "no address");
	want_set(&a, fqdn_contents(f, &a, t + 60000), "192.0.2.2 192.0.2.3 "
	    "2001:db8::1");
	/* and a good answer clears the error */
	fqdn_answer(f, 0, t + 120000, first, 1, 300, 60, 3600);
	assert_null(fqdn_error(f, 0));
	assert_int_equal(fqdn_failing(f), 0);
	want_set(&a, fqdn_contents(f, &a, t + 120000), "192.0.2.1 192.0.2.2 "
	    "192.0.2.3 2001:db8::1");
	/* a TTL of 0 with no minimum: a second, not a loop */
	fqdn_answer(f, 1, t, other, 1, 0, 0, 0);
	fqdn_fail(f, 0, t, "x", 0);
	assert_int_equal(fqdn_due(f), t + 1000);
	fqdn_free(f);

	assert_null(fqdn_new((const char *[]){ "not a name" }, 1, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "not a host name"));
	arena_free(&a);
}

/* One family's question failed (SERVFAIL on AAAA): the other's answer
 * is taken, the failed family's addresses kept, the name still failing
 * and asked again soon (the whole answer was thrown away, and the old
 * A addresses kept for as long as AAAA failed). */
static void
test_fqdn_one_family(void **state)
{
	const char *names[] = { "dual.example.net" };
	u128 both[] = { V4(192, 0, 2, 2), (u128)0x20010db8 << 96 | 5 };
	u128 moved[] = { V4(192, 0, 2, 9) };
	struct fqdn *f;
	struct arena a;
	char err[200];
	long long t = 1000000;

	(void)state;
	arena_init(&a);
	assert_non_null(f = fqdn_new(names, 1, err, sizeof(err)));
	fqdn_answer(f, 0, t, both, 2, 300, 60, 3600);
	t += 300000;
	fqdn_answer_family(f, 0, t, moved, 1, 300, 60, 3600, FAM_V4,
	    "dual.example.net AAAA: SERVFAIL");
	/* the new A at once, the old one in its grace, the AAAA kept */
	want_set(&a, fqdn_contents(f, &a, t), "192.0.2.2 192.0.2.9 "
	    "2001:db8::5");
	want_set(&a, fqdn_contents(f, &a, t + 300000), "192.0.2.9 "
	    "2001:db8::5");
	assert_string_equal(fqdn_error(f, 0), "dual.example.net AAAA: "
	    "SERVFAIL");
	assert_int_equal(fqdn_due(f), t + 60000);
	/* both answered again: whole, and no longer failing */
	fqdn_answer(f, 0, t + 60000, moved, 1, 300, 60, 3600);
	assert_null(fqdn_error(f, 0));
	want_set(&a, fqdn_contents(f, &a, t + 60000 + 300000), "192.0.2.9");
	fqdn_free(f);
	arena_free(&a);
}

/* A name's addresses past the cap: the grace ones ending first go. */
static void
test_fqdn_cap(void **state)
{
	const char *names[] = { "rr.example.net" };
	struct fqdn *f;
	struct arena a;
	char err[200];
	u128 addrs[16];
	long long t = 0;
	size_t i, k;

	(void)state;
	arena_init(&a);
	assert_non_null(f = fqdn_new(names, 1, err, sizeof(err)));
	for (i = 0; i < 100; i++) {
		for (k = 0; k < 16; k++)
			addrs[k] = V4(10, 0, (int)i, (int)k);
		fqdn_answer(f, 0, t, addrs, 16, 3600, 60, 3600);
		t += 1000;
	}
	{
		struct iset s = fqdn_contents(f, &a, t);
		u128 count = 0;

		for (i = 0; i < s.n; i++)
			count += s.v[i].hi - s.v[i].lo + 1;
		assert_true(count == FQDN_ADDR_MAX);
		assert_true(iset_contains(s, V4(10, 0, 99, 15)));
		assert_false(iset_contains(s, V4(10, 0, 0, 0)));
	}
	fqdn_free(f);
	arena_free(&a);
}

/* Once through the real resolver without an anchor: localhost is
 * answered locally (libunbound's own zone, /etc/hosts), no network. */
static void
test_fqdn_refresh(void **state)
{
	const char *names[] = { "localhost" };
	struct fqdn *f;
	struct dns *d;
	struct arena a;
	char err[200];
	long long now = clock_ms();
	struct iset s;

	(void)state;
	arena_init(&a);
	assert_non_null(d = dns_new(NULL, err, sizeof(err)));
	assert_non_null(f = fqdn_new(names, 1, err, sizeof(err)));
	fqdn_refresh(f, d, now, 60, 3600, now + 5000);
	if (fqdn_error(f, 0) != NULL)
		fail_msg("localhost: %s", fqdn_error(f, 0));
	s = fqdn_contents(f, &a, now);
	assert_true(iset_contains(s, V4(127, 0, 0, 1)));
	assert_true(fqdn_due(f) >= now + 60000);
	/* nothing due: nothing asked, nothing changed */
	fqdn_refresh(f, d, now + 1000, 60, 3600, now + 1000);
	assert_null(fqdn_error(f, 0));
	fqdn_free(f);
	dns_free(d);
	arena_free(&a);
}

/* ---- geoip ---- */

static char dir[] = "/tmp/test_feeds.XXXXXX";

static void
mkmmdb(const char *version, const char *spec, const char *out)
{
	const char *tool = getenv("MOAT_MKMMDB");
	char path[256], cmd[1024];
	FILE *fp;

	assert_non_null(tool);
	snprintf(path, sizeof(path), "%s/spec", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs(spec, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "perl '%s' %s '%s' '%s/%s'", tool, version,
	    path, dir, out);
	assert_int_equal(system(cmd), 0);
}

static const char spec[] =
    "1.2.3.0/24 DE\n"
    "5.6.0.0/16 FR\n"
    "10.0.0.0/8 reg=DE\n"		/* registered_country only */
    "20.0.0.0/8 FR reg=DE\n"		/* country wins */
    "30.1.0.0/16 IT\n";
static const char spec6[] =
    "2001:db8::/32 DE\n"
    "2a00::/12 FR\n"
    "2a10::/16 reg=de\n";

static int
setup_geoip(void **state)
{
	char both[1024];

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	mkmmdb("4", spec, "v4.mmdb");
	snprintf(both, sizeof(both), "%s%s", spec, spec6);
	mkmmdb("6", both, "v6.mmdb");
	return 0;
}

static int
teardown_geoip(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int
networks(struct arena *a, const char *file, const char *const *cc, size_t n,
    struct iset *s, size_t *nnets, char *err, size_t errlen)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return geoip_networks(path, cc, n, a, s, nnets, err, errlen);
}

static void
test_geoip_v4(void **state)
{
	struct arena a;
	struct iset s;
	size_t n;
	char err[200];

	(void)state;
	arena_init(&a);
	assert_int_equal(networks(&a, "v4.mmdb", (const char *[]){ "de" }, 1,
	    &s, &n, err, sizeof(err)), 0);
	want_set(&a, s, "1.2.3.0/24 10.0.0.0/8");
	assert_int_equal(n, 2);
	assert_int_equal(networks(&a, "v4.mmdb", (const char *[]){ "FR", "It" },
	    2, &s, &n, err, sizeof(err)), 0);
	want_set(&a, s, "5.6.0.0/16 20.0.0.0/8 30.1.0.0/16");
	assert_int_equal(networks(&a, "v4.mmdb", (const char *[]){ "JP" }, 1,
	    &s, &n, err, sizeof(err)), 0);
	assert_true(iset_empty(s));
	assert_int_equal(n, 0);
	arena_free(&a);
}

static void
test_geoip_v6(void **state)
{
	struct arena a;
	struct iset s;
	size_t n;
	char err[200];

	(void)state;
	arena_init(&a);
	/* IPv4 from ::/96, not again from its aliases */
	assert_int_equal(networks(&a, "v6.mmdb", (const char *[]){ "DE" }, 1,
	    &s, &n, err, sizeof(err)), 0);
	want_set(&a, s, "1.2.3.0/24 10.0.0.0/8 2001:db8::/32 2a10::/16");
	assert_int_equal(n, 4);
	assert_int_equal(networks(&a, "v6.mmdb", (const char *[]){ "fr" }, 1,
	    &s, &n, err, sizeof(err)), 0);
	want_set(&a, s, "5.6.0.0/16 20.0.0.0/8 2a00::/12");
	assert_int_equal(n, 3);
	arena_free(&a);
}

static void
copy_cut(const char *from, const char *to, long keep, long poke_at,
    const char *poke, size_t pokelen)
{
	char path[256], *buf;
	FILE *fp;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, from);
	assert_non_null(fp = fopen(path, "rb"));
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	assert_non_null(buf = malloc((size_t)len));
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	if (poke != NULL)
		memcpy(buf + poke_at, poke, pokelen);
	snprintf(path, sizeof(path), "%s/%s", dir, to);
	assert_non_null(fp = fopen(path, "wb"));
	fwrite(buf, 1, (size_t)(keep < 0 ? len : keep), fp);
	fclose(fp);
	free(buf);
}

static void
test_geoip_bad(void **state)
{
	struct arena a;
	struct iset s;
	size_t n;
	char err[200];
	long off;
	static const char zero[3] = { 0, 0, 0 };

	(void)state;
	arena_init(&a);
	assert_int_equal(networks(&a, "none.mmdb", (const char *[]){ "DE" }, 1,
	    &s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "none.mmdb"));
	/* cut: the metadata at the end is gone */
	copy_cut("v6.mmdb", "cut.mmdb", 600, 0, NULL, 0);
	assert_int_equal(networks(&a, "cut.mmdb", (const char *[]){ "DE" }, 1,
	    &s, &n, err, sizeof(err)), -1);
	assert_true(iset_empty(s));
	/* a node that points back at the root: an error, not a loop */
	copy_cut("v6.mmdb", "loop.mmdb", -1, 0, zero, 3);
	assert_int_equal(networks(&a, "loop.mmdb", (const char *[]){ "DE" }, 1,
	    &s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupt search tree"));
	/* garbage over the tree, at every offset: an error or a set, never a
	 * crash (ASan watches) */
	for (off = 0; off < 400; off += 3) {
		static const char junk[6] = { '\xff', '\x7f', '\x00', '\x13',
		    '\xfe', '\x01' };

		copy_cut("v4.mmdb", "junk.mmdb", -1, off, junk, 6);
		(void)networks(&a, "junk.mmdb", (const char *[]){ "DE" }, 1,
		    &s, &n, err, sizeof(err));
	}
	/* a FIFO (no writer) or a directory: refused, never waited on */
	{
		char fifo[300];

		snprintf(fifo, sizeof(fifo), "%s/fifo.mmdb", dir);
		assert_int_equal(mkfifo(fifo, 0644), 0);
		assert_int_equal(networks(&a, "fifo.mmdb", (const char *[]){
		    "DE" }, 1, &s, &n, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "not a regular file"));
		unlink(fifo);
	}
	assert_int_equal(networks(&a, ".", (const char *[]){ "DE" }, 1, &s,
	    &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	/* not a country code */
	assert_int_equal(networks(&a, "v4.mmdb", (const char *[]){ "DEU" }, 1,
	    &s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a country code"));
	arena_free(&a);
}

static void
test_geoip_stamp(void **state)
{
	struct geoip_stamp s1, s2;
	char path[256], err[200];

	(void)state;
	snprintf(path, sizeof(path), "%s/v4.mmdb", dir);
	assert_int_equal(geoip_stamp(path, &s1, err, sizeof(err)), 0);
	assert_int_equal(geoip_stamp(path, &s2, err, sizeof(err)), 0);
	assert_true(geoip_stamp_same(&s1, &s2));
	/* a new file renamed over it (what an updater does) */
	copy_cut("v6.mmdb", "new.mmdb", -1, 0, NULL, 0);
	snprintf(err, sizeof(err), "%s/new.mmdb", dir);
	assert_int_equal(rename(err, path), 0);
	assert_int_equal(geoip_stamp(path, &s2, err, sizeof(err)), 0);
	assert_false(geoip_stamp_same(&s1, &s2));
	assert_int_equal(geoip_stamp("/nonexistent/x.mmdb", &s2, err,
	    sizeof(err)), -1);
	/* put the IPv4 database back for whoever runs after */
	mkmmdb("4", spec, "v4.mmdb");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urllist_good),
		cmocka_unit_test(test_urllist_bad),
		cmocka_unit_test(test_urllist_speed),
		cmocka_unit_test(test_fqdn_bookkeeping),
		cmocka_unit_test(test_fqdn_cap),
		cmocka_unit_test(test_fqdn_one_family),
		cmocka_unit_test(test_fqdn_refresh),
	};
	const struct CMUnitTest geoip[] = {
		cmocka_unit_test(test_geoip_v4),
		cmocka_unit_test(test_geoip_v6),
		cmocka_unit_test(test_geoip_bad),
		cmocka_unit_test(test_geoip_stamp),
	};
	int r;

	r = cmocka_run_group_tests(tests, NULL, NULL);
	return r + cmocka_run_group_tests(geoip, setup_geoip, teardown_geoip);
}

/* test_net.c: the network's clients without a network: HTTP response
 * heads and chunked bodies (net/http.h, what https.c and the MTA-STS fetch
 * read), URLs (net/https.h), and a GET against a TLS server of the test's
 * own on the loopback (a CA made here, passed as the extra CA file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http.h"
#include "net/https.h"

static void
test_head(void **state)
{
	struct http_head h;
	char why[200];
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: 5\r\n\r\nhello...";
	size_t end;

	(void)state;
	end = http_head_end(ok, sizeof(ok) - 1);
	assert_int_equal(end, sizeof(ok) - 1 - 8);
	assert_int_equal(http_head_parse(ok, end, &h, why, sizeof(why)), 0);
	assert_int_equal(h.code, 200);
	assert_true(h.has_length);
	assert_int_equal(h.length, 5);
	assert_false(h.chunked);
	assert_string_equal(h.ctype, "text/plain; charset=utf-8");
	assert_int_equal(http_head_end(ok, 20), 0);

#define HEAD(s) do {							\
	assert_int_equal(http_head_parse(s, sizeof(s) - 1, &h, why,	\
	    sizeof(why)), 0);						\
} while (0)
	HEAD("HTTP/1.1 301 Moved\r\nLocation: https://evil/\r\n\r\n");
	assert_int_equal(h.code, 301);
	assert_string_equal(h.location, "https://evil/");
	HEAD("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\n");
	assert_int_equal(h.code, 404);
	/* chunked wins over a length (RFC 9112 6.3) */
	HEAD("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
	    "Chunked\r\n\r\n");
	assert_true(h.chunked);
	assert_false(h.has_length);
	HEAD("HTTP/1.0 200\r\n\r\n");
	assert_int_equal(h.code, 200);
	assert_string_equal(h.ctype, "");
#undef HEAD

#define BAD(s, w) do {							\
	why[0] = '\0';							\
	assert_int_equal(http_head_parse(s, sizeof(s) - 1, &h, why,	\
	    sizeof(why)), -1);						\
	if (strstr(why, w) == NULL)					\
		fail_msg("%s: got %s", s, why);				\
} while (0)
	BAD("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: x\r\n"
	    "\r\n", "Content-Length");
	BAD("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "two Content-Lengths");
	BAD("HTTP/1.0 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
	    "Content-Length");
	BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    "transfer coding");
	BAD("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", "no complete");
	BAD("HTTP/1.1 200 OK\r\n folded\r\n\r\n", "malformed header");
	BAD("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "malformed header");
	BAD("SMTP 220 hello\r\n\r\n", "not an HTTP");
	BAD("HTTP/2 200\r\n\r\n", "not an HTTP");
	BAD("HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP");
#undef BAD
}

/* A chunked body fed in pieces of every size from 1 up. */
static int
dechunk(const char *in, size_t n, char *out, size_t *outlen, size_t cap,
    char *why, size_t whylen)
{
	size_t piece, off, used;
	int r = 0, first = -2;
	char buf[256];
	size_t blen;

	for (piece = 1; piece <= n; piece++) {
		struct http_chunked c;

		http_chunked_init(&c);
		blen = 0;
		r = 0;
		for (off = 0; off < n && r == 0; off += used) {
			size_t k = n - off < piece ? n - off : piece;

			used = 0;
			r = http_chunked_feed(&c, in + off, k, &used, buf,
			    &blen, cap < sizeof(buf) ? cap : sizeof(buf), why,
			    whylen);
		}
		if (first == -2) {
			first = r;
			memcpy(out, buf, blen);
			*outlen = blen;
		} else if (r != first || (r == 1 && (blen != *outlen ||
		    memcmp(buf, out, blen) != 0)))
			fail_msg("piece %zu: %d, not %d", piece, r, first);
	}
	return first;
}

static void
test_chunked(void **state)
{
	char out[256], why[200];
	size_t len;

	(void)state;
#define GOOD(s, body) do {						\
	assert_int_equal(dechunk(s, sizeof(s) - 1, out, &len, 256, why,	\
	    sizeof(why)), 1);						\
	assert_int_equal(len, sizeof(body) - 1);			\
	assert_memory_equal(out, body, len);				\
} while (0)
	GOOD("5\r\nhello\r\n0\r\n\r\n", "hello");
	GOOD("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
	GOOD("A;ext=1\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
	    "0123456789");
	GOOD("3\nabc\n0\n\n", "abc");		/* bare LFs */
	GOOD("0\r\n\r\n", "");
#undef GOOD
	/* not finished yet */
	assert_int_equal(dechunk("5\r\nhel", 6, out, &len, 256, why,
	    sizeof(why)), 0);
#define BAD(s, cap, w) do {						\
	why[0] = '\0';							\
	assert_int_equal(dechunk(s, sizeof(s) - 1, out, &len, cap, why,	\
	    sizeof(why)), -1);						\
	if (strstr(why, w) == NULL)					\
		fail_msg("%s: got %s", s, why);				\
} while (0)
	BAD("x\r\n", 256, "malformed");
	BAD("\r\n", 256, "malformed");
	BAD("5\r\nhelloX\r\n0\r\n\r\n", 256, "malformed");
	BAD("fffffffffffffffff\r\n", 256, "malformed");
	BAD("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 8, "longer than 8 bytes");
#undef BAD
}

static void
test_url(void **state)
{
	struct https_url u;
	char err[200];

	(void)state;
	assert_int_equal(https_url_parse("https://Lists.Example.NET/drop.txt",
	    &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "lists.example.net");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/drop.txt");
	assert_int_equal(https_url_parse("https://example.net", &u, err,
	    sizeof(err)), 0);
	assert_string_equal(u.path, "/");
	assert_int_equal(https_url_parse("https://example.net:8443?a=b#frag",
	    &u, err, sizeof(err)), 0);
	assert_int_equal(u.port, 8443);
	assert_string_equal(u.path, "/?a=b");
	assert_int_equal(https_url_parse("https://192.0.2.1/x", &u, err,
	    sizeof(err)), 0);
	assert_string_equal(u.host, "192.0.2.1");
	assert_int_equal(https_url_parse("https://[2001:db8::1]:444/x#y", &u,
	    err, sizeof(err)), 0);
	assert_string_equal(u.host, "2001:db8::1");
	assert_int_equal(u.port, 444);
	assert_string_equal(u.path, "/x");
#define BAD(s, w) do {							\
	err[0] = '\0';							\
	assert_int_equal(https_url_parse(s, &u, err, sizeof(err)), -1);	\
	if (strstr(err, w) == NULL)					\
		fail_msg("%s: got %s", s, err);				\
} while (0)
	BAD("http://example.net/", "not an https://");
	BAD("file:///etc/passwd", "not an https://");
	BAD("https://user:pw@example.net/", "user name");
	BAD("https:///x", "host");
	BAD("https://exa mple.net/", "host");
	BAD("https://[2001:db8::1/", "']'");
	BAD("https://[zz]/", "host");
	BAD("https://example.net:0/", "port");
	BAD("https://example.net:65536/", "port");
	BAD("https://example.net:/", "port");
	BAD("https://example.net/a b", "space");
#undef BAD
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

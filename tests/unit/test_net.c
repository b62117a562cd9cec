/* test_net.c: the network's clients without a network: HTTP response
 * heads and chunked bodies (net/http.h, what https.c and the MTA-STS fetch
 * read), URLs (net/https.h), and GETs against a TLS server of the test's
 * own on the loopback (a CA made here, passed as the extra CA file), named
 * localhost (the anchor-less resolver answers it locally). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/clock.h"
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

/* ---- a TLS server on the loopback ---- */

struct cert {
	gnutls_x509_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
};

static struct cert ca, leaf;
static char ca_file[] = "/tmp/test_net.XXXXXX";
static gnutls_certificate_credentials_t server_cred;
static int lfd = -1;
static unsigned port;

/* What the server does with its next connection. */
static struct {
	const char	*reply;		/* sent whole after the request */
	bool		 bye;		/* close_notify after it */
	bool		 mute;		/* no handshake: let the client wait */
	char		 request[1024];	/* what came */
} srv;

static void
make(struct cert *c, const char *cn, const char *dns, struct cert *issuer,
    bool is_ca)
{
	time_t now = time(NULL);
	unsigned char serial[4] = { 7, 2, 3, (unsigned char)(cn[0]) };

	assert_int_equal(gnutls_x509_privkey_init(&c->key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(c->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&c->crt), 0);
	gnutls_x509_crt_set_version(c->crt, 3);
	gnutls_x509_crt_set_serial(c->crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(c->crt, now - 3600);
	gnutls_x509_crt_set_expiration_time(c->crt, now + 86400);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c->crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c->crt, c->key), 0);
	gnutls_x509_crt_set_basic_constraints(c->crt, is_ca, -1);
	gnutls_x509_crt_set_key_usage(c->crt, is_ca ?
	    GNUTLS_KEY_KEY_CERT_SIGN : GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (dns != NULL)
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(c->crt,
		    GNUTLS_SAN_DNSNAME, dns, (unsigned)strlen(dns),
		    GNUTLS_FSAN_SET), 0);
	assert_int_equal(gnutls_x509_crt_sign2(c->crt, issuer ? issuer->crt :
	    c->crt, issuer ? issuer->key : c->key, GNUTLS_DIG_SHA256, 0), 0);
}

static int
setup_server(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	gnutls_datum_t pem;
	FILE *fp;
	int fd;

	(void)state;
	make(&ca, "test CA", NULL, NULL, true);
	make(&leaf, "localhost", "localhost", &ca, false);
	if ((fd = mkstemp(ca_file)) == -1 ||
	    gnutls_x509_crt_export2(ca.crt, GNUTLS_X509_FMT_PEM, &pem) < 0 ||
	    (fp = fdopen(fd, "w")) == NULL)
		return -1;
	fwrite(pem.data, 1, pem.size, fp);
	fclose(fp);
	gnutls_free(pem.data);
	if (gnutls_certificate_allocate_credentials(&server_cred) < 0 ||
	    gnutls_certificate_set_x509_key(server_cred, &leaf.crt, 1,
	    leaf.key) < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 8) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1)
		return -1;
	port = ntohs(sin.sin_port);
	return 0;
}

static int
teardown_server(void **state)
{
	(void)state;
	close(lfd);
	unlink(ca_file);
	gnutls_certificate_free_credentials(server_cred);
	gnutls_x509_crt_deinit(leaf.crt);
	gnutls_x509_privkey_deinit(leaf.key);
	gnutls_x509_crt_deinit(ca.crt);
	gnutls_x509_privkey_deinit(ca.key);
	return 0;
}

/* One connection, as srv says. */
static void *
serve(void *arg)
{
	gnutls_session_t s;
	size_t got = 0;
	int fd;

	(void)arg;
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return NULL;
	if (srv.mute) {
		char c[512];

		while (read(fd, c, sizeof(c)) > 0)
			;			/* until the client gives up */
		close(fd);
		return NULL;
	}
	gnutls_init(&s, GNUTLS_SERVER);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, server_cred);
	gnutls_transport_set_int(s, fd);
	if (gnutls_handshake(s) < 0)
		goto done;
	srv.request[0] = '\0';
	while (got + 1 < sizeof(srv.request) &&
	    strstr(srv.request, "\r\n\r\n") == NULL) {
		ssize_t n = gnutls_record_recv(s, srv.request + got,
		    sizeof(srv.request) - 1 - got);

		if (n <= 0)
			goto done;
		got += (size_t)n;
		srv.request[got] = '\0';
	}
	gnutls_record_send(s, srv.reply, strlen(srv.reply));
	if (srv.bye)
		gnutls_bye(s, GNUTLS_SHUT_WR);
done:
	gnutls_deinit(s);
	close(fd);
	return NULL;
}

/* GET path from the server, which answers reply: https_get's result. */
static int
get(const char *host, const char *path, const char *reply, bool bye,
    size_t max, long long wait_ms, char **body, size_t *len, char *err,
    size_t errlen)
{
	pthread_t t;
	char url[256];
	int r;

	srv.reply = reply;
	srv.bye = bye;
	srv.mute = reply == NULL;
	snprintf(url, sizeof(url), "https://%s:%u%s", host, port, path);
	assert_int_equal(pthread_create(&t, NULL, serve, NULL), 0);
	r = https_get(url, ca_file, clock_ms() + wait_ms, max, body, len, err,
	    errlen);
	pthread_join(t, NULL);
	return r;
}

static void
test_https(void **state)
{
	char *body, err[512];
	size_t len;
	long long t0;

	(void)state;
#define GOOD(reply, bye, want) do {					\
	err[0] = '\0';							\
	if (get("localhost", "/list.txt?x=1", reply, bye, 100, 10000,	\
	    &body, &len, err, sizeof(err)) != 0)			\
		fail_msg("%s: %s", reply, err);				\
	assert_int_equal(len, strlen(want));				\
	assert_string_equal(body, want);				\
	free(body);							\
} while (0)
	GOOD("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
	    "8\r\n\r\n1.2.3.4\n", true, "1.2.3.4\n");
	assert_non_null(strstr(srv.request, "GET /list.txt?x=1 HTTP/1.1\r\n"));
	assert_non_null(strstr(srv.request, "\r\nHost: localhost:"));
	/* no close_notify: the length tells the body whole */
	GOOD("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", false, "abc");
	GOOD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\n10.0\r\n6\r\n.0.0/8\r\n0\r\n\r\n", false, "10.0.0.0/8");
	GOOD("HTTP/1.0 200 OK\r\n\r\nto the end", true, "to the end");
	GOOD("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, "");
#undef GOOD
#define BAD(host, reply, bye, max, w) do {				\
	err[0] = '\0';							\
	body = (char *)1;						\
	assert_int_equal(get(host, "/", reply, bye, max, 10000, &body,	\
	    &len, err, sizeof(err)), -1);				\
	assert_null(body);						\
	if (strstr(err, w) == NULL)					\
		fail_msg("%s: got %s", reply, err);			\
} while (0)
	BAD("localhost", "HTTP/1.1 301 Moved\r\nLocation: https://elsewhere/"
	    "\r\nContent-Length: 0\r\n\r\n", true, 100,
	    "HTTP 301: a redirect (to https://elsewhere/), not followed");
	BAD("localhost", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
	    true, 100, "localhost: HTTP 404");
	BAD("localhost", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"
	    "0123456789a", true, 10, "longer than 10 bytes");
	BAD("localhost", "HTTP/1.1 200 OK\r\n\r\n0123456789a", true, 10,
	    "longer than 10 bytes");
	BAD("localhost", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "6\r\n012345\r\n6\r\n6789ab\r\n0\r\n\r\n", true, 10,
	    "longer than 10 bytes");
	BAD("localhost", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234",
	    true, 100, "body cut short (5 of 10 bytes)");
	BAD("localhost", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "6\r\n012345\r\n", true, 100, "chunked body cut short");
	BAD("localhost", "HTTP/1.0 200 OK\r\n\r\nto the end", false, 100,
	    "close_notify");
	BAD("localhost", "<html>hello</html>", true, 100, "not an HTTP/1");
	/* the certificate names localhost, not the address */
	BAD("127.0.0.1", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true,
	    100, "127.0.0.1: ");
	/* a server that never speaks: the deadline ends the wait */
	t0 = clock_ms();
	err[0] = '\0';
	assert_int_equal(get("localhost", "/", NULL, false, 100, 500, &body,
	    &len, err, sizeof(err)), -1);
	assert_true(clock_ms() - t0 < 3000);
	if (strstr(err, "timed out") == NULL)
		fail_msg("got %s", err);
#undef BAD
	/* nothing listens */
	err[0] = '\0';
	assert_int_equal(https_get("https://127.0.0.1:1/", ca_file,
	    clock_ms() + 5000, 100, &body, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot connect"));
	assert_int_equal(https_get("https://localhost/", "/nonexistent/ca.pem",
	    clock_ms() + 5000, 100, &body, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_url),
	};
	const struct CMUnitTest server[] = {
		cmocka_unit_test(test_https),
	};
	int r;

	r = cmocka_run_group_tests(tests, NULL, NULL);
	return r + cmocka_run_group_tests(server, setup_server, teardown_server);
}

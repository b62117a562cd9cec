/* https.c: GET over HTTPS (https.h): the dial, GnuTLS, the request, and
 * the response read through http.c's parsers.
 *
 * What comes back is untrusted until it is all in and checked: the head
 * is held to HTTP_HEAD_MAX, the body to the caller's cap, a redirect or any
 * status but 200 is an error (a list must come from the URL written, not
 * from wherever a compromised or captive server points), and a body whose
 * end cannot be told (no length, no chunks, no TLS close_notify) is not
 * taken: it may have been cut.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/strbuf.h"
#include "net/http.h"
#include "net/https.h"

#define READ_CHUNK	16384
#define ADDR_MAX	(2 * DNS_RR_MAX)
#define TRY_MIN_MS	3000	/* an address's share of the wait, at least */

struct https {
	gnutls_certificate_credentials_t cred;
	bool				 own_cred;
	struct dns			*dns;
	bool				 own_dns;
};

static bool
url_char(int c)
{
	return c > 0x20 && c < 0x7f && c != '#';
}

int
https_url_parse(const char *url, struct https_url *u, char *err,
    size_t errlen)
{
	const char *p, *h, *he, *port = NULL;
	char host[DNS_NAME_MAX];
	size_t hl, i;

	memset(u, 0, sizeof(*u));
	u->port = 443;
	if (strncasecmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "not an https:// URL");
		return -1;
	}
	h = url + 8;
	for (p = h; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@') {
			snprintf(err, errlen, "a user name in the URL");
			return -1;
		}
	he = p;
	if (*h == '[') {		/* [IPv6] */
		const char *rb = memchr(h, ']', (size_t)(he - h));

		if (rb == NULL) {
			snprintf(err, errlen, "no ']' after the IPv6 address");
			return -1;
		}
		if (rb + 1 < he) {
			if (rb[1] != ':')
				goto badhost;
			port = rb + 2;
		}
		h++;
		hl = (size_t)(rb - h);
	} else {
		const char *colon = memchr(h, ':', (size_t)(he - h));

		if (colon != NULL)
			port = colon + 1;
		hl = (size_t)((colon != NULL ? colon : he) - h);
	}
	if (hl == 0 || hl >= sizeof(host))
		goto badhost;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port != NULL) {
		unsigned long v = 0;

		if (port == he)
			goto badport;
		for (; port < he; port++) {
			if (*port < '0' || *port > '9' || (v = v * 10 +
			    (unsigned long)(*port - '0')) > 65535)
				goto badport;
		}
		if (v == 0)
			goto badport;
		u->port = (unsigned)v;
	}
	if (h[-1] == '[') {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, host, &a6) != 1)
			goto badhost;
		snprintf(u->host, sizeof(u->host), "%s", host);
	} else {
		struct in_addr a4;

		if (inet_pton(AF_INET, host, &a4) == 1)
			snprintf(u->host, sizeof(u->host), "%s", host);
		else if (dns_hostname(host, u->host, sizeof(u->host)) == -1)
			goto badhost;
	}
	if (*he == '\0' || *he == '#') {
		snprintf(u->path, sizeof(u->path), "/");
		return 0;
	}
	for (i = 0; he[i] != '\0' && he[i] != '#'; i++) {
		if (!url_char((unsigned char)he[i])) {
			snprintf(err, errlen, "a space or control byte in the "
			    "URL's path");
			return -1;
		}
		if (i + 2 >= sizeof(u->path)) {
			snprintf(err, errlen, "a path over %d bytes",
			    HTTPS_PATH_MAX - 2);
			return -1;
		}
		u->path[i + (he[0] == '?')] = he[i];
	}
	if (he[0] == '?')
		u->path[0] = '/';
	return 0;
badhost:
	snprintf(err, errlen, "not a host name or address in the URL");
	return -1;
badport:
	snprintf(err, errlen, "not a port (1 to 65535) in the URL");
	return -1;
}

static struct https *
client(struct dns *d, char *err, size_t errlen)
{
	struct https *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->dns = d;
	if (d == NULL) {
		if ((h->dns = dns_new(NULL, err, errlen)) == NULL) {
			free(h);
			return NULL;
		}
		h->own_dns = true;
	}
	return h;
}

struct https *
https_new(const char *ca_file, struct dns *d, char *err, size_t errlen)
{
	struct https *h;
	int r;

	if ((h = client(d, err, errlen)) == NULL)
		return NULL;
	if (gnutls_certificate_allocate_credentials(&h->cred) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	h->own_cred = true;
	if ((r = gnutls_certificate_set_x509_trust_file(h->cred,
	    HTTPS_CA_STORE, GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errlen, "%s: %s", HTTPS_CA_STORE,
		    gnutls_strerror(r));
		goto fail;
	}
	if (ca_file != NULL && (r = gnutls_certificate_set_x509_trust_file(
	    h->cred, ca_file, GNUTLS_X509_FMT_PEM)) <= 0) {
		snprintf(err, errlen, "%s: %s", ca_file, r == 0 ?
		    "no certificate" : gnutls_strerror(r));
		goto fail;
	}
	return h;
fail:
	https_free(h);
	return NULL;
}

struct https *
https_new_cred(gnutls_certificate_credentials_t cred, struct dns *d,
    char *err, size_t errlen)
{
	struct https *h;

	if ((h = client(d, err, errlen)) == NULL)
		return NULL;
	h->cred = cred;
	return h;
}

void
https_free(struct https *h)
{
	if (h == NULL)
		return;
	if (h->own_cred && h->cred != NULL)
		gnutls_certificate_free_credentials(h->cred);
	if (h->own_dns)
		dns_free(h->dns);
	free(h);
}

/* Wait until fd is ready as events says, no later than deadline. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left = deadline - clock_ms();
	int r;

	if (left <= 0)
		return -1;
	do
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
	while (r == -1 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

static bool
is_addr(const char *host)
{
	unsigned char b[16];

	return inet_pton(AF_INET, host, b) == 1 ||
	    inet_pton(AF_INET6, host, b) == 1;
}

/* The addresses of u's host, port set: how many (0 with why). */
static size_t
addresses(struct https *h, const struct https_url *u, long long deadline,
    struct sockaddr_storage *ss, socklen_t *sl, char *why, size_t whylen)
{
	struct dns_query q[2];
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss[0];
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss[0];
	size_t i, k, n = 0;

	memset(&ss[0], 0, sizeof(ss[0]));
	if (inet_pton(AF_INET, u->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)u->port);
		sl[0] = sizeof(*sin);
		return 1;
	}
	if (inet_pton(AF_INET6, u->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)u->port);
		sl[0] = sizeof(*sin6);
		return 1;
	}
	dns_query_init(&q[0], u->host, DNS_T_AAAA);
	dns_query_init(&q[1], u->host, DNS_T_A);
	dns_resolve(h->dns, q, 2, deadline);
	str_say(why, whylen, "%s: no address", u->host);
	for (i = 0; i < 2; i++) {
		if (q[i].status != DNS_SECURE && q[i].status != DNS_INSECURE) {
			str_say(why, whylen, "%s: %s", u->host, q[i].why);
			continue;
		}
		for (k = 0; k < q[i].nrr && n < ADDR_MAX; k++) {
			sin = (struct sockaddr_in *)&ss[n];
			sin6 = (struct sockaddr_in6 *)&ss[n];
			memset(&ss[n], 0, sizeof(ss[n]));
			if (q[i].type == DNS_T_A && q[i].rr[k].len == 4) {
				sin->sin_family = AF_INET;
				sin->sin_port = htons((uint16_t)u->port);
				memcpy(&sin->sin_addr, q[i].rr[k].data, 4);
				sl[n++] = sizeof(*sin);
			} else if (q[i].type == DNS_T_AAAA &&
			    q[i].rr[k].len == 16) {
				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons((uint16_t)u->port);
				memcpy(&sin6->sin6_addr, q[i].rr[k].data, 16);
				sl[n++] = sizeof(*sin6);
			}
		}
	}
	dns_query_clear(&q[0]);
	dns_query_clear(&q[1]);
	return n;
}

/* A connection to one of u's addresses, each tried in turn with a share of
 * the time left; -1 with why. */
static int
dial(struct https *h, const struct https_url *u, long long deadline,
    char *why, size_t whylen)
{
	struct sockaddr_storage ss[ADDR_MAX];
	socklen_t sl[ADDR_MAX];
	size_t n, i;
	int fd;

	if ((n = addresses(h, u, deadline, ss, sl, why, whylen)) == 0)
		return -1;
	for (i = 0; i < n; i++) {
		long long now = clock_ms(), left = deadline - now, until;
		int err = 0;
		socklen_t el = sizeof(err);

		if (left <= 0)
			break;
		until = left / (long long)(n - i);
		if (until < TRY_MIN_MS)
			until = left < TRY_MIN_MS ? left : TRY_MIN_MS;
		until += now;
		fd = socket(ss[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			str_say(why, whylen, "%s: socket: %s", u->host,
			    strerror(errno));
			continue;
		}
		if (connect(fd, (struct sockaddr *)&ss[i], sl[i]) == 0)
			return fd;
		if (errno != EINPROGRESS)
			err = errno;
		else if (wait_fd(fd, POLLOUT, until) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
		    err == 0)
			return fd;
		str_say(why, whylen, "%s: cannot connect: %s", u->host,
		    err != 0 ? strerror(err) : "timed out");
		close(fd);
	}
	return -1;
}

/* The response as it is read. */
struct reply {
	char			*head;		/* HTTP_HEAD_MAX + READ_CHUNK */
	size_t			 headlen;
	bool			 have_head;
	struct http_head	 hd;
	struct http_chunked	 ch;
	char			*body;
	size_t			 len, cap, max;
	bool			 done;
};

/* Room in the body for n more bytes, up to max (the cap is checked by the
 * caller). */
static int
room(struct reply *r, size_t n)
{
	size_t want = r->len + n, cap;
	char *b;

	if (want > r->max)
		want = r->max;
	if (want + 1 <= r->cap)
		return 0;
	cap = r->cap == 0 ? 65536 : r->cap;
	while (cap < want + 1)
		cap = cap > (SIZE_MAX >> 1) ? SIZE_MAX : cap * 2;
	if (cap > r->max + 1)
		cap = r->max + 1;
	if ((b = realloc(r->body, cap)) == NULL)
		return -1;
	r->body = b;
	r->cap = cap;
	return 0;
}

/* n bytes of body as they came; -1 with why. */
static int
absorb(struct reply *r, const char *p, size_t n, char *why, size_t whylen)
{
	size_t used;
	int k;

	if (room(r, n) == -1) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (r->hd.chunked) {
		k = http_chunked_feed(&r->ch, p, n, &used, r->body, &r->len,
		    r->max, why, whylen);
		if (k == -1)
			return -1;
		r->done = k == 1;
		return 0;
	}
	if (r->hd.has_length && n > r->hd.length - r->len)
		n = r->hd.length - r->len;	/* a server's extra bytes */
	if (n > r->max - r->len) {
		snprintf(why, whylen, "longer than %zu bytes", r->max);
		return -1;
	}
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->done = r->hd.has_length && r->len == r->hd.length;
	return 0;
}

/* The head, once it is all in: checked, and what came after it to the
 * body.  -1 with why. */
static int
head_in(struct reply *r, size_t end, char *why, size_t whylen)
{
	if (http_head_parse(r->head, end, &r->hd, why, whylen) == -1)
		return -1;
	if (r->hd.code >= 300 && r->hd.code < 400) {
		snprintf(why, whylen, "HTTP %d: a redirect (to %s), not "
		    "followed", r->hd.code, r->hd.location[0] != '\0' ?
		    r->hd.location : "no Location");
		return -1;
	}
	if (r->hd.code != 200) {
		snprintf(why, whylen, "HTTP %d", r->hd.code);
		return -1;
	}
	if (r->hd.has_length && r->hd.length > r->max) {
		snprintf(why, whylen, "longer than %zu bytes", r->max);
		return -1;
	}
	r->have_head = true;
	http_chunked_init(&r->ch);
	r->done = r->hd.has_length && r->hd.length == 0;
	if (r->done)
		return 0;
	return absorb(r, r->head + end, r->headlen - end, why, whylen);
}

/* Bytes read from the server: to the head or to the body. */
static int
took(struct reply *r, const char *p, size_t n, char *why, size_t whylen)
{
	size_t end;

	if (r->have_head)
		return absorb(r, p, n, why, whylen);
	memcpy(r->head + r->headlen, p, n);
	r->headlen += n;
	/* a server that speaks something else: said at once */
	if (memcmp(r->head, "HTTP/1.", r->headlen < 7 ? r->headlen : 7) != 0) {
		snprintf(why, whylen, "not an HTTP/1 response");
		return -1;
	}
	if ((end = http_head_end(r->head, r->headlen)) == 0 ||
	    end > HTTP_HEAD_MAX) {
		if (r->headlen >= HTTP_HEAD_MAX || end > HTTP_HEAD_MAX) {
			snprintf(why, whylen, "an HTTP header over %d bytes",
			    HTTP_HEAD_MAX);
			return -1;
		}
		return 0;
	}
	return head_in(r, end, why, whylen);
}

/* The end of the stream (clean: close_notify); -1 with why when the body
 * is not complete. */
static int
eof(struct reply *r, bool clean, char *why, size_t whylen)
{
	if (!r->have_head) {
		snprintf(why, whylen, "%s", r->headlen == 0 ? "no answer" :
		    "no complete HTTP header");
		return -1;
	}
	if (r->hd.has_length) {
		snprintf(why, whylen, "body cut short (%zu of %zu bytes)",
		    r->len, r->hd.length);
		return -1;
	}
	if (r->hd.chunked) {
		snprintf(why, whylen, "chunked body cut short (%zu bytes)",
		    r->len);
		return -1;
	}
	if (!clean) {
		snprintf(why, whylen, "closed without a length or TLS "
		    "close_notify (the body may be cut)");
		return -1;
	}
	r->done = true;
	return 0;
}

static int
exchange(gnutls_session_t s, int fd, const struct https_url *u,
    long long deadline, struct reply *r, char *why, size_t whylen)
{
	char req[HTTPS_PATH_MAX + DNS_NAME_MAX + 256], hostport[DNS_NAME_MAX + 16];
	char *buf;
	size_t off;
	int reqlen, g;

	if (strchr(u->host, ':') != NULL)
		snprintf(hostport, sizeof(hostport), "[%s]", u->host);
	else
		snprintf(hostport, sizeof(hostport), "%s", u->host);
	if (u->port != 443)
		snprintf(hostport + strlen(hostport), sizeof(hostport) -
		    strlen(hostport), ":%u", u->port);
	reqlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: moat\r\nAccept: */*\r\nAccept-Encoding: identity\r\n"
	    "Connection: close\r\n\r\n", u->path, hostport);
	while ((g = gnutls_handshake(s)) < 0) {
		if (gnutls_error_is_fatal(g) || wait_fd(fd,
		    gnutls_record_get_direction(s) ? POLLOUT : POLLIN,
		    deadline) == -1) {
			if (g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
				gnutls_datum_t txt;
				unsigned st = gnutls_session_get_verify_cert_status(s);

				if (gnutls_certificate_verification_status_print(st,
				    GNUTLS_CRT_X509, &txt, 0) >= 0) {
					str_say(why, whylen, "%s", txt.data);
					gnutls_free(txt.data);
					return -1;
				}
			}
			snprintf(why, whylen, "TLS handshake: %s",
			    gnutls_error_is_fatal(g) ? gnutls_strerror(g) :
			    "timed out");
			return -1;
		}
	}
	for (off = 0; off < (size_t)reqlen; ) {
		ssize_t w;

		if (clock_ms() >= deadline) {
			snprintf(why, whylen, "cannot send the request: timed "
			    "out");
			return -1;
		}
		w = gnutls_record_send(s, req + off, (size_t)reqlen - off);
		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (gnutls_error_is_fatal((int)w) ||
		    wait_fd(fd, POLLOUT, deadline) == -1) {
			snprintf(why, whylen, "cannot send the request: %s",
			    gnutls_error_is_fatal((int)w) ?
			    gnutls_strerror((int)w) : "timed out");
			return -1;
		}
	}
	buf = r->head + HTTP_HEAD_MAX + READ_CHUNK;	/* past the head's room */
	while (!r->done) {
		ssize_t n;

		/* The deadline holds while records keep coming too: a server
		 * that sends faster than its body is taken (a chunk extension
		 * of 4 kB a byte) never makes the read wait. */
		if (clock_ms() >= deadline) {
			snprintf(why, whylen, "reading: timed out");
			return -1;
		}
		n = gnutls_record_recv(s, buf, READ_CHUNK);
		if (n > 0) {
			if (took(r, buf, (size_t)n, why, whylen) == -1)
				return -1;
			continue;
		}
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
			return eof(r, n == 0, why, whylen);
		if (gnutls_error_is_fatal((int)n) ||
		    wait_fd(fd, POLLIN, deadline) == -1) {
			snprintf(why, whylen, "reading: %s",
			    gnutls_error_is_fatal((int)n) ?
			    gnutls_strerror((int)n) : "timed out");
			return -1;
		}
	}
	return 0;
}

int
https_fetch(struct https *h, const char *url, long long deadline,
    size_t max, char **body, size_t *len, char *ctype, size_t ctypelen,
    char *err, size_t errlen)
{
	struct https_url u;
	struct reply r;
	gnutls_session_t s = NULL;
	char why[512];
	int fd = -1, rc = -1;
	bool name;

	*body = NULL;
	*len = 0;
	memset(&r, 0, sizeof(r));
	r.max = max < SIZE_MAX / 4 ? max : SIZE_MAX / 4;
	if (https_url_parse(url, &u, err, errlen) == -1)
		return -1;
	if ((fd = dial(h, &u, deadline, err, errlen)) == -1)
		return -1;
	/* the head, and after it the room one read takes */
	if ((r.head = malloc(HTTP_HEAD_MAX + 2 * READ_CHUNK)) == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		goto done;
	}
	name = !is_addr(u.host);
	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
	    gnutls_priority_set_direct(s,
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, h->cred) < 0 ||
	    (name && gnutls_server_name_set(s, GNUTLS_NAME_DNS, u.host,
	    strlen(u.host)) < 0)) {
		snprintf(why, sizeof(why), "cannot set TLS up");
		goto done;
	}
	/* the name checked, or the address (an IP SAN) when the URL has one */
	gnutls_session_set_verify_cert(s, u.host, 0);
	gnutls_transport_set_int(s, fd);
	if (exchange(s, fd, &u, deadline, &r, why, sizeof(why)) == -1)
		goto done;
	if (room(&r, 0) == -1) {
		snprintf(why, sizeof(why), "out of memory");
		goto done;
	}
	r.body[r.len] = '\0';
	*body = r.body;
	*len = r.len;
	r.body = NULL;
	if (ctype != NULL)
		snprintf(ctype, ctypelen, "%s", r.hd.ctype);
	rc = 0;
done:
	if (rc == -1)
		str_say(err, errlen, "%s: %s", u.host, why);
	if (s != NULL)
		gnutls_deinit(s);
	close(fd);
	free(r.head);
	free(r.body);
	return rc;
}

int
https_get(const char *url, const char *ca_file, long long deadline,
    size_t max, char **body, size_t *len, char *err, size_t errlen)
{
	struct https *h;
	int rc;

	*body = NULL;
	*len = 0;
	if ((h = https_new(ca_file, NULL, err, errlen)) == NULL)
		return -1;
	rc = https_fetch(h, url, deadline, max, body, len, NULL, 0, err,
	    errlen);
	https_free(h);
	return rc;
}

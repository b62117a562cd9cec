/* mtasts.c: MTA-STS (mtasts.h): the TXT record and policy parsers, the
 * HTTPS fetch of the policy (GnuTLS), and the cache.
 *
 * Everything here reads what an attacker may write: the TXT record comes
 * from DNS that MTA-STS does not require to be signed, and the policy from
 * whatever answers at mta-sts.DOMAIN with a certificate some CA signed.
 * So the parsers take lengths, never trust a NUL, and fail on the first
 * thing wrong; the fetch holds at most MTASTS_BODY_MAX and a header's
 * room, and every wait (DNS, connect, handshake, read) ends at the
 * caller's deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "smtp/mtasts.h"

#define HEAD_MAX	16384	/* an HTTP response's status and headers */

static bool
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static bool
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 8461's sts-ext-name and policy field names: (ALPHA / DIGIT)
 * *31(ALPHA / DIGIT / "_" / "-" / ".") */
static bool
field_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 32 || !is_alnum((unsigned char)s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int
mtasts_txt_parse(const char *s, size_t n, char *id)
{
	static const char v[] = "v=STSv1";
	size_t i = sizeof(v) - 1;
	bool have_id = false;

	id[0] = '\0';
	if (n < i || memcmp(s, v, i) != 0)
		return -1;
	for (;;) {
		size_t name, nlen, val, vlen;

		while (i < n && is_wsp(s[i]))
			i++;
		if (i == n)
			break;
		if (s[i++] != ';')
			return -1;
		while (i < n && is_wsp(s[i]))
			i++;
		if (i == n)
			break;		/* a trailing ';' */
		for (name = i; i < n && s[i] != '='; i++)
			;
		nlen = i - name;
		if (i == n || !field_name(s + name, nlen))
			return -1;
		i++;
		for (val = i; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
				break;
		}
		vlen = i - val;
		if (vlen == 0)
			return -1;
		if (nlen == 2 && memcmp(s + name, "id", 2) == 0 && !have_id) {
			size_t k;

			if (vlen > MTASTS_ID_MAX)
				return -1;
			for (k = 0; k < vlen; k++)
				if (!is_alnum((unsigned char)s[val + k]))
					return -1;
			memcpy(id, s + val, vlen);
			id[vlen] = '\0';
			have_id = true;
		}
	}
	return have_id ? 0 : -1;
}

static int
add_mx(struct mtasts_policy *p, const char *v, size_t n, unsigned *used)
{
	char pat[DNS_NAME_MAX + 2], host[DNS_NAME_MAX];
	size_t len, skip = 0;

	if (n >= sizeof(pat))
		return -1;
	memcpy(pat, v, n);
	pat[n] = '\0';
	if (n > 2 && pat[0] == '*' && pat[1] == '.')
		skip = 2;
	if (dns_hostname(pat + skip, host, sizeof(host)) == -1)
		return -1;
	if (p->nmx == MTASTS_MX_MAX)
		return -2;
	len = skip + strlen(host);
	if (*used + len + 1 > sizeof(p->buf))
		return -2;
	p->mx[p->nmx++] = (unsigned short)*used;
	memcpy(p->buf + *used, pat, skip);
	memcpy(p->buf + *used + skip, host, strlen(host) + 1);
	*used += (unsigned)len + 1;
	return 0;
}

int
mtasts_policy_parse(const char *s, size_t n, struct mtasts_policy *p,
    char *why, size_t whylen)
{
	bool version = false, mode = false, max_age = false;
	unsigned used = 0, line = 0;
	size_t off = 0;

	memset(p, 0, sizeof(*p));
	while (off < n) {
		const char *l = s + off, *end, *colon, *v;
		size_t len, klen, vlen, i;

		line++;
		end = memchr(l, '\n', n - off);
		len = end != NULL ? (size_t)(end - l) : n - off;
		off += len + (end != NULL);
		if (len > 0 && l[len - 1] == '\r')
			len--;
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)l[i];

			if ((c < 0x20 && c != '\t') || c > 0x7e) {
				snprintf(why, whylen, "line %u: a control or "
				    "non-ASCII byte (0x%02x)", line, c);
				return -1;
			}
		}
		while (len > 0 && is_wsp(l[len - 1]))
			len--;
		if (len == 0)
			continue;
		if ((colon = memchr(l, ':', len)) == NULL) {
			snprintf(why, whylen, "line %u: no ':'", line);
			return -1;
		}
		klen = (size_t)(colon - l);
		if (!field_name(l, klen)) {
			snprintf(why, whylen, "line %u: not a field name", line);
			return -1;
		}
		v = colon + 1;
		vlen = len - klen - 1;
		while (vlen > 0 && is_wsp(*v)) {
			v++;
			vlen--;
		}
#define KEY(k)	(klen == sizeof(k) - 1 && memcmp(l, k, klen) == 0)
#define VAL(x)	(vlen == sizeof(x) - 1 && memcmp(v, x, vlen) == 0)
		if (KEY("version")) {
			if (version)
				continue;
			if (!VAL("STSv1")) {
				snprintf(why, whylen, "line %u: version is not "
				    "STSv1", line);
				return -1;
			}
			version = true;
		} else if (KEY("mode")) {
			if (mode)
				continue;
			if (VAL("enforce"))
				p->mode = MTASTS_ENFORCE;
			else if (VAL("testing"))
				p->mode = MTASTS_TESTING;
			else if (VAL("none"))
				p->mode = MTASTS_NONE;
			else {
				snprintf(why, whylen, "line %u: mode is not "
				    "enforce, testing or none", line);
				return -1;
			}
			mode = true;
		} else if (KEY("max_age")) {
			long long age = 0;

			if (max_age)
				continue;
			if (vlen == 0 || vlen > 10) {
				snprintf(why, whylen, "line %u: max_age is not "
				    "1 to 10 digits", line);
				return -1;
			}
			for (i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9') {
					snprintf(why, whylen, "line %u: max_age "
					    "is not a number", line);
					return -1;
				}
				age = age * 10 + (v[i] - '0');
			}
			p->max_age = age > MTASTS_MAX_AGE_MAX ?
			    MTASTS_MAX_AGE_MAX : (long)age;
			max_age = true;
		} else if (KEY("mx")) {
			int r = add_mx(p, v, vlen, &used);

			if (r == -1) {
				snprintf(why, whylen, "line %u: mx is not a "
				    "host name or *.name pattern", line);
				return -1;
			}
			if (r == -2) {
				snprintf(why, whylen, "line %u: more mx "
				    "patterns than %d", line, MTASTS_MX_MAX);
				return -1;
			}
		}
#undef KEY
#undef VAL
		/* any other key: an extension, ignored (RFC 8461 3.2) */
	}
	if (!version || !mode || !max_age) {
		snprintf(why, whylen, "no %s", !version ? "version" :
		    !mode ? "mode" : "max_age");
		return -1;
	}
	if (p->mode != MTASTS_NONE && p->nmx == 0) {
		snprintf(why, whylen, "no mx");
		return -1;
	}
	return 0;
}

const char *
mtasts_mx(const struct mtasts_policy *p, unsigned i)
{
	return i < p->nmx ? p->buf + p->mx[i] : NULL;
}

bool
mtasts_mx_match(const char *pattern, const char *host)
{
	size_t pl, hl;

	if (pattern[0] != '*' || pattern[1] != '.')
		return strcasecmp(pattern, host) == 0;
	/* "*.example.net": exactly one more label, leftmost */
	pattern++;
	pl = strlen(pattern);
	hl = strlen(host);
	if (hl <= pl || strcasecmp(host + hl - pl, pattern) != 0)
		return false;
	return memchr(host, '.', hl - pl) == NULL;
}

bool
mtasts_policy_match(const struct mtasts_policy *p, const char *host)
{
	unsigned i;

	for (i = 0; i < p->nmx; i++)
		if (mtasts_mx_match(mtasts_mx(p, i), host))
			return true;
	return false;
}

/* Header name at l (a line of n bytes)?  Then its value, blanks cut. */
static bool
header(const char *l, size_t n, const char *name, const char **v,
    size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(l, name, k) != 0 || l[k] != ':')
		return false;
	l += k + 1;
	n -= k + 1;
	while (n > 0 && is_wsp(*l)) {
		l++;
		n--;
	}
	while (n > 0 && is_wsp(l[n - 1]))
		n--;
	*v = l;
	*vlen = n;
	return true;
}

int
mtasts_http_parse(const char *s, size_t n, const char **body,
    size_t *bodylen, char *why, size_t whylen)
{
	const char *end = NULL, *l, *v;
	size_t i, hlen, vlen, clen = 0;
	bool have_len = false, plain = false;
	int code;

	for (i = 0; i + 4 <= n && i < HEAD_MAX; i++)
		if (memcmp(s + i, "\r\n\r\n", 4) == 0) {
			end = s + i;
			break;
		}
	if (end == NULL) {
		snprintf(why, whylen, "no complete HTTP header");
		return -1;
	}
	hlen = (size_t)(end - s);
	if (hlen < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9') {
		snprintf(why, whylen, "not an HTTP/1 response");
		return -1;
	}
	code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (code >= 300 && code < 400) {
		snprintf(why, whylen, "HTTP %d: redirects are refused", code);
		return -1;
	}
	if (code != 200) {
		snprintf(why, whylen, "HTTP %d", code);
		return -1;
	}
	for (l = memchr(s, '\n', hlen); l != NULL && l < end; ) {
		const char *e;
		size_t ln;

		l++;
		e = memchr(l, '\n', (size_t)(end + 2 - l));
		ln = (e != NULL ? (size_t)(e - l) : (size_t)(end - l));
		if (ln > 0 && l[ln - 1] == '\r')
			ln--;
		if (header(l, ln, "content-type", &v, &vlen)) {
			plain = vlen >= 10 && strncasecmp(v, "text/plain", 10) == 0 &&
			    (vlen == 10 || v[10] == ';' || is_wsp(v[10]));
		} else if (header(l, ln, "content-length", &v, &vlen)) {
			if (vlen == 0 || vlen > 9) {
				snprintf(why, whylen, "bad Content-Length");
				return -1;
			}
			clen = 0;
			for (i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9') {
					snprintf(why, whylen, "bad Content-Length");
					return -1;
				}
				clen = clen * 10 + (size_t)(v[i] - '0');
			}
			have_len = true;
		} else if (header(l, ln, "transfer-encoding", &v, &vlen)) {
			snprintf(why, whylen, "a Transfer-Encoding (not asked for)");
			return -1;
		}
		l = e;
	}
	if (!plain) {
		snprintf(why, whylen, "not text/plain");
		return -1;
	}
	*body = end + 4;
	*bodylen = n - hlen - 4;
	if (have_len) {
		if (*bodylen < clen) {
			snprintf(why, whylen, "body cut short (%zu of %zu bytes)",
			    *bodylen, clen);
			return -1;
		}
		*bodylen = clen;
	}
	if (*bodylen > MTASTS_BODY_MAX) {
		snprintf(why, whylen, "policy over %d bytes", MTASTS_BODY_MAX);
		return -1;
	}
	return 0;
}

/* ---- the fetch ---- */

struct entry {
	char			 domain[DNS_NAME_MAX];
	char			 id[MTASTS_ID_MAX + 1];
	long long		 expires;	/* ms, dns_now's clock */
	long long		 stored;
	struct mtasts_policy	 policy;
};

struct mtasts {
	struct dns			*dns;
	gnutls_certificate_credentials_t cred;
};

/* The policies, one cache for the process, not for a configuration: a
 * reload (a new signature database, several times a day) must not forget
 * them, since RFC 8461's protection against an active attacker is the
 * policy cached before the attack. */
static struct {
	pthread_mutex_t	 mu;
	struct entry	*cache[MTASTS_CACHE_MAX];
	size_t		 n;
} pcache = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct mtasts *
mtasts_new(struct dns *d, gnutls_certificate_credentials_t cred)
{
	struct mtasts *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->dns = d;
	m->cred = cred;
	return m;
}

void
mtasts_free(struct mtasts *m)
{
	free(m);	/* the cache stays: it is the process's */
}

/* Wait until fd is ready as events says, no later than deadline. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left = deadline - dns_now();
	int r;

	if (left <= 0)
		return -1;
	do
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
	while (r == -1 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

/* A connection to port 443 at one of the addresses of host; -1 with why. */
static int
dial(struct mtasts *m, const char *host, long long deadline, char *why,
    size_t whylen)
{
	struct dns_query q[2];
	size_t i, k;
	int fd = -1;

	dns_query_init(&q[0], host, DNS_T_AAAA);
	dns_query_init(&q[1], host, DNS_T_A);
	dns_resolve(m->dns, q, 2, deadline);
	str_say(why, whylen, "%s: no address", host);
	for (i = 0; i < 2 && fd == -1; i++) {
		if (q[i].status != DNS_SECURE && q[i].status != DNS_INSECURE) {
			snprintf(why, whylen, "%s: %s", host, q[i].why);
			continue;
		}
		for (k = 0; k < q[i].nrr && fd == -1; k++) {
			struct sockaddr_storage ss;
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			socklen_t sl;
			int err = 0;
			socklen_t el = sizeof(err);

			memset(&ss, 0, sizeof(ss));
			if (q[i].type == DNS_T_A && q[i].rr[k].len == 4) {
				sin->sin_family = AF_INET;
				sin->sin_port = htons(443);
				memcpy(&sin->sin_addr, q[i].rr[k].data, 4);
				sl = sizeof(*sin);
			} else if (q[i].type == DNS_T_AAAA && q[i].rr[k].len == 16) {
				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons(443);
				memcpy(&sin6->sin6_addr, q[i].rr[k].data, 16);
				sl = sizeof(*sin6);
			} else
				continue;
			fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
			if (fd == -1)
				continue;
			if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
				break;
			if (errno == EINPROGRESS &&
			    wait_fd(fd, POLLOUT, deadline) == 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
			    err == 0)
				break;
			str_say(why, whylen, "%s: cannot connect: %s", host,
			    err != 0 ? strerror(err) : "timed out");
			close(fd);
			fd = -1;
		}
	}
	dns_query_clear(&q[0]);
	dns_query_clear(&q[1]);
	return fd;
}

/* GET the policy of domain: its body into a buffer of ours (*out, the
 * caller frees), 0; -1 with why. */
static int
fetch(struct mtasts *m, const char *domain, long long deadline, char **out,
    size_t *outlen, char *why, size_t whylen)
{
	gnutls_session_t s = NULL;
	char host[DNS_NAME_MAX + 8], req[512], *buf = NULL;
	const char *body;
	size_t cap = HEAD_MAX + MTASTS_BODY_MAX, len = 0, off, blen;
	int fd, r, rc = -1, reqlen;

	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	if ((fd = dial(m, host, deadline, why, whylen)) == -1)
		return -1;
	reqlen = snprintf(req, sizeof(req), "GET /.well-known/mta-sts.txt "
	    "HTTP/1.0\r\nHost: %s\r\nUser-Agent: moat\r\nAccept: text/plain"
	    "\r\nConnection: close\r\n\r\n", host);
	if ((buf = malloc(cap + 1)) == NULL ||
	    gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
	    gnutls_priority_set_direct(s,
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, m->cred) < 0 ||
	    gnutls_server_name_set(s, GNUTLS_NAME_DNS, host, strlen(host)) < 0) {
		snprintf(why, whylen, "%s: cannot set TLS up", host);
		goto done;
	}
	gnutls_session_set_verify_cert(s, host, 0);
	gnutls_transport_set_int(s, fd);
	while ((r = gnutls_handshake(s)) < 0) {
		if (gnutls_error_is_fatal(r) || wait_fd(fd,
		    gnutls_record_get_direction(s) ? POLLOUT : POLLIN,
		    deadline) == -1) {
			if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
				gnutls_datum_t txt;
				unsigned st = gnutls_session_get_verify_cert_status(s);

				if (gnutls_certificate_verification_status_print(st,
				    GNUTLS_CRT_X509, &txt, 0) >= 0) {
					snprintf(why, whylen, "%s: %s", host,
					    txt.data);
					gnutls_free(txt.data);
					goto done;
				}
			}
			snprintf(why, whylen, "%s: TLS handshake: %s", host,
			    gnutls_error_is_fatal(r) ? gnutls_strerror(r) :
			    "timed out");
			goto done;
		}
	}
	for (off = 0; off < (size_t)reqlen; ) {
		ssize_t w = gnutls_record_send(s, req + off, (size_t)reqlen - off);

		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (gnutls_error_is_fatal((int)w) ||
		    wait_fd(fd, POLLOUT, deadline) == -1) {
			snprintf(why, whylen, "%s: cannot send", host);
			goto done;
		}
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			snprintf(why, whylen, "%s: answer over %zu bytes", host,
			    cap);
			goto done;
		}
		n = gnutls_record_recv(s, buf + len, cap - len);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		/* A server that closes without close_notify: the length
		 * of the body, when given, tells a cut one. */
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
			break;
		if (gnutls_error_is_fatal((int)n) ||
		    wait_fd(fd, POLLIN, deadline) == -1) {
			snprintf(why, whylen, "%s: reading: %s", host,
			    gnutls_error_is_fatal((int)n) ?
			    gnutls_strerror((int)n) : "timed out");
			goto done;
		}
	}
	if (mtasts_http_parse(buf, len, &body, &blen, req, sizeof(req)) == -1) {
		str_say(why, whylen, "%s: %s", host, req);
		goto done;
	}
	memmove(buf, body, blen);
	buf[blen] = '\0';
	*out = buf;
	*outlen = blen;
	buf = NULL;
	rc = 0;
done:
	if (s != NULL)
		gnutls_deinit(s);
	close(fd);
	free(buf);
	return rc;
}

/* The TXT record of domain: 1 with its id, 0 none (or a DNS failure,
 * said in why). */
static int
txt_id(struct mtasts *m, const char *domain, long long deadline, char *id,
    char *why, size_t whylen)
{
	struct dns_query q;
	char name[DNS_NAME_MAX + 16], text[DNS_RDATA_MAX + 1];
	size_t i, found = 0;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	dns_query_init(&q, name, DNS_T_TXT);
	dns_resolve(m->dns, &q, 1, deadline);
	if (q.status != DNS_SECURE && q.status != DNS_INSECURE) {
		str_say(why, whylen, "%s TXT: %s", name, q.why);
		dns_query_clear(&q);
		return 0;
	}
	for (i = 0; i < q.nrr; i++) {
		const uint8_t *p = q.rr[i].data;
		size_t n = q.rr[i].len, off = 0, tl = 0;
		char rid[MTASTS_ID_MAX + 1];

		/* the record's strings, joined */
		while (off < n) {
			size_t sl = p[off++];

			if (off + sl > n)
				break;
			memcpy(text + tl, p + off, sl);
			tl += sl;
			off += sl;
		}
		if (tl < 7 || memcmp(text, "v=STSv1", 7) != 0)
			continue;
		/* RFC 8461 3.1: not one valid record, no policy */
		if (++found > 1 || mtasts_txt_parse(text, tl, rid) == -1) {
			found = 2;
			break;
		}
		memcpy(id, rid, sizeof(rid));
	}
	dns_query_clear(&q);
	if (found != 1) {
		str_say(why, whylen, "%s: %s", name, found == 0 ?
		    "no MTA-STS record" : "not exactly one valid MTA-STS record");
		return 0;
	}
	return 1;
}

/* The cache's entry for domain, or NULL; under pcache.mu. */
static struct entry *
lookup(const char *domain, long long now)
{
	size_t i;

	for (i = 0; i < pcache.n; i++) {
		if (strcmp(pcache.cache[i]->domain, domain) != 0)
			continue;
		if (pcache.cache[i]->expires > now)
			return pcache.cache[i];
		free(pcache.cache[i]);
		pcache.cache[i] = pcache.cache[--pcache.n];
		return NULL;
	}
	return NULL;
}

static bool
evict_before(const struct entry *a, const struct entry *b)
{
	bool ea = a->policy.mode == MTASTS_ENFORCE,
	    eb = b->policy.mode == MTASTS_ENFORCE;

	return ea != eb ? !ea : a->stored < b->stored;
}

static void
store(const char *domain, const char *id,
    const struct mtasts_policy *p, long long now)
{
	struct entry *e;
	size_t i, old = 0;

	pthread_mutex_lock(&pcache.mu);
	if ((e = lookup(domain, now)) == NULL) {
		if (pcache.n == MTASTS_CACHE_MAX) {
			/* the oldest, an enforce policy last: a client that
			 * names many domains must not push out the policies
			 * that protect mail */
			for (i = 1; i < pcache.n; i++)
				if (evict_before(pcache.cache[i],
				    pcache.cache[old]))
					old = i;
			e = pcache.cache[old];
		} else if ((e = malloc(sizeof(*e))) != NULL)
			pcache.cache[pcache.n++] = e;
	}
	if (e != NULL) {
		snprintf(e->domain, sizeof(e->domain), "%s", domain);
		snprintf(e->id, sizeof(e->id), "%s", id);
		e->policy = *p;
		e->stored = now;
		e->expires = now + (long long)p->max_age * 1000;
	}
	pthread_mutex_unlock(&pcache.mu);
}

int
mtasts_get(struct mtasts *m, const char *domain, long long deadline,
    struct mtasts_policy *p, char *why, size_t whylen)
{
	struct entry *e;
	char id[MTASTS_ID_MAX + 1], cached_id[MTASTS_ID_MAX + 1] = "";
	char err[200], *body = NULL;
	size_t blen;
	bool cached = false;

	pthread_mutex_lock(&pcache.mu);
	if ((e = lookup(domain, dns_now())) != NULL) {
		*p = e->policy;
		memcpy(cached_id, e->id, sizeof(cached_id));
		cached = true;
	}
	pthread_mutex_unlock(&pcache.mu);

	if (txt_id(m, domain, deadline, id, err, sizeof(err)) == 0) {
		/* RFC 8461 5.1: a record gone keeps the cached policy */
		snprintf(why, whylen, "%s%s", err, cached ?
		    "; the cached policy applies" : "");
		return cached;
	}
	if (cached && strcmp(id, cached_id) == 0) {
		snprintf(why, whylen, "cached policy (id %s)", id);
		return 1;
	}
	if (fetch(m, domain, deadline, &body, &blen, err, sizeof(err)) == -1 ||
	    mtasts_policy_parse(body, blen, p, err, sizeof(err)) == -1) {
		free(body);
		if (cached) {
			pthread_mutex_lock(&pcache.mu);
			if ((e = lookup(domain, dns_now())) != NULL)
				*p = e->policy;
			else
				cached = false;
			pthread_mutex_unlock(&pcache.mu);
		}
		snprintf(why, whylen, "policy fetch failed: %s%s", err,
		    cached ? "; the cached policy applies" : "");
		return cached;
	}
	free(body);
	store(domain, id, p, dns_now());
	snprintf(why, whylen, "policy fetched (id %s)", id);
	return 1;
}

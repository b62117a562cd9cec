/* peer.c: the sync link's messages; see peer.h. */
#include "ha/peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/addr.h"
#include "base/frame.h"
#include "base/hash.h"
#include "output/printer.h"

static void
new_nonce(char out[65])
{
	unsigned char r[32];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		abort();	/* no randomness: no safe exchange */
	for (i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* HMAC-SHA256(secret, nonce "\n" body) in hex. */
static int
sign(const char *secret, const char *nonce, const char *body, size_t len,
    char out[65])
{
	unsigned char mac[32];
	char *msg;
	size_t nl = strlen(nonce), i;
	int rc;

	if ((msg = malloc(nl + 1 + len)) == NULL)
		return -1;
	memcpy(msg, nonce, nl);
	msg[nl] = '\n';
	memcpy(msg + nl + 1, body, len);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, strlen(secret), msg,
	    nl + 1 + len, mac);
	free(msg);
	if (rc < 0)
		return -1;
	for (i = 0; i < sizeof(mac); i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

/* Equal in time independent of where they differ. */
static bool
same_mac(const char *a, const char *b)
{
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < 64; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int
peer_sock_addr(int fd, bool local, char out[PEER_ADDR_LEN])
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int rc = local ? getsockname(fd, (struct sockaddr *)&ss, &sl) :
	    getpeername(fd, (struct sockaddr *)&ss, &sl);

	out[0] = '\0';
	if (rc == -1 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return -1;
	/* (an IPv4 peer of a listener on [::] as its IPv4 address) */
	addr_sockaddr_host(&ss, out, PEER_ADDR_LEN);
	return 0;
}

/* Wait for fd to be ready for events until the deadline: 0, or -1
 * (ETIMEDOUT, or poll's errno). */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		if ((left = deadline - clock_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&p, 1, (int)left);
		if (rc == 1)
			return 0;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

/* n bytes to a non-blocking fd before the deadline: 0, or -1 (errno). */
static int
send_all(int fd, const char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) == -1)
				return -1;
		} else
			return -1;
	}
	return 0;
}

static int
send_frame(int fd, const char *msg, size_t len, long long deadline)
{
	uint32_t n = htonl((uint32_t)len);

	if (send_all(fd, (const char *)&n, sizeof(n), deadline) == -1 ||
	    send_all(fd, msg, len, deadline) == -1)
		return -1;
	return 0;
}

/* One frame of at most max bytes, whole before the deadline: the
 * caller frees it; NULL with errno (0: the connection ended). */
static char *
recv_frame(int fd, size_t max, long long deadline, size_t *len)
{
	struct frame_in in;
	int rc;

	memset(&in, 0, sizeof(in));
	while ((rc = frame_in_read(fd, &in, max)) == 0)
		if (wait_fd(fd, POLLIN, deadline) == -1)
			break;
	if (rc != 1) {
		int e = errno;

		frame_in_reset(&in);
		errno = e;
		return NULL;
	}
	*len = in.len;
	return in.buf;
}

/* "HMAC\n" body, signed with nonce, in out. */
static int
signed_msg(const char *secret, const char *nonce, const char *body,
    size_t len, struct strbuf *out)
{
	char mac[65];

	if (sign(secret, nonce, body, len, mac) == -1)
		return -1;
	strbuf_add(out, mac, 64);
	strbuf_putc(out, '\n');
	strbuf_add(out, body, len);
	return strbuf_failed(out) ? -1 : 0;
}

/* The JSON object of a signed message, or NULL with err. */
static json_t *
check_signed(const char *msg, size_t len, const char *secret,
    const char *nonce, struct strbuf *err)
{
	char mac[65];
	json_t *o;

	if (len < 65 || msg[64] != '\n' || sign(secret, nonce, msg + 65,
	    len - 65, mac) == -1 || !same_mac(mac, msg)) {
		strbuf_puts(err, "a message that does not carry the shared "
		    "secret's signature (is the secret the same on both "
		    "nodes?)");
		return NULL;
	}
	o = json_loadb(msg + 65, len - 65, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		strbuf_puts(err, "a message that is not a JSON object");
		return NULL;
	}
	return o;
}

static void
sha256_hex(const char *p, size_t len, char out[65])
{
	unsigned char d[32];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, len, d) < 0)
		memset(d, 0, sizeof(d));
	for (i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
io_error(struct strbuf *err, const char *what)
{
	strbuf_printf(err, "%s: %s", what, errno == ETIMEDOUT ?
	    "no answer in time" : errno == EMSGSIZE ? "too long" : errno ?
	    strerror(errno) : "the connection ended");
}

/* A TCP connection to host:HA_SYNC_PORT within PEER_TIMEOUT_MS; it stays
 * non-blocking. */
static int
dial(const char *host, long long deadline, struct strbuf *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, soerr = 0;
	socklen_t el = sizeof(soerr);

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(HA_SYNC_PORT);
		sl = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(HA_SYNC_PORT);
		sl = sizeof(*in6);
	} else {
		strbuf_printf(err, "'%s' is not an address", host);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		strbuf_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1 &&
	    errno != EINPROGRESS)
		soerr = errno;
	else if (wait_fd(fd, POLLOUT, deadline) == -1)
		soerr = errno;
	else
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
	if (soerr != 0) {
		strbuf_printf(err, "the peer %s:%d: %s", host, HA_SYNC_PORT,
		    strerror(soerr));
		close(fd);
		return -1;
	}
	return fd;
}

static int
exchange(int fd, const char *secret, json_t *req, long long deadline,
    json_t **ans, struct strbuf *err)
{
	char mine[65], digest[65], to[PEER_ADDR_LEN], *msg;
	const char *theirs, *text, *at;
	struct strbuf head;
	size_t len, tlen;
	json_t *h = NULL, *copy = NULL;
	char *body = NULL;
	int rc = -1;

	*ans = NULL;
	strbuf_init(&head, PEER_HEAD_MAX);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if ((msg = recv_frame(fd, PEER_GREETING_MAX, deadline, &len)) ==
	    NULL) {
		io_error(err, "the peer did not greet");
		goto out;
	}
	h = json_loadb(msg, len, 0, NULL);
	free(msg);
	theirs = json_string_value(json_object_get(h, "nonce"));
	if (theirs == NULL || strlen(theirs) != 64) {
		strbuf_puts(err, "the peer is not an moat node");
		goto out;
	}
	/* The head: the request without its text, which goes as the body,
	 * and the node it is for (the address dialed): signed, so that a
	 * request or answer of this node's own, passed back to it by
	 * someone on the link, is not taken for the peer's. */
	if (peer_sock_addr(fd, false, to) == -1) {
		io_error(err, "the peer's address");
		goto out;
	}
	new_nonce(mine);
	if ((copy = json_deep_copy(req)) == NULL)
		goto nomem;
	text = json_string_value(json_object_get(req, "text"));
	tlen = text != NULL ? json_string_length(json_object_get(req,
	    "text")) : 0;
	json_object_del(copy, "text");
	sha256_hex(text != NULL ? text : "", tlen, digest);
	json_object_set_new(copy, "nonce", json_string(mine));
	json_object_set_new(copy, "body", json_integer((json_int_t)tlen));
	json_object_set_new(copy, "sha256", json_string(digest));
	json_object_set_new(copy, "to", json_string(to));
	if ((body = json_dumps(copy, JSON_COMPACT)) == NULL ||
	    signed_msg(secret, theirs, body, strlen(body), &head) == -1) {
		strbuf_puts(err, "the request is too long");
		goto out;
	}
	if (send_frame(fd, strbuf_str(&head), head.len, deadline) == -1 ||
	    (tlen > 0 && send_frame(fd, text, tlen, deadline) == -1)) {
		io_error(err, "sending");
		goto out;
	}
	if ((msg = recv_frame(fd, PEER_ANSWER_MAX, deadline, &len)) == NULL) {
		io_error(err, "the answer");
		goto out;
	}
	*ans = check_signed(msg, len, secret, mine, err);
	free(msg);
	if (*ans != NULL && ((at = json_string_value(json_object_get(*ans,
	    "at"))) == NULL || strcmp(at, to) != 0)) {
		strbuf_printf(err, "an answer signed at %s, not by the peer "
		    "dialed (%s)", at != NULL ? at : "no address", to);
		json_decref(*ans);
		*ans = NULL;
	}
	if (*ans != NULL)
		json_object_del(*ans, "at");
	rc = *ans != NULL ? 0 : -1;
	goto out;
nomem:
	strbuf_puts(err, "out of memory");
out:
	free(body);
	json_decref(copy);
	json_decref(h);
	strbuf_free(&head);
	return rc;
}

int
peer_exchange(int fd, const char *secret, json_t *req, int timeout_ms,
    json_t **ans, struct strbuf *err)
{
	return exchange(fd, secret, req, clock_ms() + timeout_ms, ans, err);
}

int
peer_ask(const char *host, const char *secret, json_t *req, int timeout_ms,
    json_t **ans, struct strbuf *err)
{
	long long deadline = clock_ms() + timeout_ms;
	int fd, rc;

	*ans = NULL;
	if ((fd = dial(host, clock_ms() + PEER_TIMEOUT_MS < deadline ?
	    clock_ms() + PEER_TIMEOUT_MS : deadline, err)) == -1)
		return -1;
	rc = exchange(fd, secret, req, deadline, ans, err);
	close(fd);
	return rc;
}

void
peer_greeting(char nonce[65], struct strbuf *out)
{
	new_nonce(nonce);
	strbuf_printf(out, "{\"nonce\":\"%s\"}", nonce);
}

json_t *
peer_head(const char *msg, size_t len, const char *secret,
    const char *nonce, const char *me, size_t *body_len, char theirs[65],
    struct strbuf *err)
{
	json_t *r = check_signed(msg, len, secret, nonce, err), *b;
	const char *n, *d, *to;

	if (r == NULL)
		return NULL;
	if ((to = json_string_value(json_object_get(r, "to"))) == NULL ||
	    strcmp(to, me) != 0) {
		strbuf_printf(err, "a request for %s, not this node (%s): "
		    "passed on by someone on the link, or from a node of "
		    "another version", to != NULL ? to : "no address", me);
		json_decref(r);
		return NULL;
	}
	json_object_del(r, "to");
	n = json_string_value(json_object_get(r, "nonce"));
	d = json_string_value(json_object_get(r, "sha256"));
	b = json_object_get(r, "body");
	if (n == NULL || strlen(n) != 64 || d == NULL || strlen(d) != 64 ||
	    !json_is_integer(b) || json_integer_value(b) < 0 ||
	    json_integer_value(b) > (json_int_t)PEER_BODY_MAX ||
	    json_string_value(json_object_get(r, "op")) == NULL) {
		strbuf_puts(err, "a request without op, nonce or body");
		json_decref(r);
		return NULL;
	}
	snprintf(theirs, 65, "%s", n);
	*body_len = (size_t)json_integer_value(b);
	return r;
}

int
peer_body(json_t *req, const char *body, size_t len, struct strbuf *err)
{
	const char *want = json_string_value(json_object_get(req, "sha256"));
	char digest[65];

	sha256_hex(body, len, digest);
	if (want == NULL || strcmp(want, digest) != 0) {
		strbuf_puts(err, "a body that is not the one its signed head "
		    "announced");
		return -1;
	}
	if (len > 0)
		json_object_set_new(req, "text", json_stringn(body, len));
	json_object_del(req, "sha256");
	json_object_del(req, "body");
	json_object_del(req, "nonce");
	return 0;
}

int
peer_answer(const char *secret, const char *theirs, const char *me,
    json_t *ans, struct strbuf *out)
{
	char *body;
	int rc;

	json_object_set_new(ans, "at", json_string(me));
	if ((body = json_dumps(ans, JSON_COMPACT)) == NULL)
		return -1;
	rc = signed_msg(secret, theirs, body, strlen(body), out);
	free(body);
	return rc;
}

/*
 * A shallow copy of p to print with some parts of its interfaces changed:
 * copy->ifaces points to copies of p's (in *ifs and *one, freed by the
 * caller).  0, or -1 out of memory.
 */
static int
print_copy(const struct policy *p, struct policy *copy, struct iface ***ifs,
    struct iface **one)
{
	size_t i;

	*copy = *p;
	*ifs = calloc(p->niface + 1, sizeof(**ifs));
	*one = calloc(p->niface + 1, sizeof(**one));
	if (*ifs == NULL || *one == NULL) {
		free(*ifs);
		free(*one);
		return -1;
	}
	for (i = 0; i < p->niface; i++) {
		(*one)[i] = *p->ifaces[i];
		(*ifs)[i] = &(*one)[i];
	}
	copy->ifaces = *ifs;
	return 0;
}

uint64_t
peer_policy_hash(const struct policy *p)
{
	struct policy copy;
	struct iface **ifs, *one;
	struct strbuf b;
	uint64_t h;
	size_t i;

	/* Printed without the addresses and the ha block. */
	if (print_copy(p, &copy, &ifs, &one) == -1)
		return 0;
	for (i = 0; i < p->niface; i++)
		one[i].naddr = 0;
	memset(&copy.ha, 0, sizeof(copy.ha));
	/* nor what each node's root sets for itself (peer_rebase keeps
	 * them): two nodes that differ there hold the same policy */
	policy_blank_privileged(&copy);
	strbuf_init(&b, 0);
	printer_policy(&copy, &b);
	h = fnv1a(strbuf_str(&b), b.len);
	strbuf_free(&b);
	free(ifs);
	free(one);
	return h;
}

int
peer_rebase(const struct policy *theirs, const struct policy *ours,
    struct strbuf *out, struct strbuf *err)
{
	struct policy copy;
	struct iface **ifs, *one;
	size_t i;
	int rc = 0;

	if (print_copy(theirs, &copy, &ifs, &one) == -1) {
		strbuf_puts(err, "out of memory");
		return -1;
	}
	for (i = 0; i < theirs->niface; i++) {
		const struct iface *mine = policy_iface(ours,
		    theirs->ifaces[i]->name);

		if (mine == NULL) {
			strbuf_printf(err, "interface %s is new: declare it "
			    "on this node first (its address here)",
			    theirs->ifaces[i]->name);
			rc = -1;
			continue;
		}
		one[i].addrs = mine->addrs;
		one[i].naddr = mine->naddr;
		one[i].dynamic = mine->dynamic;
		one[i].device = mine->device;
	}
	if (rc == 0) {
		/* What only root here may set stays this node's: the peer
		 * (or whoever holds the secret) sends a policy, not the
		 * console's user or the files root reads and writes. */
		copy.ha = ours->ha;
		policy_keep_privileged(&copy, ours);
		printer_policy(&copy, out);
	}
	free(ifs);
	free(one);
	return rc;
}

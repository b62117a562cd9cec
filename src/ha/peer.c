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
#include <sys/time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/frame.h"
#include "base/hash.h"
#include "output/printer.h"

#define MSG_MAX		(4u << 20)	/* a config and its envelope */

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

static int
send_signed(int fd, const char *secret, const char *nonce, json_t *o)
{
	char *body = json_dumps(o, JSON_COMPACT), mac[65], *msg;
	size_t len;
	int rc = -1;

	if (body == NULL)
		return -1;
	len = strlen(body);
	if (sign(secret, nonce, body, len, mac) == 0 &&
	    (msg = malloc(65 + len)) != NULL) {
		memcpy(msg, mac, 64);
		msg[64] = '\n';
		memcpy(msg + 65, body, len);
		rc = frame_send(fd, msg, 65 + len);
		free(msg);
	}
	free(body);
	return rc;
}

static json_t *
recv_signed(int fd, const char *secret, const char *nonce,
    struct strbuf *err)
{
	size_t len;
	char *msg = frame_recv(fd, MSG_MAX, &len), mac[65];
	json_t *o;

	if (msg == NULL) {
		strbuf_printf(err, "%s", errno == EAGAIN ||
		    errno == EWOULDBLOCK ? "no answer in time" : errno ?
		    strerror(errno) : "the connection ended");
		return NULL;
	}
	if (len < 65 || msg[64] != '\n' || sign(secret, nonce, msg + 65,
	    len - 65, mac) == -1 || !same_mac(mac, msg)) {
		free(msg);
		strbuf_puts(err, "a message that does not carry the shared "
		    "secret's signature (is the secret the same on both "
		    "nodes?)");
		return NULL;
	}
	o = json_loadb(msg + 65, len - 65, 0, NULL);
	free(msg);
	if (!json_is_object(o)) {
		json_decref(o);
		strbuf_puts(err, "a message that is not a JSON object");
		return NULL;
	}
	return o;
}

static void
set_timeout(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A TCP connection to host:HA_SYNC_PORT within PEER_TIMEOUT_MS. */
static int
dial(const char *host, struct strbuf *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	struct pollfd p;
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
	    errno != EINPROGRESS) {
		soerr = errno;
	} else {
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, PEER_TIMEOUT_MS) != 1)
			soerr = ETIMEDOUT;
		else
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
	}
	if (soerr != 0) {
		strbuf_printf(err, "the peer %s:%d: %s", host, HA_SYNC_PORT,
		    strerror(soerr));
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int
peer_exchange(int fd, const char *secret, json_t *req, int timeout_ms,
    json_t **ans, struct strbuf *err)
{
	char mine[65], *hello;
	const char *theirs;
	size_t len;
	json_t *h;

	*ans = NULL;
	set_timeout(fd, PEER_TIMEOUT_MS);
	if ((hello = frame_recv(fd, 1024, &len)) == NULL) {
		strbuf_puts(err, "the peer did not greet");
		return -1;
	}
	h = json_loadb(hello, len, 0, NULL);
	free(hello);
	theirs = json_string_value(json_object_get(h, "nonce"));
	if (theirs == NULL || strlen(theirs) != 64) {
		strbuf_puts(err, "the peer is not an moat node");
		json_decref(h);
		return -1;
	}
	new_nonce(mine);
	json_object_set_new(req, "nonce", json_string(mine));
	if (send_signed(fd, secret, theirs, req) == -1) {
		strbuf_printf(err, "sending: %s", strerror(errno));
		json_decref(h);
		return -1;
	}
	json_decref(h);
	set_timeout(fd, timeout_ms);
	*ans = recv_signed(fd, secret, mine, err);
	return *ans != NULL ? 0 : -1;
}

int
peer_ask(const char *host, const char *secret, json_t *req, int timeout_ms,
    json_t **ans, struct strbuf *err)
{
	int fd, rc;

	*ans = NULL;
	if ((fd = dial(host, err)) == -1)
		return -1;
	rc = peer_exchange(fd, secret, req, timeout_ms, ans, err);
	close(fd);
	return rc;
}

json_t *
peer_request(int fd, const char *secret, char nonce[65], struct strbuf *err)
{
	char mine[65], greet[100];
	const char *theirs;
	json_t *r;

	set_timeout(fd, PEER_TIMEOUT_MS);
	new_nonce(mine);
	snprintf(greet, sizeof(greet), "{\"nonce\":\"%s\"}", mine);
	if (frame_send(fd, greet, strlen(greet)) == -1) {
		strbuf_printf(err, "%s", strerror(errno));
		return NULL;
	}
	if ((r = recv_signed(fd, secret, mine, err)) == NULL)
		return NULL;
	theirs = json_string_value(json_object_get(r, "nonce"));
	if (theirs == NULL || strlen(theirs) != 64 ||
	    json_string_value(json_object_get(r, "op")) == NULL) {
		strbuf_puts(err, "a request without op or nonce");
		json_decref(r);
		return NULL;
	}
	snprintf(nonce, 65, "%s", theirs);
	return r;
}

int
peer_answer(int fd, const char *secret, const char *nonce, json_t *ans)
{
	return send_signed(fd, secret, nonce, ans);
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
		copy.ha = ours->ha;
		printer_policy(&copy, out);
	}
	free(ifs);
	free(one);
	return rc;
}

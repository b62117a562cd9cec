/* tlsio.c: see tlsio.h. */
#include "smtp/tlsio.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"

struct tlsio {
	gnutls_session_t	 s;
	int			 fd;
	long long		 deadline;	/* ms: no read or write past it */
	bool			 timed_out;	/* it passed (or the socket's) */
};

int
tlsio_creds_init(struct tlsio_creds *cr, const char *cert_pem,
    const char *key_pem, char *err, size_t errlen)
{
	const char *what = "TLS";
	int g;

	memset(cr, 0, sizeof(*cr));
	if ((g = gnutls_priority_init(&cr->prio, TLSIO_PRIORITIES, NULL)) < 0)
		goto fail;
	/* Without trust anchors: the next hop's chain is judged by the
	 * recipients' policy (tlspolicy.c, which holds the CA store), and
	 * a second copy of the store would cost every configuration. */
	if ((g = gnutls_certificate_allocate_credentials(&cr->client)) < 0)
		goto fail;
	if (cert_pem != NULL && key_pem != NULL) {
		gnutls_datum_t c = { (unsigned char *)cert_pem,
		    (unsigned)strlen(cert_pem) }, k = { (unsigned char *)key_pem,
		    (unsigned)strlen(key_pem) };

		what = "smtp-tls-certificate and smtp-tls-key";
		if ((g = gnutls_certificate_allocate_credentials(&cr->server)) <
		    0 || (g = gnutls_certificate_set_x509_key_mem2(cr->server,
		    &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", what, gnutls_strerror(g));
	tlsio_creds_free(cr);
	return -1;
}

void
tlsio_creds_free(struct tlsio_creds *cr)
{
	if (cr->server != NULL)
		gnutls_certificate_free_credentials(cr->server);
	if (cr->client != NULL)
		gnutls_certificate_free_credentials(cr->client);
	if (cr->prio != NULL)
		gnutls_priority_deinit(cr->prio);
	memset(cr, 0, sizeof(*cr));
}

/* The transport: the leg's socket.  Its own functions rather than
 * GnuTLS's, to tell the socket's timeout (EAGAIN on a blocking socket)
 * from GnuTLS's E_AGAIN after a message of its own (a TLS 1.3 session
 * ticket), which means: read again. */
/* Wait until the socket is ready for events, within the deadline: 0,
 * or -1 (timed_out set, EAGAIN for GnuTLS) once it passed.  One record
 * is many reads, and each would otherwise wait the socket's whole
 * timeout again: a peer trickling a byte at a time would stretch a
 * command past its deadline. */
static int
ready(struct tlsio *t, short events)
{
	struct pollfd pfd = { .fd = t->fd, .events = events };
	long long left = t->deadline - clock_ms();

	if (left > 0 && poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) >
	    0)
		return 0;
	t->timed_out = true;
	gnutls_transport_set_errno(t->s, EAGAIN);
	return -1;
}

static ssize_t
push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	struct tlsio *t = p;
	ssize_t r;

	/* at once when the socket can take it; a wait only when not */
	while ((r = send(t->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		if (ready(t, POLLOUT) == -1)
			return -1;
	if (r < 0)
		gnutls_transport_set_errno(t->s, errno);
	return r;
}

static ssize_t
pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct tlsio *t = p;
	ssize_t r;

	while ((r = recv(t->fd, buf, n, MSG_DONTWAIT)) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		if (ready(t, POLLIN) == -1)
			return -1;
	if (r < 0)
		gnutls_transport_set_errno(t->s, errno);
	return r;
}

static int
pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct tlsio *t = p;
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	int r = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);

	if (r < 0)
		gnutls_transport_set_errno(t->s, errno);
	return r;
}

struct tlsio *
tlsio_start(const struct tlsio_creds *cr, int fd, bool server,
    const char *sni, long long deadline, char *why, size_t whylen)
{
	struct tlsio *t = calloc(1, sizeof(*t));
	long long left;
	int g;

	if (t == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (server && cr->server == NULL) {
		snprintf(why, whylen, "no certificate");
		free(t);
		return NULL;
	}
	/* No session tickets: moat resumes no session (a next hop's chain
	 * is judged per recipient, from what it showed), and making them
	 * costs each handshake.  One key share (X25519): a server that
	 * wants another group asks for it (HelloRetryRequest). */
	if ((g = gnutls_init(&t->s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT |
	    GNUTLS_KEY_SHARE_TOP) | GNUTLS_NO_SIGNAL | GNUTLS_NO_TICKETS)) < 0) {
		free(t);
		snprintf(why, whylen, "%s", gnutls_strerror(g));
		return NULL;
	}
	if ((g = gnutls_priority_set(t->s, cr->prio)) < 0 ||
	    (g = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, server ?
	    cr->server : cr->client)) < 0 || (!server && sni != NULL &&
	    sni[0] != '\0' && (g = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS,
	    sni, strlen(sni))) < 0))
		goto fail;
	if (server)
		gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_IGNORE);
	gnutls_handshake_set_max_packet_length(t->s, TLSIO_HANDSHAKE_MAX);
	t->fd = fd;
	t->deadline = deadline;
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_push_function(t->s, push);
	gnutls_transport_set_pull_function(t->s, pull);
	gnutls_transport_set_pull_timeout_function(t->s, pull_timeout);
	for (;;) {
		if ((left = deadline - clock_ms()) <= 0) {
			g = GNUTLS_E_TIMEDOUT;
			goto fail;
		}
		gnutls_handshake_set_timeout(t->s, (unsigned)left);
		g = gnutls_handshake(t->s);
		if (g == GNUTLS_E_SUCCESS)
			return t;
		/* E_AGAIN: the socket's timeout; the deadline decides */
		t->timed_out = false;
		if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED ||
		    (g < 0 && !gnutls_error_is_fatal(g)))
			continue;
		goto fail;
	}
fail:
	snprintf(why, whylen, "%s", gnutls_strerror(g));
	gnutls_deinit(t->s);
	free(t);
	return NULL;
}

static ssize_t
result(ssize_t r)
{
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN)
		return -2;
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;		/* closed without an alert */
	return -1;
}

/* Go on after r?  GnuTLS's E_AGAIN after a message of its own (not a
 * timeout), an interruption, a warning alert: a few times, and never past
 * the deadline.  A renegotiation is refused (moat never renegotiates). */
static bool
again(struct tlsio *t, ssize_t r, unsigned *spins)
{
	if (++*spins > 64 || clock_ms() >= t->deadline)
		return false;
	if (r == GNUTLS_E_AGAIN)
		return !t->timed_out;
	return r == GNUTLS_E_INTERRUPTED ||
	    r == GNUTLS_E_WARNING_ALERT_RECEIVED;
}

void
tlsio_deadline(struct tlsio *t, long long at)
{
	t->deadline = at;
}

ssize_t
tlsio_recv(struct tlsio *t, void *p, size_t n)
{
	unsigned spins = 0;
	ssize_t r;

	do {
		t->timed_out = false;
		r = gnutls_record_recv(t->s, p, n);
	} while (r < 0 && again(t, r, &spins));
	if (r < 0 && clock_ms() >= t->deadline)
		return -2;
	return result(r);
}

ssize_t
tlsio_send(struct tlsio *t, const void *p, size_t n)
{
	unsigned spins = 0;
	ssize_t r;

	do {
		t->timed_out = false;
		r = gnutls_record_send(t->s, p, n);
	} while (r < 0 && again(t, r, &spins));
	if (r < 0 && clock_ms() >= t->deadline)
		return -2;
	return result(r);
}

size_t
tlsio_pending(struct tlsio *t)
{
	return gnutls_record_check_pending(t->s);
}

void
tlsio_close(struct tlsio *t)
{
	if (t == NULL)
		return;
	gnutls_bye(t->s, GNUTLS_SHUT_WR);
	gnutls_deinit(t->s);
	free(t);
}

void
tlsio_describe(struct tlsio *t, char *out, size_t len)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(
	    t->s)), *c = gnutls_cipher_get_name(gnutls_cipher_get(t->s));

	snprintf(out, len, "%s %s", v ? v : "TLS", c ? c : "?");
}

const gnutls_datum_t *
tlsio_peer_chain(struct tlsio *t, unsigned *n)
{
	const gnutls_datum_t *c = gnutls_certificate_get_peers(t->s, n);

	if (c == NULL)
		*n = 0;
	return c;
}

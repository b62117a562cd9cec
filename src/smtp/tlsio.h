/* tlsio.h: TLS on an SMTP connection, for STARTTLS on either leg of the
 * proxy.  The only GnuTLS session code of the proxy: the credentials one
 * configuration holds (moat's certificate for clients, the trust anchors
 * for next hops), and one session per leg.
 *
 * Sessions run on the leg's blocking socket, so every wait is bounded by
 * the socket timeouts smtpio arms; the handshake has a deadline of its
 * own.  Certificates are not verified here: whether a next hop's chain is
 * good enough depends on the recipients' domains (smtp/tlspolicy.h), which
 * are known only after the handshake.
 */
#ifndef MOAT_TLSIO_H
#define MOAT_TLSIO_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* TLS 1.2 and 1.3 only; X25519 first (the one key share moat sends). */
#define TLSIO_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:" \
	"+GROUP-SECP521R1:+GROUP-X448:+GROUP-FFDHE2048:+GROUP-FFDHE3072:" \
	"+GROUP-FFDHE4096"
/* The largest handshake message taken: a next hop that sends a longer
 * certificate chain fails its handshake instead of holding memory. */
#define TLSIO_HANDSHAKE_MAX	(128 * 1024)

struct tlsio_creds {
	gnutls_certificate_credentials_t server;	/* NULL: none */
	gnutls_certificate_credentials_t client;	/* no trust anchors:
							   tlspolicy.c judges */
	gnutls_priority_t		 prio;
};

/* Credentials from PEM text: moat's certificate chain and key (both NULL:
 * moat offers no STARTTLS).  0, or -1 with err. */
int	 tlsio_creds_init(struct tlsio_creds *cr, const char *cert_pem,
	    const char *key_pem, char *err, size_t errlen);
void	 tlsio_creds_free(struct tlsio_creds *cr);

struct tlsio;

/* A TLS session on fd, its handshake done by deadline (ms on the
 * monotonic clock): moat as the server (the client leg) or as the client
 * (the next hop's leg, sni its name when known).  NULL with why on
 * failure: the connection is then unusable and must be closed. */
struct tlsio *tlsio_start(const struct tlsio_creds *cr, int fd, bool server,
	    const char *sni, long long deadline, char *why, size_t whylen);
/* No read or write of t waits past at (ms on the monotonic clock): set
 * before each (smtpio does). */
void	 tlsio_deadline(struct tlsio *t, long long at);
/* Read or write: > 0 bytes; 0 the peer closed; -1 an error; -2 the
 * deadline passed. */
ssize_t	 tlsio_recv(struct tlsio *t, void *p, size_t n);
ssize_t	 tlsio_send(struct tlsio *t, const void *p, size_t n);
/* Bytes already decrypted and waiting in the session. */
size_t	 tlsio_pending(struct tlsio *t);
/* Send the closure alert (without waiting for the peer's) and free. */
void	 tlsio_close(struct tlsio *t);
/* "TLS1.3 AES-256-GCM": the version and the cipher. */
void	 tlsio_describe(struct tlsio *t, char *out, size_t len);
/* The peer's certificates, DER, its own first; *n how many. */
const gnutls_datum_t *tlsio_peer_chain(struct tlsio *t, unsigned *n);

#endif

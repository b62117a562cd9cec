/* tlspolicy.h: the TLS policy that applies at the next hop of the SMTP
 * proxy, per recipient domain: DANE (RFC 7672), MTA-STS (RFC 8461), or a
 * plain level (smtp-tls-upstream), and the check of the next hop's
 * certificate chain against it.  The decision rule and what is cached:
 * doc/design/tls-policy.md.
 */
#ifndef MOAT_TLSPOLICY_H
#define MOAT_TLSPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <gnutls/gnutls.h>

#include "smtp/dane.h"
#include "smtp/mtasts.h"

#define TLSPOL_TRUST_ANCHOR	"/usr/share/dns/root.key"
#define TLSPOL_CA_STORE		"/etc/ssl/certs/ca-certificates.crt"

/* smtp-tls-upstream */
enum {
	TLSPOL_LEVEL_NONE = 0,	/* never TLS, no lookups */
	TLSPOL_LEVEL_MAY,	/* opportunistic, no lookups */
	TLSPOL_LEVEL_DANE,	/* may, plus DANE and MTA-STS where published */
	TLSPOL_LEVEL_VERIFY,	/* dane, else a CA-verified certificate */
};

/* One per proxy configuration; thread-safe: many session threads call it. */
struct tlspol_ctx;

enum tlspol_kind { TLSPOL_NONE = 0, TLSPOL_DANE, TLSPOL_MTASTS, TLSPOL_VERIFY };

struct tlspol {
	enum tlspol_kind kind;
	bool	require_tls;	/* STARTTLS must be there (DANE with TLSA,
				   MTA-STS enforce, verify) */
	bool	tempfail;	/* the lookup failed in a way that must defer
				   (4xx); why says it */
	char	name[256];	/* the name the certificate is checked against
				   (MX host), "" none */
	char	why[200];	/* for the log and the 4xx text */
	char	domain[DNS_NAME_MAX];	/* the recipients' domain, lower case */
	/* DANE: the secure TLSA RRset of the MX host */
	unsigned ntlsa;
	bool	dane_usable;	/* a record SMTP may use; false: TLS, but
				   unauthenticated (RFC 7672 2.2) */
	struct dane_tlsa tlsa[DANE_TLSA_MAX];
	/* MTA-STS */
	enum mtasts_mode sts_mode;
	bool	sts_mx_ok;	/* the MX host matches a pattern of the policy */
	/* the next hop's address: what a certificate must name (an IP
	 * SAN) when there is no host name to check it against */
	uint8_t	hop[16];
	unsigned hoplen;
};

/* A context: DNSSEC validated from trust_anchor (NULL: TLSPOL_TRUST_ANCHOR),
 * certificates from TLSPOL_CA_STORE and ca_file (NULL: none more); NULL
 * with err when a file cannot be read. */
struct tlspol_ctx *tlspol_new(const char *trust_anchor, const char *ca_file,
	    char *err, size_t errlen);
void	 tlspol_free(struct tlspol_ctx *c);
/* The policy for mail to domain at the next hop nexthop (the address the
 * client dialled), at level (TLSPOL_LEVEL_*); relay_name: the configured
 * relay host name when relaying (NULL when intercepting).  Bounded by
 * deadline_ms (smtpio_now's clock); past it: tempfail.  0 always (out
 * says it all). */
int	 tlspol_lookup(struct tlspol_ctx *c, int level, const char *domain,
	    const struct sockaddr_storage *nexthop, const char *relay_name,
	    long long deadline_ms, struct tlspol *out);
/* Does the next hop's certificate chain (DER, leaf first, as
 * gnutls_certificate_get_peers gives it) satisfy p?  0 yes; -1 no, with
 * why.  No chain (n 0: no TLS) with p->require_tls is a no. */
int	 tlspol_check(struct tlspol_ctx *c, const struct tlspol *p,
	    const gnutls_datum_t *chain, unsigned n, char *why, size_t whylen);
/* What authenticates the next hop under p, for logs and records: "dane",
 * "mta-sts", "ca", or "none". */
const char *tlspol_verified_name(const struct tlspol *p);
/* The level's name, as smtp-tls-upstream writes it. */
const char *tlspol_level_name(int level);

#endif

/* https.h: a small HTTPS client, GET only (GnuTLS; https.c is the only
 * file of this folder that includes it).  The server's certificate is
 * verified against the system's CA store, and an extra CA file if given,
 * for the URL's host name (sent as SNI); redirects are not followed, only
 * a 200 is an answer; the body is capped, and every wait (DNS, connect,
 * handshake, each read and write) ends at the caller's deadline.
 */
#ifndef MOAT_HTTPS_H
#define MOAT_HTTPS_H

#include <stddef.h>
#include <gnutls/gnutls.h>

#include "net/dns.h"

#define HTTPS_CA_STORE	"/etc/ssl/certs/ca-certificates.crt"
#define HTTPS_PATH_MAX	2048	/* a URL's path and query */

/* A URL of https.c's kind, taken apart. */
struct https_url {
	char		 host[DNS_NAME_MAX];	/* lower case, or an address */
	unsigned	 port;			/* 443 unless given */
	char		 path[HTTPS_PATH_MAX];	/* "/" at least, no fragment */
};

/* "https://HOST[:PORT][/PATH]" (HOST a name, an IPv4 address or an
 * [IPv6] one; no user part) into u: 0, or -1 with err. */
int	 https_url_parse(const char *url, struct https_url *u, char *err,
	    size_t errlen);

struct https;

/* A client trusting HTTPS_CA_STORE and ca_file (NULL: nothing more),
 * resolving through d (the caller's, kept alive longer; NULL: a resolver of
 * its own, dns_new(NULL)); NULL with err. */
struct https	*https_new(const char *ca_file, struct dns *d, char *err,
		    size_t errlen);
/* A client trusting cred and resolving through d, both the caller's and
 * kept alive longer than the client (the SMTP proxy's MTA-STS fetch). */
struct https	*https_new_cred(gnutls_certificate_credentials_t cred,
		    struct dns *d, char *err, size_t errlen);
void		 https_free(struct https *h);
/* GET url, waiting no later than deadline (ms, clock_ms's clock): 0 with
 * the body in *body (malloc'd, NUL-terminated, the caller frees; at most
 * max bytes) and *len, and the Content-Type in ctype when not NULL; -1 with
 * err (a 3xx names its Location; a longer body: "longer than MAX bytes"). */
int		 https_fetch(struct https *h, const char *url, long long deadline,
		    size_t max, char **body, size_t *len, char *ctype,
		    size_t ctypelen, char *err, size_t errlen);
/* One GET with a client of its own (https_new(ca_file, NULL)); as
 * https_fetch. */
int		 https_get(const char *url, const char *ca_file,
		    long long deadline, size_t max, char **body, size_t *len,
		    char *err, size_t errlen);

#endif

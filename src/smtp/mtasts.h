/* mtasts.h: MTA-STS (RFC 8461): the _mta-sts TXT record, the policy
 * fetched over HTTPS from mta-sts.DOMAIN, and a cache of policies by
 * domain.  The parsers are pure functions of their input (fuzzed); the
 * fetch is bounded in size and time.
 */
#ifndef MOAT_MTASTS_H
#define MOAT_MTASTS_H

#include <stdbool.h>
#include <stddef.h>
#include <gnutls/gnutls.h>

#include "net/dns.h"

#define MTASTS_ID_MAX		32	/* the TXT record's id, characters */
#define MTASTS_BODY_MAX		65536	/* a policy's text, bytes */
#define MTASTS_MX_MAX		64	/* mx lines of one policy */
#define MTASTS_MXBUF		4096	/* all of them, NUL-terminated each */
#define MTASTS_MAX_AGE_MAX	31557600 /* RFC 8461 3.2: about a year */
#define MTASTS_CACHE_MAX	1024	/* domains cached (oldest go first) */

enum mtasts_mode { MTASTS_NONE = 0, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
	enum mtasts_mode mode;
	long		 max_age;	/* seconds, at most MTASTS_MAX_AGE_MAX */
	unsigned	 nmx;
	unsigned short	 mx[MTASTS_MX_MAX];	/* offsets into buf */
	char		 buf[MTASTS_MXBUF];	/* patterns, lower case */
};

/* A TXT record's text (its strings joined): 0 when it is an MTA-STS record
 * ("v=STSv1; id=...;" RFC 8461 3.1), with its id in id (MTASTS_ID_MAX+1
 * bytes); -1 when not. */
int	 mtasts_txt_parse(const char *s, size_t n, char *id);
/* A policy's text (n bytes, LF or CRLF lines) into p: 0, or -1 with why
 * (the first thing wrong).  Unknown keys are ignored; the first of a
 * repeated version, mode or max_age counts; a max_age over a year is cut
 * to one. */
int	 mtasts_policy_parse(const char *s, size_t n, struct mtasts_policy *p,
	    char *why, size_t whylen);
/* The i-th mx pattern of p. */
const char *mtasts_mx(const struct mtasts_policy *p, unsigned i);
/* Does host (lower case, no trailing dot) match pattern ("mail.example.net"
 * exactly, or "*.example.net": one label more, leftmost)? */
bool	 mtasts_mx_match(const char *pattern, const char *host);
/* Does host match any mx pattern of p? */
bool	 mtasts_policy_match(const struct mtasts_policy *p, const char *host);
struct mtasts;

/* A cache of policies, fetching with cred's trust (the caller keeps cred
 * and d alive longer than the cache). */
struct mtasts	*mtasts_new(struct dns *d, gnutls_certificate_credentials_t cred);
void		 mtasts_free(struct mtasts *m);
/* The policy of domain (lower case) now: 1 with p, or 0 with none (no
 * record, no policy fetched and none cached: RFC 8461 5.1), why saying
 * where it came from or why none.  Waits no later than deadline. */
int		 mtasts_get(struct mtasts *m, const char *domain,
		    long long deadline, struct mtasts_policy *p, char *why,
		    size_t whylen);

#ifdef MOAT_TEST_SEAMS
void	 mtasts_test_store(const char *domain, const struct mtasts_policy *p);
int	 mtasts_test_cached(const char *domain);
#endif

#endif

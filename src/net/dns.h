/* dns.h: DNS lookups (libunbound; dns.c is the only file that includes
 * it).  Two kinds of resolver: one validating DNSSEC here, in this process,
 * from a trust anchor (the SMTP proxy's DANE and MTA-STS), for which the
 * upstream servers of /etc/resolv.conf are only forwarders whose AD bit is
 * never believed; and one without an anchor, which asks those servers and
 * reads /etc/hosts as the system's resolver does, and validates nothing
 * (the firewall's fqdn objects).  Thread-safe: many threads may wait at
 * once, each for its own queries, each up to its own deadline.
 */
#ifndef MOAT_DNS_H
#define MOAT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	254	/* presentation form, no trailing dot, NUL */
#define DNS_RR_MAX	32	/* records kept of one answer (more: dropped) */
#define DNS_RDATA_MAX	2048	/* one record's data kept (longer: dropped) */

enum dns_status {
	DNS_SECURE = 0,		/* validated from the trust anchor */
	DNS_INSECURE,		/* provably unsigned (or no anchor covers it,
				   or a resolver without an anchor) */
	DNS_BOGUS,		/* signed, but failed validation */
	DNS_FAIL,		/* SERVFAIL, no answer, or past the deadline */
};

/* The DNS types we ask for. */
enum {
	DNS_T_A = 1, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28,
	DNS_T_TLSA = 52,
};

struct dns_rr {
	uint16_t	 len;
	uint8_t		*data;		/* wire rdata, names uncompressed */
};

/* One question and, once asked, its answer. */
struct dns_query {
	char		 name[DNS_NAME_MAX];
	bool		 too_long;	/* the name did not fit: never asked
					   (cut, it would be another's) */
	uint16_t	 type;
	/* the answer */
	enum dns_status	 status;
	int		 nxdomain;	/* the name does not exist */
	size_t		 nrr;		/* 0 with DNS_SECURE/INSECURE: no data */
	uint32_t	 ttl;		/* seconds the answer may be kept (the
					   negative TTL when no data) */
	struct dns_rr	 rr[DNS_RR_MAX];
	char		 why[120];	/* for BOGUS and FAIL */
};

struct dns;

/* A resolver forwarding to resolv.conf's servers: validating from the
 * trust anchor file ta (zone-file DS or DNSKEY records), or with ta NULL
 * validating nothing (answers DNS_INSECURE) and reading /etc/hosts first;
 * NULL with err. */
struct dns	*dns_new(const char *ta, char *err, size_t errlen);
void		 dns_free(struct dns *d);
/* Ask all n questions at once and wait for their answers until deadline
 * (ms, clock_ms's clock); those unanswered then are DNS_FAIL.  Answers
 * must go with dns_query_clear. */
void		 dns_resolve(struct dns *d, struct dns_query *q, size_t n,
		    long long deadline);
/* Set a question up (a clean answer), and free an answer's records. */
void		 dns_query_init(struct dns_query *q, const char *name,
		    uint16_t type);
void		 dns_query_clear(struct dns_query *q);
/* A domain name in wire form at p (at most n bytes, uncompressed) to
 * lower-case presentation form without the trailing dot: its wire length,
 * or -1 when malformed or not a host name (letters, digits, '-', '_'). */
int		 dns_name_parse(const uint8_t *p, size_t n, char *out,
		    size_t outlen);
/* Milliseconds on the monotonic clock (clock_ms). */
long long	 dns_now(void);
/* Lower-case s and drop a trailing dot; -1 unless a host name that fits
 * in DNS_NAME_MAX. */
int		 dns_hostname(const char *s, char *out, size_t outlen);

#endif

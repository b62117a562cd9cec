/* dane.h: TLSA records (RFC 6698) and the certificates they pin, as SMTP
 * uses them (RFC 7672): only DANE-TA(2) and DANE-EE(3) count.
 */
#ifndef MOAT_DANE_H
#define MOAT_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#define DANE_TLSA_MAX	16	/* records kept of one RRset */
#define DANE_CHAIN_MAX	16	/* certificates looked at of one chain */

enum { DANE_TA = 2, DANE_EE = 3 };

/* One TLSA record.  Full data (matching type 0) is kept as its SHA-512,
 * so that a record has a fixed size and a policy can be copied by value:
 * equal digests stand for equal data. */
struct dane_tlsa {
	uint8_t		 usage, selector, mtype;
	uint8_t		 len;		/* of data */
	uint8_t		 data[64];
};

/* TLSA rdata (usage, selector, matching type, data) into t: 0, or -1 when
 * too short. */
int	 dane_tlsa_parse(const uint8_t *rdata, size_t n, struct dane_tlsa *t);
/* Whether SMTP may use the record: usage 2 or 3, selector 0 or 1,
 * matching type 0, 1 (32 bytes) or 2 (64 bytes). */
bool	 dane_usable(const struct dane_tlsa *t);
/* Does the chain (DER, leaf first) satisfy one of the n records?  A
 * DANE-EE record must match the leaf (certificate or key; no name, no
 * dates); a DANE-TA record must match a certificate of the chain above the
 * leaf that the chain verifies up to, and the leaf must carry one of the
 * nnames names.  0 yes, with what matched in why; -1 no, with why. */
int	 dane_check(const struct dane_tlsa *t, size_t n,
	    const gnutls_datum_t *chain, unsigned nchain,
	    const char *const *names, size_t nnames, char *why, size_t whylen);

#endif

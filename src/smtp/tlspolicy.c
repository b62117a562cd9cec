/* tlspolicy.c: which TLS the next hop owes us (tlspolicy.h).
 *
 * DANE and MTA-STS speak about the MX hosts of a domain, and the proxy
 * only knows the address the client dialled.  So the rule: look the
 * domain's MX hosts up ourselves (DNSSEC validated here), and only when
 * the next hop is an address of one of them does a policy of the domain
 * apply, with that MX host's name; any other next hop (a smarthost, the
 * local relay) gets the plain level.  DANE comes before MTA-STS (RFC 8461
 * 2).  Where a signed answer fails to validate, or a lookup the decision
 * hangs on does not come back, the answer is a temporary failure: a
 * downgrade must not be one dropped packet away.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/x509.h>

#include "base/strbuf.h"
#include "net/dns.h"
#include "smtp/tlspolicy.h"

#define MX_MAX	16	/* MX hosts looked at, best preference first */

struct tlspol_ctx {
	struct dns			*dns;
	gnutls_certificate_credentials_t cred;	/* the CA store, + ca_file */
	struct mtasts			*sts;
};

struct tlspol_ctx *
tlspol_new(const char *trust_anchor, const char *ca_file, char *err,
    size_t errlen)
{
	struct tlspol_ctx *c;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (gnutls_certificate_allocate_credentials(&c->cred) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((r = gnutls_certificate_set_x509_trust_file(c->cred,
	    TLSPOL_CA_STORE, GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errlen, "%s: %s", TLSPOL_CA_STORE,
		    gnutls_strerror(r));
		goto fail;
	}
	if (ca_file != NULL && (r = gnutls_certificate_set_x509_trust_file(
	    c->cred, ca_file, GNUTLS_X509_FMT_PEM)) <= 0) {
		snprintf(err, errlen, "%s: %s", ca_file, r == 0 ?
		    "no certificate" : gnutls_strerror(r));
		goto fail;
	}
	if ((c->dns = dns_new(trust_anchor != NULL ? trust_anchor :
	    TLSPOL_TRUST_ANCHOR, err, errlen)) == NULL)
		goto fail;
	if ((c->sts = mtasts_new(c->dns, c->cred)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return c;
fail:
	tlspol_free(c);
	return NULL;
}

void
tlspol_free(struct tlspol_ctx *c)
{
	if (c == NULL)
		return;
	mtasts_free(c->sts);
	dns_free(c->dns);
	if (c->cred != NULL)
		gnutls_certificate_free_credentials(c->cred);
	free(c);
}

const char *
tlspol_level_name(int level)
{
	switch (level) {
	case TLSPOL_LEVEL_NONE:
		return "none";
	case TLSPOL_LEVEL_MAY:
		return "may";
	case TLSPOL_LEVEL_DANE:
		return "dane";
	case TLSPOL_LEVEL_VERIFY:
		return "verify";
	default:
		return "?";
	}
}

const char *
tlspol_verified_name(const struct tlspol *p)
{
	switch (p->kind) {
	case TLSPOL_DANE:
		return p->dane_usable ? "dane" : "none";
	case TLSPOL_MTASTS:
		return p->sts_mode == MTASTS_ENFORCE ? "mta-sts" : "none";
	case TLSPOL_VERIFY:
		return "ca";
	default:
		return "none";
	}
}

struct mx {
	unsigned	 pref;
	char		 host[DNS_NAME_MAX];
};

static int
mx_cmp(const void *a, const void *b)
{
	const struct mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* The next hop's address as the bytes an A or AAAA record holds (an
 * IPv4-mapped IPv6 address is IPv4): its length, 4 or 16; 0 otherwise. */
static size_t
addr_bytes(const struct sockaddr_storage *ss, uint8_t *out)
{
	if (ss->ss_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(out, a->s6_addr + 12, 4);
			return 4;
		}
		memcpy(out, a->s6_addr, 16);
		return 16;
	}
	return 0;
}

/* Where neither DANE nor MTA-STS applies: the plain level. */
static void
plain(int level, const char *name, struct tlspol *out, const char *why)
{
	if (level == TLSPOL_LEVEL_VERIFY) {
		out->kind = TLSPOL_VERIFY;
		out->require_tls = true;
		if (name != out->name)
			snprintf(out->name, sizeof(out->name), "%s",
			    name != NULL ? name : "");
	} else {
		out->kind = TLSPOL_NONE;
		out->name[0] = '\0';	/* nothing is checked */
	}
	snprintf(out->why, sizeof(out->why), "%s", why);
}

static void
tempfail(struct tlspol *out, const char *what, const char *why)
{
	out->tempfail = true;
	out->kind = TLSPOL_NONE;
	str_say(out->why, sizeof(out->why), "%s: %s", what, why);
}

/* The MX hosts of the domain, best first: their number (0 with none, the
 * domain itself standing in: RFC 5321 5.1), -1 on a failure (out says). */
static int
mx_hosts(struct tlspol_ctx *c, struct tlspol *out, long long deadline,
    struct mx *mx, bool *secure)
{
	struct dns_query q;
	size_t i;
	int n = 0;

	dns_query_init(&q, out->domain, DNS_T_MX);
	dns_resolve(c->dns, &q, 1, deadline);
	if (q.status == DNS_BOGUS || q.status == DNS_FAIL) {
		tempfail(out, "MX lookup", q.why);
		dns_query_clear(&q);
		return -1;
	}
	*secure = q.status == DNS_SECURE;
	for (i = 0; i < q.nrr && n < MX_MAX; i++) {
		const struct dns_rr *rr = &q.rr[i];

		/* a null MX (RFC 7505), or a name that is no host name */
		if (rr->len < 3 || dns_name_parse(rr->data + 2, rr->len - 2u,
		    mx[n].host, sizeof(mx[n].host)) <= 1)
			continue;
		mx[n].pref = (unsigned)rr->data[0] << 8 | rr->data[1];
		n++;
	}
	if (q.nrr == 0 && !q.nxdomain) {
		snprintf(mx[0].host, sizeof(mx[0].host), "%s", out->domain);
		mx[0].pref = 0;
		n = 1;
	}
	dns_query_clear(&q);
	qsort(mx, (size_t)n, sizeof(*mx), mx_cmp);
	return n;
}

/* The secure TLSA RRset of host into out: 1 when DANE applies, 0 when
 * there is none (or it is insecure), -1 a failure (out says). */
static int
tlsa(struct tlspol_ctx *c, const char *host, long long deadline,
    struct tlspol *out)
{
	struct dns_query q;
	char name[DNS_NAME_MAX + 16];
	size_t i;
	int rc = 0;

	/* A TLSA name longer than DNS allows cannot be: no TLSA (cut, it
	 * would be another name's, perhaps one whose records are signed) */
	if ((size_t)snprintf(name, sizeof(name), "_25._tcp.%s", host) >=
	    DNS_NAME_MAX)
		return 0;
	dns_query_init(&q, name, DNS_T_TLSA);
	dns_resolve(c->dns, &q, 1, deadline);
	if (q.status == DNS_BOGUS || q.status == DNS_FAIL) {
		tempfail(out, "TLSA lookup", q.why);
		rc = -1;
	} else if (q.status == DNS_SECURE && q.nrr > 0) {
		out->kind = TLSPOL_DANE;
		out->require_tls = true;
		for (i = 0; i < q.nrr && out->ntlsa < DANE_TLSA_MAX; i++) {
			struct dane_tlsa *t = &out->tlsa[out->ntlsa];

			if (dane_tlsa_parse(q.rr[i].data, q.rr[i].len, t) == -1)
				continue;
			out->ntlsa++;
			if (dane_usable(t))
				out->dane_usable = true;
		}
		snprintf(out->why, sizeof(out->why), "DANE: %u TLSA record%s "
		    "of %s%s", out->ntlsa, out->ntlsa == 1 ? "" : "s", host,
		    out->dane_usable ? "" : ", none usable: TLS required, "
		    "unauthenticated");
		rc = 1;
	}
	dns_query_clear(&q);
	return rc;
}

int
tlspol_lookup(struct tlspol_ctx *c, int level, const char *domain,
    const struct sockaddr_storage *nexthop, const char *relay_name,
    long long deadline_ms, struct tlspol *out)
{
	struct mx mx[MX_MAX];
	struct dns_query *q = NULL;
	struct mtasts_policy *sts = NULL;
	uint8_t addr[16];
	size_t alen, i, k;
	bool mx_secure = false, addr_secure = false, unsure = false;
	int n, hit = -1, r;
	long long now;
	char why[200];

	memset(out, 0, sizeof(*out));
	out->hoplen = (unsigned)addr_bytes(nexthop, out->hop);
	if (level == TLSPOL_LEVEL_NONE || level == TLSPOL_LEVEL_MAY) {
		out->kind = TLSPOL_NONE;
		snprintf(out->why, sizeof(out->why), "smtp-tls-upstream %s",
		    tlspol_level_name(level));
		return 0;
	}
	/* An address literal or no domain: no MX to speak of. */
	if (dns_hostname(domain, out->domain, sizeof(out->domain)) == -1) {
		plain(level, relay_name, out, "no domain name to look up");
		return 0;
	}
	if ((alen = addr_bytes(nexthop, addr)) == 0) {
		plain(level, relay_name, out, "next hop is no IP address");
		return 0;
	}
	if ((n = mx_hosts(c, out, deadline_ms, mx, &mx_secure)) == -1)
		return 0;
	if (n > 0 && (q = calloc((size_t)n, sizeof(*q))) == NULL) {
		tempfail(out, "lookup", "out of memory");
		return 0;
	}
	for (i = 0; i < (size_t)n; i++)
		dns_query_init(&q[i], mx[i].host,
		    alen == 4 ? DNS_T_A : DNS_T_AAAA);
	dns_resolve(c->dns, q, (size_t)n, deadline_ms);
	for (i = 0; i < (size_t)n && hit == -1; i++) {
		if (q[i].status == DNS_BOGUS || q[i].status == DNS_FAIL) {
			unsure = true;
			str_say(why, sizeof(why), "address of %s: %s",
			    mx[i].host, q[i].why);
			continue;
		}
		for (k = 0; k < q[i].nrr; k++)
			if (q[i].rr[k].len == alen &&
			    memcmp(q[i].rr[k].data, addr, alen) == 0) {
				hit = (int)i;
				addr_secure = q[i].status == DNS_SECURE;
				break;
			}
	}
	for (i = 0; i < (size_t)n; i++)
		dns_query_clear(&q[i]);
	free(q);
	if (hit == -1) {
		/* Had a signed domain's MX host an address we could not
		 * learn, the next hop may be it: no downgrade on that. */
		if (unsure && mx_secure) {
			tempfail(out, "MX host", why);
			return 0;
		}
		plain(level, relay_name, out, "next hop is no MX host of the "
		    "domain");
		return 0;
	}
	snprintf(out->name, sizeof(out->name), "%s", mx[hit].host);
	if (mx_secure && addr_secure) {
		if ((r = tlsa(c, mx[hit].host, deadline_ms, out)) != 0)
			return 0;
	}
	/* MTA-STS: a fetch that takes too long is no policy (RFC 8461
	 * 5.1), so it gets half the time left, and the rest stays for a
	 * decision that is not a tempfail. */
	now = dns_now();
	if ((sts = malloc(sizeof(*sts))) == NULL) {
		tempfail(out, "lookup", "out of memory");
		return 0;
	}
	r = mtasts_get(c->sts, out->domain, now + (deadline_ms - now) / 2, sts,
	    why, sizeof(why));
	if (r == 1 && sts->mode != MTASTS_NONE) {
		out->kind = TLSPOL_MTASTS;
		out->sts_mode = sts->mode;
		out->require_tls = sts->mode == MTASTS_ENFORCE;
		out->sts_mx_ok = mtasts_policy_match(sts, out->name);
		str_say(out->why, sizeof(out->why), "MTA-STS %s, MX %s %s; %s",
		    sts->mode == MTASTS_ENFORCE ? "enforce" : "testing",
		    out->name, out->sts_mx_ok ? "matches" :
		    "matches no mx pattern", why);
	} else
		plain(level, out->name, out, why);
	free(sts);
	if (dns_now() >= deadline_ms)
		tempfail(out, "lookup", "no decision before the deadline");
	return 0;
}

/* Does the chain verify against the CA store, for name ("" or NULL: any
 * name)?  0 yes; -1 no with why. */
static int
ca_verify(struct tlspol_ctx *c, const gnutls_datum_t *chain, unsigned n,
    const char *name, const struct tlspol *p, char *why, size_t whylen)
{
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t crt[DANE_CHAIN_MAX];
	gnutls_typed_vdata_st vd = { GNUTLS_DT_DNS_HOSTNAME, NULL, 0 };
	unsigned i, k = 0, status = 0;
	int rc = -1;

	if (n > DANE_CHAIN_MAX)
		n = DANE_CHAIN_MAX;
	gnutls_certificate_get_trust_list(c->cred, &tl);
	for (i = 0; i < n; i++, k++) {
		if (gnutls_x509_crt_init(&crt[i]) < 0)
			goto done;
		if (gnutls_x509_crt_import(crt[i], &chain[i],
		    GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt[i]);
			snprintf(why, whylen, "certificate %u unreadable", i);
			goto done;
		}
	}
	vd.data = (unsigned char *)(uintptr_t)name;
	if (gnutls_x509_trust_list_verify_crt2(tl, crt, k,
	    name != NULL && name[0] != '\0' ? &vd : NULL,
	    name != NULL && name[0] != '\0' ? 1 : 0,
	    GNUTLS_VERIFY_ALLOW_UNSORTED_CHAIN, &status, NULL) < 0 ||
	    status != 0) {
		gnutls_datum_t txt;

		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &txt, 0) >= 0) {
			snprintf(why, whylen, "%s", txt.data);
			gnutls_free(txt.data);
		} else
			snprintf(why, whylen, "certificate does not verify");
		goto done;
	}
	/* No name to check (a relay or a next hop written as an address):
	 * the certificate must name the address dialled, or any
	 * certificate a CA signed for anyone would do. */
	if ((name == NULL || name[0] == '\0') && (p->hoplen == 0 ||
	    !gnutls_x509_crt_check_ip(crt[0], p->hop, p->hoplen, 0))) {
		snprintf(why, whylen, "no host name to check the certificate "
		    "against, and it does not name the next hop's address");
		goto done;
	}
	snprintf(why, whylen, "certificate verified for %s", name != NULL &&
	    name[0] != '\0' ? name : "the next hop's address");
	rc = 0;
done:
	for (i = 0; i < k; i++)
		gnutls_x509_crt_deinit(crt[i]);
	return rc;
}

int
tlspol_check(struct tlspol_ctx *c, const struct tlspol *p,
    const gnutls_datum_t *chain, unsigned n, char *why, size_t whylen)
{
	const char *names[2];
	char err[200];

	if (p->tempfail) {
		snprintf(why, whylen, "%s", p->why);
		return -1;
	}
	if (chain == NULL || n == 0) {
		if (p->require_tls) {
			snprintf(why, whylen, "TLS required (%s), none made",
			    p->kind == TLSPOL_DANE ? "DANE" : p->kind ==
			    TLSPOL_MTASTS ? "MTA-STS" : "verify");
			return -1;
		}
		snprintf(why, whylen, "no TLS, none required");
		return 0;
	}
	switch (p->kind) {
	case TLSPOL_DANE:
		if (!p->dane_usable) {
			snprintf(why, whylen, "DANE: no usable TLSA record, TLS "
			    "unauthenticated");
			return 0;
		}
		names[0] = p->name;
		names[1] = p->domain;
		return dane_check(p->tlsa, p->ntlsa, chain, n, names, 2, why,
		    whylen);
	case TLSPOL_MTASTS:
		if (!p->sts_mx_ok)
			str_say(err, sizeof(err), "MX %s matches no mx pattern "
			    "of the policy", p->name);
		else if (ca_verify(c, chain, n, p->name, p, err, sizeof(err)) == 0) {
			snprintf(why, whylen, "MTA-STS: %s", err);
			return 0;
		}
		if (p->sts_mode == MTASTS_TESTING) {
			/* RFC 8461 5: testing reports, never refuses */
			snprintf(why, whylen, "MTA-STS testing, would fail: %s",
			    err);
			return 0;
		}
		snprintf(why, whylen, "MTA-STS: %s", err);
		return -1;
	case TLSPOL_VERIFY:
		if (ca_verify(c, chain, n, p->name, p, err, sizeof(err)) == 0) {
			snprintf(why, whylen, "%s", err);
			return 0;
		}
		snprintf(why, whylen, "verify: %s", err);
		return -1;
	default:
		snprintf(why, whylen, "opportunistic TLS, not checked");
		return 0;
	}
}

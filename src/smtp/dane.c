/* dane.c: TLSA matching over DER certificates, with GnuTLS's x509 (dane.h).
 * Certificates come from the next hop, so nothing about them is trusted
 * before a record matched: they are parsed by GnuTLS, counted, and only
 * compared.
 */
#include <stdio.h>
#include <string.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "smtp/dane.h"

int
dane_tlsa_parse(const uint8_t *rdata, size_t n, struct dane_tlsa *t)
{
	memset(t, 0, sizeof(*t));
	if (n < 4)
		return -1;
	t->usage = rdata[0];
	t->selector = rdata[1];
	t->mtype = rdata[2];
	rdata += 3;
	n -= 3;
	if (t->mtype == 0) {
		if (gnutls_hash_fast(GNUTLS_DIG_SHA512, rdata, n, t->data) < 0)
			return -1;
		t->len = 64;
	} else {
		/* longer than any digest: kept cut, and unusable */
		t->len = (uint8_t)(n > sizeof(t->data) ? sizeof(t->data) + 1 : n);
		memcpy(t->data, rdata, n > sizeof(t->data) ? sizeof(t->data) : n);
	}
	return 0;
}

bool
dane_usable(const struct dane_tlsa *t)
{
	if (t->usage != DANE_TA && t->usage != DANE_EE)
		return false;
	if (t->selector > 1)
		return false;
	switch (t->mtype) {
	case 0:
		return true;
	case 1:
		return t->len == 32;
	case 2:
		return t->len == 64;
	default:
		return false;
	}
}

/* Does certificate der match record t? */
static bool
matches(const struct dane_tlsa *t, const gnutls_datum_t *der)
{
	gnutls_datum_t data = *der, spki = { NULL, 0 };
	uint8_t md[64];
	bool ok = false;

	if (t->selector == 1) {
		gnutls_x509_crt_t crt = NULL;
		gnutls_pubkey_t pk = NULL;
		int r;

		r = gnutls_x509_crt_init(&crt);
		if (r >= 0)
			r = gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER);
		if (r >= 0)
			r = gnutls_pubkey_init(&pk);
		if (r >= 0)
			r = gnutls_pubkey_import_x509(pk, crt, 0);
		if (r >= 0)
			r = gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &spki);
		if (pk != NULL)
			gnutls_pubkey_deinit(pk);
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		if (r < 0)
			return false;
		data = spki;
	}
	if (gnutls_hash_fast(t->mtype == 1 ? GNUTLS_DIG_SHA256 :
	    GNUTLS_DIG_SHA512, data.data, data.size, md) < 0)
		goto done;
	ok = memcmp(md, t->data, t->mtype == 1 ? 32 : 64) == 0;
done:
	gnutls_free(spki.data);
	return ok;
}

/* Does chain[0..ta] verify, chain[ta] the one anchor, and does the leaf
 * carry one of the names?  0 yes, -1 no with why. */
static int
verify_to(const gnutls_datum_t *chain, unsigned ta, const char *const *names,
    size_t nnames, char *why, size_t whylen)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t anchor = NULL, certs[DANE_CHAIN_MAX];
	unsigned i, n = 0, status = 0;
	size_t k;
	int rc = -1;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0 ||
	    gnutls_x509_crt_init(&anchor) < 0 ||
	    gnutls_x509_crt_import(anchor, &chain[ta], GNUTLS_X509_FMT_DER) < 0) {
		snprintf(why, whylen, "cannot read the anchor certificate");
		goto done;
	}
	if (gnutls_x509_trust_list_add_cas(tl, &anchor, 1, 0) != 1) {
		snprintf(why, whylen, "cannot use the anchor certificate");
		goto done;
	}
	anchor = NULL;	/* the list has it now */
	for (i = 0; i < ta; i++, n++) {
		if (gnutls_x509_crt_init(&certs[i]) < 0)
			goto done;
		if (gnutls_x509_crt_import(certs[i], &chain[i],
		    GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(certs[i]);
			snprintf(why, whylen, "certificate %u unreadable", i);
			goto done;
		}
	}
	if (gnutls_x509_trust_list_verify_crt2(tl, certs, n, NULL, 0, 0,
	    &status, NULL) < 0 || status != 0) {
		gnutls_datum_t txt;

		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &txt, 0) >= 0) {
			snprintf(why, whylen, "chain does not verify up to the "
			    "DANE-TA certificate: %s", txt.data);
			gnutls_free(txt.data);
		} else
			snprintf(why, whylen, "chain does not verify up to the "
			    "DANE-TA certificate");
		goto done;
	}
	for (k = 0; k < nnames; k++)
		if (gnutls_x509_crt_check_hostname2(certs[0], names[k], 0))
			break;
	if (k == nnames) {
		snprintf(why, whylen, "DANE-TA: certificate not for %s",
		    nnames > 0 ? names[0] : "(no name)");
		goto done;
	}
	snprintf(why, whylen, "DANE-TA matched certificate %u, name %s", ta,
	    names[k]);
	rc = 0;
done:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	if (anchor != NULL)
		gnutls_x509_crt_deinit(anchor);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}

int
dane_check(const struct dane_tlsa *t, size_t n, const gnutls_datum_t *chain,
    unsigned nchain, const char *const *names, size_t nnames, char *why,
    size_t whylen)
{
	char ta_why[200] = "";
	size_t k;
	unsigned i;

	if (nchain == 0) {
		snprintf(why, whylen, "no certificate");
		return -1;
	}
	if (nchain > DANE_CHAIN_MAX)
		nchain = DANE_CHAIN_MAX;
	for (k = 0; k < n; k++) {
		if (!dane_usable(&t[k]) || t[k].usage != DANE_EE)
			continue;
		if (matches(&t[k], &chain[0])) {
			snprintf(why, whylen, "DANE-EE matched (%u %u %u)",
			    t[k].usage, t[k].selector, t[k].mtype);
			return 0;
		}
	}
	for (k = 0; k < n; k++) {
		if (!dane_usable(&t[k]) || t[k].usage != DANE_TA)
			continue;
		for (i = 1; i < nchain; i++) {
			if (!matches(&t[k], &chain[i]))
				continue;
			if (verify_to(chain, i, names, nnames, why, whylen) == 0)
				return 0;
			snprintf(ta_why, sizeof(ta_why), "%s", why);
		}
	}
	if (ta_why[0] != '\0')
		snprintf(why, whylen, "%s", ta_why);
	else
		snprintf(why, whylen, "no TLSA record matches the certificate "
		    "chain (%u certificates)", nchain);
	return -1;
}

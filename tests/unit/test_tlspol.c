/* test_tlspol.c: the pure parts of the upstream TLS policy: the MTA-STS
 * policy, TXT record and HTTP response parsers, mx patterns, and TLSA
 * matching (each usage, selector and matching type) over certificates made
 * here with GnuTLS, and tlspol_check's answers for each kind of policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "smtp/dane.h"
#include "smtp/mtasts.h"
#include "net/dns.h"
#include "smtp/tlspolicy.h"

/* ---- MTA-STS policy text ---- */

static int
parse(const char *s, struct mtasts_policy *p, char *why)
{
	return mtasts_policy_parse(s, strlen(s), p, why, 200);
}

static void
test_policy_good(void **state)
{
	struct mtasts_policy p;
	char why[200] = "";

	(void)state;
	assert_int_equal(parse("version: STSv1\nmode: enforce\n"
	    "mx: mail.example.com\nmx: *.example.net\nmx: Backupmx.Example.COM.\n"
	    "max_age: 604800\n", &p, why), 0);
	assert_int_equal(p.mode, MTASTS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.nmx, 3);
	assert_string_equal(mtasts_mx(&p, 0), "mail.example.com");
	assert_string_equal(mtasts_mx(&p, 1), "*.example.net");
	assert_string_equal(mtasts_mx(&p, 2), "backupmx.example.com");
	assert_null(mtasts_mx(&p, 3));
	/* CRLF lines, blanks around the value, no final line end */
	assert_int_equal(parse("version:STSv1\r\nmode:  testing \r\n"
	    "mx:\tmx.example.org\r\nmax_age: 86400", &p, why), 0);
	assert_int_equal(p.mode, MTASTS_TESTING);
	assert_int_equal(p.max_age, 86400);
	assert_string_equal(mtasts_mx(&p, 0), "mx.example.org");
	/* unknown keys ignored; the first version, mode, max_age count */
	assert_int_equal(parse("version: STSv1\nmode: enforce\nmode: none\n"
	    "future-key: anything at all\nx.y_z: 1\nmx: a.example\n"
	    "max_age: 10\nmax_age: 20\n", &p, why), 0);
	assert_int_equal(p.mode, MTASTS_ENFORCE);
	assert_int_equal(p.max_age, 10);
	/* mode none needs no mx */
	assert_int_equal(parse("version: STSv1\nmode: none\nmax_age: 0\n", &p,
	    why), 0);
	assert_int_equal(p.mode, MTASTS_NONE);
	/* a max_age over the RFC's year is cut to it */
	assert_int_equal(parse("version: STSv1\nmode: enforce\nmx: a.example\n"
	    "max_age: 9999999999\n", &p, why), 0);
	assert_int_equal(p.max_age, MTASTS_MAX_AGE_MAX);
	assert_int_equal(parse("version: STSv1\nmode: enforce\nmx: a.example\n"
	    "max_age: 31557601\n", &p, why), 0);
	assert_int_equal(p.max_age, MTASTS_MAX_AGE_MAX);
}

static void
test_policy_bad(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "mode: enforce\nmx: a.example\nmax_age: 1\n", "no version" },
		{ "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
		  "version is not STSv1" },
		{ "version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
		  "version is not STSv1" },
		{ "version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode" },
		{ "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n",
		  "mode is not" },
		{ "version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age" },
		{ "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
		  "max_age is not a number" },
		{ "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1d\n",
		  "max_age is not a number" },
		{ "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
		  "1 to 10 digits" },
		{ "version: STSv1\nmode: enforce\nmx: a.example\nmax_age:\n",
		  "1 to 10 digits" },
		{ "version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx" },
		{ "version: STSv1\nmode: testing\nmax_age: 1\n", "no mx" },
		{ "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n",
		  "mx is not" },
		{ "version: STSv1\nmode: enforce\nmx: *example.net\nmax_age: 1\n",
		  "mx is not" },
		{ "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n",
		  "mx is not" },
		{ "version: STSv1\nmode: enforce\nmx: a b.example\nmax_age: 1\n",
		  "mx is not" },
		{ "version: STSv1\nmode: enforce\nmx: \nmax_age: 1\n", "mx is not" },
		{ "version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n",
		  "line 2: no ':'" },
		{ "version: STSv1\n: enforce\n", "line 2: not a field name" },
		{ "version: STSv1\nmode: enforce\x01\n", "control" },
		{ "version: STSv1\nmode: enforce\nmx: caf\xc3\xa9.example\n",
		  "non-ASCII" },
	};
	struct mtasts_policy p;
	char why[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (parse(bad[i].text, &p, why) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("%s: want '%s', got '%s'", bad[i].text,
			    bad[i].why, why);
	}
	/* a NUL is a byte like any other: refused, not an end */
	assert_int_equal(mtasts_policy_parse("version: STSv1\nmo\0de: none\n"
	    "max_age: 1\n", 37, &p, why, sizeof(why)), -1);
}

static void
test_policy_too_many_mx(void **state)
{
	struct mtasts_policy p;
	char *text = malloc(100000), why[200];
	size_t len;
	int i;

	(void)state;
	assert_non_null(text);
	for (int want = MTASTS_MX_MAX; want <= MTASTS_MX_MAX + 1; want++) {
		len = (size_t)sprintf(text, "version: STSv1\nmode: enforce\n"
		    "max_age: 1\n");
		for (i = 0; i < want; i++)
			len += (size_t)sprintf(text + len, "mx: mx%d.example\n", i);
		if (want == MTASTS_MX_MAX) {
			assert_int_equal(mtasts_policy_parse(text, len, &p, why,
			    sizeof(why)), 0);
			assert_int_equal(p.nmx, MTASTS_MX_MAX);
		} else {
			assert_int_equal(mtasts_policy_parse(text, len, &p, why,
			    sizeof(why)), -1);
			assert_non_null(strstr(why, "more mx patterns"));
		}
	}
	/* long names fill the buffer before the count */
	len = (size_t)sprintf(text, "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (i = 0; i < 40; i++)
		len += (size_t)sprintf(text + len, "mx: %063d.%063d.%063d.x%d\n",
		    0, 0, 0, i);
	assert_int_equal(mtasts_policy_parse(text, len, &p, why, sizeof(why)), -1);
	free(text);
}

static void
test_mx_match(void **state)
{
	struct mtasts_policy p;
	char why[200];

	(void)state;
	assert_true(mtasts_mx_match("mail.example.com", "mail.example.com"));
	assert_true(mtasts_mx_match("mail.example.com", "MAIL.example.com"));
	assert_false(mtasts_mx_match("mail.example.com", "mail2.example.com"));
	assert_false(mtasts_mx_match("mail.example.com", "x.mail.example.com"));
	assert_true(mtasts_mx_match("*.example.net", "mx1.example.net"));
	assert_false(mtasts_mx_match("*.example.net", "example.net"));
	assert_false(mtasts_mx_match("*.example.net", "a.b.example.net"));
	assert_false(mtasts_mx_match("*.example.net", "mx1.example.neta"));
	assert_false(mtasts_mx_match("*.example.net", "mx1example.net"));
	assert_false(mtasts_mx_match("*.example.net", ".example.net"));
	assert_int_equal(parse("version: STSv1\nmode: enforce\nmax_age: 1\n"
	    "mx: mail.example.com\nmx: *.example.net\n", &p, why), 0);
	assert_true(mtasts_policy_match(&p, "mail.example.com"));
	assert_true(mtasts_policy_match(&p, "b.example.net"));
	assert_false(mtasts_policy_match(&p, "evil.example.org"));
}

static void
test_txt(void **state)
{
	char id[MTASTS_ID_MAX + 1];
	static const char *good[] = {
		"v=STSv1; id=20160831085700Z;",
		"v=STSv1;id=abc",
		"v=STSv1 ; id=abc ; ext=val-ue",
		"v=STSv1; ext.x=1; id=abc",
		"v=STSv1; id=abc; id=def",
	};
	static const char *bad[] = {
		"", "v=STSv1", "v=STSv1;", "v=STSv2; id=abc", "V=STSv1; id=abc",
		"v=STSv1; id=", "v=STSv1; id=a-b", "v=STSv1 id=abc",
		"v=STSv1; id=123456789012345678901234567890123",
		"v=STSv1; =x; id=abc", "v=STSv1; id=abc; x", "v=STSv1; id=abc;;",
		"v=STSv1; ext=; id=abc", "v=STSv1; id=abc x",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (mtasts_txt_parse(good[i], strlen(good[i]), id) != 0)
			fail_msg("refused: %s", good[i]);
	}
	assert_string_equal(id, "abc");		/* the first id */
	assert_int_equal(mtasts_txt_parse(good[0], strlen(good[0]), id), 0);
	assert_string_equal(id, "20160831085700Z");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mtasts_txt_parse(bad[i], strlen(bad[i]), id) != -1)
			fail_msg("accepted: '%s'", bad[i]);
}

/* ---- certificates made here, and TLSA records for them ---- */

struct cert {
	gnutls_x509_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 der;
	gnutls_datum_t		 spki;
};

static struct cert ca, ca2, leaf, other;
static char ca_file[] = "/tmp/test_tlspol.XXXXXX";

static void
make(struct cert *c, const char *cn, const char *dns, struct cert *issuer,
    bool is_ca)
{
	gnutls_pubkey_t pk;
	time_t now = time(NULL);
	unsigned char serial[4] = { 1, 2, 3, (unsigned char)(cn[0]) };

	assert_int_equal(gnutls_x509_privkey_init(&c->key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(c->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&c->crt), 0);
	gnutls_x509_crt_set_version(c->crt, 3);
	gnutls_x509_crt_set_serial(c->crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(c->crt, now - 3600);
	gnutls_x509_crt_set_expiration_time(c->crt, now + 86400);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c->crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c->crt, c->key), 0);
	gnutls_x509_crt_set_basic_constraints(c->crt, is_ca, -1);
	gnutls_x509_crt_set_key_usage(c->crt, is_ca ?
	    GNUTLS_KEY_KEY_CERT_SIGN : GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (dns != NULL)
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(c->crt,
		    GNUTLS_SAN_DNSNAME, dns, (unsigned)strlen(dns),
		    GNUTLS_FSAN_SET), 0);
	if (issuer == NULL)
		issuer = c;
	assert_int_equal(gnutls_x509_crt_sign2(c->crt, issuer->crt, issuer->key,
	    GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_DER,
	    &c->der), 0);
	assert_int_equal(gnutls_pubkey_init(&pk), 0);
	assert_int_equal(gnutls_pubkey_import_x509(pk, c->crt, 0), 0);
	assert_int_equal(gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER,
	    &c->spki), 0);
	gnutls_pubkey_deinit(pk);
}

static void
unmake(struct cert *c)
{
	gnutls_free(c->der.data);
	gnutls_free(c->spki.data);
	gnutls_x509_crt_deinit(c->crt);
	gnutls_x509_privkey_deinit(c->key);
}

static int
setup(void **state)
{
	gnutls_datum_t pem;
	FILE *fp;
	int fd;

	(void)state;
	make(&ca, "Lab CA", NULL, NULL, true);
	make(&ca2, "Other CA", NULL, NULL, true);
	make(&leaf, "mx1.example.net", "mx1.example.net", &ca, false);
	make(&other, "mx1.example.net", "mx1.example.net", &ca2, false);
	if ((fd = mkstemp(ca_file)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		return -1;
	assert_int_equal(gnutls_x509_crt_export2(ca.crt, GNUTLS_X509_FMT_PEM,
	    &pem), 0);
	fwrite(pem.data, 1, pem.size, fp);
	fclose(fp);
	gnutls_free(pem.data);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unmake(&ca);
	unmake(&ca2);
	unmake(&leaf);
	unmake(&other);
	unlink(ca_file);
	return 0;
}

/* A TLSA record usage selector mtype for certificate c, parsed. */
static struct dane_tlsa
record(unsigned usage, unsigned selector, unsigned mtype, const struct cert *c)
{
	const gnutls_datum_t *d = selector == 0 ? &c->der : &c->spki;
	uint8_t rdata[4096];
	size_t n = 3;
	struct dane_tlsa t;

	rdata[0] = (uint8_t)usage;
	rdata[1] = (uint8_t)selector;
	rdata[2] = (uint8_t)mtype;
	if (mtype == 0) {
		assert_true(d->size < sizeof(rdata) - 3);
		memcpy(rdata + 3, d->data, d->size);
		n += d->size;
	} else {
		assert_int_equal(gnutls_hash_fast(mtype == 1 ? GNUTLS_DIG_SHA256 :
		    GNUTLS_DIG_SHA512, d->data, d->size, rdata + 3), 0);
		n += mtype == 1 ? 32 : 64;
	}
	assert_int_equal(dane_tlsa_parse(rdata, n, &t), 0);
	return t;
}

static void
test_dane_ee(void **state)
{
	gnutls_datum_t chain[2] = { leaf.der, ca.der };
	const char *names[] = { "mx1.example.net" };
	const char *wrong[] = { "elsewhere.example" };
	char why[200];
	unsigned s, m;

	(void)state;
	for (s = 0; s <= 1; s++)
		for (m = 0; m <= 2; m++) {
			struct dane_tlsa t = record(DANE_EE, s, m, &leaf);
			struct dane_tlsa u = record(DANE_EE, s, m, &other);

			assert_true(dane_usable(&t));
			/* DANE-EE: no name check, the leaf alone */
			assert_int_equal(dane_check(&t, 1, chain, 1, wrong, 1, why,
			    sizeof(why)), 0);
			assert_non_null(strstr(why, "DANE-EE"));
			assert_int_equal(dane_check(&t, 1, chain, 2, names, 1, why,
			    sizeof(why)), 0);
			/* another certificate (same name, same CA's name) */
			assert_int_equal(dane_check(&u, 1, chain, 2, names, 1, why,
			    sizeof(why)), -1);
			/* a DANE-EE record of the CA does not pin the leaf */
			u = record(DANE_EE, s, m, &ca);
			assert_int_equal(dane_check(&u, 1, chain, 2, names, 1, why,
			    sizeof(why)), -1);
		}
}

static void
test_dane_ta(void **state)
{
	gnutls_datum_t chain[2] = { leaf.der, ca.der };
	gnutls_datum_t forged[2] = { other.der, ca.der };
	const char *names[] = { "mx1.example.net", "example.net" };
	const char *domain_only[] = { "mx9.example.net", "mx1.example.net" };
	const char *wrong[] = { "mx2.example.net", "example.net" };
	char why[200];
	unsigned s, m;

	(void)state;
	for (s = 0; s <= 1; s++)
		for (m = 0; m <= 2; m++) {
			struct dane_tlsa t = record(DANE_TA, s, m, &ca);

			assert_true(dane_usable(&t));
			assert_int_equal(dane_check(&t, 1, chain, 2, names, 2, why,
			    sizeof(why)), 0);
			assert_non_null(strstr(why, "DANE-TA"));
			assert_int_equal(dane_check(&t, 1, chain, 2, domain_only, 2,
			    why, sizeof(why)), 0);
			/* the leaf's name must match */
			assert_int_equal(dane_check(&t, 1, chain, 2, wrong, 2, why,
			    sizeof(why)), -1);
			assert_non_null(strstr(why, "not for"));
			/* the anchor not in the chain */
			assert_int_equal(dane_check(&t, 1, chain, 1, names, 2, why,
			    sizeof(why)), -1);
			/* a leaf of another CA, with our CA appended */
			assert_int_equal(dane_check(&t, 1, forged, 2, names, 2, why,
			    sizeof(why)), -1);
			assert_non_null(strstr(why, "does not verify"));
			/* a DANE-TA record of the leaf itself: no anchor */
			t = record(DANE_TA, s, m, &leaf);
			assert_int_equal(dane_check(&t, 1, chain, 2, names, 2, why,
			    sizeof(why)), -1);
		}
}

static void
test_dane_unusable(void **state)
{
	gnutls_datum_t chain[2] = { leaf.der, ca.der };
	const char *names[] = { "mx1.example.net" };
	struct dane_tlsa t[5];
	uint8_t rdata[] = { 3, 1, 1, 1, 2, 3 };		/* SHA-256, 3 bytes */
	struct tlspol p;
	char why[200];

	(void)state;
	t[0] = record(0, 0, 1, &leaf);		/* PKIX-TA */
	t[1] = record(1, 1, 1, &leaf);		/* PKIX-EE */
	t[2] = record(3, 2, 1, &leaf);		/* selector 2 */
	t[3] = record(3, 0, 1, &leaf);
	t[3].mtype = 3;				/* matching type 3 */
	assert_int_equal(dane_tlsa_parse(rdata, sizeof(rdata), &t[4]), 0);
	for (int i = 0; i < 5; i++)
		assert_false(dane_usable(&t[i]));
	assert_int_equal(dane_check(t, 5, chain, 2, names, 1, why, sizeof(why)),
	    -1);
	assert_int_equal(dane_tlsa_parse(rdata, 3, &t[0]), -1);

	/* tlspol_check: a secure RRset of unusable records only is TLS
	 * required, unauthenticated */
	memset(&p, 0, sizeof(p));
	p.kind = TLSPOL_DANE;
	p.require_tls = true;
	memcpy(p.tlsa, t, sizeof(t));
	p.ntlsa = 5;
	snprintf(p.name, sizeof(p.name), "mx1.example.net");
	assert_int_equal(tlspol_check(NULL, &p, chain, 2, why, sizeof(why)), 0);
	assert_string_equal(tlspol_verified_name(&p), "none");
	assert_int_equal(tlspol_check(NULL, &p, NULL, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "TLS required"));
	/* one usable record, and it is checked */
	p.tlsa[0] = record(DANE_EE, 1, 1, &other);
	p.dane_usable = true;
	assert_string_equal(tlspol_verified_name(&p), "dane");
	assert_int_equal(tlspol_check(NULL, &p, chain, 2, why, sizeof(why)), -1);
	p.tlsa[1] = record(DANE_EE, 1, 1, &leaf);
	assert_int_equal(tlspol_check(NULL, &p, chain, 2, why, sizeof(why)), 0);
}

static void
test_check_ca(void **state)
{
	struct tlspol_ctx *c;
	struct tlspol p;
	gnutls_datum_t chain[2] = { leaf.der, ca.der };
	gnutls_datum_t forged[1] = { other.der };
	char err[200], why[200];

	(void)state;
	c = tlspol_new(TLSPOL_TRUST_ANCHOR, ca_file, err, sizeof(err));
	if (c == NULL)
		fail_msg("tlspol_new: %s", err);
	assert_null(tlspol_new("/nonexistent/root.key", NULL, err, sizeof(err)));
	assert_null(tlspol_new(NULL, "/nonexistent/ca.pem", err, sizeof(err)));

	memset(&p, 0, sizeof(p));
	p.kind = TLSPOL_VERIFY;
	p.require_tls = true;
	snprintf(p.name, sizeof(p.name), "mx1.example.net");
	assert_int_equal(tlspol_check(c, &p, chain, 2, why, sizeof(why)), 0);
	assert_int_equal(tlspol_check(c, &p, chain, 1, why, sizeof(why)), 0);
	assert_int_equal(tlspol_check(c, &p, forged, 1, why, sizeof(why)), -1);
	assert_int_equal(tlspol_check(c, &p, NULL, 0, why, sizeof(why)), -1);
	snprintf(p.name, sizeof(p.name), "mx2.example.net");
	assert_int_equal(tlspol_check(c, &p, chain, 2, why, sizeof(why)), -1);
	assert_string_equal(tlspol_verified_name(&p), "ca");

	/* MTA-STS enforce: the CA store, the name, and the mx pattern */
	p.kind = TLSPOL_MTASTS;
	p.sts_mode = MTASTS_ENFORCE;
	p.sts_mx_ok = true;
	snprintf(p.name, sizeof(p.name), "mx1.example.net");
	assert_int_equal(tlspol_check(c, &p, chain, 2, why, sizeof(why)), 0);
	assert_string_equal(tlspol_verified_name(&p), "mta-sts");
	assert_int_equal(tlspol_check(c, &p, forged, 1, why, sizeof(why)), -1);
	p.sts_mx_ok = false;
	assert_int_equal(tlspol_check(c, &p, chain, 2, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "matches no mx pattern"));
	/* testing: never refuses, says what would fail */
	p.sts_mode = MTASTS_TESTING;
	p.require_tls = false;
	assert_int_equal(tlspol_check(c, &p, chain, 2, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "would fail"));
	assert_int_equal(tlspol_check(c, &p, NULL, 0, why, sizeof(why)), 0);
	assert_string_equal(tlspol_verified_name(&p), "none");

	/* a tempfail never passes */
	memset(&p, 0, sizeof(p));
	p.tempfail = true;
	assert_int_equal(tlspol_check(c, &p, chain, 2, why, sizeof(why)), -1);
	tlspol_free(c);
}

static void
test_levels_without_lookups(void **state)
{
	struct tlspol_ctx *c;
	struct tlspol p;
	struct sockaddr_storage ss;
	char err[200];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_INET;
	c = tlspol_new(NULL, NULL, err, sizeof(err));
	if (c == NULL)
		fail_msg("tlspol_new: %s", err);
	/* none and may answer at once, past any deadline: no lookups */
	assert_int_equal(tlspol_lookup(c, TLSPOL_LEVEL_NONE, "example.net", &ss,
	    NULL, 0, &p), 0);
	assert_int_equal(p.kind, TLSPOL_NONE);
	assert_false(p.require_tls);
	assert_false(p.tempfail);
	assert_int_equal(tlspol_lookup(c, TLSPOL_LEVEL_MAY, "example.net", &ss,
	    NULL, 0, &p), 0);
	assert_int_equal(p.kind, TLSPOL_NONE);
	assert_false(p.tempfail);
	/* dane past its deadline: a tempfail, never a downgrade */
	assert_int_equal(tlspol_lookup(c, TLSPOL_LEVEL_DANE, "example.net", &ss,
	    NULL, 0, &p), 0);
	assert_true(p.tempfail);
	/* verify, an address literal for a domain: the relay's name */
	assert_int_equal(tlspol_lookup(c, TLSPOL_LEVEL_VERIFY, "[192.0.2.1]",
	    &ss, "relay.example", 0, &p), 0);
	assert_int_equal(p.kind, TLSPOL_VERIFY);
	assert_true(p.require_tls);
	assert_string_equal(p.name, "relay.example");
	tlspol_free(c);
}

/* The names looked up for a recipient's domain: lower case, no trailing
 * dot, and a name in Unicode as its A-labels (its TLSA and MTA-STS
 * records are published there); what is no host name, none. */
static void
test_hostnames(void **state)
{
	char out[DNS_NAME_MAX], big[300];

	(void)state;
	assert_int_equal(dns_hostname("Example.ORG.", out, sizeof(out)), 0);
	assert_string_equal(out, "example.org");
	assert_int_equal(dns_hostname("b\xc3\xbc" "cher.example", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(dns_hostname("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83"
	    "\x86\xe3\x82\xb9\xe3\x83\x88", out, sizeof(out)), 0);
	assert_string_equal(out, "xn--r8jz45g.xn--zckzah");
	assert_int_equal(dns_hostname("bad\xff.example", out, sizeof(out)),
	    -1);
	assert_int_equal(dns_hostname("a..b", out, sizeof(out)), -1);
	assert_int_equal(dns_hostname("under_score.example", out,
	    sizeof(out)), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(dns_hostname(big, out, sizeof(out)), -1);
}

/* A cache full of enforce policies keeps them: 1,024 domains of an
 * attacker's pushed a victim's policy out, and its first contact after
 * could be downgraded again (review, 2026-12-07). */
static void
test_cache_keeps_enforce(void **state)
{
#ifdef MOAT_TEST_SEAMS
	struct mtasts_policy p;
	char d[64];
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.mode = MTASTS_ENFORCE;
	p.max_age = 86400;
	mtasts_test_store("victim.example", &p);
	/* mailed again: found */
	assert_int_equal(mtasts_test_cached("victim.example"),
	    MTASTS_ENFORCE);
	for (i = 0; i < MTASTS_CACHE_MAX + 10; i++) {
		snprintf(d, sizeof(d), "attacker%d.example", i);
		mtasts_test_store(d, &p);
	}
	assert_int_equal(mtasts_test_cached("victim.example"),
	    MTASTS_ENFORCE);
	/* the attacker's, each mailed once, make room for newcomers: the
	 * cache is never shut */
	mtasts_test_store("new.example", &p);
	assert_int_equal(mtasts_test_cached("new.example"), MTASTS_ENFORCE);
	/* full of enforce policies mailed again: a testing newcomer is
	 * not kept */
	for (i = 0; i < MTASTS_CACHE_MAX + 10; i++) {
		snprintf(d, sizeof(d), "attacker%d.example", i);
		mtasts_test_cached(d);
	}
	p.mode = MTASTS_TESTING;
	mtasts_test_store("testing.example", &p);
	assert_int_equal(mtasts_test_cached("testing.example"), -1);
	assert_int_equal(mtasts_test_cached("victim.example"),
	    MTASTS_ENFORCE);
#else
	(void)state;
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostnames),
		cmocka_unit_test(test_cache_keeps_enforce),
		cmocka_unit_test(test_policy_good),
		cmocka_unit_test(test_policy_bad),
		cmocka_unit_test(test_policy_too_many_mx),
		cmocka_unit_test(test_mx_match),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_dane_ee),
		cmocka_unit_test(test_dane_ta),
		cmocka_unit_test(test_dane_unusable),
		cmocka_unit_test(test_check_ca),
		cmocka_unit_test(test_levels_without_lookups),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

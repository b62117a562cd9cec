/* tls.c: see tls.h. */
#include "web/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* path written whole or not at all: a new file of its own (never
 * through a link someone left, never an old file that keeps its old
 * mode), then renamed over path. */
static int
write_pem(const char *path, const gnutls_datum_t *d, int mode)
{
	char tmp[4200];
	bool ok;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return -1;
	(void)unlink(tmp);		/* a crash's leftover */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		return -1;
	ok = write(fd, d->data, d->size) == (ssize_t)d->size && fsync(fd) == 0;
	if (close(fd) == -1 || !ok) {
		(void)unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
tls_ensure(const char *cert, const char *key, const char *name, char *err,
    size_t errlen)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_x509_crt_t c = NULL;
	gnutls_datum_t kd = { NULL, 0 }, cd = { NULL, 0 };
	unsigned char serial[16];
	time_t now = time(NULL);
	int rc = -1, g;

	if (access(cert, R_OK) == 0 && access(key, R_OK) == 0)
		return 0;
	if ((g = gnutls_x509_privkey_init(&k)) < 0 ||
	    (g = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (g = gnutls_x509_crt_init(&c)) < 0 ||
	    (g = gnutls_x509_crt_set_version(c, 3)) < 0 ||
	    (g = gnutls_x509_crt_set_key(c, k)) < 0 ||
	    (g = gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME,
	    0, name, (unsigned)strlen(name))) < 0 ||
	    (g = gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME,
	    name, (unsigned)strlen(name), GNUTLS_FSAN_SET)) < 0 ||
	    (g = gnutls_x509_crt_set_activation_time(c, now - 3600)) < 0 ||
	    (g = gnutls_x509_crt_set_expiration_time(c, now + 3650 * 86400L)) <
	    0 ||
	    (g = gnutls_x509_crt_set_key_usage(c,
	    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (g = gnutls_x509_crt_set_key_purpose_oid(c,
	    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		goto fail;
	if (getrandom(serial, sizeof(serial), 0) != sizeof(serial)) {
		g = GNUTLS_E_RANDOM_FAILED;
		goto fail;
	}
	serial[0] &= 0x7f;
	if ((g = gnutls_x509_crt_set_serial(c, serial, sizeof(serial))) < 0 ||
	    (g = gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (g = gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &kd)) < 0 ||
	    (g = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &cd)) < 0)
		goto fail;
	if (write_pem(key, &kd, 0600) == -1 || write_pem(cert, &cd, 0644) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", key, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "making a certificate: %s", gnutls_strerror(g));
out:
	gnutls_free(kd.data);
	gnutls_free(cd.data);
	if (c != NULL)
		gnutls_x509_crt_deinit(c);
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	return rc;
}

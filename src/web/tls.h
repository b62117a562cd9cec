/* tls.h: the console's certificate (GnuTLS, the one file that uses it):
 * the admin's own, or a self-signed one made at the first start. */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <stddef.h>

/* Make cert and key (PEM files; the key 0600) unless both exist: an
 * ECDSA P-256 key and a certificate for name, valid ten years.  0, or -1
 * with err. */
int	 tls_ensure(const char *cert, const char *key, const char *name,
	    char *err, size_t errlen);

#endif

/* tlspol_probe.c: drive the upstream TLS policy library (smtp/tlspolicy.h)
 * from a test, as the proxy will: look a policy up, check a chain against
 * it.  Built for tests only (the lab's tlspol.sh).
 *
 * Usage: tlspol_probe [-a ANCHOR] [-c CAFILE] [-l LEVEL] [-r RELAY]
 *            [-t MS] [-w DIR] COMMAND...
 * Commands, run in order in one process (so that the cache lives across
 * them):
 *   lookup DOMAIN ADDR   print the policy for mail to DOMAIN at next hop ADDR
 *   check PEMFILE        print the last policy's answer for that chain
 *                        ("-" for no TLS at all)
 *   wait NAME            print "waiting NAME", and wait until DIR/NAME exists
 * Output lines: "policy kind=K require_tls=0|1 tempfail=0|1 name=N
 * verified=V why=...", "check ok|fail: why". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/x509.h>

#include "net/dns.h"
#include "smtp/tlspolicy.h"

static const char *
kind_name(enum tlspol_kind k)
{
	static const char *names[] = { "none", "dane", "mta-sts", "verify" };

	return (unsigned)k < 4 ? names[k] : "?";
}

static int
level(const char *s)
{
	int l;

	for (l = TLSPOL_LEVEL_NONE; l <= TLSPOL_LEVEL_VERIFY; l++)
		if (strcmp(s, tlspol_level_name(l)) == 0)
			return l;
	fprintf(stderr, "tlspol_probe: no level %s\n", s);
	exit(2);
}

static int
address(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25);
		return 0;
	}
	return -1;
}

/* The certificates of a PEM file as DER, leaf first: their number. */
static unsigned
load_chain(const char *path, gnutls_datum_t *der, unsigned max)
{
	gnutls_datum_t pem;
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;

	if (gnutls_load_file(path, &pem) < 0) {
		fprintf(stderr, "tlspol_probe: cannot read %s\n", path);
		exit(1);
	}
	if (gnutls_x509_crt_list_import2(&crts, &n, &pem, GNUTLS_X509_FMT_PEM,
	    0) < 0) {
		fprintf(stderr, "tlspol_probe: no certificates in %s\n", path);
		exit(1);
	}
	gnutls_free(pem.data);
	for (i = 0; i < n; i++) {
		if (i < max && gnutls_x509_crt_export2(crts[i],
		    GNUTLS_X509_FMT_DER, &der[i]) < 0)
			exit(1);
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
	return n < max ? n : max;
}

int
main(int argc, char **argv)
{
	const char *anchor = NULL, *ca = NULL, *relay = NULL, *dir = ".";
	struct tlspol_ctx *c;
	struct tlspol p;
	char err[256];
	long ms = 10000;
	int lvl = TLSPOL_LEVEL_DANE, ch, i, rc = 0;

	memset(&p, 0, sizeof(p));
	while ((ch = getopt(argc, argv, "a:c:l:r:t:w:")) != -1) {
		switch (ch) {
		case 'a': anchor = optarg; break;
		case 'c': ca = optarg; break;
		case 'l': lvl = level(optarg); break;
		case 'r': relay = optarg; break;
		case 't': ms = atol(optarg); break;
		case 'w': dir = optarg; break;
		default:
			fprintf(stderr, "usage: tlspol_probe [-a ANCHOR] [-c CAFILE] "
			    "[-l LEVEL] [-r RELAY] [-t MS] [-w DIR] COMMAND...\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((c = tlspol_new(anchor, ca, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tlspol_probe: %s\n", err);
		return 1;
	}
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "lookup") == 0 && i + 2 < argc) {
			struct sockaddr_storage ss;
			long long t0 = dns_now();

			if (address(argv[i + 2], &ss) == -1) {
				fprintf(stderr, "tlspol_probe: not an address: "
				    "%s\n", argv[i + 2]);
				return 2;
			}
			tlspol_lookup(c, lvl, argv[i + 1], &ss, relay,
			    t0 + ms, &p);
			printf("policy kind=%s require_tls=%d tempfail=%d name=%s "
			    "verified=%s ms=%lld why=%s\n", kind_name(p.kind),
			    p.require_tls, p.tempfail, p.name[0] ? p.name : "-",
			    tlspol_verified_name(&p), dns_now() - t0, p.why);
			i += 2;
		} else if (strcmp(argv[i], "check") == 0 && i + 1 < argc) {
			gnutls_datum_t der[16];
			unsigned n = 0, k;
			char why[300];

			if (strcmp(argv[i + 1], "-") != 0)
				n = load_chain(argv[i + 1], der, 16);
			if (tlspol_check(c, &p, n ? der : NULL, n, why,
			    sizeof(why)) == 0)
				printf("check ok: %s\n", why);
			else
				printf("check fail: %s\n", why);
			for (k = 0; k < n; k++)
				gnutls_free(der[k].data);
			i++;
		} else if (strcmp(argv[i], "wait") == 0 && i + 1 < argc) {
			char path[4096];
			int tries;

			snprintf(path, sizeof(path), "%s/%s", dir, argv[i + 1]);
			printf("waiting %s\n", argv[i + 1]);
			for (tries = 0; access(path, F_OK) == -1; tries++) {
				struct timespec ts = { 0, 50 * 1000000 };

				if (tries == 1200) {
					fprintf(stderr, "tlspol_probe: no %s\n", path);
					rc = 1;
					goto done;
				}
				nanosleep(&ts, NULL);
			}
			i++;
		} else {
			fprintf(stderr, "tlspol_probe: bad command %s\n", argv[i]);
			rc = 2;
			goto done;
		}
	}
done:
	tlspol_free(c);
	return rc;
}

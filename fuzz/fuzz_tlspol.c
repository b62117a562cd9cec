/* fuzz_tlspol.c: libFuzzer target for what the upstream TLS policy reads
 * from the network (smtp/mtasts.h, smtp/dane.h, net/dns.h, net/http.h): an
 * MTA-STS policy's text, the _mta-sts TXT record, the HTTP response that
 * carries the policy (its head, its body chunked or not, and the policy in
 * it), a TLSA record's data, and a
 * domain name in wire form.  Input: a byte that picks the parser, then the
 * bytes.  Built with clang -fsanitize=fuzzer by scripts/fuzz.sh tlspol;
 * replay.c runs the corpus in the test suite. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/dane.h"
#include "net/dns.h"
#include "net/http.h"
#include "smtp/mtasts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The policy's invariants, whatever the text: patterns are host names
 * (or *.name), in the buffer, no more than the cap. */
static void
policy(const char *s, size_t n)
{
	static struct mtasts_policy p;
	char why[200];
	unsigned i;

	if (mtasts_policy_parse(s, n, &p, why, sizeof(why)) == -1)
		return;
	if (p.nmx > MTASTS_MX_MAX || p.max_age < 0 ||
	    p.max_age > MTASTS_MAX_AGE_MAX)
		abort();
	for (i = 0; i < p.nmx; i++) {
		const char *mx = mtasts_mx(&p, i);
		char host[DNS_NAME_MAX];

		if (mx[0] == '*')
			mx += 2;
		if (dns_hostname(mx, host, sizeof(host)) == -1 ||
		    strcmp(host, mx) != 0)
			abort();
		(void)mtasts_policy_match(&p, mx);
	}
}

/* An HTTP response as https.c reads it: the head, then the body, chunked
 * or as it is, into a buffer of MTASTS_BODY_MAX, fed in pieces of 7 bytes
 * (a read may end anywhere). */
static void
response(const char *s, size_t n)
{
	static char body[MTASTS_BODY_MAX];
	struct http_head h;
	struct http_chunked c;
	char why[200];
	size_t end, off, blen = 0, used;
	int r = 0;

	if ((end = http_head_end(s, n)) == 0 || end > n)
		return;
	if (http_head_parse(s, end, &h, why, sizeof(why)) == -1)
		return;
	if (h.code < 100 || h.code > 599 || strlen(h.ctype) >= sizeof(h.ctype))
		abort();
	if (!h.chunked) {
		blen = n - end;
		if (h.has_length && blen > h.length)
			blen = h.length;
		policy(s + end, blen);
		return;
	}
	http_chunked_init(&c);
	for (off = end; off < n && r == 0; off += used) {
		size_t piece = n - off < 7 ? n - off : 7;

		used = 0;
		r = http_chunked_feed(&c, s + off, piece, &used, body, &blen,
		    sizeof(body), why, sizeof(why));
		if (blen > sizeof(body) || used > piece || (r == 0 &&
		    used != piece))
			abort();
	}
	if (r == 1)
		policy(body, blen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	char id[MTASTS_ID_MAX + 1], name[DNS_NAME_MAX];
	struct dane_tlsa t;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 5) {
	case 0:
		policy(s, n);
		break;
	case 1:
		if (mtasts_txt_parse(s, n, id) == 0 &&
		    (strlen(id) == 0 || strlen(id) > MTASTS_ID_MAX))
			abort();
		break;
	case 2:
		response(s, n);
		break;
	case 3:
		if (dane_tlsa_parse(data + 1, n, &t) == 0)
			(void)dane_usable(&t);
		break;
	default:
		if (dns_name_parse(data + 1, n, name, sizeof(name)) > 0 &&
		    strlen(name) >= DNS_NAME_MAX)
			abort();
		break;
	}
	return 0;
}

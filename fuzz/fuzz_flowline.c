/* fuzz_flowline.c: libFuzzer target for the replay's reader of flow lines
 * (analyze/flowfmt.h: conntrack -L lines and IF SRC DST PROTO [PORT]),
 * which reads an admin's dump a line at a time, 64 bytes at a time.
 * Input: lines.  Invariants, for each line (in a buffer of its own size,
 * so that a read past its NUL is the sanitizer's): the same answer,
 * reason and flow when its bound says more than the line (bytes after its
 * NUL), and when 1 to 64 spaces of every kind come before it (its words
 * across the blocks' edges).
 * Built with clang -fsanitize=fuzzer by scripts/fuzz.sh flowline; replay.c
 * runs the corpus in the test suite. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/flowfmt.h"
#include "policy/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] =
	"interface LAN device eth1 address 192.168.1.1/24 "
	"address 2001:db8:1::1/64\n"
	"interface WAN device eth0 address 203.0.113.2/24\n"
	"accept on LAN from 192.168.1.10/32 to ANY service SMTP\n"
	"deny   on LAN from ANY to ANY service SMTP\n";

/* What line (n bytes, copied into a buffer of n + 1 + extra bytes, the
 * extra ones after its NUL given to the reader as part of its bound) is,
 * with before spaces first, as text into out. */
static void
answer(const struct policy *p, const char *line, size_t n, size_t before,
    size_t extra, char *out, size_t outlen)
{
	static const char spaces[] = " \t\v\f\r";
	size_t len = before + n, i;
	char *b = malloc(len + 1 + extra), err[256] = "", a[ADDR_STRLEN],
	    d[ADDR_STRLEN];
	struct flow f;
	int got;

	if (b == NULL)
		abort();
	for (i = 0; i < before; i++)
		b[i] = spaces[i % 5];
	memcpy(b + before, line, n);
	b[len] = '\0';
	memset(b + len + 1, 'x', extra);
	got = flow_parse_line_len(p, b, len + extra, policy_iface(p, "LAN"),
	    &f, err, sizeof(err));
	if (got == 1) {
		addr_format(f.src, a, sizeof(a));
		addr_format(f.dst, d, sizeof(d));
		snprintf(out, outlen, "1 %s %d %u %s %s", f.iface->name,
		    f.proto, f.dport, a, d);
	} else
		snprintf(out, outlen, "%d %s", got, got == -1 ? err : "");
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy *p;
	const char *t = (const char *)data, *end = t + size;
	char want[600], got[600];

	if (p == NULL && ((p = policy_parse("fuzz.conf", policy_text,
	    strlen(policy_text))) == NULL || !policy_valid(p)))
		abort();
	while (t < end) {
		const char *nl = memchr(t, '\n', (size_t)(end - t));
		size_t n = nl != NULL ? (size_t)(nl - t) : (size_t)(end - t);
		size_t before = n > 0 ? (unsigned char)t[0] % 64 + 1 : 1;

		if (n < 4000) {	/* a line and its spaces under the bound */
			answer(p, t, n, 0, 0, want, sizeof(want));
			answer(p, t, n, 0, 63, got, sizeof(got));
			if (strcmp(want, got) != 0)
				abort();
			answer(p, t, n, before, 0, got, sizeof(got));
			if (strcmp(want, got) != 0)
				abort();
		}
		t += n + 1;
	}
	return 0;
}

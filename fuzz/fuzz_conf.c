/* fuzz_conf.c: libFuzzer target for the config language.
 *
 * Any input: parsing must not crash or hang.  A valid input must also
 * print to text that parses to an equal policy and prints the same, and
 * lint, the nft compiler and evaluation must run on it.  Built with clang -fsanitize=fuzzer
 * by scripts/fuzz.sh; replay.c runs the corpus in the test suite.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "lint.h"
#include "nftc.h"
#include "policy.h"
#include "printer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p, *q;
	struct strbuf once, twice;
	size_t i;

	p = policy_parse("fuzz.conf", (const char *)data, size);
	if (p == NULL)
		return 0;
	if (!policy_valid(p)) {
		policy_free(p);
		return 0;
	}
	strbuf_init(&once, 0);
	strbuf_init(&twice, 0);
	printer_policy(p, &once);
	q = policy_parse("printed.conf", strbuf_str(&once), once.len);
	if (q == NULL || !policy_valid(q) || !policy_equal(p, q))
		abort();
	printer_policy(q, &twice);
	if (strcmp(strbuf_str(&once), strbuf_str(&twice)) != 0)
		abort();
	if (lint_policy(p, NULL) == -1)
		abort();
	strbuf_reset(&twice);
	nftc_compile(p, &twice);
	if (strbuf_failed(&twice) || strstr(strbuf_str(&twice),
	    "table inet moat {") == NULL)
		abort();
	for (i = 0; i < p->niface; i++) {
		struct flow f = { p->ifaces[i], V4_BASE | 0x0a000001u,
		    V4_BASE | 0x08080808u, 6, 25 };
		struct verdict v;

		policy_eval(p, &f, &v);
		printer_verdict(p, &f, &v, &twice);
	}
	strbuf_free(&once);
	strbuf_free(&twice);
	policy_free(p);
	policy_free(q);
	return 0;
}

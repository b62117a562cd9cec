/* fuzz_conf.c: libFuzzer target for the config language.
 *
 * Any input: parsing must not crash or hang.  A valid input must also
 * print to text that parses to an equal policy and prints the same, and
 * lint, the nft compiler and evaluation must run on it, the classifier
 * index must give the linear scan's answers, and the ruleset of a dynamic
 * interface must not change shape with its addresses.  Built with clang
 * -fsanitize=fuzzer by scripts/fuzz.sh; replay.c runs the corpus in the
 * test suite.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/eval.h"
#include "analyze/lint.h"
#include "enforce/nftc.h"
#include "output/printer.h"
#include "policy/load.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Addresses worth asking about: the IPv4 block's edges, where the index
 * cuts boxes in two, and the ends of the rules' first intervals and one
 * past them. */
static size_t
edge_addrs(const struct policy *p, u128 *a, size_t max)
{
	static const u128 fixed[] = { 0, V4_BASE - 1, V4_BASE, V4_LAST,
	    V4_LAST + 1, U128_MAX };
	size_t i, n = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		a[n++] = fixed[i];
	for (i = 0; i < p->nrule && n + 8 <= max; i++) {
		const struct iset *s[2] = { &p->rules[i]->src.set,
		    &p->rules[i]->dst.set };
		int k;

		for (k = 0; k < 2; k++)
			if (s[k]->n > 0) {
				a[n++] = s[k]->v[0].lo;
				a[n++] = s[k]->v[0].lo - 1;
				a[n++] = s[k]->v[0].hi;
				a[n++] = s[k]->v[0].hi + 1;
			}
	}
	return n;
}

/* policy_eval_with (the classifier) agrees with policy_eval (the linear
 * scan) on flows between every pair of edge addresses. */
static void
check_index(const struct policy *p)
{
	struct policy_index *idx = policy_index(p, 1u << 16);
	u128 a[22];
	size_t n, i, j, k, r;

	if (idx == NULL)
		return;		/* too many boxes: the scan is used instead */
	n = edge_addrs(p, a, sizeof(a) / sizeof(a[0]));
	for (k = 0; k < p->niface; k++)
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++)
				for (r = 0; r < 2; r++) {
					const struct iset *svc = r < p->nrule ?
					    &p->rules[r]->svc.set : NULL;
					u128 key = svc != NULL && svc->n > 0 ?
					    svc->v[0].lo : 6 << 16 | 25;
					struct flow f = { p->ifaces[k], a[i],
					    a[j], (int)(key >> 16) & 0xff,
					    (unsigned)key & 0xffff,
					    (unsigned)((i * 7 + j * 131 + r *
					    1439) % SCHED_WEEK) };
					struct verdict v, w;

					policy_eval(p, &f, &v);
					policy_eval_with(p, idx, &f, &w);
					if (v.action != w.action ||
					    v.by != w.by || v.rule != w.rule)
						abort();
				}
	policy_index_free(idx);
}

/* The compiled table without set elements. */
static void
structure(const struct policy *p, struct strbuf *out)
{
	struct strbuf b;
	const char *line;

	strbuf_init(&b, 0);
	nftc_compile(p, &b);
	for (line = strbuf_str(&b); *line != '\0'; ) {
		size_t n = strcspn(line, "\n");
		const char *el = strstr(line, "elements = ");

		if (el == NULL || (size_t)(el - line) > n)
			strbuf_add(out, line, n + 1);
		line += n + (line[n] != '\0');
	}
	strbuf_free(&b);
}

/* With dynamic interfaces: the ruleset's structure is the same whatever
 * their addresses (a change refills sets, never reloads rules). */
static void
check_dynamic(const struct policy *p, const uint8_t *data, size_t size)
{
	struct bound_addr ba[2] = {
		{ NULL, { .kind = LIT_PREFIX, .family = FAM_V4,
		    .lo = V4_BASE | 0xcb007105u, .hi = V4_BASE | 0xcb007105u,
		    .plen = 24 } },
		{ NULL, { .kind = LIT_PREFIX, .family = FAM_V6,
		    .lo = (u128)0x20010db8u << 96 | 5,
		    .hi = (u128)0x20010db8u << 96 | 5, .plen = 64 } },
	};
	struct binding b = { .n = 2, .v = ba };
	struct strbuf one, two;
	struct policy *q;
	size_t i;

	for (i = 0; i < p->niface; i++) {
		if (!p->ifaces[i]->dynamic)
			continue;
		ba[0].name = ba[1].name = p->ifaces[i]->name;
		q = policy_parse_bound("fuzz.conf", (const char *)data, size,
		    &b);
		if (q == NULL)
			return;
		if (!policy_valid(q) || q->ifaces[i]->nbound != 2)
			abort();
		strbuf_init(&one, 0);
		strbuf_init(&two, 0);
		structure(p, &one);
		structure(q, &two);
		if (strcmp(strbuf_str(&one), strbuf_str(&two)) != 0)
			abort();
		strbuf_reset(&one);
		if (nftc_compile_dynamic(q, &one) == -1 || one.len == 0)
			abort();
		strbuf_free(&one);
		strbuf_free(&two);
		policy_free(q);
	}
}

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
		    V4_BASE | 0x08080808u, 6, 25, 0 };
		struct verdict v;

		policy_eval(p, &f, &v);
		printer_verdict(p, &f, &v, &twice);
	}
	check_index(p);
	check_dynamic(p, data, size);
	strbuf_free(&once);
	strbuf_free(&twice);
	policy_free(p);
	policy_free(q);
	return 0;
}

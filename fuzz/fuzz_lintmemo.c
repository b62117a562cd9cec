/* fuzz_lintmemo.c: libFuzzer target for lint's memo (analyze/lint.h), the
 * bytes an apply keeps in the state directory and the next one reads.
 * Input: the memo without its last 8 bytes, the sum, which is made here
 * so that the reader gets past it.  A fixed policy in force (old: two
 * interfaces, the anti-lockout rule, a schedule, dead and live rules)
 * and an edit of it (new) are linted with the memo.  Invariants: no read
 * outside the bytes (ASan), and a memo that was not read (no finding
 * reused) changes nothing: the findings are those of lint without it.
 * Built with clang -fsanitize=fuzzer by scripts/fuzz.sh lintmemo;
 * replay.c runs the corpus in the test suite.  With FUZZ_LINTMEMO_SEED=DIR
 * it writes the memo lint makes of old there (the corpus's first file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lint.h"
#include "base/hash.h"
#include "policy/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char old_text[] =
    "interface LAN device eth1 address 10.0.0.1/24\n"
    "interface WAN device eth0 address 192.0.2.2/24\n"
    "schedule WORK mon-fri 08:00-18:00\n"
    "object HOSTS { 10.0.0.5, 10.0.0.6, 10.0.0.9 }\n"
    "deny on LAN from 10.0.0.5 service SSH\n"
    "accept on LAN from HOSTS service SSH\n"
    "deny on LAN from 10.0.0.6 service SSH\n"
    "accept on LAN service HTTPS schedule WORK\n"
    "reject on LAN from 10.0.0.0/25 service HTTPS\n"
    "deny on WAN from 203.0.113.7\n"
    "deny on WAN from 203.0.113.7 service SMTP\n"
    "accept on LAN to 192.0.2.0/24 service SSH\n"
    "deny on LAN from 10.0.0.9 to 192.0.2.9 service SSH\n";

static const char new_text[] =
    "interface LAN device eth1 address 10.0.0.1/24\n"
    "interface WAN device eth0 address 192.0.2.2/24\n"
    "schedule WORK mon-fri 08:00-18:00\n"
    "object HOSTS { 10.0.0.5, 10.0.0.6, 10.0.0.9 }\n"
    "deny on LAN from 10.0.0.5 service SSH\n"
    "deny on LAN from 10.0.0.7 service SSH\n"
    "accept on LAN from HOSTS service SSH\n"
    "deny on LAN from 10.0.0.6 service SSH\n"
    "reject on LAN from 10.0.0.0/25 service HTTPS\n"
    "deny on WAN from 203.0.113.7\n"
    "deny on WAN from 203.0.113.7 service SMTP\n"
    "accept on LAN to 192.0.2.0/24 service SSH\n"
    "deny on LAN from 10.0.0.9 to 192.0.2.9 service SSH\n";

static struct policy *
parse(const char *text)
{
	struct policy *p = policy_parse("fuzz.conf", text, strlen(text));

	if (p == NULL || !policy_valid(p))
		abort();
	return p;
}

/* p's findings, one a line, and its dead flags. */
static void
findings(const struct policy *p, struct strbuf *out)
{
	char buf[1400];
	size_t i;

	for (i = 0; i < p->diags.n; i++) {
		diag_format(&p->diags.v[i], buf, sizeof(buf));
		strbuf_printf(out, "%s\n", buf);
	}
	for (i = 0; i < p->nrule; i++)
		strbuf_putc(out, p->rules[i]->dead ? 'd' : '.');
}

static void
seed(const char *dir)
{
	struct policy *old = parse(old_text);
	struct strbuf memo;
	struct lint_memo m = { .tag = "fuzz", .out = &memo };
	char path[4096];
	FILE *fp;

	strbuf_init(&memo, 0);
	if (lint_policy_memo(old, NULL, &m) != 0 || memo.len < 8)
		abort();
	snprintf(path, sizeof(path), "%s/seed", dir);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(strbuf_str(&memo), 1, memo.len - 8, fp) != memo.len - 8 ||
	    fclose(fp) != 0)
		abort();
	strbuf_free(&memo);
	policy_free(old);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool seeded;
	struct policy *old, *p, *q;
	struct strbuf in, a, b;
	struct lint_memo m = { .tag = "fuzz" };
	uint64_t sum;

	if (!seeded) {
		seeded = true;
		if (getenv("FUZZ_LINTMEMO_SEED") != NULL)
			seed(getenv("FUZZ_LINTMEMO_SEED"));
	}
	strbuf_init(&in, 0);
	strbuf_init(&a, 0);
	strbuf_init(&b, 0);
	strbuf_add(&in, (const char *)data, size);
	sum = fnv1a(strbuf_str(&in), in.len);
	strbuf_add(&in, (const char *)&sum, sizeof(sum));
	old = parse(old_text);
	p = parse(new_text);
	q = parse(new_text);
	m.old = old;
	m.in = strbuf_str(&in);
	m.inlen = in.len;
	if (lint_policy_memo(p, NULL, &m) != 0 || lint_policy(q, NULL) != 0)
		abort();
	findings(p, &a);
	findings(q, &b);
	if (m.reused == 0 && strcmp(strbuf_str(&a), strbuf_str(&b)) != 0)
		abort();
	if (m.reused + m.checked > p->nrule)
		abort();
	policy_free(old);
	policy_free(p);
	policy_free(q);
	strbuf_free(&in);
	strbuf_free(&a);
	strbuf_free(&b);
	return 0;
}

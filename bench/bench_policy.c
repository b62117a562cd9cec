/* bench_policy.c: parse and check generated office policies of 1K, 10K and
 * 100K rules and print the times.  A benchmark, not a test: it prints
 * figures and never fails on time.
 *
 * The baseline, measured in the same run on the same text, is the lexer
 * alone (reading every token): the ratio says what the parser, resolver and
 * lint cost on top of touching every byte once.
 * Usage: bench_policy [MAX_RULES]   (default 100000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/lint.h"
#include "output/printer.h"
#include "policy/lexer.h"
#include "policy/load.h"
#include "policy/policy.h"
#include "gen.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
scan_only(const char *text, size_t len)
{
	static struct token t;	/* large: keep it off the stack */
	struct lexer s;
	double t0 = now();
	size_t n = 0;

	lexer_init(&s, "bench.conf", text, len);
	do {
		lexer_next(&s, &t);
		n++;
	} while (t.type != T_EOF);
	if (n == 0)
		abort();
	return now() - t0;
}

/* Best of three runs of parse and of lint, to damp a noisy machine. */
static void
run(enum gen_mode mode, int nrules)
{
	struct gen_opts o = { mode, nrules, nrules / 50 + 10,
	    nrules / 500 + 5, true, false, false };
	struct rng r = { 2026 };
	struct strbuf text, out;
	double t_scan = 1e9, t_parse = 1e9, t_lint = 1e9, t_print = 1e9, t;
	struct lint_stats st = { 0 };
	size_t mem = 0;
	int i;

	strbuf_init(&text, 0);
	strbuf_init(&out, 0);
	gen_policy(&r, &o, &text);
	for (i = 0; i < 3; i++) {
		struct policy *p;

		if ((t = scan_only(strbuf_str(&text), text.len)) < t_scan)
			t_scan = t;
		t = now();
		p = policy_parse("bench.conf", strbuf_str(&text), text.len);
		if ((t = now() - t) < t_parse)
			t_parse = t;
		if (p == NULL || !policy_valid(p)) {
			if (p != NULL)
				diags_print(&p->diags, stderr);
			fprintf(stderr, "bench: generated policy is invalid\n");
			exit(1);
		}
		t = now();
		lint_policy(p, &st);
		if ((t = now() - t) < t_lint)
			t_lint = t;
		strbuf_reset(&out);
		t = now();
		printer_policy(p, &out);
		if ((t = now() - t) < t_print)
			t_print = t;
		mem = p->arena.total;
		policy_free(p);
	}
	printf("%-6s %7d rules %5.1f MB text | scan %7.1f ms | parse+resolve "
	    "%7.1f ms | lint %7.1f ms | parse+check %7.1f ms = %5.1fx scan | "
	    "print %6.1f ms | arena %6.1f MB | %zu dead, %zu pairs compared\n",
	    mode == GEN_OFFICE ? "office" : "dense", nrules,
	    (double)text.len / 1e6, t_scan * 1e3, t_parse * 1e3,
	    t_lint * 1e3, (t_parse + t_lint) * 1e3,
	    (t_parse + t_lint) / t_scan, t_print * 1e3, (double)mem / 1e6,
	    st.shadowed, st.candidates);
	strbuf_free(&text);
	strbuf_free(&out);
}

int
main(int argc, char **argv)
{
	int max = argc > 1 ? atoi(argv[1]) : 100000, n;

	printf("moat policy benchmark, best of 3 runs each.\n"
	    "office: blocklists and per-host rules, broad rules last (what "
	    "large policies look like);\n"
	    "dense:  few addresses and ports, every rule overlapping many "
	    "(lint's hard case)\n");
	for (n = 1000; n <= max; n *= 10)
		run(GEN_OFFICE, n);
	for (n = 1000; n <= max && n <= 10000; n *= 10)
		run(GEN_DENSE, n);
	return 0;
}

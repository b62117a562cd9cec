/* nftgen.c: for the enforcement benchmarks, a generated office policy of N
 * rules for the lab's devices, with its moat ruleset, the naive linear
 * baseline (anonymous sets) and the plain chain (named sets).  Usage: nftgen N KIND DIR   (KIND office or miss)
 * "miss": N rules on LAN that the benchmark's connections never match, so
 * that every new connection pays for the whole policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/nftc.h"
#include "policy/load.h"
#include "policy/policy.h"
#include "gen.h"

static int
write_text(const char *dir, const char *name, const char *text)
{
	char file[4096];
	FILE *fp;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	if ((fp = fopen(file, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

int
main(int argc, char **argv)
{
	struct strbuf text, out;
	struct policy *p;
	int n, i;

	if (argc != 4)
		return 2;
	n = atoi(argv[1]);
	strbuf_init(&text, 0);
	if (strcmp(argv[2], "office") == 0) {
		struct gen_opts o = { GEN_OFFICE, n, n / 50 + 10, n / 500 + 5,
		    false, false, false };
		struct rng r = { 2026 };

		gen_policy(&r, &o, &text);
	} else {
		/* Per-host rules for hosts that are not in the lab. */
		strbuf_puts(&text, "interface LAN device gwl0 address "
		    "192.168.50.1/24\ninterface WAN device gww0 address "
		    "198.51.100.1/24\n");
		for (i = 0; i < n; i++)
			strbuf_printf(&text, "%s on LAN from 10.%d.%d.%d to "
			    "198.51.100.%d service %s\n", i % 3 ? "deny" :
			    "accept", (i >> 16) & 255, (i >> 8) & 255, i & 255,
			    25 + i % 4, i % 2 ? "HTTP" : "SMTP");
	}
	p = policy_parse("bench.conf", strbuf_str(&text), text.len);
	if (p == NULL || !policy_valid(p)) {
		if (p != NULL)
			diags_print(&p->diags, stderr);
		return 1;
	}
	strbuf_init(&out, 0);
	nftc_compile(p, &out);
	write_text(argv[3], "policy.conf", strbuf_str(&text));
	write_text(argv[3], "moat.nft", strbuf_str(&out));
	strbuf_reset(&out);
	nftc_compile_linear(p, &out);
	write_text(argv[3], "linear.nft", strbuf_str(&out));
	strbuf_reset(&out);
	nftc_compile_plain(p, &out);
	write_text(argv[3], "plain.nft", strbuf_str(&out));
	policy_free(p);
	strbuf_free(&text);
	strbuf_free(&out);
	return 0;
}

/* pfsensegen N [SEED]: a random pfSense config.xml of N filter rules on
 * standard output (tests/pfgen.c: four interfaces with fixed addresses,
 * aliases, floating rules quick or not, inverted sides, pass, block and
 * reject, port forwards), for bench_import.sh. */
#include <stdio.h>
#include <stdlib.h>

#include "pfgen.h"

int
main(int argc, char **argv)
{
	struct arena a;
	struct pfgen g;
	long n;

	if (argc < 2 || argc > 3 || (n = atol(argv[1])) < 1 || n > 1000000) {
		fprintf(stderr, "usage: pfsensegen N [SEED]\n");
		return 2;
	}
	arena_init(&a);
	pfgen_make(&g, &a, (unsigned)n, argc == 3 ? (unsigned)atol(argv[2]) :
	    1, PFGEN_FORWARDS);
	fputs(strbuf_str(&g.xml), stdout);
	pfgen_free(&g);
	arena_free(&a);
	return ferror(stdout) ? 1 : 0;
}

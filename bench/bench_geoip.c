/* bench_geoip.c FILE.mmdb [CC...]: the time geoip_networks takes to walk
 * a country database (default: the countries US, DE, CN) and what it
 * found.  A figure to read, never a pass or a fail.  bench_geoip.sh makes
 * a GeoLite2-Country-sized file (some 500,000 networks) to run it on. */
#include <stdio.h>
#include <stdlib.h>

#include "base/arena.h"
#include "base/clock.h"
#include "feeds/geoip.h"

int
main(int argc, char **argv)
{
	static const char *def[] = { "US", "DE", "CN" };
	const char *const *cc = def;
	size_t ncc = 3, nnets;
	struct arena a;
	struct iset s;
	char err[512];
	long long t0, t1;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_geoip FILE.mmdb [CC...]\n");
		return 2;
	}
	if (argc > 2) {
		cc = (const char *const *)argv + 2;
		ncc = (size_t)argc - 2;
	}
	for (i = 0; i < 3; i++) {
		arena_init(&a);
		t0 = clock_ms();
		if (geoip_networks(argv[1], cc, ncc, &a, &s, &nnets, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "bench_geoip: %s\n", err);
			return 1;
		}
		t1 = clock_ms();
		printf("geoip: %s: %zu networks of %zu countries, %zu "
		    "intervals, in %lld ms\n", argv[1], nnets, ncc, s.n,
		    t1 - t0);
		arena_free(&a);
	}
	return 0;
}

/* bench_classify.c: the classifier against the linear first-match scan on
 * the ClassBench sets, single-threaded, in one run: build time, memory,
 * lookups per second, the ratio; and the full correctness check (every
 * trace packet and 1,000,000 random packets per set, linear = classifier).
 * Times are the best of several passes: the classifier over every packet
 * (5 passes), the linear scan over every tenth (3 passes; a pass over
 * all of them takes 10 s a set).  Prints figures; never fails on
 * time.  Usage: bench_classify DIR (sets missing from DIR are
 * skipped: tests/data/classbench has the 1K ones). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classbench.h"
#include "gen.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The baseline: a linear first-match scan as a firewall does it, over
 * the rules in order in a compact 32-bit form, stopping at the first rule
 * that holds the packet (ClassBench rules come in priority order). */
struct rule32 {
	uint32_t	lo[CLS_DIMS], hi[CLS_DIMS];
};

static struct rule32 *
rules32(const struct cls_box *b, size_t n)
{
	struct rule32 *r = malloc((n + 1) * sizeof(*r));
	size_t i;
	int d;

	for (i = 0; r != NULL && i < n; i++)
		for (d = 0; d < CLS_DIMS; d++) {
			r[i].lo[d] = (uint32_t)b[i].lo[d];
			r[i].hi[d] = (uint32_t)b[i].hi[d];
		}
	return r;
}

static int
linear32(const struct rule32 *r, size_t n, const u128 *p)
{
	uint32_t q[CLS_DIMS];
	size_t i;
	int d;

	for (d = 0; d < CLS_DIMS; d++)
		q[d] = (uint32_t)p[d];
	for (i = 0; i < n; i++)
		if (q[0] >= r[i].lo[0] && q[0] <= r[i].hi[0] &&
		    q[1] >= r[i].lo[1] && q[1] <= r[i].hi[1] &&
		    q[2] >= r[i].lo[2] && q[2] <= r[i].hi[2] &&
		    q[3] >= r[i].lo[3] && q[3] <= r[i].hi[3] &&
		    q[4] >= r[i].lo[4] && q[4] <= r[i].hi[4])
			return (int)i;
	return -1;
}

static void
point(struct rng *r, const struct cls_box *b, size_t n, u128 *p)
{
	const struct cls_box *in = rng_below(r, 4) ? &b[rng_below(r, n)] : NULL;
	int d;

	for (d = 0; d < CLS_DIMS; d++) {
		u128 lo = in ? in->lo[d] : 0;
		u128 hi = in ? in->hi[d] : (d < 2 ? 0xffffffffu : d < 4 ?
		    65535 : 255);

		p[d] = lo + (u128)rng_next(r) % (hi - lo + 1);
	}
}

/* Seconds per lookup: the best of several passes over every step-th of
 * the n points (this machine is shared; the best pass is the least
 * disturbed), of the linear scan over r, or of the classifier c. */
static double
best_pass(const struct rule32 *r, size_t rules, const struct classifier *c,
    const u128 *pts, size_t n, size_t step, int passes)
{
	double best = 0;
	volatile long sink = 0;
	size_t i;
	int k;

	for (k = 0; k < passes; k++) {
		double t0 = now(), t;

		if (r != NULL)
			for (i = 0; i < n; i += step)
				sink += linear32(r, rules, pts + i * CLS_DIMS);
		else
			for (i = 0; i < n; i += step)
				sink += cls_lookup(c, pts + i * CLS_DIMS);
		t = (now() - t0) / (double)((n + step - 1) / step);
		if (k == 0 || t < best)
			best = t;
	}
	(void)sink;
	return best;
}

int
main(int argc, char **argv)
{
	static const char *const sets[] = { "acl1_1k", "fw1_1k", "ipc1_1k",
	    "acl1_10k", "fw1_10k", "ipc1_10k" };
	const char *dir;
	size_t s;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_classify DIR (the ClassBench sets: "
		    "tests/data/classbench has the 1K ones)\n");
		return 2;
	}
	dir = argv[1];

	printf("classifier vs linear scan, ClassBench, single thread, "
	    "best of 5 passes (linear: 3 over every tenth packet)\n");
	for (s = 0; s < 6; s++) {
		struct rng r = { 99 + s };
		char path[4096], err[256];
		struct cls_box *b;
		struct classifier *c;
		struct rule32 *r32;
		u128 *trace, *pts;
		size_t n, nt = 0, np, i, nrand = 1000000, bad = 0;
		double t0, tb, tl, tc;

		snprintf(path, sizeof(path), "%s/%s", dir, sets[s]);
		if ((b = classbench_rules(path, &n, err, sizeof(err))) == NULL) {
			printf("%s: %s\n", sets[s], err);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s_trace", dir, sets[s]);
		trace = classbench_trace(path, &nt, err, sizeof(err));
		np = nt + nrand;
		pts = malloc(np * CLS_DIMS * sizeof(*pts));
		if (pts == NULL)
			return 1;
		if (trace != NULL)
			memcpy(pts, trace, nt * CLS_DIMS * sizeof(*pts));
		for (i = nt; i < np; i++)
			point(&r, b, n, pts + i * CLS_DIMS);
		t0 = now();
		c = cls_build(b, n);
		tb = now() - t0;
		if (c == NULL)
			return 1;
		if ((r32 = rules32(b, n)) == NULL)
			return 1;
		for (i = 0; i < np; i++) {	/* correctness, untimed */
			int want = cls_linear(b, n, pts + i * CLS_DIMS);

			bad += want != cls_lookup(c, pts + i * CLS_DIMS);
			bad += want != linear32(r32, n, pts + i * CLS_DIMS);
		}
		tl = best_pass(r32, n, NULL, pts, np, 10, 3);
		tc = best_pass(NULL, 0, c, pts, np, 1, 5);
		printf("%-9s %5zu rules: build %7.1f ms, %8.1f KB | linear "
		    "%8.0f ns/lookup | classifier %6.0f ns = %5.2f M/s | %6.0fx"
		    " | %zu packets (%zu trace), %zu differ\n", sets[s], n,
		    tb * 1e3, (double)cls_memory(c) / 1024, tl *
		    1e9, tc * 1e9, 1 / tc / 1e6, tl / tc,
		    np, nt, bad);
		free(r32);
		cls_free(c);
		free(b);
		free(trace);
		free(pts);
	}
	return 0;
}

/* bigmem.c: large tables on huge pages, and growing memory on them while
 * they are cheap; see bigmem.h.
 *
 * A replay's lookups read the classifier's tables (tens of megabytes at
 * 100,000 rules) at random: on 4 KB pages nearly every read is a TLB miss
 * as well as a cache miss.  Where transparent huge pages are in madvise
 * mode (Debian's default), only memory that asks gets them.
 */
#include "base/bigmem.h"

#include "base/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

#define HUGE_PAGE	BIG_PAGE
/* A fresh huge page that takes longer than this to make is costly here
 * (memory.md, "Huge pages and the host, again": 0.1-0.3 ms where the
 * memory was just freed or there is no host behind it, 2.5-5 ms where
 * the host took it back; 4 KB pages 0.8-1 ms for the same 2 MB), and
 * growing memory stays on small pages for BIG_COSTLY_MS. */
#define BIG_PROBE_NS	(1000 * 1000)
#define BIG_COSTLY_MS	10000

/* Until when (clock_ms) growing memory is not put on huge pages: 0, or
 * the last costly probe's time + BIG_COSTLY_MS. */
static atomic_llong costly_until;

/* Test builds take MOAT_HUGE_PAGES=cheap or costly instead of the
 * probes' answer (and then probe nothing): 1 or 0; else -1. */
static int
huge_forced(void)
{
#ifdef MOAT_TEST_SEAMS
	const char *e = getenv("MOAT_HUGE_PAGES");

	if (e != NULL && strcmp(e, "cheap") == 0)
		return 1;
	if (e != NULL && strcmp(e, "costly") == 0)
		return 0;
#endif
	return -1;
}

/* Whether growing memory asks for huge pages now. */
static bool
huge_cheap(void)
{
	int f = huge_forced();

	return f != -1 ? f == 1 : atomic_load(&costly_until) <= clock_ms();
}

static long long
thread_ns(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == -1)
		return 0;
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Make the first huge page of p (size bytes) now, and say whether that
 * was costly (this thread's CPU time, so another thread taking the core
 * is not counted); when it was, the rest of p asks no more. */
static void
probe(void *p, size_t size)
{
	long long t0 = thread_ns(), most = BIG_PROBE_NS;
	int saved = errno;

#ifdef MOAT_TEST_SEAMS
	/* (test builds: MOAT_HUGE_PROBE_NS instead, 0 for always costly) */
	if (getenv("MOAT_HUGE_PROBE_NS") != NULL)
		most = atoll(getenv("MOAT_HUGE_PROBE_NS"));
#endif
	if (madvise(p, HUGE_PAGE, MADV_POPULATE_WRITE) == 0 &&
	    thread_ns() - t0 > most) {
		atomic_store(&costly_until, clock_ms() + BIG_COSTLY_MS);
		if (size > HUGE_PAGE)
			(void)madvise((char *)p + HUGE_PAGE, size - HUGE_PAGE,
			    MADV_NOHUGEPAGE);
	}
	errno = saved;
}

void *
big_alloc(size_t size)
{
	void *p;
	int rc;

	if (size < HUGE_PAGE)
		return malloc(size);
	/* (posix_memalign says why in its return, not in errno) */
	if ((rc = posix_memalign(&p, HUGE_PAGE, size)) != 0) {
		errno = rc;
		return NULL;
	}
	/* Only advice: without huge pages the table works the same. */
	(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

void *
big_block(size_t size)
{
	void *p;

	if (size < HUGE_PAGE || !huge_cheap())
		return malloc(size);
	if ((p = big_alloc(size)) != NULL && huge_forced() == -1)
		probe(p, size);
	return p;
}

void *
big_grow(void *old, size_t used, size_t size)
{
	return big_grow_from(old, used, size, BIG_FROM);
}

void *
big_grow_from(void *old, size_t used, size_t size, size_t from)
{
	void *p;

	/* (below a huge page big_alloc would be malloc, and where huge
	 * pages are costly small pages are wanted: realloc, which can move
	 * a large block without copying it.  A block of huge pages, aligned
	 * to one, that glibc's realloc grows is a new mapping without the
	 * advice: test_bigmem) */
	if (size < from || size < HUGE_PAGE || !huge_cheap())
		return realloc(old, size);
	if ((p = big_block(size)) == NULL)
		return NULL;
	if (old != NULL) {
		memcpy(p, old, used);
		free(old);
	}
	return p;
}

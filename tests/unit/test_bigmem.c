/* test_bigmem.c: base/bigmem.h's huge pages as arenas and buffers use
 * them past BIG_FROM: what is written stays (no block or buffer moved
 * over another), memory is zeroed where arena_alloc says, and the kernel
 * is asked for huge pages (its own count of huge-page faults moves, unless
 * it says it had none to give); where fresh huge pages are costly (the
 * seam MOAT_HUGE_PAGES, and the probe with its bound at 0) growing memory
 * stays on small pages and tables do not; strbuf's insert and expect,
 * which the compiler uses not to copy its output as it grows. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#include "base/arena.h"
#include "base/bigmem.h"
#include "base/strbuf.h"

/* AddressSanitizer writes the first 4 KB of each new allocation (its
 * max_malloc_fill_size) before big_alloc can advise it, and a range
 * already mapped on small pages is not given a huge one; glibc's
 * allocator writes nothing there.  This binary's allocations are left
 * unwritten, as glibc leaves them (ASAN_OPTIONS may still say more). */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "max_malloc_fill_size=0";
}

/* A field of /proc/vmstat; -1 when there is none. */
static long long
vmstat(const char *name)
{
	char line[256], key[128];
	long long v, got = -1;
	FILE *fp = fopen("/proc/vmstat", "re");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%127s %lld", key, &v) == 2 &&
		    strcmp(key, name) == 0)
			got = v;
	fclose(fp);
	return got;
}

/* Whether the kernel's transparent huge page mode is mode ("always",
 * "madvise" or "never"). */
static bool
thp_mode(const char *mode)
{
	char line[256] = "", want[32];
	FILE *fp = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (fp == NULL)
		return false;
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	snprintf(want, sizeof(want), "[%s]", mode);
	return strstr(line, want) != NULL;
}

/* Transparent huge pages offered to memory that asks (madvise or
 * always). */
static bool
thp_offered(void)
{
	return thp_mode("always") || thp_mode("madvise");
}

/* Huge pages only where memory asks for them (Debian's default): where
 * they are "always", any large block may get them. */
static bool
thp_madvise(void)
{
	return thp_mode("madvise");
}

/* The huge pages (kB) of this process's mapping that holds p, as
 * /proc/self/smaps says; -1 when it does not say. */
static long long
huge_kb_at(const void *p)
{
	char line[512], perms[8];
	unsigned long lo, hi;
	long long kb, got = -1;
	bool in = false;
	FILE *fp = fopen("/proc/self/smaps", "re");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		/* a mapping's first line: "LO-HI PERMS ..."; its fields:
		 * "Name:   N kB" */
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3)
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && sscanf(line, "AnonHugePages: %lld", &kb) == 1) {
			got = kb;
			break;
		}
	}
	fclose(fp);
	return got;
}

struct piece {
	unsigned char	*p;
	size_t		 n;
};

static void
arena_keeps_what_is_written(void **state)
{
	struct arena a;
	struct piece *v;
	size_t n = 0, cap = 200000, total = 0, i, j;
	long long before = vmstat("thp_fault_alloc");
	long long fell = vmstat("thp_fault_fallback");

	(void)state;
	v = calloc(cap, sizeof(*v));
	assert_non_null(v);
	arena_init(&a);
	/* Sizes from 1 byte to 100 KB (larger than a small block), to
	 * 64 MB in all: far past BIG_FROM. */
	while (total < (64u << 20) && n < cap) {
		size_t sz = (n % 97 == 0) ? 100000 + n % 13 : 1 + (n * 131) %
		    700;

		v[n].p = arena_alloc(&a, sz);
		v[n].n = sz;
		assert_true(((uintptr_t)v[n].p & 15) == 0);
		for (j = 0; j < sz; j++)
			assert_int_equal(v[n].p[j], 0);
		memset(v[n].p, (int)(n % 251) + 1, sz);
		total += sz;
		n++;
	}
	assert_true(a.total >= (64u << 20));
	for (i = 0; i < n; i++)
		for (j = 0; j < v[i].n; j++)
			assert_int_equal(v[i].p[j], (int)(i % 251) + 1);
	if (thp_offered() && before >= 0) {
		long long got = vmstat("thp_fault_alloc") - before;

		/* None given and none refused: the advice was not given. */
		if (got == 0 && vmstat("thp_fault_fallback") == fell)
			fail_msg("a 64 MB arena took no huge page");
	}
	arena_free(&a);
	free(v);
}

/* One allocation of BIG_ONE or more is on huge pages even in a fresh
 * arena (a 10,000-address list parsed before anything else), and what
 * the arena gives after it shares its block. */
static void
one_large_allocation(void **state)
{
	struct arena a;
	unsigned char *p, *small;
	long long fell = vmstat("thp_fault_fallback");
	size_t n = 1536u << 10, i;

	(void)state;
	arena_init(&a);
	p = arena_alloc(&a, n);
	memset(p, 0x5a, n);
	/* its block is whole huge pages, and what follows shares it */
	assert_true(a.total >= BIG_PAGE - 64 && a.total < 2 * BIG_PAGE);
	small = arena_alloc(&a, 100);
	assert_true(small >= p + n && small < p + BIG_PAGE);
	memset(small, 0xa5, 100);
	assert_true(a.total < 2 * BIG_PAGE);
	for (i = 0; i < n; i++)
		assert_int_equal(p[i], 0x5a);
	if (thp_offered() && huge_kb_at(p) == 0 && vmstat("thp_fault_fallback")
	    == fell)
		fail_msg("a 1.5 MB allocation took no huge page");
	arena_free(&a);
}

/* A buffer that grows with no size said (a console request's body, at
 * most 1 MB, so 2 MB of room) stays off huge pages below BIG_GROWN: a
 * huge page would be all mapped at its first byte, 2 MB for each of the
 * console's connections.  Said ahead (strbuf_expect), the same room is
 * on huge pages from BIG_FROM. */
static void
strbuf_grown_or_said(void **state)
{
	struct strbuf grown, said;
	char chunk[4096];
	size_t i;
	long long fell = vmstat("thp_fault_fallback");

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	strbuf_init(&grown, 1u << 20);
	for (i = 0; i < (1u << 20) / sizeof(chunk); i++)
		strbuf_add(&grown, chunk, sizeof(chunk));
	assert_false(strbuf_failed(&grown));
	assert_int_equal(grown.len, 1u << 20);
	if (huge_kb_at(grown.s) > 0)
		fail_msg("a 1 MB body grown by appends is on a huge page");
	strbuf_init(&said, 0);
	strbuf_expect(&said, (2u << 20) + 1);
	for (i = 0; i < (2u << 20) / sizeof(chunk); i++)
		strbuf_add(&said, chunk, sizeof(chunk));
	if (thp_offered() && huge_kb_at(said.s) == 0 &&
	    vmstat("thp_fault_fallback") == fell)
		fail_msg("2 MB said ahead took no huge page");
	strbuf_free(&grown);
	strbuf_free(&said);
}

/* Saved and restored across BIG_FROM: the blocks come back and are
 * used again, the marks still hold. */
static void
arena_restore_past_big(void **state)
{
	struct arena a;
	struct arena_mark m;
	unsigned char *keep, *p;
	size_t i;

	(void)state;
	arena_init(&a);
	keep = arena_alloc(&a, 1000);
	memset(keep, 7, 1000);
	m = arena_save(&a);
	for (i = 0; i < 3; i++) {
		size_t k;

		for (k = 0; k < 300; k++) {
			p = arena_alloc(&a, 64 * 1024);
			memset(p, 9, 64 * 1024);
		}
		arena_restore(&a, m);
	}
	for (i = 0; i < 1000; i++)
		assert_int_equal(keep[i], 7);
	arena_free(&a);
}

/* arena_shrink gives back the tail of the last thing taken, and only of
 * the last: the next one starts where the kept part ends. */
static void
arena_shrink_last(void **state)
{
	struct arena a;
	unsigned char *p, *q, *r;

	(void)state;
	arena_init(&a);
	p = arena_alloc(&a, 1000);
	memset(p, 5, 1000);
	arena_shrink(&a, p, 1000, 100);
	q = arena_alloc(&a, 64);
	assert_ptr_equal(q, p + 112);		/* 100, aligned to 16 */
	assert_int_equal(p[99], 5);
	memset(q, 6, 64);
	arena_shrink(&a, p, 100, 10);		/* not the last: no change */
	r = arena_alloc(&a, 16);
	assert_ptr_equal(r, q + 64);
	arena_shrink(&a, r, 16, 16);		/* nothing to give back */
	assert_ptr_equal(arena_alloc(&a, 16), r + 16);
	assert_int_equal(p[0], 5);
	assert_int_equal(q[63], 6);
	arena_free(&a);
}

static void
strbuf_keeps_what_is_written(void **state)
{
	struct strbuf b;
	char line[64];
	size_t i, n = 0, len;

	(void)state;
	strbuf_init(&b, 0);
	/* 40 MB of numbered lines, by appends of every size. */
	for (i = 0; b.len < (40u << 20); i++) {
		len = (size_t)snprintf(line, sizeof(line), "%zu:%.*s\n", i,
		    (int)(i % 40), "0123456789012345678901234567890123456789");
		strbuf_add(&b, line, len);
		n++;
	}
	assert_false(strbuf_failed(&b));
	assert_int_equal(strlen(strbuf_str(&b)), b.len);
	{
		const char *s = strbuf_str(&b);

		for (i = 0; i < n; i++) {
			len = (size_t)snprintf(line, sizeof(line), "%zu:%.*s\n",
			    i, (int)(i % 40),
			    "0123456789012345678901234567890123456789");
			assert_memory_equal(s, line, len);
			s += len;
		}
	}
	strbuf_free(&b);
	/* The limit still holds past BIG_FROM. */
	strbuf_init(&b, 9u << 20);
	for (i = 0; i < (10u << 20) / 4096; i++) {
		static const char page[4096];

		strbuf_add(&b, page, sizeof(page));
	}
	assert_true(strbuf_failed(&b));
	assert_true(b.len <= (9u << 20));
	strbuf_free(&b);
}

/* strbuf_insert at the start, inside, at and past the end; strbuf_expect
 * only makes room: a wish it cannot have (more than memory, more than the
 * cap) fails no append. */
static void
strbuf_insert_expect(void **state)
{
	struct strbuf b;
	size_t i;

	(void)state;
	strbuf_init(&b, 0);
	strbuf_puts(&b, "chains");
	strbuf_insert(&b, 0, "sets ", 5);
	assert_string_equal(strbuf_str(&b), "sets chains");
	strbuf_insert(&b, 4, "+maps", 5);
	assert_string_equal(strbuf_str(&b), "sets+maps chains");
	strbuf_insert(&b, b.len, "!", 1);
	strbuf_insert(&b, b.len + 10, "?", 1);
	assert_string_equal(strbuf_str(&b), "sets+maps chains!?");
	assert_int_equal(b.len, strlen(strbuf_str(&b)));
	/* past BIG_FROM: the bytes before and after the insertion move */
	strbuf_reset(&b);
	for (i = 0; i < (6u << 20); i++)
		strbuf_putc(&b, (char)('a' + i % 26));
	strbuf_insert(&b, 3, "XYZ", 3);
	assert_memory_equal(strbuf_str(&b), "abcXYZdef", 9);
	assert_int_equal(b.len, (6u << 20) + 3);
	assert_int_equal(strbuf_str(&b)[b.len - 1], 'a' + ((6u << 20) - 1) % 26);
	strbuf_free(&b);

	/* into a buffer never written: still a string */
	strbuf_init(&b, 0);
	strbuf_expect(&b, 100);
	assert_string_equal(strbuf_str(&b), "");
	strbuf_insert(&b, 0, "first", 5);
	assert_string_equal(strbuf_str(&b), "first");
	strbuf_free(&b);
	strbuf_init(&b, 0);
	strbuf_insert(&b, 3, "only", 4);
	assert_string_equal(strbuf_str(&b), "only");
	strbuf_free(&b);

	strbuf_init(&b, 0);
	strbuf_expect(&b, (size_t)1 << 62);	/* no such memory */
	assert_false(strbuf_failed(&b));
	strbuf_puts(&b, "still");
	assert_string_equal(strbuf_str(&b), "still");
	strbuf_expect(&b, 12u << 20);
	assert_true(b.cap >= (12u << 20) + 5);
	assert_string_equal(strbuf_str(&b), "still");
	strbuf_free(&b);

	strbuf_init(&b, 100);
	strbuf_expect(&b, 1000);		/* over the cap: up to it */
	assert_false(strbuf_failed(&b));
	assert_true(b.cap <= 256);
	for (i = 0; i < 100; i++)
		strbuf_putc(&b, 'x');
	assert_false(strbuf_failed(&b));
	strbuf_putc(&b, 'x');
	assert_true(strbuf_failed(&b));
	strbuf_free(&b);
}

/* Where fresh huge pages are costly (MOAT_HUGE_PAGES=costly), an
 * arena's blocks, a buffer said ahead and a file's room are on small
 * pages and keep what is written; a table (big_alloc) still asks. */
static void
costly_keeps_small_pages(void **state)
{
	struct arena a;
	struct strbuf said;
	unsigned char *p = NULL, *t;
	char chunk[4096];
	size_t i, n = 0;
	long long fell = vmstat("thp_fault_fallback");

	(void)state;
	setenv("MOAT_HUGE_PAGES", "costly", 1);
	arena_init(&a);
	while (a.total < (24u << 20)) {
		p = arena_alloc(&a, 100000);
		memset(p, (int)(n++ % 251) + 1, 100000);
	}
	for (i = 0; i < 100000; i++)
		assert_int_equal(p[i], (int)((n - 1) % 251) + 1);
	if (thp_madvise() && huge_kb_at(p) > 0)
		fail_msg("an arena's block is on huge pages where they are "
		    "costly");
	memset(chunk, 'x', sizeof(chunk));
	strbuf_init(&said, 0);
	strbuf_expect(&said, (8u << 20) + 1);
	for (i = 0; i < (8u << 20) / sizeof(chunk); i++)
		strbuf_add(&said, chunk, sizeof(chunk));
	assert_false(strbuf_failed(&said));
	if (thp_madvise() && huge_kb_at(said.s) > 0)
		fail_msg("8 MB said ahead is on huge pages where they are "
		    "costly");
	strbuf_free(&said);
	/* a buffer that went on huge pages while they were cheap, grown
	 * once they are costly: on small pages, its bytes kept */
	setenv("MOAT_HUGE_PAGES", "cheap", 1);
	strbuf_init(&said, 0);
	strbuf_expect(&said, (4u << 20) + 1);
	for (i = 0; i < (4u << 20) / sizeof(chunk); i++)
		strbuf_add(&said, chunk, sizeof(chunk));
	setenv("MOAT_HUGE_PAGES", "costly", 1);
	strbuf_expect(&said, 12u << 20);
	for (i = 0; i < (4u << 20) / sizeof(chunk); i++)
		strbuf_add(&said, chunk, sizeof(chunk));
	assert_false(strbuf_failed(&said));
	assert_int_equal(said.len, 8u << 20);
	for (i = 0; i < said.len; i++)
		if (said.s[i] != 'x')
			fail_msg("byte %zu of a grown buffer lost", i);
	if (thp_madvise() && huge_kb_at(said.s + said.len - 1) > 0)
		fail_msg("a buffer grown once huge pages are costly asks for "
		    "them still");
	t = big_alloc(8u << 20);
	assert_non_null(t);
	memset(t, 1, 8u << 20);
	if (thp_offered() && huge_kb_at(t) == 0 &&
	    vmstat("thp_fault_fallback") == fell)
		fail_msg("a table took no huge page");
	free(t);
	strbuf_free(&said);
	arena_free(&a);
}

/* The probe: an arena's first block of huge pages makes its first page
 * at once and times it; over the bound (0 here: always), the blocks after
 * it are on small pages.  Last: its answer holds for ten seconds. */
static void
probe_turns_to_small_pages(void **state)
{
	struct arena a;
	unsigned char *first = NULL, *p = NULL;
	long long fell = vmstat("thp_fault_fallback");
	size_t big0 = 0;

	(void)state;
	/* (a kernel before 5.14 cannot make a page on request: no probe) */
	{
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int ok = m != MAP_FAILED &&
		    madvise(m, 4096, MADV_POPULATE_WRITE) == 0;

		if (m != MAP_FAILED)
			munmap(m, 4096);
		if (!ok)
			skip();
	}
	unsetenv("MOAT_HUGE_PAGES");
	setenv("MOAT_HUGE_PROBE_NS", "0", 1);
	arena_init(&a);
	while (a.total < (24u << 20)) {
		size_t was = a.total;

		p = arena_alloc(&a, 100000);
		memset(p, 7, 100000);
		/* the arena's first block past BIG_FROM: the probed one */
		if (first == NULL && was >= BIG_FROM && a.total != was) {
			first = p;
			big0 = a.total;
		}
	}
	assert_non_null(first);
	assert_true(a.total > big0);
	if (thp_offered() && huge_kb_at(first) == 0 &&
	    vmstat("thp_fault_fallback") == fell)
		fail_msg("the probed block took no huge page");
	if (thp_madvise() && huge_kb_at(p) > 0)
		fail_msg("a block after a costly probe is on huge pages");
	arena_free(&a);
}

/* Each test starts with huge pages cheap, as on bare metal, and the
 * probe's own bound (a test that fails leaves what it set). */
static int
cheap(void **state)
{
	(void)state;
	setenv("MOAT_HUGE_PAGES", "cheap", 1);
	unsetenv("MOAT_HUGE_PROBE_NS");
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(arena_keeps_what_is_written, cheap),
		cmocka_unit_test_setup(one_large_allocation, cheap),
		cmocka_unit_test_setup(strbuf_grown_or_said, cheap),
		cmocka_unit_test_setup(arena_restore_past_big, cheap),
		cmocka_unit_test_setup(arena_shrink_last, cheap),
		cmocka_unit_test_setup(strbuf_keeps_what_is_written, cheap),
		cmocka_unit_test_setup(strbuf_insert_expect, cheap),
		cmocka_unit_test_setup(costly_keeps_small_pages, cheap),
		cmocka_unit_test_setup(probe_turns_to_small_pages, cheap),
	};

	/* Every large block a fresh mapping, unmapped when freed: glibc's
	 * threshold would otherwise rise with the first large free, and
	 * later blocks come from ranges of the heap that earlier ones had
	 * advised.  The probe's answer holds for ten seconds: its test is
	 * last. */
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

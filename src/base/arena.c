/* arena.c: region allocator; see arena.h. */
#include "base/arena.h"

#include "base/bigmem.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN	(64 * 1024)
#define ALIGN		16
#define SPARE_MAX	32	/* blocks kept by arena_restore */
#define BIG_BLOCK_MAX	(16u << 20)

struct arena_block {
	struct arena_block	*prev;
	size_t			 size;
	size_t			 used;
	_Alignas(ALIGN) unsigned char data[];
};

static void
arena_oom(struct arena *a)
{
	if (a->oom != NULL)
		longjmp(*a->oom, 1);
	/* No handler installed: a broken invariant of the caller. */
	fputs("moat: out of memory\n", stderr);
	abort();
}

int
arena_catch(struct arena *a, int (*fn)(void *arg), void *arg)
{
	jmp_buf here, *outer = a->oom;
	int rc;

	/* Nothing this frame changes after setjmp is read after the jump. */
	if (setjmp(here) != 0) {
		a->oom = outer;
		return -1;
	}
	a->oom = &here;
	rc = fn(arg);
	a->oom = outer;
	return rc;
}

void
arena_init(struct arena *a)
{
	a->head = NULL;
	a->spare = NULL;
	a->nspare = 0;
	a->oom = NULL;
	a->total = 0;
}

void
arena_free(struct arena *a)
{
	struct arena_block *b, *prev;

	for (b = a->head; b != NULL; b = prev) {
		prev = b->prev;
		free(b);
	}
	for (b = a->spare; b != NULL; b = prev) {
		prev = b->prev;
		free(b);
	}
	a->head = a->spare = NULL;
	a->nspare = 0;
	a->total = 0;
}

static void *
arena_take(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (need < n)
		arena_oom(a);
	if (b == NULL || b->size - b->used < need) {
		size_t size = need > BLOCK_MIN ? need : BLOCK_MIN;
		bool big = false;

		if (size > SIZE_MAX - sizeof(*b) - BIG_PAGE)
			arena_oom(a);
		/* A large arena goes on in blocks of whole huge pages, a
		 * quarter of what it holds (at most 16 MB), and so does a
		 * large allocation: bigmem.h. */
		if (a->total >= BIG_FROM || size >= BIG_ONE) {
			size_t want = a->total / 4 < BIG_BLOCK_MAX ?
			    a->total / 4 : BIG_BLOCK_MAX;

			if (want < size + sizeof(*b))
				want = size + sizeof(*b);
			size = ((want + BIG_PAGE - 1) & ~(size_t)(BIG_PAGE - 1)) -
			    sizeof(*b);
			big = true;
		}
		struct arena_block **sp;

		/* Reuse a block that arena_restore gave back, if one fits. */
		for (sp = &a->spare; *sp != NULL && (*sp)->size < size;
		    sp = &(*sp)->prev)
			;
		if (*sp != NULL) {
			b = *sp;
			*sp = b->prev;
			size = b->size;
			a->nspare--;
		} else if ((b = big ? big_block(sizeof(*b) + size) :
		    malloc(sizeof(*b) + size)) == NULL)
			arena_oom(a);
		b->prev = a->head;
		b->size = size;
		b->used = 0;
		a->head = b;
		a->total += size;
	}
	p = b->data + b->used;
	b->used += need;
	return p;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	return memset(arena_take(a, n), 0, n);
}

void *
arena_array_raw(struct arena *a, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		arena_oom(a);
	return arena_take(a, count * size);
}

void *
arena_array(struct arena *a, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		arena_oom(a);
	return arena_alloc(a, count * size);
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

/* Formatted once into the free end of the current block when it fits
 * there (the usual case: short names and keys), else measured first. */
char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	struct arena_block *b = a->head;
	va_list ap;
	int len;
	char *p;

	if (b != NULL && b->size - b->used > 1) {
		va_start(ap, fmt);
		len = vsnprintf((char *)b->data + b->used, b->size - b->used,
		    fmt, ap);
		va_end(ap);
		/* arena_take gives exactly that place: the same block,
		 * its rounded size fits */
		if (len >= 0 && (((size_t)len + ALIGN) & ~(size_t)(ALIGN - 1))
		    <= b->size - b->used)
			return arena_take(a, (size_t)len + 1);
	}
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return p;
}

void *
arena_grow_raw(struct arena *a, void *old, size_t oldcount, size_t newcount,
    size_t size)
{
	void *p = arena_array_raw(a, newcount, size);

	if (old != NULL && oldcount > 0)
		memcpy(p, old, oldcount * size);
	return p;
}

void *
arena_grow(struct arena *a, void *old, size_t oldcount, size_t newcount,
    size_t size)
{
	unsigned char *p = arena_grow_raw(a, old, oldcount, newcount, size);

	if (newcount > oldcount)
		memset(p + oldcount * size, 0, (newcount - oldcount) * size);
	return p;
}

void
arena_shrink(struct arena *a, void *p, size_t size, size_t keep)
{
	struct arena_block *b = a->head;
	size_t off, need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);

	if (b == NULL || keep >= size || (unsigned char *)p < b->data ||
	    (unsigned char *)p > b->data + b->used)
		return;
	off = (size_t)((unsigned char *)p - b->data);
	if (off + need != b->used)
		return;
	b->used = off + ((keep + ALIGN - 1) & ~(size_t)(ALIGN - 1));
}

struct arena_mark
arena_save(struct arena *a)
{
	struct arena_mark m = { a->head, a->head ? a->head->used : 0 };

	return m;
}

void
arena_restore(struct arena *a, struct arena_mark m)
{
	while (a->head != m.block) {
		struct arena_block *b = a->head;

		a->head = b->prev;
		a->total -= b->size;
		/* Keep a few blocks for the next round; free the rest. */
		if (a->nspare < SPARE_MAX) {
			b->prev = a->spare;
			a->spare = b;
			a->nspare++;
		} else
			free(b);
	}
	if (a->head != NULL)
		a->head->used = m.used;
}

/* arena.h: region allocator for everything a policy owns.
 *
 * A policy and all its strings, lists and sets live in one arena and are
 * freed together.  Allocation failure does not return NULL: it longjmps to
 * the handler that the library entry point installed with arena_catch(),
 * which turns it into an ordinary "out of memory" error, so library code
 * never exits and never has to check every allocation.  arena_catch() is
 * the only place that calls setjmp: callers keep no state across a jump.
 */
#ifndef MOAT_ARENA_H
#define MOAT_ARENA_H

#include <setjmp.h>
#include <stddef.h>
#include <string.h>

struct arena_block;

struct arena {
	struct arena_block	*head;
	struct arena_block	*spare;	/* freed by arena_restore, for reuse */
	size_t			 nspare;
	jmp_buf			*oom;	/* where to go when malloc fails */
	size_t			 total;	/* bytes obtained from malloc */
};

/* A position in the arena, for freeing everything allocated after it. */
struct arena_mark {
	struct arena_block	*block;
	size_t			 used;
};

/* Run fn(arg) with a handler for a's allocation failures installed.
 * Returns fn's result, or -1 when memory ran out in a while fn ran (fn is
 * then abandoned where it was; what it allocated in a stays there, for
 * arena_free).  Memory fn takes from elsewhere (malloc) must be owned by
 * the caller, through arg, so that it can be freed after a jump.
 * Handlers nest: the previous one is back when arena_catch returns. */
int	 arena_catch(struct arena *a, int (*fn)(void *arg), void *arg);
/* Set up an empty arena. */
void	 arena_init(struct arena *a);
/* Free every block of the arena. */
void	 arena_free(struct arena *a);
/* Zeroed memory of n bytes, aligned for any type. */
void	*arena_alloc(struct arena *a, size_t n);
/* Uninitialized array, for callers that fill every element they read. */
void	*arena_array_raw(struct arena *a, size_t count, size_t size);
/* Zeroed array of count elements of size bytes; overflow counts as OOM. */
void	*arena_array(struct arena *a, size_t count, size_t size);
/* Copy of len bytes of s, NUL-terminated. */
char	*arena_strndup(struct arena *a, const char *s, size_t len);
/* Copy of a NUL-terminated string. */
char	*arena_strdup(struct arena *a, const char *s);
/* printf into the arena. */
char	*arena_printf(struct arena *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Grow an array: a new copy of newcount elements, old contents kept. */
void	*arena_grow(struct arena *a, void *old, size_t oldcount, size_t newcount,
	    size_t size);
/* arena_grow, the elements past oldcount not zeroed: memory not written
 * is not touched (a list of 10,000 addresses grows to room for 16,384 of
 * them; each fresh page costs a fault, memory.md). */
void	*arena_grow_raw(struct arena *a, void *old, size_t oldcount,
	    size_t newcount, size_t size);
/* p, the last thing taken from a (size bytes), cut to keep bytes: the rest
 * goes back to a.  p not the last: nothing happens. */
void	 arena_shrink(struct arena *a, void *p, size_t size, size_t keep);
/* Remember the current position. */
struct arena_mark arena_save(struct arena *a);
/* Free everything allocated since the mark. */
void	 arena_restore(struct arena *a, struct arena_mark m);

/* Append one element to an arena-backed vector (v, n, cap are lvalues,
 * each evaluated more than once: no side effects in them), zeroed; the
 * room past it is not (memory not written is not touched). */
#define ARENA_PUSH(a, v, n, cap) do {					\
	if ((n) == (cap)) {						\
		size_t nc_ = (cap) ? (cap) * 2 : 1;			\
		(v) = arena_grow_raw((a), (v), (n), nc_, sizeof(*(v)));	\
		(cap) = nc_;						\
	}								\
	memset(&(v)[(n)], 0, sizeof(*(v)));				\
	(n)++;								\
} while (0)

#endif

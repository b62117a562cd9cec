/* bigmem.h: memory for large tables that lookups read at random. */
#ifndef MOAT_BIGMEM_H
#define MOAT_BIGMEM_H

#include <stddef.h>

/* size bytes, freed with free(), or NULL.  A large block is asked for on
 * huge pages (where the kernel gives them, madvise mode included): a
 * lookup in a table of megabytes then misses the TLB seldom instead of
 * at nearly every read. */
void	*big_alloc(size_t size);
/* Memory that grows (an arena's blocks, a buffer, a file read whole)
 * asks for huge pages only while fresh ones are cheap here: each such
 * block of 2 MB or more makes its first huge page at once and times it,
 * and one that took long keeps growing memory on small pages for ten
 * seconds (on a virtual machine whose host has taken the freed memory
 * back, a fresh huge page costs several times what 512 small ones do:
 * memory.md, "Huge pages and the host, again").  Tables read at random
 * ask always (big_alloc). */
/* size bytes of growing memory (an arena's block, a file's bytes):
 * big_alloc's while huge pages are cheap (its first one then made and
 * timed), else malloc's. */
void	*big_block(size_t size);
/* realloc for a buffer that grows: past BIG_FROM, while huge pages are
 * cheap, the new one is big_block's and the first used bytes of old are
 * copied into it (what realloc maps anew would be on small pages).  NULL:
 * old is untouched. */
void	*big_grow(void *old, size_t used, size_t size);
/* big_grow past from bytes, not BIG_FROM. */
void	*big_grow_from(void *old, size_t used, size_t size, size_t from);

/* Memory a process grows into by the megabyte (a parse of a 100,000-rule
 * policy, its compiled ruleset) is cheaper to touch on huge pages: one
 * fault where 512 were (each zeroes a page and maps it; in a virtual
 * machine each also costs an exit).  An arena or a buffer past
 * BIG_FROM bytes takes its new memory this way (a buffer grown by
 * appends, past BIG_GROWN: strbuf.c). */
#define BIG_FROM	(1u << 20)	/* memory.md: "At 10,000 rules" */
#define BIG_PAGE	(2u << 20)
/* One allocation this large in an arena (a 10,000-address list) has a
 * block of whole huge pages, however small the arena is. */
#define BIG_ONE		(256u << 10)
/* A buffer that grows with no size said ahead (a request's body, a log's
 * batch: as large as what a client or the network sends) moves to huge
 * pages only past this, where each would pin 2 MB from 1 MB. */
#define BIG_GROWN	(4u << 20)

#endif

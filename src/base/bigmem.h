/* bigmem.h: memory for large tables that lookups read at random. */
#ifndef MOAT_BIGMEM_H
#define MOAT_BIGMEM_H

#include <stddef.h>

/* size bytes, freed with free(), or NULL.  A large block is asked for on
 * huge pages (where the kernel gives them, madvise mode included): a
 * lookup in a table of megabytes then misses the TLB seldom instead of
 * at nearly every read.  Only tables read at random ask: memory written
 * once and read in order (a parse's arena, a compiled ruleset, a file
 * read) stays on malloc's small pages, which the host of a virtual
 * machine gives back sooner (memory.md, "Huge pages and the host,
 * again"). */
void	*big_alloc(size_t size);

#define BIG_PAGE	(2u << 20)

#endif

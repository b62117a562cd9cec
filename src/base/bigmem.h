/* bigmem.h: memory for large tables that lookups read at random. */
#ifndef MOAT_BIGMEM_H
#define MOAT_BIGMEM_H

#include <stddef.h>

/* size bytes, freed with free(), or NULL.  A large block is asked for on
 * huge pages (where the kernel gives them, madvise mode included): a
 * lookup in a table of megabytes then misses the TLB seldom instead of
 * at nearly every read. */
void	*big_alloc(size_t size);

#endif

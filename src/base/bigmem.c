/* bigmem.c: large tables on huge pages; see bigmem.h.
 *
 * A replay's lookups read the classifier's tables (tens of megabytes at
 * 100,000 rules) at random: on 4 KB pages nearly every read is a TLB miss
 * as well as a cache miss.  Where transparent huge pages are in madvise
 * mode (Debian's default), only memory that asks gets them.
 */
#include "base/bigmem.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE	BIG_PAGE

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

/* hash.h: FNV-1a, 64 bits: the hash of a config (history, the firewall
 * log's records) and of the names in a table. */
#ifndef MOAT_HASH_H
#define MOAT_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Not FNV's published offset basis (14695981039346656037, a digit
 * longer): moat has started from this number since its first release,
 * and what is hashed with it is kept outside the process (rule ids in
 * the firewall log and the history, chain and set names in the kernel,
 * config hashes in the history and the HA sync).  Any start but 0 serves
 * FNV as well; changing it would rename all of those at an upgrade. */
#define FNV1A_INIT	1469598103934665603ull

static inline uint64_t
fnv1a_add(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static inline uint64_t
fnv1a(const void *data, size_t len)
{
	return fnv1a_add(FNV1A_INIT, data, len);
}

#endif

/* hash.h: FNV-1a, 64 bits: the hash of a config (history, the firewall
 * log's records) and of the names in a table. */
#ifndef MOAT_HASH_H
#define MOAT_HASH_H

#include <stddef.h>
#include <stdint.h>

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

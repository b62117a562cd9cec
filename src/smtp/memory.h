/* memory.h: how much memory there is, and how much the proxy holds: what
 * a signature reload needs to choose between two engines at once and one
 * at a time (signature-reload auto). */
#ifndef MOAT_MEMORY_H
#define MOAT_MEMORY_H

#include <stdint.h>

/* Bytes the proxy could still take: /proc/meminfo's MemAvailable, or less
 * when its cgroup (v2) has a memory.max closer.  0 when unknown. */
uint64_t	 mem_available(void);
/* Bytes of the process resident in memory now. */
uint64_t	 mem_in_use(void);

#endif

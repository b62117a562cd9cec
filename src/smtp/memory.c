/* memory.c: /proc/meminfo, the cgroup's memory files and malloc's figures;
 * see memory.h. */
#include "smtp/memory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One number from a file: 0, or -1 ("max" or unreadable). */
static int
read_u64(const char *path, uint64_t *v)
{
	FILE *fp = fopen(path, "r");
	int rc;

	if (fp == NULL)
		return -1;
	rc = fscanf(fp, "%" SCNu64, v) == 1 ? 0 : -1;
	fclose(fp);
	return rc;
}

/* What the cgroup (v2) the process is in may still take, or 0. */
static uint64_t
cgroup_room(void)
{
	char line[4096], dir[4200], path[4300];
	uint64_t max, cur;
	FILE *fp = fopen("/proc/self/cgroup", "r");

	if (fp == NULL)
		return 0;
	dir[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s",
			    line + 3);
		}
	fclose(fp);
	if (dir[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	if (read_u64(path, &max) == -1)
		return 0;		/* "max": no limit */
	snprintf(path, sizeof(path), "%s/memory.current", dir);
	if (read_u64(path, &cur) == -1)
		return 0;
	return max > cur ? max - cur : 1;
}

uint64_t
mem_available(void)
{
	char line[256];
	uint64_t kb = 0, room;
	FILE *fp;

#ifdef MOAT_TEST_SEAMS
	/* The tests' stand-in for a machine short of memory. */
	if (getenv("MOAT_TEST_MEMAVAILABLE_KB") != NULL)
		return strtoull(getenv("MOAT_TEST_MEMAVAILABLE_KB"), NULL,
		    10) * 1024;
#endif
	if ((fp = fopen("/proc/meminfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "MemAvailable: %" SCNu64 " kB",
			    &kb) == 1)
				break;
		fclose(fp);
	}
	room = cgroup_room();
	if (room != 0 && (kb == 0 || room < kb * 1024))
		return room;
	return kb * 1024;
}

uint64_t
mem_in_use(void)
{
	uint64_t pages, rss;
	FILE *fp;

	/* Resident pages, not malloc's figures: libclamav keeps its
	 * signatures in pools of its own, mapped outside malloc. */
	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(fp, "%" SCNu64 " %" SCNu64, &pages, &rss) != 2)
		rss = 0;
	fclose(fp);
	return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

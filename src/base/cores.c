/* cores.c: idle cores, from /proc/stat's procs_running; see cores.h.
 *
 * Work split over threads finishes sooner only when the threads run at
 * once.  On a loaded machine (more runnable tasks than cores) a second
 * thread only waits for its turn, and the first then waits for it: the
 * split work took longer than in one thread (measured: moat check of
 * 100,000 rules 463 -> 832 ms with the machine's two cores busy).  So
 * moat asks first.
 */
#include "base/cores.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cores_idle(void)
{
	cpu_set_t set;
	char line[256];
	long running = -1;
	int ncpu;
	FILE *fp;

#ifdef MOAT_TEST_SEAMS
	if (getenv("MOAT_CORES_IDLE") != NULL)
		return atoi(getenv("MOAT_CORES_IDLE"));
#endif
	if (sched_getaffinity(0, sizeof(set), &set) == -1 ||
	    (ncpu = CPU_COUNT(&set)) < 1)
		return 0;
	if ((fp = fopen("/proc/stat", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "procs_running ", 14) == 0) {
			running = strtol(line + 14, NULL, 10);
			break;
		}
	fclose(fp);
	if (running < 1 || running >= ncpu)
		return 0;
	return ncpu - (int)running;
}

/* cores.c: idle cores, from /proc/stat's procs_running; see cores.h.
 *
 * Work split over threads finishes sooner only when the threads run at
 * once.  On a loaded machine (more runnable tasks than cores) a second
 * thread only waits for its turn, and the first then waits for it: the
 * split work took longer than in one thread (measured: moat check of
 * 100,000 rules 463 -> 832 ms with the machine's two cores busy).  So
 * moat asks first.
 *
 * One reading is an instant: beside a busy process the kernel's own
 * threads (rcu_preempt, kworkers) are runnable for instants, and during
 * applies at 100,000 rules a reading often found no idle core where the
 * next, 200 µs later, found one.  Load that matters lasts: a reading that
 * finds no idle core is taken again, up to twice, 200 µs apart, and the
 * least of the readings counts.  An idle machine pays one reading (some
 * microseconds); a busy one under half a millisecond.
 */
#include "base/cores.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READINGS	3
#define READING_GAP_NS	200000

/* procs_running from /proc/stat (fp, read from its start), or -1. */
static long
procs_running(FILE *fp)
{
	char line[256];

	rewind(fp);
	/* (a line longer than the buffer is read in pieces; a piece
	 * never begins with the word) */
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "procs_running ", 14) == 0)
			return strtol(line + 14, NULL, 10);
	return -1;
}

int
cores_idle(void)
{
	const struct timespec gap = { 0, READING_GAP_NS };
	cpu_set_t set;
	long running, least = -1;
	int ncpu, i;
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
	for (i = 0; i < READINGS; i++) {
		if (i > 0)
			nanosleep(&gap, NULL);
		if ((running = procs_running(fp)) < 1)
			break;
		if (least == -1 || running < least)
			least = running;
		if (least < ncpu)
			break;
	}
	fclose(fp);
	if (least < 1 || least >= ncpu)
		return 0;
	return ncpu - (int)least;
}

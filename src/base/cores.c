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
 * next, 200 µs later, found one.  Load that matters lasts: a reading
 * that finds no idle core is taken again, twice, 200 µs apart, and two
 * of the three decide (a machine busy at two of them is busy).  An idle
 * machine pays one reading (some microseconds); a busy one three.
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
	long running, busy = 0, least = -1;
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
	/* (the first reading idle: as one reading always was; else the
	 * majority of three, the least of the idle ones counted) */
	for (i = 0; i < READINGS && busy < 2; i++) {
		if (i > 0)
			nanosleep(&gap, NULL);
		if ((running = procs_running(fp)) < 1)
			break;
		if (running >= ncpu) {
			busy++;
			continue;
		}
		if (least == -1 || running < least)
			least = running;
		if (i == 0)
			break;
	}
	fclose(fp);
	if (busy >= 2 || least < 1)
		return 0;
	return ncpu - (int)least;
}

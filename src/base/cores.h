/* cores.h: whether a second thread would have a core of its own now. */
#ifndef MOAT_CORES_H
#define MOAT_CORES_H

/* How many of the cores this process may run on have nothing to run now
 * (the kernel's count of runnable tasks, this one included, against
 * them); 0 when that cannot be read.  A guess of an instant (a busy first
 * reading taken again twice, 200 µs apart, and two of the three decide:
 * cores.c says why): it decides
 * only whether independent work goes to a thread, never what comes out.
 * Test builds take MOAT_CORES_IDLE instead. */
int	cores_idle(void);

#endif

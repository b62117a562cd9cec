/* clock.h: the monotonic clock in milliseconds, for deadlines and the
 * waits they bound (never the wall clock: it may jump). */
#ifndef MOAT_CLOCK_H
#define MOAT_CLOCK_H

long long	clock_ms(void);

#endif

/* schedcut.h: moatd's side of schedules: the connections a rule admitted
 * cut when its window ends, the windows compiled again when the UTC
 * offset changes (doc/design/schedules.md). */
#ifndef MOAT_SCHEDCUT_H
#define MOAT_SCHEDCUT_H

#include <stdbool.h>

/* Watch the config in force of the history in state (the string is
 * kept). */
void	 schedcut_init(const char *state);
/* Look, at most once a second: cut the connections of every window that
 * ended (a few seconds after the edge).  True when the local UTC offset
 * (or the kernel's sys_tz) is no longer the one the ruleset in force was
 * compiled for, and the config has schedules: the caller applies it
 * again. */
bool	 schedcut_tick(void);
/* Free what it holds. */
void	 schedcut_stop(void);

#endif

/* feeds.h: in moatd's root parent, the feed objects of the config in
 * force: the feed process (feedd.h) started with the config, its reports
 * checked and put in the kernel by difference (apply_feed), and what
 * each object holds, when it was refreshed and its last error, written
 * to RUN/FEEDS_STATUS for moat objects, moat status, the metrics and the
 * console (doc/design/feeds.md). */
#ifndef MOAT_FEEDS_H
#define MOAT_FEEDS_H

#include "observe/status.h"
#include "policy/policy.h"

#define FEEDS_STATUS	STATUS_FEEDS_FILE	/* observe/status.h */

/* Where the state (feedstore) and the status file go. */
void	 feeds_init(const char *state, const char *run);
/* The config in force is now p (text as applied): the feed process is
 * started again for it, or stopped when it has no feed object. */
void	 feeds_configure(const struct policy *p);
/* The feed process's end, for poll; -1 when it is not running. */
int	 feeds_fd(void);
/* Read what it reported (fd is readable), acting on each whole report. */
void	 feeds_events(void);
/* Reap and restart it (with a backoff) when it died. */
void	 feeds_tick(void);
void	 feeds_stop(void);

#endif

/* logger.h: moatd's firewall log process: NFLOG in, firewall.jsonl out. */
#ifndef MOAT_LOGGER_H
#define MOAT_LOGGER_H

#include <stdint.h>

struct logger_conf {
	const char	*state;		/* the history: configs by hash */
	const char	*dir;		/* the log directory */
	uint64_t	 max;		/* bytes before a rotation */
	unsigned	 keep;		/* rotated files */
	const char	*run;		/* where FWLOG_STATS goes */
};

/* Read the firewall log group and write its records, until killed.
 * Returns an exit status when it cannot start (the group is taken). */
int	 logger_run(const struct logger_conf *c);

#endif

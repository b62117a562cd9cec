/* logger.h: moatd's firewall log process: NFLOG in, firewall.jsonl out. */
#ifndef MOAT_LOGGER_H
#define MOAT_LOGGER_H

#include <stdint.h>
#include <sys/types.h>

#include "observe/fwlog.h"

#define LOGGER_USER	"moat-log"	/* the process's own user */
#define LOGGER_ARG	"--log-process"	/* moatd's, for the logger */
#define LOGGER_RUN_SUBDIR FWLOG_RUN_SUBDIR	/* its part of the run directory */

struct logger_conf {
	const char	*dir;		/* the log directory */
	uint64_t	 max;		/* bytes before a rotation */
	unsigned	 keep;		/* rotated files */
	const char	*run;		/* where FWLOG_STATS goes: the run
					   directory's LOGGER_RUN_SUBDIR */
	int		 ask;		/* to the parent: configs of the
					   history */
};

/* In the root parent, before the logger starts as uid/gid: the log
 * directory made (0750 if new), its group gid and mode 01770 (the logger
 * writes firewall.jsonl and rotates it; the sticky bit keeps it off the
 * parent's mail.jsonl), the firewall log's files its own; run's
 * LOGGER_RUN_SUBDIR made its own, run/FWLOG_STATS a link into it.
 * -1 and a message in err when the logger could not write its figures
 * (a log directory it cannot write is only said). */
int	 logger_prepare(const char *dir, const char *run, unsigned keep,
	    uid_t uid, gid_t gid, char *err, size_t errlen);

/* In the root parent: answer the logger's one question waiting on fd
 * (the logger cannot read the history): "hHASH", the newest entry with
 * that config hash; "eSEQ", entry SEQ (0: the entry in force, the
 * history's last); "n", which entry is in force.  The answer: "SEQ PREV
 * HASH FILE\n" and, but for "n", the config's text; nothing when there is
 * no such entry.  -1 when the logger is gone or broke the exchange: close
 * fd. */
int	 logger_answer(int fd, const char *state);

/* Read the firewall log group and write its records, until killed.
 * Returns an exit status when it cannot start (the group is taken). */
int	 logger_run(const struct logger_conf *c);

/* The logger, moatd executed with LOGGER_ARG and argv the rest of its
 * arguments (the log directory, max, keep, the run directory, "v" or
 * "-"), its channel to the parent on 3: as LOGGER_USER keeping only
 * CAP_NET_ADMIN, until logger_run has bound NFLOG.  Its exit status. */
int	 logger_main(int argc, char **argv);

#endif

/* logger.h: moatd's firewall log process: NFLOG in, firewall.jsonl out. */
#ifndef MOAT_LOGGER_H
#define MOAT_LOGGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/frame.h"
#include "base/strbuf.h"
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

/* In the root parent: the answer to the logger's question q of len
 * bytes (the logger cannot read the history): "hHASH", the newest entry
 * with that config hash; "eSEQ", entry SEQ (0: the entry in force, the
 * history's last); "n", which entry is in force.  The answer, into out:
 * "SEQ PREV HASH FILE\n" and, but for "n", the config's text; nothing
 * when there is no such entry.  -1 for a question of none of these
 * forms: the logger broke the exchange. */
int	 logger_answer(const char *q, size_t len, const char *state,
	    struct strbuf *out);

/*
 * The root parent's end of the logger's channel, which never blocks it:
 * a question is read as it comes and its answer written as the logger
 * takes it, the two whole within LOGGER_ASK_MS or the channel is closed
 * (a logger taken over that sent its questions, or read its answers, a
 * byte at a time held root's loop nearly 2 s a question: a review,
 * 2026-12-08).  One question at a time.
 */
#define LOGGER_ASK_MS	2000
struct logger_chan {
	int			 fd;		/* -1: none */
	struct frame_in		 in;
	struct frame_out	 out;
	long long		 since;		/* clock_ms of a question's
						   first byte, or 0 */
};
/* c, idle, on fd (made non-blocking); -1 for none. */
void	 logger_chan_open(struct logger_chan *c, int fd);
void	 logger_chan_close(struct logger_chan *c);
/* What to poll: for reading (no answer going), for writing (one is). */
int	 logger_chan_in_fd(const struct logger_chan *c);
int	 logger_chan_out_fd(const struct logger_chan *c);
/* What came read, a whole question answered from state's history; more
 * of the answer written.  0, or -1: the logger is gone or broke the
 * exchange (close c). */
int	 logger_chan_read(struct logger_chan *c, const char *state);
int	 logger_chan_write(struct logger_chan *c);
/* True when a question and its answer took longer than LOGGER_ASK_MS
 * by now (clock_ms): close c. */
bool	 logger_chan_late(const struct logger_chan *c, long long now);

/* Read the firewall log group and write its records, until killed.
 * Returns an exit status when it cannot start (the group is taken). */
int	 logger_run(const struct logger_conf *c);

/* The logger, moatd executed with LOGGER_ARG and argv the rest of its
 * arguments (the log directory, max, keep, the run directory, "v" or
 * "-"), its channel to the parent on 3: as LOGGER_USER keeping only
 * CAP_NET_ADMIN, until logger_run has bound NFLOG.  Its exit status. */
int	 logger_main(int argc, char **argv);

#endif

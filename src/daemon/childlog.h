/* childlog.h: what moatd's children write on their standard output and
 * error comes to the parent, a pipe each, and the parent logs it as its
 * own lines, each led by the child's name.
 *
 * A child used to write to the parent's own standard error: under
 * systemd, the unit's journal stream.  A child taken over (the SMTP
 * proxy, the console, the firewall log and the HA askers parse what
 * others send) could write lines that read as root's ("history entry 7
 * applied"), with any priority, and use up the journal's rate limit for
 * the unit, root's lines with it.  Through the pipe, each line is said
 * by the parent after the child's name, with a priority from error to
 * debug at most, its control bytes escaped (log.c), cut at a line's
 * length, bytes that could drive a terminal or turn the text (C1
 * controls, direction marks, broken UTF-8, NUL) escaped too.  A kind of
 * child (its name up to a space: the HA askers are one) that writes more
 * than CHILDLOG_RATE lines a second (beyond a burst), or all of them
 * more than CHILDLOG_ALL_RATE, has the rest counted, not logged, and the
 * parent says how many ("childlog: ...", a line no child's can be).  A
 * child has one pipe at a time, by its name: the pipe of the
 * one before is closed when it starts again, so no process it left
 * behind keeps a pipe (or a rate) of its own.  The parent reads the
 * pipes in its loop, never waiting, a bounded amount a turn; the
 * children write without waiting (a line is lost while the parent is
 * busy and the pipe is full, never a child held).
 */
#ifndef MOAT_CHILDLOG_H
#define MOAT_CHILDLOG_H

#include <poll.h>

#define CHILDLOG_MAX	16	/* children by name */
#define CHILDLOG_RATE	100	/* a kind's lines a second, kept up */
#define CHILDLOG_BURST	1000	/* a kind's lines at once */
#define CHILDLOG_ALL_RATE 200	/* all children's lines a second */
#define CHILDLOG_ALL_BURST 2000	/* all children's lines at once */
#define CHILDLOG_LINE	2000	/* a line is cut here (log.c says 2047) */

/* Before a child named name is forked: the write end of its pipe (for
 * childlog_child), the read end kept by the parent, and the pipe the
 * child of that name had before read out and closed; -1 with errno (more
 * than CHILDLOG_MAX names, or no pipe: the child then writes to
 * /dev/null). */
int	 childlog_open(const char *name);
/* In the child just forked: fd (childlog_open's, or -1: /dev/null) made
 * its standard output and error, and its lines written in the form the
 * parent reads (log_to_parent).  0, or -1 with errno. */
int	 childlog_child(int fd);
/* The lines the child called name left in its pipe, said now (before
 * the parent says it ended): at most 64 KB. */
void	 childlog_flush(const char *name);
/* What to poll: up to CHILDLOG_MAX entries; their number. */
int	 childlog_pollfds(struct pollfd *pfd);
/* After poll: the lines of the pipes that have some, logged. */
void	 childlog_events(const struct pollfd *pfd, int n);

#endif

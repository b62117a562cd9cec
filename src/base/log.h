/* log.h: moatd's log, shared by its processes: one line per event, each
 * written whole in one write(2), so lines of the parent, the proxy and
 * its sessions never interleave; under systemd, with its priority for
 * the journal.
 */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stdbool.h>

/* Write lines to fd (default standard error); name leads every line. */
void	 log_init(int fd, const char *name);
/* Also log what log_debug says (moatd -v). */
void	 log_set_verbose(bool on);
/* True when log_debug lines are written. */
bool	 log_verbose(void);
/* One line (no newline in fmt): an error (something moat meant to do was
 * not done), a warning (done another way), news. */
void	 log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line of priority prio, 3 (error) to 7 (debug), said whatever the
 * verbosity (a child's line the parent passes on). */
void	 log_at(int prio, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* In a child whose standard error is its pipe to the parent
 * (daemon/childlog.h): every line from now on "<prio>text", the form the
 * parent reads, here and in a program it executes (MOAT_LOG_TO_PARENT). */
void	 log_to_parent(void);
/* One line, only when verbose. */
void	 log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* fds.h: the descriptors a process holds.  A child of moatd keeps exactly
 * the ones its job needs (issue 21): everything else the parent holds (the
 * HA notify FIFO, the sync link, the other children's channels, netlink
 * sockets) is closed right after fork, whether or not it would survive an
 * exec. */
#ifndef MOAT_FDS_H
#define MOAT_FDS_H

#include <stddef.h>

/* Descriptors 0-2 open: standard input always on /dev/null (a daemon
 * reads nothing there), standard output and error on /dev/null when they
 * were closed, so that no socket or file opened later becomes one of
 * them.  0, or -1 with errno. */
int	 fds_std_null(void);
/* Close every descriptor from 3 up but the n in keep.  0, or -1 with
 * errno. */
int	 fds_keep(const int *keep, size_t n);
/* All n bytes at p written to fd, through EINTR: 0, or -1 with errno
 * (ENOSPC for a write that took nothing). */
int	 fds_write_all(int fd, const void *p, size_t n);

#endif

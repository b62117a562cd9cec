/* nospawn.h: a process that may start no other.  For the children that
 * read what others send (the SMTP proxy, the console, the firewall log,
 * the feed process): one taken over can make threads, which end with it,
 * but no process that would outlive it and its restart, and it can
 * execute nothing (a review, 2026-12-07). */
#ifndef MOAT_NOSPAWN_H
#define MOAT_NOSPAWN_H

/* From now on, for this process and its threads: fork, vfork, clone but
 * for a thread, execve, execveat, unshare and setns fail (EPERM; clone3
 * ENOSYS, so that threads are made with clone).  No new privileges either.  0, or -1
 * with errno (the kernel refused the filter: a caller must not go on
 * unconfined). */
int	 nospawn(void);
/* From now on: no packet socket and no raw one (socket(2) fails, EPERM):
 * for the SMTP proxy, which keeps CAP_NET_RAW for IP_TRANSPARENT (its
 * connections from the client's address) and, taken over, could have
 * read every interface (the HA sync link too) or written frames on the
 * LAN with it (a review, 2026-12-07).  0, or -1 with errno, as
 * nospawn's. */
int	 noraw(void);

/* From now on: no new socket at all (socket(2) fails, EPERM; io_uring
 * ENOSYS): for the children that use only the sockets they were given
 * (the firewall log, the console, moatd-sync).  One taken over could
 * have connected anywhere from the gateway's own addresses (a listener
 * on the loopback that trusts them), or written to the journal's socket
 * as moatd (a review, 2026-12-08).  0, or -1 with errno, as nospawn's. */
int	 nosocket(void);

#endif

/* syncd.h: the server of the sync link, in a process of its own.
 *
 * moatd's root parent does not talk to the network of the sync link: an
 * unprivileged child (moatd-sync, started by src/daemon/hanode.c with
 * exactly two descriptors besides 0-2) accepts the peer's connections,
 * greets, checks the signed head and the body (ha/peer.h), and hands each
 * verified request to the parent over ctl; the parent's answer comes back
 * on ctl and goes to the client, signed.  Every connection is a small state
 * machine on a non-blocking socket with a whole-message deadline, so a
 * slow or silent client delays nobody, not even the other clients.
 *
 * On ctl, both ways, one frame (base/frame.h) per message, a JSON object
 * with "id", the request id the answer carries back:
 *   to the parent     {"id", "op", "state", "hash", "entry", "text"?, "from"}
 *   from the parent   {"id", "status", ...}: the answer, sent as it is
 */
#ifndef MOAT_HA_SYNCD_H
#define MOAT_HA_SYNCD_H

#include "ha/peer.h"

#define SYNCD_CONNS	8	/* at once; a new one ends the oldest unsigned */
#define SYNCD_CTL_MAX	(PEER_BODY_MAX + 4096)	/* a request on ctl */

/* Serve the peer on the listening socket until ctl ends (the parent is
 * gone: 0) or fails (-1).  Logs (base/log.h) what it refuses. */
int	 syncd_run(int listen_fd, int ctl, const char *secret);

#endif

/* hanode.h: moatd's half of an HA pair (the ha block).
 *
 * moatd writes keepalived.conf and conntrackd.conf under the state
 * directory's ha/, starts both engines as its children and starts them
 * again when they die (a crashed node restarts clean: orphans of an
 * earlier moatd are ended, stale lock files removed, VIPs a dead
 * keepalived left behind taken down).  keepalived says through its notify
 * FIFO when the node becomes master, backup or faulty; moatd then
 * commands conntrackd (master: commit the external cache, flush, resync,
 * send a bulk update; backup: shorten the kernel's timers, ask for a
 * resync).  Over the sync link (ha/peer.h) it says hello to the peer
 * every 2 s (state, policy hash), answers the peer's hello, sends each
 * config applied here to the peer, and applies what the peer sends after
 * the same checks as any config.  What it knows is in the run directory's
 * HA_STATUS_FILE, for `moat status` and the console. */
#ifndef MOAT_HANODE_H
#define MOAT_HANODE_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/strbuf.h"
#include "policy/policy.h"

#define HANODE_FDS	3
/* moatd's argument that makes it the sync link's server (moatd-sync): its
 * own, given by hanode.c alone. */
#define HANODE_SYNC_ARG	"--ha-sync-server"
/* ... and the child that asks the peer (moatd-ask: a push; with "hello"
 * after it, the one that says hello every 2 s). */
#define HANODE_ASK_ARG	"--ha-ask"

/* Apply a config the peer sent (text in the canonical form made ours):
 * check, enforce, keep it as the config file.  0, or -1 with err. */
typedef int (*hanode_apply_fn)(const char *text, size_t len,
    struct strbuf *msg, struct strbuf *err);

void	 hanode_init(const char *state_dir, const char *run_dir,
	    hanode_apply_fn apply);
/* The policy now in force (valid): start, reconfigure or stop (no ha
 * block) the engines and the sync link. */
void	 hanode_configure(const struct policy *p);
/* Stop the engines (SIGTERM: keepalived hands the VIPs over at once). */
void	 hanode_stop(void);
/* What to poll: up to HANODE_FDS entries; their number. */
int	 hanode_pollfds(struct pollfd *pfd);
/* After poll: the FIFO's lines, a connection from the peer. */
void	 hanode_events(const struct pollfd *pfd, int n);
/* Timers and children: restarts, hellos, pushes. */
void	 hanode_tick(void);
/* moatd run with HANODE_SYNC_ARG: serve the sync link (ha/syncd.h) as its
 * own user, on the descriptors the parent left; the exit status. */
int	 hanode_sync_main(void);
/* moatd run with HANODE_ASK_ARG: ask the peer what fd 3 says (a memfd of
 * the parent's), the answer to fd 4; the exit status. */
int	 hanode_ask_main(void);
/* moatd run with HANODE_ASK_ARG hello: the hellos to the peer, asked by
 * the parent on fd 3; the exit status. */
int	 hanode_hello_main(void);

#endif

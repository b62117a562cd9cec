/* engines.h: the two engines of an HA pair, driven, not reinvented:
 * keepalived (VRRP: who holds the VIPs) and conntrackd (FTFW: the
 * connection-tracking state, so that connections outlive a failover).
 * moat writes their config files from the ha block and reads what
 * keepalived says through its notify FIFO; moatd starts, supervises and
 * commands them (src/daemon/hanode.c).  Everything they need lives in one
 * directory (the state directory's ha/), so two nodes run on one
 * machine, one per network namespace. */
#ifndef MOAT_HA_ENGINES_H
#define MOAT_HA_ENGINES_H

#include <limits.h>

#include "base/strbuf.h"
#include "policy/policy.h"

#define HA_ADVERT_CS	50	/* VRRP adverts every 0.5 s (VRRPv3) */
/* What moatd knows of the pair, in its run directory (JSON): this node's
 * state, the peer's as last heard, both policy hashes, the last push. */
#define HA_STATUS_FILE	"ha.json"

/* The files of one node, under dir. */
struct ha_files {
	char	dir[PATH_MAX - 64];
	char	keepalived_conf[PATH_MAX], keepalived_pid[PATH_MAX],
		vrrp_pid[PATH_MAX], notify_fifo[PATH_MAX];
	char	conntrackd_conf[PATH_MAX], conntrackd_sock[PATH_MAX],
		conntrackd_lock[PATH_MAX], conntrackd_log[PATH_MAX];
};

enum ha_state {
	HA_UNKNOWN = 0,		/* keepalived has not said yet */
	HA_BACKUP,
	HA_MASTER,
	HA_FAULT,		/* a tracked link is down */
	HA_STOPPED,
};

/* The files' names in dir. */
void	 ha_files_init(struct ha_files *f, const char *dir);
/* keepalived.conf for the valid policy p (with an ha block): one VRRP
 * instance per interface with a VIP, all in one sync group (so they move
 * together), advertised over the sync interface to the peer alone, each
 * tracking its own interface but not the sync link (a peer that dies
 * takes the cable's carrier with it: that must not fault the survivor);
 * the notify FIFO. */
void	 ha_keepalived_conf(const struct policy *p, const struct ha_files *f,
	    struct strbuf *b);
/* conntrackd.conf: FTFW over UDP on the sync interface, to the peer;
 * the nodes' own addresses and the VIPs are not synced (connections to
 * the gateway itself die with it). */
void	 ha_conntrackd_conf(const struct policy *p, const struct ha_files *f,
	    struct strbuf *b);
/* The sync group's state in one line of the notify FIFO ("GROUP
 * \"MOAT\" MASTER 0"); HA_UNKNOWN for any other line. */
enum ha_state ha_notify_line(const char *line);
const char *ha_state_name(enum ha_state s);

#endif

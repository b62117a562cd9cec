/* gateways.h: in moatd's root parent, the gateways of the config in
 * force: the probe process (probed.h) started with them, its reports
 * checked, each gateway's state decided (up after its probes hold for
 * GW_UP_HOLD_MS, down when loss or latency pass their limits over the
 * last PROBE_WINDOW probes), the route tables and ip rules kept to match
 * over rtnetlink, the connections of a link that went down removed from
 * conntrack when another link is up, and it all written to
 * RUN/gateways.json for moat status, the metrics and the console
 * (doc/design/gateways.md). */
#ifndef MOAT_GATEWAYS_H
#define MOAT_GATEWAYS_H

#include "observe/status.h"
#include "policy/policy.h"

#define GW_UP_HOLD_MS	5000	/* good probes so long: up again */
#define GW_STALE_MS	5000	/* no report so long: the process restarted */

/* Where the status file goes. */
void	 gateways_init(const char *run);
/* The config in force is now p: rules and tables set for its gateways
 * (removed when it has none), the probe process started again. */
void	 gateways_configure(const struct policy *p);
/* A device or an address changed: the tables sent again, the probes
 * started again when a gateway's device is not the one they were bound
 * to. */
void	 gateways_links_changed(void);
/* The probe process's end, for poll; -1 when it is not running. */
int	 gateways_fd(void);
/* Read its reports (fd is readable) and act on them. */
void	 gateways_events(void);
/* Reap and restart it when it died or fell silent. */
void	 gateways_tick(void);
void	 gateways_stop(void);

#endif

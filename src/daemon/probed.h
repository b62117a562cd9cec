/* probed.h: moatd's probe process (moatd-ping): sends ICMP echo requests
 * to each gateway's monitor address through that gateway, a few a second,
 * and reports to the root parent, per gateway, how many of the recent
 * probes were lost and their mean round trip.  The parent alone decides
 * what is up and changes routes (gateways.c); the process runs as
 * PROBE_USER with no capability, holding only the raw sockets the parent
 * opened for it, marked and bound to each gateway's device, and a filter
 * that forbids it to change them (doc/design/gateways.md). */
#ifndef MOAT_PROBED_H
#define MOAT_PROBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBED_ARG	"--ping-process"	/* moatd's, for gateways.c */
#define PROBE_USER	"moat-ping"	/* the process's own user */

#define PROBE_INTERVAL_MS	250	/* one probe per gateway so often */
#define PROBE_WINDOW		8	/* the probes a report covers */
#define PROBE_REPORT_MS		500	/* a report per gateway so often */
#define PROBE_FD0		4	/* the first gateway's socket */
#define PROBE_MAGIC		0x6d707231u	/* "mpr1" */

/* The parent's one message: the targets, gateway slot i probing through
 * the socket on PROBE_FD0 + i. */
struct probe_target {
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 pad[3];
	uint8_t		 addr[16];	/* the monitor, network order */
	uint32_t	 timeout_ms;	/* a probe unanswered so long: lost */
};

struct probe_spec {
	uint32_t		 magic;
	uint32_t		 n;
	struct probe_target	 t[64];
};

/* The process's reports, one message each (SOCK_SEQPACKET). */
struct probe_report {
	uint32_t	 magic;
	uint32_t	 slot;		/* < the spec's n */
	uint32_t	 decided;	/* probes answered or timed out, of the
					   last PROBE_WINDOW; <= it */
	uint32_t	 lost;		/* of those; <= decided */
	uint32_t	 rtt_us;	/* the answered ones' mean */
};

/* True when len bytes at buf are a report the parent may act on, for a
 * spec of n gateways: every field in its range. */
bool	 probe_report_check(const void *buf, size_t len, uint32_t n,
	    struct probe_report *out);

/* From now on, for this process: no new socket, no socket option, no
 * sendmsg, no new process, no execve (EPERM; another architecture's calls
 * kill it).  0, or -1 with errno.  probed_main's, and the tests'. */
int	 probed_confine(void);

/* moatd run with PROBED_ARG (by gateways.c, executed afresh: its end of
 * the pair on 3, the sockets from PROBE_FD0): become PROBE_USER with no
 * capability under the filter, read the spec, probe until the parent
 * goes.  Returns an exit status. */
int	 probed_main(void);

#endif

/* probe.h: the seed's telnet test, for real: connect and read a banner. */
#ifndef MOAT_PROBE_H
#define MOAT_PROBE_H

#include <stddef.h>

enum probe_result {
	PROBE_CONNECTED = 0,
	PROBE_REFUSED,		/* RST or ICMP unreachable: rejected, or closed */
	PROBE_TIMEOUT,		/* no answer: dropped */
	PROBE_ERROR,		/* bad address, no route, … */
};

/* Connect to host:port over TCP (from address from, if not NULL) within
 * timeout_ms, then read what the server says first for up to banner_ms.
 * banner gets it (one line, without CR LF); err the reason of an error. */
enum probe_result probe_tcp(const char *host, unsigned port, const char *from,
    int timeout_ms, int banner_ms, char *banner, size_t len, char *err,
    size_t errlen);

#endif

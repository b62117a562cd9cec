/* nflog.h: the one door to the kernel's NFLOG (nfnetlink_log, over
 * libmnl): the packets the rules log, for moatd's firewall log. */
#ifndef MOAT_NFLOG_H
#define MOAT_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* One logged packet, as the kernel sent it.  The pointers point into the
 * buffer it was read into. */
struct nflog_pkt {
	const char	*prefix;	/* the rule's log prefix, or NULL */
	uint32_t	 indev, outdev;	/* interface indexes, 0: none */
	const uint8_t	*payload;	/* from the network header on */
	size_t		 plen;		/* bytes of it copied */
	bool		 has_seq;
	uint32_t	 seq;		/* the group's own sequence number */
	uint8_t		 family;	/* NFPROTO_IPV4, NFPROTO_IPV6, ... */
};

struct nflog;

/* Listen to NFLOG group in this network namespace: at most copy bytes of
 * each packet, delivered in batches at most 0.1 s late.  NULL with the
 * reason in err (another listener has the group: EBUSY). */
struct nflog	*nflog_open(uint16_t group, unsigned copy, struct strbuf *err);
void		 nflog_close(struct nflog *n);
/* The socket, to poll for reading. */
int		 nflog_fd(const struct nflog *n);
/*
 * Read what is waiting (one datagram) and call fn for each packet in it.
 * Returns the packets read, or -1 with errno (EAGAIN: nothing waiting;
 * ENOBUFS: the receive buffer overran, read on).  *lost grows by the
 * packets the kernel could not deliver: the gaps in the sequence numbers.
 */
int		 nflog_read(struct nflog *n,
		    void (*fn)(void *arg, const struct nflog_pkt *pkt),
		    void *arg, uint64_t *lost);
/* Parse one netlink message (type, header and attributes checked; a
 * truncated or malformed one is refused): 0, or -1 when it is not a
 * packet of NFLOG or not well formed. */
int		 nflog_parse(const void *msg, size_t len, struct nflog_pkt *pkt);

#endif

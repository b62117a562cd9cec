/* fwlog.h: the firewall log's records: a logged packet in moat's words
 * (which rule, which line, which zone), as one JSON line in
 * firewall.jsonl, and read back for `moat log`. */
#ifndef MOAT_FWLOG_H
#define MOAT_FWLOG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/iset.h"
#include "base/strbuf.h"
#include "enforce/nflog.h"
#include "policy/policy.h"

#define FWLOG_FILE	"firewall.jsonl"
#define FWLOG_TEXT_MAX	160

struct fwlog_rec {
	struct timespec	 when;		/* CLOCK_REALTIME */
	char		 action[8];	/* accept, deny, reject */
	int		 rule;		/* the rule's number; 0: a default, or
					   not known (by its id alone) */
	uint64_t	 rule_id;	/* the rule's id; 0: a default, or a
					   ruleset of before the ids */
	char		 iface[64];	/* a default: its interface's name */
	uint64_t	 hash;		/* the config's (FNV-1a); 0: not known */
	/* From the config with that hash, when it is known: */
	int		 line;		/* of the rule, or the interface */
	char		 file[FWLOG_TEXT_MAX];
	char		 comment[FWLOG_TEXT_MAX];
	char		 in[64], out[64];	/* zones, "" when unknown */
	char		 in_dev[IF_NAMESIZE], out_dev[IF_NAMESIZE];
	/* From the packet: */
	int		 proto;		/* IP protocol, -1 unknown */
	u128		 src, dst;
	bool		 has_ports;
	unsigned	 sport, dport;
	unsigned	 length;	/* the IP datagram's */
	unsigned	 tcp_flags;	/* TCP: the flags byte */
	int		 icmp_type;	/* ICMP, ICMPv6: type, else -1 */
	int		 icmp_code;
};

/* A logged packet as a record: what its prefix says (moat's, nftc.h:
 * a rule's id or a default's interface; in a ruleset of before the ids,
 * the rule's number and the config's hash) and its headers; -1 when it is
 * not moat's, or its headers cannot be read.  Devices are named from their
 * indexes. */
int	 fwlog_from_packet(const struct nflog_pkt *pkt, struct fwlog_rec *r);
/* The socket devices are named through (SIOCGIFNAME; any socket of the
 * namespace does): the firewall log's NFLOG socket, since it may make no
 * socket of its own (nosocket, base/nospawn.h), which if_indextoname
 * would.  -1 (the default): if_indextoname's. */
void	 fwlog_names_fd(int fd);
/* The headers of a packet from its IP header on (the parser alone,
 * bounds checked): 0, or -1 when they cannot be read.  The protocol is
 * -1 when IPv6 extension headers go on past len. */
int	 fwlog_headers(const uint8_t *p, size_t len, struct fwlog_rec *r);
/* The same from the network header and the transport header apart, as
 * a trace event gives them: the kernel cuts the first at 40 bytes and
 * finds the second itself, past IPv4 options and IPv6 extension headers
 * (th NULL: none).  l4proto: the protocol when the extension headers
 * hide it (the trace's --proto), else -1. */
int	 fwlog_headers_apart(const uint8_t *nh, size_t nhlen,
	    const uint8_t *th, size_t thlen, int l4proto,
	    struct fwlog_rec *r);
/* Rule number (from r's rule id when it has one), line, file, comment and
 * zones from config p (file: the name it was applied from), which has r's
 * hash, or r's rule id (the caller sets r->hash to p's).  -1 when p has no
 * rule with r's id (nothing changed). */
int	 fwlog_annotate(struct fwlog_rec *r, const struct policy *p,
	    const char *file);
/* One JSON object, no newline. */
void	 fwlog_json(const struct fwlog_rec *r, struct strbuf *b);
/* Back from a JSON line: 0, or -1 when it is not a record. */
int	 fwlog_parse(const char *line, struct fwlog_rec *r);
/* In moat's words: "2026-11-30 08:20:01 deny by rule 2 (moat.conf:8) LAN
 * 192.168.1.50:41234 -> 198.51.100.25:25 tcp SYN", no newline. */
void	 fwlog_text(const struct fwlog_rec *r, struct strbuf *b);
/* The packet alone: "LAN 192.168.1.50:41234 -> 198.51.100.25:25 tcp
 * SYN" (the zone, else the device). */
void	 fwlog_packet_text(const struct fwlog_rec *r, struct strbuf *b);
/* "SYN,ACK" for a flags byte. */
void	 fwlog_tcp_flags(unsigned flags, char *buf, size_t len);

/* The firewall log's own figures, written by moatd's logger every second
 * (FWLOG_STATS in the run directory), read by moat status and metrics. */
#define FWLOG_STATS	"firewall-log.json"
/* The logger's own part of the run directory, where it writes them:
 * FWLOG_STATS beside it is a link there, for readers of before. */
#define FWLOG_RUN_SUBDIR "log"

struct fwlog_stats {
	char		 file[4096];	/* the log it writes */
	uint64_t	 written;	/* records */
	uint64_t	 lost_kernel;	/* the kernel could not hand over */
	uint64_t	 lost_disk;	/* the disk did not take */
	uint64_t	 unreadable;	/* packets that were not moat's */
	char		 error[256];	/* the disk's last failure, or "" */
	long long	 updated;	/* time(2) of the figures */
};

/* Write st to run/FWLOG_STATS whole (a temporary file renamed). */
int	 fwlog_stats_write(const char *run, const struct fwlog_stats *st);
/* Read them: 0, or -1 when there are none (no logger ran). */
int	 fwlog_stats_read(const char *run, struct fwlog_stats *st);

#endif

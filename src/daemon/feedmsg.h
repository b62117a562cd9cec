/* feedmsg.h: what moatd's feed process (feedd.c, unprivileged) and its
 * root parent (feeds.c) say to each other over their socket pair, as
 * frames with a request id (base/frame.h).
 *
 * Parent to child, id = the config's generation: the config text in
 * force, a NUL, then one line per feed object that has stored contents,
 * "NAME FETCHED\n" (unix seconds), so that a restart does not fetch
 * every list again before its time.
 *
 * Child to parent, plain frames: one struct feed_report (gen: the
 * generation it works from), then n4 IPv4 intervals (two uint32_t each) and n6 IPv6
 * ones (two 128-bit numbers each, lo then hi), in this machine's byte
 * order.  The parent checks every field and trusts none: an answer for
 * an old generation, an unknown object, another definition, more than
 * the object's max, an interval out of its family or backwards, or a
 * length that is not exactly this is dropped (and said).
 */
#ifndef MOAT_FEEDMSG_H
#define MOAT_FEEDMSG_H

#include <stdint.h>

#include "base/frame.h"

#define FEEDS_USER		"moat-feeds"	/* the process's own user */
#define FEEDMSG_NAME		64
#define FEEDMSG_ERROR		256
/* One report's intervals at most: a url object's max is at most
 * FEED_MAX_LIMIT entries, each at most one interval per family. */
#define FEEDMSG_INTERVALS_MAX	4000000u
#define FEEDMSG_FRAME_MAX	FRAME_MAX	/* base/frame.h */
#define FEEDMSG_CONFIG_MAX	(64u << 20)

struct feed_report {
	char		name[FEEDMSG_NAME];	/* NUL-terminated */
	uint32_t	gen;		/* the config's generation */
	uint32_t	pad;
	uint64_t	key;		/* feedstore_key of its definition */
	uint32_t	ok;		/* 1: contents follow; 0: an error */
	uint32_t	failing;	/* fqdn: names that fail now */
	uint64_t	n4, n6;		/* intervals that follow */
	uint64_t	entries;	/* lines, addresses or networks read */
	int64_t		fetched;	/* unix seconds */
	int64_t		next;		/* unix seconds: the next refresh */
	char		error[FEEDMSG_ERROR];	/* NUL-terminated, or "" */
};

#endif

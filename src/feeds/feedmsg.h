/* feedmsg.h: what moatd's feed process (daemon/feedd.c, unprivileged) and
 * its root parent (daemon/feeds.c) say to each other over their socket
 * pair, as frames (base/frame.h); the report written (feedmsg_encode) and
 * checked (feedmsg_check) here, in one place, pure, so that the check is
 * unit-tested and fuzzed without a kernel or a state directory.
 *
 * Parent to child, id = the config's generation: the config text in
 * force, a NUL, then one line per feed object that has stored contents,
 * "NAME FETCHED\n" (unix seconds), so that a restart does not fetch
 * every list again before its time.
 *
 * Child to parent, plain frames: one struct feed_report (gen: the
 * generation it works from), then n4 IPv4 intervals (two uint32_t each)
 * and n6 IPv6 ones (two 128-bit numbers each, lo then hi), in this
 * machine's byte order, each of its family: an interval that crosses the
 * IPv4 block's edges is sent as its pieces.  The parent trusts nothing
 * of it (the child parses what the network sent, and may be another
 * program by now): feedmsg_check says what it refuses, and
 * doc/design/feeds.md why.
 */
#ifndef MOAT_FEEDMSG_H
#define MOAT_FEEDMSG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/frame.h"
#include "base/iset.h"

#define FEEDS_USER		"moat-feeds"	/* the process's own user */
#define FEEDMSG_NAME		64
#define FEEDMSG_ERROR		256
/* One report's intervals at most: a url object's max is at most
 * FEED_MAX_LIMIT entries, each at most one interval per family. */
#define FEEDMSG_INTERVALS_MAX	4000000u
#define FEEDMSG_FRAME_MAX	FRAME_MAX	/* base/frame.h */
#define FEEDMSG_CONFIG_MAX	(64u << 20)
/* The latest time a report may name: 9999-12-31 23:59:59 UTC, which
 * every reader's localtime can print. */
#define FEEDMSG_TIME_MAX	253402300799LL

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

/* What the parent expects of one feed object of the config in force. */
struct feed_expect {
	const char	*name;
	uint64_t	 key;		/* feedstore_key of its definition */
	uint64_t	 max;		/* intervals a report may carry */
	uint32_t	 names;		/* its hosts or countries */
	uint64_t	 addrs;		/* the addresses its intervals may
					   cover in all (an fqdn object's:
					   its names' addresses); 0: any */
};

/* A report that passed the check. */
struct feedmsg {
	size_t		 obj;		/* objects[obj] */
	bool		 ok;		/* contents follow */
	uint32_t	 failing;	/* at most the object's names */
	uint64_t	 entries;	/* at most INT64_MAX */
	int64_t		 next;		/* 0 .. FEEDMSG_TIME_MAX */
	char		 error[FEEDMSG_ERROR];	/* printable ASCII, or "" */
	struct iset	 s;		/* ok: the contents */
	size_t		 n4, n6;	/* the set's elements per family */
};

/* The frame of report r (its n4, n6 set here) and the intervals of s,
 * malloc'd, *len bytes; NULL when memory ran out.  A set too large for
 * one frame becomes an error report that says so (r->ok 0). */
char	*feedmsg_encode(struct feed_report *r, struct iset s, size_t *len);
/* The largest frame a report for one of objects[0..n) can be. */
size_t	 feedmsg_frame_max(const struct feed_expect *objects, size_t n);
/*
 * The frame buf (len bytes) from the feed process, checked against the
 * generation gen in force and its feed objects: 1 with *out (its set in
 * a), 0 for another generation (to be ignored), -1 refused with why (and
 * name: the name it gave, printable).  Nothing of buf is trusted.
 */
int	 feedmsg_check(const char *buf, size_t len, uint32_t gen,
	    const struct feed_expect *objects, size_t n, struct arena *a,
	    struct feedmsg *out, char *name, char *why, size_t whylen);

#endif

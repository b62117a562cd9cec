/* feedstore.h: what each feed object (fqdn, url, country) last held, kept
 * in the state directory, STATE/feeds/NAME, so that an apply, a rollback
 * and a boot without a network put back the last good contents, and so
 * that an update sends the kernel only what changed.  Root's files: only
 * moatd's parent and root's moat commands read or write them. */
#ifndef MOAT_FEEDSTORE_H
#define MOAT_FEEDSTORE_H

#include <stdint.h>
#include <time.h>

#include "base/arena.h"
#include "base/iset.h"
#include "base/strbuf.h"
#include "policy/policy.h"

#define FEEDSTORE_INTERVALS_MAX	(32u << 20)	/* intervals one file holds */

/* What a stored file says besides the addresses. */
struct feedstore_info {
	uint64_t	 key;		/* feedstore_key of the definition */
	time_t		 fetched;	/* when the contents were fetched */
	uint64_t	 entries;	/* lines, answers or networks read */
	size_t		 n4, n6;	/* intervals (set elements) per family */
};

/* The identity of o's source: its kind and names (hosts, URL,
 * countries).  Contents stored under another key are not o's. */
uint64_t feedstore_key(const struct object *o);
/* Replace STATE/feeds/NAME with s (and info's fetched and entries).  0,
 * or -1 with err. */
int	 feedstore_save(const char *state, const char *name, uint64_t key,
	    struct iset s, time_t fetched, uint64_t entries,
	    struct strbuf *err);
/* What STATE/feeds/NAME holds, if it was stored under key: its set
 * (allocated in a) and info; 0.  -1 when there is none, it is another
 * key's, or it is damaged (errno says which: ENOENT, ESTALE, EINVAL). */
int	 feedstore_load(const char *state, const char *name, uint64_t key,
	    struct arena *a, struct iset *out, struct feedstore_info *info);
/* Its header only: 0, or -1 as feedstore_load. */
int	 feedstore_info(const char *state, const char *name,
	    struct feedstore_info *info);
/* Make b give feed objects what the state directory holds for them
 * (state must outlive b's use). */
void	 feedstore_bind(struct binding *b, const char *state);

#endif

/* geoip.h: a country object's networks, read from an MMDB file (MaxMind's
 * GeoLite2-Country or GeoIP2-Country, DB-IP's country lite, any database
 * whose records carry country.iso_code).  geoip.c is the one file that
 * includes <maxminddb.h>.
 */
#ifndef MOAT_GEOIP_H
#define MOAT_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/arena.h"
#include "base/iset.h"

/* What tells a file replaced or rewritten from the one read before. */
struct geoip_stamp {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	long long	 mtime_ns;
};

/* Every network of the database at path whose record's country.iso_code
 * (registered_country.iso_code when it has no country) is one of the ncc
 * codes cc (two letters, any case), as a set (IPv4 in moat's ::ffff:a
 * block, built in a: its allocation failures jump to a's arena_catch),
 * with how many networks matched in *nnets.  0, or -1 with err (a file
 * that cannot be opened, is no MMDB, or is corrupt: the walk never goes
 * further than the tree's node count). */
int	 geoip_networks(const char *path, const char *const *cc, size_t ncc,
	    struct arena *a, struct iset *out, size_t *nnets, char *err,
	    size_t errlen);
/* The stamp of the file at path now: 0, or -1 with err. */
int	 geoip_stamp(const char *path, struct geoip_stamp *st, char *err,
	    size_t errlen);
/* The same file, unchanged? */
bool	 geoip_stamp_same(const struct geoip_stamp *a,
	    const struct geoip_stamp *b);

#endif

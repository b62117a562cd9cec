/* geoip.c: a country object's networks from an MMDB file (geoip.h); the
 * one door to libmaxminddb.
 *
 * Rather than look up addresses, the whole search tree is walked once, in
 * order, and every leaf whose record names a wanted country gives its
 * network.  The walk reads what a file on disk says, so it trusts none of
 * it: it is iterative with a stack as deep as the address (128 levels), it
 * reads no more nodes than the tree says it has (a file whose nodes point
 * back at each other is an error, not a loop), and records are decoded
 * through libmaxminddb's checked accessors.  Many leaves share one record
 * (one a country in GeoLite2, in DB-IP), so each record's verdict is
 * decoded once and kept by its offset.
 *
 * An IPv6 database holds IPv4 under ::/96 and points three aliases at that
 * subtree (::ffff:0:0/96, 2001::/32 Teredo, 2002::/16 6to4): the networks
 * under ::/96 become moat's IPv4 block (::ffff:a), the aliases are not
 * walked, so nothing counts twice.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <maxminddb.h>

#include "base/addr.h"
#include "feeds/geoip.h"

#define CC_MAX	300	/* country codes asked at once (there are 249) */

/* A record's verdict, by its offset in the data section. */
struct verdict {
	uint32_t	 offset;
	uint8_t		 used;
	uint8_t		 match;
};

struct walk {
	MMDB_s		 db;
	char		 cc[CC_MAX][2];
	size_t		 ncc;
	struct verdict	*cache;		/* open addressing, a power of two */
	size_t		 ncache, cachecap;
	struct ival	*v;
	size_t		 n, cap;
	size_t		 nets;
};

/* One frame of the walk: a node, how deep, the addresses above it. */
struct frame {
	uint32_t	 node;
	int		 depth;
	u128		 prefix;
};

static bool
wanted(const struct walk *w, const MMDB_entry_data_s *d)
{
	size_t i;

	if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING ||
	    d->data_size != 2)
		return false;
	for (i = 0; i < w->ncc; i++)
		if (strncasecmp(d->utf8_string, w->cc[i], 2) == 0)
			return true;
	return false;
}

/* Does the record at e name a wanted country?  1 or 0; -1 when it cannot
 * be decoded. */
static int
decide(struct walk *w, MMDB_entry_s *e)
{
	MMDB_entry_data_s d;
	int r;

	r = MMDB_get_value(e, &d, "country", "iso_code", NULL);
	if (r != MMDB_SUCCESS && r != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		return -1;
	if (r == MMDB_SUCCESS && d.has_data)
		return wanted(w, &d);
	r = MMDB_get_value(e, &d, "registered_country", "iso_code", NULL);
	if (r != MMDB_SUCCESS && r != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		return -1;
	return r == MMDB_SUCCESS && wanted(w, &d);
}

static size_t
slot(const struct walk *w, uint32_t off)
{
	size_t h = (size_t)off * 2654435761u;

	return h & (w->cachecap - 1);
}

/* The verdict on the record at e, decoded once per offset. */
static int
verdict(struct walk *w, MMDB_entry_s *e)
{
	size_t i;
	int m;

	if (w->ncache * 2 >= w->cachecap) {
		struct verdict *old = w->cache, *nc;
		size_t oldcap = w->cachecap, k;

		if ((nc = calloc(oldcap * 2, sizeof(*nc))) == NULL)
			return -2;
		w->cache = nc;
		w->cachecap = oldcap * 2;
		for (k = 0; k < oldcap; k++) {
			if (!old[k].used)
				continue;
			for (i = slot(w, old[k].offset); w->cache[i].used;
			    i = (i + 1) & (w->cachecap - 1))
				;
			w->cache[i] = old[k];
		}
		free(old);
	}
	for (i = slot(w, e->offset); w->cache[i].used;
	    i = (i + 1) & (w->cachecap - 1))
		if (w->cache[i].offset == e->offset)
			return w->cache[i].match;
	if ((m = decide(w, e)) == -1)
		return -1;
	w->cache[i].used = 1;
	w->cache[i].offset = e->offset;
	w->cache[i].match = (uint8_t)m;
	w->ncache++;
	return m;
}

static int
push_ival(struct walk *w, u128 lo, u128 hi)
{
	if (w->n == w->cap) {
		size_t cap = w->cap == 0 ? 4096 : w->cap * 2;
		struct ival *v = realloc(w->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].lo = lo;
	w->v[w->n].hi = hi;
	w->n++;
	return 0;
}

/* A matching network of the tree (bits 32 or 128) in moat's space. */
static int
network(struct walk *w, int bits, u128 prefix, int depth)
{
	u128 lo = prefix, hi = prefix;
	struct ival iv[2];
	size_t k, i;

	if (depth < bits)
		hi = prefix | ((((u128)1) << (bits - depth)) - 1);
	w->nets++;
	if (bits == 32)
		return push_ival(w, V4_BASE | lo, V4_BASE | hi);
	/* ::/96 is IPv4 */
	if (lo <= 0xffffffffu &&
	    push_ival(w, V4_BASE | lo, V4_BASE | (hi > 0xffffffffu ?
	    0xffffffffu : hi)) == -1)
		return -1;
	if (hi <= 0xffffffffu)
		return 0;
	if (lo <= 0xffffffffu)
		lo = (u128)1 << 32;
	k = addr_span(lo, hi, FAM_V6, iv);
	for (i = 0; i < k; i++)
		if (push_ival(w, iv[i].lo, iv[i].hi) == -1)
			return -1;
	return 0;
}

/* The IPv4 aliases of an IPv6 tree, not walked: ::ffff:0:0/96, Teredo
 * 2001::/32, 6to4 2002::/16. */
static bool
alias(u128 prefix, int depth)
{
	return (depth == 96 && prefix == ((u128)0xffff << 32)) ||
	    (depth == 32 && prefix == ((u128)0x20010000u << 96)) ||
	    (depth == 16 && prefix == ((u128)0x2002 << 112));
}

static int
walk_tree(struct walk *w, char *err, size_t errlen)
{
	struct frame stack[2 * 129];
	size_t sp = 0;
	uint64_t reads = 0, nodes = w->db.metadata.node_count;
	int bits = w->db.metadata.ip_version == 6 ? 128 : 32;

	if (w->db.metadata.ip_version != 4 && w->db.metadata.ip_version != 6) {
		snprintf(err, errlen, "ip_version %u: neither 4 nor 6",
		    w->db.metadata.ip_version);
		return -1;
	}
	if (nodes == 0)
		return 0;
	stack[sp++] = (struct frame){ 0, 0, 0 };
	while (sp > 0) {
		struct frame f = stack[--sp];
		MMDB_search_node_s node;
		int side, r;

		if (++reads > nodes) {
			snprintf(err, errlen, "corrupt search tree (more than "
			    "its %llu nodes reached)", (unsigned long long)nodes);
			return -1;
		}
		if ((r = MMDB_read_node(&w->db, f.node, &node)) != MMDB_SUCCESS) {
			snprintf(err, errlen, "search tree: %s", MMDB_strerror(r));
			return -1;
		}
		/* right first, so the left (lower) side comes off first */
		for (side = 1; side >= 0; side--) {
			uint8_t type = side ? node.right_record_type :
			    node.left_record_type;
			uint64_t rec = side ? node.right_record :
			    node.left_record;
			MMDB_entry_s *e = side ? &node.right_record_entry :
			    &node.left_record_entry;
			u128 p = f.prefix;
			int d = f.depth + 1;

			if (side)
				p |= (u128)1 << (bits - d);
			switch (type) {
			case MMDB_RECORD_TYPE_EMPTY:
				break;
			case MMDB_RECORD_TYPE_SEARCH_NODE:
				if (bits == 128 && alias(p, d))
					break;
				if (d >= bits) {
					snprintf(err, errlen, "corrupt search "
					    "tree (deeper than %d bits)", bits);
					return -1;
				}
				stack[sp++] = (struct frame){ (uint32_t)rec, d, p };
				break;
			case MMDB_RECORD_TYPE_DATA:
				if (bits == 128 && alias(p, d))
					break;
				switch (verdict(w, e)) {
				case -2:
					snprintf(err, errlen, "out of memory");
					return -1;
				case -1:
					snprintf(err, errlen, "corrupt data "
					    "record at offset %u", e->offset);
					return -1;
				case 1:
					if (network(w, bits, p, d) == -1) {
						snprintf(err, errlen, "out of "
						    "memory");
						return -1;
					}
					break;
				}
				break;
			default:
				snprintf(err, errlen, "corrupt search tree "
				    "(a record points nowhere)");
				return -1;
			}
		}
	}
	return 0;
}

int
geoip_networks(const char *path, const char *const *cc, size_t ncc,
    struct arena *a, struct iset *out, size_t *nnets, char *err,
    size_t errlen)
{
	struct walk *w;
	size_t i;
	int r, rc = -1;
	bool open = false;

	out->n = 0;
	out->v = NULL;
	*nnets = 0;
	if (ncc > CC_MAX) {
		snprintf(err, errlen, "more than %d countries", CC_MAX);
		return -1;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->cache = calloc(1024, sizeof(*w->cache))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	w->cachecap = 1024;
	for (i = 0; i < ncc; i++) {
		const char *c = cc[i];

		if (strlen(c) != 2 || !((c[0] | 0x20) >= 'a' &&
		    (c[0] | 0x20) <= 'z' && (c[1] | 0x20) >= 'a' &&
		    (c[1] | 0x20) <= 'z')) {
			snprintf(err, errlen, "'%.10s' is not a country code "
			    "(two letters, ISO 3166)", c);
			goto done;
		}
		memcpy(w->cc[i], c, 2);
	}
	w->ncc = ncc;
	/* A FIFO or a device would hold the feed process in open(): only a
	 * file is read (the console may name it: doc/design/console.md). */
	{
		struct stat sb;

		if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			goto done;
		}
	}
	if ((r = MMDB_open(path, MMDB_MODE_MMAP, &w->db)) != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s%s%s", path, MMDB_strerror(r),
		    r == MMDB_IO_ERROR ? ": " : "",
		    r == MMDB_IO_ERROR ? strerror(errno) : "");
		goto done;
	}
	open = true;
	if (walk_tree(w, err, errlen) == -1) {
		char why[200];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
		goto done;
	}
	if (iset_from_caught(a, w->v, w->n, out) == -1) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	*nnets = w->nets;
	rc = 0;
done:
	if (w != NULL) {
		if (open)
			MMDB_close(&w->db);
		free(w->cache);
		free(w->v);
		free(w);
	}
	return rc;
}

int
geoip_stamp(const char *path, struct geoip_stamp *st, char *err,
    size_t errlen)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL +
	    sb.st_mtim.tv_nsec;
	return 0;
}

bool
geoip_stamp_same(const struct geoip_stamp *a, const struct geoip_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

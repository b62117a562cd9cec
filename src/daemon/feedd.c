/* feedd.c: the feed process; see feedd.h and doc/design/feeds.md.
 *
 * One loop: sleep until the parent speaks or the earliest object is due,
 * then bring each due object up to date and report it.  Every lookup
 * and fetch has a deadline, so one slow source delays the others by at
 * most that.  An object that fails keeps its last contents (the parent
 * never hears an empty set for a failure) and is tried again sooner.
 */
#include "daemon/feedd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/frame.h"
#include "base/log.h"
#include "daemon/child.h"
#include "enforce/feedstore.h"
#include "feeds/feedmsg.h"
#include "feeds/fqdn.h"
#include "feeds/geoip.h"
#include "feeds/urllist.h"
#include "net/dns.h"
#include "net/https.h"
#include "policy/load.h"

#define FETCH_SECS	60	/* one list's fetch, at most */
#define DNS_SECS	10	/* one round of lookups, at most */
#define RETRY_SECS	300	/* a list that failed: tried again after */
#define GEOIP_LOOK_MS	10000	/* how often the database is looked at */
#define LIST_BYTES_MIN	(1u << 20)
#define LIST_BYTES_PER	64	/* bytes a list line may take, for the cap */

struct fobj {
	const struct object	*o;
	uint64_t		 key;
	long long		 due;		/* ms (clock_ms) */
	time_t			 fetched;	/* the last good contents */
	struct fqdn		*fq;		/* fqdn */
	bool			 reported;	/* contents sent once */
};

struct feedd {
	int			 fd;
	uint32_t		 gen;
	struct policy		*p;
	struct fobj		*v;
	size_t			 n;
	struct dns		*dns;
	struct geoip_stamp	 stamp;
	bool			 have_stamp;
	long long		 geoip_look;
};

static time_t
wall(void)
{
	return time(NULL);
}

/* Send one report and its intervals (feedmsg_encode). */
static int
report(struct feedd *d, struct fobj *f, bool ok, struct iset s,
    uint64_t entries, long long next_ms, unsigned failing, const char *error)
{
	struct feed_report r;
	size_t len;
	char *buf;
	int rc;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", f->o->name);
	r.gen = d->gen;
	r.key = f->key;
	r.ok = ok;
	r.failing = failing;
	r.entries = entries;
	r.fetched = ok ? (int64_t)wall() : (int64_t)f->fetched;
	r.next = (int64_t)(wall() + (next_ms - clock_ms()) / 1000);
	snprintf(r.error, sizeof(r.error), "%s", error != NULL ? error : "");
	if ((buf = feedmsg_encode(&r, s, &len)) == NULL)
		return -1;
	rc = frame_send(d->fd, buf, len);
	free(buf);
	if (r.ok) {
		f->fetched = wall();
		f->reported = true;
	}
	return rc;
}

/* The list of a url object, fetched or read: malloc'd, or NULL with why. */
static char *
fetch_list(const struct object *o, size_t *len, char *why, size_t whylen)
{
	const char *url = o->feed.names[0];
	size_t cap = o->feed.max * LIST_BYTES_PER;
	char *body = NULL;

	if (cap < LIST_BYTES_MIN)
		cap = LIST_BYTES_MIN;
	if (strncmp(url, "file://", 7) == 0) {
		/* A FIFO or a device is refused, not waited on (the
		 * console may name the file: doc/design/console.md). */
		if ((body = file_read_regular(url + 7, cap, len)) == NULL)
			snprintf(why, whylen, "%s: %s", url + 7, errno == EFBIG ?
			    "larger than the list may be" : errno == EINVAL ?
			    "not a regular file" : strerror(errno));
		return body;
	}
	const char *ca = NULL;

#ifdef MOAT_TEST_SEAMS
	/* Test builds: the lab's CA, beside the system's. */
	ca = getenv("MOAT_FEEDS_CA_FILE");
#endif
	if (https_get(url, ca, clock_ms() + FETCH_SECS * 1000, cap, &body,
	    len, why, whylen) == -1)
		return NULL;
	return body;
}

static void
do_url(struct feedd *d, struct fobj *f)
{
	const struct object *o = f->o;
	long long retry = (long long)(o->feed.refresh < RETRY_SECS ?
	    o->feed.refresh : RETRY_SECS) * 1000;
	char why[FEEDMSG_ERROR];
	struct arena a;
	struct iset s = { 0, NULL };
	size_t len, entries = 0;
	char *body;

	why[0] = '\0';
	arena_init(&a);
	/* A body of no bytes at all is a server's fault far more often than
	 * an empty list (which a comment line says): refused, like a bad
	 * line, so that it never empties a blocklist. */
	if ((body = fetch_list(o, &len, why, sizeof(why))) != NULL &&
	    len == 0)
		snprintf(why, sizeof(why), "the list is empty (0 bytes); a "
		    "list that is meant to be empty says so with a comment");
	if (body == NULL || len == 0 ||
	    urllist_parse(body, len, o->feed.max, &a, &s, &entries, why,
	    sizeof(why)) == -1) {
		f->due = clock_ms() + retry;
		log_warn("feeds: %s: %s; its last list stays", o->name, why);
		report(d, f, false, s, 0, f->due, 0, why);
	} else {
		f->due = clock_ms() + (long long)o->feed.refresh * 1000;
		report(d, f, true, s, entries, f->due, 0, NULL);
	}
	free(body);
	arena_free(&a);
}

static void
do_fqdn(struct feedd *d, struct fobj *f)
{
	const struct policy *p = d->p;
	long long now = clock_ms();
	char why[FEEDMSG_ERROR];
	struct arena a;
	struct iset s;
	unsigned failing = 0;
	size_t i;

	if (f->fq == NULL)
		return;
	fqdn_refresh(f->fq, d->dns, now, p->dns_min_ttl, p->dns_max_ttl,
	    now + DNS_SECS * 1000);
	why[0] = '\0';
	for (i = 0; i < f->o->feed.n; i++) {
		const char *e = fqdn_error(f->fq, i);

		if (e == NULL)
			continue;
		if (failing++ == 0)
			snprintf(why, sizeof(why), "%s: %s", f->o->feed.names[i],
			    e);
	}
	arena_init(&a);
	now = clock_ms();
	s = fqdn_contents(f->fq, &a, now);
	f->due = fqdn_due(f->fq);
	if (f->due < now + 1000)
		f->due = now + 1000;
	report(d, f, true, s, s.n, f->due, failing, failing ? why : NULL);
	arena_free(&a);
}

static void
do_country(struct feedd *d, struct fobj *f)
{
	const struct object *o = f->o;
	char why[FEEDMSG_ERROR];
	struct arena a;
	struct iset s = { 0, NULL };
	size_t nnets = 0;

	arena_init(&a);
	f->due = clock_ms() + 365LL * 86400 * 1000;	/* until it changes */
	if (geoip_networks(d->p->geoip_database,
	    (const char *const *)o->feed.names, o->feed.n, &a, &s, &nnets, why,
	    sizeof(why)) == -1) {
		log_warn("feeds: %s: %s; its last networks stay", o->name, why);
		f->due = clock_ms() + RETRY_SECS * 1000;
		report(d, f, false, s, 0, f->due, 0, why);
	} else
		report(d, f, true, s, nnets, f->due, 0, NULL);
	arena_free(&a);
}

/* A new GeoIP database (geoipupdate replaced it): every country object
 * is due. */
static void
look_at_geoip(struct feedd *d)
{
	struct geoip_stamp st;
	char err[256];
	size_t i;

	if (d->p->geoip_database == NULL || clock_ms() < d->geoip_look)
		return;
	d->geoip_look = clock_ms() + GEOIP_LOOK_MS;
	if (geoip_stamp(d->p->geoip_database, &st, err, sizeof(err)) == -1)
		return;		/* said by the reading, when it fails */
	if (d->have_stamp && geoip_stamp_same(&st, &d->stamp))
		return;
	if (d->have_stamp)
		log_info("feeds: %s changed: reading the countries again",
		    d->p->geoip_database);
	d->stamp = st;
	d->have_stamp = true;
	for (i = 0; i < d->n; i++)
		if (d->v[i].o->kind == OBJ_COUNTRY)
			d->v[i].due = 0;
}

/* The parent's lines "NAME FETCHED": when each list was last fetched. */
static void
read_fetched(struct feedd *d, const char *s, const char *end)
{
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		char name[FEEDMSG_NAME];
		long long t;
		size_t i;

		if (nl == NULL)
			break;
		if (sscanf(s, "%63s %lld", name, &t) == 2)
			for (i = 0; i < d->n; i++)
				if (strcmp(d->v[i].o->name, name) == 0 &&
				    d->v[i].o->kind == OBJ_URL && t <= wall()) {
					long long age = (long long)(wall() - t);
					long long every = d->v[i].o->feed.refresh;

					d->v[i].fetched = (time_t)t;
					d->v[i].due = age >= every ? 0 :
					    clock_ms() + (every - age) * 1000;
				}
		s = nl + 1;
	}
}

static int
configure(struct feedd *d, const char *msg, size_t len)
{
	const char *nul = memchr(msg, '\0', len);
	size_t tlen = nul != NULL ? (size_t)(nul - msg) : len, i, k;
	char err[256];

	if ((d->p = policy_parse("moat.conf", msg, tlen)) == NULL ||
	    !policy_valid(d->p)) {
		log_error("feeds: the config does not parse here");
		return -1;
	}
	d->v = calloc(policy_nfeeds(d->p) + 1, sizeof(*d->v));
	if (d->v == NULL)
		return -1;
	for (i = 0; i < d->p->nobject; i++) {
		const struct object *o = d->p->objects[i];
		struct fobj *f;

		if (!policy_object_feed(o))
			continue;
		f = &d->v[d->n++];
		f->o = o;
		f->key = feedstore_key(o);
		if (o->kind == OBJ_FQDN &&
		    (f->fq = fqdn_new((const char *const *)o->feed.names,
		    o->feed.n, err, sizeof(err))) == NULL) {
			log_error("feeds: %s: %s", o->name, err);
			return -1;
		}
	}
	if (nul != NULL)
		read_fetched(d, nul + 1, msg + len);
	for (k = 0; k < d->n; k++)
		if (d->v[k].o->kind == OBJ_FQDN && d->dns == NULL &&
		    (d->dns = dns_new(NULL, err, sizeof(err))) == NULL) {
			log_error("feeds: resolver: %s", err);
			return -1;
		}
	log_info("feeds: %zu object%s to follow", d->n, d->n == 1 ? "" : "s");
	return 0;
}

int
feedd_run(int fd)
{
	struct feedd d = { .fd = fd };
	size_t len, i;
	char *msg;

	if ((msg = frame_recv_id(fd, FEEDMSG_CONFIG_MAX, &d.gen, &len)) ==
	    NULL || configure(&d, msg, len) == -1) {
		free(msg);
		return 1;
	}
	free(msg);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long now = clock_ms(), due = now + GEOIP_LOOK_MS;
		struct fobj *next = NULL;

		look_at_geoip(&d);
		for (i = 0; i < d.n; i++)
			if (next == NULL || d.v[i].due < next->due)
				next = &d.v[i];
		if (next != NULL && next->due < due)
			due = next->due;
		if (due > now) {
			if (poll(&pfd, 1, (int)(due - now)) > 0)
				/* The parent never speaks again: it went, or
				 * it starts a new process for a new config. */
				return 0;
			continue;
		}
		switch (next->o->kind) {
		case OBJ_FQDN:
			do_fqdn(&d, next);
			break;
		case OBJ_URL:
			do_url(&d, next);
			break;
		default:
			do_country(&d, next);
			break;
		}
	}
}

int
feedd_main(void)
{
	int rc = child_exec_begin("moatd-feeds", "feeds", FEEDD_ARG,
	    SOCK_STREAM, FEEDS_USER);

	return rc != 0 ? rc : feedd_run(3);
}

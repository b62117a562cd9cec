/* feedmsg.c: the feed process's reports, written and checked; see
 * feedmsg.h. */
#include "feeds/feedmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"

char *
feedmsg_encode(struct feed_report *r, struct iset s, size_t *len)
{
	size_t n4 = 0, n6 = 0;
	unsigned char *buf, *p4, *p6;

	if (r->ok)
		addr_pack_count(s, &n4, &n6);
	if (r->ok && (n4 > (FRAME_MAX - sizeof(*r)) / 8 ||
	    n6 > (FRAME_MAX - sizeof(*r)) / 32 ||
	    n4 * 8 + n6 * 32 > FRAME_MAX - sizeof(*r))) {
		snprintf(r->error, sizeof(r->error), "%zu networks: too many "
		    "to send (at most %u MB)", s.n, FRAME_MAX >> 20);
		r->ok = 0;
	}
	if (!r->ok)
		n4 = n6 = 0;
	r->n4 = n4;
	r->n6 = n6;
	*len = sizeof(*r) + n4 * 8 + n6 * 32;
	if ((buf = malloc(*len)) == NULL)
		return NULL;
	memcpy(buf, r, sizeof(*r));
	p4 = buf + sizeof(*r);
	p6 = p4 + n4 * 8;
	if (r->ok)
		addr_pack(s, p4, p6);
	return (char *)buf;
}

size_t
feedmsg_frame_max(const struct feed_expect *objects, size_t n)
{
	size_t i, max = sizeof(struct feed_report);

	for (i = 0; i < n; i++) {
		uint64_t m = objects[i].max;

		if (m >= (FRAME_MAX - sizeof(struct feed_report)) / 32)
			return FRAME_MAX;
		if (sizeof(struct feed_report) + m * 32 > max)
			max = sizeof(struct feed_report) + (size_t)m * 32;
	}
	return max;
}

/* src (n bytes, maybe without a NUL) as printable ASCII, '?' for any
 * other byte; false when src has no NUL within n. */
static bool
clean(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
	return src[i] == '\0';
}

/* The index of the object named name, or n. */
static size_t
find(const struct feed_expect *objects, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(objects[i].name, name) == 0)
			break;
	return i;
}

struct check {
	const struct feed_report *r;
	const unsigned char	*body;
	struct arena		*a;
	struct feedmsg		*out;
	uint64_t		 addrs;		/* feed_expect's */
	const char		*why;
};

/* The intervals, each in its family and not backwards, into a set. */
static int
take_intervals(void *arg)
{
	struct check *c = arg;
	const struct feed_report *r = c->r;
	const unsigned char *p6 = c->body + r->n4 * 8;
	struct ival *v = arena_array_raw(c->a, r->n4 + r->n6 + 1, sizeof(*v));
	struct ival piece[3];
	size_t i, k, n;
	u128 bound = c->addrs, total = 0;

	for (i = 0; i < r->n4; i++) {
		uint32_t w[2];

		memcpy(w, c->body + i * 8, 8);
		if (w[0] > w[1]) {
			c->why = "an IPv4 interval backwards";
			return -1;
		}
		v[i].lo = V4_BASE | w[0];
		v[i].hi = V4_BASE | w[1];
	}
	for (i = 0; i < r->n6; i++) {
		struct ival *x = &v[r->n4 + i];

		memcpy(&x->lo, p6 + i * 32, 16);
		memcpy(&x->hi, p6 + i * 32 + 16, 16);
		if (x->lo > x->hi) {
			c->why = "an IPv6 interval backwards";
			return -1;
		}
		/* IPv4's block is no IPv6 address (addr.h) */
		if (x->hi >= V4_BASE && x->lo <= V4_LAST) {
			c->why = "an IPv6 interval in the IPv4 block";
			return -1;
		}
	}
	/* An fqdn object holds its names' addresses, a few each: not the
	 * networks a feed process taken over would say they are. */
	for (i = 0; bound != 0 && i < r->n4 + r->n6; i++) {
		if (v[i].hi - v[i].lo >= bound - total) {
			c->why = "more addresses than the object's names can "
			    "have";
			return -1;
		}
		total += v[i].hi - v[i].lo + 1;
	}
	c->out->s = iset_adopt(v, r->n4 + r->n6);
	/* What the kernel's sets of each family will hold (iset_adopt joins
	 * the neighbours on either side of an edge of the block). */
	for (i = 0; i < c->out->s.n; i++)
		for (n = addr_split(&c->out->s.v[i], piece), k = 0; k < n; k++)
			if (addr_family_of(piece[k].lo) == FAM_V4)
				c->out->n4++;
			else
				c->out->n6++;
	return 0;
}

int
feedmsg_check(const char *buf, size_t len, uint32_t gen,
    const struct feed_expect *objects, size_t n, struct arena *a,
    struct feedmsg *out, char *name, char *why, size_t whylen)
{
	struct feed_report r;
	struct check c;
	const char *bad = NULL;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	name[0] = '\0';
	if (len < sizeof(r)) {
		snprintf(why, whylen, "a report of %zu bytes", len);
		return -1;
	}
	memcpy(&r, buf, sizeof(r));
	if (r.gen != gen)
		return 0;	/* for a config no longer in force */
	if (!clean(name, r.name, FEEDMSG_NAME))
		bad = "a name without its end";
	else if ((i = find(objects, n, r.name)) == n ||
	    r.key != objects[i].key)
		bad = "an object of no config in force";
	else if (r.ok > 1 || (!r.ok && (r.n4 | r.n6) != 0) ||
	    r.failing > objects[i].names)
		bad = "a malformed report";
	else if (!clean(out->error, r.error, sizeof(out->error)))
		bad = "an error without its end";
	else if (r.next < 0 || r.next > FEEDMSG_TIME_MAX ||
	    r.entries > INT64_MAX)
		bad = "a time or a count out of range";
	else if (r.n4 > objects[i].max || r.n6 > objects[i].max ||
	    r.n4 + r.n6 > objects[i].max)
		bad = "more networks than the object's max";
	else if (r.n4 > FRAME_MAX / 8 || r.n6 > FRAME_MAX / 32 ||
	    len != sizeof(r) + r.n4 * 8 + r.n6 * 32)
		bad = "a length that is not its contents'";
	if (bad != NULL) {
		snprintf(why, whylen, "%s", bad);
		return -1;
	}
	out->obj = i;
	out->ok = r.ok;
	out->failing = r.failing;
	out->entries = r.entries;
	out->next = r.next;
	if (!r.ok)
		return 1;
	c = (struct check){ &r, (const unsigned char *)buf + sizeof(r), a,
	    out, objects[i].addrs, NULL };
	if (arena_catch(a, take_intervals, &c) == -1) {
		snprintf(why, whylen, "%s", c.why != NULL ? c.why :
		    "out of memory");
		return -1;
	}
	return 1;
}

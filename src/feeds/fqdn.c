/* fqdn.c: an fqdn object's names and their addresses over time (fqdn.h).
 *
 * Three rules keep a rule that names a host from breaking the flows it is
 * meant for.  A name refreshes at its answer's TTL (clamped: a TTL of 0
 * must not make us ask in a loop, a week-long one must not hide a move).
 * An address that leaves the answer stays one TTL more, so a connection
 * opened a moment before still matches (round-robin DNS rotates its
 * addresses on every answer).  A name whose lookup fails keeps its last
 * good addresses and is asked again soon: a resolver's bad minute must not
 * empty a set that lets traffic through, or let through what it blocks.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/strbuf.h"
#include "feeds/fqdn.h"

struct held {
	u128		 addr;
	bool		 current;	/* in the last answer */
	unsigned	 ttl_s;		/* the TTL it came with, clamped */
	long long	 until;		/* not current: its grace ends then */
};

struct name {
	char		 name[DNS_NAME_MAX];
	long long	 next;		/* ms: ask again then */
	bool		 failing;
	char		 err[400];	/* the name, and what its answer said */
	size_t		 n;
	struct held	 addr[FQDN_ADDR_MAX];
};

struct fqdn {
	size_t		 n;
	struct name	*names;
};

struct fqdn *
fqdn_new(const char *const *names, size_t n, char *err, size_t errlen)
{
	struct fqdn *f;
	size_t i;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (n > 0 && (f->names = calloc(n, sizeof(*f->names))) == NULL)) {
		snprintf(err, errlen, "out of memory");
		free(f);
		return NULL;
	}
	f->n = n;
	for (i = 0; i < n; i++) {
		if (dns_hostname(names[i], f->names[i].name,
		    sizeof(f->names[i].name)) == -1) {
			snprintf(err, errlen, "'%.*s' is not a host name", 100,
			    names[i]);
			fqdn_free(f);
			return NULL;
		}
	}
	return f;
}

void
fqdn_free(struct fqdn *f)
{
	if (f == NULL)
		return;
	free(f->names);
	free(f);
}

size_t
fqdn_count(const struct fqdn *f)
{
	return f->n;
}

const char *
fqdn_name(const struct fqdn *f, size_t i)
{
	return i < f->n ? f->names[i].name : NULL;
}

long long
fqdn_due(const struct fqdn *f)
{
	long long due = LLONG_MAX;
	size_t i, k;

	for (i = 0; i < f->n; i++) {
		const struct name *nm = &f->names[i];

		if (nm->next < due)
			due = nm->next;
		for (k = 0; k < nm->n; k++)
			if (!nm->addr[k].current && nm->addr[k].until < due)
				due = nm->addr[k].until;
	}
	return due;
}

static unsigned
clamp(uint32_t ttl, unsigned min_ttl_s, unsigned max_ttl_s)
{
	unsigned t = ttl;

	if (max_ttl_s < min_ttl_s)
		max_ttl_s = min_ttl_s;
	if (t < min_ttl_s)
		t = min_ttl_s;
	if (t > max_ttl_s)
		t = max_ttl_s;
	return t == 0 ? 1 : t;
}

/* Drop the addresses whose grace is over at now. */
static void
prune(struct name *nm, long long now)
{
	size_t k, out = 0;

	for (k = 0; k < nm->n; k++)
		if (nm->addr[k].current || nm->addr[k].until > now)
			nm->addr[out++] = nm->addr[k];
	nm->n = out;
}

static struct held *
find(struct name *nm, u128 a)
{
	size_t k;

	for (k = 0; k < nm->n; k++)
		if (nm->addr[k].addr == a)
			return &nm->addr[k];
	return NULL;
}

/* Room for one more: the grace address that ends first goes (current
 * ones are at most 2 * DNS_RR_MAX, far below the cap). */
static struct held *
add(struct name *nm)
{
	size_t k, first = 0;
	bool any = false;

	if (nm->n < FQDN_ADDR_MAX)
		return &nm->addr[nm->n++];
	for (k = 0; k < nm->n; k++)
		if (!nm->addr[k].current && (!any ||
		    nm->addr[k].until < nm->addr[first].until)) {
			first = k;
			any = true;
		}
	return any ? &nm->addr[first] : NULL;
}

void
fqdn_answer_family(struct fqdn *f, size_t i, long long now,
    const u128 *addrs, size_t n, uint32_t ttl, unsigned min_ttl_s,
    unsigned max_ttl_s, enum addr_family fam, const char *why)
{
	struct name *nm;
	unsigned t = clamp(ttl, min_ttl_s, max_ttl_s);
	size_t k;

	if (i >= f->n)
		return;
	if (n == 0) {
		fqdn_fail(f, i, now, why != NULL ? why : "no address",
		    min_ttl_s);
		return;
	}
	nm = &f->names[i];
	prune(nm, now);
	/* The previous answer's addresses start their grace: one TTL more,
	 * the one they came with.  One still in the answer is current
	 * again below. */
	for (k = 0; k < nm->n; k++)
		if (nm->addr[k].current && (fam == FAM_NONE ||
		    addr_family_of(nm->addr[k].addr) == fam)) {
			nm->addr[k].current = false;
			nm->addr[k].until = now + (long long)nm->addr[k].ttl_s *
			    1000;
		}
	for (k = 0; k < n; k++) {
		struct held *h = find(nm, addrs[k]);

		if (h == NULL && (h = add(nm)) == NULL)
			break;
		h->addr = addrs[k];
		h->current = true;
		h->ttl_s = t;
		h->until = 0;
	}
	if (fam != FAM_NONE) {
		/* the family that failed is asked again soon */
		nm->next = now + (long long)(min_ttl_s == 0 ? 1 : min_ttl_s) *
		    1000;
		nm->failing = true;
		snprintf(nm->err, sizeof(nm->err), "%s", why);
		return;
	}
	nm->next = now + (long long)t * 1000;
	nm->failing = false;
	nm->err[0] = '\0';
}

void
fqdn_answer(struct fqdn *f, size_t i, long long now, const u128 *addrs,
    size_t n, uint32_t ttl, unsigned min_ttl_s, unsigned max_ttl_s)
{
	fqdn_answer_family(f, i, now, addrs, n, ttl, min_ttl_s, max_ttl_s,
	    FAM_NONE, NULL);
}

void
fqdn_fail(struct fqdn *f, size_t i, long long now, const char *why,
    unsigned min_ttl_s)
{
	struct name *nm;

	if (i >= f->n)
		return;
	nm = &f->names[i];
	prune(nm, now);
	nm->next = now + (long long)(min_ttl_s == 0 ? 1 : min_ttl_s) * 1000;
	nm->failing = true;
	snprintf(nm->err, sizeof(nm->err), "%s", why);
}

/* The addresses of one name's nq answers (A, AAAA; or one of them) into
 * out; -1 with why when the name fails. */
static int
take(const struct dns_query *q, size_t nq, u128 *out, size_t *n,
    uint32_t *ttl, char *why, size_t whylen)
{
	size_t j, k;
	bool nx = true, any_ttl = false;

	*n = 0;
	*ttl = 0;
	for (j = 0; j < nq; j++) {
		if (q[j].status != DNS_SECURE && q[j].status != DNS_INSECURE) {
			str_say(why, whylen, "%s %s: %s", q[j].name,
			    q[j].type == DNS_T_A ? "A" : "AAAA", q[j].why);
			return -1;
		}
		nx = nx && q[j].nxdomain;
		for (k = 0; k < q[j].nrr; k++) {
			const uint8_t *p = q[j].rr[k].data;
			u128 a = 0;
			size_t b;

			if (q[j].rr[k].len != (q[j].type == DNS_T_A ? 4 : 16))
				continue;
			for (b = 0; b < q[j].rr[k].len; b++)
				a = a << 8 | p[b];
			if (q[j].type == DNS_T_A)
				a |= V4_BASE;
			/* an AAAA of the IPv4-mapped block is no IPv6
			 * packet's address (addr.h): not taken */
			if (q[j].type == DNS_T_AAAA && (a >> 32) == 0xffff)
				continue;
			out[(*n)++] = a;
		}
		if (q[j].nrr > 0 && (!any_ttl || q[j].ttl < *ttl)) {
			*ttl = q[j].ttl;
			any_ttl = true;
		}
	}
	if (*n == 0) {
		str_say(why, whylen, "%s: %s", q[0].name, nx ?
		    "no such name" : "no address");
		return -1;
	}
	return 0;
}

void
fqdn_refresh(struct fqdn *f, struct dns *d, long long now,
    unsigned min_ttl_s, unsigned max_ttl_s, long long deadline)
{
	struct dns_query *q;
	size_t *idx, i, nq = 0;

	if (f->n == 0)
		return;
	q = calloc(2 * f->n, sizeof(*q));
	idx = calloc(f->n, sizeof(*idx));
	if (q == NULL || idx == NULL) {
		for (i = 0; i < f->n; i++)
			if (f->names[i].next <= now)
				fqdn_fail(f, i, now, "out of memory", min_ttl_s);
		goto done;
	}
	for (i = 0; i < f->n; i++) {
		prune(&f->names[i], now);
		if (f->names[i].next > now)
			continue;
		dns_query_init(&q[2 * nq], f->names[i].name, DNS_T_A);
		dns_query_init(&q[2 * nq + 1], f->names[i].name, DNS_T_AAAA);
		idx[nq++] = i;
	}
	if (nq == 0)
		goto done;
	dns_resolve(d, q, 2 * nq, deadline);
	for (i = 0; i < nq; i++) {
		u128 addrs[2 * DNS_RR_MAX];
		size_t n;
		uint32_t ttl;
		char why[400];

		const struct dns_query *a = &q[2 * i];
		bool ok4 = a[0].status == DNS_SECURE ||
		    a[0].status == DNS_INSECURE, ok6 = a[1].status ==
		    DNS_SECURE || a[1].status == DNS_INSECURE;
		char why2[400];

		if (ok4 != ok6) {
			/* One question failed (a SERVFAIL on AAAA is common
			 * of broken servers): the other's addresses are
			 * taken, the failed family's kept, and it is asked
			 * again soon (both were thrown away, and the name's
			 * old A records kept while AAAA failed). */
			const struct dns_query *bad = ok4 ? &a[1] : &a[0];

			str_say(why2, sizeof(why2), "%s %s: %s", bad->name,
			    bad->type == DNS_T_A ? "A" : "AAAA", bad->why);
			if (take(ok4 ? &a[0] : &a[1], 1, addrs, &n, &ttl, why,
			    sizeof(why)) == -1)
				fqdn_fail(f, idx[i], now, why2, min_ttl_s);
			else
				fqdn_answer_family(f, idx[i], now, addrs, n,
				    ttl, min_ttl_s, max_ttl_s, ok4 ? FAM_V4 :
				    FAM_V6, why2);
		} else if (take(a, 2, addrs, &n, &ttl, why, sizeof(why)) == -1)
			fqdn_fail(f, idx[i], now, why, min_ttl_s);
		else
			fqdn_answer(f, idx[i], now, addrs, n, ttl, min_ttl_s,
			    max_ttl_s);
		dns_query_clear(&q[2 * i]);
		dns_query_clear(&q[2 * i + 1]);
	}
done:
	free(q);
	free(idx);
}

struct iset
fqdn_contents(const struct fqdn *f, struct arena *a, long long now)
{
	struct ival *v;
	struct iset s;
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < f->n; i++)
		total += f->names[i].n;
	if (total == 0) {
		s.n = 0;
		s.v = NULL;
		return s;
	}
	v = arena_array_raw(a, total, sizeof(*v));
	for (i = 0; i < f->n; i++) {
		const struct name *nm = &f->names[i];

		for (k = 0; k < nm->n; k++)
			if (nm->addr[k].current || nm->addr[k].until > now) {
				v[n].lo = v[n].hi = nm->addr[k].addr;
				n++;
			}
	}
	return iset_from(a, v, n);
}

const char *
fqdn_error(const struct fqdn *f, size_t i)
{
	return i < f->n && f->names[i].failing ? f->names[i].err : NULL;
}

size_t
fqdn_failing(const struct fqdn *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->names[i].failing;
	return n;
}

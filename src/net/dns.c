/* dns.c: the one file that talks to libunbound (dns.h).
 *
 * One context for the whole proxy (or the feeds process), so that every
 * session shares its cache (keys, DS chains, answers) and the trust anchor
 * is read once.  libunbound resolves on a thread of its own (ub_ctx_async 1: a
 * forked helper would outlive a reload and hold the parent's memory) and
 * hands answers over a pipe that someone must read (ub_process).  The
 * sessions take turns at that: one of the waiting threads polls the pipe
 * and runs the callbacks, which only fill a query and mark it done, the
 * others sleep on a condition variable until it has; all of that under one
 * mutex, so a query given up at its deadline (ub_cancel) can never be
 * filled after its thread has left.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <idn2.h>
#include <unbound.h>

#include "base/clock.h"
#include "net/dns.h"

struct dns {
	struct ub_ctx	*ub;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 polling;	/* a thread polls the answer pipe now */
};

/* A query on its way; the callback's only link to it. */
struct pending {
	struct dns_query	*q;
	int			 id;
	bool			 done;
};

long long
dns_now(void)
{
	return clock_ms();
}

struct dns *
dns_new(const char *ta, char *err, size_t errlen)
{
	struct dns *d;
	pthread_condattr_t ca;
	FILE *fp;
	int r;

	/* libunbound reads the anchor only at the first query; a missing
	 * file is the administrator's mistake, to be told at load time. */
	if (ta != NULL && (fp = fopen(ta, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", ta, strerror(errno));
		return NULL;
	}
	if (ta != NULL)
		fclose(fp);
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->ub = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(d);
		return NULL;
	}
	/* Without an anchor, a stub of the system's resolver: its servers,
	 * its hosts file (a missing one is no error, as for libc), and no
	 * DNSSEC (libunbound validates only from an anchor). */
	if ((r = ub_ctx_async(d->ub, 1)) != 0 ||
	    (r = ub_ctx_resolvconf(d->ub, NULL)) != 0 ||
	    (ta != NULL && (r = ub_ctx_add_ta_file(d->ub, ta)) != 0) ||
	    (ta == NULL && (r = ub_ctx_hosts(d->ub, NULL)) != 0 &&
	    r != UB_READFILE)) {
		snprintf(err, errlen, "resolver: %s", ub_strerror(r));
		ub_ctx_delete(d->ub);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	return d;
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	ub_ctx_delete(d->ub);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

void
dns_query_init(struct dns_query *q, const char *name, uint16_t type)
{
	memset(q, 0, sizeof(*q));
	q->too_long = (size_t)snprintf(q->name, sizeof(q->name), "%s", name) >=
	    sizeof(q->name);
	q->type = type;
	q->status = DNS_FAIL;
	snprintf(q->why, sizeof(q->why), "not asked");
}

void
dns_query_clear(struct dns_query *q)
{
	size_t i;

	for (i = 0; i < q->nrr; i++)
		free(q->rr[i].data);
	q->nrr = 0;
}

/* libunbound's answer into the query; called under d->mu. */
static void
answered(void *arg, int err, struct ub_result *res)
{
	struct pending *p = arg;
	struct dns_query *q = p->q;
	size_t i;

	p->done = true;
	q->why[0] = '\0';
	if (err != 0 || res == NULL) {
		q->status = DNS_FAIL;
		snprintf(q->why, sizeof(q->why), "%s", ub_strerror(err));
		goto done;
	}
	if (res->bogus) {
		q->status = DNS_BOGUS;
		snprintf(q->why, sizeof(q->why), "DNSSEC bogus: %s",
		    res->why_bogus != NULL ? res->why_bogus : "no reason given");
		goto done;
	}
	if (res->rcode != 0 && res->rcode != 3) {
		q->status = DNS_FAIL;
		snprintf(q->why, sizeof(q->why), "rcode %d", res->rcode);
		goto done;
	}
	q->status = res->secure ? DNS_SECURE : DNS_INSECURE;
	q->nxdomain = res->nxdomain;
	q->ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
	for (i = 0; res->havedata && res->data[i] != NULL; i++) {
		struct dns_rr *rr;

		/* Caps on what an answer may make us hold; an answer
		 * over them loses its tail, which no caller needs. */
		if (q->nrr == DNS_RR_MAX)
			break;
		if (res->len[i] <= 0 || res->len[i] > DNS_RDATA_MAX)
			continue;
		rr = &q->rr[q->nrr];
		if ((rr->data = malloc((size_t)res->len[i])) == NULL) {
			dns_query_clear(q);
			q->status = DNS_FAIL;
			snprintf(q->why, sizeof(q->why), "out of memory");
			break;
		}
		memcpy(rr->data, res->data[i], (size_t)res->len[i]);
		rr->len = (uint16_t)res->len[i];
		q->nrr++;
	}
done:
	if (res != NULL)
		ub_resolve_free(res);
}

static bool
all_done(const struct pending *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!p[i].done)
			return false;
	return true;
}

void
dns_resolve(struct dns *d, struct dns_query *q, size_t n, long long deadline)
{
	struct pending *p;
	size_t i;
	int r;

	if (n == 0)
		return;
	if ((p = calloc(n, sizeof(*p))) == NULL) {
		for (i = 0; i < n; i++)
			snprintf(q[i].why, sizeof(q[i].why), "out of memory");
		return;
	}
	pthread_mutex_lock(&d->mu);
	for (i = 0; i < n; i++) {
		p[i].q = &q[i];
		dns_query_clear(&q[i]);
		q[i].status = DNS_FAIL;
		q[i].ttl = 0;
		if (q[i].too_long) {
			p[i].done = true;
			snprintf(q[i].why, sizeof(q[i].why), "a name longer "
			    "than DNS allows");
			continue;
		}
		r = ub_resolve_async(d->ub, q[i].name, q[i].type, 1, &p[i],
		    answered, &p[i].id);
		if (r != 0) {
			p[i].done = true;
			snprintf(q[i].why, sizeof(q[i].why), "%s",
			    ub_strerror(r));
		}
	}
	while (!all_done(p, n)) {
		long long left = deadline - dns_now();

		if (left <= 0)
			break;
		if (!d->polling) {
			struct pollfd pfd;

			d->polling = true;
			pthread_mutex_unlock(&d->mu);
			pfd.fd = ub_fd(d->ub);
			pfd.events = POLLIN;
			r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
			pthread_mutex_lock(&d->mu);
			if (r > 0)
				ub_process(d->ub);
			d->polling = false;
			pthread_cond_broadcast(&d->cv);
		} else {
			struct timespec ts;

			ts.tv_sec = deadline / 1000;
			ts.tv_nsec = (deadline % 1000) * 1000000;
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		}
	}
	for (i = 0; i < n; i++) {
		if (p[i].done)
			continue;
		ub_cancel(d->ub, p[i].id);
		q[i].status = DNS_FAIL;
		snprintf(q[i].why, sizeof(q[i].why), "no answer in time");
	}
	pthread_mutex_unlock(&d->mu);
	free(p);
}

static int
hostchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

int
dns_name_parse(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t off = 0, o = 0;

	for (;;) {
		size_t len, i;

		if (off >= n)
			return -1;
		len = p[off++];
		if (len == 0)
			break;
		/* a compression pointer, or a label over 63 */
		if (len > 63 || off + len > n)
			return -1;
		if (o != 0) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = '.';
		}
		if (o + len >= outlen || o + len >= DNS_NAME_MAX)
			return -1;
		for (i = 0; i < len; i++) {
			int c = p[off + i];

			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (!hostchar(c))
				return -1;
			out[o++] = (char)c;
		}
		off += len;
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return (int)off;
}

int
dns_hostname(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s), i, label = 0;
	const char *u;

	/* A name in Unicode (an SMTPUTF8 recipient's domain, "bücher.de")
	 * is looked up as its A-labels ("xn--bcher-kva.de"): its TLSA and
	 * MTA-STS records are published there, and without them its mail
	 * went in clear (a review, 2026-12-07). */
	for (u = s; *u != '\0' && (unsigned char)*u < 0x80; u++)
		;
	if (*u != '\0') {
		char *a = NULL;
		int rc;

		if (idn2_to_ascii_8z(s, &a, IDN2_NFC_INPUT |
		    IDN2_NONTRANSITIONAL) != IDN2_OK) {
			free(a);
			return -1;
		}
		for (u = a; *u != '\0' && (unsigned char)*u < 0x80; u++)
			;
		rc = *u == '\0' ? dns_hostname(a, out, outlen) : -1;
		free(a);
		return rc;
	}

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= DNS_NAME_MAX || n >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (!hostchar(c) || ++label > 63)
			return -1;
		out[i] = (char)c;
	}
	if (label == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* mtasts.c: MTA-STS (mtasts.h): the TXT record and policy parsers, the
 * HTTPS fetch of the policy (net/https.c), and the cache.
 *
 * Everything here reads what an attacker may write: the TXT record comes
 * from DNS that MTA-STS does not require to be signed, and the policy from
 * whatever answers at mta-sts.DOMAIN with a certificate some CA signed.
 * So the parsers take lengths, never trust a NUL, and fail on the first
 * thing wrong; the fetch holds at most MTASTS_BODY_MAX and a header's
 * room, and every wait (DNS, connect, handshake, read) ends at the
 * caller's deadline.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strbuf.h"
#include "net/https.h"
#include "smtp/mtasts.h"

static bool
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static bool
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 8461's sts-ext-name and policy field names: (ALPHA / DIGIT)
 * *31(ALPHA / DIGIT / "_" / "-" / ".") */
static bool
field_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 32 || !is_alnum((unsigned char)s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int
mtasts_txt_parse(const char *s, size_t n, char *id)
{
	static const char v[] = "v=STSv1";
	size_t i = sizeof(v) - 1;
	bool have_id = false;

	id[0] = '\0';
	if (n < i || memcmp(s, v, i) != 0)
		return -1;
	for (;;) {
		size_t name, nlen, val, vlen;

		while (i < n && is_wsp(s[i]))
			i++;
		if (i == n)
			break;
		if (s[i++] != ';')
			return -1;
		while (i < n && is_wsp(s[i]))
			i++;
		if (i == n)
			break;		/* a trailing ';' */
		for (name = i; i < n && s[i] != '='; i++)
			;
		nlen = i - name;
		if (i == n || !field_name(s + name, nlen))
			return -1;
		i++;
		for (val = i; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
				break;
		}
		vlen = i - val;
		if (vlen == 0)
			return -1;
		if (nlen == 2 && memcmp(s + name, "id", 2) == 0 && !have_id) {
			size_t k;

			if (vlen > MTASTS_ID_MAX)
				return -1;
			for (k = 0; k < vlen; k++)
				if (!is_alnum((unsigned char)s[val + k]))
					return -1;
			memcpy(id, s + val, vlen);
			id[vlen] = '\0';
			have_id = true;
		}
	}
	return have_id ? 0 : -1;
}

static int
add_mx(struct mtasts_policy *p, const char *v, size_t n, unsigned *used)
{
	char pat[DNS_NAME_MAX + 2], host[DNS_NAME_MAX];
	size_t len, skip = 0;

	if (n >= sizeof(pat))
		return -1;
	memcpy(pat, v, n);
	pat[n] = '\0';
	if (n > 2 && pat[0] == '*' && pat[1] == '.')
		skip = 2;
	if (dns_hostname(pat + skip, host, sizeof(host)) == -1)
		return -1;
	if (p->nmx == MTASTS_MX_MAX)
		return -2;
	len = skip + strlen(host);
	if (*used + len + 1 > sizeof(p->buf))
		return -2;
	p->mx[p->nmx++] = (unsigned short)*used;
	memcpy(p->buf + *used, pat, skip);
	memcpy(p->buf + *used + skip, host, strlen(host) + 1);
	*used += (unsigned)len + 1;
	return 0;
}

int
mtasts_policy_parse(const char *s, size_t n, struct mtasts_policy *p,
    char *why, size_t whylen)
{
	bool version = false, mode = false, max_age = false;
	unsigned used = 0, line = 0;
	size_t off = 0;

	memset(p, 0, sizeof(*p));
	while (off < n) {
		const char *l = s + off, *end, *colon, *v;
		size_t len, klen, vlen, i;

		line++;
		end = memchr(l, '\n', n - off);
		len = end != NULL ? (size_t)(end - l) : n - off;
		off += len + (end != NULL);
		if (len > 0 && l[len - 1] == '\r')
			len--;
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)l[i];

			if ((c < 0x20 && c != '\t') || c > 0x7e) {
				snprintf(why, whylen, "line %u: a control or "
				    "non-ASCII byte (0x%02x)", line, c);
				return -1;
			}
		}
		while (len > 0 && is_wsp(l[len - 1]))
			len--;
		if (len == 0)
			continue;
		if ((colon = memchr(l, ':', len)) == NULL) {
			snprintf(why, whylen, "line %u: no ':'", line);
			return -1;
		}
		klen = (size_t)(colon - l);
		if (!field_name(l, klen)) {
			snprintf(why, whylen, "line %u: not a field name", line);
			return -1;
		}
		v = colon + 1;
		vlen = len - klen - 1;
		while (vlen > 0 && is_wsp(*v)) {
			v++;
			vlen--;
		}
#define KEY(k)	(klen == sizeof(k) - 1 && memcmp(l, k, klen) == 0)
#define VAL(x)	(vlen == sizeof(x) - 1 && memcmp(v, x, vlen) == 0)
		if (KEY("version")) {
			if (version)
				continue;
			if (!VAL("STSv1")) {
				snprintf(why, whylen, "line %u: version is not "
				    "STSv1", line);
				return -1;
			}
			version = true;
		} else if (KEY("mode")) {
			if (mode)
				continue;
			if (VAL("enforce"))
				p->mode = MTASTS_ENFORCE;
			else if (VAL("testing"))
				p->mode = MTASTS_TESTING;
			else if (VAL("none"))
				p->mode = MTASTS_NONE;
			else {
				snprintf(why, whylen, "line %u: mode is not "
				    "enforce, testing or none", line);
				return -1;
			}
			mode = true;
		} else if (KEY("max_age")) {
			long long age = 0;

			if (max_age)
				continue;
			if (vlen == 0 || vlen > 10) {
				snprintf(why, whylen, "line %u: max_age is not "
				    "1 to 10 digits", line);
				return -1;
			}
			for (i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9') {
					snprintf(why, whylen, "line %u: max_age "
					    "is not a number", line);
					return -1;
				}
				age = age * 10 + (v[i] - '0');
			}
			p->max_age = age > MTASTS_MAX_AGE_MAX ?
			    MTASTS_MAX_AGE_MAX : (long)age;
			max_age = true;
		} else if (KEY("mx")) {
			int r = add_mx(p, v, vlen, &used);

			if (r == -1) {
				snprintf(why, whylen, "line %u: mx is not a "
				    "host name or *.name pattern", line);
				return -1;
			}
			if (r == -2) {
				snprintf(why, whylen, "line %u: more mx "
				    "patterns than %d", line, MTASTS_MX_MAX);
				return -1;
			}
		}
#undef KEY
#undef VAL
		/* any other key: an extension, ignored (RFC 8461 3.2) */
	}
	if (!version || !mode || !max_age) {
		snprintf(why, whylen, "no %s", !version ? "version" :
		    !mode ? "mode" : "max_age");
		return -1;
	}
	if (p->mode != MTASTS_NONE && p->nmx == 0) {
		snprintf(why, whylen, "no mx");
		return -1;
	}
	return 0;
}

const char *
mtasts_mx(const struct mtasts_policy *p, unsigned i)
{
	return i < p->nmx ? p->buf + p->mx[i] : NULL;
}

bool
mtasts_mx_match(const char *pattern, const char *host)
{
	size_t pl, hl;

	if (pattern[0] != '*' || pattern[1] != '.')
		return strcasecmp(pattern, host) == 0;
	/* "*.example.net": exactly one more label, leftmost */
	pattern++;
	pl = strlen(pattern);
	hl = strlen(host);
	if (hl <= pl || strcasecmp(host + hl - pl, pattern) != 0)
		return false;
	return memchr(host, '.', hl - pl) == NULL;
}

bool
mtasts_policy_match(const struct mtasts_policy *p, const char *host)
{
	unsigned i;

	for (i = 0; i < p->nmx; i++)
		if (mtasts_mx_match(mtasts_mx(p, i), host))
			return true;
	return false;
}

/* ---- the fetch ---- */

struct entry {
	char			 domain[DNS_NAME_MAX];
	char			 id[MTASTS_ID_MAX + 1];
	long long		 expires;	/* ms, dns_now's clock */
	long long		 stored;
	unsigned		 uses;		/* lookups that found it */
	struct mtasts_policy	 policy;
};

struct mtasts {
	struct dns	*dns;
	struct https	*https;		/* the caller's trust, our resolver */
};

/* The policies, one cache for the process, not for a configuration: a
 * reload (a new signature database, several times a day) must not forget
 * them, since RFC 8461's protection against an active attacker is the
 * policy cached before the attack. */
static struct {
	pthread_mutex_t	 mu;
	struct entry	*cache[MTASTS_CACHE_MAX];
	size_t		 n;
} pcache = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct mtasts *
mtasts_new(struct dns *d, gnutls_certificate_credentials_t cred)
{
	struct mtasts *m;

	char err[200];

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->dns = d;
	if ((m->https = https_new_cred(cred, d, err, sizeof(err))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
mtasts_free(struct mtasts *m)
{
	if (m == NULL)
		return;
	https_free(m->https);
	free(m);	/* the cache stays: it is the process's */
}

/* Is a Content-Type text/plain (RFC 8461 3.3), parameters or none? */
static bool
plain_text(const char *v)
{
	return strncasecmp(v, "text/plain", 10) == 0 &&
	    (v[10] == '\0' || v[10] == ';' || is_wsp(v[10]));
}

/* GET the policy of domain: its body into a buffer of ours (*out, the
 * caller frees), 0; -1 with why. */
static int
fetch(struct mtasts *m, const char *domain, long long deadline, char **out,
    size_t *outlen, char *why, size_t whylen)
{
	char url[DNS_NAME_MAX + 64], ctype[128];

	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt",
	    domain);
	if (https_fetch(m->https, url, deadline, MTASTS_BODY_MAX, out, outlen,
	    ctype, sizeof(ctype), why, whylen) == -1)
		return -1;
	if (!plain_text(ctype)) {
		str_say(why, whylen, "mta-sts.%s: not text/plain", domain);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* The TXT record of domain: 1 with its id, 0 none (or a DNS failure,
 * said in why). */
static int
txt_id(struct mtasts *m, const char *domain, long long deadline, char *id,
    char *why, size_t whylen)
{
	struct dns_query q;
	char name[DNS_NAME_MAX + 16], text[DNS_RDATA_MAX + 1];
	size_t i, found = 0;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	dns_query_init(&q, name, DNS_T_TXT);
	dns_resolve(m->dns, &q, 1, deadline);
	if (q.status != DNS_SECURE && q.status != DNS_INSECURE) {
		str_say(why, whylen, "%s TXT: %s", name, q.why);
		dns_query_clear(&q);
		return 0;
	}
	for (i = 0; i < q.nrr; i++) {
		const uint8_t *p = q.rr[i].data;
		size_t n = q.rr[i].len, off = 0, tl = 0;
		char rid[MTASTS_ID_MAX + 1];

		/* the record's strings, joined */
		while (off < n) {
			size_t sl = p[off++];

			if (off + sl > n)
				break;
			memcpy(text + tl, p + off, sl);
			tl += sl;
			off += sl;
		}
		if (tl < 7 || memcmp(text, "v=STSv1", 7) != 0)
			continue;
		/* RFC 8461 3.1: not one valid record, no policy */
		if (++found > 1 || mtasts_txt_parse(text, tl, rid) == -1) {
			found = 2;
			break;
		}
		memcpy(id, rid, sizeof(rid));
	}
	dns_query_clear(&q);
	if (found != 1) {
		str_say(why, whylen, "%s: %s", name, found == 0 ?
		    "no MTA-STS record" : "not exactly one valid MTA-STS record");
		return 0;
	}
	return 1;
}

/* The cache's entry for domain, or NULL; under pcache.mu. */
static struct entry *
lookup(const char *domain, long long now)
{
	size_t i;

	for (i = 0; i < pcache.n; i++) {
		if (strcmp(pcache.cache[i]->domain, domain) != 0)
			continue;
		if (pcache.cache[i]->expires > now)
			return pcache.cache[i];
		free(pcache.cache[i]);
		pcache.cache[i] = pcache.cache[--pcache.n];
		return NULL;
	}
	return NULL;
}

/* Whether a goes before b: one that is not enforce, then one found
 * fewer times since it was stored (a domain mailed once), then the
 * older. */
static bool
evict_before(const struct entry *a, const struct entry *b)
{
	bool ea = a->policy.mode == MTASTS_ENFORCE,
	    eb = b->policy.mode == MTASTS_ENFORCE;

	if (ea != eb)
		return !ea;
	if ((a->uses > 0) != (b->uses > 0))
		return a->uses == 0;
	return a->stored < b->stored;
}

/* The expired entries gone; under pcache.mu. */
static void
purge(long long now)
{
	size_t i = 0;

	while (i < pcache.n)
		if (pcache.cache[i]->expires <= now) {
			free(pcache.cache[i]);
			pcache.cache[i] = pcache.cache[--pcache.n];
		} else
			i++;
}

static void
store(const char *domain, const char *id,
    const struct mtasts_policy *p, long long now)
{
	struct entry *e;
	size_t i, old = 0;

	pthread_mutex_lock(&pcache.mu);
	if ((e = lookup(domain, now)) == NULL) {
		if (pcache.n == MTASTS_CACHE_MAX)
			purge(now);
		if (pcache.n == MTASTS_CACHE_MAX) {
			/* the oldest, an enforce policy last: a client that
			 * names many domains must not push out the policies
			 * that protect mail */
			for (i = 1; i < pcache.n; i++)
				if (evict_before(pcache.cache[i],
				    pcache.cache[old]))
					old = i;
			/* Full of enforce policies of domains mailed again:
			 * the newcomer is not kept (it applies to this mail
			 * all the same) rather than push out one that
			 * protects mail, as 1,024 domains of an attacker's,
			 * each mailed once, would (review, 2026-12-07); those
			 * go first. */
			e = pcache.cache[old]->policy.mode == MTASTS_ENFORCE &&
			    pcache.cache[old]->uses > 0 ? NULL :
			    pcache.cache[old];
		} else if ((e = malloc(sizeof(*e))) != NULL)
			pcache.cache[pcache.n++] = e;
	}
	if (e != NULL) {
		snprintf(e->domain, sizeof(e->domain), "%s", domain);
		snprintf(e->id, sizeof(e->id), "%s", id);
		e->policy = *p;
		e->stored = now;
		e->uses = 0;
		e->expires = now + (long long)p->max_age * 1000;
	}
	pthread_mutex_unlock(&pcache.mu);
}

#ifdef MOAT_TEST_SEAMS
/* The cache alone, for the tests: p kept for domain as a fetch would
 * keep it; whether domain's policy is cached now (its mode, or -1). */
void
mtasts_test_store(const char *domain, const struct mtasts_policy *p)
{
	store(domain, "test", p, dns_now());
}

int
mtasts_test_cached(const char *domain)
{
	struct entry *e;
	int mode;

	pthread_mutex_lock(&pcache.mu);
	e = lookup(domain, dns_now());
	if (e != NULL)
		e->uses++;	/* as mtasts_get's lookup */
	mode = e != NULL ? (int)e->policy.mode : -1;
	pthread_mutex_unlock(&pcache.mu);
	return mode;
}
#endif

int
mtasts_get(struct mtasts *m, const char *domain, long long deadline,
    struct mtasts_policy *p, char *why, size_t whylen)
{
	struct entry *e;
	char id[MTASTS_ID_MAX + 1], cached_id[MTASTS_ID_MAX + 1] = "";
	char err[200], *body = NULL;
	size_t blen;
	bool cached = false;

	pthread_mutex_lock(&pcache.mu);
	if ((e = lookup(domain, dns_now())) != NULL) {
		e->uses++;
		*p = e->policy;
		memcpy(cached_id, e->id, sizeof(cached_id));
		cached = true;
	}
	pthread_mutex_unlock(&pcache.mu);

	if (txt_id(m, domain, deadline, id, err, sizeof(err)) == 0) {
		/* RFC 8461 5.1: a record gone keeps the cached policy */
		snprintf(why, whylen, "%s%s", err, cached ?
		    "; the cached policy applies" : "");
		return cached;
	}
	if (cached && strcmp(id, cached_id) == 0) {
		snprintf(why, whylen, "cached policy (id %s)", id);
		return 1;
	}
	if (fetch(m, domain, deadline, &body, &blen, err, sizeof(err)) == -1 ||
	    mtasts_policy_parse(body, blen, p, err, sizeof(err)) == -1) {
		free(body);
		if (cached) {
			pthread_mutex_lock(&pcache.mu);
			if ((e = lookup(domain, dns_now())) != NULL)
				*p = e->policy;
			else
				cached = false;
			pthread_mutex_unlock(&pcache.mu);
		}
		snprintf(why, whylen, "policy fetch failed: %s%s", err,
		    cached ? "; the cached policy applies" : "");
		return cached;
	}
	free(body);
	store(domain, id, p, dns_now());
	snprintf(why, whylen, "policy fetched (id %s)", id);
	return 1;
}

/* histdelta.c: see histdelta.h. */
#include "enforce/histdelta.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

#define MAGIC	"moat-history-delta 1 "

void
histdelta_make(const char *old, size_t olen, const char *next, size_t nlen,
    unsigned base, struct strbuf *out)
{
	size_t pre = 0, suf = 0, most = olen < nlen ? olen : nlen;

	while (pre < most && old[pre] == next[pre])
		pre++;
	while (suf < most - pre && old[olen - 1 - suf] == next[nlen - 1 - suf])
		suf++;
	strbuf_printf(out, MAGIC "%u %zu %zu %zu %016" PRIx64 "\n", base, pre,
	    suf, olen - pre - suf, fnv1a(old, olen));
	strbuf_add(out, old + pre, olen - pre - suf);
}

/* An unsigned decimal at *s, up to ' ' or '\n' (stop): 0, or -1. */
static int
number(const char **s, const char *end, char stop, uint64_t max,
    uint64_t *v)
{
	const char *p = *s;

	*v = 0;
	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (*v > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	if (p == end || *p != stop)
		return -1;
	*s = p + 1;
	return 0;
}

int
histdelta_parse(const char *file, size_t len, struct histdelta *h)
{
	const char *s = file, *end = file + len, *nl;
	uint64_t base, pre, suf, mid;
	size_t i;

	memset(h, 0, sizeof(*h));
	if (len < sizeof(MAGIC) - 1 || memcmp(s, MAGIC, sizeof(MAGIC) - 1) != 0)
		return -1;
	s += sizeof(MAGIC) - 1;
	if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL ||
	    number(&s, nl, ' ', UINT32_MAX, &base) == -1 ||
	    number(&s, nl, ' ', SIZE_MAX / 4, &pre) == -1 ||
	    number(&s, nl, ' ', SIZE_MAX / 4, &suf) == -1 ||
	    number(&s, nl, ' ', SIZE_MAX / 4, &mid) == -1 || nl - s != 16)
		return -1;
	for (i = 0; i < 16; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
		    c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;

		if (d == 16)
			return -1;
		h->hash = h->hash << 4 | d;
	}
	if ((uint64_t)(end - (nl + 1)) != mid)
		return -1;
	h->base = (unsigned)base;
	h->prefix = (size_t)pre;
	h->suffix = (size_t)suf;
	h->middle = (size_t)mid;
	h->mid = nl + 1;
	return 0;
}

size_t
histdelta_size(const struct histdelta *h)
{
	return h->prefix + h->middle + h->suffix;
}

int
histdelta_put(const struct histdelta *h, const char *base, size_t blen,
    char *out)
{
	if (h->prefix > blen || h->suffix > blen - h->prefix) {
		errno = EINVAL;
		return -1;
	}
	memmove(out, base, h->prefix);
	memcpy(out + h->prefix, h->mid, h->middle);
	memcpy(out + h->prefix + h->middle, base + blen - h->suffix,
	    h->suffix);
	return 0;
}

char *
histdelta_build(const struct histdelta *h, const char *base, size_t blen,
    size_t *len)
{
	size_t n = histdelta_size(h);
	char *t;

	if ((t = malloc(n + 1)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (histdelta_put(h, base, blen, t) == -1) {
		free(t);
		return NULL;
	}
	t[n] = '\0';
	if (fnv1a(t, n) != h->hash) {
		free(t);
		errno = EINVAL;
		return NULL;
	}
	*len = n;
	return t;
}

/* http.c: HTTP/1.x response heads and chunked bodies (http.h).
 *
 * What a server sends is read by a process that trusts it with nothing:
 * lengths are checked before they are used, numbers before they
 * overflow, and anything this client did not ask for (a transfer coding
 * other than chunked, line folding) is an error rather than a guess.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/http.h"

#define CHUNK_LINE_MAX	4096	/* a size line with its extensions */

static bool
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 5.6.2 tchar */
static bool
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c)
	    != NULL);
}

size_t
http_head_end(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			return (size_t)(p + 2 - s);
	}
	return 0;
}

/* v (vlen bytes) into a capped field, control bytes as '?'. */
static void
keep(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	size_t i;

	if (vlen >= dstlen)
		vlen = dstlen - 1;
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[vlen] = '\0';
}

static bool
named(const char *l, size_t klen, const char *name)
{
	return strlen(name) == klen && strncasecmp(l, name, klen) == 0;
}

int
http_head_parse(const char *s, size_t n, struct http_head *h, char *why,
    size_t whylen)
{
	const char *l, *end = s + n;
	bool have_te = false, blank = false;

	memset(h, 0, sizeof(*h));
	if (n < 14 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9' || (s[12] != ' ' && s[12] != '\r')) {
		snprintf(why, whylen, "not an HTTP/1 response");
		return -1;
	}
	h->code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if ((l = memchr(s, '\n', n)) == NULL) {
		snprintf(why, whylen, "no complete HTTP header");
		return -1;
	}
	for (l++; l < end; ) {
		const char *e = memchr(l, '\n', (size_t)(end - l)), *v;
		size_t len, klen, vlen;

		if (e == NULL) {
			snprintf(why, whylen, "no complete HTTP header");
			return -1;
		}
		len = (size_t)(e - l);
		if (len > 0 && l[len - 1] == '\r')
			len--;
		if (len == 0) {
			blank = true;		/* the end of the head */
			break;
		}
		for (klen = 0; klen < len && is_tchar((unsigned char)l[klen]);
		    klen++)
			;
		if (klen == 0 || klen == len || l[klen] != ':') {
			snprintf(why, whylen, "a malformed header line");
			return -1;
		}
		v = l + klen + 1;
		vlen = len - klen - 1;
		while (vlen > 0 && is_wsp(*v)) {
			v++;
			vlen--;
		}
		while (vlen > 0 && is_wsp(v[vlen - 1]))
			vlen--;
		if (named(l, klen, "content-length")) {
			size_t val = 0, i;

			if (vlen == 0 || vlen > 18) {
				snprintf(why, whylen, "bad Content-Length");
				return -1;
			}
			for (i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9') {
					snprintf(why, whylen, "bad Content-Length");
					return -1;
				}
				val = val * 10 + (size_t)(v[i] - '0');
			}
			if (h->has_length && h->length != val) {
				snprintf(why, whylen, "two Content-Lengths");
				return -1;
			}
			h->has_length = true;
			h->length = val;
		} else if (named(l, klen, "transfer-encoding")) {
			if (have_te || vlen != 7 || strncasecmp(v, "chunked", 7)
			    != 0) {
				snprintf(why, whylen, "a transfer coding other "
				    "than chunked");
				return -1;
			}
			have_te = true;
		} else if (named(l, klen, "content-type"))
			keep(h->ctype, sizeof(h->ctype), v, vlen);
		else if (named(l, klen, "location"))
			keep(h->location, sizeof(h->location), v, vlen);
		l = e + 1;
	}
	if (!blank) {
		snprintf(why, whylen, "no complete HTTP header");
		return -1;
	}
	/* RFC 9112 6.3: chunked wins over a length */
	if (have_te) {
		h->chunked = true;
		h->has_length = false;
		h->length = 0;
	}
	return 0;
}

enum {
	C_SIZE = 0,	/* the chunk's size, hex */
	C_EXT,		/* ;extensions, skipped */
	C_SIZE_LF,	/* the size line's LF after CR */
	C_DATA,
	C_DATA_CR,	/* the CRLF after a chunk's data */
	C_DATA_LF,
	C_TRAILER,	/* a trailer line's first byte, or the end */
	C_TRAILER_LINE,
	C_END_LF,	/* the last LF */
	C_DONE,
};

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = C_SIZE;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
http_chunked_feed(struct http_chunked *c, const char *in, size_t n,
    size_t *used, char *out, size_t *outlen, size_t outcap, char *why,
    size_t whylen)
{
	size_t i = 0;

	while (i < n && c->state != C_DONE) {
		int ch = (unsigned char)in[i];

		switch (c->state) {
		case C_SIZE:
		case C_EXT:
			if (++c->line > CHUNK_LINE_MAX)
				goto bad;
			if (ch == '\r' || ch == '\n') {
				if (!c->digits)
					goto bad;
				i++;
				if (ch == '\r') {
					c->state = C_SIZE_LF;
					continue;
				}
				goto data_start;
			}
			if (c->state == C_EXT) {
				i++;
				continue;
			}
			if (hexval(ch) >= 0) {
				/* more than fits in size_t: no one sends it */
				if (c->left > (SIZE_MAX >> 4))
					goto bad;
				c->left = c->left << 4 | (size_t)hexval(ch);
				c->digits = true;
				i++;
				continue;
			}
			if (c->digits && (ch == ';' || is_wsp(ch))) {
				c->state = C_EXT;
				i++;
				continue;
			}
			goto bad;
		case C_SIZE_LF:
			if (ch != '\n')
				goto bad;
			i++;
		data_start:
			c->state = c->left == 0 ? C_TRAILER : C_DATA;
			c->digits = false;
			c->line = 0;
			continue;
		case C_DATA: {
			size_t take = n - i < c->left ? n - i : c->left;

			if (take > outcap - *outlen) {
				snprintf(why, whylen, "longer than %zu bytes",
				    outcap);
				return -1;
			}
			memcpy(out + *outlen, in + i, take);
			*outlen += take;
			i += take;
			if ((c->left -= take) == 0)
				c->state = C_DATA_CR;
			continue;
		}
		case C_DATA_CR:
			if (ch == '\r') {
				c->state = C_DATA_LF;
				i++;
				continue;
			}
			/* a bare LF will do */
			/* FALLTHROUGH */
		case C_DATA_LF:
			if (ch != '\n')
				goto bad;
			i++;
			c->state = C_SIZE;
			c->left = 0;
			c->line = 0;
			continue;
		case C_TRAILER:
			if (ch == '\r') {
				c->state = C_END_LF;
				i++;
				continue;
			}
			if (ch == '\n') {
				c->state = C_DONE;
				i++;
				continue;
			}
			c->state = C_TRAILER_LINE;
			continue;
		case C_TRAILER_LINE:
			if (++c->line > HTTP_HEAD_MAX) {
				snprintf(why, whylen, "a trailer over %d bytes",
				    HTTP_HEAD_MAX);
				return -1;
			}
			if (ch == '\n')
				c->state = C_TRAILER;
			i++;
			continue;
		case C_END_LF:
			if (ch != '\n')
				goto bad;
			i++;
			c->state = C_DONE;
			continue;
		}
	}
	*used = i;
	return c->state == C_DONE ? 1 : 0;
bad:
	snprintf(why, whylen, "a malformed chunked body");
	return -1;
}

/* strbuf.c: growable output string; see strbuf.h. */
#include "base/strbuf.h"

#include "base/bigmem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
strbuf_init(struct strbuf *b, size_t max)
{
	b->s = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->failed = false;
}

void
strbuf_free(struct strbuf *b)
{
	free(b->s);
	strbuf_init(b, b->max);
}

void
strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->s != NULL)
		b->s[0] = '\0';
}

/* Room for extra more bytes; said: the caller said the size ahead
 * (strbuf_expect), so huge pages come from BIG_FROM, not BIG_GROWN. */
static bool
strbuf_reserve(struct strbuf *b, size_t extra, bool said)
{
	size_t need, cap;
	char *s;

	if (b->failed)
		return false;
	if (extra > (size_t)-1 - b->len - 1 ||
	    (b->max != 0 && b->len + extra > b->max)) {
		b->failed = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	if ((s = big_grow_from(b->s, b->s != NULL ? b->len + 1 : 0, cap,
	    said ? BIG_FROM : BIG_GROWN)) == NULL) {
		b->failed = true;
		return false;
	}
	s[b->len] = '\0';	/* (a new buffer: "" until written) */
	b->s = s;
	b->cap = cap;
	return true;
}

void
strbuf_expect(struct strbuf *b, size_t more)
{
	bool was = b->failed;
	size_t left = b->len < b->max ? b->max - b->len : 0;

	if (b->max != 0 && more > left)
		more = left;
	/* (only a wish: the room not had fails no append yet) */
	if (!strbuf_reserve(b, more, true) && !was)
		b->failed = false;
}

void
strbuf_insert(struct strbuf *b, size_t at, const char *s, size_t len)
{
	if (at > b->len)
		at = b->len;
	if (len == 0 || !strbuf_reserve(b, len, false))
		return;
	memmove(b->s + at + len, b->s + at, b->len - at);
	memcpy(b->s + at, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void
strbuf_add(struct strbuf *b, const char *s, size_t len)
{
	if (!strbuf_reserve(b, len, false))
		return;
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void
strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void
strbuf_putc(struct strbuf *b, char c)
{
	strbuf_add(b, &c, 1);
}

/* Formatted once into the room the buffer has, and a second time only
 * when that was too small: the compiler's output is made of millions of
 * short appends, and a measuring pass before each doubled their cost. */
void
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int len;

	if (b->failed)
		return;
	va_start(ap, fmt);
	len = vsnprintf(room > 0 ? b->s + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (len >= 0 && (size_t)len < room &&
	    (b->max == 0 || b->len + (size_t)len <= b->max)) {
		b->len += (size_t)len;
		return;
	}
	if (room > 0)
		b->s[b->len] = '\0';	/* what did not fit is no text */
	if (len < 0 || !strbuf_reserve(b, (size_t)len, false))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)len + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)len;
}

const char *
strbuf_str(const struct strbuf *b)
{
	return b->s != NULL ? b->s : "";
}

bool
strbuf_failed(const struct strbuf *b)
{
	return b->failed;
}

/* The length of the valid UTF-8 character at s (1 to 4), or 0. */
static size_t
utf8_char(const unsigned char *s)
{
	size_t n, i;
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, no surrogates, nothing over U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

void
str_copy_utf8(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (size == 0)
		return;
	if (len >= size) {
		len = size - 1;
		/* Back to the start of the character that would be cut. */
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void
str_clean_utf8(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p != '\0') {
		size_t n = utf8_char(p);

		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

void
str_say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* strbuf.h: a growable string for output (curl's dynbuf, simplified).
 *
 * Appending never fails loudly: when memory runs out or the cap is reached
 * the buffer is marked failed and ignores further appends; the owner checks
 * strbuf_failed() once at the end.
 */
#ifndef MOAT_STRBUF_H
#define MOAT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* hard cap on len, 0 = none */
	bool	 failed;
};

/* An empty buffer that may grow to max bytes (0: no cap). */
void	 strbuf_init(struct strbuf *b, size_t max);
/* Release the memory. */
void	 strbuf_free(struct strbuf *b);
/* Empty the buffer, keep its memory. */
void	 strbuf_reset(struct strbuf *b);
/* Room for about more bytes, asked ahead of the appends that take them
 * when their size is known roughly: a buffer that grows by the megabyte
 * is then not copied as it grows (room never written takes no memory). */
void	 strbuf_expect(struct strbuf *b, size_t more);
/* Append len bytes. */
void	 strbuf_add(struct strbuf *b, const char *s, size_t len);
/* Insert len bytes at offset at (at or past len: appended); s must not
 * point into b (its memory may move). */
void	 strbuf_insert(struct strbuf *b, size_t at, const char *s, size_t len);
/* Append a NUL-terminated string. */
void	 strbuf_puts(struct strbuf *b, const char *s);
/* Append one byte. */
void	 strbuf_putc(struct strbuf *b, char c);
/* Append formatted text. */
void	 strbuf_printf(struct strbuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The text so far, always NUL-terminated ("" when empty). */
const char *strbuf_str(const struct strbuf *b);
/* True when an append was lost to OOM or the cap. */
bool	 strbuf_failed(const struct strbuf *b);

/* src copied into dst (size bytes with the NUL), cut where a character
 * ends: a UTF-8 sequence is never split, so the copy stays valid UTF-8
 * when src is. */
void	 str_copy_utf8(char *dst, size_t size, const char *src);
/* snprintf for a reason in a log line or a reply: cut where it does not
 * fit, which is fine for those (and said so to the compiler, which warns
 * of a cut snprintf at -O2). */
void	 str_say(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Every byte of s that is not part of a valid UTF-8 character, and every
 * control character, made '?': text from outside (a server's banner)
 * that JSON can carry. */
void	 str_clean_utf8(char *s);

#endif

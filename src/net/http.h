/* http.h: an HTTP/1.x response as it arrives, parsed: the status line and
 * the headers a GET needs, and a chunked body decoded piece by piece.
 * Pure functions of their input (fuzzed); https.c drives them.  Every
 * length is capped: the head at HTTP_HEAD_MAX, a chunked body at the
 * caller's room.
 */
#ifndef MOAT_HTTP_H
#define MOAT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX	16384	/* a response's status line and headers */

struct http_head {
	int	 code;		/* 100 to 599 */
	bool	 has_length;	/* Content-Length given */
	size_t	 length;
	bool	 chunked;	/* Transfer-Encoding: chunked */
	char	 ctype[128];	/* Content-Type as sent, "" none (cut) */
	char	 location[256];	/* Location as sent, "" none (cut) */
};

/* The length of the head at s (n bytes: status line, headers and the blank
 * line, CRLF ends), or 0 while it is not all there. */
size_t	 http_head_end(const char *s, size_t n);
/* A head (the http_head_end bytes at s) into h: 0, or -1 with why (not an
 * HTTP/1 status line, a malformed or repeated length, a transfer coding
 * other than chunked). */
int	 http_head_parse(const char *s, size_t n, struct http_head *h,
	    char *why, size_t whylen);

/* A chunked body on its way (RFC 9112 7.1). */
struct http_chunked {
	int	 state;
	size_t	 left;		/* the chunk's size, then its bytes left */
	size_t	 line;		/* bytes of the size or trailer line so far */
	bool	 digits;	/* the size line has its digits */
};

/* Ready for a body's first byte. */
void	 http_chunked_init(struct http_chunked *c);
/* Decode the n bytes at in, appending the data to out (*outlen bytes held,
 * room for outcap): 1 when the last chunk and the trailer are in (*used
 * says how far in that was), 0 when all of in is used and more is needed,
 * -1 with why when malformed or when the data would pass outcap ("longer
 * than OUTCAP bytes"). */
int	 http_chunked_feed(struct http_chunked *c, const char *in, size_t n,
	    size_t *used, char *out, size_t *outlen, size_t outcap,
	    char *why, size_t whylen);

#endif

/* smtpio.h: buffered, timed reading and writing of SMTP lines and replies
 * on a blocking socket.  Every wait is bounded by the connection's timeout
 * (socket timeouts), so a silent peer ends a session instead of holding
 * it forever.
 */
#ifndef MOAT_SMTPIO_H
#define MOAT_SMTPIO_H

#include <stdbool.h>
#include <stddef.h>

#define SMTPIO_BUF	8192
#define REPLY_MAX	4096

enum {
	IO_OK = 0,
	IO_EOF = -1,		/* closed, or a read error */
	IO_TIMEOUT = -2,
	IO_LONG = -3,		/* line over the limit (skipped to its end) */
};

struct conn {
	int	 fd;
	unsigned timeout;	/* seconds */
	unsigned armed;		/* the timeout the socket has now */
	size_t	 start, end;	/* unread bytes: buf[start..end) */
	char	 buf[SMTPIO_BUF];
};

struct reply {
	int	 code;		/* 0: none (the peer closed or timed out) */
	size_t	 len;
	char	 text[REPLY_MAX];	/* all lines, CRLF each */
};

void	 conn_init(struct conn *c, int fd, unsigned timeout);
/* Read more into the buffer (moving what is left to the front). */
int	 conn_fill(struct conn *c);
/* One line (to LF) of at most max bytes into out, NUL-terminated, the
 * line ending stripped; *len its length.  IO_LONG when longer: the rest
 * of that line is read and dropped. */
int	 conn_line(struct conn *c, char *out, size_t max, size_t *len);
/* Up to n bytes, stopping after the first LF: for DATA, where lines have
 * no limit.  Returns the count, or IO_EOF / IO_TIMEOUT. */
long	 conn_chunk(struct conn *c, char *out, size_t n);
int	 conn_write(struct conn *c, const void *p, size_t n);
/* A whole reply, multi-line (NNN-...NNN ...). */
int	 conn_reply(struct conn *c, struct reply *r);

#endif

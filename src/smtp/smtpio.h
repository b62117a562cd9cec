/* smtpio.h: buffered, timed reading and writing of SMTP lines and replies
 * on a blocking socket.  Every wait is bounded by the connection's timeout
 * (socket timeouts), so a silent peer ends a session instead of holding
 * it forever.
 */
#ifndef MOAT_SMTPIO_H
#define MOAT_SMTPIO_H

#include <stdbool.h>
#include <stddef.h>

#define SMTPIO_BUF		8192
#define SMTPIO_REPLY_LINE_MAX	1000	/* a reply line, CRLF included */
#define SMTPIO_REPLY_MAX	16384	/* a whole reply, all its lines */

/* What every call returns. */
enum {
	SMTPIO_OK = 0,
	SMTPIO_EOF = -1,	/* closed, or a read error */
	SMTPIO_TIMEOUT = -2,
	SMTPIO_LONG = -3,	/* line over the limit (skipped to its end) */
	SMTPIO_BAD = -4,	/* not an SMTP reply */
};

struct tlsio;
struct tlsio_creds;

/* One end of an SMTP connection: the socket and what was read ahead. */
struct smtpio {
	int		 fd;
	struct tlsio	*tls;		/* after STARTTLS; NULL: plain */
	unsigned	 timeout;	/* seconds, for each wait */
	long long	 deadline;	/* ms (smtpio_now), 0: none */
	long long	 wdeadline;	/* of writes; 0: none */
	long		 armed;		/* ms the socket waits now; -1 unset */
	size_t		 start, end;	/* unread bytes: buf[start..end) */
	char		 buf[SMTPIO_BUF];
};

/* A reply, all its lines.  The text grows as a reply needs, up to
 * SMTPIO_REPLY_MAX: most replies are one short line, and an idle session
 * should not hold the room of the longest. */
struct smtpio_reply {
	int	 code;		/* 0: none (the peer closed or timed out) */
	size_t	 len, cap;
	char	*text;		/* all lines, CRLF each, NUL-terminated;
				   NULL until a reply is read */
};

/* Start reading and writing fd, each wait bounded by timeout seconds. */
void	 smtpio_init(struct smtpio *c, int fd, unsigned timeout);
/* Milliseconds on the monotonic clock, for deadlines. */
long long smtpio_now(void);
/* No read may end later than at (smtpio_now() milliseconds); 0 lifts the
 * deadline.  Each wait is still bounded by the timeout too: the deadline
 * bounds the whole of a command or a message, which one byte every few
 * seconds would otherwise stretch forever. */
void	 smtpio_deadline(struct smtpio *c, long long at);
/* No write may end later than at; 0 lifts it (each send is bounded by
 * the timeout alone: a peer that opens its window a few bytes at a time
 * would stretch a message's writing forever). */
void	 smtpio_write_deadline(struct smtpio *c, long long at);
/* Read more into the buffer (moving what is left to the front). */
int	 smtpio_fill(struct smtpio *c);
/* One line (to LF) of at most max bytes into out, NUL-terminated, the
 * line ending stripped; *len its length.  SMTPIO_LONG when longer: the rest
 * of that line is read and dropped. */
int	 smtpio_line(struct smtpio *c, char *out, size_t max, size_t *len);
/* All n bytes of p. */
int	 smtpio_write(struct smtpio *c, const void *p, size_t n);
/* A whole reply, multi-line (NNN-...NNN ...), every line with the same
 * code.  SMTPIO_LONG when a line or the whole passes its limit, SMTPIO_BAD
 * when it is not SMTP (no code, a NUL or a bare CR): either way the peer
 * cannot be followed any further, and the connection must end. */
int	 smtpio_read_reply(struct smtpio *c, struct smtpio_reply *r);
/* STARTTLS on c, after the 220: what was read ahead in plain text is
 * dropped (RFC 3207 section 6: it was sent before TLS, so anyone on the
 * path may have added it; CVE-2011-0411), then the handshake, done within
 * timeout_ms.  *dropped says how many bytes went.  0, or -1 with why; the
 * connection is then unusable. */
int	 smtpio_starttls(struct smtpio *c, const struct tlsio_creds *cr,
	    bool server, const char *sni, unsigned timeout_ms, size_t *dropped,
	    char *why, size_t whylen);
/* End TLS on c (the closure alert) and free it; the socket stays. */
void	 smtpio_tls_end(struct smtpio *c);
/* Free a reply's text. */
void	 smtpio_reply_free(struct smtpio_reply *r);

#endif

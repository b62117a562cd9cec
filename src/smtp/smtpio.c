/* smtpio.c: see smtpio.h. */
#include "smtp/smtpio.h"

#include "base/clock.h"
#include "smtp/tlsio.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void
smtpio_init(struct smtpio *c, int fd, unsigned timeout)
{
	c->fd = fd;
	c->tls = NULL;
	c->timeout = timeout;
	c->deadline = c->wdeadline = 0;
	c->start = c->end = 0;
	c->armed = -1;
}

long long
smtpio_now(void)
{
	return clock_ms();
}

void
smtpio_deadline(struct smtpio *c, long long at)
{
	c->deadline = at;
}

void
smtpio_write_deadline(struct smtpio *c, long long at)
{
	c->wdeadline = at;
}

/* Bound every blocking read and write (SO_RCVTIMEO and SO_SNDTIMEO: one
 * system call per read instead of a poll and a read).  A read waits the
 * timeout, or what is left before the deadline if that is less; the
 * socket is changed only when that differs from what it has.  Sends keep
 * the first timeout.  0, or SMTPIO_TIMEOUT when the deadline has passed. */
static int
arm(struct smtpio *c)
{
	long want = (long)c->timeout * 1000;
	struct timeval tv;

	if (c->armed == -1) {
		tv.tv_sec = c->timeout;
		tv.tv_usec = 0;
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c->armed = 0;
	}
	if (c->deadline != 0) {
		long long left = c->deadline - smtpio_now();

		if (left <= 0)
			return SMTPIO_TIMEOUT;
		if (left < want)
			want = (long)left;
	}
	if (want == c->armed)
		return 0;
	tv.tv_sec = want / 1000;
	tv.tv_usec = (want % 1000) * 1000;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	c->armed = want;
	return 0;
}

int
smtpio_fill(struct smtpio *c)
{
	ssize_t n;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->buf))
		return SMTPIO_OK;
	if (arm(c) != 0)
		return SMTPIO_TIMEOUT;
	if (c->tls != NULL) {
		/* what arm() gave the socket, for the whole record */
		tlsio_deadline(c->tls, smtpio_now() + c->armed);
		n = tlsio_recv(c->tls, c->buf + c->end, sizeof(c->buf) -
		    c->end);
		if (n == -2)
			return SMTPIO_TIMEOUT;
	} else {
		do
			n = recv(c->fd, c->buf + c->end, sizeof(c->buf) -
			    c->end, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SMTPIO_TIMEOUT;
	}
	if (n <= 0)
		return SMTPIO_EOF;
	c->end += (size_t)n;
	return SMTPIO_OK;
}

int
smtpio_line(struct smtpio *c, char *out, size_t max, size_t *len)
{
	size_t got = 0;
	bool toolong = false;

	for (;;) {
		char *lf = memchr(c->buf + c->start, '\n', c->end - c->start);
		size_t take = lf ? (size_t)(lf - (c->buf + c->start)) + 1 :
		    c->end - c->start;
		int rc;

		if (!toolong && got + take <= max) {
			memcpy(out + got, c->buf + c->start, take);
			got += take;
		} else
			toolong = true;
		c->start += take;
		if (lf != NULL)
			break;
		if ((rc = smtpio_fill(c)) != SMTPIO_OK)
			return rc;
	}
	if (toolong)
		return SMTPIO_LONG;
	/* The line end: LF, or CRLF.  Any other CR stays, for the caller to
	 * see. */
	if (got > 0 && out[got - 1] == '\n')
		got--;
	if (got > 0 && out[got - 1] == '\r')
		got--;
	out[got] = '\0';
	*len = got;
	return SMTPIO_OK;
}

int
smtpio_write(struct smtpio *c, const void *p, size_t n)
{
	const char *q = p;

	if (c->armed == -1)
		arm(c);		/* the send timeout, set once */
	while (n > 0) {
		long long until = 0;
		ssize_t w;

		/* (the clock read only where a deadline is: a write's
		 * whole, or TLS's, which has no socket timeout) */
		if (c->wdeadline != 0 || c->tls != NULL) {
			long long now = smtpio_now();

			until = now + (long long)c->timeout * 1000;
			if (c->wdeadline != 0 && now >= c->wdeadline)
				return SMTPIO_TIMEOUT;
			if (c->wdeadline != 0 && c->wdeadline < until)
				until = c->wdeadline;
		}
		if (c->tls != NULL) {
			tlsio_deadline(c->tls, until);
			if ((w = tlsio_send(c->tls, q, n)) == -2)
				return SMTPIO_TIMEOUT;
			if (w <= 0)
				return SMTPIO_EOF;
		} else if ((w = send(c->fd, q, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    SMTPIO_TIMEOUT : SMTPIO_EOF;
		}
		q += w;
		n -= (size_t)w;
	}
	return SMTPIO_OK;
}

int
smtpio_starttls(struct smtpio *c, const struct tlsio_creds *cr, bool server,
    const char *sni, unsigned timeout_ms, size_t *dropped, char *why,
    size_t whylen)
{
	long long deadline = smtpio_now() + timeout_ms;

	*dropped = c->end - c->start;
	c->start = c->end = 0;
	if (c->tls != NULL) {
		snprintf(why, whylen, "TLS is already on");
		return -1;
	}
	/* each read of the handshake waits what is left, at most */
	smtpio_deadline(c, deadline);
	if (arm(c) != 0) {
		snprintf(why, whylen, "timed out");
		return -1;
	}
	c->tls = tlsio_start(cr, c->fd, server, sni, deadline, why, whylen);
	smtpio_deadline(c, 0);
	return c->tls != NULL ? 0 : -1;
}

void
smtpio_tls_end(struct smtpio *c)
{
	tlsio_close(c->tls);
	c->tls = NULL;
}

/* Room for need bytes of text: 0, or -1 past SMTPIO_REPLY_MAX or without
 * memory. */
static int
reply_room(struct smtpio_reply *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 512;
	char *t;

	if (need > SMTPIO_REPLY_MAX)
		return -1;
	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > SMTPIO_REPLY_MAX)
		cap = SMTPIO_REPLY_MAX;
	if ((t = realloc(r->text, cap)) == NULL)
		return -1;
	r->text = t;
	r->cap = cap;
	return 0;
}

void
smtpio_reply_free(struct smtpio_reply *r)
{
	free(r->text);
	r->text = NULL;
	r->cap = r->len = 0;
}

int
smtpio_read_reply(struct smtpio *c, struct smtpio_reply *r)
{
	char line[SMTPIO_REPLY_LINE_MAX + 1];
	size_t len;
	int first = 0;

	r->code = 0;
	r->len = 0;
	if (reply_room(r, 1) == -1)
		return SMTPIO_EOF;
	r->text[0] = '\0';
	for (;;) {
		int rc = smtpio_line(c, line, sizeof(line) - 1, &len), code;

		if (rc != SMTPIO_OK)
			return rc;
		if (len < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    (len > 3 && line[3] != ' ' && line[3] != '-') ||
		    memchr(line, '\0', len) != NULL ||
		    memchr(line, '\r', len) != NULL)
			return SMTPIO_BAD;
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (r->len == 0)
			first = code;
		else if (code != first)
			return SMTPIO_BAD;	/* lines of two replies */
		if (r->len + len + 3 > SMTPIO_REPLY_MAX)
			return SMTPIO_LONG;
		if (reply_room(r, r->len + len + 3) == -1)
			return SMTPIO_EOF;	/* no memory */
		memcpy(r->text + r->len, line, len);
		memcpy(r->text + r->len + len, "\r\n", 3);
		r->len += len + 2;
		if (len == 3 || line[3] == ' ') {
			r->code = code;
			return SMTPIO_OK;
		}
	}
}

/* frame.c: see frame.h. */
#include "base/frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fds.h"
#include "base/strbuf.h"

/* Wait until fd is ready for events or deadline (clock_ms) has passed:
 * 0 (ready, or a minute gone: ask again), or -1 (ETIMEDOUT past it, or
 * poll's error). */
static int
wait_by(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		long long left = deadline - clock_ms();

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, left > 60000 ? 60000 : (int)left) != -1)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* 1 read whole, 0 at the end before any byte, -1 an error or a cut (or,
 * with a deadline (clock_ms; 0: none), ETIMEDOUT past it, however little
 * comes each time). */
static int
read_all(int fd, char *p, size_t n, long long deadline)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		if (deadline != 0) {
			if (wait_by(fd, POLLIN, deadline) == -1)
				return -1;
			r = recv(fd, p + got, n - got, MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
		} else
			r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && got == 0)
			return 0;
		if (r <= 0) {
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

/* The header (length, and the id when with_id), then the message. */
static int
send_frame(int fd, bool with_id, uint32_t id, const char *msg, size_t len)
{
	uint32_t h[2] = { htonl((uint32_t)len), htonl(id) };

	if (len > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (fds_write_all(fd, (const char *)h, with_id ? sizeof(h) :
	    sizeof(h[0])) == -1 || fds_write_all(fd, msg, len) == -1)
		return -1;
	return 0;
}

static char *
recv_frame(int fd, size_t max, bool with_id, uint32_t *id, size_t *len,
    long long deadline)
{
	uint32_t h[2];
	char *buf;
	int rc;

	errno = 0;
	if ((rc = read_all(fd, (char *)h, with_id ? sizeof(h) :
	    sizeof(h[0]), deadline)) <= 0)
		return NULL;
	h[0] = ntohl(h[0]);
	if (h[0] > max || h[0] > FRAME_MAX) {
		errno = EMSGSIZE;
		return NULL;
	}
	if ((buf = malloc((size_t)h[0] + 1)) == NULL)
		return NULL;
	if (read_all(fd, buf, h[0], deadline) != 1) {
		free(buf);
		if (errno == 0)
			errno = EPIPE;
		return NULL;
	}
	buf[h[0]] = '\0';
	*len = h[0];
	if (id != NULL)
		*id = ntohl(h[1]);
	return buf;
}

/* At most this much read a call: a peer that keeps its end just full
 * never holds the reader's loop (a review, 2026-12-08); the rest is read
 * at the next call (poll says so again). */
#define IN_TURN		(256u * 1024)

static int
in_read(int fd, struct frame_in *in, size_t max, size_t hlen)
{
	ssize_t r;
	size_t turn = 0;

	while (in->nhead < hlen) {
		r = read(fd, in->head + in->nhead, hlen - in->nhead);
		if (r == 0) {
			errno = in->nhead == 0 ? 0 : EPIPE;
			return -1;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		in->nhead += (size_t)r;
		if (in->nhead == hlen) {
			uint32_t n;

			memcpy(&n, in->head, sizeof(n));
			in->len = ntohl(n);
			in->got = 0;
			if (in->len > max || in->len > FRAME_MAX) {
				errno = EMSGSIZE;
				return -1;
			}
			if ((in->buf = malloc(in->len + 1)) == NULL)
				return -1;
		}
	}
	while (in->got < in->len) {
		size_t want = in->len - in->got;

		if (turn >= IN_TURN)
			return 0;
		if (want > IN_TURN - turn)
			want = IN_TURN - turn;
		r = read(fd, in->buf + in->got, want);
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		in->got += (size_t)r;
		turn += (size_t)r;
	}
	in->buf[in->len] = '\0';
	return 1;
}

int
frame_in_read(int fd, struct frame_in *in, size_t max)
{
	return in_read(fd, in, max, 4);
}

int
frame_in_read_id(int fd, struct frame_in *in, size_t max, uint32_t *id)
{
	uint32_t n;
	int rc = in_read(fd, in, max, 8);

	if (rc == 1) {
		memcpy(&n, in->head + 4, sizeof(n));
		*id = ntohl(n);
	}
	return rc;
}

bool
frame_in_started(const struct frame_in *in)
{
	return in->nhead > 0;
}

void
frame_in_reset(struct frame_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

int
frame_out_take(struct frame_out *o, bool with_id, uint32_t id,
    struct strbuf *msg)
{
	uint32_t h[2] = { htonl((uint32_t)msg->len), htonl(id) };

	if (strbuf_failed(msg) || msg->len > FRAME_MAX) {
		errno = strbuf_failed(msg) ? ENOMEM : EMSGSIZE;
		return -1;
	}
	memcpy(o->head, h, sizeof(h));
	o->hlen = with_id ? sizeof(h) : sizeof(h[0]);
	o->msg = msg->s;
	o->len = o->hlen + msg->len;
	o->off = 0;
	msg->s = NULL;		/* taken */
	strbuf_free(msg);
	return 0;
}

int
frame_out_write(int fd, struct frame_out *o)
{
	ssize_t w;

	while (o->off < o->len) {
		if (o->off < o->hlen)
			w = write(fd, o->head + o->off, o->hlen - o->off);
		else
			w = write(fd, o->msg + (o->off - o->hlen),
			    o->len - o->off);
		if (w > 0)
			o->off += (size_t)w;
		else if (w == -1 && errno == EINTR)
			continue;
		else if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else {
			if (w == 0)
				errno = EPIPE;
			return -1;
		}
	}
	frame_out_reset(o);
	return 1;
}

bool
frame_out_pending(const struct frame_out *o)
{
	return o->off < o->len;
}

void
frame_out_reset(struct frame_out *o)
{
	free(o->msg);
	memset(o, 0, sizeof(*o));
}

int
frame_send(int fd, const char *msg, size_t len)
{
	return send_frame(fd, false, 0, msg, len);
}

char *
frame_recv(int fd, size_t max, size_t *len)
{
	return recv_frame(fd, max, false, NULL, len, 0);
}

int
frame_send_id(int fd, uint32_t id, const char *msg, size_t len)
{
	return send_frame(fd, true, id, msg, len);
}

/* n bytes to socket fd, by deadline (clock_ms): a peer that reads slowly
 * is not waited for past it, however little it takes each time. */
static int
send_by(int fd, const char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t w;

		if (wait_by(fd, POLLOUT, deadline) == -1)
			return -1;
		w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
frame_send_by(int fd, const char *msg, size_t len, long long deadline)
{
	uint32_t h = htonl((uint32_t)len);

	if (len > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (send_by(fd, (const char *)&h, sizeof(h), deadline) == -1 ||
	    send_by(fd, msg, len, deadline) == -1)
		return -1;
	return 0;
}

char *
frame_recv_by(int fd, size_t max, size_t *len, long long deadline)
{
	return recv_frame(fd, max, false, NULL, len, deadline > 0 ? deadline :
	    1);
}

int
frame_send_id_by(int fd, uint32_t id, const char *msg, size_t len,
    long long deadline)
{
	uint32_t h[2] = { htonl((uint32_t)len), htonl(id) };

	if (len > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (send_by(fd, (const char *)h, sizeof(h), deadline) == -1 ||
	    send_by(fd, msg, len, deadline) == -1)
		return -1;
	return 0;
}

char *
frame_recv_id(int fd, size_t max, uint32_t *id, size_t *len)
{
	return recv_frame(fd, max, true, id, len, 0);
}

char *
frame_recv_id_by(int fd, size_t max, uint32_t *id, size_t *len,
    long long deadline)
{
	return recv_frame(fd, max, true, id, len, deadline > 0 ? deadline :
	    1);
}

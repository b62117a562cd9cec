/* frame.c: see frame.h. */
#include "base/frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 read whole, 0 at the end before any byte, -1 an error or a cut. */
static int
read_all(int fd, char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

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

int
frame_send(int fd, const char *msg, size_t len)
{
	uint32_t n = htonl((uint32_t)len);

	if (len > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (write_all(fd, (const char *)&n, sizeof(n)) == -1 ||
	    write_all(fd, msg, len) == -1)
		return -1;
	return 0;
}

char *
frame_recv(int fd, size_t max, size_t *len)
{
	uint32_t n;
	char *buf;
	int rc;

	errno = 0;
	if ((rc = read_all(fd, (char *)&n, sizeof(n))) <= 0)
		return NULL;
	n = ntohl(n);
	if (n > max || n > FRAME_MAX) {
		errno = EMSGSIZE;
		return NULL;
	}
	if ((buf = malloc((size_t)n + 1)) == NULL)
		return NULL;
	if (read_all(fd, buf, n) != 1) {
		free(buf);
		if (errno == 0)
			errno = EPIPE;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
frame_in_read(int fd, struct frame_in *in, size_t max)
{
	ssize_t r;

	while (in->nhead < sizeof(in->head)) {
		r = read(fd, in->head + in->nhead, sizeof(in->head) - in->nhead);
		if (r == 0) {
			errno = in->nhead == 0 ? 0 : EPIPE;
			return -1;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		in->nhead += (size_t)r;
		if (in->nhead == sizeof(in->head)) {
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
		r = read(fd, in->buf + in->got, in->len - in->got);
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		in->got += (size_t)r;
	}
	in->buf[in->len] = '\0';
	return 1;
}

void
frame_in_reset(struct frame_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

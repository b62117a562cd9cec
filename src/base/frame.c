/* frame.c: see frame.h. */
#include "base/frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
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

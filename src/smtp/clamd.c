/* clamd.c: scanning with clamd over its socket: one connection per message,
 * the INSTREAM command (the message in length-prefixed chunks, a zero
 * length to end), the "z" form so every reply ends with a NUL.  The socket
 * is a path (unix) or HOST:PORT (TCP).  Every read and write has the scan
 * timeout: a clamd that stops answering is a failed scan, not a hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/addr.h"
#include "smtp/scan.h"

#define CHUNK	(64 * 1024)

struct clamd {
	struct scanner		 s;	/* first: a struct scanner * */
	char			 where[256];
	unsigned		 timeout;
	struct sockaddr_storage	 addr;	/* where, resolved once */
	socklen_t		 addrlen;
};

/* The socket address of a path (unix) or HOST:PORT (TCP); -1 when where is
 * neither. */
static int
clamd_address(struct clamd *c)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&c->addr;

	memset(&c->addr, 0, sizeof(c->addr));
	if (c->where[0] != '/')
		return addr_hostport(c->where, &c->addr, &c->addrlen);
	if (strlen(c->where) >= sizeof(sun->sun_path))
		return -1;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, c->where);
	c->addrlen = sizeof(*sun);
	return 0;
}

static int
clamd_connect(const struct clamd *c, char *why, size_t whylen)
{
	struct timeval tv = { .tv_sec = c->timeout };
	int fd;

	if (c->addrlen == 0) {
		snprintf(why, whylen, "clamd: '%.100s' is neither a socket "
		    "path nor HOST:PORT", c->where);
		return -1;
	}
	if ((fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&c->addr, c->addrlen) == -1) {
		close(fd);
		goto fail;
	}
	return fd;
fail:
	snprintf(why, whylen, "clamd at %s: %s", c->where, strerror(errno));
	return -1;
}

static int
send_all(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = send(fd, q, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read clamd's NUL-terminated reply. */
static int
read_reply(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		ssize_t r = recv(fd, buf + got, len - 1 - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = 0;
		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (memchr(buf, '\0', got) != NULL)
			return 0;
	}
	buf[got] = '\0';
	return 0;
}

/* A one-line command (PING, VERSION) and its reply. */
static int
command(const struct clamd *c, const char *cmd, char *reply, size_t len,
    char *why, size_t whylen)
{
	int fd = clamd_connect(c, why, whylen);

	if (fd == -1)
		return -1;
	if (send_all(fd, cmd, strlen(cmd) + 1) == -1 ||
	    read_reply(fd, reply, len) == -1) {
		snprintf(why, whylen, "clamd at %s: %s", c->where,
		    errno ? strerror(errno) : "no reply");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct scanner *
clamd_open(const char *where, unsigned timeout, char *err, size_t errlen)
{
	struct clamd *c = calloc(1, sizeof(*c));
	char reply[256];

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->s.engine = AV_CLAMD;
	snprintf(c->where, sizeof(c->where), "%s", where);
	c->timeout = timeout;
	if (clamd_address(c) == -1)
		c->addrlen = 0;		/* every scan says why it fails */
	/* clamd may be started later or restarted: a daemon that is down
	 * now only makes scans fail (451) until it is back. */
	if (command(c, "zVERSION", reply, sizeof(reply), err, errlen) == 0)
		snprintf(c->s.name, sizeof(c->s.name), "clamd %.80s", reply);
	else
		snprintf(c->s.name, sizeof(c->s.name), "clamd");
	err[0] = '\0';
	return &c->s;
}

void
clamd_scan(struct scanner *s, struct msgbuf *m, struct scan_result *r)
{
	struct clamd *c = (struct clamd *)s;
	static const char start[] = "zINSTREAM";
	char *buf, reply[512], *p;
	size_t off = 0;
	int fd;

	if ((buf = malloc(CHUNK + 4)) == NULL) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		return;
	}
	if ((fd = clamd_connect(c, r->why, sizeof(r->why))) == -1) {
		free(buf);
		return;
	}
	if (send_all(fd, start, sizeof(start)) == -1)
		goto io;
	for (;;) {
		ssize_t n = msgbuf_read(m, off, buf + 4, CHUNK);
		uint32_t be;

		if (n < 0)
			goto io;
		be = htonl((uint32_t)n);
		memcpy(buf, &be, 4);
		if (send_all(fd, buf, (size_t)n + 4) == -1)
			goto io;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (read_reply(fd, reply, sizeof(reply)) == -1)
		goto io;
	close(fd);
	free(buf);
	/* "stream: OK", "stream: NAME FOUND", "... ERROR" */
	p = strncmp(reply, "stream: ", 8) == 0 ? reply + 8 : reply;
	if (strcmp(p, "OK") == 0) {
		r->verdict = SCAN_CLEAN;
	} else if (strlen(p) > 6 && strcmp(p + strlen(p) - 6, " FOUND") ==
	    0) {
		p[strlen(p) - 6] = '\0';
		r->verdict = SCAN_VIRUS;	/* a limit's alert too: scan.c */
		snprintf(r->sig, sizeof(r->sig), "%.120s", p);
	} else
		snprintf(r->why, sizeof(r->why), "clamd: %.140s", p);
	return;
io:
	snprintf(r->why, sizeof(r->why), "clamd at %.80s: %s", c->where,
	    errno == EAGAIN ? "timed out" : errno ? strerror(errno) :
	    "closed the connection");
	close(fd);
	free(buf);
}

void
clamd_close(struct scanner *s)
{
	free(s);
}

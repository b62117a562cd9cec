/* probe.c: TCP connect with a timeout and a banner; see probe.h. */
#include "enforce/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
fill_addr(const char *s, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

enum probe_result
probe_tcp(const char *host, unsigned port, const char *from, int timeout_ms,
    int banner_ms, char *banner, size_t len, char *err, size_t errlen)
{
	struct sockaddr_storage to, src;
	socklen_t tolen, srclen;
	struct pollfd pfd;
	enum probe_result res = PROBE_ERROR;
	int fd, soerr = 0;
	socklen_t sl = sizeof(soerr);
	size_t got = 0;

	banner[0] = '\0';
	if (fill_addr(host, port, &to, &tolen) == -1 ||
	    (from != NULL && fill_addr(from, 0, &src, &srclen) == -1)) {
		snprintf(err, errlen, "not an IP address: %s", host);
		return PROBE_ERROR;
	}
	if ((fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return PROBE_ERROR;
	}
	if (from != NULL && bind(fd, (struct sockaddr *)&src, srclen) == -1) {
		snprintf(err, errlen, "bind %s: %s", from, strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&to, tolen) == -1 &&
	    errno != EINPROGRESS) {
		soerr = errno;
		goto failed;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) == 0) {
		res = PROBE_TIMEOUT;
		goto out;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr != 0)
		goto failed;
	res = PROBE_CONNECTED;
	pfd.events = POLLIN;
	while (got + 1 < len && poll(&pfd, 1, banner_ms) > 0) {
		ssize_t n = read(fd, banner + got, len - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		banner[got] = '\0';
		if (strchr(banner, '\n') != NULL)
			break;
	}
	banner[strcspn(banner, "\r\n")] = '\0';
	goto out;
failed:
	if (soerr == ECONNREFUSED || soerr == EHOSTUNREACH ||
	    soerr == ENETUNREACH || soerr == EACCES || soerr == EPERM)
		res = soerr == ECONNREFUSED ? PROBE_REFUSED : PROBE_ERROR;
	if (soerr == ETIMEDOUT)
		res = PROBE_TIMEOUT;
	snprintf(err, errlen, "%s", strerror(soerr));
	if (soerr == EHOSTUNREACH || soerr == EACCES || soerr == EPERM)
		res = PROBE_REFUSED;	/* an ICMP answer: rejected */
out:
	close(fd);
	return res;
}

/* fuzz_smtp.c: the SMTP proxy's session under arbitrary input from both
 * ends: the client's bytes and the next hop's replies both come from the
 * fuzzer.  A session runs over socketpairs against a stand-in next hop (a
 * thread that answers each command with the next reply line of the input,
 * or 250); there is no scanner, so every message takes the scan-failure
 * path (451, or delivery with on-scan-failure pass when the first byte is
 * odd).  What must hold: no crash, no sanitizer report, the session ends.
 *
 * Input: FLAGS, then the client's bytes up to the first NUL, then the next
 * hop's reply lines.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/log.h"
#include "smtp/proxy.h"

struct upstream {
	int		 fd;
	const char	*script, *end;	/* reply lines, consumed in order */
};

/* The next reply of the script (its lines up to one that is not a
 * continuation, completed with a final line if the script ends first), or
 * a default: the proxy is never left waiting. */
static void
reply(struct upstream *u, const char *dflt)
{
	bool more = true;

	if (u->script >= u->end) {
		if (send(u->fd, dflt, strlen(dflt), MSG_NOSIGNAL) < 0)
			return;
		return;
	}
	while (more) {
		const char *nl;
		size_t len;

		if (u->script >= u->end) {
			if (send(u->fd, "250 ok\r\n", 8, MSG_NOSIGNAL) < 0)
				return;
			return;
		}
		nl = memchr(u->script, '\n', (size_t)(u->end - u->script));
		len = nl ? (size_t)(nl - u->script) + 1 :
		    (size_t)(u->end - u->script);
		more = len > 4 && u->script[3] == '-';
		if (send(u->fd, u->script, len, MSG_NOSIGNAL) < 0)
			return;		/* the proxy is gone */
		u->script += len;
		if (nl == NULL && more) {
			if (send(u->fd, "\r\n", 2, MSG_NOSIGNAL) < 0)
				return;
		}
	}
}

/* Read one line (to LF) from the proxy; false at the end. */
static bool
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		char ch;
		ssize_t r = recv(fd, &ch, 1, 0);

		if (r <= 0)
			return false;
		buf[n++] = ch;
		if (ch == '\n')
			break;
	}
	buf[n] = '\0';
	return true;
}

static void *
upstream_main(void *arg)
{
	struct upstream *u = arg;
	char line[1200];

	reply(u, "220 next.hop ESMTP\r\n");
	while (read_line(u->fd, line, sizeof(line))) {
		if (strncmp(line, "DATA", 4) == 0) {
			reply(u, "354 go on\r\n");
			while (read_line(u->fd, line, sizeof(line)) &&
			    strcmp(line, ".\r\n") != 0)
				;
			reply(u, "250 2.0.0 Ok: queued\r\n");
		} else if (strncmp(line, "EHLO", 4) == 0)
			reply(u, "250-next.hop\r\n250-PIPELINING\r\n250-SIZE 1000"
			    "\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
		else
			reply(u, "250 2.0.0 Ok\r\n");
	}
	return NULL;
}

static void *
client_main(void *arg)
{
	int *fd = arg;
	char buf[4096];

	while (recv(*fd, buf, sizeof(buf), 0) > 0)
		;		/* the proxy's replies: drained */
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proxy_conf *conf[2];
	struct proxy_session *ps;
	struct upstream u;
	const uint8_t *nul;
	pthread_t up, cl;
	int cs[2], us[2], pass;
	size_t clen;

	if (size < 1)
		return 0;
	pass = data[0] & 1;
	if (conf[pass] == NULL) {
		struct antivirus av = { .present = true, .engine = AV_CLAMD,
		    .engine_path = "/nonexistent/clamd.sock",
		    .local_scanning = true, .outgoing_scanning = true,
		    .relay_to = "127.0.0.1:1", .fail_pass = pass,
		    .max_size = 4096, .command_timeout = 1, .data_timeout = 1 };

		signal(SIGPIPE, SIG_IGN);
		log_init(open("/dev/null", O_WRONLY | O_CLOEXEC), "fuzz");
		if ((conf[pass] = proxy_conf_new(&av, NULL)) == NULL)
			return 0;
	}
	data++;
	size--;
	nul = memchr(data, 0, size);
	clen = nul ? (size_t)(nul - data) : size;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) == -1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, us) == -1) {
		close(cs[0]);
		close(cs[1]);
		return 0;
	}
	u.fd = us[1];
	u.script = nul ? (const char *)nul + 1 : (const char *)data + size;
	u.end = (const char *)data + size;
	pthread_create(&up, NULL, upstream_main, &u);
	pthread_create(&cl, NULL, client_main, &cs[1]);
	if (send(cs[1], data, clen, MSG_NOSIGNAL) < 0) {
		/* the proxy may have hung up already */
	}
	shutdown(cs[1], SHUT_WR);
	ps = calloc(1, sizeof(*ps));
	if (ps != NULL) {
		ps->fd = cs[0];
		ps->mode = PROXY_RELAY;
		ps->scan = true;
		ps->conf = conf[pass];
		proxy_conf_hold(conf[pass]);
		proxy_run_connected(ps, us[0]);	/* closes cs[0] and us[0] */
		free(ps);
	} else {
		close(cs[0]);
		close(us[0]);
	}
	pthread_join(up, NULL);
	pthread_join(cl, NULL);
	close(cs[1]);
	close(us[1]);
	return 0;
}

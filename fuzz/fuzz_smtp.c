/* fuzz_smtp.c: the SMTP proxy's session under arbitrary input from both
 * ends: the client's bytes and the next hop's replies both come from the
 * fuzzer.  A session runs over socketpairs against a stand-in next hop (a
 * thread that answers each command with the next reply of the input, or
 * 250); there is no scanner, so every message takes the scan-failure path
 * (451, or delivery with on-scan-failure pass).
 *
 * What must hold, besides no crash, no sanitizer report and an end:
 * - messages acknowledged == messages delivered: the next hop answers
 *   each message it takes with a reply naming it ("queued as MOATQ<k>"),
 *   and the set of names the client was told is exactly the set the next
 *   hop gave (no message delivered unacknowledged, none acknowledged that
 *   was not delivered, none told twice);
 * - same content: every message delivered, less moat's header, is one
 *   that a strict server reads after a DATA line of the client's input
 *   (to CRLF "." CRLF only, unstuffed after CRLF only, bare CR and LF as
 *   configured), computed here byte by byte, apart from the proxy's code.
 *   SMTP smuggling (a message cut at "\n.\n", the rest run as commands)
 *   breaks this;
 * - the next hop is never out of step: outside DATA it gets only the
 *   commands the proxy relays, and every message line ends in CRLF, with
 *   a dot at a line start always stuffed, after moat's header.
 * Any break aborts.
 *
 * STARTTLS: with bit 2 of FLAGS moat offers its own (a self-signed pair
 * made at the first run), and the client's bytes after it are the
 * handshake's (they fail it, almost always: the session ends, nothing
 * acknowledged); the stand-in next hop offers STARTTLS in its EHLO, and
 * when its reply to moat's STARTTLS is a 220 it hangs up (a handshake
 * that fails: moat reconnects, which fails here, and the client gets 421).
 *
 * Input: FLAGS (bit 0: on-scan-failure pass, bit 1: smtp-bare-newline
 * normalize, bit 2: moat offers STARTTLS), the length of the client's bytes (2 bytes, big-endian),
 * those bytes (NUL and all), then the next hop's reply lines.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "smtp/proxy.h"
#include "web/tls.h"

#define TOKEN		"MOATQ"
#define REPLY_MAX	4096
#define SEEN_MAX	4096	/* MOATQ numbers */
#define TOLD_MAX	(1 << 20)	/* bytes of replies kept */
#define LINE_MAX_UP	16384	/* > max-message-size + header */
#define KEPT_MAX	64		/* delivered messages whose content is checked */
#define BODY_MAX	8192		/* > max-message-size */

struct upstream {
	int		 fd;
	const char	*script, *end;	/* reply lines, consumed in order */
	unsigned	 accepted;	/* messages taken: MOATQ1 … MOATQn */
	char		*body[KEPT_MAX];	/* their content, header gone */
	size_t		 len[KEPT_MAX];
	char		 cur[BODY_MAX];		/* the message being read */
	size_t		 ncur;
};

struct client {
	int		 fd;
	char		*seen;		/* every byte the proxy sent */
	size_t		 n;
	bool		 overflow;	/* more than TOLD_MAX: not checked */
};

static void
fail(const char *why)
{
	fprintf(stderr, "fuzz_smtp: %s\n", why);
	abort();
}

/* The next reply of the script into out (its lines up to one that is
 * not a continuation; a line cut at the buffer's end, or a script that
 * ends first, is completed, so the proxy is never left waiting), or dflt
 * when the script is used up.  Its length.  The token is the next hop's
 * alone: taken out of scripted replies. */
static size_t
next_reply(struct upstream *u, const char *dflt, char *out, size_t len)
{
	size_t n = 0;
	char *t;

	if (u->script >= u->end) {
		snprintf(out, len, "%s", dflt);
		return strlen(out);
	}
	for (;;) {
		const char *nl;
		size_t take;
		bool more;

		if (u->script >= u->end || n + 16 > len) {
			memcpy(out + n, "250 ok\r\n", 8);
			n += 8;
			break;
		}
		nl = memchr(u->script, '\n', (size_t)(u->end - u->script));
		take = nl ? (size_t)(nl - u->script) + 1 :
		    (size_t)(u->end - u->script);
		if (take > len - n - 16)
			take = len - n - 16;
		more = take > 4 && u->script[3] == '-';
		memcpy(out + n, u->script, take);
		n += take;
		u->script += take;
		if (out[n - 1] != '\n') {
			memcpy(out + n, "\r\n", 2);
			n += 2;
		}
		if (!more)
			break;
	}
	while ((t = memmem(out, n, TOKEN, 5)) != NULL)
		*t = 'm';
	return n;
}

static void
say(struct upstream *u, const char *s, size_t n)
{
	if (send(u->fd, s, n, MSG_NOSIGNAL) < 0) {
		/* the proxy is gone */
	}
}

/* Read one line (to LF) from the proxy; false at the end.  *len its
 * length. */
static bool
read_line(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	while (n + 1 < cap) {
		char ch;
		ssize_t r = recv(fd, &ch, 1, 0);

		if (r <= 0)
			return false;
		buf[n++] = ch;
		if (ch == '\n')
			break;
	}
	buf[n] = '\0';
	*len = n;
	return true;
}

/* A command the proxy may send upstream. */
static bool
relayed(const char *line)
{
	static const char *const verbs[] = { "EHLO ", "HELO ", "MAIL FROM:",
	    "RCPT TO:", "DATA\r\n", "RSET\r\n", "QUIT\r\n", "STARTTLS\r\n",
	    NULL };
	size_t i;

	for (i = 0; verbs[i] != NULL; i++)
		if (strncasecmp(line, verbs[i], strlen(verbs[i])) == 0)
			return true;
	return false;
}

/* The message after 354, read as a strict server reads it, into u->cur
 * without moat's header.  true when it ended with CRLF "." CRLF. */
static bool
read_message(struct upstream *u)
{
	static char line[LINE_MAX_UP];
	size_t len, nline = 0;

	u->ncur = 0;
	while (read_line(u->fd, line, sizeof(line), &len)) {
		const char *text = line;

		if (len < 2 || line[len - 2] != '\r' || line[len - 1] != '\n')
			fail("a message line that does not end in CRLF");
		if (strcmp(line, ".\r\n") == 0)
			return true;
		if (line[0] == '.') {
			if (line[1] != '.')
				fail("a dot at a line start, not stuffed");
			text++;
			len--;
		}
		if (nline++ == 0) {
			if (strncmp(line, "X-Virus-Scanned: ", 17) != 0)
				fail("a message without moat's header first");
			continue;
		}
		if (u->ncur + len > sizeof(u->cur))
			fail("a message larger than max-message-size");
		memcpy(u->cur + u->ncur, text, len);
		u->ncur += len;
	}
	return false;
}

/* Keep the content of the message just taken, as message k. */
static void
keep_message(struct upstream *u, unsigned k)
{
	if (k > KEPT_MAX || (u->body[k - 1] = malloc(u->ncur + 1)) == NULL)
		return;
	memcpy(u->body[k - 1], u->cur, u->ncur);
	u->len[k - 1] = u->ncur;
}

/* The message a strict server reads from p on (the bytes after a DATA
 * line), into out: its length, or -1 when the input ends first (or it
 * does not fit).  Byte by byte, on purpose unlike smtpdata.c. */
static long
strict_message(const char *p, const char *e, bool normalize, char *out,
    size_t cap)
{
	bool bol = true;
	size_t n = 0;

	while (p < e) {
		if (n + 2 > cap)
			return -1;
		if (bol && *p == '.') {
			if (e - p >= 3 && p[1] == '\r' && p[2] == '\n')
				return (long)n;
			p++;		/* stuffing */
			bol = false;
		} else if (*p == '\r' && e - p >= 2 && p[1] == '\n') {
			out[n++] = '\r';
			out[n++] = '\n';
			p += 2;
			bol = true;
		} else if ((*p == '\r' || *p == '\n') && normalize) {
			out[n++] = '\r';
			out[n++] = '\n';
			p++;
			bol = false;
		} else {
			out[n++] = *p++;
			bol = false;
		}
	}
	return -1;
}

/* Every message delivered must be what a strict server reads after one of
 * the client's DATA lines (a line "DATA", any case, ended by LF or CRLF).
 */
static void
check_content(const struct upstream *u, const char *in, size_t n,
    bool normalize)
{
	static char cand[BODY_MAX * 2];
	const char *p = in, *e = in + n;
	unsigned k;
	bool *found = calloc(KEPT_MAX, sizeof(bool));

	if (found == NULL)
		return;
	for (; p < e; p++) {
		const char *q = p;
		long len;

		if (p != in && p[-1] != '\n')
			continue;
		if (e - q < 5 || strncasecmp(q, "DATA", 4) != 0)
			continue;
		q += 4;
		if (*q == '\r')
			q++;
		if (q >= e || *q != '\n')
			continue;
		len = strict_message(q + 1, e, normalize, cand, sizeof(cand));
		if (len < 0)
			continue;
		for (k = 0; k < u->accepted && k < KEPT_MAX; k++)
			if (u->body[k] != NULL && u->len[k] == (size_t)len &&
			    memcmp(u->body[k], cand, (size_t)len) == 0)
				found[k] = true;
	}
	for (k = 0; k < u->accepted && k < KEPT_MAX; k++)
		if (u->body[k] != NULL && !found[k])
			fail("a message delivered that the client did not send "
			    "as one");
	free(found);
}

/* moat's certificate for flags bit 2: made once, read back. */
static const struct proxy_tls_files *
self_signed(void)
{
	static struct proxy_tls_files f;
	char dir[] = "/tmp/moat-fuzz-tls.XXXXXX", cert[64], key[64], err[256];
	size_t len;

	if (f.cert != NULL)
		return &f;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	if (tls_ensure(cert, key, "fuzz.test", err, sizeof(err)) == -1 ||
	    (f.cert = file_read(cert, 1 << 20, &len)) == NULL ||
	    (f.key = file_read(key, 1 << 20, &len)) == NULL)
		abort();
	unlink(cert);
	unlink(key);
	rmdir(dir);
	return &f;
}

static void *
upstream_main(void *arg)
{
	struct upstream *u = arg;
	char line[1200], r[REPLY_MAX];
	size_t len, n;

	n = next_reply(u, "220 next.hop ESMTP\r\n", r, sizeof(r));
	say(u, r, n);
	while (read_line(u->fd, line, sizeof(line), &len)) {
		if (!relayed(line))
			fail("the next hop got a line that is not a command");
		if (strncmp(line, "DATA", 4) == 0) {
			n = next_reply(u, "354 go on\r\n", r, sizeof(r));
			say(u, r, n);
			if (n < 3 || memcmp(r, "354", 3) != 0)
				continue;
			if (!read_message(u))
				break;
			n = next_reply(u, "250 ok\r\n", r, sizeof(r));
			if (r[0] == '2') {
				n = (size_t)snprintf(r, sizeof(r), "250 2.0.0 Ok: "
				    "queued as " TOKEN "%u\r\n", ++u->accepted);
				keep_message(u, u->accepted);
			}
			say(u, r, n);
		} else if (strncmp(line, "STARTTLS", 8) == 0) {
			n = next_reply(u, "454 4.7.0 TLS not available\r\n", r,
			    sizeof(r));
			say(u, r, n);
			if (n >= 3 && memcmp(r, "220", 3) == 0)
				break;		/* no TLS here: it fails */
		} else if (strncmp(line, "EHLO", 4) == 0) {
			n = next_reply(u, "250-next.hop\r\n250-PIPELINING\r\n"
			    "250-SIZE 1000\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
			    r, sizeof(r));
			say(u, r, n);
		} else {
			n = next_reply(u, "250 2.0.0 Ok\r\n", r, sizeof(r));
			say(u, r, n);
		}
	}
	return NULL;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	char buf[4096];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0) {
		if ((size_t)n > TOLD_MAX - c->n) {
			c->overflow = true;
			continue;
		}
		memcpy(c->seen + c->n, buf, (size_t)n);
		c->n += (size_t)n;
	}
	return NULL;
}

/* Every MOATQ<k> the client was told must be one the next hop gave, once,
 * and every one it gave must have been told. */
static void
check_acks(const struct client *c, unsigned accepted)
{
	static bool told[SEEN_MAX];
	const char *p = c->seen, *e = c->seen + c->n;
	unsigned k;

	if (c->overflow)
		return;
	memset(told, 0, sizeof(told));
	while ((p = memmem(p, (size_t)(e - p), TOKEN, 5)) != NULL) {
		p += 5;
		k = 0;
		while (p < e && *p >= '0' && *p <= '9' && k < SEEN_MAX)
			k = k * 10 + (unsigned)(*p++ - '0');
		if (k == 0 || k > accepted)
			fail("the client was told of a message never delivered");
		if (told[k])
			fail("the client was told of one message twice");
		told[k] = true;
	}
	for (k = 1; k <= accepted; k++)
		if (!told[k])
			fail("a message was delivered, the client never told");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proxy_conf *conf[8];
	struct proxy_session *ps;
	static struct upstream u;
	struct client c = { 0 };
	pthread_t up, cl;
	int cs[2], us[2], flags;
	size_t clen;

	if (size < 3)
		return 0;
	flags = data[0] & 7;
	clen = (size_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;
	if (clen > size)
		clen = size;
	if (conf[flags] == NULL) {
		struct antivirus av = { .present = true, .engine = AV_CLAMD,
		    .engine_path = "/nonexistent/clamd.sock",
		    .local_scanning = true, .outgoing_scanning = true,
		    .relay_to = "127.0.0.1:1", .fail_pass = flags & 1,
		    .bare_normalize = (flags & 2) != 0,
		    .max_size = 4096, .command_timeout = 1, .data_timeout = 1 };

		signal(SIGPIPE, SIG_IGN);
		log_init(open("/dev/null", O_WRONLY | O_CLOEXEC), "fuzz");
		if ((conf[flags] = proxy_conf_new(&av, NULL, NULL, flags & 4 ?
		    self_signed() : NULL)) == NULL)
			return 0;
	}
	if ((c.seen = malloc(TOLD_MAX)) == NULL)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) == -1) {
		free(c.seen);
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, us) == -1) {
		close(cs[0]);
		close(cs[1]);
		free(c.seen);
		return 0;
	}
	memset(&u, 0, sizeof(u));
	u.fd = us[1];
	u.script = (const char *)data + clen;
	u.end = (const char *)data + size;
	c.fd = cs[1];
	pthread_create(&up, NULL, upstream_main, &u);
	pthread_create(&cl, NULL, client_main, &c);
	if (send(cs[1], data, clen, MSG_NOSIGNAL) < 0) {
		/* the proxy may have hung up already */
	}
	shutdown(cs[1], SHUT_WR);
	ps = calloc(1, sizeof(*ps));
	if (ps != NULL) {
		ps->fd = cs[0];
		ps->mode = PROXY_RELAY;
		ps->scan = true;
		ps->conf = conf[flags];
		proxy_conf_hold(conf[flags]);
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
	check_acks(&c, u.accepted);
	check_content(&u, (const char *)data, clen, (flags & 2) != 0);
	for (clen = 0; clen < KEPT_MAX; clen++)
		free(u.body[clen]);
	free(c.seen);
	return 0;
}

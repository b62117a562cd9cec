/* proxy.c: one SMTP session through the scanning proxy; see proxy.h.
 *
 * The client talks to moat; moat talks to the next hop, one command at a
 * time, and passes the next hop's replies back, so a recipient the next
 * hop refuses is refused with its own words.  DATA is where they part:
 * moat answers 354 itself, holds the message (struct msgbuf), scans it,
 * and only then opens DATA upstream and sends it, with a header added.
 * The client's end-of-data reply is the next hop's reply to that.
 *
 * Capabilities: the next hop's EHLO reply is passed on with STARTTLS,
 * CHUNKING, BINARYMIME, AUTH and the XCLIENT family taken out (see
 * doc/design/smtp-proxy.md for why), SIZE replaced with moat's limit and
 * PIPELINING added: commands are read from a buffer and answered strictly
 * in order, which is all RFC 2920 asks of a server.
 */
#include "smtp/proxy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "smtp/msgbuf.h"
#include "smtp/smtpio.h"

#define CMD_MAX		512	/* RFC 5321 4.5.3.1.4, with CRLF */
#define MEM_HOLD	(1024 * 1024)	/* held in memory; more goes to disk */
#define OUT_BUF		(64 * 1024)
#define ERRORS_MAX	20
#define FINAL_TIMEOUT	600	/* RFC 5321 4.5.3.2.6: reply to "." */

/* ---- configuration ---------------------------------------------------- */

struct proxy_conf *
proxy_conf_new(const struct antivirus *av, const char *tmpdir)
{
	struct proxy_conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->av = *av;
	snprintf(c->engine_path, sizeof(c->engine_path), "%s",
	    av->engine_path);
	snprintf(c->relay_to, sizeof(c->relay_to), "%s", av->relay_to);
	c->av.engine_path = c->engine_path;
	c->av.relay_to = c->relay_to;
	if (addr_hostport(c->relay_to, &c->relay_addr, &c->relay_len) == -1)
		c->relay_len = 0;
	c->tmpdir = tmpdir;
	c->connect_timeout = av->command_timeout < 30 ? av->command_timeout :
	    30;
	if (gethostname(c->hostname, sizeof(c->hostname)) != 0)
		snprintf(c->hostname, sizeof(c->hostname), "moat");
	c->hostname[sizeof(c->hostname) - 1] = '\0';
	c->scanner = scanner_open(&c->av, c->scanner_err,
	    sizeof(c->scanner_err));
	c->refs = 1;
	return c;
}

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;

void
proxy_conf_hold(struct proxy_conf *c)
{
	pthread_mutex_lock(&conf_lock);
	c->refs++;
	pthread_mutex_unlock(&conf_lock);
}

void
proxy_conf_put(struct proxy_conf *c)
{
	int left;

	if (c == NULL)
		return;
	pthread_mutex_lock(&conf_lock);
	left = --c->refs;
	pthread_mutex_unlock(&conf_lock);
	if (left == 0) {
		scanner_close(c->scanner);
		free(c);
	}
}

/* ---- logging ---------------------------------------------------------- */

int proxy_log_fd = STDERR_FILENO;

void
proxy_log(const char *fmt, ...)
{
	char buf[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%b %e %H:%M:%S moatd: ", &tm);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(buf);
	buf[n++] = '\n';
	if (write(proxy_log_fd, buf, n) < 0) {
		/* nowhere else to say it */
	}
}

/* ---- the session ------------------------------------------------------ */

/* Where a session is.  do_command() says what each state allows; only
 * set_state() changes it. */
enum session_state {
	ST_CONNECTED = 0,	/* the next hop greeted; EHLO or HELO first */
	ST_READY,		/* after EHLO/HELO: MAIL starts a transaction */
	ST_MAIL,		/* after MAIL: RCPT, then DATA */
	ST_QUIT,		/* QUIT: the session ends */
};

static const char *const state_name[] = { "connected", "ready", "mail",
    "quit" };

bool proxy_verbose;

struct session {
	struct proxy_session	*ps;
	struct proxy_conf	*conf;
	struct conn		 client, up;
	bool			 up_open;
	char			 client_name[80], server_name[80];
	/* the transaction */
	enum session_state	 state;
	unsigned		 nrcpt;		/* accepted by the next hop */
	char			 from[CMD_MAX];
	unsigned		 errors;
	struct msgbuf		 msg;
	struct reply		 r;
	char			 line[CMD_MAX + 1];
	char			*out, *in;	/* OUT_BUF each, for DATA */
	double			 scan_secs;	/* the last scan took */
};

/* A reply of moat's own to the client: 0, or -1 when the client is
 * gone. */
static int
say(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
say(struct session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	memcpy(buf + n, "\r\n", 2);
	return conn_write(&s->client, buf, (size_t)n + 2) == IO_OK ? 0 : -1;
}

/* Pass the upstream's reply on, as it came. */
static int
relay_reply(struct session *s)
{
	return conn_write(&s->client, s->r.text, s->r.len);
}

static void
nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Where the next hop is: relay_to, or the address the client dialled. */
static int
upstream_addr(struct session *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	if (s->ps->mode == PROXY_TRANSPARENT) {
		*ss = s->ps->local;
		*len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6);
		return 0;
	}
	if (s->conf->relay_len == 0)
		return -1;
	*ss = s->conf->relay_addr;
	*len = s->conf->relay_len;
	return 0;
}

/* Connect to the next hop within the connect timeout; in transparent mode
 * with spoof, from the client's own address (IP_TRANSPARENT, which needs
 * CAP_NET_RAW). */
static int
upstream_connect(struct session *s, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	struct timeval tv = { 0 };
	socklen_t len;
	int fd;

	if (upstream_addr(s, &ss, &len) == -1) {
		snprintf(why, whylen, "bad next hop %s", s->conf->relay_to);
		return -1;
	}
	addr_sockaddr_format(&ss, s->server_name, sizeof(s->server_name));
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (s->ps->mode == PROXY_TRANSPARENT && s->ps->spoof) {
		int one = 1;
		struct sockaddr_storage from = s->ps->client;

		if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one,
		    sizeof(one)) == -1)
			goto fail;
		if (from.ss_family == AF_INET)
			((struct sockaddr_in *)&from)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&from)->sin6_port = 0;
		if (bind(fd, (struct sockaddr *)&from, len) == -1)
			goto fail;
	}
	nodelay(fd);
	/* connect(2) waits at most SO_SNDTIMEO */
	tv.tv_sec = s->conf->connect_timeout;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno == EINPROGRESS || errno == EAGAIN)
			errno = ETIMEDOUT;
		goto fail;
	}
	conn_init(&s->up, fd, s->conf->av.command_timeout);
	s->up_open = true;
	return 0;
fail:
	snprintf(why, whylen, "%s: %s", s->server_name, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static void
upstream_close(struct session *s)
{
	if (s->up_open)
		close(s->up.fd);
	s->up_open = false;
}

/* Send a command upstream and read its reply into s->r; on failure the
 * upstream is closed and s->r.code is 0. */
static int
upstream_cmd(struct session *s, const char *cmd, size_t len)
{
	char buf[CMD_MAX + 3];

	if (!s->up_open || len > CMD_MAX) {
		s->r.code = 0;
		return -1;
	}
	memcpy(buf, cmd, len);
	memcpy(buf + len, "\r\n", 2);
	if (conn_write(&s->up, buf, len + 2) != IO_OK ||
	    conn_reply(&s->up, &s->r) != IO_OK) {
		upstream_close(s);
		s->r.code = 0;
		return -1;
	}
	return 0;
}

static void
upstream_rset(struct session *s)
{
	if (s->up_open)
		upstream_cmd(s, "RSET", 4);
}

static void
set_state(struct session *s, enum session_state st)
{
	if (proxy_verbose && st != s->state)
		proxy_log("S%u: %s -> %s", s->ps->id, state_name[s->state],
		    state_name[st]);
	s->state = st;
}

/* Back to ST_READY after a message, RSET or EHLO. */
static void
reset_transaction(struct session *s)
{
	if (s->state == ST_MAIL)
		set_state(s, ST_READY);
	s->nrcpt = 0;
	s->from[0] = '\0';
	msgbuf_reset(&s->msg);
}

/* An EHLO keyword the proxy does not pass on (doc/design/smtp-proxy.md). */
static bool
dropped(const char *kw, size_t len)
{
	static const char *const drop[] = { "STARTTLS", "CHUNKING",
	    "BINARYMIME", "AUTH", "XCLIENT", "XFORWARD", "PIPELINING",
	    "SIZE", "XEXCH50", "X-EXPS", "ETRN", "TURN", "ATRN", NULL };
	size_t i;

	for (i = 0; drop[i] != NULL; i++)
		if (strlen(drop[i]) == len && strncasecmp(kw, drop[i], len) == 0)
			return true;
	return false;
}

/* The next hop's EHLO reply, cleaned of what the proxy cannot pass, with
 * PIPELINING and moat's SIZE last.  Every line keeps its text with its
 * "250-" prefix: the reply cannot grow past what came plus the two lines
 * added. */
static int
relay_ehlo(struct session *s)
{
	char out[REPLY_MAX + 64], *line, *eol;
	size_t n = 0;

	if (s->r.code != 250)
		return relay_reply(s);
	for (line = s->r.text; (eol = strstr(line, "\r\n")) != NULL;
	    line = eol + 2) {
		const char *kw = line + 4;
		size_t len = (size_t)(eol - line);

		/* the first line is the server's greeting, never dropped */
		if (len < 4 || (line != s->r.text &&
		    dropped(kw, strcspn(kw, " =\r"))))
			continue;
		memcpy(out + n, "250-", 4);
		memcpy(out + n + 4, kw, len - 4);
		memcpy(out + n + len, "\r\n", 2);
		n += len + 2;
	}
	n += (size_t)snprintf(out + n, sizeof(out) - n, "250-PIPELINING\r\n"
	    "250 SIZE %llu\r\n", (unsigned long long)s->conf->av.max_size);
	return conn_write(&s->client, out, n);
}

/* The verb: the word before the first space, upper-cased for matching. */
static bool
verb_is(const char *line, const char *verb)
{
	size_t n = strlen(verb);

	return strncasecmp(line, verb, n) == 0 &&
	    (line[n] == '\0' || line[n] == ' ');
}

/* SIZE=n in a MAIL command, or 0. */
static unsigned long long
mail_size(const char *line)
{
	const char *p = line;

	while ((p = strchr(p, ' ')) != NULL) {
		p++;
		if (strncasecmp(p, "SIZE=", 5) == 0)
			return strtoull(p + 5, NULL, 10);
	}
	return 0;
}

/* The reverse path of a MAIL command, for the log: <...>. */
static void
take_from(struct session *s, const char *line)
{
	const char *lt = strchr(line, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt != NULL && gt != NULL)
		snprintf(s->from, sizeof(s->from), "%.*s", (int)(gt - lt + 1),
		    lt);
	else
		snprintf(s->from, sizeof(s->from), "%s", line + 10);
}

static void
log_message(struct session *s, const char *verdict, const char *sig,
    const struct timespec *t0, const char *reply)
{
	struct timespec t1;
	char r[160];
	size_t n;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(r, sizeof(r), "%s", reply);
	n = strcspn(r, "\r\n");
	r[n] = '\0';
	proxy_log("S%u: client=%s server=%s from=%s rcpts=%u size=%zu "
	    "verdict=%s sig=%s reply=\"%s\" time=%.3f scan=%.3f", s->ps->id,
	    s->client_name, s->server_name, s->from[0] ? s->from : "<>",
	    s->nrcpt, s->msg.total, verdict, sig[0] ? sig : "-", r,
	    (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9, s->scan_secs);
}

/* Keep a run of message bytes, unless the message is already refused. */
static void
keep(struct session *s, const char *p, size_t n, bool *over,
    bool *store_failed)
{
	if (*over || *store_failed || n == 0)
		return;
	if (s->msg.total + n > s->conf->av.max_size)
		*over = true;
	else if (msgbuf_add(&s->msg, p, n) == -1)
		*store_failed = true;
}

/* Read the message after 354, to the lone dot, undoing dot-stuffing.
 * Works on the connection's buffer in runs: from one "\n." to the next
 * is copied at once.  Returns IO_OK, IO_EOF or IO_TIMEOUT; *over when it
 * passed max size (the rest was read and dropped). */
static int
read_data(struct session *s, bool *over, bool *store_failed)
{
	struct conn *c = &s->client;
	unsigned saved = c->timeout;
	bool bol = true;	/* at the beginning of a line */
	int rc = IO_OK;

	*over = false;
	*store_failed = false;
	c->timeout = s->conf->av.data_timeout;
	for (;;) {
		char *p = c->buf + c->start, *e = c->buf + c->end, *q;
		size_t run;

		if (p == e || (bol && *p == '.' && e - p < 3 &&
		    !(e - p == 2 && p[1] == '\n'))) {
			if ((rc = conn_fill(c)) != IO_OK)
				break;
			continue;
		}
		if (bol && *p == '.') {
			if (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) {
				c->start += p[1] == '\n' ? 2 : 3;
				break;		/* the end */
			}
			c->start++;		/* the stuffed dot */
			p++;
			if (p == e)
				continue;
		}
		if ((q = memmem(p, (size_t)(e - p), "\n.", 2)) != NULL) {
			run = (size_t)(q - p) + 1;
			bol = true;
		} else {
			run = (size_t)(e - p);
			bol = e[-1] == '\n';
		}
		keep(s, p, run, over, store_failed);
		c->start += run;
	}
	c->timeout = saved;
	return rc;
}

/* Send the held message upstream after its 354, stuffed again, with the
 * header first; then read the final reply into s->r.  Output is gathered
 * in s->out so the next hop gets large writes. */
static int
send_message(struct session *s, const char *header)
{
	size_t off = 0, o;
	bool bol = true;
	int rc = -1;

	if (s->out == NULL && (s->out = malloc(OUT_BUF)) == NULL)
		goto done;
	o = strlen(header);
	memcpy(s->out, header, o);
	for (;;) {
		char *in = s->in;
		ssize_t n, i = 0;

		if (s->msg.fd == -1) {		/* in memory: read in place */
			in = s->msg.mem + off;
			n = (ssize_t)(s->msg.len - off);
		} else {
			if (s->in == NULL && (s->in = malloc(OUT_BUF)) == NULL)
				goto done;
			in = s->in;
			n = msgbuf_read(&s->msg, off, in, OUT_BUF / 2);
		}
		if (n < 0)
			goto done;
		if (n == 0)
			break;
		while (i < n) {
			const char *q;
			size_t run;

			if (bol && in[i] == '.')
				s->out[o++] = '.';
			q = memchr(in + i, '\n', (size_t)(n - i));
			run = q ? (size_t)(q - (in + i)) + 1 : (size_t)(n - i);
			bol = q != NULL;
			while (run > 0) {
				size_t room = OUT_BUF - 8 - o;
				size_t take = run < room ? run : room;

				memcpy(s->out + o, in + i, take);
				o += take;
				i += (ssize_t)take;
				run -= take;
				if (o >= OUT_BUF - 8) {
					if (conn_write(&s->up, s->out, o) !=
					    IO_OK)
						goto done;
					o = 0;
				}
			}
		}
		off += (size_t)n;
	}
	if (!bol) {
		memcpy(s->out + o, "\r\n", 2);
		o += 2;
	}
	memcpy(s->out + o, ".\r\n", 3);
	o += 3;
	if (conn_write(&s->up, s->out, o) != IO_OK)
		goto done;
	s->up.timeout = FINAL_TIMEOUT;
	rc = conn_reply(&s->up, &s->r) == IO_OK ? 0 : -1;
	s->up.timeout = s->conf->av.command_timeout;
done:
	if (rc == -1) {
		upstream_close(s);
		s->r.code = 0;
	}
	return rc;
}

/* DATA: hold, scan, pass on or refuse.  Returns -1 when the session must
 * end (the client is gone). */
static int
do_data(struct session *s)
{
	struct scan_result res = { .verdict = SCAN_FAILED };
	struct timespec t0;
	char header[512];
	bool over, store_failed;
	int rc;

	if (s->state != ST_MAIL)
		return say(s, "503 5.5.1 Error: need MAIL command");
	if (s->nrcpt == 0)
		return say(s, "554 5.5.1 Error: no valid recipients");
	if (say(s, "354 End data with <CR><LF>.<CR><LF>") == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s->scan_secs = 0;
	rc = read_data(s, &over, &store_failed);
	if (rc != IO_OK) {
		/* The client left (or went silent) mid-DATA: nothing is
		 * delivered; the next hop never saw DATA. */
		log_message(s, rc == IO_TIMEOUT ? "timeout" : "aborted", "",
		    &t0, "client gone during DATA");
		upstream_rset(s);
		if (rc == IO_TIMEOUT)
			say(s, "421 4.4.2 %s Error: timeout "
			    "exceeded", s->conf->hostname);
		return -1;
	}
	if (over) {
		log_message(s, "too-big", "", &t0, "552");
		upstream_rset(s);
		reset_transaction(s);
		return say(s, "552 5.3.4 Error: message exceeds "
		    "the size limit of %llu bytes",
		    (unsigned long long)s->conf->av.max_size);
	}
	if (store_failed) {
		log_message(s, "failed", "", &t0, "cannot hold the message");
		upstream_rset(s);
		reset_transaction(s);
		return say(s, "451 4.3.0 Error: cannot hold the "
		    "message for scanning; try again later");
	}
	if (!s->ps->scan) {
		snprintf(header, sizeof(header), "X-Virus-Scanned: no (%s) "
		    "by moat on %s\r\n", s->ps->noscan_why, s->conf->hostname);
		res.verdict = SCAN_CLEAN;
	} else if (s->conf->scanner == NULL) {
		snprintf(res.why, sizeof(res.why), "%.150s",
		    s->conf->scanner_err);
	} else {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		scanner_scan(s->conf->scanner, &s->msg, &res);
		clock_gettime(CLOCK_MONOTONIC, &b);
		s->scan_secs = (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	}
	if (s->ps->scan && res.verdict == SCAN_CLEAN)
		snprintf(header, sizeof(header), "X-Virus-Scanned: clean by "
		    "moat (%s) on %s\r\n", scanner_name(s->conf->scanner),
		    s->conf->hostname);
	if (res.verdict == SCAN_VIRUS) {
		log_message(s, "virus", res.sig, &t0, "554");
		upstream_rset(s);
		reset_transaction(s);
		return say(s, "554 5.7.1 Error: message rejected: "
		    "virus found: %s", res.sig);
	}
	if (res.verdict == SCAN_FAILED && !s->conf->av.fail_pass) {
		log_message(s, "scan-failed", "", &t0, res.why);
		upstream_rset(s);
		reset_transaction(s);
		return say(s, "451 4.7.0 Error: message could not "
		    "be scanned for viruses; try again later");
	}
	if (res.verdict == SCAN_FAILED)
		snprintf(header, sizeof(header), "X-Virus-Scanned: no, the "
		    "scan failed (%.120s) by moat on %s\r\n", res.why,
		    s->conf->hostname);
	/* Clean (or passed unscanned, as configured): only now DATA. */
	if (upstream_cmd(s, "DATA", 4) == -1 || s->r.code != 354) {
		int code = s->r.code;

		log_message(s, "not-delivered", "", &t0, code ? s->r.text :
		    "next hop gone");
		reset_transaction(s);
		if (code >= 400)
			return relay_reply(s);
		return say(s, "451 4.4.2 Error: the next hop failed "
		    "during DATA; try again later");
	}
	if (send_message(s, header) == -1) {
		log_message(s, "not-delivered", "", &t0, "next hop gone");
		reset_transaction(s);
		return say(s, "451 4.4.2 Error: the next hop failed "
		    "during DATA; try again later");
	}
	log_message(s, res.verdict == SCAN_CLEAN ? (s->ps->scan ? "clean" :
	    "unscanned") : "unscanned-failure", "", &t0, s->r.text);
	reset_transaction(s);
	return relay_reply(s);
}

/* One command from the client.  Returns 1 after QUIT, -1 when the session
 * must end, 0 to go on. */
static int
do_command(struct session *s, const char *line, size_t len)
{
	if (verb_is(line, "EHLO") || verb_is(line, "HELO")) {
		if (len < 6)
			return say(s, "501 5.5.4 Syntax: %.4s "
			    "hostname", line);
		reset_transaction(s);
		if (upstream_cmd(s, line, len) == -1)
			return -1;
		if (s->r.code == 250)
			set_state(s, ST_READY);
		return (verb_is(line, "EHLO") ? relay_ehlo(s) :
		    relay_reply(s)) == IO_OK ? 0 : -1;
	}
	if (verb_is(line, "MAIL")) {
		if (strncasecmp(line, "MAIL FROM:", 10) != 0)
			return say(s, "501 5.5.4 Syntax: MAIL "
			    "FROM:<address>");
		if (s->state == ST_CONNECTED)
			return say(s, "503 5.5.1 Error: send HELO/EHLO first");
		if (s->state == ST_MAIL)
			return say(s, "503 5.5.1 Error: nested MAIL command");
		if (mail_size(line) > s->conf->av.max_size)
			return say(s, "552 5.3.4 Error: message size "
			    "exceeds the limit of %llu bytes",
			    (unsigned long long)s->conf->av.max_size);
		if (upstream_cmd(s, line, len) == -1)
			return -1;
		if (s->r.code >= 200 && s->r.code < 300) {
			set_state(s, ST_MAIL);
			take_from(s, line);
		}
		return relay_reply(s) == IO_OK ? 0 : -1;	/* its words */
	}
	if (verb_is(line, "RCPT")) {
		if (strncasecmp(line, "RCPT TO:", 8) != 0)
			return say(s, "501 5.5.4 Syntax: RCPT "
			    "TO:<address>");
		if (s->state != ST_MAIL)
			return say(s, "503 5.5.1 Error: need MAIL command");
		if (upstream_cmd(s, line, len) == -1)
			return -1;
		if (s->r.code >= 200 && s->r.code < 300)
			s->nrcpt++;
		return relay_reply(s) == IO_OK ? 0 : -1;	/* its words */
	}
	if (verb_is(line, "DATA")) {
		if (len > 4)
			return say(s, "501 5.5.4 Syntax: DATA");
		return do_data(s) == 0 && s->up_open ? 0 : -1;
	}
	if (verb_is(line, "RSET")) {
		reset_transaction(s);
		if (upstream_cmd(s, "RSET", 4) == -1)
			return -1;
		return relay_reply(s) == IO_OK ? 0 : -1;	/* its words */
	}
	if (verb_is(line, "NOOP"))
		return say(s, "250 2.0.0 Ok");
	if (verb_is(line, "QUIT")) {
		set_state(s, ST_QUIT);
		say(s, "221 2.0.0 Bye");
		if (s->up_open)
			upstream_cmd(s, "QUIT", 4);
		return 1;
	}
	if (verb_is(line, "VRFY"))
		return say(s, "252 2.5.0 Cannot VRFY user; try RCPT");
	if (verb_is(line, "HELP"))
		return say(s, "214 2.0.0 Commands: EHLO HELO MAIL "
		    "RCPT DATA RSET NOOP QUIT VRFY HELP");
	if (verb_is(line, "STARTTLS") || verb_is(line, "BDAT") ||
	    verb_is(line, "AUTH") || verb_is(line, "EXPN") ||
	    verb_is(line, "ETRN") || verb_is(line, "TURN"))
		return say(s, "502 5.5.1 Error: command not "
		    "implemented");
	s->errors++;
	return say(s, "500 5.5.2 Error: command not recognized");
}

void
proxy_run(struct proxy_session *ps)
{
	struct session *s = calloc(1, sizeof(*s));
	char why[256];
	size_t len;
	int rc;

	if (s == NULL) {
		close(ps->fd);
		proxy_conf_put(ps->conf);
		return;
	}
	s->ps = ps;
	s->conf = ps->conf;
	nodelay(ps->fd);
	conn_init(&s->client, ps->fd, s->conf->av.command_timeout);
	msgbuf_init(&s->msg, MEM_HOLD, s->conf->tmpdir);
	addr_sockaddr_format(&ps->client, s->client_name,
	    sizeof(s->client_name));
	snprintf(s->server_name, sizeof(s->server_name), "-");
	if (ps->given_upstream) {	/* a test's stand-in next hop */
		conn_init(&s->up, ps->upstream_fd, s->conf->av.command_timeout);
		s->up_open = true;
	} else if (upstream_connect(s, why, sizeof(why)) == -1) {
		proxy_log("S%u: client=%s next hop unreachable: %s", ps->id,
		    s->client_name, why);
		say(s, "421 4.4.1 %s Error: the next hop is not "
		    "reachable; try again later", s->conf->hostname);
		goto out;
	}
	if (conn_reply(&s->up, &s->r) != IO_OK) {
		proxy_log("S%u: client=%s server=%s no greeting", ps->id,
		    s->client_name, s->server_name);
		say(s, "421 4.4.2 %s Error: the next hop did not "
		    "greet; try again later", s->conf->hostname);
		goto out;
	}
	if (relay_reply(s) != IO_OK || s->r.code != 220)
		goto out;
	for (;;) {
		rc = conn_line(&s->client, s->line, CMD_MAX, &len);
		if (rc == IO_TIMEOUT) {
			say(s, "421 4.4.2 %s Error: timeout exceeded",
			    s->conf->hostname);
			proxy_log("S%u: client=%s timed out", ps->id,
			    s->client_name);
			break;
		}
		if (rc == IO_EOF)
			break;
		if (rc == IO_LONG) {
			s->errors++;
			if (say(s, "500 5.5.2 Error: line too long") == -1)
				break;
			continue;
		}
		if (s->errors >= ERRORS_MAX) {
			say(s, "421 4.7.0 %s Error: too many errors",
			    s->conf->hostname);
			break;
		}
		if ((rc = do_command(s, s->line, len)) != 0)
			break;
		if (!s->up_open) {
			say(s, "421 4.4.2 %s Error: the next hop "
			    "closed the connection", s->conf->hostname);
			break;
		}
	}
	if (s->up_open && rc != 1)
		upstream_cmd(s, "QUIT", 4);
out:
	upstream_close(s);
	msgbuf_free(&s->msg);
	free(s->out);
	free(s->in);
	close(ps->fd);
	proxy_conf_put(ps->conf);
	free(s);
}

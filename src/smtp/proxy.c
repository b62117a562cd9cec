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
 * in order, which is all RFC 2920 asks of a server.  STARTTLS is moat's
 * own offer (doc/design/smtp-tls.md): terminated here with moat's
 * certificate, or, for passthrough, the next hop's handed on.
 *
 * TLS toward the next hop is moat's own too: at the first MAIL, when the
 * next hop offered STARTTLS, moat starts it and says EHLO again; whether
 * the next hop's certificate is good enough is judged per recipient, at
 * RCPT, when the recipients' domains are known.
 */
#include "smtp/proxy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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
#include "base/log.h"
#include "smtp/memory.h"
#include "smtp/msgbuf.h"
#include "smtp/smtpdata.h"
#include "smtp/smtpio.h"

#define CMD_MAX		512	/* RFC 5321 4.5.3.1.4, with CRLF */
#define MEM_HOLD	(1024 * 1024)	/* held in memory; more goes to disk */
#define OUT_BUF		(64 * 1024)
#define ERRORS_MAX	20
#define FINAL_TIMEOUT	600	/* RFC 5321 4.5.3.2.6: reply to "." */
#define HANDSHAKE_MAX	60	/* seconds a TLS handshake may take */
#define PASSTHROUGH_MAX	3600	/* seconds a passthrough session may last */
#define RECORD_MAX	8192	/* a mail.jsonl record: every string at its
				   cap, each byte escaped (6), fits */

/* ---- configuration ---------------------------------------------------- */

/* What messages held in memory may take, all sessions together
 * (smtp-memory-limit of the newest configuration). */
static struct msgbuf_budget budget;

/* The host name of smtp-relay-to, for SNI and the certificate's name;
 * "" for an address. */
static void
relay_host_name(struct proxy_conf *c)
{
	const char *colon = strrchr(c->relay_to, ':');
	size_t n = colon ? (size_t)(colon - c->relay_to) : strlen(c->relay_to);
	char host[128];
	u128 a;
	enum addr_family fam;
	char err[80];

	c->relay_host[0] = '\0';
	if (c->relay_to[0] == '[' || n >= sizeof(host))
		return;
	memcpy(host, c->relay_to, n);
	host[n] = '\0';
	if (addr_parse(host, &a, &fam, err, sizeof(err)) == 0)
		return;
	snprintf(c->relay_host, sizeof(c->relay_host), "%s", host);
}

/* Write text to a file of the proxy's private directory, for a library
 * that reads a path (libunbound's trust anchor, the CA file). */
static int
scratch_file(const char *scratch, const char *what, const char *text,
    char *path, size_t len)
{
	static unsigned seq;
	int fd;
	size_t n = strlen(text);

	snprintf(path, len, "%s/tls-%u-%s", scratch, __atomic_add_fetch(&seq, 1,
	    __ATOMIC_RELAXED), what);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		goto fail;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	path[0] = '\0';
	return -1;
}

/* The recipients' TLS policy (smtp-tls-upstream dane or verify): the
 * trust anchor and the CA file, as the parent handed them over. */
static void
policy_open(struct proxy_conf *c, const char *scratch,
    const struct proxy_tls_files *tls)
{
	if (c->av.tls_upstream < AV_TLS_UP_DANE || scratch == NULL)
		return;
	if (tls == NULL || tls->trust_anchor == NULL) {
		snprintf(c->tlspol_err, sizeof(c->tlspol_err), "no DNSSEC trust "
		    "anchor (%s, or dnssec-trust-anchor)", DNSSEC_ROOT_KEY);
		goto fail;
	}
	if (scratch_file(scratch, "trust-anchor", tls->trust_anchor,
	    c->tlspol_files[0], sizeof(c->tlspol_files[0])) == -1 ||
	    (tls->ca != NULL && scratch_file(scratch, "ca.pem", tls->ca,
	    c->tlspol_files[1], sizeof(c->tlspol_files[1])) == -1)) {
		snprintf(c->tlspol_err, sizeof(c->tlspol_err), "%s: %s",
		    scratch, strerror(errno));
		goto fail;
	}
	c->tlspol = tlspol_new(c->tlspol_files[0], tls->ca != NULL ?
	    c->tlspol_files[1] : NULL, c->tlspol_err, sizeof(c->tlspol_err));
	if (c->tlspol != NULL)
		return;
fail:
	log_error("proxy: the recipients' TLS policy: %s; %s", c->tlspol_err,
	    c->av.tls_upstream == AV_TLS_UP_VERIFY ? "every recipient is "
	    "deferred until it works (smtp-tls-upstream verify)" : "DANE and "
	    "MTA-STS are not applied until it works (mail goes on with "
	    "opportunistic TLS)");
}

struct proxy_conf *
proxy_conf_new(const struct antivirus *av, const char *tmpdir,
    const char *scratch, const struct proxy_tls_files *tls)
{
	struct proxy_conf *c = calloc(1, sizeof(*c));
	unsigned long long before, after;
	long long t0;
	unsigned i;

	if (c == NULL)
		return NULL;
	c->av = *av;
	snprintf(c->engine_path, sizeof(c->engine_path), "%s",
	    av->engine_path);
	snprintf(c->relay_to, sizeof(c->relay_to), "%s", av->relay_to);
	c->av.engine_path = c->engine_path;
	/* The instances, engine_path first (an editor may set it alone). */
	c->av.nengine_addrs = av->nengine_addrs > 0 ? av->nengine_addrs : 1;
	if (c->av.nengine_addrs > AV_CLAMD_MAX)
		c->av.nengine_addrs = AV_CLAMD_MAX;
	for (i = 0; i < c->av.nengine_addrs; i++) {
		snprintf(c->engine_addr[i], sizeof(c->engine_addr[i]), "%s",
		    i == 0 ? av->engine_path : av->engine_addrs[i]);
		c->engine_addrs[i] = c->engine_addr[i];
	}
	c->av.engine_addrs = c->engine_addrs;
	c->av.relay_to = c->relay_to;
	/* The policy's strings and sets are not kept. */
	c->av.passthrough_from = NULL;
	c->av.tls_ca_file = c->av.trust_anchor = NULL;
	c->av.tls_cert = c->av.tls_key = NULL;
	c->av.passthrough_set = (struct iset){ 0 };
	if (av->passthrough_set.n > 0 && (c->passthrough = calloc(
	    av->passthrough_set.n, sizeof(*c->passthrough))) != NULL) {
		memcpy(c->passthrough, av->passthrough_set.v,
		    av->passthrough_set.n * sizeof(*c->passthrough));
		c->npassthrough = av->passthrough_set.n;
	}
	if (tlsio_creds_init(&c->tls, tls ? tls->cert : NULL, tls ? tls->key :
	    NULL, c->tls_err, sizeof(c->tls_err)) == -1)
		log_error("proxy: TLS: %s; STARTTLS is neither offered nor "
		    "used until it is fixed", c->tls_err);
	else if (c->tls.server == NULL)
		snprintf(c->tls_err, sizeof(c->tls_err), "no certificate");
	policy_open(c, scratch, tls);
	if (addr_hostport(c->relay_to, &c->relay_addr, &c->relay_len) == -1)
		c->relay_len = 0;
	relay_host_name(c);
	c->tmpdir = tmpdir;
	c->connect_timeout = av->command_timeout < 30 ? av->command_timeout :
	    30;
	if (gethostname(c->hostname, sizeof(c->hostname)) != 0)
		snprintf(c->hostname, sizeof(c->hostname), "moat");
	c->hostname[sizeof(c->hostname) - 1] = '\0';
	{
		pthread_rwlockattr_t ra;

		/* Writers first: a blocking reload must not wait for a
		 * lull between overlapping scans that never comes. */
		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra,
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&c->scan_lock, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	before = mem_in_use();
	t0 = smtpio_now();
	c->scanner = scanner_open(&c->av, scratch, c->scanner_err,
	    sizeof(c->scanner_err));
	c->load_ms = (unsigned)(smtpio_now() - t0);
	after = mem_in_use();
	c->engine_bytes = after > before ? after - before : 0;
	c->av.ignore_sigs = NULL;	/* the policy's: read by the open only */
	__atomic_store_n(&budget.limit, (size_t)av->memory_limit,
	    __ATOMIC_RELAXED);
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
		pthread_rwlock_destroy(&c->scan_lock);
		tlsio_creds_free(&c->tls);
		tlspol_free(c->tlspol);
		for (int i = 0; i < 2; i++)
			if (c->tlspol_files[i][0] != '\0')
				unlink(c->tlspol_files[i]);
		free(c->passthrough);
		free(c);
	}
}

void
proxy_conf_drop_engine(struct proxy_conf *c, const char *why)
{
	struct scanner *old;

	pthread_rwlock_wrlock(&c->scan_lock);
	old = c->scanner;
	c->scanner = NULL;
	c->reloading = true;
	snprintf(c->scanner_err, sizeof(c->scanner_err), "%s", why);
	pthread_rwlock_unlock(&c->scan_lock);
	scanner_close(old);
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

struct session {
	struct proxy_session	*ps;
	struct proxy_conf	*conf;
	struct smtpio		 client, up;
	bool			 up_open;
	/* TLS */
	bool			 offer_tls;	/* moat's STARTTLS to the client */
	bool			 passthrough;	/* the client's goes upstream */
	bool			 up_offers_tls;	/* in the next hop's last EHLO */
	bool			 up_tls_tried;	/* once a session */
	char			 ehlo[CMD_MAX + 1];	/* the client's last */
	size_t			 ehlo_len;
	char			 tls_in[64], tls_out[64];	/* or "none" */
	const char		*verified;	/* "dane", "mta-sts", "ca", "none":
						   the strictest one met by the
						   transaction's recipients */
	struct tlspol		*pol;		/* the last recipient domain's */
	char			 client_name[80], server_name[80];
	/* the transaction */
	enum session_state	 state;
	unsigned		 nrcpt;		/* accepted by the next hop */
	char			 from[CMD_MAX];
	unsigned		 errors;
	struct msgbuf		 msg;
	struct smtpio_reply	 r;
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
	return smtpio_write(&s->client, buf, (size_t)n + 2) == SMTPIO_OK ? 0 : -1;
}

/* Pass the upstream's reply on, as it came: 0, or -1 when the client is
 * gone. */
static int
relay_reply(struct session *s)
{
	return smtpio_write(&s->client, s->r.text, s->r.len) == SMTPIO_OK ? 0 :
	    -1;
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
	/* The client's address asked for and not to be had (moatd gave no
	 * CAP_NET_RAW: the kernel lacks chain spoof_guard): tried again
	 * later, not sent from the gateway's address, which a server
	 * inside may trust more than the client's. */
	if (s->ps->mode == PROXY_TRANSPARENT &&
	    s->conf->av.keep_client_address && !s->ps->spoof) {
		snprintf(why, whylen, "smtp-keep-client-address, and the "
		    "client's address cannot be kept now (moatd's log says "
		    "why)");
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
	smtpio_init(&s->up, fd, s->conf->av.command_timeout);
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
	if (s->up_open) {
		if (s->up.tls != NULL)
			smtpio_tls_end(&s->up);
		close(s->up.fd);
	}
	s->up_open = false;
}

/* Why a reply could not be read, for the log. */
static const char *
reply_error(int rc)
{
	switch (rc) {
	case SMTPIO_TIMEOUT:
		return "timed out";
	case SMTPIO_LONG:
		return "sent a reply longer than moat reads";
	case SMTPIO_BAD:
		return "sent a reply that is not SMTP";
	default:
		return "closed the connection";
	}
}

/* Send a command upstream and read its reply into s->r; on failure the
 * upstream is closed (a next hop whose replies cannot be followed is
 * never read again: the next reply would pair with the wrong command)
 * and s->r.code is 0. */
static int
upstream_cmd(struct session *s, const char *cmd, size_t len)
{
	char buf[CMD_MAX + 3];
	int rc;

	if (!s->up_open || len > CMD_MAX) {
		s->r.code = 0;
		return -1;
	}
	memcpy(buf, cmd, len);
	memcpy(buf + len, "\r\n", 2);
	smtpio_deadline(&s->up, smtpio_now() +
	    (long long)s->conf->av.command_timeout * 1000);
	if ((rc = smtpio_write(&s->up, buf, len + 2)) != SMTPIO_OK ||
	    (rc = smtpio_read_reply(&s->up, &s->r)) != SMTPIO_OK) {
		log_info("S%u: server=%s %s", s->ps->id, s->server_name,
		    reply_error(rc));
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
	if (st != s->state)
		log_debug("S%u: %s -> %s", s->ps->id, state_name[s->state],
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
	s->verified = "none";
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

/* Whether the next hop's EHLO reply (s->r) offers keyword kw. */
static bool
ehlo_offers(const struct session *s, const char *kw)
{
	const char *line, *eol;
	size_t n = strlen(kw);

	if (s->r.code != 250)
		return false;
	for (line = s->r.text; (eol = strstr(line, "\r\n")) != NULL;
	    line = eol + 2)
		if (line != s->r.text && (size_t)(eol - line) >= 4 + n &&
		    strncasecmp(line + 4, kw, n) == 0 && (line[4 + n] == '\r' ||
		    line[4 + n] == ' '))
			return true;
	return false;
}

/* Whether this client, still in plain text, may say STARTTLS: moat's
 * own offer, or, for passthrough, the next hop's while moat has not
 * started TLS with it itself. */
static bool
client_tls_offered(const struct session *s)
{
	if (s->client.tls != NULL)
		return false;
	if (s->passthrough && s->up_offers_tls && s->up.tls == NULL)
		return true;
	return s->offer_tls;
}

/* The next hop's EHLO reply, cleaned of what the proxy cannot pass, with
 * PIPELINING and moat's SIZE last.  Every line keeps its text with its
 * "250-" prefix: the reply cannot grow past what came plus the two lines
 * added. */
/* To a client that said HELO, the next hop's answer to EHLO as HELO's:
 * its first line alone ("250 mx.example"), or the reply as it is when it
 * refused. */
static int
helo_reply(struct session *s)
{
	const char *eol;

	if (s->r.code != 250 || s->r.len < 4 ||
	    (eol = strstr(s->r.text, "\r\n")) == NULL)
		return relay_reply(s);
	if (eol - s->r.text <= 4)	/* a bare "250": a name of ours */
		return say(s, "250 %s", s->conf->hostname);
	return say(s, "250 %.*s", (int)(eol - s->r.text - 4), s->r.text + 4);
}

static int
relay_ehlo(struct session *s)
{
	char *out, *line, *eol;
	size_t n = 0;
	int rc;

	if (s->r.code != 250)
		return relay_reply(s);
	if ((out = malloc(s->r.len + 96)) == NULL)
		return -1;
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
	n += (size_t)snprintf(out + n, s->r.len + 96 - n, "%s250-PIPELINING\r\n"
	    "250 SIZE %llu\r\n", client_tls_offered(s) ? "250-STARTTLS\r\n" :
	    "", (unsigned long long)s->conf->av.max_size);
	rc = smtpio_write(&s->client, out, n) == SMTPIO_OK ? 0 : -1;
	free(out);
	return rc;
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

static void (*reporter)(const char *json, size_t len);

void
proxy_set_reporter(void (*fn)(const char *json, size_t len))
{
	reporter = fn;
}

/* A record being written: appends never pass room; one that does not
 * fit marks it full, and a full record is not reported (never a record
 * cut in the middle, never a write past the buffer). */
struct rec {
	char	 buf[RECORD_MAX];
	size_t	 n;
	bool	 full;
};

static void
rec_printf(struct rec *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rec_printf(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (r->full)
		return;
	va_start(ap, fmt);
	k = vsnprintf(r->buf + r->n, sizeof(r->buf) - r->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(r->buf) - r->n)
		r->full = true;
	else
		r->n += (size_t)k;
}

/* The length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n, i;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/* A JSON string of at most max bytes of s, written in at most 2 * max
 * bytes (an escaped string is cut there: a record must go to moatd in
 * one write of under PIPE_BUF, and six bytes an escaped byte made some
 * peers' records twice that, lost unsaid): quotes, backslashes and
 * control characters escaped, a byte that is not UTF-8 written U+FFFD
 * (the record stays valid JSON whatever a peer sent). */
static void
rec_jstr(struct rec *r, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, u;
	char *o, *start;

	if (r->full || sizeof(r->buf) - r->n < 2)
		goto full;
	o = start = r->buf + r->n;
	*o++ = '"';
	while (p[i] != '\0' && i < max) {
		/* room for the longest: an escape (6) and the closing quote */
		if ((size_t)(o - r->buf) + 8 > sizeof(r->buf))
			goto full;
		if ((size_t)(o - start) + 6 > 2 * max)
			break;		/* its share of the record: cut */
		if (p[i] == '"' || p[i] == '\\') {
			*o++ = '\\';
			*o++ = (char)p[i++];
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[p[i] >> 4];
			o[5] = hex[p[i] & 15];
			o += 6;
			i++;
		} else if (p[i] < 0x80)
			*o++ = (char)p[i++];
		else if ((u = utf8_len(p + i)) > 0 && i + u <= max) {
			memcpy(o, p + i, u);
			o += u;
			i += u;
		} else {
			memcpy(o, "\\ufffd", 6);
			o += 6;
			i++;
		}
	}
	*o++ = '"';
	*o = '\0';
	r->n = (size_t)(o - r->buf);
	return;
full:
	r->full = true;
}

static void
rec_report(struct session *s, struct rec *r)
{
	if (r->full) {
		log_info("S%u: a record longer than %d bytes: not reported",
		    s->ps->id, RECORD_MAX);
		return;
	}
	reporter(r->buf, r->n);
}

/* The Message-ID of the held message (its header part), or "". */
static void
message_id(const struct session *s, char *out, size_t len)
{
	char head[16384], *p, *end;
	ssize_t n = msgbuf_read(&s->msg, 0, head, sizeof(head) - 1);

	out[0] = '\0';
	if (n <= 0)
		return;
	head[n] = '\0';
	for (p = head; *p != '\0'; p = end + 1) {
		if ((end = strchr(p, '\n')) == NULL)
			return;
		if (p == end || (p + 1 == end && *p == '\r'))
			return;		/* the headers end */
		if (strncasecmp(p, "Message-ID:", 11) == 0) {
			p += 11;
			while (*p == ' ' || *p == '\t')
				p++;
			snprintf(out, len, "%.*s", (int)(end - p -
			    (end > p && end[-1] == '\r')), p);
			return;
		}
	}
}

/* A record's start: when, the session, its two ends and the sender:
 * {"time":...,"from":"<...>" (no closing brace). */
static void
record_start(const struct session *s, struct rec *r)
{
	char when[40];
	struct timespec now;
	struct tm tm;

	r->n = 0;
	r->full = false;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	rec_printf(r, "{\"time\":\"%s.%03ldZ\",\"session\":%u,\"mode\":\"%s\","
	    "\"client\":\"%s\",\"server\":\"%s\",\"from\":", when,
	    now.tv_nsec / 1000000, s->ps->id, s->ps->mode == PROXY_RELAY ?
	    "relay" : "intercept", s->client_name, s->server_name);
	rec_jstr(r, s->from[0] ? s->from : "<>", 300);
}

/* The message's record for mail.jsonl, to the reporter. */
static void
report_message(struct session *s, const char *verdict, const char *sig,
    const char *reply, double secs)
{
	struct rec *r;
	char mid[256];

	if (reporter == NULL || (r = malloc(sizeof(*r))) == NULL)
		return;
	message_id(s, mid, sizeof(mid));
	record_start(s, r);
	rec_printf(r, ",\"rcpts\":%u,\"size\":%zu,\"message_id\":", s->nrcpt,
	    s->msg.total);
	rec_jstr(r, mid, 200);
	rec_printf(r, ",\"verdict\":\"%s\",\"signature\":", verdict);
	rec_jstr(r, sig, 127);
	rec_printf(r, ",\"reply\":");
	rec_jstr(r, reply, 150);
	rec_printf(r, ",\"seconds\":%.3f,\"scan_seconds\":%.3f,\"tls_in\":\"%s\","
	    "\"tls_out\":\"%s\",\"tls_verify\":\"%s\"}", secs, s->scan_secs,
	    s->tls_in, s->tls_out, s->verified);
	rec_report(s, r);
	free(r);
}

/* A recipient deferred for its domain's TLS policy: a record of its own
 * (no message: the others of the transaction may go on). */
static void
report_deferral(struct session *s, const char *domain, const char *policy,
    const char *reply)
{
	struct rec *r;

	if (reporter == NULL || (r = malloc(sizeof(*r))) == NULL)
		return;
	record_start(s, r);
	rec_printf(r, ",\"verdict\":\"tls-deferred\",\"rcpt_domain\":");
	rec_jstr(r, domain, 255);
	rec_printf(r, ",\"policy\":\"%s\",\"reply\":", policy);
	rec_jstr(r, reply, 300);
	rec_printf(r, ",\"tls_in\":\"%s\",\"tls_out\":\"%s\","
	    "\"tls_verify\":\"none\"}", s->tls_in, s->tls_out);
	rec_report(s, r);
	free(r);
}

/* A passthrough session's record: no message moat could see, the bytes
 * each way instead. */
static void
report_passthrough(struct session *s, uint64_t in, uint64_t out, double secs)
{
	struct rec *r;

	log_info("S%u: client=%s server=%s not scanned: tls passthrough "
	    "(%llu bytes in, %llu out, %.3f s)", s->ps->id, s->client_name,
	    s->server_name, (unsigned long long)in, (unsigned long long)out,
	    secs);
	if (reporter == NULL || (r = malloc(sizeof(*r))) == NULL)
		return;
	record_start(s, r);
	rec_printf(r, ",\"verdict\":\"passthrough\",\"reply\":\"not scanned: "
	    "tls passthrough\",\"bytes_in\":%llu,\"bytes_out\":%llu,"
	    "\"seconds\":%.3f,\"tls_in\":\"passthrough\",\"tls_out\":"
	    "\"passthrough\",\"tls_verify\":\"none\"}", (unsigned long long)in,
	    (unsigned long long)out, secs);
	rec_report(s, r);
	free(r);
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
	log_info("S%u: client=%s server=%s from=%s rcpts=%u size=%zu "
	    "verdict=%s sig=%s reply=\"%s\" time=%.3f scan=%.3f tls_in=\"%s\" "
	    "tls_out=\"%s\" verified=%s", s->ps->id,
	    s->client_name, s->server_name, s->from[0] ? s->from : "<>",
	    s->nrcpt, s->msg.total, verdict, sig[0] ? sig : "-", r,
	    (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9, s->scan_secs, s->tls_in,
	    s->tls_out, s->verified);
	report_message(s, verdict, sig, r, (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
}

/* The message as it is read: kept unless it is already refused. */
struct hold {
	struct session	*s;
	long long	 start;		/* ms, when DATA began */
	uint64_t	 received;	/* bytes */
	bool		 over;		/* past max size: the rest dropped */
	bool		 store_failed;	/* msgbuf could not take it */
	bool		 bare;		/* it had a bare CR or LF */
};

static void
keep(void *arg, const char *p, size_t n)
{
	struct hold *h = arg;
	struct session *s = h->s;
	const struct antivirus *av = &s->conf->av;

	/* The whole message must come at smtp-min-data-rate, after a start
	 * of smtp-data-timeout: a client that trickles is cut off. */
	h->received += n;
	if (av->min_data_rate > 0)
		smtpio_deadline(&s->client, h->start +
		    (long long)av->data_timeout * 1000 +
		    (long long)(h->received * 1000 / av->min_data_rate));
	if (h->over || h->store_failed || n == 0)
		return;
	if (s->msg.total + n > s->conf->av.max_size)
		h->over = true;
	else if (msgbuf_add(&s->msg, p, n) == -1)
		h->store_failed = true;
}

/* Read the message after 354 into s->msg, within the data timeout.
 * Returns SMTPIO_OK, SMTPIO_EOF or SMTPIO_TIMEOUT. */
static int
read_data(struct session *s, struct hold *h)
{
	unsigned saved = s->client.timeout;
	int rc;

	*h = (struct hold){ .s = s, .start = smtpio_now() };
	s->client.timeout = s->conf->av.data_timeout;
	smtpio_deadline(&s->client, s->conf->av.min_data_rate > 0 ? h->start +
	    (long long)s->conf->av.data_timeout * 1000 : 0);
	rc = smtpdata_read(&s->client, s->conf->av.bare_normalize ?
	    SMTPDATA_BARE_NORMALIZE : SMTPDATA_BARE_REJECT, keep, h, &h->bare);
	s->client.timeout = saved;
	smtpio_deadline(&s->client, 0);
	return rc;
}

/* Send the held message upstream after its 354, header first; then read
 * the final reply into s->r.  0, or -1 with the upstream closed. */
static int
send_message(struct session *s, const char *header)
{
	struct smtpdata_writer w;
	size_t off = 0;
	int rc = -1;

	if (s->out == NULL && (s->out = malloc(OUT_BUF)) == NULL)
		goto done;
	smtpdata_begin(&w, &s->up, s->out, OUT_BUF);
	/* The whole message within smtp-data-timeout and the time
	 * smtp-min-data-rate gives its size, as a client's must come: a
	 * next hop that opens its window a few bytes at a time is cut off
	 * (the client gets 4xx; nothing was acknowledged). */
	smtpio_write_deadline(&s->up, smtpio_now() +
	    (long long)s->conf->av.data_timeout * 1000 +
	    (s->conf->av.min_data_rate > 0 ? (long long)((s->msg.total +
	    strlen(header)) * 1000 / s->conf->av.min_data_rate) : 0));
	if (smtpdata_put(&w, header, strlen(header)) == -1)
		goto done;
	for (;;) {
		const char *in;
		ssize_t n;

		if (s->msg.fd == -1) {		/* in memory: read in place */
			if ((n = (ssize_t)(s->msg.len - off)) == 0)
				break;		/* (mem is NULL when empty) */
			in = s->msg.mem + off;
		} else {
			if (s->in == NULL && (s->in = malloc(OUT_BUF)) == NULL)
				goto done;
			in = s->in;
			n = msgbuf_read(&s->msg, off, s->in, OUT_BUF);
		}
		if (n < 0)
			goto done;
		if (n == 0)
			break;
		if (smtpdata_put(&w, in, (size_t)n) == -1)
			goto done;
		off += (size_t)n;
	}
	if (smtpdata_end(&w) == -1)
		goto done;
	s->up.timeout = FINAL_TIMEOUT;
	smtpio_deadline(&s->up, smtpio_now() + FINAL_TIMEOUT * 1000);
	rc = smtpio_read_reply(&s->up, &s->r) == SMTPIO_OK ? 0 : -1;
	s->up.timeout = s->conf->av.command_timeout;
done:
	smtpio_write_deadline(&s->up, 0);
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
	char header[512], ignored[140] = "", engine[96] = "";
	bool reloading = false;	/* a blocking reload: 451, never a pass */
	struct hold h;
	int rc;

	if (s->state != ST_MAIL)
		return say(s, "503 5.5.1 Error: need MAIL command");
	if (s->nrcpt == 0)
		return say(s, "554 5.5.1 Error: no valid recipients");
	if (say(s, "354 End data with <CR><LF>.<CR><LF>") == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s->scan_secs = 0;
	rc = read_data(s, &h);
	if (rc != SMTPIO_OK) {
		/* The client left (or went silent) mid-DATA: nothing is
		 * delivered; the next hop never saw DATA. */
		log_message(s, rc == SMTPIO_TIMEOUT ? "timeout" : "aborted", "",
		    &t0, "client gone during DATA");
		upstream_rset(s);
		if (rc == SMTPIO_TIMEOUT)
			say(s, "421 4.4.2 %s Error: timeout "
			    "exceeded", s->conf->hostname);
		return -1;
	}
	if (h.over) {
		log_message(s, "too-big", "", &t0, "552");
		upstream_rset(s);
		reset_transaction(s);
		return say(s, "552 5.3.4 Error: message exceeds "
		    "the size limit of %llu bytes",
		    (unsigned long long)s->conf->av.max_size);
	}
	if (h.bare && !s->conf->av.bare_normalize) {
		/* Lines end in CRLF (RFC 5321 2.3.8); a message with a bare
		 * CR or LF is refused whole (smtp-bare-newline reject). */
		log_message(s, "bare-newline", "", &t0, "554");
		upstream_rset(s);
		reset_transaction(s);
		return say(s, "554 5.5.2 Error: bare CR or LF in the message; "
		    "lines must end in CRLF");
	}
	if (h.store_failed) {
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
	} else {
		/* Under the read lock: a blocking reload may take the engine
		 * away, but never in the middle of a scan. */
		pthread_rwlock_rdlock(&s->conf->scan_lock);
		if (s->conf->scanner == NULL) {
			snprintf(res.why, sizeof(res.why), "%.150s",
			    s->conf->scanner_err);
			reloading = s->conf->reloading;
		} else {
			struct timespec a, b;

			snprintf(engine, sizeof(engine), "%s",
			    scanner_name(s->conf->scanner));
			clock_gettime(CLOCK_MONOTONIC, &a);
			scanner_scan(s->conf->scanner, &s->msg, &res);
			clock_gettime(CLOCK_MONOTONIC, &b);
			s->scan_secs = (double)(b.tv_sec - a.tv_sec) +
			    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		}
		pthread_rwlock_unlock(&s->conf->scan_lock);
	}
	if (s->ps->scan && res.verdict == SCAN_CLEAN)
		snprintf(header, sizeof(header), "X-Virus-Scanned: clean by "
		    "moat (%s) on %s%s%.100s%s\r\n", engine, s->conf->hostname,
		    res.ignored[0] ? " (ignored: " : "", res.ignored,
		    res.ignored[0] ? ")" : "");
	/* A match of a signature the admin ignores: logged, and passed. */
	if (res.verdict == SCAN_CLEAN && res.ignored[0] != '\0')
		snprintf(ignored, sizeof(ignored), "ignored: %.120s",
		    res.ignored);
	if (res.verdict == SCAN_VIRUS) {
		log_message(s, "virus", res.sig, &t0, "554");
		upstream_rset(s);
		reset_transaction(s);
		return say(s, "554 5.7.1 Error: message rejected: "
		    "virus found: %s", res.sig);
	}
	if (res.verdict == SCAN_FAILED && (!s->conf->av.fail_pass ||
	    reloading)) {
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
	    "unscanned") : "unscanned-failure", ignored, &t0, s->r.text);
	reset_transaction(s);
	return relay_reply(s);
}

/* ---- TLS ---------------------------------------------------------------- */

static unsigned
handshake_ms(const struct session *s)
{
	unsigned secs = s->conf->av.command_timeout;

	return (secs < HANDSHAKE_MAX ? secs : HANDSHAKE_MAX) * 1000;
}

/* The next hop again, in plain text, after its TLS handshake failed (the
 * connection is unusable then): greeting and EHLO, unseen by the client,
 * which already has both.  Postfix's client does the same at "may"; where
 * a domain asks for TLS, its recipients are refused at RCPT.  0, or -1
 * (no next hop). */
static int
upstream_again_plain(struct session *s)
{
	char why[256];

	upstream_close(s);
	if (upstream_connect(s, why, sizeof(why)) == -1) {
		log_info("S%u: server=%s again in plain text: %s", s->ps->id,
		    s->server_name, why);
		return -1;
	}
	smtpio_deadline(&s->up, smtpio_now() +
	    (long long)s->conf->av.command_timeout * 1000);
	if (smtpio_read_reply(&s->up, &s->r) != SMTPIO_OK || s->r.code != 220 ||
	    upstream_cmd(s, s->ehlo, s->ehlo_len) == -1 || s->r.code != 250) {
		log_info("S%u: server=%s again in plain text: no greeting or "
		    "EHLO", s->ps->id, s->server_name);
		upstream_close(s);
		return -1;
	}
	s->up_offers_tls = false;
	return 0;
}

/* TLS with the next hop, before the first MAIL, when it offers STARTTLS
 * (and smtp-tls-upstream is not none): STARTTLS, the handshake, EHLO
 * again (RFC 3207 4.2: what it said before TLS is forgotten).  A 454 or
 * a failed handshake leaves the session in plain text.  0 to go on, -1
 * when the next hop is gone. */
static int
upstream_starttls(struct session *s)
{
	char why[256];
	size_t dropped;

	if (s->up.tls != NULL || s->up_tls_tried || !s->up_offers_tls ||
	    s->conf->av.tls_upstream == AV_TLS_UP_NONE ||
	    s->conf->tls.client == NULL || s->ehlo_len == 0)
		return 0;
	s->up_tls_tried = true;
	if (upstream_cmd(s, "STARTTLS", 8) == -1)
		return -1;
	if (s->r.code != 220) {
		log_info("S%u: server=%s answered STARTTLS with %d: plain text",
		    s->ps->id, s->server_name, s->r.code);
		return 0;
	}
	if (smtpio_starttls(&s->up, &s->conf->tls, false, s->ps->mode ==
	    PROXY_RELAY ? s->conf->relay_host : NULL, handshake_ms(s),
	    &dropped, why, sizeof(why)) == -1) {
		log_info("S%u: server=%s TLS handshake failed: %s; again in "
		    "plain text", s->ps->id, s->server_name, why);
		return upstream_again_plain(s);
	}
	if (dropped > 0)
		log_info("S%u: server=%s sent %zu bytes after its 220 to "
		    "STARTTLS: dropped", s->ps->id, s->server_name, dropped);
	tlsio_describe(s->up.tls, s->tls_out, sizeof(s->tls_out));
	log_debug("S%u: server=%s %s", s->ps->id, s->server_name, s->tls_out);
	if (upstream_cmd(s, s->ehlo, s->ehlo_len) == -1)
		return -1;
	if (s->r.code != 250) {
		log_info("S%u: server=%s refused EHLO after STARTTLS: %d",
		    s->ps->id, s->server_name, s->r.code);
		upstream_close(s);
		return -1;
	}
	return 0;
}

/* Copy bytes both ways until either end closes, both are idle for the
 * longer of the command and data timeouts, or PASSTHROUGH_MAX has passed:
 * the client's TLS with the next hop, which moat cannot read (and so
 * cannot hold to smtp-min-data-rate).  Bytes each way in *in and *out. */
static void
splice_both(struct session *s, uint64_t *in, uint64_t *out)
{
	struct pollfd pfd[2] = { { .fd = s->client.fd, .events = POLLIN },
	    { .fd = s->up.fd, .events = POLLIN } };
	const struct antivirus *av = &s->conf->av;
	long long end = smtpio_now() + PASSTHROUGH_MAX * 1000LL;
	long long idle = (long long)(av->command_timeout > av->data_timeout ?
	    av->command_timeout : av->data_timeout) * 1000;
	char buf[16384];

	*in = *out = 0;
	for (;;) {
		long long left = end - smtpio_now();
		int i, n;

		if (left <= 0) {
			log_info("S%u: client=%s passthrough past %d s: cut",
			    s->ps->id, s->client_name, PASSTHROUGH_MAX);
			return;
		}
		n = poll(pfd, 2, (int)(left < idle ? left : idle));
		if (n <= 0)
			return;
		for (i = 0; i < 2; i++) {
			ssize_t r, w = 0;

			if (pfd[i].revents == 0)
				continue;
			if ((r = recv(pfd[i].fd, buf, sizeof(buf), 0)) <= 0)
				return;
			while (w < r) {
				ssize_t k = send(pfd[1 - i].fd, buf + w,
				    (size_t)(r - w), MSG_NOSIGNAL);

				if (k <= 0)
					return;
				w += k;
			}
			*(i == 0 ? in : out) += (uint64_t)r;
		}
	}
}

static void report_passthrough(struct session *s, uint64_t in,
    uint64_t out, double secs);

/* The client's STARTTLS, passed to the next hop: from its 220 on, the
 * bytes are copied, unread and unscanned (smtp-intercept-tls passthrough,
 * smtp-tls-passthrough-from).  The session ends with the copy. */
static int
passthrough(struct session *s)
{
	struct timespec t0, t1;
	uint64_t in, out;
	size_t early;

	if (upstream_cmd(s, "STARTTLS", 8) == -1)
		return -1;
	if (relay_reply(s) == -1)
		return -1;
	if (s->r.code != 220)
		return 0;		/* its words; plain text goes on */
	/* What either end sent after STARTTLS, before TLS, is dropped:
	 * passed on, it would be read as the start of the other's TLS, or
	 * as commands inside it (CVE-2011-0411). */
	early = (s->client.end - s->client.start) + (s->up.end - s->up.start);
	if (early > 0)
		log_info("S%u: client=%s %zu bytes sent after STARTTLS before "
		    "TLS: dropped", s->ps->id, s->client_name, early);
	s->client.start = s->client.end = 0;
	s->up.start = s->up.end = 0;
	snprintf(s->tls_in, sizeof(s->tls_in), "passthrough");
	snprintf(s->tls_out, sizeof(s->tls_out), "passthrough");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	splice_both(s, &in, &out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report_passthrough(s, in, out, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	upstream_close(s);
	set_state(s, ST_QUIT);
	return 0;
}

/* The client's STARTTLS. */
static int
client_starttls(struct session *s, size_t len)
{
	char why[256];
	size_t dropped;

	if (len > 8)
		return say(s, "501 5.5.4 Syntax: STARTTLS");
	if (s->client.tls != NULL)
		return say(s, "554 5.5.1 Error: TLS already active");
	if (!client_tls_offered(s))
		return say(s, "502 5.5.1 Error: command not implemented");
	if (s->state == ST_MAIL)
		return say(s, "503 5.5.1 Error: MAIL transaction in progress");
	if (s->passthrough && s->up_offers_tls && s->up.tls == NULL)
		return passthrough(s);
	if (say(s, "220 2.0.0 Ready to start TLS") == -1)
		return -1;
	if (smtpio_starttls(&s->client, &s->conf->tls, true, NULL,
	    handshake_ms(s), &dropped, why, sizeof(why)) == -1) {
		log_info("S%u: client=%s TLS handshake failed: %s", s->ps->id,
		    s->client_name, why);
		return -1;
	}
	if (dropped > 0)
		log_info("S%u: client=%s %zu bytes sent after STARTTLS before "
		    "TLS: dropped", s->ps->id, s->client_name, dropped);
	tlsio_describe(s->client.tls, s->tls_in, sizeof(s->tls_in));
	log_debug("S%u: client=%s %s", s->ps->id, s->client_name, s->tls_in);
	/* RFC 3207 4.2: the client starts again with EHLO */
	reset_transaction(s);
	set_state(s, ST_CONNECTED);
	return 0;
}

/* ---- the recipients' TLS policy ----------------------------------------- */

#define POLICY_TIMEOUT	30	/* seconds a recipient's lookups may take */

static int
verified_rank(const char *v)
{
	return strcmp(v, "dane") == 0 ? 3 : strcmp(v, "mta-sts") == 0 ? 2 :
	    strcmp(v, "ca") == 0 ? 1 : 0;
}

/* The domain of RCPT TO:<local@domain> ..., lower case, in out ("" for
 * none, such as <postmaster>). */
static void
rcpt_domain(const char *line, char *out, size_t len)
{
	const char *lt = strchr(line, '<'), *gt, *at = NULL, *p;
	size_t n = 0;

	out[0] = '\0';
	if (lt == NULL || (gt = strchr(lt, '>')) == NULL)
		return;
	for (p = lt; p < gt; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return;
	for (p = at + 1; p < gt && n + 1 < len; p++)
		out[n++] = (char)tolower((unsigned char)*p);
	while (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
}

static void report_deferral(struct session *s, const char *domain,
    const char *policy, const char *reply);

/* A recipient held to its domain's TLS policy (smtp-tls-upstream dane or
 * verify): the next hop's TLS (what it showed at the handshake, or none)
 * must meet what the domain publishes (DANE, MTA-STS) or the level asks.
 * 0: it does (or nothing is asked); 1: the recipient was refused with
 * 4xx here, never passed upstream; -1: the client is gone. */
static int
rcpt_tls(struct session *s, const char *line)
{
	const struct proxy_conf *c = s->conf;
	const struct sockaddr_storage *hop = s->ps->mode == PROXY_RELAY ?
	    &c->relay_addr : &s->ps->local;
	const gnutls_datum_t *chain = NULL;
	char domain[256], why[256], reply[512];
	const char *kind;
	unsigned n = 0;
	int rc;

	if (c->av.tls_upstream < AV_TLS_UP_DANE)
		return 0;
	/* The relay's next hop is the configured smarthost, never a
	 * recipient's MX: DANE and MTA-STS speak of MX hosts. */
	if (s->ps->mode == PROXY_RELAY &&
	    c->av.tls_upstream != AV_TLS_UP_VERIFY)
		return 0;
	rcpt_domain(line, domain, sizeof(domain));
	if (c->tlspol == NULL) {
		if (c->av.tls_upstream != AV_TLS_UP_VERIFY)
			return 0;
		snprintf(reply, sizeof(reply), "451 4.7.5 the next hop's "
		    "certificate cannot be verified (%.150s); try again later",
		    c->tlspol_err);
		kind = "verify";
		goto refuse;
	}
	if (s->pol == NULL || strcmp(s->pol->domain, domain) != 0) {
		if (s->pol == NULL && (s->pol = malloc(sizeof(*s->pol))) ==
		    NULL)
			return say(s, "451 4.3.0 Error: out of memory") == -1 ?
			    -1 : 1;
		tlspol_lookup(c->tlspol, (int)c->av.tls_upstream, domain, hop,
		    s->ps->mode == PROXY_RELAY ? c->relay_host : NULL,
		    smtpio_now() + POLICY_TIMEOUT * 1000, s->pol);
		/* a tempfail is not kept: the next recipient asks again */
		if (s->pol->tempfail)
			s->pol->domain[0] = '\0';
		log_debug("S%u: %s: %s", s->ps->id, domain, s->pol->why);
	}
	kind = s->pol->kind == TLSPOL_DANE ? "dane" : s->pol->kind ==
	    TLSPOL_MTASTS ? "mta-sts" : s->pol->kind == TLSPOL_VERIFY ?
	    "verify" : "none";
	if (s->pol->tempfail) {
		snprintf(reply, sizeof(reply), "451 4.4.3 the TLS policy of %s "
		    "could not be looked up (%.150s); try again later", domain,
		    s->pol->why);
		kind = "lookup";
		goto refuse;
	}
	if (s->up.tls != NULL)
		chain = tlsio_peer_chain(s->up.tls, &n);
	if (tlspol_check(c->tlspol, s->pol, chain, n, why, sizeof(why)) ==
	    -1) {
		snprintf(reply, sizeof(reply), "451 4.7.5 the next hop does not "
		    "meet the TLS policy of %s (%s): %.150s; try again later",
		    domain, kind, why);
		goto refuse;
	}
	if (verified_rank(tlspol_verified_name(s->pol)) >
	    verified_rank(s->verified))
		s->verified = tlspol_verified_name(s->pol);
	return 0;
refuse:
	log_info("S%u: client=%s server=%s rcpt domain=%s deferred: %s",
	    s->ps->id, s->client_name, s->server_name, domain, reply);
	report_deferral(s, domain, kind, reply);
	rc = say(s, "%s", reply);
	return rc == -1 ? -1 : 1;
}

/* One command from the client.  Returns 0 to go on (after QUIT the state
 * says the session is over), -1 when the session must end. */
static int
do_command(struct session *s, const char *line, size_t len)
{
	if (verb_is(line, "EHLO") || verb_is(line, "HELO")) {
		if (len < 6)
			return say(s, "501 5.5.4 Syntax: %.4s "
			    "hostname", line);
		bool helo = verb_is(line, "HELO");

		reset_transaction(s);
		memcpy(s->ehlo, line, len + 1);
		s->ehlo_len = len;
		/* The next hop is asked EHLO even when the client said HELO:
		 * without it, it offers no STARTTLS and the client's mail
		 * crossed in clear (a review, 2026-12-07).  One that does not
		 * know EHLO is asked HELO, as the client did. */
		if (helo)
			memcpy(s->ehlo, "EHLO", 4);
		if (upstream_cmd(s, s->ehlo, len) == -1)
			return -1;
		if (helo && s->r.code >= 500 && s->r.code <= 502) {
			memcpy(s->ehlo, line, len + 1);
			if (upstream_cmd(s, s->ehlo, len) == -1)
				return -1;
			helo = false;	/* its reply, as it is */
			s->up_offers_tls = false;
		} else
			/* only what it says now counts (after TLS, it may
			 * differ) */
			s->up_offers_tls = ehlo_offers(s, "STARTTLS");
		if (s->r.code == 250)
			set_state(s, ST_READY);
		if (helo)
			return helo_reply(s);
		return verb_is(line, "EHLO") ? relay_ehlo(s) : relay_reply(s);
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
		if (s->ps->mode == PROXY_RELAY && s->client.tls == NULL &&
		    s->conf->av.relay_require_tls)
			return say(s, "530 5.7.0 Must issue a STARTTLS command "
			    "first");
		if (upstream_starttls(s) == -1)
			return -1;
		if (upstream_cmd(s, line, len) == -1)
			return -1;
		if (s->r.code >= 200 && s->r.code < 300) {
			set_state(s, ST_MAIL);
			take_from(s, line);
		}
		return relay_reply(s);	/* its words */
	}
	if (verb_is(line, "RCPT")) {
		if (strncasecmp(line, "RCPT TO:", 8) != 0)
			return say(s, "501 5.5.4 Syntax: RCPT "
			    "TO:<address>");
		if (s->state != ST_MAIL)
			return say(s, "503 5.5.1 Error: need MAIL command");
		switch (rcpt_tls(s, line)) {
		case -1:
			return -1;
		case 1:
			return 0;	/* refused here: 4xx */
		}
		if (upstream_cmd(s, line, len) == -1)
			return -1;
		if (s->r.code >= 200 && s->r.code < 300)
			s->nrcpt++;
		return relay_reply(s);	/* its words */
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
		return relay_reply(s);	/* its words */
	}
	if (verb_is(line, "NOOP"))
		return say(s, "250 2.0.0 Ok");
	if (verb_is(line, "QUIT")) {
		set_state(s, ST_QUIT);
		say(s, "221 2.0.0 Bye");
		if (s->up_open)
			upstream_cmd(s, "QUIT", 4);
		return 0;
	}
	if (verb_is(line, "VRFY"))
		return say(s, "252 2.5.0 Cannot VRFY user; try RCPT");
	if (verb_is(line, "HELP"))
		return say(s, "214 2.0.0 Commands: EHLO HELO MAIL "
		    "RCPT DATA RSET NOOP QUIT VRFY HELP");
	if (verb_is(line, "STARTTLS"))
		return client_starttls(s, len);
	if (verb_is(line, "BDAT") ||
	    verb_is(line, "AUTH") || verb_is(line, "EXPN") ||
	    verb_is(line, "ETRN") || verb_is(line, "TURN"))
		return say(s, "502 5.5.1 Error: command not "
		    "implemented");
	s->errors++;
	return say(s, "500 5.5.2 Error: command not recognized");
}

/* The session from the next hop's greeting to the end: commands read and
 * answered in order until QUIT, a timeout, or either end leaving. */
static void
serve(struct session *s)
{
	struct proxy_session *ps = s->ps;
	size_t len;
	int rc;

	/* The greeting within smtp-command-timeout, however it trickles
	 * in (it was read a line's timeout at a time: a next hop that sent
	 * a byte just before each held a session for weeks). */
	smtpio_deadline(&s->up, smtpio_now() +
	    (long long)s->conf->av.command_timeout * 1000);
	if (smtpio_read_reply(&s->up, &s->r) != SMTPIO_OK) {
		log_info("S%u: client=%s server=%s no greeting", ps->id,
		    s->client_name, s->server_name);
		say(s, "421 4.4.2 %s Error: the next hop did not "
		    "greet; try again later", s->conf->hostname);
		return;
	}
	if (relay_reply(s) == -1 || s->r.code != 220)
		return;
	while (s->state != ST_QUIT) {
		/* A whole command within smtp-command-timeout, however it
		 * trickles in. */
		smtpio_deadline(&s->client, smtpio_now() +
		    (long long)s->conf->av.command_timeout * 1000);
		rc = smtpio_line(&s->client, s->line, CMD_MAX, &len);
		if (rc == SMTPIO_TIMEOUT) {
			say(s, "421 4.4.2 %s Error: timeout exceeded",
			    s->conf->hostname);
			log_info("S%u: client=%s timed out", ps->id,
			    s->client_name);
			break;
		}
		if (rc == SMTPIO_EOF)
			break;
		if (rc == SMTPIO_LONG) {
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
		if (memchr(s->line, '\r', len) != NULL ||
		    memchr(s->line, '\0', len) != NULL) {
			/* Never passed on: a next hop may read them as line
			 * ends (smuggling) or as the end of the string. */
			s->errors++;
			if (say(s, "500 5.5.2 Error: bare CR or NUL in a "
			    "command") == -1)
				break;
			continue;
		}
		if (do_command(s, s->line, len) == -1) {
			if (!s->up_open)	/* the client may still hear */
				say(s, "421 4.4.2 %s Error: the next hop "
				    "failed; try again later",
				    s->conf->hostname);
			break;
		}
		if (s->state != ST_QUIT && !s->up_open) {
			say(s, "421 4.4.2 %s Error: the next hop "
			    "closed the connection", s->conf->hostname);
			break;
		}
	}
	if (s->up_open && s->state != ST_QUIT)
		upstream_cmd(s, "QUIT", 4);
}

/* Whether the client is in smtp-tls-passthrough-from. */
static bool
passthrough_client(const struct proxy_conf *c,
    const struct sockaddr_storage *ss)
{
	u128 a;
	size_t i;

	if (c->npassthrough == 0)
		return false;
	if (ss->ss_family == AF_INET)
		a = V4_BASE | ntohl(((const struct sockaddr_in *)ss)->
		    sin_addr.s_addr);
	else {
		const unsigned char *b = ((const struct sockaddr_in6 *)ss)->
		    sin6_addr.s6_addr;

		a = 0;
		for (i = 0; i < 16; i++)
			a = a << 8 | b[i];
	}
	for (i = 0; i < c->npassthrough; i++)
		if (c->passthrough[i].lo <= a && a <= c->passthrough[i].hi)
			return true;
	return false;
}

/* A session for ps, or NULL (ps closed and released) without memory. */
static struct session *
session_new(struct proxy_session *ps)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		close(ps->fd);
		proxy_conf_put(ps->conf);
		return NULL;
	}
	s->ps = ps;
	s->conf = ps->conf;
	nodelay(ps->fd);
	smtpio_init(&s->client, ps->fd, s->conf->av.command_timeout);
	msgbuf_init(&s->msg, MEM_HOLD, s->conf->tmpdir, &budget);
	addr_sockaddr_format(&ps->client, s->client_name,
	    sizeof(s->client_name));
	snprintf(s->server_name, sizeof(s->server_name), "-");
	snprintf(s->tls_in, sizeof(s->tls_in), "none");
	snprintf(s->tls_out, sizeof(s->tls_out), "none");
	s->verified = "none";
	/* What moat does with the client's STARTTLS (smtp-intercept-tls):
	 * the relay always offers its own. */
	if (ps->mode == PROXY_RELAY)
		s->offer_tls = s->conf->tls.server != NULL;
	else if (s->conf->av.intercept_tls == AV_TLS_PASSTHROUGH ||
	    (s->conf->av.intercept_tls == AV_TLS_TERMINATE &&
	    passthrough_client(s->conf, &ps->client)))
		s->passthrough = true;
	else if (s->conf->av.intercept_tls == AV_TLS_TERMINATE)
		s->offer_tls = s->conf->tls.server != NULL;
	return s;
}

static void
session_free(struct session *s)
{
	upstream_close(s);
	if (s->client.tls != NULL)
		smtpio_tls_end(&s->client);
	msgbuf_free(&s->msg);
	smtpio_reply_free(&s->r);
	free(s->pol);
	free(s->out);
	free(s->in);
	close(s->ps->fd);
	proxy_conf_put(s->ps->conf);
	free(s);
}

void
proxy_run(struct proxy_session *ps)
{
	struct session *s = session_new(ps);
	char why[256];

	if (s == NULL)
		return;
	if (ps->mode == PROXY_TRANSPARENT && addr_is_local(&ps->local)) {
		/* TPROXY keeps the foreign destination of a connection
		 * passing through: this one came to the listener directly,
		 * and relaying it would connect the proxy to itself. */
		addr_sockaddr_format(&ps->local, s->server_name,
		    sizeof(s->server_name));
		log_info("S%u: client=%s server=%s refused: not intercepted "
		    "(a connection to the gateway itself)", ps->id,
		    s->client_name, s->server_name);
		say(s, "421 4.3.0 %s Error: this port takes intercepted "
		    "connections only", s->conf->hostname);
	} else if (upstream_connect(s, why, sizeof(why)) == -1) {
		log_info("S%u: client=%s next hop unreachable: %s", ps->id,
		    s->client_name, why);
		say(s, "421 4.4.1 %s Error: the next hop is not "
		    "reachable; try again later", s->conf->hostname);
	} else
		serve(s);
	session_free(s);
}

#ifdef MOAT_TEST_SEAMS
void
proxy_run_connected(struct proxy_session *ps, int upstream_fd)
{
	struct session *s = session_new(ps);

	if (s == NULL) {
		close(upstream_fd);
		return;
	}
	smtpio_init(&s->up, upstream_fd, s->conf->av.command_timeout);
	s->up_open = true;
	serve(s);
	session_free(s);
}
#endif

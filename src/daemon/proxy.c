/*
 * proxy.c: the scanning SMTP proxy as moatd's parent runs it: its
 * listening sockets, opened as root and kept open while the proxy
 * restarts (connections wait in the backlog); the proxy process, which
 * runs as its own user with no capability, or CAP_NET_RAW alone where it
 * connects upstream from the client's address (IP_TRANSPARENT),
 * supervised by child.c; the config
 * it is handed over a pipe; and its events (a line each: a message's
 * record, the engine, the sessions), which become the mail log and the
 * mail figures.
 */
#include "daemon/proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <jansson.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/fds.h"
#include "base/file.h"
#include "base/log.h"
#include "base/nospawn.h"
#include "base/strbuf.h"
#include "daemon/child.h"
#include "enforce/apply.h"
#include "enforce/nfgen.h"
#include "enforce/nftc.h"
#include "enforce/route.h"
#include "observe/logfile.h"
#include "observe/mailstats.h"
#include "policy/lexer.h"
#include "smtp/server.h"
#include "web/tls.h"

#define RUN_DIR		"/run/moat"	/* or $MOAT_RUN_DIR */
/* The self-signed pair for STARTTLS, in the state directory. */
#define SMTP_TLS_CERT	"smtp-tls.pem"
#define SMTP_TLS_KEY	"smtp-tls.key"
#define TLS_FILE_MAX	(4 << 20)	/* a CA bundle is ~200 KB */
#define CONF_SEND_MS	conf_ms(30000)	/* the proxy takes a config
						   (send_config) */
#define CONF_RETRY_MS	conf_ms(10000)

/* ms, or in test builds $MOAT_PROXY_CONF_MS (test_proxy.py's stall) */
static int
conf_ms(int ms)
{
#ifdef MOAT_TEST_SEAMS
	const char *e = getenv("MOAT_PROXY_CONF_MS");

	if (e != NULL && atoi(e) > 0)
		return atoi(e);
#endif
	return ms;
}

static const char *conf_path;
static const char *run_user;
static int tproxy_port;
static char scratch[4096];		/* the proxy's private directory */

static struct server_listener listeners[SERVER_LISTEN_MAX];
/* What the config asked for (listeners holds those that opened). */
static struct server_listener asked[SERVER_LISTEN_MAX];
static int nasked;
static int nlisteners;
/* Whether the proxy keeps CAP_NET_RAW: only to connect from its clients'
 * own addresses (want_raw); a change starts another proxy.  While it
 * does, the kernel is asked each second that the chain is still there. */
static bool raw_asked;
static long long raw_checked;		/* child_now() of the last asking */
static struct child proxy = CHILD_INIT("proxy", "moatd-smtp");
static int ctl = -1;			/* the config pipe, our end */

/*
 * A config on its way to the proxy: written as far as the pipe takes it
 * each time, never waited for (the loop polls the pipe for room while
 * one is under way: proxy_out_fd), whole within CONF_SEND_MS or the
 * proxy is stopped and started again CONF_RETRY_MS later.  A proxy taken
 * over by what it parses (mail from the Internet) could shrink its pipe
 * and stop reading: the next config (any apply, a SIGHUP, the HA peer's
 * push) held root in write() for good, then (with a deadline) for 5 s
 * each time (two reviews, 2026-12-07).  A config that comes while one
 * is under way follows it, whole (the proxy reads them in order).
 */
static struct {
	char		*buf;		/* NULL: none under way */
	size_t		 len, off;
	long long	 deadline;
	bool		 again;		/* the config changed meanwhile */
} out;

/* The proxy has said a word since it started: its loop, which reads the
 * pipe, runs (its first config's engine, minutes with a real ClamAV
 * database, is loaded before it).  send_config's time counts from then. */
static bool proxy_up;

static void
out_drop(void)
{
	if (out.buf != NULL)
		explicit_bzero(out.buf, out.len);	/* its TLS key */
	free(out.buf);
	memset(&out, 0, sizeof(out));
}

static int events = -1;			/* the proxy's events, our end */
static char *text;			/* the config in force */
static size_t textlen;

void
proxy_init(const char *conf, const char *user, int port)
{
	conf_path = conf;
	run_user = user;
	tproxy_port = port;
}

/* ---- the mail log and its figures ------------------------------------ */

static char events_buf[8192];
static size_t events_len;
static struct mailstats mstats;
static bool mstats_dirty;
/* Not opened yet (a zeroed one would close descriptor 0, standard
 * input, at the first config: a listening socket then took its place). */
static struct logfile mail_log = { .fd = -1 };

/* At the start: the figures so far, and where the mail log goes. */
static void
mail_prepare(const struct policy *p)
{
	static bool loaded;

	if (!loaded) {
		if (mailstats_load(apply_state_dir(), &mstats) == -1)
			log_warn("mail figures: %s/" MAILSTATS_FILE " cannot be "
			    "read: counting from zero", apply_state_dir());
		mailstats_restart(&mstats, (long long)time(NULL));
		mstats_dirty = true;
		loaded = true;
	}
	logfile_close(&mail_log);
	logfile_init(&mail_log, logfile_dir(p->logging.directory),
	    MAILLOG_FILE, p->logging.max_file_size, p->logging.keep);
}

static void
events_open(int fd)
{
	if (events != -1)
		close(events);
	events = fd;
	events_len = 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* One line from the proxy: "mail JSON", "engine JSON", "sessions N". */
static void
event_line(char *line)
{
	static char said[256];
	static unsigned foreign;
	static unsigned long bad_records;

	proxy_up = true;	/* (its loop runs: send_config's deadline) */
	if (strncmp(line, "mail ", 5) == 0) {
		/* A record is written as root writes JSON, not as the proxy
		 * sent it: a proxy taken over wrote raw bytes (a terminal's
		 * escapes for whoever reads the file) or half a record into
		 * the mail log (a review, 2026-12-08).  One that is not a JSON
		 * object is dropped, and counted. */
		json_t *o = json_loads(line + 5, JSON_REJECT_DUPLICATES, NULL);
		/* (15 digits: the proxy's "0.123" stays so; ASCII only: a
		 * C1 control, U+009B a CSI, is a terminal's escape as UTF-8
		 * too, and a client can put one in its MAIL FROM) */
		char *rec = json_is_object(o) ? json_dumps(o, JSON_COMPACT |
		    JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15)) : NULL, *nl;
		size_t rlen;

		if (rec == NULL || (nl = realloc(rec, (rlen = strlen(rec)) +
		    2)) == NULL) {
			json_decref(o);
			free(rec);
			if (bad_records++ % 1000 == 0)
				log_warn("proxy: a mail record that is no JSON "
				    "object was dropped (%lu so far)",
				    bad_records);
			return;
		}
		rec = nl;
		rec[rlen] = '\n';	/* the record, with its newline */
		rec[rlen + 1] = '\0';
		if (logfile_append(&mail_log, rec, rlen + 1, 1) == -1 &&
		    strcmp(said, mail_log.error) != 0) {
			log_error("mail log: %s; records are lost until it "
			    "works again", mail_log.error);
			snprintf(said, sizeof(said), "%s", mail_log.error);
		}
		if (mail_log.foreign != foreign) {
			foreign = mail_log.foreign;
			log_warn("mail log: %s was not root's (another process "
			    "put it there): put aside as %s.foreign-*, the log "
			    "goes on in a file of root's", mail_log.path,
			    mail_log.path);
		}
		if (mailstats_add_json(&mstats, o) == 0)
			mstats_dirty = true;
		json_decref(o);
		free(rec);
	} else if (strncmp(line, "engine ", 7) == 0) {
		mailstats_engine(&mstats, line + 7);
		mstats_dirty = true;
	} else if (strncmp(line, "sessions ", 9) == 0) {
		mstats.sessions = (unsigned)strtoul(line + 9, NULL, 10);
		mstats_dirty = true;
	}
}

bool
proxy_events(void)
{
	size_t at = 0;
	ssize_t n;
	char *nl;

	/* One read a turn, whatever the proxy writes: a process that
	 * writes without end must not hold the root loop (its signals, the
	 * console, the other children) in here. */
	if (events == -1)
		return false;
	n = read(events, events_buf + events_len, sizeof(events_buf) - 1 -
	    events_len);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		close(events);	/* the proxy is gone */
		events = -1;
		return false;
	}
	if (n < 0)
		return false;
	events_len += (size_t)n;
	events_buf[events_len] = '\0';
	while ((nl = memchr(events_buf + at, '\n', events_len - at)) != NULL) {
		*nl = '\0';
		event_line(events_buf + at);
		at = (size_t)(nl - events_buf) + 1;
	}
	memmove(events_buf, events_buf + at, events_len - at);
	events_len -= at;
	if (events_len == sizeof(events_buf) - 1)
		events_len = 0;		/* a line too long: dropped */
	return true;
}

/* The figures to the state directory, at most once a second (unless
 * forced: at the end). */
static void
mail_save(bool force)
{
	static time_t last;

	if (!mstats_dirty || (!force && time(NULL) == last))
		return;
	last = time(NULL);
	mstats.updated = (long long)last;
	if (mailstats_save(apply_state_dir(), &mstats) == 0)
		mstats_dirty = false;
}

/* ---- the listening sockets ------------------------------------------- */

/* What the proxy of policy p listens on: the relay on port 25 of the
 * LAN's addresses (a valid policy with smtp-local-scanning has them:
 * resolve.c), the transparent listener on every address. */
static int
wanted(const struct policy *p, struct server_listener *l)
{
	const struct antivirus *av = &p->av;
	int n = 0;
	size_t i;

	if (!av->present)
		return 0;
	if (av->local_scanning) {
		const struct iface *lan = policy_lan(p);

		for (i = 0; i < lan->naddr && n < SERVER_LISTEN_MAX - 2; i++) {
			memset(&l[n], 0, sizeof(l[n]));
			route_sockaddr(&lan->addrs[i], 25, &l[n].addr,
			    &l[n].len);
			l[n++].mode = PROXY_RELAY;
		}
		/* In an HA pair, the LAN's VIP too: bound before the node
		 * holds it (IP_FREEBIND), served when it does. */
		for (i = 0; i < p->ha.nvip && n < SERVER_LISTEN_MAX - 2; i++) {
			struct if_addr vip;

			if (p->ha.vips[i].iface != lan)
				continue;
			vip.loc = p->ha.vips[i].loc;
			vip.lit = p->ha.vips[i].lit;
			memset(&l[n], 0, sizeof(l[n]));
			route_sockaddr(&vip, 25, &l[n].addr, &l[n].len);
			l[n++].mode = PROXY_RELAY;
		}
	}
	if (av->other_scanning) {
		struct sockaddr_in *in = (struct sockaddr_in *)&l[n].addr;
		struct sockaddr_in6 *in6;

		memset(&l[n], 0, sizeof(l[n]));
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)tproxy_port);
		l[n].len = sizeof(*in);
		l[n++].mode = PROXY_TRANSPARENT;
		memset(&l[n], 0, sizeof(l[n]));
		in6 = (struct sockaddr_in6 *)&l[n].addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)tproxy_port);
		l[n].len = sizeof(*in6);
		l[n++].mode = PROXY_TRANSPARENT;
	}
	return n;
}

static bool
same_listeners(const struct server_listener *a, int na,
    const struct server_listener *b, int nb)
{
	int i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].mode != b[i].mode || a[i].len != b[i].len ||
		    memcmp(&a[i].addr, &b[i].addr, a[i].len) != 0)
			return false;
	return true;
}

static void
close_listeners(void)
{
	while (nlisteners > 0)
		close(listeners[--nlisteners].fd);
}

/*
 * Open l[0..n) as the proxy's listeners (as root, so that nothing needs
 * CAP_NET_BIND_SERVICE later), each on its own: one that cannot be opened
 * (port 25 held by another MTA, an address family the kernel lacks) is
 * logged and the others serve.  What the rules hand to a listener that is
 * not there is dropped (the client tries again later), never passed on
 * unscanned (enforce/nftc.c, compile_intercept).  0, or -1 with none open.
 */
static int
open_listeners(const struct server_listener *l, int n)
{
	char err[256];
	int i;

	close_listeners();
	memcpy(asked, l, (size_t)n * sizeof(*l));
	nasked = n;
	for (i = 0; i < n; i++) {
		listeners[nlisteners] = l[i];
		if (server_listen(&listeners[nlisteners], err,
		    sizeof(err)) == 0) {
			nlisteners++;
			continue;
		}
		/* (a kernel without IPv6 has no IPv6 SMTP to take) */
		if (l[i].addr.ss_family == AF_INET6 &&
		    access("/proc/net/if_inet6", F_OK) == -1)
			log_info("proxy: %s (no IPv6 here)", err);
		else if (l[i].mode == PROXY_TRANSPARENT)
			log_error("proxy: %s: the SMTP the rules hand to it is "
			    "held back, not scanned, until a reload opens it",
			    err);
		else
			log_error("proxy: %s: no relay there until a reload "
			    "opens it", err);
	}
	return nlisteners > 0 ? 0 : -1;
}

/* The asked listeners that did not open, tried again (a reload of the
 * same config: the port may be free now); how many opened. */
static int
open_missing(void)
{
	char err[256];
	int i, k, opened = 0;

	for (i = 0; i < nasked && nlisteners < SERVER_LISTEN_MAX; i++) {
		for (k = 0; k < nlisteners; k++)
			if (same_listeners(&listeners[k], 1, &asked[i], 1))
				break;
		if (k < nlisteners)
			continue;
		listeners[nlisteners] = asked[i];
		if (server_listen(&listeners[nlisteners], err,
		    sizeof(err)) == 0) {
			log_info("proxy: listening on what failed before");
			nlisteners++;
			opened++;
		}
	}
	return opened;
}

/* ---- the proxy process ------------------------------------------------ */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	if (f->level > 0)
		remove(path);
	return 0;
}

/* The proxy's private directory for the scanner's temporary files: made
 * (0700, the proxy's user) under the run directory.  The proxy empties it
 * itself as it starts (proxy_main), so that what a killed proxy left
 * (decoded attachments) goes: root never walks a directory another user
 * can change under it (a directory of the path swapped for a link while
 * root removes, a review of 2026-12-07: root removed what it pointed to). */
static int
prepare_scratch(const struct passwd *pw)
{
	const char *run = getenv("MOAT_RUN_DIR");
	struct stat st;

	if (run == NULL || *run == '\0')
		run = RUN_DIR;
	snprintf(scratch, sizeof(scratch), "%s/smtp", run);
	if ((mkdir(run, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(scratch, 0700) == -1 && errno != EEXIST) ||
	    lstat(scratch, &st) == -1) {
		log_info("proxy: %s: %s", scratch, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_info("proxy: %s is not a directory", scratch);
		return -1;
	}
	/* The proxy's user must reach its directory through the run
	 * directory: without that every scan would fail (451). */
	if (stat(run, &st) == -1 || !(st.st_mode & S_IXOTH)) {
		log_info("proxy: %s cannot be entered by %s (mode %04o): "
		    "chmod o+x it, or choose another MOAT_RUN_DIR", run,
		    pw->pw_name, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (getuid() == 0 && (chown(scratch, pw->pw_uid, pw->pw_gid) == -1 ||
	    chmod(scratch, 0700) == -1)) {
		log_info("proxy: %s: %s", scratch, strerror(errno));
		return -1;
	}
	return 0;
}

static void send_config(void);

/* Start the proxy on the listeners, with the config in force. */
static void
start_proxy(void)
{
	struct passwd *pw;
	char modes[SERVER_LISTEN_MAX + 1];
	int fds[2], evp[2], keep[SERVER_LISTEN_MAX + 3], i;

	proxy.next = 0;
	if ((pw = getpwnam(run_user)) == NULL) {
		log_error("proxy: no user '%s' to run as: create it (the "
		    "package does: adduser --system %s) or name another with "
		    "-u; not starting the proxy", run_user, run_user);
		return;
	}
	if (prepare_scratch(pw) == -1)
		return;
	if (pipe2(fds, O_CLOEXEC) == -1 || pipe2(evp, O_CLOEXEC) == -1) {
		log_info("proxy: pipe: %s", strerror(errno));
		return;
	}
	/* (root's end never blocks: send_config) */
	fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
	if (child_exe() == -1) {
		log_error("proxy: /proc/self/exe: %s; not starting the proxy",
		    strerror(errno));
		close(fds[0]);
		close(fds[1]);
		close(evp[0]);
		close(evp[1]);
		proxy.next = child_now() + 60000;
		return;
	}
	/* 'T': transparent, and the proxy keeps CAP_NET_RAW */
	for (i = 0; i < nlisteners; i++) {
		keep[i] = listeners[i].fd;
		modes[i] = listeners[i].mode != PROXY_TRANSPARENT ? 'r' :
		    raw_asked ? 'T' : 't';
	}
	modes[i] = '\0';
	keep[i++] = fds[0];
	keep[i++] = evp[1];
	keep[i++] = child_exe();
	switch (child_fork(&proxy, keep, (size_t)i)) {
	case -1:
		close(fds[0]);
		close(fds[1]);
		close(evp[0]);
		close(evp[1]);
		return;
	case 0: {
		/* moatd afresh: nothing of the parent's memory (the config's
		 * HA secret, the console's sessions, the users file) is the
		 * proxy's, which parses what the Internet sends.  Its pipes
		 * on 3 and 4, its listeners from 5. */
		char *const argv[] = { "moatd-smtp", PROXY_ARG,
		    (char *)run_user, (char *)conf_path, scratch, modes,
		    log_verbose() ? "v" : "-", NULL };
		int mine[SERVER_LISTEN_MAX + 2], k;

		mine[0] = fds[0];
		mine[1] = evp[1];
		for (k = 0; k < nlisteners; k++)
			mine[2 + k] = listeners[k].fd;
		_exit(child_exec("proxy", mine, 2 + (size_t)nlisteners,
		    argv));
	}
	}
	close(fds[0]);
	close(evp[1]);
	ctl = fds[1];
	events_open(evp[0]);
	proxy_up = false;
	send_config();
}

/* Stop the proxy, SIGKILL after ms, and let its pipe and what was on
 * its way go. */
static void
stop_proxy_within(int ms)
{
	child_stop_within(&proxy, ms);
	if (ctl != -1)
		close(ctl);
	ctl = -1;
	out_drop();
}

static void
stop_proxy(void)
{
	stop_proxy_within(CHILD_STOP_MS);
}

/* A proxy that does not take its config: killed at once (one that
 * ignored SIGTERM held root's loop CHILD_STOP_MS: a second review),
 * started again CONF_RETRY_MS later. */
static void
drop_proxy(const char *why)
{
	log_error("proxy: %s: stopped, started again in %d s", why,
	    CONF_RETRY_MS / 1000);
	stop_proxy_within(0);
	proxy.next = child_now() + CONF_RETRY_MS;
}

static void out_flush(void);

static void
send_config(void)
{
	if (ctl == -1)
		return;
	if (out.buf != NULL) {
		out.again = true;
		return;
	}
	if ((out.buf = server_config_frame(text, textlen, &out.len)) == NULL) {
		drop_proxy("out of memory for its config");
		return;
	}
	out.deadline = child_now() + CONF_SEND_MS;
	out_flush();
}

static void
out_flush(void)
{
	ssize_t w;

	while (out.buf != NULL && ctl != -1 && out.off < out.len) {
		w = write(ctl, out.buf + out.off, out.len - out.off);
		if (w > 0)
			out.off += (size_t)w;
		else if (w == -1 && errno == EINTR)
			continue;
		else if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else {
			char why[128];

			snprintf(why, sizeof(why), "its config pipe: %s",
			    w == 0 ? "closed" : strerror(errno));
			drop_proxy(why);
			return;
		}
	}
	if (out.buf != NULL && out.off == out.len) {
		bool again = out.again;

		out_drop();
		if (again)
			send_config();
		return;
	}
	/* (the time counts from when the proxy's loop runs) */
	if (out.buf != NULL && !proxy_up)
		out.deadline = child_now() + CONF_SEND_MS;
	if (out.buf != NULL && child_now() >= out.deadline) {
		char why[128];

		snprintf(why, sizeof(why), "it did not take its config within "
		    "%d s", CONF_SEND_MS / 1000);
		drop_proxy(why);
	}
}

int
proxy_out_fd(void)
{
	return out.buf != NULL ? ctl : -1;
}

void
proxy_out_ready(void)
{
	out_flush();
}

/* Append section name's contents (the file at path) to the message:
 * "name\0contents\0".  A file that cannot be read is left out, and said
 * (the proxy then goes without: no STARTTLS offered, or no DANE). */
/* The whole of path, for the proxy: a regular file (not through a
 * symbolic link, never a FIFO that would hold the parent), root's and
 * not writable by others, so that no less privileged process (the proxy
 * itself writes in /run/moat) can plant what the parent reads.  NULL with
 * errno, or why. */
static char *
read_tls_file(const char *path, size_t *len, const char **why)
{
	struct stat st;
	char *data = NULL;
	ssize_t r;
	int fd;

	*why = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0) {
		*why = "not a regular file of root's that only root may write";
		goto out;
	}
	if (st.st_size > TLS_FILE_MAX) {
		*why = "too large";
		goto out;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	*len = 0;
	while (*len < (size_t)st.st_size && (r = read(fd, data + *len,
	    (size_t)st.st_size - *len)) > 0)
		*len += (size_t)r;
	data[*len] = '\0';
out:
	close(fd);
	return data;
}

static int
add_section(struct strbuf *b, const char *name, const char *path,
    bool needed)
{
	const char *why;
	size_t len = 0;
	char *data;

	if (path == NULL)
		return 0;
	if ((data = read_tls_file(path, &len, &why)) == NULL ||
	    memchr(data, '\0', len) != NULL) {
		if (needed || why != NULL || errno != ENOENT)
			log_error("proxy: %s: %s", path, why != NULL ? why :
			    data == NULL ? strerror(errno) : "not a text file");
		free(data);
		return -1;
	}
	strbuf_puts(b, name);
	strbuf_putc(b, '\0');
	strbuf_add(b, data, len);
	strbuf_putc(b, '\0');
	explicit_bzero(data, len);
	free(data);
	return 0;
}

/* What the proxy is handed: the config text, then the files its TLS needs
 * that it may not read itself (the key is root's): read here, by the
 * parent, at every start and reload, so a renewed certificate is taken by
 * a reload.  Without a certificate of the admin's, a self-signed pair is
 * made in the state directory at the first start, as the console's. */
static char *
proxy_message(const struct policy *p, size_t *len)
{
	const struct antivirus *av = &p->av;
	char cert[4096], key[4096], err[256], host[256];
	struct strbuf b;

	strbuf_init(&b, 0);
	strbuf_add(&b, p->text, p->len);
	/* It parses what the Internet sends: no secret it does not need
	 * (the HA pair's) */
	if (!strbuf_failed(&b))
		lexer_blank_secrets(b.s, b.len);
	strbuf_putc(&b, '\0');
	if (av->present && av->tls_cert != NULL) {
		snprintf(cert, sizeof(cert), "%s", av->tls_cert);
		snprintf(key, sizeof(key), "%s", av->tls_key);
	} else {
		snprintf(cert, sizeof(cert), "%s/" SMTP_TLS_CERT,
		    apply_state_dir());
		snprintf(key, sizeof(key), "%s/" SMTP_TLS_KEY,
		    apply_state_dir());
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "moat");
		host[sizeof(host) - 1] = '\0';
		if (av->present && tls_ensure(cert, key, host, err,
		    sizeof(err)) == -1)
			log_error("proxy: a certificate for STARTTLS: %s", err);
	}
	if (av->present) {
		add_section(&b, "cert", cert, true);
		add_section(&b, "key", key, true);
		add_section(&b, "ca", av->tls_ca_file, true);
		add_section(&b, "trust-anchor", av->trust_anchor ?
		    av->trust_anchor : DNSSEC_ROOT_KEY, av->trust_anchor !=
		    NULL);
	}
	if (strbuf_failed(&b)) {
		strbuf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.s;
}

/*
 * Whether the proxy of p keeps CAP_NET_RAW: where it connects from its
 * clients' own addresses (nftc_spoofs), and only while the kernel holds
 * the chain that keeps it to SMTP (spoof_guard, nftc.c).  The rules in
 * force need not be p's: a rollback to an entry from before the chain,
 * the ruleset put back at boot, `moatd -n` with another's rules.  Then
 * the proxy runs without it, and answers intercepted mail 4xx rather
 * than send it from the gateway's address (raw_recheck: later too).
 */
static bool
want_raw(const struct policy *p)
{
	int r;

	if (!nftc_spoofs(p))
		return false;
	if ((r = nfgen_chain_exists(NFTC_TABLE, NFTC_SPOOF_GUARD)) == 1)
		return true;
	log_warn("proxy: smtp-keep-client-address, but %s: intercepted mail "
	    "waits (4xx) until the rules in force have it", r == 0 ?
	    "table inet " NFTC_TABLE " has no chain spoof_guard" :
	    "whether the kernel holds chain spoof_guard could not be read");
	return false;
}

/* The proxy's capability given at its start changes: the one running is
 * stopped (killed when it held CAP_NET_RAW, not asked: it could put off
 * its end past the rules that held it back); the caller starts another. */
static void
raw_set(bool raw)
{
	if (raw_asked && proxy.pid != -1)
		kill(proxy.pid, SIGKILL);
	raw_asked = raw;
	raw_checked = child_now();
	stop_proxy();
}

/* A proxy with CAP_NET_RAW while the kernel no longer holds the chain
 * (a rollback to the table's removal or to an entry from before it, an
 * entry with the same text, `nft flush ruleset`: no install follows
 * them all) is killed, and another started without it. */
static void
raw_recheck(void)
{
	int r;

	if (!raw_asked || child_now() - raw_checked < 1000)
		return;
	raw_checked = child_now();
	if ((r = nfgen_chain_exists(NFTC_TABLE, NFTC_SPOOF_GUARD)) == 1)
		return;
	log_warn("proxy: chain spoof_guard is %s: the proxy goes on without "
	    "CAP_NET_RAW, and intercepted mail waits", r == 0 ? "gone from "
	    "the kernel" : "not to be found in the kernel");
	raw_set(false);
	if (nlisteners > 0)
		child_soon(&proxy);
}

int
proxy_install(const struct policy *p)
{
	struct server_listener want[SERVER_LISTEN_MAX];
	int n;
	size_t len;
	char *copy;
	bool raw;

	mail_prepare(p);
	if ((copy = proxy_message(p, &len)) == NULL) {
		log_info("out of memory");
		return -1;
	}
	if (text != NULL)
		explicit_bzero(text, textlen);
	free(text);
	text = copy;
	textlen = len;
	n = wanted(p, want);
	raw = want_raw(p);
	/* One that gains or loses CAP_NET_RAW is another proxy, on the
	 * same listeners (or the new ones, below). */
	if (raw != raw_asked) {
		raw_set(raw);
		if (same_listeners(asked, nasked, want, n)) {
			open_missing();
			if (nlisteners > 0)
				child_soon(&proxy);
			return 0;
		}
	}
	/* Compared with what was asked, not with what opened: a listener
	 * that keeps failing does not restart the proxy (cutting its
	 * sessions) at every reload, only one that opens now does. */
	if (same_listeners(asked, nasked, want, n)) {
		if (open_missing() > 0) {
			stop_proxy();
			child_soon(&proxy);
		} else if (proxy.pid != -1)
			send_config();
		else if (nlisteners > 0)
			child_soon(&proxy);
		return 0;
	}
	/* What the proxy listens on changes: a new proxy on new sockets
	 * (sessions in flight are cut; nothing they sent was acknowledged). */
	stop_proxy();
	if (open_listeners(want, n) == 0 && n > 0)
		child_soon(&proxy);
	else if (n == 0)
		log_info("no SMTP scanning configured: no proxy runs");
	return 0;
}

int
proxy_listeners(void)
{
	return nlisteners;
}

int
proxy_events_fd(void)
{
	return events;
}

void
proxy_tick(void)
{
	int status;

	if (child_reap(&proxy, &status)) {
		if (ctl != -1)
			close(ctl);
		ctl = -1;
		out_drop();
	}
	raw_recheck();
	out_flush();		/* (its deadline) */
	if (nlisteners > 0 && child_due(&proxy))
		start_proxy();
	mail_save(false);
}

void
proxy_stop(void)
{
	int i;

	stop_proxy();
	/* what the proxy said last (its mail records), as far as a few
	 * hundred kB: the pipe's content, not what a process that kept its
	 * end may go on writing */
	for (i = 0; i < 64 && proxy_events(); i++)
		;
	mstats.sessions = 0;
	mstats_dirty = true;
	mail_save(true);
	close_listeners();
}

int
proxy_main(int argc, char **argv)
{
	struct server_listener l[SERVER_LISTEN_MAX];
	struct passwd *pw = NULL;
	struct stat st;
	char err[256];
	int n, i, rc;

	child_exec_named("moatd-smtp");
	n = argc == 5 ? (int)strlen(argv[3]) : -1;
	if ((rc = child_exec_own(n >= 0 && n <= SERVER_LISTEN_MAX &&
	    fstat(3, &st) == 0 && S_ISFIFO(st.st_mode) && fstat(4, &st) == 0 &&
	    S_ISFIFO(st.st_mode), PROXY_ARG, "SMTP proxy", argv[4])) != 0)
		return rc;
	if (getuid() == 0 && (pw = getpwnam(argv[0])) == NULL) {
		log_error("proxy: no user '%s' to run as", argv[0]);
		return 1;
	}
	/* CAP_NET_RAW only to connect from the clients' own addresses */
	if (pw != NULL && child_drop(pw, n > 0 && strchr(argv[3], 'T') !=
	    NULL ? CAP_NET_RAW : -1, err, sizeof(err)) == -1) {
		log_error("proxy: %s", err);
		return 1;
	}
	if (child_nospawn("proxy") == -1)
		return 1;
	if (noraw() == -1) {
		log_error("proxy: raw and packet sockets could not be "
		    "forbidden to it, so it does not run: %s",
		    strerror(errno));
		return 1;
	}
	/* (as its own user: what it could remove anyway) */
	nftw(argv[2], rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	for (i = 0; i < n; i++) {
		l[i].fd = 5 + i;
		l[i].mode = argv[3][i] == 't' || argv[3][i] == 'T' ?
		    PROXY_TRANSPARENT : PROXY_RELAY;
		l[i].spoof = argv[3][i] == 'T';
		l[i].len = sizeof(l[i].addr);
		if (getsockname(l[i].fd, (struct sockaddr *)&l[i].addr,
		    &l[i].len) == -1) {
			log_error("proxy: listener %d: %s", i, strerror(errno));
			return 1;
		}
	}
	log_info("proxy running as %s, %d listeners", getuid() == 0 ? "root" :
	    argv[0], n);
	return server_run(l, n, 3, 4, argv[1], argv[2]);
}

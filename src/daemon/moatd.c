/* moatd: applies the policy and runs the scanning SMTP proxy.
 *
 *   moatd [-f FILE] [-u USER] [-p PORT] [-n] [-v]
 *
 * Two processes.  The parent stays root, and small: it settles what an
 * interrupted apply --confirm left, reads the config, applies the policy
 * (libnftables, as `moat apply`), sets up the policy route that delivers
 * intercepted connections, opens the proxy's listening sockets (port 25 of
 * the LAN's addresses, the transparent listener), and supervises the proxy:
 * a child that runs as USER (default moat-smtp) keeping one capability,
 * CAP_NET_RAW, which IP_TRANSPARENT needs to connect upstream from the
 * client's own address (smtp/server.c).  A proxy that dies is started
 * again (at once, then after 1, 2, 4 … 30 s while it keeps dying); the
 * listening sockets stay open in the parent meanwhile, so connections wait
 * in the backlog instead of being refused.  Each session is a thread; one
 * misbehaving session ends alone.
 *
 * SIGHUP reads the config again: one that does not parse, is not safe
 * (writable by others) or that the kernel refuses changes nothing; else it
 * is applied and handed to the proxy, whose sessions in flight finish
 * under the old one.  A reload that changes what the proxy listens on (or
 * removes the antivirus block) restarts it (or stops it).  SIGTERM stops
 * both; sessions in flight are cut, and since their mail was not
 * acknowledged, the clients retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fds.h"
#include "base/frame.h"
#include "base/users.h"
#include "daemon/control.h"
#include "daemon/hanode.h"
#include "daemon/logger.h"
#include "daemon/notify.h"
#include "base/log.h"
#include "enforce/apply.h"
#include "enforce/nftc.h"
#include "enforce/route.h"
#include "enforce/rtnl.h"
#include "observe/logfile.h"
#include "observe/mailstats.h"
#include "observe/metrics.h"
#include "policy/load.h"
#include "policy/policy.h"
#include "smtp/server.h"
#include "smtp/smtpio.h"
#include "version.h"
#include "web/console.h"
#include "web/tls.h"

#define RUN_DIR		"/run/moat"	/* or $MOAT_RUN_DIR */
#define MOAT_WEB_ROOT	"/usr/share/moat/web"	/* or $MOAT_WEB_ROOT */
#define DEFAULT_USER	"moat-smtp"
#define BACKOFF_MAX	30		/* s between restarts, at most */
#define STABLE		60000		/* ms up that resets the backoff */

static const char *conf_path = MOAT_DEFAULT_CONF;
static const char *run_user = DEFAULT_USER;
static int tproxy_port = NFTC_TPROXY_PORT;
static bool no_apply;
static char scratch[4096];		/* the proxy's private directory */

static volatile sig_atomic_t got_hup, got_term;

/* The proxy as the parent sees it. */
static struct server_listener listeners[SERVER_LISTEN_MAX];
static int nlisteners;
static pid_t child = -1;
static int ctl = -1;			/* the config pipe, our end */
static int events = -1;			/* the proxy's events, our end */
static int watch_fd = -1;		/* rtnetlink: address changes */
static char *text;			/* the config in force */
static size_t textlen;
static long long started, next_start;	/* ms */
static long long backoff;		/* s, before the next restart but one */

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: moatd [-f FILE] [-u USER] [-p PORT] [-n] [-v]\n"
	    "       moatd --version\n"
	    "  -f FILE  the config (default " MOAT_DEFAULT_CONF ")\n"
	    "  -u USER  the proxy's user (default " DEFAULT_USER ")\n"
	    "  -p PORT  the transparent listener's port (default %d)\n"
	    "  -n       do not apply the policy (the proxy only)\n"
	    "  -v       log each session's state changes\n",
	    NFTC_TPROXY_PORT);
	exit(2);
}

/* Each line of a message buffer as a log line. */
static void
log_lines(const char *m)
{
	size_t n;

	for (; *m != '\0'; m += n + (m[n] == '\n')) {
		n = strcspn(m, "\n");
		log_info("%.*s", (int)n, m);
	}
}

/* Before anything else: an apply --confirm whose deadline passed while
 * nobody watched (the machine was down) is reverted now (apply.h). */
static void
recover(void)
{
	struct strbuf msg, err;

	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (apply_recover(apply_state_dir(), &msg, &err) == -1)
		log_error("confirm: %s", strbuf_str(&err));
	log_lines(strbuf_str(&msg));
	strbuf_free(&msg);
	strbuf_free(&err);
}

/* The config, parsed and checked; NULL (logged) when it cannot be used. */
static struct policy *
load(void)
{
	char err[512];
	struct host_addrs h;
	struct strbuf why;
	struct policy *p;
	size_t i;

	/* The dynamic interfaces' addresses as the devices have them now
	 * (none if they cannot be read: the watch fills them later). */
	strbuf_init(&why, 0);
	if (rtnl_addrs(&h, &why) == -1)
		log_warn("%s", strbuf_str(&why));
	strbuf_free(&why);
	p = policy_load_bound(conf_path, true, &h.b, err, sizeof(err));
	rtnl_addrs_free(&h);
	if (p == NULL) {
		log_error("%s; nothing changed", err);
		return NULL;
	}
	if (!policy_valid(p)) {
		for (i = 0; i < p->diags.n; i++) {
			char line[512];

			diag_format(&p->diags.v[i], line, sizeof(line));
			if (p->diags.v[i].severity == DIAG_ERROR)
				log_error("%s", line);
			else
				log_info("%s", line);
		}
		log_error("%s: not valid; nothing changed", conf_path);
		policy_free(p);
		return NULL;
	}
	return p;
}

static unsigned confirm_secs;		/* the console's apply --confirm */

static int
enforce(const struct policy *p)
{
	struct strbuf msg, err;
	int rc = 0;

	if (no_apply)
		return 0;
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (apply_policy(apply_state_dir(), p, p->text, p->len, false,
	    confirm_secs, &msg, &err) == -1) {
		log_error("apply: %s", strbuf_str(&err));
		rc = -1;
	} else
		log_lines(strbuf_str(&msg));
	if (rc == 0 && p->av.present && p->av.other_scanning &&
	    route_tproxy(NFTC_MARK, NFTC_ROUTE_TABLE, &err) == -1) {
		log_error("routing: %s", strbuf_str(&err));
		rc = -1;
	}
	strbuf_free(&msg);
	strbuf_free(&err);
	return rc;
}

/* ---- the firewall log ------------------------------------------------- */

static pid_t logger = -1;
static long long logger_next;		/* ms: when to start it again */
static struct logger_conf log_conf;
static char log_dir[4096];

/* The firewall log process for the config in force (started again with
 * a new one: its directory or sizes may have changed). */
static void
start_logger(void)
{
	logger_next = 0;
	if ((logger = fork()) == -1) {
		log_error("firewall log: fork: %s", strerror(errno));
		logger_next = smtpio_now() + 5000;
		return;
	}
	if (logger > 0)
		return;
	prctl(PR_SET_NAME, "moatd-log");	/* ps, pgrep, top tell it */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	fds_keep(NULL, 0);	/* it opens what it needs */
	_exit(logger_run(&log_conf));
}

static void
stop_logger(void)
{
	if (logger == -1)
		return;
	kill(logger, SIGTERM);
	waitpid(logger, NULL, 0);
	logger = -1;
}

static char metrics_file[4096];		/* "": none */
static unsigned metrics_every;		/* seconds */

/* node_exporter's textfile, every metrics-interval, when one is set. */
static void
metrics_tick(void)
{
	static time_t next;
	struct strbuf err;

	if (metrics_file[0] == '\0' || time(NULL) < next)
		return;
	next = time(NULL) + metrics_every;
	strbuf_init(&err, 0);
	if (metrics_write_file(apply_state_dir(), logfile_run_dir(),
	    metrics_file, &err) == -1)
		log_warn("metrics: %s", strbuf_str(&err));
	strbuf_free(&err);
}

/* The log settings of p; the logger restarted with them. */
static void
configure_logger(const struct policy *p)
{
	snprintf(metrics_file, sizeof(metrics_file), "%s",
	    p->logging.metrics_file != NULL ? p->logging.metrics_file : "");
	metrics_every = p->logging.metrics_interval;
	if (no_apply)
		return;
	snprintf(log_dir, sizeof(log_dir), "%s",
	    logfile_dir(p->logging.directory));
	log_conf.state = apply_state_dir();
	log_conf.dir = log_dir;
	log_conf.max = p->logging.max_file_size;
	log_conf.keep = p->logging.keep;
	log_conf.run = logfile_run_dir();
	mkdir(log_conf.run, 0755);
	stop_logger();
	start_logger();
}

/* ---- the console ------------------------------------------------------ */

static pid_t web = -1;
static long long web_next;		/* ms: when to start it again */
static int web_ctl = -1;			/* to the console, our end */
static char web_key[512];		/* what it serves: restart on change */
static struct control_env web_env;
static char web_users[4096], web_conf_log[4096];

static int install(const struct policy *p, bool apply);

/* The console's apply: the config file, checked and installed as a
 * SIGHUP would, with a confirm time. */
static int
web_apply(unsigned confirm, const char *user, struct strbuf *msg,
    struct strbuf *err)
{
	struct policy *p = load();
	int rc;

	if (p == NULL) {
		strbuf_printf(err, "%s cannot be applied: see moatd's log (moat "
		    "check says why)", conf_path);
		return -1;
	}
	confirm_secs = confirm;
	rc = install(p, true);
	confirm_secs = 0;
	policy_free(p);
	if (rc == -1)
		strbuf_puts(err, "the kernel refused the ruleset: see moatd's "
		    "log");
	else
		strbuf_printf(msg, "applied %s for %s%s", conf_path,
		    user != NULL ? user : "?", confirm > 0 ?
		    "; confirm it, or it reverts" : "");
	return rc;
}

static void
stop_web(void)
{
	if (web == -1)
		return;
	kill(web, SIGTERM);
	waitpid(web, NULL, 0);
	web = -1;
	close(web_ctl);
	web_ctl = -1;
	web_key[0] = '\0';
}

/* Where the console listens: the setting, or port 443 of the LAN's first
 * address. */
static int
web_listen_addr(const struct policy *p, struct sockaddr_storage *ss,
    socklen_t *len)
{
	const struct iface *lan = policy_lan(p);
	char buf[80];

	if (p->console.listen != NULL)
		return addr_hostport(p->console.listen, ss, len);
	if (lan == NULL || lan->naddr == 0)
		return -1;
	route_sockaddr(&lan->addrs[0], CONSOLE_PORT, ss, len);
	addr_sockaddr_format(ss, buf, sizeof(buf));
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t n;

	if (fp == NULL)
		return NULL;
	if ((buf = calloc(1, 64 * 1024)) != NULL) {
		n = fread(buf, 1, 64 * 1024 - 1, fp);
		buf[n] = '\0';
	}
	fclose(fp);
	return buf;
}

/* The console for the config in force: started (again) when what it
 * serves changed, stopped when it is off or cannot run. */
static void
configure_web(const struct policy *p)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct passwd *pw;
	char key[512], where[80], err[256];
	const char *root = getenv("MOAT_WEB_ROOT");
	int fd, sp[2], one = 1;

	if (p->console.off || no_apply) {
		stop_web();
		return;
	}
	if (users_count(p->console.users) <= 0) {
		if (web != -1 || web_key[0] == '\0')
			log_info("console: no users in %s ('moat passwd USER' "
			    "adds one): not started", p->console.users);
		stop_web();
		snprintf(web_key, sizeof(web_key), "no users");
		return;
	}
	if (web_listen_addr(p, &ss, &sl) == -1) {
		log_warn("console: no address to listen on (give LAN an "
		    "address, or say console { listen ADDR:PORT }): not "
		    "started");
		stop_web();
		return;
	}
	addr_sockaddr_format(&ss, where, sizeof(where));
	snprintf(key, sizeof(key), "%s %s %s %s %s %u", where,
	    p->console.users, p->console.cert, p->console.key, p->console.user,
	    p->console.session_timeout);
	if (web != -1 && strcmp(key, web_key) == 0)
		return;
	stop_web();
	if ((pw = getpwnam(p->console.user)) == NULL) {
		log_error("console: no user '%s' to run as: create it (the "
		    "package does) or say console { user NAME }",
		    p->console.user);
		return;
	}
	if (tls_ensure(p->console.cert, p->console.key, "moat", err,
	    sizeof(err)) == -1) {
		log_error("console: %s", err);
		return;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sl) == -1 || listen(fd, 64) == -1) {
		log_error("console: %s: %s", where, strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1 ||
	    (web = fork()) == -1) {
		log_error("console: %s", strerror(errno));
		close(fd);
		web = -1;
		return;
	}
	if (web == 0) {
		struct console_conf cc = { .listen_fd = fd, .ctl = sp[1],
		    .root = root != NULL ? root : MOAT_WEB_ROOT,
		    .idle = p->console.session_timeout };
		char *cert = slurp(p->console.cert), *keypem =
		    slurp(p->console.key);
		int keep[] = { fd, sp[1] };

		/* Nothing of the parent's but what it serves with. */
		fds_keep(keep, 2);
		prctl(PR_SET_NAME, "moatd-web");
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		/* No capabilities at all, its own user. */
		if (cert == NULL || keypem == NULL || setgroups(0, NULL) == -1 ||
		    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
			log_error("console: cannot start as %s: %s",
			    p->console.user, strerror(errno));
			_exit(1);
		}
		cc.cert_pem = cert;
		cc.key_pem = keypem;
		_exit(console_run(&cc));
	}
	close(sp[1]);
	close(fd);
	web_ctl = sp[0];
	snprintf(web_key, sizeof(web_key), "%s", key);
	snprintf(web_users, sizeof(web_users), "%s", p->console.users);
	snprintf(web_conf_log, sizeof(web_conf_log), "%s",
	    logfile_dir(p->logging.directory));
	web_env.conf = conf_path;
	web_env.users = web_users;
	web_env.state = apply_state_dir();
	web_env.run = logfile_run_dir();
	web_env.log_dir = web_conf_log;
	web_env.apply = web_apply;
	web_env.probe = probe_tcp;
	log_info("console: https://%s/ as %s", where, p->console.user);
}

/* One request from the console, answered. */
static void
web_request(void)
{
	struct strbuf out;
	size_t len;
	char *req = frame_recv(web_ctl, CONSOLE_BODY_MAX * 2, &len);

	if (req == NULL) {
		log_warn("console: gone (%s)", errno ? strerror(errno) :
		    "it exited");
		close(web_ctl);
		web_ctl = -1;
		return;
	}
	strbuf_init(&out, 0);
	control_handle(&web_env, req, len, &out);
	free(req);
	if (strbuf_failed(&out) || frame_send(web_ctl, strbuf_str(&out),
	    out.len) == -1)
		log_warn("console: answer not sent: %s", strerror(errno));
	strbuf_free(&out);
}

/* ---- the mail log and its figures ------------------------------------ */

static char events_buf[8192];
static size_t events_len;
static struct mailstats mstats;
static bool mstats_dirty;
static struct logfile mail_log = { .fd = -1 };	/* not 0: standard input */

/* At the start: the figures so far, and where the mail log goes. */
static void
mail_prepare(const struct policy *p)
{
	static bool loaded;

	if (!loaded) {
		if (mailstats_load(apply_state_dir(), &mstats) == -1)
			log_warn("mail figures: %s/" MAILSTATS_FILE " cannot be "
			    "read: counting from zero", apply_state_dir());
		memset(&mstats.since_start, 0, sizeof(mstats.since_start));
		mstats.started = (long long)time(NULL);
		mstats.sessions = 0;
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
	size_t len = strlen(line);

	if (strncmp(line, "mail ", 5) == 0) {
		line[len] = '\n';	/* the record, with its newline */
		if (logfile_append(&mail_log, line + 5, len - 4, 1) == -1 &&
		    strcmp(said, mail_log.error) != 0) {
			log_error("mail log: %s; records are lost until it "
			    "works again", mail_log.error);
			snprintf(said, sizeof(said), "%s", mail_log.error);
		}
		line[len] = '\0';
		if (mailstats_add(&mstats, line + 5) == 0)
			mstats_dirty = true;
	} else if (strncmp(line, "engine ", 7) == 0) {
		mailstats_engine(&mstats, line + 7);
		mstats_dirty = true;
	} else if (strncmp(line, "sessions ", 9) == 0) {
		mstats.sessions = (unsigned)strtoul(line + 9, NULL, 10);
		mstats_dirty = true;
	}
}

static void
events_read(void)
{
	ssize_t n;
	char *nl;

	while (events != -1) {
		n = read(events, events_buf + events_len, sizeof(events_buf) -
		    1 - events_len);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
			close(events);	/* the proxy is gone */
			events = -1;
			break;
		}
		if (n < 0)
			break;
		events_len += (size_t)n;
		events_buf[events_len] = '\0';
		while ((nl = memchr(events_buf, '\n', events_len)) != NULL) {
			size_t used = (size_t)(nl - events_buf) + 1;

			*nl = '\0';
			event_line(events_buf);
			memmove(events_buf, events_buf + used, events_len - used);
			events_len -= used;
		}
		if (events_len == sizeof(events_buf) - 1)
			events_len = 0;		/* a line too long: dropped */
	}
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

/* ---- dynamic addresses ------------------------------------------------ */

static struct strbuf seen;		/* the addresses last acted on */

/*
 * The devices' addresses changed (or may have): the sets of the
 * interfaces that say address dynamic are filled again, in the ruleset in
 * force whoever applied it (apply_dynamic, under the state lock).  The
 * rules stay as they are, and so do established connections.
 */
static void
addresses_changed(void)
{
	struct host_addrs h;
	struct strbuf now, msg, err;

	strbuf_init(&now, 0);
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (rtnl_addrs(&h, &err) == -1) {
		log_error("%s", strbuf_str(&err));
		goto out;
	}
	rtnl_addrs_format(&h, &now);
	/* A lease renewed says "new address" with the same one. */
	if (!strbuf_failed(&now) && now.len == seen.len &&
	    memcmp(strbuf_str(&now), strbuf_str(&seen), now.len) == 0)
		goto out;
	switch (apply_dynamic(apply_state_dir(), &h.b, &msg, &err)) {
	case -1:
		log_error("dynamic addresses: %s", strbuf_str(&err));
		break;
	case 1:
		log_lines(strbuf_str(&msg));
		/* fall through */
	default:
		strbuf_reset(&seen);
		strbuf_add(&seen, strbuf_str(&now), now.len);
	}
out:
	rtnl_addrs_free(&h);
	strbuf_free(&now);
	strbuf_free(&msg);
	strbuf_free(&err);
}

/* Wait up to ms for an address change, the proxy's events or a signal;
 * act on them. */
static void
wait_events(int ms)
{
	struct pollfd pfd[3 + HANODE_FDS] = { { .fd = watch_fd,
	    .events = POLLIN }, { .fd = events, .events = POLLIN },
	    { .fd = web_ctl, .events = POLLIN } };
	int nha = hanode_pollfds(pfd + 3);

	if (poll(pfd, 3 + (nfds_t)nha, ms) <= 0)
		return;
	hanode_events(pfd + 3, nha);
	if (pfd[2].revents & (POLLIN | POLLHUP))
		web_request();
	if (pfd[1].revents & (POLLIN | POLLHUP))
		events_read();
	if (pfd[0].revents & POLLIN) {
		switch (rtnl_drain(watch_fd)) {
		case 1:
			addresses_changed();
			break;
		case -1:
			log_error("rtnetlink: %s; dynamic addresses are no "
			    "longer followed", strerror(errno));
			close(watch_fd);
			watch_fd = -1;
			break;
		}
	}
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

/* Open l[0..n) as the proxy's listeners (as root, so that nothing needs
 * CAP_NET_BIND_SERVICE later).  0, or -1 (logged) with none open. */
static int
open_listeners(const struct server_listener *l, int n)
{
	char err[256];
	int i;

	close_listeners();
	for (i = 0; i < n; i++) {
		listeners[i] = l[i];
		if (server_listen(&listeners[i], err, sizeof(err)) == -1) {
			log_info("proxy: %s", err);
			close_listeners();
			return -1;
		}
		nlisteners++;
	}
	return 0;
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
 * (0700, the proxy's user) under the run directory, and emptied, so that
 * what a killed proxy left (decoded attachments) goes. */
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
	nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (getuid() == 0 && (chown(scratch, pw->pw_uid, pw->pw_gid) == -1 ||
	    chmod(scratch, 0700) == -1)) {
		log_info("proxy: %s: %s", scratch, strerror(errno));
		return -1;
	}
	return 0;
}

/* Become pw in the proxy process, keeping CAP_NET_RAW only. */
static int
drop_privileges(const struct passwd *pw, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (getuid() != 0)
		return 0;	/* not root: nothing to drop */
	if (prctl(PR_SET_KEEPCAPS, 1) == -1 || setgroups(0, NULL) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "becoming %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_NET_RAW;
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "keeping CAP_NET_RAW: %s",
		    strerror(errno));
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

/* Start the proxy on the listeners, with the config in force. */
static void
start_proxy(void)
{
	struct passwd *pw;
	char err[256];
	int fds[2], evp[2];

	next_start = 0;
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
	if ((child = fork()) == -1) {
		log_info("proxy: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		close(evp[0]);
		close(evp[1]);
		return;
	}
	if (child == 0) {
		int keep[SERVER_LISTEN_MAX + 2], i;

		/* The listeners and its two pipes: nothing else. */
		for (i = 0; i < nlisteners; i++)
			keep[i] = listeners[i].fd;
		keep[i++] = fds[0];
		keep[i++] = evp[1];
		fds_keep(keep, (size_t)i);
		prctl(PR_SET_NAME, "moatd-smtp");
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGHUP, SIG_IGN);	/* reloads come through ctl */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		if (drop_privileges(pw, err, sizeof(err)) == -1) {
			log_info("proxy: %s", err);
			_exit(1);
		}
		log_info("proxy running as %s, %d listeners", getuid() == 0 ?
		    "root" : run_user, nlisteners);
		_exit(server_run(listeners, nlisteners, fds[0], evp[1],
		    conf_path, scratch));
	}
	close(fds[0]);
	close(evp[1]);
	ctl = fds[1];
	events_open(evp[0]);
	started = smtpio_now();
	server_send_config(ctl, text, textlen);
}

static void
stop_proxy(void)
{
	if (child == -1)
		return;
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	child = -1;
	close(ctl);
	ctl = -1;
	next_start = 0;
}

/* The proxy ended by itself: start it again, at once the first time, then
 * later and later while it keeps dying. */
static void
proxy_exited(int status)
{
	long long up = smtpio_now() - started, delay;

	close(ctl);
	ctl = -1;
	child = -1;
	if (up >= STABLE)
		backoff = 0;
	delay = backoff;
	backoff = backoff == 0 ? 1 : backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    backoff * 2;
	next_start = smtpio_now() + delay * 1000;
	log_warn("proxy exited (%s %d) after %lld ms; starting it again in "
	    "%lld s", WIFEXITED(status) ? "status" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), up,
	    delay);
}

/* ---- the config in force ---------------------------------------------- */

/* Make p the config in force: kernel (unless !apply: its ruleset is in
 * already), listeners, proxy.  -1 when p was not applied (nothing
 * changed). */
static int
install(const struct policy *p, bool apply)
{
	struct server_listener want[SERVER_LISTEN_MAX];
	int n;
	char *copy;

	if (apply && enforce(p) == -1)
		return -1;
	if (!no_apply)
		hanode_configure(p);
	configure_logger(p);
	mail_prepare(p);
	configure_web(p);
	if ((copy = malloc(p->len + 1)) == NULL) {
		log_info("out of memory");
		return -1;
	}
	memcpy(copy, p->text, p->len);
	copy[p->len] = '\0';
	free(text);
	text = copy;
	textlen = p->len;
	n = wanted(p, want);
	if (same_listeners(listeners, nlisteners, want, n)) {
		if (child != -1)
			server_send_config(ctl, text, textlen);
		else if (n > 0)
			next_start = smtpio_now();
		return 0;
	}
	/* What the proxy listens on changes: a new proxy on new sockets
	 * (sessions in flight are cut; nothing they sent was acknowledged). */
	stop_proxy();
	if (open_listeners(want, n) == 0 && n > 0)
		next_start = smtpio_now();
	else if (n == 0)
		log_info("no SMTP scanning configured: no proxy runs");
	return 0;
}

/* A config the HA peer sent, made this node's own (hanode.c): checked
 * like any other, enforced, then kept as the config file. */
static int
sync_apply(const char *t, size_t len, struct strbuf *msg, struct strbuf *err)
{
	struct policy *p = policy_parse(conf_path, t, len);
	char tmp[4200];
	size_t i;
	int fd;

	(void)msg;
	if (p == NULL || !policy_valid(p)) {
		for (i = 0; p != NULL && i < p->diags.n; i++)
			if (p->diags.v[i].severity == DIAG_ERROR) {
				char line[512];

				diag_format(&p->diags.v[i], line, sizeof(line));
				strbuf_printf(err, "%s%s", err->len ? "; " : "",
				    line);
			}
		if (err->len == 0)
			strbuf_puts(err, "not valid here");
		policy_free(p);
		return -1;
	}
	if (install(p, true) == -1) {
		strbuf_puts(err, "the kernel refused it (see moatd's log)");
		policy_free(p);
		return -1;
	}
	policy_free(p);
	snprintf(tmp, sizeof(tmp), "%s.sync", conf_path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || write(fd, t, len) != (ssize_t)len || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, conf_path) == -1) {
		log_error("ha: applied, but %s not written: %s", conf_path,
		    strerror(errno));
		unlink(tmp);
	}
	return 0;
}

/*
 * A start without a usable config (missing, invalid, unsafe, or refused
 * by the kernel) is never an open gateway: the last ruleset applied goes
 * back (with its proxy, if it had one), or with no history at all the
 * lockdown, with the management ports open from the LAN that the broken
 * config names, if it names one.  Said loudly; a SIGHUP with a mended
 * config takes over.
 */
static int
fallback(void)
{
	struct strbuf msg, err;
	struct policy *part;
	const struct iface *lan;
	char *device = NULL, why[512];
	unsigned seq;
	int rc;

	if ((part = policy_load_trusted(conf_path, why, sizeof(why))) != NULL &&
	    (lan = policy_lan(part)) != NULL && lan->device != NULL &&
	    lan->device[0] != '\0')
		device = strdup(lan->device);
	policy_free(part);
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	log_warn("%s cannot be enforced: the gateway is not left open",
	    conf_path);
	if ((rc = apply_fallback(apply_state_dir(), device, &seq, &msg,
	    &err)) == -1)
		log_error("fallback: %s", strbuf_str(&err));
	log_lines(strbuf_str(&msg));
	if (rc == 0 && seq != 0) {
		size_t len;
		char *text = apply_config_text(apply_state_dir(), seq, &len);
		struct policy *p = text != NULL ? policy_parse(conf_path, text,
		    len) : NULL;

		if (p != NULL && policy_valid(p))
			install(p, false);
		policy_free(p);
		free(text);
	}
	free(device);
	strbuf_free(&msg);
	strbuf_free(&err);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct policy *p;
	int ch;

	/* First of all: a HUP or a TERM during the start is remembered, not
	 * fatal. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* 0-2 open (on /dev/null), whatever moatd was started with: no
	 * socket opened later is standard input, nor inherited as one. */
	if (fds_std_null() == -1)
		return 1;
	if (argc == 2 && strcmp(argv[1], HANODE_SYNC_ARG) == 0)
		return hanode_sync_main();
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("moatd %s\n", moat_version());
		return 0;
	}
	while ((ch = getopt(argc, argv, "f:u:p:nv")) != -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		case 'u':
			run_user = optarg;
			break;
		case 'p':
			tproxy_port = atoi(optarg);
			if (tproxy_port <= 0 || tproxy_port > 65535)
				usage();
			break;
		case 'n':
			no_apply = true;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	hanode_init(apply_state_dir(), logfile_run_dir(), sync_apply);
	if (!no_apply) {
		recover();
		/* Before the config is read: a change from now on is heard. */
		strbuf_init(&seen, 0);
		if ((watch_fd = rtnl_watch()) == -1)
			log_error("rtnetlink: %s; dynamic addresses will not "
			    "be followed", strerror(errno));
	}
	if ((p = load()) != NULL) {
		if (install(p, true) == -1) {
			policy_free(p);
			p = NULL;
		} else if (nlisteners > 0 && getpwnam(run_user) == NULL) {
			/* The rules are in; the proxy cannot run. */
			log_error("no user '%s' for the SMTP proxy: create it (the "
			    "package does: adduser --system %s), or name another "
			    "with -u", run_user, run_user);
			policy_free(p);
			return 1;
		}
	}
	if (p == NULL) {
		if (no_apply)
			return 2;
		if (fallback() == -1)
			return 1;
		notify_ready("not enforcing the config: see the log");
	} else
		notify_ready("enforcing the config");
	policy_free(p);
	got_hup = 0;	/* the config just read is the newest */
	if (watch_fd != -1)
		addresses_changed();	/* what changed while we started */
	for (;;) {
		int status;

		if (got_term) {
			notify_stopping();
			hanode_stop();
			stop_web();
			stop_logger();
			stop_proxy();
			events_read();		/* what the proxy said last */
			mstats.sessions = 0;
			mstats_dirty = true;
			mail_save(true);
			close_listeners();
			log_info("stopped");
			return 0;
		}
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP: reloading %s", conf_path);
			notify_reloading();
			if ((p = load()) != NULL) {
				install(p, true);
				policy_free(p);
			}
			notify_ready("enforcing the config");
		}
		if (child != -1 && waitpid(child, &status, WNOHANG) == child)
			proxy_exited(status);
		if (logger != -1 && waitpid(logger, &status, WNOHANG) == logger) {
			log_warn("firewall log: exited (%s %d); starting it again "
			    "in 5 s", WIFEXITED(status) ? "status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) :
			    WTERMSIG(status));
			logger = -1;
			logger_next = smtpio_now() + 5000;
		}
		if (web != -1 && waitpid(web, &status, WNOHANG) == web) {
			log_warn("console: exited (%s %d); starting it again in "
			    "5 s", WIFEXITED(status) ? "status" :
			    "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
			    WTERMSIG(status));
			web = -1;
			web_key[0] = '\0';
			if (web_ctl != -1)
				close(web_ctl);
			web_ctl = -1;
			web_next = smtpio_now() + 5000;
		}
		if (web == -1 && web_next != 0 && smtpio_now() >= web_next) {
			web_next = 0;
			if ((p = load()) != NULL) {
				configure_web(p);
				policy_free(p);
			}
		}
		if (logger == -1 && logger_next != 0 &&
		    smtpio_now() >= logger_next)
			start_logger();
		if (child == -1 && nlisteners > 0 && next_start != 0 &&
		    smtpio_now() >= next_start)
			start_proxy();
		/* Signals cut the wait short. */
		wait_events(100);
		hanode_tick();
		mail_save(false);
		metrics_tick();
	}
}

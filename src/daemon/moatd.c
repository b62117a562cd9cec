/* moatd: applies the policy and runs the scanning SMTP proxy, the
 * firewall log and the web console.
 *
 *   moatd [-f FILE] [-u USER] [-p PORT] [-n] [-v]
 *
 * The parent stays root, and small: it settles what an interrupted apply
 * --confirm left, reads the config, applies the policy (as `moat apply`,
 * which sets up the policy route that delivers intercepted connections
 * first), follows the entry in force whoever applied it (inforce.c), and
 * supervises its children (child.c: each forked with
 * only the descriptors it needs, started again at once, then after 1, 2,
 * 4 … 30 s while it keeps dying):
 *  - the proxy (proxy.c), as USER (default moat-smtp) with no capability
 *    (CAP_NET_RAW alone to keep clients' addresses), on listening sockets
 *    the parent opens and keeps while it restarts, so connections wait in
 *    the backlog; its events become the mail log and figures;
 *  - the firewall logger (logger.c), which reads NFLOG;
 *  - the console (web.c, and src/web for the process itself), whose
 *    requests the parent answers from a fixed table (control.c), deciding
 *    who asks (identity.c);
 *  - in an HA pair, keepalived and conntrackd (hanode.c).
 * The layout is described in doc/design/pipeline.md.
 *
 * SIGHUP reads the config again: one that does not parse, is not safe
 * (writable by others) or that the kernel refuses changes nothing; else it
 * is applied and handed to the proxy, whose sessions in flight finish
 * under the old one.  A reload that changes what the proxy listens on (or
 * removes the antivirus block) restarts it (or stops it).  SIGTERM stops
 * them all; sessions in flight are cut, and since their mail was not
 * acknowledged, the clients retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/diag.h"
#include "base/fds.h"
#include "daemon/child.h"
#include "daemon/childlog.h"
#include "daemon/control.h"
#include "daemon/feedd.h"
#include "daemon/feeds.h"
#include "daemon/gateways.h"
#include "daemon/hanode.h"
#include "daemon/inforce.h"
#include "daemon/logger.h"
#include "daemon/notify.h"
#include "daemon/probed.h"
#include "daemon/proxy.h"
#include "daemon/schedcut.h"
#include "daemon/web.h"
#include "base/log.h"
#include "enforce/apply.h"
#include "enforce/feedstore.h"
#include "enforce/nftc.h"
#include "enforce/rtnl.h"
#include "observe/logfile.h"
#include "observe/metrics.h"
#include "policy/load.h"
#include "policy/policy.h"
#include "version.h"

#define DEFAULT_USER	"moat-smtp"

static const char *conf_path = MOAT_DEFAULT_CONF;
static const char *run_user = DEFAULT_USER;
static int tproxy_port = NFTC_TPROXY_PORT;
static bool no_apply;

static volatile sig_atomic_t got_hup, got_term;

static int watch_fd = -1;		/* rtnetlink: address changes */

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

/* Each line of a message buffer as a log line (a warning's as one). */
static void
log_lines(const char *m)
{
	size_t n;

	for (; *m != '\0'; m += n + (m[n] == '\n')) {
		n = strcspn(m, "\n");
		if (strncmp(m, APPLY_WARNING, strlen(APPLY_WARNING)) == 0)
			log_warn("%.*s", (int)n, m);
		else
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
	feedstore_bind(&h.b, apply_state_dir());
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
	/* (a valid config's warnings: the loader's, that others can read
	 * its HA secret; lint's are moat check's) */
	for (i = 0; i < p->diags.n; i++)
		if (p->diags.v[i].severity == DIAG_WARNING) {
			char line[512];

			diag_format(&p->diags.v[i], line, sizeof(line));
			log_warn("%s", line);
		}
	return p;
}

/* The config of the entry in force, parsed as of now; NULL when there is
 * none or it cannot be used (logged when say). */
static struct policy *
in_force(bool say)
{
	struct strbuf err;
	struct policy *p;

	strbuf_init(&err, 0);
	if ((p = inforce_now(apply_state_dir(), &err)) == NULL && say)
		log_error("the config in force cannot be applied again: %s",
		    strbuf_str(&err));
	strbuf_free(&err);
	return p;
}

/* The config the followers serve, for the console when it starts again:
 * the entry in force's, or the file's when nothing is in force. */
static struct policy *
served(void)
{
	struct policy *p = in_force(false);

	return p != NULL ? p : load();
}

/* What a start or a SIGHUP installs: the file's config, checked (one
 * that cannot be used changes nothing); with -n, whose rules are someone
 * else's, the config of the entry in force when there is one, since the
 * proxy must serve what the rules intercept. */
static struct policy *
to_install(void)
{
	struct policy *p = load(), *q;

	if (p == NULL || !no_apply || (q = in_force(false)) == NULL)
		return p;
	policy_free(p);
	return q;
}

static unsigned confirm_secs;		/* the console's apply --confirm */

static int
enforce(const struct policy *p)
{
	static bool started;
	struct apply_phases ph;
	struct strbuf msg, err;
	int rc = 0;

	if (no_apply)
		return 0;
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	/* moatd's first apply (at boot, after a restart) is whole: the
	 * kernel may hold anything since moatd last ran. */
	if (apply_policy(apply_state_dir(), p, p->text, p->len, started ? 0 :
	    APPLY_WHOLE, confirm_secs, &ph, &msg, &err) == -1) {
		log_error("apply: %s", strbuf_str(&err));
		rc = -1;
	} else {
		if (!ph.incremental && ph.why[0] != '\0' && started)
			log_info("apply: whole: %s", ph.why);
		log_lines(strbuf_str(&msg));
		started = true;
	}
	strbuf_free(&msg);
	strbuf_free(&err);
	return rc;
}

/* ---- the firewall log ------------------------------------------------- */

static struct child logger = CHILD_INIT("firewall log", "moatd-log");
static struct logger_chan logger_ask = { .fd = -1 };	/* its questions */
static long long logger_mend;		/* child_now: no restart for a
					   closed channel before */
static struct logger_conf log_conf;
static char log_dir[4096], log_run[4200];

static void
close_logger_ask(void)
{
	logger_chan_close(&logger_ask);
}

/* The firewall log process for the config in force (started again with
 * a new one: its directory or sizes may have changed): LOGGER_USER with
 * CAP_NET_ADMIN alone (NFLOG), asking us for the configs it names over a
 * socket pair of its own. */
static void
start_logger(void)
{
	struct passwd *pw = NULL;
	char err[512];
	int sp[2];

	close_logger_ask();
	if (getuid() == 0) {
		if ((pw = getpwnam(LOGGER_USER)) == NULL) {
			log_error("firewall log: no user '%s' to run as: "
			    "create it (the package does: adduser --system "
			    "%s); not started", LOGGER_USER, LOGGER_USER);
			return;
		}
		if (logger_prepare(log_conf.dir, logfile_run_dir(),
		    log_conf.keep, pw->pw_uid, pw->pw_gid, err,
		    sizeof(err)) == -1) {
			log_error("firewall log: %s; not started", err);
			return;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_error("firewall log: socketpair: %s", strerror(errno));
		return;
	}
	if (child_exe() == -1) {
		log_error("firewall log: /proc/self/exe: %s; not started",
		    strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return;
	}
	switch (child_fork(&logger, (const int[]){ sp[1], child_exe() }, 2)) {
	case -1:
		close(sp[0]);
		close(sp[1]);
		return;
	case 0: {
		/* moatd afresh (logger_main): the process that parses
		 * everyone's packets holds nothing of ours (the HA secret,
		 * the console's sessions); its channel on 3. */
		char max[32], keep[16];
		char *const argv[] = { "moatd-log", LOGGER_ARG,
		    (char *)log_conf.dir, max, keep, (char *)log_conf.run,
		    log_verbose() ? "v" : "-", NULL };

		snprintf(max, sizeof(max), "%llu",
		    (unsigned long long)log_conf.max);
		snprintf(keep, sizeof(keep), "%u", log_conf.keep);
		_exit(child_exec("firewall log", &sp[1], 1, argv));
	}
	}
	close(sp[1]);
	logger_chan_open(&logger_ask, sp[0]);
}

/* The logger asks for a config by its hash: what came of its question
 * read, and answered once whole. */
static void
logger_question(void)
{
	if (logger_chan_read(&logger_ask, apply_state_dir()) == -1)
		close_logger_ask();
}

static void
logger_answer_out(void)
{
	if (logger_chan_write(&logger_ask) == -1)
		close_logger_ask();
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
	/* Started again only when its own settings change: it names the
	 * records' rules by asking for the history's configs, and a restart
	 * loses what NFLOG brings meanwhile (each reload, and each entry
	 * moatd follows, lost records). */
	if (logger.pid != -1 && strcmp(log_dir,
	    logfile_dir(p->logging.directory)) == 0 &&
	    log_conf.max == p->logging.max_file_size &&
	    log_conf.keep == p->logging.keep)
		return;
	snprintf(log_dir, sizeof(log_dir), "%s",
	    logfile_dir(p->logging.directory));
	snprintf(log_run, sizeof(log_run), "%s/%s", logfile_run_dir(),
	    LOGGER_RUN_SUBDIR);
	log_conf.dir = log_dir;
	log_conf.max = p->logging.max_file_size;
	log_conf.keep = p->logging.keep;
	log_conf.run = getuid() == 0 ? log_run : logfile_run_dir();
	mkdir(logfile_run_dir(), 0755);
	child_stop(&logger);
	start_logger();
}

/* ---- the console ------------------------------------------------------ */

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
#define NFD	9	/* the descriptors before the HA node's */
static void
wait_events(int ms)
{
	struct pollfd pfd[NFD + HANODE_FDS + CHILDLOG_MAX] = { { .fd = watch_fd,
	    .events = POLLIN }, { .fd = proxy_events_fd(), .events = POLLIN },
	    { .fd = web_fd(), .events = POLLIN },
	    { .fd = logger_chan_in_fd(&logger_ask), .events = POLLIN },
	    { .fd = feeds_fd(), .events = POLLIN },
	    { .fd = gateways_fd(), .events = POLLIN },
	    { .fd = proxy_out_fd(), .events = POLLOUT },
	    { .fd = web_out_fd(), .events = POLLOUT },
	    { .fd = logger_chan_out_fd(&logger_ask), .events = POLLOUT } };
	int nha = hanode_pollfds(pfd + NFD);
	int nlog = childlog_pollfds(pfd + NFD + nha);

	if (poll(pfd, NFD + (nfds_t)nha + (nfds_t)nlog, ms) <= 0)
		return;
	childlog_events(pfd + NFD + nha, nlog);
	hanode_events(pfd + NFD, nha);
	if (pfd[8].revents & (POLLOUT | POLLERR | POLLHUP))
		logger_answer_out();
	if (pfd[7].revents & (POLLOUT | POLLERR | POLLHUP))
		web_out_ready();
	if (pfd[6].revents & (POLLOUT | POLLERR | POLLHUP))
		proxy_out_ready();
	if (pfd[5].revents & (POLLIN | POLLHUP))
		gateways_events();
	if (pfd[4].revents & (POLLIN | POLLHUP))
		feeds_events();
	if (pfd[3].revents & (POLLIN | POLLHUP))
		logger_question();
	if (pfd[2].revents & (POLLIN | POLLHUP))
		web_request();
	if (pfd[1].revents & (POLLIN | POLLHUP))
		proxy_events();
	if (pfd[0].revents & POLLIN) {
		switch (rtnl_drain(watch_fd)) {
		case 1:
			addresses_changed();
			gateways_links_changed();
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

/* ---- the config in force ---------------------------------------------- */

/* Make p the config in force: kernel (unless !apply: its ruleset is in
 * already), listeners, proxy.  -1 when p was not applied (nothing
 * changed). */
static int
install(const struct policy *p, bool apply)
{
	if (apply && enforce(p) == -1)
		return -1;
	/* (an entry someone else writes from now on is followed) */
	inforce_served(p->text, p->len);
	if (!no_apply) {
		hanode_configure(p);
		web_configure(p);
	}
	configure_logger(p);
	if (!no_apply) {
		feeds_configure(p);
		gateways_configure(p);
	}
	return proxy_install(p);
}

/* A config the HA peer sent, made this node's own (hanode.c): checked
 * like any other, enforced, then kept as the config file. */
static int
sync_apply(const char *t, size_t len, struct strbuf *msg, struct strbuf *err)
{
	struct policy *p = policy_parse(conf_path, t, len);
	size_t i;

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
	if (control_write_conf(conf_path, t, len) == -1)
		log_error("ha: applied, but %s not written: %s", conf_path,
		    strerror(errno));
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
	if (argc == 2 && strcmp(argv[1], HANODE_ASK_ARG) == 0)
		_exit(hanode_ask_main());
	if (argc == 3 && strcmp(argv[1], HANODE_ASK_ARG) == 0 &&
	    strcmp(argv[2], "hello") == 0)
		_exit(hanode_hello_main());
	if (argc == 2 && strcmp(argv[1], FEEDD_ARG) == 0)
		_exit(feedd_main());	/* as before the exec: no atexit */
	if (argc == 2 && strcmp(argv[1], PROBED_ARG) == 0)
		_exit(probed_main());
	if (argc >= 2 && strcmp(argv[1], LOGGER_ARG) == 0)
		_exit(logger_main(argc - 2, argv + 2));
	if (argc >= 2 && strcmp(argv[1], WEB_ARG) == 0)
		_exit(web_main(argc - 2, argv + 2));
	if (argc >= 2 && strcmp(argv[1], WEB_PROBE_ARG) == 0)
		_exit(web_probe_main(argc - 2, argv + 2));
	if (argc >= 2 && strcmp(argv[1], PROXY_ARG) == 0)
		_exit(proxy_main(argc - 2, argv + 2));
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
	/* Only this process runs as root; its children never. */
	{
		struct passwd *pw = getpwnam(run_user);

		if (pw != NULL && pw->pw_uid == 0) {
			fprintf(stderr, "moatd: -u %s: the proxy never runs as "
			    "uid 0 (only moatd's parent does); name a user of "
			    "its own\n", run_user);
			return 2;
		}
	}
	if (tproxy_port != NFTC_TPROXY_PORT)
		log_warn("-p %d: the rules hand intercepted SMTP to port %d; "
		    "on another port the proxy gets none of it, and it is "
		    "held back (never passed unscanned)", tproxy_port,
		    NFTC_TPROXY_PORT);
	/* The executable this moatd runs, for the children it executes
	 * afresh, even if a new package replaces the file meanwhile. */
	if (child_exe() == -1)
		log_warn("/proc/self/exe: %s: no child moatd executed afresh "
		    "will start", strerror(errno));
	proxy_init(conf_path, run_user, tproxy_port);
	web_init(&(struct web_hooks){ .conf = conf_path, .apply = web_apply,
	    .load = served });
	hanode_init(apply_state_dir(), logfile_run_dir(), sync_apply);
	feeds_init(apply_state_dir(), logfile_run_dir());
	gateways_init(logfile_run_dir());
	if (!no_apply)
		schedcut_init(apply_state_dir());
	if (!no_apply) {
		recover();
		/* Before the config is read: a change from now on is heard. */
		strbuf_init(&seen, 0);
		if ((watch_fd = rtnl_watch()) == -1)
			log_error("rtnetlink: %s; dynamic addresses will not "
			    "be followed", strerror(errno));
	}
	if ((p = to_install()) != NULL) {
		if (install(p, true) == -1) {
			policy_free(p);
			p = NULL;
		} else if (proxy_listeners() > 0 && getpwnam(run_user) == NULL) {
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
			web_stop();
			feeds_stop();
			gateways_stop();
			child_stop(&logger);
			close_logger_ask();
			proxy_stop();
			schedcut_stop();
			log_info("stopped");
			return 0;
		}
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP: reloading %s", conf_path);
			notify_reloading();
			if ((p = to_install()) != NULL) {
				install(p, true);
				policy_free(p);
			}
			notify_ready("enforcing the config");
		}
		if (child_reap(&logger, &status))
			close_logger_ask();
		if (child_due(&logger))
			start_logger();
		/* Its channel for naming records closed (this loop answered
		 * it too late, during a long apply): started again, as each
		 * reload used to, so that records are named again. */
		if (logger_chan_late(&logger_ask, clock_ms())) {
			/* what came or went while this loop was busy first */
			logger_answer_out();
			logger_question();
		}
		if (logger_chan_late(&logger_ask, clock_ms())) {
			log_warn("firewall log: a question and its answer "
			    "not whole within %d ms: its channel is closed",
			    LOGGER_ASK_MS);
			close_logger_ask();
		}
		if (logger.pid != -1 && logger_ask.fd == -1 &&
		    child_now() >= logger_mend) {
			/* (at most every 10 s: a logger that closes it on
			 * purpose does not make this loop fork) */
			logger_mend = child_now() + 10000;
			log_info("firewall log: started again to name records "
			    "by their rules");
			child_stop(&logger);
			start_logger();
		}
		proxy_tick();
		web_tick();
		feeds_tick();
		gateways_tick();
		/* Signals cut the wait short. */
		wait_events(100);
		hanode_tick();
		metrics_tick();
		/* Summer time: the schedules' windows moved in UTC; the
		 * config in force compiled again (not the file, which may
		 * hold an edit not applied yet). */
		if (schedcut_tick() && (p = in_force(true)) != NULL) {
			install(p, true);
			policy_free(p);
		}
		/* Another moat applied or restored a config: the followers
		 * take it (its rules are in already).  With -n too: the
		 * rules are then always applied by someone else. */
		if ((p = inforce_follow(apply_state_dir())) != NULL) {
			install(p, false);
			policy_free(p);
		}
	}
}

/*
 * web.c: the console as moatd's parent runs it: its listening socket
 * (bound as root), its certificate (made at the first start), the
 * console process (its own user, no capabilities, supervised by child.c,
 * given only its socket and its channel), and the answers to its
 * requests (control.c), each on the channel it came on with its id.
 */
#include "daemon/web.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fds.h"
#include "base/frame.h"
#include "base/log.h"
#include "base/users.h"
#include "daemon/answer.h"
#include "daemon/child.h"
#include "daemon/childlog.h"
#include "daemon/control.h"
#include "enforce/apply.h"
#include "enforce/probe.h"
#include "enforce/route.h"
#include "observe/logfile.h"
#include "web/console.h"
#include "web/tls.h"
#include "version.h"

#define MOAT_WEB_ROOT	"/usr/share/moat/web"	/* or $MOAT_WEB_ROOT */

static struct web_hooks hooks;
static struct child web = CHILD_INIT("console", "moatd-web");

/* The probe asked now (one at a time: the console waits for it). */
static struct control_probe probe;
static struct child prober = CHILD_INIT("probe", "moatd-probe");
static int probe_fd = -1;		/* its result, our end */
static uint32_t probe_id;		/* the request it answers */
static unsigned probe_gen;		/* on that channel */
static long long probe_started;
static char web_user[64];		/* the console's user: the probe's */

struct probe_out {
	enum probe_result	 r;
	char			 banner[512], err[256];
};

static int web_ctl = -1;		/* to the console, our end */
/* The channel never blocks this loop: a request is read as it comes and
 * an answer written as the console takes it, each whole within
 * CONTROL_IO_WAIT or the channel is dropped (a console taken over that
 * sent each request a byte at a time, or read its answers so, held the
 * loop nearly 10 s a request, for good: a review, 2026-12-08). */
static struct frame_in web_in;		/* the request coming */
static long long web_in_since;		/* its first byte, or 0 */
static struct frame_out web_out;	/* the answer going */
static long long web_out_since;
static pid_t prober_dead = -1;		/* a probe killed, not yet reaped */
static char web_key[512];		/* what it serves: restart on change */
static struct control_env web_env;
static unsigned web_gen;		/* which channel: one per start */
static bool web_busy;			/* answering the console now */
static bool web_restart_due;		/* a restart waits for the answer */
static char web_users[4096], web_conf_log[4096];

static void probe_start(uint32_t id, unsigned gen);

/* The channel closed (why logged, unless NULL): the console ends at its
 * end, and is started again. */
static void
drop_channel(const char *why)
{
	if (why != NULL)
		log_warn("console: %s: the channel is dropped", why);
	if (web_ctl != -1)
		close(web_ctl);
	web_ctl = -1;
	frame_in_reset(&web_in);
	frame_out_reset(&web_out);
	web_in_since = web_out_since = 0;
}

/* An answer that could not go (errno): the channel dropped. */
static void
not_sent(void)
{
	char why[128];

	snprintf(why, sizeof(why), "answer not sent (%s)", strerror(errno));
	drop_channel(why);
}

static void restart_if_due(void);

/*
 * out (taken), the answer to request id, to the console, whole within
 * CONTROL_IO_WAIT (what the channel does not take at once goes as the
 * console reads: web_out_ready).  One no frame holds (a whole policy of
 * 300,000 rules is 100 MB of JSON) or that could not be made is said so,
 * under its id: the console waits for one.  One not sent whole leaves the
 * channel out of step: it is dropped, and the console ends at its end.
 */
static void
answer(uint32_t id, struct strbuf *out)
{
	if (strbuf_failed(out) || out->len > FRAME_MAX) {
		log_warn("console: an answer of %zu bytes or more could not "
		    "be sent whole: an error sent instead", out->len);
		strbuf_free(out);
		strbuf_init(out, 0);
		control_error(out, 413, "the answer is over the console's "
		    "limit: ask for less (GET policy?first=N&count=M)");
	}
	if (web_ctl == -1)
		return;
	if (frame_out_take(&web_out, true, id, out) == -1 ||
	    frame_out_write(web_ctl, &web_out) == -1) {
		not_sent();
		return;
	}
	web_out_since = frame_out_pending(&web_out) ? child_now() : 0;
}

int
web_out_fd(void)
{
	return web_ctl != -1 && frame_out_pending(&web_out) ? web_ctl : -1;
}

void
web_out_ready(void)
{
	int rc;

	if (web_ctl == -1 || !frame_out_pending(&web_out))
		return;
	if ((rc = frame_out_write(web_ctl, &web_out)) == -1)
		not_sent();
	else if (rc == 1) {
		web_out_since = 0;
		restart_if_due();
	}
}
static void probe_end(void);

static void
stop_web(void)
{
	if (web.pid == -1)
		return;
	/* The channel first: a request it sends now fails at once, and
	 * the answers it has are sent before it exits (console_run). */
	drop_channel(NULL);
	child_stop(&web);
	web_key[0] = '\0';
}

void
web_stop(void)
{
	if (probe_fd != -1)
		probe_end();
	stop_web();
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
void
web_configure(const struct policy *p)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct passwd *pw;
	char key[512], where[80], err[256];
	const char *root = getenv("MOAT_WEB_ROOT");
	int fd, sp[2], keep[3], one = 1;

	if (web_busy) {
		web_restart_due = true;	/* after the answer (web_request) */
		return;
	}
	if (p->console.off) {
		stop_web();
		return;
	}
	if (web_env.id == NULL && (web_env.id = identity_new()) == NULL) {
		log_error("console: out of memory");
		return;
	}
	if (users_count(p->console.users) <= 0) {
		if (web.pid != -1 || web_key[0] == '\0')
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
	/* What the process serves with (the session timeout is the
	 * parent's: a change of it needs no restart). */
	snprintf(key, sizeof(key), "%s %s %s %s %s", where, p->console.users,
	    p->console.cert, p->console.key, p->console.user);
	/* The parent's own settings, which need no restart: taken at
	 * every config (a shorter session timeout at once). */
	web_env.idle = p->console.session_timeout;
	snprintf(web_conf_log, sizeof(web_conf_log), "%s",
	    logfile_dir(p->logging.directory));
	if (web.pid != -1 && strcmp(key, web_key) == 0)
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
	/* IP_FREEBIND: at boot moatd starts before the network
	 * (network-pre.target), so the LAN's address is not there yet. */
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sl) == -1 || listen(fd, 64) == -1) {
		log_error("console: %s: %s", where, strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_error("console: %s", strerror(errno));
		close(fd);
		return;
	}
	keep[0] = fd;
	keep[1] = sp[1];
	if (child_exe() == -1) {
		log_error("console: /proc/self/exe: %s: not started; tried "
		    "again in a minute", strerror(errno));
		close(fd);
		close(sp[0]);
		close(sp[1]);
		web.next = child_now() + 60000;
		return;
	}
	keep[2] = child_exe();
	switch (child_fork(&web, keep, 3)) {
	case -1:
		close(fd);
		close(sp[0]);
		close(sp[1]);
		return;
	case 0: {
		/* moatd afresh: whoever reaches the port talks to it, and a
		 * fork held the parent's memory (the sessions, the users
		 * file's hashes, the HA secret).  Its listener on 3 and its
		 * channel on 4, moved out of the way first. */
		char *const argv[] = { "moatd-web", WEB_ARG,
		    p->console.user, (char *)(root != NULL ? root :
		    MOAT_WEB_ROOT), p->console.cert, p->console.key,
		    log_verbose() ? "v" : "-", NULL };
		int mine[] = { fd, sp[1] };

		_exit(child_exec("console", mine, 2, argv));
	}
	}
	close(sp[1]);
	close(fd);
	drop_channel(NULL);
	web_ctl = sp[0];
	if (fcntl(web_ctl, F_SETFL, O_NONBLOCK) == -1) {
		/* a channel that blocks would hold this loop */
		char why[128];

		snprintf(why, sizeof(why), "its channel: %s", strerror(errno));
		drop_channel(why);
	}
	web_gen++;
	snprintf(web_key, sizeof(web_key), "%s", key);
	snprintf(web_users, sizeof(web_users), "%s", p->console.users);
	web_env.conf = hooks.conf;
	web_env.users = web_users;
	web_env.state = apply_state_dir();
	web_env.version = moat_version();
	web_env.run = logfile_run_dir();
	web_env.log_dir = web_conf_log;
	/* Sessions live here, and outlive a restart of the console. */
	web_env.apply = hooks.apply;
	web_env.probe = &probe;
	snprintf(web_user, sizeof(web_user), "%s", p->console.user);
	log_info("console: https://%s/ as %s", where, p->console.user);
}

/*
 * One request from the console, answered on the channel it came on, with
 * its id.  A request may restart the console (an apply that changes what
 * it serves): the restart waits until the answer is written, and if the
 * channel changed all the same, the answer is dropped: a new console
 * never reads what the one before asked (issue 21).
 */
/*
 * The probe, in a child of its own, moatd executed afresh
 * (web_probe_main): the console's user, no capabilities, only the pipe of
 * its result; the parent goes on meanwhile, and answers
 * when the result is in (web_request, with web_fd the pipe until then).
 */
static void
probe_start(uint32_t id, unsigned gen)
{
	struct probe_out po;
	struct strbuf out;
	int pp[2];

	memset(&po, 0, sizeof(po));
	/* Its result is read only when it is there (the pipe was blocking,
	 * and a probe stopped by the console, whose user it shares, held
	 * root's loop in read: a review, 2026-12-08); a result is one
	 * write of less than PIPE_BUF, whole or not at all. */
	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail;
	if (child_exe() == -1) {
		close(pp[0]);
		close(pp[1]);
		goto fail;
	}
	switch (child_fork(&prober, (int[]){ pp[1], child_exe() }, 2)) {
	case -1:
		close(pp[0]);
		close(pp[1]);
		goto fail;
	case 0: {
		/* moatd afresh (web_probe_main): nothing of the parent's
		 * memory (the sessions, the users' hashes, the HA secret,
		 * the TLS keys) is the probe's, which reads what a server
		 * the console named sends (a review, 2026-12-07).  Its
		 * result's pipe on 3. */
		char port[16], ms[16];
		char *const argv[] = { "moatd-probe", WEB_PROBE_ARG,
		    web_user, probe.dst, port, ms, NULL };

		snprintf(port, sizeof(port), "%u", probe.port);
		snprintf(ms, sizeof(ms), "%d", probe.timeout_ms);
		_exit(child_exec("console probe", &pp[1], 1, argv));
	}
	}
	close(pp[1]);
	probe_fd = pp[0];
	probe_id = id;
	probe_gen = gen;
	probe_started = child_now();
	return;
fail:
	po.r = PROBE_ERROR;
	snprintf(po.err, sizeof(po.err), "%s", strerror(errno));
	strbuf_init(&out, 0);
	control_probe_answer(&probe, po.r, po.banner, po.err, &out);
	answer(id, &out);
	strbuf_free(&out);
}

/* The probe's result in (or not: it failed, or took too long), answered
 * on its channel if that is still the console's.  The probe is killed
 * first: what it wrote is then all there will be, and nothing is waited
 * for. */
static void
probe_end(void)
{
	struct probe_out po;
	struct strbuf out;

	memset(&po, 0, sizeof(po));
	if (prober.pid != -1) {
		/* reaped later when not within 100 ms: a probe traced by
		 * another process (the console's user is its) is not reaped
		 * until the tracer lets go */
		int i;
		pid_t r = 0;

		kill(prober.pid, SIGKILL);
		for (i = 0; i < 100 && (r = waitpid(prober.pid, NULL,
		    WNOHANG)) == 0; i++)
			usleep(1000);	/* it dies within a few ms */
		if (r == 0)
			prober_dead = prober.pid;
		prober.pid = -1;
		childlog_flush(prober.proc);
	}
	if (read(probe_fd, &po, sizeof(po)) != (ssize_t)sizeof(po)) {
		memset(&po, 0, sizeof(po));
		po.r = PROBE_ERROR;
		snprintf(po.err, sizeof(po.err), "the probe did not finish");
	}
	po.banner[sizeof(po.banner) - 1] = '\0';
	po.err[sizeof(po.err) - 1] = '\0';
	close(probe_fd);
	probe_fd = -1;
	if (web_ctl == -1 || web_gen != probe_gen)
		return;		/* the console that asked is gone */
	strbuf_init(&out, 0);
	control_probe_answer(&probe, po.r, po.banner, po.err, &out);
	answer(probe_id, &out);
	strbuf_free(&out);
}

/* A restart an answer waited for, once the answer is out. */
static void
restart_if_due(void)
{
	struct policy *p;

	if (!web_restart_due || frame_out_pending(&web_out))
		return;
	web_restart_due = false;
	if ((p = hooks.load()) != NULL) {
		web_configure(p);
		policy_free(p);
	}
}

void
web_request(void)
{
	struct strbuf out;
	uint32_t id;
	int fd = web_ctl, rc;
	unsigned gen = web_gen;
	char *req;
	size_t len;

	if (probe_fd != -1) {
		probe_end();
		return;
	}
	if (fd == -1 || frame_out_pending(&web_out))
		return;		/* one request at a time */
	if ((rc = frame_in_read_id(fd, &web_in, CONTROL_REQUEST_MAX,
	    &id)) == 0) {
		if (frame_in_started(&web_in) && web_in_since == 0)
			web_in_since = child_now();
		return;
	}
	if (rc == -1) {
		char why[128];

		snprintf(why, sizeof(why), "gone (%s)", errno ?
		    strerror(errno) : "it exited");
		drop_channel(why);
		return;
	}
	req = web_in.buf;
	len = web_in.len;
	web_in.buf = NULL;
	frame_in_reset(&web_in);
	web_in_since = 0;
	strbuf_init(&out, 0);
	web_busy = true;
	control_handle(&web_env, req, len, &out);
	free(req);
	web_busy = false;
	if (probe.pending && web_ctl == fd && web_gen == gen) {
		probe_start(id, gen);	/* answered when it ends */
		strbuf_free(&out);
		return;
	}
	if (web_ctl != fd || web_gen != gen)
		log_warn("console: restarted while answering: answer dropped");
	else
		answer(id, &out);
	strbuf_free(&out);
	restart_if_due();
}


void
web_init(const struct web_hooks *h)
{
	hooks = *h;
}

int
web_fd(void)
{
	/* While a probe runs, the console waits for it: its result is
	 * what comes next. */
	return probe_fd != -1 ? probe_fd : frame_out_pending(&web_out) ? -1 :
	    web_ctl;
}

void
web_tick(void)
{
	struct policy *p;
	int status;

	/* A probe over its time (it has 5 s and 1 s for the banner). */
	if (probe_fd != -1 && child_now() - probe_started > 10000)
		probe_end();

	/* A request, or an answer, not whole within its time: what the
	 * console sent, or took, while this loop was busy elsewhere (a long
	 * apply) is read or written first. */
	if (web_out_since != 0 &&
	    child_now() - web_out_since > CONTROL_IO_WAIT * 1000) {
		web_out_ready();
		if (web_out_since != 0)
			drop_channel("an answer not taken within its time");
	}
	if (web_in_since != 0 && probe_fd == -1 &&
	    child_now() - web_in_since > CONTROL_IO_WAIT * 1000) {
		web_request();
		if (web_in_since != 0 &&
		    child_now() - web_in_since > CONTROL_IO_WAIT * 1000)
			drop_channel("a request not whole within its time");
	}
	/* A probe killed and not yet reaped (probe_end). */
	if (prober_dead != -1 && waitpid(prober_dead, NULL, WNOHANG) != 0)
		prober_dead = -1;

	if (child_reap(&web, &status)) {
		web_key[0] = '\0';
		drop_channel(NULL);
	}
	if (child_due(&web)) {
		web.next = 0;
		if ((p = hooks.load()) != NULL) {
			web_configure(p);
			policy_free(p);
		}
	}
}

int
web_probe_main(int argc, char **argv)
{
	struct probe_out po;
	struct passwd *pw = NULL;
	struct stat st;
	char err[256];
	int rc;

	child_exec_named("moatd-probe");
	if ((rc = child_exec_own(argc == 4 && fstat(3, &st) == 0 &&
	    S_ISFIFO(st.st_mode), WEB_PROBE_ARG, "console's probe",
	    NULL)) != 0)
		return rc;
	if (getuid() == 0 && (pw = getpwnam(argv[0])) == NULL) {
		log_error("console probe: no user '%s' to run as", argv[0]);
		return 1;
	}
	if (pw != NULL && child_drop(pw, -1, err, sizeof(err)) == -1) {
		log_error("console probe: %s", err);
		return 1;
	}
	if (child_nospawn("console probe") == -1)
		return 1;
	memset(&po, 0, sizeof(po));
	po.r = probe_tcp(argv[1], (unsigned)atoi(argv[2]), NULL,
	    atoi(argv[3]), 1000, po.banner, sizeof(po.banner), po.err,
	    sizeof(po.err));
	return write(3, &po, sizeof(po)) == (ssize_t)sizeof(po) ? 0 : 1;
}

int
web_main(int argc, char **argv)
{
	struct console_conf cc = { .listen_fd = 3, .ctl = 4 };
	struct passwd *pw;
	struct stat st;
	char *cert, *keypem, err[256];
	int t = 0, rc;
	socklen_t tl = sizeof(t);

	child_exec_named("moatd-web");
	if ((rc = child_exec_own(argc == 5 && fstat(3, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && getsockopt(4, SOL_SOCKET, SO_TYPE, &t,
	    &tl) == 0 && t == SOCK_STREAM, WEB_ARG, "console", argv[4])) != 0)
		return rc;
	/* The certificate and key read while root (the key is root's),
	 * then no capabilities at all, its own user (child_drop: and no
	 * new privileges, the parent still there). */
	cert = slurp(argv[2]);
	keypem = slurp(argv[3]);
	if ((pw = getpwnam(argv[0])) == NULL) {
		log_error("console: no user '%s' to run as", argv[0]);
		return 1;
	}
	if (cert == NULL || keypem == NULL) {
		log_error("console: its certificate or key cannot be read");
		return 1;
	}
	if (child_drop(pw, -1, err, sizeof(err)) == -1) {
		log_error("console: cannot start as %s: %s", argv[0], err);
		return 1;
	}
	if (child_nospawn("console") == -1 ||
	    child_nosocket("console") == -1)
		return 1;
	cc.root = argv[1];
	cc.cert_pem = cert;
	cc.key_pem = keypem;
	return console_run(&cc);
}

/* hanode.c: moatd's half of an HA pair; see hanode.h. */
#include "daemon/hanode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/clock.h"
#include "base/fds.h"
#include "base/frame.h"
#include "base/log.h"
#include "daemon/child.h"
#include "daemon/childlog.h"
#include "enforce/apply.h"
#include "ha/engines.h"
#include "ha/peer.h"
#include "ha/syncd.h"
#include "policy/lexer.h"
#include "policy/load.h"
#include "smtp/smtpio.h"

#define HELLO_MS	2000		/* between hellos */
#define HELLO_ASKER_MS	3600000		/* the hellos' asker, at most */
#define BACKOFF_MAX_MS	30000
#define STABLE_MS	60000		/* up that long: the backoff starts over */
#define SYNC_USER	"moat-sync"	/* the sync link's server runs as */

/*
 * A child hanode supervises: started again when it exits, at once, then
 * after 1, 2, 4 ... 30 s while it keeps dying.  Kept small and apart so
 * that it can become moatd's one supervisor of every child (issue 21).
 */
struct sup {
	const char	*name;
	pid_t		(*start)(void);	/* the child, or -1 */
	void		(*exited)(int status);	/* after it died by itself */
	pid_t		 pid;
	long long	 next;		/* ms: when to start it again, 0 none */
	long long	 backoff;	/* ms */
	long long	 started;
};

struct peer_view {
	char		 state[16];	/* as the peer said */
	char		 hash[17];
	time_t		 seen;		/* the last exchange that worked */
	char		 error[256];	/* the last one that did not */
};

static struct {
	bool		 on;
	hanode_apply_fn	 apply;
	char		 state_dir[1024], run_dir[1024];
	struct ha_files	 f;
	char		 peer[ADDR_STRLEN], own[ADDR_STRLEN];
	char		 secret[256];
	unsigned	 priority;
	char		*text;		/* the config in force */
	unsigned	 refused_seq;	/* the peer refused this entry */
	size_t		 len;
	char		 hash[17];	/* its policy hash (peer.h) */
	struct sup	 keepalived, conntrackd, syncd;
	pid_t		 hello, push, ctcmd;
	int		 hello_ctl;	/* to the hello asker (moatd-ask) */
	struct frame_in	 hello_in;	/* its answer, as it comes */
	char		 hello_key[ADDR_STRLEN + 256];	/* its peer, secret */
	uint32_t	 hello_id;	/* the hello asked */
	long long	 hello_born;	/* ms: when its asker started */
	long long	 hello_said;	/* ms: the last of its losses logged */
	int		 push_fd;	/* the push's answer */
	long long	 hello_end, push_end;	/* ms: answered by then */
	int		 fifo;
	int		 sync_ctl;	/* to the sync link's server */
	struct frame_in	 sync_in;
	char		 sync_key[ADDR_STRLEN + 256];	/* what it serves with */
	char		 fifo_buf[4096];
	size_t		 fifo_len;
	enum ha_state	 state;
	time_t		 since;
	long long	 hello_next;
	unsigned	 seen_seq;	/* the newest history entry seen */
	unsigned	 synced_seq;	/* the newest one the peer sent */
	unsigned	 push_seq;	/* the one being sent */
	struct peer_view peer_view;
	char		 push_result[512];
	time_t		 push_time;
	unsigned	 pushed_seq;
	struct {
		char	dev[32], addr[2 * ADDR_STRLEN + 8];
	}		 vips[16];
	size_t		 nvip;
} ha = {
	.hello = -1, .push = -1, .ctcmd = -1, .fifo = -1, .sync_ctl = -1,
	.hello_ctl = -1, .push_fd = -1,
};

static int
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	char tmp[PATH_MAX + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) ==
	    -1)
		return -1;
	/* No fsync: ha.json is rewritten every 2 s, and the engines'
	 * files are written again from the config at every start. */
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

/* The same text already there: nothing to write. */
static bool
same_file(const char *path, const char *text, size_t len)
{
	char *buf = malloc(len + 1);
	FILE *fp = fopen(path, "re");
	bool same = false;

	if (buf != NULL && fp != NULL)
		same = fread(buf, 1, len + 1, fp) == len &&
		    memcmp(buf, text, len) == 0;
	if (fp != NULL)
		fclose(fp);
	free(buf);
	return same;
}

/* An executable of that name on PATH (or the usual sbin directories). */
static bool
on_path(const char *name)
{
	const char *path = getenv("PATH");
	char dirs[4096], file[PATH_MAX], *save = NULL, *d;

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path != NULL ?
	    path : "/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d != NULL;
	    d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", d, name);
		if (access(file, X_OK) == 0)
			return true;
	}
	return false;
}

/* ---- the status file ------------------------------------------------- */

static void
write_status(void)
{
	char path[PATH_MAX];
	json_t *o, *pv;
	char *s;

	snprintf(path, sizeof(path), "%s/" HA_STATUS_FILE, ha.run_dir);
	if (!ha.on) {
		unlink(path);
		return;
	}
	pv = json_pack("{s:s, s:s, s:s, s:I, s:s}", "address", ha.peer,
	    "state", ha.peer_view.state, "hash", ha.peer_view.hash, "seen",
	    (json_int_t)ha.peer_view.seen, "error", ha.peer_view.error);
	o = json_pack("{s:s, s:I, s:i, s:s, s:s, s:o, s:b}", "state",
	    ha_state_name(ha.state), "since", (json_int_t)ha.since, "priority",
	    (int)ha.priority, "address", ha.own, "hash", ha.hash, "peer", pv,
	    "same_policy", ha.peer_view.hash[0] != '\0' &&
	    strcmp(ha.peer_view.hash, ha.hash) == 0);
	if (ha.push_time != 0)
		json_object_set_new(o, "push", json_pack("{s:i, s:I, s:s}",
		    "entry", (int)ha.pushed_seq, "time",
		    (json_int_t)ha.push_time, "result", ha.push_result));
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		write_file(path, s, strlen(s), 0644);
		free(s);
	}
	json_decref(o);
}

/* ---- the engines ------------------------------------------------------ */

/* A process an earlier moatd left running with our files: ended. */
static void
end_orphan(const char *pidfile)
{
	char buf[64], cmd[PATH_MAX], line[4096];
	FILE *fp = fopen(pidfile, "re");
	long pid = 0;
	size_t n;
	int i;

	if (fp == NULL)
		return;
	if (fgets(buf, sizeof(buf), fp) != NULL)
		pid = strtol(buf, NULL, 10);
	fclose(fp);
	unlink(pidfile);
	if (pid <= 1)
		return;
	snprintf(cmd, sizeof(cmd), "/proc/%ld/cmdline", pid);
	if ((fp = fopen(cmd, "re")) == NULL)
		return;
	n = fread(line, 1, sizeof(line) - 1, fp);
	fclose(fp);
	for (size_t k = 0; k < n; k++)
		if (line[k] == '\0')
			line[k] = ' ';
	line[n] = '\0';
	if (strstr(line, ha.f.dir) == NULL)
		return;		/* the pid is someone else's now */
	log_warn("ha: ending process %ld, left over from an earlier moatd",
	    pid);
	kill((pid_t)pid, SIGTERM);
	for (i = 0; i < 20 && kill((pid_t)pid, 0) == 0; i++)
		usleep(100000);
	if (kill((pid_t)pid, 0) == 0)
		kill((pid_t)pid, SIGKILL);
}

/* Wait for pid to end, through the signals that interrupt the wait
 * (moatd's handlers do not restart it): no child is left a zombie. */
static void
reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
}

static pid_t
spawn(const char *name, char *const argv[])
{
	char log[PATH_MAX];
	pid_t pid;
	int fd;

	snprintf(log, sizeof(log), "%s/%s.log", ha.f.dir, name);
	if ((pid = fork()) == -1) {
		log_error("ha: %s: fork: %s", name, strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* A moatd that dies takes its engines with it: keepalived's SIGTERM
	 * hands the VIPs over at once. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) != -1) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd != -1)
		dup2(fd, 0);
	fds_keep(NULL, 0);	/* nothing of moatd's */
	unsetenv("NOTIFY_SOCKET");	/* moatd's own, not the engines' */
	execvp(argv[0], argv);
	fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static pid_t
start_keepalived(void)
{
	char *const argv[] = { "keepalived", "-n", "-l", "-G", "-D", "-P",
	    "-f", ha.f.keepalived_conf, "-p", ha.f.keepalived_pid, "-r",
	    ha.f.vrrp_pid, NULL };

	end_orphan(ha.f.keepalived_pid);
	return spawn("keepalived", argv);
}

static pid_t
start_conntrackd(void)
{
	char *const argv[] = { "conntrackd", "-C", ha.f.conntrackd_conf,
	    NULL };
	char pidfile[PATH_MAX], buf[32];
	pid_t pid;

	snprintf(pidfile, sizeof(pidfile), "%s/conntrackd.pid", ha.f.dir);
	end_orphan(pidfile);
	unlink(ha.f.conntrackd_lock);	/* stale after a crash */
	unlink(ha.f.conntrackd_sock);
	if ((pid = spawn("conntrackd", argv)) > 0) {
		int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

		write_file(pidfile, buf, (size_t)n, 0644);
	}
	return pid;
}

/* ---- supervision ---------------------------------------------------- */

static void
sup_start(struct sup *c)
{
	c->next = 0;
	c->started = smtpio_now();
	if ((c->pid = c->start()) == -1) {
		c->next = smtpio_now() + (c->backoff > 1000 ? c->backoff : 1000);
		return;
	}
	log_info("ha: %s started (pid %d)", c->name, (int)c->pid);
}

static void
sup_stop(struct sup *c)
{
	int i, status = 0;

	c->next = 0;
	if (c->pid == -1)
		return;
	kill(c->pid, SIGTERM);
	for (i = 0; i < 500 && waitpid(c->pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 500) {
		kill(c->pid, SIGKILL);
		reap(c->pid, &status);
	}
	c->pid = -1;
}

/* Reaped when it exited, started again when its time came. */
static void
sup_tick(struct sup *c)
{
	long long up;
	int status;

	if (c->pid != -1 && waitpid(c->pid, &status, WNOHANG) == c->pid) {
		up = smtpio_now() - c->started;
		log_warn("ha: %s exited (%s %d)", c->name, WIFEXITED(status) ?
		    "status" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
		c->pid = -1;
		if (c->exited != NULL)
			c->exited(status);
		if (up > STABLE_MS)
			c->backoff = 0;
		c->next = smtpio_now() + c->backoff;
		c->backoff = c->backoff == 0 ? 1000 : c->backoff * 2 >
		    BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff * 2;
	}
	if (c->pid == -1 && c->next != 0 && smtpio_now() >= c->next)
		sup_start(c);
}

/* ip addr del, for what a keepalived that died left on the links. */
static void
drop_vips(void)
{
	size_t i;

	for (i = 0; i < ha.nvip; i++) {
		char *const argv[] = { "ip", "addr", "del", ha.vips[i].addr,
		    "dev", ha.vips[i].dev, NULL };
		pid_t pid = fork();

		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd != -1) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			fds_keep(NULL, 0);
			execvp("ip", argv);
			_exit(127);
		}
		if (pid > 0)
			reap(pid, NULL);
	}
}

/* keepalived gone: its VIPs with it, and nobody knows this node's state
 * until the next one says. */
static void
keepalived_exited(int status)
{
	(void)status;
	drop_vips();
	if (ha.state != HA_UNKNOWN) {
		ha.state = HA_UNKNOWN;
		ha.since = time(NULL);
	}
	write_status();
}

/* conntrackd's commands for a new state, one after the other, in a
 * child (the parent goes on). */
static void
conntrackd_commands(enum ha_state st)
{
	static const char *const master[] = { "-c", "-f", "-R", "-B", NULL };
	static const char *const backup[] = { "-t", "-n", NULL };
	static const char *const fault[] = { "-t", NULL };
	const char *const *cmds = st == HA_MASTER ? master : st == HA_BACKUP ?
	    backup : st == HA_FAULT ? fault : NULL;
	pid_t pid;

	if (cmds == NULL || ha.conntrackd.pid == -1)
		return;
	if ((pid = fork()) != 0) {
		if (pid > 0)
			ha.ctcmd = pid;
		return;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	fds_keep(NULL, 0);
	for (; *cmds != NULL; cmds++) {
		char *const argv[] = { "conntrackd", "-C", ha.f.conntrackd_conf,
		    (char *)*cmds, NULL };
		pid_t c = spawn("conntrackd-commands", argv);
		int status = 0;

		if (c > 0)
			reap(c, &status);
	}
	_exit(0);
}

static void
state_changed(enum ha_state st)
{
	if (st == HA_UNKNOWN || st == ha.state)
		return;
	log_info("ha: this node is now %s (was %s)", ha_state_name(st),
	    ha_state_name(ha.state));
	ha.state = st;
	ha.since = time(NULL);
	conntrackd_commands(st);
	write_status();
	ha.hello_next = 0;	/* the peer hears it at once */
}

/* ---- the sync link ------------------------------------------------------ */

/* The sync link's listening socket (bound as root; served by the
 * moatd-sync child), or -1. */
static int
open_listener(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int one = 1, fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ha.own, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(HA_SYNC_PORT);
		sl = sizeof(*in);
	} else if (inet_pton(AF_INET6, ha.own, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(HA_SYNC_PORT);
		sl = sizeof(*in6);
	} else
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The address may come later (the link is not up yet). */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 || listen(fd, 8) == -1) {
		log_warn("ha: the sync link's listener on %s: %s", ha.own,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
saw_peer(const char *state, const char *hash)
{
	snprintf(ha.peer_view.state, sizeof(ha.peer_view.state), "%s",
	    state != NULL ? state : "");
	snprintf(ha.peer_view.hash, sizeof(ha.peer_view.hash), "%s",
	    hash != NULL ? hash : "");
	ha.peer_view.seen = time(NULL);
	ha.peer_view.error[0] = '\0';
}

/* Whether the config made of the peer's (mine) leaves every setting only
 * root here may set (policy_privileged_change) as ours has it: the secret
 * signs a policy, not the console's user or a file for root to write.
 * peer_rebase keeps them; a block the peer's config lacks would still
 * put a default in place of ours. */
static bool
kept_privileged(const struct policy *ours, const struct strbuf *mine,
    struct strbuf *err)
{
	struct policy *p = policy_parse("(the peer's config, rebased)",
	    strbuf_str(mine), mine->len);
	const char *what = p != NULL ? policy_privileged_change(ours, p) :
	    NULL;
	bool ok = p != NULL && what == NULL;

	if (p == NULL)
		strbuf_puts(err, "out of memory");
	else if (what != NULL)
		strbuf_printf(err, "it would change %s, which only root on "
		    "this node sets: give both nodes the same block", what);
	policy_free(p);
	return ok;
}

/* The peer's config, made ours and applied. */
static json_t *
take_push(json_t *req)
{
	const char *text = json_string_value(json_object_get(req, "text"));
	struct policy *theirs, *ours;
	struct strbuf mine, msg, err;
	json_t *ans;
	int rc = -1;

	if (text == NULL)
		return json_pack("{s:i, s:s}", "status", 400, "error",
		    "no config");
	strbuf_init(&mine, 0);
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	theirs = policy_parse("(the peer's config)", text, strlen(text));
	ours = ha.text != NULL ? policy_parse("(this node's config)", ha.text,
	    ha.len) : NULL;
	if (theirs == NULL || ours == NULL || !policy_valid(theirs))
		strbuf_puts(&err, "the config sent is not valid here");
	else if (peer_rebase(theirs, ours, &mine, &err) == 0 &&
	    !strbuf_failed(&mine) && kept_privileged(ours, &mine, &err))
		rc = ha.apply(strbuf_str(&mine), mine.len, &msg, &err);
	policy_free(theirs);
	policy_free(ours);
	if (rc == 0) {
		struct history_entry *v = NULL;
		const char *w;
		size_t n = 0;

		if (apply_history(ha.state_dir, &v, &n, &err) == 0 && n > 0) {
			ha.synced_seq = v[n - 1].seq;
			ha.seen_seq = v[n - 1].seq;
		}
		free(v);
		log_info("ha: applied the config the peer sent (policy %s)",
		    ha.hash);
		/* (a history line the disk did not confirm, said) */
		if ((w = strstr(strbuf_str(&msg), APPLY_WARNING)) != NULL)
			log_warn("ha: %.*s", (int)strcspn(w, "\n"), w);
		ans = json_pack("{s:i, s:s, s:i}", "status", 200, "hash",
		    ha.hash, "entry", (int)ha.synced_seq);
	} else {
		log_error("ha: refused the config the peer sent: %s",
		    strbuf_str(&err));
		ans = json_pack("{s:i, s:s}", "status", 422, "error",
		    strbuf_str(&err));
	}
	strbuf_free(&mine);
	strbuf_free(&msg);
	strbuf_free(&err);
	return ans;
}

/* ---- the sync link's server (moatd-sync; ha/syncd.h) ------------------ */

static void
sync_closed(int status)
{
	(void)status;
	if (ha.sync_ctl != -1)
		close(ha.sync_ctl);
	ha.sync_ctl = -1;
	frame_in_reset(&ha.sync_in);
}

/* The child, its user's, that serves the peer: the listening socket and
 * its channel to us are all it holds. */
/* The user the sync link's processes run as: SYNC_USER, or NULL (said
 * in the log).  Not nobody, which other daemons share: they could signal
 * the processes that hold the HA secret, or be signalled by them (a
 * review, 2026-12-08); the proxy, the console and the logger have no
 * such fallback either. */
static struct passwd *
sync_user(void)
{
	struct passwd *pw = getpwnam(SYNC_USER);

	if (pw == NULL || pw->pw_uid == 0) {
		log_error("ha: no user '%s' for the sync link: create it (the "
		    "package does: adduser --system %s)", SYNC_USER,
		    SYNC_USER);
		return NULL;
	}
	return pw;
}

/* In a child: pw's user and group, no capabilities left (a uid that is
 * not 0 has none), no new privileges; or _exit. */
static void
become(const struct passwd *pw)
{
	if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0) == -1) {	/* (as child_drop's) */
		log_error("ha: cannot run as %s: %s", pw->pw_name,
		    strerror(errno));
		_exit(1);
	}
	/* The change of user cleared the parent-death signal: again, and
	 * gone if moatd went meanwhile. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(1);
}

/*
 * The child that serves the peer: moatd itself again, executed afresh
 * (nothing of the parent's memory: not its config, not the console's
 * sessions), as HANODE_SYNC_ARG says, with the listening socket on 3 and
 * its channel to us on 4 and nothing else; the secret is the first frame
 * on the channel (not in its arguments or environment, which ps shows).
 */
static pid_t
start_syncd(void)
{
	int sp[2], lfd, lw;
	pid_t pid;

	if (child_exe() == -1 || sync_user() == NULL ||
	    (lfd = open_listener()) == -1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		close(lfd);
		return -1;
	}
	lw = childlog_open("moatd-sync");
	if ((pid = fork()) == 0) {
		char *const argv[] = { "moatd-sync", HANODE_SYNC_ARG, NULL };
		int mine[] = { lfd, sp[1] };

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (childlog_child(lw) == -1)
			_exit(127);
		_exit(child_exec("ha: the sync link's server", mine, 2, argv));
	}
	if (lw != -1)
		close(lw);
	close(lfd);
	close(sp[1]);
	if (pid == -1 || frame_send(sp[0], ha.secret, strlen(ha.secret)) ==
	    -1) {
		log_error("ha: the sync link's server: %s", strerror(errno));
		close(sp[0]);
		if (pid > 0) {
			kill(pid, SIGKILL);
			reap(pid, NULL);
		}
		return -1;
	}
	sync_closed(0);
	ha.sync_ctl = sp[0];
	fcntl(ha.sync_ctl, F_SETFL, fcntl(ha.sync_ctl, F_GETFL) | O_NONBLOCK);
	return pid;
}

int
hanode_sync_main(void)
{
	struct passwd *pw;
	struct pollfd p = { .fd = 4, .events = POLLIN };
	int listening = 0, rc;
	socklen_t sl = sizeof(listening);
	size_t len;
	char *secret;

	prctl(PR_SET_NAME, "moatd-sync");
	/* main() set moatd's own handlers before it called us. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &sl) == -1 ||
	    !listening || fcntl(4, F_GETFD) == -1) {
		fprintf(stderr, "moatd: " HANODE_SYNC_ARG " is moatd's own "
		    "(its HA sync link's server)\n");
		return 2;
	}
	if ((pw = sync_user()) == NULL)
		return 1;
	become(pw);
	/* It reads what anyone on the link sends, before the secret is
	 * shown: no process of its own (a review, 2026-12-07). */
	if (child_nospawn("ha: the sync link's server") == -1 ||
	    child_nosocket("ha: the sync link's server") == -1)
		return 1;
	/* A new user clears it (prctl(2)); the parent's end of 4 closing
	 * ends us as well. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (poll(&p, 1, 5000) != 1 || (secret = frame_recv(4, sizeof(ha.secret),
	    &len)) == NULL)
		return 1;
	rc = syncd_run(3, 4, secret);
	explicit_bzero(secret, len);
	free(secret);
	return rc == 0 ? 0 : 1;
}

/* The server broke the channel's rules: ended (started again later). */
static void
sync_broken(const char *why)
{
	log_error("ha: the sync link's server: %s; started again", why);
	if (ha.syncd.pid != -1)
		kill(ha.syncd.pid, SIGKILL);
	sync_closed(0);
}

/* A verified request the server passed on, answered on the same channel
 * with its id.  Each field is checked here: the server is not trusted
 * beyond the signature it checked. */
static void
sync_request(const char *msg, size_t len)
{
	json_t *req = json_loadb(msg, len, 0, NULL), *id, *ans;
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *state = json_string_value(json_object_get(req, "state"));
	const char *hash = json_string_value(json_object_get(req, "hash"));
	int ctl = ha.sync_ctl;
	uint32_t n;
	char *s;

	id = json_object_get(req, "id");
	if (!json_is_object(req) || !json_is_integer(id) || op == NULL ||
	    (json_object_get(req, "state") != NULL && state == NULL) ||
	    (json_object_get(req, "hash") != NULL && hash == NULL)) {
		json_decref(req);
		sync_broken("a request out of shape");
		return;
	}
	saw_peer(state, hash);
	if (strcmp(op, "push") == 0)
		ans = take_push(req);
	else if (strcmp(op, "hello") == 0)
		ans = json_pack("{s:i}", "status", 200);
	else
		ans = json_pack("{s:i, s:s}", "status", 400, "error",
		    "unknown request");
	json_object_set(ans, "id", id);
	json_object_set_new(ans, "state", json_string(ha_state_name(ha.state)));
	json_object_set_new(ans, "hash", json_string(ha.hash));
	s = json_dumps(ans, JSON_COMPACT);
	json_decref(ans);
	json_decref(req);
	write_status();
	if (s == NULL || ctl != ha.sync_ctl) {	/* a new server meanwhile */
		free(s);
		return;
	}
	/* Never waits: a server that does not read its answers is broken. */
	n = htonl((uint32_t)strlen(s));
	if (send(ctl, &n, sizeof(n), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(n) || send(ctl, s, strlen(s), MSG_DONTWAIT |
	    MSG_NOSIGNAL) != (ssize_t)strlen(s))
		sync_broken("it does not read its answers");
	free(s);
}

#define SYNC_FRAMES_TURN	4

/* What the server sent, read as far as it is there. */
static void
sync_read(void)
{
	int rc, turns = 0;

	/* A few frames a turn of root's loop: a sync process taken over
	 * that sends without end held the loop here, and with it signals,
	 * the console and failover (a review, 2026-12-07); what is left is
	 * read at the next turn. */
	while (turns++ < SYNC_FRAMES_TURN && ha.sync_ctl != -1 &&
	    (rc = frame_in_read(ha.sync_ctl, &ha.sync_in, SYNCD_CTL_MAX)) !=
	    0) {
		if (rc == -1) {
			if (errno == 0)
				sync_closed(0);	/* it exited: reaped soon */
			else
				sync_broken(strerror(errno));
			return;
		}
		{
			struct frame_in in = ha.sync_in;

			memset(&ha.sync_in, 0, sizeof(ha.sync_in));
			sync_request(in.buf, in.len);
			frame_in_reset(&in);
		}
	}
}

/* Answers from the peer, as the asking child hands them over. */
#define ASK_ANSWER_MAX	4096
/* What an asking child is given: the request (a push carries a whole
 * config) with the peer, the secret and the time it has. */
#define ASK_INPUT_MAX	(64u << 20)
/* Time an asking child has beyond its own deadline before it is ended:
 * one taken over may never exit, and no other hello or push would go. */
#define ASK_GRACE_MS	2000

/*
 * The push's asker: a child that asks the peer req and writes the answer
 * to the pipe in *fd, JSON: the answer, or {"error"}.  The parent reads it
 * once the child is reaped: it fits in the pipe.  The child is moatd
 * executed afresh (hanode_ask_main), as the sync link's user: it parses
 * what the peer sends, and a fork held the parent's memory (the console's
 * sessions, the users' hashes, the TLS keys) while it did (a review,
 * 2026-12-07).  What it needs comes in a sealed memfd on its 3 (a pipe
 * could fill and hold the parent; argv and the environment are for all
 * to read), its answer's pipe on 4.
 */
static pid_t
push_in_child(json_t *req, int timeout_ms, int *fd)
{
	struct passwd *pw = sync_user();
	json_t *in;
	char *s = NULL;
	size_t len = 0;
	int p[2] = { -1, -1 }, mfd = -1, lw;
	pid_t pid = -1;

	*fd = -1;
	in = json_pack("{s:s, s:s, s:i, s:o}", "peer", ha.peer, "secret",
	    ha.secret, "ms", timeout_ms, "req", req);
	if (in != NULL && (s = json_dumps(in, JSON_COMPACT)) != NULL)
		len = strlen(s);
	json_decref(in);
	if (pw == NULL || s == NULL || len > ASK_INPUT_MAX ||
	    child_exe() == -1 ||
	    (mfd = memfd_create("moatd-ask", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1 || fds_write_all(mfd, s, len) == -1 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1 || pipe2(p, O_CLOEXEC) == -1)
		goto out;
	lw = childlog_open("moatd-ask push");
	if ((pid = fork()) == 0) {
		char *const argv[] = { "moatd-ask", HANODE_ASK_ARG, NULL };

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (childlog_child(lw) == -1)
			_exit(127);
		_exit(child_exec("ha: asking the peer", (int[]){ mfd, p[1] },
		    2, argv));
	}
	if (lw != -1)
		close(lw);
	if (pid > 0) {
		*fd = p[0];
		p[0] = -1;
	}
out:
	if (pid == -1)
		log_error("ha: asking the peer: %s", strerror(errno));
	if (s != NULL) {
		explicit_bzero(s, len);
		free(s);
	}
	if (mfd != -1)
		close(mfd);
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	return pid;
}

/* An asker's exchange with the peer: req asked (id, when not NULL, put in
 * the answer), the answer as JSON text under ASK_ANSWER_MAX (the peer's,
 * or {"error"}), or NULL. */
static char *
ask_peer(const char *peer, const char *secret, json_t *req, int ms,
    json_t *id)
{
	struct strbuf err;
	json_t *ans;
	char *s;

#ifdef MOAT_TEST_SEAMS
	/* tests/lab/ha-fds.sh: an exchange held past its deadline (the
	 * parent must end the asker) */
	if (getenv("MOAT_ASK_HOLD_MS") != NULL)
		poll(NULL, 0, atoi(getenv("MOAT_ASK_HOLD_MS")));
#endif
	strbuf_init(&err, 0);
	if (peer_ask(peer, secret, req, ms, &ans, &err) == -1)
		ans = json_pack("{s:s}", "error", strbuf_str(&err));
	strbuf_free(&err);
	if (ans != NULL && id != NULL)
		json_object_set(ans, "id", id);
	if ((s = json_dumps(ans, JSON_COMPACT)) != NULL &&
	    strlen(s) >= ASK_ANSWER_MAX) {
		free(s);
		json_decref(ans);
		ans = json_pack("{s:s}", "error", "an answer too long");
		if (ans != NULL && id != NULL)
			json_object_set(ans, "id", id);
		s = json_dumps(ans, JSON_COMPACT);
	}
	json_decref(ans);
	return s;
}

/* The hello asker (hello_start): its channel on 3, the peer, the secret
 * and the time a hello has first, then a hello asked ({"id", ...}) and
 * answered ({"id", ...}: the peer's answer, or {"error"}) in turn, until
 * the channel ends. */
int
hanode_hello_main(void)
{
	struct passwd *pw;
	json_t *first, *req, *id;
	const char *peer, *secret;
	char *buf, *s;
	size_t len;
	int t = 0, ms, rc;
	socklen_t tl = sizeof(t);

	child_exec_named("moatd-ask");
	if ((rc = child_exec_own(getsockopt(3, SOL_SOCKET, SO_TYPE, &t,
	    &tl) == 0 && t == SOCK_STREAM, HANODE_ASK_ARG " hello",
	    "HA peer's hello asker", NULL)) != 0)
		return rc;
	if ((pw = sync_user()) == NULL)
		return 1;
	become(pw);
	if (child_nospawn("ha: the hello asker") == -1)
		return 1;
	if ((buf = frame_recv_by(3, 4096, &len, clock_ms() + 5000)) == NULL)
		return 1;
	first = json_loadb(buf, len, 0, NULL);
	explicit_bzero(buf, len);
	free(buf);
	peer = json_string_value(json_object_get(first, "peer"));
	secret = json_string_value(json_object_get(first, "secret"));
	ms = (int)json_integer_value(json_object_get(first, "ms"));
	if (peer == NULL || secret == NULL || ms <= 0)
		return 1;
	while ((buf = frame_recv(3, ASK_ANSWER_MAX, &len)) != NULL) {
		req = json_loadb(buf, len, 0, NULL);
		free(buf);
		if (!json_is_object(req) || !json_is_integer(id =
		    json_object_get(req, "id")))
			return 1;
		json_incref(id);
		json_object_del(req, "id");
		s = ask_peer(peer, secret, req, ms, id);
		json_decref(id);
		json_decref(req);
		if (s == NULL || frame_send(3, s, strlen(s)) == -1)
			return 1;
		free(s);
	}
	return 0;
}

/* The child of push_in_child: what it is given read from 3 (a memfd: a
 * regular file), the answer written to 4 (a pipe). */
int
hanode_ask_main(void)
{
	struct passwd *pw;
	struct stat st, sp;
	json_t *in, *req;
	const char *peer, *secret;
	char *buf, *s;
	ssize_t n;
	int rc;

	child_exec_named("moatd-ask");
	if ((rc = child_exec_own(fstat(3, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0 && (uint64_t)st.st_size <= ASK_INPUT_MAX &&
	    fstat(4, &sp) == 0 && S_ISFIFO(sp.st_mode), HANODE_ASK_ARG,
	    "HA peer's asker", NULL)) != 0)
		return rc;
	if ((pw = sync_user()) == NULL)
		return 1;
	become(pw);
	if (child_nospawn("ha: asking the peer") == -1)
		return 1;
	if ((buf = malloc((size_t)st.st_size)) == NULL ||
	    (n = pread(3, buf, (size_t)st.st_size, 0)) != st.st_size)
		return 1;
	close(3);
	in = json_loadb(buf, (size_t)n, 0, NULL);
	explicit_bzero(buf, (size_t)n);
	free(buf);
	peer = json_string_value(json_object_get(in, "peer"));
	secret = json_string_value(json_object_get(in, "secret"));
	req = json_object_get(in, "req");
	if (peer == NULL || secret == NULL || !json_is_object(req) ||
	    !json_is_integer(json_object_get(in, "ms")))
		return 1;
	s = ask_peer(peer, secret, req, (int)json_integer_value(
	    json_object_get(in, "ms")), NULL);
	return s != NULL && write(4, s, strlen(s)) == (ssize_t)strlen(s) ?
	    0 : 1;
}

/* What an asking child that exited left in its pipe (closed), or NULL. */
static json_t *
read_answer(int *fd)
{
	char buf[ASK_ANSWER_MAX];
	ssize_t n;

	if (*fd == -1)
		return NULL;
	fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
	n = read(*fd, buf, sizeof(buf));
	close(*fd);
	*fd = -1;
	return n > 0 ? json_loadb(buf, (size_t)n, 0, NULL) : NULL;
}

static void maybe_resync(void);

/* The answer to a hello (taken; NULL: none). */
static void
hello_done(json_t *a)
{
	const char *e = json_string_value(json_object_get(a, "error"));

	if (a == NULL || e != NULL) {
		snprintf(ha.peer_view.error, sizeof(ha.peer_view.error), "%s",
		    e != NULL ? e : "no answer");
		if (time(NULL) - ha.peer_view.seen > 6)
			ha.peer_view.state[0] = '\0';
	} else
		saw_peer(json_string_value(json_object_get(a, "state")),
		    json_string_value(json_object_get(a, "hash")));
	json_decref(a);
	write_status();
	maybe_resync();
}

static void
push_done(void)
{
	json_t *a = read_answer(&ha.push_fd);
	const char *e = json_string_value(json_object_get(a, "error"));
	int status = (int)json_integer_value(json_object_get(a, "status"));

	ha.push_time = time(NULL);
	ha.pushed_seq = ha.push_seq;
	if (a != NULL && e == NULL && status == 200) {
		snprintf(ha.push_result, sizeof(ha.push_result), "applied");
		log_info("ha: the peer applied entry %u", ha.push_seq);
		saw_peer(json_string_value(json_object_get(a, "state")),
		    json_string_value(json_object_get(a, "hash")));
	} else {
		snprintf(ha.push_result, sizeof(ha.push_result), "%s: %s",
		    status == 422 ? "refused" : "not sent", e != NULL ? e :
		    "no answer");
		if (status == 422)
			ha.refused_seq = ha.push_seq;
		log_error("ha: the peer did not apply entry %u: %s",
		    ha.push_seq, ha.push_result);
	}
	json_decref(a);
	write_status();
}

/* Entry seq's config to the peer, in a child (push_done reads its
 * answer), with the secret's value as x (text is changed): the peer
 * keeps its own ha block (peer_rebase), and the link carries no
 * secret: the body is signed, not sealed, and `ha { peer }` is the
 * console's to set (a review, 2026-12-07). */
static void
push_entry(unsigned seq, char *text, size_t len)
{
	json_t *req;

	lexer_blank_secrets(text, len);
	ha.push_seq = seq;
	log_info("ha: sending entry %u to the peer %s", seq, ha.peer);
	req = json_pack("{s:s, s:s, s:s, s:s%, s:i}", "op", "push", "state",
	    ha_state_name(ha.state), "hash", ha.hash, "text", text, len,
	    "entry", (int)seq);
	ha.push = push_in_child(req, PEER_PUSH_TIMEOUT_MS, &ha.push_fd);
	ha.push_end = smtpio_now() + PEER_PUSH_TIMEOUT_MS + ASK_GRACE_MS;
}

/* No push under way and no confirm waiting: a config may go out. */
static bool
may_send(void)
{
	unsigned seq;
	time_t deadline;

	return ha.push == -1 && !apply_pending(ha.state_dir, &seq, &deadline);
}

/* The newest entry of the history: its number and file in *e.  0, or -1
 * (no history). */
static int
newest(struct history_entry *e)
{
	struct history_entry *v = NULL;
	struct strbuf err;
	size_t n = 0;
	int rc = -1;

	strbuf_init(&err, 0);
	if (apply_history(ha.state_dir, &v, &n, &err) == 0 && n > 0) {
		*e = v[n - 1];
		rc = 0;
	}
	free(v);
	strbuf_free(&err);
	return rc;
}

/* A new entry of our own history (an apply, a confirm, a rollback made
 * here, not one the peer sent): to the peer. */
static void
maybe_push(void)
{
	struct history_entry e;
	struct policy *p;
	size_t len;
	char *text;

	if (!may_send() || newest(&e) == -1 || e.seq == ha.seen_seq)
		return;
	ha.seen_seq = e.seq;
	if (e.seq == ha.synced_seq || (text = apply_config_text(ha.state_dir,
	    e.seq, &len)) == NULL)
		return;
	/* Applied here by moat apply (moatd heard nothing of it): the
	 * policy in force is that entry's. */
	p = policy_parse(e.file, text, len);
	if (p != NULL && policy_valid(p))
		hanode_configure(p);	/* no ha block: stops */
	policy_free(p);
	if (ha.on)
		push_entry(e.seq, text, len);
	free(text);
}

/*
 * The master's config to a backup that runs another policy (it was down
 * when this one changed, or it started with an older file): the newest
 * entry, again after each hello until the peer runs it, unless the peer
 * refused that entry (said once, in moat status).
 */
static void
maybe_resync(void)
{
	struct history_entry e;
	size_t len;
	char *text;

	if (ha.state != HA_MASTER || strcmp(ha.peer_view.state, "backup") != 0 ||
	    ha.peer_view.hash[0] == '\0' ||
	    strcmp(ha.peer_view.hash, ha.hash) == 0 || !may_send() ||
	    newest(&e) == -1 || e.seq == ha.refused_seq ||
	    (text = apply_config_text(ha.state_dir, e.seq, &len)) == NULL)
		return;
	log_info("ha: the peer runs another policy (%s, this node %s)",
	    ha.peer_view.hash, ha.hash);
	push_entry(e.seq, text, len);
	free(text);
}

/* ---- what moatd calls -------------------------------------------------- */

void
hanode_init(const char *state_dir, const char *run_dir, hanode_apply_fn apply)
{
	char dir[PATH_MAX];

	snprintf(ha.state_dir, sizeof(ha.state_dir), "%s", state_dir);
	snprintf(ha.run_dir, sizeof(ha.run_dir), "%s", run_dir);
	snprintf(dir, sizeof(dir), "%s/ha", state_dir);
	ha_files_init(&ha.f, dir);
	ha.apply = apply;
	ha.keepalived = (struct sup){ .name = "keepalived", .pid = -1,
	    .start = start_keepalived, .exited = keepalived_exited };
	ha.conntrackd = (struct sup){ .name = "conntrackd", .pid = -1,
	    .start = start_conntrackd };
	ha.syncd = (struct sup){ .name = "the sync link's server (moatd-sync)",
	    .pid = -1, .start = start_syncd, .exited = sync_closed };
}

void
hanode_configure(const struct policy *p)
{
	const struct ha_conf *c = &p->ha;
	struct strbuf k, t;
	char *copy;
	size_t i;
	bool was = ha.on;

	if (!c->present) {
		if (was) {
			log_info("ha: no ha block: this node is on its own now");
			hanode_stop();
		}
		return;
	}
	if ((copy = malloc(p->len + 1)) == NULL)
		return;
	memcpy(copy, p->text, p->len);
	copy[p->len] = '\0';
	free(ha.text);
	ha.text = copy;
	ha.len = p->len;
	snprintf(ha.hash, sizeof(ha.hash), "%016llx",
	    (unsigned long long)peer_policy_hash(p));
	addr_format(c->peer.lo, ha.peer, sizeof(ha.peer));
	for (i = 0; i < c->sync->naddr; i++)
		if (c->sync->addrs[i].lit.family == c->peer.family)
			addr_format(c->sync->addrs[i].lit.lo, ha.own,
			    sizeof(ha.own));
	snprintf(ha.secret, sizeof(ha.secret), "%s", c->secret);
	ha.priority = c->priority;
	for (i = 0, ha.nvip = 0; i < c->nvip && ha.nvip < 16; i++, ha.nvip++) {
		snprintf(ha.vips[ha.nvip].dev, sizeof(ha.vips[0].dev), "%s",
		    c->vips[i].iface->device);
		addr_lit_format(&c->vips[i].lit, ha.vips[ha.nvip].addr,
		    sizeof(ha.vips[0].addr));
	}
	if (mkdir(ha.f.dir, 0700) == -1 && errno != EEXIST)
		log_error("ha: %s: %s", ha.f.dir, strerror(errno));
	if (mkfifo(ha.f.notify_fifo, 0600) == -1 && errno != EEXIST)
		log_error("ha: %s: %s", ha.f.notify_fifo, strerror(errno));
	if (ha.fifo == -1)
		ha.fifo = open(ha.f.notify_fifo, O_RDWR | O_NONBLOCK |
		    O_CLOEXEC);
	/* A node that takes over cannot know the TCP windows exactly
	 * (conntrackd's advice). */
	{
		int fd = open("/proc/sys/net/netfilter/"
		    "nf_conntrack_tcp_be_liberal", O_WRONLY | O_CLOEXEC);

		if (fd == -1 || write(fd, "1\n", 2) != 2)
			log_warn("ha: nf_conntrack_tcp_be_liberal: %s",
			    strerror(errno));
		if (fd != -1)
			close(fd);
	}
	strbuf_init(&k, 0);
	strbuf_init(&t, 0);
	ha_keepalived_conf(p, &ha.f, &k);
	ha_conntrackd_conf(p, &ha.f, &t);
	if (!same_file(ha.f.keepalived_conf, strbuf_str(&k), k.len)) {
		write_file(ha.f.keepalived_conf, strbuf_str(&k), k.len, 0600);
		if (ha.keepalived.pid != -1) {
			log_info("ha: keepalived reloads its config");
			kill(ha.keepalived.pid, SIGHUP);
		}
	}
	if (!same_file(ha.f.conntrackd_conf, strbuf_str(&t), t.len)) {
		write_file(ha.f.conntrackd_conf, strbuf_str(&t), t.len, 0600);
		if (ha.conntrackd.pid != -1) {
			sup_stop(&ha.conntrackd);
			sup_start(&ha.conntrackd);
		}
	}
	strbuf_free(&k);
	strbuf_free(&t);
	if (!was) {
		struct history_entry *v = NULL;
		struct strbuf err;
		size_t n = 0;

		ha.on = true;
		ha.state = HA_UNKNOWN;
		ha.since = time(NULL);
		strbuf_init(&err, 0);
		if (apply_history(ha.state_dir, &v, &n, &err) == 0 && n > 0)
			ha.seen_seq = v[n - 1].seq;	/* no push at start */
		free(v);
		strbuf_free(&err);
		if (!on_path("keepalived") || !on_path("conntrackd"))
			log_error("ha: keepalived and conntrackd are needed "
			    "(apt-get install keepalived conntrackd); this node "
			    "cannot join its pair until they are there");
		/* VIPs a crashed keepalived left: not this node's until its
		 * new keepalived says it is master. */
		drop_vips();
		sup_start(&ha.conntrackd);
		sup_start(&ha.keepalived);
		log_info("ha: node %s, peer %s, priority %u", ha.own, ha.peer,
		    ha.priority);
	}
	/* The sync link's server starts, or starts again with a new address
	 * or secret, in hanode_tick: not under a push it is answering. */
	write_status();
}

/* ---- the hello asker ---------------------------------------------------- */

/*
 * The hellos go through one asker, moatd executed once (moatd-ask hello,
 * hanode_hello_main) as the sync link's user, under the filter against new
 * processes: each hello is a small request on its channel, with an id,
 * and its answer must come back with that id within the hello's deadline,
 * or the asker is ended and started again.  An asker executed for each
 * hello, every 2 s, cost each node some 30 ms of CPU a hello (moatd's
 * libraries loaded again): 3-4 times its idle CPU.  The peer and the
 * secret are its first frame; a change of either starts another.
 */
static void
hello_lost(const char *why)
{
	bool asked = ha.hello_end != 0;

	if (ha.hello != -1) {
		kill(ha.hello, SIGKILL);
		reap(ha.hello, NULL);
		ha.hello = -1;
	}
	if (ha.hello_ctl != -1)
		close(ha.hello_ctl);
	ha.hello_ctl = -1;
	frame_in_reset(&ha.hello_in);
	ha.hello_end = 0;
	childlog_flush("moatd-ask hello");	/* its last words first */
	/* (at most a line a minute: a peer that can end the asker at each
	 * hello would otherwise fill the log) */
	if (why != NULL && smtpio_now() - ha.hello_said >= 60000) {
		ha.hello_said = smtpio_now();
		log_error("ha: the hello asker: %s; started again at the next "
		    "hello", why);
	} else if (why != NULL)
		log_debug("ha: the hello asker: %s", why);
	if (asked)
		hello_done(NULL);
}

/* The asker started, its first frame sent: 0, or -1. */
static int
hello_start(void)
{
	int sp[2], lw, rc;
	json_t *first;
	char *s;
	pid_t pid;

	if (child_exe() == -1 || sync_user() == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		snprintf(ha.peer_view.error, sizeof(ha.peer_view.error),
		    "the hello asker could not start: %s", strerror(errno));
		write_status();
		return -1;
	}
	lw = childlog_open("moatd-ask hello");
	if ((pid = fork()) == 0) {
		char *const argv[] = { "moatd-ask", HANODE_ASK_ARG, "hello",
		    NULL };

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (childlog_child(lw) == -1)
			_exit(127);
		_exit(child_exec("ha: the hello asker", &sp[1], 1, argv));
	}
	if (lw != -1)
		close(lw);
	close(sp[1]);
	first = json_pack("{s:s, s:s, s:i}", "peer", ha.peer, "secret",
	    ha.secret, "ms", PEER_TIMEOUT_MS);
	s = first != NULL ? json_dumps(first, JSON_COMPACT) : NULL;
	json_decref(first);
	/* (a fresh socket's buffer takes it whole: this never waits) */
	rc = pid == -1 || s == NULL ? -1 : frame_send(sp[0], s, strlen(s));
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
	if (rc == -1) {
		snprintf(ha.peer_view.error, sizeof(ha.peer_view.error),
		    "the hello asker could not start: %s", strerror(errno));
		write_status();
		log_error("ha: the hello asker: %s", strerror(errno));
		close(sp[0]);
		if (pid > 0) {
			kill(pid, SIGKILL);
			reap(pid, NULL);
		}
		return -1;
	}
	fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
	ha.hello = pid;
	ha.hello_ctl = sp[0];
	ha.hello_born = smtpio_now();
	snprintf(ha.hello_key, sizeof(ha.hello_key), "%s %s", ha.peer,
	    ha.secret);
	return 0;
}

/* A hello asked of the asker, never waiting (a request of a hundred
 * bytes: an asker that leaves its channel full is broken). */
static void
hello_send(void)
{
	json_t *req = json_pack("{s:I, s:s, s:s, s:s}", "id",
	    (json_int_t)++ha.hello_id, "op", "hello", "state",
	    ha_state_name(ha.state), "hash", ha.hash);
	char *s = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	uint32_t n;

	json_decref(req);
	if (s == NULL)
		return;
	n = htonl((uint32_t)strlen(s));
	if (send(ha.hello_ctl, &n, sizeof(n), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(n) || send(ha.hello_ctl, s, strlen(s),
	    MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)strlen(s))
		hello_lost("it does not read its requests");
	else
		ha.hello_end = smtpio_now() + PEER_TIMEOUT_MS + ASK_GRACE_MS;
	free(s);
}

/* What the asker sent, a frame at most: the answer to the hello asked,
 * with its id, or the asker is broken. */
static void
hello_read(void)
{
	struct frame_in in;
	json_t *a, *id;
	int rc;

	rc = frame_in_read(ha.hello_ctl, &ha.hello_in, ASK_ANSWER_MAX);
	if (rc == 0)
		return;
	if (rc == -1) {
		hello_lost(errno == 0 ? "it exited" : strerror(errno));
		return;
	}
	in = ha.hello_in;
	memset(&ha.hello_in, 0, sizeof(ha.hello_in));
	a = json_loadb(in.buf, in.len, 0, NULL);
	frame_in_reset(&in);
	id = json_object_get(a, "id");
	if (ha.hello_end == 0 || !json_is_object(a) || !json_is_integer(id) ||
	    json_integer_value(id) != (json_int_t)ha.hello_id) {
		json_decref(a);
		hello_lost("an answer to no hello asked");
		return;
	}
	json_object_del(a, "id");
	ha.hello_end = 0;
	hello_done(a);
}

/* The asker's turn: its deadline, its end, a new peer or secret, and the
 * next hello. */
static void
hello_tick(void)
{
	char key[sizeof(ha.hello_key)];

	if (ha.hello != -1 && waitpid(ha.hello, NULL, WNOHANG) == ha.hello) {
		ha.hello = -1;
		hello_lost("it exited");
	}
	if (ha.hello_end != 0 && smtpio_now() >= ha.hello_end) {
		hello_lost(NULL);
		log_error("ha: the hello to the peer did not end in time: "
		    "stopped");
	}
	/* Another peer or secret: another asker (the hello under way was the
	 * old peer's: no answer of the new one's); and one asker an hour at
	 * most, between two hellos: one taken over does not stay. */
	snprintf(key, sizeof(key), "%s %s", ha.peer, ha.secret);
	if (ha.hello != -1 && strcmp(key, ha.hello_key) != 0) {
		ha.hello_end = 0;
		hello_lost(NULL);
	}
	if (ha.hello != -1 && ha.hello_end == 0 && smtpio_now() -
	    ha.hello_born >= HELLO_ASKER_MS)
		hello_lost(NULL);
	if (ha.hello_end == 0 && smtpio_now() >= ha.hello_next) {
		ha.hello_next = smtpio_now() + HELLO_MS;
		if (ha.hello != -1 || hello_start() == 0)
			hello_send();
		maybe_push();
	}
}

void
hanode_stop(void)
{
	if (!ha.on)
		return;
	sup_stop(&ha.keepalived);
	sup_stop(&ha.conntrackd);
	sup_stop(&ha.syncd);
	sync_closed(0);
	ha.sync_key[0] = '\0';
	ha.hello_end = 0;
	hello_lost(NULL);
	if (ha.push != -1) {
		kill(ha.push, SIGKILL);
		reap(ha.push, NULL);
		ha.push = -1;
	}
	json_decref(read_answer(&ha.push_fd));
	if (ha.fifo != -1)
		close(ha.fifo);
	ha.fifo = -1;
	ha.on = false;
	write_status();
}

int
hanode_pollfds(struct pollfd *pfd)
{
	int n = 0;

	if (!ha.on)
		return 0;
	if (ha.fifo != -1) {
		pfd[n].fd = ha.fifo;
		pfd[n++].events = POLLIN;
	}
	if (ha.sync_ctl != -1) {
		pfd[n].fd = ha.sync_ctl;
		pfd[n++].events = POLLIN;
	}
	if (ha.hello_ctl != -1) {
		pfd[n].fd = ha.hello_ctl;
		pfd[n++].events = POLLIN;
	}
	return n;
}

void
hanode_events(const struct pollfd *pfd, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pfd[i].fd == ha.sync_ctl && ha.sync_ctl != -1) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				sync_read();
			continue;
		}
		if (pfd[i].fd == ha.hello_ctl && ha.hello_ctl != -1) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				hello_read();
			continue;
		}
		if (!(pfd[i].revents & POLLIN) || pfd[i].fd != ha.fifo)
			continue;
		for (;;) {
			ssize_t r = read(ha.fifo, ha.fifo_buf + ha.fifo_len,
			    sizeof(ha.fifo_buf) - 1 - ha.fifo_len);
			char *nl;

			if (r <= 0)
				break;
			ha.fifo_len += (size_t)r;
			ha.fifo_buf[ha.fifo_len] = '\0';
			while ((nl = strchr(ha.fifo_buf, '\n')) != NULL) {
				*nl = '\0';
				log_debug("ha: keepalived: %s", ha.fifo_buf);
				state_changed(ha_notify_line(ha.fifo_buf));
				ha.fifo_len -= (size_t)(nl + 1 - ha.fifo_buf);
				memmove(ha.fifo_buf, nl + 1, ha.fifo_len + 1);
			}
			if (ha.fifo_len == sizeof(ha.fifo_buf) - 1)
				ha.fifo_len = 0;	/* a line too long */
		}
	}
}

/* Whether the push's asker has ended: exited, or past its deadline and
 * ended now (its answer is then none).  Its last lines are said before
 * what the parent says of it. */
static bool
push_ended(void)
{
	if (waitpid(ha.push, NULL, WNOHANG) == ha.push) {
		childlog_flush("moatd-ask push");
		return true;
	}
	if (smtpio_now() < ha.push_end)
		return false;
	kill(ha.push, SIGKILL);
	reap(ha.push, NULL);
	childlog_flush("moatd-ask push");
	log_error("ha: the push to the peer did not end in time: stopped");
	return true;
}

void
hanode_tick(void)
{
	char key[sizeof(ha.sync_key)];
	int status;

	if (!ha.on)
		return;
	sup_tick(&ha.keepalived);
	sup_tick(&ha.conntrackd);
	snprintf(key, sizeof(key), "%s %s", ha.own, ha.secret);
	if (strcmp(key, ha.sync_key) != 0) {
		sup_stop(&ha.syncd);
		sync_closed(0);
		ha.syncd.backoff = 0;
		snprintf(ha.sync_key, sizeof(ha.sync_key), "%s", key);
		sup_start(&ha.syncd);
	} else
		sup_tick(&ha.syncd);
	if (ha.ctcmd != -1 && waitpid(ha.ctcmd, &status, WNOHANG) == ha.ctcmd)
		ha.ctcmd = -1;
	hello_tick();
	if (ha.push != -1 && push_ended()) {
		ha.push = -1;
		push_done();
	}
}

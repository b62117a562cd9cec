/* child.c: see child.h. */
#include "daemon/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fds.h"
#include "base/log.h"
#include "base/nospawn.h"
#include "daemon/childlog.h"

long long
child_now(void)
{
	return clock_ms();
}

static pid_t parent;	/* the parent, as a child saw it when forked */

int
child_drop(const struct passwd *pw, int cap, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (getuid() != 0)
		return 0;	/* not root: nothing to drop */
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "%s has uid 0: only moatd's parent runs "
		    "as root", pw->pw_name);
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1) == -1 || setgroups(0, NULL) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "becoming %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	memset(d, 0, sizeof(d));
	if (cap >= 0)
		d[0].effective = d[0].permitted = 1u << cap;
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "keeping capability %d: %s", cap,
		    strerror(errno));
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* Not to be traced nor read through /proc by a process of the same
	 * user (the console's probe is the console's user): setuid() made
	 * it so only while fs.suid_dumpable is 0 (a review, 2026-12-08). */
	if (prctl(PR_SET_DUMPABLE, 0) == -1) {
		snprintf(err, errlen, "not dumpable: %s", strerror(errno));
		return -1;
	}
	/* The change of user cleared the parent-death signal: again, and
	 * gone if the parent went meanwhile. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent) {
		snprintf(err, errlen, "the parent is gone");
		return -1;
	}
	return 0;
}

int
child_caps_none(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	return syscall(SYS_capset, &h, d) == -1 ? -1 : 0;
}

void
child_adopt(void)
{
	parent = getppid();
}

int
child_exe(void)
{
	static int exe = -1;

	if (exe == -1)
		exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	return exe;
}

int
child_exec(const char *what, const int *fds, size_t n, char *const argv[])
{
	int hi[CHILD_EXEC_FDS], keep[CHILD_EXEC_FDS + 1], e;
	size_t i;

	/* Each out of the way first (any may be on 3 and up), then in its
	 * place; the copies and all else closed by fds_keep, the image's by
	 * the exec. */
	if (n > CHILD_EXEC_FDS || child_exe() == -1 ||
	    (e = fcntl(child_exe(), F_DUPFD_CLOEXEC, 3 + (int)n)) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + (int)n)) == -1)
			goto fail;
	for (i = 0; i < n; i++) {
		if (dup2(hi[i], 3 + (int)i) == -1)
			goto fail;
		keep[i] = 3 + (int)i;
	}
	keep[n] = e;
	if (fds_keep(keep, n + 1) == -1)
		goto fail;
	/* systemd's socket for moatd's own READY and STOPPING, not theirs */
	unsetenv("NOTIFY_SOCKET");
	fexecve(e, argv, environ);
fail:
	log_error("%s: moatd executed again: %s", what, strerror(errno));
	return 127;
}

int
child_exec_own(bool ok, const char *arg, const char *what,
    const char *verbose)
{
	if (!ok) {
		fprintf(stderr, "moatd: %s is moatd's own (its %s)\n", arg,
		    what);
		return 2;
	}
	child_adopt();
	if (verbose != NULL && strcmp(verbose, "v") == 0)
		log_set_verbose(true);
	return 0;
}

void
child_exec_named(const char *proc)
{
	prctl(PR_SET_NAME, proc);
	/* main() set moatd's own handlers before it called us; reloads come
	 * from the parent. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
}

/* rc, a filter's: -1 said (what could not be forbidden to what). */
static int
confined(int rc, const char *what, const char *forbidden)
{
	if (rc == -1)
		log_error("%s: %s could not be forbidden to it, so it does "
		    "not run: %s", what, forbidden, strerror(errno));
	return rc == -1 ? -1 : 0;
}

int
child_nosocket(const char *what)
{
	return confined(nosocket(), what, "new sockets");
}

int
child_nospawn(const char *what)
{
	return confined(nospawn(), what, "new processes");
}

int
child_exec_begin(const char *proc, const char *what, const char *arg,
    int type, const char *user)
{
	struct passwd *pw = NULL;
	char err[512], its[64];
	int t = 0, rc;
	socklen_t tl = sizeof(t);

	child_exec_named(proc);
	snprintf(its, sizeof(its), "%s process", what);
	if ((rc = child_exec_own(getsockopt(3, SOL_SOCKET, SO_TYPE, &t,
	    &tl) == 0 && t == type, arg, its, NULL)) != 0)
		return rc;
	if (getuid() == 0 && (pw = getpwnam(user)) == NULL) {
		log_error("%s: no user '%s' to run as", what, user);
		return 1;
	}
	if (pw != NULL && child_drop(pw, -1, err, sizeof(err)) == -1) {
		log_error("%s: %s", what, err);
		return 1;
	}
	return child_nospawn(what) == -1 ? 1 : 0;
}

pid_t
child_fork(struct child *c, const int *keep, size_t nkeep)
{
	pid_t pid;
	int lw;

	c->next = 0;
	/* its standard output and error: a pipe to us (childlog.h) */
	if ((lw = childlog_open(c->proc)) == -1)
		log_warn("%s: no pipe for its log (%s): it writes to /dev/null",
		    c->name, strerror(errno));
	if ((pid = fork()) == -1) {
		log_error("%s: fork: %s", c->name, strerror(errno));
		if (lw != -1)
			close(lw);
		c->next = child_now() + 5000;
		return -1;
	}
	if (pid > 0) {
		if (lw != -1)
			close(lw);
		c->pid = pid;
		c->started = child_now();
		return pid;
	}
	parent = getppid();
	prctl(PR_SET_NAME, c->proc);	/* ps, pgrep, top tell it */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGHUP, SIG_IGN);	/* reloads come from the parent */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* 0-2 open, standard input on /dev/null (whatever the parent had
	 * there is not the child's), 1 and 2 the pipe to the parent, and
	 * nothing else but keep. */
	if (fds_std_null() == -1 || childlog_child(lw) == -1 ||
	    fds_keep(keep, nkeep) == -1) {
		log_error("%s: its descriptors: %s", c->name, strerror(errno));
		_exit(1);
	}
	return 0;
}

bool
child_reap(struct child *c, int *status)
{
	long long up, delay;

	if (c->pid == -1 || waitpid(c->pid, status, WNOHANG) != c->pid)
		return false;
	c->pid = -1;
	up = child_now() - c->started;
	if (up >= CHILD_STABLE)
		c->backoff = 0;
	delay = c->backoff;
	c->backoff = c->backoff == 0 ? 1 : c->backoff * 2 > CHILD_BACKOFF_MAX ?
	    CHILD_BACKOFF_MAX : c->backoff * 2;
	c->next = child_now() + delay * 1000;
	childlog_flush(c->proc);	/* its last words before this */
	log_warn("%s exited (%s %d) after %lld ms; starting it again in %lld "
	    "s", c->name, WIFEXITED(*status) ? "status" : "signal",
	    WIFEXITED(*status) ? WEXITSTATUS(*status) : WTERMSIG(*status), up,
	    delay);
	return true;
}

bool
child_due(const struct child *c)
{
	return c->pid == -1 && c->next != 0 && child_now() >= c->next;
}

void
child_soon(struct child *c)
{
	c->next = child_now();
}

void
child_stop_within(struct child *c, int ms)
{
	long long deadline = child_now() + ms;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t r;

	c->next = 0;
	if (c->pid == -1)
		return;
	kill(c->pid, SIGTERM);
	/* A child may ignore SIGTERM (one taken over by what it parsed
	 * would): the parent waits for it no longer than ms. */
	while ((r = waitpid(c->pid, NULL, WNOHANG)) == 0 ||
	    (r == -1 && errno == EINTR)) {
		if (child_now() >= deadline) {
			log_warn("%s did not stop within %d ms: killed",
			    c->name, ms);
			kill(c->pid, SIGKILL);
			while (waitpid(c->pid, NULL, 0) == -1 && errno == EINTR)
				;
			break;
		}
		nanosleep(&tick, NULL);
	}
	c->pid = -1;
}

void
child_stop(struct child *c)
{
	child_stop_within(c, CHILD_STOP_MS);
}

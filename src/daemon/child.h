/* child.h: moatd's children, supervised one way (OpenSMTPD's proc.c in
 * small): started with exactly the descriptors they need, reaped, started
 * again after a backoff while they keep dying, stopped.  The proxy, the
 * firewall logger and the console use it; the HA engines (hanode.c) can
 * too: child_fork for the start, child_reap in the loop, child_due for
 * the restart. */
#ifndef MOAT_CHILD_H
#define MOAT_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <pwd.h>
#include <sys/types.h>

#define CHILD_BACKOFF_MAX	30	/* s between restarts, at most */
#define CHILD_STABLE		60000	/* ms up that resets the backoff */
#define CHILD_STOP_MS		5000	/* ms a child has to stop on SIGTERM */

struct child {
	const char	*name;		/* for the log: "proxy", "console" */
	const char	*proc;		/* the process's name: "moatd-smtp" */
	pid_t		 pid;		/* -1: not running */
	long long	 started;	/* ms */
	long long	 next;		/* ms: when to start it again; 0: no */
	long long	 backoff;	/* s: the delay after the next exit */
};

#define CHILD_INIT(n, p)	{ .name = (n), .proc = (p), .pid = -1 }

/*
 * Fork c.  In the child (0 returned): named c->proc, ended with the
 * parent (SIGTERM), SIGHUP ignored, SIGTERM and SIGINT as by default,
 * and every descriptor closed but 0, 1, 2 and keep[0..nkeep).  In the
 * parent: the child's pid, or -1 (logged; tried again in 5 s).
 */
pid_t	 child_fork(struct child *c, const int *keep, size_t nkeep);
/* An executed child that reads what others send, once it has dropped its
 * user: it may start no process from now on (base/nospawn.h).  0, or -1
 * logged when that cannot be had: the child must then end, not go on
 * unconfined (it did, with a warning, until 2026-12-08). */
int	 child_nospawn(const char *what);
/* The same for nosocket (base/nospawn.h): no new socket from now on. */
int	 child_nosocket(const char *what);
/* Every capability given up, for good (a child that needed one to open
 * something, once it is open): 0, or -1 with errno. */
int	 child_caps_none(void);
/* In a child executed afresh after child_fork: its parent is the one it
 * has now (for child_drop's check that it is still there). */
void	 child_adopt(void);
/* moatd's own image, /proc/self/exe, opened at the first call (moatd's
 * main makes it: the executable this moatd runs, even once a package
 * replaces the file), close-on-exec; -1 with errno. */
int	 child_exe(void);
/* In a child of child_fork (whose keep had fds and child_exe()): moatd
 * executed afresh with argv, fds[0..n) on 3, 4, ... and nothing else
 * open but 0-2.  Returns only when that failed (logged, what naming the
 * child): the status to _exit with. */
#define CHILD_EXEC_FDS	32
int	 child_exec(const char *what, const int *fds, size_t n,
	    char *const argv[]);
/* In a child moatd executed afresh, once named and its descriptors
 * checked (ok): when not, a word on standard error (arg is moatd's own,
 * what names the child) and 2; else adopted by its parent, verbose when
 * verbose is "v" (NULL: as it is), and 0. */
int	 child_exec_own(bool ok, const char *arg, const char *what,
	    const char *verbose);
/* A child moatd executed afresh (proc: its name in ps): named, and
 * moatd's signal handlers made a child's (HUP ignored, TERM and INT
 * end it). */
void	 child_exec_named(const char *proc);
/* In a child executed afresh as `moatd arg` (its channel on 3): named
 * proc, moatd's signal handlers undone, fd 3 checked to be a socket of
 * this type (else a word on standard error: arg is moatd's own), adopted
 * by its parent, then user with no capability (child_drop; what names it
 * in the log).  0, or the exit status to return. */
int	 child_exec_begin(const char *proc, const char *what, const char *arg,
	    int type, const char *user);
/* In a child: become pw keeping the one capability cap (-1: none; and no new
 * privileges), never uid 0 (only the parent runs as root); the parent-
 * death signal set again.  Nothing to do when not root.  0, or -1 with
 * err (the parent gone too). */
int	 child_drop(const struct passwd *pw, int cap, char *err,
	    size_t errlen);
/* If c exited: true, *status its status, logged, and its restart set
 * for later (at once the first time, then after 1, 2, 4 ... 30 s while
 * it keeps dying; at once again after a minute up). */
bool	 child_reap(struct child *c, int *status);
/* True when c is not running and its restart is due. */
bool	 child_due(const struct child *c);
/* Start c at the next turn of the loop (a new config wants it). */
void	 child_soon(struct child *c);
/* Stop c: SIGTERM, and wait for it, SIGKILL after CHILD_STOP_MS; no
 * restart is set. */
void	 child_stop(struct child *c);
/* The same, SIGKILL after ms. */
void	 child_stop_within(struct child *c, int ms);
/* The time in ms (CLOCK_MONOTONIC). */
long long child_now(void);

#endif

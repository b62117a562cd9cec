/* apart.c: work run in a child process; see apart.h. */
#include "base/apart.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"

int
apart_run(int (*fn)(void *arg, struct strbuf *out), void *arg,
    struct strbuf *out, size_t max, long long timeout_ms)
{
	return apart_run_with(fn, arg, out, max, timeout_ms, NULL, NULL);
}

/* fn here, then meanwhile. */
static int
here(int (*fn)(void *arg, struct strbuf *out), void *arg,
    struct strbuf *out, void (*meanwhile)(void *marg), void *marg)
{
	int rc = fn(arg, out);

	if (meanwhile != NULL)
		meanwhile(marg);
	return rc;
}

int
apart_run_with(int (*fn)(void *arg, struct strbuf *out), void *arg,
    struct strbuf *out, size_t max, long long timeout_ms,
    void (*meanwhile)(void *marg), void *marg)
{
	long long deadline = 0;
	bool late = false, broken = false, reaped = false;
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2], status = 0;

	if (timeout_ms > 0)
		deadline = clock_ms() + (timeout_ms < APART_MS_MAX ?
		    timeout_ms : APART_MS_MAX);
	if (pipe2(p, O_CLOEXEC) == -1)
		return here(fn, arg, out, meanwhile, marg);
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return here(fn, arg, out, meanwhile, marg);
	}
	if (pid == 0) {
		struct strbuf o;
		int rc;

		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		strbuf_init(&o, 0);
		rc = fn(arg, &o);
		if (o.len > 0 && write(p[1], strbuf_str(&o), o.len) < 0)
			rc = -1;
		_exit(rc == 0 ? 0 : 1);
	}
	close(p[1]);
	if (meanwhile != NULL)
		meanwhile(marg);
	for (;;) {
		if (deadline > 0) {
			struct pollfd pfd = { .fd = p[0], .events = POLLIN };
			long long left = deadline - clock_ms();
			int ready;

			if (left <= 0) {
				/* A child that ended just now is not late:
				 * what it wrote is read to its end. */
				if (waitpid(pid, &status, WNOHANG) == pid) {
					reaped = true;
					deadline = 0;
					continue;
				}
				late = true;
				break;
			}
			ready = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
			if (ready == -1 && errno != EINTR) {
				/* (out of memory for a moment: again, still
				 * within the deadline) */
				struct timespec ts = { 0, 10 * 1000 * 1000 };

				nanosleep(&ts, NULL);
				continue;
			}
			if (ready <= 0)
				continue;
		}
		if ((n = read(p[0], buf, sizeof(buf))) == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			broken = true;	/* its answer cannot be read */
			break;
		}
		if (got < max)
			strbuf_add(out, buf, (size_t)n);
		got += (size_t)n;
	}
	close(p[0]);
	if (late || broken)
		(void)kill(pid, SIGKILL);
	while (!reaped && waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (late)
		return APART_LATE;
	return !broken && WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
	    0 : -1;
}

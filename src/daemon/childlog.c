/* childlog.c: see childlog.h. */
#include "daemon/childlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

#define PIPE_SIZE	(1 << 20)	/* room while the parent is busy */
#define READ_TURN	16384		/* bytes read from a pipe a turn */
#define DROPPED_EVERY	10000		/* ms between two counts said */

struct pipe_in {
	int		 fd;		/* the read end; -1: free */
	char		 name[32];
	char		 line[CHILDLOG_LINE];
	size_t		 len;
	bool		 cut;		/* the rest of a long line skipped */
	double		 tokens;	/* lines it may write now */
	long long	 refilled;	/* ms */
	unsigned long long dropped;	/* not logged since last said */
	long long	 said;		/* ms: when dropped was last said */
};

static struct pipe_in pipes[CHILDLOG_MAX];
static bool ready;

static void
init(void)
{
	size_t i;

	if (ready)
		return;
	for (i = 0; i < CHILDLOG_MAX; i++)
		pipes[i].fd = -1;
	ready = true;
}

int
childlog_open(const char *name)
{
	struct pipe_in *p = NULL;
	int fds[2];
	size_t i;

	init();
	for (i = 0; i < CHILDLOG_MAX && p == NULL; i++)
		if (pipes[i].fd == -1)
			p = &pipes[i];
	if (p == NULL) {
		errno = EMFILE;
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	/* The parent reads without waiting; the child writes without
	 * waiting (set on its end, which is its own file description). */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	(void)fcntl(fds[0], F_SETPIPE_SZ, PIPE_SIZE);	/* else as it is */
	memset(p, 0, sizeof(*p));
	p->fd = fds[0];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->tokens = CHILDLOG_BURST;
	p->refilled = p->said = clock_ms();
	return fds[1];
}

int
childlog_child(int fd)
{
	int rc = 0;

	log_to_parent();
	if (fd == -1 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		rc = -1;
	if (fd > 2)
		close(fd);
	return rc;
}

int
childlog_pollfds(struct pollfd *pfd)
{
	int n = 0;
	size_t i;

	init();
	for (i = 0; i < CHILDLOG_MAX; i++)
		if (pipes[i].fd != -1) {
			pfd[n].fd = pipes[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	return n;
}

/* What p counted and did not log, said (at most every DROPPED_EVERY ms,
 * or now when now is set). */
static void
say_dropped(struct pipe_in *p, bool now)
{
	long long t = clock_ms();

	if (p->dropped == 0 || (!now && t - p->said < DROPPED_EVERY))
		return;
	log_warn("%s: %llu lines of its own not logged (over %d a second)",
	    p->name, p->dropped, CHILDLOG_RATE);
	p->dropped = 0;
	p->said = t;
}

/* A whole line of p (NUL-terminated at p->line[p->len]): its priority
 * read from a leading "<N>" (error at most: a child cannot say more),
 * then logged after p's name, if its rate allows. */
static void
line(struct pipe_in *p)
{
	const char *s = p->line;
	long long t = clock_ms();
	int prio = 6;

	p->tokens += (double)(t - p->refilled) * CHILDLOG_RATE / 1000.0;
	if (p->tokens > CHILDLOG_BURST)
		p->tokens = CHILDLOG_BURST;
	p->refilled = t;
	if (p->tokens < 1) {
		p->dropped++;
		return;
	}
	p->tokens -= 1;
	say_dropped(p, false);
	if (s[0] == '<' && s[1] >= '0' && s[1] <= '7' && s[2] == '>') {
		prio = s[1] - '0' < 3 ? 3 : s[1] - '0';
		s += 3;
	}
	log_at(prio, "%s: %s", p->name, s);
}

/* The n bytes at b, read from p's pipe, taken into lines. */
static void
take(struct pipe_in *p, const char *b, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(b, '\n', n);
		k = nl != NULL ? (size_t)(nl - b) : n;
		if (!p->cut) {
			size_t room = sizeof(p->line) - 1 - p->len;
			size_t c = k < room ? k : room;

			memcpy(p->line + p->len, b, c);
			p->len += c;
			if (c < k) {
				/* longer than a line: said as far as it
				 * goes, the rest skipped */
				memcpy(p->line + sizeof(p->line) - 7,
				    " [cut]", 7);
				p->len = sizeof(p->line) - 1;
				p->line[p->len] = '\0';
				line(p);
				p->len = 0;
				p->cut = true;
			}
		}
		if (nl == NULL)
			return;
		if (!p->cut) {
			p->line[p->len] = '\0';
			line(p);
		}
		p->len = 0;
		p->cut = false;
		b = nl + 1;
		n -= k + 1;
	}
}

/* p's pipe at its end (every writer gone): its last words, and it is
 * free again. */
static void
closed(struct pipe_in *p)
{
	if (p->len > 0 && !p->cut) {
		p->line[p->len] = '\0';
		line(p);
	}
	say_dropped(p, true);
	close(p->fd);
	p->fd = -1;
}

void
childlog_events(const struct pollfd *pfd, int n)
{
	char buf[4096];
	size_t i, got;
	ssize_t r;
	int k;

	for (k = 0; k < n; k++) {
		struct pipe_in *p = NULL;

		if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (i = 0; i < CHILDLOG_MAX && p == NULL; i++)
			if (pipes[i].fd == pfd[k].fd && pfd[k].fd != -1)
				p = &pipes[i];
		if (p == NULL)
			continue;
		for (got = 0; got < READ_TURN; got += (size_t)r) {
			r = read(p->fd, buf, sizeof(buf));
			if (r > 0) {
				take(p, buf, (size_t)r);
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				closed(p);
			break;
		}
		if (p->fd != -1)
			say_dropped(p, false);
	}
}

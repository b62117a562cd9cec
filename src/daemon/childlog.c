/* childlog.c: see childlog.h. */
#include "daemon/childlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

#define PIPE_SIZE	(1 << 20)	/* room while the parent is busy */
#define READ_TURN	16384		/* bytes read from a pipe a turn */
#define DRAIN_MAX	65536		/* read of a pipe replaced */
#define DROPPED_EVERY	10000		/* ms between two counts said */

/* Lines a second kept up, and at once: one bucket. */
struct bucket {
	double		 tokens;
	long long	 refilled;	/* ms */
};

/* A child, by its name: its pipe (the newest: a child started again
 * replaces it), the line being read, what its rate allows. */
struct source {
	char		 name[32];	/* "": a free slot */
	int		 fd;		/* the read end; -1: none now */
	char		 line[CHILDLOG_LINE];	/* its bytes as they came */
	size_t		 len;
	bool		 cut;		/* the rest of a long line skipped */
	struct bucket	 rate;
	unsigned long long dropped;	/* not logged since last said */
	long long	 said;		/* ms: when dropped was last said */
};

static struct source sources[CHILDLOG_MAX];
/* All children together: their lines and the parent's own must stay
 * under the journal's limit for the unit (10,000 in 30 s by default). */
static struct bucket all = { CHILDLOG_ALL_BURST, 0 };
static bool ready;

static void
init(void)
{
	size_t i;

	if (ready)
		return;
	for (i = 0; i < CHILDLOG_MAX; i++)
		sources[i].fd = -1;
	all.refilled = clock_ms();
	ready = true;
}

/* b refilled at rate a second up to burst: whether a line may go (one
 * token taken) or not. */
static bool
bucket_take(struct bucket *b, int rate, int burst, long long now, bool take)
{
	b->tokens += (double)(now - b->refilled) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->refilled = now;
	if (b->tokens < 1)
		return false;
	if (take)
		b->tokens -= 1;
	return true;
}

static void drain(struct source *s, size_t max);
static void closed(struct source *s);

int
childlog_open(const char *name)
{
	struct source *s = NULL, *free_slot = NULL;
	int fds[2];
	size_t i;

	init();
	for (i = 0; i < CHILDLOG_MAX && s == NULL; i++) {
		if (strncmp(sources[i].name, name, sizeof(sources[i].name) -
		    1) == 0 && sources[i].name[0] != '\0')
			s = &sources[i];
		else if (sources[i].name[0] == '\0' && free_slot == NULL)
			free_slot = &sources[i];
	}
	if (s == NULL && (s = free_slot) == NULL) {
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
	if (s->name[0] != '\0' && s->fd != -1) {
		/* The child before: what it left said, and its pipe closed,
		 * whoever still holds its end (a process it left behind,
		 * or one it passed the end to), whose writes fail now.  A
		 * child's pipes are one at a time, and so is its rate. */
		drain(s, DRAIN_MAX);
		if (s->fd != -1)
			closed(s);
	}
	if (s->name[0] == '\0') {
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->rate.tokens = CHILDLOG_BURST;
		s->rate.refilled = s->said = clock_ms();
	}
	s->fd = fds[0];
	s->len = 0;
	s->cut = false;
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
		if (sources[i].fd != -1) {
			pfd[n].fd = sources[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	return n;
}

/* What s counted and did not log, said (at most every DROPPED_EVERY ms,
 * or now when now is set). */
static void
say_dropped(struct source *s, bool now)
{
	long long t = clock_ms();

	if (s->dropped == 0 || (!now && t - s->said < DROPPED_EVERY))
		return;
	log_warn("%s: %llu lines of its own not logged (over %d a second, "
	    "or all children's over %d)", s->name, s->dropped,
	    CHILDLOG_RATE, CHILDLOG_ALL_RATE);
	s->dropped = 0;
	s->said = t;
}

/* The length of the UTF-8 character at u (n bytes there) if it is one
 * that may be shown as it is: well formed, shortest, not a surrogate,
 * not a C1 control (U+0080-U+009F) nor a mark that turns or isolates
 * the text's direction (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069);
 * else 0. */
static size_t
utf8_shown(const unsigned char *u, size_t n)
{
	uint32_t c;
	size_t k, i;

	if (u[0] < 0xc2 || u[0] > 0xf4)
		return 0;
	k = u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
	if (n < k)
		return 0;
	c = u[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (u[i] & 0x3f);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff) || c <= 0x9f ||
	    c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069))
		return 0;
	return k;
}

/* The n raw bytes of a child's line into out (cap bytes), as they may
 * be shown: ASCII but controls as it is, so a NUL hides nothing after
 * it, and the UTF-8 utf8_shown takes; any other byte as \xNN.  Cut
 * with " [cut]" when it does not fit (escapes make it longer). */
static void
shown(const char *raw, size_t n, bool cut, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	static const char mark[] = " [cut]";
	const unsigned char *u = (const unsigned char *)raw;
	size_t i = 0, o = 0, k, room = cap - sizeof(mark);

	while (i < n) {
		if (u[i] >= 0x20 && u[i] < 0x7f)
			k = 1;
		else
			k = utf8_shown(u + i, n - i);
		if (k > 0) {
			if (o + k > room)
				break;
			memcpy(out + o, u + i, k);
			o += k;
			i += k;
			continue;
		}
		if (o + 4 > room)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
		i++;
	}
	if (i < n || cut) {
		memcpy(out + o, mark, sizeof(mark) - 1);
		o += sizeof(mark) - 1;
	}
	out[o] = '\0';
}

/* A whole line of s (its bytes, cut when it was too long): its priority
 * read from a leading "<N>" (error at most: a child cannot say more),
 * then logged after s's name, if its rate and all children's allow. */
static void
line(struct source *s, bool cut)
{
	char out[CHILDLOG_LINE];
	const char *b = s->line;
	size_t n = s->len;
	long long t = clock_ms();
	int prio = 6;

	if (!bucket_take(&s->rate, CHILDLOG_RATE, CHILDLOG_BURST, t, false) ||
	    !bucket_take(&all, CHILDLOG_ALL_RATE, CHILDLOG_ALL_BURST, t,
	    true)) {
		s->dropped++;
		return;
	}
	bucket_take(&s->rate, CHILDLOG_RATE, CHILDLOG_BURST, t, true);
	say_dropped(s, false);
	if (n >= 3 && b[0] == '<' && b[1] >= '0' && b[1] <= '7' &&
	    b[2] == '>') {
		prio = b[1] - '0' < 3 ? 3 : b[1] - '0';
		b += 3;
		n -= 3;
	}
	shown(b, n, cut, out, sizeof(out));
	log_at(prio, "%s: %s", s->name, out);
}

/* The n bytes at b, read from s's pipe, taken into lines. */
static void
take(struct source *s, const char *b, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(b, '\n', n);
		k = nl != NULL ? (size_t)(nl - b) : n;
		if (!s->cut) {
			size_t room = sizeof(s->line) - s->len;
			size_t c = k < room ? k : room;

			memcpy(s->line + s->len, b, c);
			s->len += c;
			if (c < k) {
				/* longer than a line: said as far as it
				 * goes, the rest skipped */
				line(s, true);
				s->len = 0;
				s->cut = true;
			}
		}
		if (nl == NULL)
			return;
		if (!s->cut)
			line(s, false);
		s->len = 0;
		s->cut = false;
		b = nl + 1;
		n -= k + 1;
	}
}

/* s's pipe at its end (every writer gone) or replaced: its last words,
 * and no pipe now (its name and rate stay: they are the child's). */
static void
closed(struct source *s)
{
	if (s->len > 0 && !s->cut)
		line(s, false);
	s->len = 0;
	s->cut = false;
	say_dropped(s, true);
	close(s->fd);
	s->fd = -1;
}

/* Up to max bytes of s's pipe read and taken; closed at its end. */
static void
drain(struct source *s, size_t max)
{
	char buf[4096];
	size_t got;
	ssize_t r;

	for (got = 0; got < max && s->fd != -1; got += (size_t)r) {
		r = read(s->fd, buf, sizeof(buf));
		if (r > 0) {
			take(s, buf, (size_t)r);
			continue;
		}
		if (r == -1 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r == 0 || errno != EAGAIN)
			closed(s);
		break;
	}
}

void
childlog_events(const struct pollfd *pfd, int n)
{
	size_t i;
	int k;

	for (k = 0; k < n; k++) {
		struct source *s = NULL;

		if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) ||
		    pfd[k].fd == -1)
			continue;
		for (i = 0; i < CHILDLOG_MAX && s == NULL; i++)
			if (sources[i].fd == pfd[k].fd)
				s = &sources[i];
		if (s == NULL)
			continue;
		drain(s, READ_TURN);
		if (s->fd != -1)
			say_dropped(s, false);
	}
}

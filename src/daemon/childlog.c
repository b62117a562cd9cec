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

/* A kind of child (a name up to its first space: the two askers,
 * "moatd-ask hello" and "moatd-ask push", are one, which the same peer
 * can take over): one rate for all of its kind. */
struct group {
	char		 name[32];	/* "": a free slot */
	struct bucket	 rate;
	unsigned long long own, all;	/* lines not logged since said:
					   over its rate, over all's */
	long long	 said;		/* ms: when they were last said */
};

/* A child, by its name: its pipe (the newest: a child started again
 * replaces it), the line being read, its group. */
struct source {
	char		 name[32];	/* "": a free slot */
	int		 fd;		/* the read end; -1: none now */
	char		 line[CHILDLOG_LINE];	/* its bytes as they came */
	size_t		 len;
	bool		 cut;		/* the rest of a long line skipped */
	struct group	*g;
};

static struct source sources[CHILDLOG_MAX];
static struct group groups[CHILDLOG_MAX];
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

/* b refilled at rate a second up to burst: whether it has a line's
 * token (not taken). */
static bool
bucket_has(struct bucket *b, int rate, int burst, long long now)
{
	b->tokens += (double)(now - b->refilled) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->refilled = now;
	return b->tokens >= 1;
}

static void drain(struct source *s, size_t max);
static void closed(struct source *s);
static void say_dropped(struct group *g, bool now);

/* The group of the child called name, made if new; NULL when none is
 * left. */
static struct group *
group_of(const char *name)
{
	size_t len = strcspn(name, " "), i;
	struct group *free_slot = NULL;

	if (len >= sizeof(groups[0].name))
		len = sizeof(groups[0].name) - 1;
	for (i = 0; i < CHILDLOG_MAX; i++) {
		if (groups[i].name[0] == '\0') {
			if (free_slot == NULL)
				free_slot = &groups[i];
		} else if (strlen(groups[i].name) == len &&
		    memcmp(groups[i].name, name, len) == 0)
			return &groups[i];
	}
	if (free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	memcpy(free_slot->name, name, len);
	free_slot->rate.tokens = CHILDLOG_BURST;
	free_slot->rate.refilled = free_slot->said = clock_ms();
	return free_slot;
}

int
childlog_open(const char *name)
{
	struct source *s = NULL, *free_slot = NULL;
	struct group *g;
	int fds[2];
	size_t i;

	init();
	if (name[0] == '\0' || name[0] == ' ') {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < CHILDLOG_MAX && s == NULL; i++) {
		if (strncmp(sources[i].name, name, sizeof(sources[i].name) -
		    1) == 0 && sources[i].name[0] != '\0')
			s = &sources[i];
		else if (sources[i].name[0] == '\0' && free_slot == NULL)
			free_slot = &sources[i];
	}
	if ((s == NULL && (s = free_slot) == NULL) ||
	    (g = s->g != NULL ? s->g : group_of(name)) == NULL) {
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
		s->g = g;
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
	/* (a count is said even when its children have gone quiet) */
	for (i = 0; i < CHILDLOG_MAX; i++)
		if (groups[i].name[0] != '\0')
			say_dropped(&groups[i], false);
	for (i = 0; i < CHILDLOG_MAX; i++)
		if (sources[i].fd != -1) {
			pfd[n].fd = sources[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	return n;
}

/* What g's children wrote that was counted and not logged, said (at
 * most every DROPPED_EVERY ms, or now when now is set).  The line is the
 * parent's own, led by "childlog:", which no child's line is. */
static void
say_dropped(struct group *g, bool now)
{
	long long t = clock_ms();

	if ((g->own == 0 && g->all == 0) || (!now && t - g->said <
	    DROPPED_EVERY))
		return;
	log_warn("childlog: %s: %llu lines not logged over its rate (%d a "
	    "second), %llu over all children's (%d a second)", g->name,
	    g->own, CHILDLOG_RATE, g->all, CHILDLOG_ALL_RATE);
	g->own = g->all = 0;
	g->said = t;
}

/* The length of the UTF-8 character at u (n bytes there) if it is one
 * that may be shown as it is: well formed, shortest, not a surrogate,
 * not a C1 control (U+0080-U+009F), a mark that turns or isolates the
 * text's direction (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069), a line or paragraph separator (U+2028, U+2029) or a
 * character that shows nothing (U+200B-U+200D, U+2060, U+FEFF); else
 * 0. */
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
	    c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || c == 0x2060 ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0xfeff)
		return 0;
	return k;
}

/* The n raw bytes of a child's line into out (cap bytes), as they may
 * be shown: ASCII but controls as it is, and the UTF-8 utf8_shown
 * takes; any other byte as \xNN (a NUL then hides nothing after it).
 * A backslash is kept: a child's own lines are escaped the same way
 * (log.c), and escaped twice they would read "\x5cx1b"; a child that
 * writes "\x0a" itself forges no line by it.  Cut with " [cut]" when
 * it does not fit (escapes make it longer). */
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

	/* (a token is taken from both or neither: a kind over its own rate
	 * uses none of all's) */
	if (!bucket_has(&s->g->rate, CHILDLOG_RATE, CHILDLOG_BURST, t)) {
		s->g->own++;
		return;
	}
	if (!bucket_has(&all, CHILDLOG_ALL_RATE, CHILDLOG_ALL_BURST, t)) {
		s->g->all++;
		return;
	}
	s->g->rate.tokens -= 1;
	all.tokens -= 1;
	say_dropped(s->g, false);
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
	say_dropped(s->g, true);
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
childlog_flush(const char *name)
{
	size_t i;

	init();
	for (i = 0; i < CHILDLOG_MAX; i++)
		if (sources[i].fd != -1 && strcmp(sources[i].name, name) == 0)
			drain(&sources[i], DRAIN_MAX);
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
	}
}

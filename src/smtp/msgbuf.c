/* msgbuf.c: see msgbuf.h. */
#include "smtp/msgbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fds.h"

#define KEEP_MAX	(16 * 1024)	/* a buffer kept from one message to
					   the next */

void
msgbuf_init(struct msgbuf *m, size_t limit, const char *tmpdir,
    struct msgbuf_budget *budget)
{
	memset(m, 0, sizeof(*m));
	m->limit = limit;
	m->fd = -1;
	m->tmpdir = tmpdir != NULL ? tmpdir : "/var/tmp";
	m->budget = budget;
}

/* Take n bytes of the budget: true, or false when it has not that many
 * left (or there is none). */
static bool
budget_take(struct msgbuf_budget *b, size_t n)
{
	size_t limit, used;

	if (b == NULL)
		return true;
	limit = __atomic_load_n(&b->limit, __ATOMIC_RELAXED);
	used = __atomic_add_fetch(&b->used, n, __ATOMIC_RELAXED);
	if (limit == 0 || used <= limit)
		return true;
	__atomic_sub_fetch(&b->used, n, __ATOMIC_RELAXED);
	return false;
}

static void
budget_give(struct msgbuf_budget *b, size_t n)
{
	if (b != NULL && n > 0)
		__atomic_sub_fetch(&b->used, n, __ATOMIC_RELAXED);
}

static void
drop_memory(struct msgbuf *m)
{
	free(m->mem);
	budget_give(m->budget, m->cap);
	m->mem = NULL;
	m->cap = 0;
}

static int
spill(struct msgbuf *m)
{
	m->fd = open(m->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (m->fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* no O_TMPFILE on this file system: a name, removed at once */
		char path[4096];

		snprintf(path, sizeof(path), "%s/moat-msg.XXXXXX", m->tmpdir);
		if ((m->fd = mkostemp(path, O_CLOEXEC)) != -1)
			unlink(path);
	}
	if (m->fd == -1)
		return -1;
	if (fds_write_all(m->fd, m->mem, m->len) == -1) {
		close(m->fd);
		m->fd = -1;
		return -1;
	}
	/* From here on everything is in the file: the memory goes back. */
	drop_memory(m);
	return 0;
}

int
msgbuf_add(struct msgbuf *m, const void *p, size_t n)
{
	if (m->fd != -1) {
		if (fds_write_all(m->fd, p, n) == -1)
			return -1;
		m->total += n;
		return 0;
	}
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		char *q;

		while (cap < m->len + n)
			cap *= 2;
		if (cap > m->limit)
			cap = m->limit;
		/* Past the per-message bound, or past what all messages may
		 * hold together: to the file, all of it. */
		if (m->len + n > cap || !budget_take(m->budget, cap - m->cap)) {
			if (spill(m) == -1 || fds_write_all(m->fd, p, n) == -1)
				return -1;
			m->total += n;
			return 0;
		}
		if ((q = realloc(m->mem, cap)) == NULL) {
			budget_give(m->budget, cap - m->cap);
			errno = ENOMEM;
			return -1;
		}
		m->mem = q;
		m->cap = cap;
	}
	memcpy(m->mem + m->len, p, n);
	m->len += n;
	m->total += n;
	return 0;
}

void
msgbuf_reset(struct msgbuf *m)
{
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	m->len = 0;
	m->total = 0;
	if (m->cap > KEEP_MAX)
		drop_memory(m);
}

void
msgbuf_free(struct msgbuf *m)
{
	msgbuf_reset(m);
	drop_memory(m);
}

ssize_t
msgbuf_read(const struct msgbuf *m, size_t off, void *p, size_t n)
{
	ssize_t r;

	if (off >= m->total)
		return 0;
	if (n > m->total - off)
		n = m->total - off;
	if (m->fd == -1) {
		memcpy(p, m->mem + off, n);
		return (ssize_t)n;
	}
	do
		r = pread(m->fd, p, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r;
}

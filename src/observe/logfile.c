/* logfile.c: see logfile.h. */
#include "observe/logfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strbuf.h"

#define RETRY_SECS	2	/* after a failure: the disk is not asked
				   again for this long */

void
logfile_init(struct logfile *lf, const char *dir, const char *name,
    uint64_t max, unsigned keep)
{
	memset(lf, 0, sizeof(*lf));
	snprintf(lf->path, sizeof(lf->path), "%s/%s", dir, name);
	lf->fd = -1;
	lf->max = max;
	lf->keep = keep;
}

static void
failed(struct logfile *lf, const char *what)
{
	char path[161];

	str_copy_utf8(path, sizeof(path), lf->path);
	snprintf(lf->error, sizeof(lf->error), "%s: %s: %s", path, what,
	    strerror(errno));
	lf->retry = time(NULL) + RETRY_SECS;
	if (lf->fd != -1)
		close(lf->fd);
	lf->fd = -1;
}

/* name.K-1 → name.K ... name → name.1; the oldest goes. */
static int
rotate(struct logfile *lf)
{
	char from[4200], to[4200];
	unsigned k;

	close(lf->fd);
	lf->fd = -1;
	for (k = lf->keep; k >= 1; k--) {
		if (k == 1)
			snprintf(from, sizeof(from), "%s", lf->path);
		else
			snprintf(from, sizeof(from), "%s.%u", lf->path, k - 1);
		snprintf(to, sizeof(to), "%s.%u", lf->path, k);
		if (rename(from, to) == -1 && errno != ENOENT)
			return -1;
	}
	return 0;
}

/* What is at lf's path, not the writer's, renamed to PATH.foreign-TIME-N
 * (a directory too), else removed.  0, or -1. */
static int
put_aside(struct logfile *lf)
{
	char to[4200];
	unsigned k;

	for (k = 0; k < 8; k++) {
		snprintf(to, sizeof(to), "%s.foreign-%lld-%u", lf->path,
		    (long long)time(NULL), k);
		if (rename(lf->path, to) == 0 || errno == ENOENT)
			return 0;
		if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR &&
		    errno != ENOTDIR)
			break;
	}
	return unlink(lf->path) == 0 || errno == ENOENT ? 0 : -1;
}

/*
 * A file of the writer's own at lf's path, open to append: made unnamed
 * (O_TMPFILE), named PATH.new-RANDOM, then renamed over the path, so that
 * whatever was planted there again meanwhile is replaced, not opened
 * (without O_TMPFILE, O_EXCL: such a plant then makes it fail, and it
 * is tried again later).  The descriptor, or -1.
 */
static int
make_own(struct logfile *lf)
{
	char dir[4096], tmp[4200], proc[64], *slash;
	uint64_t r;
	int fd, k;

	snprintf(dir, sizeof(dir), "%s", lf->path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
	if (fd == -1)
		return open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0640);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchmod(fd, 0640) == -1)
		goto fail;
	/* A name no one can guess (a known one, planted as a directory,
	 * kept every try failing: a second review), then over the path;
	 * what was planted there again meanwhile put aside, a few times. */
	for (k = 0; k < 4; k++) {
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			goto fail;
		snprintf(tmp, sizeof(tmp), "%s.new-%016llx", lf->path,
		    (unsigned long long)r);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) ==
		    -1) {
			if (errno == EEXIST)
				continue;
			goto fail;
		}
		if (rename(tmp, lf->path) == 0)
			break;
		(void)unlink(tmp);
		if ((errno != EISDIR && errno != ENOTEMPTY && errno != EEXIST) ||
		    put_aside(lf) == -1)
			goto fail;
	}
	if (k == 4 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int
open_log(struct logfile *lf)
{
	char dir[4096], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", lf->path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			return -1;
	}
	/* Never through a link, never a FIFO that would hold the writer,
	 * and only a file of the writer's own: the log directory is shared
	 * with the firewall log's process (review, 2026-12-07: it could
	 * plant mail.jsonl while it was rotated). */
	lf->fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, 0640);
	/* (EACCES: another's file where fs.protected_regular refuses
	 * O_CREAT) */
	if (lf->fd == -1 && errno != ELOOP && errno != ENXIO &&
	    errno != EISDIR && errno != EACCES)
		return -1;
	if (lf->fd != -1 && fstat(lf->fd, &st) == -1) {
		close(lf->fd);
		lf->fd = -1;
		return -1;
	}
	if (lf->fd == -1 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1) {
		/* Another's (a link, a FIFO, a directory, a file, a hard
		 * link to one): put aside, not written to, and the log goes
		 * on in a file made anew (refused and left, it turned the
		 * log off for good: a review). */
		if (lf->fd != -1)
			close(lf->fd);
		lf->fd = -1;
		if (put_aside(lf) == -1 || (lf->fd = make_own(lf)) == -1 ||
		    fstat(lf->fd, &st) == -1)
			return -1;
		lf->foreign++;
	}
	if (fcntl(lf->fd, F_SETFL, fcntl(lf->fd, F_GETFL) & ~O_NONBLOCK) ==
	    -1) {
		close(lf->fd);
		lf->fd = -1;
		return -1;
	}
	lf->size = (uint64_t)st.st_size;
	return 0;
}

int
logfile_append(struct logfile *lf, const char *text, size_t len, unsigned n)
{
	ssize_t w;

	if (lf->retry != 0 && time(NULL) < lf->retry)
		goto drop;
	if (lf->fd == -1 && open_log(lf) == -1) {
		failed(lf, "open");
		goto drop;
	}
	if (lf->size > 0 && lf->size + len > lf->max) {
		if (rotate(lf) == -1 || open_log(lf) == -1) {
			failed(lf, "rotate");
			goto drop;
		}
	}
	w = write(lf->fd, text, len);
	if (w != (ssize_t)len) {
		/* A part of the batch: take it back, so that no reader sees
		 * half a line. */
		if (w > 0 && ftruncate(lf->fd, (off_t)lf->size) == -1)
			lf->size += (uint64_t)w;
		if (w >= 0)
			errno = ENOSPC;
		failed(lf, "write");
		goto drop;
	}
	lf->size += len;
	lf->written += n;
	lf->retry = 0;
	lf->error[0] = '\0';
	return 0;
drop:
	lf->dropped += n;
	return -1;
}

int
logfile_add(const char *dir, const char *name, const char *text, size_t len)
{
	char path[4200];
	ssize_t w;
	int fd, saved;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1)
		return -1;
	w = write(fd, text, len);
	saved = errno;
	close(fd);
	if (w == (ssize_t)len)
		return 0;
	errno = w >= 0 ? ENOSPC : saved;
	return -1;
}

void
logfile_close(struct logfile *lf)
{
	if (lf->fd != -1)
		close(lf->fd);
	lf->fd = -1;
}

FILE *
logfile_open_read(const char *path)
{
	FILE *fp;
	int fd;

	/* Another process writes these files (moat-log, the proxy's
	 * records): root reads them only as the regular files they should
	 * be, never through a link it left, never a FIFO that would hold
	 * the reader (review, 2026-12-07). */
	if ((fd = file_open_regular(path, O_NOFOLLOW)) == -1)
		return NULL;
	if ((fp = fdopen(fd, "r")) == NULL)
		close(fd);
	return fp;
}

/* A record's longest line: the longer are skipped (a file written by a
 * process taken over could hold one line of gigabytes). */
#define LINE_MAX_BYTES	(1u << 20)

/* Lines of fp to fn, those longer than max skipped; a last line without
 * its newline is kept for later (a writer may be in the middle of it):
 * its offset is returned. */
static long
read_lines_max(FILE *fp, size_t max, size_t limit,
    void (*fn)(void *, const char *), void *arg)
{
	char *line = malloc(max + 1);
	long done = ftell(fp);
	size_t n = 0;
	bool skip = false;
	int c;

	if (line == NULL)
		return done;
	/* (at most limit bytes: a file its writer keeps growing is read as
	 * far as it was) */
	while (limit-- > 0 && (c = getc(fp)) != EOF) {
		if (c != '\n') {
			if (n < max)
				line[n++] = (char)c;
			else
				skip = true;
			continue;
		}
		line[n] = '\0';
		if (!skip)
			fn(arg, line);
		n = 0;
		skip = false;
		done = ftell(fp);
	}
	free(line);
	return done;
}

static long
read_lines(FILE *fp, void (*fn)(void *, const char *), void *arg)
{
	return read_lines_max(fp, LINE_MAX_BYTES, SIZE_MAX, fn, arg);
}

#define ROTATED_MAX	100	/* name.1 ... name.100 are read */

/* dir/name, or its k-th rotation dir/name.k, into path. */
static void
rotated_path(char *path, size_t len, const char *dir, const char *name,
    int k)
{
	if (k > 0)
		snprintf(path, len, "%s/%s.%d", dir, name, k);
	else
		snprintf(path, len, "%s/%s", dir, name);
}

int
logfile_read_tail(const char *dir, const char *name, size_t budget,
    size_t line_max, uid_t owner, void (*fn)(void *arg, const char *line),
    void *arg)
{
	FILE *fps[ROTATED_MAX + 1];
	char path[4200];
	struct stat st;
	size_t sum = 0, size[ROTATED_MAX + 1];
	int k, n = 0, c;

	/* newest first, until the budget is read */
	for (k = 0; k <= ROTATED_MAX && sum < budget; k++) {
		rotated_path(path, sizeof(path), dir, name, k);
		if ((fps[n] = logfile_open_read(path)) == NULL)
			continue;
		if (fstat(fileno(fps[n]), &st) == -1 || (owner != (uid_t)-1 &&
		    st.st_uid != owner)) {
			fclose(fps[n]);
			continue;
		}
		size[n] = (size_t)st.st_size;
		sum += size[n++];
	}
	if (n == 0)
		return -1;
	/* the oldest kept from where the budget begins, at a line's start
	 * (the line cut there left out) */
	if (sum > budget && fseeko(fps[n - 1], (off_t)(sum - budget - 1),
	    SEEK_SET) == 0) {
		size_t left = size[n - 1] - (sum - budget - 1);

		/* (within what the file was: one written on without a
		 * newline is not read on for ever) */
		while (left-- > 0 && (c = getc(fps[n - 1])) != EOF &&
		    c != '\n')
			;
	}
	for (k = n - 1; k >= 0; k--) {
		off_t at = ftello(fps[k]);

		/* as far as it was when its size was taken (a second review:
		 * a writer that kept writing held root's loop) */
		if (at >= 0 && (size_t)at < size[k])
			read_lines_max(fps[k], line_max, size[k] - (size_t)at,
			    fn, arg);
		fclose(fps[k]);
	}
	return 0;
}

int
logfile_read(const char *dir, const char *name,
    void (*fn)(void *arg, const char *line), void *arg)
{
	char path[4200];
	int k, any = 0;
	FILE *fp;

	for (k = ROTATED_MAX; k >= 0; k--) {
		rotated_path(path, sizeof(path), dir, name, k);
		if ((fp = logfile_open_read(path)) == NULL)
			continue;
		any = 1;
		read_lines(fp, fn, arg);
		fclose(fp);
	}
	return any ? 0 : -1;
}

void
logfile_follow(const char *dir, const char *name,
    void (*fn)(void *arg, const char *line), void *arg, volatile int *stop)
{
	char path[4200];
	struct stat st;
	FILE *fp = NULL;
	ino_t ino = 0;
	long pos = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* From the end of what is there now. */
	if (stat(path, &st) == 0) {
		ino = st.st_ino;
		pos = (long)st.st_size;
	}
	while (!*stop) {
		if (stat(path, &st) == 0 && (st.st_ino != ino ||
		    (long)st.st_size < pos)) {
			/* Rotated (or truncated): the rest of the old file,
			 * then the new one from its start. */
			if (fp != NULL) {
				clearerr(fp);
				fseek(fp, pos, SEEK_SET);
				read_lines(fp, fn, arg);
				fclose(fp);
			}
			fp = NULL;
			ino = st.st_ino;
			pos = 0;
		}
		if (fp == NULL && (fp = logfile_open_read(path)) != NULL)
			fseek(fp, pos, SEEK_SET);
		if (fp != NULL) {
			clearerr(fp);
			fseek(fp, pos, SEEK_SET);
			pos = read_lines(fp, fn, arg);
			fflush(stdout);
		}
		poll(NULL, 0, 200);
	}
	if (fp != NULL)
		fclose(fp);
}

const char *
logfile_dir(const char *configured)
{
	const char *d = getenv("MOAT_LOG_DIR");

	if (d != NULL && *d != '\0')
		return d;
	return configured != NULL ? configured : "/var/log/moat";
}

const char *
logfile_run_dir(void)
{
	const char *d = getenv("MOAT_RUN_DIR");

	return d != NULL && *d != '\0' ? d : LOG_RUN_DIR;
}

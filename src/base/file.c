/* file.c: see file.h. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bigmem.h"
#include "base/fds.h"

/* fsync the directory that holds path: the rename is then on disk. */
static int
sync_dir(const char *path)
{
	char buf[4200];
	int fd, rc;

	snprintf(buf, sizeof(buf), "%s", path);
	if ((fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* True when the directory of path could not be synced because the disk
 * failed (not a file system that cannot sync a directory). */
static bool
dir_sync_failed(const char *path)
{
	return sync_dir(path) == -1 && (errno == EIO || errno == ENOSPC ||
	    errno == EDQUOT);
}

int
file_replace(const char *path, const void *data, size_t len, mode_t mode,
    unsigned flags)
{
	char tmp[4200];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1)
		goto fail;
	if (fds_write_all(fd, data, len) == -1)
		goto fail;
	if (!(flags & FILE_NOSYNC) && fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	/* The new file is in place; a directory that cannot be synced
	 * (some file systems) leaves it there, and one the disk failed
	 * too unless FILE_DIRSYNC says to fail. */
	if (!(flags & FILE_NOSYNC) && dir_sync_failed(path) &&
	    (flags & FILE_DIRSYNC))
		return -1;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/* Write file i of v and start its write-back. */
static int
fill_one(struct file_set *fs, const struct file_new *v, size_t i)
{
	if (fds_write_all(fs->fd[i], v[i].data, v[i].len) == -1)
		return -1;
	fs->filled[i] = true;
	/* The disk starts on it now (only a hint: the sync in
	 * file_set_commit is the guarantee). */
	(void)sync_file_range(fs->fd[i], 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

int
file_set_open(struct file_set *fs, const struct file_new *v, size_t n,
    mode_t mode)
{
	size_t i;
	int saved;

	memset(fs, 0, sizeof(*fs));
	if (n > FILE_SET_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++)
		fs->fd[i] = -1;
	for (i = 0; i < n; i++) {
		if (snprintf(fs->path[i], sizeof(fs->path[i]), "%s",
		    v[i].path) >= (int)sizeof(fs->path[i]) ||
		    snprintf(fs->tmp[i], sizeof(fs->tmp[i]), "%s.XXXXXX",
		    v[i].path) >= (int)sizeof(fs->tmp[i])) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if ((fs->fd[i] = mkostemp(fs->tmp[i], O_CLOEXEC)) == -1)
			goto fail;
		fs->n++;
		if (fchmod(fs->fd[i], mode) == -1)
			goto fail;
		/* The space now, the bytes later; where it cannot be
		 * reserved, the bytes now. */
		if (v[i].len == 0)
			fs->filled[i] = true;
		else if (fallocate(fs->fd[i], 0, 0, (off_t)v[i].len) == -1) {
			if (errno != EOPNOTSUPP && errno != ENOSYS)
				goto fail;
			if (fill_one(fs, v, i) == -1)
				goto fail;
		}
	}
	return 0;
fail:
	saved = errno;
	file_set_abandon(fs);
	errno = saved;
	return -1;
}

int
file_set_fill(struct file_set *fs, const struct file_new *v)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (!fs->filled[i] && fill_one(fs, v, i) == -1)
			return -1;
	return 0;
}

int
file_set_write(struct file_set *fs, const struct file_new *v, size_t n,
    mode_t mode)
{
	int saved;

	if (file_set_open(fs, v, n, mode) == -1)
		return -1;
	if (file_set_fill(fs, v) == -1) {
		saved = errno;
		file_set_abandon(fs);
		errno = saved;
		return -1;
	}
	return 0;
}

int
file_set_commit(struct file_set *fs)
{
	char dir[4200], prev[4200];
	size_t i;
	int saved;

	for (i = 0; i < fs->n; i++) {
		if (fsync(fs->fd[i]) == -1)
			goto fail;
		if (close(fs->fd[i]) == -1) {
			fs->fd[i] = -1;
			goto fail;
		}
		fs->fd[i] = -1;
	}
	for (; fs->renamed < fs->n; fs->renamed++)
		if (rename(fs->tmp[fs->renamed], fs->path[fs->renamed]) == -1)
			goto fail;
	/* The new files are in place; a directory that cannot be synced
	 * (some file systems) leaves them there, but a disk that failed to
	 * write it is a failure: the renames may not last, and a caller
	 * that records the files next (the history) must know. */
	prev[0] = '\0';
	for (i = 0; i < fs->n; i++) {
		const char *d;

		snprintf(dir, sizeof(dir), "%s", fs->path[i]);
		d = dirname(dir);
		if (strcmp(d, prev) == 0)
			continue;
		if (dir_sync_failed(fs->path[i]))
			goto fail;
		snprintf(prev, sizeof(prev), "%s", d);
	}
	fs->n = 0;
	return 0;
fail:
	saved = errno;
	file_set_abandon(fs);
	errno = saved;
	return -1;
}

void
file_set_abandon(struct file_set *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		if (fs->fd[i] != -1)
			close(fs->fd[i]);
		fs->fd[i] = -1;
		if (i >= fs->renamed)
			unlink(fs->tmp[i]);
	}
	fs->n = 0;
}

char *
file_read(const char *path, size_t max, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) == -1) {
		fclose(fp);
		return NULL;
	}
	if ((size_t)n > max) {
		fclose(fp);
		errno = EFBIG;
		return NULL;
	}
	if ((buf = big_block((size_t)n + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	*len = fread(buf, 1, (size_t)n, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

int
file_open_regular(const char *path, int flags)
{
	struct stat st;
	int fd, saved;

	/* O_NONBLOCK: opening a FIFO with no writer does not wait. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | flags)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

char *
file_read_regular(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, saved;

	if ((fd = file_open_regular(path, 0)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = big_block((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)st.st_size && (n = read(fd, buf + got,
	    (size_t)st.st_size - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

int
file_view(const char *path, struct file_view *v)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	void *m;
	char *buf;
	int fd;

	memset(v, 0, sizeof(*v));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 && page > 0 &&
	    (uintmax_t)st.st_size < SIZE_MAX / 2 && st.st_size % page != 0 &&
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE |
	    MAP_POPULATE, fd, 0)) != MAP_FAILED) {
		close(fd);
		/* (a file grown in place since: its NUL is not there) */
		if (((const char *)m)[st.st_size] == '\0') {
			v->s = m;
			v->len = v->mapped = (size_t)st.st_size;
			return 0;
		}
		munmap(m, (size_t)st.st_size);
	} else
		close(fd);
	if ((buf = file_read(path, SIZE_MAX / 2, &v->len)) == NULL)
		return -1;
	v->s = buf;
	return 0;
}

void
file_view_drop(struct file_view *v)
{
	if (v->mapped > 0)
		munmap((void *)(uintptr_t)v->s, v->mapped);
	else
		free((void *)(uintptr_t)v->s);
	memset(v, 0, sizeof(*v));
}

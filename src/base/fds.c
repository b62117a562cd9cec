/* fds.c: see fds.h. */
#include "base/fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

int
fds_std_null(void)
{
	int fd, i;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	/* A closed 0, 1 or 2 is now fd itself, or lower than it. */
	for (i = 0; i <= 2; i++)
		if (i == 0 || fcntl(i, F_GETFD) == -1)
			if (i != fd && dup2(fd, i) == -1)
				return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

static bool
kept(int fd, const int *keep, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Without close_range (a kernel before 5.9): one by one, from /proc. */
static int
keep_slowly(const int *keep, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int *v = NULL, nv = 0, i;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name), *w;

		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d) ||
		    kept(fd, keep, n))
			continue;
		if ((w = realloc(v, (size_t)(nv + 1) * sizeof(*v))) == NULL)
			break;
		v = w;
		v[nv++] = fd;
	}
	closedir(d);
	for (i = 0; i < nv; i++)
		close(v[i]);
	free(v);
	return 0;
}

int
fds_keep(const int *keep, size_t n)
{
	unsigned lo = 3;
	int next;

	/* The gaps between the kept ones, lowest first. */
	for (;;) {
		size_t i;

		next = -1;
		for (i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (next == -1 || keep[i] < next))
				next = keep[i];
		if (next == -1)
			break;
		if ((unsigned)next > lo &&
		    close_range(lo, (unsigned)next - 1, 0) == -1)
			return keep_slowly(keep, n);
		lo = (unsigned)next + 1;
	}
	if (close_range(lo, ~0u, 0) == -1)
		return keep_slowly(keep, n);
	return 0;
}

int
fds_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

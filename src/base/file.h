/* file.h: replacing a file safely, the one way moat writes a file that
 * must be whole (the config, the users file, the state, the figures). */
#ifndef MOAT_FILE_H
#define MOAT_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path with len bytes of data, mode mode: a new temporary file
 * beside it (O_EXCL, never a name someone prepared), written, synced,
 * renamed over path, and the directory synced: after a crash path is the
 * old file or the new one, never a part.  A symbolic link at path is
 * replaced, not followed.  With FILE_NOSYNC nothing is synced: figures
 * rewritten every second, of which a crash may lose the last (still
 * never a part of a file).  0, or -1 with errno (nothing changed).
 */
#define FILE_NOSYNC	0x1

int	 file_replace(const char *path, const void *data, size_t len,
	    mode_t mode, unsigned flags);

/*
 * file_replace of n files (at most FILE_SET_MAX) as one: every temporary
 * file written and its write-back started before any is synced, so that
 * the disk writes them together; then each renamed, and each directory
 * synced once.  Each file is its old or its new self after a crash; a
 * failure may leave the first ones replaced (-1 with errno).
 */
#define FILE_SET_MAX	4

struct file_new {
	const char	*path;
	const void	*data;
	size_t		 len;
};

int	 file_replace_set(const struct file_new *v, size_t n, mode_t mode);

/* The whole of path (malloc'd, NUL-terminated, its length in *len), or
 * NULL with errno (EFBIG over max bytes). */
char	*file_read(const char *path, size_t max, size_t *len);
/* file_read of a regular file only: a FIFO, a device or a directory is
 * refused at once (EINVAL), never waited on.  For paths a config names
 * that a less privileged user may have written (a url object's file). */
char	*file_read_regular(const char *path, size_t max, size_t *len);

#endif

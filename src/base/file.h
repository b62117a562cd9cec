/* file.h: replacing a file safely, the one way moat writes a file that
 * must be whole (the config, the users file, the state, the figures). */
#ifndef MOAT_FILE_H
#define MOAT_FILE_H

#include <stdbool.h>
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
/* A directory sync the disk failed (not one the file system cannot do)
 * is a failure too: -1 with errno, the new file in place, its rename
 * perhaps not lasting a crash.  For a file something records next (the
 * history's). */
#define FILE_DIRSYNC	0x2

int	 file_replace(const char *path, const void *data, size_t len,
	    mode_t mode, unsigned flags);

/*
 * file_replace of up to FILE_SET_MAX files as one, in two steps, for a
 * caller that has other work to do while the disk writes:
 * file_set_write writes each temporary file and starts its write-back at
 * once, so that the disk takes them together (0, or -1 with errno and
 * nothing left behind); file_set_commit syncs them, renames each over its
 * path and syncs each directory once (0, or -1 with errno, the temporary
 * files removed; the first ones may be in place, and all of them when
 * the disk failed a directory's sync).  Each file is its old
 * or its new self after a crash.  A set written and not committed is
 * removed by file_set_abandon (nothing for a committed or an empty one).
 */
#define FILE_SET_MAX	4

struct file_new {
	const char	*path;
	const void	*data;
	size_t		 len;
};

struct file_set {
	size_t	 n, renamed;
	int	 fd[FILE_SET_MAX];
	bool	 filled[FILE_SET_MAX];
	char	 path[FILE_SET_MAX][4096];
	char	 tmp[FILE_SET_MAX][4104];
};

int	 file_set_write(struct file_set *fs, const struct file_new *v,
	    size_t n, mode_t mode);
/*
 * file_set_write in two steps, for a caller that writes the files while
 * it waits for something else (a thread of its own): file_set_open makes
 * the temporary files and reserves their space, so that a full disk is
 * known at once (0, or -1 with errno and nothing left behind; where space
 * cannot be reserved, a file system without fallocate, it writes them
 * now); file_set_fill writes what is left of the same v and starts the
 * write-back (0, or -1 with errno: file_set_abandon then removes them).
 */
int	 file_set_open(struct file_set *fs, const struct file_new *v,
	    size_t n, mode_t mode);
int	 file_set_fill(struct file_set *fs, const struct file_new *v);
int	 file_set_commit(struct file_set *fs);
void	 file_set_abandon(struct file_set *fs);

/* The whole of path (malloc'd, NUL-terminated, its length in *len), or
 * NULL with errno (EFBIG over max bytes). */
char	*file_read(const char *path, size_t max, size_t *len);
/* path opened to read (close-on-exec, blocking) only if it is a regular
 * file: a FIFO, a device or a directory is refused at once (EINVAL),
 * never waited on; flags adds to open's (O_NOFOLLOW).  -1 with errno. */
int	 file_open_regular(const char *path, int flags);
/* file_read of a regular file only: a FIFO, a device or a directory is
 * refused at once (EINVAL), never waited on.  For paths a config names
 * that a less privileged user may have written (a url object's file). */
char	*file_read_regular(const char *path, size_t max, size_t *len);

/*
 * A file moat wrote whole and never changes in place (the history's
 * rulesets), to read: mapped from the page cache, without a copy and
 * without fresh memory, which costs about 2 ms a megabyte on the machines
 * moat is measured on (a 13 MB ruleset: read 70-100 ms, mapped 7-11).
 * NUL-terminated, as file_read's.  One whose size is a multiple of the
 * page size (its NUL would fall past the mapping), or that cannot be
 * mapped, is read instead.  Never for a file another process may
 * shorten while it is read: the reader of the mapping would get SIGBUS.
 * 0, or -1 with errno; file_view_drop lets it go.
 */
struct file_view {
	const char	*s;
	size_t		 len;
	size_t		 mapped;	/* bytes mapped; 0: read (or none) */
};

int	 file_view(const char *path, struct file_view *v);
void	 file_view_drop(struct file_view *v);

#endif

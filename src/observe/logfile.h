/* logfile.h: an append-only JSON-lines log that rotates at a size
 * (name, name.1 ... name.KEEP), written so that a full or read-only disk
 * loses records (counted), never blocks or kills the writer, and read
 * back in order across its rotations. */
#ifndef MOAT_LOGFILE_H
#define MOAT_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "base/strbuf.h"

struct logfile {
	char		 path[4096];
	int		 fd;		/* -1 until opened */
	uint64_t	 size;
	uint64_t	 max;		/* rotate past this many bytes */
	unsigned	 keep;		/* rotated files kept */
	uint64_t	 written;	/* records */
	uint64_t	 dropped;	/* records the disk did not take */
	time_t		 retry;		/* after a failure, not before */
	char		 error[256];	/* the last failure, "" if none */
	unsigned	 foreign;	/* files of another's found at path and
					   put aside (open_log) */
};

/* Prepare lf for dir/name (nothing is opened yet). */
void	 logfile_init(struct logfile *lf, const char *dir, const char *name,
	    uint64_t max, unsigned keep);
/* Append n records, the lines of text (each ending in '\n'), in one
 * write: all or none.  0, or -1 (counted in dropped; why in error). */
int	 logfile_append(struct logfile *lf, const char *text, size_t len,
	    unsigned n);
void	 logfile_close(struct logfile *lf);
/* Append text (whole lines) to dir/name in one write, if the file exists:
 * for a process that does not own the log (moatd's parent adds a record
 * to the firewall log, whose logger creates and rotates the file; a file
 * made by root would be one it cannot write).  0, or -1 (errno). */
int	 logfile_add(const char *dir, const char *name, const char *text,
	    size_t len);

/* The log dir/name read in order, oldest first: fn is called for each
 * line (without its newline).  0, or -1 when none of it can be read. */
int	 logfile_read(const char *dir, const char *name,
	    void (*fn)(void *arg, const char *line), void *arg);
/* The newest budget bytes of it (newest files first, up to the first
 * line that begins within the budget), read in order, its lines longer
 * than line_max skipped, its files not owner's left out (owner
 * (uid_t)-1: any): for root's loop, which answers the console's log
 * pages from files another process writes (a review, 2026-12-07: a
 * hundred files of gigabytes held it for hours).  0, or -1 when none of
 * it can be read. */
int	 logfile_read_tail(const char *dir, const char *name, size_t budget,
	    size_t line_max, uid_t owner,
	    void (*fn)(void *arg, const char *line), void *arg);
/* Follow dir/name for lines appended after what logfile_read saw, through
 * rotations, until fn returns false or *stop is set. */
void	 logfile_follow(const char *dir, const char *name,
	    void (*fn)(void *arg, const char *line), void *arg,
	    volatile int *stop);

#define LOG_RUN_DIR	"/run/moat"	/* moatd's runtime files */

/* Where the logs go: $MOAT_LOG_DIR, else the config's directory (NULL:
 * the default). */
const char *logfile_dir(const char *configured);
/* moatd's runtime directory: $MOAT_RUN_DIR, else LOG_RUN_DIR. */
const char *logfile_run_dir(void);

/* path opened to read only if it is a regular file (not through a
 * symbolic link, never a FIFO or a device): another process writes the
 * log files root reads.  NULL with errno. */
FILE	*logfile_open_read(const char *path);

#endif

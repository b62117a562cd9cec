/* msgbuf.h: a message held while it is scanned: in memory up to a bound,
 * then in a private temporary file (O_TMPFILE: it has no name, and the
 * kernel removes it when the descriptor closes, so no mail is left behind
 * on disk whatever happens to the process).
 */
#ifndef MOAT_MSGBUF_H
#define MOAT_MSGBUF_H

#include <stddef.h>
#include <sys/types.h>

/* The memory that all messages held at once may take together: a message
 * that would take more goes to its file sooner.  Shared by threads. */
struct msgbuf_budget {
	size_t	 limit;		/* bytes; 0: no limit */
	size_t	 used;		/* bytes taken (atomic) */
};

struct msgbuf {
	char	*mem;		/* the first part, or all of it */
	size_t	 len, cap;	/* bytes in mem */
	size_t	 limit;		/* bytes kept in memory at most */
	int	 fd;		/* -1 until mem is full */
	size_t	 total;		/* bytes held, in memory and on disk */
	const char *tmpdir;
	struct msgbuf_budget *budget;	/* may be NULL */
};

/* Start empty; memory up to limit (and what budget, if not NULL, still
 * has), then a file in tmpdir. */
void	 msgbuf_init(struct msgbuf *m, size_t limit, const char *tmpdir,
	    struct msgbuf_budget *budget);
/* Append; -1 (errno set) when the file cannot be written. */
int	 msgbuf_add(struct msgbuf *m, const void *p, size_t n);
/* Forget the contents; keep a small buffer, give a large one back. */
void	 msgbuf_reset(struct msgbuf *m);
/* Free everything. */
void	 msgbuf_free(struct msgbuf *m);
/* Read up to n bytes at offset off into p; the bytes read, or -1. */
ssize_t	 msgbuf_read(const struct msgbuf *m, size_t off, void *p, size_t n);

#endif

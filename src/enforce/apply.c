/* apply.c: apply, confirm, rollback and history; see apply.h. */
#include "enforce/apply.h"

#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/apart.h"
#include "base/bigmem.h"
#include "base/clock.h"
#include "base/cores.h"
#include "base/fds.h"
#include "base/file.h"
#include "base/hash.h"
#include "enforce/nfgen.h"
#include "enforce/nfhash.h"
#include "enforce/nft.h"
#include "enforce/feedstore.h"
#include "enforce/histdelta.h"
#include "enforce/nfdelta.h"
#include "enforce/nfset.h"
#include "enforce/nftc.h"
#include "enforce/nftdiff.h"
#include "enforce/nfrules.h"
#include "enforce/route.h"
#include "enforce/rtnl.h"
#include "policy/lexer.h"
#include "policy/load.h"

#define FEED_COMMIT_MS	60000	/* the kernel's answer to a batch */

static int	load_whole(const char *, char *, size_t, struct strbuf *);
static int	plan_delta(const char *, const struct history_entry *,
		    struct file_view *, const char *, size_t, struct strbuf *,
		    struct strbuf *, uint32_t *, struct apply_phases *);
static int	send_delta(const char *, const char *, const char *,
		    uint32_t, struct apply_phases *, struct strbuf *);

const char *
apply_state_dir(void)
{
	const char *d = getenv("MOAT_STATE_DIR");

	return d != NULL && *d != '\0' ? d : MOAT_STATE_DIR;
}

uint64_t
apply_hash(const char *s, size_t len)
{
	struct lexer_span v[LEXER_SECRETS_MAX];
	uint64_t h = FNV1A_INIT;
	size_t n, i, at = 0, k;

	if (!lexer_may_hold_secret(s, len))
		return fnv1a(s, len);
	n = lexer_secret_spans(s, len, v, LEXER_SECRETS_MAX);
	for (i = 0; i < n; i++) {
		h = fnv1a_add(h, s + at, v[i].off - at);
		for (k = 0; k < v[i].len; k++)
			h = fnv1a_add(h, "x", 1);
		at = v[i].off + v[i].len;
	}
	return fnv1a_add(h, s + at, len - at);
}

bool
apply_hash_is(const char *s, size_t len, uint64_t hash)
{
	return apply_hash(s, len) == hash || fnv1a(s, len) == hash;
}

static int
path(char *buf, size_t len, const char *state, const char *fmt, unsigned seq)
{
	char name[64];

	snprintf(name, sizeof(name), fmt, seq);
	return snprintf(buf, len, "%s/%s", state, name) < (int)len ? 0 : -1;
}

/* Make a rename or an unlink in the directory of file durable. */
static int
sync_dir_of(const char *file)
{
	char dir[4200];
	char *slash;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%s", file);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write file whole or not at all (a temporary file, synced, renamed, the
 * directory synced): after a crash it is the old or the new. */
static int
write_file_flags(const char *file, const char *data, size_t len,
    unsigned flags, struct strbuf *err)
{
	if (file_replace(file, data, len, 0644, flags) == -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_file(const char *file, const char *data, size_t len, struct strbuf *err)
{
	return write_file_flags(file, data, len, 0, err);
}

/* The whole of file, malloc'd and NUL-terminated, in one buffer of its
 * size (a ruleset in the history is 18 MB at 100K rules: no growing
 * copy of it in small pieces). */
static char *
read_file(const char *file, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t n = 0, cap = 8192;
	char *buf = NULL, *nb;
	ssize_t r;

	if (fd == -1)
		return NULL;
	/* (its size, the NUL, and a byte more: the read that finds the
	 * end then needs no room grown) */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uintmax_t)st.st_size < SIZE_MAX / 2)
		cap = (size_t)st.st_size + 2;
	for (;;) {
		if (buf == NULL || n + 1 == cap) {
			if (buf != NULL && cap > SIZE_MAX / 2)
				goto fail;
			if (buf != NULL)
				cap *= 2;
			if ((nb = big_grow(buf, n, cap)) == NULL)
				goto fail;
			buf = nb;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Create the state directory and take its lock; returns the lock fd. */
static int
lock_state(const char *state, struct strbuf *err)
{
	char file[4096];
	int fd;

	if ((mkdir(state, 0700) == -1 && errno != EEXIST) ||
	    path(file, sizeof(file), state, "history", 0) == -1 ||
	    (mkdir(file, 0700) == -1 && errno != EEXIST)) {
		strbuf_printf(err, "%s: %s", state, strerror(errno));
		return -1;
	}
	path(file, sizeof(file), state, "lock", 0);
	if ((fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(fd, LOCK_EX) == -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* history.log's lines are shorter than this (an entry's file name is 255
 * bytes at most). */
#define HISTORY_LINE_MAX	512

/* Entry e's line in history.log, into buf (size n): 0, or -1 when it
 * does not fit.  A control character in its file name (a line break
 * would make lines of it) is written as '?'. */
static int
history_line(const struct history_entry *e, char *buf, size_t n)
{
	char name[sizeof(e->file)];
	size_t i;
	int w;

	for (i = 0; i + 1 < sizeof(name) && e->file[i] != '\0'; i++)
		name[i] = (unsigned char)e->file[i] < 0x20 ||
		    e->file[i] == 0x7f ? '?' : e->file[i];
	name[i] = '\0';
	w = snprintf(buf, n, "%u %llu %016llx %s %u %s\n", e->seq,
	    (unsigned long long)e->when, (unsigned long long)e->hash, e->what,
	    e->prev, name);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

int
apply_history(const char *state, struct history_entry **v, size_t *n,
    struct strbuf *err)
{
	char file[4096], again[HISTORY_LINE_MAX], *line = NULL;
	const char *l, *nul;
	size_t cap = 0, lcap = 0, flen;
	int off;
	ssize_t len;
	FILE *fp;

	*v = NULL;
	*n = 0;
	path(file, sizeof(file), state, "history.log", 0);
	if ((fp = fopen(file, "re")) == NULL)
		return errno == ENOENT ? 0 : (strbuf_printf(err, "%s: %s",
		    file, strerror(errno)), -1);
	while ((len = getline(&line, &lcap, fp)) != -1) {
		struct history_entry e;
		unsigned long long when, hash;

		/* Only whole lines: a last one without its newline is an
		 * append under way, or one that failed half-way (cut before
		 * the next: history_repair); one longer than any entry's is
		 * none.  After a NUL (a page the disk lost, zeroed), what
		 * follows the last one. */
		if (len == 0 || line[len - 1] != '\n')
			continue;
		l = line;
		if ((nul = memrchr(line, '\0', (size_t)len)) != NULL)
			l = nul + 1;
		if (line + len - l >= HISTORY_LINE_MAX)
			continue;
		memset(&e, 0, sizeof(e));
		off = -1;
		if (sscanf(l, "%u %llu %llx %15s %u%n", &e.seq, &when, &hash,
		    e.what, &e.prev, &off) < 5 || off < 0 ||
		    (l[off] != ' ' && l[off] != '\n'))
			continue;
		e.when = (time_t)when;
		e.hash = hash;
		/* Only a line as append_history writes it, and numbers that
		 * grow: a piece of one (what a lost page left) is none.  Its
		 * file is the rest, as it is (a name may begin with a
		 * space). */
		flen = l[off] == ' ' ? strcspn(l + off + 1, "\n") : 0;
		if (snprintf(again, sizeof(again), "%u %llu %016llx %s %u",
		    e.seq, when, hash, e.what, e.prev) != off ||
		    strncmp(again, l, (size_t)off) != 0 ||
		    flen >= sizeof(e.file) || (*n > 0 && e.seq <=
		    (*v)[*n - 1].seq))
			continue;
		memcpy(e.file, l + off + 1, flen);
		e.file[flen] = '\0';
		if (*n == cap) {
			struct history_entry *nv;

			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(*v, cap * sizeof(**v))) == NULL) {
				free(line);
				fclose(fp);
				strbuf_puts(err, "out of memory");
				return -1;
			}
			*v = nv;
		}
		(*v)[(*n)++] = e;
	}
	free(line);
	/* (a read that failed is no shorter history: the newest entries
	 * would be missed) */
	if (!feof(fp)) {
		fclose(fp);
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		return -1;
	}
	fclose(fp);
	return 0;
}

/* Test builds: a failure of the disk's, played where
 * MOAT_HISTORY_<what>_FAIL is set (tests/cli.sh). */
static bool
played_failure(const char *what)
{
#ifdef MOAT_TEST_SEAMS
	char name[64];

	snprintf(name, sizeof(name), "MOAT_HISTORY_%s_FAIL", what);
	return getenv(name) != NULL;
#else
	(void)what;
	return false;
#endif
}

/*
 * The end of history.log (open as fd, size bytes) made whole for the next
 * line: a torn line there (an append that failed half-way and could not
 * be cut), which no reader takes, is cut; a longer tail without a newline
 * (no entry's) is closed with a NUL and one, and readers skip it.  0, or
 * -1 with errno.
 */
static int
end_whole(int fd, off_t size)
{
	char buf[HISTORY_LINE_MAX];
	off_t from = size > (off_t)sizeof(buf) ? size - (off_t)sizeof(buf) : 0;
	ssize_t n, i;

	if (size == 0)
		return 0;
	if ((n = pread(fd, buf, (size_t)(size - from), from)) !=
	    (ssize_t)(size - from)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	if (buf[n - 1] == '\n')
		return 0;
	for (i = n; i > 0 && buf[i - 1] != '\n'; i--)
		;
	if (played_failure("CUT")) {
		errno = EIO;
		return -1;
	}
	/* (closed by a NUL too: a reader takes what follows the last NUL
	 * of a line, and here that is nothing) */
	if (i == 0 && from > 0) {
		if ((n = write(fd, "\0\n", 2)) == 2)
			return 0;
		if (n >= 0)
			errno = ENOSPC;
		return -1;
	}
	return ftruncate(fd, from + i);
}

/*
 * history.log made ready for an entry's line, under the state's lock and
 * before the kernel changes (end_whole), so that a disk that will not let
 * a torn line go stops the apply with nothing changed: 0, or -1 with the
 * reason in err.
 */
static int
history_repair(const char *state, struct strbuf *err)
{
	char file[4096], last;
	struct stat st;
	int fd, rc, saved;

	path(file, sizeof(file), state, "history.log", 0);
	/* (read only, until there is something to cut: a history that
	 * ends whole asks nothing of the disk) */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : (strbuf_printf(err, "%s: %s",
		    file, strerror(errno)), -1);
	errno = EIO;	/* (a short read says nothing) */
	rc = fstat(fd, &st) == -1 ? -1 : st.st_size == 0 ? 0 :
	    pread(fd, &last, 1, st.st_size - 1) != 1 ? -1 : last == '\n' ?
	    0 : 1;
	saved = errno;
	close(fd);
	if (rc == 1) {
		rc = (fd = open(file, O_RDWR | O_APPEND | O_CLOEXEC)) == -1 ||
		    fstat(fd, &st) == -1 || end_whole(fd, st.st_size) == -1 ?
		    -1 : 0;
		saved = errno;
		if (fd != -1)
			close(fd);
	}
	if (rc == -1)
		strbuf_printf(err, "%s: its last line is torn and cannot be "
		    "cut: %s", file, strerror(saved));
	return rc;
}

/*
 * Entry e's line at the end of history.log.  0: there and synced.  -1
 * (errno's reason in err): not there for any reader; a line the disk took
 * only in part is cut back out (readers skip a line without its newline,
 * and history_repair cuts one that stayed before the next apply changes
 * anything).  1 (the reason in err): there for every reader, but its sync
 * failed, so a crash may lose it; the entry's files were synced before
 * it, so either way the history names only entries it can read, and the
 * line is never taken back (readers may have seen its number).
 */
static int
append_history(const char *state, const struct history_entry *e,
    struct strbuf *err)
{
	char file[4096], line[HISTORY_LINE_MAX];
	struct stat st;
	size_t done = 0, n;
	ssize_t w;
	int fd, saved;

	path(file, sizeof(file), state, "history.log", 0);
	if (history_line(e, line, sizeof(line)) == -1) {
		strbuf_printf(err, "%s: the entry's line is too long", file);
		return -1;
	}
	n = strlen(line);
	if ((fd = open(file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1 || fstat(fd, &st) == -1 ||
	    end_whole(fd, st.st_size) == -1 || fstat(fd, &st) == -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while (done < n) {
		if (played_failure("WRITE") && done == 0) {
			/* all but the newline, then a full disk */
			w = write(fd, line, n - 1);
		} else if (played_failure("WRITE")) {
			w = -1;
			errno = ENOSPC;
		} else
			w = write(fd, line + done, n - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done < n) {
		saved = w == 0 ? ENOSPC : errno;
		/* (when the cut fails too, readers skip the torn line, and
		 * history_repair cuts it before the next apply) */
		if (done > 0 && !played_failure("CUT"))
			(void)ftruncate(fd, st.st_size);
		close(fd);
		strbuf_printf(err, "%s: %s", file, strerror(saved));
		return -1;
	}
	if (fsync(fd) == -1 || played_failure("SYNC")) {
		strbuf_printf(err, "%s: %s", file, played_failure("SYNC") ?
		    strerror(EIO) : strerror(errno));
		close(fd);
		return 1;
	}
	if (close(fd) == -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		return 1;
	}
	return 0;
}

/* What an entry whose line the disk did not confirm (append_history's
 * 1) means, said with the apply's news. */
static void
say_unsure(const struct strbuf *why, unsigned seq, unsigned before,
    struct strbuf *msg)
{
	strbuf_printf(msg, APPLY_WARNING "%s: history entry %u is in force "
	    "and in the history, but the disk did not confirm the history's "
	    "line: it may still lose it (a crash, a write it fails later), "
	    "and the entry then drops from the history (", strbuf_str(why),
	    seq);
	if (before != 0)
		strbuf_printf(msg, "entry %u is then the last", before);
	else
		strbuf_puts(msg, "which is then empty");
	strbuf_printf(msg, ", and the next apply takes number %u again)\n",
	    seq);
}

/*
 * The history keeps the configs of its last HISTORY_CONFIGS entries whole
 * (history/N.conf); an older one, past them, is kept as its difference
 * from the next entry's (history/N.delta, histdelta.h), but for every
 * HISTORY_FULL_EVERY-th, kept whole, so that a reading goes through that
 * many differences at most.  At 100K rules a config is 4.5 MB and an edit
 * changes a line of it: 1,000 applies from the console were 4.5 GB.
 */
#define HISTORY_CONFIGS		32
#define HISTORY_FULL_EVERY	64
#define HISTORY_DELTA_MAX	((size_t)POLICY_FILE_MAX + 4096)
#define HISTORY_WALK_MAX	16	/* entries an apply's compaction
					   goes back, at most */

/* How many of the last entries keep a whole file of a kind: dflt, or in
 * test builds the environment's name when it is set. */
static unsigned
history_kept(const char *name, unsigned dflt)
{
#ifdef MOAT_TEST_SEAMS
	const char *s = getenv(name);

	if (s != NULL && atoi(s) > 0)
		return (unsigned)atoi(s);
#else
	(void)name;
#endif
	return dflt;
}

/* (at least 2: a compaction made while an apply works reads the config
 * of the entry after the one it keeps as a difference, which must not be
 * the new entry's, not yet written) */
static unsigned
configs_kept(void)
{
	unsigned n = history_kept("MOAT_HISTORY_CONFIGS", HISTORY_CONFIGS);

	return n < 2 ? 2 : n;
}

/* Every how many entries a config stays whole (at most
 * HISTORY_FULL_EVERY, which config_text's bound counts on). */
static unsigned
full_every(void)
{
	unsigned n = history_kept("MOAT_HISTORY_FULL_EVERY",
	    HISTORY_FULL_EVERY);

	return n < HISTORY_FULL_EVERY ? n : HISTORY_FULL_EVERY;
}

/* Entry seq's config: its file, or else its difference from a later
 * entry's, and that entry's the same way, up to a whole one (each names a
 * later entry: no loop, and HISTORY_FULL_EVERY of them at most).  The
 * texts between are built into two buffers in turn, and only the last is
 * checked against its hash (a wrong one between makes it wrong).  NULL
 * with errno: ENOENT no such entry, EINVAL a difference, or the whole
 * config a chain ends at, damaged or missing. */
static char *
config_text(const char *state, unsigned seq, size_t *len)
{
	enum { MAX = HISTORY_FULL_EVERY + HISTORY_CONFIGS };
	struct histdelta h[MAX];
	char *d[MAX], file[4096], *text = NULL, *other = NULL, *t;
	size_t n = 0, dlen, i, tcap, ocap = 0, need;
	unsigned cur = seq;
	int saved;

	for (;;) {
		if (path(file, sizeof(file), state, "history/%u.conf",
		    cur) == -1) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if ((text = read_file(file, len)) != NULL)
			break;
		if (errno != ENOENT)
			goto fail;
		if (path(file, sizeof(file), state, "history/%u.delta",
		    cur) == -1 || (d[n] = file_read_regular(file,
		    HISTORY_DELTA_MAX, &dlen)) == NULL) {
			/* the entry, or a chain without its end */
			if (errno == ENOENT && n > 0)
				errno = EINVAL;
			goto fail;
		}
		if (histdelta_parse(d[n], dlen, &h[n]) == -1 ||
		    h[n].base <= cur || n + 1 == MAX) {
			n++;
			errno = EINVAL;
			goto fail;
		}
		cur = h[n++].base;
	}
	tcap = *len + 1;
	for (i = n; i-- > 0; ) {
		need = histdelta_size(&h[i]) + 1;
		if (ocap < need) {
			if ((t = realloc(other, need)) == NULL) {
				errno = ENOMEM;
				goto fail;
			}
			other = t;
			ocap = need;
		}
		if (histdelta_put(&h[i], text, *len, other) == -1)
			goto fail;
		*len = need - 1;
		other[*len] = '\0';
		t = text;
		text = other;
		other = t;
		need = tcap;
		tcap = ocap;
		ocap = need;
	}
	if (n > 0 && fnv1a(text, *len) != h[0].hash) {
		errno = EINVAL;
		goto fail;
	}
	free(other);
	for (i = 0; i < n; i++)
		free(d[i]);
	return text;
fail:
	saved = errno;
	free(text);
	free(other);
	for (i = 0; i < n; i++)
		free(d[i]);
	errno = saved;
	return NULL;
}

/*
 * Entry seq's config (whole, history/SEQ.conf) made its difference from
 * next (the next entry's text, nlen bytes), history/SEQ.delta: read back,
 * piece by piece, to the same text before it is written.  The whole stays
 * beside it until compact_finish lets it go (a reader takes the whole
 * first).  0, or -1 when no difference was written.  Its text in *old
 * either way (the caller frees it), or NULL when there is no whole config
 * to read (it is a difference already).
 */
static int
compact_one(const char *state, unsigned seq, uint64_t want, const char *next,
    size_t nlen, char **old, size_t *olen)
{
	char file[4096], delta[4096];
	struct histdelta h;
	struct strbuf d, err;
	int rc = -1;

	*old = NULL;
	*olen = 0;
	if (path(file, sizeof(file), state, "history/%u.conf", seq) == -1 ||
	    path(delta, sizeof(delta), state, "history/%u.delta", seq) == -1 ||
	    (*old = read_file(file, olen)) == NULL)
		return -1;
	strbuf_init(&d, 0);
	strbuf_init(&err, 0);
	histdelta_make(*old, *olen, next, nlen, seq + 1, &d);
	/* A config that is not the text its entry applied (the hash the
	 * difference names, made from it) stays as it is: a rollback to
	 * it says it is damaged, and the walk stops. */
	if (!strbuf_failed(&d) && histdelta_parse(d.s, d.len, &h) == 0 &&
	    !apply_hash_is(*old, *olen, want)) {
		free(*old);
		*old = NULL;
		goto out;
	}
	/* Read as a reader will (histdelta_put), before it is written
	 * (whole or not at all). */
	if (strbuf_failed(&d) || d.len >= *olen ||
	    histdelta_parse(d.s, d.len, &h) == -1 || h.base != seq + 1 ||
	    h.prefix > nlen || h.suffix > nlen - h.prefix ||
	    histdelta_size(&h) != *olen ||
	    memcmp(*old, next, h.prefix) != 0 ||
	    memcmp(*old + h.prefix, h.mid, h.middle) != 0 ||
	    memcmp(*old + *olen - h.suffix, next + nlen - h.suffix,
	    h.suffix) != 0 || !apply_hash_is(*old, *olen, want) ||
	    write_file(delta, strbuf_str(&d), d.len, &err) == -1)
		goto out;
	rc = 0;
out:
	strbuf_free(&d);
	strbuf_free(&err);
	return rc;
}

/*
 * An apply's compaction (compact_config), in two steps: the differences
 * made and written while the apply does other work (a thread beside the
 * difference of the rulesets, or while the kernel takes a whole ruleset
 * from a child), and the wholes they replace let go only once the new
 * entry is in the history.  An apply that fails takes its differences
 * back, so the history's files are as they were (but for a difference a
 * crash had left beside its whole, made again and then taken back: the
 * whole, just read and checked against its hash, is what reads).  The
 * job reads no environment (kept and every are the caller's) and makes
 * no process.
 */
struct compact_job {
	const char	*state;
	unsigned	 newest, keep, kept, every;
	unsigned	 seqs[HISTORY_WALK_MAX];	/* differences written */
	size_t		 n;
	pthread_t	 tid;
	bool		 started, done;
};

/*
 * The config of the entry that has just left the last j->kept, j->newest
 * the newest, made its difference from the next entry's (whole: it is
 * within the last ones).  Not j->keep's (the entry the newest goes back
 * to: a rollback reads it), nor every j->every-th: those stay whole, and
 * so does one whose difference would not be smaller.  Then the entries
 * before it the same way, each from the text of the one after it, just
 * read, back to the first that is a difference already: a config still
 * whole that should not be (a compaction a crash cut short, or keep's of
 * an earlier apply) is made one by the next apply.  An apply usually
 * looks for one file more; at most it goes HISTORY_WALK_MAX entries back
 * (a history from before differences, every config whole, keeps the
 * older ones whole rather than hold its first apply for all of them).
 * Best effort: on any failure the whole stays.  (At 100K rules: two
 * files of 4.5 MB read, a difference of some 60 bytes written.)
 */
static void
compact_config(struct compact_job *j)
{
	char file[4096];
	char *next = NULL, *old;
	struct history_entry *v = NULL;
	struct strbuf err;
	size_t nlen = 0, olen, n = 0, at;
	unsigned seq, walked = 0;

	j->done = true;
	if (j->newest <= j->kept)
		return;
	seq = j->newest - j->kept;
	strbuf_init(&err, 0);
	if (path(file, sizeof(file), j->state, "history/%u.conf", seq + 1) ==
	    -1 || apply_history(j->state, &v, &n, &err) == -1 ||
	    (next = read_file(file, &nlen)) == NULL)
		goto out;
	/* (the entries in seq order: seq's found from the end) */
	at = n;
	for (; seq > 0 && walked++ < HISTORY_WALK_MAX; seq--) {
		while (at > 0 && v[at - 1].seq > seq)
			at--;
		if (at == 0 || v[at - 1].seq != seq)
			break;		/* not in history.log */
		if (seq % j->every == 0 || seq == j->keep) {
			/* It stays whole: the one before is made from its
			 * text, when that one is still whole. */
			if (path(file, sizeof(file), j->state,
			    "history/%u.conf", seq - 1) == -1 ||
			    access(file, F_OK) == -1 || path(file,
			    sizeof(file), j->state, "history/%u.conf", seq) ==
			    -1 || (old = read_file(file, &olen)) == NULL)
				break;
			if (!apply_hash_is(old, olen, v[at - 1].hash)) {
				free(old);
				break;
			}
		} else if (compact_one(j->state, seq, v[at - 1].hash, next,
		    nlen, &old, &olen) == 0)
			j->seqs[j->n++] = seq;
		else if (old == NULL)
			break;
		free(next);
		next = old;
		nlen = olen;
	}
out:
	free(next);
	free(v);
	strbuf_free(&err);
}

static void *
compact_run(void *arg)
{
	compact_config(arg);
	return NULL;
}

/* The job of an apply whose new entry is newest, going back to keep. */
static void
compact_init(struct compact_job *j, const char *state, unsigned newest,
    unsigned keep)
{
	memset(j, 0, sizeof(*j));
	j->state = state;
	j->newest = newest;
	j->keep = keep;
	j->kept = configs_kept();
	j->every = full_every();
}

/* The differences made in a thread (when one can be had; else later). */
static void
compact_start(struct compact_job *j)
{
	if (!j->done && !j->started && j->newest > j->kept &&
	    cores_idle() > 0)
		j->started = pthread_create(&j->tid, NULL, compact_run, j) == 0;
}

/* The thread, if one was started, joined. */
static void
compact_join(struct compact_job *j)
{
	if (j->started) {
		pthread_join(j->tid, NULL);
		j->started = false;
	}
}

/* Done: the thread joined, or the differences made here. */
static void
compact_wait(struct compact_job *j)
{
	compact_join(j);
	if (!j->done)
		compact_config(j);
}

/* The wholes the differences replace let go (recorded: the new entry is
 * in the history), or the differences taken back (it is not).  The
 * thread, if any, is joined first.  Not synced: each difference is on
 * disk, its name too, since write_file, and a removal a crash undoes
 * leaves both files, which read as the whole (config_text).  The oldest
 * goes first: a file system that keeps its changes of names in order
 * (ext4's journal does) then undoes the newer end, where the next
 * apply's walk back starts, and compacts them again; one left below an
 * entry whose removal stayed is only space, never a wrong config. */
static void
compact_finish(struct compact_job *j, bool recorded)
{
	char file[4096];
	size_t i;

	compact_join(j);
	for (i = j->n; i-- > 0;)
		if (path(file, sizeof(file), j->state, recorded ?
		    "history/%u.conf" : "history/%u.delta", j->seqs[i]) == 0)
			(void)unlink(file);
	j->n = 0;
}

char *
apply_config_text(const char *state, unsigned seq, size_t *len)
{
	return config_text(state, seq, len);
}

#define LINT_MEMO_MAX	(64u << 20)

char *
apply_lint_memo(const char *state, const char *which, size_t *len)
{
	char file[4096];

	if (path(file, sizeof(file), state, which, 0) == -1)
		return NULL;
	return file_read_regular(file, LINT_MEMO_MAX, len);
}

int
apply_lint_memo_keep(const char *state, const char *which, const char *memo,
    size_t len)
{
	char file[4096];

	if (path(file, sizeof(file), state, which, 0) == -1)
		return -1;
	/* Not synced: after a crash it is the old memo or the new one,
	 * and either is read only where it fits. */
	if (len > 0 && len <= LINT_MEMO_MAX &&
	    file_replace(file, memo, len, 0600, FILE_NOSYNC) == 0)
		return 0;
	(void)unlink(file);
	return -1;
}

/* history/SEQ.kernel's kind (nfhash.h): the sum of parts, "gen G" after
 * it when nothing was committed while the table was read.  Entries
 * recorded before hold the first or the second kind, and are compared so
 * still. */
#define KERNEL_HASH_V	"nfhash4 "
#define KERNEL_HASH_V3	"nfhash3 "
#define KERNEL_HASH_V2	"nfhash2 "
#define KERNEL_HASH_V1	"nfhash1 "
#define KERNEL_GEN	"nfgen "
/* After them, an incremental apply's parts, each with its own sum at the
 * generation said: "nfpart c|s NAME SUM" (struct parts). */
#define KERNEL_PART	"nfpart "
#define PARTS_KEPT_MAX	64	/* parts said, at most */
#define PART_NAME_MAX	256	/* a part's name said, at most */
#define INSTANCE_LEN	64

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71	/* Linux 5.14 (asm-generic/socket.h) */
#endif

/* This boot and network namespace: the boot's id and the namespace's
 * cookie ("BOOTID/cCOOKIE"), which a generation belongs to.  The kernel
 * never gives a cookie twice in a boot; a namespace's inode number, used
 * before (and still where the cookie cannot be had: "BOOTID/INODE"), is
 * given again once its namespace is gone, so a state directory kept
 * across a container's namespace made again could have found its record
 * trusted.  0, or -1. */
static int
kernel_instance(char *buf, size_t len)
{
	char id[40];
	struct stat st;
	uint64_t cookie;
	socklen_t clen = sizeof(cookie);
	ssize_t n;
	int fd, r;

	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
	    O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, id, sizeof(id) - 1);
	close(fd);
	if (n < 32)
		return -1;
	id[n] = '\0';
	id[strcspn(id, "\n")] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		r = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie,
		    &clen);
		close(fd);
		if (r == 0 && clen == sizeof(cookie))
			return snprintf(buf, len, "%s/c%llx", id,
			    (unsigned long long)cookie) < (int)len ? 0 : -1;
	}
	if (stat("/proc/self/ns/net", &st) == -1)
		return -1;
	return snprintf(buf, len, "%s/%llu", id,
	    (unsigned long long)st.st_ino) < (int)len ? 0 : -1;
}

/* Write history/SEQ.kernel: the hash when known (hash_ok), the generation
 * at which the table is as hashed, or of moat's own transaction, when
 * known (gen_ok), and the parts' own sums at that generation (parts:
 * KERNEL_PART lines, or NULL). */
static void
write_kernel(const char *state, unsigned seq, bool hash_ok, uint64_t h,
    bool gen_ok, uint32_t gen, const char *parts)
{
	char file[4096], inst[INSTANCE_LEN];
	struct strbuf b, ignored;
	bool gen_said = false;

	strbuf_init(&b, 0);
	if (hash_ok)
		strbuf_printf(&b, KERNEL_HASH_V "%016llx\n",
		    (unsigned long long)h);
	/* A generation says something only of the kernel and network
	 * namespace it was read in: it starts again at every boot. */
	if (gen_ok && kernel_instance(inst, sizeof(inst)) == 0) {
		strbuf_printf(&b, KERNEL_GEN "%u %s\n", gen, inst);
		gen_said = true;
	}
	/* (a part's sum holds only at the generation said) */
	if (hash_ok && gen_said && parts != NULL)
		strbuf_puts(&b, parts);
	if (b.len > 0 && !strbuf_failed(&b)) {
		path(file, sizeof(file), state, "history/%u.kernel", seq);
		strbuf_init(&ignored, 0);
		write_file(file, strbuf_str(&b), b.len, &ignored);
		strbuf_free(&ignored);
	}
	strbuf_free(&b);
}

/*
 * STATE/dynamic: what the sets of the devices' addresses (comment
 * NFTC_DYNAMIC_COMMENT) held when moat last wrote them (nfhash_dynamic).
 * Their elements are no part of the fingerprint (moatd refills them at
 * run time, and a refill is no drift); this record is what tells an
 * address added to them by hand from moat's own refill.  Written only
 * where what the sets hold is moat's: after a whole load (every set made
 * anew), a refill (each set flushed and filled), and an apply or restore
 * whose drift check (which compares this record) passed.  Best effort:
 * without it, nothing is compared.
 */
#define DYNAMIC_V	"dynamic1 "
#define DYNAMIC_NONE	"dynamic1 none\n"
#define DYNAMIC_UNKNOWN	"dynamic1 unknown\n"

/* What record_dynamic is told of the ruleset and of moat's commit. */
struct dyn_rec {
	bool		any;	/* the ruleset may have such sets; without
				   (no interface has a dynamic address),
				   "none" is recorded without reading the
				   kernel, and nothing is read to compare
				   either: a set added since would have
				   changed the fingerprint */
	bool		bound;	/* the reading must be at gen: moat's own
				   commit, nothing else since */
	uint32_t	gen;
};

/* The generation after one commit from now (bound when it can be read). */
static struct dyn_rec
dyn_next(bool any)
{
	struct dyn_rec d = { .any = any };

	d.bound = true;
	if (nfgen_read(&d.gen) == 0)
		d.gen++;
	else
		d.bound = false;
	return d;
}

/* STATE/dynamic as d says (see above): the hash, "none", or "unknown"
 * when the sets cannot be read at the generation they must be (a commit
 * came in between: what they hold may not be moat's), which the check
 * takes as drift unknown, never as none; the file goes with the table. */
static void
record_dynamic(const char *state, struct dyn_rec d)
{
	struct strbuf ignored;
	char file[4096], line[64];
	const char *text = DYNAMIC_UNKNOWN;
	char *was = NULL;
	uint32_t at;
	uint64_t h;
	int rc;

	if (path(file, sizeof(file), state, "dynamic", 0) == -1)
		return;
	strbuf_init(&ignored, 0);
	if (!d.any)
		text = DYNAMIC_NONE;
	else if ((rc = nfhash_dynamic(NFTC_TABLE, &h, &at, NULL,
	    &ignored)) == 1) {
		(void)unlink(file);
		text = NULL;
	} else if (rc == 0 && (!d.bound || at == d.gen)) {
		snprintf(line, sizeof(line), DYNAMIC_V "%016llx\n",
		    (unsigned long long)h);
		text = line;
	}
	/* Not synced: after a crash, a record lost or torn reads as
	 * unknown (the next apply goes whole), one from before as drift
	 * (the same); and not written again when it says the same (an
	 * office's applies of a policy without a dynamic interface). */
	if (text != NULL && ((was = read_file(file, NULL)) == NULL ||
	    strcmp(was, text) != 0) && write_file_flags(file, text,
	    strlen(text), FILE_NOSYNC, &ignored) == -1)
		(void)unlink(file);
	free(was);
	strbuf_free(&ignored);
}

/* 0 when the sets of the devices' addresses hold what STATE/dynamic
 * says ("none" included), 1 when they hold other, 2 when that is not
 * known: the record says unknown, or is not there while such sets are,
 * or they cannot be read (fail closed: the apply goes whole, and records
 * anew). */
static int
dynamic_moved_once(const char *state)
{
	struct strbuf ignored;
	unsigned long long want;
	char file[4096], *s = NULL;
	uint64_t h;
	size_t nsets;
	int rc = 2;

	if (path(file, sizeof(file), state, "dynamic", 0) == -1)
		return 2;
	if ((s = read_file(file, NULL)) != NULL && strcmp(s, DYNAMIC_NONE) ==
	    0) {
		free(s);
		return 0;
	}
	strbuf_init(&ignored, 0);
	if (nfhash_dynamic(NFTC_TABLE, &h, NULL, &nsets, &ignored) == 0) {
		if (s == NULL)
			rc = nsets == 0 ? 0 : 2;	/* from before */
		else if (strncmp(s, DYNAMIC_V, sizeof(DYNAMIC_V) - 1) == 0 &&
		    strcmp(s, DYNAMIC_UNKNOWN) != 0 &&
		    sscanf(s + sizeof(DYNAMIC_V) - 1, "%llx", &want) == 1)
			rc = h != want;
	}
	strbuf_free(&ignored);
	free(s);
	return rc;
}

/* Whether the sets of the devices' addresses were changed by hand
 * (dynamic_moved_once).  locked: the caller holds the state lock.  Else
 * a difference is read again under the lock (shared), since a moat that
 * committed a refill and has not yet recorded it holds the lock; while
 * another moat holds it the answer is "not known now" (2), at once: the
 * caller may be moatd answering the console, which waits for nobody. */
static int
dynamic_moved(const char *state, bool locked)
{
	char file[4096];
	int fd, rc;

	if ((rc = dynamic_moved_once(state)) == 0 || locked)
		return rc;
	if (path(file, sizeof(file), state, "lock", 0) == -1 ||
	    (fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return 2;
	rc = flock(fd, LOCK_SH | LOCK_NB) == 0 ? dynamic_moved_once(state) :
	    2;
	close(fd);
	return rc;
}

/* Remember what entry seq looks like in the kernel (history/SEQ.kernel),
 * for apply_drift; best effort: without it, drift cannot be told.  The
 * generation the table was read at goes with it (read at one generation:
 * while the kernel stays at it, the table is as hashed). */
static void
record_kernel(const char *state, unsigned seq, bool dyn)
{
	struct strbuf ignored;
	uint32_t gen;
	uint64_t h;

	record_dynamic(state, (struct dyn_rec){ .any = dyn });
	strbuf_init(&ignored, 0);
	if (nfhash_sum(NFTC_TABLE, &h, &gen, &ignored) == 0)
		write_kernel(state, seq, true, h, true, gen, NULL);
	strbuf_free(&ignored);
}

/* A ruleset larger than this is read back for its fingerprint after the
 * apply returns (below); a smaller one costs a few milliseconds. */
#define FINGERPRINT_SYNC_BYTES	(1024 * 1024)

/*
 * record_kernel after an apply whose transaction moved the generation
 * from gen0 to gen0 + 1 (so nothing but it was committed in between):
 * the generation is recorded at once, and while the kernel stays at it
 * apply_drift knows without a listing that the table is moat's.  The
 * listing that gives the hash (seconds at 100,000 rules) is taken by a
 * detached child for a large ruleset, and only while the generation is
 * still that one: a change in between leaves the drift unknown, never a
 * hash of someone else's table.  Without a proof of the generation, the
 * hash is taken here as before.
 */
static void
record_applied(const char *state, unsigned seq, bool gen0_ok, uint32_t gen0,
    size_t bytes, int lock_fd, bool dyn)
{
	struct strbuf ignored;
	uint32_t gen, at;
	uint64_t h;
	pid_t pid;

	/* Without generations (an old kernel), the table as it is. */
	if (!gen0_ok || nfgen_read(&gen) == -1) {
		record_kernel(state, seq, dyn);
		return;
	}
	/* Another commit came with ours: the table may hold someone
	 * else's change, which must not be recorded as the entry's.
	 * Nothing is: the drift is unknown, the next apply is whole. */
	if (gen != gen0 + 1) {
		record_dynamic(state, (struct dyn_rec){ .any = dyn,
		    .bound = true, .gen = gen0 + 1 });
		return;
	}
	record_dynamic(state, (struct dyn_rec){ .any = dyn, .bound = true,
	    .gen = gen });
	strbuf_init(&ignored, 0);
	if (bytes < FINGERPRINT_SYNC_BYTES) {
		/* Read at another generation: someone else's commit may be
		 * in it, so the generation alone (drift unknown once it
		 * moves, as the detached child's below). */
		if (nfhash_sum(NFTC_TABLE, &h, &at, &ignored) == 0 &&
		    at == gen)
			write_kernel(state, seq, true, h, true, gen, NULL);
		else
			write_kernel(state, seq, false, 0, true, gen, NULL);
		strbuf_free(&ignored);
		return;
	}
	strbuf_free(&ignored);
	write_kernel(state, seq, false, 0, true, gen, NULL);
	if ((pid = fork()) == -1)
		return;		/* no hash: drift unknown once it moves */
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		uint32_t now;

		close(lock_fd);
		setsid();
		if (fork() != 0)
			_exit(0);
		if (null != -1) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* moatd's sockets and files are not this listing's. */
		if (fds_keep(NULL, 0) == -1)
			_exit(1);
		strbuf_init(&ignored, 0);
		if (nfgen_read(&now) == 0 && now == gen &&
		    nfhash_sum(NFTC_TABLE, &h, &at, &ignored) == 0 &&
		    at == gen)
			write_kernel(state, seq, true, h, true, gen, NULL);
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* Entry seq's record, history/SEQ.kernel, malloc'd; NULL when none. */
static char *
kernel_record(const char *state, unsigned seq)
{
	char file[4096];

	path(file, sizeof(file), state, "history/%u.kernel", seq);
	return read_file(file, NULL);
}

/* What history/SEQ.kernel says: its hash of the current kind (*hash_ok)
 * and its generation (*gen_ok); its text into *text when text is not NULL
 * (the caller frees it).  0, or -1 when there is no such file. */
static int
recorded(const char *state, unsigned seq, bool *hash_ok, uint64_t *h,
    bool *gen_ok, uint32_t *gen, char **text)
{
	char *s, *g, inst[INSTANCE_LEN], was[INSTANCE_LEN];
	unsigned long long want;
	unsigned ours;

	*hash_ok = *gen_ok = false;
	if ((s = kernel_record(state, seq)) == NULL)
		return -1;
	if (strncmp(s, KERNEL_HASH_V, sizeof(KERNEL_HASH_V) - 1) == 0 &&
	    sscanf(s + sizeof(KERNEL_HASH_V) - 1, "%llx", &want) == 1) {
		*h = want;
		*hash_ok = true;
	}
	g = strncmp(s, KERNEL_GEN, sizeof(KERNEL_GEN) - 1) == 0 ? s :
	    strstr(s, "\n" KERNEL_GEN);
	/* Only a generation of this boot and namespace (one without its
	 * instance, from before it was recorded, is not trusted). */
	if (g != NULL && sscanf(g + (*g == '\n') + sizeof(KERNEL_GEN) - 1,
	    "%u %63s", &ours, was) == 2 && kernel_instance(inst,
	    sizeof(inst)) == 0 && strcmp(inst, was) == 0) {
		*gen = ours;
		*gen_ok = true;
	}
	if (text != NULL)
		*text = s;
	else
		free(s);
	return 0;
}

/* True when the kernel's generation is still the one recorded with entry
 * seq: nothing was committed since, so the table is the entry's. */
static bool
kernel_unchanged(const char *state, unsigned seq)
{
	bool hash_ok, gen_ok;
	uint32_t want, gen;
	uint64_t h;

	return recorded(state, seq, &hash_ok, &h, &gen_ok, &want, NULL) == 0 &&
	    gen_ok && nfgen_read(&gen) == 0 && gen == want;
}

/* True when table inet moat has flags (dormant: none of its rules runs),
 * which moat's never has and the fingerprint does not see, or when they
 * cannot be read (taken as drift: a difference would keep them, the
 * whole deletes the table and makes it anew, with none). */
static bool
table_flagged(void)
{
	uint32_t flags;

	return nfgen_table_flags(NFTC_TABLE, &flags) != 1 || flags != 0;
}

/*
 * Listing the table costs tens of milliseconds for a large policy, and the
 * console asks every few seconds: the answer is kept while the kernel's
 * ruleset generation (nfgen.h) and the entry are the same.
 */
/* apply_drift; locked: the caller holds the state lock. */
static enum apply_drift
drift_of(const char *state, unsigned seq, bool locked)
{
	static struct {
		uint32_t		gen;
		unsigned		seq;
		enum apply_drift	d;
		char			state[256];
		int			valid;
	} cache;
	char *s;
	unsigned long long want = 0;
	enum apply_drift d;
	struct strbuf ignored;
	uint64_t h;
	uint32_t gen;
	int have_gen = nfgen_read(&gen) == 0, kind = 0, rc, moved;

	if (have_gen && cache.valid && cache.gen == gen && cache.seq == seq &&
	    strcmp(cache.state, state) == 0)
		return cache.d;
	/* A hash of the oldest kind (a listing) says nothing of this one. */
	s = kernel_record(state, seq);
	if (s != NULL && strncmp(s, KERNEL_HASH_V, 8) == 0)
		kind = 4;
	else if (s != NULL && strncmp(s, KERNEL_HASH_V3, 8) == 0)
		kind = 3;
	else if (s != NULL && strncmp(s, KERNEL_HASH_V2, 8) == 0)
		kind = 2;
	else if (s != NULL && strncmp(s, KERNEL_HASH_V1, 8) == 0)
		kind = 1;
	if (kind != 0 && sscanf(s + 8, "%llx", &want) != 1)
		kind = 0;
	free(s);
	/* The generation of moat's own transaction: nothing committed
	 * since, the table is the entry's, and nothing need be read. */
	if (have_gen && kernel_unchanged(state, seq))
		return table_flagged() ? DRIFT_CHANGED : DRIFT_NONE;
	strbuf_init(&ignored, 0);
	rc = kind == 4 || kind == 0 ? nfhash_sum(NFTC_TABLE, &h, NULL,
	    &ignored) : kind == 3 ? nfhash_sum3(NFTC_TABLE, &h, &ignored) :
	    nfhash_table(NFTC_TABLE, kind == 1, &h, &ignored);
	strbuf_free(&ignored);
	if (rc != 0)
		return DRIFT_NO_TABLE;
	d = kind == 0 ? DRIFT_UNKNOWN : want == h ? DRIFT_NONE : DRIFT_CHANGED;
	if (d == DRIFT_NONE && table_flagged())
		d = DRIFT_CHANGED;
	/* The devices' addresses' sets: an address added by hand.  Not
	 * known (another moat writing, no record): unknown, and not kept. */
	if (d == DRIFT_NONE && (moved = dynamic_moved(state, locked)) != 0) {
		if (moved == 2)
			return DRIFT_UNKNOWN;
		d = DRIFT_CHANGED;
	}
	/* Only when the generation read before the listing is still the
	 * one after it: nothing was committed in between. */
	cache.valid = have_gen && nfgen_read(&cache.gen) == 0 &&
	    cache.gen == gen && strlen(state) < sizeof(cache.state);
	if (cache.valid) {
		cache.seq = seq;
		cache.d = d;
		snprintf(cache.state, sizeof(cache.state), "%s", state);
	}
	return d;
}

enum apply_drift
apply_drift(const char *state, unsigned seq)
{
	return drift_of(state, seq, false);
}

/*
 * The incremental fingerprint: the sum of the parts a difference changes
 * (nftdiff's parts: "c NAME" and "s NAME" lines), read before and after
 * it, moves the entry in force's hash to the new one's, without reading
 * the rest of the table.  The parts' own sums after it are kept with the
 * new entry's record (KERNEL_PART), and the next apply takes a part's
 * sum before from there instead of reading it, while the kernel is still
 * at that generation: the part is then as it was read.  An office's
 * edits come one after the other in the same zone, whose map at 10,000
 * rules (2,830 intervals) took 4-5 ms to read each time.
 */
struct parts {
	char		**chains, **sets;
	size_t		  nchains, nsets;
	uint64_t	 *each;		/* each part's sum: chains, then sets */
	char		 *buf;
	char		 *record;	/* the entry in force's SEQ.kernel, as
					   parts_before read it, or NULL */
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* v's n names sorted, each once: how many are left. */
static size_t
names_unique(char **v, size_t n)
{
	size_t i, k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), name_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(v[i], v[k]) != 0)
			v[++k] = v[i];
	return k + 1;
}

static int
parts_split(const struct strbuf *text, struct parts *pt)
{
	size_t n = 1;
	char *p, *nl;

	memset(pt, 0, sizeof(*pt));
	for (p = text->s; p != NULL && *p != '\0'; p++)
		n += *p == '\n';
	if ((pt->buf = strdup(strbuf_str(text))) == NULL ||
	    (pt->chains = calloc(n, sizeof(char *))) == NULL ||
	    (pt->sets = calloc(n, sizeof(char *))) == NULL ||
	    (pt->each = calloc(n, sizeof(uint64_t))) == NULL)
		return -1;
	for (p = pt->buf; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		if (p[0] == 'c')
			pt->chains[pt->nchains++] = p + 2;
		else
			pt->sets[pt->nsets++] = p + 2;
	}
	/* Each part once: one named twice (a set gone and a map of its
	 * name come) would be counted twice before and after. */
	pt->nchains = names_unique(pt->chains, pt->nchains);
	pt->nsets = names_unique(pt->sets, pt->nsets);
	return 0;
}

static void
parts_free(struct parts *pt)
{
	free(pt->chains);
	free(pt->sets);
	free(pt->each);
	free(pt->buf);
	free(pt->record);
}

/* Part i's kind ('c' or 's') and name. */
static const char *
part_name(const struct parts *pt, size_t i, char *kind)
{
	*kind = i < pt->nchains ? 'c' : 's';
	return i < pt->nchains ? pt->chains[i] : pt->sets[i - pt->nchains];
}

/* The parts' sum into *h and each one's into pt->each, as the table holds
 * them now (*gen the generation read at): 0, or -1. */
static int
parts_hash(struct parts *pt, uint64_t *h, uint32_t *gen)
{
	struct strbuf ignored;
	int rc;

	strbuf_init(&ignored, 0);
	rc = nfhash_parts(NFTC_TABLE, pt->chains, pt->nchains, pt->sets,
	    pt->nsets, pt->each, h, gen, &ignored);
	strbuf_free(&ignored);
	return rc;
}

/* The next KERNEL_PART line of a record (a SEQ.kernel's text) from *at
 * on: its kind ('c' or 's'), name and sum, *at past its start; false when
 * there is none.  A line not of that form is passed over. */
static bool
part_next(const char **at, char *kind, char name[PART_NAME_MAX + 1],
    uint64_t *sum)
{
	const char *p;
	unsigned long long v;

	while ((p = strstr(*at, "\n" KERNEL_PART)) != NULL) {
		*at = p + 1;
		/* (a longer name leaves its rest where the sum should be) */
		if (sscanf(*at + sizeof(KERNEL_PART) - 1, "%c %256s %16llx",
		    kind, name, &v) == 3 && (*kind == 'c' || *kind == 's')) {
			*sum = v;
			return true;
		}
	}
	return false;
}

/* A KERNEL_PART line into b. */
static void
part_line(struct strbuf *b, char kind, const char *name, uint64_t sum)
{
	strbuf_printf(b, KERNEL_PART "%c %s %016llx\n", kind, name,
	    (unsigned long long)sum);
}

/* The sum of part kind/name kept in record into *h: true when it is
 * there. */
static bool
part_kept(const char *record, char kind, const char *name, uint64_t *h)
{
	char k, n[PART_NAME_MAX + 1];
	uint64_t v;

	while (part_next(&record, &k, n, &v))
		if (k == kind && strcmp(n, name) == 0) {
			*h = v;
			return true;
		}
	return false;
}

/*
 * The parts' sum before the difference (*h), at the generation of the
 * entry in force's record, pt->record (*gen, which the caller compares
 * with it): each part's from the record when it keeps it, the others
 * read.  0, or -1.
 */
static int
parts_before(struct parts *pt, uint64_t *h, uint32_t *gen)
{
	struct parts rest = { 0 };
	const char *record;
	char kind;
	size_t i, n = pt->nchains + pt->nsets;
	uint64_t sum = 0, got;
	int rc = -1;

	if ((record = pt->record) == NULL)
		return parts_hash(pt, h, gen);
	rest.chains = calloc(n + 1, sizeof(char *));
	rest.sets = calloc(n + 1, sizeof(char *));
	rest.each = calloc(n + 1, sizeof(uint64_t));
	if (rest.chains == NULL || rest.sets == NULL || rest.each == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const char *name = part_name(pt, i, &kind);

		if (part_kept(record, kind, name, &pt->each[i]))
			sum += pt->each[i];
		else if (kind == 'c')
			rest.chains[rest.nchains++] = (char *)name;
		else
			rest.sets[rest.nsets++] = (char *)name;
	}
	if (rest.nchains + rest.nsets == 0)
		rc = nfgen_read(gen);
	else if (parts_hash(&rest, &got, gen) == 0) {
		sum += got;
		rc = 0;
	}
	if (rc == 0)
		*h = sum;
out:
	parts_free(&rest);
	return rc;
}

/* The KERNEL_PART lines of pt's sums (at most PARTS_KEPT_MAX, names
 * of nft's characters only), into b: how many. */
static size_t
parts_lines(const struct parts *pt, struct strbuf *b)
{
	size_t i, n = pt->nchains + pt->nsets, said = 0;
	char kind;

	for (i = 0; i < n && said < PARTS_KEPT_MAX; i++) {
		const char *name = part_name(pt, i, &kind);

		if (name[0] == '\0' || strlen(name) > PART_NAME_MAX ||
		    name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_.-")] != '\0')
			continue;
		part_line(b, kind, name, pt->each[i]);
		said++;
	}
	return said;
}

/* Whether pt names part kind/name (its names sorted: parts_split). */
static bool
parts_have(const struct parts *pt, char kind, const char *name)
{
	char *const *v = kind == 'c' ? pt->chains : pt->sets;
	size_t n = kind == 'c' ? pt->nchains : pt->nsets;

	return n > 0 && bsearch(&name, v, n, sizeof(*v), name_cmp) != NULL;
}

/* The KERNEL_PART lines of record (a SEQ.kernel's text, or NULL), into
 * b: at most room of them, and none of a part that except (when not
 * NULL) names. */
static void
parts_kept_lines(const char *record, struct strbuf *b,
    const struct parts *except, size_t room)
{
	char kind, name[PART_NAME_MAX + 1];
	uint64_t sum;

	if (record == NULL)
		return;
	while (room > 0 && part_next(&record, &kind, name, &sum)) {
		if (except != NULL && parts_have(except, kind, name))
			continue;
		part_line(b, kind, name, sum);
		room--;
	}
}

struct feed_source {
	const char		*state;
	const struct policy	*p;
};

/* What the state directory keeps for feed object obj of the policy. */
static int
stored_feed(void *arg, const char *obj, struct arena *a, struct iset *out)
{
	const struct feed_source *fs = arg;
	const struct object *o = policy_object(fs->p, obj);

	if (o == NULL || !policy_object_feed(o))
		return -1;
	return feedstore_load(fs->state, obj, feedstore_key(o), a, out, NULL);
}

/*
 * script (p's compiled ruleset), with every feed set holding what the
 * state directory keeps for it, into out.  The stored ruleset has them
 * empty: their elements change without an apply.  0, or -1 when memory
 * ran out.
 */
static int
with_feeds(const char *state, const struct policy *p, const char *script,
    size_t len, struct strbuf *out)
{
	struct feed_source fs = { state, p };

	if (policy_nfeeds(p) == 0) {
		strbuf_add(out, script, len);
		return strbuf_failed(out) ? -1 : 0;
	}
	return nftc_feeds_inline(script, len, stored_feed, &fs, out);
}

/*
 * The refill of entry seq's dynamic sets (nftc_compile_dynamic) for the
 * addresses the devices have now, appended to b; nothing when its config
 * has no dynamic interface.  With stored (entry seq's ruleset), that
 * ruleset first, its feed sets holding what the state directory keeps.
 * 0, or -1 with err (b holds stored as it is, at least).
 */
static int
live_sets(const char *state, unsigned seq, const struct binding *given,
    const char *stored, size_t slen, struct strbuf *b, struct strbuf *err)
{
	struct host_addrs h = { 0 };
	struct binding bound;
	struct policy *p = NULL;
	size_t len, was = b->len;
	char *text = apply_config_text(state, seq, &len);
	int rc = -1;

	if (text == NULL) {
		strbuf_printf(err, "the config of history entry %u is missing "
		    "from %s", seq, state);
		goto out;
	}
	/* Most configs have none: no need to parse them to know. */
	if (memmem(text, len, "dynamic", 7) == NULL &&
	    memmem(text, len, "fqdn", 4) == NULL &&
	    memmem(text, len, "url", 3) == NULL &&
	    memmem(text, len, "country", 7) == NULL) {
		rc = 0;
		goto out;
	}
	if (given == NULL && rtnl_addrs(&h, err) == -1)
		goto out;
	bound = given != NULL ? *given : h.b;
	if (bound.feed == NULL)
		feedstore_bind(&bound, state);
	p = policy_parse_bound("history", text, len, &bound);
	if (p == NULL || !policy_valid(p) || (stored != NULL &&
	    with_feeds(state, p, stored, slen, b) == -1) ||
	    nftc_compile_dynamic(p, b) == -1) {
		strbuf_printf(err, "the config of history entry %u cannot be "
		    "compiled again", seq);
		goto out;
	}
	stored = NULL;
	rc = 0;
out:
	if (stored != NULL) {
		b->len = was;
		strbuf_add(b, stored, slen);
	}
	policy_free(p);
	rtnl_addrs_free(&h);
	free(text);
	return rc;
}

/*
 * The history keeps the rulesets of its last HISTORY_RULESETS entries (and
 * of the entry the newest one would go back to); an older entry keeps its
 * config, and its ruleset is compiled again from it when a rollback
 * reaches it (stored_ruleset).  At 100K rules a ruleset is 12.9 MB (18
 * before 2026-12-06): an office editing a large policy many times a day
 * filled the state directory.
 */
#define HISTORY_RULESETS	32
/* and at most this many bytes of them: at 100K rules 32 rulesets were
 * 413 MB (12.9 MB each), 256 MB keeps 19 */
#define HISTORY_RULESET_BYTES	(256ull << 20)

static unsigned
rulesets_kept(void)
{
	return history_kept("MOAT_HISTORY_RULESETS", HISTORY_RULESETS);
}

/* How many bytes the rulesets kept may take together (the newest and the
 * one it goes back to are kept whatever their size): in test builds
 * MOAT_HISTORY_RULESET_BYTES when it is set. */
static unsigned long long
ruleset_bytes(void)
{
#ifdef MOAT_TEST_SEAMS
	const char *s = getenv("MOAT_HISTORY_RULESET_BYTES");

	if (s != NULL && strtoull(s, NULL, 10) > 0)
		return strtoull(s, NULL, 10);
#endif
	return HISTORY_RULESET_BYTES;
}

/* Entry seq's ruleset as applied (malloc'd, its length in *len): its
 * file, or when that was let go, its config compiled again, bound to the
 * addresses the devices have now; NULL when neither can be had. */
static char *
stored_ruleset(const char *state, unsigned seq, size_t *len)
{
	struct host_addrs h = { 0 };
	struct strbuf b, err;
	struct binding bound;
	struct policy *p = NULL;
	char file[4096], *text, *r;
	size_t tlen;

	path(file, sizeof(file), state, "history/%u.nft", seq);
	if ((r = read_file(file, len)) != NULL || errno != ENOENT)
		return r;
	if ((text = apply_config_text(state, seq, &tlen)) == NULL)
		return NULL;
	strbuf_init(&b, 0);
	strbuf_init(&err, 0);
	if (rtnl_addrs(&h, &err) == 0) {
		bound = h.b;
		feedstore_bind(&bound, state);
		p = policy_parse_bound("history", text, tlen, &bound);
	}
	r = NULL;
	if (p != NULL && policy_valid(p) && nftc_compile(p, &b) == 0 &&
	    !strbuf_failed(&b)) {
		*len = b.len;
		r = b.s;
		b.s = NULL;
	}
	policy_free(p);
	rtnl_addrs_free(&h);
	strbuf_free(&b);
	strbuf_free(&err);
	free(text);
	return r;
}

/* Let go of the rulesets of entries older than the last rulesets_kept(),
 * with their records in the kernel (history/SEQ.kernel: only the entry in
 * force's is read, apply_drift), and of the rulesets past ruleset_bytes()
 * counted from the newest, but never of the newest or of keep (the entry
 * the newest goes back to); and keep the config that has left the last
 * configs_kept() as a difference (cj's differences, made now when they
 * were not meanwhile). */
static void
prune_rulesets(const char *state, unsigned newest, unsigned keep,
    struct compact_job *cj)
{
	char dir[4096], file[4400];
	struct dirent *de;
	unsigned n = rulesets_kept(), oldest, seq;
	unsigned long long budget = ruleset_bytes(), total = 0;
	struct stat st;
	DIR *d;

	compact_wait(cj);
	compact_finish(cj, true);
	if (newest > n && path(dir, sizeof(dir), state, "history", 0) == 0 &&
	    (d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *end;
			unsigned long s = strtoul(de->d_name, &end, 10);

			if (end == de->d_name || (strcmp(end, ".nft") != 0 &&
			    strcmp(end, ".kernel") != 0) || s == 0 ||
			    s > newest - n || s == keep)
				continue;
			if (snprintf(file, sizeof(file), "%s/%s", dir,
			    de->d_name) < (int)sizeof(file))
				(void)unlink(file);
		}
		closedir(d);
	}
	/* The last n, newest first, within the budget: the newest and keep
	 * count first and stay whatever their size. */
	oldest = newest > n ? newest - n + 1 : 1;
	if (path(file, sizeof(file), state, "history/%u.nft", newest) == 0 &&
	    stat(file, &st) == 0)
		total += (unsigned long long)st.st_size;
	if (keep != 0 && keep != newest && path(file, sizeof(file), state,
	    "history/%u.nft", keep) == 0 && stat(file, &st) == 0)
		total += (unsigned long long)st.st_size;
	for (seq = newest; seq-- > oldest;) {
		if (seq == keep || path(file, sizeof(file), state,
		    "history/%u.nft", seq) == -1 || stat(file, &st) == -1)
			continue;
		total += (unsigned long long)st.st_size;
		if (total > budget)
			(void)unlink(file);
	}
}

/* Entry seq's ruleset stored (len bytes), its dynamic sets filled for
 * now: malloc'd, or NULL. */
static char *
live_ruleset(const char *state, unsigned seq, const char *stored,
    size_t len)
{
	struct strbuf b, err;

	strbuf_init(&b, 0);
	strbuf_init(&err, 0);
	/* Best effort: without it, the sets hold the addresses of when the
	 * entry was applied, until moatd hears of a change, and the feeds
	 * nothing until their next refresh. */
	live_sets(state, seq, NULL, stored, len, &b, &err);
	strbuf_free(&err);
	if (strbuf_failed(&b)) {
		strbuf_free(&b);
		return NULL;
	}
	return b.s;
}

/* The ruleset of history entry seq, its dynamic sets filled for now, or
 * the removal of the table for 0. */
static char *
ruleset_of(const char *state, unsigned seq)
{
	struct strbuf b;

	if (seq != 0) {
		char *stored, *r;
		size_t len;

		if ((stored = stored_ruleset(state, seq, &len)) == NULL)
			return NULL;
		r = live_ruleset(state, seq, stored, len);
		free(stored);
		return r;
	}
	strbuf_init(&b, 0);
	nftc_remove(&b);
	return strbuf_failed(&b) ? NULL : b.s;
}

/* The last entry, or a zeroed one when there is none. */
static int
current(const char *state, struct history_entry *cur, struct strbuf *err)
{
	struct history_entry *v;
	size_t n;

	memset(cur, 0, sizeof(*cur));
	if (apply_history(state, &v, &n, err) == -1)
		return -1;
	if (n > 0)
		*cur = v[n - 1];
	free(v);
	return 0;
}

char *
apply_running_text(const char *state, unsigned *seq, size_t *len,
    struct strbuf *err)
{
	struct history_entry cur;
	char *text;

	*seq = 0;
	if (current(state, &cur, err) == -1 || cur.seq == 0)
		return NULL;
	/* A rollback to before the first apply removed the table. */
	if ((text = apply_config_text(state, cur.seq, len)) == NULL &&
	    strcmp(cur.file, "-") != 0)
		strbuf_printf(err, "the config of history entry %u is missing "
		    "from %s", cur.seq, state);
	else
		*seq = cur.seq;
	return text;
}

/* Entry seq of the history (a zeroed one, file "-", for 0 or when it is
 * missing) and the last entry (zeroed when there is none), from one read. */
static int
entry(const char *state, unsigned seq, struct history_entry *e,
    struct history_entry *last, struct strbuf *err)
{
	struct history_entry *v;
	size_t n, i;

	memset(e, 0, sizeof(*e));
	memset(last, 0, sizeof(*last));
	snprintf(e->file, sizeof(e->file), "-");
	if (apply_history(state, &v, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (seq != 0 && v[i].seq == seq)
			*e = v[i];
	if (n > 0)
		*last = v[n - 1];
	free(v);
	return 0;
}

/*
 * The pending file of an apply --confirm: "SEQ PID START DEADLINE PREV",
 * the entry waiting for its confirm, the watchdog (its pid and its start
 * time, so that a pid used again by another process is never signalled),
 * the deadline (seconds since the epoch), and the entry to restore (0:
 * remove the table).  Whoever finds it past its deadline restores PREV.
 */
struct pending {
	unsigned		seq, prev;
	pid_t			pid;
	unsigned long long	start;
	time_t			deadline;
};

static bool
read_pending(const char *state, struct pending *pd)
{
	char file[4096], *s;
	long long pid, deadline;
	bool ok;

	path(file, sizeof(file), state, "pending", 0);
	if ((s = read_file(file, NULL)) == NULL)
		return false;
	memset(pd, 0, sizeof(*pd));
	ok = sscanf(s, "%u %lld %llu %lld %u", &pd->seq, &pid, &pd->start,
	    &deadline, &pd->prev) == 5;
	pd->pid = (pid_t)pid;
	pd->deadline = (time_t)deadline;
	free(s);
	return ok;
}

bool
apply_pending(const char *state, unsigned *seq, time_t *deadline)
{
	struct pending pd;

	if (!read_pending(state, &pd))
		return false;
	*seq = pd.seq;
	*deadline = pd.deadline;
	return true;
}

static int
write_pending(const char *state, const struct pending *pd, struct strbuf *err)
{
	char file[4096], buf[128];
	int n = snprintf(buf, sizeof(buf), "%u %lld %llu %lld %u\n", pd->seq,
	    (long long)pd->pid, pd->start, (long long)pd->deadline, pd->prev);

	path(file, sizeof(file), state, "pending", 0);
	return write_file(file, buf, (size_t)n, err);
}

static int
remove_pending(const char *state, struct strbuf *err)
{
	char file[4096];

	path(file, sizeof(file), state, "pending", 0);
	if ((unlink(file) == -1 && errno != ENOENT) ||
	    sync_dir_of(file) == -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

/* When process pid started (clock ticks after boot, /proc/PID/stat field
 * 22): 0, or -1 when there is no such process, or it has ended and only
 * its exit status waits to be collected (a zombie). */
static int
proc_start(pid_t pid, unsigned long long *start)
{
	char file[64], buf[1024], *p;
	FILE *fp;
	size_t n;
	int field;

	snprintf(file, sizeof(file), "/proc/%lld/stat", (long long)pid);
	if ((fp = fopen(file, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* after the command name, which may hold spaces and parentheses,
	 * comes the state (field 3) */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == 'Z' ||
	    p[2] == 'X' || p[2] == 'x')
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", start) != 1)
		return -1;
	return 0;
}

/* The watchdog the pending file names, if that very process still runs. */
static bool
watchdog_alive(const struct pending *pd)
{
	unsigned long long start;

	return pd->pid > 0 && proc_start(pd->pid, &start) == 0 &&
	    start == pd->start;
}

static void
stop_watchdog(const struct pending *pd)
{
	if (watchdog_alive(pd))
		kill(pd->pid, SIGTERM);
}

/* Entry from's record as entry to's, after an apply or a restore whose
 * difference was empty: the kernel still holds from's table, which the
 * drift check found at generation gen.  Its hash at gen while the kernel
 * is still there (the parts' sums too when they are of gen), or, without
 * a hash of this kind (a large table's is taken by a detached child; a
 * build before wrote nfhash3), its generation when it is gen.  Else
 * nothing: the next apply cannot tell drift and goes whole. */
static void
keep_record(const char *state, unsigned from, unsigned to, uint32_t gen,
    bool dyn)
{
	struct strbuf kept;
	bool hash_ok, gen_ok;
	uint32_t g_rec = 0, now;
	uint64_t h = 0;
	char *text = NULL;

	if (recorded(state, from, &hash_ok, &h, &gen_ok, &g_rec, &text) == 0 &&
	    nfgen_read(&now) == 0 && now == gen) {
		record_dynamic(state, (struct dyn_rec){ .any = dyn,
		    .bound = true, .gen = gen });
		strbuf_init(&kept, 0);
		if (hash_ok && gen_ok && g_rec == gen)
			parts_kept_lines(text, &kept, NULL, PARTS_KEPT_MAX);
		if (hash_ok)
			write_kernel(state, to, true, h, true, gen,
			    strbuf_failed(&kept) ? NULL : strbuf_str(&kept));
		else if (gen_ok && g_rec == gen)
			write_kernel(state, to, false, 0, true, gen, NULL);
		strbuf_free(&kept);
	}
	free(text);
}

/*
 * The policy route a ruleset that intercepts SMTP needs, set up before it
 * goes in, by whoever loads it (moatd, moat apply, a rollback, a
 * confirm's revert, moatd's fallback): without it, the connections the
 * rules hand to the proxy are dropped (the kernel does not forward what
 * tproxy gave a socket), and no mail is scanned.  When it cannot be set
 * up the ruleset goes in all the same (what it intercepts waits, never
 * goes out unscanned), and msg says so.
 */
static void
intercept_route(bool intercepts, struct strbuf *msg)
{
	struct strbuf why;

	strbuf_init(&why, 0);
	if (intercepts && route_tproxy(NFTC_MARK, NFTC_ROUTE_TABLE, &why) ==
	    -1)
		strbuf_printf(msg, APPLY_WARNING "%s: the SMTP its rules hand "
		    "to the proxy is held back, not scanned, until it is set "
		    "up (each apply of it tries again)\n",
		    strbuf_str(&why));
	strbuf_free(&why);
}

/*
 * A restore's ruleset (script: entry target's, its live sets filled;
 * stored, slen: as the history keeps it, or NULL) into the kernel.  As the
 * difference between the stored rulesets of the entry in force and of
 * target when the kernel still holds the former, at the generation the
 * difference was made against (plan_delta, send_delta, as an apply's),
 * followed, when script is not the stored text (sets filled at load), by
 * the refill of target's dynamic sets for now; else whole, as before.  At
 * 100K rules the whole took 3.2-3.6 s for a rollback of one rule's edit.
 * ph says which way it went (why, when a difference was tried and not
 * sent); *gen0 is the generation before the kernel changed, for
 * record_applied.  0, or -1 with the kernel's reason in err.
 */
static int
restore_load(const char *state, const struct history_entry *cur,
    unsigned target, const char *stored, size_t slen, const char *script,
    struct apply_phases *ph, bool *gen0_ok, uint32_t *gen0,
    struct strbuf *err)
{
	struct strbuf delta, parts, why, refill;
	struct file_view old = { 0 };
	uint32_t gck, now;
	bool as_stored, refilled = false;
	int rc = 1;

	memset(ph, 0, sizeof(*ph));
	strbuf_init(&delta, 0);
	strbuf_init(&parts, 0);
	strbuf_init(&why, 0);
	strbuf_init(&refill, 0);
	as_stored = stored != NULL && strlen(script) == slen &&
	    memcmp(script, stored, slen) == 0;
	/* A ruleset with sets filled at load: its dynamic sets' refill for
	 * the addresses the devices have now, after the difference in the
	 * same transaction, as an apply's difference refills them; a feed's
	 * set the entry in force has too is left as moatd keeps it (one the
	 * difference would add or change makes nftdiff say whole). */
	if (stored != NULL && !as_stored)
		refilled = live_sets(state, target, NULL, NULL, 0, &refill,
		    &why) == 0 && !strbuf_failed(&refill);
	if (stored != NULL && !as_stored && !refilled)
		snprintf(ph->why, sizeof(ph->why), "the sets of the config "
		    "restored that are filled at load (dynamic addresses) "
		    "could not be filled for now: %s", why.len > 0 ?
		    strbuf_str(&why) : "out of memory");
	strbuf_reset(&why);
	if ((as_stored || refilled) && (rc = plan_delta(state, cur, &old,
	    stored, slen, &delta, &parts, &gck, ph)) == 0) {
		strbuf_add(&delta, strbuf_str(&refill), refill.len);
#ifdef MOAT_TEST_SEAMS
		/* Test builds: a command more in the difference alone, for
		 * the kernel to refuse it (tests/lab/incremental.py): the
		 * whole must then go. */
		if (getenv("MOAT_NFT_INJECT") != NULL)
			strbuf_printf(&delta, "%s\n", getenv("MOAT_NFT_INJECT"));
#endif
		/* Sent only at the generation it was made against: the
		 * handles it deletes by are that table's. */
		if (nfgen_read(&now) == -1 || now != gck) {
			snprintf(ph->why, sizeof(ph->why), "the kernel's ruleset "
			    "changed during the restore");
			rc = 1;
		} else if (delta.len > 0 && send_delta(strbuf_str(&delta),
		    old.s, stored, gck, ph, &why) == -1) {
			snprintf(ph->why, sizeof(ph->why), "the kernel refused "
			    "the difference: %s", strbuf_str(&why));
			rc = 1;
		} else {
			ph->incremental = true;
			ph->delta = delta.len;
			*gen0_ok = true;
			*gen0 = gck;
		}
	}
	file_view_drop(&old);
	strbuf_free(&delta);
	strbuf_free(&parts);
	strbuf_free(&why);
	strbuf_free(&refill);
	if (ph->incremental)
		return 0;
	if (rc == -1)
		ph->why[0] = '\0';	/* (out of memory: the whole, unsaid) */
	*gen0_ok = nfgen_read(gen0) == 0;
	return load_whole(script, NULL, 0, err);
}

/*
 * Put the ruleset of entry target back in the kernel (restore_load: as a
 * difference when it can be), then record it as a new entry (what:
 * rollback or revert) carrying target's config.  The kernel comes first:
 * when the state cannot be written, the ruleset is back all the same and
 * err says what was not recorded.  *loaded: the kernel took it.
 */
static int
restore_entry(const char *state, unsigned target, const char *what,
    int lock_fd, struct strbuf *msg, struct strbuf *err, bool *loaded)
{
	struct history_entry t, cur, e;
	struct apply_phases ph;
	char *script, *stored = NULL, *text = NULL, to[4096];
	struct strbuf unsure;
	size_t len = 0, slen = 0;
	uint32_t gen0 = 0;
	bool repaired, gen0_ok = false;
	int rc;

	if (entry(state, target, &t, &cur, err) == -1)
		return -1;
	/* The config the new entry carries, read before anything changes:
	 * one that cannot be read (a damaged difference, history.md) would
	 * leave the kernel holding what the history does not say. */
	if (target != 0 && ((text = apply_config_text(state, target, &len)) ==
	    NULL || !apply_hash_is(text, len, t.hash))) {
		strbuf_printf(err, "history entry %u's config cannot be read: "
		    "%s; nothing was changed", target, text != NULL ||
		    errno == EINVAL ? "it is damaged" : strerror(errno));
		free(text);
		return -1;
	}
	/* The entry's ruleset once (compiled again when it was let go):
	 * loaded with its sets filled for now, and kept as it is by the new
	 * entry. */
	if (target != 0 &&
	    (stored = stored_ruleset(state, target, &slen)) != NULL)
		script = live_ruleset(state, target, stored, slen);
	else
		script = target != 0 ? NULL : ruleset_of(state, 0);
	if (script == NULL) {
		strbuf_printf(err, "the ruleset of history entry %u is "
		    "missing from %s, and its config cannot be compiled "
		    "again", target, state);
		free(stored);
		free(text);
		return -1;
	}
	/* The history ready for the new entry's line; when it cannot be,
	 * the ruleset goes back all the same (a revert is what lets an
	 * administrator back in), unrecorded. */
	strbuf_init(&unsure, 0);
	repaired = history_repair(state, &unsure) == 0;
	/* A record under the new entry's number is a lost entry's (a
	 * crash took its history line): it must not stand for this one's
	 * where nothing new is recorded. */
	path(to, sizeof(to), state, "history/%u.kernel", cur.seq + 1);
	unlink(to);
	if (stored != NULL)
		intercept_route(nftc_script_intercepts(stored, slen), msg);
	if (target != 0)
		rc = restore_load(state, &cur, target, stored, slen, script,
		    &ph, &gen0_ok, &gen0, err);
	else {
		memset(&ph, 0, sizeof(ph));
		rc = load_whole(script, NULL, 0, err);
	}
	*loaded = rc == 0;
	free(script);
	if (rc == -1) {
		strbuf_free(&unsure);
		free(stored);
		free(text);
		return -1;
	}
	if (target != 0)
		strbuf_printf(msg, "moat: %s: restored the ruleset of history "
		    "entry %u (%s)\n", what, target, t.file);
	else
		strbuf_printf(msg, "moat: %s: removed table inet moat (nothing "
		    "was applied before)\n", what);
	if (ph.incremental)
		strbuf_printf(msg, "moat: incremental: %s\n", ph.delta > 0 ?
		    ph.what : "nothing to change");
	else if (ph.why[0] != '\0')
		strbuf_printf(msg, "moat: whole: %s\n", ph.why);
	if (!repaired) {
		strbuf_puts(err, strbuf_str(&unsure));
		strbuf_free(&unsure);
		free(text);
		goto unrecorded;
	}
	memset(&e, 0, sizeof(e));
	e.seq = cur.seq + 1;
	e.when = time(NULL);
	/* (as apply_hash has it now: an entry of before hashed the whole
	 * text, HA secret included) */
	e.hash = target != 0 && text != NULL ? apply_hash(text, len) : t.hash;
	snprintf(e.what, sizeof(e.what), "%s", what);
	e.prev = t.prev;
	snprintf(e.file, sizeof(e.file), "%s", target != 0 ? t.file : "-");
	if (target != 0) {
		/* The restored config becomes the new entry's config. */
		/* (the history line names them next: a directory sync the
		 * disk fails is a failure) */
		path(to, sizeof(to), state, "history/%u.conf", e.seq);
		rc = write_file_flags(to, text, len, FILE_DIRSYNC, err);
		free(text);
		text = NULL;
		if (rc == -1)
			goto unrecorded;
		path(to, sizeof(to), state, "history/%u.nft", e.seq);
		if (write_file_flags(to, stored, slen, FILE_DIRSYNC, err) ==
		    -1)
			goto unrecorded;
	}
	free(stored);
	stored = NULL;
	strbuf_reset(&unsure);
	if ((rc = append_history(state, &e, &unsure)) != -1) {
		struct compact_job cj;

		if (rc == 1)
			say_unsure(&unsure, e.seq, cur.seq, msg);
		strbuf_free(&unsure);
		/* What the kernel holds now, for the next apply's drift
		 * check: without reading the table back while nothing but
		 * this restore committed (a large table is hashed by a
		 * detached child, as an apply's).  A difference of nothing
		 * left the table in force's, whose record is this entry's. */
		if (target == 0)
			record_kernel(state, e.seq, false);
		else if (ph.incremental && ph.delta == 0)
			keep_record(state, cur.seq, e.seq, gen0, true);
		else
			record_applied(state, e.seq, gen0_ok, gen0, slen,
			    lock_fd, true);
		compact_init(&cj, state, e.seq, e.prev);
		prune_rulesets(state, e.seq, e.prev, &cj);
		return 0;
	}
	strbuf_puts(err, strbuf_str(&unsure));
	strbuf_free(&unsure);
unrecorded:
	strbuf_free(&unsure);
	free(stored);
	if (target != 0)
		strbuf_printf(err, " (the ruleset of entry %u is in the kernel, "
		    "but the history does not say so)", target);
	else
		strbuf_puts(err, " (table inet moat is removed, but the history "
		    "does not say so)");
	return -1;
}

static pid_t start_watchdog(const char *state, const struct pending *pd,
    int lock_fd);

/*
 * What a pending apply --confirm needs from whoever holds the lock: past
 * its deadline, the previous ruleset back (the watchdog may have been
 * killed, or the machine was down); before it, a watchdog that runs.
 */
static int
settle_pending(const char *state, int lock_fd, struct strbuf *msg,
    struct strbuf *err)
{
	struct strbuf ignored;
	struct pending pd;
	bool loaded = false;

	if (!read_pending(state, &pd))
		return 0;
	if (time(NULL) >= pd.deadline) {
		strbuf_init(&ignored, 0);
		stop_watchdog(&pd);
		strbuf_printf(msg, "moat: the confirm time of history entry %u "
		    "ran out unconfirmed\n", pd.seq);
		/* (a revert the history could not record is still done:
		 * the confirm is settled either way) */
		if (restore_entry(state, pd.prev, "revert", lock_fd, msg, err,
		    &loaded) == -1) {
			if (loaded)
				(void)remove_pending(state, &ignored);
			strbuf_free(&ignored);
			return -1;
		}
		strbuf_free(&ignored);
		return remove_pending(state, err);
	}
	if (watchdog_alive(&pd))
		return 0;
	if ((pd.pid = start_watchdog(state, &pd, lock_fd)) == -1 ||
	    proc_start(pd.pid, &pd.start) == -1) {
		strbuf_printf(err, "the confirm watchdog of history entry %u is "
		    "gone and cannot be started again", pd.seq);
		return -1;
	}
	strbuf_printf(msg, "moat: the confirm watchdog of history entry %u was "
	    "gone; a new one (pid %lld) restores entry %u at the deadline\n",
	    pd.seq, (long long)pd.pid, pd.prev);
	return write_pending(state, &pd, err);
}

/*
 * The watchdog of apply --confirm: detached from the terminal and the shell
 * (setsid, double fork), it sleeps until the deadline, then does what any
 * later command would: restores the previous ruleset unless the pending
 * file was confirmed away.
 */
static pid_t
start_watchdog(const char *state, const struct pending *pd, int lock_fd)
{
	int fds[2];
	pid_t pid, child;
	ssize_t got;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* The inherited descriptor would keep the lock held by us. */
		close(lock_fd);
		close(fds[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		/* A confirm stops us with SIGTERM: whatever handler our
		 * parent had (moatd's sets a flag), it must end us. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		if ((child = fork()) != 0) {
			if (write(fds[1], &child, sizeof(child)) < 0)
				_exit(1);
			_exit(0);
		}
		close(fds[1]);
		if (null != -1) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* Whatever the applier held (moatd's listening sockets, its
		 * children's channels) must not live on in the watchdog. */
		if (fds_keep(NULL, 0) == -1)
			_exit(1);
		while (time(NULL) < pd->deadline)
			sleep((unsigned)(pd->deadline - time(NULL)));
		{
			struct strbuf msg, err;
			struct pending now;
			bool loaded = false;
			int lock;

			strbuf_init(&msg, 0);
			strbuf_init(&err, 0);
			if ((lock = lock_state(state, &err)) == -1)
				_exit(1);
			if (read_pending(state, &now) && now.seq == pd->seq &&
			    (restore_entry(state, now.prev, "revert", lock,
			    &msg, &err, &loaded) == 0 || loaded))
				remove_pending(state, &err);
			_exit(0);
		}
	}
	close(fds[1]);
	got = read(fds[0], &child, sizeof(child));
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return got == (ssize_t)sizeof(child) ? child : -1;
}

int
apply_recover(const char *state, struct strbuf *msg, struct strbuf *err)
{
	int lock, rc;

	if ((lock = lock_state(state, err)) == -1)
		return -1;
	rc = settle_pending(state, lock, msg, err);
	close(lock);
	return rc;
}

/*
 * Remove what an apply killed during its kernel transaction left: the
 * temporary files of its entry's config and ruleset (file_set_write's
 * SEQ.conf.XXXXXX and SEQ.nft.XXXXXX), 22 MB at 100K rules.  Under the
 * state lock no apply writes them; the drift child's SEQ.kernel.XXXXXX,
 * written without the lock, is left alone.
 */
static void
sweep_temps(const char *state)
{
	char dir[4096], file[4400];
	struct dirent *de;
	DIR *d;

	if (path(dir, sizeof(dir), state, "history", 0) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *dot = strrchr(de->d_name, '.');

		if (dot == NULL || strlen(dot + 1) != 6 ||
		    (strstr(de->d_name, ".conf.") != dot - 5 &&
		    strstr(de->d_name, ".delta.") != dot - 6 &&
		    strstr(de->d_name, ".nft.") != dot - 4))
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", dir, de->d_name) <
		    (int)sizeof(file))
			unlink(file);
	}
	closedir(d);
}

/* Remove the files of an entry that never reached the kernel. */
static void
forget_entry(const char *state, unsigned seq)
{
	char file[4096];

	path(file, sizeof(file), state, "history/%u.conf", seq);
	unlink(file);
	path(file, sizeof(file), state, "history/%u.delta", seq);
	unlink(file);
	path(file, sizeof(file), state, "history/%u.nft", seq);
	unlink(file);
	path(file, sizeof(file), state, "history/%u.kernel", seq);
	unlink(file);
}

static int
chain_handles(void *arg, const char *chain, uint64_t **v, size_t *n,
    struct strbuf *why)
{
	(void)arg;
	return nfrules_handles(NFTC_TABLE, chain, v, n, why);
}

/* An incremental apply's difference into the kernel, one transaction:
 * over moat's own netlink batch when nfdelta.h reads all of it (it does
 * not read the table first, as libnftables does), else through
 * libnftables.  0, or -1 with the kernel's reason in why. */
static int
send_delta(const char *delta, const char *old, const char *new, uint32_t gen,
    struct apply_phases *ph, struct strbuf *why)
{
	struct nfset *b = nfset_new();
	const char *refused = NULL;
	int r;

	/* Taken only at the generation the difference was made against:
	 * the handles it deletes by are that table's. */
	if (b != NULL)
		nfset_genid(b, gen);
	r = b != NULL ? nfdelta_script(b, delta, old, new, NULL, &refused) :
	    1;

#ifdef MOAT_TEST_SEAMS
	/* Test builds: the same difference through libnftables, to
	 * compare the two (tests/lab/incremental.sh). */
	if (getenv("MOAT_DELTA_NFT") != NULL && r == 0) {
		nfset_reset(b);
		r = 1;
	}
#endif
	if (r == 0) {
		r = nfset_commit(b, FEED_COMMIT_MS, why);
		strncat(ph->what, " (over netlink)", sizeof(ph->what) -
		    strlen(ph->what) - 1);
	} else {
		/* Say which line needed libnftables: the next word to
		 * teach nfrule.c. */
		if (refused != NULL)
			snprintf(ph->what + strlen(ph->what), sizeof(ph->what) -
			    strlen(ph->what), " (through libnftables: %.*s)",
			    (int)strcspn(refused, "\n") > 72 ? 72 :
			    (int)strcspn(refused, "\n"), refused);
		r = nft_run(delta, false, NULL, why);
	}
	nfset_free(b);
	return r;
}

/*
 * An entry's files written while the kernel takes the ruleset: at 100K
 * rules, 18 MB of ruleset cost the apply 60-100 ms of copying into the
 * page cache, as long as the kernel's part of an incremental apply.
 * file_set_open reserved their space first, so a full disk still changes
 * nothing; what fails here (the disk) fails the sync after the kernel,
 * which puts the previous ruleset back.  Beside a difference sent from
 * this process, in a thread (fill_start), joined before anything else
 * (no process is made while it runs: a child of a process with a thread
 * inside the allocator could wait for ever); beside a whole ruleset loaded
 * by a child, here, once the child is made (fill_wait as load_whole's
 * meanwhile).  The work touches only the files' descriptors and the bytes
 * given, which the caller keeps until fill_wait.
 */
struct fill_job {
	struct file_set		*fs;
	const struct file_new	*v;
	struct compact_job	*then;	/* made meanwhile too, or NULL */
	pthread_t		 tid;
	bool			 started, ran;
	int			 rc, err;
};

static void *
fill_run(void *arg)
{
	struct fill_job *j = arg;

	j->rc = file_set_fill(j->fs, j->v);
	j->err = errno;
	j->ran = true;
	return NULL;
}

static void
fill_start(struct fill_job *j)
{
	if (!j->ran && !j->started)
		j->started = pthread_create(&j->tid, NULL, fill_run, j) == 0;
}

static void
fill_join(struct fill_job *j)
{
	if (j->started) {
		pthread_join(j->tid, NULL);
		j->started = false;
	}
}

/* 0, or -1 with errno: the files' bytes written (here, when no thread
 * did), or not. */
static int
fill_wait(struct fill_job *j)
{
	fill_join(j);
	if (!j->ran)
		fill_run(j);
	if (j->rc == -1)
		errno = j->err;
	return j->rc;
}

/* A whole load's work beside the child: the entry's files, then the
 * history's compaction. */
static void
fill_meanwhile(void *arg)
{
	struct fill_job *j = arg;

	(void)fill_wait(j);
	if (j->then != NULL)
		compact_wait(j->then);
}

/*
 * A whole ruleset (moat's compiled text, or one of the history's) into the
 * kernel in one transaction: over moat's own batch when nfdelta.h reads
 * every line of it (libnftables' parse and evaluation of the text are
 * about a third of a 100,000-rule load), else through libnftables.  When
 * the kernel refuses moat's batch (nothing changed), libnftables runs
 * the text: its refusal, if it refuses too, is the one that names a line.
 * how (when not NULL, size n) says which way it went.  0, or -1 with the
 * kernel's reason in err.
 */
static int
load_here(const char *script, char *how, size_t n, struct strbuf *err)
{
	struct nfset *b = nfset_new();
	const char *refused = NULL;
	struct strbuf why;
	int r;

	strbuf_init(&why, 0);
	/* The batch's room at once: it is 3.05-3.07 bytes for each of the
	 * text, 3.25 asked (a failure here is only room not taken: the
	 * batch grows). */
	if (b != NULL)
		(void)nfset_reserve(b, strlen(script) / 4 * 13);
	r = b != NULL ? nfdelta_script(b, script, NULL, NULL, NULL, &refused) :
	    -1;
	if (r == -1)
		strbuf_puts(&why, "out of memory");
#ifdef MOAT_TEST_SEAMS
	/* Test builds: through libnftables all the same, to compare; or
	 * the kernel's refusal of moat's batch, played. */
	if (r == 0 && getenv("MOAT_WHOLE_NFT") != NULL) {
		nfset_reset(b);
		r = 1;
		refused = NULL;
	} else if (r == 0 && getenv("MOAT_WHOLE_REFUSE") != NULL) {
		nfset_reset(b);
		strbuf_puts(&why, "a refusal played by a test");
		r = -1;
	}
#endif
	if (r == 0 && (r = nfset_commit(b, FEED_COMMIT_MS, &why)) == 0)
		snprintf(how, n, "over netlink");
	else {
		/* Nothing changed: one transaction.  libnftables loads the
		 * same text, and if it refuses it too, its reason names a
		 * line. */
		if (r == -1)
			snprintf(how, n, "through libnftables: moat's batch: %s",
			    strbuf_str(&why));
		else if (refused != NULL)
			snprintf(how, n, "through libnftables: %.*s",
			    (int)strcspn(refused, "\n") > 72 ? 72 :
			    (int)strcspn(refused, "\n"), refused);
		else
			snprintf(how, n, "through libnftables");
		/* (the batch's room not held while libnftables makes its
		 * own: 40 MB at 100K rules) */
		nfset_free(b);
		b = NULL;
		r = nft_run(script, false, NULL, err);
	}
	how[strcspn(how, "\n")] = '\0';
	strbuf_free(&why);
	nfset_free(b);
	return r;
}

struct whole_job {
	const char	*script;
};

/* How long a whole load may take (apart.h); a test build's
 * MOAT_LOAD_DEADLINE_MS shortens it. */
static long long
load_ms(void)
{
#ifdef MOAT_TEST_SEAMS
	const char *s = getenv("MOAT_LOAD_DEADLINE_MS");

	if (s != NULL && atoll(s) > 0 && atoll(s) < APART_MS_MAX)
		return atoll(s);
#endif
	return APART_LOAD_MS;
}

/* In the child: how it went, a newline, the kernel's reason. */
static int
whole_job(void *arg, struct strbuf *out)
{
	struct whole_job *j = arg;
	char how[256];
	struct strbuf err;
	int r;

	strbuf_init(&err, 0);
#ifdef MOAT_TEST_SEAMS
	/* A test build: a load that never ends, played. */
	if (getenv("MOAT_WHOLE_HANG") != NULL)
		for (;;)
			pause();
#endif
	r = load_here(j->script, how, sizeof(how), &err);
	strbuf_printf(out, "%s\n%s", how, strbuf_str(&err));
	strbuf_free(&err);
	return r;
}

static int	load_whole_with(const char *, char *, size_t, struct strbuf *,
		    struct fill_job *);

static int
load_whole(const char *script, char *how, size_t n, struct strbuf *err)
{
	return load_whole_with(script, how, n, err, NULL);
}

/* load_whole, fill's files written meanwhile (when not NULL). */
static int
load_whole_with(const char *script, char *how, size_t n, struct strbuf *err,
    struct fill_job *fill)
{
	struct whole_job j = { script };
	char ignored[256];
	struct strbuf out;
	const char *nl;
	size_t min;
	int r;

	if (how == NULL) {
		how = ignored;
		n = sizeof(ignored);
	}
	/* A large ruleset is loaded by a child that exits after it, as
	 * nft_run does: moatd's parent keeps none of the batch's memory. */
	min = APART_MIN;
#ifdef MOAT_TEST_SEAMS
	if (getenv("MOAT_WHOLE_APART") != NULL)
		min = 0;	/* a test's small ruleset by the child too */
#endif
	if (strlen(script) < min) {
		r = load_here(script, how, n, err);
		if (fill != NULL)
			(void)fill_wait(fill);
		return r;
	}
	strbuf_init(&out, 0);
	r = apart_run_with(whole_job, &j, &out, 64u << 10, load_ms(),
	    fill != NULL ? fill_meanwhile : NULL, fill);
	if (r == APART_LATE) {
		/* Stopped: whether the kernel took the transaction is not
		 * known.  The history does not say it did; the next apply's
		 * drift check reads the kernel. */
		snprintf(how, n, "stopped");
		strbuf_printf(err, "the ruleset's load did not finish within "
		    "%lld %s and was stopped; the kernel may hold the old "
		    "ruleset or the new one", load_ms() % 1000 != 0 ?
		    load_ms() : load_ms() / 1000, load_ms() % 1000 != 0 ?
		    "ms" : "s");
		strbuf_free(&out);
		return -1;
	}
	if ((nl = memchr(strbuf_str(&out), '\n', out.len)) != NULL) {
		snprintf(how, n, "%.*s", (int)(nl - strbuf_str(&out)),
		    strbuf_str(&out));
		strbuf_puts(err, nl + 1);
	} else
		snprintf(how, n, "(no word from the loading process)");
	if (r == -1 && err->len == 0)
		strbuf_puts(err, "the kernel refused the ruleset");
	strbuf_free(&out);
	return r;
}

/*
 * The difference from the ruleset of entry cur (in force) to script, into
 * delta (doc/design/incremental.md): 0, or 1 with ph->why (the whole must
 * go), or -1 when memory ran out.  Only when the kernel holds what cur
 * applied: its generation unchanged since, or its hash the same.
 */
static int
plan_delta(const char *state, const struct history_entry *cur,
    struct file_view *oldp, const char *script, size_t slen,
    struct strbuf *delta, struct strbuf *parts, uint32_t *gck,
    struct apply_phases *ph)
{
	struct nftdiff_stats st;
	struct strbuf why;
	struct file_view old;
	char file[4096];
	long long t;
	unsigned max_pct = APPLY_DELTA_MAX_PCT;
	int rc;

	/* Nothing in force: a whole apply is the only kind, and no news. */
	if (cur->seq == 0 || strcmp(cur->file, "-") == 0)
		return 1;
	t = clock_ms();
	/* The difference is computed against the kernel as it is at this
	 * generation; it is sent only if the kernel is still at it. */
	if (nfgen_read(gck) == -1) {
		snprintf(ph->why, sizeof(ph->why), "the kernel's ruleset "
		    "generation cannot be read");
		return 1;
	}
	/* (apply_drift: the generation recorded, else the table hashed;
	 * and the table's flags either way) */
	{
		enum apply_drift d = drift_of(state, cur->seq, true);

		if (d != DRIFT_NONE) {
			if (d == DRIFT_CHANGED)
				snprintf(ph->why, sizeof(ph->why), "table inet "
				    "moat was changed since history entry %u "
				    "was applied (drift)", cur->seq);
			else
				snprintf(ph->why, sizeof(ph->why), "%s",
				    d == DRIFT_NO_TABLE ? "no table inet moat "
				    "in the kernel" : dynamic_moved_once(state) ==
				    2 ? "what the sets of the devices' addresses "
				    "hold was not recorded for the entry in force" :
				    "the kernel's ruleset was not recorded for "
				    "the entry in force");
			ph->drift = clock_ms() - t;
			return 1;
		}
	}
	{
		uint32_t now;

		if (nfgen_read(&now) == -1 || now != *gck) {
			snprintf(ph->why, sizeof(ph->why), "the kernel's "
			    "ruleset changed while moat read it");
			ph->drift = clock_ms() - t;
			return 1;
		}
	}
	ph->drift = clock_ms() - t;
	t = clock_ms();
	path(file, sizeof(file), state, "history/%u.nft", cur->seq);
	/* (mapped: at 100K rules, 13 MB read took 70-100 ms here) */
	if (file_view(file, &old) == -1) {
		snprintf(ph->why, sizeof(ph->why), "the ruleset of history "
		    "entry %u is missing", cur->seq);
		return 1;
	}
	strbuf_init(&why, 0);
#ifdef MOAT_TEST_SEAMS
	/* Test builds: a difference of any size (tests/lab/incremental.sh:
	 * every edit goes as a difference). */
	if (getenv("MOAT_DELTA_MAX_PCT") != NULL)
		max_pct = (unsigned)atoi(getenv("MOAT_DELTA_MAX_PCT"));
#endif
	rc = nftdiff(old.s, old.len, script, slen, max_pct, chain_handles,
	    NULL, delta, parts, &st, &why);
	/* The ruleset in force stays for the difference's sending: a set's
	 * elements are named from both (nfdelta.h). */
	if (rc == 0)
		*oldp = old;
	else
		file_view_drop(&old);
	ph->diff = clock_ms() - t;
	if (rc != 0) {
		snprintf(ph->why, sizeof(ph->why), "%s", strbuf_str(&why));
		strbuf_free(&why);
		return rc;
	}
	strbuf_free(&why);
	ph->delta = delta->len;
#ifdef MOAT_TEST_SEAMS
	/* Test builds: the difference and its parts, to read. */
	if (getenv("MOAT_DELTA_OUT") != NULL) {
		struct strbuf ignored;

		strbuf_init(&ignored, 0);
		write_file(getenv("MOAT_DELTA_OUT"), strbuf_str(delta),
		    delta->len, &ignored);
		strbuf_free(&ignored);
	}
#endif
	snprintf(ph->what, sizeof(ph->what), "%zu rule%s added, %zu deleted "
	    "in %zu chain%s; %zu element%s added, %zu deleted; chains %zu+ "
	    "%zu-, sets %zu+ %zu-, counters %zu+ %zu-", st.rules_added,
	    st.rules_added == 1 ? "" : "s", st.rules_deleted,
	    st.chains_changed, st.chains_changed == 1 ? "" : "s",
	    st.elems_added, st.elems_added == 1 ? "" : "s", st.elems_deleted,
	    st.chains_added, st.chains_deleted, st.sets_added,
	    st.sets_deleted, st.counters_added, st.counters_deleted);
	return 0;
}

int
apply_policy(const char *state, const struct policy *p, const char *text,
    size_t len, unsigned flags, unsigned confirm_secs,
    struct apply_phases *ph, struct strbuf *msg, struct strbuf *err)
{
	struct strbuf script;
	long long t = clock_ms();
	int c;

	strbuf_init(&script, 0);
	if ((c = nftc_compile(p, &script)) == -1)
		strbuf_free(&script);
	return apply_policy_compiled(state, p, text, len, flags, confirm_secs,
	    c == 0 ? &script : NULL, clock_ms() - t, ph, msg, err);
}

int
apply_policy_compiled(const char *state, const struct policy *p,
    const char *text, size_t len, unsigned flags, unsigned confirm_secs,
    struct strbuf *compiled, long long compile_ms, struct apply_phases *ph,
    struct strbuf *msg, struct strbuf *err)
{
	struct history_entry cur, e;
	struct apply_phases none;
	struct pending pd;
	struct strbuf script, kernel, delta, parts;
	struct file_set *hist = NULL;	/* the entry's files, until synced */
	struct file_new two[2];
	struct fill_job fill = { 0 };
	struct compact_job cj = { 0 };	/* the history's compaction */
	char hist_conf[4096], hist_nft[4096];
	struct parts pt = { 0 };
	uint64_t h_old = 0, s_old = 0, s_new;
	uint32_t g_rec, g0 = 0, g1;
	bool files = false, waiting = false, by_parts = false, synced;
	bool hash_ok = false, gen_ok = false, gen0_ok = false;
	uint32_t gen0 = 0, gck = 0;
	int lock = -1, rc = -1;
	long long t;
	unsigned keep;		/* the entry the new one goes back to */
	struct file_view old_script = { 0 };	/* the entry in force's,
						   for a delta */
	struct strbuf unsure;		/* why the history's line may not last */
	int appended = -1;

	strbuf_init(&unsure, 0);
	if (ph == NULL)
		ph = &none;
	memset(ph, 0, sizeof(*ph));
	/* (the compiled ruleset is ours from here; none: out of memory) */
	if (compiled != NULL) {
		script = *compiled;
		strbuf_init(compiled, 0);
	} else
		strbuf_init(&script, 0);
	strbuf_init(&delta, 0);
	strbuf_init(&parts, 0);
	ph->compile = compile_ms;
	if (compiled == NULL) {
		strbuf_puts(err, "out of memory");
		goto out;
	}
	ph->script = script.len;
	if (flags & APPLY_DRY_RUN) {
		t = clock_ms();
		rc = nft_run(strbuf_str(&script), true, NULL, err);
		ph->kernel = clock_ms() - t;
		if (rc == 0)
			strbuf_printf(msg, "moat: dry run: the kernel accepts "
			    "the ruleset of %s (nothing changed)\n", p->file);
		goto out;
	}
	if ((lock = lock_state(state, err)) == -1 ||
	    settle_pending(state, lock, msg, err) == -1 ||
	    current(state, &cur, err) == -1)
		goto out;
	if (history_repair(state, err) == -1) {
		strbuf_puts(err, "; nothing was changed");
		goto out;
	}
	sweep_temps(state);
	if (read_pending(state, &pd)) {
		strbuf_printf(err, "an apply --confirm (history entry %u) is "
		    "waiting: run moat confirm or moat rollback first",
		    pd.seq);
		goto out;
	}
	/* The history's compaction meanwhile: beside the difference's
	 * planning, in a thread joined before any process is made; for a
	 * whole apply, while the kernel takes the ruleset (fill_meanwhile).
	 * What it wrote goes back if the entry is not recorded. */
	keep = cur.seq != 0 && strcmp(cur.file, "-") != 0 ? cur.seq : 0;
	compact_init(&cj, state, cur.seq + 1, keep);
	fill.then = &cj;
	/* Only the difference, when the kernel holds the entry in force. */
	if (flags & APPLY_WHOLE)
		snprintf(ph->why, sizeof(ph->why), "asked for");
	else {
		int r;

		compact_start(&cj);
		r = plan_delta(state, &cur, &old_script, strbuf_str(&script),
		    script.len, &delta, &parts, &gck, ph);
		t = clock_ms();
		compact_join(&cj);
		ph->record += clock_ms() - t;
		if (r == -1) {
			strbuf_puts(err, "out of memory");
			goto out;
		}
		ph->incremental = r == 0;
	}
	/* The policy route before rules that intercept, when they go in
	 * whole (a boot, a lost table) or come first in a difference: a
	 * difference from a ruleset that intercepts already finds the one
	 * its load set up (four ip(8) processes, 6 ms, spared each one). */
	intercept_route(nftc_intercepts(p) && (!ph->incremental ||
	    old_script.s == NULL || !nftc_script_intercepts(old_script.s,
	    old_script.len)), msg);
#ifdef MOAT_TEST_SEAMS
	/* Test builds: more commands in the same transaction, to make the
	 * kernel refuse it (tests/lab/foreign.sh, tests/lab/incremental.sh). */
	if (getenv("MOAT_NFT_INJECT") != NULL) {
		strbuf_printf(&script, "%s\n", getenv("MOAT_NFT_INJECT"));
		strbuf_printf(&delta, "%s\n", getenv("MOAT_NFT_INJECT"));
	}
#endif
	memset(&e, 0, sizeof(e));
	e.seq = cur.seq + 1;
	e.when = time(NULL);
	e.hash = apply_hash(text, len);
	snprintf(e.what, sizeof(e.what), "apply");
	e.prev = keep;
	snprintf(e.file, sizeof(e.file), "%s", p->file);
	/*
	 * Everything that undoes this apply is on disk, synced, before the
	 * kernel changes: for --confirm the pending file with its deadline
	 * and a watchdog already waiting (the entry in force's files are
	 * there since it was applied).  The entry's own config and ruleset
	 * (at 100K rules, 4.5 MB and 18 MB) are temporary files made now,
	 * their space reserved, and their bytes written while the kernel
	 * works (struct fill_job), write-back started at once; they are
	 * synced and put in place after the kernel took the ruleset, before
	 * the history line that makes the entry the one in force.  Until
	 * that line the entry is no one's: a crash before it leaves the
	 * history's last entry in force, as a crash before the kernel
	 * changed would.  A state that cannot be written
	 * changes nothing; files that cannot be synced put the previous
	 * ruleset back, as a history line that cannot be appended does.
	 */
	files = true;
	t = clock_ms();
	/* (a lost entry's record under this number: restore_entry) */
	path(hist_conf, sizeof(hist_conf), state, "history/%u.kernel", e.seq);
	unlink(hist_conf);
	path(hist_conf, sizeof(hist_conf), state, "history/%u.conf", e.seq);
	path(hist_nft, sizeof(hist_nft), state, "history/%u.nft", e.seq);
	two[0] = (struct file_new){ hist_conf, text, len };
	two[1] = (struct file_new){ hist_nft, strbuf_str(&script),
	    script.len };
	if ((hist = malloc(sizeof(*hist))) == NULL) {
		strbuf_puts(err, "out of memory");
		goto out;
	}
	/* Their space now (a full disk changes nothing), their bytes
	 * while the kernel works (struct fill_job). */
	if (file_set_open(hist, two, 2, 0644) == -1) {
		strbuf_printf(err, "%s, %s: %s", hist_conf, hist_nft,
		    strerror(errno));
		goto out;
	}
	fill.fs = hist;
	fill.v = two;
	if (confirm_secs > 0) {
		memset(&pd, 0, sizeof(pd));
		pd.seq = e.seq;
		pd.prev = e.prev;
		pd.deadline = time(NULL) + confirm_secs;
		if ((pd.pid = start_watchdog(state, &pd, lock)) == -1 ||
		    proc_start(pd.pid, &pd.start) == -1) {
			strbuf_puts(err, "cannot start the confirm watchdog");
			goto out;
		}
		waiting = true;
		if (write_pending(state, &pd, err) == -1)
			goto out;
	}
	ph->record += clock_ms() - t;
	/* The parts the difference changes, as they are before it (the
	 * entry's hash holds them: nothing was committed since). */
	t = clock_ms();
	/* (the record read once, after parts_split, which empties pt: pt
	 * keeps it for the new entry's, and an empty difference's, lines) */
	by_parts = ph->incremental && parts_split(&parts, &pt) == 0 &&
	    recorded(state, cur.seq, &hash_ok, &h_old, &gen_ok, &g_rec,
	    &pt.record) == 0 && hash_ok && gen_ok && parts_before(&pt, &s_old,
	    &g0) == 0 && g0 == g_rec;
	ph->fingerprint = clock_ms() - t;
	t = clock_ms();
	if (ph->incremental) {
		struct strbuf why;

		/* One transaction too: taken whole or refused whole.  A
		 * refused difference leaves the entry in force as it was,
		 * and the whole is tried. */
		strbuf_init(&why, 0);
		gen0_ok = nfgen_read(&gen0) == 0;
		/* Something committed since the drift check (another nft,
		 * moatd's refill): the difference, and the handles it
		 * deletes by, may be of another table: the whole goes. */
		if (!gen0_ok || gen0 != gck) {
			ph->incremental = false;
			by_parts = false;
			snprintf(ph->why, sizeof(ph->why), "the kernel's "
			    "ruleset changed during the apply");
		} else if (delta.len > 0) {
			/* (nothing to send: the generation stays) */
			int sent;

			fill_start(&fill);	/* the files meanwhile */
			sent = send_delta(strbuf_str(&delta), old_script.s,
			    strbuf_str(&script), gen0, ph, &why);
			fill_join(&fill);
			if (sent == -1) {
				ph->incremental = false;
				by_parts = false;
				snprintf(ph->why, sizeof(ph->why), "the kernel "
				    "refused the difference: %s",
				    strbuf_str(&why));
			}
		}
		strbuf_free(&why);
	}
	/* The feeds' elements go with it, but not into the history. */
	strbuf_init(&kernel, 0);
	if (!ph->incremental && policy_nfeeds(p) > 0 && with_feeds(state, p,
	    strbuf_str(&script), script.len, &kernel) == -1) {
		strbuf_free(&kernel);
		strbuf_puts(err, "out of memory");
		goto out;
	}
	/* The kernel refuses or takes the whole transaction. */
	if (!ph->incremental)
		gen0_ok = nfgen_read(&gen0) == 0;
	rc = ph->incremental ? 0 : load_whole_with(policy_nfeeds(p) > 0 ?
	    strbuf_str(&kernel) : strbuf_str(&script), ph->how,
	    sizeof(ph->how), err, &fill);
	strbuf_free(&kernel);
	ph->kernel = clock_ms() - t;
	if (rc == -1)
		goto out;
	rc = -1;
	t = clock_ms();
	synced = fill_wait(&fill) == 0 && file_set_commit(hist) == 0;
	if (!synced)
		strbuf_printf(err, "%s, %s: %s", hist_conf, hist_nft,
		    strerror(errno));
	ph->record += clock_ms() - t;
	/* (a line the disk did not confirm stays: said below) */
	if (synced && (appended = append_history(state, &e, &unsure)) == -1)
		strbuf_puts(err, strbuf_str(&unsure));
	if (!synced || appended == -1) {
		struct strbuf why;
		struct dyn_rec dr;
		char *back = ruleset_of(state, e.prev);

		/* In the kernel, not in the history: put the previous
		 * ruleset back rather than run one nobody can roll back. */
		strbuf_init(&why, 0);
		dr = dyn_next(true);
		if (back == NULL || nft_run(back, false, NULL, &why) == -1)
			strbuf_printf(err, "; and restoring the previous ruleset "
			    "failed: %s", strbuf_str(&why));
		else {
			record_dynamic(state, dr);
			strbuf_puts(err, "; the previous ruleset is back");
		}
		strbuf_free(&why);
		free(back);
		goto out;
	}
	files = false;
	waiting = false;
	t = clock_ms();
	prune_rulesets(state, e.seq, e.prev, &cj);
	ph->record += clock_ms() - t;
	t = clock_ms();
	/* Only ours was committed since (one generation on): the entry's
	 * hash is the one before, less the parts before, plus the parts
	 * after.  Else the table is read whole. */
	if (ph->incremental && delta.len == 0) {
		/* Nothing was sent: the kernel holds the entry in force's
		 * table, whose record is this entry's while nothing else
		 * committed (keep_record: a generation alone when the
		 * record has no hash of this kind, one of a build before or
		 * one still being taken); else it is not known. */
		keep_record(state, cur.seq, e.seq, gck,
		    policy_ndynamic(p) > 0);
	} else if (by_parts && parts_hash(&pt, &s_new, &g1) == 0 &&
	    g1 == g0 + 1) {
		struct strbuf lines;
		size_t n;

		/* The parts this difference read after it, then those the
		 * entry in force kept that it did not change: the same at
		 * this generation, ours having changed only its parts. */
		strbuf_init(&lines, 0);
		n = parts_lines(&pt, &lines);
		parts_kept_lines(pt.record, &lines, &pt, PARTS_KEPT_MAX - n);
		write_kernel(state, e.seq, true, h_old - s_old + s_new, true,
		    g1, strbuf_failed(&lines) ? NULL : strbuf_str(&lines));
		strbuf_free(&lines);
		/* (the difference may have filled them: an address that
		 * moved, a set of a rule side come or gone) */
		record_dynamic(state, (struct dyn_rec){ .any =
		    policy_ndynamic(p) > 0, .bound = true, .gen = g1 });
#ifdef MOAT_TEST_SEAMS
		/* Test builds: the sum checked against the table's. */
		if (getenv("MOAT_FINGERPRINT_CHECK") != NULL) {
			struct strbuf ignored;
			uint64_t whole;

			strbuf_init(&ignored, 0);
			if (nfhash_sum(NFTC_TABLE, &whole, NULL, &ignored) !=
			    0 || whole != h_old - s_old + s_new)
				fprintf(stderr, "moat: test: the fingerprint "
				    "by parts %016llx is not the table's "
				    "%016llx\n", (unsigned long long)(h_old -
				    s_old + s_new), (unsigned long long)whole);
			strbuf_free(&ignored);
		}
#endif
	} else
		record_applied(state, e.seq, gen0_ok, gen0, script.len, lock,
		    policy_ndynamic(p) > 0);
	ph->fingerprint += clock_ms() - t;
	strbuf_printf(msg, "moat: applied %s as history entry %u (%zu rule%s, "
	    "hash %016llx)\n", p->file, e.seq, p->nrule, p->nrule == 1 ? "" :
	    "s", (unsigned long long)e.hash);
	if (ph->incremental)
		strbuf_printf(msg, "moat: incremental: %s\n", ph->what);
	if (appended == 1)
		say_unsure(&unsure, e.seq, cur.seq, msg);
	if (confirm_secs > 0)
		strbuf_printf(msg, "moat: run 'moat confirm' within %u seconds "
		    "to keep it; otherwise the previous ruleset comes back "
		    "(watchdog pid %lld)\n", confirm_secs, (long long)pd.pid);
	rc = 0;
out:
	if (waiting) {
		struct strbuf ignored;

		strbuf_init(&ignored, 0);
		remove_pending(state, &ignored);
		stop_watchdog(&pd);
		strbuf_free(&ignored);
	}
	if (hist != NULL) {
		fill_join(&fill);
		file_set_abandon(hist);
		free(hist);
	}
	if (files)
		forget_entry(state, e.seq);
	/* (not recorded: the compaction's differences go back) */
	compact_finish(&cj, false);
	if (lock != -1)
		close(lock);
	strbuf_free(&script);
	strbuf_free(&delta);
	file_view_drop(&old_script);
	strbuf_free(&parts);
	parts_free(&pt);
	strbuf_free(&unsure);
	return rc;
}

int
apply_confirm(const char *state, struct strbuf *msg, struct strbuf *err)
{
	struct pending pd;
	int lock, rc = -1;

	if ((lock = lock_state(state, err)) == -1)
		return -1;
	if (settle_pending(state, lock, msg, err) == -1)
		goto out;
	if (!read_pending(state, &pd)) {
		strbuf_puts(err, "nothing to confirm");
		goto out;
	}
	/* The file first: a watchdog that wakes now finds nothing to do. */
	if (remove_pending(state, err) == -1)
		goto out;
	stop_watchdog(&pd);
	strbuf_printf(msg, "moat: confirmed history entry %u\n", pd.seq);
	rc = 0;
out:
	close(lock);
	return rc;
}

int
apply_rollback(const char *state, struct strbuf *msg, struct strbuf *err)
{
	return apply_restore(state, 0, msg, err);
}

int
apply_restore(const char *state, unsigned seq, struct strbuf *msg,
    struct strbuf *err)
{
	return apply_restore_confirm(state, seq, 0, msg, err);
}

int
apply_restore_confirm(const char *state, unsigned seq, unsigned confirm_secs,
    struct strbuf *msg, struct strbuf *err)
{
	struct history_entry cur, e;
	struct pending pd, pd2 = { 0 };
	bool pending, loaded = false;
	int lock, r, rc = -1;

	if ((lock = lock_state(state, err)) == -1)
		return -1;
	if (settle_pending(state, lock, msg, err) == -1 ||
	    current(state, &cur, err) == -1)
		goto out;
	if (seq == 0 && (cur.seq == 0 || strcmp(cur.file, "-") == 0)) {
		strbuf_puts(err, "nothing to roll back: no policy is applied");
		goto out;
	}
	if (seq != 0 && (entry(state, seq, &e, &cur, err) == -1 ||
	    e.seq != seq || strcmp(e.file, "-") == 0)) {
		if (err->len == 0)
			strbuf_printf(err, "history entry %u has no ruleset to "
			    "restore", seq);
		goto out;
	}
	pending = read_pending(state, &pd);
	/* With a confirm, as an apply's, the watchdog and the pending record
	 * first, before the kernel changes (a rollback that cut the admin
	 * off is put back even if moatd dies meanwhile): unless confirmed in
	 * time, what was in force before comes back (what a pending confirm
	 * would have come back to, when one waited; nothing when the entry
	 * in force removed the table).  The entry restore_entry records is
	 * cur.seq + 1. */
	if (confirm_secs > 0) {
		memset(&pd2, 0, sizeof(pd2));
		pd2.seq = cur.seq + 1;
		pd2.prev = pending ? pd.prev : cur.seq != 0 &&
		    strcmp(cur.file, "-") != 0 ? cur.seq : 0;
		pd2.deadline = time(NULL) + confirm_secs;
		if ((pd2.pid = start_watchdog(state, &pd2, lock)) == -1 ||
		    proc_start(pd2.pid, &pd2.start) == -1) {
			strbuf_puts(err, "cannot start the confirm watchdog: "
			    "nothing was restored");
			goto out;
		}
		if (write_pending(state, &pd2, err) == -1) {
			stop_watchdog(&pd2);
			goto out;
		}
	}
	/* (a rollback the history could not record still ends a confirm's
	 * wait: the ruleset it would restore is not the one in force) */
	if ((r = restore_entry(state, seq != 0 ? seq : cur.prev, "rollback",
	    lock, msg, err, &loaded)) == -1 && !loaded) {
		struct strbuf ignored;

		/* nothing changed: the confirm that waited waits on */
		strbuf_init(&ignored, 0);
		if (confirm_secs > 0) {
			stop_watchdog(&pd2);
			if (pending)
				(void)write_pending(state, &pd, &ignored);
			else
				(void)remove_pending(state, &ignored);
		}
		strbuf_free(&ignored);
		goto out;
	}
	if (r == -1) {
		struct strbuf ignored;

		/* in the kernel, not recorded: with a confirm, its watchdog
		 * puts back what was before at the deadline */
		strbuf_init(&ignored, 0);
		if (pending && (confirm_secs > 0 || remove_pending(state,
		    &ignored) == 0))
			stop_watchdog(&pd);
		strbuf_free(&ignored);
		goto out;
	}
	if (pending) {
		if (confirm_secs == 0 && remove_pending(state, err) == -1)
			goto out;
		stop_watchdog(&pd);
	}
	if (confirm_secs > 0 && pd2.prev != 0)
		strbuf_printf(msg, "moat: confirm within %u s, or entry %u "
		    "comes back\n", confirm_secs, pd2.prev);
	else if (confirm_secs > 0)
		strbuf_printf(msg, "moat: confirm within %u s, or the table "
		    "goes again, as it was\n", confirm_secs);
	rc = 0;
out:
	close(lock);
	return rc;
}

int
apply_fallback(const char *state, const char *lan_device, unsigned *seq,
    struct strbuf *msg, struct strbuf *err)
{
	struct history_entry cur;
	struct dyn_rec dr;
	char *script = NULL;
	struct strbuf lock_b;
	int lock, rc = -1;

	*seq = 0;
	strbuf_init(&lock_b, 0);
	if ((lock = lock_state(state, err)) == -1)
		return -1;
	if (current(state, &cur, err) == -1)
		goto out;
	if (cur.seq != 0 && strcmp(cur.file, "-") != 0 &&
	    (script = ruleset_of(state, cur.seq)) != NULL) {
		dr = dyn_next(true);
		intercept_route(nftc_script_intercepts(script,
		    strlen(script)), msg);
		if (load_whole(script, NULL, 0, err) == -1)
			goto out;
		record_dynamic(state, dr);
		*seq = cur.seq;
		strbuf_printf(msg, "moat: put back the ruleset of history entry "
		    "%u (%s), the last one applied\n", cur.seq, cur.file);
		rc = 0;
		goto out;
	}
	if (nftc_lockdown(lan_device, &lock_b) == -1) {
		strbuf_puts(err, "out of memory");
		goto out;
	}
	if (nft_run(strbuf_str(&lock_b), false, NULL, err) == -1)
		goto out;
	record_dynamic(state, (struct dyn_rec){ .any = false });
	strbuf_printf(msg, "moat: no history either: applied the lockdown "
	    "ruleset (everything dropped but loopback, established traffic%s)"
	    "\n", lan_device != NULL ? " and SSH, HTTP, HTTPS from the LAN" :
	    "; no LAN device is known, so not even SSH is open");
	rc = 0;
out:
	free(script);
	strbuf_free(&lock_b);
	close(lock);
	return rc;
}

int
apply_dynamic(const char *state, const struct binding *b, struct strbuf *msg,
    struct strbuf *err)
{
	struct history_entry cur;
	struct dyn_rec dr;
	struct strbuf script;
	bool by_hand;
	int lock, rc = -1;

	strbuf_init(&script, 0);
	if ((lock = lock_state(state, err)) == -1)
		return -1;
	if (current(state, &cur, err) == -1)
		goto out;
	rc = 0;
	/* Nothing applied, or not moat's table any more (a reboot, nft by
	 * hand): no sets of ours to fill. */
	if (cur.seq == 0 || strcmp(cur.file, "-") == 0 ||
	    nfgen_table_exists(NFTC_TABLE) == 0)
		goto out;
	if ((rc = live_sets(state, cur.seq, b, NULL, 0, &script, err)) == -1 ||
	    script.len == 0)
		goto out;
	/* The refill puts right what was changed by hand: said, since the
	 * evidence goes with it. */
	by_hand = dynamic_moved_once(state) == 1;
	dr = dyn_next(true);
	if ((rc = nft_run(strbuf_str(&script), false, NULL, err)) == 0) {
		record_dynamic(state, dr);
		if (by_hand)
			strbuf_puts(msg, "moat: warning: the sets of the "
			    "devices' addresses held what moat had not written "
			    "(changed by hand, or by another tool); the refill "
			    "puts them right\n");
		strbuf_printf(msg, "moat: the dynamic addresses of history "
		    "entry %u now hold what the devices have\n", cur.seq);
		rc = 1;
	}
out:
	strbuf_free(&script);
	close(lock);
	return rc;
}

/* True when a rule side or an object mixes a feed object with more: a
 * set of its own that holds the feed's addresses too (nftc.h). */
static bool
mixes_feeds(const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nobject; i++)
		if (p->objects[i]->kind == OBJ_USER &&
		    policy_expr_has_feed(&p->objects[i]->members))
			return true;
	for (i = 0; i < p->nrule; i++) {
		const struct addr_expr *x[2] = { &p->rules[i]->src,
		    &p->rules[i]->dst };
		int k;

		for (k = 0; k < 2; k++)
			if (policy_expr_has_feed(x[k]) && (x[k]->n != 1 ||
			    !policy_object_feed(x[k]->v[0].obj)))
				return true;
	}
	return false;
}

/* The binding of an update: the new contents for one feed, the state
 * directory's for the others. */
struct feed_override {
	const char	*state, *name;
	struct iset	 now;
};

static int
override_feed(void *arg, const struct object *o, struct arena *a,
    struct iset *out)
{
	struct feed_override *ov = arg;

	if (strcmp(o->name, ov->name) == 0) {
		*out = ov->now;
		return 0;
	}
	return feedstore_load(ov->state, o->name, feedstore_key(o), a, out,
	    NULL);
}

struct feed_update {
	const char	*state, *name;
	uint64_t	 key;
	struct iset	 now;
	struct arena	 a;
	struct iset	 was;
	bool		 have_was;
	struct feedstore_info was_info;	/* the stored copy's header */
};

static int
load_was(void *arg)
{
	struct feed_update *u = arg;

	u->have_was = feedstore_load(u->state, u->name, u->key, &u->a,
	    &u->was, &u->was_info) == 0;
	return 0;
}

#define UNCHANGED_SAVE_SECS 3600	/* an unchanged copy's age, rewritten */

struct feed_batch_job {
	struct feed_update	*u;
	bool			 fill;
	struct nfset		*b;
	size_t			*changed;
	int			 rc;
};

static bool
ival_before(const struct ival *x, const struct ival *y)
{
	return x->lo < y->lo || (x->lo == y->lo && x->hi < y->hi);
}

/*
 * The kernel's elements are exactly the intervals moat wrote (its sets
 * merge nothing), so two sorted lists of intervals compare element by
 * element: one only in was is deleted, one only in now is added, the
 * deletions first.  fill: the sets flushed and filled whole instead.
 */
static int
feed_batch_run(void *arg)
{
	struct feed_batch_job *j = arg;
	struct feed_update *u = j->u;
	int f;

	*j->changed = 0;
	for (f = FAM_V4; f <= FAM_V6; f++) {
		struct iset was = nftc_family_part(&u->a, u->was, f);
		struct iset now = nftc_family_part(&u->a, u->now, f);
		struct strbuf set;
		size_t a = 0, b = 0, k;

		strbuf_init(&set, 0);
		nftc_feed_set_name(u->name, (enum addr_family)f, &set);
		if (strbuf_failed(&set)) {
			j->rc = -1;
			return 0;
		}
		if (j->fill) {
			j->rc |= nfset_flush(j->b, strbuf_str(&set));
			for (k = 0; k < now.n; k++)
				j->rc |= nfset_interval(j->b, true,
				    strbuf_str(&set), (enum addr_family)f,
				    now.v[k].lo, now.v[k].hi);
			*j->changed += now.n;
			strbuf_free(&set);
			continue;
		}
		/* deletions */
		while (a < was.n) {
			if (b == now.n || ival_before(&was.v[a], &now.v[b])) {
				j->rc |= nfset_interval(j->b, false,
				    strbuf_str(&set), (enum addr_family)f,
				    was.v[a].lo, was.v[a].hi);
				(*j->changed)++;
				a++;
			} else if (ival_before(&now.v[b], &was.v[a]))
				b++;
			else {
				a++;
				b++;
			}
		}
		/* additions */
		for (a = 0, b = 0; b < now.n; ) {
			if (a == was.n || ival_before(&now.v[b], &was.v[a])) {
				j->rc |= nfset_interval(j->b, true,
				    strbuf_str(&set), (enum addr_family)f,
				    now.v[b].lo, now.v[b].hi);
				(*j->changed)++;
				b++;
			} else if (ival_before(&was.v[a], &now.v[b]))
				a++;
			else {
				a++;
				b++;
			}
		}
		strbuf_free(&set);
	}
	return 0;
}

/* Queue into b what brings feed u's sets from u->was to u->now (or, with
 * fill, what empties and fills them); *changed elements.  0, or -1 when
 * memory ran out. */
static int
feed_batch(struct feed_update *u, bool fill, struct nfset *b,
    size_t *changed)
{
	struct feed_batch_job j = { u, fill, b, changed, 0 };

	nfset_reset(b);
	if (arena_catch(&u->a, feed_batch_run, &j) == -1)
		return -1;
	return j.rc == 0 ? 0 : -1;
}

/*
 * What the feed updates need of the config in force: its feed objects'
 * names and keys, and whether a rule side mixes one with more.  Parsed
 * once an entry, not at every update (an fqdn object's refresh comes every
 * few seconds; a large config takes a second to parse).
 */
static struct {
	char		 state[512];
	unsigned	 seq;
	bool		 valid, mixes;
	size_t		 n;
	struct {
		char	 name[64];
		uint64_t key;
	}		*v;
} facts;

static int
feed_facts_of(const char *state, unsigned seq, struct strbuf *err)
{
	struct policy *p;
	char *text;
	size_t i, len;

	if (facts.valid && facts.seq == seq && strcmp(facts.state, state) == 0)
		return 0;
	facts.valid = false;
	free(facts.v);
	facts.v = NULL;
	facts.n = 0;
	if ((text = apply_config_text(state, seq, &len)) == NULL) {
		strbuf_printf(err, "the config of history entry %u is missing "
		    "from %s", seq, state);
		return -1;
	}
	p = policy_parse("history", text, len);
	free(text);
	if (p == NULL || !policy_valid(p)) {
		policy_free(p);
		strbuf_printf(err, "the config of history entry %u cannot be "
		    "parsed again", seq);
		return -1;
	}
	if ((facts.v = calloc(policy_nfeeds(p) + 1, sizeof(*facts.v))) ==
	    NULL) {
		policy_free(p);
		strbuf_puts(err, "out of memory");
		return -1;
	}
	for (i = 0; i < p->nobject; i++)
		if (policy_object_feed(p->objects[i])) {
			snprintf(facts.v[facts.n].name, sizeof(facts.v[0].name),
			    "%s", p->objects[i]->name);
			facts.v[facts.n++].key = feedstore_key(p->objects[i]);
		}
	facts.mixes = mixes_feeds(p);
	policy_free(p);
	snprintf(facts.state, sizeof(facts.state), "%s", state);
	facts.seq = seq;
	facts.valid = strlen(state) < sizeof(facts.state);
	return 0;
}

/* True when the config in force (facts) has feed object name, of key. */
static bool
feed_in_force(const char *name, uint64_t key)
{
	size_t i;

	for (i = 0; i < facts.n; i++)
		if (strcmp(facts.v[i].name, name) == 0)
			return facts.v[i].key == key;
	return false;
}

int
apply_feed(const char *state, const char *name, uint64_t key,
    struct iset now, time_t fetched, uint64_t entries, size_t *changed,
    struct strbuf *msg, struct strbuf *err)
{
	struct feed_update u = { .state = state, .name = name, .key = key,
	    .now = now };
	struct feed_override ov = { state, name, now };
	struct history_entry cur;
	struct strbuf refill, why;
	struct dyn_rec dr;
	char *text = NULL;
	size_t len;
	long long t0 = 0, kernel_ms;
	bool log_refill = false;
	struct nfset *batch = nfset_new();
	int lock, rc = -1, attempt;

	*changed = 0;
	if (batch == NULL) {
		strbuf_puts(err, "out of memory");
		return -1;
	}
	strbuf_init(&refill, 0);
	strbuf_init(&why, 0);
	arena_init(&u.a);
	if ((lock = lock_state(state, err)) == -1)
		goto done;
	if (current(state, &cur, err) == -1)
		goto out;
	/* Not in the kernel now (nothing applied, a reboot, nft by hand):
	 * kept for the next apply. */
	if (cur.seq == 0 || strcmp(cur.file, "-") == 0 ||
	    nfgen_table_exists(NFTC_TABLE) != 1)
		goto save;
	if (feed_facts_of(state, cur.seq, err) == -1)
		goto out;
	if (!feed_in_force(name, key))
		goto save;	/* not in force: kept for later */
	if (facts.mixes) {
		/* The rule sides that hold it with more are filled again,
		 * under the new contents, right after (nft_run). */
		struct host_addrs h = { 0 };
		struct policy *q;
		struct binding b;

		if ((text = apply_config_text(state, cur.seq, &len)) == NULL) {
			strbuf_printf(err, "the config of history entry %u is "
			    "missing", cur.seq);
			goto out;
		}
		if (rtnl_addrs(&h, err) == -1)
			goto out;
		b = h.b;
		b.feed = override_feed;
		b.feed_arg = &ov;
		q = policy_parse_bound("history", text, len, &b);
		if (q == NULL || !policy_valid(q) ||
		    nftc_compile_dynamic(q, &refill) == -1) {
			policy_free(q);
			rtnl_addrs_free(&h);
			strbuf_puts(err, "out of memory");
			goto out;
		}
		policy_free(q);
		rtnl_addrs_free(&h);
	}
	if (arena_catch(&u.a, load_was, &u) == -1) {
		strbuf_puts(err, "out of memory");
		goto out;
	}
	/* By difference first; if the kernel's elements are not what the
	 * state directory says (a crash between the two, nft by hand), the
	 * kernel refuses that, and the sets are filled whole. */
	for (attempt = u.have_was ? 0 : 1; attempt < 2; attempt++) {
		if (feed_batch(&u, attempt == 1, batch, changed) == -1) {
			strbuf_puts(err, "out of memory");
			goto out;
		}
		if (attempt == 0 && *changed == 0)
			break;
		strbuf_reset(&why);
		t0 = clock_ms();
		if (nfset_commit(batch, FEED_COMMIT_MS, &why) == 0)
			break;
		if (attempt == 1) {
			strbuf_printf(err, "feed %s: %s", name,
			    strbuf_str(&why));
			goto out;
		}
	}
	kernel_ms = *changed > 0 ? clock_ms() - t0 : 0;
	/* The rule sides that hold it with more, filled again. */
	dr = dyn_next(true);
	if (refill.len > 0 && nft_run(strbuf_str(&refill), false, NULL,
	    &why) == -1)
		log_refill = true;
	else if (refill.len > 0)
		record_dynamic(state, dr);
	if (*changed == 0 && refill.len == 0) {
		/* Unchanged: the stored copy stays as it is, unless its time
		 * of fetch is an hour old (a restart uses it to space a
		 * list's fetches).  An fqdn object reports at every TTL: no
		 * file written and synced each time. */
		if (u.have_was && fetched >= u.was_info.fetched &&
		    fetched - u.was_info.fetched < UNCHANGED_SAVE_SECS) {
			rc = 0;
			goto out;
		}
		goto save;
	}
	strbuf_printf(msg, "moat: feed %s: %zu element%s changed in history "
	    "entry %u's sets%s (the kernel's transaction: %lld ms%s)\n", name,
	    *changed, *changed == 1 ? "" : "s", cur.seq, refill.len > 0 ?
	    log_refill ? "; the rule sides that hold it were NOT filled again"
	    : ", and the rule sides that hold it" : "", kernel_ms,
	    attempt == 1 && u.have_was ? "; filled whole: the kernel's "
	    "elements were not what the state directory said" : "");
	rc = 1;
save:
	if (feedstore_save(state, name, key, now, fetched, entries, err) == -1)
		rc = -1;
	else if (rc == -1)
		rc = 0;
out:
	close(lock);
done:
	free(text);
	arena_free(&u.a);
	strbuf_free(&refill);
	strbuf_free(&why);
	nfset_free(batch);
	return rc;
}

/* apply.c: apply, confirm, rollback and history; see apply.h. */
#include "enforce/apply.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/nft.h"
#include "enforce/nftc.h"

const char *
apply_state_dir(void)
{
	const char *d = getenv("MOAT_STATE_DIR");

	return d != NULL && *d != '\0' ? d : MOAT_STATE_DIR;
}

uint64_t
apply_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static int
path(char *buf, size_t len, const char *state, const char *fmt, unsigned seq)
{
	char name[64];

	snprintf(name, sizeof(name), fmt, seq);
	return snprintf(buf, len, "%s/%s", state, name) < (int)len ? 0 : -1;
}

static int
write_file(const char *file, const char *data, size_t len, struct strbuf *err)
{
	char tmp[4200];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((fp = fopen(tmp, "w")) == NULL ||
	    fwrite(data, 1, len, fp) != len || fflush(fp) == EOF ||
	    fsync(fileno(fp)) == -1 || fclose(fp) == EOF ||
	    rename(tmp, file) == -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

static char *
read_file(const char *file, size_t *len)
{
	FILE *fp = fopen(file, "r");
	struct strbuf b;
	char buf[8192];
	size_t n;

	if (fp == NULL)
		return NULL;
	strbuf_init(&b, 0);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&b, buf, n);
	fclose(fp);
	if (strbuf_failed(&b)) {
		strbuf_free(&b);
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	if (b.s == NULL)
		return strdup("");
	return b.s;
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

int
apply_history(const char *state, struct history_entry **v, size_t *n,
    struct strbuf *err)
{
	char file[4096], line[512];
	FILE *fp;
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	path(file, sizeof(file), state, "history.log", 0);
	if ((fp = fopen(file, "r")) == NULL)
		return errno == ENOENT ? 0 : (strbuf_printf(err, "%s: %s",
		    file, strerror(errno)), -1);
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct history_entry e;
		unsigned long long when, hash;

		memset(&e, 0, sizeof(e));
		if (sscanf(line, "%u %llu %llx %15s %u %255[^\n]", &e.seq,
		    &when, &hash, e.what, &e.prev, e.file) < 5)
			continue;
		e.when = (time_t)when;
		e.hash = hash;
		if (*n == cap) {
			struct history_entry *nv;

			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(*v, cap * sizeof(**v))) == NULL) {
				fclose(fp);
				strbuf_puts(err, "out of memory");
				return -1;
			}
			*v = nv;
		}
		(*v)[(*n)++] = e;
	}
	fclose(fp);
	return 0;
}

static int
append_history(const char *state, const struct history_entry *e,
    struct strbuf *err)
{
	char file[4096];
	FILE *fp;

	path(file, sizeof(file), state, "history.log", 0);
	if ((fp = fopen(file, "a")) == NULL ||
	    fprintf(fp, "%u %llu %016llx %s %u %s\n", e->seq,
	    (unsigned long long)e->when, (unsigned long long)e->hash, e->what,
	    e->prev, e->file) < 0 || fflush(fp) == EOF ||
	    fsync(fileno(fp)) == -1 || fclose(fp) == EOF) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

char *
apply_config_text(const char *state, unsigned seq, size_t *len)
{
	char file[4096];

	path(file, sizeof(file), state, "history/%u.conf", seq);
	return read_file(file, len);
}

/* The ruleset of history entry seq, or the removal of the table for 0. */
static char *
ruleset_of(const char *state, unsigned seq)
{
	char file[4096];
	struct strbuf b;

	if (seq != 0) {
		path(file, sizeof(file), state, "history/%u.nft", seq);
		return read_file(file, NULL);
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

struct pending {
	unsigned	seq;
	pid_t		pid;
	time_t		deadline;
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
	ok = sscanf(s, "%u %lld %lld", &pd->seq, &pid, &deadline) == 3;
	pd->pid = (pid_t)pid;
	pd->deadline = (time_t)deadline;
	free(s);
	return ok;
}

static void
remove_pending(const char *state)
{
	char file[4096];

	path(file, sizeof(file), state, "pending", 0);
	unlink(file);
}

/* Go back from entry cur to the entry before it; record it as what. */
static int
restore_previous(const char *state, const struct history_entry *cur,
    const char *what, struct strbuf *msg, struct strbuf *err)
{
	struct history_entry *v, e, prev;
	size_t n, i;
	char *script;
	int rc;

	if (apply_history(state, &v, &n, err) == -1)
		return -1;
	memset(&prev, 0, sizeof(prev));
	for (i = 0; i < n; i++)
		if (v[i].seq == cur->prev)
			prev = v[i];
	free(v);
	if ((script = ruleset_of(state, cur->prev)) == NULL) {
		strbuf_printf(err, "the ruleset of history entry %u is "
		    "missing from %s", cur->prev, state);
		return -1;
	}
	rc = nft_run(script, false, NULL, err);
	free(script);
	if (rc == -1)
		return -1;
	memset(&e, 0, sizeof(e));
	e.seq = cur->seq + 1;
	e.when = time(NULL);
	e.hash = prev.hash;
	snprintf(e.what, sizeof(e.what), "%s", what);
	e.prev = prev.prev;
	snprintf(e.file, sizeof(e.file), "%s", cur->prev != 0 ? prev.file :
	    "-");
	if (cur->prev != 0) {
		/* The restored config becomes the new entry's config. */
		char from[4096], to[4096];
		size_t len;
		char *text = apply_config_text(state, cur->prev, &len);

		path(from, sizeof(from), state, "history/%u.nft", cur->prev);
		path(to, sizeof(to), state, "history/%u.conf", e.seq);
		if (text == NULL || write_file(to, text, len, err) == -1) {
			free(text);
			return -1;
		}
		free(text);
		script = read_file(from, &len);
		path(to, sizeof(to), state, "history/%u.nft", e.seq);
		if (script == NULL || write_file(to, script, len, err) == -1) {
			free(script);
			return -1;
		}
		free(script);
	}
	if (append_history(state, &e, err) == -1)
		return -1;
	if (cur->prev != 0)
		strbuf_printf(msg, "moat: %s: restored the ruleset of history "
		    "entry %u (%s)\n", what, cur->prev, prev.file);
	else
		strbuf_printf(msg, "moat: %s: removed table inet moat (nothing "
		    "was applied before)\n", what);
	return 0;
}

/*
 * The watchdog of apply --confirm: detached from the terminal and the shell
 * (setsid, double fork), it sleeps until the deadline, then restores the
 * previous ruleset unless the pending file was confirmed away.
 */
static pid_t
start_watchdog(const char *state, unsigned seq, unsigned secs, int lock_fd)
{
	int fds[2];
	pid_t pid, child;
	ssize_t got;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* The inherited descriptor would keep the lock held by us. */
		close(lock_fd);
		close(fds[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
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
		sleep(secs);
		{
			struct strbuf msg, err;
			struct history_entry cur;
			struct pending pd;
			int lock;

			strbuf_init(&msg, 0);
			strbuf_init(&err, 0);
			if ((lock = lock_state(state, &err)) == -1)
				_exit(1);
			if (read_pending(state, &pd) && pd.seq == seq &&
			    current(state, &cur, &err) == 0 && cur.seq == seq &&
			    restore_previous(state, &cur, "revert", &msg,
			    &err) == 0)
				remove_pending(state);
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
apply_policy(const char *state, const struct policy *p, const char *text,
    size_t len, bool dry_run, unsigned confirm_secs, struct strbuf *msg,
    struct strbuf *err)
{
	struct history_entry cur, e;
	struct pending pd;
	struct strbuf script;
	char file[4096], buf[96];
	int lock = -1, rc = -1;

	strbuf_init(&script, 0);
	if (nftc_compile(p, &script) == -1) {
		strbuf_puts(err, "out of memory");
		goto out;
	}
	if (dry_run) {
		if ((rc = nft_run(strbuf_str(&script), true, NULL, err)) == 0)
			strbuf_printf(msg, "moat: dry run: the kernel accepts "
			    "the ruleset of %s (nothing changed)\n", p->file);
		goto out;
	}
	if ((lock = lock_state(state, err)) == -1 ||
	    current(state, &cur, err) == -1)
		goto out;
	if (read_pending(state, &pd)) {
		strbuf_printf(err, "an apply --confirm (history entry %u) is "
		    "waiting: run moat confirm or moat rollback first",
		    pd.seq);
		goto out;
	}
#ifdef MOAT_TEST_SEAMS
	/* Test builds: more commands in the same transaction, to make the
	 * kernel refuse it (tests/lab/foreign.sh). */
	if (getenv("MOAT_NFT_INJECT") != NULL)
		strbuf_printf(&script, "%s\n", getenv("MOAT_NFT_INJECT"));
#endif
	/* The kernel refuses or takes the whole transaction. */
	if (nft_run(strbuf_str(&script), false, NULL, err) == -1)
		goto out;
	memset(&e, 0, sizeof(e));
	e.seq = cur.seq + 1;
	e.when = time(NULL);
	e.hash = apply_hash(text, len);
	snprintf(e.what, sizeof(e.what), "apply");
	e.prev = cur.seq != 0 && strcmp(cur.file, "-") != 0 ? cur.seq : 0;
	snprintf(e.file, sizeof(e.file), "%s", p->file);
	path(file, sizeof(file), state, "history/%u.conf", e.seq);
	if (write_file(file, text, len, err) == -1)
		goto out;
	path(file, sizeof(file), state, "history/%u.nft", e.seq);
	if (write_file(file, strbuf_str(&script), script.len, err) == -1 ||
	    append_history(state, &e, err) == -1)
		goto out;
	strbuf_printf(msg, "moat: applied %s as history entry %u (%zu rules, "
	    "hash %016llx)\n", p->file, e.seq, p->nrule,
	    (unsigned long long)e.hash);
	if (confirm_secs > 0) {
		pid_t dog = start_watchdog(state, e.seq, confirm_secs, lock);
		int n;

		if (dog == -1) {
			struct strbuf why;

			strbuf_init(&why, 0);
			if (restore_previous(state, &e, "revert", msg, &why) == 0)
				strbuf_puts(err, "cannot start the confirm "
				    "watchdog; rolled back");
			else
				strbuf_printf(err, "cannot start the confirm "
				    "watchdog, and rolling back failed: %s",
				    strbuf_str(&why));
			strbuf_free(&why);
			goto out;
		}
		n = snprintf(buf, sizeof(buf), "%u %lld %lld\n", e.seq,
		    (long long)dog, (long long)(time(NULL) + confirm_secs));
		path(file, sizeof(file), state, "pending", 0);
		if (write_file(file, buf, (size_t)n, err) == -1)
			goto out;
		strbuf_printf(msg, "moat: run 'moat confirm' within %u seconds "
		    "to keep it; otherwise the previous ruleset comes back "
		    "(watchdog pid %lld)\n", confirm_secs, (long long)dog);
	}
	rc = 0;
out:
	if (lock != -1)
		close(lock);
	strbuf_free(&script);
	return rc;
}

int
apply_confirm(const char *state, struct strbuf *msg, struct strbuf *err)
{
	struct pending pd;
	int lock;

	if ((lock = lock_state(state, err)) == -1)
		return -1;
	if (!read_pending(state, &pd)) {
		strbuf_puts(err, "nothing to confirm");
		close(lock);
		return -1;
	}
	remove_pending(state);
	if (pd.pid > 0)
		kill(pd.pid, SIGTERM);
	strbuf_printf(msg, "moat: confirmed history entry %u\n", pd.seq);
	close(lock);
	return 0;
}

int
apply_rollback(const char *state, struct strbuf *msg, struct strbuf *err)
{
	struct history_entry cur;
	struct pending pd;
	int lock, rc = -1;

	if ((lock = lock_state(state, err)) == -1)
		return -1;
	if (current(state, &cur, err) == -1)
		goto out;
	if (cur.seq == 0 || strcmp(cur.file, "-") == 0) {
		strbuf_puts(err, "nothing to roll back: no policy is applied");
		goto out;
	}
	if (restore_previous(state, &cur, "rollback", msg, err) == -1)
		goto out;
	if (read_pending(state, &pd)) {
		remove_pending(state);
		if (pd.pid > 0)
			kill(pd.pid, SIGTERM);
	}
	rc = 0;
out:
	close(lock);
	return rc;
}

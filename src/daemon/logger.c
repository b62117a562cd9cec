/*
 * logger.c: the firewall log, a process of its own (moatd starts it, and
 * again if it dies).  It reads the packets the rules log (NFLOG group
 * NFTC_LOG_GROUP, enforce/nflog.c), names them in moat's words through
 * the config that logged them (the prefix carries the config's hash; the
 * history has the config, which the root parent reads for it: this
 * process runs as LOGGER_USER with CAP_NET_ADMIN alone, for NFLOG), and
 * appends one JSON line each to firewall.jsonl (observe/logfile.c), a
 * batch per read.
 *
 * It never holds up the data path: the kernel hands packets over
 * asynchronously and drops what does not fit our socket's buffer, which
 * the sequence numbers count; a disk that is full or read-only loses
 * records, counted too.  Every second the counts go to LOGGER_STATS in
 * the run directory, for `moat status` and `moat metrics`.
 */
#include "daemon/logger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/frame.h"
#include "base/log.h"
#include "enforce/apply.h"
#include "enforce/nflog.h"
#include "enforce/nftc.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "policy/load.h"

#define CACHE		4	/* configs kept, by hash */
#define MISS_SECS	5	/* a hash not in the history: asked again */
#define READS_MAX	64	/* reads per wakeup, before the stats */
#define COPY_BYTES	160	/* of each packet: its headers */
#define ASK_SECS	2	/* for the parent's answer, at most */
#define ASK_MAX		(16u << 20)	/* bytes of a config */

struct known {
	uint64_t	 hash;
	struct policy	*p;		/* NULL: not in the history */
	char		 file[256];
	time_t		 asked;
};

struct logger {
	const struct logger_conf *c;
	int			 ask;	/* -1: the parent stopped answering */
	struct known		 cache[CACHE];
	unsigned		 next;
	struct logfile		 lf;
	struct strbuf		 batch;
	unsigned		 nbatch;
	uint64_t		 lost, unreadable;
};

/* The config with this hash, from the parent (the newest entry of the
 * history with it). */
static struct known *
config_of(struct logger *L, uint64_t hash)
{
	char q[17], *answer, *nl;
	struct known *k;
	size_t len;
	unsigned j;

	for (j = 0; j < CACHE; j++) {
		k = &L->cache[j];
		if (k->asked != 0 && k->hash == hash && (k->p != NULL ||
		    time(NULL) < k->asked + MISS_SECS))
			return k;
	}
	k = &L->cache[L->next++ % CACHE];
	policy_free(k->p);
	memset(k, 0, sizeof(*k));
	k->hash = hash;
	k->asked = time(NULL);
	if (L->ask == -1)
		return k;
	snprintf(q, sizeof(q), "%016" PRIx64, hash);
	if (frame_send(L->ask, q, 16) == -1 ||
	    (answer = frame_recv(L->ask, ASK_MAX, &len)) == NULL) {
		log_error("firewall log: the parent does not answer (%s): "
		    "records are no longer named by their rules",
		    strerror(errno));
		close(L->ask);
		L->ask = -1;
		return k;
	}
	/* "FILE\nTEXT", or nothing: no such config. */
	if ((nl = memchr(answer, '\n', len)) != NULL) {
		*nl = '\0';
		snprintf(k->file, sizeof(k->file), "%s", answer);
		k->p = policy_parse(k->file, nl + 1, len - (size_t)(nl + 1 -
		    answer));
	}
	free(answer);
	return k;
}

/* Make path (a file the logger writes) uid's, unless it is not a plain
 * file with one name: the logger could have put a link there. */
static void
give(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    st.st_uid != uid)
		(void)fchown(fd, uid, gid);
	close(fd);
}

int
logger_prepare(const char *dir, const char *run, unsigned keep, uid_t uid,
    gid_t gid, char *err, size_t errlen)
{
	char path[4200], sub[4200];
	struct stat st;
	unsigned k;

	/* A log directory that cannot be made the logger's (read-only,
	 * say) is not fatal: the logger says, and counts, what it loses. */
	if ((mkdir(dir, 0750) == -1 && errno != EEXIST) ||
	    lstat(dir, &st) == -1 || chown(dir, st.st_uid, gid) == -1 ||
	    chmod(dir, 01770) == -1)
		log_warn("firewall log: %s: %s", dir, strerror(errno));
	for (k = 0; k <= keep; k++) {
		if (k == 0)
			snprintf(path, sizeof(path), "%s/%s", dir, FWLOG_FILE);
		else
			snprintf(path, sizeof(path), "%s/%s.%u", dir,
			    FWLOG_FILE, k);
		give(path, uid, gid);
	}
	snprintf(sub, sizeof(sub), "%s/%s", run, LOGGER_RUN_SUBDIR);
	snprintf(path, sizeof(path), "%s/%s", run, FWLOG_STATS);
	errno = 0;
	if ((mkdir(run, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(sub, 0755) == -1 && errno != EEXIST) ||
	    lstat(sub, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    chown(sub, uid, gid) == -1) {
		snprintf(err, errlen, "%s: %s", sub, errno != 0 ?
		    strerror(errno) : "not a directory");
		return -1;
	}
	/* Readers (moat status, metrics) read run/FWLOG_STATS. */
	if (lstat(path, &st) == -1 || !S_ISLNK(st.st_mode)) {
		unlink(path);
		if (symlink(LOGGER_RUN_SUBDIR "/" FWLOG_STATS, path) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
logger_answer(int fd, const char *state)
{
	struct history_entry *v = NULL;
	struct strbuf err, out;
	char *q, *text, *end;
	size_t n = 0, i, len;
	uint64_t hash;
	int rc = -1;

	if ((q = frame_recv(fd, 16, &len)) == NULL)
		return -1;
	errno = 0;
	hash = strtoull(q, &end, 16);
	if (len != 16 || *end != '\0' || errno != 0) {
		free(q);
		return -1;
	}
	free(q);
	strbuf_init(&err, 0);
	strbuf_init(&out, ASK_MAX + 4096);
	if (apply_history(state, &v, &n, &err) == 0)
		for (i = n; i-- > 0; )
			if (v[i].hash == hash && strcmp(v[i].file, "-") != 0 &&
			    (text = apply_config_text(state, v[i].seq,
			    &len)) != NULL) {
				strbuf_printf(&out, "%s\n", v[i].file);
				strbuf_add(&out, text, len);
				free(text);
				break;
			}
	/* Too large: not named. */
	if (frame_send(fd, strbuf_failed(&out) ? "" : strbuf_str(&out),
	    strbuf_failed(&out) ? 0 : out.len) == 0)
		rc = 0;
	strbuf_free(&out);
	strbuf_free(&err);
	free(v);
	return rc;
}

static void
on_packet(void *arg, const struct nflog_pkt *pkt)
{
	struct logger *L = arg;
	struct fwlog_rec r;
	struct known *k;

	if (fwlog_from_packet(pkt, &r) == -1) {
		L->unreadable++;
		return;
	}
	k = config_of(L, r.hash);
	if (k->p != NULL)
		fwlog_annotate(&r, k->p, k->file);
	fwlog_json(&r, &L->batch);
	strbuf_putc(&L->batch, '\n');
	L->nbatch++;
}

static void
flush(struct logger *L)
{
	static char said[256];

	if (L->nbatch == 0)
		return;
	if (strbuf_failed(&L->batch))
		L->lf.dropped += L->nbatch;
	else if (logfile_append(&L->lf, strbuf_str(&L->batch), L->batch.len,
	    L->nbatch) == -1 && strcmp(said, L->lf.error) != 0) {
		/* Once per kind of failure, not once per batch. */
		log_error("firewall log: %s; records are lost until it "
		    "works again", L->lf.error);
		snprintf(said, sizeof(said), "%s", L->lf.error);
	}
	strbuf_reset(&L->batch);
	L->batch.failed = false;
	L->nbatch = 0;
}

/* The counts, replaced whole (a reader never sees half). */
static void
write_stats(struct logger *L)
{
	struct fwlog_stats st;

	memset(&st, 0, sizeof(st));
	snprintf(st.file, sizeof(st.file), "%s", L->lf.path);
	st.written = L->lf.written;
	st.lost_kernel = L->lost;
	st.lost_disk = L->lf.dropped;
	st.unreadable = L->unreadable;
	snprintf(st.error, sizeof(st.error), "%s", L->lf.error);
	st.updated = (long long)time(NULL);
	fwlog_stats_write(L->c->run, &st);
}

int
logger_run(const struct logger_conf *c)
{
	struct logger L = { .c = c, .ask = c->ask };
	struct timeval tv = { .tv_sec = ASK_SECS };
	struct strbuf err;
	struct nflog *n;
	time_t last = 0;

	strbuf_init(&err, 0);
	if ((n = nflog_open(NFTC_LOG_GROUP, COPY_BYTES, &err)) == NULL) {
		log_error("firewall log: %s", strbuf_str(&err));
		strbuf_free(&err);
		return 1;
	}
	strbuf_free(&err);
	if (L.ask != -1)
		setsockopt(L.ask, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	logfile_init(&L.lf, c->dir, FWLOG_FILE, c->max, c->keep);
	strbuf_init(&L.batch, 4u << 20);
	log_info("firewall log: NFLOG group %d to %s", NFTC_LOG_GROUP,
	    L.lf.path);
	for (;;) {
		struct pollfd pfd = { .fd = nflog_fd(n), .events = POLLIN };
		int i;

		if (poll(&pfd, 1, 1000) > 0)
			for (i = 0; i < READS_MAX; i++) {
				if (nflog_read(n, on_packet, &L, &L.lost) == -1 &&
				    errno != ENOBUFS && errno != EINTR)
					break;
				flush(&L);	/* a write per kernel batch */
			}
		if (time(NULL) != last) {
			last = time(NULL);
			write_stats(&L);
		}
	}
}

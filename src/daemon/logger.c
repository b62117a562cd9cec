/*
 * logger.c: the firewall log, a process of its own (moatd starts it, and
 * again if it dies).  It reads the packets the rules log (NFLOG group
 * NFTC_LOG_GROUP, enforce/nflog.c), names them in moat's words through
 * the config that logged them (the prefix carries the rule's id, which
 * the config in force has, or one shortly before it, for a packet logged
 * just before an apply: doc/design/rule-ids.md; a ruleset of before the
 * ids carries the config's hash.  The history has the configs, which the
 * root parent reads for it: this process runs as LOGGER_USER with
 * CAP_NET_ADMIN alone, for NFLOG), and
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

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <linux/capability.h>
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

#include "base/clock.h"
#include "base/frame.h"
#include "base/log.h"
#include "daemon/child.h"
#include "enforce/apply.h"
#include "enforce/nflog.h"
#include "enforce/nftc.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "policy/lexer.h"
#include "policy/load.h"

#define CACHE		4	/* configs kept, by entry */
#define MISSES		16	/* rule ids found in none of them, kept */
#define MISS_SECS	5	/* an entry not in the history: asked again */
#define READS_MAX	64	/* reads per wakeup, before the stats */
#define COPY_BYTES	160	/* of each packet: its headers */
#define ASK_SECS	2	/* for the parent's answer, at most */
#define ASK_MAX		(16u << 20)	/* bytes of a config */

struct known {
	unsigned	 seq;		/* the history's entry */
	unsigned	 prev;		/* the entry in force before it */
	uint64_t	 hash;
	struct policy	*p;		/* NULL: not in the history */
	char		 file[256];
	char		 q[24];		/* the question it answers */
	time_t		 asked;
};

struct logger {
	const struct logger_conf *c;
	int			 ask;	/* -1: the parent stopped answering */
	struct known		 cache[CACHE];
	unsigned		 next;
	unsigned		 force;	/* the entry in force, */
	bool			 force_known;	/* asked since the last read */
	struct {				/* ids none of them has */
		uint64_t	 id;
		unsigned	 force;
	}			 miss[MISSES];
	unsigned		 nmiss;
	struct logfile		 lf;
	struct strbuf		 batch;
	unsigned		 nbatch;
	uint64_t		 lost, unreadable;
};

/* Ask the parent q (logger_answer says which); the answer's head "SEQ
 * PREV HASH FILE" in k, and its config parsed when it has one.  0, or -1
 * when the parent stopped answering. */
static int
ask(struct logger *L, const char *q, struct known *k)
{
	unsigned long long hash;
	char *answer, *nl;
	size_t len;
	int n = 0;

	if (L->ask == -1)
		return -1;
	if (frame_send(L->ask, q, strlen(q)) == -1 ||
	    (answer = frame_recv(L->ask, ASK_MAX, &len)) == NULL) {
		log_error("firewall log: the parent does not answer (%s): "
		    "records are no longer named by their rules",
		    strerror(errno));
		close(L->ask);
		L->ask = -1;
		return -1;
	}
	/* "SEQ PREV HASH FILE\nTEXT", or nothing: no such entry. */
	if ((nl = memchr(answer, '\n', len)) != NULL) {
		*nl = '\0';
		if (sscanf(answer, "%u %u %llx %n", &k->seq, &k->prev, &hash,
		    &n) >= 3 && n > 0) {
			k->hash = hash;
			snprintf(k->file, sizeof(k->file), "%s", answer + n);
			if (q[0] != 'n')
				k->p = policy_parse(k->file, nl + 1,
				    len - (size_t)(nl + 1 - answer));
		}
	}
	free(answer);
	return 0;
}

/* The answer to q, from the cache or the parent. */
static struct known *
known(struct logger *L, const char *q)
{
	struct known *k;
	unsigned j;

	for (j = 0; j < CACHE; j++) {
		k = &L->cache[j];
		if (k->asked != 0 && strcmp(k->q, q) == 0 && (k->p != NULL ||
		    time(NULL) < k->asked + MISS_SECS))
			return k;
	}
	k = &L->cache[L->next++ % CACHE];
	policy_free(k->p);
	memset(k, 0, sizeof(*k));
	snprintf(k->q, sizeof(k->q), "%s", q);
	k->asked = time(NULL);
	ask(L, q, k);
	return k;
}

/* The config of history entry seq (NULL: none, or unknown). */
static struct known *
entry(struct logger *L, unsigned seq)
{
	char q[24];
	struct known *k;

	snprintf(q, sizeof(q), "e%u", seq);
	k = known(L, q);
	return k->p != NULL ? k : NULL;
}

/* The config in force: which it is asked once a read of the kernel's
 * packets (that needs it), so that what is read after an apply is named
 * by the config of that apply. */
static struct known *
in_force(struct logger *L)
{
	struct known head;

	if (!L->force_known) {
		memset(&head, 0, sizeof(head));
		L->force_known = true;
		if (ask(L, "n", &head) == 0)
			L->force = head.seq;
	}
	return L->force != 0 ? entry(L, L->force) : NULL;
}

/* Name r by the config that logged it: by its hash (a ruleset of before
 * the ids), else the config in force, or, for a rule's id the config in
 * force does not have, those in force before it (a packet logged before
 * an apply and read after it), at most CACHE of them. */
static void
name(struct logger *L, struct fwlog_rec *r)
{
	struct known *k;
	char q[24];
	unsigned j;
	int depth;

	if (r->hash != 0) {
		snprintf(q, sizeof(q), "h%016" PRIx64, r->hash);
		k = known(L, q);
		if (k->p != NULL)
			fwlog_annotate(r, k->p, k->file);
		return;
	}
	k = in_force(L);
	if (k == NULL)
		return;
	if (r->rule_id == 0) {
		if (fwlog_annotate(r, k->p, k->file) == 0)
			r->hash = k->hash;
		return;
	}
	/* Not every packet of a rule no config has (another program's,
	 * with moat's prefix) walks the history again. */
	if (policy_rule_by_id(k->p, r->rule_id) == NULL)
		for (j = 0; j < MISSES; j++)
			if (L->miss[j].id == r->rule_id &&
			    L->miss[j].force == L->force)
				return;
	for (depth = 0; k != NULL && depth < CACHE; depth++) {
		if (fwlog_annotate(r, k->p, k->file) == 0) {
			r->hash = k->hash;
			return;
		}
		k = k->prev != 0 ? entry(L, k->prev) : NULL;
	}
	L->miss[L->nmiss % MISSES].id = r->rule_id;
	L->miss[L->nmiss % MISSES].force = L->force;
	L->nmiss++;
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
logger_answer(const char *q, size_t len, const char *state,
    struct strbuf *out)
{
	struct history_entry *v = NULL;
	struct strbuf err;
	char *text, *end;
	size_t n = 0, i, tlen;
	unsigned long long key = 0;

	/* "hHASH" (16 hex digits), "eSEQ" (0: the entry in force) or "n". */
	errno = 0;
	end = (char *)q;
	if (len >= 2 && len < 24 && (q[0] == 'h' || q[0] == 'e') &&
	    isxdigit((unsigned char)q[1]))
		key = strtoull(q + 1, &end, q[0] == 'h' ? 16 : 10);
	else if (len == 1 && q[0] == 'n')
		end = (char *)q + 1;
	if (end == q || *end != '\0' || end != q + len || errno != 0 ||
	    (q[0] == 'h' && len != 17) || (q[0] == 'e' && key > UINT_MAX))
		return -1;
	strbuf_init(&err, 0);
	if (apply_history(state, &v, &n, &err) == 0)
		for (i = n; i-- > 0; ) {
			if (q[0] == 'h' ? v[i].hash != key : q[0] == 'e' &&
			    key != 0 ? v[i].seq != key : i != n - 1)
				continue;
			if (strcmp(v[i].file, "-") == 0)
				break;
			strbuf_printf(out, "%u %u %016llx %s\n", v[i].seq,
			    v[i].prev, (unsigned long long)v[i].hash,
			    v[i].file);
			if (q[0] == 'n')
				break;
			if ((text = apply_config_text(state, v[i].seq,
			    &tlen)) == NULL)
				strbuf_reset(out);
			else {
				/* the rules, not the HA secret */
				lexer_blank_secrets(text, tlen);
				strbuf_add(out, text, tlen);
			}
			free(text);
			break;
		}
	strbuf_free(&err);
	free(v);
	return 0;
}

void
logger_chan_open(struct logger_chan *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if (fd != -1 && fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		/* one that blocks would hold root's loop: none */
		log_error("firewall log: its channel: %s", strerror(errno));
		close(fd);
		c->fd = -1;
	}
}

void
logger_chan_close(struct logger_chan *c)
{
	if (c->fd != -1)
		close(c->fd);
	frame_in_reset(&c->in);
	frame_out_reset(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int
logger_chan_in_fd(const struct logger_chan *c)
{
	return frame_out_pending(&c->out) ? -1 : c->fd;
}

int
logger_chan_out_fd(const struct logger_chan *c)
{
	return frame_out_pending(&c->out) ? c->fd : -1;
}

int
logger_chan_read(struct logger_chan *c, const char *state)
{
	struct strbuf out;
	int rc;

	if (c->fd == -1 || frame_out_pending(&c->out))
		return 0;
	if ((rc = frame_in_read(c->fd, &c->in, 24)) == 0) {
		if (frame_in_started(&c->in) && c->since == 0)
			c->since = clock_ms();
		return 0;
	}
	if (rc == -1)
		return -1;
	if (c->since == 0)
		c->since = clock_ms();
	/* Too large: not named (an empty answer). */
	strbuf_init(&out, ASK_MAX + 4096);
	rc = logger_answer(c->in.buf, c->in.len, state, &out);
	frame_in_reset(&c->in);
	if (rc == 0 && strbuf_failed(&out)) {
		strbuf_free(&out);
		strbuf_init(&out, 0);
	}
	if (rc == 0 && (frame_out_take(&c->out, false, 0, &out) == -1 ||
	    frame_out_write(c->fd, &c->out) == -1))
		rc = -1;
	strbuf_free(&out);
	if (rc == 0 && !frame_out_pending(&c->out))
		c->since = 0;
	return rc;
}

int
logger_chan_write(struct logger_chan *c)
{
	int rc;

	if (c->fd == -1 || !frame_out_pending(&c->out))
		return 0;
	if ((rc = frame_out_write(c->fd, &c->out)) == 1)
		c->since = 0;
	return rc == -1 ? -1 : 0;
}

bool
logger_chan_late(const struct logger_chan *c, long long now)
{
	return c->fd != -1 && c->since != 0 && now - c->since > LOGGER_ASK_MS;
}

static void
on_packet(void *arg, const struct nflog_pkt *pkt)
{
	struct logger *L = arg;
	struct fwlog_rec r;

	if (fwlog_from_packet(pkt, &r) == -1) {
		L->unreadable++;
		return;
	}
	name(L, &r);
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
	/* CAP_NET_ADMIN was for binding the group: reading it needs none,
	 * and the process that parses everyone's packets keeps nothing
	 * (review, 2026-12-07: it could have flushed the ruleset). */
	if (child_caps_none() == -1) {
		log_error("firewall log: giving up its capability: %s",
		    strerror(errno));
		nflog_close(n);
		return 1;
	}
	/* devices named through the NFLOG socket: it may make no other */
	fwlog_names_fd(nflog_fd(n));
	if (child_nospawn("firewall log") == -1 ||
	    child_nosocket("firewall log") == -1) {
		nflog_close(n);
		return 1;
	}
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
				L.force_known = false;
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

int
logger_main(int argc, char **argv)
{
	struct logger_conf c;
	struct passwd *pw = NULL;
	char err[512], *end;
	int t = 0, rc;
	socklen_t tl = sizeof(t);

	child_exec_named("moatd-log");
	if ((rc = child_exec_own(argc == 5 && getsockopt(3, SOL_SOCKET,
	    SO_TYPE, &t, &tl) == 0 && t == SOCK_STREAM, LOGGER_ARG,
	    "firewall log", argv[4])) != 0)
		return rc;
	if (getuid() == 0 && ((pw = getpwnam(LOGGER_USER)) == NULL ||
	    child_drop(pw, CAP_NET_ADMIN, err, sizeof(err)) == -1)) {
		log_error("firewall log: %s", pw == NULL ? "no user "
		    LOGGER_USER " to run as" : err);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.dir = argv[0];
	errno = 0;
	c.max = strtoull(argv[1], &end, 10);
	if (*end != '\0' || errno != 0)
		return 2;
	c.keep = (unsigned)strtoul(argv[2], &end, 10);
	if (*end != '\0')
		return 2;
	c.run = argv[3];
	c.ask = 3;
	return logger_run(&c);
}

/*
 * logger.c: the firewall log, a process of its own (moatd starts it, and
 * again if it dies).  It reads the packets the rules log (NFLOG group
 * NFTC_LOG_GROUP, enforce/nflog.c), names them in moat's words through
 * the config that logged them (the prefix carries the config's hash; the
 * history has the config), and appends one JSON line each to
 * firewall.jsonl (observe/logfile.c), a batch per read.
 *
 * It never holds up the data path: the kernel hands packets over
 * asynchronously and drops what does not fit our socket's buffer, which
 * the sequence numbers count; a disk that is full or read-only loses
 * records, counted too.  Every second the counts go to LOGGER_STATS in
 * the run directory, for `moat status` and `moat metrics`.
 */
#include "daemon/logger.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

struct known {
	uint64_t	 hash;
	struct policy	*p;		/* NULL: not in the history */
	char		 file[256];
	time_t		 asked;
};

struct logger {
	const struct logger_conf *c;
	struct known		 cache[CACHE];
	unsigned		 next;
	struct logfile		 lf;
	struct strbuf		 batch;
	unsigned		 nbatch;
	uint64_t		 lost, unreadable;
};

/* The config with this hash, from the history (newest entry first). */
static struct known *
config_of(struct logger *L, uint64_t hash)
{
	struct history_entry *v = NULL;
	struct strbuf err;
	struct known *k;
	size_t n = 0, i, len;
	unsigned j;
	char *text;

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
	strbuf_init(&err, 0);
	if (apply_history(L->c->state, &v, &n, &err) == 0)
		for (i = n; i-- > 0; )
			if (v[i].hash == hash && strcmp(v[i].file, "-") != 0 &&
			    (text = apply_config_text(L->c->state, v[i].seq,
			    &len)) != NULL) {
				k->p = policy_parse(v[i].file, text, len);
				free(text);
				snprintf(k->file, sizeof(k->file), "%s",
				    v[i].file);
				break;
			}
	strbuf_free(&err);
	free(v);
	return k;
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
	struct logger L = { .c = c };
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

/* inforce.c: the entry in force of moat's history; see inforce.h.
 *
 * history.log is looked at once a second (a stat; it is read again only
 * when it changed).  The followers' config is known by its hash, the one
 * the history keeps of each entry's text, so moatd's own applies, and an
 * apply of the same text by someone else, change nothing; a rollback to
 * another config, or an apply of one, is parsed and handed over.
 */
#include "daemon/inforce.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/hash.h"
#include "base/diag.h"
#include "base/log.h"
#include "policy/lexer.h"
#include "enforce/feedstore.h"
#include "enforce/rtnl.h"
#include "policy/load.h"

#define LOOK_MS		1000
#define FOLLOW_TRIES	5	/* looks at an entry that cannot be followed */

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int
inforce_look(const char *state, struct inforce_watch *w,
    struct history_entry *e, struct strbuf *err)
{
	char file[4200];
	struct history_entry *v = NULL;
	struct stat st;
	size_t n = 0;

	memset(e, 0, sizeof(*e));
	snprintf(file, sizeof(file), "%s/history.log", state);
	if (stat(file, &st) == -1 || (w->seen && same_file(&st, &w->hist)))
		return 0;
	if (apply_history(state, &v, &n, err) == -1)
		return -1;
	/* (seen only once read: a history that could not be read is
	 * read again at the next look) */
	w->hist = st;
	w->seen = true;
	if (n > 0)
		*e = v[n - 1];
	free(v);
	return 1;
}

struct policy *
inforce_parse(const char *state, const char *name, const char *text,
    size_t len, struct strbuf *err)
{
	struct host_addrs h = { 0 };
	struct policy *p;
	char line[512];
	size_t i;

	if (rtnl_addrs(&h, err) == -1) {
		rtnl_addrs_free(&h);
		return NULL;
	}
	feedstore_bind(&h.b, state);
	p = policy_parse_bound(name, text, len, &h.b);
	rtnl_addrs_free(&h);
	if (p == NULL) {
		strbuf_puts(err, "out of memory");
		return NULL;
	}
	if (!policy_valid(p)) {
		for (i = 0; i < p->diags.n; i++)
			if (p->diags.v[i].severity == DIAG_ERROR) {
				diag_format(&p->diags.v[i], line, sizeof(line));
				strbuf_printf(err, "%s%s", err->len > 0 ? "; " :
				    "", line);
				break;
			}
		if (err->len == 0)
			strbuf_puts(err, "not valid here");
		policy_free(p);
		return NULL;
	}
	return p;
}

/* What the followers serve, and what was last looked at. */
static struct {
	uint64_t		 hash;	/* the config they serve */
	uint64_t		 whole;	/* its FNV-1a, as entries of
					   before apply_hash_is have it */
	bool			 secret; /* its text has the word */
	bool			 known;
	unsigned		 try_seq; /* the entry being followed, */
	uint64_t		 try_hash;
	unsigned		 tries;	/* and the looks it failed */
	unsigned		 seq;	/* the last entry acted on (0: none), */
	uint64_t		 seq_hash; /* and its config (a number a lost
					   entry had is used again) */
	bool			 failing; /* the history could not be read */
	struct inforce_watch	 w;
	long long		 next;	/* clock_ms of the next look */
} fl;

/*
 * Whether the followers serve entry e's config.  Its hash leaves the HA
 * secret out (apply_hash): when it is theirs, and their text has the word
 * at all, the entry's text is read to see that the secret is theirs too
 * (a `moat apply` that changed only the secret must reach the HA node:
 * a review, 2026-12-07).
 */
static bool
served(const char *state, const struct history_entry *e)
{
	size_t len;
	char *text;
	bool same;

	if (!fl.known || (e->hash != fl.hash && e->hash != fl.whole))
		return false;
	if (e->hash == fl.whole || !fl.secret)
		return true;
	if ((text = apply_config_text(state, e->seq, &len)) == NULL)
		return false;
	same = fnv1a(text, len) == fl.whole;
	free(text);
	return same;
}

void
inforce_served(const char *text, size_t len)
{
	fl.hash = apply_hash(text, len);
	fl.whole = fnv1a(text, len);
	fl.secret = lexer_may_hold_secret(text, len);
	fl.known = true;
}

/* Entry e's config parsed as of now; NULL with why in err (empty when
 * e removed the table: it has none). */
static struct policy *
entry_config(const char *state, const struct history_entry *e,
    struct strbuf *err)
{
	struct policy *p = NULL;
	char *text;
	size_t len;

	if (strcmp(e->file, "-") == 0)
		return NULL;
	if ((text = apply_config_text(state, e->seq, &len)) == NULL)
		strbuf_printf(err, "the config of history entry %u is missing "
		    "from %s", e->seq, state);
	else if (!apply_hash_is(text, len, e->hash))
		strbuf_printf(err, "the stored config of history entry %u is "
		    "not the one it applied", e->seq);
	else
		p = inforce_parse(state, e->file, text, len, err);
	free(text);
	return p;
}

struct policy *
inforce_now(const char *state, struct strbuf *err)
{
	struct inforce_watch w = { .seen = false };
	struct history_entry e;
	struct policy *p;

	if (inforce_look(state, &w, &e, err) == -1)
		return NULL;
	if (e.seq == 0 || (p = entry_config(state, &e, err)) == NULL) {
		if (err->len == 0)
			strbuf_puts(err, "no config is in force");
		return NULL;
	}
	return p;
}

struct policy *
inforce_follow(const char *state)
{
	struct history_entry e;
	struct strbuf err;
	struct policy *p = NULL;
	bool same;
	int rc;

	if (clock_ms() < fl.next)
		return NULL;
	fl.next = clock_ms() + LOOK_MS;
	strbuf_init(&err, 0);
	if ((rc = inforce_look(state, &fl.w, &e, &err)) == -1 && !fl.failing)
		log_warn("the history: %s (moatd follows it again once it "
		    "can be read)", strbuf_str(&err));
	if (rc != 0)
		fl.failing = rc == -1;
	/* Each entry acted on once, whatever comes of it (a failure is
	 * looked at again FOLLOW_TRIES times, not every second for ever); a
	 * later entry of the same config is another try. */
	if (rc != 1 || e.seq == 0 || (e.seq == fl.seq && e.hash ==
	    fl.seq_hash))
		goto out;
	if (e.seq != fl.try_seq || e.hash != fl.try_hash) {
		fl.try_seq = e.seq;
		fl.try_hash = e.hash;
		fl.tries = 0;
	}
	same = served(state, &e);
	if (!same && (p = entry_config(state, &e, &err)) == NULL &&
	    err.len > 0 &&
	    ++fl.tries < FOLLOW_TRIES) {
		/* (perhaps for a moment: the devices' addresses unreadable,
		 * memory short) looked at again at the next looks */
		fl.w.seen = false;
		goto out;
	}
	fl.seq = e.seq;
	fl.seq_hash = e.hash;
	if (same)
		goto out;
	if (p == NULL) {
		if (err.len == 0)
			log_warn("history entry %u (%s) is in force and has no "
			    "config (it removed moat's table): the proxy, the "
			    "feeds and the console keep the config they have",
			    e.seq, e.what);
		else
			log_error("history entry %u (%s of %s) is in force, but "
			    "its config cannot be followed: %s", e.seq, e.what,
			    e.file, strbuf_str(&err));
		goto out;
	}
	log_info("history entry %u (%s of %s) is in force, not the config "
	    "moatd applied last: the proxy, the feeds, the console, the "
	    "gateways and the firewall log follow it", e.seq, e.what, e.file);
out:
	strbuf_free(&err);
	return p;
}

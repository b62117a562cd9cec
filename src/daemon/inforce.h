/* inforce.h: the entry in force of moat's history, seen from moatd.
 *
 * The ruleset in the kernel is the last entry of STATE/history.log,
 * whoever wrote it: moatd itself (its start, a reload, the console's
 * apply, the HA peer's config), `moat apply`, a rollback from the command
 * line or the console, the revert of an apply --confirm that lapsed.
 * moatd's followers (the proxy, the feed process, the console, the
 * gateways' probes, the firewall log's settings, the HA node) must serve
 * that config, not the one moatd last read: a rollback to a config with
 * the antivirus block redirects SMTP to the proxy, which must run, and a
 * url object given another list by `moat apply` must be fetched
 * (doc/design/inforce.md). */
#ifndef MOAT_INFORCE_H
#define MOAT_INFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "base/strbuf.h"
#include "enforce/apply.h"
#include "policy/policy.h"

/* What one reader last saw of history.log. */
struct inforce_watch {
	struct stat	 hist;
	bool		 seen;
};

/* 1 when history.log changed since w last looked, its last entry in *e
 * (zeroed, seq 0, when the history is empty); 0 when it did not change
 * (or there is none yet); -1 when it cannot be read (err). */
int	 inforce_look(const char *state, struct inforce_watch *w,
	    struct history_entry *e, struct strbuf *err);
/* text (a config of the history, named name) parsed as of now: the
 * devices' addresses and what the feed objects hold now; NULL when it
 * cannot be parsed or is not valid here, with why in err. */
struct policy *inforce_parse(const char *state, const char *name,
	    const char *text, size_t len, struct strbuf *err);

/* The config of the entry in force, parsed as of now; NULL with why in
 * err when there is none or it cannot be used. */
struct policy *inforce_now(const char *state, struct strbuf *err);

/* moatd's followers serve the config of text from now on (moatd applied
 * it, or put its entry back). */
void	 inforce_served(const char *text, size_t len);
/* At most once a second: the config of the entry in force, parsed as of
 * now, when it is not the one the followers serve (someone else applied
 * or restored another), for the caller to hand them; NULL otherwise.
 * What cannot be followed (an entry that removed the table, a config that
 * no longer parses) is logged once, and the followers keep theirs. */
struct policy *inforce_follow(const char *state);

#endif

/* apply.h: installing policies in the kernel, safely, with a history.
 *
 * The state directory (default /var/lib/moat, or MOAT_STATE_DIR) holds:
 *   history.log      one line per change: SEQ TIME HASH WHAT PREV FILE
 *   history/SEQ.conf the config as applied;  history/SEQ.nft its ruleset
 *   pending          while an apply --confirm waits: SEQ PID START
 *                    DEADLINE PREV (see apply.c)
 *   lock             taken (flock) by every command that changes state
 */
#ifndef MOAT_APPLY_H
#define MOAT_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/strbuf.h"
#include "policy/policy.h"

#define MOAT_STATE_DIR	"/var/lib/moat"

struct history_entry {
	unsigned	 seq;
	time_t		 when;
	uint64_t	 hash;		/* FNV-1a of the config text */
	char		 what[16];	/* apply, rollback, revert */
	unsigned	 prev;		/* the entry active before, 0 = none */
	char		 file[256];
};

/* What begins a line of an apply's news that is a warning (a history
 * line the disk did not confirm): said on stderr, logged as a warning. */
#define APPLY_WARNING	"moat: warning: "

/* The state directory to use: MOAT_STATE_DIR from the environment, else
 * the default. */
const char *apply_state_dir(void);
/* Where an apply's time went, in milliseconds (moat apply --timing). */
struct apply_phases {
	long long	 compile;	/* policy to nft script */
	long long	 record;	/* the history's files written, synced;
					   its compaction waited for, older
					   rulesets let go */
	long long	 kernel;	/* the transaction: libnftables and the
					   kernel (a whole ruleset loaded by a
					   child: and the history's compaction
					   meanwhile, when it is longer) */
	long long	 fingerprint;	/* the ruleset read back and hashed,
					   for drift (nfhash.h) */
	size_t		 script;	/* bytes of the script */
	/* The incremental apply (doc/design/incremental.md): */
	bool		 incremental;	/* the difference went, not the whole */
	long long	 drift;		/* the kernel checked against the
					   entry in force */
	long long	 diff;		/* the two rulesets compared, the
					   changed chains' handles read */
	size_t		 delta;		/* bytes of the difference's script */
	char		 why[512];	/* why the whole went ("" if it did not
					   or nothing was in force) */
	char		 what[256];	/* what the difference did */
	char		 how[256];	/* how the whole went: "over netlink",
					   or "through libnftables: why" */
};

/* apply_policy's flags. */
#define APPLY_DRY_RUN	0x1	/* the kernel only checks */
#define APPLY_WHOLE	0x2	/* the whole ruleset even when a difference
				   would do */
/* The share of the new ruleset's rules and elements past which a
 * difference is sent whole. */
#define APPLY_DELTA_MAX_PCT	25

/* Load p's compiled ruleset into the kernel in one transaction and record
 * it (text is the config as read).  When the kernel holds what the entry
 * in force applied, only the difference goes (nftdiff.h), unless flags
 * has APPLY_WHOLE; ph->why says why the whole went.  With APPLY_DRY_RUN
 * the kernel only checks the whole.  With confirm_secs > 0 a detached watchdog restores the previous ruleset
 * after that many seconds unless apply_confirm() runs first.  ph, when not
 * NULL, gets the time of each phase.  Returns 0 or -1 with the reason (the
 * kernel's, for a refused ruleset) in err. */
int	 apply_policy(const char *state, const struct policy *p,
	    const char *text, size_t len, unsigned flags, unsigned confirm_secs,
	    struct apply_phases *ph, struct strbuf *msg, struct strbuf *err);
/* apply_policy of p's ruleset compiled already: compiled holds what
 * nftc_compile(p) wrote (taken: left empty), or is NULL when it ran out
 * of memory; compile_ms is its time, for ph. */
int	 apply_policy_compiled(const char *state, const struct policy *p,
	    const char *text, size_t len, unsigned flags, unsigned confirm_secs,
	    struct strbuf *compiled, long long compile_ms,
	    struct apply_phases *ph, struct strbuf *msg, struct strbuf *err);
/* Settle what an earlier apply --confirm left: past its deadline, the
 * previous ruleset is restored (its watchdog may have been killed, or the
 * machine was down); before it, a watchdog is made sure to run.  Every
 * command that touches the state does this first (apply, confirm,
 * rollback do it themselves); moatd at its start.  0, or -1 with err; msg
 * says what was done. */
int	 apply_recover(const char *state, struct strbuf *msg,
	    struct strbuf *err);
/* For a start with no usable config: the ruleset of the last entry of the
 * history put back (the last the kernel had, the last good one), or, with
 * no history, the lockdown (nftc_lockdown, the management ports open from
 * lan_device when not NULL).  *seq is the entry, 0 for the lockdown.  0,
 * or -1 with err; msg says what was done. */
int	 apply_fallback(const char *state, const char *lan_device,
	    unsigned *seq, struct strbuf *msg, struct strbuf *err);
/* Whether an apply --confirm waits: its entry and its deadline. */
bool	 apply_pending(const char *state, unsigned *seq, time_t *deadline);
/* Keep the ruleset of the pending apply --confirm. */
int	 apply_confirm(const char *state, struct strbuf *msg,
	    struct strbuf *err);
/* Restore the ruleset of history entry seq (a new entry, "rollback");
 * seq 0: the one active before the current one. */
int	 apply_restore(const char *state, unsigned seq, struct strbuf *msg,
	    struct strbuf *err);
/* The same, kept only when confirmed within confirm_secs (apply_confirm;
 * 0: kept as it is): else the entry in force before comes back, as after
 * an apply --confirm. */
int	 apply_restore_confirm(const char *state, unsigned seq,
	    unsigned confirm_secs, struct strbuf *msg, struct strbuf *err);
/* Restore the ruleset that was active before the current one. */
int	 apply_rollback(const char *state, struct strbuf *msg,
	    struct strbuf *err);
/* Read the history, oldest first; *n entries in a malloc'd array. */
int	 apply_history(const char *state, struct history_entry **v, size_t *n,
	    struct strbuf *err);
/* The stored config text of entry seq, malloc'd, a NUL after its *len
 * bytes. */
char	*apply_config_text(const char *state, unsigned seq, size_t *len);
/* lint's memos (lint.h), kept in the state directory for the next lint
 * of an edit to reuse: of the config applied last by moat apply
 * (APPLY_MEMO_IN_FORCE), and of the config file as the console saved it
 * last (APPLY_MEMO_CONFIG).  Its bytes (malloc'd), or NULL.  Nothing
 * depends on either: lint reads only the groups of a memo that fit the
 * policy it is said to be of. */
#define APPLY_MEMO_IN_FORCE	"lint.memo"
#define APPLY_MEMO_CONFIG	"config.memo"
char	*apply_lint_memo(const char *state, const char *which, size_t *len);
/* Keep memo (len bytes) in its place: 0, or -1 (the previous removed). */
int	 apply_lint_memo_keep(const char *state, const char *which,
	    const char *memo, size_t len);
/* The config text of the entry in force (the last of the history),
 * malloc'd, its entry in *seq; NULL with *seq 0 when nothing is in force
 * (nothing applied, or the last rollback removed the table), NULL with
 * err when the history cannot be read. */
char	*apply_running_text(const char *state, unsigned *seq, size_t *len,
	    struct strbuf *err);
/* How table inet moat in the kernel compares with what entry seq put
 * there. */
enum apply_drift {
	DRIFT_NONE = 0,		/* as applied */
	DRIFT_CHANGED,		/* changed since (by hand, or another tool) */
	DRIFT_NO_TABLE,		/* no table here (a reboot, another netns) */
	DRIFT_UNKNOWN,		/* applied before moat recorded it */
};
enum apply_drift apply_drift(const char *state, unsigned seq);
/* Fill the dynamic sets of the entry in force (nftc.h) with what its
 * config's dynamic interfaces are under binding b, the addresses the
 * devices have now (rtnl.h): moatd, when they change.  1 when sets were
 * filled (msg says so), 0 when there are none to fill, -1 with err. */
int	 apply_dynamic(const char *state, const struct binding *b,
	    struct strbuf *msg, struct strbuf *err);
/*
 * Feed object name (doc/design/feeds.md) now holds now (fetched at
 * fetched, entries read): the sets of the entry in force change by
 * difference (elements deleted and added, one transaction, with the
 * refill of the rule sides that hold it with more), and the state
 * directory keeps it (feedstore.h) for the next apply, rollback or boot.
 * key is feedstore_key of the definition it was fetched for: when the
 * config in force has no such object, it is only kept.  1 when the
 * kernel changed (*changed elements; msg says so), 0 when it had nothing
 * to change, -1 with err (the kernel and the kept copy as they were).
 */
int	 apply_feed(const char *state, const char *name, uint64_t key,
	    struct iset now, time_t fetched, uint64_t entries, size_t *changed,
	    struct strbuf *msg, struct strbuf *err);
/* A config's hash (the history's, the console's, the firewall log's):
 * FNV-1a 64 of its text with the HA secret's value as as many 'x'
 * (lexer_blank_secrets).  The hash goes where the secret may not (the
 * console, moatd-log), and FNV-1a of a text known but for the secret
 * would let them test guesses of it. */
uint64_t apply_hash(const char *s, size_t len);
/* Whether hash is the text's: apply_hash's, or FNV-1a of the whole text,
 * as entries recorded before the secret was left out have it. */
bool	 apply_hash_is(const char *s, size_t len, uint64_t hash);

#endif

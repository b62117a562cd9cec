/* status.h: the gateway's status, gathered once and printed three ways:
 * text (`moat status`), JSON (`moat status --json`, the console's API) and
 * the Prometheus exposition (`moat metrics`, the metrics file).  Every
 * reader of the history, the kernel's counters, moatd's mail and log
 * figures and the HA pair's state goes through status_collect. */
#ifndef MOAT_STATUS_H
#define MOAT_STATUS_H

#define STATUS_FEEDS_FILE	"feeds.json"	/* in the run directory */
#define STATUS_GATEWAYS_FILE	"gateways.json"	/* also */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "base/strbuf.h"
#include "enforce/apply.h"
#include "enforce/counters.h"
#include "enforce/foreign.h"
#include "observe/fwlog.h"
#include "observe/mailstats.h"
#include "policy/policy.h"

struct gw_status {
	bool			 have_entry;	/* the history has an entry */
	struct history_entry	 entry;		/* the newest */
	enum apply_drift	 drift;		/* of the kernel from it */
	struct policy		*p;		/* its config, if it parses */
	bool			 pending;	/* an apply --confirm waits */
	unsigned		 pending_seq;
	time_t			 deadline;
	int			 unapplied;	/* the config file differs from
						   what is in force: 1, 0, or
						   -1 unknown */
	bool			 have_ctr;	/* the kernel answered */
	struct counter		*ctr;
	size_t			 nctr;
	size_t			 nctr_all;	/* before counters_max */
	char			 ctr_err[256];	/* why not */
	bool			 have_mail;
	struct mailstats	 mail;
	bool			 have_fw;
	struct fwlog_stats	 fw;
	json_t			*ha;		/* the pair's state, or NULL */
	json_t			*feeds;		/* moatd's feed objects
						   (RUN/feeds.json), or NULL */
	json_t			*gateways;	/* its gateways and groups
						   (RUN/gateways.json), or
						   NULL */
	bool			 have_foreign;	/* the other tables' base
						   chains were read */
	struct foreign_chain	*foreign;
	size_t			 nforeign;
	size_t			 nforeign_more;	/* past FOREIGN_MAX */
	char			 foreign_err[256];	/* asked, not read:
							   why */
	time_t			 now;
};

struct status_where {
	const char	*state;		/* the state directory */
	const char	*run;		/* the run directory (firewall log) */
	const char	*conf;		/* the config file, or NULL */
	const char	*ha_file;	/* the HA pair's state file, or NULL */
	size_t		 counters_max;	/* the busiest this many counters
					   of all, in the usual order (0:
					   all) */
	bool		 counters_none;	/* the kernel's not read, nor the
					   config in force parsed (at
					   100,000 rules about 1 s) */
	bool		 foreign;	/* the other tables' base chains
					   read too (enforce/foreign.h) */
};

/* Gather everything.  0, or -1 with err when the history cannot be read;
 * a kernel that cannot be asked is said in ctr_err, not an error. */
int	 status_collect(const struct status_where *w, struct gw_status *st,
	    struct strbuf *err);
void	 status_free(struct gw_status *st);
/* moat status: the entry in force, per-rule counters, then the firewall
 * log, the Gateway Anti-Virus and the HA pair, each when there is one. */
void	 status_text(const struct gw_status *st, struct strbuf *b);
/* The same as one JSON object (caller owns it): applied, pending, ha,
 * unapplied_changes, counters (and counters_total, of all), mail,
 * firewall_log, other_tables and other_tables_more (when read; else,
 * when asked, other_tables_error). */
json_t	*status_json(const struct gw_status *st);
/* RUN/feeds.json as moatd's parent wrote it ({"objects": [...], ...}),
 * or NULL when there is none (moatd follows no feed object, or is not
 * running) or it is not that shape.  The caller owns it. */
json_t	*status_feeds_load(const char *run);
/* RUN/gateways.json as moatd's parent wrote it ({"gateways": [...],
 * "groups": [...], ...}), or NULL.  The caller owns it. */
json_t	*status_gateways_load(const char *run);
/* moat objects [NAME]: each feed object's kind, source, elements per
 * family, last refresh and its result, next refresh and last error (the
 * one named, or all); -1 when name is not a feed object moatd follows. */
int	 status_feeds_text(const struct gw_status *st, const char *name,
	    struct strbuf *b);
/* The history of applies as a JSON array of {entry, time, what, hash,
 * file} (new reference), or NULL with err. */
json_t	*history_json(const char *state, struct strbuf *err);

#endif

/* mailstats.h: the Gateway Anti-Virus in figures: messages by outcome
 * and bytes, in total, since moatd started, per hour and per day, the
 * last virus, and the engine; kept across restarts in the state
 * directory (MAILSTATS_FILE), from the records of mail.jsonl. */
#ifndef MOAT_MAILSTATS_H
#define MOAT_MAILSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/strbuf.h"

#define MAILLOG_FILE	"mail.jsonl"
#define MAILSTATS_FILE	"mail-stats.json"
#define MAILSTATS_HOURS	48
#define MAILSTATS_DAYS	62

struct mail_counts {
	uint64_t	messages;	/* every message that reached DATA's end */
	uint64_t	scanned;	/* clean + virus */
	uint64_t	clean;
	uint64_t	virus;
	uint64_t	scan_failures;	/* not scanned: the engine failed */
	uint64_t	size_rejects;	/* over max-message-size */
	uint64_t	tempfail;	/* 4xx: failed, scan-failed, the next
					   hop, a timeout */
	uint64_t	bytes;
};

/*
 * Mail over TLS: messages by the legs that had TLS, the next hops'
 * certificates by how they were verified, passthrough sessions, and the
 * recipients deferred because their domain's TLS policy was not met.
 * Only uint64_t members: they are stored and read by name (mailstats.c).
 */
struct mail_tls {
	uint64_t	both;		/* messages: TLS on both legs */
	uint64_t	client;		/* the client's leg only */
	uint64_t	server;		/* the next hop's leg only */
	uint64_t	none;		/* neither */
	/* Sessions the proxy relayed unread (smtp-intercept-tls
	 * passthrough): their messages are unseen, so they are not in
	 * messages nor in the four above. */
	uint64_t	passthrough;
	uint64_t	passthrough_bytes;	/* both ways */
	uint64_t	verified_dane;	/* messages whose next hop's */
	uint64_t	verified_mta_sts;	/* certificate was verified */
	uint64_t	verified_ca;
	uint64_t	deferred;	/* recipients deferred (451 4.7.5) */
	uint64_t	deferred_dane;	/* of those, by the policy unmet */
	uint64_t	deferred_mta_sts;
	uint64_t	deferred_verify;
};

struct mail_period {
	char			key[16];	/* "2026-11-30T08", "2026-11-30" */
	struct mail_counts	c;
};

/* The scan time histogram's upper bounds, seconds (and +Inf). */
#define MAILSTATS_BUCKETS	10
extern const double mailstats_bounds[MAILSTATS_BUCKETS - 1];

/* One clamd of the engine's farm, as the proxy last said. */
#define MAILSTATS_PARTS	8
struct engine_part {
	char		address[128];
	bool		up;
	long long	since;		/* up or out since, time(2) */
	uint64_t	scans, failures;
	char		error[160];	/* why it is out */
};

struct mailstats {
	struct mail_counts	total, since_start;
	struct mail_tls		tls_total, tls_since_start;
	/* Scans (clean or virus) by time taken, in total: bucket i holds
	 * those up to mailstats_bounds[i] (not cumulative), the last the
	 * rest. */
	uint64_t		scan_buckets[MAILSTATS_BUCKETS];
	double			scan_seconds;	/* their sum */
	long long		started;	/* moatd's start, time(2) */
	struct mail_period	hours[MAILSTATS_HOURS], days[MAILSTATS_DAYS];
	size_t			nhours, ndays;	/* oldest first */
	char			last_virus_time[32];
	char			last_virus_sig[128];
	char			last_virus_client[80];
	char			engine[96];	/* "" until the proxy says */
	char			engine_error[200];
	unsigned		signatures, db_version;
	uint64_t		engine_memory;	/* what its load took, bytes */
	unsigned		load_ms;	/* how long it took */
	char			reload[16];	/* "concurrent", "blocking" or
						   "" (the first load) */
	struct engine_part	parts[MAILSTATS_PARTS];	/* clamd's farm */
	size_t			nparts;
	long long		db_time;
	unsigned		sessions;	/* open, now */
	long long		updated;
};

/* Load state/MAILSTATS_FILE (a missing one: zeros).  0, or -1 when it
 * exists and cannot be read. */
int	 mailstats_load(const char *state, struct mailstats *m);
/* Replace it whole. */
int	 mailstats_save(const char *state, const struct mailstats *m);
/* moatd starts: the figures since start back to zero, from now. */
void	 mailstats_restart(struct mailstats *m, long long now);
/* Count one mail.jsonl record: 0, or -1 when it is not one.  A message
 * counts in the outcomes and by its TLS legs; a "passthrough" record is
 * a passthrough session and a "tls-deferred" one a recipient deferred,
 * neither of them a message. */
int	 mailstats_add(struct mailstats *m, const char *json);
/* The same, of the record parsed (moatd's parent parses each once). */
int	 mailstats_add_json(struct mailstats *m, json_t *o);
/* Take the proxy's "engine" JSON. */
void	 mailstats_engine(struct mailstats *m, const char *json);
/* The engine's farm as a JSON array: address, up, since, scans,
 * failures, error each (the caller owns it). */
json_t	*mailstats_parts_json(const struct mailstats *m);
/* The counts of the period with this key ("" when there is none). */
const struct mail_counts *mailstats_period(const struct mailstats *m,
	    bool day, const char *key);
/* The current hour's and day's keys, local time. */
void	 mailstats_keys(long long t, char *hour, char *day);
/* A mail.jsonl record in words, no newline. */
int	 mailstats_text(const char *json, struct strbuf *b);

#endif

/* scan.h: asking ClamAV about a message, through either engine: libclamav
 * embedded (clamav.c) or clamd over its socket (clamd.c).
 */
#ifndef MOAT_SCAN_H
#define MOAT_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"
#include "smtp/msgbuf.h"

enum scan_verdict {
	SCAN_CLEAN,
	SCAN_VIRUS,
	SCAN_FAILED,		/* not scanned: why says so */
};

struct scan_result {
	enum scan_verdict	 verdict;
	char			 sig[128];	/* virus: the signature */
	char			 why[160];	/* failed: the reason */
	char			 ignored[128];	/* clean, but this signature
						   (ignore-signature) matched */
};

struct scanner;

/* Open the engine the antivirus block names: loads and compiles the
 * signatures (libclamav, its temporary files in scratch, a private
 * directory, or NULL for its default) or checks that clamd answers PING.
 * NULL with the reason in err. */
struct scanner	*scanner_open(const struct antivirus *av,
		    const char *scratch, char *err, size_t errlen);
/* Scan a whole message; safe from several threads at once. */
void		 scanner_scan(struct scanner *s, struct msgbuf *m,
		    struct scan_result *r);
/* True when the engine's signature database changed on disk since it was
 * loaded (libclamav; clamd watches its own).  One thread at a time. */
bool		 scanner_changed(struct scanner *s);
/* Call fn(arg) from the engine's own thread when its state changes (a
 * clamd instance taken out or put back); fn must not close s. */
void		 scanner_set_notify(struct scanner *s, void (*fn)(void *),
		    void *arg);
/* The engine's parts as a JSON array into json (clamd: every instance,
 * address, up, since, scans, failures, error); "[]" for libclamav. */
void		 scanner_state(struct scanner *s, char *json, size_t len);
/* "clamav 1.4.6" or "clamd ClamAV 1.4.6/...", for the header and logs. */
const char	*scanner_name(const struct scanner *s);
void		 scanner_close(struct scanner *s);

/* The engines. */
struct scanner	*clamav_open(const char *dbdir, const char *scratch,
		    size_t max_size, unsigned timeout, char *const *ignore,
		    unsigned nignore, char *err, size_t errlen);
void		 clamav_scan(struct scanner *s, struct msgbuf *m,
		    struct scan_result *r);
void		 clamav_close(struct scanner *s);
bool		 clamav_changed(struct scanner *s);
struct scanner	*clamd_open(char *const *where, unsigned n,
		    unsigned timeout, char *err, size_t errlen);
void		 clamd_scan(struct scanner *s, struct msgbuf *m,
		    struct scan_result *r);
void		 clamd_close(struct scanner *s);
void		 clamd_set_notify(struct scanner *s, void (*fn)(void *),
		    void *arg);
void		 clamd_state(struct scanner *s, char *json, size_t len);

/* The part every engine's handle starts with. */
struct scanner {
	enum av_engine	 engine;
	char		 name[96];
	unsigned	 signatures;	/* libclamav: loaded; clamd: 0 */
	unsigned	 timeout;	/* scan-timeout, seconds */
	unsigned	 ignored;	/* signatures ignore-signature keeps
					   out (libclamav) */
	unsigned	 db_version;	/* daily's version, 0 unknown */
	long long	 db_time;	/* its build time, 0 unknown */
};

#endif

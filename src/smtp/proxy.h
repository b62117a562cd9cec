/* proxy.h: one SMTP proxy session, client to next hop, with the message
 * scanned between the end of DATA and the upstream's DATA.
 *
 * The client is never told 250 for a message unless the next hop said 250
 * for it: the end-of-data reply the client gets is the upstream's own, or
 * a 4xx/5xx of moat's when the message was not passed on.
 */
#ifndef MOAT_PROXY_H
#define MOAT_PROXY_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "policy/policy.h"
#include "smtp/scan.h"
#include "smtp/tlsio.h"
#include "smtp/tlspolicy.h"

/* The files of smtp-tls-* that moatd's parent reads for the proxy (PEM
 * text, NULL: none). */
struct proxy_tls_files {
	const char	*cert, *key, *ca, *trust_anchor;
};

/* What every session started under one configuration shares; reference
 * counted, so a reload (SIGHUP) gives new sessions a new one while old
 * sessions finish with theirs. */
struct proxy_conf {
	struct antivirus	 av;		/* strings point into strs */
	char			 engine_path[256], relay_to[128];
	char			 relay_host[128];	/* its name, or "" */
	char			 engine_addr[AV_CLAMD_MAX][256];
	char			*engine_addrs[AV_CLAMD_MAX];
	struct sockaddr_storage	 relay_addr;	/* relay_to, resolved once */
	socklen_t		 relay_len;	/* 0: relay_to is not usable */
	struct scanner		*scanner;	/* NULL: every scan fails */
	char			 scanner_err[256];
	/* A blocking reload takes the engine away under the write lock
	 * (scans hold the read lock); reloading then says so: such a
	 * message gets 451 even with on-scan-failure pass. */
	pthread_rwlock_t	 scan_lock;
	bool			 reloading;
	unsigned long long	 engine_bytes;	/* what loading it took */
	unsigned		 load_ms;
	/* TLS: moat's certificate (no server credentials: STARTTLS is not
	 * offered) and the trust anchors for next hops */
	struct tlsio_creds	 tls;
	char			 tls_err[256];	/* why there is no TLS */
	/* what recipients' domains ask of the next hop (DANE, MTA-STS);
	 * NULL below smtp-tls-upstream dane, or when it cannot work
	 * (tlspol_err says why; verify then defers every recipient) */
	struct tlspol_ctx	*tlspol;
	char			 tlspol_err[256];
	char			 tlspol_files[2][512];	/* in scratch, or "" */
	struct ival		*passthrough;	/* smtp-tls-passthrough-from */
	size_t			 npassthrough;
	char			 hostname[128];
	const char		*tmpdir;
	unsigned		 connect_timeout;	/* seconds */
	int			 refs;
};

/* A configuration from a policy's antivirus block; opens the engine (a
 * failure is kept in scanner_err: scans then fail, 451).  Messages too
 * large for memory go to unnamed files in tmpdir; the scanner's own
 * temporary files to scratch (scanner_open). */
struct proxy_conf *proxy_conf_new(const struct antivirus *av,
		    const char *tmpdir, const char *scratch,
		    const struct proxy_tls_files *tls);
/* Close c's engine now, for a blocking reload: scans in progress end
 * first; later messages of sessions on c get 451 saying why. */
void		 proxy_conf_drop_engine(struct proxy_conf *c, const char *why);
void		 proxy_conf_hold(struct proxy_conf *c);
void		 proxy_conf_put(struct proxy_conf *c);

enum proxy_mode {
	PROXY_RELAY,		/* the gateway's relay: next hop relay_to */
	PROXY_TRANSPARENT,	/* intercepted: next hop the original dest */
};

struct proxy_session {
	unsigned		 id;
	int			 fd;		/* the client, accepted */
	enum proxy_mode		 mode;
	bool			 scan;		/* false: relayed unscanned */
	const char		*noscan_why;	/* ... and why */
	bool			 spoof;		/* transparent: client's source */
	struct sockaddr_storage	 client, local;
	struct proxy_conf	*conf;		/* held by the session */
	struct proxy_session	*next;		/* moatd's queue */
};

/* Where each message's record goes besides the log line: one JSON
 * object (no newline) per message, from any session's thread (moatd's
 * proxy: a pipe to the parent, which writes mail.jsonl).  NULL: none. */
void	 proxy_set_reporter(void (*fn)(const char *json, size_t len));

/* Run one session to its end; closes the client and drops the conf.
 * Logs through base/log.h (moatd -v: every state change too). */
void	 proxy_run(struct proxy_session *s);

#ifdef MOAT_TEST_SEAMS
/* Test builds: proxy_run with the next hop already connected on
 * upstream_fd (the SMTP fuzz target's stand-in); closes it. */
void	 proxy_run_connected(struct proxy_session *s, int upstream_fd);
#endif

#endif

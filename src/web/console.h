/* console.h: the web console's process: HTTPS (libmicrohttpd, GnuTLS),
 * the REST API /api/v1 and the static pages.  It runs as its own
 * unprivileged user with no capabilities; everything it does to the
 * gateway, and who is asking, it asks moatd's parent (control.h) over one
 * socket, each request with an id that its answer must carry. */
#ifndef MOAT_CONSOLE_H
#define MOAT_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define CONSOLE_BODY_MAX	(1u << 20)	/* bytes of a request body */
/* Bytes of a config the console reads, edits and saves (about 350,000
 * rules of the bench's office policies; moat.conf's own limit is 64 MB),
 * and of the one body that carries one, PUT config's: its text escaped
 * in JSON, where a quote or a backslash takes two bytes.  A body over
 * CONSOLE_BODY_MAX is read only once the parent has said that its
 * session may change the config. */
#define CONSOLE_CONF_MAX	(16u << 20)
#define CONSOLE_SAVE_MAX	(2 * CONSOLE_CONF_MAX + (64u << 10))
/* Bytes of a request to the parent (a save's config escaped, and the
 * rest); the console answers 413 for a larger one itself. */
#define CONSOLE_REQUEST_MAX	(CONSOLE_SAVE_MAX + (64u << 10))
/* Seconds the console waits for the parent's answer: longer than any
 * apply (a whole ruleset's load has ten minutes, base/apart.h).  Past
 * it the channel is out of step, and the console ends (the parent starts
 * another). */
#define CONSOLE_ANSWER_WAIT	660
#define CONSOLE_DEADLINE	30		/* s for a whole request */
/* TLS 1.2 and 1.3 only, and of 1.2 only forward-secret key exchanges
 * (no static RSA, no DHE) with AEAD ciphers, no SHA-1 signatures: what
 * every browser the console serves speaks (GnuTLS priorities; the
 * review of 2026-12-07 found NORMAL's CBC-SHA1 and TLS_RSA offered). */
#define CONSOLE_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:" \
	"+VERS-TLS1.2:-RSA:-DHE-RSA:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
	"+CHACHA20-POLY1305:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1"

struct console_conf {
	int		 listen_fd;	/* bound and listening (by the parent) */
	int		 ctl;		/* to the parent */
	const char	*cert_pem;	/* the certificate and key, in memory */
	const char	*key_pem;
	const char	*root;		/* the static pages' directory */
	unsigned	 deadline;	/* s for a whole request (0:
					 * CONSOLE_DEADLINE) */
	bool		 plain;		/* no TLS, no listening socket: the
					 * fuzzer's, which hands connections
					 * in with console_connection */
};

struct console;

/* Start serving (a thread of libmicrohttpd's); NULL if it cannot. */
struct console *console_start(const struct console_conf *c);
/* Cut the connections whose request is not in within CONSOLE_DEADLINE
 * (console_run does it five times a second). */
void	 console_sweep(void);
/* Hand in a connected socket from addr (plain consoles).  0, or -1. */
int	 console_connection(struct console *s, int fd,
	    const struct sockaddr *addr, unsigned addrlen);
/* The connections open now. */
unsigned console_connections(struct console *s);
void	 console_stop(struct console *s);
/* Serve until the parent's end of ctl closes; the exit status. */
int	 console_run(const struct console_conf *c);

#endif

/* anvil.h: who may open an SMTP session now: a cap on sessions at once,
 * on sessions at once from one client address, and on new sessions a
 * minute from one address (Postfix's anvil does the same for smtpd).
 * Thread-safe: sessions end on their own threads.
 */
#ifndef MOAT_ANVIL_H
#define MOAT_ANVIL_H

#include <stddef.h>
#include <sys/socket.h>

struct anvil_limits {
	unsigned	 sessions;		/* at once; 0: no limit */
	unsigned	 client_sessions;	/* at once from one address */
	unsigned	 client_rate;		/* new a minute, one address */
};

struct anvil;

/* An empty table; NULL without memory. */
struct anvil	*anvil_new(void);
void		 anvil_free(struct anvil *a);
/* The limits from now on (a reload changes them; sessions open stay). */
void		 anvil_set_limits(struct anvil *a, const struct anvil_limits *l);
/* Admit a new session from client at now (seconds, monotonic): 0, or -1
 * with why (a static string for the 421 and the log) when a limit says
 * no.  An admitted session must be released once. */
int		 anvil_admit(struct anvil *a, const struct sockaddr_storage *client,
		    long long now, const char **why);
void		 anvil_release(struct anvil *a,
		    const struct sockaddr_storage *client);
/* Sessions open now, all clients. */
unsigned	 anvil_sessions(struct anvil *a);

#endif

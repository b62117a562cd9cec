/* identity.h: who is asking the console, decided by moatd's parent (root),
 * never by the console process: the users file's password check, the
 * sessions (a random token and its CSRF token, an idle timeout, ended when
 * the user's line in the users file changes or goes) and the throttling
 * of failed logins (per address, IPv6 per /64, per user, and overall). */
#ifndef MOAT_IDENTITY_H
#define MOAT_IDENTITY_H

#include <stdbool.h>
#include <time.h>

#include "base/users.h"

#define IDENTITY_SESSIONS	64	/* at once; the oldest goes */
#define IDENTITY_TOKEN		64	/* hex digits of a token */
#define IDENTITY_LIFETIME	(12 * 3600)	/* s: a session's whole life,
						   however busy (a stolen
						   token is not good for
						   ever: a review) */
#define THROTTLE_WINDOW		60	/* s: failures counted over this */
#define THROTTLE_ADDR		5	/* failures from one address (/64) */
#define THROTTLE_USER		10	/* failures for one user name */
#define THROTTLE_ALL		50	/* failures in all */
#define THROTTLE_BLOCK		60	/* s refused once over a limit */

struct session {
	char	 token[IDENTITY_TOKEN + 1], csrf[IDENTITY_TOKEN + 1];
	char	 user[USER_MAX + 1];
	char	 hash[256];		/* the user's line at login */
	time_t	 last;
	time_t	 born;			/* its login */
};

struct identity;

struct identity *identity_new(void);
void	 identity_free(struct identity *id);
/*
 * A login of user with password from addr (a numeric address) at now:
 * 200 with *s the new session, 401 (wrong), 429 (throttled: the password
 * is not even tried), 503 (the users file cannot be read).
 */
int	 identity_login(struct identity *id, const char *users,
	    const char *user, const char *password, const char *addr,
	    time_t now, const struct session **s);
/*
 * The session of token at now, its last use now: NULL when there is none,
 * it was idle over idle seconds, or its user's line in users changed
 * (password set again, user removed).  With need_csrf, csrf must be the
 * session's CSRF token too (*bad_csrf says it was not).
 */
const struct session *identity_session(struct identity *id,
	    const char *users, const char *token, bool need_csrf,
	    const char *csrf, unsigned idle, time_t now, bool *bad_csrf);
/* End the session of token (if any). */
void	 identity_logout(struct identity *id, const char *token);
/* The throttling key of a numeric address: itself, or its /64 for IPv6
 * (at least len 64 bytes). */
void	 identity_addr_key(const char *addr, char *key, size_t len);

#endif

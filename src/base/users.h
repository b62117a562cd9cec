/* users.h: the console's users file: "NAME:HASH" a line, the hash
 * yescrypt (libcrypt's crypt_gensalt and crypt). */
#ifndef MOAT_USERS_H
#define MOAT_USERS_H

#include <stddef.h>

#define USERS_DEFAULT	"/etc/moat/users"
#define USER_MAX	32

/* A name of 1 to USER_MAX letters, digits, '_', '.' or '-'. */
int	 users_valid_name(const char *name);
/* 1 when user's password is password, 0 when not (or no such user), -1
 * when the file cannot be read.  Takes as long either way. */
int	 users_check(const char *path, const char *user, const char *password);
/* Set user's password (adding the user), the file replaced whole, mode
 * 0600.  0, or -1 with err. */
int	 users_set(const char *path, const char *user, const char *password,
	    char *err, size_t errlen);
/* user's hash into hash: 1, 0 when there is no such user, -1 when the
 * file cannot be read. */
int	 users_hash(const char *path, const char *user, char *hash,
	    size_t len);
/* How many users the file has; -1 when it cannot be read. */
int	 users_count(const char *path);

#endif

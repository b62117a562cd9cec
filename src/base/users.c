/* users.c: see users.h. */
#include "base/users.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strbuf.h"

/* A hash of a password nobody has, to spend the same time on a user that
 * does not exist. */
#define DUMMY_SETTING	"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$"

int
users_valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > USER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '.' && name[i] != '-')
			return 0;
	return 1;
}

/* The hash of user in the file, or "" (0); -1 when it cannot be read. */
static int
lookup(const char *path, const char *user, char *hash, size_t len)
{
	char line[512];
	size_t ul = strlen(user);
	FILE *fp = fopen(path, "r");

	hash[0] = '\0';
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, user, ul) == 0 && line[ul] == ':') {
			snprintf(hash, len, "%s", line + ul + 1);
			break;
		}
	}
	fclose(fp);
	return 0;
}

int
users_check(const char *path, const char *user, const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char hash[256];
	const char *got;
	int rc = 0;

	if (cd == NULL)
		return -1;
	if (lookup(path, users_valid_name(user) ? user : "", hash,
	    sizeof(hash)) == -1) {
		free(cd);
		return -1;
	}
	got = crypt_r(password, hash[0] != '\0' ? hash : DUMMY_SETTING, cd);
	if (hash[0] != '\0' && got != NULL && got[0] != '*' &&
	    strcmp(got, hash) == 0)
		rc = 1;
	free(cd);
	return rc;
}

int
users_hash(const char *path, const char *user, char *hash, size_t len)
{
	if (!users_valid_name(user)) {
		hash[0] = '\0';
		return 0;
	}
	if (lookup(path, user, hash, len) == -1)
		return -1;
	return hash[0] != '\0';
}

int
users_count(const char *path)
{
	char line[512];
	FILE *fp = fopen(path, "r");
	int n = 0;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		n += strchr(line, ':') != NULL;
	fclose(fp);
	return n;
}

int
users_set(const char *path, const char *user, const char *password,
    char *err, size_t errlen)
{
	struct crypt_data *cd = NULL;
	char line[512], *setting = NULL;
	const char *hash;
	size_t ul = strlen(user);
	struct strbuf text;
	FILE *in;
	int rc = -1;

	if (!users_valid_name(user)) {
		snprintf(err, errlen, "'%s' is not a user name (1 to %d "
		    "letters, digits, '_', '.' or '-')", user, USER_MAX);
		return -1;
	}
	if (strlen(password) < 8) {
		snprintf(err, errlen, "a password has at least 8 characters");
		return -1;
	}
	if ((setting = crypt_gensalt_ra("$y$", 0, NULL, 0)) == NULL ||
	    (cd = calloc(1, sizeof(*cd))) == NULL ||
	    (hash = crypt_r(password, setting, cd)) == NULL || hash[0] == '*') {
		snprintf(err, errlen, "yescrypt: %s", strerror(errno));
		goto out;
	}
	/* The other users' lines, then this one's: the file replaced. */
	strbuf_init(&text, 0);
	if ((in = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), in) != NULL)
			if (!(strncmp(line, user, ul) == 0 && line[ul] == ':'))
				strbuf_puts(&text, line);
		fclose(in);
	}
	strbuf_printf(&text, "%s:%s\n", user, hash);
	if (strbuf_failed(&text) || file_replace(path, strbuf_str(&text),
	    text.len, 0600, 0) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno :
		    ENOMEM));
		strbuf_free(&text);
		goto out;
	}
	strbuf_free(&text);
	rc = 0;
out:
	free(setting);
	free(cd);
	return rc;
}

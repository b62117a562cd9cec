/* audit.c: see audit.h. */
#include "observe/audit.h"

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "base/users.h"

void
audit_write(const char *state, const char *user, const char *what,
    const char *detail)
{
	char path[4200], old[4210];
	struct stat st;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/audit.log", state);
	/* At AUDIT_MAX it goes to audit.log.1 (the one before that goes):
	 * root reads the log whole at every History page, and a console
	 * user's logins would otherwise grow it without end. */
	if (stat(path, &st) == 0 && st.st_size >= AUDIT_MAX) {
		snprintf(old, sizeof(old), "%s.1", path);
		(void)rename(path, old);
	}
	if ((fp = fopen(path, "a")) == NULL)
		return;
	fprintf(fp, "%lld %s %s ", (long long)time(NULL),
	    user != NULL && users_valid_name(user) ? user : "-", what);
	/* one word of printable bytes: a detail cannot end its line or
	 * make a field of its own (the audit is read by spaces) */
	if (detail == NULL || *detail == '\0')
		detail = "-";
	for (; *detail != '\0'; detail++)
		fputc(*detail > ' ' && *detail < 0x7f ? *detail : '?', fp);
	fputc('\n', fp);
	fclose(fp);
}

json_t *
audit_json(const char *state)
{
	char path[4200], line[512];
	json_t *au = json_array();
	FILE *fp;

	snprintf(path, sizeof(path), "%s/audit.log", state);
	if ((fp = fopen(path, "r")) == NULL)
		return au;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char who[64], what[32], detail[128];
		long long t;

		if (sscanf(line, "%lld %63s %31s %127s", &t, who, what,
		    detail) == 4) {
			json_t *e = json_object();

			json_object_set_new(e, "time", json_integer(t));
			json_object_set_new(e, "user", json_string(who));
			json_object_set_new(e, "what", json_string(what));
			json_object_set_new(e, "detail", json_string(detail));
			json_array_append_new(au, e);
		}
	}
	fclose(fp);
	return au;
}

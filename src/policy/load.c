/* load.c: reading a policy, the driver of the pipeline: the built-in
 * services and the config through the parser, then the resolver; see
 * load.h. */
#include "policy/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/builtin.h"
#include "policy/parser.h"
#include "policy/resolve.h"

#define CONF_MAX	(64u * 1024 * 1024)	/* largest config we read */

struct parse_job {
	struct policy	*p;
	const char	*file, *text;
	size_t		 len;
};

/* Everything policy_parse does that can run out of memory. */
static int
parse_all(void *arg)
{
	struct parse_job *job = arg;
	struct policy *p = job->p;

	p->file = arena_strdup(&p->arena, job->file);
	p->text = arena_strndup(&p->arena, job->text, job->len);
	p->len = job->len;
	diags_init(&p->diags, &p->arena);
	p->anti_lockout = true;
	p->firewall = true;
	p->object_names = nametab_new(&p->arena, 64);
	p->service_names = nametab_new(&p->arena, 64);

	parser_run(p, "<built-in>", builtin_services_text(),
	    strlen(builtin_services_text()), true);
	parser_run(p, p->file, job->text, job->len, false);
	resolve_policy(p);
	diags_sort(&p->diags);
	return 0;
}

struct policy *
policy_parse(const char *file, const char *text, size_t len)
{
	struct parse_job job = { .file = file, .text = text, .len = len };

	if ((job.p = calloc(1, sizeof(*job.p))) == NULL)
		return NULL;
	arena_init(&job.p->arena);
	if (arena_catch(&job.p->arena, parse_all, &job) == -1) {
		policy_free(job.p);
		return NULL;
	}
	return job.p;
}

struct policy *
policy_load(const char *path, char *err, size_t errlen)
{
	struct policy *p;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	bool is_stdin = strcmp(path, "-") == 0;

	fp = is_stdin ? stdin : fopen(path, "rb");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > CONF_MAX + 1)
				cap = CONF_MAX + 1;
			if (len == cap) {
				snprintf(err, errlen, "%s: larger than %u MB",
				    path, CONF_MAX >> 20);
				goto fail;
			}
			if ((nb = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!is_stdin)
		fclose(fp);
	p = policy_parse(is_stdin ? "<stdin>" : path, buf ? buf : "", len);
	free(buf);
	if (p == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	return p;
fail:
	if (!is_stdin)
		fclose(fp);
	free(buf);
	return NULL;
}

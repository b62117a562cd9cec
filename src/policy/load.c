/* load.c: reading a policy, the driver of the pipeline: the built-in
 * services and the config through the parser, then the resolver; see
 * load.h. */
#include "policy/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bigmem.h"
#include "policy/builtin.h"
#include "policy/parser.h"
#include "policy/resolve.h"


struct parse_job {
	struct policy		*p;
	const char		*file, *text;
	size_t			 len;
	const struct binding	*binding;
};

/* Everything policy_parse does that can run out of memory. */
static int
parse_all(void *arg)
{
	struct parse_job *job = arg;
	struct policy *p = job->p;

	p->file = arena_strdup(&p->arena, job->file);
	p->text = p->text_own != NULL ? p->text_own :
	    arena_strndup(&p->arena, job->text, job->len);
	p->len = job->len;
	diags_init(&p->diags, &p->arena);
	p->anti_lockout = true;
	p->firewall = true;
	p->logging.directory = LOG_DIR_DEFAULT;
	p->logging.rate = 500;
	p->logging.max_file_size = 10u << 20;
	p->logging.keep = 5;
	p->logging.metrics_interval = 60;
	p->console.users = "/etc/moat/users";
	p->console.cert = CONSOLE_CERT;
	p->console.key = CONSOLE_KEY;
	p->console.user = CONSOLE_USER;
	p->console.session_timeout = 900;
	p->ha.priority = HA_PRIORITY;
	p->ha.router_id = HA_ROUTER_ID;
	p->ha.preempt_delay = HA_PREEMPT_DELAY;
	p->dns_min_ttl = DNS_MIN_TTL_DEFAULT;
	p->dns_max_ttl = DNS_MAX_TTL_DEFAULT;
	p->object_names = nametab_new(&p->arena, 64);
	p->service_names = nametab_new(&p->arena, 64);
	p->sched_names = nametab_new(&p->arena, 8);

	parser_run(p, "<built-in>", builtin_services_text(),
	    strlen(builtin_services_text()), true);
	parser_run(p, p->file, job->text, job->len, false);
	p->binding = job->binding;
	resolve_policy(p);
	p->binding = NULL;
	diags_sort(&p->diags);
	return 0;
}

struct policy *
policy_parse(const char *file, const char *text, size_t len)
{
	return policy_parse_bound(file, text, len, NULL);
}

static struct policy *
parse(const char *file, const char *text, char *take, size_t len,
    const struct binding *b)
{
	struct parse_job job = { .file = file, .text = text, .len = len,
	    .binding = b };

	if ((job.p = calloc(1, sizeof(*job.p))) == NULL) {
		free(take);
		return NULL;
	}
	job.p->text_own = take;
	arena_init(&job.p->arena);
	if (arena_catch(&job.p->arena, parse_all, &job) == -1) {
		policy_free(job.p);
		return NULL;
	}
	return job.p;
}

struct policy *
policy_parse_bound(const char *file, const char *text, size_t len,
    const struct binding *b)
{
	return parse(file, text, NULL, len, b);
}

struct policy *
policy_parse_taking(const char *file, char *text, size_t len,
    const struct binding *b)
{
	return parse(file, text, text, len, b);
}

/*
 * A config that others can change is not one root should enforce (sshd's
 * StrictModes): refused when it is writable by group or others, or, when
 * we are root, owned by anyone but root.  Checked on the open file, so
 * that what is read is what was checked.
 */
static int
check_trusted(FILE *fp, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fileno(fp), &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by %s (mode %04o): not "
		    "enforced, since anyone who can write it decides what the "
		    "gateway lets through; chmod go-w %s", path,
		    (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		snprintf(err, errlen, "%s: owned by uid %u, not root: not "
		    "enforced, since its owner decides what the gateway lets "
		    "through; chown root %s", path, (unsigned)st.st_uid, path);
		return -1;
	}
	return 0;
}

static struct policy *
load(const char *path, bool trusted, const struct binding *b, char *err,
    size_t errlen)
{
	struct policy *p;
	struct stat st = { 0 };
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	bool is_stdin = strcmp(path, "-") == 0;

	fp = is_stdin ? stdin : fopen(path, "rb");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (trusted && !is_stdin && check_trusted(fp, path, err, errlen) == -1)
		goto fail;
	/* A file's room at once, and its NUL's: the policy keeps the
	 * buffer (policy_parse_taking), with no copy made in pieces. */
	if (!is_stdin && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) {
		if (st.st_size > POLICY_FILE_MAX) {
			snprintf(err, errlen, "%s: larger than %u MB", path,
			    POLICY_FILE_MAX >> 20);
			goto fail;
		}
		cap = (size_t)st.st_size + 2;
	}
	for (;;) {
		/* (room for a byte more and the NUL: a file of
		 * POLICY_FILE_MAX bytes ends with a read of none) */
		if (buf == NULL || len + 1 >= cap) {
			char *nb;
			size_t want = buf == NULL ? (cap ? cap : 65536) :
			    cap * 2;

			if (want > POLICY_FILE_MAX + 2)
				want = POLICY_FILE_MAX + 2;
			if (buf != NULL && want == cap) {
				snprintf(err, errlen, "%s: larger than %u MB",
				    path, POLICY_FILE_MAX >> 20);
				goto fail;
			}
			if ((nb = big_grow(buf, len, want)) == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
			cap = want;
		}
		n = fread(buf + len, 1, cap - 1 - len, fp);
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
	buf[len] = '\0';
	p = policy_parse_taking(is_stdin ? "<stdin>" : path, buf, len, b);
	if (p == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (trusted && !is_stdin && p->ha.secret != NULL &&
	    S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)))
		diag_warn(&p->diags, p->ha.loc, "%s holds the HA pair's "
		    "secret and %s can read it (mode %04o): whoever reads it "
		    "can sign what the pair trusts; chmod go-r %s", path,
		    (st.st_mode & S_IROTH) ? "everyone" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
	return p;
fail:
	if (!is_stdin)
		fclose(fp);
	free(buf);
	return NULL;
}

struct policy *
policy_load(const char *path, char *err, size_t errlen)
{
	return load(path, false, NULL, err, errlen);
}

struct policy *
policy_load_trusted(const char *path, char *err, size_t errlen)
{
	return load(path, true, NULL, err, errlen);
}

struct policy *
policy_load_bound(const char *path, bool trusted, const struct binding *b,
    char *err, size_t errlen)
{
	return load(path, trusted, b, err, errlen);
}

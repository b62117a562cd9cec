/*
 * control.c: the console's requests, answered by moatd's parent (root),
 * from one table: each request's name, whether it needs a session (and
 * its CSRF token), its arguments' types and ranges, its handler.  Each
 * request is a JSON object with "op"; each answer a JSON object with
 * "status" (the HTTP status the console gives its client) and the data.
 * Nothing of a request is taken on trust: who asks is the session's user
 * (identity.c), and names, texts, numbers and addresses are checked as
 * the command line would check them.  The config's requests are in
 * control_conf.c; the probe is made by web.c, away from the loop.
 */
#include "daemon/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze/flowfmt.h"
#include "base/clock.h"
#include "base/frame.h"
#include "base/linediff.h"
#include "base/log.h"
#include "base/users.h"
#include "daemon/answer.h"
#include "daemon/control_conf.h"
#include "enforce/apply.h"
#include "ha/engines.h"
#include "observe/audit.h"
#include "observe/fwlog.h"
#include "observe/status.h"
#include "observe/logfile.h"
#include "policy/lexer.h"


static const char *
str(json_t *req, const char *k)
{
	return json_string_value(json_object_get(req, k));
}

static void
audit(const struct control_env *env, const char *user, const char *what,
    const char *detail)
{
	audit_write(env->state, user, what, detail);
}

/* Probes a minute, at most (any user): each is a connection from the
 * gateway to wherever a console user aims it. */
#define PROBES_A_MINUTE	10

/*
 * POST probe {dst, service | port, timeout}: the telnet test for real,
 * from the gateway itself: a TCP connection to dst, and the server's
 * first line.  Checked here; made by an unprivileged child of moatd's
 * (web.c), the answer given when it ends (control_probe_answer), so the
 * parent never waits for it.  Not to loopback, multicast, broadcast or
 * an unspecified address; the gateway's own addresses are allowed (the
 * relay on LANIP:25 of seed configuration B is what one tests there).
 */
static void
op_probe(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	static time_t window;
	static unsigned used;
	const char *dst = str(req, "dst"), *service = str(req, "service");
	json_t *jp = json_object_get(req, "port"), *jt = json_object_get(req,
	    "timeout");
	long long port = json_integer_value(jp), secs = jt != NULL ?
	    json_integer_value(jt) : 3;
	struct control_probe *pr = env->probe;
	char err[256];
	u128 a;
	enum addr_family fam;

	(void)user;
	if ((service == NULL) == (jp == NULL)) {
		control_error(out, 400, "dst and service (or port) are needed");
		return;
	}
	if (addr_parse(dst, &a, &fam, err, sizeof(err)) == -1 ||
	    strchr(dst, '/') != NULL || strchr(dst, '-') != NULL) {
		control_error(out, 400, "dst: an IP address");
		return;
	}
	if (addr_not_unicast(a, fam)) {
		control_error(out, 400, "dst: not a loopback, multicast, broadcast or "
		    "unspecified address");
		return;
	}
	if (service != NULL) {
		struct policy *p = control_current_policy(env, out);
		struct flow f;

		if (p == NULL)
			return;
		memset(&f, 0, sizeof(f));
		if (flow_set_service(p, service, fam, &f, err,
		    sizeof(err)) == -1) {
			policy_free(p);
			control_error(out, 400, err);
			return;
		}
		policy_free(p);
		if (f.proto != 6) {
			control_error(out, 400, "the probe is a TCP connection: that "
			    "service is not TCP");
			return;
		}
		port = f.dport;
	}
	if (pr == NULL) {
		control_error(out, 501, "no probe here");
		return;
	}
	if (time(NULL) - window >= 60) {
		window = time(NULL);
		used = 0;
	}
	if (++used > PROBES_A_MINUTE) {
		control_error(out, 429, "at most 10 probes a minute: wait a little");
		return;
	}
	snprintf(pr->dst, sizeof(pr->dst), "%s", dst);
	pr->port = (unsigned)port;
	pr->timeout_ms = (int)secs * 1000;
	pr->pending = true;
}

void
control_probe_answer(const struct control_probe *pr, enum probe_result r,
    char *banner, char *err, struct strbuf *out)
{
	static const char *const what[] = { "connected", "refused",
	    "timed out", "error" };
	char msg[900];
	json_t *o;

	if (r > PROBE_ERROR)
		r = PROBE_ERROR;
	/* The server's bytes, as JSON can carry them. */
	str_clean_utf8(banner);
	str_clean_utf8(err);
	snprintf(msg, sizeof(msg), "%s port %u from the gateway: %s%s%s%s",
	    pr->dst, pr->port, what[r], r == PROBE_CONNECTED && banner[0] ?
	    ": " : r != PROBE_CONNECTED && err[0] ? " (" : "",
	    r == PROBE_CONNECTED ? banner : err, r != PROBE_CONNECTED &&
	    err[0] ? ")" : "");
	o = json_object();
	json_object_set_new(o, "result", json_string(what[r]));
	json_object_set_new(o, "port", json_integer(pr->port));
	json_object_set_new(o, "banner", json_string(r == PROBE_CONNECTED ?
	    banner : ""));
	json_object_set_new(o, "message", json_string(msg));
	control_answer(out, 200, o);
}

static void
op_apply(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	json_t *c = json_object_get(req, "confirm");
	struct strbuf msg, err;
	long long secs = json_is_integer(c) ? json_integer_value(c) : 0;
	json_t *o;
	char detail[32];

	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (env->apply((unsigned)secs, user, &msg, &err) == -1) {
		o = json_object();
		json_object_set_new(o, "error", json_string(strbuf_str(&err)));
		control_answer(out, 422, o);
	} else {
		snprintf(detail, sizeof(detail), "confirm=%lld", secs);
		audit(env, user, "apply", detail);
		o = json_object();
		json_object_set_new(o, "message", json_string(strbuf_str(&msg)));
		control_answer(out, 200, o);
	}
	strbuf_free(&msg);
	strbuf_free(&err);
}

static void
confirm_rollback(const struct control_env *env, const char *user,
    json_t *req, bool confirm, struct strbuf *out)
{
	json_t *e = json_object_get(req, "entry");
	unsigned target = e != NULL ? (unsigned)json_integer_value(e) : 0;
	struct strbuf msg, err;
	char detail[32];
	int rc;

	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	/* (the entry checked is the one restored: none given is made the
	 * one before the last here, once) */
	if (!confirm && !control_rollback_allowed(env, &target, &err)) {
		control_error(out, target == 0 ? 409 : 403, strbuf_str(&err));
		strbuf_free(&msg);
		strbuf_free(&err);
		return;
	}
	rc = confirm ? apply_confirm(env->state, &msg, &err) :
	    apply_restore_confirm(env->state, target,
	    (unsigned)json_integer_value(json_object_get(req, "confirm")),
	    &msg, &err);
	if (rc == -1)
		control_error(out, 409, strbuf_str(&err));
	else {
		json_t *o = json_object();

		if (confirm)
			snprintf(detail, sizeof(detail), "entry=%lld", e !=
			    NULL ? json_integer_value(e) : 0);
		else
			snprintf(detail, sizeof(detail), "entry=%lld,"
			    "confirm=%lld", e != NULL ? json_integer_value(e) :
			    0, json_integer_value(json_object_get(req,
			    "confirm")));
		audit(env, user, confirm ? "confirm" : "rollback",
		    detail);
		json_object_set_new(o, "message", json_string(strbuf_str(&msg)));
		control_answer(out, 200, o);
	}
	strbuf_free(&msg);
	strbuf_free(&err);
}

static void
op_history(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	struct strbuf err;
	json_t *o, *a;

	(void)user;
	(void)req;
	strbuf_init(&err, 0);
	if ((a = history_json(env->state, &err)) == NULL) {
		control_error(out, 500, strbuf_str(&err));
		strbuf_free(&err);
		return;
	}
	strbuf_free(&err);
	o = json_object();
	json_object_set_new(o, "entries", a);
	json_object_set_new(o, "audit", audit_json(env->state));
	control_answer(out, 200, o);
}

/* What moat status --json says (observe/status.c): one collection. */
static void
op_status(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	struct status_where w = { .state = env->state, .run = env->run,
	    .conf = env->conf };
	json_t *jc = json_object_get(req, "counters");
	char ha[4096];
	struct gw_status st;
	struct strbuf err;

	(void)user;
	/* counters=N: the busiest N (0: none, and nothing read for them),
	 * where a 100,000-rule policy has as many. */
	if (jc != NULL) {
		w.counters_max = (size_t)json_integer_value(jc);
		w.counters_none = w.counters_max == 0;
	}
	/* The other tables with the kernel's counters: not for the
	 * banner's cheap status (counters=0) every page asks. */
	w.foreign = !w.counters_none;
	snprintf(ha, sizeof(ha), "%s/" HA_STATUS_FILE, env->run);
	w.ha_file = ha;
	strbuf_init(&err, 0);
	if (status_collect(&w, &st, &err) == -1) {
		control_error(out, 500, strbuf_str(&err));
		strbuf_free(&err);
		return;
	}
	control_answer(out, 200, status_json(&st));
	status_free(&st);
	strbuf_free(&err);
}

/* The log pages' records: the newest LOG_RECORDS lines of the newest
 * LOG_BUDGET bytes, each at most LOG_LINE_MAX (a record is well under a
 * kilobyte; a mail record's strings are cut), kept as lines in a ring and
 * parsed once at the end.  Root reads files another process writes, in
 * its loop: a hundred of them of gigabytes held it for hours (a review,
 * 2026-12-07). */
#define LOG_RECORDS	1000
#define LOG_BUDGET	(8u << 20)
#define LOG_LINE_MAX	(64u << 10)

struct ring {
	char	*line[LOG_RECORDS];
	size_t	 n;		/* lines seen */
};

static void
collect(void *arg, const char *line)
{
	struct ring *r = arg;
	char **slot = &r->line[r->n % LOG_RECORDS];

	free(*slot);
	*slot = strdup(line);
	r->n++;
}

static void
read_log(const struct control_env *env, const char *file, uid_t owner,
    struct strbuf *out)
{
	json_t *a = json_array(), *o = json_object(), *rec;
	struct ring *r = calloc(1, sizeof(*r));
	size_t i, from;

	if (r == NULL) {
		json_decref(a);
		json_decref(o);
		control_error(out, 500, "out of memory");
		return;
	}
	logfile_read_tail(env->log_dir, file, LOG_BUDGET, LOG_LINE_MAX, owner,
	    collect, r);
	from = r->n > LOG_RECORDS ? r->n - LOG_RECORDS : 0;
	for (i = from; i < r->n; i++) {
		char *l = r->line[i % LOG_RECORDS];

		if (l != NULL && (rec = json_loads(l, 0, NULL)) != NULL)
			json_array_append_new(a, rec);
	}
	for (i = 0; i < LOG_RECORDS; i++)
		free(r->line[i]);
	free(r);
	json_object_set_new(o, "records", a);
	control_answer(out, 200, o);
}

/* ---- history: what changed between two entries -------------------------- */


static void
diff_line(void *arg, char tag, const char *line)
{
	char buf[2048];

	buf[0] = tag;
	str_copy_utf8(buf + 1, sizeof(buf) - 1, line);
	json_array_append_new(arg, json_string(buf));
}

/* GET diff?from=A&to=B: the configs of two history entries, a line
 * diff (base/linediff.h; configs are small). */
static void
op_diff(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	json_t *jf = json_object_get(req, "from"), *jt = json_object_get(req,
	    "to"), *a, *o;
	size_t lena, lenb;
	char *ta, *tb;
	int rc;

	(void)user;
	ta = apply_config_text(env->state, (unsigned)json_integer_value(jf),
	    &lena);
	tb = apply_config_text(env->state, (unsigned)json_integer_value(jt),
	    &lenb);
	if (ta == NULL || tb == NULL || lena > 1000000 || lenb > 1000000) {
		free(ta);
		free(tb);
		control_error(out, 404, "no such entry (or too large to compare)");
		return;
	}
	lexer_blank_secrets(ta, lena);
	lexer_blank_secrets(tb, lenb);
	a = json_array();
	rc = linediff(ta, tb, 50000000, diff_line, a);
	free(ta);
	free(tb);
	if (rc == -1) {
		json_decref(a);
		control_error(out, 413, "the configs are too large to compare here");
		return;
	}
	o = json_object();
	json_object_set_new(o, "lines", a);
	control_answer(out, 200, o);
}

static void
op_confirm(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	confirm_rollback(env, user, req, true, out);
}

static void
op_rollback(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	confirm_rollback(env, user, req, false, out);
}

static void
op_log(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	(void)user;
	(void)req;
	read_log(env, FWLOG_FILE, (uid_t)-1, out);
}

static void
op_mail_log(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	(void)user;
	(void)req;
	/* (root writes the mail log: a file of another's in the shared
	 * directory was planted) */
	read_log(env, MAILLOG_FILE, geteuid(), out);
}

/* ---- who asks ----------------------------------------------------------- */

/* POST login {user, password, addr}: a session (its token for the
 * cookie, its CSRF token), or 401, 429, 503. */
static void
op_login(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	const char *name = str(req, "user"), *pw = str(req, "password"),
	    *addr = str(req, "addr");
	const struct session *s;
	unsigned char a[16];
	json_t *o;
	int rc;

	(void)user;
	/* The client's address, as the console says it: an address, never
	 * text for the log or the audit (a console taken over could forge
	 * lines there), nor a fresh throttle key at each try. */
	if (inet_pton(AF_INET, addr, a) != 1 && inet_pton(AF_INET6, addr, a) !=
	    1) {
		control_error(out, 400, "addr: an IP address");
		return;
	}
	rc = identity_login(env->id, env->users, name, pw, addr, time(NULL),
	    &s);
	if (rc == 429) {
		control_error(out, 429, "too many failed logins: wait a minute");
		return;
	}
	if (rc == 503) {
		control_error(out, 503, "the console has no users file");
		return;
	}
	if (rc != 200) {
		log_warn("console: failed login for '%.32s' from %s",
		    users_valid_name(name) ? name : "?", addr);
		control_error(out, 401, "wrong user or password");
		return;
	}
	log_info("console: %s logged in from %s", s->user, addr);
	audit(env, s->user, "login", addr);
	o = json_object();
	json_object_set_new(o, "token", json_string(s->token));
	json_object_set_new(o, "csrf", json_string(s->csrf));
	json_object_set_new(o, "user", json_string(s->user));
	control_answer(out, 200, o);
}

static void
op_logout(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	identity_logout(env->id, str(req, "session"));
	audit(env, user, "logout", NULL);
	control_answer(out, 200, NULL);
}

/* Nothing to do: that the session may change things (its CSRF token is
 * right) is all the console asks, before it reads a body over
 * CONSOLE_BODY_MAX (console.h). */
static void
op_may_change(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	(void)env;
	(void)user;
	(void)req;
	control_answer(out, 200, NULL);
}

/* ---- the requests ------------------------------------------------------- */

#define SESSION	0x1	/* needs a session: who asks is its user */
#define CHANGES	0x2	/* and its CSRF token: it changes something */

enum field_type { F_STRING = 0, F_INT };

/* One argument of a request: its type, whether it must be there, and its
 * range (an integer's values, a string's length in bytes). */
struct field {
	const char	*name;
	enum field_type	 type;
	bool		 required;
	long long	 min, max;
};

#define STR(n, req, max)	{ n, F_STRING, req, 1, max }
#define INT(n, req, lo, hi)	{ n, F_INT, req, lo, hi }
#define ARGS_MAX		6

/* Every request the parent answers: the console's API, one each, with
 * the checks of its arguments' types and ranges (the handlers check what
 * the arguments mean). */
static const struct request {
	const char	*op;
	unsigned	 flags;
	void		(*fn)(const struct control_env *, const char *user,
			    json_t *, struct strbuf *);
	struct field	 args[ARGS_MAX];
} requests[] = {
	{ "login", 0, op_login, { STR("user", true, 64),
	    STR("password", true, 1024), STR("addr", true, 63) } },
	{ "logout", SESSION | CHANGES, op_logout, { { NULL } } },
	{ "get-config", SESSION, control_get_config, { { NULL } } },
	{ "may-change", SESSION | CHANGES, op_may_change, { { NULL } } },
	{ "save", SESSION | CHANGES, control_save, { STR("text", true,
	    CONSOLE_CONF_MAX), STR("if_match", true, 64) } },
	{ "check", SESSION | CHANGES, control_check, { STR("text", true,
	    CONSOLE_CONF_MAX) } },
	{ "policy", SESSION, control_policy, { INT("first", false, 1,
	    100000000), INT("count", false, 1, CONTROL_RULES_PAGE_MAX) } },
	{ "objects", SESSION, control_objects, { STR("name", false, 64) } },
	{ "test", SESSION | CHANGES, control_test, { STR("in", true, 64),
	    STR("src", true, 64), STR("dst", true, 64),
	    STR("service", false, 64), STR("proto", false, 16),
	    STR("dport", false, 16) } },
	{ "probe", SESSION | CHANGES, op_probe, { STR("dst", true, 64),
	    STR("service", false, 64), INT("port", false, 1, 65535),
	    INT("timeout", false, 1, 5) } },
	/* A confirm always (the page's 10 s to an hour; 1 for tests): the
	 * console is how an apply over the network locks its admin out. */
	{ "apply", SESSION | CHANGES, op_apply, { INT("confirm", true, 1,
	    3600) } },
	{ "confirm", SESSION | CHANGES, op_confirm, { INT("entry", false, 1,
	    100000000) } },
	{ "rollback", SESSION | CHANGES, op_rollback, { INT("entry", false,
	    1, 100000000), INT("confirm", true, 1, 3600) } },
	{ "history", SESSION, op_history, { { NULL } } },
	{ "changes", SESSION, control_changes, { { NULL } } },
	{ "diff", SESSION, op_diff, { INT("from", true, 1, 100000000),
	    INT("to", true, 1, 100000000) } },
	{ "status", SESSION, op_status, { INT("counters", false, 0,
	    100000) } },
	{ "log", SESSION, op_log, { { NULL } } },
	{ "mail-log", SESSION, op_mail_log, { { NULL } } },
};

/* The arguments of r as q's table says: 0, or -1 (an answer given). */
static int
check_args(const struct request *q, json_t *r, struct strbuf *out)
{
	const struct field *f;
	char msg[300];

	for (f = q->args; f < q->args + ARGS_MAX && f->name != NULL; f++) {
		json_t *v = json_object_get(r, f->name);
		long long n;

		if (v == NULL) {
			if (!f->required)
				continue;
		} else if (f->type == F_STRING && json_is_string(v)) {
			n = (long long)json_string_length(v);
			if (n >= f->min && n <= f->max &&
			    strlen(json_string_value(v)) == (size_t)n)
				continue;	/* and no NUL inside */
		} else if (f->type == F_INT && json_is_integer(v)) {
			n = json_integer_value(v);
			if (n >= f->min && n <= f->max)
				continue;
		}
		if (f->type == F_STRING)
			snprintf(msg, sizeof(msg), "%s: %s text of at most %lld "
			    "bytes", f->name, f->required ? "needed, a" : "a",
			    f->max);
		else
			snprintf(msg, sizeof(msg), "%s: %s whole number from %lld "
			    "to %lld", f->name, f->required ? "needed, a" : "a",
			    f->min, f->max);
		control_error(out, 400, msg);
		return -1;
	}
	return 0;
}

const char *
control_request_name(size_t i)
{
	return i < sizeof(requests) / sizeof(requests[0]) ? requests[i].op :
	    NULL;
}

/*
 * Whether the JSON text s holds at most max values (objects, arrays and
 * the items in them, counted by their '{', '[' and ',' outside strings),
 * before it is parsed: every request is a few fields, and the console
 * (less privileged) could otherwise make root's parse of one 32 MB request
 * of "{}" take gigabytes.
 */
static bool
few_values(const char *s, size_t len, size_t max)
{
	size_t i, n = 0;
	bool in = false;

	for (i = 0; i < len; i++) {
		if (in) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in = false;
		} else if (s[i] == '"')
			in = true;
		else if ((s[i] == '{' || s[i] == '[' || s[i] == ',') &&
		    ++n > max)
			return false;
	}
	return true;
}

void
control_handle(const struct control_env *env, const char *req, size_t len,
    struct strbuf *out)
{
	json_t *r = few_values(req, len, CONTROL_VALUES_MAX) ?
	    json_loadb(req, len, 0, NULL) : NULL;
	const char *op = json_is_object(r) ? str(r, "op") : NULL;
	const struct request *q = NULL;
	const struct session *s = NULL;
	bool bad_csrf;
	size_t i;

	if (env->probe != NULL)
		env->probe->pending = false;

	for (i = 0; op != NULL && i < sizeof(requests) / sizeof(requests[0]);
	    i++)
		if (strcmp(op, requests[i].op) == 0)
			q = &requests[i];
	if (op == NULL)
		control_error(out, 400, "not a request");
	else if (q == NULL)
		control_error(out, 404, "no such request");
	else if ((q->flags & SESSION) && (s = identity_session(env->id,
	    env->users, str(r, "session"), (q->flags & CHANGES) != 0,
	    str(r, "csrf"), env->idle, time(NULL), &bad_csrf)) == NULL)
		control_error(out, bad_csrf ? 403 : 401, bad_csrf ? "missing or wrong "
		    "X-CSRF-Token" : "log in first");
	else if (check_args(q, r, out) == 0)
		q->fn(env, s != NULL ? s->user : NULL, r, out);
	json_decref(r);
}


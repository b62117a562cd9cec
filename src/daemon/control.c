/*
 * control.c: the console's requests, answered by moatd's parent (root).
 * Each request is a JSON object with "op"; each answer a JSON object with
 * "status" (the HTTP status the console gives its client) and the data.
 * Nothing of a request is taken on trust: names, texts, numbers and
 * addresses are checked here as the command line would check them, and a
 * config is saved only when it parses, whole (a temporary file, synced,
 * renamed), and only if it is still the one the editor started from.
 */
#include "daemon/control.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/eval.h"
#include "analyze/flowfmt.h"
#include "analyze/lint.h"
#include "base/file.h"
#include "base/frame.h"
#include "base/hash.h"
#include "base/linediff.h"
#include "base/log.h"
#include "base/users.h"
#include "enforce/apply.h"
#include "enforce/rtnl.h"
#include "ha/engines.h"
#include "observe/audit.h"
#include "observe/fwlog.h"
#include "observe/status.h"
#include "observe/logfile.h"
#include "observe/mailstats.h"
#include "output/json.h"
#include "policy/load.h"

#define CONF_MAX_TEXT	(4u * 1024 * 1024)

static void
answer(struct strbuf *out, int status, json_t *o)
{
	char *s;

	if (o == NULL)
		o = json_object();
	json_object_set_new(o, "status", json_integer(status));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL)
		strbuf_puts(out, s);
	else
		strbuf_puts(out, "{\"status\":500}");
	free(s);
}

static void
error(struct strbuf *out, int status, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(msg));
	answer(out, status, o);
}

static const char *
str(json_t *req, const char *k)
{
	return json_string_value(json_object_get(req, k));
}

static char *
read_text(const char *path, size_t *len)
{
	return file_read(path, CONF_MAX_TEXT, len);
}

static void
hash_text(const char *text, size_t len, char *out)
{
	snprintf(out, 17, "%016llx", (unsigned long long)fnv1a(text, len));
}

/* The findings of p (errors, warnings, notes) as JSON. */
static json_t *
diagnostics(const struct policy *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.v[i];
		json_t *o = json_object();

		json_object_set_new(o, "line", json_integer(d->loc.line));
		json_object_set_new(o, "column", json_integer(d->loc.col));
		json_object_set_new(o, "severity", json_string(
		    d->severity == DIAG_ERROR ? "error" :
		    d->severity == DIAG_WARNING ? "warning" : "note"));
		json_object_set_new(o, "message", json_string(d->msg));
		json_array_append_new(a, o);
	}
	return a;
}

/* Parse text, and lint it when it is valid. */
static struct policy *
check_text(const char *name, const char *text, size_t len)
{
	struct policy *p = policy_parse(name, text, len);

	if (p != NULL && policy_valid(p)) {
		lint_policy(p, NULL);
		diags_sort(&p->diags);
	}
	return p;
}

/* One line of the audit log: who changed what, when. */
static void
audit(const struct control_env *env, const char *user, const char *what,
    const char *detail)
{
	audit_write(env->state, user, what, detail);
}

static void
op_get_config(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	char hash[17];
	size_t len;
	char *text = read_text(env->conf, &len);
	json_t *o;

	(void)user;
	(void)req;
	if (text == NULL) {
		error(out, 500, strerror(errno ? errno : EIO));
		return;
	}
	hash_text(text, len, hash);
	o = json_object();
	json_object_set_new(o, "text", json_stringn(text, len));
	json_object_set_new(o, "hash", json_string(hash));
	answer(out, 200, o);
	free(text);
}

int
control_write_conf(const char *path, const char *text, size_t len)
{
	return file_replace(path, text, len, 0600, 0);
}

/* What the console may not change (policy_privileged_change), against
 * the config file now. */
static const char *
protected_change(const struct control_env *env, const struct policy *now)
{
	struct policy *was;
	const char *what;
	size_t len;
	char *text = read_text(env->conf, &len);

	was = policy_parse(env->conf, text != NULL ? text : "", text != NULL ?
	    len : 0);
	free(text);
	if (was == NULL)
		return "the config file";
	what = policy_privileged_change(was, now);
	policy_free(was);
	return what;
}

static void
op_save(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	const char *text = str(req, "text"), *base = str(req, "if_match");
	size_t tlen = json_string_length(json_object_get(req, "text")), len;
	char hash[17], now_hash[17];
	char *cur = read_text(env->conf, &len);
	const char *what;
	struct policy *p;
	json_t *o;

	if (text == NULL || base == NULL) {
		free(cur);
		error(out, 400, "text and If-Match are needed");
		return;
	}
	if (cur != NULL)
		hash_text(cur, len, now_hash);
	else
		snprintf(now_hash, sizeof(now_hash), "0000000000000000");
	free(cur);
	if (strcmp(base, now_hash) != 0) {
		o = json_object();
		json_object_set_new(o, "error", json_string("the config changed "
		    "since it was read: reload it"));
		json_object_set_new(o, "hash", json_string(now_hash));
		answer(out, 409, o);
		return;
	}
	if ((p = check_text(env->conf, text, tlen)) == NULL) {
		error(out, 500, "out of memory");
		return;
	}
	o = json_object();
	json_object_set_new(o, "diagnostics", diagnostics(p));
	if (!policy_valid(p)) {
		json_object_set_new(o, "error", json_string("not valid: nothing "
		    "saved"));
		answer(out, 422, o);
		policy_free(p);
		return;
	}
	if ((what = protected_change(env, p)) != NULL) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s cannot be changed from the "
		    "console (it names a file, a user or a secret of a "
		    "privileged process): edit %s as root; nothing saved", what,
		    env->conf);
		json_object_set_new(o, "error", json_string(msg));
		answer(out, 422, o);
		policy_free(p);
		return;
	}
	policy_free(p);
	if (control_write_conf(env->conf, text, tlen) == -1) {
		json_decref(o);
		error(out, 500, strerror(errno));
		return;
	}
	hash_text(text, tlen, hash);
	audit(env, user, "save", hash);
	json_object_set_new(o, "hash", json_string(hash));
	answer(out, 200, o);
}

static void
op_check(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	const char *text = str(req, "text");
	struct policy *p;
	json_t *o;

	(void)env;
	(void)user;
	if (text == NULL) {
		error(out, 400, "text is needed");
		return;
	}
	if ((p = check_text("moat.conf", text, json_string_length(
	    json_object_get(req, "text")))) == NULL) {
		error(out, 500, "out of memory");
		return;
	}
	o = json_object();
	json_object_set_new(o, "valid", json_boolean(policy_valid(p)));
	json_object_set_new(o, "diagnostics", diagnostics(p));
	answer(out, 200, o);
	policy_free(p);
}

/* The config file, parsed (bound to the devices' addresses now). */
static struct policy *
current_policy(const struct control_env *env, struct strbuf *out)
{
	struct host_addrs h;
	struct strbuf err;
	struct policy *p;
	char e[256];

	strbuf_init(&err, 0);
	if (rtnl_addrs(&h, &err) == -1)
		memset(&h, 0, sizeof(h));
	strbuf_free(&err);
	p = policy_load_bound(env->conf, false, &h.b, e, sizeof(e));
	rtnl_addrs_free(&h);
	if (p == NULL) {
		error(out, 500, e);
		return NULL;
	}
	if (!policy_valid(p)) {
		json_t *o = json_object();

		json_object_set_new(o, "error", json_string("the config is not "
		    "valid"));
		json_object_set_new(o, "diagnostics", diagnostics(p));
		answer(out, 422, o);
		policy_free(p);
		return NULL;
	}
	return p;
}

/* A JSON text we wrote ourselves, as an object to nest. */
static json_t *
raw(const struct strbuf *b)
{
	json_t *v = json_loads(strbuf_str(b), JSON_DECODE_ANY, NULL);

	return v != NULL ? v : json_null();
}

static void
op_policy(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	struct policy *p = current_policy(env, out);
	struct strbuf b;
	json_t *o;

	(void)user;
	(void)req;
	if (p == NULL)
		return;
	lint_policy(p, NULL);
	diags_sort(&p->diags);
	strbuf_init(&b, 0);
	json_policy(p, &b);
	o = json_object();
	json_object_set_new(o, "policy", raw(&b));
	json_object_set_new(o, "diagnostics", diagnostics(p));
	answer(out, 200, o);
	strbuf_free(&b);
	policy_free(p);
}

static void
op_test(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	const char *in = str(req, "in"), *src = str(req, "src"),
	    *dst = str(req, "dst"), *service = str(req, "service"),
	    *proto = str(req, "proto"), *port = str(req, "dport");
	struct policy *p;
	struct flow f;
	struct verdict v;
	enum addr_family fs, fd;
	struct strbuf b;
	char err[200];
	json_t *o;

	(void)user;
	if (in == NULL || src == NULL || dst == NULL ||
	    (service == NULL) == (proto == NULL)) {
		error(out, 400, "in, src, dst and service (or proto and dport) "
		    "are needed");
		return;
	}
	if ((p = current_policy(env, out)) == NULL)
		return;
	memset(&f, 0, sizeof(f));
	if ((f.iface = policy_iface(p, in)) == NULL) {
		snprintf(err, sizeof(err), "unknown interface '%.60s'", in);
		error(out, 400, err);
	} else if (addr_parse(src, &f.src, &fs, err, sizeof(err)) == -1 ||
	    addr_parse(dst, &f.dst, &fd, err, sizeof(err)) == -1)
		error(out, 400, err);
	else if (fs != fd)
		error(out, 400, "src and dst must be of one family");
	else if ((service != NULL ? flow_set_service(p, service, fs, &f, err,
	    sizeof(err)) : flow_set_proto(proto, port, fs, &f, err,
	    sizeof(err))) == -1)
		error(out, 400, err);
	else {
		policy_eval(p, &f, &v);
		strbuf_init(&b, 0);
		json_verdict(p, &f, &v, &b);
		o = json_object();
		json_object_set_new(o, "result", raw(&b));
		answer(out, 200, o);
		strbuf_free(&b);
	}
	policy_free(p);
}

/* POST probe {dst, service | port, timeout}: the telnet test for real,
 * from the gateway itself: a TCP connection to dst, and the server's
 * first line.  The parent waits for it, so the timeout is short (1 to 5
 * s, 3 by default; 1 s more for the banner). */
static void
op_probe(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	static const char *const what[] = { "connected", "refused",
	    "timed out", "error" };
	const char *dst = str(req, "dst"), *service = str(req, "service");
	json_t *jp = json_object_get(req, "port"), *jt = json_object_get(req,
	    "timeout"), *o;
	long long port = json_integer_value(jp), secs = jt != NULL ?
	    json_integer_value(jt) : 3;
	char banner[512], err[256], msg[900];
	enum probe_result r;
	u128 a;
	enum addr_family fam;

	(void)user;
	if (dst == NULL || (service == NULL) == (jp == NULL)) {
		error(out, 400, "dst and service (or port) are needed");
		return;
	}
	if (addr_parse(dst, &a, &fam, err, sizeof(err)) == -1 ||
	    strchr(dst, '/') != NULL) {
		error(out, 400, "dst: an IP address");
		return;
	}
	if (jt != NULL && (!json_is_integer(jt) || secs < 1 || secs > 5)) {
		error(out, 400, "timeout: 1 to 5 seconds");
		return;
	}
	if (service != NULL) {
		struct policy *p = current_policy(env, out);
		struct flow f;

		if (p == NULL)
			return;
		memset(&f, 0, sizeof(f));
		if (flow_set_service(p, service, fam, &f, err,
		    sizeof(err)) == -1) {
			policy_free(p);
			error(out, 400, err);
			return;
		}
		policy_free(p);
		if (f.proto != 6) {
			error(out, 400, "the probe is a TCP connection: that "
			    "service is not TCP");
			return;
		}
		port = f.dport;
	} else if (!json_is_integer(jp) || port < 1 || port > 65535) {
		error(out, 400, "port: 1 to 65535");
		return;
	}
	if (env->probe == NULL) {
		error(out, 501, "no probe here");
		return;
	}
	err[0] = '\0';
	r = env->probe(dst, (unsigned)port, NULL, (int)secs * 1000, 1000,
	    banner, sizeof(banner), err, sizeof(err));
	/* The server's bytes, as JSON can carry them. */
	str_clean_utf8(banner);
	str_clean_utf8(err);
	snprintf(msg, sizeof(msg), "%s port %lld from the gateway: %s%s%s%s",
	    dst, port, what[r], r == PROBE_CONNECTED && banner[0] ? ": " :
	    r != PROBE_CONNECTED && err[0] ? " (" : "", r == PROBE_CONNECTED ?
	    banner : err, r != PROBE_CONNECTED && err[0] ? ")" : "");
	o = json_object();
	json_object_set_new(o, "result", json_string(what[r]));
	json_object_set_new(o, "port", json_integer(port));
	json_object_set_new(o, "banner", json_string(r == PROBE_CONNECTED ?
	    banner : ""));
	json_object_set_new(o, "message", json_string(msg));
	answer(out, 200, o);
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

	if (c != NULL && (!json_is_integer(c) || secs < 0 || secs > 86400)) {
		error(out, 400, "confirm takes seconds, 0 to 86400");
		return;
	}
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (env->apply((unsigned)secs, user, &msg, &err) == -1) {
		o = json_object();
		json_object_set_new(o, "error", json_string(strbuf_str(&err)));
		answer(out, 422, o);
	} else {
		snprintf(detail, sizeof(detail), "confirm=%lld", secs);
		audit(env, user, "apply", detail);
		o = json_object();
		json_object_set_new(o, "message", json_string(strbuf_str(&msg)));
		answer(out, 200, o);
	}
	strbuf_free(&msg);
	strbuf_free(&err);
}

static void
confirm_rollback(const struct control_env *env, const char *user,
    json_t *req, bool confirm, struct strbuf *out)
{
	json_t *e = json_object_get(req, "entry");
	struct strbuf msg, err;
	char detail[32];
	int rc;

	if (e != NULL && (!json_is_integer(e) || json_integer_value(e) < 1 ||
	    json_integer_value(e) > 100000000)) {
		error(out, 400, "entry takes a history entry's number");
		return;
	}
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	rc = confirm ? apply_confirm(env->state, &msg, &err) :
	    apply_restore(env->state, e != NULL ? (unsigned)json_integer_value(
	    e) : 0, &msg, &err);
	if (rc == -1)
		error(out, 409, strbuf_str(&err));
	else {
		json_t *o = json_object();

		snprintf(detail, sizeof(detail), "entry=%lld", e != NULL ?
		    json_integer_value(e) : 0);
		audit(env, user, confirm ? "confirm" : "rollback",
		    detail);
		json_object_set_new(o, "message", json_string(strbuf_str(&msg)));
		answer(out, 200, o);
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
		error(out, 500, strbuf_str(&err));
		strbuf_free(&err);
		return;
	}
	strbuf_free(&err);
	o = json_object();
	json_object_set_new(o, "entries", a);
	json_object_set_new(o, "audit", audit_json(env->state));
	answer(out, 200, o);
}

static void
op_status(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	(void)user;
	(void)req;
	answer(out, 200, status_json(env->state, env->run, env->conf,
	    HA_STATUS_FILE));
}

static void
collect(void *arg, const char *line)
{
	json_t *a = arg, *r = json_loads(line, 0, NULL);

	if (r != NULL)
		json_array_append_new(a, r);
	/* The newest 1,000 only. */
	while (json_array_size(a) > 1000)
		json_array_remove(a, 0);
}

static void
read_log(const struct control_env *env, const char *file, struct strbuf *out)
{
	json_t *a = json_array(), *o = json_object();

	logfile_read(env->log_dir, file, collect, a);
	json_object_set_new(o, "records", a);
	answer(out, 200, o);
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
	if (!json_is_integer(jf) || !json_is_integer(jt) ||
	    json_integer_value(jf) < 1 || json_integer_value(jt) < 1 ||
	    json_integer_value(jf) > 100000000 ||
	    json_integer_value(jt) > 100000000) {
		error(out, 400, "from and to: history entries");
		return;
	}
	ta = apply_config_text(env->state, (unsigned)json_integer_value(jf),
	    &lena);
	tb = apply_config_text(env->state, (unsigned)json_integer_value(jt),
	    &lenb);
	if (ta == NULL || tb == NULL || lena > 1000000 || lenb > 1000000) {
		free(ta);
		free(tb);
		error(out, 404, "no such entry (or too large to compare)");
		return;
	}
	a = json_array();
	rc = linediff(ta, tb, 50000000, diff_line, a);
	free(ta);
	free(tb);
	if (rc == -1) {
		json_decref(a);
		error(out, 413, "the configs are too large to compare here");
		return;
	}
	o = json_object();
	json_object_set_new(o, "lines", a);
	answer(out, 200, o);
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
	read_log(env, FWLOG_FILE, out);
}

static void
op_mail_log(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	(void)user;
	(void)req;
	read_log(env, MAILLOG_FILE, out);
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
	json_t *o;
	int rc;

	(void)user;
	if (name == NULL || pw == NULL || addr == NULL || strlen(addr) > 63) {
		error(out, 400, "user, password and addr are needed");
		return;
	}
	rc = identity_login(env->id, env->users, name, pw, addr, time(NULL),
	    &s);
	if (rc == 429) {
		error(out, 429, "too many failed logins: wait a minute");
		return;
	}
	if (rc == 503) {
		error(out, 503, "the console has no users file");
		return;
	}
	if (rc != 200) {
		log_warn("console: failed login for '%.32s' from %s",
		    users_valid_name(name) ? name : "?", addr);
		error(out, 401, "wrong user or password");
		return;
	}
	log_info("console: %s logged in from %s", s->user, addr);
	audit(env, s->user, "login", addr);
	o = json_object();
	json_object_set_new(o, "token", json_string(s->token));
	json_object_set_new(o, "csrf", json_string(s->csrf));
	json_object_set_new(o, "user", json_string(s->user));
	answer(out, 200, o);
}

static void
op_logout(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	identity_logout(env->id, str(req, "session"));
	audit(env, user, "logout", NULL);
	answer(out, 200, NULL);
}

/* ---- the requests ------------------------------------------------------- */

#define SESSION	0x1	/* needs a session: who asks is its user */
#define CHANGES	0x2	/* and its CSRF token: it changes something */

/* Every request the parent answers: the console's API, one each. */
static const struct request {
	const char	*op;
	unsigned	 flags;
	void		(*fn)(const struct control_env *, const char *user,
			    json_t *, struct strbuf *);
} requests[] = {
	{ "login", 0, op_login },
	{ "logout", SESSION | CHANGES, op_logout },
	{ "get-config", SESSION, op_get_config },
	{ "save", SESSION | CHANGES, op_save },
	{ "check", SESSION | CHANGES, op_check },
	{ "policy", SESSION, op_policy },
	{ "test", SESSION | CHANGES, op_test },
	{ "probe", SESSION | CHANGES, op_probe },
	{ "apply", SESSION | CHANGES, op_apply },
	{ "confirm", SESSION | CHANGES, op_confirm },
	{ "rollback", SESSION | CHANGES, op_rollback },
	{ "history", SESSION, op_history },
	{ "diff", SESSION, op_diff },
	{ "status", SESSION, op_status },
	{ "log", SESSION, op_log },
	{ "mail-log", SESSION, op_mail_log },
};

const char *
control_request_name(size_t i)
{
	return i < sizeof(requests) / sizeof(requests[0]) ? requests[i].op :
	    NULL;
}

void
control_handle(const struct control_env *env, const char *req, size_t len,
    struct strbuf *out)
{
	json_t *r = json_loadb(req, len, 0, NULL);
	const char *op = json_is_object(r) ? str(r, "op") : NULL;
	const struct request *q = NULL;
	const struct session *s = NULL;
	bool bad_csrf;
	size_t i;

	for (i = 0; op != NULL && i < sizeof(requests) / sizeof(requests[0]);
	    i++)
		if (strcmp(op, requests[i].op) == 0)
			q = &requests[i];
	if (op == NULL)
		error(out, 400, "not a request");
	else if (q == NULL)
		error(out, 404, "no such request");
	else if ((q->flags & SESSION) && (s = identity_session(env->id,
	    env->users, str(r, "session"), (q->flags & CHANGES) != 0,
	    str(r, "csrf"), env->idle, time(NULL), &bad_csrf)) == NULL)
		error(out, bad_csrf ? 403 : 401, bad_csrf ? "missing or wrong "
		    "X-CSRF-Token" : "log in first");
	else
		q->fn(env, s != NULL ? s->user : NULL, r, out);
	json_decref(r);
}

int
control_serve(const struct control_env *env, int fd, uint32_t *id,
    struct strbuf *out)
{
	size_t len;
	char *req = frame_recv_id(fd, CONTROL_REQUEST_MAX, id, &len);

	if (req == NULL)
		return -1;
	control_handle(env, req, len, out);
	free(req);
	return 0;
}

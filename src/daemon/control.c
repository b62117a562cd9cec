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
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/eval.h"
#include "analyze/flowfmt.h"
#include "analyze/lint.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/users.h"
#include "enforce/apply.h"
#include "enforce/counters.h"
#include "enforce/rtnl.h"
#include "ha/engines.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "observe/status.h"
#include "output/json.h"
#include "output/printer.h"
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
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 ||
	    (size_t)n > CONF_MAX_TEXT || fseek(fp, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	*len = fread(buf, 1, (size_t)n, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
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
	char path[4200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/audit.log", env->state);
	if ((fp = fopen(path, "a")) == NULL)
		return;
	fprintf(fp, "%lld %s %s %s\n", (long long)time(NULL),
	    user != NULL && users_valid_name(user) ? user : "-", what,
	    detail != NULL ? detail : "-");
	fclose(fp);
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

static bool
differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/*
 * What the console may not change: the settings that name files, users or
 * secrets of privileged processes (the parent writes the metrics file and
 * the logs as root; the console's user, certificate, key and users file
 * are its privilege; the HA secret is the pair's).  The first one that
 * now changes from the config file, or NULL.
 */
static const char *
protected_change(const struct control_env *env, const struct policy *now)
{
	struct policy *was;
	const char *what = NULL;
	size_t len;
	char *text = read_text(env->conf, &len);

	was = policy_parse(env->conf, text != NULL ? text : "", text != NULL ?
	    len : 0);
	free(text);
	if (was == NULL)
		return "the config file";
	if (differ(was->logging.metrics_file, now->logging.metrics_file))
		what = "logging { metrics-file }";
	else if (differ(was->logging.directory, now->logging.directory))
		what = "logging { directory }";
	else if (differ(was->console.user, now->console.user))
		what = "console { user }";
	else if (differ(was->console.cert, now->console.cert))
		what = "console { certificate }";
	else if (differ(was->console.key, now->console.key))
		what = "console { key }";
	else if (differ(was->console.users, now->console.users))
		what = "console { users }";
	else if (differ(was->ha.secret, now->ha.secret))
		what = "ha { secret }";
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
	struct history_entry *v;
	struct strbuf err;
	char path[4200], line[512], hash[17];
	json_t *o, *a, *au;
	size_t n, i;
	FILE *fp;

	(void)user;
	(void)req;
	strbuf_init(&err, 0);
	if (apply_history(env->state, &v, &n, &err) == -1) {
		error(out, 500, strbuf_str(&err));
		strbuf_free(&err);
		return;
	}
	strbuf_free(&err);
	a = json_array();
	for (i = 0; i < n; i++) {
		json_t *e = json_object();

		snprintf(hash, sizeof(hash), "%016llx",
		    (unsigned long long)v[i].hash);
		json_object_set_new(e, "entry", json_integer(v[i].seq));
		json_object_set_new(e, "time", json_integer(v[i].when));
		json_object_set_new(e, "what", json_string(v[i].what));
		json_object_set_new(e, "hash", json_string(hash));
		json_object_set_new(e, "file", json_string(v[i].file));
		json_array_append_new(a, e);
	}
	free(v);
	au = json_array();
	snprintf(path, sizeof(path), "%s/audit.log", env->state);
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			char who[64], what[32], detail[128];
			long long t;

			if (sscanf(line, "%lld %63s %31s %127s", &t, who, what,
			    detail) == 4) {
				json_t *e = json_object();

				json_object_set_new(e, "time", json_integer(t));
				json_object_set_new(e, "user", json_string(who));
				json_object_set_new(e, "what", json_string(what));
				json_object_set_new(e, "detail",
				    json_string(detail));
				json_array_append_new(au, e);
			}
		}
		fclose(fp);
	}
	o = json_object();
	json_object_set_new(o, "entries", a);
	json_object_set_new(o, "audit", au);
	answer(out, 200, o);
}

/* What moat status --json says (observe/status.c): one collection. */
static void
op_status(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	struct status_where w = { .state = env->state, .run = env->run,
	    .conf = env->conf };
	char ha[4096];
	struct gw_status st;
	struct strbuf err;

	(void)user;
	(void)req;
	snprintf(ha, sizeof(ha), "%s/" HA_STATUS_FILE, env->run);
	w.ha_file = ha;
	strbuf_init(&err, 0);
	if (status_collect(&w, &st, &err) == -1) {
		error(out, 500, strbuf_str(&err));
		strbuf_free(&err);
		return;
	}
	answer(out, 200, status_json(&st));
	status_free(&st);
	strbuf_free(&err);
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

/* The lines of a text, for the diff. */
static size_t
split_lines(char *text, char ***out)
{
	size_t n = 0, cap = 0;
	char *s = text, **v = NULL;

	while (*s != '\0') {
		char *nl = strchr(s, '\n');

		if (n == cap) {
			char **w = realloc(v, (cap = cap ? cap * 2 : 64) *
			    sizeof(*w));

			if (w == NULL)
				break;
			v = w;
		}
		v[n++] = s;
		if (nl == NULL)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	*out = v;
	return n;
}

/* GET diff?from=A&to=B: the configs of two history entries, a line
 * diff (the longest common subsequence: configs are small). */
static void
op_diff(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	json_t *jf = json_object_get(req, "from"), *jt = json_object_get(req,
	    "to"), *a, *o;
	char *ta, *tb, **la = NULL, **lb = NULL;
	size_t na, nb, i, j, lena, lenb;
	unsigned *lcs;

	(void)user;
	if (!json_is_integer(jf) || !json_is_integer(jt) ||
	    json_integer_value(jf) < 1 || json_integer_value(jt) < 1) {
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
	na = split_lines(ta, &la);
	nb = split_lines(tb, &lb);
	if ((na + 1) * (nb + 1) > 50000000 || (lcs = calloc((na + 1) *
	    (nb + 1), sizeof(*lcs))) == NULL) {
		free(la);
		free(lb);
		free(ta);
		free(tb);
		error(out, 413, "the configs are too large to compare here");
		return;
	}
	for (i = na; i-- > 0; )
		for (j = nb; j-- > 0; )
			lcs[i * (nb + 1) + j] = strcmp(la[i], lb[j]) == 0 ?
			    lcs[(i + 1) * (nb + 1) + j + 1] + 1 :
			    lcs[(i + 1) * (nb + 1) + j] > lcs[i * (nb + 1) + j + 1] ?
			    lcs[(i + 1) * (nb + 1) + j] : lcs[i * (nb + 1) + j + 1];
	a = json_array();
	for (i = 0, j = 0; i < na || j < nb; ) {
		char line[2048];

		if (i < na && j < nb && strcmp(la[i], lb[j]) == 0) {
			snprintf(line, sizeof(line), " %s", la[i]);
			i++;
			j++;
		} else if (j < nb && (i == na || lcs[i * (nb + 1) + j + 1] >=
		    lcs[(i + 1) * (nb + 1) + j]))
			snprintf(line, sizeof(line), "+%s", lb[j++]);
		else
			snprintf(line, sizeof(line), "-%s", la[i++]);
		json_array_append_new(a, json_string(line));
	}
	free(lcs);
	free(la);
	free(lb);
	free(ta);
	free(tb);
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

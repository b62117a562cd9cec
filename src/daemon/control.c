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
#include "base/hash.h"
#include "base/users.h"
#include "enforce/apply.h"
#include "enforce/counters.h"
#include "enforce/rtnl.h"
#include "ha/engines.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "observe/mailstats.h"
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
op_get_config(const struct control_env *env, struct strbuf *out)
{
	char hash[17];
	size_t len;
	char *text = read_text(env->conf, &len);
	json_t *o;

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

/* Write the config whole: 0, or -1 with errno. */
static int
write_conf(const char *path, const char *text, size_t len)
{
	char tmp[4200];
	int fd, saved;

	snprintf(tmp, sizeof(tmp), "%s.console", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

static void
op_save(const struct control_env *env, json_t *req, struct strbuf *out)
{
	const char *text = str(req, "text"), *base = str(req, "if_match");
	size_t tlen = json_string_length(json_object_get(req, "text")), len;
	char hash[17], now_hash[17];
	char *cur = read_text(env->conf, &len);
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
	policy_free(p);
	if (write_conf(env->conf, text, tlen) == -1) {
		json_decref(o);
		error(out, 500, strerror(errno));
		return;
	}
	hash_text(text, tlen, hash);
	audit(env, str(req, "user"), "save", hash);
	json_object_set_new(o, "hash", json_string(hash));
	answer(out, 200, o);
}

/*
 * The config file for an edit based on hash base: its text (malloc'd), or
 * NULL when the answer is already given (428 without a base, 409 when the
 * file changed since, 500 when it cannot be read).
 */
static char *
read_for_edit(const struct control_env *env, const char *base, size_t *len,
    struct strbuf *out)
{
	char hash[17], *cur;
	json_t *o;

	if (base == NULL) {
		error(out, 428, "If-Match: the hash the change is based on");
		return NULL;
	}
	if ((cur = read_text(env->conf, len)) == NULL) {
		error(out, 500, strerror(errno ? errno : EIO));
		return NULL;
	}
	hash_text(cur, *len, hash);
	if (strcmp(hash, base) == 0)
		return cur;
	free(cur);
	o = json_object();
	json_object_set_new(o, "error", json_string("the config changed since "
	    "it was read: reload it"));
	json_object_set_new(o, "hash", json_string(hash));
	answer(out, 409, o);
	return NULL;
}

/* Save an edit's result as a PUT of the whole text would (checked, the
 * base hash checked again, audited). */
static void
save_edit(const struct control_env *env, json_t *req, const char *base,
    const struct strbuf *text, struct strbuf *out)
{
	json_t *fake = json_object();

	json_object_set_new(fake, "text", json_stringn(strbuf_str(text),
	    text->len));
	json_object_set_new(fake, "if_match", json_string(base));
	json_object_set_new(fake, "user", json_string(str(req, "user") ?
	    str(req, "user") : "-"));
	op_save(env, fake, out);
	json_decref(fake);
}

static void
op_check(json_t *req, struct strbuf *out)
{
	const char *text = str(req, "text");
	struct policy *p;
	json_t *o;

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
op_policy(const struct control_env *env, struct strbuf *out)
{
	struct policy *p = current_policy(env, out);
	struct strbuf b;
	json_t *o;

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
op_test(const struct control_env *env, json_t *req, struct strbuf *out)
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
op_probe(const struct control_env *env, json_t *req, struct strbuf *out)
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
op_apply(const struct control_env *env, json_t *req, struct strbuf *out)
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
	if (env->apply((unsigned)secs, str(req, "user"), &msg, &err) == -1) {
		o = json_object();
		json_object_set_new(o, "error", json_string(strbuf_str(&err)));
		answer(out, 422, o);
	} else {
		snprintf(detail, sizeof(detail), "confirm=%lld", secs);
		audit(env, str(req, "user"), "apply", detail);
		o = json_object();
		json_object_set_new(o, "message", json_string(strbuf_str(&msg)));
		answer(out, 200, o);
	}
	strbuf_free(&msg);
	strbuf_free(&err);
}

static void
op_confirm_rollback(const struct control_env *env, json_t *req, bool confirm,
    struct strbuf *out)
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
		audit(env, str(req, "user"), confirm ? "confirm" : "rollback",
		    detail);
		json_object_set_new(o, "message", json_string(strbuf_str(&msg)));
		answer(out, 200, o);
	}
	strbuf_free(&msg);
	strbuf_free(&err);
}

static void
op_history(const struct control_env *env, struct strbuf *out)
{
	struct history_entry *v;
	struct strbuf err;
	char path[4200], line[512], hash[17];
	json_t *o, *a, *au;
	size_t n, i;
	FILE *fp;

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
			char user[64], what[32], detail[128];
			long long t;

			if (sscanf(line, "%lld %63s %31s %127s", &t, user, what,
			    detail) == 4) {
				json_t *e = json_object();

				json_object_set_new(e, "time", json_integer(t));
				json_object_set_new(e, "user", json_string(user));
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

static void
op_status(const struct control_env *env, struct strbuf *out)
{
	struct history_entry *v = NULL;
	struct counter *ctr = NULL;
	struct mailstats m;
	struct fwlog_stats fw;
	struct strbuf err;
	size_t n = 0, nctr = 0, i, len;
	char hash[17], *text;
	json_t *o = json_object(), *c;

	strbuf_init(&err, 0);
	if (apply_history(env->state, &v, &n, &err) == 0 && n > 0) {
		json_t *e = json_object();

		snprintf(hash, sizeof(hash), "%016llx",
		    (unsigned long long)v[n - 1].hash);
		json_object_set_new(e, "entry", json_integer(v[n - 1].seq));
		json_object_set_new(e, "what", json_string(v[n - 1].what));
		json_object_set_new(e, "hash", json_string(hash));
		json_object_set_new(e, "time", json_integer(v[n - 1].when));
		json_object_set_new(e, "drift", json_string(
		    apply_drift(env->state, v[n - 1].seq) == DRIFT_CHANGED ?
		    "changed" : "none"));
		json_object_set_new(o, "applied", e);
	} else
		json_object_set_new(o, "applied", json_null());
	{
		unsigned pseq;
		time_t deadline;

		if (apply_pending(env->state, &pseq, &deadline)) {
			json_t *pe = json_object();

			json_object_set_new(pe, "entry", json_integer(pseq));
			json_object_set_new(pe, "deadline",
			    json_integer(deadline));
			json_object_set_new(pe, "seconds_left", json_integer(
			    deadline > time(NULL) ? deadline - time(NULL) : 0));
			json_object_set_new(o, "pending", pe);
		} else
			json_object_set_new(o, "pending", json_null());
	}
	/* An HA pair: what moatd knows of it (daemon/hanode.c). */
	{
		char hp[4096];
		json_t *h;

		snprintf(hp, sizeof(hp), "%s/" HA_STATUS_FILE, env->run);
		h = json_load_file(hp, 0, NULL);
		json_object_set_new(o, "ha", h != NULL ? h : json_null());
	}
	/* Saved but not applied: the file is not what the kernel has. */
	if ((text = read_text(env->conf, &len)) != NULL) {
		json_object_set_new(o, "unapplied_changes", json_boolean(n == 0 ||
		    fnv1a(text, len) != v[n - 1].hash));
		free(text);
	}
	free(v);
	c = json_array();
	if (counters_read(&ctr, &nctr, &err) == 0)
		for (i = 0; i < nctr; i++) {
			json_t *k = json_object();

			json_object_set_new(k, "name", json_string(ctr[i].name));
			json_object_set_new(k, "packets",
			    json_integer((json_int_t)ctr[i].packets));
			json_object_set_new(k, "bytes",
			    json_integer((json_int_t)ctr[i].bytes));
			json_array_append_new(c, k);
		}
	free(ctr);
	json_object_set_new(o, "counters", c);
	if (mailstats_load(env->state, &m) == 0 && m.updated != 0) {
		json_t *ml = json_object();

		json_object_set_new(ml, "engine", json_string(m.engine));
		json_object_set_new(ml, "signatures", json_integer(m.signatures));
		json_object_set_new(ml, "sessions", json_integer(m.sessions));
		json_object_set_new(ml, "messages",
		    json_integer((json_int_t)m.total.messages));
		json_object_set_new(ml, "clean",
		    json_integer((json_int_t)m.total.clean));
		json_object_set_new(ml, "virus",
		    json_integer((json_int_t)m.total.virus));
		json_object_set_new(ml, "last_virus",
		    json_string(m.last_virus_sig));
		json_object_set_new(o, "mail", ml);
	}
	if (fwlog_stats_read(env->run, &fw) == 0) {
		json_t *fl = json_object();

		json_object_set_new(fl, "written",
		    json_integer((json_int_t)fw.written));
		json_object_set_new(fl, "lost",
		    json_integer((json_int_t)(fw.lost_kernel + fw.lost_disk)));
		json_object_set_new(fl, "error", json_string(fw.error));
		json_object_set_new(o, "firewall_log", fl);
	}
	strbuf_free(&err);
	answer(out, 200, o);
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
op_log(const struct control_env *env, const char *file, struct strbuf *out)
{
	json_t *a = json_array(), *o = json_object();

	logfile_read(env->log_dir, file, collect, a);
	json_object_set_new(o, "records", a);
	answer(out, 200, o);
}

/* ---- rules, in the seed's vocabulary ------------------------------------ */

/* A name or an address as the language writes it: nothing that could
 * end the rule or start another (no spaces, braces, quotes, newlines). */
static bool
plain_word(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 100)
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("_-.:/", *p) != NULL))
			return false;
	return true;
}

/* "from" or "to": {"match": "include"|"exclude", "addresses": [...]}
 * (none: ANY). */
static int
side_text(json_t *side, struct strbuf *b)
{
	json_t *a = json_object_get(side, "addresses"), *e;
	const char *match = json_string_value(json_object_get(side, "match"));
	size_t i, n = json_array_size(a);

	if (match != NULL && strcmp(match, "exclude") == 0)
		strbuf_putc(b, '!');
	else if (match != NULL && strcmp(match, "include") != 0)
		return -1;
	if (n == 0) {
		strbuf_puts(b, "ANY");
		return 0;
	}
	if (n > 1)
		strbuf_puts(b, "{ ");
	json_array_foreach(a, i, e) {
		if (!plain_word(json_string_value(e)))
			return -1;
		strbuf_printf(b, "%s%s", i > 0 ? ", " : "",
		    json_string_value(e));
	}
	if (n > 1)
		strbuf_puts(b, " }");
	return 0;
}

/* A rule's line from its JSON: action, interface, source, destination,
 * services (names; none: any), log, comment, enabled.  -1 when a field
 * is not one the language could hold. */
static int
rule_text(json_t *r, struct strbuf *b)
{
	const char *action = json_string_value(json_object_get(r, "action"));
	const char *ifc = json_string_value(json_object_get(r, "interface"));
	const char *comment = json_string_value(json_object_get(r, "comment"));
	json_t *svc = json_object_get(r, "services"), *e;
	size_t i, n = json_array_size(svc);

	if (action == NULL || (strcmp(action, "accept") != 0 &&
	    strcmp(action, "deny") != 0 && strcmp(action, "reject") != 0) ||
	    !plain_word(ifc))
		return -1;
	strbuf_printf(b, "%s on %s from ", action, ifc);
	if (side_text(json_object_get(r, "source"), b) == -1)
		return -1;
	strbuf_puts(b, " to ");
	if (side_text(json_object_get(r, "destination"), b) == -1)
		return -1;
	if (n > 0)
		strbuf_puts(b, n > 1 ? " service { " : " service ");
	json_array_foreach(svc, i, e) {
		if (!plain_word(json_string_value(e)))
			return -1;
		strbuf_printf(b, "%s%s", i > 0 ? ", " : "",
		    json_string_value(e));
	}
	if (n > 1)
		strbuf_puts(b, " }");
	if (json_is_true(json_object_get(r, "log")))
		strbuf_puts(b, " log");
	if (comment != NULL && *comment != '\0') {
		const char *p;

		strbuf_puts(b, " comment \"");
		for (p = comment; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20)
				return -1;
			if (*p == '"' || *p == '\\')
				strbuf_putc(b, '\\');
			strbuf_putc(b, *p);
		}
		strbuf_putc(b, '"');
	}
	if (json_is_false(json_object_get(r, "enabled")))
		strbuf_puts(b, " disabled");
	return 0;
}

struct lines {
	char	**v;
	size_t	  n;
};

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
lines_insert(struct lines *l, size_t at, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (v == NULL || (s = strdup(s)) == NULL)
		return -1;
	l->v = v;
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(*v));
	l->v[at] = (char *)s;
	l->n++;
	return 0;
}

/*
 * Edit the rules of the config: the file in canonical form, one rule's
 * line added (at position, or last), replaced, removed or moved; saved
 * only if it still is the one the editor read (if_match) and the result
 * is valid.
 */
static void
op_rules(const struct control_env *env, json_t *req, const char *op,
    struct strbuf *out)
{
	const char *base = str(req, "if_match");
	json_t *jn = json_object_get(req, "n"), *jto = json_object_get(req, "to"),
	    *jpos = json_object_get(req, "position");
	struct strbuf canon, line, text;
	struct lines l = { NULL, 0 };
	size_t len, i, *at = NULL, nrules;
	char *cur;
	struct policy *p;
	long long n = json_is_integer(jn) ? json_integer_value(jn) : 0;
	bool has_comments = false;

	if ((cur = read_for_edit(env, base, &len, out)) == NULL)
		return;
	for (i = 0; i < len; i++)
		if (cur[i] == '#' && (i == 0 || cur[i - 1] == '\n' ||
		    cur[i - 1] == ' ' || cur[i - 1] == '\t'))
			has_comments = true;
	p = policy_parse(env->conf, cur, len);
	free(cur);
	if (p == NULL || !policy_valid(p)) {
		policy_free(p);
		error(out, 422, "the config is not valid: mend it as text first");
		return;
	}
	nrules = p->nrule;
	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	strbuf_init(&text, 0);
	printer_policy(p, &canon);
	/* The canonical text's lines, and where each rule's line is. */
	for (const char *s = strbuf_str(&canon); *s != '\0'; ) {
		size_t k = strcspn(s, "\n");
		char *dup = strndup(s, k);

		if (dup == NULL || lines_insert(&l, l.n, dup) == -1) {
			free(dup);
			goto oom;
		}
		free(dup);
		s += k + (s[k] == '\n');
	}
	at = calloc(nrules + 1, sizeof(*at));
	for (i = 0, len = 0; at != NULL && i < nrules; i++) {
		strbuf_reset(&line);
		printer_rule(p->rules[i], &line, true);
		for (; len < l.n && strcmp(l.v[len], strbuf_str(&line)) != 0;
		    len++)
			;
		at[i] = len++;
	}
	policy_free(p);
	p = NULL;
	if (at == NULL)
		goto oom;
	if (strcmp(op, "rules-add") != 0 && (n < 1 || (size_t)n > nrules)) {
		error(out, 404, "no such rule");
		goto out;
	}
	strbuf_reset(&line);
	if ((strcmp(op, "rules-add") == 0 || strcmp(op, "rules-put") == 0) &&
	    rule_text(json_object_get(req, "rule"), &line) == -1) {
		error(out, 400, "the rule: action accept, deny or reject; "
		    "interface, addresses and services as names or literals");
		goto out;
	}
	if (strcmp(op, "rules-add") == 0) {
		long long pos = json_is_integer(jpos) ? json_integer_value(jpos) :
		    (long long)nrules + 1;
		size_t where;

		if (pos < 1 || pos > (long long)nrules + 1) {
			error(out, 400, "position is 1 to the rules + 1");
			goto out;
		}
		where = nrules == 0 ? l.n : (size_t)pos <= nrules ?
		    at[pos - 1] : at[nrules - 1] + 1;
		if (lines_insert(&l, where, strbuf_str(&line)) == -1)
			goto oom;
	} else if (strcmp(op, "rules-put") == 0) {
		char *dup = strdup(strbuf_str(&line));

		if (dup == NULL)
			goto oom;
		free(l.v[at[n - 1]]);
		l.v[at[n - 1]] = dup;
	} else if (strcmp(op, "rules-delete") == 0) {
		free(l.v[at[n - 1]]);
		memmove(l.v + at[n - 1], l.v + at[n - 1] + 1, (l.n - at[n - 1] -
		    1) * sizeof(*l.v));
		l.n--;
	} else {		/* rules-move */
		long long to = json_is_integer(jto) ? json_integer_value(jto) : 0;
		char *moved;

		if (to < 1 || (size_t)to > nrules) {
			error(out, 400, "to is a rule's number");
			goto out;
		}
		moved = l.v[at[n - 1]];
		l.v[at[n - 1]] = NULL;
		/* The rule lines, in their slots, in the new order. */
		{
			char **order = calloc(nrules, sizeof(*order));
			size_t j, k = 0;

			if (order == NULL)
				goto oom;
			for (j = 0; j < nrules; j++)
				if (l.v[at[j]] != NULL)
					order[k++] = l.v[at[j]];
			memmove(order + to, order + to - 1, (nrules - (size_t)to) *
			    sizeof(*order));
			order[to - 1] = moved;
			for (j = 0; j < nrules; j++)
				l.v[at[j]] = order[j];
			free(order);
		}
	}
	for (i = 0; i < l.n; i++)
		strbuf_printf(&text, "%s\n", l.v[i]);
	/* The same checks as a PUT of the whole text. */
	{
		struct strbuf ans;
		json_t *o;

		strbuf_init(&ans, 0);
		save_edit(env, req, base, &text, &ans);
		o = json_loads(strbuf_str(&ans), 0, NULL);
		if (o != NULL && has_comments)
			json_object_set_new(o, "comments_dropped", json_true());
		if (o != NULL) {
			int st = (int)json_integer_value(json_object_get(o,
			    "status"));

			json_object_del(o, "status");
			answer(out, st, o);
		} else
			error(out, 500, "out of memory");
		strbuf_free(&ans);
	}
	goto out;
oom:
	error(out, 500, "out of memory");
out:
	policy_free(p);
	lines_free(&l);
	free(at);
	strbuf_free(&canon);
	strbuf_free(&line);
	strbuf_free(&text);
}

/* ---- objects and services ----------------------------------------------- */

/* A service's protocols: [{"protocol": "tcp", "ports": ["25", "8000-8100"]},
 * {"protocol": "icmp", "types": ["echo-request"]}, {"protocol": "gre"}]. */
static int
service_text(json_t *entries, struct strbuf *b)
{
	json_t *e, *v, *list;
	size_t i, j;

	if (!json_is_array(entries) || json_array_size(entries) == 0)
		return -1;
	json_array_foreach(entries, i, e) {
		const char *proto = json_string_value(json_object_get(e,
		    "protocol"));

		if (!plain_word(proto))
			return -1;
		strbuf_printf(b, " %s", proto);
		list = json_object_get(e, "ports");
		if (list == NULL)
			list = json_object_get(e, "types");
		json_array_foreach(list, j, v) {
			if (!plain_word(json_string_value(v)))
				return -1;
			strbuf_printf(b, "%s%s", j == 0 ? " " : ",",
			    json_string_value(v));
		}
	}
	return 0;
}

/*
 * PUT objects/NAME {"members": [...]} or services/NAME {"entries": [...]},
 * DELETE of either: the statement's line in the canonical text replaced,
 * added (after the last of its kind) or removed; saved as a rule edit is.
 */
/* The config, for an edit based on hash base, in canonical form into
 * canon: 0, or -1 when the answer is already given (428, 409, 422). */
static int
canonical_for_edit(const struct control_env *env, const char *base,
    struct strbuf *canon, struct strbuf *out)
{
	struct policy *p;
	size_t len;
	char *cur;

	if ((cur = read_for_edit(env, base, &len, out)) == NULL)
		return -1;
	p = policy_parse(env->conf, cur, len);
	free(cur);
	if (p == NULL || !policy_valid(p)) {
		policy_free(p);
		error(out, 422, "the config is not valid: mend it as text first");
		return -1;
	}
	printer_policy(p, canon);
	policy_free(p);
	return 0;
}

/* canon's lines into text, line at (0-based) replaced by line, or
 * removed (del); with at SIZE_MAX, line added after line last (or at the
 * end when last is SIZE_MAX too). */
static void
rewrite_lines(const struct strbuf *canon, size_t at, size_t last,
    const char *line, bool del, struct strbuf *text)
{
	const char *s, *nl;
	size_t i, n;

	for (s = strbuf_str(canon), i = 0; *s != '\0'; s = nl + 1, i++) {
		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (i == at) {
			if (!del)
				strbuf_printf(text, "%s\n", line);
		} else
			strbuf_printf(text, "%.*s\n", (int)n, s);
		if (at == SIZE_MAX && !del && i == last)
			strbuf_printf(text, "%s\n", line);
		if (nl == NULL)
			break;
	}
	if (at == SIZE_MAX && !del && last == SIZE_MAX)
		strbuf_printf(text, "%s\n", line);
}

enum named { NAMED_OBJECT, NAMED_SERVICE, NAMED_INTERFACE, NAMED_NAT };

/* An interface's line after "interface NAME": device, addresses (or
 * dynamic), default. */
static int
iface_text(json_t *req, struct strbuf *b)
{
	const char *dev = str(req, "device"), *def = str(req, "default");
	json_t *a = json_object_get(req, "addresses"), *e;
	size_t i;

	if (!plain_word(dev) || strlen(dev) > 15)
		return -1;
	strbuf_printf(b, " device %s", dev);
	if (json_is_true(json_object_get(req, "dynamic")))
		strbuf_puts(b, " address dynamic");
	else
		json_array_foreach(a, i, e) {
			if (!plain_word(json_string_value(e)))
				return -1;
			strbuf_printf(b, " address %s", json_string_value(e));
		}
	if (def != NULL) {
		if (strcmp(def, "accept") != 0 && strcmp(def, "deny") != 0 &&
		    strcmp(def, "reject") != 0)
			return -1;
		strbuf_printf(b, " default %s", def);
	}
	return 0;
}

static void
op_named(const struct control_env *env, json_t *req, enum named kind,
    bool del, struct strbuf *out)
{
	static const char *const kws[] = { "object ", "service ", "interface ",
	    "nat masquerade on " };
	static const char *const what[] = { "object", "service", "interface",
	    "nat" };
	const char *name = str(req, "name"), *base = str(req, "if_match");
	const char *kw = kws[kind];

	struct strbuf canon, line, text;
	size_t i, at = SIZE_MAX, last = SIZE_MAX;
	char *s, *nl;

	if (base != NULL && (!plain_word(name) || strchr(name, '/') != NULL ||
	    strchr(name, ':') != NULL)) {
		error(out, 400, "not a name");
		return;
	}
	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	strbuf_init(&text, 0);
	if (canonical_for_edit(env, base, &canon, out) == -1)
		goto out;
	if (!del) {
		int rc = 0;

		strbuf_printf(&line, "%s%s", kw, name);
		if (kind == NAMED_SERVICE)
			rc = service_text(json_object_get(req, "entries"),
			    &line);
		else if (kind == NAMED_INTERFACE)
			rc = iface_text(req, &line);
		else if (kind == NAMED_OBJECT) {
			strbuf_putc(&line, ' ');
			rc = json_array_size(json_object_get(json_object_get(req,
			    "members"), "addresses")) == 0 ? -1 :
			    side_text(json_object_get(req, "members"), &line);
		}
		if (rc == -1) {
			error(out, 400, kind == NAMED_SERVICE ? "entries: "
			    "[{protocol, ports or types}]" : kind ==
			    NAMED_INTERFACE ? "device, addresses or dynamic, "
			    "default" : "members: {addresses: [...]}, at least "
			    "one");
			goto out;
		}
	}
	/* Find NAME's line, and the last line of its kind. */
	for (s = canon.s, i = 0; s != NULL && *s != '\0'; s = nl + 1, i++) {
		nl = strchr(s, '\n');
		if (strncmp(s, kw, strlen(kw)) == 0) {
			last = i;
			if (strncmp(s + strlen(kw), name, strlen(name)) == 0 &&
			    (s[strlen(kw) + strlen(name)] == ' ' ||
			    s + strlen(kw) + strlen(name) == nl))
				at = i;
		}
		if (nl == NULL)
			break;
	}
	if (del && at == SIZE_MAX) {
		char msg[64];

		snprintf(msg, sizeof(msg), "no such %s", what[kind]);
		error(out, 404, msg);
		goto out;
	}
	rewrite_lines(&canon, at, last, strbuf_str(&line), del, &text);
	save_edit(env, req, base, &text, out);
out:
	strbuf_free(&canon);
	strbuf_free(&line);
	strbuf_free(&text);
}

/*
 * Port forwards, by number: POST adds one (after the last), PUT replaces
 * forward N, DELETE removes it.  {"interface", "services": [...], "to":
 * [ADDRESS or OBJECT, ...]}.
 */
static void
op_forward(const struct control_env *env, json_t *req, const char *op,
    struct strbuf *out)
{
	const char *base = str(req, "if_match"), *kw = "forward on ";
	json_t *jn = json_object_get(req, "n");
	long long n = json_is_integer(jn) ? json_integer_value(jn) : 0;
	bool add = strcmp(op, "forward-add") == 0;
	bool del = strcmp(op, "forward-delete") == 0;
	struct strbuf canon, line, text;
	size_t i, k = 0, at = SIZE_MAX, last = SIZE_MAX;
	char *s, *nl;

	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	strbuf_init(&text, 0);
	if (canonical_for_edit(env, base, &canon, out) == -1)
		goto out;
	if (!del) {
		json_t *to = json_object_get(req, "to"), *svc = json_object_get(
		    req, "services"), *e;
		const char *ifc = str(req, "interface");

		if (!plain_word(ifc) || json_array_size(svc) == 0 ||
		    json_array_size(to) == 0) {
			error(out, 400, "interface, services and to are needed");
			goto out;
		}
		strbuf_printf(&line, "forward on %s service ", ifc);
		if (json_array_size(svc) > 1)
			strbuf_puts(&line, "{ ");
		json_array_foreach(svc, i, e) {
			if (!plain_word(json_string_value(e))) {
				error(out, 400, "services: names");
				goto out;
			}
			strbuf_printf(&line, "%s%s", i > 0 ? ", " : "",
			    json_string_value(e));
		}
		strbuf_puts(&line, json_array_size(svc) > 1 ? " } to " : " to ");
		{
			json_t *side = json_pack("{s:O}", "addresses", to);
			int rc = side != NULL ? side_text(side, &line) : -1;

			json_decref(side);
			if (rc == -1) {
				error(out, 400, "to: an address or an object");
				goto out;
			}
		}
	}
	for (s = canon.s, i = 0; s != NULL && *s != '\0'; s = nl + 1, i++) {
		nl = strchr(s, '\n');
		if (strncmp(s, kw, strlen(kw)) == 0) {
			last = i;
			if (++k == (size_t)n)
				at = i;
		}
		if (nl == NULL)
			break;
	}
	if (!add && at == SIZE_MAX) {
		error(out, 404, "no such port forward");
		goto out;
	}
	rewrite_lines(&canon, at, last, strbuf_str(&line), del, &text);
	save_edit(env, req, base, &text, out);
out:
	strbuf_free(&canon);
	strbuf_free(&line);
	strbuf_free(&text);
}

/* ---- the Gateway Anti-Virus, by the seed's names ------------------------ */

static bool
plain_text(const char *s, size_t max)
{
	if (s == NULL || *s == '\0' || strlen(s) > max)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return false;
	return true;
}

/*
 * PUT antivirus: the settings given (the rest kept; a config without an
 * antivirus block gets one with the defaults), saved in canonical form
 * like a rule edit.
 */
static void
op_antivirus(const struct control_env *env, json_t *req, struct strbuf *out)
{
	json_t *set = json_object_get(req, "settings"), *v;
	const char *base = str(req, "if_match"), *key;
	struct strbuf text;
	struct policy *p;
	size_t len;
	char *cur;
	bool bad = false;

	if (base != NULL && !json_is_object(set)) {
		error(out, 400, "settings: an object");
		return;
	}
	if ((cur = read_for_edit(env, base, &len, out)) == NULL)
		return;
	strbuf_init(&text, 0);
	strbuf_add(&text, cur, len);
	free(cur);
	p = policy_parse(env->conf, strbuf_str(&text), text.len);
	if (p != NULL && policy_valid(p) && !p->av.present) {
		/* The block with its defaults, then the settings. */
		policy_free(p);
		strbuf_puts(&text, "\nantivirus {\n}\n");
		p = policy_parse(env->conf, strbuf_str(&text), text.len);
	}
	strbuf_free(&text);
	if (p == NULL || !policy_valid(p)) {
		policy_free(p);
		error(out, 422, "the config is not valid: mend it as text first");
		return;
	}
	json_object_foreach(set, key, v) {
		struct antivirus *av = &p->av;

		if (strcmp(key, "smtp_other_scanning") == 0 && json_is_boolean(v))
			av->other_scanning = json_is_true(v);
		else if (strcmp(key, "smtp_local_scanning") == 0 &&
		    json_is_boolean(v))
			av->local_scanning = json_is_true(v);
		else if (strcmp(key, "smtp_outgoing_scanning") == 0 &&
		    json_is_boolean(v))
			av->outgoing_scanning = json_is_true(v);
		else if (strcmp(key, "smtp_keep_client_address") == 0 &&
		    json_is_boolean(v))
			av->keep_client_address = json_is_true(v);
		else if (strcmp(key, "on_scan_failure") == 0 &&
		    json_is_string(v) && (strcmp(json_string_value(v),
		    "tempfail") == 0 || strcmp(json_string_value(v), "pass") ==
		    0))
			av->fail_pass = strcmp(json_string_value(v), "pass") == 0;
		else if (strcmp(key, "max_message_size") == 0 &&
		    json_is_integer(v) && json_integer_value(v) >= 1 &&
		    json_integer_value(v) <= (4ll << 30))
			av->max_size = (uint64_t)json_integer_value(v);
		else if (strcmp(key, "smtp_relay_to") == 0 &&
		    plain_word(json_string_value(v)))
			av->relay_to = (char *)json_string_value(v);
		else if (strcmp(key, "engine") == 0 && json_is_string(v) &&
		    (strcmp(json_string_value(v), "clamav") == 0 ||
		    strcmp(json_string_value(v), "clamd") == 0))
			av->engine = strcmp(json_string_value(v), "clamav") == 0 ?
			    AV_CLAMAV : AV_CLAMD;
		else if (strcmp(key, "engine_path") == 0 &&
		    plain_text(json_string_value(v), 1000))
			av->engine_path = (char *)json_string_value(v);
		else
			bad = true;
	}
	if (bad) {
		policy_free(p);
		error(out, 400, "settings: smtp_other_scanning, "
		    "smtp_local_scanning, smtp_outgoing_scanning, "
		    "smtp_keep_client_address (booleans), on_scan_failure "
		    "(tempfail, pass), max_message_size (bytes), smtp_relay_to "
		    "(HOST:PORT), engine (clamav, clamd), engine_path");
		return;
	}
	strbuf_init(&text, 0);
	printer_policy(p, &text);
	policy_free(p);
	save_edit(env, req, base, &text, out);
	strbuf_free(&text);
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
op_diff(const struct control_env *env, json_t *req, struct strbuf *out)
{
	json_t *jf = json_object_get(req, "from"), *jt = json_object_get(req,
	    "to"), *a, *o;
	char *ta, *tb, **la = NULL, **lb = NULL;
	size_t na, nb, i, j, lena, lenb;
	unsigned *lcs;

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

/* The requests that put or delete one named thing: which, and which way. */
static bool
named_op(const char *op, enum named *kind, bool *del)
{
	static const struct {
		const char	*op;
		enum named	 kind;
		bool		 del;
	} ops[] = {
		{ "object-put", NAMED_OBJECT, false },
		{ "object-delete", NAMED_OBJECT, true },
		{ "service-put", NAMED_SERVICE, false },
		{ "service-delete", NAMED_SERVICE, true },
		{ "interface-put", NAMED_INTERFACE, false },
		{ "interface-delete", NAMED_INTERFACE, true },
		{ "nat-put", NAMED_NAT, false },
		{ "nat-delete", NAMED_NAT, true },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].op) == 0) {
			*kind = ops[i].kind;
			*del = ops[i].del;
			return true;
		}
	return false;
}

void
control_handle(const struct control_env *env, const char *req, size_t len,
    struct strbuf *out)
{
	json_t *r = json_loadb(req, len, 0, NULL);
	const char *op = r != NULL ? str(r, "op") : NULL;
	enum named kind;
	bool del;

	if (op == NULL)
		error(out, 400, "not a request");
	else if (strcmp(op, "login") == 0) {
		const char *u = str(r, "user"), *pw = str(r, "password");
		int ok = u != NULL && pw != NULL ? users_check(env->users, u, pw) :
		    0;

		if (ok == -1)
			error(out, 503, "the console has no users file");
		else if (ok == 0)
			error(out, 401, "wrong user or password");
		else
			answer(out, 200, NULL);
	} else if (strcmp(op, "get-config") == 0)
		op_get_config(env, out);
	else if (strcmp(op, "save") == 0)
		op_save(env, r, out);
	else if (strcmp(op, "check") == 0)
		op_check(r, out);
	else if (strcmp(op, "policy") == 0)
		op_policy(env, out);
	else if (strcmp(op, "test") == 0)
		op_test(env, r, out);
	else if (strcmp(op, "probe") == 0)
		op_probe(env, r, out);
	else if (strcmp(op, "apply") == 0)
		op_apply(env, r, out);
	else if (strcmp(op, "confirm") == 0)
		op_confirm_rollback(env, r, true, out);
	else if (strcmp(op, "rollback") == 0)
		op_confirm_rollback(env, r, false, out);
	else if (strcmp(op, "history") == 0)
		op_history(env, out);
	else if (strcmp(op, "status") == 0)
		op_status(env, out);
	else if (strcmp(op, "log") == 0)
		op_log(env, FWLOG_FILE, out);
	else if (strcmp(op, "mail-log") == 0)
		op_log(env, MAILLOG_FILE, out);
	else if (strcmp(op, "antivirus") == 0)
		op_antivirus(env, r, out);
	else if (named_op(op, &kind, &del))
		op_named(env, r, kind, del, out);
	else if (strcmp(op, "forward-add") == 0 || strcmp(op, "forward-put") ==
	    0 || strcmp(op, "forward-delete") == 0)
		op_forward(env, r, op, out);
	else if (strcmp(op, "diff") == 0)
		op_diff(env, r, out);
	else if (strncmp(op, "rules-", 6) == 0 && (strcmp(op + 6, "add") == 0 ||
	    strcmp(op + 6, "put") == 0 || strcmp(op + 6, "delete") == 0 ||
	    strcmp(op + 6, "move") == 0))
		op_rules(env, r, op, out);
	else
		error(out, 404, "no such request");
	json_decref(r);
}

/*
 * control_conf.c: the console's requests about the config (control.c's
 * table): read it, save a new text (checked as any config, If-Match, not
 * changing what the console may not change), check a text, the policy as
 * JSON, and the simulated telnet test (moat test).
 */
#include "daemon/control_conf.h"

#include <errno.h>
#include <limits.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/diff.h"
#include "analyze/eval.h"
#include "analyze/flowfmt.h"
#include "analyze/lint.h"
#include "base/clock.h"
#include "base/cores.h"
#include "base/file.h"
#include "base/hash.h"
#include "daemon/answer.h"
#include "enforce/apply.h"
#include "enforce/feedstore.h"
#include "enforce/rtnl.h"
#include "observe/audit.h"
#include "output/diffprint.h"
#include "output/json.h"
#include "web/console.h"
#include "observe/status.h"
#include "policy/lexer.h"
#include "policy/load.h"
#include "policy/schedule.h"


static const char *
str(json_t *req, const char *k)
{
	return json_string_value(json_object_get(req, k));
}

static char *
read_text(const char *path, size_t *len)
{
	return file_read(path, CONSOLE_CONF_MAX, len);
}

static void
hash_text(const char *text, size_t len, char *out)
{
	/* (the HA secret left out: apply_hash) */
	snprintf(out, 17, "%016llx", (unsigned long long)apply_hash(text,
	    len));
}

/* The deadline of a lint in root's loop (100,000 rules take half a
 * second). */
#define LINT_MS			10000

/* The findings of p (errors, warnings, notes) as JSON: the errors, and
 * the others on lines lo to hi. */
static json_t *
diagnostics_in(const struct policy *p, int lo, int hi)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.v[i];
		json_t *o;

		if (d->severity != DIAG_ERROR && (d->loc.line < lo ||
		    d->loc.line > hi))
			continue;
		o = json_object();

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

static json_t *
diagnostics(const struct policy *p)
{
	return diagnostics_in(p, INT_MIN, INT_MAX);
}

/* A parse of the config file's text (parse_beside). */
struct parse_job {
	const char	*name;
	const char	*text;
	size_t		 len;
	struct policy	*p;
};

static void *
parse_run(void *arg)
{
	struct parse_job *j = arg;

	j->p = j->text != NULL ? policy_parse(j->name, j->text, j->len) : NULL;
	return NULL;
}

/*
 * text parsed as name, and meanwhile, in a thread, the config file's text
 * cur (clen bytes; NULL: none, *was NULL) into *was: at 100,000 rules
 * each takes about 110 ms, and the lint that follows needs both.
 */
static struct policy *
parse_beside(const char *name, const char *text, size_t len,
    const struct control_env *env, const char *cur, size_t clen,
    struct policy **was)
{
	struct parse_job j = { env->conf, cur, clen, NULL };
	struct policy *p;
	pthread_t tid;
	bool started = cores_idle() > 0 &&
	    pthread_create(&tid, NULL, parse_run, &j) == 0;

	p = policy_parse(name, text, len);
	if (started)
		pthread_join(tid, NULL);
	else
		parse_run(&j);
	*was = j.p;
	return p;
}

/*
 * Lint p, valid: what lint found of the policy was (NULL: none), kept in
 * the console's memo when it was saved, is taken where an edit cannot
 * change it (analyze/lint.h: the same findings as a whole lint); p's own
 * memo into memo, when not NULL, to keep once p's text is the file's.
 * Returns the rules checked (not taken from the memo).
 */
static size_t
lint_memo(const struct control_env *env, struct policy *p,
    const struct policy *was, struct strbuf *memo)
{
	/* Root's loop waits for it: a config made to lint slowly (every
	 * rule at its limit of pieces) stops at a deadline, said. */
	struct lint_memo lm = { .tag = env->version, .out = env->version !=
	    NULL ? memo : NULL, .deadline = clock_ms() + LINT_MS };
	char *in = NULL;

	if (env->version != NULL && was != NULL && policy_valid(was) &&
	    (in = apply_lint_memo(env->state, APPLY_MEMO_CONFIG,
	    &lm.inlen)) != NULL) {
		lm.old = was;
		lm.in = in;
	}
	if (lint_policy_memo(p, NULL, &lm) == -1 && memo != NULL)
		memo->failed = true;
	if (lm.late && memo != NULL)
		memo->failed = true;
	free(in);
	diags_sort(&p->diags);
	return env->version != NULL ? lm.checked : p->nrule;
}

static bool
any_dynamic(const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->niface; i++)
		if (p->ifaces[i]->dynamic)
			return true;
	return false;
}

/* Keep memo as the console's, of the config file saved. */
static void
keep_memo(const struct control_env *env, struct strbuf *memo)
{
	if (env->version != NULL && !memo->failed)
		(void)apply_lint_memo_keep(env->state, APPLY_MEMO_CONFIG,
		    strbuf_str(memo), memo->len);
}

/* One line of the audit log: who changed what, when. */

void
control_get_config(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	char hash[17];
	size_t len;
	char *text = read_text(env->conf, &len);
	json_t *o;

	(void)user;
	(void)req;
	if (text == NULL) {
		control_error(out, 500, strerror(errno ? errno : EIO));
		return;
	}
	hash_text(text, len, hash);
	/* The HA secret stays with root: the console gets it as many 'x',
	 * and a save that keeps them keeps the secret (control_save). */
	lexer_blank_secrets(text, len);
	o = json_object();
	json_object_set_new(o, "text", json_stringn(text, len));
	json_object_set_new(o, "hash", json_string(hash));
	control_answer(out, 200, o);
	free(text);
}

int
control_write_conf(const char *path, const char *text, size_t len)
{
	return file_replace(path, text, len, 0600, 0);
}

/* What the console may not change (policy_privileged_change), against
 * the config file now, was (NULL: it could not be parsed). */
static const char *
protected_change(const struct policy *was, const struct policy *now)
{
	if (was == NULL)
		return "the config file";
	return policy_privileged_change(was, now);
}

bool
control_rollback_allowed(const struct control_env *env, unsigned *target,
    struct strbuf *err)
{
	unsigned seq = *target;
	struct history_entry *v = NULL;
	struct policy *was = NULL, *to = NULL;
	struct strbuf e;
	const char *what = NULL;
	char *cur = NULL, *text = NULL;
	size_t n = 0, len = 0, clen = 0;
	bool ok = true;

	strbuf_init(&e, 0);
	if (seq == 0 && apply_history(env->state, &v, &n, &e) == 0 && n > 0)
		seq = v[n - 1].prev;
	free(v);
	strbuf_free(&e);
	*target = seq;
	/* Nothing before: from the console, no rollback to no table at all
	 * (a 0 would be read again under the lock, maybe otherwise: a
	 * second review). */
	if (seq == 0) {
		strbuf_puts(err, "no earlier history entry to roll back to "
		    "from the console (moat rollback on the gateway can remove "
		    "moat's table)");
		return false;
	}
	/* (one without a config: apply_restore_confirm says why it
	 * cannot) */
	if ((text = apply_config_text(env->state, seq, &len)) == NULL)
		return true;
	cur = read_text(env->conf, &clen);
	if (cur != NULL)
		was = policy_parse(env->conf, cur, clen);
	to = policy_parse("(history)", text, len);
	if (to == NULL || (what = protected_change(was, to)) != NULL) {
		strbuf_printf(err, "history entry %u sets %s otherwise than %s, "
		    "which only root changes: root rolls back to it (moat "
		    "rollback %u)", seq, what != NULL ? what : "its config",
		    env->conf, seq);
		ok = false;
	}
	policy_free(was);
	policy_free(to);
	free(cur);
	free(text);
	return ok;
}

/*
 * The console's text (tlen bytes, parsed as p, valid) with the file's HA
 * secret back where the console kept it as GET gave it: p's secret all
 * 'x', as many as the file's value had bytes (cur, parsed as was).  Put
 * where the parser took p's secret, in a copy (*olen bytes), once the
 * console's own text is parsed: never in a text whose diagnostics go back
 * to the console.  NULL when p does not keep it so (then whatever p has
 * is p's to answer for: policy_privileged_change), or out of memory.
 */
static char *
keep_secret(const char *text, size_t tlen, const struct policy *p,
    const char *cur, const struct policy *was, size_t *olen)
{
	const struct ha_conf *a = &p->ha, *w = was != NULL ? &was->ha : NULL;
	size_t raw, vlen, n, i, at;
	char *o;

	if (w == NULL || a->secret == NULL || w->secret == NULL ||
	    a->secret_end <= a->secret_off || a->secret_end > tlen ||
	    w->secret_end <= w->secret_off)
		return NULL;
	/* the file's token, and its value as GET blanked it (the bytes
	 * between its quotes; a word's all) */
	raw = w->secret_end - w->secret_off;
	vlen = cur[w->secret_off] == '"' && raw >= 2 ? raw - 2 : raw;
	if ((n = strlen(a->secret)) != vlen)
		return NULL;
	for (i = 0; i < n; i++)
		if (a->secret[i] != 'x')
			return NULL;
	*olen = tlen - (a->secret_end - a->secret_off) + raw;
	if ((o = malloc(*olen + 1)) == NULL)
		return NULL;
	at = a->secret_off;
	memcpy(o, text, at);
	memcpy(o + at, cur + w->secret_off, raw);
	memcpy(o + at + raw, text + a->secret_end, tlen - a->secret_end);
	o[*olen] = '\0';
	return o;
}

void
control_save(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	const char *text = str(req, "text"), *base = str(req, "if_match");
	size_t tlen = json_string_length(json_object_get(req, "text")), len;
	size_t klen = 0;
	char hash[17], now_hash[17];
	char *cur = read_text(env->conf, &len), *kept = NULL;
	const char *what;
	struct policy *p, *was, *real = NULL;
	struct strbuf memo;
	json_t *o;

	if (cur != NULL)
		hash_text(cur, len, now_hash);
	else
		snprintf(now_hash, sizeof(now_hash), "0000000000000000");
	if (strcmp(base, now_hash) != 0) {
		free(cur);
		o = json_object();
		json_object_set_new(o, "error", json_string("the config changed "
		    "since it was read: reload it"));
		json_object_set_new(o, "hash", json_string(now_hash));
		control_answer(out, 409, o);
		return;
	}
	/* The file's text (what may not change, what lint found of it)
	 * parsed meanwhile; a missing file as an empty one.  The console's
	 * text is parsed as it came: the diagnostics are of it alone. */
	p = parse_beside(env->conf, text, tlen, env, cur != NULL ? cur : "",
	    cur != NULL ? len : 0, &was);
	strbuf_init(&memo, 0);
	o = json_object();
	if (p == NULL) {
		json_decref(o);
		o = NULL;
		control_error(out, 500, "out of memory");
		goto out;
	}
	if (policy_valid(p))
		lint_memo(env, p, was, &memo);
	json_object_set_new(o, "diagnostics", diagnostics(p));
	if (!policy_valid(p)) {
		json_object_set_new(o, "error", json_string("not valid: nothing "
		    "saved"));
		control_answer(out, 422, o);
		goto out;
	}
	/* The HA secret as GET gave it (as many 'x'): the file's, put back
	 * and checked again; its parse says nothing to the console. */
	if ((kept = keep_secret(text, tlen, p, cur, was, &klen)) != NULL) {
		if ((real = policy_parse(env->conf, kept, klen)) == NULL ||
		    !policy_valid(real)) {
			json_decref(o);
			control_error(out, 500, "the HA secret could not be kept: "
			    "nothing saved");
			goto out;
		}
		text = kept;
		tlen = klen;
	}
	/* Any secret but GET's 'x' is refused without comparing it with
	 * the file's: a console that saw which one saves would test
	 * guesses (a review, 2026-12-07). */
	what = real == NULL && p->ha.secret != NULL ? "ha { secret }" :
	    protected_change(was, real != NULL ? real : p);
	if (what != NULL) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s cannot be changed from the "
		    "console (it names a file, a user or a secret of a "
		    "privileged process): edit %s as root; nothing saved", what,
		    env->conf);
		json_object_set_new(o, "error", json_string(msg));
		control_answer(out, 422, o);
		goto out;
	}
	if (control_write_conf(env->conf, text, tlen) == -1) {
		json_decref(o);
		control_error(out, 500, strerror(errno));
		goto out;
	}
	keep_memo(env, &memo);
	hash_text(text, tlen, hash);
	audit_write(env->state, user, "save", hash);
	json_object_set_new(o, "hash", json_string(hash));
	control_answer(out, 200, o);
out:
	policy_free(p);
	policy_free(real);
	policy_free(was);
	strbuf_free(&memo);
	free(kept);
	free(cur);
}

void
control_check(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	const char *text = str(req, "text");
	struct policy *p, *was;
	size_t len;
	char *cur = read_text(env->conf, &len);
	json_t *o;

	(void)user;
	p = parse_beside("moat.conf", text, json_string_length(
	    json_object_get(req, "text")), env, cur, len, &was);
	free(cur);
	if (p != NULL && policy_valid(p))
		lint_memo(env, p, was, NULL);
	policy_free(was);
	if (p == NULL) {
		control_error(out, 500, "out of memory");
		return;
	}
	o = json_object();
	json_object_set_new(o, "valid", json_boolean(policy_valid(p)));
	json_object_set_new(o, "diagnostics", diagnostics(p));
	control_answer(out, 200, o);
	policy_free(p);
}

/* The config file, parsed (bound to the devices' addresses now). */
struct policy *
control_current_policy(const struct control_env *env, struct strbuf *out)
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
		control_error(out, 500, e);
		return NULL;
	}
	if (!policy_valid(p)) {
		json_t *o = json_object();

		json_object_set_new(o, "error", json_string("the config is not "
		    "valid"));
		json_object_set_new(o, "diagnostics", diagnostics(p));
		control_answer(out, 422, o);
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

void
control_policy(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	struct policy *p = control_current_policy(env, out);
	json_t *jfirst = json_object_get(req, "first");
	json_t *jcount = json_object_get(req, "count");
	size_t from = 0, n;
	int lo = INT_MIN, hi = INT_MAX;
	char hash[17];
	struct strbuf b;
	json_t *o;

	(void)user;
	if (p == NULL)
		return;
	/* The findings as the last save kept them, where they fit this
	 * text (all, unless the file was changed otherwise); kept anew
	 * when some did not, unless an interface's addresses are the
	 * device's (bound here, not in a save: each would throw the
	 * other's memo away). */
	strbuf_init(&b, 0);
	if (lint_memo(env, p, p, &b) > 0 && !any_dynamic(p))
		keep_memo(env, &b);
	strbuf_free(&b);
	/* A page of the rules (the console's Policies page): those rules,
	 * and the findings on their lines and the errors. */
	n = p->nrule;
	if (jfirst != NULL || jcount != NULL) {
		/* (the argument table's ranges: first >= 1, count >= 1) */
		from = jfirst != NULL ? (size_t)json_integer_value(jfirst) - 1 :
		    0;
		n = jcount != NULL ? (size_t)json_integer_value(jcount) :
		    CONTROL_RULES_PAGE;
		if (from > p->nrule)
			from = p->nrule;
		if (n > p->nrule - from)
			n = p->nrule - from;
		lo = INT_MAX;
		hi = INT_MIN;
		if (n > 0) {
			lo = p->rules[from]->loc.line;
			hi = p->rules[from + n - 1]->loc.line;
		}
	}
	strbuf_init(&b, 0);
	json_policy_rules(p, from, n, &b);
	o = json_object();
	json_object_set_new(o, "policy", raw(&b));
	json_object_set_new(o, "rules_total", json_integer((json_int_t)
	    p->nrule));
	/* The hash of the text these come from, for the edits' If-Match
	 * (no GET config of 4.5 MB for it at 100,000 rules). */
	hash_text(p->text, p->len, hash);
	json_object_set_new(o, "hash", json_string(hash));
	json_object_set_new(o, "diagnostics", diagnostics_in(p, lo, hi));
	control_answer(out, 200, o);
	strbuf_free(&b);
	policy_free(p);
}

/* A feed object's source as moatd's parent writes it in its state (the
 * names, or the URL, joined by spaces: daemon/feeds.c). */
static void
feed_source(json_t *o, char *buf, size_t len)
{
	json_t *a = json_object_get(o, "hosts"), *e;
	size_t i, n = 0;

	if (a == NULL)
		a = json_object_get(o, "countries");
	buf[0] = '\0';
	if (json_is_string(json_object_get(o, "url")))
		snprintf(buf, len, "%s", json_string_value(json_object_get(o,
		    "url")));
	json_array_foreach(a, i, e)
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", i > 0 ?
			    " " : "", json_string_value(e));
}

/* The state's source is this one (the parent keeps at most
 * FEED_URL_MAX bytes of a long list of names: a prefix then). */
static bool
same_source(const char *state, const char *ours)
{
	size_t n = strlen(state);

	return strcmp(state, ours) == 0 || (n + 8 >= FEED_URL_MAX &&
	    strncmp(state, ours, n) == 0);
}

/* One object of moat show --json: a feed object gains its state. */
static void
add_state(json_t *o, json_t *feeds)
{
	const char *name = str(o, "name"), *kind = str(o, "kind");
	char source[FEED_URL_MAX + FEED_NAMES_MAX * 256];
	json_t *f, *state = NULL;
	size_t i;

	if (kind == NULL)
		return;		/* addresses, or built in */
	json_array_foreach(feeds, i, f)
		if (name != NULL && str(f, "name") != NULL &&
		    strcmp(str(f, "name"), name) == 0)
			state = f;
	feed_source(o, source, sizeof(source));
	json_object_set_new(o, "applied", json_boolean(state != NULL &&
	    str(state, "kind") != NULL && strcmp(str(state, "kind"), kind) ==
	    0 && str(state, "source") != NULL && same_source(str(state,
	    "source"), source)));
	json_object_set(o, "state", state != NULL ? state : json_null());
}

void
control_objects(const struct control_env *env, const char *user, json_t *req,
    struct strbuf *out)
{
	const char *name = str(req, "name");
	struct policy *p = control_current_policy(env, out);
	json_t *doc, *objs, *o, *feeds, *one = NULL;
	struct strbuf b;
	size_t i;

	(void)user;
	if (p == NULL)
		return;
	strbuf_init(&b, 0);
	json_policy(p, &b);
	policy_free(p);
	doc = raw(&b);
	strbuf_free(&b);
	/* RUN/feeds.json, the one file moatd's parent writes for them. */
	feeds = status_feeds_load(env->run);
	objs = json_object_get(doc, "objects");
	json_array_foreach(objs, i, o) {
		add_state(o, json_object_get(feeds, "objects"));
		if (name != NULL && str(o, "name") != NULL &&
		    strcmp(str(o, "name"), name) == 0)
			one = o;
	}
	if (name != NULL && one == NULL)
		control_error(out, 404, "no such object");
	else if (name != NULL)
		control_answer(out, 200, json_incref(one));
	else
		control_answer(out, 200, json_pack("{s:O}", "objects", objs));
	json_decref(feeds);
	json_decref(doc);
}

void
control_test(const struct control_env *env, const char *user, json_t *req,
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
		control_error(out, 400, "in, src, dst and service (or proto and dport) "
		    "are needed");
		return;
	}
	if ((p = control_current_policy(env, out)) == NULL)
		return;
	memset(&f, 0, sizeof(f));
	if ((f.iface = policy_iface(p, in)) == NULL) {
		snprintf(err, sizeof(err), "unknown interface '%.60s'", in);
		control_error(out, 400, err);
	} else if (addr_parse(src, &f.src, &fs, err, sizeof(err)) == -1 ||
	    addr_parse(dst, &f.dst, &fd, err, sizeof(err)) == -1)
		control_error(out, 400, err);
	else if (fs != fd)
		control_error(out, 400, "src and dst must be of one family");
	else if ((service != NULL ? flow_set_service(p, service, fs, &f, err,
	    sizeof(err)) : flow_set_proto(proto, port, fs, &f, err,
	    sizeof(err))) == -1)
		control_error(out, 400, err);
	else {
		/* Now: a rule with a schedule counts if it is open. */
		if (schedule_week_minute(time(NULL), &f.week_min) == -1)
			f.week_min = 0;
		policy_eval(p, &f, &v);
		strbuf_init(&b, 0);
		json_verdict(p, &f, &v, &b);
		o = json_object();
		json_object_set_new(o, "result", raw(&b));
		control_answer(out, 200, o);
		strbuf_free(&b);
	}
	policy_free(p);
}

/* Cells an Apply's summary decides at most (moat diff: 2,000,000): a
 * request has a deadline. */
#define CHANGES_CELLS_MAX	50000
#define CHANGES_MS		3000	/* and its deadline */

void
control_changes(const struct control_env *env, const char *user,
    json_t *req, struct strbuf *out)
{
	struct host_addrs h;
	struct strbuf err, text, js;
	struct policy *now = NULL, *was = NULL;
	struct policy_diff d;
	char e[256], label[64], *run;
	size_t len;
	unsigned seq;
	json_t *o;

	(void)user;
	(void)req;
	strbuf_init(&err, 0);
	strbuf_init(&text, 0);
	strbuf_init(&js, 0);
	/* Both sides bound as apply binds them: the devices' addresses now,
	 * the feed objects as the state directory keeps them. */
	if (rtnl_addrs(&h, &err) == -1)
		memset(&h, 0, sizeof(h));
	feedstore_bind(&h.b, env->state);
	strbuf_reset(&err);
	if ((now = policy_load_bound(env->conf, false, &h.b, e, sizeof(e))) ==
	    NULL || !policy_valid(now)) {
		control_error(out, 422, now == NULL ? e : "the saved config is "
		    "not valid");
		goto out;
	}
	o = json_object();
	if ((run = apply_running_text(env->state, &seq, &len, &err)) == NULL) {
		if (err.len > 0) {
			json_decref(o);
			control_error(out, 500, strbuf_str(&err));
			goto out;
		}
		json_object_set_new(o, "running", json_null());
		json_object_set_new(o, "summary", json_string("Nothing is in "
		    "force yet: every flow is decided by the new policy."));
		control_answer(out, 200, o);
		goto out;
	}
	snprintf(label, sizeof(label), "history %u", seq);
	was = policy_parse_bound(label, run, len, &h.b);
	free(run);
	if (was == NULL || !policy_valid(was)) {
		json_decref(o);
		control_error(out, 500, "the config in force cannot be read "
		    "again");
		goto out;
	}
	snprintf(label, sizeof(label), "running (history %u)", seq);
	if (policy_diff_until(was, now, CHANGES_CELLS_MAX, CHANGES_MS, &d) ==
	    -1) {
		json_decref(o);
		control_error(out, 500, "out of memory");
		goto out;
	}
	diffprint_text(was, label, now, env->conf, NULL, &d, 0, &text);
	diffprint_json(was, label, now, env->conf, NULL, &d, &js);
	policy_diff_free(&d);
	json_object_set_new(o, "running", json_integer(seq));
	json_object_set_new(o, "summary", json_stringn(strbuf_str(&text),
	    strcspn(strbuf_str(&text), "\n")));
	json_object_set_new(o, "text", json_string(strbuf_str(&text)));
	json_object_set_new(o, "diff", raw(&js));
	control_answer(out, 200, o);
out:
	policy_free(now);
	policy_free(was);
	rtnl_addrs_free(&h);
	strbuf_free(&err);
	strbuf_free(&text);
	strbuf_free(&js);
}

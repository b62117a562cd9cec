/*
 * console.c: the console's HTTPS server; see console.h.
 *
 * One thread (libmicrohttpd's internal poll): requests are answered one at
 * a time, each API call one round trip to the parent (two for an edit:
 * the config, then the new text).  Hard limits: bodies of
 * CONSOLE_BODY_MAX (a config's PUT of CONSOLE_SAVE_MAX, once the parent
 * says its session may change things), 32 KB of headers, 64 connections,
 * 8 from one address,
 * 30 s for a connection that does not finish.  Who asks is not decided
 * here: the parent holds the users, the sessions, their CSRF tokens and
 * the throttling of logins (daemon/identity.h); the console passes on
 * the session cookie, the X-CSRF-Token header and the client's address
 * with every request, and refuses early only what carries none.
 */
#include "web/console.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/frame.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "web/edit.h"

static const struct console_conf *conf;

struct request {
	struct strbuf	body;
	size_t		max;		/* bytes of body taken */
	bool		too_big;
	bool		large;		/* the one large body (body_max) */
	bool		waits;		/* another large body is taken */
	unsigned	refused;	/* may-change's 401 or 403, or 0 */
};

static bool large_in;			/* a large body is being taken */

/* ---- answers ----------------------------------------------------------- */

static void
security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Strict-Transport-Security",
	    "max-age=31536000");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
}

static enum MHD_Result
send_body(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body, size_t len, const char *cookie)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len,
	    (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	security_headers(r);
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
send_json(struct MHD_Connection *c, unsigned status, json_t *o,
    const char *cookie)
{
	char *s = json_dumps(o, JSON_COMPACT);
	enum MHD_Result rc;

	json_decref(o);
	if (s == NULL)
		return MHD_NO;
	rc = send_body(c, status, "application/json", s, strlen(s), cookie);
	free(s);
	return rc;
}

static enum MHD_Result
send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(msg));
	return send_json(c, status, o, NULL);
}

/* ---- the parent -------------------------------------------------------- */

/*
 * A whole-request deadline: a request must be in (headers and body)
 * within CONSOLE_DEADLINE seconds of its connection's start, or of the
 * answer before it on that connection; a client that sends a byte now
 * and then holds a slot no longer than that (libmicrohttpd's own timeout
 * is an idle one).  The main thread cuts late connections' sockets.
 */
struct conn {
	struct conn	*next;
	int		 fd;
	long long	 since;		/* ms: waiting for a request since */
	bool		 busy;		/* its request is being answered */
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;

static void
conn_notify(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *k = *ctx, **pp;

	(void)cls;
	pthread_mutex_lock(&conns_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED && (k = calloc(1,
	    sizeof(*k))) != NULL) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		k->fd = ci != NULL ? ci->connect_fd : -1;
		k->since = clock_ms();
		k->next = conns;
		conns = k;
		*ctx = k;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && k != NULL) {
		for (pp = &conns; *pp != NULL; pp = &(*pp)->next)
			if (*pp == k) {
				*pp = k->next;
				break;
			}
		free(k);
		*ctx = NULL;
	}
	pthread_mutex_unlock(&conns_lock);
}

/* The connection of c as conn_notify keeps it (NULL if none). */
static void
conn_mark(struct MHD_Connection *c, bool busy)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *k = ci != NULL ? ci->socket_context : NULL;

	if (k == NULL)
		return;
	pthread_mutex_lock(&conns_lock);
	k->busy = busy;
	k->since = clock_ms();
	pthread_mutex_unlock(&conns_lock);
}

/* Connections over the deadline, cut (libmicrohttpd then closes them). */
static void
conns_sweep(void)
{
	long long now = clock_ms(), limit = (conf != NULL && conf->deadline > 0 ?
	    conf->deadline : CONSOLE_DEADLINE) * 1000LL;
	struct conn *k;

	pthread_mutex_lock(&conns_lock);
	for (k = conns; k != NULL; k = k->next)
		if (!k->busy && k->fd != -1 && now - k->since > limit) {
			shutdown(k->fd, SHUT_RDWR);
			k->since = now;	/* once */
		}
	pthread_mutex_unlock(&conns_lock);
}

static uint32_t next_id;		/* of the next request to the parent */
static volatile sig_atomic_t broken;	/* an answer not ours: stop */
static volatile sig_atomic_t got_term;
static int inflight;			/* requests begun, not completed */

/*
 * One round trip to the parent: req (taken) with a new id; the answer, a
 * JSON object with its status, or NULL with *status 503 (no answer) or
 * 502 (not understood, or not the answer to this request).  An answer
 * with another id means the channel lost its step: nothing more is asked
 * on it, and the process ends so that the parent starts a fresh one.
 */
static json_t *
call(json_t *req, unsigned *status)
{
	char *s = json_dumps(req, JSON_COMPACT), *a;
	uint32_t id = ++next_id, got;
	size_t len;
	json_t *o;

	json_decref(req);
	*status = 503;
	if (s != NULL && strlen(s) > CONSOLE_REQUEST_MAX) {
		*status = 413;	/* the parent would drop the channel */
		free(s);
		return NULL;
	}
	if (broken || s == NULL || frame_send_id(conf->ctl, id, s,
	    strlen(s)) == -1) {
		free(s);
		return NULL;
	}
	free(s);
	if ((a = frame_recv_id_by(conf->ctl, FRAME_MAX, &got, &len,
	    clock_ms() + CONSOLE_ANSWER_WAIT * 1000LL)) == NULL) {
		/* No answer in CONSOLE_ANSWER_WAIT (or none at all): one
		 * that comes later would answer the next request. */
		log_error("console: no answer to request %u from the parent: "
		    "the channel is dropped", id);
		broken = 1;
		return NULL;
	}
	*status = 502;
	if (got != id) {
		log_error("console: the parent answered request %u while %u "
		    "was asked: the channel is dropped", got, id);
		broken = 1;
		free(a);
		return NULL;
	}
	o = json_loadb(a, len, 0, NULL);
	free(a);
	if (!json_is_object(o) || !json_is_integer(json_object_get(o,
	    "status"))) {
		json_decref(o);
		return NULL;
	}
	*status = (unsigned)json_integer_value(json_object_get(o, "status"));
	if (*status < 200 || *status > 599)
		*status = 502;
	json_object_del(o, "status");
	return o;
}

/* What call's NULL with status says: the connection dropped (nothing
 * sent) when the channel is out of step. */
static enum MHD_Result
no_answer(struct MHD_Connection *c, unsigned status)
{
	if (broken)
		return MHD_NO;
	return send_error(c, status, status == 503 ? "moatd does not answer" :
	    status == 413 ? "the request is over the console's limit" :
	    "moatd's answer was not understood");
}

/* Ask the parent; its answer's "status" becomes the HTTP status.  No
 * answer of ours: the connection is dropped, nothing sent. */
static enum MHD_Result
ask(struct MHD_Connection *c, json_t *req)
{
	unsigned status;
	json_t *o = call(req, &status);

	if (o == NULL)
		return no_answer(c, status);
	return send_json(c, status, o, NULL);
}

/* ---- sessions ---------------------------------------------------------- */

/*
 * The session cookie.  Its __Host- prefix makes a browser take it only
 * from this host over HTTPS, with Path=/ and no Domain: a cookie of the
 * same name set over plain HTTP (by whoever sits between the admin and
 * the gateway, and cookies keep no port) or by a sibling host would
 * otherwise reach the console beside the admin's, and could put the
 * admin in a session of the attacker's.
 */
#define SESSION_COOKIE	"__Host-moat_session"

/* The session cookie's token (64 hex digits), or NULL. */
static const char *
token_of(struct MHD_Connection *c)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
	    SESSION_COOKIE);

	if (tok == NULL || strlen(tok) != 64 || strspn(tok,
	    "0123456789abcdef") != 64)
		return NULL;
	return tok;
}

static const char *
client_addr(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(buf, len, "?");
	if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    buf, (socklen_t)len);
	else if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len);
	return buf;
}

/* A request to the parent: op, and who asks as the client says it (the
 * session's token, the CSRF token, its address): req (taken) or a new
 * object. */
static json_t *
request(struct MHD_Connection *c, const char *op, json_t *req)
{
	const char *csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-CSRF-Token");
	const char *tok = token_of(c);
	char addr[64];

	if (req == NULL)
		req = json_object();
	json_object_set_new(req, "op", json_string(op));
	json_object_set_new(req, "addr", json_string(client_addr(c, addr,
	    sizeof(addr))));
	if (tok != NULL)
		json_object_set_new(req, "session", json_string(tok));
	else
		json_object_del(req, "session");
	if (csrf != NULL)
		json_object_set_new(req, "csrf", json_string(csrf));
	else
		json_object_del(req, "csrf");
	return req;
}

static enum MHD_Result
do_login(struct MHD_Connection *c, const struct request *rq)
{
	json_t *in = json_loadb(strbuf_str(&rq->body), rq->body.len, 0, NULL);
	const char *user = json_string_value(json_object_get(in, "user"));
	const char *pw = json_string_value(json_object_get(in, "password"));
	const char *tok, *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Content-Type");
	char cookie[200];
	json_t *req, *ans, *o;
	unsigned status;

	/* JSON only: a form on another site can post text/plain (a body
	 * that parses as JSON) and log the browser in as someone else; no
	 * page may send application/json across sites without asking. */
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
		json_decref(in);
		return send_error(c, 415, "a login is application/json");
	}
	if (user == NULL || pw == NULL) {
		json_decref(in);
		return send_error(c, 400, "user and password are needed");
	}
	req = json_object();
	json_object_set_new(req, "user", json_string(user));
	json_object_set_new(req, "password", json_string(pw));
	json_decref(in);
	if ((ans = call(request(c, "login", req), &status)) == NULL)
		return no_answer(c, status);
	tok = json_string_value(json_object_get(ans, "token"));
	if (status != 200)
		return send_json(c, status, ans, NULL);
	if (tok == NULL || strlen(tok) != 64 || strspn(tok,
	    "0123456789abcdef") != 64) {
		json_decref(ans);
		return send_error(c, 502, "moatd's answer was not understood");
	}
	snprintf(cookie, sizeof(cookie), SESSION_COOKIE "=%s; Path=/; "
	    "HttpOnly; Secure; SameSite=Strict", tok);
	o = json_object();
	json_object_set(o, "csrf", json_object_get(ans, "csrf"));
	json_object_set(o, "user", json_object_get(ans, "user"));
	json_decref(ans);
	return send_json(c, 200, o, cookie);
}

/* ---- the API ----------------------------------------------------------- */

static json_t *
body_object(const struct request *rq)
{
	json_t *o;

	if (rq->body.len == 0)
		return json_object();
	o = json_loadb(strbuf_str(&rq->body), rq->body.len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A request to the parent: op and the body's fields (the parent checks
 * them all). */
static enum MHD_Result
forward(struct MHD_Connection *c, const struct request *rq, const char *op)
{
	json_t *req = body_object(rq);

	if (req == NULL)
		return send_error(c, 400, "the body is not a JSON object");
	return ask(c, request(c, op, req));
}

/* PUT config: the whole text, saved if the file is still the one
 * If-Match names (428 without it). */
static enum MHD_Result
save(struct MHD_Connection *c, const struct request *rq)
{
	const char *m = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "If-Match");
	json_t *req = body_object(rq), *o;

	if (req == NULL)
		return send_error(c, 400, "the body is not a JSON object");
	if (m == NULL || strlen(m) > 64) {
		json_decref(req);
		return send_error(c, m == NULL ? 428 : 400, "If-Match: the "
		    "hash the change is based on");
	}
	o = json_object();
	json_object_set(o, "text", json_object_get(req, "text"));
	json_object_set_new(o, "if_match", json_string(m));
	json_decref(req);
	return ask(c, request(c, "save", o));
}

/*
 * A change to the saved config, made here (web/edit.h) and saved whole:
 * the body, If-Match (428 without it), and what it acts on: rule or
 * forward n (0: none), a named object, service, interface or NAT (NULL:
 * none).  The parent gives the config and its hash, then checks the new
 * text as any other (and If-Match again: nothing saved in between is
 * lost).
 */
static enum MHD_Result
edit(struct MHD_Connection *c, const struct request *rq, const char *op,
    long n, const char *name)
{
	const char *m = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "If-Match");
	json_t *req = body_object(rq), *cur, *save;
	const char *text, *hash;
	struct edit_result r;
	struct strbuf out;
	unsigned status;
	enum MHD_Result rc;

	if (req == NULL)
		return send_error(c, 400, "the body is not a JSON object");
	if (m == NULL || strlen(m) > 64) {
		json_decref(req);
		return send_error(c, m == NULL ? 428 : 400, "If-Match: the "
		    "hash the change is based on");
	}
	if (n > 0)
		json_object_set_new(req, "n", json_integer(n));
	if (name != NULL)
		json_object_set_new(req, "name", json_string(name));
	if ((cur = call(request(c, "get-config", NULL), &status)) == NULL) {
		json_decref(req);
		return no_answer(c, status);
	}
	text = json_string_value(json_object_get(cur, "text"));
	hash = json_string_value(json_object_get(cur, "hash"));
	if (status != 200 || text == NULL || hash == NULL) {
		json_decref(req);
		return send_json(c, status != 200 ? status : 502, cur, NULL);
	}
	if (strcmp(hash, m) != 0) {
		json_t *o = json_object();

		json_decref(req);
		json_object_set_new(o, "error", json_string("the config changed "
		    "since it was read: reload it"));
		json_object_set_new(o, "hash", json_string(hash));
		json_decref(cur);
		return send_json(c, 409, o, NULL);
	}
	strbuf_init(&out, CONSOLE_CONF_MAX);
	edit_apply(op, req, "moat.conf", text, json_string_length(
	    json_object_get(cur, "text")), &out, &r);
	json_decref(req);
	json_decref(cur);
	if (r.status != 200) {
		json_t *o = json_object();

		strbuf_free(&out);
		json_object_set_new(o, "error", json_string(r.msg));
		if (r.field != NULL)
			json_object_set_new(o, "field", json_string(r.field));
		return send_json(c, (unsigned)r.status, o, NULL);
	}
	save = json_object();
	json_object_set_new(save, "text", json_stringn(strbuf_str(&out),
	    out.len));
	json_object_set_new(save, "if_match", json_string(m));
	strbuf_free(&out);
	if ((cur = call(request(c, "save", save), &status)) == NULL)
		return no_answer(c, status);
	if (status == 200 && r.comments_dropped)
		json_object_set_new(cur, "comments_dropped", json_true());
	/* The parent's findings on the line written, at their fields. */
	if (status == 422)
		edit_mark_fields(&r, json_object_get(cur, "diagnostics"));
	rc = send_json(c, status, cur, NULL);
	return rc;
}

/*
 * The numbered nat lines: nat-source (POST adds, PUT and DELETE
 * nat-source/N, POST nat-source/N/move) and one-to-one (POST adds, PUT
 * and DELETE one-to-one/N).
 */
static enum MHD_Result
nat_line(struct MHD_Connection *c, const struct request *rq,
    const char *path, const char *method)
{
	bool one = path[0] == 'o';
	const char *rest = path + 10;
	char op[32], *end;
	long n;

	if (*rest == '\0') {
		if (strcmp(method, "POST") != 0)
			return send_error(c, 405, "POST");
		snprintf(op, sizeof(op), "%s-add", one ? "one-to-one" :
		    "nat-source");
		return edit(c, rq, op, 0, NULL);
	}
	n = strtol(rest + 1, &end, 10);
	if (end == rest + 1 || !(rest[1] >= '0' && rest[1] <= '9') ||
	    n < 1 || n > 1000000)
		return send_error(c, 404, one ? "no such nat one-to-one line" :
		    "no such nat source rule");
	if (*end == '\0' && strcmp(method, "PUT") == 0)
		snprintf(op, sizeof(op), "%s-put", one ? "one-to-one" :
		    "nat-source");
	else if (*end == '\0' && strcmp(method, "DELETE") == 0)
		snprintf(op, sizeof(op), "%s-delete", one ? "one-to-one" :
		    "nat-source");
	else if (!one && strcmp(end, "/move") == 0 &&
	    strcmp(method, "POST") == 0)
		snprintf(op, sizeof(op), "nat-source-move");
	else
		return send_error(c, 404, "no such API");
	return edit(c, rq, op, n, NULL);
}

/* Ask the parent op with the query's whole numbers a and b (NULL: none)
 * as its arguments, those given; 400 for one that is not a number (the
 * parent checks the ranges). */
static enum MHD_Result
with_numbers(struct MHD_Connection *c, const char *op, const char *a,
    const char *b)
{
	const char *const names[] = { a, b };
	json_t *req = json_object();
	size_t i;

	for (i = 0; i < 2 && names[i] != NULL; i++) {
		const char *v = MHD_lookup_connection_value(c,
		    MHD_GET_ARGUMENT_KIND, names[i]);
		char msg[80], *end;
		long long n;

		if (v == NULL)
			continue;
		errno = 0;
		n = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || errno != 0) {
			json_decref(req);
			snprintf(msg, sizeof(msg), "%s: a whole number",
			    names[i]);
			return send_error(c, 400, msg);
		}
		json_object_set_new(req, names[i], json_integer(n));
	}
	return ask(c, request(c, op, req));
}

static enum MHD_Result
api(struct MHD_Connection *c, const char *path, const char *method,
    const struct request *rq)
{
	bool get = strcmp(method, "GET") == 0;
	bool post = strcmp(method, "POST") == 0;
	bool put = strcmp(method, "PUT") == 0;
	if (strcmp(path, "login") == 0)
		return post ? do_login(c, rq) : send_error(c, 405, "POST");
	/* Without a session cookie, or a change without a CSRF token, the
	 * parent is not even asked; with them, it decides. */
	if (token_of(c) == NULL)
		return send_error(c, 401, "log in first");
	if (!get && MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-CSRF-Token") == NULL)
		return send_error(c, 403, "missing or wrong X-CSRF-Token");
	if (strcmp(path, "logout") == 0 && post) {
		unsigned status;
		json_t *o = call(request(c, "logout", NULL), &status);

		if (o == NULL)
			return no_answer(c, status);
		return send_json(c, status, o, status == 200 ? SESSION_COOKIE
		    "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict" :
		    NULL);
	}
	if (strcmp(path, "config") == 0 && get)
		return forward(c, rq, "get-config");
	if (strcmp(path, "config") == 0 && put)
		return save(c, rq);
	if (strcmp(path, "check") == 0 && post)
		return forward(c, rq, "check");
	if (strcmp(path, "rules") == 0 && post)
		return edit(c, rq, "rules-add", 0, NULL);
	if (strcmp(path, "forwards") == 0 && post)
		return edit(c, rq, "forward-add", 0, NULL);
	if (strncmp(path, "forwards/", 9) == 0) {
		char *end;
		long n = strtol(path + 9, &end, 10);

		if (end == path + 9 || *end != '\0' || n < 1 || n > 1000000)
			return send_error(c, 404, "no such port forward");
		if (put)
			return edit(c, rq, "forward-put", n, NULL);
		if (strcmp(method, "DELETE") == 0)
			return edit(c, rq, "forward-delete", n, NULL);
		return send_error(c, 404, "no such API");
	}
	if ((strncmp(path, "nat-source", 10) == 0 &&
	    (path[10] == '\0' || path[10] == '/')) ||
	    (strncmp(path, "one-to-one", 10) == 0 &&
	    (path[10] == '\0' || path[10] == '/')))
		return nat_line(c, rq, path, method);
	if (strcmp(path, "antivirus") == 0 && put)
		return edit(c, rq, "antivirus", 0, NULL);
	/* The objects as moat show --json has them, a feed object's with
	 * its state: all, or one. */
	if (strcmp(path, "objects") == 0 && get)
		return ask(c, request(c, "objects", NULL));
	if (strncmp(path, "objects/", 8) == 0 && get) {
		json_t *name = strlen(path + 8) <= 64 && strchr(path + 8, '/') ==
		    NULL ? json_string(path + 8) : NULL;

		if (name == NULL || path[8] == '\0') {
			json_decref(name);
			return send_error(c, 404, "no such object");
		}
		return ask(c, request(c, "objects", json_pack("{s:o}", "name",
		    name)));
	}
	if (strcmp(path, "default-gateway") == 0 && put)
		return edit(c, rq, "default-gateway", 0, NULL);
	if (strncmp(path, "objects/", 8) == 0 || strncmp(path, "services/", 9) ==
	    0 || strncmp(path, "interfaces/", 11) == 0 ||
	    strncmp(path, "nat/", 4) == 0 || strncmp(path, "gateways/", 9) ==
	    0 || strncmp(path, "gateway-groups/", 15) == 0) {
		static const char *const kinds[][2] = {
			{ "objects/", "object" }, { "services/", "service" },
			{ "interfaces/", "interface" }, { "nat/", "nat" },
			{ "gateways/", "gateway" },
			{ "gateway-groups/", "gwgroup" },
		};
		size_t k;
		const char *name;
		char op[32];
		bool del = strcmp(method, "DELETE") == 0;

		for (k = 0; strncmp(path, kinds[k][0], strlen(kinds[k][0]));
		    k++)
			;
		name = path + strlen(kinds[k][0]);
		snprintf(op, sizeof(op), "%s-%s", kinds[k][1], del ? "delete" :
		    "put");
		if ((!put && !del) || *name == '\0' || strchr(name, '/'))
			return send_error(c, 404, "no such API");
		return edit(c, rq, op, 0, name);
	}
	if (strcmp(path, "diff") == 0 && get) {
		const char *f = MHD_lookup_connection_value(c,
		    MHD_GET_ARGUMENT_KIND, "from");
		const char *t = MHD_lookup_connection_value(c,
		    MHD_GET_ARGUMENT_KIND, "to");
		json_t *req = json_object();

		if (f != NULL)
			json_object_set_new(req, "from", json_integer(atoll(f)));
		if (t != NULL)
			json_object_set_new(req, "to", json_integer(atoll(t)));
		return ask(c, request(c, "diff", req));
	}
	if (strncmp(path, "rules/", 6) == 0) {
		char *end;
		long n = strtol(path + 6, &end, 10);

		if (end == path + 6 || n < 1 || n > 10000000)
			return send_error(c, 404, "no such rule");
		if (*end == '\0' && put)
			return edit(c, rq, "rules-put", n, NULL);
		if (*end == '\0' && strcmp(method, "DELETE") == 0)
			return edit(c, rq, "rules-delete", n, NULL);
		if (strcmp(end, "/move") == 0 && post)
			return edit(c, rq, "rules-move", n, NULL);
		return send_error(c, 404, "no such API");
	}
	/* A page of the rules: ?first=N&count=M (daemon/control_conf.h);
	 * the busiest N counters: ?counters=N. */
	if (strcmp(path, "policy") == 0 && get)
		return with_numbers(c, "policy", "first", "count");
	if (strcmp(path, "status") == 0 && get)
		return with_numbers(c, "status", "counters", NULL);
	if ((strcmp(path, "test") == 0 || strcmp(path, "probe") == 0) && post)
		return forward(c, rq, path);
	if ((strcmp(path, "apply") == 0 || strcmp(path, "confirm") == 0 ||
	    strcmp(path, "rollback") == 0) && post)
		return forward(c, rq, path);
	if ((strcmp(path, "history") == 0 || strcmp(path, "changes") == 0 ||
	    strcmp(path, "log") == 0 || strcmp(path, "mail-log") == 0) && get)
		return forward(c, rq, path);
	return send_error(c, 404, "no such API");
}

/* ---- static pages ------------------------------------------------------ */

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot == NULL)
		return "application/octet-stream";
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	if (strcmp(dot, ".png") == 0)
		return "image/png";
	return "application/octet-stream";
}

static enum MHD_Result
static_file(struct MHD_Connection *c, const char *url)
{
	char path[4200];
	struct stat st;
	const char *p;
	int fd;
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (strcmp(url, "/") == 0)
		url = "/index.html";
	/* Letters, digits, '-', '_', '.', '/' only, no "..", no hidden
	 * names: nothing outside the pages' directory. */
	for (p = url; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '/'))
			return send_error(c, 404, "no such page");
	if (strstr(url, "..") != NULL || strstr(url, "/.") != NULL ||
	    strlen(url) > 200)
		return send_error(c, 404, "no such page");
	snprintf(path, sizeof(path), "%s%s", conf->root, url);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return send_error(c, 404, "no such page");
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return send_error(c, 404, "no such page");
	}
	if ((r = MHD_create_response_from_fd((uint64_t)st.st_size, fd)) ==
	    NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", content_type(path));
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	security_headers(r);
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* ---- libmicrohttpd ----------------------------------------------------- */

/* The bytes of body request rq may bring, in rq->max: CONSOLE_BODY_MAX,
 * and for a config's PUT or check CONSOLE_SAVE_MAX once the parent has
 * said that its session may change things (a round trip before the body,
 * so that only a logged-in admin can make this process hold a large
 * one), one such body at a time. */
static void
body_max(struct MHD_Connection *c, const char *url, const char *method,
    struct request *rq)
{
	unsigned status;
	json_t *o;

	rq->max = CONSOLE_BODY_MAX;
	if (!((strcmp(method, "PUT") == 0 && strcmp(url, "/api/v1/config") ==
	    0) || (strcmp(method, "POST") == 0 && strcmp(url,
	    "/api/v1/check") == 0)) || token_of(c) == NULL ||
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token") ==
	    NULL)
		return;
	if ((o = call(request(c, "may-change", NULL), &status)) == NULL)
		return;
	json_decref(o);
	if (status == 401 || status == 403)
		rq->refused = status;
	if (status == 200 && large_in)
		rq->waits = true;
	else if (status == 200) {
		large_in = rq->large = true;
		rq->max = CONSOLE_SAVE_MAX;
	}
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	struct request *rq = *state;

	(void)cls;
	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		body_max(c, url, method, rq);
		if (broken) {
			free(rq);
			return MHD_NO;
		}
		strbuf_init(&rq->body, rq->max);
		*state = rq;
		__atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (rq->body.len + *upload_size > rq->max)
			rq->too_big = true;
		else
			strbuf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	conn_mark(c, true);	/* in whole: the deadline is met */
	if (rq->too_big && rq->refused != 0)
		return send_error(c, rq->refused, rq->refused == 401 ?
		    "log in first" : "missing or wrong X-CSRF-Token");
	if (rq->too_big) {
		char msg[120];

		snprintf(msg, sizeof(msg), "the body is over %zu MB%s",
		    rq->max >> 20, rq->max > CONSOLE_BODY_MAX ? ", the "
		    "console's limit for a config" : rq->waits ? " while "
		    "another config's is being taken: try again" : "");
		return send_error(c, 413, msg);
	}
	if (strncmp(url, "/api/v1/", 8) == 0) {
		enum MHD_Result rc = api(c, url + 8, method, rq);

		/* Answered (the parent's round trip is done): the large
		 * body is let go now, not when the answer has gone out,
		 * so that the next may come at once. */
		if (rq->large) {
			strbuf_free(&rq->body);
			strbuf_init(&rq->body, 0);
			rq->large = large_in = false;
		}
		return rc;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_error(c, 405, "GET");
	return static_file(c, url);
}

static void
completed(void *cls, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *state;

	(void)cls;
	(void)toe;
	conn_mark(c, false);	/* the next request's time starts */
	if (rq != NULL) {
		if (rq->large)
			large_in = false;
		strbuf_free(&rq->body);
		free(rq);
		__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	}
	*state = NULL;
}

/* Percent-decoding that keeps a NUL from cutting a path short: %00
 * becomes a byte no page name or API path has. */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;

	(void)cls;
	(void)c;
	while (*r != '\0') {
		unsigned v;

		if (r[0] == '%' && r[1] != '\0' && r[2] != '\0' &&
		    sscanf(r + 1, "%2x", &v) == 1) {
			*w++ = v == 0 ? '\x01' : (char)v;
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

struct console *
console_start(const struct console_conf *c)
{
	struct MHD_Daemon *d;

	conf = c;
	if (c->plain)
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		    MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC, 0, NULL, NULL,
		    handler, NULL,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
		    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		    MHD_OPTION_END);
	else
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		    MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL, handler,
		    NULL,
		    MHD_OPTION_LISTEN_SOCKET, c->listen_fd,
		    MHD_OPTION_HTTPS_MEM_KEY, c->key_pem,
		    MHD_OPTION_HTTPS_MEM_CERT, c->cert_pem,
		    MHD_OPTION_HTTPS_PRIORITIES, CONSOLE_TLS_PRIORITIES,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
		    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		    MHD_OPTION_END);
	return (struct console *)d;
}

void
console_sweep(void)
{
	conns_sweep();
}

int
console_connection(struct console *s, int fd, const struct sockaddr *addr,
    unsigned addrlen)
{
	return MHD_add_connection((struct MHD_Daemon *)s, fd, addr,
	    (socklen_t)addrlen) == MHD_YES ? 0 : -1;
}

unsigned
console_connections(struct console *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(
	    (struct MHD_Daemon *)s, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i != NULL ? i->num_connections : 0;
}

void
console_stop(struct console *s)
{
	MHD_stop_daemon((struct MHD_Daemon *)s);
}

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

int
console_run(const struct console_conf *c)
{
	struct sigaction sa;
	struct console *s;
	struct pollfd pfd;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	if ((s = console_start(c)) == NULL) {
		log_error("console: the HTTPS server did not start");
		return 1;
	}
	log_info("console: serving");
	/* Until the parent goes, or stops us, or the channel is not to be
	 * trusted any more. */
	pfd.fd = c->ctl;
	pfd.events = 0;
	while (!got_term && !broken) {
		if (poll(&pfd, 1, 200) > 0 && (pfd.revents & (POLLHUP |
		    POLLERR)))
			break;
		conns_sweep();
	}
	/* The answers in hand go out (for up to 1 s); nothing new is
	 * taken. */
	MHD_quiesce_daemon((struct MHD_Daemon *)s);
	for (i = 0; i < 100 && __atomic_load_n(&inflight, __ATOMIC_SEQ_CST) >
	    0; i++)
		usleep(10000);
	if (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) == 0)
		console_stop(s);
	return broken ? 3 : 0;
}

/* fuzz_control.c: libFuzzer target for the console's requests as moatd's
 * parent answers them (daemon/control.c): the trust boundary between the
 * unprivileged console and root.  Any input is a request; the answer must
 * be one JSON object with a status, and nothing may crash or leak.  The
 * config, users file and state live in a scratch directory; requests that
 * would change the kernel (apply, confirm, rollback) are not sent: the
 * lab tests cover those.  Every request goes through the parent's table
 * of requests (control.c); an input without a "session" is given the
 * one logged in at the start (with its CSRF token), so that the fuzzer
 * reaches the requests behind it, and one with a "session" of its own is
 * sent as it is (a forged or stale one must get 401 or 403).  An input
 * that does not start with '{' is a stream of frames as the console
 * sends them (base/frame.h: a length, a request id, the request), each
 * answered by control_serve with its own id.  Built with clang -fsanitize=fuzzer by
 * scripts/fuzz.sh control; replay.c runs the corpus in the test suite. */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/frame.h"
#include "base/strbuf.h"
#include "daemon/control.h"
#include "../tests/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
	"interface LAN device lan0 address 192.168.1.1/24\n"
	"interface WAN device wan0 address 203.0.113.2/24\n"
	"object MAIL 192.168.1.10\n"
	"accept on LAN from MAIL to ANY service SMTP comment \"mail\"\n"
	"deny on LAN from ANY to ANY service SMTP log\n"
	"nat masquerade on WAN\n";

#define SESSION_MARK	"SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS"
#define CSRF_MARK	"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"

static char dir[64], conf[128], users[128], state[128], logs[128];
static struct identity *ids;
static char token[80], csrf[80];

static int
no_apply(unsigned confirm, const char *user, struct strbuf *msg,
    struct strbuf *err)
{
	(void)confirm;
	(void)user;
	(void)msg;
	strbuf_puts(err, "not in the fuzzer");
	return -1;
}

/* A probe asked is answered as one that timed out: no packets from the
 * fuzzer. */
static struct control_probe probe;

static void
probe_answer(struct strbuf *out)
{
	char banner[8] = "", err[8] = "";

	if (!probe.pending)
		return;
	strbuf_reset(out);
	control_probe_answer(&probe, PROBE_TIMEOUT, banner, err, out);
}

static void
setup(void)
{
	FILE *fp;

	scratch_make("fuzz-control", dir, sizeof(dir));
	snprintf(conf, sizeof(conf), "%s/moat.conf", dir);
	snprintf(users, sizeof(users), "%s/users", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(logs, sizeof(logs), "%s/log", dir);
	/* A user whose password is "fuzz-pass-1" (yescrypt). */
	if ((fp = fopen(users, "w")) == NULL)
		abort();
	fputs("admin:$y$j9T$JjHpeJkum6nTOClxaq8pd1$nDxBgJ2GOuKSXLx3Ce/HeVBX2dfxOwuFTbaY9ZbcQK6\n",
	    fp);
	fclose(fp);
}

/* The fuzzer's session, made again (with throttling forgotten) when an
 * input ended it: logged out, or pushed out by 64 logins. */
static void
ensure_session(void)
{
	const struct session *s;
	bool bad;

	if (ids != NULL && identity_session(ids, users, token, false, NULL,
	    1000000, time(NULL), &bad) != NULL)
		return;
	identity_free(ids);
	if ((ids = identity_new()) == NULL)
		abort();
	if (identity_login(ids, users, "admin", "fuzz-pass-1", "127.0.0.1",
	    time(NULL), &s) != 200)
		abort();
	snprintf(token, sizeof(token), "%s", s->token);
	snprintf(csrf, sizeof(csrf), "%s", s->csrf);
}

/* An answer: one JSON object with an HTTP status; *status it. */
static void
check_answer(const struct strbuf *out, long long *status)
{
	json_t *ans = json_loads(strbuf_str(out), 0, NULL);

	if (!json_is_object(ans) ||
	    !json_is_integer(json_object_get(ans, "status")))
		abort();
	*status = json_integer_value(json_object_get(ans, "status"));
	json_decref(ans);
}

/* Requests that change the kernel, or read it: not sent (the lab tests
 * cover them). */
static bool
skipped(const char *op)
{
	return op != NULL && (strcmp(op, "apply") == 0 ||
	    strcmp(op, "confirm") == 0 || strcmp(op, "rollback") == 0 ||
	    strcmp(op, "status") == 0);
}

/* One JSON request, given the session when it has none. */
static void
one_request(const struct control_env *env, const uint8_t *data, size_t size)
{
	json_t *req = json_loadb((const char *)data, size, 0, NULL);
	const char *op = json_string_value(json_object_get(req, "op"));
	char *text = NULL;
	struct strbuf out;
	long long status;
	bool forged;

	if (skipped(op)) {
		json_decref(req);
		return;
	}
	forged = json_is_object(req) && json_object_get(req, "session") !=
	    NULL && (!json_is_string(json_object_get(req, "session")) ||
	    strcmp(json_string_value(json_object_get(req, "session")),
	    token) != 0);
	if (json_is_object(req) && json_object_get(req, "session") == NULL) {
		json_object_set_new(req, "session", json_string(token));
		json_object_set_new(req, "csrf", json_string(csrf));
		if ((text = json_dumps(req, JSON_COMPACT)) == NULL)
			abort();
	}
	strbuf_init(&out, 0);
	if (text != NULL)
		control_handle(env, text, strlen(text), &out);
	else
		control_handle(env, (const char *)data, size, &out);
	probe_answer(&out);
	free(text);
	check_answer(&out, &status);
	/* A session it made up is no session. */
	if (forged && op != NULL && strcmp(op, "login") != 0 && status < 400) {
		fprintf(stderr, "fuzz_control: '%s' with a forged session\n",
		    op);
		abort();
	}
	json_decref(req);
	strbuf_free(&out);
}

/*
 * Frames as the console sends them (a length, a request id, the request):
 * the input's bytes as they are, cut anywhere, with SESSION_MARK and
 * CSRF_MARK (as long as a token) made the session's.  Each frame read
 * whole is answered, with its own id; a cut or oversized one ends the
 * stream.
 */
static void
frames(const struct control_env *env, const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	size_t off = 0, k;
	int sp[2];

	if (in == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		abort();
	memcpy(in, data, size);
	for (k = 0; k + 64 <= size; k++) {
		if (memcmp(in + k, SESSION_MARK, 64) == 0)
			memcpy(in + k, token, 64);
		else if (memcmp(in + k, CSRF_MARK, 64) == 0)
			memcpy(in + k, csrf, 64);
	}
	if (write(sp[0], in, size) != (ssize_t)size)
		abort();
	shutdown(sp[0], SHUT_WR);
	for (;;) {
		struct strbuf out;
		uint32_t id, want = 0, n = 0;
		long long status;
		json_t *r;
		int skip;

		if (off + 8 <= size) {
			memcpy(&n, in + off, 4);
			memcpy(&want, in + off + 4, 4);
			n = ntohl(n);
			want = ntohl(want);
			r = off + 8 + n <= size ? json_loadb(in + off + 8, n, 0,
			    NULL) : NULL;
			skip = skipped(json_string_value(json_object_get(r,
			    "op")));
			json_decref(r);
			if (skip)
				break;
		}
		/* read as root reads the console's channel (web.c) */
		struct frame_in fin = { 0 };
		int rc;

		/* (0: its budget a call read, more to come) */
		while ((rc = frame_in_read_id(sp[1], &fin,
		    CONTROL_REQUEST_MAX, &id)) == 0)
			;
		if (rc != 1) {
			frame_in_reset(&fin);
			break;
		}
		strbuf_init(&out, 0);
		control_handle(env, fin.buf, fin.len, &out);
		frame_in_reset(&fin);
		probe_answer(&out);
		/* The answer is to the frame read, and carries its id. */
		if (off + 8 > size || id != want)
			abort();
		check_answer(&out, &status);
		strbuf_free(&out);
		off += 8 + n;
	}
	close(sp[0]);
	close(sp[1]);
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_env env = { .conf = conf, .users = users,
	    .state = state, .run = dir, .log_dir = logs, .apply = no_apply,
	    .probe = &probe, .idle = 1000000, .version = "fuzz" };
	FILE *fp;

	if (dir[0] == '\0')
		setup();
	/* The same config every time, so that inputs replay alike. */
	if ((fp = fopen(conf, "w")) == NULL)
		abort();
	fputs(conf_text, fp);
	fclose(fp);
	ensure_session();
	env.id = ids;
	if (size > 0 && data[0] == '{')
		one_request(&env, data, size);
	else if (size <= 65536)
		frames(&env, data, size);
	return 0;
}

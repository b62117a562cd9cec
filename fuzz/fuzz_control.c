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
 * sent as it is (a forged or stale one must get 401 or 403).  Built with clang -fsanitize=fuzzer by
 * scripts/fuzz.sh control; replay.c runs the corpus in the test suite. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "daemon/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
	"interface LAN device lan0 address 192.168.1.1/24\n"
	"interface WAN device wan0 address 203.0.113.2/24\n"
	"object MAIL 192.168.1.10\n"
	"accept on LAN from MAIL to ANY service SMTP comment \"mail\"\n"
	"deny on LAN from ANY to ANY service SMTP log\n"
	"nat masquerade on WAN\n";

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

/* No packets from the fuzzer: every probe times out. */
static enum probe_result
no_probe(const char *host, unsigned port, const char *from, int timeout_ms,
    int banner_ms, char *banner, size_t len, char *err, size_t errlen)
{
	(void)host;
	(void)port;
	(void)from;
	(void)timeout_ms;
	(void)banner_ms;
	(void)err;
	(void)errlen;
	if (len > 0)
		banner[0] = '\0';
	return PROBE_TIMEOUT;
}

static void
setup(void)
{
	const struct session *s;
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/moat-fuzz-control.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
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
	if ((ids = identity_new()) == NULL)
		abort();
	if (identity_login(ids, users, "admin", "fuzz-pass-1", "127.0.0.1",
	    time(NULL), &s) != 200)
		abort();
	snprintf(token, sizeof(token), "%s", s->token);
	snprintf(csrf, sizeof(csrf), "%s", s->csrf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_env env = { .conf = conf, .users = users,
	    .state = state, .run = dir, .log_dir = logs, .apply = no_apply,
	    .probe = no_probe, .idle = 1000000 };
	struct strbuf out;
	json_t *req, *ans;
	const char *op;
	char *text = NULL;
	bool forged;
	FILE *fp;

	if (dir[0] == '\0')
		setup();
	/* The same config every time, so that inputs replay alike. */
	if ((fp = fopen(conf, "w")) == NULL)
		abort();
	fputs(conf_text, fp);
	fclose(fp);
	env.id = ids;
	req = json_loadb((const char *)data, size, 0, NULL);
	op = json_string_value(json_object_get(req, "op"));
	if (op != NULL && (strcmp(op, "apply") == 0 ||
	    strcmp(op, "confirm") == 0 || strcmp(op, "rollback") == 0 ||
	    strcmp(op, "status") == 0)) {
		json_decref(req);
		return 0;
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
	json_decref(req);
	strbuf_init(&out, 0);
	if (text != NULL)
		control_handle(&env, text, strlen(text), &out);
	else
		control_handle(&env, (const char *)data, size, &out);
	free(text);
	ans = json_loads(strbuf_str(&out), 0, NULL);
	if (!json_is_object(ans) ||
	    !json_is_integer(json_object_get(ans, "status")))
		abort();
	/* A session it made up is no session. */
	if (forged && op != NULL && strcmp(op, "login") != 0 &&
	    json_integer_value(json_object_get(ans, "status")) < 400) {
		fprintf(stderr, "fuzz_control: '%s' with a forged session\n",
		    op);
		abort();
	}
	json_decref(ans);
	strbuf_free(&out);
	return 0;
}

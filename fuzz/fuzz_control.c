/* fuzz_control.c: libFuzzer target for the console's requests as moatd's
 * parent answers them (daemon/control.c): the trust boundary between the
 * unprivileged console and root.  Any input is a request; the answer must
 * be one JSON object with a status, and nothing may crash or leak.  The
 * config, users file and state live in a scratch directory; requests that
 * would change the kernel (apply, confirm, rollback) are not sent: the
 * lab tests cover those.  Built with clang -fsanitize=fuzzer by
 * scripts/fuzz.sh control; replay.c runs the corpus in the test suite. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	fputs("admin:$y$j9T$ZyGVHStUt/doQe23xcrfd1$1CbxIOkcCDos.zNgCWmdfTwAVbcJ2yJQpxwVEKtq0rC\n",
	    fp);
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_env env = { .conf = conf, .users = users,
	    .state = state, .run = dir, .log_dir = logs, .apply = no_apply,
	    .probe = no_probe };
	struct strbuf out;
	json_t *req, *ans;
	const char *op;
	FILE *fp;

	if (dir[0] == '\0')
		setup();
	/* The same config every time, so that inputs replay alike. */
	if ((fp = fopen(conf, "w")) == NULL)
		abort();
	fputs(conf_text, fp);
	fclose(fp);
	req = json_loadb((const char *)data, size, 0, NULL);
	op = json_string_value(json_object_get(req, "op"));
	if (op != NULL && (strcmp(op, "apply") == 0 ||
	    strcmp(op, "confirm") == 0 || strcmp(op, "rollback") == 0 ||
	    strcmp(op, "status") == 0)) {
		json_decref(req);
		return 0;
	}
	json_decref(req);
	strbuf_init(&out, 0);
	control_handle(&env, (const char *)data, size, &out);
	ans = json_loads(strbuf_str(&out), 0, NULL);
	if (!json_is_object(ans) ||
	    !json_is_integer(json_object_get(ans, "status")))
		abort();
	json_decref(ans);
	strbuf_free(&out);
	return 0;
}

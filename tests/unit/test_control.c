/* test_control.c: what moatd's parent gives the console of the config
 * (daemon/control.c, control_conf.c): the HA secret stays with root.  The
 * console reads the config with the secret as many 'x', and a hash that
 * leaves it out; a save that keeps the 'x' keeps the secret, one that
 * changes it is refused, one made to carry the secret into a diagnostic
 * gets none of it; the history's diff shows neither entry's secret; and
 * the console rolls back to no entry whose root-only settings differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/file.h"
#include "base/hash.h"
#include "base/strbuf.h"
#include "daemon/control.h"
#include "daemon/control_conf.h"
#include "daemon/control_env.h"
#include "daemon/identity.h"
#include "enforce/apply.h"
#include "policy/lexer.h"
#include "scratch.h"

#define SECRET	"sEcReT-pair-words-42"

static const char conf_text[] =
	"interface LAN device eth1 address 192.168.50.2/24\n"
	"interface WAN device eth0 address 198.51.100.2/24\n"
	"interface SYNC device eth2 address 10.99.0.1/24\n"
	"accept on LAN from 192.168.50.10 to ANY service SMTP\n"
	"nat masquerade on WAN\n"
	"ha {\n"
	"    peer 10.99.0.2\n"
	"    sync-interface SYNC\n"
	"    vip LAN 192.168.50.1/24\n"
	"    priority 150\n"
	"    secret \"" SECRET "\"   # \"not this\"\n"
	"}\n";

static char dir[64], conf[128], users[128], state[160], logs[128];
static char token[80], csrf[80];
static struct identity *ids;
static struct control_env env;

static void
write_text(const char *file, const char *text)
{
	FILE *fp = fopen(file, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int
setup(void **state_)
{
	const struct session *s;
	char hist[200];

	(void)state_;
	scratch_make("control", dir, sizeof(dir));
	snprintf(conf, sizeof(conf), "%s/moat.conf", dir);
	snprintf(users, sizeof(users), "%s/users", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(logs, sizeof(logs), "%s/log", dir);
	/* "fuzz-pass-1", as fuzz/fuzz_control.c's */
	write_text(users, "admin:$y$j9T$JjHpeJkum6nTOClxaq8pd1$nDxBgJ2GOuKSXLx3"
	    "Ce/HeVBX2dfxOwuFTbaY9ZbcQK6\n");
	write_text(conf, conf_text);
	assert_int_equal(mkdir(state, 0700), 0);
	snprintf(hist, sizeof(hist), "%s/history", state);
	assert_int_equal(mkdir(hist, 0700), 0);
	assert_int_equal(mkdir(logs, 0700), 0);
	assert_non_null(ids = identity_new());
	assert_int_equal(identity_login(ids, users, "admin", "fuzz-pass-1",
	    "127.0.0.1", time(NULL), &s), 200);
	snprintf(token, sizeof(token), "%s", s->token);
	snprintf(csrf, sizeof(csrf), "%s", s->csrf);
	env = (struct control_env){ .conf = conf, .users = users,
	    .state = state, .run = dir, .log_dir = logs, .id = ids,
	    .idle = 3600 };
	return 0;
}

static int
teardown(void **state_)
{
	(void)state_;
	identity_free(ids);
	scratch_remove();
	return 0;
}

/* The answer to request req (an object: session and token added), its
 * status in *status. */
static json_t *
ask(json_t *req, long long *status)
{
	struct strbuf out;
	json_t *ans;
	char *text;

	json_object_set_new(req, "session", json_string(token));
	json_object_set_new(req, "csrf", json_string(csrf));
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	assert_non_null(text);
	strbuf_init(&out, 0);
	control_handle(&env, text, strlen(text), &out);
	free(text);
	ans = json_loads(strbuf_str(&out), 0, NULL);
	strbuf_free(&out);
	assert_non_null(ans);
	*status = json_integer_value(json_object_get(ans, "status"));
	return ans;
}

static char *
file_text(const char *file)
{
	size_t len;
	char *t = file_read_regular(file, 1 << 20, &len);

	assert_non_null(t);
	return t;
}

/* The text of a save: what was read, with old replaced by new. */
static char *
edited(const char *text, const char *old, const char *new)
{
	const char *at = strstr(text, old);
	char *t;

	assert_non_null(at);
	t = malloc(strlen(text) + strlen(new) + 1);
	assert_non_null(t);
	memcpy(t, text, (size_t)(at - text));
	strcpy(t + (at - text), new);
	strcat(t, at + strlen(old));
	return t;
}

/* GET config: its text and hash (malloc'd). */
static void
get_config(char **text, char **hash)
{
	long long status;
	json_t *got = ask(json_pack("{s:s}", "op", "get-config"), &status);

	assert_int_equal(status, 200);
	*text = strdup(json_string_value(json_object_get(got, "text")));
	*hash = strdup(json_string_value(json_object_get(got, "hash")));
	json_decref(got);
}

static json_t *
save(const char *text, const char *hash, long long *status)
{
	return ask(json_pack("{s:s, s:s, s:s}", "op", "save", "text", text,
	    "if_match", hash), status);
}

/* text with blank made into secret "with", saved against hash: refused
 * (422), naming the setting the console may not change. */
static void
secret_refused(const char *text, const char *blank, const char *with,
    const char *hash)
{
	char *mine = edited(text, blank, with);
	long long status;
	json_t *ans = save(mine, hash, &status);

	assert_int_equal(status, 422);
	assert_non_null(strstr(json_string_value(json_object_get(ans,
	    "error")), "ha { secret }"));
	json_decref(ans);
	free(mine);
}

static void
test_secret_stays(void **state_)
{
	long long status;
	json_t *ans;
	char *text, *hash, *now, *mine, *all;
	const char *blank = "secret \"xxxxxxxxxxxxxxxxxxxx\"";

	(void)state_;
	assert_int_equal(strlen(SECRET), 20);
	get_config(&text, &hash);
	assert_null(strstr(text, SECRET));
	assert_non_null(strstr(text, blank));
	/* the rest as it is, the comment's quotes too */
	assert_int_equal(strlen(text), strlen(conf_text));
	assert_non_null(strstr(text, "# \"not this\""));
	/* its hash leaves the secret out too */
	{
		char want[17];

		snprintf(want, sizeof(want), "%016llx", (unsigned long long)
		    fnv1a(text, strlen(text)));
		assert_string_equal(hash, want);
	}

	/* A rule added, the secret left blanked: saved, with the secret. */
	mine = edited(text, "nat masquerade", "accept on LAN from ANY to ANY "
	    "service HTTPS\nnat masquerade");
	ans = save(mine, hash, &status);
	assert_int_equal(status, 200);
	json_decref(ans);
	now = file_text(conf);
	assert_non_null(strstr(now, "secret \"" SECRET "\""));
	assert_non_null(strstr(now, "service HTTPS\n"));
	assert_null(strstr(now, "xxxx"));
	free(mine);
	free(hash);
	free(now);

	/* Read again: another secret, or one x too many, is a change the
	 * console may not make, and nothing is saved. */
	free(text);
	get_config(&text, &hash);
	now = file_text(conf);
	secret_refused(text, blank, "secret \"guessed by the console\"", hash);
	secret_refused(text, blank, "secret \"xxxxxxxxxxxxxxxxxxxxx\"", hash);
	/* The right guess is refused the same: no answer tells a guess
	 * (a review, 2026-12-07: it saved, a wrong one did not). */
	secret_refused(text, blank, "secret \"" SECRET "\"", hash);
	/* A text made so that a lexer's walk and the parser disagree (a
	 * review, 2026-12-07: the secret was put back before parsing, into
	 * an object's list, and came back in its error): refused, and not a
	 * byte of the secret in the answer. */
	mine = edited(text, "nat masquerade on WAN\n", "nat masquerade on WAN\n"
	    "ha { x\nobject leak { secret xxxxxxxxxxxxxxxxxxxx }\n");
	ans = save(mine, hash, &status);
	assert_int_equal(status, 422);
	all = json_dumps(ans, 0);
	assert_null(strstr(all, "sEcReT"));
	assert_null(strstr(all, "pair-words"));
	free(all);
	json_decref(ans);
	free(mine);
	mine = file_text(conf);
	assert_string_equal(mine, now);
	free(mine);
	free(now);
	free(hash);
	free(text);

	/* The file's secret a word; the console's editor prints it quoted
	 * (printer_policy): kept, as the file has it. */
	write_text(conf, "interface LAN device eth1 address 192.168.50.2/24\n"
	    "interface SYNC device eth2 address 10.99.0.1/24\n"
	    "ha {\n    peer 10.99.0.2\n    sync-interface SYNC\n"
	    "    vip LAN 192.168.50.1/24\n    secret " SECRET "\n}\n");
	get_config(&text, &hash);
	assert_non_null(strstr(text, "secret xxxxxxxxxxxxxxxxxxxx\n"));
	mine = edited(text, "secret xxxxxxxxxxxxxxxxxxxx",
	    "secret \"xxxxxxxxxxxxxxxxxxxx\"\n    priority 120");
	ans = save(mine, hash, &status);
	assert_int_equal(status, 200);
	json_decref(ans);
	now = file_text(conf);
	assert_non_null(strstr(now, "    secret " SECRET "\n    priority 120"));
	free(now);
	free(mine);
	free(hash);
	free(text);
	write_text(conf, conf_text);
}

static void
test_diff_blank(void **state_)
{
	char file[300];
	long long status;
	json_t *ans;
	char *all;

	(void)state_;
	snprintf(file, sizeof(file), "%s/history/1.conf", state);
	write_text(file, conf_text);
	snprintf(file, sizeof(file), "%s/history/2.conf", state);
	all = edited(conf_text, SECRET, "another secret here!");
	write_text(file, all);
	free(all);
	ans = ask(json_pack("{s:s, s:i, s:i}", "op", "diff", "from", 1, "to",
	    2), &status);
	assert_int_equal(status, 200);
	all = json_dumps(json_object_get(ans, "lines"), 0);
	assert_non_null(all);
	assert_null(strstr(all, SECRET));
	assert_null(strstr(all, "another secret"));
	assert_non_null(strstr(all, "xxxxxxxx"));
	free(all);
	json_decref(ans);
}

/* A config's hash leaves the secret out: the console and moatd-log see
 * it, and FNV-1a of a text known but for the secret would test guesses.
 * Entries recorded before hash the whole text, and still match. */
static void
test_hash(void **state_)
{
	char text[sizeof(conf_text)];
	const char *plain = "interface LAN device eth1\n";

	(void)state_;
	memcpy(text, conf_text, sizeof(conf_text));
	lexer_blank_secrets(text, sizeof(conf_text) - 1);
	assert_null(strstr(text, SECRET));
	assert_true(apply_hash(conf_text, sizeof(conf_text) - 1) ==
	    apply_hash(text, sizeof(text) - 1));
	assert_true(apply_hash(conf_text, sizeof(conf_text) - 1) ==
	    fnv1a(text, sizeof(text) - 1));
	assert_true(apply_hash(conf_text, sizeof(conf_text) - 1) !=
	    fnv1a(conf_text, sizeof(conf_text) - 1));
	assert_true(apply_hash_is(conf_text, sizeof(conf_text) - 1,
	    fnv1a(conf_text, sizeof(conf_text) - 1)));
	assert_false(apply_hash_is(conf_text, sizeof(conf_text) - 1,
	    fnv1a(plain, strlen(plain))));
	/* no secret: the hash it always had */
	assert_true(apply_hash(plain, strlen(plain)) ==
	    fnv1a(plain, strlen(plain)));
}

/* Two entries of the history: entry 1's config a (moat.conf, its
 * secret s), entry 2's the config file's. */
static void
history_of(const char *a)
{
	char file[300], line[600];
	FILE *fp;

	snprintf(file, sizeof(file), "%s/history/1.conf", state);
	write_text(file, a);
	snprintf(file, sizeof(file), "%s/history/2.conf", state);
	write_text(file, conf_text);
	snprintf(file, sizeof(file), "%s/history.log", state);
	fp = fopen(file, "w");
	assert_non_null(fp);
	snprintf(line, sizeof(line), "1 1000 %016llx apply 0 %s\n"
	    "2 1001 %016llx apply 1 %s\n", (unsigned long long)apply_hash(a,
	    strlen(a)), conf, (unsigned long long)apply_hash(conf_text,
	    sizeof(conf_text) - 1), conf);
	fputs(line, fp);
	fclose(fp);
}

/* A rollback from the console to an entry that set the HA secret (or
 * any root-only setting) otherwise: refused, and nothing changes (the
 * follower would have taken the old, perhaps leaked, secret: a review);
 * to one that differs in its rules only: allowed. */
static void
test_rollback_privileged(void **state_)
{
	char file[300], *old = edited(conf_text, SECRET, "old leaked secret"),
	    *rules = edited(conf_text, "service SMTP", "service HTTP"), *log;
	struct strbuf err;
	long long status;
	unsigned seq;
	json_t *ans;
	size_t len;
	FILE *fp;

	(void)state_;
	history_of(old);
	ans = ask(json_pack("{s:s, s:i, s:i}", "op", "rollback", "entry", 1,
	    "confirm", 60), &status);
	assert_int_equal(status, 403);
	assert_non_null(strstr(json_string_value(json_object_get(ans,
	    "error")), "ha { secret }"));
	json_decref(ans);
	/* entry 0: the one before the last, 1 */
	ans = ask(json_pack("{s:s, s:i}", "op", "rollback", "confirm", 60),
	    &status);
	assert_int_equal(status, 403);
	json_decref(ans);
	snprintf(file, sizeof(file), "%s/history.log", state);
	log = file_read(file, 1 << 20, &len);
	assert_non_null(log);
	assert_int_equal(strlen(log), len);
	assert_null(strstr(log, "rollback"));
	free(log);

	history_of(rules);
	strbuf_init(&err, 0);
	seq = 1;
	assert_true(control_rollback_allowed(&env, &seq, &err));
	seq = 0;
	assert_true(control_rollback_allowed(&env, &seq, &err));
	assert_int_equal(seq, 1);	/* 0: made the one it means */
	assert_int_equal(err.len, 0);
	strbuf_free(&err);
	/* one entry: nothing before it (no table at all) to go back to
	 * from the console */
	assert_non_null(fp = fopen(file, "w"));
	fprintf(fp, "1 1000 %016llx apply 0 %s\n", (unsigned long long)
	    apply_hash(conf_text, sizeof(conf_text) - 1), conf);
	fclose(fp);
	ans = ask(json_pack("{s:s, s:i}", "op", "rollback", "confirm", 60),
	    &status);
	assert_int_equal(status, 409);
	json_decref(ans);
	unlink(file);
	free(old);
	free(rules);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_secret_stays),
		cmocka_unit_test(test_diff_blank),
		cmocka_unit_test(test_rollback_privileged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

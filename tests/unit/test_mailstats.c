/*
 * test_mailstats.c: the Gateway Anti-Virus's figures from mail.jsonl
 * records (src/observe/mailstats.c), mail over TLS above all: messages by
 * the legs that had TLS, next hops verified, passthrough sessions and
 * TLS-policy deferrals (neither of them a message); mail-stats.json
 * written and read back, and one from before TLS; the records in words;
 * and the same figures in moat metrics and moat status (text and JSON).
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "observe/mailstats.h"
#include "observe/metrics.h"
#include "observe/status.h"

#define REC(verdict, in, out, verify, size) \
	"{\"time\":\"2026-11-30T08:24:21.123Z\",\"session\":7,\"mode\":" \
	"\"intercept\",\"client\":\"192.168.50.10\",\"server\":" \
	"\"198.51.100.25\",\"from\":\"a@example.org\",\"rcpts\":2,\"size\":" \
	#size ",\"message_id\":\"<m1@example.org>\",\"verdict\":\"" verdict \
	"\",\"signature\":\"\",\"reply\":\"250 2.0.0 Ok\",\"seconds\":0.2," \
	"\"scan_seconds\":0.003,\"tls_in\":\"" in "\",\"tls_out\":\"" out \
	"\",\"tls_verify\":\"" verify "\"}"

static const char pass_rec[] =
	"{\"time\":\"2026-11-30T08:25:00.000Z\",\"session\":8,\"mode\":"
	"\"intercept\",\"client\":\"192.168.50.11\",\"server\":"
	"\"198.51.100.25\",\"verdict\":\"passthrough\",\"reply\":"
	"\"not scanned: tls passthrough\",\"bytes_in\":1000,\"bytes_out\":"
	"234,\"seconds\":1.5,\"tls_in\":\"passthrough\",\"tls_out\":"
	"\"passthrough\",\"tls_verify\":\"none\"}";

#define DEFERRED(policy) \
	"{\"time\":\"2026-11-30T08:26:00.000Z\",\"session\":9,\"mode\":" \
	"\"relay\",\"client\":\"192.168.50.12\",\"server\":\"198.51.100.25\"," \
	"\"from\":\"b@example.org\",\"verdict\":\"tls-deferred\"," \
	"\"rcpt_domain\":\"example.net\",\"policy\":\"" policy "\",\"reply\":" \
	"\"451 4.7.5 TLS required by example.net's policy\",\"tls_in\":" \
	"\"TLS1.3 AES-256-GCM\",\"tls_out\":\"none\",\"tls_verify\":\"none\"}"

/* A record from a proxy before TLS: no tls_ keys at all. */
static const char old_rec[] =
	"{\"time\":\"2026-11-30T08:20:00.000Z\",\"session\":1,\"mode\":"
	"\"relay\",\"client\":\"192.168.50.10\",\"server\":\"198.51.100.25\","
	"\"from\":\"a@example.org\",\"rcpts\":1,\"size\":100,\"message_id\":"
	"\"\",\"verdict\":\"clean\",\"signature\":\"\",\"reply\":\"250 Ok\","
	"\"seconds\":0.1,\"scan_seconds\":0.002}";

/* Every kind of record once (and a deferral of a policy unknown here). */
static void
feed(struct mailstats *m)
{
	static const char *const recs[] = {
		REC("clean", "TLS1.3 AES-256-GCM", "TLS1.2 AES-128-GCM",
		    "dane", 1000),
		REC("clean", "TLS1.3 AES-256-GCM", "none", "none", 2000),
		REC("virus", "none", "TLS1.3 AES-256-GCM", "ca", 3000),
		REC("not-delivered", "none", "none", "none", 4000),
		REC("clean", "none", "TLS1.3 AES-256-GCM", "mta-sts", 5000),
		old_rec,
		pass_rec,
		DEFERRED("dane"),
		DEFERRED("mta-sts"),
		DEFERRED("verify"),
		DEFERRED("verify"),
		DEFERRED("something-new"),
	};
	size_t i;

	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		assert_int_equal(mailstats_add(m, recs[i]), 0);
}

static void
check_tls(const struct mail_tls *t)
{
	assert_int_equal(t->both, 1);
	assert_int_equal(t->client, 1);
	assert_int_equal(t->server, 2);
	assert_int_equal(t->none, 2);		/* the old record too */
	assert_int_equal(t->passthrough, 1);
	assert_int_equal(t->passthrough_bytes, 1234);
	assert_int_equal(t->verified_dane, 1);
	assert_int_equal(t->verified_mta_sts, 1);
	assert_int_equal(t->verified_ca, 1);
	assert_int_equal(t->deferred, 5);
	assert_int_equal(t->deferred_dane, 1);
	assert_int_equal(t->deferred_mta_sts, 1);
	assert_int_equal(t->deferred_verify, 2);
}

static void
test_add(void **state)
{
	struct mailstats m;
	char hour[16], day[16];
	const struct mail_counts *h;

	(void)state;
	memset(&m, 0, sizeof(m));
	feed(&m);
	check_tls(&m.tls_total);
	check_tls(&m.tls_since_start);
	/* Neither the passthrough session nor the deferrals are messages:
	 * not in messages, bytes, tempfail, nor the hour's figures. */
	assert_int_equal(m.total.messages, 6);
	assert_int_equal(m.total.bytes, 15100);
	assert_int_equal(m.total.clean, 4);
	assert_int_equal(m.total.virus, 1);
	assert_int_equal(m.total.tempfail, 1);	/* not-delivered */
	assert_int_equal(m.since_start.messages, 6);
	mailstats_keys((long long)time(NULL), hour, day);
	h = mailstats_period(&m, false, hour);
	assert_non_null(h);
	assert_int_equal(h->messages, 6);
	assert_int_equal(m.tls_total.both + m.tls_total.client +
	    m.tls_total.server + m.tls_total.none, m.total.messages);
	/* moatd starts again: the totals stay. */
	mailstats_restart(&m, 1234);
	assert_int_equal(m.tls_since_start.both, 0);
	assert_int_equal(m.tls_since_start.deferred, 0);
	assert_int_equal(m.since_start.messages, 0);
	assert_int_equal(m.started, 1234);
	check_tls(&m.tls_total);
	assert_int_equal(mailstats_add(&m, "{\"verdict\":1}"), -1);
	assert_int_equal(mailstats_add(&m, "not json"), -1);
}

static void
rm_dir(const char *dir)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/" MAILSTATS_FILE, dir);
	unlink(path);
	rmdir(dir);
}

static void
test_round_trip(void **state)
{
	char dir[] = "/tmp/moat-mailstats-XXXXXX";
	struct mailstats m, back;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&m, 0, sizeof(m));
	feed(&m);
	m.started = 99;
	assert_int_equal(mailstats_save(dir, &m), 0);
	assert_int_equal(mailstats_load(dir, &back), 0);
	assert_memory_equal(&back.tls_total, &m.tls_total,
	    sizeof(m.tls_total));
	assert_memory_equal(&back.tls_since_start, &m.tls_since_start,
	    sizeof(m.tls_since_start));
	assert_memory_equal(&back.total, &m.total, sizeof(m.total));
	assert_int_equal(back.started, 99);
	rm_dir(dir);
}

/* A mail-stats.json written before TLS: read, the TLS figures zero, and
 * counted on from there. */
static void
test_old_file(void **state)
{
	char dir[] = "/tmp/moat-mailstats-XXXXXX", path[300];
	static const char old[] = "{\"total\":{\"messages\":10,\"scanned\":9,"
	    "\"clean\":8,\"virus\":1,\"scan_failures\":0,\"size_rejects\":1,"
	    "\"tempfail\":0,\"bytes\":5000},\"since_start\":{\"messages\":2},"
	    "\"started\":5,\"hours\":[],\"days\":[],\"last_virus\":{\"time\":"
	    "\"\",\"signature\":\"\",\"client\":\"\"},\"engine\":\"clamav 1.0\","
	    "\"sessions\":0,\"updated\":7,\"scan_buckets\":[1,2,3],"
	    "\"scan_seconds\":0.5}";
	struct mailstats m;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/" MAILSTATS_FILE, dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs(old, fp);
	fclose(fp);
	assert_int_equal(mailstats_load(dir, &m), 0);
	assert_int_equal(m.total.messages, 10);
	assert_int_equal(m.since_start.messages, 2);
	assert_string_equal(m.engine, "clamav 1.0");
	assert_int_equal(m.tls_total.both + m.tls_total.none +
	    m.tls_total.passthrough + m.tls_total.deferred, 0);
	assert_int_equal(mailstats_add(&m, REC("clean", "TLS1.3 AES-256-GCM",
	    "TLS1.3 AES-256-GCM", "ca", 10)), 0);
	assert_int_equal(m.total.messages, 11);
	assert_int_equal(m.tls_total.both, 1);
	assert_int_equal(m.tls_total.verified_ca, 1);
	rm_dir(dir);
}

static void
text_has(const char *json, const char *want, const char *not)
{
	struct strbuf b;

	strbuf_init(&b, 0);
	assert_int_equal(mailstats_text(json, &b), 0);
	if (strstr(strbuf_str(&b), want) == NULL || (not != NULL &&
	    strstr(strbuf_str(&b), not) != NULL))
		fail_msg("%s\n  wanted: %s%s%s", strbuf_str(&b), want,
		    not ? "\n  and not: " : "", not ? not : "");
	strbuf_free(&b);
}

static void
test_text(void **state)
{
	(void)state;
	text_has(REC("clean", "TLS1.3 AES-256-GCM", "TLS1.2 AES-128-GCM",
	    "dane", 1000), "2026-11-30 08:24:21 clean intercept "
	    "from=a@example.org client=192.168.50.10 rcpts=2 size=1000 "
	    "tls=both verified=dane reply=\"250 2.0.0 Ok\" "
	    "message-id=<m1@example.org>", NULL);
	text_has(REC("clean", "TLS1.3 AES-256-GCM", "none", "none", 1),
	    " tls=in reply=", "verified=");
	text_has(REC("clean", "none", "TLS1.3 AES-256-GCM", "ca", 1),
	    " tls=out verified=ca reply=", NULL);
	text_has(REC("clean", "none", "none", "none", 1), " tls=none reply=",
	    "verified=");
	text_has(old_rec, "size=100 reply=\"250 Ok\"", "tls=");
	text_has(pass_rec, "2026-11-30 08:25:00 passthrough intercept "
	    "client=192.168.50.11 server=198.51.100.25 bytes_in=1000 "
	    "bytes_out=234 tls=passthrough reply=\"not scanned: tls "
	    "passthrough\"", "size=");
	text_has(DEFERRED("dane"), "2026-11-30 08:26:00 tls-deferred relay "
	    "from=b@example.org client=192.168.50.12 rcpt_domain=example.net "
	    "policy=dane tls=in reply=\"451 4.7.5 TLS required by "
	    "example.net's policy\"", "size=");
}

static void
has_line(const char *text, const char *line)
{
	char want[300];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
test_metrics(void **state)
{
	struct metrics_input in = { 0 };
	struct mailstats m;
	struct strbuf b;

	(void)state;
	memset(&m, 0, sizeof(m));
	feed(&m);
	in.mail = &m;
	strbuf_init(&b, 0);
	metrics_write(&in, &b);
	has_line(strbuf_str(&b), "moat_mail_messages_total 6");
	has_line(strbuf_str(&b), "# TYPE moat_mail_tls_messages_total counter");
	has_line(strbuf_str(&b),
	    "moat_mail_tls_messages_total{outcome=\"both\"} 1");
	has_line(strbuf_str(&b),
	    "moat_mail_tls_messages_total{outcome=\"client\"} 1");
	has_line(strbuf_str(&b),
	    "moat_mail_tls_messages_total{outcome=\"server\"} 2");
	has_line(strbuf_str(&b),
	    "moat_mail_tls_messages_total{outcome=\"none\"} 2");
	has_line(strbuf_str(&b), "moat_mail_tls_passthrough_sessions_total 1");
	has_line(strbuf_str(&b), "moat_mail_tls_passthrough_bytes_total 1234");
	has_line(strbuf_str(&b),
	    "moat_mail_tls_verified_total{method=\"mta-sts\"} 1");
	has_line(strbuf_str(&b),
	    "moat_mail_tls_deferred_total{policy=\"verify\"} 2");
	has_line(strbuf_str(&b),
	    "moat_mail_tls_deferred_total{policy=\"other\"} 1");
	/* Lint as well as syntax, where promtool is installed. */
	if (access("/usr/bin/promtool", X_OK) == 0) {
		FILE *p = popen("/usr/bin/promtool check metrics", "w");

		assert_non_null(p);
		fwrite(strbuf_str(&b), 1, b.len, p);
		assert_int_equal(pclose(p), 0);
	}
	strbuf_free(&b);
}

static void
test_status(void **state)
{
	struct gw_status st;
	struct strbuf b;
	json_t *o, *tls;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.unapplied = -1;
	st.have_mail = true;
	st.now = time(NULL);
	feed(&st.mail);
	mailstats_restart(&st.mail, (long long)st.now);
	assert_int_equal(mailstats_add(&st.mail, pass_rec), 0);
	assert_int_equal(mailstats_add(&st.mail, DEFERRED("dane")), 0);
	o = status_json(&st);
	tls = json_object_get(json_object_get(o, "mail"), "tls");
	assert_non_null(tls);
	assert_int_equal(json_integer_value(json_object_get(tls, "both")), 1);
	assert_int_equal(json_integer_value(json_object_get(tls, "server")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(tls,
	    "passthrough_sessions")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    tls, "verified"), "mta_sts")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    tls, "deferred"), "total")), 6);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    tls, "deferred"), "dane")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    tls, "since_start"), "passthrough_sessions")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    tls, "since_start"), "both")), 0);
	json_decref(o);
	strbuf_init(&b, 0);
	status_text(&st, &b);
	has_line(strbuf_str(&b), "  TLS since start: 0 messages on both "
	    "legs, 0 the client's only, 0 the next hop's only, 0 neither; 1 "
	    "passthrough sessions (1234 bytes, not scanned); next hops "
	    "verified: 0 DANE, 0 MTA-STS, 0 CA; 1 recipients deferred for TLS "
	    "policy (1 DANE, 0 MTA-STS, 0 verify)");
	has_line(strbuf_str(&b), "  TLS in total:    1 messages on both legs, "
	    "1 the client's only, 2 the next hop's only, 2 neither; 2 "
	    "passthrough sessions (2468 bytes, not scanned); next hops "
	    "verified: 1 DANE, 1 MTA-STS, 1 CA; 6 recipients deferred for TLS "
	    "policy (2 DANE, 1 MTA-STS, 2 verify)");
	strbuf_free(&b);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_old_file),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_status),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_metrics.c: the feed objects in moat metrics (src/observe/metrics.c):
 * per object its set's elements by family, its last good refresh, whether
 * its last refresh was good, and the failing names of an fqdn object; from
 * a status array given, and through status_collect from a run directory's
 * feeds.json as moatd's parent writes it.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "observe/metrics.h"
#include "observe/status.h"

/* Three objects as daemon/feeds.c writes them: a url list that is good,
 * an fqdn object with one name failing, a country object never read. */
static const char feeds_json[] =
	"{\"objects\": ["
	"{\"name\": \"blocklist\", \"kind\": \"url\", \"source\": "
	"\"https://lists.example/drop.txt\", \"v4\": 1203, \"v6\": 17, "
	"\"entries\": 1250, \"result\": \"ok\", \"failing\": 0, "
	"\"last_refresh\": 1764836400, \"next_refresh\": 1764922800, "
	"\"error\": null, \"error_time\": null},"
	"{\"name\": \"backup\", \"kind\": \"fqdn\", \"source\": "
	"\"backup.example.org offsite.example.net\", \"v4\": 2, \"v6\": 1, "
	"\"entries\": 3, \"result\": \"partial\", \"failing\": 1, "
	"\"last_refresh\": 1764836500, \"next_refresh\": 1764836530, "
	"\"error\": \"offsite.example.net: SERVFAIL\", \"error_time\": "
	"1764836500},"
	"{\"name\": \"home\", \"kind\": \"country\", \"source\": \"DE\", "
	"\"v4\": 0, \"v6\": 0, \"entries\": 0, \"result\": \"error\", "
	"\"failing\": 0, \"last_refresh\": null, \"next_refresh\": null, "
	"\"error\": \"/var/lib/GeoIP/x.mmdb: No such file or directory\", "
	"\"error_time\": 1764836400}], \"written\": 1764836500}";

static void
has_line(const char *text, const char *line)
{
	char want[300];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
check_lines(const char *t)
{
	has_line(t, "# TYPE moat_feed_elements gauge");
	has_line(t, "moat_feed_elements{object=\"blocklist\",family=\"ipv4\"} "
	    "1203");
	has_line(t, "moat_feed_elements{object=\"blocklist\",family=\"ipv6\"} "
	    "17");
	has_line(t, "moat_feed_elements{object=\"backup\",family=\"ipv6\"} 1");
	has_line(t, "moat_feed_elements{object=\"home\",family=\"ipv4\"} 0");
	has_line(t, "# TYPE moat_feed_last_refresh_timestamp_seconds gauge");
	has_line(t, "moat_feed_last_refresh_timestamp_seconds{object="
	    "\"blocklist\"} 1764836400");
	has_line(t, "moat_feed_last_refresh_timestamp_seconds{object="
	    "\"backup\"} 1764836500");
	/* Never refreshed: no sample rather than a time of 0. */
	assert_null(strstr(t, "moat_feed_last_refresh_timestamp_seconds{"
	    "object=\"home\"}"));
	has_line(t, "# TYPE moat_feed_up gauge");
	has_line(t, "moat_feed_up{object=\"blocklist\"} 1");
	has_line(t, "moat_feed_up{object=\"backup\"} 0");
	has_line(t, "moat_feed_up{object=\"home\"} 0");
	has_line(t, "# TYPE moat_feed_failing_names gauge");
	has_line(t, "moat_feed_failing_names{object=\"backup\"} 1");
	/* fqdn objects only. */
	assert_null(strstr(t, "moat_feed_failing_names{object=\"blocklist\"}"));
	assert_non_null(strstr(t, "# HELP moat_feed_up "));
}

static void
test_feed_metrics(void **state)
{
	json_t *doc = json_loads(feeds_json, 0, NULL);
	struct metrics_input in = { 0 };
	struct strbuf b;

	(void)state;
	assert_non_null(doc);
	in.feeds = json_object_get(doc, "objects");
	strbuf_init(&b, 0);
	metrics_write(&in, &b);
	check_lines(strbuf_str(&b));
	/* Lint as well as syntax, where promtool is installed. */
	if (access("/usr/bin/promtool", X_OK) == 0) {
		FILE *p = popen("/usr/bin/promtool check metrics", "w");

		assert_non_null(p);
		fwrite(strbuf_str(&b), 1, b.len, p);
		assert_int_equal(pclose(p), 0);
	}
	strbuf_free(&b);
	/* No feed object: none of their lines. */
	strbuf_init(&b, 0);
	in.feeds = NULL;
	metrics_write(&in, &b);
	assert_null(strstr(strbuf_str(&b), "moat_feed_"));
	strbuf_free(&b);
	json_decref(doc);
}

/* moat metrics as it runs: the run directory's feeds.json read by
 * status_collect, nothing else to measure needed. */
static void
test_feed_metrics_collect(void **state)
{
	char dir[] = "/tmp/moat-metrics-XXXXXX", run[300], file[400];
	struct strbuf b, err;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(run, sizeof(run), "%s/run", dir);
	assert_int_equal(mkdir(run, 0755), 0);
	snprintf(file, sizeof(file), "%s/" STATUS_FEEDS_FILE, run);
	assert_non_null(fp = fopen(file, "w"));
	fputs(feeds_json, fp);
	fclose(fp);
	strbuf_init(&b, 0);
	strbuf_init(&err, 0);
	assert_int_equal(metrics_collect(dir, run, &b, &err), 0);
	check_lines(strbuf_str(&b));
	strbuf_free(&b);
	strbuf_free(&err);
	unlink(file);
	rmdir(run);
	rmdir(dir);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_metrics),
		cmocka_unit_test(test_feed_metrics_collect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

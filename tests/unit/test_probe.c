/* test_probe.c: the probe process's reports as the root parent checks
 * them (daemon/probed.h): a good one taken, each field that could make
 * the parent act on nothing refused; and RUN/gateways.json as moat
 * status and moat metrics say it (observe/status.c, metrics.c). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/strbuf.h"
#include "daemon/probed.h"
#include "observe/metrics.h"
#include "observe/status.h"

static struct probe_report
good(void)
{
	return (struct probe_report){ PROBE_MAGIC, 1, PROBE_WINDOW, 2,
	    1500 };
}

static void
test_report_check(void **state)
{
	struct probe_report r = good(), out;
	char big[sizeof(r) + 1];

	(void)state;
	assert_true(probe_report_check(&r, sizeof(r), 2, &out));
	assert_int_equal(out.slot, 1);
	assert_int_equal(out.lost, 2);
	/* the wrong size, either way */
	assert_false(probe_report_check(&r, sizeof(r) - 1, 2, &out));
	memcpy(big, &r, sizeof(r));
	big[sizeof(r)] = 0;
	assert_false(probe_report_check(big, sizeof(big), 2, &out));
	/* a slot the spec has not */
	assert_false(probe_report_check(&r, sizeof(r), 1, &out));
	r = good();
	r.slot = UINT32_MAX;
	assert_false(probe_report_check(&r, sizeof(r), 63, &out));
	/* more probes than a window, more lost than decided */
	r = good();
	r.decided = PROBE_WINDOW + 1;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	r = good();
	r.lost = r.decided + 1;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	/* an impossible round trip, a wrong magic */
	r = good();
	r.rtt_us = 61u * 1000 * 1000;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	r = good();
	r.magic ^= 1;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	/* no gateway at all */
	r = good();
	r.slot = 0;
	assert_false(probe_report_check(&r, sizeof(r), 0, &out));
}

static const char *doc_text =
    "{\"gateways\":[{\"name\":\"ISP1\",\"interface\":\"WAN1\","
    "\"device\":\"eth1\",\"via\":\"198.51.100.25\",\"monitor\":"
    "\"192.0.2.1\",\"state\":\"down\",\"since\":1800000000,\"loss\":100.0,"
    "\"latency_ms\":null,\"loss_limit\":20,\"latency_limit_ms\":500,"
    "\"changes\":3},{\"name\":\"ISP2\",\"interface\":\"WAN2\",\"device\":"
    "\"eth2\",\"via\":\"203.0.113.1\",\"monitor\":\"192.0.2.2\",\"state\":"
    "\"up\",\"since\":null,\"loss\":12.5,\"latency_ms\":4.25,"
    "\"loss_limit\":20,\"latency_limit_ms\":500,\"changes\":1}],"
    "\"groups\":[{\"name\":\"INTERNET\",\"active\":[\"ISP2\"]}],"
    "\"default_v4\":\"INTERNET\",\"default_v6\":null,\"written\":1}";

static void
test_status_and_metrics(void **state)
{
	char dir[] = "/tmp/test_probe.XXXXXX", file[64];
	struct gw_status st;
	struct metrics_input in;
	struct strbuf b;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/" STATUS_GATEWAYS_FILE, dir);
	/* none, an empty list, a wrong shape: no gateways */
	assert_null(status_gateways_load(dir));
	assert_non_null(f = fopen(file, "w"));
	fputs("{\"gateways\":[]}", f);
	fclose(f);
	assert_null(status_gateways_load(dir));
	assert_non_null(f = fopen(file, "w"));
	fputs("{\"gateways\":{}}", f);
	fclose(f);
	assert_null(status_gateways_load(dir));
	assert_non_null(f = fopen(file, "w"));
	fputs(doc_text, f);
	fclose(f);

	memset(&st, 0, sizeof(st));
	assert_non_null(st.gateways = status_gateways_load(dir));
	strbuf_init(&b, 0);
	status_text(&st, &b);
	assert_non_null(strstr(strbuf_str(&b), "Gateways:\n"));
	assert_non_null(strstr(strbuf_str(&b), "ISP1         down    via "
	    "198.51.100.25 on WAN1, loss 100% (limits 20%, 500 ms), since "));
	assert_non_null(strstr(strbuf_str(&b), "ISP2         up      via "
	    "203.0.113.1 on WAN2, loss 12%, latency 4.2 ms (limits 20%, "
	    "500 ms)\n"));
	assert_non_null(strstr(strbuf_str(&b), "group INTERNET: traffic "
	    "through ISP2\n"));
	assert_non_null(strstr(strbuf_str(&b), "default route (IPv4): "
	    "INTERNET\n"));
	assert_null(strstr(strbuf_str(&b), "(IPv6)"));
	strbuf_free(&b);

	memset(&in, 0, sizeof(in));
	in.gateways = st.gateways;
	strbuf_init(&b, 0);
	metrics_write(&in, &b);
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_up{gateway=\"ISP1\"} 0\n"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_up{gateway=\"ISP2\"} 1\n"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_loss_ratio{gateway=\"ISP1\"} 1.000\n"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_latency_seconds{gateway=\"ISP2\"} 0.004250\n"));
	/* no latency without an answer */
	assert_null(strstr(strbuf_str(&b),
	    "moat_gateway_latency_seconds{gateway=\"ISP1\"}"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_changes_total{gateway=\"ISP1\"} 3\n"));
	assert_non_null(strstr(strbuf_str(&b), "moat_gateway_group_active"
	    "{group=\"INTERNET\",gateway=\"ISP2\"} 1\n"));
	assert_null(strstr(strbuf_str(&b), "moat_gateway_group_active"
	    "{group=\"INTERNET\",gateway=\"ISP1\"}"));
	strbuf_free(&b);
	json_decref(st.gateways);
	unlink(file);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_check),
		cmocka_unit_test(test_status_and_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

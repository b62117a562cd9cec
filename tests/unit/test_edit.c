/*
 * test_edit.c: the console's editor (src/web/edit.c): each change of the
 * API made to a config's text, the result parsed back (valid, and the
 * change in it), and the changes it must refuse (a field that could end
 * the statement, a thing that is not there, a config that does not parse).
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/load.h"
#include "web/edit.h"

static const char conf[] =
	"# the office\n"
	"interface LAN device lan0 address 192.168.1.1/24\n"
	"interface WAN device wan0 address 203.0.113.2/24\n"
	"object MAIL 192.168.1.10\n"
	"accept on LAN from MAIL to ANY service SMTP comment \"mail\"\n"
	"deny on LAN from ANY to ANY service SMTP\n"
	"nat masquerade on WAN\n";

/* op with the fields of json applied to text: the status; the new text
 * in *out (the caller frees it). */
static int
change(const char *text, const char *op, const char *json, char **out,
    struct edit_result *r)
{
	json_t *req = json_loads(json, 0, NULL);
	struct strbuf b;

	assert_non_null(req);
	strbuf_init(&b, 0);
	edit_apply(op, req, "moat.conf", text, strlen(text), &b, r);
	json_decref(req);
	*out = r->status == 200 ? strdup(strbuf_str(&b)) : NULL;
	strbuf_free(&b);
	return r->status;
}

/* text parses, valid, into a policy (the caller frees it). */
static struct policy *
valid(const char *text)
{
	struct policy *p = policy_parse("moat.conf", text, strlen(text));

	assert_non_null(p);
	assert_true(policy_valid(p));
	return p;
}

static void
test_rules(void **state)
{
	struct edit_result r;
	struct policy *p;
	char *t, *u;

	(void)state;
	assert_int_equal(change(conf, "rules-add", "{\"position\": 1, "
	    "\"rule\": {\"action\": \"reject\", \"interface\": \"LAN\", "
	    "\"source\": {\"addresses\": [\"192.168.1.20\"]}, \"services\": "
	    "[\"SSH\", \"HTTPS\"], \"log\": true, \"comment\": "
	    "\"say \\\"hi\\\"\"}}", &t, &r), 200);
	assert_true(r.comments_dropped);
	p = valid(t);
	assert_int_equal(p->nrule, 3);
	assert_non_null(strstr(t, "reject on LAN from 192.168.1.20 to ANY "
	    "service { SSH, HTTPS } log comment \"say \\\"hi\\\"\""));
	assert_true(strstr(t, "reject on") < strstr(t, "accept on"));
	policy_free(p);
	/* Moved last, then deleted: the first rule is the first again. */
	assert_int_equal(change(t, "rules-move", "{\"n\": 1, \"to\": 3}", &u,
	    &r), 200);
	assert_false(r.comments_dropped);
	assert_true(strstr(u, "reject on") > strstr(u, "deny on"));
	free(t);
	assert_int_equal(change(u, "rules-delete", "{\"n\": 3}", &t, &r), 200);
	assert_null(strstr(t, "reject"));
	free(u);
	p = valid(t);
	assert_int_equal(p->nrule, 2);
	policy_free(p);
	assert_int_equal(change(t, "rules-put", "{\"n\": 2, \"rule\": "
	    "{\"action\": \"deny\", \"interface\": \"LAN\", \"enabled\": "
	    "false}}", &u, &r), 200);
	assert_non_null(strstr(u, "deny on LAN from ANY to ANY disabled"));
	free(u);
	free(t);
	/* A schedule, by name (the parent's check of the text knows it or
	 * says not). */
	assert_int_equal(change("interface LAN device eth1\nschedule office "
	    "mon-fri 08:00-18:00\n", "rules-add", "{\"rule\": {\"action\": "
	    "\"accept\", \"interface\": \"LAN\", \"schedule\": "
	    "\"office\"}}", &t, &r), 200);
	assert_non_null(strstr(t, "accept on LAN from ANY to ANY schedule "
	    "office"));
	free(t);
	assert_int_equal(change(conf, "rules-add", "{\"rule\": {\"action\": "
	    "\"accept\", \"interface\": \"LAN\", \"schedule\": "
	    "\"a b\"}}", &t, &r), 400);
}

static void
test_rules_refused(void **state)
{
	struct edit_result r;
	char *t;

	(void)state;
	assert_int_equal(change(conf, "rules-add", "{\"rule\": {\"action\": "
	    "\"accept\", \"interface\": \"LAN\\naccept\"}}", &t, &r), 400);
	assert_int_equal(change(conf, "rules-add", "{\"rule\": {\"action\": "
	    "\"allow\", \"interface\": \"LAN\"}}", &t, &r), 400);
	assert_int_equal(change(conf, "rules-add", "{\"rule\": {\"action\": "
	    "\"accept\", \"interface\": \"LAN\", \"comment\": \"a\\nb\"}}",
	    &t, &r), 400);
	assert_int_equal(change(conf, "rules-add", "{\"position\": 9, "
	    "\"rule\": {\"action\": \"accept\", \"interface\": \"LAN\"}}", &t,
	    &r), 400);
	assert_int_equal(change(conf, "rules-delete", "{\"n\": 3}", &t, &r),
	    404);
	assert_int_equal(change(conf, "rules-move", "{\"n\": 1, \"to\": 0}",
	    &t, &r), 400);
	assert_int_equal(change("interface LAN device\n", "rules-delete",
	    "{\"n\": 1}", &t, &r), 422);
	assert_int_equal(change(conf, "rules-frobnicate", "{}", &t, &r), 404);
	assert_false(edit_known("rules-frobnicate"));
	assert_true(edit_known("rules-move"));
}

static void
test_named(void **state)
{
	struct edit_result r;
	struct policy *p;
	char *t, *u;

	(void)state;
	assert_int_equal(change(conf, "object-put", "{\"name\": \"SERVERS\", "
	    "\"members\": {\"addresses\": [\"192.168.1.10\", "
	    "\"192.168.1.20-192.168.1.29\"]}}", &t, &r), 200);
	p = valid(t);
	assert_non_null(policy_object(p, "SERVERS"));
	policy_free(p);
	assert_int_equal(change(t, "service-put", "{\"name\": \"ALT\", "
	    "\"entries\": [{\"protocol\": \"tcp\", \"ports\": [\"8080\", "
	    "\"8443\"]}]}", &u, &r), 200);
	free(t);
	assert_non_null(strstr(u, "service ALT tcp 8080,8443"));
	assert_int_equal(change(u, "object-delete", "{\"name\": \"SERVERS\"}",
	    &t, &r), 200);
	assert_null(strstr(t, "SERVERS"));
	free(u);
	assert_int_equal(change(t, "object-delete", "{\"name\": \"NOPE\"}",
	    &u, &r), 404);
	assert_int_equal(change(t, "object-put", "{\"name\": \"BAD\", "
	    "\"members\": {\"addresses\": [\"1.2.3.4 }\\nfirewall off\"]}}",
	    &u, &r), 400);
	assert_int_equal(change(t, "object-put", "{\"name\": \"a/b\", "
	    "\"members\": {\"addresses\": [\"1.2.3.4\"]}}", &u, &r), 400);
	assert_int_equal(change(t, "interface-put", "{\"name\": \"DMZ\", "
	    "\"device\": \"dmz0\", \"addresses\": [\"10.9.0.1/24\"], "
	    "\"default\": \"reject\"}", &u, &r), 200);
	assert_non_null(strstr(u, "interface DMZ device dmz0 address "
	    "10.9.0.1/24 default reject"));
	free(u);
	assert_int_equal(change(t, "interface-put", "{\"name\": \"BAD\", "
	    "\"device\": \"eth9 address 1.2.3.4/8\"}", &u, &r), 400);
	assert_int_equal(change(t, "nat-delete", "{\"name\": \"WAN\"}", &u,
	    &r), 200);
	assert_null(strstr(u, "nat masquerade"));
	free(u);
	free(t);
}

static void
test_forwards(void **state)
{
	struct edit_result r;
	struct policy *p;
	char *t, *u;

	(void)state;
	assert_int_equal(change(conf, "forward-add", "{\"interface\": \"WAN\", "
	    "\"services\": [\"SMTP\"], \"to\": [\"MAIL\"]}", &t, &r), 200);
	p = valid(t);
	assert_int_equal(p->nforward, 1);
	policy_free(p);
	assert_int_equal(change(t, "forward-put", "{\"n\": 1, \"interface\": "
	    "\"WAN\", \"services\": [\"HTTP\", \"HTTPS\"], \"to\": "
	    "[\"192.168.1.12\"]}", &u, &r), 200);
	assert_non_null(strstr(u, "forward on WAN service { HTTP, HTTPS } to "
	    "192.168.1.12"));
	free(t);
	assert_int_equal(change(u, "forward-delete", "{\"n\": 2}", &t, &r),
	    404);
	assert_int_equal(change(u, "forward-delete", "{\"n\": 1}", &t, &r),
	    200);
	assert_null(strstr(t, "forward on"));
	free(t);
	free(u);
	assert_int_equal(change(conf, "forward-add", "{\"interface\": "
	    "\"WAN\"}", &t, &r), 400);
}

static void
test_antivirus(void **state)
{
	struct edit_result r;
	struct policy *p;
	char *t;

	(void)state;
	assert_int_equal(change(conf, "antivirus", "{\"settings\": "
	    "{\"smtp_other_scanning\": true, \"smtp_local_scanning\": false, "
	    "\"max_message_size\": 1048576}}", &t, &r), 200);
	p = valid(t);
	assert_true(p->av.present && p->av.other_scanning &&
	    !p->av.local_scanning && p->av.max_size == 1048576);
	policy_free(p);
	free(t);
	assert_int_equal(change(conf, "antivirus", "{\"settings\": "
	    "{\"engine_path\": \"/x\\n}\\nfirewall off\"}}", &t, &r), 400);
	assert_int_equal(change(conf, "antivirus", "{\"settings\": "
	    "{\"smtp_other_scanning\": \"yes\"}}", &t, &r), 400);
	assert_int_equal(change(conf, "antivirus", "{}", &t, &r), 400);
	/* The false positives' list, the reload and the scan timeout. */
	assert_int_equal(change(conf, "antivirus", "{\"settings\": "
	    "{\"ignore_signatures\": [\"Win.Test.FP-1\", \"Doc.FP-2\"], "
	    "\"signature_reload\": \"blocking\", \"scan_timeout\": 30}}",
	    &t, &r), 200);
	p = valid(t);
	assert_int_equal(p->av.nignore_sigs, 2);
	assert_string_equal(p->av.ignore_sigs[1], "Doc.FP-2");
	assert_true(p->av.reload == AV_RELOAD_BLOCKING &&
	    p->av.scan_timeout == 30);
	policy_free(p);
	free(t);
	assert_int_equal(change(conf, "antivirus", "{\"settings\": "
	    "{\"ignore_signatures\": [\"a\\nfirewall off\"]}}", &t, &r),
	    400);
	assert_int_equal(change(conf, "antivirus", "{\"settings\": "
	    "{\"signature_reload\": \"sometimes\"}}", &t, &r), 400);
}

/* The TLS settings: the four of the proxy's behaviour change here; the
 * paths (certificate, key, CA file, trust anchor) do not, and a change
 * of another setting keeps them as the file has them. */
static void
test_antivirus_tls(void **state)
{
	static const char tlsconf[] =
	    "interface LAN device lan0 address 192.168.1.1/24\n"
	    "interface WAN device wan0 address 203.0.113.2/24\n"
	    "object DANE-SENDERS 192.168.1.25\n"
	    "antivirus {\n"
	    "    smtp-tls-certificate /etc/moat/smtp.pem\n"
	    "    smtp-tls-key /etc/moat/smtp.key\n"
	    "    smtp-tls-ca-file /etc/moat/ca.pem\n"
	    "}\n";
	static const char *const paths[] = { "smtp_tls_certificate",
	    "smtp_tls_key", "smtp_tls_ca_file", "dnssec_trust_anchor" };
	struct edit_result r;
	struct policy *p;
	char *t, req[200];
	size_t i;

	(void)state;
	assert_int_equal(change(tlsconf, "antivirus", "{\"settings\": "
	    "{\"smtp_intercept_tls\": \"passthrough\", "
	    "\"smtp_tls_upstream\": \"verify\", "
	    "\"smtp_relay_require_tls\": true, "
	    "\"smtp_tls_passthrough_from\": \"DANE-SENDERS\"}}", &t, &r),
	    200);
	p = valid(t);
	assert_int_equal(p->av.intercept_tls, AV_TLS_PASSTHROUGH);
	assert_int_equal(p->av.tls_upstream, AV_TLS_UP_VERIFY);
	assert_true(p->av.relay_require_tls);
	assert_string_equal(p->av.passthrough_from, "DANE-SENDERS");
	/* The paths as they were: nothing for the parent to refuse. */
	assert_string_equal(p->av.tls_cert, "/etc/moat/smtp.pem");
	assert_string_equal(p->av.tls_key, "/etc/moat/smtp.key");
	assert_string_equal(p->av.tls_ca_file, "/etc/moat/ca.pem");
	policy_free(p);
	/* And back: strip, none, off, no passthrough object. */
	{
		char *u;

		assert_int_equal(change(t, "antivirus", "{\"settings\": "
		    "{\"smtp_intercept_tls\": \"strip\", "
		    "\"smtp_tls_upstream\": \"none\", "
		    "\"smtp_relay_require_tls\": false, "
		    "\"smtp_tls_passthrough_from\": null}}", &u, &r), 200);
		p = valid(u);
		assert_int_equal(p->av.intercept_tls, AV_TLS_STRIP);
		assert_int_equal(p->av.tls_upstream, AV_TLS_UP_NONE);
		assert_false(p->av.relay_require_tls);
		assert_null(p->av.passthrough_from);
		assert_null(strstr(u, "smtp-tls-passthrough-from"));
		policy_free(p);
		free(u);
	}
	free(t);
	assert_int_equal(change(tlsconf, "antivirus", "{\"settings\": "
	    "{\"smtp_tls_passthrough_from\": \"\"}}", &t, &r), 200);
	free(t);
	/* Values that are not, and a name that could end the line. */
	assert_int_equal(change(tlsconf, "antivirus", "{\"settings\": "
	    "{\"smtp_intercept_tls\": \"sometimes\"}}", &t, &r), 400);
	assert_int_equal(change(tlsconf, "antivirus", "{\"settings\": "
	    "{\"smtp_tls_upstream\": \"dane-only\"}}", &t, &r), 400);
	assert_int_equal(change(tlsconf, "antivirus", "{\"settings\": "
	    "{\"smtp_relay_require_tls\": \"on\"}}", &t, &r), 400);
	assert_int_equal(change(tlsconf, "antivirus", "{\"settings\": "
	    "{\"smtp_tls_passthrough_from\": \"X\\n}\\nfirewall off\"}}",
	    &t, &r), 400);
	/* The paths are refused, whatever the value. */
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(req, sizeof(req), "{\"settings\": {\"%s\": "
		    "\"/etc/moat/other.pem\"}}", paths[i]);
		assert_int_equal(change(tlsconf, "antivirus", req, &t, &r),
		    400);
		assert_null(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_rules_refused),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_forwards),
		cmocka_unit_test(test_antivirus),
		cmocka_unit_test(test_antivirus_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

#include "output/json.h"
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
	/* A gateway option, kept when the rule is edited (the form sends
	 * it back); a name the language cannot hold is refused. */
	assert_int_equal(change("interface LAN device eth1\ninterface WAN "
	    "device eth0 address 198.51.100.2/24\ngateway isp on WAN via "
	    "198.51.100.1\n", "rules-add", "{\"rule\": {\"action\": "
	    "\"accept\", \"interface\": \"LAN\", \"schedule\": null, "
	    "\"gateway\": \"isp\", \"log\": true}}", &t, &r), 200);
	assert_non_null(strstr(t, "accept on LAN from ANY to ANY gateway isp "
	    "log\n"));
	free(t);
	assert_int_equal(change(conf, "rules-add", "{\"rule\": {\"action\": "
	    "\"accept\", \"interface\": \"LAN\", \"gateway\": "
	    "\"isp\\nlog\"}}", &t, &r), 400);
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

/* Gateways, groups, the default and a rule's option: each put, moved to
 * the text, parsed back; a field that could end the line refused. */
static void
test_gateways(void **state)
{
	struct edit_result r;
	struct policy *p;
	char *t, *u;

	(void)state;
	assert_int_equal(change(conf, "gateway-put", "{\"name\": \"ISP1\", "
	    "\"interface\": \"WAN\", \"via\": \"203.0.113.1\", "
	    "\"monitor\": \"192.0.2.1\", \"loss\": 30, \"latency\": 250}",
	    &t, &r), 200);
	assert_non_null(strstr(t, "gateway ISP1 on WAN via 203.0.113.1 monitor "
	    "192.0.2.1 loss 30% latency 250ms\n"));
	assert_int_equal(change(t, "interface-put", "{\"name\": \"LTE\", "
	    "\"device\": \"wwan0\", \"addresses\": [\"10.64.64.2/24\"]}",
	    &u, &r), 200);
	free(t);
	assert_int_equal(change(u, "gateway-put", "{\"name\": \"ISP2\", "
	    "\"interface\": \"LTE\", \"via\": \"10.64.64.1\"}", &t, &r),
	    200);
	free(u);
	assert_int_equal(change(t, "gwgroup-put", "{\"name\": \"INTERNET\", "
	    "\"members\": [{\"gateway\": \"ISP1\"}, {\"gateway\": \"ISP2\", "
	    "\"tier\": 2}]}", &u, &r), 200);
	free(t);
	assert_non_null(strstr(u, "gateway-group INTERNET ISP1 ISP2 tier 2\n"));
	assert_int_equal(change(u, "rules-put", "{\"n\": 1, \"rule\": "
	    "{\"action\": \"accept\", \"interface\": \"LAN\", \"source\": "
	    "{\"addresses\": [\"MAIL\"]}, \"services\": [\"SMTP\"], "
	    "\"gateway\": \"ISP2\"}}", &t, &r), 200);
	free(u);
	assert_non_null(strstr(t, "service SMTP gateway ISP2"));
	assert_int_equal(change(t, "default-gateway", "{\"names\": "
	    "[\"INTERNET\"]}", &u, &r), 200);
	free(t);
	assert_non_null(strstr(u, "default-gateway INTERNET\n"));
	p = valid(u);
	assert_int_equal(p->ngateway, 2);
	assert_int_equal(p->ngwgroup, 1);
	assert_non_null(policy_default_gw(p, FAM_V4));
	assert_ptr_equal(p->rules[0]->gw.gw, policy_gateway(p, "ISP2"));
	assert_int_equal(p->gateways[0]->loss, 30);
	policy_free(p);
	/* A second put replaces the line; no names take the default away. */
	assert_int_equal(change(u, "gateway-put", "{\"name\": \"ISP1\", "
	    "\"interface\": \"WAN\", \"via\": \"203.0.113.9\"}", &t, &r),
	    200);
	assert_non_null(strstr(t, "gateway ISP1 on WAN via 203.0.113.9\n"));
	assert_null(strstr(t, "203.0.113.1 "));
	free(u);
	assert_int_equal(change(t, "default-gateway", "{\"names\": []}", &u,
	    &r), 200);
	assert_null(strstr(u, "default-gateway"));
	free(t);
	/* What could end the line, or is out of range. */
	assert_int_equal(change(u, "gateway-put", "{\"name\": \"X\", "
	    "\"interface\": \"WAN\", \"via\": \"1.2.3.4\\nfirewall off\"}",
	    &t, &r), 400);
	assert_int_equal(change(u, "gateway-put", "{\"name\": \"X\", "
	    "\"interface\": \"WAN\", \"via\": \"203.0.113.1\", "
	    "\"loss\": 101}", &t, &r), 400);
	assert_int_equal(change(u, "gateway-put", "{\"name\": \"X\", "
	    "\"interface\": \"WAN\", \"via\": \"203.0.113.1\", "
	    "\"latency\": \"5ms\"}", &t, &r), 400);
	assert_int_equal(change(u, "gwgroup-put", "{\"name\": \"G\", "
	    "\"members\": []}", &t, &r), 400);
	assert_int_equal(change(u, "gwgroup-put", "{\"name\": \"G\", "
	    "\"members\": [{\"gateway\": \"ISP1\", \"tier\": 6}]}", &t,
	    &r), 400);
	assert_int_equal(change(u, "default-gateway", "{\"names\": [\"a\", "
	    "\"b\", \"c\"]}", &t, &r), 400);
	assert_int_equal(change(u, "gateway-delete", "{\"name\": \"NOPE\"}",
	    &t, &r), 404);
	/* The group names ISP2: deleting it leaves a config that the
	 * parser refuses, which the console then says (not the editor). */
	assert_int_equal(change(u, "gwgroup-delete", "{\"name\": "
	    "\"INTERNET\"}", &t, &r), 200);
	assert_null(strstr(t, "gateway-group"));
	free(t);
	free(u);
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
	    "192.168.1.12\n"));
	free(t);
	assert_int_equal(change(u, "forward-put", "{\"n\": 1, \"interface\": "
	    "\"WAN\", \"services\": [\"HTTP\"], \"to\": [\"192.168.1.12\"], "
	    "\"reflection\": false}", &t, &r), 200);
	assert_non_null(strstr(t, "forward on WAN service HTTP to "
	    "192.168.1.12 reflection off\n"));
	p = valid(t);
	assert_false(p->forwards[0]->reflection);
	policy_free(p);
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

/* The field (and index) the parent's first error on text points at, as
 * the console marks it (edit_mark_fields): "-" when at none. */
static const char *
error_field(const char *text, const struct edit_result *r, int *index)
{
	static char field[32];
	struct policy *p = policy_parse("moat.conf", text, strlen(text));
	json_t *a = json_array(), *d;
	size_t i;

	assert_non_null(p);
	assert_false(policy_valid(p));
	for (i = 0; i < p->diags.n; i++)
		json_array_append_new(a, json_pack("{s:i, s:i, s:s, s:s}",
		    "line", p->diags.v[i].loc.line, "column",
		    p->diags.v[i].loc.col, "severity", p->diags.v[i].severity ==
		    DIAG_ERROR ? "error" : "other", "message",
		    p->diags.v[i].msg));
	policy_free(p);
	edit_mark_fields(r, a);
	snprintf(field, sizeof(field), "-");
	*index = -1;
	json_array_foreach(a, i, d)
		if (strcmp(json_string_value(json_object_get(d, "severity")),
		    "error") == 0) {
			if (json_object_get(d, "field") != NULL)
				snprintf(field, sizeof(field), "%s",
				    json_string_value(json_object_get(d,
				    "field")));
			if (json_object_get(d, "index") != NULL)
				*index = (int)json_integer_value(
				    json_object_get(d, "index"));
			break;
		}
	json_decref(a);
	return field;
}

/* The object NAME of text as moat show --json gives it, as JSON text
 * (the caller frees it). */
static char *
show_object(const char *text, const char *name)
{
	struct policy *p = valid(text);
	struct strbuf b;
	json_t *doc, *o;
	char *out = NULL;
	size_t i;

	strbuf_init(&b, 0);
	json_policy(p, &b);
	policy_free(p);
	doc = json_loads(strbuf_str(&b), 0, NULL);
	strbuf_free(&b);
	json_array_foreach(json_object_get(doc, "objects"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "name")),
		    name) == 0)
			out = json_dumps(o, JSON_COMPACT);
	json_decref(doc);
	assert_non_null(out);
	return out;
}

/* fqdn, url and country objects, in moat show --json's shape: written as
 * the language has them, the values judged by the parse (its errors at
 * their fields), and what no line can hold refused here. */
static void
test_feed_objects(void **state)
{
	static const char geo[] =
	    "interface LAN device lan0 address 192.168.1.1/24\n"
	    "interface WAN device wan0 address 203.0.113.2/24\n"
	    "geoip-database /var/lib/GeoIP/GeoLite2-Country.mmdb\n"
	    "object MAIL 192.168.1.10\n"
	    "accept on LAN from MAIL to ANY service SMTP\n";
	struct edit_result r;
	const struct object *o;
	struct policy *p;
	char *t, *u, *j;
	int index;

	(void)state;
	/* fqdn: a new one, then MAIL (a rule names it) becomes one. */
	assert_int_equal(change(conf, "object-put", "{\"name\": \"WEB\", "
	    "\"kind\": \"fqdn\", \"hosts\": [\"www.Example.org\", "
	    "\"mirror.example.net\"]}", &t, &r), 200);
	assert_non_null(strstr(t, "object WEB fqdn www.Example.org "
	    "mirror.example.net\n"));
	p = valid(t);
	o = policy_object(p, "WEB");
	assert_true(o != NULL && o->kind == OBJ_FQDN && o->feed.n == 2);
	assert_string_equal(o->feed.names[0], "www.example.org");
	policy_free(p);
	assert_int_equal(change(t, "object-put", "{\"name\": \"MAIL\", "
	    "\"kind\": \"fqdn\", \"hosts\": [\"mail.example.org\"]}", &u,
	    &r), 200);
	p = valid(u);
	assert_int_equal(policy_object(p, "MAIL")->kind, OBJ_FQDN);
	assert_null(strstr(u, "192.168.1.10"));
	policy_free(p);
	free(u);
	/* url: seconds as the printer writes them, the defaults left out,
	 * a URL that is not one word quoted. */
	assert_int_equal(change(t, "object-put", "{\"name\": \"DROP\", "
	    "\"kind\": \"url\", \"url\": "
	    "\"https://lists.example/drop.txt?a=1#top\", \"refresh\": 3600, "
	    "\"max\": 5000}", &u, &r), 200);
	assert_non_null(strstr(u, "object DROP url "
	    "\"https://lists.example/drop.txt?a=1#top\" refresh 1h max "
	    "5000\n"));
	p = valid(u);
	o = policy_object(p, "DROP");
	assert_true(o != NULL && o->kind == OBJ_URL && o->feed.refresh ==
	    3600 && o->feed.max == 5000);
	assert_string_equal(o->feed.names[0],
	    "https://lists.example/drop.txt?a=1#top");
	policy_free(p);
	/* moat show --json's object, sent back whole: the same line. */
	j = show_object(u, "DROP");
	free(t);
	assert_int_equal(change(u, "object-put", j, &t, &r), 200);
	assert_string_equal(t, u);
	free(j);
	free(t);
	assert_int_equal(change(u, "object-put", "{\"name\": \"DROP\", "
	    "\"kind\": \"url\", \"url\": \"file:///etc/moat/drop.txt\", "
	    "\"refresh\": 86400, \"max\": 1000000}", &t, &r), 200);
	assert_non_null(strstr(t, "object DROP url file:///etc/moat/drop.txt\n"));
	free(t);
	assert_int_equal(change(u, "object-put", "{\"name\": \"DROP\", "
	    "\"kind\": \"url\", \"url\": \"https://l.example/x\", "
	    "\"refresh\": \"6h\"}", &t, &r), 200);
	assert_non_null(strstr(t, "url https://l.example/x refresh 6h\n"));
	free(t);
	/* The parse's errors, each at its field. */
	assert_int_equal(change(u, "object-put", "{\"name\": \"DROP\", "
	    "\"kind\": \"url\", \"url\": \"https://l.example/x\", "
	    "\"refresh\": 5}", &t, &r), 200);
	assert_string_equal(error_field(t, &r, &index), "refresh");
	free(t);
	assert_int_equal(change(u, "object-put", "{\"name\": \"DROP\", "
	    "\"kind\": \"url\", \"url\": \"https://l.example/x\", "
	    "\"max\": 0}", &t, &r), 200);
	assert_string_equal(error_field(t, &r, &index), "max");
	free(t);
	assert_int_equal(change(u, "object-put", "{\"name\": \"DROP\", "
	    "\"kind\": \"url\", \"url\": \"http://l.example/x\"}", &t,
	    &r), 200);
	assert_string_equal(error_field(t, &r, &index), "url");
	free(t);
	assert_int_equal(change(u, "object-put", "{\"name\": \"DROP\", "
	    "\"kind\": \"url\", \"url\": \"https://l.example/a b\"}", &t,
	    &r), 200);
	assert_string_equal(error_field(t, &r, &index), "url");
	free(t);
	assert_int_equal(change(u, "object-put", "{\"name\": \"WEB\", "
	    "\"kind\": \"fqdn\", \"hosts\": [\"www.example.org\", "
	    "\"bad_.-name\"]}", &t, &r), 200);
	assert_string_equal(error_field(t, &r, &index), "hosts");
	assert_int_equal(index, 1);
	free(t);
	/* A country object: needs the GeoIP database (said at its name),
	 * then takes two-letter codes. */
	assert_int_equal(change(u, "object-put", "{\"name\": \"HOME\", "
	    "\"kind\": \"country\", \"countries\": [\"de\"]}", &t, &r),
	    200);
	assert_string_equal(error_field(t, &r, &index), "name");
	free(t);
	free(u);
	assert_int_equal(change(geo, "object-put", "{\"name\": \"HOME\", "
	    "\"kind\": \"country\", \"countries\": [\"de\", \"AT\"]}",
	    &t, &r), 200);
	p = valid(t);
	o = policy_object(p, "HOME");
	assert_true(o != NULL && o->kind == OBJ_COUNTRY && o->feed.n == 2);
	assert_string_equal(o->feed.names[0], "DE");
	policy_free(p);
	assert_int_equal(change(t, "object-put", "{\"name\": \"HOME\", "
	    "\"kind\": \"country\", \"countries\": [\"DE\", \"DEU\"]}",
	    &u, &r), 200);
	assert_string_equal(error_field(u, &r, &index), "countries");
	assert_int_equal(index, 1);
	free(u);
	/* An address object's members are fields too. */
	assert_int_equal(change(t, "object-put", "{\"name\": \"X\", "
	    "\"members\": {\"addresses\": [\"10.0.0.1\", \"10.0.0.300\"]}}",
	    &u, &r), 200);
	assert_string_equal(error_field(u, &r, &index), "members");
	assert_int_equal(index, 1);
	free(u);
	/* Deleted as any object. */
	assert_int_equal(change(t, "object-delete", "{\"name\": \"HOME\"}",
	    &u, &r), 200);
	assert_null(strstr(u, "HOME"));
	free(u);
	free(t);
	/* What no line can hold, or is not a field's type: 400, named. */
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"dns\", \"hosts\": [\"a.example\"]}", &t, &r),
	    400);
	assert_string_equal(r.field, "kind");
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"fqdn\", \"hosts\": \"a.example\"}", &t, &r), 400);
	assert_string_equal(r.field, "hosts");
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"fqdn\", \"hosts\": []}", &t, &r), 400);
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"fqdn\", \"hosts\": [\"a.example\\nfirewall "
	    "off\"]}", &t, &r), 400);
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"url\", \"url\": \"https://a.example/\\\"\\n"
	    "firewall off\"}", &t, &r), 400);
	assert_string_equal(r.field, "url");
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"url\", \"url\": 7}", &t, &r), 400);
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"url\", \"url\": \"https://a.example/\", "
	    "\"refresh\": true}", &t, &r), 400);
	assert_string_equal(r.field, "refresh");
	assert_int_equal(change(conf, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"country\", \"countries\": [\"DE\", 1]}", &t, &r),
	    400);
	assert_string_equal(r.field, "countries");
	/* A quote in a URL is escaped, never ends the string: the parse
	 * refuses the URL, and nothing after it is read as the language. */
	assert_int_equal(change(geo, "object-put", "{\"name\": \"X\", "
	    "\"kind\": \"url\", \"url\": \"https://a.example/\\\" "
	    "max 1 } firewall off\"}", &t, &r), 200);
	assert_non_null(strstr(t, "url \"https://a.example/\\\" max 1 } "
	    "firewall off\"\n"));
	assert_string_equal(error_field(t, &r, &index), "url");
	free(t);
}

/* nat source rules: added at a position or last, replaced (moat show
 * --json's shape taken back), moved, deleted; nat one-to-one lines added,
 * replaced and deleted; the parent's errors at their fields; what no line
 * can hold refused with its field. */
static void
test_nat_edits(void **state)
{
	struct edit_result r;
	struct policy *p;
	char *t, *u;
	int index;

	(void)state;
	assert_int_equal(change(conf, "nat-source-add", "{\"interface\": "
	    "\"WAN\", \"source\": {\"match\": \"include\", \"addresses\": "
	    "[\"MAIL\"]}, \"services\": [\"SMTP\"], \"translate\": "
	    "[\"203.0.113.25\"]}", &t, &r), 200);
	assert_non_null(strstr(t, "nat source on WAN from MAIL service SMTP "
	    "translate 203.0.113.25\n"));
	free(t);
	assert_int_equal(change(conf, "nat-source-add", "{\"interface\": "
	    "\"WAN\", \"source\": {\"addresses\": [\"LANNET\"]}, "
	    "\"destination\": {\"match\": \"include\", \"addresses\": "
	    "[\"10.20.0.0/16\", \"10.30.0.0/16\"]}, \"translate\": "
	    "\"none\"}", &t, &r), 200);
	/* first, so rule 1; then one before it, and one last */
	assert_int_equal(change(t, "nat-source-add", "{\"interface\": "
	    "\"WAN\", \"source\": {\"addresses\": [\"192.168.1.7\"]}, "
	    "\"translate\": \"masquerade\", \"position\": 1}", &u, &r), 200);
	free(t);
	assert_int_equal(change(u, "nat-source-add", "{\"interface\": "
	    "\"WAN\", \"source\": {\"match\": \"exclude\", \"addresses\": "
	    "[\"192.168.1.8\"]}, \"translate\": \"203.0.113.8\"}", &t, &r),
	    200);
	free(u);
	p = valid(t);
	assert_int_equal(p->nnat_rule, 3);
	assert_int_equal(p->nat_rules[0]->kind, NAT_TO_MASQUERADE);
	assert_int_equal(p->nat_rules[1]->kind, NAT_TO_NONE);
	assert_int_equal(p->nat_rules[2]->kind, NAT_TO_ADDRESS);
	policy_free(p);
	/* move 3 to 1: 3, 1, 2 */
	assert_int_equal(change(t, "nat-source-move", "{\"n\": 3, \"to\": 1}",
	    &u, &r), 200);
	p = valid(u);
	assert_int_equal(p->nat_rules[0]->kind, NAT_TO_ADDRESS);
	assert_int_equal(p->nat_rules[1]->kind, NAT_TO_MASQUERADE);
	assert_int_equal(p->nat_rules[2]->kind, NAT_TO_NONE);
	policy_free(p);
	free(t);
	/* and 1 to 3 again: 1, 2, 3 as they were */
	assert_int_equal(change(u, "nat-source-move", "{\"n\": 1, \"to\": 3}",
	    &t, &r), 200);
	p = valid(t);
	assert_int_equal(p->nat_rules[0]->kind, NAT_TO_MASQUERADE);
	assert_int_equal(p->nat_rules[2]->kind, NAT_TO_ADDRESS);
	policy_free(p);
	free(u);
	assert_int_equal(change(t, "nat-source-move", "{\"n\": 1, \"to\": 4}",
	    &u, &r), 400);
	assert_string_equal(r.field, "to");
	/* services as moat show --json has them */
	assert_int_equal(change(t, "nat-source-put", "{\"n\": 2, "
	    "\"interface\": \"WAN\", \"source\": {\"match\": \"include\", "
	    "\"addresses\": [\"LANNET\"]}, \"destination\": {\"match\": "
	    "\"include\", \"addresses\": [\"ANY\"]}, \"services\": "
	    "{\"match\": \"selected\", \"names\": [\"HTTP\", \"HTTPS\"]}, "
	    "\"translate\": [\"203.0.113.5\"]}", &u, &r), 200);
	assert_non_null(strstr(u, "nat source on WAN from LANNET to ANY "
	    "service { HTTP, HTTPS } translate 203.0.113.5\n"));
	p = valid(u);
	policy_free(p);
	free(u);
	assert_int_equal(change(t, "nat-source-delete", "{\"n\": 4}", &u, &r),
	    404);
	assert_int_equal(change(t, "nat-source-delete", "{\"n\": 1}", &u, &r),
	    200);
	p = valid(u);
	assert_int_equal(p->nnat_rule, 2);
	policy_free(p);
	free(u);
	/* the parent's error at its field: two IPv4 addresses to translate
	 * to, an unknown interface */
	assert_int_equal(change(t, "nat-source-put", "{\"n\": 1, "
	    "\"interface\": \"WAN\", \"source\": {\"addresses\": "
	    "[\"LANNET\"]}, \"translate\": [\"203.0.113.5\", "
	    "\"203.0.113.6\"]}", &u, &r), 200);
	assert_string_equal(error_field(u, &r, &index), "translate");
	free(u);
	assert_int_equal(change(t, "nat-source-put", "{\"n\": 1, "
	    "\"interface\": \"DMZ\", \"source\": {\"addresses\": "
	    "[\"LANNET\"]}, \"translate\": \"none\"}", &u, &r), 200);
	assert_string_equal(error_field(u, &r, &index), "interface");
	free(u);
	assert_int_equal(change(t, "nat-source-put", "{\"n\": 1, "
	    "\"interface\": \"WAN\", \"source\": {\"addresses\": "
	    "[\"LANNET\", \"NOPE\"]}, \"translate\": \"none\"}", &u, &r),
	    200);
	assert_string_equal(error_field(u, &r, &index), "source");
	assert_int_equal(index, 1);
	free(u);
	/* what no line can hold */
	assert_int_equal(change(t, "nat-source-add", "{\"interface\": "
	    "\"WAN\", \"source\": {\"addresses\": [\"LANNET\"]}, "
	    "\"translate\": \"every thing\"}", &u, &r), 400);
	assert_string_equal(r.field, "translate");
	assert_int_equal(change(t, "nat-source-add", "{\"interface\": "
	    "\"WAN\", \"source\": {\"addresses\": [\"a b\"]}, "
	    "\"translate\": \"none\"}", &u, &r), 400);
	assert_string_equal(r.field, "source");
	assert_int_equal(change(t, "nat-source-add", "{\"interface\": "
	    "\"WAN\\nnat masquerade on LAN\", \"source\": {\"addresses\": "
	    "[\"LANNET\"]}, \"translate\": \"none\"}", &u, &r), 400);
	assert_string_equal(r.field, "interface");
	assert_int_equal(change(t, "nat-source-add", "{\"interface\": "
	    "\"WAN\", \"source\": {\"addresses\": [\"LANNET\"]}, "
	    "\"translate\": \"none\", \"position\": 9}", &u, &r), 400);
	free(t);

	/* 1:1 */
	assert_int_equal(change(conf, "one-to-one-add", "{\"interface\": "
	    "\"WAN\", \"public\": \"198.51.100.10\", \"inside\": "
	    "\"192.168.1.10\"}", &t, &r), 200);
	assert_non_null(strstr(t, "nat one-to-one on WAN 198.51.100.10 to "
	    "192.168.1.10\n"));
	assert_int_equal(change(t, "one-to-one-add", "{\"interface\": "
	    "\"WAN\", \"public\": [\"198.51.100.16/30\"], \"inside\": "
	    "[\"192.168.1.16/30\"], \"reflection\": false}", &u, &r), 200);
	p = valid(u);
	assert_int_equal(p->nnat_one, 2);
	assert_true(p->nat_ones[0]->reflection);
	assert_false(p->nat_ones[1]->reflection);
	policy_free(p);
	free(t);
	assert_int_equal(change(u, "one-to-one-put", "{\"n\": 1, "
	    "\"interface\": \"WAN\", \"public\": \"198.51.100.11\", "
	    "\"inside\": \"192.168.1.10\", \"reflection\": true}", &t, &r),
	    200);
	assert_non_null(strstr(t, "nat one-to-one on WAN 198.51.100.11 to "
	    "192.168.1.10\n"));
	free(t);
	/* the same inside address twice: the parent's error at "inside" */
	assert_int_equal(change(u, "one-to-one-add", "{\"interface\": "
	    "\"WAN\", \"public\": \"198.51.100.12\", \"inside\": "
	    "\"192.168.1.10\"}", &t, &r), 200);
	assert_string_equal(error_field(t, &r, &index), "inside");
	free(t);
	assert_int_equal(change(u, "one-to-one-delete", "{\"n\": 3}", &t, &r),
	    404);
	assert_int_equal(change(u, "one-to-one-delete", "{\"n\": 1}", &t, &r),
	    200);
	p = valid(t);
	assert_int_equal(p->nnat_one, 1);
	policy_free(p);
	free(t);
	assert_int_equal(change(u, "one-to-one-add", "{\"interface\": "
	    "\"WAN\", \"public\": \"198.51.100.12\", \"inside\": "
	    "\"192.168.1.12\", \"position\": 1}", &t, &r), 400);
	assert_int_equal(change(u, "one-to-one-add", "{\"interface\": "
	    "\"WAN\", \"public\": \"198.51.100.12 to 1.2.3.4\", "
	    "\"inside\": \"192.168.1.12\"}", &t, &r), 400);
	assert_string_equal(r.field, "public");
	assert_int_equal(change(u, "one-to-one-add", "{\"interface\": "
	    "\"WAN\", \"public\": \"198.51.100.12\", \"inside\": "
	    "\"192.168.1.12\", \"reflection\": \"yes\"}", &t, &r), 400);
	assert_string_equal(r.field, "reflection");
	free(u);
	/* not a change there is */
	assert_int_equal(change(conf, "one-to-one-move", "{\"n\": 1, "
	    "\"to\": 1}", &t, &r), 404);
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
		cmocka_unit_test(test_feed_objects),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_nat_edits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* metrics.c: see metrics.h.  Names follow Prometheus's conventions: a
 * moat_ prefix, _total for counters, base units (bytes, seconds). */
#include "observe/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "observe/status.h"

static void
help(struct strbuf *b, const char *name, const char *type, const char *text)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name,
	    type);
}

/* A label value: backslash, quote and newline escaped. */
static void
label(struct strbuf *b, const char *k, const char *v, bool first)
{
	strbuf_printf(b, "%s%s=\"", first ? "" : ",", k);
	for (; *v != '\0'; v++)
		if (*v == '\\' || *v == '"')
			strbuf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			strbuf_puts(b, "\\n");
		else
			strbuf_putc(b, *v);
	strbuf_putc(b, '"');
}

/* The clamd instances of the engine's farm: up, scans, failures. */
static void
clamd_metrics(struct strbuf *b, const struct mailstats *m)
{
	static const char *const name[] = { "moat_clamd_up",
	    "moat_clamd_scans_total", "moat_clamd_failures_total" };
	static const char *const type[] = { "gauge", "counter", "counter" };
	static const char *const text[] = { "1 when the clamd instance is "
	    "in the farm, 0 when it is taken out.", "Scans sent to the clamd "
	    "instance.", "Scans the clamd instance broke off (it was then "
	    "taken out)." };
	size_t i, k;

	for (k = 0; k < 3 && m->nparts > 0; k++) {
		help(b, name[k], type[k], text[k]);
		for (i = 0; i < m->nparts; i++) {
			const struct engine_part *p = &m->parts[i];

			strbuf_printf(b, "%s{", name[k]);
			label(b, "address", p->address, true);
			strbuf_printf(b, "} %llu\n", k == 0 ?
			    (unsigned long long)p->up : (unsigned long long)
			    (k == 1 ? p->scans : p->failures));
		}
	}
}

static void
mail_counter(struct strbuf *b, const char *name, const char *text,
    uint64_t v)
{
	help(b, name, "counter", text);
	strbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* Mail over TLS, in total: messages by the legs that had TLS, the
 * sessions relayed unread, next hops verified, recipients deferred. */
static void
tls_metrics(struct strbuf *b, const struct mail_tls *t)
{
	const uint64_t known = t->deferred_dane + t->deferred_mta_sts +
	    t->deferred_verify;

	help(b, "moat_mail_tls_messages_total", "counter", "Messages by the "
	    "legs that had TLS: both, the client's only, the next hop's only, "
	    "none.");
	strbuf_printf(b, "moat_mail_tls_messages_total{outcome=\"both\"} "
	    "%llu\nmoat_mail_tls_messages_total{outcome=\"client\"} %llu\n"
	    "moat_mail_tls_messages_total{outcome=\"server\"} %llu\n"
	    "moat_mail_tls_messages_total{outcome=\"none\"} %llu\n",
	    (unsigned long long)t->both, (unsigned long long)t->client,
	    (unsigned long long)t->server, (unsigned long long)t->none);
	mail_counter(b, "moat_mail_tls_passthrough_sessions_total", "SMTP "
	    "sessions relayed unread, not scanned (smtp-intercept-tls "
	    "passthrough).", t->passthrough);
	mail_counter(b, "moat_mail_tls_passthrough_bytes_total", "Bytes of "
	    "the passthrough sessions, both ways.", t->passthrough_bytes);
	help(b, "moat_mail_tls_verified_total", "counter", "Messages whose "
	    "next hop's certificate was verified, by how.");
	strbuf_printf(b, "moat_mail_tls_verified_total{method=\"dane\"} %llu\n"
	    "moat_mail_tls_verified_total{method=\"mta-sts\"} %llu\n"
	    "moat_mail_tls_verified_total{method=\"ca\"} %llu\n",
	    (unsigned long long)t->verified_dane,
	    (unsigned long long)t->verified_mta_sts,
	    (unsigned long long)t->verified_ca);
	help(b, "moat_mail_tls_deferred_total", "counter", "Recipients "
	    "deferred (451 4.7.5): their domain's TLS policy was not met.");
	strbuf_printf(b, "moat_mail_tls_deferred_total{policy=\"dane\"} %llu\n"
	    "moat_mail_tls_deferred_total{policy=\"mta-sts\"} %llu\n"
	    "moat_mail_tls_deferred_total{policy=\"verify\"} %llu\n"
	    "moat_mail_tls_deferred_total{policy=\"other\"} %llu\n",
	    (unsigned long long)t->deferred_dane,
	    (unsigned long long)t->deferred_mta_sts,
	    (unsigned long long)t->deferred_verify,
	    (unsigned long long)(t->deferred > known ? t->deferred - known :
	    0));
}

/* The feed objects (fqdn, url, country), as moatd's parent last wrote
 * their states: elements per family, the last good refresh, up, and the
 * names of an fqdn object that failed. */
static void
feed_metrics(struct strbuf *b, const json_t *feeds)
{
	const json_t *o;
	size_t i;
	int k;

	if (json_array_size(feeds) == 0)
		return;
	help(b, "moat_feed_elements", "gauge", "Elements of a feed object's "
	    "set in the kernel, by family.");
	for (k = 0; k < 2; k++)
		json_array_foreach(feeds, i, o) {
			const char *name = json_string_value(json_object_get(o,
			    "name"));

			if (name == NULL)
				continue;
			strbuf_puts(b, "moat_feed_elements{");
			label(b, "object", name, true);
			label(b, "family", k == 0 ? "ipv4" : "ipv6", false);
			strbuf_printf(b, "} %lld\n", (long long)json_integer_value(
			    json_object_get(o, k == 0 ? "v4" : "v6")));
		}
	help(b, "moat_feed_last_refresh_timestamp_seconds", "gauge", "When "
	    "the feed object's contents were last refreshed (none before the "
	    "first good refresh).");
	json_array_foreach(feeds, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const json_t *t = json_object_get(o, "last_refresh");

		if (name == NULL || !json_is_integer(t))
			continue;
		strbuf_puts(b, "moat_feed_last_refresh_timestamp_seconds{");
		label(b, "object", name, true);
		strbuf_printf(b, "} %lld\n", (long long)json_integer_value(t));
	}
	help(b, "moat_feed_up", "gauge", "1 when the feed object's last "
	    "refresh was good, 0 otherwise (an error, a name that failed, or "
	    "none yet).");
	json_array_foreach(feeds, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *res = json_string_value(json_object_get(o,
		    "result"));

		if (name == NULL)
			continue;
		strbuf_puts(b, "moat_feed_up{");
		label(b, "object", name, true);
		strbuf_printf(b, "} %d\n", res != NULL && strcmp(res, "ok") ==
		    0);
	}
	help(b, "moat_feed_failing_names", "gauge", "Host names of an fqdn "
	    "object whose last lookup failed (they keep their last "
	    "addresses).");
	json_array_foreach(feeds, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *kind = json_string_value(json_object_get(o, "kind"));

		if (name == NULL || kind == NULL || strcmp(kind, "fqdn") != 0)
			continue;
		strbuf_puts(b, "moat_feed_failing_names{");
		label(b, "object", name, true);
		strbuf_printf(b, "} %lld\n", (long long)json_integer_value(
		    json_object_get(o, "failing")));
	}
}

/* The gateways, as moatd's parent last wrote their states: up, loss and
 * latency over the last probes, changes of state; a group's members
 * carrying its traffic. */
static void
gateway_metrics(struct strbuf *b, const json_t *doc)
{
	const json_t *arr = json_object_get(doc, "gateways"), *o, *m;
	size_t i, k;

	if (json_array_size(arr) == 0)
		return;
	help(b, "moat_gateway_up", "gauge", "1 when the gateway is up (its "
	    "probes within its loss and latency limits; pending counts as "
	    "up), 0 when down.");
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *st = json_string_value(json_object_get(o, "state"));

		if (name == NULL)
			continue;
		strbuf_puts(b, "moat_gateway_up{");
		label(b, "gateway", name, true);
		strbuf_printf(b, "} %d\n", st == NULL || strcmp(st, "down") !=
		    0);
	}
	help(b, "moat_gateway_loss_ratio", "gauge", "Probes lost of the last "
	    "ones decided (0 to 1).");
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const json_t *v = json_object_get(o, "loss");

		if (name == NULL || !json_is_number(v))
			continue;
		strbuf_puts(b, "moat_gateway_loss_ratio{");
		label(b, "gateway", name, true);
		strbuf_printf(b, "} %.3f\n", json_number_value(v) / 100.0);
	}
	help(b, "moat_gateway_latency_seconds", "gauge", "Mean round trip "
	    "of the last probes answered.");
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const json_t *v = json_object_get(o, "latency_ms");

		if (name == NULL || !json_is_number(v))
			continue;
		strbuf_puts(b, "moat_gateway_latency_seconds{");
		label(b, "gateway", name, true);
		strbuf_printf(b, "} %.6f\n", json_number_value(v) / 1000.0);
	}
	help(b, "moat_gateway_changes_total", "counter", "Changes of the "
	    "gateway's state (up, down) since moatd started.");
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));

		if (name == NULL)
			continue;
		strbuf_puts(b, "moat_gateway_changes_total{");
		label(b, "gateway", name, true);
		strbuf_printf(b, "} %lld\n", (long long)json_integer_value(
		    json_object_get(o, "changes")));
	}
	arr = json_object_get(doc, "groups");
	if (json_array_size(arr) == 0)
		return;
	help(b, "moat_gateway_group_active", "gauge", "1 for each member "
	    "carrying the group's traffic now.");
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));

		json_array_foreach(json_object_get(o, "active"), k, m) {
			if (name == NULL || json_string_value(m) == NULL)
				continue;
			strbuf_puts(b, "moat_gateway_group_active{");
			label(b, "group", name, true);
			label(b, "gateway", json_string_value(m), false);
			strbuf_puts(b, "} 1\n");
		}
	}
}

static const struct rule *
rule_of(const struct policy *p, int n)
{
	return p != NULL && n >= 1 && (size_t)n <= p->nrule ?
	    p->rules[n - 1] : NULL;
}

/* The first label of an entry's counter: its number in the config in
 * force (counter_ID: none, an empty label, when that has no such entry;
 * the old form counter_N: N).  The number. */
static int
number_label(const struct metrics_input *in, const struct counter *c,
    struct strbuf *b, const char *name)
{
	char num[16];
	int n = c->id != 0 ? nftc_entry_number(in->p, c->what, c->id, 0) :
	    c->number;

	if (n > 0)
		snprintf(num, sizeof(num), "%d", n);
	label(b, name, n > 0 ? num : "", true);
	return n;
}

/* The id label of an entry's counter named by its id (none for the old
 * form): it stays the same when entries are put above it. */
static void
id_label(const struct counter *c, struct strbuf *b)
{
	char id[NFTC_ID_LEN + 1];

	if (c->id == 0)
		return;
	snprintf(id, sizeof(id), NFTC_ID, (unsigned long long)c->id);
	label(b, "id", id, false);
}

/* The counters of one kind, as name{labels} value, packets or bytes. */
static void
counter_lines(const struct metrics_input *in, struct strbuf *b,
    enum nftc_counted what, bool bytes)
{
	size_t i;
	char num[16];
	int n;

	for (i = 0; i < in->nctr; i++) {
		const struct counter *c = &in->ctr[i];
		const struct rule *r;

		if (c->what != what)
			continue;
		switch (what) {
		case NFTC_COUNTS_RULE:
			strbuf_puts(b, bytes ? "moat_rule_bytes_total{" :
			    "moat_rule_packets_total{");
			n = number_label(in, c, b, "rule");
			if ((r = rule_of(in->p, n)) != NULL) {
				snprintf(num, sizeof(num), "%d", r->loc.line);
				label(b, "line", num, false);
				label(b, "action", action_name(r->action),
				    false);
				label(b, "interface", r->ifname, false);
			}
			id_label(c, b);
			break;
		case NFTC_COUNTS_DEFAULT:
			strbuf_puts(b, bytes ? "moat_default_bytes_total{" :
			    "moat_default_packets_total{");
			label(b, "interface", c->name + 8, true);
			if (in->p != NULL && policy_iface(in->p, c->name + 8))
				label(b, "action", action_name(
				    policy_iface_default(policy_iface(in->p,
				    c->name + 8))), false);
			break;
		case NFTC_COUNTS_FORWARD_ACCEPT:
			strbuf_puts(b, bytes ? "moat_forward_bytes_total{" :
			    "moat_forward_packets_total{");
			number_label(in, c, b, "forward");
			id_label(c, b);
			break;
		case NFTC_COUNTS_NAT_SOURCE:
			strbuf_puts(b, bytes ? "moat_nat_source_bytes_total{" :
			    "moat_nat_source_packets_total{");
			number_label(in, c, b, "rule");
			id_label(c, b);
			break;
		case NFTC_COUNTS_ONE_TO_ONE:
			strbuf_puts(b, bytes ? "moat_one_to_one_bytes_total{" :
			    "moat_one_to_one_packets_total{");
			number_label(in, c, b, "mapping");
			id_label(c, b);
			break;
		default:
			strbuf_puts(b, bytes ? "moat_other_bytes_total{" :
			    "moat_other_packets_total{");
			label(b, "counter", c->name, true);
			break;
		}
		strbuf_printf(b, "} %llu\n", (unsigned long long)(bytes ?
		    c->bytes : c->packets));
	}
}

void
metrics_write(const struct metrics_input *in, struct strbuf *b)
{
	const struct mailstats *m = in->mail;
	uint64_t cum = 0;
	size_t i;

	if (in->p != NULL) {
		help(b, "moat_policy_info", "gauge", "The policy in force: "
		    "its config's hash.");
		strbuf_printf(b, "moat_policy_info{hash=\"%016llx\"} 1\n",
		    in->hash);
	}
	if (in->ctr != NULL) {
		help(b, "moat_rule_packets_total", "counter", "Packets each "
		    "rule decided.");
		counter_lines(in, b, NFTC_COUNTS_RULE, false);
		help(b, "moat_rule_bytes_total", "counter", "Bytes of the "
		    "packets each rule decided.");
		counter_lines(in, b, NFTC_COUNTS_RULE, true);
		help(b, "moat_default_packets_total", "counter", "Packets "
		    "an interface's default decided.");
		counter_lines(in, b, NFTC_COUNTS_DEFAULT, false);
		help(b, "moat_default_bytes_total", "counter", "Bytes of the "
		    "packets an interface's default decided.");
		counter_lines(in, b, NFTC_COUNTS_DEFAULT, true);
		help(b, "moat_forward_packets_total", "counter", "Packets a "
		    "port forward's own accept let in.");
		counter_lines(in, b, NFTC_COUNTS_FORWARD_ACCEPT, false);
		help(b, "moat_forward_bytes_total", "counter", "Bytes a port "
		    "forward's own accept let in.");
		counter_lines(in, b, NFTC_COUNTS_FORWARD_ACCEPT, true);
		help(b, "moat_nat_source_packets_total", "counter", "New "
		    "connections an outbound NAT rule (nat source) decided: "
		    "the NAT chains see a connection's first packet.");
		counter_lines(in, b, NFTC_COUNTS_NAT_SOURCE, false);
		help(b, "moat_nat_source_bytes_total", "counter", "Bytes of "
		    "those first packets.");
		counter_lines(in, b, NFTC_COUNTS_NAT_SOURCE, true);
		help(b, "moat_one_to_one_packets_total", "counter", "New "
		    "connections a one-to-one mapping translated, either way.");
		counter_lines(in, b, NFTC_COUNTS_ONE_TO_ONE, false);
		help(b, "moat_one_to_one_bytes_total", "counter", "Bytes of "
		    "their first packets.");
		counter_lines(in, b, NFTC_COUNTS_ONE_TO_ONE, true);
		help(b, "moat_anti_lockout_packets_total", "counter",
		    "Packets the anti-lockout rule accepted.");
		for (i = 0; i < in->nctr; i++)
			if (in->ctr[i].what == NFTC_COUNTS_ANTI_LOCKOUT)
				strbuf_printf(b, "moat_anti_lockout_packets_total"
				    " %llu\n", (unsigned long long)
				    in->ctr[i].packets);
		help(b, "moat_undeclared_packets_total", "counter", "Packets "
		    "dropped: they came in on a device no interface declares.");
		for (i = 0; i < in->nctr; i++)
			if (in->ctr[i].what == NFTC_COUNTS_UNDECLARED)
				strbuf_printf(b, "moat_undeclared_packets_total "
				    "%llu\n", (unsigned long long)
				    in->ctr[i].packets);
	}
	if (in->fw != NULL) {
		help(b, "moat_firewall_log_records_total", "counter",
		    "Firewall log records written.");
		strbuf_printf(b, "moat_firewall_log_records_total %llu\n",
		    (unsigned long long)in->fw->written);
		help(b, "moat_firewall_log_dropped_total", "counter",
		    "Firewall log records lost, by where.");
		strbuf_printf(b, "moat_firewall_log_dropped_total{where="
		    "\"kernel\"} %llu\nmoat_firewall_log_dropped_total{where="
		    "\"disk\"} %llu\n", (unsigned long long)in->fw->lost_kernel,
		    (unsigned long long)in->fw->lost_disk);
	}
	feed_metrics(b, in->feeds);
	gateway_metrics(b, in->gateways);
	if (m == NULL)
		return;
	mail_counter(b, "moat_mail_messages_total", "Messages the SMTP proxy "
	    "handled to the end of DATA.", m->total.messages);
	mail_counter(b, "moat_mail_scanned_total", "Messages scanned (clean "
	    "or virus).", m->total.scanned);
	mail_counter(b, "moat_mail_clean_total", "Messages scanned clean.",
	    m->total.clean);
	mail_counter(b, "moat_mail_virus_total", "Messages refused: a virus.",
	    m->total.virus);
	mail_counter(b, "moat_mail_scan_failures_total", "Messages the engine "
	    "could not scan.", m->total.scan_failures);
	mail_counter(b, "moat_mail_size_rejects_total", "Messages over "
	    "max-message-size.", m->total.size_rejects);
	mail_counter(b, "moat_mail_tempfail_total", "Messages answered "
	    "4xx.", m->total.tempfail);
	mail_counter(b, "moat_mail_bytes_total", "Bytes of the messages.",
	    m->total.bytes);
	tls_metrics(b, &m->tls_total);
	help(b, "moat_smtp_sessions", "gauge", "SMTP proxy sessions open.");
	strbuf_printf(b, "moat_smtp_sessions %u\n", m->sessions);
	if (m->engine[0] != '\0') {
		help(b, "moat_antivirus_signatures", "gauge", "Signatures "
		    "the engine loaded (libclamav).");
		strbuf_printf(b, "moat_antivirus_signatures %u\n",
		    m->signatures);
		help(b, "moat_antivirus_engine_bytes", "gauge", "Memory the "
		    "engine's last load took (libclamav).");
		strbuf_printf(b, "moat_antivirus_engine_bytes %llu\n",
		    (unsigned long long)m->engine_memory);
		help(b, "moat_antivirus_load_seconds", "gauge", "How long the "
		    "engine's last load took.");
		strbuf_printf(b, "moat_antivirus_load_seconds %.3f\n",
		    m->load_ms / 1000.0);
		help(b, "moat_antivirus_reload_blocking", "gauge", "1 when "
		    "the last reload was blocking (mail got 451 meanwhile).");
		strbuf_printf(b, "moat_antivirus_reload_blocking %d\n",
		    strcmp(m->reload, "blocking") == 0);
	}
	clamd_metrics(b, m);
	help(b, "moat_mail_scan_seconds", "histogram", "Time to scan a "
	    "message.");
	for (i = 0; i < MAILSTATS_BUCKETS; i++) {
		cum += m->scan_buckets[i];
		if (i < MAILSTATS_BUCKETS - 1)
			strbuf_printf(b, "moat_mail_scan_seconds_bucket{le=\"%g\"}"
			    " %llu\n", mailstats_bounds[i],
			    (unsigned long long)cum);
		else
			strbuf_printf(b, "moat_mail_scan_seconds_bucket{le="
			    "\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	strbuf_printf(b, "moat_mail_scan_seconds_sum %.6f\n"
	    "moat_mail_scan_seconds_count %llu\n", m->scan_seconds,
	    (unsigned long long)cum);
}

int
metrics_collect(const char *state, const char *run, struct strbuf *b,
    struct strbuf *err)
{
	struct status_where w = { .state = state, .run = run };
	struct metrics_input in = { 0 };
	struct gw_status st;

	if (status_collect(&w, &st, err) == -1)
		return -1;
	if (st.p != NULL) {
		in.p = st.p;
		in.hash = (unsigned long long)st.entry.hash;
	}
	if (st.have_ctr) {
		in.ctr = st.ctr;
		in.nctr = st.nctr;
	}
	in.mail = st.have_mail ? &st.mail : NULL;
	in.fw = st.have_fw ? &st.fw : NULL;
	in.feeds = st.feeds != NULL ? json_object_get(st.feeds, "objects") :
	    NULL;
	in.gateways = st.gateways;
	metrics_write(&in, b);
	if (in.ctr == NULL && in.mail == NULL && in.fw == NULL &&
	    json_array_size(in.feeds) == 0 && in.gateways == NULL) {
		strbuf_printf(err, "nothing to measure: %s", st.ctr_err);
		status_free(&st);
		return -1;
	}
	status_free(&st);
	return 0;
}

int
metrics_write_file(const char *state, const char *run, const char *file,
    struct strbuf *err)
{
	struct strbuf b;
	int rc = -1;

	strbuf_init(&b, 0);
	if (metrics_collect(state, run, &b, err) == -1)
		goto out;
	if (file_replace(file, strbuf_str(&b), b.len, 0644, FILE_NOSYNC) ==
	    -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	strbuf_free(&b);
	return rc;
}

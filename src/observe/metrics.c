/* metrics.c: see metrics.h.  Names follow Prometheus's conventions: a
 * moat_ prefix, _total for counters, base units (bytes, seconds). */
#include "observe/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "enforce/apply.h"
#include "policy/load.h"

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

static const struct rule *
rule_of(const struct policy *p, int n)
{
	return p != NULL && n >= 1 && (size_t)n <= p->nrule ?
	    p->rules[n - 1] : NULL;
}

/* The counters of one kind, as name{labels} value, packets or bytes. */
static void
counter_lines(const struct metrics_input *in, struct strbuf *b,
    enum nftc_counted what, bool bytes)
{
	size_t i;
	char num[16];

	for (i = 0; i < in->nctr; i++) {
		const struct counter *c = &in->ctr[i];
		const struct rule *r;

		if (c->what != what)
			continue;
		switch (what) {
		case NFTC_COUNTS_RULE:
			strbuf_puts(b, bytes ? "moat_rule_bytes_total{" :
			    "moat_rule_packets_total{");
			snprintf(num, sizeof(num), "%d", c->number);
			label(b, "rule", num, true);
			if ((r = rule_of(in->p, c->number)) != NULL) {
				snprintf(num, sizeof(num), "%d", r->loc.line);
				label(b, "line", num, false);
				label(b, "action", action_name(r->action),
				    false);
				label(b, "interface", r->ifname, false);
			}
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
			snprintf(num, sizeof(num), "%d", c->number);
			label(b, "forward", num, true);
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

static void
mail_counter(struct strbuf *b, const char *name, const char *text,
    uint64_t v)
{
	help(b, name, "counter", text);
	strbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
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
	help(b, "moat_smtp_sessions", "gauge", "SMTP proxy sessions open.");
	strbuf_printf(b, "moat_smtp_sessions %u\n", m->sessions);
	if (m->engine[0] != '\0') {
		help(b, "moat_antivirus_signatures", "gauge", "Signatures "
		    "the engine loaded (libclamav).");
		strbuf_printf(b, "moat_antivirus_signatures %u\n",
		    m->signatures);
	}
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
	struct metrics_input in = { 0 };
	struct history_entry *v = NULL;
	struct mailstats m;
	struct fwlog_stats fw;
	struct counter *ctr = NULL;
	struct policy *p = NULL;
	struct strbuf e2;
	size_t n = 0, len, nctr = 0;
	char *text;

	strbuf_init(&e2, 0);
	if (apply_history(state, &v, &n, &e2) == 0 && n > 0 &&
	    strcmp(v[n - 1].file, "-") != 0 &&
	    (text = apply_config_text(state, v[n - 1].seq, &len)) != NULL) {
		p = policy_parse(v[n - 1].file, text, len);
		free(text);
		if (p != NULL && policy_valid(p)) {
			in.p = p;
			in.hash = (unsigned long long)v[n - 1].hash;
		}
	}
	free(v);
	if (counters_read(&ctr, &nctr, &e2) == 0) {
		in.ctr = ctr;
		in.nctr = nctr;
	}
	if (mailstats_load(state, &m) == 0 && m.updated != 0)
		in.mail = &m;
	if (fwlog_stats_read(run, &fw) == 0)
		in.fw = &fw;
	metrics_write(&in, b);
	policy_free(p);
	free(ctr);
	if (in.ctr == NULL && in.mail == NULL && in.fw == NULL) {
		strbuf_printf(err, "nothing to measure: %s", strbuf_str(&e2));
		strbuf_free(&e2);
		return -1;
	}
	strbuf_free(&e2);
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

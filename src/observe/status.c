/* status.c: the gateway's status, gathered once; see status.h. */
#include "observe/status.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cores.h"
#include "base/file.h"
#include "enforce/nftc.h"
#include "output/printer.h"
#include "policy/lexer.h"
#include "policy/load.h"

/* The config in force, parsed beside the kernel's dump of the counters
 * (in a thread of its own when a core is idle): at 100,000 rules each
 * takes hundreds of milliseconds, and they need nothing of each other. */
struct parse_job {
	const char	*name;
	char		*text;		/* malloc'd; NULL: nothing to parse */
	size_t		 len;
	struct policy	*p;
	pthread_t	 tid;
	bool		 started;
};

static void *
parse_run(void *arg)
{
	struct parse_job *j = arg;

	if (j->text == NULL)
		return NULL;
	/* (the text is the policy's now: no copy of it) */
	j->p = policy_parse_taking(j->name, j->text, j->len, NULL);
	j->text = NULL;
	if (j->p != NULL && !policy_valid(j->p)) {
		policy_free(j->p);
		j->p = NULL;
	}
	return NULL;
}

/* Whether text (len bytes), of the entry's hash (apply_hash leaves the HA
 * secret out), has the secret of entry seq's config too: a config that
 * changed only its secret is not applied. */
static bool
same_secret(const char *state, unsigned seq, const char *text, size_t len)
{
	size_t elen;
	char *e;
	bool same;

	if (!lexer_may_hold_secret(text, len))
		return true;
	if ((e = apply_config_text(state, seq, &elen)) == NULL)
		return false;
	same = elen == len && memcmp(e, text, len) == 0;
	free(e);
	return same;
}

/* The entry in force, and its config's text for j to parse. */
static void
collect_entry(const struct status_where *w, struct gw_status *st,
    const struct history_entry *v, size_t n, struct parse_job *j)
{
	st->have_entry = true;
	st->entry = v[n - 1];
	if (strcmp(st->entry.file, "-") == 0)
		return;		/* a rollback removed the table */
	st->drift = apply_drift(w->state, st->entry.seq);
	if (!w->counters_none) {
		j->name = st->entry.file;
		j->text = apply_config_text(w->state, st->entry.seq, &j->len);
	}
}

int
status_collect(const struct status_where *w, struct gw_status *st,
    struct strbuf *err)
{
	struct history_entry *v = NULL;
	struct parse_job job;
	struct strbuf e2;
	size_t n = 0, len;
	char *text;
	int got;

	memset(st, 0, sizeof(*st));
	memset(&job, 0, sizeof(job));
	st->now = time(NULL);
	st->unapplied = -1;
	if (apply_history(w->state, &v, &n, err) == -1)
		return -1;
	if (n > 0)
		collect_entry(w, st, v, n, &job);
	free(v);
	if (job.text != NULL)
		job.started = cores_idle() > 0 && pthread_create(&job.tid,
		    NULL, parse_run, &job) == 0;
	st->pending = apply_pending(w->state, &st->pending_seq, &st->deadline);
	if (w->conf != NULL && (text = file_read(w->conf, POLICY_FILE_MAX,
	    &len)) != NULL) {
		st->unapplied = !st->have_entry ||
		    !apply_hash_is(text, len, st->entry.hash) ||
		    !same_secret(w->state, st->entry.seq, text, len);
		free(text);
	}
	strbuf_init(&e2, 0);
	got = w->counters_none ? -1 : counters_read(&st->ctr, &st->nctr, &e2);
	if (job.started)
		pthread_join(job.tid, NULL);
	else
		parse_run(&job);
	st->p = job.p;
	if (got == 0) {
		st->have_ctr = true;
		counters_number(st->ctr, st->nctr, st->p);
		counters_sort(st->ctr, st->nctr);
		st->nctr_all = st->nctr;
		counters_busiest(st->ctr, &st->nctr, w->counters_max);
	} else if (!w->counters_none)
		snprintf(st->ctr_err, sizeof(st->ctr_err), "%s",
		    strbuf_str(&e2));
	strbuf_free(&e2);
	st->have_mail = mailstats_load(w->state, &st->mail) == 0 &&
	    st->mail.updated != 0;
	st->have_fw = fwlog_stats_read(w->run, &st->fw) == 0;
	if (w->ha_file != NULL)
		st->ha = json_load_file(w->ha_file, 0, NULL);
	if (w->run != NULL) {
		st->feeds = status_feeds_load(w->run);
		st->gateways = status_gateways_load(w->run);
	}
	if (w->foreign) {
		strbuf_init(&e2, 0);
		st->have_foreign = foreign_read(&st->foreign, &st->nforeign,
		    &st->nforeign_more, &e2) == 0;
		if (!st->have_foreign)
			snprintf(st->foreign_err, sizeof(st->foreign_err),
			    "%s", strbuf_str(&e2));
		strbuf_free(&e2);
	}
	return 0;
}


/* RUN/file as moatd's parent wrote it, when its member key is a
 * non-empty array (or, !nonempty, any array); else NULL. */
static json_t *
load_run_json(const char *run, const char *file, const char *key,
    bool nonempty)
{
	char path[4200];
	json_t *doc, *a;

	snprintf(path, sizeof(path), "%s/%s", run, file);
	doc = json_load_file(path, 0, NULL);
	a = json_object_get(doc, key);
	if (doc != NULL && (!json_is_array(a) || (nonempty &&
	    json_array_size(a) == 0))) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

json_t *
status_feeds_load(const char *run)
{
	return load_run_json(run, STATUS_FEEDS_FILE, "objects", false);
}

json_t *
status_gateways_load(const char *run)
{
	return load_run_json(run, STATUS_GATEWAYS_FILE, "gateways", true);
}

void
status_free(struct gw_status *st)
{
	policy_free(st->p);
	free(st->ctr);
	json_decref(st->ha);
	json_decref(st->feeds);
	json_decref(st->gateways);
	free(st->foreign);
	memset(st, 0, sizeof(*st));
}

/* ---- text ---------------------------------------------------------- */

static void
when_text(time_t t, const char *fmt, char *buf, size_t len)
{
	struct tm tm;

	strftime(buf, len, fmt, localtime_r(&t, &tm));
}

static void
text_applied(const struct gw_status *st, struct strbuf *b)
{
	const struct history_entry *e = &st->entry;
	char when[32];

	if (!st->have_entry) {
		strbuf_puts(b, "applied: nothing yet\n");
		return;
	}
	if (strcmp(e->file, "-") == 0) {
		strbuf_puts(b, "applied: nothing (the table was removed by a "
		    "rollback)\n");
		return;
	}
	when_text(e->when, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
	if (st->drift == DRIFT_NO_TABLE) {
		/* A reboot, or another network namespace: say so rather
		 * than pass on libnftables' error. */
		strbuf_printf(b, "applied: nothing here; last applied: history "
		    "entry %u, %s, at %s\n", e->seq, e->file, when);
		return;
	}
	strbuf_printf(b, "applied: history entry %u, %s, hash %016llx (%s, "
	    "%s)\n", e->seq, e->file, (unsigned long long)e->hash, e->what,
	    when);
	if (st->drift == DRIFT_CHANGED)
		strbuf_printf(b, "warning: table inet moat in the kernel is "
		    "not what entry %u applied: it was changed since (by hand, "
		    "or by another tool); moat apply puts it right\n", e->seq);
}

/* An entry's counter in moat's words, into name, and the entry's line
 * into line: "rule 2" and its rule, "forward 1", "forward 1 accept",
 * "nat source 3", "one-to-one 1"; the counter's kernel name (counter_ID)
 * when the config in force has no such entry, and for the others. */
static void
counter_words(const struct gw_status *st, const struct counter *k,
    char *name, size_t len, struct strbuf *line)
{
	const struct policy *p = st->p;
	int n = k->number;

	snprintf(name, len, "%s", k->name);
	if (p == NULL || n <= 0)
		return;
	switch (k->what) {
	case NFTC_COUNTS_RULE:
		if ((size_t)n > p->nrule)
			return;
		printer_rule(p->rules[n - 1], line, false);
		snprintf(name, len, "rule %d", n);
		break;
	case NFTC_COUNTS_FORWARD:
	case NFTC_COUNTS_FORWARD_ACCEPT:
		if ((size_t)n > p->nforward)
			return;
		policy_forward_line(p->forwards[n - 1], line);
		snprintf(name, len, "forward %d%s", n, k->what ==
		    NFTC_COUNTS_FORWARD_ACCEPT ? " accept" : "");
		break;
	case NFTC_COUNTS_NAT_SOURCE:
		if ((size_t)n > p->nnat_rule)
			return;
		policy_nat_rule_line(p->nat_rules[n - 1], line);
		snprintf(name, len, "nat source %d", n);
		break;
	case NFTC_COUNTS_ONE_TO_ONE:
		if ((size_t)n > p->nnat_one)
			return;
		policy_nat_one_line(p->nat_ones[n - 1], line);
		snprintf(name, len, "one-to-one %d", n);
		break;
	default:
		break;
	}
}

static void
text_counters(const struct gw_status *st, struct strbuf *b)
{
	size_t i;

	strbuf_printf(b, "%-18s %12s %14s  %s\n", "counter", "packets",
	    "bytes", "rule");
	for (i = 0; i < st->nctr; i++) {
		const struct counter *k = &st->ctr[i];
		struct strbuf line;
		char name[sizeof(k->name)];

		strbuf_init(&line, 0);
		/* An entry's counter, named by its id in the kernel, is told
		 * by the number the config in force gives it. */
		counter_words(st, k, name, sizeof(name), &line);
		strbuf_printf(b, "%-18s %12llu %14llu  %s\n", name,
		    (unsigned long long)k->packets,
		    (unsigned long long)k->bytes, strbuf_str(&line));
		strbuf_free(&line);
	}
}

/* The other tables' base chains: what a packet meets besides moat's
 * (doc/design/other-tables.md). */
static void
text_foreign(const struct gw_status *st, struct strbuf *b)
{
	size_t i;

	if (st->foreign_err[0] != '\0') {
		strbuf_printf(b, "other tables: could not be read (%s)\n",
		    st->foreign_err);
		return;
	}
	strbuf_puts(b, "other tables (moat never changes them; a packet meets "
	    "their base chains too):\n");
	for (i = 0; i < st->nforeign; i++) {
		strbuf_puts(b, "  ");
		foreign_line(&st->foreign[i], b);
		strbuf_putc(b, '\n');
	}
	if (st->nforeign_more > 0)
		strbuf_printf(b, "  and %zu more base chains, not read\n",
		    st->nforeign_more);
}

/* The firewall log's figures, as moatd's logger last wrote them. */
static void
text_fwlog(const struct gw_status *st, struct strbuf *b)
{
	const struct fwlog_stats *f = &st->fw;
	long long age = (long long)st->now - f->updated;

	strbuf_printf(b, "firewall log: %s: %llu records written, %llu lost "
	    "by the kernel, %llu by the disk%s%s%s\n", f->file,
	    (unsigned long long)f->written, (unsigned long long)f->lost_kernel,
	    (unsigned long long)f->lost_disk, f->error[0] ? " (" : "",
	    f->error, f->error[0] ? ")" : "");
	if (age > 5)
		strbuf_printf(b, "warning: the firewall log's figures are %lld "
		    "s old: is moatd running?\n", age);
}

static void
text_counts(struct strbuf *b, const char *what, const struct mail_counts *c)
{
	strbuf_printf(b, "  %-12s %llu messages: %llu clean, %llu virus, %llu "
	    "not scanned (engine), %llu too big, %llu temporary failures; "
	    "%llu bytes\n", what, (unsigned long long)(c ? c->messages : 0),
	    (unsigned long long)(c ? c->clean : 0),
	    (unsigned long long)(c ? c->virus : 0),
	    (unsigned long long)(c ? c->scan_failures : 0),
	    (unsigned long long)(c ? c->size_rejects : 0),
	    (unsigned long long)(c ? c->tempfail : 0),
	    (unsigned long long)(c ? c->bytes : 0));
}

/* Mail over TLS in one period: the messages by leg, the sessions
 * relayed unread, the next hops verified, the recipients deferred. */
static void
text_tls(struct strbuf *b, const char *what, const struct mail_tls *t)
{
	strbuf_printf(b, "  TLS %-12s %llu messages on both legs, %llu the "
	    "client's only, %llu the next hop's only, %llu neither; %llu "
	    "passthrough sessions (%llu bytes, not scanned); next hops "
	    "verified: %llu DANE, %llu MTA-STS, %llu CA; %llu recipients "
	    "deferred for TLS policy (%llu DANE, %llu MTA-STS, %llu verify)\n",
	    what, (unsigned long long)t->both, (unsigned long long)t->client,
	    (unsigned long long)t->server, (unsigned long long)t->none,
	    (unsigned long long)t->passthrough,
	    (unsigned long long)t->passthrough_bytes,
	    (unsigned long long)t->verified_dane,
	    (unsigned long long)t->verified_mta_sts,
	    (unsigned long long)t->verified_ca,
	    (unsigned long long)t->deferred,
	    (unsigned long long)t->deferred_dane,
	    (unsigned long long)t->deferred_mta_sts,
	    (unsigned long long)t->deferred_verify);
}

/* The Gateway Anti-Virus: its engine and figures (moatd keeps them). */
static void
text_antivirus(const struct gw_status *st, struct strbuf *b)
{
	const struct mailstats *m = &st->mail;
	char hour[16], day[16], when[32];
	size_t i;

	strbuf_printf(b, "antivirus: %s", m->engine[0] ? m->engine :
	    "no engine");
	if (m->signatures > 0)
		strbuf_printf(b, ", %u signatures", m->signatures);
	if (m->db_version > 0) {
		when_text((time_t)m->db_time, "%Y-%m-%d %H:%M", when,
		    sizeof(when));
		strbuf_printf(b, ", database version %u of %s", m->db_version,
		    when);
	}
	if (m->engine_memory > 0 || m->load_ms > 0)
		strbuf_printf(b, ", %llu MB, loaded in %.1f s%s%s%s",
		    (unsigned long long)(m->engine_memory >> 20),
		    m->load_ms / 1000.0, m->reload[0] ? " (" : "", m->reload,
		    m->reload[0] ? " reload)" : "");
	if (m->engine_error[0] != '\0')
		strbuf_printf(b, " (%s)", m->engine_error);
	strbuf_printf(b, "; %u open sessions\n", m->sessions);
	mailstats_keys((long long)st->now, hour, day);
	when_text((time_t)m->started, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
	strbuf_printf(b, "  since moatd started (%s):\n", when);
	text_counts(b, "", &m->since_start);
	text_counts(b, "today:", mailstats_period(m, true, day));
	text_counts(b, "in total:", &m->total);
	text_tls(b, "since start:", &m->tls_since_start);
	text_tls(b, "in total:", &m->tls_total);
	if (m->last_virus_time[0] != '\0')
		strbuf_printf(b, "  last virus: %s at %s, from %s\n",
		    m->last_virus_sig, m->last_virus_time,
		    m->last_virus_client);
	for (i = 0; i < m->nparts; i++) {
		const struct engine_part *p = &m->parts[i];

		when_text((time_t)p->since, "%Y-%m-%d %H:%M:%S", when,
		    sizeof(when));
		strbuf_printf(b, "  clamd at %s: %s since %s, %llu scans, %llu "
		    "broken off%s%s\n", p->address, p->up ? "in the farm" :
		    "OUT", when, (unsigned long long)p->scans,
		    (unsigned long long)p->failures, p->up ? "" : ": ",
		    p->up ? "" : p->error);
	}
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* An HA pair: this node's state, the peer's, whether both run the same
 * policy, the last config sent (moatd keeps them: daemon/hanode.c). */
static void
text_ha(const struct gw_status *st, struct strbuf *b)
{
	json_t *o = st->ha, *peer = json_object_get(o, "peer"), *push;
	const char *phash = jstr(peer, "hash"), *hash = jstr(o, "hash");
	const char *err = jstr(peer, "error"), *pstate = jstr(peer, "state");
	time_t seen = (time_t)json_integer_value(json_object_get(peer,
	    "seen"));
	char when[32];

	when_text((time_t)json_integer_value(json_object_get(o, "since")),
	    "%H:%M:%S", when, sizeof(when));
	strbuf_printf(b, "ha: this node (%s, priority %lld) is %s, since %s\n",
	    jstr(o, "address"), json_integer_value(json_object_get(o,
	    "priority")), jstr(o, "state"), when);
	if (seen == 0)
		strbuf_printf(b, "ha: peer %s not heard yet%s%s\n",
		    jstr(peer, "address"), *err ? ": " : "", err);
	else
		strbuf_printf(b, "ha: peer %s is %s, heard %lld s ago%s%s\n",
		    jstr(peer, "address"), *pstate ? pstate : "silent",
		    (long long)(st->now - seen), *err ? "; since then: " : "",
		    err);
	if (*phash && *hash)
		strbuf_printf(b, strcmp(phash, hash) == 0 ? "ha: the two run "
		    "the same policy (%s)\n" : "ha: the two run different "
		    "policies (this node %s, the peer %s)\n", hash, phash);
	if ((push = json_object_get(o, "push")) != NULL) {
		when_text((time_t)json_integer_value(json_object_get(push,
		    "time")), "%H:%M:%S", when, sizeof(when));
		strbuf_printf(b, "ha: entry %lld sent to the peer at %s: %s\n",
		    json_integer_value(json_object_get(push, "entry")), when,
		    jstr(push, "result"));
	}
}

/* ---- feed objects ------------------------------------------------- */

static void
put_time(struct strbuf *b, json_t *t)
{
	char buf[32];
	struct tm tm;
	time_t v;

	if (!json_is_integer(t)) {
		strbuf_puts(b, "never");
		return;
	}
	/* A time no calendar holds (the file is the parent's, but what it
	 * says came from the feed process): said, not a crash. */
	v = (time_t)json_integer_value(t);
	if (localtime_r(&v, &tm) == NULL) {
		strbuf_printf(b, "? (%lld)", (long long)json_integer_value(t));
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	strbuf_puts(b, buf);
}

/* One line: "Feed objects: 3 (2 ok, 1 with an error: drop)". */
static void
text_feeds_summary(const struct gw_status *st, struct strbuf *b)
{
	json_t *arr = json_object_get(st->feeds, "objects"), *o;
	size_t i, bad = 0;

	if (json_array_size(arr) == 0)
		return;
	json_array_foreach(arr, i, o)
		bad += strcmp(json_string_value(json_object_get(o, "result")) ?
		    json_string_value(json_object_get(o, "result")) : "", "ok") !=
		    0;
	strbuf_printf(b, "\nFeed objects: %zu (%zu ok", json_array_size(arr),
	    json_array_size(arr) - bad);
	if (bad > 0) {
		bool first = true;

		strbuf_printf(b, ", %zu not:", bad);
		json_array_foreach(arr, i, o)
			if (strcmp(json_string_value(json_object_get(o,
			    "result")) ? json_string_value(json_object_get(o,
			    "result")) : "", "ok") != 0) {
				strbuf_printf(b, "%s %s", first ? "" : ",",
				    json_string_value(json_object_get(o,
				    "name")));
				first = false;
			}
	}
	strbuf_puts(b, "); moat objects says more\n");
}

/* "Gateways:", a line each: state, loss and latency against the limits,
 * since when; then each group's active members and the default. */
static void
text_gateways(const struct gw_status *st, struct strbuf *b)
{
	json_t *arr = json_object_get(st->gateways, "gateways"), *o, *m;
	size_t i, k;

	strbuf_puts(b, "\nGateways:\n");
	json_array_foreach(arr, i, o) {
		const json_t *loss = json_object_get(o, "loss");
		const json_t *lat = json_object_get(o, "latency_ms");
		const json_t *since = json_object_get(o, "since");
		const char *name = json_string_value(json_object_get(o,
		    "name"));
		const char *state = json_string_value(json_object_get(o,
		    "state"));

		strbuf_printf(b, "  %-12s %-7s via %s on %s", name ? name : "?",
		    state ? state : "?", json_string_value(json_object_get(o,
		    "via")) ? json_string_value(json_object_get(o, "via")) :
		    "?", json_string_value(json_object_get(o, "interface")) ?
		    json_string_value(json_object_get(o, "interface")) : "?");
		if (json_is_number(loss))
			strbuf_printf(b, ", loss %.0f%%", json_number_value(
			    loss));
		if (json_is_number(lat))
			strbuf_printf(b, ", latency %.1f ms",
			    json_number_value(lat));
		strbuf_printf(b, " (limits %lld%%, %lld ms)",
		    (long long)json_integer_value(json_object_get(o,
		    "loss_limit")), (long long)json_integer_value(
		    json_object_get(o, "latency_limit_ms")));
		if (json_is_integer(since)) {
			char when[32];

			when_text((time_t)json_integer_value(since),
			    "%Y-%m-%d %H:%M:%S", when, sizeof(when));
			strbuf_printf(b, ", since %s", when);
		}
		strbuf_putc(b, '\n');
	}
	arr = json_object_get(st->gateways, "groups");
	json_array_foreach(arr, i, o) {
		strbuf_printf(b, "  group %s: traffic through",
		    json_string_value(json_object_get(o, "name")) ?
		    json_string_value(json_object_get(o, "name")) : "?");
		if (json_array_size(json_object_get(o, "active")) == 0)
			strbuf_puts(b, " none");
		json_array_foreach(json_object_get(o, "active"), k, m)
			strbuf_printf(b, "%s %s", k ? "," : "",
			    json_string_value(m) ? json_string_value(m) : "?");
		strbuf_putc(b, '\n');
	}
	for (k = 0; k < 2; k++) {
		const char *d = json_string_value(json_object_get(st->gateways,
		    k == 0 ? "default_v4" : "default_v6"));

		if (d != NULL)
			strbuf_printf(b, "  default route (%s): %s\n",
			    k == 0 ? "IPv4" : "IPv6", d);
	}
}

int
status_feeds_text(const struct gw_status *st, const char *name,
    struct strbuf *b)
{
	json_t *arr = json_object_get(st->feeds, "objects"), *o;
	size_t i, n = 0;

	json_array_foreach(arr, i, o) {
		const char *nm = json_string_value(json_object_get(o, "name"));
		const char *err = json_string_value(json_object_get(o,
		    "error"));

		if (nm == NULL || (name != NULL && strcmp(nm, name) != 0))
			continue;
		n++;
		strbuf_printf(b, "%s%s (%s %s)\n", n > 1 ? "\n" : "", nm,
		    json_string_value(json_object_get(o, "kind")),
		    json_string_value(json_object_get(o, "source")));
		strbuf_printf(b, "  entries:      %lld IPv4, %lld IPv6 set "
		    "elements (%lld read)\n",
		    (long long)json_integer_value(json_object_get(o, "v4")),
		    (long long)json_integer_value(json_object_get(o, "v6")),
		    (long long)json_integer_value(json_object_get(o,
		    "entries")));
		strbuf_puts(b, "  last refresh: ");
		put_time(b, json_object_get(o, "last_refresh"));
		strbuf_printf(b, " (%s)\n", json_string_value(json_object_get(o,
		    "result")));
		strbuf_puts(b, "  next refresh: ");
		put_time(b, json_object_get(o, "next_refresh"));
		strbuf_putc(b, '\n');
		if (err != NULL) {
			strbuf_puts(b, "  last error:   ");
			put_time(b, json_object_get(o, "error_time"));
			strbuf_printf(b, ": %s\n", err);
		}
	}
	if (n == 0 && name != NULL)
		return -1;
	if (n == 0)
		strbuf_puts(b, "no fqdn, url or country objects are followed "
		    "(moatd runs none)\n");
	return 0;
}

void
status_text(const struct gw_status *st, struct strbuf *b)
{
	text_applied(st, b);
	/* Nothing in force and nothing counted: no empty table. */
	if (st->have_ctr && (st->nctr > 0 || st->p != NULL) &&
	    st->drift != DRIFT_NO_TABLE)
		text_counters(st, b);
	if ((st->have_foreign && st->nforeign + st->nforeign_more > 0) ||
	    st->foreign_err[0] != '\0')
		text_foreign(st, b);
	if (st->have_fw)
		text_fwlog(st, b);
	if (st->have_mail)
		text_antivirus(st, b);
	if (st->ha != NULL)
		text_ha(st, b);
	if (st->feeds != NULL)
		text_feeds_summary(st, b);
	if (st->gateways != NULL)
		text_gateways(st, b);
}

/* ---- JSON ---------------------------------------------------------- */

static json_t *
json_applied(const struct gw_status *st)
{
	json_t *e = json_object();
	char hash[17];

	snprintf(hash, sizeof(hash), "%016llx",
	    (unsigned long long)st->entry.hash);
	json_object_set_new(e, "entry", json_integer(st->entry.seq));
	json_object_set_new(e, "what", json_string(st->entry.what));
	json_object_set_new(e, "hash", json_string(hash));
	json_object_set_new(e, "time", json_integer(st->entry.when));
	json_object_set_new(e, "drift", json_string(st->drift ==
	    DRIFT_CHANGED ? "changed" : st->drift == DRIFT_NO_TABLE ?
	    "no_table" : "none"));
	return e;
}

/* The figures of struct mail_tls, grouped: the API's "tls". */
static json_t *
json_tls_period(const struct mail_tls *t)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I},"
	    "s:{s:I,s:I,s:I,s:I}}",
	    "both", (json_int_t)t->both, "client", (json_int_t)t->client,
	    "server", (json_int_t)t->server, "none", (json_int_t)t->none,
	    "passthrough_sessions", (json_int_t)t->passthrough,
	    "passthrough_bytes", (json_int_t)t->passthrough_bytes,
	    "verified", "dane", (json_int_t)t->verified_dane, "mta_sts",
	    (json_int_t)t->verified_mta_sts, "ca", (json_int_t)t->verified_ca,
	    "deferred", "total", (json_int_t)t->deferred, "dane",
	    (json_int_t)t->deferred_dane, "mta_sts",
	    (json_int_t)t->deferred_mta_sts, "verify",
	    (json_int_t)t->deferred_verify);
}

static json_t *
json_tls(const struct mailstats *m)
{
	json_t *o = json_tls_period(&m->tls_total);

	json_object_set_new(o, "since_start",
	    json_tls_period(&m->tls_since_start));
	return o;
}

static json_t *
json_mail(const struct mailstats *m)
{
	json_t *ml = json_object();

	json_object_set_new(ml, "engine", json_string(m->engine));
	json_object_set_new(ml, "signatures", json_integer(m->signatures));
	json_object_set_new(ml, "sessions", json_integer(m->sessions));
	json_object_set_new(ml, "messages",
	    json_integer((json_int_t)m->total.messages));
	json_object_set_new(ml, "clean",
	    json_integer((json_int_t)m->total.clean));
	json_object_set_new(ml, "virus",
	    json_integer((json_int_t)m->total.virus));
	json_object_set_new(ml, "last_virus", json_string(m->last_virus_sig));
	json_object_set_new(ml, "engine_error", json_string(m->engine_error));
	json_object_set_new(ml, "engine_memory",
	    json_integer((json_int_t)m->engine_memory));
	json_object_set_new(ml, "load_seconds",
	    json_real(m->load_ms / 1000.0));
	json_object_set_new(ml, "reload", json_string(m->reload));
	if (m->nparts > 0)
		json_object_set_new(ml, "instances", mailstats_parts_json(m));
	json_object_set_new(ml, "tls", json_tls(m));
	return ml;
}

/* The key of the number of the entry a counter counts for, in its JSON
 * object ("rule", "forward", …; its id's key is KEY_id), or NULL. */
static const char *
entry_key(enum nftc_counted what)
{
	switch (what) {
	case NFTC_COUNTS_RULE:
		return "rule";
	case NFTC_COUNTS_FORWARD:
	case NFTC_COUNTS_FORWARD_ACCEPT:
		return "forward";
	case NFTC_COUNTS_NAT_SOURCE:
		return "nat_source";
	case NFTC_COUNTS_ONE_TO_ONE:
		return "one_to_one";
	default:
		return NULL;
	}
}

/* The other tables' base chains: family, table, chain, type, hook,
 * priority, policy (null: none said), device (netdev), rules, effect. */
static json_t *
json_foreign(const struct gw_status *st)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < st->nforeign; i++) {
		const struct foreign_chain *c = &st->foreign[i];
		json_t *k = json_object();
		char fam[16];

		json_object_set_new(k, "family", json_string(foreign_family(
		    c->family, fam, sizeof(fam))));
		json_object_set_new(k, "table", json_string(c->table));
		json_object_set_new(k, "chain", json_string(c->chain));
		json_object_set_new(k, "type", json_string(c->type));
		json_object_set_new(k, "hook", json_string(foreign_hook(c)));
		json_object_set_new(k, "priority", json_integer(c->priority));
		json_object_set_new(k, "policy", foreign_policy(c) != NULL ?
		    json_string(foreign_policy(c)) : json_null());
		if (c->device[0] != '\0')
			json_object_set_new(k, "device",
			    json_string(c->device));
		json_object_set_new(k, "rules",
		    json_integer((json_int_t)c->nrules));
		json_object_set_new(k, "effect",
		    json_string(foreign_effect(c)));
		json_array_append_new(a, k);
	}
	return a;
}

json_t *
status_json(const struct gw_status *st)
{
	json_t *o = json_object(), *c = json_array();
	const char *kind;
	size_t i;

	json_object_set_new(o, "applied", st->have_entry &&
	    strcmp(st->entry.file, "-") != 0 ? json_applied(st) :
	    json_null());
	if (st->pending) {
		json_t *pe = json_object();

		json_object_set_new(pe, "entry", json_integer(st->pending_seq));
		json_object_set_new(pe, "deadline", json_integer(st->deadline));
		json_object_set_new(pe, "seconds_left", json_integer(
		    st->deadline > st->now ? st->deadline - st->now : 0));
		json_object_set_new(o, "pending", pe);
	} else
		json_object_set_new(o, "pending", json_null());
	json_object_set_new(o, "ha", st->ha != NULL ? json_deep_copy(st->ha) :
	    json_null());
	json_object_set_new(o, "feeds", st->feeds != NULL ?
	    json_deep_copy(json_object_get(st->feeds, "objects")) :
	    json_array());
	json_object_set_new(o, "gateways", st->gateways != NULL ?
	    json_deep_copy(st->gateways) : json_null());
	if (st->unapplied != -1)
		json_object_set_new(o, "unapplied_changes",
		    json_boolean(st->unapplied));
	for (i = 0; i < st->nctr; i++) {
		json_t *k = json_object();

		json_object_set_new(k, "name", json_string(st->ctr[i].name));
		if ((kind = entry_key(st->ctr[i].what)) != NULL) {
			char id[NFTC_ID_LEN + 1], key[32];

			snprintf(id, sizeof(id), NFTC_ID,
			    (unsigned long long)st->ctr[i].id);
			json_object_set_new(k, kind, st->ctr[i].number > 0 ?
			    json_integer(st->ctr[i].number) : json_null());
			snprintf(key, sizeof(key), "%s_id", kind);
			json_object_set_new(k, key, st->ctr[i].id != 0 ?
			    json_string(id) : json_null());
		}
		json_object_set_new(k, "packets",
		    json_integer((json_int_t)st->ctr[i].packets));
		json_object_set_new(k, "bytes",
		    json_integer((json_int_t)st->ctr[i].bytes));
		json_array_append_new(c, k);
	}
	json_object_set_new(o, "counters", c);
	json_object_set_new(o, "counters_total", st->have_ctr ?
	    json_integer((json_int_t)st->nctr_all) : json_null());
	if (st->have_mail)
		json_object_set_new(o, "mail", json_mail(&st->mail));
	if (st->have_fw) {
		json_t *fl = json_object();

		json_object_set_new(fl, "written",
		    json_integer((json_int_t)st->fw.written));
		json_object_set_new(fl, "lost", json_integer((json_int_t)
		    (st->fw.lost_kernel + st->fw.lost_disk)));
		json_object_set_new(fl, "error", json_string(st->fw.error));
		json_object_set_new(o, "firewall_log", fl);
	}
	if (st->have_foreign) {
		json_object_set_new(o, "other_tables", json_foreign(st));
		json_object_set_new(o, "other_tables_more",
		    json_integer((json_int_t)st->nforeign_more));
	} else if (st->foreign_err[0] != '\0')
		json_object_set_new(o, "other_tables_error",
		    json_string(st->foreign_err));
	return o;
}

json_t *
history_json(const char *state, struct strbuf *err)
{
	struct history_entry *v;
	char hash[17];
	json_t *a;
	size_t n, i;

	if (apply_history(state, &v, &n, err) == -1)
		return NULL;
	a = json_array();
	for (i = 0; i < n; i++) {
		json_t *e = json_object();

		snprintf(hash, sizeof(hash), "%016llx",
		    (unsigned long long)v[i].hash);
		json_object_set_new(e, "entry", json_integer(v[i].seq));
		json_object_set_new(e, "time", json_integer(v[i].when));
		json_object_set_new(e, "what", json_string(v[i].what));
		json_object_set_new(e, "hash", json_string(hash));
		json_object_set_new(e, "file", json_string(v[i].file));
		json_array_append_new(a, e);
	}
	free(v);
	return a;
}

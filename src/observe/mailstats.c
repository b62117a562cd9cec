/* mailstats.c: see mailstats.h. */
#include "observe/mailstats.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"

static const char *const count_names[] = {
	"messages", "scanned", "clean", "virus", "scan_failures",
	"size_rejects", "tempfail", "bytes",
};
#define NCOUNTS	(sizeof(count_names) / sizeof(count_names[0]))

/* struct mail_tls's members in order, by their names in MAILSTATS_FILE
 * (a file from before them has none: zeros). */
static const char *const tls_names[] = {
	"both", "client", "server", "none", "passthrough",
	"passthrough_bytes", "verified_dane", "verified_mta_sts",
	"verified_ca", "deferred", "deferred_dane", "deferred_mta_sts",
	"deferred_verify",
};
#define NTLS	(sizeof(tls_names) / sizeof(tls_names[0]))
_Static_assert(sizeof(struct mail_tls) == NTLS * sizeof(uint64_t),
    "tls_names names every member of struct mail_tls");
_Static_assert(sizeof(struct mail_counts) == NCOUNTS * sizeof(uint64_t),
    "count_names names every member of struct mail_counts");

const double mailstats_bounds[MAILSTATS_BUCKETS - 1] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
};

static uint64_t *
count_at(struct mail_counts *c, size_t i)
{
	return &((uint64_t *)c)[i];
}

void
mailstats_keys(long long t, char *hour, char *day)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(hour, 16, "%Y-%m-%dT%H", &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
}

/* n counters by their names from o (a missing or odd one: 0). */
static void
named_from(json_t *o, const char *const *names, size_t n, uint64_t *v)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *e = json_object_get(o, names[i]);

		v[i] = json_is_integer(e) && json_integer_value(e) >= 0 ?
		    (uint64_t)json_integer_value(e) : 0;
	}
}

static json_t *
named_json(const char *const *names, size_t n, const uint64_t *v)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, names[i], json_integer((json_int_t)
		    v[i]));
	return o;
}

static void
counts_from(json_t *o, struct mail_counts *c)
{
	named_from(o, count_names, NCOUNTS, count_at(c, 0));
}

static json_t *
counts_json(const struct mail_counts *c)
{
	return named_json(count_names, NCOUNTS, count_at((struct mail_counts *)
	    c, 0));
}

static void
tls_from(json_t *o, struct mail_tls *t)
{
	named_from(o, tls_names, NTLS, (uint64_t *)t);
}

static json_t *
tls_json(const struct mail_tls *t)
{
	return named_json(tls_names, NTLS, (const uint64_t *)t);
}

static void
get_str(json_t *o, const char *k, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	snprintf(out, len, "%s", s != NULL ? s : "");
}

static void
periods_from(json_t *a, struct mail_period *v, size_t max, size_t *n)
{
	size_t i;
	json_t *e;

	*n = 0;
	json_array_foreach(a, i, e) {
		if (*n == max)
			break;
		get_str(e, "key", v[*n].key, sizeof(v[*n].key));
		counts_from(e, &v[*n].c);
		(*n)++;
	}
}

static json_t *
periods_json(const struct mail_period *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *o = counts_json(&v[i].c);

		json_object_set_new(o, "key", json_string(v[i].key));
		json_array_append_new(a, o);
	}
	return a;
}

static void
path_of(char *buf, size_t len, const char *state)
{
	snprintf(buf, len, "%s/" MAILSTATS_FILE, state);
}

static void
parts_from(json_t *a, struct mailstats *m)
{
	json_t *e;
	size_t i;

	m->nparts = 0;
	json_array_foreach(a, i, e) {
		struct engine_part *p;

		if (m->nparts == MAILSTATS_PARTS || !json_is_object(e))
			break;
		p = &m->parts[m->nparts++];
		get_str(e, "address", p->address, sizeof(p->address));
		p->up = json_is_true(json_object_get(e, "up"));
		p->since = json_integer_value(json_object_get(e, "since"));
		p->scans = (uint64_t)json_integer_value(json_object_get(e,
		    "scans"));
		p->failures = (uint64_t)json_integer_value(json_object_get(e,
		    "failures"));
		get_str(e, "error", p->error, sizeof(p->error));
	}
}

/* What the proxy says of its engine beyond its name: the farm, the
 * memory and time its load took, how it was reloaded. */
static void
engine_from(json_t *o, struct mailstats *m)
{
	parts_from(json_object_get(o, "instances"), m);
	m->engine_memory = (uint64_t)json_integer_value(json_object_get(o,
	    "memory"));
	m->load_ms = (unsigned)json_integer_value(json_object_get(o,
	    "load_ms"));
	get_str(o, "reload", m->reload, sizeof(m->reload));
}

json_t *
mailstats_parts_json(const struct mailstats *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < m->nparts; i++) {
		const struct engine_part *p = &m->parts[i];
		json_t *e = json_object();

		json_object_set_new(e, "address", json_string(p->address));
		json_object_set_new(e, "up", json_boolean(p->up));
		json_object_set_new(e, "since", json_integer(p->since));
		json_object_set_new(e, "scans", json_integer((json_int_t)
		    p->scans));
		json_object_set_new(e, "failures", json_integer((json_int_t)
		    p->failures));
		json_object_set_new(e, "error", json_string(p->error));
		json_array_append_new(a, e);
	}
	return a;
}

int
mailstats_load(const char *state, struct mailstats *m)
{
	char path[4200];
	json_error_t e;
	json_t *o, *lv;

	memset(m, 0, sizeof(*m));
	path_of(path, sizeof(path), state);
	if (access(path, F_OK) == -1)
		return 0;
	if ((o = json_load_file(path, 0, &e)) == NULL)
		return -1;
	counts_from(json_object_get(o, "total"), &m->total);
	counts_from(json_object_get(o, "since_start"), &m->since_start);
	tls_from(json_object_get(o, "tls"), &m->tls_total);
	tls_from(json_object_get(o, "tls_since_start"), &m->tls_since_start);
	m->started = json_integer_value(json_object_get(o, "started"));
	periods_from(json_object_get(o, "hours"), m->hours, MAILSTATS_HOURS,
	    &m->nhours);
	periods_from(json_object_get(o, "days"), m->days, MAILSTATS_DAYS,
	    &m->ndays);
	lv = json_object_get(o, "last_virus");
	get_str(lv, "time", m->last_virus_time, sizeof(m->last_virus_time));
	get_str(lv, "signature", m->last_virus_sig, sizeof(m->last_virus_sig));
	get_str(lv, "client", m->last_virus_client,
	    sizeof(m->last_virus_client));
	get_str(o, "engine", m->engine, sizeof(m->engine));
	get_str(o, "engine_error", m->engine_error, sizeof(m->engine_error));
	m->signatures = (unsigned)json_integer_value(json_object_get(o,
	    "signatures"));
	m->db_version = (unsigned)json_integer_value(json_object_get(o,
	    "db_version"));
	m->db_time = json_integer_value(json_object_get(o, "db_time"));
	engine_from(o, m);
	m->sessions = (unsigned)json_integer_value(json_object_get(o,
	    "sessions"));
	m->updated = json_integer_value(json_object_get(o, "updated"));
	{
		json_t *a = json_object_get(o, "scan_buckets"), *e;
		size_t i;

		json_array_foreach(a, i, e)
			if (i < MAILSTATS_BUCKETS && json_is_integer(e))
				m->scan_buckets[i] = (uint64_t)
				    json_integer_value(e);
		m->scan_seconds = json_number_value(json_object_get(o,
		    "scan_seconds"));
	}
	json_decref(o);
	return 0;
}

int
mailstats_save(const char *state, const struct mailstats *m)
{
	char path[4200], *text;
	json_t *o = json_object(), *lv = json_object();
	int rc;

	json_object_set_new(o, "total", counts_json(&m->total));
	json_object_set_new(o, "since_start", counts_json(&m->since_start));
	json_object_set_new(o, "tls", tls_json(&m->tls_total));
	json_object_set_new(o, "tls_since_start", tls_json(&m->tls_since_start));
	json_object_set_new(o, "started", json_integer(m->started));
	json_object_set_new(o, "hours", periods_json(m->hours, m->nhours));
	json_object_set_new(o, "days", periods_json(m->days, m->ndays));
	json_object_set_new(lv, "time", json_string(m->last_virus_time));
	json_object_set_new(lv, "signature", json_string(m->last_virus_sig));
	json_object_set_new(lv, "client", json_string(m->last_virus_client));
	json_object_set_new(o, "last_virus", lv);
	json_object_set_new(o, "engine", json_string(m->engine));
	json_object_set_new(o, "engine_error", json_string(m->engine_error));
	json_object_set_new(o, "signatures", json_integer(m->signatures));
	json_object_set_new(o, "db_version", json_integer(m->db_version));
	json_object_set_new(o, "db_time", json_integer(m->db_time));
	json_object_set_new(o, "instances", mailstats_parts_json(m));
	json_object_set_new(o, "memory", json_integer((json_int_t)
	    m->engine_memory));
	json_object_set_new(o, "load_ms", json_integer(m->load_ms));
	json_object_set_new(o, "reload", json_string(m->reload));
	json_object_set_new(o, "sessions", json_integer(m->sessions));
	json_object_set_new(o, "updated", json_integer(m->updated));
	{
		json_t *a = json_array();
		size_t i;

		for (i = 0; i < MAILSTATS_BUCKETS; i++)
			json_array_append_new(a, json_integer(
			    (json_int_t)m->scan_buckets[i]));
		json_object_set_new(o, "scan_buckets", a);
		json_object_set_new(o, "scan_seconds",
		    json_real(m->scan_seconds));
	}
	path_of(path, sizeof(path), state);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rc = text != NULL ? file_replace(path, text, strlen(text), 0644,
	    FILE_NOSYNC) : -1;
	free(text);
	return rc;
}

/* The period with key, made (the oldest dropped) when it is new. */
static struct mail_counts *
period(struct mail_period *v, size_t max, size_t *n, const char *key)
{
	if (*n > 0 && strcmp(v[*n - 1].key, key) == 0)
		return &v[*n - 1].c;
	if (*n == max) {
		memmove(v, v + 1, (max - 1) * sizeof(*v));
		(*n)--;
	}
	memset(&v[*n], 0, sizeof(v[*n]));
	snprintf(v[*n].key, sizeof(v[*n].key), "%s", key);
	return &v[(*n)++].c;
}

const struct mail_counts *
mailstats_period(const struct mailstats *m, bool day, const char *key)
{
	const struct mail_period *v = day ? m->days : m->hours;
	size_t i, n = day ? m->ndays : m->nhours;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			return &v[i].c;
	return NULL;
}

static void
count(struct mail_counts *c, const char *verdict, uint64_t size)
{
	c->messages++;
	c->bytes += size;
	if (strcmp(verdict, "clean") == 0) {
		c->scanned++;
		c->clean++;
	} else if (strcmp(verdict, "virus") == 0) {
		c->scanned++;
		c->virus++;
	} else if (strcmp(verdict, "scan-failed") == 0 ||
	    strcmp(verdict, "unscanned-failure") == 0) {
		c->scan_failures++;
	} else if (strcmp(verdict, "too-big") == 0)
		c->size_rejects++;
	if (strcmp(verdict, "scan-failed") == 0 ||
	    strcmp(verdict, "failed") == 0 ||
	    strcmp(verdict, "timeout") == 0 ||
	    strcmp(verdict, "not-delivered") == 0)
		c->tempfail++;
}

/* A leg in a record ("TLS1.3 AES-256-GCM", "none", "passthrough"; no
 * key at all from a proxy before TLS): did it have TLS moat could see? */
static bool
leg_tls(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && s[0] != '\0' && strcmp(s, "none") != 0 &&
	    strcmp(s, "passthrough") != 0;
}

/* A message's legs and its next hop's verification. */
static void
count_tls(struct mail_tls *t, json_t *o)
{
	bool in = leg_tls(o, "tls_in"), out = leg_tls(o, "tls_out");
	const char *v = json_string_value(json_object_get(o, "tls_verify"));

	if (in && out)
		t->both++;
	else if (in)
		t->client++;
	else if (out)
		t->server++;
	else
		t->none++;
	if (v == NULL)
		return;
	if (strcmp(v, "dane") == 0)
		t->verified_dane++;
	else if (strcmp(v, "mta-sts") == 0)
		t->verified_mta_sts++;
	else if (strcmp(v, "ca") == 0)
		t->verified_ca++;
}

/* A recipient deferred: its domain's TLS policy was not met. */
static void
count_deferred(struct mail_tls *t, json_t *o)
{
	const char *p = json_string_value(json_object_get(o, "policy"));

	t->deferred++;
	if (p == NULL)
		return;
	if (strcmp(p, "dane") == 0)
		t->deferred_dane++;
	else if (strcmp(p, "mta-sts") == 0)
		t->deferred_mta_sts++;
	else if (strcmp(p, "verify") == 0)
		t->deferred_verify++;
}

static void
count_passthrough(struct mail_tls *t, json_t *o)
{
	t->passthrough++;
	t->passthrough_bytes += (uint64_t)json_integer_value(
	    json_object_get(o, "bytes_in")) + (uint64_t)json_integer_value(
	    json_object_get(o, "bytes_out"));
}

void
mailstats_restart(struct mailstats *m, long long now)
{
	memset(&m->since_start, 0, sizeof(m->since_start));
	memset(&m->tls_since_start, 0, sizeof(m->tls_since_start));
	m->started = now;
	m->sessions = 0;
}

int
mailstats_add_json(struct mailstats *m, json_t *o)
{
	const char *verdict;
	char hour[16], day[16];
	uint64_t size;

	if (o == NULL || (verdict = json_string_value(json_object_get(o,
	    "verdict"))) == NULL)
		return -1;
	/*
	 * Neither is a message: count() would take any other verdict for
	 * one (messages, bytes, the hour's and the day's).  A passthrough
	 * session may have carried any number of messages, none of them
	 * seen, so it is counted as a session of its own; a deferral is
	 * one recipient refused with 451, its message counted (if it goes
	 * on to DATA for the others) by the message's own record.
	 */
	if (strcmp(verdict, "passthrough") == 0) {
		count_passthrough(&m->tls_total, o);
		count_passthrough(&m->tls_since_start, o);
		return 0;
	}
	if (strcmp(verdict, "tls-deferred") == 0) {
		count_deferred(&m->tls_total, o);
		count_deferred(&m->tls_since_start, o);
		return 0;
	}
	count_tls(&m->tls_total, o);
	count_tls(&m->tls_since_start, o);
	size = (uint64_t)json_integer_value(json_object_get(o, "size"));
	mailstats_keys((long long)time(NULL), hour, day);
	count(&m->total, verdict, size);
	count(&m->since_start, verdict, size);
	count(period(m->hours, MAILSTATS_HOURS, &m->nhours, hour), verdict,
	    size);
	count(period(m->days, MAILSTATS_DAYS, &m->ndays, day), verdict, size);
	if (strcmp(verdict, "clean") == 0 || strcmp(verdict, "virus") == 0) {
		double t = json_number_value(json_object_get(o,
		    "scan_seconds"));
		size_t i;

		for (i = 0; i < MAILSTATS_BUCKETS - 1 &&
		    t > mailstats_bounds[i]; i++)
			;
		m->scan_buckets[i]++;
		m->scan_seconds += t;
	}
	if (strcmp(verdict, "virus") == 0) {
		get_str(o, "time", m->last_virus_time,
		    sizeof(m->last_virus_time));
		get_str(o, "signature", m->last_virus_sig,
		    sizeof(m->last_virus_sig));
		get_str(o, "client", m->last_virus_client,
		    sizeof(m->last_virus_client));
	}
	return 0;
}

int
mailstats_add(struct mailstats *m, const char *json)
{
	json_t *o = json_loads(json, 0, NULL);
	int rc = mailstats_add_json(m, o);

	json_decref(o);
	return rc;
}

void
mailstats_engine(struct mailstats *m, const char *json)
{
	json_t *o = json_loads(json, 0, NULL);

	if (o == NULL)
		return;
	get_str(o, "engine", m->engine, sizeof(m->engine));
	get_str(o, "error", m->engine_error, sizeof(m->engine_error));
	m->signatures = (unsigned)json_integer_value(json_object_get(o,
	    "signatures"));
	m->db_version = (unsigned)json_integer_value(json_object_get(o,
	    "db_version"));
	m->db_time = json_integer_value(json_object_get(o, "db_time"));
	engine_from(o, m);
	json_decref(o);
}

/* A record's string, or "?" (never NULL). */
static const char *
rstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "?";
}

/* The legs in a word: "both", "in" (the client's only), "out" (the next
 * hop's only), "none", "passthrough"; "" for a record from before TLS. */
static const char *
legs_word(json_t *o)
{
	const char *in = json_string_value(json_object_get(o, "tls_in"));

	if (in == NULL)
		return "";
	if (strcmp(in, "passthrough") == 0)
		return "passthrough";
	return leg_tls(o, "tls_in") ? (leg_tls(o, "tls_out") ? "both" :
	    "in") : leg_tls(o, "tls_out") ? "out" : "none";
}

/* " tls=WORD verified=HOW" (the latter when the next hop's certificate
 * was verified). */
static void
tls_text(json_t *o, struct strbuf *b)
{
	const char *w = legs_word(o), *v = json_string_value(json_object_get(o,
	    "tls_verify"));

	if (*w != '\0')
		strbuf_printf(b, " tls=%s", w);
	if (v != NULL && *v != '\0' && strcmp(v, "none") != 0)
		strbuf_printf(b, " verified=%s", v);
}

int
mailstats_text(const char *json, struct strbuf *b)
{
	json_t *o = json_loads(json, 0, NULL);
	char when[40];
	const char *t, *sig, *mid, *verdict;
	struct tm tm;
	time_t tt;

	if (o == NULL || (verdict = json_string_value(json_object_get(o,
	    "verdict"))) == NULL) {
		json_decref(o);
		return -1;
	}
	t = json_string_value(json_object_get(o, "time"));
	memset(&tm, 0, sizeof(tm));
	if (t != NULL && strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) != NULL) {
		tt = timegm(&tm);
		localtime_r(&tt, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	} else
		snprintf(when, sizeof(when), "?");
	sig = json_string_value(json_object_get(o, "signature"));
	mid = json_string_value(json_object_get(o, "message_id"));
	strbuf_printf(b, "%s %s%s%s %s", when, verdict,
	    sig != NULL && sig[0] ? " " : "", sig != NULL ? sig : "",
	    rstr(o, "mode"));
	if (strcmp(verdict, "passthrough") == 0) {
		/* A session copied unread: no sender, no size, the bytes. */
		strbuf_printf(b, " client=%s server=%s bytes_in=%lld "
		    "bytes_out=%lld", rstr(o, "client"), rstr(o, "server"),
		    (long long)json_integer_value(json_object_get(o,
		    "bytes_in")), (long long)json_integer_value(
		    json_object_get(o, "bytes_out")));
	} else if (strcmp(verdict, "tls-deferred") == 0) {
		/* One recipient's domain, not a message. */
		if (json_is_string(json_object_get(o, "from")))
			strbuf_printf(b, " from=%s", rstr(o, "from"));
		strbuf_printf(b, " client=%s rcpt_domain=%s policy=%s",
		    rstr(o, "client"), rstr(o, "rcpt_domain"),
		    rstr(o, "policy"));
	} else
		strbuf_printf(b, " from=%s client=%s rcpts=%lld size=%lld",
		    rstr(o, "from"), rstr(o, "client"),
		    (long long)json_integer_value(json_object_get(o, "rcpts")),
		    (long long)json_integer_value(json_object_get(o, "size")));
	tls_text(o, b);
	strbuf_printf(b, " reply=\"%s\"%s%s", json_string_value(
	    json_object_get(o, "reply")) ? rstr(o, "reply") : "",
	    mid != NULL && mid[0] ? " message-id=" : "", mid != NULL ? mid :
	    "");
	json_decref(o);
	return 0;
}

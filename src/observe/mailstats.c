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

static void
counts_from(json_t *o, struct mail_counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NCOUNTS; i++) {
		json_t *v = json_object_get(o, count_names[i]);

		if (json_is_integer(v) && json_integer_value(v) >= 0)
			*count_at(c, i) = (uint64_t)json_integer_value(v);
	}
}

static json_t *
counts_json(const struct mail_counts *c)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < NCOUNTS; i++)
		json_object_set_new(o, count_names[i], json_integer(
		    (json_int_t)*count_at((struct mail_counts *)c, i)));
	return o;
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

int
mailstats_add(struct mailstats *m, const char *json)
{
	json_t *o = json_loads(json, 0, NULL);
	const char *verdict;
	char hour[16], day[16];
	uint64_t size;

	if (o == NULL || (verdict = json_string_value(json_object_get(o,
	    "verdict"))) == NULL) {
		json_decref(o);
		return -1;
	}
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
	json_decref(o);
	return 0;
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

int
mailstats_text(const char *json, struct strbuf *b)
{
	json_t *o = json_loads(json, 0, NULL);
	char when[40], buf[32];
	const char *t, *sig, *mid;
	struct tm tm;
	time_t tt;

	if (o == NULL || json_string_value(json_object_get(o, "verdict")) ==
	    NULL) {
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
	snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(
	    json_object_get(o, "size")));
	strbuf_printf(b, "%s %s%s%s %s from=%s client=%s rcpts=%lld size=%s "
	    "reply=\"%s\"%s%s", when,
	    json_string_value(json_object_get(o, "verdict")),
	    sig != NULL && sig[0] ? " " : "", sig != NULL ? sig : "",
	    json_string_value(json_object_get(o, "mode")) ?
	    json_string_value(json_object_get(o, "mode")) : "?",
	    json_string_value(json_object_get(o, "from")) ?
	    json_string_value(json_object_get(o, "from")) : "?",
	    json_string_value(json_object_get(o, "client")) ?
	    json_string_value(json_object_get(o, "client")) : "?",
	    (long long)json_integer_value(json_object_get(o, "rcpts")), buf,
	    json_string_value(json_object_get(o, "reply")) ?
	    json_string_value(json_object_get(o, "reply")) : "",
	    mid != NULL && mid[0] ? " message-id=" : "",
	    mid != NULL ? mid : "");
	json_decref(o);
	return 0;
}

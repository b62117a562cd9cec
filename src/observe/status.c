/*
 * status.c: what the gateway is doing, collected once for every front end
 * that shows it (the console's dashboard, GET /api/v1/status): the entry
 * applied and whether the kernel drifted from it, a confirm that waits,
 * the HA pair as moatd last saw it, whether the config file has changes
 * not applied, the rules' counters, the mail figures and the firewall
 * log's.
 */
#include "observe/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/file.h"
#include "base/hash.h"
#include "enforce/apply.h"
#include "enforce/counters.h"
#include "observe/fwlog.h"
#include "observe/mailstats.h"

#define CONF_MAX_TEXT	(4u * 1024 * 1024)


json_t *
status_json(const char *state, const char *run, const char *conf,
    const char *ha_file)
{
	struct history_entry *v = NULL;
	struct counter *ctr = NULL;
	struct mailstats m;
	struct fwlog_stats fw;
	struct strbuf err;
	size_t n = 0, nctr = 0, i, len;
	char hash[17], *text;
	json_t *o = json_object(), *c;

	strbuf_init(&err, 0);
	if (apply_history(state, &v, &n, &err) == 0 && n > 0) {
		json_t *e = json_object();

		snprintf(hash, sizeof(hash), "%016llx",
		    (unsigned long long)v[n - 1].hash);
		json_object_set_new(e, "entry", json_integer(v[n - 1].seq));
		json_object_set_new(e, "what", json_string(v[n - 1].what));
		json_object_set_new(e, "hash", json_string(hash));
		json_object_set_new(e, "time", json_integer(v[n - 1].when));
		json_object_set_new(e, "drift", json_string(
		    apply_drift(state, v[n - 1].seq) == DRIFT_CHANGED ?
		    "changed" : "none"));
		json_object_set_new(o, "applied", e);
	} else
		json_object_set_new(o, "applied", json_null());
	{
		unsigned pseq;
		time_t deadline;

		if (apply_pending(state, &pseq, &deadline)) {
			json_t *pe = json_object();

			json_object_set_new(pe, "entry", json_integer(pseq));
			json_object_set_new(pe, "deadline",
			    json_integer(deadline));
			json_object_set_new(pe, "seconds_left", json_integer(
			    deadline > time(NULL) ? deadline - time(NULL) : 0));
			json_object_set_new(o, "pending", pe);
		} else
			json_object_set_new(o, "pending", json_null());
	}
	/* An HA pair: what moatd knows of it (daemon/hanode.c). */
	{
		char hp[4096];
		json_t *h;

		snprintf(hp, sizeof(hp), "%s/%s", run, ha_file);
		h = json_load_file(hp, 0, NULL);
		json_object_set_new(o, "ha", h != NULL ? h : json_null());
	}
	/* Saved but not applied: the file is not what the kernel has. */
	if ((text = file_read(conf, CONF_MAX_TEXT, &len)) != NULL) {
		json_object_set_new(o, "unapplied_changes", json_boolean(n == 0 ||
		    fnv1a(text, len) != v[n - 1].hash));
		free(text);
	}
	free(v);
	c = json_array();
	if (counters_read(&ctr, &nctr, &err) == 0)
		for (i = 0; i < nctr; i++) {
			json_t *k = json_object();

			json_object_set_new(k, "name", json_string(ctr[i].name));
			json_object_set_new(k, "packets",
			    json_integer((json_int_t)ctr[i].packets));
			json_object_set_new(k, "bytes",
			    json_integer((json_int_t)ctr[i].bytes));
			json_array_append_new(c, k);
		}
	free(ctr);
	json_object_set_new(o, "counters", c);
	if (mailstats_load(state, &m) == 0 && m.updated != 0) {
		json_t *ml = json_object();

		json_object_set_new(ml, "engine", json_string(m.engine));
		json_object_set_new(ml, "signatures", json_integer(m.signatures));
		json_object_set_new(ml, "sessions", json_integer(m.sessions));
		json_object_set_new(ml, "messages",
		    json_integer((json_int_t)m.total.messages));
		json_object_set_new(ml, "clean",
		    json_integer((json_int_t)m.total.clean));
		json_object_set_new(ml, "virus",
		    json_integer((json_int_t)m.total.virus));
		json_object_set_new(ml, "last_virus",
		    json_string(m.last_virus_sig));
		json_object_set_new(o, "mail", ml);
	}
	if (fwlog_stats_read(run, &fw) == 0) {
		json_t *fl = json_object();

		json_object_set_new(fl, "written",
		    json_integer((json_int_t)fw.written));
		json_object_set_new(fl, "lost",
		    json_integer((json_int_t)(fw.lost_kernel + fw.lost_disk)));
		json_object_set_new(fl, "error", json_string(fw.error));
		json_object_set_new(o, "firewall_log", fl);
	}
	strbuf_free(&err);
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

/* feeds.c: the feed objects, from the root parent's side; see feeds.h. */
#include "daemon/feeds.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/addr.h"
#include "base/arena.h"
#include "base/fds.h"
#include "base/file.h"
#include "base/frame.h"
#include "base/log.h"
#include "daemon/child.h"
#include "daemon/feedd.h"
#include "enforce/apply.h"
#include "enforce/feedstore.h"
#include "feeds/feedmsg.h"
#include "feeds/fqdn.h"
#include "policy/lexer.h"

/* What the parent knows of one feed object of the config in force. */
struct fstate {
	char		 name[FEEDMSG_NAME];
	enum object_kind kind;
	uint64_t	 key;
	uint64_t	 max;		/* intervals a report may carry */
	char		 source[FEED_URL_MAX + 1];
	/* the last good contents, and the last report */
	time_t		 fetched;	/* 0: never */
	uint64_t	 entries;
	size_t		 n4, n6;	/* elements per family */
	time_t		 reported;	/* 0: none yet */
	long long	 acted;		/* ms (child_now): the last contents
					   acted on */
	unsigned	 dropped;	/* reports too soon, since */
	bool		 ok;		/* the last report was good */
	time_t		 next;
	unsigned	 failing;
	char		 error[FEEDMSG_ERROR];
	time_t		 error_at;
};

#define CONF_SEND_MS	5000	/* the config's send to the process, whole */
#define FEED_REPORT_MS	900	/* one object's contents, at most so often */

static struct child feedd = CHILD_INIT("feeds", "moatd-feeds");
static const char *state_dir, *run_dir;
static struct fstate *fs;
static struct feed_expect *expect;	/* fs's, for feedmsg_check */
static size_t nfs, frame_max;
static char *conf_text;		/* the config the process gets */
static size_t conf_len;
static uint32_t gen;
static int sock = -1;
static struct frame_in in;

void
feeds_init(const char *state, const char *run)
{
	state_dir = state;
	run_dir = run;
}

int
feeds_fd(void)
{
	return sock;
}

static void
close_sock(void)
{
	if (sock != -1)
		close(sock);
	sock = -1;
	frame_in_reset(&in);
}

/* RUN/feeds.json: every object's state, for the readers of status. */
static void
write_status(void)
{
	json_t *root = json_object(), *arr = json_array();
	char file[4200], *text;
	size_t i;

	for (i = 0; i < nfs; i++) {
		const struct fstate *f = &fs[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, "
		    "s:I}", "name", f->name, "kind",
		    policy_feed_kind_name(f->kind), "source", f->source, "v4",
		    (json_int_t)f->n4, "v6", (json_int_t)f->n6, "entries",
		    (json_int_t)f->entries, "result", f->reported == 0 ?
		    "pending" : f->ok && f->failing == 0 ? "ok" : f->ok ?
		    "partial" : "error", "failing", (json_int_t)f->failing);

		json_object_set_new(o, "last_refresh", f->fetched != 0 ?
		    json_integer(f->fetched) : json_null());
		json_object_set_new(o, "next_refresh", f->next != 0 ?
		    json_integer(f->next) : json_null());
		json_object_set_new(o, "error", f->error[0] != '\0' ?
		    json_string(f->error) : json_null());
		json_object_set_new(o, "error_time", f->error_at != 0 ?
		    json_integer(f->error_at) : json_null());
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "objects", arr);
	json_object_set_new(root, "written", json_integer(time(NULL)));
	snprintf(file, sizeof(file), "%s/%s", run_dir, FEEDS_STATUS);
	if ((text = json_dumps(root, JSON_COMPACT)) != NULL &&
	    file_replace(file, text, strlen(text), 0644, FILE_NOSYNC) == -1)
		log_warn("feeds: %s: %s", file, strerror(errno));
	free(text);
	json_decref(root);
}

/* The process for the config in force: moatd executed afresh as
 * FEEDD_ARG says (nothing of the parent's memory: not the console's
 * sessions, not the users file, not the HA secret's other copies), its
 * end of the pair on 3, which it reads as FEEDS_USER with nothing. */
static void
start(void)
{
	char *const argv[] = { "moatd-feeds", FEEDD_ARG, NULL };
	struct strbuf msg;
	size_t i;
	int sp[2];

	close_sock();
	if (getuid() == 0 && getpwnam(FEEDS_USER) == NULL) {
		log_error("feeds: no user '%s' to run as: create it (the "
		    "package does: adduser --system %s); fqdn, url and "
		    "country objects keep what they hold", FEEDS_USER,
		    FEEDS_USER);
		feedd.next = child_now() + 60000;
		return;
	}
	if (child_exe() == -1) {
		log_error("feeds: /proc/self/exe could not be opened at the "
		    "start: no feed process; fqdn, url and country objects "
		    "keep what they hold");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_error("feeds: socketpair: %s", strerror(errno));
		return;
	}
	switch (child_fork(&feedd, (const int[]){ sp[1], child_exe() }, 2)) {
	case -1:
		close(sp[0]);
		close(sp[1]);
		return;
	case 0:
		_exit(child_exec("feeds", &sp[1], 1, argv));
	}
	close(sp[1]);
	sock = sp[0];
	/* The config, then when each list was fetched; a process that
	 * has not read it all within CONF_SEND_MS (however little it
	 * takes at a time) is started again later. */
	strbuf_init(&msg, conf_len + 256);
	strbuf_add(&msg, conf_text, conf_len);
	strbuf_putc(&msg, '\0');
	for (i = 0; i < nfs; i++)
		if (fs[i].fetched != 0)
			strbuf_printf(&msg, "%s %lld\n", fs[i].name,
			    (long long)fs[i].fetched);
	if (strbuf_failed(&msg) || frame_send_id_by(sock, ++gen,
	    strbuf_str(&msg), msg.len, child_now() + CONF_SEND_MS) == -1) {
		log_error("feeds: the config could not be sent: %s",
		    strerror(errno));
		close_sock();
		child_stop(&feedd);
		feedd.next = child_now() + 5000;
	}
	strbuf_free(&msg);
	/* Its reports are read as they come, never waited for. */
	if (sock != -1)
		fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
}

void
feeds_configure(const struct policy *p)
{
	size_t i, n = 0;

	child_stop(&feedd);
	close_sock();
	free(fs);
	fs = NULL;
	free(expect);
	expect = NULL;
	nfs = 0;
	free(conf_text);
	conf_text = NULL;
	if (policy_nfeeds(p) == 0) {
		write_status();
		return;
	}
	if ((fs = calloc(policy_nfeeds(p), sizeof(*fs))) == NULL ||
	    (expect = calloc(policy_nfeeds(p), sizeof(*expect))) == NULL ||
	    (conf_text = malloc(p->len + 1)) == NULL) {
		log_error("feeds: out of memory; not followed");
		free(fs);
		fs = NULL;
		free(expect);
		expect = NULL;
		return;
	}
	memcpy(conf_text, p->text, p->len);
	conf_len = p->len;
	/* It parses what the network sent: it gets no secret it does not
	 * need (the HA pair's). */
	lexer_blank_secrets(conf_text, conf_len);
	for (i = 0; i < p->nobject; i++) {
		const struct object *o = p->objects[i];
		struct fstate *f;
		struct feedstore_info info;
		size_t k, len = 0;

		if (!policy_object_feed(o))
			continue;
		f = &fs[n++];
		snprintf(f->name, sizeof(f->name), "%s", o->name);
		f->kind = o->kind;
		f->key = feedstore_key(o);
		/* url: its max entries, and the pieces of the intervals cut
		 * at the IPv4 block's two edges; fqdn: its names' addresses,
		 * grace ones too; country: the report's own limit. */
		f->max = o->kind == OBJ_URL ? o->feed.max + 2 : o->kind ==
		    OBJ_FQDN ? (uint64_t)o->feed.n * FQDN_ADDR_MAX :
		    FEEDMSG_INTERVALS_MAX;
		expect[n - 1] = (struct feed_expect){ f->name, f->key, f->max,
		    (uint32_t)o->feed.n, o->kind == OBJ_FQDN ? f->max : 0 };
		for (k = 0; k < o->feed.n && len + 2 < sizeof(f->source); k++)
			len += (size_t)snprintf(f->source + len,
			    sizeof(f->source) - len, "%s%s", k ? " " : "",
			    o->feed.names[k]);
		if (feedstore_info(state_dir, o->name, &info) == 0 &&
		    info.key == f->key) {
			f->fetched = info.fetched;
			f->entries = info.entries;
			f->n4 = info.n4;
			f->n6 = info.n6;
		}
	}
	nfs = n;
	frame_max = feedmsg_frame_max(expect, nfs);
	write_status();
	start();
}

/* A report's contents to the kernel's sets and the state directory. */
static void
contents(struct fstate *f, const struct feedmsg *m)
{
	struct strbuf msg, err;
	size_t changed;
	int rc;

	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	rc = apply_feed(state_dir, f->name, f->key, m->s, time(NULL),
	    m->entries, &changed, &msg, &err);
	if (rc == -1) {
		log_error("feeds: %s: %s; the set stays as it was", f->name,
		    strbuf_str(&err));
		snprintf(f->error, sizeof(f->error), "%s", strbuf_str(&err));
		f->error_at = time(NULL);
		f->ok = false;
	} else {
		if (rc == 1)
			log_info("%.*s", (int)(msg.len > 0 ? msg.len - 1 : 0),
			    strbuf_str(&msg));
		f->fetched = time(NULL);
		f->entries = m->entries;
		f->n4 = m->n4;
		f->n6 = m->n6;
	}
	strbuf_free(&msg);
	strbuf_free(&err);
}

/* One whole report: checked field by field (feedmsg_check), then acted
 * on. */
static void
handle(const char *buf, size_t len)
{
	struct feedmsg m;
	struct fstate *f;
	struct arena a;
	char name[FEEDMSG_NAME], why[128];
	int rc;

	arena_init(&a);
	rc = feedmsg_check(buf, len, gen, expect, nfs, &a, &m, name, why,
	    sizeof(why));
	if (rc == -1)
		log_error("feeds: a report for '%s' dropped: %s", name, why);
	if (rc != 1) {
		arena_free(&a);
		return;
	}
	f = &fs[m.obj];
	/* A process that sends one object's contents without end would
	 * have the parent change the kernel without end: no object is
	 * refreshed more often than every second (dns-min-ttl's least),
	 * so sooner ones are dropped, and counted. */
	if (m.ok && f->acted != 0 && child_now() - f->acted < FEED_REPORT_MS) {
		if (f->dropped++ == 0)
			log_warn("feeds: %s: reports come faster than one a "
			    "second; those are dropped", f->name);
		arena_free(&a);
		return;
	}
	if (m.ok) {
		f->acted = child_now();
		f->dropped = 0;
	}
	f->reported = time(NULL);
	f->next = (time_t)m.next;
	f->failing = m.failing;
	f->ok = m.ok;
	if (m.error[0] != '\0') {
		snprintf(f->error, sizeof(f->error), "%s", m.error);
		f->error_at = time(NULL);
	} else if (m.ok)
		f->error[0] = '\0';
	if (m.ok)
		contents(f, &m);
	arena_free(&a);
	write_status();
}

/* At most one report a call: a process that sends without end has the
 * parent's loop go round (signals, the console, the other children)
 * between its reports, never holds it. */
void
feeds_events(void)
{
	int r;

	if (sock != -1 && (r = frame_in_read(sock, &in, frame_max)) != 0) {
		if (r == -1) {
			if (errno != 0)
				log_error("feeds: %s: the process is started "
				    "again", strerror(errno));
			close_sock();
			child_stop(&feedd);
			feedd.next = child_now() + 5000;
			return;
		}
		handle(in.buf, in.len);
		frame_in_reset(&in);
	}
}

void
feeds_tick(void)
{
	int status;

	if (child_reap(&feedd, &status))
		close_sock();
	if (nfs > 0 && child_due(&feedd))
		start();
}

void
feeds_stop(void)
{
	child_stop(&feedd);
	close_sock();
}

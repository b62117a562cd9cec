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
#include "base/file.h"
#include "base/frame.h"
#include "base/log.h"
#include "daemon/child.h"
#include "daemon/feedd.h"
#include "daemon/feedmsg.h"
#include "enforce/apply.h"
#include "enforce/feedstore.h"

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
	bool		 ok;		/* the last report was good */
	time_t		 next;
	unsigned	 failing;
	char		 error[FEEDMSG_ERROR];
	time_t		 error_at;
};

static struct child feedd = CHILD_INIT("feeds", "moatd-feeds");
static const char *state_dir, *run_dir;
static struct fstate *fs;
static size_t nfs;
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

/* The process for the config in force, as FEEDS_USER with nothing. */
static void
start(void)
{
	struct passwd *pw = NULL;
	struct timeval tv = { .tv_sec = 5 };
	struct strbuf msg;
	char err[512];
	size_t i;
	int sp[2];

	close_sock();
	if (getuid() == 0 && (pw = getpwnam(FEEDS_USER)) == NULL) {
		log_error("feeds: no user '%s' to run as: create it (the "
		    "package does: adduser --system %s); fqdn, url and "
		    "country objects keep what they hold", FEEDS_USER,
		    FEEDS_USER);
		feedd.next = child_now() + 60000;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_error("feeds: socketpair: %s", strerror(errno));
		return;
	}
	switch (child_fork(&feedd, &sp[1], 1)) {
	case -1:
		close(sp[0]);
		close(sp[1]);
		return;
	case 0:
		if (pw != NULL && child_drop(pw, -1, err, sizeof(err)) == -1) {
			log_error("feeds: %s", err);
			_exit(1);
		}
		_exit(feedd_run(sp[1]));
	}
	close(sp[1]);
	sock = sp[0];
	/* The config, then when each list was fetched; a process that
	 * does not read it within the timeout is started again later. */
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	strbuf_init(&msg, conf_len + 256);
	strbuf_add(&msg, conf_text, conf_len);
	strbuf_putc(&msg, '\0');
	for (i = 0; i < nfs; i++)
		if (fs[i].fetched != 0)
			strbuf_printf(&msg, "%s %lld\n", fs[i].name,
			    (long long)fs[i].fetched);
	if (strbuf_failed(&msg) || frame_send_id(sock, ++gen,
	    strbuf_str(&msg), msg.len) == -1) {
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
	nfs = 0;
	free(conf_text);
	conf_text = NULL;
	if (policy_nfeeds(p) == 0) {
		write_status();
		return;
	}
	if ((fs = calloc(policy_nfeeds(p), sizeof(*fs))) == NULL ||
	    (conf_text = malloc(p->len + 1)) == NULL) {
		log_error("feeds: out of memory; not followed");
		free(fs);
		fs = NULL;
		return;
	}
	memcpy(conf_text, p->text, p->len);
	conf_len = p->len;
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
		/* fqdn: 64 names with at most 32 addresses each; country:
		 * the report's own limit; url: its max entries. */
		f->max = o->kind == OBJ_URL ? o->feed.max : o->kind ==
		    OBJ_FQDN ? FEED_NAMES_MAX * 64 : FEEDMSG_INTERVALS_MAX;
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
	write_status();
	start();
}

static struct fstate *
find(const char *name)
{
	size_t i;

	for (i = 0; i < nfs; i++)
		if (strcmp(fs[i].name, name) == 0)
			return &fs[i];
	return NULL;
}

/* A report's intervals, checked: each in its family and not backwards.
 * 0, or -1 with why. */
static int
take_intervals(const struct feed_report *r, const unsigned char *body,
    struct ival *v, const char **why)
{
	size_t i;

	for (i = 0; i < r->n4; i++) {
		uint32_t w[2];

		memcpy(w, body + i * 8, 8);
		if (w[0] > w[1]) {
			*why = "an IPv4 interval backwards";
			return -1;
		}
		v[i].lo = V4_BASE | w[0];
		v[i].hi = V4_BASE | w[1];
	}
	body += r->n4 * 8;
	for (i = 0; i < r->n6; i++) {
		struct ival *x = &v[r->n4 + i];

		memcpy(&x->lo, body + i * 32, 16);
		memcpy(&x->hi, body + i * 32 + 16, 16);
		if (x->lo > x->hi) {
			*why = "an IPv6 interval backwards";
			return -1;
		}
	}
	return 0;
}

/* Printable text of at most n bytes from the less privileged side. */
static void
clean(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static int
handle_contents(void *arg)
{
	void **a = arg;
	const struct feed_report *r = a[0];
	const unsigned char *body = a[1];
	struct arena *ar = a[2];
	struct fstate *f = a[3];
	const char **why = a[4];
	struct ival *v = arena_array(ar, r->n4 + r->n6 + 1, sizeof(*v));
	struct iset s;
	struct strbuf msg, err;
	size_t changed;
	int rc;

	if (take_intervals(r, body, v, why) == -1)
		return -1;
	s = iset_adopt(v, r->n4 + r->n6);
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	rc = apply_feed(state_dir, f->name, f->key, s, time(NULL),
	    r->entries, &changed, &msg, &err);
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
		f->entries = r->entries;
		f->n4 = f->n6 = 0;
		for (changed = 0; changed < s.n; changed++)
			if (addr_family_of(s.v[changed].lo) == FAM_V4 &&
			    addr_family_of(s.v[changed].hi) == FAM_V4)
				f->n4++;
			else
				f->n6++;
	}
	strbuf_free(&msg);
	strbuf_free(&err);
	return 0;
}

/* One whole report: checked field by field, then acted on. */
static void
handle(const char *buf, size_t len)
{
	struct feed_report r;
	struct fstate *f;
	const char *why = NULL;
	char name[FEEDMSG_NAME];

	if (len < sizeof(r)) {
		log_error("feeds: a report of %zu bytes: dropped", len);
		return;
	}
	memcpy(&r, buf, sizeof(r));
	if (r.gen != gen)
		return;		/* for a config no longer in force */
	clean(name, r.name, sizeof(name));
	r.error[sizeof(r.error) - 1] = '\0';
	if ((f = find(name)) == NULL || r.key != f->key)
		why = "an object of no config in force";
	else if (r.ok > 1 || (!r.ok && (r.n4 | r.n6) != 0))
		why = "a malformed report";
	else if (r.n4 > f->max || r.n6 > f->max || r.n4 + r.n6 > f->max)
		why = "more networks than the object's max";
	else if (len != sizeof(r) + r.n4 * 8 + r.n6 * 32)
		why = "a length that is not its contents'";
	if (why != NULL) {
		log_error("feeds: a report for '%s' dropped: %s", name, why);
		return;
	}
	f->reported = time(NULL);
	f->next = (time_t)r.next;
	f->failing = r.failing;
	f->ok = r.ok;
	if (r.error[0] != '\0') {
		clean(f->error, r.error, sizeof(f->error));
		f->error_at = time(NULL);
	} else if (r.ok)
		f->error[0] = '\0';
	if (r.ok) {
		struct arena a;
		void *args[5] = { &r, (void *)(buf + sizeof(r)), &a, f, &why };

		arena_init(&a);
		if (arena_catch(&a, handle_contents, args) == -1)
			log_error("feeds: %s: out of memory", f->name);
		else if (why != NULL)
			log_error("feeds: a report for '%s' dropped: %s",
			    f->name, why);
		arena_free(&a);
	}
	write_status();
}

void
feeds_events(void)
{
	int r;

	while (sock != -1 && (r = frame_in_read(sock, &in,
	    FEEDMSG_FRAME_MAX)) != 0) {
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

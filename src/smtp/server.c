/* server.c: the proxy process; see server.h. */
#include "smtp/server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/log.h"
#include "policy/load.h"
#include "smtp/anvil.h"
#include "smtp/memory.h"
#include "smtp/smtpio.h"

/*
 * The configuration new sessions get.  A new one is built on a thread of
 * its own (the loader): loading a real signature database takes seconds
 * and hundreds of MB, and meanwhile the proxy goes on accepting, and
 * scanning with the engine it has, so that a reload never refuses or
 * tempfails mail.  Only the finished configuration replaces the old one,
 * under conf_lock; sessions hold theirs to their end.
 */
static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conf_cond = PTHREAD_COND_INITIALIZER;
static struct proxy_conf *current;	/* under conf_lock */
static char *waiting;			/* the newest text not yet loaded */
static size_t waiting_len;
static const char *load_path, *load_scratch;
static char *latest;			/* the newest text from moatd */
static size_t latest_len;
static unsigned check_every;		/* s between looks at the signatures
					   (0: never); atomic */
static unsigned next_id = 1;
/* The libclamav engine's last load: what it took (the loader's alone). */
static unsigned long long last_engine_bytes;
static unsigned last_load_ms;		/* atomic */
static const char *last_reload = "";	/* "concurrent", "blocking" */
static struct anvil *anvil;	/* who may open a session now */

int
server_listen(struct server_listener *l, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* An HA pair's VIP: bound before this node holds it. */
	if (l->mode == PROXY_RELAY)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (l->mode == PROXY_TRANSPARENT && setsockopt(fd, SOL_IP,
	    IP_TRANSPARENT, &one, sizeof(one)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&l->addr, l->len) == -1 ||
	    listen(fd, 1024) == -1)
		goto fail;
	l->fd = fd;
	return 0;
fail:
	{
		char where[INET6_ADDRSTRLEN + 8];
		int saved = errno;

		addr_sockaddr_format(&l->addr, where, sizeof(where));
		snprintf(err, errlen, "listening on %s: %s", where,
		    strerror(saved));
	}
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * Sessions run on threads kept for reuse: a thread that finishes a session
 * waits for the next one, up to IDLE_MAX idle threads, so a busy proxy
 * does not create and destroy a thread per connection.
 */
#define IDLE_MAX	64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct proxy_session *queue_head, *queue_tail;
static int idle, queued;

static void *
session_thread(void *arg)
{
	struct proxy_session *s = arg;

	for (;;) {
		proxy_run(s);
		anvil_release(anvil, &s->client);
		free(s);
		/* The last session out gives the memory that scanning large
		 * messages left in malloc's arenas back. */
		if (anvil_sessions(anvil) == 0)
			malloc_trim(0);
		pthread_mutex_lock(&pool_lock);
		if (idle >= IDLE_MAX) {
			pthread_mutex_unlock(&pool_lock);
			return NULL;
		}
		idle++;
		while (queue_head == NULL)
			pthread_cond_wait(&pool_cond, &pool_lock);
		s = queue_head;
		if ((queue_head = s->next) == NULL)
			queue_tail = NULL;
		queued--;
		idle--;
		pthread_mutex_unlock(&pool_lock);
	}
}

/* Hand a session to an idle thread, or start one. */
static int
dispatch(struct proxy_session *s)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_mutex_lock(&pool_lock);
	if (idle > queued) {
		s->next = NULL;
		if (queue_tail != NULL)
			queue_tail->next = s;
		else
			queue_head = s;
		queue_tail = s;
		queued++;
		pthread_cond_signal(&pool_cond);
		pthread_mutex_unlock(&pool_lock);
		return 0;
	}
	pthread_mutex_unlock(&pool_lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	rc = pthread_create(&t, &attr, session_thread, s);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

static void
accept_one(const struct server_listener *l)
{
	struct proxy_session *s = calloc(1, sizeof(*s));
	socklen_t len = sizeof(s->client);
	const char *why;
	int fd;

	if (s == NULL)
		return;
	fd = accept4(l->fd, (struct sockaddr *)&s->client, &len,
	    SOCK_CLOEXEC);
	if (fd == -1) {
		free(s);
		return;
	}
	len = sizeof(s->local);		/* the original destination */
	if (l->mode == PROXY_TRANSPARENT)
		getsockname(fd, (struct sockaddr *)&s->local, &len);
	if (anvil_admit(anvil, &s->client, smtpio_now() / 1000, &why) == -1) {
		char msg[160], who[80];
		int n = snprintf(msg, sizeof(msg), "421 4.7.0 %s; try again "
		    "later\r\n", why);

		/* At once, without a thread: the client retries later. */
		if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* it retries either way */
		}
		addr_sockaddr_format(&s->client, who, sizeof(who));
		log_info("client=%s refused: %s", who, why);
		close(fd);
		free(s);
		return;
	}
	s->id = next_id++;
	s->fd = fd;
	s->mode = l->mode;
	pthread_mutex_lock(&conf_lock);
	s->conf = current;
	proxy_conf_hold(current);
	pthread_mutex_unlock(&conf_lock);
	/* Mail the gateway relays for the LAN is outgoing mail. */
	s->scan = l->mode == PROXY_TRANSPARENT ||
	    s->conf->av.outgoing_scanning;
	s->noscan_why = "smtp-outgoing-scanning off";
	s->spoof = l->spoof && s->conf->av.keep_client_address;
	if (dispatch(s) == -1) {
		close(fd);
		proxy_conf_put(s->conf);
		anvil_release(anvil, &s->client);
		free(s);
	}
}

char *
server_config_frame(const char *text, size_t len, size_t *flen)
{
	char head[32], *f;
	int n = snprintf(head, sizeof(head), "%zu\n", len);

	if ((f = malloc((size_t)n + len)) == NULL)
		return NULL;
	memcpy(f, head, (size_t)n);
	memcpy(f + n, text, len);
	*flen = (size_t)n + len;
	return f;
}

/* Free a configuration text, zeroed first: after the config it holds
 * moat's TLS key (daemon/proxy.c's proxy_message). */
static void
forget(char *text, size_t len)
{
	if (text != NULL)
		explicit_bzero(text, len);
	free(text);
}

/* Read a config handed over by the parent: a length line, then text. */
static char *
read_config(int fd, size_t *len)
{
	char head[32], *text;
	size_t n = 0, got = 0;

	while (n < sizeof(head) - 1) {
		ssize_t r = read(fd, head + n, 1);

		if (r <= 0)
			return NULL;
		if (head[n] == '\n')
			break;
		n++;
	}
	head[n] = '\0';
	*len = strtoul(head, NULL, 10);
	if ((text = malloc(*len + 1)) == NULL)
		return NULL;
	while (got < *len) {
		ssize_t r = read(fd, text + got, *len - got);

		if (r <= 0) {
			free(text);
			return NULL;
		}
		got += (size_t)r;
	}
	text[*len] = '\0';
	return text;
}

/* A configuration (text) made ready: parsed again here (moatd checked
 * it), its engine loaded, then made what new sessions get.  0, or -1
 * (logged) when it cannot be taken and the old one stays. */
/* ---- what the proxy tells moatd: one line an event ------------------- */

static int events_fd = -1;

/* "KIND JSON\n" to the parent, whole or not at all (under PIPE_BUF, the
 * pipe takes it whole; a full pipe loses it rather than stall a session). */
static void
send_event(const char *kind, const char *json, size_t len)
{
	char line[4096];
	int n;

	if (events_fd == -1)
		return;
	n = snprintf(line, sizeof(line), "%s %.*s\n", kind, (int)len, json);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(events_fd, line, (size_t)n);
	else
		log_warn("proxy: a %s record of %zu bytes, over what moatd "
		    "takes in one write: not recorded", kind, len);
}

static void
report_mail(const char *json, size_t len)
{
	send_event("mail", json, len);
}

static void
report_engine(const struct proxy_conf *c)
{
	char json[3584], parts[3000];
	int n;

	if (c->scanner == NULL)
		n = snprintf(json, sizeof(json), "{\"engine\":null,\"error\":"
		    "\"%.200s\"}", c->scanner_err);
	else {
		scanner_state(c->scanner, parts, sizeof(parts));
		n = snprintf(json, sizeof(json), "{\"engine\":\"%s\","
		    "\"signatures\":%u,\"db_version\":%u,\"db_time\":%lld,"
		    "\"memory\":%llu,\"load_ms\":%u,\"reload\":\"%s\","
		    "\"instances\":%s}", scanner_name(c->scanner),
		    c->scanner->signatures, c->scanner->db_version,
		    c->scanner->db_time, c->engine_bytes, c->load_ms,
		    last_reload, parts);
	}
	if (n > 0 && (size_t)n < sizeof(json) && strchr(json, '\\') == NULL)
		send_event("engine", json, (size_t)n);
}

/* The engine's thread says a part of it came or went (a clamd of the
 * farm): moatd hears it while that engine is the one in use.  Under
 * conf_lock, c cannot stop being current, nor be freed, meanwhile. */
static void
engine_changed(void *arg)
{
	pthread_mutex_lock(&conf_lock);
	if (arg == current)
		report_engine(current);
	pthread_mutex_unlock(&conf_lock);
}

/*
 * Whether the engine in use must go before the new one loads: blocking
 * when the config says so; auto when what memory is available would not
 * hold a second engine of the size the last load took (with a fifth to
 * spare).  Blocking closes the engine in use now, after the scans in
 * progress: until the new one is in, messages get 451.  Only libclamav
 * engines count: a clamd's signatures are clamd's.
 */
static bool
reload_blocking(const struct antivirus *av)
{
	struct proxy_conf *c = current;	/* only the loader replaces it */
	unsigned long long avail, need = last_engine_bytes +
	    last_engine_bytes / 5;
	bool block;

	if (c == NULL || c->scanner == NULL || c->av.engine != AV_CLAMAV ||
	    av->engine != AV_CLAMAV)
		return false;
	avail = mem_available();
	block = av->reload == AV_RELOAD_BLOCKING || (av->reload ==
	    AV_RELOAD_AUTO && avail != 0 && last_engine_bytes > 0 &&
	    avail < need);
	log_info("signature reload: %s (signature-reload %s; %llu MB "
	    "available, the engine in use took %llu MB)", block ? "blocking, "
	    "mail gets 451 until the new engine is in" : "concurrent, mail "
	    "is scanned by the old engine meanwhile",
	    policy_av_reload_name(av->reload), avail >> 20,
	    last_engine_bytes >> 20);
	if (block) {
		proxy_conf_drop_engine(c, "the signatures are being reloaded "
		    "(blocking reload): try again in a moment");
		report_engine(c);
	}
	return block;
}

/* The sections after the config text: "name\0contents\0" each
 * (daemon/proxy.c's proxy_message). */
static void
tls_sections(const char *text, size_t len, struct proxy_tls_files *f)
{
	size_t off = strnlen(text, len) + 1;

	memset(f, 0, sizeof(*f));
	while (off < len) {
		const char *name = text + off, *data;
		size_t n = strnlen(name, len - off);

		if (off + n + 1 >= len)
			break;
		data = name + n + 1;
		off += n + 1 + strnlen(data, len - off - n - 1) + 1;
		if (strcmp(name, "cert") == 0)
			f->cert = data;
		else if (strcmp(name, "key") == 0)
			f->key = data;
		else if (strcmp(name, "ca") == 0)
			f->ca = data;
		else if (strcmp(name, "trust-anchor") == 0)
			f->trust_anchor = data;
	}
}

static int
install(const char *text, size_t len)
{
	struct proxy_tls_files files;
	struct policy *p;
	struct proxy_conf *c, *old;
	double t0 = (double)smtpio_now();
	bool blocking;

	tls_sections(text, len, &files);
	p = policy_parse(load_path, text, strnlen(text, len));
	if (p == NULL || !policy_valid(p) || !p->av.present) {
		log_info("reload: config not taken");
		policy_free(p);
		return -1;
	}
	blocking = reload_blocking(&p->av);
	c = proxy_conf_new(&p->av, getenv("TMPDIR"), load_scratch, &files);
	policy_free(p);
	if (c == NULL)
		return -1;
	if (c->scanner != NULL && c->av.engine == AV_CLAMAV) {
		last_engine_bytes = c->engine_bytes;
		__atomic_store_n(&last_load_ms, c->load_ms, __ATOMIC_RELAXED);
		/* The first load is no reload. */
		last_reload = blocking ? "blocking" : current != NULL ?
		    "concurrent" : "";
	}
	if (c->scanner == NULL)
		log_info("scanner: %s (mail will get 451 until it works)",
		    c->scanner_err);
	else
		log_info("scanner: %s, loaded in %.2f s",
		    scanner_name(c->scanner),
		    ((double)smtpio_now() - t0) / 1000);
	if (c->scanner != NULL && c->av.nignore_sigs > 0)
		log_info("ignore-signature: %u name%s, %u signature%s of the "
		    "database left out%s", c->av.nignore_sigs,
		    c->av.nignore_sigs == 1 ? "" : "s", c->scanner->ignored,
		    c->scanner->ignored == 1 ? "" : "s", c->scanner->ignored ==
		    0 ? " (no such name in the database: check the spelling)" :
		    "");
	anvil_set_limits(anvil, &(struct anvil_limits){
	    .sessions = c->av.max_sessions,
	    .client_sessions = c->av.max_client_sessions,
	    .client_rate = c->av.max_client_rate });
	scanner_set_notify(c->scanner, engine_changed, c);
	pthread_mutex_lock(&conf_lock);
	old = current;
	current = c;
	pthread_mutex_unlock(&conf_lock);
	__atomic_store_n(&check_every, c->av.engine == AV_CLAMAV ?
	    c->av.signature_check : 0, __ATOMIC_RELAXED);
	if (old != NULL)
		proxy_conf_put(old);
	report_engine(c);
	log_info("proxy configuration loaded");
	return 0;
}

/* The loader: loads the newest configuration handed over, one at a time
 * (texts that came while one was loading are skipped for the newest). */
static void *
loader(void *arg)
{
	(void)arg;
	for (;;) {
		char *text;
		size_t len;

		pthread_mutex_lock(&conf_lock);
		while (waiting == NULL)
			pthread_cond_wait(&conf_cond, &conf_lock);
		text = waiting;
		len = waiting_len;
		waiting = NULL;
		pthread_mutex_unlock(&conf_lock);
		install(text, len);
		forget(text, len);
	}
	return NULL;
}

/* A configuration text to the loader (which frees it). */
static void
to_loader(char *text, size_t len)
{
	pthread_mutex_lock(&conf_lock);
	forget(waiting, waiting_len);
	waiting = text;
	waiting_len = len;
	pthread_cond_signal(&conf_cond);
	pthread_mutex_unlock(&conf_lock);
}

static char *
copy_text(const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy != NULL) {
		memcpy(copy, text, len);
		copy[len] = '\0';
	}
	return copy;
}

/* Keep a copy of the newest text, for loading it again. */
static void
remember(const char *text, size_t len)
{
	char *copy = copy_text(text, len);

	if (copy == NULL)
		return;
	forget(latest, latest_len);
	latest = copy;
	latest_len = len;
}

/* A configuration from moatd: to the loader. */
static void
take_config(int ctl)
{
	size_t len;
	char *text = read_config(ctl, &len);

	if (text == NULL)
		return;
	remember(text, len);
	to_loader(text, len);
}

/* Every signature-check-interval: when the engine's database changed on
 * disk (freshclam updated it), the configuration is loaded again, on the
 * loader, while mail goes on being scanned with the old signatures.
 * Returns how long until the next look, in ms (-1: never). */
static int
check_signatures(long long *next)
{
	unsigned every = __atomic_load_n(&check_every, __ATOMIC_RELAXED);
	long long now = smtpio_now();
	struct proxy_conf *c;
	bool changed;

	/* On the accept loop: only a clock read until a look is due. */
	if (every == 0)
		return -1;
	if (*next == 0)
		*next = now + (long long)every * 1000;
	if (now < *next)
		return (int)(*next - now);
	*next = now + (long long)every * 1000;
	pthread_mutex_lock(&conf_lock);
	c = current;
	proxy_conf_hold(c);
	pthread_mutex_unlock(&conf_lock);
	/* Under the scan lock: a blocking reload may close the engine. */
	pthread_rwlock_rdlock(&c->scan_lock);
	changed = scanner_changed(c->scanner);
	pthread_rwlock_unlock(&c->scan_lock);
	if (changed && latest != NULL) {
		char *copy = copy_text(latest, latest_len);

		log_info("signatures in %s changed: loading them",
		    c->av.engine_path);
		if (copy != NULL)
			to_loader(copy, latest_len);
	}
	proxy_conf_put(c);
	return (int)(*next - now);
}

int
server_run(const struct server_listener *l, int n, int ctl, int events,
    const char *conf_path, const char *scratch)
{
	struct pollfd pfd[SERVER_LISTEN_MAX + 1];
	long long next_check = 0, next_count = 0;
	unsigned last_count = ~0u;
	bool stall = false;
	int i;

	events_fd = events;
	if (events_fd != -1) {
		fcntl(events_fd, F_SETFL, fcntl(events_fd, F_GETFL) |
		    O_NONBLOCK);
		proxy_set_reporter(report_mail);
	}

	/* Few arenas keep 100 threads from holding 100 heaps; what scanning
	 * leaves in them goes back when the proxy is idle (malloc_trim in
	 * session_thread). */
	mallopt(M_ARENA_MAX, 4);
	if (n > SERVER_LISTEN_MAX || (anvil = anvil_new()) == NULL) {
		log_info("proxy: out of memory");
		return 1;
	}
	load_path = conf_path;
	load_scratch = scratch;
	/* The first configuration before anything is accepted; later ones
	 * on the loader, while the proxy serves. */
	{
		size_t len;
		char *text = read_config(ctl, &len);
		pthread_t t;

		if (text == NULL || install(text, len) == -1) {
			forget(text, len);
			log_info("proxy: no configuration");
			return 1;
		}
		remember(text, len);
		forget(text, len);
		if (pthread_create(&t, NULL, loader, NULL) != 0) {
			log_info("proxy: cannot start the loader");
			return 1;
		}
		pthread_detach(t);
	}
#ifdef MOAT_TEST_SEAMS
	/* Test builds: a proxy taken over that shrinks its config pipe and
	 * reads it no more (test_proxy.py: root's loop must not wait) */
	if (getenv("MOAT_PROXY_STALL") != NULL) {
		fcntl(ctl, F_SETPIPE_SZ, 4096);
		stall = true;
	}
#endif
	for (;;) {
		int wait = check_signatures(&next_check);
		long long now = smtpio_now();

		/* Open sessions, for moatd's metrics, when they change. */
		if (events_fd != -1 && now >= next_count) {
			unsigned count = anvil_sessions(anvil);

			if (count != last_count) {
				char json[32];

				snprintf(json, sizeof(json), "%u", count);
				send_event("sessions", json, strlen(json));
				last_count = count;
			}
			next_count = now + 1000;
		}
		if (events_fd != -1 && (wait < 0 || wait > 1000))
			wait = 1000;

		for (i = 0; i < n; i++) {
			pfd[i].fd = l[i].fd;
			pfd[i].events = POLLIN;
		}
		pfd[n].fd = stall ? -1 : ctl;
		pfd[n].events = POLLIN;
		if (poll(pfd, (nfds_t)n + 1, wait) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[n].revents & (POLLIN | POLLHUP)) {
			if (pfd[n].revents & POLLHUP &&
			    !(pfd[n].revents & POLLIN))
				return 0;	/* the parent is gone */
			take_config(ctl);
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(&l[i]);
	}
}

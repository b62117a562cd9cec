/* clamd.c: scanning with clamd over its socket: one connection per message,
 * the INSTREAM command (the message in length-prefixed chunks, a zero
 * length to end), the "z" form so every reply ends with a NUL.  Each
 * instance is a path (unix) or HOST:PORT (TCP).
 *
 * A farm: `engine clamd A B ...` spreads scans over the instances in turn.
 * An instance that cannot be reached, or breaks off a scan, is taken out
 * and the scan goes on with the next one; a health thread PINGs every
 * instance every CLAMD_HEALTH_SECS and puts back the ones that answer (and
 * takes out the ones that stop), and reports the figures of each.  A
 * message gets 451 only when no
 * instance answered.  A scan has one deadline, scan-timeout, over all its
 * tries: a clamd that stops answering is a failed scan, not a hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/addr.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "smtp/scan.h"

#define CHUNK			(64 * 1024)
#define CLAMD_HEALTH_SECS	5	/* between PINGs of every instance */
#define CLAMD_PING_SECS		3	/* a PING's own timeout */

struct instance {
	char			 where[256];
	struct sockaddr_storage	 addr;	/* where, resolved once */
	socklen_t		 addrlen;	/* 0: not an address */
	int			 up;		/* answering (atomic) */
	unsigned long long	 scans, failures;	/* atomic */
	char			 error[160];	/* the last, under lock */
	long long		 since;		/* up or out since, time(2) */
};

struct clamd {
	struct scanner		 s;	/* first: a struct scanner * */
	unsigned		 timeout;	/* seconds, a whole scan */
	unsigned		 n;
	struct instance		 inst[AV_CLAMD_MAX];
	unsigned		 turn;		/* the next to ask (atomic) */
	pthread_mutex_t		 lock;		/* errors; the health thread */
	pthread_cond_t		 wake;
	bool			 stop;
	bool			 health;	/* the thread runs */
	pthread_t		 thread;
	void			(*notify)(void *);	/* an instance came or
							   went */
	void			*notify_arg;
};

/* The socket address of a path (unix) or HOST:PORT (TCP); -1 when where is
 * neither. */
static int
instance_address(struct instance *in)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&in->addr;

	memset(&in->addr, 0, sizeof(in->addr));
	if (in->where[0] != '/')
		return addr_hostport(in->where, &in->addr, &in->addrlen);
	if (strlen(in->where) >= sizeof(sun->sun_path))
		return -1;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, in->where);
	in->addrlen = sizeof(*sun);
	return 0;
}

/* Both directions' timeouts to what is left until deadline (ms on the
 * monotonic clock): -1 (errno EAGAIN) when nothing is. */
static int
time_left(int fd, long long deadline)
{
	long long left = deadline - clock_ms();
	struct timeval tv;

	if (left <= 0) {
		errno = EAGAIN;
		return -1;
	}
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

static int
instance_connect(const struct instance *in, long long deadline, char *why,
    size_t whylen)
{
	int fd;

	if (in->addrlen == 0) {
		snprintf(why, whylen, "clamd: '%.100s' is neither a socket "
		    "path nor HOST:PORT", in->where);
		return -1;
	}
	if ((fd = socket(in->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1)
		goto fail;
	/* A connection takes at most CLAMD_PING_SECS: one that is not
	 * accepted by then is an instance in trouble, not a slow scan. */
	if (time_left(fd, deadline < clock_ms() + CLAMD_PING_SECS * 1000 ?
	    deadline : clock_ms() + CLAMD_PING_SECS * 1000) == -1 ||
	    connect(fd, (const struct sockaddr *)&in->addr, in->addrlen) ==
	    -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		goto fail;
	}
	return fd;
fail:
	snprintf(why, whylen, "clamd at %.80s: %s", in->where,
	    errno == EAGAIN || errno == EINPROGRESS ? "timed out" :
	    strerror(errno));
	return -1;
}

static int
send_all(int fd, const void *p, size_t n, long long deadline)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w;

		if (time_left(fd, deadline) == -1)
			return -1;
		if ((w = send(fd, q, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A reply kept to printable ASCII: a clamd's words go into headers, log
 * lines, JSON and SMTP replies, where a CR, an LF, a quote or a byte that
 * is not UTF-8 would say more than clamd may. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			*s = '?';
}

/* Read clamd's NUL-terminated reply, made printable. */
static int
read_reply(int fd, char *buf, size_t len, long long deadline)
{
	size_t got = 0;

	while (got + 1 < len) {
		ssize_t r;

		if (time_left(fd, deadline) == -1)
			return -1;
		r = recv(fd, buf + got, len - 1 - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = 0;
		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (memchr(buf, '\0', got) != NULL) {
			printable(buf);
			return 0;
		}
	}
	buf[got] = '\0';
	printable(buf);
	return 0;
}

static void
io_why(const struct instance *in, char *why, size_t whylen)
{
	snprintf(why, whylen, "clamd at %.80s: %s", in->where,
	    errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : errno ?
	    strerror(errno) : "closed the connection");
}

/* A one-line command (PING, VERSION) and its reply. */
static int
command(const struct instance *in, const char *cmd, unsigned secs,
    char *reply, size_t len, char *why, size_t whylen)
{
	long long deadline = clock_ms() + (long long)secs * 1000;
	int fd = instance_connect(in, deadline, why, whylen);

	if (fd == -1)
		return -1;
	if (send_all(fd, cmd, strlen(cmd) + 1, deadline) == -1 ||
	    read_reply(fd, reply, len, deadline) == -1) {
		io_why(in, why, whylen);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Tell the proxy (clamd_set_notify), outside the lock. */
static void
notify(struct clamd *c)
{
	void (*fn)(void *);
	void *arg;

	pthread_mutex_lock(&c->lock);
	fn = c->notify;
	arg = c->notify_arg;
	pthread_mutex_unlock(&c->lock);
	if (fn != NULL)
		fn(arg);
}

/* Put instance i in or out; says so (log, notify) when that changes. */
static void
set_up(struct clamd *c, unsigned i, bool up, const char *why)
{
	struct instance *in = &c->inst[i];
	bool changed;

	pthread_mutex_lock(&c->lock);
	changed = __atomic_exchange_n(&in->up, up ? 1 : 0, __ATOMIC_ACQ_REL) !=
	    (up ? 1 : 0);
	if (!up && why != NULL)
		snprintf(in->error, sizeof(in->error), "%s", why);
	if (changed)
		in->since = (long long)time(NULL);
	pthread_mutex_unlock(&c->lock);
	if (!changed)
		return;
	if (up)
		log_info("clamd at %s answers again: back in the farm",
		    in->where);
	else
		log_info("clamd at %s taken out of the farm: %s", in->where,
		    why != NULL ? why : "no answer");
	notify(c);
}

/* Every CLAMD_HEALTH_SECS: PING each instance; in the ones that answer,
 * out the ones that do not. */
static void *
health_thread(void *arg)
{
	struct clamd *c = arg;
	struct timespec ts;
	unsigned i;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += CLAMD_HEALTH_SECS;
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->lock);
		for (i = 0; i < c->n; i++) {
			char reply[64], why[160];
			bool ok = command(&c->inst[i], "zPING", CLAMD_PING_SECS,
			    reply, sizeof(reply), why, sizeof(why)) == 0;

			if (ok && strcmp(reply, "PONG") != 0) {
				snprintf(why, sizeof(why), "clamd at %.80s: "
				    "PING answered '%.40s'", c->inst[i].where,
				    reply);
				ok = false;
			}
			set_up(c, i, ok, ok ? NULL : why);
		}
		/* The figures (scans, failures) once a round. */
		notify(c);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct scanner *
clamd_open(char *const *where, unsigned n, unsigned timeout, char *err,
    size_t errlen)
{
	struct clamd *c = calloc(1, sizeof(*c));
	char reply[256], why[160];
	unsigned i;

	if (c == NULL || n == 0 || n > AV_CLAMD_MAX) {
		free(c);
		snprintf(err, errlen, c == NULL ? "out of memory" :
		    "clamd: 1 to %d instances", AV_CLAMD_MAX);
		return NULL;
	}
	c->s.engine = AV_CLAMD;
	c->timeout = timeout;
	c->n = n;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	snprintf(c->s.name, sizeof(c->s.name), "clamd");
	for (i = 0; i < n; i++) {
		struct instance *in = &c->inst[i];

		snprintf(in->where, sizeof(in->where), "%s", where[i]);
		if (instance_address(in) == -1)
			in->addrlen = 0;	/* every scan says why */
		in->since = (long long)time(NULL);
		/* clamd may be started later or restarted: one that is down
		 * now is out until a PING answers. */
		if (command(in, "zVERSION", CLAMD_PING_SECS, reply,
		    sizeof(reply), why, sizeof(why)) == 0) {
			in->up = 1;
			if (strcmp(c->s.name, "clamd") == 0)
				snprintf(c->s.name, sizeof(c->s.name),
				    n > 1 ? "clamd %.70s (farm of %u)" :
				    "clamd %.80s", reply, n);
		} else
			snprintf(in->error, sizeof(in->error), "%s", why);
	}
	if (pthread_create(&c->thread, NULL, health_thread, c) == 0)
		c->health = true;
	err[0] = '\0';
	return &c->s;
}

void
clamd_set_notify(struct scanner *s, void (*fn)(void *), void *arg)
{
	struct clamd *c = (struct clamd *)s;

	pthread_mutex_lock(&c->lock);
	c->notify = fn;
	c->notify_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

/* One scan on one instance.  0 when clamd answered (r says what), -1 when
 * the instance failed (r->why says how). */
static int
scan_on(struct instance *in, struct msgbuf *m, struct scan_result *r,
    char *buf, long long deadline)
{
	static const char start[] = "zINSTREAM";
	char reply[512], *p;
	size_t off = 0;
	int fd;

	if ((fd = instance_connect(in, deadline, r->why, sizeof(r->why))) ==
	    -1)
		return -1;
	if (send_all(fd, start, sizeof(start), deadline) == -1)
		goto io;
	for (;;) {
		ssize_t n = msgbuf_read(m, off, buf + 4, CHUNK);
		uint32_t be;

		if (n < 0) {
			/* Our side: no other instance would do better. */
			snprintf(r->why, sizeof(r->why), "cannot read the "
			    "held message: %s", strerror(errno));
			close(fd);
			return 0;
		}
		be = htonl((uint32_t)n);
		memcpy(buf, &be, 4);
		if (send_all(fd, buf, (size_t)n + 4, deadline) == -1) {
			/* clamd may have said why it stopped reading (the
			 * stream is over its StreamMaxLength): an answer
			 * about this message, not a failing instance. */
			if (read_reply(fd, reply, sizeof(reply), clock_ms() +
			    1000) == 0 && reply[0] != '\0')
				goto answer;
			goto io;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (read_reply(fd, reply, sizeof(reply), deadline) == -1)
		goto io;
answer:
	close(fd);
	/* "stream: OK", "stream: NAME FOUND", "... ERROR" */
	p = strncmp(reply, "stream: ", 8) == 0 ? reply + 8 : reply;
	if (strcmp(p, "OK") == 0) {
		r->verdict = SCAN_CLEAN;
	} else if (strlen(p) > 6 && strcmp(p + strlen(p) - 6, " FOUND") ==
	    0) {
		p[strlen(p) - 6] = '\0';
		r->verdict = SCAN_VIRUS;	/* a limit's alert too: scan.c */
		snprintf(r->sig, sizeof(r->sig), "%.120s", p);
	} else {
		snprintf(r->why, sizeof(r->why), "clamd at %.60s: %.80s",
		    in->where, p);
		/* An error about the message (a size limit) is its answer;
		 * any other says the instance is in trouble: the next one
		 * is asked. */
		if (strstr(p, "size limit exceeded") == NULL &&
		    strstr(p, "ERROR") != NULL)
			return -1;
	}
	return 0;
io:
	io_why(in, r->why, sizeof(r->why));
	close(fd);
	return -1;
}

void
clamd_scan(struct scanner *s, struct msgbuf *m, struct scan_result *r)
{
	struct clamd *c = (struct clamd *)s;
	long long deadline = clock_ms() + (long long)c->timeout * 1000;
	unsigned first = __atomic_fetch_add(&c->turn, 1, __ATOMIC_RELAXED);
	unsigned pass, k, tried = 0, mask = 0;
	char *buf;

	if ((buf = malloc(CHUNK + 4)) == NULL) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		return;
	}
	/* The instances in, in turn from this scan's; then the ones out,
	 * which may be back before the health thread has seen it. */
	for (pass = 0; pass < 2; pass++)
		for (k = 0; k < c->n; k++) {
			unsigned i = (first + k) % c->n;
			struct instance *in = &c->inst[i];

			long long left, until;

			if ((mask & 1u << i) || __atomic_load_n(&in->up,
			    __ATOMIC_ACQUIRE) != (pass == 0 ? 1 : 0))
				continue;
			if (clock_ms() >= deadline) {
				snprintf(r->why, sizeof(r->why), "clamd: no "
				    "answer within scan-timeout (%u s) from "
				    "%u of %u instances", c->timeout, tried,
				    c->n);
				goto out;
			}
			/* A fair share of what is left for each instance not
			 * tried yet: one that accepts and then hangs cannot
			 * take the others' time. */
			left = deadline - clock_ms();
			until = clock_ms() + left / (long long)(c->n - tried);
			tried++;
			mask |= 1u << i;
			__atomic_add_fetch(&in->scans, 1, __ATOMIC_RELAXED);
			if (scan_on(in, m, r, buf, until) == 0) {
				if (pass == 1)
					set_up(c, i, true, NULL);
				goto out;
			}
			__atomic_add_fetch(&in->failures, 1, __ATOMIC_RELAXED);
			set_up(c, i, false, r->why);
		}
	if (c->n > 1)
		snprintf(r->why, sizeof(r->why), "clamd: none of %u instances "
		    "answered (%u tried)", c->n, tried);
out:
	free(buf);
}

/* What goes between JSON's quotes as it is: no quote, backslash or
 * control character (they become '). */
static void
json_safe(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			*s = '\'';
}

void
clamd_state(struct scanner *s, char *json, size_t len)
{
	struct clamd *c = (struct clamd *)s;
	size_t off = 0;
	unsigned i;

	off += (size_t)snprintf(json, len, "[");
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n && off < len; i++) {
		const struct instance *in = &c->inst[i];
		char err[120], where[128];	/* 8 fit an event line */

		str_copy_utf8(err, sizeof(err), in->up ? "" : in->error);
		str_copy_utf8(where, sizeof(where), in->where);
		json_safe(err);
		json_safe(where);
		off += (size_t)snprintf(json + off, len - off, "%s{\"address\":"
		    "\"%s\",\"up\":%s,\"since\":%lld,\"scans\":%llu,"
		    "\"failures\":%llu,\"error\":\"%s\"}", i ? "," : "",
		    where, in->up ? "true" : "false", in->since,
		    __atomic_load_n(&in->scans, __ATOMIC_RELAXED),
		    __atomic_load_n(&in->failures, __ATOMIC_RELAXED), err);
	}
	pthread_mutex_unlock(&c->lock);
	if (off < len)
		snprintf(json + off, len - off, "]");
}

void
clamd_close(struct scanner *s)
{
	struct clamd *c = (struct clamd *)s;

	if (c == NULL)
		return;
	if (c->health) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
}

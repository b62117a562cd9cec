/* syncd.c: the sync link's server; see syncd.h. */
#include "ha/syncd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/addr.h"
#include "base/frame.h"
#include "base/log.h"
#include "ha/peer.h"

enum conn_state {
	C_FREE = 0,
	C_GREET,	/* sending the greeting */
	C_HEAD,		/* reading the signed head */
	C_BODY,		/* reading the body the head announced */
	C_QUEUED,	/* verified, waiting for its turn to the parent */
	C_PARENT,	/* with the parent */
	C_ANSWER,	/* sending the answer */
};

static const char *const state_names[] = {
	"free", "greeting", "head", "body", "queued", "parent", "answer",
};

struct conn {
	enum conn_state	 st;
	int		 fd;
	unsigned	 id;		/* the request id, on ctl */
	long long	 since;		/* accepted, ms */
	unsigned long	 age;		/* accepted as the age-th */
	long long	 deadline;	/* of the state, ms */
	char		 from[ADDR_STRLEN + 8];
	char		 me[PEER_ADDR_LEN];	/* the address it came to */
	char		 nonce[65];	/* ours, in the greeting */
	char		 theirs[65];	/* the client's, for the answer */
	struct strbuf	 out;		/* to send: greeting, answer */
	size_t		 off;
	struct frame_in	 in;
	json_t		*req;
	size_t		 body_len;
};

static struct {
	struct conn	 c[SYNCD_CONNS];
	const char	*secret;
	int		 ctl;
	struct strbuf	 to_parent;	/* a frame being written */
	size_t		 off;
	struct frame_in	 from_parent;
	unsigned	 next_id;
	unsigned long	 accepted;
} s;

static void
conn_end(struct conn *c, const char *why)
{
	if (why != NULL)
		log_warn("ha: a connection on the sync link from %s refused "
		    "(%s): %s", c->from, state_names[c->st], why);
	close(c->fd);
	strbuf_free(&c->out);
	frame_in_reset(&c->in);
	json_decref(c->req);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
set_state(struct conn *c, enum conn_state st, long long deadline)
{
	log_debug("ha: sync connection %s: %s -> %s", c->from,
	    state_names[c->st], state_names[st]);
	c->st = st;
	c->deadline = deadline;
}

/* A slot for a new connection: a free one, or the oldest that has not
 * shown the secret yet (a flood of silent clients cannot keep the peer
 * out); NULL when all are busy with signed requests. */
static struct conn *
slot(void)
{
	struct conn *old = NULL;
	size_t i;

	for (i = 0; i < SYNCD_CONNS; i++) {
		if (s.c[i].st == C_FREE)
			return &s.c[i];
		if ((s.c[i].st == C_GREET || s.c[i].st == C_HEAD) &&
		    (old == NULL || s.c[i].age < old->age))
			old = &s.c[i];
	}
	if (old != NULL)
		conn_end(old, "a newer connection needs its place");
	return old;
}

/* Set the out buffer to one frame of msg. */
static void
out_frame(struct conn *c, const char *msg, size_t len)
{
	uint32_t n = htonl((uint32_t)len);

	strbuf_reset(&c->out);
	strbuf_add(&c->out, (const char *)&n, sizeof(n));
	strbuf_add(&c->out, msg, len);
	c->off = 0;
}

static void
accept_one(int listen_fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct strbuf greeting;
	struct conn *c;
	int fd = accept4(listen_fd, (struct sockaddr *)&ss, &sl,
	    SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd == -1)
		return;
	if ((c = slot()) == NULL) {
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	addr_sockaddr_format(&ss, c->from, sizeof(c->from));
	if (peer_sock_addr(fd, true, c->me) == -1) {
		close(fd);
		return;
	}
	c->since = clock_ms();
	c->age = ++s.accepted;
	strbuf_init(&greeting, PEER_GREETING_MAX);
	peer_greeting(c->nonce, &greeting);
	strbuf_init(&c->out, 0);
	out_frame(c, strbuf_str(&greeting), greeting.len);
	strbuf_free(&greeting);
	c->st = C_GREET;
	c->deadline = c->since + PEER_TIMEOUT_MS;
}

/* What is left of c->out, sent: 1 all of it, 0 more to send, -1 failed. */
static int
send_out(struct conn *c)
{
	while (c->off < c->out.len) {
		ssize_t w = send(c->fd, strbuf_str(&c->out) + c->off,
		    c->out.len - c->off, MSG_NOSIGNAL);

		if (w == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->off += (size_t)w;
	}
	return 1;
}

static void
conn_io(struct conn *c, short revents)
{
	struct strbuf err;
	int rc;

	if (c->st == C_GREET || c->st == C_ANSWER) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if ((rc = send_out(c)) == -1) {
			conn_end(c, strerror(errno));
			return;
		}
		if (rc == 0)
			return;
		if (c->st == C_ANSWER) {
			conn_end(c, NULL);	/* done */
			return;
		}
		set_state(c, C_HEAD, c->since + PEER_TIMEOUT_MS);
		return;
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	rc = frame_in_read(c->fd, &c->in, c->st == C_HEAD ? PEER_HEAD_MAX :
	    c->body_len);
	if (rc == -1) {
		conn_end(c, errno == EMSGSIZE ? "a message over its limit" :
		    errno ? strerror(errno) : "the connection ended");
		return;
	}
	if (rc == 0)
		return;
	strbuf_init(&err, 0);
	if (c->st == C_HEAD) {
		c->req = peer_head(c->in.buf, c->in.len, s.secret, c->nonce,
		    c->me, &c->body_len, c->theirs, &err);
		frame_in_reset(&c->in);
		if (c->req == NULL)
			conn_end(c, strbuf_str(&err));
		else if (c->body_len > 0)
			set_state(c, C_BODY, c->since + PEER_BODY_TIMEOUT_MS);
		else if (peer_body(c->req, "", 0, &err) == -1)
			conn_end(c, strbuf_str(&err));
		else
			set_state(c, C_QUEUED, 0);
	} else if (c->st == C_BODY) {
		if (c->in.len != c->body_len ||
		    peer_body(c->req, c->in.buf, c->in.len, &err) == -1)
			conn_end(c, err.len > 0 ? strbuf_str(&err) :
			    "a body of another length than announced");
		else
			set_state(c, C_QUEUED, 0);
		if (c->st != C_FREE)
			frame_in_reset(&c->in);
	}
	strbuf_free(&err);
}

/* The oldest verified request to the parent, when ctl is free. */
static void
to_parent(void)
{
	struct conn *next = NULL;
	uint32_t n;
	char *body;
	size_t i;

	if (s.to_parent.len > 0)
		return;
	for (i = 0; i < SYNCD_CONNS; i++)
		if (s.c[i].st == C_QUEUED && (next == NULL ||
		    s.c[i].age < next->age))
			next = &s.c[i];
	if (next == NULL)
		return;
	next->id = ++s.next_id;
	json_object_set_new(next->req, "id", json_integer(next->id));
	json_object_set_new(next->req, "from", json_string(next->from));
	if ((body = json_dumps(next->req, JSON_COMPACT)) == NULL) {
		conn_end(next, "out of memory");
		return;
	}
	n = htonl((uint32_t)strlen(body));
	strbuf_add(&s.to_parent, (const char *)&n, sizeof(n));
	strbuf_add(&s.to_parent, body, strlen(body));
	free(body);
	s.off = 0;
	/* The parent takes as long as an apply takes. */
	set_state(next, C_PARENT, clock_ms() + PEER_PUSH_TIMEOUT_MS);
}

/* An answer from the parent, to the connection that asked. */
static void
from_parent(const char *msg, size_t len)
{
	json_t *a = json_loadb(msg, len, 0, NULL);
	json_int_t id = json_integer_value(json_object_get(a, "id"));
	struct strbuf out;
	size_t i;

	for (i = 0; i < SYNCD_CONNS; i++) {
		struct conn *c = &s.c[i];

		if (c->st != C_PARENT || c->id != (unsigned)id)
			continue;
		json_object_del(a, "id");
		strbuf_init(&out, 0);
		if (peer_answer(s.secret, c->theirs, c->me, a, &out) == -1)
			conn_end(c, "the answer cannot be signed");
		else {
			out_frame(c, strbuf_str(&out), out.len);
			set_state(c, C_ANSWER, clock_ms() + PEER_TIMEOUT_MS);
		}
		strbuf_free(&out);
		break;
	}
	json_decref(a);
}

/* ctl: 0 go on, -1 the parent is gone or broke the channel. */
static int
ctl_io(short revents)
{
	int rc;

	if (s.to_parent.len > 0 && (revents & POLLOUT)) {
		while (s.off < s.to_parent.len) {
			ssize_t w = send(s.ctl, strbuf_str(&s.to_parent) + s.off,
			    s.to_parent.len - s.off, MSG_NOSIGNAL);

			if (w == -1) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return -1;
			}
			s.off += (size_t)w;
		}
		if (s.off == s.to_parent.len)
			strbuf_reset(&s.to_parent);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	while ((rc = frame_in_read(s.ctl, &s.from_parent, PEER_ANSWER_MAX)) ==
	    1) {
		from_parent(s.from_parent.buf, s.from_parent.len);
		frame_in_reset(&s.from_parent);
	}
	return rc == -1 ? -1 : 0;
}

int
syncd_run(int listen_fd, int ctl, const char *secret)
{
	struct pollfd pfd[2 + SYNCD_CONNS];
	struct conn *who[2 + SYNCD_CONNS];
	size_t i;
	int n, rc = 0;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < SYNCD_CONNS; i++)
		s.c[i].fd = -1;
	s.secret = secret;
	s.ctl = ctl;
	strbuf_init(&s.to_parent, 0);
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	fcntl(ctl, F_SETFL, fcntl(ctl, F_GETFL) | O_NONBLOCK);
	for (;;) {
		long long now = clock_ms(), wait = -1;

		to_parent();
		pfd[0].fd = ctl;
		pfd[0].events = POLLIN | (s.to_parent.len > 0 ? POLLOUT : 0);
		pfd[1].fd = listen_fd;
		pfd[1].events = POLLIN;
		n = 2;
		for (i = 0; i < SYNCD_CONNS; i++) {
			struct conn *c = &s.c[i];

			if (c->st == C_FREE)
				continue;
			if (c->deadline != 0 && c->deadline <= now) {
				conn_end(c, "too slow: its deadline passed");
				continue;
			}
			if (c->deadline != 0 && (wait == -1 ||
			    c->deadline - now < wait))
				wait = c->deadline - now;
			if (c->st == C_QUEUED || c->st == C_PARENT)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = c->st == C_GREET || c->st == C_ANSWER ?
			    POLLOUT : POLLIN;
			who[n++] = c;
		}
		if (poll(pfd, (nfds_t)n, (int)wait) == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		if (pfd[0].revents != 0 && ctl_io(pfd[0].revents) == -1)
			break;	/* the parent is gone: so are we */
		for (i = 2; i < (size_t)n; i++)
			if (pfd[i].revents != 0)
				conn_io(who[i], pfd[i].revents);
		if (pfd[1].revents & POLLIN)
			accept_one(listen_fd);
	}
	for (i = 0; i < SYNCD_CONNS; i++)
		if (s.c[i].st != C_FREE)
			conn_end(&s.c[i], NULL);
	strbuf_free(&s.to_parent);
	frame_in_reset(&s.from_parent);
	return rc;
}

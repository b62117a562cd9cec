/*
 * test_console.c: the console process (src/web/console.c, plain HTTP, a
 * stand-in for moatd's parent on the other end of its channel) trusts
 * only the answer to the request it sent: one with another request's id
 * is never passed on (the login it would grant is not granted), and
 * nothing more is asked on that channel; and a request that never comes
 * whole is cut at its deadline, however often a byte of it arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/frame.h"
#include "base/log.h"
#include "web/console.h"

static int parent_fd;
static int shift;		/* added to each answer's id */
static int asked;		/* requests the parent read */

/* The parent: every request answered 200 (a login with a session), with
 * the request's id plus shift. */
static void *
parent(void *arg)
{
	(void)arg;
	for (;;) {
		static const char ans[] = "{\"status\":200,\"token\":\""
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "\",\"csrf\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		    "bbbbbbbbbbbb\",\"user\":\"admin\"}";
		size_t len;
		uint32_t id;
		char *req = frame_recv_id(parent_fd, FRAME_MAX, &id, &len);

		if (req == NULL)
			return NULL;
		free(req);
		__atomic_add_fetch(&asked, 1, __ATOMIC_SEQ_CST);
		if (frame_send_id(parent_fd, id + (uint32_t)shift, ans,
		    sizeof(ans) - 1) == -1)
			return NULL;
	}
}

/* One request through the console: what came back (NUL-terminated). */
static char *
converse(struct console *server, const char *in)
{
	static char out[65536];
	struct sockaddr_in sa;
	size_t sent = 0, got = 0, len = strlen(in);
	int sp[2], tries;

	for (tries = 0; tries < 50; tries++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(0x0a000001);
		if (console_connection(server, sp[1], (struct sockaddr *)&sa,
		    sizeof(sa)) == 0)
			break;
		close(sp[0]);
		close(sp[1]);
		usleep(100000);
	}
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p = { sp[0], POLLIN | (sent < len ? POLLOUT : 0),
		    0 };
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			break;
		if ((p.revents & POLLOUT) && sent < len &&
		    (n = write(sp[0], in + sent, len - sent)) > 0)
			sent += (size_t)n;
		if (p.revents & (POLLIN | POLLHUP)) {
			n = read(sp[0], out + got, sizeof(out) - 1 - got);
			if (n <= 0 && !(n == -1 && errno == EAGAIN))
				break;
			if (n > 0)
				got += (size_t)n;
		}
	}
	close(sp[0]);
	out[got] = '\0';
	return out;
}

static const char login_req[] = "POST /api/v1/login HTTP/1.1\r\nHost: gw\r\n"
    "Content-Type: application/json\r\nContent-Length: 38\r\n"
    "Connection: close\r\n\r\n{\"user\":\"mallory\",\"password\":\"wrong!\"}";

static const struct console_conf *last_conf;

static struct console *
start(void)
{
	static struct console_conf cc;
	pthread_t t;
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sp), 0);
	parent_fd = sp[1];
	assert_int_equal(pthread_create(&t, NULL, parent, NULL), 0);
	pthread_detach(t);
	cc.listen_fd = -1;
	cc.ctl = sp[0];
	cc.root = "/nonexistent";
	cc.plain = true;
	cc.deadline = 0;
	last_conf = &cc;
	return console_start(&cc);
}

/* The answer to the request asked: passed on. */
static void
test_own_answer(void **state)
{
	struct console *s;
	char *out;

	(void)state;
	shift = 0;
	asked = 0;
	assert_non_null(s = start());
	out = converse(s, login_req);
	assert_non_null(strstr(out, "HTTP/1.1 200"));
	console_stop(s);
	close(parent_fd);
}

/* An answer with another id: no 200, no cookie, and the next request is
 * not asked on that channel. */
static void
test_other_answer(void **state)
{
	struct console *s;
	char *out;

	(void)state;
	shift = 1;
	asked = 0;
	assert_non_null(s = start());
	out = converse(s, login_req);
	assert_null(strstr(out, " 200 "));
	assert_null(strstr(out, "moat_session"));
	out = converse(s, login_req);
	assert_null(strstr(out, " 200 "));
	assert_int_equal(__atomic_load_n(&asked, __ATOMIC_SEQ_CST), 1);
	console_stop(s);
	close(parent_fd);
}

/* A request sent a byte at a time, never whole: cut at the deadline (one
 * second here), though a byte came every 200 ms. */
static void
test_deadline(void **state)
{
	static const char part[] = "GET / HTTP/1.1\r\nHost: gw\r\nX-Slow: ";
	struct console_conf *cc;
	struct console *s;
	struct sockaddr_in sa;
	long long t0, now;
	struct timespec ts;
	int sp[2], i, closed = 0;
	char buf[256];

	(void)state;
	shift = 0;
	assert_non_null(s = start());
	cc = (struct console_conf *)last_conf;
	cc->deadline = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x0a000002);
	assert_int_equal(console_connection(s, sp[1], (struct sockaddr *)&sa,
	    sizeof(sa)), 0);
	assert_int_equal(write(sp[0], part, sizeof(part) - 1),
	    (ssize_t)sizeof(part) - 1);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	for (i = 0; i < 25 && !closed; i++) {
		ssize_t n;

		usleep(200000);
		console_sweep();
		if (write(sp[0], "a", 1) == -1)
			closed = 1;
		n = read(sp[0], buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno != EAGAIN))
			closed = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	assert_true(closed);
	assert_true(now - t0 >= 900 && now - t0 < 2500);
	close(sp[0]);
	console_stop(s);
	close(parent_fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_answer),
		cmocka_unit_test(test_other_answer),
		cmocka_unit_test(test_deadline),
	};

	signal(SIGPIPE, SIG_IGN);	/* a cut connection is written to */
	log_init(open("/dev/null", O_WRONLY | O_CLOEXEC), "test_console");
	return cmocka_run_group_tests(tests, NULL, NULL);
}

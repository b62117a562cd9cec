/* test_childlog.c: daemon/childlog.h, as a child taken over would use its
 * pipe: lines said after the child's name, never as the parent's own; a
 * priority above error, a forged line end, a line without end, a flood
 * (counted, not logged); the pipe freed at its end; a child that writes
 * while the parent reads nothing is never held.  The parent's log is a
 * pipe of the test's, in the journal's form (priority first). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "daemon/childlog.h"

static int logr = -1;	/* what the parent logged, read here */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int
setup(void **state)
{
	int p[2];

	(void)state;
	setenv("JOURNAL_STREAM", "0:0", 1);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	logr = p[0];
	log_init(p[1], "moatd");
	return 0;
}

/* The parent's loop until no pipe is open or passes have gone by. */
static void
parent_turns(int passes)
{
	struct pollfd pfd[CHILDLOG_MAX];
	int n;

	while (passes-- > 0 && (n = childlog_pollfds(pfd)) > 0) {
		poll(pfd, (nfds_t)n, 1000);
		childlog_events(pfd, n);
	}
}

/* All the parent logged so far, NUL-terminated (the caller frees). */
static char *
logged(void)
{
	size_t cap = 1 << 22, len = 0;
	char *b = malloc(cap + 1);
	ssize_t r;

	assert_non_null(b);
	while ((r = read(logr, b + len, cap - len)) > 0)
		len += (size_t)r;
	b[len] = '\0';
	return b;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* w written on the write end of a fresh pipe named name, then closed. */
static void
child_writes(const char *name, const char *w, size_t len)
{
	int fd = childlog_open(name);

	assert_true(fd > 2);
	assert_int_equal(write(fd, w, len), (ssize_t)len);
	close(fd);
}

/* Its lines after its name; a priority kept from error to debug, one
 * above error made error; no forged line: a CR or ESC is escaped, and a
 * line end ends the child's line (the next is the child's too). */
static void
lines(void **state)
{
	static const char w[] =
	    "<6>S1: client=192.0.2.1 from=a@b\n"
	    "<0>the end of the world\n"
	    "<7>a debug line\n"
	    "no priority at all\n"
	    "<3>history entry 7 applied\r<3>moatd: forged\x1b[2J\n"
	    "<6>apply: history entry 8 applied\n"
	    "last words, no end";
	char *b;

	(void)state;
	child_writes("moatd-smtp", w, sizeof(w) - 1);
	parent_turns(10);
	b = logged();
	assert_non_null(strstr(b, "<6>moatd-smtp: S1: client=192.0.2.1 "
	    "from=a@b\n"));
	assert_non_null(strstr(b, "<3>moatd-smtp: the end of the world\n"));
	assert_non_null(strstr(b, "<7>moatd-smtp: a debug line\n"));
	assert_non_null(strstr(b, "<6>moatd-smtp: no priority at all\n"));
	assert_non_null(strstr(b, "<3>moatd-smtp: history entry 7 applied"
	    "\\x0d<3>moatd: forged\\x1b[2J\n"));
	assert_non_null(strstr(b, "<6>moatd-smtp: apply: history entry 8 "
	    "applied\n"));
	assert_non_null(strstr(b, "<6>moatd-smtp: last words, no end\n"));
	/* every line of the log is the child's */
	assert_int_equal(count(b, "\n"), count(b, ">moatd-smtp: "));
	/* and the pipe is free again */
	assert_int_equal(childlog_pollfds((struct pollfd[CHILDLOG_MAX]){ 0 }),
	    0);
	free(b);
}

/* A line longer than CHILDLOG_LINE is said cut, the rest of it skipped;
 * the next line is whole. */
static void
long_line(void **state)
{
	size_t n = 3 * CHILDLOG_LINE;
	char *w = malloc(n + 32), *b, *at;

	(void)state;
	assert_non_null(w);
	memset(w, 'x', n);
	memcpy(w + n, "\n<4>after\n", 10);
	child_writes("moatd-web", w, n + 10);
	parent_turns(10);
	b = logged();
	assert_non_null(at = strstr(b, "<6>moatd-web: xxx"));
	assert_non_null(strstr(at, " [cut]\n<4>moatd-web: after\n"));
	assert_true(strlen(b) < CHILDLOG_LINE + 64);
	free(w);
	free(b);
}

/* The HA askers, "moatd-ask hello" and "moatd-ask push", are one kind:
 * one rate for both (the same peer can take both over), and a child
 * started again (the next hello) gets no burst of its own; the count
 * said is the parent's ("childlog:"), not a line a child could write.
 * (All children's bucket is full here: what limits is the kind's.) */
static void
askers_one_kind(void **state)
{
	long long t0 = now_ms();
	size_t i, got;
	int h, p;
	char *b;

	(void)state;
	h = childlog_open("moatd-ask hello");
	p = childlog_open("moatd-ask push");
	assert_true(h > 2 && p > 2);
	for (i = 0; i < 600; i++) {
		assert_int_equal(write(h, "<6>h\n", 5), 5);
		assert_int_equal(write(p, "<6>p\n", 5), 5);
	}
	close(h);
	close(p);
	parent_turns(100);
	h = childlog_open("moatd-ask hello");
	for (i = 0; i < 300; i++)
		assert_int_equal(write(h, "<6>h\n", 5), 5);
	close(h);
	parent_turns(100);
	b = logged();
	got = count(b, ">moatd-ask hello: h\n") + count(b, ">moatd-ask push: "
	    "p\n");
	assert_in_range(got, CHILDLOG_BURST, CHILDLOG_BURST + 1 +
	    (now_ms() - t0) * CHILDLOG_RATE / 1000);
	assert_non_null(strstr(b, "<4>childlog: moatd-ask: "));
	free(b);
}

/* More than a child's burst at once: the burst logged, the rest counted
 * and said once, by the parent, at the end of the pipe. */
static void
flood(void **state)
{
	size_t n = CHILDLOG_BURST + 1000, i;
	struct pollfd pfd[CHILDLOG_MAX];
	long long t0;
	char *b;
	int fd, k;

	(void)state;
	t0 = now_ms();
	fd = childlog_open("moatd-log");
	assert_true(fd > 2);
	for (i = 0; i < n; i++) {
		char line[64];
		int len = snprintf(line, sizeof(line), "<6>line %zu\n", i);

		assert_int_equal(write(fd, line, (size_t)len), len);
		if (i % 500 == 0 && (k = childlog_pollfds(pfd)) > 0) {
			poll(pfd, (nfds_t)k, 0);
			childlog_events(pfd, k);
		}
	}
	close(fd);
	parent_turns(100);
	b = logged();
	/* the burst (less what the askers left of all children's), and
	 * what its rate gave back while it ran */
	assert_in_range(count(b, ">moatd-log: line "),
	    CHILDLOG_ALL_BURST - CHILDLOG_BURST - 50, CHILDLOG_BURST + 1 +
	    (now_ms() - t0) * CHILDLOG_RATE / 1000);
	assert_non_null(strstr(b, "<4>childlog: moatd-log: "));
	assert_non_null(strstr(b, " lines not logged over its rate (100 a "
	    "second), "));
	free(b);
}

/* All children together are held to CHILDLOG_ALL_RATE: two more, each
 * within its own burst, get what is left of all's (the askers and flood
 * took it: nothing but its refill). */
static void
all_children(void **state)
{
	long long t0 = now_ms();
	size_t i, got;
	int fd1, fd2;
	char *b, *said;

	(void)state;
	fd1 = childlog_open("moatd-smtp");
	fd2 = childlog_open("moatd-web");
	assert_true(fd1 > 2 && fd2 > 2);
	for (i = 0; i < CHILDLOG_BURST - 10; i++) {
		assert_int_equal(write(fd1, "<6>one\n", 7), 7);
		assert_int_equal(write(fd2, "<6>two\n", 7), 7);
	}
	close(fd1);
	close(fd2);
	parent_turns(100);
	b = logged();
	got = count(b, ">moatd-smtp: one") + count(b, ">moatd-web: two");
	/* what the tests before left of all's (a few), and the refill */
	assert_in_range(got, 0, 50 + (now_ms() - t0) * CHILDLOG_ALL_RATE /
	    1000);
	assert_non_null(said = strstr(b, "<4>childlog: moatd-web: 0 lines not "
	    "logged over its rate (100 a second), "));
	assert_null(strstr(said, "), 0 over all children's"));
	free(b);
}

/* The child's end never holds it: with the parent reading nothing, its
 * writes fail (EAGAIN) once the pipe is full, and do not wait. */
static void
never_held(void **state)
{
	char chunk[65536];
	ssize_t r = 0;
	int fd, i;

	(void)state;
	memset(chunk, 'y', sizeof(chunk));
	fd = childlog_open("moatd-feed");
	assert_true(fd > 2);
	for (i = 0; i < 64 && (r = write(fd, chunk, sizeof(chunk))) > 0; i++)
		;
	assert_int_equal(r, -1);
	assert_int_equal(errno, EAGAIN);
	close(fd);
	parent_turns(1000);
	free(logged());
}

/* childlog_child in a forked child: its 1 and 2 the pipe, and log.c's
 * lines in the form the parent reads, in a program it executes too. */
static void
in_child(void **state)
{
	int fd, status;
	pid_t pid;
	char *b;

	(void)state;
	fd = childlog_open("moatd-probe");
	assert_true(fd > 2);
	unsetenv("JOURNAL_STREAM");
	if ((pid = fork()) == 0) {
		if (childlog_child(fd) == -1)
			_exit(1);
		log_init(2, "moatd");
		log_warn("from the child");
		execl("/bin/sh", "sh", "-c", "echo \"$MOAT_LOG_TO_PARENT\"; "
		    "echo oops >&2", (char *)NULL);
		_exit(2);
	}
	setenv("JOURNAL_STREAM", "0:0", 1);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	parent_turns(10);
	b = logged();
	assert_non_null(strstr(b, "<4>moatd-probe: from the child\n"));
	assert_non_null(strstr(b, "<6>moatd-probe: 1\n"));
	assert_non_null(strstr(b, "<6>moatd-probe: oops\n"));
	free(b);
}

/* Bytes that could drive a terminal or turn the text, escaped: a NUL
 * (which hid the rest of the line), C1's CSI, a right-to-left override,
 * broken UTF-8, an overlong '/', a line separator, a zero-width no-break
 * space; well-formed text kept, and a backslash (a child's own escapes
 * are not escaped again). */
static void
escapes(void **state)
{
	static const char w[] = "<6>a\0hidden \xc2\x9b" "2J \xe2\x80\xae" "txt.exe "
	    "\xff\xfe \xc0\xaf caf\xc3\xa9 \xe2\x82\xac \\x0a \xe2\x80\xa8"
	    "\xef\xbb\xbf\n";
	char *b;

	(void)state;
	child_writes("moatd-feed", w, sizeof(w) - 1);
	parent_turns(10);
	b = logged();
	assert_non_null(strstr(b, "<6>moatd-feed: a\\x00hidden \\xc2\\x9b2J "
	    "\\xe2\\x80\\xaetxt.exe \\xff\\xfe \\xc0\\xaf caf\xc3\xa9 "
	    "\xe2\x82\xac \\x0a \\xe2\\x80\\xa8\\xef\\xbb\\xbf\n"));
	free(b);
}

/* A child started again closes the pipe of the one before: what it
 * wrote is said, and a process still holding that pipe's end (one it
 * left behind, or passed the end to) can write no more. */
static void
one_pipe_a_child(void **state)
{
	int old, fresh;
	char *b;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	old = childlog_open("moatd-sync");
	assert_int_equal(write(old, "<6>before\n", 10), 10);
	fresh = childlog_open("moatd-sync");
	assert_true(fresh > 2);
	assert_int_equal(write(old, "<6>left behind\n", 15), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(write(fresh, "<6>after\n", 9), 9);
	close(old);
	/* its lines said on the spot (before the parent says it ended) */
	childlog_flush("moatd-sync");
	b = logged();
	assert_non_null(strstr(b, "<6>moatd-sync: before\n<6>moatd-sync: "
	    "after\n"));
	assert_null(strstr(b, "left behind"));
	free(b);
	close(fresh);
	parent_turns(10);
}

/* CHILDLOG_MAX names at most: one more is refused (its child writes to
 * /dev/null), one of them again is not. */
static void
names_bounded(void **state)
{
	char name[32];
	int fd, i, opened = 0;

	(void)state;
	assert_int_equal(childlog_open(""), -1);
	assert_int_equal(errno, EINVAL);
	for (i = 0; i < 2 * CHILDLOG_MAX; i++) {
		snprintf(name, sizeof(name), "child-%d", i);
		if ((fd = childlog_open(name)) == -1)
			break;
		opened++;
		close(fd);
	}
	assert_int_equal(errno, EMFILE);
	/* (the names the tests before used, 8, and these) */
	assert_int_equal(opened, CHILDLOG_MAX - 8);
	assert_true((fd = childlog_open("moatd-smtp")) > 2);
	close(fd);
	parent_turns(10);
	free(logged());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines),
		cmocka_unit_test(long_line),
		cmocka_unit_test(escapes),
		cmocka_unit_test(never_held),
		cmocka_unit_test(in_child),
		cmocka_unit_test(one_pipe_a_child),
		cmocka_unit_test(askers_one_kind),
		cmocka_unit_test(flood),
		cmocka_unit_test(all_children),
		cmocka_unit_test(names_bounded),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

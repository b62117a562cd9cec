/* test_fds.c: base/fds.h (a child keeps exactly the descriptors named;
 * 0-2 open, standard input on /dev/null) and base/frame.h's frame_in_read
 * (a frame read in pieces, from a socket that never blocks; its limit). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fds.h"
#include "base/frame.h"

static bool
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* In a child: what fds_keep leaves, as a bit mask of the tested fds. */
static void
keeps(void **state)
{
	int fds[6], i, status;
	pid_t pid;

	(void)state;
	for (i = 0; i < 6; i++)
		assert_true((fds[i] = open("/dev/null", O_RDONLY)) > 2);
	if ((pid = fork()) == 0) {
		int keep[] = { fds[4], fds[1] }, mask = 0;

		fds_keep(keep, 2);
		for (i = 0; i < 6; i++)
			mask |= is_open(fds[i]) << i;
		mask |= (is_open(0) && is_open(1) && is_open(2)) << 6;
		_exit(mask);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), (1 << 1) | (1 << 4) | (1 << 6));
	for (i = 0; i < 6; i++)
		close(fds[i]);
}

/* Standard input closed: on /dev/null after, and a new descriptor is not
 * 0.  Standard output left as it was. */
static void
std_null(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0) {
		char path[64];
		ssize_t n;
		int fd;

		close(0);
		close(2);
		if (fds_std_null() == -1)
			_exit(10);
		n = readlink("/proc/self/fd/0", path, sizeof(path) - 1);
		if (n <= 0 || (path[n] = '\0', strcmp(path, "/dev/null") != 0))
			_exit(11);
		if (!is_open(1) || !is_open(2))
			_exit(12);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) <= 2)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Two frames written a byte at a time: nothing until each is whole. */
static void
frame_pieces(void **state)
{
	char msg[] = "\0\0\0\5hello\0\0\0\0";
	struct frame_in in;
	int sp[2], wholes = 0, rc;
	size_t i;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sp), 0);
	memset(&in, 0, sizeof(in));
	for (i = 0; i < sizeof(msg) - 1; i++) {
		assert_int_equal(write(sp[0], msg + i, 1), 1);
		rc = frame_in_read(sp[1], &in, 16);
		if (i == 8) {
			assert_int_equal(rc, 1);
			assert_int_equal(in.len, 5);
			assert_string_equal(in.buf, "hello");
			frame_in_reset(&in);
			wholes++;
		} else if (i == sizeof(msg) - 2) {
			assert_int_equal(rc, 1);
			assert_int_equal(in.len, 0);
			frame_in_reset(&in);
			wholes++;
		} else
			assert_int_equal(rc, 0);
	}
	assert_int_equal(wholes, 2);
	/* Over the limit: refused once the length is in, before any body. */
	assert_int_equal(write(sp[0], "\0\0\1\0", 4), 4);
	assert_int_equal(frame_in_read(sp[1], &in, 16), -1);
	assert_int_equal(errno, EMSGSIZE);
	frame_in_reset(&in);
	/* The end of the stream: -1, errno 0; in the middle of a frame, EPIPE. */
	assert_int_equal(write(sp[0], "\0\0", 2), 2);
	close(sp[0]);
	assert_int_equal(frame_in_read(sp[1], &in, 16), -1);
	assert_int_equal(errno, EPIPE);
	frame_in_reset(&in);
	close(sp[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps),
		cmocka_unit_test(std_null),
		cmocka_unit_test(frame_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

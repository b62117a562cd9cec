/* test_smtpdata.c: the DATA codec.  A message written with smtpdata_put
 * in any slicing, through any output buffer size, and read back with
 * smtpdata_read, is the message (ended with a line end); dots that start
 * lines are stuffed on the wire and only there; reading stops at the
 * end-of-data line and leaves what follows (a pipelined command). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "smtp/smtpdata.h"

struct got {
	char	*p;
	size_t	 n, cap;
};

static void
sink(void *arg, const char *p, size_t n)
{
	struct got *g = arg;

	assert_true(g->n + n <= g->cap);
	memcpy(g->p + g->n, p, n);
	g->n += n;
}

/* A message of n bytes from a small alphabet where '.', CR and LF are
 * common, so lines that start with dots and bare line ends abound. */
static void
make(char *p, size_t n, unsigned seed)
{
	static const char abc[] = "..\r\n\nab.";
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = abc[(seed >> 16) % (sizeof(abc) - 1)];
	}
}

/* Write msg through a writer with a cap-byte buffer in slices of step,
 * then the wire bytes must read back as msg (+ CRLF when it did not end a
 * line). */
static void
round_trip(const char *msg, size_t n, size_t cap, size_t step)
{
	struct smtpdata_writer w;
	struct smtpio in, out;
	struct got g = { 0 };
	char *buf = malloc(cap);
	int sv[2];
	size_t off;

	assert_non_null(buf);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	smtpio_init(&out, sv[0], 5);
	smtpio_init(&in, sv[1], 5);
	smtpdata_begin(&w, &out, buf, cap);
	for (off = 0; off < n; off += step)
		assert_int_equal(smtpdata_put(&w, msg + off,
		    n - off < step ? n - off : step), 0);
	assert_int_equal(smtpdata_end(&w), 0);
	assert_int_equal(smtpio_write(&out, "QUIT\r\n", 6), SMTPIO_OK);
	g.cap = n + 2;
	g.p = malloc(g.cap);
	assert_non_null(g.p);
	assert_int_equal(smtpdata_read(&in, sink, &g), SMTPIO_OK);
	if (n == 0 || msg[n - 1] == '\n') {
		assert_int_equal(g.n, n);
	} else {
		assert_int_equal(g.n, n + 2);
		assert_memory_equal(g.p + n, "\r\n", 2);
	}
	assert_memory_equal(g.p, msg, n);
	/* What follows the end of data is left to be read as a command. */
	assert_int_equal(in.end - in.start, 6);
	assert_memory_equal(in.buf + in.start, "QUIT\r\n", 6);
	free(g.p);
	free(buf);
	close(sv[0]);
	close(sv[1]);
}

static void
test_round_trip(void **state)
{
	static const size_t caps[] = { 64, 65, 100, 4096 };
	static const size_t steps[] = { 1, 3, 64, 1000, 20000 };
	size_t n = 12000, c, k;
	unsigned seed;
	char *msg = malloc(n);

	(void)state;
	assert_non_null(msg);
	for (seed = 1; seed <= 8; seed++) {
		make(msg, n, seed);
		for (c = 0; c < 4; c++)
			for (k = 0; k < 5; k++)
				round_trip(msg, n - seed * 17, caps[c], steps[k]);
	}
	round_trip("", 0, 64, 1);
	round_trip(".", 1, 64, 1);
	round_trip(".\r\n", 3, 64, 1);
	free(msg);
}

/* The bytes on the wire for one message, and its end. */
static void
test_stuffing(void **state)
{
	static const char msg[] = ".a\r\nb\r\n..c\r\n.";
	static const char wire[] = "..a\r\nb\r\n...c\r\n..\r\n.\r\n";
	struct smtpdata_writer w;
	struct smtpio out;
	char buf[64], got[64];
	int sv[2];
	ssize_t r;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	smtpio_init(&out, sv[0], 5);
	smtpdata_begin(&w, &out, buf, sizeof(buf));
	assert_int_equal(smtpdata_put(&w, msg, sizeof(msg) - 1), 0);
	assert_int_equal(smtpdata_end(&w), 0);
	r = recv(sv[1], got, sizeof(got), 0);
	assert_int_equal(r, sizeof(wire) - 1);
	assert_memory_equal(got, wire, sizeof(wire) - 1);
	close(sv[0]);
	close(sv[1]);
}

/* A peer that leaves before the end of data: not a message. */
static void
test_cut(void **state)
{
	struct smtpio in;
	struct got g = { .cap = 64 };
	int sv[2];

	(void)state;
	g.p = malloc(g.cap);
	assert_non_null(g.p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(send(sv[0], "abc\r\n..\r\n", 9, 0), 9);
	close(sv[0]);
	smtpio_init(&in, sv[1], 5);
	assert_int_equal(smtpdata_read(&in, sink, &g), SMTPIO_EOF);
	close(sv[1]);
	free(g.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_stuffing),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

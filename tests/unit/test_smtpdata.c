/* test_smtpdata.c: the DATA codec.  A message written with smtpdata_put
 * in any slicing, through any output buffer size, and read back with
 * smtpdata_read, is the message (ended with CRLF); dots that start lines
 * (after CRLF) are stuffed on the wire and only there; only CRLF "." CRLF
 * ends the data, whatever bare CR or LF came before it, and reading
 * stops there, leaving what follows (a pipelined command); bare CR and LF
 * are kept and marked, or written as CRLF. */
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

/* A CR or LF in msg that is not part of a CRLF (a CR at the end is bare:
 * the writer's CRLF comes after it). */
static bool
has_bare(const char *msg, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')) ||
		    (msg[i] == '\r' && (i + 1 == n || msg[i + 1] != '\n')))
			return true;
	return false;
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
	bool bare;
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
	assert_int_equal(smtpdata_read(&in, SMTPDATA_BARE_REJECT, sink, &g,
	    &bare), SMTPIO_OK);
	assert_int_equal(bare, has_bare(msg, n));
	if (n == 0 || (n >= 2 && msg[n - 2] == '\r' && msg[n - 1] == '\n')) {
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
	round_trip("a\n.\n", 4, 64, 1);
	round_trip("a\r", 2, 64, 1);
	free(msg);
}

/* Read wire (the bytes after 354) in mode: the message must be want, with
 * bare as given, and "NEXT\r\n" must be left unread. */
static void
read_case(const char *wire, enum smtpdata_bare mode, const char *want,
    bool want_bare)
{
	struct smtpio in;
	struct got g = { .cap = 256 };
	size_t n = strlen(wire);
	bool bare;
	int sv[2];

	g.p = malloc(g.cap);
	assert_non_null(g.p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(send(sv[0], wire, n, 0), (ssize_t)n);
	assert_int_equal(send(sv[0], "NEXT\r\n", 6, 0), 6);
	smtpio_init(&in, sv[1], 5);
	assert_int_equal(smtpdata_read(&in, mode, sink, &g, &bare), SMTPIO_OK);
	assert_int_equal(g.n, strlen(want));
	assert_memory_equal(g.p, want, g.n);
	assert_int_equal(bare, want_bare);
	assert_int_equal(in.end - in.start, 6);
	assert_memory_equal(in.buf + in.start, "NEXT\r\n", 6);
	close(sv[0]);
	close(sv[1]);
	free(g.p);
}

/* The published end-of-data variants of SMTP smuggling: none ends the
 * data; the smuggled commands after them stay in the message. */
static void
test_smuggling(void **state)
{
	static const char *const ends[] = { "\n.\n", "\n.\r\n", "\r\n.\n",
	    "\r.\r\n", "\r\n.\r", "\r\n\0.\r\n" };
	static const char smuggled[] = "MAIL FROM:<ceo@bank.test>\r\n"
	    "RCPT TO:<b@y>\r\nDATA\r\nx\r\n";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		char wire[256], want[256];
		size_t elen = i == 5 ? 6 : strlen(ends[i]), n = 0, m = 0;
		bool bare = i != 5;

		/* wire: "a" END SMUGGLED ".\r\n"; the \0 variant is one
		 * byte longer than strlen says. */
		memcpy(wire, "a", 1);
		n = 1;
		memcpy(wire + n, ends[i], elen);
		n += elen;
		memcpy(wire + n, smuggled, sizeof(smuggled) - 1);
		n += sizeof(smuggled) - 1;
		memcpy(wire + n, ".\r\n", 3);
		n += 3;
		wire[n] = '\0';
		/* The message: all of it before the real end, unstuffed
		 * only after CRLF ("\r\n.\n", "\r\n.\r": the dot is
		 * stuffing). */
		memcpy(want, wire, n - 3);
		m = n - 3;
		if (i == 2 || i == 4) {
			memmove(want + 3, want + 4, m - 4);
			m--;
		}
		if (i == 5) {
			struct smtpio in;
			struct got g = { .cap = 256 };
			int sv[2];

			/* strlen stops at the NUL: sent by length here. */
			g.p = malloc(g.cap);
			assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0,
			    sv), 0);
			assert_int_equal(send(sv[0], wire, n, 0), (ssize_t)n);
			smtpio_init(&in, sv[1], 5);
			assert_int_equal(smtpdata_read(&in,
			    SMTPDATA_BARE_REJECT, sink, &g, &bare), SMTPIO_OK);
			assert_false(bare);
			assert_int_equal(g.n, m);
			assert_memory_equal(g.p, want, m);
			assert_int_equal(in.end, in.start);
			close(sv[0]);
			close(sv[1]);
			free(g.p);
			continue;
		}
		want[m] = '\0';
		read_case(wire, SMTPDATA_BARE_REJECT, want, bare);
	}
	/* "\r\n.\r" then more: the dot was stuffing, the CR bare. */
	read_case("a\r\n.\rb\r\n.\r\n", SMTPDATA_BARE_REJECT, "a\r\n\rb\r\n",
	    true);
}

static void
test_normalize(void **state)
{
	(void)state;
	read_case("a\nb\rc\r\n.\r\n", SMTPDATA_BARE_NORMALIZE,
	    "a\r\nb\r\nc\r\n", true);
	read_case("a\nb\rc\r\n.\r\n", SMTPDATA_BARE_REJECT, "a\nb\rc\r\n",
	    true);
	read_case("a\r\n..b\r\n\r\n.\r\n", SMTPDATA_BARE_NORMALIZE,
	    "a\r\n.b\r\n\r\n", false);
	read_case(".\r\n", SMTPDATA_BARE_REJECT, "", false);
	read_case("\r\r\n.\r\n", SMTPDATA_BARE_NORMALIZE, "\r\n\r\n", true);
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
	bool bare;
	int sv[2];

	(void)state;
	g.p = malloc(g.cap);
	assert_non_null(g.p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(send(sv[0], "abc\r\n..\r\n\n.\n", 12, 0), 12);
	close(sv[0]);
	smtpio_init(&in, sv[1], 5);
	assert_int_equal(smtpdata_read(&in, SMTPDATA_BARE_REJECT, sink, &g,
	    &bare), SMTPIO_EOF);
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
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

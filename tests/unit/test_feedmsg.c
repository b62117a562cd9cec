/* test_feedmsg.c: the feed process's reports as the root parent checks
 * them (feeds/feedmsg.h): good reports of each kind taken, every field
 * that could make the parent do something wrong refused; the parent's
 * limits on its waits for that process (daemon/child.c's stop,
 * base/frame.h's send by a deadline); a status file's impossible time
 * printed, not crashed on (observe/status.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
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
#include <unistd.h>
#include <cmocka.h>

#include "base/addr.h"
#include "base/clock.h"
#include "base/frame.h"
#include "daemon/child.h"
#include "feeds/feedmsg.h"
#include "observe/status.h"
#include "enforce/feedstore.h"
#include "policy/lexer.h"
#include "policy/load.h"

#define V4(a, b, c, d)	(V4_BASE | (u128)((uint32_t)(a) << 24 | \
	(uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d)))
#define GEN	7

static const struct feed_expect objs[] = {
	{ "drop", 0x1111, 1002, 1, 0 },		/* url, max 1000 */
	{ "cdn", 0x2222, 2 * 256, 2, 2 * 256 },	/* fqdn, two names */
	{ "eu", 0x3333, FEEDMSG_INTERVALS_MAX, 3, 0 },	/* country */
};

static struct feed_report
head(const char *name, uint64_t key)
{
	struct feed_report r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.gen = GEN;
	r.key = key;
	r.ok = 1;
	r.entries = 3;
	r.next = 1700000000;
	return r;
}

/* A raw frame: r, then n4 IPv4 pairs and n6 IPv6 pairs as given. */
static char *
raw(const struct feed_report *r, const uint32_t *v4, size_t n4,
    const u128 *v6, size_t n6, size_t *len)
{
	char *b;

	*len = sizeof(*r) + n4 * 8 + n6 * 32;
	b = malloc(*len);
	assert_non_null(b);
	memcpy(b, r, sizeof(*r));
	if (n4 > 0)
		memcpy(b + sizeof(*r), v4, n4 * 8);
	if (n6 > 0)
		memcpy(b + sizeof(*r) + n4 * 8, v6, n6 * 32);
	return b;
}

/* feedmsg_check of buf: its result, the reason in why. */
static int
check(const char *buf, size_t len, struct arena *a, struct feedmsg *m,
    char *why)
{
	char name[FEEDMSG_NAME];

	why[0] = '\0';
	return feedmsg_check(buf, len, GEN, objs, 3, a, m, name, why, 128);
}

static void
refused(const struct feed_report *r, const uint32_t *v4, size_t n4,
    const u128 *v6, size_t n6, const char *want)
{
	struct arena a;
	struct feedmsg m;
	char why[128];
	size_t len;
	char *b = raw(r, v4, n4, v6, n6, &len);

	arena_init(&a);
	assert_int_equal(check(b, len, &a, &m, why), -1);
	assert_string_equal(why, want);
	arena_free(&a);
	free(b);
}

/* Each kind's good report, through the child's encoder. */
static void
good_reports(void **state)
{
	struct arena a;
	struct feedmsg m;
	struct ival v[3] = {
		{ V4(10, 0, 0, 0), V4(10, 255, 255, 255) },
		{ V4(192, 0, 2, 1), V4(192, 0, 2, 1) },
		{ (u128)0x20010db8 << 96, ((u128)0x20010db8 << 96) | 0xffff },
	};
	struct feed_report r;
	struct iset s;
	char why[128], *b;
	size_t len;

	(void)state;
	arena_init(&a);
	s = iset_from(&a, v, 3);
	r = head("drop", 0x1111);
	assert_non_null(b = feedmsg_encode(&r, s, &len));
	assert_int_equal(r.n4, 2);
	assert_int_equal(r.n6, 1);
	assert_int_equal(check(b, len, &a, &m, why), 1);
	assert_int_equal(m.obj, 0);
	assert_true(m.ok);
	assert_true(iset_equal(m.s, s));
	assert_int_equal(m.n4, 2);
	assert_int_equal(m.n6, 1);
	free(b);

	/* an error report: no intervals, the error made printable */
	r = head("cdn", 0x2222);
	r.ok = 0;
	r.failing = 2;
	snprintf(r.error, sizeof(r.error), "a.example: SERVFAIL\n\033[2J");
	assert_non_null(b = feedmsg_encode(&r, s, &len));
	assert_int_equal(len, sizeof(r));
	assert_int_equal(check(b, len, &a, &m, why), 1);
	assert_int_equal(m.obj, 1);
	assert_false(m.ok);
	assert_int_equal(m.failing, 2);
	assert_string_equal(m.error, "a.example: SERVFAIL??[2J");
	free(b);

	/* an empty set is a set */
	r = head("eu", 0x3333);
	s.n = 0;
	assert_non_null(b = feedmsg_encode(&r, s, &len));
	assert_int_equal(check(b, len, &a, &m, why), 1);
	assert_int_equal(m.obj, 2);
	assert_int_equal(m.s.n, 0);
	free(b);

	/* another generation: ignored, not refused */
	r = head("eu", 0x3333);
	r.gen = GEN + 1;
	assert_non_null(b = feedmsg_encode(&r, s, &len));
	assert_int_equal(check(b, len, &a, &m, why), 0);
	free(b);
	arena_free(&a);
}

/* A set across the IPv4 block's edges (iset joins the IPv6 neighbour
 * and 0.0.0.0) goes as its pieces, each of its family, and comes back
 * whole. */
static void
across_the_edges(void **state)
{
	struct arena a;
	struct feedmsg m;
	struct ival v = { V4_BASE - 16, V4_LAST + 16 };
	struct feed_report r = head("drop", 0x1111);
	struct iset s;
	char why[128], *b;
	size_t len;

	(void)state;
	arena_init(&a);
	s = iset_from(&a, &v, 1);
	assert_non_null(b = feedmsg_encode(&r, s, &len));
	assert_int_equal(r.n4, 1);
	assert_int_equal(r.n6, 2);
	assert_int_equal(check(b, len, &a, &m, why), 1);
	assert_true(iset_equal(m.s, s));
	assert_int_equal(m.n4, 1);
	assert_int_equal(m.n6, 2);
	free(b);
	arena_free(&a);
}

/* Fields the parent must not take as they come. */
static void
bad_heads(void **state)
{
	struct arena a;
	struct feedmsg m;
	struct feed_report r;
	char why[128], name[FEEDMSG_NAME], want[64];
	size_t len;
	char *b;

	(void)state;
	/* shorter than a report */
	r = head("drop", 0x1111);
	arena_init(&a);
	assert_int_equal(check((char *)&r, sizeof(r) - 1, &a, &m, why), -1);
	snprintf(want, sizeof(want), "a report of %zu bytes", sizeof(r) - 1);
	assert_string_equal(why, want);
	arena_free(&a);

	/* names: not of the config, another definition, a path, no NUL */
	r = head("nosuch", 0x1111);
	refused(&r, NULL, 0, NULL, 0, "an object of no config in force");
	r = head("drop", 0x2222);
	refused(&r, NULL, 0, NULL, 0, "an object of no config in force");
	r = head("../../etc/passwd", 0x1111);
	refused(&r, NULL, 0, NULL, 0, "an object of no config in force");
	r = head("drop", 0x1111);
	memset(r.name, 'x', sizeof(r.name));
	refused(&r, NULL, 0, NULL, 0, "a name without its end");
	/* the name said in the log is made printable */
	r = head("dr\nop", 0x1111);
	b = raw(&r, NULL, 0, NULL, 0, &len);
	arena_init(&a);
	assert_int_equal(feedmsg_check(b, len, GEN, objs, 3, &a, &m, name,
	    why, sizeof(why)), -1);
	assert_string_equal(name, "dr?op");
	arena_free(&a);
	free(b);

	/* ok neither 0 nor 1; an error with contents; more failing names
	 * than the object has */
	r = head("drop", 0x1111);
	r.ok = 2;
	refused(&r, NULL, 0, NULL, 0, "a malformed report");
	r = head("drop", 0x1111);
	r.ok = 0;
	r.n4 = 1;
	refused(&r, (uint32_t[]){ 1, 2 }, 1, NULL, 0, "a malformed report");
	r = head("cdn", 0x2222);
	r.failing = 3;
	refused(&r, NULL, 0, NULL, 0, "a malformed report");

	/* an error that does not end */
	r = head("drop", 0x1111);
	memset(r.error, 'e', sizeof(r.error));
	refused(&r, NULL, 0, NULL, 0, "an error without its end");

	/* times no reader can print, counts that turn negative in JSON */
	r = head("drop", 0x1111);
	r.next = INT64_MAX;
	refused(&r, NULL, 0, NULL, 0, "a time or a count out of range");
	r.next = -1;
	refused(&r, NULL, 0, NULL, 0, "a time or a count out of range");
	r = head("drop", 0x1111);
	r.entries = UINT64_MAX;
	refused(&r, NULL, 0, NULL, 0, "a time or a count out of range");
}

/* Sizes: over the object's max, lengths that are not the contents',
 * counts whose product wraps. */
static void
bad_sizes(void **state)
{
	struct feed_report r;
	uint32_t *v4 = calloc(2 * 1003, sizeof(uint32_t));
	size_t i;

	(void)state;
	assert_non_null(v4);
	for (i = 0; i < 1003; i++) {
		v4[2 * i] = (uint32_t)(2 * i);
		v4[2 * i + 1] = (uint32_t)(2 * i);
	}
	/* the url's max (1000 entries, 1002 pieces) */
	r = head("drop", 0x1111);
	r.n4 = 1003;
	refused(&r, v4, 1003, NULL, 0, "more networks than the object's max");
	r.n4 = 1002;
	{
		struct arena a;
		struct feedmsg m;
		char why[128], *b;
		size_t len;

		b = raw(&r, v4, 1002, NULL, 0, &len);
		arena_init(&a);
		assert_int_equal(check(b, len, &a, &m, why), 1);
		assert_int_equal(m.n4, 1002);
		/* one byte more, one byte less */
		assert_int_equal(check(b, len - 1, &a, &m, why), -1);
		assert_string_equal(why, "a length that is not its contents'");
		arena_free(&a);
		free(b);
	}
	r.n4 = 1001;
	refused(&r, v4, 1002, NULL, 0, "a length that is not its contents'");
	/* both families within the max alone, over it together */
	r = head("cdn", 0x2222);
	r.n4 = 300;
	r.n6 = 300;
	refused(&r, NULL, 0, NULL, 0, "more networks than the object's max");
	/* counts whose length wraps around 2^64 */
	r = head("eu", 0x3333);
	r.n4 = (uint64_t)1 << 61;
	refused(&r, NULL, 0, NULL, 0, "more networks than the object's max");
	{
		static const struct feed_expect huge[] = {
			{ "eu", 0x3333, UINT64_MAX, 3, 0 } };
		struct arena a;
		struct feedmsg m;
		char why[128], name[FEEDMSG_NAME];

		arena_init(&a);
		assert_int_equal(feedmsg_check((char *)&r, sizeof(r), GEN, huge,
		    1, &a, &m, name, why, sizeof(why)), -1);
		assert_string_equal(why, "a length that is not its contents'");
		r.n4 = 0;
		r.n6 = ((uint64_t)1 << 59);
		assert_int_equal(feedmsg_check((char *)&r, sizeof(r), GEN, huge,
		    1, &a, &m, name, why, sizeof(why)), -1);
		assert_string_equal(why, "a length that is not its contents'");
		arena_free(&a);
	}
	free(v4);
}

/* Intervals backwards, or out of their family. */
static void
bad_intervals(void **state)
{
	struct feed_report r = head("drop", 0x1111);
	u128 v6[2];

	(void)state;
	r.n4 = 1;
	refused(&r, (uint32_t[]){ 5, 4 }, 1, NULL, 0,
	    "an IPv4 interval backwards");
	r.n4 = 0;
	r.n6 = 1;
	v6[0] = (u128)2 << 120;
	v6[1] = (u128)1 << 120;
	refused(&r, NULL, 0, v6, 1, "an IPv6 interval backwards");
	/* an "IPv6" interval inside the IPv4 block, or across an edge:
	 * the counts per family would lie, and the max with them */
	v6[0] = V4(10, 0, 0, 0);
	v6[1] = V4(10, 0, 0, 255);
	refused(&r, NULL, 0, v6, 1, "an IPv6 interval in the IPv4 block");
	v6[0] = 0;
	v6[1] = U128_MAX;
	refused(&r, NULL, 0, v6, 1, "an IPv6 interval in the IPv4 block");
	v6[0] = V4_LAST;
	v6[1] = V4_LAST + 1;
	refused(&r, NULL, 0, v6, 1, "an IPv6 interval in the IPv4 block");
}

/* An fqdn object's report holds its names' addresses, no networks: a
 * feed process taken over cannot make one host name ANY. */
static void
fqdn_addresses_bounded(void **state)
{
	struct feed_report r = head("cdn", 0x2222);
	struct arena a;
	struct feedmsg m;
	char why[128];
	uint32_t v4[4] = { 0, 0xffffffffu, 0, 0 };
	u128 v6[2] = { 0, ~(u128)0 };
	size_t len;
	char *b;

	(void)state;
	r.n4 = 1;
	refused(&r, v4, 1, NULL, 0, "more addresses than the object's "
	    "names can have");
	r.n4 = 0;
	r.n6 = 1;
	v6[0] = (u128)0x20010db8u << 96;
	v6[1] = v6[0] + 511;
	b = raw(&r, NULL, 0, v6, 1, &len);	/* 512: as many as it may */
	arena_init(&a);
	assert_int_equal(check(b, len, &a, &m, why), 1);
	arena_free(&a);
	free(b);
	v6[1] = v6[0] + 512;
	refused(&r, NULL, 0, v6, 1, "more addresses than the object's names "
	    "can have");
	/* in all, not one interval at a time */
	r.n6 = 0;
	r.n4 = 2;
	v4[0] = 0x0a000000u;
	v4[1] = 0x0a0000ffu;	/* 256 */
	v4[2] = 0x0b000000u;
	v4[3] = 0x0b000100u;	/* 257 */
	refused(&r, v4, 2, NULL, 0, "more addresses than the object's names "
	    "can have");
	v4[3] = 0x0b0000ffu;	/* 256: 512 in all */
	b = raw(&r, v4, 2, NULL, 0, &len);
	arena_init(&a);
	assert_int_equal(check(b, len, &a, &m, why), 1);
	arena_free(&a);
	free(b);
}

static void
frame_max(void **state)
{
	static const struct feed_expect small[] = { { "a", 1, 10, 1, 0 },
	    { "b", 2, 100, 1, 0 } };

	(void)state;
	assert_int_equal(feedmsg_frame_max(small, 2),
	    sizeof(struct feed_report) + 100 * 32);
	assert_int_equal(feedmsg_frame_max(objs, 3), FRAME_MAX);
	assert_int_equal(feedmsg_frame_max(NULL, 0),
	    sizeof(struct feed_report));
}

/* A child that ignores SIGTERM is killed, not waited for without end. */
static void
stop_bounded(void **state)
{
	struct child c = CHILD_INIT("test", "test");
	long long t0;
	pid_t pid;

	(void)state;
	if ((pid = child_fork(&c, NULL, 0)) == 0) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	usleep(50000);
	t0 = clock_ms();
	child_stop_within(&c, 300);
	assert_int_equal(c.pid, -1);
	assert_true(clock_ms() - t0 < 3000);
	assert_int_equal(kill(pid, 0), -1);
}

static volatile sig_atomic_t reader_stop;

static void *
slow_reader(void *arg)
{
	int fd = *(int *)arg;
	char ch;

	/* a byte every 20 ms until the test is done */
	while (!reader_stop && read(fd, &ch, 1) == 1)
		usleep(20000);
	return NULL;
}

/* A peer that reads a byte at a time does not hold the sender past its
 * deadline (SO_SNDTIMEO would: each write moves a little). */
static void
send_by_deadline(void **state)
{
	size_t big = 4u << 20;
	char *msg = calloc(1, big), *got;
	int sp[2], buf = 4096;
	pthread_t t;
	long long t0;
	uint32_t id;
	size_t len;

	(void)state;
	assert_non_null(msg);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	assert_int_equal(pthread_create(&t, NULL, slow_reader, &sp[1]), 0);
	t0 = clock_ms();
	assert_int_equal(frame_send_id_by(sp[0], 1, msg, big,
	    clock_ms() + 300), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(clock_ms() - t0 < 3000);
	reader_stop = 1;
	pthread_join(t, NULL);
	close(sp[0]);
	close(sp[1]);

	/* one that reads: the frame whole */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	memcpy(msg, "config", 6);
	assert_int_equal(frame_send_id_by(sp[0], 9, msg, 6,
	    clock_ms() + 1000), 0);
	assert_non_null(got = frame_recv_id(sp[1], 100, &id, &len));
	assert_int_equal(id, 9);
	assert_int_equal(len, 6);
	assert_memory_equal(got, "config", 6);
	free(got);
	close(sp[0]);
	close(sp[1]);
	free(msg);
}

/* Bytes a trickler writes, one every 50 ms, until told to stop. */
static volatile int trickle_stop;

static void *
trickler(void *arg)
{
	int fd = *(int *)arg;

	while (!trickle_stop) {
		if (write(fd, "x", 1) != 1)
			break;
		usleep(50000);
	}
	return NULL;
}

/* frame_recv_id_by: a frame that stops halfway, or comes a byte at a
 * time for ever, ends at the deadline (the parent's read of its
 * console); a whole one is read. */
static void
recv_by_deadline(void **state)
{
	uint32_t head[2] = { htonl(1000), htonl(7) }, id;
	long long t0;
	size_t len;
	char *got;
	pthread_t t;
	int sp[2];

	(void)state;
	/* half a frame, then nothing */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(write(sp[0], head, sizeof(head)), sizeof(head));
	assert_int_equal(write(sp[0], "{\"op\"", 6), 6);
	t0 = clock_ms();
	assert_null(frame_recv_id_by(sp[1], 4096, &id, &len, clock_ms() +
	    300));
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(clock_ms() - t0 >= 250 && clock_ms() - t0 < 3000);
	close(sp[0]);
	close(sp[1]);

	/* a byte every 50 ms: each read returns, the frame never ends */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(write(sp[0], head, sizeof(head)), sizeof(head));
	trickle_stop = 0;
	assert_int_equal(pthread_create(&t, NULL, trickler, &sp[0]), 0);
	t0 = clock_ms();
	assert_null(frame_recv_id_by(sp[1], 4096, &id, &len, clock_ms() +
	    400));
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(clock_ms() - t0 < 3000);
	trickle_stop = 1;
	pthread_join(t, NULL);
	close(sp[0]);
	close(sp[1]);

	/* a whole frame, in time */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(frame_send_id(sp[0], 5, "status", 6), 0);
	assert_non_null(got = frame_recv_id_by(sp[1], 100, &id, &len,
	    clock_ms() + 1000));
	assert_int_equal(id, 5);
	assert_int_equal(len, 6);
	assert_memory_equal(got, "status", 6);
	free(got);
	close(sp[0]);
	close(sp[1]);
}

/* moat objects with a next refresh no calendar holds: said, not a
 * crash in localtime's NULL. */
static void
status_impossible_time(void **state)
{
	struct gw_status st;
	struct strbuf b;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.feeds = json_loads("{\"objects\": [{\"name\": \"drop\", \"kind\": "
	    "\"url\", \"source\": \"https://x/\", \"v4\": 1, \"v6\": 0, "
	    "\"entries\": 1, \"result\": \"ok\", \"failing\": 0, "
	    "\"last_refresh\": 1700000000, \"next_refresh\": "
	    "9223372036854775807, \"error\": null, \"error_time\": null}]}",
	    0, NULL);
	assert_non_null(st.feeds);
	strbuf_init(&b, 0);
	assert_int_equal(status_feeds_text(&st, NULL, &b), 0);
	assert_non_null(strstr(strbuf_str(&b),
	    "next refresh: ? (9223372036854775807)"));
	strbuf_free(&b);
	json_decref(st.feeds);
}

/* The config the feed process gets: the HA secret blanked, nothing else
 * changed (an object named secret, a comment, positions). */
static void
secret_blanked(void **state)
{
	static const char conf[] =
	    "interface LAN device eth1 address 192.168.50.2/24\n"
	    "interface WAN device eth0 address 198.51.100.2/24\n"
	    "interface SYNC device eth2 address 10.99.0.1/24\n"
	    "object secret fqdn backup.example.net # secret here stays\n"
	    "accept on LAN from LANNET to secret service SSH\n"
	    "ha {\n"
	    "    peer 10.99.0.2\n"
	    "    sync-interface SYNC\n"
	    "    vip LAN 192.168.50.1/24\n"
	    "    secret \"shared \\\\secret\"   # the pair's\n"
	    "}\n";
	char text[sizeof(conf)];
	struct policy *p, *q;

	(void)state;
	memcpy(text, conf, sizeof(conf));
	lexer_blank_secrets(text, sizeof(conf) - 1);
	assert_null(strstr(text, "shared"));
	assert_non_null(strstr(text,
	    "    secret \"xxxxxxxxxxxxxxx\"   # the pair's\n"));
	assert_non_null(strstr(text, "object secret fqdn backup.example.net "
	    "# secret here stays\n"));
	assert_int_equal(strlen(text), sizeof(conf) - 1);
	p = policy_parse("moat.conf", conf, sizeof(conf) - 1);
	q = policy_parse("moat.conf", text, sizeof(conf) - 1);
	assert_non_null(p);
	assert_non_null(q);
	assert_true(policy_valid(p));
	assert_true(policy_valid(q));
	assert_string_equal(p->ha.secret, "shared \\secret");
	assert_string_equal(q->ha.secret, "xxxxxxxxxxxxxxx");
	assert_non_null(policy_object(q, "secret"));
	assert_int_equal(feedstore_key(policy_object(p, "secret")),
	    feedstore_key(policy_object(q, "secret")));
	policy_free(p);
	policy_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_reports),
		cmocka_unit_test(across_the_edges),
		cmocka_unit_test(bad_heads),
		cmocka_unit_test(bad_sizes),
		cmocka_unit_test(bad_intervals),
		cmocka_unit_test(frame_max),
		cmocka_unit_test(stop_bounded),
		cmocka_unit_test(send_by_deadline),
		cmocka_unit_test(recv_by_deadline),
		cmocka_unit_test(status_impossible_time),
		cmocka_unit_test(secret_blanked),
		cmocka_unit_test(fqdn_addresses_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

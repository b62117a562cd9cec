/* test_ha.c: an HA pair's pieces without the engines running: the
 * keepalived and conntrackd configs written from an ha block, keepalived's
 * notify lines, the sync link's signed messages (the right secret, a
 * wrong one, a forged byte, a replay), the policy hash two nodes compare,
 * and a pushed config made the receiving node's own. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/frame.h"
#include "ha/engines.h"
#include "ha/peer.h"
#include "ha/syncd.h"
#include "output/printer.h"
#include "policy/load.h"

static const char gwa[] =
    "interface LAN device eth1 address 192.168.50.2/24\n"
    "interface WAN device eth0 address 198.51.100.2/24 "
    "address 2001:db8:51::2/64\n"
    "interface SYNC device eth2 address 10.99.0.1/24\n"
    "accept on LAN from 192.168.50.10 to ANY service SMTP\n"
    "deny on LAN from ANY to ANY service SMTP\n"
    "nat masquerade on WAN\n"
    "ha {\n"
    "    peer 10.99.0.2\n"
    "    sync-interface SYNC\n"
    "    vip LAN 192.168.50.1/24\n"
    "    vip WAN 198.51.100.1/24\n"
    "    vip WAN 2001:db8:51::1/64\n"
    "    priority 150\n"
    "    secret \"shared secret\"\n"
    "}\n";

/* The other node: its own addresses, its own ha block. */
static const char gwb[] =
    "interface LAN device eth1 address 192.168.50.3/24\n"
    "interface WAN device eth0 address 198.51.100.3/24 "
    "address 2001:db8:51::3/64\n"
    "interface SYNC device eth2 address 10.99.0.2/24\n"
    "accept on LAN from 192.168.50.10 to ANY service SMTP\n"
    "deny on LAN from ANY to ANY service SMTP\n"
    "nat masquerade on WAN\n"
    "ha {\n"
    "    peer 10.99.0.1\n"
    "    sync-interface SYNC\n"
    "    vip LAN 192.168.50.1/24\n"
    "    vip WAN 198.51.100.1/24\n"
    "    vip WAN 2001:db8:51::1/64\n"
    "    priority 100\n"
    "    secret \"shared secret\"\n"
    "}\n";

static struct policy *
load(const char *text)
{
	struct policy *p = policy_parse("test.conf", text, strlen(text));

	assert_non_null(p);
	if (!policy_valid(p))
		diags_print(&p->diags, stderr);
	assert_true(policy_valid(p));
	return p;
}

static void
keepalived_conf(void **state)
{
	struct policy *p = load(gwa);
	struct ha_files f;
	struct strbuf b;
	const char *s;

	(void)state;
	ha_files_init(&f, "/var/lib/moat/ha");
	strbuf_init(&b, 0);
	ha_keepalived_conf(p, &f, &b);
	s = strbuf_str(&b);
	assert_non_null(strstr(s, "notify_fifo /var/lib/moat/ha/notify.fifo"));
	assert_non_null(strstr(s, "vrrp_sync_group MOAT {\n    group {\n"
	    "        LAN\n        WAN\n    }\n}"));
	/* One instance per interface with a VIP, ids from 51. */
	assert_non_null(strstr(s, "vrrp_instance LAN {\n    state BACKUP\n"
	    "    interface eth2\n    dont_track_primary\n"
	    "    virtual_router_id 51\n    priority 150\n"
	    "    advert_int 0.50\n"));
	assert_non_null(strstr(s, "vrrp_instance WAN {"));
	assert_non_null(strstr(s, "virtual_router_id 52"));
	assert_null(strstr(s, "vrrp_instance SYNC"));
	assert_non_null(strstr(s, "unicast_src_ip 10.99.0.1\n    unicast_peer "
	    "{\n        10.99.0.2\n    }"));
	assert_non_null(strstr(s, "track_interface {\n        eth0\n    }"));
	assert_non_null(strstr(s, "192.168.50.1/24 dev eth1"));
	/* The IPv6 VIP moves with the IPv4 ones, outside the adverts. */
	assert_non_null(strstr(s, "virtual_ipaddress_excluded {\n"
	    "        2001:db8:51::1/64 dev eth0\n"));
	strbuf_free(&b);
	policy_free(p);
}

static void
conntrackd_conf(void **state)
{
	struct policy *p = load(gwa);
	struct ha_files f;
	struct strbuf b;
	const char *s, *ignore;

	(void)state;
	ha_files_init(&f, "/tmp/n1/ha");
	strbuf_init(&b, 0);
	ha_conntrackd_conf(p, &f, &b);
	s = strbuf_str(&b);
	assert_non_null(strstr(s, "Mode FTFW {"));
	assert_non_null(strstr(s, "IPv4_address 10.99.0.1\n"
	    "\t\tIPv4_Destination_Address 10.99.0.2\n\t\tPort 3780\n"
	    "\t\tInterface eth2\n"));
	assert_non_null(strstr(s, "LockFile /tmp/n1/ha/conntrackd.lock"));
	assert_non_null(strstr(s, "Path /tmp/n1/ha/conntrackd.ctl"));
	ignore = strstr(s, "Address Ignore {");
	assert_non_null(ignore);
	/* Connections to the gateway itself are not synced; through it
	 * (192.168.50.10 to anywhere) they are. */
	assert_non_null(strstr(ignore, "IPv4_address 192.168.50.1\n"));
	assert_non_null(strstr(ignore, "IPv4_address 192.168.50.2\n"));
	assert_non_null(strstr(ignore, "IPv6_address 2001:db8:51::1\n"));
	assert_null(strstr(ignore, "192.168.50.10"));
	strbuf_free(&b);
	policy_free(p);
}

static void
notify_lines(void **state)
{
	(void)state;
	assert_int_equal(ha_notify_line("GROUP \"MOAT\" MASTER 0"), HA_MASTER);
	assert_int_equal(ha_notify_line("GROUP \"MOAT\" BACKUP 0\n"),
	    HA_BACKUP);
	assert_int_equal(ha_notify_line("GROUP \"MOAT\" FAULT 0"), HA_FAULT);
	assert_int_equal(ha_notify_line("INSTANCE \"LAN\" MASTER 150"),
	    HA_UNKNOWN);
	assert_int_equal(ha_notify_line("GROUP \"OTHER\" MASTER 0"),
	    HA_UNKNOWN);
	assert_int_equal(ha_notify_line("GROUP \"MOAT"), HA_UNKNOWN);
	assert_int_equal(ha_notify_line(""), HA_UNKNOWN);
}

/* ---- the sync link's messages ------------------------------------------ */

/* The sync link's server (ha/syncd.c) in a thread, on a loopback
 * listener, and a thread standing for moatd's parent on its channel: it
 * answers each request with its id, and keeps what it got. */
struct server {
	int		 listen_fd, ctl[2];
	unsigned short	 port;
	const char	*secret;
	pthread_t	 serve, parent;
	int		 nreq;
	char		 op[32], text[64];
};

static void *
serve(void *arg)
{
	struct server *sv = arg;

	syncd_run(sv->listen_fd, sv->ctl[1], sv->secret);
	return NULL;
}

static void *
parent(void *arg)
{
	struct server *sv = arg;
	size_t len;
	char *msg, *s;
	json_t *r, *a;

	while ((msg = frame_recv(sv->ctl[0], SYNCD_CTL_MAX, &len)) != NULL) {
		r = json_loadb(msg, len, 0, NULL);
		free(msg);
		sv->nreq++;
		snprintf(sv->op, sizeof(sv->op), "%s",
		    json_string_value(json_object_get(r, "op")));
		snprintf(sv->text, sizeof(sv->text), "%s",
		    json_string_value(json_object_get(r, "text")) != NULL ?
		    json_string_value(json_object_get(r, "text")) : "");
		a = json_pack("{s:O, s:i, s:s}", "id", json_object_get(r, "id"),
		    "status", 200, "hash", "0123");
		s = json_dumps(a, JSON_COMPACT);
		frame_send(sv->ctl[0], s, strlen(s));
		free(s);
		json_decref(a);
		json_decref(r);
	}
	return NULL;
}

static void
server_start(struct server *sv, const char *secret)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(in);

	memset(sv, 0, sizeof(*sv));
	sv->secret = secret;
	sv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(sv->listen_fd != -1);
	assert_int_equal(bind(sv->listen_fd, (struct sockaddr *)&in,
	    sizeof(in)), 0);
	assert_int_equal(listen(sv->listen_fd, 64), 0);
	assert_int_equal(getsockname(sv->listen_fd, (struct sockaddr *)&in,
	    &sl), 0);
	sv->port = ntohs(in.sin_port);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv->ctl), 0);
	assert_int_equal(pthread_create(&sv->serve, NULL, serve, sv), 0);
	assert_int_equal(pthread_create(&sv->parent, NULL, parent, sv), 0);
}

/* The parent's channel closed: the server ends. */
static void
server_stop(struct server *sv)
{
	shutdown(sv->ctl[0], SHUT_RDWR);
	pthread_join(sv->serve, NULL);
	pthread_join(sv->parent, NULL);
	close(sv->ctl[0]);
	close(sv->ctl[1]);
	close(sv->listen_fd);
}

static int
dial_server(const struct server *sv)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
	    .sin_port = htons(sv->port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	return fd;
}

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One exchange with the server: 0 or -1, *ans as peer_exchange's. */
static int
ask(struct server *sv, const char *secret, json_t *req, json_t **ans,
    struct strbuf *err)
{
	int fd = dial_server(sv), rc;

	rc = peer_exchange(fd, secret, req, 2000, ans, err);
	close(fd);
	json_decref(req);
	return rc;
}

static void
signed_messages(void **state)
{
	struct server sv;
	struct strbuf err;
	json_t *ans;

	(void)state;
	strbuf_init(&err, 0);
	server_start(&sv, "shared secret");
	assert_int_equal(ask(&sv, "shared secret", json_pack("{s:s}", "op",
	    "hello"), &ans, &err), 0);
	assert_string_equal(sv.op, "hello");
	assert_int_equal(json_integer_value(json_object_get(ans, "status")),
	    200);
	assert_null(json_object_get(ans, "id"));	/* ours, not the peer's */
	json_decref(ans);

	/* A push: its text goes as the body, and reaches the parent. */
	assert_int_equal(ask(&sv, "shared secret", json_pack("{s:s, s:s}",
	    "op", "push", "text", "deny on LAN\n"), &ans, &err), 0);
	assert_string_equal(sv.op, "push");
	assert_string_equal(sv.text, "deny on LAN\n");
	json_decref(ans);

	/* Another secret: refused before the parent hears of it. */
	assert_int_equal(ask(&sv, "not the secret", json_pack("{s:s}", "op",
	    "hello"), &ans, &err), -1);
	assert_null(ans);
	assert_int_equal(sv.nreq, 2);
	server_stop(&sv);
	strbuf_free(&err);
}

/* After a greeting, the client sends frames of its own making. */
static int
greeted(struct server *sv, char nonce[65])
{
	int fd = dial_server(sv);
	size_t len;
	char *g = frame_recv(fd, 1024, &len);
	json_t *o;

	assert_non_null(g);
	o = json_loads(g, 0, NULL);
	snprintf(nonce, 65, "%s", json_string_value(json_object_get(o,
	    "nonce")));
	json_decref(o);
	free(g);
	return fd;
}

/* The connection ends (the server closed it) within ms: true. */
static bool
closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[64];

	while (poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, b, sizeof(b));

		if (r <= 0)
			return true;
	}
	return false;
}

/* A client message with a made-up signature, and one signed for another
 * greeting (a replay): refused, the parent never sees them. */
static void
replay_refused(void **state)
{
	char body[] = "{\"op\":\"push\",\"body\":0,\"nonce\":\""
	    "0000000000000000000000000000000000000000000000000000000000000000\""
	    ",\"sha256\":\""
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}";
	char nonce[65], msg[65 + sizeof(body)];
	struct server sv;
	int fd;

	(void)state;
	server_start(&sv, "shared secret");
	fd = greeted(&sv, nonce);
	memset(msg, 'a', 64);
	msg[64] = '\n';
	memcpy(msg + 65, body, sizeof(body) - 1);
	assert_int_equal(frame_send(fd, msg, 65 + sizeof(body) - 1), 0);
	assert_true(closed_within(fd, 1000));
	close(fd);
	assert_int_equal(sv.nreq, 0);
	server_stop(&sv);
}

/* issue 21: a client that announces a big frame, or trickles a small one,
 * or many that say nothing, keep neither the server nor a real peer
 * waiting. */
static void
slow_clients(void **state)
{
	struct server sv;
	struct strbuf err;
	json_t *ans;
	char nonce[65];
	uint32_t n;
	int big, slow, silent[2 * SYNCD_CONNS], i;
	long long t0, took;

	(void)state;
	strbuf_init(&err, 0);
	server_start(&sv, "shared secret");
	/* 1 MB announced before the signature: cut at once. */
	big = greeted(&sv, nonce);
	n = htonl(1u << 20);
	assert_int_equal(write(big, &n, sizeof(n)), (ssize_t)sizeof(n));
	assert_int_equal(write(big, "a", 1), 1);
	assert_true(closed_within(big, 500));
	close(big);
	/* Silent connections fill every place and more (the oldest give
	 * theirs up), */
	for (i = 0; i < 2 * SYNCD_CONNS; i++)
		silent[i] = dial_server(&sv);
	/* a head under the limit comes a byte at a time: its whole-message
	 * deadline (not a per-read one) cuts it; */
	slow = greeted(&sv, nonce);
	t0 = ms_now();
	n = htonl(PEER_HEAD_MAX);
	assert_int_equal(write(slow, &n, sizeof(n)), (ssize_t)sizeof(n));
	/* and a real peer's hello still gets through, fast. */
	took = ms_now();
	assert_int_equal(ask(&sv, "shared secret", json_pack("{s:s}", "op",
	    "hello"), &ans, &err), 0);
	took = ms_now() - took;
	json_decref(ans);
	assert_true(took < 500);
	for (i = 0; ; i++) {
		struct pollfd p = { .fd = slow, .events = POLLIN };

		if (poll(&p, 1, 200) == 1)
			break;		/* closed */
		assert_true(i < 30);
		assert_int_equal(write(slow, "a", 1), 1);
	}
	took = ms_now() - t0;
	assert_true(took >= PEER_TIMEOUT_MS - 300 &&
	    took < PEER_TIMEOUT_MS + 1000);
	close(slow);
	for (i = 0; i < 2 * SYNCD_CONNS; i++)
		close(silent[i]);
	assert_int_equal(sv.nreq, 1);
	server_stop(&sv);
	strbuf_free(&err);
}

/* A body that is not the one the signed head announced: refused. */
static void
body_checked(void **state)
{
	struct server sv;
	struct strbuf head;
	char nonce[65], *body;
	json_t *h;
	int fd;

	(void)state;
	server_start(&sv, "shared secret");
	fd = greeted(&sv, nonce);
	/* Signed as peer.c does, with the digest of "abc", and "abd" sent. */
	h = json_pack("{s:s, s:s, s:i, s:s, s:s}", "op", "push", "nonce",
	    "1111111111111111111111111111111111111111111111111111111111111111",
	    "body", 3, "sha256",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "to", "127.0.0.1");
	strbuf_init(&head, 0);
	assert_int_equal(peer_answer("shared secret", nonce, "127.0.0.1", h,
	    &head), 0);
	assert_int_equal(frame_send(fd, strbuf_str(&head), head.len), 0);
	assert_int_equal(frame_send(fd, "abd", 3), 0);
	assert_true(closed_within(fd, 1000));
	assert_int_equal(sv.nreq, 0);
	close(fd);
	/* The right body: through. */
	fd = greeted(&sv, nonce);
	strbuf_reset(&head);
	assert_int_equal(peer_answer("shared secret", nonce, "127.0.0.1", h,
	    &head), 0);
	assert_int_equal(frame_send(fd, strbuf_str(&head), head.len), 0);
	assert_int_equal(frame_send(fd, "abc", 3), 0);
	body = frame_recv(fd, 1024, &(size_t){ 0 });
	assert_non_null(body);
	assert_string_equal(sv.text, "abc");
	free(body);
	close(fd);
	json_decref(h);
	strbuf_free(&head);
	server_stop(&sv);
}

/* A node's own messages passed back to it by someone on the link (a
 * review, 2026-12-07: its client dialed "the peer", whose address the
 * attacker held, and its own server verified its request): each says
 * where it goes or was given, signed.  A request for another address than
 * the one it came to is refused; an answer given at another address than
 * the one dialed is not taken. */
static void *
reflector(void *arg)
{
	int *fds = arg, fd = accept(fds[0], NULL, NULL);
	char g[] = "{\"nonce\":\"2222222222222222222222222222222222222222"
	    "222222222222222222222222\"}";
	struct strbuf out;
	json_t *h, *a;
	size_t len;
	char *m;

	/* greets, takes the head, answers signed at another address */
	frame_send(fd, g, strlen(g));
	m = frame_recv(fd, 4096, &len);
	h = m != NULL ? json_loadb(m + 65, len - 65, 0, NULL) : NULL;
	a = json_pack("{s:i, s:s}", "status", 200, "hash", "0123");
	strbuf_init(&out, 0);
	peer_answer("shared secret", json_string_value(json_object_get(h,
	    "nonce")), "127.0.0.9", a, &out);
	frame_send(fd, strbuf_str(&out), out.len);
	fds[1] = h != NULL && json_object_get(h, "to") != NULL &&
	    strcmp(json_string_value(json_object_get(h, "to")), "127.0.0.1") ==
	    0;
	strbuf_free(&out);
	json_decref(a);
	json_decref(h);
	free(m);
	close(fd);
	return NULL;
}

static void
reflection_refused(void **state)
{
	struct server sv;
	struct strbuf head, err;
	struct sockaddr_in in = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(in);
	char nonce[65];
	pthread_t t;
	json_t *h, *ans;
	int fd, fds[2] = { -1, 0 };

	(void)state;
	server_start(&sv, "shared secret");
	/* a head signed for 127.0.0.2, brought to 127.0.0.1 */
	fd = greeted(&sv, nonce);
	h = json_pack("{s:s, s:s, s:i, s:s, s:s}", "op", "hello", "nonce",
	    "1111111111111111111111111111111111111111111111111111111111111111",
	    "body", 0, "sha256",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "to", "127.0.0.2");
	strbuf_init(&head, 0);
	assert_int_equal(peer_answer("shared secret", nonce, "127.0.0.2", h,
	    &head), 0);
	assert_int_equal(frame_send(fd, strbuf_str(&head), head.len), 0);
	assert_true(closed_within(fd, 1000));
	assert_int_equal(sv.nreq, 0);
	close(fd);
	/* the same, for 127.0.0.1: taken (the check can pass) */
	fd = greeted(&sv, nonce);
	json_object_set_new(h, "to", json_string("127.0.0.1"));
	strbuf_reset(&head);
	assert_int_equal(peer_answer("shared secret", nonce, "127.0.0.1", h,
	    &head), 0);
	assert_int_equal(frame_send(fd, strbuf_str(&head), head.len), 0);
	free(frame_recv(fd, 4096, &(size_t){ 0 }));
	assert_int_equal(sv.nreq, 1);
	close(fd);
	json_decref(h);
	strbuf_free(&head);
	server_stop(&sv);

	/* an answer signed at another address than the one dialed */
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fds[0], (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(listen(fds[0], 4), 0);
	assert_int_equal(getsockname(fds[0], (struct sockaddr *)&in, &sl), 0);
	assert_int_equal(pthread_create(&t, NULL, reflector, fds), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	strbuf_init(&err, 0);
	h = json_pack("{s:s}", "op", "hello");
	assert_int_equal(peer_exchange(fd, "shared secret", h, 2000, &ans,
	    &err), -1);
	assert_null(ans);
	assert_non_null(strstr(strbuf_str(&err), "an answer signed at "
	    "127.0.0.9, not by the peer dialed (127.0.0.1)"));
	pthread_join(t, NULL);
	assert_int_equal(fds[1], 1);	/* the request said where it went */
	json_decref(h);
	close(fd);
	close(fds[0]);
	strbuf_free(&err);
}

/* ---- what two nodes compare, and what one takes from the other -------- */

static void
policy_hash(void **state)
{
	struct policy *a = load(gwa), *b = load(gwb), *c;
	char *other = strdup(gwb);

	(void)state;
	assert_true(peer_policy_hash(a) == peer_policy_hash(b));
	/* A rule of difference: another hash. */
	memcpy(strstr(other, "deny on LAN"), "reject on LAN",
	    strlen("reject on LAN") - 1);
	c = policy_parse("test.conf", other, strlen(other));
	assert_true(peer_policy_hash(a) != peer_policy_hash(c));
	policy_free(a);
	policy_free(b);
	policy_free(c);
	free(other);
}

static void
rebase(void **state)
{
	static const char newer[] =
	    "interface LAN device eth1 address 192.168.50.2/24\n"
	    "interface WAN device eth0 address 198.51.100.2/24\n"
	    "interface SYNC device eth2 address 10.99.0.1/24\n"
	    "accept on LAN from 192.168.50.10 to ANY service SMTP\n"
	    "deny on LAN from ANY to ANY service SMTP log\n"
	    "ha {\n    peer 10.99.0.2\n    sync-interface SYNC\n"
	    "    vip LAN 192.168.50.1/24\n    secret \"shared secret\"\n}\n";
	struct policy *theirs = load(newer), *ours = load(gwb), *r;
	struct strbuf out, err;
	const char *s;

	(void)state;
	strbuf_init(&out, 0);
	strbuf_init(&err, 0);
	assert_int_equal(peer_rebase(theirs, ours, &out, &err), 0);
	s = strbuf_str(&out);
	/* Their rules, our addresses and our ha block. */
	assert_non_null(strstr(s, "deny on LAN from ANY to ANY service SMTP "
	    "log"));
	assert_non_null(strstr(s, "address 192.168.50.3/24"));
	assert_null(strstr(s, "192.168.50.2"));
	assert_non_null(strstr(s, "peer 10.99.0.1"));
	assert_non_null(strstr(s, "priority 100"));
	r = load(s);
	assert_true(peer_policy_hash(r) == peer_policy_hash(theirs));
	policy_free(r);
	strbuf_free(&out);
	policy_free(theirs);

	/* An interface this node does not have: refused, and why. */
	theirs = load("interface LAN device eth1 address 192.168.50.2/24\n"
	    "interface DMZ device eth3 address 172.16.0.1/24\n");
	assert_int_equal(peer_rebase(theirs, ours, &out, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), "interface DMZ is new"));
	strbuf_free(&out);
	strbuf_free(&err);
	policy_free(theirs);
	policy_free(ours);
}

/* What only root on a node sets (policy_privileged_change) stays the
 * node's: a push that brings a console user of root, a metrics file or
 * a key to read takes none of them (review, 2026-12-07: whoever held the
 * secret had root write and read files through the peer). */
static void
rebase_keeps_privileged(void **state)
{
	static const char evil[] =
	    "interface LAN device eth1 address 192.168.50.2/24\n"
	    "interface WAN device eth0 address 198.51.100.2/24\n"
	    "interface SYNC device eth2 address 10.99.0.1/24\n"
	    "accept on LAN from 192.168.50.10 to ANY service SMTP\n"
	    "logging {\n    directory /etc/moat\n"
	    "    metrics-file /etc/moat/moat.conf\n}\n"
	    "console {\n    user nobody\n    users /run/moat/users\n"
	    "    certificate /run/moat/c.pem\n    key /run/moat/k.pem\n}\n"
	    "ha {\n    peer 10.99.0.2\n    sync-interface SYNC\n"
	    "    vip LAN 192.168.50.1/24\n    secret \"other secret\"\n}\n";
	struct policy *theirs = load(evil), *ours = load(gwb), *r;
	struct strbuf out, err;
	const char *s;

	(void)state;
	assert_non_null(policy_privileged_change(ours, theirs));
	strbuf_init(&out, 0);
	strbuf_init(&err, 0);
	assert_int_equal(peer_rebase(theirs, ours, &out, &err), 0);
	s = strbuf_str(&out);
	assert_non_null(strstr(s, "accept on LAN from 192.168.50.10"));
	assert_null(strstr(s, "/etc/moat/moat.conf"));
	assert_null(strstr(s, "user nobody"));
	assert_null(strstr(s, "/run/moat/"));
	assert_null(strstr(s, "other secret"));
	r = load(s);
	assert_null(policy_privileged_change(ours, r));
	/* and the two nodes hold the same policy: no push again and again */
	assert_true(peer_policy_hash(r) == peer_policy_hash(theirs));
	policy_free(r);
	strbuf_free(&out);
	strbuf_free(&err);
	policy_free(theirs);
	policy_free(ours);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keepalived_conf),
		cmocka_unit_test(conntrackd_conf),
		cmocka_unit_test(notify_lines),
		cmocka_unit_test(signed_messages),
		cmocka_unit_test(replay_refused),
		cmocka_unit_test(slow_clients),
		cmocka_unit_test(body_checked),
		cmocka_unit_test(reflection_refused),
		cmocka_unit_test(policy_hash),
		cmocka_unit_test(rebase),
		cmocka_unit_test(rebase_keeps_privileged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

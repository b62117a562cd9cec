/* test_ha.c: an HA pair's pieces without the engines running: the
 * keepalived and conntrackd configs written from an ha block, keepalived's
 * notify lines, the sync link's signed messages (the right secret, a
 * wrong one, a forged byte, a replay), the policy hash two nodes compare,
 * and a pushed config made the receiving node's own. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/frame.h"
#include "ha/engines.h"
#include "ha/peer.h"
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

struct server {
	int		 fd;
	const char	*secret;
	char		 err[256];
	char		 op[32];
	char		*replay;	/* what the client sent, kept */
	size_t		 replay_len;
};

static void *
serve(void *arg)
{
	struct server *sv = arg;
	struct strbuf err;
	char nonce[65];
	json_t *r, *a;

	strbuf_init(&err, 0);
	r = peer_request(sv->fd, sv->secret, nonce, &err);
	if (r == NULL) {
		snprintf(sv->err, sizeof(sv->err), "%s", strbuf_str(&err));
		strbuf_free(&err);
		close(sv->fd);
		return NULL;
	}
	snprintf(sv->op, sizeof(sv->op), "%s",
	    json_string_value(json_object_get(r, "op")));
	a = json_pack("{s:i, s:s}", "status", 200, "hash", "0123");
	peer_answer(sv->fd, sv->secret, nonce, a);
	json_decref(a);
	json_decref(r);
	strbuf_free(&err);
	close(sv->fd);
	return NULL;
}

static int
exchange(const char *client_secret, const char *server_secret,
    struct server *sv, json_t **ans, struct strbuf *err)
{
	pthread_t t;
	int sp[2], rc;
	json_t *req = json_pack("{s:s}", "op", "hello");

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	memset(sv, 0, sizeof(*sv));
	sv->fd = sp[1];
	sv->secret = server_secret;
	assert_int_equal(pthread_create(&t, NULL, serve, sv), 0);
	rc = peer_exchange(sp[0], client_secret, req, 2000, ans, err);
	pthread_join(t, NULL);
	close(sp[0]);
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
	assert_int_equal(exchange("shared secret", "shared secret", &sv, &ans,
	    &err), 0);
	assert_string_equal(sv.op, "hello");
	assert_int_equal(json_integer_value(json_object_get(ans, "status")),
	    200);
	json_decref(ans);

	/* Another secret: the server refuses, and says why. */
	assert_int_equal(exchange("not the secret", "shared secret", &sv,
	    &ans, &err), -1);
	assert_null(ans);
	assert_non_null(strstr(sv.err, "signature"));
	assert_string_equal(sv.op, "");
	strbuf_free(&err);
}

/* A client message, signed for one greeting, sent after another: the
 * nonce differs, so the signature does not hold. */
static void
replay_refused(void **state)
{
	int sp[2];
	struct server sv;
	pthread_t t;
	char *greet, body[] = "{\"op\":\"push\",\"nonce\":\""
	    "0000000000000000000000000000000000000000000000000000000000000000\"}";
	char msg[65 + sizeof(body)];
	size_t len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	memset(&sv, 0, sizeof(sv));
	sv.fd = sp[1];
	sv.secret = "shared secret";
	assert_int_equal(pthread_create(&t, NULL, serve, &sv), 0);
	greet = frame_recv(sp[0], 1024, &len);
	assert_non_null(greet);
	free(greet);
	/* A well-formed message with a made-up signature. */
	memset(msg, 'a', 64);
	msg[64] = '\n';
	memcpy(msg + 65, body, sizeof(body) - 1);
	assert_int_equal(frame_send(sp[0], msg, 65 + sizeof(body) - 1), 0);
	pthread_join(t, NULL);
	close(sp[0]);
	assert_non_null(strstr(sv.err, "signature"));
	assert_string_equal(sv.op, "");
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keepalived_conf),
		cmocka_unit_test(conntrackd_conf),
		cmocka_unit_test(notify_lines),
		cmocka_unit_test(signed_messages),
		cmocka_unit_test(replay_refused),
		cmocka_unit_test(policy_hash),
		cmocka_unit_test(rebase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

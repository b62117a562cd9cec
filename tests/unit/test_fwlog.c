/* test_fwlog.c: the firewall log's parsers on what the kernel sends and
 * on garbage: NFLOG messages (truncated, bad attribute lengths, a prefix
 * without its NUL), packet headers cut anywhere, and a record's JSON
 * line read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "base/addr.h"
#include "base/clock.h"
#include "base/frame.h"
#include "daemon/logger.h"
#include "enforce/nflog.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "policy/load.h"

/* An IPv4 TCP SYN 192.168.50.12:41234 -> 198.51.100.25:25. */
static const uint8_t syn4[40] = {
	0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
	192, 168, 50, 12, 198, 51, 100, 25,
	0xa1, 0x12, 0, 25, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff,
	0, 0, 0, 0,
};

static size_t
build(char *buf, const char *prefix, const void *payload, size_t plen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = 2;
	mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix);
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(41));
	mnl_attr_put(nlh, NFULA_PAYLOAD, plen, payload);
	return nlh->nlmsg_len;
}

static void
test_nflog_parse(void **state)
{
	char buf[1024], copy[1024];
	struct nflog_pkt pkt;
	size_t len, cut;

	(void)state;
	len = build(buf, "moat r2 deny 0123456789abcdef", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_string_equal(pkt.prefix, "moat r2 deny 0123456789abcdef");
	assert_int_equal(pkt.indev, 1);
	assert_true(pkt.has_seq);
	assert_int_equal(pkt.seq, 41);
	assert_int_equal(pkt.plen, sizeof(syn4));
	/* Cut anywhere: refused, or (cut between attributes) parsed within
	 * what is there. */
	for (cut = 0; cut < len; cut++) {
		int rc;

		memcpy(copy, buf, len);
		((struct nlmsghdr *)copy)->nlmsg_len = (uint32_t)cut;
		rc = nflog_parse(copy, cut, &pkt);
		if (cut < sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg))
			assert_int_equal(rc, -1);
		if (rc == 0 && pkt.payload != NULL)
			assert_true(pkt.payload + pkt.plen <=
			    (const uint8_t *)copy + cut);
		if (rc == 0 && pkt.prefix != NULL)
			assert_true(pkt.prefix + strlen(pkt.prefix) <
			    copy + cut);
	}
	/* The message says it is longer than it is. */
	memcpy(copy, buf, len);
	((struct nlmsghdr *)copy)->nlmsg_len = (uint32_t)len + 100;
	assert_int_equal(nflog_parse(copy, len, &pkt), -1);
	/* Every attribute length byte set to garbage: never read past. */
	for (cut = sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg);
	    cut < len; cut++) {
		int v;

		for (v = 0; v < 256; v += 17) {
			memcpy(copy, buf, len);
			copy[cut] = (char)v;
			if (nflog_parse(copy, len, &pkt) == 0 &&
			    pkt.payload != NULL)
				assert_true(pkt.payload + pkt.plen <=
				    (const uint8_t *)copy + len);
		}
	}
	/* A prefix without its NUL: refused. */
	len = build(buf, "moat", syn4, sizeof(syn4));
	memcpy(copy, buf, len);
	for (cut = 0; cut + 4 < len; cut++)
		if (memcmp(copy + cut, "moat", 5) == 0)
			copy[cut + 4] = 'x';
	assert_int_equal(nflog_parse(copy, len, &pkt), -1);
	/* Not a packet of NFLOG. */
	memcpy(copy, buf, len);
	((struct nlmsghdr *)copy)->nlmsg_type = NLMSG_DONE;
	assert_int_equal(nflog_parse(copy, len, &pkt), -1);
}

/*
 * A trace event's headers apart (the kernel cuts the network header at
 * 40 bytes and gives the transport header it found itself): an IPv4
 * header with 40 bytes of options, an IPv6 one with a destination
 * options header of 48, and the same packets whole to fwlog_headers,
 * cut after the extension header's first bytes or before it.
 */
static void
test_headers_apart(void **state)
{
	uint8_t v4[60 + 20], v6[40 + 48 + 8];
	const uint8_t udp[8] = { 0x30, 0x39, 0, 53, 0, 8, 0, 0 };
	struct fwlog_rec r;
	struct strbuf b;

	(void)state;
	/* IPv4, header length 60: record route, then a no-op */
	memcpy(v4, syn4, 20);
	v4[0] = 0x4f;
	v4[3] = sizeof(v4);
	memset(v4 + 20, 0, 40);
	v4[20] = 7;
	v4[21] = 39;
	v4[22] = 4;
	v4[59] = 1;
	memcpy(v4 + 60, syn4 + 20, 20);
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers_apart(v4, 40, v4 + 60, 20, -1, &r), 0);
	assert_int_equal(r.proto, 6);
	assert_true(r.has_ports);
	assert_int_equal(r.sport, 41234);
	assert_int_equal(r.dport, 25);
	assert_int_equal(r.tcp_flags, 0x02);
	/* read from one buffer as the kernel cut it, the ports were the
	 * TCP header's bytes 20 on */
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers(v4, sizeof(v4), &r), 0);
	assert_int_equal(r.dport, 25);
	/* a later fragment: no ports, whatever the kernel sends after */
	v4[6] = 0x00;
	v4[7] = 0x10;
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers_apart(v4, 40, v4 + 60, 20, -1, &r), 0);
	assert_false(r.has_ports);
	/* too short for the addresses */
	assert_int_equal(fwlog_headers_apart(v4, 19, v4 + 60, 20, -1, &r),
	    -1);

	/* IPv6 with 48 bytes of destination options, then UDP */
	memset(v6, 0, sizeof(v6));
	v6[0] = 0x60;
	v6[5] = 48 + 8;
	v6[6] = 60;
	v6[7] = 64;
	v6[8] = 0x20, v6[9] = 0x01, v6[10] = 0x0d, v6[11] = 0xb8, v6[23] = 1;
	v6[24] = 0x20, v6[25] = 0x01, v6[26] = 0x0d, v6[27] = 0xb8, v6[39] = 2;
	v6[40] = 17;		/* next: udp */
	v6[41] = 5;		/* (5 + 1) * 8 bytes */
	v6[42] = 1;		/* PadN of 44 */
	v6[43] = 44;
	memcpy(v6 + 88, udp, sizeof(udp));
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers_apart(v6, 40, v6 + 88, 8, -1, &r), 0);
	assert_int_equal(r.proto, -1);
	assert_false(r.has_ports);
	strbuf_init(&b, 0);
	fwlog_packet_text(&r, &b);
	assert_non_null(strstr(strbuf_str(&b), "protocol not seen"));
	strbuf_reset(&b);
	snprintf(r.action, sizeof(r.action), "deny");
	fwlog_json(&r, &b);
	assert_non_null(strstr(strbuf_str(&b), "\"proto\":null"));
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_parse(strbuf_str(&b), &r), 0);
	assert_int_equal(r.proto, -1);
	/* with the trace's --proto udp */
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers_apart(v6, 40, v6 + 88, 8, 17, &r), 0);
	assert_int_equal(r.proto, 17);
	assert_true(r.has_ports);
	assert_int_equal(r.sport, 12345);
	assert_int_equal(r.dport, 53);
	/* no extension header: the protocol is the header's own */
	v6[6] = 17;
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers_apart(v6, 40, v6 + 88, 8, -1, &r), 0);
	assert_int_equal(r.proto, 17);
	assert_int_equal(r.dport, 53);
	v6[6] = 60;
	/* Whole: the ports after the options; cut inside the options, the
	 * protocol they name and no ports; cut before them, none. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers(v6, sizeof(v6), &r), 0);
	assert_int_equal(r.proto, 17);
	assert_int_equal(r.dport, 53);
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers(v6, 60, &r), 0);
	assert_int_equal(r.proto, 17);
	assert_false(r.has_ports);
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers(v6, 44, &r), 0);
	assert_int_equal(r.proto, -1);
	assert_false(r.has_ports);
	strbuf_free(&b);
}

static void
test_headers(void **state)
{
	static const uint8_t icmp6[48] = {
		0x60, 0, 0, 0, 0, 8, 58, 64,
		0x20, 0x01, 0x0d, 0xb8, 0, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12,
		0x20, 0x01, 0x0d, 0xb8, 0, 0x51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
		128, 0, 0, 0, 0, 1, 0, 1,
	};
	struct fwlog_rec r;
	char buf[64];
	size_t cut;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers(syn4, sizeof(syn4), &r), 0);
	assert_int_equal(r.proto, 6);
	assert_true(r.has_ports);
	assert_int_equal(r.sport, 41234);
	assert_int_equal(r.dport, 25);
	assert_int_equal(r.length, 40);
	fwlog_tcp_flags(r.tcp_flags, buf, sizeof(buf));
	assert_string_equal(buf, "SYN");
	addr_format(r.src, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.50.12");
	memset(&r, 0, sizeof(r));
	assert_int_equal(fwlog_headers(icmp6, sizeof(icmp6), &r), 0);
	assert_int_equal(r.proto, 58);
	assert_int_equal(r.icmp_type, 128);
	assert_false(r.has_ports);
	addr_format(r.dst, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:51::25");
	/* Cut anywhere (ASan watches): the IP header whole, or refused. */
	for (cut = 0; cut <= sizeof(syn4); cut++) {
		uint8_t *p = malloc(cut + 1);

		memcpy(p, syn4, cut);
		memset(&r, 0, sizeof(r));
		assert_int_equal(fwlog_headers(p, cut, &r), cut >= 20 ? 0 : -1);
		if (cut < 24)
			assert_false(r.has_ports);
		free(p);
	}
	for (cut = 0; cut <= sizeof(icmp6); cut++) {
		uint8_t *p = malloc(cut + 1);

		memcpy(p, icmp6, cut);
		assert_int_equal(fwlog_headers(p, cut, &r), cut >= 40 ? 0 : -1);
		free(p);
	}
	/* An IPv4 header length past the packet. */
	{
		uint8_t bad[40];

		memcpy(bad, syn4, sizeof(bad));
		bad[0] = 0x4f;
		assert_int_equal(fwlog_headers(bad, sizeof(bad), &r), -1);
	}
}

static void
test_record_roundtrip(void **state)
{
	char buf[1024];
	struct nflog_pkt pkt;
	struct fwlog_rec r, back;
	struct strbuf json, text;
	size_t len;

	(void)state;
	len = build(buf, "moat r2 deny 0123456789abcdef", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), 0);
	assert_int_equal(r.rule, 2);
	assert_string_equal(r.action, "deny");
	assert_true(r.hash == 0x0123456789abcdefull);
	strbuf_init(&json, 0);
	fwlog_json(&r, &json);
	assert_int_equal(fwlog_parse(strbuf_str(&json), &back), 0);
	assert_int_equal(back.rule, 2);
	assert_true(back.src == r.src && back.dst == r.dst);
	assert_int_equal(back.dport, 25);
	assert_int_equal(back.tcp_flags, r.tcp_flags);
	assert_true(back.hash == r.hash);
	assert_int_equal(back.when.tv_sec, r.when.tv_sec);
	strbuf_init(&text, 0);
	fwlog_text(&back, &text);
	assert_non_null(strstr(strbuf_str(&text), "deny by rule 2 "));
	assert_non_null(strstr(strbuf_str(&text),
	    "192.168.50.12:41234 -> 198.51.100.25:25 tcp SYN"));
	strbuf_free(&json);
	strbuf_free(&text);
	/* Not moat's prefix, or not its form: not a record. */
	len = build(buf, "ulogd", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	len = build(buf, "moat r0 deny 12", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	len = build(buf, "moat dWAN maybe 12", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	/* A rule's id is 16 hex digits, not zero, and has no hash after it;
	 * an old prefix has one. */
	len = build(buf, "moat i0123456789abcde deny", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	len = build(buf, "moat i0000000000000000 deny", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	len = build(buf, "moat i0123456789abcdef deny 12", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	len = build(buf, "moat r2 deny", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	len = build(buf, "moat r2 deny 12zz", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), -1);
	/* Lines that are not records are refused, not crashed on. */
	assert_int_equal(fwlog_parse("", &back), -1);
	assert_int_equal(fwlog_parse("{\"time\":3}", &back), -1);
	assert_int_equal(fwlog_parse("[1,2]", &back), -1);
	assert_int_equal(fwlog_parse("{\"time\":\"2026-11-30T08:00:00.000Z\","
	    "\"action\":\"deny\",\"src\":\"nope\"}", &back), -1);
}

/* A rule's comment longer than a record holds, in a script of two-byte
 * characters (and one of three bytes where the cut falls): the record
 * keeps a whole-character prefix and reads back (a split character made
 * the JSON line unreadable, and the record was skipped). */
static void
test_comment_utf8(void **state)
{
	char buf[1024], conf[1024], comment[400];
	struct nflog_pkt pkt;
	struct fwlog_rec r, back;
	struct strbuf json;
	struct policy *p;
	size_t len, i, n = 0;

	(void)state;
	for (i = 0; i < 79; i++)
		n += (size_t)snprintf(comment + n, sizeof(comment) - n, "\xc3\xa9");
	n += (size_t)snprintf(comment + n, sizeof(comment) - n,
	    "\xe2\x82\xac and more \xc3\xa9\xc3\xa9\xc3\xa9");
	snprintf(conf, sizeof(conf), "interface LAN device lan0 address "
	    "192.168.50.1/24\ndeny on LAN from ANY to ANY service SMTP log "
	    "comment \"%s\"\n", comment);
	p = policy_parse("moat.conf", conf, strlen(conf));
	assert_non_null(p);
	assert_true(policy_valid(p));
	len = build(buf, "moat r1 deny 0123456789abcdef", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), 0);
	fwlog_annotate(&r, p, "/etc/moat/moat.conf");
	assert_true(strlen(r.comment) < FWLOG_TEXT_MAX);
	assert_int_equal(strlen(r.comment), 158);	/* 79 é, not half a € */
	assert_memory_equal(r.comment, comment, strlen(r.comment));
	strbuf_init(&json, 0);
	fwlog_json(&r, &json);
	assert_int_equal(fwlog_parse(strbuf_str(&json), &back), 0);
	assert_string_equal(back.comment, r.comment);
	strbuf_free(&json);
	policy_free(p);
}

/* A prefix with a rule's id names the rule in whichever config has it,
 * by its id: the same rule after another was put above it (a new number,
 * a new line) and the default of an interface; a config without the rule
 * names nothing. */
static void
test_rule_id_prefix(void **state)
{
	const char *a = "interface LAN device lan0 address 192.168.50.1/24\n"
	    "interface WAN device wan0 address 198.51.100.1/24 default deny "
	    "log-default on\n"
	    "deny on LAN from ANY to ANY service SMTP log comment \"no mail\"\n";
	const char *b = "interface LAN device lan0 address 192.168.50.1/24\n"
	    "interface WAN device wan0 address 198.51.100.1/24 default deny "
	    "log-default on\n"
	    "accept on LAN from 192.168.50.10 to ANY service SMTP\n"
	    "\n"
	    "deny on LAN from ANY to ANY service SMTP log comment \"none\"\n";
	const char *c = "interface LAN device lan0 address 192.168.50.1/24\n"
	    "reject on LAN from ANY to ANY service SMTP log\n";
	struct policy *pa, *pb, *pc;
	char buf[1024], prefix[64];
	struct nflog_pkt pkt;
	struct fwlog_rec r, back;
	struct strbuf json;
	size_t len;

	(void)state;
	pa = policy_parse("a.conf", a, strlen(a));
	pb = policy_parse("b.conf", b, strlen(b));
	pc = policy_parse("c.conf", c, strlen(c));
	assert_true(policy_valid(pa) && policy_valid(pb) && policy_valid(pc));
	/* The rule keeps its id: a comment is no part of it. */
	assert_true(pa->rules[0]->id == pb->rules[1]->id);
	assert_true(pa->rules[0]->id != pb->rules[0]->id);
	assert_true(pa->rules[0]->id != pc->rules[0]->id);
	snprintf(prefix, sizeof(prefix), "moat i%016llx deny",
	    (unsigned long long)pa->rules[0]->id);
	len = build(buf, prefix, syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), 0);
	assert_int_equal(r.rule, 0);
	assert_true(r.hash == 0);
	assert_true(r.rule_id == pa->rules[0]->id);
	assert_int_equal(fwlog_annotate(&r, pc, "c.conf"), -1);
	assert_int_equal(r.rule, 0);
	assert_string_equal(r.file, "");
	assert_int_equal(fwlog_annotate(&r, pb, "/etc/moat/b.conf"), 0);
	assert_int_equal(r.rule, 2);
	assert_int_equal(r.line, 5);
	assert_string_equal(r.comment, "none");
	assert_string_equal(r.file, "b.conf");
	r.hash = 0x1234;
	strbuf_init(&json, 0);
	fwlog_json(&r, &json);
	snprintf(prefix, sizeof(prefix), "\"rule_id\":\"%016llx\"",
	    (unsigned long long)pa->rules[0]->id);
	assert_non_null(strstr(strbuf_str(&json), prefix));
	assert_int_equal(fwlog_parse(strbuf_str(&json), &back), 0);
	assert_true(back.rule_id == r.rule_id && back.hash == 0x1234);
	assert_int_equal(back.rule, 2);
	strbuf_free(&json);
	/* A default: by the interface. */
	len = build(buf, "moat dWAN deny", syn4, sizeof(syn4));
	assert_int_equal(nflog_parse(buf, len, &pkt), 0);
	assert_int_equal(fwlog_from_packet(&pkt, &r), 0);
	assert_true(r.rule == 0 && r.rule_id == 0 && r.hash == 0);
	assert_int_equal(fwlog_annotate(&r, pb, "b.conf"), 0);
	assert_int_equal(r.line, 2);
	/* A record of before the ids (rule number and hash) reads back, and
	 * is named by its number. */
	assert_int_equal(fwlog_parse("{\"time\":\"2026-11-30T08:00:00.000Z\","
	    "\"action\":\"deny\",\"rule\":2,\"by\":\"rule\",\"src\":"
	    "\"192.168.50.12\",\"dst\":\"198.51.100.25\",\"proto\":\"tcp\","
	    "\"policy\":\"0123456789abcdef\"}", &back), 0);
	assert_true(back.rule == 2 && back.rule_id == 0 &&
	    back.hash == 0x0123456789abcdefull);
	assert_int_equal(fwlog_annotate(&back, pb, "b.conf"), 0);
	assert_true(back.rule_id == pb->rules[1]->id);
	policy_free(pa);
	policy_free(pb);
	policy_free(pc);
}

/* Ask the parent's side of the logger's channel q; its answer (malloc'd,
 * "" for none) or NULL when it broke the exchange off. */
static char *
answer(const char *dir, const char *q, size_t qlen)
{
	struct logger_chan c;
	char *a = NULL;
	size_t len;
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(frame_send(sp[0], q, qlen), 0);
	logger_chan_open(&c, sp[1]);
	if (logger_chan_read(&c, dir) == 0) {
		/* (small: written whole at once) */
		assert_int_equal(logger_chan_out_fd(&c), -1);
		a = frame_recv(sp[0], 1u << 20, &len);
	}
	logger_chan_close(&c);
	close(sp[0]);
	return a;
}

/* The root parent answers the logger's questions from the history: the
 * entry in force ("n", "e0"), an entry by number, the newest by config
 * hash; nothing for what it lacks; malformed questions end the exchange. */
static void
test_logger_answer(void **state)
{
	char dir[] = "/tmp/moat-test-XXXXXX", file[256], *a;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/history", dir);
	assert_int_equal(mkdir(file, 0700), 0);
	snprintf(file, sizeof(file), "%s/history.log", dir);
	assert_non_null(fp = fopen(file, "w"));
	fputs("1 1700000000 00000000000000aa apply 0 /etc/moat/a.conf\n"
	    "2 1700000100 00000000000000bb apply 1 /etc/moat/b.conf\n"
	    "3 1700000200 00000000000000aa rollback 2 /etc/moat/a.conf\n",
	    fp);
	fclose(fp);
	snprintf(file, sizeof(file), "%s/history/1.conf", dir);
	assert_non_null(fp = fopen(file, "w"));
	fputs("config one\n", fp);
	fclose(fp);
	snprintf(file, sizeof(file), "%s/history/3.conf", dir);
	assert_non_null(fp = fopen(file, "w"));
	fputs("config three\nha {\n    secret \"pair words\"\n}\n", fp);
	fclose(fp);
	a = answer(dir, "n", 1);
	assert_string_equal(a, "3 2 00000000000000aa /etc/moat/a.conf\n");
	free(a);
	/* (the rules, not the HA secret: moat-log has no use for it) */
	a = answer(dir, "e0", 2);
	assert_string_equal(a, "3 2 00000000000000aa /etc/moat/a.conf\n"
	    "config three\nha {\n    secret \"xxxxxxxxxx\"\n}\n");
	free(a);
	a = answer(dir, "e1", 2);
	assert_string_equal(a, "1 0 00000000000000aa /etc/moat/a.conf\n"
	    "config one\n");
	free(a);
	/* Entry 2's config is missing: no answer, not half of one. */
	a = answer(dir, "e2", 2);
	assert_string_equal(a, "");
	free(a);
	a = answer(dir, "e9", 2);
	assert_string_equal(a, "");
	free(a);
	a = answer(dir, "h00000000000000aa", 17);
	assert_non_null(strstr(a, "config three"));
	free(a);
	a = answer(dir, "h00000000000000cc", 17);
	assert_string_equal(a, "");
	free(a);
	/* Malformed: the exchange ends. */
	assert_null(answer(dir, "e-1", 3));
	assert_null(answer(dir, "e1x", 3));
	assert_null(answer(dir, "e99999999999", 12));
	assert_null(answer(dir, "haa", 3));
	assert_null(answer(dir, "h00000000000000zz", 17));
	assert_null(answer(dir, "x", 1));
	assert_null(answer(dir, "nn", 2));
	assert_null(answer(dir, "", 0));
	snprintf(file, sizeof(file), "rm -rf %s", dir);
	assert_int_equal(system(file), 0);
}

static void
count_line(void *arg, const char *line)
{
	(void)line;
	(*(int *)arg)++;
}

/* Root reads and writes files in a directory another process writes
 * (review, 2026-12-07): a FIFO, a link, a file of another's are never
 * read (a FIFO held the reader for ever) nor written. */
static void
test_files_of_others(void **state)
{
	char dir[] = "/tmp/moat-test-XXXXXX", path[256], cmd[300];
	struct logfile lf;
	struct stat st;
	int lines = 0;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo.jsonl", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(logfile_open_read(path));		/* at once */
	assert_int_equal(logfile_read(dir, "fifo.jsonl", count_line, &lines),
	    -1);
	snprintf(path, sizeof(path), "%s/link.jsonl", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_null(logfile_open_read(path));
	snprintf(path, sizeof(path), "%s/real.jsonl", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("{\"a\":1}\n{\"b\":2}\n", fp);
	fclose(fp);
	assert_int_equal(logfile_read(dir, "real.jsonl", count_line, &lines),
	    0);
	assert_int_equal(lines, 2);
	/* a FIFO, a link, a directory where a log is written: put aside,
	 * at once, never written through, and the log goes on in a file of
	 * its own (refused and left, one turned the log off for good: a
	 * review, 2026-12-07) */
	logfile_init(&lf, dir, "fifo.jsonl", 1 << 20, 2);
	assert_int_equal(logfile_append(&lf, "x\n", 2, 1), 0);
	assert_int_equal(lf.foreign, 1);
	logfile_close(&lf);
	snprintf(path, sizeof(path), "%s/fifo.jsonl", dir);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 2);
	logfile_init(&lf, dir, "link.jsonl", 1 << 20, 2);
	assert_int_equal(logfile_append(&lf, "x\n", 2, 1), 0);
	logfile_close(&lf);
	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_true(st.st_size > 2);
	snprintf(path, sizeof(path), "%s/dir.jsonl", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(cmd, sizeof(cmd), "%s/dir.jsonl/inside", dir);
	assert_non_null(fp = fopen(cmd, "w"));
	fclose(fp);
	logfile_init(&lf, dir, "dir.jsonl", 1 << 20, 2);
	assert_int_equal(logfile_append(&lf, "x\n", 2, 1), 0);
	logfile_close(&lf);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* a hard link to another file (the writer's own, here): not
	 * written through either */
	snprintf(cmd, sizeof(cmd), "%s/victim", dir);
	assert_non_null(fp = fopen(cmd, "w"));
	fclose(fp);
	snprintf(path, sizeof(path), "%s/hl.jsonl", dir);
	assert_int_equal(link(cmd, path), 0);
	logfile_init(&lf, dir, "hl.jsonl", 1 << 20, 2);
	assert_int_equal(logfile_append(&lf, "x\n", 2, 1), 0);
	logfile_close(&lf);
	assert_int_equal(stat(cmd, &st), 0);
	assert_true(st.st_size == 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size == 2 && st.st_nlink == 1);
	/* a file of someone else's (root only can make one here): put
	 * aside too, and the records it held are not read as the log's */
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/theirs.jsonl", dir);
		assert_non_null(fp = fopen(path, "w"));
		fputs("{\"forged\":1}\n", fp);
		fclose(fp);
		assert_int_equal(chown(path, 65534, 65534), 0);
		lines = 0;
		assert_int_equal(logfile_read_tail(dir, "theirs.jsonl",
		    1 << 20, 1024, geteuid(), count_line, &lines), -1);
		assert_int_equal(lines, 0);
		logfile_init(&lf, dir, "theirs.jsonl", 1 << 20, 2);
		assert_int_equal(logfile_append(&lf, "x\n", 2, 1), 0);
		logfile_close(&lf);
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_uid == 0 && st.st_size == 2);
	}
	logfile_init(&lf, dir, "mine.jsonl", 1 << 20, 2);
	assert_int_equal(logfile_append(&lf, "x\n", 2, 1), 0);
	logfile_close(&lf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Lines kept in order, for test_read_tail. */
struct kept {
	char	buf[4096];
	int	n;
};

static void
keep_line(void *arg, const char *line)
{
	struct kept *k = arg;

	k->n++;
	strncat(k->buf, line, sizeof(k->buf) - strlen(k->buf) - 2);
	strcat(k->buf, ",");
}

/* keep_line, and a line more appended to grow_path each time (at most
 * 1,000: an unbounded reader would read them all) */
static const char *grow_path;

static void
grow_line(void *arg, const char *line)
{
	struct kept *k = arg;
	FILE *fp;

	(void)line;
	if (++k->n > 1000 || (fp = fopen(grow_path, "a")) == NULL)
		return;
	fputs("more\n", fp);
	fclose(fp);
}

/* The console's log pages read the newest bytes of the log only, in
 * order across its rotations, from a line's start, long lines left out
 * (a hundred rotated files of gigabytes held root's loop for hours: a
 * review). */
static void
test_read_tail(void **state)
{
	char dir[] = "/tmp/moat-test-XXXXXX", path[256], cmd[300];
	struct kept k;
	FILE *fp;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* t.jsonl.2 (oldest): a1..a3; t.jsonl.1: b1, a long line, b3;
	 * t.jsonl: c1 c2 */
	snprintf(path, sizeof(path), "%s/t.jsonl.2", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("a1\na2\na3\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/t.jsonl.1", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("b1\n", fp);
	for (i = 0; i < 100; i++)
		fputc('L', fp);
	fputs("\nb3\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/t.jsonl", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("c1\nc2\n", fp);
	fclose(fp);
	memset(&k, 0, sizeof(k));
	assert_int_equal(logfile_read_tail(dir, "t.jsonl", 1 << 20, 50,
	    (uid_t)-1, keep_line, &k), 0);
	assert_string_equal(k.buf, "a1,a2,a3,b1,b3,c1,c2,");
	/* a budget of 8 bytes: within a3's file? no: c1 c2 are 6, and 2
	 * of b3's line: cut, left out */
	memset(&k, 0, sizeof(k));
	assert_int_equal(logfile_read_tail(dir, "t.jsonl", 8, 50,
	    (uid_t)-1, keep_line, &k), 0);
	assert_string_equal(k.buf, "c1,c2,");
	/* 9: b3's line whole */
	memset(&k, 0, sizeof(k));
	assert_int_equal(logfile_read_tail(dir, "t.jsonl", 9, 50,
	    (uid_t)-1, keep_line, &k), 0);
	assert_string_equal(k.buf, "b3,c1,c2,");
	/* the budget ends in t.jsonl.2: from a2 on */
	memset(&k, 0, sizeof(k));
	assert_int_equal(logfile_read_tail(dir, "t.jsonl", 6 + 107 + 7, 50,
	    (uid_t)-1, keep_line, &k), 0);
	assert_string_equal(k.buf, "a2,a3,b1,b3,c1,c2,");
	/* a writer that keeps writing while root reads: read as far as the
	 * files were (a second review) */
	memset(&k, 0, sizeof(k));
	snprintf(path, sizeof(path), "%s/t.jsonl", dir);
	grow_path = path;
	assert_int_equal(logfile_read_tail(dir, "t.jsonl", 1 << 20, 50,
	    (uid_t)-1, grow_line, &k), 0);
	assert_int_equal(k.n, 7);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A logger taken over that sends its question a byte at a time never
 * makes the root parent wait: each read takes what is there and returns
 * (a read waited up to 2 s for the whole question, and a question a byte
 * every 1.9 s held root's loop a minute, then 2 s a question), and past
 * LOGGER_ASK_MS from its first byte the channel is late, to be closed. */
static void
test_answer_drip(void **state)
{
	const char q[] = { 0, 0, 0, 17, 'h', '0', '0', '0', '0', '0', '0',
	    '0', '0', '0', '0', '0', '0', '0', '0', 'a', 'a' };
	struct logger_chan c;
	long long t0, t, longest = 0;
	int sp[2];
	pid_t pid;
	size_t i;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		for (i = 0; i < sizeof(q); i++) {
			if (write(sp[1], &q[i], 1) != 1)
				_exit(0);
			usleep(300000);
		}
		_exit(0);
	}
	close(sp[1]);
	logger_chan_open(&c, sp[0]);
	t0 = clock_ms();
	while (!logger_chan_late(&c, clock_ms()) && clock_ms() - t0 < 6000) {
		struct pollfd p = { logger_chan_in_fd(&c), POLLIN, 0 };

		poll(&p, 1, 50);
		t = clock_ms();
		assert_int_equal(logger_chan_read(&c, "/nonexistent"), 0);
		if (clock_ms() - t > longest)
			longest = clock_ms() - t;
	}
	t = clock_ms() - t0;
	/* late at about 2 s after its first byte, long before its last
	 * (6 s), and no read waited */
	assert_true(logger_chan_late(&c, clock_ms()));
	assert_true(t >= LOGGER_ASK_MS - 100 && t < LOGGER_ASK_MS + 1000);
	assert_true(longest < 100);
	logger_chan_close(&c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A line of the log read back (moat log prints it to root's terminal):
 * control bytes in its strings are made '?' (found by fuzz_fwlog). */
static void
test_parse_controls(void **state)
{
	struct fwlog_rec r;

	(void)state;
	assert_int_equal(fwlog_parse("{\"time\":\"2026-12-07T12:00:00.000Z\","
	    "\"action\":\"deny\",\"rule\":2,\"file\":\"a\\u001b]0;x\\u0007\","
	    "\"interface\":\"W\\u0008AN\",\"proto\":\"tcp\","
	    "\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.2\"}", &r), 0);
	assert_string_equal(r.file, "a?]0;x?");
	assert_string_equal(r.iface, "W?AN");
}

static void
test_utf8_helpers(void **state)
{
	char out[8], s[] = "ok\xc3 \xff\x01\xe2\x82\xac\xed\xa0\x80!";

	(void)state;
	str_copy_utf8(out, sizeof(out), "abc\xe2\x82\xac\xe2\x82\xac");
	assert_string_equal(out, "abc\xe2\x82\xac");
	str_copy_utf8(out, 4, "ab\xc3\xa9");
	assert_string_equal(out, "ab");
	str_copy_utf8(out, sizeof(out), "short");
	assert_string_equal(out, "short");
	str_clean_utf8(s);
	assert_string_equal(s, "ok? ??\xe2\x82\xac??" "?!");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comment_utf8),
		cmocka_unit_test(test_utf8_helpers),
		cmocka_unit_test(test_nflog_parse),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_headers_apart),
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_rule_id_prefix),
		cmocka_unit_test(test_logger_answer),
		cmocka_unit_test(test_files_of_others),
		cmocka_unit_test(test_read_tail),
		cmocka_unit_test(test_answer_drip),
		cmocka_unit_test(test_parse_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

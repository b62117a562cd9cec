/* fwlog.c: the firewall log's records; see fwlog.h. */
#include "observe/fwlog.h"
#include "observe/logfile.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/file.h"
#include "base/strbuf.h"
#include "enforce/nftc.h"
#include "output/json.h"

static const char *const flag_names[] = {
	"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR",
};

void
fwlog_tcp_flags(unsigned flags, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < 8 && n < len; i++)
		if (flags & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n > 0 ? "," : "", flag_names[i]);
}

/* The transport header at p (len bytes) of protocol proto. */
static void
transport(const uint8_t *p, size_t len, struct fwlog_rec *r)
{
	switch (r->proto) {
	case 6:		/* tcp */
	case 17:	/* udp */
	case 132:	/* sctp */
		if (len < 4)
			return;
		r->has_ports = true;
		r->sport = (unsigned)p[0] << 8 | p[1];
		r->dport = (unsigned)p[2] << 8 | p[3];
		if (r->proto == 6 && len >= 14)
			r->tcp_flags = p[13];
		return;
	case 1:		/* icmp */
	case 58:	/* icmpv6 */
		if (len < 2)
			return;
		r->icmp_type = p[0];
		r->icmp_code = p[1];
		return;
	}
}

/* Whether IPv6 next header h is an extension header walked to the
 * transport's: hop-by-hop, routing, destination options, fragment. */
static bool
ext_header(int h)
{
	return h == 0 || h == 43 || h == 60 || h == 44;
}

/*
 * The network header at p (len bytes) into r: addresses, length and
 * protocol.  *thoff is where the transport header starts, 0 when there
 * is none to read: a later fragment, or IPv6 extension headers that go
 * on past len, which hide the protocol (r->proto is then -1).  whole:
 * the bytes are the packet's, so an IPv4 header longer than len is not
 * one; else the kernel may have cut the header (a trace's).  -1 when it
 * is not an IP header or too short for its addresses.
 */
static int
network(const uint8_t *p, size_t len, bool whole, struct fwlog_rec *r,
    size_t *thoff)
{
	size_t hl;
	int i;

	r->proto = -1;
	r->icmp_type = r->icmp_code = -1;
	*thoff = 0;
	if (len < 1)
		return -1;
	if (p[0] >> 4 == 4) {
		if (len < 20 || (hl = (size_t)(p[0] & 0x0f) * 4) < 20 ||
		    (whole && hl > len))
			return -1;
		r->length = (unsigned)p[2] << 8 | p[3];
		r->proto = p[9];
		r->src = V4_BASE | ((u128)p[12] << 24 | (u128)p[13] << 16 |
		    (u128)p[14] << 8 | p[15]);
		r->dst = V4_BASE | ((u128)p[16] << 24 | (u128)p[17] << 16 |
		    (u128)p[18] << 8 | p[19]);
		/* A later fragment has no transport header. */
		if (((p[6] & 0x1f) << 8 | p[7]) == 0)
			*thoff = hl;
		return 0;
	}
	if (p[0] >> 4 != 6 || len < 40)
		return -1;
	r->length = ((unsigned)p[4] << 8 | p[5]) + 40;
	r->src = r->dst = 0;
	for (i = 0; i < 16; i++) {
		r->src = r->src << 8 | p[8 + i];
		r->dst = r->dst << 8 | p[24 + i];
	}
	r->proto = p[6];
	hl = 40;
	while (ext_header(r->proto)) {
		size_t ext;

		if (hl + 8 > len) {
			r->proto = -1;
			return 0;
		}
		if (r->proto == 44) {
			if (((p[hl + 2] << 8 | p[hl + 3]) & 0xfff8) != 0) {
				r->proto = p[hl];
				return 0;
			}
			ext = 8;
		} else
			ext = ((size_t)p[hl + 1] + 1) * 8;
		r->proto = p[hl];
		hl += ext;
	}
	if (hl <= len)
		*thoff = hl;
	return 0;
}

int
fwlog_headers(const uint8_t *p, size_t len, struct fwlog_rec *r)
{
	size_t thoff;

	if (network(p, len, true, r, &thoff) == -1)
		return -1;
	if (thoff != 0)
		transport(p + thoff, len - thoff, r);
	return 0;
}

int
fwlog_headers_apart(const uint8_t *nh, size_t nhlen, const uint8_t *th,
    size_t thlen, int l4proto, struct fwlog_rec *r)
{
	size_t thoff;
	bool hidden;

	if (network(nh, nhlen, false, r, &thoff) == -1)
		return -1;
	hidden = r->proto == -1;
	if (hidden)
		r->proto = l4proto;
	if (th != NULL && (thoff != 0 || (hidden && r->proto >= 0)))
		transport(th, thlen, r);
	return 0;
}

static bool
action_word(const char *action)
{
	return strcmp(action, "accept") == 0 || strcmp(action, "deny") == 0 ||
	    strcmp(action, "reject") == 0;
}

/* "moat i0123456789abcdef deny" (a rule's id) or "moat dWAN deny" (a
 * default); of before the ids, "moat r5 deny HASH" or "moat dWAN deny
 * HASH" (HASH the config's, 16 hex digits). */
static int
parse_prefix(const char *prefix, struct fwlog_rec *r)
{
	char what[80], action[16], hash[32];
	unsigned long long v;
	char *end;
	int n;

	if (prefix == NULL || strncmp(prefix, NFTC_LOG_PREFIX,
	    sizeof(NFTC_LOG_PREFIX) - 1) != 0)
		return -1;
	n = sscanf(prefix + sizeof(NFTC_LOG_PREFIX) - 1, "%79s %15s %31s",
	    what, action, hash);
	if ((n != 2 && n != 3) || !action_word(action))
		return -1;
	snprintf(r->action, sizeof(r->action), "%.7s", action);
	if (n == 3) {
		errno = 0;
		v = strtoull(hash, &end, 16);
		if (*end != '\0' || errno != 0 || hash[0] == '-')
			return -1;
		r->hash = v;
	}
	if (what[0] == NFTC_LOG_RULE[0] && n == 2) {
		errno = 0;
		v = strtoull(what + 1, &end, 16);
		if (strlen(what + 1) != 16 || *end != '\0' || errno != 0 ||
		    v == 0)
			return -1;
		r->rule_id = v;
	} else if (what[0] == 'r' && n == 3) {
		long num = strtol(what + 1, &end, 10);

		if (*end != '\0' || num <= 0 || num > 10000000)
			return -1;
		r->rule = (int)num;
	} else if (what[0] == 'd' && what[1] != '\0') {
		/* (any table may log to the group: its bytes made valid
		 * UTF-8 without control bytes, for the JSON record) */
		str_copy_utf8(r->iface, sizeof(r->iface), what + 1);
		str_clean_utf8(r->iface);
	}
	else
		return -1;
	return 0;
}

/* A device's name from its index, remembered for a second (a flood of
 * records would otherwise ask the kernel twice a packet). */
static int names_fd = -1;

void
fwlog_names_fd(int fd)
{
	names_fd = fd;
}

/* index's name into name (IF_NAMESIZE bytes): 0, or -1. */
static int
index_name(uint32_t index, char *name)
{
	struct ifreq ifr;

	if (names_fd == -1)
		return if_indextoname(index, name) != NULL ? 0 : -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)index;
	if (ioctl(names_fd, SIOCGIFNAME, &ifr) == -1)
		return -1;
	memcpy(name, ifr.ifr_name, IF_NAMESIZE);
	name[IF_NAMESIZE - 1] = '\0';
	return 0;
}

static void
dev_name(uint32_t index, char *name)
{
	static struct {
		uint32_t	index;
		time_t		when;
		char		name[IF_NAMESIZE];
	} cache[16];
	time_t now = time(NULL);
	unsigned slot = index % 16;

	if (cache[slot].index == index && cache[slot].when == now) {
		memcpy(name, cache[slot].name, IF_NAMESIZE);
		return;
	}
	if (index_name(index, name) == -1)
		snprintf(name, IF_NAMESIZE, "if%u", (unsigned)index);
	cache[slot].index = index;
	cache[slot].when = now;
	memcpy(cache[slot].name, name, IF_NAMESIZE);
}

int
fwlog_from_packet(const struct nflog_pkt *pkt, struct fwlog_rec *r)
{
	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_REALTIME, &r->when);
	if (parse_prefix(pkt->prefix, r) == -1 || pkt->payload == NULL ||
	    fwlog_headers(pkt->payload, pkt->plen, r) == -1)
		return -1;
	if (pkt->indev != 0)
		dev_name(pkt->indev, r->in_dev);
	if (pkt->outdev != 0)
		dev_name(pkt->outdev, r->out_dev);
	return 0;
}

static const char *
zone_of(const struct policy *p, const char *dev)
{
	size_t i;

	for (i = 0; dev[0] != '\0' && i < p->niface; i++)
		if (strcmp(p->ifaces[i]->device, dev) == 0)
			return p->ifaces[i]->name;
	return "";
}

int
fwlog_annotate(struct fwlog_rec *r, const struct policy *p, const char *file)
{
	const char *base = strrchr(file, '/');
	const struct rule *rule = NULL;
	size_t i;

	if (r->rule_id != 0) {
		if ((rule = policy_rule_by_id(p, r->rule_id)) == NULL)
			return -1;
		r->rule = rule->number;
	}
	str_copy_utf8(r->file, sizeof(r->file), base != NULL ? base + 1 :
	    file);
	snprintf(r->in, sizeof(r->in), "%s", zone_of(p, r->in_dev));
	snprintf(r->out, sizeof(r->out), "%s", zone_of(p, r->out_dev));
	for (i = 0; rule == NULL && r->rule > 0 && i < p->nrule; i++)
		if (p->rules[i]->number == r->rule)
			rule = p->rules[i];
	if (rule != NULL) {
		r->rule_id = rule->id;
		r->line = rule->loc.line;
		/* Cut where a character ends: a split one would make the
		 * record's JSON unreadable. */
		str_copy_utf8(r->comment, sizeof(r->comment),
		    rule->comment != NULL ? rule->comment : "");
		return 0;
	}
	for (i = 0; r->rule == 0 && i < p->niface; i++)
		if (strcmp(p->ifaces[i]->name, r->iface) == 0)
			r->line = p->ifaces[i]->loc.line;
	return 0;
}

static void
key(struct strbuf *b, const char *k)
{
	strbuf_printf(b, ",\"%s\":", k);
}

static void
str_or_null(struct strbuf *b, const char *k, const char *v)
{
	key(b, k);
	if (v[0] == '\0')
		strbuf_puts(b, "null");
	else
		json_put_string(b, v);
}

static void
int_or_null(struct strbuf *b, const char *k, bool has, long long v)
{
	key(b, k);
	if (has)
		strbuf_printf(b, "%lld", v);
	else
		strbuf_puts(b, "null");
}

static void
format_time(const struct timespec *t, char *buf, size_t len, bool iso)
{
	struct tm tm;
	char s[32];

	if (iso) {
		gmtime_r(&t->tv_sec, &tm);
		strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, len, "%s.%03ldZ", s, t->tv_nsec / 1000000);
	} else {
		localtime_r(&t->tv_sec, &tm);
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	}
}

void
fwlog_json(const struct fwlog_rec *r, struct strbuf *b)
{
	const struct proto_info *pi = r->proto >= 0 ?
	    builtin_proto_by_number(r->proto) : NULL;
	char buf[ADDR_STRLEN + 40];

	format_time(&r->when, buf, sizeof(buf), true);
	strbuf_puts(b, "{\"time\":");
	json_put_string(b, buf);
	key(b, "action");
	json_put_string(b, r->action);
	int_or_null(b, "rule", r->rule > 0, r->rule);
	key(b, "by");
	json_put_string(b, r->rule > 0 ? "rule" : "default");
	str_or_null(b, "interface", r->rule > 0 ? "" : r->iface);
	int_or_null(b, "line", r->line > 0, r->line);
	str_or_null(b, "file", r->file);
	str_or_null(b, "comment", r->comment);
	str_or_null(b, "in", r->in);
	str_or_null(b, "in_device", r->in_dev);
	str_or_null(b, "out", r->out);
	str_or_null(b, "out_device", r->out_dev);
	key(b, "proto");
	if (pi != NULL)
		json_put_string(b, pi->name);
	else if (r->proto >= 0)
		strbuf_printf(b, "%d", r->proto);
	else
		strbuf_puts(b, "null");
	addr_format(r->src, buf, sizeof(buf));
	key(b, "src");
	json_put_string(b, buf);
	addr_format(r->dst, buf, sizeof(buf));
	key(b, "dst");
	json_put_string(b, buf);
	int_or_null(b, "sport", r->has_ports, r->sport);
	int_or_null(b, "dport", r->has_ports, r->dport);
	int_or_null(b, "length", true, r->length);
	fwlog_tcp_flags(r->tcp_flags, buf, sizeof(buf));
	str_or_null(b, "tcp_flags", r->proto == 6 ? buf : "");
	int_or_null(b, "icmp_type", r->icmp_type >= 0, r->icmp_type);
	int_or_null(b, "icmp_code", r->icmp_code >= 0, r->icmp_code);
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)r->rule_id);
	str_or_null(b, "rule_id", r->rule_id != 0 ? buf : "");
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)r->hash);
	str_or_null(b, "policy", r->hash != 0 ? buf : "");
	strbuf_putc(b, '}');
}

/* The string k of o into out: whole characters, and a control byte made
 * '?' (a line of the log file is printed to the admin's terminal by
 * `moat log`: whatever wrote it, it cannot move the cursor or set the
 * terminal's title). */
static void
get_str(json_t *o, const char *k, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	str_copy_utf8(out, len, s != NULL ? s : "");
	str_clean_utf8(out);
}

static long long
get_int(json_t *o, const char *k, long long dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int
fwlog_parse(const char *line, struct fwlog_rec *r)
{
	json_t *o = json_loads(line, JSON_DECODE_ANY, NULL);
	char buf[64], flags[64];
	const struct proto_info *pi;
	enum addr_family fam;
	struct tm tm;
	int ms = 0, rc = -1;
	json_t *proto;
	char *rest;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		goto out;
	get_str(o, "time", buf, sizeof(buf));
	memset(&tm, 0, sizeof(tm));
	if ((rest = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		goto out;
	sscanf(rest, ".%3dZ", &ms);
	r->when.tv_sec = timegm(&tm);
	r->when.tv_nsec = (long)ms * 1000000;
	get_str(o, "action", r->action, sizeof(r->action));
	r->rule = (int)get_int(o, "rule", 0);
	get_str(o, "interface", r->iface, sizeof(r->iface));
	r->line = (int)get_int(o, "line", 0);
	get_str(o, "file", r->file, sizeof(r->file));
	get_str(o, "comment", r->comment, sizeof(r->comment));
	get_str(o, "in", r->in, sizeof(r->in));
	get_str(o, "in_device", r->in_dev, sizeof(r->in_dev));
	get_str(o, "out", r->out, sizeof(r->out));
	get_str(o, "out_device", r->out_dev, sizeof(r->out_dev));
	proto = json_object_get(o, "proto");
	if (json_is_integer(proto))
		r->proto = json_integer_value(proto) >= 0 &&
		    json_integer_value(proto) <= 255 ?
		    (int)json_integer_value(proto) : -1;
	else if ((pi = builtin_proto_by_name(json_string_value(proto) ?
	    json_string_value(proto) : "")) != NULL)
		r->proto = pi->number;
	else
		r->proto = -1;
	get_str(o, "src", buf, sizeof(buf));
	if (addr_parse(buf, &r->src, &fam, flags, sizeof(flags)) == -1)
		goto out;
	get_str(o, "dst", buf, sizeof(buf));
	if (addr_parse(buf, &r->dst, &fam, flags, sizeof(flags)) == -1)
		goto out;
	r->has_ports = json_is_integer(json_object_get(o, "sport"));
	r->sport = (unsigned)get_int(o, "sport", 0);
	r->dport = (unsigned)get_int(o, "dport", 0);
	r->length = (unsigned)get_int(o, "length", 0);
	get_str(o, "tcp_flags", flags, sizeof(flags));
	for (i = 0; i < 8; i++) {
		const char *f = strstr(flags, flag_names[i]);

		if (f != NULL)
			r->tcp_flags |= 1u << i;
	}
	r->icmp_type = (int)get_int(o, "icmp_type", -1);
	r->icmp_code = (int)get_int(o, "icmp_code", -1);
	get_str(o, "rule_id", buf, sizeof(buf));
	r->rule_id = strtoull(buf, NULL, 16);
	get_str(o, "policy", buf, sizeof(buf));
	r->hash = strtoull(buf, NULL, 16);
	rc = r->action[0] != '\0' ? 0 : -1;
out:
	json_decref(o);
	return rc;
}

/* An address and port: 1.2.3.4:25, [2001:db8::1]:25, or the address. */
static void
endpoint(struct strbuf *b, u128 a, bool port, unsigned p)
{
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	if (!port)
		strbuf_puts(b, buf);
	else if (addr_family_of(a) == FAM_V6)
		strbuf_printf(b, "[%s]:%u", buf, p);
	else
		strbuf_printf(b, "%s:%u", buf, p);
}

void
fwlog_text(const struct fwlog_rec *r, struct strbuf *b)
{
	char buf[64];

	format_time(&r->when, buf, sizeof(buf), false);
	strbuf_printf(b, "%s %s by ", buf, r->action);
	if (r->rule > 0)
		strbuf_printf(b, "rule %d", r->rule);
	else
		strbuf_printf(b, "the default of %s", r->iface);
	if (r->line > 0)
		strbuf_printf(b, " (%s:%d)", r->file[0] ? r->file : "?",
		    r->line);
	strbuf_putc(b, ' ');
	fwlog_packet_text(r, b);
}

void
fwlog_packet_text(const struct fwlog_rec *r, struct strbuf *b)
{
	const struct proto_info *pi = r->proto >= 0 ?
	    builtin_proto_by_number(r->proto) : NULL;
	char buf[64];

	strbuf_printf(b, "%s ", r->in[0] != '\0' ? r->in : r->in_dev[0] !=
	    '\0' ? r->in_dev : "?");
	endpoint(b, r->src, r->has_ports, r->sport);
	strbuf_puts(b, " -> ");
	endpoint(b, r->dst, r->has_ports, r->dport);
	if (pi != NULL)
		strbuf_printf(b, " %s", pi->name);
	else if (r->proto >= 0)
		strbuf_printf(b, " proto %d", r->proto);
	else
		strbuf_puts(b, " protocol not seen");
	if (r->proto == 6) {
		fwlog_tcp_flags(r->tcp_flags, buf, sizeof(buf));
		strbuf_printf(b, " %s", buf);
	} else if (r->icmp_type >= 0) {
		const char *name = builtin_icmp_name(r->proto, r->icmp_type);

		if (name != NULL)
			strbuf_printf(b, " %s", name);
		else
			strbuf_printf(b, " type %d", r->icmp_type);
	}
}

int
fwlog_stats_write(const char *run, const struct fwlog_stats *st)
{
	char path[4200];
	struct strbuf b;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/" FWLOG_STATS, run);
	strbuf_init(&b, 0);
	strbuf_puts(&b, "{\"file\":");
	json_put_string(&b, st->file);
	strbuf_printf(&b, ",\"written\":%llu,\"lost_kernel\":%llu,"
	    "\"lost_disk\":%llu,\"unreadable\":%llu,\"error\":",
	    (unsigned long long)st->written,
	    (unsigned long long)st->lost_kernel,
	    (unsigned long long)st->lost_disk,
	    (unsigned long long)st->unreadable);
	json_put_string(&b, st->error);
	strbuf_printf(&b, ",\"updated\":%lld}\n", st->updated);
	if (!strbuf_failed(&b) && file_replace(path, strbuf_str(&b), b.len,
	    0644, FILE_NOSYNC) == 0)
		rc = 0;
	strbuf_free(&b);
	return rc;
}

#define STATS_MAX	65536	/* bytes of the logger's figures */

int
fwlog_stats_read(const char *run, struct fwlog_stats *st)
{
	char path[4200];
	struct stat sb;
	json_t *o;
	FILE *fp;

	memset(st, 0, sizeof(*st));
	/* Written by moat-log in its own directory: read there, a regular
	 * file only (not through the link beside it, nor one the logger
	 * left), and small. */
	snprintf(path, sizeof(path), "%s/" FWLOG_RUN_SUBDIR "/" FWLOG_STATS,
	    run);
	if ((fp = logfile_open_read(path)) == NULL) {
		/* (a run directory of before: the file itself) */
		snprintf(path, sizeof(path), "%s/" FWLOG_STATS, run);
		if ((fp = logfile_open_read(path)) == NULL)
			return -1;
	}
	o = fstat(fileno(fp), &sb) == 0 && sb.st_size <= STATS_MAX ?
	    json_loadf(fp, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	fclose(fp);
	if (o == NULL)
		return -1;
	get_str(o, "file", st->file, sizeof(st->file));
	st->written = (uint64_t)get_int(o, "written", 0);
	st->lost_kernel = (uint64_t)get_int(o, "lost_kernel", 0);
	st->lost_disk = (uint64_t)get_int(o, "lost_disk", 0);
	st->unreadable = (uint64_t)get_int(o, "unreadable", 0);
	get_str(o, "error", st->error, sizeof(st->error));
	st->updated = get_int(o, "updated", 0);
	json_decref(o);
	return 0;
}

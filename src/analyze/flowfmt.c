/* flowfmt.c: flow lines; see flowfmt.h. */
#include "analyze/flowfmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX	64

/* Split line into at most FIELDS_MAX words (modified in place). */
static int
split(char *line, char **w)
{
	int n = 0;
	char *s = line;

	while (n < FIELDS_MAX) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#')
			break;
		w[n++] = s;
		while (*s != '\0' && !isspace((unsigned char)*s))
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	return n;
}

int
flow_parse_number(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* tcp, udp, …, or a protocol number. */
static int
parse_proto(const char *s, int *out)
{
	const struct proto_info *pi = builtin_proto_by_name(s);
	unsigned n;

	if (pi != NULL) {
		*out = pi->number;
		return 0;
	}
	if (strcmp(s, "ipv6-icmp") == 0) {
		*out = 58;
		return 0;
	}
	if (flow_parse_number(s, 255, &n) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

static int
parse_addrs(const char *src, const char *dst, struct flow *f, char *err,
    size_t errlen)
{
	enum addr_family fs, fd;

	if (addr_parse(src, &f->src, &fs, err, errlen) == -1 ||
	    addr_parse(dst, &f->dst, &fd, err, errlen) == -1)
		return -1;
	if (fs != fd) {
		snprintf(err, errlen, "source and destination are of two "
		    "families");
		return -1;
	}
	return 0;
}

static const char *
kv(char **w, int n, const char *key)
{
	size_t len = strlen(key);
	int i;

	for (i = 0; i < n; i++)
		if (strncmp(w[i], key, len) == 0 && w[i][len] == '=')
			return w[i] + len + 1;
	return NULL;
}

static int
parse_conntrack(char **w, int n, const struct iface *ifc, struct flow *f,
    char *err, size_t errlen)
{
	const char *src = kv(w, n, "src"), *dst = kv(w, n, "dst");
	const char *port = kv(w, n, "dport");
	int i;

	if (ifc == NULL) {
		snprintf(err, errlen, "a conntrack line names no interface: "
		    "give --in IF");
		return -1;
	}
	f->iface = ifc;
	if (src == NULL || dst == NULL) {
		snprintf(err, errlen, "no src= or dst=");
		return -1;
	}
	/* The protocol is the first word that names one ("ipv4 2 tcp 6 …"
	 * with -o extended, "tcp 6 …" without). */
	f->proto = -1;
	for (i = 0; i < n && f->proto == -1; i++)
		if (strchr(w[i], '=') == NULL && !isdigit((unsigned char)w[i][0]))
			parse_proto(w[i], &f->proto);
	if (f->proto == -1) {
		snprintf(err, errlen, "no protocol");
		return -1;
	}
	if (f->proto == 1 || f->proto == 58)
		port = kv(w, n, "type");
	f->dport = 0;
	if (port != NULL && flow_parse_number(port, 65535, &f->dport) == -1) {
		snprintf(err, errlen, "bad port or type '%s'", port);
		return -1;
	}
	return parse_addrs(src, dst, f, err, errlen);
}

int
flow_set_service(const struct policy *p, const char *name,
    enum addr_family fam, struct flow *f, char *err, size_t errlen)
{
	const struct service *s = policy_service(p, name);
	const struct svc_entry *e;
	size_t i;

	if (s == NULL) {
		snprintf(err, errlen, "unknown service '%s'", name);
		return -1;
	}
	/* The first protocol of the service that the family has: PING is
	 * icmp for IPv4 and icmpv6 for IPv6. */
	for (i = 0; i < s->n && !(s->v[i].proto->family & fam); i++)
		;
	if (i == s->n) {
		snprintf(err, errlen, "service %s does not exist in this "
		    "address family", name);
		return -1;
	}
	e = &s->v[i];
	if (e->n == 0 && e->proto->kind != PK_NONE) {
		snprintf(err, errlen, "service %s covers every port or type: "
		    "give a protocol and a port", name);
		return -1;
	}
	f->proto = e->proto->number;
	f->dport = e->n > 0 ? e->v[0].lo : 0;
	return 0;
}

int
flow_set_proto(const char *proto, const char *port, enum addr_family fam,
    struct flow *f, char *err, size_t errlen)
{
	const struct proto_info *pi;
	int t;

	if (parse_proto(proto, &f->proto) == -1) {
		snprintf(err, errlen, "unknown protocol '%s'", proto);
		return -1;
	}
	pi = builtin_proto_by_number(f->proto);
	f->dport = 0;
	if (pi != NULL && !(pi->family & fam)) {
		snprintf(err, errlen, "%s does not exist in this address "
		    "family", pi->name);
		return -1;
	}
	if (pi == NULL || pi->kind == PK_NONE)
		return 0;
	if (port == NULL) {
		snprintf(err, errlen, "%s needs a %s", pi->name,
		    pi->kind == PK_PORTS ? "port" : "type");
		return -1;
	}
	if (pi->kind == PK_TYPES && (t = builtin_icmp_type(f->proto,
	    port)) != -1)
		f->dport = (unsigned)t;
	else if (flow_parse_number(port, pi->kind == PK_PORTS ? 65535 : 255,
	    &f->dport) == -1) {
		snprintf(err, errlen, "'%s' is not a %s", port,
		    pi->kind == PK_PORTS ? "port" : "type");
		return -1;
	}
	return 0;
}

int
flow_parse_line(const struct policy *p, const char *line,
    const struct iface *default_iface, struct flow *f, char *err,
    size_t errlen)
{
	char buf[4096], *w[FIELDS_MAX];
	int n;

	if (strlen(line) >= sizeof(buf)) {
		snprintf(err, errlen, "line longer than %zu bytes",
		    sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, line);
	if ((n = split(buf, w)) == 0)
		return 0;
	memset(f, 0, sizeof(*f));
	if (strstr(line, "src=") != NULL)
		return parse_conntrack(w, n, default_iface, f, err, errlen) ==
		    -1 ? -1 : 1;
	if (n < 4 || n > 5) {
		snprintf(err, errlen, "expected IF SRC DST PROTO [PORT|TYPE] "
		    "or a conntrack line");
		return -1;
	}
	if ((f->iface = policy_iface(p, w[0])) == NULL) {
		snprintf(err, errlen, "unknown interface '%s'", w[0]);
		return -1;
	}
	if (parse_addrs(w[1], w[2], f, err, errlen) == -1)
		return -1;
	return flow_set_proto(w[3], n == 5 ? w[4] : NULL,
	    addr_family_of(f->src), f, err, errlen) == -1 ? -1 : 1;
}

/* addr.c: address literals; see addr.h. */
#include "base/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum addr_family
addr_family_of(u128 a)
{
	return (a >> 32) == 0xffff ? FAM_V4 : FAM_V6;
}

enum addr_family
addr_set_families(struct iset s)
{
	enum addr_family f = FAM_NONE;
	size_t i;

	for (i = 0; i < s.n; i++) {
		if (s.v[i].lo <= V4_LAST && s.v[i].hi >= V4_BASE)
			f |= FAM_V4;
		if (s.v[i].lo < V4_BASE || s.v[i].hi > V4_LAST)
			f |= FAM_V6;
	}
	return f;
}

size_t
addr_span(u128 lo, u128 hi, enum addr_family fam, struct ival out[2])
{
	size_t n = 0;

	if (lo > hi)
		return 0;
	if (fam != FAM_V6) {
		out[0].lo = lo;
		out[0].hi = hi;
		return 1;
	}
	if (lo < V4_BASE) {
		out[n].lo = lo;
		out[n++].hi = hi < V4_BASE ? hi : V4_BASE - 1;
	}
	if (hi > V4_LAST) {
		out[n].lo = lo > V4_LAST ? lo : V4_LAST + 1;
		out[n++].hi = hi;
	}
	return n;
}

size_t
addr_split(const struct ival *v, struct ival out[3])
{
	u128 lo = v->lo, hi = v->hi;
	size_t n = 0;

	if (lo < V4_BASE) {
		out[n].lo = lo;
		out[n++].hi = hi < V4_BASE ? hi : V4_BASE - 1;
		if (hi < V4_BASE)
			return n;
		lo = V4_BASE;
	}
	if (lo <= V4_LAST) {
		out[n].lo = lo;
		out[n++].hi = hi <= V4_LAST ? hi : V4_LAST;
		if (hi <= V4_LAST)
			return n;
		lo = V4_LAST + 1;
	}
	out[n].lo = lo;
	out[n++].hi = hi;
	return n;
}

struct iset
addr_lit_set(struct arena *a, const struct addr_lit *lit)
{
	struct ival v[2];

	return iset_from(a, v, addr_span(lit->lo, lit->hi, lit->family, v));
}

int
addr_parse(const char *s, u128 *out, enum addr_family *fam, char *err,
    size_t errlen)
{
	unsigned char b[16];
	struct in_addr in4;
	u128 v = 0;
	int i;

	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, &in4) != 1) {
			snprintf(err, errlen, "'%s' is not an IPv4 address", s);
			return -1;
		}
		*out = V4_BASE | ntohl(in4.s_addr);
		*fam = FAM_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) != 1) {
		snprintf(err, errlen, "'%s' is not an IPv6 address", s);
		return -1;
	}
	for (i = 0; i < 16; i++)
		v = v << 8 | b[i];
	if (addr_family_of(v) == FAM_V4) {
		struct in_addr m = { htonl((uint32_t)v) };
		char v4[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &m, v4, sizeof(v4));
		snprintf(err, errlen, "'%s' is an IPv4-mapped address "
		    "(::ffff:0:0/96), which no IPv6 packet carries: write the "
		    "IPv4 address %s to match IPv4", s, v4);
		return -1;
	}
	*out = v;
	*fam = FAM_V6;
	return 0;
}

/* An octet's decimal digits from the left, and their number in the
 * fourth byte: copied 4 bytes at once, without a branch on the number of
 * digits (random addresses mispredict it) and without a division. */
#define OCTET(o) { \
	(char)('0' + ((o) >= 100 ? (o) / 100 : (o) >= 10 ? (o) / 10 : (o))), \
	(char)('0' + ((o) >= 100 ? (o) / 10 % 10 : (o) % 10)), \
	(char)('0' + (o) % 10), \
	(char)((o) >= 100 ? 3 : (o) >= 10 ? 2 : 1) }
#define OCTET4(o)	OCTET(o), OCTET((o) + 1), OCTET((o) + 2), OCTET((o) + 3)
#define OCTET16(o)	OCTET4(o), OCTET4((o) + 4), OCTET4((o) + 8), \
			OCTET4((o) + 12)
#define OCTET64(o)	OCTET16(o), OCTET16((o) + 16), OCTET16((o) + 32), \
			OCTET16((o) + 48)
static const char octet_text[256][4] = {
	OCTET64(0), OCTET64(64), OCTET64(128), OCTET64(192),
};

/* Address a's IPv4 text (a.b.c.d) at s, NUL after it; its length. */
static size_t
v4_text(uint32_t a, char *s)
{
	char *p = s;
	int i;

	for (i = 24; i >= 0; i -= 8) {
		const char *d = octet_text[(a >> i) & 255];

		memcpy(p, d, 4);	/* inside INET_ADDRSTRLEN */
		p += d[3];
		*p++ = i > 0 ? '.' : '\0';
	}
	return (size_t)(p - s) - 1;
}

/*
 * IPv6 text as inet_ntop writes it (RFC 5952), without its printf: eight
 * groups in lower-case hex without leading zeros, the longest run of two
 * or more zero groups (the first of equal ones) as "::", and the last
 * four bytes as IPv4 when the run is the first five groups followed by
 * ffff (never here: moat holds those as IPv4), or the first six.  buf
 * has INET6_ADDRSTRLEN bytes.  Its length.
 */
static size_t
v6_text(u128 a, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int i, run = -1, runlen = 0, at = -1, len = 0;
	char *s = buf;

	for (i = 7; i >= 0; i--, a >>= 16)
		w[i] = (unsigned)(a & 0xffff);
	for (i = 0; i <= 8; i++) {
		if (i < 8 && w[i] == 0) {
			if (at == -1)
				at = i, len = 0;
			len++;
			continue;
		}
		if (at != -1 && len > runlen)
			run = at, runlen = len;
		at = -1;
	}
	if (runlen < 2)
		run = -1;
	for (i = 0; i < 8; i++) {
		int sh;

		if (run != -1 && i >= run && i < run + runlen) {
			if (i == run)
				*s++ = ':';
			continue;
		}
		if (i != 0)
			*s++ = ':';
		if (i == 6 && run == 0 && (runlen == 6 || (runlen == 5 &&
		    w[5] == 0xffff))) {
			s += v4_text((uint32_t)w[6] << 16 | w[7], s);
			return (size_t)(s - buf);
		}
		for (sh = 12; sh > 0 && (w[i] >> sh) == 0; sh -= 4)
			;
		for (; sh >= 0; sh -= 4)
			*s++ = hex[(w[i] >> sh) & 15];
	}
	if (run != -1 && run + runlen == 8)
		*s++ = ':';
	*s = '\0';
	return (size_t)(s - buf);
}

void
addr_format(u128 a, char *buf, size_t len)
{
	addr_format_len(a, buf, len);
}

size_t
addr_format_len(u128 a, char *buf, size_t len)
{
	unsigned char b[16];
	struct in_addr in4;
	int i;

	/* inet_ntop's text, without its printf: a replay formats
	 * millions */
	if (addr_family_of(a) == FAM_V4 && len >= INET_ADDRSTRLEN)
		return v4_text((uint32_t)a, buf);
	if (addr_family_of(a) == FAM_V6 && len >= INET6_ADDRSTRLEN)
		return v6_text(a, buf);
	if (addr_family_of(a) == FAM_V4) {
		in4.s_addr = htonl((uint32_t)a);
		if (inet_ntop(AF_INET, &in4, buf, (socklen_t)len) == NULL)
			goto none;
		return strlen(buf);
	}
	for (i = 15; i >= 0; i--) {
		b[i] = (unsigned char)a;
		a >>= 8;
	}
	if (inet_ntop(AF_INET6, b, buf, (socklen_t)len) == NULL)
		goto none;
	return strlen(buf);
none:
	if (len > 0)
		buf[0] = '\0';
	return 0;
}

void
addr_network(u128 a, enum addr_family fam, int plen, u128 *lo, u128 *hi)
{
	int bits = fam == FAM_V4 ? 32 : 128;
	int host = bits - plen;
	u128 mask = host >= 128 ? U128_MAX : (((u128)1 << host) - 1);

	*lo = a & ~mask;
	*hi = a | mask;
	if (fam == FAM_V4) {
		*lo |= V4_BASE;
		*hi = (*hi & 0xffffffffu) | V4_BASE;
	}
}

/* Prefix length of a dotted IPv4 mask, or -1 if its ones are not contiguous. */
static int
mask_to_plen(u128 mask)
{
	uint32_t m = (uint32_t)mask, inv = ~m;

	if ((inv & (inv + 1)) != 0)
		return -1;
	return __builtin_popcount(m);
}

static int
parse_plen(const char *s, enum addr_family fam, char *err, size_t errlen)
{
	int max = fam == FAM_V4 ? 32 : 128;
	char *end;
	long v;

	if (*s == '\0' || strlen(s) > 3 || s[0] == '+' || s[0] == '-') {
		snprintf(err, errlen, "'/%s' is not a prefix length", s);
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0) {
		snprintf(err, errlen, "'/%s' is not a prefix length", s);
		return -1;
	}
	if (v < 0 || v > max) {
		snprintf(err, errlen, "prefix length /%ld out of range for "
		    "%s (0 to %d)", v, fam == FAM_V4 ? "IPv4" : "IPv6", max);
		return -1;
	}
	return (int)v;
}

int
addr_parse_lit(const char *s, bool host_bits, struct addr_lit *out, char *err,
    size_t errlen, char *hint, size_t hintlen)
{
	char buf[128], netbuf[ADDR_STRLEN], *slash, *dash;
	enum addr_family fam2;
	u128 a, b, lo, hi;

	if (hint != NULL && hintlen > 0)
		hint[0] = '\0';
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "address literal too long");
		return -1;
	}
	strcpy(buf, s);
	memset(out, 0, sizeof(*out));

	if ((dash = strchr(buf, '-')) != NULL) {
		*dash = '\0';
		if (addr_parse(buf, &a, &out->family, err, errlen) == -1 ||
		    addr_parse(dash + 1, &b, &fam2, err, errlen) == -1)
			return -1;
		if (out->family != fam2) {
			snprintf(err, errlen, "range %s mixes IPv4 and IPv6", s);
			return -1;
		}
		if (a > b) {
			snprintf(err, errlen, "reversed range %s: the first "
			    "address must not be above the last", s);
			if (hint != NULL)
				snprintf(hint, hintlen, "%s-%s", dash + 1, buf);
			return -1;
		}
		out->kind = a == b ? LIT_HOST : LIT_RANGE;
		out->lo = a;
		out->hi = b;
		return 0;
	}
	if ((slash = strchr(buf, '/')) == NULL) {
		if (addr_parse(buf, &a, &out->family, err, errlen) == -1)
			return -1;
		out->kind = LIT_HOST;
		out->lo = out->hi = a;
		return 0;
	}
	*slash = '\0';
	if (addr_parse(buf, &a, &out->family, err, errlen) == -1)
		return -1;
	if (strchr(slash + 1, '.') != NULL) {
		if (out->family != FAM_V4) {
			snprintf(err, errlen, "a dotted mask needs an IPv4 "
			    "address; write IPv6 prefixes as /LENGTH");
			return -1;
		}
		if (addr_parse(slash + 1, &b, &fam2, err, errlen) == -1 ||
		    fam2 != FAM_V4) {
			snprintf(err, errlen, "'%s' is not a netmask",
			    slash + 1);
			return -1;
		}
		if ((out->plen = mask_to_plen(b)) == -1) {
			snprintf(err, errlen, "netmask %s is not contiguous "
			    "(its one bits must come first)", slash + 1);
			return -1;
		}
	} else if ((out->plen = parse_plen(slash + 1, out->family, err,
	    errlen)) == -1)
		return -1;

	addr_network(a, out->family, out->plen, &lo, &hi);
	if (!host_bits && a != lo) {
		addr_format(lo, netbuf, sizeof(netbuf));
		snprintf(err, errlen, "%s has host bits set under its mask",
		    s);
		if (hint != NULL)
			snprintf(hint, hintlen, "%s/%d", netbuf, out->plen);
		return -1;
	}
	out->kind = lo == hi ? LIT_HOST : LIT_PREFIX;
	out->lo = host_bits ? a : lo;
	out->hi = host_bits ? a : hi;
	if (host_bits) {
		/* An interface address: keep the host, remember the network. */
		out->kind = LIT_PREFIX;
	}
	return 0;
}

void
addr_lit_format(const struct addr_lit *lit, char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	addr_format(lit->lo, a, sizeof(a));
	switch (lit->kind) {
	case LIT_HOST:
		snprintf(buf, len, "%s", a);
		break;
	case LIT_PREFIX:
		snprintf(buf, len, "%s/%d", a, lit->plen);
		break;
	case LIT_RANGE:
		addr_format(lit->hi, b, sizeof(b));
		snprintf(buf, len, "%s-%s", a, b);
		break;
	}
}

int
addr_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	char host[256], *colon, *h = host;

	snprintf(host, sizeof(host), "%s", s);
	if ((colon = strrchr(host, ':')) == NULL || colon == host)
		return -1;
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		h++;
	}
	if (getaddrinfo(h, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

void
addr_sockaddr_host(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in6 *in6 = (const void *)ss;
	char host[INET6_ADDRSTRLEN];

	host[0] = '\0';
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    ss)->sin_addr, host, sizeof(host));
	else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host,
		    sizeof(host));	/* IPv4-mapped: said as IPv4 */
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
	snprintf(buf, len, "%s", host[0] != '\0' ? host : "?");
}

void
addr_sockaddr_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	addr_sockaddr_host(ss, host, sizeof(host));
	if (strcmp(host, "?") == 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%u" :
		    "%s:%u", host, ntohs(((const struct sockaddr_in *)(const
		    void *)ss)->sin_port));
}

bool
addr_is_local(const struct sockaddr_storage *ss)
{
	struct ifaddrs *ifs, *i;
	bool local = false;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		if ((ntohl(a->sin_addr.s_addr) >> 24) == 127)
			return true;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return true;
	} else
		return true;
	if (getifaddrs(&ifs) == -1)
		return true;
	for (i = ifs; i != NULL && !local; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family !=
		    ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET)
			local = ((const struct sockaddr_in *)ss)->sin_addr.s_addr
			    == ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		else
			local = memcmp(&((const struct sockaddr_in6 *)ss)->
			    sin6_addr, &((struct sockaddr_in6 *)i->ifa_addr)->
			    sin6_addr, sizeof(struct in6_addr)) == 0;
	}
	freeifaddrs(ifs);
	return local;
}

bool
addr_not_unicast(u128 a, enum addr_family fam)
{
	if (fam == FAM_V4) {
		unsigned v = (unsigned)(a & 0xffffffffu);

		return (v >> 24) == 127 || (v >> 24) == 0 ||
		    (v >> 28) == 0xe || v == 0xffffffffu;
	}
	/* ::, ::1, ff00::/8 */
	return a <= 1 || (unsigned)(a >> 120) == 0xff;
}

void
addr_pack_count(struct iset s, size_t *n4, size_t *n6)
{
	struct ival piece[3];
	size_t i, k, n;

	*n4 = *n6 = 0;
	for (i = 0; i < s.n; i++)
		for (n = addr_split(&s.v[i], piece), k = 0; k < n; k++)
			if (addr_family_of(piece[k].lo) == FAM_V4)
				(*n4)++;
			else
				(*n6)++;
}

void
addr_pack(struct iset s, unsigned char *p4, unsigned char *p6)
{
	struct ival piece[3];
	size_t i, k, n;

	for (i = 0; i < s.n; i++)
		for (n = addr_split(&s.v[i], piece), k = 0; k < n; k++) {
			if (addr_family_of(piece[k].lo) == FAM_V4) {
				uint32_t w[2] = { (uint32_t)piece[k].lo,
				    (uint32_t)piece[k].hi };

				memcpy(p4, w, 8);
				p4 += 8;
			} else {
				memcpy(p6, &piece[k].lo, 16);
				memcpy(p6 + 16, &piece[k].hi, 16);
				p6 += 32;
			}
		}
}

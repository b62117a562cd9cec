/* flowfmt.c: flow lines; see flowfmt.h. */
#include "analyze/flowfmt.h"

#include <ctype.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX	64
#define FLOW_LINE_MAX	4096	/* with its NUL */

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

/* One word of a line: where it starts and how long it is. */
struct word {
	const char	*s;
	size_t		 len;
};

/* The value of word w when it is key=VALUE, else NULL. */
static const char *
value_of(const struct word *w, const char *key, size_t keylen)
{
	return w->len > keylen && w->s[keylen] == '=' &&
	    memcmp(w->s, key, keylen) == 0 ? w->s + keylen + 1 : NULL;
}

/* Word w, after skip bytes, as a C string in buf (of FLOW_LINE_MAX bytes: a
 * word of a line that flow_parse_line takes fits). */
static const char *
word_str(const struct word *w, size_t skip, char *buf, size_t len)
{
	size_t n = w->len - skip < len - 1 ? w->len - skip : len - 1;

	memcpy(buf, w->s + skip, n);
	buf[n] = '\0';
	return buf;
}

/* flow_parse_number of word w after skip bytes, read in place. */
static int
word_number(const struct word *w, size_t skip, unsigned max, unsigned *out)
{
	const char *s = w->s + skip, *end = w->s + w->len;
	unsigned long v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int
flow_proto_of(const char *s, size_t len, int *out)
{
	const struct proto_info *pi = builtin_proto_by_name_len(s, len);
	struct word w = { s, len };
	unsigned n;

	if (pi != NULL) {
		*out = pi->number;
		return 0;
	}
	if (len == 9 && memcmp(s, "ipv6-icmp", 9) == 0) {
		*out = 58;
		return 0;
	}
	if (word_number(&w, 0, 255, &n) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

/* An IPv4 address as conntrack writes it (four decimal numbers of at
 * most 255, no leading zero) into *out; -1 for any other form (then
 * addr_parse decides).  A replay reads two a line: each number is read
 * digit by digit with no loop. */
static int
quick_v4(const struct word *w, size_t skip, u128 *out)
{
	const unsigned char *s = (const unsigned char *)w->s + skip;
	const unsigned char *end = (const unsigned char *)w->s + w->len;
	uint32_t v = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned x;

		if (s == end || (x = (unsigned)(*s - '0')) > 9)
			return -1;
		if (++s < end && (unsigned)(*s - '0') <= 9) {
			if (x == 0)
				return -1;	/* a leading zero */
			x = x * 10 + (unsigned)(*s - '0');
			if (++s < end && (unsigned)(*s - '0') <= 9) {
				x = x * 10 + (unsigned)(*s - '0');
				if (x > 255 || (++s < end &&
				    (unsigned)(*s - '0') <= 9))
					return -1;
			}
		}
		v = v << 8 | x;
		if (part < 3 && (s == end || *s++ != '.'))
			return -1;
	}
	if (s != end)
		return -1;
	*out = V4_BASE | v;
	return 0;
}

/* The address of word w (after skip bytes) into *out, of family *fam. */
static int
word_addr(const struct word *w, size_t skip, u128 *out,
    enum addr_family *fam, char *err, size_t errlen)
{
	char buf[FLOW_LINE_MAX];

	if (quick_v4(w, skip, out) == 0) {
		*fam = FAM_V4;
		return 0;
	}
	return addr_parse(word_str(w, skip, buf, sizeof(buf)), out, fam, err,
	    errlen);
}

#if !defined(__SSE2__)
/* isspace() in the C locale, as a table (no call for the locale's): the
 * spaces blk_load finds a byte at a time. */
static const unsigned char word_space[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
};
#endif

/* What a conntrack line says: the first word of each key, and the
 * protocol (-1: none). */
struct ct_line {
	struct word	 src, dst, dport, type;	/* s NULL: none */
	int		 proto;
	bool		 blank;		/* no word before a '#': blank or a
					   comment */
};

/* The protocol a word names that has no '=' and starts with no digit
 * (flow_proto_of's), or -1. */
static int
word_proto(const struct word *w)
{
	int proto;

	return flow_proto_of(w->s, w->len, &proto) == 0 ? proto : -1;
}

/*
 * A line's bytes 64 at a time, as two masks: bit i of sp when byte i is
 * a space (word_space), of nul when it is NUL.  The words of a line are
 * then found from the masks (the first bit set at or after a place)
 * instead of a byte at a time: a loop that stops at a word's end, whose
 * length varies, mispredicts once a word, some eight times a line.
 */
struct blk {
	const char	*at;		/* its first byte */
	uint64_t	 sp, nul;
};

#if defined(__SSE2__)
static uint64_t
mask16(__m128i m, int i)
{
	return (uint64_t)(uint16_t)_mm_movemask_epi8(m) << (16 * i);
}
#endif

/* The masks of the 64 bytes at at, the line ending at its NUL at or
 * before lim (which is readable): bytes past lim are taken as NUL. */
static void
blk_load(struct blk *b, const char *at, const char *lim)
{
	unsigned char tail[64];
	const unsigned char *u = (const unsigned char *)at;
	int i;

	b->at = at;
	b->sp = b->nul = 0;
	if (lim - at < 64) {
		size_t n = (size_t)(lim - at) + 1;

		memcpy(tail, at, n);
		memset(tail + n, 0, sizeof(tail) - n);
		u = tail;
	}
#if defined(__SSE2__)
	for (i = 0; i < 4; i++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(u + 16 * i));
		__m128i t = _mm_sub_epi8(x, _mm_set1_epi8('\t'));
		__m128i ws = _mm_or_si128(_mm_cmpeq_epi8(x,
		    _mm_set1_epi8(' ')), _mm_cmpeq_epi8(_mm_min_epu8(t,
		    _mm_set1_epi8('\r' - '\t')), t));

		b->sp |= mask16(ws, i);
		b->nul |= mask16(_mm_cmpeq_epi8(x, _mm_setzero_si128()), i);
	}
#else
	for (i = 0; i < 64; i++) {
		b->sp |= (uint64_t)word_space[u[i]] << i;
		b->nul |= (uint64_t)(u[i] == '\0') << i;
	}
#endif
}

/* From byte i of block b on (loading the blocks after it as needed): the
 * first byte that is not a space (spaces), or else the first that ends a
 * word, a space or NUL.  The line's NUL is either, so none is looked for
 * past it. */
static const char *
blk_next(struct blk *b, unsigned i, const char *lim, bool spaces)
{
	for (;;) {
		uint64_t m = spaces ? ~b->sp : b->sp | b->nul;

		m &= ~0ull << i;
		if (m != 0)
			return b->at + __builtin_ctzll(m);
		blk_load(b, b->at + 64, lim);
		i = 0;
	}
}

/*
 * The words of a conntrack line, read once and in order (a replay reads
 * millions), as far as they are needed: a line's original direction
 * comes first, and most of it is never looked at.  The protocol is the
 * first word without '=' and not starting with a digit that names one,
 * or the number after "unknown" (a protocol conntrack has no name for).
 * Like the other form, the line ends at a word starting with '#' and at
 * FIELDS_MAX words.
 */
static void
read_conntrack(const char *s, const char *lim, struct ct_line *ct)
{
	struct blk b;
	struct word w;
	bool unknown = false;	/* the word before was "unknown" */
	bool digit;
	int n;

	memset(ct, 0, sizeof(*ct));
	ct->proto = -1;
	blk_load(&b, s, lim);
	for (n = 0; n < FIELDS_MAX; n++) {
		/* a word: its first byte not a space, then its end */
		s = blk_next(&b, (unsigned)(s - b.at), lim, true);
		if (*s == '\0' || *s == '#') {
			ct->blank = n == 0;
			break;
		}
		w.s = s;
		s = blk_next(&b, (unsigned)(s - b.at), lim, false);
		w.len = (size_t)(s - w.s);
		switch (w.s[0]) {
		case 's':
			if (ct->src.s == NULL && value_of(&w, "src", 3) != NULL)
				ct->src = w;
			break;
		case 'd':
			if (ct->dst.s == NULL && value_of(&w, "dst", 3) != NULL)
				ct->dst = w;
			else if (ct->dport.s == NULL && value_of(&w, "dport",
			    5) != NULL)
				ct->dport = w;
			break;
		case 't':
			if (ct->type.s == NULL && value_of(&w, "type", 4) !=
			    NULL)
				ct->type = w;
			break;
		}
		if (ct->proto == -1) {
			unsigned num;

			digit = w.s[0] >= '0' && w.s[0] <= '9';
			if (unknown && digit) {
				if (word_number(&w, 0, 255, &num) == 0)
					ct->proto = (int)num;
				unknown = false;
			} else if (!digit && memchr(w.s, '=', w.len) == NULL) {
				unknown = w.len == 7 &&
				    memcmp(w.s, "unknown", 7) == 0;
				if (!unknown)
					ct->proto = word_proto(&w);
			} else
				unknown = false;
		}
		/* the first of each found: the rest cannot change them */
		if (ct->src.s != NULL && ct->dst.s != NULL && ct->proto != -1 &&
		    (ct->proto == 1 || ct->proto == 58 ? ct->type.s :
		    ct->dport.s) != NULL)
			break;
	}
}

/* A line of conntrack -L, its words read by read_conntrack into ct: no
 * copy of the line, no allocation.  The first src=, dst= and dport=
 * (type= for ICMP) are the original direction. */
static int
parse_conntrack(const struct ct_line *ct, const struct iface *ifc,
    struct flow *f, char *err, size_t errlen)
{
	const struct word *port;
	char buf[FLOW_LINE_MAX];
	enum addr_family fs, fd;
	bool icmp;

	if (ifc == NULL) {
		snprintf(err, errlen, "a conntrack line names no interface: "
		    "give --in IF");
		return -1;
	}
	f->iface = ifc;
	if (ct->src.s == NULL || ct->dst.s == NULL) {
		snprintf(err, errlen, "no src= or dst=");
		return -1;
	}
	if ((f->proto = ct->proto) == -1) {
		snprintf(err, errlen, "no protocol");
		return -1;
	}
	/* an ICMP type is a byte, as the other form and the policy have it */
	icmp = f->proto == 1 || f->proto == 58;
	port = icmp ? &ct->type : &ct->dport;
	f->dport = 0;
	if (port->s != NULL && word_number(port, icmp ? 5 : 6, icmp ? 255 :
	    65535, &f->dport) == -1) {
		word_str(port, icmp ? 5 : 6, buf, sizeof(buf));
		snprintf(err, errlen, icmp ? "bad type '%s' (0-255)" :
		    "bad port '%s' (0-65535)", buf);
		return -1;
	}
	if (word_addr(&ct->src, 4, &f->src, &fs, err, errlen) == -1 ||
	    word_addr(&ct->dst, 4, &f->dst, &fd, err, errlen) == -1)
		return -1;
	if (fs != fd) {
		snprintf(err, errlen, "source and destination are of two "
		    "families");
		return -1;
	}
	return 0;
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

	if (flow_proto_of(proto, strlen(proto), &f->proto) == -1) {
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
	return flow_parse_line_len(p, line, strlen(line), default_iface, f,
	    err, errlen);
}

int
flow_parse_line_len(const struct policy *p, const char *line, size_t len,
    const struct iface *default_iface, struct flow *f, char *err,
    size_t errlen)
{
	char buf[FLOW_LINE_MAX], *w[FIELDS_MAX];
	struct ct_line ct;
	int n;

	/* a line shorter than its bound is measured only when the bound is
	 * too long (a conntrack line is read without its length) */
	if (len >= sizeof(buf) && (len = strlen(line)) >= sizeof(buf)) {
		snprintf(err, errlen, "line longer than %zu bytes",
		    sizeof(buf) - 1);
		return -1;
	}
	memset(f, 0, sizeof(*f));
	/* A conntrack line is one with "src=" in it.  Its words are read
	 * first: when one of them starts with src= the line has it, and
	 * only a line without such a word is searched. */
	read_conntrack(line, line + len, &ct);
	if (ct.blank)
		return 0;
	if (ct.src.s != NULL || strstr(line, "src=") != NULL)
		return parse_conntrack(&ct, default_iface, f, err, errlen) ==
		    -1 ? -1 : 1;
	len = strlen(line);
	memcpy(buf, line, len + 1);
	if ((n = split(buf, w)) == 0)
		return 0;
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

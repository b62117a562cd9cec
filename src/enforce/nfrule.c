/* nfrule.c: moat's rule text as nf_tables expressions; see nfrule.h.
 *
 * The vocabulary is the one nftc writes in the chains a rule's edit
 * changes (a zone's dispatched classes and segments, a rule's log chain)
 * and in the base chains (the zones' dispatch, the scanning proxy's
 * interception, NAT):
 *
 *   ip|ip6 saddr|daddr [!=] ADDR|NET/LEN|LO-HI|@SET    ip|ip6 saddr vmap @MAP
 *   ct state S,S   ct status dnat|snat   iif|iifname|oifname "NAME"
 *   ct original ip|ip6 daddr [!=] ADDR|NET/LEN|LO-HI|@SET
 *   tcp|udp|sctp dport|sport [!=] N|LO-HI|@SET
 *   icmp|icmpv6 type N        meta l4proto NAME       meta nfproto ipv4|ipv6
 *   meta skuid [!=] N
 *   counter   counter name "NAME"   limit rate N/second|minute burst N packets
 *   log group N prefix "S"
 *   accept | drop | return | jump CHAIN | goto CHAIN
 *   reject with tcp reset | reject with icmpx type admin-prohibited
 *   masquerade   dnat|snat ip|ip6 to ADDR[:PORT]
 *   socket transparent 0|1   fib saddr|daddr type [!=] local
 *   tproxy [ip|ip6] to :PORT   meta mark set 0xN
 *   meta hour LO-HI (seconds, UTC)   meta day D | { D, ... }
 *   meta|ct mark set meta|ct mark and 0xM or 0xV   meta|ct mark and 0xM != 0
 *   meta|ct mark and 0xM vmap { 0xV : jump CHAIN, ... }
 *   ct direction original|reply   rt ip|ip6 nexthop ADDR   meta length < N
 *   fib daddr oifname { "A", ... }   icmp|icmpv6 type echo-request
 *   icmpv6 type { T, ... }   iifname { "A", ... }
 *   iifname vmap { "A" : jump CHAIN, ... }	(anonymous sets, nfrule.h)
 *   comment "S"
 *
 * nft's encoding of each, as `nft --debug=netlink` shows it (1.0.6): a
 * match loads into register 1 and compares; a network header's field is
 * preceded by "meta nfproto" and a transport header's by "meta l4proto"
 * unless the rule already said so; a prefix on a byte boundary loads only
 * its bytes, any other is masked and compared with the network;
 * a range is two comparisons, a range negated one "range neq".  (The
 * rules nftc writes hold networks without host bits.)
 */
#include "enforce/nfrule.h"

#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_MAX	160
/* The most bytes one word of the vocabulary writes (a jump to a chain of
 * 255 bytes, about 310), and a comment's user data after the words. */
#define WORD_MAX	512
#define COMMENT_MAX	(MNL_ATTR_HDRLEN + 2 + 128)
#define NFPROTO_V4	2	/* NFPROTO_IPV4 */
#define NFPROTO_V6	10	/* NFPROTO_IPV6 */

struct tok {
	const char	*s;
	size_t		 n;
};

/* A payload field loaded or compared: nft merges two equal comparisons
 * of adjacent fields of one header into one load when they fit in 32 bits
 * ("udp sport 67 udp dport 68": 4 bytes at offset 0), which this does not
 * write, so such a rule is left to libnftables. */
struct field {
	uint32_t	 base, off, len;
	bool		 set;
};

struct enc {
	struct nlmsghdr	*nlh;
	int		 nfproto;	/* known so far: 0 none */
	int		 l4proto;	/* -1 none */
	bool		 verdict;	/* said: only a comment may follow */
	struct field	 loaded;	/* the payload just loaded */
	struct field	 equal;		/* the last expression compared it */
	bool		 merged;	/* nft would merge two: refused */
	struct nfrule_anon *anon;	/* NULL: no anonymous set taken */
	struct nfrule_set *set;		/* the one being written */
};

static void	bitwise(struct enc *, const void *, const void *, size_t);
static int	mark_match(struct enc *, const struct tok *, size_t, size_t *,
		    bool);

/* One element of "{ ... }": its words, commas dropped. */
struct braced {
	struct tok	 w[4];
	size_t		 n;
};

static bool
is(const struct tok *t, const char *w)
{
	return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

int
nfrule_name(const char *s, size_t n, char *buf, size_t size)
{
	size_t i;

	if (n == 0 || n >= size)
		return -1;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_'))
			return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* Split s into words; a quoted string ("...") is one, quotes kept. */
static int
split(const char *s, size_t len, struct tok *t, size_t *nt)
{
	const char *p = s, *end = s + len;
	size_t n = 0;

	while (p < end) {
		const char *q;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (n == TOKENS_MAX)
			return -1;
		if (*p == '"') {
			if ((q = memchr(p + 1, '"', (size_t)(end - p - 1))) ==
			    NULL)
				return -1;
			q++;
		} else
			for (q = p; q < end && *q != ' ' && *q != '"'; q++)
				;
		t[n].s = p;
		t[n].n = (size_t)(q - p);
		n++;
		p = q;
	}
	*nt = n;
	return 0;
}

/* A decimal number of at most max: 0, or -1. */
static int
number(const struct tok *t, unsigned long max, unsigned long *v)
{
	char buf[16], *e;

	if (t->n == 0 || t->n >= sizeof(buf) || t->s[0] < '0' ||
	    t->s[0] > '9')
		return -1;
	memcpy(buf, t->s, t->n);
	buf[t->n] = '\0';
	*v = strtoul(buf, &e, 10);
	return *e == '\0' && *v <= max ? 0 : -1;
}

/* A quoted string's inside into buf (at most size - 1 bytes): 0, or -1. */
static int
quoted(const struct tok *t, char *buf, size_t size)
{
	if (t->n < 2 || t->s[0] != '"' || t->s[t->n - 1] != '"' ||
	    t->n - 2 >= size)
		return -1;
	memcpy(buf, t->s + 1, t->n - 2);
	buf[t->n - 2] = '\0';
	return 0;
}

/* One expression's head; expr_end closes it. */
static struct nlattr *
expr_begin(struct enc *e, const char *name, struct nlattr **data)
{
	struct nlattr *el = mnl_attr_nest_start(e->nlh, NFTA_LIST_ELEM);

	/* Any expression but a load and a comparison ends a run of
	 * comparisons of fields (cmp() itself says what its own does). */
	if (strcmp(name, "payload") != 0 && strcmp(name, "cmp") != 0) {
		e->equal.set = false;
		e->loaded.set = false;
	}

	mnl_attr_put_strz(e->nlh, NFTA_EXPR_NAME, name);
	*data = mnl_attr_nest_start(e->nlh, NFTA_EXPR_DATA);
	return el;
}

static void
expr_end(struct enc *e, struct nlattr *el, struct nlattr *data)
{
	mnl_attr_nest_end(e->nlh, data);
	mnl_attr_nest_end(e->nlh, el);
}

static void
put_value(struct enc *e, uint16_t type, const void *v, size_t n)
{
	struct nlattr *d = mnl_attr_nest_start(e->nlh, type);

	mnl_attr_put(e->nlh, NFTA_DATA_VALUE, n, v);
	mnl_attr_nest_end(e->nlh, d);
}

/* A key of the packet (meta) or of its connection (ct) loaded into
 * register 1, or (set) written from it. */
static void
key_io(struct enc *e, bool ct, uint32_t key, bool set)
{
	struct nlattr *el, *d;

	el = expr_begin(e, ct ? "ct" : "meta", &d);
	mnl_attr_put_u32(e->nlh, ct ? NFTA_CT_KEY : NFTA_META_KEY, htonl(key));
	mnl_attr_put_u32(e->nlh, set ? (ct ? NFTA_CT_SREG : NFTA_META_SREG) :
	    (ct ? NFTA_CT_DREG : NFTA_META_DREG), htonl(NFT_REG_1));
	expr_end(e, el, d);
}

static void
meta_load(struct enc *e, uint32_t key)
{
	key_io(e, false, key, false);
}

/* The mark of the packet or of its connection (ct), a 32-bit number in
 * the host's order, loaded into register 1 (or written from it). */
static void
mark_io(struct enc *e, bool ct, bool set)
{
	key_io(e, ct, ct ? NFT_CT_MARK : NFT_META_MARK, set);
}

static void
payload_load(struct enc *e, uint32_t base, uint32_t off, uint32_t len)
{
	struct nlattr *el, *d;

	el = expr_begin(e, "payload", &d);
	e->loaded.base = base;
	e->loaded.off = off;
	e->loaded.len = len;
	e->loaded.set = true;
	mnl_attr_put_u32(e->nlh, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_PAYLOAD_BASE, htonl(base));
	mnl_attr_put_u32(e->nlh, NFTA_PAYLOAD_OFFSET, htonl(off));
	mnl_attr_put_u32(e->nlh, NFTA_PAYLOAD_LEN, htonl(len));
	expr_end(e, el, d);
}

static void
cmp(struct enc *e, uint32_t op, const void *v, size_t n)
{
	struct nlattr *el, *d;

	if (e->loaded.set && op == NFT_CMP_EQ) {
		const struct field *a = &e->equal, *b = &e->loaded;

		if (a->set && a->base == b->base && (a->off + a->len == b->off ||
		    b->off + b->len == a->off) && a->len + b->len <= 4)
			e->merged = true;
		e->equal = e->loaded;
	} else
		e->equal.set = false;
	e->loaded.set = false;
	el = expr_begin(e, "cmp", &d);
	mnl_attr_put_u32(e->nlh, NFTA_CMP_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_CMP_OP, htonl(op));
	put_value(e, NFTA_CMP_DATA, v, n);
	expr_end(e, el, d);
}

static void
range_neq(struct enc *e, const void *lo, const void *hi, size_t n)
{
	struct nlattr *el, *d;

	el = expr_begin(e, "range", &d);
	mnl_attr_put_u32(e->nlh, NFTA_RANGE_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_RANGE_OP, htonl(NFT_RANGE_NEQ));
	put_value(e, NFTA_RANGE_FROM_DATA, lo, n);
	put_value(e, NFTA_RANGE_TO_DATA, hi, n);
	expr_end(e, el, d);
}

static void
bitwise_mask(struct enc *e, const void *mask, size_t n)
{
	static const unsigned char zero[16];

	bitwise(e, mask, zero, n);
}

/* A value into register 1. */
static void
immediate(struct enc *e, const void *v, size_t n)
{
	struct nlattr *el, *d;

	el = expr_begin(e, "immediate", &d);
	mnl_attr_put_u32(e->nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_1));
	put_value(e, NFTA_IMMEDIATE_DATA, v, n);
	expr_end(e, el, d);
}

/* "0x" and at most 8 hexadecimal digits: 0, or -1. */
static int
hex32(const struct tok *t, uint32_t *v)
{
	char buf[12], *e;
	unsigned long x;

	if (t->n < 3 || t->n > 10 || t->s[0] != '0' || t->s[1] != 'x')
		return -1;
	memcpy(buf, t->s + 2, t->n - 2);
	buf[t->n - 2] = '\0';
	if (buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
		return -1;
	x = strtoul(buf, &e, 16);
	if (*e != '\0' || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* Register 1's 32-bit number turned to network order. */
static void
hton32(struct enc *e)
{
	struct nlattr *el, *d;

	el = expr_begin(e, "byteorder", &d);
	mnl_attr_put_u32(e->nlh, NFTA_BYTEORDER_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_BYTEORDER_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_BYTEORDER_OP, htonl(NFT_BYTEORDER_HTON));
	mnl_attr_put_u32(e->nlh, NFTA_BYTEORDER_LEN, htonl(4));
	mnl_attr_put_u32(e->nlh, NFTA_BYTEORDER_SIZE, htonl(4));
	expr_end(e, el, d);
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Register 1 = (register 1 & mask) ^ xor, n bytes. */
static void
bitwise(struct enc *e, const void *mask, const void *xor, size_t n)
{
	struct nlattr *el, *d;

	el = expr_begin(e, "bitwise", &d);
	mnl_attr_put_u32(e->nlh, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_BITWISE_LEN, htonl((uint32_t)n));
	put_value(e, NFTA_BITWISE_MASK, mask, n);
	put_value(e, NFTA_BITWISE_XOR, xor, n);
	expr_end(e, el, d);
}

/* "meta nfproto|l4proto" compared with v: one byte. */
static void
meta_is(struct enc *e, uint32_t key, int v)
{
	unsigned char b = (unsigned char)v;

	meta_load(e, key);
	cmp(e, NFT_CMP_EQ, &b, 1);
}

/* The family a network header's field needs: said once. */
static int
need_nfproto(struct enc *e, int nfproto)
{
	if (e->nfproto == nfproto)
		return 0;
	if (e->nfproto != 0)
		return -1;
	meta_is(e, NFT_META_NFPROTO, nfproto);
	e->nfproto = nfproto;
	return 0;
}

static int
need_l4proto(struct enc *e, int proto)
{
	if (e->l4proto == proto)
		return 0;
	if (e->l4proto != -1)
		return -1;
	meta_is(e, NFT_META_L4PROTO, proto);
	e->l4proto = proto;
	return 0;
}

/* A set lookup of register 1 in set t ("@NAME"), negated or not. */
static int
lookup(struct enc *e, const struct tok *t, bool neg)
{
	char name[NFT_SET_MAXNAMELEN];
	struct nlattr *el, *d;

	if (t->n < 2 || nfrule_name(t->s + 1, t->n - 1, name,
	    sizeof(name)) == -1)
		return -1;
	el = expr_begin(e, "lookup", &d);
	mnl_attr_put_strz(e->nlh, NFTA_LOOKUP_SET, name);
	mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_SREG, htonl(NFT_REG_1));
	if (neg)
		mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_FLAGS,
		    htonl(NFT_LOOKUP_F_INV));
	expr_end(e, el, d);
	return 0;
}

/* "{ A, B, ... }" from t[0]: each element's words into el (at most max
 * elements, of at most 4 words), their count in *nel, the words taken in
 * *used.  0, or -1 when it is not one. */
static int
braced(const struct tok *t, size_t nt, struct braced *el, size_t max,
    size_t *nel, size_t *used)
{
	size_t i, n = 0;

	if (nt < 3 || !is(&t[0], "{"))
		return -1;
	el[0].n = 0;
	for (i = 1; i < nt; i++) {
		struct tok w = t[i];
		bool next = false;

		if (is(&w, "}")) {
			if (el[n].n == 0)
				return -1;	/* "{ }", or "A, }" */
			*nel = n + 1;
			*used = i + 1;
			return 0;
		}
		if (w.n > 0 && w.s[w.n - 1] == ',') {
			w.n--;
			next = true;
		}
		if (w.n > 0) {
			if (el[n].n == 4)
				return -1;
			el[n].w[el[n].n++] = w;
		}
		if (next) {
			if (el[n].n == 0 || n + 1 == max)
				return -1;
			el[++n].n = 0;
		}
	}
	return -1;
}

/* A lookup of register 1 in the rule's anonymous set (into the verdict
 * register for a map), which the caller declares with its id. */
static void
anon_lookup(struct enc *e)
{
	struct nlattr *el, *d;

	el = expr_begin(e, "lookup", &d);
	mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_SREG, htonl(NFT_REG_1));
	if (e->set->map && e->set->data_type == NFT_DATA_VERDICT) {
		mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_DREG,
		    htonl(NFT_REG_VERDICT));
		e->verdict = true;
	} else if (e->set->map)	/* the value into register 1 */
		mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_DREG, htonl(NFT_REG_1));
	mnl_attr_put_strz(e->nlh, NFTA_LOOKUP_SET, e->set->map ? "__map%d" :
	    "__set%d");
	mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_SET_ID, htonl(e->set->id));
	expr_end(e, el, d);
}

/* The rule's anonymous set begun: of type and len, with libnftables' user
 * data ud (n bytes).  -1 when the rule may hold none, or holds one. */
static int
anon_begin(struct enc *e, bool map, uint32_t type, uint32_t len,
    const unsigned char *ud, size_t n)
{
	struct nfrule_anon *a = e->anon;
	struct nfrule_set *x;

	if (a == NULL || a->n == NFRULE_ANON_SETS || n > sizeof(x->udata))
		return -1;
	x = e->set = &a->set[a->n];
	x->id = a->id + (uint32_t)a->n++;
	x->map = map;
	x->data_type = NFT_DATA_VERDICT;
	x->data_len = 0;
	x->key_type = type;
	x->key_len = len;
	memcpy(x->udata, ud, n);
	x->udata_len = n;
	x->n = 0;
	return 0;
}

/* The set just begun dropped: nft compares with a set of one instead. */
static void
anon_drop(struct enc *e)
{
	e->anon->n--;
}

/* An address of family af (AF_INET, AF_INET6) into a, network order. */
static int
addr(const char *s, size_t n, int af, unsigned char *a)
{
	char buf[64];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(af, buf, a) == 1 ? 0 : -1;
}

/* "ip|ip6 saddr|daddr vmap @MAP": a verdict map looked up (into the
 * verdict register). */
static int
addr_vmap(struct enc *e, const struct tok *t, size_t nt, uint32_t off,
    bool v6, size_t *used)
{
	struct nlattr *el, *d;
	char name[NFT_SET_MAXNAMELEN];

	if (nt < 4 || t[3].n < 2 || t[3].s[0] != '@' ||
	    nfrule_name(t[3].s + 1, t[3].n - 1, name, sizeof(name)) == -1 ||
	    need_nfproto(e, v6 ? NFPROTO_V6 : NFPROTO_V4) == -1)
		return -1;
	*used = 4;
	payload_load(e, NFT_PAYLOAD_NETWORK_HEADER, off, v6 ? 16 : 4);
	el = expr_begin(e, "lookup", &d);
	mnl_attr_put_strz(e->nlh, NFTA_LOOKUP_SET, name);
	mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_LOOKUP_DREG, htonl(NFT_REG_VERDICT));
	expr_end(e, el, d);
	e->verdict = true;
	return 0;
}

/* Where an address is loaded from: a network header's field at off, or
 * the conntrack entry's original destination (ct, key NFT_CT_DST_IP[6]). */
struct addr_src {
	bool		 ct;
	uint32_t	 off;
	uint32_t	 key;
};

/* The address (or its first len bytes) into register 1.  A ct key is
 * loaded whole whatever len, as nft does; the comparison after it takes
 * the prefix's bytes only. */
static void
addr_load(struct enc *e, const struct addr_src *src, size_t len)
{
	struct nlattr *el, *d;

	if (!src->ct) {
		payload_load(e, NFT_PAYLOAD_NETWORK_HEADER, src->off,
		    (uint32_t)len);
		return;
	}
	el = expr_begin(e, "ct", &d);
	mnl_attr_put_u32(e->nlh, NFTA_CT_KEY, htonl(src->key));
	mnl_attr_put_u32(e->nlh, NFTA_CT_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u8(e->nlh, NFTA_CT_DIRECTION, 0);	/* IP_CT_DIR_ORIGINAL */
	expr_end(e, el, d);
}

/* An address VALUE (ADDR, NET/LEN, LO-HI or @SET) of a family (w bytes)
 * loaded from src and compared, negated or not. */
static int
addr_value(struct enc *e, const struct addr_src *src, const struct tok *v,
    bool v6, bool neg)
{
	int af = v6 ? AF_INET6 : AF_INET;
	size_t w = v6 ? 16 : 4;
	unsigned char lo[16], hi[16], mask[16];
	const char *slash, *dash;
	unsigned long plen;

	if (v->n > 0 && v->s[0] == '@') {
		addr_load(e, src, w);
		return lookup(e, v, neg);
	}
	slash = memchr(v->s, '/', v->n);
	dash = memchr(v->s, '-', v->n);
	if (slash != NULL) {
		struct tok len = { slash + 1, (size_t)(v->s + v->n - slash -
		    1) };
		size_t i;

		if (addr(v->s, (size_t)(slash - v->s), af, lo) == -1 ||
		    number(&len, w * 8, &plen) == -1 || plen == 0)
			return -1;
		if (plen % 8 == 0) {
			/* On a byte boundary: only its bytes. */
			addr_load(e, src, plen / 8);
			cmp(e, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, lo, plen / 8);
			return 0;
		}
		for (i = 0; i < w; i++)
			mask[i] = plen >= (i + 1) * 8 ? 0xff : plen <= i * 8 ?
			    0 : (unsigned char)(0xff << (8 - (plen - i * 8)));
		/* compared with the network: its host bits masked, as nft
		 * does */
		for (i = 0; i < w; i++)
			lo[i] &= mask[i];
		addr_load(e, src, w);
		bitwise_mask(e, mask, w);
		cmp(e, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, lo, w);
		return 0;
	}
	if (dash != NULL) {
		if (addr(v->s, (size_t)(dash - v->s), af, lo) == -1 ||
		    addr(dash + 1, (size_t)(v->s + v->n - dash - 1), af, hi) ==
		    -1 || memcmp(lo, hi, w) > 0)
			return -1;
		addr_load(e, src, w);
		if (neg)
			range_neq(e, lo, hi, w);
		else {
			cmp(e, NFT_CMP_GTE, lo, w);
			cmp(e, NFT_CMP_LTE, hi, w);
		}
		return 0;
	}
	if (addr(v->s, v->n, af, lo) == -1)
		return -1;
	addr_load(e, src, w);
	cmp(e, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, lo, w);
	return 0;
}

/* "ip|ip6 saddr|daddr [!=] VALUE" from t (the family word first). */
static int
addr_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	bool v6 = is(&t[0], "ip6"), neg;
	struct addr_src src = { .ct = false };
	size_t k = 2;

	if (nt < 3)
		return -1;
	if (is(&t[1], "saddr"))
		src.off = v6 ? 8 : 12;
	else if (is(&t[1], "daddr"))
		src.off = v6 ? 24 : 16;
	else
		return -1;
	if (is(&t[k], "vmap"))
		return addr_vmap(e, t, nt, src.off, v6, used);
	if ((neg = is(&t[k], "!=")) && ++k >= nt)
		return -1;
	*used = k + 1;
	if (need_nfproto(e, v6 ? NFPROTO_V6 : NFPROTO_V4) == -1)
		return -1;
	return addr_value(e, &src, &t[k], v6, neg);
}

/* A port "N" or "LO-HI" into network order. */
static int
ports(const struct tok *v, unsigned char lo[2], unsigned char hi[2],
    bool *is_range)
{
	const char *dash = memchr(v->s, '-', v->n);
	struct tok a = *v, b;
	unsigned long x, y;

	if (dash != NULL) {
		a.n = (size_t)(dash - v->s);
		b.s = dash + 1;
		b.n = (size_t)(v->s + v->n - dash - 1);
		if (number(&a, 65535, &x) == -1 || number(&b, 65535, &y) ==
		    -1 || x > y)
			return -1;
	} else {
		if (number(&a, 65535, &x) == -1)
			return -1;
		y = x;
	}
	lo[0] = (unsigned char)(x >> 8);
	lo[1] = (unsigned char)x;
	hi[0] = (unsigned char)(y >> 8);
	hi[1] = (unsigned char)y;
	*is_range = dash != NULL;
	return 0;
}

/* "tcp|udp|sctp dport|sport [!=] VALUE". */
static int
port_match(struct enc *e, const struct tok *t, size_t nt, int proto,
    size_t *used)
{
	unsigned char lo[2], hi[2];
	uint32_t off;
	size_t k = 2;
	bool neg, range;

	if (nt < 3)
		return -1;
	if (is(&t[1], "dport"))
		off = 2;
	else if (is(&t[1], "sport"))
		off = 0;
	else
		return -1;
	if ((neg = is(&t[k], "!=")) && ++k >= nt)
		return -1;
	*used = k + 1;
	if (need_l4proto(e, proto) == -1)
		return -1;
	if (t[k].n > 0 && t[k].s[0] == '@') {
		payload_load(e, NFT_PAYLOAD_TRANSPORT_HEADER, off, 2);
		return lookup(e, &t[k], neg);
	}
	if (ports(&t[k], lo, hi, &range) == -1)
		return -1;
	/* "sport N dport M" of one protocol: nft compares both at once,
	 * four bytes from offset 0 */
	if (off == 0 && !neg && !range && nt >= k + 4 && t[k + 1].n ==
	    t[0].n && memcmp(t[k + 1].s, t[0].s, t[0].n) == 0 &&
	    is(&t[k + 2], "dport") && !is(&t[k + 3], "!=") &&
	    t[k + 3].s[0] != '@') {
		unsigned char both[4], dlo[2], dhi[2];
		bool drange;

		if (ports(&t[k + 3], dlo, dhi, &drange) == 0 && !drange) {
			memcpy(both, lo, 2);
			memcpy(both + 2, dlo, 2);
			payload_load(e, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4);
			cmp(e, NFT_CMP_EQ, both, 4);
			*used = k + 4;
			return 0;
		}
	}
	payload_load(e, NFT_PAYLOAD_TRANSPORT_HEADER, off, 2);
	if (!range)
		cmp(e, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, lo, 2);
	else if (neg)
		range_neq(e, lo, hi, 2);
	else {
		cmp(e, NFT_CMP_GTE, lo, 2);
		cmp(e, NFT_CMP_LTE, hi, 2);
	}
	return 0;
}

/* "meta day D" or "meta day { D, ... }" (0 Sunday .. 6): one byte; a set
 * of several is anonymous (day_type, 45; key in host order; typeof "meta
 * day": a meta of key 31). */
static int
day_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	static const unsigned char ud[] = { 0, 4, 1, 0, 0, 0, 3, 14, 0, 4, 9,
	    0, 0, 0, 1, 6, 0, 4, 31, 0, 0, 0 };
	struct braced el[NFRULE_ANON_MAX];
	unsigned long v;
	unsigned char b;
	size_t n, i;

	if (!is(&t[2], "{")) {
		if (number(&t[2], 6, &v) == -1)
			return -1;
		meta_load(e, NFT_META_TIME_DAY);
		b = (unsigned char)v;
		cmp(e, NFT_CMP_EQ, &b, 1);
		return 0;
	}
	if (braced(t + 2, nt - 2, el, NFRULE_ANON_MAX, &n, used) == -1 ||
	    n > 7 || anon_begin(e, false, 45, 1, ud, sizeof(ud)) == -1)
		return -1;
	*used += 2;
	for (i = 0; i < n; i++) {
		if (el[i].n != 1 || number(&el[i].w[0], 6, &v) == -1)
			return -1;
		memset(&e->set->el[i], 0, sizeof(e->set->el[i]));
		e->set->el[i].key[0] = (unsigned char)v;
	}
	meta_load(e, NFT_META_TIME_DAY);
	if (n == 1) {	/* nft compares with a set of one instead */
		anon_drop(e);
		b = (unsigned char)v;
		cmp(e, NFT_CMP_EQ, &b, 1);
		return 0;
	}
	e->set->n = n;
	anon_lookup(e);
	return 0;
}

/* The ICMPv6 types nftc names (neighbour discovery's). */
static const struct {
	const char	*name;
	unsigned long	 type;
} nd[] = {
	{ "nd-router-solicit", 133 }, { "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 }, { "nd-neighbor-advert", 136 },
	{ "nd-redirect", 137 },
};

/* "echo-request" or "echo-reply" of ICMP or ICMPv6: its type in *v. */
static int
echo(const struct tok *t, bool v6, unsigned long *v)
{
	if (is(t, "echo-request"))
		*v = v6 ? 128 : 8;
	else if (is(t, "echo-reply"))
		*v = v6 ? 129 : 0;
	else
		return -1;
	return 0;
}

/* "icmp|icmpv6 type N" (a number, or echo-request, echo-reply), or "icmpv6 type { T, ... }" (numbers
 * or the neighbour discovery names): an anonymous set. */
static int
type_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	bool v6 = is(&t[0], "icmpv6");
	struct braced el[NFRULE_ANON_MAX];
	unsigned long v = 0;
	unsigned char b;
	size_t n = 0, i, k;

	if (nt < 3 || !is(&t[1], "type"))
		return -1;
	if (is(&t[2], "{")) {
		/* icmpv6_type (29), one byte; key in network order (2), typeof
		 * "icmpv6 type": a payload (7) of header icmpv6 (14), field 1 */
		static const unsigned char ud[] = { 0, 4, 2, 0, 0, 0, 3, 20,
		    0, 4, 7, 0, 0, 0, 1, 12, 0, 4, 14, 0, 0, 0, 1, 4, 1, 0, 0,
		    0 };

		if (!v6 || braced(t + 2, nt - 2, el, NFRULE_ANON_MAX, &n,
		    used) == -1 || anon_begin(e, false, 29, 1, ud,
		    sizeof(ud)) == -1)
			return -1;
		*used += 2;
		for (i = 0; i < n; i++) {
			if (el[i].n != 1)
				return -1;
			for (k = 0; k < sizeof(nd) / sizeof(nd[0]); k++)
				if (is(&el[i].w[0], nd[k].name))
					break;
			if (k < sizeof(nd) / sizeof(nd[0]))
				v = nd[k].type;
			else if (number(&el[i].w[0], 255, &v) == -1)
				return -1;
			memset(&e->set->el[i], 0, sizeof(e->set->el[i]));
			e->set->el[i].key[0] = (unsigned char)v;
		}
		e->set->n = n;
	} else if (echo(&t[2], v6, &v) == -1 && number(&t[2], 255, &v) == -1)
		return -1;
	else
		*used = 3;
	/* After "meta l4proto icmp" nft adds no family. */
	if (e->l4proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) &&
	    (need_nfproto(e, v6 ? NFPROTO_V6 : NFPROTO_V4) == -1 ||
	    need_l4proto(e, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) == -1))
		return -1;
	payload_load(e, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	if (n > 1) {
		anon_lookup(e);
		return 0;
	}
	if (n == 1)	/* nft compares with a set of one instead */
		anon_drop(e);
	b = (unsigned char)v;
	cmp(e, NFT_CMP_EQ, &b, 1);
	return 0;
}

/* The protocols nftc names in "meta l4proto" (builtin.h's). */
static int
proto_number(const struct tok *t)
{
	static const struct {
		const char	*name;
		int		 number;
	} p[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "sctp", 132 }, { "icmp", 1 },
		{ "ipv6-icmp", 58 }, { "gre", 47 }, { "esp", 50 },
		{ "ah", 51 }, { "vrrp", 112 },
	};
	size_t i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (is(t, p[i].name))
			return p[i].number;
	return -1;
}

static int
meta_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	int v;

	if (nt < 3)
		return -1;
	*used = 3;
	if (is(&t[1], "l4proto")) {
		if ((v = proto_number(&t[2])) == -1)
			return -1;
		meta_is(e, NFT_META_L4PROTO, v);
		e->l4proto = v;
		return 0;
	}
	if (is(&t[1], "nfproto")) {
		if (is(&t[2], "ipv4"))
			v = NFPROTO_V4;
		else if (is(&t[2], "ipv6"))
			v = NFPROTO_V6;
		else
			return -1;
		meta_is(e, NFT_META_NFPROTO, v);
		e->nfproto = v;
		return 0;
	}
	if (is(&t[1], "day"))
		return day_match(e, t, nt, used);
	if (is(&t[1], "hour")) {
		unsigned char lo[4], hi[4];
		unsigned long a, b;
		const char *dash = memchr(t[2].s, '-', t[2].n);
		struct tok x, y;

		if (dash == NULL)
			return -1;
		x.s = t[2].s;
		x.n = (size_t)(dash - t[2].s);
		y.s = dash + 1;
		y.n = t[2].n - x.n - 1;
		if (number(&x, 86399, &a) == -1 || number(&y, 86399, &b) ==
		    -1 || a > b)
			return -1;
		/* seconds of the day (UTC), turned to network order */
		meta_load(e, NFT_META_TIME_HOUR);
		hton32(e);
		put_be32(lo, (uint32_t)a);
		put_be32(hi, (uint32_t)b);
		cmp(e, NFT_CMP_GTE, lo, 4);
		cmp(e, NFT_CMP_LTE, hi, 4);
		return 0;
	}
	if (is(&t[1], "mark"))
		return mark_match(e, t, nt, used, false);
	if (is(&t[1], "skuid")) {
		/* the socket's owner, 32 bits in the host's order; a packet
		 * with no socket matches neither way */
		bool neg = nt >= 4 && is(&t[2], "!=");
		unsigned long uid;
		uint32_t u;

		if (number(&t[2 + neg], UINT32_MAX, &uid) == -1)
			return -1;
		*used = 3 + neg;
		u = (uint32_t)uid;
		meta_load(e, NFT_META_SKUID);
		cmp(e, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &u, sizeof(u));
		return 0;
	}
	if (nt >= 4 && is(&t[1], "length") && is(&t[2], "<")) {
		unsigned long v;
		unsigned char be[4];

		if (number(&t[3], 65535, &v) == -1)
			return -1;
		*used = 4;
		meta_load(e, NFT_META_LEN);
		hton32(e);
		put_be32(be, (uint32_t)v);
		cmp(e, NFT_CMP_LT, be, 4);
		return 0;
	}
	return -1;
}

/* "socket transparent 0|1": the socket's flag, one byte. */
static int
socket_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	struct nlattr *el, *d;
	unsigned long v;
	unsigned char b;

	if (nt < 3 || !is(&t[1], "transparent") || number(&t[2], 1, &v) == -1)
		return -1;
	*used = 3;
	el = expr_begin(e, "socket", &d);
	mnl_attr_put_u32(e->nlh, NFTA_SOCKET_KEY, htonl(NFT_SOCKET_TRANSPARENT));
	mnl_attr_put_u32(e->nlh, NFTA_SOCKET_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_SOCKET_LEVEL, htonl(0));
	expr_end(e, el, d);
	b = (unsigned char)v;
	cmp(e, NFT_CMP_EQ, &b, 1);
	return 0;
}

/* A device's quoted name (no wildcard, no escape) into name (IFNAMSIZ). */
static int
device_name(const struct tok *t, char *name)
{
	return quoted(t, name, IFNAMSIZ) == -1 || name[0] == '\0' ||
	    strchr(name, '*') != NULL || strchr(name, '\\') != NULL ? -1 : 0;
}

/* "fib daddr oifname { "A", ... }": the device the destination's route
 * leaves by, in an anonymous set (string, 5; host order; typeof "fib
 * daddr oifname": a fib (26) of result 2, flags 2). */
static int
fib_oifname(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	static const unsigned char ud[] = { 0, 4, 1, 0, 0, 0, 3, 20, 0, 4, 26,
	    0, 0, 0, 1, 12, 0, 4, 2, 0, 0, 0, 1, 4, 2, 0, 0, 0 };
	struct braced el[NFRULE_ANON_MAX];
	struct nlattr *x, *d;
	char name[IFNAMSIZ];
	size_t n, i;

	if (braced(t + 3, nt - 3, el, NFRULE_ANON_MAX, &n, used) == -1 ||
	    n < 2 || anon_begin(e, false, 5, IFNAMSIZ, ud, sizeof(ud)) == -1)
		return -1;
	*used += 3;
	for (i = 0; i < n; i++) {
		memset(&e->set->el[i], 0, sizeof(e->set->el[i]));
		if (el[i].n != 1 || device_name(&el[i].w[0], name) == -1)
			return -1;
		memcpy(e->set->el[i].key, name, strlen(name));
	}
	e->set->n = n;
	x = expr_begin(e, "fib", &d);
	mnl_attr_put_u32(e->nlh, NFTA_FIB_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_FIB_RESULT, htonl(NFT_FIB_RESULT_OIFNAME));
	mnl_attr_put_u32(e->nlh, NFTA_FIB_FLAGS, htonl(NFTA_FIB_F_DADDR));
	expr_end(e, x, d);
	anon_lookup(e);
	return 0;
}

/* "rt ip|ip6 nexthop ADDR": the route's next hop, compared. */
static int
rt_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	bool v6 = nt > 1 && is(&t[1], "ip6");
	unsigned char a[16];
	struct nlattr *x, *d;

	if (nt < 4 || (!v6 && !is(&t[1], "ip")) || !is(&t[2], "nexthop") ||
	    addr(t[3].s, t[3].n, v6 ? AF_INET6 : AF_INET, a) == -1)
		return -1;
	*used = 4;
	x = expr_begin(e, "rt", &d);
	mnl_attr_put_u32(e->nlh, NFTA_RT_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_RT_KEY, htonl(v6 ? NFT_RT_NEXTHOP6 :
	    NFT_RT_NEXTHOP4));
	expr_end(e, x, d);
	cmp(e, NFT_CMP_EQ, a, v6 ? 16 : 4);
	return 0;
}

/* "fib saddr|daddr type [!=] local": the source's or the destination's
 * route type (RTN_LOCAL, 2), a 32-bit number in the host's order. */
static int
fib_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	struct nlattr *el, *d;
	bool neg = nt >= 5 && is(&t[3], "!=");
	uint32_t local = 2;

	if (nt >= 4 && is(&t[1], "daddr") && is(&t[2], "oifname"))
		return fib_oifname(e, t, nt, used);
	if (nt < 4 || (!is(&t[1], "daddr") && !is(&t[1], "saddr")) ||
	    !is(&t[2], "type") || !is(&t[3 + neg], "local"))
		return -1;
	*used = 4 + neg;
	el = expr_begin(e, "fib", &d);
	mnl_attr_put_u32(e->nlh, NFTA_FIB_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(e->nlh, NFTA_FIB_RESULT, htonl(NFT_FIB_RESULT_ADDRTYPE));
	mnl_attr_put_u32(e->nlh, NFTA_FIB_FLAGS, htonl(is(&t[1], "saddr") ?
	    NFTA_FIB_F_SADDR : NFTA_FIB_F_DADDR));
	expr_end(e, el, d);
	cmp(e, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &local, sizeof(local));
	return 0;
}

/* "tproxy [ip|ip6] to :PORT": to a local socket of the port; the family
 * said must be the rule's, and a transport protocol known. */
static int
tproxy_stmt(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	struct nlattr *el, *d;
	size_t k = 1;
	unsigned long port;
	unsigned char p[2];
	uint32_t fam = 0;
	struct tok v;

	if (nt > 1 && (is(&t[1], "ip") || is(&t[1], "ip6"))) {
		fam = is(&t[1], "ip") ? NFPROTO_V4 : NFPROTO_V6;
		if (e->nfproto != (int)fam)
			return -1;
		k++;
	}
	if (nt < k + 2 || !is(&t[k], "to") || t[k + 1].n < 2 ||
	    t[k + 1].s[0] != ':' || (e->l4proto != IPPROTO_TCP &&
	    e->l4proto != IPPROTO_UDP))
		return -1;
	v.s = t[k + 1].s + 1;
	v.n = t[k + 1].n - 1;
	if (number(&v, 65535, &port) == -1 || port == 0)
		return -1;
	*used = k + 2;
	p[0] = (unsigned char)(port >> 8);
	p[1] = (unsigned char)port;
	immediate(e, p, 2);
	el = expr_begin(e, "tproxy", &d);
	mnl_attr_put_u32(e->nlh, NFTA_TPROXY_FAMILY, htonl(fam));
	mnl_attr_put_u32(e->nlh, NFTA_TPROXY_REG_PORT, htonl(NFT_REG_1));
	expr_end(e, el, d);
	return 0;
}


/* What the gateways write of a mark (t[0] "meta" or "ct", t[1] "mark"):
 *   mark set mark and M or V	(a field of it replaced)
 *   mark set 0xV			(meta only)
 *   mark and M != 0
 *   mark and M vmap { 0xV : jump CHAIN, ... }	(an anonymous map:
 *	mark_type, 19; its user data a verdict map's) */
static int
mark_match(struct enc *e, const struct tok *t, size_t nt, size_t *used,
    bool ct)
{
	static const unsigned char map_ud[] = { 0, 4, 1, 0, 0, 0, 1, 4, 0, 0,
	    0, 0, 4, 8, 0, 4, 1, 0, 0, 0, 1, 0, 6, 4, 0, 0, 0, 0 };
	struct braced el[NFRULE_ANON_MAX];
	uint32_t m, v, zero = 0;
	size_t n, i;

	if (nt >= 9 && is(&t[2], "set") && is(&t[3], t[0].n == 2 ? "ct" :
	    "meta") && is(&t[4], "mark") && is(&t[5], "and") &&
	    is(&t[7], "or")) {
		if (hex32(&t[6], &m) == -1 || hex32(&t[8], &v) == -1)
			return -1;
		*used = 9;
		mark_io(e, ct, false);
		bitwise(e, &m, &v, 4);
		mark_io(e, ct, true);
		return 0;
	}
	if (nt >= 4 && is(&t[2], "set") && !ct) {
		if (hex32(&t[3], &v) == -1)
			return -1;
		*used = 4;
		immediate(e, &v, sizeof(v));	/* the host's order */
		mark_io(e, false, true);
		return 0;
	}
	if (nt < 6 || !is(&t[2], "and") || hex32(&t[3], &m) == -1)
		return -1;
	if (is(&t[4], "!=") && is(&t[5], "0")) {
		*used = 6;
		mark_io(e, ct, false);
		bitwise_mask(e, &m, 4);
		cmp(e, NFT_CMP_NEQ, &zero, 4);
		return 0;
	}
	if (!is(&t[4], "vmap") || braced(t + 5, nt - 5, el, NFRULE_ANON_MAX,
	    &n, used) == -1 || anon_begin(e, true, 19, 4, map_ud,
	    sizeof(map_ud)) == -1)
		return -1;
	*used += 5;
	for (i = 0; i < n; i++) {
		struct nfrule_elem *x = &e->set->el[i];

		memset(x, 0, sizeof(*x));
		if (el[i].n != 4 || hex32(&el[i].w[0], &v) == -1 ||
		    !is(&el[i].w[1], ":") || (!is(&el[i].w[2], "jump") &&
		    !is(&el[i].w[2], "goto")) || nfrule_name(el[i].w[3].s,
		    el[i].w[3].n, x->chain, sizeof(x->chain)) == -1)
			return -1;
		memcpy(x->key, &v, sizeof(v));
		x->code = is(&el[i].w[2], "jump") ? NFT_JUMP : NFT_GOTO;
	}
	e->set->n = n;
	mark_io(e, ct, false);
	bitwise_mask(e, &m, 4);
	anon_lookup(e);
	return 0;
}

/* "ct original ip|ip6 daddr [!=] VALUE": the destination the
 * connection's first packet had, before any DNAT (a port forward's accept
 * names the address it listens on: nftc.c, put_forward_origin), VALUE as
 * in addr_value.  nft loads it with no "meta nfproto" before it (the
 * kernel's ct expression breaks on a connection of the other family). */
static int
ct_original(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	struct addr_src src = { .ct = true };
	size_t k = 4;
	bool v6, neg;

	if (nt < 5 || (!is(&t[2], "ip") && !is(&t[2], "ip6")) ||
	    !is(&t[3], "daddr"))
		return -1;
	v6 = is(&t[2], "ip6");
	src.key = v6 ? NFT_CT_DST_IP6 : NFT_CT_DST_IP;
	if ((neg = is(&t[k], "!=")) && ++k >= nt)
		return -1;
	if (t[k].n == 0)
		return -1;
	*used = k + 1;
	return addr_value(e, &src, &t[k], v6, neg);
}

/* "ct state A,B" or "ct status dnat|snat": the conntrack entry's bits
 * (a 32-bit number in the host's order) masked, compared with 0. */
static int
ct_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	static const struct {
		const char	*name;
		uint32_t	 bit;
	} state[] = {
		{ "invalid", 1 }, { "established", 2 }, { "related", 4 },
		{ "new", 8 }, { "untracked", 64 },
	}, status[] = {
		{ "snat", 16 }, { "dnat", 32 },
	};
	__typeof__(&state[0]) tab;
	uint32_t key, mask = 0, zero = 0;
	const char *p, *end;
	size_t i, n, ntab;

	if (nt < 3)
		return -1;
	if (is(&t[1], "mark"))
		return mark_match(e, t, nt, used, true);
	if (is(&t[1], "original"))
		return ct_original(e, t, nt, used);
	if (is(&t[1], "direction")) {
		unsigned char dir;

		if (!is(&t[2], "original") && !is(&t[2], "reply"))
			return -1;
		dir = is(&t[2], "reply") ? 1 : 0;	/* IP_CT_DIR_* */
		*used = 3;
		key_io(e, true, NFT_CT_DIRECTION, false);
		cmp(e, NFT_CMP_EQ, &dir, 1);
		return 0;
	}
	if (is(&t[1], "state"))
		key = NFT_CT_STATE;
	else if (is(&t[1], "status"))
		key = NFT_CT_STATUS;
	else
		return -1;
	tab = key == NFT_CT_STATE ? state : status;
	ntab = key == NFT_CT_STATE ? sizeof(state) / sizeof(state[0]) :
	    sizeof(status) / sizeof(status[0]);
	for (p = t[2].s, end = t[2].s + t[2].n; p < end; p += n + 1) {
		const char *c = memchr(p, ',', (size_t)(end - p));

		n = c != NULL ? (size_t)(c - p) : (size_t)(end - p);
		for (i = 0; i < ntab; i++)
			if (strlen(tab[i].name) == n && memcmp(tab[i].name, p,
			    n) == 0)
				break;
		if (i == ntab)
			return -1;
		mask |= tab[i].bit;
		if (c == NULL)
			break;
	}
	*used = 3;
	key_io(e, true, key, false);
	bitwise_mask(e, &mask, sizeof(mask));
	cmp(e, NFT_CMP_NEQ, &zero, sizeof(zero));
	return 0;
}


/* "iifname { "A", "B" }" and "iifname vmap { "A" : jump C, "B" : accept }":
 * an anonymous set (a map) of names, each padded with NULs to 16 bytes. */
static int
device_set(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	/* ifname (41), 16 bytes, key in host order (1); a set's typeof
	 * "meta iifname": a meta (9) of key 6; a map's: its data's byte
	 * order (0), typeof of the verdict, not an interval; as nft 1.0.6
	 * writes them. */
	static const unsigned char set_ud[] = { 0, 4, 1, 0, 0, 0, 3, 14, 0,
	    4, 9, 0, 0, 0, 1, 6, 0, 4, 6, 0, 0, 0 };
	static const unsigned char map_ud[] = { 0, 4, 1, 0, 0, 0, 1, 4, 0, 0,
	    0, 0, 4, 8, 0, 4, 1, 0, 0, 0, 1, 0, 6, 4, 0, 0, 0, 0 };
	bool map = is(&t[1], "vmap");
	struct braced el[NFRULE_ANON_MAX];
	char name[IFNAMSIZ];
	size_t n, i;

	if (braced(t + 1 + map, nt - 1 - map, el, NFRULE_ANON_MAX, &n,
	    used) == -1 || anon_begin(e, map, 41, IFNAMSIZ, map ? map_ud :
	    set_ud, map ? sizeof(map_ud) : sizeof(set_ud)) == -1)
		return -1;
	*used += 1 + map;
	for (i = 0; i < n; i++) {
		struct nfrule_elem *x = &e->set->el[i];
		const struct braced *b = &el[i];

		memset(x, 0, sizeof(*x));
		if ((b->n != (map ? 3u : 1u) && (!map || b->n != 4)) ||
		    device_name(&b->w[0], name) == -1)
			return -1;
		memcpy(x->key, name, strlen(name));
		if (!map)
			continue;
		if (!is(&b->w[1], ":"))
			return -1;
		if (b->n == 3 && (is(&b->w[2], "accept") || is(&b->w[2],
		    "drop")))
			x->code = is(&b->w[2], "accept") ? NF_ACCEPT : NF_DROP;
		else if (b->n == 4 && (is(&b->w[2], "jump") || is(&b->w[2],
		    "goto")) && nfrule_name(b->w[3].s, b->w[3].n, x->chain,
		    sizeof(x->chain)) == 0)
			x->code = is(&b->w[2], "jump") ? NFT_JUMP : NFT_GOTO;
		else
			return -1;
	}
	meta_load(e, NFT_META_IIFNAME);
	if (!map && n == 1) {
		/* nft compares with a set of one instead */
		anon_drop(e);
		cmp(e, NFT_CMP_EQ, e->set->el[0].key, IFNAMSIZ);
		return 0;
	}
	e->set->n = n;
	anon_lookup(e);
	return 0;
}

/* "iifname|oifname "NAME"" (no wildcard): the name, padded with NULs to
 * 16 bytes; "iif "NAME"": its index in this namespace, as nft resolves
 * it when it reads the line. */
static int
device_match(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	char name[IFNAMSIZ];
	unsigned char v[IFNAMSIZ];
	unsigned idx;

	if (nt >= 3 && is(&t[0], "iifname") && (is(&t[1], "{") ||
	    is(&t[1], "vmap")))
		return device_set(e, t, nt, used);
	if (nt < 2 || device_name(&t[1], name) == -1)
		return -1;
	*used = 2;
	if (is(&t[0], "iif")) {
		if ((idx = if_nametoindex(name)) == 0)
			return -1;
		meta_load(e, NFT_META_IIF);
		cmp(e, NFT_CMP_EQ, &idx, sizeof(idx));
		return 0;
	}
	memset(v, 0, sizeof(v));
	memcpy(v, name, strlen(name));
	meta_load(e, is(&t[0], "iifname") ? NFT_META_IIFNAME :
	    NFT_META_OIFNAME);
	cmp(e, NFT_CMP_EQ, v, sizeof(v));
	return 0;
}

/* The translation: the address from register 1, with port the port
 * from register 2 ("proto specified"). */
static void
nat_expr(struct enc *e, bool dnat, bool v6, bool port)
{
	struct nlattr *el, *d;

	el = expr_begin(e, "nat", &d);
	mnl_attr_put_u32(e->nlh, NFTA_NAT_TYPE, htonl(dnat ? NFT_NAT_DNAT :
	    NFT_NAT_SNAT));
	mnl_attr_put_u32(e->nlh, NFTA_NAT_FAMILY, htonl(v6 ? NFPROTO_V6 :
	    NFPROTO_V4));
	mnl_attr_put_u32(e->nlh, NFTA_NAT_REG_ADDR_MIN, htonl(NFT_REG_1));
	if (port) {
		mnl_attr_put_u32(e->nlh, NFTA_NAT_REG_PROTO_MIN,
		    htonl(NFT_REG_2));
		/* NF_NAT_RANGE_PROTO_SPECIFIED */
		mnl_attr_put_u32(e->nlh, NFTA_NAT_FLAGS, htonl(2));
	}
	expr_end(e, el, d);
}

/* "dnat|snat ip|ip6 to ip|ip6 daddr|saddr map { A : B, ... }", a
 * one-to-one NAT: the address looked up in an anonymous map of addresses
 * (ipv4_addr 7 or ipv6_addr 8, both in network order; not an interval),
 * its value the translation's address. */
static int
nat_map(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	static const unsigned char ud[] = { 0, 4, 2, 0, 0, 0, 1, 4, 2, 0, 0,
	    0, 6, 4, 0, 0, 0, 0 };
	bool v6 = is(&t[1], "ip6"), dnat = is(&t[0], "dnat");
	int af = v6 ? AF_INET6 : AF_INET;
	uint32_t w = v6 ? 16 : 4;
	struct braced el[NFRULE_ANON_MAX];
	size_t n, i;

	if ((!is(&t[4], "daddr") && !is(&t[4], "saddr")) ||
	    braced(t + 6, nt - 6, el, NFRULE_ANON_MAX, &n, used) == -1 ||
	    anon_begin(e, true, v6 ? 8 : 7, w, ud, sizeof(ud)) == -1)
		return -1;
	*used += 6;
	e->set->data_type = v6 ? 8 : 7;
	e->set->data_len = w;
	for (i = 0; i < n; i++) {
		struct nfrule_elem *m = &e->set->el[i];

		memset(m, 0, sizeof(*m));
		if (el[i].n != 3 || !is(&el[i].w[1], ":") ||
		    addr(el[i].w[0].s, el[i].w[0].n, af, m->key) == -1 ||
		    addr(el[i].w[2].s, el[i].w[2].n, af, m->data) == -1)
			return -1;
	}
	e->set->n = n;
	payload_load(e, NFT_PAYLOAD_NETWORK_HEADER, is(&t[4], "saddr") ?
	    (v6 ? 8 : 12) : (v6 ? 24 : 16), w);
	anon_lookup(e);
	nat_expr(e, dnat, v6, false);
	return 0;
}

/* "dnat|snat ip|ip6 to ADDR[:PORT]" ([ADDR]:PORT for IPv6): the address
 * (and port) loaded into registers 1 (and 2), then the translation. */
static int
nat_stmt(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	bool v6, dnat = is(&t[0], "dnat");
	unsigned char a[16], port[2];
	const char *p, *end, *colon = NULL;
	struct nlattr *el, *d;
	unsigned long pv;
	size_t w;

	if (nt < 4 || !is(&t[2], "to") || (!is(&t[1], "ip") &&
	    !is(&t[1], "ip6")))
		return -1;
	v6 = is(&t[1], "ip6");
	w = v6 ? 16 : 4;
	/* The family is the translation's own: nft adds none, but refuses
	 * the other one said before. */
	if (e->nfproto != 0 && e->nfproto != (v6 ? NFPROTO_V6 : NFPROTO_V4))
		return -1;
	if (nt >= 7 && is(&t[3], v6 ? "ip6" : "ip") && is(&t[5], "map"))
		return nat_map(e, t, nt, used);
	p = t[3].s;
	end = t[3].s + t[3].n;
	if (v6 && p < end && *p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close == NULL || close + 1 >= end || close[1] != ':')
			return -1;
		if (addr(p + 1, (size_t)(close - p - 1), AF_INET6, a) == -1)
			return -1;
		colon = close + 1;
	} else if (!v6 && (colon = memchr(p, ':', (size_t)(end - p))) !=
	    NULL) {
		if (addr(p, (size_t)(colon - p), AF_INET, a) == -1)
			return -1;
	} else if (addr(p, (size_t)(end - p), v6 ? AF_INET6 : AF_INET, a) ==
	    -1)
		return -1;
	if (colon != NULL) {
		struct tok pt = { colon + 1, (size_t)(end - colon - 1) };

		if (e->l4proto == -1)
			return -1;	/* nft: a port needs a protocol */

		if (number(&pt, 65535, &pv) == -1)
			return -1;
		port[0] = (unsigned char)(pv >> 8);
		port[1] = (unsigned char)pv;
	}
	*used = 4;
	el = expr_begin(e, "immediate", &d);
	mnl_attr_put_u32(e->nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_1));
	put_value(e, NFTA_IMMEDIATE_DATA, a, w);
	expr_end(e, el, d);
	if (colon != NULL) {
		el = expr_begin(e, "immediate", &d);
		mnl_attr_put_u32(e->nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_2));
		put_value(e, NFTA_IMMEDIATE_DATA, port, 2);
		expr_end(e, el, d);
	}
	nat_expr(e, dnat, v6, colon != NULL);
	return 0;
}

/* "limit rate N/second|minute burst N packets" */
static int
limit(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	struct tok rate;
	const char *slash;
	unsigned long r, burst;
	uint64_t unit;
	struct nlattr *el, *d;

	if (nt < 6 || !is(&t[1], "rate") || !is(&t[3], "burst") ||
	    !is(&t[5], "packets") ||
	    (slash = memchr(t[2].s, '/', t[2].n)) == NULL)
		return -1;
	rate.s = t[2].s;
	rate.n = (size_t)(slash - t[2].s);
	if (t[2].s + t[2].n - slash - 1 == 6 && memcmp(slash + 1, "second",
	    6) == 0)
		unit = 1;
	else if (t[2].s + t[2].n - slash - 1 == 6 &&
	    memcmp(slash + 1, "minute", 6) == 0)
		unit = 60;
	else
		return -1;
	if (number(&rate, UINT32_MAX, &r) == -1 || number(&t[4], UINT32_MAX,
	    &burst) == -1 || burst == 0)
		return -1;
	*used = 6;
	el = expr_begin(e, "limit", &d);
	mnl_attr_put_u64(e->nlh, NFTA_LIMIT_RATE, htobe64(r));
	mnl_attr_put_u64(e->nlh, NFTA_LIMIT_UNIT, htobe64(unit));
	mnl_attr_put_u32(e->nlh, NFTA_LIMIT_BURST, htonl((uint32_t)burst));
	mnl_attr_put_u32(e->nlh, NFTA_LIMIT_TYPE, htonl(NFT_LIMIT_PKTS));
	mnl_attr_put_u32(e->nlh, NFTA_LIMIT_FLAGS, htonl(0));
	expr_end(e, el, d);
	return 0;
}

/* "log group N prefix "S"" */
static int
log_stmt(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	char prefix[128];
	unsigned long group;
	struct nlattr *el, *d;

	if (nt < 5 || !is(&t[1], "group") || number(&t[2], 65535, &group) ==
	    -1 || !is(&t[3], "prefix") || quoted(&t[4], prefix,
	    sizeof(prefix)) == -1)
		return -1;
	*used = 5;
	el = expr_begin(e, "log", &d);
	mnl_attr_put_strz(e->nlh, NFTA_LOG_PREFIX, prefix);
	mnl_attr_put_u16(e->nlh, NFTA_LOG_GROUP, htons((uint16_t)group));
	expr_end(e, el, d);
	return 0;
}

/* "counter name "NAME"": a named counter object of the table. */
static int
counter_ref(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	char name[NFT_OBJ_MAXNAMELEN];
	struct nlattr *el, *d;

	if (nt < 3 || quoted(&t[2], name, sizeof(name)) == -1 ||
	    name[0] == '\0')
		return -1;
	*used = 3;
	el = expr_begin(e, "objref", &d);
	mnl_attr_put_u32(e->nlh, NFTA_OBJREF_IMM_TYPE,
	    htonl(NFT_OBJECT_COUNTER));
	mnl_attr_put_strz(e->nlh, NFTA_OBJREF_IMM_NAME, name);
	expr_end(e, el, d);
	return 0;
}

static void
verdict(struct enc *e, int code, const char *chain)
{
	struct nlattr *el, *d, *data, *v;

	el = expr_begin(e, "immediate", &d);
	mnl_attr_put_u32(e->nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	data = mnl_attr_nest_start(e->nlh, NFTA_IMMEDIATE_DATA);
	v = mnl_attr_nest_start(e->nlh, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(e->nlh, NFTA_VERDICT_CODE, htonl((uint32_t)code));
	if (chain != NULL)
		mnl_attr_put_strz(e->nlh, NFTA_VERDICT_CHAIN, chain);
	mnl_attr_nest_end(e->nlh, v);
	mnl_attr_nest_end(e->nlh, data);
	expr_end(e, el, d);
	e->verdict = true;
}

/* "jump|goto CHAIN" */
static int
jump(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	char chain[NFT_CHAIN_MAXNAMELEN];

	if (nt < 2 || nfrule_name(t[1].s, t[1].n, chain, sizeof(chain)) ==
	    -1)
		return -1;
	*used = 2;
	verdict(e, is(&t[0], "jump") ? NFT_JUMP : NFT_GOTO, chain);
	return 0;
}

/* "reject with tcp reset" (after "meta l4proto tcp" or a tcp match, as
 * nft demands) or "reject with icmpx type admin-prohibited". */
static int
reject(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	struct nlattr *el, *d;

	if (nt >= 4 && is(&t[1], "with") && is(&t[2], "tcp") &&
	    is(&t[3], "reset")) {
		if (e->l4proto != IPPROTO_TCP)
			return -1;
		*used = 4;
		el = expr_begin(e, "reject", &d);
		mnl_attr_put_u32(e->nlh, NFTA_REJECT_TYPE,
		    htonl(NFT_REJECT_TCP_RST));
		expr_end(e, el, d);
	} else if (nt >= 5 && is(&t[1], "with") && is(&t[2], "icmpx") &&
	    is(&t[3], "type") && is(&t[4], "admin-prohibited")) {
		*used = 5;
		el = expr_begin(e, "reject", &d);
		mnl_attr_put_u32(e->nlh, NFTA_REJECT_TYPE,
		    htonl(NFT_REJECT_ICMPX_UNREACH));
		mnl_attr_put_u8(e->nlh, NFTA_REJECT_ICMP_CODE,
		    NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
		expr_end(e, el, d);
	} else
		return -1;
	e->verdict = true;
	return 0;
}

/* One statement or match at t: how many words it took in *used; -1 when
 * it is not one of the vocabulary. */
static int
word(struct enc *e, const struct tok *t, size_t nt, size_t *used)
{
	struct nlattr *el, *d;

	if (e->verdict)
		return -1;	/* only the comment may follow a verdict */
	if (is(&t[0], "ip") || is(&t[0], "ip6"))
		return addr_match(e, t, nt, used);
	if (is(&t[0], "tcp"))
		return port_match(e, t, nt, IPPROTO_TCP, used);
	if (is(&t[0], "udp"))
		return port_match(e, t, nt, IPPROTO_UDP, used);
	if (is(&t[0], "sctp"))
		return port_match(e, t, nt, IPPROTO_SCTP, used);
	if (is(&t[0], "icmp") || is(&t[0], "icmpv6"))
		return type_match(e, t, nt, used);
	if (is(&t[0], "meta"))
		return meta_match(e, t, nt, used);
	if (is(&t[0], "counter")) {
		if (nt > 1 && is(&t[1], "name"))
			return counter_ref(e, t, nt, used);
		*used = 1;
		el = expr_begin(e, "counter", &d);
		expr_end(e, el, d);
		return 0;
	}
	if (is(&t[0], "ct"))
		return ct_match(e, t, nt, used);
	if (is(&t[0], "iif") || is(&t[0], "iifname") || is(&t[0], "oifname"))
		return device_match(e, t, nt, used);
	if (is(&t[0], "dnat") || is(&t[0], "snat"))
		return nat_stmt(e, t, nt, used);
	if (is(&t[0], "masquerade")) {
		*used = 1;
		el = expr_begin(e, "masq", &d);
		expr_end(e, el, d);
		return 0;
	}
	if (is(&t[0], "socket"))
		return socket_match(e, t, nt, used);
	if (is(&t[0], "fib"))
		return fib_match(e, t, nt, used);
	if (is(&t[0], "tproxy"))
		return tproxy_stmt(e, t, nt, used);
	if (is(&t[0], "rt"))
		return rt_match(e, t, nt, used);
	if (is(&t[0], "limit"))
		return limit(e, t, nt, used);
	if (is(&t[0], "log"))
		return log_stmt(e, t, nt, used);
	if (is(&t[0], "accept") || is(&t[0], "drop") || is(&t[0], "return")) {
		*used = 1;
		verdict(e, is(&t[0], "accept") ? NF_ACCEPT : is(&t[0], "drop") ?
		    NF_DROP : NFT_RETURN, NULL);
		return 0;
	}
	if (is(&t[0], "jump") || is(&t[0], "goto"))
		return jump(e, t, nt, used);
	if (is(&t[0], "reject"))
		return reject(e, t, nt, used);
	return -1;
}

int
nfrule_put(struct nlmsghdr *nlh, const char *s, size_t len,
    struct nfrule_anon *anon)
{
	struct tok t[TOKENS_MAX];
	struct enc e;
	struct nlattr *list;
	char comment[NFT_USERDATA_MAXLEN];
	size_t nt, i, used, clen, start = nlh->nlmsg_len;

	if (len > NFRULE_TEXT_MAX || split(s, len, t, &nt) == -1 || nt == 0)
		return 1;
	memset(&e, 0, sizeof(e));
	e.nlh = nlh;
	e.l4proto = -1;
	e.anon = anon;
	if (anon != NULL)
		anon->n = 0;
	/* A comment ends the rule. */
	comment[0] = '\0';
	if (nt >= 2 && is(&t[nt - 2], "comment")) {
		if (quoted(&t[nt - 1], comment, 128) == -1)
			return 1;
		nt -= 2;
	}
	list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	for (i = 0; i < nt; i += used) {
		/* Room for one more word and the comment (moat's rules take
		 * far less): a text of 1,024 bytes may say "ip6 saddr ::/1"
		 * 50 times, 10 KB of expressions. */
		if (nlh->nlmsg_len - start > NFRULE_MSG_MAX - WORD_MAX -
		    COMMENT_MAX)
			return 1;
		used = 0;
		if (word(&e, t + i, nt - i, &used) == -1 || used == 0)
			return 1;
	}
	mnl_attr_nest_end(nlh, list);
	if (e.merged)
		return 1;
	if ((clen = strlen(comment)) > 0) {
		/* libnftnl's user data: a type (NFTNL_UDATA_RULE_COMMENT,
		 * 0), a length, the string with its NUL. */
		unsigned char ud[2 + 128];

		ud[0] = 0;
		ud[1] = (unsigned char)(clen + 1);
		memcpy(ud + 2, comment, clen + 1);
		mnl_attr_put(nlh, NFTA_RULE_USERDATA, clen + 3, ud);
	}
	return 0;
}

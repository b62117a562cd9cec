/* nftc.c: compile a policy to nftables text; see nftc.h.
 *
 * The data path, top to bottom:
 *   input/forward base chains: established and related accepted, invalid
 *   dropped (input also lets loopback and IPv6 neighbour discovery in),
 *   then `iifname vmap` jumps to one chain per interface, zone_NAME;
 *   zone_NAME: the anti-lockout rule (LAN), the rules in file order, the
 *   accepts implied by port forwards (and their reflections), and the
 *   interface's default;
 *   prerouting: port forwards and their reflections, then 1:1 and its
 *   reflection (DNAT);
 *   postrouting: the reflections' masquerade (forwards', then 1:1's), 1:1,
 *   the nat source rules
 *   in file order, then each interface's masquerade (SNAT; the first NAT
 *   statement that matches decides, and translate none is an accept);
 *   with gateways, the gateways chains (compile_gateways) mark the link.
 * Rules are compiled from their resolved sets, one family at a time, so an
 * exclude of an IPv4-only set still matches every IPv6 address, as the
 * language says.  Every rule counts in a named counter rule_ID (ID its
 * id: nftc.h), so `moat status` reads back exact per-rule figures however
 * a rule is split.
 */
#include "enforce/nftc.h"

#define NFTC_STR2(x)	#x
#define NFTC_STR(x)	NFTC_STR2(x)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/hash.h"
#include "enforce/feedstore.h"
#include "policy/schedule.h"

#define V6_ALL_LO	((u128)0)
/* An entry's id (a rule's, a port forward's, a nat source rule's, a
 * one-to-one line's) as its kernel objects' names spell it (NFTC_ID). */
#define RID(r)		((unsigned long long)(r)->id)

static const char *const fam_word[] = { [FAM_V4] = "ip", [FAM_V6] = "ip6" };
static const char *const fam_suffix[] = { [FAM_V4] = "v4", [FAM_V6] = "v6" };

struct nftc {
	const struct policy	*p;
	struct strbuf		*b;
	struct arena		 a;		/* scratch sets */
	struct iset		 full[3];	/* every address of a family */
	bool			 linear;	/* the benchmarks' naive form */
	bool			 plain;		/* linear, its sets named */
	const char		*device;	/* linear: iifname of each rule */
	bool			 omit_src;	/* dispatched: source known */
	struct strbuf		 sets;		/* shared sets, declared first */
	struct strbuf		 chains;	/* then the chains */
	struct nametab		*set_names;	/* elements → set name */
	struct nametab		*set_taken;	/* set names given */
	struct nametab		*dyn_names;	/* dynamic sets, declared */
	struct strbuf		*dyn;		/* their refill, or NULL */
	const char		*side;		/* "rule_ID_src": the side
						   put_addr_match writes */
	struct sched_frame	 frame;		/* the kernel's clocks, now */
	bool			 route;		/* compiling a route_IF chain:
						   a match marks or returns */
	enum addr_family	 route_fam;	/* its family */
	struct rule_part	*parts[2];	/* by family, by rule number */
	unsigned char		*kinds;		/* by class chain: class_kind */
	struct arena		 plan;		/* a zone's plan and the arrays
						   of its chains, emptied after
						   the zone: the next zone's
						   plan takes the same memory */
};

/* A rule's sides in one family and whether it decides every connection
 * of its source there, computed once: a dispatched zone asks for them in
 * its plan, in every class chain the rule is in and for every map
 * element, hundreds of thousands of times at 100K rules. */
struct rule_part {
	struct iset	 src, dst;
	bool		 done;
	bool		 decides;
};

/*
 * A set of several elements, as a named set shared by every rule that
 * needs the same elements.  An inline "{ … }" would be an anonymous set
 * per rule, and the kernel looks for a free anonymous name by walking
 * every set of the table: 10,000 of them cost seconds, 100,000 minutes.
 * It is named by a hash of its type and elements, set_HASH, not by the
 * order of first use: a rule with a new list put above others renames
 * no set (incremental.md).  A different set whose hash is taken (never
 * seen) gets the next free one.
 */
static void
put_shared_set(struct nftc *c, struct strbuf *b, const char *type,
    bool interval, const char *elements)
{
	char *key = arena_printf(&c->a, "%s %s", type, elements);
	const char *name = nametab_get(c->set_names, key);

	if (name == NULL) {
		uint64_t h = fnv1a(key, strlen(key));

		if (c->set_taken == NULL)
			c->set_taken = nametab_new(&c->a, 64);
		for (;;) {
			name = arena_printf(&c->a, "set_%016llx",
			    (unsigned long long)h++);
			if (nametab_get(c->set_taken, name) == NULL)
				break;
		}
		nametab_put(c->set_taken, name, key);
		nametab_put(c->set_names, key, (void *)name);
		strbuf_printf(&c->sets, "\tset %s {\n\t\ttype %s\n%s"
		    "\t\telements = { %s }\n\t}\n\n", name, type, interval ?
		    "\t\tflags interval\n" : "", elements);
	}
	strbuf_putc(b, '@');
	strbuf_puts(b, name);
}

/*
 * IPv6 packets to or from an IPv4-mapped address (::ffff:0:0/96, where
 * moat keeps IPv4) are no traffic moat reasons about: Linux drops those
 * from one (RFC 4291 2.5.5.2), and these rules drop those to one too, so
 * that filling the block back into an IPv6 part (below) and a negated
 * IPv6 match stay exact.
 */
#define NFTC_MAPPED_DROP \
	"\t\tip6 saddr ::ffff:0:0/96 drop comment \"IPv4-mapped\"\n" \
	"\t\tip6 daddr ::ffff:0:0/96 drop comment \"IPv4-mapped\"\n"

/*
 * The part of s in family f, as the kernel is to match it.  An IPv6 part
 * that runs up to the IPv4 block on both sides (::/0, ::/1, ::/64) gets
 * the block back, so it is written as the prefix the admin wrote:
 * IPv6 packets with an IPv4-mapped address are none moat reasons about
 * (Linux drops those from one, RFC 4291 2.5.5.2), and IPv4 packets never
 * meet an ip6 match.
 */
static struct iset
family_part(struct arena *a, const struct iset full[3], struct iset s,
    enum addr_family f)
{
	struct iset part, none = { 0, NULL };
	bool in4, out4;

	/* Most sets are of one family: all inside the IPv4 block or all
	 * outside it, and then the part is the set itself or nothing, no
	 * copy (the same intervals iset_inter would give). */
	if (s.n == 0)
		return none;
	/* Any address (most rules' one side): the family's own range, or
	 * for IPv6 the whole again (below: the block given back). */
	if (s.n == 1 && s.v[0].lo == 0 && s.v[0].hi == U128_MAX)
		return f == FAM_V4 ? full[FAM_V4] : s;
	in4 = s.v[0].lo >= V4_BASE && s.v[s.n - 1].hi <= V4_LAST;
	out4 = s.v[s.n - 1].hi < V4_BASE || s.v[0].lo > V4_LAST;
	if (in4)
		return f == FAM_V4 ? s : none;
	if (out4 && f == FAM_V4)
		return none;
	part = out4 ? s : iset_inter(a, s, full[f]);

	if (f == FAM_V6 && iset_contains(part, V4_BASE - 1) &&
	    iset_contains(part, V4_LAST + 1))
		part = iset_union(a, part, full[FAM_V4]);
	return part;
}

static struct iset
fam_part(struct nftc *c, struct iset s, enum addr_family f)
{
	return family_part(&c->a, c->full, s, f);
}

static bool	 decides_all(struct nftc *, const struct rule *,
		    enum addr_family);

/* Rule r's sides in family f (FAM_V4 or FAM_V6), as fam_part makes them;
 * kept by the rule's number when it is the policy's rule of that number
 * (the anti-lockout rule is 0), else made anew. */
static const struct rule_part *
rule_part(struct nftc *c, const struct rule *r, enum addr_family f)
{
	const struct policy *p = c->p;
	struct rule_part *rp, fresh;
	int fi = f == FAM_V4 ? 0 : 1;

	if (r->number >= 0 && (size_t)r->number <= p->nrule &&
	    (r->number == 0 ? r == p->lockout_rule :
	    p->rules[r->number - 1] == r)) {
		if (c->parts[fi] == NULL)
			c->parts[fi] = arena_array(&c->a, p->nrule + 1,
			    sizeof(*c->parts[fi]));
		rp = &c->parts[fi][r->number];
		if (rp->done)
			return rp;
	} else
		rp = arena_alloc(&c->a, sizeof(*rp));
	fresh.src = fam_part(c, r->src.set, f);
	fresh.dst = fam_part(c, r->dst.set, f);
	fresh.decides = decides_all(c, r, f);
	fresh.done = true;
	*rp = fresh;
	return rp;
}

/* nft names allow letters, digits and '_': policy_put_kernel_name's. */
void
nftc_put_ident(struct strbuf *b, const char *name)
{
	policy_put_kernel_name(b, name);
}

/*
 * Numbers written by hand where a rule's text is made: the compiler writes
 * a few million of them at 100K rules, and printf's parsing of its format
 * was a sixth of the compile.  put_id writes what NFTC_ID ("%016llx")
 * does, put_uint what "%llu" does.
 */
static void
put_id(struct strbuf *b, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char s[16];
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		s[i] = hex[v & 15];
	strbuf_add(b, s, sizeof(s));
}

static void
put_uint(struct strbuf *b, unsigned long long v)
{
	char s[24];
	size_t i = sizeof(s);

	do
		s[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	strbuf_add(b, s + i, sizeof(s) - i);
}

static void
put_addr(struct strbuf *b, u128 a)
{
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	strbuf_puts(b, buf);
}

/* One interval as a host, a prefix or a range. */
static void
put_interval(struct strbuf *b, u128 lo, u128 hi, enum addr_family f)
{
	int bits = f == FAM_V4 ? 32 : 128, plen;
	u128 size = hi - lo;

	if (lo == hi) {
		put_addr(b, lo);
		return;
	}
	/* A prefix when the interval is aligned and a power of two long. */
	if (size != U128_MAX && ((size + 1) & size) == 0 &&
	    (lo & size) == 0) {
		for (plen = bits; plen > 0 && size != 0; plen--)
			size >>= 1;
		put_addr(b, lo);
		strbuf_putc(b, '/');
		put_uint(b, (unsigned)plen);
		return;
	}
	put_addr(b, lo);
	strbuf_putc(b, '-');
	put_addr(b, hi);
}

static void
put_elements(struct strbuf *b, struct iset s, enum addr_family f)
{
	size_t i;

	for (i = 0; i < s.n; i++) {
		if (i > 0)
			strbuf_puts(b, ", ");
		put_interval(b, s.v[i].lo, s.v[i].hi, f);
	}
}

/* The definitions of the feeds x holds, through its objects' members,
 * folded into h: what a set's comment carries so that a feed object
 * given another definition changes the ruleset's text, and a difference
 * (nftdiff) does not keep the old definition's addresses. */
static uint64_t
feeds_key(const struct addr_expr *x, uint64_t h)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct object *o = x->v[i].obj;
		uint64_t k;

		if (x->v[i].kind != AE_NAME || o == NULL)
			continue;
		if (policy_object_feed(o)) {
			unsigned char le[8];
			int b;

			/* in one byte order: the comment is the same text on
			 * every host */
			k = feedstore_key(o);
			for (b = 0; b < 8; b++)
				le[b] = (unsigned char)(k >> (8 * b));
			h = fnv1a_add(h, le, sizeof(le));
		} else if (o->members.dynamic)
			h = feeds_key(&o->members, h);
	}
	return h;
}

/*
 * A set that follows a dynamic interface's addresses: declared (with
 * what it holds under the policy's binding, possibly nothing) into out,
 * and its refill appended to c->dyn.  name is written as it is; x is
 * what the set holds.
 */
static void
put_dynamic_set(struct nftc *c, struct strbuf *out, const char *name,
    struct iset part, enum addr_family f, const struct addr_expr *x)
{
	const char *type = f == FAM_V4 ? "ipv4_addr" : "ipv6_addr";

	strbuf_printf(out, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n"
	    "\t\tcomment \"", name, type);
	if (policy_expr_has_feed(x))
		strbuf_printf(out, NFTC_FEEDS_HELD_COMMENT " %016llx\"\n",
		    (unsigned long long)feeds_key(x, FNV1A_INIT));
	else
		strbuf_puts(out, NFTC_DYNAMIC_COMMENT "\"\n");
	if (!iset_empty(part)) {
		strbuf_puts(out, "\t\telements = { ");
		put_elements(out, part, f);
		strbuf_puts(out, " }\n");
	}
	strbuf_puts(out, "\t}\n\n");
	if (c->dyn == NULL)
		return;
	strbuf_printf(c->dyn, "flush set inet " NFTC_TABLE " %s\n", name);
	if (!iset_empty(part)) {
		strbuf_printf(c->dyn, "add element inet " NFTC_TABLE " %s { ",
		    name);
		put_elements(c->dyn, part, f);
		strbuf_puts(c->dyn, " }\n");
	}
}

/*
 * The match of an address side that names a dynamic interface's
 * addresses: always a set (they may be empty now and not later), the
 * object's own for one name, else one of the rule side's.
 */
static void
put_dynamic_match(struct nftc *c, struct strbuf *b, const char *dir,
    const struct addr_expr *x, struct iset part, enum addr_family f)
{
	const struct object *o = x->n == 1 && x->v[0].kind == AE_NAME ?
	    x->v[0].obj : NULL;
	char *name;

	strbuf_printf(b, " %s %s %s@", fam_word[f], dir, o != NULL &&
	    x->exclude ? "!= " : "");
	if (o != NULL) {
		nftc_put_ident(b, o->name);
		strbuf_printf(b, "_%s", fam_suffix[f]);
		return;
	}
	name = arena_printf(&c->a, "%s_%s", c->side, fam_suffix[f]);
	strbuf_puts(b, name);
	if (nametab_get(c->dyn_names, name) != NULL)
		return;
	nametab_put(c->dyn_names, name, name);
	put_dynamic_set(c, &c->sets, name, part, f, x);
}

/* The object whose family-f part is exactly s, if the expression names
 * one object: its named set reads better than the addresses. */
static const struct object *
named_set_for(struct nftc *c, const struct addr_expr *x, struct iset s,
    enum addr_family f)
{
	const struct object *o;

	if (c->linear || x->n != 1 || x->v[0].kind != AE_NAME ||
	    (o = x->v[0].obj) == NULL || o->kind == OBJ_ANY)
		return NULL;
	return iset_equal(fam_part(c, o->set, f), s) ? o : NULL;
}

/*
 * The match of one address side in family f, or nothing when it matches
 * every address of f.  Writes the shorter of the set and its complement.
 */
static void
put_addr_match(struct nftc *c, struct strbuf *b, const char *dir,
    const struct addr_expr *x, struct iset part, enum addr_family f)
{
	struct iset neg, show = part;
	const struct object *o;
	bool negate = false;

	if (x->dynamic) {
		put_dynamic_match(c, b, dir, x, part, f);
		return;
	}
	neg = iset_diff(&c->a, c->full[f], part);
	if (iset_empty(neg))
		return;
	o = named_set_for(c, x, part, f);
	if (o == NULL && x->exclude) {
		/* !OBJ: the object's own set, negated. */
		const struct object *on = named_set_for(c,
		    &(struct addr_expr){ .n = 1, .v = x->v }, neg, f);

		if (on != NULL) {
			o = on;
			negate = true;
		}
	}
	if (o == NULL && neg.n < part.n) {
		negate = true;
		show = neg;
	}
	strbuf_putc(b, ' ');
	strbuf_puts(b, fam_word[f]);
	strbuf_putc(b, ' ');
	strbuf_puts(b, dir);
	strbuf_puts(b, negate ? " != " : " ");
	if (o != NULL) {
		strbuf_putc(b, '@');
		nftc_put_ident(b, o->name);
		strbuf_putc(b, '_');
		strbuf_puts(b, fam_suffix[f]);
	} else if (show.n == 1)
		put_interval(b, show.v[0].lo, show.v[0].hi, f);
	else if (c->linear && !c->plain) {
		strbuf_puts(b, "{ ");
		put_elements(b, show, f);
		strbuf_puts(b, " }");
	} else {
		struct strbuf el;

		strbuf_init(&el, 0);
		put_elements(&el, show, f);
		put_shared_set(c, b, f == FAM_V4 ? "ipv4_addr" : "ipv6_addr",
		    true, strbuf_str(&el));
		strbuf_free(&el);
	}
}

/* Ports or types within a service set: 25, 8000-8100, or a shared set. */
static void
put_ports(struct nftc *c, struct strbuf *b, const struct proto_info *pi,
    struct iset part)
{
	struct strbuf el;
	size_t i;
	unsigned v;

	if (part.n == 1) {
		unsigned lo = (unsigned)(part.v[0].lo & 0xffff);
		unsigned hi = (unsigned)(part.v[0].hi & 0xffff);

		put_uint(b, lo);
		if (lo != hi) {
			strbuf_putc(b, '-');
			put_uint(b, hi);
		}
		return;
	}
	strbuf_init(&el, 0);
	for (i = 0; i < part.n; i++) {
		unsigned lo = (unsigned)(part.v[i].lo & 0xffff);
		unsigned hi = (unsigned)(part.v[i].hi & 0xffff);

		if (pi->kind == PK_TYPES) {	/* types one by one */
			for (v = lo; v <= hi; v++) {
				strbuf_puts(&el, el.len ? ", " : "");
				put_uint(&el, v);
			}
		} else {
			strbuf_puts(&el, el.len ? ", " : "");
			put_uint(&el, lo);
			if (lo != hi) {
				strbuf_putc(&el, '-');
				put_uint(&el, hi);
			}
		}
	}
	if (c->linear && !c->plain)
		strbuf_printf(b, "{ %s }", strbuf_str(&el));
	else
		put_shared_set(c, b, pi->kind == PK_PORTS ? "inet_service" :
		    pi->number == 1 ? "icmp_type" : "icmpv6_type",
		    pi->kind == PK_PORTS, strbuf_str(&el));
	strbuf_free(&el);
}

static const int proto_order[] = { 6, 17, 132, 1, 58, 47, 50, 51 };

/* One service group of a rule: "tcp dport 25" or "meta l4proto gre". */
struct svc_group {
	const struct proto_info	*pi;	/* NULL: any protocol */
	struct iset		 part;	/* keys of pi within the rule */
	bool			 all;	/* every port or type of pi */
};

/* Split a service set into one group per protocol, in family f. */
static size_t
svc_groups(struct nftc *c, struct iset s, enum addr_family f,
    struct svc_group *g)
{
	size_t i, n = 0;

	if (s.n == 1 && s.v[0].lo == 0 && s.v[0].hi == 0xffffff) {
		g[0].pi = NULL;
		return 1;
	}
	for (i = 0; i < sizeof(proto_order) / sizeof(proto_order[0]); i++) {
		const struct proto_info *pi = builtin_proto_by_number(
		    proto_order[i]);
		u128 base = (u128)pi->number << 16;
		struct ival iv = { base, base | 0xffff };
		struct iset keys = { 1, &iv }, part;

		/* (no copy of a protocol the set has none of) */
		if (!(pi->family & f) || !iset_overlaps(s, keys))
			continue;
		part = iset_inter(&c->a, s, keys);
		g[n].pi = pi;
		g[n].part = part;
		g[n].all = part.n == 1 && part.v[0].lo == base &&
		    part.v[0].hi == (base | 0xffff);
		n++;
	}
	return n;
}

static void
put_svc_match(struct nftc *c, struct strbuf *b, const struct svc_group *g)
{
	if (g->pi == NULL)
		return;
	if (g->all || g->pi->kind == PK_NONE) {
		strbuf_printf(b, " meta l4proto %s", g->pi->number == 58 ?
		    "ipv6-icmp" : g->pi->name);
		return;
	}
	strbuf_putc(b, ' ');
	strbuf_puts(b, g->pi->name);
	strbuf_puts(b, g->pi->kind == PK_PORTS ? " dport " : " type ");
	put_ports(c, b, g->pi, g->part);
}

/* Start a rule line; end_line() drops the space its first match put. */
static size_t
begin_line(struct nftc *c)
{
	size_t start;

	strbuf_puts(c->b, "\t\t");
	start = c->b->len;
	if (c->linear)
		strbuf_printf(c->b, " iifname \"%s\"", c->device);
	return start;
}

static void
end_line(struct strbuf *b, size_t start)
{
	if (!strbuf_failed(b) && b->len > start && b->s[start] == ' ') {
		memmove(b->s + start, b->s + start + 1, b->len - start);
		b->len--;
	}
}

/* The log statement of a rule's or a default's log: rate limited, to
 * moatd's NFLOG group, the prefix naming what decided ("i" and the rule's
 * id, or "d" and the interface) by what stays the same when other rules
 * change (doc/design/rule-ids.md). */
static void
put_log(struct nftc *c, struct strbuf *b, const char *what,
    enum action act)
{
	unsigned rate = c->p->logging.rate;

	if (rate > 0)
		strbuf_printf(b, "limit rate %u/second burst %u packets ", rate,
		    2 * rate);
	strbuf_printf(b, "log group %d prefix \"" NFTC_LOG_PREFIX "%s %s\"",
	    NFTC_LOG_GROUP, what, action_name(act));
}

/* A rule that logs: its matches jump to a chain of its own that logs
 * (within the rate) and decides, so the packet is matched once. */
static void
compile_log_chain(struct nftc *c, const struct rule *r)
{
	struct strbuf *b = c->b;
	char what[32];

	snprintf(what, sizeof(what), NFTC_LOG_RULE NFTC_ID, RID(r));
	strbuf_printf(b, "\tchain log_" NFTC_ID " {\n\t\t", RID(r));
	put_log(c, b, what, r->action);
	strbuf_putc(b, '\n');
	if (r->action == ACT_REJECT)
		strbuf_printf(b, "\t\tmeta l4proto tcp counter reject with tcp "
		    "reset comment \"rule " NFTC_ID "\"\n", RID(r));
	strbuf_printf(b, "\t\tcounter %s comment \"rule " NFTC_ID
	    "\"\n\t}\n\n", r->action == ACT_ACCEPT ?
	    "accept" : r->action == ACT_DENY ? "drop" : "reject with icmpx type "
	    "admin-prohibited", RID(r));
}

static void
put_verdict(struct nftc *c, const struct rule *r, const struct svc_group *g,
    bool tcp_only)
{
	struct strbuf *b = c->b;

	/* A route chain: the first rule that matches decides the link, its
	 * gateway's (or the main table's: none). */
	if (c->route) {
		if (policy_rule_gw_applies(r, c->route_fam))
			strbuf_printf(b, " meta mark set meta mark and 0x%08x or "
			    "0x%08x return comment \"rule " NFTC_ID ": %s %s\"\n",
			    (unsigned)~GW_MARK_MASK,
			    GW_MARK_CHOICE(policy_gw_choice(&r->gw)), RID(r),
			    r->gw.gw != NULL ? "gateway" : "gateway-group",
			    r->gw.name);
		else
			strbuf_printf(b, " return comment \"rule " NFTC_ID
			    "\"\n", RID(r));
		return;
	}
	/* What a scheduled accept admits carries its number in the ct mark,
	 * so that moatd finds it when the window ends; the bits of the mark
	 * that are not ours are kept. */
	if (r->sched_mark > 0)
		strbuf_printf(b, " ct mark set ct mark and 0x%08x or 0x%x",
		    (unsigned)~NFTC_CT_SCHED_MASK, r->sched_mark);
	if (r->log && !c->linear && r->number > 0) {
		strbuf_printf(b, " jump log_" NFTC_ID " comment \"rule "
		    NFTC_ID "\"\n", RID(r), RID(r));
		return;
	}
	if (r->log)
		strbuf_printf(b, " log prefix \"moat rule %d %s: \"", r->number,
		    action_name(r->action));
	/* A rule's own counter, told by the rule's comment (counters.h):
	 * no object per rule, whose dump grows with the square of their
	 * number and which libnftables reads before any change. */
	if (c->linear || r->number > 0)
		strbuf_puts(b, " counter");
	else
		strbuf_puts(b, " counter name \"anti_lockout\"");
	switch (r->action) {
	case ACT_ACCEPT:
		strbuf_puts(b, " accept");
		break;
	case ACT_DENY:
		strbuf_puts(b, " drop");
		break;
	case ACT_REJECT:
		if (tcp_only || (g->pi != NULL && g->pi->number == 6))
			strbuf_puts(b, " reject with tcp reset");
		else
			strbuf_puts(b, " reject with icmpx type "
			    "admin-prohibited");
		break;
	}
	if (r->number > 0) {
		strbuf_puts(b, " comment \"rule ");
		put_id(b, r->id);
		strbuf_puts(b, "\"\n");
	} else
		strbuf_puts(b, " comment \"anti-lockout\"\n");
}

/* One piece of a schedule's time: the kernel's weekday and UTC seconds
 * of the day (policy/schedule.c says why these frames). */
static void
put_time_match(struct strbuf *b, const struct sched_piece *pc)
{
	int d, n = 0;

	if ((pc->days & 0x7f) != 0x7f) {
		for (d = 0; d < 7; d++)
			n += (pc->days >> d) & 1;
		strbuf_puts(b, n > 1 ? " meta day { " : " meta day ");
		for (d = 0, n = 0; d < 7; d++)
			if (pc->days & (1u << d))
				strbuf_printf(b, "%s%d", n++ ? ", " : "", d);
		if (n > 1)
			strbuf_puts(b, " }");
	}
	/* Seconds, not "HH:MM": nft would take those as its own local
	 * time and move them to UTC a second time. */
	if (pc->lo != 0 || pc->hi != 86399)
		strbuf_printf(b, " meta hour %u-%u", pc->lo, pc->hi);
}

/* The nft rules of one moat rule in family f (none if it cannot match):
 * a rule with a schedule is one per piece of its time, in a row, so the
 * first match and the rule's counter are those of one rule. */
static void
compile_rule_family(struct nftc *c, const struct rule *r, enum addr_family f,
    bool need_nfproto)
{
	struct strbuf *b = c->b;
	bool both = f == FAM_BOTH;	/* no address to match: one rule */
	const struct rule_part *rp = both ? NULL : rule_part(c, r, f);
	struct iset src = both ? r->src.set : rp->src;
	struct iset dst = both ? r->dst.set : rp->dst;
	struct svc_group g[8];
	struct sched_piece *pc = NULL;
	size_t i, n, q, npc = 1;

	/* A dynamic side may be empty now, and not later. */
	if ((iset_empty(src) && !r->src.dynamic) ||
	    (iset_empty(dst) && !r->dst.dynamic))
		return;
	if (r->sched != NULL)
		npc = schedule_kernel_pieces(&c->a, r->sched, &c->frame, &pc);
	n = svc_groups(c, r->svc.set, f, g);
	for (q = 0; q < npc; q++)
	for (i = 0; i < n; i++) {
		bool split_reject = r->action == ACT_REJECT && g[i].pi == NULL &&
		    !(r->log && !c->linear) && !c->route;
		int pass;

		/* reject of any protocol: a reset for tcp, icmpx for the rest */
		for (pass = 0; pass < (split_reject ? 2 : 1); pass++) {
			size_t start = begin_line(c);

			if (need_nfproto)
				strbuf_puts(b, f == FAM_V4 ?
				    " meta nfproto ipv4" : " meta nfproto ipv6");
			if (pc != NULL)
				put_time_match(b, &pc[q]);
			/* (c->side is named only for a dynamic side,
			 * the one put_dynamic_match reads) */
			if (!c->omit_src && !both) {
				if (r->src.dynamic)
					c->side = arena_printf(&c->a, "rule_"
					    NFTC_ID "_src", RID(r));
				put_addr_match(c, b, "saddr", &r->src, src, f);
			}
			if (!both) {
				if (r->dst.dynamic)
					c->side = arena_printf(&c->a, "rule_"
					    NFTC_ID "_dst", RID(r));
				put_addr_match(c, b, "daddr", &r->dst, dst, f);
			}
			put_svc_match(c, b, &g[i]);
			if (split_reject && pass == 0)
				strbuf_puts(b, " meta l4proto tcp");
			put_verdict(c, r, &g[i], split_reject && pass == 0);
			end_line(b, start);
		}
	}
}

static bool
matches_whole_family(struct nftc *c, struct iset s, enum addr_family f)
{
	return iset_subset(c->full[f], s);
}

static void
compile_rule(struct nftc *c, const struct rule *r)
{
	bool fixed = !policy_rule_dynamic(r);
	bool all4 = fixed && matches_whole_family(c, r->src.set, FAM_V4) &&
	    matches_whole_family(c, r->dst.set, FAM_V4);
	bool all6 = fixed && matches_whole_family(c, r->src.set, FAM_V6) &&
	    matches_whole_family(c, r->dst.set, FAM_V6);
	struct ival icmp = { (u128)1 << 16, (u128)1 << 16 | 0xffff };
	struct ival icmp6 = { (u128)58 << 16, (u128)58 << 16 | 0xffff };
	struct ival any = { 0, 0xffffff };
	bool has_icmp = iset_overlaps(r->svc.set, (struct iset){ 1, &icmp }) ||
	    iset_overlaps(r->svc.set, (struct iset){ 1, &icmp6 });

	if (r->disabled)
		return;
	if (all4 && all6 && (!has_icmp || iset_equal(r->svc.set,
	    (struct iset){ 1, &any }))) {
		/* No address to match and nothing family-bound: one rule. */
		compile_rule_family(c, r, FAM_BOTH, false);
		return;
	}
	compile_rule_family(c, r, FAM_V4, all4);
	compile_rule_family(c, r, FAM_V6, all6);
}

static const char *
verdict_word(enum action a)
{
	return a == ACT_ACCEPT ? "accept" : a == ACT_DENY ? "drop" :
	    "reject with icmpx type admin-prohibited";
}

/* Whether forward fw listens on an address of family f (its interface's
 * own, or a dynamic one): else compile_nat writes no DNAT for it there. */
static bool
forward_listens(struct nftc *c, const struct forward *fw, enum addr_family f)
{
	return fw->iface->dynamic || !iset_empty(fam_part(c,
	    fw->iface->ip_obj->set, f));
}

/* " ip daddr ADDR" (ip6) into b: the address forward fw listens on in
 * family f, its interface's own (a dynamic one's named set), as its DNAT
 * matches it (compile_nat) and its accept (compile_forward_accepts). */
static void
put_forward_listen(struct nftc *c, struct strbuf *b, const struct forward *fw,
    enum addr_family f)
{
	struct addr_expr own = { .n = fw->iface->dynamic ? 1 : 0, .v =
	    &(struct addr_elem){ .kind = AE_NAME, .obj = fw->iface->ip_obj },
	    .dynamic = fw->iface->dynamic };

	put_addr_match(c, b, "daddr", &own, fam_part(c,
	    fw->iface->ip_obj->set, f), f);
}

/* " ct original ip daddr ADDR" (ip6) into b: where forward fw listens,
 * as the connection first had it. */
static void
put_forward_origin(struct nftc *c, struct strbuf *b, const struct forward *fw,
    enum addr_family f)
{
	struct strbuf m;

	strbuf_init(&m, 0);
	put_forward_listen(c, &m, fw, f);
	if (m.len > 0) {	/* (nothing: every address of f) */
		strbuf_puts(b, " ct original");
		strbuf_add(b, strbuf_str(&m), m.len);
	}
	if (strbuf_failed(&m))
		b->failed = true;
	strbuf_free(&m);
}

/*
 * The accepts that port forwards imply, after the rules: a connection the
 * forward rewrote, to its target and service, first sent to the address
 * it listens on.  Without that last match a 1:1 line's connection to the
 * same inside host and port (rewritten by the 1:1 line, from another
 * public address) was accepted here too, where the policy sends it on to
 * the zone's default.
 */
static void
compile_forward_accepts(struct nftc *c, const struct iface *ifc)
{
	size_t i, j;

	for (i = 0; i < c->p->nforward; i++) {
		const struct forward *fw = c->p->forwards[i];
		struct svc_group g[8];
		size_t n;

		bool reflected = fw->iface != ifc;

		if (reflected && !policy_forward_reflects(c->p, fw, ifc))
			continue;
		n = svc_groups(c, fw->svc.set, FAM_BOTH, g);
		for (j = 0; j < n; j++) {
			int fam;

			for (fam = FAM_V4; fam <= FAM_V6; fam++) {
				if (!(fam == FAM_V4 ? fw->has4 : fw->has6))
					continue;
				/* (none where it listens on no address:
				 * nor is its DNAT written) */
				if (!forward_listens(c, fw,
				    (enum addr_family)fam))
					continue;
				strbuf_puts(c->b, "\t\tct status dnat");
				put_forward_origin(c, c->b, fw,
				    (enum addr_family)fam);
				strbuf_printf(c->b, " %s daddr ",
				    fam_word[fam]);
				put_addr(c->b, fam == FAM_V4 ? fw->to4 : fw->to6);
				put_svc_match(c, c->b, &g[j]);
				strbuf_printf(c->b, " counter name "
				    "\"forward_" NFTC_ID "_accept\" accept "
				    "comment \"forward " NFTC_ID "%s\"\n",
				    RID(fw), RID(fw), reflected ?
				    ", reflection" : "");
			}
		}
	}
}

#define DISPATCH_MIN	32	/* rules in a zone before dispatching */
#define DISPATCH_BUDGET	4	/* class chain items per rule, at most */

/* An item of a class chain: a rule, or a jump to a run of broad rules. */
struct item {
	const struct rule	*rule;		/* NULL: segment */
	int			 segment;
	uint64_t		 id;		/* the rule's, kept here: the
						   names and the map read it for
						   every item, and the rules are
						   all over memory */
};

struct class {
	u128		 lo, hi;	/* the source addresses it stands for */
	struct item	*items;
	uint32_t	 n;		/* (a plan has at most DISPATCH_BUDGET
					   items a rule) */
	int		 chain;		/* class chain number, after dedup */
};


/* Rule r decides every connection of its source in family f: nothing
 * after it can match them. */
static bool
decides_all(struct nftc *c, const struct rule *r, enum addr_family f)
{
	/* not outside its windows */
	return r->sched == NULL && iset_subset(c->full[f], r->dst.set) && r->svc.set.n == 1 &&
	    r->svc.set.v[0].lo == 0 && r->svc.set.v[0].hi == 0xffffff;
}

struct zone_plan {
	const struct rule	**rules;	/* enabled rules of the zone */
	uint64_t		 *ids;		/* their ids */
	size_t			  nrules;
	int			 *segment_of;	/* rule → segment, -1 if specific */
	int			  nsegments;
	uint64_t		 *segment_id;	/* its first rule's id */
	int			  tail;		/* the segment that ends the
						   zone, jumped to from its
						   chain, or -1 (plan_zone) */
	struct class		 *classes[3];	/* per family */
	size_t			  nclasses[3];
	int			  nchains[3];
};

static bool
items_equal(const struct class *a, const struct class *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->items[i].rule != b->items[i].rule ||
		    a->items[i].segment != b->items[i].segment)
			return false;
	return true;
}

struct cut {
	u128	at;
	size_t	rule;		/* index in the zone, or SIZE_MAX for none */
	bool	start;
};

static int
cut_cmp(const void *pa, const void *pb)
{
	const struct cut *a = pa, *b = pb;

	return a->at < b->at ? -1 : a->at > b->at;
}

/*
 * The cuts in order of address, by an LSD radix sort on 16-bit digits,
 * skipping the digits every cut shares (all but two for IPv4): qsort's
 * calls to cut_cmp were a tenth of the compile at 100K rules.  Cuts at
 * the same address may come in any order: the sweep in plan_family
 * changes its active set by all of them before it reads it.
 */
static void
sort_cuts(struct arena *a, struct cut *v, size_t n)
{
	struct cut *tmp, *from = v, *to, *sw;
	size_t *count, i, sum, d;
	u128 differ = 0;

	if (n < 64) {
		qsort(v, n, sizeof(*v), cut_cmp);
		return;
	}
	for (i = 1; i < n; i++)
		differ |= v[i].at ^ v[0].at;
	tmp = arena_array_raw(a, n, sizeof(*tmp));
	count = arena_array_raw(a, 65536, sizeof(*count));
	to = tmp;
	for (d = 0; d < 128; d += 16) {
		if (((differ >> d) & 0xffff) == 0)
			continue;
		memset(count, 0, 65536 * sizeof(*count));
		for (i = 0; i < n; i++)
			count[(size_t)(from[i].at >> d) & 0xffff]++;
		for (i = 0, sum = 0; i < 65536; i++) {
			size_t k = count[i];

			count[i] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			to[count[(size_t)(from[i].at >> d) & 0xffff]++] = from[i];
		sw = from;
		from = to;
		to = sw;
	}
	if (from != v)
		memcpy(v, from, n * sizeof(*v));
}

static int
size_sort(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return a < b ? -1 : a > b;
}

/*
 * Cut family f's source space at every end of a rule's source interval;
 * each piece gets the list of rules (in order) that can match it, runs of
 * broad rules shared as segments.  A sweep over the cuts keeps the rules
 * active at each piece.  Returns false past the budget.
 */
static bool
plan_family(struct nftc *c, struct zone_plan *z, enum addr_family f)
{
	const struct rule_part **rps;
	struct cut *cuts;
	size_t ncut = 0, i, j, k, total = 0, nact = 0, *act, *pos, *sorted;
	bool *live, *decides;
	struct class *cl;
	size_t *broad, nbroad = 0, *first, tcap;
	uint64_t *hs;

	live = arena_array(&c->plan, z->nrules + 1, sizeof(*live));
	decides = arena_array(&c->plan, z->nrules + 1, sizeof(*decides));
	/* (each rule's part asked for once: the second pass reads the
	 * pointer, not the rule and the policy's array again) */
	rps = arena_array_raw(&c->plan, z->nrules + 1, sizeof(*rps));
	for (i = 0, k = 1; i < z->nrules; i++) {
		const struct rule_part *rp = rps[i] = rule_part(c, z->rules[i],
		    f);

		live[i] = !iset_empty(rp->src) && !iset_empty(rp->dst);
		decides[i] = live[i] && rp->decides;
		if (live[i] && z->segment_of[i] < 0)
			k += 2 * rp->src.n;
	}
	cuts = arena_array_raw(&c->plan, k + c->full[f].n, sizeof(*cuts));
	for (i = 0; i < c->full[f].n; i++) {	/* the family's own ends */
		cuts[ncut].at = c->full[f].v[i].lo;
		cuts[ncut].rule = SIZE_MAX;
		cuts[ncut++].start = false;
	}
	for (i = 0; i < z->nrules; i++) {
		struct iset part;

		if (!live[i] || z->segment_of[i] >= 0)
			continue;
		part = rps[i]->src;
		for (j = 0; j < part.n; j++) {
			cuts[ncut].at = part.v[j].lo;
			cuts[ncut].rule = i;
			cuts[ncut++].start = true;
			if (part.v[j].hi != U128_MAX) {
				cuts[ncut].at = part.v[j].hi + 1;
				cuts[ncut].rule = i;
				cuts[ncut++].start = false;
			}
		}
	}
	sort_cuts(&c->plan, cuts, ncut);
	broad = arena_array_raw(&c->plan, z->nrules + 1, sizeof(*broad));
	for (i = 0; i < z->nrules; i++)
		if (live[i] && z->segment_of[i] >= 0)
			broad[nbroad++] = i;
	cl = arena_array(&c->plan, ncut + 1, sizeof(*cl));
	act = arena_array_raw(&c->plan, z->nrules + 1, sizeof(*act));
	pos = arena_array_raw(&c->plan, z->nrules + 1, sizeof(*pos));
	sorted = arena_array_raw(&c->plan, z->nrules + 1, sizeof(*sorted));
	z->nclasses[f] = 0;
	for (i = 0; i < ncut; ) {
		u128 at = cuts[i].at;
		struct class *x;
		size_t ns, si, r, room;

		for (; i < ncut && cuts[i].at == at; i++) {
			size_t ru = cuts[i].rule;

			if (ru == SIZE_MAX)
				continue;
			if (cuts[i].start) {
				pos[ru] = nact;
				act[nact++] = ru;
			} else {
				act[pos[ru]] = act[--nact];
				pos[act[pos[ru]]] = pos[ru];
			}
		}
		if (!iset_contains(c->full[f], at))
			continue;
		x = &cl[z->nclasses[f]++];
		x->lo = at;
		x->hi = i < ncut ? cuts[i].at - 1 : U128_MAX;
		for (j = 0; j < c->full[f].n; j++)
			if (c->full[f].v[j].lo <= at && at <= c->full[f].v[j].hi &&
			    x->hi > c->full[f].v[j].hi)
				x->hi = c->full[f].v[j].hi;
		/* Active rules in file order, merged with the broad ones. */
		memcpy(sorted, act, nact * sizeof(*sorted));
		qsort(sorted, nact, sizeof(*sorted), size_sort);
		room = nact + (size_t)z->nsegments + 1;
		x->items = arena_array_raw(&c->plan, room, sizeof(*x->items));
		x->n = 0;
		for (si = 0, ns = 0; si < nact || ns < nbroad; ) {
			bool take_active = ns == nbroad || (si < nact &&
			    sorted[si] < broad[ns]);

			r = take_active ? sorted[si++] : broad[ns++];
			if (take_active) {
				x->items[x->n].rule = z->rules[r];
				x->items[x->n].id = z->ids[r];
				x->items[x->n++].segment = -1;
			} else if (z->segment_of[r] == z->tail) {
				/* in the zone's chain, after the maps */
			} else if (x->n == 0 || x->items[x->n - 1].rule != NULL ||
			    x->items[x->n - 1].segment != z->segment_of[r]) {
				x->items[x->n].rule = NULL;
				x->items[x->n].id = 0;
				x->items[x->n++].segment = z->segment_of[r];
			}
			if (decides[r])
				break;
		}
		/* (room was taken for every active rule; a list ends at
		 * its first rule that decides) */
		arena_shrink(&c->plan, x->items, room * sizeof(*x->items),
		    x->n * sizeof(*x->items));
		total += x->n;
		if (total > DISPATCH_BUDGET * z->nrules + 64)
			return false;
	}
	/* Pieces with the same list share a chain: the first piece of each
	 * (hash, length) is kept in an open-addressed table of piece numbers
	 * (a 64-bit key needs no string), and a later one with the same key
	 * and the same list takes its chain. */
	z->nchains[f] = 0;
	for (tcap = 64; tcap < 2 * z->nclasses[f] + 2; tcap *= 2)
		;
	first = arena_array(&c->plan, tcap, sizeof(*first));
	hs = arena_array_raw(&c->plan, z->nclasses[f] + 1, sizeof(*hs));
	for (i = 0; i < z->nclasses[f]; i++) {
		uint64_t h = 1469598103934665603ull;
		struct class *same = NULL;
		size_t slot;

		cl[i].chain = -1;
		if (cl[i].n == 0)
			continue;
		for (j = 0; j < cl[i].n; j++)
			h = (h ^ (uint64_t)(uintptr_t)cl[i].items[j].rule ^
			    (uint64_t)(cl[i].items[j].segment + 7) << 48) *
			    1099511628211ull;
		hs[i] = h;
		for (slot = (size_t)(h ^ h >> 29) & (tcap - 1); first[slot] != 0;
		    slot = (slot + 1) & (tcap - 1))
			if (hs[first[slot] - 1] == h &&
			    cl[first[slot] - 1].n == cl[i].n) {
				same = &cl[first[slot] - 1];
				break;
			}
		if (same != NULL && items_equal(same, &cl[i]))
			cl[i].chain = same->chain;
		else {
			cl[i].chain = z->nchains[f]++;
			if (same == NULL)
				first[slot] = i + 1;
		}
	}
	z->classes[f] = cl;
	return true;
}

/* Whether zone ifc is worth dispatching by source, and the plan. */
static bool
plan_zone(struct nftc *c, const struct iface *ifc, struct zone_plan *z)
{
	const struct policy *p = c->p;
	size_t i;
	int f;

	memset(z, 0, sizeof(*z));
	z->rules = arena_array(&c->plan, p->nrule + 1, sizeof(*z->rules));
	z->ids = arena_array_raw(&c->plan, p->nrule + 1, sizeof(*z->ids));
	for (i = 0; i < p->nrule; i++)
		if (p->rules[i]->iface == ifc && !p->rules[i]->disabled) {
			/* The plan cuts the address space at the rules'
			 * addresses: a dynamic one would move the cuts. */
			if (policy_rule_dynamic(p->rules[i]))
				return false;
			z->ids[z->nrules] = p->rules[i]->id;
			z->rules[z->nrules++] = p->rules[i];
		}
	if (z->nrules < DISPATCH_MIN)
		return false;
	/* Runs of rules from ANY source are shared by every class. */
	z->segment_of = arena_array(&c->plan, z->nrules + 1, sizeof(int));
	for (i = 0; i < z->nrules; i++) {
		bool broad = iset_subset(c->full[FAM_V4], z->rules[i]->src.set) &&
		    iset_subset(c->full[FAM_V6], z->rules[i]->src.set);

		if (!broad)
			z->segment_of[i] = -1;
		else if (i > 0 && z->segment_of[i - 1] >= 0)
			z->segment_of[i] = z->segment_of[i - 1];
		else
			z->segment_of[i] = z->nsegments++;
	}
	z->segment_id = arena_array(&c->plan, (size_t)z->nsegments + 1,
	    sizeof(*z->segment_id));
	for (i = z->nrules; i-- > 0; )
		if (z->segment_of[i] >= 0)
			z->segment_id[z->segment_of[i]] = z->rules[i]->id;
	/*
	 * A zone that ends with rules from ANY source (a last "deny from
	 * everyone else") would have every class chain end with a jump to
	 * that segment, and every gap between sources jump to it from the
	 * map.  Its chain jumps to it once instead, after the maps: a class
	 * chain whose list does not end at a rule that decides returns there
	 * (so would have reached the segment last), one whose list does never
	 * returns, and a source no element holds goes on to it too.  A family
	 * the segment's rules cannot match passes it by, as it passed them
	 * by in a class chain.  At 10K rules, a quarter of the kernel's rules
	 * fewer and a fifth of the map elements.
	 */
	z->tail = z->segment_of[z->nrules - 1];
	for (f = FAM_V4; f <= FAM_V6; f++)
		if (!plan_family(c, z, (enum addr_family)f))
			return false;
	return true;
}

static void
zone_name(struct nftc *c, const struct iface *ifc, const char *suffix)
{
	strbuf_puts(c->b, "zone_");
	nftc_put_ident(c->b, ifc->name);
	strbuf_puts(c->b, suffix);
}

/* A class whose list is one rule that decides every connection of its
 * source by accept or drop, logging nothing: its map element is that
 * verdict, and the rule counts in the zone's counter map (one nft rule in
 * the class chain would be `counter name "rule_ID" drop`, nothing more). */
/* A class whose list is one rule that decides every connection of its
 * source and logs: its map element jumps to the rule's log chain, which
 * counts, logs and decides (the class chain would hold only that jump).
 * class_kind tells the two from the others. */
enum class_kind { CK_CHAIN = 0, CK_ACCEPT, CK_DROP, CK_LOGS };

static enum class_kind
class_kind(struct nftc *c, const struct class *x, enum addr_family f)
{
	const struct rule *r = x->n == 1 ? x->items[0].rule : NULL;

	if (r == NULL || r->number <= 0 || r->sched_mark != 0 ||
	    !rule_part(c, r, f)->decides)
		return CK_CHAIN;
	if (r->log)
		return CK_LOGS;
	return r->action == ACT_ACCEPT ? CK_ACCEPT : r->action == ACT_DENY ?
	    CK_DROP : CK_CHAIN;
}

/* (by the kind compile_classes keeps for each chain of the zone's family
 * while it writes it: a map element asks for its class's three times) */
static enum class_kind
kind_of(struct nftc *c, const struct class *x, enum addr_family f)
{
	if (c->kinds != NULL && x->chain >= 0)
		return (enum class_kind)c->kinds[x->chain];
	return class_kind(c, x, f);
}

static bool
class_direct(struct nftc *c, const struct class *x, enum addr_family f)
{
	enum class_kind k = kind_of(c, x, f);

	return k == CK_ACCEPT || k == CK_DROP;
}

static bool
class_logs(struct nftc *c, const struct class *x, enum addr_family f)
{
	return kind_of(c, x, f) == CK_LOGS;
}

/* A class chain's name is a hash of what it holds (its rules' ids, its
 * segments' first rules' ids), not its order: a chain whose list did not
 * change keeps its name when other rules change (incremental.md). */
static uint64_t
class_hash(const struct zone_plan *z, const struct class *x,
    enum addr_family f)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)f;
	size_t i;
	int k;

	for (i = 0; i < x->n; i++) {
		uint64_t v = x->items[i].rule != NULL ? x->items[i].id :
		    ~z->segment_id[x->items[i].segment];

		for (k = 0; k < 64; k += 8)
			h = (h ^ ((v >> k) & 0xff)) * 1099511628211ull;
	}
	return h;
}

static void
put_class_target(struct nftc *c, struct strbuf *b, const struct iface *ifc,
    const struct zone_plan *z, enum addr_family f, const struct class *x,
    const uint64_t *name)
{
	enum class_kind k = kind_of(c, x, f);

	if (k == CK_ACCEPT || k == CK_DROP) {
		strbuf_puts(b, k == CK_ACCEPT ? "accept" : "drop");
		return;
	}
	if (k == CK_LOGS) {
		strbuf_puts(b, "jump log_");
		put_id(b, x->items[0].id);
		return;
	}
	if (x->n == 1 && x->items[0].rule == NULL) {
		/* only a segment: its chain, not a chain that jumps to it */
		strbuf_puts(b, "jump zone_");
		nftc_put_ident(b, ifc->name);
		strbuf_puts(b, "_s");
		put_id(b, z->segment_id[x->items[0].segment]);
		return;
	}
	strbuf_puts(b, "jump zone_");
	nftc_put_ident(b, ifc->name);
	strbuf_putc(b, '_');
	strbuf_puts(b, fam_suffix[f]);
	strbuf_putc(b, '_');
	put_id(b, name[x->chain]);
}

/* An element of a dispatch map: a range of sources and its class. */
struct map_elem {
	u128			 lo, hi;
	const struct class	*x;
};

#define MAP_PIECE_AVG	1024	/* a long dispatch map's elements per piece,
				   about (a power of two) */

/* Elements [from, to) of a dispatch map, as map NAME (zone_IF_v4, or a
 * piece's zone_IF_m4_ID).  Each element has a counter; those that decide
 * a rule by themselves (their verdict is that rule's) say whose in a
 * comment "rule ID" (counters.h).  Always a counter, not only when such
 * an element is there: the map's head stays the same when the last one
 * goes or the first comes, and an incremental apply cannot change a
 * map's head. */
static void
put_map(struct nftc *c, const struct iface *ifc, const struct zone_plan *z,
    enum addr_family f, const uint64_t *name, const struct map_elem *el,
    size_t from, size_t to, const char *suffix)
{
	struct strbuf *b = &c->sets;
	size_t i;

	strbuf_puts(b, "\tmap zone_");
	nftc_put_ident(b, ifc->name);
	strbuf_printf(b, "%s {\n\t\ttype %s_addr : verdict\n\t\tflags "
	    "interval\n\t\tcounter\n\t\telements = { ", suffix,
	    f == FAM_V4 ? "ipv4" : "ipv6");
	for (i = from; i < to; i++) {
		strbuf_puts(b, i == from ? "" : ",\n\t\t\t");
		put_interval(b, el[i].lo, el[i].hi, f);
		if (class_direct(c, el[i].x, f)) {
			strbuf_puts(b, " comment \"rule ");
			put_id(b, el[i].x->items[0].id);
			strbuf_putc(b, '"');
		}
		strbuf_puts(b, " : ");
		put_class_target(c, b, ifc, z, f, el[i].x, name);
	}
	strbuf_puts(b, " }\n\t}\n\n");
}

/*
 * A zone's dispatch map of one family, zone_IF_v4 (v6).  A long one is cut
 * into pieces, each a map and a chain zone_IF_m4_ID that looks its source
 * up in it; zone_IF_v4 then sends each piece's range of sources to its
 * chain.  libnftables reads the whole of an interval map before it adds or
 * deletes one element of it, and the kernel dumps one in time that grows
 * with the square of its size: 3-4 s for the 100K-rule policy's 55,000
 * elements, for any blocklist edit.  A piece ends after an element whose
 * first address hashes to 0 modulo MAP_PIECE_AVG (at least a quarter of
 * that in, at most four times), and is named by the hash of its first
 * address: the cuts are where the content says, so an edit moves the cuts
 * and names of its piece alone, not of every later one (incremental.md).
 * Sources no piece's map holds return to the zone's chain, as they go on
 * past the undivided map: first match is unchanged.
 */
static void
put_dispatch(struct nftc *c, const struct iface *ifc,
    const struct zone_plan *z, enum addr_family f, const uint64_t *name,
    const struct map_elem *el, size_t nel)
{
	size_t avg = MAP_PIECE_AVG, from, to, npiece = 0;
	struct strbuf top;
	char suffix[40];
	uint64_t h;

#ifdef MOAT_TEST_SEAMS
	/* Test builds: pieces in small maps too (the lab's differential). */
	if (getenv("MOAT_MAP_PIECE") != NULL && atoi(getenv("MOAT_MAP_PIECE"))
	    >= 2)
		avg = (size_t)atoi(getenv("MOAT_MAP_PIECE"));
#endif
	snprintf(suffix, sizeof(suffix), "_%s", fam_suffix[f]);
	if (nel <= 4 * avg) {
		put_map(c, ifc, z, f, name, el, 0, nel, suffix);
		return;
	}
	strbuf_init(&top, 0);
	for (from = 0; from < nel; from = to) {
		for (to = from + 1; to < nel && to - from < 4 * avg; to++) {
			h = fnv1a(&el[to - 1].lo, sizeof(el[to - 1].lo));
			if (to - from >= avg / 4 && h % avg == 0)
				break;
		}
		h = fnv1a_add(fnv1a(&el[from].lo, sizeof(el[from].lo)), &f,
		    sizeof(f));
		snprintf(suffix, sizeof(suffix), "_m%c_%016llx",
		    f == FAM_V4 ? '4' : '6', (unsigned long long)h);
		put_map(c, ifc, z, f, name, el, from, to, suffix);
		strbuf_puts(c->b, "\tchain ");
		zone_name(c, ifc, suffix);
		strbuf_printf(c->b, " {\n\t\t%s saddr vmap @", fam_word[f]);
		zone_name(c, ifc, suffix);
		strbuf_puts(c->b, " comment \"" NFTC_DISPATCH "\"\n\t}\n\n");
		strbuf_puts(&top, npiece++ == 0 ? "" : ",\n\t\t\t");
		put_interval(&top, el[from].lo, el[to - 1].hi, f);
		strbuf_puts(&top, " : jump zone_");
		nftc_put_ident(&top, ifc->name);
		strbuf_puts(&top, suffix);
	}
	strbuf_puts(&c->sets, "\tmap zone_");
	nftc_put_ident(&c->sets, ifc->name);
	/* (with counter too, though its elements decide no rule: the same
	 * head as an undivided map's, so that a map that grows into pieces,
	 * or shrinks back, changes only elements) */
	strbuf_printf(&c->sets, "_%s {\n\t\ttype %s_addr : verdict\n"
	    "\t\tflags interval\n\t\tcounter\n\t\telements = { %s }\n"
	    "\t}\n\n", fam_suffix[f], f == FAM_V4 ? "ipv4" : "ipv6",
	    strbuf_str(&top));
	if (strbuf_failed(&top))
		c->sets.failed = true;
	strbuf_free(&top);
}

/* The maps and chains of a dispatched zone. */
static void
compile_classes(struct nftc *c, const struct iface *ifc, struct zone_plan *z)
{
	size_t i, j;
	int f, k;

	for (k = 0; k < z->nsegments; k++) {
		strbuf_puts(c->b, "\tchain ");
		zone_name(c, ifc, "");
		strbuf_printf(c->b, "_s%016llx {\n",
		    (unsigned long long)z->segment_id[k]);
		for (i = 0; i < z->nrules; i++)
			if (z->segment_of[i] == k)
				compile_rule(c, z->rules[i]);
		strbuf_puts(c->b, "\t}\n\n");
	}
	for (f = FAM_V4; f <= FAM_V6; f++) {
		struct class *cl = z->classes[f];
		struct map_elem *el;
		size_t nel;
		uint64_t *name, *taken;
		unsigned char *kinds;
		bool *used;
		size_t tcap;

		if (z->nchains[f] == 0)
			continue;
		name = arena_array(&c->plan, (size_t)z->nchains[f] + 1,
		    sizeof(*name));
		/* the names given, open-addressed */
		for (tcap = 64; tcap < 2 * (size_t)z->nchains[f] + 2; tcap *= 2)
			;
		taken = arena_array_raw(&c->plan, tcap, sizeof(*taken));
		used = arena_array(&c->plan, tcap, sizeof(*used));
		kinds = arena_array(&c->plan, (size_t)z->nchains[f] + 1,
		    sizeof(*kinds));
		c->kinds = kinds;
		/* One chain per distinct list, written where first used,
		 * named by its content (a different list with the same hash,
		 * never seen, would get the next free one). */
		for (i = 0, k = 0; i < z->nclasses[f]; i++) {
			uint64_t h;
			size_t slot;

			if (cl[i].chain != k)
				continue;
			k++;
			h = class_hash(z, &cl[i], (enum addr_family)f);
			for (;;) {
				for (slot = (size_t)(h ^ h >> 29) & (tcap - 1);
				    used[slot] && taken[slot] != h;
				    slot = (slot + 1) & (tcap - 1))
					;
				if (!used[slot])
					break;
				h++;
			}
			used[slot] = true;
			taken[slot] = h;
			name[cl[i].chain] = h;
			kinds[cl[i].chain] = (unsigned char)class_kind(c, &cl[i],
			    (enum addr_family)f);
			if (class_direct(c, &cl[i], (enum addr_family)f) ||
			    class_logs(c, &cl[i], (enum addr_family)f) ||
			    (cl[i].n == 1 && cl[i].items[0].rule == NULL))
				continue;
			strbuf_puts(c->b, "\tchain ");
			zone_name(c, ifc, "");
			strbuf_putc(c->b, '_');
			strbuf_puts(c->b, fam_suffix[f]);
			strbuf_putc(c->b, '_');
			put_id(c->b, name[cl[i].chain]);
			strbuf_puts(c->b, " {\n");
			c->omit_src = true;
			for (j = 0; j < cl[i].n; j++) {
				if (cl[i].items[j].rule != NULL)
					compile_rule_family(c, cl[i].items[j].rule,
					    (enum addr_family)f, false);
				else {
					strbuf_puts(c->b, "\t\tjump ");
					zone_name(c, ifc, "");
					strbuf_puts(c->b, "_s");
					put_id(c->b, z->segment_id[
					    cl[i].items[j].segment]);
					strbuf_putc(c->b, '\n');
				}
			}
			c->omit_src = false;
			strbuf_puts(c->b, "\t}\n\n");
		}
		/* The map: address ranges to class chains, neighbours merged,
		 * in pieces when it is long (put_dispatch). */
		nel = 0;
		el = arena_array(&c->plan, z->nclasses[f] + 1, sizeof(*el));
		for (i = 0; i < z->nclasses[f]; i = j) {
			u128 hi = cl[i].hi;

			for (j = i + 1; j < z->nclasses[f] &&
			    cl[j].chain == cl[i].chain && cl[j].lo == hi + 1; j++)
				hi = cl[j].hi;
			if (cl[i].chain < 0)
				continue;
			el[nel].lo = cl[i].lo;
			el[nel].hi = hi;
			el[nel++].x = &cl[i];
		}
		put_dispatch(c, ifc, z, (enum addr_family)f, name, el, nel);
		c->kinds = NULL;
	}
}

#define NFTC_RULE_BYTES	256	/* compiled text, about, per rule */

#ifndef PIECE_LINES	/* a test build's differential cuts small ones */
#define PIECE_LINES	1024	/* nft rules in a chain, at most */
#endif

/*
 * The rules of an undispatched zone, in file order: in its chain when
 * they make at most PIECE_LINES nft rules, else in pieces of at most that
 * many (a moat rule is never cut), each its own chain zone_IF_pID (ID: its
 * first rule's id) that the zone's chain jumps to in order.  Every rule
 * ends in a verdict, so a packet that none of a piece matches goes on to
 * the next: first match is unchanged, and the kernel never walks a chain
 * longer than a piece to find a rule by handle or to resume a dump
 * (incremental.md).
 */
static void
compile_pieces(struct nftc *c, const struct iface *ifc, struct strbuf *out)
{
	const struct policy *p = c->p;
	struct strbuf *zone = c->b, all;
	size_t i, *end, *upto, n = 0, k, from, lines = 0;
	const struct rule **first;

	strbuf_init(&all, 0);
	end = arena_array(&c->plan, p->nrule + 1, sizeof(*end));
	upto = arena_array(&c->plan, p->nrule + 1, sizeof(*upto));
	first = arena_array(&c->plan, p->nrule + 1, sizeof(*first));
	c->b = &all;
	for (i = 0; i < p->nrule; i++) {
		size_t at = all.len;

		if (p->rules[i]->iface != ifc)
			continue;
		compile_rule(c, p->rules[i]);
		if (strbuf_failed(&all) || all.len == at)
			continue;
		for (; at < all.len; at++)
			lines += all.s[at] == '\n';
		first[n] = p->rules[i];
		upto[n] = lines;
		end[n++] = all.len;
	}
	c->b = zone;
	if (lines <= PIECE_LINES || strbuf_failed(&all)) {
		strbuf_add(zone, strbuf_str(&all), all.len);
		goto out;
	}
	for (k = 0, from = 0; k < n; ) {
		size_t start = k, base = k > 0 ? upto[k - 1] : 0;

		/* As many rules as fit, at least one. */
		for (k++; k < n && upto[k] - base <= PIECE_LINES; k++)
			;
		strbuf_puts(zone, "\t\tjump ");
		zone_name(c, ifc, "");
		strbuf_printf(zone, "_p%016llx\n",
		    (unsigned long long)first[start]->id);
		strbuf_puts(out, "\tchain zone_");
		nftc_put_ident(out, ifc->name);
		strbuf_printf(out, "_p%016llx {\n",
		    (unsigned long long)first[start]->id);
		strbuf_add(out, all.s + from, end[k - 1] - from);
		strbuf_puts(out, "\t}\n\n");
		from = end[k - 1];
	}
out:
	if (strbuf_failed(&all))
		zone->failed = true;
	strbuf_free(&all);
}

/*
 * One interface's chain.  Small zones are one chain in file order.  Large
 * ones dispatch by source address: a verdict map sends each source to the
 * chain of the rules that can match it, in file order, so a connection
 * passes a handful of rules instead of all of them, first match and
 * per-rule counters unchanged.
 */
static void
compile_zone(struct nftc *c, const struct iface *ifc)
{
	const struct policy *p = c->p;
	struct arena_mark m = arena_save(&c->plan);
	struct zone_plan z;
	bool dispatch = plan_zone(c, ifc, &z);
	struct strbuf pieces;
	int f;

	strbuf_init(&pieces, 0);
	strbuf_puts(c->b, "\tchain ");
	zone_name(c, ifc, " {\n");
	if (p->lockout_rule != NULL && p->lockout_rule->iface == ifc)
		compile_rule(c, p->lockout_rule);
	if (dispatch) {
		for (f = FAM_V4; f <= FAM_V6; f++)
			if (z.nchains[f] > 0) {
				strbuf_printf(c->b, "\t\t%s saddr vmap @",
				    fam_word[f]);
				zone_name(c, ifc, "");
				strbuf_printf(c->b, "_%s comment \""
				    NFTC_DISPATCH "\"\n", fam_suffix[f]);
			}
		if (z.tail >= 0) {
			strbuf_puts(c->b, "\t\tjump ");
			zone_name(c, ifc, "_s");
			put_id(c->b, z.segment_id[z.tail]);
			strbuf_putc(c->b, '\n');
		}
	} else
		compile_pieces(c, ifc, &pieces);
	compile_forward_accepts(c, ifc);
	if (policy_iface_log_default(p, ifc)) {
		char what[80];

		snprintf(what, sizeof(what), "d%s", ifc->name);
		strbuf_puts(c->b, "\t\t");
		put_log(c, c->b, what, policy_iface_default(ifc));
		strbuf_printf(c->b, " comment \"log the default of %s\"\n",
		    ifc->name);
	}
	if (policy_iface_default(ifc) == ACT_REJECT) {
		strbuf_puts(c->b, "\t\tmeta l4proto tcp counter name "
		    "\"default_");
		nftc_put_ident(c->b, ifc->name);
		strbuf_printf(c->b, "\" reject with tcp reset comment \"default "
		    "of %s\"\n", ifc->name);
	}
	strbuf_puts(c->b, "\t\tcounter name \"default_");
	nftc_put_ident(c->b, ifc->name);
	strbuf_printf(c->b, "\" %s comment \"default of %s\"\n\t}\n\n",
	    verdict_word(policy_iface_default(ifc)), ifc->name);
	strbuf_add(c->b, strbuf_str(&pieces), pieces.len);
	if (strbuf_failed(&pieces))
		c->b->failed = true;
	strbuf_free(&pieces);
	if (dispatch)
		compile_classes(c, ifc, &z);
	arena_restore(&c->plan, m);
}

/* An HA pair's own traffic, from the peer on the sync interface and
 * only there: VRRP, conntrackd's state, moatd's config sync. */
static void
compile_ha_admits(struct nftc *c)
{
	const struct ha_conf *ha = &c->p->ha;
	static const char *const what[][2] = {
		{ "meta l4proto vrrp", "VRRP" },
		{ "udp dport " NFTC_STR(HA_CONNTRACK_PORT), "conntrackd" },
		{ "tcp dport " NFTC_STR(HA_SYNC_PORT), "config sync" },
	};
	char peer[ADDR_STRLEN];
	size_t i;

	if (!ha->present || ha->sync == NULL)
		return;
	addr_format(ha->peer.lo, peer, sizeof(peer));
	for (i = 0; i < 3; i++)
		strbuf_printf(c->b, "\t\tiifname \"%s\" %s saddr %s %s accept "
		    "comment \"ha: %s from the peer\"\n", ha->sync->device,
		    ha->peer.family == FAM_V4 ? "ip" : "ip6", peer, what[i][0],
		    what[i][1]);
}

static void
compile_dispatch(struct nftc *c, const char *hook)
{
	const struct policy *p = c->p;
	size_t i;

	strbuf_printf(c->b, "\tchain %s {\n\t\ttype filter hook %s priority "
	    "filter; policy accept;\n", hook, hook);
	strbuf_puts(c->b, "\t\tct state established,related accept\n");
	/* Neighbour discovery before the invalid check: conntrack calls an
	 * advertisement that answers the kernel's own solicitation invalid,
	 * and IPv6 dies without it. */
	if (strcmp(hook, "input") == 0)
		strbuf_puts(c->b, "\t\tiif \"lo\" accept\n"
		    "\t\ticmpv6 type { nd-neighbor-solicit, "
		    "nd-neighbor-advert, nd-router-solicit, nd-router-advert, "
		    "nd-redirect } accept\n");
	/* The DHCP client of an interface whose address is dynamic: a
	 * DHCPv6 reply comes from the server's link-local address, which
	 * conntrack does not tie to the request (sent to a multicast
	 * group), nor a DHCPv4 reply to one broadcast. */
	for (i = 0; i < p->niface && strcmp(hook, "input") == 0; i++)
		if (p->ifaces[i]->dynamic)
			strbuf_printf(c->b, "\t\tiifname \"%s\" udp sport 67 "
			    "udp dport 68 accept comment \"DHCP replies to %s's "
			    "client\"\n\t\tiifname \"%s\" ip6 saddr fe80::/10 "
			    "udp sport 547 udp dport 546 accept comment \"DHCPv6 "
			    "replies to %s's client\"\n", p->ifaces[i]->device,
			    p->ifaces[i]->name, p->ifaces[i]->device,
			    p->ifaces[i]->name);
	strbuf_puts(c->b, "\t\tct state invalid drop\n" NFTC_MAPPED_DROP);
	if (strcmp(hook, "input") == 0)
		compile_ha_admits(c);
	if (p->niface > 0) {
		strbuf_puts(c->b, "\t\tiifname vmap { ");
		for (i = 0; i < p->niface; i++) {
			strbuf_printf(c->b, "%s\"%s\" : jump zone_",
			    i ? ", " : "", p->ifaces[i]->device);
			nftc_put_ident(c->b, p->ifaces[i]->name);
		}
		strbuf_puts(c->b, " }\n");
	}
	/* Fail closed: a device the policy does not declare (a typo, a third
	 * port, a VPN that came up) has no zone, and its traffic is not let
	 * through unfiltered.  Every zone chain ends in a verdict, so only
	 * such packets get here. */
	strbuf_puts(c->b, "\t\tcounter name \"undeclared\" drop comment "
	    "\"a device no interface declares\"\n\t}\n\n");
}

/* A feed object's set of family f, declared empty: its elements come
 * in the apply's transaction (nftc_feeds_inline) or one by one
 * (apply_feed). */
static void
put_feed_set(struct nftc *c, const struct object *o, enum addr_family f)
{
	strbuf_puts(c->b, "\tset ");
	nftc_put_ident(c->b, o->name);
	/* timeout with a long gc-interval: no element ever times out, and
	 * the kernel walks the whole set for expired ones once an hour
	 * instead of at every change (a million elements: a fixed cost of
	 * every transaction otherwise). */
	strbuf_printf(c->b, "_%s {\n\t\ttype %s\n\t\tflags interval, timeout\n"
	    "\t\tgc-interval 1h\n"
	    "\t\tcomment \"" NFTC_FEED_COMMENT " %016llx\"\n\t}\n\n",
	    fam_suffix[f], f == FAM_V4 ? "ipv4_addr" : "ipv6_addr",
	    (unsigned long long)feedstore_key(o));
}

/* Named sets of the objects the rules name, per family. */
static void
compile_sets(struct nftc *c)
{
	const struct policy *p = c->p;
	size_t i;
	int f;

	for (i = 0; i < p->nobject; i++) {
		const struct object *o = p->objects[i];

		if (o->kind == OBJ_ANY)
			continue;
		for (f = FAM_V4; f <= FAM_V6; f++) {
			struct iset part = fam_part(c, o->set, f);

			if (policy_object_feed(o)) {
				put_feed_set(c, o, (enum addr_family)f);
				continue;
			}
			if (o->dynamic) {
				struct strbuf name;

				strbuf_init(&name, 0);
				nftc_put_ident(&name, o->name);
				strbuf_printf(&name, "_%s", fam_suffix[f]);
				put_dynamic_set(c, c->b, strbuf_str(&name), part,
				    (enum addr_family)f, &o->members);
				if (strbuf_failed(&name))
					c->b->failed = true;
				strbuf_free(&name);
				continue;
			}
			if (iset_empty(part))
				continue;
			strbuf_puts(c->b, "\tset ");
			nftc_put_ident(c->b, o->name);
			strbuf_printf(c->b, "_%s {\n\t\ttype %s_addr\n\t\tflags "
			    "interval\n\t\telements = { ", fam_suffix[f],
			    f == FAM_V4 ? "ipv4" : "ipv6");
			put_elements(c->b, part, (enum addr_family)f);
			strbuf_puts(c->b, " }\n\t}\n\n");
		}
	}
}

size_t
nftc_rule_ref(const char *s, uint64_t *id, int *number)
{
	size_t i;
	long n = 0;

	*id = 0;
	*number = 0;
	for (i = 0; i < NFTC_ID_LEN && ((s[i] >= '0' && s[i] <= '9') ||
	    (s[i] >= 'a' && s[i] <= 'f')); i++)
		*id = *id << 4 | (uint64_t)(s[i] <= '9' ? s[i] - '0' :
		    s[i] - 'a' + 10);
	if (i == NFTC_ID_LEN && !(s[i] >= '0' && s[i] <= '9') &&
	    !(s[i] >= 'a' && s[i] <= 'f'))
		return i;
	*id = 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 9; i++)
		n = n * 10 + (s[i] - '0');
	if (i == 0 || n == 0 || (s[i] >= '0' && s[i] <= '9'))
		return 0;
	*number = (int)n;
	return i;
}

int
nftc_rule_number(const struct policy *p, uint64_t id, int number)
{
	const struct rule *r;

	if (p == NULL)
		return 0;
	if (number > 0)
		return (size_t)number <= p->nrule ? number : 0;
	return (r = policy_rule_by_id(p, id)) != NULL ? r->number : 0;
}

int
nftc_entry_number(const struct policy *p, enum nftc_counted what,
    uint64_t id, int number)
{
	const struct forward *fw;
	const struct nat_rule *nr;
	const struct nat_one *no;
	size_t n;

	switch (what) {
	case NFTC_COUNTS_RULE:
		return nftc_rule_number(p, id, number);
	case NFTC_COUNTS_FORWARD:
	case NFTC_COUNTS_FORWARD_ACCEPT:
		if (p != NULL && number == 0)
			return (fw = policy_forward_by_id(p, id)) != NULL ?
			    fw->number : 0;
		n = p != NULL ? p->nforward : 0;
		break;
	case NFTC_COUNTS_NAT_SOURCE:
		if (p != NULL && number == 0)
			return (nr = policy_nat_rule_by_id(p, id)) != NULL ?
			    nr->number : 0;
		n = p != NULL ? p->nnat_rule : 0;
		break;
	case NFTC_COUNTS_ONE_TO_ONE:
		if (p != NULL && number == 0)
			return (no = policy_nat_one_by_id(p, id)) != NULL ?
			    no->number : 0;
		n = p != NULL ? p->nnat_one : 0;
		break;
	default:
		return 0;
	}
	return number > 0 && (size_t)number <= n ? number : 0;
}

/* Whether name is PREFIX, a reference (nftc_rule_ref: an id, or a number
 * before ids), then SUFFIX; the reference into *id or *number. */
static bool
named_ref(const char *name, const char *prefix, const char *suffix,
    uint64_t *id, int *number)
{
	size_t len = strlen(prefix), k;

	if (strncmp(name, prefix, len) == 0 &&
	    (k = nftc_rule_ref(name + len, id, number)) > 0 &&
	    strcmp(name + len + k, suffix) == 0)
		return true;
	*id = 0;
	*number = 0;
	return false;
}

/* The names compile_counters gives, read back. */
enum nftc_counted
nftc_counter_meaning(const char *name, int *number, uint64_t *id)
{
	*number = 0;
	*id = 0;
	if (strcmp(name, "anti_lockout") == 0)
		return NFTC_COUNTS_ANTI_LOCKOUT;
	if (strcmp(name, "undeclared") == 0)
		return NFTC_COUNTS_UNDECLARED;
	if (strncmp(name, "default_", 8) == 0 && name[8] != '\0')
		return NFTC_COUNTS_DEFAULT;
	if (named_ref(name, "rule_", "", id, number))
		return NFTC_COUNTS_RULE;
	if (named_ref(name, "forward_", "", id, number))
		return NFTC_COUNTS_FORWARD;
	if (named_ref(name, "forward_", "_accept", id, number))
		return NFTC_COUNTS_FORWARD_ACCEPT;
	if (named_ref(name, "nat_source_", "", id, number))
		return NFTC_COUNTS_NAT_SOURCE;
	if (named_ref(name, "one_to_one_", "", id, number))
		return NFTC_COUNTS_ONE_TO_ONE;
	return NFTC_COUNTS_OTHER;
}

/* The comments that name an entry by its id: the words before it, what
 * a number is of. */
static const struct {
	const char		*words;
	enum nftc_counted	 what;
} commented[] = {
	{ "rule ", NFTC_COUNTS_RULE },
	{ "forward ", NFTC_COUNTS_FORWARD },
	{ "scan incoming SMTP (forward ", NFTC_COUNTS_FORWARD },
	{ NFTC_NO_PROXY "scan incoming SMTP (forward ", NFTC_COUNTS_FORWARD },
	{ "nat source ", NFTC_COUNTS_NAT_SOURCE },
	{ "one-to-one ", NFTC_COUNTS_ONE_TO_ONE },
};

enum nftc_counted
nftc_comment_words(const struct policy *p, const char *comment,
    struct strbuf *b)
{
	size_t i, len, k;
	uint64_t id;
	int number, n;

	for (i = 0; i < sizeof(commented) / sizeof(commented[0]); i++) {
		len = strlen(commented[i].words);
		if (strncmp(comment, commented[i].words, len) != 0 ||
		    (k = nftc_rule_ref(comment + len, &id, &number)) == 0)
			continue;
		n = nftc_entry_number(p, commented[i].what, id, number);
		strbuf_printf(b, "%.*s", (int)len, comment);
		if (n > 0 || number > 0)
			strbuf_printf(b, "%d", n > 0 ? n : number);
		else
			strbuf_printf(b, NFTC_ID, (unsigned long long)id);
		strbuf_puts(b, comment + len + k);
		return commented[i].what;
	}
	strbuf_puts(b, comment);
	return NFTC_COUNTS_OTHER;
}

static void
compile_counters(struct nftc *c)
{
	const struct policy *p = c->p;
	size_t i;

	if (p->lockout_rule != NULL)
		strbuf_puts(c->b, "\tcounter anti_lockout {\n\t}\n");
	for (i = 0; i < p->niface; i++) {
		strbuf_puts(c->b, "\tcounter default_");
		nftc_put_ident(c->b, p->ifaces[i]->name);
		strbuf_puts(c->b, " {\n\t}\n");
	}
	if (p->firewall)
		strbuf_puts(c->b, "\tcounter undeclared {\n\t}\n");
	for (i = 0; i < p->nforward; i++)
		strbuf_printf(c->b, "\tcounter forward_" NFTC_ID " {\n\t}\n"
		    "\tcounter forward_" NFTC_ID "_accept {\n\t}\n",
		    RID(p->forwards[i]), RID(p->forwards[i]));
	for (i = 0; i < p->nnat_rule; i++)
		strbuf_printf(c->b, "\tcounter nat_source_" NFTC_ID " {\n\t}\n",
		    RID(p->nat_rules[i]));
	for (i = 0; i < p->nnat_one; i++)
		strbuf_printf(c->b, "\tcounter one_to_one_" NFTC_ID " {\n\t}\n",
		    RID(p->nat_ones[i]));
	strbuf_putc(c->b, '\n');
}

/* nat masquerade on IF: the interface's address; in an HA pair the VIP
 * of that family on IF, so that connections outlive a failover. */
static void
compile_masquerade(struct nftc *c, const struct nat *n)
{
	const struct ha_conf *ha = &c->p->ha;
	const struct addr_lit *vip[3] = { NULL, NULL, NULL };
	char a[ADDR_STRLEN];
	size_t i;
	int f;

	for (i = 0; i < ha->nvip; i++)
		if (ha->vips[i].iface == n->iface)
			vip[ha->vips[i].lit.family] = &ha->vips[i].lit;
	if (vip[FAM_V4] == NULL && vip[FAM_V6] == NULL) {
		strbuf_printf(c->b, "\t\toifname \"%s\" masquerade comment "
		    "\"nat on %s\"\n", n->iface->device, n->ifname);
		return;
	}
	for (f = FAM_V4; f <= FAM_V6; f++) {
		if (vip[f] == NULL) {
			strbuf_printf(c->b, "\t\toifname \"%s\" meta nfproto "
			    "%s masquerade comment \"nat on %s\"\n",
			    n->iface->device, f == FAM_V4 ? "ipv4" : "ipv6",
			    n->ifname);
			continue;
		}
		addr_format(vip[f]->lo, a, sizeof(a));
		strbuf_printf(c->b, "\t\toifname \"%s\" snat %s to %s comment "
		    "\"nat on %s, from the vip\"\n", n->iface->device,
		    f == FAM_V4 ? "ip" : "ip6", a, n->ifname);
	}
}

/* The rest of a DNAT line of forward fw, after its iifname match. */
static void
put_dnat(struct nftc *c, const struct forward *fw, const struct svc_group *g,
    int f, bool reflected)
{
	put_forward_listen(c, c->b, fw, (enum addr_family)f);
	put_svc_match(c, c->b, g);
	strbuf_printf(c->b, " counter name \"forward_" NFTC_ID "\" dnat %s "
	    "to ", RID(fw), fam_word[f]);
	put_addr(c->b, f == FAM_V4 ? fw->to4 : fw->to6);
	strbuf_printf(c->b, " comment \"forward " NFTC_ID "%s\"\n", RID(fw),
	    reflected ? ", reflection" : "");
}

/* The devices of the interfaces that forward fw reflects, as an iifname
 * match; false (and nothing written) when there are none. */
static bool
put_reflect_iifs(struct nftc *c, const struct forward *fw)
{
	size_t i, n = 0;

	for (i = 0; i < c->p->niface; i++) {
		const struct iface *ifc = c->p->ifaces[i];

		if (ifc->device == NULL ||
		    !policy_forward_reflects(c->p, fw, ifc))
			continue;
		strbuf_printf(c->b, "%s\"%s\"", n == 0 ? "\t\tiifname { " :
		    ", ", ifc->device);
		n++;
	}
	if (n > 0)
		strbuf_puts(c->b, " }");
	return n > 0;
}

/* Reflection, after DNAT: the internal host's connection to the host of
 * the forward leaves from the gateway's address towards that host, so the
 * answer comes back through the gateway ("pure NAT"). */
static void
compile_reflect_snat(struct nftc *c)
{
	const struct policy *p = c->p;
	size_t i, j, n;
	int f;

	for (i = 0; i < p->nforward; i++) {
		const struct forward *fw = p->forwards[i];
		struct svc_group g[8];

		n = svc_groups(c, fw->svc.set, FAM_BOTH, g);
		for (j = 0; j < n; j++)
			for (f = FAM_V4; f <= FAM_V6; f++) {
				if (!(f == FAM_V4 ? fw->has4 : fw->has6) ||
				    !put_reflect_iifs(c, fw))
					continue;
				strbuf_printf(c->b, " ct status dnat %s daddr ",
				    fam_word[f]);
				put_addr(c->b, f == FAM_V4 ? fw->to4 : fw->to6);
				put_svc_match(c, c->b, &g[j]);
				strbuf_printf(c->b, " masquerade comment "
				    "\"forward " NFTC_ID ", reflection\"\n",
				    RID(fw));
			}
	}
}

/* nat source N in family f: after the reflection, before the masquerade;
 * none is an accept, which ends the nat chain for the connection (no
 * masquerade after it). */
static void
compile_nat_rule_family(struct nftc *c, const struct nat_rule *n,
    enum addr_family f)
{
	struct iset src = fam_part(c, n->src.set, f);
	struct iset dst = fam_part(c, n->dst.set, f);
	struct svc_group g[8];
	size_t i, k;

	if (n->kind == NAT_TO_ADDRESS && !(f == FAM_V4 ? n->has4 : n->has6))
		return;
	if ((iset_empty(src) && !n->src.dynamic) ||
	    (iset_empty(dst) && !n->dst.dynamic))
		return;
	k = svc_groups(c, n->svc.set, f, g);
	for (i = 0; i < k; i++) {
		strbuf_printf(c->b, "\t\toifname \"%s\"", n->iface->device);
		/* no address written: the family is */
		if (!n->src.dynamic && !n->dst.dynamic &&
		    matches_whole_family(c, src, f) &&
		    matches_whole_family(c, dst, f))
			strbuf_printf(c->b, " meta nfproto %s",
			    f == FAM_V4 ? "ipv4" : "ipv6");
		c->side = arena_printf(&c->a, "nat_source_" NFTC_ID "_src",
		    RID(n));
		put_addr_match(c, c->b, "saddr", &n->src, src, f);
		c->side = arena_printf(&c->a, "nat_source_" NFTC_ID "_dst",
		    RID(n));
		put_addr_match(c, c->b, "daddr", &n->dst, dst, f);
		put_svc_match(c, c->b, &g[i]);
		strbuf_printf(c->b, " counter name \"nat_source_" NFTC_ID "\" ",
		    RID(n));
		if (n->kind == NAT_TO_MASQUERADE)
			strbuf_puts(c->b, "masquerade");
		else if (n->kind == NAT_TO_NONE)
			strbuf_puts(c->b, "accept");
		else {
			strbuf_printf(c->b, "snat %s to ", fam_word[f]);
			put_addr(c->b, f == FAM_V4 ? n->to4 : n->to6);
		}
		strbuf_printf(c->b, " comment \"nat source " NFTC_ID "\"\n",
		    RID(n));
	}
}

/* The devices of the interfaces that 1:1 n reflects, as an iifname
 * match; false (and nothing written) when there are none. */
static bool
put_one_reflect_iifs(struct nftc *c, const struct nat_one *n)
{
	size_t i, k = 0;

	for (i = 0; i < c->p->niface; i++) {
		const struct iface *ifc = c->p->ifaces[i];

		if (ifc->device == NULL || !policy_one_reflects(c->p, n, ifc))
			continue;
		strbuf_printf(c->b, "%s\"%s\"", k == 0 ? "\t\tiifname { " :
		    ", ", ifc->device);
		k++;
	}
	if (k > 0)
		strbuf_puts(c->b, " }");
	return k > 0;
}

/* nat one-to-one N, one direction: inbound, the public side's addresses
 * on IF to the inside's (DNAT); outbound, the inside's leaving through IF
 * from the public's (SNAT).  A network maps address by address, through
 * a map of the addresses (at most NAT_ONE_MAX).  Reflected: the same DNAT
 * for connections arriving on the internal interfaces it reflects. */
static void
compile_nat_one(struct nftc *c, const struct nat_one *n, bool inbound,
    bool reflected)
{
	const char *fam = fam_word[n->family];
	u128 from = inbound ? n->pub_lo : n->in_lo;
	u128 to = inbound ? n->in_lo : n->pub_lo;
	u128 k;

	if (n->iface == NULL || n->iface->device == NULL || n->size == 0)
		return;
	if (reflected) {
		if (!put_one_reflect_iifs(c, n))
			return;
	} else
		strbuf_printf(c->b, "\t\t%s \"%s\"", inbound ? "iifname" :
		    "oifname", n->iface->device);
	strbuf_printf(c->b, " %s %s ", fam, inbound ? "daddr" : "saddr");
	put_interval(c->b, from, from + n->size - 1,
	    (enum addr_family)n->family);
	strbuf_printf(c->b, " counter name \"one_to_one_" NFTC_ID "\" %s %s "
	    "to ", RID(n), inbound ? "dnat" : "snat", fam);
	if (n->size == 1)
		put_addr(c->b, to);
	else {
		strbuf_printf(c->b, "%s %s map { ", fam, inbound ? "daddr" :
		    "saddr");
		for (k = 0; k < n->size; k++) {
			if (k > 0)
				strbuf_puts(c->b, ", ");
			put_addr(c->b, from + k);
			strbuf_puts(c->b, " : ");
			put_addr(c->b, to + k);
		}
		strbuf_puts(c->b, " }");
	}
	strbuf_printf(c->b, " comment \"one-to-one " NFTC_ID "%s\"\n",
	    RID(n), reflected ? ", reflection" : "");
}

/* 1:1 reflection, after DNAT: the internal host's connection to the
 * inside host leaves from the gateway's address towards it, as a
 * forward's reflection does. */
static void
compile_one_reflect_snat(struct nftc *c, const struct nat_one *n)
{
	if (n->iface == NULL || n->iface->device == NULL || n->size == 0 ||
	    !put_one_reflect_iifs(c, n))
		return;
	strbuf_printf(c->b, " ct status dnat %s daddr ", fam_word[n->family]);
	put_interval(c->b, n->in_lo, n->in_lo + n->size - 1,
	    (enum addr_family)n->family);
	strbuf_printf(c->b, " masquerade comment \"one-to-one " NFTC_ID
	    ", reflection\"\n", RID(n));
}

/* True when some forward or 1:1 reflects on some interface. */
static bool
any_reflection(const struct policy *p)
{
	size_t i, j;

	for (j = 0; j < p->niface; j++) {
		if (p->ifaces[j]->device == NULL)
			continue;
		for (i = 0; i < p->nforward; i++)
			if (policy_forward_reflects(p, p->forwards[i],
			    p->ifaces[j]))
				return true;
		for (i = 0; i < p->nnat_one; i++)
			if (policy_one_reflects(p, p->nat_ones[i],
			    p->ifaces[j]))
				return true;
	}
	return false;
}

static void
compile_nat(struct nftc *c)
{
	const struct policy *p = c->p;
	size_t i, j, n;
	bool reflect = any_reflection(p);

	if (p->nforward > 0 || p->nnat_one > 0) {
		strbuf_puts(c->b, "\tchain prerouting {\n\t\ttype nat hook "
		    "prerouting priority dstnat; policy accept;\n");
		for (i = 0; i < p->nforward; i++) {
			const struct forward *fw = p->forwards[i];
			struct svc_group g[8];
			int f;

			n = svc_groups(c, fw->svc.set, FAM_BOTH, g);
			for (j = 0; j < n; j++)
				for (f = FAM_V4; f <= FAM_V6; f++) {
					if (!(f == FAM_V4 ? fw->has4 : fw->has6) ||
					    !forward_listens(c, fw,
					    (enum addr_family)f))
						continue;
					strbuf_printf(c->b, "\t\tiifname \"%s\"",
					    fw->iface->device);
					put_dnat(c, fw, &g[j], f, false);
					if (put_reflect_iifs(c, fw))
						put_dnat(c, fw, &g[j], f, true);
				}
		}
		for (i = 0; i < p->nnat_one; i++) {
			compile_nat_one(c, p->nat_ones[i], true, false);
			compile_nat_one(c, p->nat_ones[i], true, true);
		}
		strbuf_puts(c->b, "\t}\n\n");
	}
	if (p->nnat > 0 || p->nnat_rule > 0 || p->nnat_one > 0 || reflect) {
		strbuf_puts(c->b, "\tchain postrouting {\n\t\ttype nat hook "
		    "postrouting priority srcnat; policy accept;\n");
		compile_reflect_snat(c);
		for (i = 0; i < p->nnat_one; i++)
			compile_one_reflect_snat(c, p->nat_ones[i]);
		for (i = 0; i < p->nnat_one; i++)
			compile_nat_one(c, p->nat_ones[i], false, false);
		for (i = 0; i < p->nnat_rule; i++)
			if (p->nat_rules[i]->iface != NULL &&
			    p->nat_rules[i]->iface->device != NULL) {
				compile_nat_rule_family(c, p->nat_rules[i],
				    FAM_V4);
				compile_nat_rule_family(c, p->nat_rules[i],
				    FAM_V6);
			}
		for (i = 0; i < p->nnat; i++)
			compile_masquerade(c, p->nats[i]);
		strbuf_puts(c->b, "\t}\n\n");
	}
}

/*
 * Gateways (doc/design/gateways.md, "The kernel's part").  The forward
 * hook comes after the routing decision, so the rules with a gateway
 * option are walked again at prerouting, after DNAT (they see the
 * addresses the zone chains see) and before the SMTP interception (whose
 * TPROXY mark replaces the whole mark): a new connection arriving on an
 * interface with such rules, to an address not the gateway's own, gets
 * the choice mark of the first rule that matches, if that rule has the
 * option; moatd's ip rules route the mark by its choice table.  A
 * connection that left through gateway g (its interface, g's next hop)
 * has g's pin mark in its ct mark, set in postrouting, and its packets
 * the same mark from there, so it stays on its link.  Only the bits of
 * GW_MARK_MASK are ever set: the schedules' ct mark bits and TPROXY's
 * mark are left alone.
 */

/* The last rule of ifc whose gateway option can apply, or -1. */
static long
last_gw_rule(const struct policy *p, const struct iface *ifc)
{
	long i, last = -1;

	for (i = 0; i < (long)p->nrule; i++)
		if (p->rules[i]->iface == ifc && p->rules[i]->gw.name != NULL &&
		    (policy_rule_gw_applies(p->rules[i], FAM_V4) ||
		    policy_rule_gw_applies(p->rules[i], FAM_V6)))
			last = i;
	return last;
}

static void
compile_route_chain(struct nftc *c, const struct iface *ifc, long last)
{
	const struct policy *p = c->p;
	size_t g;
	long i;
	int f;

	strbuf_puts(c->b, "\tchain route_");
	nftc_put_ident(c->b, ifc->name);
	strbuf_puts(c->b, " {\n");
	/* The networks of the gateways' own links are reached directly. */
	for (g = 0; g < p->ngateway; g++) {
		const struct iface *gi = p->gateways[g]->iface;
		size_t k;

		for (k = 0; k < g && p->gateways[k]->iface != gi; k++)
			;
		if (k < g)
			continue;
		for (f = FAM_V4; f <= FAM_V6; f++) {
			if (!gi->dynamic && iset_empty(fam_part(c,
			    gi->net_obj->set, (enum addr_family)f)))
				continue;
			strbuf_printf(c->b, "\t\t%s daddr @", fam_word[f]);
			nftc_put_ident(c->b, gi->net_obj->name);
			strbuf_printf(c->b, "_%s return comment \"%s's own "
			    "network\"\n", fam_suffix[f], gi->name);
		}
	}
	c->route = true;
	for (i = 0; i <= last; i++) {
		const struct rule *r = p->rules[i];

		if (r->iface != ifc || r->disabled)
			continue;
		/* One family at a time: the option is of one. */
		for (f = FAM_V4; f <= FAM_V6; f++) {
			c->route_fam = (enum addr_family)f;
			compile_rule_family(c, r, (enum addr_family)f,
			    matches_whole_family(c, r->src.set,
			    (enum addr_family)f) && matches_whole_family(c,
			    r->dst.set, (enum addr_family)f) &&
			    !policy_rule_dynamic(r));
		}
	}
	c->route = false;
	strbuf_puts(c->b, "\t}\n\n");
}

/*
 * moatd-ping holds raw ICMP sockets marked with each gateway's pin mark,
 * the only local packets that carry one.  A process that was taken over
 * could write any ICMP on them: only echo requests to the gateway's own
 * monitor leave (doc/design/gateways.md).
 */
static void
compile_probes(struct nftc *c)
{
	const struct policy *p = c->p;
	char mon[ADDR_STRLEN];
	size_t i;

	strbuf_printf(c->b, "\tchain gateway_probes {\n\t\ttype filter hook "
	    "output priority filter; policy accept;\n\t\tmeta mark and "
	    "0x%08x vmap { ", GW_MARK_MASK);
	for (i = 0; i < p->ngateway; i++) {
		strbuf_printf(c->b, "%s0x%08x : jump probe_", i ? ", " : "",
		    GW_MARK_PIN(p->gateways[i]->index));
		nftc_put_ident(c->b, p->gateways[i]->name);
	}
	/* A link bit no gateway of this config has (a process of an
	 * older one): nothing leaves with it. */
	strbuf_printf(c->b, " }\n\t\tmeta mark and 0x%08x != 0 drop comment "
	    "\"no gateway has this mark\"\n\t}\n\n", GW_MARK_MASK);
	for (i = 0; i < p->ngateway; i++) {
		const struct gateway *g = p->gateways[i];
		bool v4 = g->monitor.family == FAM_V4;

		addr_format(g->monitor.lo, mon, sizeof(mon));
		strbuf_puts(c->b, "\tchain probe_");
		nftc_put_ident(c->b, g->name);
		/* 4 a second are sent: a process that sends more would
		 * flood the monitor from the gateway's address. */
		strbuf_printf(c->b, " {\n\t\toifname \"%s\" %s type "
		    "echo-request %s daddr %s meta length < 128 limit rate "
		    "10/second burst 10 packets accept\n\t\tdrop comment "
		    "\"gateway %s: only its probes carry its mark\"\n\t}\n\n",
		    g->iface->device, v4 ? "icmp" : "icmpv6", v4 ? "ip" : "ip6",
		    mon, g->name);
	}
}

static void
compile_gateways(struct nftc *c)
{
	const struct policy *p = c->p;
	char via[ADDR_STRLEN];
	size_t i, n;
	long *last;

	if (p->ngateway == 0)
		return;
	last = arena_array(&c->a, p->niface + 1, sizeof(*last));
	strbuf_puts(c->b, "\tchain gateways {\n\t\ttype filter hook prerouting "
	    "priority dstnat + 5; policy accept;\n");
	strbuf_printf(c->b, "\t\tct direction original ct mark and 0x%08x vmap "
	    "{ ", GW_MARK_MASK);
	for (i = 0; i < p->ngateway; i++) {
		strbuf_printf(c->b, "%s0x%08x : jump link_", i ? ", " : "",
		    GW_MARK_PIN(p->gateways[i]->index));
		nftc_put_ident(c->b, p->gateways[i]->name);
	}
	strbuf_puts(c->b, " }\n");
	/* firewall off: no rule counts, nor its option. */
	for (i = 0, n = 0; i < p->niface; i++)
		if ((last[i] = p->firewall ? last_gw_rule(p, p->ifaces[i]) :
		    -1) >= 0)
			n++;
	if (n > 0) {
		/* Only what the routes (without a mark) send out of a
		 * gateway's interface: a connection between the internal
		 * networks stays off the links, as pfSense's negated rules
		 * keep it. */
		strbuf_puts(c->b, "\t\tct state new fib daddr type != local "
		    "fib daddr oifname { ");
		for (i = 0, n = 0; i < p->ngateway; i++) {
			size_t k;

			for (k = 0; k < i; k++)
				if (p->gateways[k]->iface ==
				    p->gateways[i]->iface)
					break;
			if (k == i)
				strbuf_printf(c->b, "%s\"%s\"", n++ ? ", " : "",
				    p->gateways[i]->iface->device);
		}
		strbuf_puts(c->b, " } iifname vmap { ");
		for (i = 0, n = 0; i < p->niface; i++) {
			if (last[i] < 0)
				continue;
			strbuf_printf(c->b, "%s\"%s\" : jump route_", n++ ?
			    ", " : "", p->ifaces[i]->device);
			nftc_put_ident(c->b, p->ifaces[i]->name);
		}
		strbuf_puts(c->b, " }\n");
	}
	strbuf_puts(c->b, "\t}\n\n");
	for (i = 0; i < p->ngateway; i++) {
		strbuf_puts(c->b, "\tchain link_");
		nftc_put_ident(c->b, p->gateways[i]->name);
		strbuf_printf(c->b, " {\n\t\tmeta mark set meta mark and 0x%08x "
		    "or 0x%08x accept comment \"gateway %s\"\n\t}\n\n",
		    (unsigned)~GW_MARK_MASK,
		    GW_MARK_PIN(p->gateways[i]->index),
		    p->gateways[i]->name);
	}
	for (i = 0; i < p->niface; i++)
		if (last[i] >= 0)
			compile_route_chain(c, p->ifaces[i], last[i]);
	strbuf_puts(c->b, "\tchain gateways_out {\n\t\ttype filter hook "
	    "postrouting priority srcnat + 5; policy accept;\n");
	for (i = 0; i < p->ngateway; i++) {
		const struct gateway *g = p->gateways[i];

		addr_format(g->via.lo, via, sizeof(via));
		strbuf_printf(c->b, "\t\tct state new oifname \"%s\" rt %s "
		    "nexthop %s ct mark set ct mark and 0x%08x or 0x%08x "
		    "comment \"gateway %s\"\n", g->iface->device,
		    fam_word[g->via.family], via, (unsigned)~GW_MARK_MASK,
		    GW_MARK_PIN(g->index), g->name);
	}
	strbuf_puts(c->b, "\t}\n\n");
	compile_probes(c);
}

/*
 * smtp-other-scanning: SMTP passing through is diverted to moatd (TPROXY).
 * The chain runs after DNAT (so a port-forwarded connection is seen with
 * the internal server as its destination) and before the filter; the
 * diverted packets then go through the input hook, where the same zone
 * chains as forwarding judge them on their original destination: the
 * policy still decides first (the seed's pitfall).  Incoming: connections
 * port-forwarded to an internal SMTP server.  Outgoing (when
 * smtp-outgoing-scanning is on): SMTP from internal interfaces to servers
 * that are not the gateway itself.
 * tproxy finds no socket when no proxy listens (moatd stopped, or not yet
 * following the entry in force: daemon/inforce.c), and then the rule
 * does not match: the connection would go on past the proxy, unscanned.
 * So each is followed by a drop of what it would have taken (comment
 * NFTC_NO_PROXY, counted: nft list shows what was held back): the client
 * finds no server and tries again later.
 */
#define INTERCEPT_HEAD	"\tchain intercept {"

bool
nftc_intercepts(const struct policy *p)
{
	return p->av.present && p->av.other_scanning;
}

bool
nftc_script_intercepts(const char *script, size_t len)
{
	const char *end = script + len, *nl;

	/* The chain is the table's last (nftc_compile puts it after every
	 * other), so only the lines after the last chain's head are read,
	 * from the end: not the whole ruleset (13 MB at 100,000 rules). */
	while (end > script && (nl = memrchr(script, '\n', (size_t)(end -
	    script))) != NULL) {
		size_t n = (size_t)(end - nl - 1);	/* the line's length */

		if (n >= 7 && memcmp(nl + 1, "\tchain ", 7) == 0)
			return n == strlen(INTERCEPT_HEAD) &&
			    memcmp(nl + 1, INTERCEPT_HEAD, n) == 0;
		end = nl;
	}
	return false;
}

bool
nftc_spoofs(const struct policy *p)
{
	return nftc_intercepts(p) && p->av.keep_client_address;
}

/*
 * A proxy that keeps its clients' addresses holds CAP_NET_RAW for
 * IP_TRANSPARENT, and with it could send from any address: a TCP
 * connection from the client's (what it is for), but also a UDP
 * datagram (DNS, syslog, SNMP to a host that trusts a LAN address) or a
 * ping from anyone's.  The proxy parses what the Internet sends and
 * runs the scanner on it, so the kernel holds that back, whatever the
 * proxy does: a transparent socket sends SMTP (to a server's port 25,
 * or from it: the answers on an intercepted connection), nothing else.
 * moatd's other processes have no transparent socket.  And no socket
 * but root's sends from an address not the gateway's (but the
 * unspecified ones): a socket that had IP_TRANSPARENT set, was bound and
 * connected, and then had it cleared sends on the route it keeps, from
 * the address it was bound to, and is no longer transparent (a review);
 * IPV6_FREEBIND (nospawn refuses it to moatd's children) sends from any
 * IPv6 address without a capability.  Root's and the kernel's own are
 * left alone: the TCP reset of a `reject` of a forwarded connection
 * leaves from its destination's address with no socket (a second
 * review: it was dropped), and a SYN cookie's answer the same.  (Nor
 * does the interception's first rule take the packets of any transparent
 * socket: a proxy taken over that made a listener of its own on another
 * port could have been handed new connections through the gateway to
 * that port.)
 */
static void
compile_spoof_guard(struct nftc *c)
{
	if (!nftc_spoofs(c->p))
		return;
	strbuf_puts(c->b, "\tchain " NFTC_SPOOF_GUARD " {\n"
	    "\t\ttype filter hook output priority filter; policy accept;\n"
	    "\t\ttcp dport 25 ct direction original socket transparent 1 "
	    "accept\n"
	    "\t\ttcp sport 25 ct direction reply socket transparent 1 "
	    "accept\n"
	    "\t\tsocket transparent 1 counter drop comment \"a transparent "
	    "socket sends SMTP only (smtp-keep-client-address)\"\n"
	    "\t\tfib saddr type local accept\n"
	    "\t\tip6 saddr :: accept\n"
	    "\t\tip saddr 0.0.0.0 accept\n"
	    "\t\tmeta skuid != 0 counter drop comment \"only root's "
	    "sockets send from an address not the gateway's "
	    "(smtp-keep-client-address)\"\n"
	    "\t}\n\n");
}

/* One interception: match m handed to the proxy (tproxy of family fam,
 * or of both when NULL), then the same match dropped, for when no proxy
 * listens; comment why. */
static void
intercept_pair(struct nftc *c, const struct strbuf *m, const char *fam,
    const struct strbuf *why)
{
	strbuf_printf(c->b, "%s tproxy%s%s to :%d meta mark set 0x%x accept "
	    "comment \"%s\"\n", strbuf_str(m), fam != NULL ? " " : "",
	    fam != NULL ? fam : "", NFTC_TPROXY_PORT, NFTC_MARK,
	    strbuf_str(why));
	strbuf_printf(c->b, "%s counter drop comment \"" NFTC_NO_PROXY
	    "%s\"\n", strbuf_str(m), strbuf_str(why));
}

static void
compile_intercept(struct nftc *c)
{
	const struct policy *p = c->p;
	struct strbuf m, why;
	size_t i;
	int f;

	if (!nftc_intercepts(p))
		return;
	strbuf_init(&m, 0);
	strbuf_init(&why, 0);
	strbuf_printf(c->b, INTERCEPT_HEAD "\n\t\ttype filter hook "
	    "prerouting priority -90; policy accept;\n"
	    "\t\ttcp dport 25 socket transparent 1 meta mark set 0x%x "
	    "accept\n"
	    "\t\ttcp sport 25 socket transparent 1 meta mark set 0x%x "
	    "accept\n", NFTC_MARK, NFTC_MARK);
	for (i = 0; i < p->nforward; i++) {
		const struct forward *fw = p->forwards[i];

		if (!policy_forward_smtp(fw))
			continue;
		for (f = FAM_V4; f <= FAM_V6; f++) {
			/* (none where it listens on no address: nor is its
			 * DNAT written) */
			if (!(f == FAM_V4 ? fw->has4 : fw->has6) ||
			    !forward_listens(c, fw, (enum addr_family)f))
				continue;
			/* Only what the forward rewrote, first sent to where
			 * it listens (moat test's SMTP_INTERCEPT_IN): a 1:1
			 * line's connection to the same host, or one routed
			 * to it as it is, was taken too (a review). */
			strbuf_reset(&m);
			strbuf_printf(&m, "\t\tiifname \"%s\" ct status dnat",
			    fw->iface->device);
			put_forward_origin(c, &m, fw, (enum addr_family)f);
			strbuf_printf(&m, " %s daddr ", fam_word[f]);
			put_addr(&m, f == FAM_V4 ? fw->to4 : fw->to6);
			strbuf_puts(&m, " tcp dport 25");
			strbuf_reset(&why);
			strbuf_printf(&why, "scan incoming SMTP (forward "
			    NFTC_ID ")", RID(fw));
			intercept_pair(c, &m, fam_word[f], &why);
		}
	}
	if (p->av.outgoing_scanning)
		for (i = 0; i < p->niface; i++) {
			const struct iface *ifc = p->ifaces[i];

			if (policy_iface_external(p, ifc) || ifc->device == NULL)
				continue;
			strbuf_reset(&m);
			strbuf_printf(&m, "\t\tiifname \"%s\" tcp dport 25 "
			    "fib daddr type != local", ifc->device);
			strbuf_reset(&why);
			strbuf_printf(&why, "scan outgoing SMTP from %s",
			    ifc->name);
			intercept_pair(c, &m, NULL, &why);
		}
	if (strbuf_failed(&m) || strbuf_failed(&why))
		c->b->failed = true;
	strbuf_free(&m);
	strbuf_free(&why);
	strbuf_puts(c->b, "\t}\n\n");
}

void
nftc_remove(struct strbuf *b)
{
	strbuf_puts(b, "table inet " NFTC_TABLE "\n"
	    "delete table inet " NFTC_TABLE "\n");
}

int
nftc_lockdown(const char *lan_device, struct strbuf *b)
{
	strbuf_puts(b, "# moat lockdown: no usable config and no history\n");
	nftc_remove(b);
	strbuf_puts(b, "table inet " NFTC_TABLE " {\n"
	    "\tcounter lockdown {\n\t}\n\n"
	    "\tchain input {\n\t\ttype filter hook input priority filter; "
	    "policy drop;\n"
	    "\t\tct state established,related accept\n"
	    "\t\tiif \"lo\" accept\n"
	    "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
	    "nd-router-solicit, nd-router-advert } accept\n");
	if (lan_device != NULL) {
		strbuf_puts(b, "\t\tiifname ");
		strbuf_printf(b, "\"%s\"", lan_device);
		strbuf_puts(b, " tcp dport { 22, 80, 443 } accept comment "
		    "\"anti-lockout\"\n");
	}
	strbuf_puts(b, "\t\tcounter name \"lockdown\" drop\n\t}\n\n"
	    "\tchain forward {\n\t\ttype filter hook forward priority "
	    "filter; policy drop;\n"
	    "\t\tct state established,related accept\n"
	    "\t\tcounter name \"lockdown\" drop\n\t}\n}\n");
	return strbuf_failed(b) ? -1 : 0;
}

static void
compile_linear(struct nftc *c)
{
	const struct policy *p = c->p;
	size_t i, j;

	strbuf_puts(c->b, "\tchain forward {\n\t\ttype filter hook forward "
	    "priority filter; policy accept;\n"
	    "\t\tct state established,related accept\n"
	    "\t\tct state invalid drop\n" NFTC_MAPPED_DROP);
	for (i = 0; i < p->niface; i++) {
		c->device = p->ifaces[i]->device;
		for (j = 0; j < p->nrule; j++)
			if (p->rules[j]->iface == p->ifaces[i])
				compile_rule(c, p->rules[j]);
		strbuf_printf(c->b, "\t\tiifname \"%s\" counter %s\n",
		    c->device, verdict_word(policy_iface_default(p->ifaces[i])));
	}
	strbuf_puts(c->b, "\t}\n");
}

/* A declaration of c->sets: its text, how many lookups name it. */
struct set_decl {
	const char	*s;
	size_t		 len, order;
	unsigned	 uses;
};

static int
by_uses(const void *x, const void *y)
{
	const struct set_decl *a = x, *b = y;

	if (a->uses != b->uses)
		return a->uses > b->uses ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/*
 * The sets and maps of c->sets into b at head, before the chains (b from
 * head on), those the chains look up most first: the lines before the
 * first declaration, then the declarations by use, exactly c->sets.len
 * bytes put in place (no buffer of their own: nothing malloc'd is held
 * while the arena may jump).  The kernel finds the set a rule names by
 * walking the table's list of sets, in the order they were added,
 * comparing names: at 100K rules, 24,000 lookups walked half of 2,300
 * sets each, 20% of the kernel's time of a whole apply.  The 100 most
 * used sets hold half the lookups there.
 */
static void
put_sets_by_use(struct nftc *c, struct strbuf *b, size_t head)
{
	const char *s = strbuf_str(&c->sets), *end = s + c->sets.len, *p;
	const char *ch, *chend;
	struct nametab *t;
	struct set_decl *v;
	size_t n = 0, cap = 0, i, at;

	for (p = s; p < end; p = (p = memchr(p, '\n', (size_t)(end - p))) ?
	    p + 1 : end)
		cap += strncmp(p, "\tset ", 5) == 0 || strncmp(p, "\tmap ", 5) == 0;
	if (cap < 2) {
		strbuf_insert(b, head, s, c->sets.len);
		return;
	}
	v = arena_array(&c->a, cap, sizeof(*v));
	t = nametab_new(&c->a, cap);
	for (p = s; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;

		if (strncmp(p, "\tset ", 5) == 0 || strncmp(p, "\tmap ", 5) == 0) {
			const char *name = p + 5;
			size_t len = strcspn(name, " {\n");

			if (n > 0)
				v[n - 1].len = (size_t)(p - v[n - 1].s);
			v[n].s = p;
			v[n].order = n;
			v[n].uses = 0;
			nametab_put(t, arena_printf(&c->a, "%.*s", (int)len,
			    name), &v[n]);
			n++;
		}
		p = next;
	}
	v[n - 1].len = (size_t)(end - v[n - 1].s);
	ch = strbuf_str(b) + head;
	chend = strbuf_str(b) + b->len;
	for (p = ch; p < chend && (p = memchr(p, '@', (size_t)(chend - p))) !=
	    NULL; ) {
		const char *name = ++p;
		struct set_decl *d;
		char key[256];
		size_t len;

		while (p < chend && (*p == '_' || (*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			p++;
		len = (size_t)(p - name);
		if (len == 0 || len >= sizeof(key))
			continue;
		memcpy(key, name, len);
		key[len] = '\0';
		if ((d = nametab_get(t, key)) != NULL)
			d->uses++;
	}
	at = head + (size_t)(v[0].s - s);	/* (the lines before any) */
	qsort(v, n, sizeof(*v), by_uses);
	/* The room, with c->sets as it is (its first lines stay where they
	 * are), then the declarations in their new order over the rest. */
	strbuf_insert(b, head, s, c->sets.len);
	if (strbuf_failed(b))
		return;
	for (i = 0; i < n; i++) {
		memcpy(b->s + at, v[i].s, v[i].len);
		at += v[i].len;
	}
}

/* The table; scratch memory from c->a, output to c->b, the sets through
 * c->sets (and a plain table's chains through c->chains), which the
 * caller owns. */
static int
compile_body(void *arg)
{
	struct nftc *c = arg;
	const struct policy *p = c->p;
	struct strbuf *b = c->b;
	size_t i, head;

	/* The plan's memory runs out into the same handler as c->a's (a
	 * catch nested in here would have to point this at its own). */
	c->plan.oom = c->a.oom;
	c->full[FAM_V4] = iset_range(&c->a, V4_BASE, V4_LAST);
	c->full[FAM_V6] = iset_complement(&c->a, c->full[FAM_V4], 0, U128_MAX);
	strbuf_printf(b, "# moat policy from %s, compiled by moat\n",
	    p->file);
	nftc_remove(b);
	strbuf_puts(b, "table inet " NFTC_TABLE " {\n");
	if (c->linear) {
		/* plain: the sets first, as moat's own form has them. */
		c->set_names = nametab_new(&c->a, 64);
		c->b = &c->chains;
		compile_linear(c);
		c->b = b;
		strbuf_add(b, strbuf_str(&c->sets), c->sets.len);
		strbuf_add(b, strbuf_str(&c->chains), c->chains.len);
		if (strbuf_failed(&c->sets) || strbuf_failed(&c->chains))
			b->failed = true;
		strbuf_puts(b, "}\n");
		return 0;
	}
	compile_counters(c);
	/* The objects' sets go with the others, to be ordered by use. */
	c->b = &c->sets;
	compile_sets(c);
	c->b = b;
	c->set_names = nametab_new(&c->a, 64);
	c->dyn_names = nametab_new(&c->a, 16);
	/* The chains go into b at once, the sets they share put in before
	 * them after (put_sets_by_use): the chains' 16 MB at 100K rules
	 * are not built in a buffer of their own and copied. */
	head = b->len;
	if (p->firewall) {
		compile_dispatch(c, "input");
		compile_dispatch(c, "forward");
		for (i = 0; i < p->niface; i++)
			compile_zone(c, p->ifaces[i]);
		for (i = 0; i < p->nrule; i++)
			if (p->rules[i]->log && !p->rules[i]->disabled &&
			    p->rules[i]->iface != NULL)
				compile_log_chain(c, p->rules[i]);
	}
	compile_nat(c);
	compile_gateways(c);
	compile_spoof_guard(c);
	compile_intercept(c);	/* the last chain: nftc_script_intercepts */
	put_sets_by_use(c, b, head);
	if (strbuf_failed(&c->sets))
		b->failed = true;
	strbuf_puts(b, "}\n");
	return 0;
}

static int
compile(const struct policy *p, struct strbuf *b, int linear,
    struct strbuf *dyn)
{
	struct nftc c = { .p = p, .b = b, .linear = linear > 0,
	    .plain = linear > 1, .dyn = dyn };
	int rc;

	if (p->nsched > 0)
		schedule_frame_now(&c.frame);
	arena_init(&c.a);
	arena_init(&c.plan);
	strbuf_init(&c.chains, 0);
	strbuf_init(&c.sets, 0);
	/* About what a rule takes (180 bytes in the office policy): the
	 * large buffers are then not copied as they grow. */
	strbuf_expect(b, p->nrule * NFTC_RULE_BYTES + 65536);
	if (c.linear)
		strbuf_expect(&c.chains, p->nrule * NFTC_RULE_BYTES);
	rc = arena_catch(&c.a, compile_body, &c);
	c.plan.oom = NULL;	/* (compile_body's copy of the catch's) */
	strbuf_free(&c.sets);
	strbuf_free(&c.chains);
	arena_free(&c.plan);
	arena_free(&c.a);
	return rc == 0 && !strbuf_failed(b) ? 0 : -1;
}

int
nftc_compile(const struct policy *p, struct strbuf *b)
{
	return compile(p, b, 0, NULL);
}

int
nftc_compile_dynamic(const struct policy *p, struct strbuf *b)
{
	struct strbuf table;
	int rc;

	if (policy_ndynamic(p) == 0 && policy_nfeeds(p) == 0)
		return 0;
	strbuf_init(&table, 0);
	rc = compile(p, &table, 0, b);
	strbuf_free(&table);
	return rc == 0 && !strbuf_failed(b) ? 0 : -1;
}

int
nftc_compile_linear(const struct policy *p, struct strbuf *b)
{
	return compile(p, b, 1, NULL);
}

int
nftc_compile_plain(const struct policy *p, struct strbuf *b)
{
	return compile(p, b, 2, NULL);
}

/* ---- feed objects' elements ------------------------------------------ */

static void
feed_init(struct nftc *c)
{
	arena_init(&c->a);
	c->full[FAM_V4] = iset_range(&c->a, V4_BASE, V4_LAST);
	c->full[FAM_V6] = iset_complement(&c->a, c->full[FAM_V4], 0,
	    U128_MAX);
}

void
nftc_feed_set_name(const char *name, enum addr_family f, struct strbuf *b)
{
	nftc_put_ident(b, name);
	strbuf_printf(b, "_%s", fam_suffix[f]);
}

struct iset
nftc_family_part(struct arena *a, struct iset s, enum addr_family f)
{
	struct iset full[3];

	/* A set of one family: no copy of it (a million IPv4 networks). */
	if (s.n == 0 || (s.v[0].lo >= V4_BASE && s.v[s.n - 1].hi <= V4_LAST)) {
		struct iset none = { 0, NULL };

		return f == FAM_V4 ? s : none;
	}
	full[FAM_V4] = iset_range(a, V4_BASE, V4_LAST);
	full[FAM_V6] = iset_complement(a, full[FAM_V4], 0, U128_MAX);
	return family_part(a, full, s, f);
}

/* The object a set's name (NAME_v4, put_ident's form) is of, and its
 * family; -1 when it is no such name. */
static int
set_object(const char *set, size_t n, char *obj, size_t objlen,
    enum addr_family *f)
{
	size_t i, k = 0;

	if (n < 4 || set[n - 3] != '_' || set[n - 2] != 'v' ||
	    (set[n - 1] != '4' && set[n - 1] != '6'))
		return -1;
	*f = set[n - 1] == '4' ? FAM_V4 : FAM_V6;
	for (i = 0; i < n - 3 && k + 1 < objlen; i++) {
		if (set[i] == '_' && i + 1 < n - 3 && set[i + 1] == 'd') {
			obj[k++] = '-';
			i++;
		} else if (set[i] == '_' && i + 1 < n - 3 && set[i + 1] == '_') {
			obj[k++] = '_';
			i++;
		} else
			obj[k++] = set[i];
	}
	obj[k] = '\0';
	return 0;
}

/* Whether line (n bytes with its '\n') is a feed set's comment: head
 * then '"', or head, a space, 16 hex digits and '"' (put_feed_set). */
static bool
feed_comment(const char *line, size_t n, const char *head, size_t hlen)
{
	size_t i;

	if (n < hlen + 2 || memcmp(line, head, hlen) != 0 ||
	    line[n - 1] != '\n' || line[n - 2] != '"')
		return false;
	if (n == hlen + 2)
		return true;
	if (n != hlen + 1 + 16 + 2 || line[hlen] != ' ')
		return false;
	for (i = hlen + 1; i < hlen + 17; i++)
		if (!((line[i] >= '0' && line[i] <= '9') ||
		    (line[i] >= 'a' && line[i] <= 'f')))
			return false;
	return true;
}

struct inline_job {
	const char	*script;
	size_t		 len;
	int		(*feed)(void *, const char *, struct arena *,
			    struct iset *);
	void		*arg;
	struct strbuf	*out;
	struct nftc	 c;
};

static int
feeds_inline(void *arg)
{
	struct inline_job *j = arg;
	const char *line = j->script, *end = j->script + j->len, *set = NULL;
	/* the comment's line: with the definition's key, or (a ruleset an
	 * older build kept in the history) without */
	static const char feed_line[] = "\t\tcomment \"" NFTC_FEED_COMMENT;
	size_t setlen = 0;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl != NULL ? (size_t)(nl - line) + 1 :
		    (size_t)(end - line);

		strbuf_add(j->out, line, n);
		if (n > 6 && strncmp(line, "\tset ", 5) == 0) {
			set = line + 5;
			setlen = strcspn(set, " {\n");
		} else if (set != NULL && feed_comment(line, n, feed_line,
		    sizeof(feed_line) - 1)) {
			char obj[80];
			enum addr_family f;
			struct iset s = { 0, NULL }, part;

			if (set_object(set, setlen, obj, sizeof(obj), &f) == 0 &&
			    j->feed(j->arg, obj, &j->c.a, &s) == 0 &&
			    (part = fam_part(&j->c, s, f)).n > 0) {
				size_t i;

				strbuf_puts(j->out, "\t\telements = { ");
				for (i = 0; i < part.n; i++) {
					if (i > 0)
						strbuf_puts(j->out, i % 8 == 0 ?
						    ",\n\t\t\t" : ", ");
					put_interval(j->out, part.v[i].lo,
					    part.v[i].hi, f);
				}
				strbuf_puts(j->out, " }\n");
			}
			set = NULL;
		}
		line += n;
	}
	return 0;
}

int
nftc_feeds_inline(const char *script, size_t len,
    int (*feed)(void *arg, const char *obj, struct arena *a,
    struct iset *out), void *arg, struct strbuf *out)
{
	struct inline_job j = { .script = script, .len = len, .feed = feed,
	    .arg = arg, .out = out };
	int rc;

	feed_init(&j.c);
	rc = arena_catch(&j.c.a, feeds_inline, &j);
	arena_free(&j.c.a);
	return rc == 0 && !strbuf_failed(out) ? 0 : -1;
}

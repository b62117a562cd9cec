/* pfgen.c: random pfSense config.xml files; see pfgen.h. */
#include "pfgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define V4(a, b, c, d)	(V4_BASE | (u128)((unsigned)(a) << 24 | \
			    (unsigned)(b) << 16 | (unsigned)(c) << 8 | \
			    (unsigned)(d)))

/* An alias as written and as the addresses (or keys) it holds. */
struct galias {
	char		 name[32];
	bool		 port;
	struct iset	 set;
};

struct gctx {
	struct pfgen	*g;
	struct arena	*a;
	struct rng	 r;
	bool		 small;
	struct galias	*al;
	size_t		 nal;
	u128		 net[PFGEN_MAXIF];	/* the interfaces' networks */
};

static const unsigned ports[] = { 22, 25, 53, 80, 110, 123, 143, 443, 465,
	587, 993, 3389, 5060, 8080, 8443 };

static unsigned
pick(struct gctx *c, unsigned n)
{
	return (unsigned)rng_below(&c->r, n);
}

static void
addr_text(u128 x, char *buf, size_t len)
{
	unsigned v = (unsigned)(x & 0xffffffffu);

	snprintf(buf, len, "%u.%u.%u.%u", v >> 24, v >> 16 & 255, v >> 8 & 255,
	    v & 255);
}

/* A host: its text and set. */
static struct iset
host(struct gctx *c, char *buf, size_t len)
{
	static const u128 small[] = { V4(192, 168, 1, 5), V4(192, 168, 1, 6),
		V4(192, 168, 1, 10), V4(172, 16, 0, 7), V4(198, 51, 100, 9) };
	static const unsigned nets[][3] = { { 192, 168, 1 }, { 172, 16, 0 },
		{ 10, 20, 0 }, { 198, 51, 100 }, { 203, 0, 113 } };
	u128 x;

	if (c->small)
		x = small[pick(c, 5)];
	else {
		const unsigned *n = nets[pick(c, 5)];

		x = V4(n[0], n[1], n[2], 2 + pick(c, 250));
	}
	addr_text(x, buf, len);
	return iset_range(c->a, x, x);
}

/* A network (CIDR): its text and set. */
static struct iset
network(struct gctx *c, char *buf, size_t len)
{
	static const struct { u128 at; unsigned plen; } small[] = {
		{ V4(192, 168, 1, 0), 28 }, { V4(198, 51, 100, 0), 24 },
		{ V4(10, 0, 0, 0), 8 } };
	u128 at;
	unsigned plen;
	char a[40];

	if (c->small) {
		unsigned k = pick(c, 3);

		at = small[k].at;
		plen = small[k].plen;
	} else
		switch (pick(c, 4)) {
		case 0:
			plen = 28;
			at = V4(192, 168, 1, pick(c, 16) * 16);
			break;
		case 1:
			plen = 24;
			at = V4(198, 51, pick(c, 256), 0);
			break;
		case 2:
			plen = 24;
			at = V4(100, 64, pick(c, 64), 0);
			break;
		default:
			plen = 16;
			at = V4(10, pick(c, 256), 0, 0);
		}
	addr_text(at, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, plen);
	return iset_range(c->a, at, at + ((u128)1 << (32 - plen)) - 1);
}

static void
make_aliases(struct gctx *c, struct strbuf *b)
{
	size_t n = c->small || c->g->cap < 32 ? 3 : c->g->cap / 8, i, k;

	c->al = calloc(n, sizeof(*c->al));
	strbuf_puts(b, "\t<aliases>\n");
	for (i = 0; i < n; i++) {
		struct galias *al = &c->al[i];
		/* the first three: one of each kind */
		unsigned kind = i == 0 ? 0 : i == 1 ? 8 : i == 2 ? 17 :
		    pick(c, 20);
		size_t m;
		char w[64];
		const char *type;

		memset(&al->set, 0, sizeof(al->set));
		strbuf_puts(b, "\t\t<alias>\n");
		if (kind >= 17) {
			/* ports and ranges */
			al->port = true;
			snprintf(al->name, sizeof(al->name), "ports%zu", i);
			strbuf_printf(b, "\t\t\t<name>%s</name>\n\t\t\t<type>"
			    "port</type>\n\t\t\t<address>", al->name);
			for (k = 0, m = 1 + pick(c, 3); k < m; k++) {
				unsigned lo = ports[pick(c, 15)], hi = lo;

				if (pick(c, 4) == 0)
					hi = lo + 1 + pick(c, 20);
				if (hi > lo)
					strbuf_printf(b, "%s%u:%u", k ? " " :
					    "", lo, hi);
				else
					strbuf_printf(b, "%s%u", k ? " " : "",
					    lo);
				al->set = iset_union(c->a, al->set,
				    iset_range(c->a, lo, hi));
			}
			strbuf_puts(b, "</address>\n\t\t</alias>\n");
			continue;
		}
		type = kind < 8 ? "host" : "network";
		snprintf(al->name, sizeof(al->name), "%s%zu", type[0] == 'h' ?
		    "hosts" : "nets", i);
		strbuf_printf(b, "\t\t\t<name>%s</name>\n\t\t\t<type>%s"
		    "</type>\n\t\t\t<address>", al->name, type);
		for (k = 0, m = 1 + pick(c, 3); k < m; k++) {
			struct iset s;
			size_t j;

			/* a member that names an earlier alias: nested */
			j = i > 0 && pick(c, 5) == 0 ? pick(c, (unsigned)i) : i;
			if (j < i && !c->al[j].port) {
				snprintf(w, sizeof(w), "%s", c->al[j].name);
				s = c->al[j].set;
			} else if (type[0] == 'h')
				s = host(c, w, sizeof(w));
			else
				s = network(c, w, sizeof(w));
			strbuf_printf(b, "%s%s", k ? " " : "", w);
			al->set = iset_union(c->a, al->set, s);
		}
		strbuf_puts(b, "</address>\n\t\t</alias>\n");
		c->nal = i + 1;
	}
	c->nal = n;
	strbuf_puts(b, "\t</aliases>\n");
}

/* One side of a rule (addresses): written to b, its set (negation
 * applied, IPv4 only) returned. */
static struct iset
side(struct gctx *c, struct strbuf *b)
{
	struct pfgen *g = c->g;
	struct iset s, v4 = iset_range(c->a, V4_BASE, V4_LAST);
	char w[64];
	unsigned k = pick(c, 20), i;
	bool neg = k != 0 && pick(c, 7) == 0;

	if (k < 5) {
		strbuf_puts(b, "<any/>");
		return v4;
	}
	if (neg)
		strbuf_puts(b, "<not/>");
	if (k < 9) {
		s = host(c, w, sizeof(w));
		strbuf_printf(b, "<address>%s</address>", w);
	} else if (k < 12) {
		s = network(c, w, sizeof(w));
		strbuf_printf(b, "<address>%s</address>", w);
	} else if (k < 16) {
		struct galias *al;

		do
			al = &c->al[pick(c, (unsigned)c->nal)];
		while (al->port);
		s = al->set;
		strbuf_printf(b, "<address>%s</address>", al->name);
	} else if (k < 19) {
		/* an interface's network or address */
		i = pick(c, (unsigned)g->niface);
		if (pick(c, 2) == 0) {
			u128 lo = c->net[i];

			strbuf_printf(b, "<network>%s</network>", g->key[i]);
			s = iset_range(c->a, lo, lo + 255);
		} else {
			strbuf_printf(b, "<network>%sip</network>", g->key[i]);
			s = iset_range(c->a, g->ip[i], g->ip[i]);
		}
	} else {
		strbuf_puts(b, "<network>(self)</network>");
		s.n = 0;
		s.v = NULL;
		for (i = 0; i < g->niface; i++)
			s = iset_union(c->a, s, iset_range(c->a, g->ip[i],
			    g->ip[i]));
	}
	if (neg)
		s = iset_complement(c->a, s, 0, U128_MAX);
	return iset_inter(c->a, s, v4);
}

static void
keys(struct gctx *c, struct iset *s, unsigned proto, struct iset ports_)
{
	size_t i;

	for (i = 0; i < ports_.n; i++)
		*s = iset_union(c->a, *s, iset_range(c->a, (u128)proto << 16 |
		    ports_.v[i].lo, (u128)proto << 16 | ports_.v[i].hi));
}

static void
rule(struct gctx *c, struct strbuf *b, struct pfgen_rule *r, unsigned index)
{
	struct pfgen *g = c->g;
	static const char *const types[] = { "pass", "block", "reject" };
	unsigned k = pick(c, 20), i, proto = pick(c, 10);
	struct strbuf sd;
	struct iset pset;
	char w[64];

	memset(r, 0, sizeof(*r));
	r->index = index;
	r->action = k < 11 ? PFGEN_PASS : k < 17 ? PFGEN_BLOCK : PFGEN_REJECT;
	r->floating = pick(c, 10) == 0;
	r->quick = !r->floating || pick(c, 2) == 0;
	r->disabled = pick(c, 30) == 0;
	strbuf_printf(b, "\t\t<rule>\n\t\t\t<type>%s</type>\n",
	    types[r->action]);
	if (r->floating) {
		for (i = 0; i < g->niface; i++)
			if (pick(c, 2) == 0)
				r->ifs |= 1u << i;
		if (r->ifs == 0)
			r->ifs = 1u << pick(c, (unsigned)g->niface);
		strbuf_puts(b, "\t\t\t<interface>");
		for (i = 0, k = 0; i < g->niface; i++)
			if (r->ifs & 1u << i)
				strbuf_printf(b, "%s%s", k++ ? "," : "",
				    g->key[i]);
		strbuf_printf(b, "</interface>\n\t\t\t<floating>yes</floating>"
		    "\n%s\t\t\t<direction>in</direction>\n", r->quick ?
		    "\t\t\t<quick>yes</quick>\n" : "");
	} else {
		i = pick(c, (unsigned)g->niface);
		r->ifs = 1u << i;
		strbuf_printf(b, "\t\t\t<interface>%s</interface>\n",
		    g->key[i]);
	}
	strbuf_puts(b, "\t\t\t<ipprotocol>inet</ipprotocol>\n");
	/* protocol: any, tcp, udp, tcp/udp, icmp */
	r->any_svc = proto < 3;
	if (proto >= 3 && proto < 9)
		strbuf_printf(b, "\t\t\t<protocol>%s</protocol>\n",
		    proto < 6 ? "tcp" : proto < 8 ? "udp" : "tcp/udp");
	else if (proto == 9) {
		strbuf_puts(b, "\t\t\t<protocol>icmp</protocol>\n");
		if (pick(c, 2) == 0) {
			strbuf_puts(b, "\t\t\t<icmptype>echoreq</icmptype>\n");
			r->svc = iset_range(c->a, (u128)1 << 16 | 8,
			    (u128)1 << 16 | 8);
		} else
			r->svc = iset_range(c->a, (u128)1 << 16,
			    (u128)1 << 16 | 255);
	}
	strbuf_puts(b, "\t\t\t<source>");
	r->src = side(c, b);
	strbuf_puts(b, "</source>\n");
	strbuf_init(&sd, 0);
	r->dst = side(c, &sd);
	/* the destination's port: any, one, a range, an alias */
	pset = iset_range(c->a, 0, 65535);
	if (proto >= 3 && proto < 9 && (k = pick(c, 10)) >= 4) {
		unsigned lo = ports[pick(c, 15)], hi = lo;

		if (k < 7)
			strbuf_printf(&sd, "<port>%u</port>", lo);
		else if (k < 8) {
			hi = lo + 1 + pick(c, 100);
			strbuf_printf(&sd, "<port>%u:%u</port>", lo, hi);
		} else {
			struct galias *al;

			do
				al = &c->al[pick(c, (unsigned)c->nal)];
			while (!al->port);
			strbuf_printf(&sd, "<port>%s</port>", al->name);
			pset = al->set;
		}
		if (k < 8)
			pset = iset_range(c->a, lo, hi);
	}
	if (proto >= 3 && proto < 6)
		keys(c, &r->svc, 6, pset);
	else if (proto >= 6 && proto < 8)
		keys(c, &r->svc, 17, pset);
	else if (proto == 8) {
		keys(c, &r->svc, 6, pset);
		keys(c, &r->svc, 17, pset);
	}
	strbuf_printf(b, "\t\t\t<destination>%s</destination>\n",
	    strbuf_str(&sd));
	strbuf_free(&sd);
	if (r->disabled)
		strbuf_puts(b, "\t\t\t<disabled></disabled>\n");
	snprintf(w, sizeof(w), "generated rule %u", r->index);
	strbuf_printf(b, "\t\t\t<descr>%s</descr>\n\t\t</rule>\n", w);
}

/* Up to three port forwards on WAN, to hosts on LAN. */
static void
forwards(struct gctx *c, struct strbuf *b)
{
	struct pfgen *g = c->g;
	size_t i, n = pick(c, 4);
	char w[40];

	if (n == 0)
		return;
	strbuf_puts(b, "\t<nat>\n");
	for (i = 0; i < n; i++) {
		struct pfgen_rdr *r = &g->rdrs[g->nrdr++];
		unsigned k = pick(c, 10), local;

		r->port = ports[pick(c, 15)];
		r->target = V4(192, 168, 1, c->small ? 10 : 2 + pick(c, 250));
		local = pick(c, 3) == 0 ? ports[pick(c, 15)] : r->port;
		r->shift = (int)local - (int)r->port;
		r->pass = k < 3;
		r->nordr = k == 3;
		addr_text(r->target, w, sizeof(w));
		strbuf_printf(b, "\t\t<rule>\n\t\t\t<interface>wan"
		    "</interface>\n\t\t\t<protocol>tcp</protocol>\n"
		    "\t\t\t<source><any/></source>\n"
		    "\t\t\t<destination><network>wanip</network>"
		    "<port>%u</port></destination>\n\t\t\t<target>%s</target>\n"
		    "\t\t\t<local-port>%u</local-port>\n%s%s\t\t</rule>\n",
		    r->port, w, local, r->pass ? "\t\t\t<associated-rule-id>"
		    "pass</associated-rule-id>\n" : "", r->nordr ?
		    "\t\t\t<nordr></nordr>\n" : "");
	}
	strbuf_puts(b, "\t</nat>\n");
}

void
pfgen_make(struct pfgen *g, struct arena *a, unsigned nrules, unsigned seed,
    int flags)
{
	static const char *const keys_[] = { "wan", "lan", "opt1", "opt2" };
	static const char *const names[] = { "WAN", "LAN", "DMZ", "Guests" };
	static const char *const devs[] = { "em0", "em1", "em2", "em3" };
	static const unsigned ips[][4] = { { 203, 0, 113, 2 },
		{ 192, 168, 1, 1 }, { 172, 16, 0, 1 }, { 10, 20, 0, 1 } };
	struct gctx c;
	struct strbuf *b = &g->xml;
	size_t i;
	char w[40];

	memset(g, 0, sizeof(*g));
	memset(&c, 0, sizeof(c));
	c.g = g;
	c.a = a;
	c.small = (flags & PFGEN_SMALL) != 0;
	c.r.s = seed * 0x9e3779b97f4a7c15ULL + 1;
	strbuf_init(b, 0);
	g->niface = c.small ? 3 : 4;
	g->antilockout = true;
	g->cap = nrules;
	/* as pfSense's factory config: no NAT reflection */
	strbuf_puts(b, "<?xml version=\"1.0\"?>\n<pfsense>\n\t<system>\n"
	    "\t\t<disablenatreflection>yes</disablenatreflection>\n"
	    "\t</system>\n\t<interfaces>\n");
	for (i = 0; i < g->niface; i++) {
		g->key[i] = keys_[i];
		g->name[i] = names[i];
		g->ip[i] = V4(ips[i][0], ips[i][1], ips[i][2], ips[i][3]);
		c.net[i] = g->ip[i] & ~(u128)255;
		addr_text(g->ip[i], w, sizeof(w));
		strbuf_printf(b, "\t\t<%s>\n", g->key[i]);
		if (i >= 2)
			strbuf_printf(b, "\t\t\t<descr>%s</descr>\n", names[i]);
		strbuf_printf(b, "\t\t\t<enable></enable>\n\t\t\t<if>%s</if>\n"
		    "\t\t\t<ipaddr>%s</ipaddr>\n\t\t\t<subnet>24</subnet>\n"
		    "\t\t</%s>\n", devs[i], w, g->key[i]);
	}
	strbuf_puts(b, "\t</interfaces>\n");
	make_aliases(&c, b);
	g->rules = arena_array(a, nrules + 1, sizeof(*g->rules));
	strbuf_puts(b, "\t<filter>\n");
	for (i = 0; i < nrules; i++) {
		rule(&c, b, &g->rules[i], (unsigned)i + 1);
		g->n = i + 1;
	}
	strbuf_puts(b, "\t</filter>\n");
	if (flags & PFGEN_FORWARDS)
		forwards(&c, b);
	strbuf_puts(b, "</pfsense>\n");
	free(c.al);
}

void
pfgen_free(struct pfgen *g)
{
	strbuf_free(&g->xml);
	memset(g, 0, sizeof(*g));
}

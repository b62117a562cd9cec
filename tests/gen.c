/* gen.c: random policies and flows; see gen.h. */
#include "gen.h"

#include <stdio.h>
#include <string.h>

uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return n == 0 ? 0 : rng_next(r) % n;
}

static bool
chance(struct rng *r, int percent)
{
	return (int)rng_below(r, 100) < percent;
}

/* DENSE: 10.0.0.0/27, 192.168.1.0/28 and 2001:db8::/124 only. */
static void
dense_addr(struct rng *r, int family, struct strbuf *b)
{
	static const char *const edge4[] = { "0.0.0.0/0", "0.0.0.0/1",
	    "128.0.0.0/1" };
	static const char *const edge6[] = { "::/0", "::/1", "8000::/1",
	    "::/64", "::fffe:0:0/95", "::-2001:db8::8" };
	int k = (int)rng_below(r, 10);

	/* Networks at the edges of the families (base/addr.h): an IPv6 one
	 * never holds an IPv4 address, whatever its numbers. */
	if (chance(r, 6)) {
		strbuf_puts(b, family == 4 ? edge4[rng_below(r, 3)] :
		    edge6[rng_below(r, 6)]);
		return;
	}
	/* One family per rule keeps most generated rules valid. */
	if (family == 4 && k >= 6 && k <= 8)
		k -= 6;
	else if (family == 6 && (k < 6 || k > 8))
		k = 6 + k % 3;
	unsigned a = (unsigned)rng_below(r, 32), c = (unsigned)rng_below(r, 16);

	switch (k) {
	case 0:
	case 1:
		strbuf_printf(b, "10.0.0.%u", a);
		break;
	case 2:
		strbuf_printf(b, "10.0.0.%u/%u", a & ~7u, 29u);
		break;
	case 3:
		strbuf_printf(b, "10.0.0.%u-10.0.0.%u", a / 2, a / 2 + c);
		break;
	case 4:
		strbuf_printf(b, "192.168.1.%u", c);
		break;
	case 5:
		strbuf_printf(b, "192.168.1.%u/255.255.255.%u", c & ~3u, 252u);
		break;
	case 6:
		strbuf_printf(b, "2001:db8::%x", c);
		break;
	case 7:
		strbuf_printf(b, "2001:db8::%x/126", c & ~3u);
		break;
	case 8:
		strbuf_printf(b, "2001:db8::%x-2001:db8::%x", c / 2, c / 2 + 5);
		break;
	default:
		strbuf_puts(b, "10.0.0.0/27");
		break;
	}
}

/* OFFICE: hosts all over the IPv4 space, some /24s, some IPv6. */
static void
office_addr(struct rng *r, int family, struct strbuf *b)
{
	uint64_t x = rng_next(r);
	unsigned a = (unsigned)(x >> 8);
	int k = (int)(x % 8);

	if (family == 6)
		k = 1;
	else if (family == 4 && k == 1)
		k = 3;
	switch (k) {
	case 0:
		strbuf_printf(b, "%u.%u.%u.0/24", 1 + (a >> 24) % 223,
		    (a >> 16) & 255, (a >> 8) & 255);
		break;
	case 1:
		strbuf_printf(b, "2001:db8:%x::%x", a & 0xffff, (a >> 16) &
		    0xffff);
		break;
	case 2:
		strbuf_printf(b, "192.168.%u.%u", (a >> 8) & 15, a & 255);
		break;
	default:
		strbuf_printf(b, "%u.%u.%u.%u", 1 + (a >> 24) % 223,
		    (a >> 16) & 255, (a >> 8) & 255, a & 255);
		break;
	}
}

static const char *const ifaces[] = { "LAN", "WAN", "DMZ" };
static const char *const builtin_objs[] = {
	"ANY", "LANIP", "LANNET", "WANIP", "WANNET", "DMZNET",
};
static const char *const builtin_svcs[] = {
	"SMTP", "HTTP", "HTTPS", "DNS", "SSH", "PING", "NTP", "SUBMISSION",
	"GRE",
};

static void
addr_elem(struct rng *r, const struct gen_opts *o, int nobj, int family,
    struct strbuf *b)
{
	int k = (int)rng_below(r, 10);

	/* In an office, objects hold IPv4 hosts; IPv6 rules name literals. */
	if (o->mode == GEN_OFFICE && family == 6)
		k = k < 4 ? 9 : k;
	if (k < 3 && nobj > 0)
		strbuf_printf(b, "OBJ%d", (int)rng_below(r, (uint64_t)nobj));
	else if (k < 4)
		strbuf_puts(b, builtin_objs[o->mode == GEN_OFFICE || o->v4_only ?
		    (family == 6 ? 0 : rng_below(r, 5)) : rng_below(r, 6)]);
	else if (o->mode == GEN_DENSE)
		dense_addr(r, family, b);
	else
		office_addr(r, family, b);
}

static void
addr_expr(struct rng *r, const struct gen_opts *o, int nobj, bool bang,
    int family, struct strbuf *b)
{
	int i, n;

	if (bang && chance(r, 15))
		strbuf_putc(b, '!');
	if (!chance(r, 20)) {
		addr_elem(r, o, nobj, family, b);
		return;
	}
	n = 1 + (int)rng_below(r, 3);
	strbuf_puts(b, "{ ");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_puts(b, ", ");
		addr_elem(r, o, nobj, family, b);
	}
	strbuf_puts(b, " }");
}

static void
port_item(struct rng *r, const struct gen_opts *o, struct strbuf *b)
{
	static const unsigned common[] = { 22, 25, 53, 80, 443, 587, 993 };
	unsigned p = o->mode == GEN_DENSE ? common[rng_below(r, 7)] :
	    1 + (unsigned)rng_below(r, 65000);

	if (chance(r, 25))
		strbuf_printf(b, "%u-%u", p, p + (unsigned)rng_below(r, 500));
	else
		strbuf_printf(b, "%u", p);
}

static void
service_def(struct rng *r, const struct gen_opts *o, int i, struct strbuf *b)
{
	int n = 1 + (int)rng_below(r, 2), j, k, m;
	static const char *const protos[] = { "tcp", "udp", "tcp", "icmp",
	    "icmpv6", "esp" };

	strbuf_printf(b, "service SVC%d", i);
	for (j = 0; j < n; j++) {
		/* Office services are ports, usable in both families. */
		const char *pr = protos[rng_below(r, o->mode == GEN_OFFICE ||
		    o->v4_only ? 3 : 6)];

		strbuf_printf(b, " %s", pr);
		if (pr[0] == 'e')
			continue;
		if (pr[0] == 'i') {
			if (chance(r, 70))
				strbuf_puts(b, chance(r, 50) ? " echo-request" :
				    " 3");
			continue;
		}
		if (chance(r, 10))
			continue;	/* every port */
		m = 1 + (int)rng_below(r, 3);
		for (k = 0; k < m; k++) {
			strbuf_putc(b, k == 0 ? ' ' : ',');
			port_item(r, o, b);
		}
	}
	strbuf_putc(b, '\n');
}

static void
svc_ref(struct rng *r, const struct gen_opts *o, struct strbuf *b)
{
	if (o->nservices > 0 && chance(r, 50))
		strbuf_printf(b, "SVC%d", (int)rng_below(r,
		    (uint64_t)o->nservices));
	else
		strbuf_puts(b, builtin_svcs[rng_below(r, 9)]);
}

/*
 * A large office: what policies of 100,000 rules are made of.  Objects are
 * groups of a few hosts; most rules are a blocklist on WAN (one address or
 * network each) and per-host rules on LAN and DMZ; a handful of broad rules
 * close each interface's list.
 */
static void
gen_office(struct rng *r, const struct gen_opts *o, struct strbuf *b)
{
	static const char *const actions[] = { "accept", "deny", "reject" };
	int i, j, n;

	strbuf_puts(b, "interface LAN device eth1 address 10.0.0.1/8 "
	    "address 2001:db8:1::1/64\n"
	    "interface WAN device eth0 address 192.0.2.2/24\n"
	    "interface DMZ device eth2 address 172.16.0.1/12\n");
	for (i = 0; i < o->nobjects; i++) {
		n = 1 + (int)rng_below(r, 6);
		strbuf_printf(b, "object OBJ%d { ", i);
		for (j = 0; j < n; j++) {
			if (j > 0)
				strbuf_puts(b, ", ");
			if (i > 0 && chance(r, 5))
				strbuf_printf(b, "OBJ%d", (int)rng_below(r,
				    (uint64_t)i));
			else
				strbuf_printf(b, "10.%u.%u.%u",
				    (unsigned)rng_below(r, 256),
				    (unsigned)rng_below(r, 256),
				    (unsigned)rng_below(r, 254) + 1);
		}
		strbuf_puts(b, " }\n");
	}
	for (i = 0; i < o->nservices; i++)
		service_def(r, o, i, b);
	for (i = 0; i < o->nrules; i++) {
		int kind = (int)rng_below(r, 100);
		bool tail = i >= o->nrules - o->nrules / 1000 - 3;

		if (tail) {		/* the closing broad rules */
			strbuf_printf(b, "%s on %s", actions[rng_below(r, 3)],
			    ifaces[rng_below(r, 3)]);
			if (chance(r, 50)) {
				strbuf_puts(b, " service ");
				svc_ref(r, o, b);
			}
		} else if (kind < 55) {	/* blocklist */
			strbuf_puts(b, "deny on WAN from ");
			office_addr(r, chance(r, 90) ? 4 : 6, b);
			if (chance(r, 10))
				strbuf_puts(b, " log");
		} else {		/* a host's rule */
			bool lan = kind < 90;

			strbuf_printf(b, "%s on %s from ",
			    actions[rng_below(r, 3)], lan ? "LAN" : "DMZ");
			if (o->nobjects > 0 && chance(r, 40))
				strbuf_printf(b, "OBJ%d", (int)rng_below(r,
				    (uint64_t)o->nobjects));
			else
				strbuf_printf(b, "%u.%u.%u.%u", lan ? 10 : 172,
				    ((unsigned)rng_below(r, 256) & (lan ? 255 :
				    15)) | (lan ? 0 : 16),
				    (unsigned)rng_below(r, 256),
				    (unsigned)rng_below(r, 254) + 1);
			strbuf_puts(b, " to ");
			if (chance(r, 30))
				strbuf_puts(b, "ANY");
			else
				office_addr(r, 4, b);
			strbuf_puts(b, " service ");
			svc_ref(r, o, b);
			if (chance(r, 5))
				strbuf_printf(b, " comment \"ticket %d\"", i);
		}
		strbuf_putc(b, '\n');
	}
	strbuf_puts(b, "nat masquerade on WAN\n");
}

/* schedule Si with a window or two: every form of days, windows that
 * cross midnight, 24:00 as an end. */
static void
schedule_def(struct rng *r, int i, struct strbuf *b)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu",
	    "fri", "sat" };
	int w, n = 1 + (int)rng_below(r, 2);

	strbuf_printf(b, "schedule S%d", i);
	for (w = 0; w < n; w++) {
		unsigned start = (unsigned)rng_below(r, 24 * 4) * 15, end;

		switch (rng_below(r, 4)) {
		case 0:
			strbuf_puts(b, " daily");
			break;
		case 1:
			strbuf_printf(b, " %s", days[rng_below(r, 7)]);
			break;
		case 2:
			strbuf_printf(b, " %s-%s", days[rng_below(r, 7)],
			    days[rng_below(r, 7)]);
			break;
		default:
			strbuf_printf(b, " %s,%s", days[rng_below(r, 7)],
			    days[rng_below(r, 7)]);
			break;
		}
		do
			end = chance(r, 10) ? 24 * 60 :
			    (unsigned)rng_below(r, 24 * 4) * 15;
		while (end == start);
		strbuf_printf(b, " %02u:%02u-%02u:%02u", start / 60, start % 60,
		    end / 60, end % 60);
	}
	strbuf_putc(b, '\n');
}

/* Two IPv4 gateways on WAN (a group of them, now and then a default)
 * and an IPv6 one on DMZ, their optional parts at random. */
static void
gateways_def(struct rng *r, struct strbuf *b)
{
	static const char *const via[] = { "192.168.1.1", "192.168.1.3",
	    "2001:db8::a" };
	int i;

	for (i = 0; i < 3; i++) {
		strbuf_printf(b, "gateway G%d on %s via %s", i, i < 2 ? "WAN" :
		    "DMZ", via[i]);
		if (chance(r, 40))
			strbuf_puts(b, i < 2 ? " monitor 9.9.9.9" :
			    " monitor 2001:db8:99::1");
		if (chance(r, 40))
			strbuf_printf(b, " loss %u%%",
			    1 + (unsigned)rng_below(r, 100));
		if (chance(r, 40))
			strbuf_printf(b, " latency %ums",
			    1 + (unsigned)rng_below(r, 60000));
		strbuf_putc(b, '\n');
	}
	i = chance(r, 50);
	strbuf_printf(b, "gateway-group GG G%d G%d tier %u\n", i, 1 - i,
	    1 + (unsigned)rng_below(r, 5));
	if (chance(r, 50))
		strbuf_puts(b, chance(r, 50) ? "default-gateway G1\n" :
		    "default-gateway G2 GG\n");
}

void
gen_policy(struct rng *r, const struct gen_opts *o, struct strbuf *b)
{
	static const char *const actions[] = { "accept", "deny", "reject" };
	int i, j, n, nsched, act;

	if (o->mode == GEN_OFFICE) {
		gen_office(r, o, b);
		return;
	}
	strbuf_puts(b, "interface LAN device eth1 address 10.0.0.1/27");
	if (chance(r, 50))
		strbuf_puts(b, " address 2001:db8::1/124");
	strbuf_puts(b, "\ninterface WAN device eth0 address 192.168.1.2/28");
	if (chance(r, 30))
		strbuf_puts(b, " default reject");
	strbuf_puts(b, "\ninterface DMZ device eth2 address 2001:db8::9/125");
	if (chance(r, 50))
		strbuf_puts(b, " default accept");
	strbuf_putc(b, '\n');
	if (chance(r, 20))
		strbuf_puts(b, "anti-lockout off\n");
	for (i = 0; i < o->nobjects; i++) {
		strbuf_printf(b, "object OBJ%d ", i);
		/* Objects refer only to earlier ones: no cycles. */
		addr_expr(r, o, i, false, o->v4_only ? 4 : 0, b);
		strbuf_putc(b, '\n');
	}
	for (i = 0; i < o->nservices; i++)
		service_def(r, o, i, b);
	nsched = o->schedules ? (int)rng_below(r, 4) : 0;
	for (i = 0; i < nsched; i++)
		schedule_def(r, i, b);
	if (o->gateways)
		gateways_def(r, b);
	for (i = 0; i < o->nrules; i++) {
		int family = o->v4_only || chance(r, 70) ? 4 : 6;
		/* An office's broad rules (ANY, excludes, every service) come
		 * last, after the specific ones; a dense policy mixes them. */
		bool broad = o->mode == GEN_DENSE || i >= o->nrules * 98 / 100;

		act = (int)rng_below(r, 3);
		strbuf_printf(b, "%s on %s", actions[act],
		    ifaces[o->mode == GEN_DENSE ? rng_below(r, 3) :
		    rng_below(r, 2)]);
		if (!broad || !chance(r, 10)) {
			strbuf_puts(b, " from ");
			addr_expr(r, o, o->nobjects, broad, family, b);
		}
		if (!broad || !chance(r, 10)) {
			/* Now and then a destination of the other family: a
			 * rule that never matches (lint says so). */
			if (!o->v4_only && chance(r, 4))
				family = 10 - family;
			strbuf_puts(b, " to ");
			addr_expr(r, o, o->nobjects, broad, family, b);
		}
		if (!broad || !chance(r, 20)) {
			strbuf_puts(b, " service ");
			if (chance(r, 20)) {
				n = 1 + (int)rng_below(r, 3);
				strbuf_puts(b, "{ ");
				for (j = 0; j < n; j++) {
					if (j > 0)
						strbuf_puts(b, ", ");
					svc_ref(r, o, b);
				}
				strbuf_puts(b, " }");
			} else
				svc_ref(r, o, b);
		}
		if (nsched > 0 && chance(r, 35))
			strbuf_printf(b, " schedule S%u",
			    (unsigned)rng_below(r, (uint64_t)nsched));
		/* Of the rule's source family: a destination of the other
		 * makes a rule that never matches, and takes any. */
		if (o->gateways && act == 0 && chance(r, 30))
			strbuf_puts(b, family == 6 ? " gateway G2" : chance(r, 50)
			    ? " gateway GG" : " gateway G0");
		if (chance(r, 10))
			strbuf_puts(b, " log");
		if (chance(r, 10))
			strbuf_printf(b, " comment \"rule \\\"%d\\\"\"", i);
		if (chance(r, 8))
			strbuf_puts(b, " disabled");
		strbuf_putc(b, '\n');
	}
	if (chance(r, 30))
		strbuf_printf(b, "nat source on WAN from %s%s translate %s\n",
		    chance(r, 50) ? "LANNET" : "{ 10.0.0.0/28, 2001:db8::/126 }",
		    chance(r, 50) ? " to !WANNET service { SMTP, PING }" : "",
		    chance(r, 30) ? "none" : chance(r, 50) ? "masquerade" :
		    "192.168.1.9");
	if (chance(r, 50))
		strbuf_puts(b, "nat masquerade on WAN\n");
	if (chance(r, 60)) {
		strbuf_printf(b, "forward on WAN service %s to 10.0.0.%u",
		    chance(r, 50) ? "SMTP" : "{ HTTP, HTTPS }",
		    (unsigned)rng_below(r, 30) + 1);
		strbuf_puts(b, chance(r, 30) ? " reflection off\n" : "\n");
	}
}

/* A random member of set s, or a random address when s is empty. */
static u128
pick(struct rng *r, struct iset s)
{
	const struct ival *iv;
	u128 width;

	if (s.n == 0)
		return V4_BASE | (0x0a000000u + (unsigned)rng_below(r, 40));
	iv = &s.v[rng_below(r, s.n)];
	width = iv->hi - iv->lo;
	if (width == U128_MAX)
		return (u128)rng_next(r) << 64 | rng_next(r);
	return iv->lo + (((u128)rng_next(r) << 64 | rng_next(r)) %
	    (width + 1));
}

static u128
pool_addr(struct rng *r, bool v4)
{
	static const u128 v6base = (u128)0x20010db8u << 96;

	if (v4)
		return V4_BASE | (chance(r, 70) ? 0x0a000000u +
		    (unsigned)rng_below(r, 40) : 0xc0a80100u +
		    (unsigned)rng_below(r, 20));
	/* Some IPv6 addresses in ::/64 and in 8000::/1, around the edges. */
	if (chance(r, 10))
		return 2 + (unsigned)rng_below(r, 20);
	if (chance(r, 10))
		return (u128)0xfd00u << 112 | (unsigned)rng_below(r, 20);
	return v6base | (unsigned)rng_below(r, 20);
}

void
gen_flow(struct rng *r, const struct policy *p, struct flow *f)
{
	static const int protos[] = { 6, 6, 6, 17, 1, 58, 50, 47, 132 };
	static const unsigned ports[] = { 22, 25, 53, 80, 443, 587, 993, 8080 };
	const struct rule *ru = p->nrule > 0 && chance(r, 60) ?
	    p->rules[rng_below(r, p->nrule)] : NULL;
	bool v4;

	f->iface = p->ifaces[rng_below(r, p->niface)];
	if (ru != NULL) {
		/* Aim inside a rule, so that rules are really exercised. */
		u128 key = pick(r, ru->svc.set);

		f->iface = ru->iface;
		f->src = pick(r, ru->src.set);
		v4 = addr_family_of(f->src) == FAM_V4;
		f->dst = pick(r, ru->dst.set);
		if ((addr_family_of(f->dst) == FAM_V4) != v4)
			f->dst = pool_addr(r, v4);
		f->proto = (int)(key >> 16) & 0xff;
		f->dport = (unsigned)key & 0xffff;
		/* An ICMP type is a byte: a service of the whole protocol
		 * holds 0-65535 here, which no packet carries. */
		if (f->proto == 1 || f->proto == 58)
			f->dport &= 0xff;
		/* Inside its windows mostly, to see it decide; often at
		 * a window's edge, where off-by-ones live. */
		f->week_min = (unsigned)rng_below(r, SCHED_WEEK);
		if (ru->sched != NULL && ru->sched->n > 0 && chance(r, 40)) {
			const struct sched_window *w =
			    &ru->sched->v[rng_below(r, ru->sched->n)];
			unsigned len = w->end > w->start ? w->end - w->start :
			    SCHED_DAY - w->start + w->end;
			unsigned at[4] = { SCHED_WEEK - 1, 0, len - 1, len };

			f->week_min = ((unsigned)rng_below(r, 7) * SCHED_DAY +
			    w->start + at[rng_below(r, 4)]) % SCHED_WEEK;
		} else if (ru->sched != NULL && chance(r, 60))
			f->week_min = (unsigned)pick(r, ru->sched->set);
		return;
	}
	f->week_min = (unsigned)rng_below(r, SCHED_WEEK);
	v4 = chance(r, 60);
	f->src = pool_addr(r, v4);
	f->dst = chance(r, 15) ? (v4 ? V4_BASE | 0xc0a80102u :
	    ((u128)0x20010db8u << 96) | 9) : pool_addr(r, v4);
	f->proto = protos[rng_below(r, 9)];
	if (f->proto == 1 || f->proto == 58)
		f->dport = chance(r, 70) ? (f->proto == 1 ? 8 : 128) : 3;
	else
		f->dport = ports[rng_below(r, 8)];
}

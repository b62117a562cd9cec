/* ctgen.c: a conntrack dump for `moat test --batch` benchmarks: N lines of
 * `conntrack -L` (tcp, udp, icmp and others, IPv4 and IPv6, in the tool's
 * own layout: original direction, reply direction, flags) for flows
 * arriving on interface IF of policy POLICY.  Three in four flows are a
 * point inside a random rule of IF (its source, destination and service
 * intervals), the rest random addresses and ports, most of which no rule
 * matches.  Usage: ctgen POLICY N IF [SEED] > DUMP */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/load.h"
#include "policy/policy.h"
#include "gen.h"

/* A random point of interval set s whose family is fam (FAM_V4: inside
 * the IPv4 block), or 0 when s has none there (an empty set too: an
 * address dynamic or a feed's object before it is filled). */
static int
pick(struct rng *r, struct iset s, enum addr_family fam, u128 *out)
{
	size_t i, k = 0, at;
	u128 lo, hi;

	if (s.n == 0)
		return 0;
	for (i = 0; i < s.n; i++)
		k += s.v[i].hi >= V4_BASE && s.v[i].lo <= V4_LAST;
	if (fam == FAM_V4 && k == 0)
		return 0;
	for (;;) {	/* a random interval with a part of the family */
		at = rng_below(r, s.n);
		lo = s.v[at].lo;
		hi = s.v[at].hi;
		if (fam == FAM_V4) {
			if (hi < V4_BASE || lo > V4_LAST)
				continue;
			lo = lo < V4_BASE ? V4_BASE : lo;
			hi = hi > V4_LAST ? V4_LAST : hi;
		} else if (lo >= V4_BASE && hi <= V4_LAST) {
			if (k == s.n)
				return 0;
			continue;
		}
		break;
	}
	*out = hi - lo == U128_MAX ? (u128)rng_next(r) << 64 | rng_next(r) :
	    lo + ((u128)rng_next(r) << 64 | rng_next(r)) % (hi - lo + 1);
	if (fam == FAM_V6 && *out >= V4_BASE && *out <= V4_LAST)
		*out = (u128)0x20010db8u << 96 | rng_next(r);
	return 1;
}

static void
line(struct rng *r, u128 src, u128 dst, unsigned key, char *buf, size_t len)
{
	char s[ADDR_STRLEN], d[ADDR_STRLEN];
	unsigned proto = key >> 16, port = key & 0xffff;
	unsigned sport = 1024 + (unsigned)rng_below(r, 64511);
	unsigned long ttl = rng_below(r, 432000);
	int v6 = addr_family_of(src) == FAM_V6;

	addr_format(src, s, sizeof(s));
	addr_format(dst, d, sizeof(d));
	switch (proto) {
	case 6:
		snprintf(buf, len, "tcp      6 %lu ESTABLISHED src=%s dst=%s "
		    "sport=%u dport=%u src=%s dst=%s sport=%u dport=%u "
		    "[ASSURED] mark=0 use=1", ttl, s, d, sport, port, d, s,
		    port, sport);
		break;
	case 17:
		snprintf(buf, len, "udp      17 %lu src=%s dst=%s sport=%u "
		    "dport=%u src=%s dst=%s sport=%u dport=%u mark=0 use=1",
		    ttl % 180, s, d, sport, port, d, s, port, sport);
		break;
	case 1:
	case 58:
		snprintf(buf, len, "%s     %u %lu src=%s dst=%s type=%u code=0 "
		    "id=%u src=%s dst=%s type=%u code=0 id=%u mark=0 use=1",
		    v6 ? "icmpv6" : "icmp", proto, ttl % 30, s, d, port & 255,
		    sport, d, s, v6 ? 129 : 0, sport);
		break;
	default:
		snprintf(buf, len, "%-8s %u %lu src=%s dst=%s src=%s dst=%s "
		    "mark=0 use=1", proto == 47 ? "gre" : "unknown", proto,
		    ttl % 600, s, d, d, s);
		break;
	}
}

int
main(int argc, char **argv)
{
	struct policy *p;
	const struct rule **rules;
	const struct iface *in;
	struct rng r;
	char err[512], buf[512];
	size_t i, n, nrules = 0, tries, at;
	static const unsigned keys[] = { 6 << 16 | 80, 6 << 16 | 443,
	    17 << 16 | 53, 1 << 16 | 8, 6 << 16 | 25, 47 << 16 };

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: ctgen POLICY N IF [SEED]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	r.s = argc == 5 ? strtoull(argv[4], NULL, 10) : 27;
	if ((p = policy_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "ctgen: %s\n", err);
		return 1;
	}
	if (!policy_valid(p)) {
		diags_print(&p->diags, stderr);
		return 1;
	}
	if ((in = policy_iface(p, argv[3])) == NULL) {
		fprintf(stderr, "ctgen: no interface %s\n", argv[3]);
		return 1;
	}
	if ((rules = calloc(p->nrule + 1, sizeof(*rules))) == NULL)
		return 1;
	for (i = 0; i < p->nrule; i++)
		if (p->rules[i]->iface == in && !p->rules[i]->disabled)
			rules[nrules++] = p->rules[i];
	for (i = 0; i < n; i++) {
		u128 src = 0, dst = 0, key;
		unsigned k;

		for (tries = 0; nrules > 0 && rng_below(&r, 4) != 0 &&
		    tries < 8; tries++) {
			const struct rule *x = rules[rng_below(&r, nrules)];
			enum addr_family fam = rng_below(&r, 8) ? FAM_V4 :
			    FAM_V6;

			if (!pick(&r, x->src.set, fam, &src) ||
			    !pick(&r, x->dst.set, fam, &dst) ||
			    x->svc.set.n == 0)
				continue;
			at = rng_below(&r, x->svc.set.n);
			key = x->svc.set.v[at].lo + (u128)rng_below(&r,
			    (uint64_t)(x->svc.set.v[at].hi -
			    x->svc.set.v[at].lo) + 1);
			k = (unsigned)key;
			if ((k >> 16 == 1 && fam == FAM_V6) || (k >> 16 == 58 &&
			    fam == FAM_V4))
				continue;
			goto out;
		}
		/* a miss, most likely: anywhere, any port */
		if (rng_below(&r, 8)) {
			src = V4_BASE | (uint32_t)rng_next(&r);
			dst = V4_BASE | (uint32_t)rng_next(&r);
			k = keys[rng_below(&r, 6)];
			if (k >> 16 == 6 || k >> 16 == 17)
				k = (k & 0xffff0000u) | (unsigned)rng_below(&r,
				    65536);
		} else {
			src = (u128)0x20010db8u << 96 | rng_next(&r);
			dst = (u128)0x20010db8u << 96 | (u128)rng_next(&r)
			    << 32 | (uint32_t)rng_next(&r);
			k = keys[rng_below(&r, 6)];
			if (k >> 16 == 1)
				k = 58u << 16 | 128;
		}
out:
		line(&r, src, dst, k, buf, sizeof(buf));
		puts(buf);
	}
	free(rules);
	policy_free(p);
	return fflush(stdout) == EOF;
}

/* proof.c: the source's semantics and the comparison with moat's (see
 * proof.h).  The regions: for each interface, the cut points of every
 * source set, destination set and service set of both rule sets; between
 * two cuts neither set of rules changes its mind, so one flow of each
 * cell (its first) stands for all of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/eval.h"
#include "base/addr.h"
#include "import/proof.h"

#define MAX_CELLS	4000000	/* flows evaluated for one interface */
#define MAX_SHOWN	12	/* differing regions written per interface */
#define MAX_WORK	3e8	/* cells times rules, per interface */
#define MAX_KEPT	20000	/* regions kept to merge; past it, counted */

/* A region that differs: source cells s_lo..s_hi, one destination cell,
 * a run of services, and what decides it on both sides. */
struct region {
	size_t		 s_lo, s_hi, d;
	u128		 klo, khi;
	enum src_action	 sa;
	const char	*w;
	struct verdict	 v;
};

struct cuts {
	u128	*v;
	size_t	 n, cap;
};

static void
cut(struct arena *a, struct cuts *c, u128 x)
{
	ARENA_PUSH(a, c->v, c->n, c->cap);
	c->v[c->n - 1] = x;
}

static void
cut_set(struct arena *a, struct cuts *c, struct iset s)
{
	size_t i;

	for (i = 0; i < s.n; i++) {
		cut(a, c, s.v[i].lo);
		if (s.v[i].hi != U128_MAX)
			cut(a, c, s.v[i].hi + 1);
	}
}

static int
cmp128(const void *x, const void *y)
{
	u128 a = *(const u128 *)x, b = *(const u128 *)y;

	return a < b ? -1 : a > b;
}

static void
finish(struct cuts *c)
{
	size_t i, k = 0;

	qsort(c->v, c->n, sizeof(*c->v), cmp128);
	for (i = 0; i < c->n; i++)
		if (k == 0 || c->v[k - 1] != c->v[i])
			c->v[k++] = c->v[i];
	c->n = k;
}

/* The source's verdict: rdr first (the first that matches), then the
 * rules, the last that matches deciding unless a quick one matched. */
static const struct src_rule *
src_eval(const struct src_iface *f, u128 src, u128 dst, u128 key,
    const struct src_rdr **rdr)
{
	const struct src_rule *last = NULL;
	size_t i;

	*rdr = NULL;
	for (i = 0; i < f->nrdr; i++) {
		const struct src_rdr *r = &f->rdrs[i];

		if (iset_contains(r->src, src) && iset_contains(r->dst, dst) &&
		    iset_contains(r->svc, key)) {
			if (!r->nordr) {
				*rdr = r;
				dst = r->target;
				key += r->port_shift;
			}
			break;
		}
	}
	for (i = 0; i < f->n; i++) {
		const struct src_rule *r = &f->rules[i];

		if (!iset_contains(r->src, src) || !iset_contains(r->dst, dst) ||
		    (!r->any_svc && !iset_contains(r->svc, key)))
			continue;
		last = r;
		if (r->quick)
			break;
	}
	return last;
}

static const char *const act_name[] = { "pass", "block", "reject" };

/* pf's verdict and what decides it, in words. */
static enum src_action
pf_where(struct arena *a, const struct src_rule *pr,
    const struct src_rdr *rdr, const char **w)
{
	if (rdr != NULL && rdr->pass) {
		/* rdr pass: passed without the rules */
		*w = arena_printf(a, "rdr pass, %s", rdr->where);
		return SRC_PASS;
	}
	*w = pr != NULL ? pr->where : "its default";
	if (rdr != NULL)
		*w = arena_printf(a, "%s, redirected by %s", *w, rdr->where);
	return pr != NULL ? pr->action : SRC_BLOCK;
}

static void
range_text(u128 lo, u128 hi, char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	addr_format(lo, a, sizeof(a));
	if (lo == hi) {
		snprintf(buf, len, "%s", a);
		return;
	}
	addr_format(hi, b, sizeof(b));
	snprintf(buf, len, "%s-%s", a, b);
}

static void
svc_text(u128 lo, u128 hi, char *buf, size_t len)
{
	unsigned p = (unsigned)(lo >> 16), q = (unsigned)(hi >> 16);
	unsigned a = (unsigned)(lo & 0xffff), b = (unsigned)(hi & 0xffff);

	if (p != q)
		snprintf(buf, len, "protocols %u-%u", p, q);
	else if (p == 6 || p == 17 || p == 132)
		snprintf(buf, len, "%s %u%s%.0u", p == 6 ? "tcp" : p == 17 ?
		    "udp" : "sctp", a, a == b ? "" : "-", a == b ? 0 : b);
	else if (p == 1 || p == 58)
		snprintf(buf, len, "%s type %u%s%.0u", p == 1 ? "icmp" :
		    "icmpv6", a, a == b ? "" : "-", a == b ? 0 : b);
	else
		snprintf(buf, len, "protocol %u", p);
}

/* What moat decides, in words. */
static void
moat_text(const struct verdict *v, const struct iface *ifc, char *buf,
    size_t len)
{
	static const char *const an[] = { "accept", "deny", "reject" };

	switch (v->by) {
	case BY_RULE:
		snprintf(buf, len, "%s (rule %d, line %d)", an[v->action],
		    v->rule->number, v->rule->loc.line);
		break;
	case BY_ANTILOCKOUT:
		snprintf(buf, len, "accept (the anti-lockout rule)");
		break;
	case BY_FORWARD:
		snprintf(buf, len, "accept (a forward's accept)");
		break;
	default:
		snprintf(buf, len, "%s (the default of %s)", an[v->action],
		    ifc->name);
	}
}

static bool
same(enum src_action s, enum action m)
{
	return (s == SRC_PASS && m == ACT_ACCEPT) ||
	    (s == SRC_BLOCK && m == ACT_DENY) ||
	    (s == SRC_REJECT && m == ACT_REJECT);
}

static int
compare_iface(struct arena *a, const struct src_iface *f,
    const struct iface *ifc, const struct policy *p, struct strbuf *out)
{
	struct cuts cs = { 0 }, cd = { 0 }, ck = { 0 };
	size_t i, s, d, k, ndiff = 0, ncell = 0;
	struct region *regs = NULL;
	size_t nreg = 0, capreg = 0, nlost = 0;
	size_t *live, *next, nlive = 0, nnext = 0;

	/* The cuts of both sides. */
	cut(a, &cs, 0);
	cut(a, &cs, V4_BASE);
	cut(a, &cs, V4_LAST + 1);
	cut(a, &cd, 0);
	cut(a, &cd, V4_BASE);
	cut(a, &cd, V4_LAST + 1);
	cut(a, &ck, 0);
	for (i = 0; i < f->n; i++) {
		cut_set(a, &cs, f->rules[i].src);
		cut_set(a, &cd, f->rules[i].dst);
		cut_set(a, &ck, f->rules[i].svc);
	}
	for (i = 0; i < f->nrdr; i++) {
		cut_set(a, &cs, f->rdrs[i].src);
		cut_set(a, &cd, f->rdrs[i].dst);
		cut_set(a, &ck, f->rdrs[i].svc);
		cut(a, &cd, f->rdrs[i].target);
		cut(a, &cd, f->rdrs[i].target + 1);
	}
	for (i = 0; i < f->ncut_src; i++)
		cut(a, &cs, f->cut_src[i]);
	for (i = 0; i < f->ncut_dst; i++)
		cut(a, &cd, f->cut_dst[i]);
	for (i = 0; i < f->ncut_svc; i++)
		cut(a, &ck, f->cut_svc[i]);
	for (i = 0; i < p->nrule; i++) {
		const struct rule *r = p->rules[i];

		if (r->iface != ifc)
			continue;
		cut_set(a, &cs, r->src.set);
		cut_set(a, &cd, r->dst.set);
		cut_set(a, &ck, r->svc.set);
	}
	for (i = 0; i < p->nforward; i++) {
		const struct forward *fw = p->forwards[i];

		cut_set(a, &ck, fw->svc.set);
	}
	for (i = 0; i < ifc->naddr; i++) {
		cut(a, &cd, ifc->addrs[i].lit.lo);
		cut(a, &cd, ifc->addrs[i].lit.lo + 1);
	}
	for (i = 0; i < ifc->nbound; i++) {
		u128 lo, hi;

		cut(a, &cd, ifc->bound[i].lo);
		cut(a, &cd, ifc->bound[i].lo + 1);
		addr_network(ifc->bound[i].lo, ifc->bound[i].family,
		    ifc->bound[i].plen, &lo, &hi);
		cut(a, &cd, lo);
		if (hi != U128_MAX)
			cut(a, &cd, hi + 1);
	}
	/* the anti-lockout rule's services */
	cut(a, &ck, (u128)6 << 16 | 22);
	cut(a, &ck, (u128)6 << 16 | 23);
	cut(a, &ck, (u128)6 << 16 | 80);
	cut(a, &ck, (u128)6 << 16 | 81);
	cut(a, &ck, (u128)6 << 16 | 443);
	cut(a, &ck, (u128)6 << 16 | 444);
	cut(a, &ck, (u128)256 << 16);
	cut(a, &ck, (u128)1 << 16 | 256);
	cut(a, &ck, (u128)58 << 16 | 256);
	/* a cut inside a protocol ends at the next one: a cell never holds
	 * ports of one protocol and the next protocols (whose flows, of
	 * port 0, it would skip) */
	for (i = 0, k = ck.n; i < k; i++)
		if ((ck.v[i] & 0xffff) != 0 && (ck.v[i] >> 16) < 256)
			cut(a, &ck, ((ck.v[i] >> 16) + 1) << 16);
	finish(&cs);
	finish(&cd);
	finish(&ck);
	live = arena_array(a, MAX_KEPT, sizeof(*live));
	next = arena_array(a, MAX_KEPT, sizeof(*next));
	if (cs.n * cd.n > MAX_CELLS / (ck.n ? ck.n : 1)) {
		strbuf_printf(out, "  %s: not compared: more than %d regions\n",
		    ifc->name, MAX_CELLS);
		return 0;
	}
	/* the work: every cell evaluated on both sides */
	if ((double)cs.n * cd.n * ck.n * (double)((f->cost ? f->cost :
	    f->n + f->nrdr) + p->nrule + 1) > MAX_WORK) {
		strbuf_printf(out, "  %s: not compared: the regions times the "
		    "rules pass %.0f evaluations\n", ifc->name, MAX_WORK);
		return 0;
	}
	for (s = 0; s < cs.n; s++) {
		/* the regions that reach cell s-1, which s may extend */
		size_t *t = live;

		live = next;
		nlive = nnext;
		next = t;
		nnext = 0;
		for (d = 0; d < cd.n; d++) {
			u128 src = cs.v[s], dst = cd.v[d];
			size_t kstart = 0;
			const char *w0 = NULL;
			enum src_action sa0 = SRC_BLOCK;
			struct verdict v0;
			bool open = false;

			if ((src >= V4_BASE && src <= V4_LAST) !=
			    (dst >= V4_BASE && dst <= V4_LAST) ||
			    (f->v4_only && (src < V4_BASE || src > V4_LAST)))
				continue;
			memset(&v0, 0, sizeof(v0));
			for (k = 0; k <= ck.n; k++) {
				const struct src_rule *pr = NULL;
				const struct src_rdr *rdr = NULL;
				const char *w = NULL;
				struct verdict v;
				struct flow fl;
				enum src_action sa = SRC_BLOCK;
				bool differ = false;

				if (k < ck.n) {
					u128 key = ck.v[k];

					unsigned pn = (unsigned)(key >> 16);
					unsigned pt = (unsigned)(key & 0xffff);

					/* no flow has these: an ICMP type
					 * past 255, a port of a protocol
					 * without ports */
					if (pn > 255 || (pn != 6 && pn != 17 &&
					    pn != 132 && pt > (pn == 1 ||
					    pn == 58 ? 255u : 0u)))
						continue;
					ncell++;
					memset(&fl, 0, sizeof(fl));
					fl.iface = ifc;
					fl.src = src;
					fl.dst = dst;
					fl.proto = (int)(key >> 16);
					fl.dport = (unsigned)(key & 0xffff);
					policy_eval(p, &fl, &v);
					if (f->eval != NULL)
						sa = f->eval(f->arg, src, dst,
						    key, &w);
					else {
						pr = src_eval(f, src, dst, key,
						    &rdr);
						sa = pf_where(a, pr, rdr, &w);
					}
					differ = !same(sa, v.action);
				}
				/* A run of differing cells with the same
				 * deciders is one region. */
				if (open && (k == ck.n || !differ ||
				    sa != sa0 || strcmp(w, w0) != 0 ||
				    v.rule != v0.rule || v.by != v0.by)) {
					struct region r;
					size_t q;

					r.s_lo = r.s_hi = s;
					r.d = d;
					r.klo = ck.v[kstart];
					r.khi = k < ck.n ? ck.v[k] - 1 :
					    ((u128)256 << 16) - 1;
					r.sa = sa0;
					r.w = w0;
					r.v = v0;
					/* the same region as one that reaches
					 * the source cell before: one region */
					for (q = 0; q < nlive; q++) {
						const struct region *o =
						    &regs[live[q]];

						if (o->d == d &&
						    o->klo == r.klo &&
						    o->khi == r.khi &&
						    o->sa == r.sa &&
						    strcmp(o->w, r.w) == 0 &&
						    o->v.by == r.v.by &&
						    o->v.rule == r.v.rule &&
						    o->v.action == r.v.action)
							break;
					}
					if (q < nlive) {
						regs[live[q]].s_hi = s;
						next[nnext++] = live[q];
						live[q] = live[--nlive];
					} else if (nreg < MAX_KEPT) {
						ARENA_PUSH(a, regs, nreg,
						    capreg);
						regs[nreg - 1] = r;
						next[nnext++] = nreg - 1;
					} else
						nlost++;
					open = false;
				}
				if (differ && !open) {
					open = true;
					kstart = k;
					w0 = w;
					sa0 = sa;
					v0 = v;
				}
			}
		}
	}
	ndiff = nreg + nlost;
	for (i = 0; i < nreg && i < MAX_SHOWN; i++) {
		const struct region *r = &regs[i];
		char sb[100], db[100], kb[60], mb[120];

		range_text(cs.v[r->s_lo], r->s_hi + 1 < cs.n ?
		    cs.v[r->s_hi + 1] - 1 : U128_MAX, sb, sizeof(sb));
		range_text(cd.v[r->d], r->d + 1 < cd.n ? cd.v[r->d + 1] - 1 :
		    U128_MAX, db, sizeof(db));
		svc_text(r->klo, r->khi, kb, sizeof(kb));
		moat_text(&r->v, ifc, mb, sizeof(mb));
		if (i == 0)
			strbuf_printf(out, "  %s: differs:\n", ifc->name);
		strbuf_printf(out, "    from %s to %s, %s: the source %s (%s), "
		    "moat %s\n", sb, db, kb, act_name[r->sa], r->w, mb);
	}
	if (ndiff == 0)
		strbuf_printf(out, "  %s: equivalent (%zu regions)\n",
		    ifc->name, ncell);
	else if (ndiff > MAX_SHOWN)
		strbuf_printf(out, "    ... and %zu more regions\n",
		    ndiff - MAX_SHOWN);
	return ndiff > 0;
}

struct proof_probe *proof_probe;

/* The test seam's flows, each decided by both sides as compare_iface
 * decides a cell. */
static void
probe(struct arena *a, const struct src_model *m, const struct policy *p)
{
	size_t i, j;

	for (i = 0; i < proof_probe->nflow; i++) {
		struct proof_flow *pf = &proof_probe->flows[i];
		const struct src_iface *f = NULL;
		const struct iface *ifc = NULL;
		const struct src_rule *pr;
		const struct src_rdr *rdr;
		const char *w = NULL;
		struct verdict v;
		struct flow fl;

		pf->compared = false;
		for (j = 0; j < m->n; j++)
			if (strcmp(m->ifs[j].name, pf->iface) == 0)
				f = &m->ifs[j];
		for (j = 0; j < p->niface; j++)
			if (strcmp(p->ifaces[j]->name, pf->iface) == 0)
				ifc = p->ifaces[j];
		if (f == NULL || ifc == NULL || f->unproven != NULL ||
		    (f->v4_only && (pf->src < V4_BASE || pf->src > V4_LAST)))
			continue;
		memset(&fl, 0, sizeof(fl));
		fl.iface = ifc;
		fl.src = pf->src;
		fl.dst = pf->dst;
		fl.proto = (int)(pf->key >> 16);
		fl.dport = (unsigned)(pf->key & 0xffff);
		policy_eval(p, &fl, &v);
		if (f->eval != NULL)
			pf->sa = f->eval(f->arg, pf->src, pf->dst, pf->key, &w);
		else {
			pr = src_eval(f, pf->src, pf->dst, pf->key, &rdr);
			pf->sa = pf_where(a, pr, rdr, &w);
		}
		snprintf(pf->where, sizeof(pf->where), "%s", w);
		pf->ma = v.action;
		pf->compared = true;
	}
}

int
proof_compare(struct arena *a, const struct src_model *m,
    const struct policy *p, struct strbuf *out)
{
	size_t i, j;
	int ndiffer = 0;

	if (proof_probe != NULL)
		probe(a, m, p);

	strbuf_printf(out, "equivalence (the source as %s):\n",
	    m->semantics != NULL ? m->semantics : "pf decides it: the last "
	    "rule that matches unless a quick one did; block by default");
	for (i = 0; i < m->n; i++) {
		const struct src_iface *f = &m->ifs[i];
		const struct iface *ifc = NULL;

		for (j = 0; j < p->niface; j++)
			if (strcmp(p->ifaces[j]->name, f->name) == 0)
				ifc = p->ifaces[j];
		if (ifc == NULL)
			continue;
		if (f->unproven != NULL) {
			strbuf_printf(out, "  %s: not compared: %s\n", f->name,
			    f->unproven);
			continue;
		}
		ndiffer += compare_iface(a, f, ifc, p, out);
	}
	return ndiffer;
}

/* proof.c: the source's semantics and the comparison with moat's (see
 * proof.h, doc/design/import.md).  The regions: each interface's flow
 * space is cut in two, again and again, where either side may change its
 * mind (moat's side walked by diff.c's diff_side_walk, pf's by pf_walk
 * here, an opaque evaluator such as iptables' at its own cut points),
 * until neither can inside a cell; one flow of each cell (its first)
 * then stands for all of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/diff.h"
#include "analyze/eval.h"
#include "base/addr.h"
#include "import/proof.h"

#define MAX_CELLS	4000000	/* regions decided for one interface */
#define MAX_CELLS_TEXT	"4,000,000"
#define MAX_WORK	2e9	/* rules looked at, both sides (~5 s in a
				   release build) */
#define MAX_WORK_TEXT	"2,000,000,000"
#define MAX_SHOWN	12	/* differing regions written per interface */
#define MAX_KEPT	50000	/* regions kept to merge; past it, counted */

/* The source's verdict: rdr first (the first that matches), then the
 * rules, the last that matches deciding unless a quick one matched; of
 * the rules, only list[0..n) (in order) can match the flow. */
static const struct src_rule *
src_eval(const struct src_iface *f, const size_t *list, size_t n, u128 src,
    u128 dst, u128 key, const struct src_rdr **rdr)
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
	for (i = 0; i < n; i++) {
		const struct src_rule *r = &f->rules[list[i]];

		if (!iset_contains(r->src, src) ||
		    !iset_contains(r->dst, dst) ||
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

/* One protocol's keys a..b, in words. */
static void
svc_one(unsigned p, unsigned a, unsigned b, char *buf, size_t len)
{
	if (p == 6 || p == 17 || p == 132)
		snprintf(buf, len, "%s %u%s%.0u", p == 6 ? "tcp" : p == 17 ?
		    "udp" : "sctp", a, a == b ? "" : "-", a == b ? 0 : b);
	else if (p == 1 || p == 58) {
		if (b > 255)
			b = 255;
		snprintf(buf, len, "%s type %u%s%.0u", p == 1 ? "icmp" :
		    "icmpv6", a, a == b ? "" : "-", a == b ? 0 : b);
	} else
		snprintf(buf, len, "protocol %u", p);
}

/* Keys lo..hi in words: a protocol's ports or types, or whole protocols
 * with the ports of the first and last where they start or stop inside
 * them ("tcp 466-65535 and protocols 7-255"). */
static void
svc_text(u128 lo, u128 hi, char *buf, size_t len)
{
	unsigned p = (unsigned)(lo >> 16), q = (unsigned)(hi >> 16);
	unsigned a = (unsigned)(lo & 0xffff), b = (unsigned)(hi & 0xffff);
	char head[40] = "", mid[40] = "", tail[40] = "";

	if (p == q) {
		svc_one(p, a, b, buf, len);
		return;
	}
	if (a != 0)
		svc_one(p++, a, 0xffff, head, sizeof(head));
	if (b != 0xffff)
		svc_one(q--, 0, b, tail, sizeof(tail));
	if (p == q)
		snprintf(mid, sizeof(mid), "protocol %u", p);
	else if (p <= q)
		snprintf(mid, sizeof(mid), "protocols %u-%u", p, q);
	snprintf(buf, len, "%s%s%s%s%s", head, *head && (*mid || *tail) ?
	    " and " : "", mid, *mid && *tail ? " and " : "", tail);
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

/* ---- the walk: the flow space cut where either side may change its
 * mind (doc/design/import.md) ------------------------------------------ */

#define DEPTH_MAX	4000	/* cuts on one path: the stack's bound */
#define BALANCE_MIN	32	/* rules in a cell: cut at their median edge */

/* A region that differs: a box, and what decides it on both sides. */
struct region {
	u128		 lo[DD_NDIMS], hi[DD_NDIMS];
	enum src_action	 sa;
	const char	*w;
	struct verdict	 v;
};

/* The source's cut points in each dimension, sorted (an opaque
 * evaluator's: between two of them it does not change its mind). */
struct cuts {
	u128	*v;
	size_t	 n, cap;
};

struct walk {
	struct arena		*a;
	const struct src_iface	*f;
	const struct iface	*ifc;
	const struct policy	*p;
	struct diff_side	 ms;		/* moat's side */
	enum addr_family	 fam;
	struct cuts		 oc[DD_NDIMS];	/* f->eval's cuts */
	size_t			 nleaves;
	double			 work;	/* rules looked at, both sides */
	struct region		*regs;
	size_t			 nreg, capreg, nlost;
	int			 failed;
	const char		*stopped;	/* why it was not finished */
};

static void
cut(struct arena *a, struct cuts *c, u128 x)
{
	ARENA_PUSH(a, c->v, c->n, c->cap);
	c->v[c->n - 1] = x;
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

	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), cmp128);
	for (i = 0; i < c->n; i++)
		if (k == 0 || c->v[k - 1] != c->v[i])
			c->v[k++] = c->v[i];
	c->n = k;
}

/* What pf's rules see of a cell: the destination a rdr rewrote it to
 * (a constant), the service shifted by its port change. */
struct pfx {
	bool	const_dst;
	u128	dst;
	u128	shift;		/* added to the key (mod 2^128) */
};

/* A box of three sets (NULL svc: any) over cell c through x. */
static int
box_test(const struct iset *src, const struct iset *dst,
    const struct iset *svc, const struct pfx *x, const struct diff_cell *c,
    struct diff_cut *cut)
{
	struct diff_cut k[3] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };
	int t[3], d;

	t[0] = diff_set_test(*src, c->lo[DD_SRC], c->hi[DD_SRC], &k[0].at);
	k[0].dim = DD_SRC;
	if (x->const_dst)
		t[1] = iset_contains(*dst, x->dst) ? DIFF_IN : DIFF_OUT;
	else
		t[1] = diff_set_test(*dst, c->lo[DD_DST], c->hi[DD_DST], &k[1].at);
	k[1].dim = DD_DST;
	t[2] = DIFF_IN;
	if (svc != NULL) {
		t[2] = diff_set_test(*svc, c->lo[DD_SVC] + x->shift,
		    c->hi[DD_SVC] + x->shift, &k[2].at);
		k[2].at -= x->shift;
	}
	k[2].dim = DD_SVC;
	for (d = 0; d < 3; d++)
		if (t[d] == DIFF_OUT)
			return DIFF_OUT;
	for (d = 0; d < 3; d++)
		if (t[d] == DIFF_CUT) {
			*cut = k[d];
			return DIFF_CUT;
		}
	return DIFF_IN;
}

/* The cut of c at the median edge, in cut->dim, of rules list[0..m) (each
 * meets c), so that a cell's rules halve at each cut (as diff.c's and
 * classify.c's); cut kept when memory runs out (any edge is right). */
static void
pf_median(const struct src_iface *f, const size_t *list, size_t m,
    const struct pfx *x, const struct diff_cell *c, struct diff_cut *cut)
{
	int d = cut->dim;
	u128 lo = c->lo[d], hi = c->hi[d], k = 0, *e;
	size_t i, n = 0;

	if (d == DD_DST && x->const_dst)
		return;
	if (d == DD_SVC) {
		k = x->shift;
		lo += k;
		hi += k;
	}
	if ((e = malloc(m * DIFF_EDGES * sizeof(*e))) == NULL)
		return;
	for (i = 0; i < m; i++) {
		const struct src_rule *r = &f->rules[list[i]];
		const struct iset *s = d == DD_SRC ? &r->src : d == DD_DST ?
		    &r->dst : r->any_svc ? NULL : &r->svc;

		if (s != NULL)
			n += diff_set_edges(*s, lo, hi, k, e + n);
	}
	if (n > 0)
		cut->at = diff_select(e, n, n / 2);
	free(e);
}

/*
 * pf's decision over cell c: DIFF_IN when it cannot change inside c,
 * DIFF_CUT with *cut where it may.  k[0..nk) are the rules that may meet
 * c, in order; *next (malloc'd) gets those that do, for c's parts.
 * The rdrs first (the first that holds decides the destination the rules
 * see); then a quick rule that holds for all of c decides it, whatever
 * came before; a rule that holds for part of it cuts, unless it is not
 * quick and a later rule (not quick) holds for all of c, which overrides
 * it.  Code of its own: moat's walk (diff.c) is the other side.
 */
static int
pf_walk(const struct src_iface *f, const struct diff_cell *c,
    const size_t *k, size_t nk, size_t **next, size_t *nnext, size_t *nlook,
    struct diff_cut *cut, int *failed)
{
	struct pfx x = { false, 0, 0 };
	struct diff_cut pending, quick;
	bool have_pending = false, cutting = false;
	size_t i, m = 0, *list;
	int t;

	*next = NULL;
	*nnext = 0;
	*nlook = 0;
	for (i = 0; i < f->nrdr; i++) {
		const struct src_rdr *r = &f->rdrs[i];

		t = box_test(&r->src, &r->dst, &r->svc, &x, c, cut);
		if (t == DIFF_CUT)
			return DIFF_CUT;
		if (t == DIFF_IN) {
			if (r->pass && !r->nordr)
				return DIFF_IN;	/* rdr pass */
			if (!r->nordr) {
				x.const_dst = true;
				x.dst = r->target;
				x.shift = (u128)(__int128)r->port_shift;
			}
			break;
		}
	}
	if ((list = malloc((nk + 1) * sizeof(*list))) == NULL) {
		*failed = -1;
		return DIFF_IN;
	}
	for (i = 0; i < nk; i++) {
		const struct src_rule *r = &f->rules[k[i]];
		struct diff_cut here;

		t = box_test(&r->src, &r->dst, r->any_svc ? NULL : &r->svc,
		    &x, c, &here);
		if (t == DIFF_OUT)
			continue;
		list[m++] = k[i];
		if (cutting)
			continue;	/* only dropping the ones outside */
		if (r->quick && t == DIFF_IN) {
			/* it decides every flow of c */
			*nlook = m;
			i++;
			break;
		}
		if (r->quick) {
			quick = here;
			cutting = true;
			if (nk - i < BALANCE_MIN) {
				i++;
				break;
			}
			continue;
		}
		if (t == DIFF_IN)
			have_pending = false;	/* overrides what came before */
		else if (!have_pending) {
			pending = here;
			have_pending = true;
		}
	}
	/* what was not looked at goes on as it was */
	for (; i < nk; i++)
		list[m++] = k[i];
	*next = list;
	*nnext = m;
	if (!cutting && !have_pending) {
		if (*nlook == 0)
			*nlook = m;
		return DIFF_IN;
	}
	*cut = cutting ? quick : pending;
	if (m > BALANCE_MIN)
		pf_median(f, list, m, &x, c, cut);
	return DIFF_CUT;
}

/* An opaque evaluator (iptables): a cut of its own inside c, at the
 * median of those of the dimension that has the most. */
static int
opaque_walk(const struct walk *w, const struct diff_cell *c,
    struct diff_cut *cut)
{
	static const int dims[] = { DD_SRC, DD_DST, DD_SVC };
	size_t best = 0, i;

	for (i = 0; i < 3; i++) {
		const struct cuts *k = &w->oc[dims[i]];
		u128 lo = c->lo[dims[i]], hi = c->hi[dims[i]];
		size_t a = 0, b = k->n, e;

		/* the cuts in (lo, hi] */
		while (a < b) {
			size_t mid = a + (b - a) / 2;

			if (k->v[mid] <= lo)
				a = mid + 1;
			else
				b = mid;
		}
		for (e = a, b = k->n; e < b;) {
			size_t mid = e + (b - e) / 2;

			if (k->v[mid] <= hi)
				e = mid + 1;
			else
				b = mid;
		}
		if (e - a > best) {
			best = e - a;
			cut->dim = dims[i];
			cut->at = k->v[a + (e - a) / 2];
		}
	}
	return best > 0 ? DIFF_CUT : DIFF_IN;
}

/* Cell c, where neither side changes its mind: one of its flows decides
 * it (first: moat's deciding rule, from its walk; look[0..nlook): the
 * source's rules that can match it, from pf_walk). */
static void
decide(struct walk *w, const struct diff_cell *c, const struct rule *first,
    const size_t *look, size_t nlook)
{
	const struct src_rule *pr;
	const struct src_rdr *rdr;
	struct region r;
	struct flow fl;
	u128 key;

	if (!diff_first_key(c->lo[DD_SVC], c->hi[DD_SVC], &key))
		return;
	w->nleaves++;
	memset(&fl, 0, sizeof(fl));
	fl.iface = w->ifc;
	fl.src = c->lo[DD_SRC];
	fl.dst = c->lo[DD_DST];
	fl.proto = (int)(key >> 16);
	fl.dport = (unsigned)(key & 0xffff);
	memset(&r, 0, sizeof(r));
	policy_eval_first(w->p, first, &fl, &r.v);
	if (w->f->eval != NULL)
		r.sa = w->f->eval(w->f->arg, fl.src, fl.dst, key, &r.w);
	else {
		pr = src_eval(w->f, look, nlook, fl.src, fl.dst, key, &rdr);
		r.sa = pf_where(w->a, pr, rdr, &r.w);
	}
	if (same(r.sa, r.v.action))
		return;
	if (w->nreg == MAX_KEPT) {
		w->nlost++;
		return;
	}
	memcpy(r.lo, c->lo, sizeof(r.lo));
	memcpy(r.hi, c->hi, sizeof(r.hi));
	ARENA_PUSH(w->a, w->regs, w->nreg, w->capreg);
	w->regs[w->nreg - 1] = r;
}

static void
walk(struct walk *w, const struct diff_cell *c, const struct diff_cands *mk,
    const size_t *sk, size_t nsk, int depth)
{
	struct diff_cands mn = *mk;
	struct diff_cut cut;
	struct diff_cell a, b;
	const struct rule *first = NULL;
	size_t *sn = NULL, nsn = nsk, nlook = 0;
	int t;

	if (w->failed || w->stopped != NULL)
		return;
	if (depth > DEPTH_MAX) {
		w->stopped = "more than 4,000 cuts on one path";
		return;
	}
	if (w->work > MAX_WORK) {
		w->stopped = "its rules were looked at more than "
		    MAX_WORK_TEXT " times";
		return;
	}
	/* (The plain walk's count, rules that hold all of c counted too:
	 * where the proof stops does not move.) */
	w->work += (double)(mk->n + mk->nin + w->ms.nall - mk->from + nsk);
	t = diff_side_walk(&w->ms, w->fam, c, mk, &mn, &cut, &first,
	    &w->failed);
	if (t == DIFF_IN && w->f->eval != NULL)
		t = opaque_walk(w, c, &cut);
	else if (t == DIFF_IN)
		t = pf_walk(w->f, c, sk, nsk, &sn, &nsn, &nlook, &cut,
		    &w->failed);
	if (w->failed)
		goto out;
	if (t == DIFF_IN) {
		if (w->nleaves >= MAX_CELLS)
			w->stopped = "more than " MAX_CELLS_TEXT " regions";
		else
			decide(w, c, first, sn, nlook);
		goto out;
	}
	a = b = *c;
	a.hi[cut.dim] = cut.at - 1;
	b.lo[cut.dim] = cut.at;
	/* the source's rules: those that meet c, when its walk got to
	 * them (not when moat's cut first or a rdr did) */
	if (sn == NULL)
		nsn = nsk;
	walk(w, &a, &mn, sn != NULL ? sn : sk, nsn, depth + 1);
	walk(w, &b, &mn, sn != NULL ? sn : sk, nsn, depth + 1);
out:
	diff_cands_done(mk, &mn);
	free(sn);
}

/* ---- the regions that differ, merged ---------------------------------- */

static int merge_dim;

static int
decision_cmp(const struct region *a, const struct region *b)
{
	int c;

	if (a->sa != b->sa)
		return a->sa < b->sa ? -1 : 1;
	if ((c = strcmp(a->w, b->w)) != 0)
		return c;
	if (a->v.action != b->v.action)
		return a->v.action < b->v.action ? -1 : 1;
	if (a->v.by != b->v.by)
		return a->v.by < b->v.by ? -1 : 1;
	if (a->v.rule != b->v.rule)
		return a->v.rule == NULL ? -1 : b->v.rule == NULL ? 1 :
		    a->v.rule->number < b->v.rule->number ? -1 : 1;
	return 0;
}

/* The same deciders, then every dimension but merge_dim, then
 * merge_dim's start: neighbours in merge_dim side by side. */
static int
merge_cmp(const void *pa, const void *pb)
{
	const struct region *a = pa, *b = pb;
	int c, d;

	if ((c = decision_cmp(a, b)) != 0)
		return c;
	for (d = 0; d < DD_NDIMS; d++)
		if (d != merge_dim && ((c = cmp128(&a->lo[d], &b->lo[d])) != 0
		    || (c = cmp128(&a->hi[d], &b->hi[d])) != 0))
			return c;
	return cmp128(&a->lo[merge_dim], &b->lo[merge_dim]);
}

/* Where they are: source, destination, service. */
static int
place_cmp(const void *pa, const void *pb)
{
	const struct region *a = pa, *b = pb;
	int c, d;

	for (d = 0; d < DD_NDIMS; d++)
		if ((c = cmp128(&a->lo[d], &b->lo[d])) != 0)
			return c;
	return 0;
}

/* Neighbours decided alike merged, one dimension at a time, until none
 * is left. */
static void
merge(struct walk *w)
{
	static const int dims[] = { DD_SVC, DD_SRC, DD_DST };
	bool again = true;
	size_t i, k, n = w->nreg;
	int rounds = 0, j;

	while (n > 1 && again && rounds++ < 16) {
		again = false;
		for (j = 0; j < 3; j++) {
			int d = dims[j];

			merge_dim = d;
			qsort(w->regs, n, sizeof(*w->regs), merge_cmp);
			for (i = 0, k = 0; i < n; i++) {
				struct region *p = k > 0 ? &w->regs[k - 1] :
				    NULL, *q = &w->regs[i];
				int o, same_rest = p != NULL &&
				    decision_cmp(p, q) == 0;

				for (o = 0; same_rest && o < DD_NDIMS; o++)
					same_rest = o == d || (p->lo[o] ==
					    q->lo[o] && p->hi[o] == q->hi[o]);
				if (same_rest && p->hi[d] != U128_MAX &&
				    p->hi[d] + 1 == q->lo[d]) {
					p->hi[d] = q->hi[d];
					again = true;
					continue;
				}
				w->regs[k++] = *q;
			}
			n = k;
		}
	}
	w->nreg = n;
	if (n > 1)
		qsort(w->regs, n, sizeof(*w->regs), place_cmp);
}

static int
compare_iface(struct arena *a, const struct src_iface *f,
    const struct iface *ifc, const struct policy *p, struct strbuf *out)
{
	/* the spans: IPv4, and IPv6 on either side of the IPv4 block */
	static const struct { enum addr_family fam; u128 lo, hi; } spans[] = {
		{ FAM_V4, V4_BASE, V4_LAST },
		{ FAM_V6, 0, V4_BASE - 1 },
		{ FAM_V6, V4_LAST + 1, U128_MAX },
	};
	struct walk w;
	size_t i, ndiff, *all, s, d;

	memset(&w, 0, sizeof(w));
	w.a = a;
	w.f = f;
	w.ifc = ifc;
	w.p = p;
	w.ms.p = p;
	w.ms.ifc = ifc;
	w.ms.action_only = true;
	if ((w.ms.all = diff_iface_rules(p, ifc, &w.ms.nall)) == NULL)
		return -1;
	for (i = 0; f->eval != NULL && i < f->ncut_src; i++)
		cut(a, &w.oc[DD_SRC], f->cut_src[i]);
	for (i = 0; f->eval != NULL && i < f->ncut_dst; i++)
		cut(a, &w.oc[DD_DST], f->cut_dst[i]);
	for (i = 0; f->eval != NULL && i < f->ncut_svc; i++)
		cut(a, &w.oc[DD_SVC], f->cut_svc[i]);
	for (i = 0; i < DD_NDIMS; i++)
		finish(&w.oc[i]);
	all = arena_array(a, f->n + 1, sizeof(*all));
	for (i = 0; i < f->n; i++)
		all[i] = i;
	for (s = 0; s < 3 && !w.failed && w.stopped == NULL; s++)
		for (d = 0; d < 3; d++) {
			struct diff_cell c;
			struct diff_cands k = { .list = NULL };

			if ((spans[s].fam == FAM_V4) != (spans[d].fam ==
			    FAM_V4) || (f->v4_only && spans[s].fam != FAM_V4))
				continue;
			w.fam = spans[s].fam;
			c.lo[DD_SRC] = spans[s].lo;
			c.hi[DD_SRC] = spans[s].hi;
			c.lo[DD_DST] = spans[d].lo;
			c.hi[DD_DST] = spans[d].hi;
			c.lo[DD_TIME] = 0;
			c.hi[DD_TIME] = SCHED_WEEK - 1;
			c.lo[DD_SVC] = 0;
			c.hi[DD_SVC] = ((u128)256 << 16) - 1;
			walk(&w, &c, &k, all, f->n, 0);
		}
	free(w.ms.all);
	if (w.failed)
		return -1;
	if (w.stopped != NULL) {
		strbuf_printf(out, "  %s: not compared: %s\n", ifc->name,
		    w.stopped);
		return 0;
	}
	merge(&w);
	ndiff = w.nreg + w.nlost;
	for (i = 0; i < w.nreg && i < MAX_SHOWN; i++) {
		const struct region *r = &w.regs[i];
		char sb[100], db[100], kb[60], mb[120];

		range_text(r->lo[DD_SRC], r->hi[DD_SRC], sb, sizeof(sb));
		range_text(r->lo[DD_DST], r->hi[DD_DST], db, sizeof(db));
		svc_text(r->lo[DD_SVC], r->hi[DD_SVC], kb, sizeof(kb));
		moat_text(&r->v, ifc, mb, sizeof(mb));
		if (i == 0)
			strbuf_printf(out, "  %s: differs:\n", ifc->name);
		strbuf_printf(out, "    from %s to %s, %s: the source %s (%s), "
		    "moat %s\n", sb, db, kb, act_name[r->sa], r->w, mb);
	}
	if (ndiff == 0)
		strbuf_printf(out, "  %s: equivalent (%zu regions)\n",
		    ifc->name, w.nleaves);
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
			size_t *all = arena_array(a, f->n ? f->n : 1,
			    sizeof(*all));

			for (j = 0; j < f->n; j++)
				all[j] = j;
			pr = src_eval(f, all, f->n, pf->src, pf->dst, pf->key,
			    &rdr);
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
	int ndiffer = 0, k;

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
		if ((k = compare_iface(a, f, ifc, p, out)) == -1)
			return -1;
		ndiffer += k;
	}
	return ndiffer;
}

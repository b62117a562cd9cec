/* diff.c: the flows two policies decide differently; see diff.h and
 * doc/design/diff.md.
 *
 * The flow space of one interface (source, destination, minute of the
 * week, service key) is cut in two, again and again, until each side's
 * decision cannot change inside a cell: walking the side's steps as
 * eval.c takes them (forwards, 1:1, the gateway's addresses, the
 * anti-lockout rule, the rules, the source NAT), every test either holds
 * for the whole cell or for none of it, and the first test that holds for
 * part of it gives the cut.  A cell is then decided by evaluating one of
 * its flows (policy_eval) on each side.  Cells that differ are merged
 * with their neighbours of the same pair of decisions.
 *
 * When only rules differ, the cells are cut inside the changed rules
 * only: the rules that are not in the longest common subsequence of the
 * two lists (Myers' diff), with the preimages of the port forwards and
 * 1:1 mappings; elsewhere the first matching rule is a common one, the
 * same on both sides.
 *
 * Each side carries the rules a cell may meet.  Those that hold all of a
 * cell are counted, not listed; and a side whose walk did not run in a
 * cell (the other cut it) keeps in view only the rules that can meet it.
 * Neither changes a cell or a cut: the plain walk (policy_diff_plain),
 * which lists and tests every rule again, gives the same cells.
 */
#include "analyze/diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/clock.h"

/* dst as a side's rules see it: after a forward (a constant) or a 1:1
 * (shifted). */
enum xf_kind { XF_NONE = 0, XF_CONST, XF_SHIFT };

struct xf {
	enum xf_kind	kind;
	u128		c;	/* XF_CONST: the address; XF_SHIFT: added */
};

struct ctx {
	struct diff_side	 s[2];
	enum addr_family	 fam;
	/* The cells to look in: products of sets (rules' or forwards'),
	 * or none (nsus == 0 and whole: everything). */
	const struct iset	(*sus)[DD_NDIMS];
	size_t			 nsus;
	bool			 whole;
	/* Nothing translates a side's destinations on this interface (no
	 * forward, no 1:1): its rules can be left out by destination. */
	bool			 untranslated[2];
	/* The interface's default differs: the flows that reach it on
	 * either side are suspects too (those no rule holds). */
	bool			 reach;
	struct policy_diff	*d;
	size_t			 max_cells;
	long long		 deadline;	/* clock_ms(), or 0 */
	unsigned		 steps;		/* walk's calls, for the clock */
	int			 failed;
};

/* Whether [lo, hi] lies in s, outside it, or across an edge (*at). */
int
diff_set_test(struct iset s, u128 lo, u128 hi, u128 *at)
{
	size_t a = 0, b = s.n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (s.v[m].hi < lo)
			a = m + 1;
		else
			b = m;
	}
	if (a == s.n || s.v[a].lo > hi)
		return DIFF_OUT;
	if (s.v[a].lo <= lo && s.v[a].hi >= hi)
		return DIFF_IN;
	*at = s.v[a].lo > lo ? s.v[a].lo : s.v[a].hi + 1;
	return DIFF_CUT;
}

static int
range_test(u128 slo, u128 shi, u128 lo, u128 hi, u128 *at)
{
	struct ival v = { slo, shi };
	struct iset s = { 1, &v };

	return diff_set_test(s, lo, hi, at);
}

/* The destination test, through the side's translation. */
static int
dst_test(struct iset s, const struct xf *x, const struct diff_cell *c,
    struct diff_cut *cut)
{
	int t;

	cut->dim = DD_DST;
	switch (x->kind) {
	case XF_CONST:
		return iset_contains(s, x->c) ? DIFF_IN : DIFF_OUT;
	case XF_SHIFT:
		t = diff_set_test(s, c->lo[DD_DST] + x->c, c->hi[DD_DST] + x->c,
		    &cut->at);
		cut->at -= x->c;
		return t;
	default:
		return diff_set_test(s, c->lo[DD_DST], c->hi[DD_DST], &cut->at);
	}
}

/* The combined test of a product of sets (a NULL set: any). */
static int
box_test(const struct iset *src, const struct iset *dst,
    const struct iset *when, const struct iset *svc, const struct xf *x,
    const struct diff_cell *c, struct diff_cut *cut)
{
	struct diff_cut k[DD_NDIMS] = { { 0 } };
	int t[DD_NDIMS], d;

	t[DD_SRC] = src == NULL ? DIFF_IN : diff_set_test(*src, c->lo[DD_SRC],
	    c->hi[DD_SRC], &k[DD_SRC].at);
	k[DD_SRC].dim = DD_SRC;
	t[DD_DST] = dst == NULL ? DIFF_IN : dst_test(*dst, x, c, &k[DD_DST]);
	t[DD_TIME] = when == NULL ? DIFF_IN : diff_set_test(*when, c->lo[DD_TIME],
	    c->hi[DD_TIME], &k[DD_TIME].at);
	k[DD_TIME].dim = DD_TIME;
	t[DD_SVC] = svc == NULL ? DIFF_IN : diff_set_test(*svc, c->lo[DD_SVC],
	    c->hi[DD_SVC], &k[DD_SVC].at);
	k[DD_SVC].dim = DD_SVC;
	for (d = 0; d < DD_NDIMS; d++)
		if (t[d] == DIFF_OUT)
			return DIFF_OUT;
	for (d = 0; d < DD_NDIMS; d++)
		if (t[d] == DIFF_CUT) {
			*cut = k[d];
			return DIFF_CUT;
		}
	return DIFF_IN;
}

static int
rule_test(const struct rule *r, const struct xf *x, const struct diff_cell *c,
    struct diff_cut *cut)
{
	return box_test(&r->src.set, &r->dst.set, r->sched != NULL ?
	    &r->sched->set : NULL, &r->svc.set, x, c, cut);
}

/* policy_route()'s answer for an address in no interface's network. */
static const struct iface *
route_fallback(const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nnat; i++)
		if (p->nats[i]->iface != NULL)
			return p->nats[i]->iface;
	for (i = 0; i < p->nnat_rule; i++)
		if (p->nat_rules[i]->iface != NULL)
			return p->nat_rules[i]->iface;
	for (i = 0; i < p->nnat_one; i++)
		if (p->nat_ones[i]->iface != NULL)
			return p->nat_ones[i]->iface;
	return NULL;
}

#define BALANCE_MIN	32	/* rules in a cell: cut at their median edge */

/* Hoare's select, the middle element as pivot: each round keeps
 * lo <= j < hi. */
u128
diff_select(u128 *e, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		u128 pivot = e[lo + (hi - lo) / 2], t;
		size_t i = lo, j = hi;

		for (;;) {
			while (e[i] < pivot)
				i++;
			while (e[j] > pivot)
				j--;
			if (i >= j)
				break;
			t = e[i];
			e[i] = e[j];
			e[j] = t;
			i++;
			j--;
		}
		/* e[lo..j] <= pivot <= e[j + 1..hi] */
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
	return e[k];
}

/* The edges of set s inside [lo, hi] (where it starts or stops), at most
 * DIFF_EDGES, shifted back by k, into e. */
size_t
diff_set_edges(struct iset s, u128 lo, u128 hi, u128 k, u128 *e)
{
	size_t a = 0, b = s.n, n = 0;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (s.v[mid].hi < lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < s.n && s.v[a].lo <= hi && n + 2 <= DIFF_EDGES; a++) {
		if (s.v[a].lo > lo)
			e[n++] = s.v[a].lo - k;
		if (s.v[a].hi < hi)
			e[n++] = s.v[a].hi + 1 - k;
	}
	return n;
}

/*
 * The cut of cell c in cut->dim at the median edge of rules list[0..m)
 * (each meets c) in that dimension, through translation x: any edge is
 * right (the cell's parts are looked at again), the median keeps the
 * walk's depth logarithmic.  0, or -1 when memory runs out (cut kept).
 */
static int
median_cut(const struct policy *p, const size_t *list, size_t m,
    const struct xf *x, const struct diff_cell *c, struct diff_cut *cut)
{
	int d = cut->dim;
	u128 lo = c->lo[d], hi = c->hi[d], k = 0, *e;
	size_t i, n = 0;

	if (d == DD_DST) {
		if (x->kind == XF_CONST)
			return 0;
		if (x->kind == XF_SHIFT) {
			k = x->c;
			lo += k;
			hi += k;
		}
	}
	if ((e = malloc(m * DIFF_EDGES * sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < m; i++) {
		const struct rule *r = p->rules[list[i]];
		const struct iset *s = d == DD_SRC ? &r->src.set :
		    d == DD_DST ? &r->dst.set : d == DD_SVC ? &r->svc.set :
		    r->sched != NULL ? &r->sched->set : NULL;

		if (s != NULL)
			n += diff_set_edges(*s, lo, hi, k, e + n);
	}
	if (n > 0)
		cut->at = diff_select(e, n, n / 2);
	free(e);
	return 0;
}

/* How many entries a side walk looks at in k: list's (its view's), then
 * the tail's. */
static size_t
cands_size(const struct diff_side *s, const struct diff_cands *k)
{
	return (k->view != NULL ? k->nview : k->n) +
	    (k->tail != NULL ? k->ntail : s->nall - k->from);
}

/* The e-th of them: its rule (*ri) and its index in the plain walk's
 * order (*i: list's, then all[from..]'s). */
static void
cands_entry(const struct diff_side *s, const struct diff_cands *k, size_t e,
    size_t *ri, size_t *i)
{
	size_t nv = k->view != NULL ? k->nview : k->n, pos;

	if (e < nv) {
		*i = k->view != NULL ? k->view[e] : e;
		*ri = k->list[*i];
		return;
	}
	pos = k->tail != NULL ? k->tail[e - nv] : k->from + e - nv;
	*ri = s->all[pos];
	*i = k->n + pos - k->from;
}

/*
 * Side s's steps over cell c, as eval.c takes them: DIFF_IN when its decision
 * cannot change inside c, DIFF_CUT with the cut where it may.  *k is the
 * cell's candidate rules; *next gets those of its parts (the rules found
 * outside c dropped; next->list is malloc'd when next->list != k->list).
 */
int
diff_side_walk(const struct diff_side *s, enum addr_family fam,
    const struct diff_cell *c, const struct diff_cands *k,
    struct diff_cands *next, struct diff_cut *cut, const struct rule **first,
    int *failed)
{
	const struct policy *p = s->p;
	struct xf x = { XF_NONE, 0 };
	bool v4 = fam == FAM_V4, reflected = false, gateway = false;
	bool accept = false, decided = false, cutting = false;
	const struct iface *out = NULL;
	size_t i, m = 0, *list = NULL, cap, nin, in_first, nnew = 0, e, ne;
	size_t rest;
	int t;

	*next = *k;
	*first = NULL;
	if (!p->firewall)
		goto gateway;
	for (i = 0; i < p->nforward; i++) {
		const struct forward *fw = p->forwards[i];

		if ((fw->iface != s->ifc &&
		    !policy_forward_reflects(p, fw, s->ifc)) ||
		    (v4 ? !fw->has4 : !fw->has6))
			continue;
		t = box_test(NULL, &fw->iface->ip_obj->set, NULL,
		    &fw->svc.set, &x, c, cut);
		if (t == DIFF_CUT)
			return DIFF_CUT;
		if (t == DIFF_IN) {
			x.kind = XF_CONST;
			x.c = v4 ? fw->to4 : fw->to6;
			reflected = fw->iface != s->ifc;
			break;
		}
	}
	if (x.kind == XF_NONE)
		for (i = 0; i < p->nnat_one; i++) {
			const struct nat_one *n = p->nat_ones[i];

			if ((n->iface != s->ifc &&
			    !policy_one_reflects(p, n, s->ifc)) || n->size == 0)
				continue;
			cut->dim = DD_DST;
			t = range_test(n->pub_lo, n->pub_lo + n->size - 1,
			    c->lo[DD_DST], c->hi[DD_DST], &cut->at);
			if (t == DIFF_CUT)
				return DIFF_CUT;
			if (t == DIFF_IN) {
				x.kind = XF_SHIFT;
				x.c = n->in_lo - n->pub_lo;
				reflected = n->iface != s->ifc;
				break;
			}
		}
gateway:
	for (i = 0; i < p->niface; i++) {
		t = dst_test(p->ifaces[i]->ip_obj->set, &x, c, cut);
		if (t == DIFF_CUT)
			return DIFF_CUT;
		if (t == DIFF_IN) {
			gateway = true;
			break;
		}
	}
	if (!p->firewall) {
		accept = true;
		goto snat;
	}
	if (p->lockout_rule != NULL && p->lockout_rule->iface == s->ifc) {
		t = rule_test(p->lockout_rule, &x, c, cut);
		if (t == DIFF_CUT)
			return DIFF_CUT;
		if (t == DIFF_IN)
			return DIFF_IN;	/* accepted, to the gateway */
	}
	/*
	 * The rules: those found outside c are dropped for c's parts, and
	 * those found to hold all of c are counted (nin, in_first), not
	 * listed: they hold all of every part, have no edge inside it, and
	 * only the first of them can decide one.  The cells, cuts and lists
	 * are the plain walk's (list_all), which lists and tests them again
	 * in every cell below: nin counts them where it counted them, and
	 * i is the plain walk's index (the counted ones are all after the
	 * first rule that meets c).  New counted ones go at the end of
	 * list's block, the kept ones at its start.
	 */
	ne = cands_size(s, k);
	cap = k->n + ne - (k->view != NULL ? k->nview : k->n);
	rest = k->n + s->nall - k->from;
	nin = k->nin;
	in_first = k->in_first;
	if ((list = malloc((cap + 1) * sizeof(*list))) == NULL) {
		*failed = -1;
		return DIFF_IN;
	}
	for (e = 0; e < ne; e++) {
		size_t ri;
		struct diff_cut other;

		cands_entry(s, k, e, &ri, &i);
		/* Past a rule that holds all of c, with none before it
		 * meeting c: that rule decides. */
		if (!cutting && nin > 0 && ri > in_first)
			break;
		t = rule_test(p->rules[ri], &x, c, cutting ? &other : cut);
		if (t == DIFF_OUT)
			continue;
		if (t == DIFF_IN && !s->list_all) {
			if (nin++ == 0 || ri < in_first)
				in_first = ri;
			list[cap - nnew++] = ri;
		} else
			list[m++] = ri;
		if (cutting)
			continue;	/* only dropping the ones outside */
		if (t == DIFF_IN) {
			decided = true;
			*first = p->rules[ri];
			accept = p->rules[ri]->action == ACT_ACCEPT;
			rest = i + 1;
			e++;
			break;
		}
		cutting = true;
		/* Many rules left: all of them looked at, and the cell cut
		 * at the median of their edges (HyperSplit), so that the
		 * lists halve instead of losing one rule a cut. */
		if (k->n + k->nin + s->nall - k->from - i < BALANCE_MIN) {
			rest = i + 1;
			e++;
			break;
		}
	}
	if (!cutting && !decided && nin > 0) {
		size_t lo = 0, hi = k->n;

		decided = true;
		*first = p->rules[in_first];
		accept = (*first)->action == ACT_ACCEPT;
		/* The plain walk stopped at it: what follows it in list
		 * goes on (those out of the view too), and the tail. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (k->list[mid] < in_first)
				lo = mid + 1;
			else
				hi = mid;
		}
		rest = lo;
	}
	/* The counted rules have no edge inside c: the median of the
	 * listed ones' edges is the plain walk's. */
	if (cutting && m + nin > BALANCE_MIN && median_cut(p, list, m, &x, c,
	    cut) == -1)
		*failed = -1;
	/* What was not looked at goes on as it was: the plain walk's
	 * entries from rest. */
	for (i = rest; i < k->n; i++)
		list[m++] = k->list[i];
	if (rest > k->n) {
		size_t nv = k->view != NULL ? k->nview : k->n;

		next->from = k->from + (rest - k->n);
		if (k->tail != NULL && next->from < s->nall) {
			next->tail = k->tail + (e - nv);
			next->ntail = k->ntail - (e - nv);
		} else
			next->tail = NULL;
	}
	next->list = list;
	next->n = m;
	next->nin = nin;
	next->in_first = in_first;
	next->view = NULL;
	if (nnew > 0) {
		next->in = list + cap + 1 - nnew;
		next->nin_here = nnew;
		next->up = k;
	}
	if (cutting)
		return DIFF_CUT;
	/* No rule: a forward's accept, else the default. */
	if (!decided)
		accept = x.kind == XF_CONST ||
		    policy_iface_default(s->ifc) == ACT_ACCEPT;
snat:
	if (!accept || gateway || reflected || s->action_only)
		return DIFF_IN;
	/* policy_route() of the destination the rules saw. */
	for (i = 0; i < p->niface && out == NULL; i++) {
		if (p->ifaces[i]->net_obj == NULL)
			continue;
		t = dst_test(p->ifaces[i]->net_obj->set, &x, c, cut);
		if (t == DIFF_CUT)
			return DIFF_CUT;
		if (t == DIFF_IN)
			out = p->ifaces[i];
	}
	if (out == NULL)
		out = route_fallback(p);
	/* A rule's gateway option sends it out of that link, unless the
	 * destination is on the network of the interface it routes to. */
	if (*first != NULL && policy_rule_gw_applies(*first, fam)) {
		t = out != NULL && out->net_obj != NULL ?
		    dst_test(out->net_obj->set, &x, c, cut) : DIFF_OUT;
		if (t == DIFF_CUT)
			return DIFF_CUT;
		if (t == DIFF_OUT)
			out = policy_gw_iface(&(*first)->gw);
	}
	if (out == NULL)
		return DIFF_IN;
	for (i = 0; i < p->nnat_one; i++) {
		const struct nat_one *n = p->nat_ones[i];

		if (n->iface != out || n->size == 0)
			continue;
		cut->dim = DD_SRC;
		t = range_test(n->in_lo, n->in_lo + n->size - 1,
		    c->lo[DD_SRC], c->hi[DD_SRC], &cut->at);
		if (t != DIFF_OUT)
			return t;
	}
	for (i = 0; i < p->nnat_rule; i++) {
		const struct nat_rule *n = p->nat_rules[i];

		if (n->iface != out || (n->kind == NAT_TO_ADDRESS &&
		    !(v4 ? n->has4 : n->has6)))
			continue;
		t = box_test(&n->src.set, &n->dst.set, NULL, &n->svc.set, &x,
		    c, cut);
		if (t != DIFF_OUT)
			return t;
	}
	return DIFF_IN;
}

void
diff_cands_done(const struct diff_cands *parent, struct diff_cands *k)
{
	if (k->list != parent->list)
		free((void *)k->list);
}

/* True when one rule of side s (among candidates k, the counted ones
 * too: they hold c as the side's translation sees it) holds all of c
 * untranslated. */
static bool
covered(const struct diff_side *s, const struct diff_cell *c,
    const struct diff_cands *k)
{
	static const struct xf none = { XF_NONE, 0 };
	const struct diff_cands *q;
	size_t e, i, ri;
	struct diff_cut cut;

	for (e = 0; e < cands_size(s, k); e++) {
		cands_entry(s, k, e, &ri, &i);
		if (rule_test(s->p->rules[ri], &none, c, &cut) == DIFF_IN)
			return true;
	}
	for (q = k; q != NULL; q = q->up)
		for (i = 0; i < q->nin_here; i++)
			if (rule_test(s->p->rules[q->in[i]], &none, c, &cut) ==
			    DIFF_IN)
				return true;
	return false;
}

#define SUSPECTS_MIN	8	/* across a cell: cut at their median edge */

/* The median edge in cut->dim of the suspects inside c (cut kept when
 * memory runs out: any edge is right). */
static void
suspects_median(const struct ctx *x, const struct diff_cell *c,
    struct diff_cut *cut)
{
	int d = cut->dim;
	u128 *e;
	size_t i, n = 0;

	if ((e = malloc(x->nsus * DIFF_EDGES * sizeof(*e))) == NULL)
		return;
	for (i = 0; i < x->nsus; i++)
		n += diff_set_edges(x->sus[i][d], c->lo[d], c->hi[d], 0, e + n);
	if (n > 0)
		cut->at = diff_select(e, n, n / 2);
	free(e);
}

static int
suspect_test(const struct ctx *x, const struct diff_cell *c,
    const struct diff_cands *k0, const struct diff_cands *k1,
    struct diff_cut *cut)
{
	static const struct xf none = { XF_NONE, 0 };
	size_t i, nover = 0;
	int t, best = DIFF_OUT;
	struct diff_cut k;

	if (x->whole)
		return DIFF_IN;
	/* A flow that a rule holds on both sides never reaches a default
	 * (the forwards and 1:1s, which rules see translated, are boxes
	 * of their own). */
	if (x->reach && (!covered(&x->s[0], c, k0) ||
	    !covered(&x->s[1], c, k1)))
		return DIFF_IN;
	for (i = 0; i < x->nsus; i++) {
		t = box_test(&x->sus[i][DD_SRC], &x->sus[i][DD_DST],
		    &x->sus[i][DD_TIME], &x->sus[i][DD_SVC], &none, c, &k);
		if (t == DIFF_IN)
			return DIFF_IN;
		if (t == DIFF_CUT) {
			if (best == DIFF_OUT)
				*cut = k;
			best = DIFF_CUT;
			nover++;
		}
	}
	/* Many suspects across c: cut at their median edge, as for rules,
	 * so that a large edit is not peeled one box at a time. */
	if (nover > SUSPECTS_MIN)
		suspects_median(x, c, cut);
	return best;
}

bool
diff_key_valid(u128 k)
{
	const struct proto_info *pi;
	unsigned low = (unsigned)(k & 0xffff);

	if (k >> 16 > 255)
		return false;
	pi = builtin_proto_by_number((int)(k >> 16));
	if (pi == NULL || pi->kind == PK_NONE)
		return low == 0;
	return pi->kind == PK_PORTS || low <= 255;
}

/* The first key of [lo, hi] that a flow can have, or false. */
bool
diff_first_key(u128 lo, u128 hi, u128 *k)
{
	u128 x = lo;

	if (!diff_key_valid(x))
		x = ((x >> 16) + 1) << 16;
	if (x > hi || x >> 16 > 255)
		return false;
	*k = x;
	return true;
}

/* The first address of [lo, hi] of family fam (an IPv6 range skips the
 * IPv4 block). */
static u128
first_addr(u128 lo, enum addr_family fam)
{
	if (fam == FAM_V6 && lo >= V4_BASE && lo <= V4_LAST)
		return V4_LAST + 1;
	return lo;
}

static void
flow_at(const struct diff_cell *c, enum addr_family fam, u128 key,
    const struct iface *ifc, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	f->iface = ifc;
	f->src = first_addr(c->lo[DD_SRC], fam);
	f->dst = first_addr(c->lo[DD_DST], fam);
	f->week_min = (unsigned)c->lo[DD_TIME];
	f->proto = (int)(key >> 16);
	f->dport = (unsigned)(key & 0xffff);
}

bool
diff_verdicts_differ(const struct verdict *va, const struct verdict *vb)
{
	int ka, kb;

	if (va->action != vb->action)
		return true;
	if (va->action != ACT_ACCEPT)
		return false;
	/* Where it goes: untranslated, a forward's host, a 1:1's (the same
	 * shift gives the same address for the same flow). */
	ka = va->forward != NULL ? 1 : va->one != NULL && va->snat !=
	    SNAT_ONE ? 2 : 0;
	kb = vb->forward != NULL ? 1 : vb->one != NULL && vb->snat !=
	    SNAT_ONE ? 2 : 0;
	if (ka != kb || va->dst != vb->dst)
		return true;
	/* Where it comes from. */
	if (va->reflected != vb->reflected || va->has_src != vb->has_src ||
	    (va->has_src && va->src != vb->src))
		return true;
	if (va->reflected)
		return false;
	/* The link a rule's gateway option sends it out of. */
	if ((va->gw == NULL) != (vb->gw == NULL) || (va->gw != NULL &&
	    strcmp(va->gw->name, vb->gw->name) != 0))
		return true;
	ka = va->snat == SNAT_RULE && va->nat_rule->kind == NAT_TO_NONE ?
	    SNAT_NONE : va->snat == SNAT_RULE && va->nat_rule->kind ==
	    NAT_TO_MASQUERADE ? SNAT_MASQUERADE : (int)va->snat;
	kb = vb->snat == SNAT_RULE && vb->nat_rule->kind == NAT_TO_NONE ?
	    SNAT_NONE : vb->snat == SNAT_RULE && vb->nat_rule->kind ==
	    NAT_TO_MASQUERADE ? SNAT_MASQUERADE : (int)vb->snat;
	if (ka != kb)
		return true;
	return ka == SNAT_MASQUERADE && strcmp(va->out->name,
	    vb->out->name) != 0;
}

static int
add_region(struct policy_diff *d, const struct diff_region *r)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct diff_region *v = realloc(d->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = *r;
	return 0;
}

/* Cell c, both sides' decisions constant in it: a region if they differ. */
static void
decide(struct ctx *x, const struct diff_cell *c, const struct rule *fa,
    const struct rule *fb)
{
	struct diff_region r;
	u128 key;
	int d;

	if (!diff_first_key(c->lo[DD_SVC], c->hi[DD_SVC], &key))
		return;
	memset(&r, 0, sizeof(r));
	r.ifa = x->s[0].ifc;
	r.ifb = x->s[1].ifc;
	r.fam = x->fam;
	memcpy(r.lo, c->lo, sizeof(r.lo));
	memcpy(r.hi, c->hi, sizeof(r.hi));
	/* An IPv6 range's ends outside the IPv4 block it skips, so that the
	 * ranges on either side of the block merge. */
	for (d = 0; x->fam == FAM_V6 && d <= DD_DST; d++) {
		if (r.lo[d] >= V4_BASE && r.lo[d] <= V4_LAST)
			r.lo[d] = V4_LAST + 1;
		if (r.hi[d] >= V4_BASE && r.hi[d] <= V4_LAST)
			r.hi[d] = V4_BASE - 1;
	}
	flow_at(c, x->fam, key, r.ifa, &r.ex_a);
	flow_at(c, x->fam, key, r.ifb, &r.ex_b);
	/* The walk knows the first rule that matches (every flow of c). */
	policy_eval_first(x->s[0].p, fa, &r.ex_a, &r.va);
	policy_eval_first(x->s[1].p, fb, &r.ex_b, &r.vb);
	if (diff_verdicts_differ(&r.va, &r.vb) && add_region(x->d, &r) == -1)
		x->failed = -1;
}

/* The IPv4 block inside an IPv6 cell's range holds no flow of it. */
static bool
v6_empty(u128 lo, u128 hi)
{
	return lo >= V4_BASE && hi <= V4_LAST;
}

#define DEPTH_MAX	4000	/* cuts on one path: the stack's bound */
#define NARROW_MIN	64	/* entries a side did not look at in a cell:
				   those outside it left out below */

/*
 * The entries of side's n that may meet cell c, as n's view and tail
 * (in *buf, malloc'd; NULL when n is left as it was).  When one side
 * cuts a cell, the other's walk does not run, and its candidates stay
 * its ancestor's: at 100,000 rules each cell the first side decides had
 * the other look at every rule of the interface again.  The plain
 * walk's entries stay (their count decides where it cuts), only those
 * outside c are no longer looked at.
 */
static void
narrow(const struct ctx *x, int side, const struct diff_cell *c,
    struct diff_cands *n, size_t **buf)
{
	static const struct xf none = { XF_NONE, 0 };
	const struct diff_side *s = &x->s[side];
	size_t ne = cands_size(s, n), nv = n->view != NULL ? n->nview : n->n;
	size_t e, i, ri, *v, nview = 0, ntail = 0;
	struct diff_cut cut;

	*buf = NULL;
	if (s->list_all || ne < NARROW_MIN ||
	    (v = malloc(ne * sizeof(*v))) == NULL)
		return;		/* left as it was: only slower */
	for (e = 0; e < ne; e++) {
		const struct rule *r;

		cands_entry(s, n, e, &ri, &i);
		r = s->p->rules[ri];
		if (box_test(&r->src.set, x->untranslated[side] ? &r->dst.set :
		    NULL, r->sched != NULL ? &r->sched->set : NULL, &r->svc.set,
		    &none, c, &cut) == DIFF_OUT)
			continue;
		if (e < nv)
			v[nview++] = i;
		else
			v[nview + ntail++] = n->from + (i - n->n);
	}
	n->view = v;
	n->nview = nview;
	n->tail = v + nview;
	n->ntail = ntail;
	*buf = v;
}

static void
walk(struct ctx *x, const struct diff_cell *c, const struct diff_cands *k0,
    const struct diff_cands *k1, int depth)
{
	struct diff_cands n0, n1;
	struct diff_cut cut;
	struct diff_cell a, b;
	const struct rule *fa = NULL, *fb = NULL;
	size_t *buf0 = NULL, *buf1 = NULL;
	bool walked;
	int t;

	if (x->failed || !x->d->complete)
		return;
	if (x->deadline != 0 && (++x->steps & 255) == 0 &&
	    clock_ms() > x->deadline) {
		x->d->complete = false;
		x->d->out_of_time = true;
		return;
	}
	if (depth > DEPTH_MAX) {
		x->d->complete = false;
		return;
	}
	if (x->fam == FAM_V6 && (v6_empty(c->lo[DD_SRC], c->hi[DD_SRC]) ||
	    v6_empty(c->lo[DD_DST], c->hi[DD_DST])))
		return;
	if ((t = suspect_test(x, c, k0, k1, &cut)) == DIFF_OUT)
		return;
	n0 = *k0;
	n1 = *k1;
	if ((walked = t == DIFF_IN)) {
		t = diff_side_walk(&x->s[0], x->fam, c, k0, &n0, &cut,
		    &fa, &x->failed);
		if (t == DIFF_IN)
			t = diff_side_walk(&x->s[1], x->fam, c, k1, &n1,
			    &cut, &fb, &x->failed);
	}
	if (x->failed)
		goto out;
	if (t == DIFF_IN) {
		if (++x->d->nleaves > x->max_cells)
			x->d->complete = false;
		else
			decide(x, c, fa, fb);
		goto out;
	}
	/* (Not where a suspect's edge cuts: those cells are large, and
	 * the sides' walks have not started.) */
	if (walked && n0.list == k0->list)
		narrow(x, 0, c, &n0, &buf0);
	if (walked && n1.list == k1->list)
		narrow(x, 1, c, &n1, &buf1);
	a = b = *c;
	a.hi[cut.dim] = cut.at - 1;
	b.lo[cut.dim] = cut.at;
	walk(x, &a, &n0, &n1, depth + 1);
	walk(x, &b, &n0, &n1, depth + 1);
	free(buf0);
	free(buf1);
out:
	diff_cands_done(k0, &n0);
	diff_cands_done(k1, &n1);
}

/* Nothing translates the destinations of ifc's flows in p: no forward or
 * 1:1 on it or reflected to it. */
static bool
untranslated(const struct policy *p, const struct iface *ifc)
{
	size_t i;

	for (i = 0; i < p->nforward; i++)
		if (p->forwards[i]->iface == ifc ||
		    policy_forward_reflects(p, p->forwards[i], ifc))
			return false;
	for (i = 0; i < p->nnat_one; i++)
		if (p->nat_ones[i]->size > 0 && (p->nat_ones[i]->iface == ifc ||
		    policy_one_reflects(p, p->nat_ones[i], ifc)))
			return false;
	return true;
}

/* ---- which rules changed: Myers' diff of the two lists ------------------ */

static bool
opt_set_eq(const struct schedule *a, const struct schedule *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return iset_equal(a->set, b->set);
}

/* Same rule for every flow: the same tests and action. */
static bool
rule_same(const struct rule *a, const struct rule *b)
{
	return a->action == b->action && a->disabled == b->disabled &&
	    strcmp(a->iface->name, b->iface->name) == 0 &&
	    iset_equal(a->src.set, b->src.set) &&
	    iset_equal(a->dst.set, b->dst.set) &&
	    iset_equal(a->svc.set, b->svc.set) &&
	    opt_set_eq(a->sched, b->sched) &&
	    (a->gw.name == NULL) == (b->gw.name == NULL) &&
	    (a->gw.name == NULL || strcmp(a->gw.name, b->gw.name) == 0);
}

static uint64_t
hash_set(uint64_t h, struct iset s)
{
	size_t i, j;

	for (i = 0; i < s.n; i++)
		for (j = 0; j < 2; j++) {
			u128 v = j ? s.v[i].hi : s.v[i].lo;

			h = (h ^ (uint64_t)v ^ (uint64_t)(v >> 64)) *
			    0x100000001b3ULL;
		}
	return (h ^ s.n) * 0x100000001b3ULL;
}

static uint64_t
rule_hash(const struct rule *r)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *s;

	for (s = r->iface->name; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)r->action ^ (uint64_t)r->disabled << 4) *
	    0x100000001b3ULL;
	h = hash_set(h, r->src.set);
	h = hash_set(h, r->dst.set);
	h = hash_set(h, r->svc.set);
	if (r->sched != NULL)
		h = hash_set(h, r->sched->set);
	return h;
}

struct seq {
	const struct policy	*p;
	uint64_t		*h;
};

static bool
seq_eq(const struct seq *a, size_t i, const struct seq *b, size_t j)
{
	return a->h[i] == b->h[j] && rule_same(a->p->rules[i],
	    b->p->rules[j]);
}

#define EDITS_MAX	1000	/* Myers' trace: D^2 longs at most */

/*
 * Mark in changed_a and changed_b the rules of each side that are not in
 * the longest common subsequence (Myers, "An O(ND) difference algorithm",
 * the greedy forward pass with its trace kept).  0, or -1 when the lists
 * differ in more than EDITS_MAX rules or memory runs out.
 */
static int
changed_rules(const struct seq *a, size_t n, const struct seq *b, size_t m,
    bool *changed_a, bool *changed_b)
{
	size_t pre = 0, suf = 0, N, M, dmax, d;
	long **trace = NULL, *v = NULL, off, k, xx, yy;
	int rc = -1;

	/* (The common head and tail compared rule by rule: only the rules
	 * between them are hashed, for Myers' pass.) */
	while (pre < n && pre < m && rule_same(a->p->rules[pre],
	    b->p->rules[pre]))
		pre++;
	while (suf < n - pre && suf < m - pre &&
	    rule_same(a->p->rules[n - 1 - suf], b->p->rules[m - 1 - suf]))
		suf++;
	N = n - pre - suf;
	M = m - pre - suf;
	if (N + M == 0)
		return 0;
	for (d = pre; d < n - suf; d++)
		a->h[d] = rule_hash(a->p->rules[d]);
	for (d = pre; d < m - suf; d++)
		b->h[d] = rule_hash(b->p->rules[d]);
	dmax = N + M < EDITS_MAX ? N + M : EDITS_MAX;
	off = (long)dmax + 1;
	if ((v = calloc(2 * dmax + 3, sizeof(*v))) == NULL ||
	    (trace = calloc(dmax + 1, sizeof(*trace))) == NULL)
		goto out;
	for (d = 0; d <= dmax; d++) {
		for (k = -(long)d; k <= (long)d; k += 2) {
			if (k == -(long)d || (k != (long)d &&
			    v[off + k - 1] < v[off + k + 1]))
				xx = v[off + k + 1];
			else
				xx = v[off + k - 1] + 1;
			yy = xx - k;
			while ((size_t)xx < N && (size_t)yy < M &&
			    seq_eq(a, pre + (size_t)xx, b, pre + (size_t)yy)) {
				xx++;
				yy++;
			}
			v[off + k] = xx;
			if ((size_t)xx >= N && (size_t)yy >= M)
				goto found;
		}
		/* Diagonals -d-1 … d+1 of this round. */
		if ((trace[d] = malloc((2 * d + 3) * sizeof(long))) == NULL)
			goto out;
		memcpy(trace[d], v + off - (long)d - 1, (2 * d + 3) *
		    sizeof(long));
	}
	goto out;	/* more than EDITS_MAX */
found:
	/* Back from (N, M): each step of d is one insertion or deletion. */
	xx = (long)N;
	yy = (long)M;
	for (; d > 0; d--) {
		/* Round d - 1's diagonal j is at pv[j + d]. */
		const long *pv = trace[d - 1] + (long)d;
		long kk = xx - yy, pk, px, py;

		if (kk == -(long)d || (kk != (long)d &&
		    pv[kk - 1] < pv[kk + 1]))
			pk = kk + 1;
		else
			pk = kk - 1;
		px = pv[pk];
		py = px - pk;
		if (pk == kk + 1)
			changed_b[pre + (size_t)py] = true;	/* inserted */
		else
			changed_a[pre + (size_t)px] = true;	/* deleted */
		xx = px;
		yy = py;
	}
	rc = 0;
out:
	if (trace != NULL)
		for (d = 0; d <= dmax; d++)
			free(trace[d]);
	free(trace);
	free(v);
	if (rc == -1 && N + M > 0) {
		memset(changed_a + pre, 1, N);
		memset(changed_b + pre, 1, M);
	}
	return rc;
}

/* ---- what else the two policies share ----------------------------------- */

static bool
opt_obj_eq(const struct object *a, const struct object *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return iset_equal(a->set, b->set);
}

static bool
ifname_eq(const struct iface *a, const struct iface *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a->name, b->name) == 0;
}

/* What differs besides the rules and the interfaces' defaults. */
struct rest {
	bool	whole;		/* firewall on/off, the interfaces (order,
				   addresses, networks, external or not),
				   nat masquerade, the gateways and groups:
				   every flow is a suspect */
	bool	forwards;	/* the port forwards */
	bool	ones;		/* the 1:1 mappings */
	bool	nat_rules;	/* the nat source rules */
	bool	lockout;	/* the anti-lockout rule */
};

static void
rest_compare(const struct policy *a, const struct policy *b, struct rest *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->whole = a->firewall != b->firewall || a->niface != b->niface ||
	    a->nnat != b->nnat;
	for (i = 0; !r->whole && i < a->niface; i++) {
		const struct iface *x = a->ifaces[i], *y = b->ifaces[i];

		r->whole = strcmp(x->name, y->name) != 0 ||
		    policy_iface_external(a, x) != policy_iface_external(b, y) ||
		    !opt_obj_eq(x->ip_obj, y->ip_obj) ||
		    !opt_obj_eq(x->net_obj, y->net_obj);
	}
	for (i = 0; !r->whole && i < a->nnat; i++)
		r->whole = !ifname_eq(a->nats[i]->iface, b->nats[i]->iface);
	/* Rules name gateways: the same names must be the same links. */
	r->whole = r->whole || a->ngateway != b->ngateway ||
	    a->ngwgroup != b->ngwgroup;
	for (i = 0; !r->whole && i < a->ngateway; i++)
		r->whole = strcmp(a->gateways[i]->name,
		    b->gateways[i]->name) != 0 ||
		    !ifname_eq(a->gateways[i]->iface, b->gateways[i]->iface);
	for (i = 0; !r->whole && i < a->ngwgroup; i++) {
		const struct gateway_group *x = a->gwgroups[i];
		const struct gateway_group *y = b->gwgroups[i];
		size_t j;

		r->whole = strcmp(x->name, y->name) != 0 || x->n != y->n;
		for (j = 0; !r->whole && j < x->n; j++)
			r->whole = x->v[j].tier != y->v[j].tier ||
			    strcmp(x->v[j].name, y->v[j].name) != 0;
	}
	r->lockout = (a->lockout_rule == NULL) != (b->lockout_rule == NULL) ||
	    (a->lockout_rule != NULL && !rule_same(a->lockout_rule,
	    b->lockout_rule));
	r->forwards = a->nforward != b->nforward;
	for (i = 0; !r->forwards && i < a->nforward; i++) {
		const struct forward *x = a->forwards[i], *y = b->forwards[i];

		r->forwards = !ifname_eq(x->iface, y->iface) ||
		    !iset_equal(x->svc.set, y->svc.set) ||
		    x->has4 != y->has4 || x->has6 != y->has6 ||
		    x->to4 != y->to4 || x->to6 != y->to6 ||
		    x->reflection != y->reflection;
	}
	r->ones = a->nnat_one != b->nnat_one;
	for (i = 0; !r->ones && i < a->nnat_one; i++) {
		const struct nat_one *x = a->nat_ones[i], *y = b->nat_ones[i];

		r->ones = !ifname_eq(x->iface, y->iface) ||
		    x->pub_lo != y->pub_lo || x->in_lo != y->in_lo ||
		    x->size != y->size || x->reflection != y->reflection;
	}
	r->nat_rules = a->nnat_rule != b->nnat_rule;
	for (i = 0; !r->nat_rules && i < a->nnat_rule; i++) {
		const struct nat_rule *x = a->nat_rules[i], *y = b->nat_rules[i];

		r->nat_rules = !ifname_eq(x->iface, y->iface) ||
		    x->kind != y->kind || x->has4 != y->has4 ||
		    x->has6 != y->has6 || x->to4 != y->to4 ||
		    x->to6 != y->to6 || !iset_equal(x->src.set, y->src.set) ||
		    !iset_equal(x->dst.set, y->dst.set) ||
		    !iset_equal(x->svc.set, y->svc.set);
	}
}

/* ---- the regions, merged ------------------------------------------------ */

/* The pair of decisions of a region, for merging: the deciding rule (or
 * default, forward, anti-lockout); with full, the translation too. */
static int
decision_cmp(const struct verdict *x, const struct verdict *y, bool full)
{
	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	if (x->by != y->by)
		return x->by < y->by ? -1 : 1;
	if (x->rule != y->rule)
		return (uintptr_t)x->rule < (uintptr_t)y->rule ? -1 : 1;
	if (x->by == BY_FORWARD && x->forward != y->forward)
		return (uintptr_t)x->forward < (uintptr_t)y->forward ? -1 : 1;
	if (!full)
		return 0;
	if (x->forward != y->forward)
		return (uintptr_t)x->forward < (uintptr_t)y->forward ? -1 : 1;
	if (x->one != y->one)
		return (uintptr_t)x->one < (uintptr_t)y->one ? -1 : 1;
	if (x->snat != y->snat)
		return x->snat < y->snat ? -1 : 1;
	if (x->nat_rule != y->nat_rule)
		return (uintptr_t)x->nat_rule < (uintptr_t)y->nat_rule ? -1 : 1;
	if (x->out != y->out)
		return (uintptr_t)x->out < (uintptr_t)y->out ? -1 : 1;
	if (x->reflected != y->reflected)
		return x->reflected ? 1 : -1;
	if (x->gw != y->gw)
		return (uintptr_t)x->gw < (uintptr_t)y->gw ? -1 : 1;
	return 0;
}

static int merge_dim;

static int
u128_cmp(u128 a, u128 b)
{
	return a < b ? -1 : a > b;
}

/* Order: interface, family, decisions, every dimension but merge_dim,
 * then merge_dim's start: neighbours in merge_dim end up side by side. */
static int
region_cmp(const void *pa, const void *pb)
{
	const struct diff_region *a = pa, *b = pb;
	int c, d;
	bool full;

	if (a->ifa != b->ifa)
		return (uintptr_t)a->ifa < (uintptr_t)b->ifa ? -1 : 1;
	if (a->fam != b->fam)
		return a->fam < b->fam ? -1 : 1;
	/* Accepted on both sides, the translation is what changed: it must
	 * be one through the region; else the verdict changed, and the rules
	 * that decide are the pair. */
	full = a->va.action == ACT_ACCEPT && a->vb.action == ACT_ACCEPT;
	if ((c = decision_cmp(&a->va, &b->va, full)) != 0 ||
	    (c = decision_cmp(&a->vb, &b->vb, full)) != 0)
		return c;
	for (d = 0; d < DD_NDIMS; d++)
		if (d != merge_dim && ((c = u128_cmp(a->lo[d], b->lo[d])) != 0 ||
		    (c = u128_cmp(a->hi[d], b->hi[d])) != 0))
			return c;
	return u128_cmp(a->lo[merge_dim], b->lo[merge_dim]);
}

/* The address after hi in a range of family fam (IPv6 skips the IPv4
 * block). */
static bool
follows(u128 hi, u128 lo, enum addr_family fam, int d)
{
	if (hi == U128_MAX)
		return false;
	if (fam == FAM_V6 && d <= DD_DST && hi == V4_BASE - 1)
		return lo == V4_LAST + 1;
	return hi + 1 == lo;
}

/* Merge neighbours of the same decisions, one dimension at a time, until
 * none is left: how many regions there are now. */
static void
merge_regions(struct policy_diff *d)
{
	bool again = true;
	size_t i, w;
	int dim, rounds = 0;

	while (d->n > 1 && again && rounds++ < 16) {
		again = false;
		for (dim = 0; dim < DD_NDIMS; dim++) {
			merge_dim = dim;
			qsort(d->v, d->n, sizeof(*d->v), region_cmp);
			for (i = 0, w = 0; i < d->n; i++) {
				struct diff_region *p = w > 0 ? &d->v[w - 1] :
				    NULL, *q = &d->v[i];

				merge_dim = dim;
				if (p != NULL && follows(p->hi[dim], q->lo[dim],
				    q->fam, dim)) {
					struct diff_region t = *q;

					t.lo[dim] = p->lo[dim];
					t.hi[dim] = p->hi[dim];
					if (region_cmp(p, &t) == 0) {
						p->hi[dim] = q->hi[dim];
						again = true;
						continue;
					}
				}
				d->v[w++] = *q;
			}
			d->n = w;
		}
	}
}

/* Interfaces, then family, then where: the order they are printed in. */
static int
region_order(const void *pa, const void *pb)
{
	const struct diff_region *a = pa, *b = pb;
	int c, d;

	if (a->ifa->index != b->ifa->index)
		return a->ifa->index < b->ifa->index ? -1 : 1;
	if (a->fam != b->fam)
		return a->fam < b->fam ? -1 : 1;
	for (d = 0; d < DD_NDIMS; d++)
		if ((c = u128_cmp(a->lo[d], b->lo[d])) != 0)
			return c;
	return 0;
}

/* ---- examples ---------------------------------------------------------- */

#define EXAMPLES_MAX	256	/* regions whose example is chosen again */

/* An address of [lo, hi] (family fam) to show: a documentation address
 * for "any", the upper end of a range that starts at the family's first
 * address (0.0.0.0 is no one's), else the lower end. */
static u128
nice_addr(u128 lo, u128 hi, enum addr_family fam)
{
	u128 first = fam == FAM_V4 ? V4_BASE : 0;
	u128 last = fam == FAM_V4 ? V4_LAST : U128_MAX;

	if (lo == first && hi == last)
		return fam == FAM_V4 ? V4_BASE | 0xcb00710au :	/* 203.0.113.10 */
		    (u128)0x20010db8u << 96 | 0x10;		/* 2001:db8::10 */
	if (lo == first && lo != hi)
		return hi;
	return lo;
}

/* Each region's example flow chosen for a reader (see nice_addr), and
 * its verdicts evaluated again at it: every flow of the region is decided
 * alike, by the same rules. */
static void
nice_examples(const struct policy *a, const struct policy *b,
    struct policy_diff *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->n && n < EXAMPLES_MAX; i++) {
		struct diff_region *g = &d->v[i];
		u128 s = nice_addr(g->lo[DD_SRC], g->hi[DD_SRC], g->fam);
		u128 t = nice_addr(g->lo[DD_DST], g->hi[DD_DST], g->fam);

		if (s == g->ex_a.src && t == g->ex_a.dst)
			continue;
		g->ex_a.src = g->ex_b.src = s;
		g->ex_a.dst = g->ex_b.dst = t;
		policy_eval(a, &g->ex_a, &g->va);
		policy_eval(b, &g->ex_b, &g->vb);
		n++;
	}
}

/* ---- the whole -------------------------------------------------------- */

size_t *
diff_iface_rules(const struct policy *p, const struct iface *ifc, size_t *n)
{
	size_t i, *v = malloc((p->nrule + 1) * sizeof(*v));

	*n = 0;
	if (v == NULL)
		return NULL;
	for (i = 0; i < p->nrule; i++)
		if (!p->rules[i]->disabled && p->rules[i]->iface == ifc)
			v[(*n)++] = i;
	return v;
}

/* diff_iface_rules for every interface of p at once, in one pass over the
 * rules (100,000 rules were read once an interface): v[i] and n[i] for
 * p->ifaces[i].  0, or -1 when memory runs out (what was made freed). */
static int
iface_rule_lists(const struct policy *p, size_t **v, size_t *n)
{
	size_t i, j;

	for (i = 0; i < p->niface; i++) {
		n[i] = 0;
		if ((v[i] = malloc((p->nrule + 1) * sizeof(*v[i]))) == NULL) {
			while (i-- > 0)
				free(v[i]);
			return -1;
		}
	}
	for (j = 0; j < p->nrule; j++) {
		const struct rule *r = p->rules[j];

		if (r->disabled)
			continue;
		for (i = 0; i < p->niface; i++)
			if (r->iface == p->ifaces[i]) {
				v[i][n[i]++] = j;
				break;
			}
	}
	return 0;
}

struct suspects {
	struct iset	(*v)[DD_NDIMS];
	size_t		 n, cap;
	struct ival	*ranges;	/* the 1:1s' (2 each, a's then b's) */
	struct arena	 a;		/* the sets made here (in_place) */
};

static const struct ival any_ival = { 0, U128_MAX };
static const struct iset any_set = { 1, (struct ival *)&any_ival };

static int
push(struct suspects *su, struct iset src, struct iset dst, struct iset when,
    struct iset svc)
{
	if (su->n == su->cap) {
		size_t c = su->cap ? su->cap * 2 : 16;
		void *v = realloc(su->v, c * sizeof(*su->v));

		if (v == NULL)
			return -1;
		su->v = v;
		su->cap = c;
	}
	su->v[su->n][DD_SRC] = src;
	su->v[su->n][DD_DST] = dst;
	su->v[su->n][DD_TIME] = when;
	su->v[su->n][DD_SVC] = svc;
	su->n++;
	return 0;
}

/*
 * Whether interface ifc's rules differ only in place: the same number on
 * both sides, and each rule either the same (rule_same) or changed in one
 * of its source, destination or service sets and nothing else (an object
 * gained or lost a member).  Then the flows the two sides may decide
 * differently are those a changed rule holds on one side only: its other
 * sets times the symmetric difference of the changed one (outside it,
 * every rule holds a flow on both sides or on neither, so the first to
 * hold it is the same).  Pushed as the suspects, instead of the two whole
 * rules: one address added to an object of 10,000 is one address to look
 * at, not 10,000.  False, with nothing pushed, when they differ otherwise.
 */
static bool
in_place(struct ctx *x, struct suspects *su, size_t most, int *rc)
{
	const struct policy *a = x->s[0].p, *b = x->s[1].p;
	size_t i, n0 = su->n;
	int dim;

	if (x->s[0].nall != x->s[1].nall)
		return false;
	for (i = 0; i < x->s[0].nall; i++) {
		const struct rule *ra = a->rules[x->s[0].all[i]];
		const struct rule *rb = b->rules[x->s[1].all[i]];
		struct iset sa[3] = { ra->src.set, ra->dst.set, ra->svc.set };
		struct iset sb[3] = { rb->src.set, rb->dst.set, rb->svc.set };
		struct iset box[3];
		int k, nd = 0;

		if (ra->action != rb->action || ra->disabled != rb->disabled ||
		    !opt_set_eq(ra->sched, rb->sched) ||
		    (ra->gw.name == NULL) != (rb->gw.name == NULL) ||
		    (ra->gw.name != NULL && strcmp(ra->gw.name, rb->gw.name)
		    != 0))
			goto no;
		for (k = 0, dim = -1; k < 3; k++)
			if (!iset_equal(sa[k], sb[k])) {
				dim = k;
				nd++;
			}
		if (nd == 0)
			continue;
		/* More boxes than Myers' changed rules (a move shifts every
		 * rule between its places): those are fewer. */
		if (nd > 1 || su->n - n0 >= most)
			goto no;
		for (k = 0; k < 3; k++)
			box[k] = sa[k];
		box[dim] = iset_union(&su->a, iset_diff(&su->a, sa[dim],
		    sb[dim]), iset_diff(&su->a, sb[dim], sa[dim]));
		*rc |= push(su, box[0], box[1], ra->sched != NULL ?
		    ra->sched->set : any_set, box[2]);
	}
	return true;
no:
	su->n = n0;
	return false;
}

/*
 * The suspects of interface ifc (doc/design/diff.md): each side's changed
 * rules; with rs->lockout the anti-lockout rules, with rs->nat_rules the
 * nat source rules, with rs->ones the 1:1s' inside addresses (their
 * source NAT); and, with any suspect or reach, every forward's and 1:1's
 * preimage (flows whose destination the rules see translated).  0, or -1
 * when memory runs out.
 */
static int
add_suspects(struct ctx *x, const bool *changed[2], const struct rest *rs,
    bool reach, struct suspects *su)
{
	size_t i, j, nch = 0;
	int s, rc = 0;
	bool paired;

	for (s = 0; s < 2; s++)
		for (i = 0; i < x->s[s].nall; i++)
			nch += changed[s][x->s[s].all[i]];
	paired = in_place(x, su, nch, &rc);

	for (s = 0; s < 2; s++) {
		const struct policy *p = x->s[s].p;

		for (i = 0; !paired && i < x->s[s].nall; i++) {
			const struct rule *r = p->rules[x->s[s].all[i]];

			if (changed[s][x->s[s].all[i]])
				rc |= push(su, r->src.set, r->dst.set,
				    r->sched != NULL ? r->sched->set : any_set,
				    r->svc.set);
		}
		if (rs->lockout && p->lockout_rule != NULL &&
		    strcmp(p->lockout_rule->iface->name, x->s[s].ifc->name) ==
		    0)
			rc |= push(su, p->lockout_rule->src.set,
			    p->lockout_rule->dst.set, any_set,
			    p->lockout_rule->svc.set);
		for (i = 0; rs->nat_rules && i < p->nnat_rule; i++)
			rc |= push(su, p->nat_rules[i]->src.set,
			    p->nat_rules[i]->dst.set, any_set,
			    p->nat_rules[i]->svc.set);
	}
	if (rc == -1 || (su->n == 0 && !reach && !rs->forwards && !rs->ones))
		return rc;
	for (s = 0; s < 2; s++) {
		const struct policy *p = x->s[s].p;

		for (j = 0; j < p->nforward; j++)
			rc |= push(su, any_set,
			    p->forwards[j]->iface->ip_obj->set, any_set,
			    p->forwards[j]->svc.set);
		for (j = 0; j < p->nnat_one; j++) {
			const struct nat_one *o = p->nat_ones[j];
			struct ival *v = su->ranges + 2 * (s *
			    x->s[0].p->nnat_one + j);
			struct iset pub = { 1, v }, in = { 1, v + 1 };

			if (o->size == 0)
				continue;
			v[0].lo = o->pub_lo;
			v[0].hi = o->pub_lo + o->size - 1;
			v[1].lo = o->in_lo;
			v[1].hi = o->in_lo + o->size - 1;
			rc |= push(su, any_set, pub, any_set, any_set);
			if (rs->ones)
				rc |= push(su, in, any_set, any_set, any_set);
		}
	}
	return rc;
}

static int	diff_run(const struct policy *, const struct policy *, size_t,
		    long long, bool, struct policy_diff *);

int
policy_diff(const struct policy *a, const struct policy *b,
    size_t max_cells, struct policy_diff *d)
{
	return diff_run(a, b, max_cells, 0, false, d);
}

int
policy_diff_until(const struct policy *a, const struct policy *b,
    size_t max_cells, long long ms, struct policy_diff *d)
{
	return diff_run(a, b, max_cells, ms, false, d);
}

int
policy_diff_plain(const struct policy *a, const struct policy *b,
    size_t max_cells, struct policy_diff *d)
{
	return diff_run(a, b, max_cells, 0, true, d);
}

static int
diff_run(const struct policy *a, const struct policy *b, size_t max_cells,
    long long ms, bool plain, struct policy_diff *d)
{
	struct seq sa = { a, NULL }, sb = { b, NULL };
	bool *ch[2] = { NULL, NULL };
	const bool *chc[2];
	struct suspects su = { NULL, 0, 0, NULL, { 0 } };
	struct rest rs;
	size_t **all[2] = { NULL, NULL }, *nall[2] = { NULL, NULL };
	size_t i, j;
	struct ctx x;
	int rc = -1, f;

	memset(d, 0, sizeof(*d));
	memset(&x, 0, sizeof(x));
	arena_init(&su.a);
	su.ranges = calloc(2 * (a->nnat_one + b->nnat_one) + 1,
	    sizeof(*su.ranges));
	d->complete = true;
	d->timed = a->nsched > 0 || b->nsched > 0;
	d->only_a = calloc(a->niface + 1, sizeof(*d->only_a));
	d->only_b = calloc(b->niface + 1, sizeof(*d->only_b));
	sa.h = calloc(a->nrule + 1, sizeof(*sa.h));
	sb.h = calloc(b->nrule + 1, sizeof(*sb.h));
	ch[0] = calloc(a->nrule + 1, sizeof(bool));
	ch[1] = calloc(b->nrule + 1, sizeof(bool));
	if (d->only_a == NULL || d->only_b == NULL || sa.h == NULL ||
	    sb.h == NULL || ch[0] == NULL || ch[1] == NULL ||
	    su.ranges == NULL)
		goto out;
	for (i = 0; i < a->niface; i++)
		if (policy_iface(b, a->ifaces[i]->name) == NULL ||
		    strcmp(policy_iface(b, a->ifaces[i]->name)->name,
		    a->ifaces[i]->name) != 0)
			d->only_a[d->nonly_a++] = a->ifaces[i];
	for (i = 0; i < b->niface; i++)
		if (policy_iface(a, b->ifaces[i]->name) == NULL ||
		    strcmp(policy_iface(a, b->ifaces[i]->name)->name,
		    b->ifaces[i]->name) != 0)
			d->only_b[d->nonly_b++] = b->ifaces[i];
	for (j = 0; j < 2; j++) {
		const struct policy *p = j ? b : a;

		if ((all[j] = calloc(p->niface + 1, sizeof(*all[j]))) ==
		    NULL || (nall[j] = calloc(p->niface + 1,
		    sizeof(*nall[j]))) == NULL ||
		    iface_rule_lists(p, all[j], nall[j]) == -1) {
			free(all[j]);
			all[j] = NULL;
			goto out;
		}
	}
	rest_compare(a, b, &rs);
	d->narrowed = !rs.whole;
	if (d->narrowed) {
		/* More edits than Myers' pass keeps: the whole space, cut
		 * at the rules' medians, rather than thousands of suspects. */
		if (changed_rules(&sa, a->nrule, &sb, b->nrule, ch[0],
		    ch[1]) == -1)
			d->narrowed = false;
	}
	chc[0] = ch[0];
	chc[1] = ch[1];
	x.d = d;
	x.max_cells = max_cells;
	x.deadline = ms > 0 ? clock_ms() + ms : 0;
	x.s[0].list_all = x.s[1].list_all = plain;
	for (i = 0; i < a->niface; i++) {
		const struct iface *ia = a->ifaces[i];
		const struct iface *ib = policy_iface(b, ia->name);
		static const struct { enum addr_family fam; u128 lo, hi; }
		    spans[] = {
			{ FAM_V4, V4_BASE, V4_LAST },
			{ FAM_V6, 0, U128_MAX },
		};

		if (ib == NULL || strcmp(ib->name, ia->name) != 0)
			continue;
		x.s[0].p = a;
		x.s[0].ifc = ia;
		x.s[1].p = b;
		x.s[1].ifc = ib;
		x.s[0].all = all[0][i];
		x.s[0].nall = nall[0][i];
		x.untranslated[0] = untranslated(a, ia);
		x.untranslated[1] = untranslated(b, ib);
		for (j = 0; j < b->niface; j++)
			if (b->ifaces[j] == ib) {
				x.s[1].all = all[1][j];
				x.s[1].nall = nall[1][j];
			}
		su.n = 0;
		x.whole = !d->narrowed;
		x.reach = policy_iface_default(ia) != policy_iface_default(ib);
		if (d->narrowed && add_suspects(&x, chc, &rs, x.reach, &su) ==
		    -1) {
			x.failed = -1;
			goto next;
		}
		x.sus = (const struct iset (*)[DD_NDIMS])su.v;
		x.nsus = su.n;
		if (!x.whole && !x.reach && su.n == 0)
			goto next;
		for (f = 0; f < 2; f++) {
			struct diff_cell c;
			struct diff_cands k0 = { .list = NULL };
			struct diff_cands k1 = { .list = NULL };

			x.fam = spans[f].fam;
			c.lo[DD_SRC] = c.lo[DD_DST] = spans[f].lo;
			c.hi[DD_SRC] = c.hi[DD_DST] = spans[f].hi;
			c.lo[DD_TIME] = 0;
			c.hi[DD_TIME] = SCHED_WEEK - 1;
			c.lo[DD_SVC] = 0;
			c.hi[DD_SVC] = (u128)256 << 16;
			c.hi[DD_SVC]--;
			walk(&x, &c, &k0, &k1, 0);
		}
next:
		x.s[0].all = x.s[1].all = NULL;
		if (x.failed)
			goto out;
	}
	merge_regions(d);
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), region_order);
	nice_examples(a, b, d);
	rc = 0;
out:
	for (j = 0; j < 2; j++) {
		const struct policy *p = j ? b : a;

		for (i = 0; all[j] != NULL && i < p->niface; i++)
			free(all[j][i]);
		free(all[j]);
		free(nall[j]);
		free(ch[j]);
	}
	free(sa.h);
	free(sb.h);
	free(su.v);
	free(su.ranges);
	arena_free(&su.a);
	if (rc == -1)
		policy_diff_free(d);
	return rc;
}

void
policy_diff_free(struct policy_diff *d)
{
	free(d->v);
	free(d->only_a);
	free(d->only_b);
	memset(d, 0, sizeof(*d));
}

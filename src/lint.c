/* lint.c: rules that can never match, and other findings of `moat check`.
 *
 * A rule matches a box: interface × source set × destination set × service
 * set, each dimension an interval set (so excludes, lists, ranges and
 * several protocols are exact, not approximated).  A rule can never match
 * when the boxes of the earlier rules on its interface cover its own box.
 * We subtract each overlapping earlier box from the rule's box; a difference
 * of boxes is a union of at most three boxes, so what remains is a list of
 * disjoint boxes, and the rule is dead exactly when the list runs empty.
 *
 * Only earlier rules that overlap the rule matter.  They are found through
 * an index per interface and dimension: rules sorted by the low end of their
 * hull with a max-high augmentation (an implicit interval tree), plus sorted
 * low and high ends to count overlaps in O(log n) and query the dimension
 * with the fewest candidates.
 */
#include "lint.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

#define BOXES_MAX	4096	/* past this many pieces, give up on a rule */

struct box {
	struct iset	d[3];	/* source, destination, service */
};

struct dim_index {
	size_t		 n;
	u128		*lo, *hi;	/* hulls in order of lo */
	u128		*maxhi;		/* implicit tree: max hi of subtree */
	u128		*los, *his;	/* sorted ends, for counting */
	size_t		*id;		/* position in the group */
};

struct group {
	struct rule	**rules;	/* enabled rules of one interface */
	size_t		  n;
	struct dim_index  dim[3];
};

struct lint {
	struct policy		*p;
	struct arena		*a;
	struct lint_stats	*st;
	size_t			*found;		/* candidates of the current rule */
	size_t			 nfound;
	size_t			 self;		/* position of the current rule */
	const struct group	*g;
	u128			 qlo[3], qhi[3];
};

static struct iset *
rule_dim(struct rule *r, int k)
{
	return k == 0 ? &r->src.set : k == 1 ? &r->dst.set : &r->svc.set;
}

static u128
hull_lo(const struct iset *s)
{
	return s->v[0].lo;
}

static u128
hull_hi(const struct iset *s)
{
	return s->v[s->n - 1].hi;
}

static int
u128_cmp(const void *pa, const void *pb)
{
	u128 a = *(const u128 *)pa, b = *(const u128 *)pb;

	return a < b ? -1 : a > b;
}

struct sort_item {
	u128	lo, hi;
	size_t	id;
};

static int
item_cmp(const void *pa, const void *pb)
{
	const struct sort_item *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static u128
tree_build(struct dim_index *x, size_t l, size_t r)
{
	size_t mid;
	u128 m, sub;

	if (l >= r)
		return 0;
	mid = l + (r - l) / 2;
	m = x->hi[mid];
	if ((sub = tree_build(x, l, mid)) > m)
		m = sub;
	if ((sub = tree_build(x, mid + 1, r)) > m)
		m = sub;
	x->maxhi[mid] = m;
	return m;
}

static void
index_build(struct arena *a, struct group *g, int k)
{
	struct dim_index *x = &g->dim[k];
	struct sort_item *items;
	size_t i;

	x->n = g->n;
	items = arena_array(a, g->n + 1, sizeof(*items));
	x->lo = arena_array(a, g->n + 1, sizeof(u128));
	x->hi = arena_array(a, g->n + 1, sizeof(u128));
	x->maxhi = arena_array(a, g->n + 1, sizeof(u128));
	x->los = arena_array(a, g->n + 1, sizeof(u128));
	x->his = arena_array(a, g->n + 1, sizeof(u128));
	x->id = arena_array(a, g->n + 1, sizeof(size_t));
	for (i = 0; i < g->n; i++) {
		struct iset *s = rule_dim(g->rules[i], k);

		items[i].lo = x->los[i] = hull_lo(s);
		items[i].hi = x->his[i] = hull_hi(s);
		items[i].id = i;
	}
	qsort(items, g->n, sizeof(*items), item_cmp);
	for (i = 0; i < g->n; i++) {
		x->lo[i] = items[i].lo;
		x->hi[i] = items[i].hi;
		x->id[i] = items[i].id;
	}
	qsort(x->los, g->n, sizeof(u128), u128_cmp);
	qsort(x->his, g->n, sizeof(u128), u128_cmp);
	tree_build(x, 0, g->n);
}

/* Number of values in sorted v (n of them) that are < key (or <= key). */
static size_t
count_below(const u128 *v, size_t n, u128 key, bool inclusive)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < key || (inclusive && v[mid] == key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many hulls of this dimension overlap [a, b]. */
static size_t
index_count(const struct dim_index *x, u128 a, u128 b)
{
	size_t above = x->n - count_below(x->los, x->n, b, true);
	size_t below = count_below(x->his, x->n, a, false);

	return x->n - above - below;
}

static bool
hulls_overlap(struct lint *L, size_t id)
{
	int k;

	for (k = 0; k < 3; k++) {
		struct iset *s = rule_dim(L->g->rules[id], k);

		if (hull_hi(s) < L->qlo[k] || hull_lo(s) > L->qhi[k])
			return false;
	}
	return true;
}

static void
index_query(struct lint *L, const struct dim_index *x, size_t l, size_t r,
    int k)
{
	size_t mid;

	while (l < r) {
		mid = l + (r - l) / 2;
		if (x->maxhi[mid] < L->qlo[k])
			return;
		index_query(L, x, l, mid, k);
		if (x->lo[mid] > L->qhi[k])
			return;
		if (x->hi[mid] >= L->qlo[k] && x->id[mid] < L->self &&
		    hulls_overlap(L, x->id[mid]))
			L->found[L->nfound++] = x->id[mid];
		l = mid + 1;
	}
}

static int
size_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return a < b ? -1 : a > b;
}

static bool
box_overlaps(const struct box *x, struct rule *r)
{
	int k;

	for (k = 0; k < 3; k++)
		if (!iset_overlaps(x->d[k], *rule_dim(r, k)))
			return false;
	return true;
}

/*
 * Replace boxes by boxes minus rule c.  Returns the new count, or
 * (size_t)-1 past BOXES_MAX.  *hit says whether c removed anything.
 */
static size_t
subtract(struct arena *a, struct box **boxes, size_t n, struct rule *c,
    bool *hit)
{
	struct box *out = NULL;
	size_t i, nout = 0, cap = 0;
	int k, j;

	*hit = false;
	for (i = 0; i < n; i++) {
		struct box cur = (*boxes)[i];

		if (!box_overlaps(&cur, c)) {
			ARENA_PUSH(a, out, nout, cap);
			out[nout - 1] = cur;
			continue;
		}
		*hit = true;
		/* cur \ c = ∪_k (cur ∩ c in dims < k) × (cur_k \ c_k) × cur */
		for (k = 0; k < 3; k++) {
			struct box piece = cur;

			for (j = 0; j < k; j++)
				piece.d[j] = iset_inter(a, cur.d[j],
				    *rule_dim(c, j));
			piece.d[k] = iset_diff(a, cur.d[k], *rule_dim(c, k));
			if (iset_empty(piece.d[k]))
				continue;
			ARENA_PUSH(a, out, nout, cap);
			out[nout - 1] = piece;
		}
		if (nout > BOXES_MAX)
			return (size_t)-1;
	}
	*boxes = out;
	return nout;
}

#define NUMS_SHOWN	8	/* covering rules named in one warning */

struct finding {
	size_t	n;			/* pieces left: 0 dead, -1 undecided */
	size_t	nums[NUMS_SHOWN];	/* the first covering rules */
	size_t	nnums;			/* how many covering rules in all */
	bool	lockout;		/* the anti-lockout rule covers some */
	size_t	first_other;		/* first coverer with another verdict */
	bool	other;			/* some coverer has another verdict */
};

static void
list_rules(char *buf, size_t len, const struct finding *f)
{
	size_t i, off = 0, shown = f->nnums < NUMS_SHOWN ? f->nnums :
	    NUMS_SHOWN;

	buf[0] = '\0';
	if (f->lockout)
		off += (size_t)snprintf(buf, len, "the anti-lockout rule%s",
		    f->nnums > 0 ? " and " : "");
	if (f->nnums > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "rule%s ",
		    f->nnums > 1 ? "s" : "");
	for (i = 0; i < shown && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%zu%s",
		    f->nums[i], i + 2 < shown ? ", " : i + 1 < shown ?
		    (shown < f->nnums ? ", " : " and ") : "");
	if (shown < f->nnums && off < len)
		snprintf(buf + off, len - off, " and %zu more",
		    f->nnums - shown);
}

/* Say what check_rule found about rule r. */
static void
report(struct lint *L, struct rule *r, const struct finding *f)
{
	bool plural = f->nnums + f->lockout > 1;
	char who[320];

	list_rules(who, sizeof(who), f);
	if (f->n == (size_t)-1) {
		L->st->too_complex++;
		diag_add(&L->p->diags, DIAG_NOTE, r->loc, "rule %d overlaps "
		    "earlier rules in too many pieces to decide whether it can "
		    "match", r->number);
	} else if (f->n > 0) {
		if (f->lockout && r->action != ACT_ACCEPT)
			diag_add(&L->p->diags, DIAG_NOTE, r->loc, "rule %d does "
			    "not apply to SSH, HTTP and HTTPS to %sIP: the "
			    "anti-lockout rule accepts those first", r->number,
			    r->iface->name);
		return;
	}
	L->st->shadowed++;
	r->dead = true;
	if (f->other && f->first_other > 0)
		diag_warn(&L->p->diags, r->loc, "rule %d can never match: %s "
		    "decide%s all of its traffic first, with another verdict; "
		    "to make it count, move it above rule %zu", r->number, who,
		    plural ? "" : "s", f->first_other);
	else if (f->other)
		diag_warn(&L->p->diags, r->loc, "rule %d can never match: %s "
		    "decide%s all of its traffic first (anti-lockout off to let "
		    "rules decide it)", r->number, who, plural ? "" : "s");
	else
		diag_warn(&L->p->diags, r->loc, "rule %d can never match: %s "
		    "cover%s all of its traffic with the same verdict; it is "
		    "redundant", r->number, who, plural ? "" : "s");
}

static void
check_rule(struct lint *L, struct group *g, size_t self)
{
	struct rule *r = g->rules[self], *lock = L->p->lockout_rule;
	struct arena_mark mark = arena_save(L->a);
	struct finding f = { .n = 1 };
	struct box *boxes;
	size_t i, best = 0;
	bool hit;
	int k;

	L->st->rules++;
	L->self = self;
	L->g = g;
	L->nfound = 0;
	for (k = 0; k < 3; k++) {
		L->qlo[k] = hull_lo(rule_dim(r, k));
		L->qhi[k] = hull_hi(rule_dim(r, k));
	}
	/* Query the dimension where the fewest hulls overlap. */
	for (k = 1; k < 3; k++)
		if (index_count(&g->dim[k], L->qlo[k], L->qhi[k]) <
		    index_count(&g->dim[best], L->qlo[best], L->qhi[best]))
			best = (size_t)k;
	index_query(L, &g->dim[best], 0, g->dim[best].n, (int)best);
	qsort(L->found, L->nfound, sizeof(*L->found), size_cmp);

	boxes = arena_alloc(L->a, sizeof(*boxes));
	for (k = 0; k < 3; k++)
		boxes[0].d[k] = *rule_dim(r, k);
	if (lock != NULL && lock->iface == r->iface) {
		f.n = subtract(L->a, &boxes, f.n, lock, &f.lockout);
		f.other = f.lockout && r->action != ACT_ACCEPT;
	}
	for (i = 0; i < L->nfound && f.n != 0 && f.n != (size_t)-1; i++) {
		struct rule *c = g->rules[L->found[i]];

		L->st->candidates++;
		f.n = subtract(L->a, &boxes, f.n, c, &hit);
		if (!hit)
			continue;
		if (f.nnums < NUMS_SHOWN)
			f.nums[f.nnums] = (size_t)c->number;
		f.nnums++;
		if (c->action != r->action && !f.other) {
			f.other = true;
			f.first_other = (size_t)c->number;
		}
	}
	/* Free the pieces before the report allocates its message. */
	arena_restore(L->a, mark);
	report(L, r, &f);
}

static const char *
empty_side(const struct rule *r)
{
	if (iset_empty(r->src.set))
		return "its source matches no address";
	if (iset_empty(r->dst.set))
		return "its destination matches no address";
	if (iset_empty(r->svc.set))
		return "its services match nothing";
	return NULL;
}

static void
lint_settings(struct lint *L)
{
	struct policy *p = L->p;
	struct loc top = { p->file, 0, 0 };

	if (!p->firewall && p->nrule > 0)
		diag_warn(&p->diags, top, "firewall off: the %zu rules are "
		    "checked but not enforced", p->nrule);
	if (p->anti_lockout && p->firewall && policy_iface(p, "LAN") == NULL &&
	    p->niface > 0)
		diag_warn(&p->diags, top, "anti-lockout is on but no interface "
		    "is named LAN, so nothing keeps the management ports open");
}

int
lint_policy(struct policy *p, struct lint_stats *st)
{
	struct lint L = { .p = p, .a = &p->arena, .st = st };
	struct lint_stats dummy;
	struct group *groups;
	jmp_buf oom;
	size_t i, j;
	int k;

	if (st == NULL)
		L.st = &dummy;
	memset(L.st, 0, sizeof(*L.st));
	if (setjmp(oom) != 0) {
		p->arena.oom = NULL;
		return -1;
	}
	p->arena.oom = &oom;
	lint_settings(&L);
	groups = arena_array(L.a, p->niface + 1, sizeof(*groups));
	L.found = arena_array(L.a, p->nrule + 1, sizeof(*L.found));
	for (i = 0; i < p->niface; i++)
		groups[i].rules = arena_array(L.a, p->nrule + 1,
		    sizeof(struct rule *));
	for (j = 0; j < p->nrule; j++) {
		struct rule *r = p->rules[j];
		const char *why;

		if (r->disabled)
			continue;
		if ((why = empty_side(r)) != NULL) {
			L.st->shadowed++;
			r->dead = true;
			diag_warn(&p->diags, r->loc, "rule %d can never match: "
			    "%s", r->number, why);
			continue;
		}
		for (i = 0; i < p->niface; i++)
			if (p->ifaces[i] == r->iface)
				groups[i].rules[groups[i].n++] = r;
	}
	for (i = 0; i < p->niface; i++) {
		for (k = 0; k < 3; k++)
			index_build(L.a, &groups[i], k);
		for (j = 0; j < groups[i].n; j++)
			check_rule(&L, &groups[i], j);
	}
	p->arena.oom = NULL;
	return 0;
}

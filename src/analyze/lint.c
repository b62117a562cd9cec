/* lint.c: rules that can never match, and other findings of `moat check`.
 *
 * A rule matches a box: interface × source set × destination set × service
 * set, each dimension an interval set (so excludes, lists, ranges and
 * several protocols are exact, not approximated).  A rule can never match
 * when the earlier rules on its interface (and the anti-lockout rule)
 * together cover its box.
 *
 * check_rule() finds the earlier rules that overlap it through an index per
 * interface and dimension, then decides: one of them covers it alone (a
 * subset test); or a volume bound proves some of it is left; or
 * cover_dims() splits the box at every interval end of the rule and the
 * candidates, depth first, and stops at the first piece no one covers.
 * The whole argument is in doc/design/lint.md.
 */
#include "analyze/lint.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/eval.h"
#include "base/clock.h"
#include "base/cores.h"
#include "base/hash.h"
#include "base/seqalign.h"

#define WORK_MAX	(1u << 20)	/* pieces looked at before giving up */
#define SAMPLE		16	/* an index's ends, one sampled in SAMPLE */
#define THREAD_MIN	4096	/* rules from which the interfaces are
				   checked in two threads (when a core is
				   idle: base/cores.h) */
#define REUSE_EDITS_MAX	256	/* rules added and removed on one
				   interface, past which it is checked
				   whole, without the memo */
#define SCAN_MAX	64	/* rules checked again, up to which their
				   candidates are found by a scan, without
				   building the index */

/* Every interval of every rule's set in one dimension, sorted by low end,
 * with the implicit-tree augmentation maxhi.  Hulls would be simpler, but
 * an object of scattered hosts has a hull spanning most of the space. */
struct node {
	u128		 lo, hi;	/* an interval of a rule's set */
	u128		 maxhi;		/* implicit tree: max hi of subtree */
	size_t		 id;		/* position of the interval's rule */
};

struct dim_index {
	size_t		 n;		/* entries */
	struct node	*node;		/* entries in order of lo, one line
					   of the cache each */
	u128		*los, *his;	/* sorted ends, for counting */
	u128		*slos, *shis;	/* every SAMPLE-th of them */
	size_t		 ns;
};

/* What check_rule reads of a rule most often, side by side for the
 * rules of one interface: a broad rule at the end meets tens of thousands
 * of earlier ones, and reading each through its sets' pointers cost more
 * than the tests.  A dimension of one interval is whole here (lo, hi). */
struct box {
	u128		 lo[3], hi[3];	/* hull per dimension */
	long double	 vol[3];	/* points per dimension (volume()) */
	bool		 one[3];	/* the set is [lo, hi] */
	bool		 timeless;	/* no schedule */
};

struct group {
	struct rule	**rules;	/* enabled rules of one interface */
	struct box	 *box;		/* box[i]: of rules[i] */
	size_t		  n;
	struct dim_index  dim[3];
	bool		  indexed;	/* dim[] built */
	/* Reuse (lint_policy_memo): */
	const char	 *name;		/* the interface's */
	struct rule	**old;		/* its rules in the memo's policy */
	size_t		  nold;
	const unsigned char *memo;	/* the memo's records of them */
	size_t		  nmemo;
	uint64_t	  memo_keys;	/* the memo's hash of their keys */
	size_t		 *a2b;		/* old rule -> rule kept, or SEQ_NONE */
	struct strbuf	 *made;		/* this group's records, or NULL */
	uint64_t	  keys;		/* the hash of its rules' keys */
	size_t		  nmade;
	size_t		  reused, checked;
};

struct lint {
	struct policy		*p;
	struct arena		*a;
	struct lint_stats	*st;
	struct diags		*d;		/* the rules' findings go here */
	int			 threads;	/* to check the interfaces */
	size_t			*found;		/* candidates of the current rule */
	size_t			 nfound;
	size_t			*seen;		/* per rule: self + 1 once found */
	size_t			 self;		/* position of the current rule */
	const struct group	*g;
	u128			 hlo[3], hhi[3];	/* hull of the rule */
	u128			 qlo, qhi;		/* interval queried */
	bool			 lockout_noted;	/* said once, not per rule */
	struct box		 lockbox;	/* of the anti-lockout rule */
	struct iset		 family[2];	/* every IPv4, every IPv6 address */
	struct lint_memo	*memo;		/* reuse, or NULL */
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

/* A value to sort and where it came from (the tie's order). */
struct keyed {
	u128	key;
	size_t	pos;
};

/*
 * Sort v (n of them, in order of pos) by key, then by pos, with tmp (n)
 * to move into and count (16 x 256) to count in: a radix sort, a byte a
 * pass from the lowest, stable, so that equal keys keep their order; a
 * byte that all keys share takes no pass (an IPv4 address varies in 4 of
 * its 16, a service in 3).  (qsort's call per comparison of 128-bit keys,
 * and its moves of whole entries, were a seventh of lint's time at
 * 100,000 rules.)
 */
static void
keyed_sort(struct keyed *v, struct keyed *tmp, size_t (*count)[256],
    size_t n)
{
	struct keyed *src = v, *dst = tmp, *t;
	size_t i, b, sum, c;
	int d;

	if (n == 0)
		return;
	memset(count, 0, 16 * sizeof(*count));
	for (i = 0; i < n; i++)
		for (d = 0; d < 16; d++)
			count[d][(size_t)(v[i].key >> (8 * d)) & 0xff]++;
	for (d = 0; d < 16; d++) {
		if (count[d][(size_t)(v[0].key >> (8 * d)) & 0xff] == n)
			continue;	/* one byte in all */
		for (b = 0, sum = 0; b < 256; b++) {
			c = count[d][b];
			count[d][b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++) {
			b = (size_t)(src[i].key >> (8 * d)) & 0xff;
			dst[count[d][b]++] = src[i];
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

static u128
tree_build(struct dim_index *x, size_t l, size_t r)
{
	size_t mid;
	u128 m, sub;

	if (l >= r)
		return 0;
	mid = l + (r - l) / 2;
	m = x->node[mid].hi;
	if ((sub = tree_build(x, l, mid)) > m)
		m = sub;
	if ((sub = tree_build(x, mid + 1, r)) > m)
		m = sub;
	x->node[mid].maxhi = m;
	return m;
}

static void
index_build(struct arena *a, struct group *g, int k)
{
	struct dim_index *x = &g->dim[k];
	struct arena_mark mark;
	struct keyed *lo, *hi, *tmp;
	size_t (*count)[256];
	struct node *in;
	size_t i, j, n = 0;

	for (i = 0; i < g->n; i++)
		n += rule_dim(g->rules[i], k)->n;
	x->n = n;
	x->ns = (n + SAMPLE - 1) / SAMPLE;
	x->node = arena_array(a, n + 1, sizeof(*x->node));
	x->los = arena_array(a, n + 1, sizeof(u128));
	x->his = arena_array(a, n + 1, sizeof(u128));
	x->slos = arena_array(a, x->ns + 1, sizeof(u128));
	x->shis = arena_array(a, x->ns + 1, sizeof(u128));
	/* The entries in rule order, sorted by low end (a rule's own
	 * intervals have distinct low ends, so the tie is the rule's
	 * position); the ends sorted alone, for counting. */
	mark = arena_save(a);
	in = arena_array_raw(a, n + 1, sizeof(*in));
	lo = arena_array_raw(a, n + 1, sizeof(*lo));
	hi = arena_array_raw(a, n + 1, sizeof(*hi));
	tmp = arena_array_raw(a, n + 1, sizeof(*tmp));
	count = arena_array_raw(a, 16, sizeof(*count));
	for (i = 0, n = 0; i < g->n; i++) {
		struct iset *s = rule_dim(g->rules[i], k);

		for (j = 0; j < s->n; j++, n++) {
			in[n].lo = lo[n].key = s->v[j].lo;
			in[n].hi = hi[n].key = s->v[j].hi;
			in[n].maxhi = 0;
			in[n].id = i;
			lo[n].pos = hi[n].pos = n;
		}
	}
	keyed_sort(lo, tmp, count, n);
	keyed_sort(hi, tmp, count, n);
	for (i = 0; i < n; i++) {
		x->node[i] = in[lo[i].pos];
		x->los[i] = lo[i].key;
		x->his[i] = hi[i].key;
	}
	arena_restore(a, mark);
	for (i = 0; i < x->ns; i++) {
		x->slos[i] = x->los[i * SAMPLE];
		x->shis[i] = x->his[i * SAMPLE];
	}
	tree_build(x, 0, n);
}

/* Number of values in sorted v (n of them) that are < key (or <= key),
 * searched among lo..hi. */
static size_t
count_between(const u128 *v, size_t lo, size_t hi, u128 key, bool inclusive)
{
	const u128 *base = v + lo;
	size_t n = hi - lo, half;

	/* Without a branch on the data (a conditional move): the answer
	 * stays in [base, base + n]. */
	if (n == 0)
		return lo;
	if (inclusive) {
		for (; n > 1; n -= half) {
			half = n / 2;
			base = base[half] <= key ? base + half : base;
		}
		return (size_t)(base - v) + (*base <= key);
	}
	for (; n > 1; n -= half) {
		half = n / 2;
		base = base[half] < key ? base + half : base;
	}
	return (size_t)(base - v) + (*base < key);
}

/* The same over all of v, its samples (every SAMPLE-th value, ns of them)
 * searched first: they stay in the cache, and the search of v is left
 * one block of SAMPLE values to read. */
static size_t
count_below(const u128 *v, size_t n, const u128 *sv, size_t ns, u128 key,
    bool inclusive)
{
	size_t c = count_between(sv, 0, ns, key, inclusive);

	/* v[(c - 1) * SAMPLE] is below the key, v[c * SAMPLE] is not. */
	if (c == 0)
		return 0;
	return count_between(v, (c - 1) * SAMPLE + 1,
	    c * SAMPLE < n ? c * SAMPLE : n, key, inclusive);
}

/* How many hulls of this dimension overlap [a, b]. */
static size_t
index_count(const struct dim_index *x, u128 a, u128 b)
{
	size_t above, below;

	/* [a, b] holds every end (ANY, most often): all of them, without
	 * the searches' cache misses. */
	if (x->n == 0 || (a <= x->los[0] && b >= x->his[x->n - 1]))
		return x->n;
	above = x->n - count_below(x->los, x->n, x->slos, x->ns, b, true);
	below = count_below(x->his, x->n, x->shis, x->ns, a, false);

	return x->n - above - below;
}

static bool
overlaps(struct rule *r, struct rule *c)
{
	int k;

	for (k = 0; k < 3; k++)
		if (!iset_overlaps(*rule_dim(r, k), *rule_dim(c, k)))
			return false;
	return true;
}

/* Whether set s meets [lo, hi]. */
static bool
ival_meets(const struct iset *s, u128 lo, u128 hi)
{
	size_t a = 0, b = s->n;

	/* The first interval that ends at lo or later. */
	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (s->v[mid].hi < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < s->n && s->v[a].lo <= hi;
}

/* Whether set s (its hull lo, hi; all of it when one) meets c's set in
 * dimension k, whose box is b: without reading a set that is one
 * interval. */
static bool
box_meets(const struct iset *s, u128 lo, u128 hi, bool one,
    const struct rule *c, const struct box *b, int k)
{
	if (b->hi[k] < lo || b->lo[k] > hi)
		return false;
	if (b->one[k])
		return one || ival_meets(s, b->lo[k], b->hi[k]);
	if (one)
		return ival_meets(rule_dim((struct rule *)c, k), lo, hi);
	return iset_overlaps(*s, *rule_dim((struct rule *)c, k));
}

/* Whether c's set (box b) holds all of set s (its hull lo, hi) in
 * dimension k: iset_subset, from the box alone when c's set is one
 * interval. */
static bool
box_holds(const struct iset *s, u128 lo, u128 hi, const struct rule *c,
    const struct box *b, int k)
{
	if (b->lo[k] > lo || b->hi[k] < hi)
		return false;
	return b->one[k] || iset_subset(*s, *rule_dim((struct rule *)c, k));
}

/* The number of points of a set, roughly (for the volume bound). */
static long double
volume(struct iset s)
{
	long double v = 0;
	size_t i;

	for (i = 0; i < s.n; i++)
		v += (long double)(s.v[i].hi - s.v[i].lo) + 1.0L;
	return v;
}

static void
box_make(struct box *b, struct rule *r)
{
	int k;

	for (k = 0; k < 3; k++) {
		const struct iset *s = rule_dim(r, k);

		/* (An empty set: the anti-lockout rule's, never used.) */
		b->lo[k] = s->n > 0 ? hull_lo(s) : U128_MAX;
		b->hi[k] = s->n > 0 ? hull_hi(s) : 0;
		b->vol[k] = volume(*s);
		b->one[k] = s->n == 1;
	}
	b->timeless = r->sched == NULL;
}

/* Whether rule id overlaps the current rule in every dimension. */
static bool
overlaps_self(struct lint *L, size_t id)
{
	const struct box *b = &L->g->box[id];
	struct rule *c = L->g->rules[id], *r = L->g->rules[L->self];
	int k;

	/* The hulls first: a cheap no for most of the index's answers. */
	for (k = 0; k < 3; k++)
		if (b->hi[k] < L->hlo[k] || b->lo[k] > L->hhi[k])
			return false;
	for (k = 0; k < 3; k++)
		if (!box_meets(rule_dim(r, k), L->hlo[k], L->hhi[k],
		    L->g->box[L->self].one[k], c, b, k))
			return false;
	return true;
}

/* Add the earlier rules with an interval overlapping [qlo, qhi]. */
static void
index_query(struct lint *L, const struct dim_index *x, size_t l, size_t r)
{
	const struct node *e;
	size_t mid;

	while (l < r) {
		mid = l + (r - l) / 2;
		e = &x->node[mid];
		if (e->maxhi < L->qlo)
			return;
		index_query(L, x, l, mid);
		if (e->lo > L->qhi)
			return;
		if (e->hi >= L->qlo && e->id < L->self &&
		    L->seen[e->id] != L->self + 1) {
			L->seen[e->id] = L->self + 1;
			if (overlaps_self(L, e->id))
				L->found[L->nfound++] = e->id;
		}
		l = mid + 1;
	}
}

/* How many entries of x overlap set s, counting per interval of s (the
 * hull of an object of scattered hosts would overlap nearly everything);
 * b: s's box, in dimension k. */
static size_t
index_count_set(const struct dim_index *x, const struct iset *s,
    const struct box *b, int k)
{
	size_t i, n = 0;

	if (b->one[k])
		return index_count(x, b->lo[k], b->hi[k]);

	for (i = 0; i < s->n; i++)
		n += index_count(x, s->v[i].lo, s->v[i].hi);
	return n;
}

static int
size_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return a < b ? -1 : a > b;
}

#define NUMS_SHOWN	8	/* covering rules named in one warning */

/* What check_rule found of a rule; rules by their position in the
 * group, so that a memo's finding holds after rules above it move. */
struct finding {
	size_t	n;			/* 0 dead, 1 live, -1 undecided */
	size_t	nums[NUMS_SHOWN];	/* the first covering rules */
	size_t	nnums;			/* how many covering rules in all */
	bool	lockout;		/* the anti-lockout rule covers some */
	size_t	first_other;		/* first coverer with another verdict,
					   its position + 1; 0 none */
	bool	other;			/* some coverer has another verdict */
};

struct cover {
	struct arena	 *a;
	struct rule	 *r;		/* the rule in question */
	struct rule	**c;		/* earlier rules that overlap it */
	const struct box **b;		/* b[i]: c[i]'s box */
	size_t		  nc;
	bool		 *used;		/* c[i] covers a part of r */
	size_t		 *pos[3];	/* sweep: where c[i] sits in the active list */
	long double	  vol[3];	/* points of r per dimension */
	bool		  swept;	/* pos[] made */
	size_t		  work;
	bool		  gave_up;
};

/* Rule c (box b) matches everything rule r matches. */
static bool
covers(const struct rule *c, const struct box *b, struct rule *r)
{
	int k;

	for (k = 0; k < 3; k++) {
		const struct iset *s = rule_dim(r, k);

		if (!box_holds(s, hull_lo(s), hull_hi(s), c, b, k))
			return false;
	}
	return true;
}


static void
list_rules(char *buf, size_t len, const struct group *g,
    const struct finding *f)
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
		off += (size_t)snprintf(buf + off, len - off, "%d%s",
		    g->rules[f->nums[i]]->number, i + 2 < shown ? ", " :
		    i + 1 < shown ?
		    (shown < f->nnums ? ", " : " and ") : "");
	if (shown < f->nnums && off < len)
		snprintf(buf + off, len - off, " and %zu more",
		    f->nnums - shown);
}

/* Say what check_rule found about rule r. */
static void
report(struct lint *L, const struct group *g, struct rule *r,
    const struct finding *f)
{
	bool plural = f->nnums + f->lockout > 1;
	char who[320];

	list_rules(who, sizeof(who), g, f);
	if (f->n == (size_t)-1) {
		L->st->too_complex++;
		diag_add(L->d, DIAG_NOTE, r->loc, "rule %d overlaps "
		    "earlier rules in too many pieces to decide whether it can "
		    "match", r->number);
	} else if (f->n > 0) {
		if (f->lockout && r->action != ACT_ACCEPT &&
		    !L->lockout_noted) {
			L->lockout_noted = true;
			diag_add(L->d, DIAG_NOTE, r->loc, "rule %d (and "
			    "any later rule like it) does not apply to SSH, HTTP "
			    "and HTTPS to %sIP: the anti-lockout rule accepts "
			    "those first", r->number, r->iface->name);
		}
		return;
	}
	L->st->shadowed++;
	r->dead = true;
	if (f->other && f->first_other > 0)
		diag_warn(L->d, r->loc, "rule %d can never match: %s "
		    "decide%s all of its traffic first, with another verdict; "
		    "to make it count, move it above rule %d", r->number, who,
		    plural ? "" : "s", g->rules[f->first_other - 1]->number);
	else if (f->other)
		diag_warn(L->d, r->loc, "rule %d can never match: %s "
		    "decide%s all of its traffic first (anti-lockout off to let "
		    "rules decide it)", r->number, who, plural ? "" : "s");
	else
		diag_warn(L->d, r->loc, "rule %d can never match: %s "
		    "cover%s all of its traffic with the same verdict; it is "
		    "redundant", r->number, who, plural ? "" : "s");
}

struct event {
	u128	at;
	size_t	j;		/* candidate */
	bool	start;		/* it starts here, else it ends here */
};

static int
event_cmp(const void *pa, const void *pb)
{
	const struct event *a = pa, *b = pb;

	return a->at < b->at ? -1 : a->at > b->at;
}

/*
 * A proof that the candidates idx[0..n) leave part of r uncovered in the
 * dimensions of mask: even counted with overlaps, they hold fewer points
 * inside r than r has.  Each term bounds |c ∩ r| from above, and the margin
 * is far above long double's rounding, so "true" is always right.
 */
static bool
too_small(struct cover *cv, unsigned mask, const size_t *idx, size_t n)
{
	long double vr = 1.0L, sum = 0.0L, dim[3] = { 0, 0, 0 };
	size_t i;
	int k;

	for (k = 0; k < 3; k++)
		if (mask & (1u << k)) {
			dim[k] = cv->vol[k];
			vr *= dim[k];
		}
	for (i = 0; i < n; i++) {
		long double vc = 1.0L;

		for (k = 0; k < 3; k++)
			if (mask & (1u << k)) {
				long double d = cv->b[idx[i]]->vol[k];

				vc *= d < dim[k] ? d : dim[k];
			}
		sum += vc;
	}
	return sum * (1.0L + 1e-9L) < vr;
}

/*
 * Whether the rules c[idx[0..n)] cover rule r in the dimensions of mask
 * (the others fixed by the callers).  Cut one dimension at every end of an
 * interval of r or of a candidate: inside one piece every set is all in or
 * all out, so one point of the piece speaks for it.  The dimension with the
 * fewest cuts goes first; a sweep keeps the candidates active at each
 * piece; the volume bound and the first uncovered piece end the search.
 */
static bool
cover_dims(struct cover *cv, unsigned mask, int depth, const size_t *idx,
    size_t n)
{
	size_t i, j, nev = 0, m, nact = 0, best_m = (size_t)-1, *act, *pos;
	struct arena_mark mark;
	struct event *ev;
	struct iset s;
	u128 lo, hi;
	bool ok = true;
	int k, d = -1;

	if (n == 0 || too_small(cv, mask, idx, n))
		return false;
	for (k = 0; k < 3; k++) {
		if (!(mask & (1u << k)))
			continue;
		for (i = 0, m = 0; i < n; i++)
			m += rule_dim(cv->c[idx[i]], k)->n;
		if (m < best_m) {
			best_m = m;
			d = k;
		}
	}
	s = *rule_dim(cv->r, d);
	if (mask == (1u << d)) {
		/* The last dimension: take the candidates away from r's set
		 * until nothing is left.  Sets are short here; most often
		 * one candidate takes it all. */
		for (i = 0; i < n && !iset_empty(s); i++) {
			const struct iset *cs = rule_dim(cv->c[idx[i]], d);
			struct iset left;

			if (!iset_overlaps(s, *cs))
				continue;
			left = iset_subset(s, *cs) ? (struct iset){ 0, NULL } :
			    iset_diff(cv->a, s, *cs);
			cv->used[idx[i]] = true;
			s = left;
		}
		return iset_empty(s);
	}
	lo = hull_lo(&s);
	hi = hull_hi(&s);
	pos = cv->pos[depth];
	ev = arena_array_raw(cv->a, s.n + 2 * best_m, sizeof(*ev));
	for (i = 0; i < s.n; i++) {	/* cuts of r itself, no candidate */
		ev[nev].at = s.v[i].lo;
		ev[nev].j = (size_t)-1;
		ev[nev++].start = false;
	}
	for (i = 0; i < n; i++) {
		const struct iset *cs = rule_dim(cv->c[idx[i]], d);

		for (j = 0; j < cs->n; j++) {
			if (cs->v[j].hi < lo || cs->v[j].lo > hi)
				continue;
			ev[nev].at = cs->v[j].lo > lo ? cs->v[j].lo : lo;
			ev[nev].j = idx[i];
			ev[nev++].start = true;
			if (cs->v[j].hi < hi) {
				ev[nev].at = cs->v[j].hi + 1;
				ev[nev].j = idx[i];
				ev[nev++].start = false;
			}
		}
	}
	qsort(ev, nev, sizeof(*ev), event_cmp);
	act = arena_array_raw(cv->a, n + 1, sizeof(*act));
	for (i = 0; i < nev && ok; ) {
		u128 at = ev[i].at;

		for (; i < nev && ev[i].at == at; i++) {
			size_t c = ev[i].j;

			if (c == (size_t)-1)
				continue;
			if (ev[i].start) {
				pos[c] = nact;
				act[nact++] = c;
			} else {	/* swap-remove */
				act[pos[c]] = act[--nact];
				pos[act[pos[c]]] = pos[c];
			}
		}
		if (!iset_contains(s, at))
			continue;
		if (++cv->work > WORK_MAX) {
			cv->gave_up = true;
			return false;
		}
		/* What the piece below allocates dies with it. */
		mark = arena_save(cv->a);
		ok = cover_dims(cv, mask & ~(1u << d), depth + 1, act, nact);
		arena_restore(cv->a, mark);
	}
	return ok;
}

/*
 * The parts of r that packets can match, one a family: its IPv4 sources
 * to its IPv4 destinations, and the same in IPv6 (never a source of one
 * family to a destination of the other).  Returns how many (0 to 2).
 */
static int
family_parts(struct lint *L, struct rule *r, struct rule part[2])
{
	enum addr_family fs = addr_set_families(r->src.set);
	enum addr_family fd = addr_set_families(r->dst.set);
	int n = 0, f;

	/* Most rules: both sides in one family, the same. */
	if ((fs == FAM_V4 || fs == FAM_V6) && fs == fd) {
		part[0] = *r;
		return 1;
	}
	for (f = 0; f < 2; f++) {
		struct iset fam = L->family[f];
		struct iset src = iset_inter(L->a, r->src.set, fam);
		struct iset dst = iset_inter(L->a, r->dst.set, fam);

		if (iset_empty(src) || iset_empty(dst))
			continue;
		part[n] = *r;
		part[n].src.set = src;
		part[n++].dst.set = dst;
	}
	return n;
}

/* Whether the candidates of cv cover the part p of its rule: one alone
 * (the common case), or several together. */
static bool
part_covered(struct cover *cv, struct rule *p, size_t *idx)
{
	size_t i, n = 0;
	u128 slo = hull_lo(&p->src.set), shi = hull_hi(&p->src.set);
	u128 dlo = hull_lo(&p->dst.set), dhi = hull_hi(&p->dst.set);
	int k;

	for (i = 0; i < cv->nc; i++)
		if (covers(cv->c[i], cv->b[i], p)) {
			cv->used[i] = true;
			return true;
		}
	if (!cv->swept && cv->nc > 0) {	/* once a rule, if needed */
		cv->pos[0] = arena_array(cv->a, cv->nc + 1, sizeof(size_t));
		cv->pos[1] = arena_array(cv->a, cv->nc + 1, sizeof(size_t));
		cv->swept = true;
	}
	/* Only the candidates that meet this part: a rule's IPv6 part
	 * is often met by few of the rules that meet the whole. */
	for (i = 0; i < cv->nc; i++)
		if (box_meets(&p->src.set, slo, shi, p->src.set.n == 1,
		    cv->c[i], cv->b[i], 0) &&
		    box_meets(&p->dst.set, dlo, dhi, p->dst.set.n == 1,
		    cv->c[i], cv->b[i], 1))
			idx[n++] = i;
	if (n == 0)
		return false;
	cv->r = p;
	for (k = 0; k < 3; k++)
		cv->vol[k] = volume(*rule_dim(p, k));
	return cover_dims(cv, 7, 0, idx, n);
}

/*
 * The volume bound of too_small() over every earlier rule of the group and
 * the anti-lockout rule: a superset of the candidates of part p of rule
 * self, none of them read but for its box's volumes.  True proves that
 * part_covered() says p is not covered, with nothing marked used:
 *  - no candidate covers p alone: one that did would add a term of p's
 *    own volume, and the sum would not be below it;
 *  - too_small() of the candidates that meet p (the first test of
 *    cover_dims(), or none meets p) holds: their terms, the same products
 *    of the same volumes, are some of these, so their sum is no larger, up
 *    to the rounding of summing in another order (the lockout rule's term
 *    is added last here, first there): below 1e-13 of the sum for a
 *    million terms of long double, far inside the margin of 1e-6 taken
 *    here instead of 1e-9.
 * A broad rule at the end of a long list is most often shown live by this
 * alone, in one pass over the boxes instead of five over its candidates.
 */
static bool
too_small_all(const struct lint *L, const struct group *g, size_t self,
    struct rule *p)
{
	const struct rule *lock = L->p->lockout_rule;
	long double dim[3], vr = 1.0L, sum = 0.0L;
	size_t i;
	int k;

	for (k = 0; k < 3; k++) {
		dim[k] = volume(*rule_dim(p, k));
		vr *= dim[k];
	}
	for (i = 0; i <= self; i++) {
		const struct box *b = i < self ? &g->box[i] : &L->lockbox;
		long double vc = 1.0L;

		if (i == self && lock == NULL)
			break;
		for (k = 0; k < 3; k++)
			vc *= b->vol[k] < dim[k] ? b->vol[k] : dim[k];
		sum += vc;
	}
	return sum * (1.0L + 1e-6L) < vr;
}

/* Coverer c of rule r into f, in the candidates' order: the anti-lockout
 * rule, or the group's rule at position at. */
static void
tell_coverer(struct finding *f, const struct rule *r, const struct rule *c,
    size_t at, const struct rule *lock)
{
	if (c == lock) {
		f->lockout = true;
		f->other = r->action != ACT_ACCEPT;
		return;
	}
	if (f->nnums < NUMS_SHOWN)
		f->nums[f->nnums] = at;
	f->nnums++;
	if (c->action != r->action && f->first_other == 0) {
		f->other = true;
		f->first_other = at + 1;
	}
}

static bool covers_time(const struct rule *, const struct rule *);

/*
 * Whether each of the np parts of rule self is covered by one rule alone,
 * found without the candidates: then f is what check_rule makes of them.
 * The candidates are the earlier rules that overlap the rule and count at
 * its times, the anti-lockout rule first when it overlaps; a rule that
 * covers a part overlaps the rule (the part is a non-empty piece of it),
 * so the first candidate that covers the part, the one part_covered()
 * marks used, is the anti-lockout rule if it covers it, else the first
 * earlier rule in file order that covers it and counts at its times.
 * False (f untouched) when a part has no such rule.
 */
static bool
covered_alone(struct lint *L, const struct group *g, size_t self,
    struct rule *part, int np, struct finding *f)
{
	struct rule *r = g->rules[self], *lock = L->p->lockout_rule;
	size_t who[2], i;
	int k;

	for (k = 0; k < np; k++) {
		if (lock != NULL && lock->iface == r->iface &&
		    covers(lock, &L->lockbox, &part[k])) {
			who[k] = (size_t)-1;
			continue;
		}
		for (i = 0; i < self; i++)
			if (covers(g->rules[i], &g->box[i], &part[k]) &&
			    (g->box[i].timeless ||
			    covers_time(g->rules[i], r)))
				break;
		if (i == self)
			return false;
		who[k] = i;
	}
	/* The used ones in the candidates' order, each once (the
	 * anti-lockout rule's -1 + 1 is 0, first). */
	if (np == 2 && who[1] + 1 < who[0] + 1) {
		i = who[0];
		who[0] = who[1];
		who[1] = i;
	}
	if (np == 2 && who[1] == who[0])
		np = 1;
	f->n = 0;
	for (k = 0; k < np; k++)
		tell_coverer(f, r, who[k] == (size_t)-1 ? lock :
		    g->rules[who[k]], who[k], lock);
	return true;
}

/* An earlier rule c counts toward covering r only when it counts at
 * every time r does: unscheduled, or open whenever r is.  So a scheduled
 * rule never shadows the rules below it outside its windows. */
static bool
covers_time(const struct rule *c, const struct rule *r)
{
	return c->sched == NULL || (r->sched != NULL &&
	    iset_subset(r->sched->set, c->sched->set));
}

/*
 * What rule self of group g is: f.  Its candidates are the earlier rules
 * of the group that overlap it, found through the index when the group
 * has one (g->indexed), else by a scan in file order (the broad rule's
 * way); what is found does not depend on the way (too_small_all and
 * covered_alone say why).
 */
static void
check_rule(struct lint *L, struct group *g, size_t self, struct finding *f)
{
	struct rule *r = g->rules[self], *lock = L->p->lockout_rule;
	struct arena_mark mark = arena_save(L->a);
	struct cover cv = { .a = L->a, .r = r };
	struct rule part[2];
	size_t i, best = 0, *idx, *at, counts[3] = { 0, 0, 0 };
	int k, np = -1;

	memset(f, 0, sizeof(*f));
	f->n = 1;
	L->self = self;
	L->g = g;
	L->nfound = 0;
	for (k = 0; k < 3; k++) {
		L->hlo[k] = g->box[self].lo[k];
		L->hhi[k] = g->box[self].hi[k];
		if (g->indexed)
			counts[k] = index_count_set(&g->dim[k], rule_dim(r, k),
			    &g->box[self], k);
	}
	/* Query the dimension where the fewest intervals overlap. */
	for (k = 1; k < 3; k++)
		if (counts[k] < counts[best])
			best = (size_t)k;
	if (!g->indexed || counts[best] > g->n / 4) {
		/* A broad rule overlaps most rules: first the volume bound
		 * over all of them, which most often says it is live (what
		 * the search below would say, proven at too_small_all()). */
		np = family_parts(L, r, part);
		if (np > 0 && too_small_all(L, g, self, &part[0])) {
			f->n = 1;
			f->lockout = lock != NULL && lock->iface == r->iface &&
			    overlaps(lock, r);
			arena_restore(L->a, mark);
			return;
		}
		/* Or each part is covered by one rule (the end of a policy
		 * after a rule that takes all). */
		if (np > 0 && covered_alone(L, g, self, part, np, f)) {
			arena_restore(L->a, mark);
			return;
		}
		/* Else a plain scan is cheaper than the tree, and comes
		 * out in file order. */
		for (i = 0; i < self; i++)
			if (overlaps_self(L, i))
				L->found[L->nfound++] = i;
	} else {
		for (i = 0; i < rule_dim(r, (int)best)->n; i++) {
			L->qlo = rule_dim(r, (int)best)->v[i].lo;
			L->qhi = rule_dim(r, (int)best)->v[i].hi;
			index_query(L, &g->dim[best], 0, g->dim[best].n);
		}
		qsort(L->found, L->nfound, sizeof(*L->found), size_cmp);
	}
	L->st->candidates += L->nfound;

	/* The candidates in file order, the anti-lockout rule first;
	 * at[i]: c[i]'s position. */
	cv.c = arena_array(L->a, L->nfound + 1, sizeof(*cv.c));
	cv.b = arena_array(L->a, L->nfound + 1, sizeof(*cv.b));
	cv.used = arena_array(L->a, L->nfound + 1, sizeof(*cv.used));
	idx = arena_array(L->a, L->nfound + 1, sizeof(*idx));
	at = arena_array(L->a, L->nfound + 1, sizeof(*at));
	if (lock != NULL && lock->iface == r->iface && overlaps(lock, r)) {
		cv.b[cv.nc] = &L->lockbox;
		at[cv.nc] = (size_t)-1;
		cv.c[cv.nc++] = lock;
	}
	for (i = 0; i < L->nfound; i++)
		if (g->box[L->found[i]].timeless ||
		    covers_time(g->rules[L->found[i]], r)) {
			cv.b[cv.nc] = &g->box[L->found[i]];
			at[cv.nc] = L->found[i];
			cv.c[cv.nc++] = g->rules[L->found[i]];
		}

	/* Dead when each family's part of it is covered: a packet's two
	 * addresses are of one family. */
	if (np < 0)
		np = family_parts(L, r, part);
	for (k = 0, f->n = 0; k < np && f->n == 0; k++)
		if (!part_covered(&cv, &part[k], idx))
			f->n = 1;
	if (cv.gave_up)
		f->n = (size_t)-1;
	for (i = 0; i < cv.nc && f->n == 0; i++)
		if (cv.used[i])
			tell_coverer(f, r, cv.c[i], at[i], lock);
	if (f->n == 1 && cv.nc > 0 && cv.c[0] == lock)
		f->lockout = true;	/* for the note: it overrides a part */
	/* Free the pieces before the report allocates its message. */
	arena_restore(L->a, mark);
}

/* An interface without an address whose XIP or XNET side x names: its
 * empty set is likely a WAN whose address DHCP or PPPoE gives. */
static const struct iface *
addressless(const struct addr_expr *x)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct object *o = x->v[i].obj;

		if (x->v[i].kind == AE_NAME && o != NULL &&
		    (o->kind == OBJ_IFIP || o->kind == OBJ_IFNET) &&
		    o->iface->naddr == 0 && !o->iface->dynamic)
			return o->iface;
	}
	return NULL;
}

/* Whether a service set is ICMP and ICMPv6 types only, none of which can
 * start a connection (policy_icmp_reaches_rules): a rule of it never
 * decides anything (a review, 2026-12-07). */
static bool
icmp_never_new(struct iset svc)
{
	size_t i;

	for (i = 0; i < svc.n; i++) {
		unsigned proto = (unsigned)(svc.v[i].lo >> 16), t;
		unsigned lo = (unsigned)(svc.v[i].lo & 0xffff);
		unsigned hi = (unsigned)(svc.v[i].hi & 0xffff);

		if ((svc.v[i].hi >> 16) != proto || (proto != 1 && proto != 58))
			return false;
		for (t = lo; t <= hi && t <= 255; t++)
			if (policy_icmp_reaches_rules((int)proto, t))
				return false;
	}
	return svc.n > 0;
}

static const char *
empty_side(struct lint *L, const struct rule *r)
{
	const struct addr_expr *x = iset_empty(r->src.set) ? &r->src :
	    iset_empty(r->dst.set) ? &r->dst : NULL;
	const struct iface *ifc;
	enum addr_family fs, fd;

	if (x != NULL && (ifc = addressless(x)) != NULL)
		return arena_printf(L->a, "its %s matches no address: "
		    "interface %s has none (if DHCP or PPPoE gives it one, "
		    "say address dynamic)", x == &r->src ? "source" :
		    "destination", ifc->name);
	if (iset_empty(r->src.set))
		return "its source matches no address";
	if (iset_empty(r->dst.set))
		return "its destination matches no address";
	if (iset_empty(r->svc.set))
		return "its services match nothing";
	fs = addr_set_families(r->src.set);
	fd = addr_set_families(r->dst.set);
	if ((fs & fd) == 0)
		return arena_printf(L->a, "its source is %s and its "
		    "destination %s: a packet has one family",
		    fs == FAM_V4 ? "IPv4 only" : "IPv6 only",
		    fd == FAM_V4 ? "IPv4 only" : "IPv6 only");
	return NULL;
}

/* "4, 7, 9" into list: the enabled rules that uses(rule, what) says use
 * it; how many. */
static size_t
rule_list(const struct policy *p, bool (*uses)(const struct rule *,
    const void *), const void *what, char *list, size_t size)
{
	size_t j, n = 0, len = 0;

	list[0] = '\0';
	for (j = 0; j < p->nrule; j++) {
		size_t room = size - len;

		if (p->rules[j]->disabled || !uses(p->rules[j], what))
			continue;
		if (room > 16)
			len += (size_t)snprintf(list + len, room, "%s%d",
			    n == 0 ? "" : ", ", p->rules[j]->number);
		else if (room > 5)
			len += (size_t)snprintf(list + len, room, ", …");
		n++;
	}
	return n;
}

static bool
uses_iface(const struct rule *r, const void *ifc)
{
	return policy_rule_uses(r, ifc);
}

/* Rules on a dynamic interface's addresses are not judged: what they
 * match changes with the address.  Said once per interface. */
static void
lint_dynamic(struct lint *L)
{
	struct policy *p = L->p;
	size_t i, n;

	for (i = 0; i < p->niface; i++) {
		const struct iface *ifc = p->ifaces[i];
		char list[400];

		if (!ifc->dynamic ||
		    (n = rule_list(p, uses_iface, ifc, list, sizeof(list))) == 0)
			continue;
		diag_add(&p->diags, DIAG_NOTE, ifc->dynamic_loc,
		    "rule%s %s match%s %s's dynamic addresses: not "
		    "checked for shadowing, since what %s match%s "
		    "changes with the address", n == 1 ? "" : "s",
		    list, n == 1 ? "es" : "", ifc->name,
		    n == 1 ? "it" : "they", n == 1 ? "es" : "");
	}
}

/* True when x names feed object o, directly or through objects. */
static bool
expr_names(const struct addr_expr *x, const struct object *o)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct object *e = x->v[i].obj;

		if (x->v[i].kind != AE_NAME || e == NULL)
			continue;
		if (e == o || (e->kind == OBJ_USER &&
		    expr_names(&e->members, o)))
			return true;
	}
	return false;
}

static bool
uses_feed(const struct rule *r, const void *o)
{
	return expr_names(&r->src, o) || expr_names(&r->dst, o);
}

/* Rules on a feed object's addresses are not judged either: they follow
 * its feed.  Said once per object, at the object. */
static void
lint_feeds(struct lint *L)
{
	struct policy *p = L->p;
	size_t i, n;

	for (i = 0; i < p->nobject; i++) {
		const struct object *o = p->objects[i];
		char list[400];

		if (!policy_object_feed(o) ||
		    (n = rule_list(p, uses_feed, o, list, sizeof(list))) == 0)
			continue;
		diag_add(&p->diags, DIAG_NOTE, o->loc, "rule%s %s name%s %s "
		    "object %s: not checked for shadowing, since what %s "
		    "match%s follows its %s (moat test --object %s=… asks "
		    "with given contents)", n == 1 ? "" : "s", list,
		    n == 1 ? "s" : "", policy_feed_kind_name(o->kind), o->name,
		    n == 1 ? "it" : "they", n == 1 ? "es" : "",
		    o->kind == OBJ_FQDN ? "names' DNS records" :
		    o->kind == OBJ_URL ? "list" : "GeoIP database", o->name);
	}
}

/* What the antivirus block will do, said in words: how interception and
 * the rules work together (the seed's pitfall), and settings that do
 * nothing or cannot work. */
static void
lint_antivirus(struct policy *p)
{
	const struct antivirus *av = &p->av;
	bool any_in = false, any_out = false;
	size_t i;

	if (!av->present)
		return;
	if (av->other_scanning) {
		for (i = 0; i < p->nforward; i++)
			any_in |= policy_forward_smtp(p->forwards[i]);
		for (i = 0; i < p->niface && av->outgoing_scanning; i++)
			any_out |= !policy_iface_external(p, p->ifaces[i]);
		if (!any_in && !any_out)
			diag_warn(&p->diags, av->loc, "smtp-other-scanning "
			    "intercepts nothing: there is no port forward of "
			    "SMTP%s", av->outgoing_scanning ? " and no internal "
			    "interface" : ", and smtp-outgoing-scanning is off");
		else if (p->firewall)
			diag_add(&p->diags, DIAG_NOTE, av->loc,
			    "smtp-other-scanning intercepts SMTP (tcp/25)%s%s%s "
			    "only after the rules accept it: a connection a rule "
			    "denies is dropped, not scanned, so rules on SMTP "
			    "keep working (`moat test` says which connections "
			    "are intercepted)", any_out ? " leaving the "
			    "network" : "", any_out && any_in ? " and" : "",
			    any_in ? " to port-forwarded servers" : "");
		else
			diag_add(&p->diags, DIAG_NOTE, av->loc,
			    "firewall off: no rules are enforced, but SMTP "
			    "passing through the gateway is still intercepted "
			    "and scanned");
	}
	if (!av->local_scanning && !av->other_scanning)
		diag_warn(&p->diags, av->loc, "the antivirus block scans "
		    "nothing: smtp-other-scanning and smtp-local-scanning are "
		    "both off");
	/* TLS settings that cannot take effect as written */
	if (av->passthrough_from != NULL && (!av->other_scanning ||
	    av->intercept_tls != AV_TLS_TERMINATE))
		diag_warn(&p->diags, av->passthrough_loc,
		    "smtp-tls-passthrough-from has no effect: it chooses "
		    "passthrough for some intercepted clients when the others "
		    "are terminated, and %s", !av->other_scanning ?
		    "smtp-other-scanning is off" : av->intercept_tls ==
		    AV_TLS_PASSTHROUGH ? "smtp-intercept-tls passthrough "
		    "already passes every client's STARTTLS through" :
		    "smtp-intercept-tls strip offers STARTTLS to no client");
	if (av->tls_upstream == AV_TLS_UP_VERIFY && av->local_scanning)
		diag_add(&p->diags, DIAG_NOTE, av->loc, "smtp-tls-upstream "
		    "verify: smtp-relay-to is written as an address, so the "
		    "relay's certificate is checked against that address: it "
		    "must name it (an IP address in its subjectAltName), or "
		    "the relay's mail is deferred");
	if (av->relay_require_tls && !av->local_scanning)
		diag_warn(&p->diags, av->loc, "smtp-relay-require-tls has no "
		    "effect: smtp-local-scanning is off (there is no relay)");
	if (av->other_scanning && av->intercept_tls == AV_TLS_PASSTHROUGH)
		diag_add(&p->diags, DIAG_NOTE, av->loc, "smtp-intercept-tls "
		    "passthrough: mail of intercepted clients that use "
		    "STARTTLS is not scanned (mail.jsonl says \"not scanned: "
		    "tls passthrough\"); terminate scans it, "
		    "smtp-tls-passthrough-from limits passthrough to the "
		    "senders that need it");
}

static void
lint_settings(struct lint *L)
{
	struct policy *p = L->p;
	struct loc top = { p->file, 0, 0 };

	if (!p->firewall && p->nrule > 0)
		diag_warn(&p->diags, top, "firewall off: the %zu rule%s %s "
		    "checked but not enforced", p->nrule, p->nrule == 1 ? "" :
		    "s", p->nrule == 1 ? "is" : "are");
	if (p->anti_lockout && p->firewall && policy_lan(p) == NULL &&
	    p->niface > 0)
		diag_warn(&p->diags, top, "anti-lockout is on but no interface "
		    "is named " POLICY_LAN ", so nothing keeps the management "
		    "ports open");
	/* (said, not refused: the secret's value is never in a message) */
	if (p->ha.present && p->ha.secret != NULL &&
	    strlen(p->ha.secret) < HA_SECRET_MIN)
		diag_warn(&p->diags, p->ha.loc, "ha { secret } is short (%zu "
		    "characters): the pair signs its sync link's messages "
		    "with it, and whoever reads one, or is named as the peer, "
		    "can test guesses offline; give it %d or more random "
		    "characters", strlen(p->ha.secret), HA_SECRET_MIN);
	lint_antivirus(p);
}

/* Schedules that no rule names. */
static void
lint_schedules(struct lint *L)
{
	struct policy *p = L->p;
	size_t i;

	for (i = 0; i < p->nsched; i++) {
		const struct schedule *s = p->scheds[i];

		if (!s->used)
			diag_warn(&p->diags, s->loc, "schedule %s is not used: "
			    "no rule names it", s->name);
	}
}

/* A gateway that carries nothing of moat's: in no group, not the
 * default, named by no enabled rule. */
static bool
gateway_unused(const struct policy *p, const struct gateway *g)
{
	size_t i, k;
	int f;

	for (i = 0; i < p->ngwgroup; i++)
		for (k = 0; k < p->gwgroups[i]->n; k++)
			if (p->gwgroups[i]->v[k].gw == g)
				return false;
	for (f = 0; f < 2; f++)
		if (p->default_gw[f].gw == g)
			return false;
	for (i = 0; i < p->nrule; i++)
		if (!p->rules[i]->disabled && p->rules[i]->gw.gw == g)
			return false;
	return true;
}

/* Gateway options that look wrong: one that sends connections back out
 * of the interface they arrive on, one on a rule whose connections all go
 * to the gateway itself (never routed); and gateways that carry
 * nothing. */
static void
lint_gateways(struct lint *L)
{
	struct policy *p = L->p;
	struct iset own = { 0, NULL };
	size_t i, k;

	for (i = 0; i < p->ngateway; i++)
		if (gateway_unused(p, p->gateways[i]))
			diag_add(&p->diags, DIAG_NOTE, p->gateways[i]->loc,
			    "gateway %s is in no group, not the default, and "
			    "no rule names it: moatd probes it, and moat sends "
			    "nothing through it", p->gateways[i]->name);
	for (i = 0; i < p->niface; i++)
		if (p->ifaces[i]->ip_obj != NULL)
			own = iset_union(L->a, own, p->ifaces[i]->ip_obj->set);
	for (i = 0; i < p->nrule; i++) {
		const struct rule *r = p->rules[i];
		const struct gateway *same = NULL;

		if (r->disabled || (r->gw.gw == NULL && r->gw.group == NULL))
			continue;
		if (r->gw.gw != NULL && r->gw.gw->iface == r->iface)
			same = r->gw.gw;
		for (k = 0; r->gw.group != NULL && k < r->gw.group->n; k++)
			if (r->gw.group->v[k].gw != NULL &&
			    r->gw.group->v[k].gw->iface == r->iface)
				same = r->gw.group->v[k].gw;
		if (same != NULL)
			diag_add(&p->diags, DIAG_NOTE, r->gw.loc, "rule %d's "
			    "connections arrive on %s, and its gateway option "
			    "sends them back out of %s (gateway %s)", r->number,
			    r->ifname, r->ifname, same->name);
		if (!r->dst.dynamic && !iset_empty(r->dst.set) &&
		    iset_subset(r->dst.set, own))
			diag_add(&p->diags, DIAG_NOTE, r->gw.loc, "rule %d's "
			    "connections go to the gateway's own addresses, "
			    "which no link routes: its gateway option never "
			    "applies", r->number);
	}
}

/*
 * The rules of each interface against the earlier ones of that interface
 * (and the anti-lockout rule): what one interface's check reads of the
 * others is nothing, and what it writes is its own rules' dead flags,
 * its own boxes and index, and its findings.  So with threads, each
 * interface is checked by a job of its own (its arena, scratch, findings
 * and counts), two threads taking the jobs in turn, and the findings are
 * added to the policy's afterwards in the interfaces' order, as checking
 * them one after the other adds them: the same list, in the same order
 * (test_lint_threads compares the two).
 */
struct group_job {
	struct lint		 L;
	struct arena		 a;
	struct diags		 d;
	struct lint_stats	 st;
	struct group		*g;
	int			 rc;
};

struct group_jobs {
	struct group_job	*v;
	size_t			*order;	/* the jobs, the largest first */
	size_t			 n;
	size_t			 next;	/* the next job to take (atomic) */
};

/*
 * Reuse.  check_rule's finding of a rule is a function of the rule, its
 * candidates (the earlier rules of its interface that overlap it, in
 * order) and the anti-lockout rule: the volume bound, the one-rule cover
 * and the search all read only those (too_small_all and covered_alone
 * say why their shortcuts agree with the search).  So a rule kept by an
 * edit, whose interface gained and lost no rule above it that overlaps
 * it, has the candidates it had, and the finding the memo holds, its
 * rules moved to their new positions.  The rules are aligned by a key of
 * what check_rule reads of a rule (its three sets, its schedule's, its
 * verdict), and a kept pair is compared in full, not by its key.
 */
#define MEMO_REC	52	/* bytes of a record (memo_put) */

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t
mix_set(uint64_t h, const struct iset *s)
{
	size_t i;

	h = mix(h, s->n);
	for (i = 0; i < s->n; i++) {
		h = mix(h, (uint64_t)s->v[i].lo);
		h = mix(h, (uint64_t)(s->v[i].lo >> 64));
		h = mix(h, (uint64_t)s->v[i].hi);
		h = mix(h, (uint64_t)(s->v[i].hi >> 64));
	}
	return h;
}

/* What check_rule reads of r, as a key. */
static uint64_t
rule_key(struct rule *r)
{
	uint64_t h = mix(0x6d6f6174, (uint64_t)r->action);
	int k;

	for (k = 0; k < 3; k++)
		h = mix_set(h, rule_dim(r, k));
	return r->sched != NULL ? mix_set(mix(h, 1), &r->sched->set) : h;
}

/* What check_rule reads of a and of b is the same. */
static bool
rule_same(struct rule *a, struct rule *b)
{
	int k;

	if (a->action != b->action || (a->sched == NULL) != (b->sched == NULL) ||
	    (a->sched != NULL && !iset_equal(a->sched->set, b->sched->set)))
		return false;
	for (k = 0; k < 3; k++)
		if (!iset_equal(*rule_dim(a, k), *rule_dim(b, k)))
			return false;
	return true;
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Record f of rule j in g's memo: the rules found dead or undecided (a
 * live rule's finding is its anti-lockout overlap alone, remade). */
static void
memo_put(struct group *g, size_t j, const struct finding *f)
{
	unsigned char rec[MEMO_REC];
	size_t k;

	if (g->made == NULL || f->n == 1)
		return;
	memset(rec, 0, sizeof(rec));
	put32(rec, (uint32_t)j);
	put32(rec + 4, f->n == 0 ? 0 : UINT32_MAX);
	put32(rec + 8, (uint32_t)f->nnums);
	for (k = 0; k < NUMS_SHOWN && k < f->nnums; k++)
		put32(rec + 12 + 4 * k, (uint32_t)f->nums[k]);
	put32(rec + 44, (uint32_t)f->first_other);
	rec[48] = f->lockout;
	rec[49] = f->other;
	strbuf_add(g->made, (const char *)rec, sizeof(rec));
	g->nmade++;
}

/* The finding of the memo's record rec for rule j (from old rule i),
 * its rules at their new positions; false when one is not kept. */
static bool
memo_get(const struct group *g, const unsigned char *rec, struct finding *f)
{
	size_t k, at;

	memset(f, 0, sizeof(*f));
	f->n = get32(rec + 4) == 0 ? 0 : (size_t)-1;
	f->nnums = get32(rec + 8);
	for (k = 0; k < NUMS_SHOWN && k < f->nnums; k++)
		if ((f->nums[k] = g->a2b[get32(rec + 12 + 4 * k)]) == SEQ_NONE)
			return false;
	if ((at = get32(rec + 44)) != 0) {	/* position + 1 */
		if (g->a2b[at - 1] == SEQ_NONE)
			return false;
		f->first_other = g->a2b[at - 1] + 1;
	}
	f->lockout = rec[48] != 0;
	f->other = rec[49] != 0;
	return true;
}

/* Whether rules a (box ba) and b (box bb) overlap in every dimension. */
static bool
boxes_overlap(struct rule *a, const struct box *ba, struct rule *b,
    const struct box *bb)
{
	int k;

	for (k = 0; k < 3; k++)
		if (ba->hi[k] < bb->lo[k] || ba->lo[k] > bb->hi[k])
			return false;
	return overlaps(a, b);
}

/*
 * Which rules of g keep the memo's finding: from[j] the old rule whose
 * finding rule j takes, or SEQ_NONE to check it; *nchk of those.  NULL
 * when the memo does not describe the old rules (their keys' hash), or
 * the edit is too large.
 */
static size_t *
plan_reuse(struct lint *L, struct group *g, const uint64_t *kb, size_t *nchk)
{
	uint64_t *ka, h = mix(0, g->nold);
	size_t *b2a, *from, i, j, nch = 0, nmax = 0;
	struct rule **ch;
	struct box *chb;

	ka = arena_array_raw(L->a, g->nold + 1, sizeof(*ka));
	for (i = 0; i < g->nold; i++)
		h = mix(h, ka[i] = rule_key(g->old[i]));
	if (h != g->memo_keys)
		return NULL;
	g->a2b = arena_array_raw(L->a, g->nold + 1, sizeof(*g->a2b));
	b2a = arena_array_raw(L->a, g->n + 1, sizeof(*b2a));
	if (seq_align(ka, g->nold, kb, g->n, REUSE_EDITS_MAX, g->a2b,
	    b2a) < 0)
		return NULL;
	/* Kept by key: the same in full, or added and removed. */
	for (j = 0; j < g->n; j++)
		if (b2a[j] != SEQ_NONE && !rule_same(g->old[b2a[j]],
		    g->rules[j])) {
			g->a2b[b2a[j]] = SEQ_NONE;
			b2a[j] = SEQ_NONE;
		}
	for (i = 0; i < g->nold; i++)
		nmax += g->a2b[i] == SEQ_NONE;
	for (j = 0; j < g->n; j++)
		nmax += b2a[j] == SEQ_NONE;
	if (nmax > 2 * REUSE_EDITS_MAX)
		return NULL;
	ch = arena_array_raw(L->a, nmax + 1, sizeof(*ch));
	chb = arena_array_raw(L->a, nmax + 1, sizeof(*chb));
	from = arena_array_raw(L->a, g->n + 1, sizeof(*from));
	*nchk = 0;
	for (i = 0, j = 0; j < g->n; j++) {
		size_t c;

		if (b2a[j] == SEQ_NONE) {	/* added: checked */
			from[j] = SEQ_NONE;
			(*nchk)++;
			chb[nch] = g->box[j];
			ch[nch++] = g->rules[j];
			continue;
		}
		for (; i < b2a[j]; i++) {	/* removed above it */
			box_make(&chb[nch], g->old[i]);
			ch[nch++] = g->old[i];
		}
		i = b2a[j] + 1;
		from[j] = b2a[j];
		for (c = 0; c < nch; c++)
			if (boxes_overlap(ch[c], &chb[c], g->rules[j],
			    &g->box[j])) {
				from[j] = SEQ_NONE;
				(*nchk)++;
				break;
			}
	}
	return from;
}

/* Whether the memo's deadline has passed (then it stays passed, for
 * every thread). */
static bool
past_deadline(struct lint *L)
{
	struct lint_memo *m = L->memo;

	if (m == NULL || m->deadline == 0)
		return false;
	if (__atomic_load_n(&m->late, __ATOMIC_RELAXED))
		return true;
	if (clock_ms() < m->deadline)
		return false;
	__atomic_store_n(&m->late, true, __ATOMIC_RELAXED);
	return true;
}

static void
group_check(struct lint *L, struct group *g)
{
	const struct rule *lock = L->p->lockout_rule;
	const unsigned char *rec = g->memo, *end = g->memo == NULL ? NULL :
	    g->memo + g->nmemo * MEMO_REC;
	size_t j, k, *from = NULL, nchk = g->n;
	uint64_t *kb = NULL;
	struct finding f;

	memset(L->seen, 0, (L->p->nrule + 1) * sizeof(*L->seen));
	g->box = arena_array(L->a, g->n + 1, sizeof(*g->box));
	if (g->made != NULL || g->memo != NULL) {
		kb = arena_array_raw(L->a, g->n + 1, sizeof(*kb));
		g->keys = mix(0, g->n);
	}
	/* A rule's box and key in one pass: both read all of its sets, and
	 * at 100,000 rules a second pass found them out of the cache
	 * again (rule_key was a quarter of an apply's lint, most of it the
	 * first read of each set). */
	for (j = 0; j < g->n; j++) {
		box_make(&g->box[j], g->rules[j]);
		if (kb != NULL)
			g->keys = mix(g->keys, kb[j] = rule_key(g->rules[j]));
	}
	if (g->memo != NULL)
		from = plan_reuse(L, g, kb, &nchk);
	if (from == NULL)
		nchk = g->n;
	if (nchk > SCAN_MAX) {
		for (k = 0; k < 3; k++)
			index_build(L->a, g, (int)k);
		g->indexed = true;
	}
	for (j = 0; j < g->n; j++) {
		struct rule *r = g->rules[j];

		if (past_deadline(L))
			break;		/* (said once, by lint_run) */
		L->st->rules++;
		if (from != NULL && from[j] != SEQ_NONE) {
			while (rec < end && get32(rec) < from[j])
				rec += MEMO_REC;
			if (rec == end || get32(rec) != from[j]) {
				/* live: its anti-lockout overlap, remade */
				memset(&f, 0, sizeof(f));
				f.n = 1;
				f.lockout = lock != NULL && lock->iface ==
				    r->iface && overlaps((struct rule *)lock, r);
				g->reused++;
			} else if (memo_get(g, rec, &f))
				g->reused++;
			else
				check_rule(L, g, j, &f);
		} else
			check_rule(L, g, j, &f);
		report(L, g, r, &f);
		memo_put(g, j, &f);
	}
	g->checked = g->n - g->reused;
}

static int
group_job_run(void *arg)
{
	struct group_job *j = arg;

	group_check(&j->L, j->g);
	return 0;
}

/* Take jobs until none is left. */
static void *
group_worker(void *arg)
{
	struct group_jobs *q = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&q->next, 1, __ATOMIC_RELAXED)) <
	    q->n) {
		struct group_job *j = &q->v[q->order[i]];

		j->rc = arena_catch(&j->a, group_job_run, j);
	}
	return NULL;
}

static int
check_groups(struct lint *L, struct group *groups, size_t ngroups)
{
	struct policy *p = L->p;
	struct group_jobs q = { .n = ngroups };
	pthread_t tid;
	bool started;
	size_t i, j;
	int rc = 0;

	if (L->threads < 2 || ngroups < 2) {
		for (i = 0; i < ngroups; i++)
			group_check(L, &groups[i]);
		return 0;
	}
	q.v = arena_array(L->a, ngroups, sizeof(*q.v));
	for (i = 0; i < ngroups; i++) {
		struct group_job *jb = &q.v[i];

		arena_init(&jb->a);
		diags_init(&jb->d, &jb->a);
		jb->L = *L;
		jb->L.a = &jb->a;
		jb->L.d = &jb->d;
		jb->L.st = &jb->st;
		jb->g = &groups[i];
		/* (scratch of the size lint_run gives) */
		jb->L.found = arena_array(&jb->a, p->nrule + 1,
		    sizeof(*jb->L.found));
		jb->L.seen = arena_array(&jb->a, p->nrule + 1,
		    sizeof(*jb->L.seen));
	}
	/* The largest first, so that the two threads end about together;
	 * the findings are added in the interfaces' order all the same. */
	q.order = arena_array(L->a, ngroups, sizeof(*q.order));
	for (i = 0; i < ngroups; i++) {
		for (j = i; j > 0 && groups[q.order[j - 1]].n < groups[i].n;
		    j--)
			q.order[j] = q.order[j - 1];
		q.order[j] = i;
	}
	started = pthread_create(&tid, NULL, group_worker, &q) == 0;
	group_worker(&q);
	if (started)
		pthread_join(tid, NULL);
	for (i = 0; i < ngroups; i++) {
		struct group_job *jb = &q.v[i];

		if (jb->rc == -1)
			rc = -1;
		for (j = 0; rc == 0 && j < jb->d.n; j++)
			diag_add(L->d, jb->d.v[j].severity, jb->d.v[j].loc,
			    "%s", jb->d.v[j].msg);
		L->st->rules += jb->st.rules;
		L->st->shadowed += jb->st.shadowed;
		L->st->candidates += jb->st.candidates;
		L->st->too_complex += jb->st.too_complex;
		L->lockout_noted |= jb->L.lockout_noted;
		arena_free(&jb->a);
	}
	return rc;
}

/* A rule of an interface's group: enabled, of no dynamic object, with
 * something on each side (empty_side). */
static bool
in_group(const struct rule *r)
{
	return !r->disabled && !policy_rule_dynamic(r) &&
	    !iset_empty(r->src.set) && !iset_empty(r->dst.set) &&
	    !iset_empty(r->svc.set) && (addr_set_families(r->src.set) &
	    addr_set_families(r->dst.set)) != 0;
}

/* The anti-lockout rule's key (0 without one). */
static uint64_t
lock_key(const struct policy *p)
{
	const struct rule *r = p->lockout_rule;

	return r == NULL ? 0 : mix(rule_key((struct rule *)r),
	    fnv1a(r->iface->name, strlen(r->iface->name)));
}

/* The memo's form and the meaning of its findings: a new number when
 * check_rule, report or rule_key changes what it finds of a rule (the
 * program's version tag, beside it, may not change in a patched build). */
#define MEMO_HEAD	"moat lint memo 1\n"

/*
 * Read the memo's groups (m->in, of m->old) into g: each interface's
 * records and old rules.  What does not fit (another program, another
 * anti-lockout rule, bytes out of bounds or of another sum) is not read:
 * every rule is then checked.
 */
static void
memo_setup(struct lint *L, struct group *g, size_t ng)
{
	struct lint_memo *m = L->memo;
	const struct policy *old = m->old;
	const struct rule *la = L->p->lockout_rule, *lb;
	const unsigned char *b = (const unsigned char *)m->in, *e, *at;
	size_t head = strlen(MEMO_HEAD), tag, i, j = 0, gi, n, nrec, len,
	    *seen;

	for (i = 0; i < ng; i++)
		if (m->out != NULL)
			g[i].made = arena_alloc(L->a, sizeof(*g[i].made));
	if (old == NULL || b == NULL || m->tag == NULL)
		return;
	lb = old->lockout_rule;
	tag = strlen(m->tag);
	/* head, tag, newline, lock key, groups; the sum at the end */
	if (m->inlen < head + tag + 1 + 8 + 4 + 8 ||
	    memcmp(b, MEMO_HEAD, head) != 0 ||
	    memcmp(b + head, m->tag, tag) != 0 || b[head + tag] != '\n' ||
	    get64(b + m->inlen - 8) != fnv1a(b, m->inlen - 8))
		return;
	/* The same anti-lockout rule, now and in the memo's policy then. */
	if ((la == NULL) != (lb == NULL) || (la != NULL &&
	    (!rule_same((struct rule *)la, (struct rule *)lb) ||
	    strcmp(la->iface->name, lb->iface->name) != 0)))
		return;
	at = b + head + tag + 1;
	e = b + m->inlen - 8;
	if (get64(at) != lock_key(old))
		return;
	n = get32(at + 8);
	at += 12;
	for (; n > 0; n--) {
		struct group *t = NULL;

		if (e - at < 4 || (size_t)(e - at - 4) < (len = get32(at)))
			break;
		for (gi = 0; gi < ng; gi++)
			if (strlen(g[gi].name) == len &&
			    memcmp(g[gi].name, at + 4, len) == 0)
				t = &g[gi];
		at += 4 + len;
		if (e - at < 16)
			break;
		j = get32(at);
		nrec = get32(at + 12);
		if ((size_t)(e - at - 16) / MEMO_REC < nrec)
			break;
		if (t != NULL && t->memo == NULL && j <= old->nrule) {
			t->nold = j;
			t->memo_keys = get64(at + 4);
			t->memo = at + 16;
			t->nmemo = nrec;
		}
		at += 16 + nrec * MEMO_REC;
	}
	if (n > 0 || at != e) {		/* cut short, or more after it */
		for (gi = 0; gi < ng; gi++)
			g[gi].memo = NULL;
		return;
	}
	/* Each group's rules then (its interface's, by name), and the
	 * records' positions in them. */
	seen = arena_array(L->a, ng + 1, sizeof(*seen));
	for (gi = 0; gi < ng; gi++)
		if (g[gi].memo != NULL)
			g[gi].old = arena_array_raw(L->a, g[gi].nold + 1,
			    sizeof(*g[gi].old));
	for (i = 0, gi = ng; i < old->nrule; i++) {
		struct rule *r = old->rules[i];

		if (!in_group(r))
			continue;
		if (gi == ng || r->iface != old->rules[j]->iface)
			for (gi = 0; gi < ng && strcmp(g[gi].name,
			    r->iface->name) != 0; gi++)
				;
		j = i;
		if (gi < ng && g[gi].old != NULL) {
			if (seen[gi] < g[gi].nold)
				g[gi].old[seen[gi]] = r;
			seen[gi]++;	/* too many: not the memo's */
		}
	}
	for (gi = 0; gi < ng; gi++) {
		struct group *t = &g[gi];

		n = seen[gi];
		if (t->memo == NULL)
			continue;
		for (i = 0; i < t->nmemo && n == t->nold; i++) {
			const unsigned char *rec = t->memo + i * MEMO_REC;
			size_t k, idx = get32(rec);

			if (idx >= t->nold || (i > 0 && idx <= get32(rec -
			    MEMO_REC)) || get32(rec + 44) > idx)
				n = SIZE_MAX;
			for (k = 0; k < NUMS_SHOWN && k < get32(rec + 8); k++)
				if (get32(rec + 12 + 4 * k) >= idx)
					n = SIZE_MAX;
		}
		if (n != t->nold) {
			t->memo = NULL;		/* not the rules it says */
			t->old = NULL;
			t->nold = 0;
		}
	}
}

/* p's memo into m->out: each group's records, as memo_setup reads. */
static void
memo_finish(struct lint *L, struct group *g, size_t ng)
{
	struct lint_memo *m = L->memo;
	unsigned char w[16];
	uint64_t v;
	uint32_t len;
	size_t i;

	for (i = 0; i < ng; i++) {
		m->reused += g[i].reused;
		m->checked += g[i].checked;
	}
	if (m->out == NULL)
		return;
	strbuf_reset(m->out);
	strbuf_puts(m->out, MEMO_HEAD);
	strbuf_puts(m->out, m->tag != NULL ? m->tag : "");
	strbuf_putc(m->out, '\n');
	v = lock_key(L->p);
	memcpy(w, &v, 8);
	put32(w + 8, (uint32_t)ng);
	strbuf_add(m->out, (const char *)w, 12);
	for (i = 0; i < ng; i++) {
		len = (uint32_t)strlen(g[i].name);
		put32(w, len);
		strbuf_add(m->out, (const char *)w, 4);
		strbuf_add(m->out, g[i].name, len);
		put32(w, (uint32_t)g[i].n);
		memcpy(w + 4, &g[i].keys, 8);
		put32(w + 12, (uint32_t)g[i].nmade);
		strbuf_add(m->out, (const char *)w, 16);
		if (g[i].made != NULL) {
			if (strbuf_failed(g[i].made))
				m->out->failed = true;
			strbuf_add(m->out, strbuf_str(g[i].made),
			    g[i].made->len);
			strbuf_free(g[i].made);
		}
	}
	v = fnv1a(strbuf_str(m->out), m->out->len);
	strbuf_add(m->out, (const char *)&v, 8);
}

/* The whole lint; memory from the policy's arena. */
static int
lint_run(void *arg)
{
	struct lint *L = arg;
	struct policy *p = L->p;
	struct group *groups;
	size_t i, j;

	lint_settings(L);
	lint_dynamic(L);
	lint_feeds(L);
	lint_schedules(L);
	lint_gateways(L);
	L->family[0] = iset_range(L->a, V4_BASE, V4_LAST);
	L->family[1] = iset_complement(L->a, L->family[0], 0, U128_MAX);
	groups = arena_array(L->a, p->niface + 1, sizeof(*groups));
	L->found = arena_array(L->a, p->nrule + 1, sizeof(*L->found));
	L->seen = arena_array(L->a, p->nrule + 1, sizeof(*L->seen));
	for (i = 0; i < p->niface; i++)
		groups[i].rules = arena_array(L->a, p->nrule + 1,
		    sizeof(struct rule *));
	for (j = 0; j < p->nrule; j++) {
		struct rule *r = p->rules[j];
		const char *why;

		if (r->disabled || policy_rule_dynamic(r))
			continue;
		/* (said, and left to the shadowing, which reasons as the
		 * rules do: moat test says the same beside its verdict) */
		if (icmp_never_new(r->svc.set))
			diag_warn(&p->diags, r->loc, "rule %d never decides: "
			    "its ICMP types start no connection, and conntrack "
			    "decides them before any rule (an error passes as "
			    "related to the connection it answers, a reply as "
			    "part of its request's; alone, either is dropped as "
			    "invalid)", r->number);
		if ((why = empty_side(L, r)) != NULL) {
			L->st->shadowed++;
			r->dead = true;
			diag_warn(&p->diags, r->loc, "rule %d can never match: "
			    "%s", r->number, why);
			continue;
		}
		for (i = 0; i < p->niface; i++)
			if (p->ifaces[i] == r->iface)
				groups[i].rules[groups[i].n++] = r;
	}
	if (p->lockout_rule != NULL)
		box_make(&L->lockbox, p->lockout_rule);
	for (i = 0; i < p->niface; i++)
		groups[i].name = p->ifaces[i]->name;
	if (L->memo != NULL)
		memo_setup(L, groups, p->niface);
	if (check_groups(L, groups, p->niface) == -1)
		return -1;
	if (L->memo != NULL && L->memo->late) {
		/* Found so far said; nothing of it kept, as it is not whole
		 * (the records made so far freed, as memo_finish would). */
		diag_add(L->d, DIAG_NOTE, (struct loc){ .file = p->file },
		    "lint stopped at its deadline: some rules were not "
		    "checked for shadowing (moat check checks them all)");
		for (i = 0; i < p->niface; i++)
			if (groups[i].made != NULL)
				strbuf_free(groups[i].made);
		if (L->memo->out != NULL)
			L->memo->out->failed = true;
		return 0;
	}
	if (L->memo != NULL)
		memo_finish(L, groups, p->niface);
	return 0;
}

static int
lint_with(struct policy *p, struct lint_stats *st, int threads,
    struct lint_memo *m)
{
	struct lint_stats dummy;
	struct lint L = { .p = p, .a = &p->arena, .st = st ? st : &dummy,
	    .d = &p->diags, .threads = threads, .memo = m };

	memset(L.st, 0, sizeof(*L.st));
	if (m != NULL) {
		m->reused = m->checked = 0;
		m->late = false;
	}
	return arena_catch(&p->arena, lint_run, &L);
}

int
lint_policy_threads(struct policy *p, struct lint_stats *st, int threads)
{
	return lint_with(p, st, threads, NULL);
}

int
lint_policy_memo(struct policy *p, struct lint_stats *st,
    struct lint_memo *m)
{
	return lint_with(p, st, p->nrule >= THREAD_MIN && cores_idle() > 0 ?
	    2 : 1, m);
}

int
lint_policy(struct policy *p, struct lint_stats *st)
{
	return lint_policy_threads(p, st, p->nrule >= THREAD_MIN &&
	    cores_idle() > 0 ? 2 : 1);
}

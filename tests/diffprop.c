/* diffprop.c: policy_diff (analyze/diff.c) against the naive evaluator.
 *
 * Random policies (gen.c) and random edits of them (rules swapped, moved,
 * copied, deleted, their actions changed; defaults, forwards and NAT
 * lines changed).  For each pair, the regions reported must be exactly
 * the flows the two policies decide differently: points inside every
 * region (its corners and random ones) disagree; points outside every
 * region (random flows aimed at rules, and each region's edges ±1) agree.
 * "Disagree" is naive.c's verdicts differing, or, accepted by both, the
 * translation (eval.c's, naive.c has no NAT) differing.
 * Every pair is also diffed by the plain walk (policy_diff_plain): the
 * same cells, cut at the same places, the same regions.
 *
 * Edits of objects' members only (addresses added, dropped, replaced,
 * IPv4 and IPv6, an earlier object named: nested), in policies of up to
 * 400 rules: the diff narrowed to the members that changed, and each
 * side's candidate rules counted and narrowed below cells the other side
 * cuts (diff.c), against the plain walk and the naive evaluator.
 * MOAT_DIFF_PAIRS scales the run (default 300).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/diff.h"
#include "policy/load.h"
#include "gen.h"
#include "naive.h"

static int
env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v != NULL && atoi(v) > 0 ? atoi(v) : def;
}

/* The lines of a text, to edit. */
struct lines {
	size_t	 n;
	char	*v[4096];
};

static void
split_lines(char *text, struct lines *l)
{
	char *s, *save = NULL;

	l->n = 0;
	for (s = strtok_r(text, "\n", &save); s != NULL && l->n < 4096;
	    s = strtok_r(NULL, "\n", &save))
		l->v[l->n++] = s;
}

static bool
is_rule(const char *s)
{
	return strncmp(s, "accept ", 7) == 0 || strncmp(s, "deny ", 5) == 0 ||
	    strncmp(s, "reject ", 7) == 0;
}

static size_t
pick_rule(struct rng *r, const struct lines *l)
{
	size_t i, n = 0, want;

	for (i = 0; i < l->n; i++)
		n += is_rule(l->v[i]);
	if (n == 0)
		return l->n;
	want = (size_t)rng_below(r, n);
	for (i = 0; i < l->n; i++)
		if (is_rule(l->v[i]) && want-- == 0)
			return i;
	return l->n;
}

/* Edits of rules only (the diff narrowed to suspects). */
static bool rule_edits_only;

/* One random edit of l; the strings changed are kept in pool. */
static void
edit(struct rng *r, struct lines *l, char pool[][512], int *npool)
{
	static const char *const actions[] = { "accept", "deny", "reject" };
	size_t i = pick_rule(r, l), j = pick_rule(r, l), k;
	char *t;

	static const int rule_kinds[] = { 0, 1, 2, 3, 4, 5, 9, 10 };

	switch (rule_edits_only ? rule_kinds[rng_below(r, 8)] :
	    (int)rng_below(r, 13)) {
	case 11:	/* an object gains a member, or loses its last */
	case 12:
		for (k = 0; k < l->n && *npool < 16; k++) {
			const char *o = l->v[k], *rest;
			size_t len = strlen(o);

			if (strncmp(o, "object ", 7) != 0 ||
			    rng_below(r, 3) != 0 ||
			    (rest = strchr(o + 7, ' ')) == NULL)
				continue;
			rest++;
			if (rng_below(r, 2) == 0 && rest[0] == '{' &&
			    strrchr(o, ',') != NULL)
				snprintf(pool[*npool], 512, "%.*s }",
				    (int)(strrchr(o, ',') - o), o);
			else if (rest[0] == '{' && len > 2)
				snprintf(pool[*npool], 512, "%.*s, 10.0.0.%u }",
				    (int)(len - 2), o,
				    (unsigned)rng_below(r, 16));
			else
				snprintf(pool[*npool], 512, "%.*s{ %s, "
				    "10.0.0.%u }", (int)(rest - o), o, rest,
				    (unsigned)rng_below(r, 16));
			l->v[k] = pool[(*npool)++];
			break;
		}
		break;
	case 0:	/* swap two rules */
	case 1:
		if (i < l->n && j < l->n) {
			t = l->v[i];
			l->v[i] = l->v[j];
			l->v[j] = t;
		}
		break;
	case 2:	/* move one next to its neighbour (often a no-op) */
		if (i + 1 < l->n && is_rule(l->v[i + 1])) {
			t = l->v[i];
			l->v[i] = l->v[i + 1];
			l->v[i + 1] = t;
		}
		break;
	case 3:	/* delete one */
		if (i < l->n) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) *
			    sizeof(l->v[0]));
			l->n--;
		}
		break;
	case 4:	/* copy one elsewhere */
		if (i < l->n && j < l->n && l->n < 4096) {
			t = l->v[i];
			memmove(&l->v[j + 1], &l->v[j], (l->n - j) *
			    sizeof(l->v[0]));
			l->v[j] = t;
			l->n++;
		}
		break;
	case 5:	/* another action */
		if (i < l->n && *npool < 16) {
			const char *sp = strchr(l->v[i], ' ');

			snprintf(pool[*npool], 512, "%s%s",
			    actions[rng_below(r, 3)], sp);
			l->v[i] = pool[(*npool)++];
		}
		break;
	case 6:	/* another default for an interface */
		for (k = 0; k < l->n && *npool < 16; k++)
			if (strncmp(l->v[k], "interface ", 10) == 0 &&
			    strstr(l->v[k], "default") == NULL &&
			    rng_below(r, 2) == 0) {
				snprintf(pool[*npool], 512, "%s default %s",
				    l->v[k], actions[rng_below(r, 3)]);
				l->v[k] = pool[(*npool)++];
				break;
			}
		break;
	case 7:	/* forwards and NAT: drop one, or add one */
	case 8:
		for (k = 0; k < l->n && rng_below(r, 2) == 0; k++)
			if (strncmp(l->v[k], "forward ", 8) == 0 ||
			    strncmp(l->v[k], "nat ", 4) == 0) {
				memmove(&l->v[k], &l->v[k + 1], (l->n - k - 1) *
				    sizeof(l->v[0]));
				l->n--;
				return;
			}
		if (l->n < 4096 && *npool < 16) {
			static const char *const more[] = {
				"nat masquerade on WAN",
				"forward on WAN service SSH to 10.0.0.7",
				"nat one-to-one on WAN 192.168.1.8/30 to "
				    "10.0.0.4/30",
				"nat one-to-one on DMZ 10.0.0.20 to "
				    "192.168.1.3",
				"nat source on WAN from 10.0.0.0/29 service "
				    "HTTP translate 192.168.1.7",
				"nat source on LAN from 2001:db8::/126 "
				    "translate masquerade",
				"nat masquerade on DMZ",
				"nat source on DMZ from ANY translate "
				    "2001:db8::9",
				"nat one-to-one on WAN 192.168.1.8/30 to "
				    "10.0.0.4/30 reflection off",
			};

			snprintf(pool[*npool], 512, "%s",
			    more[rng_below(r, 9)]);
			l->v[l->n++] = pool[(*npool)++];
		}
		break;
	case 9:		/* a gateway option added or taken off */
		if (i < l->n && *npool < 16 && strncmp(l->v[i], "accept ", 7) ==
		    0) {
			char *g = strstr(l->v[i], " gateway ");

			if (g != NULL)
				snprintf(pool[*npool], 512, "%.*s",
				    (int)(g - l->v[i]), l->v[i]);
			else
				snprintf(pool[*npool], 512, "%s gateway %s",
				    l->v[i], rng_below(r, 2) ? "G2" : "GG");
			l->v[i] = pool[(*npool)++];
		}
		break;
	default:	/* a rule disabled */
		if (i < l->n && *npool < 16 && strstr(l->v[i], "disabled") ==
		    NULL) {
			snprintf(pool[*npool], 512, "%s disabled", l->v[i]);
			l->v[i] = pool[(*npool)++];
		}
		break;
	}
}

/* An object's members: added (an address of either family, or an
 * earlier object), dropped, or one replaced, in one to three objects;
 * now and then, in a small policy, an interface's default too (the flows
 * no rule holds are suspects then). */
static void
edit_members(struct rng *r, struct lines *l, char pool[][512], int *npool)
{
	static const char *const actions[] = { "accept", "deny", "reject" };
	size_t k, nobj = 0, want;
	int n = 1 + (int)rng_below(r, 3);

	for (k = 0; l->n < 80 && rng_below(r, 5) == 0 && k < l->n &&
	    *npool < 16; k++)
		if (strncmp(l->v[k], "interface ", 10) == 0 &&
		    strstr(l->v[k], "default") == NULL) {
			snprintf(pool[*npool], 512, "%s default %s", l->v[k],
			    actions[rng_below(r, 3)]);
			l->v[k] = pool[(*npool)++];
			break;
		}

	for (k = 0; k < l->n; k++)
		nobj += strncmp(l->v[k], "object ", 7) == 0;
	while (nobj > 0 && n-- > 0 && *npool < 16) {
		char elems[16][80], add[80], *o;
		const char *rest, *s, *e;
		size_t ne = 0, i;
		int idx, len;

		want = (size_t)rng_below(r, nobj);
		for (k = 0; k < l->n; k++)
			if (strncmp(l->v[k], "object ", 7) == 0 && want-- == 0)
				break;
		o = l->v[k];
		if ((rest = strchr(o + 7, ' ')) == NULL ||
		    sscanf(o, "object OBJ%d", &idx) != 1)
			continue;
		rest++;
		/* The members, one by one. */
		s = rest[0] == '{' ? rest + 2 : rest;
		while (*s != '\0' && *s != '}' && ne < 15) {
			for (e = s; *e != '\0' && *e != ',' && *e != ' '; e++)
				;
			snprintf(elems[ne++], 80, "%.*s", (int)(e - s), s);
			s = *e == ',' ? e + 2 : *e == ' ' ? e + 1 : e;
		}
		switch (rng_below(r, 8)) {
		case 0:
			snprintf(add, sizeof(add), "10.0.0.%u/30",
			    4 * (unsigned)rng_below(r, 8));
			break;
		case 1:
			snprintf(add, sizeof(add), "2001:db8::%x",
			    (unsigned)rng_below(r, 16));
			break;
		case 2:
			snprintf(add, sizeof(add), "2001:db8::%x-2001:db8::%x",
			    (unsigned)rng_below(r, 8), 8 +
			    (unsigned)rng_below(r, 8));
			break;
		case 3:
			if (idx > 0) {
				snprintf(add, sizeof(add), "OBJ%d",
				    (int)rng_below(r, (uint64_t)idx));
				break;
			}
			/* FALLTHROUGH */
		case 4:
			snprintf(add, sizeof(add), "192.168.1.%u",
			    (unsigned)rng_below(r, 16));
			break;
		default:
			snprintf(add, sizeof(add), "10.0.0.%u",
			    (unsigned)rng_below(r, 32));
			break;
		}
		switch (ne < 2 ? 0 : rng_below(r, 3)) {
		case 0:		/* one more */
			snprintf(elems[ne++], 80, "%s", add);
			break;
		case 1:		/* one less */
			i = (size_t)rng_below(r, ne);
			memmove(elems[i], elems[i + 1], (ne - i - 1) * 80);
			ne--;
			break;
		default:	/* one replaced */
			snprintf(elems[rng_below(r, ne)], 80, "%s", add);
			break;
		}
		len = snprintf(pool[*npool], 512, "object OBJ%d { ", idx);
		for (i = 0; i < ne && len < 400; i++)
			len += snprintf(pool[*npool] + len, 512 - (size_t)len,
			    "%s%s", i > 0 ? ", " : "", elems[i]);
		snprintf(pool[*npool] + len, 512 - (size_t)len, " }");
		l->v[k] = pool[(*npool)++];
	}
}

/* Edits of objects' members only. */
static bool member_edits_only;

static struct policy *
parse_text(const char *name, const char *text)
{
	struct policy *p = policy_parse(name, text, strlen(text));

	assert_non_null(p);
	if (!policy_valid(p)) {
		policy_free(p);
		return NULL;
	}
	return p;
}

struct pair {
	struct policy		*a, *b;
	const char		*ta, *tb;
	struct policy_diff	 d;
};

/* Whether flow f (on a's interface fa) is decided differently. */
static bool
disagree(const struct pair *pr, const struct flow *fa)
{
	struct flow fb = *fa;
	struct verdict va, vb;
	enum action na, nb;
	enum decided_by ba, bb;
	int ra, rb;

	fb.iface = policy_iface(pr->b, fa->iface->name);
	assert_non_null(fb.iface);
	naive_eval(pr->a, fa, &na, &ba, &ra);
	naive_eval(pr->b, &fb, &nb, &bb, &rb);
	policy_eval(pr->a, fa, &va);
	policy_eval(pr->b, &fb, &vb);
	assert_int_equal(na, va.action);
	assert_int_equal(nb, vb.action);
	return na != nb || diff_verdicts_differ(&va, &vb);
}

static bool
in_region(const struct diff_region *g, const struct flow *f)
{
	u128 key = flow_service_key(f);
	u128 x[DD_NDIMS] = { f->src, f->dst, f->week_min, key };
	int d;

	if (strcmp(g->ifa->name, f->iface->name) != 0 ||
	    addr_family_of(f->src) != g->fam)
		return false;
	for (d = 0; d < DD_NDIMS; d++)
		if (x[d] < g->lo[d] || x[d] > g->hi[d])
			return false;
	return true;
}

static const struct diff_region *
region_of(const struct pair *pr, const struct flow *f)
{
	size_t i;

	for (i = 0; i < pr->d.n; i++)
		if (in_region(&pr->d.v[i], f))
			return &pr->d.v[i];
	return NULL;
}

static void
dump(const struct pair *pr, const struct flow *f, const char *what)
{
	char s[ADDR_STRLEN], d[ADDR_STRLEN];

	addr_format(f->src, s, sizeof(s));
	addr_format(f->dst, d, sizeof(d));
	fprintf(stderr, "--- old\n%s--- new\n%s--- flow on %s %s -> %s proto "
	    "%d port %u at %u: %s (%zu regions)\n", pr->ta, pr->tb,
	    f->iface->name, s, d, f->proto, f->dport, f->week_min, what,
	    pr->d.n);
	fail_msg("%s", what);
}

/* A value of [lo, hi] (an address of family fam in dimension d < 2). */
static u128
value_in(struct rng *r, u128 lo, u128 hi, int which, enum addr_family fam,
    int d)
{
	u128 v, w = hi - lo;

	v = which == 0 ? lo : which == 1 ? hi : w == U128_MAX ?
	    ((u128)rng_next(r) << 64 | rng_next(r)) :
	    lo + (((u128)rng_next(r) << 64 | rng_next(r)) % (w + 1));
	if (d < 2 && fam == FAM_V6 && v >= V4_BASE && v <= V4_LAST)
		v = lo < V4_BASE ? V4_BASE - 1 : V4_LAST + 1;
	return v;
}

/* A flow of g's: which[d] 0 its start, 1 its end, 2 random.  False when
 * the service key drawn is one no flow has. */
static bool
flow_in(struct rng *r, const struct diff_region *g, const int which[],
    struct flow *f)
{
	u128 key;
	int tries;

	memset(f, 0, sizeof(*f));
	f->iface = g->ifa;
	f->src = value_in(r, g->lo[DD_SRC], g->hi[DD_SRC], which[0], g->fam,
	    0);
	f->dst = value_in(r, g->lo[DD_DST], g->hi[DD_DST], which[1], g->fam,
	    1);
	f->week_min = (unsigned)value_in(r, g->lo[DD_TIME], g->hi[DD_TIME],
	    which[2], g->fam, 2);
	for (tries = 0; tries < 8; tries++) {
		key = value_in(r, g->lo[DD_SVC], g->hi[DD_SVC], tries == 0 ?
		    which[3] : tries == 1 ? 0 : 2, g->fam, 3);
		if (diff_key_valid(key))
			break;
		/* The first port of a protocol is a flow's key. */
		key &= ~(u128)0xffff;
		if (key >= g->lo[DD_SVC] && diff_key_valid(key))
			break;
	}
	if (!diff_key_valid(key) || key < g->lo[DD_SVC] ||
	    key > g->hi[DD_SVC])
		return false;
	f->proto = (int)(key >> 16);
	f->dport = (unsigned)(key & 0xffff);
	return true;
}

static long inside_checked, outside_checked, edges_checked, links;

static void
check_pair(struct rng *r, struct pair *pr)
{
	size_t i;
	int j, d, e;

	/* Inside every region: they all disagree. */
	for (i = 0; i < pr->d.n; i++) {
		const struct diff_region *g = &pr->d.v[i];
		struct verdict va, vb;

		links += (g->va.gw == NULL) != (g->vb.gw == NULL);
		/* Its example is one of its flows, with its verdicts. */
		if (!in_region(g, &g->ex_a) || !disagree(pr, &g->ex_a))
			dump(pr, &g->ex_a, "a region's example is not one of its "
			    "changed flows");
		policy_eval(pr->a, &g->ex_a, &va);
		policy_eval(pr->b, &g->ex_b, &vb);
		if (va.action != g->va.action || va.rule != g->va.rule ||
		    vb.action != g->vb.action || vb.rule != g->vb.rule)
			dump(pr, &g->ex_a, "a region's verdicts are not its "
			    "example's");

		for (j = 0; j < 12; j++) {
			int which[DD_NDIMS];
			struct flow f;

			for (d = 0; d < DD_NDIMS; d++)
				which[d] = j < 2 ? j : (int)rng_below(r, 3);
			if (!flow_in(r, g, which, &f))
				continue;
			if (!disagree(pr, &f))
				dump(pr, &f, "a flow of a reported region is "
				    "decided alike");
			inside_checked++;
		}
		/* Its edges, one step out: another region's, or alike. */
		for (d = 0; d < DD_NDIMS; d++)
			for (e = 0; e < 2; e++) {
				int which[DD_NDIMS] = { 2, 2, 2, 2 };
				struct flow f;
				u128 *x;

				if (!flow_in(r, g, which, &f))
					continue;
				x = d == DD_SRC ? &f.src : d == DD_DST ? &f.dst :
				    NULL;
				if (e == 0 && g->lo[d] == 0)
					continue;
				if (e == 1 && g->hi[d] == U128_MAX)
					continue;
				if (x != NULL)
					*x = e == 0 ? g->lo[d] - 1 :
					    g->hi[d] + 1;
				else if (d == DD_TIME) {
					if (e == 1 && g->hi[d] == SCHED_WEEK - 1)
						continue;
					f.week_min = (unsigned)(e == 0 ?
					    g->lo[d] - 1 : g->hi[d] + 1);
				} else {
					u128 key = e == 0 ? g->lo[d] - 1 :
					    g->hi[d] + 1;

					if (!diff_key_valid(key))
						continue;
					f.proto = (int)(key >> 16);
					f.dport = (unsigned)(key & 0xffff);
				}
				if (addr_family_of(f.src) !=
				    addr_family_of(f.dst))
					continue;
				edges_checked++;
				if ((region_of(pr, &f) != NULL) !=
				    disagree(pr, &f))
					dump(pr, &f, "an edge's neighbour: "
					    "regions and evaluation differ");
			}
	}
	/* Flows anywhere: in a region exactly when they disagree. */
	for (j = 0; j < 300; j++) {
		struct flow f;

		gen_flow(r, rng_below(r, 2) ? pr->a : pr->b, &f);
		f.iface = policy_iface(pr->a, f.iface->name);
		if (f.iface == NULL)
			continue;
		if (!diff_key_valid(flow_service_key(f.iface != NULL ? &f :
		    &f)))
			continue;
		outside_checked++;
		if ((region_of(pr, &f) != NULL) != disagree(pr, &f))
			dump(pr, &f, region_of(pr, &f) != NULL ?
			    "a flow of a region is decided alike" :
			    "a flow outside every region is decided "
			    "differently");
	}
}

/* The plain walk gives the same cells and regions. */
static void
same_as_plain(const struct pair *pr)
{
	struct policy_diff q;
	const struct policy_diff *d = &pr->d;
	size_t i;

	assert_int_equal(policy_diff_plain(pr->a, pr->b, 1000000, &q), 0);
	if (q.nleaves != d->nleaves || q.n != d->n) {
		fprintf(stderr, "--- old\n%s--- new\n%s--- %zu cells, %zu "
		    "regions; plainly %zu cells, %zu regions\n", pr->ta, pr->tb,
		    d->nleaves, d->n, q.nleaves, q.n);
		fail_msg("the walk is not the plain walk's");
	}
	assert_int_equal(q.complete, d->complete);
	assert_int_equal(q.narrowed, d->narrowed);
	assert_int_equal(q.nonly_a, d->nonly_a);
	assert_int_equal(q.nonly_b, d->nonly_b);
	for (i = 0; i < d->n; i++) {
		const struct diff_region *x = &d->v[i], *y = &q.v[i];

		assert_ptr_equal(x->ifa, y->ifa);
		assert_ptr_equal(x->ifb, y->ifb);
		assert_int_equal(x->fam, y->fam);
		assert_memory_equal(x->lo, y->lo, sizeof(x->lo));
		assert_memory_equal(x->hi, y->hi, sizeof(x->hi));
		assert_true(x->ex_a.src == y->ex_a.src &&
		    x->ex_a.dst == y->ex_a.dst &&
		    x->ex_a.proto == y->ex_a.proto &&
		    x->ex_a.dport == y->ex_a.dport &&
		    x->ex_a.week_min == y->ex_a.week_min);
		assert_int_equal(x->va.action, y->va.action);
		assert_int_equal(x->vb.action, y->vb.action);
		assert_int_equal(x->va.by, y->va.by);
		assert_int_equal(x->vb.by, y->vb.by);
		assert_ptr_equal(x->va.rule, y->va.rule);
		assert_ptr_equal(x->vb.rule, y->vb.rule);
	}
	policy_diff_free(&q);
}

static void
run_pairs(uint64_t seed, int n, int minrules, int morerules, int edits)
{
	struct rng r = { seed };
	struct strbuf text, btext;
	int i, done = 0, none = 0;
	long regions = 0, narrowed = 0;

	inside_checked = outside_checked = edges_checked = links = 0;
	strbuf_init(&text, 0);
	strbuf_init(&btext, 0);
	for (i = 0; done < n && i < 20 * n; i++) {
		struct gen_opts o = { GEN_DENSE, minrules +
		    (int)rng_below(&r, (uint64_t)morerules),
		    member_edits_only ? 2 + (int)rng_below(&r, 5) :
		    (int)rng_below(&r, 6), (int)rng_below(&r, 4), false,
		    rng_below(&r, 4) == 0, rng_below(&r, 3) == 0 };
		static char pool[16][512];
		struct lines l;
		struct pair pr;
		char *copy;
		int npool = 0, k, nedit = 1 + (int)rng_below(&r,
		    (uint64_t)edits);
		size_t m;

		strbuf_reset(&text);
		gen_policy(&r, &o, &text);
		assert_false(strbuf_failed(&text));
		if ((pr.a = parse_text("old.conf", strbuf_str(&text))) == NULL)
			continue;
		copy = strdup(strbuf_str(&text));
		assert_non_null(copy);
		split_lines(copy, &l);
		for (k = 0; k < nedit; k++)
			if (member_edits_only)
				edit_members(&r, &l, pool, &npool);
			else
				edit(&r, &l, pool, &npool);
		strbuf_reset(&btext);
		for (m = 0; m < l.n; m++)
			strbuf_printf(&btext, "%s\n", l.v[m]);
		pr.b = parse_text("new.conf", strbuf_str(&btext));
		free(copy);
		if (pr.b == NULL) {
			policy_free(pr.a);
			continue;
		}
		pr.ta = strbuf_str(&text);
		pr.tb = strbuf_str(&btext);
		assert_int_equal(policy_diff(pr.a, pr.b, 1000000, &pr.d), 0);
		if (!pr.d.complete) {
			fprintf(stderr, "--- old\n%s--- new\n%s--- %zu cells\n",
			    pr.ta, pr.tb, pr.d.nleaves);
			fail_msg("the diff stopped before it was complete");
		}
		same_as_plain(&pr);
		regions += (long)pr.d.n;
		none += pr.d.n == 0;
		narrowed += pr.d.narrowed;
		check_pair(&r, &pr);
		/* The same policy: nothing changes, nothing is cut. */
		policy_diff_free(&pr.d);
		assert_int_equal(policy_diff(pr.a, pr.a, 1000000, &pr.d), 0);
		assert_int_equal(pr.d.n, 0);
		assert_int_equal(pr.d.nleaves, 0);
		policy_diff_free(&pr.d);
		policy_free(pr.a);
		policy_free(pr.b);
		done++;
	}
	printf("diff exact: %d pairs (%ld narrowed to suspects), %ld "
	    "regions (%d pairs with none); %ld points inside regions "
	    "disagree, %ld edge neighbours and %ld random flows agree with "
	    "the regions; %ld regions where a gateway option changed\n",
	    done, narrowed, regions, none, inside_checked, edges_checked,
	    outside_checked, links);
	assert_int_equal(done, n);
	/* The test means something: both kinds of pairs were seen. */
	assert_true((none > 0 || edits > 3) && none < done &&
	    regions > done / 2);
	strbuf_free(&text);
	strbuf_free(&btext);
}

/* Small policies: every kind of edit, hundreds of pairs. */
static void
test_diff_exact(void **state)
{
	(void)state;
	run_pairs(28, env_int("MOAT_DIFF_PAIRS", 300), 1, 25, 3);
}

/* Policies of 60-160 rules: cells that hold more than BALANCE_MIN rules
 * are cut at their rules' median edge (diff.c), not at the first rule's. */
static void
test_diff_large(void **state)
{
	(void)state;
	run_pairs(29, env_int("MOAT_DIFF_PAIRS", 300) / 10, 60, 100, 3);
}

/* Large edits (up to 40 swaps, moves, copies, deletions...): many
 * suspects across a cell, cut at their median edge too. */
static void
test_diff_many_edits(void **state)
{
	(void)state;
	rule_edits_only = true;
	run_pairs(30, env_int("MOAT_DIFF_PAIRS", 300) / 30, 60, 100, 40);
	rule_edits_only = false;
}

/* A deadline stops the walk (an apply's summary has one): a rule put at
 * the end of a 2,000-rule interface makes every flow no rule held a
 * suspect, which takes far longer than 1 ms; without a deadline the same
 * diff completes. */
static void
test_diff_deadline(void **state)
{
	struct gen_opts o = { GEN_OFFICE, 2000, 50, 10, false, false, false };
	struct rng r = { 31 };
	struct strbuf text;
	struct policy *a, *b;
	struct policy_diff d;

	(void)state;
	strbuf_init(&text, 0);
	gen_policy(&r, &o, &text);
	a = parse_text("old.conf", strbuf_str(&text));
	strbuf_puts(&text, "deny on LAN service HTTPS\n");
	b = parse_text("new.conf", strbuf_str(&text));
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(policy_diff_until(a, b, 1000000, 1, &d), 0);
	assert_false(d.complete);
	assert_true(d.out_of_time);
	policy_diff_free(&d);
	assert_int_equal(policy_diff_until(a, b, 1000000, 0, &d), 0);
	assert_true(d.complete);
	assert_false(d.out_of_time);
	policy_diff_free(&d);
	policy_free(a);
	policy_free(b);
	strbuf_free(&text);
}

/* Objects' members edited, in policies of 1-400 rules (several
 * objects, nested, used in sources and destinations): narrowed to the
 * members that changed, the same as the plain walk, and exact. */
static void
test_diff_members(void **state)
{
	(void)state;
	member_edits_only = true;
	run_pairs(32, env_int("MOAT_DIFF_PAIRS", 300) / 2, 1, 60, 3);
	run_pairs(33, env_int("MOAT_DIFF_PAIRS", 300) / 20, 100, 250, 4);
	member_edits_only = false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_deadline),
		cmocka_unit_test(test_diff_exact),
		cmocka_unit_test(test_diff_large),
		cmocka_unit_test(test_diff_many_edits),
		cmocka_unit_test(test_diff_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* prop.c: property tests over random policies.
 *
 * - print/parse round trip: parse(print(parse(x))) equals parse(x), and
 *   printing is a fixed point;
 * - the evaluator agrees with naive.c on random flows;
 * - lint is sound: a rule it calls dead never decides a flow;
 * - lint with the memo of the policy before an edit finds what it finds
 *   without it, and makes the same memo.
 * MOAT_PROP_POLICIES and MOAT_PROP_FLOWS scale the run (defaults 400, 300).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/classify.h"
#include "analyze/lint.h"
#include "base/clock.h"
#include "output/printer.h"
#include "policy/load.h"
#include "gen.h"
#include "naive.h"

static int
env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v != NULL && atoi(v) > 0 ? atoi(v) : def;
}

/* A valid random policy; generated ones with a (legitimate) error, such as
 * a rule whose addresses share no family, are skipped and counted. */
static struct policy *
valid_policy(struct rng *r, const struct gen_opts *o, struct strbuf *text,
    int *skipped)
{
	for (;;) {
		struct policy *p;

		strbuf_reset(text);
		gen_policy(r, o, text);
		assert_false(strbuf_failed(text));
		p = policy_parse("gen.conf", strbuf_str(text), text->len);
		assert_non_null(p);
		if (policy_valid(p))
			return p;
		(*skipped)++;
		policy_free(p);
	}
}

/* The gateway option that sends flow f out, naively: that of the accept
 * rule nr that decides it, when of f's family, unless f goes to the
 * gateway itself, is reflected, or goes to a network an interface is on
 * (v says where a forward sent it). */
static const struct gw_ref *
naive_gw(const struct policy *p, const struct flow *f,
    const struct verdict *v, int nr)
{
	const struct rule *ru;
	size_t i;

	if (nr <= 0 || v->to_gateway || v->reflected)
		return NULL;
	ru = p->rules[nr - 1];
	if (ru->action != ACT_ACCEPT || ru->gw.name == NULL ||
	    addr_family_of(f->src) != (ru->gw.gw != NULL ?
	    ru->gw.gw->via.family : ru->gw.group->family))
		return NULL;
	for (i = 0; i < p->niface; i++)
		if (iset_contains(p->ifaces[i]->net_obj->set, v->dst))
			return NULL;
	return &ru->gw;
}

static void
test_round_trip(void **state)
{
	struct rng r = { 1 };
	struct strbuf text, once, twice;
	int i, n = env_int("MOAT_PROP_POLICIES", 400), skipped = 0;
	long with_gw = 0;
	size_t k;

	(void)state;
	strbuf_init(&text, 0);
	strbuf_init(&once, 0);
	strbuf_init(&twice, 0);
	for (i = 0; i < n; i++) {
		struct gen_opts o = { GEN_DENSE, 1 + (int)rng_below(&r, 30),
		    (int)rng_below(&r, 8), (int)rng_below(&r, 5), false, true,
		    i % 2 == 0 };
		struct policy *p = valid_policy(&r, &o, &text, &skipped), *q;

		strbuf_reset(&once);
		printer_policy(p, &once);
		q = policy_parse("printed.conf", strbuf_str(&once), once.len);
		assert_non_null(q);
		if (!policy_valid(q) || !policy_equal(p, q)) {
			diags_print(&q->diags, stderr);
			fprintf(stderr, "--- input\n%s--- printed\n%s",
			    strbuf_str(&text), strbuf_str(&once));
			fail_msg("round trip changed policy %d", i);
		}
		strbuf_reset(&twice);
		printer_policy(q, &twice);
		assert_string_equal(strbuf_str(&once), strbuf_str(&twice));
		for (k = 0; k < p->nrule; k++)
			with_gw += p->rules[k]->gw.name != NULL;
		policy_free(p);
		policy_free(q);
	}
	printf("round trip: %d policies equal after print and parse "
	    "(%d generated with errors skipped; %ld rules with a gateway "
	    "option)\n", n, skipped, with_gw);
	assert_true(with_gw > 0);
	strbuf_free(&text);
	strbuf_free(&once);
	strbuf_free(&twice);
}

/* Flows at the edges of the IPv4 block (::ffff:0:0/96), where the index
 * cuts boxes into an IPv4 part and the rest: the index agrees with the
 * linear scan on every pair of edge addresses. */
static void
check_edges(struct rng *r, const struct policy *p,
    const struct policy_index *idx)
{
	static const u128 edges[] = { 0, V4_BASE - 1, V4_BASE, V4_BASE + 1,
	    V4_BASE | 0xc0a80101u, V4_LAST - 1, V4_LAST, V4_LAST + 1,
	    U128_MAX };
	size_t a, b, n = sizeof(edges) / sizeof(edges[0]);

	for (a = 0; a < n; a++)
		for (b = 0; b < n; b++) {
			struct flow f;
			struct verdict v, vi;

			gen_flow(r, p, &f);
			f.src = edges[a];
			f.dst = edges[b];
			policy_eval(p, &f, &v);
			policy_eval_with(p, idx, &f, &vi);
			if (vi.action != v.action || vi.by != v.by ||
			    vi.rule != v.rule)
				fail_msg("the classifier and the linear scan "
				    "disagree at the IPv4 block's edges (%zu, "
				    "%zu)", a, b);
		}
}

/* policy_eval_many over n random flows (batches of the index's lookups
 * side by side) gives each flow the verdict policy_eval_with gives it,
 * every field. */
static void
check_many(struct rng *r, const struct policy *p,
    const struct policy_index *idx, size_t n)
{
	struct flow *f = calloc(n, sizeof(*f));
	struct verdict *v = calloc(n, sizeof(*v)), w;
	int *prio = calloc(n, sizeof(*prio));
	size_t i;

	assert_true(f != NULL && v != NULL && prio != NULL);
	for (i = 0; i < n; i++)
		gen_flow(r, p, &f[i]);
	policy_eval_many(p, idx, f, v, prio, n);
	for (i = 0; i < n; i++) {
		policy_eval_with(p, idx, &f[i], &w);
		if (w.action != v[i].action || w.by != v[i].by ||
		    w.rule != v[i].rule || w.forward != v[i].forward ||
		    w.dst != v[i].dst || w.reflected != v[i].reflected ||
		    w.has_src != v[i].has_src || w.src != v[i].src ||
		    w.out != v[i].out || w.snat != v[i].snat ||
		    w.nat_rule != v[i].nat_rule || w.one != v[i].one ||
		    w.to_gateway != v[i].to_gateway || w.gw != v[i].gw)
			fail_msg("flow %zu of %zu: policy_eval_many and "
			    "policy_eval_with disagree", i, n);
	}
	free(f);
	free(v);
	free(prio);
}

static void
test_differential(void **state)
{
	struct rng r = { 2 };
	struct strbuf text;
	int i, j, n = env_int("MOAT_PROP_POLICIES", 400);
	int nflows = env_int("MOAT_PROP_FLOWS", 300), skipped = 0;
	long agree = 0, by_rule = 0, by_gw = 0, dead_rules = 0;

	(void)state;
	strbuf_init(&text, 0);
	for (i = 0; i < n; i++) {
		struct gen_opts o = { GEN_DENSE, 1 + (int)rng_below(&r, 40),
		    (int)rng_below(&r, 8), (int)rng_below(&r, 5), false, true,
		    i % 2 == 0 };
		struct policy *p = valid_policy(&r, &o, &text, &skipped);
		size_t k;

		struct policy_index *idx = policy_index(p, 1u << 20);

		assert_non_null(idx);
		assert_int_equal(lint_policy(p, NULL), 0);
		check_many(&r, p, idx, (size_t)nflows);
		check_many(&r, p, NULL, 70);
		for (k = 0; k < p->nrule; k++)
			dead_rules += p->rules[k]->dead;
		for (j = 0; j < nflows; j++) {
			struct flow f;
			struct verdict v;
			enum action na;
			enum decided_by nb;
			int nr, vr;

			gen_flow(&r, p, &f);
			policy_eval(p, &f, &v);
			naive_eval(p, &f, &na, &nb, &nr);
			{
				struct verdict vi;

				policy_eval_with(p, idx, &f, &vi);
				if (vi.action != v.action || vi.by != v.by ||
				    vi.rule != v.rule)
					fail_msg("the classifier and the "
					    "linear scan disagree");
			}
			vr = v.by == BY_RULE ? v.rule->number : 0;
			if (v.action != na || v.by != nb || vr != nr) {
				char s[ADDR_STRLEN], d[ADDR_STRLEN];

				addr_format(f.src, s, sizeof(s));
				addr_format(f.dst, d, sizeof(d));
				fprintf(stderr, "%s--- flow on %s %s -> %s proto "
				    "%d port %u: eval %s rule %d, naive %s rule "
				    "%d\n", strbuf_str(&text), f.iface->name, s,
				    d, f.proto, f.dport, action_name(v.action),
				    vr, action_name(na), nr);
				fail_msg("evaluators disagree");
			}
			if (vr > 0 && p->rules[vr - 1]->dead) {
				fprintf(stderr, "%s--- rule %d decided a flow\n",
				    strbuf_str(&text), vr);
				fail_msg("lint called a live rule dead");
			}
			if (v.gw != naive_gw(p, &f, &v, nr)) {
				fprintf(stderr, "%s--- rule %d: gateway %s, naive "
				    "%s\n", strbuf_str(&text), vr, v.gw != NULL ?
				    v.gw->name : "none", naive_gw(p, &f, &v, nr)
				    != NULL ? "one" : "none");
				fail_msg("the gateway a flow leaves by differs");
			}
			by_gw += v.gw != NULL;
			by_rule += vr > 0;
			agree++;
		}
		check_edges(&r, p, idx);
		check_many(&r, p, idx, (size_t)nflows);
		policy_index_free(idx);
		policy_free(p);
	}
	printf("differential: %ld flows over %d policies, eval, eval through "
	    "the classifier and naive agree on all (%ld decided by a rule, "
	    "%ld sent out by a gateway option); lint: %ld dead rules, none "
	    "decided a flow\n", agree, n, by_rule, by_gw, dead_rules);
	assert_true(by_gw > 0);
	assert_true(by_rule > agree / 4);
	strbuf_free(&text);
}

/* Every point where some rule's set starts or ends, in one dimension:
 * one representative for each piece that all rules treat alike. */
static size_t
boundaries(const struct policy *p, int k, u128 *out, size_t max)
{
	size_t i, j, n = 0, m = 0;

	for (i = 0; i <= p->nrule; i++) {
		const struct rule *r = i < p->nrule ? p->rules[i] :
		    p->lockout_rule;
		const struct iset *s;

		if (r == NULL)
			continue;
		s = k == 0 ? &r->src.set : k == 1 ? &r->dst.set : &r->svc.set;
		for (j = 0; j < s->n && n + 2 <= max; j++) {
			out[n++] = s->v[j].lo;
			if (s->v[j].hi != U128_MAX)
				out[n++] = s->v[j].hi + 1;
		}
	}
	assert_true(n + 4 <= max);
	out[n++] = 0;
	if (k < 2) {	/* an elementary interval is of one family */
		out[n++] = V4_BASE;
		out[n++] = V4_LAST + 1;
	}
	for (i = 1; i < n; i++)	/* insertion sort, then unique */
		for (j = i; j > 0 && out[j - 1] > out[j]; j--) {
			u128 t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		if (m == 0 || out[m - 1] != out[i])
			out[m++] = out[i];
	return m;
}

/* c alone matches all that r matches (on r's interface). */
static bool
covers_rule(const struct rule *c, const struct rule *r)
{
	return c->iface == r->iface && iset_subset(r->src.set, c->src.set) &&
	    iset_subset(r->dst.set, c->dst.set) &&
	    iset_subset(r->svc.set, c->svc.set);
}

/* Brute force: is there a point of rule r's box that r decides (its two
 * addresses of one family)? */
static bool
oracle_live(const struct policy *p, const struct rule *r, u128 *reps[3],
    size_t nreps[3])
{
	size_t a, b, c, i;

	for (a = 0; a < nreps[0]; a++) {
		if (!iset_contains(r->src.set, reps[0][a]))
			continue;
		for (b = 0; b < nreps[1]; b++) {
			/* A packet's two addresses are of one family. */
			if (!iset_contains(r->dst.set, reps[1][b]) ||
			    addr_family_of(reps[1][b]) !=
			    addr_family_of(reps[0][a]))
				continue;
			for (c = 0; c < nreps[2]; c++) {
				struct flow f = { r->iface, reps[0][a],
				    reps[1][b], (int)(reps[2][c] >> 16),
				    (unsigned)reps[2][c] & 0xffff, 0 };
				const struct rule *first = NULL;

				if (!iset_contains(r->svc.set, reps[2][c]))
					continue;
				if (p->lockout_rule != NULL && rule_matches(
				    p->lockout_rule, &f, f.dst))
					continue;
				for (i = 0; i < p->nrule && first == NULL; i++)
					if (rule_matches(p->rules[i], &f, f.dst))
						first = p->rules[i];
				if (first == r)
					return true;
			}
		}
	}
	return false;
}

static void
test_lint_exact(void **state)
{
	struct rng r = { 3 };
	struct strbuf text;
	int i, n = env_int("MOAT_PROP_POLICIES", 400), skipped = 0;
	long dead = 0, live = 0, union_dead = 0;
	static u128 reps0[4096], reps1[4096], reps2[4096];
	u128 *reps[3] = { reps0, reps1, reps2 };

	(void)state;
	strbuf_init(&text, 0);
	for (i = 0; i < n; i++) {
		struct gen_opts o = { GEN_DENSE, 2 + (int)rng_below(&r, 6),
		    (int)rng_below(&r, 4), (int)rng_below(&r, 3), false,
		    false, false };
		struct policy *p = valid_policy(&r, &o, &text, &skipped);
		struct lint_stats st;
		size_t nreps[3], k;

		assert_int_equal(lint_policy(p, &st), 0);
		assert_int_equal(st.too_complex, 0);
		for (k = 0; k < 3; k++)
			nreps[k] = boundaries(p, (int)k, reps[k], 4096);
		for (k = 0; k < p->nrule; k++) {
			const struct rule *ru = p->rules[k];
			bool is_live;

			if (ru->disabled)
				continue;
			is_live = oracle_live(p, ru, reps, nreps);
			if (is_live == ru->dead) {
				fprintf(stderr, "%s--- rule %d: lint says %s\n",
				    strbuf_str(&text), ru->number,
				    ru->dead ? "dead" : "live");
				fail_msg("lint disagrees with brute force");
			}
			dead += !is_live;
			live += is_live;
			if (!is_live) {
				size_t m;
				bool single = p->lockout_rule != NULL &&
				    covers_rule(p->lockout_rule, ru);

				for (m = 0; m < k && !single; m++)
					single = !p->rules[m]->disabled &&
					    covers_rule(p->rules[m], ru);
				union_dead += !single;
			}
		}
		policy_free(p);
	}
	printf("lint exact: %d policies, %ld dead (%ld of them only by several "
	    "rules together) and %ld live rules, all as brute force over "
	    "elementary intervals finds\n", n, dead, union_dead, live);
	assert_true(union_dead > 0 && live > 0);
	strbuf_free(&text);
}

/* The lines of text, for an edit: line i is lines[i] (not terminated). */
struct lines {
	char	**v;
	size_t	  n;
};

static void
lines_split(struct lines *l, const char *text)
{
	const char *s = text, *nl;

	l->n = 0;
	l->v = NULL;
	while (*s != '\0') {
		nl = strchr(s, '\n');
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		assert_non_null(l->v);
		l->v[l->n++] = strndup(s, nl != NULL ? (size_t)(nl - s) :
		    strlen(s));
		s = nl != NULL ? nl + 1 : s + strlen(s);
	}
}

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static bool
is_rule(const char *line)
{
	return strncmp(line, "accept ", 7) == 0 ||
	    strncmp(line, "deny ", 5) == 0 || strncmp(line, "reject ", 7) == 0;
}

/* One random edit of the lines, as an admin makes: a rule added (a copy
 * of another, or another verdict), removed, moved, changed (another's
 * text, or its verdict), an object given another's members, the
 * anti-lockout rule turned off or on. */
static void
edit_lines(struct rng *r, struct lines *l)
{
	size_t rules[8192], objs[512], nr = 0, no = 0, i, a, b;
	char *t;

	for (i = 0; i < l->n; i++) {
		if (is_rule(l->v[i]) && nr < 8192)
			rules[nr++] = i;
		if (strncmp(l->v[i], "object ", 7) == 0 && no < 512)
			objs[no++] = i;
	}
	if (nr < 2)
		return;
	a = rules[rng_below(r, nr)];
	b = rules[rng_below(r, nr)];
	switch (rng_below(r, 8)) {
	case 0:		/* added: a copy of b at a */
	case 1:
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		assert_non_null(l->v);
		memmove(l->v + a + 1, l->v + a, (l->n - a) * sizeof(*l->v));
		l->v[a] = strdup(l->v[b >= a ? b + 1 : b]);
		l->n++;
		break;
	case 2:		/* removed */
		free(l->v[a]);
		memmove(l->v + a, l->v + a + 1, (l->n - a - 1) * sizeof(*l->v));
		l->n--;
		break;
	case 3:		/* moved from a to b */
		t = l->v[a];
		if (a < b)
			memmove(l->v + a, l->v + a + 1, (b - a) * sizeof(*l->v));
		else
			memmove(l->v + b + 1, l->v + b, (a - b) * sizeof(*l->v));
		l->v[b] = t;
		break;
	case 4:		/* changed: b's text */
		t = strdup(l->v[b]);
		free(l->v[a]);
		l->v[a] = t;
		break;
	case 5: {	/* changed: another verdict */
		static const char *const verbs[] = { "accept", "deny",
		    "reject" };
		const char *rest = strchr(l->v[a], ' ');
		char *n;

		assert_true(asprintf(&n, "%s%s", verbs[rng_below(r, 3)],
		    rest) > 0);
		free(l->v[a]);
		l->v[a] = n;
		break;
	}
	case 6:		/* an object with another's members */
		if (no >= 2) {
			size_t oa = objs[rng_below(r, no)];
			size_t ob = objs[rng_below(r, no)];
			const char *name_end = strchr(l->v[oa] + 7, ' ');
			const char *members = strchr(l->v[ob] + 7, ' ');
			char *n;

			if (name_end == NULL || members == NULL)
				break;
			assert_true(asprintf(&n, "%.*s%s",
			    (int)(name_end - l->v[oa]), l->v[oa],
			    members) > 0);
			free(l->v[oa]);
			l->v[oa] = n;
		}
		break;
	default:	/* the anti-lockout rule off, or on again */
		for (i = 0; i < l->n; i++)
			if (strcmp(l->v[i], "anti-lockout off") == 0)
				break;
		if (i < l->n) {
			free(l->v[i]);
			l->v[i] = strdup("# anti-lockout on");
		} else {
			free(l->v[a]);
			l->v[a] = strdup("anti-lockout off");
		}
		break;
	}
}

static void
lines_join(const struct lines *l, struct strbuf *b)
{
	size_t i;

	strbuf_reset(b);
	for (i = 0; i < l->n; i++) {
		strbuf_puts(b, l->v[i]);
		strbuf_putc(b, '\n');
	}
}

/* p's findings, one a line, and its rules' dead flags. */
static void
findings(const struct policy *p, struct strbuf *out)
{
	char buf[1400];
	size_t i;

	strbuf_reset(out);
	for (i = 0; i < p->diags.n; i++) {
		diag_format(&p->diags.v[i], buf, sizeof(buf));
		strbuf_printf(out, "%s\n", buf);
	}
	for (i = 0; i < p->nrule; i++)
		strbuf_putc(out, p->rules[i]->dead ? 'd' : '.');
	strbuf_putc(out, '\n');
}

/* Lint of b with the memo of a finds what lint of b finds alone; how
 * many rules' findings came from the memo. */
static size_t
reuse_pair(const char *a, const char *b)
{
	struct strbuf ma, mb, fa, fb;
	struct policy *pa = policy_parse("a.conf", a, strlen(a));
	struct policy *pb = policy_parse("b.conf", b, strlen(b));
	struct policy *qb = policy_parse("b.conf", b, strlen(b));
	struct lint_memo m = { .tag = "test", .out = &ma };
	struct lint_memo mp = { .tag = "test", .old = pa };
	size_t reused;

	strbuf_init(&ma, 0);
	strbuf_init(&mb, 0);
	strbuf_init(&fa, 0);
	strbuf_init(&fb, 0);
	assert_true(pa != NULL && pb != NULL && qb != NULL);
	assert_true(policy_valid(pa) && policy_valid(pb));
	assert_int_equal(lint_policy_memo(pa, NULL, &m), 0);
	mp.in = strbuf_str(&ma);
	mp.inlen = ma.len;
	assert_int_equal(lint_policy_memo(pb, NULL, &mp), 0);
	assert_int_equal(lint_policy(qb, NULL), 0);
	findings(pb, &fa);
	findings(qb, &fb);
	assert_string_equal(strbuf_str(&fa), strbuf_str(&fb));
	reused = mp.reused;
	policy_free(pa);
	policy_free(pb);
	policy_free(qb);
	strbuf_free(&ma);
	strbuf_free(&mb);
	strbuf_free(&fa);
	strbuf_free(&fb);
	return reused;
}

/*
 * Lint with the memo of the policy before an edit: after each of a chain
 * of random edits, the findings (text, order, dead flags) and the memo it
 * makes are those of a lint without a memo, while most rules' findings
 * come from the memo.  Dense policies (rules overlap a lot, schedules),
 * and office ones past the size that checks the interfaces in threads.
 */
static void
test_lint_reuse(void **state)
{
	struct rng r = { 77 };
	struct strbuf text, was, now, memo_a, memo_b;
	int i, e, n = env_int("MOAT_PROP_POLICIES", 400) / 2, skipped = 0;
	long edits = 0, reused = 0, checked = 0, same_policy = 0;

	(void)state;
	strbuf_init(&text, 0);
	strbuf_init(&was, 0);
	strbuf_init(&now, 0);
	strbuf_init(&memo_a, 0);
	strbuf_init(&memo_b, 0);
	/* Rule 12 is covered by ten rules, the memo names eight: the tenth
	 * removed, it is live, which only its overlap with a removed rule
	 * above it tells; rule 1, above, keeps its finding. */
	strbuf_puts(&text, "interface LAN device eth1 address 10.0.0.1/24\n"
	    "anti-lockout off\n"
	    "deny on LAN from 192.168.0.1 service SSH\n");
	for (i = 1; i <= 10; i++)
		strbuf_printf(&text, "deny on LAN from 10.0.0.%d\n", i);
	strbuf_puts(&text, "deny on LAN from 10.0.0.1-10.0.0.10\n");
	{
		char *a = strdup(strbuf_str(&text)), *cut;

		cut = strstr(strbuf_str(&text), "deny on LAN from 10.0.0.10\n");
		memmove(cut, cut + strlen("deny on LAN from 10.0.0.10\n"),
		    strlen(cut) - strlen("deny on LAN from 10.0.0.10\n") + 1);
		assert_true(reuse_pair(a, strbuf_str(&text)) >= 9);
		free(a);
	}
	for (i = 0; i < n + 4; i++) {
		bool office = i >= n;
		struct gen_opts o = { office ? GEN_OFFICE : GEN_DENSE,
		    office ? 3000 + 1200 * (i - n) : 2 + (int)rng_below(&r, 40),
		    office ? 30 : (int)rng_below(&r, 5),
		    office ? 8 : (int)rng_below(&r, 4), false, !office, false };
		struct policy *old = valid_policy(&r, &o, &text, &skipped);
		struct lint_memo m = { .tag = "test", .out = &memo_a };
		struct lines l;

		assert_int_equal(lint_policy_memo(old, NULL, &m), 0);
		assert_false(memo_a.failed);
		lines_split(&l, strbuf_str(&text));
		for (e = 0; e < (office ? 6 : 8); e++) {
			struct policy *p, *q;
			struct lint_memo mp = { .tag = "test", .old = old,
			    .in = strbuf_str(&memo_a), .inlen = memo_a.len,
			    .out = &memo_b };
			struct lint_memo mq = { .tag = "test", .out = &now };
			struct strbuf fq;

			edit_lines(&r, &l);
			lines_join(&l, &text);
			p = policy_parse("gen.conf", strbuf_str(&text),
			    text.len);
			assert_non_null(p);
			if (!policy_valid(p)) {
				policy_free(p);
				continue;
			}
			q = policy_parse("gen.conf", strbuf_str(&text),
			    text.len);
			assert_non_null(q);
			assert_int_equal(lint_policy_memo(p, NULL, &mp), 0);
			assert_int_equal(lint_policy_memo(q, NULL, &mq), 0);
			findings(p, &was);
			strbuf_init(&fq, 0);
			findings(q, &fq);
			if (strcmp(strbuf_str(&was), strbuf_str(&fq)) != 0) {
				fprintf(stderr, "%s--- with the memo:\n%s--- "
				    "without:\n%s", strbuf_str(&text),
				    strbuf_str(&was), strbuf_str(&fq));
				fail_msg("lint with the memo finds otherwise");
			}
			/* A policy linted with its own memo and as its own
			 * old policy (the console's GET policy): every
			 * finding from the memo, the same. */
			if (e < 2) {
				struct policy *s2 = policy_parse("gen.conf",
				    strbuf_str(&text), text.len);
				struct lint_memo ms = { .tag = "test", .old = s2,
				    .in = strbuf_str(&now), .inlen = now.len };
				struct strbuf fs;

				assert_non_null(s2);
				assert_int_equal(lint_policy_memo(s2, NULL, &ms),
				    0);
				strbuf_init(&fs, 0);
				findings(s2, &fs);
				assert_string_equal(strbuf_str(&fs),
				    strbuf_str(&fq));
				assert_int_equal(ms.checked, 0);
				assert_int_equal(ms.reused, mq.checked);
				strbuf_free(&fs);
				policy_free(s2);
			}
			strbuf_free(&fq);
			if (memo_b.len != now.len || memcmp(strbuf_str(&memo_b),
			    strbuf_str(&now), now.len) != 0)
				fail_msg("lint with the memo makes another memo");
			assert_int_equal(mq.reused, 0);
			assert_int_equal(mp.reused + mp.checked, mq.checked);
			reused += (long)mp.reused;
			checked += (long)mp.checked;
			same_policy += mp.checked == 0;
			edits++;
			/* The next edit's memo is this one's. */
			policy_free(old);
			old = p;
			strbuf_reset(&memo_a);
			strbuf_add(&memo_a, strbuf_str(&memo_b), memo_b.len);
			policy_free(q);
		}
		lines_free(&l);
		policy_free(old);
	}
	printf("lint reuse: %ld edits of %d policies, the same findings and "
	    "memo with the memo as without; %ld rules' findings from the "
	    "memo, %ld checked (%ld edits checked none)\n", edits, n + 4,
	    reused, checked, same_policy);
	assert_true(edits > n && reused > 2 * checked);
	strbuf_free(&text);
	strbuf_free(&was);
	strbuf_free(&now);
	strbuf_free(&memo_a);
	strbuf_free(&memo_b);
}

/* Office policies of thousands of rules: the index (the classifier in its
 * compact form, the ranks of a policy's rules not 0, 1, 2, … once boxes
 * are cut to IPv4) decides as the linear scan on random flows. */
static void
test_office_index(void **state)
{
	struct rng r = { 31 };
	struct strbuf text;
	int i, j, nflows = env_int("MOAT_PROP_FLOWS", 300) * 20;
	long agree = 0;

	(void)state;
	strbuf_init(&text, 0);
	for (i = 0; i < 3; i++) {
		struct gen_opts o = { GEN_OFFICE, 1000 + 1500 * i, 40, 10,
		    false, false, false };
		struct policy *p;
		struct policy_index *idx;

		strbuf_reset(&text);
		gen_policy(&r, &o, &text);
		p = policy_parse("office.conf", strbuf_str(&text), text.len);
		assert_non_null(p);
		assert_true(policy_valid(p));
		idx = policy_index(p, 1u << 20);
		assert_non_null(idx);
		for (j = 0; j < nflows; j++) {
			struct flow f;
			struct verdict v, vi;

			gen_flow(&r, p, &f);
			policy_eval(p, &f, &v);
			policy_eval_with(p, idx, &f, &vi);
			if (vi.action != v.action || vi.by != v.by ||
			    vi.rule != v.rule)
				fail_msg("office policy %d, flow %d: the "
				    "classifier and the linear scan disagree",
				    i, j);
			agree++;
		}
		check_edges(&r, p, idx);
		check_many(&r, p, idx, (size_t)nflows);
		policy_index_free(idx);
		policy_free(p);
	}
	strbuf_free(&text);
	printf("office index: %ld flows over 3 office policies (1,000-4,000 "
	    "rules), the index = the linear scan on all\n", agree);
}

/* A lint past its deadline (root's loop gives the console's one) checks
 * no more rules, says so, and makes no memo; before it, nothing is
 * said.  Rule 2 is covered by rule 1: found with time, not without. */
static void
test_lint_deadline(void **state)
{
	static const char text[] =
	    "interface LAN device eth1 address 10.0.0.1/24\n"
	    "deny on LAN from 10.0.0.0/24\n"
	    "deny on LAN from 10.0.0.5\n";
	struct policy *p;
	struct strbuf memo, f;
	int late;

	(void)state;
	for (late = 0; late < 2; late++) {
		struct lint_memo m = { .tag = "test", .out = &memo,
		    .deadline = late ? clock_ms() - 1 : clock_ms() + 60000 };

		strbuf_init(&memo, 0);
		strbuf_init(&f, 0);
		p = policy_parse("d.conf", text, strlen(text));
		assert_true(p != NULL && policy_valid(p));
		assert_int_equal(lint_policy_memo(p, NULL, &m), 0);
		findings(p, &f);
		assert_int_equal(m.late, late);
		assert_int_equal(memo.failed, late);
		assert_int_equal(strstr(strbuf_str(&f), "lint stopped at its "
		    "deadline") != NULL, late);
		assert_int_equal(strstr(strbuf_str(&f), "rule 2 can never "
		    "match") != NULL, !late);
		policy_free(p);
		strbuf_free(&memo);
		strbuf_free(&f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint_deadline),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_office_index),
		cmocka_unit_test(test_lint_exact),
		cmocka_unit_test(test_lint_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_nftdiff.c: the difference of two compiled rulesets (nftdiff.h).
 *
 * The property: for random pairs of rulesets, the script nftdiff writes,
 * run on a model of the kernel that holds the first (rules with handles,
 * sets of elements, refusing what the kernel refuses: a handle or an
 * element that is not there, an element added twice, a chain deleted with
 * rules), leaves exactly the second.  And the cases where it must not
 * write one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/netfilter/nfnetlink.h>

#include "base/addr.h"
#include "base/iset.h"
#include "base/strbuf.h"
#include "enforce/nfdelta.h"
#include "enforce/nftc.h"
#include "enforce/nftdiff.h"
#include "policy/load.h"

#define NCHAIN	6
#define NSET	4
#define NCNT	4
#define MAXR	64
#define MAXE	64

/* A ruleset, as the generator makes it and the model holds it. */
struct rs {
	struct {
		int	 present;
		int	 n;
		char	 rule[MAXR][48];
		uint64_t handle[MAXR];
	}	chain[NCHAIN];
	struct {
		int	 present;
		int	 elem[MAXE];	/* 0/1: element e present */
	}	set[NSET];
	int	 counter[NCNT];
	uint64_t next_handle;
};

static unsigned long long rstate = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rstate ^= rstate << 13;
	rstate ^= rstate >> 7;
	rstate ^= rstate << 17;
	return (unsigned)(rstate % n);
}

static void
render(const struct rs *r, struct strbuf *b)
{
	int i, k, first;

	strbuf_puts(b, "# moat policy from test, compiled by moat\n"
	    "table inet moat\ndelete table inet moat\ntable inet moat {\n");
	for (i = 0; i < NCNT; i++)
		if (r->counter[i])
			strbuf_printf(b, "\tcounter c%d {\n\t}\n", i);
	for (i = 0; i < NSET; i++) {
		if (!r->set[i].present)
			continue;
		strbuf_printf(b, "\tset s%d {\n\t\ttype ipv4_addr\n\t\tflags "
		    "interval\n", i);
		first = 1;
		for (k = 0; k < MAXE; k++)
			if (r->set[i].elem[k]) {
				strbuf_printf(b, "%s10.0.%d.0/24", first ?
				    "\t\telements = { " : ",\n\t\t\t     ", k);
				first = 0;
			}
		if (!first)
			strbuf_puts(b, " }\n");
		strbuf_puts(b, "\t}\n\n");
	}
	for (i = 0; i < NCHAIN; i++) {
		if (!r->chain[i].present)
			continue;
		strbuf_printf(b, "\tchain ch%d {\n", i);
		if (i == 0)
			strbuf_puts(b, "\t\ttype filter hook input priority "
			    "filter; policy accept;\n");
		for (k = 0; k < r->chain[i].n; k++)
			strbuf_printf(b, "\t\t%s\n", r->chain[i].rule[k]);
		strbuf_puts(b, "\t}\n\n");
	}
	strbuf_puts(b, "}\n");
}

static void
random_rule(char *buf, size_t len)
{
	/* few texts: twins in a chain */
	snprintf(buf, len, "tcp dport %u counter name \"c%u\" accept",
	    rnd(12), rnd(NCNT));
}

static void
random_rs(struct rs *r)
{
	int i, k;

	memset(r, 0, sizeof(*r));
	r->chain[0].present = 1;
	for (i = 0; i < NCNT; i++)
		r->counter[i] = 1;
	for (i = 0; i < NCHAIN; i++) {
		if (i > 0 && rnd(3) == 0)
			continue;
		r->chain[i].present = 1;
		r->chain[i].n = (int)rnd(20);
		for (k = 0; k < r->chain[i].n; k++)
			random_rule(r->chain[i].rule[k],
			    sizeof(r->chain[i].rule[k]));
	}
	for (i = 0; i < NSET; i++) {
		r->set[i].present = rnd(4) != 0;
		for (k = 0; k < MAXE; k++)
			r->set[i].elem[k] = r->set[i].present && rnd(3) == 0;
	}
}

/* A few edits of every kind. */
static void
mutate(struct rs *r)
{
	int t, e, i, k, edits = 1 + (int)rnd(6);

	for (e = 0; e < edits; e++) {
		t = (int)rnd(8);
		i = 1 + (int)rnd(NCHAIN - 1);
		if (t <= 3 && !r->chain[i].present)
			t = 7;
		switch (t) {
		case 0:		/* add */
			if (r->chain[i].n == MAXR)
				break;
			k = (int)rnd((unsigned)r->chain[i].n + 1);
			memmove(r->chain[i].rule[k + 1], r->chain[i].rule[k],
			    (size_t)(r->chain[i].n - k) *
			    sizeof(r->chain[i].rule[0]));
			random_rule(r->chain[i].rule[k],
			    sizeof(r->chain[i].rule[k]));
			r->chain[i].n++;
			break;
		case 1:		/* delete */
			if (r->chain[i].n == 0)
				break;
			k = (int)rnd((unsigned)r->chain[i].n);
			memmove(r->chain[i].rule[k], r->chain[i].rule[k + 1],
			    (size_t)(r->chain[i].n - k - 1) *
			    sizeof(r->chain[i].rule[0]));
			r->chain[i].n--;
			break;
		case 2:		/* change */
			if (r->chain[i].n > 0)
				random_rule(r->chain[i].rule[rnd((unsigned)
				    r->chain[i].n)], sizeof(r->chain[i].rule[0]));
			break;
		case 3: {	/* move */
			char tmp[48];
			int to;

			if (r->chain[i].n < 2)
				break;
			k = (int)rnd((unsigned)r->chain[i].n);
			to = (int)rnd((unsigned)r->chain[i].n);
			memcpy(tmp, r->chain[i].rule[k], sizeof(tmp));
			if (k < to)
				memmove(r->chain[i].rule[k],
				    r->chain[i].rule[k + 1], (size_t)(to - k) *
				    sizeof(tmp));
			else
				memmove(r->chain[i].rule[to + 1],
				    r->chain[i].rule[to], (size_t)(k - to) *
				    sizeof(tmp));
			memcpy(r->chain[i].rule[to], tmp, sizeof(tmp));
			break;
		}
		case 4:		/* an element */
			k = (int)rnd(NSET);
			if (r->set[k].present)
				r->set[k].elem[rnd(MAXE)] ^= 1;
			break;
		case 5:		/* a set comes or goes */
			k = (int)rnd(NSET);
			r->set[k].present ^= 1;
			for (t = 0; t < MAXE; t++)
				r->set[k].elem[t] = r->set[k].present &&
				    rnd(3) == 0;
			break;
		case 6:		/* a counter comes or goes (if unused) */
			r->counter[rnd(NCNT)] = 1;
			break;
		case 7:		/* a chain comes or goes */
			r->chain[i].present ^= 1;
			r->chain[i].n = 0;
			if (r->chain[i].present) {
				r->chain[i].n = (int)rnd(8);
				for (k = 0; k < r->chain[i].n; k++)
					random_rule(r->chain[i].rule[k],
					    sizeof(r->chain[i].rule[0]));
			}
			break;
		}
	}
}

static struct rs model;

static int
model_handles(void *arg, const char *chain, uint64_t **v, size_t *n,
    struct strbuf *why)
{
	int i = atoi(chain + 2), k;

	(void)arg;
	(void)why;
	*v = calloc((size_t)model.chain[i].n + 1, sizeof(**v));
	assert_non_null(*v);
	for (k = 0; k < model.chain[i].n; k++)
		(*v)[k] = model.chain[i].handle[k];
	*n = (size_t)model.chain[i].n;
	return 0;
}

static void
give_handles(struct rs *r)
{
	int i, k;

	for (i = 0; i < NCHAIN; i++)
		for (k = 0; k < r->chain[i].n; k++)
			r->chain[i].handle[k] = ++r->next_handle;
}

/* The elements "{ 10.0.K.0/24, ... }" of a command into set k: add or
 * delete each, as the kernel would (refusing what is not so). */
static void
model_elements(const char *s, int set, int add)
{
	const char *p = strchr(s, '{');

	assert_non_null(p);
	while ((p = strstr(p, "10.0.")) != NULL) {
		int e = atoi(p + 5);

		assert_true(model.set[set].present);
		assert_int_equal(model.set[set].elem[e], add ? 0 : 1);
		model.set[set].elem[e] = add;
		p += 5;
	}
}

/* Run script on the model. */
static void
run_model(const char *script)
{
	char *copy = strdup(script), *line, *save = NULL;
	int in_table = 0, cur = -1;

	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		int i, k;
		unsigned long long h;

		if (strcmp(line, "table inet moat {") == 0) {
			in_table = 1;
			continue;
		}
		if (in_table) {
			if (strcmp(line, "}") == 0) {
				in_table = 0;
				continue;
			}
			if (sscanf(line, "\tcounter c%d {", &i) == 1) {
				assert_false(model.counter[i]);
				model.counter[i] = 1;
			} else if (sscanf(line, "\tset s%d {", &i) == 1) {
				assert_false(model.set[i].present);
				model.set[i].present = 1;
				memset(model.set[i].elem, 0,
				    sizeof(model.set[i].elem));
				cur = i;
			} else if (sscanf(line, "\tchain ch%d {", &i) == 1) {
				assert_false(model.chain[i].present);
				model.chain[i].present = 1;
				model.chain[i].n = 0;
			} else if (strstr(line, "10.0.") != NULL) {
				const char *p = line;

				while ((p = strstr(p, "10.0.")) != NULL) {
					model.set[cur].elem[atoi(p + 5)] = 1;
					p += 5;
				}
			}
			continue;
		}
		if (sscanf(line, "delete rule inet moat ch%d handle %llu", &i,
		    &h) == 2) {
			for (k = 0; k < model.chain[i].n; k++)
				if (model.chain[i].handle[k] == h)
					break;
			assert_true(k < model.chain[i].n);
			memmove(&model.chain[i].rule[k],
			    &model.chain[i].rule[k + 1], (size_t)
			    (model.chain[i].n - k - 1) *
			    sizeof(model.chain[i].rule[0]));
			memmove(&model.chain[i].handle[k],
			    &model.chain[i].handle[k + 1], (size_t)
			    (model.chain[i].n - k - 1) * sizeof(uint64_t));
			model.chain[i].n--;
		} else if (sscanf(line, "insert rule inet moat ch%d position "
		    "%llu ", &i, &h) == 2) {
			const char *t = strstr(line, " position ") + 10;

			t = strchr(t, ' ') + 1;
			for (k = 0; k < model.chain[i].n; k++)
				if (model.chain[i].handle[k] == h)
					break;
			assert_true(k < model.chain[i].n);
			memmove(&model.chain[i].rule[k + 1],
			    &model.chain[i].rule[k], (size_t)
			    (model.chain[i].n - k) *
			    sizeof(model.chain[i].rule[0]));
			memmove(&model.chain[i].handle[k + 1],
			    &model.chain[i].handle[k], (size_t)
			    (model.chain[i].n - k) * sizeof(uint64_t));
			model.chain[i].n++;
			snprintf(model.chain[i].rule[k],
			    sizeof(model.chain[i].rule[k]), "%s", t);
			model.chain[i].handle[k] = ++model.next_handle;
		} else if (sscanf(line, "add rule inet moat ch%d ", &i) == 1) {
			const char *t = strchr(line + 22, ' ') + 1;

			assert_true(model.chain[i].present);
			k = model.chain[i].n++;
			snprintf(model.chain[i].rule[k],
			    sizeof(model.chain[i].rule[k]), "%s", t);
			model.chain[i].handle[k] = ++model.next_handle;
		} else if (sscanf(line, "add element inet moat s%d", &i) == 1)
			model_elements(line, i, 1);
		else if (sscanf(line, "delete element inet moat s%d", &i) == 1)
			model_elements(line, i, 0);
		else if (sscanf(line, "flush chain inet moat ch%d", &i) == 1)
			model.chain[i].n = 0;
		else if (sscanf(line, "delete chain inet moat ch%d", &i) ==
		    1) {
			assert_int_equal(model.chain[i].n, 0);
			model.chain[i].present = 0;
		} else if (sscanf(line, "delete set inet moat s%d", &i) == 1) {
			assert_true(model.set[i].present);
			model.set[i].present = 0;
			memset(model.set[i].elem, 0,
			    sizeof(model.set[i].elem));
		} else if (sscanf(line, "delete counter inet moat c%d", &i) ==
		    1)
			model.counter[i] = 0;
		else
			fail_msg("a line the model does not know: %s", line);
	}
	free(copy);
}

static void
same_as(const struct rs *want)
{
	int i, k;

	for (i = 0; i < NCNT; i++)
		assert_int_equal(model.counter[i], want->counter[i]);
	for (i = 0; i < NSET; i++) {
		assert_int_equal(model.set[i].present, want->set[i].present);
		for (k = 0; k < MAXE; k++)
			assert_int_equal(model.set[i].elem[k],
			    want->set[i].elem[k]);
	}
	for (i = 0; i < NCHAIN; i++) {
		assert_int_equal(model.chain[i].present,
		    want->chain[i].present);
		assert_int_equal(model.chain[i].n, want->chain[i].n);
		for (k = 0; k < want->chain[i].n; k++)
			assert_string_equal(model.chain[i].rule[k],
			    want->chain[i].rule[k]);
	}
}

static void
test_random_pairs(void **state)
{
	int round;
	size_t diffs = 0, kept = 0;

	(void)state;
	for (round = 0; round < 3000; round++) {
		struct rs a, b;
		struct strbuf ta, tb, out, why;
		struct nftdiff_stats st;
		int rc;

		random_rs(&a);
		b = a;
		mutate(&b);
		/* counters are used by rules: all present in both */
		strbuf_init(&ta, 0);
		strbuf_init(&tb, 0);
		strbuf_init(&out, 0);
		strbuf_init(&why, 0);
		render(&a, &ta);
		render(&b, &tb);
		model = a;
		give_handles(&model);
		model.next_handle = 1000;
		rc = nftdiff(ta.s, ta.len, tb.s, tb.len, 1000000,
		    model_handles, NULL, &out, NULL, &st, &why);
		if (rc != 0)
			fail_msg("round %d: %d %s", round, rc, strbuf_str(&why));
		run_model(strbuf_str(&out));
		same_as(&b);
		diffs += st.rules_added + st.rules_deleted;
		kept += st.rules;
		strbuf_free(&ta);
		strbuf_free(&tb);
		strbuf_free(&out);
		strbuf_free(&why);
	}
	/* a difference, not the whole: far fewer rules sent than held */
	assert_true(diffs < kept / 2);
}

static int
diff_text(const char *a, const char *b, unsigned pct, struct strbuf *out,
    struct strbuf *why, struct nftdiff_stats *st)
{
	memset(&model, 0, sizeof(model));
	model.chain[1].n = 3;		/* handles 1-3 of chain ch1 */
	model.chain[1].handle[0] = 1;
	model.chain[1].handle[1] = 2;
	model.chain[1].handle[2] = 3;
	return nftdiff(a, strlen(a), b, strlen(b), pct, model_handles, NULL,
	    out, NULL, st, why);
}

#define HEAD	"table inet moat\ndelete table inet moat\ntable inet moat {\n"

static void
test_cases(void **state)
{
	struct strbuf out, why;
	struct nftdiff_stats st;
	const char *a = HEAD
	    "\tcounter c1 {\n\t}\n"
	    "\tmap m1 {\n\t\ttype ipv4_addr : verdict\n\t\tflags interval\n"
	    "\t\telements = { 10.0.0.0/8 : jump ch1, 11.0.0.1 : jump ch2 }\n"
	    "\t}\n"
	    "\tset dyn {\n\t\ttype ipv4_addr\n\t\tcomment \"moat: follows "
	    "the device's addresses\"\n\t\telements = { 1.2.3.4 }\n\t}\n"
	    "\tset feed {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
	    "\t\tcomment \"moat: follows its feed\"\n\t}\n"
	    "\tchain ch1 {\n\t\tip daddr 1.1.1.1 accept\n"
	    "\t\tip daddr 2.2.2.2 accept\n\t\tjump ch2\n\t}\n"
	    "\tchain ch2 {\n\t\tdrop\n\t}\n}\n";
	const char *b;

	(void)state;
	strbuf_init(&out, 0);
	strbuf_init(&why, 0);
	/* the same: nothing to do */
	assert_int_equal(diff_text(a, a, 25, &out, &why, &st), 0);
	assert_int_equal(out.len, 0);
	/* a rule before the last: the tail goes again, by handle */
	b = HEAD
	    "\tcounter c1 {\n\t}\n"
	    "\tmap m1 {\n\t\ttype ipv4_addr : verdict\n\t\tflags interval\n"
	    "\t\telements = { 10.0.0.0/8 : jump ch1, 11.0.0.1 : jump ch3 }\n"
	    "\t}\n"
	    "\tset dyn {\n\t\ttype ipv4_addr\n\t\tcomment \"moat: follows "
	    "the device's addresses\"\n\t\telements = { 1.2.3.5 }\n\t}\n"
	    "\tset feed {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
	    "\t\tcomment \"moat: follows its feed\"\n\t}\n"
	    "\tchain ch1 {\n\t\tip daddr 1.1.1.1 accept\n"
	    "\t\tip daddr 2.2.2.2 accept\n\t\tip daddr 3.3.3.3 drop\n"
	    "\t\tjump ch3\n\t}\n"
	    "\tchain ch3 {\n\t\treject\n\t}\n}\n";
	strbuf_reset(&out);
	assert_int_equal(diff_text(a, b, 1000, &out, &why, &st), 0);
	assert_string_equal(strbuf_str(&out),
	    "table inet moat {\n\tchain ch3 {\n\t}\n}\n"
	    "delete element inet moat m1 { 11.0.0.1 }\n"
	    "flush set inet moat dyn\n"
	    "delete rule inet moat ch1 handle 3\n"
	    "add rule inet moat ch1 ip daddr 3.3.3.3 drop\n"
	    "add rule inet moat ch1 jump ch3\n"
	    "add rule inet moat ch3 reject\n"
	    "add element inet moat m1 { 11.0.0.1 : jump ch3 }\n"
	    "add element inet moat dyn { 1.2.3.5 }\n"
	    "flush chain inet moat ch2\n"
	    "delete chain inet moat ch2\n");
	assert_int_equal(st.rules_added, 3);
	assert_int_equal(st.rules_deleted, 2);	/* one by handle, ch2's */
	assert_int_equal(st.chains_added, 1);
	assert_int_equal(st.chains_deleted, 1);
	/* more than a quarter: the whole */
	strbuf_reset(&out);
	assert_int_equal(diff_text(a, b, 25, &out, &why, &st), 1);
	assert_non_null(strstr(strbuf_str(&why), "more than 25%"));
	assert_int_equal(out.len, 0);
	/* a rule put first and one moved: inserted before the rules kept
	 * (by their handles), which stay, with their counters */
	strbuf_reset(&out);
	b = HEAD "\tcounter c1 {\n\t}\n"
	    "\tmap m1 {\n\t\ttype ipv4_addr : verdict\n\t\tflags interval\n"
	    "\t\telements = { 10.0.0.0/8 : jump ch1, 11.0.0.1 : jump ch2 }\n"
	    "\t}\n"
	    "\tset dyn {\n\t\ttype ipv4_addr\n\t\tcomment \"moat: follows "
	    "the device's addresses\"\n\t\telements = { 1.2.3.4 }\n\t}\n"
	    "\tset feed {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
	    "\t\tcomment \"moat: follows its feed\"\n\t}\n"
	    "\tchain ch1 {\n\t\tip daddr 9.9.9.9 drop\n"
	    "\t\tip daddr 2.2.2.2 accept\n\t\tip daddr 1.1.1.1 accept\n"
	    "\t\tjump ch2\n\t}\n"
	    "\tchain ch2 {\n\t\tdrop\n\t}\n}\n";
	assert_int_equal(diff_text(a, b, 1000, &out, &why, &st), 0);
	assert_string_equal(strbuf_str(&out),
	    "delete rule inet moat ch1 handle 1\n"
	    "insert rule inet moat ch1 position 2 ip daddr 9.9.9.9 drop\n"
	    "insert rule inet moat ch1 position 3 ip daddr 1.1.1.1 accept\n");
	assert_int_equal(st.rules_added, 2);
	assert_int_equal(st.rules_deleted, 1);
	/* a type changed: the whole */
	strbuf_reset(&why);
	b = HEAD "\tcounter c1 {\n\t}\n"
	    "\tmap m1 {\n\t\ttype ipv6_addr : verdict\n\t\tflags interval\n"
	    "\t}\n}\n";
	assert_int_equal(diff_text(a, b, 1000, &out, &why, &st), 1);
	assert_string_equal(strbuf_str(&why), "map m1 changed its type or "
	    "flags");
	/* the feed object given another definition (nftc.c put_feed_set:
	 * its key in the comment): the whole, which loads what the feed's
	 * store holds for the new one instead of keeping the old addresses */
	strbuf_reset(&why);
	{
		struct strbuf c;
		const char *k = strstr(a, "follows its feed\"");

		strbuf_init(&c, 0);
		strbuf_add(&c, a, (size_t)(k - a) + 16);
		strbuf_puts(&c, " 00000000000000aa");
		strbuf_puts(&c, k + 16);
		assert_int_equal(diff_text(a, strbuf_str(&c), 1000, &out, &why,
		    &st), 1);
		assert_string_equal(strbuf_str(&why), "set feed holds a feed's "
		    "addresses and changed");
		strbuf_free(&c);
	}
	/* the feed's set gone: the whole */
	strbuf_reset(&why);
	b = HEAD "\tcounter c1 {\n\t}\n}\n";
	assert_int_equal(diff_text(a, b, 1000, &out, &why, &st), 1);
	assert_string_equal(strbuf_str(&why), "set feed is gone");
	/* the table's own lines */
	strbuf_reset(&why);
	assert_int_equal(diff_text(a, "table inet moat {\n}\n", 1000, &out,
	    &why, &st), 1);
	assert_string_equal(strbuf_str(&why), "the table's own lines "
	    "changed");
	/* a base chain's hook */
	strbuf_reset(&why);
	assert_int_equal(diff_text(HEAD "\tchain in {\n\t\ttype filter hook "
	    "input priority filter; policy accept;\n\t}\n}\n", HEAD
	    "\tchain in {\n\t\ttype filter hook input priority filter; "
	    "policy drop;\n\t}\n}\n", 1000, &out, &why, &st), 1);
	assert_string_equal(strbuf_str(&why), "chain in changed its hook");
	/* the kernel's chain is not the ruleset's: the whole */
	strbuf_reset(&why);
	assert_int_equal(diff_text(HEAD "\tchain ch1 {\n\t\ta\n\t\tb\n\t}\n"
	    "}\n", HEAD "\tchain ch1 {\n\t\tb\n\t}\n}\n", 1000, &out, &why,
	    &st), 1);
	assert_string_equal(strbuf_str(&why), "chain ch1 holds 3 rules in "
	    "the kernel, 2 in the ruleset in force");
	/* not closed */
	strbuf_reset(&why);
	assert_int_equal(diff_text(HEAD "\tchain ch1 {\n", HEAD "}\n", 1000,
	    &out, &why, &st), 1);
	assert_string_equal(strbuf_str(&why), "chain ch1 is not closed");
	strbuf_free(&out);
	strbuf_free(&why);
}

/* A script goes over moat's own netlink batch (nfdelta_script) when
 * every line is one it can send: the table created and deleted, address
 * elements of sets and verdict maps, rules of nfrule.h's vocabulary
 * (with the base chains' anonymous sets), chains declared with or
 * without a hook, sets, maps and counters declared, chains flushed and
 * deleted, sets and counters deleted.  Anything else (a set's flags or
 * type of another kind, a hook or priority moat does not write, an
 * anonymous set outside the vocabulary, another table, a malformed line)
 * leaves all of it to libnftables, with nothing queued. */
#define A40	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

#define X10(w)	w w w w w w w w w w

static void
test_delta_lines(void **state)
{
	static const struct {
		const char	*script;
		int		 r;
		size_t		 msgs;	/* messages queued */
		bool		 elements_only;
	} c[] = {
		/* elements: named from the whole rulesets, which these
		 * cases lack (test_delta_elements has them) */
		{ "add element inet moat OBJ_v4 { 10.0.0.1 }\n", 1, 0, false },
		{ "", 0, 0, true },
		{ "add element inet moat OBJ_v4 { 10.0.0.1 }\n"
		  "add rule inet moat zone_LAN accept\n", 1, 0, false },
		{ "add rule inet moat zone_LAN ip saddr 10.0.0.0/8 tcp dport "
		  "@set_1 counter accept comment \"rule 1\"\n"
		  "delete rule inet moat zone_LAN handle 7\n", 0, 2, false },
		{ "add rule inet moat zone_LAN iifname \"eth0\" accept\n", 0,
		  1, false },
		{ "add rule inet moat zone_LAN counter name \"x\" accept\n",
		  0, 1, false },
		{ "add rule inet moat zone_LAN counter name x accept\n", 1, 0,
		  false },
		{ "add rule inet moat zone_LAN tcp dport { 22, 80 } accept\n",
		  1, 0, false },
		{ "add rule inet moat zone_LAN accept drop\n", 1, 0, false },
		{ "add rule inet moat zone_LAN ip saddr 10.0.0.1 ip6 daddr ::1 "
		  "accept\n", 1, 0, false },
		{ "add rule inet moat zone_LAN udp dport 53 counter reject "
		  "with tcp reset\n", 1, 0, false },
		{ "delete rule inet moat zone_LAN handle x\n", 1, 0, false },
		{ "delete rule inet moat zone_LAN handle 7 x\n", 1, 0, false },
		/* a rule put before the rule of handle 12 */
		{ "insert rule inet moat zone_LAN position 12 ip saddr "
		  "10.0.0.1 counter accept\n", 0, 1, false },
		{ "insert rule inet moat zone_LAN position 0 accept\n", 1, 0,
		  false },
		{ "insert rule inet moat zone_LAN position x accept\n", 1, 0,
		  false },
		{ "insert rule inet moat zone_LAN position 12\n", 1, 0, false },
		{ "insert rule inet moat zone_LAN accept\n", 1, 0, false },
		/* nft merges "sport 67 dport 68" into one 4-byte load, and
		 * so does nfrule; the other order it does not write; two
		 * addresses (8 bytes) nft does not merge */
		{ "add rule inet moat zone_LAN udp sport 67 udp dport 68 "
		  "accept\n", 0, 1, false },
		{ "add rule inet moat zone_LAN udp sport 67 udp dport 68-69 "
		  "accept\n", 0, 1, false },
		{ "add rule inet moat zone_LAN tcp dport 22 tcp sport 1 "
		  "accept\n", 1, 0, false },
		{ "add rule inet moat zone_LAN meta l4proto icmp icmp type 8 "
		  "accept\n", 0, 1, false },
		{ "add rule inet moat zone_LAN ip saddr 10.0.0.1 ip daddr "
		  "10.0.0.2 udp sport 67 udp dport 68-70 accept\n", 0, 1,
		  false },
		{ "add rule inet moat zone_LAN ct state established,related "
		  "iif \"lo\" oifname \"eth0\" masquerade\n", 0, 1, false },
		{ "add rule inet moat zone_LAN ct state established,bogus "
		  "accept\n", 1, 0, false },
		{ "add rule inet moat zone_LAN iifname \"eth*\" accept\n", 1,
		  0, false },
		{ "add rule inet moat zone_LAN ip saddr vmap @zone_LAN_v4\n", 0,
		  1, false },
		{ "add rule inet moat prerouting iifname \"eth0\" ip daddr "
		  "198.51.100.2 tcp dport 8080 counter name \"forward_1\" "
		  "dnat ip to 192.168.50.11:80 comment \"forward 1\"\n", 0, 1,
		  false },
		{ "add rule inet moat prerouting ip6 daddr 2001:db8::1 tcp "
		  "dport 25 dnat ip6 to [2001:db8:50::12]:25\n", 0, 1, false },
		/* a port without a protocol, which nft refuses */
		{ "add rule inet moat prerouting ip6 daddr 2001:db8::1 dnat "
		  "ip6 to [2001:db8:50::12]:25\n", 1, 0, false },
		/* a translation's family is its own (nft adds no
		 * dependency), but not the other one said before */
		{ "add rule inet moat prerouting tcp dport 25 dnat ip to "
		  "192.168.50.11\n", 0, 1, false },
		{ "add rule inet moat prerouting ip6 daddr ::1 dnat ip to "
		  "192.168.50.11\n", 1, 0, false },
		{ "add rule inet moat prerouting ip daddr 10.0.0.1 dnat ip to "
		  "192.168.50.11:99999\n", 1, 0, false },
		{ "table inet moat {\n\tchain zone_LAN_v4_1 {\n\t}\n}\n"
		  "flush chain inet moat zone_LAN_v4_2\n"
		  "delete chain inet moat zone_LAN_v4_2\n"
		  "delete set inet moat set_2\ndelete map inet moat m_2\n"
		  "delete counter inet moat c_2\n", 0, 7, false },
		/* base chains: the table, the chain with its hook */
		{ "table inet moat {\n\tchain input {\n\t\ttype filter hook "
		  "input priority 0; policy drop;\n\t}\n}\n", 0, 2, false },
		{ "table inet moat {\n\tchain intercept {\n\t\ttype filter "
		  "hook prerouting priority -90; policy accept;\n\t}\n"
		  "\tchain postrouting {\n\t\ttype nat hook postrouting "
		  "priority srcnat; policy accept;\n\t}\n}\n", 0, 3, false },
		{ "table inet moat {\n\tchain a {\n\t\ttype filter hook "
		  "postrouting priority srcnat + 5; policy accept;\n\t}\n}\n", 0,
		  2, false },
		{ "table inet moat {\n\tchain a {\n\t\ttype filter hook "
		  "postrouting priority srcnat +5; policy accept;\n\t}\n}\n", 1,
		  0, false },
		{ "table inet moat {\n\tchain input {\n\t\ttype filter hook "
		  "input priority 5000; policy drop;\n\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tchain input {\n\t\ttype filter hook "
		  "ingress priority 0; policy drop;\n\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tchain input {\n\t\ttype route hook "
		  "output priority 0; policy accept;\n\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tchain input {\n\t\ttype filter hook "
		  "input priority 0; policy maybe;\n\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tchain input {\n\t\taccept\n\t\ttype "
		  "filter hook input priority 0; policy drop;\n\t}\n}\n", 1, 0,
		  false },
		/* a whole ruleset: its comment, the table replaced, chains
		 * first, then rules (an anonymous set's NEWSET and
		 * NEWSETELEM before its rule) */
		{ "# moat policy\ntable inet moat\ndelete table inet moat\n"
		  "table inet moat {\n\tchain input {\n\t\ttype filter hook "
		  "input priority filter; policy accept;\n\t\tct state "
		  "established,related accept\n\t\ticmpv6 type { "
		  "nd-neighbor-solicit, nd-redirect, 1 } accept\n\t\tiifname "
		  "vmap { \"eth1\" : jump zone_LAN, \"eth0\" : drop }\n\t}\n"
		  "\n\tchain zone_LAN {\n\t\taccept\n\t}\n}\n", 0, 13,
		  false },
		{ "add rule inet moat prerouting iifname { \"eth1\", \"eth2\" "
		  "} ip daddr 10.0.0.1 tcp dport 25 dnat ip to 10.1.1.1\n", 0, 3,
		  false },
		/* a set of one is a comparison, as nft writes it */
		{ "add rule inet moat input iifname { \"eth1\" } icmpv6 type "
		  "{ 1 } accept\n", 0, 1, false },
		/* the gateways' marks, routes and probes */
		{ "add rule inet moat g meta mark and 0x00ff0000 vmap { "
		  "0x00010000 : jump a, 0x00020000 : goto b }\n", 0, 3, false },
		{ "add rule inet moat g ct direction original ct mark and "
		  "0x00ff0000 vmap { 0x00010000 : jump a }\n", 0, 3, false },
		{ "add rule inet moat g ct state new oifname \"eth0\" rt ip "
		  "nexthop 192.0.2.1 ct mark set ct mark and 0xff00ffff or "
		  "0x00010000 comment \"gateway a\"\n", 0, 1, false },
		{ "add rule inet moat g ct state new fib daddr type != local "
		  "fib daddr oifname { \"eth0\", \"eth2\" } iifname vmap { "
		  "\"eth1\" : jump r }\n", 0, 5, false },
		{ "add rule inet moat g oifname \"eth0\" icmpv6 type "
		  "echo-request ip6 daddr fe80::1 meta length < 128 limit rate "
		  "10/second burst 10 packets accept\n", 0, 1, false },
		{ "add rule inet moat g meta mark set meta mark and 0xff00ffff "
		  "or 0x00010000 accept\n", 0, 1, false },
		{ "add rule inet moat g meta mark and 0x00ff0000 != 0 drop\n", 0,
		  1, false },
		{ "add rule inet moat g ct mark set 0x1\n", 1, 0, false },
		{ "add rule inet moat g meta mark and 0xfff != 1 drop\n", 1, 0,
		  false },
		{ "add rule inet moat g rt ip nexthop fe80::1 accept\n", 1, 0,
		  false },
		{ "add rule inet moat g fib daddr oifname { \"eth0\", \"eth1\" "
		  "} iifname { \"eth0\", \"eth1\" } accept\n", 0, 5, false },
		/* three anonymous sets: more than moat writes */
		{ "add rule inet moat g fib daddr oifname { \"eth0\", \"eth1\" "
		  "} iifname { \"eth0\", \"eth1\" } icmpv6 type { 1, 2 } "
		  "accept\n", 1, 0, false },
		/* anonymous sets outside the vocabulary */
		{ "add rule inet moat input iifname { } accept\n", 1, 0, false },
		{ "add rule inet moat input iifname { \"eth1\", } accept\n", 1,
		  0, false },
		{ "add rule inet moat input icmpv6 type { bogus } accept\n", 1,
		  0, false },
		{ "add rule inet moat input icmp type { 8, 0 } accept\n", 1, 0,
		  false },
		{ "add rule inet moat input iifname vmap { \"eth*\" : accept "
		  "}\n", 1, 0, false },
		{ "add rule inet moat input iifname vmap { \"eth0\" : jump "
		  "a-b }\n", 1, 0, false },
		{ "add rule inet moat input iifname vmap { \"eth0\" : jump "
		  "c } accept\n", 1, 0, false },
		{ "add rule inet moat input iifname { \"eth0\", \"eth1\" } "
		  "icmpv6 type { 1, 2 } accept\n", 0, 5, false },
		{ "table inet moat\ndelete table inet other\n", 1, 0, false },
		{ "table inet moat {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n"
		  "}\n", 1, 0, false },
		{ "table inet moat {\n\tchain c {\n\t}\n", 1, 0, false },
		/* sets, maps and counters declared: the declaration, then
		 * its elements (one message, the end at 0 with them) */
		{ "table inet moat {\n\tcounter c {\n\t}\n\n"
		  "\tset OBJ_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
		  "\t\telements = { 10.0.0.1, 10.0.1.0/24 }\n\t}\n\n"
		  "\tset set_1 {\n\t\ttype inet_service\n\t\tflags "
		  "interval\n\t\telements = { 22, 80-90 }\n\t}\n\n"
		  "\tmap zone_LAN_v4 {\n\t\ttype ipv4_addr : verdict\n"
		  "\t\tflags interval\n\t\tcounter\n\t\telements = { "
		  "10.0.0.1 comment \"rule 1\" : drop,\n\t\t\t10.0.0.2 : "
		  "jump zone_LAN_v4_1 }\n\t}\n\n\tset D_v6 {\n\t\ttype "
		  "ipv6_addr\n\t\tflags interval\n\t\tcomment \"moat: "
		  "follows\"\n\t}\n}\n", 0, 9, false },
		/* a feed's set: timeouts never reached, gc once an hour */
		{ "table inet moat {\n\tset s {\n\t\ttype ipv4_addr\n\t\t"
		  "flags interval, timeout\n\t\tgc-interval 1h\n\t\tcomment "
		  "\"moat: follows its feed\"\n\t\telements = { 10.0.0.0/8 }"
		  "\n\t}\n}\n", 0, 3, false },
		{ "table inet moat {\n\tset s {\n\t\ttype ipv4_addr\n\t\t"
		  "flags interval, timeout\n\t\tgc-interval 2h\n\t}\n}\n", 1,
		  0, false },
		{ "table inet moat {\n\tset s {\n\t\ttype ipv4_addr\n\t\t"
		  "flags interval\n\t\tgc-interval 1h\n\t}\n}\n", 1, 0,
		  false },
		{ "table inet moat {\n\tmap m {\n\t\ttype ipv4_addr : "
		  "verdict\n\t\tflags interval, timeout\n\t\tcounter\n\t}\n"
		  "}\n", 1, 0, false },
		{ "table inet moat {\n\tset s {\n\t\ttype ipv4_addr\n\t\t"
		  "flags interval\n\t\telements = { 10.0.0.1 : drop }\n"
		  "\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tset s {\n\t\ttype ether_addr\n\t\t"
		  "flags interval\n\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tmap m {\n\t\ttype ipv4_addr : "
		  "verdict\n\t\tflags interval\n\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tmap m {\n\t\ttype ipv4_addr : "
		  "verdict\n\t\tflags interval\n\t\tcounter\n\t\t"
		  "elements = { 10.0.0.1 }\n\t}\n}\n", 1, 0, false },
		{ "table inet moat {\n\tset s {\n\t\ttype inet_service\n"
		  "\t\tflags interval\n\t\telements = { 10.0.0.1 }\n\t}\n"
		  "}\n", 1, 0, false },
		{ "flush set inet moat OBJ_v4\n", 1, 0, false },
		/* 1,018 bytes of text, 10 KB of expressions: past the
		 * message's room (it was written past it) */
		{ "add rule inet moat c " X10("ip6 saddr ::/1 ")
		  X10("ip6 saddr ::/1 ") X10("ip6 saddr ::/1 ")
		  X10("ip6 saddr ::/1 ") X10("ip6 saddr ::/1 ") "accept\n", 1,
		  0, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct nfset *b = nfset_new();
		bool only = false;

		assert_non_null(b);
		if (nfdelta_script(b, c[i].script, NULL, NULL, &only,
		    NULL) != c[i].r ||
		    nfset_pending(b) != c[i].msgs ||
		    (c[i].r == 0 && only != c[i].elements_only))
			fail_msg("case %zu: %s", i, c[i].script);
		nfset_free(b);
	}
}

/* A set's elements are named from the whole of it, before and after: a
 * start whose verdict changed is deleted and added again, and a set's
 * lowest interval decides the end element at 0. */
static void
test_delta_elements(void **state)
{
#define MAP(els) "table inet moat {\n\tmap m {\n\t\ttype ipv4_addr : " \
	"verdict\n\t\tflags interval\n\t\tcounter\n\t\telements = { " \
	els " }\n\t}\n\n\tset s {\n\t\ttype ipv6_addr\n\t\tflags " \
	"interval\n\t\telements = { 2001:db8::1 }\n\t}\n}\n"
	static const struct {
		const char	*old, *new, *delta;
		int		 r;
		size_t		 msgs;
	} c[] = {
		/* the right neighbour goes: its start and end out (the
		 * left one's end, at the same key, stays) */
		{ MAP("10.0.0.0/24 : jump a,\n\t\t\t10.0.1.0/24 : jump b"),
		  MAP("10.0.0.0/24 : jump a"),
		  "delete element inet moat m { 10.0.1.0/24 }\n", 0, 1 },
		/* a verdict changed: the start only, out and in */
		{ MAP("10.0.0.0/24 : jump a,\n\t\t\t10.0.1.0/24 : jump b"),
		  MAP("10.0.0.0/24 : jump c,\n\t\t\t10.0.1.0/24 : jump b"),
		  "delete element inet moat m { 10.0.0.0/24 }\n"
		  "add element inet moat m { 10.0.0.0/24 : jump c }\n", 0, 2 },
		/* nothing of the kernel's changes: nothing sent */
		{ MAP("10.0.0.0/24 : jump a"), MAP("10.0.0.0/24 : jump a"),
		  "add element inet moat m { 10.0.0.0/24 : jump a }\n", 0, 0 },
		/* 0.0.0.0/8 added below: the end at 0 gives way to it */
		{ MAP("10.0.0.0/24 : jump a"),
		  MAP("0.0.0.0/8 : drop,\n\t\t\t10.0.0.0/24 : jump a"),
		  "add element inet moat m { 0.0.0.0/8 : drop }\n", 0, 2 },
		/* a set not in one of the rulesets, or of another kind */
		{ MAP("10.0.0.0/24 : jump a"), "table inet moat {\n}\n",
		  "delete element inet moat m { 10.0.0.0/24 }\n", 1, 0 },
		{ MAP("10.0.0.0/24 : jump a"), MAP("10.0.0.0/24 : jump a"),
		  "add element inet moat s { 2001:db8::2 }\n", 0, 0 },
		/* a line not of the form, though the set is known (what
		 * it lists is not read: the whole set says it) */
		{ MAP("10.0.0.0/24 : jump a"), MAP("10.0.0.0/24 : jump b"),
		  "add element inet moat m { }\n", 1, 0 },
		{ MAP("10.0.0.0/24 : jump a"), MAP("10.0.0.0/24 : jump b"),
		  "add element inet moat m 10.0.0.0/24\n", 1, 0 },
		{ MAP("10.0.0.0/24 : jump a"), MAP("10.0.0.0/24 : jump b"),
		  "add element inet moat m { 10.0.0.0/24 : jump b }\n", 0, 2 },
	};
#undef MAP
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct nfset *b = nfset_new();

		assert_non_null(b);
		if (nfdelta_script(b, c[i].delta, c[i].old, c[i].new, NULL,
		    NULL) != c[i].r || nfset_pending(b) != c[i].msgs)
			fail_msg("case %zu: %d %zu", i, nfdelta_script(b,
			    c[i].delta, c[i].old, c[i].new, NULL, NULL),
			    nfset_pending(b));
		nfset_free(b);
	}
}

/* The stack as a caller leaves it: not zero. */
static void __attribute__((noinline))
dirty_stack(void)
{
	volatile unsigned char junk[16384];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

/* The attributes of n bytes at p, nests in turn: every padding byte 0. */
static void
zero_padding(const unsigned char *p, size_t n)
{
	size_t off = 0, i;

	while (off < n) {
		const struct nlattr *a = (const struct nlattr *)(p + off);

		assert_true(a->nla_len >= MNL_ATTR_HDRLEN && a->nla_len <= n -
		    off);
		if (a->nla_type & NLA_F_NESTED)
			zero_padding(p + off + MNL_ATTR_HDRLEN, a->nla_len -
			    MNL_ATTR_HDRLEN);
		for (i = a->nla_len; i < (size_t)MNL_ALIGN(a->nla_len) && off + i < n;
		    i++)
			assert_int_equal(p[off + i], 0);
		off += MNL_ALIGN(a->nla_len);
	}
}

/* A rule's padding goes to the kernel as zeros, not as the stack's bytes
 * (libmnl 1.0.4 does not write an attribute's padding). */
static void
test_delta_padding(void **state)
{
	struct nfset *b = nfset_new();
	const unsigned char *p;
	size_t len, off;

	(void)state;
	assert_non_null(b);
	dirty_stack();
	assert_int_equal(nfdelta_script(b, "add rule inet moat zone_LAN "
	    "meta l4proto udp udp dport 53 iifname \"eth0\" counter accept "
	    "comment \"rule 1\"\n", NULL, NULL, NULL, NULL), 0);
	p = nfset_bytes(b, &len);
	assert_true(len > 0);
	for (off = 0; off < len; ) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(p + off);
		size_t head = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct
		    nfgenmsg));

		assert_true(nlh->nlmsg_len >= head && nlh->nlmsg_len <= len -
		    off);
		zero_padding(p + off + head, nlh->nlmsg_len - head);
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	nfset_free(b);
}

/* Every feed holds 10.0.0.0/8. */
static int
ten(void *arg, const char *obj, struct arena *a, struct iset *out)
{
	char e[64], hint[64];
	struct addr_lit l;

	(void)obj;
	assert_int_equal(addr_parse_lit("10.0.0.0/8", false, &l, e, sizeof(e),
	    hint, sizeof(hint)), 0);
	*(int *)arg += 1;
	*out = iset_range(a, l.lo, l.hi);
	return 0;
}

/* A feed set's elements go into its declaration (nftc_feeds_inline),
 * whether its comment carries the definition's key or, as a ruleset an
 * older build kept in the history, not; a comment that only looks like
 * one gets none. */
static void
test_feeds_inline(void **state)
{
	static const char *const comments[] = {
		"moat: follows its feed",
		"moat: follows its feed 0123456789abcdef",
		"moat: follows its feed 0123456789abcdeX",
		"moat: follows its feed 0123456789abcde",
		"moat: follows its feeds",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(comments) / sizeof(comments[0]); i++) {
		struct strbuf in, out;
		int calls = 0;

		strbuf_init(&in, 0);
		strbuf_init(&out, 0);
		strbuf_printf(&in, "table inet moat {\n\tset bl_v4 {\n"
		    "\t\ttype ipv4_addr\n\t\tflags interval, timeout\n"
		    "\t\tgc-interval 1h\n\t\tcomment \"%s\"\n\t}\n}\n",
		    comments[i]);
		assert_int_equal(nftc_feeds_inline(strbuf_str(&in), in.len, ten,
		    &calls, &out), 0);
		if (i < 2) {
			assert_int_equal(calls, 1);
			assert_non_null(strstr(strbuf_str(&out),
			    "\t\telements = { 10.0.0.0/8 }\n"));
		} else {
			assert_int_equal(calls, 0);
			assert_string_equal(strbuf_str(&out), strbuf_str(&in));
		}
		strbuf_free(&in);
		strbuf_free(&out);
	}
}

/* Whether a ruleset intercepts SMTP, read from its end (its last chain):
 * a compiled ruleset with the antivirus block does, one without does not,
 * nor one whose chain of that name is not the last (never nftc's). */
static void
test_script_intercepts(void **state)
{
	static const char base[] =
	    "interface LAN device eth1 address 192.168.1.1/24\n"
	    "interface WAN device eth0 address 198.51.100.1/24\n"
	    "accept on LAN from ANY to ANY service SMTP\n"
	    "nat masquerade on WAN\n";
	static const char av[] =
	    "antivirus {\n    engine clamd /run/clamd.sock\n"
	    "    smtp-other-scanning on\n}\n";
	static const char *const hand[] = {
		"table inet moat {\n\tchain intercept {\n\t}\n\n}\n",
		"table inet moat {\n\tchain intercept {\n\t}\n\tchain x {"
		    "\n\t}\n}\n",
		"table inet moat {\n\tchain interceptx {\n\t}\n}\n",
		"\tchain intercept {",
		"",
	};
	static const bool want[] = { true, false, false, false, false };
	struct strbuf text, b;
	struct policy *p;
	size_t i;
	int with;

	(void)state;
	for (with = 0; with < 2; with++) {
		strbuf_init(&text, 0);
		strbuf_init(&b, 0);
		strbuf_puts(&text, base);
		if (with)
			strbuf_puts(&text, av);
		p = policy_parse("t.conf", strbuf_str(&text), text.len);
		assert_non_null(p);
		assert_true(policy_valid(p));
		assert_int_equal(nftc_compile(p, &b), 0);
		assert_int_equal(nftc_intercepts(p), with);
		assert_int_equal(nftc_script_intercepts(strbuf_str(&b), b.len),
		    with);
		policy_free(p);
		strbuf_free(&text);
		strbuf_free(&b);
	}
	for (i = 0; i < sizeof(hand) / sizeof(hand[0]); i++)
		assert_int_equal(nftc_script_intercepts(hand[i],
		    strlen(hand[i])), want[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_pairs),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_delta_lines),
		cmocka_unit_test(test_delta_elements),
		cmocka_unit_test(test_delta_padding),
		cmocka_unit_test(test_feeds_inline),
		cmocka_unit_test(test_script_intercepts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

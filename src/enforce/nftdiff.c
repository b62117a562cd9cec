/* nftdiff.c: the difference of two compiled rulesets; see nftdiff.h. */
#include "enforce/nftdiff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/hash.h"
#include "base/nametab.h"
#include "enforce/nftc.h"

#define TABLE		"inet " NFTC_TABLE
#define EDITS_MAX	1024	/* a chain's diff; past it, rebuilt whole */
#define ELEMS_PER_CMD	1000	/* elements in one add/delete element */

enum kind { K_COUNTER, K_SET, K_MAP, K_CHAIN, K_OTHER };

enum follows {
	F_NONE = 0,
	F_DYNAMIC,		/* the device's addresses: flushed and filled */
	F_FEED,			/* a feed's: moatd's, left as they are */
};

struct unit {
	enum kind	 kind;
	const char	*kw, *name, *key;
	char		*head;		/* every line but rules and elements */
	char		**line;		/* rules (chains), elements (sets) */
	uint64_t	*h;
	size_t		 n;
	const char	*block;		/* its declaration, as written */
	size_t		 blen;
	const char	*inside;	/* the lines between its first and
					   last */
	size_t		 ilen;
	bool		 read;		/* detail() done */
	bool		 same;		/* as its peer, byte for byte */
	enum follows	 follows;
	struct unit	*peer;		/* the other ruleset's unit */
};

struct script {
	char		*pre;		/* the lines outside the units */
	struct unit	*u;
	size_t		 nu;
	struct nametab	*byname;
};

struct job {
	struct arena		 a;
	const char		*old, *new;
	size_t			 olen, nlen;
	unsigned		 max_pct;
	nftdiff_handles		 handles;
	void			*arg;
	struct strbuf		*out, *why, *parts;
	struct nftdiff_stats	*st;
	struct script		 s[2];
	struct strbuf		 ph[5];		/* the five parts */
	uint64_t		*hv;		/* handles (malloc'd) */
};

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		s[--n] = '\0';
}

static uint64_t
hash_str(const char *s)
{
	return fnv1a(s, strlen(s));
}

/* "\tKIND NAME {" (n bytes at line): a unit's first line; its key, "KIND
 * NAME", into the arena, kw and name in it. */
static bool
unit_start(struct arena *a, const char *line, size_t n, struct unit *u)
{
	static const struct { const char *kw; enum kind k; } kinds[] = {
		{ "counter", K_COUNTER }, { "set", K_SET }, { "map", K_MAP },
		{ "chain", K_CHAIN },
	};
	const char *sp;
	char *key;
	size_t i;

	if (n < 6 || line[0] != '\t' || line[1] == '\t' ||
	    memcmp(line + n - 2, " {", 2) != 0 ||
	    (sp = memchr(line + 1, ' ', n - 3)) == NULL || sp == line + 1 ||
	    sp + 1 >= line + n - 2)
		return false;
	memset(u, 0, sizeof(*u));
	/* one copy: "KIND NAME" NUL "KIND" NUL */
	key = arena_array_raw(a, 2 * (n - 2), 1);
	memcpy(key, line + 1, n - 3);
	key[n - 3] = '\0';
	memcpy(key + n - 2, line + 1, (size_t)(sp - line - 1));
	key[n - 2 + (size_t)(sp - line - 1)] = '\0';
	u->key = key;
	u->kw = key + n - 2;
	u->name = key + (sp - line);
	u->kind = K_OTHER;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(u->kw, kinds[i].kw) == 0)
			u->kind = kinds[i].k;
	return true;
}

/* The elements of a set or map, from "elements = { ..." at line[*i] to
 * the line that closes them; *i left on that line. */
static void
parse_elements(struct arena *a, char **line, size_t nline, size_t *i,
    struct unit *u)
{
	size_t j, k, cap = 0, n = 0;
	char **v;

	for (j = *i; j < nline; j++) {
		const char *s;

		for (s = line[j]; *s != '\0'; s++)
			cap += *s == ',';
		rtrim(line[j]);
		if (line[j][0] != '\0' && line[j][strlen(line[j]) - 1] == '}')
			break;
	}
	v = arena_array(a, cap + 1, sizeof(*v));
	for (k = *i; k <= j && k < nline; k++) {
		char *s = line[k], *e;

		if (k == *i)
			s = strchr(s, '{') + 1;
		if (k == j)
			s[strlen(s) - 1] = '\0';
		for (;;) {
			char *t;

			s = (char *)skip_ws(s);
			e = strchr(s, ',');
			if (e != NULL)
				*e = '\0';
			rtrim(s);
			t = s;
			if (*t != '\0' && n <= cap)
				v[n++] = t;
			if (e == NULL)
				break;
			s = e + 1;
		}
	}
	u->line = v;
	u->n = n;
	*i = j < nline ? j : nline - 1;
}

/*
 * A unit's lines [first, last) (its declaration's inside) read into its
 * head, rules or elements.  0, or -1 when memory ran out.
 */
static int
detail(struct arena *a, struct unit *u)
{
	struct strbuf head;
	char **line, *buf, *p;
	size_t j, nr = 0, k = 0, cap = 1;
	bool rules = false;

	if (u->read)
		return 0;
	u->read = true;
	/* its inside's lines, in a copy of their own */
	buf = arena_strndup(a, u->inside, u->ilen);
	for (p = buf; *p != '\0'; p++)
		cap += *p == '\n';
	line = arena_array(a, cap, sizeof(*line));
	for (p = buf; *p != '\0'; ) {
		char *nl = strchr(p, '\n');

		line[k++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	strbuf_init(&head, 0);
	if (u->kind == K_CHAIN)
		u->line = arena_array(a, k + 1, sizeof(*u->line));
	for (j = 0; j < k; j++) {
		char *x = line[j];
		const char *y = skip_ws(x);

		if (*y == '\0')
			continue;
		if (u->kind == K_CHAIN && (rules ||
		    strncmp(y, "type ", 5) != 0)) {
			rules = true;
			u->line[nr++] = (char *)y;
			continue;
		}
		if ((u->kind == K_SET || u->kind == K_MAP) &&
		    strncmp(y, "elements = {", 12) == 0) {
			parse_elements(a, line, k, &j, u);
			continue;
		}
		strbuf_printf(&head, "%s\n", y);
	}
	if (u->kind == K_CHAIN)
		u->n = nr;
	if (strbuf_failed(&head)) {
		strbuf_free(&head);
		return -1;
	}
	u->head = arena_strdup(a, strbuf_str(&head));
	strbuf_free(&head);
	u->h = arena_array(a, u->n + 1, sizeof(*u->h));
	for (j = 0; j < u->n; j++)
		u->h[j] = hash_str(u->line[j]);
	return 0;
}

/*
 * The first "\n\t}" in [p, end), or NULL.  Found by its '}', the rarer
 * byte (a rule line has none, a set's elements one): memmem's search
 * for the three was a third of the difference's time at 100K rules.
 */
static const char *
find_close(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && (q = memchr(q, '}', (size_t)(end - q))) != NULL) {
		if (q - p >= 2 && q[-1] == '\t' && q[-2] == '\n')
			return q - 2;
		q++;
	}
	return NULL;
}

/*
 * Read a ruleset as nftc_compile writes it, in outline: its units, each
 * with its declaration as written (block, blen) and its inside; detail()
 * takes a unit's inside apart when it is needed (most are the same as in
 * the other ruleset, byte for byte: memcmp tells, faster than a hash of
 * every byte would).  Nothing is
 * copied here but the names.  Returns 0, or 1 with why (not of that
 * shape), or -1 when memory ran out.
 */
static int
parse(struct arena *a, const char *text, size_t len, struct script *s,
    struct strbuf *why)
{
	const char *p = text, *end = text + len;
	struct strbuf pre;
	int depth = 0;

	s->u = NULL;
	s->nu = 0;
	{
		/* units: at most a line each; one per "\n\t}" */
		const char *q = text;
		size_t n = 1;

		while ((q = find_close(q, end)) != NULL) {
			n++;
			q += 3;
		}
		s->u = arena_array(a, n, sizeof(*s->u));
		s->byname = nametab_new(a, n + 16);
	}
	strbuf_init(&pre, 0);
	while (p < end) {
		const char *le = memchr(p, '\n', (size_t)(end - p)), *t;
		size_t n;
		struct unit *u;

		if (le == NULL)
			le = end;
		n = (size_t)(le - p);
		for (t = p; t < le && (*t == ' ' || *t == '\t'); t++)
			;
		if (t == le || *t == '#') {
			p = le + 1;
			continue;
		}
		if (depth == 0) {
			strbuf_add(&pre, p, n);
			strbuf_putc(&pre, '\n');
			if (n == sizeof("table " TABLE " {") - 1 &&
			    memcmp(p, "table " TABLE " {", n) == 0)
				depth = 1;
			p = le + 1;
			continue;
		}
		if (n == 1 && *p == '}') {
			depth = 0;
			strbuf_puts(&pre, "}\n");
			p = le + 1;
			continue;
		}
		u = &s->u[s->nu];
		if (!unit_start(a, p, n, u)) {
			strbuf_add(&pre, p, n);
			strbuf_putc(&pre, '\n');
			p = le + 1;
			continue;
		}
		if (nametab_put(s->byname, u->key, u) != NULL) {
			strbuf_printf(why, "%s is declared twice", u->key);
			strbuf_free(&pre);
			return 1;
		}
		s->nu++;
		/* its inside, to the closing "\t}" line */
		{
			const char *k = le;

			for (;;) {
				k = k < end ? find_close(k, end) : NULL;
				if (k == NULL || k + 3 == end || k[3] == '\n')
					break;
				k += 3;
			}
			if (k == NULL) {
				strbuf_printf(why, "%s is not closed",
				    u->key);
				strbuf_free(&pre);
				return 1;
			}
			u->inside = le + 1 < k + 1 ? le + 1 : k + 1;
			u->ilen = (size_t)(k + 1 - u->inside);
			u->block = p;
			u->blen = (size_t)(k + 3 - p);
			p = k + 4;
		}
		/* Whether moatd changes its elements: on its comment line. */
		if (u->kind == K_SET || u->kind == K_MAP) {
			const char *c = memmem(u->block, u->blen,
			    "comment \"" NFTC_FOLLOWS,
			    sizeof("comment \"" NFTC_FOLLOWS) - 1);

			if (c != NULL)
				u->follows = memmem(c, u->blen - (size_t)(c -
				    u->block), NFTC_DYNAMIC_COMMENT,
				    sizeof(NFTC_DYNAMIC_COMMENT) - 1) != NULL ?
				    F_DYNAMIC : F_FEED;
		}
	}
	if (strbuf_failed(&pre)) {
		strbuf_free(&pre);
		return -1;
	}
	if (depth != 0) {
		strbuf_free(&pre);
		strbuf_puts(why, "the table is not closed");
		return 1;
	}
	s->pre = arena_strdup(a, strbuf_str(&pre));
	strbuf_free(&pre);
	return 0;
}

/* How many rules (a chain) or elements (a set or map) u's declaration
 * holds, read from its text without taking it apart. */
static size_t
count(const struct unit *u)
{
	const char *p = u->block, *end = u->block + u->blen, *e;
	size_t n = 0;

	if (u->kind == K_CHAIN) {
		/* lines, less the first, the last and a hook's */
		for (; p < end; p++)
			n += *p == '\n';
		n = n >= 1 ? n - 1 : 0;
		if (memmem(u->block, u->blen, "\n\t\ttype ", 9) != NULL &&
		    n > 0)
			n--;
		return n;
	}
	if ((e = memmem(p, u->blen, "elements = {", 12)) == NULL)
		return 0;
	for (n = 1; e < end; e++)
		n += *e == ',';
	return n;
}

/* ---- a chain's rules: Myers' diff ------------------------------------- */

static bool
same(const struct unit *a, size_t i, const struct unit *b, size_t j)
{
	return a->h[i] == b->h[j] && strcmp(a->line[i], b->line[j]) == 0;
}

/*
 * The edit script from a's lines [lo_a, hi_a) to b's [lo_b, hi_b) into
 * ops ('K' kept, 'D' of a only, 'I' of b only), in order; *nops.  1 when
 * it takes more than EDITS_MAX edits.
 */
static int
myers(struct arena *ar, const struct unit *a, size_t lo_a, size_t hi_a,
    const struct unit *b, size_t lo_b, size_t hi_b, char *ops,
    size_t *nops)
{
	long n = (long)(hi_a - lo_a), m = (long)(hi_b - lo_b);
	long dmax = n + m < EDITS_MAX ? n + m : EDITS_MAX, off = dmax + 1;
	long *v = arena_array(ar, (size_t)(2 * dmax + 3), sizeof(*v));
	long **trace = arena_array(ar, (size_t)dmax + 1, sizeof(*trace));
	long d, k, x = 0, y, found = -1;
	size_t no = 0, i;

	v[off + 1] = 0;
	for (d = 0; d <= dmax && found < 0; d++) {
		/* V before step d, for k in [-d-1, d+1] */
		trace[d] = arena_array(ar, (size_t)(2 * d + 3),
		    sizeof(**trace));
		memcpy(trace[d], v + off - d - 1, (size_t)(2 * d + 3) *
		    sizeof(*v));
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] <
			    v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && same(a, lo_a + (size_t)x, b,
			    lo_b + (size_t)y)) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0)
		return 1;
	x = n;
	y = m;
	for (d = found; d > 0; d--) {
		long *vd = trace[d] + d + 1;	/* vd[k] for k in [-d-1, d+1] */
		long pk, px, py;

		k = x - y;
		if (k == -d || (k != d && vd[k - 1] < vd[k + 1]))
			pk = k + 1;
		else
			pk = k - 1;
		px = vd[pk];
		py = px - pk;
		while (x > px && y > py) {
			ops[no++] = 'K';
			x--;
			y--;
		}
		ops[no++] = pk == k + 1 ? 'I' : 'D';
		x = px;
		y = py;
	}
	while (x > 0 && y > 0) {
		ops[no++] = 'K';
		x--;
		y--;
	}
	for (i = 0; i < no / 2; i++) {
		char c = ops[i];

		ops[i] = ops[no - 1 - i];
		ops[no - 1 - i] = c;
	}
	*nops = no;
	return 0;
}

/* Note that the kernel's chain or set u changes (nftdiff.h's parts). */
static void
touched(struct job *j, const struct unit *u)
{
	if (j->parts != NULL && (u->kind == K_CHAIN || u->kind == K_SET ||
	    u->kind == K_MAP))
		strbuf_printf(j->parts, "%c %s\n", u->kind == K_CHAIN ? 'c' :
		    's', u->name);
}

/* Queue the rule changes of chain o (old) to chain n (new; o NULL for a
 * new chain, n NULL for one that goes whole). */
static int
diff_chain(struct job *j, struct unit *o, struct unit *n)
{
	struct strbuf *b = &j->ph[2];
	size_t no = o != NULL ? o->n : 0, nn = n != NULL ? n->n : 0;
	size_t pre = 0, suf = 0, nops = 0, i, x, y, hn = 0;
	char *ops;
	bool need = false;

	if (n == NULL)
		return 0;		/* flushed with its chain */
	if (o != NULL) {
		while (pre < no && pre < nn && same(o, pre, n, pre))
			pre++;
		while (suf < no - pre && suf < nn - pre && same(o, no - 1 -
		    suf, n, nn - 1 - suf))
			suf++;
	}
	if (pre == no && pre == nn)
		return 0;
	if (o != NULL)		/* a new one is, where it is declared */
		touched(j, n);
	ops = arena_array(&j->a, no + nn + 1, 1);
	for (i = 0; i < pre; i++)
		ops[nops++] = 'K';
	{
		size_t mid;

		if (o == NULL || myers(&j->a, o, pre, no - suf, n, pre,
		    nn - suf, ops + nops, &mid) == 1) {
			/* too different: every old rule deleted, every new
			 * one added */
			for (i = pre; i < no - suf; i++)
				ops[nops++] = 'D';
			for (i = pre; i < nn - suf; i++)
				ops[nops++] = 'I';
		} else
			nops += mid;
	}
	for (i = 0; i < suf; i++)
		ops[nops++] = 'K';
	/* The old rules the script deletes go, by handle; a new rule goes
	 * before the next old rule kept ("insert rule ... position H"), or
	 * at the end when none is: the rules kept stay, with their
	 * counters, wherever the new ones come. */
	{
		bool inserted = false;

		for (i = 0; i < nops && !need; i++) {
			inserted |= ops[i] == 'I';
			need = ops[i] == 'D' || (ops[i] == 'K' && inserted);
		}
	}
	j->st->chains_changed++;
	if (need) {
		struct strbuf why;

		free(j->hv);
		j->hv = NULL;
		strbuf_init(&why, 0);
		if (j->handles(j->arg, o->name, &j->hv, &hn, &why) == -1) {
			strbuf_printf(j->why, "the rules of chain %s could not "
			    "be read: %s", o->name, strbuf_str(&why));
			strbuf_free(&why);
			return 1;
		}
		strbuf_free(&why);
		if (hn != no) {
			strbuf_printf(j->why, "chain %s holds %zu rules in the "
			    "kernel, %zu in the ruleset in force", o->name,
			    hn, no);
			return 1;
		}
	}
	{
		/* the handle of the old rule kept after each op (0: none) */
		uint64_t *next = arena_array(&j->a, nops + 1,
		    sizeof(uint64_t)), h = 0;
		size_t *ox = arena_array(&j->a, nops + 1, sizeof(size_t));

		for (i = 0, x = 0; i < nops; i++)
			if (ops[i] != 'I')
				ox[i] = x++;
		for (i = nops; i-- > 0; ) {
			next[i] = h;
			if (ops[i] == 'K' && need)
				h = j->hv[ox[i]];
		}
		for (i = 0; i < nops; i++)
			if (ops[i] == 'D') {
				strbuf_printf(b, "delete rule " TABLE " %s "
				    "handle %llu\n", o->name,
				    (unsigned long long)j->hv[ox[i]]);
				j->st->rules_deleted++;
			}
		for (i = 0, y = 0; i < nops; i++) {
			if (ops[i] == 'I') {
				if (next[i] != 0)
					strbuf_printf(b, "insert rule " TABLE
					    " %s position %llu %s\n", n->name,
					    (unsigned long long)next[i],
					    n->line[y]);
				else
					strbuf_printf(b, "add rule " TABLE
					    " %s %s\n", n->name, n->line[y]);
				j->st->rules_added++;
			}
			if (ops[i] != 'D')
				y++;
		}
	}
	return 0;
}

/* ---- sets and maps ---------------------------------------------------- */

/* An element's key, what a deletion names: the text before its comment
 * and, in a map, before " : ". */
static void
put_key(struct strbuf *b, const char *e, bool map)
{
	const char *c = strstr(e, " comment \"");

	if (c == NULL && map)
		c = strstr(e, " : ");
	if (c != NULL)
		strbuf_add(b, e, (size_t)(c - e));
	else
		strbuf_puts(b, e);
}

static void
put_elements(struct strbuf *b, const char *verb, const struct unit *u,
    char **v, size_t n, bool keys)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % ELEMS_PER_CMD == 0)
			strbuf_printf(b, "%s element " TABLE " %s { ", verb,
			    u->name);
		else
			strbuf_puts(b, ", ");
		if (keys)
			put_key(b, v[i], u->kind == K_MAP);
		else
			strbuf_puts(b, v[i]);
		if (i % ELEMS_PER_CMD == ELEMS_PER_CMD - 1 || i == n - 1)
			strbuf_puts(b, " }\n");
	}
}

/* The elements of a (NULL: none) not in b, into *v of *n. */
static void
missing(struct arena *ar, const struct unit *a, const struct unit *b,
    char ***v, size_t *n)
{
	struct nametab *t = nametab_new(ar, (b != NULL ? b->n : 0) + 16);
	size_t i;

	*n = 0;
	*v = arena_array(ar, (a != NULL ? a->n : 0) + 1, sizeof(**v));
	if (a == NULL)
		return;
	for (i = 0; b != NULL && i < b->n; i++)
		nametab_put(t, b->line[i], b->line[i]);
	for (i = 0; i < a->n; i++)
		if (nametab_get(t, a->line[i]) == NULL)
			(*v)[(*n)++] = a->line[i];
}

static void
diff_set(struct job *j, struct unit *o, struct unit *n)
{
	char **gone, **come;
	size_t ngone, ncome;

	if (n->follows == F_FEED)
		return;
	missing(&j->a, o, n, &gone, &ngone);
	missing(&j->a, n, o, &come, &ncome);
	if (n->follows == F_DYNAMIC) {
		/* The devices' addresses when compiled: moatd may have put
		 * others in since; when they moved, the new ruleset's go
		 * in whole. */
		if (ngone + ncome > 0) {
			touched(j, n);
			strbuf_printf(&j->ph[1], "flush %s " TABLE " %s\n",
			    n->kw, n->name);
			put_elements(&j->ph[3], "add", n, n->line, n->n,
			    false);
		}
		return;
	}
	if (ngone + ncome > 0)
		touched(j, n);
	put_elements(&j->ph[1], "delete", n, gone, ngone, true);
	put_elements(&j->ph[3], "add", n, come, ncome, false);
	j->st->elems_deleted += ngone;
	j->st->elems_added += ncome;
}

/* ---- the whole ------------------------------------------------------- */

static const char *kind_word[] = { "counter", "set", "map", "chain" };

static size_t
changes(const struct nftdiff_stats *st)
{
	return st->rules_added + st->rules_deleted + st->elems_added +
	    st->elems_deleted;
}

static int
too_big(struct job *j)
{
	strbuf_printf(j->why, "the difference adds and deletes more than %u%% "
	    "of the ruleset's %zu rules and elements", j->max_pct,
	    j->st->rules + j->st->elems);
	return 1;
}

static int
run(void *arg)
{
	struct job *j = arg;
	struct nftdiff_stats *st = j->st;
	struct script *o = &j->s[0], *n = &j->s[1];
	size_t i, limit;
	int rc;

	if ((rc = parse(&j->a, j->old, j->olen, o, j->why)) != 0 ||
	    (rc = parse(&j->a, j->new, j->nlen, n, j->why)) != 0)
		return rc;
	if (strcmp(o->pre, n->pre) != 0) {
		strbuf_puts(j->why, "the table's own lines changed");
		return 1;
	}
	/* Which units are the same, byte for byte; how large the new
	 * ruleset is (its rules and elements). */
	for (i = 0; i < n->nu; i++) {
		struct unit *u = &n->u[i];

		u->peer = nametab_get(o->byname, u->key);
		if (u->peer != NULL) {
			u->peer->peer = u;
			u->same = u->blen == u->peer->blen &&
			    memcmp(u->block, u->peer->block, u->blen) == 0;
		}
		if (u->kind == K_CHAIN)
			st->rules += count(u);
		else if ((u->kind == K_SET || u->kind == K_MAP) &&
		    u->follows == F_NONE)
			st->elems += count(u);
	}
	limit = (st->rules + st->elems) * j->max_pct / 100;
	/* The others taken apart and compared, until the difference is
	 * past the limit. */
	for (i = 0; i < n->nu; i++) {
		struct unit *u = &n->u[i];

		if (u->same)
			continue;
		if (detail(&j->a, u) == -1 ||
		    (u->peer != NULL && detail(&j->a, u->peer) == -1))
			return -1;
		/* A feed's addresses are in the kernel, not in the text:
		 * a set that holds them is filled by the whole apply (its
		 * comment names the feeds' definitions). */
		if (u->follows == F_FEED) {
			strbuf_printf(j->why, "%s %s", u->key, u->peer == NULL ?
			    "is new and holds a feed" : "holds a feed's "
			    "addresses and changed");
			return 1;
		}
		if (u->peer != NULL && strcmp(u->head, u->peer->head) != 0) {
			strbuf_printf(j->why, "%s changed its %s", u->key,
			    u->kind == K_CHAIN ? "hook" : u->kind == K_SET ||
			    u->kind == K_MAP ? "type or flags" :
			    "declaration");
			return 1;
		}
		if (u->peer == NULL && u->kind == K_OTHER) {
			strbuf_printf(j->why, "%s is new", u->key);
			return 1;
		}
		if (u->kind == K_CHAIN) {
			if ((rc = diff_chain(j, u->peer, u)) != 0)
				return rc;
		} else if ((u->kind == K_SET || u->kind == K_MAP) &&
		    u->peer != NULL)
			diff_set(j, u->peer, u);
		if (changes(st) > limit)
			return too_big(j);
	}
	for (i = 0; i < o->nu; i++) {
		if (o->u[i].peer != NULL)
			continue;
		if (o->u[i].kind == K_OTHER || o->u[i].follows == F_FEED) {
			strbuf_printf(j->why, "%s is gone", o->u[i].key);
			return 1;
		}
		if (detail(&j->a, &o->u[i]) == -1)
			return -1;
	}
	/* 1: what is new, declared (chains without their rules) */
	for (i = 0; i < n->nu; i++) {
		struct unit *u = &n->u[i];

		if (u->peer != NULL)
			continue;
		if (j->ph[0].len == 0)
			strbuf_puts(&j->ph[0], "table " TABLE " {\n");
		touched(j, u);
		if (u->kind == K_CHAIN) {
			strbuf_printf(&j->ph[0], "\tchain %s {\n", u->name);
			strbuf_puts(&j->ph[0], u->head);
			strbuf_puts(&j->ph[0], "\t}\n");
			st->chains_added++;
		} else {
			strbuf_add(&j->ph[0], u->block, u->blen);
			strbuf_putc(&j->ph[0], '\n');
			if (u->kind == K_COUNTER)
				st->counters_added++;
			else {
				st->sets_added++;
				if (u->follows == F_NONE)
					st->elems_added += u->n;
			}
		}
	}
	if (j->ph[0].len > 0)
		strbuf_puts(&j->ph[0], "}\n");
	/* 5: what is gone: chains emptied first (they may jump to each
	 * other), the sets and maps that jump to them, then the chains,
	 * then the counters their rules counted in */
	for (i = 0; i < o->nu; i++)
		if (o->u[i].peer == NULL && o->u[i].kind == K_CHAIN) {
			touched(j, &o->u[i]);
			strbuf_printf(&j->ph[4], "flush chain " TABLE " %s\n",
			    o->u[i].name);
			st->rules_deleted += o->u[i].n;
		}
	for (i = 0; i < o->nu; i++) {
		struct unit *u = &o->u[i];

		if (u->peer != NULL || u->kind == K_CHAIN ||
		    u->kind == K_COUNTER)
			continue;
		touched(j, u);
		strbuf_printf(&j->ph[4], "delete %s " TABLE " %s\n",
		    kind_word[u->kind], u->name);
		st->sets_deleted++;
		if (u->follows == F_NONE)
			st->elems_deleted += u->n;
	}
	for (i = 0; i < o->nu; i++)
		if (o->u[i].peer == NULL && o->u[i].kind == K_CHAIN) {
			strbuf_printf(&j->ph[4], "delete chain " TABLE " %s\n",
			    o->u[i].name);
			st->chains_deleted++;
		}
	for (i = 0; i < o->nu; i++)
		if (o->u[i].peer == NULL && o->u[i].kind == K_COUNTER) {
			strbuf_printf(&j->ph[4], "delete counter " TABLE " %s\n",
			    o->u[i].name);
			st->counters_deleted++;
		}
	if (changes(st) > limit)
		return too_big(j);
	for (i = 0; i < 5; i++) {
		if (strbuf_failed(&j->ph[i]))
			return -1;
		strbuf_add(j->out, strbuf_str(&j->ph[i]), j->ph[i].len);
	}
	return strbuf_failed(j->out) ? -1 : 0;
}

int
nftdiff(const char *old, size_t olen, const char *new, size_t nlen,
    unsigned max_pct, nftdiff_handles handles, void *arg, struct strbuf *out,
    struct strbuf *parts, struct nftdiff_stats *st, struct strbuf *why)
{
	struct job j;
	size_t i, was = out->len;
	int rc;

	memset(&j, 0, sizeof(j));
	memset(st, 0, sizeof(*st));
	arena_init(&j.a);
	j.old = old;
	j.olen = olen;
	j.new = new;
	j.nlen = nlen;
	j.max_pct = max_pct;
	j.handles = handles;
	j.arg = arg;
	j.out = out;
	j.parts = parts;
	j.why = why;
	j.st = st;
	for (i = 0; i < 5; i++)
		strbuf_init(&j.ph[i], 0);
	rc = arena_catch(&j.a, run, &j);
	for (i = 0; i < 5; i++)
		strbuf_free(&j.ph[i]);
	free(j.hv);
	arena_free(&j.a);
	if (rc != 0) {
		out->len = was;
		if (parts != NULL)
			strbuf_reset(parts);
	}
	if (rc == -1)
		strbuf_puts(why, "out of memory");
	return rc;
}

/* batchcmd.c: `moat test --batch`; see batchcmd.h.
 *
 * A replay is millions of flows, so the loop allocates nothing per flow:
 * the input is read a block at a time and its lines taken in place, the
 * answers are written into one buffer that goes out in large writes, and
 * the verdict's text, which for most flows depends only on the rule (or
 * interface default) that decided it, is printed once per rule and then
 * copied.  A verdict that names something of the flow itself (a forward's
 * or a 1:1's new destination, a reflection) is printed in full.  JSON
 * answers are printed in full too.
 *
 * With a large policy a replay waits on memory more than it computes: the
 * index, the rules and the cached texts are tens of megabytes and each
 * flow reads a different part of them.  So lines are answered a batch at
 * a time, in three passes (read them all, decide them all, print them
 * all), and the reads of the flows of a batch are made to overlap: see
 * policy_eval_many for the deciding, the prefetches below for the texts.
 */
#include "cli/batchcmd.h"

#include <stdlib.h>
#include <string.h>

#include "analyze/flowfmt.h"
#include "base/bigmem.h"
#include "output/json.h"
#include "output/printer.h"

#define READ_BLOCK	(1u << 20)
#define FLUSH_AT	(1u << 19)

/* A verdict's text, once printed: where it is in the cache's buffer. */
struct said {
	const void	*key;		/* the rule or interface; NULL: none */
	int		 action;
	size_t		 off, len;
};

struct cache {
	struct said	*rule;		/* by rule number (0: anti-lockout) */
	size_t		 nrule;
	struct said	*dflt;		/* by interface index */
	size_t		 ndflt;
	struct strbuf	 text;
};

static int
cache_init(struct cache *c, const struct policy *p)
{
	size_t i;

	c->nrule = p->nrule + 1;
	c->ndflt = 1;
	for (i = 0; i < p->niface; i++)
		if ((size_t)p->ifaces[i]->index + 1 > c->ndflt)
			c->ndflt = (size_t)p->ifaces[i]->index + 1;
	/* read at random, one slot a flow */
	c->rule = big_alloc(c->nrule * sizeof(*c->rule));
	c->dflt = calloc(c->ndflt, sizeof(*c->dflt));
	strbuf_init(&c->text, 0);
	if (c->rule == NULL || c->dflt == NULL)
		return -1;
	memset(c->rule, 0, c->nrule * sizeof(*c->rule));
	return 0;
}

static void
cache_free(struct cache *c)
{
	free(c->rule);
	free(c->dflt);
	strbuf_free(&c->text);
}

/* The slot for v's text, or NULL when its text depends on the flow. */
static struct said *
cache_slot(struct cache *c, const struct flow *f, const struct verdict *v,
    const void **key)
{
	size_t at;

	if (v->forward != NULL || v->one != NULL || v->reflected)
		return NULL;
	switch (v->by) {
	case BY_RULE:
	case BY_ANTILOCKOUT:
		at = (size_t)v->rule->number;
		*key = v->rule;
		return at < c->nrule ? &c->rule[at] : NULL;
	case BY_DEFAULT:
		at = (size_t)f->iface->index;
		*key = f->iface;
		return at < c->ndflt ? &c->dflt[at] : NULL;
	default:
		return NULL;
	}
}

/* printer_verdict(p, f, v), copied from the cache when it was said. */
static void
put_verdict(struct cache *c, const struct policy *p, const struct flow *f,
    const struct verdict *v, struct strbuf *b)
{
	const void *key = NULL;
	struct said *s = cache_slot(c, f, v, &key);
	size_t start = c->text.len;

	if (s == NULL) {
		printer_verdict(p, f, v, b);
		return;
	}
	if (s->key != key || s->action != (int)v->action) {
		printer_verdict(p, f, v, &c->text);
		if (strbuf_failed(&c->text)) {
			printer_verdict(p, f, v, b);
			return;
		}
		s->key = key;
		s->action = (int)v->action;
		s->off = start;
		s->len = c->text.len - start;
	}
	strbuf_add(b, strbuf_str(&c->text) + s->off, s->len);
}

/* Unsigned decimal of v into buf (at least 10 bytes); its length. */
static size_t
put_uint(char *buf, unsigned v)
{
	char t[10];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = t[n - 1 - i];
	return n;
}

/* printer_flow_service(f): tcp/25 without printf. */
static void
put_service(const struct flow *f, struct strbuf *b)
{
	const struct proto_info *pi = builtin_proto_by_number(f->proto);
	char num[12];

	if (pi == NULL || pi->kind != PK_PORTS) {
		printer_flow_service(f, b);
		return;
	}
	strbuf_puts(b, pi->name);
	strbuf_putc(b, '/');
	strbuf_add(b, num, put_uint(num, f->dport));
}

/* One flow's answer: "LAN 192.168.1.50 -> 8.8.8.8 tcp/25: deny by …". */
static void
put_answer(struct cache *c, const struct policy *p, const struct flow *f,
    const struct verdict *v, struct strbuf *b)
{
	char a[ADDR_STRLEN];

	strbuf_puts(b, f->iface->name);
	strbuf_putc(b, ' ');
	addr_format(f->src, a, sizeof(a));
	strbuf_puts(b, a);
	strbuf_add(b, " -> ", 4);
	addr_format(f->dst, a, sizeof(a));
	strbuf_puts(b, a);
	strbuf_putc(b, ' ');
	put_service(f, b);
	strbuf_add(b, ": ", 2);
	put_verdict(c, p, f, v, b);
	strbuf_putc(b, '\n');
}

static void
put_error(const struct batch_opts *o, size_t lineno, const char *err,
    struct strbuf *b)
{
	fprintf(stderr, "moat: %s:%zu: %s\n", o->name, lineno, err);
	if (o->json) {
		strbuf_puts(b, "{\"error\":");
		json_put_string(b, err);
		strbuf_printf(b, ",\"line\":%zu}\n", lineno);
	} else
		strbuf_printf(b, "error: line %zu: %s\n", lineno, err);
}

/* Lines answered together (see the top). */
#define BATCH	64

struct batch {
	size_t		 n, nflow;
	const char	*line[BATCH];	/* NUL-terminated, in the input */
	size_t		 lineno[BATCH];
	int		 got[BATCH];	/* flow_parse_line's answer */
	size_t		 flow[BATCH];	/* got 1: its index in f, v */
	struct flow	 f[BATCH];
	struct verdict	 v[BATCH];
	int		 prio[BATCH];
	struct said	*said[BATCH];	/* its verdict's slot in the cache */
	char		 err[BATCH][256];
};

/*
 * The slots of a batch's verdicts in the cache are prefetched once it is
 * decided, and the text of each a few flows before it is printed: all of
 * them at once would ask for more lines than the processor has room for
 * (measured at 100K rules: copying the texts took 6% of the samples of a
 * run with all prefetched at once, 2.4% this way).
 */
#define TEXT_AHEAD	8

static void
prefetch_slots(struct cache *c, struct batch *bt)
{
	const void *key;
	size_t k;

	for (k = 0; k < bt->nflow; k++)
		if ((bt->said[k] = cache_slot(c, &bt->f[k], &bt->v[k],
		    &key)) != NULL)
			__builtin_prefetch(bt->said[k]);
}

/* Prefetch the text that flow k's slot points to, if any. */
static void
prefetch_text(const struct cache *c, const struct batch *bt, size_t k)
{
	const struct said *s;
	const char *t;
	size_t at;

	if (k >= bt->nflow || (s = bt->said[k]) == NULL || s->len == 0)
		return;
	t = strbuf_str(&c->text) + s->off;
	for (at = 0; at < s->len; at += 64)
		__builtin_prefetch(t + at);
	__builtin_prefetch(t + s->len - 1);
}

/* Answer the lines of bt, in order, into b; empty bt. */
static void
run_batch(struct cache *c, const struct policy *p,
    const struct policy_index *idx, const struct batch_opts *o,
    struct batch *bt, struct strbuf *b, size_t *nflows, size_t *nbad)
{
	size_t i, k;

	for (i = 0; i < bt->n; i++) {
		k = bt->nflow;
		bt->got[i] = flow_parse_line(p, bt->line[i], o->in, &bt->f[k],
		    bt->err[i], sizeof(bt->err[i]));
		if (bt->got[i] == 1) {
			bt->f[k].week_min = o->week_min;
			bt->flow[i] = bt->nflow++;
		}
	}
	policy_eval_many(p, idx, bt->f, bt->v, bt->prio, bt->nflow);
	if (!o->json) {
		prefetch_slots(c, bt);
		for (k = 0; k < TEXT_AHEAD; k++)
			prefetch_text(c, bt, k);
	}
	for (i = 0; i < bt->n; i++) {
		if (bt->got[i] == -1) {
			(*nbad)++;
			put_error(o, bt->lineno[i], bt->err[i], b);
			continue;
		}
		if (bt->got[i] == 0)
			continue;
		(*nflows)++;
		k = bt->flow[i];
		if (o->json)
			json_verdict(p, &bt->f[k], &bt->v[k], b);
		else {
			prefetch_text(c, bt, k + TEXT_AHEAD);
			put_answer(c, p, &bt->f[k], &bt->v[k], b);
		}
	}
	bt->n = bt->nflow = 0;
}

/* Take one line (NUL-terminated, without its newline, left in place
 * until the batch is run). */
static void
one_line(struct cache *c, const struct policy *p,
    const struct policy_index *idx, const struct batch_opts *o,
    struct batch *bt, const char *line, size_t lineno, struct strbuf *b,
    size_t *nflows, size_t *nbad)
{
	bt->line[bt->n] = line;
	bt->lineno[bt->n] = lineno;
	if (++bt->n == BATCH)
		run_batch(c, p, idx, o, bt, b, nflows, nbad);
}

static int
flush(struct strbuf *b, FILE *out)
{
	if (strbuf_failed(b)) {
		fputs("moat: out of memory\n", stderr);
		return -1;
	}
	if (b->len > 0 && fwrite(strbuf_str(b), 1, b->len, out) != b->len) {
		perror("moat: stdout");
		return -1;
	}
	strbuf_reset(b);
	return 0;
}

int
batch_replay(const struct policy *p, const struct policy_index *idx,
    const struct batch_opts *o, FILE *fp, FILE *out, size_t *nflows,
    size_t *nbad)
{
	struct cache c;
	struct batch *bt;
	struct strbuf b;
	char *buf;
	size_t have = 0, lineno = 0, got;
	int rc = -1, eof = 0;

	*nflows = *nbad = 0;
	/* A block and the start of a line cut at its end. */
	buf = malloc(2 * READ_BLOCK + 1);
	bt = calloc(1, sizeof(*bt));
	strbuf_init(&b, 0);
	/* cache_init first: cache_free needs it even when it failed */
	if (cache_init(&c, p) == -1 || buf == NULL || bt == NULL) {
		fputs("moat: out of memory\n", stderr);
		free(buf);
		free(bt);
		cache_free(&c);
		return -1;
	}
	while (!eof) {
		char *s = buf, *nl, *end;

		got = fread(buf + have, 1, 2 * READ_BLOCK - have, fp);
		if (got == 0) {
			if (ferror(fp)) {
				perror(o->name);
				goto out;
			}
			eof = 1;
			if (have == 0)
				break;
			buf[have++] = '\n';	/* the last line had none */
		}
		have += got;
		end = buf + have;
		while ((nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
			char *cr = memchr(s, '\r', (size_t)(nl - s));

			*(cr != NULL ? cr : nl) = '\0';
			one_line(&c, p, idx, o, bt, s, ++lineno, &b, nflows,
			    nbad);
			s = nl + 1;
		}
		/* the lines are answered before the block moves */
		run_batch(&c, p, idx, o, bt, &b, nflows, nbad);
		have = (size_t)(end - s);
		if (have == 2 * READ_BLOCK) {
			/* a line longer than a block: what flow_parse_line
			 * says of a long line, and skip the rest of it */
			buf[have] = '\0';
			one_line(&c, p, idx, o, bt, buf, ++lineno, &b, nflows,
			    nbad);
			run_batch(&c, p, idx, o, bt, &b, nflows, nbad);
			for (;;) {
				int ch = getc(fp);

				if (ch == EOF || ch == '\n')
					break;
			}
			have = 0;
		} else
			memmove(buf, s, have);
		if (b.len >= FLUSH_AT && flush(&b, out) == -1)
			goto out;
	}
	if (flush(&b, out) == -1)
		goto out;
	rc = 0;
out:
	free(buf);
	free(bt);
	strbuf_free(&b);
	cache_free(&c);
	return rc;
}

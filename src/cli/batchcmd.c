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
 *
 * And the chunks of the input are answered by several threads at once
 * (see struct chunk and struct pool below), each with its own batch; the
 * policy and its index are only read, and the verdicts' texts are shared
 * (struct texts).
 */
#include "cli/batchcmd.h"

#include <errno.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/flowfmt.h"
#include "base/arena.h"
#include "base/bigmem.h"
#include "output/json.h"
#include "output/printer.h"

/* A chunk of the input is up to two blocks; a line longer than that is
 * too long for flow_parse_line (FLOW_LINE_MAX) whatever the block. */
#define READ_BLOCK	(1u << 18)
#define BLOCK_MIN	2048

/* A verdict's text, once printed: what it is the text of, and the text
 * (with its newline) right after, in the same cache lines. */
struct said {
	const void	*key;		/* the rule or interface */
	int		 action;
	uint32_t	 len;
	char		 text[];
};

typedef struct said *_Atomic said_ptr;

/*
 * The texts said, one slot a rule (by number, 0: anti-lockout) and one
 * an interface's default, shared by the workers: a rule's text is printed
 * by the first worker that needs it and read by all.  With a text cache
 * of each worker's own, two workers held the texts of a 100,000-rule
 * policy twice (11 MB each), and with the index, the rules and the two
 * caches a replay's memory read at random passed the 32 MB of the
 * processor's last cache.  A slot is set once its text is whole (a
 * release store, read with acquire); two workers that print the same
 * text at once both set it, the same text, and both stay readable: a
 * text is freed only after every worker has stopped.
 */
struct texts {
	said_ptr	*rule;
	size_t		 nrule;
	said_ptr	*dflt;
	size_t		 ndflt;
};

static int
texts_init(struct texts *t, const struct policy *p)
{
	size_t i;

	t->nrule = p->nrule + 1;
	t->ndflt = 1;
	for (i = 0; i < p->niface; i++)
		if ((size_t)p->ifaces[i]->index + 1 > t->ndflt)
			t->ndflt = (size_t)p->ifaces[i]->index + 1;
	/* read at random, one slot a flow */
	t->rule = big_alloc(t->nrule * sizeof(*t->rule));
	t->dflt = malloc(t->ndflt * sizeof(*t->dflt));
	if (t->rule == NULL || t->dflt == NULL)
		return -1;
	for (i = 0; i < t->nrule; i++)
		atomic_init(&t->rule[i], NULL);
	for (i = 0; i < t->ndflt; i++)
		atomic_init(&t->dflt[i], NULL);
	return 0;
}

static void
texts_free(struct texts *t)
{
	free(t->rule);
	free(t->dflt);
}

/* Where a worker keeps the texts it printed: an arena, whose memory
 * never moves (a text stays where the slot says while the others read
 * it) and is aligned to 16 bytes. */
struct cache {
	struct texts	*t;
	struct arena	 mem;
	struct strbuf	 scratch;	/* a text being printed */
};

static void
cache_init(struct cache *c, struct texts *t)
{
	c->t = t;
	arena_init(&c->mem);
	strbuf_init(&c->scratch, 0);
}

static void
cache_free(struct cache *c)
{
	arena_free(&c->mem);
	strbuf_free(&c->scratch);
}

struct take {
	struct arena	*a;
	size_t		 n;
	void		*got;
};

static int
take_run(void *arg)
{
	struct take *t = arg;

	t->got = arena_array_raw(t->a, 1, t->n);
	return 0;
}

/* n bytes of c's memory for a said, or NULL. */
static struct said *
cache_take(struct cache *c, size_t n)
{
	struct take t = { &c->mem, n, NULL };

	return arena_catch(&c->mem, take_run, &t) == -1 ? NULL : t.got;
}

/* The slot for v's text, or NULL when its text depends on the flow. */
static said_ptr *
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
		return at < c->t->nrule ? &c->t->rule[at] : NULL;
	case BY_DEFAULT:
		at = (size_t)f->iface->index;
		*key = f->iface;
		return at < c->t->ndflt ? &c->t->dflt[at] : NULL;
	default:
		return NULL;
	}
}

/* printer_verdict(p, f, v) and a newline, copied from the texts when it
 * was said. */
static void
put_verdict(struct cache *c, const struct policy *p, const struct flow *f,
    const struct verdict *v, struct strbuf *b)
{
	const void *key = NULL;
	said_ptr *slot = cache_slot(c, f, v, &key);
	struct said *s;

	if (slot == NULL) {
		printer_verdict(p, f, v, b);
		strbuf_putc(b, '\n');
		return;
	}
	s = atomic_load_explicit(slot, memory_order_acquire);
	if (s == NULL || s->key != key || s->action != (int)v->action) {
		strbuf_reset(&c->scratch);
		printer_verdict(p, f, v, &c->scratch);
		strbuf_putc(&c->scratch, '\n');
		if (strbuf_failed(&c->scratch) ||
		    c->scratch.len > UINT32_MAX ||
		    (s = cache_take(c, sizeof(*s) + c->scratch.len)) ==
		    NULL) {
			printer_verdict(p, f, v, b);
			strbuf_putc(b, '\n');
			return;
		}
		s->key = key;
		s->action = (int)v->action;
		s->len = (uint32_t)c->scratch.len;
		memcpy(s->text, strbuf_str(&c->scratch), s->len);
		atomic_store_explicit(slot, s, memory_order_release);
	}
	strbuf_add(b, s->text, s->len);
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

/* One flow's answer: "LAN 192.168.1.50 -> 8.8.8.8 tcp/25: deny by …".
 * The part before the verdict is put together here and added at once:
 * a replay writes millions. */
static void
put_answer(struct cache *c, const struct policy *p, const struct flow *f,
    const struct verdict *v, struct strbuf *b)
{
	const struct proto_info *pi = builtin_proto_by_number(f->proto);
	char t[2 * ADDR_STRLEN + 32];
	size_t n = 0, len;

	strbuf_puts(b, f->iface->name);
	t[n++] = ' ';
	n += addr_format_len(f->src, t + n, ADDR_STRLEN);
	memcpy(t + n, " -> ", 4);
	n += 4;
	n += addr_format_len(f->dst, t + n, ADDR_STRLEN);
	t[n++] = ' ';
	if (pi != NULL && pi->kind == PK_PORTS &&
	    (len = strlen(pi->name)) < 16) {
		/* printer_flow_service's "tcp/25" without printf */
		memcpy(t + n, pi->name, len);
		n += len;
		t[n++] = '/';
		n += put_uint(t + n, f->dport);
		t[n++] = ':';
		t[n++] = ' ';
		strbuf_add(b, t, n);
	} else {
		strbuf_add(b, t, n);
		printer_flow_service(f, b);
		strbuf_add(b, ": ", 2);
	}
	put_verdict(c, p, f, v, b);
}

/* A line's error: its answer in b, its message in e (for standard error). */
static void
put_error(const struct batch_opts *o, size_t lineno, const char *err,
    struct strbuf *b, struct strbuf *e)
{
	strbuf_printf(e, "moat: %s:%zu: %s\n", o->name, lineno, err);
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
	size_t		 len[BATCH];	/* at most (a NUL may come sooner) */
	size_t		 lineno[BATCH];
	int		 got[BATCH];	/* flow_parse_line's answer */
	size_t		 flow[BATCH];	/* got 1: its index in f, v */
	struct flow	 f[BATCH];
	struct verdict	 v[BATCH];
	int		 prio[BATCH];
	said_ptr	*said[BATCH];	/* its verdict's slot in the texts */
	char		 err[BATCH][256];
};

/*
 * The slots of a batch's verdicts in the texts are prefetched once it is
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
prefetch_text(const struct batch *bt, size_t k)
{
	uintptr_t s;

	/* Its first three lines, which hold most texts whole (its length is
	 * not read: that would wait for the first).  As a number: a text
	 * may end before its third line does. */
	if (k >= bt->nflow || bt->said[k] == NULL ||
	    (s = (uintptr_t)atomic_load_explicit(bt->said[k],
	    memory_order_relaxed)) == 0)
		return;
	__builtin_prefetch((const void *)s);
	__builtin_prefetch((const void *)(s + 64));
	__builtin_prefetch((const void *)(s + 128));
}

/*
 * The input is cut into chunks of whole lines, and a chunk is answered
 * on its own: its answers and its messages for standard error go into
 * buffers of its own, written out in the input's order.  How a chunk is
 * cut depends only on the input, never on how many threads answer, so
 * the output is the same byte for byte with one or many.
 */
struct chunk {
	char		*buf;		/* its lines, each ending in '\n' */
	size_t		 len;
	size_t		 lineno;	/* of the line before its first */
	bool		 cut;		/* one line, cut at the block's end */
	struct strbuf	 out;		/* its answers */
	struct strbuf	 err;		/* its messages for standard error */
	size_t		 nflows, nbad;
	bool		 done;		/* answered (under the pool's lock) */
};

/* What one thread needs to answer chunks: its own cache and batch. */
struct answerer {
	struct cache		 c;
	struct batch		*bt;		/* lines being taken */
	struct batch		*ready;		/* decided, to be printed */
	const struct policy	*p;
	const struct policy_index *idx;
	const struct batch_opts	*o;
};

/* Decide the lines of bt: read them, ask the policy, and prefetch the
 * slots of their texts. */
static void
decide_batch(struct answerer *a, struct batch *bt)
{
	const struct batch_opts *o = a->o;
	size_t i, k;

	for (i = 0; i < bt->n; i++) {
		k = bt->nflow;
		bt->got[i] = flow_parse_line_len(a->p, bt->line[i],
		    bt->len[i], o->in, &bt->f[k], bt->err[i],
		    sizeof(bt->err[i]));
		if (bt->got[i] == 1) {
			bt->f[k].week_min = o->week_min;
			bt->flow[i] = bt->nflow++;
		}
	}
	policy_eval_many(a->p, a->idx, bt->f, bt->v, bt->prio, bt->nflow);
	if (!o->json)
		prefetch_slots(&a->c, bt);
}

/* The answers of bt, decided, into ch, in order; empty bt. */
static void
print_batch(struct answerer *a, struct batch *bt, struct chunk *ch)
{
	const struct batch_opts *o = a->o;
	size_t i, k;

	for (k = 0; k < TEXT_AHEAD && !o->json; k++)
		prefetch_text(bt, k);
	for (i = 0; i < bt->n; i++) {
		if (bt->got[i] == -1) {
			ch->nbad++;
			put_error(o, bt->lineno[i], bt->err[i], &ch->out,
			    &ch->err);
			continue;
		}
		if (bt->got[i] == 0)
			continue;
		ch->nflows++;
		k = bt->flow[i];
		if (o->json)
			json_verdict(a->p, &bt->f[k], &bt->v[k], &ch->out);
		else {
			prefetch_text(bt, k + TEXT_AHEAD);
			put_answer(&a->c, a->p, &bt->f[k], &bt->v[k],
			    &ch->out);
		}
	}
	bt->n = bt->nflow = 0;
}

/*
 * The lines taken (a->bt) decided, then the batch decided before them
 * printed, and the two swapped: a batch's slots are asked for a whole
 * batch before they are read (printed at once, the load of the first
 * slots, just asked for, was two fifths of the printing's own time at
 * 100,000 rules).  Both batches are the chunk's: their answers go into
 * its buffers, so a chunk's last ones are printed before it is done
 * (finish_chunk), and the chunks' order holds.
 */
static void
run_batch(struct answerer *a, struct chunk *ch)
{
	struct batch *t;

	decide_batch(a, a->bt);
	print_batch(a, a->ready, ch);
	t = a->ready;
	a->ready = a->bt;
	a->bt = t;
}

/* ch's last lines decided and both batches printed. */
static void
finish_chunk(struct answerer *a, struct chunk *ch)
{
	run_batch(a, ch);
	print_batch(a, a->ready, ch);
}

/* Take one line of len bytes (NUL-terminated, without its newline, left
 * in place until the batch is run). */
static void
one_line(struct answerer *a, struct chunk *ch, const char *line,
    size_t len, size_t lineno)
{
	struct batch *bt = a->bt;

	bt->line[bt->n] = line;
	bt->len[bt->n] = len;
	bt->lineno[bt->n] = lineno;
	if (++bt->n == BATCH)
		run_batch(a, ch);
}

/* Answer the lines of ch into its buffers. */
static void
answer_chunk(struct answerer *a, struct chunk *ch)
{
	char *s = ch->buf, *end = ch->buf + ch->len, *nl, *cr;
	size_t lineno = ch->lineno;
	bool crs;

	if (ch->cut) {
		/* what flow_parse_line says of a long line */
		*end = '\0';
		one_line(a, ch, s, ch->len, ++lineno);
		finish_chunk(a, ch);
		return;
	}
	/* a line ends at its first CR: looked for only in a chunk that has
	 * one */
	crs = memchr(s, '\r', ch->len) != NULL;
	while ((nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		if (!crs || (cr = memchr(s, '\r', (size_t)(nl - s))) == NULL)
			cr = nl;
		*cr = '\0';
		one_line(a, ch, s, (size_t)(cr - s), ++lineno);
		s = nl + 1;
	}
	finish_chunk(a, ch);
}

static int
answerer_init(struct answerer *a, const struct policy *p,
    const struct policy_index *idx, const struct batch_opts *o,
    struct texts *t)
{
	a->p = p;
	a->idx = idx;
	a->o = o;
	cache_init(&a->c, t);
	a->bt = calloc(1, sizeof(*a->bt));
	a->ready = calloc(1, sizeof(*a->ready));
	return a->bt == NULL || a->ready == NULL ? -1 : 0;
}

static void
answerer_free(struct answerer *a)
{
	free(a->bt);
	free(a->ready);
	cache_free(&a->c);
}

/* The input, read a block at a time into chunks. */
struct reader {
	FILE		*fp;
	size_t		 block;		/* a chunk holds up to 2 blocks */
	char		*carry;		/* a line cut at the last chunk's end */
	size_t		 ncarry;
	size_t		 lineno;	/* lines read so far */
	bool		 eof;
	int		 error;		/* errno of a failed read, or 0 */
};

/* The newlines of the n bytes at s.  The main thread counts every byte
 * of the input (a chunk's first line number), beside the workers: with
 * SSE2, 16 bytes at a time into byte counters, summed every 255 blocks
 * (a byte counter holds up to 255). */
static size_t
count_newlines(const char *s, size_t n)
{
	size_t i = 0, c = 0;
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');

	while (i + 16 <= n) {
		__m128i acc = _mm_setzero_si128();
		size_t k;

		for (k = 0; k < 255 && i + 16 <= n; k++, i += 16)
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(
			    _mm_loadu_si128((const __m128i *)(s + i)), nl));
		acc = _mm_sad_epu8(acc, _mm_setzero_si128());
		c += (size_t)_mm_extract_epi16(acc, 0) +
		    (size_t)_mm_extract_epi16(acc, 4);
	}
#endif
	for (; i < n; i++)
		c += s[i] == '\n';
	return c;
}

/* The next chunk of r into ch (its buf of 2 * r->block + 1 bytes): 1, 0
 * at the end of the input, -1 when it could not be read (r->error). */
static int
read_chunk(struct reader *r, struct chunk *ch)
{
	size_t have = r->ncarry, got;
	char *last;

	if (r->eof)
		return 0;
	memcpy(ch->buf, r->carry, have);
	r->ncarry = 0;
	errno = 0;
	got = fread(ch->buf + have, 1, 2 * r->block - have, r->fp);
	if (got == 0) {
		if (ferror(r->fp)) {
			r->error = errno != 0 ? errno : EIO;
			return -1;
		}
		r->eof = true;
		if (have == 0)
			return 0;
		ch->buf[have++] = '\n';	/* the last line had none */
	}
	have += got;
	ch->lineno = r->lineno;
	ch->cut = false;
	if ((last = memrchr(ch->buf, '\n', have)) == NULL &&
	    have == 2 * r->block) {
		/* a line longer than 2 blocks: taken as it is (too long
		 * for flow_parse_line), the rest of it skipped */
		ch->len = have;
		ch->cut = true;
		r->lineno++;
		for (;;) {
			int c = getc(r->fp);

			if (c == EOF || c == '\n')
				break;
		}
		return 1;
	}
	ch->len = last != NULL ? (size_t)(last - ch->buf) + 1 : 0;
	r->ncarry = have - ch->len;
	memcpy(r->carry, ch->buf + ch->len, r->ncarry);
	r->lineno += count_newlines(ch->buf, ch->len);
	return 1;
}

/* ch's messages to standard error, then its answers to out: 0, or -1
 * (said). */
static int
write_chunk(struct chunk *ch, FILE *out)
{
	if (strbuf_failed(&ch->out) || strbuf_failed(&ch->err)) {
		fputs("moat: out of memory\n", stderr);
		return -1;
	}
	if (ch->err.len > 0)
		fwrite(strbuf_str(&ch->err), 1, ch->err.len, stderr);
	if (ch->out.len > 0 && fwrite(strbuf_str(&ch->out), 1, ch->out.len,
	    out) != ch->out.len) {
		perror("moat: stdout");
		return -1;
	}
	return 0;
}

/*
 * Chunks in flight: the main thread reads them in, the workers answer
 * them (each takes the oldest not taken), and the main thread writes
 * them out, oldest first, once answered.  A ring of them: a chunk is
 * read into a slot only once the slot's last chunk is written.
 */
struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 work;		/* a chunk to take, or closed */
	pthread_cond_t	 answered;	/* a chunk is done */
	struct chunk	*ring;
	size_t		 nring;
	size_t		 nread;		/* chunks read (given to workers) */
	size_t		 ntaken;	/* chunks a worker took */
	bool		 closed;	/* no more chunks will be read */
};

struct worker {
	pthread_t	 t;
	struct pool	*pool;
	struct answerer	 a;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *pl = w->pool;
	struct chunk *ch;

	for (;;) {
		pthread_mutex_lock(&pl->lock);
		while (pl->ntaken == pl->nread && !pl->closed)
			pthread_cond_wait(&pl->work, &pl->lock);
		if (pl->ntaken == pl->nread) {
			pthread_mutex_unlock(&pl->lock);
			return NULL;
		}
		ch = &pl->ring[pl->ntaken++ % pl->nring];
		pthread_mutex_unlock(&pl->lock);

		answer_chunk(&w->a, ch);

		pthread_mutex_lock(&pl->lock);
		ch->done = true;
		pthread_cond_signal(&pl->answered);
		pthread_mutex_unlock(&pl->lock);
	}
}

/* No more chunks: the workers finish those they took and those read,
 * then stop.  With drop, the chunks not yet taken are dropped. */
static void
pool_close(struct pool *pl, bool drop)
{
	pthread_mutex_lock(&pl->lock);
	pl->closed = true;
	if (drop)
		pl->nread = pl->ntaken;
	pthread_cond_broadcast(&pl->work);
	pthread_mutex_unlock(&pl->lock);
}

#define WORKERS_MAX	32

/* The number of workers: o->threads, or the CPUs this process may run
 * on (at most WORKERS_MAX). */
static size_t
workers_wanted(const struct batch_opts *o)
{
	cpu_set_t set;
	int n;

	if (o->threads > 0)
		return o->threads < WORKERS_MAX ? o->threads : WORKERS_MAX;
	if (sched_getaffinity(0, sizeof(set), &set) == -1 ||
	    (n = CPU_COUNT(&set)) < 1)
		return 1;
	return (size_t)n < WORKERS_MAX ? (size_t)n : WORKERS_MAX;
}

int
batch_replay(const struct policy *p, const struct policy_index *idx,
    const struct batch_opts *o, FILE *fp, FILE *out, size_t *nflows,
    size_t *nbad)
{
	struct reader r = { fp, o->block != 0 ? o->block : READ_BLOCK, NULL,
	    0, 0, false, 0 };
	struct pool pl = { .nring = 1 };
	struct worker *w = NULL;
	struct answerer self;
	struct texts texts = { NULL, 0, NULL, 0 };
	size_t nw = 0, want, nwritten = 0, i;
	int rc = -1, got;
	bool ok = true;

	*nflows = *nbad = 0;
	if (r.block < BLOCK_MIN)
		r.block = BLOCK_MIN;
	want = workers_wanted(o);
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.work, NULL);
	pthread_cond_init(&pl.answered, NULL);
	if (answerer_init(&self, p, idx, o, &texts) == -1 ||
	    texts_init(&texts, p) == -1 ||
	    (r.carry = malloc(2 * r.block)) == NULL)
		goto nomem;
	/* One thread: this one answers each chunk as it is read.  More:
	 * the workers answer them, several chunks each in flight. */
	if (want > 1) {
		if ((w = calloc(want, sizeof(*w))) == NULL)
			goto nomem;
		pl.nring = 3 * want;
	}
	if ((pl.ring = calloc(pl.nring, sizeof(*pl.ring))) == NULL)
		goto nomem;
	for (i = 0; i < pl.nring; i++) {
		strbuf_init(&pl.ring[i].out, 0);
		strbuf_init(&pl.ring[i].err, 0);
		if ((pl.ring[i].buf = malloc(2 * r.block + 1)) == NULL)
			goto nomem;
	}
	for (nw = 0; nw < want && w != NULL; nw++) {
		w[nw].pool = &pl;
		if (answerer_init(&w[nw].a, p, idx, o, &texts) == -1) {
			answerer_free(&w[nw].a);
			break;
		}
		if (pthread_create(&w[nw].t, NULL, worker_main,
		    &w[nw]) != 0) {
			answerer_free(&w[nw].a);
			break;
		}
	}
	/* (fewer workers than wanted: they do the same with less help) */
	for (;;) {
		struct chunk *ch;

		/* read ahead while a slot is free */
		while (!pl.closed && pl.nread - nwritten < pl.nring) {
			ch = &pl.ring[pl.nread % pl.nring];
			strbuf_reset(&ch->out);
			strbuf_reset(&ch->err);
			ch->nflows = ch->nbad = 0;
			ch->done = false;
			if ((got = read_chunk(&r, ch)) != 1) {
				pool_close(&pl, false);
				break;
			}
			if (nw == 0) {
				answer_chunk(&self, ch);
				ch->done = true;
				pl.nread++;
				break;
			}
			pthread_mutex_lock(&pl.lock);
			pl.nread++;
			pthread_cond_signal(&pl.work);
			pthread_mutex_unlock(&pl.lock);
		}
		if (nwritten == pl.nread)
			break;
		ch = &pl.ring[nwritten % pl.nring];
		pthread_mutex_lock(&pl.lock);
		while (!ch->done)
			pthread_cond_wait(&pl.answered, &pl.lock);
		pthread_mutex_unlock(&pl.lock);
		if (write_chunk(ch, out) == -1) {
			ok = false;
			pool_close(&pl, true);
			break;
		}
		*nflows += ch->nflows;
		*nbad += ch->nbad;
		nwritten++;
	}
	/* a read error said after the answers to the lines before it */
	if (ok && r.error != 0) {
		fprintf(stderr, "%s: %s\n", o->name, strerror(r.error));
		ok = false;
	}
	rc = ok ? 0 : -1;
	if (0) {
nomem:
		fputs("moat: out of memory\n", stderr);
		pool_close(&pl, true);
	}
	/* Every worker stopped before any one's texts are freed: a worker
	 * still answering the chunks it took (a write failed, the pool was
	 * closed) reads the texts the others printed. */
	for (i = 0; i < nw; i++)
		pthread_join(w[i].t, NULL);
	for (i = 0; i < nw; i++)
		answerer_free(&w[i].a);
	for (i = 0; pl.ring != NULL && i < pl.nring; i++) {
		free(pl.ring[i].buf);
		strbuf_free(&pl.ring[i].out);
		strbuf_free(&pl.ring[i].err);
	}
	free(pl.ring);
	free(w);
	free(r.carry);
	answerer_free(&self);
	texts_free(&texts);
	pthread_cond_destroy(&pl.answered);
	pthread_cond_destroy(&pl.work);
	pthread_mutex_destroy(&pl.lock);
	return rc;
}

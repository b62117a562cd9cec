/* nfdelta.c: a difference's script over moat's own batch; see nfdelta.h. */
#include "enforce/nfdelta.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "enforce/nfrule.h"
#include "enforce/nftc.h"

#define PFX	"inet " NFTC_TABLE " "
/* A message's heads, before a rule's attributes. */
#define ASIDE_HEAD	(MNL_ALIGN(sizeof(struct nlmsghdr)) + \
			    MNL_ALIGN(sizeof(struct nfgenmsg)))

/* The keys of a set: IPv4 or IPv6 addresses, ports (inet_service). */
enum key { KEY_ADDR_V4 = 0, KEY_ADDR_V6, KEY_PORT };

/* A unit declared inside "table inet moat { }", read up to its "\t}". */
struct decl {
	enum { D_NONE = 0, D_CHAIN, D_SET, D_MAP, D_COUNTER } kind;
	char		 name[NFT_NAME_MAXLEN];
	uint32_t	 key_type, key_len;	/* nft's datatype and size */
	bool		 interval, counter, verdicts;
	bool		 timeout;	/* a feed's: "flags interval, timeout" */
	uint64_t	 gc_ms;		/* its "gc-interval" */
	char		 comment[128];
	const char	*elems, *elems_end;	/* inside "elements = { }" */
	/* A base chain's "type T hook H priority P; policy V;" */
	bool		 base;
	size_t		 nrules;		/* a chain's, so far */
	char		 type[8];		/* "filter", "nat" */
	uint32_t	 hook, policy;
	int32_t		 priority;
};

/* A rule of a chain declared in the block: sent at the block's end, when
 * every chain, set and map it names is there. */
struct block_rule {
	const char	*chain, *p, *end;	/* in the script */
	size_t		 chain_n;
};

struct reader {
	struct nfset	*b;
	bool		 in_table;	/* inside "table inet moat {" */
	struct decl	 d;		/* the unit being declared in it */
	bool		 elements_only;
	const char	*resume;	/* a line consumed past its end */
	uint32_t	 set_id;	/* the last set declared's */
	const char	*old, *new;	/* the whole rulesets, before, after */
	char		(*done)[NFT_NAME_MAXLEN];	/* sets changed */
	size_t		 ndone;
	struct decl	*pending;	/* sets declared, their elements to
					   come at the block's end */
	size_t		 npending;
	struct block_rule *rules;	/* the block's chains' rules */
	size_t		 nrules, caprules;
	const char	*chain, *chain_end;	/* the chain being read */
	struct nfrule_anon anon;	/* a rule's anonymous set */
	union {				/* a rule encoded before it is queued */
		struct nlmsghdr	 h;
		char		 buf[ASIDE_HEAD + NFRULE_MSG_MAX];
	}		 aside;
	const char	*refused;	/* a line before the one read */
};

static int	set_line(struct reader *, const char *, const char *);

/* s starts with word w: what follows it, or NULL. */
static const char *
after(const char *s, const char *end, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(end - s) >= n && memcmp(s, w, n) == 0 ? s + n : NULL;
}

/* A chain, set or counter name at p, ended by a space or end: into name
 * (NFT_NAME_MAXLEN), *p moved past it.  0, or -1. */
static int
name_at(const char **p, const char *end, char *name)
{
	const char *s = *p;
	size_t n = 0;

	while (s + n < end && s[n] != ' ')
		n++;
	if (nfrule_name(s, n, name, NFT_NAME_MAXLEN) == -1)
		return -1;
	*p = s + n;
	return 0;
}

/* A message for chain or set name of type with flags: its table and name
 * attributes written (attr_table, attr_name). */
static struct nlmsghdr *
object_msg(struct reader *r, int type, uint16_t flags, uint16_t attr_table,
    uint16_t attr_name, const char *name)
{
	struct nlmsghdr *nlh;

	if ((nlh = nfset_open(r->b, type, flags)) == NULL)
		return NULL;
	mnl_attr_put_strz(nlh, attr_table, NFTC_TABLE);
	mnl_attr_put_strz(nlh, attr_name, name);
	return nlh;
}

/* The anonymous set (or map) of a rule declared, and its elements put:
 * libnftables' NEWSET and NEWSETELEM for it.  0, 1 (too big for one
 * message), or -1. */
static int
declare_anon(struct reader *r, const struct nfrule_set *a)
{
	const char *name = a->map ? "__map%d" : "__set%d";
	struct nlmsghdr *nlh;
	struct nlattr *desc, *list, *el, *k, *data, *v;
	size_t i, need = 256;

	for (i = 0; i < a->n; i++)
		need += 64 + strlen(a->el[i].chain);
	if (need > NFRULE_MSG_MAX)
		return 1;
	if ((nlh = object_msg(r, NFT_MSG_NEWSET, NLM_F_CREATE, NFTA_SET_TABLE,
	    NFTA_SET_NAME, name)) == NULL)
		return -1;
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_ANONYMOUS |
	    NFT_SET_CONSTANT | (a->map ? NFT_SET_MAP : 0)));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(a->key_type));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl(a->key_len));
	if (a->map) {
		mnl_attr_put_u32(nlh, NFTA_SET_DATA_TYPE, htonl(a->data_type));
		mnl_attr_put_u32(nlh, NFTA_SET_DATA_LEN, htonl(a->data_len));
	}
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl(a->id));
	desc = mnl_attr_nest_start(nlh, NFTA_SET_DESC);
	mnl_attr_put_u32(nlh, NFTA_SET_DESC_SIZE, htonl((uint32_t)a->n));
	mnl_attr_nest_end(nlh, desc);
	mnl_attr_put(nlh, NFTA_SET_USERDATA, a->udata_len, a->udata);
	nfset_close(r->b);

	if ((nlh = object_msg(r, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
	    NFTA_SET_ELEM_LIST_TABLE, NFTA_SET_ELEM_LIST_SET, name)) == NULL)
		return -1;
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(a->id));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (i = 0; i < a->n; i++) {
		el = mnl_attr_nest_start(nlh, (uint16_t)(i + 1));
		k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, a->key_len, a->el[i].key);
		mnl_attr_nest_end(nlh, k);
		if (a->map && a->data_type != NFT_DATA_VERDICT) {
			data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
			mnl_attr_put(nlh, NFTA_DATA_VALUE, a->data_len,
			    a->el[i].data);
			mnl_attr_nest_end(nlh, data);
		} else if (a->map) {
			data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
			v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
			mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE,
			    htonl((uint32_t)a->el[i].code));
			if (a->el[i].chain[0] != '\0')
				mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN,
				    a->el[i].chain);
			mnl_attr_nest_end(nlh, v);
			mnl_attr_nest_end(nlh, data);
		}
		mnl_attr_nest_end(nlh, el);
	}
	mnl_attr_nest_end(nlh, list);
	nfset_close(r->b);
	return 0;
}

/* Rule text s (len bytes) appended to chain, or put before its rule of
 * handle before (not 0): its anonymous sets first, when it holds any.
 * 0, 1 (not moat's to send), or -1. */
static int
put_rule(struct reader *r, const char *chain, const char *s, size_t len,
    uint64_t before)
{
	struct nfrule_anon *anon = &r->anon;
	struct nlmsghdr *nlh;
	size_t n, i;
	int rc;

	/* Encoded aside first: the set goes before the rule.  The buffer
	 * is zero (the reader's, zeroed with it; the bytes a rule wrote
	 * zeroed again after it, even when it was refused): libmnl 1.0.4
	 * leaves an attribute's padding as it finds it. */
	r->aside.h.nlmsg_len = (uint32_t)ASIDE_HEAD;
	anon->id = r->set_id + 1;
	rc = nfrule_put(&r->aside.h, s, len, anon);
	n = r->aside.h.nlmsg_len - ASIDE_HEAD;
	if (rc != 0) {
		memset(r->aside.buf + ASIDE_HEAD, 0, n);
		return rc;
	}
	r->set_id += (uint32_t)anon->n;
	for (i = 0; i < anon->n; i++)
		if ((rc = declare_anon(r, &anon->set[i])) != 0)
			return rc;
	/* Appended, or put before the rule of handle before. */
	if ((nlh = object_msg(r, NFT_MSG_NEWRULE, NLM_F_CREATE | (before != 0 ?
	    0 : NLM_F_APPEND), NFTA_RULE_TABLE, NFTA_RULE_CHAIN, chain)) == NULL)
		return -1;
	if (before != 0)
		mnl_attr_put_u64(nlh, NFTA_RULE_POSITION, htobe64(before));
	memcpy(mnl_nlmsg_get_payload_tail(nlh), r->aside.buf + ASIDE_HEAD, n);
	memset(r->aside.buf + ASIDE_HEAD, 0, n);
	nlh->nlmsg_len += (uint32_t)n;
	nfset_close(r->b);
	return 0;
}

/* "add rule inet moat CHAIN RULE" */
static int
add_rule(struct reader *r, const char *p, const char *end)
{
	char chain[NFT_NAME_MAXLEN];

	if (name_at(&p, end, chain) == -1 || p == end)
		return 1;
	return put_rule(r, chain, p + 1, (size_t)(end - p - 1), 0);
}

/* A handle ("position H " or "handle H"): its number, *p moved past it
 * (and one space), or 0. */
static uint64_t
handle_at(const char **p, const char *end)
{
	char num[24], *e;
	const char *s = *p;
	unsigned long long h;
	size_t n = 0;

	while (s + n < end && s[n] != ' ')
		n++;
	if (n == 0 || n >= sizeof(num) || *s < '1' || *s > '9')
		return 0;
	memcpy(num, s, n);
	num[n] = '\0';
	h = strtoull(num, &e, 10);
	if (*e != '\0')
		return 0;
	*p = s + n + (s + n < end);
	return h;
}

/* "delete rule inet moat CHAIN handle H" */
static int
delete_rule(struct reader *r, const char *p, const char *end)
{
	char chain[NFT_NAME_MAXLEN];
	struct nlmsghdr *nlh;
	uint64_t h;

	if (name_at(&p, end, chain) == -1 || (p = after(p, end,
	    " handle ")) == NULL || (h = handle_at(&p, end)) == 0 || p != end)
		return 1;
	if ((nlh = object_msg(r, NFT_MSG_DELRULE, 0, NFTA_RULE_TABLE,
	    NFTA_RULE_CHAIN, chain)) == NULL)
		return -1;
	mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(h));
	nfset_close(r->b);
	return 0;
}

/* "insert rule inet moat CHAIN position H RULE": before rule H. */
static int
insert_rule(struct reader *r, const char *p, const char *end)
{
	char chain[NFT_NAME_MAXLEN];
	uint64_t h;

	if (name_at(&p, end, chain) == -1 || (p = after(p, end,
	    " position ")) == NULL || (h = handle_at(&p, end)) == 0 ||
	    p >= end)
		return 1;
	return put_rule(r, chain, p, (size_t)(end - p), h);
}


/* One element's verdict ("accept", "drop", "jump CHAIN", "goto CHAIN"). */
static int
element_verdict(const char *p, const char *end, struct nfset_data *d)
{
	const char *q;

	if (end - p == 6 && memcmp(p, "accept", 6) == 0)
		d->code = NF_ACCEPT;
	else if (end - p == 4 && memcmp(p, "drop", 4) == 0)
		d->code = NF_DROP;
	else if ((q = after(p, end, "jump ")) != NULL) {
		d->code = NFT_JUMP;
		return name_at(&q, end, d->chain) == -1 || q != end ? -1 : 0;
	} else if ((q = after(p, end, "goto ")) != NULL) {
		d->code = NFT_GOTO;
		return name_at(&q, end, d->chain) == -1 || q != end ? -1 : 0;
	} else
		return -1;
	return 0;
}

/* A port "N" or "LO-HI" of a set of inet_service: 0, or -1. */
static int
port_key(const char *p, const char *end, unsigned *lo, unsigned *hi)
{
	char buf[16], *e;
	unsigned long a, b;
	size_t n = (size_t)(end - p);

	if (n == 0 || n >= sizeof(buf) || *p < '0' || *p > '9')
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	a = strtoul(buf, &e, 10);
	b = a;
	if (*e == '-') {
		if (e[1] < '0' || e[1] > '9')
			return -1;
		b = strtoul(e + 1, &e, 10);
	}
	if (*e != '\0' || a > b || b > 65535)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

/* One interval of a set or map as moat writes it. */
struct ival_el {
	u128			 lo, hi;	/* address (addr.h) or port */
	bool			 data;		/* a map's: d */
	struct nfset_data	 d;
};

struct ival_list {
	struct ival_el	*v;
	size_t		 n, cap;
};

static void
ival_free(struct ival_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* One element "KEY [comment "S"] [: VERDICT]" whose keys are of kind k,
 * appended to l: 0, 1 when it is not one, -1 out of memory. */
static int
element(struct ival_list *l, enum key k, const char *p, const char *end)
{
	char text[ADDR_STRLEN * 2 + 8], err[128], hint[64];
	const char *key_end, *q;
	struct addr_lit lit;
	struct ival_el *e;
	unsigned plo, phi;
	size_t n;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct ival_el *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	for (key_end = p; key_end < end && *key_end != ' '; key_end++)
		;
	if (k == KEY_PORT) {
		if (port_key(p, key_end, &plo, &phi) == -1 || key_end != end)
			return 1;
		e->lo = plo;
		e->hi = phi;
		l->n++;
		return 0;
	}
	n = (size_t)(key_end - p);
	if (n == 0 || n >= sizeof(text))
		return 1;
	memcpy(text, p, n);
	text[n] = '\0';
	if (addr_parse_lit(text, false, &lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1 || (k == KEY_ADDR_V4) != (lit.family == FAM_V4))
		return 1;
	e->lo = lit.lo;
	e->hi = lit.hi;
	p = key_end;
	if ((q = after(p, end, " comment \"")) != NULL) {
		const char *close = memchr(q, '"', (size_t)(end - q));

		if (close == NULL || (size_t)(close - q) >=
		    sizeof(e->d.comment))
			return 1;
		memcpy(e->d.comment, q, (size_t)(close - q));
		p = close + 1;
		e->data = true;
	}
	if ((q = after(p, end, " : ")) != NULL) {
		if (element_verdict(q, end, &e->d) == -1)
			return 1;
		p = end;
		e->data = true;
	} else if (e->data)
		return 1;	/* a comment without a verdict */
	if (p != end)
		return 1;
	l->n++;
	return 0;
}

/* The elements between p and end ("E, E,\n\t\t\tE") into l. */
static int
element_list(struct ival_list *l, enum key k, const char *p,
    const char *end)
{
	const char *e;
	int rc;

	while (p < end) {
		bool quote = false;

		/* The next ',' outside a comment's quotes. */
		for (e = p; e < end; e++) {
			if (*e == '"')
				quote = !quote;
			else if (!quote && *e == ',')
				break;
		}
		if (quote || e == p)
			return 1;
		if ((rc = element(l, k, p, e)) != 0)
			return rc;
		if (e == end)
			break;
		/* ", " or ",\n\t\t\t" */
		for (p = e + 1; p < end && (*p == ' ' || *p == '\n' ||
		    *p == '\t'); p++)
			;
		if (p == end)
			return 1;
	}
	return 0;
}

/*
 * An interval set's elements as the kernel holds them when libnftables
 * wrote them (nft 1.0.6's encoding of intervals, as `nft --debug=netlink
 * list` shows): per interval, a start element (with its data; flagged
 * open when it runs to the last key) and an end element one past it,
 * unless it runs to the last key, even where the next interval starts
 * at that key (the kernel holds both); and first an end element at the
 * lowest key when the first interval starts above it.  A difference names
 * a set's elements from the whole of it, before and after, so that the
 * end at the lowest key comes and goes as the first interval does, and a
 * start whose verdict changed goes out and in again.
 */
struct raw_el {
	u128			 key;
	bool			 end, open;
	const struct ival_el	*src;	/* a start's interval */
};

struct raw_list {
	struct raw_el	*v;
	size_t		 n;
};

static int
by_lo(const void *a, const void *b)
{
	const struct ival_el *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The key space of kind k: its lowest and last key. */
static void
key_space(enum key k, u128 *zero, u128 *last)
{
	*zero = k == KEY_ADDR_V4 ? V4_BASE : 0;
	*last = k == KEY_ADDR_V4 ? V4_LAST : k == KEY_PORT ? 65535 :
	    U128_MAX;
}

static int
raw_order(const void *a, const void *b)
{
	const struct raw_el *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (int)y->end - (int)x->end;
}

static int
raw_of(struct ival_list *l, enum key k, struct raw_list *r)
{
	u128 zero, last;
	size_t i;

	key_space(k, &zero, &last);
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), by_lo);
	r->n = 0;
	if ((r->v = calloc(2 * l->n + 1, sizeof(*r->v))) == NULL)
		return -1;
	for (i = 0; i < l->n; i++)
		if (i > 0 && l->v[i].lo <= l->v[i - 1].hi)
			return 1;	/* overlapping: not moat's */
	if (l->n > 0 && l->v[0].lo > zero)
		r->v[r->n++] = (struct raw_el){ zero, true, false, NULL };
	for (i = 0; i < l->n; i++) {
		const struct ival_el *e = &l->v[i];

		r->v[r->n++] = (struct raw_el){ e->lo, false, e->hi == last, e };
		if (e->hi != last)
			r->v[r->n++] = (struct raw_el){ e->hi + 1, true, false,
			    NULL };
	}
	/* In (key, end before start) order: an interval's end and the
	 * next one's start may share a key. */
	qsort(r->v, r->n, sizeof(*r->v), raw_order);
	return 0;
}

/* Queue one raw element of set name, added or deleted. */
static int
raw_put(struct reader *r, bool add, const char *name, enum key k,
    const struct raw_el *e)
{
	unsigned char key[16];
	size_t len = k == KEY_PORT ? 2 : k == KEY_ADDR_V4 ? 4 : 16, i;

	for (i = 0; i < len; i++)
		key[len - 1 - i] = (unsigned char)(e->key >> (8 * i));
	return nfset_raw(r->b, add, name, key, len, e->end, e->open,
	    add && e->src != NULL && e->src->data ? &e->src->d : NULL);
}

static bool
ival_same(const struct ival_el *a, const struct ival_el *b)
{
	return a->lo == b->lo && a->hi == b->hi && a->data == b->data &&
	    (!a->data || (a->d.code == b->d.code && strcmp(a->d.chain,
	    b->d.chain) == 0 && strcmp(a->d.comment, b->d.comment) == 0));
}

/* Queue interval e's elements (its start, and its end unless it runs to
 * the last key), added or deleted. */
static int
ival_put(struct reader *r, bool add, const char *name, enum key k,
    const struct ival_el *e)
{
	u128 zero, last;
	struct raw_el start, end;

	key_space(k, &zero, &last);
	start = (struct raw_el){ e->lo, false, e->hi == last, e };
	end = (struct raw_el){ e->hi + 1, true, false, NULL };
	if (raw_put(r, add, name, k, &start) == -1)
		return -1;
	return e->hi == last ? 0 : raw_put(r, add, name, k, &end);
}

/*
 * The kernel's elements that take set name from before to after (both
 * sorted by start), as libnftables sends a difference: the intervals only
 * before deleted (start and end), then those only after added, so that
 * no new start falls inside an interval still there (the kernel refuses
 * an overlap); and the end element at the lowest key deleted or added as
 * the first interval moves onto or off it.
 */
static int
ival_diff(struct reader *r, const char *name, enum key k,
    const struct ival_list *before, const struct ival_list *after)
{
	struct raw_el low;
	u128 zero, last;
	bool low_before, low_after;
	size_t i, j;

	key_space(k, &zero, &last);
	low = (struct raw_el){ zero, true, false, NULL };
	low_before = before->n > 0 && before->v[0].lo > zero;
	low_after = after->n > 0 && after->v[0].lo > zero;
	if (low_before && !low_after && raw_put(r, false, name, k, &low) ==
	    -1)
		return -1;
	for (i = j = 0; i < before->n; i++) {
		while (j < after->n && after->v[j].lo < before->v[i].lo)
			j++;
		if (j < after->n && ival_same(&before->v[i], &after->v[j]))
			continue;
		if (ival_put(r, false, name, k, &before->v[i]) == -1)
			return -1;
	}
	for (i = j = 0; j < after->n; j++) {
		while (i < before->n && before->v[i].lo < after->v[j].lo)
			i++;
		if (i < before->n && ival_same(&before->v[i], &after->v[j]))
			continue;
		if (ival_put(r, true, name, k, &after->v[j]) == -1)
			return -1;
	}
	if (low_after && !low_before && raw_put(r, true, name, k, &low) == -1)
		return -1;
	return 0;
}

/* The declaration of set or map name in script s (a whole ruleset) into
 * d: 0, 1 when it is not there or not of a kind read here. */
static int
find_decl(const char *s, const char *name, struct decl *d)
{
	char head[NFT_NAME_MAXLEN + 16];
	struct reader scratch;
	const char *p = NULL, *l, *nl;
	int kind;

	memset(d, 0, sizeof(*d));
	for (kind = 0; kind < 2 && p == NULL; kind++) {
		snprintf(head, sizeof(head), "\n\t%s %s {\n", kind == 0 ?
		    "map" : "set", name);
		if ((p = strstr(s, head)) != NULL)
			d->kind = kind == 0 ? D_MAP : D_SET;
	}
	if (p == NULL)
		return 1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	memset(&scratch, 0, sizeof(scratch));
	for (l = strchr(p + 1, '\n') + 1; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			return 1;
		if (nl - l == 2 && memcmp(l, "\t}", 2) == 0)
			break;
		scratch.d = *d;
		scratch.resume = NULL;
		if (set_line(&scratch, l, nl) != 0)
			return 1;
		*d = scratch.d;
		if (scratch.resume != NULL) {
			if (*scratch.resume == '\0')
				return 1;
			nl = scratch.resume;
		}
	}
	return d->key_type != 0 && d->interval ? 0 : 1;
}

static enum key
key_of_decl(const struct decl *d)
{
	return d->key_type == 13 ? KEY_PORT : d->key_type == 7 ? KEY_ADDR_V4 :
	    KEY_ADDR_V6;
}

/* A declaration's elements into l; a map's must have data, a set's none. */
static int
decl_elements(const struct decl *d, struct ival_list *l)
{
	size_t i;
	int rc;

	if (d->elems == NULL)
		return 0;
	if ((rc = element_list(l, key_of_decl(d), d->elems, d->elems_end)) !=
	    0)
		return rc;
	for (i = 0; i < l->n; i++)
		if (l->v[i].data != (d->kind == D_MAP))
			return 1;
	return 0;
}

/* Set or map name, whose elements a line of the difference changes: its
 * elements before (the ruleset in force) and after (the new one), and
 * the kernel's elements that take one to the other.  Done once a set. */
static int
set_changed(struct reader *r, const char *name)
{
	struct decl before, after;
	struct ival_list lb = { 0 }, la = { 0 };
	struct raw_list rb = { 0 }, ra = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < r->ndone; i++)
		if (strcmp(r->done[i], name) == 0)
			return 0;
	if (r->old == NULL || r->new == NULL)
		return 1;	/* the whole of the set is not known */
	if (find_decl(r->old, name, &before) != 0 || find_decl(r->new, name,
	    &after) != 0 || before.kind != after.kind || before.key_type !=
	    after.key_type)
		return 1;
	if (after.kind == D_MAP)
		r->elements_only = false;
	/* (raw_of sorts the lists, and refuses overlaps) */
	if ((rc = decl_elements(&before, &lb)) != 0 ||
	    (rc = decl_elements(&after, &la)) != 0 ||
	    (rc = raw_of(&lb, key_of_decl(&before), &rb)) != 0 ||
	    (rc = raw_of(&la, key_of_decl(&after), &ra)) != 0)
		goto out;
	rc = ival_diff(r, name, key_of_decl(&after), &lb, &la);
	if (rc == 0) {
		char (*v)[NFT_NAME_MAXLEN] = realloc(r->done, (r->ndone + 1) *
		    sizeof(*v));

		if (v == NULL) {
			rc = -1;
			goto out;
		}
		r->done = v;
		snprintf(r->done[r->ndone++], sizeof(r->done[0]), "%s", name);
	}
out:
	free(rb.v);
	free(ra.v);
	ival_free(&lb);
	ival_free(&la);
	return rc;
}

/* "add|delete element inet moat NAME { E, E }": only its set's name is
 * read; the kernel's elements are named from the whole of the set, in
 * force and new (set_changed), whatever the line lists. */
static int
elements(struct reader *r, const char *p, const char *end)
{
	char name[NFT_NAME_MAXLEN];

	if (name_at(&p, end, name) == -1 || (p = after(p, end, " { ")) ==
	    NULL || end - p < 2 || memcmp(end - 2, " }", 2) != 0 ||
	    p >= end - 2)
		return 1;
	return set_changed(r, name);
}

/* The set or map declared (r->d), and its elements, as libnftables sends
 * them: NFTA_SET_USERDATA holds libnftnl's TLVs, the key's byte order
 * (NFTNL_UDATA_SET_KEYBYTEORDER, 0: big endian, 2), for a map the data's
 * (1: none, 0) and whether it is an interval (6: 0), then the comment (7,
 * with its NUL); a map's counter is its NFTA_SET_EXPR.  An interval set's
 * elements begin with an end element at 0 when the first interval starts
 * above it (nft's encoding: the gap below is closed). */
static int
declare_set(struct reader *r)
{
	struct decl *d = &r->d;
	unsigned char ud[6 * 3 + 2 + sizeof(d->comment)];
	uint32_t v;
	struct nlmsghdr *nlh;
	struct nlattr *x, *xd;
	size_t n = 0, c;

	if (d->key_type == 0 || !d->interval || (d->kind == D_MAP) !=
	    d->verdicts || (d->kind == D_MAP && (!d->counter ||
	    d->comment[0] != '\0' || d->timeout)) || (d->kind == D_SET &&
	    d->counter) || (d->gc_ms != 0 && !d->timeout))
		return 1;
	if ((nlh = object_msg(r, NFT_MSG_NEWSET, NLM_F_CREATE, NFTA_SET_TABLE,
	    NFTA_SET_NAME, d->name)) == NULL)
		return -1;
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_INTERVAL |
	    (d->kind == D_MAP ? NFT_SET_MAP : 0) | (d->timeout ?
	    NFT_SET_TIMEOUT : 0)));
	if (d->gc_ms != 0)
		mnl_attr_put_u32(nlh, NFTA_SET_GC_INTERVAL,
		    htonl((uint32_t)d->gc_ms));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(d->key_type));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl(d->key_len));
	/* The kernel wants an id for a set of this transaction. */
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl(++r->set_id));
	if (d->kind == D_MAP) {
		mnl_attr_put_u32(nlh, NFTA_SET_DATA_TYPE, htonl(NFT_DATA_VERDICT));
		mnl_attr_put_u32(nlh, NFTA_SET_DATA_LEN, htonl(0));
	}
#define UD_U32(type, val) do {						\
	v = (val);							\
	ud[n++] = (type);						\
	ud[n++] = sizeof(v);						\
	memcpy(ud + n, &v, sizeof(v));					\
	n += sizeof(v);							\
} while (0)
	UD_U32(0, 2);
	if (d->kind == D_MAP) {
		UD_U32(1, 0);
		UD_U32(6, 0);
	}
#undef UD_U32
	if ((c = strlen(d->comment)) > 0) {
		ud[n++] = 7;
		ud[n++] = (unsigned char)(c + 1);
		memcpy(ud + n, d->comment, c + 1);
		n += c + 1;
	}
	mnl_attr_put(nlh, NFTA_SET_USERDATA, n, ud);
	if (d->counter) {
		x = mnl_attr_nest_start(nlh, NFTA_SET_EXPR);
		mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "counter");
		xd = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
		mnl_attr_nest_end(nlh, xd);
		mnl_attr_nest_end(nlh, x);
	}
	nfset_close(r->b);
	/* Its elements after every chain of the block is declared: a map's
	 * verdicts jump to chains declared after it. */
	if (d->elems != NULL) {
		struct decl *v = realloc(r->pending, (r->npending + 1) *
		    sizeof(*v));

		if (v == NULL)
			return -1;
		r->pending = v;
		r->pending[r->npending++] = *d;
	}
	return 0;
}

/* The elements of the sets the block declared. */
static int
declared_elements(struct reader *r)
{
	struct ival_list l = { 0 };
	struct raw_list raw = { 0 };
	size_t i, j;
	int rc = 0;

	for (i = 0; i < r->npending && rc == 0; i++) {
		const struct decl *d = &r->pending[i];

		if ((rc = decl_elements(d, &l)) == 0 && (rc = raw_of(&l,
		    key_of_decl(d), &raw)) == 0)
			for (j = 0; j < raw.n && rc == 0; j++)
				rc = raw_put(r, true, d->name, key_of_decl(d),
				    &raw.v[j]);
		free(raw.v);
		raw.v = NULL;
		ival_free(&l);
	}
	free(r->pending);
	r->pending = NULL;
	r->npending = 0;
	return rc;
}

/* A counter object declared: its figures 0, as libnftables sends it. */
static int
declare_counter(struct reader *r)
{
	struct nlmsghdr *nlh;
	struct nlattr *data;

	if ((nlh = object_msg(r, NFT_MSG_NEWOBJ, NLM_F_CREATE, NFTA_OBJ_TABLE,
	    NFTA_OBJ_NAME, r->d.name)) == NULL)
		return -1;
	mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
	data = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
	mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, 0);
	mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, 0);
	mnl_attr_nest_end(nlh, data);
	nfset_close(r->b);
	return 0;
}

/* A line of a set's or map's declaration: its head, or its elements (to
 * the closing brace, which may be lines on: r->resume). */
static int
set_line(struct reader *r, const char *p, const char *end)
{
	struct decl *d = &r->d;
	const char *q, *close;
	bool quote = false;

	if ((q = after(p, end, "\t\ttype ")) != NULL) {
		static const struct {
			const char	*text;
			uint32_t	 type, len;
			bool		 verdicts;
		} t[] = {
			{ "ipv4_addr", 7, 4, false },
			{ "ipv6_addr", 8, 16, false },
			{ "inet_service", 13, 2, false },
			{ "ipv4_addr : verdict", 7, 4, true },
			{ "ipv6_addr : verdict", 8, 16, true },
		};
		size_t i;

		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if ((size_t)(end - q) == strlen(t[i].text) &&
			    memcmp(q, t[i].text, (size_t)(end - q)) == 0)
				break;
		if (i == sizeof(t) / sizeof(t[0]) || d->key_type != 0)
			return 1;
		d->key_type = t[i].type;
		d->key_len = t[i].len;
		d->verdicts = t[i].verdicts;
		return 0;
	}
	if (end - p == 16 && memcmp(p, "\t\tflags interval", 16) == 0) {
		d->interval = true;
		return 0;
	}
	/* a feed's set (nftc.c put_feed_set): elements that never time
	 * out, and the kernel's walk for expired ones once an hour */
	if (end - p == 25 && memcmp(p, "\t\tflags interval, timeout", 25) ==
	    0) {
		d->interval = d->timeout = true;
		return 0;
	}
	if (end - p == 16 && memcmp(p, "\t\tgc-interval 1h", 16) == 0) {
		d->gc_ms = 3600000;
		return 0;
	}
	if (end - p == 9 && memcmp(p, "\t\tcounter", 9) == 0) {
		d->counter = true;
		return 0;
	}
	if ((q = after(p, end, "\t\tcomment \"")) != NULL) {
		if (end - q < 1 || end[-1] != '"' || (size_t)(end - q - 1) >=
		    sizeof(d->comment) || memchr(q, '"', (size_t)(end - q -
		    1)) != NULL)
			return 1;
		memcpy(d->comment, q, (size_t)(end - q - 1));
		d->comment[end - q - 1] = '\0';
		return 0;
	}
	if ((q = after(p, end, "\t\telements = { ")) != NULL) {
		if (d->elems != NULL)
			return 1;
		/* The closing brace, outside a comment's quotes. */
		for (close = q; *close != '\0'; close++) {
			if (*close == '"')
				quote = !quote;
			else if (!quote && *close == '}')
				break;
		}
		if (*close != '}' || close - q < 2 || close[-1] != ' ' ||
		    (close[1] != '\n' && close[1] != '\0'))
			return 1;
		d->elems = q;
		d->elems_end = close - 1;
		r->resume = close + 1;
		return 0;
	}
	return 1;
}

/* The hook words of nft's base chains. */
static const struct {
	const char	*word;
	int		 value;
} hooks[] = {
	{ "prerouting", NF_INET_PRE_ROUTING }, { "input", NF_INET_LOCAL_IN },
	{ "forward", NF_INET_FORWARD }, { "output", NF_INET_LOCAL_OUT },
	{ "postrouting", NF_INET_POST_ROUTING },
}, priorities[] = {
	{ "raw", -300 }, { "mangle", -150 }, { "dstnat", -100 },
	{ "filter", 0 }, { "security", 50 }, { "srcnat", 100 },
};

/* A word of table t (n entries) at *p, ended by c: its value in *v, *p
 * moved past c.  0, or -1. */
#define WORD_OF(t, p, end, c, v)	word_of(t, sizeof(t) / sizeof(t[0]), \
					    p, end, c, v)
static int
word_of(const void *table, size_t n, const char **p, const char *end, char c,
    int *v)
{
	const struct { const char *word; int value; } *t = table;
	const char *e = memchr(*p, c, (size_t)(end - *p));
	size_t i;

	for (i = 0; e != NULL && i < n; i++)
		if ((size_t)(e - *p) == strlen(t[i].word) && memcmp(*p,
		    t[i].word, (size_t)(e - *p)) == 0) {
			*v = t[i].value;
			*p = e + 1;
			return 0;
		}
	return -1;
}

/* A line of a chain's block: its hook first ("type filter hook input
 * priority filter; policy accept;"), or one of its rules (kept for the
 * block's end). */
static int
chain_line(struct reader *r, const char *p, const char *end)
{
	struct decl *d = &r->d;
	const char *q, *h;
	char *e;
	long prio;
	int v;

	if ((q = after(p, end, "\t\ttype ")) != NULL) {
		if (d->base || d->nrules > 0 ||
		    ((h = after(q, end, "filter hook ")) == NULL &&
		    (h = after(q, end, "nat hook ")) == NULL))
			return 1;
		snprintf(d->type, sizeof(d->type), "%.*s", (int)(h - q - 6),
		    q);
		if (WORD_OF(hooks, &h, end, ' ', &v) == -1 ||
		    (q = after(h, end, "priority ")) == NULL)
			return 1;
		d->hook = (uint32_t)v;
		/* "filter", "srcnat + 5", "-90" */
		if (WORD_OF(priorities, &q, end, ';', &v) == 0)
			prio = v;
		else if (WORD_OF(priorities, &q, end, ' ', &v) == 0) {
			if ((*q != '+' && *q != '-') || q[1] != ' ' ||
			    q[2] < '0' || q[2] > '9')
				return 1;
			prio = strtol(q + 2, &e, 10);
			if (e >= end || *e != ';' || prio > 1000)
				return 1;
			prio = *q == '+' ? v + prio : v - prio;
			q = e + 1;
		} else {
			prio = strtol(q, &e, 10);
			if (e == q || e >= end || *e != ';' || prio < -1000 ||
			    prio > 1000)
				return 1;
			q = e + 1;
		}
		d->priority = (int32_t)prio;
		if ((q = after(q, end, " policy ")) == NULL)
			return 1;
		if ((h = after(q, end, "accept;")) != NULL)
			d->policy = NF_ACCEPT;
		else if ((h = after(q, end, "drop;")) != NULL)
			d->policy = NF_DROP;
		if (h != end)
			return 1;
		d->base = true;
		return 0;
	}
	if (end - p < 3 || p[0] != '\t' || p[1] != '\t' || p[2] == '\t' ||
	    p[2] == ' ')
		return 1;
	if (r->nrules == r->caprules) {
		size_t cap = r->caprules ? 2 * r->caprules : 256;
		struct block_rule *n = reallocarray(r->rules, cap,
		    sizeof(*n));

		if (n == NULL)
			return -1;
		r->rules = n;
		r->caprules = cap;
	}
	r->rules[r->nrules++] = (struct block_rule){ r->chain, p + 2, end,
	    (size_t)(r->chain_end - r->chain) };
	d->nrules++;
	return 0;
}

/* A chain declared at its block's "}", with its hook when it has one. */
static int
declare_chain(struct reader *r)
{
	const struct decl *d = &r->d;
	struct nlmsghdr *nlh;
	struct nlattr *hook;

	if ((nlh = object_msg(r, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
	    NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, d->name)) == NULL)
		return -1;
	if (d->base) {
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, d->type);
		mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl(d->policy));
		hook = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
		mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, htonl(d->hook));
		mnl_attr_put_u32(nlh, NFTA_HOOK_PRIORITY,
		    htonl((uint32_t)d->priority));
		mnl_attr_nest_end(nlh, hook);
	}
	nfset_close(r->b);
	return 0;
}

/* The rules of the block's chains, in their order. */
static int
block_rules(struct reader *r)
{
	char chain[NFT_NAME_MAXLEN];
	size_t i;
	int rc = 0;

	for (i = 0; i < r->nrules && rc == 0; i++) {
		const struct block_rule *x = &r->rules[i];

		if (nfrule_name(x->chain, x->chain_n, chain, sizeof(chain)) ==
		    -1)
			rc = 1;
		else
			rc = put_rule(r, chain, x->p, (size_t)(x->end - x->p),
			    0);
		if (rc == 1)
			r->refused = x->p;
	}
	r->nrules = 0;
	return rc;
}

/* A line inside "table inet moat { }": a chain without a hook (empty), a
 * set or map of the kinds nftc writes, a counter. */
static int
table_line(struct reader *r, const char *p, const char *end)
{
	struct decl *d = &r->d;
	const char *q;
	int rc = 0;

	if (d->kind != D_NONE) {
		if (end - p != 2 || memcmp(p, "\t}", 2) != 0)
			return d->kind == D_SET || d->kind == D_MAP ?
			    set_line(r, p, end) : d->kind == D_CHAIN ?
			    chain_line(r, p, end) : 1;
		if (d->kind == D_CHAIN)
			rc = declare_chain(r);
		else if (d->kind == D_COUNTER)
			rc = declare_counter(r);
		else
			rc = declare_set(r);
		memset(d, 0, sizeof(*d));
		return rc;
	}
	if (end - p == 1 && *p == '}') {
		r->in_table = false;
		return (rc = declared_elements(r)) != 0 ? rc :
		    block_rules(r);
	}
	if ((q = after(p, end, "\tchain ")) != NULL) {
		d->kind = D_CHAIN;
		r->chain = q;
		r->chain_end = end - 2;		/* before " {" */
	} else if ((q = after(p, end, "\tset ")) != NULL)
		d->kind = D_SET;
	else if ((q = after(p, end, "\tmap ")) != NULL)
		d->kind = D_MAP;
	else if ((q = after(p, end, "\tcounter ")) != NULL)
		d->kind = D_COUNTER;
	else
		return 1;
	if (name_at(&q, end, d->name) == -1 || end - q != 2 ||
	    memcmp(q, " {", 2) != 0)
		return 1;
	r->elements_only = false;
	return 0;
}

/* The lines that remove a unit by name ("flush chain": every rule of
 * it, a DELRULE without a handle). */
static const struct {
	const char	*cmd;
	int		 type;
	uint16_t	 attr_table, attr_name;
} drop[] = {
	{ "flush chain " PFX, NFT_MSG_DELRULE, NFTA_RULE_TABLE,
	  NFTA_RULE_CHAIN },
	{ "delete chain " PFX, NFT_MSG_DELCHAIN, NFTA_CHAIN_TABLE,
	  NFTA_CHAIN_NAME },
	{ "delete set " PFX, NFT_MSG_DELSET, NFTA_SET_TABLE, NFTA_SET_NAME },
	{ "delete map " PFX, NFT_MSG_DELSET, NFTA_SET_TABLE, NFTA_SET_NAME },
	{ "delete counter " PFX, NFT_MSG_DELOBJ, NFTA_OBJ_TABLE,
	  NFTA_OBJ_NAME },
};

static int
line(struct reader *r, const char *s, const char *end)
{
	char name[NFT_NAME_MAXLEN];
	const char *p;
	struct nlmsghdr *nlh;
	size_t i;

	if (r->in_table)
		return table_line(r, s, end);
	if ((p = after(s, end, "add element " PFX)) != NULL)
		return elements(r, p, end);
	if ((p = after(s, end, "delete element " PFX)) != NULL)
		return elements(r, p, end);
	r->elements_only = false;
	if (*s == '#')
		return 0;	/* a comment line */
	if ((end - s == (long)strlen("table " PFX) - 1 && after(s, end,
	    "table inet " NFTC_TABLE) != NULL) || (end - s ==
	    (long)strlen("delete table " PFX) - 1 && after(s, end,
	    "delete table inet " NFTC_TABLE) != NULL) || (end - s ==
	    (long)strlen("table " PFX "{") && after(s, end, "table " PFX "{") !=
	    NULL)) {
		bool add = *s == 't';

		/* A block creates its table, as libnftables sends it. */
		r->in_table = end[-1] == '{';
		if ((nlh = nfset_open(r->b, add ? NFT_MSG_NEWTABLE :
		    NFT_MSG_DELTABLE, add ? NLM_F_CREATE : 0)) == NULL)
			return -1;
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, NFTC_TABLE);
		if (add)
			mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS, 0);
		nfset_close(r->b);
		return 0;
	}
	if ((p = after(s, end, "add rule " PFX)) != NULL)
		return add_rule(r, p, end);
	if ((p = after(s, end, "insert rule " PFX)) != NULL)
		return insert_rule(r, p, end);
	if ((p = after(s, end, "delete rule " PFX)) != NULL)
		return delete_rule(r, p, end);
	for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		if ((p = after(s, end, drop[i].cmd)) == NULL)
			continue;
		if (name_at(&p, end, name) == -1 || p != end)
			return 1;
		if ((nlh = object_msg(r, drop[i].type, 0, drop[i].attr_table,
		    drop[i].attr_name, name)) == NULL)
			return -1;
		if (drop[i].type == NFT_MSG_DELOBJ)
			mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE,
			    htonl(NFT_OBJECT_COUNTER));
		nfset_close(r->b);
		return 0;
	}
	return 1;
}

int
nfdelta_script(struct nfset *b, const char *s, const char *old,
    const char *new, bool *elements_only, const char **refused)
{
	struct reader r;
	const char *l, *nl;
	int rc;

	memset(&r, 0, sizeof(r));
	r.b = b;
	r.old = old;
	r.new = new;
	r.elements_only = true;
	nfset_reset(b);
	for (l = s; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			nl = l + strlen(l);
		r.resume = NULL;
		if (nl > l && (rc = line(&r, l, nl)) != 0) {
			nfset_reset(b);
			if (refused != NULL)
				*refused = r.refused != NULL ? r.refused : l;
			free(r.done);
			free(r.pending);
			free(r.rules);
			return rc;
		}
		if (r.resume != NULL) {
			/* a declaration's elements, lines on */
			if (*r.resume == '\0')
				break;
			nl = r.resume;
		}
		if (*nl == '\0')
			break;
	}
	free(r.done);
	free(r.pending);
	free(r.rules);
	if (r.in_table) {
		nfset_reset(b);
		if (refused != NULL)
			*refused = s + strlen(s);
		return 1;
	}
	if (elements_only != NULL)
		*elements_only = r.elements_only;
	return 0;
}

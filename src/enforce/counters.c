/* counters.c: see counters.h.  Read over netlink (libmnl), in dumps of
 * table inet moat: its counter objects (NFT_MSG_GETOBJ: the anti-lockout,
 * the defaults, forwards and NAT), its chains and each chain's rules
 * (NFT_MSG_GETRULE: each rule's own counter, whose rule its comment "rule
 * ID" says), its sets and the elements of those that count per element
 * (NFT_MSG_GETSETELEM: the dispatch maps' elements that decide a rule,
 * with the same comment).  moat status of the 100K-rule policy: 0.7-1.1 s
 * (the reading in two halves on an idle core: below).  A libnftables JSON
 * listing did the first in 20 ms for a 1,000-rule policy; this takes
 * about one, and the console's dashboard asks every few seconds. */
#include "enforce/counters.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "base/cores.h"
#include "enforce/nfnl.h"

#define UDATA_COMMENT	0	/* libnftnl's comment, in rules and elements */
#define COUNTING_MAX	4096	/* sets whose elements count, at most */
#define READ_MAX_MS	10000	/* the whole reading, at most (the console
				   asks every few seconds; each answer has
				   its own deadline too, nfnl.h) */

struct acc {
	struct counter	*v;
	size_t		 n, cap;
	char		**sets;		/* those whose elements count */
	size_t		 nsets;
	char		**chains;	/* the table's, to read the rules of */
	size_t		 nchains;
	bool		 bad;		/* a malformed answer */
	bool		 full;		/* out of memory */
	bool		 named;		/* the lists are read: a chain or set
					   in a later dump is not noted (a
					   second reader reads them) */
};

/* What the attributes of one kind of message or nest may hold: those
 * named must have their type; any other is taken as it is, any newer than
 * us (past max) left. */
struct attr_rule {
	int			 type;
	enum mnl_attr_data_type	 kind;
};

struct attrs {
	int			 max;
	const struct attr_rule	*rule;
	size_t			 nrule;
	const struct nlattr	**tb;	/* [max + 1], filled */
};

#define ATTRS(max, rules, tb) \
	{ (max), (rules), sizeof(rules) / sizeof((rules)[0]), (tb) }

static const struct attr_rule obj_rules[] = {
	{ NFTA_OBJ_TABLE, MNL_TYPE_NUL_STRING },
	{ NFTA_OBJ_NAME, MNL_TYPE_NUL_STRING },
	{ NFTA_OBJ_TYPE, MNL_TYPE_U32 },
	{ NFTA_OBJ_DATA, MNL_TYPE_NESTED },
};
static const struct attr_rule rule_rules[] = {
	{ NFTA_RULE_TABLE, MNL_TYPE_NUL_STRING },
	{ NFTA_RULE_EXPRESSIONS, MNL_TYPE_NESTED },
};
static const struct attr_rule chain_rules[] = {
	{ NFTA_CHAIN_TABLE, MNL_TYPE_NUL_STRING },
	{ NFTA_CHAIN_NAME, MNL_TYPE_NUL_STRING },
};
static const struct attr_rule set_rules[] = {
	{ NFTA_SET_TABLE, MNL_TYPE_NUL_STRING },
	{ NFTA_SET_NAME, MNL_TYPE_NUL_STRING },
};
static const struct attr_rule elems_rules[] = {
	{ NFTA_SET_ELEM_LIST_TABLE, MNL_TYPE_NUL_STRING },
	{ NFTA_SET_ELEM_LIST_ELEMENTS, MNL_TYPE_NESTED },
};
static const struct attr_rule elem_rules[] = {
	{ NFTA_SET_ELEM_EXPR, MNL_TYPE_NESTED },
	{ NFTA_SET_ELEM_EXPRESSIONS, MNL_TYPE_NESTED },
};
static const struct attr_rule expr_rules[] = {
	{ NFTA_EXPR_NAME, MNL_TYPE_NUL_STRING },
	{ NFTA_EXPR_DATA, MNL_TYPE_NESTED },
};
static const struct attr_rule counter_rules[] = {
	{ NFTA_COUNTER_BYTES, MNL_TYPE_U64 },
	{ NFTA_COUNTER_PACKETS, MNL_TYPE_U64 },
};

static int
on_attr(const struct nlattr *a, void *data)
{
	const struct attrs *s = data;
	int type = mnl_attr_get_type(a);
	size_t i;

	if (mnl_attr_type_valid(a, s->max) < 0)
		return MNL_CB_OK;	/* newer than us: ignored */
	for (i = 0; i < s->nrule; i++)
		if (s->rule[i].type == type &&
		    mnl_attr_validate(a, s->rule[i].kind) < 0)
			return MNL_CB_ERROR;
	s->tb[type] = a;
	return MNL_CB_OK;
}

/* A message's attributes (after its nfgenmsg) into s->tb: 0, or -1. */
static int
parse_msg(const struct nlmsghdr *nlh, struct attrs s)
{
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), on_attr, &s) < 0 ?
	    -1 : 0;
}

/* A nest's attributes into s->tb: 0, or -1. */
static int
parse_nest(const struct nlattr *nest, struct attrs s)
{
	return mnl_attr_parse_nested(nest, on_attr, &s) < 0 ? -1 : 0;
}

/* A counter's figures (NFTA_OBJ_DATA, or a counter expression's
 * NFTA_EXPR_DATA) into k: 0, or -1 when they are not whole. */
static int
figures(const struct nlattr *data, struct counter *k)
{
	const struct nlattr *cb[NFTA_COUNTER_MAX + 1] = { NULL };

	if (parse_nest(data, (struct attrs)ATTRS(NFTA_COUNTER_MAX,
	    counter_rules, cb)) < 0 ||
	    cb[NFTA_COUNTER_BYTES] == NULL || cb[NFTA_COUNTER_PACKETS] == NULL)
		return -1;
	k->packets += be64toh(mnl_attr_get_u64(cb[NFTA_COUNTER_PACKETS]));
	k->bytes += be64toh(mnl_attr_get_u64(cb[NFTA_COUNTER_BYTES]));
	return 0;
}

/* One expression (NAME, DATA): its counter's figures added to k, *seen
 * set; anything else left.  0, or -1 when malformed. */
static int
expr_figures(const struct nlattr *e, struct counter *k, bool *seen)
{
	const struct nlattr *tb[NFTA_EXPR_MAX + 1] = { NULL };

	if (parse_nest(e, (struct attrs)ATTRS(NFTA_EXPR_MAX, expr_rules,
	    tb)) < 0 || tb[NFTA_EXPR_NAME] == NULL)
		return -1;
	if (strcmp(mnl_attr_get_str(tb[NFTA_EXPR_NAME]), "counter") != 0)
		return 0;
	if (tb[NFTA_EXPR_DATA] == NULL || figures(tb[NFTA_EXPR_DATA], k) < 0)
		return -1;
	*seen = true;
	return 0;
}

/* A list of expressions (NFTA_LIST_ELEM each): as expr_figures. */
static int
list_figures(const struct nlattr *list, struct counter *k, bool *seen)
{
	const struct nlattr *e;

	mnl_attr_for_each_nested(e, list)
		if (mnl_attr_get_type(e) != NFTA_LIST_ELEM ||
		    mnl_attr_validate(e, MNL_TYPE_NESTED) < 0 ||
		    expr_figures(e, k, seen) < 0)
			return -1;
	return 0;
}

/* The rule whose counter a comment "rule ID" (in libnftnl's user data:
 * type, length, value TLVs) says, into k: true, else false. */
static bool
commented_rule(const struct nlattr *udata, struct counter *k)
{
	const unsigned char *p, *end;
	int number;

	if (udata == NULL)
		return false;
	p = mnl_attr_get_payload(udata);
	end = p + mnl_attr_get_payload_len(udata);
	while (end - p >= 2 && p[1] <= end - p - 2) {
		const char *s = (const char *)p + 2;
		size_t len = p[1], r;

		if (p[0] == UDATA_COMMENT && len > 5 && s[len - 1] == '\0' &&
		    strncmp(s, "rule ", 5) == 0 &&
		    (r = nftc_rule_ref(s + 5, &k->id, &number)) > 0 &&
		    s[5 + r] == '\0' && k->id != 0) {
			k->what = NFTC_COUNTS_RULE;
			snprintf(k->name, sizeof(k->name), "rule_" NFTC_ID,
			    (unsigned long long)k->id);
			return true;
		}
		p += 2 + len;
	}
	return false;
}

static int
push(struct acc *a, const struct counter *k)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct counter *nv = realloc(a->v, cap * sizeof(*nv));

		if (nv == NULL) {
			a->full = true;
			return -1;
		}
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = *k;
	return 0;
}

static bool
ours(const struct nlmsghdr *nlh, const struct nlattr *table)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	return table != NULL && nfg->nfgen_family == NFPROTO_INET &&
	    strcmp(mnl_attr_get_str(table), NFTC_TABLE) == 0;
}

/* NFT_MSG_NEWOBJ: a counter object of our table. */
static int
on_obj(struct acc *a, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_OBJ_MAX + 1] = { NULL };
	struct counter k;

	if (parse_msg(nlh, (struct attrs)ATTRS(NFTA_OBJ_MAX, obj_rules,
	    tb)) < 0)
		return -1;
	/* Every object the kernel sends has its table, name and type. */
	if (tb[NFTA_OBJ_TABLE] == NULL || tb[NFTA_OBJ_NAME] == NULL ||
	    tb[NFTA_OBJ_TYPE] == NULL)
		return -1;
	if (!ours(nlh, tb[NFTA_OBJ_TABLE]) ||
	    ntohl(mnl_attr_get_u32(tb[NFTA_OBJ_TYPE])) != NFT_OBJECT_COUNTER)
		return 0;
	memset(&k, 0, sizeof(k));
	if (tb[NFTA_OBJ_DATA] == NULL || figures(tb[NFTA_OBJ_DATA], &k) < 0)
		return -1;
	snprintf(k.name, sizeof(k.name), "%s",
	    mnl_attr_get_str(tb[NFTA_OBJ_NAME]));
	k.what = nftc_counter_meaning(k.name, &k.number, &k.id);
	return push(a, &k);
}

/* NFT_MSG_NEWRULE: a rule of our table that counts for a rule. */
static int
on_rule(struct acc *a, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_RULE_MAX + 1] = { NULL };
	struct counter k;
	bool seen = false;

	if (parse_msg(nlh, (struct attrs)ATTRS(NFTA_RULE_MAX, rule_rules,
	    tb)) < 0 || tb[NFTA_RULE_TABLE] == NULL)
		return -1;
	memset(&k, 0, sizeof(k));
	if (!ours(nlh, tb[NFTA_RULE_TABLE]) ||
	    !commented_rule(tb[NFTA_RULE_USERDATA], &k) ||
	    tb[NFTA_RULE_EXPRESSIONS] == NULL)
		return 0;
	if (list_figures(tb[NFTA_RULE_EXPRESSIONS], &k, &seen) < 0)
		return -1;
	return seen ? push(a, &k) : 0;
}

/* name added to the list *v of *n: 0, or -1 when memory ran out. */
static int
note(struct acc *a, char ***v, size_t *n, const char *name)
{
	char **nv, *copy;

	if ((copy = strdup(name)) == NULL ||
	    (nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		free(copy);
		a->full = true;
		return -1;
	}
	*v = nv;
	(*v)[(*n)++] = copy;
	return 0;
}

/* NFT_MSG_NEWCHAIN: a chain of our table, whose rules to read. */
static int
on_chain(struct acc *a, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_CHAIN_MAX + 1] = { NULL };

	if (parse_msg(nlh, (struct attrs)ATTRS(NFTA_CHAIN_MAX, chain_rules,
	    tb)) < 0 || tb[NFTA_CHAIN_TABLE] == NULL ||
	    tb[NFTA_CHAIN_NAME] == NULL)
		return -1;
	if (!ours(nlh, tb[NFTA_CHAIN_TABLE]) || a->named)
		return 0;
	return note(a, &a->chains, &a->nchains,
	    mnl_attr_get_str(tb[NFTA_CHAIN_NAME]));
}

/* NFT_MSG_NEWSET: a set of our table whose elements count is noted. */
static int
on_set(struct acc *a, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1] = { NULL };

	if (parse_msg(nlh, (struct attrs)ATTRS(NFTA_SET_MAX, set_rules,
	    tb)) < 0 || tb[NFTA_SET_TABLE] == NULL || tb[NFTA_SET_NAME] == NULL)
		return -1;
	if (!ours(nlh, tb[NFTA_SET_TABLE]) || a->named ||
	    (tb[NFTA_SET_EXPR] == NULL &&
	    tb[NFTA_SET_EXPRESSIONS] == NULL) || a->nsets == COUNTING_MAX)
		return 0;
	return note(a, &a->sets, &a->nsets,
	    mnl_attr_get_str(tb[NFTA_SET_NAME]));
}

/* NFT_MSG_NEWSETELEM: the elements of a set of our table, each with a
 * counter and a comment "rule ID" counting for that rule. */
static int
on_elems(struct acc *a, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1] = { NULL };
	const struct nlattr *e;

	if (parse_msg(nlh, (struct attrs)ATTRS(NFTA_SET_ELEM_LIST_MAX,
	    elems_rules, tb)) < 0 || tb[NFTA_SET_ELEM_LIST_TABLE] == NULL)
		return -1;
	if (!ours(nlh, tb[NFTA_SET_ELEM_LIST_TABLE]) ||
	    tb[NFTA_SET_ELEM_LIST_ELEMENTS] == NULL)
		return 0;
	mnl_attr_for_each_nested(e, tb[NFTA_SET_ELEM_LIST_ELEMENTS]) {
		const struct nlattr *eb[NFTA_SET_ELEM_MAX + 1] = { NULL };
		struct counter k;
		bool seen = false;

		if (mnl_attr_get_type(e) != NFTA_LIST_ELEM ||
		    parse_nest(e, (struct attrs)ATTRS(NFTA_SET_ELEM_MAX,
		    elem_rules, eb)) < 0)
			return -1;
		memset(&k, 0, sizeof(k));
		if (!commented_rule(eb[NFTA_SET_ELEM_USERDATA], &k))
			continue;
		if ((eb[NFTA_SET_ELEM_EXPR] != NULL &&
		    expr_figures(eb[NFTA_SET_ELEM_EXPR], &k, &seen) < 0) ||
		    (eb[NFTA_SET_ELEM_EXPRESSIONS] != NULL &&
		    list_figures(eb[NFTA_SET_ELEM_EXPRESSIONS], &k, &seen) < 0))
			return -1;
		if (seen && push(a, &k) < 0)
			return -1;
	}
	return 0;
}

static int
on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct acc *a = data;
	int r;

	/* The kernel's messages are whole and aligned; libmnl reads up to
	 * the alignment, so a length that is not is not trusted. */
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)) ||
	    nlh->nlmsg_len % MNL_ALIGNTO != 0) {
		a->bad = true;
		return MNL_CB_ERROR;
	}
	switch (nlh->nlmsg_type) {
	case (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ:
		r = on_obj(a, nlh);
		break;
	case (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE:
		r = on_rule(a, nlh);
		break;
	case (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN:
		r = on_chain(a, nlh);
		break;
	case (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSET:
		r = on_set(a, nlh);
		break;
	case (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM:
		r = on_elems(a, nlh);
		break;
	default:
		return MNL_CB_OK;
	}
	if (r < 0) {
		a->bad |= !a->full;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* Order: by rule id, then where each came. */
static int
by_rule(const void *x, const void *y)
{
	const struct counter *const *a = x, *const *b = y;

	if ((*a)->id != (*b)->id)
		return (*a)->id < (*b)->id ? -1 : 1;
	return *a < *b ? -1 : *a > *b;
}

/* One counter per rule: the figures of each rule's kernel rules and map
 * elements (and of a counter object a ruleset compiled before named
 * rule_ID) added up at the first of them, in the order they came. */
static int
merge(struct acc *a)
{
	struct counter **p;
	size_t i, j, m = 0;

	if ((p = malloc((a->n + 1) * sizeof(*p))) == NULL) {
		a->full = true;
		return -1;
	}
	for (i = 0; i < a->n; i++)
		if (a->v[i].what == NFTC_COUNTS_RULE && a->v[i].id != 0)
			p[m++] = &a->v[i];
	qsort(p, m, sizeof(*p), by_rule);
	for (i = 0; i < m; i = j)
		for (j = i + 1; j < m && p[j]->id == p[i]->id; j++) {
			p[i]->packets += p[j]->packets;
			p[i]->bytes += p[j]->bytes;
			p[j]->id = 0;
			p[j]->what = NFTC_COUNTS_OTHER;
			p[j]->name[0] = '\0';
		}
	free(p);
	for (i = j = 0; i < a->n; i++)
		if (a->v[i].name[0] != '\0')
			a->v[j++] = a->v[i];
	a->n = j;
	return 0;
}

static void
drop_names(char ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static int
finish(struct acc *a, int rc, struct counter **v, size_t *n,
    struct strbuf *err, const char *why)
{
	drop_names(&a->sets, &a->nsets);
	drop_names(&a->chains, &a->nchains);
	if (rc == 0 && merge(a) < 0)
		rc = -1;
	if (rc == -1) {
		strbuf_printf(err, "the kernel's counters: %s", a->full ?
		    "out of memory" : a->bad ? "a malformed answer" : why);
		free(a->v);
		*v = NULL;
		*n = 0;
		return -1;
	}
	*v = a->v;
	*n = a->n;
	return 0;
}

int
counters_parse(const void *buf, size_t len, struct counter **v, size_t *n,
    struct strbuf *err)
{
	struct acc a;
	int r;

	memset(&a, 0, sizeof(a));
	r = mnl_cb_run(buf, len, 0, 0, on_msg, &a);
	return finish(&a, r == MNL_CB_ERROR || a.bad || a.full ? -1 : 0, v, n,
	    err, r == MNL_CB_ERROR ? strerror(errno) : "");
}

/* One dump of table inet moat (of set, for elements; of the chain set,
 * for rules) into a: 0; 1 when there is no such table, chain or set; -1
 * with errno. */
static int
dump(struct mnl_socket *nl, struct acc *a, int type, const char *set)
{
	char buf[32768];	/* a dump's batch of answers */
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL), portid;
	int r = MNL_CB_OK;
	ssize_t got;

	portid = mnl_socket_get_portid(nl);
	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, (uint8_t)type,
	    NLM_F_DUMP, NFPROTO_INET, 0, seq);
	/* The kernel filters the dumps by table (and kind, set). */
	switch (type) {
	case NFT_MSG_GETOBJ:
		mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, NFTC_TABLE);
		mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
		break;
	case NFT_MSG_GETCHAIN:
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, NFTC_TABLE);
		break;
	case NFT_MSG_GETRULE:
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, NFTC_TABLE);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, set);
		break;
	case NFT_MSG_GETSET:
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, NFTC_TABLE);
		break;
	default:
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFTC_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
		break;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((got = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)got, seq, portid, on_msg, a);
		if (r <= MNL_CB_STOP)
			break;
	}
	if (got >= 0 && r == MNL_CB_STOP)
		return 0;
	if (got >= 0 && r == MNL_CB_ERROR && errno == ENOENT && !a->bad &&
	    !a->full) {
		errno = 0;
		return 1;
	}
	return -1;
}

/* The dumps once the table's chains and sets are known: the rules of each
 * chain, then the elements of each set that counts; jobs [from, to) of
 * that list, into a (names: the acc that holds the lists).  0, or -1 with
 * errno. */
static int
dump_jobs(struct mnl_socket *nl, struct acc *a, const struct acc *names,
    size_t from, size_t to, long long t0, atomic_bool *stop)
{
	size_t i;
	int r;

	for (i = from; i < to; i++) {
		if (atomic_load(stop))
			return 0;	/* the other half failed: said there */
		if (clock_ms() - t0 > READ_MAX_MS) {
			errno = ETIMEDOUT;
			atomic_store(stop, true);
			return -1;
		}
		/* A chain or set gone since (an apply meanwhile) has
		 * nothing to count. */
		r = i < names->nchains ? dump(nl, a, NFT_MSG_GETRULE,
		    names->chains[i]) : dump(nl, a, NFT_MSG_GETSETELEM,
		    names->sets[i - names->nchains]);
		if (r == -1) {
			atomic_store(stop, true);
			return -1;
		}
	}
	return 0;
}

/*
 * A dump is a round trip (about 20 µs here), and there is one a chain:
 * 28,000 of them for the 100K-rule policy.  The kernel answers a dump in
 * the reader's own system calls, so a second reader on an idle core, with
 * a socket of its own, takes the second half of the list.  Its counters
 * are then put after the first half's, in the order one reader would
 * have had them.  When either half fails, the other stops at its next
 * dump.
 */
#define SPLIT_FROM	512	/* dumps; fewer are not worth a thread */

/* Test builds take MOAT_COUNTERS_SPLIT_FROM instead (the lab's tables are
 * small), and say on standard error that the dumps were split. */
static size_t
split_from(void)
{
#ifdef MOAT_TEST_SEAMS
	if (getenv("MOAT_COUNTERS_SPLIT_FROM") != NULL)
		return (size_t)atoi(getenv("MOAT_COUNTERS_SPLIT_FROM"));
#endif
	return SPLIT_FROM;
}

struct half {
	struct mnl_socket	*nl;
	const struct acc	*names;
	struct acc		 a;
	size_t			 from, to;
	long long		 t0;
	atomic_bool		*stop;
	int			 rc, err;
};

static void *
half_run(void *arg)
{
	struct half *h = arg;

	h->rc = dump_jobs(h->nl, &h->a, h->names, h->from, h->to, h->t0,
	    h->stop);
	h->err = errno;
	return NULL;
}

/* h's counters after a's; its failure is a's.  0, or -1 with errno. */
static int
take_half(struct acc *a, struct half *h)
{
	size_t i;
	int rc = h->rc;

	a->bad |= h->a.bad;
	a->full |= h->a.full;
	for (i = 0; rc == 0 && i < h->a.n; i++)
		if (push(a, &h->a.v[i]) == -1)
			rc = -1;
	if (h->rc == -1)
		errno = h->err;
	else if (rc == -1)
		errno = ENOMEM;
	return rc;
}

int
counters_read(struct counter **v, size_t *n, struct strbuf *err)
{
	struct acc a;
	struct half h;
	struct mnl_socket *nl;
	pthread_t tid;
	atomic_bool stop;
	bool started = false;
	long long t0 = clock_ms();
	size_t jobs, mine;
	int rc = -1, r;

	memset(&a, 0, sizeof(a));
	memset(&h, 0, sizeof(h));
	atomic_init(&stop, false);
	*v = NULL;
	*n = 0;
	if ((nl = nfnl_open()) == NULL)
		return finish(&a, -1, v, n, err, strerror(errno));
	if ((r = dump(nl, &a, NFT_MSG_GETOBJ, NULL)) == 1) {
		rc = 0;		/* no table: no counters */
		goto out;
	}
	/* The rules a chain at a time: the kernel resumes a dump by
	 * skipping from the start of what it dumps, so one dump of the
	 * table's 60,000 rules (100K-rule policy) took 2.5 s, a chain's
	 * (1,024 rules at most, nftc.c) is short. */
	if (r == -1 || dump(nl, &a, NFT_MSG_GETCHAIN, NULL) == -1 ||
	    dump(nl, &a, NFT_MSG_GETSET, NULL) == -1)
		goto out;
	a.named = true;
	jobs = mine = a.nchains + a.nsets;
	if (jobs >= split_from() && jobs >= 2 && cores_idle() > 0 &&
	    (h.nl = nfnl_open()) != NULL) {
		mine = jobs / 2;
		h.names = &a;
		h.a.named = true;
		h.from = mine;
		h.to = jobs;
		h.t0 = t0;
		h.stop = &stop;
		started = pthread_create(&tid, NULL, half_run, &h) == 0;
		if (!started)
			mine = jobs;
	}
	r = dump_jobs(nl, &a, &a, 0, mine, t0, &stop);
	if (started) {
		int saved = errno;

		pthread_join(tid, NULL);
		errno = saved;
		if (r == 0)
			r = take_half(&a, &h);
#ifdef MOAT_TEST_SEAMS
		if (getenv("MOAT_COUNTERS_SPLIT_FROM") != NULL)
			fprintf(stderr, "moat: counters: %zu dumps, %zu by a "
			    "second reader\n", jobs, jobs - mine);
#endif
	}
	if (r == 0)
		rc = 0;
	{
		int saved = errno;

		free(h.a.v);
		if (h.nl != NULL)
			mnl_socket_close(h.nl);
		errno = saved;
	}
out:
	{
		int saved = errno;

		mnl_socket_close(nl);
		errno = saved;
	}
	return finish(&a, rc, v, n, err, strerror(errno));
}

/* An entry's counters by number (those the config has not last), then
 * by id, a forward's translation before its accept. */
static int
by_number(const void *x, const void *y)
{
	const struct counter *a = x, *b = y;
	unsigned na = (unsigned)a->number - 1, nb = (unsigned)b->number - 1;

	if (na != nb)
		return na < nb ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return (int)a->what - (int)b->what;
}

/* Where a kind of counter goes in counters_sort: 0 where the kernel has
 * it, then the forwards, nat source rules, one-to-one lines and rules. */
static int
rank(enum nftc_counted what)
{
	switch (what) {
	case NFTC_COUNTS_FORWARD:
	case NFTC_COUNTS_FORWARD_ACCEPT:
		return 1;
	case NFTC_COUNTS_NAT_SOURCE:
		return 2;
	case NFTC_COUNTS_ONE_TO_ONE:
		return 3;
	case NFTC_COUNTS_RULE:
		return 4;
	default:
		return 0;
	}
}

void
counters_number(struct counter *v, size_t n, const struct policy *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].id != 0)
			v[i].number = nftc_entry_number(p, v[i].what, v[i].id,
			    0);
}

void
counters_sort(struct counter *v, size_t n)
{
	struct counter *t;
	size_t i, k = 0, from;
	int r;

	if (n == 0 || (t = malloc((n + 1) * sizeof(*t))) == NULL)
		return;
	for (r = 0; r <= 4; r++) {
		from = k;
		for (i = 0; i < n; i++)
			if (rank(v[i].what) == r)
				t[k++] = v[i];
		if (r > 0)
			qsort(t + from, k - from, sizeof(*t), by_number);
	}
	memcpy(v, t, n * sizeof(*t));
	free(t);
}

static int
by_packets_down(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

void
counters_busiest(struct counter *v, size_t *n, size_t max)
{
	uint64_t *pk, cut;
	size_t i, k, above = 0, at_cut;

	if (max == 0 || *n <= max || (pk = malloc(*n * sizeof(*pk))) == NULL)
		return;
	for (i = 0; i < *n; i++)
		pk[i] = v[i].packets;
	qsort(pk, *n, sizeof(*pk), by_packets_down);
	cut = pk[max - 1];
	free(pk);
	for (i = 0; i < *n; i++)
		above += v[i].packets > cut;
	at_cut = max - above;
	for (i = 0, k = 0; i < *n; i++)
		if (v[i].packets > cut || (v[i].packets == cut && at_cut > 0)) {
			if (v[i].packets == cut)
				at_cut--;
			v[k++] = v[i];
		}
	*n = k;
}

/* nfhash.c: a table's hash over nf_tables' netlink; see nfhash.h. */
#include "enforce/nfhash.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "enforce/nfgen.h"
#include "enforce/nfnl.h"
#include "enforce/nftc.h"

#define NFHASH_FAMILY	1	/* NFPROTO_INET */
#define SETS_MAX	4096	/* static sets whose elements are read */
#define TRIES		3	/* readings while the generation moves */
/* What hash_of reads. */
#define NFHASH_V1	1	/* one sequence, with the objects' names */
#define NFHASH_V2	2	/* one sequence, without them */
#define NFHASH_V3	3	/* the sum of parts, without the anonymous sets */
#define NFHASH_V4	4	/* the sum of parts, an anonymous set in its
				   rule's chain's part */
#define NFHASH_PARTS	5	/* the sum of some parts (as NFHASH_V4) */
#define NFHASH_DYNAMIC	6	/* the sets of the devices' addresses */
/* Newer kernels (6.x) say how many elements a set holds: not the table's
 * shape.  (linux/netfilter/nf_tables.h of Debian 12 predates it.) */
#define NFTA_SET_COUNT_	20
/* linux/netfilter.h's (whose linux/in.h clashes with netinet/in.h) */
#define HOOK_PREROUTING	0	/* NF_INET_PRE_ROUTING */
#define TRACE_EXPRS	24	/* the most a trace's rule has */
#define POLICY_ACCEPT	1	/* NF_ACCEPT */

/* A list of names, grown by doubling. */
struct names {
	char		**v;
	size_t		 n, cap;
};

struct reading {
	uint64_t	 h;
	/* the sum of parts (nfhash3): each chain's and set's message, each
	 * chain's rules and each set's elements hashed apart, added up */
	bool		 sum;
	uint64_t	 total;
	const char	*table;
	int		 type;		/* the dump's message */
	/* sets to read the elements of */
	struct names	 sets;
	/* chains to read the rules of, in the table's order */
	struct names	 chains;
	int		 found;		/* a message of the table came */
	int		 failed;
	/* the anonymous sets (a rule's own: { 22, 80 }, a vmap of its
	 * own) named by the rules of the chain being read, hashed into the
	 * chain's part after its rules (NFHASH_V4, NFHASH_PARTS) */
	bool		 anon;		/* their contents are hashed */
	struct names	 refs;
	bool		 in_part;	/* one of them being read */
	bool		 ref_anon;	/* it is anonymous (its flags say) */
	/* the chains that may be a running trace's (trace_named and
	 * trace_hook), their messages kept: hashed after all, with their
	 * rules, when one of those is not a trace's (trace_rule) */
	struct nlmsghdr	**traces;
	size_t		 ntraces;
	bool		 whole;		/* the whole table read (read_table) */
	bool		 dyn_only;	/* NFHASH_DYNAMIC */
	bool		 checking;	/* a trace's rules being read */
	bool		 trace_ok;	/* each of them is a trace's */
	unsigned	 trace_rules;	/* how many */
	bool		 forced;	/* a trace's message hashed after all */
};

/* name, copied, at the end of l (r failed when memory ran out). */
static void
names_push(struct reading *r, struct names *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			r->failed = 1;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(name)) == NULL) {
		r->failed = 1;
		return;
	}
	l->n++;
}

static void
names_clear(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static void
names_free(struct names *l)
{
	names_clear(l);
	free(l->v);
}

/* Set name, named by a rule's expression: kept to be read into its
 * chain's part when it may be anonymous (the kernel names those
 * __set%d and __map%d; the flags decide). */
static void
add_ref(struct reading *r, const char *name)
{
	size_t i;

	if (!r->anon || strncmp(name, "__", 2) != 0)
		return;
	for (i = 0; i < r->refs.n; i++)
		if (strcmp(r->refs.v[i], name) == 0)
			return;
	names_push(r, &r->refs, name);
}

/* The set an expression of kind name looks up (lookup, dynset, objref's
 * map), into r's refs. */
static void
expr_refs(struct reading *r, const char *name, const struct nlattr *data)
{
	const struct nlattr *x;
	uint16_t want;

	if (strcmp(name, "lookup") == 0)
		want = NFTA_LOOKUP_SET;
	else if (strcmp(name, "dynset") == 0)
		want = NFTA_DYNSET_SET_NAME;
	else if (strcmp(name, "objref") == 0)
		want = NFTA_OBJREF_SET_NAME;
	else
		return;
	mnl_attr_for_each_nested(x, data)
		if (mnl_attr_get_type(x) == want &&
		    mnl_attr_validate(x, MNL_TYPE_NUL_STRING) == 0)
			add_ref(r, mnl_attr_get_str(x));
}

static void
add(struct reading *r, const void *p, size_t n)
{
	r->h = fnv1a_add(r->h, p, n);
}

static void
add_attr(struct reading *r, const struct nlattr *a)
{
	uint16_t t = mnl_attr_get_type(a);

	add(r, &t, sizeof(t));
	add(r, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
}

/* A rule's expressions, without the state some keep (counters). */
static void
add_exprs(struct reading *r, const struct nlattr *list)
{
	const struct nlattr *e, *x;

	mnl_attr_for_each_nested(e, list) {
		const char *name = NULL;

		mnl_attr_for_each_nested(x, e)
			if (mnl_attr_get_type(x) == NFTA_EXPR_NAME)
				name = mnl_attr_get_str(x);
		mnl_attr_for_each_nested(x, e) {
			if (mnl_attr_get_type(x) == NFTA_EXPR_DATA &&
			    name != NULL)
				expr_refs(r, name, x);
			if (mnl_attr_get_type(x) == NFTA_EXPR_DATA &&
			    name != NULL && (strcmp(name, "counter") == 0 ||
			    strcmp(name, "quota") == 0 ||
			    strcmp(name, "last") == 0 ||
			    strcmp(name, "connlimit") == 0))
				continue;
			add_attr(r, x);
		}
	}
}

/* A set's elements, without the state their expressions keep (the
 * counters of a dispatch map's elements).  Elements without any are
 * hashed as they always were, so that the hashes recorded before are
 * still the same. */
static void
add_elems(struct reading *r, const struct nlattr *list)
{
	const struct nlattr *e, *x;
	uint16_t t = mnl_attr_get_type(list);
	bool exprs = false;

	mnl_attr_for_each_nested(e, list)
		mnl_attr_for_each_nested(x, e)
			exprs |= mnl_attr_get_type(x) == NFTA_SET_ELEM_EXPR ||
			    mnl_attr_get_type(x) == NFTA_SET_ELEM_EXPRESSIONS;
	if (!exprs) {
		add_attr(r, list);
		return;
	}
	add(r, &t, sizeof(t));
	mnl_attr_for_each_nested(e, list) {
		t = mnl_attr_get_type(e);
		add(r, &t, sizeof(t));
		mnl_attr_for_each_nested(x, e)
			if (mnl_attr_get_type(x) != NFTA_SET_ELEM_EXPR &&
			    mnl_attr_get_type(x) != NFTA_SET_ELEM_EXPRESSIONS)
				add_attr(r, x);
	}
}

/* Whether chain is named as the chain of a running `moat trace`
 * (trace_PID, tracecmd.c): a process of that PID called moat.  Anyone
 * with root can start one, so the name alone hides nothing: the chain's
 * hook (trace_hook) and each of its rules (trace_rule) must be what a
 * trace puts there, which marks packets and does nothing else. */
static bool
trace_named(const char *chain)
{
	char file[64], comm[32];
	const char *d;
	ssize_t n;
	int fd;

	if (chain == NULL || strncmp(chain, "trace_", 6) != 0 ||
	    chain[6] == '\0' || strlen(chain) > 16)
		return false;
	for (d = chain + 6; *d != '\0'; d++)
		if (*d < '0' || *d > '9')
			return false;
	snprintf(file, sizeof(file), "/proc/%s/comm", chain + 6);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return strcmp(comm, "moat\n") == 0;
}

/* A trace's base chain (GETCHAIN message nlh): type filter, hook
 * prerouting at priority -350 on no device, policy accept. */
static bool
trace_hook(const struct nlmsghdr *nlh)
{
	const struct nlattr *a, *h;
	bool hook = false, prio = false, policy = false, filter = false;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_CHAIN_HOOK:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) == -1)
				return false;
			mnl_attr_for_each_nested(h, a) {
				uint16_t t = mnl_attr_get_type(h);

				if ((t == NFTA_HOOK_HOOKNUM ||
				    t == NFTA_HOOK_PRIORITY) &&
				    mnl_attr_validate(h, MNL_TYPE_U32) == -1)
					return false;
				if (t == NFTA_HOOK_HOOKNUM)
					hook = ntohl(mnl_attr_get_u32(h)) ==
					    HOOK_PREROUTING;
				else if (t == NFTA_HOOK_PRIORITY)
					prio = (int32_t)ntohl(
					    mnl_attr_get_u32(h)) == -350;
				else
					return false;	/* a device */
			}
			break;
		case NFTA_CHAIN_POLICY:
			policy = mnl_attr_validate(a, MNL_TYPE_U32) == 0 &&
			    ntohl(mnl_attr_get_u32(a)) == POLICY_ACCEPT;
			break;
		case NFTA_CHAIN_TYPE:
			filter = mnl_attr_validate(a, MNL_TYPE_NUL_STRING) ==
			    0 && strcmp(mnl_attr_get_str(a), "filter") == 0;
			break;
		}
	}
	return hook && prio && policy && filter;
}

/* The u32 attribute type of expression data x, or def when absent. */
static uint32_t
data_u32(const struct nlattr *x, uint16_t type, uint32_t def)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, x)
		if (mnl_attr_get_type(a) == type)
			return mnl_attr_validate(a, MNL_TYPE_U32) == 0 ?
			    ntohl(mnl_attr_get_u32(a)) : 0xffffffffu;
	return def;
}

/* A rule a trace puts in its chain (GETRULE message nlh): matches
 * (meta, payload and their comparisons) and `meta nftrace set 1`;
 * nothing that gives a verdict, writes to the packet or its metadata
 * other than the trace mark, or looks up a set. */
static bool
trace_rule(const struct nlmsghdr *nlh)
{
	const struct nlattr *a, *e, *x;
	unsigned n = 0;
	uint32_t reg;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS)
			continue;
		mnl_attr_for_each_nested(e, a) {
			const char *name = NULL;
			const struct nlattr *data = NULL;

			/* a trace's rule: an interface, two addresses, a
			 * protocol and a port, then the mark (about 15) */
			if (++n > TRACE_EXPRS)
				return false;

			mnl_attr_for_each_nested(x, e) {
				if (mnl_attr_get_type(x) == NFTA_EXPR_NAME &&
				    mnl_attr_validate(x,
				    MNL_TYPE_NUL_STRING) == 0)
					name = mnl_attr_get_str(x);
				if (mnl_attr_get_type(x) == NFTA_EXPR_DATA)
					data = x;
			}
			if (name == NULL || data == NULL)
				return false;
			if (strcmp(name, "cmp") == 0 ||
			    strcmp(name, "bitwise") == 0 ||
			    strcmp(name, "range") == 0)
				continue;
			if (strcmp(name, "payload") == 0 &&
			    data_u32(data, NFTA_PAYLOAD_SREG, 0) == 0)
				continue;
			if (strcmp(name, "meta") == 0 &&
			    (data_u32(data, NFTA_META_SREG, 0) == 0 ||
			    data_u32(data, NFTA_META_KEY, 0xffffffffu) ==
			    NFT_META_NFTRACE))
				continue;
			/* a value into a data register (the trace mark's 1),
			 * not into the verdict's */
			if (strcmp(name, "immediate") == 0 &&
			    (reg = data_u32(data, NFTA_IMMEDIATE_DREG, 0)) !=
			    NFT_REG_VERDICT && reg != 0xffffffffu)
				continue;
			return false;
		}
	}
	return true;
}

/* Set name, to read the elements of. */
static void
push_set(struct reading *r, const char *name)
{
	/* (the dynamic sets' reading has no cap: one over it would turn
	 * the check off for good) */
	if (r->sets.n == SETS_MAX && !r->dyn_only) {
		r->failed = 1;
		return;
	}
	names_push(r, &r->sets, name);
}

/* One message of a dump: its attributes, some left out. */
static int
on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct reading *r = data;
	const struct nlattr *a;
	const char *table = NULL, *chain = NULL, *name = NULL;
	bool follows = false, anonymous = false, dynamic = false;
	int type = r->type;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (type) {
		case NFT_MSG_GETCHAIN:
			if (mnl_attr_get_type(a) == NFTA_CHAIN_TABLE)
				table = mnl_attr_get_str(a);
			if (mnl_attr_get_type(a) == NFTA_CHAIN_NAME)
				chain = mnl_attr_get_str(a);
			break;
		case NFT_MSG_GETRULE:
			if (mnl_attr_get_type(a) == NFTA_RULE_TABLE)
				table = mnl_attr_get_str(a);
			if (mnl_attr_get_type(a) == NFTA_RULE_CHAIN)
				chain = mnl_attr_get_str(a);
			break;
		case NFT_MSG_GETSET:
			if (mnl_attr_get_type(a) == NFTA_SET_TABLE)
				table = mnl_attr_get_str(a);
			if (mnl_attr_get_type(a) == NFTA_SET_NAME)
				name = mnl_attr_get_str(a);
			if (mnl_attr_get_type(a) == NFTA_SET_USERDATA &&
			    memmem(mnl_attr_get_payload(a),
			    mnl_attr_get_payload_len(a), NFTC_FOLLOWS,
			    sizeof(NFTC_FOLLOWS) - 1) != NULL)
				follows = true;
			if (mnl_attr_get_type(a) == NFTA_SET_USERDATA &&
			    memmem(mnl_attr_get_payload(a),
			    mnl_attr_get_payload_len(a), NFTC_DYNAMIC_COMMENT,
			    sizeof(NFTC_DYNAMIC_COMMENT) - 1) != NULL)
				dynamic = true;
			if (mnl_attr_get_type(a) == NFTA_SET_FLAGS &&
			    mnl_attr_get_payload_len(a) == sizeof(uint32_t) &&
			    (ntohl(mnl_attr_get_u32(a)) & NFT_SET_ANONYMOUS))
				anonymous = true;
			break;
		case NFT_MSG_GETOBJ:
			if (mnl_attr_get_type(a) == NFTA_OBJ_TABLE)
				table = mnl_attr_get_str(a);
			break;
		default:	/* set elements: asked of one set */
			table = r->table;
			break;
		}
	}
	if (table == NULL || strcmp(table, r->table) != 0)
		return MNL_CB_OK;
	r->found = 1;
	/* NFHASH_DYNAMIC: the sets' names, then (below) their elements */
	if (r->dyn_only && type == NFT_MSG_GETSET) {
		if (dynamic && name != NULL)
			push_set(r, name);
		return MNL_CB_OK;
	}
	/* moat trace adds one rule to its chain */
	if (r->checking) {
		if (type == NFT_MSG_GETRULE && (++r->trace_rules > 1 ||
		    !trace_rule(nlh)))
			r->trace_ok = false;
		return MNL_CB_OK;
	}
	if (type == NFT_MSG_GETCHAIN && r->whole && !r->forced &&
	    trace_named(chain) && trace_hook(nlh)) {
		struct nlmsghdr **v = realloc(r->traces, (r->ntraces + 1) *
		    sizeof(*v));

		if (v == NULL || (v[r->ntraces] = malloc(nlh->nlmsg_len)) ==
		    NULL) {
			if (v != NULL)
				r->traces = v;
			r->failed = 1;
			return MNL_CB_OK;
		}
		memcpy(v[r->ntraces], nlh, nlh->nlmsg_len);
		r->traces = v;
		r->ntraces++;
		return MNL_CB_OK;
	}
	/* An anonymous set is its rule's ({ 22, 80 }): the kernel names it
	 * anew each time the rule is added.  The sum reads it into its
	 * chain's part, after the rules (read_refs): a chain's rules added
	 * again change only that chain's part.  (nfhash3 left it out, and
	 * its contents went unseen: one replaced by hand in two steps gets
	 * the old one's name, and its rule stays the same bytes.) */
	if (type == NFT_MSG_GETSET && r->in_part) {
		r->ref_anon = anonymous;
		if (!anonymous)
			return MNL_CB_OK;
	} else if (r->sum && anonymous)
		return MNL_CB_OK;
	if (type == NFT_MSG_GETCHAIN && chain != NULL)
		names_push(r, &r->chains, chain);
	if (r->sum && (type == NFT_MSG_GETCHAIN || type == NFT_MSG_GETSET))
		r->h = FNV1A_INIT;
	add(r, &type, sizeof(type));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		uint16_t t = mnl_attr_get_type(a);

		if ((type == NFT_MSG_GETCHAIN && (t == NFTA_CHAIN_COUNTERS ||
		    t == NFTA_CHAIN_USE)) ||
		    (type == NFT_MSG_GETSET && t == NFTA_SET_COUNT_) ||
		    (type == NFT_MSG_GETOBJ && t != NFTA_OBJ_NAME &&
		    t != NFTA_OBJ_TYPE))
			continue;
		if (type == NFT_MSG_GETRULE && t == NFTA_RULE_EXPRESSIONS)
			add_exprs(r, a);
		else if (type == NFT_MSG_GETSETELEM &&
		    t == NFTA_SET_ELEM_LIST_ELEMENTS)
			add_elems(r, a);
		else
			add_attr(r, a);
	}
	if (r->sum && (type == NFT_MSG_GETCHAIN || type == NFT_MSG_GETSET))
		r->total += r->h;
	if (type == NFT_MSG_GETSET && !follows && name != NULL &&
	    !r->in_part)
		push_set(r, name);
	return MNL_CB_OK;
}

/* One dump of message type (of set set for elements, of chain set for
 * rules) into r; with one, the single chain or set named set instead. */
static int
request(struct mnl_socket *nl, struct reading *r, int type, const char *set,
    bool one)
{
	static char buf[1 << 16];
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL) ^ (unsigned)type << 16,
	    portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int rc;

	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, (uint8_t)type,
	    (one ? 0 : NLM_F_DUMP) | NLM_F_ACK, NFHASH_FAMILY, 0, seq);
	switch (type) {
	case NFT_MSG_GETCHAIN:
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, r->table);
		if (one)
			mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, set);
		break;
	case NFT_MSG_GETRULE:
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, r->table);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, set);
		break;
	case NFT_MSG_GETSET:
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, r->table);
		if (one)
			mnl_attr_put_strz(nlh, NFTA_SET_NAME, set);
		break;
	case NFT_MSG_GETOBJ:
		mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, r->table);
		break;
	case NFT_MSG_GETSETELEM:
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, r->table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
		break;
	}
	r->type = type;
	if (r->sum && !r->checking && (type == NFT_MSG_GETRULE ||
	    type == NFT_MSG_GETSETELEM))
		r->h = FNV1A_INIT;
	if (r->sum && type == NFT_MSG_GETSETELEM)
		add(r, set, strlen(set) + 1);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;

		/* Interrupted by a transaction: read again. */
		if (m->nlmsg_flags & NLM_F_DUMP_INTR) {
			errno = EINTR;
			return -1;
		}
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, on_msg, r);
		if (rc == MNL_CB_ERROR)
			return -1;
		if (rc == MNL_CB_STOP) {
			if (r->sum && !r->checking && (type == NFT_MSG_GETRULE ||
			    type == NFT_MSG_GETSETELEM))
				r->total += r->h;
			return 0;
		}
	}
	return -1;
}

static int
dump(struct mnl_socket *nl, struct reading *r, int type, const char *set)
{
	return request(nl, r, type, set, false);
}

/* The anonymous sets the rules just read named: each one's message and
 * elements, added to the sum where the chain's are (its part). */
static int
read_refs(struct mnl_socket *nl, struct reading *r)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < r->refs.n && rc == 0; i++) {
		r->in_part = true;
		r->ref_anon = false;
		if (request(nl, r, NFT_MSG_GETSET, r->refs.v[i], true) == -1)
			rc = errno == ENOENT ? 0 : -1;
		else if (r->ref_anon && dump(nl, r, NFT_MSG_GETSETELEM,
		    r->refs.v[i]) == -1)
			rc = -1;
		r->in_part = false;
	}
	names_clear(&r->refs);
	return rc;
}

/* The chains that may be a running trace's: each rule read, and a chain
 * with a rule that is not a trace's hashed as any other (its message
 * now, its rules in their turn).  A chain gone meanwhile (the trace
 * ended) is no part of the table. */
static int
read_traces(struct mnl_socket *nl, struct reading *r)
{
	size_t i;

	for (i = 0; i < r->ntraces; i++) {
		const char *chain = NULL;
		const struct nlattr *a;
		int rc;

		mnl_attr_for_each(a, r->traces[i], sizeof(struct nfgenmsg))
			if (mnl_attr_get_type(a) == NFTA_CHAIN_NAME)
				chain = mnl_attr_get_str(a);
		if (chain == NULL)
			return -1;
		r->checking = true;
		r->trace_ok = true;
		r->trace_rules = 0;
		rc = dump(nl, r, NFT_MSG_GETRULE, chain);
		r->checking = false;
		if (rc == -1 && errno != ENOENT)
			return -1;
		if (rc == 0 && !r->trace_ok) {
			r->forced = true;
			r->type = NFT_MSG_GETCHAIN;
			on_msg(r->traces[i], r);
			r->forced = false;
		}
	}
	return r->failed ? -1 : 0;
}

/*
 * The rules are read a chain at a time, in the table's order of chains:
 * the same messages as one dump of the table's rules, so the same hash.
 * The kernel resumes a dump by skipping as many rules as it sent, from
 * the start of the table for a dump of the table, from the start of the
 * chain for a dump of one chain: at 100,000 rules the dump of the table
 * took 9 s of a 17 s apply (quadratic), chain by chain 4 s (objects and interval sets still resume so).
 */
static int
read_table(struct mnl_socket *nl, struct reading *r, bool objects)
{
	size_t i;

	r->whole = true;
	if (dump(nl, r, NFT_MSG_GETCHAIN, NULL) == -1 ||
	    read_traces(nl, r) == -1 ||
	    dump(nl, r, NFT_MSG_GETSET, NULL) == -1)
		return -1;
	for (i = 0; i < r->chains.n; i++)
		if (dump(nl, r, NFT_MSG_GETRULE, r->chains.v[i]) == -1 ||
		    read_refs(nl, r) == -1)
			return -1;
	if (objects && dump(nl, r, NFT_MSG_GETOBJ, NULL) == -1)
		return -1;
	for (i = 0; i < r->sets.n; i++) {
		if (!r->sum)
			add(r, r->sets.v[i], strlen(r->sets.v[i]) + 1);
		if (dump(nl, r, NFT_MSG_GETSETELEM, r->sets.v[i]) == -1)
			return -1;
	}
	return r->failed ? -1 : 0;
}

/* The elements of the sets of the devices' addresses (NFHASH_DYNAMIC),
 * each set's apart, added up. */
static int
read_dynamic(struct mnl_socket *nl, struct reading *r)
{
	size_t i;

	if (dump(nl, r, NFT_MSG_GETSET, NULL) == -1)
		return -1;
	for (i = 0; i < r->sets.n; i++)
		if (dump(nl, r, NFT_MSG_GETSETELEM, r->sets.v[i]) == -1)
			return -1;
	return r->failed ? -1 : 0;
}

/* The parts of the chains and sets named (those that are there) into r;
 * each part's own sum into each[] (chains, then sets; 0 for one that is
 * not there) when each is not NULL. */
static int
read_parts(struct mnl_socket *nl, struct reading *r, char *const *chains,
    size_t nchains, char *const *sets, size_t nsets, uint64_t *each)
{
	size_t i, had;
	uint64_t before;

	for (i = 0; i < nchains; i++) {
		had = r->chains.n;
		before = r->total;
		if (request(nl, r, NFT_MSG_GETCHAIN, chains[i], true) == -1) {
			if (errno != ENOENT)
				return -1;
		} else if (r->chains.n > had &&
		    (dump(nl, r, NFT_MSG_GETRULE, chains[i]) == -1 ||
		    read_refs(nl, r) == -1))
			return -1;
		if (each != NULL)
			each[i] = r->total - before;
	}
	for (i = 0; i < nsets; i++) {
		had = r->sets.n;
		before = r->total;
		if (request(nl, r, NFT_MSG_GETSET, sets[i], true) == -1) {
			if (errno != ENOENT)
				return -1;
		} else if (r->sets.n > had &&
		    dump(nl, r, NFT_MSG_GETSETELEM, sets[i]) == -1)
			return -1;
		if (each != NULL)
			each[nchains + i] = r->total - before;
	}
	return r->failed ? -1 : 0;
}

/* A reading of table name (all of it, or with parts the parts named),
 * its generation the same before and after; see nfhash.h. */
static int
hash_of(const char *name, int kind, char *const *chains, size_t nchains,
    char *const *sets, size_t nsets, uint64_t *each, uint64_t *h,
    uint32_t *gen, size_t *nread, struct strbuf *err)
{
	struct mnl_socket *nl;
	int tries, rc = -1, exists;

	if ((exists = nfgen_table_exists(name)) == 0)
		return 1;
	if (exists == -1) {
		strbuf_printf(err, "netlink: %s", strerror(errno));
		return -1;
	}
	if ((nl = nfnl_open()) == NULL) {
		strbuf_printf(err, "netlink: %s", strerror(errno));
		return -1;
	}
	for (tries = 0; tries < TRIES && rc == -1; tries++) {
		struct reading r = { .h = FNV1A_INIT, .table = name,
		    .sum = kind != NFHASH_V1 && kind != NFHASH_V2,
		    .anon = kind == NFHASH_V4 || kind == NFHASH_PARTS,
		    .dyn_only = kind == NFHASH_DYNAMIC };
		uint32_t g0, g1;
		size_t i;
		int got;

		if (nfgen_read(&g0) == -1)
			break;
		got = kind == NFHASH_PARTS ? read_parts(nl, &r, chains,
		    nchains, sets, nsets, each) : kind == NFHASH_DYNAMIC ?
		    read_dynamic(nl, &r) : read_table(nl, &r,
		    kind == NFHASH_V1);
		if (got == 0 && nfgen_read(&g1) == 0 && g0 == g1) {
			*h = r.sum ? r.total : r.h;
			if (gen != NULL)
				*gen = g0;
			if (nread != NULL)
				*nread = r.sets.n;
			rc = r.found || kind == NFHASH_PARTS ||
			    kind == NFHASH_DYNAMIC ? 0 : 1;
		}
		names_free(&r.sets);
		names_free(&r.chains);
		names_free(&r.refs);
		for (i = 0; i < r.ntraces; i++)
			free(r.traces[i]);
		free(r.traces);
	}
	if (rc == -1)
		strbuf_printf(err, "table inet %s could not be read: %s", name,
		    strerror(errno));
	mnl_socket_close(nl);
	return rc;
}

int
nfhash_table(const char *name, bool objects, uint64_t *h, struct strbuf *err)
{
	return hash_of(name, objects ? NFHASH_V1 : NFHASH_V2, NULL, 0, NULL,
	    0, NULL, h, NULL, NULL, err);
}

int
nfhash_sum(const char *name, uint64_t *h, uint32_t *gen, struct strbuf *err)
{
	return hash_of(name, NFHASH_V4, NULL, 0, NULL, 0, NULL, h, gen, NULL,
	    err);
}

int
nfhash_sum3(const char *name, uint64_t *h, struct strbuf *err)
{
	return hash_of(name, NFHASH_V3, NULL, 0, NULL, 0, NULL, h, NULL, NULL,
	    err);
}

int
nfhash_parts(const char *name, char *const *chains, size_t nchains,
    char *const *sets, size_t nsets, uint64_t *each, uint64_t *h,
    uint32_t *gen, struct strbuf *err)
{
	return hash_of(name, NFHASH_PARTS, chains, nchains, sets, nsets, each,
	    h, gen, NULL, err);
}

int
nfhash_dynamic(const char *name, uint64_t *h, uint32_t *gen, size_t *nsets,
    struct strbuf *err)
{
	return hash_of(name, NFHASH_DYNAMIC, NULL, 0, NULL, 0, NULL, h, gen,
	    nsets, err);
}

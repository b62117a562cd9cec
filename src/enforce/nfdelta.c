/* nfdelta.c: a difference's script over moat's own batch; see nfdelta.h. */
#include "enforce/nfdelta.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "enforce/nfrule.h"
#include "enforce/nftc.h"

#define PFX	"inet " NFTC_TABLE " "

/* An element's key, and whether it has a verdict: a map's must, a set's
 * must not; an "add element" line's set is not declared there, so it may
 * be either (the kernel refuses the wrong one). */
enum key { KEY_ADDR = 0, KEY_ADDR_SET, KEY_ADDR_MAP, KEY_PORT };

/* A unit declared inside "table inet moat { }", read up to its "\t}". */
struct decl {
	enum { D_NONE = 0, D_CHAIN, D_SET, D_MAP, D_COUNTER } kind;
	char		 name[NFT_NAME_MAXLEN];
	uint32_t	 key_type, key_len;	/* nft's datatype and size */
	bool		 interval, counter, verdicts;
	char		 comment[128];
	const char	*elems, *elems_end;	/* inside "elements = { }" */
};

struct reader {
	struct nfset	*b;
	bool		 in_table;	/* inside "table inet moat {" */
	struct decl	 d;		/* the unit being declared in it */
	bool		 elements_only;
	const char	*resume;	/* a line consumed past its end */
	uint32_t	 set_id;	/* the last set declared's */
};

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
	if (n == 0 || n >= NFT_NAME_MAXLEN)
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' &&
		    name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_'))
			return -1;
	*p = s + n;
	return 0;
}

/* A message for chain or set name of type with flags: its table and name
 * attributes written (attr_table, attr_name). */
static struct nlmsghdr *
object_msg(struct reader *r, int type, uint16_t flags, uint16_t attr_table,
    uint16_t attr_name, const char *name, const char *what)
{
	char label[128];
	struct nlmsghdr *nlh;

	snprintf(label, sizeof(label), "%.24s %.100s", what, name);
	if ((nlh = nfset_open(r->b, type, flags, label)) == NULL)
		return NULL;
	mnl_attr_put_strz(nlh, attr_table, NFTC_TABLE);
	mnl_attr_put_strz(nlh, attr_name, name);
	return nlh;
}

/* "add rule inet moat CHAIN RULE" */
static int
add_rule(struct reader *r, const char *p, const char *end)
{
	char chain[NFT_NAME_MAXLEN];
	struct nlmsghdr *nlh;
	int rc;

	if (name_at(&p, end, chain) == -1 || p == end)
		return 1;
	if ((nlh = object_msg(r, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
	    NFTA_RULE_TABLE, NFTA_RULE_CHAIN, chain, "a rule of chain")) ==
	    NULL)
		return -1;
	rc = nfrule_put(nlh, p + 1, (size_t)(end - p - 1));
	nfset_close(r->b);
	return rc;
}

/* "delete rule inet moat CHAIN handle H" */
static int
delete_rule(struct reader *r, const char *p, const char *end)
{
	char chain[NFT_NAME_MAXLEN], num[24], *e;
	struct nlmsghdr *nlh;
	unsigned long long h;
	size_t n;

	if (name_at(&p, end, chain) == -1 ||
	    (p = after(p, end, " handle ")) == NULL ||
	    (n = (size_t)(end - p)) == 0 || n >= sizeof(num) || *p < '0' ||
	    *p > '9')
		return 1;
	memcpy(num, p, n);
	num[n] = '\0';
	h = strtoull(num, &e, 10);
	if (*e != '\0' || h == 0)
		return 1;
	if ((nlh = object_msg(r, NFT_MSG_DELRULE, 0, NFTA_RULE_TABLE,
	    NFTA_RULE_CHAIN, chain, "a rule of chain")) == NULL)
		return -1;
	mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(h));
	nfset_close(r->b);
	return 0;
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

/* One element "KEY [comment "S"] [: VERDICT]" of set name, whose keys are
 * of kind k; its interval's start in *first (the lowest so far kept). */
static int
element(struct reader *r, bool add, const char *name, enum key k,
    const char *p, const char *end, u128 *first)
{
	char text[ADDR_STRLEN * 2 + 8], err[128], hint[64];
	const char *key_end, *q;
	struct addr_lit lit;
	struct nfset_data d;
	bool data = false;
	unsigned plo, phi;
	size_t n;

	memset(&d, 0, sizeof(d));
	for (key_end = p; key_end < end && *key_end != ' '; key_end++)
		;
	if (k == KEY_PORT) {
		if (port_key(p, key_end, &plo, &phi) == -1 || key_end != end)
			return 1;
		if (plo < *first)
			*first = plo;
		return nfset_port_interval(r->b, add, name, plo, phi) == -1 ?
		    -1 : 0;
	}
	n = (size_t)(key_end - p);
	if (n == 0 || n >= sizeof(text))
		return 1;
	memcpy(text, p, n);
	text[n] = '\0';
	if (addr_parse_lit(text, false, &lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1)
		return 1;
	p = key_end;
	if ((q = after(p, end, " comment \"")) != NULL) {
		const char *close = memchr(q, '"', (size_t)(end - q));

		if (close == NULL || (size_t)(close - q) >= sizeof(d.comment))
			return 1;
		memcpy(d.comment, q, (size_t)(close - q));
		p = close + 1;
		data = true;
	}
	if ((q = after(p, end, " : ")) != NULL) {
		if (element_verdict(q, end, &d) == -1)
			return 1;
		p = end;
		data = true;
	} else if (data)
		return 1;	/* a comment without a verdict */
	if (p != end || (data && !add) || (k == KEY_ADDR_SET && data) ||
	    (k == KEY_ADDR_MAP && !data))
		return 1;
	if (data)
		r->elements_only = false;
	if (lit.lo < *first)
		*first = lit.lo;
	return nfset_map_interval(r->b, add, name, lit.family, lit.lo, lit.hi,
	    data ? &d : NULL) == -1 ? -1 : 0;
}

/* The elements between p and end ("E, E,\n\t\t\tE") of set name. */
static int
element_list(struct reader *r, bool add, const char *name, enum key k,
    const char *p, const char *end, u128 *first)
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
		if ((rc = element(r, add, name, k, p, e, first)) != 0)
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

/* "add|delete element inet moat NAME { E, E }" (addresses only: the
 * elements of a port set never change, its name is its content's). */
static int
elements(struct reader *r, bool add, const char *p, const char *end)
{
	char name[NFT_NAME_MAXLEN];
	u128 first = U128_MAX;

	if (name_at(&p, end, name) == -1 || (p = after(p, end, " { ")) ==
	    NULL || end - p < 2 || memcmp(end - 2, " }", 2) != 0 ||
	    p >= end - 2)
		return 1;
	return element_list(r, add, name, KEY_ADDR, p, end - 2, &first);
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
	u128 first = U128_MAX;
	int rc;

	if (d->key_type == 0 || !d->interval || (d->kind == D_MAP) !=
	    d->verdicts || (d->kind == D_MAP && (!d->counter ||
	    d->comment[0] != '\0')) || (d->kind == D_SET && d->counter))
		return 1;
	if ((nlh = object_msg(r, NFT_MSG_NEWSET, NLM_F_CREATE, NFTA_SET_TABLE,
	    NFTA_SET_NAME, d->name, "set")) == NULL)
		return -1;
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_INTERVAL |
	    (d->kind == D_MAP ? NFT_SET_MAP : 0)));
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
	if (d->elems == NULL)
		return 0;
	if ((rc = element_list(r, true, d->name, d->key_type == 13 ?
	    KEY_PORT : d->kind == D_MAP ? KEY_ADDR_MAP : KEY_ADDR_SET,
	    d->elems, d->elems_end, &first)) != 0)
		return rc;
	if (first > (d->key_type == 7 ? V4_BASE : 0))
		return nfset_end_at_zero(r->b, d->name, d->key_len) == -1 ? -1 :
		    0;
	return 0;
}

/* A counter object declared: its figures 0, as libnftables sends it. */
static int
declare_counter(struct reader *r)
{
	struct nlmsghdr *nlh;
	struct nlattr *data;

	if ((nlh = object_msg(r, NFT_MSG_NEWOBJ, NLM_F_CREATE, NFTA_OBJ_TABLE,
	    NFTA_OBJ_NAME, r->d.name, "counter")) == NULL)
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
			    set_line(r, p, end) : 1;	/* a hook, a rule */
		if (d->kind == D_CHAIN) {
			if (object_msg(r, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
			    NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, d->name,
			    "chain") == NULL)
				return -1;
			nfset_close(r->b);
		} else if (d->kind == D_COUNTER)
			rc = declare_counter(r);
		else
			rc = declare_set(r);
		memset(d, 0, sizeof(*d));
		return rc;
	}
	if (end - p == 1 && *p == '}') {
		r->in_table = false;
		return 0;
	}
	if ((q = after(p, end, "\tchain ")) != NULL)
		d->kind = D_CHAIN;
	else if ((q = after(p, end, "\tset ")) != NULL)
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
	const char	*what;
} drop[] = {
	{ "flush chain " PFX, NFT_MSG_DELRULE, NFTA_RULE_TABLE,
	  NFTA_RULE_CHAIN, "the rules of chain" },
	{ "delete chain " PFX, NFT_MSG_DELCHAIN, NFTA_CHAIN_TABLE,
	  NFTA_CHAIN_NAME, "chain" },
	{ "delete set " PFX, NFT_MSG_DELSET, NFTA_SET_TABLE, NFTA_SET_NAME,
	  "set" },
	{ "delete map " PFX, NFT_MSG_DELSET, NFTA_SET_TABLE, NFTA_SET_NAME,
	  "map" },
	{ "delete counter " PFX, NFT_MSG_DELOBJ, NFTA_OBJ_TABLE,
	  NFTA_OBJ_NAME, "counter" },
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
		return elements(r, true, p, end);
	if ((p = after(s, end, "delete element " PFX)) != NULL)
		return elements(r, false, p, end);
	r->elements_only = false;
	if (end - s == (long)strlen("table " PFX "{") &&
	    after(s, end, "table " PFX "{") != NULL) {
		r->in_table = true;
		return 0;
	}
	if ((p = after(s, end, "add rule " PFX)) != NULL)
		return add_rule(r, p, end);
	if ((p = after(s, end, "delete rule " PFX)) != NULL)
		return delete_rule(r, p, end);
	for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		if ((p = after(s, end, drop[i].cmd)) == NULL)
			continue;
		if (name_at(&p, end, name) == -1 || p != end)
			return 1;
		if ((nlh = object_msg(r, drop[i].type, 0, drop[i].attr_table,
		    drop[i].attr_name, name, drop[i].what)) == NULL)
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
nfdelta_script(struct nfset *b, const char *s, bool *elements_only,
    const char **refused)
{
	struct reader r;
	const char *l, *nl;
	int rc;

	memset(&r, 0, sizeof(r));
	r.b = b;
	r.elements_only = true;
	nfset_reset(b);
	for (l = s; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			nl = l + strlen(l);
		r.resume = NULL;
		if (nl > l && (rc = line(&r, l, nl)) != 0) {
			nfset_reset(b);
			if (refused != NULL)
				*refused = l;
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

/* nfdelta.c: a difference's script over moat's own batch; see nfdelta.h. */
#include "enforce/nfdelta.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "enforce/nfrule.h"
#include "enforce/nftc.h"

#define PFX	"inet " NFTC_TABLE " "

struct reader {
	struct nfset	*b;
	bool		 in_table;	/* inside "table inet moat {" */
	bool		 in_chain;	/* inside its "chain NAME {" */
	bool		 elements_only;
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
	char label[96];
	struct nlmsghdr *nlh;

	snprintf(label, sizeof(label), "%.24s %.64s", what, name);
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

/* One element "ADDR [comment "S"] [: VERDICT]" of set name. */
static int
element(struct reader *r, bool add, const char *name, const char *p,
    const char *end)
{
	char text[ADDR_STRLEN * 2 + 8], err[128], hint[64];
	const char *key_end, *q;
	struct addr_lit lit;
	struct nfset_data d;
	bool data = false;
	size_t n;

	memset(&d, 0, sizeof(d));
	for (key_end = p; key_end < end && *key_end != ' '; key_end++)
		;
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
	if (p != end || (data && !add))
		return 1;
	if (data)
		r->elements_only = false;
	return nfset_map_interval(r->b, add, name, lit.family, lit.lo, lit.hi,
	    data ? &d : NULL) == -1 ? -1 : 0;
}

/* "add|delete element inet moat NAME { E, E }" */
static int
elements(struct reader *r, bool add, const char *p, const char *end)
{
	char name[NFT_NAME_MAXLEN];
	const char *e;
	int rc;

	if (name_at(&p, end, name) == -1 || (p = after(p, end, " { ")) ==
	    NULL || end - p < 2 || memcmp(end - 2, " }", 2) != 0 ||
	    p >= end - 2)
		return 1;
	end -= 2;
	for (; p < end; p = e + 2) {
		bool quote = false;

		/* The next ", " outside a comment's quotes. */
		for (e = p; e < end; e++) {
			if (*e == '"')
				quote = !quote;
			else if (!quote && *e == ',' && e + 1 < end &&
			    e[1] == ' ')
				break;
		}
		if (quote || e == p)
			return 1;
		if ((rc = element(r, add, name, p, e)) != 0)
			return rc;
		if (e == end)
			break;
	}
	return 0;
}

/* A line inside "table inet moat { }": only hook-less chains declared,
 * empty ("\tchain NAME {", "\t}"). */
static int
table_line(struct reader *r, const char *p, const char *end)
{
	char name[NFT_NAME_MAXLEN];
	const char *q;

	if (r->in_chain) {
		if (end - p != 2 || memcmp(p, "\t}", 2) != 0)
			return 1;	/* a hook, a rule: libnftables' */
		r->in_chain = false;
		return 0;
	}
	if (end - p == 1 && *p == '}') {
		r->in_table = false;
		return 0;
	}
	if ((q = after(p, end, "\tchain ")) == NULL || name_at(&q, end, name) ==
	    -1 || end - q != 2 || memcmp(q, " {", 2) != 0)
		return 1;
	if (object_msg(r, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFTA_CHAIN_TABLE,
	    NFTA_CHAIN_NAME, name, "chain") == NULL)
		return -1;
	nfset_close(r->b);
	r->in_chain = true;
	r->elements_only = false;
	return 0;
}

static int
line(struct reader *r, const char *s, const char *end)
{
	char name[NFT_NAME_MAXLEN];
	const char *p;
	struct nlmsghdr *nlh;

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
	if ((p = after(s, end, "flush chain " PFX)) != NULL) {
		/* Every rule of the chain: a DELRULE without a handle. */
		if (name_at(&p, end, name) == -1 || p != end)
			return 1;
		if (object_msg(r, NFT_MSG_DELRULE, 0, NFTA_RULE_TABLE,
		    NFTA_RULE_CHAIN, name, "the rules of chain") == NULL)
			return -1;
		nfset_close(r->b);
		return 0;
	}
	if ((p = after(s, end, "delete chain " PFX)) != NULL) {
		if (name_at(&p, end, name) == -1 || p != end)
			return 1;
		if (object_msg(r, NFT_MSG_DELCHAIN, 0, NFTA_CHAIN_TABLE,
		    NFTA_CHAIN_NAME, name, "chain") == NULL)
			return -1;
		nfset_close(r->b);
		return 0;
	}
	if ((p = after(s, end, "delete set " PFX)) != NULL ||
	    (p = after(s, end, "delete map " PFX)) != NULL) {
		if (name_at(&p, end, name) == -1 || p != end)
			return 1;
		if (object_msg(r, NFT_MSG_DELSET, 0, NFTA_SET_TABLE,
		    NFTA_SET_NAME, name, "set") == NULL)
			return -1;
		nfset_close(r->b);
		return 0;
	}
	if ((p = after(s, end, "delete counter " PFX)) != NULL) {
		if (name_at(&p, end, name) == -1 || p != end)
			return 1;
		if ((nlh = object_msg(r, NFT_MSG_DELOBJ, 0, NFTA_OBJ_TABLE,
		    NFTA_OBJ_NAME, name, "counter")) == NULL)
			return -1;
		mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
		nfset_close(r->b);
		return 0;
	}
	return 1;
}

int
nfdelta_script(struct nfset *b, const char *s, bool *elements_only,
    const char **refused)
{
	struct reader r = { b, false, false, true };
	const char *l, *nl;
	int rc;

	nfset_reset(b);
	for (l = s; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			nl = l + strlen(l);
		if (nl > l && (rc = line(&r, l, nl)) != 0) {
			nfset_reset(b);
			if (refused != NULL)
				*refused = l;
			return rc;
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

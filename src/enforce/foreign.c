/* foreign.c: the base chains of other tables; see foreign.h.
 *
 * Three kinds of dump: the tables, then every chain of each family that
 * has a table other than moat's (filtered here to base chains), then,
 * for each base chain found, its rules, only counted.  Each answer is waited for at most NFNL_ANSWER_S (nfnl.h), so
 * a kernel that stops answering never holds `moat status` or moatd. */
#include "enforce/foreign.h"

#include <arpa/inet.h>	/* (before the kernel's headers) */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enforce/nfnl.h"
#include "enforce/nftc.h"

#define DUMP_BUF	(1u << 16)

struct found {
	struct foreign_chain	*v;
	size_t			 n, cap;
	bool			 nomem;
};

/* s into buf (of FOREIGN_NAME bytes), each byte that is not printable
 * ASCII made '?': a name is any bytes the kernel took, and it goes to a
 * terminal, JSON and the console. */
static void
take_name(char *buf, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < FOREIGN_NAME && s[i] != '\0'; i++)
		buf[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	buf[i] = '\0';
}

static bool
family_seen(int family)
{
	return family == NFPROTO_IPV4 || family == NFPROTO_IPV6 ||
	    family == NFPROTO_INET || family == NFPROTO_NETDEV;
}

/* The first device of a hook's NFTA_HOOK_DEVS. */
static void
first_dev(const struct nlattr *devs, char *buf)
{
	const struct nlattr *d;

	mnl_attr_for_each_nested(d, devs) {
		if (mnl_attr_validate(d, MNL_TYPE_NUL_STRING) == 0) {
			take_name(buf, mnl_attr_get_str(d));
			return;
		}
	}
}

/* A chain's hook: 0 when it has its number (a base chain). */
static int
read_hook(const struct nlattr *hook, struct foreign_chain *c)
{
	const struct nlattr *a;
	bool have = false;

	mnl_attr_for_each_nested(a, hook) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_HOOK_HOOKNUM:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				c->hook = (int)ntohl(mnl_attr_get_u32(a));
				have = true;
			}
			break;
		case NFTA_HOOK_PRIORITY:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				c->priority = (int32_t)ntohl(
				    mnl_attr_get_u32(a));
			break;
		case NFTA_HOOK_DEV:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
			    c->device[0] == '\0')
				take_name(c->device, mnl_attr_get_str(a));
			break;
		case NFTA_HOOK_DEVS:
			if (c->device[0] == '\0')
				first_dev(a, c->device);
			break;
		}
	}
	return have ? 0 : -1;
}

static int
on_chain(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct found *f = data;
	struct foreign_chain c;
	const struct nlattr *a, *hook = NULL;
	const char *table = NULL, *name = NULL;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
	    !family_seen(g->nfgen_family))
		return MNL_CB_OK;
	memset(&c, 0, sizeof(c));
	c.family = g->nfgen_family;
	c.policy = -1;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_CHAIN_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				table = mnl_attr_get_str(a);
			break;
		case NFTA_CHAIN_NAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				name = mnl_attr_get_str(a);
			break;
		case NFTA_CHAIN_HOOK:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
				hook = a;
			break;
		case NFTA_CHAIN_POLICY:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				c.policy = (int)ntohl(mnl_attr_get_u32(a));
			break;
		case NFTA_CHAIN_TYPE:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(c.type, sizeof(c.type), "%s",
				    mnl_attr_get_str(a));
			break;
		}
	}
	if (table == NULL || name == NULL || hook == NULL ||
	    foreign_is_moat(c.family, table) || read_hook(hook, &c) == -1)
		return MNL_CB_OK;
	/* (kept as the kernel has them, for the rules' dump; printable
	 * copies are made once the rules are counted) */
	snprintf(c.table, sizeof(c.table), "%s", table);
	snprintf(c.chain, sizeof(c.chain), "%s", name);
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 8;
		struct foreign_chain *v = realloc(f->v, cap * sizeof(*v));

		if (v == NULL) {
			f->nomem = true;
			return MNL_CB_ERROR;
		}
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = c;
	return MNL_CB_OK;
}

/* A table of another family than moat's, or of moat's but another name:
 * its family's chains are to be read (bit family of *data). */
static int
on_table(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	uint32_t *families = data;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
	    !family_seen(g->nfgen_family))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*g))
		if (mnl_attr_get_type(a) == NFTA_TABLE_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
		    !foreign_is_moat(g->nfgen_family, mnl_attr_get_str(a)))
			*families |= 1u << g->nfgen_family;
	return MNL_CB_OK;
}

static int
on_rule(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(size_t *)data)++;
	return MNL_CB_OK;
}

/* Send the request at nlh and run cb on each message of its dump: 0, or
 * -1 with errno. */
static int
dump(struct mnl_socket *nl, char *buf, struct nlmsghdr *nlh,
    mnl_cb_t cb, void *data)
{
	unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	ssize_t got;
	int r;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((got = mnl_socket_recvfrom(nl, buf, DUMP_BUF)) > 0) {
		if (((const struct nlmsghdr *)buf)->nlmsg_flags &
		    NLM_F_DUMP_INTR) {
			errno = EINTR;
			return -1;
		}
		r = mnl_cb_run(buf, (size_t)got, seq, portid, cb, data);
		if (r == MNL_CB_ERROR)
			return -1;
		if (r == MNL_CB_STOP)
			return 0;
	}
	return -1;
}

static int
chain_cmp(const void *a, const void *b)
{
	const struct foreign_chain *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->hook != y->hook)
		return x->hook < y->hook ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if ((c = strcmp(x->table, y->table)) != 0)
		return c;
	return strcmp(x->chain, y->chain);
}

int
foreign_read(struct foreign_chain **v, size_t *n, struct strbuf *err)
{
	struct found f = { NULL, 0, 0, false };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL);
	char *buf, name[FOREIGN_NAME];
	uint32_t families = 0;
	size_t i;
	int rc = -1, fam;

	*v = NULL;
	*n = 0;
	if ((buf = malloc(DUMP_BUF)) == NULL) {
		strbuf_puts(err, "out of memory");
		return -1;
	}
	if ((nl = nfnl_open()) == NULL) {
		strbuf_printf(err, "netlink: %s", strerror(errno));
		free(buf);
		return -1;
	}
	/* The tables first: the chains of a family are read only when it
	 * has a table other than moat's (whose tens of thousands of chains
	 * at 100,000 rules are no business of this). */
	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETTABLE,
	    NLM_F_DUMP | NLM_F_ACK, NFPROTO_UNSPEC, 0, seq++);
	if (dump(nl, buf, nlh, on_table, &families) == -1) {
		strbuf_printf(err, "the kernel's tables: %s", strerror(errno));
		goto out;
	}
	for (fam = 0; fam < 32; fam++) {
		if (!(families & 1u << fam))
			continue;
		nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETCHAIN,
		    NLM_F_DUMP | NLM_F_ACK, (uint8_t)fam, 0, seq++);
		if (dump(nl, buf, nlh, on_chain, &f) == -1) {
			strbuf_printf(err, "the kernel's chains: %s", f.nomem ?
			    "out of memory" : strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < f.n; i++) {
		struct foreign_chain *c = &f.v[i];

		nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETRULE,
		    NLM_F_DUMP | NLM_F_ACK, (uint8_t)c->family, 0, seq++);
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, c->table);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, c->chain);
		if (dump(nl, buf, nlh, on_rule, &c->nrules) == -1) {
			/* the table went in between: its chain is gone */
			if (errno == ENOENT) {
				c->hook = -1;
				continue;
			}
			take_name(name, c->chain);
			strbuf_printf(err, "the rules of chain %s: %s", name,
			    strerror(errno));
			goto out;
		}
		take_name(name, c->table);
		memcpy(c->table, name, sizeof(name));
		take_name(name, c->chain);
		memcpy(c->chain, name, sizeof(name));
	}
	/* (the chains gone in between dropped) */
	for (*n = 0, i = 0; i < f.n; i++)
		if (f.v[i].hook != -1)
			f.v[(*n)++] = f.v[i];
	if (*n > 1)
		qsort(f.v, *n, sizeof(*f.v), chain_cmp);
	*v = f.v;
	f.v = NULL;
	rc = 0;
out:
	if (rc == -1)
		*n = 0;
	free(f.v);
	free(buf);
	mnl_socket_close(nl);
	return rc;
}

bool
foreign_is_moat(int family, const char *table)
{
	return family == NFPROTO_INET && strcmp(table, NFTC_TABLE) == 0;
}

const char *
foreign_family(int family, char *buf, size_t len)
{
	switch (family) {
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_INET: return "inet";
	case NFPROTO_NETDEV: return "netdev";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_ARP: return "arp";
	}
	snprintf(buf, len, "family %d", family);
	return buf;
}

const char *
foreign_hook(const struct foreign_chain *c)
{
	static const char *const inet[] = { "prerouting", "input",
	    "forward", "output", "postrouting", "ingress" };
	static const char *const netdev[] = { "ingress", "egress" };

	if (c->family == NFPROTO_NETDEV)
		return c->hook >= 0 && c->hook < 2 ? netdev[c->hook] : "?";
	return c->hook >= 0 && c->hook < 6 ? inet[c->hook] : "?";
}

const char *
foreign_policy(const struct foreign_chain *c)
{
	return c->policy == NF_DROP ? "drop" : c->policy == NF_ACCEPT ?
	    "accept" : NULL;
}

const char *
foreign_effect(const struct foreign_chain *c)
{
	bool drops = c->policy == NF_DROP, rules = c->nrules > 0;

	if (c->family == NFPROTO_NETDEV && (drops || rules))
		return "filters on its device before anything else: what it "
		    "drops never reaches moat";
	if (strcmp(c->type, "nat") == 0 && rules)
		return c->hook == NF_INET_PRE_ROUTING ||
		    c->hook == NF_INET_LOCAL_OUT ? "may rewrite destinations "
		    "before moat's rules see them (moat test does not know "
		    "its rules)" : "may rewrite sources (moat test does not "
		    "know its rules)";
	if (strcmp(c->type, "route") == 0 && rules)
		return "may mark or reroute the gateway's own packets";
	if (drops)
		return "drops what its rules do not accept: what moat accepts "
		    "must pass it too";
	if (rules)
		return "its rules may drop or reject what moat accepts";
	return "";
}

void
foreign_line(const struct foreign_chain *c, struct strbuf *b)
{
	char fam[16];
	const char *effect = foreign_effect(c);

	strbuf_printf(b, "%s %s %s: %s at %s", foreign_family(c->family, fam,
	    sizeof(fam)), c->table, c->chain, c->type[0] ? c->type : "?",
	    foreign_hook(c));
	if (c->device[0] != '\0')
		strbuf_printf(b, " of %s", c->device);
	strbuf_printf(b, ", priority %d", (int)c->priority);
	if (foreign_policy(c) != NULL)
		strbuf_printf(b, ", policy %s", foreign_policy(c));
	strbuf_printf(b, ", %zu rule%s: %s", c->nrules, c->nrules == 1 ? "" :
	    "s", effect[0] != '\0' ? effect : "empty, no effect");
}

bool
foreign_can_drop(const struct foreign_chain *c)
{
	return (c->family == NFPROTO_NETDEV || strcmp(c->type, "filter") ==
	    0) && (c->policy == NF_DROP || c->nrules > 0);
}

#define NOTES_MAX	4

size_t
foreign_notes(struct strbuf *b)
{
	struct foreign_chain *v;
	struct strbuf err;
	size_t n, i, said = 0, more = 0;

	strbuf_init(&err, 0);
	if (foreign_read(&v, &n, &err) == -1) {
		strbuf_free(&err);
		return 0;
	}
	strbuf_free(&err);
	for (i = 0; i < n; i++) {
		if (!foreign_can_drop(&v[i]))
			continue;
		if (said == NOTES_MAX) {
			more++;
			continue;
		}
		strbuf_puts(b, "moat: note: another table filters too: ");
		foreign_line(&v[i], b);
		strbuf_putc(b, '\n');
		said++;
	}
	if (more > 0)
		strbuf_printf(b, "moat: note: and %zu more (moat status lists "
		    "them)\n", more);
	free(v);
	return said;
}

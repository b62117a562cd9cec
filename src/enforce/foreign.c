/* foreign.c: the base chains of other tables; see foreign.h.
 *
 * Three kinds of dump: the tables, then every chain of each family that
 * has a table other than moat's (filtered here to base chains), then,
 * for each base chain found, its rules, only counted.  Every read waits
 * at most until the whole reading's deadline (FOREIGN_MS), so neither a
 * kernel that stops answering nor tables made to be many hold `moat
 * status` or moatd's parent longer. */
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

#include "base/clock.h"
#include "enforce/nfnl.h"
#include "enforce/nftc.h"

#define DUMP_BUF	(1u << 16)
#define FOREIGN_MS	3000	/* the whole reading, at most */

/* A table of the kernel's that is not moat's. */
struct table {
	int		 family;
	char		 name[FOREIGN_NAME];
	bool		 dormant;	/* NFT_TABLE_F_DORMANT: runs nothing */
};

struct found {
	struct table		*t;
	size_t			 nt, capt;
	struct foreign_chain	*v;
	size_t			 n, cap;
	size_t			 more;		/* base chains past FOREIGN_MAX */
	bool			 nomem;
};

void
foreign_printable(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		buf[i] = s[i] > 0x20 && s[i] <= 0x7e && s[i] != ':' ? s[i] :
		    '?';
	if (len > 0)
		buf[i] = '\0';
}

static bool
family_seen(int family)
{
	return family == NFPROTO_IPV4 || family == NFPROTO_IPV6 ||
	    family == NFPROTO_INET || family == NFPROTO_NETDEV ||
	    family == NFPROTO_BRIDGE;
}

/* The first device of a hook's NFTA_HOOK_DEVS. */
static void
first_dev(const struct nlattr *devs, char *buf)
{
	const struct nlattr *d;

	mnl_attr_for_each_nested(d, devs) {
		if (mnl_attr_validate(d, MNL_TYPE_NUL_STRING) == 0) {
			foreign_printable(buf, FOREIGN_NAME, mnl_attr_get_str(d));
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
				foreign_printable(c->device, FOREIGN_NAME,
				    mnl_attr_get_str(a));
			break;
		case NFTA_HOOK_DEVS:
			if (c->device[0] == '\0')
				first_dev(a, c->device);
			break;
		}
	}
	return have ? 0 : -1;
}

/* v (of n elements of size, room for *cap) with room for one more, or
 * NULL (v as it was). */
static void *
room(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c;
	void *p;

	if (n < *cap)
		return v;
	c = *cap ? 2 * *cap : 8;
	if ((p = realloc(v, c * size)) == NULL)
		return NULL;
	*cap = c;
	return p;
}

/* A table that is not moat's, into f->t. */
static int
on_table(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct found *f = data;
	struct table *t;
	const struct nlattr *a;
	const char *name = NULL;
	uint32_t flags = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
	    !family_seen(g->nfgen_family))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) == NFTA_TABLE_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_TABLE_FLAGS &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			flags = ntohl(mnl_attr_get_u32(a));
	}
	if (name == NULL || foreign_is_moat(g->nfgen_family, name))
		return MNL_CB_OK;
	if ((t = room(f->t, f->nt, &f->capt, sizeof(*t))) == NULL) {
		f->nomem = true;
		return MNL_CB_ERROR;
	}
	f->t = t;
	f->t[f->nt].family = g->nfgen_family;
	snprintf(f->t[f->nt].name, FOREIGN_NAME, "%s", name);
	f->t[f->nt].dormant = (flags & NFT_TABLE_F_DORMANT) != 0;
	f->nt++;
	return MNL_CB_OK;
}

/* Whether (family, name) is a table found, and one that runs. */
static bool
table_runs(const struct found *f, int family, const char *name)
{
	size_t i;

	for (i = 0; i < f->nt; i++)
		if (f->t[i].family == family && strcmp(f->t[i].name, name) ==
		    0)
			return !f->t[i].dormant;
	return false;
}

static int
on_chain(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct found *f = data;
	struct foreign_chain c, *v;
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
				foreign_printable(c.type, sizeof(c.type),
				    mnl_attr_get_str(a));
			break;
		}
	}
	if (table == NULL || name == NULL || hook == NULL ||
	    foreign_is_moat(c.family, table) ||
	    !table_runs(f, c.family, table) || read_hook(hook, &c) == -1)
		return MNL_CB_OK;
	if (f->n == FOREIGN_MAX) {
		f->more++;
		return MNL_CB_OK;
	}
	/* (kept as the kernel has them, for the rules' dump; printable
	 * copies are made once the rules are counted) */
	snprintf(c.table, sizeof(c.table), "%s", table);
	snprintf(c.chain, sizeof(c.chain), "%s", name);
	if ((v = room(f->v, f->n, &f->cap, sizeof(*v))) == NULL) {
		f->nomem = true;
		return MNL_CB_ERROR;
	}
	f->v = v;
	f->v[f->n++] = c;
	return MNL_CB_OK;
}

static int
on_rule(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(size_t *)data)++;
	return MNL_CB_OK;
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

/* One dump of a reading: 0, or NFNL_DUMP_CUT, or -1 with what in err. */
static int
dump_of(struct mnl_socket *nl, char *buf, struct nlmsghdr *nlh, mnl_cb_t cb,
    void *data, long long deadline, bool nomem, const char *what,
    struct strbuf *err)
{
	int r = nfnl_dump(nl, buf, DUMP_BUF, nlh, cb, data, deadline),
	    e = errno;

	if (r == -1)
		strbuf_printf(err, "%s: %s", what, nomem ? "out of memory" :
		    strerror(e));
	return r;
}

/* One reading: 0, NFNL_DUMP_CUT (the ruleset changed while it was read), or
 * -1 with err. */
static int
read_once(struct mnl_socket *nl, char *buf, struct found *f,
    long long deadline, struct strbuf *err)
{
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL);
	uint32_t families = 0;
	size_t i;
	int fam, r;

	/* The tables first: the chains of a family are read only when it
	 * has a table other than moat's (whose tens of thousands of chains
	 * at 100,000 rules are no business of this), and a dormant table's
	 * are no chains that run. */
	nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETTABLE,
	    NLM_F_DUMP | NLM_F_ACK, NFPROTO_UNSPEC, 0, seq++);
	if ((r = dump_of(nl, buf, nlh, on_table, f, deadline, f->nomem,
	    "the kernel's tables", err)) != 0)
		return r;
	for (i = 0; i < f->nt; i++)
		if (!f->t[i].dormant)
			families |= 1u << f->t[i].family;
	for (fam = 0; fam < 32; fam++) {
		if (!(families & 1u << fam))
			continue;
		nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETCHAIN,
		    NLM_F_DUMP | NLM_F_ACK, (uint8_t)fam, 0, seq++);
		if ((r = dump_of(nl, buf, nlh, on_chain, f, deadline, f->nomem,
		    "the kernel's chains", err)) != 0)
			return r;
	}
	/* (a chain gone since has no rules to count: it shows none) */
	for (i = 0; i < f->n; i++) {
		struct foreign_chain *c = &f->v[i];

		nlh = nfnl_request(buf, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETRULE,
		    NLM_F_DUMP | NLM_F_ACK, (uint8_t)c->family, 0, seq++);
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, c->table);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, c->chain);
		if ((r = dump_of(nl, buf, nlh, on_rule, &c->nrules, deadline,
		    false, "the rules of a chain", err)) != 0)
			return r;
	}
	return 0;
}

static void
found_clear(struct found *f)
{
	free(f->t);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int
foreign_read(struct foreign_chain **v, size_t *n, size_t *more,
    struct strbuf *err)
{
	struct found f;
	struct mnl_socket *nl;
	long long deadline = clock_ms() + FOREIGN_MS;
	char *buf, name[FOREIGN_NAME];
	size_t i;
	int rc = -1;

	*v = NULL;
	*n = *more = 0;
	memset(&f, 0, sizeof(f));
	if ((buf = malloc(DUMP_BUF)) == NULL) {
		strbuf_puts(err, "out of memory");
		return -1;
	}
	/* A dump the ruleset's change cut (moatd refilling a set, anyone
	 * running nft) is read again while the deadline allows, each time
	 * on a socket of its own: the cut dump's rest may still be on the
	 * last one. */
	for (;;) {
		found_clear(&f);
		strbuf_reset(err);
		if ((nl = nfnl_open()) == NULL) {
			strbuf_printf(err, "netlink: %s", strerror(errno));
			rc = -1;
			break;
		}
		rc = read_once(nl, buf, &f, deadline, err);
		mnl_socket_close(nl);
		if (rc != NFNL_DUMP_CUT || clock_ms() >= deadline)
			break;
	}
	if (rc == NFNL_DUMP_CUT)
		strbuf_puts(err, "the ruleset kept changing while it was read");
	if (rc != 0) {
		rc = -1;
		goto out;
	}
	for (i = 0; i < f.n; i++) {
		foreign_printable(name, sizeof(name), f.v[i].table);
		memcpy(f.v[i].table, name, sizeof(name));
		foreign_printable(name, sizeof(name), f.v[i].chain);
		memcpy(f.v[i].chain, name, sizeof(name));
	}
	if (f.n > 1)
		qsort(f.v, f.n, sizeof(*f.v), chain_cmp);
	*v = f.v;
	*n = f.n;
	*more = f.more;
	f.v = NULL;
out:
	found_clear(&f);
	free(buf);
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

	if (!drops && !rules)
		return "";
	if (c->family == NFPROTO_NETDEV)
		return c->hook == NF_NETDEV_INGRESS ? "filters on its device "
		    "before anything else: what it drops never reaches moat" :
		    "filters on its device after everything else: what it "
		    "drops never leaves, whatever moat accepted";
	if (c->family == NFPROTO_BRIDGE)
		return "filters the frames of a bridge: what it drops, moat's "
		    "accept does not let through";
	if (strcmp(c->type, "nat") == 0)
		return c->hook == NF_INET_PRE_ROUTING ||
		    c->hook == NF_INET_LOCAL_OUT ? "its rules may rewrite "
		    "destinations before moat's rules see them, or drop (moat "
		    "test does not know them)" : "its rules may rewrite "
		    "sources, or drop (moat test does not know them)";
	if (strcmp(c->type, "route") == 0)
		return "its rules may mark, reroute or drop the gateway's own "
		    "packets";
	if (drops)
		return "drops what its rules do not accept: what moat accepts "
		    "must pass it too";
	return "its rules may drop or reject what moat accepts";
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
foreign_before_prerouting(const struct foreign_chain *c, int32_t priority)
{
	switch (c->family) {
	case NFPROTO_NETDEV:
		return c->hook == NF_NETDEV_INGRESS;
	case NFPROTO_BRIDGE:
		/* a frame for the gateway itself goes up to IP after them
		 * (NF_BR_PRE_ROUTING and NF_BR_LOCAL_IN: the bridge's hooks
		 * are numbered as inet's, as foreign_hook says them) */
		return c->hook == NF_INET_PRE_ROUTING ||
		    c->hook == NF_INET_LOCAL_IN;
	case NFPROTO_INET:
		if (c->hook == NF_INET_INGRESS)
			return true;
		/* FALLTHROUGH */
	default:
		/* (of one priority, the chain registered first runs first) */
		return c->hook == NF_INET_PRE_ROUTING && c->priority <= priority;
	}
}

#define NOTES_MAX	4

/* The notes of foreign_notes and foreign_notes_before: lead before each
 * line, of the chains that can change a verdict and, with before, run
 * before a prerouting chain of that priority. */
static size_t
notes(struct strbuf *b, const char *lead, bool before, int32_t priority)
{
	struct foreign_chain *v;
	struct strbuf err;
	size_t n, unread, i, said = 0, more = 0;

	strbuf_init(&err, 0);
	if (foreign_read(&v, &n, &unread, &err) == -1) {
		strbuf_printf(b, "moat: note: the other tables could not be "
		    "read (%s): moat status lists them\n", strbuf_str(&err));
		strbuf_free(&err);
		return 1;
	}
	strbuf_free(&err);
	for (i = 0; i < n; i++) {
		if (foreign_effect(&v[i])[0] == '\0' || (before &&
		    !foreign_before_prerouting(&v[i], priority)))
			continue;
		if (said == NOTES_MAX) {
			more++;
			continue;
		}
		strbuf_puts(b, lead);
		foreign_line(&v[i], b);
		strbuf_putc(b, '\n');
		said++;
	}
	if (more > 0)
		strbuf_printf(b, "moat: note: and %zu more (moat status lists "
		    "them)\n", more);
	if (unread > 0)
		strbuf_printf(b, "moat: note: and %zu more base chains of other "
		    "tables, not read\n", unread);
	free(v);
	return said + (more > 0) + (unread > 0);
}

size_t
foreign_notes(struct strbuf *b)
{
	return notes(b, "moat: note: another table acts on packets too: ",
	    false, 0);
}

size_t
foreign_notes_before(struct strbuf *b, int32_t priority)
{
	return notes(b, "moat: note: another table acts before it and may "
	    "have dropped them: ", true, priority);
}

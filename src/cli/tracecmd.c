/*
 * tracecmd.c: `moat trace`: one connection through the rules, as the
 * kernel saw it.  A chain of our own in table inet moat (trace_PID, the
 * earliest prerouting hook) marks the packets that match with nftrace;
 * the kernel then reports every rule they meet (enforce/nftrace.c), and
 * each is told in moat's words from its comment: the zone, the rule
 * that decided (and its line), a port forward, the SMTP proxy's
 * interception, the masquerade.
 *
 * The marking chain goes at the end, and also if moat trace is killed:
 * a watchdog, detached, removes it when our end of a pipe closes (the
 * same care as apply --confirm's).
 */
#include "cli/tracecmd.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "analyze/flowfmt.h"
#include "base/addr.h"
#include "enforce/apply.h"
#include "enforce/foreign.h"
#include "enforce/nft.h"
#include "enforce/nftc.h"
#include "enforce/nftrace.h"
#include "observe/fwlog.h"
#include "policy/load.h"

/* The marking chain's priority: after defragmentation (-400), so that a
 * fragmented packet's ports are seen, and before conntrack (-200), raw
 * (-300) and every nat. */
#define MARK_PRIORITY	(-350)

struct known_rule {
	uint64_t	 handle;
	char		 chain[64];
	char		 comment[96];
	bool		 established;	/* ct state established,related */
};

struct tracer {
	const struct policy	*p;		/* in force, or NULL */
	const char		*file;
	struct known_rule	*rules;
	size_t			 nrules;
	uint32_t		 current;	/* the trace id of the packet
						   being told, 0: none */
	unsigned		 npackets, count;
	bool			 json;
	long long		 last_event;	/* ms */
	u128			 src;		/* the packet's source: only the
						   first event has its headers */
	bool			 have_src;
	int			 l4proto;	/* --proto's number, -1: none */
	const char		*chain;		/* our marking chain */
	bool			 proto_given;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The rules of table inet moat by handle, with their comments. */
static int
load_rules(struct tracer *T, struct strbuf *err)
{
	struct strbuf out;
	json_t *doc, *items, *it;
	size_t i;

	strbuf_init(&out, 0);
	if (nft_list_json("list table inet " NFTC_TABLE "\n", &out, err) ==
	    -1) {
		strbuf_free(&out);
		return -1;
	}
	doc = json_loads(strbuf_str(&out), 0, NULL);
	strbuf_free(&out);
	items = json_object_get(doc, "nftables");
	free(T->rules);
	T->rules = calloc(json_array_size(items) + 1, sizeof(*T->rules));
	T->nrules = 0;
	json_array_foreach(items, i, it) {
		json_t *r = json_object_get(it, "rule");
		struct known_rule *k;
		const char *s;

		if (r == NULL || T->rules == NULL)
			continue;
		k = &T->rules[T->nrules++];
		k->handle = (uint64_t)json_integer_value(json_object_get(r,
		    "handle"));
		s = json_string_value(json_object_get(r, "chain"));
		snprintf(k->chain, sizeof(k->chain), "%s", s ? s : "");
		s = json_string_value(json_object_get(r, "comment"));
		snprintf(k->comment, sizeof(k->comment), "%s", s ? s : "");
		s = json_dumps(json_object_get(r, "expr"), JSON_COMPACT);
		k->established = s != NULL && strstr(s, "\"ct\"") != NULL &&
		    strstr(s, "established") != NULL;
		free((char *)s);
	}
	json_decref(doc);
	return 0;
}

static const struct known_rule *
rule_by_handle(struct tracer *T, const char *chain, uint64_t handle)
{
	size_t i;

	for (i = 0; i < T->nrules; i++)
		if (T->rules[i].handle == handle &&
		    strcmp(T->rules[i].chain, chain) == 0)
			return &T->rules[i];
	return NULL;
}

static const char *
verdict_word(const struct nftrace_ev *ev)
{
	if (!ev->has_verdict)
		return "";
	switch (ev->verdict) {
	case NF_ACCEPT: return "accept";
	case NF_DROP: return "drop";
	case NF_QUEUE: return "queue";
	case NFT_JUMP: return "jump";
	case NFT_GOTO: return "goto";
	case NFT_RETURN: return "return";
	case NFT_CONTINUE: return "continue";
	default: return "";
	}
}

/* The rule a name or comment refers to from s on (its id, or the number
 * of a ruleset compiled before ids: nftc.h): its number in the config in
 * force into *n (0 when that has no such rule, then *id says which).
 * Whether s starts with a reference. */
static bool
rule_ref(struct tracer *T, const char *s, int *n, uint64_t *id)
{
	int number;

	if (nftc_rule_ref(s, id, &number) == 0)
		return false;
	*n = nftc_rule_number(T->p, *id, number);
	if (*n == 0 && number > 0)
		*n = number;	/* the old form names it itself */
	return true;
}

/* Whether chain is a rule's log chain: log_ID (log_rule_N before ids),
 * and the rule it names. */
static bool
log_chain(struct tracer *T, const char *chain, int *n, uint64_t *id)
{
	const char *s;

	if (strncmp(chain, "log_rule_", 9) == 0)
		s = chain + 9;
	else if (strncmp(chain, "log_", 4) == 0 &&
	    strlen(chain + 4) == NFTC_ID_LEN)
		s = chain + 4;
	else
		return false;
	return rule_ref(T, s, n, id) && s[strspn(s, "0123456789abcdef")] ==
	    '\0';
}

/* "rule 2 (moat.conf:8) deny" for rule 2 of the config in force, with
 * its line; a rule it has not, by its id. */
static void
rule_words(struct tracer *T, int n, uint64_t id, struct strbuf *b)
{
	const char *base;
	const struct rule *r;

	if (n <= 0 || T->p == NULL || (size_t)n > T->p->nrule) {
		if (n > 0)
			strbuf_printf(b, "rule %d", n);
		else
			strbuf_printf(b, "rule " NFTC_ID " (not in the config "
			    "in force)", (unsigned long long)id);
		return;
	}
	r = T->p->rules[n - 1];
	base = strrchr(T->file, '/');
	strbuf_printf(b, "rule %d (%s:%d) %s", n, base ? base + 1 : T->file,
	    r->loc.line, action_name(r->action));
}

/* A kernel rule's comment with the entry it names by id (a forward, a
 * nat source rule, a one-to-one line) told by its number, into buf. */
static void
comment_words(struct tracer *T, const char *comment, char *buf, size_t len)
{
	struct strbuf b;

	strbuf_init(&b, 0);
	nftc_comment_words(T->p, comment, &b);
	snprintf(buf, len, "%s", strbuf_str(&b));
	strbuf_free(&b);
}

/* The packet, the first time one is seen. */
static void
packet_line(struct tracer *T, const struct nftrace_ev *ev)
{
	struct fwlog_rec r;
	char dev[IF_NAMESIZE] = "?";
	const char *zone = NULL;
	struct strbuf b;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (ev->iif != 0)
		if_indextoname(ev->iif, dev);
	for (i = 0; T->p != NULL && i < T->p->niface; i++)
		if (strcmp(T->p->ifaces[i]->device, dev) == 0)
			zone = T->p->ifaces[i]->name;
	strbuf_init(&b, 0);
	if (ev->nh != NULL && fwlog_headers_apart(ev->nh, ev->nhlen, ev->th,
	    ev->thlen, T->l4proto, &r) == 0) {
		snprintf(r.in, sizeof(r.in), "%s", zone ? zone : dev);
		fwlog_packet_text(&r, &b);
		if (r.proto == -1)
			strbuf_puts(&b, T->l4proto == -1 && !T->proto_given ?
			    " (IPv6 extension headers hide it from trace: give "
			    "--proto)" : " (IPv6 extension headers hide it from "
			    "trace: give --proto by number)");
	}
	printf("packet %u (trace %08x): %s\n", T->npackets, ev->id,
	    b.len > 0 ? strbuf_str(&b) : "?");
	strbuf_free(&b);
}

/*
 * The rule a dispatch map decided by itself (nftc.c: a source whose first
 * rule decides all its connections, its element the verdict or a jump to
 * the rule's log chain): the first enabled rule of the zone, in file
 * order, whose source holds the packet's.  0 when not found.
 */
static int	zone_len(const char *);

/* Whether the zone of chain (zone_IDENT...) is interface name's, written
 * as nftc.c writes it (nftc_put_ident). */
static bool
zone_of(const char *chain, const char *name)
{
	struct strbuf b;
	bool same;

	strbuf_init(&b, 0);
	nftc_put_ident(&b, name);
	same = !strbuf_failed(&b) && (size_t)zone_len(chain) == b.len &&
	    strncmp(chain + 5, strbuf_str(&b), b.len) == 0;
	strbuf_free(&b);
	return same;
}

static int
dispatched_rule(struct tracer *T, const struct nftrace_ev *ev)
{
	size_t i;

	if (T->p == NULL || !T->have_src)
		return 0;
	for (i = 0; i < T->p->nrule; i++) {
		const struct rule *r = T->p->rules[i];

		if (!r->disabled && r->iface != NULL &&
		    zone_of(ev->chain, r->iface->name) &&
		    iset_contains(r->src.set, T->src))
			return r->number;
	}
	return 0;
}

/* The source address of the packet the event with headers shows. */
static void
keep_source(struct tracer *T, const struct nftrace_ev *ev)
{
	int k;

	T->have_src = true;
	T->src = 0;
	if (ev->nh != NULL && ev->nfproto == NFPROTO_IPV4 && ev->nhlen >= 20)
		T->src = V4_BASE | (u128)ev->nh[12] << 24 |
		    (u128)ev->nh[13] << 16 | (u128)ev->nh[14] << 8 | ev->nh[15];
	else if (ev->nh != NULL && ev->nfproto == NFPROTO_IPV6 &&
	    ev->nhlen >= 40)
		for (k = 0; k < 16; k++)
			T->src = T->src << 8 | ev->nh[8 + k];
	else
		T->have_src = false;
}

/* Whether s ends with suffix: a word, then 16 hex digits. */
static bool
ends_with_id(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	if (n < w + 16 || strncmp(s + n - 16 - w, word, w) != 0)
		return false;
	for (i = n - 16; i < n; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

/* The length of the zone's name in one of its chains (nftc.c): zone_IF,
 * its pieces zone_IF_pID, segments zone_IF_sID, classes zone_IF_v4_HASH,
 * the pieces of its dispatch map zone_IF_m4_ID. */
static int
zone_len(const char *chain)
{
	size_t n = strlen(chain + 5);

	if (ends_with_id(chain + 5, n, "_p") || ends_with_id(chain + 5, n,
	    "_s"))
		return (int)(n - 18);
	if (ends_with_id(chain + 5, n, "_v4_") || ends_with_id(chain + 5, n,
	    "_v6_") || ends_with_id(chain + 5, n, "_m4_") ||
	    ends_with_id(chain + 5, n, "_m6_"))
		return (int)(n - 20);
	return (int)n;
}

/* A chain's name in moat's words: "zone LAN", "rule 2's log". */
static void
chain_words(struct tracer *T, const char *chain, char *buf, size_t len)
{
	uint64_t id;
	int n;

	if (strncmp(chain, "zone_", 5) == 0)
		snprintf(buf, len, "zone %.*s", zone_len(chain), chain + 5);
	else if (log_chain(T, chain, &n, &id) && n > 0)
		snprintf(buf, len, "rule %d's log", n);
	else if (log_chain(T, chain, &n, &id))
		snprintf(buf, len, "rule " NFTC_ID "'s log",
		    (unsigned long long)id);
	else
		snprintf(buf, len, "%s", chain);
}

/*
 * An event of another table's chain, for the packet being told: a rule
 * there that accepts or drops it, or the chain's policy dropping it
 * (doc/design/other-tables.md).  moat's accept does not let through what
 * another table drops; and its accept in a chain of its own only ends
 * that chain.  The names are the kernel's, made printable (any bytes
 * went into them: foreign_printable).
 */
static void
other_table(struct tracer *T, const struct nftrace_ev *ev)
{
	char fam[16], table[sizeof(ev->table)], chain[sizeof(ev->chain)];

	bool told = ev->has_verdict && (ev->type == NFTRACE_RULE ?
	    ev->verdict == NF_DROP || ev->verdict == NF_ACCEPT :
	    ev->type == NFTRACE_POLICY && ev->verdict == NF_DROP);

	if (T->current == 0 || ev->id != T->current || !told)
		return;
	T->last_event = clock_ms();
	foreign_printable(table, sizeof(table), ev->table);
	foreign_printable(chain, sizeof(chain), ev->chain);
	printf("  table %s %s, chain %s (not moat's): ", foreign_family(
	    ev->family, fam, sizeof(fam)), table, chain);
	if (ev->type == NFTRACE_POLICY)
		printf("the chain's policy: drop: dropped there, whatever moat "
		    "decides\n");
	else if (ev->verdict == NF_DROP)
		printf("rule %llu: drop: dropped there, whatever moat "
		    "decides\n", (unsigned long long)ev->handle);
	else
		printf("rule %llu: accept (that table's chain only)\n",
		    (unsigned long long)ev->handle);
	fflush(stdout);
}

/* One event in moat's words, or nothing (a rule that only marks, a
 * chain's end). */
static void
on_event(void *arg, const struct nftrace_ev *ev)
{
	struct tracer *T = arg;
	const struct known_rule *k;
	const char *v = verdict_word(ev);
	struct strbuf line;
	char where[sizeof(ev->chain) + 32], said[160];
	uint64_t id, lid;
	int n, ln;

	if (!foreign_is_moat(ev->family, ev->table)) {
		other_table(T, ev);
		return;
	}
	/* Our marking rule: a packet begins (the kernel's trace id comes
	 * from the packet's buffer, which a later packet may reuse). */
	if (strncmp(ev->chain, "trace_", 6) == 0) {
		/* (another moat trace's marks are its own: they are not
		 * what this one was asked, and its --proto is not ours) */
		if (strcmp(ev->chain, T->chain) != 0 ||
		    ev->type != NFTRACE_RULE || ev->handle == 0 ||
		    ev->id == T->current)
			return;		/* not the marking rule itself */
		T->current = 0;
		if (T->npackets == T->count)
			return;		/* past --count: not ours to show */
		T->current = ev->id;
		T->npackets++;
		keep_source(T, ev);
		T->last_event = clock_ms();
		packet_line(T, ev);
		return;
	}
	if (T->current == 0 || ev->id != T->current)
		return;
	T->last_event = clock_ms();
	strbuf_init(&line, 0);
	chain_words(T, ev->chain, where, sizeof(where));
	if (ev->type == NFTRACE_POLICY && ev->verdict != NF_ACCEPT) {
		strbuf_printf(&line, "%s: the chain's policy: %s", where, v);
	} else if (ev->type == NFTRACE_RULE) {
		if ((k = rule_by_handle(T, ev->chain, ev->handle)) == NULL) {
			struct strbuf err;

			strbuf_init(&err, 0);
			load_rules(T, &err);	/* the table changed */
			strbuf_free(&err);
			k = rule_by_handle(T, ev->chain, ev->handle);
		}
		if (k != NULL)
			comment_words(T, k->comment, said, sizeof(said));
		if (k != NULL && strncmp(k->comment, "rule ", 5) == 0 &&
		    rule_ref(T, k->comment + 5, &n, &id)) {
			bool in_log = log_chain(T, ev->chain, &ln, &lid);

			if (in_log && ev->verdict == NFT_CONTINUE) {
				strbuf_free(&line);
				return;		/* the log statement */
			}
			if (in_log) {
				strbuf_printf(&line, "%s: logged: %s", where, v);
			} else {
				strbuf_printf(&line, "%s: matches ", where);
				rule_words(T, n, id, &line);
				strbuf_printf(&line, ev->verdict == NFT_JUMP ?
				    "; it logs" : ": %s", v);
			}
		} else if (k != NULL && strcmp(k->comment, NFTC_DISPATCH) == 0 &&
		    (ev->verdict == NF_ACCEPT || ev->verdict == NF_DROP ||
		    (ev->verdict == NFT_JUMP && log_chain(T, ev->target, &ln,
		    &lid))) && (n = dispatched_rule(T, ev)) > 0) {
			strbuf_printf(&line, "%s: matches ", where);
			rule_words(T, n, 0, &line);
			strbuf_printf(&line, ev->verdict == NFT_JUMP ?
			    "; it logs" : ": %s", v);
		} else if (k != NULL && strncmp(k->comment, "default of ", 11) ==
		    0)
			strbuf_printf(&line, "%s: no rule matches: the %s: %s",
			    where, k->comment, v);
		else if (k != NULL && strncmp(k->comment, "forward ", 8) == 0 &&
		    strcmp(ev->chain, "prerouting") == 0)
			strbuf_printf(&line, "prerouting: port %s: destination "
			    "rewritten (DNAT)", said);
		else if (k != NULL && strncmp(k->comment, "forward ", 8) == 0 &&
		    strcmp(ev->chain, "postrouting") == 0)
			strbuf_printf(&line, "postrouting: port %s: source "
			    "rewritten to the gateway's address (SNAT)",
			    said);
		else if (k != NULL && strncmp(k->comment, "forward ", 8) == 0)
			strbuf_printf(&line, "%s: accepted by port %s",
			    where, said);
		else if (k != NULL && strncmp(k->comment, NFTC_NO_PROXY,
		    strlen(NFTC_NO_PROXY)) == 0)
			strbuf_printf(&line, "dropped: no SMTP proxy listens "
			    "(%s): held back, never passed unscanned",
			    strncmp(said, NFTC_NO_PROXY, strlen(NFTC_NO_PROXY))
			    == 0 ? said + strlen(NFTC_NO_PROXY) : said);
		else if (k != NULL && strncmp(k->comment, "scan ", 5) == 0)
			strbuf_printf(&line, "intercepted by the SMTP proxy "
			    "(%s)", said);
		else if (k != NULL && strncmp(k->comment, "one-to-one ", 11) ==
		    0)
			strbuf_printf(&line, "%s: %s: %s rewritten", ev->chain,
			    said, strcmp(ev->chain, "prerouting") == 0 ?
			    "destination (DNAT)" : "source (SNAT)");
		else if (k != NULL && strncmp(k->comment, "nat source ", 11) ==
		    0)
			strbuf_printf(&line, "postrouting: %s matches: it "
			    "decides the source (translate)", said);
		else if (k != NULL && strncmp(k->comment, "nat on ", 7) == 0)
			strbuf_printf(&line, "postrouting: masqueraded (%s)",
			    k->comment);
		else if (k != NULL && strcmp(k->comment, "anti-lockout") == 0)
			strbuf_printf(&line, "%s: accepted by the anti-lockout "
			    "rule", where);
		else if (k != NULL && strncmp(k->comment, "log the default", 15)
		    == 0) {
			strbuf_free(&line);
			return;
		} else if (k != NULL && k->established)
			strbuf_printf(&line, "%s: part of an established "
			    "connection: %s", where, v);
		else if (ev->verdict == NFT_JUMP &&
		    strncmp(ev->target, "zone_", 5) == 0 &&
		    strncmp(ev->chain, "zone_", 5) == 0) {
			/* within a zone: its dispatch, a piece, a segment */
			strbuf_free(&line);
			return;
		} else if (ev->verdict == NFT_JUMP &&
		    strncmp(ev->target, "zone_", 5) == 0)
			strbuf_printf(&line, "%s: arrives in zone %s", where,
			    ev->target + 5);
		else if (ev->verdict == NFT_CONTINUE) {
			strbuf_free(&line);
			return;
		} else
			strbuf_printf(&line, "%s: rule %llu%s%s: %s%s%s",
			    ev->chain, (unsigned long long)ev->handle,
			    k != NULL && k->comment[0] ? " " : "",
			    k != NULL ? said : "", v,
			    ev->target[0] ? " " : "", ev->target);
	} else {
		strbuf_free(&line);
		return;
	}
	printf("  %s\n", strbuf_str(&line));
	fflush(stdout);
	strbuf_free(&line);
}

/* Remove the marking chain, if it is still there. */
static void
unmark(const char *chain)
{
	struct strbuf s, err;

	strbuf_init(&s, 0);
	strbuf_init(&err, 0);
	strbuf_printf(&s, "delete chain inet " NFTC_TABLE " %s\n", chain);
	nft_run(strbuf_str(&s), false, NULL, &err);
	strbuf_free(&s);
	strbuf_free(&err);
}

/* The watchdog: detached; removes the chain when our pipe closes (we
 * ended, or were killed) or, at the latest, after secs. */
static int
start_watchdog(const char *chain, unsigned secs)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };

		close(fds[1]);
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		if (fork() != 0)	/* not our caller's child */
			_exit(0);
		poll(&pfd, 1, (int)(secs + 10) * 1000);
		unmark(chain);
		_exit(0);
	}
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return fds[1];
}

int
cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "proto", required_argument, NULL, 'p' },
		{ "dport", required_argument, NULL, 'P' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *in = NULL, *src = NULL, *dst = NULL, *proto = NULL;
	unsigned dport = 0, count = 10, secs = 30;
	struct tracer T = { 0 };
	struct history_entry *v = NULL;
	struct policy *p = NULL;
	struct nftrace *tr = NULL;
	struct strbuf s, err;
	struct addr_lit ls, ld;
	char chain[32], e[200], hint[100];
	size_t n = 0, len;
	int c, rc = 2, guard = -1;
	long long end;
	const char *fam;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 's': src = optarg; break;
		case 'd': dst = optarg; break;
		case 'p': proto = optarg; break;
		case 'P':
			if (flow_parse_number(optarg, 65535, &dport) == -1 ||
			    dport == 0)
				goto usage;
			break;
		case 'c':
			if (flow_parse_number(optarg, 64, &count) == -1 ||
			    count == 0)
				goto usage;
			break;
		case 't':
			if (flow_parse_number(optarg, 3600, &secs) == -1 ||
			    secs == 0)
				goto usage;
			break;
		case 'h':
			puts("usage: moat trace [--in IF] --src ADDR [--dst ADDR] "
			    "[--proto P] [--dport N]\n                  [--count N] "
			    "[--timeout S]");
			return 0;
		default:
			goto usage;
		}
	}
	if (src == NULL || optind < argc || (dport != 0 && proto == NULL))
		goto usage;
	if (addr_parse_lit(src, false, &ls, e, sizeof(e), hint, sizeof(hint)) ==
	    -1 || (dst != NULL && addr_parse_lit(dst, false, &ld, e, sizeof(e),
	    hint, sizeof(hint)) == -1)) {
		fprintf(stderr, "moat: trace: %s\n", e);
		return 2;
	}
	if (dst != NULL && ld.family != ls.family) {
		fprintf(stderr, "moat: trace: --src and --dst must be of one "
		    "family\n");
		return 2;
	}
	strbuf_init(&s, 0);
	strbuf_init(&err, 0);
	/* The config in force, for zones and lines. */
	if (apply_history(apply_state_dir(), &v, &n, &err) == 0 && n > 0 &&
	    strcmp(v[n - 1].file, "-") != 0) {
		char *text = apply_config_text(apply_state_dir(), v[n - 1].seq,
		    &len);

		if (text != NULL)
			p = policy_parse(v[n - 1].file, text, len);
		free(text);
		if (p != NULL && policy_valid(p)) {
			T.p = p;
			T.file = p->file;
		}
	}
	if (load_rules(&T, &err) == -1) {
		fprintf(stderr, "moat: trace: no table inet moat here (%s): "
		    "apply a policy first\n", strbuf_str(&err));
		goto out;
	}
	if ((tr = nftrace_open(&err)) == NULL) {
		fprintf(stderr, "moat: trace: %s\n", strbuf_str(&err));
		goto out;
	}
	snprintf(chain, sizeof(chain), "trace_%ld", (long)getpid());
	T.chain = chain;
	fam = ls.family == FAM_V4 ? "ip" : "ip6";
	strbuf_printf(&s, "add chain inet " NFTC_TABLE " %s { type filter "
	    "hook prerouting priority %d; policy accept; }\nadd rule inet "
	    NFTC_TABLE " %s", chain, MARK_PRIORITY, chain);
	if (in != NULL) {
		const struct iface *ifc = T.p != NULL ? policy_iface(T.p, in) :
		    NULL;

		strbuf_printf(&s, " iifname \"%s\"", ifc != NULL ? ifc->device :
		    in);
	}
	strbuf_printf(&s, " %s saddr %s", fam, src);
	if (dst != NULL)
		strbuf_printf(&s, " %s daddr %s", fam, dst);
	if (proto != NULL && dport != 0 && (strcmp(proto, "tcp") == 0 ||
	    strcmp(proto, "udp") == 0 || strcmp(proto, "sctp") == 0))
		strbuf_printf(&s, " %s dport %u", proto, dport);
	else if (proto != NULL)
		strbuf_printf(&s, " meta l4proto %s", proto);
	strbuf_puts(&s, " meta nftrace set 1\n");
	if ((guard = start_watchdog(chain, secs)) == -1) {
		fprintf(stderr, "moat: trace: cannot start the watchdog: %s\n",
		    strerror(errno));
		goto out;
	}
	if (nft_run(strbuf_str(&s), false, NULL, &err) == -1) {
		fprintf(stderr, "moat: trace: %s\n", strbuf_str(&err));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);
	printf("tracing %s%s%s%s%s for %u s or %u packets: send them now\n",
	    src, dst ? " -> " : "", dst ? dst : "", proto ? " " : "",
	    proto ? proto : "", secs, count);
	fflush(stdout);
	T.count = count;
	if (proto == NULL || flow_proto_of(proto, strlen(proto),
	    &T.l4proto) == -1)
		T.l4proto = -1;
	T.proto_given = proto != NULL;
	end = clock_ms() + (long long)secs * 1000;
	while (!stop && clock_ms() < end) {
		struct pollfd pfd = { .fd = nftrace_fd(tr), .events = POLLIN };

		/* Done: the packets counted, and their events over. */
		if (T.npackets >= count && clock_ms() - T.last_event > 500)
			break;
		if (poll(&pfd, 1, 100) > 0)
			while (nftrace_read(tr, on_event, &T) > 0)
				;
	}
	rc = T.npackets > 0 ? 0 : 1;
	if (T.npackets == 0) {
		/* Dropped before the mark, perhaps: what could have. */
		printf("no packet matched in %u s\n", secs);
		strbuf_reset(&s);
		if (foreign_notes_before(&s, MARK_PRIORITY) > 0)
			printf("moat: note: moat trace sees packets from "
			    "prerouting, priority %d, on\n%s", MARK_PRIORITY,
			    strbuf_str(&s));
	}
out:
	if (guard != -1) {
		unmark(chain);
		close(guard);
	}
	nftrace_close(tr);
	free(T.rules);
	free(v);
	policy_free(p);
	strbuf_free(&s);
	strbuf_free(&err);
	return rc;
usage:
	fprintf(stderr, "moat: trace: usage: moat trace [--in IF] --src ADDR "
	    "[--dst ADDR] [--proto P [--dport N]] [--count N] [--timeout S]\n");
	return 2;
}

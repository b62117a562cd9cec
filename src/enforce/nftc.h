/* nftc.h: a policy compiled to one nftables table, `table inet moat`. */
#ifndef MOAT_NFTC_H
#define MOAT_NFTC_H

#include "base/strbuf.h"
#include "policy/policy.h"

#define NFTC_TABLE	"moat"		/* table inet moat */

/* SMTP interception (smtp-other-scanning): connections are diverted by
 * TPROXY to moatd's transparent listener on this port, their packets
 * marked so that a policy route (table NFTC_ROUTE_TABLE: everything is
 * local) delivers them to it. */
#define NFTC_TPROXY_PORT	10025
#define NFTC_MARK		0x6d6f
#define NFTC_ROUTE_TABLE	28015
/* Whether p's ruleset intercepts (its chain intercept), and whether a
 * compiled ruleset (a history entry's) does: such a ruleset goes into
 * the kernel only after the policy route (enforce/route.h), or the
 * connections it hands to the proxy would be routed on, unscanned. */
bool	 nftc_intercepts(const struct policy *p);
/* The comment's head of the drop after each interception, of what it
 * would have taken when no proxy listens (never passed unscanned). */
#define NFTC_NO_PROXY		"no proxy listens: "
bool	 nftc_script_intercepts(const char *script, size_t len);
/* Whether p's proxy connects from its clients' own addresses
 * (smtp-keep-client-address on intercepted SMTP): then it keeps
 * CAP_NET_RAW for IP_TRANSPARENT, and the ruleset's chain spoof_guard
 * lets a transparent socket send SMTP only. */
bool	 nftc_spoofs(const struct policy *p);
#define NFTC_SPOOF_GUARD	"spoof_guard"

/* The firewall log: rules with `log`, and the defaults an interface logs,
 * send packets to this NFLOG group (moatd reads it: enforce/nflog.c),
 * with the prefix "moat iID ACTION" (the rule with id ID, 16 hex digits:
 * policy_rule_id) or "moat dIF ACTION" (interface IF's default): nothing
 * in it changes when other rules change (doc/design/rule-ids.md).
 * Rulesets applied before this form say "moat rN ACTION HASH" (rule N of
 * the config with hash HASH); the log still reads them (a rollback puts
 * such a ruleset back). */
#define NFTC_LOG_GROUP		28015
#define NFTC_LOG_PREFIX		"moat "
#define NFTC_LOG_RULE		"i"
/*
 * A rule's kernel objects are named by its id (policy_rule_id), spelt as
 * in its log prefix, not by its number, so that a rule put above it
 * changes none of them (doc/design/rule-ids.md): its counter rule_ID, its
 * log chain log_ID, the sets of a side rule_ID_src_v4 (…_dst_v6), and
 * each of its nft rules' comment "rule ID" (a route chain's "rule ID:
 * gateway NAME").  A reader maps the id back to the rule and its number
 * through the config in force (nftc_rule_number).  Rulesets compiled
 * before said the number there (rule_N, log_rule_N, "rule N"); the
 * readers still take that form, which a kernel holds until the next
 * apply.
 */
#define NFTC_ID			"%016llx"
#define NFTC_ID_LEN		16
/*
 * So are a port forward's (policy_forward_id), a nat source rule's and a
 * one-to-one line's: counters forward_ID and forward_ID_accept,
 * nat_source_ID (its sides' sets nat_source_ID_src_v4 …), one_to_one_ID,
 * comments "forward ID", "forward ID, reflection", "scan incoming SMTP
 * (forward ID)", "nat source ID", "one-to-one ID", "one-to-one ID,
 * reflection".  Their readers take the number too (forward_N, "forward
 * N", … before these ids).
 */
/* A reference to a rule (or forward, nat source rule, one-to-one line)
 * at the start of s: 16 hex digits (an id, into *id) or a decimal number
 * (the old form, into *number), the other 0.  The characters read, or 0
 * when s starts with neither. */
size_t	 nftc_rule_ref(const char *s, uint64_t *id, int *number);
/* An interface's name as it is in the names of its chains and sets
 * (zone_NAME...): "_" doubled, "-" written "_d". */
void	 nftc_put_ident(struct strbuf *b, const char *name);
/* The number of the rule with id (or, for the old form, number), as
 * policy p has it (p may be NULL): 0 when p has no such rule. */
int	 nftc_rule_number(const struct policy *p, uint64_t id, int number);
/* The comment of a zone's source dispatch (its map's elements are class
 * chains, or the verdict of a rule that decides its sources by itself). */
#define NFTC_DISPATCH		"dispatch by source"

/* The conntrack mark (ct mark) of a connection: its low 16 bits say which
 * rule with a schedule admitted it (the rule's sched_mark, 1 …
 * SCHED_MARKS_MAX), so moatd can cut it when the window ends
 * (doc/design/schedules.md); the next 8 are the gateway link's pin
 * (GW_MARK_PIN, policy.h; set by the gateways_out chain of a config with
 * gateways: doc/design/gateways.md); a rule sets only its own bits. */
#define NFTC_CT_SCHED_MASK	0x0000ffffu
#define NFTC_CT_LINK_MASK	0x00ff0000u


/* Append to b the nft script that replaces table inet moat with policy p
 * in one transaction (create, delete, define), as `moat show --nft` prints
 * it and `moat apply` loads it.  p must be valid.  The windows of its
 * schedules are written in the kernel's clock frames of now (UTC offset,
 * sys_tz): compile again when the offset changes.  0, or -1 when memory
 * ran out (b is then failed). */
int	 nftc_compile(const struct policy *p, struct strbuf *b);
/*
 * The addresses of interfaces that say address dynamic are named sets
 * (XIP_v4, XIP_v6, XNET_…, and one per rule side that mixes them with
 * more: rule_ID_src_v4 …), marked with this comment; the rules refer to
 * them, so that a new address changes only their elements.  Append to b
 * the script that sets every one of them to what it holds under p's
 * binding (flush and add, one transaction); nothing when p has none.
 * 0, or -1 when memory ran out.
 */
#define NFTC_DYNAMIC_COMMENT	"moat: follows the device's addresses"
int	 nftc_compile_dynamic(const struct policy *p, struct strbuf *b);
/*
 * A feed object (fqdn, url, country: doc/design/feeds.md) is a named set
 * per family (NAME_v4, NAME_v6) with this comment, declared empty in the
 * ruleset nftc_compile writes: its elements are no part of the ruleset
 * (nor of the history, nor of drift), and they change one by one.  Every
 * set whose elements moat changes at run time has a comment that starts
 * with NFTC_FOLLOWS.
 */
#define NFTC_FOLLOWS		"moat: follows"
/* ... then, after a space, the feed's definition as 16 hex digits
 * (feedstore_key): another definition is another set to nftdiff, which
 * then loads the set whole instead of keeping the old one's addresses. */
#define NFTC_FEED_COMMENT	"moat: follows its feed"
/* A set that holds a feed object's addresses with more (an object, or a
 * rule side that mixes them): refilled whole with the dynamic ones.  Its
 * comment ends in the key of the definitions of the feeds it holds. */
#define NFTC_FEEDS_HELD_COMMENT	"moat: follows the feeds it holds"
/* The name of feed object name's set of family f (NAME_v4, NAME_v6). */
void	 nftc_feed_set_name(const char *name, enum addr_family f,
	    struct strbuf *b);
/* The part of s the kernel's set of family f holds (allocated in a). */
struct iset nftc_family_part(struct arena *a, struct iset s,
	    enum addr_family f);
/*
 * Copy script (a ruleset nftc_compile wrote) to out with each feed set's
 * elements declared in it: what feed(arg, OBJECT) puts in *out (0), or
 * none (-1).  Elements written in the set's declaration cost nothing more;
 * an add element after it would make nft read back every element of the
 * set in force first, which at a million elements takes minutes.  0, or
 * -1 when memory ran out.
 */
int	 nftc_feeds_inline(const char *script, size_t len,
	    int (*feed)(void *arg, const char *obj, struct arena *a,
	    struct iset *out), void *arg, struct strbuf *out);
/* The naive baseline of the benchmarks: the same rules as one linear
 * forward chain (iifname on every rule, inline sets, anonymous counters),
 * what a hand translation would load.  Not for use. */
int	 nftc_compile_linear(const struct policy *p, struct strbuf *b);
/* The same chain with its sets named (one per list of elements, shared),
 * as a careful hand translation would load it: no anonymous set, whose
 * name the kernel finds by walking every set of the table.  The plain
 * chain of the apply benchmark (bench/bench_apply.sh).  Not for use. */
int	 nftc_compile_plain(const struct policy *p, struct strbuf *b);
/* What a named counter of table inet moat counts, read back from the
 * name the compiler gave it. */
enum nftc_counted {
	NFTC_COUNTS_OTHER = 0,		/* not one of moat's names */
	NFTC_COUNTS_RULE,		/* rule_ID: the rule with id ID;
					   rule_N (before ids): rule N */
	NFTC_COUNTS_ANTI_LOCKOUT,	/* the anti-lockout rule */
	NFTC_COUNTS_DEFAULT,		/* default_IF: an interface's default */
	NFTC_COUNTS_FORWARD,		/* forward_ID: the port forward with id
					   ID (forward_N before ids),
					   translated */
	NFTC_COUNTS_FORWARD_ACCEPT,	/* forward_ID_accept: … and admitted */
	NFTC_COUNTS_UNDECLARED,		/* dropped: no interface declares the
					   device it came in on */
	NFTC_COUNTS_NAT_SOURCE,		/* nat_source_ID: a nat source rule */
	NFTC_COUNTS_ONE_TO_ONE,		/* one_to_one_ID: a nat one-to-one */
};

/* The meaning of counter name; *id is the id of the rule, forward, nat
 * source rule or one-to-one line it counts for, or *number its number
 * (a ruleset compiled before ids): one of the two, else both 0. */
enum nftc_counted nftc_counter_meaning(const char *name, int *number,
	    uint64_t *id);
/* The number p (may be NULL) gives the entry of kind what (a rule, a
 * forward for both forward kinds, a nat source rule, a one-to-one line)
 * with id, or for the old form number: 0 when p has no such entry. */
int	 nftc_entry_number(const struct policy *p, enum nftc_counted what,
	    uint64_t id, int number);
/* A kernel rule's comment in moat's words, into b: the id of the entry
 * it names ("forward ID, reflection") replaced by the entry's number in
 * p, the config in force ("forward 2, reflection"; the id kept when p has
 * no such entry; an old comment's number kept).  What kind of entry it
 * names, or NFTC_COUNTS_OTHER (the comment copied as it is). */
enum nftc_counted nftc_comment_words(const struct policy *p,
	    const char *comment, struct strbuf *b);
/* The lockdown ruleset, for a start with no usable config and no history:
 * table inet moat dropping everything but loopback, established traffic
 * and, when lan_device is not NULL, SSH, HTTP and HTTPS from it to the
 * gateway (the anti-lockout ports).  0, or -1 when memory ran out. */
int	 nftc_lockdown(const char *lan_device, struct strbuf *b);
/* The script that removes table inet moat, if present. */
void	 nftc_remove(struct strbuf *b);

#endif

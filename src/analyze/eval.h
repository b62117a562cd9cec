/* eval.h: which rule decides a connection (the simulated telnet test). */
#ifndef MOAT_EVAL_H
#define MOAT_EVAL_H

#include <stdbool.h>

#include "policy/policy.h"

/* A new connection as the gateway sees it arrive. */
struct flow {
	const struct iface	*iface;		/* where it arrives */
	u128			 src, dst;	/* same family */
	int			 proto;		/* IP protocol number */
	unsigned		 dport;		/* port, or ICMP type */
	unsigned		 week_min;	/* when: minute of the local week
						   (0 = Sunday 00:00), for the
						   rules with a schedule */
};

enum decided_by {
	BY_RULE = 0,		/* a numbered rule of the file */
	BY_ANTILOCKOUT,		/* the built-in anti-lockout rule */
	BY_FORWARD,		/* the accept that a port forward implies */
	BY_DEFAULT,		/* the interface's default */
	BY_FIREWALL_OFF,	/* firewall off: nothing is filtered */
};

/* How an accepted connection through the gateway leaves (postrouting). */
enum snat_by {
	SNAT_NONE = 0,		/* it keeps its source: no nat line applies */
	SNAT_RULE,		/* nat source N (nat_rule), per its kind */
	SNAT_MASQUERADE,	/* the out interface's nat masquerade */
	SNAT_ONE,		/* nat one-to-one (one): from its public side */
};

struct verdict {
	enum action		 action;
	enum decided_by		 by;
	const struct rule	*rule;		/* BY_RULE, BY_ANTILOCKOUT */
	const struct forward	*forward;	/* a port forward rewrote dst */
	u128			 dst;		/* destination after the forward */
	bool			 reflected;	/* the forward reflected it: an
						   internal host to the
						   forward's interface */
	bool			 has_src;	/* src is known */
	u128			 src;		/* the source it leaves with:
						   reflected, the gateway's
						   address towards the host;
						   a nat source rule's */
	const struct iface	*out;		/* where it leaves, as guessed
						   (policy_route), or NULL */
	enum snat_by		 snat;		/* accepted, through, not
						   reflected: its source NAT */
	const struct nat_rule	*nat_rule;	/* SNAT_RULE */
	const struct nat_one	*one;		/* inbound: a 1:1 rewrote dst;
						   SNAT_ONE: the 1:1 */
	bool			 to_gateway;	/* input, not forward */
	const struct gw_ref	*gw;		/* the deciding rule's gateway
						   option, when it sends the
						   connection out of that link
						   (out is its interface) */
};

/* What the SMTP proxy does with a connection the policy has judged. */
enum smtp_scan {
	SMTP_NOT_SCANNED = 0,	/* not SMTP, not accepted, or no scanning */
	SMTP_INTERCEPT_OUT,	/* smtp-other-scanning, outgoing */
	SMTP_INTERCEPT_IN,	/* smtp-other-scanning, to a port forward */
	SMTP_RELAY,		/* smtp-local-scanning: the gateway's relay */
};

/* Whether an ICMP (proto 1) or ICMPv6 (58) packet of this type can reach
 * the rules as a new connection: false for errors (related to a
 * connection, or invalid) and replies (invalid), which conntrack decides
 * before any rule.  True for any other protocol. */
bool		 policy_icmp_reaches_rules(int proto, unsigned type);

/* What the kernel decides of f before any rule, as a sentence (the input
 * chain's accepts of loopback, neighbour discovery and the HA peer; an
 * ICMP type that starts no connection, which conntrack lets through as
 * related or drops as invalid), or NULL: the rules decide (a review,
 * 2026-12-07: moat test named a rule where the kernel never asks one). */
const char	*policy_before_rules(const struct policy *p,
		    const struct flow *f, const struct verdict *v);

enum smtp_scan	 policy_smtp_scan(const struct policy *p,
		    const struct flow *f, const struct verdict *v);
/* A sentence for it, or NULL for SMTP_NOT_SCANNED. */
const char	*smtp_scan_text(enum smtp_scan s);
/* Its JSON name, or NULL. */
const char	*smtp_scan_name(enum smtp_scan s);

/* The interface a connection to dst leaves by, as moat guesses it without
 * the routing table: the one whose network holds dst, else the first that
 * a nat line names (masquerade, then source, then one-to-one: the
 * Internet's side), else NULL. */
const struct iface *policy_route(const struct policy *p, u128 dst);
/* The interface a gateway or a group leaves by, as moat guesses it: a
 * gateway's own, a group's first gateway of its lowest tier. */
const struct iface *policy_gw_iface(const struct gw_ref *ref);
/* One line saying which link rule's gateway option sends the connection
 * out of, in buf; NULL when v->gw is NULL. */
const char	*gw_text(const struct verdict *v, char *buf, size_t len);
/* One line saying how an accepted connection leaves (its source NAT), in
 * buf; NULL when it goes to the gateway, is not accepted, has no out
 * interface, or leaves untranslated through one that no nat line names. */
const char	*snat_text(const struct policy *p, const struct verdict *v,
		    char *buf, size_t len);

/* The addresses an accepted connection has after the gateway's NAT, as
 * the host it reaches sees them: *dst after a port forward or a 1:1
 * (reflected ones included), *src after reflection, 1:1, a nat source
 * rule or a masquerade.  A masquerade's source is the out interface's
 * address of the family whose network holds the destination, else its
 * first of the family (the kernel's choice on a plain link).  False when
 * the connection is not accepted or goes to the gateway; *has_src false
 * when the source is not known (a masquerade on an interface without an
 * address of the family). */
bool	 policy_translated(const struct policy *p, const struct flow *f,
	    const struct verdict *v, u128 *src, bool *has_src, u128 *dst);

/* The key of a flow in service sets: protocol << 16 | port. */
u128	 flow_service_key(const struct flow *f);
/* True when rule r matches flow f whose destination is dst (at f's time:
 * a rule with a schedule counts only when it is open). */
bool	 rule_matches(const struct rule *r, const struct flow *f, u128 dst);
struct policy_index;

/* The first rule with a schedule that would match f (destination dst)
 * but is closed at f's time, and comes before the rule that decides it
 * (v), or NULL: what `moat test` says was skipped. */
const struct rule *policy_closed_rule(const struct policy *p,
	    const struct flow *f, const struct verdict *v);
/* Decide flow f under valid policy p: first match in file order. */
void	 policy_eval(const struct policy *p, const struct flow *f,
	    struct verdict *v);
/* An index of p's rules for policy_eval_with() (classify.h's trees), or
 * NULL when memory runs out or the rules would make more than max_boxes
 * boxes (of each address family). */
struct policy_index *policy_index(const struct policy *p, size_t max_boxes);
void	 policy_index_free(struct policy_index *idx);
/* Bytes the index holds (its classifiers' nodes and leaves). */
size_t	 policy_index_memory(const struct policy_index *idx);
/* policy_eval() when the first rule that matches f is known to be first
 * (NULL: none does): analyze/diff.c, which found it for a whole region. */
void	 policy_eval_first(const struct policy *p, const struct rule *first,
	    const struct flow *f, struct verdict *v);
/* policy_eval(), finding the first matching rule through idx. */
void	 policy_eval_with(const struct policy *p,
	    const struct policy_index *idx, const struct flow *f,
	    struct verdict *v);
/* policy_eval_with() for the n flows f into v, the same verdicts, faster
 * (their memory reads overlap); prio is room for n ints. */
void	 policy_eval_many(const struct policy *p,
	    const struct policy_index *idx, const struct flow *f,
	    struct verdict *v, int *prio, size_t n);

#endif

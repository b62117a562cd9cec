/* proof.h: the equivalence report of an import.  The source's rules, as
 * the source's own semantics decide them (pf: the last rule that matches
 * decides unless a quick one matched first; block by default), are
 * evaluated by proof.c, code of its own that shares nothing with moat's
 * evaluator (iptables' chain traversal is iptables.c's own, through
 * src_iface's eval), and compared with moat's verdicts (analyze/eval.h)
 * on every region where either set of rules changes its mind: the flow
 * space cut where either may (moat's side walked by analyze/diff.h's
 * diff_side_walk, pf's by proof.c, an eval at its cut points). */
#ifndef MOAT_PROOF_H
#define MOAT_PROOF_H

#include <stdbool.h>

#include "base/iset.h"
#include "base/strbuf.h"
#include "policy/policy.h"

enum src_action {
	SRC_PASS = 0,
	SRC_BLOCK,
	SRC_REJECT,
};

/* A rule of the source, its sides resolved by the source's own meaning
 * (negation and address family applied). */
struct src_rule {
	const char	*where;		/* its XML path */
	enum src_action	 action;
	bool		 quick;
	struct iset	 src, dst;
	bool		 any_svc;
	struct iset	 svc;		/* keys: protocol << 16 | port/type */
};

/* A redirection (port forward) of the source: the first that matches
 * rewrites the destination before the rules. */
struct src_rdr {
	const char	*where;
	struct iset	 src, dst;
	struct iset	 svc;
	bool		 nordr;		/* matches, and redirects nothing */
	u128		 target;
	int		 port_shift;	/* local-port minus the first port */
	bool		 pass;		/* its rule passes it (pass) */
};

struct src_iface {
	const char	*name;		/* its moat interface */
	/* Another source's semantics than pf's rules below (iptables): the
	 * verdict of a flow arriving here, and in *where the rule, chain
	 * policy or default that decides it; cuts, where it changes its
	 * mind. */
	enum src_action	(*eval)(const void *arg, u128 src, u128 dst,
			    u128 key, const char **where);
	const void	*arg;
	bool		 v4_only;	/* iptables: IPv6 is ip6tables' */
	const u128	*cut_src, *cut_dst, *cut_svc;
	size_t		 ncut_src, ncut_dst, ncut_svc;
	struct src_rule	*rules;
	size_t		 n, cap;
	struct src_rdr	*rdrs;
	size_t		 nrdr, caprdr;
	const char	*unproven;	/* why it cannot be compared */
};

struct src_model {
	const char		*semantics;	/* the report's head */
	struct src_iface	*ifs;
	size_t			 n, cap;
};

/* A test seam (tests/lab/importgen.c, the lab's import differential):
 * when proof_probe is set, each report also gives both sides' verdicts
 * of its flows, as the comparison decides them, and iptables' devices
 * named in it take its addresses in place of their stand-ins.  Never
 * set by moat itself. */
struct proof_flow {
	const char	*iface;		/* a moat interface */
	u128		 src, dst, key;	/* key: protocol << 16 | port/type */
	/* the answers */
	bool		 compared;	/* false: the report does not */
	enum src_action	 sa;
	char		 where[160];	/* what decides it in the source */
	enum action	 ma;		/* moat's, as the report parsed it */
};

struct proof_probe {
	const char	*const *dev;	/* iptables: device names */
	const u128	*dev_at;	/* and their addresses */
	const int	*dev_plen;
	size_t		 ndev;
	struct proof_flow *flows;
	size_t		 nflow;
};

extern struct proof_probe *proof_probe;

/* Compare m with valid policy p, interface by interface, and write the
 * report to out.  Returns the number of interfaces that differ, or -1
 * when memory runs out. */
int	proof_compare(struct arena *a, const struct src_model *m,
	    const struct policy *p, struct strbuf *out);

#endif

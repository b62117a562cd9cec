/* pfgen.h: random pfSense config.xml files of N rules, for the import's
 * benchmark and tests: interfaces with fixed addresses, host, network,
 * nested and port aliases, interface rules and floating rules (inbound,
 * quick or not, on several interfaces), inverted sides, pass, block and
 * reject, port forwards (some changing the port, some rdr pass, some
 * nordr).  Besides the XML, what each rule matches as the generator meant
 * it (pf's meaning, aliases resolved), for a test's own evaluator. */
#ifndef MOAT_TEST_PFGEN_H
#define MOAT_TEST_PFGEN_H

#include <stdbool.h>

#include "base/arena.h"
#include "base/iset.h"
#include "base/strbuf.h"

#define PFGEN_MAXIF	4

enum pfgen_action { PFGEN_PASS = 0, PFGEN_BLOCK, PFGEN_REJECT };

struct pfgen_rule {
	enum pfgen_action action;
	bool		 quick;		/* interface rules: always */
	bool		 floating;
	bool		 disabled;
	unsigned	 ifs;		/* bit k: interface k */
	struct iset	 src, dst;	/* IPv4 only (every rule is inet) */
	bool		 any_svc;
	struct iset	 svc;		/* protocol << 16 | port or type */
	unsigned	 index;		/* /pfsense/filter/rule[index] */
};

/* A port forward on WAN (pf's rdr), from any source to WAN's address. */
struct pfgen_rdr {
	unsigned	 port;		/* tcp */
	u128		 target;
	int		 shift;		/* the local port minus port */
	bool		 pass;		/* rdr pass: passed without the rules */
	bool		 nordr;		/* matches, and redirects nothing */
};

struct pfgen {
	struct strbuf	 xml;
	struct pfgen_rule *rules;	/* in the file's order */
	size_t		 n, cap;
	size_t		 niface;
	const char	*key[PFGEN_MAXIF];	/* wan, lan, opt1 ... */
	const char	*name[PFGEN_MAXIF];	/* moat's interface name */
	u128		 ip[PFGEN_MAXIF];	/* the interface's address */
	struct pfgen_rdr rdrs[4];	/* the first that matches decides */
	size_t		 nrdr;
	bool		 antilockout;	/* pf's rule on lan (tcp 22, 80, 443
					   to its address), before the rest */
};

#define PFGEN_SMALL	0x1	/* three interfaces and few addresses and
				   ports, so that rules overlap */
#define PFGEN_FORWARDS	0x2	/* up to three port forwards on WAN */

/* Write a config.xml of nrules filter rules drawn from seed into g->xml.
 * The sets live in a. */
void	pfgen_make(struct pfgen *g, struct arena *a, unsigned nrules,
	    unsigned seed, int flags);
void	pfgen_free(struct pfgen *g);

#endif

/* gen.h: random policies as config text, for property tests and benchmarks. */
#ifndef MOAT_TEST_GEN_H
#define MOAT_TEST_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/eval.h"
#include "base/strbuf.h"

struct rng {
	uint64_t	s;
};

enum gen_mode {
	GEN_DENSE = 0,	/* few addresses and ports: rules overlap a lot */
	GEN_OFFICE,	/* a large office: hosts, blocklists, per-host rules */
};

struct gen_opts {
	enum gen_mode	mode;
	int		nrules;
	int		nobjects;
	int		nservices;
	bool		v4_only;	/* DENSE: every address IPv4 */
	bool		schedules;	/* DENSE: some rules with a schedule */
	bool		gateways;	/* DENSE: gateways, a group, and some
					   accept rules with the option */
};

/* A pseudo-random 64-bit number (splitmix64). */
uint64_t rng_next(struct rng *r);
/* A number in [0, n). */
uint64_t rng_below(struct rng *r, uint64_t n);
/* A random policy as config text. */
void	 gen_policy(struct rng *r, const struct gen_opts *o, struct strbuf *b);
/* A random flow on a random interface of p, often inside some rule. */
void	 gen_flow(struct rng *r, const struct policy *p, struct flow *f);

#endif

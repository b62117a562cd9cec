/* batchcmd.h: `moat test --batch`, many flows replayed through a policy. */
#ifndef MOAT_BATCHCMD_H
#define MOAT_BATCHCMD_H

#include <stdbool.h>
#include <stdio.h>

#include "analyze/eval.h"

struct batch_opts {
	const char		*name;		/* the input's name, for errors */
	const struct iface	*in;		/* --in, or NULL */
	bool			 json;
	unsigned		 week_min;	/* when the flows are asked */
	unsigned		 threads;	/* answering; 0: one per CPU */
	size_t			 block;		/* read size; 0: the default
						 * (tests: small ones) */
};

/* Read flow lines from fp and write one answer per flow to out, in
 * order; a line that cannot be read gives an error line there and a
 * message on standard error.  The output is the same whatever the
 * number of threads.  idx may be NULL (the linear scan).  The
 * counts of flows decided and lines not understood in *nflows, *nbad.
 * 0, or -1 when out could not be written (said). */
int	 batch_replay(const struct policy *p, const struct policy_index *idx,
	    const struct batch_opts *o, FILE *fp, FILE *out, size_t *nflows,
	    size_t *nbad);

#endif

/* apart.h: a piece of work run in a child process that exits after it,
 * so that the caller (moatd's privileged parent) does not keep the memory
 * the work took: the allocator keeps most of what a process ever held for
 * its life, and loading a large ruleset takes hundreds of MB. */
#ifndef MOAT_APART_H
#define MOAT_APART_H

#include "base/strbuf.h"

/* The size of a ruleset from which it is loaded apart. */
#define APART_MIN	(1u << 20)

/* The time a ruleset's load may take, in a child, before it is stopped:
 * far above any load measured (100,000 rules take about 5 s through
 * libnftables), so that only a kernel or a library that stopped
 * answering meets it. */
#define APART_LOAD_MS	(10 * 60 * 1000)

#define APART_MS_MAX	(24LL * 3600 * 1000)	/* longer limits are this */
#define APART_LATE	(-2)

/* Run fn(arg, out) in a child: its return (0 or -1) and, in out, what it
 * wrote into its own out (at most max bytes of it).  A child still
 * running after timeout_ms (0: no limit) is killed, and APART_LATE comes
 * back: what it did before is not known.  When no child can be made, fn
 * runs here. */
int	apart_run(int (*fn)(void *arg, struct strbuf *out), void *arg,
	    struct strbuf *out, size_t max, long long timeout_ms);
/* apart_run, and meanwhile(marg) here while the child works (after fn
 * when no child can be made): work of the caller's own beside it, with
 * no thread running when the child is made. */
int	apart_run_with(int (*fn)(void *arg, struct strbuf *out), void *arg,
	    struct strbuf *out, size_t max, long long timeout_ms,
	    void (*meanwhile)(void *marg), void *marg);

#endif

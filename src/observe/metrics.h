/* metrics.h: the gateway in the Prometheus text exposition format (for
 * `moat metrics` and node_exporter's textfile collector). */
#ifndef MOAT_METRICS_H
#define MOAT_METRICS_H

#include <stddef.h>

#include <jansson.h>

#include "base/strbuf.h"
#include "enforce/counters.h"
#include "observe/fwlog.h"
#include "observe/mailstats.h"
#include "policy/policy.h"

struct metrics_input {
	const struct policy	*p;		/* in force, or NULL */
	unsigned long long	 hash;		/* its config's */
	const struct counter	*ctr;		/* the kernel's, or NULL */
	size_t			 nctr;
	const struct mailstats	*mail;		/* or NULL */
	const struct fwlog_stats *fw;		/* or NULL */
	const json_t		*feeds;		/* the feed objects' states (the
						   status's "feeds" array), or
						   NULL */
	const json_t		*gateways;	/* RUN/gateways.json, or NULL */
};

/* Append the exposition of what in has: per-rule packets and bytes
 * (labels rule, line, action, interface), defaults, forwards, the mail
 * counters and scan time histogram, open proxy sessions, the firewall
 * log's records and losses, and per feed object its set's elements by
 * family, its last good refresh, whether its last refresh was good and
 * (fqdn) how many of its names fail. */
void	 metrics_write(const struct metrics_input *in, struct strbuf *b);
/* Gather them as moat status does (the history's entry in force, the
 * kernel's counters, moatd's figures) and append the exposition.  0, or
 * -1 with the reason in err when nothing at all can be read. */
int	 metrics_collect(const char *state, const char *run, struct strbuf *b,
	    struct strbuf *err);
/* metrics_collect into file, replaced whole (node_exporter must never
 * read half).  0, or -1 with err. */
int	 metrics_write_file(const char *state, const char *run,
	    const char *file, struct strbuf *err);

#endif

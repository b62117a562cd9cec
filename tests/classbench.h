/* classbench.h: ClassBench filter sets and traces (Taylor & Turner), as
 * classifier boxes and points.  The TCP flags field is ignored, as most
 * classifiers do. */
#ifndef MOAT_CLASSBENCH_H
#define MOAT_CLASSBENCH_H

#include "analyze/classify.h"

/* Dimensions: 0 source, 1 destination, 2 source port, 3 destination
 * port, 4 protocol. */

/* Read a filter set: one box per "@" line, priority = line order.  Returns
 * the malloc'd boxes and their count, or NULL with a reason in err. */
struct cls_box *classbench_rules(const char *path, size_t *n, char *err,
	    size_t errlen);
/* Read a trace: CLS_DIMS numbers per packet (malloc'd, n packets). */
u128	*classbench_trace(const char *path, size_t *n, char *err,
	    size_t errlen);

#endif

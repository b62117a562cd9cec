/* diffprint.h: what policy_diff found (analyze/diff.h), as text and JSON. */
#ifndef MOAT_DIFFPRINT_H
#define MOAT_DIFFPRINT_H

#include "analyze/diff.h"
#include "base/strbuf.h"

/* The regions of d (a and b the policies compared, named by their file
 * names as given): one paragraph a region, with an example flow and the
 * deciding rule before and after; "no flow changes" when none.  At most
 * limit regions (0: all), then how many more there are. */
void	 diffprint_text(const struct policy *a, const char *name_a,
	    const struct policy *b, const char *name_b, const char *note,
	    const struct policy_diff *d, size_t limit, struct strbuf *out);
/* The same as one JSON object: old, new, complete, changes [...],
 * interfaces_only_old, interfaces_only_new, note.  note (or NULL): how
 * dynamic addresses and feed objects were bound. */
void	 diffprint_json(const struct policy *a, const char *name_a,
	    const struct policy *b, const char *name_b, const char *note,
	    const struct policy_diff *d, struct strbuf *out);
/* One region's addresses (lo-hi of family fam, dimension DD_SRC or
 * DD_DST), services (DD_SVC) or times (DD_TIME) as text. */
void	 diffprint_range(const struct diff_region *g, int dim,
	    struct strbuf *out);

#endif

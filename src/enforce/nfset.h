/* nfset.h: elements of table inet moat's interval sets, added and deleted
 * over nf_tables' netlink (libmnl), in one batch: one transaction.
 *
 * libnftables reads a whole interval set back before it changes one
 * element of it (to merge and check ranges), which at a million elements
 * costs minutes of CPU for a change of a few; moat keeps its sets'
 * elements exactly as the intervals it wrote (feedstore.h), so it can
 * name the kernel's elements itself: a start element per interval and an
 * end element (NFT_SET_ELEM_INTERVAL_END) one past it.  The feed objects'
 * updates go this way (apply_feed); rulesets still go through nft.c. */
#ifndef MOAT_NFSET_H
#define MOAT_NFSET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/addr.h"
#include "base/strbuf.h"

struct nfset;

/* An empty batch; NULL when memory ran out. */
struct nfset	*nfset_new(void);
void		 nfset_free(struct nfset *b);
/* Queue: every element of set name (of table inet moat) removed. */
int		 nfset_flush(struct nfset *b, const char *name);
/* Queue: interval [lo, hi] of family f added to (add) or deleted from set
 * name.  Deletions must name intervals exactly as they were added.  0, or
 * -1 when memory ran out. */
int		 nfset_interval(struct nfset *b, bool add, const char *name,
		    enum addr_family f, u128 lo, u128 hi);
/* Queue the lines of nft script s (an incremental apply's difference,
 * nftdiff.h) when every one adds or deletes elements of a set of
 * addresses ("add element inet moat NAME { ADDR, NET/LEN, LO-HI }", no
 * map, no comment): 0; 1, with nothing queued, when s has anything else
 * (libnftables must run it); -1 when memory ran out.  libnftables reads
 * every element of every interval set of the table before it changes
 * one (about a second at 100,000 rules); this is the same transaction
 * without that. */
int		 nfset_script(struct nfset *b, const char *s);
/* Forget what is queued. */
void		 nfset_reset(struct nfset *b);
/* How many messages are queued. */
size_t		 nfset_pending(const struct nfset *b);
/* Send the batch as one transaction and wait for the kernel's word, at
 * most timeout_ms: 0, or -1 with the kernel's reason in err (nothing
 * changed).  The batch is empty again after. */
int		 nfset_commit(struct nfset *b, int timeout_ms, struct strbuf *err);

#endif

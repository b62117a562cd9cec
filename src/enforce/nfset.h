/* nfset.h: elements of table inet moat's interval sets, added and deleted
 * over nf_tables' netlink (libmnl), in one batch: one transaction.
 *
 * libnftables reads a whole interval set back before it changes one
 * element of it (to merge and check ranges), which at a million elements
 * costs minutes of CPU for a change of a few; moat keeps its sets'
 * elements exactly as the intervals it wrote (feedstore.h), so it can
 * name the kernel's elements itself: a start element per interval and an
 * end element (NFT_SET_ELEM_INTERVAL_END) one past it.  The feed objects'
 * updates go this way (apply_feed), and an incremental apply's difference
 * when nfdelta.h can read all of it; whole rulesets go through nft.c.
 * The batch carries other messages too (nfset_open: rules, chains). */
#ifndef MOAT_NFSET_H
#define MOAT_NFSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#include "base/addr.h"
#include "base/strbuf.h"

struct nfset;

/* An empty batch; NULL when memory ran out. */
struct nfset	*nfset_new(void);
/* Room for about size bytes of messages taken at once (a whole ruleset's
 * batch is 3.05-3.07 bytes for each byte of its text), so that the batch
 * does not grow by copies, each in fresh memory.  0, or -1 when memory
 * ran out (the batch is as it was). */
int		 nfset_reserve(struct nfset *b, size_t size);
void		 nfset_free(struct nfset *b);
/* Queue: every element of set name (of table inet moat) removed. */
int		 nfset_flush(struct nfset *b, const char *name);
/* Queue: interval [lo, hi] of family f added to (add) or deleted from set
 * name.  Deletions must name intervals exactly as they were added.  0, or
 * -1 when memory ran out. */
int		 nfset_interval(struct nfset *b, bool add, const char *name,
		    enum addr_family f, u128 lo, u128 hi);
/* A map element's data: verdict code (NF_ACCEPT, NF_DROP, NFT_JUMP,
 * NFT_GOTO, ...), the chain of a jump or goto, a comment ("" none). */
struct nfset_data {
	int	 code;
	char	 chain[256];	/* NFT_CHAIN_MAXNAMELEN */
	char	 comment[128];
};
/* One of the kernel's elements of an interval set (nfdelta.c knows
 * which): key k (len bytes, network order, at most 16), a start or an
 * end, a start open to the last key, with data d (a map's) or none. */
int		 nfset_raw(struct nfset *b, bool add, const char *name,
		    const void *k, size_t len, bool end, bool open,
		    const struct nfset_data *d);
/* Queue a message of nf_tables type (NFT_MSG_NEWRULE, ...) with flags
 * for table inet moat (its nfgenmsg head written); the caller puts its
 * attributes, with at most NFRULE_MSG_MAX bytes, and closes it with
 * nfset_close.  The kernel's refusal names it from those attributes
 * ("a rule of chain X").  NULL when memory ran out. */
struct nlmsghdr	*nfset_open(struct nfset *b, int type, uint16_t flags);
void		 nfset_close(struct nfset *b);
/* The batch is to be taken only at ruleset generation gen (the kernel
 * refuses all of it, ERESTART, when something else committed since);
 * before the first message is queued. */
void		 nfset_genid(struct nfset *b, uint32_t gen);
/* Forget what is queued. */
void		 nfset_reset(struct nfset *b);
/* How many messages are queued. */
size_t		 nfset_pending(const struct nfset *b);
/* The bytes queued (the batch's begin and its messages, the one being
 * filled closed; not its end), len of them: for tests. */
const void	*nfset_bytes(struct nfset *b, size_t *len);
/* Send the batch as one transaction and wait for the kernel's word, at
 * most timeout_ms: 0, or -1 with the kernel's reason in err (nothing
 * changed).  The batch is empty again after. */
int		 nfset_commit(struct nfset *b, int timeout_ms, struct strbuf *err);

#endif

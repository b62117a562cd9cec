/* nfgen.h: the kernel's ruleset generation, over netlink (libmnl).
 *
 * Every nftables transaction in a network namespace moves its generation
 * on: what was learnt from a listing holds while the generation is the
 * same (apply_drift keeps its answer so). */
#ifndef MOAT_NFGEN_H
#define MOAT_NFGEN_H

#include <stdint.h>

/* The generation of this namespace's rulesets.  0, or -1 (errno). */
int	 nfgen_read(uint32_t *gen);
/* Whether table inet name exists: 1, 0, or -1 (errno).  Cheap whatever
 * the table holds, where a listing of it reads every set element. */
int	 nfgen_table_exists(const char *name);
/* The same, with the table's flags (NFT_TABLE_F_DORMANT, ...) into
 * *flags when it exists: the drift fingerprint (nfhash.h) reads its
 * chains, sets, rules and elements, not these. */
int	 nfgen_table_flags(const char *name, uint32_t *flags);
/* Whether table inet table has a chain of that name: 1, 0, or -1
 * (errno). */
int	 nfgen_chain_exists(const char *table, const char *chain);

#endif

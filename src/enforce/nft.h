/* nft.h: the one door to the kernel's nftables (libnftables). */
#ifndef MOAT_NFT_H
#define MOAT_NFT_H

#include <stdbool.h>

#include "base/strbuf.h"

/* Run an nft script as one transaction.  With dry_run the kernel checks it
 * and nothing is committed.  Returns 0, or -1 with the kernel's reason in
 * err.  out gets what the commands print (for list commands). */
int	 nft_run(const char *script, bool dry_run, struct strbuf *out,
	    struct strbuf *err);
/* Run list commands without stateful figures (counter values): a listing
 * that stays the same while traffic flows.  Both listings run under
 * TZ=UTC, so meta hour reads the same in every process and season.  0, or
 * -1 with err. */
int	 nft_list_stateless(const char *cmds, struct strbuf *out,
	    struct strbuf *err);
/* Run list commands with libnftables' JSON output (its schema is
 * libnftables-json(5)) into out.  0, or -1 with the reason in err. */
int	 nft_list_json(const char *cmds, struct strbuf *out,
	    struct strbuf *err);

#endif

/* nfrule.h: one rule of moat's compiled ruleset (nftc.h's text) as the
 * nf_tables expressions the kernel takes, written into a netlink message
 * without libnftables.
 *
 * libnftables reads every chain, set and object of the table into its
 * cache before it adds one rule (about 0.9 s at 100,000 rules), so an
 * incremental apply's few rules cost as much as reading the table.  moat
 * writes its rules from a small vocabulary; this encodes that vocabulary
 * exactly as nft 1.0.6 does (its expressions, their order, the implicit
 * dependencies such as "meta nfproto ipv4" before "ip saddr"), so that
 * the kernel holds the same rule either way (tests/lab/nfrule.sh compares
 * the kernel's own dump of both).  Anything outside the vocabulary is
 * refused, and the caller sends it through libnftables instead.
 */
#ifndef MOAT_NFRULE_H
#define MOAT_NFRULE_H

#include <libmnl/libmnl.h>
#include <stddef.h>

/* The longest rule text nfrule_put takes, and the most bytes it adds to
 * a message. */
#define NFRULE_TEXT_MAX		1024
#define NFRULE_MSG_MAX		4096

/* The most elements of an anonymous set a rule may hold. */
#define NFRULE_ANON_MAX		32

/*
 * An anonymous set or map written inside a rule, as the base chains hold
 * them: "icmpv6 type { nd-neighbor-solicit, ... }", "iifname { "eth1",
 * "eth2" }", "iifname vmap { "eth1" : jump zone_LAN, ... }", "meta day
 * { 0, 6 }", a one-to-one NAT's "dnat ip to ip daddr map { A : B, ... }".  The kernel takes it as a set of its own (named "__set%d" or
 * "__map%d", the kernel picks the number), declared and filled in the
 * same transaction before the rule that looks it up by its id: the caller
 * sends it (NEWSET with these attributes, NEWSETELEM) before the rule.
 */
struct nfrule_set {
	uint32_t	 id;		/* the set id the rule names */
	bool		 map;		/* a map ("__map%d") */
	uint32_t	 key_type, key_len;	/* nft's datatype, bytes */
	uint32_t	 data_type, data_len;	/* a map's: NFT_DATA_VERDICT
						   (0 bytes), or nft's */
	unsigned char	 udata[32];	/* libnftables' user data, exact */
	size_t		 udata_len;
	size_t		 n;
	struct nfrule_elem {
		unsigned char	 key[16];
		unsigned char	 data[16];	/* a data map's value */
		int		 code;		/* a verdict map's verdict */
		char		 chain[256];	/* its jump's or goto's */
	}		 el[NFRULE_ANON_MAX];
};

/* The most anonymous sets one rule holds (the gateways' "fib daddr
 * oifname { ... } iifname vmap { ... }": two). */
#define NFRULE_ANON_SETS	2

/* A rule's anonymous sets: ids id, id + 1, ... in the order they come. */
struct nfrule_anon {
	uint32_t	 id;		/* in: the first set id to use */
	size_t		 n;		/* out: how many the rule holds */
	struct nfrule_set set[NFRULE_ANON_SETS];
};

/* Put rule text s (len bytes: what follows "add rule inet moat CHAIN ")
 * into nlh as NFTA_RULE_EXPRESSIONS and NFTA_RULE_USERDATA (its comment):
 * 0; 1 when s holds anything this encoder does not know, or is longer
 * than NFRULE_TEXT_MAX (nlh is then to be dropped).  nlh must have
 * NFRULE_MSG_MAX bytes of room.  With anon, a rule may hold anonymous
 * sets (filled in there, anon->n of them); without (NULL), such a rule is
 * 1. */
int	 nfrule_put(struct nlmsghdr *nlh, const char *s, size_t len,
	    struct nfrule_anon *anon);

/* A chain's, set's or counter's name as nftc writes them ([A-Za-z0-9_],
 * n bytes at s) into buf, NUL-terminated: 0; -1 when it is not one, or
 * does not fit in size. */
int	 nfrule_name(const char *s, size_t n, char *buf, size_t size);

#endif

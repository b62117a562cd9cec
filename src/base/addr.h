/* addr.h: IPv4 and IPv6 literals as numbers in one 128-bit space.
 *
 * An IPv4 address a is the number of the IPv6 address ::ffff:a (RFC 4291
 * 2.5.5.2), so a set of addresses of both families is one interval set.
 * That block is IPv4's alone: an IPv6 literal never covers it (::/0 is
 * every IPv6 address, not every address), and the IPv4-mapped literal
 * ::ffff:a.b.c.d is refused (Linux drops IPv6 packets from such an
 * address; write the IPv4 address).  doc/design/sets.md says more.
 */
#ifndef MOAT_ADDR_H
#define MOAT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/iset.h"

enum addr_family {
	FAM_NONE = 0,
	FAM_V4 = 1,
	FAM_V6 = 2,
	FAM_BOTH = 3,
};

#define V4_BASE		((u128)0xffff << 32)
#define V4_LAST		(V4_BASE | 0xffffffffu)

enum addr_lit_kind {
	LIT_HOST = 0,
	LIT_PREFIX,
	LIT_RANGE,
};

/* One literal as written: a host, a network or a range.  (The members
 * are in the order that leaves the least padding: a 100,000-rule policy
 * holds some 200,000 of them.) */
struct addr_lit {
	u128			lo, hi;	/* the addresses it covers */
	enum addr_lit_kind	kind;
	enum addr_family	family;
	int			plen;	/* prefix length in its family (LIT_PREFIX) */
};

/* Longest text addr_format writes, with the NUL. */
#define ADDR_STRLEN	46

/* Parse an address (no prefix).  Returns 0, or -1 with a reason in err. */
int	 addr_parse(const char *s, u128 *out, enum addr_family *fam,
	    char *err, size_t errlen);
/*
 * Parse a literal of a policy: ADDR, ADDR/LEN, ADDR/MASK (IPv4), ADDR-ADDR.
 * With host_bits false, a network with host bits set is an error and hint
 * gets the corrected network.  Returns 0, or -1 with err (and maybe hint).
 */
int	 addr_parse_lit(const char *s, bool host_bits, struct addr_lit *out,
	    char *err, size_t errlen, char *hint, size_t hintlen);
/*
 * The addresses lo..hi of family fam as intervals: an IPv6 span that
 * crosses the IPv4 block is the two pieces around it.  Returns how many
 * (0 to 2) were written to out.
 */
size_t	 addr_span(u128 lo, u128 hi, enum addr_family fam, struct ival out[2]);
/* Interval v cut at the IPv4 block's edges, the pieces each of one family
 * (what an nftables set of one family holds); how many (1 to 3). */
size_t	 addr_split(const struct ival *v, struct ival out[3]);
/*
 * s packed as moat writes sets of addresses to files and pipes (the feeds'
 * state files and reports): its intervals cut by family (addr_split),
 * each IPv4 one as two 32-bit numbers (8 bytes) at p4, each IPv6 one as
 * two 128-bit numbers (32 bytes) at p6, in this machine's byte order.
 * addr_pack_count says how many of each, for the room.
 */
void	 addr_pack_count(struct iset s, size_t *n4, size_t *n6);
void	 addr_pack(struct iset s, unsigned char *p4, unsigned char *p6);
/* The set of addresses a literal covers (addr_span of it). */
struct iset addr_lit_set(struct arena *a, const struct addr_lit *lit);
/* Write an address in its family's usual form. */
void	 addr_format(u128 a, char *buf, size_t len);
/* addr_format, and the length of what it wrote (without its NUL). */
size_t	 addr_format_len(u128 a, char *buf, size_t len);
/* A socket address's host alone (IPv4-mapped IPv6 as IPv4), or "?". */
void	 addr_sockaddr_host(const struct sockaddr_storage *ss, char *buf,
	    size_t len);
/* A socket address as "HOST:PORT", "[IPv6]:PORT" (IPv4-mapped IPv6 as
 * IPv4), or "?". */
void	 addr_sockaddr_format(const struct sockaddr_storage *ss, char *buf,
	    size_t len);
/* "HOST:PORT" or "[IPv6]:PORT", numeric, as a socket address: 0, or -1
 * when it is not one. */
int	 addr_hostport(const char *s, struct sockaddr_storage *ss,
	    socklen_t *len);
/* Write a literal in canonical form (host, a/len or a-b). */
void	 addr_lit_format(const struct addr_lit *lit, char *buf, size_t len);
/* The family an address belongs to. */
enum addr_family addr_family_of(u128 a);
/* The families a set has members in. */
enum addr_family addr_set_families(struct iset s);
/* The first and last address of the network of a (family-relative plen). */
void	 addr_network(u128 a, enum addr_family fam, int plen, u128 *lo,
	    u128 *hi);

/* True when a (of family fam) is no one host's: loopback, unspecified,
 * multicast, or IPv4's broadcast. */
bool	 addr_not_unicast(u128 a, enum addr_family fam);
/* True when ss's address is one of this host's (an address of any
 * interface, or loopback); a failure to tell counts as true. */
bool	 addr_is_local(const struct sockaddr_storage *ss);

#endif

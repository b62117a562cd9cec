/* fqdn.h: the state of one fqdn object: its names, each name's addresses
 * (the last answer's, and those that left it, kept one TTL more), and each
 * name's last error.  Time comes in as an argument (ms, clock_ms's clock):
 * nothing here reads a clock, so tests drive it.  The rules:
 * doc/design/feeds.md.
 */
#ifndef MOAT_FQDN_H
#define MOAT_FQDN_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/iset.h"
#include "net/dns.h"

#define FQDN_ADDR_MAX	256	/* addresses held of one name, grace ones too */

struct fqdn;

/* An object of n names (host names, a trailing dot allowed), none looked
 * up yet, all due now; NULL with err (not a host name, out of memory). */
struct fqdn	*fqdn_new(const char *const *names, size_t n, char *err,
		    size_t errlen);
void		 fqdn_free(struct fqdn *f);
/* How many names, and the i-th (lower case, no trailing dot). */
size_t		 fqdn_count(const struct fqdn *f);
const char	*fqdn_name(const struct fqdn *f, size_t i);
/* The earliest moment (ms) anything must happen: a name's refresh, or the
 * end of an address's grace (LLONG_MAX with no names). */
long long	 fqdn_due(const struct fqdn *f);
/* Ask A and AAAA of every name due at now, all at once through d, waiting
 * no later than deadline, and take the answers as fqdn_answer and
 * fqdn_fail do (a name whose two questions came back, with an address, is
 * answered; any other outcome fails it). */
void		 fqdn_refresh(struct fqdn *f, struct dns *d, long long now,
		    unsigned min_ttl_s, unsigned max_ttl_s, long long deadline);
/* Name i answered at now with n addresses (u128, IPv4 as ::ffff:a) and ttl
 * seconds: they replace its addresses until the next refresh, at now +
 * ttl clamped to [min_ttl_s, max_ttl_s] (1 s at least); an address of the
 * previous answer that is not in this one stays until now + the TTL it
 * came with.  n == 0 is a failure ("no address"). */
void		 fqdn_answer(struct fqdn *f, size_t i, long long now,
		    const u128 *addrs, size_t n, uint32_t ttl, unsigned min_ttl_s,
		    unsigned max_ttl_s);
/* fqdn_answer of one family's question (fam: FAM_V4 for A, FAM_V6 for
 * AAAA) when the other's failed (why): that family's addresses are
 * replaced, the other's kept as they are, and the name stays failing
 * (why), due again at now + min_ttl_s.  FAM_NONE: fqdn_answer. */
void		 fqdn_answer_family(struct fqdn *f, size_t i, long long now,
		    const u128 *addrs, size_t n, uint32_t ttl,
		    unsigned min_ttl_s, unsigned max_ttl_s,
		    enum addr_family fam, const char *why);
/* Name i failed at now (why: SERVFAIL, no answer in time, no such name):
 * it keeps its last good addresses, keeps why, and is due again at now +
 * min_ttl_s (1 s at least). */
void		 fqdn_fail(struct fqdn *f, size_t i, long long now,
		    const char *why, unsigned min_ttl_s);
/* The union of every name's addresses at now (the last answers', and those
 * still in their grace), built in a. */
struct iset	 fqdn_contents(const struct fqdn *f, struct arena *a,
		    long long now);
/* Why name i's last lookup failed, or NULL when it succeeded (or none was
 * made yet). */
const char	*fqdn_error(const struct fqdn *f, size_t i);
/* How many names fail now. */
size_t		 fqdn_failing(const struct fqdn *f);

#endif

/* peer.h: moatd to moatd over the sync link: the config applied on one
 * node sent to the other (push), and each node's news every few seconds
 * (hello: its state and its policy hash).  TCP to the peer's sync
 * address, port HA_SYNC_PORT, one request and one answer, each a frame
 * (base/frame.h) "HMAC\n" JSON.  The HMAC (SHA-256, with the ha block's
 * secret) covers a nonce the other side chose for this exchange and the
 * JSON: a message cannot be forged without the secret, nor replayed.
 * It is not encrypted: the sync link is the two nodes' own cable.
 *
 *   server -> client   {"nonce": N1}                          (no HMAC)
 *   client -> server   HMAC(N1, req)  {"op", "nonce": N2, ...}
 *   server -> client   HMAC(N2, ans)  {"status", ...}
 */
#ifndef MOAT_HA_PEER_H
#define MOAT_HA_PEER_H

#include <jansson.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "policy/policy.h"

#define PEER_TIMEOUT_MS		3000	/* connect, and each message */
#define PEER_PUSH_TIMEOUT_MS	30000	/* the peer checks and applies */

/* Ask the peer at host (its sync address) over TCP: req (with "op") in,
 * *ans out (the caller decrefs).  0, or -1 with err. */
int	 peer_ask(const char *host, const char *secret, json_t *req,
	    int timeout_ms, json_t **ans, struct strbuf *err);
/* The same on a connected fd (peer_ask dials, then does this). */
int	 peer_exchange(int fd, const char *secret, json_t *req,
	    int timeout_ms, json_t **ans, struct strbuf *err);
/* The server's side of one exchange on the accepted fd: the request
 * (checked), or NULL with err (forged, replayed, cut, not JSON).  *nonce
 * gets the client's nonce for peer_answer. */
json_t	*peer_request(int fd, const char *secret, char nonce[65],
	    struct strbuf *err);
/* Send the answer to a request peer_request read.  0 or -1. */
int	 peer_answer(int fd, const char *secret, const char *nonce,
	    json_t *ans);
/* The policy hash two nodes compare: the config in canonical form
 * without what is the node's own (interface addresses, the ha block). */
uint64_t peer_policy_hash(const struct policy *p);
/*
 * The config a node receives, made its own: the text of the sender's
 * config with this node's interface addresses (by interface name) and
 * this node's ha block, in canonical form, in out.  An interface the
 * sender has and this node has not is an error (its address here is
 * unknown).  0, or -1 with err.
 */
int	 peer_rebase(const struct policy *theirs, const struct policy *ours,
	    struct strbuf *out, struct strbuf *err);

#endif

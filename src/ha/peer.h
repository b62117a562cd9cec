/* peer.h: moatd to moatd over the sync link: the config applied on one
 * node sent to the other (push), and each node's news every few seconds
 * (hello: its state and its policy hash).  TCP to the peer's sync
 * address, port HA_SYNC_PORT, one request and one answer, each made of
 * frames (base/frame.h).  An HMAC (SHA-256, with the ha block's secret)
 * covers a nonce the other side chose for this exchange and the JSON: a
 * message cannot be forged without the secret, nor replayed.  It is not
 * encrypted: the sync link is the two nodes' own cable.
 *
 *   server -> client   {"nonce": N1}                              (no HMAC)
 *   client -> server   HMAC(N1, head) "\n" head, at most PEER_HEAD_MAX:
 *                      {"op", "nonce": N2, "body": LEN, "sha256": D, ...}
 *   client -> server   the body, LEN bytes whose SHA-256 is D (a push's
 *                      config; no frame when LEN is 0)
 *   server -> client   HMAC(N2, ans) "\n" ans  {"status", ...}
 *
 * A server reads at most PEER_HEAD_MAX bytes from a client that does not
 * know the secret, and gives the head PEER_TIMEOUT_MS from the connection,
 * the body PEER_BODY_TIMEOUT_MS: whole-message deadlines, not per read.
 */
#ifndef MOAT_HA_PEER_H
#define MOAT_HA_PEER_H

#include <jansson.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "policy/policy.h"

#define PEER_TIMEOUT_MS		3000	/* connect; a hello whole; a head */
#define PEER_BODY_TIMEOUT_MS	10000	/* a request's body, from the connection */
#define PEER_PUSH_TIMEOUT_MS	30000	/* a push whole: the peer checks, applies */
#define PEER_HEAD_MAX		1024	/* read before the signature is checked */
#define PEER_BODY_MAX		(4u << 20)	/* a config */
#define PEER_ANSWER_MAX		(64u << 10)
#define PEER_GREETING_MAX	128

/* Ask the peer at host (its sync address) over TCP: req (with "op"; a
 * "text" goes as the body) in, *ans out (the caller decrefs), the whole
 * exchange within timeout_ms.  0, or -1 with err. */
int	 peer_ask(const char *host, const char *secret, json_t *req,
	    int timeout_ms, json_t **ans, struct strbuf *err);
/* The same on a connected fd (peer_ask dials, then does this). */
int	 peer_exchange(int fd, const char *secret, json_t *req,
	    int timeout_ms, json_t **ans, struct strbuf *err);

/* The server's side, in steps that never wait (ha/syncd.c drives them
 * over non-blocking sockets). */
/* A fresh nonce in nonce and the greeting that carries it in out. */
void	 peer_greeting(char nonce[65], struct strbuf *out);
/* A head frame checked against the secret and our nonce: the request
 * (the caller decrefs), *body_len the body's announced length (at most
 * PEER_BODY_MAX), theirs the client's nonce; or NULL with err (forged,
 * replayed, not JSON, no op or nonce, or signed for another node than
 * me, the address the connection came to: peer_sock_addr). */
json_t	*peer_head(const char *msg, size_t len, const char *secret,
	    const char *nonce, const char *me, size_t *body_len,
	    char theirs[65], struct strbuf *err);
/* The body checked against the digest its head announced and set as the
 * request's "text".  0, or -1 with err. */
int	 peer_body(json_t *req, const char *body, size_t len,
	    struct strbuf *err);
/* The answer's frame payload, signed with the client's nonce and
 * saying where it was given (me: the address the connection came to,
 * which the client checks is the one it dialed), in out.  0, or -1. */
int	 peer_answer(const char *secret, const char *theirs,
	    const char *me, json_t *ans, struct strbuf *out);
/* The address of fd's own end (local) or of its peer, an IPv4 one as
 * IPv4 (not ::ffff:), into out: 0, or -1. */
#define PEER_ADDR_LEN	46	/* INET6_ADDRSTRLEN */
int	 peer_sock_addr(int fd, bool local, char out[PEER_ADDR_LEN]);

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

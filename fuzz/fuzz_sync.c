/* fuzz_sync.c: libFuzzer target for what the HA sync link's server reads
 * (ha/peer.h, ha/syncd.c): frames that arrive in pieces of any size
 * (base/frame.h's frame_in_read, as moatd-sync and moatd's parent read
 * them), a request's head as it comes off the cable (checked against the
 * secret: refused unless signed), the same head signed with the secret
 * (so that every field check after the signature is reached), its body
 * against the digest the head announced, and the answer signed back.
 * Input: a byte of flags, a byte that sets the piece size, then the bytes;
 * the head ends at the first NUL, the body is what follows.  Built with
 * clang -fsanitize=fuzzer by scripts/fuzz.sh sync; replay.c runs the
 * corpus in the test suite. */
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/frame.h"
#include "base/strbuf.h"
#include "ha/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "shared secret";
static const char nonce[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The bytes written to a socket pair piece by piece, frames read from the
 * other end as they come. */
static void
frames(const uint8_t *data, size_t size, size_t piece, size_t max)
{
	struct frame_in in;
	size_t off = 0;
	int sp[2], rc = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == -1)
		return;
	memset(&in, 0, sizeof(in));
	while (off < size && rc != -1) {
		size_t n = size - off < piece ? size - off : piece;

		if (write(sp[0], data + off, n) != (ssize_t)n)
			break;
		off += n;
		while ((rc = frame_in_read(sp[1], &in, max)) == 1) {
			if (in.buf[in.len] != '\0')
				abort();
			frame_in_reset(&in);
		}
	}
	close(sp[0]);
	if (rc != -1)
		while ((rc = frame_in_read(sp[1], &in, max)) == 1)
			frame_in_reset(&in);
	frame_in_reset(&in);
	close(sp[1]);
}

/* head signed with the nonce, as a client with the secret would. */
static char *
signed_head(const char *head, size_t len, size_t *out)
{
	unsigned char mac[32];
	char *msg = malloc(65 + len), *tosign = malloc(66 + len);
	size_t i;

	if (msg == NULL || tosign == NULL)
		abort();
	memcpy(tosign, nonce, 64);
	tosign[64] = '\n';
	memcpy(tosign + 65, head, len);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, strlen(secret), tosign,
	    65 + len, mac) < 0)
		abort();
	free(tosign);
	for (i = 0; i < sizeof(mac); i++)
		snprintf(msg + 2 * i, 3, "%02x", mac[i]);
	msg[64] = '\n';
	memcpy(msg + 65, head, len);
	*out = 65 + len;
	return msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	size_t hlen, blen, len, body_len;
	struct strbuf err, out;
	char theirs[65], *msg;
	json_t *r;

	if (size < 2)
		return 0;
	frames(data + 2, size - 2, (size_t)(data[1] % 64) + 1,
	    data[0] & 4 ? PEER_HEAD_MAX : 64);
	data += 2;
	size -= 2;
	nul = memchr(data, '\0', size);
	hlen = nul != NULL ? (size_t)(nul - data) : size;
	blen = nul != NULL ? size - hlen - 1 : 0;
	if (data[-2] & 1)
		msg = signed_head((const char *)data, hlen, &len);
	else {
		if ((msg = malloc(hlen + 1)) == NULL)
			abort();
		memcpy(msg, data, hlen);
		len = hlen;
	}
	strbuf_init(&err, 0);
	strbuf_init(&out, 0);
	r = peer_head(msg, len, secret, nonce, "127.0.0.1", &body_len, theirs,
	    &err);
	if (r == NULL && err.len == 0)
		abort();	/* a refusal always says why */
	if (r != NULL) {
		if (body_len > PEER_BODY_MAX || strlen(theirs) != 64)
			abort();
		if (peer_body(r, (const char *)data + hlen + (nul != NULL),
		    blen, &err) == 0 && peer_answer(secret, theirs,
		    "127.0.0.1", r, &out) == -1)
			abort();
		json_decref(r);
	}
	free(msg);
	strbuf_free(&err);
	strbuf_free(&out);
	return 0;
}

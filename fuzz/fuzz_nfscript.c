/* fuzz_nfscript.c: libFuzzer target for moat's compiled nft text read
 * into its own nf_tables batch (enforce/nfdelta.h: nfdelta.c, nfrule.c,
 * nfset.c), never sent to the kernel.  The text normally comes from
 * moat's own compiler, through root-written state files; whatever it
 * says, the reader must stay in bounds.  Input: the script, then
 * optionally a NUL and the ruleset in force, then a NUL and the new one
 * (a part left out is NULL), so that element lines, named from the whole
 * rulesets, are read too; each part in a buffer of its own size.
 * Invariants: no -1 (memory does not run out here); refused (1), nothing
 * queued and the line named inside the script; taken (0), the batch is a
 * batch's begin and its messages, end to end, each of table inet moat's
 * family with its sequence number, its attributes and every nest of them
 * well formed, their padding zero, and the same bytes when the script
 * is read again.
 * Built with clang -fsanitize=fuzzer by scripts/fuzz.sh nfscript;
 * replay.c runs the corpus (fuzz/corpus-nfscript) in the test suite. */
#include <linux/netfilter/nfnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/nfdelta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of n bytes at p, in a buffer of its own size. */
static char *
part(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* The attributes of n bytes at p, tiling them; a nest's, each in turn. */
static void
attrs(const unsigned char *p, size_t n, int depth)
{
	size_t off = 0, i;

	if (depth > 8)
		abort();
	while (off < n) {
		const struct nlattr *a = (const struct nlattr *)(p + off);

		if (n - off < sizeof(*a) || a->nla_len < sizeof(*a) ||
		    a->nla_len > n - off)
			abort();
		if (a->nla_type & NLA_F_NESTED)
			attrs(p + off + MNL_ATTR_HDRLEN, a->nla_len -
			    MNL_ATTR_HDRLEN, depth + 1);
		/* its padding zero (a fresh batch's buffer is) */
		for (i = a->nla_len; i < (size_t)MNL_ALIGN(a->nla_len) &&
		    off + i < n; i++)
			if (p[off + i] != 0)
				abort();
		off += MNL_ALIGN(a->nla_len);
	}
	if (off != MNL_ALIGN(n))
		abort();
}

/* The batch: its begin, then msgs messages of nf_tables for table inet
 * moat, end to end, their sequence numbers following the begin's. */
static void
check_batch(const unsigned char *buf, size_t len, size_t msgs)
{
	size_t off = 0, i;
	uint32_t seq0 = 0;

	if (msgs == 0) {
		if (len != 0)
			abort();
		return;
	}
	for (i = 0; i <= msgs; i++) {
		const struct nlmsghdr *nlh;
		const struct nfgenmsg *g;
		size_t head = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*g));

		if (len - off < head)
			abort();
		nlh = (const struct nlmsghdr *)(buf + off);
		g = (const struct nfgenmsg *)(buf + off + MNL_NLMSG_HDRLEN);
		if (nlh->nlmsg_len < head || nlh->nlmsg_len > len - off)
			abort();
		if (i == 0) {
			if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN)
				abort();
			seq0 = nlh->nlmsg_seq;
		} else if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES ||
		    g->nfgen_family != 1 || nlh->nlmsg_seq != seq0 + i)
			abort();
		attrs(buf + off + head, nlh->nlmsg_len - head, 0);
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	if (off != len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cut[2] = { NULL, NULL };
	char *s, *old = NULL, *new = NULL, *first;
	const char *refused = NULL;
	struct nfset *b;
	const void *bytes;
	size_t n, len, flen, msgs;
	bool only = false;
	int rc;

	if ((cut[0] = memchr(data, '\0', size)) != NULL)
		cut[1] = memchr(cut[0] + 1, '\0', size - (size_t)(cut[0] + 1 -
		    data));
	n = cut[0] != NULL ? (size_t)(cut[0] - data) : size;
	s = part(data, n);
	if (cut[0] != NULL) {
		n = cut[1] != NULL ? (size_t)(cut[1] - cut[0] - 1) :
		    size - (size_t)(cut[0] + 1 - data);
		old = part(cut[0] + 1, n);
		/* without a second NUL, the same ruleset before and after */
		new = cut[1] != NULL ? part(cut[1] + 1, size - (size_t)(cut[1] +
		    1 - data)) : part(cut[0] + 1, n);
	}
	if ((b = nfset_new()) == NULL)
		abort();
	rc = nfdelta_script(b, s, old, new, &only, &refused);
	if (rc == -1)
		abort();
	if (rc == 1) {
		if (nfset_pending(b) != 0 || refused == NULL || refused < s ||
		    refused > s + strlen(s))
			abort();
		bytes = nfset_bytes(b, &len);
		if (len != 0)
			abort();
		goto out;
	}
	if (rc != 0)
		abort();
	msgs = nfset_pending(b);
	bytes = nfset_bytes(b, &len);
	check_batch(bytes, len, msgs);
	/* The same text reads the same (the batch's sequence numbers stay
	 * until a commit). */
	if ((first = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(first, bytes, len);
	flen = len;
	if (nfdelta_script(b, s, old, new, NULL, NULL) != 0 ||
	    nfset_pending(b) != msgs)
		abort();
	bytes = nfset_bytes(b, &len);
	if (len != flen || (len > 0 && memcmp(first, bytes, len) != 0))
		abort();
	free(first);
	nfset_reset(b);
out:
	nfset_free(b);
	free(s);
	free(old);
	free(new);
	return 0;
}

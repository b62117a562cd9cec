/* histdelta.h: an old config of the history kept as its difference from
 * the next entry's (apply.c keeps the last entries' configs whole). */
#ifndef MOAT_HISTDELTA_H
#define MOAT_HISTDELTA_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/*
 * The difference is what the two texts share at the start and at the end,
 * and the old text's bytes between: an edit of a rule or an object's
 * member in a config of 4.5 MB keeps a few hundred bytes.  A file of it:
 *
 *	moat-history-delta 1 BASE PREFIX SUFFIX MIDDLE HASH\n
 *	MIDDLE bytes
 *
 * BASE the entry whose config it is taken from (a later one), PREFIX and
 * SUFFIX the bytes of BASE's text kept at its start and its end, HASH the
 * FNV-1a of the whole old text (in hex), which a reading checks.
 */
struct histdelta {
	unsigned	 base;
	size_t		 prefix, suffix, middle;
	const char	*mid;		/* MIDDLE bytes, in the file read */
	uint64_t	 hash;
};

/* The file of old (olen bytes) taken from base's text next (nlen bytes)
 * into out (strbuf_failed: memory ran out). */
void	 histdelta_make(const char *old, size_t olen, const char *next,
	    size_t nlen, unsigned base, struct strbuf *out);
/* Read the file (len bytes) into *h: 0, or -1 when it is not one (a bad
 * header, sizes that do not add up). */
int	 histdelta_parse(const char *file, size_t len, struct histdelta *h);
/* The old text's length by h. */
size_t	 histdelta_size(const struct histdelta *h);
/* The old text from h and base's text (blen bytes) into out (room for
 * histdelta_size(h) bytes, not base's): 0, or -1 (errno EINVAL) when h
 * does not fit base.  The hash is not checked: the caller checks the
 * last text of a chain. */
int	 histdelta_put(const struct histdelta *h, const char *base,
	    size_t blen, char *out);
/* The old text (malloc'd, NUL-terminated, its length in *len) from h and
 * base's text (blen bytes): NULL with errno EINVAL when h does not fit it
 * or the result's hash is not h's, ENOMEM when memory runs out. */
char	*histdelta_build(const struct histdelta *h, const char *base,
	    size_t blen, size_t *len);

#endif

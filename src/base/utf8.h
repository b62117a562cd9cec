/* utf8.h: cutting text at a byte limit without splitting a character.
 *
 * Rule comments, paths and user names are UTF-8; a cut in the middle of a
 * sequence makes the rest of the line invalid (a JSON encoder refuses it,
 * and a log record would be lost).  Every place that cuts such text to a
 * size goes through here. */
#ifndef MOAT_UTF8_H
#define MOAT_UTF8_H

#include <stddef.h>

/* The length of the longest prefix of s[0..len) that ends on a character
 * boundary: len itself unless s ends inside a multi-byte sequence. */
size_t	 utf8_boundary(const char *s, size_t len);
/* Copy src into dst (size bytes, with the NUL), cut at a character
 * boundary when it does not fit.  Returns the length copied. */
size_t	 utf8_copy(char *dst, size_t size, const char *src);
/* Cut the NUL-terminated s back to a character boundary (after a cut by
 * snprintf's precision or size). */
void	 utf8_trim(char *s);

#endif

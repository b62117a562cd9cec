/* utf8.c: cuts at character boundaries; see utf8.h. */
#include "base/utf8.h"

#include <string.h>

size_t
utf8_boundary(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = len, back = 0, need;

	/* Walk back over continuation bytes to the lead byte, at most 3. */
	while (i > 0 && back < 3 && (p[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0 || p[i - 1] < 0x80)
		return len;		/* ASCII, or no lead byte: leave it */
	need = p[i - 1] >= 0xf0 ? 3 : p[i - 1] >= 0xe0 ? 2 :
	    p[i - 1] >= 0xc0 ? 1 : 0;
	if ((p[i - 1] & 0xc0) == 0x80 || need == back)
		return len;		/* complete (or not UTF-8 at all) */
	return i - 1;			/* drop the unfinished character */
}

size_t
utf8_copy(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (size == 0)
		return 0;
	if (len >= size)
		len = utf8_boundary(src, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return len;
}

void
utf8_trim(char *s)
{
	s[utf8_boundary(s, strlen(s))] = '\0';
}

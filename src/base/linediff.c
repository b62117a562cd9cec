/* linediff.c: see linediff.h. */
#include "base/linediff.h"

#include <stdlib.h>
#include <string.h>

/* The lines of a text. */
static size_t
split_lines(char *text, char ***out)
{
	size_t n = 0, cap = 0;
	char *s = text, **v = NULL;

	while (*s != '\0') {
		char *nl = strchr(s, '\n');

		if (n == cap) {
			char **w = realloc(v, (cap = cap ? cap * 2 : 64) *
			    sizeof(*w));

			if (w == NULL)
				break;
			v = w;
		}
		v[n++] = s;
		if (nl == NULL)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	*out = v;
	return n;
}

int
linediff(char *a, char *b, size_t max_cells,
    void (*emit)(void *, char, const char *), void *arg)
{
	char **la = NULL, **lb = NULL;
	size_t na = split_lines(a, &la), nb = split_lines(b, &lb), i, j;
	unsigned *lcs = NULL;
	int rc = -1;

	if ((na > 0 && la == NULL) || (nb > 0 && lb == NULL) ||
	    (na + 1) * (nb + 1) > max_cells || (lcs = calloc((na + 1) *
	    (nb + 1), sizeof(*lcs))) == NULL)
		goto out;
#define L(i, j)	lcs[(i) * (nb + 1) + (j)]
	for (i = na; i-- > 0; )
		for (j = nb; j-- > 0; )
			L(i, j) = strcmp(la[i], lb[j]) == 0 ? L(i + 1, j + 1) +
			    1 : L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) :
			    L(i, j + 1);
	for (i = 0, j = 0; i < na || j < nb; ) {
		if (i < na && j < nb && strcmp(la[i], lb[j]) == 0) {
			emit(arg, ' ', la[i]);
			i++;
			j++;
		} else if (j < nb && (i == na || L(i, j + 1) >= L(i + 1, j)))
			emit(arg, '+', lb[j++]);
		else
			emit(arg, '-', la[i++]);
	}
#undef L
	rc = 0;
out:
	free(lcs);
	free(la);
	free(lb);
	return rc;
}

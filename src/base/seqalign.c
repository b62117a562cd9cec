/* seqalign.c: the alignment of two key sequences; see seqalign.h.
 *
 * Myers, "An O(ND) Difference Algorithm and Its Variations" (1986): the
 * furthest point reached on each diagonal k = x - y after d edits, V[k],
 * follows from V[k - 1] and V[k + 1] after d - 1; the rows of V kept per
 * d give the path back.
 */
#include "base/seqalign.h"

#include <stdlib.h>
#include <string.h>

static void
keep(size_t *a2b, size_t *b2a, size_t i, size_t j)
{
	a2b[i] = j;
	b2a[j] = i;
}

long
seq_align(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
    size_t max_d, size_t *a2b, size_t *b2a)
{
	size_t head = 0, tail = 0, n, m, i, lim, w, d, found = SEQ_NONE;
	long *trace, *v, k, x, y, off;

	for (i = 0; i < na; i++)
		a2b[i] = SEQ_NONE;
	for (i = 0; i < nb; i++)
		b2a[i] = SEQ_NONE;
	if (na == 0 || nb == 0)
		return na + nb > max_d ? -1 : (long)(na + nb);
	for (; head < na && head < nb && a[head] == b[head]; head++)
		keep(a2b, b2a, head, head);
	for (; tail < na - head && tail < nb - head &&
	    a[na - 1 - tail] == b[nb - 1 - tail]; tail++)
		keep(a2b, b2a, na - 1 - tail, nb - 1 - tail);
	a += head;
	b += head;
	n = na - head - tail;
	m = nb - head - tail;
	if (n == 0 || m == 0)
		return n + m > max_d ? -1 : (long)(n + m);

	lim = n + m < max_d ? n + m : max_d;
	w = 2 * lim + 3;		/* diagonals -lim - 1 .. lim + 1 */
	off = (long)lim + 1;
	if (lim + 2 > SIZE_MAX / sizeof(long) / w ||
	    (trace = calloc((lim + 2) * w, sizeof(long))) == NULL)
		return -1;
	/* trace[0 .. w) is the row before d = 0; row d + 1 is V after d. */
	v = trace;
	v[off + 1] = 0;
	for (d = 0; d <= lim && found == SEQ_NONE; d++) {
		long *prev = trace + d * w, *cur = trace + (d + 1) * w;

		memcpy(cur, prev, w * sizeof(long));
		for (k = -(long)d; k <= (long)d; k += 2) {
			if (k == -(long)d || (k != (long)d &&
			    prev[off + k - 1] < prev[off + k + 1]))
				x = prev[off + k + 1];		/* b inserted */
			else
				x = prev[off + k - 1] + 1;	/* a deleted */
			y = x - k;
			while (x < (long)n && y < (long)m && a[x] == b[y]) {
				x++;
				y++;
			}
			cur[off + k] = x;
			if (x >= (long)n && y >= (long)m) {
				found = d;
				break;
			}
		}
	}
	if (found == SEQ_NONE) {
		free(trace);
		return -1;
	}
	/* Back from (n, m): each d's snake is kept, then its one edit. */
	x = (long)n;
	y = (long)m;
	for (d = found; d > 0; d--) {
		long *prev = trace + d * w, pk, px, py;

		k = x - y;
		if (k == -(long)d || (k != (long)d &&
		    prev[off + k - 1] < prev[off + k + 1]))
			pk = k + 1;
		else
			pk = k - 1;
		px = prev[off + pk];
		py = px - pk;
		/* The snake from the edit's end to (x, y). */
		while (x > px + (pk == k - 1) && y > py + (pk == k + 1)) {
			x--;
			y--;
			keep(a2b, b2a, head + (size_t)x, head + (size_t)y);
		}
		x = px;
		y = py;
	}
	while (x > 0 && y > 0) {
		x--;
		y--;
		keep(a2b, b2a, head + (size_t)x, head + (size_t)y);
	}
	free(trace);
	return (long)found;
}

/* linediff.h: the difference of two texts, line by line (the longest
 * common subsequence: for configs, which are small). */
#ifndef MOAT_LINEDIFF_H
#define MOAT_LINEDIFF_H

#include <stddef.h>

/*
 * a and b as lines (their newlines are made NULs), emitted in order to
 * emit with ' ' (a line of both), '-' (of a only) or '+' (of b only):
 * 0, or -1 (nothing emitted) when the table of the lines' pairs would
 * have more than max_cells cells, or memory runs out.
 */
int	 linediff(char *a, char *b, size_t max_cells,
	    void (*emit)(void *arg, char tag, const char *line), void *arg);

#endif

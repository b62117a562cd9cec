/* diag.h: errors and warnings that point at file:line:column. */
#ifndef MOAT_DIAG_H
#define MOAT_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/arena.h"

struct loc {
	const char	*file;
	int		 line;	/* 1-based; 0 = no position (built-in) */
	int		 col;	/* 1-based */
};

enum diag_severity {
	DIAG_ERROR = 0,
	DIAG_WARNING,
	DIAG_NOTE,
};

struct diag {
	enum diag_severity	 severity;
	struct loc		 loc;
	char			*msg;
	size_t			 seq;	/* order of finding, to sort stably */
};

struct diags {
	struct arena	*arena;
	struct diag	*v;
	size_t		 n, cap;
	size_t		 nerrors, nwarnings;
	size_t		 max_errors;	/* stop recording errors past this */
};

/* Start an empty list whose messages live in arena a. */
void	 diags_init(struct diags *d, struct arena *a);
/* Record a diagnostic at loc. */
void	 diag_add(struct diags *d, enum diag_severity sev, struct loc loc,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Record an error at loc. */
#define diag_error(d, loc, ...)	diag_add((d), DIAG_ERROR, (loc), __VA_ARGS__)
/* Record a warning at loc. */
#define diag_warn(d, loc, ...)	diag_add((d), DIAG_WARNING, (loc), __VA_ARGS__)
/* True when no more errors are worth collecting. */
bool	 diags_full(const struct diags *d);
/* Order the diagnostics by line and column. */
void	 diags_sort(struct diags *d);
/* Print every diagnostic as "file:line:column: severity: message". */
void	 diags_print(const struct diags *d, FILE *fp);
/* Format one diagnostic into buf. */
void	 diag_format(const struct diag *dg, char *buf, size_t len);

#endif

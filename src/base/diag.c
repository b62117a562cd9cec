/* diag.c: diagnostics; see diag.h. */
#include "base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_ERRORS_DEFAULT	20

static const char *const severity_name[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARNING] = "warning",
	[DIAG_NOTE] = "note",
};

void
diags_init(struct diags *d, struct arena *a)
{
	d->arena = a;
	d->v = NULL;
	d->n = d->cap = 0;
	d->nerrors = d->nwarnings = 0;
	d->max_errors = MAX_ERRORS_DEFAULT;
}

bool
diags_full(const struct diags *d)
{
	return d->nerrors >= d->max_errors;
}

void
diag_add(struct diags *d, enum diag_severity sev, struct loc loc,
    const char *fmt, ...)
{
	struct diag *dg;
	va_list ap;
	char buf[1024];

	if (sev == DIAG_ERROR) {
		if (diags_full(d))
			return;
		d->nerrors++;
	} else if (sev == DIAG_WARNING)
		d->nwarnings++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ARENA_PUSH(d->arena, d->v, d->n, d->cap);
	dg = &d->v[d->n - 1];
	dg->severity = sev;
	dg->loc = loc;
	dg->msg = arena_strdup(d->arena, buf);
	dg->seq = d->n - 1;
}

void
diag_format(const struct diag *dg, char *buf, size_t len)
{
	if (dg->loc.line > 0)
		snprintf(buf, len, "%s:%d:%d: %s: %s", dg->loc.file,
		    dg->loc.line, dg->loc.col, severity_name[dg->severity],
		    dg->msg);
	else
		snprintf(buf, len, "%s: %s: %s",
		    dg->loc.file ? dg->loc.file : "moat",
		    severity_name[dg->severity], dg->msg);
}

static int
diag_cmp(const void *pa, const void *pb)
{
	const struct diag *a = pa, *b = pb;

	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	/* Same place: keep the order they were found in. */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void
diags_sort(struct diags *d)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), diag_cmp);
}

void
diags_print(const struct diags *d, FILE *fp)
{
	char buf[1400];
	size_t i;

	for (i = 0; i < d->n; i++) {
		diag_format(&d->v[i], buf, sizeof(buf));
		fprintf(fp, "%s\n", buf);
	}
}

/* nametab.h: names to pointers, an open-addressing hash table in an
 * arena (keys are not copied: they must live as long as the table). */
#ifndef MOAT_NAMETAB_H
#define MOAT_NAMETAB_H

#include <stddef.h>

#include "base/arena.h"

struct nametab;

/* An empty table for about hint names. */
struct nametab	*nametab_new(struct arena *a, size_t hint);
/* The value of name, or NULL. */
void		*nametab_get(const struct nametab *t, const char *name);
/* Insert; returns the existing value instead if the name is taken. */
void		*nametab_put(struct nametab *t, const char *name, void *value);

#endif

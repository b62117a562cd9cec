/* nametab.c: see nametab.h. */
#include "base/nametab.h"

#include <stdint.h>
#include <string.h>

/* Open-addressing hash table from names to pointers. */
struct nametab {
	struct arena	*arena;
	size_t		 n, cap;	/* cap is a power of two */
	const char	**keys;
	void		**vals;
};

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

struct nametab *
nametab_new(struct arena *a, size_t hint)
{
	struct nametab *t = arena_alloc(a, sizeof(*t));

	t->arena = a;
	t->cap = 64;
	while (t->cap < hint * 2)
		t->cap *= 2;
	t->keys = arena_array(a, t->cap, sizeof(*t->keys));
	t->vals = arena_array(a, t->cap, sizeof(*t->vals));
	return t;
}

static size_t
nametab_slot(const struct nametab *t, const char *name)
{
	size_t i = (size_t)hash_name(name) & (t->cap - 1);

	while (t->keys[i] != NULL && strcmp(t->keys[i], name) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

void *
nametab_get(const struct nametab *t, const char *name)
{
	size_t i = nametab_slot(t, name);

	return t->keys[i] != NULL ? t->vals[i] : NULL;
}

void *
nametab_put(struct nametab *t, const char *name, void *value)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		struct nametab old = *t;
		size_t j;

		t->cap *= 2;
		t->n = 0;
		t->keys = arena_array(t->arena, t->cap, sizeof(*t->keys));
		t->vals = arena_array(t->arena, t->cap, sizeof(*t->vals));
		for (j = 0; j < old.cap; j++)
			if (old.keys[j] != NULL)
				nametab_put(t, old.keys[j], old.vals[j]);
	}
	i = nametab_slot(t, name);
	if (t->keys[i] != NULL)
		return t->vals[i];
	t->keys[i] = name;
	t->vals[i] = value;
	t->n++;
	return NULL;
}


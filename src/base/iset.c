/* iset.c: interval sets; see iset.h. */
#include "base/iset.h"

#include <stdlib.h>
#include <string.h>

static int
ival_cmp(const void *pa, const void *pb)
{
	const struct ival *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

/* Merge sorted intervals in place; returns the new count. */
static size_t
ival_merge(struct ival *v, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		if (out > 0 && (v[out - 1].hi == U128_MAX ||
		    v[i].lo <= v[out - 1].hi + 1)) {
			if (v[i].hi > v[out - 1].hi)
				v[out - 1].hi = v[i].hi;
			continue;
		}
		v[out++] = v[i];
	}
	return out;
}

struct iset
iset_from(struct arena *a, const struct ival *v, size_t n)
{
	struct iset s = { 0, NULL };

	if (n == 0)
		return s;
	s.v = arena_array_raw(a, n, sizeof(*s.v));
	memcpy(s.v, v, n * sizeof(*v));
	qsort(s.v, n, sizeof(*s.v), ival_cmp);
	s.n = ival_merge(s.v, n);
	return s;
}

struct from_job {
	struct arena		*a;
	const struct ival	*v;
	size_t			 n;
	struct iset		*out;
};

static int
from_run(void *arg)
{
	struct from_job *j = arg;

	*j->out = iset_from(j->a, j->v, j->n);
	return 0;
}

int
iset_from_caught(struct arena *a, const struct ival *v, size_t n,
    struct iset *out)
{
	struct from_job j = { a, v, n, out };

	return arena_catch(a, from_run, &j);
}

struct iset
iset_adopt(struct ival *v, size_t n)
{
	struct iset s = { n, v };
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (v[i].hi >= v[i + 1].lo || v[i].hi + 1 == v[i + 1].lo)
			break;
	if (i + 1 < n) {
		/* Not in order: sorted and merged where it lies. */
		qsort(v, n, sizeof(*v), ival_cmp);
		s.n = ival_merge(v, n);
	}
	return s;
}

struct iset
iset_range(struct arena *a, u128 lo, u128 hi)
{
	struct ival iv = { lo, hi };

	return iset_from(a, &iv, 1);
}

struct iset
iset_union(struct arena *a, struct iset x, struct iset y)
{
	struct iset s = { 0, NULL };
	size_t i = 0, j = 0, k = 0;

	if (x.n + y.n == 0)
		return s;
	s.v = arena_array_raw(a, x.n + y.n, sizeof(*s.v));
	/* Merge two sorted lists, then coalesce. */
	while (i < x.n || j < y.n) {
		if (j == y.n || (i < x.n && x.v[i].lo <= y.v[j].lo))
			s.v[k++] = x.v[i++];
		else
			s.v[k++] = y.v[j++];
	}
	s.n = ival_merge(s.v, k);
	return s;
}

struct iset
iset_inter(struct arena *a, struct iset x, struct iset y)
{
	struct iset s = { 0, NULL };
	size_t i = 0, j = 0;

	if (x.n == 0 || y.n == 0)
		return s;
	s.v = arena_array_raw(a, x.n + y.n, sizeof(*s.v));
	while (i < x.n && j < y.n) {
		u128 lo = x.v[i].lo > y.v[j].lo ? x.v[i].lo : y.v[j].lo;
		u128 hi = x.v[i].hi < y.v[j].hi ? x.v[i].hi : y.v[j].hi;

		if (lo <= hi) {
			s.v[s.n].lo = lo;
			s.v[s.n].hi = hi;
			s.n++;
		}
		if (x.v[i].hi < y.v[j].hi)
			i++;
		else
			j++;
	}
	return s;
}

struct iset
iset_diff(struct arena *a, struct iset x, struct iset y)
{
	struct iset s = { 0, NULL };
	size_t i, j = 0;

	if (x.n == 0 || y.n == 0 || !iset_overlaps(x, y))
		return x;
	/* Each interval of y splits at most one piece off in two. */
	s.v = arena_array_raw(a, x.n + y.n, sizeof(*s.v));
	for (i = 0; i < x.n; i++) {
		u128 lo = x.v[i].lo, hi = x.v[i].hi;
		bool gone = false;

		while (j < y.n && y.v[j].hi < lo)
			j++;
		for (; j < y.n && y.v[j].lo <= hi; j++) {
			if (y.v[j].lo > lo) {
				s.v[s.n].lo = lo;
				s.v[s.n].hi = y.v[j].lo - 1;
				s.n++;
			}
			if (y.v[j].hi >= hi) {
				gone = true;
				break;
			}
			lo = y.v[j].hi + 1;
		}
		if (!gone) {
			s.v[s.n].lo = lo;
			s.v[s.n].hi = hi;
			s.n++;
		}
	}
	return s;
}

struct iset
iset_complement(struct arena *a, struct iset x, u128 lo, u128 hi)
{
	return iset_diff(a, iset_range(a, lo, hi), x);
}

bool
iset_contains(struct iset x, u128 p)
{
	size_t lo = 0, hi = x.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p < x.v[mid].lo)
			hi = mid;
		else if (p > x.v[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool
iset_empty(struct iset x)
{
	return x.n == 0;
}

bool
iset_overlaps(struct iset x, struct iset y)
{
	size_t i = 0, j = 0;

	while (i < x.n && j < y.n) {
		if (x.v[i].hi < y.v[j].lo)
			i++;
		else if (y.v[j].hi < x.v[i].lo)
			j++;
		else
			return true;
	}
	return false;
}

bool
iset_subset(struct iset x, struct iset y)
{
	size_t i, j = 0;

	for (i = 0; i < x.n; i++) {
		/* Intervals of y are maximal, so x.v[i] must sit inside one. */
		while (j < y.n && y.v[j].hi < x.v[i].lo)
			j++;
		if (j == y.n || y.v[j].lo > x.v[i].lo || y.v[j].hi < x.v[i].hi)
			return false;
	}
	return true;
}

bool
iset_equal(struct iset x, struct iset y)
{
	return x.n == y.n && (x.n == 0 ||
	    memcmp(x.v, y.v, x.n * sizeof(*x.v)) == 0);
}

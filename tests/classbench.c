/* classbench.c: ClassBench files; see classbench.h. */
#include "classbench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
prefix(unsigned a, unsigned b, unsigned c, unsigned d, unsigned len, u128 *lo,
    u128 *hi)
{
	uint32_t addr = a << 24 | b << 16 | c << 8 | d;
	uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);

	*lo = addr & mask;
	*hi = (addr & mask) | ~mask;
}

struct cls_box *
classbench_rules(const char *path, size_t *n, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	struct cls_box *v = NULL;
	size_t cap = 0, line = 0;
	char buf[512];

	*n = 0;
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		unsigned s[5], d[5], sp[2], dp[2], pv, pm;
		struct cls_box *b;

		line++;
		if (buf[0] != '@')
			continue;
		if (sscanf(buf, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u "
		    "%x/%x", &s[0], &s[1], &s[2], &s[3], &s[4], &d[0], &d[1],
		    &d[2], &d[3], &d[4], &sp[0], &sp[1], &dp[0], &dp[1], &pv,
		    &pm) != 16 || s[4] > 32 || d[4] > 32) {
			snprintf(err, errlen, "%s:%zu: not a ClassBench rule",
			    path, line);
			free(v);
			fclose(fp);
			return NULL;
		}
		if (*n == cap) {
			struct cls_box *nv;

			cap = cap ? cap * 2 : 1024;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				snprintf(err, errlen, "out of memory");
				free(v);
				fclose(fp);
				return NULL;
			}
			v = nv;
		}
		b = &v[*n];
		prefix(s[0], s[1], s[2], s[3], s[4], &b->lo[0], &b->hi[0]);
		prefix(d[0], d[1], d[2], d[3], d[4], &b->lo[1], &b->hi[1]);
		b->lo[2] = sp[0];
		b->hi[2] = sp[1];
		b->lo[3] = dp[0];
		b->hi[3] = dp[1];
		b->lo[4] = (pv & pm) & 0xff;
		b->hi[4] = pm == 0xff ? (pv & 0xff) : 0xff;
		if (pm == 0)
			b->lo[4] = 0;
		b->prio = (int)*n;
		(*n)++;
	}
	fclose(fp);
	return v;
}

u128 *
classbench_trace(const char *path, size_t *n, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	u128 *v = NULL;
	size_t cap = 0;
	char buf[512];

	*n = 0;
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		unsigned long long f[5];

		if (sscanf(buf, "%llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
		    &f[3], &f[4]) != 5)
			continue;
		if (*n == cap) {
			u128 *nv;

			cap = cap ? cap * 2 : 4096;
			if ((nv = realloc(v, cap * CLS_DIMS * sizeof(*v))) ==
			    NULL) {
				snprintf(err, errlen, "out of memory");
				free(v);
				fclose(fp);
				return NULL;
			}
			v = nv;
		}
		for (int d = 0; d < CLS_DIMS; d++)
			v[*n * CLS_DIMS + (size_t)d] = f[d];
		(*n)++;
	}
	fclose(fp);
	return v;
}

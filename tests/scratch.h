/* scratch.h: a test's or a fuzz target's scratch directory under /tmp,
 * removed with everything in it when the process exits (the suite runs on
 * every build; each such directory was left behind).  Header only: the
 * programs that use it link nothing else of the tests'. */
#ifndef MOAT_TEST_SCRATCH_H
#define MOAT_TEST_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char scratch_path[64];

static int
scratch_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

static void
scratch_remove(void)
{
	nftw(scratch_path, scratch_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* /tmp/moat-NAME.XXXXXX made, its path in dir (len bytes); aborts when it
 * cannot be. */
static void
scratch_make(const char *name, char *dir, size_t len)
{
	snprintf(scratch_path, sizeof(scratch_path), "/tmp/moat-%s.XXXXXX",
	    name);
	if (mkdtemp(scratch_path) == NULL || atexit(scratch_remove) != 0 ||
	    (size_t)snprintf(dir, len, "%s", scratch_path) >= len)
		abort();
}

#endif

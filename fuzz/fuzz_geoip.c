/* fuzz_geoip.c: libFuzzer target for a country database (feeds/geoip.h):
 * the bytes as an MMDB file (a memfd, since libmaxminddb opens a path),
 * walked for two countries.  Invariants: an error, or a set that keeps
 * iset's invariant; never a crash, a leak or a loop.  Built with clang
 * -fsanitize=fuzzer by scripts/fuzz.sh geoip; replay.c runs the corpus
 * (the test databases of tests/data/mkmmdb.pl, and what grew from them). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "feeds/geoip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *cc[] = { "DE", "fr" };
	struct arena a;
	struct iset s;
	size_t n, i;
	char path[64], err[512];
	int fd;

	if ((fd = memfd_create("mmdb", MFD_CLOEXEC)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	arena_init(&a);
	if (geoip_networks(path, cc, 2, &a, &s, &n, err, sizeof(err)) == 0) {
		if (n == 0 && s.n != 0)
			abort();
		for (i = 0; i < s.n; i++)
			if (s.v[i].lo > s.v[i].hi || (i > 0 &&
			    s.v[i - 1].hi + 1 >= s.v[i].lo))
				abort();
	}
	arena_free(&a);
	close(fd);
	return 0;
}

/* bench_sigload.c: what loading a signature database costs libclamav in
 * moat: the time to load and compile the engine and the memory it holds,
 * for each directory given, in one run (the first is the baseline: the
 * two-signature test database), and a scan of EICAR with each engine to
 * show it works.  Prints figures; never fails on time.
 * Usage: bench_sigload DBDIR...   (tests/smtp/bigdb.py makes a large one) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtp/msgbuf.h"
#include "smtp/scan.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident memory of this process, in KB. */
static long
rss_kb(void)
{
	char line[256];
	long kb = 0;
	FILE *fp = fopen("/proc/self/status", "r");

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

int
main(int argc, char **argv)
{
	static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-"
	    "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_sigload DBDIR...\n");
		return 2;
	}
	printf("libclamav engine load, one process, in order:\n");
	for (i = 1; i < argc; i++) {
		struct scan_result r;
		struct msgbuf m;
		struct scanner *s;
		char err[256];
		long before = rss_kb();
		double t0 = now(), t1, mb, per;

		if ((s = clamav_open(argv[i], "/dev/shm", 50u << 20, 60, NULL,
		    0, err, sizeof(err))) == NULL) {
			printf("%s: %s\n", argv[i], err);
			continue;
		}
		t1 = now();
		msgbuf_init(&m, 1 << 20, NULL, NULL);
		msgbuf_add(&m, eicar, sizeof(eicar) - 1);
		scanner_scan(s, &m, &r);
		mb = (double)(rss_kb() - before) / 1024;
		/* Per million only where it means something. */
		per = s->signatures >= 10000 ? 1e6 / s->signatures : 0;
		printf("%-30s %9u signatures  load %7.2f s  memory %+8.1f MB"
		    "  (per million: %.2f s, %.0f MB)  EICAR: %s\n", argv[i],
		    s->signatures, t1 - t0, mb, (t1 - t0) * per, mb * per,
		    r.verdict == SCAN_VIRUS ? r.sig : "not found");
		msgbuf_free(&m);
		clamav_close(s);
	}
	return 0;
}

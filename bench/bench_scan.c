/* bench_scan.c: how long libclamav takes to scan one message of each size
 * the proxy benchmark sends, shaped as smtp-source makes them (a few
 * headers, then numbered lines of X: a slow case for the EICAR signature,
 * which starts with X), in memory, mail and archive parsing on, so that
 * the proxy's own cost per message can be told apart from the scan.  Each
 * scan is of a new message (libclamav skips content it found clean
 * before).
 * Prints figures; never fails on time.  Usage: bench_scan DBDIR */
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

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 102400, 2097152 };
	char err[256];
	struct scanner *s;
	size_t i, k;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_scan DBDIR\n");
		return 2;
	}
	if ((s = clamav_open(argv[1], "/dev/shm", 50u << 20, 60, NULL, 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "bench_scan: %s\n", err);
		return 1;
	}
	for (i = 0; i < 3; i++) {
		struct msgbuf m;
		struct scan_result r;
		size_t n = 1, reps = sizes[i] < 100000 ? 2000 : sizes[i] <
		    1000000 ? 200 : 20;
		double t0, best = 1e9;
		char line[80];

		msgbuf_init(&m, 64u << 20, NULL, NULL);
		static const char head[] = "From: <a@x.test>\r\nTo: <b@y.test>"
		    "\r\nDate: Sat, 28 Nov 2026 20:49:00 +0000 (UTC)\r\n"
		    "Message-Id: <3ff2.0003.0000@vm>\r\n\r\n";

		msgbuf_add(&m, head, sizeof(head) - 1);
		memset(line, 'X', sizeof(line));
		memcpy(line + 78, "\r\n", 2);
		while (m.total + sizeof(line) <= sizes[i]) {
			line[0] = (char)('0' + n++ % 10);
			msgbuf_add(&m, line, sizeof(line));
		}
		for (k = 0; k < 3; k++) {
			size_t j;

			t0 = now();
			for (j = 0; j < reps; j++) {
				/* A new Message-Id each time: libclamav
				 * remembers clean content by its hash, and
				 * every message the proxy sees is new. */
				snprintf(m.mem + 92, 5, "%04zx", (k * reps + j) &
				    0xffff);
				m.mem[96] = '.';
				scanner_scan(s, &m, &r);
			}
			if ((now() - t0) / (double)reps < best)
				best = (now() - t0) / (double)reps;
		}
		printf("libclamav scan, %7zu-byte message: %8.1f us (%s)\n",
		    m.total, best * 1e6, r.verdict == SCAN_CLEAN ? "clean" :
		    "NOT CLEAN");
		msgbuf_free(&m);
	}
	scanner_close(s);
	return 0;
}

/* scan.c: the engine-independent face of scanning; see scan.h. */
#include "scan.h"

struct scanner *
scanner_open(const struct antivirus *av, char *err, size_t errlen)
{
	/* A scan gets the data timeout: a scanner slower than a client may
	 * be is a failing scanner. */
	if (av->engine == AV_CLAMD)
		return clamd_open(av->engine_path, av->data_timeout, err,
		    errlen);
	return clamav_open(av->engine_path, (size_t)av->max_size,
	    av->data_timeout, err, errlen);
}

void
scanner_scan(struct scanner *s, struct msgbuf *m, struct scan_result *r)
{
	r->verdict = SCAN_FAILED;
	r->sig[0] = r->why[0] = '\0';
	if (s->engine == AV_CLAMD)
		clamd_scan(s, m, r);
	else
		clamav_scan(s, m, r);
}

const char *
scanner_name(const struct scanner *s)
{
	return s->name;
}

void
scanner_close(struct scanner *s)
{
	if (s == NULL)
		return;
	if (s->engine == AV_CLAMD)
		clamd_close(s);
	else
		clamav_close(s);
}

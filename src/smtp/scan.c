/* scan.c: the engine-independent face of scanning; see scan.h. */
#include "smtp/scan.h"

#include <stdio.h>
#include <string.h>

struct scanner *
scanner_open(const struct antivirus *av, const char *scratch, char *err,
    size_t errlen)
{
	/* A scan gets the data timeout: a scanner slower than a client may
	 * be is a failing scanner. */
	if (av->engine == AV_CLAMD)
		return clamd_open(av->engine_path, av->data_timeout, err,
		    errlen);
	return clamav_open(av->engine_path, scratch, (size_t)av->max_size,
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
	/* CL_SCAN_HEURISTIC_EXCEEDS_MAX (clamd: AlertExceedsMax) reports a
	 * scan cut short by a limit as this "virus": the message was not
	 * all scanned, which is a failure, never clean and never a virus. */
	if (r->verdict == SCAN_VIRUS && strncmp(r->sig,
	    "Heuristics.Limits.Exceeded", 26) == 0) {
		r->verdict = SCAN_FAILED;
		snprintf(r->why, sizeof(r->why), "%s: a scan limit was "
		    "reached (%.100s)", s->engine == AV_CLAMD ? "clamd" :
		    "libclamav", r->sig);
		r->sig[0] = '\0';
	}
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

bool
scanner_changed(struct scanner *s)
{
	return s != NULL && s->engine == AV_CLAMAV && clamav_changed(s);
}

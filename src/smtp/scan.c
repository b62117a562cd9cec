/* scan.c: the engine-independent face of scanning; see scan.h. */
#include "smtp/scan.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/strbuf.h"

struct scanner *
scanner_open(const struct antivirus *av, const char *scratch, char *err,
    size_t errlen)
{
	struct scanner *s;

	/* A scan gets scan-timeout, whatever it takes (every clamd of a
	 * farm tried): past it the message gets 451. */
	if (av->engine == AV_CLAMD)
		s = clamd_open(av->engine_addrs, av->nengine_addrs,
		    av->scan_timeout, err, errlen);
	else
		s = clamav_open(av->engine_path, scratch, (size_t)av->max_size,
		    av->scan_timeout, av->ignore_sigs, av->nignore_sigs, err,
		    errlen);
	if (s != NULL)
		s->timeout = av->scan_timeout;
	return s;
}

void
scanner_scan(struct scanner *s, struct msgbuf *m, struct scan_result *r)
{
	struct timespec a, b;
	long long ms;

	r->verdict = SCAN_FAILED;
	r->sig[0] = r->why[0] = r->ignored[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (s->engine == AV_CLAMD)
		clamd_scan(s, m, r);
	else
		clamav_scan(s, m, r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (long long)(b.tv_sec - a.tv_sec) * 1000 +
	    (b.tv_nsec - a.tv_nsec) / 1000000;

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
	/* Past scan-timeout: say so, with the engine, in the 451's log. */
	if (r->verdict == SCAN_FAILED && ms >= (long long)s->timeout * 1000) {
		char why[51], name[51];

		str_copy_utf8(why, sizeof(why), r->why[0] ? r->why :
		    "no verdict");
		str_copy_utf8(name, sizeof(name), s->name);
		snprintf(r->why, sizeof(r->why), "past scan-timeout (%u s, "
		    "%lld ms) with %s: %s", s->timeout, ms, name, why);
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

void
scanner_set_notify(struct scanner *s, void (*fn)(void *), void *arg)
{
	if (s != NULL && s->engine == AV_CLAMD)
		clamd_set_notify(s, fn, arg);
}

void
scanner_state(struct scanner *s, char *json, size_t len)
{
	if (s != NULL && s->engine == AV_CLAMD)
		clamd_state(s, json, len);
	else
		snprintf(json, len, "[]");
}

/* schedule.c: the clock behind schedules; see schedule.h.
 *
 * A schedule's windows are in the system's local time, and a rule's
 * membership is decided by the kernel's clock.  The kernel has two
 * (net/netfilter/nft_meta.c): `meta hour` is the seconds since midnight
 * UTC (time64_to_tm(secs, 0)), `meta day` the weekday of UTC minus
 * sys_tz.tz_minuteswest.  So each local window is moved to UTC with the
 * offset of now and cut where either frame's day ends; moatd compiles
 * again when the offset changes (summer time).
 */
#include "policy/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

int
schedule_week_minute(time_t t, unsigned *wmin)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	*wmin = (unsigned)(tm.tm_wday * SCHED_DAY + tm.tm_hour * 60 +
	    tm.tm_min);
	return 0;
}

void
schedule_frame_now(struct sched_frame *fr)
{
	struct timeval tv;
	struct timezone tz = { 0, 0 };
	struct tm tm;
	time_t now = time(NULL);

	fr->utc_offset = localtime_r(&now, &tm) != NULL ?
	    (int)(tm.tm_gmtoff / 60) : 0;
	/* The kernel's sys_tz, as settimeofday(2) (hwclock --systz) left
	 * it; 0 on most systems. */
	fr->kernel_west = gettimeofday(&tv, &tz) == 0 ? tz.tz_minuteswest : 0;
}

void
schedule_zone(char *buf, size_t len)
{
	const char *tz = getenv("TZ"), *name = NULL;
	char link[256];
	ssize_t n;
	struct tm tm;
	time_t now = time(NULL);
	long off;

	if (localtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (tz != NULL && *tz != '\0')
		name = tz[0] == ':' ? tz + 1 : tz;
	else if ((n = readlink("/etc/localtime", link, sizeof(link) - 1)) > 0) {
		char *z;

		link[n] = '\0';
		name = (z = strstr(link, "zoneinfo/")) != NULL ? z + 9 : link;
	} else
		name = tm.tm_zone != NULL ? tm.tm_zone : "UTC";
	off = tm.tm_gmtoff / 60;
	snprintf(buf, len, "%s (%c%02ld%02ld)", name, off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
}

static unsigned
wmod(long x)
{
	long r = x % SCHED_WEEK;

	return (unsigned)(r < 0 ? r + SCHED_WEEK : r);
}

size_t
schedule_kernel_pieces(struct arena *a, const struct schedule *s,
    const struct sched_frame *fr, struct sched_piece **out)
{
	struct sched_piece *v;
	size_t n = 0, cap = 8, i, j;

	v = arena_array(a, cap, sizeof(*v));
	for (i = 0; i < s->set.n; i++) {
		unsigned lo = (unsigned)s->set.v[i].lo;
		unsigned left = (unsigned)(s->set.v[i].hi - s->set.v[i].lo) + 1;
		unsigned u = wmod((long)lo - fr->utc_offset);

		/* Walk the interval in UTC minutes of the week, cut at every
		 * midnight of UTC (hour) and of the kernel's day frame. */
		while (left > 0) {
			unsigned k = wmod((long)u - fr->kernel_west);
			unsigned step = SCHED_DAY - u % SCHED_DAY;
			unsigned hlo = u % SCHED_DAY, day = k / SCHED_DAY;

			if (SCHED_DAY - k % SCHED_DAY < step)
				step = SCHED_DAY - k % SCHED_DAY;
			if (left < step)
				step = left;
			for (j = 0; j < n; j++)
				if (v[j].lo == hlo * 60 &&
				    v[j].hi == (hlo + step) * 60 - 1)
					break;
			if (j == n) {
				if (n == cap) {
					struct sched_piece *w = arena_array(a,
					    cap * 2, sizeof(*w));

					memcpy(w, v, n * sizeof(*v));
					v = w;
					cap *= 2;
				}
				v[n].days = 0;
				v[n].lo = hlo * 60;
				v[n].hi = (hlo + step) * 60 - 1;
				n++;
			}
			v[j].days |= 1u << day;
			u = wmod((long)u + step);
			left -= step;
		}
	}
	*out = v;
	return n;
}

int
schedule_parse_at(const char *text, time_t *t, char *err, size_t errlen)
{
	struct tm tm;
	int y, mo, d, h, mi, used = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(text, "%4d-%2d-%2d %2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &used) != 5 || text[used] != '\0' || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h > 23 || mi > 59 || y < 1970) {
		snprintf(err, errlen, "'%s' is not a time: write \"YYYY-MM-DD "
		    "HH:MM\", local time (\"2026-12-07 08:30\")", text);
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_isdst = -1;
	if ((*t = mktime(&tm)) == (time_t)-1 || tm.tm_mday != d) {
		snprintf(err, errlen, "'%s' is not a day of the calendar",
		    text);
		return -1;
	}
	return 0;
}

void
schedule_format_at(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%a %Y-%m-%d %H:%M (%z)", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* schedule.h: the clock behind schedules: local time as a minute of the
 * week, the time zone's name, and a schedule's windows in the frames of
 * the kernel's clocks (doc/design/schedules.md). */
#ifndef MOAT_SCHEDULE_H
#define MOAT_SCHEDULE_H

#include <stddef.h>
#include <time.h>

#include "base/arena.h"
#include "policy/policy.h"

/* The frames the kernel's time matches use, at one moment: nft's
 * `meta hour` compares seconds since midnight UTC, `meta day` the weekday
 * of UTC shifted by the kernel's sys_tz. */
struct sched_frame {
	int	utc_offset;	/* local time minus UTC, minutes (now) */
	int	kernel_west;	/* sys_tz.tz_minuteswest: the day's frame is
				   UTC minus this */
};

/* One condition of the kernel: `meta day { days } meta hour lo-hi`. */
struct sched_piece {
	unsigned	days;	/* bit d: the kernel's weekday d, 0 = Sunday */
	unsigned	lo, hi;	/* seconds of the UTC day, both included */
};

/* Minute of the local week (0 = Sunday 00:00) at time t, into *wmin;
 * -1 if the C library cannot say. */
int	 schedule_week_minute(time_t t, unsigned *wmin);
/* The frames of now: the local UTC offset and the kernel's sys_tz. */
void	 schedule_frame_now(struct sched_frame *fr);
/* The system's time zone as "Europe/Paris (+0100)" into buf. */
void	 schedule_zone(char *buf, size_t len);
/* The conditions that hold exactly when s is open, in fr's frames, pieces
 * with the same hours merged over days: *out from a, their number
 * returned (0: s is never open). */
size_t	 schedule_kernel_pieces(struct arena *a, const struct schedule *s,
	    const struct sched_frame *fr, struct sched_piece **out);
/* "YYYY-MM-DD HH:MM", local time, into *t; -1 with a reason in err. */
int	 schedule_parse_at(const char *text, time_t *t, char *err,
	    size_t errlen);
/* The moment t as "Mon 2026-12-07 08:00 (+0100)", local, into buf. */
void	 schedule_format_at(time_t t, char *buf, size_t len);

#endif

/* log.c: see log.h. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LOG	2048

static int log_fd = STDERR_FILENO;
static const char *log_name = "moatd";
static bool verbose;
static int to_parent = -1;	/* -1: not known yet (the environment's) */

void
log_init(int fd, const char *name)
{
	log_fd = fd;
	log_name = name;
}

void
log_set_verbose(bool on)
{
	verbose = on;
}

bool
log_verbose(void)
{
	return verbose;
}

/* Append text to out (cap bytes, n used) with every control byte (below
 * 0x20, and 0x7f) as \xNN: what a client or a next hop wrote can neither
 * end the line, nor forge one, nor drive a terminal (ESC sequences).
 * Stops before the last byte, which the line end takes. */
static size_t
put_escaped(char *out, size_t cap, size_t n, const char *text)
{
	static const char hex[] = "0123456789abcdef";

	for (; *text != '\0' && n + 5 < cap; text++) {
		unsigned char ch = (unsigned char)*text;

		if (ch < 0x20 || ch == 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		} else
			out[n++] = (char)ch;
	}
	return n;
}

/*
 * Under systemd standard error is a journal stream ($JOURNAL_STREAM): a
 * line then starts with its priority, <3> error to <7> debug, which the
 * journal takes as the line's priority and removes, and no time (the
 * journal has it).  A child of moatd writes to its pipe to the parent in
 * the same form (log_to_parent): the parent reads the priority and says
 * the line as its own, after the child's name.  Elsewhere a line starts
 * with the time and the name.
 */
static void
vlog(int prio, const char *fmt, va_list ap)
{
	char text[LINE_MAX_LOG], line[LINE_MAX_LOG * 2];
	struct timespec ts;
	struct tm tm;
	size_t n;

	vsnprintf(text, sizeof(text), fmt, ap);
	if (to_parent == -1)
		to_parent = getenv("MOAT_LOG_TO_PARENT") != NULL;
	if (to_parent || getenv("JOURNAL_STREAM") != NULL)
		n = (size_t)snprintf(line, sizeof(line), "<%d>", prio);
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%b %e %H:%M:%S ", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: ",
		    log_name);
	}
	n = put_escaped(line, sizeof(line), n, text);
	line[n++] = '\n';
	if (write(log_fd, line, n) < 0) {
		/* nowhere else to say it */
	}
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(3, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(4, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(6, fmt, ap);
	va_end(ap);
}

void
log_at(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio < 3 ? 3 : prio > 7 ? 7 : prio, fmt, ap);
	va_end(ap);
}

void
log_to_parent(void)
{
	to_parent = 1;
	setenv("MOAT_LOG_TO_PARENT", "1", 1);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(7, fmt, ap);
	va_end(ap);
}

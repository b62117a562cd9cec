/* log.c: see log.h. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LOG	2048

static int log_fd = STDERR_FILENO;
static const char *log_name = "moatd";
static bool verbose;

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

static void
vlog(const char *fmt, va_list ap)
{
	char buf[LINE_MAX_LOG];
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%b %e %H:%M:%S ", &tm);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s: ", log_name);
	if (n < sizeof(buf) - 1)
		vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	n = strlen(buf);
	buf[n++] = '\n';
	if (write(log_fd, buf, n) < 0) {
		/* nowhere else to say it */
	}
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

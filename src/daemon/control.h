/* control.h: the requests moatd's parent answers for the console process
 * (src/web), one JSON object each way over a socketpair (base/frame.h).
 * The parent checks every request itself: the console is not trusted. */
#ifndef MOAT_CONTROL_H
#define MOAT_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "daemon/control_env.h"
#include "enforce/probe.h"
#include "web/console.h"


/*
 * Answer one request (its JSON text: "op", one of a fixed table, its
 * fields, and for all but login the session's token in "session" and,
 * for a request that changes something, its CSRF token in "csrf") into
 * out: a JSON object with a "status", an HTTP status the console passes
 * on.  Who asks is the session's user, decided here, never the console.
 */
void	 control_handle(const struct control_env *env, const char *req,
	    size_t len, struct strbuf *out);

/* Bytes of a request: a save's config of CONSOLE_CONF_MAX, escaped; and
 * the JSON values in it (a request is a few fields). */
#define CONTROL_REQUEST_MAX	CONSOLE_REQUEST_MAX
#define CONTROL_VALUES_MAX	1024
/* Seconds a request may take to come, or an answer to go out, whole
 * (base/frame.h): the console sends and reads each at once. */
#define CONTROL_IO_WAIT		10

/* The answer to a probe pr that ended with r (banner and err, the
 * server's first line and the reason of a failure, made valid UTF-8). */
void	 control_probe_answer(const struct control_probe *pr,
	    enum probe_result r, char *banner, char *err, struct strbuf *out);
/* The one writer of the config file (the console's saves, the HA peer's
 * configs): replaced whole (base/file.h), mode 0600.  0, or -1 with
 * errno. */
int	 control_write_conf(const char *path, const char *text, size_t len);
/* The i-th request's name (the fuzzer's dictionary), NULL after the
 * last. */
const char *control_request_name(size_t i);

#endif

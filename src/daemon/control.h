/* control.h: the requests moatd's parent answers for the console process
 * (src/web), one JSON object each way over a socketpair (base/frame.h).
 * The parent checks every request itself: the console is not trusted. */
#ifndef MOAT_CONTROL_H
#define MOAT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "daemon/identity.h"
#include "enforce/probe.h"

struct control_env {
	const char	*conf;		/* the config file */
	const char	*users;		/* the users file */
	const char	*state;		/* the state directory */
	const char	*run;		/* the run directory */
	const char	*log_dir;	/* the logs */
	struct identity	*id;		/* sessions and throttling */
	unsigned	 idle;		/* seconds before an idle session ends */
	/* Apply the config file (the daemon's install: kernel, proxy,
	 * logger), with a confirm time (0: none); 0, or -1 with err. */
	int		(*apply)(unsigned confirm, const char *user,
			    struct strbuf *msg, struct strbuf *err);
	/* The real telnet test, from the gateway (probe_tcp). */
	enum probe_result (*probe)(const char *host, unsigned port,
			    const char *from, int timeout_ms, int banner_ms,
			    char *banner, size_t len, char *err,
			    size_t errlen);
};

/*
 * Answer one request (its JSON text: "op", one of a fixed table, its
 * fields, and for all but login the session's token in "session" and,
 * for a request that changes something, its CSRF token in "csrf") into
 * out: a JSON object with a "status", an HTTP status the console passes
 * on.  Who asks is the session's user, decided here, never the console.
 */
void	 control_handle(const struct control_env *env, const char *req,
	    size_t len, struct strbuf *out);

#define CONTROL_REQUEST_MAX	(16u << 20)	/* bytes of a request */

/* Read one request (a frame with its id, base/frame.h) from fd and
 * answer it into out: 0 with *id the request's, or -1 at the end of the
 * stream or on an error (errno; 0 at the end). */
int	 control_serve(const struct control_env *env, int fd, uint32_t *id,
	    struct strbuf *out);
/* The one writer of the config file (the console's saves, the HA peer's
 * configs): replaced whole (base/file.h), mode 0600.  0, or -1 with
 * errno. */
int	 control_write_conf(const char *path, const char *text, size_t len);
/* The i-th request's name (the fuzzer's dictionary), NULL after the
 * last. */
const char *control_request_name(size_t i);

#endif

/* control_env.h: what moatd's parent answers the console with (the
 * files, the identities, the apply and the probe), shared by control.c's
 * table and the requests of control_conf.c. */
#ifndef MOAT_CONTROL_ENV_H
#define MOAT_CONTROL_ENV_H

#include <stdbool.h>

#include "base/strbuf.h"
#include "daemon/identity.h"

/* A probe asked (POST probe), checked: the caller makes the connection
 * (probe_tcp), away from the parent's loop, and answers. */
struct control_probe {
	bool		 pending;	/* the request asked for one */
	char		 dst[64];
	unsigned	 port;
	int		 timeout_ms;
};

struct control_env {
	const char	*conf;		/* the config file */
	const char	*users;		/* the users file */
	const char	*state;		/* the state directory */
	const char	*run;		/* the run directory */
	const char	*log_dir;	/* the logs */
	struct identity	*id;		/* sessions and throttling */
	unsigned	 idle;		/* seconds before an idle session ends */
	const char	*version;	/* moat's: lint's memos of another
					   are not read (analyze/lint.h) */
	/* Apply the config file (the daemon's install: kernel, proxy,
	 * logger), with a confirm time (0: none); 0, or -1 with err. */
	int		(*apply)(unsigned confirm, const char *user,
			    struct strbuf *msg, struct strbuf *err);
	/* Where a probe that was asked is written (pending set): the
	 * caller makes it and answers with control_probe_answer.  NULL:
	 * no probes (501). */
	struct control_probe *probe;
};

#endif

/* web.h: the console as moatd's parent runs it (src/web is the console
 * process itself): started, restarted and stopped with the config, and
 * its requests answered (control.h). */
#ifndef MOAT_DAEMON_WEB_H
#define MOAT_DAEMON_WEB_H

#include "base/strbuf.h"
#include "policy/policy.h"

struct web_hooks {
	const char	*conf;		/* the config file */
	/* The config file, checked and installed (control_env's apply). */
	int		(*apply)(unsigned confirm, const char *user,
			    struct strbuf *msg, struct strbuf *err);
	/* The config the console serves when it starts again: the entry
	 * in force's (the file's when none is), parsed and valid, or NULL
	 * (logged). */
	struct policy	*(*load)(void);
};

/* moatd's argument for the console process, executed afresh (web.c). */
#define WEB_ARG		"--console-process"
#define WEB_PROBE_ARG	"--console-probe"

void	 web_init(const struct web_hooks *h);
/* The console for config p: started (again) when what it serves changed,
 * stopped when it is off or cannot run.  During a request of the
 * console's, this waits until the answer is written. */
void	 web_configure(const struct policy *p);
/* The channel to poll for reading (-1: none), and what came on it read:
 * a request, once whole, answered.  Nothing waits: a request and its
 * answer come and go in pieces as the console sends and reads them. */
int	 web_fd(void);
void	 web_request(void);
/* The channel to poll for writing while an answer is going (-1: none),
 * and more of it written. */
int	 web_out_fd(void);
void	 web_out_ready(void);
/* Each turn of the loop: reap, restart when due; a request or an answer
 * not whole within CONTROL_IO_WAIT drops the channel. */
void	 web_tick(void);
void	 web_stop(void);
/* The console's probe, moatd executed with WEB_PROBE_ARG and argv the
 * rest of its arguments (the user it runs as, the host, the port, the
 * timeout in ms): the telnet test, its result written to fd 3.  Its exit
 * status. */
int	 web_probe_main(int argc, char **argv);
/* The console process, moatd executed with WEB_ARG and argv the rest of
 * its arguments (its user, the pages' directory, the certificate's and
 * the key's paths, "v" or "-"): its listener on 3, its channel to the
 * parent on 4.  Its exit status. */
int	 web_main(int argc, char **argv);

#endif

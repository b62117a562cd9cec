/* server.h: the proxy process: it accepts on listening sockets it is
 * given (moatd opens them as root and keeps them across restarts of this
 * process), admits each client by the load limits (anvil.c), and runs
 * each session on a thread of a pool.  Its configuration comes, and is
 * replaced on reload, over a pipe from moatd.
 */
#ifndef MOAT_SERVER_H
#define MOAT_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "smtp/proxy.h"

#define SERVER_LISTEN_MAX	16

struct server_listener {
	int			 fd;		/* listening */
	enum proxy_mode		 mode;
	bool			 spoof;		/* transparent: it may connect
						   from the client's address */
	struct sockaddr_storage	 addr;		/* where */
	socklen_t		 len;
};

/* Open a listening socket for l->addr (IP_TRANSPARENT for the transparent
 * listener, which needs root); l->fd is set.  0, or -1 with err. */
int	 server_listen(struct server_listener *l, char *err, size_t errlen);
/* A configuration (the config text) as the proxy process reads it from
 * its pipe (read_config): its length, a newline, the text; malloc'd,
 * *flen bytes, or NULL.  The parent writes it as the pipe takes it. */
char	*server_config_frame(const char *text, size_t len, size_t *flen);
/* Run the proxy on listeners l[0..n) until the other end of ctl closes:
 * the first configuration is read from ctl before anything is accepted,
 * later ones as they come.  conf_path names the config in the log;
 * scratch is the private directory for the scanner's temporary files.
 * What moatd counts goes to events (-1: nowhere), a line each: "mail
 * JSON" per message (mail.jsonl's record), "engine JSON" per scanner
 * loaded, "sessions N" when the open sessions change.  Returns the
 * process's exit status. */
int	 server_run(const struct server_listener *l, int n, int ctl,
	    int events, const char *conf_path, const char *scratch);

#endif

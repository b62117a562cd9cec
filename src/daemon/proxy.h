/* proxy.h: the scanning SMTP proxy as moatd's parent runs it: listeners,
 * the proxy process (supervised), its config and its events (the mail log
 * and figures). */
#ifndef MOAT_DAEMON_PROXY_H
#define MOAT_DAEMON_PROXY_H

#include <stdbool.h>

#include "policy/policy.h"

/* moatd's argument for the proxy process, executed afresh (proxy.c). */
#define PROXY_ARG	"--smtp-process"

/* The config file (the proxy reads its signatures' settings from the
 * text handed over), the proxy's user, the transparent listener's port. */
void	 proxy_init(const char *conf, const char *user, int tproxy_port);
/* Make p's text the proxy's config: its listeners opened (a new proxy
 * when they change), the proxy given the config (or started), the mail
 * log's place and sizes.  0, or -1 (out of memory; nothing changed). */
int	 proxy_install(const struct policy *p);
/* How many listeners are open (0: no proxy runs). */
int	 proxy_listeners(void);
/* The proxy's events to poll (-1: none), and reading them: one read a
 * call; whether it read any. */
int	 proxy_events_fd(void);
bool	 proxy_events(void);
/* The config pipe while a config is under way (poll it for POLLOUT, then
 * call proxy_out_ready), else -1. */
int	 proxy_out_fd(void);
void	 proxy_out_ready(void);
/* Each turn of the loop: reap, restart when due, save the figures. */
void	 proxy_tick(void);
/* Stop the proxy and close its listeners; the figures saved. */
void	 proxy_stop(void);
/* The proxy process, moatd executed with PROXY_ARG and argv the rest of
 * its arguments (its user, the config's path, its scratch directory, its
 * listeners' modes, "v" or "-"): its config on 3, its events to 4, its
 * listeners from 5 on.  Its exit status. */
int	 proxy_main(int argc, char **argv);

#endif

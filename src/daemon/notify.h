/* notify.h: telling the service manager how moatd is (systemd's
 * sd_notify, through libsystemd; nothing happens when moatd was not
 * started by systemd).  The one file that talks to systemd. */
#ifndef MOAT_NOTIFY_H
#define MOAT_NOTIFY_H

/* The rules are in the kernel: the boot may go on (Type=notify). */
void	 notify_ready(const char *status);
/* A reload begins (and ends with notify_ready). */
void	 notify_reloading(void);
/* moatd is stopping. */
void	 notify_stopping(void);

#endif

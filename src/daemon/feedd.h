/* feedd.h: moatd's feed process (moatd-feeds): resolves the fqdn objects,
 * fetches the url objects and reads the country objects from the GeoIP
 * database, and reports what each holds to the root parent (feedmsg.h),
 * which alone changes the kernel's sets.  It runs as FEEDS_USER with no
 * capability: it talks to the network and parses what comes back, so it
 * holds nothing worth taking. */
#ifndef MOAT_FEEDD_H
#define MOAT_FEEDD_H

#define FEEDD_ARG	"--feeds-process"	/* moatd's, for feeds.c */

/* Read the config from fd (the parent's first frame), then work until
 * the parent goes.  Returns an exit status. */
int	 feedd_run(int fd);
/* moatd run with FEEDD_ARG (by feeds.c, executed afresh, its end of the
 * pair on 3): become FEEDS_USER with no capability, then feedd_run(3).
 * Returns an exit status. */
int	 feedd_main(void);

#endif

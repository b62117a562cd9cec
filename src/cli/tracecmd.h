/* tracecmd.h: `moat trace`, one connection through the rules. */
#ifndef MOAT_TRACECMD_H
#define MOAT_TRACECMD_H

/* moat trace [--in IF] --src ADDR [--dst ADDR] [--proto P [--dport N]]
 * [--count N] [--timeout S]: argv[0] is "trace".  Exit status: 0 when a
 * packet was traced, 1 when none came, 2 on errors. */
int	 cmd_trace(int argc, char **argv);

#endif
